/*  vmctl_fixture: processes, messages and the private libvirtd of vmctl's integration
    tests.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <ftw.h>
#include <libvirt/virterror.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/wait.h>

#include "test_support.h"
#include "vmctl_fixture.h"

#define S_WAIT_MS VF_WAIT_MS

char *vf_run_dir;
pid_t vf_statestore;
pid_t vf_vmctl = -1;
virConnectPtr vf_conn;
int vf_listener = -1;
static proto_endpoints_t s_endpoints;
static pid_t s_bus;
static proto_sub_t *s_sub;
static proto_state_client_t *s_client;
static zlistx_t *s_seen;                // proto_msg_t *, in arrival order
static char s_libvirt_dir[64];          // the private libvirtd's directory, "" when none
static pid_t s_libvirtd = -1;

void
vf_setup (void)
{
    vf_run_dir = test_rundir_new ();
    proto_endpoints_defaults (&s_endpoints);
    cr_assert (eq (int, test_start_bus_and_statestore (vf_run_dir, &s_bus, &vf_statestore), 0),
               "bus or statestore did not start");
    s_seen = zlistx_new ();
    zlistx_set_destructor (s_seen, (czmq_destructor *) proto_msg_destroy);
    s_sub = proto_sub_new (s_endpoints.bus_out);
    proto_sub_subscribe (s_sub, "vm.");
    proto_sub_subscribe (s_sub, "svc.alive");
    s_client = proto_state_client_new (s_endpoints.state, "test/1");
}

static int
s_remove (const char *path, const struct stat *status, int flag, struct FTW *walk)
{
    return remove (path);
}

void
vf_teardown (void)
{
    if (vf_listener >= 0)
        close (vf_listener);
    vf_listener = -1;
    if (vf_conn)
        virConnectClose (vf_conn);
    vf_conn = NULL;
    proto_state_client_destroy (&s_client);
    proto_sub_destroy (&s_sub);
    zlistx_destroy (&s_seen);
    test_reap_all ();  // vmctl, libvirtd, statestore, bus
    if (s_libvirt_dir[0])
        nftw (s_libvirt_dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
    s_libvirt_dir[0] = '\0';
    test_rundir_destroy (&vf_run_dir);
}

//  Messages ------------------------------------------------------------------------------

//  The service a message is about; for svc.alive, the process name.
static const char *
s_service_of (const proto_msg_t *msg)
{
    const char *service = proto_msg_service (msg);
    return service ? service : msg->type == PROTO_MSG_SVC_ALIVE ? msg->svc_alive.name : "";
}

//  The next message of TOPIC about SERVICE (a vmctl heartbeat for "svc.alive"), taken out of
//  what was received, or NULL after TIMEOUT_MS.
proto_msg_t *
vf_wait (const char *topic, const char *service, int timeout_ms)
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
        proto_msg_t *msg = proto_msg_new (PROTO_MSG_UNKNOWN);
        while (proto_sub_recv (s_sub, msg, NULL) == 0) {
            zlistx_add_end (s_seen, msg);
            msg = proto_msg_new (PROTO_MSG_UNKNOWN);
        }
        proto_msg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return found;
}

//  Like vf_wait, but the test fails without the message; the caller frees it.
proto_msg_t *
vf_expect (const char *topic, const char *service)
{
    proto_msg_t *msg = vf_wait (topic, service, S_WAIT_MS);
    cr_assert (not (eq (ptr, msg, NULL)), "no %s for %s", topic, service);
    return msg;
}

void
vf_drop (proto_msg_t *msg)
{
    proto_msg_destroy (&msg);
}

int64_t
vf_counter (const proto_msg_t *alive, const char *name)
{
    return proto_alive_counter (&alive->svc_alive, name, -1);
}

//  Wait until a vmctl heartbeat has counter NAME equal to VALUE; returns the last value seen.
int64_t
vf_counter_becomes (const char *name, int64_t value)
{
    int64_t deadline = zclock_mono () + S_WAIT_MS, last = -1;
    while (zclock_mono () < deadline) {
        proto_msg_t *alive = vf_wait ("svc.alive", "vmctl", 1000);
        if (alive)
            last = vf_counter (alive, name);
        vf_drop (alive);
        if (last == value)
            break;
    }
    return last;
}

//  Processes -----------------------------------------------------------------------------

//  Start jitsu-vmctl on URI with EXTRA config members; wait until it has reconciled.
void
vf_start_vmctl (const char *uri, const char *extra)
{
    char config[512];
    snprintf (config, sizeof config, "%s/vmctl.json", vf_run_dir);
    int written = test_write_file (
        config,
        "{\"uri\": \"%s\", \"heartbeat_ms\": 200, \"statestore_heartbeat_ms\": 200, "
        "\"idle_check_ms\": 100, \"probe_interval_ms\": 10, \"reconnect_min_ms\": 50, "
        "\"reconnect_max_ms\": 400, \"save_dir\": \"%s/saves\"%s%s}\n",
        uri, vf_run_dir, extra ? ", " : "", extra ? extra : "");
    cr_assert (eq (int, written, 0));
    //  Its log goes to the test's stderr, where a failing test shows it.
    char *argv[] = {JITSU_BUILD_DIR "/vmctl/jitsu-vmctl", "-c", config, NULL};
    vf_vmctl = test_spawn (argv, NULL, NULL);
    cr_assert (gt (int, vf_vmctl, 0));
    cr_assert (eq (i64, vf_counter_becomes ("reconciled", 1), 1), "vmctl did not reconcile");
}

int
vf_jitsuctl (const char *arguments)
{
    return test_shell ("%s/ctl/jitsuctl %s >>%s/jitsuctl.log 2>&1", JITSU_BUILD_DIR, arguments,
                       vf_run_dir);
}

void
vf_boot (const char *service)
{
    static int request;
    char arguments[256];
    snprintf (arguments, sizeof arguments,
              "publish vm.boot '{\"service\":\"%s\",\"request_id\":\"it-%d\"}'", service,
              ++request);
    cr_assert (eq (int, vf_jitsuctl (arguments), 0), "jitsuctl publish failed");
}

//  Write /services/NAME/config = JSON and return the revision.
void
vf_service (const char *name, const char *json)
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
        proto_msg_t *alive = vf_wait ("svc.alive", "vmctl", 1000);
        int64_t seen = alive ? vf_counter (alive, "state_rev") : -1;
        vf_drop (alive);
        if (seen >= rev)
            return;
    }
    cr_assert (false, "vmctl did not see revision %lld", (long long) rev);
}

proto_state_t
vf_state (const char *service)
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
proto_state_t
vf_state_becomes (const char *service, proto_state_t state)
{
    proto_state_t last = vf_state (service);
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    while (last != state && zclock_mono () < deadline) {
        zclock_sleep (20);
        last = vf_state (service);
    }
    return last;
}

void
vf_listen (int port)
{
    vf_listener = test_listen (AF_INET, port, 64);
    cr_assert (ge (int, vf_listener, 0), "cannot listen on port %d", port);
}

//  The private libvirtd -------------------------------------------------------------------

//  Skip unless a private libvirtd can run here.
void
vf_need_libvirtd (void)
{
    if (!test_is_root ())
        cr_skip_test ("needs root: runs a private libvirtd as the user nobody");
    if (access ("/usr/sbin/libvirtd", X_OK) || access ("/usr/bin/setpriv", X_OK))
        cr_skip_test ("needs /usr/sbin/libvirtd (libvirt-daemon) and setpriv (util-linux)");
    if (!getpwnam ("nobody"))
        cr_skip_test ("needs the user nobody");
}

const char *
vf_socket (void)
{
    static char path[128];
    snprintf (path, sizeof path, "%s/home/run/libvirt/libvirt-sock", s_libvirt_dir);
    return path;
}

//  The test driver served by the private libvirtd.
const char *
vf_test_uri (void)
{
    static char uri[192];
    snprintf (uri, sizeof uri, "test+unix:///default?socket=%s", vf_socket ());
    return uri;
}

//  Start (or restart) the private libvirtd, then (re)open the test's connection to it.
void
vf_start_libvirtd (void)
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
    unlink (vf_socket ());
    char home[128], runtime[128], log[128], environment_home[160], environment_runtime[160];
    snprintf (home, sizeof home, "%s/home", s_libvirt_dir);
    snprintf (runtime, sizeof runtime, "%s/home/run", s_libvirt_dir);
    snprintf (log, sizeof log, "%s/libvirtd.log", vf_run_dir);
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
    cr_assert (test_wait_path (vf_socket (), 15000), "the private libvirtd did not start");
    //  The socket exists slightly before libvirtd accepts on it.
    for (int attempt = 0; attempt < 100 && !vf_conn; attempt++) {
        vf_conn = virConnectOpen (vf_test_uri ());
        if (!vf_conn)
            zclock_sleep (50);
    }
    cr_assert (not (eq (ptr, vf_conn, NULL)), "cannot connect to the private libvirtd");
}

void
vf_stop_libvirtd (void)
{
    if (vf_conn)
        virConnectClose (vf_conn);
    vf_conn = NULL;
    test_stop (s_libvirtd, SIGTERM, 10000);
    s_libvirtd = -1;
}

//  Active domains called NAME in the private libvirtd.
int
vf_running_named (const char *name)
{
    virDomainPtr *domains = NULL;
    int count = virConnectListAllDomains (vf_conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
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

