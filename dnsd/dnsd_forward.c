/*  dnsd_forward: a socket per try, retries, TCP after truncation, replies checked by
    dnsd_relay.  */

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>

#include "dnsd_forward.h"
#include "dnsd_query.h"
#include "dnsd_relay.h"

#define S_ANSWER_MAX 65535
#define S_RECV_BATCH 64
#define S_EVENTS     64   // epoll events read per wake-up
#define S_RANDOM     256  // bytes of getrandom output kept for ids
#define S_FDS_SPARE  256  // descriptors beyond forwards_max: listeners, TCP clients, bus

typedef enum {
    S_UDP = 0,    // waiting for a UDP answer
    S_TCP_WRITE,  // connecting, then writing the query
    S_TCP_READ    // reading the answer
} s_phase_t;

typedef struct _dnsd_forward_t dnsd_forward_t;

//  One query in flight.
typedef struct s_pending_t s_pending_t;
struct s_pending_t {
    dnsd_forward_t *owner;  // borrowed
    bool used;
    dnsd_peer_t peer;
    dnsd_relay_t relay;  // the client's question, and what goes upstream (the try's id)
    bool has_id;         // a try was sent: its id is marked in flight
    int tries;
    size_t upstream;   // index of the upstream asked last
    int64_t deadline;  // monotonic ms
    s_phase_t phase;
    int udp_fd;           // the try's socket; -1 when none
    int tcp_fd;           // -1 unless over TCP
    uint8_t *tcp_buffer;  // owned: query out, then answer in (length prefixed)
    size_t tcp_done, tcp_size;
    s_pending_t *prev, *next;  // the deadline-ordered list
};

struct _dnsd_forward_t {
    dnsd_upstream_t upstreams[DNSD_UPSTREAM_MAX];
    size_t upstream_count;
    int epoll_fd;  // every try's UDP socket, one poller for zloop
    int timeout_ms;
    int retries;
    size_t next_upstream;  // round robin: the upstream a new query tries first
    s_pending_t *pool;     // owned: forwards_max entries
    size_t pool_size;
    uint32_t *free_stack;  // owned: indexes of free entries
    size_t free_count;
    uint8_t *ids;  // owned: 65536 bits, the ids of the tries in flight
    s_pending_t *head, *tail;
    dnsd_forward_fn *fn;
    void *fn_arg;
    zloop_t *loop;    // borrowed once attached
    uint8_t *buffer;  // owned: S_ANSWER_MAX bytes for reading replies
    uint8_t *answer;  // owned: the client's answer, rewritten
    uint8_t random[S_RANDOM];
    size_t random_used;
    dnsd_forward_stats_t stats;
};

//  A try per query in flight needs a descriptor each: raise the soft limit towards the hard
//  one when forwards_max would not fit (Debian's default soft limit is 1024).
static void
s_raise_fd_limit (size_t wanted)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) || limit.rlim_cur >= wanted)
        return;
    rlim_t before = limit.rlim_cur;
    limit.rlim_cur =
        limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= wanted ? wanted : limit.rlim_max;
    if (setrlimit (RLIMIT_NOFILE, &limit) || limit.rlim_cur < wanted)
        zsys_warning ("dnsd_forward: descriptors limited to %ju, forwards_max needs %zu: tries "
                      "beyond get SERVFAIL",
                      (uintmax_t) (limit.rlim_cur > before ? limit.rlim_cur : before), wanted);
}

dnsd_forward_t *
dnsd_forward_new (const dnsd_config_t *config, dnsd_forward_fn *fn, void *arg)
{
    dnsd_forward_t *self = (dnsd_forward_t *) zmalloc (sizeof (dnsd_forward_t));
    self->upstream_count = config->upstream_count;
    memcpy (self->upstreams, config->upstreams, sizeof self->upstreams);
    self->timeout_ms = config->forward_timeout_ms;
    self->retries = config->forward_retries;
    self->fn = fn;
    self->fn_arg = arg;
    self->pool_size = (size_t) config->forwards_max;
    self->pool = (s_pending_t *) zmalloc (self->pool_size * sizeof (s_pending_t));
    self->free_stack = (uint32_t *) zmalloc (self->pool_size * sizeof (uint32_t));
    self->ids = (uint8_t *) zmalloc (65536 / 8);
    self->buffer = (uint8_t *) zmalloc (S_ANSWER_MAX);
    self->answer = (uint8_t *) zmalloc (S_ANSWER_MAX + DNSD_RELAY_OPT_SIZE);
    self->random_used = S_RANDOM;
    for (size_t index = 0; index < self->pool_size; index++) {
        self->pool[index].owner = self;
        self->pool[index].udp_fd = -1;
        self->pool[index].tcp_fd = -1;
        self->free_stack[self->free_count++] = (uint32_t) (self->pool_size - 1 - index);
    }
    self->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    if (self->epoll_fd < 0) {
        zsys_error ("dnsd_forward: epoll_create1 failed: %s", strerror (errno));
        dnsd_forward_destroy (&self);
        return NULL;
    }
    s_raise_fd_limit (self->pool_size + S_FDS_SPARE);
    return self;
}

