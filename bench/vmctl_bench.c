/*  vmctl_bench: how long vmctl itself takes around a boot, on libvirt's test driver.

    Two latencies, measured inside the real jitsu-vmctl process and reported in its
    svc.alive (median and 99th percentile of its last 1024 boots):
      dispatch: vm.boot received -> the libvirt call that starts the VM is made
      announce: readiness seen (libvirt's started event) -> vm.ready published
    and, from outside, boot_ms as vm.ready reports it (vm.boot received -> vm.ready) and the
    wall time until every VM of a phase is ready.

    Phases, each with a fresh bus, statestore and vmctl (4 workers, no admission limits):
      sequential: N boots back to back (the next vm.boot as soon as the last vm.ready came)
      spaced:     N boots, GAP ms apart: each boot alone, not overlapping the previous
                  boot's statestore commits (two per boot: booting, ready)
      burst:      M vm.boot published at once

    Run it with bench/vmctl.sh, which builds the release tree.  */

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "proto.h"

#define S_WAIT_MS 30000

static const char *s_build;
static const char *s_work;

//  One phase's processes and sockets.
typedef struct {
    char run_dir[256];
    pid_t bus, statestore, vmctl;
    proto_endpoints_t endpoints;
    proto_pub_t *pub;
    proto_sub_t *sub;
    proto_state_client_t *client;
} s_phase_t;

static pid_t
s_spawn (char *const argv[], const char *log)
{
    fflush (NULL);
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
            close (fd);
        }
        execv (argv[0], argv);
        _exit (127);
    }
    return pid;
}

static void
s_stop (pid_t pid)
{
    if (pid <= 0)
        return;
    kill (pid, SIGTERM);
    for (int waited = 0; waited < 5000; waited += 10) {
        if (waitpid (pid, NULL, WNOHANG) == pid)
            return;
        zclock_sleep (10);
    }
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
}

static bool
s_wait_path (const char *path)
{
    for (int waited = 0; waited < 10000; waited += 10) {
        if (access (path, F_OK) == 0)
            return true;
        zclock_sleep (10);
    }
    return false;
}

static int64_t
s_counter (const proto_msg_t *alive, const char *name)
{
    return proto_alive_counter (&alive->svc_alive, name, -1);
}

//  Wait for a vmctl heartbeat whose counter NAME is at least VALUE; copy it into ALIVE.
static int
s_wait_counter (s_phase_t *self, const char *name, int64_t value, proto_msg_t *alive)
{
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    zpoller_t *poller = zpoller_new (proto_sub_sock (self->sub), NULL);
    int rc = -1;
    while (rc && zclock_mono () < deadline) {
        zpoller_wait (poller, 100);
        proto_msg_t msg;
        proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
        while (proto_sub_recv (self->sub, &msg, NULL) == 0) {
            if (msg.type == PROTO_MSG_SVC_ALIVE && streq (msg.svc_alive.name, "vmctl")
                && s_counter (&msg, name) >= value) {
                proto_msg_reset (alive);
                *alive = msg;
                msg.json = NULL;
                rc = 0;
            }
            proto_msg_reset (&msg);
        }
    }
    zpoller_destroy (&poller);
    return rc;
}

