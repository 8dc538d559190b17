#!/usr/bin/python3
"""Generator of torch_batchnorm2d.json: golden vectors for SpatialBatchNormLayer from torch.nn.BatchNorm2d.

A sibling of generate_golden.py (same rules: inputs drawn with numpy default_rng from fixed per-case seeds and
rounded to float32, so they are exact in C# float; everything computed and written in float64 by a float64 module;
arrays FLATTENED row-major, here NCHW).  Per case:
  - K training batches through module.train() in order: train_out[k] and the running statistics after each
    (torch momentum m_torch = 1 - ours; running_mean starts at 0, running_var at 1 and is fed the UNBIASED batch
    variance: the layer matches with UnbiasedRunningVariance = true and RunningVariance filled with 1);
  - the LAST training batch is run with autograd: loss = sum(y * grad_out) with a fixed random grad_out, giving
    dx = x.grad, dweight = weight.grad, dbias = bias.grad;
  - eval_out: module.eval() on test_x (test_n samples) with the final running statistics.
weight (gamma) and bias (beta) are random, not 1 and 0, so the backward's gamma factor is exercised.

Rerun from the repository root (deterministic for a given numpy/torch build; it self-checks the running statistics
against numpy and dx against the closed form):
    /usr/bin/python3 tests/Ml.Normalization.Tests/Golden/generate_golden_2d.py
"""
import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_N = 2

# (name, N, C, H, W, number of training batches, torch momentum, eps, rng seed, large_mean)
CASES = [
    ("N3_C4_H5_W7", 3, 4, 5, 7, 2, 0.1, 1e-5, 3001, False),
    ("N2_C3_H1_W1", 2, 3, 1, 1, 2, 0.1, 1e-5, 3002, False),
    ("N2_C2_H8_W8", 2, 2, 8, 8, 2, 0.1, 1e-5, 3003, False),
    ("N2_C3_H5_W13_momentum0.3_eps1e-3", 2, 3, 5, 13, 2, 0.3, 1e-3, 3004, False),
    ("large_mean_N4_C2_H9_W9", 4, 2, 9, 9, 1, 0.1, 1e-5, 3005, True),
]


def f32(a):
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel(order="C")]


def case(torch, name, N, C, H, W, nbatches, momentum, eps, seed, large_mean):
    rng = np.random.default_rng(seed)
    if large_mean:
        mu, sigma = np.full(C, 1e4), np.ones(C)
    else:
        mu, sigma = rng.uniform(-3.0, 3.0, size=C), rng.uniform(0.5, 3.0, size=C)
    weight = f32(rng.uniform(0.5, 1.5, size=C))
    bias = f32(rng.normal(0.0, 0.5, size=C))

    def draw(n):
        return f32(rng.normal(size=(n, C, H, W)) * sigma[None, :, None, None] + mu[None, :, None, None])

    bn = torch.nn.BatchNorm2d(C, eps=eps, momentum=momentum).double()
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(weight))
        bn.bias.copy_(torch.from_numpy(bias))
    bn.train()
    batches, outs, rms, rvs = [], [], [], []
    for k in range(nbatches):
        x = torch.from_numpy(draw(N)).requires_grad_(k == nbatches - 1)
        out = bn(x)
        batches.append(flat(x.detach().numpy()))
        outs.append(flat(out.detach().numpy()))
        rms.append(flat(bn.running_mean.numpy()))
        rvs.append(flat(bn.running_var.numpy()))
    grad_out = f32(rng.normal(size=(N, C, H, W)))
    (out * torch.from_numpy(grad_out)).sum().backward()
    dx, dweight, dbias = x.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy()

    test_x = draw(TEST_N)
    bn.eval()
    with torch.no_grad():
        eval_out = bn(torch.from_numpy(test_x)).numpy()
    return {
        "name": name, "n": N, "c": C, "h": H, "w": W,
        "torch_momentum": momentum, "eps": eps,
        "weight": flat(weight), "bias": flat(bias),
        "batches": batches, "train_out": outs,
        "running_mean_after": rms, "running_var_after": rvs,
        "grad_out": flat(grad_out), "dx": flat(dx), "dweight": flat(dweight), "dbias": flat(dbias),
        "test_x": flat(test_x), "test_n": TEST_N, "eval_out": flat(eval_out),
    }


def check(doc):
    for c in doc["cases"]:
        N, C, H, W = c["n"], c["c"], c["h"], c["w"]
        m = c["torch_momentum"]
        rm, rv = np.zeros(C), np.ones(C)
        for k, b in enumerate(c["batches"]):
            x = np.array(b).reshape(N, C, H, W)
            assert len(c["train_out"][k]) == N * C * H * W
            rm = (1 - m) * rm + m * x.mean(axis=(0, 2, 3))
            rv = (1 - m) * rv + m * x.var(axis=(0, 2, 3), ddof=1)
            assert np.allclose(rm, c["running_mean_after"][k], rtol=1e-12, atol=1e-12), c["name"]
            assert np.allclose(rv, c["running_var_after"][k], rtol=1e-12, atol=1e-9), c["name"]
        # closed-form backward on the last batch against autograd
        x = np.array(c["batches"][-1]).reshape(N, C, H, W)
        g = np.array(c["grad_out"]).reshape(N, C, H, W)
        gamma = np.array(c["weight"])[None, :, None, None]
        mean = x.mean(axis=(0, 2, 3), keepdims=True)
        inv = 1 / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + c["eps"])
        xhat = (x - mean) * inv
        n = N * H * W
        db = g.sum(axis=(0, 2, 3), keepdims=True)
        dg = (g * xhat).sum(axis=(0, 2, 3), keepdims=True)
        dx = gamma * inv / n * (n * g - db - xhat * dg)
        err = np.max(np.abs(dx.ravel() - np.array(c["dx"])))
        assert err < 1e-9, (c["name"], err)
        assert np.allclose(dg.ravel(), c["dweight"], rtol=1e-10, atol=1e-10)
        assert np.allclose(db.ravel(), c["dbias"], rtol=1e-12, atol=1e-12)


def main():
    import torch
    torch.set_default_dtype(torch.float64)
    doc = {"source": "torch.nn.BatchNorm2d", "torch_version": torch.__version__,
           "cases": [case(torch, *c) for c in CASES]}
    path = os.path.join(HERE, "torch_batchnorm2d.json")
    cases = ",\n    ".join(json.dumps(c, separators=(",", ":")) for c in doc["cases"])
    text = ('{\n  "source": %s,\n  "torch_version": %s,\n  "cases": [\n    %s\n  ]\n}\n'
            % (json.dumps(doc["source"]), json.dumps(doc["torch_version"]), cases))
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        fh.write(text)
    with open(path) as fh:
        check(json.load(fh))
    print("numpy %s, torch %s" % (np.__version__, torch.__version__))
    print("%s  %d bytes  cases: %s" % (os.path.basename(path), os.path.getsize(path),
                                       ", ".join(c["name"] for c in doc["cases"])))
    print("all checks passed")


if __name__ == "__main__":
    main()
