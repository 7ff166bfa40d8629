/*  dnsd_udp: recvmmsg / sendmmsg batches on one socket.  */

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <netinet/in.h>

#include "dnsd_udp.h"
#include "proto_addr.h"

//  Room for one IPv6 (the larger) packet-info control message.
#define S_CONTROL_SIZE CMSG_SPACE (sizeof (struct in6_pktinfo))

struct _dnsd_udp_t {
    int fd;
    int family;
    int port;
    bool wildcard;  // reads destination addresses
    int received;   // queries in the last batch
    struct mmsghdr in[DNSD_UDP_BATCH];
    struct iovec in_iov[DNSD_UDP_BATCH];
    struct sockaddr_storage clients[DNSD_UDP_BATCH];
    uint8_t in_control[DNSD_UDP_BATCH][S_CONTROL_SIZE];
    uint8_t queries[DNSD_UDP_BATCH][DNSD_UDP_QUERY_MAX];
    int queued;  // answers waiting for flush
    struct mmsghdr out[DNSD_UDP_BATCH];
    struct iovec out_iov[DNSD_UDP_BATCH];
    uint8_t out_control[DNSD_UDP_BATCH][S_CONTROL_SIZE];
    uint8_t answers[DNSD_UDP_BATCH][DNSD_EDNS_PAYLOAD];
    dnsd_udp_stats_t stats;
};

