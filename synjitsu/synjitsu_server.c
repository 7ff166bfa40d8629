/*  synjitsu_server: bus events and bridge frames in, ARP and replayed SYNs out.  */

#include <arpa/inet.h>

#include "synjitsu_arp.h"
#include "synjitsu_capture.h"
#include "synjitsu_filter.h"
#include "synjitsu_neigh.h"
#include "synjitsu_server.h"

struct _synjitsu_server_t {
    synjitsu_config_t config;
    bool verbose;
    synjitsu_capture_t *capture;  // owned
    synjitsu_neigh_t *neigh;      // owned
    synjitsu_table_t *table;      // owned
    proto_pub_t *pub;             // owned
    proto_sub_t *sub;             // owned
    char *filter;                 // owned: the filter installed, SYNJITSU_FILTER_TEXT_MAX
    int64_t held_window_ms;       // start of the second syn.held messages are counted in
    int held_in_window;
    synjitsu_server_stats_t stats;
};

static int s_update_filter (synjitsu_server_t *self);

synjitsu_server_t *
synjitsu_server_new (const synjitsu_config_t *config, bool verbose)
{
    assert (config);
    synjitsu_server_t *self = (synjitsu_server_t *) zmalloc (sizeof (synjitsu_server_t));
    self->config = *config;
    self->verbose = verbose;
    self->table = synjitsu_table_new (&config->limits);
    self->filter = (char *) zmalloc (SYNJITSU_FILTER_TEXT_MAX);
    self->capture = synjitsu_capture_new (config->bridge);
    if (!self->capture || s_update_filter (self))
        goto failed;
    self->neigh = synjitsu_neigh_new (synjitsu_capture_ifindex (self->capture));
    if (!self->neigh)
        goto failed;
    self->pub = proto_pub_new (config->endpoints.bus_in, "synjitsu", config->instance);
    self->sub = proto_sub_new (config->endpoints.bus_out);
    if (!self->pub || !self->sub)
        goto failed;
    proto_sub_subscribe (self->sub, "vm.");
    return self;
failed:
    synjitsu_server_destroy (&self);
    return NULL;
}

void
synjitsu_server_destroy (synjitsu_server_t **self_p)
{
    assert (self_p);
    synjitsu_server_t *self = *self_p;
    if (!self)
        return;
    proto_sub_destroy (&self->sub);
    proto_pub_destroy (&self->pub);
    synjitsu_neigh_destroy (&self->neigh);
    synjitsu_capture_destroy (&self->capture);
    free (self->filter);
    synjitsu_table_destroy (&self->table);
    free (self);
    *self_p = NULL;
}

//  Install the filter for the addresses booting now, if it changed, and be promiscuous only
//  while something boots.
static int
s_update_filter (synjitsu_server_t *self)
{
    struct in_addr ips[SYNJITSU_VMS_MAX];
    size_t count = synjitsu_table_ips (self->table, ips, SYNJITSU_VMS_MAX);
    char text[SYNJITSU_FILTER_TEXT_MAX];
    if (synjitsu_filter_build (ips, count, text, sizeof text))
        return -1;
    if (synjitsu_capture_set_promisc (self->capture, count > 0))
        return -1;
    if (streq (text, self->filter))
        return 0;
    if (synjitsu_capture_set_filter (self->capture, text))
        return -1;
    strcpy (self->filter, text);
    self->stats.filter_updates++;
    if (self->verbose)
        zsys_debug ("synjitsu_server: filter installed addresses=%zu filter=%s", count, text);
    return 0;
}

static void
s_replay (void *argument, const synjitsu_vm_t *vm, uint8_t *frame, size_t size)
{
    synjitsu_server_t *self = (synjitsu_server_t *) argument;
    //  The client addressed the MAC we answered ARP with; the guest's own, when known from
    //  its frames, is the one the bridge will forward to.
    if (vm->has_mac)
        memcpy (frame, vm->mac, SYNJITSU_MAC_SIZE);
    //  A SYN captured from a local veth carries the partial checksum of offload: the guest
    //  would drop it silently. Held frames parsed as IPv4/TCP, so this cannot fail.
    if (synjitsu_frame_checksum (frame, size) == 0
        && synjitsu_capture_inject (self->capture, frame, size) == 0)
        self->stats.syns_replayed++;
    else
        self->stats.inject_failures++;
}

