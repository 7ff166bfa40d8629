#!/usr/bin/env python3
"""Write the golden capture files of synjitsu's frame parser, and its fuzz seeds.

Run from anywhere: python3 tests/synjitsu/data/make_pcaps.py. Plain Python (struct only), so
the frames are built byte by byte here and are the same on every run: the test
tests/synjitsu/test_synjitsu_frame.c knows what each frame is by its index, in the order
written below. linux-veth.pcap is different: it was captured once from real kernels (see
README.md beside this file) and is not written by this script.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "fuzz", "corpus", "synjitsu_frame")

CLIENT_MAC = bytes.fromhex("020000770001")
GUEST_MAC = bytes.fromhex("525400770002")
BROADCAST = b"\xff" * 6
CLIENT_IP = bytes([10, 77, 0, 1])
GUEST_IP = bytes([10, 77, 0, 2])


def checksum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ether(dst, src, ethertype, payload, tags=()):
    header = dst + src
    for tpid, tci in tags:
        header += struct.pack("!HH", tpid, tci)
    return header + struct.pack("!H", ethertype) + payload


def arp(op, sha, spa, tha, tpa, hrd=1, pro=0x0800):
    return struct.pack("!HHBBH", hrd, pro, len(sha), len(spa), op) + sha + spa + tha + tpa


def ipv4(src, dst, proto, payload, options=b"", flags_fragment=0x4000, total=None, ihl=None,
         version=4):
    ihl = ihl if ihl is not None else 5 + len(options) // 4
    total = total if total is not None else 20 + len(options) + len(payload)
    header = struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, 0, total, 0x1234, flags_fragment,
                         64, proto, 0, src, dst) + options
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def tcp(src, dst, sport, dport, flags, options=b"", seq=0x11223344, ack=0, offset=None,
        payload=b""):
    offset = offset if offset is not None else 5 + len(options) // 4
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, 64240, 0,
                         0) + options
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(header) + len(payload))
    sum_ = checksum(pseudo + header + payload)
    return header[:16] + struct.pack("!H", sum_) + header[18:] + payload


# Linux's SYN options: MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
LINUX_SYN_OPTIONS = bytes.fromhex("020405b40402080a0001e2400000000001030307")
SYN, ACK, RST = 0x02, 0x10, 0x04


def syn_segment(options=LINUX_SYN_OPTIONS):
    return tcp(CLIENT_IP, GUEST_IP, 40000, 80, SYN, options)


def syn_packet(ip_options=b""):
    return ipv4(CLIENT_IP, GUEST_IP, 6, syn_segment(), options=ip_options)


def valid_frames():
    # The order is the test's table: keep them in step.
    return [
        # 0: ARP request, who-has 10.77.0.2 tell 10.77.0.1 (42 bytes, as Linux sends it)
        ether(BROADCAST, CLIENT_MAC, 0x0806,
              arp(1, CLIENT_MAC, CLIENT_IP, b"\0" * 6, GUEST_IP)),
        # 1: ARP reply, 10.77.0.2 is-at 52:54:00:77:00:02, padded to 60 bytes
        ether(CLIENT_MAC, GUEST_MAC, 0x0806,
              arp(2, GUEST_MAC, GUEST_IP, CLIENT_MAC, CLIENT_IP) + b"\0" * 18),
        # 2: RFC 5227 announcement from the guest
        ether(BROADCAST, GUEST_MAC, 0x0806, arp(1, GUEST_MAC, GUEST_IP, b"\0" * 6, GUEST_IP)),
        # 3: RFC 5227 probe (sender address 0.0.0.0)
        ether(BROADCAST, GUEST_MAC, 0x0806,
              arp(1, GUEST_MAC, b"\0" * 4, b"\0" * 6, GUEST_IP)),
        # 4: TCP SYN 10.77.0.1:40000 > 10.77.0.2:80 with Linux's options
        ether(GUEST_MAC, CLIENT_MAC, 0x0800, syn_packet()),
        # 5: the same SYN with an IPv4 option (Router Alert, RFC 2113): IHL 6
        ether(GUEST_MAC, CLIENT_MAC, 0x0800, syn_packet(bytes.fromhex("94040000"))),
        # 6: the SYN behind an 802.1Q tag, VLAN 7
        ether(GUEST_MAC, CLIENT_MAC, 0x0800, syn_packet(), tags=[(0x8100, 7)]),
        # 7: the SYN behind 802.1ad 100 + 802.1Q 7
        ether(GUEST_MAC, CLIENT_MAC, 0x0800, syn_packet(), tags=[(0x88A8, 100), (0x8100, 7)]),
        # 8: SYN/ACK 10.77.0.2:80 > 10.77.0.1:40000
        ether(CLIENT_MAC, GUEST_MAC, 0x0800,
              ipv4(GUEST_IP, CLIENT_IP, 6,
                   tcp(GUEST_IP, CLIENT_IP, 80, 40000, SYN | ACK, LINUX_SYN_OPTIONS,
                       seq=0x55667788, ack=0x11223345))),
        # 9: UDP 10.77.0.1:5353 > 10.77.0.2:53
        ether(GUEST_MAC, CLIENT_MAC, 0x0800,
              ipv4(CLIENT_IP, GUEST_IP, 17, struct.pack("!HHHH", 5353, 53, 12, 0) + b"jits")),
        # 10: first fragment of a TCP SYN (more-fragments set): not a whole segment
        ether(GUEST_MAC, CLIENT_MAC, 0x0800, ipv4(CLIENT_IP, GUEST_IP, 6, syn_segment(),
                                                  flags_fragment=0x2000)),
        # 11: IPv6 (only the header: synjitsu does not look inside)
        ether(GUEST_MAC, CLIENT_MAC, 0x86DD, bytes.fromhex("6000000000003b40") + b"\0" * 32),
        # 12: ARP for another hardware type (IEEE 802, hrd 6): well-formed, not handled
        ether(BROADCAST, CLIENT_MAC, 0x0806,
              arp(1, CLIENT_MAC, CLIENT_IP, b"\0" * 6, GUEST_IP, hrd=6)),
        # 13: IEEE 802.3 frame with an LLC header (length 38 instead of a type)
        ether(BROADCAST, CLIENT_MAC, 38, bytes.fromhex("424203") + b"\0" * 35),
        # 14: TCP RST, 54 bytes padded to 60: the padding is not part of the segment
        ether(GUEST_MAC, CLIENT_MAC, 0x0800,
              ipv4(CLIENT_IP, GUEST_IP, 6, tcp(CLIENT_IP, GUEST_IP, 40000, 80, RST)))
        + b"\0" * 6,
        # 15: three VLAN tags: legal, deeper than synjitsu follows
        ether(GUEST_MAC, CLIENT_MAC, 0x0800, syn_packet(),
              tags=[(0x88A8, 100), (0x8100, 7), (0x8100, 8)]),
    ]


def malformed_frames():
    syn = syn_packet()
    good_tcp = syn_segment()
    return [
        # 0: shorter than an Ethernet header
        ether(BROADCAST, CLIENT_MAC, 0x0806, b"")[:13],
        # 1: 802.1Q tag cut in the middle
        (GUEST_MAC + CLIENT_MAC + struct.pack("!HH", 0x8100, 7)),
        # 2: ARP header cut short
        ether(BROADCAST, CLIENT_MAC, 0x0806, arp(1, CLIENT_MAC, CLIENT_IP, b"\0" * 6,
                                                 GUEST_IP)[:6]),
        # 3: ARP addresses cut short
        ether(BROADCAST, CLIENT_MAC, 0x0806, arp(1, CLIENT_MAC, CLIENT_IP, b"\0" * 6,
                                                 GUEST_IP)[:18]),
        # 4: IPv4 header cut short
        ether(GUEST_MAC, CLIENT_MAC, 0x0800, syn[:10]),
        # 5: version 6 in an IPv4 frame
        ether(GUEST_MAC, CLIENT_MAC, 0x0800, ipv4(CLIENT_IP, GUEST_IP, 6, good_tcp, version=6)),
        # 6: IHL 4
        ether(GUEST_MAC, CLIENT_MAC, 0x0800, ipv4(CLIENT_IP, GUEST_IP, 6, good_tcp, ihl=4)),
        # 7: total length 16, below the header length
        ether(GUEST_MAC, CLIENT_MAC, 0x0800, ipv4(CLIENT_IP, GUEST_IP, 6, good_tcp, total=16)),
        # 8: total length beyond the captured frame
        ether(GUEST_MAC, CLIENT_MAC, 0x0800, ipv4(CLIENT_IP, GUEST_IP, 6, good_tcp, total=1400)),
        # 9: IPv4 option with length 0
        ether(GUEST_MAC, CLIENT_MAC, 0x0800,
              ipv4(CLIENT_IP, GUEST_IP, 6, good_tcp, options=bytes.fromhex("94000000"))),
        # 10: IPv4 option running past the header
        ether(GUEST_MAC, CLIENT_MAC, 0x0800,
              ipv4(CLIENT_IP, GUEST_IP, 6, good_tcp, options=bytes.fromhex("01940800"))),
        # 11: TCP header cut short (IPv4 carries only 10 bytes of it)
        ether(GUEST_MAC, CLIENT_MAC, 0x0800, ipv4(CLIENT_IP, GUEST_IP, 6, good_tcp[:10])),
        # 12: TCP data offset 4
        ether(GUEST_MAC, CLIENT_MAC, 0x0800,
              ipv4(CLIENT_IP, GUEST_IP, 6, tcp(CLIENT_IP, GUEST_IP, 40000, 80, SYN, offset=4))),
        # 13: TCP data offset 15 in a 20-byte segment
        ether(GUEST_MAC, CLIENT_MAC, 0x0800,
              ipv4(CLIENT_IP, GUEST_IP, 6, tcp(CLIENT_IP, GUEST_IP, 40000, 80, SYN, offset=15))),
        # 14: TCP option (MSS) with length 1
        ether(GUEST_MAC, CLIENT_MAC, 0x0800,
              ipv4(CLIENT_IP, GUEST_IP, 6,
                   tcp(CLIENT_IP, GUEST_IP, 40000, 80, SYN, bytes.fromhex("020105b4")))),
    ]


def write_pcap(path, frames):
    with open(path, "wb") as out:
        # pcap file header: magic, version 2.4, zone, sigfigs, snaplen, LINKTYPE_ETHERNET
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for index, frame in enumerate(frames):
            out.write(struct.pack("<IIII", 1700000000 + index, 0, len(frame), len(frame)))
            out.write(frame)


def main():
    valid, malformed = valid_frames(), malformed_frames()
    write_pcap(os.path.join(HERE, "valid.pcap"), valid)
    write_pcap(os.path.join(HERE, "malformed.pcap"), malformed)
    os.makedirs(CORPUS, exist_ok=True)
    for name, frames in (("valid", valid), ("malformed", malformed)):
        for index, frame in enumerate(frames):
            with open(os.path.join(CORPUS, "%s-%02d" % (name, index)), "wb") as out:
                out.write(frame)


if __name__ == "__main__":
    main()
