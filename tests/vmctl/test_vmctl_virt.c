/*  vmctl_virt: the libvirt actor and its workers, on test:///default.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <libvirt/libvirt.h>

#include "vmctl_virt.h"

#define S_WAIT_MS 5000

static vmctl_virt_t *s_virt;
static vmctl_note_t s_kept[64];   // notes read while waiting for another kind
static size_t s_kept_count;

static void
s_teardown (void)
{
    for (size_t index = 0; index < s_kept_count; index++)
        vmctl_job_destroy (&s_kept[index].job);
    s_kept_count = 0;
    vmctl_virt_destroy (&s_virt);
}

TestSuite (vmctl_virt, .fini = s_teardown, .timeout = 30);

//  The next note of KIND; notes of other kinds are kept for later calls.
static vmctl_note_t
s_next (vmctl_note_kind_t kind)
{
    vmctl_note_t note;
    for (size_t index = 0; index < s_kept_count; index++)
        if (s_kept[index].kind == kind) {
            note = s_kept[index];
            memmove (&s_kept[index], &s_kept[index + 1],
                     (--s_kept_count - index) * sizeof note);
            return note;
        }
    zpoller_t *poller = zpoller_new (vmctl_virt_sock (s_virt), NULL);
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    memset (&note, 0, sizeof note);
    while (zclock_mono () < deadline) {
        if (vmctl_virt_recv (s_virt, &note) == 0) {
            if (note.kind == kind)
                break;
            cr_assert (lt (sz, s_kept_count, sizeof s_kept / sizeof s_kept[0]));
            s_kept[s_kept_count++] = note;
            memset (&note, 0, sizeof note);
            continue;
        }
        zpoller_wait (poller, 20);
    }
    zpoller_destroy (&poller);
    cr_assert (eq (int, note.kind, kind), "no note of kind %d", kind);
    return note;
}

static vmctl_job_t *
s_run (vmctl_job_t *job)
{
    vmctl_virt_submit (s_virt, &job);
    return s_next (VMCTL_NOTE_DONE).job;
}

static const char *s_xml = "<domain type='test'><name>v1</name><memory>65536</memory>"
                           "<os><type>hvm</type></os><devices><interface type='bridge'>"
                           "<source bridge='br0'/><mac address='52:54:00:00:41:01'/>"
                           "</interface></devices></domain>";

Test (vmctl_virt, connects_and_runs_a_job)
{
    s_virt = vmctl_virt_new ("test:///default", 2, 50, 200);
    cr_assert (not (eq (ptr, s_virt, NULL)));
    vmctl_note_t up = s_next (VMCTL_NOTE_CONNECTION);
    cr_assert (up.up);
    vmctl_job_t *job = vmctl_job_new (VMCTL_JOB_LIST, NULL, NULL);
    vmctl_job_add_domain (job, "svc", "test");  // the driver's own running domain
    vmctl_job_add_domain (job, "none", "nosuch");
    job = s_run (job);
    cr_assert (eq (int, job->rc, 0), "%s", job->error);
    cr_assert (job->domains[0].found);
    cr_assert (eq (int, job->domains[0].state, VIR_DOMAIN_RUNNING));
    cr_assert (eq (str, job->domains[0].name, "test"));
    cr_assert (not (job->domains[1].found));
    cr_assert (eq (sz, vmctl_virt_pending (s_virt), 0));
    vmctl_job_destroy (&job);
}

Test (vmctl_virt, boot_reports_identity_and_lifecycle_events_arrive)
{
    s_virt = vmctl_virt_new ("test:///default", 2, 50, 200);
    s_next (VMCTL_NOTE_CONNECTION);
    vmctl_job_t *job = vmctl_job_new (VMCTL_JOB_BOOT, "v1", "v1");
    job->xml = strdup (s_xml);
    job = s_run (job);
    cr_assert (eq (int, job->rc, 0), "%s", job->error);
    cr_assert (eq (int, job->booted, VMCTL_BOOTED_CREATED));
    cr_assert (eq (str, job->domain.name, "v1"));
    cr_assert (eq (str, job->domain.mac, "52:54:00:00:41:01"));
    cr_assert (eq (str, job->domain.iface, "testnet0"));
    cr_assert (eq (u64, job->domain.memory_kib, 65536));
    cr_assert (ge (i64, job->call_us, job->submitted_us));
    vmctl_job_destroy (&job);
    vmctl_note_t event = s_next (VMCTL_NOTE_EVENT);
    cr_assert (eq (str, event.domain, "v1"));
    cr_assert (eq (int, event.event, VMCTL_EVENT_STARTED));
}

Test (vmctl_virt, jobs_with_one_key_run_in_order)
{
    s_virt = vmctl_virt_new ("test:///default", 4, 50, 200);
    s_next (VMCTL_NOTE_CONNECTION);
    //  boot, destroy, boot, destroy: in order each succeeds and the last leaves it gone.
    for (int round = 0; round < 4; round++) {
        vmctl_job_t *job = vmctl_job_new (round % 2 ? VMCTL_JOB_DESTROY : VMCTL_JOB_BOOT, "v1",
                                          "v1");
        if (round % 2 == 0)
            job->xml = strdup (s_xml);
        job->purpose = round;
        vmctl_virt_submit (s_virt, &job);
    }
    for (int round = 0; round < 4; round++) {
        vmctl_job_t *job = s_next (VMCTL_NOTE_DONE).job;
        cr_assert (eq (int, job->purpose, round));
        cr_assert (eq (int, job->rc, 0), "%s", job->error);
        if (job->kind == VMCTL_JOB_BOOT)
            cr_assert (eq (int, job->booted, VMCTL_BOOTED_CREATED));
        else
            cr_assert (not (job->was_off));
        vmctl_job_destroy (&job);
    }
}

Test (vmctl_virt, unknown_domain_fails_naming_the_call)
{
    s_virt = vmctl_virt_new ("test:///default", 1, 50, 200);
    s_next (VMCTL_NOTE_CONNECTION);
    vmctl_job_t *job = s_run (vmctl_job_new (VMCTL_JOB_BOOT, "x", "nosuch"));
    cr_assert (eq (int, job->rc, -1));
    cr_assert (eq (ptr, strstr (job->error, "virDomainLookupByName: "), job->error));
    vmctl_job_destroy (&job);
    job = s_run (vmctl_job_new (VMCTL_JOB_DESTROY, "x", "nosuch"));
    cr_assert (eq (int, job->rc, 0), "destroying what does not exist is done");
    cr_assert (job->was_off);
    vmctl_job_destroy (&job);
}

Test (vmctl_virt, no_connection_fails_jobs_with_libvirts_reason)
{
    s_virt = vmctl_virt_new ("test:///nonexistent/vmctl-test.xml", 1, 50, 200);
    cr_assert (not (eq (ptr, s_virt, NULL)));
    vmctl_note_t down = s_next (VMCTL_NOTE_CONNECTION);
    cr_assert (not (down.up));
    cr_assert (eq (ptr, strstr (down.message, "virConnectOpen: "), down.message));
    vmctl_job_t *job = s_run (vmctl_job_new (VMCTL_JOB_BOOT, "x", "x"));
    cr_assert (eq (int, job->rc, -1));
    cr_assert (eq (ptr, strstr (job->error, "virConnectOpen: "), job->error));
    vmctl_job_destroy (&job);
}

Test (vmctl_virt, injected_faults_apply_to_their_kind)
{
    s_virt = vmctl_virt_new ("test:///default", 1, 50, 200);
    s_next (VMCTL_NOTE_CONNECTION);
    vmctl_virt_inject (s_virt, VMCTL_JOB_SUSPEND, VMCTL_FAULT_FAIL);
    vmctl_job_t *job = s_run (vmctl_job_new (VMCTL_JOB_SUSPEND, "t", "test"));
    cr_assert (eq (str, job->error, "virDomainSuspend: injected fault"));
    vmctl_job_destroy (&job);
    job = s_run (vmctl_job_new (VMCTL_JOB_STATS, "t", "test"));
    cr_assert (eq (int, job->rc, -1), "no device given: libvirt refuses, no fault involved");
    cr_assert (eq (ptr, strstr (job->error, "virDomainInterfaceStats: "), job->error));
    vmctl_job_destroy (&job);
}

Test (vmctl_virt, only_one_per_process)
{
    s_virt = vmctl_virt_new ("test:///default", 1, 50, 200);
    cr_assert (not (eq (ptr, s_virt, NULL)));
    cr_assert (eq (ptr, vmctl_virt_new ("test:///default", 1, 50, 200), NULL));
    vmctl_virt_destroy (&s_virt);
    s_virt = vmctl_virt_new ("test:///default", 1, 50, 200);
    cr_assert (not (eq (ptr, s_virt, NULL)), "a new one once the first is gone");
}

Test (vmctl_virt, destroy_frees_jobs_still_queued)
{
    s_virt = vmctl_virt_new ("test:///default", 1, 50, 200);
    for (int index = 0; index < 50; index++) {
        vmctl_job_t *job = vmctl_job_new (VMCTL_JOB_LIST, NULL, NULL);
        vmctl_job_add_domain (job, "t", "test");
        vmctl_virt_submit (s_virt, &job);
    }
    vmctl_virt_destroy (&s_virt);  // the sanitizer build checks nothing leaks
    cr_assert (eq (ptr, s_virt, NULL));
}