static int
s_phase_start (s_phase_t *self, const char *name)
{
    memset (self, 0, sizeof *self);
    snprintf (self->run_dir, sizeof self->run_dir, "%s/%s", s_work, name);
    mkdir (self->run_dir, 0750);
    setenv ("JITSU_RUN_DIR", self->run_dir, 1);
    proto_endpoints_defaults (&self->endpoints);
    char path[512], log[512], config[512];
    snprintf (log, sizeof log, "%s/processes.log", self->run_dir);

    char bus[512];
    snprintf (bus, sizeof bus, "%s/bus/jitsu-bus", s_build);
    char *bus_argv[] = {bus, NULL};
    self->bus = s_spawn (bus_argv, log);
    snprintf (path, sizeof path, "%s/bus-in", self->run_dir);
    if (!s_wait_path (path))
        return -1;

    snprintf (config, sizeof config, "%s/statestore.json", self->run_dir);
    FILE *file = fopen (config, "w");
    fprintf (file, "{\"repo\": \"%s/state.git\", \"heartbeat_ms\": 200}\n", self->run_dir);
    fclose (file);
    char statestore[512];
    snprintf (statestore, sizeof statestore, "%s/statestore/jitsu-statestore", s_build);
    char *statestore_argv[] = {statestore, "-c", config, NULL};
    self->statestore = s_spawn (statestore_argv, log);
    snprintf (path, sizeof path, "%s/state", self->run_dir);
    if (!s_wait_path (path))
        return -1;

    self->sub = proto_sub_new (self->endpoints.bus_out);
    proto_sub_subscribe (self->sub, "vm.ready");
    proto_sub_subscribe (self->sub, "vm.failed");
    proto_sub_subscribe (self->sub, "svc.alive");
    self->pub = proto_pub_new (self->endpoints.bus_in, "bench", "1");
    self->client = proto_state_client_new (self->endpoints.state, "bench/1");

    char vmctl_config[512];
    snprintf (vmctl_config, sizeof vmctl_config, "%s/vmctl.json", self->run_dir);
    file = fopen (vmctl_config, "w");
    fprintf (file, "{\"uri\": \"test:///default\", \"heartbeat_ms\": 200, "
                   "\"statestore_heartbeat_ms\": 200, \"workers\": 4, "
                   "\"save_dir\": \"%s/saves\"}\n",
             self->run_dir);
    fclose (file);
    char vmctl[512];
    snprintf (vmctl, sizeof vmctl, "%s/vmctl/jitsu-vmctl", s_build);
    char *vmctl_argv[] = {vmctl, "-c", vmctl_config, NULL};
    self->vmctl = s_spawn (vmctl_argv, log);
    proto_msg_t alive;
    proto_msg_init (&alive, PROTO_MSG_UNKNOWN);
    int rc = s_wait_counter (self, "reconciled", 1, &alive);
    proto_msg_reset (&alive);
    if (rc == 0)
        rc = proto_pub_await (self->pub, "vm.boot", S_WAIT_MS);
    return rc;
}

static void
s_phase_end (s_phase_t *self)
{
    proto_state_client_destroy (&self->client);
    proto_pub_destroy (&self->pub);
    proto_sub_destroy (&self->sub);
    s_stop (self->vmctl);
    s_stop (self->statestore);
    s_stop (self->bus);
}

//  Define COUNT template services PREFIX0.. in one transaction; wait until vmctl has them.
static int
s_define (s_phase_t *self, const char *prefix, int count)
{
    json_t *ops = json_array ();
    for (int index = 0; index < count; index++) {
        char name[32], key[64], dns[64];
        snprintf (name, sizeof name, "%s%d", prefix, index);
        snprintf (key, sizeof key, "/services/%s/config", name);
        snprintf (dns, sizeof dns, "%s.example.org", name);
        json_array_append_new (
            ops, json_pack ("{s:s, s:s, s:{s:s, s:[s], s:s, s:i, s:{s:s, s:s}}}", "op", "put",
                            "key", key, "value", "name", name, "dns", dns, "ip", "127.0.0.1",
                            "idle_timeout_s", 3600, "template", "kernel", "/boot/vmlinux",
                            "bridge", "br0"));
    }
    json_t *reply = proto_state_client_call (
        self->client, json_pack ("{s:s, s:o}", "op", "tx", "ops", ops), 5000, 3);
    int64_t rev = reply ? json_integer_value (json_object_get (reply, "rev")) : -1;
    json_decref (reply);
    if (rev < 0)
        return -1;
    proto_msg_t alive;
    proto_msg_init (&alive, PROTO_MSG_UNKNOWN);
    int rc = s_wait_counter (self, "state_rev", rev, &alive);
    proto_msg_reset (&alive);
    return rc;
}

static void
s_boot (s_phase_t *self, const char *prefix, int index)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_BOOT);
    snprintf (msg.vm_boot.service, sizeof msg.vm_boot.service, "%s%d", prefix, index);
    snprintf (msg.vm_boot.request_id, sizeof msg.vm_boot.request_id, "bench:%d", index);
    proto_pub_send (self->pub, &msg);
}

