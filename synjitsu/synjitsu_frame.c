/*  synjitsu_frame: parsing Ethernet, 802.1Q, ARP, IPv4 and TCP headers with length checks.

    Every read goes through s_read8/s_read16/s_read32, which check the offset against the
    captured size; nothing casts the buffer to a struct.  */

#include <stdio.h>
#include <string.h>

#include "synjitsu_frame.h"

static bool
s_read8 (const uint8_t *data, size_t size, size_t offset, uint8_t *value)
{
    if (offset >= size)
        return false;
    *value = data[offset];
    return true;
}

static bool
s_read16 (const uint8_t *data, size_t size, size_t offset, uint16_t *value)
{
    if (offset > size || size - offset < 2)
        return false;
    *value = (uint16_t) (data[offset] << 8 | data[offset + 1]);
    return true;
}

static bool
s_read32 (const uint8_t *data, size_t size, size_t offset, uint32_t *value)
{
    if (offset > size || size - offset < 4)
        return false;
    *value = (uint32_t) data[offset] << 24 | (uint32_t) data[offset + 1] << 16
             | (uint32_t) data[offset + 2] << 8 | data[offset + 3];
    return true;
}

//  Copy COUNT bytes at OFFSET into TARGET. Returns false when they were not captured.
static bool
s_read_bytes (const uint8_t *data, size_t size, size_t offset, void *target, size_t count)
{
    if (offset > size || size - offset < count)
        return false;
    memcpy (target, data + offset, count);
    return true;
}

static int
s_malformed (synjitsu_frame_t *self, const char *why)
{
    self->kind = SYNJITSU_FRAME_OTHER;
    self->error = why;
    return -2;
}

//  Options shared by IPv4 (RFC 791, section 3.1) and TCP (RFC 9293, section 3.1): kind 0 ends
//  the list, kind 1 is one byte of padding, every other kind has a length byte that counts
//  the kind and length bytes themselves, so it is at least 2 and must stay inside the header.
static bool
s_options_ok (const uint8_t *data, size_t start, size_t end)
{
    size_t offset = start;
    while (offset < end) {
        uint8_t kind = data[offset];
        if (kind == 0)
            return true;
        if (kind == 1) {
            offset++;
            continue;
        }
        if (end - offset < 2)
            return false;
        uint8_t length = data[offset + 1];
        if (length < 2 || length > end - offset)
            return false;
        offset += length;
    }
    return true;
}

//  ARP, RFC 826: hrd(2) pro(2) hln(1) pln(1) op(2) sha(hln) spa(pln) tha(hln) tpa(pln).
//  Only Ethernet (hrd 1, hln 6) resolving IPv4 (pro 0x0800, pln 4) is ours; other hardware
//  and protocol pairs are well-formed ARP that synjitsu does not handle.
static int
s_parse_arp (synjitsu_frame_t *self, const uint8_t *data, size_t size)
{
    size_t at = self->l3_offset;
    uint16_t hardware, protocol;
    uint8_t hardware_size, protocol_size;
    if (!s_read16 (data, size, at, &hardware) || !s_read16 (data, size, at + 2, &protocol)
        || !s_read8 (data, size, at + 4, &hardware_size)
        || !s_read8 (data, size, at + 5, &protocol_size)
        || !s_read16 (data, size, at + 6, &self->arp_op))
        return s_malformed (self, "arp: header truncated");
    size_t body = 2 * ((size_t) hardware_size + protocol_size);
    if (size - (at + 8) < body)
        return s_malformed (self, "arp: addresses truncated");
    if (hardware != 1 || protocol != SYNJITSU_ETHERTYPE_IPV4 || hardware_size != 6
        || protocol_size != 4)
        return 0;  // kind stays OTHER
    at += 8;
    s_read_bytes (data, size, at, self->arp_sha, 6);
    s_read_bytes (data, size, at + 6, &self->arp_spa.s_addr, 4);
    s_read_bytes (data, size, at + 10, self->arp_tha, 6);
    s_read_bytes (data, size, at + 16, &self->arp_tpa.s_addr, 4);
    self->kind = SYNJITSU_FRAME_ARP;
    return 0;
}

