/*  vmctl_vm: one service's VM and its life, as one explicit state machine.

    A VM is in exactly one state (vmctl_vm_state_t; the table of transitions is in
    vmctl/README.md) and holds at most one pending intent: what must happen once the libvirt
    job in flight returns (stop, abandon the boot, boot again, check the domain). At most one
    job that changes the domain (the boot, or a stop step) runs at a time: in CREATING and
    STOP_CALL. Reads (a LIST check, interface counters) may overlap; the VM's epoch changes
    whenever a changing job starts or ends, and a read answered for an older epoch is stale.

    Methods take a context (config, io, stats) instead of the fleet, and return effects the
    fleet acts on (room freed, a boot to admit, an eviction over, a boot due after a stop):
    nothing here knows the fleet. Admission, eviction, held requests and the waiting list are
    the fleet's. Libvirt's lifecycle events are hints: a stop nobody asked for is confirmed
    with a LIST before it is published.  */

#ifndef VMCTL_VM_H_INCLUDED
#define VMCTL_VM_H_INCLUDED

#include "vmctl_admit.h"
#include "vmctl_config.h"
#include "vmctl_io.h"
#include "vmctl_stats.h"
#include "vmctl_virt.h"

typedef struct _vmctl_vm_t vmctl_vm_t;

//  Where a VM is.
typedef enum {
    VMCTL_VM_OFF = 0,            // nothing runs (a domain parked by suspend may be paused)
    VMCTL_VM_FAILED,             // the last boot or stop failed
    VMCTL_VM_CAPACITY,           // booting: waiting for room (admission)
    VMCTL_VM_CREATING,           // booting: the boot job runs
    VMCTL_VM_READYING,           // booting: it runs; waiting for the readiness condition
    VMCTL_VM_DELAYING,           // booting: ready; waiting out response_delay_ms
    VMCTL_VM_READY,              // announced; the idle clock runs
    VMCTL_VM_STOP_CALL,          // stopping: a stop job runs
    VMCTL_VM_STOP_GRACE,         // stopping: shutdown asked; waiting for the guest to power off
    VMCTL_VM_BOOT_INTERRUPTED,   // stored "booting" at start: the first reconcile decides
    VMCTL_VM_STOP_INTERRUPTED,   // stored "stopping" at start: the first reconcile decides
    VMCTL_VM_PAUSED,             // the paused tier: suspended, memory held, no CPU
    VMCTL_VM_SAVED,              // the saved tier: its memory in its save file, no domain
    VMCTL_VM_DRAINING,           // ready, answered with the drain TTL until the step it waits for
    VMCTL_VM_STATES
} vmctl_vm_state_t;

//  What must happen once the job in flight returns, or the boot is ready (one at a time; a
//  stronger replaces a weaker: STOP > ABANDON > PARK > BOOT > CHECK).
typedef enum {
    VMCTL_VM_PENDING_NONE = 0,
    VMCTL_VM_PENDING_CHECK,      // ask libvirt about the domain
    VMCTL_VM_PENDING_BOOT,       // a vm.boot came during the stop: boot once it is off
    VMCTL_VM_PENDING_PARK,       // prepared: once ready, go down to the tier asked (its mode)
    VMCTL_VM_PENDING_ABANDON,    // the ready timeout passed during the create: stop what it made
    VMCTL_VM_PENDING_STOP        // stop, for the reason and by the mode asked
} vmctl_vm_pending_t;

//  Effects for the fleet, or'ed together.
enum {
    VMCTL_VM_ROOM = 1,           // the VM stopped (or vanished): end its eviction, offer room
    VMCTL_VM_ADMIT = 2,          // a boot began: decide admission, then vmctl_vm_admit
    VMCTL_VM_KEPT = 4,           // an eviction's check found it in use (or busy): not evicted
    VMCTL_VM_BOOT_DUE = 8        // a vm.boot from during the stop is due (vmctl_vm_take_boot)
};

//  What the VM's methods work with (all borrowed; the fleet keeps it current).
typedef struct {
    const vmctl_config_t *config;
    const vmctl_io_t *io;
    vmctl_stats_t *stats;
    int64_t *next_deadline_ms;   // lowered to a deadline a VM sets (the fleet's tick skips to it)
    bool connected;              // libvirt is connected
    bool reconciled;             // libvirt's view was read since the last connection
    bool startup;                // no reconcile finished yet: stored statuses are vmctl's own
} vmctl_vm_ctx_t;

//  What libvirt last said about the domain.
typedef struct {
    bool known;                          // read since the last connection
    bool active;                         // it runs or is paused (holds memory)
    bool paused;                         // parked by stop_mode suspend
    char name[PROTO_DOMAIN_MAX + 1];
    char uuid[PROTO_UUID_MAX + 1];
    char mac[PROTO_MAC_MAX + 1];         // the guest interface's, while it runs
    char iface[PROTO_IFACE_MAX + 1];     // its host-side device, while it runs
    int64_t memory_kib;
} vmctl_vm_domain_t;

//  A VM for service NAME, off, never used. Returns NULL when NAME is too long.
vmctl_vm_t *vmctl_vm_new (const char *name);

