#!/usr/bin/python3
"""Checks the results of `deltakern diff` (OUTDIR/state.jsonl, summary.json,
*.csv, bundles). Exits 1 with a message on the first failed check.

  check_diff.py planted OUTDIR NODE...   variant i plants a fault in NODE i:
        in every image it is the first faulty kernel (isolated), and the
        counterfactual set of every flip it causes reproduces and contains it
  check_diff.py flips OUTDIR             at least one flip was localised
  check_diff.py clean OUTDIR             no variant has a faulty kernel
  check_diff.py margin OUTDIR            an input with a near-tie: flips happen,
        no kernel is faulty, each flip says tiny margin, amplified rounding
        or sensitive node (then naming the one node of its counterfactual
        set) and its counterfactual set reproduces it
  check_diff.py verdicts OUTDIR FLAKY NAN   variant 0 is clean, variant 1
        plants a nondeterministic kernel in node FLAKY, variant 2 a NaN in
        node NAN; image 0 is all NaN: NONDETERMINISTIC names FLAKY first,
        NONFINITE names NAN (and the input for image 0), and neither is ever
        a label difference, a flip or an unset class index
  check_diff.py same OUTDIR1 OUTDIR2     identical results (timing and the
        run's provenance aside)
  check_diff.py bundle DIR               numpy.load reads every value with the
        manifest's shape and dtype
  check_diff.py whole OUTDIR             what a run (perhaps killed) left is
        never a half-written file in place of a whole one: every line of
        state.jsonl but a last one cut short is JSON, and when summary.json
        (written last) is there, it covers every record and each CSV file
        has the hash it names
  check_diff.py exact OUTDIR1 OUTDIR2    byte for byte the same files
        (state.jsonl, the CSV files, summary.json but for its timing)"""
import csv
import json
import os
import re
import sys

import numpy as np


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def records(out):
    with open(os.path.join(out, "state.jsonl")) as f:
        lines = f.read().splitlines()
    return [json.loads(x) for x in lines[1:]]


def summary(out):
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f)


def planted(out, nodes):
    recs = records(out)
    if not recs:
        fail("no image records")
    if not summary(out)["complete"]:
        fail("the run is not complete")
    for r in recs:
        if len(r["variants"]) != len(nodes):
            fail("%d variants for %d planted nodes" % (len(r["variants"]), len(nodes)))
        for v, node in zip(r["variants"], nodes):
            ff = v["first_faulty"]
            got = ff["node"] if ff else None
            if got != node:
                fail("%s, %s: first faulty kernel %s, planted %s" % (r["image"], v["variant"], got, node))
            print("ok: %s: planted %s named first faulty (isolated ratio %.3g, %s %s on %s)"
                  % (r["image"], node, ff["iso_ratio"], ff["op"], ff["shape"], ff["backend"]))
            flip = v.get("flip")
            if flip:
                cf = flip.get("counterfactual")
                if not cf or not cf["reproduced"] or node not in cf["set"]:
                    fail("%s: flip %d -> %d: counterfactual %s does not contain %s"
                         % (r["image"], flip["baseline_top1"], flip["variant_top1"], cf, node))
                print("ok: %s: flip %d -> %d reproduced by {%s} in %d mixed runs"
                      % (r["image"], flip["baseline_top1"], flip["variant_top1"],
                         ", ".join(cf["set"]), cf["runs"]))


def flips(out):
    s = summary(out)
    n = sum(v["flips"] for v in s["variants"])
    if n == 0:
        fail("no label flip")
    with open(os.path.join(out, "flips.csv")) as f:
        rows = list(csv.DictReader(f))
    if len(rows) != n:
        fail("flips.csv has %d rows for %d flips" % (len(rows), n))
    print("ok: %d flip(s) localised" % n)


def clean(out):
    s = summary(out)
    if not s["complete"]:
        fail("the run is not complete")
    for v in s["variants"]:
        if v["faulty_kernel_images"]:
            worst = [b["node"] for b in v["most_blamed"]]
            fail("%s: a faulty kernel in %d image(s): %s" % (v["variant"], v["faulty_kernel_images"], worst))
        print("ok: %s: no faulty kernel in %d image(s), %d flip(s)" % (v["variant"], v["images"], v["flips"]))
    with open(os.path.join(out, "layers.csv")) as f:
        rows = list(csv.DictReader(f))
    ratios = [float(r["iso_ratio_max"]) for r in rows if r["iso_ratio_max"]]
    if not ratios:
        fail("layers.csv has no isolated ratio")
    print("ok: %d node rows, worst isolated ratio %.3g" % (len(rows), max(ratios)))


