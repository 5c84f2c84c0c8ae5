#!/usr/bin/python3
"""Loads one self-contained HTML page (a `deltakern report`) in headless
Chromium with networking off and fails on anything a reader would see go
wrong: console errors, uncaught exceptions, failed or outgoing requests, a
blank screenshot, empty plots, a page wider than a phone, a sortable table
that does not sort.

usage: browser_check.py PAGE.html --screenshot OUT.png [--width 1280]
         [--height 900] [--phone-width 390] [--plot-selector 'svg.plot']
         [--min-plots N] [--sort-selector 'table.sortable'] [--timeout 30]

Exit 0: all checks passed; 1: a check failed (one line per problem);
2: bad usage; 77: Chromium cannot start here (the reason is printed).
DK_CHROMIUM names the browser binary (default `chromium`).
"""
import argparse
import base64
import os
import shutil
import signal
import sys
import time

from browser_cdp import Browser, BrowserGone, ProtocolError, ProtocolTimeout, netns_works
from png_pixels import drawn_share, read_png

LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
MAX_SHOT_HEIGHT = 16000   # CSS px; a report longer than this is cut, not refused
MIN_PLOT_SHARE = 0.005    # drawn pixels in a plot's box
MIN_BLANK_SHARE = 0.01    # pixels unlike the background in the whole page

# Finds a sortable table and a numeric column, clicks its header twice and
# returns the column's values after each click (the judging is in Python).
SORT_JS = r"""
(async (sel) => {
  const num = (td) => {
    if (!td) return NaN;
    const s = td.hasAttribute('data-sort') ? td.getAttribute('data-sort') : td.textContent;
    return parseFloat(s.replace(/[,\s]/g, ''));
  };
  const tables = Array.from(document.querySelectorAll(sel));
  const table = tables.find(t => t.tBodies.length && t.tBodies[0].rows.length >= 3);
  if (!table) return {skip: tables.length + ' table(s) match, none has 3 body rows'};
  const ths = Array.from(table.querySelectorAll('thead tr:last-child th'));
  const column = (i) => Array.from(table.tBodies[0].rows).map(r => num(r.cells[i]));
  const col = ths.findIndex((th, i) => {
    const v = column(i);
    return v.every(Number.isFinite) && new Set(v).size > 1;
  });
  if (col < 0) return {skip: 'no column of the first sortable table is numeric'};
  const settle = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)));
  const rows = table.tBodies[0].rows.length;
  const before = column(col);
  ths[col].click(); await settle();
  const first = column(col);
  ths[col].click(); await settle();
  const second = column(col);
  return {header: ths[col].textContent.trim(), rows, before, first, second,
          rowsAfter: table.tBodies[0].rows.length};
})
"""

SIZE_JS = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"

BOXES_JS = r"""
((sel, n) => Array.from(document.querySelectorAll(sel)).slice(0, n).map(e => {
  const r = e.getBoundingClientRect();
  return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height];
}))
"""


class Timeout(Exception):
    pass


class Page:
    """One tab of the browser: evaluates JS, loads, screenshots."""

    def __init__(self, browser, timeout):
        self.b, self.timeout = browser, timeout
        target = self.b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.sid = self.b.call("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.call(domain + ".enable")

    def call(self, method, params=None):
        return self.b.call(method, params, self.sid, timeout=self.timeout)

    def eval(self, expr, await_promise=False):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": await_promise})
        if "exceptionDetails" in r:
            raise ProtocolError("the checker's own script failed: %s"
                                % r["exceptionDetails"].get("exception", {}).get("description"))
        return r["result"].get("value")

    def load(self, method, params):
        """Navigates or reloads; returns seconds to the load event."""
        since, start = len(self.b.events), time.monotonic()
        r = self.call(method, params)
        if r.get("errorText"):
            raise ProtocolError("navigation failed: %s" % r["errorText"])
        try:
            self.b.wait_event("Page.loadEventFired", self.sid, since, self.timeout)
        except ProtocolTimeout:
            seen = [m for sid, m, _ in self.b.events[since:] if sid == self.sid]
            try:
                state = self.b.call("Runtime.evaluate", {"expression": "document.readyState",
                                    "returnByValue": True}, self.sid, timeout=5)["result"].get("value")
            except (ProtocolTimeout, ProtocolError) as e:
                state = "unknown (%s)" % e
            raise ProtocolTimeout("the page did not finish loading within %d s (readyState %s; "
                                  "events since the navigation: %s)"
                                  % (self.timeout, state, " ".join(seen[-8:]) or "none"))
        elapsed = time.monotonic() - start
        self.settle()
        return elapsed

    def settle(self):
        """Two frames and a short wait: late errors (timers, first paint) arrive."""
        self.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
                  "() => setTimeout(r, 200))))", await_promise=True)

    def screenshot(self, path):
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        w, h = int(size["width"] + 0.999), int(min(size["height"], MAX_SHOT_HEIGHT) + 0.999)
        # optimizeForSpeed: rows filtered the cheap ways, which png_pixels
        # decodes with numpy (its byte-by-byte Paeth took 3 s a screenshot)
        shot = self.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True, "optimizeForSpeed": True,
            "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}})
        data = base64.b64decode(shot["data"])
        with open(path, "wb") as f:
            f.write(data)
        return read_png(data)


