/*  dnsd_forward: UDP with retries, TCP after truncation, answers checked by ldns.  */

#include <errno.h>
#include <ldns/ldns.h>
#include <stdlib.h>

#include "dnsd_forward.h"
#include "dnsd_query.h"
#include "dnsd_response.h"

#define S_ANSWER_MAX 65535
#define S_RECV_BATCH 64

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
    uint16_t id;  // the id upstreams see
    dnsd_peer_t peer;
    uint8_t *query;  // owned: the client's query with our id
    size_t size;
    dnsd_query_t parsed;  // the client's query (id included); qname borrows query
    size_t limit;         // the client's answer size limit
    int tries;
    size_t upstream;   // index of the upstream asked last
    int64_t deadline;  // monotonic ms
    s_phase_t phase;
    int tcp_fd;           // -1 unless over TCP
    uint8_t *tcp_buffer;  // owned: query out, then answer in (length prefixed)
    size_t tcp_done, tcp_size;
    s_pending_t *prev, *next;  // the deadline-ordered list
};

struct _dnsd_forward_t {
    dnsd_upstream_t upstreams[DNSD_UPSTREAM_MAX];
    size_t upstream_count;
    int fds[DNSD_UPSTREAM_MAX];  // UDP sockets, each connected to its upstream
    int timeout_ms;
    int retries;
    size_t next_upstream;  // round robin: the upstream a new query tries first
    s_pending_t *pool;     // owned: forwards_max entries
    size_t pool_size;
    uint32_t *free_stack;  // owned: indexes of free entries
    size_t free_count;
    uint32_t *ids;  // owned: id -> pool index + 1 (0: free)
    s_pending_t *head, *tail;
    dnsd_forward_fn *fn;
    void *fn_arg;
    zloop_t *loop;    // borrowed once attached
    uint8_t *buffer;  // owned: S_ANSWER_MAX bytes for reading answers
    dnsd_forward_stats_t stats;
};

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
    self->ids = (uint32_t *) zmalloc (65536 * sizeof (uint32_t));
    self->buffer = (uint8_t *) zmalloc (S_ANSWER_MAX);
    for (size_t index = 0; index < self->pool_size; index++) {
        self->pool[index].owner = self;
        self->pool[index].tcp_fd = -1;
        self->free_stack[self->free_count++] = (uint32_t) (self->pool_size - 1 - index);
    }
    for (size_t index = 0; index < DNSD_UPSTREAM_MAX; index++)
        self->fds[index] = -1;
    for (size_t index = 0; index < self->upstream_count; index++) {
        const dnsd_upstream_t *upstream = &self->upstreams[index];
        int fd = socket (upstream->address.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        self->fds[index] = fd;
        if (fd < 0
            || connect (fd, (const struct sockaddr *) &upstream->address, upstream->length)) {
            zsys_error ("dnsd_forward: cannot reach upstream=%s: %s", upstream->text,
                        strerror (errno));
            dnsd_forward_destroy (&self);
            return NULL;
        }
    }
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
    for (size_t index = 0; index < DNSD_UPSTREAM_MAX; index++)
        if (self->fds[index] >= 0) {
            if (self->loop) {
                zmq_pollitem_t item = {NULL, self->fds[index], 0, 0};
                zloop_poller_end (self->loop, &item);
            }
            close (self->fds[index]);
        }
    free (self->buffer);
    free (self->ids);
    free (self->free_stack);
    free (self->pool);
    free (self);
    *self_p = NULL;
}

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
    s_tcp_end (self, pending);
    self->ids[pending->id] = 0;
    free (pending->query);
    pending->query = NULL;
    pending->used = false;
    self->free_stack[self->free_count++] = (uint32_t) (pending - self->pool);
}

//  Answer PENDING's client with SERVFAIL and forget it.
static void
s_servfail (dnsd_forward_t *self, s_pending_t *pending)
{
    uint8_t answer[DNSD_UDP_LEGACY];
    dnsd_response_t response;
    dnsd_response_begin (&response, answer, sizeof answer, &pending->parsed, pending->query,
                         DNSD_RCODE_SERVFAIL, false);
    size_t size = dnsd_response_finish (&response, &pending->parsed, DNSD_RCODE_SERVFAIL);
    answer[3] |= DNSD_FLAG_RA;  // only clients offered recursion get here
    self->stats.servfail++;
    dnsd_peer_t peer = pending->peer;
    s_free (self, pending);
    self->fn (self->fn_arg, &peer, answer, size);
}

