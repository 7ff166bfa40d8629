/*  dnsd_query: a DNS query read from the wire, checked the way NSD checks it.

    Only the parts a server needs are read: the header, the one question, and an optional EDNS
    OPT record in the additional section. Nothing is copied but the lowercase question name,
    so the parser costs next to nothing on the hot path; ldns checks it in the fuzz target.  */

#ifndef DNSD_QUERY_H_INCLUDED
#define DNSD_QUERY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd_cookie.h"
#include "dnsd_name.h"

#define DNSD_HEADER_SIZE 12
#define DNSD_UDP_LEGACY  512  // RFC 1035 section 4.2.1: UDP without EDNS
#define DNSD_EDNS_PAYLOAD                                                                          \
    1232  // what dnsd advertises and sends at most over UDP (DNS Flag Day 2020)

//  Header bits (RFC 1035 section 4.1.1; AD and CD: RFC 4035 section 3.2).
#define DNSD_FLAG_QR 0x8000
#define DNSD_FLAG_AA 0x0400
#define DNSD_FLAG_TC 0x0200
#define DNSD_FLAG_RD 0x0100
#define DNSD_FLAG_RA 0x0080
#define DNSD_FLAG_AD 0x0020
#define DNSD_FLAG_CD 0x0010

//  RCODEs (RFC 1035 section 4.1.1, RFC 6891 section 9 for BADVERS).
#define DNSD_RCODE_NOERROR  0
#define DNSD_RCODE_FORMERR  1
#define DNSD_RCODE_SERVFAIL 2
#define DNSD_RCODE_NXDOMAIN 3
#define DNSD_RCODE_NOTIMP   4
#define DNSD_RCODE_REFUSED  5
#define DNSD_RCODE_BADVERS  16

//  Types and classes dnsd answers or recognises.
#define DNSD_TYPE_A    1
#define DNSD_TYPE_NS   2
#define DNSD_TYPE_SOA  6
#define DNSD_TYPE_PTR  12
#define DNSD_TYPE_AAAA 28
#define DNSD_TYPE_OPT  41
#define DNSD_TYPE_IXFR 251
#define DNSD_TYPE_AXFR 252
#define DNSD_TYPE_ANY  255
#define DNSD_CLASS_IN  1
#define DNSD_CLASS_ANY 255

//  What the parser concluded, in the order NSD checks (query.c, query_process).
typedef enum {
    DNSD_QUERY_OK = 0,   // a query to answer
    DNSD_QUERY_DROP,     // shorter than a header, or a response (QR set): say nothing
    DNSD_QUERY_NOTIMP,   // an opcode other than QUERY
    DNSD_QUERY_FORMERR,  // RCODE set, question unreadable (pointers included), QDCOUNT != 1,
                         // answer or authority records, additional records other than one OPT,
                         // OPT options overrunning it, a COOKIE of a length RFC 7873 refuses
    DNSD_QUERY_BADVERS   // an EDNS version other than 0 (RFC 6891 section 6.1.3)
} dnsd_query_status_t;

//  A parsed query. The name pointer borrows the packet.
typedef struct {
    uint16_t id;
    uint16_t flags;                // the header's second word as received
    const uint8_t *qname;          // borrowed: the question name as sent (case kept)
    size_t qname_length;           // its wire length
    uint8_t lower[DNSD_NAME_MAX];  // the question name lowercased, for lookups
    uint32_t hash;                 // dnsd_name_hash of lower
    uint16_t qtype;
    uint16_t qclass;
    size_t question_end;    // offset just after the question
    size_t records_end;     // offset just after the last record read (OK and BADVERS)
    bool edns;              // an OPT record came with it
    uint16_t edns_payload;  // its UDP payload size, at least 512
    uint8_t edns_version;
    bool edns_do;  // DNSSEC OK, echoed in the answer (RFC 3225)
    //  Borrowed: the first COOKIE option's data (RFC 7873); NULL when none.
    const uint8_t *cookie;
    //  Its length: 8, or 16 to 40.
    size_t cookie_length;
    //  The COOKIE the answer carries, and its length (0: none); dnsd_handler fills it.
    uint8_t cookie_reply[DNSD_COOKIE_REPLY_SIZE];
    size_t cookie_reply_length;
} dnsd_query_t;

//  Parse the SIZE bytes of PACKET into SELF. Fields are valid as far as the status says: id
//  and flags from NOTIMP on, everything for OK and BADVERS.
dnsd_query_status_t dnsd_query_parse (dnsd_query_t *self, const uint8_t *packet, size_t size);

//  The largest response the client of SELF takes over UDP: 512 without EDNS, else its payload
//  size capped at DNSD_EDNS_PAYLOAD.
size_t dnsd_query_udp_limit (const dnsd_query_t *self);

#endif
