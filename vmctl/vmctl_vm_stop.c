/*  vmctl_vm: one VM's stops (the ladder, its fallbacks, vanished domains), what comes back
    from libvirt's jobs, and the idle judgement.  */

#include "vmctl_vm_internal.h"

static const proto_idle_step_t *s_next_step (const vmctl_vm_t *self);
static void s_take_step (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const proto_idle_step_t *step);

//  Stopping --------------------------------------------------------------------------------

static void
s_count_stop (vmctl_vm_ctx_t *ctx, proto_reason_t reason)
{
    uint64_t *counters[] = {
        [PROTO_REASON_IDLE] = &ctx->stats->stops_idle,
        [PROTO_REASON_ADMIN] = &ctx->stats->stops_admin,
        [PROTO_REASON_CRASH] = &ctx->stats->stops_crash,
        [PROTO_REASON_EXTERNAL] = &ctx->stats->stops_external,
        [PROTO_REASON_FAILED] = &ctx->stats->stops_failed,
    };
    if ((size_t) reason < sizeof counters / sizeof counters[0])
        (*counters[reason])++;
}

//  One rung of the ladder: the job for MODE.
void
vmctl_vm_stop_step (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_mode_t mode,
                    vmctl_vm_purpose_t purpose)
{
    vmctl_job_kind_t kind = mode == PROTO_MODE_SHUTDOWN ? VMCTL_JOB_SHUTDOWN
                            : mode == PROTO_MODE_SUSPEND ? VMCTL_JOB_SUSPEND
                            : mode == PROTO_MODE_SAVE    ? VMCTL_JOB_SAVE
                                                         : VMCTL_JOB_DESTROY;
    self->state = VMCTL_VM_STOP_CALL;
    self->step_mode = mode;
    vmctl_vm_set_deadline (self, ctx, 0);
    vmctl_job_t *job = vmctl_vm_job (self, ctx, kind);
    job->purpose = (int) purpose;
    vmctl_vm_submit_change (self, ctx, job);
}

//  Stop now (no job runs) for REASON by MODE; the ladder falls back to destroy.
void
vmctl_vm_stop_now (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_reason_t reason, proto_mode_t mode)
{
    if (mode == PROTO_MODE_NONE)
        mode = PROTO_MODE_DESTROY;
    //  A paused guest cannot power itself off, and a saved one has no domain: its file goes.
    if ((self->state == VMCTL_VM_PAUSED && mode == PROTO_MODE_SHUTDOWN)
        || self->state == VMCTL_VM_SAVED)
        mode = PROTO_MODE_DESTROY;
    if (self->pending == VMCTL_VM_PENDING_STOP)
        self->pending = VMCTL_VM_PENDING_NONE;
    vmctl_vm_unprobe (self, ctx);
    if (vmctl_vm_is_booting (self) && !self->fail_error[0])
        snprintf (self->fail_error, sizeof self->fail_error, "stopped during the boot: %s",
                  proto_reason_name (reason));
    self->stop_reason = reason;
    self->stop_mode = mode;
    self->off_seen = false;
    zsys_info ("vmctl_vm: stopping service=%s reason=%s mode=%s", self->name,
               proto_reason_name (reason), proto_mode_name (mode));
    vmctl_vm_enter (self, ctx, VMCTL_VM_STOP_CALL);
    vmctl_vm_publish_stop (self, ctx, PROTO_MSG_VM_STOPPING, reason, mode);
    vmctl_vm_stop_step (self, ctx, mode, VMCTL_VM_PURPOSE_NONE);
}

//  Stop, now or once the job in flight returns.
void
vmctl_vm_stop (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_reason_t reason, proto_mode_t mode)
{
    if (vmctl_vm_busy (self)) {
        self->pending = VMCTL_VM_PENDING_STOP;
        self->pending_reason = reason;
        self->pending_mode = mode == PROTO_MODE_NONE ? PROTO_MODE_DESTROY : mode;
        return;
    }
    vmctl_vm_stop_now (self, ctx, reason, mode);
}

//  Nothing of the VM runs any more: room for waiting boots, and a boot asked for meanwhile.
static unsigned
s_after_stop (vmctl_vm_t *self)
{
    return VMCTL_VM_ROOM | (self->pending == VMCTL_VM_PENDING_BOOT ? VMCTL_VM_BOOT_DUE : 0);
}

