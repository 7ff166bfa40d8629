/*  ctl_publish: `jitsuctl publish`, one validated message onto the bus.  */

#ifndef CTL_PUBLISH_H_INCLUDED
#define CTL_PUBLISH_H_INCLUDED

#include "proto.h"

//  Run `jitsuctl publish [--wait MS] TOPIC BODY` against ENDPOINTS. Returns the exit status:
//  0, 1 when the body is invalid or sending failed, 2 on a usage error.
int ctl_publish_run (const proto_endpoints_t *endpoints, int argc, char **argv);

#endif
