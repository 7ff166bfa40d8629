/*  dnsd_config: parse and validate dnsd's JSON config.

    {"instance": "1", "listen": ["127.0.0.1"], "port": 53, "port_file": "",
     "upstreams": ["127.0.0.1@5353"], "forward_timeout_ms": 1000, "forward_retries": 2,
     "forwards_max": 4096, "recursion_from": ["127.0.0.0/8", "::1"],
     "nameservers": ["localhost"],
     "zones": [{"name": "example.org", "ns": ["ns1.example.org"], "hostmaster":
                "hostmaster.example.org", "ttl": 300, "refresh": 3600, "retry": 600,
                "expire": 86400, "minimum": 60}],
     "heartbeat_ms": 1000, "statestore_heartbeat_ms": 1000, "boot_retry_ms": 2000,
     "boot_rate": 20, "boot_burst": 50, "boot_prefix_rate": 2, "boot_prefix_burst": 10,
     "waiting_max": 10000, "tcp_clients_max": 256, "tcp_idle_ms": 10000,
     "sync_wait_ms": 5000, "rrl_rate": 200, "rrl_slip": 2, "rrl_ipv4_prefix": 24,
     "rrl_ipv6_prefix": 56, "rrl_exempt": ["127.0.0.0/8", "::1"],
     "cookie_secret": "32 hex digits", "endpoints": {...}}  */


#include "dnsd_config.h"

#define S_SOA_TTL_DEFAULT     300
#define S_SOA_REFRESH_DEFAULT 3600
#define S_SOA_RETRY_DEFAULT   600
#define S_SOA_EXPIRE_DEFAULT  86400
#define S_SOA_MINIMUM_DEFAULT 60  // negative answers are cached this long (RFC 2308)

//  Parse a list of at most MAX DNS names into WIRE/LENGTH. Returns the count, or -2.
static int
s_names (json_t *list, size_t max, uint8_t (*wire)[DNSD_NAME_MAX], size_t *length,
         const char *where, const char *field, proto_error_t *error)
{
    if (!json_is_array (list) || json_array_size (list) == 0 || json_array_size (list) > max)
        return proto_error_set (error, PROTO_ERR_VALUE, "%s: %s: a list of 1 to %zu names", where,
                                field, max);
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item)
    {
        const char *text = json_string_value (item);
        int size = text ? dnsd_name_from_text (text, wire[index]) : -1;
        if (size < 2)
            return proto_error_set (error, PROTO_ERR_VALUE, "%s: %s[%zu]: not a DNS name", where,
                                    field, index);
        length[index] = (size_t) size;
    }
    return (int) json_array_size (list);
}

static void
s_zone_defaults (dnsd_zone_config_t *zone, const dnsd_zone_config_t *template)
{
    if (template)
        *zone = *template;
    else {
        memset (zone, 0, sizeof *zone);
        zone->ns_length[0] = (size_t) dnsd_name_from_text ("localhost", zone->ns[0]);
        zone->ns_count = 1;
        zone->ttl = S_SOA_TTL_DEFAULT;
        zone->refresh = S_SOA_REFRESH_DEFAULT;
        zone->retry = S_SOA_RETRY_DEFAULT;
        zone->expire = S_SOA_EXPIRE_DEFAULT;
        zone->minimum = S_SOA_MINIMUM_DEFAULT;
    }
    zone->apex_length = 0;
    zone->hostmaster_length = 0;  // "hostmaster.APEX" unless given
}

