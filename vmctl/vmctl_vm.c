/*  vmctl_vm: one VM's life, and its boots. See vmctl_vm.h and the state table in
    vmctl/README.md; the stops are in vmctl_vm_stop.c, the reconcile in vmctl_vm_reconcile.c,
    what they share in vmctl_vm_internal.h.  */

#include "vmctl_vm_internal.h"
#include "vmctl_xml.h"

static const char *const s_state_names[VMCTL_VM_STATES] = {
    [VMCTL_VM_OFF] = "off",
    [VMCTL_VM_FAILED] = "failed",
    [VMCTL_VM_CAPACITY] = "capacity",
    [VMCTL_VM_CREATING] = "creating",
    [VMCTL_VM_READYING] = "readying",
    [VMCTL_VM_DELAYING] = "delaying",
    [VMCTL_VM_READY] = "ready",
    [VMCTL_VM_STOP_CALL] = "stop_call",
    [VMCTL_VM_STOP_GRACE] = "stop_grace",
    [VMCTL_VM_BOOT_INTERRUPTED] = "boot_interrupted",
    [VMCTL_VM_STOP_INTERRUPTED] = "stop_interrupted",
    [VMCTL_VM_PAUSED] = "paused",
    [VMCTL_VM_SAVED] = "saved",
    [VMCTL_VM_DRAINING] = "draining",
};

//  The status a state is written as.
proto_state_t
vmctl_vm_status_of (vmctl_vm_state_t state)
{
    switch (state) {
    case VMCTL_VM_OFF:
        return PROTO_STATE_OFF;
    case VMCTL_VM_FAILED:
        return PROTO_STATE_FAILED;
    case VMCTL_VM_READY:
        return PROTO_STATE_READY;
    case VMCTL_VM_PAUSED:
        return PROTO_STATE_PAUSED;
    case VMCTL_VM_SAVED:
        return PROTO_STATE_SAVED;
    case VMCTL_VM_DRAINING:
        return PROTO_STATE_DRAINING;
    case VMCTL_VM_STOP_CALL:
    case VMCTL_VM_STOP_GRACE:
    case VMCTL_VM_STOP_INTERRUPTED:
        return PROTO_STATE_STOPPING;
    default:
        return PROTO_STATE_BOOTING;
    }
}

bool
vmctl_vm_is_booting (const vmctl_vm_t *self)
{
    return vmctl_vm_status_of (self->state) == PROTO_STATE_BOOTING;
}

bool
vmctl_vm_is_stopping (const vmctl_vm_t *self)
{
    return vmctl_vm_status_of (self->state) == PROTO_STATE_STOPPING;
}

//  Lifecycle and accessors ----------------------------------------------------------------

vmctl_vm_t *
vmctl_vm_new (const char *name)
{
    assert (name);
    vmctl_vm_t *self = (vmctl_vm_t *) zmalloc (sizeof (vmctl_vm_t));
    if (proto_copy (self->name, sizeof self->name, name)) {
        free (self);
        return NULL;
    }
    proto_service_init (&self->service);
    self->last_used_ms = zclock_mono ();
    return self;
}

void
vmctl_vm_destroy (vmctl_vm_t **self_p)
{
    assert (self_p);
    vmctl_vm_t *self = *self_p;
    if (!self)
        return;
    proto_service_reset (&self->service);
    free (self);
    *self_p = NULL;
}

const char *vmctl_vm_name (const vmctl_vm_t *self) { return self->name; }
vmctl_vm_state_t vmctl_vm_state (const vmctl_vm_t *self) { return self->state; }
vmctl_vm_pending_t vmctl_vm_pending (const vmctl_vm_t *self) { return self->pending; }
const proto_status_t *vmctl_vm_status (const vmctl_vm_t *self) { return &self->status; }
const proto_service_t *vmctl_vm_service (const vmctl_vm_t *self) { return &self->service; }
bool vmctl_vm_configured (const vmctl_vm_t *self) { return self->configured; }
const vmctl_vm_domain_t *vmctl_vm_domain (const vmctl_vm_t *self) { return &self->domain; }
const char *vmctl_vm_target (const vmctl_vm_t *self) { return self->target; }
int64_t vmctl_vm_epoch (const vmctl_vm_t *self) { return self->epoch; }
int64_t vmctl_vm_last_used (const vmctl_vm_t *self) { return self->last_used_ms; }
int64_t vmctl_vm_deadline (const vmctl_vm_t *self) { return self->deadline_ms; }