dnsd_udp_t *
dnsd_udp_new (const char *address, int port, bool reuseport)
{
    struct sockaddr_storage storage;
    socklen_t length;
    if (proto_addr_parse (address, port, &storage, &length)) {
        errno = EINVAL;
        return NULL;
    }
    dnsd_udp_t *self = (dnsd_udp_t *) zmalloc (sizeof (dnsd_udp_t));
    self->family = storage.ss_family;
    self->fd = socket (self->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (self->fd < 0)
        goto failed;
    int on = 1, size = DNSD_UDP_RCVBUF;
    //  A larger receive buffer absorbs bursts while the loop serves the bus; best effort
    //  (capped by net.core.rmem_max).
    setsockopt (self->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt (self->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (reuseport && setsockopt (self->fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on))
        goto failed;
    if (self->family == AF_INET6) {
        //  An IPv6 socket serves IPv6 only: "0.0.0.0" and "::" can then both be listed.
        if (setsockopt (self->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on))
            goto failed;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) &storage;
        self->wildcard = IN6_IS_ADDR_UNSPECIFIED (&v6->sin6_addr);
        if (self->wildcard && setsockopt (self->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on))
            goto failed;
    }
    else {
        struct sockaddr_in *v4 = (struct sockaddr_in *) &storage;
        self->wildcard = v4->sin_addr.s_addr == htonl (INADDR_ANY);
        if (self->wildcard && setsockopt (self->fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on))
            goto failed;
    }
    if (bind (self->fd, (struct sockaddr *) &storage, length))
        goto failed;
    struct sockaddr_storage bound;
    socklen_t bound_length = sizeof bound;
    if (getsockname (self->fd, (struct sockaddr *) &bound, &bound_length))
        goto failed;
    self->port = proto_addr_port (&bound);
    for (int index = 0; index < DNSD_UDP_BATCH; index++) {
        self->in_iov[index].iov_base = self->queries[index];
        self->in_iov[index].iov_len = DNSD_UDP_QUERY_MAX;
        self->out_iov[index].iov_base = self->answers[index];
    }
    return self;
failed:;
    int saved = errno;
    dnsd_udp_destroy (&self);
    errno = saved;
    return NULL;
}

void
dnsd_udp_destroy (dnsd_udp_t **self_p)
{
    assert (self_p);
    dnsd_udp_t *self = *self_p;
    if (!self)
        return;
    if (self->fd >= 0)
        close (self->fd);
    free (self);
    *self_p = NULL;
}

int
dnsd_udp_share (dnsd_udp_t *self)
{
    assert (self);
    int on = 1;
    return setsockopt (self->fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) ? -1 : 0;
}

int
dnsd_udp_fd (dnsd_udp_t *self)
{
    assert (self);
    return self->fd;
}

int
dnsd_udp_port (dnsd_udp_t *self)
{
    assert (self);
    return self->port;
}

int
dnsd_udp_receive (dnsd_udp_t *self)
{
    assert (self);
    //  recvmmsg overwrites msg_namelen, msg_controllen and msg_flags: reset them each time.
    for (int index = 0; index < DNSD_UDP_BATCH; index++) {
        struct msghdr *header = &self->in[index].msg_hdr;
        header->msg_name = &self->clients[index];
        header->msg_namelen = sizeof self->clients[index];
        header->msg_iov = &self->in_iov[index];
        header->msg_iovlen = 1;
        header->msg_control = self->wildcard ? self->in_control[index] : NULL;
        header->msg_controllen = self->wildcard ? S_CONTROL_SIZE : 0;
        header->msg_flags = 0;
    }
    int count;
    do
        count = recvmmsg (self->fd, self->in, DNSD_UDP_BATCH, MSG_DONTWAIT, NULL);
    while (count < 0 && errno == EINTR);
    self->received = count > 0 ? count : 0;
    self->queued = 0;
    for (int index = 0; index < self->received; index++)
        self->stats.oversized += (self->in[index].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    self->stats.received += (uint64_t) self->received;
    self->stats.batches += self->received > 0;
    return self->received;
}

const uint8_t *
dnsd_udp_query (dnsd_udp_t *self, int index, size_t *size)
{
    assert (index >= 0 && index < self->received);
    *size = self->in[index].msg_len;
    return self->in[index].msg_hdr.msg_flags & MSG_TRUNC ? NULL : self->queries[index];
}

const struct sockaddr *
dnsd_udp_client (dnsd_udp_t *self, int index)
{
    return (const struct sockaddr *) &self->clients[index];
}

//  The destination address of query INDEX on a wildcard socket, into PEER.
static void
s_local (dnsd_udp_t *self, int index, dnsd_peer_t *peer)
{
    peer->local_family = 0;
    struct msghdr *header = &self->in[index].msg_hdr;
    if (!self->wildcard || (header->msg_flags & MSG_CTRUNC))
        return;
    for (struct cmsghdr *control = CMSG_FIRSTHDR (header); control;
         control = CMSG_NXTHDR (header, control)) {
        if (control->cmsg_level == IPPROTO_IP && control->cmsg_type == IP_PKTINFO) {
            memcpy (&peer->local.v4, CMSG_DATA (control), sizeof peer->local.v4);
            peer->local.v4.ipi_ifindex = 0;  // route by the address alone
            peer->local_family = AF_INET;
        }
        else if (control->cmsg_level == IPPROTO_IPV6 && control->cmsg_type == IPV6_PKTINFO) {
            memcpy (&peer->local.v6, CMSG_DATA (control), sizeof peer->local.v6);
            peer->local_family = AF_INET6;
        }
    }
}

void
dnsd_udp_peer (dnsd_udp_t *self, int index, dnsd_peer_t *peer)
{
    memset (peer, 0, sizeof *peer);
    peer->tcp = false;
    peer->fd = self->fd;
    peer->length = self->in[index].msg_hdr.msg_namelen;
    memcpy (&peer->address, &self->clients[index], peer->length);
    s_local (self, index, peer);
}

uint8_t *
dnsd_udp_answer_buffer (dnsd_udp_t *self, int index)
{
    return self->answers[index];
}

//  Point HEADER at PEER's address and, for a wildcard socket, its source address in CONTROL.
static void
s_prepare (struct msghdr *header, const dnsd_peer_t *peer, uint8_t *control)
{
    header->msg_name = (void *) &peer->address;
    header->msg_namelen = peer->length;
    header->msg_control = NULL;
    header->msg_controllen = 0;
    header->msg_flags = 0;
    if (peer->local_family == AF_INET) {
        header->msg_control = control;
        header->msg_controllen = CMSG_SPACE (sizeof (struct in_pktinfo));
        struct cmsghdr *message = CMSG_FIRSTHDR (header);
        message->cmsg_level = IPPROTO_IP;
        message->cmsg_type = IP_PKTINFO;
        message->cmsg_len = CMSG_LEN (sizeof (struct in_pktinfo));
        struct in_pktinfo info = peer->local.v4;
        info.ipi_spec_dst = info.ipi_addr;  // answer from the address the query was sent to
        memcpy (CMSG_DATA (message), &info, sizeof info);
    }
    else if (peer->local_family == AF_INET6) {
        header->msg_control = control;
        header->msg_controllen = CMSG_SPACE (sizeof (struct in6_pktinfo));
        struct cmsghdr *message = CMSG_FIRSTHDR (header);
        message->cmsg_level = IPPROTO_IPV6;
        message->cmsg_type = IPV6_PKTINFO;
        message->cmsg_len = CMSG_LEN (sizeof (struct in6_pktinfo));
        memcpy (CMSG_DATA (message), &peer->local.v6, sizeof peer->local.v6);
    }
}

void
dnsd_udp_answer (dnsd_udp_t *self, int index, size_t size)
{
    int slot = self->queued++;
    struct msghdr *header = &self->out[slot].msg_hdr;
    if (self->wildcard) {
        //  Rare: keep the simple path for the common case of a specific address.
        dnsd_peer_t peer;
        dnsd_udp_peer (self, index, &peer);
        header->msg_name = &self->clients[index];
        header->msg_namelen = self->in[index].msg_hdr.msg_namelen;
        s_prepare (header, &peer, self->out_control[slot]);
        header->msg_name = &self->clients[index];
    }
    else {
        header->msg_name = &self->clients[index];
        header->msg_namelen = self->in[index].msg_hdr.msg_namelen;
        header->msg_control = NULL;
        header->msg_controllen = 0;
    }
    self->out_iov[slot].iov_base = self->answers[index];
    self->out_iov[slot].iov_len = size;
    header->msg_iov = &self->out_iov[slot];
    header->msg_iovlen = 1;
}

int
dnsd_udp_flush (dnsd_udp_t *self)
{
    assert (self);
    int done = 0;
    while (done < self->queued) {
        int sent = sendmmsg (self->fd, self->out + done, (unsigned) (self->queued - done), 0);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            //  The first message failed (an unreachable client, a full buffer): skip it.
            self->stats.send_failures++;
            done++;
            continue;
        }
        done += sent;
        self->stats.sent += (uint64_t) sent;
    }
    self->queued = 0;
    return done;
}

int
dnsd_udp_send (dnsd_udp_t *self, const dnsd_peer_t *peer, const uint8_t *data, size_t size)
{
    assert (self);
    struct msghdr header;
    memset (&header, 0, sizeof header);
    uint8_t control[S_CONTROL_SIZE];
    s_prepare (&header, peer, control);
    struct iovec iov = {(void *) data, size};
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    ssize_t sent;
    do
        sent = sendmsg (self->fd, &header, MSG_DONTWAIT);
    while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        self->stats.send_failures++;
        return -1;
    }
    self->stats.sent++;
    return 0;
}

const dnsd_udp_stats_t *
dnsd_udp_stats (dnsd_udp_t *self)
{
    assert (self);
    return &self->stats;
}