static int
s_zone (dnsd_zone_config_t *zone, json_t *object, const dnsd_config_t *config, size_t position,
        const char *path, proto_error_t *error)
{
    char where[PROTO_PATH_MAX * 2 + 32];
    snprintf (where, sizeof where, "%s: zones[%zu]", path, position);
    if (!json_is_object (object))
        return proto_error_set (error, PROTO_ERR_TYPE, "%s: not an object", where);
    s_zone_defaults (zone, &config->derived);
    char name[DNSD_DNAME_TEXT_MAX + 1] = "", hostmaster[DNSD_DNAME_TEXT_MAX + 1] = "";
    json_t *ns = NULL;
    const proto_config_field_t fields[] = {
        {"name", PROTO_CONFIG_STR, name, sizeof name, 1, 0},
        {"ns", PROTO_CONFIG_JSON, &ns, 0, 0, 0},
        {"hostmaster", PROTO_CONFIG_STR, hostmaster, sizeof hostmaster, 1, 0},
        {"ttl", PROTO_CONFIG_INT, &zone->ttl, 0, 0, 604800},
        {"refresh", PROTO_CONFIG_INT, &zone->refresh, 0, 1, 2147483647},
        {"retry", PROTO_CONFIG_INT, &zone->retry, 0, 1, 2147483647},
        {"expire", PROTO_CONFIG_INT, &zone->expire, 0, 1, 2147483647},
        {"minimum", PROTO_CONFIG_INT, &zone->minimum, 0, 0, 86400},
        PROTO_CONFIG_END,
    };
    if (proto_config_read (object, fields, where, error))
        return -2;
    if (!*name)
        return proto_error_set (error, PROTO_ERR_MISSING, "%s: name: required", where);
    int length = dnsd_name_from_text (name, zone->apex);
    if (length < 2)
        return proto_error_set (error, PROTO_ERR_VALUE,
                                "%s: name: \"%s\" is not a DNS name "
                                "below the root",
                                where, name);
    zone->apex_length = (size_t) length;
    if (*hostmaster) {
        length = dnsd_name_from_text (hostmaster, zone->hostmaster);
        if (length < 2)
            return proto_error_set (error, PROTO_ERR_VALUE, "%s: hostmaster: not a DNS name",
                                    where);
        zone->hostmaster_length = (size_t) length;
    }
    if (ns) {
        int count = s_names (ns, DNSD_ZONE_NS_MAX, zone->ns, zone->ns_length, where, "ns", error);
        if (count < 0)
            return -2;
        zone->ns_count = (size_t) count;
    }
    for (size_t index = 0; index < position; index++)
        if (config->zones[index].apex_length == zone->apex_length
            && memcmp (config->zones[index].apex, zone->apex, zone->apex_length) == 0)
            return proto_error_set (error, PROTO_ERR_VALUE, "%s: name: \"%s\" is listed twice",
                                    where, name);
    return 0;
}

//  "ADDRESS" or "ADDRESS@PORT" (NSD's and Unbound's syntax; IPv6 needs no brackets).
static int
s_upstream (dnsd_upstream_t *upstream, const char *text, const char *where, size_t position,
            proto_error_t *error)
{
    char address[PROTO_ADDR_MAX + 1];
    const char *at = strchr (text, '@');
    size_t length = at ? (size_t) (at - text) : strlen (text);
    long port = 53;
    if (at) {
        char *end;
        port = strtol (at + 1, &end, 10);
        if (*end || end == at + 1 || port < 1 || port > 65535)
            length = 0;
    }
    if (length == 0 || length > PROTO_ADDR_MAX)
        goto invalid;
    memcpy (address, text, length);
    address[length] = '\0';
    if (proto_addr_parse (address, (int) port, &upstream->address, &upstream->length))
        goto invalid;
    snprintf (upstream->text, sizeof upstream->text, "%s@%ld", address, port);
    return 0;
invalid:
    return proto_error_set (error, PROTO_ERR_VALUE,
                            "%s: upstreams[%zu]: \"%s\" is not ADDRESS or ADDRESS@PORT", where,
                            position, text);
}

