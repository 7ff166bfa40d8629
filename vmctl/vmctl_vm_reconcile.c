/*  vmctl_vm: making a VM agree with what libvirt says: after every connection, at start from
    the statuses its predecessor stored, and when an event needs confirming.  */

#include "vmctl_vm_internal.h"

//  vmctl died mid-boot and the domain runs: finish that boot, with its boot_id.
static void
s_resume_boot (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx)
{
    int64_t age = zclock_time () - self->status.since;
    age = age > 0 ? age : 0;
    self->boot_ms = zclock_mono () - age;
    self->boot_us = zclock_usecs () - age * 1000;
    self->event_us = 0;
    self->pending = VMCTL_VM_PENDING_NONE;
    vmctl_vm_set_deadline (self, ctx, zclock_mono () + self->service.ready_timeout_ms);
    zsys_info ("vmctl_vm: resuming an interrupted boot service=%s boot_id=%s", self->name,
               self->status.boot_id);
    vmctl_vm_await_ready (self, ctx, true);
}

//  Nothing runs for it: the tier is what is left, a paused domain or a save file, or off.
static void
s_settle (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, bool paused, bool saved)
{
    self->domain.paused = paused;
    vmctl_vm_state_t tier = paused ? VMCTL_VM_PAUSED : saved ? VMCTL_VM_SAVED : VMCTL_VM_OFF;
    if (tier != self->state)
        zsys_info ("vmctl_vm: found in a tier service=%s tier=%s", self->name,
                   vmctl_vm_state_name (tier));
    vmctl_vm_enter (self, ctx, tier);
}

//  A domain runs that no boot of ours is waiting for: it is ready, and its idle clock starts.
static void
s_adopt (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx)
{
    ctx->stats->adoptions++;
    if (!self->status.boot_id[0])
        vmctl_vm_boot_id (self);
    self->last_used_ms = zclock_mono ();
    self->traffic_known = false;
    self->retry_stop_ms = 0;
    zsys_info ("vmctl_vm: adopted a running domain service=%s domain=%s", self->name,
               self->domain.name);
    vmctl_vm_enter (self, ctx, VMCTL_VM_READY);
    if (self->service.idle_on == PROTO_IDLE_ON_DNS_TRAFFIC)
        vmctl_vm_traffic (self, ctx, VMCTL_VM_TRAFFIC_BASELINE);
}

void
vmctl_vm_restore (vmctl_vm_t *self, const proto_status_t *status)
{
    assert (self && status);
    self->status = *status;
    static const vmctl_vm_state_t states[] = {
        [PROTO_STATE_OFF] = VMCTL_VM_OFF,
        [PROTO_STATE_BOOTING] = VMCTL_VM_BOOT_INTERRUPTED,
        [PROTO_STATE_READY] = VMCTL_VM_READY,
        [PROTO_STATE_STOPPING] = VMCTL_VM_STOP_INTERRUPTED,
        [PROTO_STATE_FAILED] = VMCTL_VM_FAILED,
        [PROTO_STATE_PAUSED] = VMCTL_VM_PAUSED,
        [PROTO_STATE_SAVED] = VMCTL_VM_SAVED,
        [PROTO_STATE_DRAINING] = VMCTL_VM_READY,  // a drain does not survive vmctl: ready
    };
    if ((size_t) status->state < sizeof states / sizeof states[0])
        self->state = states[status->state];
}

void
vmctl_vm_forget_domain (vmctl_vm_t *self)
{
    assert (self);
    self->domain.known = false;
}

unsigned
vmctl_vm_reconcile (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const vmctl_domain_t *domain)
{
    assert (self && ctx && domain);
    self->domain.known = true;
    bool running = domain->found
                   && (domain->state == VMCTL_DOMAIN_RUNNING
                       || domain->state == VMCTL_DOMAIN_PAUSED);
    bool paused = running && domain->state == VMCTL_DOMAIN_PAUSED;
    bool kept_crashed = domain->found && domain->state == VMCTL_DOMAIN_CRASHED;
    bool crashed = kept_crashed || (domain->found && domain->crashed);
    if (domain->found)
        vmctl_vm_learn (self, domain, running);
    //  A crashed domain kept by on_crash=preserve still holds its resources.
    self->domain.active = running || kept_crashed;
    proto_reason_t gone = crashed || self->hint_crash ? PROTO_REASON_CRASH
                                                      : PROTO_REASON_EXTERNAL;
    self->hint_crash = false;
    switch (self->state) {
    case VMCTL_VM_READY:
    case VMCTL_VM_DRAINING:
        if (kept_crashed)
            vmctl_vm_stop (self, ctx, PROTO_REASON_CRASH, PROTO_MODE_DESTROY);
        else if (!running) {
            ctx->stats->status_fixes += ctx->startup;
            return vmctl_vm_vanished (self, ctx, gone);
        }
        else if (ctx->startup)
            s_adopt (self, ctx);  // stored ready and still running: its idle clock starts
        break;
    case VMCTL_VM_READYING:
    case VMCTL_VM_DELAYING:
        if (!running || paused)
            return vmctl_vm_vanished (self, ctx, gone);
        break;
    case VMCTL_VM_BOOT_INTERRUPTED:
        //  vmctl was stopped or killed during this boot.
        if (running && !paused)
            s_resume_boot (self, ctx);
        else {
            ctx->stats->status_fixes++;
            vmctl_vm_boot_failed (self, ctx, "vmctl restarted before the boot completed");
        }
        break;
    case VMCTL_VM_STOP_GRACE:
        if (!running)
            return vmctl_vm_stopped (self, ctx, PROTO_MODE_SHUTDOWN);
        break;
    case VMCTL_VM_STOP_INTERRUPTED:
        //  Finish the stop, or record that it finished.
        if (running && !paused)
            vmctl_vm_stop (self, ctx, PROTO_REASON_IDLE, self->service.stop_mode);
        else {
            ctx->stats->status_fixes++;
            s_settle (self, ctx, paused, domain->saved);
        }
        break;
    case VMCTL_VM_OFF:
    case VMCTL_VM_FAILED:
    case VMCTL_VM_PAUSED:
    case VMCTL_VM_SAVED:
        if (running && !paused && self->configured)
            s_adopt (self, ctx);
        else if (!running)
            self->retry_stop_ms = 0;
        //  A failed VM stays failed unless a tier is found; the others are what is left.
        if (!(running && !paused) && (self->state != VMCTL_VM_FAILED || paused || domain->saved))
            s_settle (self, ctx, paused, domain->saved && !running);
        break;
    default:
        break;  // waiting for room, or a job runs: its return decides
    }
    return 0;
}

