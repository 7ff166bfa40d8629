/*  statestore_stats: the counters statestore reports in svc.alive.

    The server owns one; parsing, the write path and the reads count into it through a
    borrowed pointer, so every piece counts where the event happens and the heartbeat reads
    one place.  */

#ifndef STATESTORE_STATS_H_INCLUDED
#define STATESTORE_STATS_H_INCLUDED

#include <czmq.h>

#include "statestore_fault.h"

//  Counters reported in svc.alive.
typedef struct {
    uint64_t requests;
    uint64_t writes;
    uint64_t commits;
    uint64_t groups;              // flushes: one pack and one ref update each
    uint64_t unchanged;           // writes that changed nothing and made no commit
    uint64_t dedup_hits;          // retried writes answered from the reply cache
    uint64_t not_found;
    uint64_t conflict;
    uint64_t bad_request;
    uint64_t too_large;
    uint64_t internal;
    uint64_t repacks;
    uint64_t repack_failures;
    uint64_t group_max;           // largest group seen
} statestore_stats_t;

//  Count one failed request under its error CODE (one of statestore_fault.h).
static inline void
statestore_stats_fault (statestore_stats_t *self, const char *code)
{
    if (streq (code, STATESTORE_NOT_FOUND))
        self->not_found++;
    else if (streq (code, STATESTORE_CONFLICT))
        self->conflict++;
    else if (streq (code, STATESTORE_BAD_REQUEST))
        self->bad_request++;
    else if (streq (code, STATESTORE_TOO_LARGE))
        self->too_large++;
    else
        self->internal++;
}

#endif
