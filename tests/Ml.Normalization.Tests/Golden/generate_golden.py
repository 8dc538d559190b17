#!/usr/bin/python3
"""Generator of the golden test vectors for Ml.Normalization batch normalization.

Produces, next to this script:
  seed_batchnorm.json     -- vectors from the seed reference implementation
                             (seed_reference.py: batchnorm_forward /
                             batchnorm_backward; biased variance, running stats
                             start at zeros, running = m*running + (1-m)*batch,
                             default momentum 0.9, eps 1e-5).
  torch_batchnorm1d.json  -- vectors from torch.nn.BatchNorm1d (float64 module;
                             torch momentum 0.1, running_var starts at 1 and is
                             fed the UNBIASED batch variance, running_mean at 0).

Rules: all inputs (x, gamma, beta, dout) are drawn with numpy default_rng using
fixed per-case seeds and rounded to float32 (so they are exactly representable
as C# float); they are then converted to float64 and every reference result is
computed and written in float64.  Numbers are written with Python's repr (shortest
round-trip of the float64 value, i.e. full precision).  Every 2-D array is
written FLATTENED row-major (rows x features) as a single list.  See README.md
in this folder for the exact schema.

The seed reference module is imported via importlib from seed_reference.py next
to this script: the seed article's code, vendored into the repository (its
header names the source) so that a clone can regenerate these files.

Rerun (from the repository root):
    apt-get install python3-numpy python3-torch
    /usr/bin/python3 tests/Ml.Normalization.Tests/Golden/generate_golden.py
The output is deterministic for a given numpy/torch build; the script finishes
with self-checks (lengths, numeric gradient, torch running_var update rule).
"""
import importlib.util
import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # never drop __pycache__ next to the vendored seed module

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
SEED_FILE = os.path.join(HERE, "seed_reference.py")  # vendored; its header names the source

TEST_ROWS = 5  # M


def load_reference():
    spec = importlib.util.spec_from_file_location("seed_reference", SEED_FILE)
    if spec is None or not os.path.isfile(SEED_FILE):
        sys.exit("seed reference not found: %s" % SEED_FILE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def f32(a):
    """Round to float32 (exactly representable in C# float), return as float64."""
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def flat(a):
    """float64 array -> flat row-major list of Python floats."""
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel(order="C")]


def draw_x(rng, rows, mu, sigma):
    return f32(rng.normal(size=(rows, mu.shape[0])) * sigma + mu)


# --------------------------------------------------------------------------- seed

# (name, N, D, momentum, eps, rng seed, large_mean)
SEED_CASES = [
    ("N2_D1", 2, 1, 0.9, 1e-5, 1001, False),
    ("N4_D7", 4, 7, 0.9, 1e-5, 1002, False),
    ("N16_D8", 16, 8, 0.9, 1e-5, 1003, False),
    ("N16_D9", 16, 9, 0.9, 1e-5, 1004, False),
    ("N33_D17", 33, 17, 0.9, 1e-5, 1005, False),
    # The brief asked for (64, 63); with 3 batches + outputs + dx written at full
    # float64 precision that one case alone is ~650 KB and the file ~1.1 MB, over
    # the "well under 1 MB" budget, so rows are halved (the 63-feature tail, the
    # point of the case, is kept).  Put 64 back here if size does not matter.
    ("N32_D63", 32, 63, 0.9, 1e-5, 1006, False),
    ("N8_D64", 8, 64, 0.9, 1e-5, 1007, False),
    ("N10_D65", 10, 65, 0.9, 1e-5, 1008, False),
    ("large_mean_N32_D9", 32, 9, 0.9, 1e-5, 1009, True),
    ("N12_D5_momentum0.5_eps1e-3", 12, 5, 0.5, 1e-3, 1010, False),
]


def seed_case(ref, name, N, D, momentum, eps, seed, large_mean):
    rng = np.random.default_rng(seed)
    gamma = f32(rng.uniform(0.5, 1.5, size=D))
    beta = f32(rng.normal(0.0, 0.5, size=D))
    if large_mean:
        mu = np.full(D, 1e4)
        sigma = np.ones(D)
    else:
        mu = rng.uniform(-3.0, 3.0, size=D)
        sigma = rng.uniform(0.5, 3.0, size=D)

    bn_param = {"mode": "train", "momentum": momentum, "eps": eps}
    batches, outs, rms, rvs = [], [], [], []
    cache = None
    x = None
    for _ in range(3):
        x = draw_x(rng, N, mu, sigma)
        bn_param["mode"] = "train"
        out, cache = ref.batchnorm_forward(x, gamma, beta, bn_param)
        batches.append(flat(x))
        outs.append(flat(out))
        rms.append(flat(bn_param["running_mean"]))
        rvs.append(flat(bn_param["running_var"]))

    dout = f32(rng.normal(size=(N, D)))
    dx, dgamma, dbeta = ref.batchnorm_backward(dout, cache)

    test_x = draw_x(rng, TEST_ROWS, mu, sigma)
    bn_param["mode"] = "test"
    test_out, _ = ref.batchnorm_forward(test_x, gamma, beta, bn_param)

    return {
        "name": name, "rows": N, "features": D, "momentum": momentum, "eps": eps,
        "gamma": flat(gamma), "beta": flat(beta),
        "batches": batches, "train_out": outs,
        "running_mean_after": rms, "running_var_after": rvs,
        "dout": flat(dout), "dx": flat(dx), "dgamma": flat(dgamma), "dbeta": flat(dbeta),
        "test_x": flat(test_x), "test_rows": TEST_ROWS, "test_out": flat(test_out),
    }


