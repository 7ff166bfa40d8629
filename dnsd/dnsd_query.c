/*  dnsd_query: reading a query, every byte length-checked.

    DNS message format, RFC 1035 section 4.1; EDNS(0) OPT record, RFC 6891 section 6.1.  */

#include <string.h>

#include "dnsd_query.h"

static inline uint16_t
s_u16 (const uint8_t *bytes)
{
    return (uint16_t) ((bytes[0] << 8) | bytes[1]);
}

//  The question name at OFFSET, labels only (RFC 1035 section 4.1.2; a compression pointer
//  there is refused, as NSD refuses it). Fills lower, qname_length and hash. Returns the
//  offset after the name, or 0 when it is malformed.
static size_t
s_read_qname (dnsd_query_t *self, const uint8_t *packet, size_t size, size_t offset)
{
    size_t start = offset;
    uint32_t hash = 2166136261u;
    for (;;) {
        if (offset >= size)
            return 0;
        uint8_t length = packet[offset];
        if (length > DNSD_LABEL_MAX)
            return 0;  // a pointer (0xC0) or a reserved label type (0x40, 0x80)
        if (offset - start + 1 + length > DNSD_NAME_MAX || offset + 1 + (size_t) length > size)
            return 0;
        self->lower[offset - start] = length;
        hash = (hash ^ length) * 16777619u;
        for (size_t index = 1; index <= length; index++) {
            uint8_t byte = packet[offset + index];
            if (byte >= 'A' && byte <= 'Z')
                byte |= 0x20;
            self->lower[offset - start + index] = byte;
            hash = (hash ^ byte) * 16777619u;
        }
        offset += 1 + (size_t) length;
        if (length == 0)
            break;
    }
    self->qname = packet + start;
    self->qname_length = offset - start;
    self->hash = hash;
    return offset;
}

//  The options of an OPT record's RDATA (LENGTH bytes at OPTIONS): code, length, data each
//  (RFC 6891 section 6.1.2). Keeps the first COOKIE (RFC 7873 section 4). Returns false when
//  an option runs past the RDATA or a COOKIE has a length RFC 7873 section 5.2.2 refuses.
static bool
s_read_options (dnsd_query_t *self, const uint8_t *options, size_t length)
{
    size_t offset = 0;
    while (offset < length) {
        if (offset + 4 > length)
            return false;
        uint16_t code = s_u16 (options + offset), size = s_u16 (options + offset + 2);
        offset += 4;
        if (offset + size > length)
            return false;
        if (code == DNSD_OPTION_COOKIE && !self->cookie) {
            if (!dnsd_cookie_length_ok (size))
                return false;
            self->cookie = options + offset;
            self->cookie_length = size;
        }
        offset += size;
    }
    return true;
}

dnsd_query_status_t
dnsd_query_parse (dnsd_query_t *self, const uint8_t *packet, size_t size)
{
    self->edns = false;
    self->edns_do = false;
    self->edns_version = 0;
    self->edns_payload = DNSD_UDP_LEGACY;
    self->cookie = NULL;
    self->cookie_length = 0;
    self->cookie_reply_length = 0;
    if (size < DNSD_HEADER_SIZE)
        return DNSD_QUERY_DROP;
    self->id = s_u16 (packet);
    self->flags = s_u16 (packet + 2);
    if (self->flags & DNSD_FLAG_QR)
        return DNSD_QUERY_DROP;  // a response sent to us: answering could start a loop
    if (((self->flags >> 11) & 0x0f) != 0)
        return DNSD_QUERY_NOTIMP;
    if ((self->flags & 0x0f) != 0)
        return DNSD_QUERY_FORMERR;  // a query carries no RCODE
    uint16_t qdcount = s_u16 (packet + 4), ancount = s_u16 (packet + 6);
    uint16_t nscount = s_u16 (packet + 8), arcount = s_u16 (packet + 10);

    size_t offset = s_read_qname (self, packet, size, DNSD_HEADER_SIZE);
    if (offset == 0 || offset + 4 > size)
        return DNSD_QUERY_FORMERR;
    self->qtype = s_u16 (packet + offset);
    self->qclass = s_u16 (packet + offset + 2);
    offset += 4;
    self->question_end = offset;
    if (qdcount != 1 || ancount != 0 || nscount != 0)
        return DNSD_QUERY_FORMERR;

    //  Additional section: one OPT record at most, and nothing else (no TSIG support).
    //  OPT: root owner, TYPE 41, CLASS = payload size, TTL = extended RCODE, version, DO
    //  bit and Z, then RDLENGTH and options (RFC 6891 section 6.1.2-6.1.4).
    for (uint16_t index = 0; index < arcount; index++) {
        if (offset + 11 > size || packet[offset] != 0
            || s_u16 (packet + offset + 1) != DNSD_TYPE_OPT || self->edns)
            return DNSD_QUERY_FORMERR;
        uint16_t payload = s_u16 (packet + offset + 3);
        self->edns = true;
        self->edns_payload = payload < DNSD_UDP_LEGACY ? DNSD_UDP_LEGACY : payload;
        self->edns_version = packet[offset + 6];
        self->edns_do = (packet[offset + 7] & 0x80) != 0;
        uint16_t rdlength = s_u16 (packet + offset + 9);
        offset += 11;
        if (offset + rdlength > size || !s_read_options (self, packet + offset, rdlength))
            return DNSD_QUERY_FORMERR;
        offset += rdlength;
    }
    //  Trailing bytes after the last record are ignored, as NSD ignores them.
    self->records_end = offset;
    if (self->edns && self->edns_version != 0)
        return DNSD_QUERY_BADVERS;
    return DNSD_QUERY_OK;
}

size_t
dnsd_query_udp_limit (const dnsd_query_t *self)
{
    if (!self->edns)
        return DNSD_UDP_LEGACY;
    return self->edns_payload < DNSD_EDNS_PAYLOAD ? self->edns_payload : DNSD_EDNS_PAYLOAD;
}
