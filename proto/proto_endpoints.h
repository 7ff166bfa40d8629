/*  proto_endpoints: where the bus and statestore sockets live.

    Defaults derive from the run directory (JITSU_RUN_DIR, else /run/jitsu); every endpoint can
    be overridden in a service's config, including tcp:// endpoints to span several hosts.  */

#ifndef PROTO_ENDPOINTS_H_INCLUDED
#define PROTO_ENDPOINTS_H_INCLUDED

#include <jansson.h>
#include "proto_error.h"

#define PROTO_RUN_DIR_DEFAULT "/run/jitsu"
#define PROTO_PATH_MAX        96   // a sun_path holds 108 bytes; leave room for "/bus-out"
#define PROTO_ENDPOINT_MAX    255

//  The endpoints of one deployment.
typedef struct _proto_endpoints_t {
    char run_dir[PROTO_PATH_MAX + 1];
    char bus_in[PROTO_ENDPOINT_MAX + 1];   // publishers connect, the bus binds XSUB
    char bus_out[PROTO_ENDPOINT_MAX + 1];  // subscribers connect, the bus binds XPUB
    char state[PROTO_ENDPOINT_MAX + 1];    // statestore's ROUTER
} proto_endpoints_t;

//  Fill SELF from JITSU_RUN_DIR (or the default). Returns 0, or -1 when the path is too long
//  for an ipc:// endpoint.
int proto_endpoints_defaults (proto_endpoints_t *self);

//  Override from a config object {"run_dir", "bus_in", "bus_out", "state"} (all optional,
//  unknown keys rejected). CONFIG is borrowed and may be NULL. WHERE (the config file) prefixes
//  error messages. Returns 0, or -2 with ERROR.
int proto_endpoints_configure (proto_endpoints_t *self, json_t *config, const char *where,
                               proto_error_t *error);

//  Create the directory of an ipc:// ENDPOINT (mode 0750) so it can be bound. Returns 0, or -1
//  with errno set. Other transports need nothing and return 0.
int proto_endpoints_prepare (const char *endpoint);

#endif
