/*  dnsd_table: zones, names and services, patched one service at a time.  */

#include <arpa/inet.h>

#include "dnsd_suffix.h"
#include "dnsd_table.h"

struct _dnsd_table_t {
    const dnsd_config_t *config;  // borrowed
    dnsd_nodes_t *nodes;          // owned
    dnsd_suffix_t *suffix;        // owned: no zone is derived at or above a public suffix
    zhashx_t *services;           // owned: name -> dnsd_service_t *
    dnsd_zone_t **configured;     // owned: the config's zones, in its order
    size_t configured_count;
    size_t zone_count;  // configured and derived
    size_t defined;
    uint32_t serial;
    dnsd_service_t *flight_head;  // services with a boot in flight
    dnsd_service_t *hits_head;    // services reported within the last second, oldest first
    dnsd_service_t *hits_tail;
};

static void
s_service_destroy (void **item_p)
{
    dnsd_service_destroy ((dnsd_service_t **) item_p);
}

dnsd_table_t *
dnsd_table_new (const dnsd_config_t *config)
{
    assert (config);
    dnsd_suffix_t *suffix = dnsd_suffix_new ();
    if (!suffix)
        return NULL;
    dnsd_table_t *self = (dnsd_table_t *) zmalloc (sizeof (dnsd_table_t));
    self->config = config;
    self->suffix = suffix;
    self->nodes = dnsd_nodes_new ();
    self->services = zhashx_new ();
    zhashx_set_destructor (self->services, s_service_destroy);
    self->serial = 1;
    self->configured = (dnsd_zone_t **) zmalloc ((config->zone_count + 1) * sizeof (void *));
    for (size_t index = 0; index < config->zone_count; index++) {
        const dnsd_zone_config_t *zone_config = &config->zones[index];
        dnsd_zone_t *zone =
            dnsd_zone_new (zone_config->apex, zone_config->apex_length, zone_config);
        zone->configured = true;
        dnsd_node_t *node = dnsd_nodes_ref (self->nodes, zone->apex, zone->apex_length);
        node->apex = zone;
        self->configured[self->configured_count++] = zone;
        self->zone_count++;
    }
    return self;
}

static void s_unregister (dnsd_table_t *self, dnsd_service_t *service);

void
dnsd_table_destroy (dnsd_table_t **self_p)
{
    assert (self_p);
    dnsd_table_t *self = *self_p;
    if (!self)
        return;
    for (dnsd_service_t *service = (dnsd_service_t *) zhashx_first (self->services); service;
         service = (dnsd_service_t *) zhashx_next (self->services))
        if (service->defined)
            s_unregister (self, service);
    zhashx_destroy (&self->services);
    for (size_t index = 0; index < self->configured_count; index++) {
        dnsd_zone_t *zone = self->configured[index];
        dnsd_node_t *node = dnsd_nodes_lookup (self->nodes, zone->apex, zone->apex_length,
                                               dnsd_name_hash (zone->apex, zone->apex_length));
        node->apex = NULL;
        dnsd_nodes_unref (self->nodes, zone->apex, zone->apex_length);
        dnsd_zone_destroy (&zone);
    }
    free (self->configured);
    dnsd_nodes_destroy (&self->nodes);
    dnsd_suffix_destroy (&self->suffix);
    free (self);
    *self_p = NULL;
}

//  The configured zone NAME is in, or NULL.
static dnsd_zone_t *
s_configured_zone (dnsd_table_t *self, const uint8_t *name, size_t length)
{
    for (size_t offset = 0; name[offset]; offset += 1 + name[offset]) {
        dnsd_node_t *node = dnsd_nodes_lookup (self->nodes, name + offset, length - offset,
                                               dnsd_name_hash (name + offset, length - offset));
        if (node && node->apex && node->apex->configured)
            return node->apex;
    }
    return NULL;
}

//  The apex of the zone a service NAME derives, or 0 when NAME is in a configured zone, or -1
//  when NAME is a public suffix (it derives none). Fills APEX. The zone is NAME's parent, so
//  that a service's sibling names share it, unless the parent is a public suffix (co.uk, com):
//  then NAME itself (shop.co.uk, example.com), its registrable domain.
static int
s_derived_apex (dnsd_table_t *self, const uint8_t *name, size_t length, const uint8_t **apex)
{
    if (s_configured_zone (self, name, length))
        return 0;
    int registrable = dnsd_suffix_registrable (self->suffix, name, length);
    if (registrable < 0)
        return -1;
    size_t parent = 1 + (size_t) name[0];
    if ((int) parent <= registrable) {
        *apex = name + parent;
        return (int) (length - parent);
    }
    *apex = name;
    return (int) length;
}

