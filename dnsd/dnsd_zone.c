/*  dnsd_zone: SOA and NS records (RFC 1035 section 3.3.11, 3.3.13).  */

#include "dnsd_zone.h"

static void
s_put32 (uint8_t *bytes, uint32_t value)
{
    bytes[0] = (uint8_t) (value >> 24);
    bytes[1] = (uint8_t) (value >> 16);
    bytes[2] = (uint8_t) (value >> 8);
    bytes[3] = (uint8_t) value;
}

dnsd_zone_t *
dnsd_zone_new (const uint8_t *apex, size_t apex_length, const dnsd_zone_config_t *config)
{
    assert (apex_length >= 1 && apex_length <= DNSD_NAME_MAX);
    assert (config->ns_count >= 1);
    dnsd_zone_t *self = (dnsd_zone_t *) zmalloc (sizeof (dnsd_zone_t));
    memcpy (self->apex, apex, apex_length);
    self->apex_length = apex_length;
    self->config = config;
    self->ttl = (uint32_t) config->ttl;
    self->negative_ttl = (uint32_t) (config->minimum < config->ttl ? config->minimum : config->ttl);
    return self;
}

void
dnsd_zone_destroy (dnsd_zone_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

size_t
dnsd_zone_soa (const dnsd_zone_t *self, uint32_t serial, uint8_t *rdata)
{
    const dnsd_zone_config_t *config = self->config;
    uint8_t *out = rdata;
    memcpy (out, config->ns[0], config->ns_length[0]);
    out += config->ns_length[0];
    if (config->hostmaster_length) {
        memcpy (out, config->hostmaster, config->hostmaster_length);
        out += config->hostmaster_length;
    }
    else if (self->apex_length + 11 <= DNSD_NAME_MAX) {
        memcpy (out, "\12hostmaster", 11);
        memcpy (out + 11, self->apex, self->apex_length);
        out += 11 + self->apex_length;
    }
    else {
        memcpy (out, self->apex, self->apex_length);  // no room for a label: the apex
        out += self->apex_length;
    }
    s_put32 (out, serial);
    s_put32 (out + 4, (uint32_t) config->refresh);
    s_put32 (out + 8, (uint32_t) config->retry);
    s_put32 (out + 12, (uint32_t) config->expire);
    s_put32 (out + 16, (uint32_t) config->minimum);
    return (size_t) (out + 20 - rdata);
}
