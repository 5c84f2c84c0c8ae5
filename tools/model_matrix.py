#!/usr/bin/python3
"""Every CPU variant on torchvision classifiers, against PyTorch and itself.

usage: model_matrix.py DELTAKERN --dir DIR [--model NAME]... [--all] [--variant V]...
                       [--opset N] [--json FILE] [--markdown FILE] [--no-diff]

For each model (exported into DIR by tools/export_models.py with seed 0 when
DIR/<model>.onnx is missing) and each variant (default: ref, openblas, onednn,
onednn:opt=2, onednn:opt=3, onednn:layout=plain, onednn:fpmath=bf16; those whose
backend this build lacks are left out with a note):

- `deltakern run` on the model's reference input, twice, in two processes: the
  two logits files must be equal bit for bit;
- the logits against PyTorch's: top-1 and top-5 (same classes, same order) and
  the relative L2 error, which must be <= max(1e-4, 2 e_pt) for float32 variants.
  1e-4 is the e2e tests' bound (tests/tools/compare_logits.py); e_pt is PyTorch's
  own float32 error: the relative L2 distance of its logits from the exported
  graph evaluated in float64 (export_models.run_onnx(exact=True), cached as
  DIR/<model>.exact.npy).  Two float32 evaluations differ by rounding that grows
  with depth (ResNet-152: e_pt ~7e-5), and a variant as accurate as PyTorch is
  within 2 e_pt of it (triangle inequality); where the float64 evaluation cannot
  run (an op the checker interpreter lacks, no torch) the bound is 1e-4;
- `deltakern diff` with the reference as baseline and every other variant: its
  verdicts per variant (faulty kernel, NONDETERMINISTIC, NONFINITE) and the worst
  isolated ratio to bound over all nodes. A float32 variant must have no faulty
  kernel; every variant, bf16 included, must stay within its own bound (ratio <= 1)
  and be deterministic.

bf16 variants compute in a coarser precision, so their top-5 against PyTorch is
reported, not required; their bound is the tolerance table's, checked node by
node by diff.

Prints one row per model and variant, and writes the table as JSON and Markdown
when asked. Exit 0 when every row passes, 1 when any fails, 2 on bad usage, 77 (skip) when
a model must be exported and /usr/bin/python3 lacks torch.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VARIANTS = ["ref", "openblas", "onednn", "onednn:opt=2", "onednn:opt=3",
                    "onednn:layout=plain", "onednn:fpmath=bf16"]
FP32_REL_L2 = 1e-4

# torchvision 0.14's classifiers, smallest first within a family. Two cannot be
# written at all (over protobuf's 2 GiB: regnet_y_128gf, vit_h_14; the export
# script refuses them).
ALL_MODELS = [
    "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2",
    "densenet121", "densenet169", "densenet201", "densenet161",
    "squeezenet1_0", "squeezenet1_1", "googlenet", "inception_v3",
    "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
    "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4",
    "efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
    "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l",
    "regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf", "regnet_x_8gf",
    "regnet_x_16gf", "regnet_x_32gf",
    "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_y_8gf",
    "regnet_y_16gf", "regnet_y_32gf",
    "convnext_tiny", "convnext_small", "convnext_base", "convnext_large",
    "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32",
    "swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b",
    "maxvit_t",
]


def die(msg):
    print(f"model_matrix: {msg}", file=sys.stderr)
    sys.exit(2)


def sh(cmd, log):
    """Runs cmd, appending its output to log; returns (exit status, output)."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n" + p.stdout + f"[exit {p.returncode}]\n")
    return p.returncode, p.stdout


def available_backends(dk):
    out = subprocess.run([dk, "backends"], stdout=subprocess.PIPE, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if len(line.split()) > 1 and line.split()[1] == "available"}


def is_bf16(v):
    return "bf16" in v


def exported(model, d):
    return os.path.exists(f"{d}/{model}.onnx") and os.path.exists(f"{d}/{model}.logits.npy")


def export(model, d, opset, log):
    if exported(model, d):
        return None
    rc, out = sh(["/usr/bin/python3", f"{HERE}/export_models.py", "--model", model, "--out", d,
                  "--seed", "0", "--opset", str(opset)], log)
    if rc != 0:
        return (out.strip().splitlines() or ["export failed"])[-1]
    return None


def logits_row(got, want):
    got = got.astype(np.float64).ravel()
    want = want.astype(np.float64).ravel()
    rel = float(np.linalg.norm(got - want) / np.linalg.norm(want))
    tg = np.argsort(-got, kind="stable")[:5].tolist()
    tw = np.argsort(-want, kind="stable")[:5].tolist()
    return {"top1_equal": tg[0] == tw[0], "top5_equal": tg == tw,
            "top5_overlap": len(set(tg) & set(tw)), "rel_l2": rel,
            "finite": bool(np.all(np.isfinite(got)))}