//  Collect WANTED vm.ready messages, their boot_ms into BOOT_MS. Returns how many came.
static int
s_collect_ready (s_phase_t *self, int wanted, int64_t *boot_ms)
{
    int got = 0;
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    zpoller_t *poller = zpoller_new (proto_sub_sock (self->sub), NULL);
    while (got < wanted && zclock_mono () < deadline) {
        proto_msg_t msg;
        proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
        if (proto_sub_recv (self->sub, &msg, NULL) == 0) {
            if (msg.type == PROTO_MSG_VM_READY)
                boot_ms[got++] = msg.vm_ready.boot_ms;
            else if (msg.type == PROTO_MSG_VM_FAILED)
                fprintf (stderr, "vm.failed %s: %s\n", msg.vm_failed.service,
                         msg.vm_failed.error);
        }
        else
            zpoller_wait (poller, 50);
        proto_msg_reset (&msg);
    }
    zpoller_destroy (&poller);
    return got;
}

static int
s_compare (const void *left, const void *right)
{
    int64_t a = *(const int64_t *) left, b = *(const int64_t *) right;
    return a < b ? -1 : a > b;
}

//  Nearest-rank QUANTILE of COUNT values (sorted in place).
static int64_t
s_quantile (int64_t *values, int count, int quantile)
{
    qsort (values, (size_t) count, sizeof (int64_t), s_compare);
    int rank = (quantile * count + 99) / 100;
    return values[rank > 0 ? rank - 1 : 0];
}

static int
s_run (const char *name, int count, bool burst, int gap_ms)
{
    s_phase_t phase;
    if (s_phase_start (&phase, name) || s_define (&phase, name, count)) {
        fprintf (stderr, "vmctl_bench: phase %s did not start (see %s/processes.log)\n", name,
                 phase.run_dir);
        s_phase_end (&phase);
        return -1;
    }
    int64_t *boot_ms = (int64_t *) calloc ((size_t) count, sizeof (int64_t));
    int got = 0;
    int64_t started = zclock_usecs ();
    if (burst) {
        for (int index = 0; index < count; index++)
            s_boot (&phase, name, index);
        got = s_collect_ready (&phase, count, boot_ms);
    }
    else
        for (int index = 0; index < count; index++) {
            s_boot (&phase, name, index);
            got += s_collect_ready (&phase, 1, boot_ms + index);
            if (gap_ms)
                zclock_sleep (gap_ms);
        }
    int64_t wall_us = zclock_usecs () - started;
    proto_msg_t alive;
    proto_msg_init (&alive, PROTO_MSG_UNKNOWN);
    int rc = got == count ? s_wait_counter (&phase, "latency_samples", count, &alive) : -1;
    if (rc == 0)
        printf ("| %-10s | %5d | %8.1f | %7lld | %7lld | %12lld | %12lld | %12lld | %12lld |\n",
                name, count, wall_us / 1000.0, (long long) s_quantile (boot_ms, count, 50),
                (long long) s_quantile (boot_ms, count, 99),
                (long long) s_counter (&alive, "dispatch_us_p50"),
                (long long) s_counter (&alive, "dispatch_us_p99"),
                (long long) s_counter (&alive, "announce_us_p50"),
                (long long) s_counter (&alive, "announce_us_p99"));
    else
        fprintf (stderr, "vmctl_bench: phase %s: %d of %d VMs ready\n", name, got, count);
    proto_msg_reset (&alive);
    free (boot_ms);
    s_phase_end (&phase);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "usage: vmctl_bench BUILD_DIR WORK_DIR [N [M [GAP_MS]]]\n");
        return 2;
    }
    s_build = argv[1];
    s_work = argv[2];
    int sequential = argc > 3 ? atoi (argv[3]) : 500;
    int burst = argc > 4 ? atoi (argv[4]) : 100;
    int gap_ms = argc > 5 ? atoi (argv[5]) : 5;
    zsys_init ();
    zsys_set_logstream (stderr);
    printf ("| phase      | boots |  wall ms | boot_ms | boot_ms | dispatch µs  | dispatch µs  "
            "| announce µs  | announce µs  |\n");
    printf ("|            |       |          |     p50 |     p99 |          p50 |          p99 "
            "|          p50 |          p99 |\n");
    printf ("|------------|-------|----------|---------|---------|--------------|--------------"
            "|--------------|--------------|\n");
    int rc = s_run ("sequential", sequential, false, 0);
    rc |= s_run ("spaced", sequential, false, gap_ms);
    rc |= s_run ("burst", burst, true, 0);
    return rc ? 1 : 0;
}
