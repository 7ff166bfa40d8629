/*  dnsd_service: a served service's record.  */

#include <arpa/inet.h>

#include "dnsd_name.h"
#include "dnsd_service.h"

dnsd_service_t *
dnsd_service_new (const char *name)
{
    dnsd_service_t *self = (dnsd_service_t *) zmalloc (sizeof (dnsd_service_t));
    if (proto_copy (self->name, sizeof self->name, name)) {
        free (self);
        return NULL;
    }
    self->state = PROTO_STATE_OFF;
    self->ttl = PROTO_SERVICE_TTL_DEFAULT;
    self->boot_ttl = PROTO_SERVICE_BOOT_TTL_DEFAULT;
    self->drain_ttl = self->draining_ttl = PROTO_SERVICE_DRAIN_TTL_DEFAULT;
    self->hold_max_ms = -1;
    self->ready_timeout_ms = PROTO_SERVICE_READY_TIMEOUT_DEFAULT;
    return self;
}

void
dnsd_service_destroy (dnsd_service_t **self_p)
{
    assert (self_p);
    dnsd_service_t *self = *self_p;
    if (!self)
        return;
    dnsd_service_undefine (self);
    free (self);
    *self_p = NULL;
}

void
dnsd_service_define (dnsd_service_t *self, proto_service_t *parsed)
{
    assert (self);
    dnsd_service_undefine (self);
    inet_pton (AF_INET, parsed->ip, self->ip);
    self->has_ip6 = *parsed->ip6 != '\0';
    if (self->has_ip6)
        inet_pton (AF_INET6, parsed->ip6, self->ip6);
    self->ttl = (uint32_t) parsed->ttl;
    self->boot_ttl = (uint32_t) parsed->boot_ttl;
    self->drain_ttl = (uint32_t) parsed->drain_ttl;
    self->mask = parsed->mask;
    self->response_delay_ms = parsed->response_delay_ms;
    self->ready_timeout_ms = parsed->ready_timeout_ms;
    self->hold_max_ms = parsed->hold_max_ms;
    //  The lists move over; the rest of the definition (domain, template...) is vmctl's.
    self->wake = parsed->wake;
    self->wake_count = parsed->wake_count;
    self->dns = parsed->dns;
    self->dns_count = parsed->dns_count;
    parsed->wake = NULL;
    parsed->wake_count = 0;
    parsed->dns = NULL;
    parsed->dns_count = 0;
    proto_service_reset (parsed);
    uint8_t wire[DNSD_NAME_MAX];
    int length = self->dns_count ? dnsd_name_from_text (self->dns[0], wire) : -1;
    if (length > 0) {
        self->primary = (uint8_t *) malloc ((size_t) length);
        assert (self->primary);
        memcpy (self->primary, wire, (size_t) length);
        self->primary_length = (size_t) length;
    }
    self->defined = true;
}

void
dnsd_service_undefine (dnsd_service_t *self)
{
    assert (self);
    for (size_t index = 0; index < self->dns_count; index++)
        free (self->dns[index]);
    free (self->dns);
    free (self->wake);
    free (self->primary);
    self->dns = NULL;
    self->dns_count = 0;
    self->wake = NULL;
    self->wake_count = 0;
    self->primary = NULL;
    self->primary_length = 0;
    self->defined = false;
}

void
dnsd_service_set_has_status (dnsd_service_t *self, bool has_status)
{
    assert (self);
    self->has_status = has_status;
}

int
dnsd_service_set_request_id (dnsd_service_t *self, const char *request_id)
{
    assert (self);
    return proto_copy (self->request_id, sizeof self->request_id, request_id);
}

bool
dnsd_service_may_wake (const dnsd_service_t *self, const struct sockaddr *address)
{
    assert (self);
    //  proto_service_may_wake reads only the wake list of the definition it is given.
    proto_service_t probe;
    memset (&probe, 0, sizeof probe);
    probe.wake = self->wake;
    probe.wake_count = self->wake_count;
    return proto_service_may_wake (&probe, address);
}