def exact_logits(model, d, log):
    """The exported graph evaluated in float64, or None (why goes to the log)."""
    path = f"{d}/{model}.exact.npy"
    if not os.path.exists(path):
        code = ("import sys, numpy as np, onnx\n"
                f"sys.path.insert(0, {HERE!r})\n"
                "from export_models import run_onnx\n"
                f"y = run_onnx(onnx.load({d + '/' + model + '.onnx'!r}), np.load({d + '/' + model + '.input.npy'!r}), exact=True)\n"
                f"np.save({path + '.tmp.npy'!r}, y)\n")
        rc, _ = sh(["/usr/bin/python3", "-c", code], log)
        if rc != 0:
            return None
        os.replace(path + ".tmp.npy", path)
    return np.load(path)


def run_variant(dk, model, d, v, work, log, exact):
    """Two runs in two processes; returns the row or an error string."""
    outs = []
    for k in (1, 2):
        tag = v.replace(":", "_").replace("=", "-").replace(",", "_")
        out = f"{work}/{model}.{tag}.{k}.npy"
        rc, text = sh([dk, "run", f"{d}/{model}.onnx", "-i", f"{d}/{model}.input.npy", "-b", v,
                       "--save-output", out, "--force"], log)
        if rc != 0:
            return (text.strip().splitlines() or ["run failed"])[-1]
        outs.append(out)
    a, b = np.load(outs[0]), np.load(outs[1])
    row = logits_row(a, np.load(f"{d}/{model}.logits.npy"))
    row["bit_identical_rerun"] = a.tobytes() == b.tobytes()
    row["rel_l2_exact"] = None if exact is None else rel_l2(a, exact)
    return row


def diff_model(dk, model, d, variants, work, log):
    """deltakern diff, baseline ref: {variant: verdicts}."""
    out = f"{work}/{model}.diff"
    cmd = [dk, "diff", f"{d}/{model}.onnx", "-i", f"{d}/{model}.input.npy", "--baseline", "ref",
           "-o", out, "--force", "-q"]
    for v in variants:
        cmd += ["-v", v]
    rc, text = sh(cmd, log)
    if rc != 0 or not os.path.exists(f"{out}/summary.json"):
        return (text.strip().splitlines() or ["diff failed"])[-1]
    s = json.load(open(f"{out}/summary.json"))
    res = {}
    for vj in s["variants"]:
        res[vj["variant"]] = {"faulty_kernel": vj["faulty_kernel_images"],
                              "nondeterministic": vj["nondeterministic_images"],
                              "nonfinite": vj["nonfinite_images"], "worst_ratio": 0.0, "worst_node": ""}
    import csv
    with open(f"{out}/layers.csv") as f:
        for r in csv.DictReader(f):
            if r["variant"] in res and r["iso_ratio_max"] not in ("", "nan", "null"):
                x = float(r["iso_ratio_max"])
                if x > res[r["variant"]]["worst_ratio"]:
                    res[r["variant"]]["worst_ratio"] = x
                    res[r["variant"]]["worst_node"] = r["node"]
    return res


def rel_l2(got, want):
    got, want = got.astype(np.float64).ravel(), want.astype(np.float64).ravel()
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


def judge(v, row):
    """Why the row fails ('' when it passes)."""
    why = []
    if "error" in row:
        return row["error"]
    if not row["bit_identical_rerun"]:
        why.append("second run differs")
    if not row["finite"]:
        why.append("non-finite logits")
    if not is_bf16(v):
        if not row["top5_equal"]:
            why.append("top-5 differs from PyTorch")
        if row["rel_l2"] > row["bound"]:
            why.append(f"rel L2 {row['rel_l2']:.2e} > {row['bound']:.2e}")
    dv = row.get("diff")
    if isinstance(dv, str):
        why.append("diff: " + dv)
    elif dv:
        if dv["nondeterministic"]:
            why.append("diff: NONDETERMINISTIC")
        if dv["nonfinite"]:
            why.append("diff: NONFINITE")
        if dv["faulty_kernel"] or dv["worst_ratio"] > 1.0:
            why.append(f"diff: node over its bound ({dv['worst_node']}, ratio {dv['worst_ratio']:.3g})")
    return "; ".join(why)


