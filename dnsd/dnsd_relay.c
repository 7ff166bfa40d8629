/*  dnsd_relay: the upstream query, and the upstream reply checked and rewritten for the
    client. Every byte of the reply is read through a length check; ldns parses the result.  */

#include <ldns/ldns.h>
#include <string.h>

#include "dnsd_relay.h"

#define S_OPCODE_MASK 0x7800
#define S_RCODE_MASK  0x000f

static inline uint16_t
s_get16 (const uint8_t *bytes)
{
    return (uint16_t) ((bytes[0] << 8) | bytes[1]);
}

static inline void
s_put16 (uint8_t *bytes, uint16_t value)
{
    bytes[0] = (uint8_t) (value >> 8);
    bytes[1] = (uint8_t) value;
}

//  dnsd's OPT at OUT (RFC 6891 section 6.1.2): its payload, extended RCODE 0, version 0, DO
//  as given, no options.
static void
s_put_opt (uint8_t *out, bool dnssec_ok)
{
    out[0] = 0;
    s_put16 (out + 1, DNSD_TYPE_OPT);
    s_put16 (out + 3, DNSD_EDNS_PAYLOAD);
    out[5] = 0;
    out[6] = 0;
    out[7] = dnssec_ok ? 0x80 : 0;
    out[8] = 0;
    s_put16 (out + 9, 0);
}

void
dnsd_relay_init (dnsd_relay_t *self, const dnsd_query_t *query, const uint8_t *packet, size_t limit)
{
    self->id = query->id;
    self->flags = query->flags;
    self->edns = query->edns;
    self->edns_do = query->edns && query->edns_do;
    self->limit = limit;
    self->qname_length = query->qname_length;
    //  RD: dnsd only forwards what was asked recursively. CD and AD go on as the client set
    //  them (RFC 4035 section 3.2.2, RFC 6840 section 5.7), DO in dnsd's own OPT.
    uint8_t *out = self->query;
    s_put16 (out, 0);
    s_put16 (out + 2, (uint16_t) (DNSD_FLAG_RD | (query->flags & (DNSD_FLAG_CD | DNSD_FLAG_AD))));
    s_put16 (out + 4, 1);
    s_put16 (out + 6, 0);
    s_put16 (out + 8, 0);
    s_put16 (out + 10, 1);
    //  The question as the client sent it, case kept (its 0x20 bits reach the upstream).
    size_t question = query->question_end - DNSD_HEADER_SIZE;
    memcpy (out + DNSD_HEADER_SIZE, packet + DNSD_HEADER_SIZE, question);
    self->question_end = DNSD_HEADER_SIZE + question;
    s_put_opt (out + self->question_end, self->edns_do);
    self->size = self->question_end + DNSD_RELAY_OPT_SIZE;
}

void
dnsd_relay_set_id (dnsd_relay_t *self, uint16_t id)
{
    s_put16 (self->query, id);
}

uint16_t
dnsd_relay_id (const dnsd_relay_t *self)
{
    return s_get16 (self->query);
}

//  The header flags of an answer to the client: QR, RA, its RD and CD, and from the upstream
//  AA, TC, AD and the RCODE. The opcode is QUERY's, 0.
static uint16_t
s_flags (const dnsd_relay_t *self, uint16_t upstream)
{
    return (uint16_t) (DNSD_FLAG_QR | DNSD_FLAG_RA | (self->flags & (DNSD_FLAG_RD | DNSD_FLAG_CD))
                       | (upstream & (DNSD_FLAG_AA | DNSD_FLAG_TC | DNSD_FLAG_AD | S_RCODE_MASK)));
}

