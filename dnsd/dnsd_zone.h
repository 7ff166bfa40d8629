/*  dnsd_zone: a zone dnsd is authoritative for: its apex, SOA and NS records.

    A zone is configured (dnsd's config) or derived (the parent of a service name outside
    every configured zone); a derived zone lives as long as some service name derives it.
    Derived zones share the config's template, so each costs little more than its name.  */

#ifndef DNSD_ZONE_H_INCLUDED
#define DNSD_ZONE_H_INCLUDED

#include "dnsd_config.h"

#define DNSD_SOA_RDATA_MAX (2 * DNSD_NAME_MAX + 20)

//  A served zone (a record: the table owns it, the handler reads it).
typedef struct {
    uint8_t apex[DNSD_NAME_MAX];  // lowercase wire name
    size_t apex_length;
    bool configured;                   // from dnsd's config: never removed
    size_t derived_refs;               // service names that derive it
    const dnsd_zone_config_t *config;  // borrowed from dnsd's config: NS, SOA fields
    uint32_t ttl;                      // of SOA and NS records
    uint32_t negative_ttl;             // min (SOA TTL, MINIMUM): RFC 2308 section 5
} dnsd_zone_t;

//  A zone at APEX (wire, APEX_LENGTH bytes) with CONFIG's records (borrowed, it must outlive
//  the zone; its apex is ignored).
dnsd_zone_t *dnsd_zone_new (const uint8_t *apex, size_t apex_length,
                            const dnsd_zone_config_t *config);

//  Free the zone. NULL-safe.
void dnsd_zone_destroy (dnsd_zone_t **self_p);

//  The SOA RDATA with SERIAL into RDATA (DNSD_SOA_RDATA_MAX bytes): MNAME is the first NS,
//  RNAME the config's hostmaster or hostmaster.APEX. Returns its length.
size_t dnsd_zone_soa (const dnsd_zone_t *self, uint32_t serial, uint8_t *rdata);

#endif
