#!/usr/bin/python3
"""Structure checks of a page written by `deltakern report`, against the
result files it was made from (never against numbers the report printed).

usage: check_report.py PAGE.html [--diff OUTDIR] [--bench RUN.json] [--compare CMP.json]

- the page is one file: no src/href to anything but data: URLs and #anchors,
  no <link>, no external script; every #anchor has its target; ids are unique;
- --diff: the diff section has its run table, the environment, one pairs row
  per pair in summary.json, one plot per variant, one layers row per row of
  layers.csv, one flips row per flip (up to the page's cap) each with a
  thumbnail that is a valid PNG when the input is an image;
- --bench: a bench section with a row per node of the first variant, a bar
  chart and a roofline plot;
- --compare: the story of the JSON, a waterfall plot, a row per node.
Prints what it checked; exit 1 on the first failure.
"""
import argparse
import base64
import csv
import html.parser
import json
import os
import sys


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.hrefs, self.srcs, self.tags = [], [], [], []
        self.svgs = []          # aria-label of each svg.plot
        self.sections = []      # (section id, [h2 texts])
        self.tables = []        # each: {"rows": [(tr id or None, [cell texts])], "class"}
        self.imgs = []          # (class, src)
        self.scripts = 0
        self.text_h2 = []
        self._cell = None
        self._row = None
        self._h2 = None
        self.story = []
        self._story = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if tag in ("img", "script", "iframe", "link", "source", "embed", "object") and ("src" in a or "href" in a):
            self.srcs.append((tag, a.get("src") or a.get("href")))
        if tag == "img":
            self.imgs.append((a.get("class", ""), a.get("src", "")))
        if tag == "script":
            self.scripts += 1
        if tag == "svg" and "plot" in a.get("class", "").split():
            self.svgs.append(a.get("aria-label", ""))
        if tag == "table":
            self.tables.append({"class": a.get("class", ""), "rows": [], "head": []})
        if tag == "tr" and self.tables:
            self._row = (a.get("id"), [])
        if tag in ("td", "th") and self._row is not None:
            self._cell = []
        if tag == "h2":
            self._h2 = []
        if tag == "p" and "story" in a.get("class", "").split():
            self._story = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row[1].append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None and self.tables:
            self.tables[-1]["rows"].append(self._row)
            self._row = None
        if tag == "h2" and self._h2 is not None:
            self.text_h2.append("".join(self._h2).strip())
            self._h2 = None
        if tag == "p" and self._story is not None:
            self.story.append("".join(self._story).strip())
            self._story = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._h2 is not None:
            self._h2.append(data)
        if self._story is not None:
            self._story.append(data)


def fail(msg):
    print(f"check_report: FAIL: {msg}")
    sys.exit(1)


def ok(msg):
    print(f"check_report: ok: {msg}")


def body_rows(t):
    return [r for r in t["rows"][1:]]  # the first row is the header


def table_with_header(page, first_col):
    for t in page.tables:
        if t["rows"] and t["rows"][0][1] and t["rows"][0][1][0] == first_col:
            yield t


def check_self_contained(page, text):
    for tag, src in page.srcs:
        if not src.startswith("data:"):
            fail(f"<{tag}> refers to {src!r}: the page must be complete in itself")
    for h in page.hrefs:
        if not h.startswith("#"):
            fail(f"a link leaves the page: {h!r}")
    ids = set(page.ids)
    if len(ids) != len(page.ids):
        dup = sorted({i for i in page.ids if page.ids.count(i) > 1})[:3]
        fail(f"ids not unique: {dup}")
    missing = sorted({h[1:] for h in page.hrefs if h[1:] not in ids})
    if missing:
        fail(f"{len(missing)} links without a target, e.g. {missing[:3]}")
    for bad in ("http://", "https://", "//cdn", "@import", "url("):
        if bad in text.replace('xmlns="http://www.w3.org/2000/svg"', ""):
            fail(f"the page mentions {bad!r}")
    ok(f"self-contained: {len(page.hrefs)} internal links resolve, {len(ids)} unique ids, no external reference")


