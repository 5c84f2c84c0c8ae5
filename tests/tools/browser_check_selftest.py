#!/usr/bin/python3
"""browser_check.py against small pages with one known fault each: the good
page must pass and every faulty one must fail for its own reason. Exits 77
(skip) when Chromium cannot start here, as browser_check.py says.

usage: browser_check_selftest.py [WORKDIR]   (default: a temporary directory)
"""
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser_check.py")

STYLE = """
body { font-family: sans-serif; margin: 1em; color: #222; background: #fff; }
h1 { background: #234; color: #fff; padding: 8px; }
.wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; min-width: 700px; }
th, td { border: 1px solid #ccc; padding: 2px 8px; }
th { cursor: pointer; background: #eee; }
svg.plot { display: block; max-width: 100%; height: auto; }
"""

PLOT = """<svg class="plot" viewBox="0 0 600 300" width="600" height="300">
 <line x1="40" y1="260" x2="580" y2="260" stroke="#000"/>
 <line x1="40" y1="20" x2="40" y2="260" stroke="#000"/>
 <text x="300" y="290" text-anchor="middle" font-size="12">layer</text>
 <polyline fill="none" stroke="#1f77b4" stroke-width="2"
   points="40,240 120,200 200,210 280,120 360,140 440,60 520,90"/>
 <circle cx="120" cy="200" r="5" fill="#d62728"/><circle cx="280" cy="120" r="5" fill="#d62728"/>
 <circle cx="440" cy="60" r="5" fill="#d62728"/>
</svg>"""

TABLE = """<div class="wrap"><table class="sortable">
<thead><tr><th>layer</th><th>time (ms)</th><th>max error</th></tr></thead>
<tbody>
<tr><td>conv1</td><td data-sort="12.5">12.5</td><td data-sort="1e-6">1.0e-6</td></tr>
<tr><td>conv2</td><td data-sort="1234.5">1,234.5</td><td data-sort="3e-5">3.0e-5</td></tr>
<tr><td>relu</td><td data-sort="9">9.0</td><td data-sort="0">0</td></tr>
<tr><td>fc</td><td data-sort="100">100.0</td><td data-sort="2e-7">2.0e-7</td></tr>
<tr><td>conv3</td><td data-sort="25">25.0</td><td data-sort="5e-6">5.0e-6</td></tr>
</tbody></table></div>"""

# The page contract: a click on a th sorts the body rows by that column,
# toggling the direction; numeric keys come from data-sort when present.
SORT = """
document.querySelectorAll('table.sortable').forEach(t => {
  t.querySelectorAll('thead th').forEach((th, i) => th.addEventListener('click', () => {
    const asc = th.dataset.dir !== 'asc';
    th.dataset.dir = asc ? 'asc' : 'desc';
    const key = td => { const s = td.dataset.sort ?? td.textContent; const n = parseFloat(s);
                        return isNaN(n) ? s : n; };
    const rows = Array.from(t.tBodies[0].rows);
    rows.sort((a, b) => { const x = key(a.cells[i]), y = key(b.cells[i]);
                          return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); });
    rows.forEach(r => t.tBodies[0].appendChild(r));
  }));
});
"""

# faulty sorters: the handler throws; it compares the shown text as strings
# ("1,234.5" < "100.0" < "12.5" < "25.0" < "9.0"); it never toggles
SORT_THROWS = SORT.replace("rows.sort(", "rows.sortt(")
SORT_AS_TEXT = SORT.replace("const s = td.dataset.sort ?? td.textContent; const n = parseFloat(s);",
                            "const s = td.textContent; const n = NaN;")
SORT_NO_TOGGLE = SORT.replace("const asc = th.dataset.dir !== 'asc';", "const asc = true;")


def page(body=PLOT + TABLE, script=SORT, head=""):
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>deltakern report</title><style>%s</style>%s</head>\n"
            "<body><h1>deltakern report</h1><p>Per-layer differences, self-contained.</p>\n"
            "%s\n<script>%s</script></body></html>\n" % (STYLE, head, body, script))


