"""Helpers for the primary/standby process tests (standby_test.py, failover_test.py):
start a real almanacd as a primary or a standby, talk to its admin API, wait for it."""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

WORKSPACE = os.environ.get("TEST_WORKSPACE", "almanac")
RUNFILES = os.path.join(os.environ.get("TEST_SRCDIR", ""), WORKSPACE)
ALMANACD = os.path.join(RUNFILES, "ctl", "almanacd")
ALMANAC = os.path.join(RUNFILES, "tools", "almanac")
TMP = os.environ.get("TEST_TMPDIR", "/tmp")


def standby_home(primary_home, name):
    """A new home holding the primary's identity (a standby must be that identity)."""
    home = os.path.join(TMP, name)
    os.makedirs(home)
    for f in ("identity.secret", "identity.public"):
        shutil.copy(os.path.join(primary_home, f), os.path.join(home, f))
    return home


class Daemon:
    """A running almanacd. Its output is kept (self.output) for assertions on logs."""

    def __init__(self, home, *flags):
        self.home = home
        self.proc = subprocess.Popen(
            [ALMANACD, "--home", home, "--api-listen", "127.0.0.1:0",
             "--zt-listen", "127.0.0.1:0", "--seal-every-seconds", "0"] + list(flags),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.lock = threading.Lock()
        self.host = self.port = self.replication = None
        for line in self.proc.stdout:  # until the daemon says where it listens
            self.lines.append(line)
            m = re.search(r"replication listening on ([\d.]+:\d+)", line)
            if m:
                self.replication = m.group(1)
            m = re.search(r"admin API listening on http://([\d.]+):(\d+)", line)
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
            if self.port and ("--replication-listen" not in flags or self.replication):
                break
        if self.port is None:
            self.proc.wait(timeout=30)
            raise AssertionError("almanacd did not start:\n" + "".join(self.lines))
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()
        with open(os.path.join(home, "authtoken.secret")) as f:
            self.token = f.read().strip()

    def _drain(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line)

    def output(self):
        with self.lock:
            return "".join(self.lines)

    def connect(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def request(self, method, path, body=None, conn=None):
        own = conn is None
        conn = conn or self.connect()
        try:
            return request(conn, self.token, method, path, body)
        finally:
            if own:
                conn.close()

    def status(self):
        code, body = self.request("GET", "/status")
        assert code == 200, (code, body)
        return body

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.drain.join(timeout=30)
        self.proc.stdout.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        self.drain.join(timeout=30)
        if not self.proc.stdout.closed:
            self.proc.stdout.close()
        return self.proc.returncode


def request(conn, token, method, path, body=None):
    """Returns (status, parsed body); raises OSError/HTTPException when the daemon died."""
    data = None if body is None else json.dumps(body)
    conn.request(method, path, body=data, headers={"X-ZT1-Auth": token,
                                                   "Content-Type": "application/json"})
    resp = conn.getresponse()
    raw = resp.read()
    try:
        return resp.status, json.loads(raw) if raw else None
    except ValueError:
        return resp.status, raw.decode(errors="replace")


def wait_for(predicate, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def wait_caught_up(primary, standby, timeout=30):
    """Until the standby's lastSeq and chainHash equal the primary's; returns both."""
    seen = {}

    def same():
        p, s = primary.status(), standby.status()
        seen["p"], seen["s"] = p, s
        return p["lastSeq"] == s["lastSeq"] and p["chainHash"] == s["chainHash"]
    try:
        wait_for(same, timeout, "the standby to catch up")
    except AssertionError:
        raise AssertionError("standby not caught up: primary %r, standby %r"
                             % (seen.get("p"), seen.get("s")))
    return seen["p"], seen["s"]