static void s_free (dnsd_forward_t *self, s_pending_t *pending);

void
dnsd_forward_destroy (dnsd_forward_t **self_p)
{
    assert (self_p);
    dnsd_forward_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->pool_size; index++)
        if (self->pool[index].used)
            s_free (self, &self->pool[index]);
    if (self->epoll_fd >= 0) {
        if (self->loop) {
            zmq_pollitem_t item = {NULL, self->epoll_fd, 0, 0};
            zloop_poller_end (self->loop, &item);
        }
        close (self->epoll_fd);
    }
    free (self->answer);
    free (self->buffer);
    free (self->ids);
    free (self->free_stack);
    free (self->pool);
    free (self);
    *self_p = NULL;
}

//  Ids --------------------------------------------------------------------------------------------

static bool
s_id_used (dnsd_forward_t *self, uint16_t id)
{
    return self->ids[id >> 3] & (1u << (id & 7));
}

static void
s_id_mark (dnsd_forward_t *self, uint16_t id, bool used)
{
    if (used)
        self->ids[id >> 3] |= (uint8_t) (1u << (id & 7));
    else
        self->ids[id >> 3] &= (uint8_t) ~(1u << (id & 7));
}

//  A random id (getrandom: the kernel's CSPRNG, read S_RANDOM bytes at a time), other than
//  PREVIOUS and than any try in flight, so no two tries can be confused, even by the tests.
static uint16_t
s_new_id (dnsd_forward_t *self, uint16_t previous)
{
    for (;;) {
        if (self->random_used + 2 > S_RANDOM) {
            ssize_t got = getrandom (self->random, S_RANDOM, 0);
            if (got != S_RANDOM) {
                //  Never for 256 bytes once the pool is initialised (getrandom(2)); if it
                //  does, an id from the clock is still better than no answer.
                zsys_error ("dnsd_forward: getrandom failed: %s", strerror (errno));
                for (size_t index = 0; index < S_RANDOM; index++)
                    self->random[index] = (uint8_t) (zclock_usecs () >> (index % 8));
            }
            self->random_used = 0;
        }
        uint16_t id = (uint16_t) ((self->random[self->random_used] << 8)
                                  | self->random[self->random_used + 1]);
        self->random_used += 2;
        if (id != previous && !s_id_used (self, id))
            return id;
    }
}

//  Pending queries ----------------------------------------------------------------------------

static void
s_unlink (dnsd_forward_t *self, s_pending_t *pending)
{
    if (pending->prev)
        pending->prev->next = pending->next;
    else if (self->head == pending)
        self->head = pending->next;
    if (pending->next)
        pending->next->prev = pending->prev;
    else if (self->tail == pending)
        self->tail = pending->prev;
    pending->prev = pending->next = NULL;
}

//  (Re)arm PENDING's deadline: every deadline is now + the same timeout, so the list stays
//  in deadline order by appending.
static void
s_arm (dnsd_forward_t *self, s_pending_t *pending)
{
    s_unlink (self, pending);
    pending->deadline = zclock_mono () + self->timeout_ms;
    pending->prev = self->tail;
    if (self->tail)
        self->tail->next = pending;
    else
        self->head = pending;
    self->tail = pending;
}

static void
s_udp_end (s_pending_t *pending)
{
    if (pending->udp_fd >= 0)
        close (pending->udp_fd);  // which takes it out of the epoll set
    pending->udp_fd = -1;
}

