/*  dnsd_rrl: response rate limiting per client network, NSD's RRL in small.

    A UDP query's source address can be forged, so an open authoritative server is a reflector:
    a flood of small queries "from" a victim becomes a flood of larger answers to it. dnsd
    allows each client network (an IPv4 /rrl_ipv4_prefix, an IPv6 /rrl_ipv6_prefix) rrl_rate
    UDP answers per second (a token bucket per network, dnsd_ratelimit, refilled at rrl_rate
    with bursts of rrl_rate). Over the limit an answer is dropped, except every rrl_slip-th,
    which "slips" out truncated (TC, no records) so that a real client behind the address
    retries over TCP, where forged addresses cannot go, and is answered: the victim of a
    reflection gets at most a trickle of small answers; a real client is slowed, not cut off.

    Not limited: TCP; networks in rrl_exempt (default loopback); a query whose COOKIE carries a
    valid server cookie (dnsd_cookie), since that proves the client is at its address, as BIND
    does. Unlike NSD, dnsd counts per network only, not per (network, name, answer kind): its
    answers are few and small, and a per-network budget is what bounds a reflection.  */

#ifndef DNSD_RRL_H_INCLUDED
#define DNSD_RRL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proto_cidr.h"

#define DNSD_RRL_BUCKETS 65536  // 1 MiB of buckets (NSD has 1 000 000 of 32 bytes)

//  What to do with one UDP answer.
typedef enum {
    DNSD_RRL_SEND = 0,  // within the limit, exempt, or RRL off
    DNSD_RRL_SLIP,      // over the limit: send it cut to TC (dnsd_rrl_slip)
    DNSD_RRL_DROP       // over the limit: send nothing
} dnsd_rrl_verdict_t;

//  Counters (svc.alive).
typedef struct {
    uint64_t dropped;  // answers over the limit, not sent
    uint64_t slipped;  // answers over the limit, sent truncated
} dnsd_rrl_stats_t;

typedef struct _dnsd_rrl_t dnsd_rrl_t;

//  RATE answers per second per network (0: no limit), every SLIP-th answer over it slipped
//  (0: none, 1: all), networks of IPV4_BITS and IPV6_BITS, the COUNT networks of EXEMPT
//  (copied) not limited.
dnsd_rrl_t *dnsd_rrl_new (int rate, int slip, int ipv4_bits, int ipv6_bits,
                          const proto_cidr_t *exempt, size_t count);

//  Free it. NULL-safe.
void dnsd_rrl_destroy (dnsd_rrl_t **self_p);

//  What to do with a UDP answer to CLIENT at NOW_MS (monotonic); COOKIE_VALID says its query
//  carried a valid server cookie. Charges the client's network.
dnsd_rrl_verdict_t dnsd_rrl_check (dnsd_rrl_t *self, const struct sockaddr *client,
                                   bool cookie_valid, int64_t now_ms);

//  Cut the answer of SIZE bytes in ANSWER to a slip in place: TC set, the question and the OPT
//  record kept (so a COOKIE goes with it), every other record gone. Returns its new size, or 0
//  when the answer cannot be read (then it is dropped).
size_t dnsd_rrl_slip (uint8_t *answer, size_t size);

//  Counters so far (borrowed).
const dnsd_rrl_stats_t *dnsd_rrl_stats (dnsd_rrl_t *self);

#endif