//  TCP, RFC 9293 section 3.1: sport(2) dport(2) seq(4) ack(4) data offset(4 bits)
//  reserved(4 bits) flags(1) window(2) checksum(2) urgent(2), options to data offset * 4.
static int
s_parse_tcp (synjitsu_frame_t *self, const uint8_t *data, size_t size)
{
    size_t at = self->l3_offset + self->ip_header_size;
    size_t segment = self->ip_total_size - self->ip_header_size;
    uint8_t offset_byte;
    if (segment < 20 || !s_read16 (data, size, at, &self->tcp_sport)
        || !s_read16 (data, size, at + 2, &self->tcp_dport)
        || !s_read32 (data, size, at + 4, &self->tcp_seq)
        || !s_read8 (data, size, at + 12, &offset_byte)
        || !s_read8 (data, size, at + 13, &self->tcp_flags))
        return s_malformed (self, "tcp: header truncated");
    self->tcp_offset = at;
    self->tcp_header_size = (size_t) (offset_byte >> 4) * 4;
    if (self->tcp_header_size < 20)
        return s_malformed (self, "tcp: data offset below 5");
    if (self->tcp_header_size > segment)
        return s_malformed (self, "tcp: data offset beyond the segment");
    if (!s_options_ok (data, at + 20, at + self->tcp_header_size))
        return s_malformed (self, "tcp: bad option length");
    self->kind = SYNJITSU_FRAME_TCP;
    return 0;
}

//  IPv4, RFC 791 section 3.1: version(4 bits) IHL(4 bits) tos(1) total length(2) id(2)
//  flags and fragment offset(2) ttl(1) protocol(1) checksum(2) source(4) destination(4),
//  options up to IHL * 4. The checksum is not verified: frames captured on the host side
//  of a veth carry the partial checksum of offload and are still real traffic.
static int
s_parse_ipv4 (synjitsu_frame_t *self, const uint8_t *data, size_t size)
{
    size_t at = self->l3_offset;
    uint8_t version_ihl;
    uint16_t total, fragment;
    if (!s_read8 (data, size, at, &version_ihl) || !s_read16 (data, size, at + 2, &total)
        || !s_read16 (data, size, at + 6, &fragment)
        || !s_read8 (data, size, at + 9, &self->ip_protocol)
        || !s_read_bytes (data, size, at + 12, &self->ip_src.s_addr, 4)
        || !s_read_bytes (data, size, at + 16, &self->ip_dst.s_addr, 4))
        return s_malformed (self, "ipv4: header truncated");
    if (version_ihl >> 4 != 4)
        return s_malformed (self, "ipv4: version is not 4");
    self->ip_header_size = (size_t) (version_ihl & 0x0f) * 4;
    self->ip_total_size = total;
    if (self->ip_header_size < 20)
        return s_malformed (self, "ipv4: IHL below 5");
    if (self->ip_total_size < self->ip_header_size)
        return s_malformed (self, "ipv4: total length below the header length");
    if (self->ip_total_size > size - at)
        return s_malformed (self, "ipv4: total length beyond the frame");
    if (!s_options_ok (data, at + 20, at + self->ip_header_size))
        return s_malformed (self, "ipv4: bad option length");
    self->kind = SYNJITSU_FRAME_IPV4;
    //  A fragment (more-fragments set or a non-zero offset) is not a whole segment.
    bool fragmented = (fragment & 0x2000) || (fragment & 0x1fff);
    if (self->ip_protocol != IPPROTO_TCP || fragmented)
        return 0;
    return s_parse_tcp (self, data, size);
}

//  Ethernet II (IEEE 802.3 clause 3.2.6): destination(6) source(6) EtherType(2); values
//  below 0x0600 are 802.3 lengths (LLC frames), not types. 802.1Q/802.1ad tags (IEEE 802.1Q
//  clause 9) insert TPID(2) TCI(2) before the EtherType; at most two are followed.
int
synjitsu_frame_parse (synjitsu_frame_t *self, const uint8_t *data, size_t size)
{
    memset (self, 0, sizeof *self);
    if (!data || size < SYNJITSU_ETHER_HEADER)
        return s_malformed (self, "ethernet: shorter than 14 bytes");
    s_read_bytes (data, size, 0, self->dst_mac, 6);
    s_read_bytes (data, size, 6, self->src_mac, 6);
    size_t at = 12;
    uint16_t type;
    s_read16 (data, size, at, &type);
    while (type == SYNJITSU_ETHERTYPE_VLAN || type == SYNJITSU_ETHERTYPE_QINQ) {
        if (self->vlan_count == SYNJITSU_VLANS_MAX)
            return 0;  // deeper stacks are legal but not ours: kind OTHER
        synjitsu_vlan_t *vlan = &self->vlans[self->vlan_count++];
        vlan->tpid = type;
        if (!s_read16 (data, size, at + 2, &vlan->tci)
            || !s_read16 (data, size, at + 4, &type))
            return s_malformed (self, "802.1q: tag truncated");
        at += SYNJITSU_VLAN_TAG;
    }
    self->ethertype = type;
    self->l3_offset = at + 2;
    if (type == SYNJITSU_ETHERTYPE_ARP)
        return s_parse_arp (self, data, size);
    if (type == SYNJITSU_ETHERTYPE_IPV4)
        return s_parse_ipv4 (self, data, size);
    return 0;
}

