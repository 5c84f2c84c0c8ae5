#!/usr/bin/python3
"""Writes an input on which the reference's top-1 and top-2 logits are nearly
tied: x = a + t (b - a) between a model input a and its negation b = -a
(which the network labels otherwise), with t found by bisection where the
reference's top-1 changes (each step runs `deltakern run`). Writes the inputs
just either side of the boundary as OUT_lo.npy and OUT_hi.npy: a backend
whose logits move the margin either way flips one of them. Prints t and the
margins.

usage: diff_ambiguous_input.py DELTAKERN MODEL.onnx INPUT.npy OUT"""
import os
import subprocess
import sys
import tempfile

import numpy as np


def logits(dk, model, x, tmp):
    path = os.path.join(tmp, "x.npy")
    out = os.path.join(tmp, "y.npy")
    np.save(path, x.astype(np.float32))
    subprocess.run([dk, "run", model, "-i", path, "--save-output", out, "--force", "-k", "1"],
                   check=True, stdout=subprocess.DEVNULL)
    return np.load(out).ravel()


def main():
    dk, model, inp, out = sys.argv[1:5]
    a = np.load(inp).astype(np.float64)
    b = -a
    with tempfile.TemporaryDirectory() as tmp:
        lo, hi = 0.0, 1.0
        top_lo = int(np.argmax(logits(dk, model, a, tmp)))
        if int(np.argmax(logits(dk, model, b, tmp))) == top_lo:
            sys.exit("the input and its negation have the same label")
        for _ in range(40):
            mid = (lo + hi) / 2
            if int(np.argmax(logits(dk, model, a + mid * (b - a), tmp))) == top_lo:
                lo = mid
            else:
                hi = mid
        for name, t in (("lo", lo), ("hi", hi)):
            x = (a + t * (b - a)).astype(np.float32)
            y = np.sort(logits(dk, model, x, tmp))
            np.save("%s_%s.npy" % (out, name), x)
            print("%s: t = %.17g, top-1/top-2 margin %.3g (top-1 logit %.6g)" % (name, t, y[-1] - y[-2], y[-1]))

if __name__ == "__main__":
    main()