//  IP is up (MAC: the guest's own, when it was seen): replay what is held and say so.
static void
s_release (synjitsu_server_t *self, struct in_addr ip, const uint8_t *mac, const char *why)
{
    synjitsu_release_t result;
    if (synjitsu_table_release (self->table, ip, mac, zclock_mono (), s_replay, self, &result))
        return;
    s_update_filter (self);
    char address[INET_ADDRSTRLEN];
    inet_ntop (AF_INET, &ip, address, sizeof address);
    zsys_info ("synjitsu_server: released service=%s ip=%s why=%s replayed=%zu expired=%zu "
               "held_ms=%" PRId64,
               result.service, address, why, result.replayed, result.expired, result.held_ms);
    if (result.held_total == 0)
        return;  // no client waited: nothing to report
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_SYN_REPLAYED);
    proto_copy (msg.syn_replayed.service, sizeof msg.syn_replayed.service, result.service);
    proto_copy (msg.syn_replayed.ip, sizeof msg.syn_replayed.ip, address);
    msg.syn_replayed.count = (int64_t) result.replayed;
    msg.syn_replayed.held_ms = result.held_ms;
    proto_pub_send (self->pub, &msg);
}

//  A frame from the guest itself: its kernel is up. Publish guest.seen (once per boot). The
//  held SYNs wait for vm.ready: replayed to a guest whose server does not listen yet, they
//  would be answered with a RST and the client's connect would fail (a QEMU guest's first
//  frames come a second or more before its server listens). replay_on_guest_seen is for
//  guests whose first frame means the service is up (a unikernel).
static void
s_guest_seen (synjitsu_server_t *self, const synjitsu_vm_t *vm, const uint8_t *mac)
{
    if (!synjitsu_table_seen (self->table, vm->ip, mac))
        return;
    self->stats.guests_seen++;
    char address[INET_ADDRSTRLEN];
    inet_ntop (AF_INET, &vm->ip, address, sizeof address);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_GUEST_SEEN);
    proto_copy (msg.guest_seen.service, sizeof msg.guest_seen.service, vm->service);
    proto_copy (msg.guest_seen.ip, sizeof msg.guest_seen.ip, address);
    synjitsu_frame_mac_text (mac, msg.guest_seen.mac);
    proto_pub_send (self->pub, &msg);
    if (self->config.replay_on_guest_seen)
        s_release (self, vm->ip, mac, "guest.seen");
}

static void
s_publish_held (synjitsu_server_t *self, const synjitsu_vm_t *vm, const synjitsu_frame_t *frame,
                int64_t now_ms)
{
    if (now_ms - self->held_window_ms >= 1000) {
        self->held_window_ms = now_ms;
        self->held_in_window = 0;
    }
    if (self->held_in_window++ >= SYNJITSU_HELD_PER_SECOND) {
        self->stats.held_unpublished++;
        return;
    }
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_SYN_HELD);
    proto_copy (msg.syn_held.service, sizeof msg.syn_held.service, vm->service);
    inet_ntop (AF_INET, &frame->ip_dst, msg.syn_held.ip, sizeof msg.syn_held.ip);
    inet_ntop (AF_INET, &frame->ip_src, msg.syn_held.client, sizeof msg.syn_held.client);
    msg.syn_held.sport = frame->tcp_sport;
    msg.syn_held.dport = frame->tcp_dport;
    proto_pub_send (self->pub, &msg);
}

//  The booting VM that sent FRAME, or NULL: its IPv4 source (or ARP sender) address is a
//  booting one and, when vm.booting gave a MAC, the Ethernet source is that MAC.
static const synjitsu_vm_t *
s_sender_vm (synjitsu_server_t *self, const synjitsu_frame_t *frame)
{
    struct in_addr source;
    if (frame->kind == SYNJITSU_FRAME_ARP)
        source = frame->arp_spa;
    else if (frame->kind == SYNJITSU_FRAME_IPV4 || frame->kind == SYNJITSU_FRAME_TCP)
        source = frame->ip_src;
    else
        return NULL;
    const synjitsu_vm_t *vm = synjitsu_table_lookup (self->table, source);
    if (vm && vm->has_mac && memcmp (vm->mac, frame->src_mac, SYNJITSU_MAC_SIZE))
        return NULL;
    return vm;
}

//  The host's own IP stack asked: a reply injected on the bridge would go out to the ports,
//  never up to it, so write the answer into its neighbour table.
static void
s_answer_host (synjitsu_server_t *self, const synjitsu_vm_t *vm)
{
    if (synjitsu_neigh_set (self->neigh, vm->ip, vm->mac) == 0) {
        self->stats.neigh_updates++;
        return;
    }
    //  Logged once: without CAP_NET_ADMIN every such request fails alike.
    if (self->stats.neigh_failures++ == 0)
        zsys_warning ("synjitsu_server: cannot answer the host's own ARP request in its "
                      "neighbour table (needs CAP_NET_ADMIN) service=%s error=%s",
                      vm->service, strerror (errno));
}