static void
s_send_udp (dnsd_forward_t *self, s_pending_t *pending)
{
    //  A failed send is not retried at once: the timeout moves on to the next upstream.
    if (send (self->fds[pending->upstream], pending->query, pending->size, MSG_DONTWAIT) < 0)
        zsys_debug ("dnsd_forward: send failed upstream=%s: %s",
                    self->upstreams[pending->upstream].text, strerror (errno));
    s_arm (self, pending);
}

void
dnsd_forward_query (dnsd_forward_t *self, const uint8_t *packet, size_t size, size_t limit,
                    const dnsd_peer_t *peer)
{
    assert (self);
    self->stats.queries++;
    dnsd_query_t parsed;
    if (self->free_count == 0 || self->upstream_count == 0
        || dnsd_query_parse (&parsed, packet, size) != DNSD_QUERY_OK) {
        self->stats.full++;
        uint8_t answer[DNSD_UDP_LEGACY];
        dnsd_response_t response;
        if (dnsd_query_parse (&parsed, packet, size) != DNSD_QUERY_OK)
            return;  // the handler parsed it already; never happens
        dnsd_response_begin (&response, answer, sizeof answer, &parsed, packet, DNSD_RCODE_SERVFAIL,
                             false);
        size_t length = dnsd_response_finish (&response, &parsed, DNSD_RCODE_SERVFAIL);
        answer[3] |= DNSD_FLAG_RA;
        self->fn (self->fn_arg, peer, answer, length);
        return;
    }
    s_pending_t *pending = &self->pool[self->free_stack[--self->free_count]];
    pending->used = true;
    uint16_t id;
    do
        id = (uint16_t) arc4random_uniform (65536);
    while (self->ids[id]);
    self->ids[id] = (uint32_t) (pending - self->pool) + 1;
    pending->id = id;
    pending->peer = *peer;
    pending->query = (uint8_t *) malloc (size);
    assert (pending->query);
    memcpy (pending->query, packet, size);
    pending->size = size;
    dnsd_query_parse (&pending->parsed, pending->query, size);  // qname now borrows our copy
    pending->query[0] = (uint8_t) (id >> 8);
    pending->query[1] = (uint8_t) id;
    pending->limit = limit;
    pending->tries = 1;
    pending->upstream = self->next_upstream++ % self->upstream_count;  // take turns
    pending->phase = S_UDP;
    s_send_udp (self, pending);
}

//  Whether ANSWER (SIZE bytes) is a well-formed answer to PENDING's question (ldns parses it).
static bool
s_matches (s_pending_t *pending, const uint8_t *answer, size_t size)
{
    ldns_pkt *packet = NULL;
    if (ldns_wire2pkt (&packet, answer, size) != LDNS_STATUS_OK || !packet)
        return false;
    bool ok = ldns_pkt_qr (packet) && ldns_pkt_get_opcode (packet) == LDNS_PACKET_QUERY;
    ldns_rr_list *question = ldns_pkt_question (packet);
    if (ok && ldns_rr_list_rr_count (question) == 0) {
        //  Errors may come without the question (FORMERR, NOTIMP): the id and the socket
        //  matched, and there is nothing in them to poison a cache.
        ldns_pkt_rcode rcode = ldns_pkt_get_rcode (packet);
        ok = rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN;
    }
    else if (ok) {
        ldns_rr *rr = ldns_rr_list_rr (question, 0);
        ldns_rdf *asked = ldns_rdf_new_frm_data (LDNS_RDF_TYPE_DNAME, pending->parsed.qname_length,
                                                 pending->parsed.lower);
        ok = ldns_rr_list_rr_count (question) == 1 && asked
             && ldns_dname_compare (ldns_rr_owner (rr), asked) == 0
             && ldns_rr_get_type (rr) == pending->parsed.qtype
             && ldns_rr_get_class (rr) == pending->parsed.qclass;
        ldns_rdf_deep_free (asked);
    }
    ldns_pkt_free (packet);
    return ok;
}

