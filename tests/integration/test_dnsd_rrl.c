/*  Integration: response rate limiting in a real jitsu-dnsd, from a client that is not exempt
    (127.0.0.2, with only 127.0.0.1 exempt): a burst over rrl_rate gets some answers, some
    TC slips and some nothing, all counted; real dig, sent to TCP by a slip, is answered there;
    TCP and a valid cookie are never limited; loopback is exempt by default.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <poll.h>

#include "dnsd_fixture.h"
#include "test_support.h"

#define S_CLIENT "127.0.0.2"

static int s_port;

static void
s_setup (void)
{
    df_setup ();
    df_service ("www", "dns=www.example.org,ip=10.0.0.10,domain=www", true);
    s_port = df_start_dnsd ("1", 0,
                            "\"rrl_rate\": 3, \"rrl_slip\": 2, \"rrl_exempt\": [\"127.0.0.1\"], "
                            "\"cookie_secret\": \"e5e973e5a6b2a43f48e7dc849e37bfcf\"");
    cr_assert (gt (int, s_port, 0), "dnsd did not start: see %s/dnsd-1.log", df_run_dir);
}

TestSuite (dnsd_rrl, .init = s_setup, .fini = df_teardown, .timeout = 120);

//  A query for www.example.org A with ID, no EDNS, into WIRE; returns its size.
static size_t
s_query (uint8_t *wire, uint16_t id)
{
    static const uint8_t question[] = {3,   'w', 'w', 'w', 7,   'e', 'x', 'a', 'm', 'p', 'l',
                                       'e', 3,   'o', 'r', 'g', 0,   0,   1,   0,   1};
    uint8_t header[12] = {(uint8_t) (id >> 8), (uint8_t) id, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy (wire, header, sizeof header);
    memcpy (wire + sizeof header, question, sizeof question);
    return sizeof header + sizeof question;
}

//  Send COUNT queries from S_CLIENT as fast as the socket takes them, then, with FULL, collect
//  answers until none has come for 500 ms: FULL get records, SLIPPED have TC and no records.
static void
s_burst (int count, int *full, int *slipped)
{

    int fd = df_udp_socket (S_CLIENT, 0, NULL);
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) s_port)};
    inet_pton (AF_INET, "127.0.0.1", &server.sin_addr);
    uint8_t wire[512];
    for (int index = 0; index < count; index++) {
        size_t size = s_query (wire, (uint16_t) (0x4000 + index));
        cr_assert (eq (int,
                       (int) sendto (fd, wire, size, 0, (struct sockaddr *) &server, sizeof server),
                       (int) size));
    }
    if (!full) {
        close (fd);
        return;
    }
    *full = *slipped = 0;
    struct pollfd item = {fd, POLLIN, 0};
    while (poll (&item, 1, 500) == 1) {
        ssize_t size = recv (fd, wire, sizeof wire, 0);
        cr_assert (ge (int, (int) size, 12));
        bool tc = (wire[2] & 0x02) != 0;
        uint16_t ancount = (uint16_t) (wire[6] << 8 | wire[7]);
        cr_assert (eq (int, wire[3] & 0x0f, 0), "NOERROR, slipped or not");
        if (tc) {
            cr_assert (eq (int, ancount, 0), "a slip carries no records");
            cr_assert (eq (int, (int) size, 33), "header and question");
            (*slipped)++;
        }
        else {
            cr_assert (eq (int, ancount, 1));
            (*full)++;
        }
    }
    close (fd);
}

Test (dnsd_rrl, a_burst_gets_answers_slips_and_drops_all_counted)
{
    int full, slipped;
    s_burst (40, &full, &slipped);
    //  rrl_rate 3: the bucket holds 3, and refills 3 a second while the burst goes out.
    cr_assert (ge (int, full, 3));
    cr_assert (lt (int, full, 20), "most of the burst is over the rate");
    cr_assert (ge (int, slipped, 1));
    cr_assert (lt (int, full + slipped, 40), "some are dropped");
    int64_t limited = 40 - full;
    cr_assert (df_wait_counter ("1", "rrl_slipped", slipped, 5000));
    cr_assert (eq (i64, df_counter ("1", "rrl_slipped") + df_counter ("1", "rrl_dropped"), limited),
               "every answer not sent in full is counted");
    cr_assert (eq (i64, df_counter ("1", "rrl_slipped"), slipped));
    cr_assert (ge (i64, df_counter ("1", "dropped"), 40 - full - slipped));
}

Test (dnsd_rrl, a_slipped_dig_retries_over_tcp_and_is_answered)
{
    //  Empty the bucket, then dig at once: with slip 2 its query slips or is dropped, as the
    //  count of answers limited so far is even or odd; bursts of one more each try change
    //  that, and each empties the bucket again.
    bool retried = false;
    for (int attempt = 0; attempt < 6 && !retried; attempt++) {
        s_burst (10 + attempt, NULL, NULL);
        df_run ("dig", "dig -b %s @127.0.0.1 -p %d +norec +tries=1 +time=1 www.example.org A",
                S_CLIENT, s_port);
        retried = df_contains ("dig", "Truncated, retrying in TCP mode");
    }
    cr_assert (retried, "dig never got a slip: see %s/dig", df_run_dir);
    cr_assert (df_contains ("dig", "status: NOERROR"));
    cr_assert (df_contains ("dig", "IN A 10.0.0.10"), "answered over TCP");
}

Test (dnsd_rrl, tcp_is_never_limited)
{
    int full, slipped;
    s_burst (10, &full, &slipped);
    for (int index = 0; index < 10; index++) {
        cr_assert (eq (int,
                       df_run ("tcp",
                               "dig -b %s @127.0.0.1 -p %d +norec +tcp +tries=1 +time=2 "
                               "www.example.org A",
                               S_CLIENT, s_port),
                       0));
        cr_assert (df_contains ("tcp", "10.0.0.10"), "try %d", index);
    }
}

Test (dnsd_rrl, a_valid_cookie_exempts_the_client)
{
    //  Learn a server cookie over TCP (never limited), then burst with it over UDP.
    cr_assert (eq (int,
                   df_run ("learn",
                           "dig -b %s @127.0.0.1 -p %d +norec +tcp +cookie "
                           "www.example.org A | sed -n 's/^; COOKIE: \\([0-9a-f]*\\).*/"
                           "\\1/p'",
                           S_CLIENT, s_port),
                   0));
    char path[512], cookie[128] = "";
    snprintf (path, sizeof path, "%s/learn", df_run_dir);
    FILE *file = fopen (path, "r");
    cr_assert (file && fscanf (file, "%127s", cookie) == 1, "no COOKIE in %s", path);
    fclose (file);
    cr_assert (eq (sz, strlen (cookie), 48));
    int64_t limited = df_counter ("1", "rrl_slipped") + df_counter ("1", "rrl_dropped");
    int64_t valid = df_counter ("1", "cookies_valid");
    int full, slipped;
    s_burst (10, &full, &slipped);  // empties the bucket for the network
    //  Ten digs with the cookie, one after another: each is answered in full over UDP.
    cr_assert (eq (int,
                   df_run ("cookie",
                           "for i in 0 1 2 3 4 5 6 7 8 9; do dig -b %s @127.0.0.1 -p %d "
                           "+norec +ignore +tries=1 +time=2 +cookie=%s "
                           "www.example.org A; done",
                           S_CLIENT, s_port, cookie),
                   0));
    cr_assert (eq (int,
                   test_shell ("grep -c '^www.example.org.*10.0.0.10' %s/cookie | grep -qx 10",
                               df_run_dir),
                   0),
               "all ten answered: see %s/cookie", df_run_dir);
    cr_assert (not(df_contains ("cookie", "flags: qr tc")));
    cr_assert (df_wait_counter ("1", "cookies_valid", valid + 10, 5000));
    cr_assert (eq (i64, df_counter ("1", "rrl_slipped") + df_counter ("1", "rrl_dropped"),
                   limited + 10 - full),
               "only the cookieless burst was limited");
}

Test (dnsd_rrl, loopback_is_exempt_by_default)
{
    int port = df_start_dnsd ("2", 0, "\"rrl_rate\": 1");
    cr_assert (gt (int, port, 0));
    for (int index = 0; index < 5; index++) {
        cr_assert (eq (int,
                       df_run ("exempt",
                               "dig -b %s @127.0.0.1 -p %d +norec +ignore +tries=1 "
                               "+time=2 www.example.org A",
                               S_CLIENT, port),
                       0));
        cr_assert (df_contains ("exempt", "10.0.0.10"), "try %d", index);
    }
    cr_assert (eq (i64, df_counter ("2", "rrl_dropped") + df_counter ("2", "rrl_slipped"), 0));
    cr_assert (df_stop_dnsd ("2"));
}