bool
vmctl_vm_busy (const vmctl_vm_t *self)
{
    return self->state == VMCTL_VM_CREATING || self->state == VMCTL_VM_STOP_CALL;
}

bool
vmctl_vm_owns_domain (const vmctl_vm_t *self, const char *name, const char *uuid)
{
    return (self->domain.name[0] && streq (self->domain.name, name))
           || streq (self->target, name)
           || (uuid[0]
               && (streq (self->domain.uuid, uuid) || strcasecmp (self->target, uuid) == 0));
}

const char *
vmctl_vm_state_name (vmctl_vm_state_t state)
{
    return state < VMCTL_VM_STATES ? s_state_names[state] : "?";
}

//  Messages --------------------------------------------------------------------------------

static void
s_publish_booting (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_BOOTING);
    proto_vm_booting_t *body = &msg.vm_booting;
    proto_copy (body->service, sizeof body->service, self->name);
    proto_copy (body->boot_id, sizeof body->boot_id, self->status.boot_id);
    proto_copy (body->domain, sizeof body->domain,
                self->domain.name[0] ? self->domain.name : self->target);
    proto_copy (body->uuid, sizeof body->uuid, self->domain.uuid);
    proto_copy (body->ip, sizeof body->ip, self->service.ip);
    proto_copy (body->mac, sizeof body->mac,
                self->domain.mac[0] ? self->domain.mac : self->service.mac);
    proto_copy (body->iface, sizeof body->iface, self->domain.iface);
    body->mask = self->configured ? (proto_booting_mask_t) (self->service.mask + 1)
                                  : PROTO_BOOTING_MASK_UNSET;
    ctx->io->publish (ctx->io->arg, &msg);
}

int
vmctl_vm_rank (proto_mode_t mode)
{
    return mode == PROTO_MODE_SUSPEND ? 1 : mode == PROTO_MODE_SAVE ? 2 : 3;
}

void
vmctl_vm_save_path (const vmctl_vm_t *self, const vmctl_vm_ctx_t *ctx, char *path,
                    size_t path_size)
{
    assert (self && ctx && path);
    char *xml = self->service.template ? vmctl_xml_domain (&self->service, self->target,
                                                           ctx->config->domain_type)
                                       : NULL;
    char what[PROTO_DOMAIN_MAX + 16];
    snprintf (what, sizeof what, "domain:%s", self->target);
    if (vmctl_save_path (ctx->config->save_dir, self->name, xml ? xml : what, path, path_size))
        path[0] = '\0';
    free (xml);
}

void
vmctl_vm_publish_ready (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_via_t via, int64_t boot_ms,
                        proto_tier_t from)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_READY);
    proto_copy (msg.vm_ready.service, sizeof msg.vm_ready.service, self->name);
    proto_copy (msg.vm_ready.boot_id, sizeof msg.vm_ready.boot_id, self->status.boot_id);
    proto_copy (msg.vm_ready.ip, sizeof msg.vm_ready.ip, self->service.ip);
    msg.vm_ready.via = via;
    msg.vm_ready.boot_ms = boot_ms > 0 ? boot_ms : 0;
    msg.vm_ready.from = from;
    ctx->io->publish (ctx->io->arg, &msg);
}

void
vmctl_vm_publish_stop (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_msg_type_t type,
                proto_reason_t reason, proto_mode_t mode)
{
    proto_msg_t msg;
    proto_msg_init (&msg, type);
    proto_copy (msg.vm_stop.service, sizeof msg.vm_stop.service, self->name);
    msg.vm_stop.reason = reason;
    msg.vm_stop.mode = mode;
    proto_copy (msg.vm_stop.boot_id, sizeof msg.vm_stop.boot_id, self->status.boot_id);
    ctx->io->publish (ctx->io->arg, &msg);
}

static void
s_publish_failed (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const char *error)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_FAILED);
    proto_copy (msg.vm_failed.service, sizeof msg.vm_failed.service, self->name);
    proto_copy (msg.vm_failed.boot_id, sizeof msg.vm_failed.boot_id, self->status.boot_id);
    proto_copy (msg.vm_failed.error, sizeof msg.vm_failed.error, error);
    ctx->io->publish (ctx->io->arg, &msg);
}

