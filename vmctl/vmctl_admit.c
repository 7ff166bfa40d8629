/*  vmctl_admit: count, compare with the limits, pick the least recently used idle VM.  */

#include "vmctl_admit.h"

//  The best eviction candidate, or -1: paused ones first, then least recently used.
static ssize_t
s_victim (const vmctl_admit_vm_t *vms, size_t count)
{
    ssize_t best = -1;
    for (size_t index = 0; index < count; index++) {
        const vmctl_admit_vm_t *vm = &vms[index];
        if (!vm->candidate || !vm->active || vm->booting)
            continue;
        if (best < 0)
            best = (ssize_t) index;
        else {
            const vmctl_admit_vm_t *other = &vms[best];
            if ((vm->paused && !other->paused)
                || (vm->paused == other->paused && vm->last_used_ms < other->last_used_ms))
                best = (ssize_t) index;
        }
    }
    return best;
}

vmctl_admit_verdict_t
vmctl_admit_decide (const vmctl_limits_t *limits, const vmctl_admit_request_t *request,
                    const vmctl_admit_vm_t *vms, size_t count, size_t *victim, const char **why)
{
    assert (limits && request && victim);
    int64_t running = 0, booting = 0, memory_kib = 0;
    for (size_t index = 0; index < count; index++) {
        running += vms[index].active;
        booting += vms[index].booting;
        memory_kib += vms[index].active ? vms[index].memory_kib : 0;
    }
    if (limits->max_booting && booting + 1 > limits->max_booting) {
        if (why)
            *why = "max_booting";
        return VMCTL_ADMIT_NO;
    }
    //  What is short, counting what evictions already under way will free.
    int64_t slots_short = 0, kib_short = 0;
    if (limits->max_running && request->needs_slot)
        slots_short = running + 1 - request->evicting - limits->max_running;
    if (limits->memory_budget_mib)
        kib_short = memory_kib + request->memory_kib - request->evicting_kib
                    - (int64_t) limits->memory_budget_mib * 1024;
    if (slots_short <= 0 && kib_short <= 0) {
        if (request->evicting == 0)
            return VMCTL_ADMIT_YES;
        //  Room exists only once the evictions end: the VM is not stopped yet.
        bool short_now = (limits->max_running && request->needs_slot
                          && running + 1 > limits->max_running)
                         || (limits->memory_budget_mib
                             && memory_kib + request->memory_kib
                                    > (int64_t) limits->memory_budget_mib * 1024);
        return short_now ? VMCTL_ADMIT_WAIT : VMCTL_ADMIT_YES;
    }
    if (why)
        *why = slots_short > 0 ? "max_running" : "memory_budget_mib";
    if (!limits->evict_idle)
        return VMCTL_ADMIT_NO;
    //  Evict nothing unless evicting every candidate would make enough room.
    int64_t candidates = 0, candidate_kib = 0;
    for (size_t index = 0; index < count; index++)
        if (vms[index].candidate && vms[index].active && !vms[index].booting) {
            candidates++;
            candidate_kib += vms[index].memory_kib;
        }
    if (slots_short > candidates || kib_short > candidate_kib)
        return VMCTL_ADMIT_NO;
    ssize_t best = s_victim (vms, count);
    if (best < 0)
        return VMCTL_ADMIT_NO;
    *victim = (size_t) best;
    return VMCTL_ADMIT_EVICT;
}
