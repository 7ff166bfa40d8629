/*  Integration: dnsd behind the recursive resolvers users really have, Debian's Unbound and
    Knot Resolver, each started on a loopback port with a stub zone for jitsu.test to a real
    dnsd, and asked with dig and its defaults (a 5 s timeout, three tries) through the
    resolver. No VMs: the test plays vmctl on the bus (vm.booting when it hears vm.boot,
    vm.ready 2.4 s later, as the demo's QEMU guest takes).

    - A cold service is answered on the client's first try, before the VM is ready (at
      hold_max_ms, with the boot TTL), and boots once. Without the cap Unbound never answers
      its client: it retries dnsd at 376, 753, 1506 ms with new ids and ports, listens only
      for its latest try and drops the client's query at 1900 ms.
    - NODATA and NXDOMAIN come through; an empty non-terminal is NODATA and does not hide the
      name below it (RFC 8020 resolvers would take an NXDOMAIN for the whole subtree).
    - Unbound with QNAME minimisation asks the names between the zone and the target with
      type A: nothing but the service asked for boots. Its 0x20 (use-caps-for-id) answers
      must keep the question's case, or Unbound drops them.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_fixture.h"
#include "test_support.h"

#define S_BOOT_MS 2400  // vm.booting to vm.ready, as the demo's QEMU guest under TCG

static int s_dnsd_port;

//  dnsd serving jitsu.test. Services: cold (asleep, ttl 300, boot_ttl 7), www (running) and
//  deep (a.b.jitsu.test: b.jitsu.test is an empty non-terminal; RUNNING or asleep).
static void
s_start (bool deep_running)
{
    df_service ("cold", "dns=cold.jitsu.test,ip=10.0.9.1,domain=cold,ttl=300,boot_ttl=7", false);
    df_service ("www", "dns=www.jitsu.test,ip=10.0.9.2,domain=www,ttl=300", true);
    df_service ("deep", "dns=a.b.jitsu.test,ip=10.0.9.3,domain=deep,ttl=300,boot_ttl=7",
                deep_running);
    s_dnsd_port = df_start_dnsd ("1", 0, "\"zones\": [{\"name\": \"jitsu.test\"}]");
    cr_assert (gt (int, s_dnsd_port, 0), "dnsd did not start: see %s/dnsd-1.log", df_run_dir);
    //  A heartbeat heard means the test's subscription is live: no vm.boot will be missed.
    cr_assert (ge (i64, df_counter ("1", "queries"), 0));
}

//  dig NAME TYPE through the resolver on PORT with dig's defaults, into RUN_DIR/OUTPUT.
static int
s_dig (int port, const char *output, const char *name, const char *type)
{
    return df_run (output, "dig @127.0.0.1 -p %d %s %s", port, name, type);
}

//  Whether RUN_DIR/OUTPUT has a line matching the extended regular expression PATTERN (blanks
//  squeezed to one space).
static bool
s_matches (const char *output, const char *pattern)
{
    return test_shell ("tr -s '[:blank:]' ' ' < %s/%s | grep -qE -- '%s'", df_run_dir, output,
                       pattern)
           == 0;
}

//  Play vmctl for SERVICE at IP: once its vm.boot is heard, vm.booting at once and vm.ready
//  S_BOOT_MS later. DONE is the path of a file the client's run creates when it finished:
//  waited for until then, so the answer is known to have come before vm.ready.
static void
s_play_vmctl (const char *service, const char *ip, const char *done)
{
    int64_t heard = 0;
    for (int waited = 0; waited < 10000 && !heard; waited += 20)
        if (df_boots (service, 20) > 0)
            heard = zclock_mono ();
    cr_assert (gt (i64, heard, 0), "no vm.boot for %s", service);
    char body[512];
    snprintf (body, sizeof body,
              "{\"service\":\"%s\",\"boot_id\":\"b1\",\"domain\":\"%s\","
              "\"uuid\":\"6f8d0c8e-0000-4000-8000-000000000001\",\"ip\":\"%s\"}",
              service, service, ip);
    df_publish ("vm.booting", body);
    while (zclock_mono () - heard < S_BOOT_MS && access (done, F_OK) != 0)
        zclock_sleep (20);
    while (zclock_mono () - heard < S_BOOT_MS)
        zclock_sleep (20);
    snprintf (body, sizeof body,
              "{\"service\":\"%s\",\"boot_id\":\"b1\",\"ip\":\"%s\",\"via\":\"probe\","
              "\"boot_ms\":%d}",
              service, ip, S_BOOT_MS);
    df_publish ("vm.ready", body);
}

//  dig NAME A through the resolver on PORT while the test plays vmctl for SERVICE at IP; dig's
//  output is in RUN_DIR/SERVICE.dig once this returns.
static void
s_dig_a_booting_service (int port, const char *name, const char *service, const char *ip)
{
    cr_assert (eq (int,
                   test_shell ("(dig @127.0.0.1 -p %d %s A > %s/%s.dig 2>&1; "
                               "touch %s/%s.done) >/dev/null 2>&1 &",
                               port, name, df_run_dir, service, df_run_dir, service),
                   0));
    char done[512];
    snprintf (done, sizeof done, "%s/%s.done", df_run_dir, service);
    s_play_vmctl (service, ip, done);
    cr_assert (test_wait_path (done, 20000), "dig did not finish");
}

//  The first query for the cold service through the resolver on PORT (NAME for the logs).
static void
s_cold_service_on_the_first_try (int port, const char *name)
{
    s_dig_a_booting_service (port, "cold.jitsu.test", "cold", "10.0.9.1");
    cr_assert (df_contains ("cold.dig", "status: NOERROR"), "see %s/cold.dig", df_run_dir);
    cr_assert (not(df_contains ("cold.dig", "timed out")), "dig had to try again");
    //  The boot TTL: answered before vm.ready (its full TTL is 300). A resolver may count a
    //  second down between its fetch and its answer.
    cr_assert (s_matches ("cold.dig", "^cold\\.jitsu\\.test\\. [67] IN A 10\\.0\\.9\\.1$"),
               "the address with the boot TTL: see %s/cold.dig", df_run_dir);
    cr_assert (eq (int, df_boots ("cold", 500), 1), "one boot, whatever the resolver's retries");
    int64_t held = df_counter ("1", "held");
    int64_t at_cap = df_counter ("1", "answers_released_at_cap");
    cr_assert (ge (i64, at_cap, 1), "released by hold_max_ms, the VM still booting");
    cr_assert (eq (i64, df_counter ("1", "waiting"), 0), "every try was answered");
    cr_log_info ("%s: %" PRId64 " tries held (udp %" PRId64 ", tcp %" PRId64 "), %" PRId64
                 " released at the cap",
                 name, held, df_counter ("1", "queries_udp"), df_counter ("1", "queries_tcp"),
                 at_cap);
    //  Ready now: dnsd answers with the full TTL.
    cr_assert (
        eq (int, df_run ("ready.dig", "dig @127.0.0.1 -p %d +norec cold.jitsu.test A", s_dnsd_port),
            0));
    cr_assert (s_matches ("ready.dig", "^cold\\.jitsu\\.test\\. 300 IN A 10\\.0\\.9\\.1$"));
}

//  NODATA, NXDOMAIN and the empty non-terminal through the resolver on PORT; nothing boots.
static void
s_negative_answers (int port)
{
    cr_assert (eq (int, s_dig (port, "nx", "nope.jitsu.test", "A"), 0));
    cr_assert (df_contains ("nx", "status: NXDOMAIN"), "see %s/nx", df_run_dir);
    cr_assert (s_matches ("nx", "^jitsu\\.test\\. [0-9]+ IN SOA "), "the zone's SOA with it");
    cr_assert (eq (int, s_dig (port, "nodata", "www.jitsu.test", "MX"), 0));
    cr_assert (df_contains ("nodata", "status: NOERROR"), "see %s/nodata", df_run_dir);
    cr_assert (df_contains ("nodata", "ANSWER: 0"));
    cr_assert (eq (int, s_dig (port, "ent", "b.jitsu.test", "A"), 0));
    cr_assert (df_contains ("ent", "status: NOERROR"), "an empty non-terminal: see %s/ent",
               df_run_dir);
    cr_assert (df_contains ("ent", "ANSWER: 0"));
    //  The name below it still resolves: the resolver did not take the subtree for empty.
    cr_assert (eq (int, s_dig (port, "below", "a.b.jitsu.test", "A"), 0));
    cr_assert (s_matches ("below", "^a\\.b\\.jitsu\\.test\\. [0-9]+ IN A 10\\.0\\.9\\.3$"),
               "see %s/below", df_run_dir);
    cr_assert (eq (int, s_dig (port, "www", "www.jitsu.test", "A"), 0));
    cr_assert (s_matches ("www", "^www\\.jitsu\\.test\\. [0-9]+ IN A 10\\.0\\.9\\.2$"));
    cr_assert (eq (int, df_boots ("cold", 300) + df_boots ("www", 0) + df_boots ("deep", 0), 0),
               "nothing woke");
    cr_assert (ge (i64, df_counter ("1", "nodata"), 2), "dnsd said NODATA itself");
}

TestSuite (dnsd_resolvers, .init = df_setup, .fini = df_teardown, .timeout = 120);

Test (dnsd_resolvers, unbound_answers_a_cold_service_on_the_clients_first_try)
{
    s_start (false);
    int port = df_start_unbound ("jitsu.test", s_dnsd_port, NULL);
    s_cold_service_on_the_first_try (port, "unbound");
}

Test (dnsd_resolvers, knot_resolver_answers_a_cold_service_on_the_clients_first_try)
{
    s_start (false);
    int port = df_start_kresd ("jitsu.test", s_dnsd_port, NULL);
    s_cold_service_on_the_first_try (port, "kresd");
}

Test (dnsd_resolvers, unbound_passes_nodata_nxdomain_and_the_empty_non_terminal)
{
    s_start (true);
    s_negative_answers (df_start_unbound ("jitsu.test", s_dnsd_port, NULL));
}

Test (dnsd_resolvers, knot_resolver_passes_nodata_nxdomain_and_the_empty_non_terminal)
{
    s_start (true);
    s_negative_answers (df_start_kresd ("jitsu.test", s_dnsd_port, NULL));
}

Test (dnsd_resolvers, unbound_with_qname_minimisation_and_0x20_wakes_only_the_service_asked_for)
{
    s_start (false);
    int port = df_start_unbound ("jitsu.test", s_dnsd_port,
                                 "  qname-minimisation: yes\n  use-caps-for-id: yes\n");
    int64_t nodata = df_counter ("1", "nodata");
    s_dig_a_booting_service (port, "a.b.jitsu.test", "deep", "10.0.9.3");
    cr_assert (s_matches ("deep.dig", "^a\\.b\\.jitsu\\.test\\. [67] IN A 10\\.0\\.9\\.3$"),
               "answered, on the first try, before ready: see %s/deep.dig", df_run_dir);
    cr_assert (not(df_contains ("deep.dig", "timed out")));
    cr_assert (eq (int, df_boots ("deep", 500), 1));
    cr_assert (eq (int, df_boots ("cold", 0) + df_boots ("www", 0), 0), "nothing else woke");
    //  Unbound asked b.jitsu.test on its way (minimised), and dnsd said NODATA.
    cr_assert (gt (i64, df_counter ("1", "nodata"), nodata), "see %s/unbound.out", df_run_dir);
    cr_assert (eq (i64, df_counter ("1", "answers_nxdomain"), 0));
}
