/*  vmctl_server: sockets, timers and probes around vmctl_fleet.  */

#include "vmctl_prober.h"
#include "vmctl_server.h"
#include "vmctl_status.h"
#include "vmctl_virt.h"

struct _vmctl_server_t {
    vmctl_config_t config;
    bool verbose;
    zloop_t *loop;                    // borrowed, set by attach
    proto_pub_t *pub;                 // owned
    proto_sub_t *sub;                 // owned
    proto_state_client_t *client;     // owned: status writes
    vmctl_status_t *status;           // owned
    proto_replica_t *replica;         // owned: /services
    vmctl_virt_t *virt;               // owned
    vmctl_fleet_t *fleet;             // owned
    vmctl_prober_t *prober;           // owned: ready=probe connects, made at attach
    bool synced;
};

//  The fleet's hands ---------------------------------------------------------------------

static void
s_io_publish (void *arg, proto_msg_t *msg)
{
    vmctl_server_t *self = (vmctl_server_t *) arg;
    if (self->verbose)
        zsys_debug ("vmctl_server: publish topic=%s", msg->topic);
    proto_pub_send (self->pub, msg);
}

static void
s_io_status (void *arg, const char *service, const proto_status_t *status)
{
    vmctl_server_t *self = (vmctl_server_t *) arg;
    vmctl_status_write (self->status, service, status);
}

static void
s_io_submit (void *arg, vmctl_job_t *job)
{
    vmctl_server_t *self = (vmctl_server_t *) arg;
    if (self->verbose)
        zsys_debug ("vmctl_server: job kind=%s key=%s target=%s", vmctl_job_kind_name (job->kind),
                    job->key, job->domain.target);
    vmctl_virt_submit (self->virt, &job);
}

static void
s_on_probe_connected (void *arg, const char *service, int64_t usecs)
{
    vmctl_server_t *self = (vmctl_server_t *) arg;
    vmctl_fleet_on_probe (self->fleet, service, usecs);
}

static void
s_io_unprobe (void *arg, const char *service)
{
    vmctl_server_t *self = (vmctl_server_t *) arg;
    if (self->prober)
        vmctl_prober_stop (self->prober, service);
}

static void
s_io_probe (void *arg, const char *service, const char *ip, int port)
{
    vmctl_server_t *self = (vmctl_server_t *) arg;
    if (!self->prober || vmctl_prober_start (self->prober, service, ip, port))
        zsys_error ("vmctl_server: cannot probe service=%s ip=%s", service, ip);
}

//  Inputs --------------------------------------------------------------------------------

//  A key under /services changed: /services/NAME/config or /services/NAME/status.
static void
s_on_state (const char *key, json_t *value, void *arg)
{
    vmctl_server_t *self = (vmctl_server_t *) arg;
    char service[PROTO_NAME_MAX + 1];
    const char *field;
    if (proto_key_split (key, service, sizeof service, &field))
        return;
    if (streq (field, "config"))
        vmctl_fleet_on_config (self->fleet, service, value);
    else if (streq (field, "status"))
        vmctl_fleet_on_stored_status (self->fleet, service, value);
}

//  One vm.boot, vm.prepare, dns.hits or guest.seen from the bus.
static void
s_on_bus_message (void *argument, const proto_msg_t *msg)
{
    vmctl_server_t *self = (vmctl_server_t *) argument;
    int64_t received_us = zclock_usecs ();
    switch (msg->type) {
    case PROTO_MSG_VM_BOOT:
        if (self->verbose)
            zsys_debug ("vmctl_server: vm.boot service=%s request=%s", msg->vm_boot.service,
                        msg->vm_boot.request_id);
        vmctl_fleet_on_boot (self->fleet, &msg->vm_boot, received_us);
        break;
    case PROTO_MSG_VM_PREPARE:
        vmctl_fleet_on_prepare (self->fleet, &msg->vm_prepare);
        break;
    case PROTO_MSG_DNS_HITS:
        vmctl_fleet_on_hits (self->fleet, &msg->dns_hits);
        break;
    case PROTO_MSG_GUEST_SEEN:
        vmctl_fleet_on_guest_seen (self->fleet, &msg->guest_seen, received_us);
        break;
    default:
        break;  // vm.booting (the vm.boot prefix) and the like
    }
}