//  State, status, deadlines ----------------------------------------------------------------

//  Look up TARGET from now on; what was known about the old one is forgotten.
static void
s_set_target (vmctl_vm_t *self, const char *target)
{
    proto_copy (self->target, sizeof self->target, target);
    self->next_target[0] = '\0';
    self->domain.name[0] = self->domain.uuid[0] = self->domain.mac[0] = '\0';
    self->domain.iface[0] = '\0';
    self->domain.known = false;
}

//  Write the status as STATE, even when it is the same (a boot that failed at once leaves
//  failed for failed, with a new boot_id). A changed target applies once the VM is off.
void
vmctl_vm_write_status (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_state_t state)
{
    self->status.state = state;
    self->status.since = zclock_time ();
    bool off = state == PROTO_STATE_OFF || state == PROTO_STATE_FAILED;
    if (off && !vmctl_vm_busy (self) && self->next_target[0] && !self->domain.active)
        s_set_target (self, self->next_target);
    ctx->io->status (ctx->io->arg, self->name, &self->status);
}

//  Enter STATE; a change of status is one write.
void
vmctl_vm_enter (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, vmctl_vm_state_t state)
{
    self->state = state;
    if (self->status.state != vmctl_vm_status_of (state))
        vmctl_vm_write_status (self, ctx, vmctl_vm_status_of (state));
}

void
vmctl_vm_set_deadline (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t deadline_ms)
{
    self->deadline_ms = deadline_ms;
    if (deadline_ms && deadline_ms < *ctx->next_deadline_ms)
        *ctx->next_deadline_ms = deadline_ms;
}

void
vmctl_vm_unprobe (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx)
{
    if (self->probing) {
        ctx->io->unprobe (ctx->io->arg, self->name);
        self->probing = false;
    }
}

//  The boot id of boot number BOOTS: "NAME-BOOTS", the name cut to fit.
void
vmctl_vm_boot_id (vmctl_vm_t *self)
{
    char number[24];
    snprintf (number, sizeof number, "-%lld", (long long) self->status.boots);
    int room = PROTO_ID_MAX - (int) strlen (number);
    snprintf (self->status.boot_id, sizeof self->status.boot_id, "%.*s%s", room, self->name,
              number);
}

//  What libvirt said about the domain; its interface only counts while it RUNS.
void
vmctl_vm_learn (vmctl_vm_t *self, const vmctl_domain_t *domain, bool runs)
{
    proto_copy (self->domain.name, sizeof self->domain.name, domain->name);
    proto_copy (self->domain.uuid, sizeof self->domain.uuid, domain->uuid);
    if (domain->memory_kib)
        self->domain.memory_kib = (int64_t) domain->memory_kib;
    if (runs) {
        proto_copy (self->domain.mac, sizeof self->domain.mac, domain->mac);
        proto_copy (self->domain.iface, sizeof self->domain.iface, domain->iface);
    }
}

//  Jobs ------------------------------------------------------------------------------------

//  A job for the domain. Boots look up the target; what acts on a VM that is up looks up its
//  UUID, which stays right when the service's target changed meanwhile.
vmctl_job_t *
vmctl_vm_job (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, vmctl_job_kind_t kind)
{
    bool by_uuid = kind != VMCTL_JOB_BOOT && self->domain.active && self->domain.uuid[0];
    vmctl_job_t *job = vmctl_job_new (kind, self->name, by_uuid ? self->domain.uuid : self->target);
    proto_copy (job->domain.wanted_mac, sizeof job->domain.wanted_mac, self->service.mac);
    job->domain.epoch = self->epoch;
    //  What may touch its save file: a boot restores it, a save writes it, a destroy removes it.
    if (kind == VMCTL_JOB_BOOT || kind == VMCTL_JOB_SAVE || kind == VMCTL_JOB_DESTROY)
        vmctl_vm_save_path (self, ctx, job->domain.save_path, sizeof job->domain.save_path);
    return job;
}

//  Submit a job that changes the domain (the state says one runs).
void
vmctl_vm_submit_change (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, vmctl_job_t *job)
{
    self->epoch++;
    job->domain.epoch = self->epoch;
    ctx->io->submit (ctx->io->arg, job);
}

