/*  metrics_collector: bus messages into the registry.  */

#include "metrics_collector.h"

//  A process seen in svc.alive.
typedef struct {
    char process[PROTO_NAME_MAX + 1];
    char instance[PROTO_NAME_MAX + 1];
    int64_t last_ms;          // when its last heartbeat arrived
    int64_t interval_ms;      // between its last two heartbeats
} s_process_t;

struct _metrics_collector_t {
    metrics_registry_t *registry;   // borrowed
    int stale;
    zhashx_t *processes;            // "process/instance" -> s_process_t *
    zhashx_t *running;              // service -> (void *) 1
};

#define S_COUNT(array) (sizeof array / sizeof array[0])

static const double s_boot_buckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60};
static const double s_held_buckets[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5};

//  Every series the exporter serves, declared once at start-up.
static void
s_declare (metrics_registry_t *registry)
{
    static const struct {
        const char *name;
        metrics_kind_t kind;
        const char *help;
        const double *buckets;  // histograms only: their upper bounds
        size_t bucket_count;
    } series[] = {
        {"jitsu_up", METRICS_GAUGE,
         "1 while the process's heartbeats arrive, 0 once it missed them.", NULL, 0},
        {"jitsu_uptime_seconds", METRICS_GAUGE,
         "Uptime the process reported in its last heartbeat.", NULL, 0},
        {"jitsu_vm_boot_requests_total", METRICS_COUNTER, "vm.boot requests by service.", NULL, 0},
        {"jitsu_vm_boots_total", METRICS_COUNTER,
         "Boots by service and result (ready or failed).", NULL, 0},
        {"jitsu_vm_boot_seconds", METRICS_HISTOGRAM,
         "Time from vm.boot to vm.ready, by service and the tier it woke from (off, paused, "
         "saved).", s_boot_buckets, S_COUNT (s_boot_buckets)},
        {"jitsu_vms_running", METRICS_GAUGE, "VMs ready and not stopped since.", NULL, 0},
        {"jitsu_vm_stops_total", METRICS_COUNTER, "VM stops by reason.", NULL, 0},
        {"jitsu_vm_failures_total", METRICS_COUNTER,
         "Failed boots by error (up to its first colon).", NULL, 0},
        {"jitsu_syn_held_total", METRICS_COUNTER,
         "SYNs synjitsu held for a booting VM, by service.", NULL, 0},
        {"jitsu_syn_replayed_total", METRICS_COUNTER,
         "SYNs synjitsu replayed to a VM once up, by service.", NULL, 0},
        {"jitsu_syn_held_seconds", METRICS_HISTOGRAM,
         "Longest hold of a replayed batch of SYNs, by service.",
         s_held_buckets, S_COUNT (s_held_buckets)},
        {"jitsu_dns_queries_total", METRICS_COUNTER,
         "Queries for a service, from dns.hits of every dnsd.", NULL, 0},
        {"jitsu_metrics_bus_messages_total", METRICS_COUNTER,
         "Bus messages the exporter received.", NULL, 0},
        {"jitsu_metrics_bus_malformed_total", METRICS_COUNTER,
         "Bus messages the exporter dropped as malformed, by class.", NULL, 0},
        {"jitsu_metrics_bus_gaps_total", METRICS_COUNTER,
         "Messages missing from a publisher's sequence.", NULL, 0},
    };
    for (size_t index = 0; index < S_COUNT (series); index++)
        metrics_registry_declare (registry, series[index].name, series[index].kind,
                                  series[index].help, series[index].buckets,
                                  series[index].bucket_count);
}

static void
s_process_destroy (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

metrics_collector_t *
metrics_collector_new (metrics_registry_t *registry, int stale)
{
    metrics_collector_t *self = (metrics_collector_t *) zmalloc (sizeof (metrics_collector_t));
    self->registry = registry;
    self->stale = stale > 0 ? stale : 3;
    self->processes = zhashx_new ();
    zhashx_set_destructor (self->processes, s_process_destroy);
    self->running = zhashx_new ();
    s_declare (registry);
    return self;
}

void
metrics_collector_destroy (metrics_collector_t **self_p)
{
    assert (self_p);
    metrics_collector_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->processes);
    zhashx_destroy (&self->running);
    free (self);
    *self_p = NULL;
}

//  A label set of one pair.
static void
s_labels (char *labels, const char *key, const char *value)
{
    labels[0] = '\0';
    metrics_registry_label (labels, METRICS_LABELS_MAX, key, value);
}

