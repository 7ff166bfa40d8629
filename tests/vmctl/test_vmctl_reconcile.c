/*  vmctl on test:///default: what a start (or restart) finds, made to agree with libvirt.

    Each test stages libvirt's domains and statestore's statuses as a previous vmctl would
    have left them, then starts vmctl. The test's own connection keeps the test driver's
    state alive across vmctl restarts.  */

#include "vt_services.h"

TestSuite (vmctl_reconcile, .init = vt_setup, .fini = vt_teardown, .timeout = 60);

//  Define and start domain NAME.
static void
s_running (const char *name, const char *mac)
{
    vt_define (name, mac);
    virDomainPtr dom = virDomainLookupByName (vt_conn (), name);
    cr_assert (eq (int, virDomainCreate (dom), 0));
    virDomainFree (dom);
}

//  What a previous vmctl left: service SERVICE (EXTRA: more of its JSON keys) on domain DOMAIN
//  (MAC), running or only defined, with STATUS stored. Then vmctl starts over it.
static void
s_restart_over (const char *service, const char *domain, const char *mac, bool running,
                const char *extra, const char *status)
{
    if (running)
        s_running (domain, mac);
    else
        vt_define (domain, mac);
    vt_domain_service (service, domain, extra);
    vt_put_status (service, status);
    vt_start (NULL);
}

Test (vmctl_reconcile, running_domain_is_adopted_and_reaped_when_idle)
{
    s_running ("a", "52:54:00:00:21:01");
    vt_domain_service ("a1", "a", "\"ttl\": 1, \"idle_timeout_s\": 1, \"idle_on\": \"dns\", ");
    vt_start (NULL);
    vt_assert_states ("a1", "ready");
    cr_assert (eq (i64, vt_counter ("adoptions"), 1));
    proto_status_t status;
    vt_status ("a1", &status);
    cr_assert (eq (str, status.boot_id, "a1-0"), "adopted before any boot of ours");
    //  Its idle clock started at adoption.
    const proto_msg_t *stopped = vt_expect ("vm.stopped", "a1");
    cr_assert (eq (int, stopped->vm_stop.reason, PROTO_REASON_IDLE));
    cr_assert (eq (int, vt_domain_state ("a"), VIR_DOMAIN_SHUTOFF));
}

Test (vmctl_reconcile, ready_status_of_a_running_domain_is_kept_without_a_write)
{
    s_restart_over ("b1", "b", "52:54:00:00:22:01", true, "",
                    "{\"state\": \"ready\", \"boot_id\": \"b1-4\", \"since\": 1, \"boots\": 4, "
                    "\"last_boot_ms\": 900, \"last_error\": \"\"}");
    cr_assert (eq (i64, vt_counter ("adoptions"), 1));
    cr_assert (eq (i64, vt_counter ("status_writes"), 0), "the stored status was right");
    vt_boot ("b1");
    const proto_msg_t *ready = vt_expect ("vm.ready", "b1");
    cr_assert (eq (int, ready->vm_ready.via, PROTO_VIA_RUNNING));
    cr_assert (eq (str, (char *) ready->vm_ready.boot_id, "b1-4"));
}

Test (vmctl_reconcile, stale_ready_status_of_a_stopped_domain_becomes_off)
{
    s_restart_over ("c1", "c", "52:54:00:00:23:01", false, "",
                    "{\"state\": \"ready\", \"boot_id\": \"c1-2\", \"since\": 1, \"boots\": 2, "
                    "\"last_boot_ms\": 900, \"last_error\": \"\"}");
    const proto_msg_t *stopped = vt_expect ("vm.stopped", "c1");
    cr_assert (eq (int, stopped->vm_stop.reason, PROTO_REASON_EXTERNAL));
    cr_assert (eq (str, (char *) stopped->vm_stop.boot_id, "c1-2"));
    vt_assert_states ("c1", "ready,off");
    cr_assert (eq (i64, vt_counter ("status_fixes"), 1));
}

Test (vmctl_reconcile, interrupted_boot_of_a_running_domain_completes)
{
    s_restart_over ("d1", "d", "52:54:00:00:24:01", true, "",
                    "{\"state\": \"booting\", \"boot_id\": \"d1-7\", \"since\": 1, \"boots\": 7, "
                    "\"last_boot_ms\": 0, \"last_error\": \"\"}");
    const proto_msg_t *booting = vt_expect ("vm.booting", "d1");
    cr_assert (eq (str, (char *) booting->vm_booting.boot_id, "d1-7"));
    const proto_msg_t *ready = vt_expect ("vm.ready", "d1");
    cr_assert (eq (str, (char *) ready->vm_ready.boot_id, "d1-7"));
    cr_assert (eq (int, ready->vm_ready.via, PROTO_VIA_RUNNING));
    vt_assert_states ("d1", "booting,ready");
    proto_status_t status;
    vt_status ("d1", &status);
    cr_assert (eq (i64, status.boots, 7), "no new boot was counted");
}