void
vmctl_vm_traffic (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, vmctl_vm_purpose_t purpose)
{
    const char *device = self->domain.iface[0] ? self->domain.iface : self->domain.mac;
    if (self->traffic_pending || !device[0])
        return;
    vmctl_job_t *job = vmctl_vm_job (self, ctx, VMCTL_JOB_STATS);
    proto_copy (job->device, sizeof job->device, device);
    job->purpose = (int) purpose;
    self->traffic_pending = true;
    self->traffic_read_ms = zclock_mono ();
    ctx->io->submit (ctx->io->arg, job);
}

void
vmctl_vm_check (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx)
{
    assert (self && ctx);
    if (!ctx->connected || !self->target[0])
        return;
    if (vmctl_vm_busy (self)) {
        if (self->pending == VMCTL_VM_PENDING_NONE)
            self->pending = VMCTL_VM_PENDING_CHECK;
        return;
    }
    if (self->checking)
        return;
    vmctl_job_t *job = vmctl_job_new (VMCTL_JOB_LIST, self->name, NULL);
    vmctl_domain_t *domain = vmctl_job_add_domain (job, self->name, self->target);
    proto_copy (domain->wanted_mac, sizeof domain->wanted_mac, self->service.mac);
    vmctl_vm_save_path (self, ctx, domain->save_path, sizeof domain->save_path);
    domain->epoch = self->epoch;
    self->checking = true;
    ctx->io->submit (ctx->io->arg, job);
}

void
vmctl_vm_check_done (vmctl_vm_t *self)
{
    assert (self);
    self->checking = false;
}


//  Booting ---------------------------------------------------------------------------------

//  The boot ends without anything running: vm.failed, state failed.
void
vmctl_vm_boot_failed (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const char *error)
{
    vmctl_vm_unprobe (self, ctx);
    zsys_warning ("vmctl_vm: boot failed service=%s boot_id=%s error=%s", self->name,
                  self->status.boot_id, error);
    self->state = VMCTL_VM_FAILED;
    vmctl_vm_set_deadline (self, ctx, 0);
    ctx->stats->boot_failures++;
    if (streq (error, "capacity"))
        ctx->stats->capacity_refusals++;
    s_publish_failed (self, ctx, error);
    proto_copy (self->status.last_error, sizeof self->status.last_error, error);
    vmctl_vm_write_status (self, ctx, PROTO_STATE_FAILED);
}

//  Boot number boots+1 begins, asked for at BOOT_MS / BOOT_US.
static void
s_boot_begin (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t boot_ms, int64_t boot_us)
{
    self->status.boots++;
    vmctl_vm_boot_id (self);
    self->boot_ms = boot_ms;
    self->boot_us = boot_us;
    self->event_us = 0;
    self->pending = VMCTL_VM_PENDING_NONE;
    self->fail_error[0] = '\0';
    ctx->stats->boots++;
    vmctl_vm_set_deadline (self, ctx, boot_ms + self->service.ready_timeout_ms);
    zsys_info ("vmctl_vm: boot service=%s boot_id=%s target=%s", self->name,
               self->status.boot_id, self->target);
}

static void
s_create (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx)
{
    self->state = VMCTL_VM_CREATING;
    vmctl_job_t *job = vmctl_vm_job (self, ctx, VMCTL_JOB_BOOT);
    if (self->service.template)
        job->xml = vmctl_xml_domain (&self->service, self->target, ctx->config->domain_type);
    //  The call first: the status write need not delay it.
    vmctl_vm_submit_change (self, ctx, job);
    vmctl_vm_enter (self, ctx, VMCTL_VM_CREATING);
}

