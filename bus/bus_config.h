/*  bus_config: the bus's configuration, defaults first, then the JSON file on top.  */

#ifndef BUS_CONFIG_H_INCLUDED
#define BUS_CONFIG_H_INCLUDED

#include "proto.h"

#define BUS_HEARTBEAT_MS_DEFAULT 1000
#define BUS_HWM_DEFAULT          100000

//  Everything the bus reads from its config file.
typedef struct {
    proto_endpoints_t endpoints;
    char instance[PROTO_NAME_MAX + 1];  // "1"
    int heartbeat_ms;                   // svc.alive period
    int hwm;                            // per-socket high-water mark, in messages
} bus_config_t;

//  Fill SELF with defaults, then apply the JSON file at PATH (NULL: defaults only). Returns 0,
//  or -2 with ERROR naming the file and the field.
int bus_config_load (bus_config_t *self, const char *path, proto_error_t *error);

#endif
