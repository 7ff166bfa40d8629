#!/usr/bin/env python3
"""Write the seed corpus of the dnsd_packet fuzz target (tests/fuzz/corpus/dnsd_packet).

Run from anywhere: python3 tests/fuzz/make_dnsd_seeds.py. Plain Python (struct only): each
seed is a DNS message built byte by byte, named after what it exercises: the names of the
table fuzz_dnsd_packet.c builds (running, sleeping, wake-listed services, apexes, PTR, big
NS sets), every question type dnsd treats apart, every malformation NSD's checks name, and
COOKIE options of every length RFC 7873 accepts or refuses.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus", "dnsd_packet")

TYPES = {"A": 1, "NS": 2, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "OPT": 41, "IXFR": 251, "AXFR": 252, "ANY": 255}


def name(text):
    """Wire form of a presentation name (no escapes needed here)."""
    out = b""
    for label in text.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(flags=0x0100, qd=1, an=0, ns=0, ar=0, ident=0x4a17):
    return struct.pack("!HHHHHH", ident, flags, qd, an, ns, ar)


def question(qname, qtype="A", qclass=1):
    return name(qname) + struct.pack("!HH", TYPES[qtype], qclass)


def opt(payload=1232, version=0, dnssec_ok=False, options=b""):
    flags = 0x8000 if dnssec_ok else 0
    return b"\0" + struct.pack("!HHBBHH", 41, payload, 0, version, flags, len(options)) + options


def cookie(data):
    """A COOKIE option (RFC 7873 section 4) carrying DATA as it is, whatever its length."""
    return struct.pack("!HH", 10, len(data)) + data


def query(qname, qtype="A", edns=True, **kwargs):
    return header(ar=1 if edns else 0, **kwargs) + question(qname, qtype) + (opt() if edns else b"")


SEEDS = {
    "a-running": query("www.example.org"),
    "aaaa-running-noedns": query("www.example.org", "AAAA", edns=False),
    "any-running": query("WWW.Example.ORG", "ANY"),
    "a-sleeping": query("sleepy.example.org"),
    "aaaa-sleeping": query("sleepy.example.org", "AAAA"),
    "mx-sleeping": query("sleepy.example.org", "MX"),
    "a-guarded": query("g.example.net"),
    "soa-apex": query("example.net", "SOA"),
    "ns-apex-derived": query("example.org", "NS"),
    "ns-big-truncated": query("big.example", "NS", edns=False),
    "ns-big-edns": query("big.example", "NS"),
    "any-apex": query("example.net", "ANY"),
    "ptr": query("10.0.0.10.in-addr.arpa", "PTR"),
    "ptr-missing": query("99.0.0.10.in-addr.arpa", "PTR"),
    "nxdomain": query("nope.example.org"),
    "nodata-ent": query("b.example.net", "A"),
    "outside": query("www.example.com"),
    "axfr": query("example.net", "AXFR"),
    "ixfr": header(ns=1) + question("example.net", "IXFR"),
    "class-chaos": header() + question("version.bind", "TXT", qclass=3),
    "class-any": header() + question("www.example.org", "A", qclass=255),
    "do-bit": header(ar=1) + question("www.example.org") + opt(dnssec_ok=True),
    "edns-cookie": header(ar=1) + question("www.example.org")
    + opt(options=struct.pack("!HH", 10, 8) + b"\x01" * 8),
    "cookie-client-only": header(ar=1) + question("www.example.org")
    + opt(options=cookie(bytes.fromhex("2464c4abcf10c957"))),
    "cookie-rfc9018-a1": header(ar=1) + question("www.example.org")
    + opt(options=cookie(bytes.fromhex("2464c4abcf10c957010000005cf79f111f8130c3eee29480"))),
    "cookie-40": header(ar=1) + question("sleepy.example.org")
    + opt(options=cookie(b"\x11" * 8 + b"\x01" + b"\x22" * 31)),
    "cookie-short-7": header(ar=1) + question("www.example.org") + opt(options=cookie(b"\x01" * 7)),
    "cookie-9": header(ar=1) + question("www.example.org") + opt(options=cookie(b"\x01" * 9)),
    "cookie-41": header(ar=1) + question("www.example.org") + opt(options=cookie(b"\x01" * 41)),
    "cookie-twice": header(ar=1) + question("nope.example.org")
    + opt(options=cookie(b"\x01" * 8) + cookie(b"\x02" * 24)),
    "cookie-after-nsid": header(ar=1) + question("big.example", "NS")
    + opt(options=struct.pack("!HH", 3, 0) + cookie(b"\x03" * 8)),
    "cookie-badvers": header(ar=1) + question("www.example.org")
    + opt(version=1, options=cookie(b"\x04" * 8)),
    "opt-option-overrun": header(ar=1) + question("www.example.org")
    + opt(options=struct.pack("!HH", 3, 9) + b"abcd"),
    "edns-small-payload": header(ar=1) + question("www.example.org") + opt(payload=100),
    "badvers": header(ar=1) + question("www.example.org") + opt(version=1),
    "two-opt": header(ar=2) + question("www.example.org") + opt() + opt(),
    "opt-bad-rdlength": header(ar=1) + question("www.example.org") + opt()[:-2] + b"\x00\x40",
    "opt-owner-pointer": header(ar=1) + question("www.example.org")
    + b"\xc0\x0c" + opt()[1:],
    "trailing-garbage": query("www.example.org") + b"garbage",
    "short": header()[:7],
    "header-only": header(qd=0),
    "response": header(flags=0x8100) + question("www.example.org"),
    "opcode-notify": header(flags=0x2000) + question("example.net", "SOA"),
    "opcode-update": header(flags=0x2800, qd=1) + question("example.net", "SOA"),
    "rcode-set": header(flags=0x0103) + question("www.example.org"),
    "qdcount-2": header(qd=2) + question("www.example.org") + question("example.net", "SOA"),
    "qdcount-0-edns": header(qd=0, ar=1) + opt(),
    "ancount-1": header(an=1) + question("www.example.org"),
    "pointer-in-question": header() + b"\xc0\x0c\x00\x01\x00\x01",
    "pointer-loop": header() + b"\x03www\xc0\x0c\x00\x01\x00\x01",
    "label-reserved": header() + b"\x43abc\x00\x00\x01\x00\x01",
    "label-past-end": header() + b"\x3fabc",
    "name-too-long": header() + (b"\x3f" + b"a" * 63) * 4 + b"\0\0\1\0\1",
    "question-cut": header() + question("www.example.org")[:-2],
}


def main():
    os.makedirs(CORPUS, exist_ok=True)
    for seed, data in sorted(SEEDS.items()):
        with open(os.path.join(CORPUS, seed), "wb") as file:
            file.write(data)
    print("wrote %d seeds to %s" % (len(SEEDS), CORPUS))


if __name__ == "__main__":
    main()
