/*  dnsd_response: writing an answer into a caller's buffer, without allocating.

    The question is echoed as the client sent it (RFC 1035 section 7.3 lets a client match
    case; 0x20 randomisation relies on it), so every record owned by the question name, or by
    one of its parent names, is written with a compression pointer into it (section 4.1.4).
    When the records do not fit, the answer is cut back to the question and TC is set (RFC 2181
    section 9): the client retries over TCP.  */

#ifndef DNSD_RESPONSE_H_INCLUDED
#define DNSD_RESPONSE_H_INCLUDED

#include "dnsd_query.h"

//  Sections after the question.
typedef enum {
    DNSD_SECTION_ANSWER = 0,
    DNSD_SECTION_AUTHORITY,
    DNSD_SECTION_ADDITIONAL
} dnsd_section_t;

//  An answer being written (a value on the caller's stack).
typedef struct {
    uint8_t *data;        // borrowed: the caller's buffer
    size_t max;           // bytes the answer may take (the transport's limit)
    size_t size;          // bytes written
    size_t question_end;  // where records start
    uint16_t counts[3];   // records per section
    size_t reserve;       // bytes kept for the OPT record finish appends
    bool overflow;        // a record did not fit: finish truncates
} dnsd_response_t;

//  Start the answer to QUERY (parsed from PACKET, status OK or BADVERS) in BUFFER of MAX
//  bytes (at least 512): header with QR, the query's opcode, RD and CD, RCODE and AA as given;
//  the question as sent.
void dnsd_response_begin (dnsd_response_t *self, uint8_t *buffer, size_t max,
                          const dnsd_query_t *query, const uint8_t *packet, int rcode,
                          bool authoritative);

//  Append a record to SECTION whose owner is the name at OFFSET in the answer (a compression
//  pointer: 12 is the question name), with RDATA of RDLENGTH bytes. Sets overflow when it does
//  not fit.
void dnsd_response_add (dnsd_response_t *self, dnsd_section_t section, uint16_t owner_offset,
                        uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlength);

//  Offset in the answer of the suffix of the question name that is ZONE_LENGTH bytes long (a
//  parent zone's apex), for dnsd_response_add.
uint16_t dnsd_response_suffix (const dnsd_query_t *query, size_t zone_length);

//  Set the RCODE (its low four bits; BADVERS's upper bits go into the OPT record).
void dnsd_response_set_rcode (dnsd_response_t *self, int rcode);

//  Finish: truncate if something overflowed, append the OPT record when QUERY had EDNS
//  (payload DNSD_EDNS_PAYLOAD, the extended RCODE, DO echoed, QUERY's cookie_reply as a
//  COOKIE option), write the counts. Returns the answer's size.
size_t dnsd_response_finish (dnsd_response_t *self, const dnsd_query_t *query, int rcode);

//  The header-only error NSD sends for a query it cannot read (FORMERR) or an opcode it does
//  not implement (NOTIMP): the query's id and opcode, RD kept (FORMERR keeps only RD), QR and
//  RCODE set, every count zero. PACKET holds at least a header. Returns 12.
size_t dnsd_response_error (uint8_t *buffer, const uint8_t *packet, int rcode);

#endif