//  A histogram from svc.alive as family jitsu_PROCESS_NAME, in seconds when its name ends in
//  _us or _ms (libvirt_call_us -> jitsu_vmctl_libvirt_call_seconds), its labels plus instance.
static void
s_on_histogram (metrics_registry_t *registry, const char *process, const char *instance,
                const proto_histogram_t *histogram)
{
    char base[PROTO_NAME_MAX + 1];
    metrics_registry_sanitize (base, sizeof base, histogram->name);
    size_t length = strlen (base);
    double scale = 1;
    if (length > 3 && (streq (base + length - 3, "_us") || streq (base + length - 3, "_ms"))) {
        scale = base[length - 2] == 'u' ? 1e6 : 1e3;
        base[length - 3] = '\0';
    }
    char family[2 * PROTO_NAME_MAX + 32], help[256];
    snprintf (family, sizeof family, "jitsu_%s_%s%s", process, base, scale > 1 ? "_seconds" : "");
    snprintf (help, sizeof help, "Histogram %s as %s reports it in svc.alive%s.", histogram->name,
              process, scale > 1 ? ", in seconds" : "");
    double bounds[METRICS_BUCKETS_MAX];
    uint64_t counts[METRICS_BUCKETS_MAX];
    size_t count = histogram->bound_count < METRICS_BUCKETS_MAX ? histogram->bound_count
                                                                : METRICS_BUCKETS_MAX;
    for (size_t index = 0; index < count; index++) {
        bounds[index] = (double) histogram->bounds[index] / scale;
        counts[index] = (uint64_t) histogram->counts[index];
    }
    metrics_registry_declare (registry, family, METRICS_HISTOGRAM, help, bounds, count);
    char labels[METRICS_LABELS_MAX] = "";
    metrics_registry_label (labels, sizeof labels, "instance", instance);
    for (size_t index = 0; index < histogram->label_count; index++)
        if (!streq (histogram->labels[index].name, "instance"))  // ours: never twice
            metrics_registry_label (labels, sizeof labels, histogram->labels[index].name,
                                    histogram->labels[index].value);
    metrics_registry_set_histogram (registry, family, labels, counts, count,
                                    (uint64_t) histogram->counts[histogram->bound_count],
                                    (double) histogram->sum / scale);
}

static void
s_on_alive (metrics_collector_t *self, const proto_svc_alive_t *alive, int64_t now_ms)
{
    char process[PROTO_NAME_MAX + 1];
    metrics_registry_sanitize (process, sizeof process, alive->name);
    char key[2 * PROTO_NAME_MAX + 2];
    snprintf (key, sizeof key, "%s/%s", process, alive->instance);
    s_process_t *seen = (s_process_t *) zhashx_lookup (self->processes, key);
    if (!seen) {
        if (zhashx_size (self->processes) >= METRICS_PROCESSES_MAX)
            return;  // bounded, like every other label source
        seen = (s_process_t *) zmalloc (sizeof (s_process_t));
        strcpy (seen->process, process);
        strcpy (seen->instance, alive->instance);
        seen->interval_ms = 1000;
        zhashx_insert (self->processes, key, seen);
    }
    else if (now_ms > seen->last_ms)
        seen->interval_ms = now_ms - seen->last_ms;
    seen->last_ms = now_ms;

    char labels[METRICS_LABELS_MAX] = "";
    metrics_registry_label (labels, sizeof labels, "process", process);
    metrics_registry_label (labels, sizeof labels, "instance", alive->instance);
    metrics_registry_set (self->registry, "jitsu_uptime_seconds", labels,
                          (double) alive->uptime_s);
    char instance[METRICS_LABELS_MAX];
    s_labels (instance, "instance", alive->instance);
    for (size_t index = 0; index < alive->counter_count; index++) {
        char counter[PROTO_NAME_MAX + 1], family[2 * PROTO_NAME_MAX + 16], help[256];
        metrics_registry_sanitize (counter, sizeof counter, alive->counters[index].name);
        snprintf (family, sizeof family, "jitsu_%s_%s", process, counter);
        snprintf (help, sizeof help, "Counter %s as %s reports it in svc.alive.", counter,
                  process);
        metrics_registry_declare (self->registry, family, METRICS_GAUGE, help, NULL, 0);
        metrics_registry_set (self->registry, family, instance,
                              (double) alive->counters[index].value);
    }
    for (size_t index = 0; index < alive->histogram_count; index++)
        s_on_histogram (self->registry, process, alive->instance, &alive->histograms[index]);
}