static void
s_on_frame (void *argument, const uint8_t *data, size_t size, size_t wire_size)
{
    synjitsu_server_t *self = (synjitsu_server_t *) argument;
    self->stats.frames++;
    if (size < wire_size) {
        self->stats.frames_truncated++;
        return;
    }
    synjitsu_frame_t frame;
    if (synjitsu_frame_parse (&frame, data, size)) {
        self->stats.frames_malformed++;
        if (self->verbose)
            zsys_debug ("synjitsu_server: frame dropped size=%zu reason=%s", size, frame.error);
        return;
    }
    const synjitsu_vm_t *sender = s_sender_vm (self, &frame);
    if (sender) {
        s_guest_seen (self, sender, frame.src_mac);
        return;
    }
    int64_t now_ms = zclock_mono ();
    if (frame.kind == SYNJITSU_FRAME_ARP) {
        const synjitsu_vm_t *vm = synjitsu_table_lookup (self->table, frame.arp_tpa);
        if (!vm || !vm->has_mac || vm->watch_only || !synjitsu_arp_wants_reply (&frame))
            return;
        if (memcmp (frame.src_mac, synjitsu_capture_mac (self->capture), SYNJITSU_MAC_SIZE) == 0) {
            s_answer_host (self, vm);
            return;
        }
        uint8_t reply[SYNJITSU_ARP_FRAME_MAX];
        size_t length = synjitsu_arp_reply (reply, sizeof reply, &frame, vm->mac);
        if (length && synjitsu_capture_inject (self->capture, reply, length) == 0)
            self->stats.arp_replies++;
        else
            self->stats.inject_failures++;
        if (self->verbose)
            zsys_debug ("synjitsu_server: arp answered service=%s", vm->service);
        return;
    }
    if (synjitsu_table_hold (self->table, &frame, data, size, now_ms) == SYNJITSU_HOLD_NEW) {
        const synjitsu_vm_t *vm = synjitsu_table_lookup (self->table, frame.ip_dst);
        if (self->verbose)
            zsys_debug ("synjitsu_server: syn held service=%s sport=%u dport=%u", vm->service,
                        frame.tcp_sport, frame.tcp_dport);
        s_publish_held (self, vm, &frame, now_ms);
    }
}

static int
s_on_pcap (zloop_t *loop, zmq_pollitem_t *item, void *argument)
{
    synjitsu_server_t *self = (synjitsu_server_t *) argument;
    if (synjitsu_capture_dispatch (self->capture, SYNJITSU_BATCH, s_on_frame, self) < 0) {
        zsys_error ("synjitsu_server: capture failed on %s, stopping", self->config.bridge);
        return -1;  // ends the loop: the process exits 1 (proto_main_run)
    }
    return 0;
}

static void
s_announce (void *argument, const synjitsu_vm_t *vm)
{
    synjitsu_server_t *self = (synjitsu_server_t *) argument;
    uint8_t frame[SYNJITSU_ARP_FRAME_MAX];
    size_t length = synjitsu_arp_announce (frame, sizeof frame, vm->mac, vm->ip);
    if (length && synjitsu_capture_inject (self->capture, frame, length) == 0)
        self->stats.garps++;
    else
        self->stats.inject_failures++;
}

static void
s_on_booting (synjitsu_server_t *self, const proto_vm_booting_t *booting)
{
    struct in_addr ip;
    if (inet_pton (AF_INET, booting->ip, &ip) != 1) {
        //  ARP and this filter are IPv4's; an IPv6 guest would need NDP answered instead.
        self->stats.vms_ignored++;
        zsys_warning ("synjitsu_server: not an IPv4 address, ignored service=%s ip=%s",
                      booting->service, booting->ip);
        return;
    }
    uint8_t mac[SYNJITSU_MAC_SIZE];
    bool has_mac = booting->mac[0] && synjitsu_frame_mac_parse (booting->mac, mac) == 0;
    //  Another mask than ours: only watch for the guest (guest.seen, for ready: garp).
    //  mask=auto: dnsd answers at hold_max_ms at the latest, and the SYNs of the rest of the
    //  boot are held here, as for synjitsu.
    bool watch_only = booting->mask != PROTO_BOOTING_MASK_UNSET
                      && booting->mask != PROTO_BOOTING_MASK_SYNJITSU
                      && booting->mask != PROTO_BOOTING_MASK_AUTO;
    const uint8_t *known_mac = has_mac ? mac : NULL;
    int rc = watch_only ? synjitsu_table_watching (self->table, booting->service,
                                                   booting->boot_id, ip, known_mac, zclock_mono ())
                        : synjitsu_table_booting (self->table, booting->service,
                                                  booting->boot_id, ip, known_mac, zclock_mono ());
    if (rc) {
        zsys_warning ("synjitsu_server: too many addresses booting, ignored service=%s ip=%s",
                      booting->service, booting->ip);
        return;
    }
    s_update_filter (self);
    synjitsu_table_announce (self->table, zclock_mono (), s_announce, self);
    zsys_info ("synjitsu_server: booting service=%s ip=%s mac=%s%s", booting->service,
               booting->ip, has_mac ? booting->mac : "-", watch_only ? " watch_only=yes" : "");
}

