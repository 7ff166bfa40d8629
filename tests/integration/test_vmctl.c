/*  Integration: the real jitsu-vmctl process with the real bus and statestore, driven with
    jitsuctl as an operator would.

    Where the hypervisor must outlive vmctl (kill -9 and restart) or must itself restart
    (libvirtd), the tests use vmctl_fixture's private libvirtd serving the test driver; its
    QEMU driver (qemu:///session) checks that vmctl's generated domain XML defines on real
    QEMU.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libvirt/virterror.h>
#include <sys/wait.h>

#include "test_support.h"
#include "vmctl_fixture.h"
#include "vmctl_xml.h"

TestSuite (integration_vmctl, .init = vf_setup, .fini = vf_teardown, .timeout = 180);

Test (integration_vmctl, boot_with_jitsuctl_then_idle_stop_with_a_1s_ttl)
{
    vf_start_vmctl ("test:///default", NULL);
    cr_assert (eq (int, vf_jitsuctl ("service add www dns=www.example.org,ip=127.0.0.1,"
                                    "kernel=/boot/vmlinux,bridge=br0,ttl=1,idle_on=dns"),
                   0));
    //  vmctl has the definition once its copy reaches the write's revision (1).
    cr_assert (eq (i64, vf_counter_becomes ("state_rev", 1), 1));
    vf_boot ("www");
    proto_msg_t *booting = vf_expect ("vm.booting", "www");
    cr_assert (eq (str, booting->vm_booting.domain, "jitsu-www"));
    proto_msg_t *ready = vf_expect ("vm.ready", "www");
    cr_assert (eq (str, ready->vm_ready.boot_id, booting->vm_booting.boot_id));
    int64_t ready_ms = zclock_mono ();
    cr_assert (eq (int, vf_state_becomes ("www", PROTO_STATE_READY), PROTO_STATE_READY));
    //  No query comes: after 2 x ttl it is stopped.
    proto_msg_t *stopped = vf_expect ("vm.stopped", "www");
    cr_assert (eq (int, stopped->vm_stop.reason, PROTO_REASON_IDLE));
    cr_assert (ge (i64, zclock_mono () - ready_ms, 2000 - 100));
    cr_assert (eq (int, vf_state_becomes ("www", PROTO_STATE_OFF), PROTO_STATE_OFF));
    cr_assert (eq (i64, vf_counter_becomes ("stops_idle", 1), 1));
    cr_assert (eq (i64, vf_counter_becomes ("boots", 1), 1));
    vf_drop (booting);
    vf_drop (ready);
    vf_drop (stopped);
    //  SIGTERM: a clean exit.
    int status = test_stop (vf_vmctl, SIGTERM, 5000);
    bool exited = WIFEXITED (status);
    int code = exited ? WEXITSTATUS (status) : -1;
    cr_assert (exited, "vmctl did not exit by itself on SIGTERM");
    cr_assert (eq (int, code, 0));
}

Test (integration_vmctl, status_is_stored_once_statestore_is_back)
{
    vf_start_vmctl ("test:///default", NULL);
    vf_service ("sb", "{\"name\": \"sb\", \"dns\": [\"sb.example.org\"], \"ip\": \"127.0.0.1\", "
                     "\"template\": {\"kernel\": \"/boot/vmlinux\", \"bridge\": \"br0\"}}");
    test_stop (vf_statestore, SIGKILL, 1000);
    vf_boot ("sb");
    vf_drop (vf_expect ("vm.ready", "sb"));
    //  Longer than the state client's retries (6 x 1 s): both writes (booting, then ready,
    //  sent once the first was given up) are given up...
    if (vf_counter_becomes ("status_failures", 2) != 2)  // twice the 6 s: two waits
        cr_assert (eq (i64, vf_counter_becomes ("status_failures", 2), 2));
    vf_statestore = test_start_statestore (vf_run_dir, NULL);
    cr_assert (gt (int, vf_statestore, 0));
    //  ...and the last status is written again once statestore answers.
    cr_assert (eq (int, vf_state_becomes ("sb", PROTO_STATE_READY), PROTO_STATE_READY));
}

Test (integration_vmctl, check_config_accepts_and_refuses)
{
    char good[512], bad[512];
    snprintf (good, sizeof good, "%s/good.json", vf_run_dir);
    snprintf (bad, sizeof bad, "%s/bad.json", vf_run_dir);
    test_write_file (good, "{\"uri\": \"test:///default\", \"max_running\": 4}\n");
    test_write_file (bad, "{\"uri\": \"test:///default\",\n \"limit\": {}}\n");
    cr_assert (eq (int, test_shell ("%s/vmctl/jitsu-vmctl --check-config -c %s >/dev/null",
                                    JITSU_BUILD_DIR, good), 0));
    cr_assert (eq (int, test_shell ("%s/vmctl/jitsu-vmctl --check-config -c %s 2>%s/err",
                                    JITSU_BUILD_DIR, bad, vf_run_dir), 1));
    cr_assert (eq (int, test_shell ("grep -q 'bad.json: unknown key \"limit\"' %s/err", vf_run_dir),
                   0));
}

Test (integration_vmctl, kill_9_mid_boot_then_restart_leaves_exactly_one_vm)
{
    vf_need_libvirtd ();
    vf_start_libvirtd ();
    vf_start_vmctl (vf_test_uri (), NULL);
    int port = test_free_port (AF_INET);
    //  Kill at several points of the boot: before vmctl has the request, around the create
    //  call, and while it waits for readiness (a probe nothing answers yet).
    const int delays_ms[] = {0, 1, 2, 5, 10, 30, -1};
    for (size_t round = 0; round < sizeof delays_ms / sizeof delays_ms[0]; round++) {
        char name[16], json[512];
        snprintf (name, sizeof name, "k%zu", round);
        snprintf (json, sizeof json,
                  "{\"name\": \"%s\", \"dns\": [\"%s.example.org\"], \"ip\": \"127.0.0.1\", "
                  "\"ready\": \"probe:%d\", \"template\": {\"kernel\": \"/boot/vmlinux\", "
                  "\"bridge\": \"br0\"}}",
                  name, name, port);
        vf_service (name, json);
        vf_boot (name);
        if (delays_ms[round] >= 0)
            zclock_sleep (delays_ms[round]);
        else
            vf_drop (vf_expect ("vm.booting", name));
        test_stop (vf_vmctl, SIGKILL, 1000);
        vf_start_vmctl (vf_test_uri (), NULL);
        vf_boot (name);  // as dnsd re-asks when no answer comes
        if (vf_listener < 0)
            vf_listen (port);
        proto_msg_t *ready = vf_expect ("vm.ready", name);
        cr_log_info ("round %zu: killed after %d ms; ready via %s boot_id %s", round,
                     delays_ms[round], proto_via_name (ready->vm_ready.via),
                     ready->vm_ready.boot_id);
        vf_drop (ready);
        char domain[32];
        snprintf (domain, sizeof domain, "jitsu-%s", name);
        cr_assert (eq (int, vf_running_named (domain), 1), "round %zu: exactly one VM", round);
        cr_assert (eq (int, vf_state_becomes (name, PROTO_STATE_READY), PROTO_STATE_READY));
        //  Nothing from this round may leak into the next one's expectations.
        proto_msg_t *msg;
        while ((msg = vf_wait ("vm.ready", name, 0)))
            vf_drop (msg);
        close (vf_listener);
        vf_listener = -1;
    }
}

Test (integration_vmctl, libvirtd_restart_is_survived)
{
    vf_need_libvirtd ();
    vf_start_libvirtd ();
    vf_start_vmctl (vf_test_uri (), NULL);
    vf_service ("lr", "{\"name\": \"lr\", \"dns\": [\"lr.example.org\"], \"ip\": \"127.0.0.1\", "
                     "\"template\": {\"kernel\": \"/boot/vmlinux\", \"bridge\": \"br0\"}}");
    vf_service ("down", "{\"name\": \"down\", \"dns\": [\"down.example.org\"], "
                       "\"ip\": \"127.0.0.1\", \"ready_timeout_ms\": 300, "
                       "\"template\": {\"kernel\": \"/boot/vmlinux\", \"bridge\": \"br0\"}}");
    vf_boot ("lr");
    vf_drop (vf_expect ("vm.ready", "lr"));
    vf_stop_libvirtd ();
    cr_assert (eq (i64, vf_counter_becomes ("libvirt_connected", 0), 0), "the loss was seen");
    //  A boot while libvirtd is away is held, then fails with libvirt's reason.
    vf_boot ("down");
    proto_msg_t *failed = vf_expect ("vm.failed", "down");
    cr_log_info ("vm.failed while libvirtd is down: %s", failed->vm_failed.error);
    cr_assert (eq (ptr, strstr (failed->vm_failed.error, "virConnectOpen: "),
                   failed->vm_failed.error));
    vf_drop (failed);
    vf_start_libvirtd ();
    cr_assert (eq (i64, vf_counter_becomes ("libvirt_connected", 1), 1), "reconnected");
    cr_assert (eq (i64, vf_counter_becomes ("reconciled", 1), 1));
    //  The restarted test driver lost its domains: the reconcile says so.
    proto_msg_t *stopped = vf_expect ("vm.stopped", "lr");
    cr_assert (eq (int, stopped->vm_stop.reason, PROTO_REASON_EXTERNAL));
    vf_drop (stopped);
    cr_assert (eq (int, vf_state_becomes ("lr", PROTO_STATE_OFF), PROTO_STATE_OFF));
    vf_boot ("lr");
    vf_drop (vf_expect ("vm.ready", "lr"));
    cr_assert (eq (int, vf_running_named ("jitsu-lr"), 1));
    cr_assert (eq (i64, vf_counter_becomes ("libvirt_reconnects", 1), 1));
}

//  libvirt's QEMU driver (session mode, in the private libvirtd) accepts the domains vmctl
//  generates for both machines. Nothing is started.
Test (integration_vmctl, generated_xml_defines_on_qemu)
{
    vf_need_libvirtd ();
    if (access ("/usr/bin/qemu-system-x86_64", X_OK))
        cr_skip_test ("needs qemu-system-x86_64 (qemu-system-x86)");
    vf_start_libvirtd ();
    char uri[192];
    snprintf (uri, sizeof uri, "qemu+unix:///session?socket=%s", vf_socket ());
    virConnectPtr qemu = virConnectOpen (uri);
    cr_assert (not (eq (ptr, qemu, NULL)), "qemu:///session: %s", virGetLastErrorMessage ());
    const char *machines[] = {"microvm", "q35"};
    for (size_t index = 0; index < 2; index++) {
        proto_service_t service;
        proto_service_init (&service);
        strcpy (service.name, "www");
        strcpy (service.mac, "52:54:00:12:34:56");
        proto_template_t template = {0};
        strcpy (template.kernel, "/var/lib/jitsu/vmlinux");
        strcpy (template.initrd, "/var/lib/jitsu/initrd.img");
        strcpy (template.cmdline, "console=ttyS0 quiet ip=10.0.0.10 name='www' <&>");
        strcpy (template.bridge, "br-jitsu");
        strcpy (template.machine, machines[index]);
        template.memory_mib = 128;
        template.vcpus = 1;
        service.template = &template;
        char name[32];
        snprintf (name, sizeof name, "jitsu-xml-%s", machines[index]);
        char *xml = vmctl_xml_domain (&service, name, "qemu");
        virDomainPtr dom = virDomainDefineXMLFlags (qemu, xml, VIR_DOMAIN_DEFINE_VALIDATE);
        cr_assert (not (eq (ptr, dom, NULL)), "%s: %s\n%s", machines[index],
                   virGetLastErrorMessage (), xml);
        char *defined = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
        cr_assert (not (eq (ptr, strstr (defined, "name=&apos;www&apos; &lt;&amp;&gt;"), NULL)),
                   "the command line went through intact:\n%s", defined);
        free (defined);
        cr_assert (eq (int, virDomainUndefine (dom), 0));
        virDomainFree (dom);
        free (xml);
    }
    virConnectClose (qemu);
}
