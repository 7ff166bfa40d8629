/*  dnsd_tcp: DNS over TCP (RFC 1035 section 4.2.2, RFC 7766) for clients.

    Listening sockets and the connections accepted on them, each a non-blocking fd in the
    zloop. Every message is two length bytes and the message; pipelined queries are handed
    over one by one as they complete and may be answered in any order (RFC 7766 section 6.2.1).
    A connection is named by a handle, so a late answer (a held query, a forwarded one) for a
    connection that closed meanwhile is simply dropped. Connections are capped. A connection
    is read from only while it owes fewer than DNSD_TCP_PENDING_MAX answers and has fewer than
    DNSD_TCP_QUEUED_MAX bytes queued that the kernel did not take: a client that pipelines and
    never reads costs dnsd a bounded buffer, and stays with its queries in its own socket. One
    whose queued output has not moved for idle_ms is closed (the client stopped reading), and
    so is an idle one (nothing read or written for idle_ms, nothing owed or queued). After the
    client's half-close, what it is owed is sent, then the connection closes.  */

#ifndef DNSD_TCP_H_INCLUDED
#define DNSD_TCP_H_INCLUDED

#include <czmq.h>

#include "dnsd_peer.h"

#define DNSD_TCP_LISTEN_MAX  8
#define DNSD_TCP_PENDING_MAX 64     // answers owed to one connection before reading stops
#define DNSD_TCP_QUEUED_MAX  16384  // bytes queued on one connection before reading stops

typedef struct _dnsd_tcp_t dnsd_tcp_t;

//  A complete message from a connection: PEER says where its answer goes (borrowed), MESSAGE
//  is borrowed for the call. The receiver owes exactly one dnsd_tcp_send or dnsd_tcp_close.
typedef void (dnsd_tcp_fn) (void *arg, const dnsd_peer_t *peer, const uint8_t *message,
                            size_t size);

//  Counters (svc.alive).
typedef struct {
    uint64_t accepted;
    uint64_t refused;  // over the connection cap: closed at once
    uint64_t idle_closed;
    uint64_t stalled_closed;  // closed with output queued that did not move for idle_ms
    uint64_t read_paused;     // times a connection stopped being read: too much owed or queued
    uint64_t queued_max;      // the most bytes one connection had queued
    uint64_t messages;        // messages read
    uint64_t answers;         // answers written
    uint64_t lost;            // answers for connections already gone
} dnsd_tcp_stats_t;

//  A TCP server of at most CLIENTS_MAX connections, closing idle ones after IDLE_MS, handing
//  messages to FN with ARG.
dnsd_tcp_t *dnsd_tcp_new (int clients_max, int idle_ms, dnsd_tcp_fn *fn, void *arg);

//  Close every socket. NULL-safe.
void dnsd_tcp_destroy (dnsd_tcp_t **self_p);

//  Listen on ADDRESS and PORT (SO_REUSEPORT set first when REUSEPORT). Returns the port
//  bound, or -1 with errno.
int dnsd_tcp_listen (dnsd_tcp_t *self, const char *address, int port, bool reuseport);

//  Let other sockets join the listening ports from now on (SO_REUSEPORT after the bind).
int dnsd_tcp_share (dnsd_tcp_t *self);

//  Close the listening sockets again (a port clash found after them). Connections stay.
void dnsd_tcp_unlisten (dnsd_tcp_t *self);

//  Start accepting on LOOP.
int dnsd_tcp_attach (dnsd_tcp_t *self, zloop_t *loop);

//  Send the SIZE bytes of ANSWER on connection PEER->connection (what the socket does not take
//  at once is queued). Returns 0, or -1 when the connection is gone (counted as lost).
int dnsd_tcp_send (dnsd_tcp_t *self, const dnsd_peer_t *peer, const uint8_t *answer, size_t size);

//  Close the connection (a message not worth an answer); the rest it owes is dropped.
void dnsd_tcp_close (dnsd_tcp_t *self, const dnsd_peer_t *peer);

//  Connections open now.
size_t dnsd_tcp_connections (dnsd_tcp_t *self);

//  Bytes queued and not yet written, all connections together.
size_t dnsd_tcp_queued (dnsd_tcp_t *self);

//  Counters so far (borrowed).
const dnsd_tcp_stats_t *dnsd_tcp_stats (dnsd_tcp_t *self);

#endif