def margin(out):
    recs = records(out)
    n = 0
    for r in recs:
        for v in r["variants"]:
            if v["first_faulty"]:
                fail("%s: a faulty kernel on the near-tie input: %s" % (v["variant"], v["first_faulty"]))
            f = v.get("flip")
            if not f:
                continue
            n += 1
            if f["cause"] not in ("tiny_margin", "amplified_rounding", "sensitive_node"):
                fail("%s: cause %s" % (v["variant"], f["cause"]))
            cf = f["counterfactual"]
            if not cf["reproduced"] or not cf["set"]:
                fail("%s: the counterfactual did not reproduce the flip: %s" % (v["variant"], cf))
            # one node alone flips it: it is named, never "no kernel blamed"
            if len(cf["set"]) == 1 and (f["cause"] != "sensitive_node" or f["blamed"] != cf["set"]):
                fail("%s: the counterfactual set is one node %s but the flip says %s, blamed %s"
                     % (v["variant"], cf["set"], f["cause"], f["blamed"]))
            print("ok: %s: flip %d -> %d at margin %.3g: %s; mixed runs reproduce it with {%s} (%d runs)"
                  % (v["variant"], f["baseline_top1"], f["variant_top1"], f["margin"], f["cause"],
                     ", ".join(cf["set"]), cf["runs"]))
    if n == 0:
        fail("no flip on the near-tie input")


def verdicts(out, flaky, nan):
    recs = records(out)
    if len(recs) < 2:
        fail("expected the all-NaN input and at least one image, got %d records" % len(recs))
    for i, r in enumerate(recs):
        clean, fl, na = r["variants"]
        if clean["deterministic"] is not True or clean["nondeterministic_count"]:
            fail("%s: the clean variant %s is not deterministic: %s" % (r["image"], clean["variant"],
                                                                      clean["nondeterministic_nodes"]))
        # (on the all-NaN input noise changes nothing: NaN either way)
        if i > 0 and (fl["deterministic"] is not False or not fl["nondeterministic_nodes"]
                      or fl["nondeterministic_nodes"][0] != flaky):
            fail("%s: the flaky variant: deterministic %s, nodes %s (planted %s)"
                 % (r["image"], fl["deterministic"], fl["nondeterministic_nodes"], flaky))
        if i == 0:  # the all-NaN input: the baseline itself is not finite, from the input
            if (r["baseline_nonfinite"] or {}).get("node") != "(the input)" or r["baseline_top5"]:
                fail("all-NaN input: baseline_nonfinite %s, top-5 %s" % (r["baseline_nonfinite"],
                                                                        r["baseline_top5"]))
            want = "(the input)"
        else:
            if r["baseline_nonfinite"] is not None:
                fail("%s: a finite input's baseline is not finite: %s" % (r["image"], r["baseline_nonfinite"]))
            want = nan
        if (na["nonfinite"] or {}).get("node") != want:
            fail("%s: the NaN variant's nonfinite names %s, expected %s" % (r["image"], na["nonfinite"], want))
        for v in r["variants"]:
            if any(c < 0 for c in v["top5"]) or any(c < 0 for c in r["baseline_top5"]):
                fail("%s: a class index below 0 in a top-5" % r["image"])
            if v.get("flip") and (v["nonfinite"] or r["baseline_nonfinite"]):
                fail("%s: %s: a flip next to a non-finite output: %s" % (r["image"], v["variant"], v["flip"]))
        for p in r["pairs"]:
            nonfinite = p["b"] == na["variant"] or i == 0
            if nonfinite != (p["top1_agree"] is None):
                fail("%s: pair %s/%s: top1_agree %s" % (r["image"], p["a"], p["b"], p["top1_agree"]))
        print("ok: %s: clean deterministic; flaky: %s (%d outputs differ); NONFINITE from %s"
              % (r["image"], fl["nondeterministic_nodes"][:1], fl["nondeterministic_count"], na["nonfinite"]["node"]))
    s = summary(out)
    for p in s["pairs"]:
        if p["nonfinite_images"] and p["label_differences"] > p["images"]:
            fail("pair %s/%s counts non-finite images as label differences" % (p["a"], p["b"]))
    flaky_v, nan_v = s["variants"][1], s["variants"][2]
    if flaky_v["nondeterministic_images"] != len(recs) - 1 or nan_v["nonfinite_images"] != len(recs):
        fail("summary: nondeterministic %d, nonfinite %d of %d images"
             % (flaky_v["nondeterministic_images"], nan_v["nonfinite_images"], len(recs)))
    if s["variants"][0]["nondeterministic_images"] or s["variants"][0]["flips"]:
        fail("summary: the clean variant is counted nondeterministic or flipped")
    print("ok: summary counts %d NONDETERMINISTIC and %d NONFINITE images, no label difference from them"
          % (flaky_v["nondeterministic_images"], nan_v["nonfinite_images"]))


