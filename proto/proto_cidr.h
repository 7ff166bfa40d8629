/*  proto_cidr: networks written as CIDRs ("10.0.0.0/8", "2001:db8::/32") and whether a
    client address falls in one.

    A service's wake list and dnsd's recursion_from are lists of networks a client may be in.
    An IPv4 client seen through a dual-stack socket (an IPv4-mapped IPv6 address) counts as
    IPv4 everywhere, and a CIDR written in the mapped form ("::ffff:10.0.0.0/104") is read as
    the IPv4 network it names, so one rule covers both kinds of socket.  */

#ifndef PROTO_CIDR_H_INCLUDED
#define PROTO_CIDR_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PROTO_CIDR_TEXT_MAX 50  // INET6_ADDRSTRLEN (45 and a NUL) and "/128"

//  A network a client may be in, parsed from "10.0.0.0/8" or "2001:db8::/32". The address
//  is kept as written (host bits too), so a CIDR encodes back to what was configured.
typedef struct {
    int family;           // AF_INET or AF_INET6
    uint8_t address[16];  // 4 bytes used for AF_INET
    int prefix_length;    // 0 to 32, or 0 to 128
} proto_cidr_t;

//  Parse TEXT ("ADDRESS" or "ADDRESS/BITS"; without BITS, the one address) into SELF.
//  Returns 0, or -2 when TEXT is not a CIDR (SELF is then zeroed).
int proto_cidr_parse (proto_cidr_t *self, const char *text);

//  SELF as "ADDRESS/BITS" into TEXT of SIZE bytes (PROTO_CIDR_TEXT_MAX is enough). Returns TEXT.
char *proto_cidr_format (const proto_cidr_t *self, char *text, size_t size);

//  The client ADDRESS (borrowed) as bytes: writes 4 (IPv4, IPv4-mapped IPv6 included) or 16
//  bytes into BYTES and returns AF_INET or AF_INET6; 0 for any other family.
int proto_cidr_address (const struct sockaddr *address, uint8_t bytes[16]);

//  Whether ADDRESS (borrowed; NULL is in no network) is in one of the COUNT networks of LIST.
bool proto_cidr_list_match (const proto_cidr_t *list, size_t count, const struct sockaddr *address);

#endif
