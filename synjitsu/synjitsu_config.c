/*  synjitsu_config: parse and validate synjitsu's JSON config.

    {"bridge": "br0", "instance": "1", "heartbeat_ms": 1000, "endpoints": {...},
     "max_syns_per_ip": 64, "max_syns": 1024, "max_hold_ms": 3000,
     "garp_count": 3, "garp_interval_ms": 2000, "replay_on_guest_seen": false}  */

#include "synjitsu_config.h"

int
synjitsu_config_load (synjitsu_config_t *self, const char *path, proto_error_t *error)
{
    assert (self);
    memset (self, 0, sizeof *self);
    if (proto_config_endpoints (&self->endpoints, error))
        return -2;
    strcpy (self->instance, "1");
    strcpy (self->bridge, SYNJITSU_BRIDGE_DEFAULT);
    self->heartbeat_ms = SYNJITSU_HEARTBEAT_MS_DEFAULT;
    self->limits.max_syns_per_ip = SYNJITSU_MAX_SYNS_PER_IP_DEFAULT;
    self->limits.max_syns = SYNJITSU_MAX_SYNS_DEFAULT;
    self->limits.max_hold_ms = SYNJITSU_MAX_HOLD_MS_DEFAULT;
    self->limits.garp_count = SYNJITSU_GARP_COUNT_DEFAULT;
    self->limits.garp_interval_ms = SYNJITSU_GARP_INTERVAL_MS_DEFAULT;
    if (!path)
        return 0;

    const proto_config_field_t fields[] = {
        {"instance", PROTO_CONFIG_STR, self->instance, sizeof self->instance, 1, 0},
        {"bridge", PROTO_CONFIG_STR, self->bridge, sizeof self->bridge, 1, 0},
        {"heartbeat_ms", PROTO_CONFIG_INT, &self->heartbeat_ms, 0, 100, 60000},
        {"max_syns_per_ip", PROTO_CONFIG_INT, &self->limits.max_syns_per_ip, 0, 1, 65536},
        {"max_syns", PROTO_CONFIG_INT, &self->limits.max_syns, 0, 1, 65536},
        {"max_hold_ms", PROTO_CONFIG_INT, &self->limits.max_hold_ms, 0, 1, 600000},
        {"garp_count", PROTO_CONFIG_INT, &self->limits.garp_count, 0, 0, 100},
        {"garp_interval_ms", PROTO_CONFIG_INT, &self->limits.garp_interval_ms, 0, 10, 60000},
        {"replay_on_guest_seen", PROTO_CONFIG_BOOL, &self->replay_on_guest_seen, 0, 0, 0},
        PROTO_CONFIG_END,
    };
    return proto_config_file (path, fields, &self->endpoints, error);
}
