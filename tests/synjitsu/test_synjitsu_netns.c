/*  synjitsu with real kernels on both sides of a bridge (see sj_netns.h).

    The client is a real TCP socket in its own namespace; the "guest" is a namespace with a
    listening socket whose veth is attached to the bridge only after the client has started
    connecting; synjitsu runs as a real process in the bridge's namespace, on a real bus, and
    the test plays vmctl by publishing vm.booting and vm.ready. Retransmits are read from the
    client's TCP_INFO, and orderings from captures, never from a clock. Every test needs root
    (namespaces, raw sockets) and skips with the reason printed without it. Timings are
    printed with --verbose ("figures: ..."), never asserted. SJ_KEEP_LOG=PATH copies
    synjitsu's log of each test to PATH.<test's pid> at teardown.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/wait.h>

#include "proto.h"
#include "sj_netns.h"
#include "sj_pcap.h"
#include "synjitsu_frame.h"
#include "test_support.h"

#define S_BUS      JITSU_BUILD_DIR "/bus/jitsu-bus"
#define S_SYNJITSU JITSU_BUILD_DIR "/synjitsu/synjitsu"

static char *s_run_dir;
static sj_netns_t *s_net;
static proto_pub_t *s_pub;
static proto_sub_t *s_sub;
static pid_t s_bus_pid;
static pid_t s_synjitsu_pid;
static char s_log[300];        // synjitsu's stderr
static int s_fds[16];          // sockets to close at teardown
static int s_fd_count;
static pcap_t *s_pcaps[4];
static int s_pcap_count;

static void
s_teardown (void)
{
    for (int index = 0; index < s_fd_count; index++)
        close (s_fds[index]);
    s_fd_count = 0;
    for (int index = 0; index < s_pcap_count; index++)
        pcap_close (s_pcaps[index]);
    s_pcap_count = 0;
    proto_sub_destroy (&s_sub);
    proto_pub_destroy (&s_pub);
    test_reap_all ();
    if (getenv ("SJ_KEEP_LOG") && s_log[0])
        sj_netns_run ("cp %s %s.%d", s_log, getenv ("SJ_KEEP_LOG"), (int) getpid ());
    sj_netns_destroy (&s_net);
    test_rundir_destroy (&s_run_dir);
}

TestSuite (synjitsu_netns, .fini = s_teardown, .timeout = 60);

static int
s_keep (int fd)
{
    cr_assert (ge (int, fd, 0), "socket: %s", strerror (errno));
    s_fds[s_fd_count++] = fd;
    return fd;
}

static pcap_t *
s_capture (sj_role_t role, const char *iface, pcap_direction_t direction)
{
    pcap_t *pcap = sj_netns_pcap (s_net, role, iface, direction);
    cr_assert (not (eq (ptr, pcap, NULL)), "cannot capture on %s", iface);
    s_pcaps[s_pcap_count++] = pcap;
    return pcap;
}

//  Bring up the bus and the namespaces, then synjitsu with CONFIG (JSON members added to
//  the test's defaults) unless CONFIG is NULL. Skips without root.
static bool s_wait_msg (proto_msg_type_t type, int timeout_ms, proto_msg_t *msg);

//  Wait until synjitsu (started as S_SYNJITSU_PID) is on the bus both ways. Its subscription
//  reaching our publisher shows it receives (and, opened before, captures); a heartbeat of its
//  own reaching us shows its publisher has our subscriptions: pub/sub drops what a publisher
//  sends before they arrive (the slow-joiner race, PROTOCOL.md), syn.held included.
static void
s_await_synjitsu (void)
{
    cr_assert (eq (int, proto_pub_await (s_pub, "vm.booting", 10000), 0),
               "synjitsu did not subscribe; its log is %s", s_log);
    proto_msg_t msg;
    cr_assert (s_wait_msg (PROTO_MSG_SVC_ALIVE, 10000, &msg), "no heartbeat from synjitsu; log %s",
               s_log);
    proto_msg_reset (&msg);
}

static void
s_start (const char *config)
{
    if (!test_is_root ())
        cr_skip_test ("needs root: network namespaces, a bridge and raw sockets");
    char reason[512] = "";
    s_net = sj_netns_new (reason, sizeof reason);
    if (!s_net)
        cr_skip_test ("cannot create network namespaces here: %s", reason);
    s_run_dir = test_rundir_new ();
    cr_assert (not (eq (ptr, s_run_dir, NULL)));
    char path[300];
    snprintf (path, sizeof path, "%s/bus.log", s_run_dir);
    char *bus_argv[] = {S_BUS, NULL};
    s_bus_pid = test_spawn (bus_argv, path, path);
    snprintf (path, sizeof path, "%s/bus-in", s_run_dir);
    cr_assert (test_wait_path (path, 5000), "bus did not bind");

    proto_endpoints_t endpoints;
    proto_endpoints_defaults (&endpoints);
    s_pub = proto_pub_new (endpoints.bus_in, "test", "netns");
    s_sub = proto_sub_new (endpoints.bus_out);
    cr_assert (not (eq (ptr, s_pub, NULL)));
    cr_assert (not (eq (ptr, s_sub, NULL)));
    proto_sub_subscribe (s_sub, "syn.");
    proto_sub_subscribe (s_sub, "guest.");
    proto_sub_subscribe (s_sub, "svc.alive");
    if (!config)
        return;

    snprintf (path, sizeof path, "%s/synjitsu.json", s_run_dir);
    FILE *file = fopen (path, "w");
    fprintf (file, "{\"bridge\":\"br0\",\"heartbeat_ms\":100,\"garp_interval_ms\":200%s%s}\n",
             *config ? "," : "", config);
    fclose (file);
    char command[1024];
    snprintf (command, sizeof command, "exec ip netns exec %s %s -v -c %s",
              sj_netns_name (s_net, SJ_BRIDGE), S_SYNJITSU, path);
    snprintf (s_log, sizeof s_log, "%s/synjitsu.log", s_run_dir);
    char *argv[] = {"/bin/sh", "-c", command, NULL};
    s_synjitsu_pid = test_spawn (argv, s_log, s_log);
    s_await_synjitsu ();
}

static void
s_publish (proto_msg_t *msg)
{
    cr_assert (eq (int, proto_pub_send (s_pub, msg), 0));
}

static void
s_publish_booting_masked (const char *service, proto_booting_mask_t mask)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_BOOTING);
    strcpy (msg.vm_booting.service, service);
    strcpy (msg.vm_booting.boot_id, "boot-1");
    strcpy (msg.vm_booting.domain, service);
    strcpy (msg.vm_booting.uuid, "8c9c1f1e-0000-4000-8000-000000000001");
    strcpy (msg.vm_booting.ip, SJ_GUEST_IP);
    strcpy (msg.vm_booting.mac, SJ_GUEST_MAC);
    strcpy (msg.vm_booting.iface, "gport");
    msg.vm_booting.mask = mask;
    s_publish (&msg);
}

static void
s_publish_booting (const char *service)
{
    s_publish_booting_masked (service, PROTO_BOOTING_MASK_UNSET);
}

static void
s_publish_ready (const char *service)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_READY);
    strcpy (msg.vm_ready.service, service);
    strcpy (msg.vm_ready.boot_id, "boot-1");
    strcpy (msg.vm_ready.ip, SJ_GUEST_IP);
    msg.vm_ready.via = PROTO_VIA_EVENT;
    msg.vm_ready.boot_ms = 1;
    s_publish (&msg);
}

//  Receive until a message of TYPE arrives (from synjitsu, for svc.alive), or TIMEOUT_MS.
static bool
s_wait_msg (proto_msg_type_t type, int timeout_ms, proto_msg_t *msg)
{
    zpoller_t *poller = zpoller_new (proto_sub_sock (s_sub), NULL);
    int64_t deadline = zclock_mono () + timeout_ms;
    bool found = false;
    proto_msg_init (msg, PROTO_MSG_UNKNOWN);
    while (!found && zclock_mono () < deadline) {
        if (!zpoller_wait (poller, (int) (deadline - zclock_mono ())))
            continue;
        while (!found && proto_sub_recv (s_sub, msg, NULL) != -1) {
            found = msg->type == type
                    && (type != PROTO_MSG_SVC_ALIVE || streq (msg->svc_alive.name, "synjitsu"));
            if (!found)
                proto_msg_reset (msg);
        }
    }
    zpoller_destroy (&poller);
    return found;
}

static int64_t
s_counter (const proto_msg_t *alive, const char *name)
{
    for (size_t index = 0; index < alive->svc_alive.counter_count; index++)
        if (streq (alive->svc_alive.counters[index].name, name))
            return alive->svc_alive.counters[index].value;
    cr_fail ("svc.alive has no counter %s", name);
    return -1;
}

//  Wait for a heartbeat whose counter NAME equals VALUE; returns the last value seen.
static int64_t
s_wait_counter (const char *name, int64_t value, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms, seen = -1;
    proto_msg_t msg;
    while (seen != value && zclock_mono () < deadline
           && s_wait_msg (PROTO_MSG_SVC_ALIVE, (int) (deadline - zclock_mono ()), &msg)) {
        seen = s_counter (&msg, name);
        proto_msg_reset (&msg);
    }
    return seen;
}

//  Wait until the client sees synjitsu's first ARP Announcement: the booting address is in
//  synjitsu's table and its filter.
static void
s_wait_announced (pcap_t *client, sj_frames_t *keep)
{
    sj_frames_t *frames = keep ? keep : sj_frames_new ();
    bool seen = false;
    for (int waited = 0; !seen && waited < 5000; waited += 10) {
        sj_frames_drain (frames, client);
        for (size_t index = 0; index < frames->count && !seen; index++) {
            synjitsu_frame_t frame;
            seen = synjitsu_frame_parse (&frame, frames->frames[index].data,
                                         frames->frames[index].size) == 0
                   && frame.kind == SYNJITSU_FRAME_ARP
                   && frame.arp_spa.s_addr == frame.arp_tpa.s_addr;
        }
        if (!seen)
            zclock_sleep (10);
    }
    if (!keep)
        sj_frames_destroy (&frames);
    cr_assert (seen, "no ARP Announcement reached the client; synjitsu's log is %s", s_log);
}

//  A listening socket on the guest's address, port 80.
static int
s_guest_listen (void)
{
    int fd = s_keep (sj_netns_socket (s_net, SJ_GUEST, AF_INET, SOCK_STREAM | SOCK_NONBLOCK));
    int on = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons (80)};
    inet_pton (AF_INET, SJ_GUEST_IP, &address.sin_addr);
    cr_assert (eq (int, bind (fd, (struct sockaddr *) &address, sizeof address), 0), "bind: %s",
               strerror (errno));
    cr_assert (eq (int, listen (fd, 16), 0));
    return fd;
}

//  A client socket in ROLE's namespace, connecting (non-blocking) to the guest, port 80.
static int
s_connect_from (sj_role_t role)
{
    int fd = s_keep (sj_netns_socket (s_net, role, AF_INET, SOCK_STREAM | SOCK_NONBLOCK));
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons (80)};
    inet_pton (AF_INET, SJ_GUEST_IP, &address.sin_addr);
    int rc = connect (fd, (struct sockaddr *) &address, sizeof address);
    cr_assert (eq (int, rc, -1));
    cr_assert (eq (int, errno, EINPROGRESS));
    return fd;
}

//  A client socket in the client namespace, connecting to the guest.
static int
s_client_connect (void)
{
    return s_connect_from (SJ_CLIENT);
}

//  Wait until the connect on FD finishes; returns its SO_ERROR (0 = connected), or -1 when it
//  is still in progress after TIMEOUT_MS.
static int
s_client_wait (int fd, int timeout_ms)
{
    struct pollfd item = {fd, POLLOUT, 0};
    int rc;
    while ((rc = poll (&item, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    if (rc == 0)
        return -1;
    int error = 0;
    socklen_t size = sizeof error;
    getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &size);
    return error;
}

//  The client socket's SYN retransmits so far: TCP_INFO tcpi_total_retrans.
static unsigned
s_retransmits (int fd)
{
    struct tcp_info info;
    socklen_t size = sizeof info;
    memset (&info, 0, sizeof info);
    cr_assert (eq (int, getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &size), 0));
    return info.tcpi_total_retrans;
}

//  Wait until the guest has a connection to accept; returns its fd or -1.
static int
s_guest_accept (int listener, int timeout_ms)
{
    struct pollfd item = {listener, POLLIN, 0};
    if (poll (&item, 1, timeout_ms) != 1)
        return -1;
    int fd = accept (listener, NULL, NULL);
    return fd < 0 ? -1 : s_keep (fd);
}

static int
s_stop_synjitsu (void)
{
    int status = test_stop (s_synjitsu_pid, SIGTERM, 5000);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  The guest comes up and speaks first: a datagram to the client makes its kernel ARP.
static void
s_guest_speaks (void)
{
    cr_assert (eq (int, sj_netns_attach_guest (s_net), 0));
    int udp = s_keep (sj_netns_socket (s_net, SJ_GUEST, AF_INET, SOCK_DGRAM));
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons (9)};
    inet_pton (AF_INET, SJ_CLIENT_IP, &address.sin_addr);
    cr_assert (eq (int, (int) sendto (udp, "up", 2, 0, (struct sockaddr *) &address,
                                      sizeof address), 2));
}

//  "www" starts booting; once synjitsu announces it, the client connects and synjitsu holds
//  its SYN. Returns the client's connecting socket.
static int
s_connect_while_booting (pcap_t *client_side)
{
    s_publish_booting ("www");
    s_wait_announced (client_side, NULL);
    int client = s_client_connect ();
    proto_msg_t msg;
    cr_assert (s_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg));
    proto_msg_reset (&msg);
    return client;
}

//  The guest comes up, then vm.ready: CLIENT's connect completes on the replayed SYN, with no
//  retransmit, and LISTENER gets the connection.
static void
s_guest_up_then_ready_connects (int listener, int client)
{
    cr_assert (eq (int, sj_netns_attach_guest (s_net), 0));
    s_publish_ready ("www");
    cr_assert (eq (int, s_client_wait (client, 5000), 0));
    cr_assert (eq (u32, s_retransmits (client), 0));
    cr_assert (not (eq (int, s_guest_accept (listener, 2000), -1)));
}

Test (synjitsu_netns, guest_within_half_a_second_connects_with_zero_retransmits)
{
    s_start ("");
    pcap_t *client_side = s_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    int listener = s_guest_listen ();
    s_publish_booting ("www");
    s_wait_announced (client_side, NULL);

    int64_t started = zclock_usecs ();
    int client = s_client_connect ();
    proto_msg_t msg;
    cr_assert (s_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg), "no syn.held; log %s", s_log);
    cr_assert (eq (str, msg.syn_held.service, "www"));
    cr_assert (eq (str, msg.syn_held.ip, SJ_GUEST_IP));
    cr_assert (eq (str, msg.syn_held.client, SJ_CLIENT_IP));
    cr_assert (eq (i64, msg.syn_held.dport, 80));
    proto_msg_reset (&msg);

    //  The guest boots for ~0.3 s, then comes up: its port joins the bridge, and vmctl would
    //  say vm.ready.
    zclock_sleep (300);
    cr_assert (eq (int, sj_netns_attach_guest (s_net), 0));
    int64_t ready = zclock_usecs ();
    s_publish_ready ("www");
    cr_assert (eq (int, s_client_wait (client, 5000), 0), "connect failed");
    int64_t connected = zclock_usecs ();
    cr_assert (eq (u32, s_retransmits (client), 0), "the client retransmitted its SYN");
    cr_assert (not (eq (int, s_guest_accept (listener, 2000), -1)), "the guest got nothing");

    cr_assert (s_wait_msg (PROTO_MSG_SYN_REPLAYED, 2000, &msg));
    cr_assert (eq (i64, msg.syn_replayed.count, 1));
    cr_log_info ("figures: guest up %.1f ms after connect(); connect done %.3f ms after "
                 "vm.ready; total %.1f ms; tcpi_total_retrans=0; syn.replayed held_ms=%" PRId64,
                 (ready - started) / 1000.0, (connected - ready) / 1000.0,
                 (connected - started) / 1000.0, msg.syn_replayed.held_ms);
    proto_msg_reset (&msg);
    cr_assert (eq (int, s_stop_synjitsu (), 0), "SIGTERM should be a clean exit");
}

//  What the client put on the wire for its connect: ARP requests for the guest and SYNs.
static void
s_count_client_frames (pcap_t *client_out, int *arp_requests, int *syns)
{
    sj_frames_t *frames = sj_frames_new ();
    sj_frames_drain (frames, client_out);
    *arp_requests = *syns = 0;
    for (size_t index = 0; index < frames->count; index++) {
        synjitsu_frame_t frame;
        if (synjitsu_frame_parse (&frame, frames->frames[index].data,
                                  frames->frames[index].size))
            continue;
        *arp_requests += frame.kind == SYNJITSU_FRAME_ARP
                         && frame.arp_op == SYNJITSU_ARP_REQUEST;
        *syns += synjitsu_frame_is_syn (&frame);
    }
    sj_frames_destroy (&frames);
}

Test (synjitsu_netns, without_synjitsu_the_same_run_waits_for_a_retransmit)
{
    s_start (NULL);
    pcap_t *client_out = s_capture (SJ_CLIENT, "eth0", PCAP_D_OUT);
    int listener = s_guest_listen ();
    int64_t started = zclock_usecs ();
    int client = s_client_connect ();
    zclock_sleep (300);  // the guest appears as fast as in the test with synjitsu
    cr_assert (eq (int, sj_netns_attach_guest (s_net), 0));
    cr_assert (eq (int, s_client_wait (client, 8000), 0), "connect failed");
    int64_t connected = zclock_usecs ();
    unsigned retransmits = s_retransmits (client);
    int arp_requests, syns;
    s_count_client_frames (client_out, &arp_requests, &syns);
    //  Nobody answers ARP before the guest is there, so the client's SYN waits in its
    //  neighbour queue; this kernel does not count a SYN still queued in the host as
    //  retransmitted (tcpi_total_retrans stays 0), but the connect waits for the client's
    //  ARP retransmit all the same. Either retransmit shows the cost.
    cr_assert (ge (int, arp_requests + (int) retransmits, 2),
               "the client retransmitted nothing: arp_requests=%d tcpi_total_retrans=%u",
               arp_requests, retransmits);
    cr_assert (not (eq (int, s_guest_accept (listener, 2000), -1)));
    cr_log_info ("figures: without synjitsu arp_requests=%d syns_on_wire=%d "
                 "tcpi_total_retrans=%u connect took %.1f ms",
                 arp_requests, syns, retransmits, (connected - started) / 1000.0);
}

Test (synjitsu_netns, without_synjitsu_a_client_that_knows_the_mac_retransmits_its_syn)
{
    //  A client whose neighbour entry is already there (it talked to the guest's last boot):
    //  its SYN goes out at once and is lost, so TCP_INFO counts the retransmit.
    s_start (NULL);
    cr_assert (eq (int, sj_netns_run ("ip -n %s neigh replace " SJ_GUEST_IP " lladdr "
                                      SJ_GUEST_MAC " dev eth0 nud permanent",
                                      sj_netns_name (s_net, SJ_CLIENT)), 0));
    int listener = s_guest_listen ();
    int client = s_client_connect ();
    zclock_sleep (300);
    cr_assert (eq (int, sj_netns_attach_guest (s_net), 0));
    cr_assert (eq (int, s_client_wait (client, 8000), 0), "connect failed");
    unsigned retransmits = s_retransmits (client);
    cr_assert (ge (u32, retransmits, 1), "the lost SYN must be retransmitted");
    cr_assert (not (eq (int, s_guest_accept (listener, 2000), -1)));
    cr_log_info ("figures: without synjitsu, MAC known: tcpi_total_retrans=%u", retransmits);
}

Test (synjitsu_netns, a_client_that_knows_the_mac_connects_with_zero_retransmits)
{
    s_start ("");
    cr_assert (eq (int, sj_netns_run ("ip -n %s neigh replace " SJ_GUEST_IP " lladdr "
                                      SJ_GUEST_MAC " dev eth0 nud permanent",
                                      sj_netns_name (s_net, SJ_CLIENT)), 0));
    pcap_t *client_side = s_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    int listener = s_guest_listen ();
    int client = s_connect_while_booting (client_side);
    s_guest_up_then_ready_connects (listener, client);
}

//  A TCP frame of the test's connection seen in a capture.
typedef struct {
    int64_t usec;
    uint8_t flags;
    uint32_t seq;
    uint32_t ack;
    bool checksum_ok;
} s_segment_t;

//  The TCP segments of FRAMES between the client and the guest, port 80.
static int
s_segments (sj_frames_t *frames, s_segment_t *segments, int max)
{
    int count = 0;
    for (size_t index = 0; index < frames->count && count < max; index++) {
        synjitsu_frame_t frame;
        const uint8_t *data = frames->frames[index].data;
        if (synjitsu_frame_parse (&frame, data, frames->frames[index].size)
            || frame.kind != SYNJITSU_FRAME_TCP
            || (frame.tcp_dport != 80 && frame.tcp_sport != 80))
            continue;
        const uint8_t *tcp = data + frame.tcp_offset;
        segments[count].usec = frames->frames[index].usec;
        segments[count].flags = frame.tcp_flags;
        segments[count].seq = frame.tcp_seq;
        segments[count].ack = (uint32_t) tcp[8] << 24 | (uint32_t) tcp[9] << 16
                              | (uint32_t) tcp[10] << 8 | tcp[11];
        segments[count].checksum_ok = synjitsu_frame_checksum_ok (&frame, data);
        count++;
    }
    return count;
}

Test (synjitsu_netns, slow_guest_gets_the_held_syn_replayed_before_the_next_retransmit)
{
    s_start ("");
    pcap_t *client_side = s_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    pcap_t *from_client = s_capture (SJ_BRIDGE, "cport", PCAP_D_IN);  // what the client sent
    int listener = s_guest_listen ();
    s_publish_booting ("www");
    s_wait_announced (client_side, NULL);

    int client = s_client_connect ();
    proto_msg_t msg;
    cr_assert (s_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg));
    proto_msg_reset (&msg);
    //  The guest takes longer than the client's retransmit interval: wait for the first
    //  retransmit, as the client's TCP_INFO reports it, and a little more.
    for (int waited = 0; s_retransmits (client) == 0 && waited < 3000; waited += 10)
        zclock_sleep (10);
    cr_assert (eq (u32, s_retransmits (client), 1));
    zclock_sleep (250);
    cr_assert (eq (int, sj_netns_attach_guest (s_net), 0));
    pcap_t *guest_port = s_capture (SJ_BRIDGE, "gport", PCAP_D_INOUT);  // it is up now
    s_publish_ready ("www");
    cr_assert (eq (int, s_client_wait (client, 5000), 0), "connect failed");
    cr_assert (eq (u32, s_retransmits (client), 1),
               "the handshake waited for a second retransmit instead of the replay");
    cr_assert (not (eq (int, s_guest_accept (listener, 2000), -1)));
    cr_assert (s_wait_msg (PROTO_MSG_SYN_REPLAYED, 2000, &msg));
    cr_assert (eq (i64, msg.syn_replayed.count, 1));
    int64_t held_ms = msg.syn_replayed.held_ms;
    proto_msg_reset (&msg);

    //  The captures: what the guest's port carried, and the SYNs the client sent.
    sj_frames_t *guest_frames = sj_frames_new (), *client_frames = sj_frames_new ();
    sj_frames_drain (guest_frames, guest_port);
    sj_frames_drain (client_frames, from_client);
    s_segment_t guest[32], sent[32];
    int guest_count = s_segments (guest_frames, guest, 32);
    int sent_count = s_segments (client_frames, sent, 32);
    cr_assert (ge (int, guest_count, 2));
    //  The first segment the guest got is the replayed SYN, with good checksums; the next is
    //  its SYN/ACK, acknowledging the client's own initial sequence number.
    cr_assert (eq (u8, guest[0].flags & 0x3f, SYNJITSU_TCP_SYN));
    cr_assert (guest[0].checksum_ok, "the replayed SYN's checksums were not recomputed");
    cr_assert (eq (u8, guest[1].flags & 0x3f, SYNJITSU_TCP_SYN | SYNJITSU_TCP_ACK));
    cr_assert (eq (u32, guest[1].ack, guest[0].seq + 1));
    //  The client sent exactly two SYNs before that SYN/ACK (the original and one
    //  retransmit), both before the replay: the SYN/ACK answers the replay, not a client
    //  retransmit.
    int syns_before = 0;
    int64_t last_client_syn = 0;
    for (int index = 0; index < sent_count; index++)
        if ((sent[index].flags & 0x3f) == SYNJITSU_TCP_SYN && sent[index].usec <= guest[1].usec) {
            syns_before++;
            last_client_syn = sent[index].usec;
            cr_assert (eq (u32, sent[index].seq, guest[0].seq));
        }
    cr_assert (eq (int, syns_before, 2));
    cr_assert (lt (i64, last_client_syn, guest[0].usec));
    cr_log_info ("figures: client SYN retransmit -> replay %.1f ms; replay -> guest SYN/ACK "
                 "%.3f ms; held_ms=%" PRId64 "; tcpi_total_retrans=1 (next client retransmit "
                 "would have come ~%.0f ms after the replay)",
                 (guest[0].usec - last_client_syn) / 1000.0,
                 (guest[1].usec - guest[0].usec) / 1000.0, held_ms,
                 1000.0 - (guest[0].usec - last_client_syn) / 1000.0);
    sj_frames_destroy (&guest_frames);
    sj_frames_destroy (&client_frames);
}

Test (synjitsu_netns, the_bridge_hosts_own_stack_connects_with_zero_retransmits)
{
    //  The host routes clients into the bridge: its own IP stack is the one asking ARP. An
    //  injected reply never reaches it; synjitsu writes its neighbour table instead.
    s_start ("");
    cr_assert (eq (int, sj_netns_run ("ip -n %s addr add 10.77.0.254/24 dev br0",
                                      sj_netns_name (s_net, SJ_BRIDGE)), 0));
    pcap_t *bridge_out = s_capture (SJ_BRIDGE, "br0", PCAP_D_OUT);
    int listener = s_guest_listen ();
    s_publish_booting ("www");
    s_wait_announced (bridge_out, NULL);
    int client = s_connect_from (SJ_BRIDGE);
    proto_msg_t msg;
    cr_assert (s_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg), "no SYN from the host; log %s",
               s_log);
    cr_assert (eq (str, msg.syn_held.client, "10.77.0.254"));
    proto_msg_reset (&msg);
    zclock_sleep (300);
    cr_assert (eq (int, sj_netns_attach_guest (s_net), 0));
    s_publish_ready ("www");
    cr_assert (eq (int, s_client_wait (client, 5000), 0), "connect failed");
    cr_assert (eq (u32, s_retransmits (client), 0));
    cr_assert (not (eq (int, s_guest_accept (listener, 2000), -1)));
    cr_assert (eq (i64, s_wait_counter ("neigh_updates", 1, 3000), 1));
    cr_assert (eq (i64, s_wait_counter ("arp_replies", 0, 3000), 0),
                "the host's request is not answered on the wire");
}

Test (synjitsu_netns, arp_reply_and_announcement_on_the_wire_follow_rfc_826_and_5227)
{
    s_start ("");
    pcap_t *client_side = s_capture (SJ_CLIENT, "eth0", PCAP_D_INOUT);
    sj_frames_t *frames = sj_frames_new ();
    s_publish_booting ("www");
    s_wait_announced (client_side, frames);
    s_client_connect ();
    proto_msg_t msg;
    cr_assert (s_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg), "no SYN: the client got no ARP reply");
    proto_msg_reset (&msg);
    //  All three announcements went out, garp_interval_ms apart.
    cr_assert (eq (i64, s_wait_counter ("garps", 3, 3000), 3));
    sj_frames_drain (frames, client_side);
    uint8_t guest_mac[6], client_mac[6];
    synjitsu_frame_mac_parse (SJ_GUEST_MAC, guest_mac);
    struct in_addr guest_ip, client_ip;
    inet_pton (AF_INET, SJ_GUEST_IP, &guest_ip);
    inet_pton (AF_INET, SJ_CLIENT_IP, &client_ip);
    int requests = 0, replies = 0, announcements = 0;
    bool client_mac_known = false;
    //  Decoded at the offsets of RFC 826's packet format, independently of synjitsu's parser.
    for (size_t index = 0; index < frames->count; index++) {
        const uint8_t *data = frames->frames[index].data;
        if (frames->frames[index].size < 42 || data[12] != 0x08 || data[13] != 0x06)
            continue;
        const uint8_t *arp = data + 14;
        cr_assert (eq (int, memcmp (arp, "\x00\x01\x08\x00\x06\x04", 6), 0),
                   "hrd 1, pro 0x0800, hln 6, pln 4");
        uint16_t op = (uint16_t) (arp[6] << 8 | arp[7]);
        if (op == 1 && memcmp (arp + 14, &client_ip, 4) == 0) {
            requests++;  // the client asking who has the guest's address
            memcpy (client_mac, arp + 8, 6);
            client_mac_known = true;
            cr_assert (eq (int, memcmp (arp + 24, &guest_ip, 4), 0));
        }
        else if (op == 1) {
            announcements++;  // RFC 5227 section 2.3
            cr_assert (eq (int, memcmp (data, "\xff\xff\xff\xff\xff\xff", 6), 0), "broadcast");
            cr_assert (eq (int, memcmp (data + 6, guest_mac, 6), 0));
            cr_assert (eq (int, memcmp (arp + 8, guest_mac, 6), 0), "sha: the guest's MAC");
            cr_assert (eq (int, memcmp (arp + 14, &guest_ip, 4), 0), "spa: the guest's IP");
            cr_assert (eq (int, memcmp (arp + 18, "\0\0\0\0\0\0", 6), 0), "tha: zero");
            cr_assert (eq (int, memcmp (arp + 24, &guest_ip, 4), 0), "tpa: the guest's IP");
        }
        else if (op == 2) {
            replies++;
            cr_assert (client_mac_known, "a reply came before any request");
            cr_assert (eq (int, memcmp (data, client_mac, 6), 0), "unicast to the requester");
            cr_assert (eq (int, memcmp (data + 6, guest_mac, 6), 0));
            cr_assert (eq (int, memcmp (arp + 8, guest_mac, 6), 0), "sha: the guest's MAC");
            cr_assert (eq (int, memcmp (arp + 14, &guest_ip, 4), 0), "spa: the guest's IP");
            cr_assert (eq (int, memcmp (arp + 18, client_mac, 6), 0), "tha: the requester");
            cr_assert (eq (int, memcmp (arp + 24, &client_ip, 4), 0), "tpa: the requester");
            cr_assert (eq (sz, frames->frames[index].size, 60), "padded to 60 bytes");
        }
    }
    cr_assert (ge (int, requests, 1));
    cr_assert (eq (int, replies, requests), "every request was answered once");
    cr_assert (eq (int, announcements, 3));
    //  The client's kernel took the reply: its neighbour entry holds the guest's MAC.
    cr_assert (eq (int, sj_netns_run ("ip -n %s neigh show " SJ_GUEST_IP " | grep -q "
                                      SJ_GUEST_MAC, sj_netns_name (s_net, SJ_CLIENT)), 0));
    sj_frames_destroy (&frames);
}

//  The guest's own first frame, then (when WAIT_READY) vm.ready: when is the SYN replayed?
static void
s_guest_speaks_first (bool wait_ready)
{
    pcap_t *client_side = s_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    int listener = s_guest_listen ();
    int client = s_connect_while_booting (client_side);
    proto_msg_t msg;

    //  No vm.ready yet: the guest speaks first.
    s_guest_speaks ();
    cr_assert (s_wait_msg (PROTO_MSG_GUEST_SEEN, 2000, &msg), "no guest.seen; log %s", s_log);
    cr_assert (eq (str, msg.guest_seen.service, "www"));
    cr_assert (eq (str, msg.guest_seen.ip, SJ_GUEST_IP));
    cr_assert (eq (str, msg.guest_seen.mac, SJ_GUEST_MAC));
    proto_msg_reset (&msg);
    if (wait_ready) {
        //  Its kernel is up, its server may not be: the SYN waits for vm.ready.
        cr_assert (not (s_wait_msg (PROTO_MSG_SYN_REPLAYED, 300, &msg)),
                   "replayed at the guest's first frame");
        s_publish_ready ("www");
    }
    cr_assert (s_wait_msg (PROTO_MSG_SYN_REPLAYED, 2000, &msg));
    cr_assert (eq (i64, msg.syn_replayed.count, 1));
    proto_msg_reset (&msg);
    cr_assert (eq (int, s_client_wait (client, 5000), 0));
    cr_assert (eq (u32, s_retransmits (client), 0));
    cr_assert (not (eq (int, s_guest_accept (listener, 2000), -1)));
}

Test (synjitsu_netns, guest_frames_are_reported_and_the_syn_waits_for_vm_ready)
{
    s_start ("");
    s_guest_speaks_first (true);
}

Test (synjitsu_netns, with_replay_on_guest_seen_the_guests_first_frame_releases_the_syn)
{
    s_start ("\"replay_on_guest_seen\": true");
    s_guest_speaks_first (false);
}

Test (synjitsu_netns, another_mask_is_only_watched_for_the_guests_frames)
{
    //  mask=ready: nobody is told the address before the guest is up, so synjitsu neither
    //  answers ARP for it nor holds SYNs; it still reports the guest's frames (ready: garp).
    s_start ("");
    pcap_t *client_side = s_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    s_publish_booting_masked ("www", PROTO_BOOTING_MASK_READY);
    cr_assert (eq (i64, s_wait_counter ("vms_booting", 1, 3000), 1));
    int client = s_client_connect ();
    proto_msg_t msg;
    cr_assert (not (s_wait_msg (PROTO_MSG_SYN_HELD, 1500, &msg)), "a SYN was held");
    sj_frames_t *frames = sj_frames_new ();
    sj_frames_drain (frames, client_side);
    for (size_t index = 0; index < frames->count; index++) {
        synjitsu_frame_t frame;
        bool arp = synjitsu_frame_parse (&frame, frames->frames[index].data,
                                         frames->frames[index].size) == 0
                   && frame.kind == SYNJITSU_FRAME_ARP;
        cr_assert (not (arp), "the client got an ARP frame while nothing was up");
    }
    sj_frames_destroy (&frames);
    s_guest_speaks ();
    cr_assert (s_wait_msg (PROTO_MSG_GUEST_SEEN, 2000, &msg), "no guest.seen; log %s", s_log);
    cr_assert (eq (str, msg.guest_seen.service, "www"));
    proto_msg_reset (&msg);
    close (client);
}

Test (synjitsu_netns, per_address_cap_drops_the_oldest_syns)
{
    s_start ("\"max_syns_per_ip\":2");
    pcap_t *client_side = s_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    int listener = s_guest_listen ();
    s_publish_booting ("www");
    s_wait_announced (client_side, NULL);
    int clients[4];
    proto_msg_t msg;
    for (int index = 0; index < 4; index++) {
        clients[index] = s_client_connect ();
        cr_assert (s_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg), "connection %d", index);
        proto_msg_reset (&msg);
    }
    cr_assert (eq (int, sj_netns_attach_guest (s_net), 0));
    s_publish_ready ("www");
    cr_assert (s_wait_msg (PROTO_MSG_SYN_REPLAYED, 2000, &msg));
    cr_assert (eq (i64, msg.syn_replayed.count, 2), "only the cap's worth is replayed");
    proto_msg_reset (&msg);
    //  The two newest connect at once; the two oldest were dropped and wait for their
    //  client's retransmit.
    for (int index = 2; index < 4; index++) {
        cr_assert (eq (int, s_client_wait (clients[index], 5000), 0));
        cr_assert (eq (u32, s_retransmits (clients[index]), 0), "connection %d", index);
    }
    for (int index = 0; index < 2; index++) {
        cr_assert (eq (int, s_client_wait (clients[index], 5000), 0));
        cr_assert (ge (u32, s_retransmits (clients[index]), 1), "connection %d", index);
    }
    cr_assert (eq (i64, s_wait_counter ("syns_evicted", 2, 3000), 2));
    for (int index = 0; index < 4; index++)
        cr_assert (not (eq (int, s_guest_accept (listener, 2000), -1)));
}

Test (synjitsu_netns, syn_older_than_max_hold_is_dropped_not_replayed)
{
    s_start ("\"max_hold_ms\":200");
    pcap_t *client_side = s_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    int listener = s_guest_listen ();
    int client = s_connect_while_booting (client_side);
    proto_msg_t msg;
    cr_assert (eq (i64, s_wait_counter ("syns_expired", 1, 3000), 1));
    cr_assert (eq (u32, s_retransmits (client), 0), "expired before the client's retransmit");
    cr_assert (eq (int, sj_netns_attach_guest (s_net), 0));
    s_publish_ready ("www");
    cr_assert (s_wait_msg (PROTO_MSG_SYN_REPLAYED, 2000, &msg));
    cr_assert (eq (i64, msg.syn_replayed.count, 0), "the expired SYN must not be replayed");
    proto_msg_reset (&msg);
    cr_assert (eq (int, s_client_wait (client, 5000), 0));
    cr_assert (eq (u32, s_retransmits (client), 1), "the client's own retransmit connected");
    cr_assert (not (eq (int, s_guest_accept (listener, 2000), -1)));
}

Test (synjitsu_netns, stopped_and_failed_forget_the_address)
{
    s_start ("");
    pcap_t *client_side = s_capture (SJ_CLIENT, "eth0", PCAP_D_INOUT);
    s_publish_booting ("www");
    cr_assert (eq (i64, s_wait_counter ("vms_booting", 1, 3000), 1));
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_STOPPED);
    strcpy (msg.vm_stop.service, "www");
    msg.vm_stop.reason = PROTO_REASON_ADMIN;
    s_publish (&msg);
    cr_assert (eq (i64, s_wait_counter ("vms_booting", 0, 3000), 0));
    s_publish_booting ("db");
    cr_assert (eq (i64, s_wait_counter ("vms_booting", 1, 3000), 1));
    proto_msg_init (&msg, PROTO_MSG_VM_FAILED);
    strcpy (msg.vm_failed.service, "db");
    strcpy (msg.vm_failed.boot_id, "boot-1");
    strcpy (msg.vm_failed.error, "capacity");
    s_publish (&msg);
    cr_assert (eq (i64, s_wait_counter ("vms_booting", 0, 3000), 0));

    //  Forgotten: the client's ARP requests go unanswered and no SYN is held.
    sj_frames_t *frames = sj_frames_new ();
    sj_frames_drain (frames, client_side);  // the announcements sent before
    sj_frames_destroy (&frames);
    s_client_connect ();
    zclock_sleep (400);
    frames = sj_frames_new ();
    sj_frames_drain (frames, client_side);
    int requests = 0, replies = 0;
    for (size_t index = 0; index < frames->count; index++) {
        synjitsu_frame_t frame;
        if (synjitsu_frame_parse (&frame, frames->frames[index].data,
                                  frames->frames[index].size) == 0
            && frame.kind == SYNJITSU_FRAME_ARP) {
            requests += frame.arp_op == SYNJITSU_ARP_REQUEST;
            replies += frame.arp_op == SYNJITSU_ARP_REPLY;
        }
    }
    sj_frames_destroy (&frames);
    cr_assert (ge (int, requests, 1));
    cr_assert (eq (int, replies, 0));
    cr_assert (eq (i64, s_wait_counter ("syns_held", 0, 3000), 0));
    cr_assert (eq (i64, s_wait_counter ("arp_replies", 0, 3000), 0));
}

Test (synjitsu_netns, malformed_frames_on_the_bridge_are_dropped_counted_and_survived)
{
    s_start ("");
    pcap_t *client_side = s_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    s_publish_booting ("www");  // the filter now lets frames about 10.77.0.2 through
    s_wait_announced (client_side, NULL);
    //  Every malformed golden frame, sent raw from the client's namespace. (Not valid.pcap:
    //  its announcement from the guest's MAC and IP would rightly count as the guest up.)
    int raw = s_keep (sj_netns_socket (s_net, SJ_CLIENT, AF_PACKET, SOCK_RAW));
    struct ifreq request = {0};
    strcpy (request.ifr_name, "eth0");
    cr_assert (eq (int, ioctl (raw, SIOCGIFINDEX, &request), 0));
    struct sockaddr_ll link = {.sll_family = AF_PACKET, .sll_ifindex = request.ifr_ifindex,
                               .sll_halen = 6};
    sj_frames_t *frames = sj_frames_read (TEST_DATA_DIR "/malformed.pcap");
    cr_assert (not (eq (ptr, frames, NULL)));
    for (size_t index = 0; index < frames->count; index++)
        sendto (raw, frames->frames[index].data, frames->frames[index].size, 0,
                (struct sockaddr *) &link, sizeof link);
    sj_frames_destroy (&frames);
    //  Those the kernel filter let through and the parser refused are counted; the process
    //  lives on and still holds a real client's SYN.
    proto_msg_t msg;
    int64_t malformed = 0;
    for (int tries = 0; malformed == 0 && tries < 30; tries++) {
        cr_assert (s_wait_msg (PROTO_MSG_SVC_ALIVE, 2000, &msg), "no heartbeat; log %s", s_log);
        malformed = s_counter (&msg, "frames_malformed");
        proto_msg_reset (&msg);
    }
    cr_assert (ge (i64, malformed, 1));
    cr_assert (eq (int, waitpid (s_synjitsu_pid, NULL, WNOHANG), 0), "synjitsu died");
    int client = s_client_connect ();
    cr_assert (s_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg), "no syn.held after the garbage");
    proto_msg_reset (&msg);
    cr_log_info ("figures: %" PRId64 " of 15 malformed frames passed the kernel filter and "
                 "were dropped by the parser", malformed);
    (void) client;
}

Test (synjitsu_netns, runs_unprivileged_with_cap_net_raw_only)
{
    s_start (NULL);
    //  A copy of the binary with the file capability, run as nobody: the way README.md tells
    //  operators to run it instead of as root.
    char binary[300], config[300], command[1400];
    snprintf (binary, sizeof binary, "%s/synjitsu", s_run_dir);
    snprintf (config, sizeof config, "%s/synjitsu.json", s_run_dir);
    cr_assert (eq (int, sj_netns_run ("cp %s %s && setcap cap_net_raw+ep %s", S_SYNJITSU, binary,
                                      binary), 0), "setcap failed");
    FILE *file = fopen (config, "w");
    fprintf (file, "{\"bridge\":\"br0\",\"heartbeat_ms\":100,\"garp_interval_ms\":200}\n");
    fclose (file);
    //  The bus's sockets are for the owner and the jitsu group: let nobody's group in.
    chmod (s_run_dir, 0755);
    cr_assert (eq (int, sj_netns_run ("chgrp nogroup %s/bus-in %s/bus-out", s_run_dir,
                                      s_run_dir), 0));
    snprintf (command, sizeof command,
              "exec ip netns exec %s setpriv --reuid=nobody --regid=nogroup --clear-groups "
              "--inh-caps=-all %s -v -c %s",
              sj_netns_name (s_net, SJ_BRIDGE), binary, config);
    snprintf (s_log, sizeof s_log, "%s/synjitsu.log", s_run_dir);
    char *argv[] = {"/bin/sh", "-c", command, NULL};
    s_synjitsu_pid = test_spawn (argv, s_log, s_log);
    s_await_synjitsu ();

    pcap_t *client_side = s_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    int listener = s_guest_listen ();
    int client = s_connect_while_booting (client_side);
    s_guest_up_then_ready_connects (listener, client);
    cr_assert (eq (int, sj_netns_run ("awk '/^Uid:/ {exit !($2 == 65534)}' /proc/%d/status",
                                      (int) s_synjitsu_pid), 0),
               "synjitsu was not running as nobody");
    cr_assert (eq (int, s_stop_synjitsu (), 0));
}

Test (synjitsu_netns, check_config_and_help)
{
    char path[] = "/tmp/jt-synjitsu-check-XXXXXX";
    int fd = mkstemp (path);
    cr_assert (ge (int, fd, 0));
    cr_assert (eq (int, (int) write (fd, "{\"max_hold_ms\":0}", 17), 17));
    close (fd);
    char *bad[] = {S_SYNJITSU, "--check-config", "-c", path, NULL};
    int status = 0;
    waitpid (test_spawn (bad, "/dev/null", "/dev/null"), &status, 0);
    cr_assert (eq (int, WEXITSTATUS (status), 1));
    fd = open (path, O_WRONLY | O_TRUNC);
    cr_assert (eq (int, (int) write (fd, "{\"bridge\":\"sjt-missing0\"}", 25), 25));
    close (fd);
    char *good[] = {S_SYNJITSU, "--check-config", "-c", path, NULL};
    waitpid (test_spawn (good, "/dev/null", "/dev/null"), &status, 0);
    cr_assert (eq (int, WEXITSTATUS (status), 0));
    char *help[] = {S_SYNJITSU, "--help", NULL};
    waitpid (test_spawn (help, "/dev/null", NULL), &status, 0);
    cr_assert (eq (int, WEXITSTATUS (status), 0));
    //  A bridge that does not exist stops start-up with an error, not a crash.
    char *missing[] = {S_SYNJITSU, "-c", path, NULL};
    waitpid (test_spawn (missing, "/dev/null", "/dev/null"), &status, 0);
    bool exited = WIFEXITED (status);
    cr_assert (exited, "synjitsu crashed on a missing bridge");
    cr_assert (eq (int, WEXITSTATUS (status), 1));
    unlink (path);
}