//  Header with FLAGS, the question, dnsd's OPT if the client sent one. Returns the size.
static size_t
s_question_only (const dnsd_relay_t *self, uint8_t *out, uint16_t flags)
{
    s_put16 (out, self->id);
    s_put16 (out + 2, flags);
    s_put16 (out + 4, 1);
    memset (out + 6, 0, 6);
    memcpy (out + DNSD_HEADER_SIZE, self->query + DNSD_HEADER_SIZE,
            self->question_end - DNSD_HEADER_SIZE);
    size_t size = self->question_end;
    if (self->edns) {
        s_put_opt (out + size, self->edns_do);
        size += DNSD_RELAY_OPT_SIZE;
        s_put16 (out + 10, 1);
    }
    return size;
}

size_t
dnsd_relay_error (const dnsd_relay_t *self, uint8_t *out, int rcode)
{
    return s_question_only (self, out, s_flags (self, (uint16_t) (rcode & S_RCODE_MASK)));
}

//  The offset after the name at OFFSET in DATA (SIZE bytes), or 0 when it runs past the end
//  or uses a reserved label type (RFC 1035 section 4.1.4, RFC 6891 section 5). Pointers are
//  not followed: ldns checks them in the rewritten answer.
static size_t
s_skip_name (const uint8_t *data, size_t size, size_t offset)
{
    size_t length = 0;
    while (offset < size) {
        uint8_t label = data[offset];
        if ((label & 0xc0) == 0xc0)
            return offset + 2 <= size ? offset + 2 : 0;
        if (label & 0xc0)
            return 0;
        offset += 1 + (size_t) label;
        length += 1 + (size_t) label;
        if (length > DNSD_NAME_MAX)
            return 0;
        if (label == 0)
            return offset <= size ? offset : 0;
    }
    return 0;
}

static inline uint8_t
s_lower (uint8_t byte)
{
    return byte >= 'A' && byte <= 'Z' ? (uint8_t) (byte + 32) : byte;
}

//  Whether REPLY's question (at offset 12, SIZE bytes in all) is the one SELF asked: the same
//  name (letter case aside: a label length is below 64, so never a letter), type and class.
static bool
s_same_question (const dnsd_relay_t *self, const uint8_t *reply, size_t size)
{
    size_t question = self->question_end - DNSD_HEADER_SIZE;
    if (size < self->question_end)
        return false;
    const uint8_t *asked = self->query + DNSD_HEADER_SIZE, *got = reply + DNSD_HEADER_SIZE;
    for (size_t index = 0; index < self->qname_length; index++)
        if (s_lower (asked[index]) != s_lower (got[index]))
            return false;
    return memcmp (asked + self->qname_length, got + self->qname_length,
                   question - self->qname_length)
           == 0;
}

//  Whether ldns reads the record from START to END of REPLY (SIZE bytes) in SECTION (0-2),
//  all of it and no further. ldns reads the fields it knows of an RDATA and carries on from
//  there rather than from RDLENGTH (an A record of 7 bytes is read as 4): checked per record,
//  the message it reads is the one dnsd sends.
static bool
s_ldns_reads (const uint8_t *reply, size_t size, size_t start, size_t end, int section)
{
    static const ldns_pkt_section sections[3] = {LDNS_SECTION_ANSWER, LDNS_SECTION_AUTHORITY,
                                                 LDNS_SECTION_ADDITIONAL};
    ldns_rr *rr = NULL;
    size_t position = start;
    ldns_status status = ldns_wire2rr (&rr, reply, size, &position, sections[section]);
    ldns_rr_free (rr);
    return status == LDNS_STATUS_OK && position == end;
}

