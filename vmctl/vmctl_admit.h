/*  vmctl_admit: may one more VM boot now? The admission policy, without I/O.

    A boot is admitted when, with it, the active VMs (running or paused: both hold memory and a
    QEMU process) stay within max_running, the boots in progress within max_booting, and the
    memory of the active VMs within the budget. When running or memory is short and eviction
    is on, the least recently used idle VM is named for eviction: a VM is a candidate when it
    is paused by stop_mode suspend (it serves nobody), or when it is ready, nothing is being
    done to it, and no query came for it within its DNS TTL (no client can still hold an
    answer for it). Paused candidates go first, then the others by last use, oldest first. A
    full max_booting is never helped by evicting, so it refuses at once.  */

#ifndef VMCTL_ADMIT_H_INCLUDED
#define VMCTL_ADMIT_H_INCLUDED

#include "vmctl_config.h"

//  One VM as admission sees it.
typedef struct {
    const char *name;        // borrowed
    bool active;             // its domain runs or is paused
    bool booting;            // a boot is in progress (counts against max_booting)
    bool candidate;          // may be evicted (see above)
    bool paused;             // a candidate paused by stop_mode suspend
    int64_t last_used_ms;    // last query or traffic, zclock_mono
    int64_t memory_kib;
} vmctl_admit_vm_t;

//  What to do with the boot.
typedef enum {
    VMCTL_ADMIT_YES = 0,     // boot now
    VMCTL_ADMIT_EVICT,       // stop the named VM first, then ask again
    VMCTL_ADMIT_WAIT,        // an eviction already under way will make room: ask again later
    VMCTL_ADMIT_NO           // refuse: "capacity"
} vmctl_admit_verdict_t;

//  The boot asking.
typedef struct {
    bool needs_slot;         // false when its domain is already active (a paused VM resuming)
    int64_t memory_kib;      // what it adds to the active memory (0 when already active)
    int evicting;            // evictions under way now (each will free a slot)
    int64_t evicting_kib;    // and the memory they will free
} vmctl_admit_request_t;

//  Decide for REQUEST among the COUNT VMS under LIMITS (the VM asking is not among the
//  candidates: the caller clears its candidate flag). On VMCTL_ADMIT_EVICT, *VICTIM is the
//  index in VMS to stop. WHY (may be NULL) says which limit, for logs ("max_running").
vmctl_admit_verdict_t vmctl_admit_decide (const vmctl_limits_t *limits,
                                          const vmctl_admit_request_t *request,
                                          const vmctl_admit_vm_t *vms, size_t count,
                                          size_t *victim, const char **why);

#endif
