/*  metrics_config: the exporter's configuration, defaults first, then the JSON file.  */

#ifndef METRICS_CONFIG_H_INCLUDED
#define METRICS_CONFIG_H_INCLUDED

#include "proto.h"

//  Everything jitsu-metrics reads from its config file.
typedef struct {
    proto_endpoints_t endpoints;
    char address[PROTO_ADDR_MAX + 1];   // HTTP listen address
    int port;                           // HTTP port; 0 picks one (logged)
    char instance[PROTO_NAME_MAX + 1];
    int heartbeat_ms;
    int series_max;                     // series per family
    int stale_heartbeats;               // missed heartbeats before jitsu_up is 0
} metrics_config_t;

//  Fill SELF with defaults, then apply the JSON file at PATH (NULL: defaults only). Returns 0,
//  or -2 with ERROR naming the file and the field.
int metrics_config_load (metrics_config_t *self, const char *path, proto_error_t *error);

#endif