//  The stop is done; MODE is what was effectively done.
unsigned
vmctl_vm_stopped (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_mode_t mode)
{
    //  The tier it is in now.
    vmctl_vm_state_t tier = mode == PROTO_MODE_SUSPEND ? VMCTL_VM_PAUSED
                            : mode == PROTO_MODE_SAVE  ? VMCTL_VM_SAVED
                                                       : VMCTL_VM_OFF;
    self->state = tier;
    vmctl_vm_set_deadline (self, ctx, 0);
    self->domain.active = self->domain.paused = mode == PROTO_MODE_SUSPEND;
    self->traffic_known = false;
    self->retry_stop_ms = 0;
    s_count_stop (ctx, self->stop_reason);
    zsys_info ("vmctl_vm: stopped service=%s reason=%s mode=%s", self->name,
               proto_reason_name (self->stop_reason), proto_mode_name (mode));
    vmctl_vm_publish_stop (self, ctx, PROTO_MSG_VM_STOPPED, self->stop_reason, mode);
    if (self->fail_error[0]) {
        //  Only now: "whatever the failed boot started has been stopped".
        char error[PROTO_TEXT_MAX + 1];
        strcpy (error, self->fail_error);
        self->fail_error[0] = '\0';
        vmctl_vm_boot_failed (self, ctx, error);
    }
    else
        vmctl_vm_enter (self, ctx, tier);
    return s_after_stop (self);
}

//  Even destroy failed: the domain may still run. Try again later.
static unsigned
s_stop_failed (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const char *error)
{
    ctx->stats->stop_failures++;
    zsys_error ("vmctl_vm: cannot stop service=%s error=%s", self->name, error);
    self->state = VMCTL_VM_FAILED;
    vmctl_vm_set_deadline (self, ctx, 0);
    self->retry_stop_ms = zclock_mono () + VMCTL_VM_STOP_RETRY_MS;
    if (self->fail_error[0]) {
        char combined[PROTO_TEXT_MAX + 1];
        snprintf (combined, sizeof combined, "%.500s; then %.500s", self->fail_error, error);
        self->fail_error[0] = '\0';
        vmctl_vm_boot_failed (self, ctx, combined);
    }
    else {
        proto_copy (self->status.last_error, sizeof self->status.last_error, error);
        vmctl_vm_write_status (self, ctx, PROTO_STATE_FAILED);
    }
    return s_after_stop (self);
}

//  The mode failed: down the ladder to destroy.
static void
s_fall_back (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const char *why)
{
    //  Down the ladder one rung: suspend, save, shutdown, destroy (a paused guest cannot shut
    //  down: destroy).
    proto_mode_t next = self->step_mode == PROTO_MODE_SUSPEND ? PROTO_MODE_SAVE
                        : self->step_mode == PROTO_MODE_SAVE && !self->domain.paused
                            ? PROTO_MODE_SHUTDOWN
                            : PROTO_MODE_DESTROY;
    ctx->stats->stop_fallbacks++;
    zsys_warning ("vmctl_vm: stop mode failed service=%s mode=%s next=%s why=%s", self->name,
                  proto_mode_name (self->step_mode), proto_mode_name (next), why);
    vmctl_vm_stop_step (self, ctx, next, VMCTL_VM_PURPOSE_NONE);
}

//  A VM we thought up is gone, and we did not stop it.
unsigned
vmctl_vm_vanished (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_reason_t reason)
{
    vmctl_vm_unprobe (self, ctx);
    bool booting = vmctl_vm_is_booting (self);
    self->state = VMCTL_VM_OFF;
    vmctl_vm_set_deadline (self, ctx, 0);
    self->domain.active = self->domain.paused = false;
    self->traffic_known = false;
    self->stop_reason = reason;
    s_count_stop (ctx, reason);
    zsys_warning ("vmctl_vm: domain stopped by itself service=%s reason=%s", self->name,
                  proto_reason_name (reason));
    vmctl_vm_publish_stop (self, ctx, PROTO_MSG_VM_STOPPED, reason, PROTO_MODE_NONE);
    if (booting)
        vmctl_vm_boot_failed (self, ctx, reason == PROTO_REASON_CRASH
                                      ? "the domain crashed during the boot"
                                      : "the domain stopped during the boot");
    else
        vmctl_vm_enter (self, ctx, VMCTL_VM_OFF);
    return s_after_stop (self);
}

