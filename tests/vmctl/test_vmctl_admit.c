/*  vmctl_admit: the admission policy on synthetic fleets.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "vmctl_admit.h"

static vmctl_limits_t s_limits;
static vmctl_admit_request_t s_request;

static void
s_setup (void)
{
    memset (&s_limits, 0, sizeof s_limits);
    s_limits.evict_idle = true;
    memset (&s_request, 0, sizeof s_request);
    s_request.needs_slot = true;
    s_request.memory_kib = 128 * 1024;
}

TestSuite (vmctl_admit, .init = s_setup);

//  A ready VM last used at LAST_USED that may (CANDIDATE) be evicted.
static vmctl_admit_vm_t
s_ready (const char *name, int64_t last_used, bool candidate)
{
    vmctl_admit_vm_t vm = {name, true, false, candidate, false, last_used, 128 * 1024};
    return vm;
}

static vmctl_admit_verdict_t
s_decide (vmctl_admit_vm_t *vms, size_t count, size_t *victim, const char **why)
{
    return vmctl_admit_decide (&s_limits, &s_request, vms, count, victim, why);
}

Test (vmctl_admit, no_limits_admit_everything)
{
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, false), s_ready ("b", 2, false)};
    size_t victim;
    cr_assert (eq (int, s_decide (vms, 2, &victim, NULL), VMCTL_ADMIT_YES));
}

Test (vmctl_admit, under_max_running_admits)
{
    s_limits.max_running = 3;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, false), s_ready ("b", 2, false)};
    size_t victim;
    cr_assert (eq (int, s_decide (vms, 2, &victim, NULL), VMCTL_ADMIT_YES));
}

Test (vmctl_admit, full_without_candidates_refuses)
{
    s_limits.max_running = 2;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, false), s_ready ("b", 2, false)};
    size_t victim;
    const char *why = NULL;
    cr_assert (eq (int, s_decide (vms, 2, &victim, &why), VMCTL_ADMIT_NO));
    cr_assert (eq (str, (char *) why, "max_running"));
}

Test (vmctl_admit, full_evicts_the_least_recently_used_candidate)
{
    s_limits.max_running = 3;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 300, true), s_ready ("b", 100, true),
                              s_ready ("c", 50, false), s_ready ("d", 200, true)};
    vms[2].active = false;  // inactive records do not count
    size_t victim = 99;
    //  a, b, d are active: 3 + 1 > 3.
    cr_assert (eq (int, s_decide (vms, 4, &victim, NULL), VMCTL_ADMIT_EVICT));
    cr_assert (eq (sz, victim, 1), "b is used least recently");
}

Test (vmctl_admit, eviction_off_refuses)
{
    s_limits.max_running = 1;
    s_limits.evict_idle = false;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, true)};
    size_t victim;
    cr_assert (eq (int, s_decide (vms, 1, &victim, NULL), VMCTL_ADMIT_NO));
}

Test (vmctl_admit, paused_candidates_go_first)
{
    s_limits.max_running = 2;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, true), s_ready ("b", 500, true)};
    vms[1].paused = true;
    size_t victim = 99;
    cr_assert (eq (int, s_decide (vms, 2, &victim, NULL), VMCTL_ADMIT_EVICT));
    cr_assert (eq (sz, victim, 1));
}

Test (vmctl_admit, booting_vms_are_never_evicted)
{
    s_limits.max_running = 1;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, true)};
    vms[0].booting = true;
    size_t victim;
    cr_assert (eq (int, s_decide (vms, 1, &victim, NULL), VMCTL_ADMIT_NO));
}

Test (vmctl_admit, max_booting_refuses_even_with_candidates)
{
    s_limits.max_booting = 1;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, true), s_ready ("b", 1, false)};
    vms[1].booting = true;
    size_t victim;
    const char *why = NULL;
    cr_assert (eq (int, s_decide (vms, 2, &victim, &why), VMCTL_ADMIT_NO));
    cr_assert (eq (str, (char *) why, "max_booting"));
}

Test (vmctl_admit, memory_budget_counts_active_vms_only)
{
    s_limits.memory_budget_mib = 256;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, false), s_ready ("b", 1, false)};
    vms[1].active = false;
    size_t victim;
    cr_assert (eq (int, s_decide (vms, 2, &victim, NULL), VMCTL_ADMIT_YES));
    vms[1].active = true;
    const char *why = NULL;
    cr_assert (eq (int, s_decide (vms, 2, &victim, &why), VMCTL_ADMIT_NO));
    cr_assert (eq (str, (char *) why, "memory_budget_mib"));
}

Test (vmctl_admit, memory_evicts_only_when_the_candidates_can_make_room)
{
    s_limits.memory_budget_mib = 256;
    s_request.memory_kib = 200 * 1024;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, true), s_ready ("b", 2, false)};
    size_t victim;
    //  256 - 128 (b stays) leaves 128 < 200: evicting a would not be enough.
    cr_assert (eq (int, s_decide (vms, 2, &victim, NULL), VMCTL_ADMIT_NO));
    vms[1].candidate = true;
    cr_assert (eq (int, s_decide (vms, 2, &victim, NULL), VMCTL_ADMIT_EVICT));
    cr_assert (eq (sz, victim, 0));
}

Test (vmctl_admit, an_eviction_under_way_makes_the_boot_wait)
{
    s_limits.max_running = 1;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, false)};
    s_request.evicting = 1;
    s_request.evicting_kib = 128 * 1024;
    size_t victim;
    cr_assert (eq (int, s_decide (vms, 1, &victim, NULL), VMCTL_ADMIT_WAIT));
    vms[0].active = false;  // the eviction finished
    cr_assert (eq (int, s_decide (vms, 1, &victim, NULL), VMCTL_ADMIT_YES));
}

Test (vmctl_admit, resuming_a_paused_vm_needs_no_slot)
{
    s_limits.max_running = 1;
    vmctl_admit_vm_t vms[] = {s_ready ("self", 1, false)};
    vms[0].paused = true;
    s_request.needs_slot = false;
    s_request.memory_kib = 0;
    size_t victim;
    cr_assert (eq (int, s_decide (vms, 1, &victim, NULL), VMCTL_ADMIT_YES));
}
