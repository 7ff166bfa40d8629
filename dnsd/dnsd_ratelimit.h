/*  dnsd_ratelimit: token buckets per client network, and optionally one for everyone.

    Two users: how many boots clients may trigger (dnsd_summon: an IPv4 /24 or an IPv6 /64,
    and a global bucket), and how many answers a network gets per second (dnsd_rrl: prefixes
    as configured, no global bucket). A flood of queries for many sleeping services, from one
    network or from many, cannot boot VMs faster than the buckets refill. Networks are hashed
    into a fixed array of buckets, so memory is bounded whatever the number of clients; two
    networks that share a bucket share its budget (the limit only gets stricter).  */

#ifndef DNSD_RATELIMIT_H_INCLUDED
#define DNSD_RATELIMIT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNSD_RATELIMIT_BUCKETS 4096  // boots

typedef struct _dnsd_ratelimit_t dnsd_ratelimit_t;

//  Allow RATE boots per second with bursts of BURST overall, and PREFIX_RATE / PREFIX_BURST
//  per client network (IPv4 /24, IPv6 /64), in DNSD_RATELIMIT_BUCKETS buckets.
dnsd_ratelimit_t *dnsd_ratelimit_new (int rate, int burst, int prefix_rate, int prefix_burst);

//  Allow PREFIX_RATE per second with bursts of PREFIX_BURST per client network, networks
//  being IPv4 /IPV4_BITS and IPv6 /IPV6_BITS, in BUCKETS buckets; no global limit.
dnsd_ratelimit_t *dnsd_ratelimit_new_networks (int prefix_rate, int prefix_burst, int ipv4_bits,
                                               int ipv6_bits, size_t buckets);

//  Free it. NULL-safe.
void dnsd_ratelimit_destroy (dnsd_ratelimit_t **self_p);

//  Whether CLIENT may trigger a boot at NOW_MS (monotonic); if so, its network's bucket and
//  the global one are each charged one token.
bool dnsd_ratelimit_allow (dnsd_ratelimit_t *self, const struct sockaddr *client, int64_t now_ms);

#endif
