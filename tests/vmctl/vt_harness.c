/*  vt_harness: the threads, sockets and helpers of the in-process vmctl tests.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include "bus_forwarder.h"
#include "statestore_server.h"
#include "test_support.h"
#include "vmctl_config.h"
#include "vmctl_server.h"
#include "vt_harness.h"

#define S_WAIT_MS 10000

//  A received message and whether a vt_wait took it.
typedef struct {
    proto_msg_t msg;
    bool taken;
} s_seen_t;

static char *s_run_dir;
static proto_endpoints_t s_endpoints;
static zactor_t *s_infra;
static zactor_t *s_vmctl;
static char s_vmctl_config[4096];
static proto_pub_t *s_pub;
static proto_sub_t *s_sub;
static proto_state_client_t *s_client;
static virConnectPtr s_conn;
static zlistx_t *s_seen;          // s_seen_t *
static zhashx_t *s_states;        // service -> char * "booting,ready,"
static int s_listeners[16];
static size_t s_listener_count;

//  The bus and statestore -----------------------------------------------------------------

static int
s_on_term (zloop_t *loop, zsock_t *pipe, void *argument)
{
    char *command = zstr_recv (pipe);
    bool term = !command || streq (command, "$TERM");
    if (!term && streq (command, "FAULT")) {
        char *kind = zstr_recv (pipe);
        char *fault = zstr_recv (pipe);
        vmctl_server_inject ((vmctl_server_t *) argument, (vmctl_job_kind_t) atoi (kind),
                             (vmctl_fault_t) atoi (fault));
        zstr_free (&kind);
        zstr_free (&fault);
        zsock_signal (pipe, 0);  // vt_inject returns only once the fault is in force
    }
    zstr_free (&command);
    return term ? -1 : 0;
}

//  An actor's life once its servers are made: tell the test on PIPE whether start-up went OK,
//  and only then run LOOP until s_on_term (given ARGUMENT: the vmctl server, for faults) ends
//  it.
static void
s_actor_run (zsock_t *pipe, zloop_t *loop, bool ok, void *argument)
{
    zloop_reader (loop, pipe, s_on_term, argument);
    zsock_signal (pipe, ok ? 0 : 1);
    if (ok)
        zloop_start (loop);
}

static void
s_infra_actor (zsock_t *pipe, void *argument)
{
    statestore_config_t config;
    proto_error_t error;
    statestore_config_load (&config, NULL, &error);
    snprintf (config.repo, sizeof config.repo, "%s/state.git", s_run_dir);
    config.heartbeat_ms = 100;
    char reason[256] = "";
    bus_forwarder_t *bus =
        bus_forwarder_new (s_endpoints.bus_in, s_endpoints.bus_out, 100000);
    statestore_server_t *store = statestore_server_new (&config, reason, sizeof reason);
    zloop_t *loop = zloop_new ();
    bool ok = bus && store && bus_forwarder_attach (bus, loop) == 0
              && statestore_server_attach (store, loop) == 0;
    s_actor_run (pipe, loop, ok, NULL);
    zloop_destroy (&loop);
    statestore_server_destroy (&store);
    bus_forwarder_destroy (&bus);
}

static void
s_vmctl_actor (zsock_t *pipe, void *argument)
{
    vmctl_config_t config;
    vmctl_config_defaults (&config);
    proto_error_t error;
    json_error_t json_error;
    json_t *object = json_loads (s_vmctl_config, JSON_REJECT_DUPLICATES, &json_error);
    int rc = object ? vmctl_config_apply (&config, object, "test config", &error) : -1;
    json_decref (object);
    if (rc)
        zsys_error ("vt_harness: bad vmctl config %s: %s", s_vmctl_config,
                    object ? error.text : json_error.text);
    vmctl_server_t *server = rc ? NULL : vmctl_server_new (&config, false);
    zloop_t *loop = zloop_new ();
    s_actor_run (pipe, loop, server && vmctl_server_attach (server, loop) == 0, server);
    vmctl_server_destroy (&server);
    zloop_destroy (&loop);
}

//  Messages ------------------------------------------------------------------------------

static void
s_seen_destroy (void **item_p)
{
    s_seen_t *seen = (s_seen_t *) *item_p;
    if (seen) {
        proto_msg_reset (&seen->msg);
        free (seen);
    }
    *item_p = NULL;
}

//  The service a message is about; for svc.alive, the process name.
static const char *
s_service_of (const proto_msg_t *msg)
{
    const char *service = proto_msg_service (msg);
    return service ? service : msg->type == PROTO_MSG_SVC_ALIVE ? msg->svc_alive.name : "";
}

//  Record the status values a state.changed carries.
static void
s_note_states (const proto_msg_t *msg)
{
    for (size_t index = 0; index < msg->state_changed.change_count; index++) {
        const proto_change_t *change = &msg->state_changed.changes[index];
        char service[PROTO_NAME_MAX + 1];
        if (sscanf (change->key, "/services/%63[^/]/status", service) != 1
            || !strstr (change->key, "/status") || !change->value)
            continue;
        const char *state = json_string_value (json_object_get (change->value, "state"));
        char *old = (char *) zhashx_lookup (s_states, service);
        char *states = zsys_sprintf ("%s%s%s", old ? old : "", old ? "," : "",
                                     state ? state : "?");
        zhashx_update (s_states, service, states);
    }
}

//  Read what arrives within TIMEOUT_MS (at least what is waiting now).
static void
s_pump (int timeout_ms)
{
    zpoller_t *poller = zpoller_new (proto_sub_sock (s_sub), NULL);
    int64_t deadline = zclock_mono () + timeout_ms;
    while (true) {
        s_seen_t *seen = (s_seen_t *) zmalloc (sizeof (s_seen_t));
        proto_msg_init (&seen->msg, PROTO_MSG_UNKNOWN);
        int rc = proto_sub_recv (s_sub, &seen->msg, NULL);
        if (rc == 0) {
            if (seen->msg.type == PROTO_MSG_STATE_CHANGED)
                s_note_states (&seen->msg);
            zlistx_add_end (s_seen, seen);
            continue;
        }
        s_seen_destroy ((void **) &seen);
        int64_t left = deadline - zclock_mono ();
        if (rc == -1 && left <= 0)
            break;
        if (rc == -1)
            zpoller_wait (poller, (int) (left < 20 ? left : 20));
    }
    zpoller_destroy (&poller);
}

const proto_msg_t *
vt_wait (const char *topic, const char *service, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (true) {
        for (s_seen_t *seen = (s_seen_t *) zlistx_first (s_seen); seen;
             seen = (s_seen_t *) zlistx_next (s_seen))
            if (!seen->taken && streq (seen->msg.topic, topic)
                && (!service || streq (s_service_of (&seen->msg), service))) {
                seen->taken = true;
                return &seen->msg;
            }
        if (zclock_mono () >= deadline)
            return NULL;
        s_pump (10);
    }
}

int
vt_count (const char *topic, const char *service)
{
    s_pump (0);
    int count = 0;
    for (s_seen_t *seen = (s_seen_t *) zlistx_first (s_seen); seen;
         seen = (s_seen_t *) zlistx_next (s_seen))
        count += streq (seen->msg.topic, topic)
                 && (!service || streq (s_service_of (&seen->msg), service));
    return count;
}

const char *
vt_states (const char *service)
{
    s_pump (0);
    const char *states = (const char *) zhashx_lookup (s_states, service);
    return states ? states : "";
}

const char *
vt_states_reach (const char *service, const char *expected, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    const char *states = vt_states (service);
    while (!streq (states, expected) && zclock_mono () < deadline) {
        s_pump (20);
        states = vt_states (service);
    }
    return states;
}

int64_t
vt_counter (const char *name)
{
    //  Heartbeats already here may predate what the test just did: skip them.
    while (vt_wait ("svc.alive", "vmctl", 0))
        ;
    const proto_msg_t *alive = vt_wait ("svc.alive", "vmctl", S_WAIT_MS);
    cr_assert (not (eq (ptr, (void *) alive, NULL)), "no heartbeat from vmctl");
    return proto_alive_counter (&alive->svc_alive, name, -1);
}

int64_t
vt_counter_reaches (const char *name, int64_t value, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms, last = -1;
    while (zclock_mono () < deadline) {
        const proto_msg_t *alive = vt_wait ("svc.alive", "vmctl", 1000);
        if (alive && (last = proto_alive_counter (&alive->svc_alive, name, -1)) >= value)
            break;
    }
    return last;
}

//  Set-up --------------------------------------------------------------------------------

void
vt_setup (void)
{
    s_run_dir = test_rundir_new ();
    cr_assert (not (eq (ptr, s_run_dir, NULL)));
    proto_endpoints_defaults (&s_endpoints);
    s_seen = zlistx_new ();
    zlistx_set_destructor (s_seen, s_seen_destroy);
    s_states = zhashx_new ();
    zhashx_set_destructor (s_states, (zhashx_destructor_fn *) zstr_free);
    s_infra = zactor_new (s_infra_actor, NULL);
    cr_assert (not (eq (ptr, s_infra, NULL)), "bus and statestore did not start");
    s_pub = proto_pub_new (s_endpoints.bus_in, "test", "1");
    s_sub = proto_sub_new (s_endpoints.bus_out);
    const char *topics[] = {"vm.booting", "vm.ready",  "vm.stopping",   "vm.stopped",
                            "vm.failed",  "vm.draining", "svc.alive", "state.changed"};
    for (size_t index = 0; index < sizeof topics / sizeof topics[0]; index++)
        proto_sub_subscribe (s_sub, topics[index]);
    s_client = proto_state_client_new (s_endpoints.state, "test/1");
    s_conn = virConnectOpen ("test:///default");
    cr_assert (not (eq (ptr, s_conn, NULL)), "virConnectOpen test:///default failed");
}

void
vt_teardown (void)
{
    vt_stop ();
    for (size_t index = 0; index < s_listener_count; index++)
        close (s_listeners[index]);
    s_listener_count = 0;
    if (s_conn)
        virConnectClose (s_conn);
    s_conn = NULL;
    proto_state_client_destroy (&s_client);
    proto_sub_destroy (&s_sub);
    proto_pub_destroy (&s_pub);
    zactor_destroy (&s_infra);
    zlistx_destroy (&s_seen);
    zhashx_destroy (&s_states);
    test_rundir_destroy (&s_run_dir);
}

void
vt_start (const char *config)
{
    snprintf (s_vmctl_config, sizeof s_vmctl_config,
              "{\"uri\": \"test:///default\", \"heartbeat_ms\": 100, "
              "\"statestore_heartbeat_ms\": 100, \"idle_check_ms\": 50, "
              "\"probe_interval_ms\": 10, \"shutdown_grace_ms\": 300, "
              "\"reconnect_min_ms\": 50, \"reconnect_max_ms\": 200, "
              "\"save_dir\": \"%s/saves\"%s%s}",
              s_run_dir, config ? ", " : "", config ? config : "");
    char saves[512];
    snprintf (saves, sizeof saves, "%s/saves", s_run_dir);
    mkdir (saves, 0700);
    s_vmctl = zactor_new (s_vmctl_actor, NULL);
    cr_assert (not (eq (ptr, s_vmctl, NULL)), "vmctl did not start");
    cr_assert (eq (i64, vt_counter_reaches ("reconciled", 1, S_WAIT_MS), 1),
               "vmctl did not reconcile");
    //  Its bus subscription is in place once a publisher sees it. A restarted vmctl's is
    //  not forwarded again (the bus already had one); by the time it has reconciled and sent
    //  a heartbeat, its subscription (sent when it connected) has long reached the bus.
    static bool subscribed;
    if (!subscribed)
        cr_assert (eq (int, proto_pub_await (s_pub, "vm.boot", S_WAIT_MS), 0),
                   "vmctl's subscription did not reach the bus");
    subscribed = true;
}

const char *
vt_run_dir (void)
{
    return s_run_dir;
}

void
vt_stop (void)
{
    zactor_destroy (&s_vmctl);
}

virConnectPtr
vt_conn (void)
{
    return s_conn;
}

void
vt_define (const char *name, const char *mac)
{
    char xml[1024];
    snprintf (xml, sizeof xml,
              "<domain type='test'><name>%s</name><memory unit='MiB'>64</memory>"
              "<os><type>hvm</type></os><devices><interface type='bridge'>"
              "<source bridge='br0'/><mac address='%s'/></interface></devices></domain>",
              name, mac);
    virDomainPtr dom = virDomainDefineXML (s_conn, xml);
    cr_assert (not (eq (ptr, dom, NULL)), "virDomainDefineXML %s failed", name);
    virDomainFree (dom);
}

int
vt_domain_state (const char *name)
{
    virDomainPtr dom = virDomainLookupByName (s_conn, name);
    if (!dom)
        return -1;
    int state = -1, reason;
    if (virDomainGetState (dom, &state, &reason, 0))
        state = -1;
    virDomainFree (dom);
    return state;
}

//  Send REQUEST (consumed) and return its reply (owned); the test fails without one.
static json_t *
s_call (json_t *request)
{
    json_t *reply = proto_state_client_call (s_client, request, 2000, 3);
    cr_assert (not (eq (ptr, reply, NULL)), "statestore did not answer");
    bool ok = json_is_true (json_object_get (reply, "ok"));
    cr_assert (ok, "statestore refused a request");
    return reply;
}

//  Wait until vmctl's copy of the state has reached REV.
static void
s_wait_rev (int64_t rev)
{
    cr_assert (ge (i64, vt_counter_reaches ("state_rev", rev, S_WAIT_MS), rev),
               "vmctl did not see revision %lld", (long long) rev);
}

void
vt_service (const char *name, const char *json)
{
    json_error_t error;
    json_t *config = json_loads (json, 0, &error);
    cr_assert (not (eq (ptr, config, NULL)), "bad test JSON: %s", error.text);
    //  vmctl probes a service's address: tests may only reach loopback.
    const char *ip = json_string_value (json_object_get (config, "ip"));
    struct in_addr address;
    if (ip && inet_pton (AF_INET, ip, &address) == 1)
        cr_assert (eq (u32, ntohl (address.s_addr) >> 24, 127), "test address %s is not on "
                   "loopback", ip);
    json_t *reply = s_call (json_pack ("{s:s, s:s++, s:o}", "op", "put", "key", "/services/",
                                       name, "/config", "value", config));
    int64_t rev = json_integer_value (json_object_get (reply, "rev"));
    json_decref (reply);
    if (s_vmctl)
        s_wait_rev (rev);
}

void
vt_service_delete (const char *name)
{
    json_t *reply = s_call (
        json_pack ("{s:s, s:s++}", "op", "del", "key", "/services/", name, "/config"));
    int64_t rev = json_integer_value (json_object_get (reply, "rev"));
    json_decref (reply);
    if (s_vmctl)
        s_wait_rev (rev);
}

void
vt_put_status (const char *name, const char *json)
{
    json_t *value = json_loads (json, 0, NULL);
    cr_assert (not (eq (ptr, value, NULL)), "bad test JSON");
    json_decref (s_call (json_pack ("{s:s, s:s++, s:o}", "op", "put", "key", "/services/", name,
                                    "/status", "value", value)));
}

void
vt_status (const char *name, proto_status_t *status)
{
    json_t *reply = s_call (
        json_pack ("{s:s, s:s++}", "op", "get", "key", "/services/", name, "/status"));
    proto_error_t error;
    cr_assert (eq (int, proto_status_parse (status, json_object_get (reply, "value"), &error),
                   0));
    json_decref (reply);
}

void
vt_status_when (const char *name, proto_state_t state, proto_status_t *status)
{
    int64_t deadline = zclock_mono () + VT_WAIT;
    vt_status (name, status);
    while (status->state != state && zclock_mono () < deadline) {
        zclock_sleep (20);
        vt_status (name, status);
    }
}

static void
s_send (proto_msg_t *msg)
{
    cr_assert (eq (int, proto_pub_send (s_pub, msg), 0));
}

void
vt_boot (const char *service)
{
    static int request;
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_BOOT);
    proto_copy (msg.vm_boot.service, sizeof msg.vm_boot.service, service);
    snprintf (msg.vm_boot.request_id, sizeof msg.vm_boot.request_id, "test:%d", ++request);
    s_send (&msg);
}

void
vt_hits (const char *service)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_DNS_HITS);
    proto_copy (msg.dns_hits.service, sizeof msg.dns_hits.service, service);
    msg.dns_hits.count = 1;
    msg.dns_hits.first_ts = msg.dns_hits.last_ts = zclock_time ();
    s_send (&msg);
}

void
vt_guest_seen (const char *service, const char *ip, const char *mac)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_GUEST_SEEN);
    proto_copy (msg.guest_seen.service, sizeof msg.guest_seen.service, service);
    proto_copy (msg.guest_seen.ip, sizeof msg.guest_seen.ip, ip);
    proto_copy (msg.guest_seen.mac, sizeof msg.guest_seen.mac, mac);
    s_send (&msg);
}

void
vt_inject (vmctl_job_kind_t kind, vmctl_fault_t fault)
{
    cr_assert (not (eq (ptr, s_vmctl, NULL)));
    //  The fault travels on the actor's pipe, the boot it should affect on the bus: without
    //  waiting here, vmctl could take the boot (and submit its job) before it reads the fault.
    zsock_send (s_vmctl, "sii", "FAULT", (int) kind, (int) fault);
    cr_assert (eq (int, zsock_wait (s_vmctl), 0), "vmctl did not take the fault");
}

int
vt_free_port (void)
{
    int port = test_free_port (AF_INET);
    cr_assert (gt (int, port, 0));
    return port;
}

int
vt_listen (int port)
{
    int fd = test_listen (AF_INET, port, 16);
    cr_assert (ge (int, fd, 0), "cannot listen on port %d", port);
    if (s_listener_count < sizeof s_listeners / sizeof s_listeners[0])
        s_listeners[s_listener_count++] = fd;
    return fd;
}