void
metrics_collector_apply (metrics_collector_t *self, const proto_msg_t *msg, int64_t now_ms)
{
    assert (self);
    char labels[METRICS_LABELS_MAX];
    switch (msg->type) {
    case PROTO_MSG_SVC_ALIVE:
        s_on_alive (self, &msg->svc_alive, now_ms);
        break;
    case PROTO_MSG_VM_BOOT:
        s_labels (labels, "service", msg->vm_boot.service);
        metrics_registry_add (self->registry, "jitsu_vm_boot_requests_total", labels, 1);
        break;
    case PROTO_MSG_VM_READY:
        //  A re-announce of a VM already running is not a boot.
        if (msg->vm_ready.via == PROTO_VIA_RUNNING)
            break;
        s_labels (labels, "service", msg->vm_ready.service);
        char tiered[METRICS_LABELS_MAX];
        snprintf (tiered, sizeof tiered, "%s", labels);
        metrics_registry_label (tiered, sizeof tiered, "from",
                                msg->vm_ready.from ? proto_tier_name (msg->vm_ready.from)
                                                   : "off");
        metrics_registry_observe (self->registry, "jitsu_vm_boot_seconds", tiered,
                                  msg->vm_ready.boot_ms / 1000.0);
        metrics_registry_label (labels, sizeof labels, "result", "ready");
        metrics_registry_add (self->registry, "jitsu_vm_boots_total", labels, 1);
        if (zhashx_size (self->running) < METRICS_RUNNING_MAX)
            zhashx_update (self->running, msg->vm_ready.service, (void *) 1);
        break;
    case PROTO_MSG_VM_FAILED: {
        s_labels (labels, "service", msg->vm_failed.service);
        metrics_registry_label (labels, sizeof labels, "result", "failed");
        metrics_registry_add (self->registry, "jitsu_vm_boots_total", labels, 1);
        char error[41];
        snprintf (error, sizeof error, "%.*s", (int) strcspn (msg->vm_failed.error, ":"),
                  msg->vm_failed.error);
        s_labels (labels, "error", error);
        metrics_registry_add (self->registry, "jitsu_vm_failures_total", labels, 1);
        zhashx_delete (self->running, msg->vm_failed.service);
        break;
    }
    case PROTO_MSG_VM_STOPPED:
        s_labels (labels, "reason", proto_reason_name (msg->vm_stop.reason));
        metrics_registry_add (self->registry, "jitsu_vm_stops_total", labels, 1);
        zhashx_delete (self->running, msg->vm_stop.service);
        break;
    case PROTO_MSG_SYN_HELD:
        s_labels (labels, "service", msg->syn_held.service);
        metrics_registry_add (self->registry, "jitsu_syn_held_total", labels, 1);
        break;
    case PROTO_MSG_SYN_REPLAYED:
        s_labels (labels, "service", msg->syn_replayed.service);
        metrics_registry_add (self->registry, "jitsu_syn_replayed_total", labels,
                              (double) msg->syn_replayed.count);
        if (msg->syn_replayed.count > 0)
            metrics_registry_observe (self->registry, "jitsu_syn_held_seconds", labels,
                                      msg->syn_replayed.held_ms / 1000.0);
        break;
    case PROTO_MSG_DNS_HITS:
        s_labels (labels, "service", msg->dns_hits.service);
        metrics_registry_add (self->registry, "jitsu_dns_queries_total", labels,
                              (double) msg->dns_hits.count);
        break;
    default:
        break;
    }
}

void
metrics_collector_refresh (metrics_collector_t *self, int64_t now_ms, proto_sub_t *sub)
{
    assert (self);
    for (s_process_t *process = (s_process_t *) zhashx_first (self->processes); process;
         process = (s_process_t *) zhashx_next (self->processes)) {
        char labels[METRICS_LABELS_MAX] = "";
        metrics_registry_label (labels, sizeof labels, "process", process->process);
        metrics_registry_label (labels, sizeof labels, "instance", process->instance);
        bool up = now_ms - process->last_ms <= self->stale * process->interval_ms;
        metrics_registry_set (self->registry, "jitsu_up", labels, up ? 1 : 0);
    }
    metrics_registry_set (self->registry, "jitsu_vms_running", "",
                          (double) zhashx_size (self->running));
    if (!sub)
        return;
    metrics_registry_set (self->registry, "jitsu_metrics_bus_messages_total", "",
                          (double) proto_sub_received (sub));
    metrics_registry_set (self->registry, "jitsu_metrics_bus_gaps_total", "",
                          (double) proto_sub_gaps (sub));
    for (int code = PROTO_ERR_NOT_JSON; code < PROTO_ERR_COUNT; code++) {
        uint64_t count = proto_sub_malformed_by (sub, (proto_errcode_t) code);
        if (!count)
            continue;
        char labels[METRICS_LABELS_MAX];
        s_labels (labels, "class", proto_errcode_name ((proto_errcode_t) code));
        metrics_registry_set (self->registry, "jitsu_metrics_bus_malformed_total", labels,
                              (double) count);
    }
}