static void
s_announce (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx)
{
    int64_t now = zclock_mono ();
    int64_t boot_ms = now - self->boot_ms;
    vmctl_vm_publish_ready (self, ctx, self->via, boot_ms, self->woke_from);
    //  The benchmark's second latency: from the moment vmctl could say ready (readiness seen,
    //  and the boot call returned: vm.booting must come first) to vm.ready published. A
    //  response delay is deliberate, so those boots are not sampled.
    int64_t could_us = self->ready_us > self->created_us ? self->ready_us : self->created_us;
    if (self->service.response_delay_ms == 0 && self->via != PROTO_VIA_RUNNING)
        vmctl_samples_add (&ctx->stats->announce_us, zclock_usecs () - could_us);
    self->state = VMCTL_VM_READY;
    vmctl_vm_set_deadline (self, ctx, 0);
    self->last_used_ms = now;
    self->traffic_known = false;
    ctx->stats->boots_ready++;
    vmctl_stats_boot_ms (ctx->stats, boot_ms);
    vmctl_stats_boot_tier (ctx->stats, self->woke_from, boot_ms);
    self->status.last_boot_ms = boot_ms;
    self->status.last_error[0] = '\0';
    if (self->woke_from != PROTO_TIER_UNSET)
        self->status.from = self->woke_from;
    zsys_info ("vmctl_vm: ready service=%s boot_id=%s via=%s from=%s boot_ms=%lld", self->name,
               self->status.boot_id, proto_via_name (self->via),
               proto_tier_name (self->woke_from), (long long) boot_ms);
    vmctl_vm_enter (self, ctx, VMCTL_VM_READY);
    if (self->pending == VMCTL_VM_PENDING_PARK) {
        //  Prepared: ready once, now down to its tier (no drain: nobody was answered).
        self->pending = VMCTL_VM_PENDING_NONE;
        vmctl_vm_stop_now (self, ctx, PROTO_REASON_ADMIN, self->pending_mode);
        return;
    }
    if (self->service.idle_on == PROTO_IDLE_ON_DNS_TRAFFIC)
        vmctl_vm_traffic (self, ctx, VMCTL_VM_TRAFFIC_BASELINE);
}

//  The drain is over because the VM is in use again: ready, full TTL, announced again.
static void
s_undrain (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx)
{
    ctx->stats->drains_cancelled++;
    zsys_info ("vmctl_vm: drain cancelled by a query service=%s", self->name);
    self->state = VMCTL_VM_READY;
    vmctl_vm_set_deadline (self, ctx, 0);
    s_publish_booting (self, ctx);
    vmctl_vm_publish_ready (self, ctx, PROTO_VIA_RUNNING, 0, PROTO_TIER_UNSET);
    vmctl_vm_enter (self, ctx, VMCTL_VM_READY);
}

//  Readiness was seen at READY_US: announce now, or after response_delay_ms.
static void
s_ready (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_via_t via, int64_t ready_us)
{
    vmctl_vm_unprobe (self, ctx);
    self->via = via;
    self->ready_us = ready_us;
    if (self->service.response_delay_ms > 0) {
        self->state = VMCTL_VM_DELAYING;
        vmctl_vm_set_deadline (self, ctx, zclock_mono () + self->service.response_delay_ms);
        return;
    }
    s_announce (self, ctx);
}

//  The domain runs (created, or found running): wait for the readiness the service asks for.
//  RUNNING_BEFORE: it was up before this boot, so libvirt will not say "started" again.
void
vmctl_vm_await_ready (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, bool running_before)
{
    self->state = VMCTL_VM_READYING;
    s_publish_booting (self, ctx);
    if (self->service.ready == PROTO_READY_PROBE) {
        self->probing = true;
        ctx->io->probe (ctx->io->arg, self->name, self->service.ip, self->service.ready_port);
    }
    else if (running_before)
        s_ready (self, ctx, PROTO_VIA_RUNNING, zclock_usecs ());
    else if (self->service.ready == PROTO_READY_EVENT && self->event_us)
        s_ready (self, ctx, PROTO_VIA_EVENT, self->event_us);
}

unsigned
vmctl_vm_boot (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t received_ms, int64_t received_us)
{
    assert (self && ctx);
    switch (self->state) {
    case VMCTL_VM_DRAINING:
        self->last_used_ms = zclock_mono ();
        s_undrain (self, ctx);
        return 0;
    case VMCTL_VM_READY:
        //  Idempotent: announce again what is true, for a requester that missed it.
        ctx->stats->reannounces++;
        self->last_used_ms = zclock_mono ();
        s_publish_booting (self, ctx);
        vmctl_vm_publish_ready (self, ctx, PROTO_VIA_RUNNING, 0, PROTO_TIER_UNSET);
        return 0;
    case VMCTL_VM_CAPACITY:
    case VMCTL_VM_CREATING:
    case VMCTL_VM_READYING:
    case VMCTL_VM_DELAYING:
    case VMCTL_VM_BOOT_INTERRUPTED:
        ctx->stats->boots_joined++;
        if (self->state == VMCTL_VM_READYING || self->state == VMCTL_VM_DELAYING)
            s_publish_booting (self, ctx);
        return 0;
    case VMCTL_VM_STOP_CALL:
    case VMCTL_VM_STOP_GRACE:
    case VMCTL_VM_STOP_INTERRUPTED:
        if (self->pending < VMCTL_VM_PENDING_BOOT) {
            self->pending = VMCTL_VM_PENDING_BOOT;
            self->pending_ms = received_ms;
            self->pending_us = received_us;
        }
        return 0;
    default:
        s_boot_begin (self, ctx, received_ms, received_us);
        return VMCTL_VM_ADMIT;
    }
}

