#!/usr/bin/env python3
"""Regenerates the seed corpora in fuzz/corpus/<target>/ (committed: they are data).

Seeds come from shared/vectors/zerotier-1.14.1 (real packets, planets, identities, API
bodies), from the rules test's table of every rule type, and from //fuzz:make_seeds
(journal records and snapshots). Each seed file is named by the SHA-1 of its bytes, as
libFuzzer names corpus files. Run from the repository root:
    fuzz/make_corpus.py [path/to/shared]
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
SEEDS_PER_TARGET_MAX = 40


def shared_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    return os.environ.get("ALMANAC_SHARED") or os.path.join(ROOT, "..", "shared")


class Corpus:
    def __init__(self):
        self.seeds = {}

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode()
        seeds = self.seeds.setdefault(target, {})
        if len(seeds) < SEEDS_PER_TARGET_MAX:
            seeds[hashlib.sha1(data).hexdigest()] = data

    def write(self):
        for target, seeds in self.seeds.items():
            d = os.path.join(CORPUS, target)
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            for name, data in seeds.items():
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
            print(f"{target}: {len(seeds)} seeds")


def u16(n):
    return n.to_bytes(2, "big")


def from_exchanges(c, vectors):
    """Packets as received, plaintext packets for the armor-by-us mode, config requests,
    dictionaries, and datagram streams for the reassembler."""
    for name in ("exchange.json", "fragmented/exchange.json"):
        with open(os.path.join(vectors, name)) as f:
            exchange = json.load(f)
        stream = b""
        received = 0
        for p in exchange["packets"]:
            wire = bytes.fromhex(p["udp_payload_hex"])
            source = 0 if p["src"].endswith("3") else 1
            stream += bytes([source, 1]) + u16(len(wire)) + wire
            if p.get("kind") != "packet" or p.get("fragmented_flag"):
                continue
            d = p.get("decoded", {})
            verb = d.get("verb")
            if verb is None:
                continue
            if received < 12:
                received += 1
                c.add("packet_fuzzer", b"\x00" + wire)
            if "payload_plain_hex" not in d:
                continue
            plain = bytes.fromhex(d["payload_plain_hex"])
            header = wire[:27]
            if d.get("compressed"):
                compressed = bytes.fromhex(d["payload_compressed_hex"])
                packet = header + bytes([0x80 | d["verb_code"]]) + compressed
            else:
                packet = header + plain
            c.add("packet_fuzzer", bytes([1 + 2 * (len(packet) % 2)]) + packet)
            if verb == "NETWORK_CONFIG_REQUEST":
                c.add("config_request_fuzzer", plain[1:])
                c.add("dictionary_fuzzer", d["fields"]["metadata_raw"])
        for i in range(0, len(stream), 6000):
            c.add("fragment_fuzzer", stream[i:i + 6000])


def from_dictionaries(c):
    c.add("dictionary_fuzzer", "a=1\nb=0\r\nc=0000000000000007\n\nd=x\\0y\\r\\n\\\\\\e")
    c.add("dictionary_fuzzer", "k=\\q\nempty=\nbin=\x01\x02\xff")
    c.add("dictionary_fuzzer", "a=1\x00b=2")


def from_identities(c, vectors):
    with open(os.path.join(vectors, "identities.json")) as f:
        ids = json.load(f)
    for v in ids["valid"][:6]:
        for text in (v["public"], v["secret"]):
            c.add("identity_fuzzer", b"\x00" + text.encode())
        parts = v["secret"].split(":")
        binary = bytes.fromhex(parts[0]) + b"\x00" + bytes.fromhex(parts[2])
        c.add("identity_fuzzer", b"\x01" + binary + b"\x00")
        c.add("identity_fuzzer", b"\x01" + binary + b"\x40" + bytes.fromhex(parts[3]))
    for v in ids["invalid"][:10]:
        c.add("identity_fuzzer", b"\x00" + v["string"].encode())


def from_planets(c, vectors):
    for name in ("planet", "fragmented/planet"):
        with open(os.path.join(vectors, name), "rb") as f:
            c.add("planet_fuzzer", f.read())


def from_addresses(c):
    for text in ("10.99.0.1/9991", "0.0.0.0/0", "255.255.255.255/65535", "fd00::1/9993",
                 "::/0", "fc09:e057:a773:d8c8:d12f::1/40", "::ffff:10.0.0.1/1"):
        c.add("inet_address_fuzzer", b"\x00" + text.encode())
    c.add("inet_address_fuzzer", b"\x01\x00\x04\x0a\x63\x00\x01\x27\x07")
    c.add("inet_address_fuzzer", b"\x01\x06" + bytes(range(16)) + b"\x26\x9d")


def from_api(c, vectors):
    with open(os.path.join(vectors, "lab.json")) as f:
        lab = json.load(f)
    c.add("network_json_fuzzer", json.dumps(lab["network_request_body"]))
    c.add("member_json_fuzzer", json.dumps(lab["member_request_body"]))
    for name, target in (("controller_network.json", "network_json_fuzzer"),
                         ("controller_member.json", "member_json_fuzzer")):
        with open(os.path.join(vectors, name)) as f:
            c.add(target, f.read())
    c.add("network_json_fuzzer", '{"routes":[{"target":"fd00::/8","via":null}],'
          '"dns":{"domain":"a.example","servers":["10.0.0.1"]},"mtu":"9000"}')
    c.add("member_json_fuzzer", '{"authorized":"true","ipAssignments":["10.0.0.9","fd00::9"],'
          '"tags":[[1,2]],"capabilities":[3]}')


def from_rules(c, vectors):
    with open(os.path.join(ROOT, "ctl", "net", "rules_test.cc")) as f:
        text = f.read()
    rules = []
    for rule, hexwire in re.findall(r'\{R"\((\{.*?\})\)",\s*"([0-9a-f]*)"\}', text, re.S):
        rules.append(rule)
        c.add("rules_fuzzer", b"\x00[" + rule.encode() + b"]")
        c.add("rules_fuzzer", b"\x01" + bytes.fromhex(hexwire))
    c.add("rules_fuzzer", b"\x00[" + ",".join(rules).encode() + b"]")
    with open(os.path.join(vectors, "controller_network.json")) as f:
        c.add("rules_fuzzer", b"\x00" + json.dumps(json.load(f)["rules"]).encode())


def from_project(c):
    """Records and snapshots come from //fuzz:make_seeds."""
    out = os.path.join(CORPUS, ".made")
    shutil.rmtree(out, ignore_errors=True)
    for target in ("record_fuzzer", "snapshot_fuzzer"):
        os.makedirs(os.path.join(out, target))
    subprocess.run(["bazel", "run", "//fuzz:make_seeds", "--", out], cwd=ROOT, check=True)
    for target in ("record_fuzzer", "snapshot_fuzzer"):
        for name in sorted(os.listdir(os.path.join(out, target))):
            with open(os.path.join(out, target, name), "rb") as f:
                c.add(target, f.read())
    shutil.rmtree(out)


def main():
    vectors = os.path.join(shared_dir(), "vectors", "zerotier-1.14.1")
    c = Corpus()
    from_exchanges(c, vectors)
    from_dictionaries(c)
    from_identities(c, vectors)
    from_planets(c, vectors)
    from_addresses(c)
    from_api(c, vectors)
    from_rules(c, vectors)
    from_project(c)
    c.write()


if __name__ == "__main__":
    main()
