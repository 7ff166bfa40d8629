/*  vmctl_fleet: the VM state machine.

    One record per service. At most one job that changes a domain (boot or a stop step) is
    in flight per VM; what must happen meanwhile is remembered as an intent (abandon the boot,
    stop after it, boot after the stop, check the domain) and acted on when the job returns.
    Reads (a LIST check, interface counters) may overlap; each VM's epoch changes whenever a
    changing job starts or ends, and a read answered for an older epoch is ignored.

    libvirt's lifecycle events are hints: a stop we did not ask for is confirmed with a LIST
    before it is published, since an event can arrive after the job that caused it and after
    the next boot began.  */

#include <libvirt/libvirt.h>

#include "vmctl_admit.h"
#include "vmctl_fleet.h"
#include "vmctl_xml.h"

#define S_HELD_UNKNOWN_MS 10000  // a vm.boot for a service not (yet) known is kept this long
#define S_STOP_RETRY_MS   5000   // a VM whose destroy failed is tried again after this

//  Where a boot or a stop is.
typedef enum {
    S_STEP_NONE = 0,
    S_STEP_CAPACITY,   // booting: waiting for an eviction to make room
    S_STEP_CREATING,   // booting: the boot job runs
    S_STEP_READYING,   // booting: started, waiting for the readiness condition
    S_STEP_DELAYING,   // booting: ready, waiting out response_delay_ms
    S_STEP_CALL,       // stopping: a stop job runs
    S_STEP_GRACE       // stopping: shutdown asked, waiting for the guest to power off
} s_step_t;

//  Why a traffic reading was taken.
typedef enum {
    S_TRAFFIC_BASELINE = 0,  // at ready: the counters to compare with later
    S_TRAFFIC_SAMPLE,        // a quarter of the idle window passed: did they move?
    S_TRAFFIC_IDLE,          // the idle deadline passed: did they move?
    S_TRAFFIC_EVICT          // chosen for eviction: did they move?
} s_traffic_purpose_t;

//  One service and its VM.
typedef struct {
    char name[PROTO_NAME_MAX + 1];
    proto_service_t service;             // owned parts; meaningful when configured
    bool configured;                     // a valid config is known
    char target[PROTO_DOMAIN_MAX + 1];   // the domain to look up: name, UUID or PREFIX+name
    char next_target[PROTO_DOMAIN_MAX + 1];  // a changed target, applied once the VM is off
    //  libvirt's view.
    bool known;                          // read since the last connection
    bool active;                         // the domain runs or is paused
    bool paused;                         // paused by stop_mode suspend (state off)
    char domain[PROTO_DOMAIN_MAX + 1];   // name, from libvirt
    char uuid[PROTO_UUID_MAX + 1];
    char mac[PROTO_MAC_MAX + 1];
    char iface[PROTO_IFACE_MAX + 1];
    int64_t memory_kib;
    //  Status: what was last written (or found stored at start).
    proto_status_t status;
    //  Jobs.
    bool busy;                           // a boot or stop job is in flight
    bool checking;                       // a LIST check is in flight
    bool check_wanted;                   // check once the busy job returns
    bool traffic_pending;                // a STATS job is in flight
    int64_t epoch;
    //  A vm.boot that arrived before vmctl could act on it.
    bool held;
    int64_t held_ms, held_us;
    //  The boot.
    s_step_t step;
    int64_t deadline_ms;                 // the step's deadline, 0 when none
    int64_t boot_ms;                     // zclock_mono when its vm.boot was received
    int64_t boot_us;                     // zclock_usecs of the same
    bool event_seen;                     // libvirt said started/resumed during this boot
    int64_t event_us;
    proto_via_t via;
    int64_t ready_us;                    // when readiness was seen
    int64_t created_us;                  // when the boot call returned (in the worker)
    bool probing;
    bool abandon;                        // the ready timeout passed while the boot job ran
    //  The stop.
    proto_reason_t stop_reason;
    proto_mode_t stop_mode;              // asked for
    proto_mode_t step_mode;              // the step running now
    bool stop_wanted;                    // stop once the busy job returns
    proto_reason_t wanted_reason;
    proto_mode_t wanted_mode;
    bool boot_after_stop;                // a vm.boot came during the stop
    int64_t after_ms, after_us;
    char fail_after_stop[PROTO_TEXT_MAX + 1];  // vm.failed to publish once stopped
    bool evicting;                       // stopped, or checked, to make room
    int64_t evicting_kib;                // what that eviction counts on freeing
    bool stopped_seen;                   // libvirt said stopped while the shutdown call ran
    bool grace_over;                     // the shutdown grace ended: destroy follows
    int64_t retry_stop_ms;               // FAILED with the domain up: try destroy again then
    //  Idle.
    int64_t last_used_ms;                // last query, traffic or readiness
    bool traffic_known;
    vmctl_traffic_t traffic;
    int64_t traffic_read_ms;             // when the counters were last asked for
    bool hint_crash;                     // the last stop event said crash
} s_vm_t;

struct _vmctl_fleet_t {
    const vmctl_config_t *config;        // borrowed
    vmctl_fleet_io_t io;
    zhashx_t *vms;                       // owned: name -> s_vm_t *
    zhashx_t *foreign;                   // owned: services another instance serves (config
                                         // serve), ignored whatever arrives about them
    zlistx_t *waiting;                   // s_vm_t * in S_STEP_CAPACITY, in arrival order
    bool synced;                         // the replica has every service
    bool connected;                      // libvirt is connected
    bool ever_connected;
    bool reconciled;                     // libvirt's view read since the last connection
    bool listing;                        // a reconcile LIST is in flight
    bool startup;                        // no reconcile finished yet: stored statuses count
    char down_reason[PROTO_TEXT_MAX + 1];
    int evicting;                        // evictions under way
    int64_t evicting_kib;
    int64_t next_deadline_ms;            // no VM deadline or held request is due before
    int64_t list_after_ms;               // a failed reconcile is tried again from then
    vmctl_stats_t stats;
};

static void s_boot_admit (vmctl_fleet_t *self, s_vm_t *vm);
static void s_stop (vmctl_fleet_t *self, s_vm_t *vm, proto_reason_t reason, proto_mode_t mode);
static void s_check (vmctl_fleet_t *self, s_vm_t *vm);
static void s_admit_waiting (vmctl_fleet_t *self);
static void s_process_held (vmctl_fleet_t *self, s_vm_t *vm);

static void
s_vm_destroy (void **item_p)
{
    s_vm_t *vm = (s_vm_t *) *item_p;
    if (vm) {
        proto_service_reset (&vm->service);
        free (vm);
    }
    *item_p = NULL;
}

static s_vm_t *
s_vm_get (vmctl_fleet_t *self, const char *name, bool create)
{
    s_vm_t *vm = (s_vm_t *) zhashx_lookup (self->vms, name);
    if (vm || !create)
        return vm;
    vm = (s_vm_t *) zmalloc (sizeof (s_vm_t));
    if (proto_copy (vm->name, sizeof vm->name, name)) {
        free (vm);
        return NULL;
    }
    proto_service_init (&vm->service);
    vm->last_used_ms = zclock_mono ();
    zhashx_insert (self->vms, name, vm);
    return vm;
}

//  The VM whose domain is called NAME (or has UUID), or NULL.
static s_vm_t *
s_vm_by_domain (vmctl_fleet_t *self, const char *name, const char *uuid)
{
    for (s_vm_t *vm = (s_vm_t *) zhashx_first (self->vms); vm;
         vm = (s_vm_t *) zhashx_next (self->vms)) {
        if ((vm->domain[0] && streq (vm->domain, name)) || streq (vm->target, name)
            || (uuid[0] && (streq (vm->uuid, uuid) || strcasecmp (vm->target, uuid) == 0)))
            return vm;
    }
    return NULL;
}

//  Messages ------------------------------------------------------------------------------

static void
s_publish (vmctl_fleet_t *self, proto_msg_t *msg)
{
    self->io.publish (self->io.arg, msg);
}