def problems_in(events):
    """One line per thing that went wrong, from the page's protocol events
    (browser-wide ones carry no session)."""
    urls, out = {}, []
    for sid, method, p in events:
        if sid is None:
            continue
        if method == "Network.requestWillBeSent":
            url = p["request"]["url"]
            urls[p["requestId"]] = url
            if not url.startswith(LOCAL_SCHEMES):
                out.append("request to a non-local URL: %s" % url)
        elif method == "Network.loadingFailed":
            # a reload cancels what was still loading: no fault of the page
            if not p.get("canceled"):
                out.append("failed request: %s (%s)" % (urls.get(p["requestId"], "?"), p["errorText"]))
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            what = d.get("exception", {}).get("description") or d.get("text", "")
            out.append("uncaught exception at line %s: %s"
                       % (d.get("lineNumber", -1) + 1, what.splitlines()[0] if what else "?"))
        elif method == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", a.get("type"))))
                            for a in p.get("args", []))
            out.append("console.%s: %s" % (p["type"], args))
        elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
            e = p["entry"]
            out.append("browser log error (%s): %s %s" % (e.get("source"), e.get("text"), e.get("url", "")))
    return list(dict.fromkeys(out))   # the phone reload repeats the desktop load's


def check_plots(page, pixels, args, fails, notes):
    if args.min_plots <= 0:
        notes.append("plots: not checked (--min-plots 0)")
        return
    boxes = page.eval("(%s)(%r, %d)" % (BOXES_JS, args.plot_selector, args.min_plots))
    if len(boxes) < args.min_plots:
        fails.append("plots: %d element(s) match %r, %d expected"
                     % (len(boxes), args.plot_selector, args.min_plots))
    for i, (x, y, w, h) in enumerate(boxes):
        x0, y0 = max(0, int(x)), max(0, int(y))
        x1, y1 = min(pixels.shape[1], int(x + w)), min(pixels.shape[0], int(y + h))
        crop = pixels[y0:y1, x0:x1]
        share, colors = drawn_share(crop)
        if y0 >= pixels.shape[0]:
            fails.append("plot %d (%r at %d,%d): below the screenshot, which stops at %d px"
                         % (i + 1, args.plot_selector, x, y, pixels.shape[0]))
        elif crop.size == 0 or share < MIN_PLOT_SHARE or colors < 2:
            fails.append("plot %d (%r at %d,%d %dx%d): %.2f%% drawn pixels in %d colour(s); "
                         "at least %.1f%% in 2 colours expected"
                         % (i + 1, args.plot_selector, x, y, w, h, 100 * share, colors,
                            100 * MIN_PLOT_SHARE))
        else:
            notes.append("plot %d: %dx%d px, %.1f%% drawn, %d colours" % (i + 1, w, h, 100 * share, colors))


def check_sort(page, args, fails, notes):
    r = page.eval("(%s)(%r)" % (SORT_JS, args.sort_selector), await_promise=True)
    if "skip" in r:
        notes.append("sorting: skipped (%s)" % r["skip"])
        return
    first, second = r["first"], r["second"]
    up = all(a <= b for a, b in zip(first, first[1:]))
    down = all(a >= b for a, b in zip(first, first[1:]))
    col = "column %r" % r["header"]
    if r["rowsAfter"] != r["rows"]:
        fails.append("sorting %s: %d body rows became %d" % (col, r["rows"], r["rowsAfter"]))
    elif not (up or down):
        fails.append("sorting %s: not sorted after one click: %s" % (col, first[:12]))
    elif second != first[::-1]:
        fails.append("sorting %s: a second click did not reverse the order: %s then %s"
                     % (col, first[:12], second[:12]))
    else:
        notes.append("sorting: %s sorts %s, then %s (%d rows)"
                     % (col, "ascending" if up else "descending",
                        "descending" if up else "ascending", r["rows"]))


