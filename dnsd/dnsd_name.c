/*  dnsd_name: wire names, converted by ldns, compared and hashed by dnsd.  */

#include <ctype.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsd_name.h"

int
dnsd_name_from_text (const char *text, uint8_t *wire)
{
    if (!text || !*text)
        return -1;
    ldns_rdf *name = NULL;
    if (ldns_str2rdf_dname (&name, text) != LDNS_STATUS_OK || !name)
        return -1;
    ldns_dname2canonical (name);
    size_t length = ldns_rdf_size (name);
    int rc = -1;
    if (length >= 1 && length <= DNSD_NAME_MAX) {
        memcpy (wire, ldns_rdf_data (name), length);
        rc = (int) length;
    }
    ldns_rdf_deep_free (name);
    return rc;
}

int
dnsd_name_to_text (const uint8_t *wire, char *text, size_t size)
{
    size_t used = 0;
    if (wire[0] == 0) {
        if (size < 2)
            return -1;
        strcpy (text, ".");
        return 0;
    }
    for (size_t offset = 0; wire[offset]; offset += 1 + wire[offset]) {
        if (offset > 0) {
            if (used + 1 >= size)
                return -1;
            text[used++] = '.';
        }
        for (size_t index = 1; index <= wire[offset]; index++) {
            uint8_t byte = wire[offset + index];
            if (isalnum (byte) || byte == '-' || byte == '_') {
                if (used + 1 >= size)
                    return -1;
                text[used++] = (char) byte;
            }
            else {
                if (used + 4 >= size)
                    return -1;
                snprintf (text + used, 5, "\\%03u", byte);
                used += 4;
            }
        }
    }
    text[used] = '\0';
    return 0;
}

size_t
dnsd_name_length (const uint8_t *wire)
{
    size_t offset = 0;
    while (wire[offset])
        offset += 1 + wire[offset];
    return offset + 1;
}

int
dnsd_name_labels (const uint8_t *wire)
{
    int labels = 0;
    for (size_t offset = 0; wire[offset]; offset += 1 + wire[offset])
        labels++;
    return labels;
}

uint32_t
dnsd_name_hash (const uint8_t *wire, size_t length)
{
    uint32_t hash = 2166136261u;
    for (size_t index = 0; index < length; index++)
        hash = (hash ^ wire[index]) * 16777619u;
    return hash;
}

bool
dnsd_name_is_under (const uint8_t *name, size_t name_length, const uint8_t *zone,
                    size_t zone_length)
{
    //  Walk NAME's label boundaries: ZONE must be exactly one of its suffixes.
    size_t offset = 0;
    while (name_length - offset >= zone_length) {
        if (name_length - offset == zone_length)
            return memcmp (name + offset, zone, zone_length) == 0;
        if (name[offset] == 0)
            return false;
        offset += 1 + name[offset];
    }
    return false;
}

int
dnsd_name_reverse (int family, const uint8_t *address, uint8_t *wire)
{
    static const char digits[] = "0123456789abcdef";
    size_t length = 0;
    if (family == AF_INET) {
        for (int index = 3; index >= 0; index--) {
            char label[4];
            int size = snprintf (label, sizeof label, "%u", address[index]);
            wire[length++] = (uint8_t) size;
            memcpy (wire + length, label, (size_t) size);
            length += (size_t) size;
        }
        memcpy (wire + length, "\7in-addr\4arpa", 14);
        return (int) (length + 14);
    }
    for (int index = 15; index >= 0; index--) {
        wire[length++] = 1;
        wire[length++] = (uint8_t) digits[address[index] & 0x0f];
        wire[length++] = 1;
        wire[length++] = (uint8_t) digits[address[index] >> 4];
    }
    memcpy (wire + length, "\3ip6\4arpa", 10);
    return (int) (length + 10);
}