//  Relay ANSWER to PENDING's client, cut to TC if it is too large, and forget PENDING.
static void
s_deliver (dnsd_forward_t *self, s_pending_t *pending, uint8_t *answer, size_t size)
{
    answer[0] = (uint8_t) (pending->parsed.id >> 8);
    answer[1] = (uint8_t) pending->parsed.id;
    answer[3] |= DNSD_FLAG_RA;  // dnsd offers the recursion, whatever the upstream says
    if (size > pending->limit) {
        //  Header and question only, TC set: the client retries over TCP.
        size_t question = pending->parsed.question_end - DNSD_HEADER_SIZE;
        answer[2] |= DNSD_FLAG_TC >> 8;
        answer[4] = 0, answer[5] = 1;
        memset (answer + 6, 0, 6);
        memcpy (answer + DNSD_HEADER_SIZE, pending->query + DNSD_HEADER_SIZE, question);
        size = DNSD_HEADER_SIZE + question;
        self->stats.truncated++;
    }
    self->stats.answers++;
    dnsd_peer_t peer = pending->peer;
    s_free (self, pending);
    self->fn (self->fn_arg, &peer, answer, size);
}

static int s_on_tcp (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  Ask PENDING's upstream again over TCP (RFC 7766 section 5: after TC).
static void
s_start_tcp (dnsd_forward_t *self, s_pending_t *pending)
{
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
    pending->tcp_buffer[0] = (uint8_t) (pending->size >> 8);
    pending->tcp_buffer[1] = (uint8_t) pending->size;
    memcpy (pending->tcp_buffer + 2, pending->query, pending->size);
    pending->tcp_size = 2 + pending->size;
    pending->tcp_done = 0;
    zmq_pollitem_t item = {NULL, fd, ZMQ_POLLOUT, 0};
    zloop_poller (self->loop, &item, s_on_tcp, pending);
    zloop_poller_set_tolerant (self->loop, &item);
    s_arm (self, pending);
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
    size_t size = pending->tcp_size - 2;
    uint8_t *answer = pending->tcp_buffer + 2;
    if (size < DNSD_HEADER_SIZE || ((answer[0] << 8) | answer[1]) != pending->id
        || !s_matches (pending, answer, size)) {
        self->stats.bogus++;
        s_servfail (self, pending);
        return 0;
    }
    memcpy (self->buffer, answer, size);
    s_deliver (self, pending, self->buffer, size);
    return 0;
}

static int
s_on_udp (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    dnsd_forward_t *self = (dnsd_forward_t *) arg;
    for (int count = 0; count < S_RECV_BATCH; count++) {
        ssize_t got = recv (item->fd, self->buffer, S_ANSWER_MAX, MSG_DONTWAIT);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            break;  // EAGAIN, or an ICMP error for an earlier send: the timeout handles it
        size_t size = (size_t) got;
        if (size < DNSD_HEADER_SIZE) {
            self->stats.bogus++;
            continue;
        }
        uint32_t slot = self->ids[(self->buffer[0] << 8) | self->buffer[1]];
        s_pending_t *pending = slot ? &self->pool[slot - 1] : NULL;
        if (!pending || pending->phase != S_UDP || !s_matches (pending, self->buffer, size)) {
            self->stats.bogus++;  // late, unknown, spoofed or garbled: the timeout decides
            continue;
        }
        if ((self->buffer[2] & (DNSD_FLAG_TC >> 8)) && pending->peer.tcp)
            s_start_tcp (self, pending);
        else
            s_deliver (self, pending, self->buffer, size);
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
            s_send_udp (self, pending);
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
    for (size_t index = 0; index < self->upstream_count; index++) {
        zmq_pollitem_t item = {NULL, self->fds[index], ZMQ_POLLIN, 0};
        if (zloop_poller (loop, &item, s_on_udp, self))
            return -1;
        zloop_poller_set_tolerant (loop, &item);
    }
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
