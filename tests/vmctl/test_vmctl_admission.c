/*  vmctl on test:///default: admission limits, and stopping the least recently used idle VM
    to make room.  */

#include "vt_services.h"

TestSuite (vmctl_admission, .init = vt_setup, .fini = vt_teardown, .timeout = 60);

//  vmctl started with CONFIG, and with services "a" (EXTRA: more of its JSON keys) and "b"
//  from the template; "a" booted and ready, taking the room "b" will ask for.
static void
s_a_running (const char *config, const char *extra)
{
    vt_start (config);
    vt_template_service ("a", 1, extra);
    vt_template_service ("b", 2, "");
    vt_boot_ready ("a");
}

//  Ask to boot SERVICE and expect it refused for capacity.
static void
s_boot_refused (const char *service)
{
    vt_boot (service);
    const proto_msg_t *failed = vt_expect ("vm.failed", service);
    cr_assert (eq (str, (char *) failed->vm_failed.error, "capacity"));
    cr_assert (eq (int, vt_count ("vm.booting", service), 0), "nothing was started");
    proto_status_t status;
    vt_status_when (service, PROTO_STATE_FAILED, &status);
    cr_assert (eq (int, status.state, PROTO_STATE_FAILED));
    cr_assert (eq (str, status.last_error, "capacity"));
}

Test (vmctl_admission, max_running_refuses_with_capacity)
{
    s_a_running ("\"max_running\": 1, \"evict_idle\": false", "");
    s_boot_refused ("b");
    cr_assert (eq (i64, vt_counter ("capacity_refusals"), 1));
    cr_assert (eq (int, vt_domain_state ("jitsu-b"), -1));
}

Test (vmctl_admission, max_booting_refuses_with_capacity)
{
    vt_start ("\"max_booting\": 1");
    char extra[64];
    snprintf (extra, sizeof extra, "\"ready\": \"probe:%d\", ", vt_free_port ());
    vt_template_service ("a", 1, extra);  // stays booting: nothing listens
    vt_template_service ("b", 2, "");
    vt_boot ("a");
    vt_expect ("vm.booting", "a");
    s_boot_refused ("b");
}

Test (vmctl_admission, memory_budget_refuses_with_capacity)
{
    s_a_running ("\"memory_budget_mib\": 200, \"evict_idle\": false", "");  // 128 MiB each
    cr_assert (eq (i64, vt_counter ("memory_mib"), 128));
    s_boot_refused ("b");
}

Test (vmctl_admission, memory_budget_counts_a_defined_domains_memory)
{
    vt_start ("\"memory_budget_mib\": 100, \"evict_idle\": false");
    vt_define ("m", "52:54:00:00:31:01");  // 64 MiB
    vt_domain_service ("m1", "m", "");
    vt_template_service ("b", 2, "\"template\": {\"kernel\": \"/k\", \"bridge\": \"br0\", "
                                 "\"memory_mib\": 48}, ");
    vt_boot_ready ("m1");
    cr_assert (eq (i64, vt_counter ("memory_mib"), 64));
    s_boot_refused ("b");
}

Test (vmctl_admission, least_recently_used_idle_vm_is_stopped_to_make_room)
{
    vt_start ("\"max_running\": 2");
    //  Idle for eviction after the TTL (1 s), for the idle stop only after 60 s.
    const char *idle = "\"ttl\": 1, \"idle_timeout_s\": 60, \"idle_on\": \"dns\", ";
    vt_template_service ("a", 1, idle);
    vt_template_service ("b", 2, idle);
    vt_template_service ("c", 3, idle);
    vt_boot_ready ("a");
    vt_boot_ready ("b");
    zclock_sleep (1100);  // both past their TTL; a used least recently
    vt_boot ("c");
    const proto_msg_t *stopped = vt_expect ("vm.stopped", "a");
    cr_assert (eq (int, stopped->vm_stop.reason, PROTO_REASON_IDLE));
    cr_assert (eq (int, stopped->vm_stop.mode, PROTO_MODE_DESTROY));
    vt_expect ("vm.ready", "c");
    cr_assert (eq (int, vt_domain_state ("jitsu-a"), -1));
    cr_assert (eq (int, vt_domain_state ("jitsu-b"), VIR_DOMAIN_RUNNING));
    cr_assert (eq (int, vt_domain_state ("jitsu-c"), VIR_DOMAIN_RUNNING));
    cr_assert (eq (i64, vt_counter ("evictions"), 1));
    vt_assert_states ("c", "booting,ready");
}

Test (vmctl_admission, recently_queried_vm_is_not_evicted)
{
    s_a_running ("\"max_running\": 1", "\"ttl\": 60, \"idle_on\": \"dns\", ");
    vt_hits ("a");
    s_boot_refused ("b");
    cr_assert (eq (int, vt_count ("vm.stopping", "a"), 0));
}

Test (vmctl_admission, vm_with_traffic_is_not_evicted)
{
    //  dns+traffic: the test driver's counters always move, so "a" is in use.
    s_a_running ("\"max_running\": 1", "\"ttl\": 1, \"idle_timeout_s\": 60, ");
    zclock_sleep (1100);
    s_boot_refused ("b");
    cr_assert (eq (int, vt_count ("vm.stopping", "a"), 0));
    cr_assert (ge (i64, vt_counter ("traffic_kept"), 1));
}

Test (vmctl_admission, suspended_vm_is_evicted_first)
{
    vt_start ("\"max_running\": 2");
    vt_template_service ("a", 1, "\"ttl\": 1, \"idle_timeout_s\": 1, \"idle_on\": \"dns\", "
                                 "\"stop_mode\": \"suspend\", ");
    vt_template_service ("b", 2, "\"ttl\": 1, \"idle_timeout_s\": 60, \"idle_on\": \"dns\", ");
    vt_template_service ("c", 3, "");
    vt_boot_ready ("b");
    vt_boot_ready ("a");  // a is used more recently than b, but ends up paused
    vt_expect ("vm.stopped", "a");
    cr_assert (eq (int, vt_domain_state ("jitsu-a"), VIR_DOMAIN_PAUSED));
    vt_boot ("c");
    vt_expect ("vm.ready", "c");
    cr_assert (eq (int, vt_domain_state ("jitsu-a"), -1), "the paused VM made room");
    cr_assert (eq (int, vt_domain_state ("jitsu-b"), VIR_DOMAIN_RUNNING));
}

Test (vmctl_admission, failed_eviction_refuses_with_capacity)
{
    s_a_running ("\"max_running\": 1",
                 "\"ttl\": 1, \"idle_timeout_s\": 60, \"idle_on\": \"dns\", ");
    zclock_sleep (1100);
    vt_inject (VMCTL_JOB_DESTROY, VMCTL_FAULT_FAIL);  // the eviction fails...
    s_boot_refused ("b");  // ...so there is no room
    cr_assert (eq (int, vt_domain_state ("jitsu-a"), VIR_DOMAIN_RUNNING));
}
