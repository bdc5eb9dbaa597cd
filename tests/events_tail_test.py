"""Whole-process test of the event stream's reference consumer: `almanac events tail`.

Goal (issue 6, consumer test): a consumer killed with SIGKILL and restarted several times
while changes stream in sees every sequence number exactly once, in order. Method: start a
real //ctl:almanacd (home under $TEST_TMPDIR, ports 0); two writer threads create networks
and members through the admin API on keep-alive connections for the whole test; run
`almanac events tail --follow --checkpoint F --output OUT --json` and SIGKILL it after a
random 0.2..1.2 s (seeded: ALMANAC_EVENTS_SEED reruns one), KILLS times, restarting it
each time; then stop the writers, run it once more until OUT reaches the daemon's last
seq. OUT must hold seqs 1..last exactly once, in order, and each line must equal the
record as GET /events renders it. Before the last run the checkpoint is moved back three
lines and half a line is appended, the two states a kill can leave. Also checks the non-follow form on stdout and a type
filter against the same journal.
"""

import json
import os
import random
import signal
import subprocess
import threading
import time
import unittest

from almanacd_process import ALMANAC, Daemon, TMP, request

KILLS = 8
WRITERS = 2
# No seals: the daemon appends one on its own thread after every 1,000 records, so with
# ~1,000 written one could land after the test read the last seq, and the final run would
# print a record past it (and could be killed in the middle of that write).
DAEMON_FLAGS = ("--snapshot-every", "0", "--seal-every-records", "0", "--seal-every-seconds", "0")


class Writer(threading.Thread):
    """Creates a network, then members in it (some authorized), until stopped."""

    def __init__(self, daemon, index, stop):
        super().__init__(daemon=True)
        self.d, self.index, self.stop_event = daemon, index, stop
        self.error = None
        self.writes = 0

    def run(self):
        conn = self.d.connect()
        try:
            nwid = None
            n = 0
            while not self.stop_event.is_set():
                if nwid is None or n % 40 == 0:
                    status, body = request(conn, self.d.token, "POST", "/controller/network",
                                           {"name": "w%d-%d" % (self.index, n)})
                    assert status == 200, (status, body)
                    nwid = body["id"]
                address = "%010x" % (0x1000000000 + self.index * 1000000 + n)
                status, body = request(
                    conn, self.d.token, "POST",
                    "/controller/network/%s/member/%s" % (nwid, address),
                    {"authorized": n % 2 == 0, "name": "m%d" % n})
                assert status == 200, (status, body)
                n += 1
                self.writes += 1
                time.sleep(0.005)  # a steady stream, not a flood: the tail must keep up
        except Exception as e:  # reported by the test, not lost in a thread
            self.error = repr(e)
        finally:
            conn.close()


def read_lines(path, torn_ok=False):
    """The whole lines of OUT. torn_ok: while a tail runs, a last line may be half written
    (or, before the restart cut it, half of one the test appended)."""
    with open(path, "rb") as f:
        data = f.read()
    if torn_ok:
        data = data[:data.rfind(b"\n") + 1]
    assert not data or data.endswith(b"\n"), "OUT ends in a torn line"
    return [line for line in data.decode().split("\n") if line]


