/*  ctl_request: one synchronous statestore request for a jitsuctl command, with its errors
    reported the same way by every command.  */

#ifndef CTL_REQUEST_H_INCLUDED
#define CTL_REQUEST_H_INCLUDED

#include "proto.h"

//  Send REQUEST (consumed) to the statestore of ENDPOINTS and wait. Returns the reply (owned)
//  when it says ok; otherwise prints "jitsuctl COMMAND: CODE: message" (or that statestore did
//  not answer) on stderr and returns NULL.
json_t *ctl_request (const proto_endpoints_t *endpoints, const char *command, json_t *request);

//  Like ctl_request, but a not_found answer returns NULL without printing anything.
json_t *ctl_request_quiet_missing (const proto_endpoints_t *endpoints, const char *command,
                                   json_t *request);

//  Every key under PREFIX at the latest revision, as one object key -> value (owned), from a
//  snapshot request on behalf of COMMAND; REV (may be NULL) gets the revision. Returns NULL
//  after printing why, as ctl_request does.
json_t *ctl_request_snapshot (const proto_endpoints_t *endpoints, const char *command,
                              const char *prefix, int64_t *rev);

#endif
