/*  vmctl_fleet: every service's VM (vmctl_vm), and what concerns more than one: the registry,
    the services another vmctl serves, vm.boot requests held until vmctl can act, admission
    with its waiting list and evictions, the reconcile of every domain, and routing what
    arrives to the VM it is about. Each VM method returns effects; the fleet acts on them in
    one place (s_act).  */

#include "vmctl_admit.h"
#include "vmctl_fleet.h"
#include "vmctl_vm.h"

#define S_HELD_UNKNOWN_MS 10000  // a vm.boot for a service not (yet) known is kept this long

//  A vm.boot that arrived before vmctl could act on it.
typedef struct {
    int64_t received_ms, received_us;
} s_held_t;

struct _vmctl_fleet_t {
    const vmctl_config_t *config;        // borrowed
    vmctl_io_t io;
    vmctl_vm_ctx_t ctx;                  // what the VMs work with; kept current
    zhashx_t *vms;                       // owned: name -> vmctl_vm_t *
    zhashx_t *foreign;                   // owned: services another instance serves (config
                                         // serve), ignored whatever arrives about them
    zhashx_t *held;                      // owned: name -> s_held_t *
    zlistx_t *waiting;                   // vmctl_vm_t * waiting for room, in arrival order
    zhashx_t *evicting;                  // owned: name -> int64_t * (KiB it will free)
    int64_t evicting_kib;
    bool synced;                         // the replica has every service
    bool ever_connected;
    bool listing;                        // a reconcile LIST is in flight
    char down_reason[PROTO_TEXT_MAX + 1];
    int64_t next_deadline_ms;            // no VM deadline or held request is due before
    int64_t list_after_ms;               // a failed reconcile is tried again from then
    vmctl_stats_t stats;
};

static void s_act (vmctl_fleet_t *self, vmctl_vm_t *vm, unsigned effects);
static void s_boot_request (vmctl_fleet_t *self, vmctl_vm_t *vm, int64_t received_ms,
                            int64_t received_us);

static void
s_vm_free (void **item_p)
{
    vmctl_vm_destroy ((vmctl_vm_t **) item_p);
}

static void
s_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

static vmctl_vm_t *
s_vm_get (vmctl_fleet_t *self, const char *name, bool create)
{
    vmctl_vm_t *vm = (vmctl_vm_t *) zhashx_lookup (self->vms, name);
    if (vm || !create)
        return vm;
    vm = vmctl_vm_new (name);
    if (vm)
        zhashx_insert (self->vms, name, vm);
    return vm;
}

//  The VM whose domain is called NAME (or has UUID), or NULL.
static vmctl_vm_t *
s_vm_by_domain (vmctl_fleet_t *self, const char *name, const char *uuid)
{
    for (vmctl_vm_t *vm = (vmctl_vm_t *) zhashx_first (self->vms); vm;
         vm = (vmctl_vm_t *) zhashx_next (self->vms))
        if (vmctl_vm_owns_domain (vm, name, uuid))
            return vm;
    return NULL;
}

//  Every VM, by name: a snapshot that VMs may change under (a method can start a job).
static zlistx_t *
s_names (vmctl_fleet_t *self)
{
    return zhashx_keys (self->vms);
}

//  Admission and eviction ------------------------------------------------------------------

static bool
s_is_evicting (vmctl_fleet_t *self, vmctl_vm_t *vm)
{
    return zhashx_lookup (self->evicting, vmctl_vm_name (vm)) != NULL;
}

static void
s_eviction_over (vmctl_fleet_t *self, vmctl_vm_t *vm)
{
    int64_t *kib = (int64_t *) zhashx_lookup (self->evicting, vmctl_vm_name (vm));
    if (!kib)
        return;
    self->evicting_kib -= *kib;
    zhashx_delete (self->evicting, vmctl_vm_name (vm));
}

