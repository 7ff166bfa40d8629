/*  vmctl_stats: what vmctl counts, and the latencies it keeps for svc.alive.

    Counters only grow. boot_ms goes into a cumulative histogram (boot_ms_le_N: boots that were
    ready within N ms). The two latencies the benchmark targets, vm.boot received to the
    libvirt call that starts the VM ("dispatch") and readiness seen to vm.ready published
    ("announce", from the moment both the readiness signal and the boot call's return are
    in), keep their last VMCTL_STATS_SAMPLES values, of which svc.alive reports the
    median and the 99th percentile in microseconds.

    Every libvirt call that starts, stops, pauses or saves a VM is timed in its worker: each
    kind of call has a cumulative histogram (svc.alive "histograms": libvirt_call_us) and its
    last VMCTL_STATS_SAMPLES durations (libvirt_CALL_us_p50 / _p99). A call over
    VMCTL_SLOW_CALL_US is counted (libvirt_slow_calls) and logged: libvirt re-probing QEMU
    inside a create once made every create take 18-28 s, and nothing showed it.  */

#ifndef VMCTL_STATS_H_INCLUDED
#define VMCTL_STATS_H_INCLUDED

#include "proto.h"
#include "vmctl_job.h"

#define VMCTL_STATS_SAMPLES 1024
#define VMCTL_STATS_BUCKETS 9
#define VMCTL_CALL_BUCKETS  13           // bounds of the libvirt call histograms
#define VMCTL_SLOW_CALL_US  1000000      // a libvirt call this long is logged as a warning

//  A ring of recent latency samples.
typedef struct {
    int64_t values[VMCTL_STATS_SAMPLES];
    size_t count;            // samples ever added
} vmctl_samples_t;

//  How long one kind of libvirt call took.
typedef struct {
    uint64_t buckets[VMCTL_CALL_BUCKETS];  // cumulative: calls at or below each bound
    uint64_t count;                         // all calls (+Inf)
    uint64_t sum_us;
    vmctl_samples_t recent_us;              // the last VMCTL_STATS_SAMPLES durations
} vmctl_call_stats_t;

//  Everything counted.
typedef struct {
    uint64_t boots;              // boots started (vm.booting or vm.failed follows)
    uint64_t boots_ready;        // vm.ready after a boot
    uint64_t boot_failures;      // vm.failed
    uint64_t capacity_refusals;  // vm.failed "capacity"
    uint64_t boots_joined;       // vm.boot for a boot already in progress
    uint64_t reannounces;        // vm.boot for a VM already ready
    uint64_t boots_unknown;      // vm.boot for a service with no (valid) config
    uint64_t evictions;          // idle VMs stopped to make room
    uint64_t stops_idle, stops_admin, stops_crash, stops_external, stops_failed;
    uint64_t stop_fallbacks;     // a stop mode failed or timed out and destroy followed
    uint64_t stop_failures;      // even destroy failed
    uint64_t adoptions;          // running VMs taken over (reconcile, external start)
    uint64_t status_fixes;       // stale statuses corrected at reconcile
    uint64_t configs_invalid;    // stored service configs refused by proto_service_parse
    uint64_t libvirt_reconnects; // connections made after the first
    uint64_t libvirt_errors;     // jobs that failed
    uint64_t traffic_checks;     // interface counter reads for idle (periodic and at deadlines)
    uint64_t traffic_kept;       // ... that found the guest sending: its idle clock restarted
    uint64_t boot_ms_buckets[VMCTL_STATS_BUCKETS];  // cumulative, see vmctl_stats_bucket_ms
    uint64_t boot_ms_sum;
    vmctl_samples_t dispatch_us; // vm.boot received -> create/start/resume call
    vmctl_samples_t announce_us; // readiness seen -> vm.ready published
    vmctl_call_stats_t calls[VMCTL_CALLS];  // libvirt call durations, by call
    uint64_t libvirt_slow_calls; // calls over VMCTL_SLOW_CALL_US
    vmctl_samples_t boot_ms_from[4];  // boot_ms by the tier it woke from (proto_tier_t)
    uint64_t drains, drains_cancelled;  // drains begun; ... that a query ended
    uint64_t restore_failures;   // save files that did not restore (a cold boot followed)
    uint64_t demotions;          // paused VMs saved because paused memory was over its budget
} vmctl_stats_t;

//  The upper bound of histogram bucket INDEX in ms (the last is INT64_MAX: "+Inf").
int64_t vmctl_stats_bucket_ms (size_t index);

//  Count a successful boot that took BOOT_MS.
void vmctl_stats_boot_ms (vmctl_stats_t *self, int64_t boot_ms);

//  The upper bound of libvirt call histogram bucket INDEX in microseconds.
int64_t vmctl_stats_call_bound_us (size_t index);

//  Count a libvirt call. Returns true when it was slow (over VMCTL_SLOW_CALL_US).
bool vmctl_stats_call (vmctl_stats_t *self, vmctl_call_t call, int64_t us);

//  Count a boot woken FROM a tier that took BOOT_MS.
void vmctl_stats_boot_tier (vmctl_stats_t *self, proto_tier_t from, int64_t boot_ms);

//  Add a latency sample.
void vmctl_samples_add (vmctl_samples_t *self, int64_t value);

//  The QUANTILE (0-100) of the samples kept, 0 when there are none.
int64_t vmctl_samples_quantile (const vmctl_samples_t *self, int quantile);

//  Add every counter of SELF, and a histogram of each kind of libvirt call made, to an
//  svc.alive message.
void vmctl_stats_add_counters (const vmctl_stats_t *self, proto_msg_t *msg);

#endif