unsigned
vmctl_vm_evict (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx)
{
    assert (self && ctx);
    bool check_traffic = !self->domain.paused
                         && self->service.idle_on == PROTO_IDLE_ON_DNS_TRAFFIC
                         && (self->domain.iface[0] || self->domain.mac[0]);
    if (check_traffic)
        //  A reading already on its way (the baseline) answers this question as well.
        vmctl_vm_traffic (self, ctx, VMCTL_VM_TRAFFIC_EVICT);
    else {
        ctx->stats->evictions++;
        vmctl_vm_stop (self, ctx, PROTO_REASON_IDLE, PROTO_MODE_DESTROY);
    }
    return 0;
}

//  Jobs and events -------------------------------------------------------------------------

static unsigned
s_on_boot_done (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const vmctl_job_t *job)
{
    bool abandoned = self->pending == VMCTL_VM_PENDING_ABANDON;
    if (abandoned)
        self->pending = VMCTL_VM_PENDING_NONE;
    if (job->rc) {
        ctx->stats->libvirt_errors++;
        if (abandoned)
            zsys_warning ("vmctl_vm: late boot failure service=%s error=%s", self->name,
                          job->error);
        vmctl_vm_boot_failed (self, ctx, abandoned ? "ready_timeout: the boot call did not return "
                                              "in time, then failed" : job->error);
        return 0;
    }
    self->domain.known = self->domain.active = true;
    self->domain.paused = false;
    vmctl_vm_learn (self, &job->domain, true);
    self->created_us = job->done_us;
    self->woke_from = job->booted == VMCTL_BOOTED_RESUMED    ? PROTO_TIER_PAUSED
                      : job->booted == VMCTL_BOOTED_RESTORED ? PROTO_TIER_SAVED
                      : job->booted == VMCTL_BOOTED_RUNNING  ? PROTO_TIER_UNSET
                                                             : PROTO_TIER_OFF;
    if (job->note[0]) {
        ctx->stats->restore_failures++;
        zsys_warning ("vmctl_vm: the save file did not restore; booted cold service=%s "
                      "error=%s", self->name, job->note);
    }
    if (job->booted != VMCTL_BOOTED_RUNNING && job->call_us)
        vmctl_samples_add (&ctx->stats->dispatch_us, job->call_us - self->boot_us);
    zsys_info ("vmctl_vm: started service=%s boot_id=%s how=%s domain=%s iface=%s", self->name,
               self->status.boot_id, vmctl_booted_name (job->booted), self->domain.name,
               self->domain.iface[0] ? self->domain.iface : "-");
    if (abandoned) {
        snprintf (self->fail_error, sizeof self->fail_error,
                  "ready_timeout: the boot call took longer than %d ms",
                  self->service.ready_timeout_ms);
        vmctl_vm_stop_now (self, ctx, PROTO_REASON_FAILED, PROTO_MODE_DESTROY);
        return 0;
    }
    vmctl_vm_await_ready (self, ctx, job->booted == VMCTL_BOOTED_RUNNING);
    return 0;
}

static unsigned
s_on_stop_done (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const vmctl_job_t *job)
{
    if (job->rc)
        ctx->stats->libvirt_errors++;
    switch (job->kind) {
    case VMCTL_JOB_DESTROY: {
        if (job->rc)
            return s_stop_failed (self, ctx, job->error);
        //  After a shutdown the guest may have powered off by itself: then that was the
        //  mode; only a destroy that found it up after the grace is a fallback.
        bool obeyed = self->stop_mode == PROTO_MODE_SHUTDOWN && job->was_off;
        if (job->purpose == VMCTL_VM_DESTROY_AFTER_GRACE && !obeyed)
            ctx->stats->stop_fallbacks++;
        return vmctl_vm_stopped (self, ctx, obeyed ? PROTO_MODE_SHUTDOWN : PROTO_MODE_DESTROY);
    }
    case VMCTL_JOB_SHUTDOWN:
        if (job->rc)
            s_fall_back (self, ctx, job->error);
        else if (ctx->config->shutdown_grace_ms == 0 || self->off_seen)
            //  The destroy confirms it is off.
            vmctl_vm_stop_step (self, ctx, PROTO_MODE_DESTROY, VMCTL_VM_PURPOSE_NONE);
        else {
            self->state = VMCTL_VM_STOP_GRACE;
            vmctl_vm_set_deadline (self, ctx, zclock_mono () + ctx->config->shutdown_grace_ms);
        }
        return 0;
    case VMCTL_JOB_SUSPEND:
    case VMCTL_JOB_SAVE:
        if (job->rc) {
            s_fall_back (self, ctx, job->error);
            return 0;
        }
        return vmctl_vm_stopped (self, ctx, job->kind == VMCTL_JOB_SUSPEND ? PROTO_MODE_SUSPEND
                                                                    : PROTO_MODE_SAVE);
    default:
        return 0;
    }
}