//  Admission's view of every VM; the asking VM is never a candidate.
static vmctl_admit_vm_t *
s_admit_view (vmctl_fleet_t *self, vmctl_vm_t *asking, vmctl_vm_t ***order, size_t *count)
{
    size_t size = zhashx_size (self->vms);
    vmctl_admit_vm_t *view = (vmctl_admit_vm_t *) zmalloc ((size + 1) * sizeof *view);
    *order = (vmctl_vm_t **) zmalloc ((size + 1) * sizeof (vmctl_vm_t *));
    int64_t now = zclock_mono ();
    size_t index = 0;
    for (vmctl_vm_t *vm = (vmctl_vm_t *) zhashx_first (self->vms); vm;
         vm = (vmctl_vm_t *) zhashx_next (self->vms)) {
        const vmctl_vm_domain_t *domain = vmctl_vm_domain (vm);
        vmctl_vm_state_t state = vmctl_vm_state (vm);
        vmctl_admit_vm_t *entry = &view[index];
        entry->name = vmctl_vm_name (vm);
        entry->active = domain->active;
        entry->booting = vm != asking && state >= VMCTL_VM_CREATING && state <= VMCTL_VM_DELAYING;
        entry->memory_kib = domain->memory_kib;
        entry->last_used_ms = vmctl_vm_last_used (vm);
        entry->paused = domain->paused;
        bool free_hand = vm != asking && !vmctl_vm_busy (vm) && !s_is_evicting (self, vm)
                         && vmctl_vm_configured (vm);
        bool booting = vmctl_vm_status (vm)->state == PROTO_STATE_BOOTING;
        int64_t ttl_ms = (int64_t) vmctl_vm_service (vm)->ttl * 1000;
        entry->candidate = free_hand
                           && ((domain->paused && !booting)
                               || (state == VMCTL_VM_READY
                                   && now - vmctl_vm_last_used (vm) >= ttl_ms));
        (*order)[index++] = vm;
    }
    *count = index;
    return view;
}

static void
s_evict (vmctl_fleet_t *self, vmctl_vm_t *victim, const char *why)
{
    int64_t *kib = (int64_t *) zmalloc (sizeof (int64_t));
    *kib = vmctl_vm_domain (victim)->memory_kib;
    self->evicting_kib += *kib;
    zhashx_update (self->evicting, vmctl_vm_name (victim), kib);
    zsys_info ("vmctl_fleet: evicting service=%s limit=%s", vmctl_vm_name (victim), why);
    s_act (self, victim, vmctl_vm_evict (victim, &self->ctx));
}

//  Decide whether VM's boot may go ahead, and tell it.
static void
s_admit (vmctl_fleet_t *self, vmctl_vm_t *vm)
{
    const vmctl_limits_t *limits = &self->config->limits;
    if (!limits->max_running && !limits->max_booting && !limits->memory_budget_mib) {
        s_act (self, vm, vmctl_vm_admit (vm, &self->ctx, VMCTL_ADMIT_YES));  // nothing to count
        return;
    }
    vmctl_vm_t **order;
    size_t count;
    vmctl_admit_vm_t *view = s_admit_view (self, vm, &order, &count);
    const vmctl_vm_domain_t *domain = vmctl_vm_domain (vm);
    vmctl_admit_request_t request = {
        .needs_slot = !domain->active,
        .memory_kib = domain->active ? 0 : domain->memory_kib,
        .evicting = (int) zhashx_size (self->evicting),
        .evicting_kib = self->evicting_kib,
    };
    size_t victim = 0;
    const char *why = NULL;
    vmctl_admit_verdict_t verdict =
        vmctl_admit_decide (limits, &request, view, count, &victim, &why);
    vmctl_vm_t *victim_vm = verdict == VMCTL_ADMIT_EVICT ? order[victim] : NULL;
    free (view);
    free (order);
    if (verdict == VMCTL_ADMIT_NO)
        zsys_info ("vmctl_fleet: no capacity service=%s limit=%s", vmctl_vm_name (vm), why);
    s_act (self, vm, vmctl_vm_admit (vm, &self->ctx, verdict));
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
    for (vmctl_vm_t *vm = (vmctl_vm_t *) zlistx_first (copy); vm;
         vm = (vmctl_vm_t *) zlistx_next (copy))
        if (vmctl_vm_state (vm) == VMCTL_VM_CAPACITY && zlistx_find (self->waiting, vm))
            s_admit (self, vm);
    zlistx_destroy (&copy);
}

