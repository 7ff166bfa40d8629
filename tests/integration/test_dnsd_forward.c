/*  Integration: names outside dnsd's zones forwarded to a real NSD started by the test on a
    loopback port: answers relayed with the client's id, large answers truncated to the
    client and fetched again over TCP, retries and SERVFAIL when an upstream stays silent.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>

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

TestSuite (dnsd_forward, .init = s_setup, .fini = df_teardown, .timeout = 120);

Test (dnsd_forward, names_outside_the_zones_are_answered_by_the_upstream)
{
    char upstreams[64];
    snprintf (upstreams, sizeof upstreams, "[\"127.0.0.1@%d\"]", s_nsd_port);
    int port = s_start (upstreams);
    //  dig checks that the answer's id and question are its own.
    cr_assert (eq (
        int, df_run ("fwd", "dig @127.0.0.1 -p %d +time=5 +tries=1 www.upstream.test A", port), 0));
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
    char upstreams[64];
    snprintf (upstreams, sizeof upstreams, "[\"127.0.0.1@%d\"]", s_nsd_port);
    int port = s_start (upstreams);
    //  Over UDP the client gets TC (NSD's truncated answer), and dig retries over TCP; dnsd
    //  asks NSD over UDP again, gets TC, and fetches the whole answer over TCP.
    cr_assert (eq (int,
                   df_run ("tc",
                           "dig @127.0.0.1 -p %d +ignore +time=5 +tries=1 "
                           "big.upstream.test TXT",
                           port),
                   0));
    cr_assert (df_contains ("tc", " tc"));
    cr_assert (eq (int,
                   df_run ("big",
                           "dig @127.0.0.1 -p %d +time=5 +tries=1 "
                           "big.upstream.test TXT",
                           port),
                   0));
    cr_assert (df_contains ("big", "Truncated, retrying in TCP mode"));
    cr_assert (df_contains ("big", "ANSWER: 10"));
    cr_assert (df_contains ("big", "record-09-"));
    cr_assert (df_wait_counter ("1", "forward_tcp", 1, 5000));
    //  A client without EDNS takes 512 bytes at most: dnsd cuts NSD's answer down to TC.
    cr_assert (eq (int,
                   df_run ("small",
                           "dig @127.0.0.1 -p %d +noedns +ignore +time=5 "
                           "+tries=1 big.upstream.test TXT",
                           port),
                   0));
    cr_assert (df_contains ("small", " tc"));
    cr_assert (df_contains ("small", "MSG SIZE rcvd:"));
}

//  A UDP socket on a free loopback port that reads and never answers.
static int
s_silent (int *port)
{
    int fd = socket (AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    cr_assert (eq (int, bind (fd, (struct sockaddr *) &address, sizeof address), 0));
    getsockname (fd, (struct sockaddr *) &address, &length);
    *port = ntohs (address.sin_port);
    return fd;
}

Test (dnsd_forward, a_silent_upstream_is_retried_then_servfail)
{
    int silent_port;
    int fd = s_silent (&silent_port);
    char upstreams[64];
    snprintf (upstreams, sizeof upstreams, "[\"127.0.0.1@%d\"]", silent_port);
    int port = s_start (upstreams);
    cr_assert (eq (
        int, df_run ("fail", "dig @127.0.0.1 -p %d +time=10 +tries=1 www.upstream.test", port), 0));
    cr_assert (df_contains ("fail", "status: SERVFAIL"));
    cr_assert (df_wait_counter ("1", "forward_servfail", 1, 5000));
    cr_assert (eq (i64, df_counter ("1", "forward_retries"), 2));
    //  The silent upstream saw the first try and both retries, each with a fresh id.
    uint8_t query[512];
    int seen = 0;
    while (recv (fd, query, sizeof query, MSG_DONTWAIT) > 0)
        seen++;
    cr_assert (eq (int, seen, 3));
    close (fd);
}

Test (dnsd_forward, a_retry_goes_to_the_next_upstream)
{
    int silent_port;
    int fd = s_silent (&silent_port);
    char upstreams[96];
    snprintf (upstreams, sizeof upstreams, "[\"127.0.0.1@%d\", \"127.0.0.1@%d\"]", silent_port,
              s_nsd_port);
    int port = s_start (upstreams);
    for (int index = 0; index < 4; index++) {
        cr_assert (eq (int,
                       df_run ("next",
                               "dig @127.0.0.1 -p %d +time=5 +tries=1 "
                               "www.upstream.test",
                               port),
                       0));
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
    cr_assert (eq (int,
                   df_run ("out",
                           "dig -b 127.0.0.2 @127.0.0.1 -p %d +time=5 +tries=1 "
                           "www.upstream.test A",
                           port),
                   0));
    cr_assert (df_contains ("out", "status: REFUSED"));
    cr_assert (df_contains ("out", "flags: qr rd;"), "no RA for this client");
    cr_assert (df_contains ("out", "WARNING: recursion requested but not available"));
    //  Its own names are answered to it, still without RA.
    cr_assert (eq (int,
                   df_run ("own",
                           "dig -b 127.0.0.2 @127.0.0.1 -p %d +time=5 +tries=1 "
                           "www.example.org A",
                           port),
                   0));
    cr_assert (df_contains ("own", "status: NOERROR"));
    cr_assert (df_contains ("own", "10.0.0.10"));
    cr_assert (df_contains ("own", "flags: qr aa rd;"));
    //  Over TCP too.
    cr_assert (eq (int,
                   df_run ("tcp",
                           "dig -b 127.0.0.2 @127.0.0.1 -p %d +tcp +time=5 +tries=1 "
                           "www.upstream.test A",
                           port),
                   0));
    cr_assert (df_contains ("tcp", "status: REFUSED"));
    //  The client inside gets the upstream's answer, with RA.
    cr_assert (eq (int,
                   df_run ("in",
                           "dig -b 127.0.0.1 @127.0.0.1 -p %d +time=5 +tries=1 "
                           "www.upstream.test A",
                           port),
                   0));
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
    cr_assert (eq (int,
                   df_run ("nord",
                           "dig @127.0.0.1 -p %d +norecurse +time=5 +tries=1 "
                           "www.upstream.test A",
                           port),
                   0));
    cr_assert (df_contains ("nord", "status: REFUSED"));
    cr_assert (df_contains ("nord", "flags: qr ra;"), "offered, not asked for");
    cr_assert (df_wait_counter ("1", "norecurse_refused", 1, 5000));
    cr_assert (eq (i64, df_counter ("1", "forwarded"), 0));
    cr_assert (eq (i64, df_counter ("1", "forward_answers"), 0));
}

Test (dnsd_forward, recursion_is_offered_to_loopback_by_default)
{
    char upstreams[64];
    snprintf (upstreams, sizeof upstreams, "[\"127.0.0.1@%d\"]", s_nsd_port);
    int port = s_start (upstreams);
    cr_assert (eq (int,
                   df_run ("lo2",
                           "dig -b 127.0.0.2 @127.0.0.1 -p %d +time=5 +tries=1 "
                           "www.upstream.test A",
                           port),
                   0));
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