//  Interface counters: the traffic idle judgement.
static unsigned
s_on_traffic (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const vmctl_job_t *job, bool evicting)
{
    self->traffic_pending = false;
    vmctl_vm_purpose_t purpose =
        evicting ? VMCTL_VM_TRAFFIC_EVICT : (vmctl_vm_purpose_t) job->purpose;
    bool evict = purpose == VMCTL_VM_TRAFFIC_EVICT;  // whatever the reading was for, eviction waits
    if (self->state != VMCTL_VM_READY)
        return evict ? VMCTL_VM_KEPT : 0;
    bool moved = false, had = self->traffic_known;
    if (job->rc == 0) {
        //  Only what the guest sent counts (libvirt reports the guest's side: tx = sent by
        //  it): what it receives includes the bridge's broadcast and multicast (ARP for
        //  others, router solicitations), which would keep every guest up forever.
        moved = had
                && (self->traffic.tx_packets != job->traffic.tx_packets
                    || self->traffic.tx_bytes != job->traffic.tx_bytes);
        self->traffic = job->traffic;
        self->traffic_known = true;
    }
    else {
        //  No counters (no interface, a driver without them): queries alone decide.
        had = true;
        self->traffic_known = false;
    }
    if (purpose == VMCTL_VM_TRAFFIC_BASELINE)
        return 0;
    ctx->stats->traffic_checks++;
    if (purpose == VMCTL_VM_TRAFFIC_SAMPLE) {
        //  In use at most a quarter window ago: the idle clock restarts now.
        if (moved) {
            ctx->stats->traffic_kept++;
            self->last_used_ms = zclock_mono ();
        }
        return 0;
    }
    if (moved || !had) {
        //  Traffic (or no earlier reading to compare with): in use, so not idle.
        ctx->stats->traffic_kept += moved;
        self->last_used_ms = zclock_mono ();
        return evict ? VMCTL_VM_KEPT : 0;
    }
    if (evict) {
        ctx->stats->evictions++;
        vmctl_vm_stop (self, ctx, PROTO_REASON_IDLE, PROTO_MODE_DESTROY);
    }
    else if (s_next_step (self))
        s_take_step (self, ctx, s_next_step (self));
    return 0;
}

unsigned
vmctl_vm_on_job (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const vmctl_job_t *job, bool evicting)
{
    assert (self && ctx && job);
    if (job->kind == VMCTL_JOB_STATS)
        return s_on_traffic (self, ctx, job, evicting);
    if (job->kind == VMCTL_JOB_LIST || !vmctl_vm_busy (self))
        return 0;  // LIST answers go through vmctl_vm_reconcile
    self->epoch++;
    unsigned effects = 0;
    if (job->kind == VMCTL_JOB_BOOT && self->pending == VMCTL_VM_PENDING_STOP && job->rc == 0) {
        //  Stopped before it was seen running: what it is, then the stop asked for.
        self->domain.known = self->domain.active = true;
        vmctl_vm_learn (self, &job->domain, true);
        vmctl_vm_stop_now (self, ctx, self->pending_reason, self->pending_mode);
    }
    else if (job->kind == VMCTL_JOB_BOOT)
        effects |= s_on_boot_done (self, ctx, job);
    else
        effects |= s_on_stop_done (self, ctx, job);
    if (!vmctl_vm_busy (self) && self->pending == VMCTL_VM_PENDING_STOP) {
        self->pending = VMCTL_VM_PENDING_NONE;
        if (self->domain.active || vmctl_vm_is_booting (self))
            vmctl_vm_stop_now (self, ctx, self->pending_reason, self->pending_mode);
    }
    if (!vmctl_vm_busy (self)
        && (self->pending == VMCTL_VM_PENDING_CHECK || (!self->domain.known && ctx->reconciled))) {
        if (self->pending == VMCTL_VM_PENDING_CHECK)
            self->pending = VMCTL_VM_PENDING_NONE;
        vmctl_vm_check (self, ctx);
    }
    return effects;
}


//  Idle ------------------------------------------------------------------------------------

