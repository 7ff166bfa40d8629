/*  Integration: the real jitsu-vmctl process with the real bus and statestore, driven with
    jitsuctl as an operator would.

    Where the hypervisor must outlive vmctl (kill -9 and restart) or must itself restart
    (libvirtd), the tests run a private libvirtd as an unprivileged user in a directory of
    their own, serving libvirt's test driver over its socket (test+unix:///default): it
    touches no system state and boots nothing. The test keeps a connection to it open, which
    keeps the test driver's domains alive while vmctl dies. Those tests need root (to run
    libvirtd as nobody) and skip with the reason otherwise. The same daemon's QEMU driver
    (qemu:///session) checks that vmctl's generated domain XML defines on real QEMU.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <ftw.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/wait.h>

#include "proto.h"
#include "test_support.h"
#include "vmctl_xml.h"

#define S_WAIT_MS 10000

static char *s_run_dir;
static proto_endpoints_t s_endpoints;
static pid_t s_bus, s_statestore, s_vmctl = -1;
static proto_sub_t *s_sub;
static proto_pub_t *s_pub;
static proto_state_client_t *s_client;
static zlistx_t *s_seen;                // proto_msg_t *, in arrival order
static char s_libvirt_dir[64];          // the private libvirtd's directory, "" when none
static pid_t s_libvirtd = -1;
static virConnectPtr s_conn;            // the test's connection to the private libvirtd
static int s_listener = -1;

static void
s_msg_destroy (void **item_p)
{
    proto_msg_t *msg = (proto_msg_t *) *item_p;
    if (msg) {
        proto_msg_reset (msg);
        free (msg);
    }
    *item_p = NULL;
}

static void
s_setup (void)
{
    s_run_dir = test_rundir_new ();
    proto_endpoints_defaults (&s_endpoints);
    s_bus = test_start_bus (s_run_dir);
    s_statestore = test_start_statestore (s_run_dir, NULL);
    cr_assert (gt (int, s_bus, 0));
    cr_assert (gt (int, s_statestore, 0), "statestore did not start");
    s_seen = zlistx_new ();
    zlistx_set_destructor (s_seen, s_msg_destroy);
    s_sub = proto_sub_new (s_endpoints.bus_out);
    proto_sub_subscribe (s_sub, "vm.");
    proto_sub_subscribe (s_sub, "svc.alive");
    s_pub = proto_pub_new (s_endpoints.bus_in, "test", "1");
    s_client = proto_state_client_new (s_endpoints.state, "test/1");
}

static int
s_remove (const char *path, const struct stat *status, int flag, struct FTW *walk)
{
    return remove (path);
}

static void
s_teardown (void)
{
    if (s_listener >= 0)
        close (s_listener);
    s_listener = -1;
    if (s_conn)
        virConnectClose (s_conn);
    s_conn = NULL;
    proto_state_client_destroy (&s_client);
    proto_pub_destroy (&s_pub);
    proto_sub_destroy (&s_sub);
    zlistx_destroy (&s_seen);
    test_reap_all ();  // vmctl, libvirtd, statestore, bus
    if (s_libvirt_dir[0])
        nftw (s_libvirt_dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
    s_libvirt_dir[0] = '\0';
    test_rundir_destroy (&s_run_dir);
}

TestSuite (integration_vmctl, .init = s_setup, .fini = s_teardown, .timeout = 180);

//  Messages ------------------------------------------------------------------------------

static const char *
s_service_of (const proto_msg_t *msg)
{
    switch (msg->type) {
    case PROTO_MSG_VM_BOOTING:
        return msg->vm_booting.service;
    case PROTO_MSG_VM_READY:
        return msg->vm_ready.service;
    case PROTO_MSG_VM_STOPPING:
    case PROTO_MSG_VM_STOPPED:
        return msg->vm_stop.service;
    case PROTO_MSG_VM_FAILED:
        return msg->vm_failed.service;
    case PROTO_MSG_SVC_ALIVE:
        return msg->svc_alive.name;
    default:
        return "";
    }
}

//  The next message of TOPIC about SERVICE (a vmctl heartbeat for "svc.alive"), taken out of
//  what was received, or NULL after TIMEOUT_MS.
static proto_msg_t *
s_wait (const char *topic, const char *service, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (proto_sub_sock (s_sub), NULL);
    int64_t deadline = zclock_mono () + timeout_ms;
    proto_msg_t *found = NULL;
    while (!found) {
        for (proto_msg_t *msg = (proto_msg_t *) zlistx_first (s_seen); msg;
             msg = (proto_msg_t *) zlistx_next (s_seen))
            if (streq (msg->topic, topic) && streq (s_service_of (msg), service)) {
                found = (proto_msg_t *) zlistx_detach_cur (s_seen);
                break;
            }
        if (found || zclock_mono () >= deadline)
            break;
        zpoller_wait (poller, 20);
        proto_msg_t *msg = (proto_msg_t *) zmalloc (sizeof (proto_msg_t));
        proto_msg_init (msg, PROTO_MSG_UNKNOWN);
        while (proto_sub_recv (s_sub, msg, NULL) == 0) {
            zlistx_add_end (s_seen, msg);
            msg = (proto_msg_t *) zmalloc (sizeof (proto_msg_t));
            proto_msg_init (msg, PROTO_MSG_UNKNOWN);
        }
        s_msg_destroy ((void **) &msg);
    }
    zpoller_destroy (&poller);
    return found;
}

//  Like s_wait, but the test fails without the message; the caller frees it.
static proto_msg_t *
s_expect (const char *topic, const char *service)
{
    proto_msg_t *msg = s_wait (topic, service, S_WAIT_MS);
    cr_assert (not (eq (ptr, msg, NULL)), "no %s for %s", topic, service);
    return msg;
}

static void
s_drop (proto_msg_t *msg)
{
    s_msg_destroy ((void **) &msg);
}

static int64_t
s_counter (const proto_msg_t *alive, const char *name)
{
    for (size_t index = 0; index < alive->svc_alive.counter_count; index++)
        if (streq (alive->svc_alive.counters[index].name, name))
            return alive->svc_alive.counters[index].value;
    return -1;
}

//  Wait until a vmctl heartbeat has counter NAME equal to VALUE; returns the last value seen.
static int64_t
s_counter_becomes (const char *name, int64_t value)
{
    int64_t deadline = zclock_mono () + S_WAIT_MS, last = -1;
    while (zclock_mono () < deadline) {
        proto_msg_t *alive = s_wait ("svc.alive", "vmctl", 1000);
        if (alive)
            last = s_counter (alive, name);
        s_drop (alive);
        if (last == value)
            break;
    }
    return last;
}

//  Processes -----------------------------------------------------------------------------

//  Start jitsu-vmctl on URI with EXTRA config members; wait until it has reconciled.
static void
s_start_vmctl (const char *uri, const char *extra)
{
    char config[512];
    snprintf (config, sizeof config, "%s/vmctl.json", s_run_dir);
    FILE *file = fopen (config, "w");
    cr_assert (not (eq (ptr, file, NULL)));
    fprintf (file, "{\"uri\": \"%s\", \"heartbeat_ms\": 200, \"statestore_heartbeat_ms\": 200, "
                   "\"idle_check_ms\": 100, \"probe_interval_ms\": 10, \"reconnect_min_ms\": 50, "
                   "\"reconnect_max_ms\": 400%s%s}\n",
             uri, extra ? ", " : "", extra ? extra : "");
    fclose (file);
    //  Its log goes to the test's stderr, where a failing test shows it.
    char *argv[] = {JITSU_BUILD_DIR "/vmctl/jitsu-vmctl", "-c", config, NULL};
    s_vmctl = test_spawn (argv, NULL, NULL);
    cr_assert (gt (int, s_vmctl, 0));
    cr_assert (eq (i64, s_counter_becomes ("reconciled", 1), 1), "vmctl did not reconcile");
}

static int
s_jitsuctl (const char *arguments)
{
    return test_shell ("%s/ctl/jitsuctl %s >>%s/jitsuctl.log 2>&1", JITSU_BUILD_DIR, arguments,
                       s_run_dir);
}

static void
s_boot (const char *service)
{
    static int request;
    char arguments[256];
    snprintf (arguments, sizeof arguments,
              "publish vm.boot '{\"service\":\"%s\",\"request_id\":\"it-%d\"}'", service,
              ++request);
    cr_assert (eq (int, s_jitsuctl (arguments), 0), "jitsuctl publish failed");
}

//  Write /services/NAME/config = JSON and return the revision.
static void
s_service (const char *name, const char *json)
{
    json_t *config = json_loads (json, 0, NULL);
    cr_assert (not (eq (ptr, config, NULL)), "bad test JSON");
    json_t *reply = proto_state_client_call (
        s_client, json_pack ("{s:s, s:s++, s:o}", "op", "put", "key", "/services/", name,
                             "/config", "value", config),
        2000, 3);
    cr_assert (not (eq (ptr, reply, NULL)));
    int64_t rev = json_integer_value (json_object_get (reply, "rev"));
    json_decref (reply);
    //  vmctl has it once its heartbeat reports that revision.
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    while (zclock_mono () < deadline) {
        proto_msg_t *alive = s_wait ("svc.alive", "vmctl", 1000);
        int64_t seen = alive ? s_counter (alive, "state_rev") : -1;
        s_drop (alive);
        if (seen >= rev)
            return;
    }
    cr_assert (false, "vmctl did not see revision %lld", (long long) rev);
}

static proto_state_t
s_state (const char *service)
{
    json_t *reply = proto_state_client_call (
        s_client, json_pack ("{s:s, s:s++}", "op", "get", "key", "/services/", service, "/status"),
        2000, 3);
    proto_status_t status = {0};
    proto_error_t error;
    proto_status_parse (&status, json_object_get (reply, "value"), &error);
    json_decref (reply);
    return status.state;
}

//  Wait until SERVICE's stored state is STATE (vm.* messages go out before the status write
//  is acknowledged). Returns the last state read.
static proto_state_t
s_state_becomes (const char *service, proto_state_t state)
{
    proto_state_t last = s_state (service);
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    while (last != state && zclock_mono () < deadline) {
        zclock_sleep (20);
        last = s_state (service);
    }
    return last;
}

//  A loopback port nothing listens on.
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    bind (fd, (struct sockaddr *) &address, sizeof address);
    getsockname (fd, (struct sockaddr *) &address, &length);
    close (fd);
    return ntohs (address.sin_port);
}

static void
s_listen (int port)
{
    s_listener = socket (AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    setsockopt (s_listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    cr_assert (eq (int, bind (s_listener, (struct sockaddr *) &address, sizeof address), 0));
    cr_assert (eq (int, listen (s_listener, 64), 0));
}

//  The private libvirtd -------------------------------------------------------------------

//  Skip unless a private libvirtd can run here.
static void
s_need_libvirtd (void)
{
    if (!test_is_root ())
        cr_skip_test ("needs root: runs a private libvirtd as the user nobody");
    if (access ("/usr/sbin/libvirtd", X_OK) || access ("/usr/bin/setpriv", X_OK))
        cr_skip_test ("needs /usr/sbin/libvirtd (libvirt-daemon) and setpriv (util-linux)");
    if (!getpwnam ("nobody"))
        cr_skip_test ("needs the user nobody");
}

static const char *
s_socket (void)
{
    static char path[128];
    snprintf (path, sizeof path, "%s/home/run/libvirt/libvirt-sock", s_libvirt_dir);
    return path;
}

//  The test driver served by the private libvirtd.
static const char *
s_test_uri (void)
{
    static char uri[192];
    snprintf (uri, sizeof uri, "test+unix:///default?socket=%s", s_socket ());
    return uri;
}

//  Start (or restart) the private libvirtd, then (re)open the test's connection to it.
static void
s_start_libvirtd (void)
{
    struct passwd *nobody = getpwnam ("nobody");
    if (!s_libvirt_dir[0]) {
        strcpy (s_libvirt_dir, "/tmp/jt-libvirt-XXXXXX");
        cr_assert (not (eq (ptr, mkdtemp (s_libvirt_dir), NULL)));
        chmod (s_libvirt_dir, 0755);
        cr_assert (eq (int, test_shell ("mkdir -p %s/home/run && chown -R %d:%d %s/home && "
                                        "chmod 700 %s/home/run",
                                        s_libvirt_dir, (int) nobody->pw_uid,
                                        (int) nobody->pw_gid, s_libvirt_dir, s_libvirt_dir),
                       0));
    }
    unlink (s_socket ());
    char home[128], runtime[128], log[128], environment_home[160], environment_runtime[160];
    snprintf (home, sizeof home, "%s/home", s_libvirt_dir);
    snprintf (runtime, sizeof runtime, "%s/home/run", s_libvirt_dir);
    snprintf (log, sizeof log, "%s/libvirtd.log", s_run_dir);
    snprintf (environment_home, sizeof environment_home, "HOME=%s", home);
    snprintf (environment_runtime, sizeof environment_runtime, "XDG_RUNTIME_DIR=%s", runtime);
    char uid[16], gid[16];
    snprintf (uid, sizeof uid, "%d", (int) nobody->pw_uid);
    snprintf (gid, sizeof gid, "%d", (int) nobody->pw_gid);
    char *argv[] = {"/usr/bin/setpriv", "--reuid", uid, "--regid", gid, "--clear-groups",
                    "/usr/bin/env", "-i", environment_home, environment_runtime,
                    "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "/usr/sbin/libvirtd", NULL};
    s_libvirtd = test_spawn (argv, log, log);
    cr_assert (gt (int, s_libvirtd, 0));
    cr_assert (test_wait_path (s_socket (), 15000), "the private libvirtd did not start");
    //  The socket exists slightly before libvirtd accepts on it.
    for (int attempt = 0; attempt < 100 && !s_conn; attempt++) {
        s_conn = virConnectOpen (s_test_uri ());
        if (!s_conn)
            zclock_sleep (50);
    }
    cr_assert (not (eq (ptr, s_conn, NULL)), "cannot connect to the private libvirtd");
}

static void
s_stop_libvirtd (void)
{
    if (s_conn)
        virConnectClose (s_conn);
    s_conn = NULL;
    test_stop (s_libvirtd, SIGTERM, 10000);
    s_libvirtd = -1;
}

//  Active domains called NAME in the private libvirtd.
static int
s_running_named (const char *name)
{
    virDomainPtr *domains = NULL;
    int count = virConnectListAllDomains (s_conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    cr_assert (ge (int, count, 0), "virConnectListAllDomains failed");
    int named = 0;
    for (int index = 0; index < count; index++) {
        named += streq (virDomainGetName (domains[index]), name);
        virDomainFree (domains[index]);
    }
    free (domains);
    return named;
}

//  Tests ---------------------------------------------------------------------------------

Test (integration_vmctl, boot_with_jitsuctl_then_idle_stop_with_a_1s_ttl)
{
    s_start_vmctl ("test:///default", NULL);
    cr_assert (eq (int, s_jitsuctl ("service add www dns=www.example.org,ip=127.0.0.1,"
                                    "kernel=/boot/vmlinux,bridge=br0,ttl=1,idle_on=dns"),
                   0));
    //  vmctl has the definition once its copy reaches the write's revision (1).
    cr_assert (eq (i64, s_counter_becomes ("state_rev", 1), 1));
    s_boot ("www");
    proto_msg_t *booting = s_expect ("vm.booting", "www");
    cr_assert (eq (str, booting->vm_booting.domain, "jitsu-www"));
    proto_msg_t *ready = s_expect ("vm.ready", "www");
    cr_assert (eq (str, ready->vm_ready.boot_id, booting->vm_booting.boot_id));
    int64_t ready_ms = zclock_mono ();
    cr_assert (eq (int, s_state_becomes ("www", PROTO_STATE_READY), PROTO_STATE_READY));
    //  No query comes: after 2 x ttl it is stopped.
    proto_msg_t *stopped = s_expect ("vm.stopped", "www");
    cr_assert (eq (int, stopped->vm_stop.reason, PROTO_REASON_IDLE));
    cr_assert (ge (i64, zclock_mono () - ready_ms, 2000 - 100));
    cr_assert (eq (int, s_state_becomes ("www", PROTO_STATE_OFF), PROTO_STATE_OFF));
    cr_assert (eq (i64, s_counter_becomes ("stops_idle", 1), 1));
    cr_assert (eq (i64, s_counter_becomes ("boots", 1), 1));
    s_drop (booting);
    s_drop (ready);
    s_drop (stopped);
    //  SIGTERM: a clean exit.
    int status = test_stop (s_vmctl, SIGTERM, 5000);
    bool exited = WIFEXITED (status);
    int code = exited ? WEXITSTATUS (status) : -1;
    cr_assert (exited, "vmctl did not exit by itself on SIGTERM");
    cr_assert (eq (int, code, 0));
}

Test (integration_vmctl, status_is_stored_once_statestore_is_back)
{
    s_start_vmctl ("test:///default", NULL);
    s_service ("sb", "{\"name\": \"sb\", \"dns\": [\"sb.example.org\"], \"ip\": \"127.0.0.1\", "
                     "\"template\": {\"kernel\": \"/boot/vmlinux\", \"bridge\": \"br0\"}}");
    test_stop (s_statestore, SIGKILL, 1000);
    s_boot ("sb");
    s_drop (s_expect ("vm.ready", "sb"));
    //  Longer than the state client's retries (6 x 1 s): both writes (booting, then ready,
    //  sent once the first was given up) are given up...
    if (s_counter_becomes ("status_failures", 2) != 2)  // twice the 6 s: two waits
        cr_assert (eq (i64, s_counter_becomes ("status_failures", 2), 2));
    s_statestore = test_start_statestore (s_run_dir, NULL);
    cr_assert (gt (int, s_statestore, 0));
    //  ...and the last status is written again once statestore answers.
    cr_assert (eq (int, s_state_becomes ("sb", PROTO_STATE_READY), PROTO_STATE_READY));
}

Test (integration_vmctl, check_config_accepts_and_refuses)
{
    char good[512], bad[512];
    snprintf (good, sizeof good, "%s/good.json", s_run_dir);
    snprintf (bad, sizeof bad, "%s/bad.json", s_run_dir);
    FILE *file = fopen (good, "w");
    fputs ("{\"uri\": \"test:///default\", \"max_running\": 4}\n", file);
    fclose (file);
    file = fopen (bad, "w");
    fputs ("{\"uri\": \"test:///default\",\n \"limit\": {}}\n", file);
    fclose (file);
    cr_assert (eq (int, test_shell ("%s/vmctl/jitsu-vmctl --check-config -c %s >/dev/null",
                                    JITSU_BUILD_DIR, good), 0));
    cr_assert (eq (int, test_shell ("%s/vmctl/jitsu-vmctl --check-config -c %s 2>%s/err",
                                    JITSU_BUILD_DIR, bad, s_run_dir), 1));
    cr_assert (eq (int, test_shell ("grep -q 'bad.json: unknown key \"limit\"' %s/err", s_run_dir),
                   0));
}

Test (integration_vmctl, kill_9_mid_boot_then_restart_leaves_exactly_one_vm)
{
    s_need_libvirtd ();
    s_start_libvirtd ();
    s_start_vmctl (s_test_uri (), NULL);
    int port = s_free_port ();
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
        s_service (name, json);
        s_boot (name);
        if (delays_ms[round] >= 0)
            zclock_sleep (delays_ms[round]);
        else
            s_drop (s_expect ("vm.booting", name));
        test_stop (s_vmctl, SIGKILL, 1000);
        s_start_vmctl (s_test_uri (), NULL);
        s_boot (name);  // as dnsd re-asks when no answer comes
        if (s_listener < 0)
            s_listen (port);
        proto_msg_t *ready = s_expect ("vm.ready", name);
        cr_log_info ("round %zu: killed after %d ms; ready via %s boot_id %s", round,
                     delays_ms[round], proto_via_name (ready->vm_ready.via),
                     ready->vm_ready.boot_id);
        s_drop (ready);
        char domain[32];
        snprintf (domain, sizeof domain, "jitsu-%s", name);
        cr_assert (eq (int, s_running_named (domain), 1), "round %zu: exactly one VM", round);
        cr_assert (eq (int, s_state_becomes (name, PROTO_STATE_READY), PROTO_STATE_READY));
        //  Nothing from this round may leak into the next one's expectations.
        proto_msg_t *msg;
        while ((msg = s_wait ("vm.ready", name, 0)))
            s_drop (msg);
        close (s_listener);
        s_listener = -1;
    }
}

Test (integration_vmctl, libvirtd_restart_is_survived)
{
    s_need_libvirtd ();
    s_start_libvirtd ();
    s_start_vmctl (s_test_uri (), NULL);
    s_service ("lr", "{\"name\": \"lr\", \"dns\": [\"lr.example.org\"], \"ip\": \"127.0.0.1\", "
                     "\"template\": {\"kernel\": \"/boot/vmlinux\", \"bridge\": \"br0\"}}");
    s_service ("down", "{\"name\": \"down\", \"dns\": [\"down.example.org\"], "
                       "\"ip\": \"127.0.0.1\", \"ready_timeout_ms\": 300, "
                       "\"template\": {\"kernel\": \"/boot/vmlinux\", \"bridge\": \"br0\"}}");
    s_boot ("lr");
    s_drop (s_expect ("vm.ready", "lr"));
    s_stop_libvirtd ();
    cr_assert (eq (i64, s_counter_becomes ("libvirt_connected", 0), 0), "the loss was seen");
    //  A boot while libvirtd is away is held, then fails with libvirt's reason.
    s_boot ("down");
    proto_msg_t *failed = s_expect ("vm.failed", "down");
    cr_log_info ("vm.failed while libvirtd is down: %s", failed->vm_failed.error);
    cr_assert (eq (ptr, strstr (failed->vm_failed.error, "virConnectOpen: "),
                   failed->vm_failed.error));
    s_drop (failed);
    s_start_libvirtd ();
    cr_assert (eq (i64, s_counter_becomes ("libvirt_connected", 1), 1), "reconnected");
    cr_assert (eq (i64, s_counter_becomes ("reconciled", 1), 1));
    //  The restarted test driver lost its domains: the reconcile says so.
    proto_msg_t *stopped = s_expect ("vm.stopped", "lr");
    cr_assert (eq (int, stopped->vm_stop.reason, PROTO_REASON_EXTERNAL));
    s_drop (stopped);
    cr_assert (eq (int, s_state_becomes ("lr", PROTO_STATE_OFF), PROTO_STATE_OFF));
    s_boot ("lr");
    s_drop (s_expect ("vm.ready", "lr"));
    cr_assert (eq (int, s_running_named ("jitsu-lr"), 1));
    cr_assert (eq (i64, s_counter_becomes ("libvirt_reconnects", 1), 1));
}

//  libvirt's QEMU driver (session mode, in the private libvirtd) accepts the domains vmctl
//  generates for both machines. Nothing is started.
Test (integration_vmctl, generated_xml_defines_on_qemu)
{
    s_need_libvirtd ();
    if (access ("/usr/bin/qemu-system-x86_64", X_OK))
        cr_skip_test ("needs qemu-system-x86_64 (qemu-system-x86)");
    s_start_libvirtd ();
    char uri[192];
    snprintf (uri, sizeof uri, "qemu+unix:///session?socket=%s", s_socket ());
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