static int
s_on_virt (zloop_t *loop, zsock_t *reader, void *argument)
{
    vmctl_server_t *self = (vmctl_server_t *) argument;
    vmctl_note_t note;
    for (int count = 0; count < VMCTL_BATCH && vmctl_virt_recv (self->virt, &note) == 0; count++)
        vmctl_fleet_on_note (self->fleet, &note);
    return 0;
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *argument)
{
    vmctl_server_t *self = (vmctl_server_t *) argument;
    if (!self->synced && proto_replica_synced (self->replica)) {
        self->synced = true;
        zsys_info ("vmctl_server: service definitions loaded keys=%zu rev=%lld",
                   proto_replica_size (self->replica),
                   (long long) proto_replica_rev (self->replica));
        vmctl_fleet_on_synced (self->fleet);
    }
    vmctl_fleet_tick (self->fleet);
    return 0;
}

static int
s_on_idle_check (zloop_t *loop, int timer_id, void *argument)
{
    vmctl_fleet_idle_check (((vmctl_server_t *) argument)->fleet);
    return 0;
}

static int
s_on_heartbeat (zloop_t *loop, int timer_id, void *argument)
{
    vmctl_server_t *self = (vmctl_server_t *) argument;
    vmctl_status_flush (self->status);
    proto_msg_t msg;
    proto_pub_alive (self->pub, &msg);
    vmctl_stats_add_counters (vmctl_fleet_stats (self->fleet), &msg);
    vmctl_fleet_gauges_t gauges;
    vmctl_fleet_gauges (self->fleet, &gauges);
    const proto_counter_t counters[] = {
        {"services", gauges.services},
        {"vms_booting", gauges.booting},
        {"vms_ready", gauges.ready},
        {"vms_stopping", gauges.stopping},
        {"vms_failed", gauges.failed},
        {"vms_active", gauges.active},
        {"vms_paused", gauges.paused},
        {"memory_mib", gauges.memory_mib},
        {"boots_held", gauges.held},
        {"libvirt_connected", gauges.connected},
        {"reconciled", gauges.reconciled},
        {"jobs_pending", (int64_t) vmctl_virt_pending (self->virt)},
        {"probes", (int64_t) vmctl_prober_running (self->prober)},
        {"status_writes", (int64_t) vmctl_status_writes (self->status)},
        {"status_failures", (int64_t) vmctl_status_failures (self->status)},
        {"status_coalesced", (int64_t) vmctl_status_coalesced (self->status)},
        {"replica_resyncs", (int64_t) proto_replica_resyncs (self->replica)},
        {"state_rev", proto_replica_rev (self->replica)},
        {"bus_received", (int64_t) proto_sub_received (self->sub)},
        {"bus_malformed", (int64_t) proto_sub_malformed (self->sub)},
        {"bus_gaps", (int64_t) proto_sub_gaps (self->sub)},
    };
    proto_msg_add_counters (&msg, counters, sizeof counters / sizeof counters[0]);
    proto_pub_send (self->pub, &msg);
    return 0;
}

//  Life ----------------------------------------------------------------------------------

