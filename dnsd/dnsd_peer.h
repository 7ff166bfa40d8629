/*  dnsd_peer: where an answer goes: a UDP client (the socket the query came in on, and for a
    wildcard socket the local address it was sent to) or a TCP connection.  */

#ifndef DNSD_PEER_H_INCLUDED
#define DNSD_PEER_H_INCLUDED

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

//  A reply's destination (a value, copied freely).
typedef struct {
    bool tcp;
    int fd;                           // UDP: the socket the query arrived on
    uint64_t connection;              // TCP: dnsd_tcp's handle for the connection
    struct sockaddr_storage address;  // the client
    socklen_t length;
    int local_family;  // 0, or AF_INET / AF_INET6 with local set
    union {
        struct in_pktinfo v4;  // the address a query to a wildcard socket was for
        struct in6_pktinfo v6;
    } local;
} dnsd_peer_t;

#endif
