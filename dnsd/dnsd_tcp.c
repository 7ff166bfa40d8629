/*  dnsd_tcp: listeners, connections, length-prefixed messages.  */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "dnsd_tcp.h"
#include "proto_addr.h"

#define S_MESSAGE_MAX  65535
#define S_ACCEPT_BATCH 64
#define S_READ_CHUNK   4096
//  An output buffer larger than a full backlog needs (grown by doubling past it, so for a
//  large answer) is freed once it is empty; smaller ones are kept for the next answers.
#define S_OUT_KEEP (2 * DNSD_TCP_QUEUED_MAX)

typedef struct _dnsd_tcp_t dnsd_tcp_t;

//  One connection slot; fd -1 when free.
typedef struct {
    dnsd_tcp_t *owner;  // borrowed
    int fd;
    uint32_t generation;  // bumped at each reuse: stale handles miss
    uint32_t index;
    struct sockaddr_storage address;
    socklen_t length;
    uint8_t *in;  // owned: bytes read, not yet a whole message
    size_t in_size, in_capacity;
    uint8_t *out;  // owned: bytes to write; out_sent of them are written
    size_t out_size, out_sent, out_capacity;
    size_t pending;    // answers owed: handed over, not yet sent or queued
    int64_t active;    // monotonic ms of the last read or write
    int64_t progress;  // monotonic ms output last moved, or began to wait
    short events;      // what the zloop polls the fd for (0: not registered)
    bool eof;          // the client finished sending: read no more
    bool paused;       // too much owed or queued: messages wait in the input buffer
    bool busy;         // in a read handler: closing is deferred
    bool doomed;       // close once the handler returns
} s_connection_t;

struct _dnsd_tcp_t {
    int listeners[DNSD_TCP_LISTEN_MAX];
    size_t listener_count;
    s_connection_t *connections;  // owned: clients_max slots
    int clients_max;
    int idle_ms;
    size_t open;
    size_t queued;  // bytes queued and not yet written, all connections together
    dnsd_tcp_fn *fn;
    void *fn_arg;
    zloop_t *loop;  // borrowed once attached
    dnsd_tcp_stats_t stats;
};

dnsd_tcp_t *
dnsd_tcp_new (int clients_max, int idle_ms, dnsd_tcp_fn *fn, void *arg)
{
    dnsd_tcp_t *self = (dnsd_tcp_t *) zmalloc (sizeof (dnsd_tcp_t));
    self->clients_max = clients_max;
    self->idle_ms = idle_ms;
    self->fn = fn;
    self->fn_arg = arg;
    self->connections = (s_connection_t *) zmalloc ((size_t) clients_max * sizeof (s_connection_t));
    for (int index = 0; index < clients_max; index++) {
        self->connections[index].fd = -1;
        self->connections[index].owner = self;
        self->connections[index].index = (uint32_t) index;
    }
    return self;
}

static void s_close (dnsd_tcp_t *self, s_connection_t *connection);

void
dnsd_tcp_destroy (dnsd_tcp_t **self_p)
{
    assert (self_p);
    dnsd_tcp_t *self = *self_p;
    if (!self)
        return;
    for (int index = 0; index < self->clients_max; index++)
        if (self->connections[index].fd >= 0)
            s_close (self, &self->connections[index]);
    free (self->connections);
    dnsd_tcp_unlisten (self);
    free (self);
    *self_p = NULL;
}

int
dnsd_tcp_listen (dnsd_tcp_t *self, const char *address, int port, bool reuseport)
{
    assert (self);
    if (self->listener_count == DNSD_TCP_LISTEN_MAX) {
        errno = ENOSPC;
        return -1;
    }
    struct sockaddr_storage storage;
    socklen_t length;
    if (proto_addr_parse (address, port, &storage, &length)) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket (storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int on = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // restart over TIME_WAIT
    if ((reuseport && setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on))
        || (storage.ss_family == AF_INET6
            && setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on))
        || bind (fd, (struct sockaddr *) &storage, length) || listen (fd, 128)) {
        int saved = errno;
        close (fd);
        errno = saved;
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t bound_length = sizeof bound;
    getsockname (fd, (struct sockaddr *) &bound, &bound_length);
    self->listeners[self->listener_count++] = fd;
    return proto_addr_port (&bound);
}

