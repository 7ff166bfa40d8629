/*  vmctl on test:///default: idle stop, every stop mode and its fallback, stops vmctl did
    not ask for (crash, external), and the status writes they make.  */

#include "test_support.h"
#include "vt_services.h"

TestSuite (vmctl_stop, .init = vt_setup, .fini = vt_teardown, .timeout = 60);

//  Queries only decide idleness (the test driver's interface counters always move).
#define S_IDLE "\"ttl\": 1, \"idle_timeout_s\": 1, \"idle_on\": \"dns\", "

//  Expect SERVICE to stop for REASON by MODE (vm.stopping asks MODE_ASKED).
static void
s_expect_stop (const char *service, proto_reason_t reason, proto_mode_t asked, proto_mode_t mode)
{
    const proto_msg_t *stopping = vt_expect ("vm.stopping", service);
    cr_assert (eq (int, stopping->vm_stop.reason, reason));
    cr_assert (eq (int, stopping->vm_stop.mode, asked));
    const proto_msg_t *stopped = vt_expect ("vm.stopped", service);
    cr_assert (eq (int, stopped->vm_stop.reason, reason));
    cr_assert (eq (int, stopped->vm_stop.mode, mode), "stopped by %s, expected %s",
               proto_mode_name (stopped->vm_stop.mode), proto_mode_name (mode));
}

//  Define SERVICE from the template (HOST and EXTRA as vt_template_service takes them), boot it
//  until it is ready.
static void
s_template_ready (const char *service, int host, const char *extra)
{
    vt_template_service (service, host, extra);
    vt_boot_ready (service);
}

Test (vmctl_stop, never_queried_vm_is_destroyed_when_idle)
{
    vt_start (NULL);
    s_template_ready ("i1", 11, S_IDLE);
    vt_expect ("vm.draining", "i1");  // destroy makes it unreachable: answers drain first
    s_expect_stop ("i1", PROTO_REASON_IDLE, PROTO_MODE_DESTROY, PROTO_MODE_DESTROY);
    cr_assert (eq (int, vt_domain_state ("jitsu-i1"), -1), "a transient domain is gone");
    vt_assert_states ("i1", "booting,ready,draining,stopping,off");
    cr_assert (eq (i64, vt_counter ("stops_idle"), 1));
}

Test (vmctl_stop, idle_timeout_defaults_to_twice_the_ttl)
{
    vt_start (NULL);
    s_template_ready ("i2", 12, "\"ttl\": 1, \"idle_on\": \"dns\", ");
    int64_t ready_ms = zclock_mono ();
    s_expect_stop ("i2", PROTO_REASON_IDLE, PROTO_MODE_DESTROY, PROTO_MODE_DESTROY);
    cr_assert (ge (i64, zclock_mono () - ready_ms, 2000 - 50), "not before 2 x ttl");
}

Test (vmctl_stop, dns_hits_keep_the_vm_up)
{
    vt_start (NULL);
    s_template_ready ("h1", 13, S_IDLE);
    for (int round = 0; round < 10; round++) {
        vt_hits ("h1");
        cr_assert (eq (ptr, (void *) vt_wait ("vm.stopping", "h1", 250), NULL),
                   "queried within the idle timeout: kept");
    }
    //  Queries stop: so does the VM, and the queries wrote no status.
    s_expect_stop ("h1", PROTO_REASON_IDLE, PROTO_MODE_DESTROY, PROTO_MODE_DESTROY);
    vt_assert_states ("h1", "booting,ready,draining,stopping,off");
    cr_assert (eq (i64, vt_counter ("status_writes"), 5), "one write per transition");
}

Test (vmctl_stop, traffic_keeps_the_vm_up)
{
    vt_start (NULL);
    //  idle_on defaults to dns+traffic; the test driver's counters move on every read.
    s_template_ready ("tr1", 14, "\"ttl\": 1, \"idle_timeout_s\": 1, ");
    cr_assert (ge (i64, vt_counter_reaches ("traffic_kept", 2, VT_WAIT), 2));
    cr_assert (eq (int, vt_count ("vm.stopping", "tr1"), 0));
    cr_assert (eq (int, vt_domain_state ("jitsu-tr1"), VIR_DOMAIN_RUNNING));
}

Test (vmctl_stop, shutdown_mode_asks_the_guest)
{
    vt_start (NULL);
    s_template_ready ("sd1", 15, S_IDLE "\"stop_mode\": \"shutdown\", ");
    s_expect_stop ("sd1", PROTO_REASON_IDLE, PROTO_MODE_SHUTDOWN, PROTO_MODE_SHUTDOWN);
    cr_assert (eq (i64, vt_counter ("stop_fallbacks"), 0));
}