//  One vm.* message from the bus.
static void
s_on_bus_message (void *argument, const proto_msg_t *msg)
{
    synjitsu_server_t *self = (synjitsu_server_t *) argument;
    struct in_addr ip;
    switch (msg->type) {
    case PROTO_MSG_VM_BOOTING:
        s_on_booting (self, &msg->vm_booting);
        break;
    case PROTO_MSG_VM_READY:
        if (inet_pton (AF_INET, msg->vm_ready.ip, &ip) == 1)
            s_release (self, ip, NULL, "vm.ready");
        break;
    case PROTO_MSG_VM_STOPPED:
    case PROTO_MSG_VM_FAILED: {
        const char *service = proto_msg_service (msg);
        if (synjitsu_table_forget (self->table, service)) {
            s_update_filter (self);
            zsys_info ("synjitsu_server: forgotten service=%s why=%s", service, msg->topic);
        }
        break;
    }
    default:
        break;
    }
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *argument)
{
    synjitsu_server_t *self = (synjitsu_server_t *) argument;
    int64_t now_ms = zclock_mono ();
    size_t expired = synjitsu_table_expire (self->table, now_ms);
    if (expired && self->verbose)
        zsys_debug ("synjitsu_server: held SYNs expired count=%zu", expired);
    synjitsu_table_announce (self->table, now_ms, s_announce, self);
    return 0;
}

static int
s_on_heartbeat (zloop_t *loop, int timer_id, void *argument)
{
    synjitsu_server_t *self = (synjitsu_server_t *) argument;
    const synjitsu_server_stats_t *stats = &self->stats;
    const synjitsu_table_stats_t *table = synjitsu_table_stats (self->table);
    proto_msg_t msg;
    proto_pub_alive (self->pub, &msg);
    const proto_counter_t counters[] = {
        {"frames", stats->frames},
        {"frames_malformed", stats->frames_malformed},
        {"frames_truncated", stats->frames_truncated},
        {"pcap_drops", synjitsu_capture_drops (self->capture)},
        {"arp_replies", stats->arp_replies},
        {"neigh_updates", stats->neigh_updates},
        {"neigh_failures", stats->neigh_failures},
        {"garps", stats->garps},
        {"syns_held", table->held},
        {"syns_replaced", table->replaced},
        {"syns_evicted", table->evicted},
        {"syns_expired", table->expired},
        {"syns_replayed", stats->syns_replayed},
        {"inject_failures", stats->inject_failures},
        {"guests_seen", stats->guests_seen},
        {"vms_booting", synjitsu_table_size (self->table)},
        {"syns_holding", synjitsu_table_held (self->table)},
        {"vms_refused", table->refused},
        {"vms_ignored", stats->vms_ignored},
        {"filter_updates", stats->filter_updates},
        {"held_unpublished", stats->held_unpublished},
        {"bus_received", proto_sub_received (self->sub)},
        {"bus_malformed", proto_sub_malformed (self->sub)},
        {"bus_gaps", proto_sub_gaps (self->sub)},
    };
    proto_msg_add_counters (&msg, counters, sizeof counters / sizeof counters[0]);
    proto_pub_send (self->pub, &msg);
    return 0;
}

int
synjitsu_server_attach (synjitsu_server_t *self, zloop_t *loop)
{
    assert (self);
    zmq_pollitem_t item = {NULL, synjitsu_capture_fd (self->capture), ZMQ_POLLIN, 0};
    if (zloop_poller (loop, &item, s_on_pcap, self))
        return -1;
    zloop_poller_set_tolerant (loop, &item);
    if (proto_sub_attach (self->sub, loop, SYNJITSU_BATCH, s_on_bus_message, self)
        || zloop_timer (loop, SYNJITSU_TICK_MS, 0, s_on_tick, self) < 0
        || zloop_timer (loop, (size_t) self->config.heartbeat_ms, 0, s_on_heartbeat, self) < 0)
        return -1;
    return 0;
}

const synjitsu_server_stats_t *
synjitsu_server_stats (synjitsu_server_t *self)
{
    assert (self);
    return &self->stats;
}
