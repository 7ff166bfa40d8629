/*  vmctl on test:///default: booting, readiness and boot failures.  */

#include "vt_services.h"

TestSuite (vmctl_boot, .init = vt_setup, .fini = vt_teardown, .timeout = 60);

//  Boot SERVICE on a new domain DOMAIN whose readiness is a probe of a loopback port nothing
//  listens on yet, and wait for vm.booting. Returns the port.
static int
s_boot_probed (const char *service, const char *domain, const char *mac)
{
    int port = vt_free_port ();
    char extra[128];
    snprintf (extra, sizeof extra, "\"ready\": \"probe:%d\", ", port);
    vt_define (domain, mac);
    vt_domain_service (service, domain, extra);
    vt_boot (service);
    vt_expect ("vm.booting", service);
    return port;
}

Test (vmctl_boot, defined_domain_boots_with_booting_then_ready)
{
    vt_start (NULL);
    vt_define ("d1", "52:54:00:00:01:01");
    vt_domain_service ("s1", "d1", "\"mac\": \"52:54:00:00:01:01\", ");
    vt_boot ("s1");
    const proto_msg_t *booting = vt_expect ("vm.booting", "s1");
    cr_assert (eq (str, (char *) booting->vm_booting.domain, "d1"));
    cr_assert (eq (str, (char *) booting->vm_booting.boot_id, "s1-1"));
    cr_assert (eq (str, (char *) booting->vm_booting.ip, "127.0.0.1"));
    cr_assert (eq (str, (char *) booting->vm_booting.mac, "52:54:00:00:01:01"));
    cr_assert (eq (str, (char *) booting->vm_booting.iface, "testnet0"),
               "the host-side interface comes from the live domain XML");
    cr_assert (eq (int, booting->vm_booting.mask, PROTO_BOOTING_MASK_AUTO),
               "the service's mask (auto by default), for synjitsu");
    cr_assert (eq (sz, strlen (booting->vm_booting.uuid), 36));
    const proto_msg_t *ready = vt_expect ("vm.ready", "s1");
    cr_assert (eq (int, ready->vm_ready.via, PROTO_VIA_EVENT));
    cr_assert (eq (str, (char *) ready->vm_ready.boot_id, "s1-1"));
    cr_assert (eq (int, vt_domain_state ("d1"), VIR_DOMAIN_RUNNING));
    vt_assert_states ("s1", "booting,ready");
    proto_status_t status;
    vt_status ("s1", &status);
    cr_assert (eq (int, status.state, PROTO_STATE_READY));
    cr_assert (eq (i64, status.boots, 1));
    cr_assert (eq (str, status.boot_id, "s1-1"));
    cr_assert (eq (i64, status.last_boot_ms, ready->vm_ready.boot_ms));
}

Test (vmctl_boot, template_creates_a_transient_domain)
{
    vt_start (NULL);
    vt_template_service ("t1", 11, "\"mac\": \"52:54:00:00:02:01\", \"mask\": \"synjitsu\", ");
    vt_boot ("t1");
    const proto_msg_t *booting = vt_expect ("vm.booting", "t1");
    cr_assert (eq (int, booting->vm_booting.mask, PROTO_BOOTING_MASK_SYNJITSU));
    cr_assert (eq (str, (char *) booting->vm_booting.domain, "jitsu-t1"));
    cr_assert (eq (str, (char *) booting->vm_booting.ip, "127.0.0.11"));
    cr_assert (eq (str, (char *) booting->vm_booting.mac, "52:54:00:00:02:01"));
    vt_expect ("vm.ready", "t1");
    virDomainPtr dom = virDomainLookupByName (vt_conn (), "jitsu-t1");
    cr_assert (not (eq (ptr, dom, NULL)));
    cr_assert (eq (int, virDomainIsPersistent (dom), 0), "a template makes a transient domain");
    char *xml = virDomainGetXMLDesc (dom, 0);
    cr_assert (not (eq (ptr, strstr (xml, "<kernel>/boot/vmlinux</kernel>"), NULL)));
    cr_assert (not (eq (ptr, strstr (xml, "machine='microvm'"), NULL)));
    free (xml);
    virDomainFree (dom);
}

