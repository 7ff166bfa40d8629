/*  ctl_prepare: `jitsuctl service prepare NAME [TIER]`: boot a service once and leave it in a
    tier, so that even its first query resumes or restores instead of cold-booting.  */

#ifndef CTL_PREPARE_H_INCLUDED
#define CTL_PREPARE_H_INCLUDED

#include "proto.h"

//  Send vm.prepare for SERVICE into TIER ("paused", "saved" or "off"; NULL: saved) and wait
//  up to TIMEOUT_MS for vmctl to park it. Returns the exit status: 0 parked, 1 failed or timed
//  out, 2 on a usage error.
int ctl_prepare_run (const proto_endpoints_t *endpoints, const char *service, const char *tier,
                     int timeout_ms);

#endif
