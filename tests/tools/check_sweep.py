#!/usr/bin/python3
"""Checks a `deltakern sweep -o` result and its printed table.

usage: check_sweep.py SWEEP.json TABLE.txt NODE [NODE...]

Every node asked for has one row per option combination, the combinations
are the full product of the swept options' values, exactly one row is marked
fastest and one most accurate (and they are the fastest and the most accurate
rows), every fp32 row ran and is within tolerance (worst ratio <= 1), and the
printed table carries the same marks."""
import itertools
import json
import sys


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    path, table_path, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(path) as f:
        r = json.load(f)
    combos = r["combinations"]
    if len(set(combos)) != len(combos):
        fail("duplicate combinations: %s" % combos)
    # the full product of the per-key values
    keys, values = [], {}
    for c in combos:
        if c == "(defaults)":
            continue
        for kv in c.split(","):
            k, v = kv.split("=", 1)
            if k not in values:
                keys.append(k)
                values[k] = []
            if v not in values[k]:
                values[k].append(v)
    want = 1
    for k in keys:
        want *= len(values[k])
    if keys and len(combos) != want:
        fail("%d combinations, the product of %s has %d" % (len(combos), values, want))
    print("%s: %d combinations over %s" % (r["backend"], len(combos), values))
    nodes = {n["name"]: n for n in r["nodes"]}
    if sorted(nodes) != sorted(set(names)):
        fail("nodes %s, asked for %s" % (sorted(nodes), names))
    with open(table_path) as f:
        table = f.read()
    for name in names:
        n = nodes[name]
        rows = n["rows"]
        if [x["options"] for x in rows] != combos:
            fail("%s: rows %s, combinations %s" % (name, [x["options"] for x in rows], combos))
        ok = [x for x in rows if x["ok"]]
        if not ok:
            fail("%s: no row ran" % name)
        fast = [x for x in rows if x.get("fastest")]
        acc = [x for x in rows if x.get("most_accurate")]
        if len(fast) != 1 or len(acc) != 1:
            fail("%s: %d fastest and %d most accurate marks" % (name, len(fast), len(acc)))
        if fast[0]["median_ms"] != min(x["median_ms"] for x in ok):
            fail("%s: the row marked fastest is not the fastest" % name)
        ratio = lambda x: float(x["worst_ratio"])
        if ratio(acc[0]) != min(ratio(x) for x in ok):
            fail("%s: the row marked most accurate is not the most accurate" % name)
        if n["fastest"] != fast[0]["options"] or n["most_accurate"] != acc[0]["options"]:
            fail("%s: node summary disagrees with the row marks" % name)
        if n["fastest_out_of_tolerance"] != (ratio(fast[0]) > 1):
            fail("%s: fastest_out_of_tolerance disagrees with the fastest row's ratio" % name)
        for x in rows:
            if not x["ok"]:
                print("  %s: %s refused: %s" % (name, x["options"], x["error"]))
                if "fpmath=bf16" not in x["options"]:
                    fail("%s: fp32 combination %s failed: %s" % (name, x["options"], x["error"]))
                continue
            if x["precision"] == "fp32" and not (ratio(x) <= 1 and x["within_tolerance"]):
                fail("%s: fp32 row %s out of tolerance (worst ratio %s)" % (name, x["options"], x["worst_ratio"]))
            if x["gflops"] <= 0 or x["median_ms"] <= 0:
                fail("%s: row %s has no time" % (name, x["options"]))
        print("  %s: fastest %s (%.4f ms), most accurate %s (ratio %.3g)" % (
            name, fast[0]["options"], fast[0]["median_ms"], acc[0]["options"], ratio(acc[0])))
        # the printed block of this node has the same marks
        block = table.split("\n" + name + "  ", 1)
        if len(block) != 2:
            fail("%s: not in the printed table" % name)
        block = block[1].split("\n\n", 1)[0]
        lines = block.splitlines()
        if sum(1 for l in lines if " FASTEST" in l and "FASTEST OUT OF TOLERANCE" not in l) != 1:
            fail("%s: the table has not exactly one FASTEST mark" % name)
        if sum(1 for l in lines if "MOST-ACCURATE" in l) != 1:
            fail("%s: the table has not exactly one MOST-ACCURATE mark" % name)
        if ("FASTEST OUT OF TOLERANCE" in block) != n["fastest_out_of_tolerance"]:
            fail("%s: the table's out-of-tolerance flag disagrees with the JSON" % name)
    if not isinstance(r.get("environment"), dict) or not isinstance(r.get("topology"), dict):
        fail("environment or topology missing")
    print("ok")


main()