class EventsTailTest(unittest.TestCase):

    def setUp(self):
        self.home = os.path.join(TMP, "events-home")
        os.makedirs(self.home, exist_ok=True)
        self.daemon = Daemon(self.home, *DAEMON_FLAGS)

    def tearDown(self):
        self.assertEqual(self.daemon.stop(), 0)

    def tail(self, *args, **kwargs):
        return subprocess.Popen([ALMANAC, "events", "tail", "--home", self.home] + list(args),
                                stdout=kwargs.get("stdout", subprocess.DEVNULL),
                                stderr=subprocess.PIPE, text=True)

    def last_seq(self):
        status, body = self.daemon.request("GET", "/status")
        self.assertEqual(status, 200)
        return body["lastSeq"]

    def all_events(self):
        """Every record as GET /events renders it, page by page."""
        conn = self.daemon.connect()
        lines, after = [], 0
        while True:
            status, body = self.daemon.request("GET", "/events?after=%d" % after, conn=conn,
                                               raw=True)
            self.assertEqual(status, 200, body)
            page = [l for l in body.decode().split("\n") if l]
            beat = json.loads(page[-1])
            self.assertTrue(beat["heartbeat"])
            lines += page[:-1]
            after = beat["scanned"]
            if beat["scanned"] >= beat["lastSeq"]:
                break
        conn.close()
        return lines

    def test_killed_and_restarted_consumer_sees_every_seq_once(self):
        seed = int(os.environ.get("ALMANAC_EVENTS_SEED", str(random.randrange(1 << 32))))
        print("events tail test seed: ALMANAC_EVENTS_SEED=%d" % seed)
        rng = random.Random(seed)
        checkpoint = os.path.join(TMP, "tail.checkpoint")
        out = os.path.join(TMP, "tail.jsonl")
        stop = threading.Event()
        writers = [Writer(self.daemon, i, stop) for i in range(WRITERS)]
        for w in writers:
            w.start()
        kills = 0
        try:
            for _ in range(KILLS):
                proc = self.tail("--follow", "--json", "--checkpoint", checkpoint,
                                 "--output", out)
                time.sleep(rng.uniform(0.2, 1.2))
                if proc.poll() is not None:
                    self.fail("tail exited early: %s" % proc.stderr.read())
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                proc.stderr.close()
                kills += 1
        finally:
            stop.set()
            for w in writers:
                w.join(timeout=30)
        for w in writers:
            self.assertIsNone(w.error)
        self.assertGreater(sum(w.writes for w in writers), 50)

        # The two moments a kill can split: lines printed but not yet checkpointed (move
        # the checkpoint back three lines, as if the run died right after printing them)
        # and a line torn in the middle of its write (append half a line).
        with open(out, "rb") as f:
            printed = f.read()
        lines = printed.split(b"\n")[:-1]
        self.assertGreater(len(lines), 3)
        kept = b"".join(l + b"\n" for l in lines[:-3])
        with open(checkpoint, "w") as f:
            json.dump({"seq": json.loads(lines[-4])["seq"], "outputBytes": len(kept)}, f)
        with open(out, "ab") as f:
            f.write(lines[-1][:len(lines[-1]) // 2])

        # One last run catches up with the end, then is killed too.
        last = self.last_seq()
        proc = self.tail("--follow", "--json", "--checkpoint", checkpoint, "--output", out)
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                done = read_lines(out, torn_ok=True)
                if done and json.loads(done[-1])["seq"] >= last:
                    break
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stderr.close()
        seqs = [json.loads(l)["seq"] for l in read_lines(out)]
        print("kills: %d, records: %d" % (kills + 1, last))

        self.assertEqual(seqs, list(range(1, last + 1)),
                         "OUT is not every seq exactly once, in order")
        expected = self.all_events()
        self.assertEqual(len(expected), last)
        self.assertEqual(read_lines(out), expected)
        with open(checkpoint) as f:
            saved = json.load(f)
        self.assertEqual(saved["seq"], last)
        self.assertEqual(saved["chainHash"], json.loads(expected[-1])["chainHash"])

        # A checkpoint from another history (same seq, other chain hash) is refused.
        foreign = os.path.join(TMP, "foreign.checkpoint")
        with open(foreign, "w") as f:
            json.dump({"seq": 5, "outputBytes": 0, "chainHash": "0" * 63 + "1"}, f)
        refused = subprocess.run([ALMANAC, "events", "tail", "--home", self.home,
                                  "--checkpoint", foreign],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(refused.returncode, 1, refused.stderr)
        self.assertIn("history", refused.stderr)
        self.assertEqual(refused.stdout, "")

        # Without --follow: stdout, from a position to the end, then exit 0.
        done = subprocess.run([ALMANAC, "events", "tail", "--home", self.home, "--json",
                               "--after", str(last - 5)],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.split("\n")[:-1], expected[-5:])
        created = subprocess.run([ALMANAC, "events", "tail", "--home", self.home,
                                  "--type", "NetworkCreated"],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(created.returncode, 0, created.stderr)
        want = [json.loads(l) for l in expected if json.loads(l)["type"] == "NetworkCreated"]
        got = created.stdout.split("\n")[:-1]
        self.assertEqual(len(got), len(want))
        for line, event in zip(got, want):
            self.assertIn(" #%d " % event["seq"], line)
            self.assertTrue(line.endswith("NetworkCreated network " + event["network"]), line)
        # A position from another history is refused, not waited for.
        past = subprocess.run([ALMANAC, "events", "tail", "--home", self.home,
                               "--after", str(last + 10)],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(past.returncode, 1)
        self.assertIn("past the journal's last record", past.stderr)


if __name__ == "__main__":
    unittest.main()