int
dnsd_tcp_share (dnsd_tcp_t *self)
{
    assert (self);
    int on = 1;
    for (size_t index = 0; index < self->listener_count; index++)
        if (setsockopt (self->listeners[index], SOL_SOCKET, SO_REUSEPORT, &on, sizeof on))
            return -1;
    return 0;
}

void
dnsd_tcp_unlisten (dnsd_tcp_t *self)
{
    assert (self);
    for (size_t index = 0; index < self->listener_count; index++) {
        if (self->loop) {
            zmq_pollitem_t item = {NULL, self->listeners[index], ZMQ_POLLIN, 0};
            zloop_poller_end (self->loop, &item);
        }
        close (self->listeners[index]);
    }
    self->listener_count = 0;
}

static int s_on_connection (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  Bytes queued on CONNECTION and not yet written.
static size_t
s_backlog (const s_connection_t *connection)
{
    return connection->out_size - connection->out_sent;
}

//  Whether CONNECTION may hand over another message: RFC 7766 section 6.2.2 lets a server
//  stop reading, and it must, or a client that never reads would make it buffer every answer
//  (pending alone counts none once it is queued). A message of any size still goes through
//  when nothing is queued, so the bound is DNSD_TCP_QUEUED_MAX plus one answer.
static bool
s_may_take (const s_connection_t *connection)
{
    return connection->pending < DNSD_TCP_PENDING_MAX
           && s_backlog (connection) < DNSD_TCP_QUEUED_MAX;
}

//  Poll CONNECTION for reading unless the client is done or it is paused, and for writing
//  with output queued, or when paused and free to go on (its turn comes with POLLOUT, from
//  the loop, never from inside a send).
static void
s_watch (dnsd_tcp_t *self, s_connection_t *connection)
{
    bool writing = s_backlog (connection) > 0 || (connection->paused && s_may_take (connection));
    short events = (short) ((connection->eof || connection->paused ? 0 : ZMQ_POLLIN)
                            | (writing ? ZMQ_POLLOUT : 0));
    if (events == connection->events)
        return;
    zmq_pollitem_t item = {NULL, connection->fd, 0, 0};
    if (connection->events)
        zloop_poller_end (self->loop, &item);
    connection->events = events;
    item.events = events;
    if (events) {
        zloop_poller (self->loop, &item, s_on_connection, connection);
        zloop_poller_set_tolerant (self->loop, &item);
    }
}

static void
s_close (dnsd_tcp_t *self, s_connection_t *connection)
{
    if (connection->busy) {
        connection->doomed = true;
        return;
    }
    if (self->loop) {
        zmq_pollitem_t item = {NULL, connection->fd, 0, 0};
        zloop_poller_end (self->loop, &item);
    }
    close (connection->fd);
    connection->fd = -1;
    connection->generation++;
    self->queued -= s_backlog (connection);
    free (connection->in);
    free (connection->out);
    connection->in = connection->out = NULL;
    connection->in_size = connection->in_capacity = 0;
    connection->out_size = connection->out_sent = connection->out_capacity = 0;
    connection->pending = 0;
    connection->events = 0;
    connection->eof = connection->paused = connection->doomed = false;
    self->open--;
}

//  Whether CONNECTION is done: the client finished sending and has every answer it is owed.
static bool
s_done (const s_connection_t *connection)
{
    return connection->eof && connection->pending == 0 && s_backlog (connection) == 0;
}

//  Write what is queued. Returns 0, or -1 when the connection broke or is done (closed).
static int
s_flush (dnsd_tcp_t *self, s_connection_t *connection)
{
    while (s_backlog (connection) > 0) {
        ssize_t sent = send (connection->fd, connection->out + connection->out_sent,
                             s_backlog (connection), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (sent <= 0) {
            s_close (self, connection);
            return -1;
        }
        connection->out_sent += (size_t) sent;
        self->queued -= (size_t) sent;
        connection->active = connection->progress = zclock_mono ();
    }
    if (s_backlog (connection) == 0) {
        connection->out_size = connection->out_sent = 0;
        if (connection->out_capacity > S_OUT_KEEP) {
            free (connection->out);  // a burst of large answers is over: give the memory back
            connection->out = NULL;
            connection->out_capacity = 0;
        }
    }
    if (s_done (connection)) {
        s_close (self, connection);
        return -1;
    }
    s_watch (self, connection);
    return 0;
}

//  Hand over the whole messages in the input buffer, until the connection may take no more.
static void
s_messages (dnsd_tcp_t *self, s_connection_t *connection)
{
    size_t offset = 0;
    while (connection->in_size - offset >= 2 && !connection->doomed) {
        size_t length = (size_t) ((connection->in[offset] << 8) | connection->in[offset + 1]);
        if (connection->in_size - offset < 2 + length)
            break;
        if (!s_may_take (connection)) {
            if (!connection->paused)
                self->stats.read_paused++;
            connection->paused = true;  // the rest waits here, and reading stops
            break;
        }
        self->stats.messages++;
        connection->pending++;
        dnsd_peer_t peer;
        memset (&peer, 0, sizeof peer);
        peer.tcp = true;
        peer.fd = -1;
        peer.connection = ((uint64_t) connection->generation << 32) | connection->index;
        memcpy (&peer.address, &connection->address, connection->length);
        peer.length = connection->length;
        self->fn (self->fn_arg, &peer, connection->in + offset + 2, length);
        offset += 2 + length;
    }
    memmove (connection->in, connection->in + offset, connection->in_size - offset);
    connection->in_size -= offset;
}

//  Hand over what waits in CONNECTION's input buffer, if it may take it now; then read again.
//  Returns -1 when it was closed.
static int
s_resume (dnsd_tcp_t *self, s_connection_t *connection)
{
    if (!connection->paused || !s_may_take (connection))
        return 0;
    connection->paused = false;
    connection->busy = true;
    s_messages (self, connection);
    connection->busy = false;
    if (connection->doomed || s_done (connection)) {
        s_close (self, connection);
        return -1;
    }
    s_watch (self, connection);
    return 0;
}

static int
s_on_connection (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    s_connection_t *connection = (s_connection_t *) arg;
    dnsd_tcp_t *self = connection->owner;
    if (connection->fd < 0 || connection->fd != item->fd)
        return 0;  // closed earlier in this round of the loop
    if ((item->revents & ZMQ_POLLOUT)
        && (s_flush (self, connection) || s_resume (self, connection)))
        return 0;
    if (!(item->revents & (ZMQ_POLLIN | ZMQ_POLLERR)) || connection->eof || connection->paused)
        return 0;
    //  Room for a whole message of the length announced, or a chunk.
    size_t need = connection->in_size + S_READ_CHUNK;
    if (connection->in_size >= 2) {
        size_t whole = 2 + (size_t) ((connection->in[0] << 8) | connection->in[1]);
        if (whole > need)
            need = whole;
    }
    if (need > connection->in_capacity) {
        connection->in = (uint8_t *) realloc (connection->in, need);
        assert (connection->in);
        connection->in_capacity = need;
    }
    ssize_t got = recv (connection->fd, connection->in + connection->in_size,
                        connection->in_capacity - connection->in_size, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (got < 0) {
        s_close (self, connection);
        return 0;
    }
    if (got == 0) {
        //  A half-close (RFC 7766 section 6.2.4 has the client wait for what it asked): every
        //  whole message was handed over (reading stops while some wait), a part of one never
        //  completes and is dropped; what is owed or queued still goes out, then it closes.
        connection->eof = true;
        connection->in_size = 0;
        if (s_done (connection))
            s_close (self, connection);
        else
            s_watch (self, connection);
        return 0;
    }
    connection->in_size += (size_t) got;
    connection->active = zclock_mono ();
    connection->busy = true;
    s_messages (self, connection);
    connection->busy = false;
    if (connection->doomed)
        s_close (self, connection);
    else
        s_watch (self, connection);
    return 0;
}

static int
s_on_listener (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    dnsd_tcp_t *self = (dnsd_tcp_t *) arg;
    for (int count = 0; count < S_ACCEPT_BATCH; count++) {
        struct sockaddr_storage address;
        socklen_t length = sizeof address;
        int fd =
            accept4 (item->fd, (struct sockaddr *) &address, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            break;
        s_connection_t *connection = NULL;
        for (int index = 0; index < self->clients_max && !connection; index++)
            if (self->connections[index].fd < 0)
                connection = &self->connections[index];
        if (!connection) {
            close (fd);
            self->stats.refused++;
            continue;
        }
        int on = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        connection->fd = fd;
        memcpy (&connection->address, &address, length);
        connection->length = length;
        connection->active = zclock_mono ();
        self->open++;
        self->stats.accepted++;
        s_watch (self, connection);
    }
    return 0;
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    dnsd_tcp_t *self = (dnsd_tcp_t *) arg;
    int64_t now = zclock_mono ();
    for (int index = 0; index < self->clients_max; index++) {
        s_connection_t *connection = &self->connections[index];
        if (connection->fd < 0)
            continue;
        //  Output that has not moved for idle_ms: the client stopped reading. Answers owed
        //  with nothing queued are dnsd's to give (held for a boot, forwarded): not idle.
        if (s_backlog (connection) > 0 && now - connection->progress >= self->idle_ms) {
            self->stats.stalled_closed++;
            s_close (self, connection);
        }
        else if (s_backlog (connection) == 0 && connection->pending == 0
                 && now - connection->active >= self->idle_ms) {
            self->stats.idle_closed++;
            s_close (self, connection);
        }
    }
    return 0;
}

int
dnsd_tcp_attach (dnsd_tcp_t *self, zloop_t *loop)
{
    assert (self);
    self->loop = loop;
    for (size_t index = 0; index < self->listener_count; index++) {
        zmq_pollitem_t item = {NULL, self->listeners[index], ZMQ_POLLIN, 0};
        if (zloop_poller (loop, &item, s_on_listener, self))
            return -1;
        zloop_poller_set_tolerant (loop, &item);
    }
    int interval = self->idle_ms / 4 > 50 ? self->idle_ms / 4 : 50;
    return zloop_timer (loop, (size_t) interval, 0, s_on_tick, self) < 0 ? -1 : 0;
}

static s_connection_t *
s_connection (dnsd_tcp_t *self, const dnsd_peer_t *peer)
{
    uint32_t index = (uint32_t) peer->connection;
    uint32_t generation = (uint32_t) (peer->connection >> 32);
    if (index >= (uint32_t) self->clients_max)
        return NULL;
    s_connection_t *connection = &self->connections[index];
    if (connection->fd < 0 || connection->generation != generation || connection->doomed)
        return NULL;
    return connection;
}

int
dnsd_tcp_send (dnsd_tcp_t *self, const dnsd_peer_t *peer, const uint8_t *answer, size_t size)
{
    assert (self);
    s_connection_t *connection = s_connection (self, peer);
    if (!connection || size > S_MESSAGE_MAX) {
        self->stats.lost++;
        return -1;
    }
    //  Keep only what is unsent, so a client reading slowly never grows the buffer.
    size_t backlog = s_backlog (connection);
    if (backlog == 0)
        connection->progress = zclock_mono ();  // output starts to wait now
    else if (connection->out_sent > 0)
        memmove (connection->out, connection->out + connection->out_sent, backlog);
    connection->out_size = backlog;
    connection->out_sent = 0;
    size_t need = connection->out_size + 2 + size;
    if (need > connection->out_capacity) {
        //  Doubling: a backlog built answer by answer costs a few reallocs, not one each.
        size_t capacity = connection->out_capacity ? 2 * connection->out_capacity : 512;
        if (capacity < need)
            capacity = need;
        connection->out = (uint8_t *) realloc (connection->out, capacity);
        assert (connection->out);
        connection->out_capacity = capacity;
    }
    connection->out[connection->out_size] = (uint8_t) (size >> 8);
    connection->out[connection->out_size + 1] = (uint8_t) size;
    memcpy (connection->out + connection->out_size + 2, answer, size);
    connection->out_size = need;
    self->queued += 2 + size;
    if (s_backlog (connection) > self->stats.queued_max)
        self->stats.queued_max = s_backlog (connection);
    if (connection->pending > 0)
        connection->pending--;
    self->stats.answers++;
    s_flush (self, connection);  // may close it: a client done sending has all it is owed
    return 0;
}

void
dnsd_tcp_close (dnsd_tcp_t *self, const dnsd_peer_t *peer)
{
    assert (self);
    s_connection_t *connection = s_connection (self, peer);
    if (connection)
        s_close (self, connection);
}

size_t
dnsd_tcp_connections (dnsd_tcp_t *self)
{
    assert (self);
    return self->open;
}

size_t
dnsd_tcp_queued (dnsd_tcp_t *self)
{
    assert (self);
    return self->queued;
}

const dnsd_tcp_stats_t *
dnsd_tcp_stats (dnsd_tcp_t *self)
{
    assert (self);
    return &self->stats;
}
