/*  vmctl_config: vmctl's configuration, defaults first, then the JSON file on top.  */

#ifndef VMCTL_CONFIG_H_INCLUDED
#define VMCTL_CONFIG_H_INCLUDED

#include "proto.h"

#define VMCTL_URI_MAX                     255
#define VMCTL_URI_DEFAULT                 "qemu:///system"
#define VMCTL_DOMAIN_PREFIX_DEFAULT       "jitsu-"
#define VMCTL_DOMAIN_TYPE_DEFAULT         "qemu"  // TCG: KVM cannot run stock guests here
#define VMCTL_HEARTBEAT_MS_DEFAULT        1000
#define VMCTL_WORKERS_DEFAULT             4
#define VMCTL_IDLE_CHECK_MS_DEFAULT       1000
#define VMCTL_SHUTDOWN_GRACE_MS_DEFAULT   10000
#define VMCTL_PROBE_INTERVAL_MS_DEFAULT   20
#define VMCTL_PROBE_ATTEMPT_MS_DEFAULT    500
#define VMCTL_RECONNECT_MIN_MS_DEFAULT    100
#define VMCTL_RECONNECT_MAX_MS_DEFAULT    5000
#define VMCTL_SAVE_DIR_DEFAULT            "/var/lib/jitsu/saves"
#define VMCTL_SAVE_DIR_MAX                200

//  Admission limits; 0 means no limit.
typedef struct {
    int max_running;         // VMs whose domain is active (running or paused)
    int max_booting;         // boots in progress at once
    int memory_budget_mib;   // memory of the active VMs together
    int paused_memory_mib_max;  // memory of the paused VMs: over it, the longest idle is saved
    bool evict_idle;         // stop the least recently used idle VM to make room
} vmctl_limits_t;

//  Everything vmctl reads from its config file.
typedef struct {
    proto_endpoints_t endpoints;
    char instance[PROTO_NAME_MAX + 1];   // "1"
    char uri[VMCTL_URI_MAX + 1];         // libvirt connection URI
    char domain_prefix[32];              // transient domains are named PREFIX + service
    char domain_type[16];                // <domain type=...> of template domains
    char serve[16];                      // "all", "template" or "domain": which services
                                         // this instance manages (one vmctl per hypervisor)
    int heartbeat_ms;                    // svc.alive period
    int statestore_heartbeat_ms;         // statestore's, for the replica's silence detection
    int workers;                         // threads making blocking libvirt calls
    int idle_check_ms;                   // how often idle VMs are looked for
    int shutdown_grace_ms;               // stop_mode shutdown: wait this long, then destroy
    int probe_interval_ms;               // ready=probe: pause after a refused connect
    int probe_attempt_ms;                // ready=probe: give up one connect attempt after this
    int reconnect_min_ms;                // libvirt reconnect backoff, first wait...
    int reconnect_max_ms;                // ...doubling up to this
    char save_dir[VMCTL_SAVE_DIR_MAX + 1];  // where the saved tier's files live (one a service)
    vmctl_limits_t limits;
} vmctl_config_t;

//  Fill SELF with defaults only.
void vmctl_config_defaults (vmctl_config_t *self);

//  Fill SELF with defaults, then apply the JSON file at PATH (NULL: defaults only). Returns 0,
//  or -2 with ERROR naming the file and the field.
int vmctl_config_load (vmctl_config_t *self, const char *path, proto_error_t *error);

//  Apply a config object (borrowed; the file's keys) on top of SELF, as vmctl_config_load does
//  with a file. WHERE names it in errors. Returns 0 or -2.
int vmctl_config_apply (vmctl_config_t *self, json_t *config, const char *where,
                        proto_error_t *error);

#endif