vmctl_server_t *
vmctl_server_new (const vmctl_config_t *config, bool verbose)
{
    assert (config);
    vmctl_server_t *self = (vmctl_server_t *) zmalloc (sizeof (vmctl_server_t));
    self->config = *config;
    self->verbose = verbose;
    char author[PROTO_SRC_MAX + 8];
    snprintf (author, sizeof author, "vmctl/%s", config->instance);
    //  The saved tier's files: without the directory, saves fail and fall back to shutdown.
    if (zsys_dir_create ("%s", config->save_dir))
        zsys_warning ("vmctl_server: cannot create save_dir=%s: %s (saves will fall back)",
                      config->save_dir, strerror (errno));
    self->pub = proto_pub_new (config->endpoints.bus_in, "vmctl", config->instance);
    self->sub = proto_sub_new (config->endpoints.bus_out);
    self->client = proto_state_client_new (config->endpoints.state, author);
    self->replica = proto_replica_new (&config->endpoints, "/services", author,
                                       config->statestore_heartbeat_ms);
    if (!self->pub || !self->sub || !self->client || !self->replica) {
        zsys_error ("vmctl_server: cannot open the bus or statestore sockets bus_in=%s "
                    "bus_out=%s state=%s",
                    config->endpoints.bus_in, config->endpoints.bus_out, config->endpoints.state);
        goto failed;
    }
    proto_sub_subscribe (self->sub, "vm.boot");
    proto_sub_subscribe (self->sub, "vm.prepare");
    proto_sub_subscribe (self->sub, "dns.hits");
    proto_sub_subscribe (self->sub, "guest.seen");
    self->status = vmctl_status_new (self->client);
    vmctl_io_t io = {
        .publish = s_io_publish,
        .status = s_io_status,
        .submit = s_io_submit,
        .probe = s_io_probe,
        .unprobe = s_io_unprobe,
        .arg = self,
    };
    self->fleet = vmctl_fleet_new (&self->config, &io);
    proto_replica_set_handler (self->replica, s_on_state, self);
    self->virt = vmctl_virt_new (config->uri, config->workers, config->reconnect_min_ms,
                                 config->reconnect_max_ms);
    if (!self->virt)
        goto failed;
    return self;
failed:
    vmctl_server_destroy (&self);
    return NULL;
}

void
vmctl_server_destroy (vmctl_server_t **self_p)
{
    assert (self_p);
    vmctl_server_t *self = *self_p;
    if (!self)
        return;
    //  Probes first (they live on the loop), then libvirt, then the bus and statestore; the
    //  state client goes before the status writer whose records its callbacks point to.
    vmctl_prober_destroy (&self->prober);
    vmctl_virt_destroy (&self->virt);
    proto_replica_destroy (&self->replica);
    proto_state_client_destroy (&self->client);
    vmctl_status_destroy (&self->status);
    vmctl_fleet_destroy (&self->fleet);
    proto_sub_destroy (&self->sub);
    proto_pub_destroy (&self->pub);
    free (self);
    *self_p = NULL;
}

int
vmctl_server_attach (vmctl_server_t *self, zloop_t *loop)
{
    assert (self && loop);
    self->loop = loop;
    self->prober = vmctl_prober_new (loop, self->config.probe_interval_ms,
                                     self->config.probe_attempt_ms, s_on_probe_connected, self);
    if (!self->prober || proto_replica_attach (self->replica, loop)
        || proto_state_client_attach (self->client, loop)
        || proto_sub_attach (self->sub, loop, VMCTL_BATCH, s_on_bus_message, self)
        || zloop_reader (loop, vmctl_virt_sock (self->virt), s_on_virt, self)
        || zloop_timer (loop, VMCTL_TICK_MS, 0, s_on_tick, self) < 0
        || zloop_timer (loop, (size_t) self->config.idle_check_ms, 0, s_on_idle_check, self) < 0
        || zloop_timer (loop, (size_t) self->config.heartbeat_ms, 0, s_on_heartbeat, self) < 0)
        return -1;
    return 0;
}

const vmctl_stats_t *
vmctl_server_stats (vmctl_server_t *self)
{
    assert (self);
    return vmctl_fleet_stats (self->fleet);
}

void
vmctl_server_inject (vmctl_server_t *self, vmctl_job_kind_t kind, vmctl_fault_t fault)
{
    assert (self);
    vmctl_virt_inject (self->virt, kind, fault);
}
