/*  ctl_tap: `jitsuctl tap`, the live view of the bus as JSON lines.  */

#ifndef CTL_TAP_H_INCLUDED
#define CTL_TAP_H_INCLUDED

#include "proto.h"

//  Run `jitsuctl tap [--pretty] [--count N] [PREFIX...]` against ENDPOINTS. Returns the exit
//  status: 0, 1 on failure, 2 on a usage error.
int ctl_tap_run (const proto_endpoints_t *endpoints, int argc, char **argv);

#endif
