/*  dnsd_server: sockets, bus, replica and timers around the handler.  */

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>

#include "dnsd_announce.h"
#include "dnsd_cookie.h"
#include "dnsd_forward.h"
#include "dnsd_handler.h"
#include "dnsd_rrl.h"
#include "dnsd_server.h"
#include "dnsd_summon.h"
#include "dnsd_table.h"
#include "dnsd_tcp.h"
#include "dnsd_udp.h"
#include "dnsd_waitlist.h"

#define S_TICK_MS       10   // held queries and boots, only while there are some
#define S_SERIAL_MS     250  // SOA serial, heap trim
#define S_SYNC_CHECK_MS 20
#define S_PORT_TRIES    32  // port 0: exclusive ports tried
#define S_BUS_BATCH     256
#define S_UDP_ROUNDS    16  // batches per wake-up before the bus gets a turn

//  One UDP socket and its server, for the poller.
typedef struct {
    dnsd_server_t *server;  // borrowed
    dnsd_udp_t *udp;        // owned
} s_listener_t;

//  Counters of the server itself (svc.alive).
typedef struct {
    uint64_t invalid_configs;  // stored configs refused by proto_service_parse
    uint64_t invalid_statuses;
    uint64_t released;           // held queries answered when their boot ended
    uint64_t released_deadline;  // ... at their own deadline
    uint64_t ready_timeouts;     // ... of those, mask=ready ones that gave up on vm.ready
    uint64_t released_at_cap;    // ... of those, the ones hold_max_ms cut short
    uint64_t foreign_boots;      // vm.boot from another dnsd instance, joined
    uint64_t tcp_dropped;        // TCP messages not worth an answer: connection closed
} s_stats_t;

struct _dnsd_server_t {
    const dnsd_config_t *config;  // borrowed
    bool verbose;
    int port;
    s_listener_t listeners[DNSD_LISTEN_MAX];
    size_t listener_count;
    dnsd_tcp_t *tcp;            // owned
    dnsd_table_t *table;        // owned
    dnsd_summon_t *summon;      // owned
    dnsd_handler_t *handler;    // owned
    dnsd_cookie_t *cookie;      // owned: server cookies, for the handler
    dnsd_rrl_t *rrl;            // owned: UDP answers per client network
    dnsd_waitlist_t *waitlist;  // owned
    dnsd_forward_t *forward;    // owned; NULL when forwarding is off
    proto_pub_t *pub;           // owned
    dnsd_announce_t *announce;  // owned: vm.boot and dns.hits through pub
    proto_sub_t *sub;           // owned: vm.*
    proto_replica_t *replica;   // owned: /services
    zloop_t *loop;              // borrowed once attached
    int tick_timer;             // -1 when not armed
    int sync_timer;
    bool serving;
    int64_t started;         // monotonic ms at attach
    uint8_t *answer;         // owned: 65535 bytes for one-off answers
    int64_t invalid_logged;  // monotonic ms: invalid configs are logged once a second
    size_t changes;          // replica changes since the heap was last trimmed
    uint64_t resyncs;        // replica snapshots seen at the last trim
    s_stats_t stats;
};

static void s_on_state (const char *key, json_t *value, void *arg);
static void s_on_tcp_message (void *arg, const dnsd_peer_t *peer, const uint8_t *message,
                              size_t size);
static void s_on_forward_answer (void *arg, const dnsd_peer_t *peer, const uint8_t *answer,
                                 size_t size);

//  Bind every listen address on PORT (0: the kernel picks it for the first). EXCLUSIVE
//  binds without SO_REUSEPORT, so a port another process uses, dnsd or not, fails.
static int
s_bind (dnsd_server_t *self, int port, bool exclusive)
{
    const dnsd_config_t *config = self->config;
    for (size_t index = 0; index < config->listen_count; index++) {
        dnsd_udp_t *udp = dnsd_udp_new (config->listen[index], port, !exclusive);
        if (!udp)
            return -1;
        self->listeners[self->listener_count].server = self;
        self->listeners[self->listener_count++].udp = udp;
        port = dnsd_udp_port (udp);
        if (dnsd_tcp_listen (self->tcp, config->listen[index], port, !exclusive) < 0)
            return -1;
    }
    self->port = port;
    return 0;
}

