/*  Integration: bus + statestore + vmctl + dnsd, the whole summoning path.

    dig asks dnsd for a sleeping service; dnsd publishes vm.boot; vmctl boots the domain in
    libvirt and publishes vm.ready; dnsd (mask=ready) then answers with the service's address.
    Queried no more, the VM is stopped after twice its 1-second TTL. With root, libvirt is the
    fixture's private libvirtd, and the test sees the domain run and go away in libvirt
    itself; without, vmctl uses its in-process test driver and the test relies on vmctl's
    messages and statuses. Built only when the tree has jitsu-dnsd.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "test_support.h"
#include "vmctl_fixture.h"

TestSuite (integration_vmctl_dnsd, .init = vf_setup, .fini = vf_teardown, .timeout = 120);

//  Start jitsu-dnsd on a free port of 127.0.0.1; returns the port.
static int
s_start_dnsd (void)
{
    char config[512], port_file[512], log[512];
    snprintf (config, sizeof config, "%s/dnsd.json", vf_run_dir);
    snprintf (port_file, sizeof port_file, "%s/dnsd.port", vf_run_dir);
    snprintf (log, sizeof log, "%s/dnsd.log", vf_run_dir);
    int written = test_write_file (
        config,
        "{\"instance\": \"1\", \"listen\": [\"127.0.0.1\"], \"port\": 0, \"port_file\": \"%s\", "
        "\"heartbeat_ms\": 200, \"statestore_heartbeat_ms\": 200, \"boot_retry_ms\": 500}\n",
        port_file);
    cr_assert (eq (int, written, 0));
    char *argv[] = {JITSU_BUILD_DIR "/dnsd/jitsu-dnsd", "-c", config, NULL};
    cr_assert (gt (int, test_spawn (argv, log, log), 0));
    cr_assert (test_wait_path (port_file, 10000), "dnsd did not start (see %s)", log);
    int port = 0;
    for (int attempt = 0; attempt < 100 && port <= 0; attempt++) {
        FILE *file = fopen (port_file, "r");
        if (file && fscanf (file, "%d", &port) != 1)
            port = 0;
        if (file)
            fclose (file);
        if (port <= 0)
            zclock_sleep (10);
    }
    cr_assert (gt (int, port, 0));
    return port;
}

Test (integration_vmctl_dnsd, dig_summons_the_vm_then_idle_stops_it)
{
    bool private_libvirtd = test_is_root () && access ("/usr/sbin/libvirtd", X_OK) == 0;
    if (private_libvirtd)
        vf_start_libvirtd ();
    else
        cr_log_warn ("not root: vmctl uses its in-process test driver; the domain itself is "
                     "not looked at");
    vf_start_vmctl (private_libvirtd ? vf_test_uri () : "test:///default", NULL);
    vf_service ("www", "{\"name\": \"www\", \"dns\": [\"www.example.org\"], "
                       "\"ip\": \"127.0.0.10\", \"ttl\": 1, \"mask\": \"ready\", "
                       "\"idle_on\": \"dns\", \"template\": {\"kernel\": \"/boot/vmlinux\", "
                       "\"bridge\": \"br0\"}}");
    int port = s_start_dnsd ();
    //  The service is off: dnsd holds the answer until vmctl says the VM is ready.
    cr_assert (eq (int, test_shell ("dig @127.0.0.1 -p %d +tries=1 +time=10 +short "
                                    "www.example.org A >%s/dig.out 2>&1",
                                    port, vf_run_dir),
                   0),
               "dig failed");
    cr_assert (eq (int, test_shell ("grep -qx 127.0.0.10 %s/dig.out", vf_run_dir), 0),
               "dig did not get the service's address");
    proto_msg_t *booting = vf_expect ("vm.booting", "www");
    cr_assert (eq (str, booting->vm_booting.domain, "jitsu-www"));
    proto_msg_t *ready = vf_expect ("vm.ready", "www");
    cr_assert (eq (str, ready->vm_ready.boot_id, booting->vm_booting.boot_id));
    cr_assert (le (i64, ready->ts, zclock_time ()));
    int64_t ready_ms = zclock_mono ();
    if (private_libvirtd)
        cr_assert (eq (int, vf_running_named ("jitsu-www"), 1), "the domain runs in libvirt");
    cr_assert (eq (int, vf_state_becomes ("www", PROTO_STATE_READY), PROTO_STATE_READY));
    //  Nobody asks again: stopped after 2 x ttl.
    proto_msg_t *stopped = vf_expect ("vm.stopped", "www");
    cr_assert (eq (int, stopped->vm_stop.reason, PROTO_REASON_IDLE));
    cr_assert (ge (i64, zclock_mono () - ready_ms, 1000), "not before the idle timeout");
    if (private_libvirtd)
        cr_assert (eq (int, vf_running_named ("jitsu-www"), 0), "the domain is gone");
    cr_assert (eq (int, vf_state_becomes ("www", PROTO_STATE_OFF), PROTO_STATE_OFF));
    //  And the next query summons it again.
    cr_assert (eq (int, test_shell ("dig @127.0.0.1 -p %d +tries=1 +time=10 +short "
                                    "www.example.org A >%s/dig2.out 2>&1",
                                    port, vf_run_dir),
                   0));
    cr_assert (eq (int, test_shell ("grep -qx 127.0.0.10 %s/dig2.out", vf_run_dir), 0));
    proto_msg_t *again = vf_expect ("vm.ready", "www");
    cr_assert (not (eq (str, again->vm_ready.boot_id, ready->vm_ready.boot_id)));
    vf_drop (booting);
    vf_drop (ready);
    vf_drop (stopped);
    vf_drop (again);
}
