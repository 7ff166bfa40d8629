/*  vmctl_stats: histogram, quantiles, counters in svc.alive.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "vmctl_stats.h"

Test (vmctl_stats, boot_ms_histogram_is_cumulative)
{
    vmctl_stats_t stats = {0};
    vmctl_stats_boot_ms (&stats, 90);
    vmctl_stats_boot_ms (&stats, 300);
    vmctl_stats_boot_ms (&stats, 40000);
    cr_assert (eq (u64, stats.boot_ms_buckets[0], 1), "<= 100");
    cr_assert (eq (u64, stats.boot_ms_buckets[2], 2), "<= 500");
    cr_assert (eq (u64, stats.boot_ms_buckets[VMCTL_STATS_BUCKETS - 2], 2), "<= 30000");
    cr_assert (eq (u64, stats.boot_ms_buckets[VMCTL_STATS_BUCKETS - 1], 3), "+Inf");
    cr_assert (eq (u64, stats.boot_ms_sum, 40390));
}

Test (vmctl_stats, quantiles_by_nearest_rank)
{
    vmctl_samples_t samples = {0};
    cr_assert (eq (i64, vmctl_samples_quantile (&samples, 50), 0));
    for (int value = 100; value >= 1; value--)
        vmctl_samples_add (&samples, value);
    cr_assert (eq (i64, vmctl_samples_quantile (&samples, 50), 50));
    cr_assert (eq (i64, vmctl_samples_quantile (&samples, 99), 99));
    cr_assert (eq (i64, vmctl_samples_quantile (&samples, 100), 100));
}

Test (vmctl_stats, only_the_last_samples_are_kept)
{
    vmctl_samples_t samples = {0};
    for (int index = 0; index < VMCTL_STATS_SAMPLES; index++)
        vmctl_samples_add (&samples, 1000000);
    for (int index = 0; index < VMCTL_STATS_SAMPLES; index++)
        vmctl_samples_add (&samples, 7);
    cr_assert (eq (i64, vmctl_samples_quantile (&samples, 99), 7));
}

Test (vmctl_stats, counters_fit_in_one_svc_alive)
{
    vmctl_stats_t stats = {0};
    stats.boots = 3;
    stats.stops_crash = 2;
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_SVC_ALIVE);
    vmctl_stats_add_counters (&stats, &msg);
    cr_assert (lt (sz, msg.svc_alive.counter_count, (size_t) PROTO_COUNTERS_MAX - 32),
               "room left for the server's gauges");
    bool boots = false, crash = false, inf = false;
    for (size_t index = 0; index < msg.svc_alive.counter_count; index++) {
        const proto_counter_t *counter = &msg.svc_alive.counters[index];
        boots |= streq (counter->name, "boots") && counter->value == 3;
        crash |= streq (counter->name, "stops_crash") && counter->value == 2;
        inf |= streq (counter->name, "boot_ms_le_inf");
    }
    cr_assert (boots && crash && inf);
    proto_msg_reset (&msg);
}

Test (vmctl_stats, libvirt_calls_go_into_a_histogram_per_call)
{
    vmctl_stats_t *stats = (vmctl_stats_t *) calloc (1, sizeof (vmctl_stats_t));
    cr_assert (not (vmctl_stats_call (stats, VMCTL_CALL_RESUME, 17000)));
    cr_assert (not (vmctl_stats_call (stats, VMCTL_CALL_CREATE, 400000)));
    cr_assert (vmctl_stats_call (stats, VMCTL_CALL_CREATE, 18500000), "18.5 s is slow");
    cr_assert (eq (u64, stats->libvirt_slow_calls, 1));
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_SVC_ALIVE);
    vmctl_stats_add_counters (stats, &msg);
    //  One histogram per kind of call made, none for the others.
    cr_assert (eq (sz, msg.svc_alive.histogram_count, 2));
    const proto_histogram_t *create = NULL;
    for (size_t index = 0; index < msg.svc_alive.histogram_count; index++)
        if (streq (msg.svc_alive.histograms[index].labels[0].value, "create"))
            create = &msg.svc_alive.histograms[index];
    cr_assert (not (eq (ptr, (void *) create, NULL)));
    cr_assert (eq (str, (char *) create->name, "libvirt_call_us"));
    cr_assert (eq (str, (char *) create->labels[0].name, "call"));
    cr_assert (eq (sz, create->bound_count, (size_t) VMCTL_CALL_BUCKETS));
    cr_assert (eq (i64, create->counts[VMCTL_CALL_BUCKETS], 2), "+Inf holds both");
    cr_assert (eq (i64, create->sum, 18900000));
    //  The 18.5 s call is only in the top bucket (30 s) and +Inf.
    cr_assert (eq (i64, create->counts[VMCTL_CALL_BUCKETS - 2], 1), "<= 10 s: one");
    cr_assert (eq (i64, create->counts[VMCTL_CALL_BUCKETS - 1], 2), "<= 30 s: both");
    bool p99 = false;
    for (size_t index = 0; index < msg.svc_alive.counter_count; index++) {
        const proto_counter_t *counter = &msg.svc_alive.counters[index];
        p99 |= streq (counter->name, "libvirt_create_us_p99") && counter->value == 18500000;
    }
    cr_assert (p99, "libvirt_create_us_p99 is the slow call");
    //  The whole heartbeat still encodes.
    strcpy (msg.svc_alive.name, "vmctl");
    strcpy (msg.svc_alive.instance, "1");
    strcpy (msg.svc_alive.version, "0");
    proto_error_t error;
    char *text = proto_msg_encode (&msg, &error);
    cr_assert (not (eq (ptr, text, NULL)), "%s", error.text);
    free (text);
    proto_msg_reset (&msg);
    free (stats);
}