static void
s_tcp_end (dnsd_forward_t *self, s_pending_t *pending)
{
    if (pending->tcp_fd < 0)
        return;
    if (self->loop) {
        zmq_pollitem_t item = {NULL, pending->tcp_fd, 0, 0};
        zloop_poller_end (self->loop, &item);
    }
    close (pending->tcp_fd);
    pending->tcp_fd = -1;
    free (pending->tcp_buffer);
    pending->tcp_buffer = NULL;
}

static void
s_free (dnsd_forward_t *self, s_pending_t *pending)
{
    s_unlink (self, pending);
    s_udp_end (pending);
    s_tcp_end (self, pending);
    if (pending->has_id)
        s_id_mark (self, dnsd_relay_id (&pending->relay), false);
    pending->has_id = false;
    pending->used = false;
    self->free_stack[self->free_count++] = (uint32_t) (pending - self->pool);
}

//  Send ANSWER (SIZE bytes) to PENDING's client and forget PENDING.
static void
s_finish (dnsd_forward_t *self, s_pending_t *pending, const uint8_t *answer, size_t size)
{
    dnsd_peer_t peer = pending->peer;
    s_free (self, pending);
    self->fn (self->fn_arg, &peer, answer, size);
}

//  Answer PENDING's client with SERVFAIL and forget it.
static void
s_servfail (dnsd_forward_t *self, s_pending_t *pending)
{
    uint8_t answer[DNSD_UDP_LEGACY];
    size_t size = dnsd_relay_error (&pending->relay, answer, DNSD_RCODE_SERVFAIL);
    self->stats.servfail++;
    s_finish (self, pending, answer, size);
}

//  A new try of PENDING: a new socket on a port the kernel picks at random, opened before the
//  last try's is closed so the two never share a port, and a new id. Returns -1 when no
//  socket can be made.
static int
s_send_udp (dnsd_forward_t *self, s_pending_t *pending)
{
    const dnsd_upstream_t *upstream = &self->upstreams[pending->upstream];
    int family = upstream->address.ss_family;
    int fd = socket (family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_storage local = {.ss_family = (sa_family_t) family};
    socklen_t length =
        family == AF_INET ? sizeof (struct sockaddr_in) : sizeof (struct sockaddr_in6);
    struct epoll_event event = {.events = EPOLLIN};
    event.data.u64 = ((uint64_t) (pending - self->pool) << 32) | (uint32_t) fd;
    if (fd < 0 || bind (fd, (struct sockaddr *) &local, length)
        || epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, fd, &event)) {
        zsys_warning ("dnsd_forward: no socket for a try upstream=%s: %s", upstream->text,
                      strerror (errno));
        if (fd >= 0)
            close (fd);
        self->stats.sockets_failed++;
        return -1;
    }
    s_udp_end (pending);
    pending->udp_fd = fd;
    uint16_t previous = dnsd_relay_id (&pending->relay);
    if (pending->has_id)
        s_id_mark (self, previous, false);
    uint16_t id = s_new_id (self, previous);
    s_id_mark (self, id, true);
    pending->has_id = true;
    dnsd_relay_set_id (&pending->relay, id);
    //  A failed send is not retried at once: the timeout moves on to the next upstream.
    if (sendto (fd, pending->relay.query, pending->relay.size, MSG_DONTWAIT,
                (const struct sockaddr *) &upstream->address, upstream->length)
        < 0)
        zsys_debug ("dnsd_forward: send failed upstream=%s: %s", upstream->text, strerror (errno));
    s_arm (self, pending);
    return 0;
}

void
dnsd_forward_query (dnsd_forward_t *self, const uint8_t *packet, size_t size, size_t limit,
                    const dnsd_peer_t *peer)
{
    assert (self);
    self->stats.queries++;
    dnsd_query_t parsed;
    if (dnsd_query_parse (&parsed, packet, size) != DNSD_QUERY_OK)
        return;  // the handler parsed it already; never happens
    if (self->free_count == 0 || self->upstream_count == 0) {
        self->stats.full++;
        dnsd_relay_t relay;
        dnsd_relay_init (&relay, &parsed, packet, limit);
        uint8_t answer[DNSD_UDP_LEGACY];
        self->fn (self->fn_arg, peer, answer,
                  dnsd_relay_error (&relay, answer, DNSD_RCODE_SERVFAIL));
        return;
    }
    s_pending_t *pending = &self->pool[self->free_stack[--self->free_count]];
    pending->used = true;
    pending->peer = *peer;
    dnsd_relay_init (&pending->relay, &parsed, packet, limit);
    pending->tries = 1;
    pending->upstream = self->next_upstream++ % self->upstream_count;  // take turns
    pending->phase = S_UDP;
    if (s_send_udp (self, pending))
        s_servfail (self, pending);
}

