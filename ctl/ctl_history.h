/*  ctl_history: `jitsuctl history SERVICE`, a service's boots, readiness and stops over time,
    read from statestore's history.  */

#ifndef CTL_HISTORY_H_INCLUDED
#define CTL_HISTORY_H_INCLUDED

#include "proto.h"

//  Run `jitsuctl history SERVICE [--since TIME] [--limit N] [--json]`. Returns the exit status.
int ctl_history_run (const proto_endpoints_t *endpoints, int argc, char **argv);

//  Parse TIME for --since: "30s", "10m", "2h", "3d" ago, "YYYY-MM-DD[THH:MM[:SS]]" local time,
//  or UNIX seconds. Returns UNIX ms, or -1 when it is none of those. NOW_MS is the present.
int64_t ctl_history_parse_time (const char *text, int64_t now_ms);

#endif