static void
s_publish_booting (vmctl_fleet_t *self, s_vm_t *vm)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_BOOTING);
    proto_vm_booting_t *body = &msg.vm_booting;
    proto_copy (body->service, sizeof body->service, vm->name);
    proto_copy (body->boot_id, sizeof body->boot_id, vm->status.boot_id);
    proto_copy (body->domain, sizeof body->domain, vm->domain[0] ? vm->domain : vm->target);
    proto_copy (body->uuid, sizeof body->uuid, vm->uuid);
    proto_copy (body->ip, sizeof body->ip, vm->service.ip);
    proto_copy (body->mac, sizeof body->mac, vm->mac[0] ? vm->mac : vm->service.mac);
    proto_copy (body->iface, sizeof body->iface, vm->iface);
    body->mask = vm->configured ? (proto_booting_mask_t) (vm->service.mask + 1)
                                : PROTO_BOOTING_MASK_UNSET;
    s_publish (self, &msg);
}

static void
s_publish_ready (vmctl_fleet_t *self, s_vm_t *vm, proto_via_t via, int64_t boot_ms)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_READY);
    proto_copy (msg.vm_ready.service, sizeof msg.vm_ready.service, vm->name);
    proto_copy (msg.vm_ready.boot_id, sizeof msg.vm_ready.boot_id, vm->status.boot_id);
    proto_copy (msg.vm_ready.ip, sizeof msg.vm_ready.ip, vm->service.ip);
    msg.vm_ready.via = via;
    msg.vm_ready.boot_ms = boot_ms > 0 ? boot_ms : 0;
    s_publish (self, &msg);
}

static void
s_publish_stop (vmctl_fleet_t *self, s_vm_t *vm, proto_msg_type_t type, proto_reason_t reason,
                proto_mode_t mode)
{
    proto_msg_t msg;
    proto_msg_init (&msg, type);
    proto_copy (msg.vm_stop.service, sizeof msg.vm_stop.service, vm->name);
    msg.vm_stop.reason = reason;
    msg.vm_stop.mode = mode;
    proto_copy (msg.vm_stop.boot_id, sizeof msg.vm_stop.boot_id, vm->status.boot_id);
    s_publish (self, &msg);
}

static void
s_publish_failed (vmctl_fleet_t *self, s_vm_t *vm, const char *error)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_FAILED);
    proto_copy (msg.vm_failed.service, sizeof msg.vm_failed.service, vm->name);
    proto_copy (msg.vm_failed.boot_id, sizeof msg.vm_failed.boot_id, vm->status.boot_id);
    proto_copy (msg.vm_failed.error, sizeof msg.vm_failed.error, error);
    s_publish (self, &msg);
}

//  A target changed while the VM was up takes effect once it is off.
static void
s_apply_target (s_vm_t *vm)
{
    if (!vm->next_target[0] || vm->active)
        return;
    strcpy (vm->target, vm->next_target);
    vm->next_target[0] = '\0';
    vm->domain[0] = vm->uuid[0] = vm->mac[0] = vm->iface[0] = '\0';
    vm->known = false;
}

//  State and status ----------------------------------------------------------------------

static void s_apply_target (s_vm_t *vm);

//  Enter STATE and write the status, even when the state is the same (a new boot that
//  failed at once leaves failed for failed, with a new boot_id).
static void
s_write_state (vmctl_fleet_t *self, s_vm_t *vm, proto_state_t state)
{
    vm->status.state = state;
    vm->status.since = zclock_time ();
    if ((state == PROTO_STATE_OFF || state == PROTO_STATE_FAILED) && !vm->busy)
        s_apply_target (vm);
    self->io.status (self->io.arg, vm->name, &vm->status);
}

//  Enter STATE; a change is one status write.
static void
s_set_state (vmctl_fleet_t *self, s_vm_t *vm, proto_state_t state)
{
    if (vm->status.state != state)
        s_write_state (self, vm, state);
}

static void
s_set_deadline (vmctl_fleet_t *self, s_vm_t *vm, int64_t deadline_ms)
{
    vm->deadline_ms = deadline_ms;
    if (deadline_ms && deadline_ms < self->next_deadline_ms)
        self->next_deadline_ms = deadline_ms;
}

static void
s_unprobe (vmctl_fleet_t *self, s_vm_t *vm)
{
    if (vm->probing) {
        self->io.unprobe (self->io.arg, vm->name);
        vm->probing = false;
    }
}

//  The boot id of boot number BOOTS: "NAME-BOOTS", the name cut to fit.
static void
s_boot_id (s_vm_t *vm)
{
    char number[24];
    snprintf (number, sizeof number, "-%lld", (long long) vm->status.boots);
    int room = PROTO_ID_MAX - (int) strlen (number);
    snprintf (vm->status.boot_id, sizeof vm->status.boot_id, "%.*s%s", room, vm->name, number);
}

//  Submitting jobs -----------------------------------------------------------------------

//  A job for VM's domain. Boots look up the target; what acts on a VM that is up looks up its
//  UUID, which stays right when the service's target changed meanwhile.
static vmctl_job_t *
s_job (s_vm_t *vm, vmctl_job_kind_t kind)
{
    bool by_uuid = kind != VMCTL_JOB_BOOT && vm->active && vm->uuid[0];
    vmctl_job_t *job = vmctl_job_new (kind, vm->name, by_uuid ? vm->uuid : vm->target);
    proto_copy (job->domain.wanted_mac, sizeof job->domain.wanted_mac, vm->service.mac);
    job->domain.epoch = vm->epoch;
    return job;
}

//  Submit a job that changes the domain: the VM is busy until it returns.
static void
s_submit_change (vmctl_fleet_t *self, s_vm_t *vm, vmctl_job_t *job)
{
    vm->busy = true;
    vm->epoch++;
    job->domain.epoch = vm->epoch;
    self->io.submit (self->io.arg, job);
}

static void
s_traffic (vmctl_fleet_t *self, s_vm_t *vm, s_traffic_purpose_t purpose)
{
    const char *device = vm->iface[0] ? vm->iface : vm->mac;
    if (vm->traffic_pending || !device[0])
        return;
    vmctl_job_t *job = s_job (vm, VMCTL_JOB_STATS);
    proto_copy (job->device, sizeof job->device, device);
    job->purpose = (int) purpose;
    vm->traffic_pending = true;
    vm->traffic_read_ms = zclock_mono ();
    self->io.submit (self->io.arg, job);
}

//  Ask libvirt about the VM's domain (single LIST); acted on in s_reconcile_one.
static void
s_check (vmctl_fleet_t *self, s_vm_t *vm)
{
    if (!self->connected || !vm->target[0])
        return;
    if (vm->busy) {
        vm->check_wanted = true;
        return;
    }
    if (vm->checking)
        return;
    vmctl_job_t *job = vmctl_job_new (VMCTL_JOB_LIST, vm->name, NULL);
    vmctl_domain_t *domain = vmctl_job_add_domain (job, vm->name, vm->target);
    proto_copy (domain->wanted_mac, sizeof domain->wanted_mac, vm->service.mac);
    domain->epoch = vm->epoch;
    vm->checking = true;
    self->io.submit (self->io.arg, job);
}

//  Booting -------------------------------------------------------------------------------

//  The boot ends without anything running: vm.failed, state failed.
static void
s_boot_failed (vmctl_fleet_t *self, s_vm_t *vm, const char *error)
{
    s_unprobe (self, vm);
    zlistx_t *waiting = self->waiting;
    void *handle = zlistx_find (waiting, vm);
    if (handle)
        zlistx_delete (waiting, handle);
    zsys_warning ("vmctl_fleet: boot failed service=%s boot_id=%s error=%s", vm->name,
                  vm->status.boot_id, error);
    vm->step = S_STEP_NONE;
    s_set_deadline (self, vm, 0);
    self->stats.boot_failures++;
    if (streq (error, "capacity"))
        self->stats.capacity_refusals++;
    s_publish_failed (self, vm, error);
    proto_copy (vm->status.last_error, sizeof vm->status.last_error, error);
    s_write_state (self, vm, PROTO_STATE_FAILED);
}

//  Start boot number boots+1, asked for at BOOT_MS / BOOT_US.
static void
s_boot_begin (vmctl_fleet_t *self, s_vm_t *vm, int64_t boot_ms, int64_t boot_us)
{
    vm->status.boots++;
    s_boot_id (vm);
    vm->boot_ms = boot_ms;
    vm->boot_us = boot_us;
    vm->event_seen = false;
    vm->abandon = false;
    vm->fail_after_stop[0] = '\0';
    self->stats.boots++;
    s_set_deadline (self, vm, boot_ms + vm->service.ready_timeout_ms);
    zsys_info ("vmctl_fleet: boot service=%s boot_id=%s target=%s", vm->name,
               vm->status.boot_id, vm->target);
    s_boot_admit (self, vm);
}

