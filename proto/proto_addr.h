/*  proto_addr: IP address text to socket addresses and back to ports.

    Every socket jitsu opens or connects from a configured address (dnsd's listeners and
    upstreams, the metrics listener, vmctl's readiness probes) starts from text: an IPv4
    dotted quad or an IPv6 address without brackets, and a port kept apart.  */

#ifndef PROTO_ADDR_H_INCLUDED
#define PROTO_ADDR_H_INCLUDED

#include <sys/socket.h>

//  ADDRESS (IPv4 or IPv6 text) and PORT as a socket address: STORAGE (borrowed) is zeroed and
//  filled, LENGTH set to the size the family uses. Returns 0, or -2 when ADDRESS is neither
//  kind of address or PORT is outside 0-65535 (STORAGE is then zeroed, LENGTH 0).
int proto_addr_parse (const char *address, int port, struct sockaddr_storage *storage,
                      socklen_t *length);

//  The port (host order) of an IPv4 or IPv6 socket ADDRESS (borrowed), or 0 for other
//  families.
int proto_addr_port (const struct sockaddr_storage *address);

#endif
