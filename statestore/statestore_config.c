/*  statestore_config: parse and validate statestore's JSON config.

    {"repo": "/var/lib/jitsu/state.git", "instance": "1", "heartbeat_ms": 1000,
     "batch_max": 512, "repack_packs": 16, "repack_interval_s": 10, "endpoints": {...}}  */

#include "statestore_config.h"

int
statestore_config_load (statestore_config_t *self, const char *path, proto_error_t *error)
{
    assert (self);
    memset (self, 0, sizeof *self);
    if (proto_config_endpoints (&self->endpoints, error))
        return -2;
    strcpy (self->repo, STATESTORE_REPO_DEFAULT);
    strcpy (self->instance, "1");
    self->heartbeat_ms = 1000;
    self->batch_max = 512;
    self->repack_packs = 16;
    self->repack_interval_s = 10;
    if (!path)
        return 0;

    const proto_config_field_t fields[] = {
        {"repo", PROTO_CONFIG_STR, self->repo, sizeof self->repo, 1, 0},
        {"instance", PROTO_CONFIG_STR, self->instance, sizeof self->instance, 1, 0},
        {"heartbeat_ms", PROTO_CONFIG_INT, &self->heartbeat_ms, 0, 100, 60000},
        {"batch_max", PROTO_CONFIG_INT, &self->batch_max, 0, 1, 100000},
        {"repack_packs", PROTO_CONFIG_INT, &self->repack_packs, 0, 2, 100000},
        {"repack_interval_s", PROTO_CONFIG_INT, &self->repack_interval_s, 0, 1, 86400},
        PROTO_CONFIG_END,
    };
    return proto_config_file (path, fields, &self->endpoints, error);
}
