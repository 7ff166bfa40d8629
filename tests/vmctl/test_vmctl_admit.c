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

//  The policy on the fleet VMS (COUNT of them) must say VERDICT, and name VICTIM (SIZE_MAX: not
//  looked at) and WHY (NULL: not looked at). LINE, the caller's, names the case when it fails.
static void
s_assert_decides (int line, vmctl_admit_vm_t *vms, size_t count, vmctl_admit_verdict_t verdict,
                  size_t victim, const char *why)
{
    size_t chosen = SIZE_MAX;
    const char *reason = NULL;
    cr_assert (eq (int, vmctl_admit_decide (&s_limits, &s_request, vms, count, &chosen, &reason),
                   verdict),
               "line %d", line);
    if (victim != SIZE_MAX)
        cr_assert (eq (sz, chosen, victim), "line %d: the victim", line);
    if (why)
        cr_assert (eq (str, (char *) (reason ? reason : ""), (char *) why), "line %d: why", line);
}
#define S_ASSERT_DECIDES(vms, verdict, victim, why)                                                \
    s_assert_decides (__LINE__, vms, sizeof (vms) / sizeof (vms)[0], verdict, victim, why)

Test (vmctl_admit, no_limits_admit_everything)
{
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, false), s_ready ("b", 2, false)};
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_YES, SIZE_MAX, NULL);
}

Test (vmctl_admit, under_max_running_admits)
{
    s_limits.max_running = 3;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, false), s_ready ("b", 2, false)};
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_YES, SIZE_MAX, NULL);
}

Test (vmctl_admit, full_without_candidates_refuses)
{
    s_limits.max_running = 2;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, false), s_ready ("b", 2, false)};
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_NO, SIZE_MAX, "max_running");
}

Test (vmctl_admit, full_evicts_the_least_recently_used_candidate)
{
    s_limits.max_running = 3;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 300, true), s_ready ("b", 100, true),
                              s_ready ("c", 50, false), s_ready ("d", 200, true)};
    vms[2].active = false;  // inactive records do not count
    //  a, b, d are active: 3 + 1 > 3.
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_EVICT, 1, NULL);  // b is used least recently
}

Test (vmctl_admit, eviction_off_refuses)
{
    s_limits.max_running = 1;
    s_limits.evict_idle = false;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, true)};
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_NO, SIZE_MAX, NULL);
}

Test (vmctl_admit, paused_candidates_go_first)
{
    s_limits.max_running = 2;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, true), s_ready ("b", 500, true)};
    vms[1].paused = true;
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_EVICT, 1, NULL);
}

Test (vmctl_admit, booting_vms_are_never_evicted)
{
    s_limits.max_running = 1;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, true)};
    vms[0].booting = true;
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_NO, SIZE_MAX, NULL);
}

Test (vmctl_admit, max_booting_refuses_even_with_candidates)
{
    s_limits.max_booting = 1;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, true), s_ready ("b", 1, false)};
    vms[1].booting = true;
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_NO, SIZE_MAX, "max_booting");
}

Test (vmctl_admit, memory_budget_counts_active_vms_only)
{
    s_limits.memory_budget_mib = 256;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, false), s_ready ("b", 1, false)};
    vms[1].active = false;
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_YES, SIZE_MAX, NULL);
    vms[1].active = true;
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_NO, SIZE_MAX, "memory_budget_mib");
}

Test (vmctl_admit, memory_evicts_only_when_the_candidates_can_make_room)
{
    s_limits.memory_budget_mib = 256;
    s_request.memory_kib = 200 * 1024;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, true), s_ready ("b", 2, false)};
    //  256 - 128 (b stays) leaves 128 < 200: evicting a would not be enough.
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_NO, SIZE_MAX, NULL);
    vms[1].candidate = true;
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_EVICT, 0, NULL);
}

Test (vmctl_admit, an_eviction_under_way_makes_the_boot_wait)
{
    s_limits.max_running = 1;
    vmctl_admit_vm_t vms[] = {s_ready ("a", 1, false)};
    s_request.evicting = 1;
    s_request.evicting_kib = 128 * 1024;
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_WAIT, SIZE_MAX, NULL);
    vms[0].active = false;  // the eviction finished
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_YES, SIZE_MAX, NULL);
}

Test (vmctl_admit, resuming_a_paused_vm_needs_no_slot)
{
    s_limits.max_running = 1;
    vmctl_admit_vm_t vms[] = {s_ready ("self", 1, false)};
    vms[0].paused = true;
    s_request.needs_slot = false;
    s_request.memory_kib = 0;
    S_ASSERT_DECIDES (vms, VMCTL_ADMIT_YES, SIZE_MAX, NULL);
}
