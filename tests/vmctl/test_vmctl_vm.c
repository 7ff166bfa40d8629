/*  vmctl_vm: one VM's state machine, state by event, through an io that records what the VM
    asks for (messages, status writes, jobs, probes). No libvirt: the tests play its part by
    filling in the jobs the VM submitted and handing them back.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "vmctl_vm.h"

static vmctl_config_t s_config;
static vmctl_stats_t *s_stats;
static int64_t s_next_deadline;
static vmctl_io_t s_io;
static vmctl_vm_ctx_t s_ctx;
static char s_log[8192];       // "publish vm.booting; status booting; submit boot; ..."
static zlistx_t *s_jobs;       // vmctl_job_t * submitted and not handed back yet
static vmctl_vm_t *s_vm;

static void
s_note (const char *format, const char *what)
{
    size_t used = strlen (s_log);
    snprintf (s_log + used, sizeof s_log - used, format, what);
}

static void
s_io_publish (void *arg, proto_msg_t *msg)
{
    s_note ("publish %s; ", msg->topic);
    if (msg->type == PROTO_MSG_VM_FAILED)
        s_note ("error=%s; ", msg->vm_failed.error);
    proto_msg_reset (msg);
}

static void
s_io_status (void *arg, const char *service, const proto_status_t *status)
{
    s_note ("status %s; ", proto_state_name (status->state));
}

static void
s_io_submit (void *arg, vmctl_job_t *job)
{
    s_note ("submit %s; ", vmctl_job_kind_name (job->kind));
    zlistx_add_end (s_jobs, job);
}

static void
s_io_probe (void *arg, const char *service, const char *ip, int port)
{
    s_note ("probe %s; ", ip);
}

static void
s_io_unprobe (void *arg, const char *service)
{
    s_note ("unprobe%s; ", "");
}

static void
s_job_free (void **item_p)
{
    vmctl_job_destroy ((vmctl_job_t **) item_p);
}

static void
s_setup (void)
{
    vmctl_config_defaults (&s_config);
    s_config.shutdown_grace_ms = 1000;
    s_stats = (vmctl_stats_t *) calloc (1, sizeof (vmctl_stats_t));
    s_io = (vmctl_io_t) {s_io_publish, s_io_status, s_io_submit, s_io_probe, s_io_unprobe, NULL};
    s_next_deadline = INT64_MAX;
    s_ctx = (vmctl_vm_ctx_t) {.config = &s_config, .io = &s_io, .stats = s_stats,
                              .next_deadline_ms = &s_next_deadline, .connected = true,
                              .reconciled = true};
    s_jobs = zlistx_new ();
    zlistx_set_destructor (s_jobs, s_job_free);
    s_log[0] = '\0';
    s_vm = vmctl_vm_new ("www");
}

static void
s_teardown (void)
{
    vmctl_vm_destroy (&s_vm);
    zlistx_destroy (&s_jobs);
    free (s_stats);
}

TestSuite (vmctl_vm, .init = s_setup, .fini = s_teardown);

//  Configure the VM with EXTRA fields ("\"ready\": \"probe:80\", ") on a template, known to
//  libvirt as absent; the log starts empty.
static void
s_configure (const char *extra)
{
    char text[1024];
    snprintf (text, sizeof text,
              "{\"name\": \"www\", \"dns\": [\"www.example.org\"], \"ip\": \"10.0.0.10\", %s"
              "\"template\": {\"kernel\": \"/boot/vmlinux\", \"bridge\": \"br0\"}}",
              extra);
    json_t *json = json_loads (text, 0, NULL);
    cr_assert (not (eq (ptr, json, NULL)));
    proto_service_t service;
    proto_service_init (&service);
    proto_error_t error;
    cr_assert (eq (int, proto_service_parse (&service, json, "www", &error), 0), "%s",
               error.text);
    json_decref (json);
    vmctl_vm_configure (s_vm, &s_ctx, &service, "jitsu-www");
    proto_service_reset (&service);
    //  Not known yet: it asked libvirt (a LIST); the answer is that there is no such domain.
    zlistx_purge (s_jobs);
    vmctl_vm_check_done (s_vm);
    vmctl_domain_t absent = {.found = false};
    vmctl_vm_reconcile (s_vm, &s_ctx, &absent);
    s_log[0] = '\0';
}

//  The oldest job submitted, now the test's (NULL when none).
static vmctl_job_t *
s_take (vmctl_job_kind_t kind)
{
    vmctl_job_t *job = (vmctl_job_t *) zlistx_first (s_jobs);
    cr_assert (not (eq (ptr, job, NULL)), "no job submitted");
    cr_assert (eq (str, (char *) vmctl_job_kind_name (job->kind),
                   (char *) vmctl_job_kind_name (kind)));
    zlistx_detach_cur (s_jobs);
    return job;
}

//  Hand the oldest job (of KIND) back with RC; a boot returns a running domain.
static unsigned
s_finish (vmctl_job_kind_t kind, int rc)
{
    vmctl_job_t *job = s_take (kind);
    job->rc = rc;
    if (rc)
        snprintf (job->error, sizeof job->error, "%s: injected", vmctl_job_kind_name (kind));
    if (kind == VMCTL_JOB_BOOT && rc == 0) {
        job->domain.found = true;
        job->domain.state = VMCTL_DOMAIN_RUNNING;
        strcpy (job->domain.name, "jitsu-www");
        strcpy (job->domain.uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
        strcpy (job->domain.iface, "q-jitsu-www");
        job->booted = VMCTL_BOOTED_CREATED;
    }
    unsigned effects = vmctl_vm_on_job (s_vm, &s_ctx, job, false);
    vmctl_job_destroy (&job);
    return effects;
}

#define s_assert_state(state)                                                                  \
    cr_assert (eq (str, (char *) vmctl_vm_state_name (vmctl_vm_state (s_vm)),                  \
                   (char *) vmctl_vm_state_name (state)), "log: %s", s_log)
#define s_assert_log(expected) cr_assert (eq (str, s_log, (char *) (expected)))

//  Boot it through admission (YES) up to the running create call.
static void
s_boot_to_creating (void)
{
    cr_assert (eq (u32, vmctl_vm_boot (s_vm, &s_ctx, zclock_mono (), zclock_usecs ()),
                   (unsigned) VMCTL_VM_ADMIT));
    vmctl_vm_admit (s_vm, &s_ctx, VMCTL_ADMIT_YES);
    s_assert_state (VMCTL_VM_CREATING);
}

//  Off --------------------------------------------------------------------------------------

Test (vmctl_vm, off_boot_asks_admission_and_yes_creates_then_writes_booting)
{
    s_configure ("");
    s_boot_to_creating ();
    s_assert_log ("submit boot; status booting; ");
    cr_assert (vmctl_vm_busy (s_vm));
    cr_assert (eq (str, (char *) vmctl_vm_status (s_vm)->boot_id, "www-1"));
}

Test (vmctl_vm, off_boot_refused_fails_with_capacity)
{
    s_configure ("");
    vmctl_vm_boot (s_vm, &s_ctx, zclock_mono (), zclock_usecs ());
    vmctl_vm_admit (s_vm, &s_ctx, VMCTL_ADMIT_NO);
    s_assert_state (VMCTL_VM_FAILED);
    s_assert_log ("publish vm.failed; error=capacity; status failed; ");
    cr_assert (eq (u64, s_stats->capacity_refusals, 1));
}

Test (vmctl_vm, capacity_wait_then_ready_timeout_fails_with_capacity)
{
    s_configure ("");
    vmctl_vm_boot (s_vm, &s_ctx, zclock_mono (), zclock_usecs ());
    vmctl_vm_admit (s_vm, &s_ctx, VMCTL_ADMIT_WAIT);
    s_assert_state (VMCTL_VM_CAPACITY);
    vmctl_vm_tick (s_vm, &s_ctx, vmctl_vm_deadline (s_vm));
    s_assert_state (VMCTL_VM_FAILED);
    s_assert_log ("status booting; publish vm.failed; error=capacity; status failed; ");
}

//  Booting ----------------------------------------------------------------------------------

Test (vmctl_vm, creating_then_probe_then_ready)
{
    s_configure ("\"ready\": \"probe:80\", ");
    s_boot_to_creating ();
    s_log[0] = '\0';
    s_finish (VMCTL_JOB_BOOT, 0);
    s_assert_state (VMCTL_VM_READYING);
    s_assert_log ("publish vm.booting; probe 10.0.0.10; ");
    vmctl_vm_on_probe (s_vm, &s_ctx, zclock_usecs ());
    s_assert_state (VMCTL_VM_READY);
    cr_assert (eq (u64, s_stats->boots_ready, 1));
    cr_assert (eq (str, (char *) vmctl_vm_domain (s_vm)->iface, "q-jitsu-www"));
}

Test (vmctl_vm, response_delay_waits_in_delaying_then_announces)
{
    s_configure ("\"ready\": \"event\", \"response_delay_ms\": 300, ");
    s_boot_to_creating ();
    //  libvirt says started before the call returns.
    vmctl_vm_on_event (s_vm, &s_ctx, VMCTL_EVENT_STARTED, zclock_usecs ());
    s_finish (VMCTL_JOB_BOOT, 0);
    s_assert_state (VMCTL_VM_DELAYING);
    s_log[0] = '\0';
    vmctl_vm_tick (s_vm, &s_ctx, vmctl_vm_deadline (s_vm));
    s_assert_state (VMCTL_VM_READY);
    s_assert_log ("publish vm.ready; status ready; submit stats; ");  // the traffic baseline
}

Test (vmctl_vm, a_boot_for_a_booting_vm_joins_and_for_a_ready_one_reannounces)
{
    s_configure ("");
    s_boot_to_creating ();
    cr_assert (eq (u32, vmctl_vm_boot (s_vm, &s_ctx, zclock_mono (), zclock_usecs ()), 0u));
    cr_assert (eq (u64, s_stats->boots_joined, 1));
    s_finish (VMCTL_JOB_BOOT, 0);  // ready=event: the boot was already running
    vmctl_vm_on_event (s_vm, &s_ctx, VMCTL_EVENT_STARTED, zclock_usecs ());
    s_assert_state (VMCTL_VM_READY);
    s_log[0] = '\0';
    vmctl_vm_boot (s_vm, &s_ctx, zclock_mono (), zclock_usecs ());
    s_assert_log ("publish vm.booting; publish vm.ready; ");
    cr_assert (eq (u64, s_stats->reannounces, 1));
}

Test (vmctl_vm, a_failed_create_fails_the_boot)
{
    s_configure ("");
    s_boot_to_creating ();
    s_log[0] = '\0';
    s_finish (VMCTL_JOB_BOOT, -1);
    s_assert_state (VMCTL_VM_FAILED);
    s_assert_log ("publish vm.failed; error=boot: injected; status failed; ");
}

Test (vmctl_vm, ready_timeout_during_the_create_stops_what_it_made_then_fails)
{
    s_configure ("");
    s_boot_to_creating ();
    vmctl_vm_tick (s_vm, &s_ctx, vmctl_vm_deadline (s_vm));
    cr_assert (eq (int, vmctl_vm_pending (s_vm), VMCTL_VM_PENDING_ABANDON));
    s_assert_state (VMCTL_VM_CREATING);
    s_log[0] = '\0';
    s_finish (VMCTL_JOB_BOOT, 0);
    s_assert_state (VMCTL_VM_STOP_CALL);
    s_assert_log ("status stopping; publish vm.stopping; submit destroy; ");
    s_log[0] = '\0';
    cr_assert (eq (u32, s_finish (VMCTL_JOB_DESTROY, 0), (unsigned) VMCTL_VM_ROOM));
    s_assert_state (VMCTL_VM_FAILED);
    s_assert_log ("publish vm.stopped; publish vm.failed; error=ready_timeout: the boot call took "
                  "longer than 10000 ms; status failed; ");
}

Test (vmctl_vm, readying_past_its_timeout_is_destroyed_then_failed)
{
    s_configure ("\"ready\": \"probe:80\", ");
    s_boot_to_creating ();
    s_finish (VMCTL_JOB_BOOT, 0);
    s_log[0] = '\0';
    vmctl_vm_tick (s_vm, &s_ctx, vmctl_vm_deadline (s_vm));
    s_assert_log ("unprobe; status stopping; publish vm.stopping; submit destroy; ");
    s_finish (VMCTL_JOB_DESTROY, 0);
    cr_assert (not (eq (ptr, strstr (s_log, "error=ready_timeout: not ready after 10000 ms "
                                            "(ready=probe)"), NULL)), "%s", s_log);
}

//  Stopping and the tiers ------------------------------------------------------------------

//  Boot to ready (ready=event, idle on queries only) with the idle settings LADDER ("\"stop_mode\":
//  \"save\", " or an idle_ladder), a TTL of 1 s.
static void
s_ready_with (const char *ladder)
{
    char extra[512];
    snprintf (extra, sizeof extra, "\"idle_on\": \"dns\", \"ttl\": 1, %s", ladder);
    s_configure (extra);
    s_boot_to_creating ();
    s_finish (VMCTL_JOB_BOOT, 0);
    vmctl_vm_on_event (s_vm, &s_ctx, VMCTL_EVENT_STARTED, zclock_usecs ());
    s_assert_state (VMCTL_VM_READY);
    s_log[0] = '\0';
}

//  Boot to ready with the one-step ladder idle_timeout_s 1 and STOP_MODE, and let it go idle:
//  after the drain where the mode asks for one.
static void
s_ready_then_idle (const char *stop_mode)
{
    char extra[256];
    snprintf (extra, sizeof extra, "\"idle_timeout_s\": 1, \"stop_mode\": \"%s\", ", stop_mode);
    s_ready_with (extra);
    vmctl_vm_idle_check (s_vm, &s_ctx, zclock_mono () + 1000);
    if (vmctl_vm_state (s_vm) == VMCTL_VM_DRAINING)
        vmctl_vm_tick (s_vm, &s_ctx, vmctl_vm_deadline (s_vm));
    s_assert_state (VMCTL_VM_STOP_CALL);
}

Test (vmctl_vm, idle_suspend_goes_to_the_paused_tier_without_a_drain)
{
    s_ready_then_idle ("suspend");
    s_assert_log ("status stopping; publish vm.stopping; submit suspend; ");
    cr_assert (eq (u32, s_finish (VMCTL_JOB_SUSPEND, 0), (unsigned) VMCTL_VM_ROOM));
    s_assert_state (VMCTL_VM_PAUSED);
    cr_assert (eq (str, (char *) proto_state_name (vmctl_vm_status (s_vm)->state), "paused"));
    cr_assert (vmctl_vm_domain (s_vm)->active && vmctl_vm_domain (s_vm)->paused);
}

Test (vmctl_vm, a_save_drains_first_then_goes_to_the_saved_tier)
{
    s_ready_with ("\"idle_timeout_s\": 1, \"stop_mode\": \"save\", ");
    vmctl_vm_idle_check (s_vm, &s_ctx, zclock_mono () + 1000);
    s_assert_state (VMCTL_VM_DRAINING);
    s_assert_log ("publish vm.draining; status draining; ");
    cr_assert (eq (sz, zlistx_size (s_jobs), 0), "nothing is done during the drain");
    s_log[0] = '\0';
    vmctl_vm_tick (s_vm, &s_ctx, vmctl_vm_deadline (s_vm));
    s_assert_log ("status stopping; publish vm.stopping; submit save; ");
    vmctl_job_t *save = (vmctl_job_t *) zlistx_first (s_jobs);
    cr_assert (not (eq (ptr, strstr (save->domain.save_path, "/www-"), NULL)), "%s",
               save->domain.save_path);
    s_finish (VMCTL_JOB_SAVE, 0);
    s_assert_state (VMCTL_VM_SAVED);
    cr_assert (not (vmctl_vm_domain (s_vm)->active));
    cr_assert (eq (u64, s_stats->drains, 1));
}

Test (vmctl_vm, a_query_during_the_drain_keeps_the_vm_ready)
{
    s_ready_with ("\"idle_timeout_s\": 1, \"stop_mode\": \"destroy\", ");
    vmctl_vm_idle_check (s_vm, &s_ctx, zclock_mono () + 1000);
    s_assert_state (VMCTL_VM_DRAINING);
    s_log[0] = '\0';
    vmctl_vm_used (s_vm, &s_ctx, zclock_mono ());
    s_assert_state (VMCTL_VM_READY);
    s_assert_log ("publish vm.booting; publish vm.ready; status ready; ");
    cr_assert (eq (i64, vmctl_vm_deadline (s_vm), 0), "the step is off");
    cr_assert (eq (u64, s_stats->drains_cancelled, 1));
}

Test (vmctl_vm, a_ladder_walks_paused_then_saved_then_off_by_time)
{
    s_ready_with ("\"idle_ladder\": [{\"after_s\": 2, \"mode\": \"suspend\"}, {\"after_s\": 5, "
                  "\"mode\": \"save\"}, {\"after_s\": 9, \"mode\": \"destroy\"}], ");
    int64_t used = vmctl_vm_last_used (s_vm);
    vmctl_vm_idle_check (s_vm, &s_ctx, used + 1999);
    s_assert_state (VMCTL_VM_READY);
    vmctl_vm_idle_check (s_vm, &s_ctx, used + 2000);
    s_finish (VMCTL_JOB_SUSPEND, 0);
    s_assert_state (VMCTL_VM_PAUSED);
    vmctl_vm_idle_check (s_vm, &s_ctx, used + 4999);
    s_assert_state (VMCTL_VM_PAUSED);
    vmctl_vm_idle_check (s_vm, &s_ctx, used + 5000);  // no drain: it is unreachable already
    s_finish (VMCTL_JOB_SAVE, 0);
    s_assert_state (VMCTL_VM_SAVED);
    vmctl_vm_idle_check (s_vm, &s_ctx, used + 9000);
    vmctl_job_t *destroy = (vmctl_job_t *) zlistx_first (s_jobs);
    cr_assert (not (eq (ptr, destroy, NULL)));
    cr_assert (not (eq (ptr, strstr (destroy->domain.save_path, "/www-"), NULL)),
               "the destroy removes the save file: [%s]", destroy->domain.save_path);
    s_finish (VMCTL_JOB_DESTROY, 0);
    s_assert_state (VMCTL_VM_OFF);
    vmctl_vm_idle_check (s_vm, &s_ctx, used + 99000);
    cr_assert (eq (sz, zlistx_size (s_jobs), 0), "the bottom of the ladder");
}

Test (vmctl_vm, waking_from_each_tier_says_where_it_came_from)
{
    vmctl_booted_t booted[] = {VMCTL_BOOTED_RESUMED, VMCTL_BOOTED_RESTORED, VMCTL_BOOTED_CREATED};
    proto_tier_t tiers[] = {PROTO_TIER_PAUSED, PROTO_TIER_SAVED, PROTO_TIER_OFF};
    s_configure ("");
    for (int index = 0; index < 3; index++) {
        s_boot_to_creating ();
        vmctl_job_t *job = s_take (VMCTL_JOB_BOOT);
        job->domain.found = true;
        job->domain.state = VMCTL_DOMAIN_RUNNING;
        job->booted = booted[index];
        vmctl_vm_on_job (s_vm, &s_ctx, job, false);
        vmctl_job_destroy (&job);
        vmctl_vm_on_event (s_vm, &s_ctx, VMCTL_EVENT_STARTED, zclock_usecs ());
        s_assert_state (VMCTL_VM_READY);
        cr_assert (eq (int, vmctl_vm_status (s_vm)->from, tiers[index]));
        //  Back to off for the next round.
        vmctl_domain_t off = {.found = false};
        vmctl_vm_reconcile (s_vm, &s_ctx, &off);
        zlistx_purge (s_jobs);
    }
}

Test (vmctl_vm, a_restore_that_failed_counts_and_the_cold_boot_is_from_off)
{
    s_configure ("");
    s_boot_to_creating ();
    vmctl_job_t *job = s_take (VMCTL_JOB_BOOT);
    job->domain.found = true;
    job->domain.state = VMCTL_DOMAIN_RUNNING;
    job->booted = VMCTL_BOOTED_CREATED;
    strcpy (job->note, "virDomainRestoreFlags: image is corrupt");
    vmctl_vm_on_job (s_vm, &s_ctx, job, false);
    vmctl_job_destroy (&job);
    cr_assert (eq (u64, s_stats->restore_failures, 1));
    vmctl_vm_on_event (s_vm, &s_ctx, VMCTL_EVENT_STARTED, zclock_usecs ());
    cr_assert (eq (int, vmctl_vm_status (s_vm)->from, PROTO_TIER_OFF));
}

Test (vmctl_vm, a_failed_mode_falls_to_the_next_harsher_one)
{
    s_ready_then_idle ("suspend");
    s_finish (VMCTL_JOB_SUSPEND, -1);
    vmctl_job_t *next = (vmctl_job_t *) zlistx_first (s_jobs);
    cr_assert (eq (int, next->kind, VMCTL_JOB_SAVE), "suspend, then save");
    s_finish (VMCTL_JOB_SAVE, -1);
    next = (vmctl_job_t *) zlistx_first (s_jobs);
    cr_assert (eq (int, next->kind, VMCTL_JOB_SHUTDOWN), "save, then shutdown");
    s_finish (VMCTL_JOB_SHUTDOWN, -1);
    s_finish (VMCTL_JOB_DESTROY, 0);
    s_assert_state (VMCTL_VM_OFF);
    cr_assert (eq (u64, s_stats->stop_fallbacks, 3));
}

Test (vmctl_vm, a_paused_vm_demoted_is_saved)
{
    s_ready_then_idle ("suspend");
    s_finish (VMCTL_JOB_SUSPEND, 0);
    vmctl_vm_demote (s_vm, &s_ctx);
    s_finish (VMCTL_JOB_SAVE, 0);
    s_assert_state (VMCTL_VM_SAVED);
    cr_assert (eq (u64, s_stats->demotions, 1));
}

Test (vmctl_vm, prepared_it_boots_then_parks_in_the_tier)
{
    s_configure ("");
    cr_assert (eq (u32, vmctl_vm_prepare (s_vm, &s_ctx, PROTO_MODE_SAVE, zclock_mono (),
                                          zclock_usecs ()), (unsigned) VMCTL_VM_ADMIT));
    vmctl_vm_admit (s_vm, &s_ctx, VMCTL_ADMIT_YES);
    cr_assert (eq (int, vmctl_vm_pending (s_vm), VMCTL_VM_PENDING_PARK));
    s_finish (VMCTL_JOB_BOOT, 0);
    s_log[0] = '\0';
    vmctl_vm_on_event (s_vm, &s_ctx, VMCTL_EVENT_STARTED, zclock_usecs ());
    s_assert_log ("publish vm.ready; status ready; status stopping; publish vm.stopping; "
                  "submit save; ");
    s_finish (VMCTL_JOB_SAVE, 0);
    s_assert_state (VMCTL_VM_SAVED);
}

Test (vmctl_vm, shutdown_waits_its_grace_then_destroys_and_counts_a_fallback)
{
    s_ready_then_idle ("shutdown");
    s_finish (VMCTL_JOB_SHUTDOWN, 0);
    s_assert_state (VMCTL_VM_STOP_GRACE);
    cr_assert (not (vmctl_vm_busy (s_vm)));
    vmctl_vm_tick (s_vm, &s_ctx, vmctl_vm_deadline (s_vm));
    s_assert_state (VMCTL_VM_STOP_CALL);
    s_finish (VMCTL_JOB_DESTROY, 0);  // found it up: destroyed it
    s_assert_state (VMCTL_VM_OFF);
    cr_assert (eq (u64, s_stats->stop_fallbacks, 1));
}

Test (vmctl_vm, a_guest_that_powers_off_in_the_grace_was_shut_down)
{
    s_ready_then_idle ("shutdown");
    s_finish (VMCTL_JOB_SHUTDOWN, 0);
    vmctl_vm_on_event (s_vm, &s_ctx, VMCTL_EVENT_STOPPED, zclock_usecs ());
    vmctl_job_t *destroy = s_take (VMCTL_JOB_DESTROY);
    destroy->was_off = true;
    s_log[0] = '\0';
    vmctl_vm_on_job (s_vm, &s_ctx, destroy, false);
    vmctl_job_destroy (&destroy);
    s_assert_log ("publish vm.stopped; status off; ");
    cr_assert (eq (u64, s_stats->stop_fallbacks, 0));
}

Test (vmctl_vm, a_boot_during_a_stop_is_due_once_off)
{
    s_ready_then_idle ("destroy");
    vmctl_vm_boot (s_vm, &s_ctx, zclock_mono (), zclock_usecs ());
    cr_assert (eq (int, vmctl_vm_pending (s_vm), VMCTL_VM_PENDING_BOOT));
    unsigned effects = s_finish (VMCTL_JOB_DESTROY, 0);
    cr_assert (eq (u32, effects, (unsigned) (VMCTL_VM_ROOM | VMCTL_VM_BOOT_DUE)));
    int64_t received_ms, received_us;
    cr_assert (vmctl_vm_take_boot (s_vm, &received_ms, &received_us));
    cr_assert (not (vmctl_vm_take_boot (s_vm, &received_ms, &received_us)), "once");
}

Test (vmctl_vm, a_stop_asked_during_the_create_replaces_any_weaker_intent)
{
    s_configure ("");
    s_boot_to_creating ();
    vmctl_vm_check (s_vm, &s_ctx);
    cr_assert (eq (int, vmctl_vm_pending (s_vm), VMCTL_VM_PENDING_CHECK));
    vmctl_vm_unconfigure (s_vm, &s_ctx);  // the service was removed mid-create
    cr_assert (eq (int, vmctl_vm_pending (s_vm), VMCTL_VM_PENDING_STOP));
    vmctl_vm_tick (s_vm, &s_ctx, vmctl_vm_deadline (s_vm));
    cr_assert (eq (int, vmctl_vm_pending (s_vm), VMCTL_VM_PENDING_STOP), "stop outranks abandon");
    s_log[0] = '\0';
    s_finish (VMCTL_JOB_BOOT, 0);
    s_assert_state (VMCTL_VM_STOP_CALL);
    s_assert_log ("status stopping; publish vm.stopping; submit destroy; ");
    s_finish (VMCTL_JOB_DESTROY, 0);
    cr_assert (not (eq (ptr, strstr (s_log, "error=stopped during the boot: admin"), NULL)));
}

Test (vmctl_vm, a_failed_destroy_leaves_it_failed_and_is_tried_again)
{
    s_ready_then_idle ("destroy");
    s_finish (VMCTL_JOB_DESTROY, -1);
    s_assert_state (VMCTL_VM_FAILED);
    cr_assert (eq (u64, s_stats->stop_failures, 1));
    vmctl_vm_idle_check (s_vm, &s_ctx, zclock_mono ());
    cr_assert (eq (sz, zlistx_size (s_jobs), 0), "not before 5 s");
    vmctl_vm_idle_check (s_vm, &s_ctx, zclock_mono () + 5000);
    s_assert_state (VMCTL_VM_STOP_CALL);
}

//  Reconcile and events ---------------------------------------------------------------------

static vmctl_domain_t
s_domain (vmctl_domain_state_t state)
{
    vmctl_domain_t domain = {.found = true, .state = state};
    strcpy (domain.name, "jitsu-www");
    strcpy (domain.uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
    return domain;
}

Test (vmctl_vm, a_domain_found_running_while_off_is_adopted)
{
    s_configure ("");
    vmctl_domain_t running = s_domain (VMCTL_DOMAIN_RUNNING);
    vmctl_vm_reconcile (s_vm, &s_ctx, &running);
    s_assert_state (VMCTL_VM_READY);
    s_assert_log ("status ready; ");
    cr_assert (eq (u64, s_stats->adoptions, 1));
}

Test (vmctl_vm, an_interrupted_boot_resumes_or_fails)
{
    proto_status_t stored = {.state = PROTO_STATE_BOOTING, .boots = 3};
    strcpy (stored.boot_id, "www-3");
    vmctl_vm_restore (s_vm, &stored);
    s_assert_state (VMCTL_VM_BOOT_INTERRUPTED);
    s_ctx.startup = true;
    s_configure ("\"ready\": \"probe:80\", ");  // its reconcile found no domain
    s_assert_state (VMCTL_VM_FAILED);
    cr_assert (eq (str, (char *) vmctl_vm_status (s_vm)->last_error,
                   "vmctl restarted before the boot completed"));
    vmctl_vm_restore (s_vm, &stored);
    vmctl_domain_t running = s_domain (VMCTL_DOMAIN_RUNNING);
    vmctl_vm_reconcile (s_vm, &s_ctx, &running);
    s_assert_state (VMCTL_VM_READYING);
    cr_assert (eq (str, (char *) vmctl_vm_status (s_vm)->boot_id, "www-3"), "same boot");
}

Test (vmctl_vm, a_ready_domain_that_went_away_is_checked_then_stopped_external)
{
    s_configure ("");
    vmctl_domain_t running = s_domain (VMCTL_DOMAIN_RUNNING);
    vmctl_vm_reconcile (s_vm, &s_ctx, &running);
    s_log[0] = '\0';
    vmctl_vm_on_event (s_vm, &s_ctx, VMCTL_EVENT_STOPPED, zclock_usecs ());
    s_assert_log ("submit list; ");
    s_assert_state (VMCTL_VM_READY);  // a hint, until confirmed
    vmctl_domain_t off = s_domain (VMCTL_DOMAIN_OFF);
    s_log[0] = '\0';
    cr_assert (eq (u32, vmctl_vm_reconcile (s_vm, &s_ctx, &off), (unsigned) VMCTL_VM_ROOM));
    s_assert_state (VMCTL_VM_OFF);
    s_assert_log ("publish vm.stopped; status off; ");
    cr_assert (eq (u64, s_stats->stops_external, 1));
}

Test (vmctl_vm, a_crash_event_makes_the_vanished_stop_a_crash)
{
    s_configure ("");
    vmctl_domain_t running = s_domain (VMCTL_DOMAIN_RUNNING);
    vmctl_vm_reconcile (s_vm, &s_ctx, &running);
    vmctl_vm_on_event (s_vm, &s_ctx, VMCTL_EVENT_CRASHED, zclock_usecs ());
    vmctl_domain_t off = s_domain (VMCTL_DOMAIN_OFF);
    vmctl_vm_reconcile (s_vm, &s_ctx, &off);
    cr_assert (eq (u64, s_stats->stops_crash, 1));
}

Test (vmctl_vm, an_eviction_whose_counters_moved_keeps_the_vm)
{
    s_configure ("\"idle_on\": \"dns+traffic\", ");
    s_boot_to_creating ();
    s_finish (VMCTL_JOB_BOOT, 0);
    vmctl_vm_on_event (s_vm, &s_ctx, VMCTL_EVENT_STARTED, zclock_usecs ());
    vmctl_job_t *baseline = s_take (VMCTL_JOB_STATS);
    vmctl_vm_on_job (s_vm, &s_ctx, baseline, false);
    vmctl_vm_evict (s_vm, &s_ctx);
    vmctl_job_t *reading = s_take (VMCTL_JOB_STATS);
    reading->traffic.tx_packets = 7;  // it sent something since
    cr_assert (eq (u32, vmctl_vm_on_job (s_vm, &s_ctx, reading, true), (unsigned) VMCTL_VM_KEPT));
    s_assert_state (VMCTL_VM_READY);
    vmctl_job_destroy (&baseline);
    vmctl_job_destroy (&reading);
}

//  The README ---------------------------------------------------------------------------------

//  Every state is in vmctl/README.md's diagram, and the diagram names no other state.
Test (vmctl_vm, the_readme_diagram_has_every_state_and_no_other)
{
    FILE *file = fopen (JITSU_SOURCE_DIR "/vmctl/README.md", "r");
    cr_assert (not (eq (ptr, file, NULL)));
    char line[512];
    bool inside = false, seen[VMCTL_VM_STATES] = {false};
    int lines = 0;
    while (fgets (line, sizeof line, file)) {
        if (strstr (line, "```mermaid")) {
            inside = true;
            continue;
        }
        if (inside && strstr (line, "```"))
            break;
        if (!inside || !strstr (line, "-->"))
            continue;
        lines++;
        //  "    off --> capacity: vm.boot, admission waits"
        char from[64], to[64];
        int fields = sscanf (line, " %63[][a-z_*] --> %63[][a-z_*]", from, to);
        cr_assert (eq (int, fields, 2), "%s", line);
        const char *ends[] = {from, to};
        for (int end = 0; end < 2; end++) {
            if (streq (ends[end], "[*]"))
                continue;
            int state = 0;
            while (state < VMCTL_VM_STATES && !streq (vmctl_vm_state_name (state), ends[end]))
                state++;
            cr_assert (lt (int, state, VMCTL_VM_STATES), "not a state: %s", ends[end]);
            seen[state] = true;
        }
    }
    fclose (file);
    cr_assert (gt (int, lines, 10), "no mermaid diagram found");
    for (int state = 0; state < VMCTL_VM_STATES; state++)
        cr_assert (seen[state], "the diagram lacks %s", vmctl_vm_state_name (state));
}