static void
s_boot_create (vmctl_fleet_t *self, s_vm_t *vm)
{
    vm->step = S_STEP_CREATING;
    vmctl_job_t *job = s_job (vm, VMCTL_JOB_BOOT);
    if (vm->service.template)
        job->xml = vmctl_xml_domain (&vm->service, vm->target, self->config->domain_type);
    //  The call first: the status write need not delay it.
    s_submit_change (self, vm, job);
    s_set_state (self, vm, PROTO_STATE_BOOTING);
}

//  Build admission's view of every VM; the asking VM is never a candidate.
static vmctl_admit_vm_t *
s_admit_view (vmctl_fleet_t *self, s_vm_t *asking, s_vm_t ***order, size_t *count)
{
    size_t size = zhashx_size (self->vms);
    vmctl_admit_vm_t *view = (vmctl_admit_vm_t *) zmalloc ((size + 1) * sizeof *view);
    *order = (s_vm_t **) zmalloc ((size + 1) * sizeof (s_vm_t *));
    int64_t now = zclock_mono ();
    size_t index = 0;
    for (s_vm_t *vm = (s_vm_t *) zhashx_first (self->vms); vm;
         vm = (s_vm_t *) zhashx_next (self->vms)) {
        vmctl_admit_vm_t *entry = &view[index];
        entry->name = vm->name;
        entry->active = vm->active;
        entry->booting = vm != asking && vm->status.state == PROTO_STATE_BOOTING
                         && vm->step >= S_STEP_CREATING && vm->step <= S_STEP_DELAYING;
        entry->memory_kib = vm->memory_kib;
        entry->last_used_ms = vm->last_used_ms;
        bool free_hand = vm != asking && !vm->busy && !vm->evicting && vm->configured;
        entry->paused = vm->paused;
        entry->candidate =
            free_hand
            && ((vm->paused && vm->status.state != PROTO_STATE_BOOTING)
                || (vm->status.state == PROTO_STATE_READY && vm->step == S_STEP_NONE
                    && now - vm->last_used_ms >= (int64_t) vm->service.ttl * 1000));
        (*order)[index++] = vm;
    }
    *count = index;
    return view;
}

static void
s_evict (vmctl_fleet_t *self, s_vm_t *victim, const char *why)
{
    victim->evicting = true;
    victim->evicting_kib = victim->memory_kib;
    self->evicting++;
    self->evicting_kib += victim->evicting_kib;
    zsys_info ("vmctl_fleet: evicting service=%s limit=%s", victim->name, why);
    bool check_traffic = !victim->paused && victim->service.idle_on == PROTO_IDLE_ON_DNS_TRAFFIC
                         && (victim->iface[0] || victim->mac[0]);
    if (check_traffic)
        //  A reading already on its way (the baseline) answers this question as well.
        s_traffic (self, victim, S_TRAFFIC_EVICT);
    else {
        self->stats.evictions++;
        s_stop (self, victim, PROTO_REASON_IDLE, PROTO_MODE_DESTROY);
    }
}

static void
s_eviction_over (vmctl_fleet_t *self, s_vm_t *vm)
{
    if (!vm->evicting)
        return;
    vm->evicting = false;
    self->evicting--;
    self->evicting_kib -= vm->evicting_kib;
}

static void
s_boot_admit (vmctl_fleet_t *self, s_vm_t *vm)
{
    const vmctl_limits_t *limits = &self->config->limits;
    if (!limits->max_running && !limits->max_booting && !limits->memory_budget_mib) {
        s_boot_create (self, vm);  // no limit: nothing to count
        return;
    }
    s_vm_t **order;
    size_t count;
    vmctl_admit_vm_t *view = s_admit_view (self, vm, &order, &count);
    vmctl_admit_request_t request = {
        .needs_slot = !vm->active,
        .memory_kib = vm->active ? 0 : vm->memory_kib,
        .evicting = self->evicting,
        .evicting_kib = self->evicting_kib,
    };
    size_t victim = 0;
    const char *why = NULL;
    vmctl_admit_verdict_t verdict =
        vmctl_admit_decide (&self->config->limits, &request, view, count, &victim, &why);
    s_vm_t *victim_vm = verdict == VMCTL_ADMIT_EVICT ? order[victim] : NULL;
    free (view);
    free (order);
    void *handle = zlistx_find (self->waiting, vm);
    if (verdict == VMCTL_ADMIT_YES || verdict == VMCTL_ADMIT_NO) {
        if (handle)
            zlistx_delete (self->waiting, handle);
        if (verdict == VMCTL_ADMIT_YES)
            s_boot_create (self, vm);
        else {
            zsys_info ("vmctl_fleet: no capacity service=%s limit=%s", vm->name, why);
            s_boot_failed (self, vm, "capacity");
        }
        return;
    }
    vm->step = S_STEP_CAPACITY;
    if (!handle)
        zlistx_add_end (self->waiting, vm);
    s_set_state (self, vm, PROTO_STATE_BOOTING);
    if (victim_vm)
        s_evict (self, victim_vm, why);
}

//  Offer room to the boots waiting for it, oldest first.
static void
s_admit_waiting (vmctl_fleet_t *self)
{
    if (zlistx_size (self->waiting) == 0)
        return;
    zlistx_t *copy = zlistx_dup (self->waiting);
    for (s_vm_t *vm = (s_vm_t *) zlistx_first (copy); vm; vm = (s_vm_t *) zlistx_next (copy))
        if (vm->step == S_STEP_CAPACITY && zlistx_find (self->waiting, vm))
            s_boot_admit (self, vm);
    zlistx_destroy (&copy);
}

static void s_announce (vmctl_fleet_t *self, s_vm_t *vm);

//  Readiness was seen at READY_US: announce now, or after response_delay_ms.
static void
s_ready (vmctl_fleet_t *self, s_vm_t *vm, proto_via_t via, int64_t ready_us)
{
    s_unprobe (self, vm);
    vm->via = via;
    vm->ready_us = ready_us;
    if (vm->service.response_delay_ms > 0) {
        vm->step = S_STEP_DELAYING;
        s_set_deadline (self, vm, zclock_mono () + vm->service.response_delay_ms);
        return;
    }
    s_announce (self, vm);
}

static void
s_announce (vmctl_fleet_t *self, s_vm_t *vm)
{
    int64_t now = zclock_mono ();
    int64_t boot_ms = now - vm->boot_ms;
    s_publish_ready (self, vm, vm->via, boot_ms);
    //  The benchmark's second latency: from the moment vmctl could say ready (readiness seen,
    //  and the boot call returned: vm.booting must come first) to vm.ready published. A
    //  response delay is deliberate, so those boots are not sampled.
    int64_t could_us = vm->ready_us > vm->created_us ? vm->ready_us : vm->created_us;
    if (vm->service.response_delay_ms == 0 && vm->via != PROTO_VIA_RUNNING)
        vmctl_samples_add (&self->stats.announce_us, zclock_usecs () - could_us);
    vm->step = S_STEP_NONE;
    s_set_deadline (self, vm, 0);
    vm->last_used_ms = now;
    vm->traffic_known = false;
    self->stats.boots_ready++;
    vmctl_stats_boot_ms (&self->stats, boot_ms);
    vm->status.last_boot_ms = boot_ms;
    vm->status.last_error[0] = '\0';
    zsys_info ("vmctl_fleet: ready service=%s boot_id=%s via=%s boot_ms=%lld", vm->name,
               vm->status.boot_id, proto_via_name (vm->via), (long long) boot_ms);
    s_set_state (self, vm, PROTO_STATE_READY);
    if (vm->service.idle_on == PROTO_IDLE_ON_DNS_TRAFFIC)
        s_traffic (self, vm, S_TRAFFIC_BASELINE);
}