dnsd_relay_status_t
dnsd_relay_answer (const dnsd_relay_t *self, const uint8_t *reply, size_t size, uint8_t *out,
                   size_t *out_size, bool *cut)
{
    *out_size = 0;
    *cut = false;
    if (size < DNSD_HEADER_SIZE)
        return DNSD_RELAY_MALFORMED;
    uint16_t flags = s_get16 (reply + 2);
    if (s_get16 (reply) != dnsd_relay_id (self) || !(flags & DNSD_FLAG_QR)
        || (flags & S_OPCODE_MASK))
        return DNSD_RELAY_MISMATCH;
    uint16_t qdcount = s_get16 (reply + 4);
    int rcode = flags & S_RCODE_MASK;
    if (qdcount == 0) {
        //  Errors may come without the question (FORMERR, NOTIMP): the id matched, and an
        //  error has nothing in it to poison a cache. Anything else needs the question.
        if (rcode == DNSD_RCODE_NOERROR || rcode == DNSD_RCODE_NXDOMAIN)
            return DNSD_RELAY_MISMATCH;
        *out_size = dnsd_relay_error (self, out, rcode);
        return DNSD_RELAY_ANSWER;
    }
    if (qdcount != 1 || !s_same_question (self, reply, size))
        return DNSD_RELAY_MISMATCH;

    //  Walk the records (RFC 1035 section 4.1.3): the one OPT must be in the additional
    //  section, owned by the root (RFC 6891 section 6.1.1). What follows it (a TSIG, a second
    //  OPT) is dropped with it.
    size_t offset = self->question_end, keep = offset, opt = 0;
    uint16_t counts[3] = {s_get16 (reply + 6), s_get16 (reply + 8), s_get16 (reply + 10)};
    uint16_t additional_kept = 0;
    for (int section = 0; section < 3 && !opt; section++)
        for (uint16_t index = 0; index < counts[section] && !opt; index++) {
            size_t start = offset;
            offset = s_skip_name (reply, size, offset);
            if (offset == 0 || offset + 10 > size)
                return DNSD_RELAY_MALFORMED;
            uint16_t type = s_get16 (reply + offset), rdlength = s_get16 (reply + offset + 8);
            size_t end = offset + 10 + rdlength;
            if (end > size)
                return DNSD_RELAY_MALFORMED;
            if (type == DNSD_TYPE_OPT) {
                //  An extended RCODE (BADVERS, BADCOOKIE) is about dnsd's own hop.
                if (section != 2 || offset != start + 1 || reply[start] != 0
                    || reply[offset + 4] != 0)
                    return DNSD_RELAY_MALFORMED;
                opt = start;
                keep = start;
            }
            else if (!s_ldns_reads (reply, size, start, end, section))
                return DNSD_RELAY_MALFORMED;
            else if (section == 2)
                additional_kept++;
            offset = end;
            if (!opt)
                keep = offset;
        }
    //  The client's answer: header, the upstream's records up to its OPT, dnsd's OPT.
    memcpy (out, reply, keep);
    //  The question as the client wrote it: a client checking 0x20 wants its own case back,
    //  whatever case the upstream echoed (the same length: s_same_question).
    memcpy (out + DNSD_HEADER_SIZE, self->query + DNSD_HEADER_SIZE,
            self->question_end - DNSD_HEADER_SIZE);
    s_put16 (out, self->id);
    s_put16 (out + 2, s_flags (self, flags));
    size_t length = keep;
    s_put16 (out + 10, additional_kept);
    if (self->edns) {
        s_put_opt (out + length, self->edns_do);
        length += DNSD_RELAY_OPT_SIZE;
        s_put16 (out + 10, (uint16_t) (additional_kept + 1));
    }
    //  Then the whole answer, as the client will read it (pointers into what was dropped).
    ldns_pkt *packet = NULL;
    ldns_status status = ldns_wire2pkt (&packet, out, length);
    bool consistent = status == LDNS_STATUS_OK && ldns_pkt_edns (packet) == self->edns;
    ldns_pkt_free (packet);
    if (!consistent)
        return DNSD_RELAY_MALFORMED;
    if (length > self->limit) {
        //  Header and question only, TC set: the client retries over TCP (RFC 2181 section 9).
        length = s_question_only (self, out, (uint16_t) (s_flags (self, flags) | DNSD_FLAG_TC));
        *cut = true;
    }
    *out_size = length;
    return flags & DNSD_FLAG_TC ? DNSD_RELAY_TRUNCATED : DNSD_RELAY_ANSWER;
}