//  What a VM method said must follow: the one place the fleet reacts to a VM.
static void
s_act (vmctl_fleet_t *self, vmctl_vm_t *vm, unsigned effects)
{
    //  The waiting list holds exactly the VMs waiting for room.
    void *handle = zlistx_find (self->waiting, vm);
    bool waits = vmctl_vm_state (vm) == VMCTL_VM_CAPACITY;
    if (waits && !handle)
        zlistx_add_end (self->waiting, vm);
    else if (!waits && handle)
        zlistx_delete (self->waiting, handle);
    if (effects & VMCTL_VM_ADMIT)
        s_admit (self, vm);
    if (effects & (VMCTL_VM_ROOM | VMCTL_VM_KEPT)) {
        s_eviction_over (self, vm);
        s_admit_waiting (self);
    }
    int64_t received_ms, received_us;
    if ((effects & VMCTL_VM_BOOT_DUE) && vmctl_vm_take_boot (vm, &received_ms, &received_us))
        s_boot_request (self, vm, received_ms, received_us);
}

//  Boot requests ---------------------------------------------------------------------------

//  Whether vm.boot for VM can be acted on now: the service and its domain are known.
static bool
s_can_act (vmctl_fleet_t *self, vmctl_vm_t *vm)
{
    return self->synced && self->ctx.connected && self->ctx.reconciled
           && vmctl_vm_configured (vm) && vmctl_vm_domain (vm)->known;
}

//  vm.boot for VM, received at RECEIVED_MS / RECEIVED_US: acted on, or held.
static void
s_boot_request (vmctl_fleet_t *self, vmctl_vm_t *vm, int64_t received_ms, int64_t received_us)
{
    if (!s_can_act (self, vm)) {
        //  Held, never lost: acted on once known, failed after the ready timeout.
        const char *name = vmctl_vm_name (vm);
        if (!zhashx_lookup (self->held, name)) {
            s_held_t *held = (s_held_t *) zmalloc (sizeof (s_held_t));
            held->received_ms = received_ms;
            held->received_us = received_us;
            zhashx_insert (self->held, name, held);
            self->next_deadline_ms = 0;
        }
        return;
    }
    s_act (self, vm, vmctl_vm_boot (vm, &self->ctx, received_ms, received_us));
}

static void
s_process_held (vmctl_fleet_t *self, vmctl_vm_t *vm)
{
    s_held_t *held = (s_held_t *) zhashx_lookup (self->held, vmctl_vm_name (vm));
    if (held && s_can_act (self, vm)) {
        s_held_t copy = *held;
        zhashx_delete (self->held, vmctl_vm_name (vm));
        s_boot_request (self, vm, copy.received_ms, copy.received_us);
    }
}

//  A held request waited too long: fail it as a boot (configured) or drop it (unknown).
static void
s_held_expired (vmctl_fleet_t *self, vmctl_vm_t *vm)
{
    zhashx_delete (self->held, vmctl_vm_name (vm));
    if (!vmctl_vm_configured (vm)) {
        self->stats.boots_unknown++;
        zsys_warning ("vmctl_fleet: vm.boot for an unknown service dropped service=%s",
                      vmctl_vm_name (vm));
        return;
    }
    vmctl_vm_fail_held (vm, &self->ctx, self->ctx.connected ? "vmctl: libvirt's state not read yet"
                                                             : self->down_reason);
    s_act (self, vm, 0);
}

//  Reconcile -------------------------------------------------------------------------------

//  Read libvirt's view of every VM that nothing is being done to.
static void
s_reconcile_all (vmctl_fleet_t *self)
{
    vmctl_job_t *job = vmctl_job_new (VMCTL_JOB_LIST, NULL, NULL);
    for (vmctl_vm_t *vm = (vmctl_vm_t *) zhashx_first (self->vms); vm;
         vm = (vmctl_vm_t *) zhashx_next (self->vms)) {
        if (!vmctl_vm_target (vm)[0] || vmctl_vm_busy (vm))
            continue;  // a busy VM is checked when its job returns
        vmctl_domain_t *domain =
            vmctl_job_add_domain (job, vmctl_vm_name (vm), vmctl_vm_target (vm));
        proto_copy (domain->wanted_mac, sizeof domain->wanted_mac, vmctl_vm_service (vm)->mac);
        vmctl_vm_save_path (vm, &self->ctx, domain->save_path, sizeof domain->save_path);
        domain->epoch = vmctl_vm_epoch (vm);
    }
    self->listing = true;
    zsys_info ("vmctl_fleet: reconciling domains=%zu", job->domain_count);
    self->io.submit (self->io.arg, job);
}

