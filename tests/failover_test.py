"""Failover test in sync mode: no acknowledged change is lost when the primary dies.

Goal (issue 6, acceptance "failover test in sync mode"): with --sync-standby, changes
stream from 8 connections, the primary is killed with SIGKILL, the standby is promoted
(`almanac promote`), and every change the primary acknowledged is on the new primary,
which then takes writes; the old primary, restarted as a standby of the new one, refuses
writes and catches up to the same chain hash (a tail only it had is cut and saved).
Method: //ctl:almanacd three times and //tools:almanac, homes under $TEST_TMPDIR. Each
member is written by one thread only, so its acknowledged value is exact; a change whose
answer never came (in flight at the kill) may or may not be there.
"""

import http.client
import os
import random
import subprocess
import threading
import time
import unittest

from almanacd_process import (ALMANAC, Daemon, TMP, request, standby_home, wait_caught_up,
                              wait_for)

CONNECTIONS = 8
# No timed seals: a seal is a journal record, and the test compares lastSeq across daemons.
NO_SEAL_TIMER = ("--seal-every-seconds", "0")


class Writer(threading.Thread):
    def __init__(self, index, daemon, nwid):
        super().__init__(daemon=True)
        self.index, self.d, self.nwid = index, daemon, nwid
        self.acked = {}     # address -> acknowledged name
        self.maybe = {}     # address -> name in flight at the kill
        self.error = None
        self.count = 0

    def run(self):
        conn = self.d.connect()
        rng = random.Random(self.index)
        try:
            while True:
                address = "%010x" % (0x3000000000 + self.index * 100000 + rng.randrange(400))
                name = "w%d-%d" % (self.index, self.count)
                self.maybe[address] = name
                code, got = request(conn, self.d.token, "POST",
                                    "/controller/network/%s/member/%s" % (self.nwid, address),
                                    {"name": name})
                if code != 200 or got.get("name") != name:
                    self.error = (code, got)
                    return
                self.acked[address] = name
                del self.maybe[address]
                self.count += 1
        except (OSError, http.client.HTTPException):
            pass  # the primary was killed
        finally:
            conn.close()


class FailoverTest(unittest.TestCase):

    def test_sync_failover_loses_no_acknowledged_change(self):
        a_home = os.path.join(TMP, "a")
        a = Daemon(a_home, *NO_SEAL_TIMER, "--replication-listen", "127.0.0.1:0",
                   "--sync-standby", "--sync-timeout-ms", "10000", "--sync-fallback", "refuse")
        b_home = standby_home(a_home, "b")
        b = Daemon(b_home, *NO_SEAL_TIMER, "--standby-of", a.replication,
                   "--replication-listen", "127.0.0.1:0")
        daemons = [a, b]
        try:
            self.run_failover(a, b, a_home, daemons)
        finally:
            for d in daemons:
                d.stop()

    def run_failover(self, a, b, a_home, daemons):
        wait_for(lambda: a.status()["replication"]["standbys"] == 1, 10, "the standby")
        controller = a.status()["address"]
        code, net = a.request("POST", "/controller/network/%s______" % controller,
                              {"name": "failover"})
        self.assertEqual(code, 200, net)
        nwid = net["id"]
        # Sync: acknowledged means the standby has it already.
        self.assertEqual(b.status()["lastSeq"], a.status()["lastSeq"])

        writers = [Writer(i, a, nwid) for i in range(CONNECTIONS)]
        for w in writers:
            w.start()
        time.sleep(2.0)
        self.assertEqual(a.kill(), -9, a.output())  # it was alive until the kill
        for w in writers:
            w.join(timeout=30)
        for w in writers:
            self.assertIsNone(w.error)
        acked = sum(w.count for w in writers)
        self.assertGreater(acked, 50, "too few changes before the kill")

        t0 = time.monotonic()
        promote = subprocess.run([ALMANAC, "promote", "--home", b.home],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(promote.returncode, 0, promote.stderr)
        self.assertIn("promoted", promote.stdout)
        code, created = b.request("POST", "/controller/network/%s______" % controller,
                                  {"name": "after-failover"})
        promote_to_write_ms = (time.monotonic() - t0) * 1000
        self.assertEqual(code, 200, created)
        print("promote (CLI) to first write answered: %.0f ms" % promote_to_write_ms)
        status = b.status()
        self.assertEqual(status["role"], "primary")
        self.assertEqual(status["epoch"], 2)
        # Promoting twice is refused.
        code, body = b.request("POST", "/status/promote")
        self.assertEqual(code, 409, body)

        conn = b.connect()
        for w in writers:
            for address, name in w.acked.items():
                code, got = request(conn, b.token, "GET",
                                    "/controller/network/%s/member/%s" % (nwid, address))
                self.assertEqual(code, 200, "acknowledged member %s lost" % address)
                self.assertIn(got["name"], (name, w.maybe.get(address)),
                              "member %s: acknowledged %r" % (address, name))
        conn.close()

        # The old primary comes back as a standby of the new one.
        a2 = Daemon(a_home, *NO_SEAL_TIMER, "--standby-of", b.replication)
        daemons.append(a2)
        self.assertEqual(a2.status()["role"], "standby")
        code, body = a2.request("POST", "/controller/network/%s______" % controller,
                                {"name": "split-brain"})
        self.assertEqual(code, 503, body)
        p, s = wait_caught_up(b, a2)
        self.assertEqual(s["epoch"], 2)
        code, net_b = b.request("GET", "/controller/network/" + created["id"])
        self.assertEqual(a2.request("GET", "/controller/network/" + created["id"]),
                         (code, net_b))
        out = a2.output()
        if "CUT " in out:
            cut = [f for f in os.listdir(a_home) if f.startswith("cut-")]
            self.assertEqual(len(cut), 1, out)
        print("old primary rejoined; cut report: %s"
              % ("yes" if "CUT " in out else "nothing to cut"))


if __name__ == "__main__":
    unittest.main()
