/*  dnsd_relay: one forwarded question, its two hops kept apart. No sockets, no allocation.

    EDNS is hop-by-hop (RFC 6891 sections 6.1.1 and 7): upstream, dnsd asks with its own
    header (the try's random id, RD, the client's CD and AD) and its own OPT (payload 1232,
    the client's DO, no options), so nothing the client put in its OPT (a cookie, NSID, client
    subnet, padding) goes further. A reply counts only if it answers this try (RFC 5452
    section 9.1: QR, opcode QUERY, the try's id, the question asked, letter case aside) and,
    rewritten for the client, parses with ldns. The client gets its own id, RD and CD, RA (dnsd
    offers it the recursion) and the upstream's records; the upstream's OPT and whatever
    follows it (a TSIG or SIG(0) would be for dnsd) are removed, and dnsd's own OPT (1232, DO
    echoed) is added when the client sent one. An answer larger than the client takes is cut
    to its question with TC set, and keeps the OPT (RFC 6891 section 7).  */

#ifndef DNSD_RELAY_H_INCLUDED
#define DNSD_RELAY_H_INCLUDED

#include "dnsd_query.h"

#define DNSD_RELAY_OPT_SIZE  11  // root owner, TYPE, CLASS, TTL, RDLENGTH (RFC 6891 6.1.2)
#define DNSD_RELAY_QUERY_MAX (DNSD_HEADER_SIZE + DNSD_NAME_MAX + 4 + DNSD_RELAY_OPT_SIZE)

//  One forwarded question (a value: lives in the forwarder's pool).
typedef struct {
    uint16_t id;     // the client's id
    uint16_t flags;  // the client's header flags
    bool edns;       // the client sent an OPT
    bool edns_do;    // ... with DO set
    size_t limit;    // the largest answer the client takes
    size_t qname_length;
    uint8_t query[DNSD_RELAY_QUERY_MAX];  // what goes upstream; its id is the try's
    size_t size;                          // its length
    size_t question_end;                  // the offset after its question
} dnsd_relay_t;

//  What a reply turned out to be.
typedef enum {
    DNSD_RELAY_ANSWER = 0,  // an answer for the client was written
    DNSD_RELAY_TRUNCATED,   // ... and the upstream had set TC: a TCP client asks again over TCP
    DNSD_RELAY_MISMATCH,    // not a response to this try (id, question, QR or opcode)
    DNSD_RELAY_MALFORMED    // a response that does not parse, or whose OPT dnsd cannot take
} dnsd_relay_status_t;

//  Start SELF for the client's QUERY (parsed OK from PACKET), which takes answers of LIMIT
//  bytes at most. The upstream query gets id 0 until dnsd_relay_set_id.
void dnsd_relay_init (dnsd_relay_t *self, const dnsd_query_t *query, const uint8_t *packet,
                      size_t limit);

//  Give the upstream query the id ID (a new one for every try).
void dnsd_relay_set_id (dnsd_relay_t *self, uint16_t id);

//  The upstream query's id.
uint16_t dnsd_relay_id (const dnsd_relay_t *self);

//  Check the upstream REPLY of SIZE bytes against SELF and, when it answers it, write the
//  client's answer into OUT (at least SIZE + DNSD_RELAY_OPT_SIZE bytes, and at least 512) and
//  its length into OUT_SIZE; CUT says whether it was cut to TC to fit the client.
dnsd_relay_status_t dnsd_relay_answer (const dnsd_relay_t *self, const uint8_t *reply, size_t size,
                                       uint8_t *out, size_t *out_size, bool *cut);

//  Write an answer of RCODE with the question only (SERVFAIL when the upstreams fail) into
//  OUT (512 bytes at least), with RA and dnsd's OPT when the client sent one. Returns its size.
size_t dnsd_relay_error (const dnsd_relay_t *self, uint8_t *out, int rcode);

#endif