//  The domain runs (created, or found running): wait for the readiness the service asks for.
//  RUNNING_BEFORE: it was up before this boot, so libvirt will not say "started" again.
static void
s_await_ready (vmctl_fleet_t *self, s_vm_t *vm, bool running_before)
{
    vm->step = S_STEP_READYING;
    s_publish_booting (self, vm);
    if (vm->service.ready == PROTO_READY_PROBE) {
        vm->probing = true;
        self->io.probe (self->io.arg, vm->name, vm->service.ip, vm->service.ready_port);
    }
    else if (running_before)
        s_ready (self, vm, PROTO_VIA_RUNNING, zclock_usecs ());
    else if (vm->service.ready == PROTO_READY_EVENT && vm->event_seen)
        s_ready (self, vm, PROTO_VIA_EVENT, vm->event_us);
}

static void
s_on_boot_done (vmctl_fleet_t *self, s_vm_t *vm, vmctl_job_t *job)
{
    if (job->rc) {
        self->stats.libvirt_errors++;
        s_boot_failed (self, vm, vm->abandon ? "ready_timeout: the boot call did not return "
                                               "in time, then failed" : job->error);
        if (vm->abandon)
            zsys_warning ("vmctl_fleet: late boot failure service=%s error=%s", vm->name,
                          job->error);
        return;
    }
    vm->known = true;
    vm->active = true;
    vm->paused = false;
    proto_copy (vm->domain, sizeof vm->domain, job->domain.name);
    proto_copy (vm->uuid, sizeof vm->uuid, job->domain.uuid);
    proto_copy (vm->mac, sizeof vm->mac, job->domain.mac);
    proto_copy (vm->iface, sizeof vm->iface, job->domain.iface);
    if (job->domain.memory_kib)
        vm->memory_kib = (int64_t) job->domain.memory_kib;
    vm->created_us = job->done_us;
    if (job->booted != VMCTL_BOOTED_RUNNING && job->call_us)
        vmctl_samples_add (&self->stats.dispatch_us, job->call_us - vm->boot_us);
    zsys_info ("vmctl_fleet: started service=%s boot_id=%s how=%s domain=%s iface=%s", vm->name,
               vm->status.boot_id, vmctl_booted_name (job->booted), vm->domain,
               vm->iface[0] ? vm->iface : "-");
    if (vm->abandon) {
        snprintf (vm->fail_after_stop, sizeof vm->fail_after_stop,
                  "ready_timeout: the boot call took longer than %d ms",
                  vm->service.ready_timeout_ms);
        s_stop (self, vm, PROTO_REASON_FAILED, PROTO_MODE_DESTROY);
        return;
    }
    s_await_ready (self, vm, job->booted == VMCTL_BOOTED_RUNNING);
}

//  The ready timeout passed.
static void
s_boot_timeout (vmctl_fleet_t *self, s_vm_t *vm)
{
    char error[PROTO_TEXT_MAX + 1];
    const char *ready = vm->service.ready == PROTO_READY_PROBE ? "probe"
                        : vm->service.ready == PROTO_READY_GARP ? "garp" : "event";
    snprintf (error, sizeof error, "ready_timeout: not ready after %d ms (ready=%s)",
              vm->service.ready_timeout_ms, ready);
    if (vm->step == S_STEP_CAPACITY) {
        s_boot_failed (self, vm, "capacity");
        return;
    }
    if (vm->step == S_STEP_CREATING) {
        vm->abandon = true;  // acted on when the boot job returns
        s_set_deadline (self, vm, 0);
        return;
    }
    s_unprobe (self, vm);
    proto_copy (vm->fail_after_stop, sizeof vm->fail_after_stop, error);
    s_stop (self, vm, PROTO_REASON_FAILED, PROTO_MODE_DESTROY);
}


//  Whether vm.boot for VM can be acted on now: the service and its domain are known.
static bool
s_can_act (vmctl_fleet_t *self, s_vm_t *vm)
{
    return self->synced && self->connected && self->reconciled && vm->configured && vm->known;
}

//  vm.boot for VM, received at RECEIVED_MS / RECEIVED_US.
static void
s_boot_request (vmctl_fleet_t *self, s_vm_t *vm, int64_t received_ms, int64_t received_us)
{
    if (!s_can_act (self, vm)) {
        //  Held, never lost: acted on once known, failed after the ready timeout.
        if (!vm->held) {
            vm->held = true;
            vm->held_ms = received_ms;
            vm->held_us = received_us;
            self->next_deadline_ms = 0;
        }
        return;
    }
    switch (vm->status.state) {
    case PROTO_STATE_READY:
        //  Idempotent: announce again what is true, for a requester that missed it.
        self->stats.reannounces++;
        vm->last_used_ms = zclock_mono ();
        s_publish_booting (self, vm);
        s_publish_ready (self, vm, PROTO_VIA_RUNNING, 0);
        break;
    case PROTO_STATE_BOOTING:
        self->stats.boots_joined++;
        if (vm->step == S_STEP_READYING || vm->step == S_STEP_DELAYING)
            s_publish_booting (self, vm);
        break;
    case PROTO_STATE_STOPPING:
        if (!vm->boot_after_stop) {
            vm->boot_after_stop = true;
            vm->after_ms = received_ms;
            vm->after_us = received_us;
        }
        break;
    default:
        s_boot_begin (self, vm, received_ms, received_us);
    }
}

static void
s_process_held (vmctl_fleet_t *self, s_vm_t *vm)
{
    if (vm->held && s_can_act (self, vm)) {
        vm->held = false;
        s_boot_request (self, vm, vm->held_ms, vm->held_us);
    }
}

//  A held request waited too long: fail it as a boot (configured) or drop it (unknown).
static void
s_held_expired (vmctl_fleet_t *self, s_vm_t *vm)
{
    vm->held = false;
    if (!vm->configured) {
        self->stats.boots_unknown++;
        zsys_warning ("vmctl_fleet: vm.boot for an unknown service dropped service=%s",
                      vm->name);
        return;
    }
    vm->status.boots++;
    s_boot_id (vm);
    self->stats.boots++;
    s_boot_failed (self, vm, self->connected ? "vmctl: libvirt's state not read yet"
                                             : self->down_reason);
}

//  Stopping ------------------------------------------------------------------------------

static void
s_count_stop (vmctl_fleet_t *self, proto_reason_t reason)
{
    switch (reason) {
    case PROTO_REASON_IDLE:
        self->stats.stops_idle++;
        break;
    case PROTO_REASON_ADMIN:
        self->stats.stops_admin++;
        break;
    case PROTO_REASON_CRASH:
        self->stats.stops_crash++;
        break;
    case PROTO_REASON_EXTERNAL:
        self->stats.stops_external++;
        break;
    case PROTO_REASON_FAILED:
        self->stats.stops_failed++;
        break;
    }
}

static void
s_stop_step (vmctl_fleet_t *self, s_vm_t *vm, proto_mode_t mode)
{
    vmctl_job_kind_t kind = mode == PROTO_MODE_SHUTDOWN ? VMCTL_JOB_SHUTDOWN
                            : mode == PROTO_MODE_SUSPEND ? VMCTL_JOB_SUSPEND
                            : mode == PROTO_MODE_SAVE    ? VMCTL_JOB_SAVE
                                                         : VMCTL_JOB_DESTROY;
    vm->step = S_STEP_CALL;
    vm->step_mode = mode;
    s_set_deadline (self, vm, 0);
    s_submit_change (self, vm, s_job (vm, kind));
}

//  Stop VM for REASON by MODE (the ladder falls back to destroy).
static void
s_stop (vmctl_fleet_t *self, s_vm_t *vm, proto_reason_t reason, proto_mode_t mode)
{
    if (mode == PROTO_MODE_NONE)
        mode = PROTO_MODE_DESTROY;
    if (vm->busy) {
        vm->stop_wanted = true;
        vm->wanted_reason = reason;
        vm->wanted_mode = mode;
        return;
    }
    vm->stop_wanted = false;
    s_unprobe (self, vm);
    void *handle = zlistx_find (self->waiting, vm);
    if (handle)
        zlistx_delete (self->waiting, handle);
    if (vm->status.state == PROTO_STATE_BOOTING && !vm->fail_after_stop[0])
        snprintf (vm->fail_after_stop, sizeof vm->fail_after_stop, "stopped during the boot: %s",
                  proto_reason_name (reason));
    vm->stop_reason = reason;
    vm->stop_mode = mode;
    vm->stopped_seen = vm->grace_over = false;
    zsys_info ("vmctl_fleet: stopping service=%s reason=%s mode=%s", vm->name,
               proto_reason_name (reason), proto_mode_name (mode));
    s_set_state (self, vm, PROTO_STATE_STOPPING);
    s_publish_stop (self, vm, PROTO_MSG_VM_STOPPING, reason, mode);
    s_stop_step (self, vm, mode);
}

