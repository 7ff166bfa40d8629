/*  dnsd_udp: one UDP socket dnsd serves on, read and written in batches.

    recvmmsg takes up to DNSD_UDP_BATCH queries per system call and sendmmsg sends their
    answers back in one more; each query's answer is written straight into its slot of the
    batch, so the hot path copies nothing and allocates nothing. A socket bound to a wildcard
    address reads each query's destination address (IP_PKTINFO, IPV6_RECVPKTINFO) and answers
    from it, as a multi-homed server must.  */

#ifndef DNSD_UDP_H_INCLUDED
#define DNSD_UDP_H_INCLUDED

#include "dnsd_peer.h"
#include "dnsd_query.h"

#define DNSD_UDP_BATCH     64
#define DNSD_UDP_QUERY_MAX 4096  // a longer datagram is truncated by the kernel: dropped
#define DNSD_UDP_RCVBUF    (4 * 1024 * 1024)

typedef struct _dnsd_udp_t dnsd_udp_t;

//  Counters (svc.alive).
typedef struct {
    uint64_t received;       // datagrams read
    uint64_t batches;        // recvmmsg calls that read some: received / batches = batch size
    uint64_t oversized;      // longer than DNSD_UDP_QUERY_MAX: dropped
    uint64_t sent;           // answers sent
    uint64_t send_failures;  // answers the kernel refused (buffer full, unreachable)
} dnsd_udp_stats_t;

//  A socket bound to ADDRESS (IPv4 or IPv6 text) and PORT. With REUSEPORT, SO_REUSEPORT is
//  set before bind, so dnsd instances share the port; without it the bind is exclusive (see
//  dnsd_udp_share). Returns NULL (with errno) when the socket cannot be made or bound.
dnsd_udp_t *dnsd_udp_new (const char *address, int port, bool reuseport);

//  Close it. NULL-safe.
void dnsd_udp_destroy (dnsd_udp_t **self_p);

//  Let other sockets join the port from now on (SO_REUSEPORT after an exclusive bind: the
//  kernel forms the group when the next socket binds). Returns 0, or -1.
int dnsd_udp_share (dnsd_udp_t *self);

//  The socket and the port it is bound to.
int dnsd_udp_fd (dnsd_udp_t *self);
int dnsd_udp_port (dnsd_udp_t *self);

//  Read up to DNSD_UDP_BATCH queries without blocking. Returns how many (0: none waiting).
int dnsd_udp_receive (dnsd_udp_t *self);

//  Query INDEX of the last batch (borrowed until the next receive) and its size; NULL for one
//  longer than DNSD_UDP_QUERY_MAX (cut by the kernel: counted as oversized, never answered).
const uint8_t *dnsd_udp_query (dnsd_udp_t *self, int index, size_t *size);

//  Query INDEX's client (borrowed).
const struct sockaddr *dnsd_udp_client (dnsd_udp_t *self, int index);

//  Fill PEER so a later answer to query INDEX goes where an immediate one would.
void dnsd_udp_peer (dnsd_udp_t *self, int index, dnsd_peer_t *peer);

//  The buffer query INDEX's answer is written into (DNSD_EDNS_PAYLOAD bytes).
uint8_t *dnsd_udp_answer_buffer (dnsd_udp_t *self, int index);

//  Queue the SIZE bytes written into query INDEX's answer buffer.
void dnsd_udp_answer (dnsd_udp_t *self, int index, size_t size);

//  Send every queued answer (sendmmsg). Returns how many went out.
int dnsd_udp_flush (dnsd_udp_t *self);

//  Send one answer to PEER now (held and forwarded answers). Returns 0, or -1.
int dnsd_udp_send (dnsd_udp_t *self, const dnsd_peer_t *peer, const uint8_t *data, size_t size);

//  Counters so far (borrowed).
const dnsd_udp_stats_t *dnsd_udp_stats (dnsd_udp_t *self);

#endif
