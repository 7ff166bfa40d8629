/*  sj_harness: the synjitsu_netns suite's fixture: bus, namespaces, synjitsu, and the test
    as vmctl.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/wait.h>

#include "sj_harness.h"
#include "synjitsu_frame.h"
#include "test_support.h"

#define S_BUS JITSU_BUILD_DIR "/bus/jitsu-bus"

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

int
sj_harness_keep (int fd)
{
    cr_assert (ge (int, fd, 0), "socket: %s", strerror (errno));
    s_fds[s_fd_count++] = fd;
    return fd;
}

pcap_t *
sj_harness_capture (sj_role_t role, const char *iface, pcap_direction_t direction)
{
    pcap_t *pcap = sj_netns_pcap (s_net, role, iface, direction);
    cr_assert (not (eq (ptr, pcap, NULL)), "cannot capture on %s", iface);
    s_pcaps[s_pcap_count++] = pcap;
    return pcap;
}

//  Wait until synjitsu (started as s_synjitsu_pid) is on the bus both ways. Its subscription
//  reaching our publisher shows it receives (and, opened before, captures); a heartbeat of its
//  own reaching us shows its publisher has our subscriptions: pub/sub drops what a publisher
//  sends before they arrive (the slow-joiner race, PROTOCOL.md), syn.held included.
static void
s_await_synjitsu (void)
{
    cr_assert (eq (int, proto_pub_await (s_pub, "vm.booting", 10000), 0),
               "synjitsu did not subscribe; its log is %s", s_log);
    proto_msg_t msg;
    cr_assert (sj_harness_wait_msg (PROTO_MSG_SVC_ALIVE, 10000, &msg),
               "no heartbeat from synjitsu; log %s", s_log);
    proto_msg_reset (&msg);
}

void
sj_harness_spawn_synjitsu (const char *command)
{
    snprintf (s_log, sizeof s_log, "%s/synjitsu.log", s_run_dir);
    char *argv[] = {"/bin/sh", "-c", (char *) command, NULL};
    s_synjitsu_pid = test_spawn (argv, s_log, s_log);
    s_await_synjitsu ();
}

void
sj_harness_start (const char *config)
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
    test_write_file (path,
                     "{\"bridge\":\"br0\",\"heartbeat_ms\":100,\"garp_interval_ms\":200%s%s}\n",
                     *config ? "," : "", config);
    char command[1024];
    snprintf (command, sizeof command, "exec ip netns exec %s %s -v -c %s",
              sj_netns_name (s_net, SJ_BRIDGE), SJ_SYNJITSU_BINARY, path);
    sj_harness_spawn_synjitsu (command);
}

sj_netns_t *
sj_harness_net (void)
{
    return s_net;
}

const char *
sj_harness_run_dir (void)
{
    return s_run_dir;
}

const char *
sj_harness_log (void)
{
    return s_log;
}

pid_t
sj_harness_synjitsu_pid (void)
{
    return s_synjitsu_pid;
}

void
sj_harness_publish (proto_msg_t *msg)
{
    cr_assert (eq (int, proto_pub_send (s_pub, msg), 0));
}

void
sj_harness_publish_booting_masked (const char *service, proto_booting_mask_t mask)
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
    sj_harness_publish (&msg);
}

void
sj_harness_publish_booting (const char *service)
{
    sj_harness_publish_booting_masked (service, PROTO_BOOTING_MASK_UNSET);
}

void
sj_harness_publish_ready (const char *service)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_READY);
    strcpy (msg.vm_ready.service, service);
    strcpy (msg.vm_ready.boot_id, "boot-1");
    strcpy (msg.vm_ready.ip, SJ_GUEST_IP);
    msg.vm_ready.via = PROTO_VIA_EVENT;
    msg.vm_ready.boot_ms = 1;
    sj_harness_publish (&msg);
}

bool
sj_harness_wait_msg (proto_msg_type_t type, int timeout_ms, proto_msg_t *msg)
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

int64_t
sj_harness_counter (const proto_msg_t *alive, const char *name)
{
    int64_t value = proto_alive_counter (&alive->svc_alive, name, INT64_MIN);
    if (value == INT64_MIN)
        cr_fail ("svc.alive has no counter %s", name);
    return value;
}

int64_t
sj_harness_wait_counter (const char *name, int64_t value, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms, seen = -1;
    proto_msg_t msg;
    while (seen != value && zclock_mono () < deadline
           && sj_harness_wait_msg (PROTO_MSG_SVC_ALIVE, (int) (deadline - zclock_mono ()),
                                   &msg)) {
        seen = sj_harness_counter (&msg, name);
        proto_msg_reset (&msg);
    }
    return seen;
}

void
sj_harness_wait_announced (pcap_t *client, sj_frames_t *keep)
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

int
sj_harness_guest_listen (void)
{
    int fd = sj_harness_keep (
        sj_netns_socket (s_net, SJ_GUEST, AF_INET, SOCK_STREAM | SOCK_NONBLOCK));
    int on = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons (80)};
    inet_pton (AF_INET, SJ_GUEST_IP, &address.sin_addr);
    cr_assert (eq (int, bind (fd, (struct sockaddr *) &address, sizeof address), 0), "bind: %s",
               strerror (errno));
    cr_assert (eq (int, listen (fd, 16), 0));
    return fd;
}

int
sj_harness_connect_from (sj_role_t role)
{
    int fd = sj_harness_keep (
        sj_netns_socket (s_net, role, AF_INET, SOCK_STREAM | SOCK_NONBLOCK));
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons (80)};
    inet_pton (AF_INET, SJ_GUEST_IP, &address.sin_addr);
    int rc = connect (fd, (struct sockaddr *) &address, sizeof address);
    cr_assert (eq (int, rc, -1));
    cr_assert (eq (int, errno, EINPROGRESS));
    return fd;
}

int
sj_harness_client_connect (void)
{
    return sj_harness_connect_from (SJ_CLIENT);
}

int
sj_harness_client_wait (int fd, int timeout_ms)
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

unsigned
sj_harness_retransmits (int fd)
{
    struct tcp_info info;
    socklen_t size = sizeof info;
    memset (&info, 0, sizeof info);
    cr_assert (eq (int, getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &size), 0));
    return info.tcpi_total_retrans;
}

int
sj_harness_guest_accept (int listener, int timeout_ms)
{
    struct pollfd item = {listener, POLLIN, 0};
    if (poll (&item, 1, timeout_ms) != 1)
        return -1;
    int fd = accept (listener, NULL, NULL);
    return fd < 0 ? -1 : sj_harness_keep (fd);
}

int
sj_harness_stop_synjitsu (void)
{
    int status = test_stop (s_synjitsu_pid, SIGTERM, 5000);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

void
sj_harness_announce_booting (pcap_t *capture)
{
    sj_harness_publish_booting ("www");
    sj_harness_wait_announced (capture, NULL);
}

int
sj_harness_connect_while_booting (pcap_t *client_side)
{
    sj_harness_announce_booting (client_side);
    int client = sj_harness_client_connect ();
    proto_msg_t msg;
    cr_assert (sj_harness_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg));
    proto_msg_reset (&msg);
    return client;
}

void
sj_harness_guest_up_then_ready_connects (int listener, int client)
{
    cr_assert (eq (int, sj_netns_attach_guest (s_net), 0));
    sj_harness_publish_ready ("www");
    cr_assert (eq (int, sj_harness_client_wait (client, 5000), 0));
    cr_assert (eq (u32, sj_harness_retransmits (client), 0));
    cr_assert (not (eq (int, sj_harness_guest_accept (listener, 2000), -1)));
}