# name, page, extra arguments, expected exit status, words the output must hold
CASES = [
    ("good", page(), [], 0, ["OK:", "sorting: column 'time (ms)' sorts ascending",
                             "no sideways scrolling", "plot 1:"]),
    ("good, no table: sorting skipped", page(body=PLOT), [], 0, ["sorting: skipped"]),
    ("console.error", page(script=SORT + 'console.error("x");'), [], 1, ["console.error: x"]),
    ("console.assert", page(script=SORT + 'console.assert(1 === 2, "sum");'), [], 1,
     ["console.assert"]),
    ("script throws", page(script=SORT + 'null.f();'), [], 1, ["uncaught exception"]),
    ("script throws later, in a timer", page(script=SORT + 'setTimeout(() => { throw new Error("late"); }, 20);'),
     [], 1, ["uncaught exception", "late"]),
    ("external image", page(body=PLOT + TABLE + '<img src="http://example.invalid/x.png" alt="">'),
     [], 1, ["non-local URL: http://example.invalid/x.png", "failed request"]),
    ("fetch() from a script", page(script=SORT + 'fetch("https://example.com/data.json").catch(() => {});'),
     [], 1, ["non-local URL: https://example.com/data.json"]),
    ("blank page, --min-plots 1", "<!doctype html><html><body></body></html>\n", ["--min-plots", "1"], 1,
     ["blank", "0 element(s) match 'svg.plot', 1 expected"]),
    ("empty plot (axes box only, no marks)",
     page(body='<svg class="plot" width="600" height="300"></svg>' + TABLE), [], 1, ["plot 1 ("]),
    ("two plots wanted, one present", page(), ["--min-plots", "2"], 1, ["1 element(s) match"]),
    ("sort script throws", page(script=SORT_THROWS), [], 1, ["uncaught exception", "not sorted"]),
    ("sort compares text", page(script=SORT_AS_TEXT), [], 1, ["not sorted after one click"]),
    ("sort never toggles", page(script=SORT_NO_TOGGLE), [], 1, ["did not reverse"]),
    ("2000 px wide div", page(body=PLOT + TABLE + '<div style="width:2000px">wide</div>'), [], 1,
     ["phone width 390: the page scrolls sideways"]),
]


def run(path, shot, extra):
    r = subprocess.run([CHECKER, path, "--screenshot", shot] + extra, capture_output=True,
                       text=True, timeout=400)
    return r.returncode, r.stdout + r.stderr


def judge(name, want, words, code, out, shot):
    print("check: %s -> exit %d" % (name, want))
    missing = [w for w in words if w not in out]
    shots = [p for p in (shot, shot[:-4] + ".phone.png")
             if want == 0 and not (os.path.exists(p) and os.path.getsize(p))]
    if code != want or missing or shots:
        print("  FAILED: exit %d, wanted %d; missing from the output: %s; screenshots "
              "missing: %s\n  %s" % (code, want, missing, shots, out.strip().replace("\n", "\n  ")))
        return 1
    print("  ok: " + out.strip().splitlines()[0])
    return 0


def main(work):
    jobs = []
    for i, (name, html, extra, want, words) in enumerate(CASES):
        path = os.path.join(work, "page%02d.html" % i)
        with open(path, "w") as f:
            f.write(html)
        jobs.append((path, os.path.join(work, "page%02d.png" % i), extra))
    # the good page alone first: when it cannot start a browser, nothing can
    code, out = run(*jobs[0])
    if code == 77:
        print(out.strip())
        return 77
    # the others three at a time: a check mostly waits on the browser, and
    # one after the other they would take minutes on a busy machine
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        results = [(code, out)] + list(pool.map(lambda job: run(*job), jobs[1:]))
    failures = 0
    for (name, _, _, want, words), (code, out), job in zip(CASES, results, jobs):
        failures += judge(name, want, words, code, out, job[1])
    # bad usage, and the skip when the browser cannot start
    print("check: a missing page -> exit 2")
    code, out = run(os.path.join(work, "nonexistent.html"), os.path.join(work, "x.png"), [])
    failures += code != 2
    print("  %s: exit %d" % ("ok" if code == 2 else "FAILED", code))
    # a browser that dies at once, saying why (as one without a display or
    # shared memory would): its own words must reach the skip line
    dying = os.path.join(work, "dying_browser")
    with open(dying, "w") as f:
        f.write("#!/bin/sh\necho 'cannot start: no shared memory' >&2\nexit 1\n")
    os.chmod(dying, 0o755)
    for binary, reason in (("/nonexistent", "/nonexistent not found"),
                           (dying, "exited with status 1: cannot start: no shared memory")):
        print("check: DK_CHROMIUM=%s -> exit 77 with the reason" % binary)
        env = dict(os.environ, DK_CHROMIUM=binary)
        r = subprocess.run([CHECKER, os.path.join(work, "page00.html"), "--screenshot",
                            os.path.join(work, "x.png")], capture_output=True, text=True,
                           env=env, timeout=400)
        ok = r.returncode == 77 and "SKIP: chromium cannot start: " + reason in r.stdout
        failures += not ok
        print("  %s: exit %d: %s" % ("ok" if ok else "FAILED", r.returncode, r.stdout.strip()))
    print("browser_check selftest: %d of %d checks failed" % (failures, len(CASES) + 3))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) > 1:   # a fresh one: no screenshot left from an earlier run
        shutil.rmtree(sys.argv[1], ignore_errors=True)
        os.makedirs(sys.argv[1])
        sys.exit(main(sys.argv[1]))
    with tempfile.TemporaryDirectory(prefix="dk_browser_selftest_") as d:
        sys.exit(main(d))
