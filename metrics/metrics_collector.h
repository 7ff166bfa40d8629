/*  metrics_collector: what the bus says, as metrics.

    From svc.alive: jitsu_up (0 once a process missed STALE heartbeats), jitsu_uptime_seconds,
    and every counter a process reports, as jitsu_<process>_<counter>. From vm.*: boots by
    service and result, boot time histogram, running VMs, stops by reason, failures by error.
    From syn.*: SYNs held and replayed, held time histogram. From dns.hits: queries per service.
    Label values come from the wire; the registry bounds them.  */

#ifndef METRICS_COLLECTOR_H_INCLUDED
#define METRICS_COLLECTOR_H_INCLUDED

#include "metrics_registry.h"
#include "proto.h"

#define METRICS_PROCESSES_MAX 1024    // processes tracked for jitsu_up
#define METRICS_RUNNING_MAX   100000  // services tracked as running

typedef struct _metrics_collector_t metrics_collector_t;

//  Collect into REGISTRY (borrowed); a process is down after STALE missed heartbeats.
metrics_collector_t *metrics_collector_new (metrics_registry_t *registry, int stale);

//  Free it. NULL-safe.
void metrics_collector_destroy (metrics_collector_t **self_p);

//  Account for MSG (a decoded bus message) received at NOW_MS (UNIX ms).
void metrics_collector_apply (metrics_collector_t *self, const proto_msg_t *msg, int64_t now_ms);

//  Bring time-dependent metrics up to NOW_MS (jitsu_up) and copy the bus subscription's
//  counters from SUB (may be NULL). Call before rendering.
void metrics_collector_refresh (metrics_collector_t *self, int64_t now_ms, proto_sub_t *sub);

#endif
