/*  dnsd_ratelimit: how many boots clients may trigger: token buckets per client network (an
    IPv4 /24 or an IPv6 /64) and one for everyone.

    A flood of queries for many sleeping services, from one network or from many, cannot boot
    VMs faster than the buckets refill. Networks are hashed into a fixed array of buckets, so
    memory is bounded whatever the number of clients; two networks that share a bucket share
    its budget (the limit only gets stricter).  */

#ifndef DNSD_RATELIMIT_H_INCLUDED
#define DNSD_RATELIMIT_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNSD_RATELIMIT_BUCKETS 4096

typedef struct _dnsd_ratelimit_t dnsd_ratelimit_t;

//  Allow RATE boots per second with bursts of BURST overall, and PREFIX_RATE / PREFIX_BURST
//  per client network.
dnsd_ratelimit_t *dnsd_ratelimit_new (int rate, int burst, int prefix_rate, int prefix_burst);

//  Free it. NULL-safe.
void dnsd_ratelimit_destroy (dnsd_ratelimit_t **self_p);

//  Whether CLIENT may trigger a boot at NOW_MS (monotonic); if so, its network's bucket and
//  the global one are each charged one token.
bool dnsd_ratelimit_allow (dnsd_ratelimit_t *self, const struct sockaddr *client, int64_t now_ms);

#endif
