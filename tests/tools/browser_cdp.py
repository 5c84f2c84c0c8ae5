"""Headless Chromium driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: the browser reads commands on fd 3 and writes
replies and events on fd 4, each message JSON ending in a NUL byte).

Only the standard library: the checker must run on a bare Debian machine
with nothing but python3, numpy and the `chromium` package.
"""
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time


class BrowserGone(Exception):
    """The browser process ended; .reason holds its own first words."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class ProtocolTimeout(Exception):
    pass


class ProtocolError(Exception):
    pass


def netns_works():
    """True when `unshare -n` can give the browser an empty network namespace
    (root, or a kernel that allows it); then not even loopback is up."""
    if not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Browser:
    def __init__(self, binary, width, height, use_netns):
        self.profile = tempfile.mkdtemp(prefix="dk_browser_")
        self.stderr_path = os.path.join(self.profile, "stderr.txt")
        self.events = []          # (sessionId, method, params) in arrival order
        self.buf = b""
        self.next_id = 0
        self.proc = None
        args = [binary, "--headless=new", "--no-sandbox", "--disable-gpu",
                "--user-data-dir=" + os.path.join(self.profile, "profile"),
                "--remote-debugging-pipe",
                # belt and braces beside the namespace: no name resolves and
                # every connection goes to a closed local port
                "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                "--no-first-run", "--no-default-browser-check", "--disable-sync",
                "--disable-background-networking", "--disable-component-update",
                "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
                "--window-size=%d,%d" % (width, height), "about:blank"]
        if use_netns:
            args = ["unshare", "-n"] + args
        # The browser wants its ends of the pipes as fd 3 and 4 exactly; bash
        # moves them there and then execs (same pid all the way down). They
        # start at 10 or above so that neither can already sit on 3 or 4.
        cmd_r, self.cmd_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        cmd_r, rep_w = [self._high(fd) for fd in (cmd_r, rep_w)]
        move = 'exec 3<&%d 4>&%d %d<&- %d>&-; exec "$@"' % (cmd_r, rep_w, cmd_r, rep_w)
        err = open(self.stderr_path, "wb")
        try:
            # own process group: the cleanup kills the renderers and helpers too
            self.proc = subprocess.Popen(["/bin/bash", "-c", move, "bash"] + args,
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         pass_fds=(cmd_r, rep_w), start_new_session=True)
        finally:
            err.close()
            os.close(cmd_r)
            os.close(rep_w)

    @staticmethod
    def _high(fd):
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return high

    def stderr_lines(self, n=3):
        try:
            with open(self.stderr_path, errors="replace") as f:
                lines = [l.strip() for l in f if l.strip()]
        except OSError:
            return ""
        # the Debian launcher's own shell noise is no reason
        lines = [l for l in lines if "unexpected operator" not in l]
        return " | ".join(lines[:n]) or "(no output)"

    def _gone(self):
        code = self.proc.poll()
        raise BrowserGone("exited with status %s: %s" % (code, self.stderr_lines()))

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self.cmd_w, data):]
        except BrokenPipeError:
            self._gone()
        return self.next_id

    def _read_messages(self, deadline):
        """Reads what has arrived (waiting until deadline for something)."""
        wait = max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([self.rep_r], [], [], min(wait, 0.5))
        if not ready:
            if self.proc.poll() is not None:
                self._gone()
            return []
        chunk = os.read(self.rep_r, 1 << 20)
        if not chunk:
            self.proc.wait(timeout=10)
            self._gone()
        self.buf += chunk
        *parts, self.buf = self.buf.split(b"\0")
        return [json.loads(p) for p in parts if p]

    def _dispatch(self, msg, want_id):
        if "id" in msg:
            if msg["id"] == want_id:
                if "error" in msg:
                    return True, ProtocolError(msg["error"].get("message", msg["error"]))
                return True, msg.get("result", {})
            return False, None
        self.events.append((msg.get("sessionId"), msg.get("method"), msg.get("params", {})))
        return False, None

    def call(self, method, params=None, session=None, timeout=30):
        want = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = None
            # every message of the read is kept: events that came in behind
            # the answer are as much the page's as those before it
            for msg in self._read_messages(deadline):
                done, result = self._dispatch(msg, want)
                if done:
                    answer = result
            if isinstance(answer, ProtocolError):
                raise ProtocolError("%s: %s" % (method, answer))
            if answer is not None:
                return answer
        raise ProtocolTimeout("%s got no answer in %d s" % (method, timeout))

    def wait_event(self, method, session, since, timeout):
        """Waits for event `method` at or after index `since` of self.events."""
        deadline = time.monotonic() + timeout
        while True:
            for i in range(since, len(self.events)):
                if self.events[i][0] == session and self.events[i][1] == method:
                    return self.events[i][2]
            since = len(self.events)
            if time.monotonic() >= deadline:
                raise ProtocolTimeout("no %s within %d s" % (method, timeout))
            for msg in self._read_messages(deadline):
                self._dispatch(msg, None)

    def close(self):
        """Always ends the browser and everything it started, then its profile."""
        for fd in (self.cmd_w, self.rep_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.proc is not None:
            # the whole group at once, while the unreaped leader still holds its id
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            # orphaned helpers die a moment later; wait (a little) until none is left
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.killpg(self.proc.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        shutil.rmtree(self.profile, ignore_errors=True)