//  What happens after a VM stopped (or a boot ended): room for waiting boots, a boot that
//  came during the stop.
static void
s_after_stop (vmctl_fleet_t *self, s_vm_t *vm)
{
    s_eviction_over (self, vm);
    s_admit_waiting (self);
    if (vm->boot_after_stop) {
        vm->boot_after_stop = false;
        s_boot_request (self, vm, vm->after_ms, vm->after_us);
    }
}

//  The stop is done; MODE is what was effectively done.
static void
s_stopped (vmctl_fleet_t *self, s_vm_t *vm, proto_mode_t mode)
{
    vm->step = S_STEP_NONE;
    s_set_deadline (self, vm, 0);
    vm->active = mode == PROTO_MODE_SUSPEND;
    vm->paused = mode == PROTO_MODE_SUSPEND;
    vm->traffic_known = false;
    vm->retry_stop_ms = 0;
    s_count_stop (self, vm->stop_reason);
    zsys_info ("vmctl_fleet: stopped service=%s reason=%s mode=%s", vm->name,
               proto_reason_name (vm->stop_reason), proto_mode_name (mode));
    s_publish_stop (self, vm, PROTO_MSG_VM_STOPPED, vm->stop_reason, mode);
    if (vm->fail_after_stop[0]) {
        //  Only now: "whatever the failed boot started has been stopped".
        char error[PROTO_TEXT_MAX + 1];
        strcpy (error, vm->fail_after_stop);
        vm->fail_after_stop[0] = '\0';
        s_boot_failed (self, vm, error);
    }
    else
        s_set_state (self, vm, PROTO_STATE_OFF);
    s_after_stop (self, vm);
}

//  Even destroy failed: the domain may still run. Try again later.
static void
s_stop_failed (vmctl_fleet_t *self, s_vm_t *vm, const char *error)
{
    self->stats.stop_failures++;
    zsys_error ("vmctl_fleet: cannot stop service=%s error=%s", vm->name, error);
    vm->step = S_STEP_NONE;
    s_set_deadline (self, vm, 0);
    vm->retry_stop_ms = zclock_mono () + S_STOP_RETRY_MS;
    if (vm->fail_after_stop[0]) {
        char combined[PROTO_TEXT_MAX + 1];
        snprintf (combined, sizeof combined, "%.500s; then %.500s", vm->fail_after_stop, error);
        vm->fail_after_stop[0] = '\0';
        s_boot_failed (self, vm, combined);
    }
    else {
        proto_copy (vm->status.last_error, sizeof vm->status.last_error, error);
        s_write_state (self, vm, PROTO_STATE_FAILED);
    }
    s_after_stop (self, vm);
}

//  The mode failed: down the ladder to destroy.
static void
s_fall_back (vmctl_fleet_t *self, s_vm_t *vm, const char *why)
{
    self->stats.stop_fallbacks++;
    zsys_warning ("vmctl_fleet: stop mode failed, destroying service=%s mode=%s why=%s",
                  vm->name, proto_mode_name (vm->step_mode), why);
    s_stop_step (self, vm, PROTO_MODE_DESTROY);
}

static void
s_on_stop_done (vmctl_fleet_t *self, s_vm_t *vm, vmctl_job_t *job)
{
    if (job->rc)
        self->stats.libvirt_errors++;
    switch (job->kind) {
    case VMCTL_JOB_DESTROY:
        if (job->rc)
            s_stop_failed (self, vm, job->error);
        else {
            //  After a shutdown the guest may have powered off by itself: then that was the
            //  mode; only a destroy that found it up after the grace is a fallback.
            bool obeyed = vm->stop_mode == PROTO_MODE_SHUTDOWN && job->was_off;
            if (vm->grace_over && !obeyed)
                self->stats.stop_fallbacks++;
            s_stopped (self, vm, obeyed ? PROTO_MODE_SHUTDOWN : PROTO_MODE_DESTROY);
        }
        break;
    case VMCTL_JOB_SHUTDOWN:
        if (job->rc)
            s_fall_back (self, vm, job->error);
        else if (self->config->shutdown_grace_ms == 0 || vm->stopped_seen)
            s_stop_step (self, vm, PROTO_MODE_DESTROY);  // confirms it is off
        else {
            vm->step = S_STEP_GRACE;
            s_set_deadline (self, vm, zclock_mono () + self->config->shutdown_grace_ms);
        }
        break;
    case VMCTL_JOB_SUSPEND:
    case VMCTL_JOB_SAVE:
        if (job->rc)
            s_fall_back (self, vm, job->error);
        else
            s_stopped (self, vm, job->kind == VMCTL_JOB_SUSPEND ? PROTO_MODE_SUSPEND
                                                                : PROTO_MODE_SAVE);
        break;
    default:
        break;
    }
}

//  A VM we thought up is gone, and we did not stop it.
static void
s_vanished (vmctl_fleet_t *self, s_vm_t *vm, proto_reason_t reason)
{
    s_unprobe (self, vm);
    bool booting = vm->status.state == PROTO_STATE_BOOTING;
    vm->step = S_STEP_NONE;
    s_set_deadline (self, vm, 0);
    vm->active = vm->paused = false;
    vm->traffic_known = false;
    vm->stop_reason = reason;
    s_count_stop (self, reason);
    zsys_warning ("vmctl_fleet: domain stopped by itself service=%s reason=%s", vm->name,
                  proto_reason_name (reason));
    s_publish_stop (self, vm, PROTO_MSG_VM_STOPPED, reason, PROTO_MODE_NONE);
    if (booting)
        s_boot_failed (self, vm, reason == PROTO_REASON_CRASH
                                     ? "the domain crashed during the boot"
                                     : "the domain stopped during the boot");
    else
        s_set_state (self, vm, PROTO_STATE_OFF);
    s_after_stop (self, vm);
}

//  Reconcile -----------------------------------------------------------------------------

//  vmctl died mid-boot and the domain runs: finish that boot, with its boot_id.
static void
s_resume_boot (vmctl_fleet_t *self, s_vm_t *vm)
{
    int64_t age = zclock_time () - vm->status.since;
    age = age > 0 ? age : 0;
    vm->boot_ms = zclock_mono () - age;
    vm->boot_us = zclock_usecs () - age * 1000;
    vm->event_seen = false;
    vm->abandon = false;
    s_set_deadline (self, vm, zclock_mono () + vm->service.ready_timeout_ms);
    zsys_info ("vmctl_fleet: resuming an interrupted boot service=%s boot_id=%s", vm->name,
               vm->status.boot_id);
    s_await_ready (self, vm, true);
}

//  A domain runs that no boot of ours is waiting for: it is ready, and its idle clock starts.
static void
s_adopt (vmctl_fleet_t *self, s_vm_t *vm)
{
    self->stats.adoptions++;
    if (!vm->status.boot_id[0])
        s_boot_id (vm);
    vm->last_used_ms = zclock_mono ();
    vm->traffic_known = false;
    vm->retry_stop_ms = 0;
    zsys_info ("vmctl_fleet: adopted a running domain service=%s domain=%s", vm->name,
               vm->domain);
    s_set_state (self, vm, PROTO_STATE_READY);
    if (vm->service.idle_on == PROTO_IDLE_ON_DNS_TRAFFIC)
        s_traffic (self, vm, S_TRAFFIC_BASELINE);
}