def check_diff(page, outdir):
    summary = json.load(open(os.path.join(outdir, "summary.json")))
    run = summary["run"]
    if not any(h.startswith("diff:") and h.endswith(run["model"]) for h in page.text_h2):
        fail(f"no diff heading naming {run['model']} (headings {page.text_h2})")
    pairs = list(table_with_header(page, "a"))
    if not pairs or len(body_rows(pairs[0])) != len(summary["pairs"]):
        fail(f"the pairs table should have {len(summary['pairs'])} rows")
    for row, want in zip(body_rows(pairs[0]), summary["pairs"]):
        if row[1][0] != want["a"] or row[1][1] != want["b"] or int(row[1][3]) != want["label_differences"]:
            fail(f"pairs row {row[1][:4]} does not match summary.json {want}")
    ok(f"dataset table: {len(summary['pairs'])} pairs as in summary.json")
    for v in run["variants"]:
        if not any(s.startswith(v + ": error per node") for s in page.svgs):
            fail(f"no error-against-depth plot for variant {v}")
    ok(f"one error-against-depth plot per variant ({len(run['variants'])})")
    layers = list(csv.DictReader(open(os.path.join(outdir, "layers.csv"))))
    node_tables = list(table_with_header(page, "variant"))
    per_node = [t for t in node_tables if "isolated ratio max" in t["rows"][0][1]]
    if not per_node or len(body_rows(per_node[0])) != len(layers):
        fail(f"the per-node table should have {len(layers)} rows (layers.csv)")
    for row, want in zip(body_rows(per_node[0]), layers):
        if row[1][0] != want["variant"] or row[1][1] != want["node"]:
            fail(f"per-node row {row[1][:2]} is not layers.csv's {want['variant']}, {want['node']}")
        if not row[0]:
            fail(f"per-node row of {want['node']} has no id to link to")
    ok(f"per-node table: {len(layers)} rows, in layers.csv's order, each with an id")
    flips = summary["flips"]
    flip_tables = list(table_with_header(page, "input"))
    if flips:
        if not flip_tables:
            fail("no flips table")
        rows = body_rows(flip_tables[0])
        if len(rows) != len(flips):
            fail(f"{len(rows)} flip rows, summary.json has {len(flips)}")
        thumbs = [src for cls, src in page.imgs if "thumb" in cls]
        images = [f for f in flips if f["image"].lower().endswith((".png", ".jpg", ".jpeg"))]
        if len(thumbs) != len(images):
            fail(f"{len(thumbs)} thumbnails for {len(images)} flipped images")
        for src in thumbs:
            if not src.startswith("data:image/png;base64,"):
                fail("a thumbnail is not an inline PNG")
            png = base64.b64decode(src.split(",", 1)[1], validate=True)
            if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
                fail("a thumbnail is not a valid PNG")
            w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
            if not (0 < w <= 96 and 0 < h <= 96):
                fail(f"a thumbnail is {w}x{h}, larger than 96 pixels a side")
        ok(f"flips table: {len(flips)} rows, {len(thumbs)} inline PNG thumbnails of at most 96 px")
    elif flip_tables:
        fail("a flips table for a run without flips")
    else:
        ok("no flips, no flips table")


def check_bench(page, path):
    b = json.load(open(path))
    name = b["model"].get("name") or b["model"]["path"]
    if not any(h.startswith("bench:") for h in page.text_h2):
        fail("no bench heading")
    nodes = b["variants"][0]["nodes"]
    names = {n["name"] for n in nodes}
    best = None
    for t in page.tables:
        rows = body_rows(t)
        cells = {c for r in rows for c in r[1]}
        hit = len(names & cells)
        if hit == len(names) and (best is None or len(rows) < len(body_rows(best))):
            best = t
    if best is None:
        fail(f"no table lists every node of {name}")
    ok(f"a table lists all {len(names)} nodes of the first variant")
    if not any("roofline" in s.lower() for s in page.svgs):
        fail(f"no roofline plot (plots: {page.svgs})")
    if len([s for s in page.svgs if "roofline" not in s.lower()]) < 1:
        fail("no per-node time chart")
    ok(f"bench plots: {[s for s in page.svgs]}")


def check_compare(page, path):
    c = json.load(open(path))
    if not any(s == c["story"].strip() for s in page.story):
        fail(f"the story {c['story']!r} is not on the page")
    if not any("waterfall" in s.lower() for s in page.svgs):
        fail(f"no waterfall plot (plots: {page.svgs})")
    names = {n["name"] for n in c["nodes"]}
    if not any(len(names & {x for r in body_rows(t) for x in r[1]}) == len(names) for t in page.tables):
        fail("no table lists every compared node")
    ok(f"compare: story, waterfall, {len(names)} nodes in the table")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("page")
    ap.add_argument("--diff", action="append", default=[])
    ap.add_argument("--bench", action="append", default=[])
    ap.add_argument("--compare", action="append", default=[])
    a = ap.parse_args()
    text = open(a.page, encoding="utf-8").read()
    page = Page()
    page.feed(text)
    page.close()
    if not text.startswith("<!DOCTYPE html>") or not text.rstrip().endswith("</html>"):
        fail("not a whole HTML document")
    check_self_contained(page, text)
    for d in a.diff:
        check_diff(page, d)
    for b in a.bench:
        check_bench(page, b)
    for c in a.compare:
        check_compare(page, c)
    print(f"check_report: {a.page}: {len(text)} bytes, {len(page.svgs)} plots, {len(page.tables)} tables: all checks passed")


if __name__ == "__main__":
    main()
