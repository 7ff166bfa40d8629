/*  proto_addr: inet_pton for both families, with the port.  */

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <string.h>

#include "proto_addr.h"

int
proto_addr_parse (const char *address, int port, struct sockaddr_storage *storage,
                  socklen_t *length)
{
    assert (storage && length);
    memset (storage, 0, sizeof *storage);
    *length = 0;
    if (!address || port < 0 || port > 65535)
        return -2;
    struct sockaddr_in *v4 = (struct sockaddr_in *) storage;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) storage;
    if (inet_pton (AF_INET, address, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons ((uint16_t) port);
        *length = sizeof *v4;
        return 0;
    }
    if (inet_pton (AF_INET6, address, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons ((uint16_t) port);
        *length = sizeof *v6;
        return 0;
    }
    memset (storage, 0, sizeof *storage);  // inet_pton may have written part of an address
    return -2;
}

int
proto_addr_port (const struct sockaddr_storage *address)
{
    assert (address);
    if (address->ss_family == AF_INET)
        return ntohs (((const struct sockaddr_in *) address)->sin_port);
    if (address->ss_family == AF_INET6)
        return ntohs (((const struct sockaddr_in6 *) address)->sin6_port);
    return 0;
}