//  A list of at most MAX CIDRs at KEY of the config into CIDRS, and their COUNT; an absent
//  LIST leaves both as they are. recursion_from (as Unbound's access-control: who may make dnsd
//  ask its upstreams) and rrl_exempt.
static int
s_cidrs (json_t *list, const char *key, proto_cidr_t *cidrs, size_t max, size_t *count,
         const char *path, proto_error_t *error)
{
    if (!list)
        return 0;
    if (!json_is_array (list) || json_array_size (list) > max)
        return proto_error_set (error, PROTO_ERR_VALUE,
                                "%s: %s: a list of at most %zu CIDRs ([]: nobody)", path, key, max);
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item)
    {
        if (!json_is_string (item) || proto_cidr_parse (&cidrs[index], json_string_value (item)))
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "%s: %s[%zu]: not a CIDR (\"10.0.0.0/8\")", path, key, index);
    }
    *count = json_array_size (list);
    return 0;
}

static int
s_lists (dnsd_config_t *self, json_t *listen, json_t *upstreams, json_t *zones, json_t *nameservers,
         const char *path, proto_error_t *error)
{
    if (listen) {
        if (!json_is_array (listen) || json_array_size (listen) == 0
            || json_array_size (listen) > DNSD_LISTEN_MAX)
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "%s: listen: a list of 1 to %d "
                                    "addresses",
                                    path, DNSD_LISTEN_MAX);
        size_t index;
        json_t *item;
        json_array_foreach (listen, index, item)
        {
            const char *text = json_string_value (item);
            struct sockaddr_storage address;
            socklen_t length;
            if (!text || strlen (text) > PROTO_ADDR_MAX
                || proto_addr_parse (text, 0, &address, &length))
                return proto_error_set (error, PROTO_ERR_VALUE,
                                        "%s: listen[%zu]: not an IPv4 "
                                        "or IPv6 address",
                                        path, index);
            strcpy (self->listen[index], text);
        }
        self->listen_count = json_array_size (listen);
    }
    if (upstreams) {
        if (!json_is_array (upstreams) || json_array_size (upstreams) > DNSD_UPSTREAM_MAX)
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "%s: upstreams: a list of at most "
                                    "%d servers ([] turns forwarding off)",
                                    path, DNSD_UPSTREAM_MAX);
        size_t index;
        json_t *item;
        json_array_foreach (upstreams, index, item)
        {
            if (!json_is_string (item))
                return proto_error_set (error, PROTO_ERR_TYPE,
                                        "%s: upstreams[%zu]: not a "
                                        "string",
                                        path, index);
            if (s_upstream (&self->upstreams[index], json_string_value (item), path, index, error))
                return -2;
        }
        self->upstream_count = json_array_size (upstreams);
    }
    if (nameservers) {
        int count = s_names (nameservers, DNSD_ZONE_NS_MAX, self->derived.ns,
                             self->derived.ns_length, path, "nameservers", error);
        if (count < 0)
            return -2;
        self->derived.ns_count = (size_t) count;
    }
    if (zones) {
        if (!json_is_array (zones) || json_array_size (zones) > DNSD_ZONES_MAX)
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "%s: zones: a list of at most %d "
                                    "zones",
                                    path, DNSD_ZONES_MAX);
        self->zones = (dnsd_zone_config_t *) zmalloc ((json_array_size (zones) + 1)
                                                      * sizeof (dnsd_zone_config_t));
        size_t index;
        json_t *item;
        json_array_foreach (zones, index, item)
        {
            if (s_zone (&self->zones[index], item, self, index, path, error))
                return -2;
            self->zone_count = index + 1;
        }
    }
    return 0;
}

//  rrl_exempt (a list of CIDRs, replacing the default) and cookie_secret (32 hex digits).
static int
s_security (dnsd_config_t *self, json_t *exempt, const char *secret, const char *path,
            proto_error_t *error)
{
    if (s_cidrs (exempt, "rrl_exempt", self->rrl_exempt, DNSD_RRL_EXEMPT_MAX,
                 &self->rrl_exempt_count, path, error))
        return -2;
    if (*secret) {
        if (dnsd_cookie_secret_parse (secret, self->cookie_secret))
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "%s: cookie_secret: not 32 hex digits (128 bits)", path);
        self->has_cookie_secret = true;
    }
    return 0;
}