def comparable(s):
    s = dict(s)
    s.pop("timing", None)
    s.pop("run", None)
    return s


def same(a, b):
    if comparable(summary(a)) != comparable(summary(b)):
        fail("summary.json differs between %s and %s" % (a, b))
    for name in ("summary.csv", "layers.csv", "flips.csv"):
        with open(os.path.join(a, name)) as fa, open(os.path.join(b, name)) as fb:
            if fa.read() != fb.read():
                fail("%s differs between %s and %s" % (name, a, b))
    if records(a) != records(b):
        fail("the image records differ between %s and %s" % (a, b))
    print("ok: %s and %s hold the same results (%d images)" % (a, b, len(records(a))))


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for c in data:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h


def whole(out):
    path = os.path.join(out, "state.jsonl")
    if not os.path.exists(path):
        if os.path.exists(os.path.join(out, "summary.json")):
            fail("%s: summary.json without state.jsonl" % out)
        return 0
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    cut = lines.pop()  # after the last newline: empty, or a line cut short
    if not lines:
        fail("%s: state.jsonl has no whole header line" % out)
    for k, line in enumerate(lines):
        try:
            json.loads(line)
        except ValueError:
            fail("%s: state.jsonl line %d is not JSON" % (out, k + 1))
    spath = os.path.join(out, "summary.json")
    if os.path.exists(spath):
        s = summary(out)
        if s["images"] != len(lines) - 1 or cut:
            fail("%s: summary.json covers %d images, state.jsonl holds %d records%s"
                 % (out, s["images"], len(lines) - 1, " and a cut line" if cut else ""))
        files = s.get("files")
        if not files:
            fail("%s: summary.json names no CSV file hashes" % out)
        for name in ("summary.csv", "layers.csv", "flips.csv"):
            try:
                with open(os.path.join(out, name), "rb") as f:
                    got = fnv1a64(f.read())
            except OSError as e:
                fail("%s: summary.json is there but %s is not: %s" % (out, name, e))
            if got != files.get(name):
                fail("%s: %s has hash %s, summary.json names %s" % (out, name, got, files.get(name)))
    return len(lines) - 1


def without_timing(path):
    with open(path, "rb") as f:
        text = f.read()
    # the one field that differs between equal runs (docs/diff.md)
    return re.sub(rb'"ms_per_input_this_run":\s*[^\s}]+', b'"ms_per_input_this_run": T', text)


def exact(a, b):
    for name in ("state.jsonl", "summary.csv", "layers.csv", "flips.csv"):
        with open(os.path.join(a, name), "rb") as fa, open(os.path.join(b, name), "rb") as fb:
            if fa.read() != fb.read():
                fail("%s differs between %s and %s" % (name, a, b))
    if without_timing(os.path.join(a, "summary.json")) != without_timing(os.path.join(b, "summary.json")):
        fail("summary.json (timing aside) differs between %s and %s" % (a, b))


def bundle(d):
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.load(f)
    n = 0
    for im in m["images"]:
        for v in m["values"]:
            a = np.load(os.path.join(d, im["dir"], v["file"]))
            if list(a.shape) != v["shape"] or str(a.dtype) != v["dtype"]:
                fail("%s/%s: %s %s, manifest %s %s" % (im["dir"], v["file"], a.shape, a.dtype, v["shape"], v["dtype"]))
            if not np.isfinite(a).all():
                fail("%s/%s: not finite" % (im["dir"], v["file"]))
            n += 1
    print("ok: numpy.load read %d arrays of %d images (model hash %s, variant %s)"
          % (n, len(m["images"]), m["model"]["hash"], m["variant"]))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"planted": lambda: planted(args[0], args[1:]), "flips": lambda: flips(args[0]),
     "clean": lambda: clean(args[0]), "margin": lambda: margin(args[0]), "same": lambda: same(args[0], args[1]),
     "bundle": lambda: bundle(args[0]), "verdicts": lambda: verdicts(args[0], args[1], args[2]),
     "whole": lambda: print(whole(args[0])), "exact": lambda: exact(args[0], args[1])}[cmd]()


if __name__ == "__main__":
    main()