# -------------------------------------------------------------------------- torch

# (name, N, D, number of batches, rows of a partial LAST batch or None, rng seed)
TORCH_CASES = [
    ("N8_D3_partial_last3", 8, 3, 4, 3, 2001),
    ("N16_D9", 16, 9, 3, None, 2002),
    ("N5_D64", 5, 64, 3, None, 2003),
    ("N7_D65", 7, 65, 3, None, 2004),
]
TORCH_MOMENTUM = 0.1
TORCH_EPS = 1e-5


def torch_case(torch, name, N, D, nbatches, partial_rows, seed):
    rng = np.random.default_rng(seed)
    mu = rng.uniform(-3.0, 3.0, size=D)
    sigma = rng.uniform(0.5, 3.0, size=D)
    bn = torch.nn.BatchNorm1d(D, eps=TORCH_EPS, momentum=TORCH_MOMENTUM).double()
    bn.train()
    batches, rows, outs, rms, rvs = [], [], [], [], []
    with torch.no_grad():
        for k in range(nbatches):
            n = partial_rows if (partial_rows is not None and k == nbatches - 1) else N
            x = draw_x(rng, n, mu, sigma)
            out = bn(torch.from_numpy(x)).numpy()
            batches.append(flat(x))
            rows.append(n)
            outs.append(flat(out))
            rms.append(flat(bn.running_mean.numpy()))
            rvs.append(flat(bn.running_var.numpy()))
        test_x = draw_x(rng, TEST_ROWS, mu, sigma)
        bn.eval()
        eval_out = bn(torch.from_numpy(test_x)).numpy()
    return {
        "name": name, "rows": N, "features": D,
        "torch_momentum": TORCH_MOMENTUM, "eps": TORCH_EPS,
        "batches": batches, "batch_rows": rows,
        "running_mean_after": rms, "running_var_after": rvs,
        "train_out": outs,
        "test_x": flat(test_x), "test_rows": TEST_ROWS, "eval_out": flat(eval_out),
    }


# ------------------------------------------------------------------------- output

def write_json(path, doc):
    # One case per line: compact, but diffs stay per case.
    parts = []
    for k, v in doc.items():
        if k != "cases":
            parts.append("%s: %s" % (json.dumps(k), json.dumps(v)))
    cases = ",\n    ".join(json.dumps(c, separators=(",", ":")) for c in doc["cases"])
    parts.append('"cases": [\n    %s\n  ]' % cases)
    text = "{\n  " + ",\n  ".join(parts) + "\n}\n"
    json.loads(text)  # must be valid JSON
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        fh.write(text)


# ------------------------------------------------------------------------- checks