//  Every name of PARSED can be served: in a configured zone, or one a zone can be derived
//  for. Returns 0, or -2 with ERROR naming the service, the name and the zone to configure.
static int
s_check_names (dnsd_table_t *self, const proto_service_t *parsed, proto_error_t *error)
{
    for (size_t index = 0; index < parsed->dns_count; index++) {
        uint8_t wire[DNSD_NAME_MAX];
        int length = dnsd_name_from_text (parsed->dns[index], wire);
        const uint8_t *apex;
        if (length >= 2 && s_derived_apex (self, wire, (size_t) length, &apex) < 0)
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "%s: dns[%zu]: \"%s\" is a public suffix, dnsd derives no "
                                    "zone for it: add {\"name\": \"%s\"} to \"zones\" in dnsd's "
                                    "config if this server is authoritative for it",
                                    parsed->name, index, parsed->dns[index], parsed->dns[index]);
    }
    return 0;
}

static void
s_zone_ref (dnsd_table_t *self, const uint8_t *apex, size_t length)
{
    dnsd_node_t *node = dnsd_nodes_ref (self->nodes, apex, length);
    if (!node->apex) {
        node->apex = dnsd_zone_new (apex, length, &self->config->derived);
        self->zone_count++;
    }
    node->apex->derived_refs++;
}

static void
s_zone_unref (dnsd_table_t *self, const uint8_t *apex, size_t length)
{
    dnsd_node_t *node =
        dnsd_nodes_lookup (self->nodes, apex, length, dnsd_name_hash (apex, length));
    assert (node && node->apex && node->apex->derived_refs > 0);
    if (--node->apex->derived_refs == 0 && !node->apex->configured) {
        dnsd_zone_destroy (&node->apex);
        self->zone_count--;
    }
    dnsd_nodes_unref (self->nodes, apex, length);
}

//  The reverse names of SERVICE's addresses that fall in a configured zone: 0, 1 or 2.
static int
s_reverse_names (dnsd_table_t *self, dnsd_service_t *service, uint8_t names[2][DNSD_NAME_MAX],
                 size_t lengths[2])
{
    int count = 0;
    int length = dnsd_name_reverse (AF_INET, service->ip, names[count]);
    if (s_configured_zone (self, names[count], (size_t) length))
        lengths[count++] = (size_t) length;
    if (service->has_ip6) {
        length = dnsd_name_reverse (AF_INET6, service->ip6, names[count]);
        if (s_configured_zone (self, names[count], (size_t) length))
            lengths[count++] = (size_t) length;
    }
    return count;
}

//  Add (or with REMOVE take back) SERVICE's names, derived zones and PTRs.
static void
s_names (dnsd_table_t *self, dnsd_service_t *service, bool remove)
{
    for (size_t index = 0; index < service->dns_count; index++) {
        uint8_t wire[DNSD_NAME_MAX];
        int length = dnsd_name_from_text (service->dns[index], wire);
        if (length < 2)
            continue;  // proto_service accepted it, ldns did not: never registered
        const uint8_t *apex = NULL;
        int apex_length = s_derived_apex (self, wire, (size_t) length, &apex);
        if (apex_length < 0)
            continue;  // refused by s_check_names: never registered
        if (remove) {
            dnsd_node_t *node = dnsd_nodes_lookup (self->nodes, wire, (size_t) length,
                                                   dnsd_name_hash (wire, (size_t) length));
            assert (node);
            dnsd_node_remove (node, service, false);
            dnsd_nodes_unref (self->nodes, wire, (size_t) length);
            if (apex_length)
                s_zone_unref (self, apex, (size_t) apex_length);
            continue;
        }
        if (apex_length)
            s_zone_ref (self, apex, (size_t) apex_length);
        dnsd_node_t *node = dnsd_nodes_ref (self->nodes, wire, (size_t) length);
        dnsd_node_add (node, service, false);
        if (node->owner_count > 1 && node->owners[0] != service)
            zsys_warning ("dnsd_table: name claimed twice name=%s service=%s answered_by=%s",
                          service->dns[index], service->name, node->owners[0]->name);
    }
    uint8_t reverse[2][DNSD_NAME_MAX];
    size_t lengths[2];
    int count = s_reverse_names (self, service, reverse, lengths);
    for (int index = 0; index < count; index++) {
        if (remove) {
            dnsd_node_t *node = dnsd_nodes_lookup (self->nodes, reverse[index], lengths[index],
                                                   dnsd_name_hash (reverse[index], lengths[index]));
            assert (node);
            dnsd_node_remove (node, service, true);
            dnsd_nodes_unref (self->nodes, reverse[index], lengths[index]);
        }
        else
            dnsd_node_add (dnsd_nodes_ref (self->nodes, reverse[index], lengths[index]), service,
                           true);
    }
}