//  Make the VM agree with what libvirt says about its domain.
static void
s_reconcile_one (vmctl_fleet_t *self, s_vm_t *vm, const vmctl_domain_t *domain)
{
    vm->known = true;
    bool running = domain->found && domain->state != VIR_DOMAIN_SHUTOFF
                   && domain->state != VIR_DOMAIN_NOSTATE && domain->state != VIR_DOMAIN_CRASHED;
    bool paused = running && domain->state == VIR_DOMAIN_PAUSED;
    bool crashed = domain->found
                   && (domain->state == VIR_DOMAIN_CRASHED
                       || (domain->state == VIR_DOMAIN_SHUTOFF
                           && domain->reason == VIR_DOMAIN_SHUTOFF_CRASHED));
    if (domain->found) {
        proto_copy (vm->domain, sizeof vm->domain, domain->name);
        proto_copy (vm->uuid, sizeof vm->uuid, domain->uuid);
        if (domain->memory_kib)
            vm->memory_kib = (int64_t) domain->memory_kib;
        if (running) {
            proto_copy (vm->mac, sizeof vm->mac, domain->mac);
            proto_copy (vm->iface, sizeof vm->iface, domain->iface);
        }
    }
    //  A crashed domain kept by on_crash=preserve still holds its resources.
    vm->active = running || (domain->found && domain->state == VIR_DOMAIN_CRASHED);
    proto_reason_t gone = crashed || vm->hint_crash ? PROTO_REASON_CRASH
                                                    : PROTO_REASON_EXTERNAL;
    vm->hint_crash = false;
    switch (vm->status.state) {
    case PROTO_STATE_READY:
        if (domain->found && domain->state == VIR_DOMAIN_CRASHED)
            s_stop (self, vm, PROTO_REASON_CRASH, PROTO_MODE_DESTROY);
        else if (!running) {
            if (self->startup)
                self->stats.status_fixes++;
            s_vanished (self, vm, gone);
        }
        else if (self->startup) {
            self->stats.adoptions++;
            vm->last_used_ms = zclock_mono ();
            zsys_info ("vmctl_fleet: adopted a running domain service=%s domain=%s", vm->name,
                       vm->domain);
            if (vm->service.idle_on == PROTO_IDLE_ON_DNS_TRAFFIC)
                s_traffic (self, vm, S_TRAFFIC_BASELINE);
        }
        break;
    case PROTO_STATE_BOOTING:
        if (vm->step == S_STEP_READYING || vm->step == S_STEP_DELAYING) {
            if (!running || paused)
                s_vanished (self, vm, gone);
        }
        else if (vm->step == S_STEP_NONE) {
            //  Found stored at start: vmctl was stopped or killed during this boot.
            if (running && !paused)
                s_resume_boot (self, vm);
            else {
                self->stats.status_fixes++;
                s_boot_failed (self, vm, "vmctl restarted before the boot completed");
            }
        }
        break;
    case PROTO_STATE_STOPPING:
        if (vm->step == S_STEP_GRACE && !running)
            s_stopped (self, vm, PROTO_MODE_SHUTDOWN);
        else if (vm->step == S_STEP_NONE) {
            //  Found stored at start: finish the stop, or record that it finished.
            if (running && !paused)
                s_stop (self, vm, PROTO_REASON_IDLE, vm->service.stop_mode);
            else {
                self->stats.status_fixes++;
                vm->paused = paused;
                s_set_state (self, vm, PROTO_STATE_OFF);
            }
        }
        break;
    case PROTO_STATE_OFF:
    case PROTO_STATE_FAILED:
        vm->paused = paused;
        if (running && !paused && vm->configured)
            s_adopt (self, vm);
        else if (!running)
            vm->retry_stop_ms = 0;
        break;
    }
}

//  Read libvirt's view of every VM that nothing is being done to.
static void
s_reconcile_all (vmctl_fleet_t *self)
{
    vmctl_job_t *job = vmctl_job_new (VMCTL_JOB_LIST, NULL, NULL);
    for (s_vm_t *vm = (s_vm_t *) zhashx_first (self->vms); vm;
         vm = (s_vm_t *) zhashx_next (self->vms)) {
        if (!vm->target[0] || vm->busy)
            continue;  // a busy VM is checked when its job returns
        vmctl_domain_t *domain = vmctl_job_add_domain (job, vm->name, vm->target);
        proto_copy (domain->wanted_mac, sizeof domain->wanted_mac, vm->service.mac);
        domain->epoch = vm->epoch;
    }
    self->listing = true;
    zsys_info ("vmctl_fleet: reconciling domains=%zu", job->domain_count);
    self->io.submit (self->io.arg, job);
}

static void
s_on_list (vmctl_fleet_t *self, vmctl_job_t *job)
{
    bool single = job->key[0] != '\0';
    s_vm_t *owner = single ? s_vm_get (self, job->key, false) : NULL;
    if (owner)
        owner->checking = false;
    if (!single)
        self->listing = false;
    if (job->rc) {
        self->stats.libvirt_errors++;
        zsys_warning ("vmctl_fleet: cannot read domains error=%s", job->error);
        if (!single)
            self->list_after_ms = zclock_mono () + 1000;  // tried again, not every tick
        return;
    }
    for (size_t index = 0; index < job->domain_count; index++) {
        const vmctl_domain_t *domain = &job->domains[index];
        s_vm_t *vm = s_vm_get (self, domain->service, false);
        if (!vm || vm->busy || domain->epoch != vm->epoch)
            continue;  // something happened since the question: its answer is stale
        s_reconcile_one (self, vm, domain);
    }
    if (!single && !self->reconciled) {
        self->reconciled = true;
        self->startup = false;
        zsys_info ("vmctl_fleet: reconciled services=%zu", zhashx_size (self->vms));
    }
    //  Held boots whose domains are now known go ahead.
    zlistx_t *names = zhashx_keys (self->vms);
    for (const char *name = (const char *) zlistx_first (names); name;
         name = (const char *) zlistx_next (names)) {
        s_vm_t *vm = s_vm_get (self, name, false);
        if (vm)
            s_process_held (self, vm);
    }
    zlistx_destroy (&names);
}

//  Idle ----------------------------------------------------------------------------------

static void
s_on_traffic (vmctl_fleet_t *self, s_vm_t *vm, vmctl_job_t *job)
{
    vm->traffic_pending = false;
    s_traffic_purpose_t purpose = (s_traffic_purpose_t) job->purpose;
    if (vm->evicting)
        purpose = S_TRAFFIC_EVICT;  // whatever this reading was for, eviction waits on it
    bool evict = purpose == S_TRAFFIC_EVICT;
    if (vm->status.state != PROTO_STATE_READY || vm->step != S_STEP_NONE || vm->busy) {
        if (evict) {
            s_eviction_over (self, vm);
            s_admit_waiting (self);
        }
        return;
    }
    bool moved = false, had = vm->traffic_known;
    if (job->rc == 0) {
        //  Only what the guest sent counts (libvirt reports the guest's side: tx = sent by
        //  it): what it receives includes the bridge's broadcast and multicast (ARP for
        //  others, router solicitations), which would keep every guest up forever.
        moved = had
                && (vm->traffic.tx_packets != job->traffic.tx_packets
                    || vm->traffic.tx_bytes != job->traffic.tx_bytes);
        vm->traffic = job->traffic;
        vm->traffic_known = true;
    }
    else {
        //  No counters (no interface, a driver without them): queries alone decide.
        had = true;
        vm->traffic_known = false;
    }
    if (purpose == S_TRAFFIC_BASELINE)
        return;
    self->stats.traffic_checks++;
    if (purpose == S_TRAFFIC_SAMPLE) {
        //  In use at most a quarter window ago: the idle clock restarts now.
        if (moved) {
            self->stats.traffic_kept++;
            vm->last_used_ms = zclock_mono ();
        }
        return;
    }
    if (moved || !had) {
        //  Traffic (or no earlier reading to compare with): in use, so not idle.
        self->stats.traffic_kept += moved;
        vm->last_used_ms = zclock_mono ();
        if (evict) {
            s_eviction_over (self, vm);
            s_admit_waiting (self);
        }
        return;
    }
    if (evict) {
        self->stats.evictions++;
        s_stop (self, vm, PROTO_REASON_IDLE, PROTO_MODE_DESTROY);
    }
    else
        s_stop (self, vm, PROTO_REASON_IDLE, vm->service.stop_mode);
}

//  Events --------------------------------------------------------------------------------