Test (vmctl_stop, shutdown_ignored_is_destroyed_after_the_grace)
{
    vt_start (NULL);
    vt_inject (VMCTL_JOB_SHUTDOWN, VMCTL_FAULT_IGNORE);  // a guest deaf to ACPI
    s_template_ready ("sd2", 16, S_IDLE "\"stop_mode\": \"shutdown\", ");
    s_expect_stop ("sd2", PROTO_REASON_IDLE, PROTO_MODE_SHUTDOWN, PROTO_MODE_DESTROY);
    cr_assert (eq (int, vt_domain_state ("jitsu-sd2"), -1));
    cr_assert (eq (i64, vt_counter ("stop_fallbacks"), 1));
}

Test (vmctl_stop, shutdown_failure_falls_back_to_destroy)
{
    vt_start (NULL);
    vt_inject (VMCTL_JOB_SHUTDOWN, VMCTL_FAULT_FAIL);
    s_template_ready ("sd3", 17, S_IDLE "\"stop_mode\": \"shutdown\", ");
    s_expect_stop ("sd3", PROTO_REASON_IDLE, PROTO_MODE_SHUTDOWN, PROTO_MODE_DESTROY);
    cr_assert (eq (i64, vt_counter ("stop_fallbacks"), 1));
}

Test (vmctl_stop, suspend_mode_pauses_and_the_next_boot_resumes)
{
    vt_start (NULL);
    s_template_ready ("sp1", 18, S_IDLE "\"stop_mode\": \"suspend\", ");
    s_expect_stop ("sp1", PROTO_REASON_IDLE, PROTO_MODE_SUSPEND, PROTO_MODE_SUSPEND);
    cr_assert (eq (int, vt_domain_state ("jitsu-sp1"), VIR_DOMAIN_PAUSED));
    cr_assert (eq (i64, vt_counter ("vms_paused"), 1));
    vt_boot ("sp1");
    const proto_msg_t *ready = vt_expect ("vm.ready", "sp1");
    cr_assert (eq (str, (char *) ready->vm_ready.boot_id, "sp1-2"));
    cr_assert (eq (int, vt_domain_state ("jitsu-sp1"), VIR_DOMAIN_RUNNING));
}

Test (vmctl_stop, suspend_failure_falls_to_the_next_harsher_mode)
{
    vt_start (NULL);
    s_template_ready ("sp2", 19, S_IDLE "\"stop_mode\": \"suspend\", ");
    //  Paused behind vmctl's back: its own suspend then fails ("not running"); save follows,
    //  which the test driver refuses for a paused domain (it takes no SAVE_RUNNING), then
    //  shutdown, then destroy.
    virDomainPtr dom = virDomainLookupByName (vt_conn (), "jitsu-sp2");
    cr_assert (eq (int, virDomainSuspend (dom), 0));
    virDomainFree (dom);
    s_expect_stop ("sp2", PROTO_REASON_IDLE, PROTO_MODE_SUSPEND, PROTO_MODE_DESTROY);
    cr_assert (eq (int, vt_domain_state ("jitsu-sp2"), -1));
    cr_assert (ge (i64, vt_counter ("stop_fallbacks"), 2), "suspend, save, ... destroy");
}

//  The save files of SERVICE in the harness's save directory.
static int
s_save_files (const char *service)
{
    return test_shell ("exit $(ls %s/saves | grep -c '^%s-')", vt_run_dir (), service);
}

Test (vmctl_stop, save_mode_saves_a_defined_domain_to_its_file_and_the_next_boot_restores)
{
    vt_start (NULL);
    vt_define ("sv", "52:54:00:00:11:01");
    vt_domain_service ("sv1", "sv", S_IDLE "\"stop_mode\": \"save\", ");
    vt_boot_ready ("sv1");
    s_expect_stop ("sv1", PROTO_REASON_IDLE, PROTO_MODE_SAVE, PROTO_MODE_SAVE);
    cr_assert (eq (int, s_save_files ("sv1"), 1), "one save file");
    cr_assert (eq (int, vt_domain_state ("sv"), VIR_DOMAIN_SHUTOFF));
    proto_status_t status;
    vt_status_when ("sv1", PROTO_STATE_SAVED, &status);
    vt_boot ("sv1");
    const proto_msg_t *ready = vt_expect ("vm.ready", "sv1");
    cr_assert (eq (int, ready->vm_ready.from, PROTO_TIER_SAVED));
    cr_assert (eq (int, vt_domain_state ("sv"), VIR_DOMAIN_RUNNING));
    cr_assert (eq (int, s_save_files ("sv1"), 0), "a restored file is stale: removed");
}

Test (vmctl_stop, a_transient_domain_saves_too_and_is_restored)
{
    vt_start (NULL);
    s_template_ready ("sv2", 20, S_IDLE "\"stop_mode\": \"save\", ");
    s_expect_stop ("sv2", PROTO_REASON_IDLE, PROTO_MODE_SAVE, PROTO_MODE_SAVE);
    cr_assert (eq (int, vt_domain_state ("jitsu-sv2"), -1), "saved: no domain");
    cr_assert (eq (i64, vt_counter ("stop_fallbacks"), 0));
    vt_boot ("sv2");
    const proto_msg_t *ready = vt_expect ("vm.ready", "sv2");
    cr_assert (eq (int, ready->vm_ready.from, PROTO_TIER_SAVED));
    cr_assert (eq (int, vt_domain_state ("jitsu-sv2"), VIR_DOMAIN_RUNNING));
}

