/*  vmctl_vm_internal: what the three files of vmctl_vm share (vmctl_vm.c: the life and its
    boots; vmctl_vm_stop.c: the stops, job returns and idle; vmctl_vm_reconcile.c: agreeing
    with libvirt). Not for anyone else: the VM's fields are its own.  */

#ifndef VMCTL_VM_INTERNAL_H_INCLUDED
#define VMCTL_VM_INTERNAL_H_INCLUDED

#include "vmctl_vm.h"

#define VMCTL_VM_STOP_RETRY_MS 5000  // a VM whose destroy failed is tried again after this

//  Why a job was submitted (job->purpose, echoed back).
typedef enum {
    VMCTL_VM_PURPOSE_NONE = 0,
    VMCTL_VM_TRAFFIC_BASELINE,      // counters at ready, to compare with later
    VMCTL_VM_TRAFFIC_SAMPLE,        // a quarter of the idle window passed: did they move?
    VMCTL_VM_TRAFFIC_IDLE,          // the idle deadline passed: did they move?
    VMCTL_VM_TRAFFIC_EVICT,         // chosen for eviction: did they move?
    VMCTL_VM_DESTROY_AFTER_GRACE    // the shutdown grace ended with the guest up
} vmctl_vm_purpose_t;

struct _vmctl_vm_t {
    char name[PROTO_NAME_MAX + 1];
    proto_service_t service;             // owned parts; meaningful when configured
    bool configured;                     // a valid config is known
    char target[PROTO_DOMAIN_MAX + 1];   // the domain to look up: name, UUID or PREFIX+name
    char next_target[PROTO_DOMAIN_MAX + 1];  // a changed target, applied once the VM is off
    vmctl_vm_domain_t domain;            // libvirt's view
    proto_status_t status;               // what was last written (or found stored at start)
    vmctl_vm_state_t state;
    //  The one intent waiting for the job in flight, and what it needs.
    vmctl_vm_pending_t pending;
    proto_reason_t pending_reason;       // STOP
    proto_mode_t pending_mode;           // STOP, PARK
    int64_t pending_ms, pending_us;      // BOOT: when its vm.boot was received
    //  Reads in flight.
    int64_t epoch;
    bool checking;                       // a LIST check
    bool traffic_pending;                // a STATS job
    bool probing;                        // the prober runs for it
    int64_t deadline_ms;                 // the state's deadline, 0 when none
    //  The boot.
    int64_t boot_ms, boot_us;            // when its vm.boot was received (mono, usecs)
    int64_t event_us;                    // libvirt said started during this boot (0: not yet)
    proto_via_t via;
    int64_t ready_us;                    // when readiness was seen
    int64_t created_us;                  // when the boot call returned (in the worker)
    proto_tier_t woke_from;              // the tier the boot job brought it up from
    //  The drain.
    proto_mode_t drain_mode;             // the step it leads to
    int64_t drain_since_ms;              // when it began (zclock_mono)
    //  The stop.
    proto_reason_t stop_reason;
    proto_mode_t stop_mode;              // asked for
    proto_mode_t step_mode;              // the step running now
    char fail_error[PROTO_TEXT_MAX + 1]; // vm.failed to publish once stopped (a failed boot)
    bool off_seen;                       // libvirt said stopped while the shutdown call ran
    int64_t retry_stop_ms;               // FAILED with the domain up: destroy again then
    bool hint_crash;                     // the last stop event said crash
    //  Idle.
    int64_t last_used_ms;                // last query, traffic or readiness
    bool traffic_known;
    vmctl_traffic_t traffic;
    int64_t traffic_read_ms;             // when the counters were last asked for
};


//  How far down the ladder a mode takes a VM: suspend 1, save 2, shutdown and destroy 3.
int vmctl_vm_rank (proto_mode_t mode);

//  The status a state is written as.
proto_state_t vmctl_vm_status_of (vmctl_vm_state_t state);

//  Whether the state is one of booting's, or one of stopping's.
bool vmctl_vm_is_booting (const vmctl_vm_t *self);
bool vmctl_vm_is_stopping (const vmctl_vm_t *self);

//  Write the status as STATE even when it is the same; enter STATE, writing the status when
//  it changes.
void vmctl_vm_write_status (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_state_t state);
void vmctl_vm_enter (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, vmctl_vm_state_t state);

//  Set the state's deadline (0: none).
void vmctl_vm_set_deadline (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, int64_t deadline_ms);

//  Stop the probe, if one runs.
void vmctl_vm_unprobe (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx);

//  Name the boot: "NAME-BOOTS".
void vmctl_vm_boot_id (vmctl_vm_t *self);

//  What libvirt said about DOMAIN; its interface only while it RUNS.
void vmctl_vm_learn (vmctl_vm_t *self, const vmctl_domain_t *domain, bool runs);

//  vm.ready for readiness VIA after BOOT_MS, woken FROM a tier (UNSET on a re-announce).
void vmctl_vm_publish_ready (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_via_t via,
                             int64_t boot_ms, proto_tier_t from);

//  vm.stopping or vm.stopped (TYPE) for REASON and MODE.
void vmctl_vm_publish_stop (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_msg_type_t type,
                            proto_reason_t reason, proto_mode_t mode);

//  A new job of KIND for the domain (owned by the caller); submit a job that changes it.
vmctl_job_t *vmctl_vm_job (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, vmctl_job_kind_t kind);
void vmctl_vm_submit_change (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, vmctl_job_t *job);

//  Read the interface counters for PURPOSE (once at a time).
void vmctl_vm_traffic (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, vmctl_vm_purpose_t purpose);

//  The boot ends without anything running: vm.failed with ERROR, state failed.
void vmctl_vm_boot_failed (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, const char *error);

//  The domain runs: wait for readiness (RUNNING_BEFORE: libvirt will not say started again).
void vmctl_vm_await_ready (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, bool running_before);

//  Stop for REASON by MODE: once the job in flight returns (vmctl_vm_stop), or now, no job
//  running (vmctl_vm_stop_now); one rung of the ladder (vmctl_vm_stop_step).
void vmctl_vm_stop (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_reason_t reason,
                    proto_mode_t mode);
void vmctl_vm_stop_now (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_reason_t reason,
                        proto_mode_t mode);
void vmctl_vm_stop_step (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_mode_t mode,
                         vmctl_vm_purpose_t purpose);

//  The stop is done by MODE; the domain went away by itself for REASON. Both return effects.
unsigned vmctl_vm_stopped (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_mode_t mode);
unsigned vmctl_vm_vanished (vmctl_vm_t *self, vmctl_vm_ctx_t *ctx, proto_reason_t reason);

#endif