static void
s_on_list (vmctl_fleet_t *self, vmctl_job_t *job)
{
    bool single = job->key[0] != '\0';
    vmctl_vm_t *owner = single ? s_vm_get (self, job->key, false) : NULL;
    if (owner)
        vmctl_vm_check_done (owner);
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
        vmctl_vm_t *vm = s_vm_get (self, domain->service, false);
        if (!vm || vmctl_vm_busy (vm) || domain->epoch != vmctl_vm_epoch (vm))
            continue;  // something happened since the question: its answer is stale
        s_act (self, vm, vmctl_vm_reconcile (vm, &self->ctx, domain));
    }
    if (!single && !self->ctx.reconciled) {
        self->ctx.reconciled = true;
        self->ctx.startup = false;
        zsys_info ("vmctl_fleet: reconciled services=%zu", zhashx_size (self->vms));
    }
    //  Held boots whose domains are now known go ahead.
    zlistx_t *names = s_names (self);
    for (const char *name = (const char *) zlistx_first (names); name;
         name = (const char *) zlistx_next (names)) {
        vmctl_vm_t *vm = s_vm_get (self, name, false);
        if (vm)
            s_process_held (self, vm);
    }
    zlistx_destroy (&names);
}

//  Public API ------------------------------------------------------------------------------

