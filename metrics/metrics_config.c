/*  metrics_config: parse and validate the exporter's JSON config.

    {"address": "127.0.0.1", "port": 9153, "instance": "1", "heartbeat_ms": 1000,
     "series_max": 2000, "stale_heartbeats": 3, "endpoints": {...}}  */

#include <arpa/inet.h>

#include "metrics_config.h"

int
metrics_config_load (metrics_config_t *self, const char *path, proto_error_t *error)
{
    assert (self);
    memset (self, 0, sizeof *self);
    if (proto_config_endpoints (&self->endpoints, error))
        return -2;
    strcpy (self->address, "127.0.0.1");
    self->port = 9153;
    strcpy (self->instance, "1");
    self->heartbeat_ms = 1000;
    self->series_max = 2000;
    self->stale_heartbeats = 3;
    if (!path)
        return 0;
    const proto_config_field_t fields[] = {
        {"address", PROTO_CONFIG_STR, self->address, sizeof self->address, 1, 0},
        {"port", PROTO_CONFIG_INT, &self->port, 0, 0, 65535},
        {"instance", PROTO_CONFIG_STR, self->instance, sizeof self->instance, 1, 0},
        {"heartbeat_ms", PROTO_CONFIG_INT, &self->heartbeat_ms, 0, 100, 60000},
        {"series_max", PROTO_CONFIG_INT, &self->series_max, 0, 1, 1000000},
        {"stale_heartbeats", PROTO_CONFIG_INT, &self->stale_heartbeats, 0, 1, 100},
        PROTO_CONFIG_END,
    };
    int rc = proto_config_file (path, fields, &self->endpoints, error);
    unsigned char address[16];
    if (rc == 0 && inet_pton (AF_INET, self->address, address) != 1
        && inet_pton (AF_INET6, self->address, address) != 1)
        rc = proto_error_set (error, PROTO_ERR_VALUE, "%s: address: \"%s\" is not an IP address",
                              path, self->address);
    return rc;
}