Test (vmctl_reconcile, interrupted_boot_with_a_probe_waits_for_it)
{
    int port = vt_free_port ();
    char extra[64];
    snprintf (extra, sizeof extra, "\"ready\": \"probe:%d\", ", port);
    s_restart_over ("e1", "e", "52:54:00:00:25:01", true, extra,
                    "{\"state\": \"booting\", \"boot_id\": \"e1-1\", \"since\": 1, \"boots\": 1}");
    vt_expect ("vm.booting", "e1");
    cr_assert (eq (ptr, (void *) vt_wait ("vm.ready", "e1", 300), NULL));
    vt_listen (port);
    const proto_msg_t *ready = vt_expect ("vm.ready", "e1");
    cr_assert (eq (int, ready->vm_ready.via, PROTO_VIA_PROBE));
}

Test (vmctl_reconcile, interrupted_boot_without_a_domain_fails)
{
    vt_template_service ("f1", 31, "");
    vt_put_status ("f1", "{\"state\": \"booting\", \"boot_id\": \"f1-3\", \"since\": 1, "
                         "\"boots\": 3}");
    vt_start (NULL);
    const proto_msg_t *failed = vt_expect ("vm.failed", "f1");
    cr_assert (eq (str, (char *) failed->vm_failed.boot_id, "f1-3"));
    vt_assert_states ("f1", "booting,failed");
    //  The next vm.boot starts boot 4.
    vt_boot ("f1");
    const proto_msg_t *ready = vt_expect ("vm.ready", "f1");
    cr_assert (eq (str, (char *) ready->vm_ready.boot_id, "f1-4"));
}

Test (vmctl_reconcile, interrupted_stop_is_finished)
{
    s_restart_over ("g1", "g", "52:54:00:00:26:01", true, "",
                    "{\"state\": \"stopping\", \"boot_id\": \"g1-1\", \"since\": 1, \"boots\": 1}");
    const proto_msg_t *stopped = vt_expect ("vm.stopped", "g1");
    cr_assert (eq (int, stopped->vm_stop.mode, PROTO_MODE_DESTROY));
    cr_assert (eq (int, vt_domain_state ("g"), VIR_DOMAIN_SHUTOFF));
    vt_assert_states ("g1", "stopping,off");
}

Test (vmctl_reconcile, restart_mid_boot_leaves_exactly_one_domain)
{
    int port = vt_free_port ();
    char extra[64];
    snprintf (extra, sizeof extra, "\"ready\": \"probe:%d\", ", port);
    vt_start (NULL);
    vt_template_service ("h1", 1, extra);  // 127.0.0.1, where the test listens
    vt_boot ("h1");
    vt_expect ("vm.booting", "h1");
    vt_stop ();  // vmctl goes away while the boot waits for readiness
    vt_start (NULL);
    vt_boot ("h1");  // the requester asks again
    vt_listen (port);
    const proto_msg_t *ready = vt_expect ("vm.ready", "h1");
    cr_assert (eq (str, (char *) ready->vm_ready.boot_id, "h1-1"), "the same boot, finished");
    virDomainPtr *domains = NULL;
    int count = virConnectListAllDomains (vt_conn (), &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    int named = 0;
    for (int index = 0; index < count; index++) {
        named += streq (virDomainGetName (domains[index]), "jitsu-h1");
        virDomainFree (domains[index]);
    }
    free (domains);
    cr_assert (eq (int, named, 1));
}

Test (vmctl_reconcile, domain_started_behind_vmctls_back_is_adopted)
{
    vt_define ("i", "52:54:00:00:27:01");
    vt_domain_service ("i1", "i", "");
    vt_start (NULL);
    virDomainPtr dom = virDomainLookupByName (vt_conn (), "i");
    cr_assert (eq (int, virDomainCreate (dom), 0));
    virDomainFree (dom);
    vt_assert_states ("i1", "ready");
    cr_assert (eq (i64, vt_counter ("adoptions"), 1));
}

Test (vmctl_reconcile, paused_domain_counts_as_active_and_resumes)
{
    s_running ("j", "52:54:00:00:28:01");
    virDomainPtr dom = virDomainLookupByName (vt_conn (), "j");
    cr_assert (eq (int, virDomainSuspend (dom), 0));
    virDomainFree (dom);
    vt_domain_service ("j1", "j", "");
    vt_start (NULL);
    cr_assert (eq (i64, vt_counter ("vms_paused"), 1));
    cr_assert (eq (i64, vt_counter ("vms_active"), 1));
    vt_boot_ready ("j1");
    cr_assert (eq (int, vt_domain_state ("j"), VIR_DOMAIN_RUNNING));
}

Test (vmctl_reconcile, invalid_stored_status_is_ignored)
{
    vt_template_service ("k1", 33, "");
    vt_put_status ("k1", "{\"state\": \"sleeping\"}");
    vt_start (NULL);
    vt_boot ("k1");
    const proto_msg_t *ready = vt_expect ("vm.ready", "k1");
    cr_assert (eq (str, (char *) ready->vm_ready.boot_id, "k1-1"));
}
