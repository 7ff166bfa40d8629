/*  dnsd_service: one service as dnsd serves it: its definition, whether its VM runs, the boot
    dnsd waits on, its coalesced hits and the queries held for it.

    A record owned by dnsd_table; the handler reads it on the hot path without a lookup
    beyond the name's node, so the fields it needs are plain and precomputed.  */

#ifndef DNSD_SERVICE_H_INCLUDED
#define DNSD_SERVICE_H_INCLUDED

#include "proto.h"

typedef struct _dnsd_service_t dnsd_service_t;
typedef struct _dnsd_waiter_t dnsd_waiter_t;

struct _dnsd_service_t {
    char name[PROTO_NAME_MAX + 1];
    bool defined;     // a valid /services/NAME/config is in force
    uint8_t ip[4];    // the A record's RDATA
    uint8_t ip6[16];  // the AAAA record's RDATA, when has_ip6
    bool has_ip6;
    uint32_t ttl;        // answers while the VM is ready
    uint32_t boot_ttl;   // ... while it is not (booting, or answered before it is ready)
    uint32_t drain_ttl;  // ... while it drains, unless vm.draining said otherwise
    proto_mask_t mask;
    int response_delay_ms;
    int ready_timeout_ms;
    int hold_max_ms;     // -1: dnsd's hold_max_ms
    proto_cidr_t *wake;  // owned; wake_count 0: everyone may wake it
    size_t wake_count;
    char **dns;  // owned: its names, lowercase text, as proto_service parsed them
    size_t dns_count;
    uint8_t *primary;  // owned: dns[0] in wire form, the PTR target
    size_t primary_length;

    //  Whether the VM runs: the newest of /services/NAME/status and vm.* events wins.
    proto_state_t state;
    int64_t state_ts;       // UNIX ms of the transition that set state
    bool has_status;        // /services/NAME/status exists
    uint32_t draining_ttl;  // the TTL of the drain in course (vm.draining's, or drain_ttl)
    int64_t drain_mono;     // monotonic ms when that drain was heard of

    //  The boot dnsd waits on (single flight): at most one per service.
    bool in_flight;
    bool acked;              // vm.booting (or status booting) seen for it
    int64_t boot_started;    // monotonic ms when it started
    int64_t boot_published;  // monotonic ms of the last vm.boot sent for it
    char request_id[PROTO_ID_MAX + 1];
    dnsd_service_t *flight_prev, *flight_next;  // borrowed: the table's in-flight list

    //  Hits since the last dns.hits.
    int64_t hits;
    int64_t hits_first_ts, hits_last_ts;    // UNIX ms
    int64_t hits_published;                 // monotonic ms of the last dns.hits
    bool hits_queued;                       // reported within the last second: on the queue
    dnsd_service_t *hits_prev, *hits_next;  // borrowed: the table's queue, by hits_published

    //  Queries held until the VM is ready (dnsd_waitlist owns them).
    dnsd_waiter_t *waiters_head, *waiters_tail;  // borrowed
    size_t waiting;
    dnsd_service_t *waiting_prev, *waiting_next;  // borrowed: services with waiters
};

//  A service NAME, undefined, not running. NULL when NAME is too long.
dnsd_service_t *dnsd_service_new (const char *name);

//  Free the service and its definition. NULL-safe.
void dnsd_service_destroy (dnsd_service_t **self_p);

//  Take over the definition in PARSED (valid, addresses checked): its lists move here and
//  PARSED is reset. Any earlier definition is dropped first.
void dnsd_service_define (dnsd_service_t *self, proto_service_t *parsed);

//  Drop the definition: the service is undefined again (its runtime state stays).
void dnsd_service_undefine (dnsd_service_t *self);

//  Record whether /services/NAME/status exists (a service with one stays in the table).
void dnsd_service_set_has_status (dnsd_service_t *self, bool has_status);

//  Name the boot in flight REQUEST_ID (copied), as vm.boot carries it. Returns 0, or -1 when it
//  is longer than PROTO_ID_MAX (a truncated copy is kept).
int dnsd_service_set_request_id (dnsd_service_t *self, const char *request_id);

//  Whether a client at ADDRESS may wake the service (its wake list, or everyone).
bool dnsd_service_may_wake (const dnsd_service_t *self, const struct sockaddr *address);

//  Whether the VM is known to run: the answer goes out at once, and nothing boots. A
//  draining VM still runs (a query is what cancels its drain).
static inline bool
dnsd_service_running (const dnsd_service_t *self)
{
    return self->state == PROTO_STATE_READY || self->state == PROTO_STATE_DRAINING;
}

//  The TTL of the service's A and AAAA answers now: the full TTL once the VM is ready, the
//  drain's while it drains (no resolver may keep the address past the step that follows),
//  the boot TTL otherwise (off, booting, paused, saved, failed: a resolver soon asks again).
static inline uint32_t
dnsd_service_answer_ttl (const dnsd_service_t *self)
{
    if (self->state == PROTO_STATE_READY)
        return self->ttl;
    return self->state == PROTO_STATE_DRAINING ? self->draining_ttl : self->boot_ttl;
}

#endif
