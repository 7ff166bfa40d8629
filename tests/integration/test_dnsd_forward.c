/*  Integration: names outside dnsd's zones forwarded to a real NSD started by the test on a
    loopback port: answers relayed with the client's id, large answers truncated to the
    client and fetched again over TCP, retries and SERVFAIL when an upstream stays silent;
    recursion only for recursion_from, with RA. Then, against a small upstream the test runs
    itself (to see the wire): a port and an id per forwarded query, the client's EDNS options
    kept on its own hop, truncated relays with dnsd's OPT, forged replies dropped.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>

#include "dnsd_fixture.h"
#include "test_support.h"

static int s_nsd_port;

//  upstream.test: an A record and a TXT set of about 2 KB (too large for 1232-byte UDP).
static void
s_setup (void)
{
    df_setup ();
    char zone[8192];
    int used = snprintf (zone, sizeof zone,
                         "$ORIGIN upstream.test.\n$TTL 120\n"
                         "@ IN SOA ns.upstream.test. admin.upstream.test. 7 3600 600 86400 60\n"
                         "@ IN NS ns.upstream.test.\nns IN A 127.0.0.1\n"
                         "www IN A 192.0.2.80\n");
    for (int index = 0; index < 10; index++)
        used += snprintf (zone + used, sizeof zone - (size_t) used,
                          "big IN TXT \"record-%02d-%0180d\"\n", index, 0);
    s_nsd_port = df_start_nsd ("upstream.test", zone);
    df_service ("www", "dns=www.example.org,ip=10.0.0.10,domain=www", true);
}

//  dnsd forwarding to UPSTREAMS (a JSON list) with a short timeout.
static int
s_start (const char *upstreams)
{
    char extra[512];
    snprintf (extra, sizeof extra,
              "\"upstreams\": %s, \"forward_timeout_ms\": 300, "
              "\"forward_retries\": 2",
              upstreams);
    int port = df_start_dnsd ("1", 0, extra);
    cr_assert (gt (int, port, 0), "dnsd did not start: see %s/dnsd-1.log", df_run_dir);
    return port;
}

//  dnsd forwarding to the one upstream on 127.0.0.1 UPSTREAM_PORT.
static int
s_start_to (int upstream_port)
{
    char upstreams[64];
    snprintf (upstreams, sizeof upstreams, "[\"127.0.0.1@%d\"]", upstream_port);
    return s_start (upstreams);
}

TestSuite (dnsd_forward, .init = s_setup, .fini = df_teardown, .timeout = 120);

Test (dnsd_forward, names_outside_the_zones_are_answered_by_the_upstream)
{
    int port = s_start_to (s_nsd_port);
    //  dig checks that the answer's id and question are its own.
    cr_assert (eq (int, df_dig ("fwd", port, "www.upstream.test A"), 0));
    cr_assert (df_contains ("fwd", "status: NOERROR"));
    cr_assert (df_contains ("fwd", "www.upstream.test. 120 IN A 192.0.2.80"));
    cr_assert (df_contains ("fwd", "flags: qr aa rd ra"), "NSD's answer, recursion offered");
    cr_assert (eq (int, df_run ("nx", "kdig @127.0.0.1 -p %d nope.upstream.test A", port), 0));
    cr_assert (df_contains ("nx", "NXDOMAIN"));
    //  Its own names are still its own.
    cr_assert (eq (int, df_run ("own", "dig @127.0.0.1 -p %d +short www.example.org", port), 0));
    cr_assert (df_contains ("own", "10.0.0.10"));
    cr_assert (df_wait_counter ("1", "forward_answers", 2, 5000));
    cr_assert (eq (i64, df_counter ("1", "forwarded"), 2));
    cr_assert (eq (i64, df_counter ("1", "forward_servfail"), 0));
}

Test (dnsd_forward, a_truncated_answer_is_retried_over_tcp)
{
    int port = s_start_to (s_nsd_port);
    //  Over UDP the client gets TC (NSD's truncated answer), and dig retries over TCP; dnsd
    //  asks NSD over UDP again, gets TC, and fetches the whole answer over TCP.
    cr_assert (eq (int, df_dig ("tc", port, "+ignore big.upstream.test TXT"), 0));
    cr_assert (df_contains ("tc", " tc"));
    cr_assert (eq (int, df_dig ("big", port, "big.upstream.test TXT"), 0));
    cr_assert (df_contains ("big", "Truncated, retrying in TCP mode"));
    cr_assert (df_contains ("big", "ANSWER: 10"));
    cr_assert (df_contains ("big", "record-09-"));
    cr_assert (df_wait_counter ("1", "forward_tcp", 1, 5000));
    //  A client without EDNS takes 512 bytes at most: dnsd cuts NSD's answer down to TC.
    cr_assert (eq (int, df_dig ("small", port, "+noedns +ignore big.upstream.test TXT"), 0));
    cr_assert (df_contains ("small", " tc"));
    cr_assert (df_contains ("small", "MSG SIZE rcvd:"));
}

Test (dnsd_forward, a_silent_upstream_is_retried_then_servfail)
{
    int silent_port;
    int fd = df_udp_socket ("127.0.0.1", 0, &silent_port);  // it reads, never answers
    int port = s_start_to (silent_port);
    cr_assert (eq (
        int, df_run ("fail", "dig @127.0.0.1 -p %d +time=10 +tries=1 www.upstream.test", port), 0));
    cr_assert (df_contains ("fail", "status: SERVFAIL"));
    cr_assert (df_wait_counter ("1", "forward_servfail", 1, 5000));
    cr_assert (eq (i64, df_counter ("1", "forward_retries"), 2));
    //  The silent upstream saw the first try and both retries, each from a new port (the
    //  last try's socket is still open when the next one's is bound) with a new id.
    uint8_t query[512];
    int seen = 0;
    uint16_t ports[4] = {0}, ids[4] = {0};
    struct sockaddr_in from;
    socklen_t length = sizeof from;
    while (seen < 4
           && recvfrom (fd, query, sizeof query, MSG_DONTWAIT, (struct sockaddr *) &from, &length)
                  >= 12) {
        ports[seen] = ntohs (from.sin_port);
        ids[seen++] = (uint16_t) ((query[0] << 8) | query[1]);
        length = sizeof from;
    }
    cr_assert (eq (int, seen, 3));
    for (int index = 1; index < 3; index++) {
        cr_assert (not(eq (u16, ports[index], ports[index - 1])), "try %d: same port", index);
        cr_assert (not(eq (u16, ids[index], ids[index - 1])), "try %d: same id", index);
    }
    close (fd);
}

Test (dnsd_forward, a_retry_goes_to_the_next_upstream)
{
    int silent_port;
    int fd = df_udp_socket ("127.0.0.1", 0, &silent_port);  // it reads, never answers
    char upstreams[96];
    snprintf (upstreams, sizeof upstreams, "[\"127.0.0.1@%d\", \"127.0.0.1@%d\"]", silent_port,
              s_nsd_port);
    int port = s_start (upstreams);
    for (int index = 0; index < 4; index++) {
        cr_assert (eq (int, df_dig ("next", port, "www.upstream.test"), 0));
        cr_assert (df_contains ("next", "192.0.2.80"), "try %d", index);
    }
    cr_assert (df_wait_counter ("1", "forward_answers", 4, 5000));
    cr_assert (eq (i64, df_counter ("1", "forward_servfail"), 0));
    //  New queries take turns on the first try: half of them met the silent one first.
    cr_assert (eq (i64, df_counter ("1", "forward_retries"), 2));
    close (fd);
}

//  dnsd offering recursion to 127.0.0.1 alone; dig -b 127.0.0.2 is a client outside it (the
//  whole of 127.0.0.0/8 is on lo, so no address needs configuring).
static int
s_start_for_one (void)
{
    char extra[256];
    snprintf (extra, sizeof extra,
              "\"upstreams\": [\"127.0.0.1@%d\"], \"recursion_from\": [\"127.0.0.1/32\"]",
              s_nsd_port);
    int port = df_start_dnsd ("1", 0, extra);
    cr_assert (gt (int, port, 0), "dnsd did not start: see %s/dnsd-1.log", df_run_dir);
    return port;
}

Test (dnsd_forward, a_client_outside_recursion_from_is_refused_without_ra)
{
    int port = s_start_for_one ();
    cr_assert (eq (int, df_dig ("out", port, "-b 127.0.0.2 www.upstream.test A"), 0));
    cr_assert (df_contains ("out", "status: REFUSED"));
    cr_assert (df_contains ("out", "flags: qr rd;"), "no RA for this client");
    cr_assert (df_contains ("out", "WARNING: recursion requested but not available"));
    //  Its own names are answered to it, still without RA.
    cr_assert (eq (int, df_dig ("own", port, "-b 127.0.0.2 www.example.org A"), 0));
    cr_assert (df_contains ("own", "status: NOERROR"));
    cr_assert (df_contains ("own", "10.0.0.10"));
    cr_assert (df_contains ("own", "flags: qr aa rd;"));
    //  Over TCP too.
    cr_assert (eq (int, df_dig ("tcp", port, "-b 127.0.0.2 +tcp www.upstream.test A"), 0));
    cr_assert (df_contains ("tcp", "status: REFUSED"));
    //  The client inside gets the upstream's answer, with RA.
    cr_assert (eq (int, df_dig ("in", port, "-b 127.0.0.1 www.upstream.test A"), 0));
    cr_assert (df_contains ("in", "status: NOERROR"));
    cr_assert (df_contains ("in", "192.0.2.80"));
    cr_assert (df_contains ("in", "flags: qr aa rd ra;"));
    cr_assert (df_wait_counter ("1", "forward_answers", 1, 5000));
    cr_assert (eq (i64, df_counter ("1", "recursion_refused"), 2));
    cr_assert (eq (i64, df_counter ("1", "forwarded"), 1), "only the client inside");
}

Test (dnsd_forward, a_query_without_rd_is_not_forwarded)
{
    int port = s_start_for_one ();
    cr_assert (eq (int, df_dig ("nord", port, "+norecurse www.upstream.test A"), 0));
    cr_assert (df_contains ("nord", "status: REFUSED"));
    cr_assert (df_contains ("nord", "flags: qr ra;"), "offered, not asked for");
    cr_assert (df_wait_counter ("1", "norecurse_refused", 1, 5000));
    cr_assert (eq (i64, df_counter ("1", "forwarded"), 0));
    cr_assert (eq (i64, df_counter ("1", "forward_answers"), 0));
}

Test (dnsd_forward, recursion_is_offered_to_loopback_by_default)
{
    int port = s_start_to (s_nsd_port);
    cr_assert (eq (int, df_dig ("lo2", port, "-b 127.0.0.2 www.upstream.test A"), 0));
    cr_assert (df_contains ("lo2", "192.0.2.80"));
    cr_assert (df_contains ("lo2", "flags: qr aa rd ra;"));
    cr_assert (df_wait_counter ("1", "forward_answers", 1, 5000));
    cr_assert (eq (i64, df_counter ("1", "recursion_refused"), 0));
}

Test (dnsd_forward, forwarding_off_means_refused)
{
    int port = df_start_dnsd ("1", 0, "\"upstreams\": []");
    cr_assert (gt (int, port, 0));
    cr_assert (eq (int, df_run ("off", "dig @127.0.0.1 -p %d www.upstream.test", port), 0));
    cr_assert (df_contains ("off", "status: REFUSED"));
    cr_assert (df_contains ("off", "flags: qr rd;"), "no recursion to offer");
    cr_assert (df_wait_counter ("1", "answers_refused", 1, 5000));
    cr_assert (eq (i64, df_counter ("1", "forwarded"), 0));
}

//  The test's own upstream ---------------------------------------------------------------------

#define S_SEEN_MAX 32

//  A UDP upstream on a loopback port, in a thread of the test: it records every query (source
//  port, id, bytes) and answers A 192.0.2.99 with its own OPT (payload 4096, an NSID option).
typedef struct {
    int fd, port;
    int hold;     // answer nothing until this many queries came, then all (0: at once)
    bool tc;      // answer with TC and no records
    int records;  // A records in an answer (1 unless set)
    bool forge;   // before each answer: forgeries from another port, another address, and
                  // from the upstream's own socket with another id (all with 203.0.113.66)
    int count;    // queries seen
    uint16_t ports[S_SEEN_MAX], ids[S_SEEN_MAX];
    uint8_t queries[S_SEEN_MAX][512];
    size_t sizes[S_SEEN_MAX];
    struct sockaddr_in from[S_SEEN_MAX];
    volatile bool stop;
    pthread_mutex_t lock;
    pthread_t thread;
} s_upstream_t;

//  The answer to QUERY (SIZE bytes) with ID and the address LAST (192.0.2.LAST) into OUT.
static size_t
s_upstream_answer (const s_upstream_t *self, const uint8_t *query, size_t size, uint16_t id,
                   int last, uint8_t *out)
{
    size_t end = 12;
    while (end < size && query[end])
        end += 1 + query[end];
    end += 5;  // the root label, type and class
    cr_assert (le (sz, end, size));
    memcpy (out, query, end);
    int records = self->tc ? 0 : self->records ? self->records : 1;
    out[0] = (uint8_t) (id >> 8), out[1] = (uint8_t) id;
    out[2] = (uint8_t) (0x81 | (self->tc ? 0x02 : 0));  // QR, RD (and TC)
    out[3] = 0x80;                                      // RA, NOERROR
    out[4] = 0, out[5] = 1, out[6] = 0, out[7] = (uint8_t) records;
    out[8] = 0, out[9] = 0, out[10] = 0, out[11] = 1;
    for (int index = 0; index < records; index++) {
        static const uint8_t record[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2};
        memcpy (out + end, record, sizeof record);
        end += sizeof record;
        out[end++] = (uint8_t) (last + index);
    }
    static const uint8_t opt[] = {0,   0,   41,  0x10, 0,   0,   0,   0,   0,   0,
                                  17,  0,   3,   0,    13,  'f', 'a', 'k', 'e', '-',
                                  'u', 'p', 's', 't',  'r', 'e', 'a', 'm'};
    memcpy (out + end, opt, sizeof opt);
    return end + sizeof opt;
}

static void
s_upstream_reply (s_upstream_t *self, int index)
{
    uint8_t answer[1500];
    uint16_t id = self->ids[index];
    const struct sockaddr *to = (const struct sockaddr *) &self->from[index];
    if (self->forge) {
        int other_port = df_udp_socket ("127.0.0.1", 0, NULL);
        int other_address = df_udp_socket ("127.0.0.2", self->port, NULL);
        size_t size =
            s_upstream_answer (self, self->queries[index], self->sizes[index], id, 66, answer);
        answer[size - 28 - 1] = 113, answer[size - 28 - 2] = 0, answer[size - 28 - 3] = 203;
        sendto (other_port, answer, size, 0, to, sizeof self->from[index]);
        sendto (other_address, answer, size, 0, to, sizeof self->from[index]);
        answer[1] ^= 0x5a;  // another id, from the right address and port
        sendto (self->fd, answer, size, 0, to, sizeof self->from[index]);
        close (other_port);
        close (other_address);
        usleep (20000);  // the forgeries first: loopback delivers in order, this makes sure
    }
    size_t size =
        s_upstream_answer (self, self->queries[index], self->sizes[index], id, 99, answer);
    sendto (self->fd, answer, size, 0, to, sizeof self->from[index]);
}

static void *
s_upstream_run (void *arg)
{
    s_upstream_t *self = (s_upstream_t *) arg;
    int answered = 0;
    while (!self->stop) {
        struct pollfd item = {self->fd, POLLIN, 0};
        if (poll (&item, 1, 50) <= 0)
            continue;
        uint8_t query[512];
        struct sockaddr_in from;
        socklen_t length = sizeof from;
        ssize_t got =
            recvfrom (self->fd, query, sizeof query, 0, (struct sockaddr *) &from, &length);
        if (got < 12)
            continue;
        pthread_mutex_lock (&self->lock);
        int index = self->count;
        if (index < S_SEEN_MAX) {
            memcpy (self->queries[index], query, (size_t) got);
            self->sizes[index] = (size_t) got;
            self->ports[index] = ntohs (from.sin_port);
            self->ids[index] = (uint16_t) ((query[0] << 8) | query[1]);
            self->from[index] = from;
            self->count++;
        }
        pthread_mutex_unlock (&self->lock);
        if (index >= S_SEEN_MAX || self->count < self->hold)
            continue;
        while (answered < self->count)
            s_upstream_reply (self, answered++);
    }
    return NULL;
}

static void
s_upstream_start (s_upstream_t *self)
{
    self->fd = df_udp_socket ("127.0.0.1", 0, &self->port);
    pthread_mutex_init (&self->lock, NULL);
    cr_assert (eq (int, pthread_create (&self->thread, NULL, s_upstream_run, self), 0));
}

static void
s_upstream_stop (s_upstream_t *self)
{
    self->stop = true;
    pthread_join (self->thread, NULL);
    close (self->fd);
}

//  Lines of RUN_DIR/OUTPUT that contain TEXT.
static int
s_lines (const char *output, const char *text)
{
    char path[512], line[1024];
    snprintf (path, sizeof path, "%s/%s", df_run_dir, output);
    FILE *file = fopen (path, "r");
    cr_assert (not(eq (ptr, file, NULL)), "%s", path);
    int count = 0;
    while (fgets (line, sizeof line, file))
        count += strstr (line, text) != NULL;
    fclose (file);
    return count;
}

//  The OPT record of upstream query INDEX (it must be the last 11 bytes and the only
//  additional record): its payload, its DO bit, its RDLENGTH.
static void
s_upstream_opt (const s_upstream_t *self, int index, int *payload, bool *dnssec_ok, int *rdlength)
{
    const uint8_t *query = self->queries[index];
    size_t size = self->sizes[index];
    cr_assert (eq (int, (query[10] << 8) | query[11], 1), "ARCOUNT of query %d", index);
    cr_assert (ge (sz, size, 12 + 5 + 11));
    const uint8_t *opt = query + size - 11;
    cr_assert (eq (int, opt[0], 0), "owner: the root");
    cr_assert (eq (int, (opt[1] << 8) | opt[2], 41), "the OPT ends the query");
    *payload = (opt[3] << 8) | opt[4];
    *dnssec_ok = opt[7] & 0x80;
    *rdlength = (opt[9] << 8) | opt[10];
}

static void
s_setup_bare (void)
{
    df_setup ();
}

TestSuite (dnsd_forward_wire, .init = s_setup_bare, .fini = df_teardown, .timeout = 120);

Test (dnsd_forward_wire, queries_in_flight_leave_from_distinct_ports_with_distinct_ids)
{
    //  The upstream answers only once all eight are in: they are in flight together.
    enum { N = 8 };
    s_upstream_t upstream = {.hold = N};
    s_upstream_start (&upstream);
    int port = s_start_to (upstream.port);
    cr_assert (eq (int,
                   df_run ("many",
                           "{ for i in 1 2 3 4 5 6 7 8; do "
                           "dig @127.0.0.1 -p %d +short +time=10 +tries=1 q$i.fake.test A & "
                           "done; wait; }",
                           port),
                   0));
    s_upstream_stop (&upstream);
    cr_assert (eq (int, s_lines ("many", "192.0.2.99"), N), "every client got its answer");
    cr_assert (eq (int, upstream.count, N));
    for (int one = 0; one < N; one++)
        for (int other = one + 1; other < N; other++) {
            cr_assert (not(eq (u16, upstream.ports[one], upstream.ports[other])),
                       "queries %d and %d from port %u", one, other, upstream.ports[one]);
            cr_assert (not(eq (u16, upstream.ids[one], upstream.ids[other])),
                       "queries %d and %d with id %u", one, other, upstream.ids[one]);
        }
    cr_assert (df_wait_counter ("1", "forward_answers", N, 5000));
}

Test (dnsd_forward_wire, the_clients_edns_options_are_not_relayed_upstream)
{
    s_upstream_t upstream = {0};
    s_upstream_start (&upstream);
    int port = s_start_to (upstream.port);
    cr_assert (eq (int,
                   df_dig ("opts", port,
                           "+nsid +cookie=0102030405060708 +dnssec +bufsize=4000 www.fake.test A"),
                   0));
    cr_assert (eq (int, df_dig ("plain", port, "+noedns www.fake.test A"), 0));
    s_upstream_stop (&upstream);
    cr_assert (eq (int, upstream.count, 2));
    int payload, rdlength;
    bool dnssec_ok;
    s_upstream_opt (&upstream, 0, &payload, &dnssec_ok, &rdlength);
    cr_assert (eq (int, payload, 1232), "dnsd's own size, not the client's 4000");
    cr_assert (dnssec_ok, "DO copied from the client");
    cr_assert (eq (int, rdlength, 0), "neither the cookie nor the NSID request went upstream");
    //  The client's answer: dnsd's OPT, not the upstream's (4096, with its NSID).
    cr_assert (df_contains ("opts", "192.0.2.99"));
    cr_assert (df_contains ("opts", "flags: do; udp: 1232"));
    cr_assert (not(df_contains ("opts", "NSID")), "the upstream's NSID stays upstream");
    //  A client without EDNS: dnsd still speaks it upstream, and answers without an OPT.
    s_upstream_opt (&upstream, 1, &payload, &dnssec_ok, &rdlength);
    cr_assert (eq (int, payload, 1232));
    cr_assert (not(dnssec_ok));
    cr_assert (df_contains ("plain", "192.0.2.99"));
    cr_assert (not(df_contains ("plain", "OPT PSEUDOSECTION")));
}

Test (dnsd_forward_wire, a_truncated_relay_keeps_dnsd_opt)
{
    //  The upstream's own TC answer, relayed to a UDP client.
    s_upstream_t upstream = {.tc = true};
    s_upstream_start (&upstream);
    int port = s_start_to (upstream.port);
    cr_assert (eq (int, df_dig ("tc", port, "+ignore tc.fake.test A"), 0));
    s_upstream_stop (&upstream);
    cr_assert (df_contains ("tc", "flags: qr tc rd ra;"));
    cr_assert (df_contains ("tc", "udp: 1232"), "the OPT kept");
    cr_assert (not(df_contains ("tc", "NSID")));
}

Test (dnsd_forward_wire, an_answer_cut_for_the_client_keeps_dnsd_opt)
{
    //  50 A records: about 900 bytes, within dnsd's 1232 but not the client's 512.
    s_upstream_t upstream = {.records = 50};
    s_upstream_start (&upstream);
    int port = s_start_to (upstream.port);
    cr_assert (eq (int, df_dig ("cut", port, "+ignore +bufsize=512 big.fake.test A"), 0));
    cr_assert (eq (int, df_dig ("whole", port, "big.fake.test A"), 0));
    s_upstream_stop (&upstream);
    cr_assert (df_contains ("cut", "flags: qr tc rd ra;"));
    cr_assert (df_contains ("cut", "ANSWER: 0"));
    cr_assert (df_contains ("cut", "udp: 1232"), "the OPT kept");
    cr_assert (df_contains ("whole", "ANSWER: 50"));
    cr_assert (df_wait_counter ("1", "forward_truncated", 1, 5000));
}

Test (dnsd_forward_wire, forged_replies_are_dropped_and_counted)
{
    s_upstream_t upstream = {.forge = true};
    s_upstream_start (&upstream);
    int port = s_start_to (upstream.port);
    cr_assert (eq (int, df_dig ("forged", port, "+short www.fake.test A"), 0));
    s_upstream_stop (&upstream);
    cr_assert (df_contains ("forged", "192.0.2.99"));
    cr_assert (not(df_contains ("forged", "203.0.113")), "a forgery was relayed");
    //  Another port, another address, another id: three drops.
    cr_assert (df_wait_counter ("1", "forward_mismatched", 3, 5000));
    cr_assert (eq (i64, df_counter ("1", "forward_answers"), 1));
}