static void
s_register (dnsd_table_t *self, dnsd_service_t *service)
{
    s_names (self, service, false);
}

static void
s_unregister (dnsd_table_t *self, dnsd_service_t *service)
{
    s_names (self, service, true);
}

int
dnsd_table_define (dnsd_table_t *self, const char *name, json_t *value, proto_error_t *error)
{
    assert (self);
    dnsd_service_t *service = dnsd_table_ensure (self, name);
    if (!service)
        return proto_error_set (error, PROTO_ERR_TOO_LONG, "%s: service name too long", name);
    proto_service_t parsed;
    proto_service_init (&parsed);
    int rc = proto_service_parse (&parsed, value, name, error);
    if (rc == 0 && !streq (parsed.name, name)) {
        rc = proto_error_set (error, PROTO_ERR_VALUE, "%s: name: \"%s\" differs from the key", name,
                              parsed.name);
        proto_service_reset (&parsed);
    }
    uint8_t ip[4], ip6[16];
    if (rc == 0
        && (inet_pton (AF_INET, parsed.ip, ip) != 1
            || (*parsed.ip6 && inet_pton (AF_INET6, parsed.ip6, ip6) != 1))) {
        rc = proto_error_set (error, PROTO_ERR_VALUE, "%s: ip: not an address", name);
        proto_service_reset (&parsed);
    }
    if (rc == 0 && (rc = s_check_names (self, &parsed, error)))
        proto_service_reset (&parsed);
    if (service->defined) {
        s_unregister (self, service);
        dnsd_service_undefine (service);
        self->defined--;
    }
    if (rc)
        return rc;
    dnsd_service_define (service, &parsed);
    self->defined++;
    s_register (self, service);
    return 0;
}

void
dnsd_table_undefine (dnsd_table_t *self, const char *name)
{
    assert (self);
    dnsd_service_t *service = dnsd_table_service (self, name);
    if (!service || !service->defined)
        return;
    s_unregister (self, service);
    dnsd_service_undefine (service);
    self->defined--;
}

dnsd_service_t *
dnsd_table_service (dnsd_table_t *self, const char *name)
{
    assert (self);
    return (dnsd_service_t *) zhashx_lookup (self->services, name);
}

dnsd_service_t *
dnsd_table_ensure (dnsd_table_t *self, const char *name)
{
    assert (self);
    dnsd_service_t *service = (dnsd_service_t *) zhashx_lookup (self->services, name);
    if (!service) {
        service = dnsd_service_new (name);
        if (service)
            zhashx_insert (self->services, name, service);
    }
    return service;
}

//  Take SERVICE off the hits queue, if it is on it.
static void
s_hits_unqueue (dnsd_table_t *self, dnsd_service_t *service)
{
    if (!service->hits_queued)
        return;
    if (service->hits_prev)
        service->hits_prev->hits_next = service->hits_next;
    else
        self->hits_head = service->hits_next;
    if (service->hits_next)
        service->hits_next->hits_prev = service->hits_prev;
    else
        self->hits_tail = service->hits_prev;
    service->hits_prev = service->hits_next = NULL;
    service->hits_queued = false;
}

bool
dnsd_table_prune (dnsd_table_t *self, dnsd_service_t *service)
{
    assert (self);
    if (service->defined || service->has_status || service->in_flight || service->waiting)
        return false;
    s_hits_unqueue (self, service);  // unreported hits of a deleted service help nobody
    zhashx_delete (self->services, service->name);
    return true;
}

const dnsd_node_t *
dnsd_table_node (dnsd_table_t *self, const uint8_t *name, size_t length, uint32_t hash)
{
    return dnsd_nodes_lookup (self->nodes, name, length, hash);
}