int
dnsd_config_load (dnsd_config_t *self, const char *path, proto_error_t *error)
{
    assert (self);
    memset (self, 0, sizeof *self);
    if (proto_config_endpoints (&self->endpoints, error))
        return -2;
    strcpy (self->instance, "1");
    strcpy (self->listen[0], "127.0.0.1");
    self->listen_count = 1;
    self->port = DNSD_PORT_DEFAULT;
    self->forward_timeout_ms = DNSD_FORWARD_TIMEOUT_MS_DEFAULT;
    self->forward_retries = DNSD_FORWARD_RETRIES_DEFAULT;
    self->forwards_max = DNSD_FORWARDS_MAX_DEFAULT;
    //  Loopback only, as Unbound: an open resolver is an amplifier for anyone's attack.
    proto_cidr_parse (&self->recursion_from[0], "127.0.0.0/8");
    proto_cidr_parse (&self->recursion_from[1], "::1");
    self->recursion_count = 2;
    s_zone_defaults (&self->derived, NULL);
    self->heartbeat_ms = DNSD_HEARTBEAT_MS_DEFAULT;
    self->statestore_heartbeat_ms = 1000;
    self->boot_retry_ms = DNSD_BOOT_RETRY_MS_DEFAULT;
    self->boot_rate = DNSD_BOOT_RATE_DEFAULT;
    self->boot_burst = DNSD_BOOT_BURST_DEFAULT;
    self->boot_prefix_rate = DNSD_BOOT_PREFIX_RATE_DEFAULT;
    self->boot_prefix_burst = DNSD_BOOT_PREFIX_BURST_DEFAULT;
    self->waiting_max = DNSD_WAITING_MAX_DEFAULT;
    self->hold_max_ms = DNSD_HOLD_MAX_MS_DEFAULT;
    self->tcp_clients_max = DNSD_TCP_CLIENTS_MAX_DEFAULT;
    self->tcp_idle_ms = DNSD_TCP_IDLE_MS_DEFAULT;
    self->sync_wait_ms = DNSD_SYNC_WAIT_MS_DEFAULT;
    self->rrl_rate = DNSD_RRL_RATE_DEFAULT;
    self->rrl_slip = DNSD_RRL_SLIP_DEFAULT;
    self->rrl_ipv4_prefix = DNSD_RRL_IPV4_PREFIX_DEFAULT;
    self->rrl_ipv6_prefix = DNSD_RRL_IPV6_PREFIX_DEFAULT;
    proto_cidr_parse (&self->rrl_exempt[0], "127.0.0.0/8");
    proto_cidr_parse (&self->rrl_exempt[1], "::1");
    self->rrl_exempt_count = 2;
    if (!path)
        return 0;

    json_t *config = proto_config_load (path, error);
    if (!config)
        return -2;
    json_t *listen = NULL, *upstreams = NULL, *zones = NULL, *nameservers = NULL;
    json_t *rrl_exempt = NULL;
    char cookie_secret[2 * DNSD_COOKIE_SECRET_SIZE + 2] = "";
    json_t *recursion_from = NULL;
    const proto_config_field_t fields[] = {
        {"instance", PROTO_CONFIG_STR, self->instance, sizeof self->instance, 1, 0},
        {"listen", PROTO_CONFIG_JSON, &listen, 0, 0, 0},
        {"port", PROTO_CONFIG_INT, &self->port, 0, 0, 65535},
        {"port_file", PROTO_CONFIG_STR, self->port_file, sizeof self->port_file, 0, 0},
        {"upstreams", PROTO_CONFIG_JSON, &upstreams, 0, 0, 0},
        {"forward_timeout_ms", PROTO_CONFIG_INT, &self->forward_timeout_ms, 0, 10, 60000},
        {"forward_retries", PROTO_CONFIG_INT, &self->forward_retries, 0, 0, 10},
        {"forwards_max", PROTO_CONFIG_INT, &self->forwards_max, 0, 1, 60000},
        {"recursion_from", PROTO_CONFIG_JSON, &recursion_from, 0, 0, 0},
        {"nameservers", PROTO_CONFIG_JSON, &nameservers, 0, 0, 0},
        {"zones", PROTO_CONFIG_JSON, &zones, 0, 0, 0},
        {"heartbeat_ms", PROTO_CONFIG_INT, &self->heartbeat_ms, 0, 100, 60000},
        {"statestore_heartbeat_ms", PROTO_CONFIG_INT, &self->statestore_heartbeat_ms, 0, 100,
         60000},
        {"boot_retry_ms", PROTO_CONFIG_INT, &self->boot_retry_ms, 0, 100, 600000},
        {"boot_rate", PROTO_CONFIG_INT, &self->boot_rate, 0, 0, 100000},
        {"boot_burst", PROTO_CONFIG_INT, &self->boot_burst, 0, 1, 100000},
        {"boot_prefix_rate", PROTO_CONFIG_INT, &self->boot_prefix_rate, 0, 0, 100000},
        {"boot_prefix_burst", PROTO_CONFIG_INT, &self->boot_prefix_burst, 0, 1, 100000},
        {"waiting_max", PROTO_CONFIG_INT, &self->waiting_max, 0, 0, 1000000},
        {"hold_max_ms", PROTO_CONFIG_INT, &self->hold_max_ms, 0, 0, 60000},
        {"tcp_clients_max", PROTO_CONFIG_INT, &self->tcp_clients_max, 0, 1, 65536},
        {"tcp_idle_ms", PROTO_CONFIG_INT, &self->tcp_idle_ms, 0, 100, 600000},
        {"sync_wait_ms", PROTO_CONFIG_INT, &self->sync_wait_ms, 0, 0, 600000},
        {"rrl_rate", PROTO_CONFIG_INT, &self->rrl_rate, 0, 0, 1000000},
        {"rrl_slip", PROTO_CONFIG_INT, &self->rrl_slip, 0, 0, 100},
        {"rrl_ipv4_prefix", PROTO_CONFIG_INT, &self->rrl_ipv4_prefix, 0, 8, 32},
        {"rrl_ipv6_prefix", PROTO_CONFIG_INT, &self->rrl_ipv6_prefix, 0, 16, 128},
        {"rrl_exempt", PROTO_CONFIG_JSON, &rrl_exempt, 0, 0, 0},
        {"cookie_secret", PROTO_CONFIG_STR, cookie_secret, sizeof cookie_secret, 0, 0},
        PROTO_CONFIG_END,
    };
    int rc = proto_config_apply (config, fields, &self->endpoints, path, error);
    //  Nameservers first: they are the default NS of every zone.
    if (rc == 0)
        rc = s_lists (self, listen, upstreams, zones, nameservers, path, error);
    if (rc == 0)
        rc = s_security (self, rrl_exempt, cookie_secret, path, error);
    if (rc == 0)
        rc = s_cidrs (recursion_from, "recursion_from", self->recursion_from, DNSD_RECURSION_MAX,
                      &self->recursion_count, path, error);
    json_decref (config);
    if (rc)
        dnsd_config_reset (self);
    return rc;
}

void
dnsd_config_reset (dnsd_config_t *self)
{
    assert (self);
    free (self->zones);
    self->zones = NULL;
    self->zone_count = 0;
}

bool
dnsd_config_forwarding (const dnsd_config_t *self)
{
    return self->upstream_count > 0;
}

bool
dnsd_config_recursion (const dnsd_config_t *self, const struct sockaddr *client)
{
    return self->upstream_count > 0
           && proto_cidr_list_match (self->recursion_from, self->recursion_count, client);
}