static void
s_unbind (dnsd_server_t *self)
{
    for (size_t index = 0; index < self->listener_count; index++)
        dnsd_udp_destroy (&self->listeners[index].udp);
    self->listener_count = 0;
    dnsd_tcp_unlisten (self->tcp);
}

//  Port 0 (tests, scripts): find a port free for UDP and TCP on every address. The binds are
//  exclusive, so a port some other socket holds (with SO_REUSEPORT or not) is never shared by
//  mistake; SO_REUSEPORT is set afterwards so further dnsd instances may join explicitly.
static int
s_bind_any (dnsd_server_t *self)
{
    for (int attempt = 0; attempt < S_PORT_TRIES; attempt++) {
        if (s_bind (self, 0, true) == 0) {
            bool shared = dnsd_tcp_share (self->tcp) == 0;
            for (size_t index = 0; index < self->listener_count; index++)
                shared = shared && dnsd_udp_share (self->listeners[index].udp) == 0;
            if (shared)
                return 0;
        }
        else if (errno != EADDRINUSE)
            return -1;
        s_unbind (self);
    }
    errno = EADDRINUSE;
    return -1;
}

dnsd_server_t *
dnsd_server_new (const dnsd_config_t *config, bool verbose)
{
    assert (config);
    dnsd_server_t *self = (dnsd_server_t *) zmalloc (sizeof (dnsd_server_t));
    self->config = config;
    self->verbose = verbose;
    self->tick_timer = -1;
    self->sync_timer = -1;
    self->answer = (uint8_t *) zmalloc (65535);
    self->tcp = dnsd_tcp_new (config->tcp_clients_max, config->tcp_idle_ms, s_on_tcp_message, self);
    int rc = config->port ? s_bind (self, config->port, false) : s_bind_any (self);
    if (rc) {
        zsys_error ("dnsd_server: cannot bind port=%d: %s", config->port, strerror (errno));
        goto failed;
    }
    self->table = dnsd_table_new (config);
    if (!self->table)
        goto failed;
    self->summon = dnsd_summon_new (self->table, config);
    self->handler = dnsd_handler_new (self->table, self->summon, config);
    self->cookie = dnsd_cookie_new (config->has_cookie_secret ? config->cookie_secret : NULL);
    if (!self->cookie) {
        zsys_error ("dnsd_server: no randomness for the cookie secret: %s", strerror (errno));
        goto failed;
    }
    dnsd_handler_set_cookie (self->handler, self->cookie);
    self->rrl =
        dnsd_rrl_new (config->rrl_rate, config->rrl_slip, config->rrl_ipv4_prefix,
                      config->rrl_ipv6_prefix, config->rrl_exempt, config->rrl_exempt_count);
    self->waitlist = dnsd_waitlist_new ((size_t) config->waiting_max);
    if (dnsd_config_forwarding (config)) {
        self->forward = dnsd_forward_new (config, s_on_forward_answer, self);
        if (!self->forward)
            goto failed;
    }
    self->pub = proto_pub_new (config->endpoints.bus_in, "dnsd", config->instance);
    self->sub = proto_sub_new (config->endpoints.bus_out);
    if (self->pub)
        self->replica =
            proto_replica_new (&config->endpoints, "/services", proto_pub_src (self->pub),
                               config->statestore_heartbeat_ms);
    if (!self->pub || !self->sub || !self->replica) {
        zsys_error ("dnsd_server: cannot connect to the bus or statestore");
        goto failed;
    }
    self->announce = dnsd_announce_new (self->pub, self->table);
    proto_sub_subscribe (self->sub, "vm.");
    proto_replica_set_handler (self->replica, s_on_state, self);
    return self;
failed:
    dnsd_server_destroy (&self);
    return NULL;
}

void
dnsd_server_destroy (dnsd_server_t **self_p)
{
    assert (self_p);
    dnsd_server_t *self = *self_p;
    if (!self)
        return;
    proto_replica_destroy (&self->replica);
    proto_sub_destroy (&self->sub);
    dnsd_announce_destroy (&self->announce);
    proto_pub_destroy (&self->pub);
    dnsd_forward_destroy (&self->forward);
    dnsd_waitlist_destroy (&self->waitlist);
    dnsd_rrl_destroy (&self->rrl);
    dnsd_handler_destroy (&self->handler);
    dnsd_cookie_destroy (&self->cookie);
    dnsd_summon_destroy (&self->summon);
    dnsd_table_destroy (&self->table);
    s_unbind (self);
    dnsd_tcp_destroy (&self->tcp);
    free (self->answer);
    free (self);
    *self_p = NULL;
}

