/*  dnsd_waitlist: queries held for booting services, answered together later.

    Each held query keeps a copy of its message and where its answer goes, on its service's
    list. A boot that ends (vm.ready, failure, timeout) answers the service's whole list at
    once; a query's own deadline (response_delay_ms, ready_timeout_ms, hold_max_ms) answers
    it alone. Bounded by waiting_max: beyond that, queries are answered at once.

    Every held query is answered, the latest first: a resolver retries a silent server with a
    new id and source port each time and listens only for its latest try (Unbound), so that
    is the answer that must not wait behind the others.  */

#ifndef DNSD_WAITLIST_H_INCLUDED
#define DNSD_WAITLIST_H_INCLUDED

#include "dnsd_peer.h"
#include "dnsd_service.h"

typedef struct _dnsd_waitlist_t dnsd_waitlist_t;

//  One held query (a record owned by the waitlist).
struct _dnsd_waiter_t {
    dnsd_service_t *service;  // borrowed: whose boot it waits on
    dnsd_peer_t peer;         // where the answer goes
    uint8_t *message;         // owned: the query as received
    size_t size;
    int64_t deadline;            // monotonic ms: answered by then at the latest
    bool capped;                 // the deadline is the boot's hold_max_ms, not the mask's
    dnsd_waiter_t *prev, *next;  // the service's list
};

//  Called for each query leaving the list, then the waiter is freed. EXPIRED says its own
//  deadline passed (rather than its service's boot ending).
typedef void (dnsd_waitlist_fn) (dnsd_waiter_t *waiter, bool expired, void *arg);

//  A waitlist of at most MAX queries.
dnsd_waitlist_t *dnsd_waitlist_new (size_t max);

//  Free every held query without answering. NULL-safe.
void dnsd_waitlist_destroy (dnsd_waitlist_t **self_p);

//  Whether another query can be held.
bool dnsd_waitlist_has_room (dnsd_waitlist_t *self);

//  Hold the SIZE bytes of MESSAGE for SERVICE until DEADLINE (CAPPED: the hold_max_ms cap),
//  answer to PEER. Returns 0, or -1 when full.
int dnsd_waitlist_add (dnsd_waitlist_t *self, dnsd_service_t *service, const dnsd_peer_t *peer,
                       const uint8_t *message, size_t size, int64_t deadline, bool capped);

//  Take every query held for SERVICE through FN, the latest first.
void dnsd_waitlist_release (dnsd_waitlist_t *self, dnsd_service_t *service, dnsd_waitlist_fn *fn,
                            void *arg);

//  Take every query whose deadline is at or before MONO_MS through FN, each service's latest
//  first.
void dnsd_waitlist_expire (dnsd_waitlist_t *self, int64_t mono_ms, dnsd_waitlist_fn *fn, void *arg);

//  Queries held now.
size_t dnsd_waitlist_size (dnsd_waitlist_t *self);

#endif
