/*  Integration: what a real dnsd does with queries for a service that is not ready, seen from
    raw sockets: a resolver's every try (new ids, new ports, UDP and TCP) is held and answered
    when the boot ends, the latest try first (the order the kernel received the answers in);
    hold_max_ms releases them with the boot TTL; a draining VM is answered with the drain's
    TTL without a boot; a paused VM is summoned.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>

#include "dnsd_fixture.h"
#include "test_support.h"

#define S_TRIES 4  // UDP tries of one "resolver"

static int s_port;

//  An answer as the client received it.
typedef struct {
    uint16_t id;
    uint32_t ttl;      // of the first answer record
    int64_t stamp_ns;  // the kernel's receive time (UDP)
} s_answer_t;

static void
s_start (const char *words, bool running)
{
    df_service ("www", words, running);
    s_port = df_start_dnsd ("1", 0, NULL);
    cr_assert (gt (int, s_port, 0), "dnsd did not start: see %s/dnsd-1.log", df_run_dir);
    cr_assert (ge (i64, df_counter ("1", "queries"), 0));
}

//  A query for www.example.org A with ID, in WIRE (512 bytes). Returns its length.
static size_t
s_query (uint8_t *wire, uint16_t id)
{
    ldns_pkt *packet = NULL;
    cr_assert (eq (int,
                   ldns_pkt_query_new_frm_str (&packet, "www.example.org.", LDNS_RR_TYPE_A,
                                               LDNS_RR_CLASS_IN, 0),
                   LDNS_STATUS_OK));
    ldns_pkt_set_id (packet, id);
    uint8_t *data = NULL;
    size_t size = 0;
    cr_assert (eq (int, ldns_pkt2wire (&data, packet, &size), LDNS_STATUS_OK));
    memcpy (wire, data, size);
    free (data);
    ldns_pkt_free (packet);
    return size;
}

static struct sockaddr_in
s_dnsd (void)
{
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) s_port)};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    return address;
}

//  Send the query with ID from a new UDP socket (a new source port, as a resolver's retry).
//  Returns the socket, which records when the kernel receives each datagram.
static int
s_udp_try (uint16_t id)
{
    int fd = socket (AF_INET, SOCK_DGRAM, 0);
    cr_assert (ge (int, fd, 0));
    int on = 1;
    cr_assert (eq (int, setsockopt (fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on), 0));
    uint8_t wire[512];
    size_t size = s_query (wire, id);
    struct sockaddr_in address = s_dnsd ();
    cr_assert (
        eq (sz, (size_t) sendto (fd, wire, size, 0, (struct sockaddr *) &address, sizeof address),
            size));
    return fd;
}

//  Send the query with ID over a new TCP connection. Returns the connection.
static int
s_tcp_try (uint16_t id)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = s_dnsd ();
    cr_assert (eq (int, connect (fd, (struct sockaddr *) &address, sizeof address), 0));
    uint8_t wire[514];
    size_t size = s_query (wire + 2, id);
    wire[0] = (uint8_t) (size >> 8);
    wire[1] = (uint8_t) size;
    cr_assert (eq (sz, (size_t) write (fd, wire, size + 2), size + 2));
    return fd;
}

//  Parse the SIZE bytes of an answer into ANSWER.
static void
s_parse (const uint8_t *data, size_t size, s_answer_t *answer)
{
    ldns_pkt *packet = NULL;
    cr_assert (eq (int, ldns_wire2pkt (&packet, data, size), LDNS_STATUS_OK));
    answer->id = ldns_pkt_id (packet);
    cr_assert (eq (int, ldns_pkt_get_rcode (packet), LDNS_RCODE_NOERROR));
    cr_assert (eq (u16, ldns_pkt_ancount (packet), 1), "the address");
    answer->ttl = ldns_rr_ttl (ldns_rr_list_rr (ldns_pkt_answer (packet), 0));
    ldns_pkt_free (packet);
}

//  Wait up to TIMEOUT_MS for FD to be readable.
static void
s_wait_readable (int fd, int timeout_ms)
{
    struct pollfd item = {fd, POLLIN, 0};
    cr_assert (eq (int, poll (&item, 1, timeout_ms), 1), "no answer within %d ms", timeout_ms);
}

//  The answer on UDP socket FD, with its receive time.
static s_answer_t
s_udp_answer (int fd)
{
    s_wait_readable (fd, 10000);
    uint8_t data[1500], control[256];
    struct iovec iov = {data, sizeof data};
    struct msghdr header = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t size = recvmsg (fd, &header, 0);
    cr_assert (gt (i64, (int64_t) size, 0));
    s_answer_t answer = {0};
    s_parse (data, (size_t) size, &answer);
    for (struct cmsghdr *item = CMSG_FIRSTHDR (&header); item; item = CMSG_NXTHDR (&header, item))
        if (item->cmsg_level == SOL_SOCKET && item->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec stamp;
            memcpy (&stamp, CMSG_DATA (item), sizeof stamp);
            answer.stamp_ns = (int64_t) stamp.tv_sec * 1000000000 + stamp.tv_nsec;
        }
    cr_assert (gt (i64, answer.stamp_ns, 0), "the kernel's receive time");
    return answer;
}

//  The answer on TCP connection FD.
static s_answer_t
s_tcp_answer (int fd)
{
    uint8_t data[1500];
    size_t got = 0;
    while (got < 2 || got < 2 + (size_t) (data[0] << 8 | data[1])) {
        s_wait_readable (fd, 10000);
        ssize_t size = read (fd, data + got, sizeof data - got);
        cr_assert (gt (i64, (int64_t) size, 0), "the connection closed");
        got += (size_t) size;
    }
    s_answer_t answer = {0};
    s_parse (data + 2, got - 2, &answer);
    return answer;
}

static void
s_booting_then (const char *topic)
{
    df_publish ("vm.booting", "{\"service\":\"www\",\"boot_id\":\"b1\",\"domain\":\"www\","
                              "\"uuid\":\"6f8d0c8e-0000-4000-8000-000000000001\","
                              "\"ip\":\"10.0.0.60\"}");
    if (topic)
        df_publish (topic, "{\"service\":\"www\",\"boot_id\":\"b1\",\"ip\":\"10.0.0.60\","
                           "\"via\":\"probe\",\"boot_ms\":2400}");
}

TestSuite (dnsd_hold, .init = df_setup, .fini = df_teardown, .timeout = 120);

Test (dnsd_hold, every_try_is_held_and_answered_at_vm_ready_the_latest_first)
{
    s_start ("dns=www.example.org,ip=10.0.0.60,domain=www,ttl=300,boot_ttl=5,hold_max_ms=60000",
             false);
    //  Tries as Unbound and Knot Resolver send them: UDP with a new id and port each time, one
    //  over TCP among them. Each held before the next is sent, so their order is known.
    int udp[S_TRIES], tcp = -1, held = 0;
    for (int index = 0; index < S_TRIES; index++) {
        udp[index] = s_udp_try ((uint16_t) (100 + index));
        cr_assert (df_wait_equal ("1", "waiting", ++held, 10000), "try %d held", index);
        if (index == 1) {
            tcp = s_tcp_try (200);
            cr_assert (df_wait_equal ("1", "waiting", ++held, 10000), "the TCP try held");
        }
    }
    cr_assert (eq (int, df_boots ("www", 200), 1), "one boot for all of them");
    s_booting_then ("vm.ready");
    s_answer_t answers[S_TRIES];
    for (int index = 0; index < S_TRIES; index++) {
        answers[index] = s_udp_answer (udp[index]);
        cr_assert (eq (u16, answers[index].id, 100 + index), "each try its own id");
        cr_assert (eq (u32, answers[index].ttl, 300), "ready: the full TTL");
        close (udp[index]);
    }
    for (int index = 1; index < S_TRIES; index++)
        cr_assert (lt (i64, answers[index].stamp_ns, answers[index - 1].stamp_ns),
                   "try %d not answered before try %d", index, index - 1);
    s_answer_t answer = s_tcp_answer (tcp);
    close (tcp);
    cr_assert (eq (u16, answer.id, 200));
    cr_assert (eq (u32, answer.ttl, 300));
    cr_assert (df_wait_counter ("1", "released", S_TRIES + 1, 5000));
    cr_assert (eq (i64, df_counter ("1", "answers_released_at_cap"), 0));
}

Test (dnsd_hold, hold_max_ms_releases_every_try_with_the_boot_ttl)
{
    s_start ("dns=www.example.org,ip=10.0.0.60,domain=www,ttl=300,boot_ttl=7,hold_max_ms=1500",
             false);
    int udp[S_TRIES];
    for (int index = 0; index < S_TRIES; index++)
        udp[index] = s_udp_try ((uint16_t) (100 + index));
    s_answer_t answers[S_TRIES];
    for (int index = 0; index < S_TRIES; index++) {
        answers[index] = s_udp_answer (udp[index]);
        cr_assert (eq (u32, answers[index].ttl, 7), "not ready: the boot TTL");
        close (udp[index]);
    }
    for (int index = 1; index < S_TRIES; index++)
        cr_assert (lt (i64, answers[index].stamp_ns, answers[index - 1].stamp_ns),
                   "the latest first at the cap too");
    cr_assert (df_wait_counter ("1", "answers_released_at_cap", S_TRIES, 5000));
    //  The boot goes on (ready_timeout_ms is 10 s): a new query is answered at once.
    int late = s_udp_try (300);
    cr_assert (eq (u32, s_udp_answer (late).ttl, 7));
    close (late);
    cr_assert (df_wait_counter ("1", "answers_past_cap", 1, 5000));
    cr_assert (eq (int, df_boots ("www", 0), 1));
    s_booting_then ("vm.ready");
    cr_assert (df_wait_counter ("1", "bus_received", 2, 5000));
    int ready = s_udp_try (301);
    cr_assert (eq (u32, s_udp_answer (ready).ttl, 300), "back to the full TTL");
    close (ready);
}

Test (dnsd_hold, a_draining_vm_is_answered_with_the_drain_ttl_and_not_booted)
{
    s_start ("dns=www.example.org,ip=10.0.0.60,domain=www,ttl=300,drain_ttl=6", true);
    int fd = s_udp_try (1);
    cr_assert (eq (u32, s_udp_answer (fd).ttl, 300));
    close (fd);
    char body[256];
    snprintf (body, sizeof body,
              "{\"service\":\"www\",\"boot_id\":\"b1\",\"mode\":\"save\",\"ttl\":4,"
              "\"until_ts\":%" PRId64 "}",
              zclock_time () + 300000);
    df_publish ("vm.draining", body);
    cr_assert (df_wait_counter ("1", "bus_received", 1, 5000));
    fd = s_udp_try (2);
    cr_assert (eq (u32, s_udp_answer (fd).ttl, 4), "vm.draining's TTL");
    close (fd);
    cr_assert (eq (i64, df_counter ("1", "held"), 0), "it still runs: nothing held");
    cr_assert (eq (int, df_boots ("www", 300), 0), "nor booted");
    int64_t count = 0;
    for (int waited = 0; waited < 5000 && count < 2; waited += 100) {
        df_boots ("www", 100);
        df_hits ("www", &count);
    }
    cr_assert (eq (i64, count, 2), "the query in the drain is reported (it cancels the drain)");
    //  vmctl keeps the VM: the full TTL again.
    df_publish ("vm.ready", "{\"service\":\"www\",\"boot_id\":\"b1\",\"ip\":\"10.0.0.60\","
                            "\"via\":\"running\",\"boot_ms\":0}");
    cr_assert (df_wait_counter ("1", "bus_received", 2, 5000));
    fd = s_udp_try (3);
    cr_assert (eq (u32, s_udp_answer (fd).ttl, 300));
    close (fd);
}

Test (dnsd_hold, a_paused_vm_is_summoned_like_an_off_one)
{
    s_start ("dns=www.example.org,ip=10.0.0.60,domain=www,ttl=300,boot_ttl=5,mask=none", true);
    char value[128];
    snprintf (value, sizeof value, "{\"state\":\"paused\",\"since\":%" PRId64 "}", zclock_time ());
    cr_assert (eq (int, df_jitsuctl ("state", "put", "/services/www/status", value, NULL), 0));
    cr_assert (df_wait_counter ("1", "replica_rev", 3, 5000));
    int fd = s_udp_try (1);
    cr_assert (eq (u32, s_udp_answer (fd).ttl, 5), "not running: the boot TTL");
    close (fd);
    cr_assert (eq (int, df_boots ("www", 500), 1), "paused: vm.boot wakes it");
}
