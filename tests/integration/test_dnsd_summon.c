/*  Integration: summoning through a real dnsd: single flight (50 concurrent dig processes,
    one vm.boot, 50 answers after `jitsuctl publish vm.ready`), the ready timeout, the delay
    mask, re-announcing an unanswered vm.boot, non-address queries that never boot, the wake
    list, boot rate limits, running state from statestore and events, and dns.hits.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_fixture.h"
#include "test_support.h"

static int s_port;

static void
s_start (const char *extra)
{
    s_port = df_start_dnsd ("1", 0, extra);
    cr_assert (gt (int, s_port, 0), "dnsd did not start: see %s/dnsd-1.log", df_run_dir);
    //  A heartbeat heard means the test's subscription is live: no vm.boot will be missed.
    cr_assert (ge (i64, df_counter ("1", "queries"), 0));
}

//  dig NAME TYPE with +short into RUN_DIR/OUTPUT; returns dig's status.
static int
s_dig (const char *output, const char *name, const char *type)
{
    return df_run (output, "dig @127.0.0.1 -p %d +short +time=30 +tries=1 %s %s", s_port, name,
                   type);
}

TestSuite (dnsd_summon, .init = df_setup, .fini = df_teardown, .timeout = 180);

Test (dnsd_summon, fifty_concurrent_queries_share_one_boot_and_all_get_the_answer)
{
    //  hold_max_ms at its maximum: this is about mask=ready waiting for vm.ready.
    df_service ("sleepy",
                "dns=sleepy.example.org,ip=10.0.0.50,domain=sleepy,mask=ready,"
                "ready_timeout_ms=120000,hold_max_ms=60000",
                false);
    s_start ("\"boot_retry_ms\": 120000");
    //  50 dig processes at once; they finish once answered. Each from an address of its own:
    //  dig binds its random source port with address reuse, so two digs on one address can
    //  share a port and one of them then never sees its answer.
    cr_assert (eq (int,
                   test_shell ("cd %s && (for i in $(seq 50); do dig @127.0.0.1 -p %d "
                               "-b 127.0.0.$((i + 1)) +short +time=60 +tries=1 "
                               "sleepy.example.org A > dig.$i "
                               "2>&1 & done; wait; touch digs.done) >/dev/null 2>&1 &",
                               df_run_dir, s_port),
                   0));
    cr_assert (df_wait_counter ("1", "waiting", 50, 60000), "50 queries held");
    cr_assert (eq (int, df_boots ("sleepy", 500), 1), "exactly one vm.boot");
    cr_assert (not(eq (str, (char *) df_last_request_id ("sleepy"), "")));
    cr_assert (eq (int, test_shell ("test -e %s/digs.done", df_run_dir), 1), "nobody answered");

    df_publish ("vm.ready", "{\"service\":\"sleepy\",\"boot_id\":\"b1\",\"ip\":\"10.0.0.50\","
                            "\"via\":\"event\",\"boot_ms\":1500}");
    char done[512];
    snprintf (done, sizeof done, "%s/digs.done", df_run_dir);
    cr_assert (test_wait_path (done, 60000), "the digs did not finish");
    cr_assert (
        eq (int, test_shell ("test $(grep -lx 10.0.0.50 %s/dig.* | wc -l) -eq 50", df_run_dir), 0),
        "50 answers with the address");
    cr_assert (eq (int, df_boots ("sleepy", 200), 1), "still one vm.boot");
    cr_assert (df_wait_counter ("1", "released", 50, 5000));
    cr_assert (eq (i64, df_counter ("1", "boots_triggered"), 1));
    cr_assert (eq (i64, df_counter ("1", "waiting"), 0));
    //  Running now: answered at once, no boot.
    cr_assert (eq (int, s_dig ("again", "sleepy.example.org", "A"), 0));
    cr_assert (df_contains ("again", "10.0.0.50"));
    cr_assert (eq (int, df_boots ("sleepy", 200), 1));
}

Test (dnsd_summon, without_vm_ready_the_answer_goes_out_at_the_ready_timeout)
{
    df_service ("slow",
                "dns=slow.example.org,ip=10.0.0.51,domain=slow,mask=ready,"
                "ready_timeout_ms=1000",
                false);
    s_start (NULL);
    int64_t start = zclock_mono ();
    cr_assert (eq (int, s_dig ("late", "slow.example.org", "A"), 0));
    cr_assert (df_contains ("late", "10.0.0.51"), "answered anyway");
    cr_assert (ge (i64, zclock_mono () - start, 1000), "not before the timeout");
    cr_assert (df_wait_counter ("1", "ready_timeouts", 1, 5000));
    cr_assert (eq (i64, df_counter ("1", "boot_timeouts"), 1));
    cr_assert (eq (int, df_boots ("slow", 0), 1));
}

Test (dnsd_summon, mask_delay_answers_after_the_delay)
{
    df_service ("delayed",
                "dns=delayed.example.org,ip=10.0.0.52,domain=delayed,mask=delay,"
                "response_delay_ms=700",
                false);
    s_start (NULL);
    int64_t start = zclock_mono ();
    cr_assert (eq (int, s_dig ("delayed", "delayed.example.org", "AAAA"), 0));
    cr_assert (ge (i64, zclock_mono () - start, 700), "not before the delay");
    cr_assert (df_wait_counter ("1", "released_deadline", 1, 5000));
    cr_assert (eq (int, df_boots ("delayed", 0), 1), "AAAA wakes it too");
}

Test (dnsd_summon, other_query_types_never_boot)
{
    df_service ("quiet", "dns=quiet.example.org,ip=10.0.0.53,domain=quiet,mask=ready", false);
    s_start (NULL);
    const char *types[] = {"MX", "TXT", "SOA", "NS", "SRV", "CAA", "ANY", "PTR"};
    for (size_t index = 0; index < sizeof types / sizeof types[0]; index++)
        cr_assert (eq (int,
                       df_run ("other",
                               "dig @127.0.0.1 -p %d +time=5 +tries=1 "
                               "quiet.example.org %s",
                               s_port, types[index]),
                       0));
    cr_assert (df_contains ("other", "status: NOERROR"));
    cr_assert (eq (int, df_boots ("quiet", 1000), 0), "no vm.boot");
    cr_assert (eq (i64, df_counter ("1", "boots_triggered"), 0));
    cr_assert (eq (i64, df_counter ("1", "held"), 0), "nothing waited");
    //  The same name asked for an address does boot.
    cr_assert (eq (int,
                   test_shell ("dig @127.0.0.1 -p %d +time=1 +tries=1 quiet.example.org A "
                               ">/dev/null",
                               s_port),
                   9),
               "held: dig times out");
    cr_assert (eq (int, df_boots ("quiet", 500), 1));
}

Test (dnsd_summon, a_client_outside_the_wake_list_gets_the_answer_without_a_boot)
{
    df_service ("guarded",
                "dns=guarded.example.org,ip=10.0.0.54,domain=guarded,mask=ready,"
                "wake=10.99.0.0/16,wake=2001:db8::/32",
                false);
    df_service ("open", "dns=open.example.org,ip=10.0.0.55,domain=open,mask=none,wake=127.0.0.0/8",
                false);
    s_start (NULL);
    cr_assert (eq (int, s_dig ("guarded", "guarded.example.org", "A"), 0));
    cr_assert (df_contains ("guarded", "10.0.0.54"), "answered at once, mask ready or not");
    cr_assert (eq (int, df_boots ("guarded", 500), 0));
    cr_assert (df_wait_counter ("1", "wake_denied", 1, 5000));
    cr_assert (eq (int, s_dig ("open", "open.example.org", "A"), 0));
    cr_assert (eq (int, df_boots ("open", 500), 1), "127.0.0.1 is in open's list");
}

Test (dnsd_summon, an_unanswered_boot_is_published_again_until_vm_booting)
{
    df_service ("deaf", "dns=deaf.example.org,ip=10.0.0.56,domain=deaf,mask=none", false);
    s_start ("\"boot_retry_ms\": 300");
    cr_assert (eq (int, s_dig ("deaf", "deaf.example.org", "A"), 0));
    cr_assert (df_contains ("deaf", "10.0.0.56"), "mask none: answered at once");
    for (int waited = 0; waited < 10000 && df_boots ("deaf", 100) < 3; waited += 100)
        ;
    cr_assert (ge (int, df_boots ("deaf", 0), 3), "published again while nobody answers");
    char request_id[PROTO_ID_MAX + 1];
    strcpy (request_id, df_last_request_id ("deaf"));
    cr_assert (eq (str, request_id, "dnsd/1:1"), "the same request each time");
    df_publish ("vm.booting", "{\"service\":\"deaf\",\"boot_id\":\"b1\",\"domain\":\"deaf\","
                              "\"uuid\":\"6f8d0c8e-0000-4000-8000-000000000001\","
                              "\"ip\":\"10.0.0.56\"}");
    cr_assert (df_wait_counter ("1", "bus_received", 1, 5000));
    int settled = df_boots ("deaf", 500);
    cr_assert (eq (int, df_boots ("deaf", 1000), settled), "vmctl heard it: no more");
    cr_assert (eq (i64, df_counter ("1", "boots_triggered"), 1));
    cr_assert (ge (i64, df_counter ("1", "boots_republished"), 2));
}

Test (dnsd_summon, boots_are_rate_limited_per_client_network)
{
    for (int index = 0; index < 4; index++) {
        char name[16], words[128];
        snprintf (name, sizeof name, "s%d", index);
        snprintf (words, sizeof words, "dns=s%d.example.org,ip=10.0.1.%d,domain=s%d,mask=none",
                  index, index + 1, index);
        df_service (name, words, false);
    }
    s_start ("\"boot_prefix_rate\": 0, \"boot_prefix_burst\": 2");
    for (int index = 0; index < 4; index++) {
        char name[32];
        snprintf (name, sizeof name, "s%d.example.org", index);
        cr_assert (eq (int, s_dig ("rate", name, "A"), 0));
        cr_assert (df_contains ("rate", "10.0.1."), "answered with or without a boot");
    }
    int boots = 0;
    for (int index = 0; index < 4; index++) {
        char name[16];
        snprintf (name, sizeof name, "s%d", index);
        boots += df_boots (name, index == 0 ? 500 : 0);
    }
    cr_assert (eq (int, boots, 2), "the /24's burst of two");
    cr_assert (df_wait_counter ("1", "boots_rate_limited", 2, 5000));
}

Test (dnsd_summon, running_state_comes_from_statestore_and_events)
{
    df_service ("www", "dns=www.example.org,ip=10.0.0.57,domain=www,mask=ready", true);
    s_start (NULL);
    cr_assert (eq (int, s_dig ("ready", "www.example.org", "A"), 0));
    cr_assert (df_contains ("ready", "10.0.0.57"));
    cr_assert (eq (int, df_boots ("www", 300), 0), "status ready: running, no boot");
    df_publish ("vm.stopped", "{\"service\":\"www\",\"reason\":\"idle\",\"mode\":\"destroy\"}");
    cr_assert (df_wait_counter ("1", "bus_received", 1, 5000));
    cr_assert (eq (int,
                   test_shell ("dig @127.0.0.1 -p %d +time=1 +tries=1 www.example.org A "
                               ">/dev/null",
                               s_port),
                   9),
               "stopped: held for the boot");
    cr_assert (eq (int, df_boots ("www", 500), 1));
}

Test (dnsd_summon, queries_for_a_running_service_are_coalesced_into_dns_hits)
{
    df_service ("www", "dns=www.example.org,ip=10.0.0.58,domain=www", true);
    s_start (NULL);
    cr_assert (eq (int,
                   df_run ("hits",
                           "for i in $(seq 20); do dig @127.0.0.1 -p %d +short "
                           "www.example.org A; done",
                           s_port),
                   0));
    int64_t count = 0;
    int messages = 0;
    for (int waited = 0; waited < 5000 && count < 20; waited += 100) {
        df_boots ("www", 100);
        messages = df_hits ("www", &count);
    }
    cr_assert (eq (i64, count, 20), "every query counted once");
    cr_assert (eq (i64, df_first_hits ("www"), 1), "the first query reported at once, alone");
    cr_assert (lt (int, messages, 20), "coalesced");
    cr_assert (eq (int, df_boots ("www", 0), 0));
}
