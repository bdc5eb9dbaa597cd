"""Backups while changes stream in, and restores that serve exactly the state they claim.

Method: a real //ctl:almanacd (ports 0, home under $TEST_TMPDIR) takes scheduled backups
every 300 ms (--backup-dir, snapshots every 40 records, seals every 25) while a writer
thread creates networks and members and flips authorizations through the admin API;
`almanac backup create` takes four more on demand in the middle, and the test waits for a
scheduled backup of the last change. After the daemon stops:
  - `almanac backup list` shows every backup (on-demand ones by name) with its last seq
    and chain hash;
  - each backup verifies clean with `almanac-replay --backup DIR verify`;
  - each is restored (`almanac backup restore`) into a new home, which verifies clean, and
    an almanacd started on it serves through the API exactly `almanac-replay state --at
    <the backup's last seq>` of the original home (every network and member, as the API
    renders them), with /status lastSeq equal to that seq;
  - a restore with --to-seq N (a seq inside the last backup) serves the state at N and
    continues at record N+1; restoring into a non-empty home is refused.
"""

import json
import os
import subprocess
import threading
import time
import unittest

from almanacd_process import ALMANAC, RUNFILES, TMP, Daemon

REPLAY = os.path.join(RUNFILES, "replay", "almanac-replay")
STREAM_SECONDS = 4.0


def run(*args, check=True):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(args), p.returncode,
                                                       p.stdout, p.stderr))
    return p


def served_state(daemon):
    """Every network and member as the API of `daemon` serves them, keyed like
    `almanac-replay state --json` ({"networks": {id: ...}, "members": {id: {addr: ...}}})."""
    conn = daemon.connect()
    status, ids = daemon.request("GET", "/controller/network", conn=conn)
    assert status == 200, status
    networks, members = {}, {}
    for nwid in ids:
        status, networks[nwid] = daemon.request("GET", "/controller/network/" + nwid,
                                                conn=conn)
        assert status == 200
        status, revisions = daemon.request("GET", "/controller/network/%s/member" % nwid,
                                           conn=conn)
        assert status == 200
        members[nwid] = {}
        for address in revisions:
            status, members[nwid][address] = daemon.request(
                "GET", "/controller/network/%s/member/%s" % (nwid, address), conn=conn)
            assert status == 200
    conn.close()
    return {"networks": networks, "members": members}


class Writer(threading.Thread):
    """Streams changes through the API until stopped: networks, members, authorizations."""

    def __init__(self, daemon):
        super().__init__(daemon=True)
        self.daemon_ = daemon
        self.stop_flag = threading.Event()
        self.changes = 0
        self.error = None

    def run(self):
        try:
            conn = self.daemon_.connect()
            controller = None
            networks = []
            i = 0
            while not self.stop_flag.is_set():
                if i % 40 == 0 and len(networks) < 4:
                    if controller is None:
                        _, c = self.daemon_.request("GET", "/status", conn=conn)
                        controller = c["address"]
                    status, n = self.daemon_.request(
                        "POST", "/controller/network/%s______" % controller,
                        {"name": "net%d" % len(networks)}, conn=conn)
                    assert status == 200, (status, n)
                    networks.append(n["id"])
                nwid = networks[i % len(networks)]
                address = "%010x" % (0x0a00000000 + (i * 7) % 60)
                status, body = self.daemon_.request(
                    "POST", "/controller/network/%s/member/%s" % (nwid, address),
                    {"authorized": i % 3 != 0, "name": "m%d" % i}, conn=conn)
                assert status == 200, (status, body)
                self.changes += 1
                i += 1
        except Exception as e:  # reported by the test
            self.error = e


