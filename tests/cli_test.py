"""Whole-process test of the almanac CLI against a real almanacd.

Goal: every admin subcommand (status, network, member, import-zerotier) gives the output
and exit code scripts rely on when it talks to a real daemon over HTTP.
Method: start //ctl:almanacd on 127.0.0.1 port 0 with a home under $TEST_TMPDIR, wait
for its "admin API listening" line (a blocking read, no sleeps), and run //tools:almanac
with --home so it finds the address and token the daemon wrote. The import test writes
ZeroTier 1.14.1's lab controller.d (shared/vectors) into a fresh home, imports it, then
serves it with a second daemon.
"""

import json
import os
import re
import subprocess
import sys
import unittest
import urllib.request

from almanacd_process import ALMANAC, ALMANACD, Daemon, TMP

LAB_NWID = "949cb95e9d7ceef9"
LAB_MEMBER = "73d8c8d12f"


def vectors_dir():
    shared = os.environ.get("ALMANAC_SHARED", "")
    path = os.path.join(shared, "vectors", "zerotier-1.14.1")
    if not shared or not os.path.isdir(path):
        raise AssertionError("set --test_env=ALMANAC_SHARED=/work/shared (no vectors at %r)" % path)
    return path


def start_daemon(home):
    """An almanacd on `home`, after checking that the api.address it wrote for the CLI is
    the address it printed. Its flags keep Abseil's own spelling (underscores)."""
    daemon = Daemon(home, "--api_listen", "127.0.0.1:0", "--zt_listen", "127.0.0.1:0",
                    "--snapshot_every", "0")
    with open(os.path.join(home, "api.address")) as f:
        written = f.read().strip()
    if written != daemon.url:
        daemon.stop()
        raise AssertionError("api.address %r differs from the printed address %r"
                             % (written, daemon.url))
    return daemon


def almanac(*args):
    return subprocess.run([ALMANAC] + list(args), capture_output=True, text=True, timeout=120)


class CliTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.home = os.path.join(TMP, "home")
        cls.daemon = start_daemon(cls.home)
        with open(os.path.join(cls.home, "identity.public")) as f:
            cls.controller = f.read().strip()[:10]

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def run_ok(self, *args):
        r = almanac(*args, "--home", self.home)
        self.assertEqual(r.returncode, 0, "almanac %s: %s" % (" ".join(args), r.stderr))
        self.assertEqual(r.stderr, "")
        return r.stdout

    def run_fail(self, code, *args):
        r = almanac(*args, "--home", self.home)
        self.assertEqual(r.returncode, code, "almanac %s: out %r err %r"
                         % (" ".join(args), r.stdout, r.stderr))
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)  # one clear line
        self.assertTrue(r.stderr.startswith("almanac: "), r.stderr)
        return r.stderr

    def create_network(self, *fields):
        out = self.run_ok("network", "create", *fields)
        m = re.fullmatch(r"created network ([0-9a-f]{16})\n", out)
        self.assertIsNotNone(m, out)
        return m.group(1)

    def test_status(self):
        out = self.run_ok("status")
        self.assertTrue(out.startswith("controller is up\n"), out)
        self.assertIn("  address     %s\n" % self.controller, out)
        self.assertIn("  api         http://%s\n" % self.daemon.url, out)
        self.assertIn("  database    ready\n", out)
        status = json.loads(self.run_ok("status", "--json"))
        self.assertEqual(status["controller"], True)
        self.assertEqual(status["apiVersion"], 4)

    def test_network_lifecycle(self):
        nwid = self.create_network("--name", "office", "private=false",
                                   'routes=[{"target":"10.0.0.0/24"}]',
                                   'ipAssignmentPools=[{"ipRangeStart":"10.0.0.10",'
                                   '"ipRangeEnd":"10.0.0.100"}]', "v4AssignMode.zt=true")
        self.assertTrue(nwid.startswith(self.controller))
        shown = json.loads(self.run_ok("network", "show", nwid, "--json"))
        self.assertEqual(shown["name"], "office")
        self.assertEqual(shown["private"], False)
        self.assertEqual(shown["routes"], [{"target": "10.0.0.0/24", "via": None}])
        self.assertEqual(shown["v4AssignMode"], {"zt": True})
        table = self.run_ok("network", "show", nwid)
        self.assertRegex(table, r"(?m)^name +office$")

        self.assertEqual(self.run_ok("network", "set", nwid, "mtu=1400", "name=renamed"),
                         "updated network %s\n" % nwid)
        shown = json.loads(self.run_ok("network", "show", nwid, "--json"))
        self.assertEqual((shown["mtu"], shown["name"]), (1400, "renamed"))
        self.assertRegex(self.run_ok("network", "list"),
                         r"(?m)^%s +renamed +no +0$" % nwid)
        self.assertIn(nwid, json.loads(self.run_ok("network", "list", "--json")))

        err = self.run_fail(1, "network", "set", nwid, 'routes=[{"target":"10.0.0.999/24"}]')
        self.assertTrue(err.startswith("almanac: the controller refused (HTTP 400): routes"), err)

        self.assertEqual(self.run_ok("network", "delete", nwid), "deleted network %s\n" % nwid)
        self.assertEqual(self.run_fail(1, "network", "show", nwid),
                         "almanac: network %s not found\n" % nwid)
        self.assertEqual(self.run_fail(1, "network", "set", nwid, "name=x"),
                         "almanac: network %s not found\n" % nwid)
        self.assertEqual(self.run_fail(1, "network", "delete", nwid),
                         "almanac: network %s not found\n" % nwid)

    def test_members(self):
        nwid = self.create_network("--name", "members", 'routes=[{"target":"10.1.0.0/24"}]')
        self.assertEqual(self.run_ok("member", "authorize", nwid, LAB_MEMBER),
                         "authorized member %s in network %s\n" % (LAB_MEMBER, nwid))
        self.run_ok("member", "set", nwid, LAB_MEMBER, "name=laptop",
                    'ipAssignments=["10.1.0.5"]')
        table = self.run_ok("member", "list", nwid)
        self.assertEqual(table.splitlines()[0],
                         "ADDRESS     AUTHORIZED  NAME    IPS       VERSION  LAST SEEN")
        self.assertRegex(table, r"(?m)^%s +yes +laptop +10\.1\.0\.5 +- +-$" % LAB_MEMBER)
        member = json.loads(self.run_ok("member", "show", nwid, LAB_MEMBER, "--json"))
        self.assertEqual(member["authorized"], True)
        self.assertEqual(member["lastAuthorizedCredentialType"], "api")
        self.assertEqual(json.loads(self.run_ok("member", "list", nwid, "--json")),
                         {LAB_MEMBER: member["revision"]})

        # An IP another member holds is accepted, as ZeroTier's controller accepts it from
        # its admin API (import-zerotier keeps such files the same way).
        self.run_ok("member", "authorize", nwid, "0000000abc")
        self.run_ok("member", "set", nwid, "0000000abc", 'ipAssignments=["10.1.0.5"]')
        other = json.loads(self.run_ok("member", "show", nwid, "0000000abc", "--json"))
        self.assertEqual(other["ipAssignments"], ["10.1.0.5"])
        self.assertRegex(self.run_ok("member", "list", nwid),
                         r"(?m)^0000000abc +yes +- +10\.1\.0\.5 ")
        self.run_ok("member", "delete", nwid, "0000000abc")

        self.run_ok("member", "deauthorize", nwid, LAB_MEMBER)
        self.assertRegex(self.run_ok("member", "list", nwid), r"(?m)^%s +no " % LAB_MEMBER)
        self.assertEqual(self.run_fail(1, "member", "deauthorize", nwid, "1111111111"),
                         "almanac: member 1111111111 not found in network %s\n" % nwid)
        self.assertEqual(self.run_fail(2, "member", "show", nwid, "11111"),
                         "almanac: '11111' is not a member address (10 hex digits)\n")
        self.run_ok("member", "delete", nwid, LAB_MEMBER)
        self.assertEqual(self.run_fail(1, "member", "delete", nwid, LAB_MEMBER),
                         "almanac: member %s not found in network %s\n" % (LAB_MEMBER, nwid))
        missing = self.controller + "ffffff"
        self.assertEqual(self.run_fail(1, "member", "list", missing),
                         "almanac: network %s not found\n" % missing)
        self.run_ok("network", "delete", nwid)

    def metrics(self):
        req = urllib.request.Request("http://%s/metrics" % self.daemon.url)
        with open(os.path.join(self.home, "authtoken.secret")) as f:
            req.add_header("X-ZT1-Auth", f.read().strip())
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read().decode()

    def member_gets(self):
        """GETs of single members counted by /metrics (any status)."""
        total = 0
        for m in re.finditer(r'(?m)^almanac_http_requests_total\{([^}]*)\} (\d+)$',
                             self.metrics()):
            if 'endpoint="/controller/network/{nwid}/member/{address}"' in m.group(1) \
                    and 'method="GET"' in m.group(1):
                total += int(m.group(2))
        return total

    def test_metrics_and_one_request_member_list(self):
        # The ZeroTier listener's counters are on /metrics beside the API's own.
        text = self.metrics()
        for name in ("datagrams", "requests", "answered_config", "internal_errors"):
            self.assertRegex(text, r"(?m)^almanac_netconf_%s_total \d+$" % name)
        # `member list` renders its table from one /unstable list request, not a GET per
        # member.
        nwid = self.create_network("--name", "many")
        for i in range(5):
            self.run_ok("member", "authorize", nwid, "00000001%02x" % i)
        before = self.member_gets()
        table = self.run_ok("member", "list", nwid)
        self.assertEqual(len(table.splitlines()), 6, table)
        self.assertEqual(self.member_gets(), before)
        self.run_ok("network", "delete", nwid)

    def test_errors_and_help(self):
        self.assertIn("refused the admin token", self.run_fail(3, "status", "--token", "wrong"))
        empty = os.path.join(TMP, "no-daemon-here")
        os.makedirs(empty, exist_ok=True)
        r = almanac("status", "--home", empty)
        self.assertEqual(r.returncode, 3)
        self.assertIn("no controller address in %s/api.address" % empty, r.stderr)
        r = almanac("network", "list", "--bogus")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr,
                         "almanac: unknown option '--bogus' (see 'almanac network --help')\n")
        r = almanac("network")
        self.assertEqual(r.returncode, 2)
        for words in (["network", "--help"], ["network", "create", "--help"],
                      ["member", "set", "--help"], ["status", "--help"],
                      ["import-zerotier", "--help"]):
            r = almanac(*words)
            self.assertEqual(r.returncode, 0, words)
            self.assertIn("Usage: almanac", r.stdout)
        self.assertEqual(almanac("frobnicate").returncode, 2)
        r = subprocess.run([ALMANACD, "--home", empty, "--zeroed-log-mib", "1025"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "almanacd: --zeroed-log-mib: at most 1024 (0: off)\n")

    def test_import_then_serve(self):
        vectors = vectors_dir()
        with open(os.path.join(vectors, "lab.json")) as f:
            lab = json.load(f)
        root = os.path.join(TMP, "import")
        net = os.path.join(root, "controller.d", "network")
        os.makedirs(os.path.join(net, LAB_NWID, "member"))
        with open(os.path.join(vectors, "controller_network.json")) as f:
            network_json = f.read()
        with open(os.path.join(net, LAB_NWID + ".json"), "w") as f:
            f.write(network_json)
        with open(os.path.join(vectors, "controller_member.json")) as f:
            member_json = f.read()
        with open(os.path.join(net, LAB_NWID, "member", LAB_MEMBER + ".json"), "w") as f:
            f.write(member_json)
        identity = os.path.join(root, "identity.secret")
        with open(identity, "w") as f:
            f.write(lab["nodes"]["C"]["secret"] + "\n")
        home = os.path.join(root, "home")

        r = almanac("import-zerotier", os.path.join(root, "controller.d"), "--home", home,
                    "--identity", identity)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("imported 1 networks and 1 members into %s" % home, r.stdout)

        daemon = start_daemon(home)
        try:
            r = almanac("status", "--home", home)
            self.assertIn("  address     949cb95e9d\n", r.stdout)
            r = almanac("member", "list", LAB_NWID, "--home", home)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"(?m)^%s +yes +- +10\.147\.20\.137 " % LAB_MEMBER)
            r = almanac("member", "show", LAB_NWID, LAB_MEMBER, "--home", home, "--json")
            member = json.loads(r.stdout)
            self.assertEqual(member["identity"], lab["nodes"]["M"]["public"])
            self.assertEqual(member["lastAuthorizedCredentialType"], "import")
            r = almanac("network", "show", LAB_NWID, "--home", home, "--json")
            self.assertEqual(json.loads(r.stdout)["name"], "vectors-private")
            # The running daemon holds the journal: a second import is refused clearly.
            r = almanac("import-zerotier", os.path.join(root, "controller.d"), "--home", home)
            self.assertEqual(r.returncode, 1)
            self.assertIn("stop almanacd on this home before importing", r.stderr)
        finally:
            daemon.stop()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
