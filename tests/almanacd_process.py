"""A real almanacd process for the whole-process tests in tests/, and how to talk to it.

Contract:
- Daemon(home, *flags, argv_prefix=()) starts //ctl:almanacd with `--home home` and
  `flags` as given, and returns once the daemon printed "admin API listening on
  http://HOST:PORT" (and, when flags hold --replication-listen, also "replication
  listening on HOST:PORT"). It adds only --api-listen 127.0.0.1:0, --zt-listen
  127.0.0.1:0 and --zeroed-log-mib 1, each unless flags name it (with dashes or
  underscores): every other option (--snapshot-every, --seal-every-seconds, ...) is the
  test's to pass. The journal's zeroed log spare works the same at 1 MiB, and keeps the
  tests' many starts cheap on disk.
  `argv_prefix` goes before the binary (e.g. ["ip", "netns", "exec", NS]; it must exec
  almanacd so that signals reach it). If the daemon exits before saying where it
  listens, raises AssertionError holding all it printed.
- Once started: .home; .host, .port and .url ("HOST:PORT") of the admin API;
  .replication ("HOST:PORT", or None without --replication-listen); .token, read from
  home/authtoken.secret. The daemon's stdout and stderr are read by a thread for its
  whole life (it never blocks on a full pipe) and kept: output() returns all of it so far.
- d.request(method, path, body=None, conn=None, raw=False): one request with d's token,
  on `conn` (kept open) or on a connection of its own; see request() below.
  d.connect(): a new keep-alive connection (30 s timeout). d.status(): GET /status,
  asserted 200, parsed.
- d.kill(): SIGKILL unless it already exited, waits, returns the exit code (-9 when the
  signal killed it). d.stop(timeout_s=60): SIGTERM unless it already exited, waits,
  returns the exit code (raises subprocess.TimeoutExpired if it did not exit in time).
  Either may follow the other; the output stays readable. A daemon still running when
  the test process exits (a test failed before stopping it) is killed then, so no
  almanacd outlives its test.
- request(conn, token, ...), wait_for(...), standby_home(...), wait_caught_up(...):
  module functions, documented where they are defined.

Thread safety: request, connect, status and output may be called from any thread (each
thread on its own connection); start, kill and stop from one thread.
Paths: ALMANACD, ALMANAC (the CLI) in the runfiles; TMP is $TEST_TMPDIR.
"""

import atexit
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
HTTP_TIMEOUT_S = 30
POLL_INTERVAL_S = 0.02
_running = set()  # Daemons started and not yet killed or stopped


@atexit.register
def _kill_running():
    for daemon in list(_running):
        daemon.kill()


def _names(flags):
    """The flag names in `flags`, spelled with dashes as almanacd documents them."""
    return {f.split("=", 1)[0].replace("_", "-") for f in flags if f.startswith("--")}


class Daemon:
    """A running almanacd; see the module's contract."""

    def __init__(self, home, *flags, argv_prefix=()):
        self.home = home
        names = _names(flags)
        defaults = [(n, "127.0.0.1:0") for n in ("--api-listen", "--zt-listen")
                    if n not in names]
        if "--zeroed-log-mib" not in names:
            defaults.append(("--zeroed-log-mib", "1"))
        argv = list(argv_prefix) + [ALMANACD, "--home", home]
        for name, value in defaults:
            argv += [name, value]
        self.proc = subprocess.Popen(argv + list(flags), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        _running.add(self)
        self.drain = None  # the thread reading its output, once it listens
        self.lines = []
        self.lock = threading.Lock()
        self.host = self.port = self.replication = None
        wants_replication = "--replication-listen" in names
        for line in self.proc.stdout:  # blocks until the daemon says where it listens
            self.lines.append(line)
            m = re.search(r"replication listening on ([\d.]+:\d+)", line)
            if m:
                self.replication = m.group(1)
            m = re.search(r"admin API listening on http://([\d.]+):(\d+)", line)
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
            if self.port and (not wants_replication or self.replication):
                break
        if self.port is None or (wants_replication and self.replication is None):
            self.proc.wait(timeout=30)
            self._close()
            raise AssertionError("almanacd did not start:\n" + "".join(self.lines))
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()
        with open(os.path.join(home, "authtoken.secret")) as f:
            self.token = f.read().strip()

    @property
    def url(self):
        return "%s:%d" % (self.host, self.port)

    def _drain(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line)

    def output(self):
        with self.lock:
            return "".join(self.lines)

    def connect(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT_S)

    def request(self, method, path, body=None, conn=None, raw=False):
        own = conn is None
        conn = conn or self.connect()
        try:
            return request(conn, self.token, method, path, body, raw=raw)
        finally:
            if own:
                conn.close()

    def status(self):
        code, body = self.request("GET", "/status")
        assert code == 200, (code, body)
        return body

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._close()
        return self.proc.returncode

    def stop(self, timeout_s=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=timeout_s)
        self._close()
        return self.proc.returncode

    def _close(self):
        _running.discard(self)
        if self.drain is not None:
            self.drain.join(timeout=30)
        if not self.proc.stdout.closed:
            self.proc.stdout.close()


def request(conn, token, method, path, body=None, raw=False):
    """Sends `body` (as JSON when not None) with the admin token on `conn`. Returns
    (status, body): with raw, the body's bytes; otherwise the parsed JSON, None when
    empty, or the text when it is not JSON (/metrics). Raises OSError or
    http.client.HTTPException when the daemon died or closed the connection."""
    data = None if body is None else json.dumps(body)
    conn.request(method, path, body=data, headers={"X-ZT1-Auth": token,
                                                   "Content-Type": "application/json"})
    resp = conn.getresponse()
    content = resp.read()
    if raw:
        return resp.status, content
    try:
        return resp.status, json.loads(content) if content else None
    except ValueError:
        return resp.status, content.decode(errors="replace")


def wait_for(predicate, timeout_s=30, what="condition"):
    """Calls predicate() every POLL_INTERVAL_S until it is true; raises AssertionError
    naming `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(POLL_INTERVAL_S)
    raise AssertionError("timed out waiting for " + what)


def standby_home(primary_home, name):
    """A new home TMP/name holding the primary's identity (a standby must be that
    identity)."""
    home = os.path.join(TMP, name)
    os.makedirs(home)
    for f in ("identity.secret", "identity.public"):
        shutil.copy(os.path.join(primary_home, f), os.path.join(home, f))
    return home


def wait_caught_up(primary, standby, timeout_s=30):
    """Until the standby's lastSeq and chainHash equal the primary's; returns both
    /status bodies. Raises AssertionError showing both after timeout_s."""
    seen = {}

    def same():
        p, s = primary.status(), standby.status()
        seen["p"], seen["s"] = p, s
        return p["lastSeq"] == s["lastSeq"] and p["chainHash"] == s["chainHash"]
    try:
        wait_for(same, timeout_s, "the standby to catch up")
    except AssertionError:
        raise AssertionError("standby not caught up: primary %r, standby %r"
                             % (seen.get("p"), seen.get("s")))
    return seen["p"], seen["s"]