unsigned
vmctl_vm_admit (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, vmctl_admit_verdict_t verdict)
{
    assert (self && ctx);
    if (verdict == VMCTL_ADMIT_YES)
        s_create (self, ctx);
    else if (verdict == VMCTL_ADMIT_NO)
        vmctl_vm_boot_failed (self, ctx, "capacity");
    else
        vmctl_vm_enter (self, ctx, VMCTL_VM_CAPACITY);
    return 0;
}

void
vmctl_vm_fail_held (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const char *error)
{
    assert (self && ctx && error);
    self->status.boots++;
    vmctl_vm_boot_id (self);
    ctx->stats->boots++;
    vmctl_vm_boot_failed (self, ctx, error);
}

bool
vmctl_vm_take_boot (vmctl_vm_t *self, int64_t *received_ms, int64_t *received_us)
{
    assert (self && received_ms && received_us);
    if (self->pending != VMCTL_VM_PENDING_BOOT || vmctl_vm_busy (self)
        || vmctl_vm_is_stopping (self))
        return false;
    self->pending = VMCTL_VM_PENDING_NONE;
    *received_ms = self->pending_ms;
    *received_us = self->pending_us;
    return true;
}

void
vmctl_vm_on_probe (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t usecs)
{
    assert (self && ctx);
    self->probing = false;  // a probe that called back has ended
    if (self->state == VMCTL_VM_READYING)
        s_ready (self, ctx, PROTO_VIA_PROBE, usecs);
}

void
vmctl_vm_on_guest_seen (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t usecs)
{
    assert (self && ctx);
    if (self->state == VMCTL_VM_READYING && self->service.ready == PROTO_READY_GARP)
        s_ready (self, ctx, PROTO_VIA_GARP, usecs);
}

void
vmctl_vm_used (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t used_ms)
{
    assert (self && ctx);
    if (used_ms > self->last_used_ms)
        self->last_used_ms = used_ms;
    if (self->state == VMCTL_VM_DRAINING && used_ms >= self->drain_since_ms)
        s_undrain (self, ctx);
}

unsigned
vmctl_vm_prepare (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_mode_t mode, int64_t now_ms,
                  int64_t now_us)
{
    assert (self && ctx);
    if (self->state == VMCTL_VM_READY || self->state == VMCTL_VM_DRAINING) {
        vmctl_vm_stop_now (self, ctx, PROTO_REASON_ADMIN, mode);
        return 0;
    }
    if (vmctl_vm_is_stopping (self) || self->pending > VMCTL_VM_PENDING_PARK) {
        zsys_warning ("vmctl_vm: not prepared: it is stopping service=%s", self->name);
        return 0;
    }
    unsigned effects = vmctl_vm_is_booting (self) ? 0 : vmctl_vm_boot (self, ctx, now_ms, now_us);
    self->pending = VMCTL_VM_PENDING_PARK;
    self->pending_mode = mode;
    return effects;
}

//  Config --------------------------------------------------------------------

void
vmctl_vm_configure (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_service_t *service,
                    const char *target)
{
    assert (self && ctx && service && target);
    proto_service_reset (&self->service);
    self->service = *service;
    proto_service_init (service);  // its parts are ours now
    self->configured = true;
    if (self->service.template && !(self->domain.known && self->domain.memory_kib))
        self->domain.memory_kib = (int64_t) self->service.template->memory_mib * 1024;
    if (!streq (target, self->target)) {
        if (self->target[0] && (self->domain.active || vmctl_vm_busy (self))) {
            zsys_warning ("vmctl_vm: domain changed while the VM is up; it applies once it "
                          "is off service=%s domain=%s", self->name, target);
            proto_copy (self->next_target, sizeof self->next_target, target);
        }
        else
            s_set_target (self, target);
    }
    if (ctx->reconciled && !self->domain.known)
        vmctl_vm_check (self, ctx);
}