//  Sending answers ---------------------------------------------------------------------------

static dnsd_udp_t *
s_udp_of (dnsd_server_t *self, int fd)
{
    for (size_t index = 0; index < self->listener_count; index++)
        if (dnsd_udp_fd (self->listeners[index].udp) == fd)
            return self->listeners[index].udp;
    return NULL;
}

static void
s_send (dnsd_server_t *self, const dnsd_peer_t *peer, const uint8_t *answer, size_t size)
{
    if (peer->tcp)
        dnsd_tcp_send (self->tcp, peer, answer, size);
    else {
        dnsd_udp_t *udp = s_udp_of (self, peer->fd);
        if (udp)
            dnsd_udp_send (udp, peer, answer, size);
    }
}

static void
s_on_forward_answer (void *arg, const dnsd_peer_t *peer, const uint8_t *answer, size_t size)
{
    dnsd_server_t *self = (dnsd_server_t *) arg;
    dnsd_handler_count (self->handler, answer, size);
    s_send (self, peer, answer, size);
}

//  Timers -----------------------------------------------------------------------------------------

static int s_on_tick (zloop_t *loop, int timer_id, void *arg);

//  Run the fine-grained tick only while queries are held or boots are in flight.
static void
s_arm_tick (dnsd_server_t *self)
{
    if (self->tick_timer >= 0 || !self->loop)
        return;
    if (dnsd_waitlist_size (self->waitlist) == 0 && !dnsd_table_flight_first (self->table))
        return;
    self->tick_timer = zloop_timer (self->loop, S_TICK_MS, 0, s_on_tick, self);
}

//  Verdicts ---------------------------------------------------------------------------------------

//  Whether the UDP answer of *SIZE bytes in ANSWER to CLIENT may go out (dnsd_rrl); a slip
//  is cut in place and *SIZE set to its size. OUTCOME says whether its cookie was valid.
static bool
s_rrl_pass (dnsd_server_t *self, const struct sockaddr *client, const dnsd_outcome_t *outcome,
            uint8_t *answer, size_t *size, int64_t mono_ms)
{
    switch (dnsd_rrl_check (self->rrl, client, outcome->cookie == DNSD_COOKIE_VALID, mono_ms)) {
    case DNSD_RRL_SEND:
        return true;
    case DNSD_RRL_SLIP:
        *size = dnsd_rrl_slip (answer, *size);
        return *size > 0;
    case DNSD_RRL_DROP:
        break;
    }
    return false;
}

//  Act on a verdict other than an immediate UDP answer. PEER says where answers go; a UDP
//  answer (a released one) passes RRL first.
static void
s_act (dnsd_server_t *self, dnsd_verdict_t verdict, const dnsd_outcome_t *outcome,
       const uint8_t *packet, size_t size, const dnsd_peer_t *peer, uint8_t *answer)
{
    size_t answer_size = outcome->size;
    if (outcome->boot)
        dnsd_announce_boot (self->announce, outcome->service, outcome->qname, outcome->qtype,
                            (const struct sockaddr *) &peer->address);
    if (outcome->report)
        dnsd_announce_hits (self->announce, outcome->service);
    switch (verdict) {
    case DNSD_VERDICT_ANSWER:
        if (peer->tcp
            || s_rrl_pass (self, (const struct sockaddr *) &peer->address, outcome, answer,
                           &answer_size, zclock_mono ()))
            s_send (self, peer, answer, answer_size);
        break;
    case DNSD_VERDICT_FORWARD:
        dnsd_forward_query (self->forward, packet, size, outcome->limit, peer);
        break;
    case DNSD_VERDICT_WAIT:
        dnsd_waitlist_add (self->waitlist, outcome->service, peer, packet, size, outcome->deadline,
                           outcome->capped);
        break;
    case DNSD_VERDICT_DROP:
        if (peer->tcp) {
            self->stats.tcp_dropped++;
            dnsd_tcp_close (self->tcp, peer);
        }
        break;
    }
    if (outcome->boot || verdict == DNSD_VERDICT_WAIT)
        s_arm_tick (self);
}

