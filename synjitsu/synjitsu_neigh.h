/*  synjitsu_neigh: neighbour entries on the bridge, for the clients that are the host itself.

    An ARP reply injected on the bridge device goes out to the bridge's ports, never up to the
    host's own IP stack; a host that routes clients into the bridge (NAT, a routed uplink)
    would keep asking. For those requests synjitsu writes the answer straight into the host's
    neighbour table over rtnetlink instead, which needs CAP_NET_ADMIN.  */

#ifndef SYNJITSU_NEIGH_H_INCLUDED
#define SYNJITSU_NEIGH_H_INCLUDED

#include <netinet/in.h>
#include <stdint.h>

typedef struct _synjitsu_neigh_t synjitsu_neigh_t;

//  Open a NETLINK_ROUTE socket for the interface with index IFINDEX. Returns NULL (logged)
//  when the socket cannot be opened.
synjitsu_neigh_t *synjitsu_neigh_new (int ifindex);

//  Close the socket. NULL-safe.
void synjitsu_neigh_destroy (synjitsu_neigh_t **self_p);

//  Tell the kernel that IP is at MAC on the interface (RTM_NEWNEIGH, NUD_REACHABLE), as the
//  ARP reply would have, so the packets it queued while resolving go out. Returns 0, or -1
//  with errno set (EPERM without CAP_NET_ADMIN).
int synjitsu_neigh_set (synjitsu_neigh_t *self, struct in_addr ip, const uint8_t *mac);

#endif