def check_phone(page, args, fails, notes):
    page.call("Emulation.setDeviceMetricsOverride", {
        "width": args.phone_width, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    page.load("Page.reload", {"ignoreCache": True})
    # scrollWidth against the layout viewport (clientWidth): on a phone the
    # visual viewport (innerWidth) may zoom out to fit, hiding the overflow
    scroll_w, client_w = page.eval(SIZE_JS)
    if scroll_w > client_w + 1:
        fails.append("phone width %d: the page scrolls sideways (%d px wide in a %d px viewport)"
                     % (args.phone_width, scroll_w, client_w))
    else:
        notes.append("phone width %d: no sideways scrolling (%d px in %d px)"
                     % (args.phone_width, scroll_w, client_w))
    if client_w > args.phone_width + 1:
        notes.append("note: laid out %d px wide on a %d px phone (no viewport <meta>?)"
                     % (client_w, args.phone_width))
    phone_png = os.path.splitext(args.screenshot)[0] + ".phone.png"
    share, _ = drawn_share(page.screenshot(phone_png))
    if share <= MIN_BLANK_SHARE:
        fails.append("phone screenshot %s is blank (%.2f%% drawn)" % (phone_png, 100 * share))
    return phone_png


def run_checks(browser, args, page_path, fails, notes):
    page = Page(browser, args.timeout)
    page.call("Emulation.setDeviceMetricsOverride", {
        "width": args.width, "height": args.height, "deviceScaleFactor": 1, "mobile": False})
    load_s = page.load("Page.navigate", {"url": "file://" + page_path})
    notes.append("loaded in %.2f s" % load_s)
    pixels = page.screenshot(args.screenshot)
    share, _ = drawn_share(pixels)
    if share <= MIN_BLANK_SHARE:
        fails.append("screenshot %s is blank (%.2f%% of pixels unlike the background)"
                     % (args.screenshot, 100 * share))
    notes.append("screenshot %s: %dx%d px, %.1f%% drawn"
                 % (args.screenshot, pixels.shape[1], pixels.shape[0], 100 * share))
    check_plots(page, pixels, args, fails, notes)
    check_sort(page, args, fails, notes)
    notes.append("phone screenshot %s" % check_phone(page, args, fails, notes))


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("page")
    ap.add_argument("--screenshot", required=True)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--phone-width", type=int, default=390)
    ap.add_argument("--plot-selector", default="svg.plot")
    ap.add_argument("--min-plots", type=int, default=1)
    ap.add_argument("--sort-selector", default="table.sortable")
    ap.add_argument("--timeout", type=int, default=30, help="seconds per step (load, each call)")
    args = ap.parse_args(argv)   # exits 2 on bad usage
    if not os.path.isfile(args.page):
        ap.error("no such page: %s" % args.page)
    if not args.screenshot.endswith(".png"):
        ap.error("--screenshot must end in .png")
    out_dir = os.path.dirname(os.path.abspath(args.screenshot))
    if not os.path.isdir(out_dir):
        ap.error("no directory for the screenshot: %s" % out_dir)
    return args


def on_alarm(signum, frame):
    raise Timeout("the whole check took longer than its limit")


class Stopped(Exception):
    pass


def on_term(signum, frame):
    raise Stopped("stopped by signal %d" % signum)   # the finally kills the browser


def main(argv):
    args = parse_args(argv)
    page_path = os.path.abspath(args.page)
    binary = os.environ.get("DK_CHROMIUM", "chromium")
    if not shutil.which(binary):
        print("SKIP: chromium cannot start: %s not found (install the Debian package "
              "`chromium`, or set DK_CHROMIUM)" % binary)
        return 77
    netns = netns_works()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.timeout * 8)   # a few loads and calls; never hang forever
    fails, notes = [], []
    browser = Browser(binary, args.width, args.height, netns)
    try:
        try:  # start-up on a busy machine can take a while
            version = browser.call("Browser.getVersion", timeout=max(60, args.timeout))["product"]
        except BrowserGone as e:
            print("SKIP: chromium cannot start: %s" % e.reason)
            return 77
        run_checks(browser, args, page_path, fails, notes)
    except (ProtocolTimeout, Timeout) as e:
        fails.append("hang: %s" % e)
    except (BrowserGone, ProtocolError, Stopped) as e:
        fails.append("%s: %s" % (type(e).__name__, e))
    finally:
        signal.alarm(0)
        browser.close()
    # everything the page made the browser report, also after the clicks and
    # the reload, and also when a later step failed
    fails[:0] = problems_in(browser.events)
    network = ("own network namespace (unshare -n), " if netns else "no network namespace "
               "(unshare -n unavailable here), ") + "host-resolver-rules MAP * ~NOTFOUND, proxy 127.0.0.1:9"
    if fails:
        for f in fails:
            print("FAIL: %s" % f)
        print("  (%s; network off: %s)" % (args.page, network))
        return 1
    print("OK: %s (%d bytes) in %s" % (args.page, os.path.getsize(page_path), version))
    print("  network off: " + network)
    print("  checks: console, exceptions, requests, blank page, plots, sorting, phone width")
    for n in notes:
        print("  " + n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