static void
s_context (dnsd_server_t *self, dnsd_context_t *context, const struct sockaddr *client, bool tcp)
{
    context->client = client;
    context->tcp = tcp;
    context->release = false;
    context->may_wait = dnsd_waitlist_has_room (self->waitlist);
    context->now_ms = zclock_time ();
    context->mono_ms = zclock_mono ();
}

//  The hot path: batches of UDP queries in, batches of answers out, until the socket is empty
//  (a query that arrived while the last batch was answered is read without another poll) or
//  S_UDP_ROUNDS batches were handled.
static int
s_on_udp (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    s_listener_t *listener = (s_listener_t *) arg;
    dnsd_server_t *self = listener->server;
    dnsd_udp_t *udp = listener->udp;
    for (int round = 0; round < S_UDP_ROUNDS; round++) {
        int count = dnsd_udp_receive (udp);
        if (count == 0)
            break;
        dnsd_context_t context;
        s_context (self, &context, NULL, false);
        for (int index = 0; index < count; index++) {
            size_t size;
            const uint8_t *packet = dnsd_udp_query (udp, index, &size);
            if (!packet)
                continue;
            context.client = dnsd_udp_client (udp, index);
            uint8_t *answer = dnsd_udp_answer_buffer (udp, index);
            dnsd_outcome_t outcome;
            dnsd_verdict_t verdict = dnsd_handler_process (self->handler, packet, size, &context,
                                                           answer, DNSD_EDNS_PAYLOAD, &outcome);
            if (verdict == DNSD_VERDICT_ANSWER
                && !s_rrl_pass (self, context.client, &outcome, answer, &outcome.size,
                                context.mono_ms))
                verdict = DNSD_VERDICT_DROP;  // over the rate: only the news, if any, is left
            bool news = outcome.boot || outcome.report;  // something to publish
            if (verdict == DNSD_VERDICT_ANSWER && !news)
                dnsd_udp_answer (udp, index, outcome.size);
            else if (verdict != DNSD_VERDICT_DROP || news) {
                dnsd_peer_t peer;
                dnsd_udp_peer (udp, index, &peer);
                if (verdict == DNSD_VERDICT_ANSWER) {
                    dnsd_udp_answer (udp, index, outcome.size);
                    verdict = DNSD_VERDICT_DROP;  // sent with the batch; only the news is left
                }
                s_act (self, verdict, &outcome, packet, size, &peer, answer);
                context.may_wait = dnsd_waitlist_has_room (self->waitlist);
            }
            if (self->verbose)
                zsys_debug ("dnsd_server: udp query size=%zu verdict=%d rcode=%d", size,
                            (int) verdict, outcome.rcode);
        }
        dnsd_udp_flush (udp);
    }
    return 0;
}

static void
s_on_tcp_message (void *arg, const dnsd_peer_t *peer, const uint8_t *message, size_t size)
{
    dnsd_server_t *self = (dnsd_server_t *) arg;
    dnsd_context_t context;
    s_context (self, &context, (const struct sockaddr *) &peer->address, true);
    dnsd_outcome_t outcome;
    dnsd_verdict_t verdict = dnsd_handler_process (self->handler, message, size, &context,
                                                   self->answer, 65535, &outcome);
    if (self->verbose)
        zsys_debug ("dnsd_server: tcp query size=%zu verdict=%d rcode=%d", size, (int) verdict,
                    outcome.rcode);
    s_act (self, verdict, &outcome, message, size, peer, self->answer);
}

//  A held query leaves the waitlist: answer it as things are now.
static void
s_on_release (dnsd_waiter_t *waiter, bool expired, void *arg)
{
    dnsd_server_t *self = (dnsd_server_t *) arg;
    if (expired) {
        self->stats.released_deadline++;
        if (waiter->capped)
            self->stats.released_at_cap++;
        else if (waiter->service->mask == PROTO_MASK_READY)
            self->stats.ready_timeouts++;
    }
    else
        self->stats.released++;
    dnsd_context_t context;
    s_context (self, &context, (const struct sockaddr *) &waiter->peer.address, waiter->peer.tcp);
    context.release = true;
    dnsd_outcome_t outcome;
    size_t max = waiter->peer.tcp ? 65535 : DNSD_EDNS_PAYLOAD;
    dnsd_verdict_t verdict = dnsd_handler_process (self->handler, waiter->message, waiter->size,
                                                   &context, self->answer, max, &outcome);
    s_act (self, verdict, &outcome, waiter->message, waiter->size, &waiter->peer, self->answer);
}