Test (vmctl_boot, running_vm_is_reannounced_not_booted_again)
{
    vt_start (NULL);
    vt_template_service ("t2", 12, "");
    vt_boot ("t2");
    vt_expect ("vm.ready", "t2");
    vt_boot ("t2");
    const proto_msg_t *booting = vt_expect ("vm.booting", "t2");
    booting = vt_expect ("vm.booting", "t2");
    cr_assert (eq (str, (char *) booting->vm_booting.boot_id, "t2-1"));
    const proto_msg_t *ready = vt_expect ("vm.ready", "t2");
    cr_assert (eq (int, ready->vm_ready.via, PROTO_VIA_RUNNING));
    cr_assert (eq (i64, ready->vm_ready.boot_ms, 0));
    cr_assert (eq (str, (char *) ready->vm_ready.boot_id, "t2-1"));
    cr_assert (eq (i64, vt_counter ("reannounces"), 1));
    cr_assert (eq (i64, vt_counter ("boots"), 1));
    vt_assert_states ("t2", "booting,ready");
    cr_assert (eq (i64, vt_counter ("status_writes"), 2), "a re-announce writes nothing");
}

Test (vmctl_boot, boot_in_progress_is_not_started_twice)
{
    vt_start (NULL);
    int port = s_boot_probed ("p1", "d2", "52:54:00:00:03:01");
    vt_boot ("p1");
    vt_boot ("p1");
    cr_assert (eq (i64, vt_counter_reaches ("boots_joined", 2, VT_WAIT), 2));
    vt_listen (port);
    const proto_msg_t *ready = vt_expect ("vm.ready", "p1");
    cr_assert (eq (int, ready->vm_ready.via, PROTO_VIA_PROBE));
    cr_assert (eq (i64, vt_counter ("boots"), 1));
    proto_status_t status;
    vt_status ("p1", &status);
    cr_assert (eq (i64, status.boots, 1));
    cr_assert (eq (int, vt_count ("vm.ready", "p1"), 1));
}

Test (vmctl_boot, paused_vm_is_resumed)
{
    vt_start (NULL);
    vt_define ("d3", "52:54:00:00:04:01");
    virDomainPtr dom = virDomainLookupByName (vt_conn (), "d3");
    cr_assert (eq (int, virDomainCreate (dom), 0));
    cr_assert (eq (int, virDomainSuspend (dom), 0));
    virDomainFree (dom);
    vt_domain_service ("r1", "d3", "");
    vt_boot ("r1");
    const proto_msg_t *ready = vt_expect ("vm.ready", "r1");
    cr_assert (eq (int, ready->vm_ready.via, PROTO_VIA_EVENT), "libvirt's resumed event");
    cr_assert (eq (int, vt_domain_state ("d3"), VIR_DOMAIN_RUNNING));
}

Test (vmctl_boot, managed_saved_vm_is_restored)
{
    vt_start (NULL);
    vt_define ("d4", "52:54:00:00:05:01");
    virDomainPtr dom = virDomainLookupByName (vt_conn (), "d4");
    cr_assert (eq (int, virDomainCreate (dom), 0));
    cr_assert (eq (int, virDomainManagedSave (dom, 0), 0));
    cr_assert (eq (int, virDomainHasManagedSaveImage (dom, 0), 1));
    vt_domain_service ("r2", "d4", "");
    vt_boot ("r2");
    vt_expect ("vm.ready", "r2");
    cr_assert (eq (int, vt_domain_state ("d4"), VIR_DOMAIN_RUNNING));
    cr_assert (eq (int, virDomainHasManagedSaveImage (dom, 0), 0), "the image was restored");
    virDomainFree (dom);
}

Test (vmctl_boot, domain_found_by_uuid)
{
    vt_start (NULL);
    vt_define ("d5", "52:54:00:00:06:01");
    virDomainPtr dom = virDomainLookupByName (vt_conn (), "d5");
    char uuid[VIR_UUID_STRING_BUFLEN];
    virDomainGetUUIDString (dom, uuid);
    virDomainFree (dom);
    vt_domain_service ("u1", uuid, "");
    vt_boot ("u1");
    const proto_msg_t *booting = vt_expect ("vm.booting", "u1");
    cr_assert (eq (str, (char *) booting->vm_booting.domain, "d5"));
    cr_assert (eq (str, (char *) booting->vm_booting.uuid, uuid));
    vt_expect ("vm.ready", "u1");
}

