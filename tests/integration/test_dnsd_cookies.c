/*  Integration: DNS cookies with real dig and kdig against a real jitsu-dnsd: the first query
    gets a server cookie (dig says "good"), the second, with it, verifies and is answered;
    a bad server cookie is answered with a new one; a malformed option is FORMERR; instances
    with the same cookie_secret accept each other's cookies, one with another does not.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_fixture.h"
#include "test_support.h"

#define S_SECRET "\"cookie_secret\": \"e5e973e5a6b2a43f48e7dc849e37bfcf\""

static int s_port;

static void
s_setup (void)
{
    df_setup ();
    df_service ("www", "dns=www.example.org,ip=10.0.0.10,domain=www", true);
    s_port = df_start_dnsd ("1", 0, S_SECRET);
    cr_assert (gt (int, s_port, 0), "dnsd did not start: see %s/dnsd-1.log", df_run_dir);
}

TestSuite (dnsd_cookies, .init = s_setup, .fini = df_teardown, .timeout = 120);

//  The COOKIE dig (or kdig, in capitals) printed into RUN_DIR/OUTPUT, lowercased, into COOKIE.
static void
s_cookie_of (const char *output, char *cookie)
{
    test_shell ("sed -n 's/^;\\{1,2\\} COOKIE: \\([0-9A-Fa-f]*\\).*/\\1/p' %s/%s | head -1 | "
                "tr A-F a-f > %s/%s.cookie",
                df_run_dir, output, df_run_dir, output);
    char path[512];
    snprintf (path, sizeof path, "%s/%s.cookie", df_run_dir, output);
    FILE *file = fopen (path, "r");
    cr_assert (not(eq (ptr, file, NULL)));
    if (fscanf (file, "%127s", cookie) != 1)
        cookie[0] = '\0';
    fclose (file);
}

Test (dnsd_cookies, dig_gets_a_cookie_and_its_second_query_verifies)
{
    cr_assert (eq (
        int, df_run ("first", "dig @127.0.0.1 -p %d +norec +cookie www.example.org A", s_port), 0));
    cr_assert (df_contains ("first", "status: NOERROR"));
    cr_assert (df_contains ("first", "IN A 10.0.0.10"));
    cr_assert (df_contains ("first", "(good)"), "dig matched its client cookie");
    char cookie[128];
    s_cookie_of ("first", cookie);
    cr_assert (eq (sz, strlen (cookie), 48), "client and server cookie: %s", cookie);
    cr_assert (eq (int, strncmp (cookie + 16, "01000000", 8), 0), "RFC 9018 version 1");
    cr_assert (df_wait_counter ("1", "cookies_new", 1, 5000));

    cr_assert (eq (int,
                   df_run ("second", "dig @127.0.0.1 -p %d +norec +cookie=%s www.example.org A",
                           s_port, cookie),
                   0));
    cr_assert (df_contains ("second", "IN A 10.0.0.10"));
    cr_assert (df_contains ("second", "(good)"));
    char echoed[128];
    s_cookie_of ("second", echoed);
    cr_assert (eq (str, echoed, cookie), "young: dnsd keeps the cookie it gave");
    cr_assert (df_wait_counter ("1", "cookies_valid", 1, 5000));
    cr_assert (eq (i64, df_counter ("1", "cookies_bad"), 0));
}

Test (dnsd_cookies, kdig_gets_a_cookie_and_its_second_query_verifies)
{
    cr_assert (
        eq (int, df_run ("first", "kdig @127.0.0.1 -p %d +norec +cookie www.example.org A", s_port),
            0));
    cr_assert (df_contains ("first", "10.0.0.10"));
    char cookie[128];
    s_cookie_of ("first", cookie);
    cr_assert (eq (sz, strlen (cookie), 48), "kdig printed: %s", cookie);
    cr_assert (eq (int,
                   df_run ("second", "kdig @127.0.0.1 -p %d +norec +cookie=%s www.example.org A",
                           s_port, cookie),
                   0));
    cr_assert (df_contains ("second", "10.0.0.10"));
    cr_assert (df_wait_counter ("1", "cookies_valid", 1, 5000));
    //  Over TCP too.
    cr_assert (eq (int,
                   df_run ("tcp", "kdig @127.0.0.1 -p %d +tcp +norec +cookie=%s www.example.org A",
                           s_port, cookie),
                   0));
    cr_assert (df_wait_counter ("1", "cookies_valid", 2, 5000));
}

Test (dnsd_cookies, a_bad_server_cookie_gets_a_new_one_and_the_answer)
{
    const char *forged = "0102030405060708010000006b116d722b7f77b1773e198c";
    cr_assert (eq (
        int,
        df_run ("bad", "dig @127.0.0.1 -p %d +norec +cookie=%s www.example.org A", s_port, forged),
        0));
    cr_assert (df_contains ("bad", "status: NOERROR"), "not enforced: no BADCOOKIE");
    cr_assert (df_contains ("bad", "IN A 10.0.0.10"));
    char cookie[128];
    s_cookie_of ("bad", cookie);
    cr_assert (eq (sz, strlen (cookie), 48));
    cr_assert (eq (int, strncmp (cookie, "0102030405060708", 16), 0), "its client cookie");
    cr_assert (not(eq (str, cookie, (char *) forged)), "and a new server cookie");
    cr_assert (df_wait_counter ("1", "cookies_bad", 1, 5000));
}

Test (dnsd_cookies, a_malformed_cookie_is_formerr)
{
    //  dig sends what +cookie= says: 7 bytes is too short for a client cookie.
    df_run ("short",
            "dig @127.0.0.1 -p %d +norec +cookie=01020304050607 +tries=1 "
            "www.example.org A",
            s_port);
    cr_assert (df_contains ("short", "status: FORMERR"), "see %s/short", df_run_dir);
    //  12 bytes: a server cookie of 4.
    df_run ("mid",
            "dig @127.0.0.1 -p %d +norec +cookie=010203040506070801020304 +tries=1 "
            "www.example.org A",
            s_port);
    cr_assert (df_contains ("mid", "status: FORMERR"), "see %s/mid", df_run_dir);
}

Test (dnsd_cookies, instances_sharing_a_secret_accept_each_others_cookies)
{
    int same = df_start_dnsd ("2", 0, S_SECRET);
    int other = df_start_dnsd ("3", 0, "\"cookie_secret\": \"445536bcd2513298075a5d379663c962\"");
    cr_assert (gt (int, same, 0));
    cr_assert (gt (int, other, 0));
    cr_assert (eq (
        int, df_run ("first", "dig @127.0.0.1 -p %d +norec +cookie www.example.org A", s_port), 0));
    char cookie[128];
    s_cookie_of ("first", cookie);
    cr_assert (eq (sz, strlen (cookie), 48));
    cr_assert (eq (
        int,
        df_run ("same", "dig @127.0.0.1 -p %d +norec +cookie=%s www.example.org A", same, cookie),
        0));
    cr_assert (df_wait_counter ("2", "cookies_valid", 1, 5000), "instance 2 took 1's cookie");
    cr_assert (eq (
        int,
        df_run ("other", "dig @127.0.0.1 -p %d +norec +cookie=%s www.example.org A", other, cookie),
        0));
    cr_assert (df_contains ("other", "IN A 10.0.0.10"), "answered all the same");
    cr_assert (df_wait_counter ("3", "cookies_bad", 1, 5000), "instance 3 did not");
    cr_assert (eq (i64, df_counter ("3", "cookies_valid"), 0));
    cr_assert (df_stop_dnsd ("2"));
    cr_assert (df_stop_dnsd ("3"));
}