bool
synjitsu_frame_is_syn (const synjitsu_frame_t *self)
{
    return self->kind == SYNJITSU_FRAME_TCP
           && (self->tcp_flags & (SYNJITSU_TCP_SYN | SYNJITSU_TCP_ACK | SYNJITSU_TCP_RST))
                  == SYNJITSU_TCP_SYN;
}

//  The Internet checksum, RFC 1071: the ones' complement of the ones' complement sum of the
//  16-bit words, an odd last byte padded with zero. SUM carries a partial sum in.
static uint32_t
s_sum (const uint8_t *data, size_t size, uint32_t sum)
{
    for (size_t index = 0; index + 1 < size; index += 2)
        sum += (uint32_t) (data[index] << 8 | data[index + 1]);
    if (size & 1)
        sum += (uint32_t) data[size - 1] << 8;
    return sum;
}

static uint16_t
s_fold (uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t) ~sum;
}

//  The TCP checksum covers a pseudo-header (RFC 9293 section 3.1: source, destination, zero,
//  protocol, TCP length) and the whole segment, with the checksum field taken as it is.
static uint16_t
s_tcp_sum (const synjitsu_frame_t *frame, const uint8_t *data)
{
    size_t length = frame->ip_total_size - frame->ip_header_size;
    const uint8_t *addresses = data + frame->l3_offset + 12;  // source then destination
    uint32_t sum = s_sum (addresses, 8, 0);
    sum += IPPROTO_TCP;
    sum += (uint32_t) length;
    return s_fold (s_sum (data + frame->tcp_offset, length, sum));
}

int
synjitsu_frame_checksum (uint8_t *data, size_t size)
{
    synjitsu_frame_t frame;
    if (synjitsu_frame_parse (&frame, data, size) || frame.kind != SYNJITSU_FRAME_TCP)
        return -2;
    uint8_t *ip = data + frame.l3_offset;
    ip[10] = ip[11] = 0;
    uint16_t sum = s_fold (s_sum (ip, frame.ip_header_size, 0));
    ip[10] = (uint8_t) (sum >> 8);
    ip[11] = (uint8_t) sum;
    uint8_t *tcp = data + frame.tcp_offset;
    tcp[16] = tcp[17] = 0;
    sum = s_tcp_sum (&frame, data);
    tcp[16] = (uint8_t) (sum >> 8);
    tcp[17] = (uint8_t) sum;
    return 0;
}

bool
synjitsu_frame_checksum_ok (const synjitsu_frame_t *self, const uint8_t *data)
{
    if (self->kind != SYNJITSU_FRAME_TCP)
        return false;
    //  Summing a header with its correct checksum in place gives zero.
    return s_fold (s_sum (data + self->l3_offset, self->ip_header_size, 0)) == 0
           && s_tcp_sum (self, data) == 0;
}

char *
synjitsu_frame_mac_text (const uint8_t *mac, char *text)
{
    snprintf (text, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
              mac[5]);
    return text;
}

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
synjitsu_frame_mac_parse (const char *text, uint8_t *mac)
{
    if (!text || strlen (text) != 17)
        return -1;
    for (int index = 0; index < 6; index++) {
        const char *pair = text + index * 3;
        int high = s_hex (pair[0]), low = s_hex (pair[1]);
        if (high < 0 || low < 0 || (index < 5 && pair[2] != ':'))
            return -1;
        mac[index] = (uint8_t) (high << 4 | low);
    }
    return 0;
}