//  The ladder's next step from where the VM is: the first harsher than its tier (NULL: none).
static const proto_idle_step_t *
s_next_step (const vmctl_vm_t *self)
{
    int tier = self->state == VMCTL_VM_PAUSED ? 1 : self->state == VMCTL_VM_SAVED ? 2 : 0;
    for (size_t index = 0; index < self->service.ladder_count; index++)
        if (vmctl_vm_rank (self->service.ladder[index].mode) > tier)
            return &self->service.ladder[index];
    return NULL;
}

//  A ready VM is about to become unreachable by MODE: answers carry the drain TTL from now,
//  and the step waits until every answer given before (the full TTL) has expired, unless a
//  query comes meanwhile (vmctl_vm_used).
static void
s_drain (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_mode_t mode)
{
    ctx->stats->drains++;
    int64_t hold_ms = (int64_t) self->service.ttl * 1000;
    self->drain_mode = mode;
    self->drain_since_ms = zclock_mono ();
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_DRAINING);
    proto_copy (msg.vm_draining.service, sizeof msg.vm_draining.service, self->name);
    proto_copy (msg.vm_draining.boot_id, sizeof msg.vm_draining.boot_id, self->status.boot_id);
    msg.vm_draining.mode = mode;
    msg.vm_draining.ttl = self->service.drain_ttl;
    msg.vm_draining.until_ts = zclock_time () + hold_ms;
    zsys_info ("vmctl_vm: draining service=%s mode=%s for_ms=%lld", self->name,
               proto_mode_name (mode), (long long) hold_ms);
    ctx->io->publish (ctx->io->arg, &msg);
    self->state = VMCTL_VM_DRAINING;
    vmctl_vm_set_deadline (self, ctx, self->drain_since_ms + hold_ms);
    vmctl_vm_enter (self, ctx, VMCTL_VM_DRAINING);
}

//  Take STEP of the ladder: suspend at once (a paused VM wakes on the next query), a step that
//  makes a ready VM unreachable after a drain, the others at once.
static void
s_take_step (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const proto_idle_step_t *step)
{
    if (self->state == VMCTL_VM_READY && step->mode != PROTO_MODE_SUSPEND)
        s_drain (self, ctx, step->mode);
    else
        vmctl_vm_stop (self, ctx, PROTO_REASON_IDLE, step->mode);
}

void
vmctl_vm_demote (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx)
{
    assert (self && ctx);
    if (self->state != VMCTL_VM_PAUSED)
        return;
    ctx->stats->demotions++;
    zsys_info ("vmctl_vm: paused memory over its budget, saving service=%s", self->name);
    vmctl_vm_stop_now (self, ctx, PROTO_REASON_IDLE, PROTO_MODE_SAVE);
}

void
vmctl_vm_idle_check (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t now_ms)
{
    assert (self && ctx);
    if (self->state == VMCTL_VM_FAILED && self->domain.active && self->retry_stop_ms
        && now_ms >= self->retry_stop_ms) {
        self->retry_stop_ms = 0;
        vmctl_vm_stop (self, ctx, PROTO_REASON_FAILED, PROTO_MODE_DESTROY);
        return;
    }
    if (!self->configured)
        return;
    const proto_idle_step_t *step = s_next_step (self);
    if (step && (self->state == VMCTL_VM_PAUSED || self->state == VMCTL_VM_SAVED)) {
        //  Down the tiers by time alone: nothing of it runs to send traffic.
        if (now_ms - self->last_used_ms >= (int64_t) step->after_s * 1000)
            s_take_step (self, ctx, step);
        return;
    }
    if (self->state != VMCTL_VM_READY || !step)
        return;
    int64_t window = (int64_t) step->after_s * 1000;
    bool counters = self->service.idle_on == PROTO_IDLE_ON_DNS_TRAFFIC
                    && (self->domain.iface[0] || self->domain.mac[0]);
    if (now_ms - self->last_used_ms < window) {
        //  Read the counters every quarter window, so traffic restarts the idle clock within
        //  a quarter window of when it happened, not a whole window later.
        if (counters && now_ms - self->traffic_read_ms >= window / 4)
            vmctl_vm_traffic (self, ctx, VMCTL_VM_TRAFFIC_SAMPLE);
        return;
    }
    if (counters)
        vmctl_vm_traffic (self, ctx, VMCTL_VM_TRAFFIC_IDLE);
    else
        s_take_step (self, ctx, step);
}