Test (vmctl_boot, unknown_domain_fails_with_the_libvirt_message)
{
    vt_start (NULL);
    vt_domain_service ("f1", "nosuch", "");
    vt_boot ("f1");
    const proto_msg_t *failed = vt_expect ("vm.failed", "f1");
    cr_log_info ("vm.failed error: %s", failed->vm_failed.error);
    cr_assert (eq (str, (char *) failed->vm_failed.boot_id, "f1-1"));
    cr_assert (not (eq (ptr, strstr (failed->vm_failed.error, "virDomainLookupByName: "), NULL)));
    cr_assert (not (eq (ptr, strstr (failed->vm_failed.error, "Domain not found"), NULL)));
    cr_assert (eq (int, vt_count ("vm.booting", "f1"), 0));
    proto_status_t status;
    vt_status_when ("f1", PROTO_STATE_FAILED, &status);
    cr_assert (eq (int, status.state, PROTO_STATE_FAILED));
    cr_assert (eq (str, status.last_error, (char *) failed->vm_failed.error));
    cr_assert (eq (i64, vt_counter ("boot_failures"), 1));
}

Test (vmctl_boot, define_error_fails_with_the_libvirt_message)
{
    vt_start (NULL);
    //  The service schema lets a command line hold a control character; XML 1.0 cannot carry
    //  one, escaped or not, so libvirt's parser refuses the domain.
    vt_service ("f2", "{\"name\": \"f2\", \"dns\": [\"f2.example.org\"], \"ip\": \"127.0.0.21\", "
                      "\"template\": {\"kernel\": \"/boot/vmlinux\", \"bridge\": \"br0\", "
                      "\"cmdline\": \"console=ttyS0 \\u0001\"}}");
    vt_boot ("f2");
    const proto_msg_t *failed = vt_expect ("vm.failed", "f2");
    cr_log_info ("vm.failed error: %s", failed->vm_failed.error);
    cr_assert (not (eq (ptr, strstr (failed->vm_failed.error, "virDomainCreateXML: "), NULL)));
    cr_assert (not (eq (ptr, strstr (failed->vm_failed.error, "invalid Char value 1"), NULL)));
    cr_assert (eq (int, vt_domain_state ("jitsu-f2"), -1));
    vt_assert_states ("f2", "booting,failed");
}

Test (vmctl_boot, probe_readiness_waits_for_a_listener)
{
    vt_start (NULL);
    int port = s_boot_probed ("p2", "d6", "52:54:00:00:07:01");
    cr_assert (eq (ptr, (void *) vt_wait ("vm.ready", "p2", 300), NULL),
               "nothing listens: not ready");
    vt_listen (port);
    const proto_msg_t *ready = vt_expect ("vm.ready", "p2");
    cr_assert (eq (int, ready->vm_ready.via, PROTO_VIA_PROBE));
    cr_assert (ge (i64, ready->vm_ready.boot_ms, 300));
}

Test (vmctl_boot, garp_readiness_waits_for_guest_seen)
{
    vt_start (NULL);
    vt_template_service ("g1", 31, "\"ready\": \"garp\", \"mac\": \"52:54:00:00:08:01\", ");
    vt_boot ("g1");
    vt_expect ("vm.booting", "g1");
    cr_assert (eq (ptr, (void *) vt_wait ("vm.ready", "g1", 300), NULL),
               "the guest was not seen: not ready");
    vt_guest_seen ("g1", "127.0.0.31", "52:54:00:00:08:01");
    const proto_msg_t *ready = vt_expect ("vm.ready", "g1");
    cr_assert (eq (int, ready->vm_ready.via, PROTO_VIA_GARP));
}

