/*  dnsd_summon: when a query boots a VM, and how long its answer waits.

    Pure policy over the table's service records, with no sockets: the handler asks it about
    each A or AAAA query for a service that is not known to run, the server tells it what the
    bus and statestore said, and its tick says which boots to announce again or give up on.

    - Only A and AAAA wake a service; the client must be in its wake list and within the boot
      rate limits, or it gets the answer without a boot.
    - Single flight: one boot per service at a time; every query for it, from any client,
      waits on that boot according to the service's mask (none and synjitsu: answer at once;
      delay: answer after response_delay_ms; ready and auto: answer on vm.ready, or at
      ready_timeout_ms after the boot started).
    - No answer waits past hold_max_ms after the boot started (the service's, else dnsd's):
      a resolver retries a silent server with a new id each time, listens only for its latest
      try and drops its client's query after a while (Unbound: retries at 376, 753 and
      1506 ms, gives up at 1900 ms), so the cap counts from the boot's first query, not from
      each try's arrival. Once it passed, the boot's queries are answered at once.
    - vm.boot is published again after boot_retry_ms while nothing (vm.booting, a booting or
      ready status) shows that vmctl heard it: pub/sub may drop it.
    - The newest news wins: a state carries the UNIX ms of its transition (status "since",
      the event's "ts"), and an older one never overrides a newer one.  */

#ifndef DNSD_SUMMON_H_INCLUDED
#define DNSD_SUMMON_H_INCLUDED

#include "dnsd_ratelimit.h"
#include "dnsd_table.h"

typedef struct _dnsd_summon_t dnsd_summon_t;

//  Counters (svc.alive).
typedef struct {
    uint64_t boots;          // boots started: vm.boot published
    uint64_t republished;    // vm.boot published again for a boot nobody acknowledged
    uint64_t rate_limited;   // boots refused by the rate limits (answered at once)
    uint64_t wake_denied;    // boots refused by a wake list (answered at once)
    uint64_t boot_timeouts;  // boots that reached ready_timeout_ms without vm.ready
    uint64_t boots_failed;   // boots that ended with vm.failed or status failed
    uint64_t stale_ignored;  // states older than the one already known
    uint64_t past_cap;       // queries answered at once, before ready: their boot's cap passed
} dnsd_summon_stats_t;

//  What to do with one query.
typedef struct {
    bool boot;         // publish vm.boot for the service now
    bool wait;         // hold the answer
    int64_t deadline;  // ... until then at the latest (monotonic ms)
    bool capped;       // hold_max_ms, not the mask, set the deadline (or ended the wait)
} dnsd_decision_t;

//  Called by the tick for a boot to announce again (EXPIRED false) or one that reached its
//  ready timeout and ended (EXPIRED true: answer its held queries).
typedef void (dnsd_summon_fn) (dnsd_service_t *service, bool expired, void *arg);

//  Policy over TABLE (borrowed) with CONFIG's retry interval, hold cap and rate limits.
dnsd_summon_t *dnsd_summon_new (dnsd_table_t *table, const dnsd_config_t *config);

//  Free it. NULL-safe.
void dnsd_summon_destroy (dnsd_summon_t **self_p);

//  A query of QTYPE from CLIENT for SERVICE, which is not known to run, at MONO_MS.
void dnsd_summon_query (dnsd_summon_t *self, dnsd_service_t *service, const struct sockaddr *client,
                        uint16_t qtype, int64_t mono_ms, dnsd_decision_t *decision);

//  SERVICE reached STATE at TS (UNIX ms), heard at MONO_MS. Returns true when the queries
//  held for it are to be answered now (ready, or the boot failed).
bool dnsd_summon_state (dnsd_summon_t *self, dnsd_service_t *service, proto_state_t state,
                        int64_t ts, int64_t mono_ms);

//  SERVICE heard MSG, a vm.* event other than vm.boot, at MONO_MS: dnsd_summon_state with the
//  state it means, dated by its ts. vm.draining's ttl is the drain's TTL from then on.
bool dnsd_summon_event (dnsd_summon_t *self, dnsd_service_t *service, const proto_msg_t *msg,
                        int64_t mono_ms);

//  Another dnsd instance published vm.boot for SERVICE at MONO_MS: wait on that boot as if it
//  were ours, already acknowledged, so none of our own is sent. Returns true when it was
//  joined, false when SERVICE already has a boot in flight or runs.
bool dnsd_summon_join (dnsd_summon_t *self, dnsd_service_t *service, int64_t mono_ms);

//  End SERVICE's boot in flight, if any (its definition went away).
void dnsd_summon_forget (dnsd_summon_t *self, dnsd_service_t *service);

//  Time passed: call FN for each boot to announce again or given up.
void dnsd_summon_tick (dnsd_summon_t *self, int64_t mono_ms, dnsd_summon_fn *fn, void *arg);

//  Counters so far (borrowed).
const dnsd_summon_stats_t *dnsd_summon_stats (dnsd_summon_t *self);

#endif
