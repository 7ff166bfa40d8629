/*  synjitsu_neigh: RTM_NEWNEIGH over rtnetlink (rtnetlink(7)), waiting for the kernel's ack.  */

#include <czmq.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "synjitsu_neigh.h"

#define S_ACK_TIMEOUT_MS 200

struct _synjitsu_neigh_t {
    int fd;                   // owned: NETLINK_ROUTE socket
    int ifindex;
    uint32_t seq;
};

synjitsu_neigh_t *
synjitsu_neigh_new (int ifindex)
{
    synjitsu_neigh_t *self = (synjitsu_neigh_t *) zmalloc (sizeof (synjitsu_neigh_t));
    self->ifindex = ifindex;
    self->fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (self->fd < 0) {
        zsys_error ("synjitsu_neigh: socket AF_NETLINK failed error=%s", strerror (errno));
        goto failed;
    }
    struct timeval timeout = {0, S_ACK_TIMEOUT_MS * 1000};
    setsockopt (self->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    struct sockaddr_nl local = {.nl_family = AF_NETLINK};
    if (bind (self->fd, (struct sockaddr *) &local, sizeof local)) {
        zsys_error ("synjitsu_neigh: bind AF_NETLINK failed error=%s", strerror (errno));
        goto failed;
    }
    return self;
failed:
    synjitsu_neigh_destroy (&self);
    return NULL;
}

void
synjitsu_neigh_destroy (synjitsu_neigh_t **self_p)
{
    assert (self_p);
    synjitsu_neigh_t *self = *self_p;
    if (!self)
        return;
    if (self->fd >= 0)
        close (self->fd);
    free (self);
    *self_p = NULL;
}

//  Append the attribute TYPE with SIZE bytes of DATA to the message at HEADER.
static void
s_attribute (struct nlmsghdr *header, unsigned short type, const void *data, size_t size)
{
    struct rtattr *attribute =
        (struct rtattr *) ((char *) header + NLMSG_ALIGN (header->nlmsg_len));
    attribute->rta_type = type;
    attribute->rta_len = (unsigned short) RTA_LENGTH (size);
    memcpy (RTA_DATA (attribute), data, size);
    header->nlmsg_len = NLMSG_ALIGN (header->nlmsg_len) + RTA_ALIGN (attribute->rta_len);
}

int
synjitsu_neigh_set (synjitsu_neigh_t *self, struct in_addr ip, const uint8_t *mac)
{
    assert (self);
    union {
        struct nlmsghdr header;
        char bytes[NLMSG_SPACE (sizeof (struct ndmsg)) + 2 * RTA_SPACE (8)];
    } request;
    memset (&request, 0, sizeof request);
    request.header.nlmsg_len = NLMSG_LENGTH (sizeof (struct ndmsg));
    request.header.nlmsg_type = RTM_NEWNEIGH;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
    request.header.nlmsg_seq = ++self->seq;
    struct ndmsg *neighbour = (struct ndmsg *) NLMSG_DATA (&request.header);
    neighbour->ndm_family = AF_INET;
    neighbour->ndm_ifindex = self->ifindex;
    neighbour->ndm_state = NUD_REACHABLE;
    s_attribute (&request.header, NDA_DST, &ip.s_addr, 4);
    s_attribute (&request.header, NDA_LLADDR, mac, 6);
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto (self->fd, &request, request.header.nlmsg_len, 0, (struct sockaddr *) &kernel,
                sizeof kernel) < 0)
        return -1;
    //  The ack: an NLMSG_ERROR carrying 0 or a negative errno, for our sequence number.
    //  (Walked by hand rather than with NLMSG_OK, which compares signed with unsigned.)
    union {
        struct nlmsghdr header;
        char bytes[1024];
    } reply;
    for (;;) {
        ssize_t received = recv (self->fd, reply.bytes, sizeof reply.bytes, 0);
        if (received < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t size = (size_t) received, offset = 0;
        while (size - offset >= sizeof (struct nlmsghdr)) {
            const struct nlmsghdr *header = (const struct nlmsghdr *) (reply.bytes + offset);
            if (header->nlmsg_len < sizeof (struct nlmsghdr) || header->nlmsg_len > size - offset)
                break;
            if (header->nlmsg_seq == self->seq && header->nlmsg_type == NLMSG_ERROR) {
                if (header->nlmsg_len < NLMSG_LENGTH (sizeof (struct nlmsgerr))) {
                    errno = EPROTO;
                    return -1;
                }
                const struct nlmsgerr *error = (const struct nlmsgerr *) NLMSG_DATA (header);
                if (error->error == 0)
                    return 0;
                errno = -error->error;
                return -1;
            }
            offset += NLMSG_ALIGN (header->nlmsg_len);
        }
    }
}
