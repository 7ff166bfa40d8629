/*  The synjitsu process itself (see sj_harness.h): run unprivileged with CAP_NET_RAW only, as
    README.md tells operators to, and its --check-config, --help and start-up errors.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <sys/wait.h>

#include "sj_harness.h"
#include "test_support.h"

Test (synjitsu_netns, runs_unprivileged_with_cap_net_raw_only)
{
    sj_harness_start (NULL);
    //  A copy of the binary with the file capability, run as nobody: the way README.md tells
    //  operators to run it instead of as root.
    const char *run_dir = sj_harness_run_dir ();
    char binary[300], config[300], command[1400];
    snprintf (binary, sizeof binary, "%s/synjitsu", run_dir);
    snprintf (config, sizeof config, "%s/synjitsu.json", run_dir);
    cr_assert (eq (int, sj_netns_run ("cp %s %s && setcap cap_net_raw+ep %s", SJ_SYNJITSU_BINARY,
                                      binary, binary), 0), "setcap failed");
    test_write_file (config,
                     "{\"bridge\":\"br0\",\"heartbeat_ms\":100,\"garp_interval_ms\":200}\n");
    //  The bus's sockets are for the owner and the jitsu group: let nobody's group in.
    chmod (run_dir, 0755);
    cr_assert (eq (int, sj_netns_run ("chgrp nogroup %s/bus-in %s/bus-out", run_dir, run_dir), 0));
    snprintf (command, sizeof command,
              "exec ip netns exec %s setpriv --reuid=nobody --regid=nogroup --clear-groups "
              "--inh-caps=-all %s -v -c %s",
              sj_netns_name (sj_harness_net (), SJ_BRIDGE), binary, config);
    sj_harness_spawn_synjitsu (command);

    pcap_t *client_side = sj_harness_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    int listener = sj_harness_guest_listen ();
    int client = sj_harness_connect_while_booting (client_side);
    sj_harness_guest_up_then_ready_connects (listener, client);
    cr_assert (eq (int, sj_netns_run ("awk '/^Uid:/ {exit !($2 == 65534)}' /proc/%d/status",
                                      (int) sj_harness_synjitsu_pid ()), 0),
               "synjitsu was not running as nobody");
    cr_assert (eq (int, sj_harness_stop_synjitsu (), 0));
}

Test (synjitsu_netns, check_config_and_help)
{
    char path[] = "/tmp/jt-synjitsu-check-XXXXXX";
    int fd = mkstemp (path);
    cr_assert (ge (int, fd, 0));
    cr_assert (eq (int, (int) write (fd, "{\"max_hold_ms\":0}", 17), 17));
    close (fd);
    char *bad[] = {SJ_SYNJITSU_BINARY, "--check-config", "-c", path, NULL};
    int status = 0;
    waitpid (test_spawn (bad, "/dev/null", "/dev/null"), &status, 0);
    cr_assert (eq (int, WEXITSTATUS (status), 1));
    fd = open (path, O_WRONLY | O_TRUNC);
    cr_assert (eq (int, (int) write (fd, "{\"bridge\":\"sjt-missing0\"}", 25), 25));
    close (fd);
    char *good[] = {SJ_SYNJITSU_BINARY, "--check-config", "-c", path, NULL};
    waitpid (test_spawn (good, "/dev/null", "/dev/null"), &status, 0);
    cr_assert (eq (int, WEXITSTATUS (status), 0));
    char *help[] = {SJ_SYNJITSU_BINARY, "--help", NULL};
    waitpid (test_spawn (help, "/dev/null", NULL), &status, 0);
    cr_assert (eq (int, WEXITSTATUS (status), 0));
    //  A bridge that does not exist stops start-up with an error, not a crash.
    char *missing[] = {SJ_SYNJITSU_BINARY, "-c", path, NULL};
    waitpid (test_spawn (missing, "/dev/null", "/dev/null"), &status, 0);
    bool exited = WIFEXITED (status);
    cr_assert (exited, "synjitsu crashed on a missing bridge");
    cr_assert (eq (int, WEXITSTATUS (status), 1));
    unlink (path);
}
