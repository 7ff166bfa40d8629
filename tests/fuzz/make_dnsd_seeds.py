#!/usr/bin/env python3
"""Write the seed corpora of the dnsd_packet and dnsd_forward_reply fuzz targets
(tests/fuzz/corpus/dnsd_packet, tests/fuzz/corpus/dnsd_forward_reply).

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
FORWARD_CORPUS = os.path.join(HERE, "corpus", "dnsd_forward_reply")

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


# dnsd_forward_reply: one byte picking the client (fuzz_dnsd_forward_reply.c: bit 0 EDNS, bit 1
# DO, bits 2-3 the limit 512/1232/65535, bit 4 the upstream id read from the reply, bits 5-6
# the question), then an upstream reply to the first question, www.example.com A.
EDNS, DO, L1232, L65535, OWN_ID = 0x01, 0x02, 0x04, 0x08, 0x10


def reply(records=b"", an=0, ns=0, ar=0, flags=0x8180, ident=0xbeef, qname="www.example.com",
          qtype="A", extra=b""):
    return header(flags=flags, an=an, ns=ns, ar=ar, ident=ident) + question(qname, qtype) \
        + records + extra


def a_record(last):
    return b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, last])


NSID = struct.pack("!HH", 3, 8) + b"upstream"
TSIG_LIKE = name("key.example") + struct.pack("!HHIH", 250, 255, 0, 4) + b"\0\0\0\0"

FORWARD_SEEDS = {
    "answer-opt": bytes([EDNS | L1232]) + reply(a_record(80), an=1, ar=1,
                                                extra=opt(4096, options=NSID)),
    "answer-opt-do": bytes([EDNS | DO | L1232]) + reply(a_record(80), an=1, ar=1,
                                                        extra=opt(4096, dnssec_ok=True)),
    "answer-no-edns-client": bytes([0]) + reply(a_record(80), an=1, ar=1, extra=opt(4096)),
    "answer-no-opt": bytes([EDNS]) + reply(a_record(80), an=1),
    "answer-case": bytes([EDNS | L1232]) + reply(a_record(80), an=1, qname="WWW.example.COM"),
    "answer-tc": bytes([EDNS | L1232]) + reply(flags=0x8380, ar=1, extra=opt(1232)),
    "answer-big": bytes([EDNS]) + reply(b"".join(a_record(i) for i in range(60)), an=60, ar=1,
                                        extra=opt(4096)),
    "answer-big-tcp": bytes([EDNS | L65535]) + reply(b"".join(a_record(i) for i in range(60)),
                                                     an=60),
    "after-opt": bytes([EDNS | L1232]) + reply(a_record(80), an=1, ar=2,
                                               extra=opt(4096) + TSIG_LIKE),
    "two-opt": bytes([EDNS | L1232]) + reply(a_record(80), an=1, ar=2, extra=opt() + opt()),
    "opt-in-answer": bytes([EDNS | L1232]) + reply(opt(), an=1),
    "opt-badcookie": bytes([EDNS | L1232]) + reply(ar=1, extra=b"\0" + struct.pack(
        "!HHBBHH", 41, 1232, 1, 0, 0, 0)),
    "opt-owner-pointer": bytes([EDNS | L1232]) + reply(ar=1, extra=b"\xc0\x0c" + opt()[1:]),
    "refused-no-question": bytes([EDNS]) + header(flags=0x8185, qd=0, ident=0xbeef),
    "noerror-no-question": bytes([EDNS]) + header(flags=0x8180, qd=0, ident=0xbeef),
    "other-id": bytes([EDNS]) + reply(a_record(80), an=1, ident=0xbeee),
    "own-id": bytes([EDNS | OWN_ID]) + reply(a_record(80), an=1, ident=0x5151),
    "other-name": bytes([EDNS]) + reply(a_record(80), an=1, qname="www.example.net"),
    "other-type": bytes([EDNS]) + reply(a_record(80), an=1, qtype="AAAA"),
    "a-query": bytes([EDNS]) + reply(flags=0x0100),
    "notify": bytes([EDNS]) + reply(flags=0xa000),
    "record-cut": bytes([EDNS]) + reply(a_record(80)[:-2], an=1),
    "pointer-forward": bytes([EDNS]) + reply(b"\xc0\xff" + a_record(80)[2:], an=1),
    "pointer-loop": bytes([EDNS]) + reply(b"\xc0\x21" + a_record(80)[2:], an=1),
    "label-reserved": bytes([EDNS]) + reply(b"\x43abc\0" + a_record(80)[2:], an=1),
    "soa-question": bytes([EDNS | 0x40]) + reply(qname="example.com", qtype="SOA"),
    "root-ns": bytes([0x60]) + header(flags=0x8180, ident=0xbeef) + b"\0\0\2\0\1",
    # Found by the fuzzer: ldns reads 4 bytes of an A record whatever its RDLENGTH, and then
    # took the rest of the RDATA for the OPT; a PTR whose RDATA hides an OPT likewise.
    "a-rdata-longer-than-4": bytes([EDNS | L1232]) + reply(
        b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 7) + b"\xbe\xef\x81\x80\x00\x01\x00",
        an=1, ar=1, extra=opt()),
    "ptr-rdata-hides-an-opt": bytes([EDNS | L1232]) + reply(
        ar=2, extra=b"\xc0\x0c" + struct.pack("!HHIH", 12, 1, 30, 38) + b"\x04\xc0\x00\x02\x13"
        + b"\xc0\x0c" + b"\x00\x29\x04\xd0\x00\x00\x00\x3c\x00\x04\xc0\x00\x00\x04"
        + b"\0" * 15 + opt()),
    "short": bytes([EDNS]) + header(ident=0xbeef)[:7],
    "empty": bytes([EDNS]),
}


def write(corpus, seeds):
    os.makedirs(corpus, exist_ok=True)
    for seed, data in sorted(seeds.items()):
        with open(os.path.join(corpus, seed), "wb") as file:
            file.write(data)
    print("wrote %d seeds to %s" % (len(seeds), corpus))


def main():
    write(CORPUS, SEEDS)
    write(FORWARD_CORPUS, FORWARD_SEEDS)


if __name__ == "__main__":
    main()
