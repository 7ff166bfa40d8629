/*  dnsd_handler: one DNS message in, a verdict out. No sockets, no allocation.

    A message goes through explicit states: parse (dnsd_query) -> classify (the table: a
    service name, a zone apex, a PTR, a name in a served zone, or someone else's) -> summon
    (dnsd_summon, for A and AAAA of a service not known to run) -> answer (dnsd_response). The
    I/O around it (dnsd_udp, dnsd_tcp, dnsd_forward, dnsd_server) acts on the verdict.  */

#ifndef DNSD_HANDLER_H_INCLUDED
#define DNSD_HANDLER_H_INCLUDED

#include <sys/socket.h>

#include "dnsd_cookie.h"
#include "dnsd_query.h"
#include "dnsd_summon.h"
#include "dnsd_table.h"

//  What to do with a message.
typedef enum {
    DNSD_VERDICT_DROP = 0,  // say nothing
    DNSD_VERDICT_ANSWER,    // send the answer written into the output buffer
    DNSD_VERDICT_FORWARD,   // outside the served zones: hand the message to the forwarder
    DNSD_VERDICT_WAIT       // the service is booting: hold the message, answer it later
} dnsd_verdict_t;

//  Where and when a message came from.
typedef struct {
    const struct sockaddr *client;  // borrowed
    bool tcp;                       // over TCP: no size limit but 65535
    bool release;                   // a held message answered now: no boot, no wait, no hit
    bool may_wait;                  // there is room to hold it
    int64_t now_ms;                 // UNIX ms: hits
    int64_t mono_ms;                // monotonic ms: boots and deadlines
} dnsd_context_t;

//  The verdict's details.
typedef struct {
    size_t size;              // ANSWER: bytes written
    int rcode;                // ANSWER: its RCODE
    size_t limit;             // FORWARD: the largest answer the client takes
    dnsd_service_t *service;  // WAIT, boot, report: the service (borrowed)
    bool boot;                // publish vm.boot for service now
    bool report;              // publish dns.hits for service now (dnsd_table_report)
    uint16_t qtype;           // boot: the query's type
    char qname[PROTO_DNAME_MAX + 1];  // boot: the name queried, as text ("" if it has none)
    int64_t deadline;         // WAIT: answer by then at the latest (monotonic ms)
    bool capped;              // WAIT: the deadline is the boot's hold_max_ms
    //  What the query's COOKIE said: VALID exempts the answer from RRL.
    dnsd_cookie_status_t cookie;
} dnsd_outcome_t;

//  Counters (svc.alive).
typedef struct {
    uint64_t queries;     // messages handled (held ones once)
    uint64_t answers[6];  // answers sent by RCODE 0-5
    uint64_t answers_badvers;
    uint64_t nodata;            // NOERROR without an answer
    uint64_t truncated;         // TC set: did not fit over UDP
    uint64_t dropped_short;     // shorter than a header
    uint64_t dropped_response;  // QR set
    uint64_t forwarded;         // handed to the forwarder
    uint64_t recursion_refused; // REFUSED: a foreign name from a client outside recursion_from
    uint64_t norecurse_refused; // REFUSED: a foreign name asked with RD=0 (never forwarded)
    uint64_t held;              // held for a booting service
    uint64_t hold_refused;      // would have been held, but the waitlist was full
    uint64_t service_queries;   // queries for a service name
    //  Queries by what their COOKIE option said.
    uint64_t cookies[DNSD_COOKIE_VALID + 1];
} dnsd_handler_stats_t;

typedef struct _dnsd_handler_t dnsd_handler_t;

//  A handler answering from TABLE with SUMMON's policy; names outside the served zones are
//  forwarded when CONFIG has upstreams and the client is in its recursion_from, else REFUSED
//  (all three borrowed). RA is set in every answer to a client offered recursion, and only
//  then.
dnsd_handler_t *dnsd_handler_new (dnsd_table_t *table, dnsd_summon_t *summon,
                                  const dnsd_config_t *config);

//  Free it. NULL-safe.
void dnsd_handler_destroy (dnsd_handler_t **self_p);

//  Answer COOKIE options with COOKIE's server cookies (borrowed; NULL, the default: COOKIE
//  options are ignored).
void dnsd_handler_set_cookie (dnsd_handler_t *self, dnsd_cookie_t *cookie);

//  Handle the SIZE bytes of PACKET. An answer goes into OUT, of OUT_MAX bytes (at least 512;
//  over UDP it is also kept within what the client takes).
dnsd_verdict_t dnsd_handler_process (dnsd_handler_t *self, const uint8_t *packet, size_t size,
                                     const dnsd_context_t *context, uint8_t *out, size_t out_max,
                                     dnsd_outcome_t *outcome);

//  Count an answer dnsd relays or makes elsewhere (forwarded, SERVFAIL): RCODE from its header.
void dnsd_handler_count (dnsd_handler_t *self, const uint8_t *answer, size_t size);

//  Counters so far (borrowed).
const dnsd_handler_stats_t *dnsd_handler_stats (dnsd_handler_t *self);

#endif