static void
s_on_boot_due (dnsd_service_t *service, bool expired, void *arg)
{
    dnsd_server_t *self = (dnsd_server_t *) arg;
    if (expired) {
        zsys_warning ("dnsd_server: no vm.ready in time service=%s ready_timeout_ms=%d waiting=%zu",
                      service->name, service->ready_timeout_ms, service->waiting);
        dnsd_waitlist_release (self->waitlist, service, s_on_release, self);
        dnsd_table_prune (self->table, service);  // its definition may be gone meanwhile
    }
    else
        dnsd_announce_boot_again (self->announce, service);
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    dnsd_server_t *self = (dnsd_server_t *) arg;
    int64_t now = zclock_mono ();
    dnsd_waitlist_expire (self->waitlist, now, s_on_release, self);
    dnsd_summon_tick (self->summon, now, s_on_boot_due, self);
    if (dnsd_waitlist_size (self->waitlist) == 0 && !dnsd_table_flight_first (self->table)) {
        zloop_timer_end (loop, timer_id);
        self->tick_timer = -1;
    }
    return 0;
}

//  A snapshot of thousands of services, or a burst of state.changed, leaves megabytes of
//  freed JSON that glibc keeps; give it back once the burst is over.
#define S_TRIM_CHANGES 256

static int
s_on_serial (zloop_t *loop, int timer_id, void *arg)
{
    dnsd_server_t *self = (dnsd_server_t *) arg;
    dnsd_table_set_serial (self->table, (uint32_t) proto_replica_rev (self->replica));
    uint64_t resyncs = proto_replica_resyncs (self->replica);
    if (self->changes >= S_TRIM_CHANGES || resyncs != self->resyncs) {
        malloc_trim (0);
        self->changes = 0;
        self->resyncs = resyncs;
    }
    return 0;
}

//  State in --------------------------------------------------------------------------------------

//  A service's boot ended (ready, failed) or its definition went away: answer what it held.
static void
s_release_service (dnsd_server_t *self, dnsd_service_t *service)
{
    if (service->waiting)
        dnsd_waitlist_release (self->waitlist, service, s_on_release, self);
}

//  SERVICE's state changed; RELEASE says its held queries are to be answered now.
static void
s_state (dnsd_server_t *self, dnsd_service_t *service, bool release)
{
    if (release) {
        s_release_service (self, service);
        if (dnsd_table_prune (self->table, service))
            return;
    }
    s_arm_tick (self);
}

//  A change under /services from the replica: NAME/config or NAME/status.
static void
s_on_state (const char *key, json_t *value, void *arg)
{
    dnsd_server_t *self = (dnsd_server_t *) arg;
    self->changes++;
    char service_name[PROTO_NAME_MAX + 1];
    const char *field;
    if (proto_key_split (key, service_name, sizeof service_name, &field))
        return;

    if (streq (field, "config")) {
        if (value) {
            proto_error_t error;
            if (dnsd_table_define (self->table, service_name, value, &error)) {
                self->stats.invalid_configs++;
                int64_t now = zclock_mono ();
                if (now - self->invalid_logged >= 1000) {
                    self->invalid_logged = now;
                    zsys_warning ("dnsd_server: service not served, invalid config: %s",
                                  error.text);
                }
            }
            else if (self->verbose)
                zsys_debug ("dnsd_server: service defined name=%s", service_name);
        }
        else {
            dnsd_service_t *service = dnsd_table_service (self->table, service_name);
            if (service) {
                dnsd_table_undefine (self->table, service_name);
                dnsd_summon_forget (self->summon, service);
                s_release_service (self, service);  // answered as things are now: NXDOMAIN
                dnsd_table_prune (self->table, service);
            }
        }
    }
    else if (streq (field, "status")) {
        if (value) {
            proto_status_t status;
            proto_error_t error;
            dnsd_service_t *service = dnsd_table_ensure (self->table, service_name);
            if (!service)
                return;
            if (proto_status_parse (&status, value, &error)) {
                self->stats.invalid_statuses++;
                return;
            }
            dnsd_service_set_has_status (service, true);
            s_state (self, service,
                     dnsd_summon_state (self->summon, service, status.state, status.since,
                                        zclock_mono ()));
        }
        else {
            dnsd_service_t *service = dnsd_table_service (self->table, service_name);
            if (service) {
                dnsd_service_set_has_status (service, false);
                dnsd_table_prune (self->table, service);
            }
        }
    }
}

