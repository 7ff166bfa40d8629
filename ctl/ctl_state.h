/*  ctl_state: `jitsuctl state get|put|del|ls|tree|log|diff|at`.  */

#ifndef CTL_STATE_H_INCLUDED
#define CTL_STATE_H_INCLUDED

#include "proto.h"

//  Run `jitsuctl state ...` (ARGV[0] is "state") against ENDPOINTS. Returns the exit status:
//  0, 1 when statestore refused or did not answer, 2 on a usage error.
int ctl_state_run (const proto_endpoints_t *endpoints, int argc, char **argv);

#endif
