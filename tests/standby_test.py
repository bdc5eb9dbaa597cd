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
import threading
import unittest

from replication_util import Daemon, TMP, request, standby_home, wait_caught_up

CHANGES = 10000
CONNECTIONS = 8


class StandbyTest(unittest.TestCase):

    def test_standby_is_an_exact_read_only_copy(self):
        primary_home = os.path.join(TMP, "primary")
        primary = Daemon(primary_home, "--replication-listen", "127.0.0.1:0")
        standby = Daemon(standby_home(primary_home, "standby"),
                         "--standby-of", primary.replication)
        try:
            self.run_changes_and_compare(primary, standby)
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


if __name__ == "__main__":
    unittest.main()
