/*  proto_cidr: parsing CIDRs and matching addresses against them.  */

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proto_cidr.h"
#include "proto_msg.h"

//  The 96-bit prefix of IPv4-mapped IPv6 addresses (RFC 4291 section 2.5.5.2).
static const uint8_t s_v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int
proto_cidr_parse (proto_cidr_t *self, const char *text)
{
    memset (self, 0, sizeof *self);
    char address[PROTO_ADDR_MAX + 1];
    const char *slash = strchr (text, '/');
    size_t length = slash ? (size_t) (slash - text) : strlen (text);
    if (length == 0 || length > PROTO_ADDR_MAX)
        return -2;
    memcpy (address, text, length);
    address[length] = '\0';
    int family = AF_INET;
    if (inet_pton (AF_INET, address, self->address) != 1) {
        family = AF_INET6;
        if (inet_pton (AF_INET6, address, self->address) != 1)
            goto invalid;
    }
    int bits = family == AF_INET ? 32 : 128;
    int prefix = bits;
    if (slash) {
        //  Digits only: strtol would also take " 8", "+8" and "0x8".
        const char *digits = slash + 1;
        size_t count = strlen (digits);
        if (count == 0 || count > 3)
            goto invalid;
        prefix = 0;
        for (size_t index = 0; index < count; index++) {
            if (!isdigit ((unsigned char) digits[index]))
                goto invalid;
            prefix = prefix * 10 + (digits[index] - '0');
        }
        if (prefix > bits)
            goto invalid;
    }
    if (family == AF_INET6 && prefix >= 96 && memcmp (self->address, s_v4_mapped, 12) == 0) {
        //  Clients in the mapped form are matched as IPv4: so is the network.
        memmove (self->address, self->address + 12, 4);
        memset (self->address + 4, 0, 12);
        family = AF_INET;
        prefix -= 96;
    }
    self->family = family;
    self->prefix_length = prefix;
    return 0;
invalid:
    memset (self, 0, sizeof *self);
    return -2;
}

char *
proto_cidr_format (const proto_cidr_t *self, char *text, size_t size)
{
    char address[INET6_ADDRSTRLEN];
    if (!inet_ntop (self->family, self->address, address, sizeof address))
        snprintf (address, sizeof address, "?");
    snprintf (text, size, "%s/%d", address, self->prefix_length);
    return text;
}

int
proto_cidr_address (const struct sockaddr *address, uint8_t bytes[16])
{
    if (address->sa_family == AF_INET) {
        memcpy (bytes, &((const struct sockaddr_in *) address)->sin_addr, 4);
        return AF_INET;
    }
    if (address->sa_family != AF_INET6)
        return 0;
    const struct in6_addr *v6 = &((const struct sockaddr_in6 *) address)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED (v6)) {
        memcpy (bytes, v6->s6_addr + 12, 4);
        return AF_INET;
    }
    memcpy (bytes, v6->s6_addr, 16);
    return AF_INET6;
}

static bool
s_match (const proto_cidr_t *self, int family, const uint8_t *address)
{
    if (self->family != family)
        return false;
    int bits = self->prefix_length;
    size_t bytes = (size_t) bits / 8;
    if (memcmp (self->address, address, bytes))
        return false;
    if (bits % 8 == 0)
        return true;
    uint8_t mask = (uint8_t) (0xff << (8 - bits % 8));
    return (self->address[bytes] & mask) == (address[bytes] & mask);
}

bool
proto_cidr_list_match (const proto_cidr_t *list, size_t count, const struct sockaddr *address)
{
    if (!address)
        return false;
    uint8_t bytes[16];
    int family = proto_cidr_address (address, bytes);
    for (size_t index = 0; index < count && family; index++)
        if (s_match (&list[index], family, bytes))
            return true;
    return false;
}
