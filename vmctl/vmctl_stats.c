/*  vmctl_stats: histogram buckets, sample rings and quantiles.  */

#include "vmctl_stats.h"

static const int64_t s_bucket_ms[VMCTL_STATS_BUCKETS] = {100,  250,   500,   1000,     2000,
                                                         5000, 10000, 30000, INT64_MAX};

//  From a 17 ms resume to a 30 s stall; creates and destroys here take 0.4-2 s.
static const int64_t s_call_bound_us[VMCTL_CALL_BUCKETS] = {
    1000,    5000,    10000,   25000,   50000,    100000,  250000,
    500000,  1000000, 2000000, 5000000, 10000000, 30000000};

int64_t
vmctl_stats_call_bound_us (size_t index)
{
    return index < VMCTL_CALL_BUCKETS ? s_call_bound_us[index] : INT64_MAX;
}

bool
vmctl_stats_call (vmctl_stats_t *self, vmctl_call_t call, int64_t us)
{
    assert (self && call < VMCTL_CALLS);
    if (us < 0)
        us = 0;
    vmctl_call_stats_t *stats = &self->calls[call];
    for (size_t index = 0; index < VMCTL_CALL_BUCKETS; index++)
        if (us <= s_call_bound_us[index])
            stats->buckets[index]++;
    stats->count++;
    stats->sum_us += (uint64_t) us;
    vmctl_samples_add (&stats->recent_us, us);
    bool slow = us > VMCTL_SLOW_CALL_US;
    if (slow)
        self->libvirt_slow_calls++;
    return slow;
}

int64_t
vmctl_stats_bucket_ms (size_t index)
{
    return index < VMCTL_STATS_BUCKETS ? s_bucket_ms[index] : INT64_MAX;
}

void
vmctl_stats_boot_ms (vmctl_stats_t *self, int64_t boot_ms)
{
    assert (self);
    for (size_t index = 0; index < VMCTL_STATS_BUCKETS; index++)
        if (boot_ms <= s_bucket_ms[index])
            self->boot_ms_buckets[index]++;
    self->boot_ms_sum += (uint64_t) (boot_ms > 0 ? boot_ms : 0);
}

void
vmctl_stats_boot_tier (vmctl_stats_t *self, proto_tier_t from, int64_t boot_ms)
{
    assert (self);
    if (from > PROTO_TIER_UNSET && from <= PROTO_TIER_SAVED)
        vmctl_samples_add (&self->boot_ms_from[from], boot_ms);
}

void
vmctl_samples_add (vmctl_samples_t *self, int64_t value)
{
    assert (self);
    self->values[self->count++ % VMCTL_STATS_SAMPLES] = value;
}

static int
s_compare (const void *left, const void *right)
{
    int64_t a = *(const int64_t *) left, b = *(const int64_t *) right;
    return a < b ? -1 : a > b;
}

int64_t
vmctl_samples_quantile (const vmctl_samples_t *self, int quantile)
{
    assert (self);
    size_t kept = self->count < VMCTL_STATS_SAMPLES ? self->count : VMCTL_STATS_SAMPLES;
    if (kept == 0)
        return 0;
    int64_t sorted[VMCTL_STATS_SAMPLES];
    memcpy (sorted, self->values, kept * sizeof (int64_t));
    qsort (sorted, kept, sizeof (int64_t), s_compare);
    //  Nearest rank: the smallest value with at least QUANTILE% of the samples at or below it.
    size_t rank = (size_t) ((quantile * kept + 99) / 100);
    return sorted[rank > 0 ? rank - 1 : 0];
}