Test (vmctl_stop, destroy_failure_is_failed_and_retried)
{
    vt_start (NULL);
    s_template_ready ("df1", 21, S_IDLE);
    vt_inject (VMCTL_JOB_DESTROY, VMCTL_FAULT_FAIL);
    vt_expect ("vm.stopping", "df1");
    cr_assert (ge (i64, vt_counter_reaches ("stop_failures", 1, VT_WAIT), 1));
    proto_status_t status;
    vt_status_when ("df1", PROTO_STATE_FAILED, &status);
    cr_assert (eq (int, status.state, PROTO_STATE_FAILED));
    cr_assert (eq (str, status.last_error, "virDomainDestroy: injected fault"));
    cr_assert (eq (int, vt_domain_state ("jitsu-df1"), VIR_DOMAIN_RUNNING));
    vt_inject (VMCTL_JOB_DESTROY, VMCTL_FAULT_NONE);
    const proto_msg_t *stopped = vt_wait ("vm.stopped", "df1", 15000);
    cr_assert (not (eq (ptr, (void *) stopped, NULL)), "retried after the failure");
    cr_assert (eq (int, stopped->vm_stop.reason, PROTO_REASON_FAILED));
    cr_assert (eq (int, vt_domain_state ("jitsu-df1"), -1));
}

Test (vmctl_stop, crash_is_published_as_crash)
{
    vt_start (NULL);
    s_template_ready ("cr1", 22, "");
    virDomainPtr dom = virDomainLookupByName (vt_conn (), "jitsu-cr1");
    char path[256];
    snprintf (path, sizeof path, "/tmp/vmctl-crash-%d.core", (int) getpid ());
    cr_assert (eq (int, virDomainCoreDump (dom, path, VIR_DUMP_CRASH), 0));
    unlink (path);
    virDomainFree (dom);
    const proto_msg_t *stopped = vt_expect ("vm.stopped", "cr1");
    cr_assert (eq (int, stopped->vm_stop.reason, PROTO_REASON_CRASH));
    cr_assert (eq (int, stopped->vm_stop.mode, PROTO_MODE_NONE), "nothing was done: no mode");
    cr_assert (eq (int, vt_count ("vm.stopping", "cr1"), 0));
    vt_assert_states ("cr1", "booting,ready,off");
    cr_assert (eq (i64, vt_counter ("stops_crash"), 1));
    //  And it boots again.
    vt_boot_ready ("cr1");
}

Test (vmctl_stop, external_destroy_is_published_as_external)
{
    vt_start (NULL);
    vt_define ("ex", "52:54:00:00:12:01");
    vt_domain_service ("ex1", "ex", "");
    vt_boot_ready ("ex1");
    virDomainPtr dom = virDomainLookupByName (vt_conn (), "ex");
    cr_assert (eq (int, virDomainShutdown (dom), 0));
    virDomainFree (dom);
    const proto_msg_t *stopped = vt_expect ("vm.stopped", "ex1");
    cr_assert (eq (int, stopped->vm_stop.reason, PROTO_REASON_EXTERNAL));
    cr_assert (eq (int, stopped->vm_stop.mode, PROTO_MODE_NONE));
    proto_status_t status;
    vt_status_when ("ex1", PROTO_STATE_OFF, &status);
    cr_assert (eq (int, status.state, PROTO_STATE_OFF));
    cr_assert (eq (i64, vt_counter ("stops_external"), 1));
}

Test (vmctl_stop, boot_during_a_stop_boots_again_after_it)
{
    vt_start (NULL);
    vt_inject (VMCTL_JOB_SHUTDOWN, VMCTL_FAULT_IGNORE);  // the stop lasts the grace period
    s_template_ready ("bs1", 23, S_IDLE "\"stop_mode\": \"shutdown\", ");
    vt_expect ("vm.stopping", "bs1");
    vt_boot ("bs1");
    vt_expect ("vm.stopped", "bs1");
    const proto_msg_t *ready = vt_expect ("vm.ready", "bs1");
    cr_assert (eq (str, (char *) ready->vm_ready.boot_id, "bs1-2"));
    cr_assert (eq (int, vt_domain_state ("jitsu-bs1"), VIR_DOMAIN_RUNNING));
}

Test (vmctl_stop, removed_service_is_stopped)
{
    vt_start (NULL);
    s_template_ready ("rm1", 24, "");
    vt_service_delete ("rm1");
    s_expect_stop ("rm1", PROTO_REASON_ADMIN, PROTO_MODE_DESTROY, PROTO_MODE_DESTROY);
    cr_assert (eq (int, vt_domain_state ("jitsu-rm1"), -1));
    cr_assert (eq (i64, vt_counter ("stops_admin"), 1));
}