const dnsd_zone_t *
dnsd_table_zone (dnsd_table_t *self, const uint8_t *name, size_t length)
{
    for (size_t offset = 0; name[offset]; offset += 1 + name[offset]) {
        dnsd_node_t *node = dnsd_nodes_lookup (self->nodes, name + offset, length - offset,
                                               dnsd_name_hash (name + offset, length - offset));
        if (node && node->apex)
            return node->apex;
    }
    return NULL;
}

void
dnsd_table_set_serial (dnsd_table_t *self, uint32_t serial)
{
    assert (self);
    self->serial = serial ? serial : 1;
}

uint32_t
dnsd_table_serial (dnsd_table_t *self)
{
    assert (self);
    return self->serial;
}

void
dnsd_table_flight_add (dnsd_table_t *self, dnsd_service_t *service)
{
    assert (self);
    if (service->in_flight)
        return;
    service->in_flight = true;
    service->flight_prev = NULL;
    service->flight_next = self->flight_head;
    if (self->flight_head)
        self->flight_head->flight_prev = service;
    self->flight_head = service;
}

void
dnsd_table_flight_remove (dnsd_table_t *self, dnsd_service_t *service)
{
    assert (self);
    if (!service->in_flight)
        return;
    if (service->flight_prev)
        service->flight_prev->flight_next = service->flight_next;
    else
        self->flight_head = service->flight_next;
    if (service->flight_next)
        service->flight_next->flight_prev = service->flight_prev;
    service->flight_prev = service->flight_next = NULL;
    service->in_flight = false;
    service->acked = false;
}

dnsd_service_t *
dnsd_table_flight_first (dnsd_table_t *self)
{
    assert (self);
    return self->flight_head;
}

bool
dnsd_table_hit (dnsd_table_t *self, dnsd_service_t *service, int64_t now_ms, int64_t mono_ms)
{
    if (service->hits++ == 0)
        service->hits_first_ts = now_ms;
    service->hits_last_ts = now_ms;
    //  Once the drain began, the next query is what vmctl must hear of at once: it cancels it.
    return !service->hits_queued || mono_ms - service->hits_published >= DNSD_HITS_INTERVAL_MS
           || (service->state == PROTO_STATE_DRAINING
               && service->hits_published <= service->drain_mono);
}

void
dnsd_table_report (dnsd_table_t *self, dnsd_service_t *service, int64_t mono_ms, dnsd_table_fn *fn,
                   void *arg)
{
    assert (self);
    fn (service, arg);
    service->hits = 0;
    service->hits_published = mono_ms;
    s_hits_unqueue (self, service);
    service->hits_queued = true;
    service->hits_prev = self->hits_tail;
    service->hits_next = NULL;
    if (self->hits_tail)
        self->hits_tail->hits_next = service;
    else
        self->hits_head = service;
    self->hits_tail = service;
}

void
dnsd_table_take_hits (dnsd_table_t *self, int64_t mono_ms, dnsd_table_fn *fn, void *arg)
{
    assert (self);
    //  The queue is in report order, so the services due are at its head; each one reported
    //  again goes to the tail, a second later than everything due now.
    while (self->hits_head && mono_ms - self->hits_head->hits_published >= DNSD_HITS_INTERVAL_MS) {
        dnsd_service_t *service = self->hits_head;
        if (service->hits)
            dnsd_table_report (self, service, mono_ms, fn, arg);
        else
            s_hits_unqueue (self, service);
    }
}

int64_t
dnsd_table_hits_due (dnsd_table_t *self)
{
    assert (self);
    return self->hits_head ? self->hits_head->hits_published + DNSD_HITS_INTERVAL_MS : -1;
}

void
dnsd_table_foreach (dnsd_table_t *self, dnsd_table_fn *fn, void *arg)
{
    assert (self);
    for (dnsd_service_t *service = (dnsd_service_t *) zhashx_first (self->services); service;
         service = (dnsd_service_t *) zhashx_next (self->services))
        fn (service, arg);
}

size_t
dnsd_table_services (dnsd_table_t *self)
{
    return zhashx_size (self->services);
}

size_t
dnsd_table_defined (dnsd_table_t *self)
{
    return self->defined;
}

size_t
dnsd_table_names (dnsd_table_t *self)
{
    return dnsd_nodes_size (self->nodes);
}

size_t
dnsd_table_zones (dnsd_table_t *self)
{
    return self->zone_count;
}
