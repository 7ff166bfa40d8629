/*  dnsd_fixture: processes, commands and bus listening for dnsd's integration tests.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "dnsd_fixture.h"
#include "test_support.h"

#define S_INSTANCES_MAX 4
#define S_SERVICES_MAX  64

char *df_run_dir;

static proto_sub_t *s_sub;
static struct {
    char name[PROTO_NAME_MAX + 1];
    pid_t pid;
} s_instances[S_INSTANCES_MAX];

//  What the subscriber heard, per service.
static struct {
    char name[PROTO_NAME_MAX + 1];
    int boots;
    char request_id[PROTO_ID_MAX + 1];
    int hits;
    int64_t hit_count;
    int64_t first_hit_count;  // the count of the first dns.hits heard
} s_services[S_SERVICES_MAX];

//  The latest svc.alive counters per dnsd instance.
static proto_msg_t s_alive[S_INSTANCES_MAX];
static int64_t s_alive_seq[S_INSTANCES_MAX];

void
df_setup (void)
{
    df_run_dir = test_rundir_new ();
    cr_assert (not(eq (ptr, df_run_dir, NULL)));
    memset (s_instances, 0, sizeof s_instances);
    memset (s_services, 0, sizeof s_services);
    memset (s_alive_seq, 0, sizeof s_alive_seq);
    cr_assert (gt (int, test_start_bus (df_run_dir), 0), "bus did not start");
    cr_assert (gt (int, test_start_statestore (df_run_dir, NULL), 0), "statestore did not start");
    proto_endpoints_t endpoints;
    proto_endpoints_defaults (&endpoints);
    s_sub = proto_sub_new (endpoints.bus_out);
    proto_sub_subscribe (s_sub, "vm.boot");
    proto_sub_subscribe (s_sub, "dns.hits");
    proto_sub_subscribe (s_sub, "svc.alive");
}

void
df_teardown (void)
{
    //  dnsd must stop cleanly on SIGTERM (under ASan, a leak makes the status non-zero).
    bool clean = true;
    for (int index = 0; index < S_INSTANCES_MAX; index++)
        if (s_instances[index].pid > 0) {
            int status = test_stop (s_instances[index].pid, SIGTERM, 5000);
            clean = clean && WIFEXITED (status) && WEXITSTATUS (status) == 0;
        }
    proto_sub_destroy (&s_sub);
    test_reap_all ();
    char *run_dir = df_run_dir;
    if (clean)
        test_rundir_destroy (&df_run_dir);
    else {
        fprintf (stderr, "dnsd did not exit cleanly: see %s\n", run_dir);
        free (df_run_dir);
        df_run_dir = NULL;
    }
    cr_assert (clean, "dnsd did not exit cleanly on SIGTERM");
}

int
df_start_dnsd (const char *instance, int port, const char *extra)
{
    int slot = 0;
    while (slot < S_INSTANCES_MAX && s_instances[slot].pid != 0)
        slot++;
    cr_assert (lt (int, slot, S_INSTANCES_MAX));
    char config[512], log[512], port_file[512];
    snprintf (config, sizeof config, "%s/dnsd-%s.json", df_run_dir, instance);
    snprintf (log, sizeof log, "%s/dnsd-%s.log", df_run_dir, instance);
    snprintf (port_file, sizeof port_file, "%s/dnsd-%s.port", df_run_dir, instance);
    unlink (port_file);
    FILE *file = fopen (config, "w");
    cr_assert (not(eq (ptr, file, NULL)));
    fprintf (file,
             "{\"instance\": \"%s\", \"port\": %d, \"port_file\": \"%s\", "
             "\"heartbeat_ms\": 100, \"statestore_heartbeat_ms\": 200%s%s}\n",
             instance, port, port_file, extra ? ", " : "", extra ? extra : "");
    fclose (file);
    char *argv[] = {DF_DNSD, "-c", config, NULL};
    pid_t pid = test_spawn (argv, log, log);
    cr_assert (gt (int, pid, 0));
    strcpy (s_instances[slot].name, instance);
    s_instances[slot].pid = pid;
    //  The port file appears once dnsd serves (snapshot applied); give up if it exits.
    for (int waited = 0; waited < 10000; waited += 10) {
        if (access (port_file, F_OK) == 0) {
            file = fopen (port_file, "r");
            int bound = -1;
            if (file && fscanf (file, "%d", &bound) != 1)
                bound = -1;
            if (file)
                fclose (file);
            return bound;
        }
        int status;
        if (waitpid (pid, &status, WNOHANG) == pid) {
            s_instances[slot].pid = 0;
            return -1;
        }
        zclock_sleep (10);
    }
    return -1;
}

bool
df_stop_dnsd (const char *instance)
{
    for (int index = 0; index < S_INSTANCES_MAX; index++)
        if (s_instances[index].pid > 0 && streq (s_instances[index].name, instance)) {
            int status = test_stop (s_instances[index].pid, SIGTERM, 5000);
            s_instances[index].pid = 0;  // reaped: never signalled again
            return WIFEXITED (status) && WEXITSTATUS (status) == 0;
        }
    return false;
}

pid_t
df_pid (const char *instance)
{
    for (int index = 0; index < S_INSTANCES_MAX; index++)
        if (s_instances[index].pid > 0 && streq (s_instances[index].name, instance))
            return s_instances[index].pid;
    cr_assert (false, "no dnsd instance %s", instance);
    return -1;
}

int
df_jitsuctl (const char *first, ...)
{
    char output[512];
    snprintf (output, sizeof output, "%s/ctl.out", df_run_dir);
    va_list args;
    va_start (args, first);
    int rc = test_vrun (output, output, DF_CTL, first, args);
    va_end (args);
    return rc;
}

int
df_run (const char *output, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *command = zsys_vprintf (format, args);
    va_end (args);
    int rc = test_shell ("%s > %s/%s 2>&1", command, df_run_dir, output);
    zstr_free (&command);
    return rc;
}

int
df_dig (const char *output, int port, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *arguments = zsys_vprintf (format, args);
    va_end (args);
    int rc = df_run (output, "dig @127.0.0.1 -p %d +time=5 +tries=1 %s", port, arguments);
    zstr_free (&arguments);
    return rc;
}

bool
df_contains (const char *output, const char *text)
{
    //  dig aligns columns with runs of tabs: compare with blanks squeezed to one space.
    return test_shell ("tr -s '[:blank:]' ' ' < %s/%s | grep -qF -- '%s'", df_run_dir, output, text)
           == 0;
}

static int
s_service_slot (const char *name)
{
    for (int index = 0; index < S_SERVICES_MAX; index++) {
        if (streq (s_services[index].name, name))
            return index;
        if (!*s_services[index].name) {
            strcpy (s_services[index].name, name);
            return index;
        }
    }
    return -1;
}

//  Take in what the bus has for us, waiting up to TIMEOUT_MS for the first message.
static void
s_drain (int timeout_ms)
{
    zpoller_t *poller = zpoller_new (proto_sub_sock (s_sub), NULL);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    int wait = timeout_ms;
    while (zpoller_wait (poller, wait)) {
        wait = 0;
        while (proto_sub_recv (s_sub, &msg, NULL) != -1) {
            if (msg.type == PROTO_MSG_VM_BOOT) {
                int slot = s_service_slot (msg.vm_boot.service);
                if (slot >= 0) {
                    s_services[slot].boots++;
                    strcpy (s_services[slot].request_id, msg.vm_boot.request_id);
                }
            }
            else if (msg.type == PROTO_MSG_DNS_HITS) {
                int slot = s_service_slot (msg.dns_hits.service);
                if (slot >= 0) {
                    if (s_services[slot].hits++ == 0)
                        s_services[slot].first_hit_count = msg.dns_hits.count;
                    s_services[slot].hit_count += msg.dns_hits.count;
                }
            }
            else if (msg.type == PROTO_MSG_SVC_ALIVE && streq (msg.svc_alive.name, "dnsd")) {
                for (int index = 0; index < S_INSTANCES_MAX; index++)
                    if (*s_instances[index].name
                        && streq (s_instances[index].name, msg.svc_alive.instance)) {
                        proto_msg_reset (&s_alive[index]);
                        s_alive[index] = msg;
                        s_alive[index].json = NULL;
                        s_alive_seq[index]++;
                    }
            }
            proto_msg_reset (&msg);
        }
    }
    zpoller_destroy (&poller);
}

int64_t
df_counter (const char *instance, const char *name)
{
    int slot = -1;
    for (int index = 0; index < S_INSTANCES_MAX; index++)
        if (*s_instances[index].name && streq (s_instances[index].name, instance))
            slot = index;
    cr_assert (ge (int, slot, 0), "no dnsd instance %s", instance);
    //  A heartbeat sent after now: counters that include everything done so far.
    int64_t seen = s_alive_seq[slot];
    for (int waited = 0; waited < 5000 && s_alive_seq[slot] < seen + 2; waited += 50)
        s_drain (50);
    if (s_alive_seq[slot] < seen + 2)
        return -1;
    for (size_t index = 0; index < s_alive[slot].svc_alive.counter_count; index++)
        if (streq (s_alive[slot].svc_alive.counters[index].name, name))
            return s_alive[slot].svc_alive.counters[index].value;
    return -1;
}

bool
df_wait_counter (const char *instance, const char *name, int64_t value, int timeout_ms)
{
    for (int64_t start = zclock_mono (); zclock_mono () - start < timeout_ms;)
        if (df_counter (instance, name) >= value)
            return true;
    return false;
}

bool
df_wait_equal (const char *instance, const char *name, int64_t value, int timeout_ms)
{
    for (int64_t start = zclock_mono (); zclock_mono () - start < timeout_ms;)
        if (df_counter (instance, name) == value)
            return true;
    return false;
}

int
df_boots (const char *service, int wait_ms)
{
    s_drain (0);
    for (int waited = 0; waited < wait_ms; waited += 50)
        s_drain (50);
    return s_services[s_service_slot (service)].boots;
}

const char *
df_last_request_id (const char *service)
{
    return s_services[s_service_slot (service)].request_id;
}

int
df_hits (const char *service, int64_t *count)
{
    s_drain (0);
    int slot = s_service_slot (service);
    if (count)
        *count = s_services[slot].hit_count;
    return s_services[slot].hits;
}

int64_t
df_first_hits (const char *service)
{
    s_drain (0);
    return s_services[s_service_slot (service)].first_hit_count;
}

void
df_publish (const char *topic, const char *body)
{
    cr_assert (eq (int, df_jitsuctl ("publish", topic, body, NULL), 0),
               "jitsuctl publish %s failed: see %s/ctl.out", topic, df_run_dir);
}

void
df_service (const char *name, const char *words, bool running)
{
    cr_assert (eq (int, df_jitsuctl ("service", "add", name, words, NULL), 0),
               "jitsuctl service add %s %s failed: see %s/ctl.out", name, words, df_run_dir);
    if (running) {
        char key[128], value[128];
        snprintf (key, sizeof key, "/services/%s/status", name);
        snprintf (value, sizeof value, "{\"state\":\"ready\",\"since\":%" PRId64 "}",
                  zclock_time ());
        cr_assert (eq (int, df_jitsuctl ("state", "put", key, value, NULL), 0));
    }
}

//  A port free for UDP and TCP on 127.0.0.1 right now (both bound exclusively, then closed).
int
df_udp_socket (const char *address, int port, int *bound)
{
    int fd = socket (AF_INET, SOCK_DGRAM, 0);
    cr_assert (ge (int, fd, 0));
    struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
    cr_assert (eq (int, inet_pton (AF_INET, address, &local.sin_addr), 1), "%s", address);
    cr_assert (eq (int, bind (fd, (struct sockaddr *) &local, sizeof local), 0),
               "cannot bind %s: %s", address, strerror (errno));
    socklen_t length = sizeof local;
    getsockname (fd, (struct sockaddr *) &local, &length);
    if (bound)
        *bound = ntohs (local.sin_port);
    return fd;
}

int
df_free_port (void)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int udp = socket (AF_INET, SOCK_DGRAM, 0), tcp = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in address = {.sin_family = AF_INET};
        address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        int port = -1;
        if (bind (udp, (struct sockaddr *) &address, sizeof address) == 0
            && getsockname (udp, (struct sockaddr *) &address, &length) == 0
            && bind (tcp, (struct sockaddr *) &address, sizeof address) == 0)
            port = ntohs (address.sin_port);
        close (udp);
        close (tcp);
        if (port > 0)
            return port;
    }
    return -1;
}

//  Writes the config of a server that is to listen on PORT.
typedef void (s_config_fn) (int port, const void *arg);

//  RUN_DIR/NAME, into PATH (512 bytes).
static const char *
s_path (char *path, const char *name)
{
    snprintf (path, 512, "%s/%s", df_run_dir, name);
    return path;
}

//  A new RUN_DIR/NAME to write (the test fails if it cannot be created).
static FILE *
s_create (const char *name)
{
    char path[512];
    FILE *file = fopen (s_path (path, name), "w");
    cr_assert (not(eq (ptr, file, NULL)), "cannot create %s", path);
    return file;
}

//  Start the server NAME (ARGV, its output in RUN_DIR/NAME.out) on a free loopback port, its
//  config written by WRITE for that port; it serves once it answers SOA for ZONE. Another
//  process may take the port between the probe and the server's bind: try again then.
//  Returns the port; the test fails if it cannot start.
static int
s_start_server (const char *name, char *const argv[], s_config_fn *write, const void *arg,
                const char *zone)
{
    char log[512];
    snprintf (log, sizeof log, "%s/%s.out", df_run_dir, name);
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = df_free_port ();
        cr_assert (gt (int, port, 0));
        write (port, arg);
        pid_t pid = test_spawn (argv, log, log);
        cr_assert (gt (int, pid, 0));
        for (int waited = 0; waited < 10000; waited += 100) {
            if (test_shell ("dig @127.0.0.1 -p %d +short +time=1 +tries=1 %s SOA | grep -q .", port,
                            zone)
                == 0)
                return port;
            int status;
            if (waitpid (pid, &status, WNOHANG) == pid)
                break;
            zclock_sleep (100);
        }
        test_stop (pid, SIGTERM, 2000);
    }
    cr_assert (false, "%s did not start: see %s/%s.out", name, df_run_dir, name);
    return -1;
}

static void
s_nsd_config (int port, const void *arg)
{
    FILE *file = s_create ("nsd.conf");
    fprintf (file,
             "server:\n  ip-address: 127.0.0.1@%d\n  server-count: 1\n  zonesdir: \"%s\"\n"
             "  database: \"\"\n  pidfile: \"%s/nsd.pid\"\n  xfrdfile: \"%s/xfrd.state\"\n"
             "  zonelistfile: \"%s/zone.list\"\n  logfile: \"%s/nsd.log\"\n"
             "  username: \"\"\n  chroot: \"\"\n  rrl-ratelimit: 0\n  verbosity: 1\n"
             "remote-control:\n  control-enable: no\n"
             "zone:\n  name: \"%s\"\n  zonefile: \"nsd.zone\"\n",
             port, df_run_dir, df_run_dir, df_run_dir, df_run_dir, df_run_dir, (const char *) arg);
    fclose (file);
}

int
df_start_nsd (const char *zone, const char *text)
{
    FILE *file = s_create ("nsd.zone");
    fputs (text, file);
    fclose (file);
    char path[512];
    char *argv[] = {"/usr/sbin/nsd", "-d", "-c", (char *) s_path (path, "nsd.conf"), NULL};
    return s_start_server ("nsd", argv, s_nsd_config, zone, zone);
}

//  What a resolver's config needs: the zone to send to dnsd, dnsd's port, extra lines.
typedef struct {
    const char *zone;
    int dnsd_port;
    const char *extra;
} s_resolver_t;

//  Skip the test, saying why, unless PATH is an installed program.
static void
s_need (const char *path, const char *package)
{
    if (access (path, X_OK) == 0)
        return;
    fprintf (stderr, "skipped: needs %s (Debian package %s; deploy/install-deps installs it)\n",
             path, package);
    cr_skip_test ("needs %s (Debian package %s)", path, package);
}

//  Unbound as a user would run it in front of jitsu: the iterator only (no DNSSEC: the test
//  zone is unsigned), a stub zone to dnsd, and Debian's default local zone for .test turned
//  off (without it Unbound answers every name under test. with NXDOMAIN itself).
static void
s_unbound_config (int port, const void *arg)
{
    const s_resolver_t *resolver = (const s_resolver_t *) arg;
    FILE *file = s_create ("unbound.conf");
    fprintf (
        file,
        "server:\n  interface: 127.0.0.1\n  port: %d\n  do-ip6: no\n  do-daemonize: no\n"
        "  username: \"\"\n  chroot: \"\"\n  directory: \"%s\"\n  pidfile: \"%s/unbound.pid\"\n"
        "  use-syslog: no\n  logfile: \"\"\n  verbosity: 1\n  log-queries: yes\n"
        "  num-threads: 1\n  access-control: 127.0.0.0/8 allow\n"
        "  do-not-query-localhost: no\n  module-config: \"iterator\"\n"
        "  local-zone: \"test.\" nodefault\n%s"
        "remote-control:\n  control-enable: no\n"
        "stub-zone:\n  name: \"%s\"\n  stub-addr: 127.0.0.1@%d\n",
        port, df_run_dir, df_run_dir, resolver->extra ? resolver->extra : "", resolver->zone,
        resolver->dnsd_port);
    fclose (file);
}

int
df_start_unbound (const char *zone, int dnsd_port, const char *extra)
{
    s_need ("/usr/sbin/unbound", "unbound");
    char path[512];
    char *argv[] = {"/usr/sbin/unbound", "-d", "-c", (char *) s_path (path, "unbound.conf"), NULL};
    s_resolver_t resolver = {zone, dnsd_port, extra};
    return s_start_server ("unbound", argv, s_unbound_config, &resolver, zone);
}

//  Knot Resolver with no trust anchor (the test zone is unsigned) and ZONE stubbed to dnsd.
static void
s_kresd_config (int port, const void *arg)
{
    const s_resolver_t *resolver = (const s_resolver_t *) arg;
    FILE *file = s_create ("kresd.conf");
    fprintf (file,
             "net.listen('127.0.0.1', %d, { kind = 'dns' })\n"
             "trust_anchors.remove('.')\n"
             "cache.size = 10 * MB\n"
             "policy.add(policy.suffix(policy.STUB({'127.0.0.1@%d'}), {todname('%s.')}))\n%s",
             port, resolver->dnsd_port, resolver->zone, resolver->extra ? resolver->extra : "");
    fclose (file);
}

int
df_start_kresd (const char *zone, int dnsd_port, const char *extra)
{
    s_need ("/usr/sbin/kresd", "knot-resolver");
    char path[512], rundir[512];
    cr_assert (eq (int, mkdir (s_path (rundir, "kresd"), 0700) == 0 || errno == EEXIST, 1));
    char *argv[] = {
        "/usr/sbin/kresd", "-n", "-c", (char *) s_path (path, "kresd.conf"), rundir, NULL};
    s_resolver_t resolver = {zone, dnsd_port, extra};
    return s_start_server ("kresd", argv, s_kresd_config, &resolver, zone);
}