static void
s_on_event (vmctl_fleet_t *self, const vmctl_note_t *note)
{
    s_vm_t *vm = s_vm_by_domain (self, note->domain, note->uuid);
    if (!vm)
        return;
    proto_state_t state = vm->status.state;
    switch (note->event) {
    case VIR_DOMAIN_EVENT_STARTED:
    case VIR_DOMAIN_EVENT_RESUMED:
        if (state == PROTO_STATE_BOOTING
            && (vm->step == S_STEP_CREATING || vm->step == S_STEP_READYING)) {
            vm->event_seen = true;
            vm->event_us = note->usecs;
            if (vm->step == S_STEP_READYING && vm->service.ready == PROTO_READY_EVENT)
                s_ready (self, vm, PROTO_VIA_EVENT, note->usecs);
        }
        else if (state == PROTO_STATE_OFF || state == PROTO_STATE_FAILED)
            s_check (self, vm);  // started by someone else: adopted once confirmed
        break;
    case VIR_DOMAIN_EVENT_STOPPED:
    case VIR_DOMAIN_EVENT_CRASHED:
        vm->hint_crash = note->event == VIR_DOMAIN_EVENT_CRASHED
                         || note->detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED;
        if (state == PROTO_STATE_STOPPING && vm->step == S_STEP_GRACE)
            s_stop_step (self, vm, PROTO_MODE_DESTROY);  // finds it off: mode shutdown
        else if (state == PROTO_STATE_STOPPING && vm->step_mode == PROTO_MODE_SHUTDOWN)
            vm->stopped_seen = true;  // before the shutdown call's own answer
        else if (state != PROTO_STATE_STOPPING)
            s_check (self, vm);
        break;
    default:
        break;
    }
}

//  Public API ----------------------------------------------------------------------------

vmctl_fleet_t *
vmctl_fleet_new (const vmctl_config_t *config, const vmctl_fleet_io_t *io)
{
    assert (config && io);
    vmctl_fleet_t *self = (vmctl_fleet_t *) zmalloc (sizeof (vmctl_fleet_t));
    self->config = config;
    self->io = *io;
    self->vms = zhashx_new ();
    zhashx_set_destructor (self->vms, s_vm_destroy);
    self->foreign = zhashx_new ();
    self->waiting = zlistx_new ();
    self->startup = true;
    snprintf (self->down_reason, sizeof self->down_reason, "virConnectOpen: not connected yet");
    return self;
}

void
vmctl_fleet_destroy (vmctl_fleet_t **self_p)
{
    assert (self_p);
    vmctl_fleet_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy (&self->waiting);
    zhashx_destroy (&self->vms);
    zhashx_destroy (&self->foreign);
    free (self);
    *self_p = NULL;
}

//  Whether this instance manages SERVICE: config "serve" splits services between a vmctl for
//  transient QEMU domains (template) and one for defined domains (domain), e.g. LXC.
static bool
s_serves (vmctl_fleet_t *self, const proto_service_t *service)
{
    const char *serve = self->config->serve;
    return streq (serve, "all") || (streq (serve, "template") == (service->template != NULL));
}

void
vmctl_fleet_on_config (vmctl_fleet_t *self, const char *name, json_t *value)
{
    assert (self && name);
    if (!value)
        zhashx_delete (self->foreign, name);
    s_vm_t *vm = s_vm_get (self, name, value != NULL);
    if (!vm)
        return;
    if (!value) {
        if (!vm->configured)
            return;
        vm->configured = false;
        zsys_info ("vmctl_fleet: service removed service=%s", name);
        vm->held = false;
        if (vm->status.state == PROTO_STATE_BOOTING && vm->step == S_STEP_CAPACITY)
            s_boot_failed (self, vm, "service removed");
        else if (vm->busy || vm->status.state == PROTO_STATE_BOOTING
                 || vm->status.state == PROTO_STATE_READY || vm->active)
            s_stop (self, vm, PROTO_REASON_ADMIN, PROTO_MODE_DESTROY);
        return;
    }
    proto_service_t parsed;
    proto_service_init (&parsed);
    proto_error_t error;
    if (proto_service_parse (&parsed, value, name, &error))
        goto invalid;
    if (!streq (parsed.name, name)) {
        proto_error_set (&error, PROTO_ERR_VALUE, "%s: name: \"%s\" differs from the key", name,
                         parsed.name);
        proto_service_reset (&parsed);
        goto invalid;
    }
    if (!s_serves (self, &parsed)) {
        proto_service_reset (&parsed);
        zhashx_update (self->foreign, name, (void *) 1);
        vmctl_fleet_on_config (self, name, NULL);  // stop managing it if we did
        zhashx_update (self->foreign, name, (void *) 1);
        return;
    }
    zhashx_delete (self->foreign, name);
    char target[PROTO_DOMAIN_MAX + 1];
    if (parsed.domain[0])
        strcpy (target, parsed.domain);
    else
        snprintf (target, sizeof target, "%s%s", self->config->domain_prefix, name);
    proto_service_reset (&vm->service);
    vm->service = parsed;
    vm->configured = true;
    if (vm->service.template && !(vm->known && vm->memory_kib))
        vm->memory_kib = (int64_t) vm->service.template->memory_mib * 1024;
    if (!streq (target, vm->target)) {
        if (vm->target[0] && (vm->active || vm->busy)) {
            zsys_warning ("vmctl_fleet: domain changed while the VM is up; it applies once it "
                          "is off service=%s domain=%s", name, target);
            strcpy (vm->next_target, target);
        }
        else {
            strcpy (vm->target, target);
            vm->next_target[0] = '\0';
            vm->domain[0] = vm->uuid[0] = vm->mac[0] = vm->iface[0] = '\0';
            vm->known = false;
        }
    }
    if (self->synced && self->reconciled && !vm->known)
        s_check (self, vm);
    s_process_held (self, vm);
    return;
invalid:
    self->stats.configs_invalid++;
    zsys_warning ("vmctl_fleet: invalid service config ignored service=%s error=%s", name,
                  error.text);
}

void
vmctl_fleet_on_stored_status (vmctl_fleet_t *self, const char *name, json_t *value)
{
    assert (self && name);
    if (!self->startup || !value || zhashx_lookup (self->foreign, name))
        return;  // after the first reconcile, vmctl's own writes coming back
    s_vm_t *vm = s_vm_get (self, name, true);
    if (!vm)
        return;
    proto_error_t error;
    proto_status_t status;
    if (proto_status_parse (&status, value, &error)) {
        zsys_warning ("vmctl_fleet: stored status ignored service=%s error=%s", name,
                      error.text);
        return;
    }
    vm->status = status;
}

void
vmctl_fleet_on_synced (vmctl_fleet_t *self)
{
    assert (self);
    self->synced = true;
    self->next_deadline_ms = 0;
}

void
vmctl_fleet_on_boot (vmctl_fleet_t *self, const proto_vm_boot_t *boot, int64_t received_us)
{
    assert (self && boot);
    if (zhashx_lookup (self->foreign, boot->service))
        return;  // another vmctl's
    s_vm_t *vm = s_vm_get (self, boot->service, false);
    if (!vm || !vm->configured) {
        if (self->synced) {
            self->stats.boots_unknown++;
            zsys_warning ("vmctl_fleet: vm.boot for an unknown service service=%s request=%s",
                          boot->service, boot->request_id);
            return;
        }
        vm = s_vm_get (self, boot->service, true);  // known once the replica is synced
        if (!vm)
            return;
    }
    s_boot_request (self, vm, zclock_mono (), received_us);
}

void
vmctl_fleet_on_hits (vmctl_fleet_t *self, const proto_dns_hits_t *hits)
{
    assert (self && hits);
    s_vm_t *vm = s_vm_get (self, hits->service, false);
    if (!vm)
        return;
    //  The last query's age, on our monotonic clock; a clock ahead of ours counts as now.
    int64_t age = zclock_time () - hits->last_ts;
    int64_t used = zclock_mono () - (age > 0 ? age : 0);
    if (used > vm->last_used_ms)
        vm->last_used_ms = used;
}

void
vmctl_fleet_on_guest_seen (vmctl_fleet_t *self, const proto_guest_seen_t *seen,
                           int64_t received_us)
{
    assert (self && seen);
    s_vm_t *vm = s_vm_get (self, seen->service, false);
    if (vm && vm->status.state == PROTO_STATE_BOOTING && vm->step == S_STEP_READYING
        && vm->service.ready == PROTO_READY_GARP)
        s_ready (self, vm, PROTO_VIA_GARP, received_us);
}