//  One vm.* message from the bus.
static void
s_on_bus_message (void *arg, const proto_msg_t *msg)
{
    dnsd_server_t *self = (dnsd_server_t *) arg;
    const char *name = proto_msg_service (msg);  // every vm.* body names one
    dnsd_service_t *service = name ? dnsd_table_service (self->table, name) : NULL;
    if (!service)
        return;
    if (self->verbose)
        zsys_debug ("dnsd_server: %s service=%s", msg->topic, name);
    if (msg->type == PROTO_MSG_VM_BOOT) {
        //  Another dnsd instance started a boot: wait on it rather than start one.
        if (!streq (msg->src, proto_pub_src (self->pub))
            && dnsd_summon_join (self->summon, service, zclock_mono ())) {
            self->stats.foreign_boots++;
            s_arm_tick (self);
        }
        return;
    }
    s_state (self, service, dnsd_summon_event (self->summon, service, msg, zclock_mono ()));
}

//  Heartbeat
//  ---------------------------------------------------------------------------------------

//  Resident memory in KiB (from /proc/self/statm), or 0.
static int64_t
s_rss_kib (void)
{
    long pages_total = 0, pages_resident = 0;
    FILE *file = fopen ("/proc/self/statm", "r");
    if (file && fscanf (file, "%ld %ld", &pages_total, &pages_resident) != 2)
        pages_resident = 0;
    if (file)
        fclose (file);
    return (int64_t) pages_resident * (sysconf (_SC_PAGESIZE) / 1024);
}

