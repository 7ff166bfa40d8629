/*  ctl_status: `jitsuctl status`, services (from statestore) and processes (from their
    heartbeats) at a glance.  */

#ifndef CTL_STATUS_H_INCLUDED
#define CTL_STATUS_H_INCLUDED

#include "proto.h"

//  Run `jitsuctl status [--listen MS] [--json]` against ENDPOINTS. Returns the exit status.
int ctl_status_run (const proto_endpoints_t *endpoints, int argc, char **argv);

#endif