void
vmctl_fleet_on_probe (vmctl_fleet_t *self, const char *service, int64_t usecs)
{
    assert (self && service);
    s_vm_t *vm = s_vm_get (self, service, false);
    if (!vm)
        return;
    vm->probing = false;  // a probe that called back has ended
    if (vm->status.state == PROTO_STATE_BOOTING && vm->step == S_STEP_READYING)
        s_ready (self, vm, PROTO_VIA_PROBE, usecs);
}

//  Count the libvirt calls JOB made; a slow one is worth an operator's look.
static void
s_count_calls (vmctl_fleet_t *self, const vmctl_job_t *job)
{
    for (size_t index = 0; index < job->call_count; index++) {
        const vmctl_timed_call_t *timed = &job->calls[index];
        if (vmctl_stats_call (&self->stats, timed->call, timed->us))
            zsys_warning ("vmctl: slow libvirt call call=%s service=%s domain=%s ms=%lld",
                          vmctl_call_function (timed->call), job->key, job->domain.target,
                          (long long) (timed->us / 1000));
    }
}

static void
s_on_job (vmctl_fleet_t *self, vmctl_job_t *job)
{
    s_count_calls (self, job);
    if (job->kind == VMCTL_JOB_LIST) {
        s_on_list (self, job);
        return;
    }
    s_vm_t *vm = s_vm_get (self, job->key, false);
    if (!vm)
        return;
    if (job->kind == VMCTL_JOB_STATS) {
        s_on_traffic (self, vm, job);
        return;
    }
    vm->busy = false;
    vm->epoch++;
    if (job->kind == VMCTL_JOB_BOOT) {
        if (vm->stop_wanted && job->rc == 0) {
            vm->known = true;
            vm->active = true;
            proto_copy (vm->domain, sizeof vm->domain, job->domain.name);
            proto_copy (vm->uuid, sizeof vm->uuid, job->domain.uuid);
        }
        else
            s_on_boot_done (self, vm, job);
    }
    else
        s_on_stop_done (self, vm, job);
    if (!vm->busy && vm->stop_wanted) {
        vm->stop_wanted = false;
        if (vm->active || vm->status.state == PROTO_STATE_BOOTING)
            s_stop (self, vm, vm->wanted_reason, vm->wanted_mode);
    }
    if (!vm->busy && (vm->check_wanted || (!vm->known && self->reconciled))) {
        vm->check_wanted = false;
        s_check (self, vm);
    }
}

void
vmctl_fleet_on_note (vmctl_fleet_t *self, vmctl_note_t *note)
{
    assert (self && note);
    switch (note->kind) {
    case VMCTL_NOTE_DONE:
        s_on_job (self, note->job);
        vmctl_job_destroy (&note->job);
        break;
    case VMCTL_NOTE_EVENT:
        s_on_event (self, note);
        break;
    case VMCTL_NOTE_CONNECTION:
        if (note->up) {
            if (self->ever_connected)
                self->stats.libvirt_reconnects++;
            self->ever_connected = true;
            self->connected = true;
        }
        else {
            self->connected = false;
            proto_copy (self->down_reason, sizeof self->down_reason, note->message);
        }
        //  Either way libvirt's view must be read again (libvirtd may have restarted).
        self->reconciled = false;
        for (s_vm_t *vm = (s_vm_t *) zhashx_first (self->vms); vm;
             vm = (s_vm_t *) zhashx_next (self->vms))
            vm->known = false;
        self->next_deadline_ms = 0;
        break;
    }
}

void
vmctl_fleet_tick (vmctl_fleet_t *self)
{
    assert (self);
    int64_t now = zclock_mono ();
    if (self->connected && self->synced && !self->reconciled && !self->listing
        && now >= self->list_after_ms)
        s_reconcile_all (self);
    if (now < self->next_deadline_ms)
        return;
    self->next_deadline_ms = INT64_MAX;
    zlistx_t *names = zhashx_keys (self->vms);
    for (const char *name = (const char *) zlistx_first (names); name;
         name = (const char *) zlistx_next (names)) {
        s_vm_t *vm = s_vm_get (self, name, false);
        if (!vm)
            continue;
        if (vm->held) {
            int64_t limit = vm->configured ? vm->service.ready_timeout_ms : S_HELD_UNKNOWN_MS;
            if (self->synced && !vm->configured)
                limit = 0;  // the replica is complete: this service does not exist
            if (now - vm->held_ms >= limit)
                s_held_expired (self, vm);
            else if (vm->held_ms + limit < self->next_deadline_ms)
                self->next_deadline_ms = vm->held_ms + limit;
        }
        if (!vm->deadline_ms)
            continue;
        if (now < vm->deadline_ms) {
            if (vm->deadline_ms < self->next_deadline_ms)
                self->next_deadline_ms = vm->deadline_ms;
            continue;
        }
        s_set_deadline (self, vm, 0);
        if (vm->status.state == PROTO_STATE_BOOTING) {
            if (vm->step == S_STEP_DELAYING)
                s_announce (self, vm);
            else
                s_boot_timeout (self, vm);
        }
        else if (vm->status.state == PROTO_STATE_STOPPING && vm->step == S_STEP_GRACE) {
            vm->grace_over = true;
            zsys_warning ("vmctl_fleet: still up after the shutdown grace, destroying "
                          "service=%s", vm->name);
            s_stop_step (self, vm, PROTO_MODE_DESTROY);
        }
    }
    zlistx_destroy (&names);
}

void
vmctl_fleet_idle_check (vmctl_fleet_t *self)
{
    assert (self);
    if (!self->reconciled)
        return;
    int64_t now = zclock_mono ();
    zlistx_t *names = zhashx_keys (self->vms);
    for (const char *name = (const char *) zlistx_first (names); name;
         name = (const char *) zlistx_next (names)) {
        s_vm_t *vm = s_vm_get (self, name, false);
        if (!vm || vm->busy)
            continue;
        if (vm->status.state == PROTO_STATE_FAILED && vm->active && vm->retry_stop_ms
            && now >= vm->retry_stop_ms) {
            vm->retry_stop_ms = 0;
            s_stop (self, vm, PROTO_REASON_FAILED, PROTO_MODE_DESTROY);
            continue;
        }
        if (vm->status.state != PROTO_STATE_READY || vm->step != S_STEP_NONE || !vm->configured
            || vm->evicting)
            continue;
        int64_t window = (int64_t) vm->service.idle_timeout_s * 1000;
        bool counters = vm->service.idle_on == PROTO_IDLE_ON_DNS_TRAFFIC
                        && (vm->iface[0] || vm->mac[0]);
        if (now - vm->last_used_ms < window) {
            //  Read the counters every quarter window, so traffic restarts the idle clock
            //  within a quarter window of when it happened, not a whole window later.
            if (counters && now - vm->traffic_read_ms >= window / 4)
                s_traffic (self, vm, S_TRAFFIC_SAMPLE);
            continue;
        }
        if (counters)
            s_traffic (self, vm, S_TRAFFIC_IDLE);
        else
            s_stop (self, vm, PROTO_REASON_IDLE, vm->service.stop_mode);
    }
    zlistx_destroy (&names);
}

const vmctl_stats_t *
vmctl_fleet_stats (vmctl_fleet_t *self)
{
    assert (self);
    return &self->stats;
}

void
vmctl_fleet_gauges (vmctl_fleet_t *self, vmctl_fleet_gauges_t *gauges)
{
    assert (self && gauges);
    memset (gauges, 0, sizeof *gauges);
    int64_t memory_kib = 0;
    for (s_vm_t *vm = (s_vm_t *) zhashx_first (self->vms); vm;
         vm = (s_vm_t *) zhashx_next (self->vms)) {
        gauges->services += vm->configured;
        gauges->booting += vm->status.state == PROTO_STATE_BOOTING;
        gauges->ready += vm->status.state == PROTO_STATE_READY;
        gauges->stopping += vm->status.state == PROTO_STATE_STOPPING;
        gauges->failed += vm->status.state == PROTO_STATE_FAILED;
        gauges->active += vm->active;
        gauges->paused += vm->paused;
        gauges->held += vm->held;
        memory_kib += vm->active ? vm->memory_kib : 0;
    }
    gauges->memory_mib = memory_kib / 1024;
    gauges->connected = self->connected;
    gauges->reconciled = self->reconciled;
}
