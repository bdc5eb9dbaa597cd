"""API conformance against a real almanacd process.

Goal: the admin API a whole daemon serves answers every step of the shared table
ctl/api/testdata/conformance.json (every endpoint and field, defaults, clamps, revisions,
401/404/400/405) with the expected status and body. The same table runs in process
(//ctl/api:conformance_test); this driver adds the real process: flags, the generated
token and identity, HTTP over a real socket. Method: start //ctl:almanacd on 127.0.0.1
port 0 with a fresh home under $TEST_TMPDIR, then send each step on one keep-alive
connection (http.client) in order.
"""

import json
import os
import re
import unittest
import urllib.parse

from almanacd_process import Daemon, RUNFILES, TMP

TABLE = os.path.join(RUNFILES, "ctl", "api", "testdata", "conformance.json")


def substitute(value, saved):
    """'{NAME}' in strings becomes the saved value, recursively."""
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: str(saved[m.group(1)]), value)
    if isinstance(value, list):
        return [substitute(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, saved) for k, v in value.items()}
    return value


def mismatch(want, got, exact, saved, where="body"):
    """Returns None when got matches want (see the table's "about"), else the difference."""
    if isinstance(want, str) and want.startswith("$"):
        if want == "$int":
            ok = isinstance(got, int) and not isinstance(got, bool)
        elif want == "$nonzero":
            ok = isinstance(got, int) and not isinstance(got, bool) and got != 0
        elif want == "$string":
            ok = isinstance(got, str)
        elif want.startswith("$var:"):
            ok = got == saved[want[5:]]
        else:
            raise AssertionError("unknown matcher " + want)
        return None if ok else "%s: %r is not %s" % (where, got, want)
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return "%s: %r is not an object" % (where, got)
        for key, w in want.items():
            if w == "$absent":
                if key in got:
                    return "%s.%s: present" % (where, key)
                continue
            if key not in got:
                return "%s.%s: missing" % (where, key)
            diff = mismatch(w, got[key], exact, saved, where + "." + key)
            if diff:
                return diff
        extra = set(got) - set(want)
        if exact and extra:
            return "%s: unexpected keys %s" % (where, sorted(extra))
        return None
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return "%s: %r does not have %d items" % (where, got, len(want))
        for i, (w, g) in enumerate(zip(want, got)):
            diff = mismatch(w, g, exact, saved, "%s[%d]" % (where, i))
            if diff:
                return diff
        return None
    if type(want) != type(got) or want != got:  # True must not equal 1
        return "%s: %r, want %r" % (where, got, want)
    return None


class ApiConformanceTest(unittest.TestCase):

    def test_table(self):
        home = os.path.join(TMP, "home")
        daemon = Daemon(home)
        try:
            with open(os.path.join(home, "identity.public")) as f:
                controller = f.read().strip()[:10]
            self.run_table(daemon, controller)
        finally:
            self.assertEqual(daemon.stop(), 0)

    def run_table(self, daemon, controller):
        with open(TABLE) as f:
            steps = json.load(f)["steps"]
        saved = {"ctl": controller}
        token = daemon.token
        conn = daemon.connect()
        for n, step in enumerate(steps):
            label = "step %d %r: %s %s" % (n, step["name"], step["method"], step["path"])
            path = substitute(step["path"], saved)
            headers = {}
            auth = step.get("auth", "header")
            if auth == "header":
                headers["X-ZT1-Auth"] = token
            elif auth == "bearer":
                headers["Authorization"] = "Bearer " + token
            elif auth == "plain":
                headers["Authorization"] = token
            elif auth == "wrong":
                headers["X-ZT1-Auth"] = "x" * len(token)
            elif auth == "query":
                path += "?auth=" + urllib.parse.quote(token)
            body = None
            if "body" in step:
                b = substitute(step["body"], saved)
                body = b if isinstance(b, str) else json.dumps(b)
            conn.request(step["method"], path, body=body, headers=headers)
            resp = conn.getresponse()
            raw = resp.read().decode()
            self.assertEqual(resp.status, step["status"], "%s -> %s" % (label, raw[:300]))
            if "allow" in step:
                self.assertEqual(resp.getheader("Allow"), step["allow"], label)
            if "contains" in step:
                self.assertIn(step["contains"], raw, label)
            got = None
            if "expect" in step or "save" in step:
                got = json.loads(raw)
            if "expect" in step:
                diff = mismatch(substitute(step["expect"], saved), got,
                                step.get("exact", False), saved)
                self.assertIsNone(diff, "%s -> %s" % (label, raw[:500]))
            for name, key in step.get("save", {}).items():
                saved[name] = got[key]
        conn.close()
        print("api_conformance_test: %d steps passed against almanacd" % len(steps))


if __name__ == "__main__":
    unittest.main(verbosity=2)
