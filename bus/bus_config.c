/*  bus_config: parse and validate the bus's JSON config.

    {"endpoints": {...}, "instance": "1", "heartbeat_ms": 1000, "hwm": 100000}  */

#include "bus_config.h"

int
bus_config_load (bus_config_t *self, const char *path, proto_error_t *error)
{
    assert (self);
    memset (self, 0, sizeof *self);
    if (proto_config_endpoints (&self->endpoints, error))
        return -2;
    strcpy (self->instance, "1");
    self->heartbeat_ms = BUS_HEARTBEAT_MS_DEFAULT;
    self->hwm = BUS_HWM_DEFAULT;
    if (!path)
        return 0;

    const proto_config_field_t fields[] = {
        {"instance", PROTO_CONFIG_STR, self->instance, sizeof self->instance, 1, 0},
        {"heartbeat_ms", PROTO_CONFIG_INT, &self->heartbeat_ms, 0, 100, 60000},
        {"hwm", PROTO_CONFIG_INT, &self->hwm, 0, 1, INT32_MAX},
        PROTO_CONFIG_END,
    };
    return proto_config_file (path, fields, &self->endpoints, error);
}