//  Answers ----------------------------------------------------------------------------------------

static int s_on_tcp (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  Ask PENDING's upstream again over TCP (RFC 7766 section 5: after TC), with the same id.
static void
s_start_tcp (dnsd_forward_t *self, s_pending_t *pending)
{
    s_udp_end (pending);
    const dnsd_upstream_t *upstream = &self->upstreams[pending->upstream];
    int fd = socket (upstream->address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0
        || (connect (fd, (const struct sockaddr *) &upstream->address, upstream->length)
            && errno != EINPROGRESS)) {
        if (fd >= 0)
            close (fd);
        s_servfail (self, pending);
        return;
    }
    self->stats.tcp++;
    pending->tcp_fd = fd;
    pending->phase = S_TCP_WRITE;
    pending->tcp_buffer = (uint8_t *) malloc (2 + S_ANSWER_MAX);
    assert (pending->tcp_buffer);
    size_t size = pending->relay.size;
    pending->tcp_buffer[0] = (uint8_t) (size >> 8);
    pending->tcp_buffer[1] = (uint8_t) size;
    memcpy (pending->tcp_buffer + 2, pending->relay.query, size);
    pending->tcp_size = 2 + size;
    pending->tcp_done = 0;
    zmq_pollitem_t item = {NULL, fd, ZMQ_POLLOUT, 0};
    zloop_poller (self->loop, &item, s_on_tcp, pending);
    zloop_poller_set_tolerant (self->loop, &item);
    s_arm (self, pending);
}

//  Relay REPLY (SIZE bytes) for PENDING if it answers it: to the client, or over TCP first.
//  Returns false when it does not (counted): the caller decides what follows.
static bool
s_on_reply (dnsd_forward_t *self, s_pending_t *pending, const uint8_t *reply, size_t size)
{
    size_t length;
    bool cut;
    dnsd_relay_status_t status =
        dnsd_relay_answer (&pending->relay, reply, size, self->answer, &length, &cut);
    if (status == DNSD_RELAY_MISMATCH || status == DNSD_RELAY_MALFORMED) {
        if (status == DNSD_RELAY_MISMATCH)
            self->stats.mismatched++;
        else
            self->stats.bogus++;
        return false;
    }
    if (status == DNSD_RELAY_TRUNCATED && pending->peer.tcp && pending->phase == S_UDP) {
        s_start_tcp (self, pending);
        return true;
    }
    if (cut)
        self->stats.truncated++;
    self->stats.answers++;
    s_finish (self, pending, self->answer, length);
    return true;
}

static int
s_on_tcp (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    s_pending_t *pending = (s_pending_t *) arg;
    dnsd_forward_t *self = pending->owner;
    if (!pending->used || pending->tcp_fd != item->fd)
        return 0;  // finished earlier in this round of the loop
    if (pending->phase == S_TCP_WRITE) {
        ssize_t sent = send (pending->tcp_fd, pending->tcp_buffer + pending->tcp_done,
                             pending->tcp_size - pending->tcp_done, MSG_NOSIGNAL);
        if (sent < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (sent <= 0) {
            s_servfail (self, pending);
            return 0;
        }
        pending->tcp_done += (size_t) sent;
        if (pending->tcp_done == pending->tcp_size) {
            pending->phase = S_TCP_READ;
            pending->tcp_done = 0;
            pending->tcp_size = 2;  // the length first
            zmq_pollitem_t next = {NULL, pending->tcp_fd, ZMQ_POLLIN, 0};
            zloop_poller_end (loop, &next);
            zloop_poller (loop, &next, s_on_tcp, pending);
            zloop_poller_set_tolerant (loop, &next);
        }
        return 0;
    }
    ssize_t got = recv (pending->tcp_fd, pending->tcp_buffer + pending->tcp_done,
                        pending->tcp_size - pending->tcp_done, 0);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (got <= 0) {
        s_servfail (self, pending);
        return 0;
    }
    pending->tcp_done += (size_t) got;
    if (pending->tcp_done < pending->tcp_size)
        return 0;
    if (pending->tcp_size == 2) {
        pending->tcp_size = 2 + (size_t) ((pending->tcp_buffer[0] << 8) | pending->tcp_buffer[1]);
        if (pending->tcp_size > 2)
            return 0;
    }
    //  The connection is the upstream's own: a reply on it that does not answer is an error.
    if (!s_on_reply (self, pending, pending->tcp_buffer + 2, pending->tcp_size - 2))
        s_servfail (self, pending);
    return 0;
}

//  Whether FROM (LENGTH bytes) is UPSTREAM's address and port.
static bool
s_from_upstream (const dnsd_upstream_t *upstream, const struct sockaddr_storage *from,
                 socklen_t length)
{
    if (from->ss_family != upstream->address.ss_family)
        return false;
    if (from->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *) from;
        const struct sockaddr_in *b = (const struct sockaddr_in *) &upstream->address;
        return length >= sizeof *a && a->sin_port == b->sin_port
               && a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *) from;
    const struct sockaddr_in6 *b = (const struct sockaddr_in6 *) &upstream->address;
    return length >= sizeof *a && a->sin6_port == b->sin6_port
           && memcmp (&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
}

//  Read what came on PENDING's socket FD until it is empty or PENDING is answered.
static void
s_read_udp (dnsd_forward_t *self, s_pending_t *pending, int fd)
{
    for (int count = 0; count < S_RECV_BATCH && pending->used && pending->udp_fd == fd; count++) {
        struct sockaddr_storage from;
        socklen_t length = sizeof from;
        ssize_t got = recvfrom (fd, self->buffer, S_ANSWER_MAX, MSG_DONTWAIT,
                                (struct sockaddr *) &from, &length);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            break;  // EAGAIN: the timeout handles a missing reply
        if (!s_from_upstream (&self->upstreams[pending->upstream], &from, length)) {
            self->stats.mismatched++;  // spoofed, or a stray: the timeout decides
            continue;
        }
        s_on_reply (self, pending, self->buffer, (size_t) got);
    }
}

static int
s_on_epoll (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    dnsd_forward_t *self = (dnsd_forward_t *) arg;
    struct epoll_event events[S_EVENTS];
    int count = epoll_wait (self->epoll_fd, events, S_EVENTS, 0);
    for (int index = 0; index < count; index++) {
        //  An event may be for a socket already closed in this round (its try answered or
        //  replaced): the slot and the descriptor must both still match.
        uint32_t slot = (uint32_t) (events[index].data.u64 >> 32);
        int fd = (int) (uint32_t) events[index].data.u64;
        s_pending_t *pending = slot < self->pool_size ? &self->pool[slot] : NULL;
        if (pending && pending->used && pending->phase == S_UDP && pending->udp_fd == fd)
            s_read_udp (self, pending, fd);
    }
    return 0;
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    dnsd_forward_t *self = (dnsd_forward_t *) arg;
    int64_t now = zclock_mono ();
    while (self->head && self->head->deadline <= now) {
        s_pending_t *pending = self->head;
        if (pending->phase == S_UDP && pending->tries <= self->retries) {
            pending->tries++;
            pending->upstream = (pending->upstream + 1) % self->upstream_count;
            self->stats.retries++;
            if (s_send_udp (self, pending))
                s_servfail (self, pending);
        }
        else
            s_servfail (self, pending);
    }
    return 0;
}

int
dnsd_forward_attach (dnsd_forward_t *self, zloop_t *loop)
{
    assert (self);
    self->loop = loop;
    zmq_pollitem_t item = {NULL, self->epoll_fd, ZMQ_POLLIN, 0};
    if (zloop_poller (loop, &item, s_on_epoll, self))
        return -1;
    zloop_poller_set_tolerant (loop, &item);
    int interval = self->timeout_ms / 10 > 5 ? self->timeout_ms / 10 : 5;
    if (interval > 50)
        interval = 50;
    return zloop_timer (loop, (size_t) interval, 0, s_on_tick, self) < 0 ? -1 : 0;
}

size_t
dnsd_forward_pending (dnsd_forward_t *self)
{
    assert (self);
    return self->pool_size - self->free_count;
}

const dnsd_forward_stats_t *
dnsd_forward_stats (dnsd_forward_t *self)
{
    assert (self);
    return &self->stats;
}