Test (vmctl_boot, ready_timeout_stops_the_domain_then_fails)
{
    vt_start (NULL);
    char extra[128];
    snprintf (extra, sizeof extra, "\"ready\": \"probe:%d\", \"ready_timeout_ms\": 300, ",
              vt_free_port ());
    vt_template_service ("to1", 41, extra);
    vt_boot ("to1");
    vt_expect ("vm.booting", "to1");
    const proto_msg_t *stopping = vt_expect ("vm.stopping", "to1");
    cr_assert (eq (int, stopping->vm_stop.reason, PROTO_REASON_FAILED));
    const proto_msg_t *stopped = vt_expect ("vm.stopped", "to1");
    cr_assert (eq (int, stopped->vm_stop.mode, PROTO_MODE_DESTROY));
    const proto_msg_t *failed = vt_expect ("vm.failed", "to1");
    cr_assert (gt (i64, failed->seq, stopped->seq), "vm.failed only once the domain is gone");
    cr_assert (not (eq (ptr, strstr (failed->vm_failed.error, "ready_timeout"), NULL)));
    cr_assert (eq (int, vt_domain_state ("jitsu-to1"), -1));
    vt_assert_states ("to1", "booting,stopping,failed");
}

Test (vmctl_boot, response_delay_follows_readiness)
{
    vt_start (NULL);
    vt_template_service ("dl1", 51, "\"response_delay_ms\": 400, ");
    vt_boot ("dl1");
    const proto_msg_t *ready = vt_expect ("vm.ready", "dl1");
    cr_assert (ge (i64, ready->vm_ready.boot_ms, 400));
}

Test (vmctl_boot, invalid_stored_config_is_ignored)
{
    vt_start (NULL);
    vt_service ("bad", "{\"name\": \"bad\", \"dns\": [\"bad.example.org\"], "
                       "\"ip\": \"10.0.0.300\", \"domain\": \"x\"}");
    cr_assert (eq (i64, vt_counter ("configs_invalid"), 1));
    vt_boot ("bad");
    cr_assert (eq (i64, vt_counter_reaches ("boots_unknown", 1, VT_WAIT), 1));
    //  vmctl is still here and serves the next valid service.
    vt_template_service ("good", 61, "");
    vt_boot ("good");
    vt_expect ("vm.ready", "good");
}

Test (vmctl_boot, counters_and_boot_ms_histogram_in_svc_alive)
{
    vt_start (NULL);
    vt_template_service ("c1", 71, "");
    vt_boot ("c1");
    vt_expect ("vm.ready", "c1");
    cr_assert (eq (i64, vt_counter ("boots"), 1));
    cr_assert (eq (i64, vt_counter ("boots_ready"), 1));
    cr_assert (eq (i64, vt_counter ("boot_ms_le_inf"), 1));
    cr_assert (eq (i64, vt_counter ("boot_ms_count"), 1));
    cr_assert (eq (i64, vt_counter ("latency_samples"), 1));
    cr_assert (ge (i64, vt_counter ("dispatch_us_p50"), 0));
    cr_assert (eq (i64, vt_counter ("vms_ready"), 1));
    cr_assert (eq (i64, vt_counter ("libvirt_connected"), 1));
}

//  Start vmctl serving only KIND ("template" or "domain"), with a service of each kind: d on
//  the new domain DOMAIN, t from the template at 127.0.0.HOST.
static void
s_start_serving (const char *kind, const char *domain, const char *mac, int host)
{
    char extra[64];
    snprintf (extra, sizeof extra, "\"serve\": \"%s\"", kind);
    vt_start (extra);
    vt_define (domain, mac);
    vt_domain_service ("d", domain, "");
    vt_template_service ("t", host, "");
}

Test (vmctl_boot, an_instance_serving_templates_leaves_defined_domains_alone)
{
    s_start_serving ("template", "other", "52:54:00:00:41:01", 41);
    vt_boot ("d");
    vt_boot_ready ("t");
    //  The defined-domain service belongs to another vmctl: nothing is done or said about it.
    cr_assert (eq (ptr, (void *) vt_wait ("vm.failed", "d", 500), NULL));
    cr_assert (eq (int, vt_count ("vm.booting", "d"), 0));
    cr_assert (eq (int, vt_domain_state ("other"), VIR_DOMAIN_SHUTOFF));
    cr_assert (eq (i64, vt_counter ("boots_unknown"), 0), "no warning either");
}

Test (vmctl_boot, an_instance_serving_defined_domains_leaves_templates_alone)
{
    s_start_serving ("domain", "mine", "52:54:00:00:42:01", 42);
    vt_boot ("t");
    vt_boot_ready ("d");
    cr_assert (eq (int, vt_count ("vm.booting", "t"), 0));
    cr_assert (eq (int, vt_domain_state ("jitsu-t"), -1));
}
