/*  dnsd_forward: names outside the served zones, asked of the configured upstreams.

    Every try of a query goes out over UDP from a socket of its own, bound to port 0 so the
    kernel picks a random ephemeral port, with a fresh id from getrandom (RFC 5452 sections
    9.2 and 10: an off-path spoofer must guess both); new queries take the upstreams in turn.
    It is retried on the next upstream after forward_timeout_ms, up to forward_retries times,
    and fails with SERVFAIL after that. A reply counts only if it comes from the address and
    port asked and answers the try (dnsd_relay: id, question); anything else is dropped and
    counted, and the timeout decides. EDNS is hop-by-hop (dnsd_relay). A truncated answer to a
    TCP client is fetched again over TCP; a UDP client gets it truncated, with dnsd's OPT, and
    retries over TCP itself (RFC 7766 section 5). Answers larger than the client takes over
    UDP are cut to TC.  */

#ifndef DNSD_FORWARD_H_INCLUDED
#define DNSD_FORWARD_H_INCLUDED

#include <czmq.h>

#include "dnsd_config.h"
#include "dnsd_peer.h"

typedef struct _dnsd_forward_t dnsd_forward_t;

//  An answer for PEER (borrowed for the call): relayed, truncated or SERVFAIL.
typedef void (dnsd_forward_fn) (void *arg, const dnsd_peer_t *peer, const uint8_t *answer,
                                size_t size);

//  Counters (svc.alive).
typedef struct {
    uint64_t queries;         // queries forwarded
    uint64_t answers;         // answers relayed
    uint64_t retries;         // tries after the first
    uint64_t servfail;        // gave up after every try: SERVFAIL
    uint64_t full;            // refused: forwards_max in flight (SERVFAIL)
    uint64_t tcp;             // fetched again over TCP after TC
    uint64_t truncated;       // cut to TC for the client
    uint64_t bogus;           // replies that did not parse (or carried an extended RCODE)
    uint64_t mismatched;      // replies from elsewhere, or for another id or question
    uint64_t sockets_failed;  // a try's socket could not be made (EMFILE...): SERVFAIL
} dnsd_forward_stats_t;

//  A forwarder to CONFIG's upstreams (copied), calling FN with ARG for every answer.
//  Returns NULL when a socket cannot be made.
dnsd_forward_t *dnsd_forward_new (const dnsd_config_t *config, dnsd_forward_fn *fn, void *arg);

//  Close everything; queries in flight are dropped. NULL-safe.
void dnsd_forward_destroy (dnsd_forward_t **self_p);

//  Register the sockets' epoll set and the timer on LOOP.
int dnsd_forward_attach (dnsd_forward_t *self, zloop_t *loop);

//  Forward the query in PACKET (SIZE bytes, parsed OK by dnsd_query) for PEER, whose client
//  takes answers of LIMIT bytes at most. The answer comes through FN, possibly before this
//  returns (SERVFAIL when too many are in flight).
void dnsd_forward_query (dnsd_forward_t *self, const uint8_t *packet, size_t size, size_t limit,
                         const dnsd_peer_t *peer);

//  Queries in flight now.
size_t dnsd_forward_pending (dnsd_forward_t *self);

//  Counters so far (borrowed).
const dnsd_forward_stats_t *dnsd_forward_stats (dnsd_forward_t *self);

#endif
