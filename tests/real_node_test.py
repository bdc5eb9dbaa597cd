"""A real ZeroTier One node joins a network that Almanac serves.

Goal: the wire protocol and the netconf are right as a real 1.14 node judges them: the
member is refused while unauthorized (ACCESS_DENIED), reaches status OK with its pool
address, routes and DNS once authorized, and drops back to ACCESS_DENIED at once when
deauthorized (a pushed config), and hears NOT_FOUND at once when the network is deleted.
Method: the lab of shared/vectors/zerotier-1.14.1 rebuilt inside a network namespace of
our own (zerotier-one refuses 127.0.0.0/8 as a peer path, so the lab's private addresses
sit on the namespace's lo): root R and member M are real zerotier-one processes with the
lab's identities and planet; the controller C is almanacd with the lab controller's
identity and the planet in its home, started before the root. The test needs root, iproute2 and a zerotier-one binary named by
$ALMANAC_ZEROTIER_ONE; without them it is skipped. Polls are bounded in count and time.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

from almanacd_process import Daemon, TMP

STOP_TIMEOUT_S = 20
ZEROTIER_ONE = os.environ.get("ALMANAC_ZEROTIER_ONE", "")
MEMBER = "73d8c8d12f"


def vectors_dir():
    shared = os.environ.get("ALMANAC_SHARED", "")
    return os.path.join(shared, "vectors", "zerotier-1.14.1")


def skip_reason():
    if not ZEROTIER_ONE:
        return "set ALMANAC_ZEROTIER_ONE to a zerotier-one 1.14 binary to run this test"
    if not os.access(ZEROTIER_ONE, os.X_OK):
        return "ALMANAC_ZEROTIER_ONE=%s is not executable" % ZEROTIER_ONE
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("ip") is None or shutil.which("curl") is None:
        return "needs iproute2 and curl"
    if not os.path.isdir(vectors_dir()):
        return "no vectors (set ALMANAC_SHARED)"
    return None


@unittest.skipIf(skip_reason() is not None, skip_reason() or "")
class RealNodeTest(unittest.TestCase):
    def setUp(self):
        self.ns = "almanac-%d" % os.getpid()
        self.procs = []
        self.almanacd = None
        self.root = os.path.join(TMP, "lab")
        shutil.rmtree(self.root, ignore_errors=True)
        self.run_ok(["ip", "netns", "add", self.ns])
        self.addCleanup(self.teardown_namespace)
        self.in_ns(["ip", "link", "set", "lo", "up"])
        with open(os.path.join(vectors_dir(), "lab.json")) as f:
            self.lab = json.load(f)
        for node in self.lab["nodes"].values():
            self.in_ns(["ip", "addr", "add", node["ip"] + "/32", "dev", "lo"])
        homes = {}
        for key in ("R", "M", "C"):
            node = self.lab["nodes"][key]
            home = os.path.join(self.root, key)
            os.makedirs(home)
            with open(os.path.join(home, "identity.secret"), "w") as f:
                f.write(node["secret"])
            os.chmod(os.path.join(home, "identity.secret"), 0o600)
            with open(os.path.join(home, "identity.public"), "w") as f:
                f.write(node["public"])
            with open(os.path.join(home, "local.conf"), "w") as f:
                json.dump({"settings": {"bind": [node["ip"]], "allowTcpFallbackRelay": False,
                                        "portMappingEnabled": False,
                                        "allowSecondaryPort": False}}, f)
            shutil.copy(os.path.join(vectors_dir(), "planet"), os.path.join(home, "planet"))
            homes[key] = home
        self.member_home = homes["M"]
        # The controller first, before its root is up (as after a reboot where almanacd
        # wins the race): it must keep HELLOing the root every few seconds until the root
        # answers, or the member could not reach it for a minute.
        controller = self.lab["nodes"]["C"]
        # Its API is on the namespace's loopback: the test reaches it with curl in there.
        self.almanacd = Daemon(
            homes["C"], "--zt-listen", "%s:%d" % (controller["ip"], controller["port"]),
            "--api-listen", "127.0.0.1:0", "--snapshot-every", "0",
            argv_prefix=["ip", "netns", "exec", self.ns])
        self.api = self.almanacd.url
        self.token = self.almanacd.token
        for key in ("R", "M"):
            port = str(self.lab["nodes"][key]["port"])
            self.start(["ip", "netns", "exec", self.ns, ZEROTIER_ONE, "-U", "-p" + port,
                        homes[key]])
            self.wait_for_file(os.path.join(homes[key], "zerotier-one.port"), 30)
        cli = os.path.join(self.root, "zerotier-cli")
        os.symlink(ZEROTIER_ONE, cli)  # zerotier-one acts as the CLI under this name
        self.cli = [cli, "-D" + homes["M"], "-p%d" % self.lab["nodes"]["M"]["port"]]

    def teardown_namespace(self):
        if self.almanacd is not None:
            try:
                self.almanacd.stop(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.almanacd.kill()
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stdout.close()
        subprocess.run(["ip", "netns", "del", self.ns])

    def wait_for_file(self, path, seconds):
        deadline = time.monotonic() + seconds
        while not os.path.exists(path):
            self.assertLess(time.monotonic(), deadline, "%s never appeared" % path)
            time.sleep(0.1)

    def start(self, argv):
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.procs.append(p)
        return p

    def run_ok(self, argv):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, "%s: %s%s" % (argv, r.stdout, r.stderr))
        return r.stdout

    def in_ns(self, argv):
        return self.run_ok(["ip", "netns", "exec", self.ns] + argv)

    def api_call(self, method, path, body=None):
        argv = ["curl", "-s", "-f", "-X", method, "-H", "X-ZT1-Auth: " + self.token,
                "http://%s%s" % (self.api, path)]
        if body is not None:
            argv += ["-d", json.dumps(body)]
        return json.loads(self.in_ns(argv))

    def member_network(self, nwid):
        out = self.in_ns(self.cli + ["-j", "listnetworks"])
        for n in json.loads(out):
            if n["nwid"] == nwid:
                return n
        return None

    def wait_for(self, nwid, predicate, seconds):
        deadline = time.monotonic() + seconds
        last = None
        while time.monotonic() < deadline:
            last = self.member_network(nwid)
            if last is not None and predicate(last):
                return last
            time.sleep(0.5)
        self.fail("member's network never reached the expected state; last seen: %s" % last)

    def test_member_joins_is_authorized_and_deauthorized(self):
        body = self.lab["network_request_body"]
        controller = self.lab["nodes"]["C"]["address"]
        net = self.api_call("POST", "/controller/network/%s______" % controller, body)
        nwid = net["id"]
        self.in_ns(self.cli + ["join", nwid])

        started = time.monotonic()
        # Seconds: the member finds the controller through the root, which the controller
        # HELLOs every few seconds until it answers.
        self.wait_for(nwid, lambda n: n["status"] == "ACCESS_DENIED", 20)
        print("denied after %.1f s" % (time.monotonic() - started), file=sys.stderr)
        members = self.api_call("GET", "/controller/network/%s/member" % nwid)
        self.assertIn(MEMBER, members, "the join was not recorded")

        self.api_call("POST", "/controller/network/%s/member/%s" % (nwid, MEMBER),
                      {"authorized": True})
        started = time.monotonic()
        # The pool address as ZeroTier's own controller picks it for this member, in the
        # config pushed right after the authorization (not the node's 60-second refresh).
        ok = self.wait_for(nwid, lambda n: n["status"] == "OK" and
                           "10.147.20.137/24" in n["assignedAddresses"], 15)
        print("OK with its pool address after %.1f s" % (time.monotonic() - started),
              file=sys.stderr)
        self.assertEqual(ok["name"], "vectors-private")
        self.assertEqual(ok["mtu"], 2800)
        self.assertEqual(sorted((r["target"], r["via"]) for r in ok["routes"]),
                         [("10.147.20.0/24", None), ("192.168.77.0/24", "10.147.20.1")])
        self.assertEqual(ok["dns"], {"domain": "vectors.zt.example",
                                     "servers": ["10.147.20.1"]})

        self.api_call("POST", "/controller/network/%s/member/%s" % (nwid, MEMBER),
                      {"authorized": False})
        started = time.monotonic()
        # A pushed config, not the node's 60-second refresh.
        self.wait_for(nwid, lambda n: n["status"] == "ACCESS_DENIED", 5)
        print("denied again after %.1f s" % (time.monotonic() - started), file=sys.stderr)

        # Deleting the network tells its recent member it is gone (ERROR OBJ_NOT_FOUND).
        self.api_call("DELETE", "/controller/network/%s" % nwid)
        self.wait_for(nwid, lambda n: n["status"] == "NOT_FOUND", 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
