/*  ctl_service: `jitsuctl service add|apply|ls|show|rm`.  */

#ifndef CTL_SERVICE_H_INCLUDED
#define CTL_SERVICE_H_INCLUDED

#include "proto.h"

//  Run `jitsuctl service ...` (ARGV[0] is "service") against ENDPOINTS. Returns the exit
//  status: 0, 1 when a definition is invalid or statestore refused, 2 on a usage error.
int ctl_service_run (const proto_endpoints_t *endpoints, int argc, char **argv);

#endif