//  Free it. NULL-safe.
void vmctl_vm_destroy (vmctl_vm_t **self_p);

//  Accessors (borrowed).
const char *vmctl_vm_name (const vmctl_vm_t *self);
vmctl_vm_state_t vmctl_vm_state (const vmctl_vm_t *self);
vmctl_vm_pending_t vmctl_vm_pending (const vmctl_vm_t *self);
const proto_status_t *vmctl_vm_status (const vmctl_vm_t *self);
const proto_service_t *vmctl_vm_service (const vmctl_vm_t *self);  // meaningful when configured
bool vmctl_vm_configured (const vmctl_vm_t *self);
const vmctl_vm_domain_t *vmctl_vm_domain (const vmctl_vm_t *self);
const char *vmctl_vm_target (const vmctl_vm_t *self);
int64_t vmctl_vm_epoch (const vmctl_vm_t *self);
int64_t vmctl_vm_last_used (const vmctl_vm_t *self);
int64_t vmctl_vm_deadline (const vmctl_vm_t *self);  // 0 when none

//  Whether a job that changes the domain is in flight (CREATING, STOP_CALL).
bool vmctl_vm_busy (const vmctl_vm_t *self);

//  Whether its domain is called NAME or has UUID.
bool vmctl_vm_owns_domain (const vmctl_vm_t *self, const char *name, const char *uuid);

//  The wire name of a state ("creating"), for logs, the README and tests (borrowed).
const char *vmctl_vm_state_name (vmctl_vm_state_t state);

//  A valid config arrived: SERVICE (consumed) names domain TARGET.
void vmctl_vm_configure (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_service_t *service,
                         const char *target);

//  The service was removed: fail a boot waiting for room, stop whatever runs.
unsigned vmctl_vm_unconfigure (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx);

//  The status stored by a previous vmctl, found at start.
void vmctl_vm_restore (vmctl_vm_t *self, const proto_status_t *status);

//  libvirt's view must be read again (a new connection).
void vmctl_vm_forget_domain (vmctl_vm_t *self);

//  vm.boot (the fleet checked it can act), received at RECEIVED_MS (zclock_mono) and
//  RECEIVED_US (zclock_usecs): re-announce a ready VM, join a boot, remember it during a
//  stop, or begin a boot (VMCTL_VM_ADMIT).
unsigned vmctl_vm_boot (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t received_ms,
                        int64_t received_us);

//  Admission decided for a boot that began: go ahead (YES), wait for room (EVICT, WAIT), or
//  fail with "capacity" (NO).
unsigned vmctl_vm_admit (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, vmctl_admit_verdict_t verdict);

//  A held vm.boot could not be acted on in time: fail that boot with ERROR.
void vmctl_vm_fail_held (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const char *error);

//  The vm.boot that came during the stop, once VMCTL_VM_BOOT_DUE said it is due. Returns
//  true with its times, once.
bool vmctl_vm_take_boot (vmctl_vm_t *self, int64_t *received_ms, int64_t *received_us);

//  Stopped to make room: read the counters first (dns+traffic), or stop at once.
unsigned vmctl_vm_evict (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx);

//  A finished job of this VM (not consumed). EVICTING: the fleet is evicting it.
unsigned vmctl_vm_on_job (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const vmctl_job_t *job,
                          bool evicting);

//  Its single LIST check returned (answered or not).
void vmctl_vm_check_done (vmctl_vm_t *self);

//  Make the VM agree with what libvirt says about DOMAIN (borrowed).
unsigned vmctl_vm_reconcile (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx,
                             const vmctl_domain_t *domain);

//  A lifecycle EVENT for its domain, delivered at USECS.
void vmctl_vm_on_event (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, vmctl_event_t event,
                        int64_t usecs);

//  Readiness signals: the probe connected, synjitsu saw the guest (garp), at USECS.
void vmctl_vm_on_probe (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t usecs);
void vmctl_vm_on_guest_seen (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t usecs);

//  A query was answered for it at USED_MS (zclock_mono); during a drain it keeps the VM.
void vmctl_vm_used (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t used_ms);

//  Prepare it: boot it if it is not up (VMCTL_VM_ADMIT), then, once ready, take it down to
//  the tier MODE makes (suspend: paused, save: saved, destroy: off).
unsigned vmctl_vm_prepare (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_mode_t mode,
                           int64_t now_ms, int64_t now_us);

//  Memory is short: save it from the paused tier.
void vmctl_vm_demote (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx);

//  Its save file (PATH_SIZE bytes, VMCTL_SAVE_PATH_MAX + 1 will do): named after what it
//  boots, so a changed template never restores an old file.
void vmctl_vm_save_path (const vmctl_vm_t *self, const vmctl_vm_ctx_t *ctx, char *path,
                         size_t path_size);

//  Ask libvirt about the domain (a LIST), now or once the job in flight returns.
void vmctl_vm_check (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx);

//  Its deadline passed at NOW_MS: the ready timeout, the response delay, the shutdown grace.
unsigned vmctl_vm_tick (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t now_ms);

//  The idle check at NOW_MS: stop it when unused for idle_timeout_s (after reading its
//  counters), and try again to destroy one whose destroy failed.
void vmctl_vm_idle_check (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t now_ms);

#endif
