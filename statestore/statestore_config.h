/*  statestore_config: statestore's configuration, defaults first, then the JSON file.  */

#ifndef STATESTORE_CONFIG_H_INCLUDED
#define STATESTORE_CONFIG_H_INCLUDED

#include "proto.h"

#define STATESTORE_REPO_DEFAULT "/var/lib/jitsu/state.git"

//  Everything statestore reads from its config file.
typedef struct {
    proto_endpoints_t endpoints;
    char repo[PROTO_PATH_MAX * 2 + 1];  // the bare git repository
    char instance[PROTO_NAME_MAX + 1];
    int heartbeat_ms;                   // svc.alive period
    int batch_max;                      // requests taken into one group commit
    int repack_packs;                   // repack once this many packs were written...
    int repack_interval_s;              // ...or this long after the first unpacked write
} statestore_config_t;

//  Fill SELF with defaults, then apply the JSON file at PATH (NULL: defaults only). Returns 0,
//  or -2 with ERROR naming the file and the field.
int statestore_config_load (statestore_config_t *self, const char *path, proto_error_t *error);

#endif
