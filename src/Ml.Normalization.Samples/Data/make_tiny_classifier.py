#!/usr/bin/env python3
"""Writes Data/tiny_classifier.onnx: a tiny, UNTRAINED PyTorch network that stands in for an ImageNet model.

The `imagenet` scenario of the samples app puts torchvision's Normalize(mean, std) with the ImageNet constants (a
BatchNormalize stage with known constants) in front of ApplyOnnxModel. A real ImageNet model (ResNet-18 is ~45 MB) is
too big to commit and downloading one at run time is not allowed, so this script makes a small network with the same
interface: float input "input" of shape [N, 3, 224, 224] (NCHW, N dynamic), float output "output" of shape [N, 4].

    Conv2d(3, 4, kernel 3) -> ReLU -> AdaptiveAvgPool2d(1) -> Flatten -> Linear(4, 4)

It is not trained and classifies nothing: its weights are drawn from numpy's legacy RandomState (stable across numpy
versions) with a fixed seed. Its four outputs are just four fixed functions of the image, which is all the sample and
its test need: they show that the normalized pixels reach the model in the layout and scale it expects.

Run from the repository root (Debian: python3-torch 1.13; the `onnx` package is not needed):

    /usr/bin/python3 src/Ml.Normalization.Samples/Data/make_tiny_classifier.py

With the same torch version the output is the same file, byte for byte (the script checks two exports agree).
"""
import io
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

SIZE = 224       # the side ResizeImages gives each image in the `imagenet` scenario (and ResNet's input size)
SEED = 12
OPSET = 13


def build() -> nn.Module:
    rng = np.random.RandomState(SEED)
    conv = nn.Conv2d(3, 4, kernel_size=3)
    linear = nn.Linear(4, 4)
    with torch.no_grad():
        # Conv weights ~ N(0, 1/27) (27 = 3 x 3 x 3 inputs per output), so each feature has a spread near its input's.
        conv.weight.copy_(torch.from_numpy(rng.normal(0, 27 ** -0.5, size=(4, 3, 3, 3)).astype(np.float32)))
        conv.bias.copy_(torch.from_numpy(rng.normal(0, 0.1, size=4).astype(np.float32)))
        linear.weight.copy_(torch.from_numpy(rng.normal(0, 0.5, size=(4, 4)).astype(np.float32)))
        linear.bias.copy_(torch.from_numpy(rng.normal(0, 0.1, size=4).astype(np.float32)))
    return nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), linear).eval()


def export(model: nn.Module) -> bytes:
    buffer = io.BytesIO()
    torch.onnx.export(
        model,
        torch.zeros(1, 3, SIZE, SIZE),
        buffer,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        opset_version=OPSET,
        do_constant_folding=True,
    )
    return buffer.getvalue()


def main(target: Path) -> None:
    torch.manual_seed(SEED)  # nothing random is left to torch, but the layers' own initialisation draws from it first
    model = build()
    data = export(model)
    if export(build()) != data:
        sys.exit("two exports of the same model differ: the file would not be reproducible")
    target.write_bytes(data)
    print(f"wrote {target} ({len(data)} bytes, torch {torch.__version__}, opset {OPSET})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("tiny_classifier.onnx"))
