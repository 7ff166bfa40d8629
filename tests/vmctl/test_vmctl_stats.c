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