class BackupTest(unittest.TestCase):
    def test_backups_under_changes_restore_to_what_they_claim(self):
        home = os.path.join(TMP, "home")
        backups = os.path.join(TMP, "backups")
        daemon = Daemon(home, "--backup-dir", backups, "--backup-every", "300ms",
                        "--backup-keep", "1000", "--snapshot-every", "40",
                        "--seal-every-records", "25", "--seal-every-seconds", "0")
        writer = Writer(daemon)
        writer.start()
        on_demand = []
        try:
            for _ in range(2):
                time.sleep(STREAM_SECONDS / 3)
                p = run(ALMANAC, "backup", "create", "--home", home, "--json")
                made = json.loads(p.stdout)
                self.assertGreater(made["lastSeq"], 0)
                on_demand.append(made)
                human = run(ALMANAC, "backup", "create", "--home", home).stdout
                self.assertIn("taken by almanacd", human)
            time.sleep(STREAM_SECONDS / 3)
        finally:
            writer.stop_flag.set()
            writer.join(timeout=30)
        self.assertIsNone(writer.error)
        self.assertGreater(writer.changes, 50)
        # A scheduled backup holds the last change (every on-demand one came before it).
        deadline = time.time() + 30
        while True:
            _, status = daemon.request("GET", "/status")
            seqs = [b["lastSeq"] for b in json.loads(run(
                ALMANAC, "backup", "list", "--backup-dir", backups, "--json").stdout)]
            if status["lastSeq"] in seqs:
                break
            self.assertLess(time.time(), deadline, "no scheduled backup of the last change")
            time.sleep(0.2)
        # /metrics: the backup counters moved with the scheduled and on-demand backups.
        metrics = self.metrics(daemon)
        made = int(metrics['almanac_backups_total{result="ok"}'])
        self.assertGreaterEqual(made, 5)
        self.assertEqual(metrics['almanac_backups_total{result="failed"}'], "0")
        self.assertGreaterEqual(int(metrics["almanac_backup_last_seq"]), max(seqs))
        self.assertGreater(float(metrics["almanac_backup_last_success_timestamp_seconds"]),
                           time.time() - 120)
        self.assertGreater(float(metrics["almanac_backup_duration_seconds"]), 0)
        self.assertEqual(daemon.stop(), 0)
        log = daemon.output()
        self.assertIn("almanacd: backup ", log)

        listed = json.loads(run(ALMANAC, "backup", "list", "--backup-dir", backups,
                                "--json").stdout)
        names = [b["name"] for b in listed]
        for made in on_demand:
            self.assertIn(made["name"], names)
        self.assertGreaterEqual(len(listed), 5, names)  # scheduled ones too
        for b in listed:
            self.assertEqual(len(b["chainHash"]), 64)
        table = run(ALMANAC, "backup", "list", "--backup-dir", backups).stdout
        for b in listed:
            self.assertIn(b["name"], table)
            self.assertIn(b["chainHash"], table)
        # The newest backup holds everything.
        end = json.loads(run(REPLAY, "--home", home, "--json", "state").stdout)
        self.assertEqual(listed[-1]["lastSeq"], end["seq"])
        self.assertEqual(listed[-1]["chainHash"], end["chainHash"])

        # Each on-demand backup, the first and the last: verify, restore, serve.
        chosen = {b["name"]: b for b in [listed[0], listed[-1]] + on_demand}
        for n, b in enumerate(chosen.values()):
            run(REPLAY, "--backup", b["path"], "verify")
            target = os.path.join(TMP, "restored%d" % n)
            restored = json.loads(run(ALMANAC, "backup", "restore", b["path"], "--home",
                                      target, "--json").stdout)
            self.assertEqual(restored["lastSeq"], b["lastSeq"])
            self.assertEqual(restored["chainHash"], b["chainHash"])
            self.check_serves(target, b["lastSeq"], home)

        # --to-seq inside the last backup: the state at that record, and no later record.
        last = listed[-1]
        to_seq = last["lastSeq"] * 2 // 3
        target = os.path.join(TMP, "to_seq")
        p = run(ALMANAC, "backup", "restore", last["path"], "--home", target,
                "--to-seq", str(to_seq))
        self.assertIn("records     1..%d copied and verified" % to_seq, p.stdout)
        self.assertIn("not copied  records %d..%d" % (to_seq + 1, last["lastSeq"]), p.stdout)
        self.check_serves(target, to_seq, home, change_after=True)

        # Refusals: a non-empty home, a seq past the backup.
        p = run(ALMANAC, "backup", "restore", last["path"], "--home", target, check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("not an empty directory", p.stderr)
        p = run(ALMANAC, "backup", "restore", last["path"], "--home",
                os.path.join(TMP, "past"), "--to-seq", str(last["lastSeq"] + 1), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(TMP, "past")))

        # No daemon: create backs the stopped home up directly, and applies the same
        # retention as almanacd (here: keep 2).
        offline_dir = os.path.join(TMP, "offline")
        made = []
        for _ in range(3):
            p = run(ALMANAC, "backup", "create", "--home", home, "--backup-dir", offline_dir,
                    "--backup-keep", "2", "--json")
            made.append(json.loads(p.stdout))
        self.assertEqual(made[0]["lastSeq"], end["seq"])
        self.assertEqual(made[0]["chainHash"], end["chainHash"])
        self.assertEqual([m["pruned"] for m in made], [[], [], [made[0]["name"]]])
        kept = json.loads(run(ALMANAC, "backup", "list", "--backup-dir", offline_dir,
                              "--json").stdout)
        self.assertEqual([b["name"] for b in kept], [made[1]["name"], made[2]["name"]])
        human = run(ALMANAC, "backup", "create", "--home", home, "--backup-dir", offline_dir,
                    "--backup-keep", "2", "--backup-max-age", "0").stdout
        self.assertIn("almanacd not running", human)
        self.assertIn("pruned      " + made[1]["name"] + " (keep 2, max age none)", human)
        # A bad retention flag is a usage error, named, before anything is done.
        p = run(ALMANAC, "backup", "create", "--home", home, "--backup-dir", offline_dir,
                "--backup-max-age", "a week", check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--backup-max-age", p.stderr)
        p = run(ALMANAC, "backup", "create", "--home", home, "--backup-dir", offline_dir,
                "--backup-keep", "0", check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--backup-keep", p.stderr)
        self.assertEqual(len(json.loads(run(ALMANAC, "backup", "list", "--backup-dir",
                                            offline_dir, "--json").stdout)), 2)

    def metrics(self, daemon):
        """GET /metrics as {series: value text}."""
        status, text = daemon.request("GET", "/metrics")
        self.assertEqual(status, 200, text)
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                series, _, value = line.rpartition(" ")
                out[series] = value
        return out

    def check_serves(self, target, seq, original_home, change_after=False):
        run(REPLAY, "--home", target, "verify")
        expected = json.loads(run(REPLAY, "--home", original_home, "--json", "state",
                                  "--at", str(seq)).stdout)
        self.assertEqual(expected["seq"], seq)
        daemon = Daemon(target)
        try:
            status, s = daemon.request("GET", "/status")
            self.assertEqual(status, 200)
            self.assertEqual(s["lastSeq"], seq)
            served = served_state(daemon)
            self.assertEqual(served["networks"], expected["networks"])
            self.assertEqual(served["members"], expected["members"])
            if change_after:
                nwid = sorted(expected["networks"])[0]
                status, _ = daemon.request("POST", "/controller/network/" + nwid,
                                           {"name": "after restore"})
                self.assertEqual(status, 200)
                status, s = daemon.request("GET", "/status")
                self.assertEqual(s["lastSeq"], seq + 1)
        finally:
            self.assertEqual(daemon.stop(), 0)


if __name__ == "__main__":
    unittest.main()
