#!/usr/bin/python3
"""A small text detector in the style of DB (differentiable binarisation), as
PaddleOCR's detectors are built, exported to ONNX with seeded weights: the
upsampling ops no torchvision classifier has, end to end on one network.

usage: make_text_detector.py OUT_DIR [--seed N] [--opset N]

Backbone: three stride-2 Conv-BatchNorm-PRelu stages (a per-channel slope)
with an InstanceNormalization (affine) after the second; an FPN whose top-down
path upsamples by nearest x2 (Resize, asymmetric floor, as paddle2onnx writes
it) and adds the lateral 1x1 convolutions; a head of Conv-BatchNorm-Relu, two
ConvTranspose 2x2 stride 2 (the second with bias), Sigmoid: a probability map
at a quarter of the input resolution times four, i.e. the input's size.
Height and width are symbolic in the ONNX file (set with --input-shape).

Writes OUT_DIR/text_detector.onnx, input.npy (1x3x64x192, seeded normal) and
torch_output.npy (PyTorch's map for that input).
"""
import argparse
import os

import numpy as np
import torch
from torch import nn


class Stage(nn.Module):
    def __init__(self, cin, cout, inorm=False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.PReLU(cout, init=0.1)
        self.inorm = nn.InstanceNorm2d(cout, affine=True) if inorm else None

    def forward(self, x):
        x = self.act(self.bn(self.conv(x)))
        return self.inorm(x) if self.inorm is not None else x


class TextDetector(nn.Module):
    def __init__(self):
        super().__init__()
        self.s1, self.s2, self.s3 = Stage(3, 16), Stage(16, 32, inorm=True), Stage(32, 48)
        self.l1, self.l2, self.l3 = nn.Conv2d(16, 24, 1), nn.Conv2d(32, 24, 1), nn.Conv2d(48, 24, 1)
        self.head = nn.Sequential(
            nn.Conv2d(24, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            nn.ConvTranspose2d(16, 8, 2, stride=2, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 2, stride=2), nn.Sigmoid())

    def forward(self, x):
        c1 = self.s1(x)          # /2
        c2 = self.s2(c1)         # /4
        c3 = self.s3(c2)         # /8
        up = nn.functional.interpolate
        p3 = self.l3(c3)
        p2 = self.l2(c2) + up(p3, scale_factor=2.0, mode="nearest")
        p1 = self.l1(c1) + up(p2, scale_factor=2.0, mode="nearest")
        # p1 is /2; the head's two ConvTranspose take it to x2, so pool once
        return self.head(nn.functional.max_pool2d(p1, 2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opset", type=int, default=11)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    model = TextDetector()
    with torch.no_grad():  # running statistics that are not the identity
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, nn.InstanceNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, nn.PReLU):
                m.weight.uniform_(0.0, 0.3)
    model.eval()
    gen = torch.Generator().manual_seed(a.seed)
    x = torch.randn(1, 3, 64, 192, generator=gen)
    with torch.no_grad():
        y = model(x)
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "text_detector.onnx")
    torch.onnx.export(model, x, path + ".tmp", opset_version=a.opset, input_names=["x"],
                      output_names=["map"], dynamic_axes={"x": {2: "height", 3: "width"}})
    os.replace(path + ".tmp", path)
    np.save(os.path.join(a.out, "input.npy"), x.numpy())
    np.save(os.path.join(a.out, "torch_output.npy"), y.numpy())
    print(f"seed {a.seed}, opset {a.opset}: {path}, output {tuple(y.shape)}, "
          f"mean {float(y.mean()):.4f}, std {float(y.std()):.4f}")


if __name__ == "__main__":
    main()