void
vmctl_stats_add_counters (const vmctl_stats_t *self, proto_msg_t *msg)
{
    assert (self && msg);
    const proto_counter_t counters[] = {
        {"boots", self->boots},
        {"boots_ready", self->boots_ready},
        {"boot_failures", self->boot_failures},
        {"capacity_refusals", self->capacity_refusals},
        {"boots_joined", self->boots_joined},
        {"reannounces", self->reannounces},
        {"boots_unknown", self->boots_unknown},
        {"evictions", self->evictions},
        {"stops_idle", self->stops_idle},
        {"stops_admin", self->stops_admin},
        {"stops_crash", self->stops_crash},
        {"stops_external", self->stops_external},
        {"stops_failed", self->stops_failed},
        {"stop_fallbacks", self->stop_fallbacks},
        {"stop_failures", self->stop_failures},
        {"adoptions", self->adoptions},
        {"status_fixes", self->status_fixes},
        {"configs_invalid", self->configs_invalid},
        {"libvirt_reconnects", self->libvirt_reconnects},
        {"libvirt_errors", self->libvirt_errors},
        {"traffic_checks", self->traffic_checks},
        {"traffic_kept", self->traffic_kept},
        {"libvirt_slow_calls", self->libvirt_slow_calls},
        {"drains", self->drains},
        {"drains_cancelled", self->drains_cancelled},
        {"restore_failures", self->restore_failures},
        {"demotions", self->demotions},
        {"boot_ms_sum", self->boot_ms_sum},
        {"boot_ms_count", self->boots_ready},
    };
    proto_msg_add_counters (msg, counters, sizeof counters / sizeof counters[0]);
    for (size_t index = 0; index < VMCTL_STATS_BUCKETS; index++) {
        char name[32];
        if (s_bucket_ms[index] == INT64_MAX)
            snprintf (name, sizeof name, "boot_ms_le_inf");
        else
            snprintf (name, sizeof name, "boot_ms_le_%lld", (long long) s_bucket_ms[index]);
        proto_msg_add_counter (msg, name, (int64_t) self->boot_ms_buckets[index]);
    }
    proto_msg_add_counter (msg, "dispatch_us_p50", vmctl_samples_quantile (&self->dispatch_us, 50));
    proto_msg_add_counter (msg, "dispatch_us_p99", vmctl_samples_quantile (&self->dispatch_us, 99));
    proto_msg_add_counter (msg, "announce_us_p50", vmctl_samples_quantile (&self->announce_us, 50));
    proto_msg_add_counter (msg, "announce_us_p99", vmctl_samples_quantile (&self->announce_us, 99));
    proto_msg_add_counter (msg, "latency_samples", (int64_t) self->dispatch_us.count);
    for (proto_tier_t from = PROTO_TIER_OFF; from <= PROTO_TIER_SAVED; from++) {
        char name[PROTO_NAME_MAX + 1];
        snprintf (name, sizeof name, "boot_ms_from_%s_p50", proto_tier_name (from));
        proto_msg_add_counter (msg, name, vmctl_samples_quantile (&self->boot_ms_from[from], 50));
        snprintf (name, sizeof name, "boot_ms_from_%s_p99", proto_tier_name (from));
        proto_msg_add_counter (msg, name, vmctl_samples_quantile (&self->boot_ms_from[from], 99));
    }
    for (vmctl_call_t call = 0; call < VMCTL_CALLS; call++) {
        const vmctl_call_stats_t *stats = &self->calls[call];
        char name[PROTO_NAME_MAX + 1];
        snprintf (name, sizeof name, "libvirt_%s_us_p50", vmctl_call_name (call));
        proto_msg_add_counter (msg, name, vmctl_samples_quantile (&stats->recent_us, 50));
        snprintf (name, sizeof name, "libvirt_%s_us_p99", vmctl_call_name (call));
        proto_msg_add_counter (msg, name, vmctl_samples_quantile (&stats->recent_us, 99));
        if (stats->count == 0)
            continue;  // a histogram for the calls this vmctl makes, not for every kind
        int64_t counts[VMCTL_CALL_BUCKETS + 1];
        for (size_t index = 0; index < VMCTL_CALL_BUCKETS; index++)
            counts[index] = (int64_t) stats->buckets[index];
        counts[VMCTL_CALL_BUCKETS] = (int64_t) stats->count;
        proto_msg_add_histogram (msg, "libvirt_call_us", "call", vmctl_call_name (call),
                                 s_call_bound_us, VMCTL_CALL_BUCKETS, counts,
                                 (int64_t) stats->sum_us);
    }
}
