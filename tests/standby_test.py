"""Standby test: a standby almanacd is an exact, read-only copy of its primary.

Goal (issue 6, acceptance "standby test"): a primary and a standby run as real processes;
after 10,000 changes through the primary's admin API, the standby's journal ends at the
same sequence number with the same chain hash, and its API answers the same GETs; it
refuses writes with a clear 503, and shows its role and lag in /status and /metrics.
Method: //ctl:almanacd twice (ports 0, homes under $TEST_TMPDIR, the standby's home holds
a copy of the primary's identity). 8 threads, each on its own keep-alive connection,
create and change members of one network; the standby follows while they run.
"""

import os
import socket
import subprocess
import threading
import unittest

from almanacd_process import (ALMANACD, Daemon, TMP, request, standby_home, wait_caught_up,
                              wait_for)

CHANGES = 10000
CONNECTIONS = 8
# No seals: a seal is a journal record the daemon appends on its own thread (after every
# 1,000 records or on a timer), and the test compares lastSeq across daemons and over
# time; with ~10,000 changes the count's seal can land after the test read lastSeq.
NO_SEALS = ("--seal-every-records", "0", "--seal-every-seconds", "0")


class StandbyTest(unittest.TestCase):

    def test_standby_is_an_exact_read_only_copy(self):
        primary_home = os.path.join(TMP, "primary")
        primary = Daemon(primary_home, *NO_SEALS, "--replication-listen", "127.0.0.1:0")
        standby = Daemon(standby_home(primary_home, "standby"), *NO_SEALS,
                         "--standby-of", primary.replication)
        try:
            self.run_changes_and_compare(primary, standby)
            self.refuse_strangers(primary, standby)
        finally:
            standby.stop()
            primary.stop()

    def run_changes_and_compare(self, primary, standby):
        s = standby.status()
        self.assertEqual(s["role"], "standby")
        self.assertEqual(primary.status()["role"], "primary")
        controller = primary.status()["address"]
        code, net = primary.request("POST", "/controller/network/%s______" % controller,
                                    {"name": "standby-test"})
        self.assertEqual(code, 200, net)
        nwid = net["id"]

        errors = []

        def worker(index):
            conn = primary.connect()
            try:
                for i in range(CHANGES // CONNECTIONS):
                    address = "%010x" % (0x2000000000 + index * 1000 + i % 250)
                    body = {"name": "m%d-%d" % (index, i), "authorized": i % 3 == 0}
                    code, got = request(conn, primary.token, "POST",
                                        "/controller/network/%s/member/%s" % (nwid, address),
                                        body)
                    if code != 200:
                        errors.append((code, got))
                        return
            finally:
                conn.close()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

        p, s = wait_caught_up(primary, standby)
        self.assertGreaterEqual(p["lastSeq"], CHANGES)
        self.assertEqual(s["replication"]["lagRecords"], 0)
        self.assertTrue(s["replication"]["connected"])
        self.assertEqual(p["replication"]["standbys"], 1)
        self.assertEqual(p["networks"], s["networks"])
        self.assertEqual(p["members"], s["members"])

        for path in ["/controller/network", "/controller/network/" + nwid,
                     "/controller/network/%s/member" % nwid,
                     "/unstable/controller/network",
                     "/unstable/controller/network/%s/member" % nwid,
                     "/controller/network/%s/member/%010x" % (nwid, 0x2000000000 + 1005)]:
            pc, pb = primary.request("GET", path)
            sc, sb = standby.request("GET", path)
            self.assertEqual(pc, 200, path)
            self.assertEqual((sc, sb), (pc, pb), path)

        # A standby never answers writes.
        code, body = standby.request("POST", "/controller/network/%s______" % controller,
                                     {"name": "nope"})
        self.assertEqual(code, 503, body)
        self.assertIn("standby", body["error"])
        code, body = standby.request("DELETE", "/controller/network/" + nwid)
        self.assertEqual(code, 503, body)
        self.assertEqual(standby.status()["lastSeq"], p["lastSeq"])

        code, metrics = standby.request("GET", "/metrics")
        self.assertEqual(code, 200)
        self.assertIn("almanac_replication_standby 1", metrics)
        self.assertIn("almanac_replication_lag_records 0", metrics)
        code, metrics = primary.request("GET", "/metrics")
        self.assertIn("almanac_replication_standbys 1", metrics)

    def refuse_strangers(self, primary, standby):
        """Security: garbage on the replication port and a standby holding another
        identity are refused on both sides, and nothing is appended anywhere."""
        before = primary.status()["lastSeq"]
        host, port = primary.replication.split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n" + b"x" * 64)
            received = b""
            while True:  # the primary closes the connection; it never hangs
                try:
                    chunk = s.recv(4096)
                except ConnectionResetError:  # closed with our garbage unread
                    break
                if not chunk:
                    break
                received += chunk
            self.assertLessEqual(len(received), 48 + 4 + 17 + 16)

        # A controller of its own (another identity), then told to follow the primary.
        other_home = os.path.join(TMP, "other")
        other = Daemon(other_home, *NO_SEALS)
        self.assertEqual(other.status()["lastSeq"], 1)
        other.stop()
        run = subprocess.run([ALMANACD, "--home", other_home, "--api-listen", "127.0.0.1:0",
                              "--zt-listen", "127.0.0.1:0", "--standby-of",
                              primary.replication], capture_output=True, text=True,
                             timeout=60)
        self.assertNotEqual(run.returncode, 0, run.stdout)
        self.assertIn("does not hold this controller's identity", run.stderr)
        wait_for(lambda: primary.output().count("refused a connection") >= 2, 10,
                 "the primary to log both refusals")
        self.assertIn("does not hold this controller's identity", primary.output())
        other = Daemon(other_home, *NO_SEALS)
        self.assertEqual(other.status()["lastSeq"], 1)  # nothing appended
        other.stop()
        self.assertEqual(primary.status()["lastSeq"], before)
        self.assertEqual(standby.status()["lastSeq"], before)
        self.assertGreaterEqual(primary.status()["replication"]["peersRefused"], 2)


if __name__ == "__main__":
    unittest.main()
