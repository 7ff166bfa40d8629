/*  synjitsu_config: synjitsu's configuration, defaults first, then the JSON file on top.  */

#ifndef SYNJITSU_CONFIG_H_INCLUDED
#define SYNJITSU_CONFIG_H_INCLUDED

#include "proto.h"
#include "synjitsu_table.h"

#define SYNJITSU_BRIDGE_DEFAULT           "br0"
#define SYNJITSU_HEARTBEAT_MS_DEFAULT     1000
#define SYNJITSU_MAX_SYNS_PER_IP_DEFAULT  64
#define SYNJITSU_MAX_SYNS_DEFAULT         1024
#define SYNJITSU_MAX_HOLD_MS_DEFAULT      3000
#define SYNJITSU_GARP_COUNT_DEFAULT       3
#define SYNJITSU_GARP_INTERVAL_MS_DEFAULT 2000  // RFC 5227 ANNOUNCE_INTERVAL

//  Everything synjitsu reads from its config file.
typedef struct {
    proto_endpoints_t endpoints;
    char instance[PROTO_NAME_MAX + 1];  // "1"
    char bridge[PROTO_IFACE_MAX + 1];   // the interface to capture and inject on
    int heartbeat_ms;                   // svc.alive period
    bool replay_on_guest_seen;          // replay at the guest's first frame, not at vm.ready
    synjitsu_limits_t limits;           // held SYNs and announcements
} synjitsu_config_t;

//  Fill SELF with defaults, then apply the JSON file at PATH (NULL: defaults only). Returns 0,
//  or -2 with ERROR naming the file and the field.
int synjitsu_config_load (synjitsu_config_t *self, const char *path, proto_error_t *error);

#endif
