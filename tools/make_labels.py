#!/usr/bin/python3
"""Write the 1000 ImageNet-1k class names, in index order, one per line.

Source: torchvision.models._meta._IMAGENET_CATEGORIES (Debian python3-torchvision 0.14),
the same list torchvision's pretrained classifiers use for their 1000 logits.

Usage: /usr/bin/python3 tools/make_labels.py [--out data/labels/imagenet_classes.txt]
"""
import argparse
import os
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "..", "data", "labels", "imagenet_classes.txt"))
    args = ap.parse_args()
    try:
        from torchvision.models._meta import _IMAGENET_CATEGORIES as cats
    except ImportError as e:
        sys.exit(f"make_labels: cannot import torchvision ImageNet categories: {e}")
    if len(cats) != 1000 or any("\n" in c or not c for c in cats):
        sys.exit(f"make_labels: unexpected category list (len {len(cats)})")
    out = os.path.normpath(args.out)
    d = os.path.dirname(out) or "."
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".labels.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(c + "\n" for c in cats))
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    print(f"wrote {len(cats)} labels to {out}")


if __name__ == "__main__":
    main()