vmctl_fleet_t *
vmctl_fleet_new (const vmctl_config_t *config, const vmctl_io_t *io)
{
    assert (config && io);
    vmctl_fleet_t *self = (vmctl_fleet_t *) zmalloc (sizeof (vmctl_fleet_t));
    self->config = config;
    self->io = *io;
    self->ctx = (vmctl_vm_ctx_t) {
        .config = config,
        .io = &self->io,
        .stats = &self->stats,
        .next_deadline_ms = &self->next_deadline_ms,
        .startup = true,
    };
    self->vms = zhashx_new ();
    zhashx_set_destructor (self->vms, s_vm_free);
    self->foreign = zhashx_new ();
    self->held = zhashx_new ();
    zhashx_set_destructor (self->held, s_free);
    self->waiting = zlistx_new ();
    self->evicting = zhashx_new ();
    zhashx_set_destructor (self->evicting, s_free);
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
    zhashx_destroy (&self->evicting);
    zlistx_destroy (&self->waiting);
    zhashx_destroy (&self->held);
    zhashx_destroy (&self->foreign);
    zhashx_destroy (&self->vms);
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

//  The service NAME is gone (deleted, or served by another instance).
static void
s_unconfigure (vmctl_fleet_t *self, const char *name)
{
    vmctl_vm_t *vm = s_vm_get (self, name, false);
    if (!vm || !vmctl_vm_configured (vm))
        return;
    zhashx_delete (self->held, name);
    s_act (self, vm, vmctl_vm_unconfigure (vm, &self->ctx));
}

void
vmctl_fleet_on_config (vmctl_fleet_t *self, const char *name, json_t *value)
{
    assert (self && name);
    if (!value) {
        zhashx_delete (self->foreign, name);
        s_unconfigure (self, name);
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
        s_unconfigure (self, name);  // stop managing it if we did
        return;
    }
    zhashx_delete (self->foreign, name);
    vmctl_vm_t *vm = s_vm_get (self, name, true);
    if (!vm) {
        proto_service_reset (&parsed);
        return;
    }
    char target[PROTO_DOMAIN_MAX + 1];
    if (parsed.domain[0])
        strcpy (target, parsed.domain);
    else
        snprintf (target, sizeof target, "%s%s", self->config->domain_prefix, name);
    vmctl_vm_configure (vm, &self->ctx, &parsed, target);
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
    if (!self->ctx.startup || !value || zhashx_lookup (self->foreign, name))
        return;  // after the first reconcile, vmctl's own writes coming back
    vmctl_vm_t *vm = s_vm_get (self, name, true);
    if (!vm)
        return;
    proto_error_t error;
    proto_status_t status;
    if (proto_status_parse (&status, value, &error)) {
        zsys_warning ("vmctl_fleet: stored status ignored service=%s error=%s", name,
                      error.text);
        return;
    }
    vmctl_vm_restore (vm, &status);
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
    vmctl_vm_t *vm = s_vm_get (self, boot->service, false);
    if (!vm || !vmctl_vm_configured (vm)) {
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
vmctl_fleet_on_prepare (vmctl_fleet_t *self, const proto_vm_prepare_t *prepare)
{
    assert (self && prepare);
    if (zhashx_lookup (self->foreign, prepare->service))
        return;  // another vmctl's
    vmctl_vm_t *vm = s_vm_get (self, prepare->service, false);
    if (!vm || !s_can_act (self, vm)) {
        zsys_warning ("vmctl_fleet: vm.prepare for a service not known or not read yet "
                      "service=%s request=%s", prepare->service, prepare->request_id);
        return;
    }
    proto_mode_t mode = prepare->tier == PROTO_TIER_PAUSED ? PROTO_MODE_SUSPEND
                        : prepare->tier == PROTO_TIER_SAVED ? PROTO_MODE_SAVE
                                                            : PROTO_MODE_DESTROY;
    zsys_info ("vmctl_fleet: prepare service=%s tier=%s", prepare->service,
               proto_tier_name (prepare->tier));
    s_act (self, vm, vmctl_vm_prepare (vm, &self->ctx, mode, zclock_mono (), zclock_usecs ()));
}

void
vmctl_fleet_on_hits (vmctl_fleet_t *self, const proto_dns_hits_t *hits)
{
    assert (self && hits);
    vmctl_vm_t *vm = s_vm_get (self, hits->service, false);
    if (!vm)
        return;
    //  The last query's age, on our monotonic clock; a clock ahead of ours counts as now.
    int64_t age = zclock_time () - hits->last_ts;
    vmctl_vm_used (vm, &self->ctx, zclock_mono () - (age > 0 ? age : 0));
    s_act (self, vm, 0);
}

void
vmctl_fleet_on_guest_seen (vmctl_fleet_t *self, const proto_guest_seen_t *seen,
                           int64_t received_us)
{
    assert (self && seen);
    vmctl_vm_t *vm = s_vm_get (self, seen->service, false);
    if (vm)
        vmctl_vm_on_guest_seen (vm, &self->ctx, received_us);
}

void
vmctl_fleet_on_probe (vmctl_fleet_t *self, const char *service, int64_t usecs)
{
    assert (self && service);
    vmctl_vm_t *vm = s_vm_get (self, service, false);
    if (vm)
        vmctl_vm_on_probe (vm, &self->ctx, usecs);
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
    vmctl_vm_t *vm = s_vm_get (self, job->key, false);
    if (vm)
        s_act (self, vm, vmctl_vm_on_job (vm, &self->ctx, job, s_is_evicting (self, vm)));
}

//  The libvirt connection came UP or went down (MESSAGE says why).
static void
s_on_connection (vmctl_fleet_t *self, bool up, const char *message)
{
    if (up) {
        if (self->ever_connected)
            self->stats.libvirt_reconnects++;
        self->ever_connected = true;
    }
    else
        proto_copy (self->down_reason, sizeof self->down_reason, message);
    self->ctx.connected = up;
    //  Either way libvirt's view must be read again (libvirtd may have restarted).
    self->ctx.reconciled = false;
    for (vmctl_vm_t *vm = (vmctl_vm_t *) zhashx_first (self->vms); vm;
         vm = (vmctl_vm_t *) zhashx_next (self->vms))
        vmctl_vm_forget_domain (vm);
    self->next_deadline_ms = 0;
}

void
vmctl_fleet_on_note (vmctl_fleet_t *self, vmctl_note_t *note)
{
    assert (self && note);
    vmctl_vm_t *vm;
    switch (note->kind) {
    case VMCTL_NOTE_DONE:
        s_on_job (self, note->job);
        vmctl_job_destroy (&note->job);
        break;
    case VMCTL_NOTE_EVENT:
        vm = s_vm_by_domain (self, note->domain, note->uuid);
        if (vm) {
            vmctl_vm_on_event (vm, &self->ctx, note->event, note->usecs);
            s_act (self, vm, 0);
        }
        break;
    case VMCTL_NOTE_CONNECTION:
        s_on_connection (self, note->up, note->message);
        break;
    }
}

//  A held request's deadline at NOW: expire it, or note when it is due.
static void
s_tick_held (vmctl_fleet_t *self, vmctl_vm_t *vm, int64_t now)
{
    s_held_t *held = (s_held_t *) zhashx_lookup (self->held, vmctl_vm_name (vm));
    if (!held)
        return;
    bool configured = vmctl_vm_configured (vm);
    int64_t limit = configured ? vmctl_vm_service (vm)->ready_timeout_ms : S_HELD_UNKNOWN_MS;
    if (self->synced && !configured)
        limit = 0;  // the replica is complete: this service does not exist
    if (now - held->received_ms >= limit)
        s_held_expired (self, vm);
    else if (held->received_ms + limit < self->next_deadline_ms)
        self->next_deadline_ms = held->received_ms + limit;
}

void
vmctl_fleet_tick (vmctl_fleet_t *self)
{
    assert (self);
    int64_t now = zclock_mono ();
    if (self->ctx.connected && self->synced && !self->ctx.reconciled && !self->listing
        && now >= self->list_after_ms)
        s_reconcile_all (self);
    if (now < self->next_deadline_ms)
        return;
    self->next_deadline_ms = INT64_MAX;
    zlistx_t *names = s_names (self);
    for (const char *name = (const char *) zlistx_first (names); name;
         name = (const char *) zlistx_next (names)) {
        vmctl_vm_t *vm = s_vm_get (self, name, false);
        if (!vm)
            continue;
        s_tick_held (self, vm, now);
        int64_t deadline = vmctl_vm_deadline (vm);
        if (deadline && now < deadline && deadline < self->next_deadline_ms)
            self->next_deadline_ms = deadline;
        else if (deadline && now >= deadline)
            s_act (self, vm, vmctl_vm_tick (vm, &self->ctx, now));
    }
    zlistx_destroy (&names);
}

//  Paused VMs hold memory: over paused_memory_mib_max, the one idle longest is saved.
static void
s_demote (vmctl_fleet_t *self)
{
    int64_t budget_kib = (int64_t) self->config->limits.paused_memory_mib_max * 1024;
    if (!budget_kib)
        return;
    int64_t paused_kib = 0;
    vmctl_vm_t *oldest = NULL;
    for (vmctl_vm_t *vm = (vmctl_vm_t *) zhashx_first (self->vms); vm;
         vm = (vmctl_vm_t *) zhashx_next (self->vms)) {
        if (vmctl_vm_state (vm) != VMCTL_VM_PAUSED)
            continue;
        paused_kib += vmctl_vm_domain (vm)->memory_kib;
        if (!oldest || vmctl_vm_last_used (vm) < vmctl_vm_last_used (oldest))
            oldest = vm;
    }
    if (oldest && paused_kib > budget_kib) {
        vmctl_vm_demote (oldest, &self->ctx);
        s_act (self, oldest, 0);
    }
}

void
vmctl_fleet_idle_check (vmctl_fleet_t *self)
{
    assert (self);
    if (!self->ctx.reconciled)
        return;
    s_demote (self);
    int64_t now = zclock_mono ();
    zlistx_t *names = s_names (self);
    for (const char *name = (const char *) zlistx_first (names); name;
         name = (const char *) zlistx_next (names)) {
        vmctl_vm_t *vm = s_vm_get (self, name, false);
        if (vm && !vmctl_vm_busy (vm) && !s_is_evicting (self, vm)) {
            vmctl_vm_idle_check (vm, &self->ctx, now);
            s_act (self, vm, 0);
        }
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
    for (vmctl_vm_t *vm = (vmctl_vm_t *) zhashx_first (self->vms); vm;
         vm = (vmctl_vm_t *) zhashx_next (self->vms)) {
        proto_state_t state = vmctl_vm_status (vm)->state;
        const vmctl_vm_domain_t *domain = vmctl_vm_domain (vm);
        gauges->services += vmctl_vm_configured (vm);
        gauges->booting += state == PROTO_STATE_BOOTING;
        gauges->ready += state == PROTO_STATE_READY;
        gauges->stopping += state == PROTO_STATE_STOPPING;
        gauges->failed += state == PROTO_STATE_FAILED;
        gauges->active += domain->active;
        gauges->paused += domain->paused;
        memory_kib += domain->active ? domain->memory_kib : 0;
    }
    gauges->held = (int64_t) zhashx_size (self->held);
    gauges->memory_mib = memory_kib / 1024;
    gauges->connected = self->ctx.connected;
    gauges->reconciled = self->ctx.reconciled;
}
