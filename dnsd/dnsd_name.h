/*  dnsd_name: DNS names in wire form (RFC 1035 section 3.1), lowercase, uncompressed.

    Everything dnsd stores or looks up is a lowercase wire name: a sequence of length-prefixed
    labels ending with the zero-length root label, at most 255 bytes. Text is turned into wire
    form by ldns, so escapes and limits follow the RFC exactly.  */

#ifndef DNSD_NAME_H_INCLUDED
#define DNSD_NAME_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSD_NAME_MAX      255   // bytes of a wire name, root label included
#define DNSD_LABEL_MAX     63    // bytes of one label
#define DNSD_NAME_TEXT_MAX 1024  // presentation form, room for \DDD escapes

//  Convert TEXT (presentation form; the trailing dot is optional) into a lowercase wire name
//  in WIRE (DNSD_NAME_MAX bytes). Returns its length, or -1 when TEXT is not a DNS name.
int dnsd_name_from_text (const char *text, uint8_t *wire);

//  Write the presentation form of the wire name WIRE into TEXT of SIZE bytes, without the
//  trailing dot ("." for the root); bytes outside [A-Za-z0-9_-] are escaped as \DDD. Returns
//  0, or -1 when it does not fit.
int dnsd_name_to_text (const uint8_t *wire, char *text, size_t size);

//  Length in bytes of the well-formed wire name WIRE, root label included.
size_t dnsd_name_length (const uint8_t *wire);

//  Number of labels of WIRE, the root not counted ("." has 0, "example.org." 2).
int dnsd_name_labels (const uint8_t *wire);

//  The hash dnsd's tables use for the LENGTH bytes of the lowercase wire name WIRE (FNV-1a).
uint32_t dnsd_name_hash (const uint8_t *wire, size_t length);

//  Whether NAME is ZONE or below it (both lowercase wire names).
bool dnsd_name_is_under (const uint8_t *name, size_t name_length, const uint8_t *zone,
                         size_t zone_length);

//  The reverse-lookup name of an address (RFC 1035 section 3.5 for IPv4: in-addr.arpa;
//  RFC 3596 section 2.5 for IPv6: nibbles under ip6.arpa) into WIRE. FAMILY is AF_INET (4
//  bytes of ADDRESS) or AF_INET6 (16). Returns its length.
int dnsd_name_reverse (int family, const uint8_t *address, uint8_t *wire);

#endif
