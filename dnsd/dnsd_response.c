/*  dnsd_response: header, echoed question, records, OPT, truncation.  */

#include <string.h>

#include "dnsd_response.h"

#define S_OPT_SIZE 11  // root owner, TYPE, CLASS, TTL, RDLENGTH: RFC 6891 section 6.1.2

static inline void
s_put16 (uint8_t *bytes, uint16_t value)
{
    bytes[0] = (uint8_t) (value >> 8);
    bytes[1] = (uint8_t) value;
}

static inline void
s_put32 (uint8_t *bytes, uint32_t value)
{
    bytes[0] = (uint8_t) (value >> 24);
    bytes[1] = (uint8_t) (value >> 16);
    bytes[2] = (uint8_t) (value >> 8);
    bytes[3] = (uint8_t) value;
}

void
dnsd_response_begin (dnsd_response_t *self, uint8_t *buffer, size_t max, const dnsd_query_t *query,
                     const uint8_t *packet, int rcode, bool authoritative)
{
    self->data = buffer;
    self->max = max;
    self->overflow = false;
    self->counts[0] = self->counts[1] = self->counts[2] = 0;
    self->reserve = S_OPT_SIZE + (query->cookie_reply_length ? 4 + query->cookie_reply_length : 0);
    //  Opcode (0), RD and CD come back as sent; AD is never set: dnsd does not validate.
    uint16_t flags =
        DNSD_FLAG_QR | (query->flags & (DNSD_FLAG_RD | DNSD_FLAG_CD)) | (uint16_t) (rcode & 0x0f);
    if (authoritative)
        flags |= DNSD_FLAG_AA;
    s_put16 (buffer, query->id);
    s_put16 (buffer + 2, flags);
    s_put16 (buffer + 4, 1);
    memset (buffer + 6, 0, 6);
    //  The question as sent: name, type, class. It fits: a parsed question is at most 259
    //  bytes and every buffer holds 512.
    size_t question = query->question_end - DNSD_HEADER_SIZE;
    memcpy (buffer + DNSD_HEADER_SIZE, packet + DNSD_HEADER_SIZE, question);
    self->size = self->question_end = DNSD_HEADER_SIZE + question;
}

void
dnsd_response_add (dnsd_response_t *self, dnsd_section_t section, uint16_t owner_offset,
                   uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlength)
{
    //  Keep room for the OPT record finish may append; a record is never split.
    size_t need = 2 + 10 + (size_t) rdlength;
    if (self->overflow || self->size + need + self->reserve > self->max) {
        self->overflow = true;
        return;
    }
    uint8_t *out = self->data + self->size;
    s_put16 (out, (uint16_t) (0xc000 | owner_offset));
    s_put16 (out + 2, type);
    s_put16 (out + 4, DNSD_CLASS_IN);
    s_put32 (out + 6, ttl);
    s_put16 (out + 10, rdlength);
    memcpy (out + 12, rdata, rdlength);
    self->size += need;
    self->counts[section]++;
}

uint16_t
dnsd_response_suffix (const dnsd_query_t *query, size_t zone_length)
{
    return (uint16_t) (DNSD_HEADER_SIZE + query->qname_length - zone_length);
}

void
dnsd_response_set_rcode (dnsd_response_t *self, int rcode)
{
    self->data[3] = (uint8_t) ((self->data[3] & 0xf0) | (rcode & 0x0f));
}

size_t
dnsd_response_finish (dnsd_response_t *self, const dnsd_query_t *query, int rcode)
{
    if (self->overflow) {
        //  RFC 2181 section 9: a truncated answer is a hint to retry over TCP; whole RRsets
        //  or nothing, and dnsd's answers are one RRset, so nothing.
        self->size = self->question_end;
        self->counts[0] = self->counts[1] = self->counts[2] = 0;
        self->data[2] |= DNSD_FLAG_TC >> 8;
    }
    if (query->edns) {
        uint8_t *out = self->data + self->size;
        out[0] = 0;
        s_put16 (out + 1, DNSD_TYPE_OPT);
        s_put16 (out + 3, DNSD_EDNS_PAYLOAD);
        out[5] = (uint8_t) (rcode >> 4);  // extended RCODE: the upper 8 of 12 bits
        out[6] = 0;                       // version 0
        out[7] = query->edns_do ? 0x80 : 0;
        out[8] = 0;
        s_put16 (out + 9, 0);
        self->size += S_OPT_SIZE;
        if (query->cookie_reply_length) {
            //  RFC 7873 section 5.2: the client cookie and dnsd's server cookie.
            s_put16 (out + 9, (uint16_t) (4 + query->cookie_reply_length));
            s_put16 (out + 11, DNSD_OPTION_COOKIE);
            s_put16 (out + 13, (uint16_t) query->cookie_reply_length);
            memcpy (out + 15, query->cookie_reply, query->cookie_reply_length);
            self->size += 4 + query->cookie_reply_length;
        }
        self->counts[DNSD_SECTION_ADDITIONAL]++;
    }
    s_put16 (self->data + 6, self->counts[0]);
    s_put16 (self->data + 8, self->counts[1]);
    s_put16 (self->data + 10, self->counts[2]);
    return self->size;
}

size_t
dnsd_response_error (uint8_t *buffer, const uint8_t *packet, int rcode)
{
    //  NSD's query_error: QR and RCODE set, AD cleared, the question dropped; for FORMERR
    //  (query_formerr) every flag but RD is cleared first, the opcode kept.
    uint16_t flags = (uint16_t) ((packet[2] << 8) | packet[3]);
    if (rcode == DNSD_RCODE_FORMERR)
        flags &= (uint16_t) (DNSD_FLAG_RD | 0x7800);
    flags = (uint16_t) ((flags & ~(DNSD_FLAG_AD | 0x000f)) | DNSD_FLAG_QR | (rcode & 0x0f));
    buffer[0] = packet[0];
    buffer[1] = packet[1];
    s_put16 (buffer + 2, flags);
    memset (buffer + 4, 0, 8);
    return DNSD_HEADER_SIZE;
}