static int
s_on_heartbeat (zloop_t *loop, int timer_id, void *arg)
{
    dnsd_server_t *self = (dnsd_server_t *) arg;
    const dnsd_handler_stats_t *handler = dnsd_handler_stats (self->handler);
    const dnsd_summon_stats_t *summon = dnsd_summon_stats (self->summon);
    const dnsd_tcp_stats_t *tcp = dnsd_tcp_stats (self->tcp);
    uint64_t received = 0, batches = 0, oversized = 0, sent = 0, send_failures = 0;
    for (size_t index = 0; index < self->listener_count; index++) {
        const dnsd_udp_stats_t *udp = dnsd_udp_stats (self->listeners[index].udp);
        received += udp->received;
        batches += udp->batches;
        oversized += udp->oversized;
        sent += udp->sent;
        send_failures += udp->send_failures;
    }
    const dnsd_rrl_stats_t *rrl = dnsd_rrl_stats (self->rrl);
    static const dnsd_forward_stats_t no_forward;
    const dnsd_forward_stats_t *forward =
        self->forward ? dnsd_forward_stats (self->forward) : &no_forward;
    struct mallinfo2 heap = mallinfo2 ();
    proto_msg_t msg;
    proto_pub_alive (self->pub, &msg);
    const proto_counter_t counters[] = {
        {"queries", (int64_t) handler->queries},
        {"queries_udp", (int64_t) received},
        {"queries_tcp", (int64_t) tcp->messages},
        {"answers_noerror", (int64_t) handler->answers[DNSD_RCODE_NOERROR]},
        {"answers_formerr", (int64_t) handler->answers[DNSD_RCODE_FORMERR]},
        {"answers_servfail", (int64_t) handler->answers[DNSD_RCODE_SERVFAIL]},
        {"answers_nxdomain", (int64_t) handler->answers[DNSD_RCODE_NXDOMAIN]},
        {"answers_notimp", (int64_t) handler->answers[DNSD_RCODE_NOTIMP]},
        {"answers_refused", (int64_t) handler->answers[DNSD_RCODE_REFUSED]},
        {"answers_badvers", (int64_t) handler->answers_badvers},
        {"nodata", (int64_t) handler->nodata},
        {"truncated", (int64_t) handler->truncated},
        {"dropped", (int64_t) (handler->dropped_short + handler->dropped_response + oversized
                               + self->stats.tcp_dropped + rrl->dropped)},
        {"dropped_short", (int64_t) handler->dropped_short},
        {"dropped_response", (int64_t) handler->dropped_response},
        {"dropped_oversized", (int64_t) oversized},
        {"rrl_dropped", (int64_t) rrl->dropped},
        {"rrl_slipped", (int64_t) rrl->slipped},
        {"cookies_new", (int64_t) handler->cookies[DNSD_COOKIE_CLIENT_ONLY]},
        {"cookies_valid", (int64_t) handler->cookies[DNSD_COOKIE_VALID]},
        {"cookies_bad", (int64_t) handler->cookies[DNSD_COOKIE_BAD]},
        {"udp_batches", (int64_t) batches},
        {"udp_sent", (int64_t) sent},
        {"udp_send_failures", (int64_t) send_failures},
        {"forwarded", (int64_t) handler->forwarded},
        {"recursion_refused", (int64_t) handler->recursion_refused},
        {"norecurse_refused", (int64_t) handler->norecurse_refused},
        {"forward_answers", (int64_t) forward->answers},
        {"forward_retries", (int64_t) forward->retries},
        {"forward_servfail", (int64_t) forward->servfail},
        {"forward_full", (int64_t) forward->full},
        {"forward_tcp", (int64_t) forward->tcp},
        {"forward_truncated", (int64_t) forward->truncated},
        {"forward_bogus", (int64_t) forward->bogus},
        {"forward_mismatched", (int64_t) forward->mismatched},
        {"forward_sockets_failed", (int64_t) forward->sockets_failed},
        {"forward_pending", (int64_t) (self->forward ? dnsd_forward_pending (self->forward) : 0)},
        {"service_queries", (int64_t) handler->service_queries},
        {"held", (int64_t) handler->held},
        {"hold_refused", (int64_t) handler->hold_refused},
        {"waiting", (int64_t) dnsd_waitlist_size (self->waitlist)},
        {"released", (int64_t) self->stats.released},
        {"released_deadline", (int64_t) self->stats.released_deadline},
        {"ready_timeouts", (int64_t) self->stats.ready_timeouts},
        {"answers_released_at_cap", (int64_t) self->stats.released_at_cap},
        {"answers_past_cap", (int64_t) summon->past_cap},
        {"boots_triggered", (int64_t) summon->boots},
        {"boots_republished", (int64_t) summon->republished},
        {"boots_rate_limited", (int64_t) summon->rate_limited},
        {"wake_denied", (int64_t) summon->wake_denied},
        {"boot_timeouts", (int64_t) summon->boot_timeouts},
        {"boots_failed", (int64_t) summon->boots_failed},
        {"boots_joined", (int64_t) self->stats.foreign_boots},
        {"stale_states", (int64_t) summon->stale_ignored},
        {"hits_published", (int64_t) dnsd_announce_hits_published (self->announce)},
        {"services", (int64_t) dnsd_table_defined (self->table)},
        {"names", (int64_t) dnsd_table_names (self->table)},
        {"zones", (int64_t) dnsd_table_zones (self->table)},
        {"invalid_configs", (int64_t) self->stats.invalid_configs},
        {"invalid_statuses", (int64_t) self->stats.invalid_statuses},
        {"tcp_accepted", (int64_t) tcp->accepted},
        {"tcp_refused", (int64_t) tcp->refused},
        {"tcp_idle_closed", (int64_t) tcp->idle_closed},
        {"tcp_stalled_closed", (int64_t) tcp->stalled_closed},
        {"tcp_read_paused", (int64_t) tcp->read_paused},
        {"tcp_queued_bytes", (int64_t) dnsd_tcp_queued (self->tcp)},
        {"tcp_queued_max", (int64_t) tcp->queued_max},
        {"tcp_lost", (int64_t) tcp->lost},
        {"tcp_connections", (int64_t) dnsd_tcp_connections (self->tcp)},
        {"bus_received", (int64_t) proto_sub_received (self->sub)},
        {"bus_malformed", (int64_t) proto_sub_malformed (self->sub)},
        {"bus_gaps", (int64_t) proto_sub_gaps (self->sub)},
        {"replica_rev", proto_replica_rev (self->replica)},
        {"replica_resyncs", (int64_t) proto_replica_resyncs (self->replica)},
        {"rss_kib", s_rss_kib ()},
        {"heap_used_kib", (int64_t) (heap.uordblks + heap.hblkhd) / 1024},
        {"serving", self->serving ? 1 : 0},
        {"port", self->port},
    };
    proto_msg_add_counters (&msg, counters, sizeof counters / sizeof counters[0]);
    proto_pub_send (self->pub, &msg);
    return 0;
}