def fmt(v, row):
    if "error" in row:
        return f"| {row['model']} | {v} | - | - | - | - | - | - | - | - | FAIL: {row['error']} |"
    dv = row.get("diff")
    if isinstance(dv, dict):
        dcol = f"{dv['faulty_kernel']} | {dv['worst_ratio']:.3g}"
    elif v == "ref":
        dcol = "(baseline) | -"
    else:
        dcol = "- | -"
    ok = row["verdict"]
    return (f"| {row['model']} | {v} | {'yes' if row['top1_equal'] else 'no'} | "
            f"{'yes' if row['top5_equal'] else str(row['top5_overlap']) + '/5'} | {row['rel_l2']:.2e} | "
            f"{'-' if is_bf16(v) else format(row['bound'], '.2e')} | "
            f"{'-' if row.get('rel_l2_exact') is None else format(row['rel_l2_exact'], '.2e')} | "
            f"{'yes' if row['bit_identical_rerun'] else 'NO'} | {dcol} | {ok} |")


HEADER = ("| model | variant | top-1 = PyTorch | top-5 = PyTorch | logits rel L2 | bound | rel L2 vs float64 "
          "| bit-identical rerun | faulty-kernel verdicts | worst isolated ratio | result |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|")


def main():
    ap = argparse.ArgumentParser(description="every CPU variant on torchvision classifiers")
    ap.add_argument("deltakern")
    ap.add_argument("--dir", required=True, help="model directory (exports go there)")
    ap.add_argument("--model", action="append", default=[])
    ap.add_argument("--all", action="store_true", help="every torchvision classifier")
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    ap.add_argument("--no-diff", action="store_true", help="skip deltakern diff (faster)")
    a = ap.parse_args()
    models = ALL_MODELS if a.all else a.model
    if not models:
        die("name --model NAME (repeatable) or --all")
    if not os.access(a.deltakern, os.X_OK):
        die(f"{a.deltakern}: not an executable")
    os.makedirs(a.dir, exist_ok=True)
    if not all(exported(m, a.dir) for m in models):
        p = subprocess.run(["/usr/bin/python3", "-c", "import torch, torchvision, onnx"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if p.returncode != 0:
            print("SKIP: the models must be exported and /usr/bin/python3 lacks torch, torchvision "
                  "or onnx (Debian python3-torch python3-torchvision python3-onnx)")
            return 77
    have = available_backends(a.deltakern)
    variants = []
    for v in a.variant or DEFAULT_VARIANTS:
        if v.split(":")[0] in have:
            variants.append(v)
        else:
            print(f"note: {v} left out: backend {v.split(':')[0]} is not available in this build")
    if "ref" not in variants:
        variants.insert(0, "ref")
    work = tempfile.mkdtemp(prefix="dk_matrix.")
    log = f"{work}/log.txt"
    print(f"variants {', '.join(variants)}; commands and output in {log}")
    print(HEADER)
    rows, failed = [], 0
    for m in models:
        t0 = time.time()
        err = export(m, a.dir, a.opset, log)
        res, bound = {}, FP32_REL_L2
        for v in variants:
            res[v] = {"error": "export: " + err} if err else None
        exact = None
        if not err:
            exact = exact_logits(m, a.dir, log)
            if exact is None:
                print(f"<!-- {m}: no float64 evaluation (see the log); bound {FP32_REL_L2:.0e} -->")
            else:
                e_pt = rel_l2(np.load(f"{a.dir}/{m}.logits.npy"), exact)
                bound = max(FP32_REL_L2, 2 * e_pt)
                print(f"<!-- {m}: PyTorch float32 vs float64 evaluation: rel L2 {e_pt:.2e}; "
                      f"bound max(1e-4, 2x) = {bound:.2e} -->")
            for v in variants:
                r = run_variant(a.deltakern, m, a.dir, v, work, log, exact)
                res[v] = {"error": r} if isinstance(r, str) else r
            others = [v for v in variants if v != "ref" and "error" not in res[v]]
            if others and not a.no_diff and "error" not in res["ref"]:
                dres = diff_model(a.deltakern, m, a.dir, others, work, log)
                for v in others:
                    res[v]["diff"] = dres if isinstance(dres, str) else dres.get(v)
        for v in variants:
            row = dict(res[v], model=m, variant=v, bound=bound)
            why = judge(v, row)
            row["verdict"] = "pass" if not why else "FAIL: " + why
            failed += bool(why)
            rows.append(row)
            print(fmt(v, row), flush=True)
        print(f"<!-- {m}: {time.time() - t0:.0f} s -->", flush=True)
    if a.json:
        with open(a.json + ".tmp", "w") as f:
            json.dump({"variants": variants, "rows": rows}, f, indent=1)
        os.replace(a.json + ".tmp", a.json)
    if a.markdown:
        with open(a.markdown + ".tmp", "w") as f:
            f.write(HEADER + "\n" + "\n".join(fmt(r["variant"], r) for r in rows) + "\n")
        os.replace(a.markdown + ".tmp", a.markdown)
    print(f"{len(rows) - failed} of {len(rows)} rows pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