def check_seed(ref, doc):
    for c in doc["cases"]:
        N, D, M = c["rows"], c["features"], c["test_rows"]
        assert len(c["gamma"]) == D and len(c["beta"]) == D
        for key in ("batches", "train_out"):
            assert len(c[key]) == 3 and all(len(a) == N * D for a in c[key]), (c["name"], key)
        for key in ("running_mean_after", "running_var_after"):
            assert len(c[key]) == 3 and all(len(a) == D for a in c[key]), (c["name"], key)
        for key in ("dout", "dx"):
            assert len(c[key]) == N * D, (c["name"], key)
        assert len(c["dgamma"]) == D and len(c["dbeta"]) == D
        assert len(c["test_x"]) == M * D and len(c["test_out"]) == M * D
        # independent recomputation of the running stats (biased var, zero start)
        m = c["momentum"]
        rm, rv = np.zeros(D), np.zeros(D)
        for k in range(3):
            x = np.array(c["batches"][k]).reshape(N, D)
            rm = m * rm + (1 - m) * x.mean(0)
            rv = m * rv + (1 - m) * x.var(0)
            assert np.allclose(rm, c["running_mean_after"][k], rtol=1e-12, atol=1e-12)
            assert np.allclose(rv, c["running_var_after"][k], rtol=1e-12, atol=1e-12)

    # central-difference numeric gradient on a small case
    results = {}
    for name in ("N4_D7", "N12_D5_momentum0.5_eps1e-3"):
        c = next(c for c in doc["cases"] if c["name"] == name)
        N, D = c["rows"], c["features"]
        x = np.array(c["batches"][2]).reshape(N, D)
        gamma, beta = np.array(c["gamma"]), np.array(c["beta"])
        dout = np.array(c["dout"]).reshape(N, D)

        def loss(xx, gg, bb):
            out, _ = ref.batchnorm_forward(xx, gg, bb, {"mode": "train", "eps": c["eps"]})
            return float(np.sum(out * dout))

        def numgrad(f, a, h=1e-5):
            g = np.zeros_like(a)
            it = np.nditer(a, flags=["multi_index"])
            for _ in it:
                i = it.multi_index
                old = a[i]
                a[i] = old + h
                fp = f()
                a[i] = old - h
                fm = f()
                a[i] = old
                g[i] = (fp - fm) / (2 * h)
            return g

        ndx = numgrad(lambda: loss(x, gamma, beta), x)
        ndg = numgrad(lambda: loss(x, gamma, beta), gamma)
        ndb = numgrad(lambda: loss(x, gamma, beta), beta)
        results[name] = (
            np.max(np.abs(ndx - np.array(c["dx"]).reshape(N, D))),
            np.max(np.abs(ndg - np.array(c["dgamma"]))),
            np.max(np.abs(ndb - np.array(c["dbeta"]))),
        )
    return results


def check_torch(doc):
    worst = 0.0
    for c in doc["cases"]:
        D, M = c["features"], c["test_rows"]
        nb = len(c["batches"])
        assert nb in (3, 4) and len(c["batch_rows"]) == nb
        for key in ("running_mean_after", "running_var_after"):
            assert len(c[key]) == nb and all(len(a) == D for a in c[key]), (c["name"], key)
        for k in range(nb):
            n = c["batch_rows"][k]
            assert len(c["batches"][k]) == n * D and len(c["train_out"][k]) == n * D
        assert len(c["test_x"]) == M * D and len(c["eval_out"]) == M * D
        x0 = np.array(c["batches"][0]).reshape(c["batch_rows"][0], D)
        expect = 0.9 * 1.0 + 0.1 * x0.var(axis=0, ddof=1)
        err = np.max(np.abs(expect - np.array(c["running_var_after"][0])))
        assert err < 1e-12, (c["name"], err)
        worst = max(worst, err)
        # full recomputation of all running stats
        rm, rv = np.zeros(D), np.ones(D)
        for k in range(nb):
            x = np.array(c["batches"][k]).reshape(c["batch_rows"][k], D)
            rm = 0.9 * rm + 0.1 * x.mean(0)
            rv = 0.9 * rv + 0.1 * x.var(0, ddof=1)
            assert np.allclose(rm, c["running_mean_after"][k], rtol=1e-12, atol=1e-12)
            assert np.allclose(rv, c["running_var_after"][k], rtol=1e-12, atol=1e-12)
    return worst


def main():
    import torch
    torch.set_default_dtype(torch.float64)
    ref = load_reference()

    seed_doc = {"source": "tests/Ml.Normalization.Tests/Golden/seed_reference.py",
                "cases": [seed_case(ref, *c) for c in SEED_CASES]}
    torch_doc = {"source": "torch.nn.BatchNorm1d", "torch_version": torch.__version__,
                 "cases": [torch_case(torch, *c) for c in TORCH_CASES]}

    seed_path = os.path.join(HERE, "seed_batchnorm.json")
    torch_path = os.path.join(HERE, "torch_batchnorm1d.json")
    write_json(seed_path, seed_doc)
    write_json(torch_path, torch_doc)

    with open(seed_path) as fh:
        seed_back = json.load(fh)
    with open(torch_path) as fh:
        torch_back = json.load(fh)
    grad = check_seed(ref, seed_back)
    worst = check_torch(torch_back)

    print("seed reference:", SEED_FILE)
    print("numpy %s, torch %s" % (np.__version__, torch.__version__))
    for path, doc in ((seed_path, seed_back), (torch_path, torch_back)):
        print("%s  %d bytes  cases: %s" % (os.path.relpath(path, REPO_ROOT), os.path.getsize(path),
                                           ", ".join(c["name"] for c in doc["cases"])))
    for name, (ex, eg, eb) in grad.items():
        print("numeric-vs-reference gradient %s: max|dx err|=%.3g max|dgamma err|=%.3g max|dbeta err|=%.3g"
              % (name, ex, eg, eb))
        assert ex < 1e-6 and eg < 1e-6 and eb < 1e-6
    print("torch running_var_after[0] vs 0.9*1 + 0.1*unbiased_var(batch0): max abs err %.3g" % worst)
    print("all checks passed")


if __name__ == "__main__":
    main()