//  Start-up
//  ----------------------------------------------------------------------------------------

static int
s_write_port_file (dnsd_server_t *self)
{
    const char *path = self->config->port_file;
    if (!*path)
        return 0;
    char temporary[sizeof self->config->port_file + 8];
    snprintf (temporary, sizeof temporary, "%s.tmp", path);
    FILE *file = fopen (temporary, "w");
    if (!file)
        return -1;
    fprintf (file, "%d\n", self->port);
    if (fclose (file) || rename (temporary, path))
        return -1;
    return 0;
}

//  Start answering: the table reflects statestore (or waiting longer would not help).
static int
s_serve (dnsd_server_t *self)
{
    self->serving = true;
    for (size_t index = 0; index < self->listener_count; index++) {
        zmq_pollitem_t item = {NULL, dnsd_udp_fd (self->listeners[index].udp), ZMQ_POLLIN, 0};
        if (zloop_poller (self->loop, &item, s_on_udp, &self->listeners[index]))
            return -1;
        zloop_poller_set_tolerant (self->loop, &item);
    }
    if (dnsd_tcp_attach (self->tcp, self->loop))
        return -1;
    if (s_write_port_file (self))
        zsys_error ("dnsd_server: cannot write port_file=%s: %s", self->config->port_file,
                    strerror (errno));
    bool synced = proto_replica_synced (self->replica);
    zsys_info ("dnsd_server: serving port=%d addresses=%zu synced=%s rev=%" PRId64
               " services=%zu zones=%zu forwarding=%s",
               self->port, self->listener_count, synced ? "yes" : "no (sync_wait_ms passed)",
               proto_replica_rev (self->replica), dnsd_table_defined (self->table),
               dnsd_table_zones (self->table), self->forward ? "on" : "off");
    return 0;
}

static int
s_on_sync_check (zloop_t *loop, int timer_id, void *arg)
{
    dnsd_server_t *self = (dnsd_server_t *) arg;
    if (!proto_replica_synced (self->replica)
        && zclock_mono () - self->started < self->config->sync_wait_ms)
        return 0;
    zloop_timer_end (loop, timer_id);
    self->sync_timer = -1;
    dnsd_table_set_serial (self->table, (uint32_t) proto_replica_rev (self->replica));
    return s_serve (self);
}

int
dnsd_server_attach (dnsd_server_t *self, zloop_t *loop)
{
    assert (self);
    self->loop = loop;
    self->started = zclock_mono ();
    if (proto_replica_attach (self->replica, loop)
        || proto_sub_attach (self->sub, loop, S_BUS_BATCH, s_on_bus_message, self)
        || (self->forward && dnsd_forward_attach (self->forward, loop))
        || dnsd_announce_attach (self->announce, loop)
        || zloop_timer (loop, (size_t) self->config->heartbeat_ms, 0, s_on_heartbeat, self) < 0
        || zloop_timer (loop, S_SERIAL_MS, 0, s_on_serial, self) < 0)
        return -1;
    self->sync_timer = zloop_timer (loop, S_SYNC_CHECK_MS, 0, s_on_sync_check, self);
    return self->sync_timer < 0 ? -1 : 0;
}

int
dnsd_server_port (dnsd_server_t *self)
{
    assert (self);
    return self->port;
}

uint64_t
dnsd_server_queries (dnsd_server_t *self)
{
    assert (self);
    return dnsd_handler_stats (self->handler)->queries;
}