unsigned
vmctl_vm_unconfigure (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx)
{
    assert (self && ctx);
    if (!self->configured)
        return 0;
    self->configured = false;
    zsys_info ("vmctl_vm: service removed service=%s", self->name);
    if (self->state == VMCTL_VM_CAPACITY)
        vmctl_vm_boot_failed (self, ctx, "service removed");
    else if (vmctl_vm_busy (self) || vmctl_vm_is_booting (self) || self->state == VMCTL_VM_READY
             || self->state == VMCTL_VM_DRAINING || self->state == VMCTL_VM_SAVED
             || self->domain.active)
        vmctl_vm_stop (self, ctx, PROTO_REASON_ADMIN, PROTO_MODE_DESTROY);  // a save file too
    return 0;
}

void
vmctl_vm_on_event (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, vmctl_event_t event, int64_t usecs)
{
    assert (self && ctx);
    switch (event) {
    case VMCTL_EVENT_STARTED:
        if (self->state == VMCTL_VM_CREATING || self->state == VMCTL_VM_READYING) {
            self->event_us = usecs;
            if (self->state == VMCTL_VM_READYING && self->service.ready == PROTO_READY_EVENT)
                s_ready (self, ctx, PROTO_VIA_EVENT, usecs);
        }
        else if (self->state == VMCTL_VM_OFF || self->state == VMCTL_VM_FAILED
                 || self->state == VMCTL_VM_PAUSED || self->state == VMCTL_VM_SAVED)
            vmctl_vm_check (self, ctx);  // started by someone else: adopted once confirmed
        break;
    case VMCTL_EVENT_STOPPED:
    case VMCTL_EVENT_CRASHED:
        self->hint_crash = event == VMCTL_EVENT_CRASHED;
        if (self->state == VMCTL_VM_STOP_GRACE)
            //  The destroy finds it off: the mode was shutdown.
            vmctl_vm_stop_step (self, ctx, PROTO_MODE_DESTROY, VMCTL_VM_PURPOSE_NONE);
        else if (self->state == VMCTL_VM_STOP_CALL && self->step_mode == PROTO_MODE_SHUTDOWN)
            self->off_seen = true;  // before the shutdown call's own answer
        else if (!vmctl_vm_is_stopping (self))
            vmctl_vm_check (self, ctx);
        break;
    default:
        break;
    }
}

//  The ready timeout passed.
static void
s_boot_timeout (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx)
{
    if (self->state == VMCTL_VM_CAPACITY) {
        vmctl_vm_boot_failed (self, ctx, "capacity");
        return;
    }
    if (self->state == VMCTL_VM_CREATING) {
        if (self->pending != VMCTL_VM_PENDING_STOP)
            self->pending = VMCTL_VM_PENDING_ABANDON;  // acted on when the boot job returns
        return;
    }
    const char *ready = self->service.ready == PROTO_READY_PROBE  ? "probe"
                        : self->service.ready == PROTO_READY_GARP ? "garp"
                                                                  : "event";
    snprintf (self->fail_error, sizeof self->fail_error,
              "ready_timeout: not ready after %d ms (ready=%s)", self->service.ready_timeout_ms,
              ready);
    vmctl_vm_unprobe (self, ctx);
    vmctl_vm_stop (self, ctx, PROTO_REASON_FAILED, PROTO_MODE_DESTROY);
}

unsigned
vmctl_vm_tick (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t now_ms)
{
    assert (self && ctx);
    if (!self->deadline_ms || now_ms < self->deadline_ms)
        return 0;
    vmctl_vm_set_deadline (self, ctx, 0);
    if (self->state == VMCTL_VM_DELAYING)
        s_announce (self, ctx);
    else if (self->state == VMCTL_VM_DRAINING)
        vmctl_vm_stop_now (self, ctx, PROTO_REASON_IDLE, self->drain_mode);  // nobody came
    else if (vmctl_vm_is_booting (self))
        s_boot_timeout (self, ctx);
    else if (self->state == VMCTL_VM_STOP_GRACE) {
        zsys_warning ("vmctl_vm: still up after the shutdown grace, destroying service=%s",
                      self->name);
        vmctl_vm_stop_step (self, ctx, PROTO_MODE_DESTROY, VMCTL_VM_DESTROY_AFTER_GRACE);
    }
    return 0;
}

