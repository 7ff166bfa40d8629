/*  vmctl_config: parse and validate vmctl's JSON config.

    {"uri": "qemu:///system", "instance": "1", "endpoints": {...}, "heartbeat_ms": 1000,
     "statestore_heartbeat_ms": 1000, "workers": 4, "domain_prefix": "jitsu-",
     "domain_type": "qemu", "idle_check_ms": 1000, "shutdown_grace_ms": 10000,
     "probe_interval_ms": 20, "probe_attempt_ms": 500, "reconnect_min_ms": 100,
     "reconnect_max_ms": 5000, "max_running": 0, "max_booting": 0, "memory_budget_mib": 0,
     "evict_idle": true}  */

#include "vmctl_config.h"

#define S_FIELDS_MAX 28

void
vmctl_config_defaults (vmctl_config_t *self)
{
    assert (self);
    memset (self, 0, sizeof *self);
    proto_endpoints_defaults (&self->endpoints);
    strcpy (self->instance, "1");
    strcpy (self->uri, VMCTL_URI_DEFAULT);
    strcpy (self->domain_prefix, VMCTL_DOMAIN_PREFIX_DEFAULT);
    strcpy (self->domain_type, VMCTL_DOMAIN_TYPE_DEFAULT);
    strcpy (self->serve, "all");
    self->heartbeat_ms = VMCTL_HEARTBEAT_MS_DEFAULT;
    self->statestore_heartbeat_ms = VMCTL_HEARTBEAT_MS_DEFAULT;
    self->workers = VMCTL_WORKERS_DEFAULT;
    self->idle_check_ms = VMCTL_IDLE_CHECK_MS_DEFAULT;
    self->shutdown_grace_ms = VMCTL_SHUTDOWN_GRACE_MS_DEFAULT;
    self->probe_interval_ms = VMCTL_PROBE_INTERVAL_MS_DEFAULT;
    self->probe_attempt_ms = VMCTL_PROBE_ATTEMPT_MS_DEFAULT;
    self->reconnect_min_ms = VMCTL_RECONNECT_MIN_MS_DEFAULT;
    self->reconnect_max_ms = VMCTL_RECONNECT_MAX_MS_DEFAULT;
    self->limits.evict_idle = true;
    strcpy (self->save_dir, VMCTL_SAVE_DIR_DEFAULT);
}

//  Names libvirt accepts for a domain: no '/', printable, as in virDomainDefParse.
static bool
s_is_token (const char *text)
{
    for (const char *cursor = text; *cursor; cursor++)
        if (!isalnum ((unsigned char) *cursor) && *cursor != '-' && *cursor != '_'
            && *cursor != '.')
            return false;
    return true;
}

//  Fill FIELDS (S_FIELDS_MAX entries) with the table of keys, aimed at SELF.
static void
s_fields (vmctl_config_t *self, proto_config_field_t *fields)
{
    const proto_config_field_t table[] = {
        {"instance", PROTO_CONFIG_STR, self->instance, sizeof self->instance, 1, 0},
        {"uri", PROTO_CONFIG_STR, self->uri, sizeof self->uri, 1, 0},
        {"domain_prefix", PROTO_CONFIG_STR, self->domain_prefix, sizeof self->domain_prefix, 0,
         0},
        {"domain_type", PROTO_CONFIG_STR, self->domain_type, sizeof self->domain_type, 1, 0},
        {"serve", PROTO_CONFIG_STR, self->serve, sizeof self->serve, 1, 0},
        {"heartbeat_ms", PROTO_CONFIG_INT, &self->heartbeat_ms, 0, 100, 60000},
        {"statestore_heartbeat_ms", PROTO_CONFIG_INT, &self->statestore_heartbeat_ms, 0, 100,
         60000},
        {"workers", PROTO_CONFIG_INT, &self->workers, 0, 1, 64},
        {"idle_check_ms", PROTO_CONFIG_INT, &self->idle_check_ms, 0, 10, 60000},
        {"shutdown_grace_ms", PROTO_CONFIG_INT, &self->shutdown_grace_ms, 0, 0, 600000},
        {"probe_interval_ms", PROTO_CONFIG_INT, &self->probe_interval_ms, 0, 1, 10000},
        {"probe_attempt_ms", PROTO_CONFIG_INT, &self->probe_attempt_ms, 0, 10, 60000},
        {"reconnect_min_ms", PROTO_CONFIG_INT, &self->reconnect_min_ms, 0, 10, 60000},
        {"reconnect_max_ms", PROTO_CONFIG_INT, &self->reconnect_max_ms, 0, 10, 600000},
        {"max_running", PROTO_CONFIG_INT, &self->limits.max_running, 0, 0, 100000},
        {"max_booting", PROTO_CONFIG_INT, &self->limits.max_booting, 0, 0, 100000},
        {"memory_budget_mib", PROTO_CONFIG_INT, &self->limits.memory_budget_mib, 0, 0,
         INT32_MAX},
        {"evict_idle", PROTO_CONFIG_BOOL, &self->limits.evict_idle, 0, 0, 0},
        {"paused_memory_mib_max", PROTO_CONFIG_INT, &self->limits.paused_memory_mib_max, 0, 0,
         INT32_MAX},
        {"save_dir", PROTO_CONFIG_STR, self->save_dir, sizeof self->save_dir, 1, 0},
        PROTO_CONFIG_END,
    };
    assert (sizeof table / sizeof table[0] <= S_FIELDS_MAX);
    memcpy (fields, table, sizeof table);
}

//  What the table cannot say. WHERE names the file.
static int
s_check (vmctl_config_t *self, const char *where, proto_error_t *error)
{
    if (!s_is_token (self->domain_prefix))
        return proto_error_set (error, PROTO_ERR_VALUE,
                                "%s: domain_prefix: only letters, digits, '-', '_' and '.'",
                                where);
    if (!streq (self->serve, "all") && !streq (self->serve, "template")
        && !streq (self->serve, "domain"))
        return proto_error_set (error, PROTO_ERR_VALUE,
                                "%s: serve: expected all, template or domain", where);
    if (!streq (self->domain_type, "qemu") && !streq (self->domain_type, "kvm"))
        return proto_error_set (error, PROTO_ERR_VALUE, "%s: domain_type: expected qemu or kvm",
                                where);
    if (self->save_dir[0] != '/')
        return proto_error_set (error, PROTO_ERR_VALUE, "%s: save_dir: an absolute path is "
                                "required", where);
    if (self->reconnect_max_ms < self->reconnect_min_ms)
        return proto_error_set (error, PROTO_ERR_VALUE,
                                "%s: reconnect_max_ms: must be >= reconnect_min_ms", where);
    return 0;
}

int
vmctl_config_apply (vmctl_config_t *self, json_t *config, const char *where,
                    proto_error_t *error)
{
    assert (self);
    proto_config_field_t fields[S_FIELDS_MAX];
    s_fields (self, fields);
    int rc = proto_config_apply (config, fields, &self->endpoints, where, error);
    return rc ? rc : s_check (self, where, error);
}

int
vmctl_config_load (vmctl_config_t *self, const char *path, proto_error_t *error)
{
    assert (self);
    vmctl_config_defaults (self);
    if (!self->endpoints.bus_in[0])
        return proto_error_set (error, PROTO_ERR_TOO_LONG, "JITSU_RUN_DIR is too long");
    if (!path)
        return 0;
    proto_config_field_t fields[S_FIELDS_MAX];
    s_fields (self, fields);
    int rc = proto_config_file (path, fields, &self->endpoints, error);
    return rc ? rc : s_check (self, path, error);
}
