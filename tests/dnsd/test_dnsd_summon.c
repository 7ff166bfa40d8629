/*  dnsd_summon: which queries boot, single flight, masks, wake lists, limits, retries,
    timeouts, and which news wins.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_query.h"
#include "dnsd_summon.h"
#include "dnsd_testing.h"

static dnsd_config_t s_config;
static dnsd_table_t *s_table;
static dnsd_summon_t *s_summon;
static struct sockaddr_storage s_storage;

static void
s_setup (void)
{
    proto_error_t error;
    cr_assert (eq (int, dnsd_config_load (&s_config, NULL, &error), 0));
    s_config.boot_retry_ms = 1000;
    s_config.boot_prefix_burst = 3;
    s_config.boot_burst = 5;
    s_table = dnsd_table_new (&s_config);
    s_summon = dnsd_summon_new (s_table, &s_config);
}

static void
s_teardown (void)
{
    dnsd_summon_destroy (&s_summon);
    dnsd_table_destroy (&s_table);
    dnsd_config_reset (&s_config);
}

//  Service NAME with EXTRA fields ("" or ",\"mask\":\"ready\"").
static dnsd_service_t *
s_service (const char *name, const char *extra)
{
    char text[512];
    snprintf (text, sizeof text,
              "{\"name\":\"%s\",\"dns\":[\"%s.example.org\"],"
              "\"ip\":\"10.0.0.1\",\"domain\":\"%s\"%s}",
              name, name, name, extra);
    return dt_define (s_table, name, text);
}

static dnsd_decision_t
s_query (dnsd_service_t *service, const char *client, uint16_t qtype, int64_t now)
{
    dnsd_decision_t decision;
    dnsd_summon_query (s_summon, service, dt_client (&s_storage, client), qtype, now, &decision);
    return decision;
}

static int s_due, s_expired;

static void
s_on_due (dnsd_service_t *service, bool expired, void *arg)
{
    if (expired)
        s_expired++;
    else
        s_due++;
}

TestSuite (dnsd_summon, .init = s_setup, .fini = s_teardown);

Test (dnsd_summon, only_address_queries_boot)
{
    dnsd_service_t *service = s_service ("www", "");
    uint16_t others[] = {DNSD_TYPE_SOA, DNSD_TYPE_NS, 15, 16, DNSD_TYPE_ANY, DNSD_TYPE_PTR};
    for (size_t index = 0; index < sizeof others / sizeof others[0]; index++) {
        dnsd_decision_t decision = s_query (service, "127.0.0.1", others[index], 100);
        cr_assert (not(decision.boot), "type %u booted", others[index]);
        cr_assert (not(decision.wait));
    }
    cr_assert (not(service->in_flight));
    cr_assert (s_query (service, "127.0.0.1", DNSD_TYPE_AAAA, 100).boot);
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->boots, 1));
}

Test (dnsd_summon, one_boot_in_flight_whoever_asks)
{
    dnsd_service_t *service = s_service ("www", ",\"mask\":\"ready\",\"ready_timeout_ms\":5000");
    dnsd_decision_t first = s_query (service, "127.0.0.1", DNSD_TYPE_A, 100);
    cr_assert (first.boot);
    cr_assert (first.wait);
    cr_assert (eq (i64, first.deadline, 1300), "hold_max_ms (1200) after the boot started");
    for (int index = 0; index < 50; index++) {
        char client[32];
        snprintf (client, sizeof client, "192.0.%d.1", index);
        dnsd_decision_t later = s_query (service, client, DNSD_TYPE_A, 200 + index);
        cr_assert (not(later.boot));
        cr_assert (later.wait);
        cr_assert (eq (i64, later.deadline, 1300), "they all wait on the same boot");
    }
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->boots, 1));
    cr_assert (dnsd_summon_state (s_summon, service, PROTO_STATE_READY, 1, 300), "release");
    cr_assert (not(service->in_flight));
    cr_assert (dnsd_service_running (service));
}

Test (dnsd_summon, masks_decide_how_long_the_answer_waits)
{
    dnsd_decision_t none =
        s_query (s_service ("a", ",\"mask\":\"none\""), "127.0.0.1", DNSD_TYPE_A, 100);
    cr_assert (none.boot);
    cr_assert (not(none.wait));
    dnsd_decision_t synjitsu =
        s_query (s_service ("b", ",\"mask\":\"synjitsu\""), "127.0.0.1", DNSD_TYPE_A, 100);
    cr_assert (not(synjitsu.wait));
    dnsd_decision_t delay =
        s_query (s_service ("c", ",\"mask\":\"delay\",\"response_delay_ms\":250"), "127.0.0.1",
                 DNSD_TYPE_A, 100);
    cr_assert (delay.wait);
    cr_assert (eq (i64, delay.deadline, 350));
    dnsd_decision_t zero =
        s_query (s_service ("d", ",\"mask\":\"delay\""), "127.0.0.1", DNSD_TYPE_A, 100);
    cr_assert (not(zero.wait), "a delay of 0 is no delay");
}

Test (dnsd_summon, a_client_outside_the_wake_list_gets_no_boot)
{
    dnsd_service_t *service = s_service ("www", ",\"wake\":[\"10.1.0.0/16\",\"2001:db8::/32\"]");
    cr_assert (not(s_query (service, "127.0.0.1", DNSD_TYPE_A, 100).boot));
    cr_assert (not(s_query (service, "2001:db9::1", DNSD_TYPE_AAAA, 100).boot));
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->wake_denied, 2));
    cr_assert (s_query (service, "2001:db8::5", DNSD_TYPE_A, 100).boot);
}

Test (dnsd_summon, boots_are_rate_limited_per_network_and_overall)
{
    dnsd_service_t *services[8];
    for (int index = 0; index < 8; index++) {
        char name[16];
        snprintf (name, sizeof name, "s%d", index);
        services[index] = s_service (name, "");
    }
    //  Burst of 3 per /24: the fourth from 10.0.0.0/24 is refused, another /24 still boots.
    for (int index = 0; index < 3; index++)
        cr_assert (s_query (services[index], "10.0.0.1", DNSD_TYPE_A, 100).boot);
    cr_assert (not(s_query (services[3], "10.0.0.200", DNSD_TYPE_A, 100).boot));
    cr_assert (s_query (services[3], "10.0.1.1", DNSD_TYPE_A, 100).boot);
    //  Burst of 5 overall: the sixth boot is refused whoever asks.
    cr_assert (s_query (services[4], "10.0.2.1", DNSD_TYPE_A, 100).boot);
    cr_assert (not(s_query (services[5], "10.0.3.1", DNSD_TYPE_A, 100).boot));
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->rate_limited, 2));
    //  Tokens come back with time (20/s overall, 2/s per network).
    cr_assert (s_query (services[5], "10.0.3.1", DNSD_TYPE_A, 1100).boot);
}

Test (dnsd_summon, an_unacknowledged_boot_is_announced_again)
{
    dnsd_service_t *service = s_service ("www", "");
    cr_assert (s_query (service, "127.0.0.1", DNSD_TYPE_A, 100).boot);
    s_due = s_expired = 0;
    dnsd_summon_tick (s_summon, 1099, s_on_due, NULL);
    cr_assert (eq (int, s_due, 0));
    dnsd_summon_tick (s_summon, 1100, s_on_due, NULL);
    cr_assert (eq (int, s_due, 1));
    dnsd_summon_tick (s_summon, 1500, s_on_due, NULL);
    cr_assert (eq (int, s_due, 1), "once per interval");
    //  vm.booting: vmctl heard it; no more announcements.
    dnsd_summon_state (s_summon, service, PROTO_STATE_BOOTING, 10, 1600);
    dnsd_summon_tick (s_summon, 5000, s_on_due, NULL);
    cr_assert (eq (int, s_due, 1));
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->republished, 1));
}

Test (dnsd_summon, a_boot_without_ready_ends_at_its_timeout)
{
    dnsd_service_t *service = s_service ("www", ",\"mask\":\"ready\",\"ready_timeout_ms\":1000");
    cr_assert (s_query (service, "127.0.0.1", DNSD_TYPE_A, 100).boot);
    dnsd_summon_state (s_summon, service, PROTO_STATE_BOOTING, 10, 150);
    s_due = s_expired = 0;
    dnsd_summon_tick (s_summon, 1099, s_on_due, NULL);
    cr_assert (eq (int, s_expired, 0));
    dnsd_summon_tick (s_summon, 1100, s_on_due, NULL);
    cr_assert (eq (int, s_expired, 1));
    cr_assert (not(service->in_flight));
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->boot_timeouts, 1));
    cr_assert (s_query (service, "127.0.0.1", DNSD_TYPE_A, 1200).boot, "the next query retries");
}

Test (dnsd_summon, a_failed_boot_releases_and_can_be_retried)
{
    dnsd_service_t *service = s_service ("www", ",\"mask\":\"ready\"");
    cr_assert (s_query (service, "127.0.0.1", DNSD_TYPE_A, 100).boot);
    cr_assert (dnsd_summon_state (s_summon, service, PROTO_STATE_FAILED, 10, 200));
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->boots_failed, 1));
    cr_assert (s_query (service, "127.0.0.1", DNSD_TYPE_A, 300).boot);
}

Test (dnsd_summon, someone_elses_boot_is_joined_not_repeated)
{
    dnsd_service_t *service = s_service ("www", ",\"mask\":\"ready\"");
    dnsd_summon_state (s_summon, service, PROTO_STATE_BOOTING, 10, 100);
    dnsd_decision_t decision = s_query (service, "127.0.0.1", DNSD_TYPE_A, 200);
    cr_assert (not(decision.boot));
    cr_assert (decision.wait);
}

Test (dnsd_summon, another_instances_vm_boot_is_joined_once_and_never_announced)
{
    dnsd_service_t *service = s_service ("www", ",\"mask\":\"ready\",\"ready_timeout_ms\":5000,"
                                                "\"hold_max_ms\":60000");
    cr_assert (dnsd_summon_join (s_summon, service, 100));
    cr_assert (service->in_flight);
    cr_assert (not(dnsd_summon_join (s_summon, service, 150)), "already in flight");
    dnsd_decision_t decision = s_query (service, "127.0.0.1", DNSD_TYPE_A, 200);
    cr_assert (not(decision.boot), "waits on the joined boot");
    cr_assert (decision.wait);
    cr_assert (eq (i64, decision.deadline, 5100), "from when the other instance started it");
    dnsd_summon_tick (s_summon, 3000, s_on_due, NULL);
    cr_assert (eq (int, s_due, 0), "someone else's boot is not ours to announce");
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->boots, 0));
    cr_assert (dnsd_summon_state (s_summon, service, PROTO_STATE_READY, 10, 3100));
    cr_assert (not(dnsd_summon_join (s_summon, service, 3200)), "it runs");
}

Test (dnsd_summon, older_news_never_overrides_newer)
{
    dnsd_service_t *service = s_service ("www", "");
    cr_assert (dnsd_summon_state (s_summon, service, PROTO_STATE_READY, 2000, 100));
    cr_assert (not(dnsd_summon_state (s_summon, service, PROTO_STATE_OFF, 1999, 100)));
    cr_assert (dnsd_service_running (service), "a stale status does not stop it");
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->stale_ignored, 1));
    dnsd_summon_state (s_summon, service, PROTO_STATE_OFF, 2001, 100);
    cr_assert (not(dnsd_service_running (service)));
}

Test (dnsd_summon, auto_holds_until_ready_but_never_past_hold_max_ms_from_the_boot)
{
    dnsd_service_t *service = s_service ("www", "");  // mask auto, the default
    cr_assert (eq (int, service->mask, PROTO_MASK_AUTO));
    dnsd_decision_t first = s_query (service, "127.0.0.1", DNSD_TYPE_A, 100);
    cr_assert (first.boot);
    cr_assert (first.wait);
    cr_assert (first.capped, "ready_timeout_ms (10 s) is later than the cap");
    cr_assert (eq (i64, first.deadline, 1300));
    //  Unbound's retries, each a new query: they share the boot's cap, not one of their own.
    int64_t retries[] = {476, 853, 1299};
    for (size_t index = 0; index < 3; index++) {
        dnsd_decision_t retry = s_query (service, "127.0.0.1", DNSD_TYPE_A, retries[index]);
        cr_assert (retry.wait);
        cr_assert (eq (i64, retry.deadline, 1300));
    }
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->past_cap, 0));
    //  Past the cap, the boot still in flight: answered at once, before ready, and counted.
    for (int64_t now = 1300; now <= 1400; now += 100) {
        dnsd_decision_t late = s_query (service, "127.0.0.1", DNSD_TYPE_AAAA, now);
        cr_assert (not(late.wait));
        cr_assert (not(late.boot), "still one boot");
        cr_assert (late.capped);
    }
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->past_cap, 2));
}

Test (dnsd_summon, ready_and_delay_are_capped_too)
{
    dnsd_decision_t ready =
        s_query (s_service ("r", ",\"mask\":\"ready\",\"ready_timeout_ms\":5000"), "10.1.0.1",
                 DNSD_TYPE_A, 100);
    cr_assert (ready.capped);
    cr_assert (eq (i64, ready.deadline, 1300));
    dnsd_decision_t quick =
        s_query (s_service ("q", ",\"mask\":\"ready\",\"ready_timeout_ms\":1000"), "10.2.0.1",
                 DNSD_TYPE_A, 100);
    cr_assert (not(quick.capped), "its own timeout comes first");
    cr_assert (eq (i64, quick.deadline, 1100));
    dnsd_service_t *delayed = s_service ("d", ",\"mask\":\"delay\",\"response_delay_ms\":2000");
    dnsd_decision_t delay = s_query (delayed, "10.3.0.1", DNSD_TYPE_A, 100);
    cr_assert (delay.capped);
    cr_assert (eq (i64, delay.deadline, 1300));
    dnsd_service_t *short_delay = s_service ("e", ",\"mask\":\"delay\",\"response_delay_ms\":250");
    cr_assert (not(s_query (short_delay, "10.4.0.1", DNSD_TYPE_A, 100).capped));
    dnsd_decision_t later = s_query (short_delay, "10.4.0.1", DNSD_TYPE_A, 1200);
    cr_assert (later.capped, "a delay that would end past the boot's cap");
    cr_assert (eq (i64, later.deadline, 1300));
    //  none and synjitsu answer at once: the cap is nothing to them.
    cr_assert (
        not(s_query (s_service ("n", ",\"mask\":\"none\""), "10.5.0.1", DNSD_TYPE_A, 100).capped));
    cr_assert (not(
        s_query (s_service ("s", ",\"mask\":\"synjitsu\""), "10.6.0.1", DNSD_TYPE_A, 100).capped));
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->past_cap, 0));
}

Test (dnsd_summon, a_services_hold_max_ms_overrides_dnsds)
{
    dnsd_decision_t own =
        s_query (s_service ("a", ",\"hold_max_ms\":300"), "127.0.0.1", DNSD_TYPE_A, 100);
    cr_assert (eq (i64, own.deadline, 400));
    dnsd_decision_t never =
        s_query (s_service ("b", ",\"hold_max_ms\":0"), "127.0.0.1", DNSD_TYPE_A, 100);
    cr_assert (never.boot, "it still boots");
    cr_assert (not(never.wait), "0: never held");
    cr_assert (eq (u64, dnsd_summon_stats (s_summon)->past_cap, 1));
    //  dnsd's own default, from its config.
    s_config.hold_max_ms = 500;
    dnsd_summon_t *other = dnsd_summon_new (s_table, &s_config);
    dnsd_decision_t decision;
    dnsd_summon_query (other, s_service ("c", ""), dt_client (&s_storage, "127.0.0.1"), DNSD_TYPE_A,
                       100, &decision);
    cr_assert (eq (i64, decision.deadline, 600));
    dnsd_summon_destroy (&other);
}

Test (dnsd_summon, a_draining_vm_still_runs_and_answers_with_the_drain_ttl)
{
    dnsd_service_t *service = s_service ("www", ",\"ttl\":300,\"boot_ttl\":4,\"drain_ttl\":7");
    cr_assert (eq (u32, dnsd_service_answer_ttl (service), 4), "off: the boot TTL");
    dnsd_summon_state (s_summon, service, PROTO_STATE_BOOTING, 10, 100);
    cr_assert (eq (u32, dnsd_service_answer_ttl (service), 4), "booting: the boot TTL");
    dnsd_summon_state (s_summon, service, PROTO_STATE_READY, 20, 200);
    cr_assert (eq (u32, dnsd_service_answer_ttl (service), 300));
    cr_assert (dnsd_summon_state (s_summon, service, PROTO_STATE_DRAINING, 30, 300));
    cr_assert (dnsd_service_running (service), "no boot while it drains");
    cr_assert (eq (u32, dnsd_service_answer_ttl (service), 7), "status draining: drain_ttl");
    cr_assert (eq (i64, service->drain_mono, 300));
    dnsd_summon_state (s_summon, service, PROTO_STATE_READY, 40, 400);
    cr_assert (eq (u32, dnsd_service_answer_ttl (service), 300), "cancelled: the full TTL");
}

Test (dnsd_summon, vm_draining_carries_the_ttl_to_answer_with)
{
    dnsd_service_t *service = s_service ("www", ",\"ttl\":300,\"drain_ttl\":7");
    dnsd_summon_state (s_summon, service, PROTO_STATE_READY, 20, 200);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_DRAINING);
    strcpy (msg.vm_draining.service, "www");
    msg.vm_draining.ttl = 3;
    msg.ts = 50;
    cr_assert (dnsd_summon_event (s_summon, service, &msg, 500));
    cr_assert (eq (int, service->state, PROTO_STATE_DRAINING));
    cr_assert (eq (u32, dnsd_service_answer_ttl (service), 3));
    //  An older drain changes nothing.
    msg.ts = 40;
    msg.vm_draining.ttl = 9;
    dnsd_summon_event (s_summon, service, &msg, 600);
    cr_assert (eq (u32, dnsd_service_answer_ttl (service), 3));
    cr_assert (eq (i64, service->drain_mono, 500));
}

Test (dnsd_summon, paused_and_saved_vms_are_summoned_like_off_ones)
{
    struct {
        proto_mode_t mode;
        proto_state_t state;
    } cases[] = {{PROTO_MODE_SUSPEND, PROTO_STATE_PAUSED},
                 {PROTO_MODE_SAVE, PROTO_STATE_SAVED},
                 {PROTO_MODE_DESTROY, PROTO_STATE_OFF}};
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        char name[16];
        snprintf (name, sizeof name, "s%zu", index);
        dnsd_service_t *service = s_service (name, "");
        dnsd_summon_state (s_summon, service, PROTO_STATE_READY, 10, 100);
        proto_msg_t msg;
        proto_msg_init (&msg, PROTO_MSG_VM_STOPPED);
        strcpy (msg.vm_stop.service, name);
        msg.vm_stop.reason = PROTO_REASON_IDLE;
        msg.vm_stop.mode = cases[index].mode;
        msg.ts = 20;
        cr_assert (not(dnsd_summon_event (s_summon, service, &msg, 200)));
        cr_assert (eq (int, service->state, cases[index].state));
        cr_assert (not(dnsd_service_running (service)));
        char client[32];
        snprintf (client, sizeof client, "10.%zu.0.1", index + 1);
        cr_assert (s_query (service, client, DNSD_TYPE_A, 300).boot, "%s", name);
    }
    dnsd_service_t *service = s_service ("status", "");
    dnsd_summon_state (s_summon, service, PROTO_STATE_SAVED, 10, 100);
    cr_assert (s_query (service, "127.0.0.1", DNSD_TYPE_AAAA, 300).boot, "status saved");
}
