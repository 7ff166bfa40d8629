/*  libvirtd as the suite runs it (deploy/libvirtd-netns) probes QEMU's capabilities once per
    start, never per create, whatever /dev/kvm looks like.

    libvirt 9.0 re-probes (nine QEMU launches, ~18 s, inside the create) when /dev/kvm is usable
    by the QEMU user while its cached probe found no KVM, and checks again whenever /dev/kvm's
    ctime moved. A /dev/null bind-mounted over /dev/kvm did both, and every create took 18-28 s.
    Each test starts libvirtd with an empty capability cache of its own, so exactly one probe
    is right, creates three domains and counts probes in libvirt's debug log
    (tests/e2e/libvirt_probes does the work). Where KVM cannot run the guests (JITSU_KVM=no, the
    suite's verdict on these machines) /dev/kvm is hidden behind a node whose ctime must not
    move after libvirt first sees it.  */

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/new/assert.h>
#include <unistd.h>

#include "proto.h"

#include "test_support.h"

#define S_ROOT   "/tmp/jtp"
#define S_SCRIPT JITSU_SOURCE_DIR "/tests/e2e/libvirt_probes"

//  What one run counted: probes after the start and after each create; /dev/kvm changes seen.
typedef struct {
    int start, create[3], changed;
} s_counts_t;

static void
s_setup (void)
{
    if (!test_is_root ())
        cr_skip_test ("needs root: a libvirtd of its own in namespaces");
    const char *tools[] = {"libvirtd", "virtlogd", "virsh", "qemu-system-x86_64", "unshare"};
    for (size_t index = 0; index < sizeof tools / sizeof tools[0]; index++)
        if (test_shell ("command -v %s >/dev/null", tools[index]))
            cr_skip_test ("%s is not installed (deploy/install-deps)", tools[index]);
    if (test_shell ("ip netns add jtp-check && ip netns del jtp-check"))
        cr_skip_test ("cannot create network namespaces here");
    if (test_shell ("pgrep -x libvirtd >/dev/null") == 0)
        cr_skip_test ("a libvirtd is already running; this test runs its own");
}

TestSuite (libvirt_probes, .init = s_setup, .timeout = 240);

//  The logs stay for a post-mortem when something failed.
ReportHook (POST_ALL) (struct criterion_global_stats *stats)
{
    if (stats->tests_failed == 0 && stats->tests_crashed == 0)
        test_shell ("rm -rf " S_ROOT);
}

//  Run the script for SCENARIO with the KVM verdict and read what it counted.
static s_counts_t
s_run (const char *scenario, const char *kvm)
{
    char *command = zsys_sprintf ("%s %s/%s %s %s 2>%s/%s.err", S_SCRIPT, S_ROOT, scenario,
                                  scenario, kvm, S_ROOT, scenario);
    test_shell ("mkdir -p " S_ROOT);
    FILE *pipe = popen (command, "r");
    cr_assert (not (eq (ptr, pipe, NULL)));
    char line[256] = "";
    if (!fgets (line, sizeof line, pipe))
        line[0] = '\0';
    int status = pclose (pipe);
    zstr_free (&command);
    cr_assert (eq (int, status, 0), "libvirt_probes %s failed: see " S_ROOT "/%s.err (%s)",
               scenario, scenario, line);
    s_counts_t counts;
    int fields = sscanf (line, "start=%d create1=%d create2=%d create3=%d changed=%d",
                         &counts.start, &counts.create[0], &counts.create[1],
                         &counts.create[2], &counts.changed);
    cr_assert (eq (int, fields, 5), "unexpected output: %s", line);
    cr_log_info ("%s (JITSU_KVM=%s): %s", scenario, kvm, line);
    return counts;
}

//  One probe in all (the cache starts empty), none by the creates.
static void
s_assert_one_probe (const s_counts_t *counts)
{
    cr_assert (le (int, counts->start, 1));
    for (int index = 0; index < 3; index++)
        cr_assert (eq (int, counts->create[index], 1),
                   "create %d: %d probes so far, want 1", index + 1, counts->create[index]);
}

Test (libvirt_probes, this_machines_dev_kvm_is_probed_once)
{
    s_counts_t counts = s_run ("machine", "no");
    s_assert_one_probe (&counts);
    cr_assert (le (int, counts.changed, 1), "the hidden /dev/kvm's ctime moved");
}

Test (libvirt_probes, no_dev_kvm_is_probed_once)
{
    s_counts_t counts = s_run ("absent", "no");
    s_assert_one_probe (&counts);
    cr_assert (eq (int, counts.changed, 0));
}

//  The case that cost 18 s per create: a /dev/kvm the QEMU user can open but that is no KVM.
Test (libvirt_probes, a_dev_kvm_usable_by_qemu_but_no_kvm_is_probed_once)
{
    s_counts_t counts = s_run ("open", "no");
    s_assert_one_probe (&counts);
    cr_assert (le (int, counts.changed, 1), "the hidden /dev/kvm's ctime moved");
}

//  Where KVM runs the guests nothing is hidden, and the probe that found KVM stays valid.
Test (libvirt_probes, a_usable_kvm_is_probed_once)
{
    if (access ("/dev/kvm", F_OK))
        cr_skip_test ("this machine has no /dev/kvm to make usable");
    s_counts_t counts = s_run ("kvm", "yes");
    s_assert_one_probe (&counts);
}
