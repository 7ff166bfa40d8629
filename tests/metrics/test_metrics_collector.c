/*  metrics_collector: known sequences of bus messages move the right metrics.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "metrics_collector.h"

static metrics_registry_t *s_registry;
static metrics_collector_t *s_collector;

static void
s_setup (void)
{
    s_registry = metrics_registry_new (100);
    s_collector = metrics_collector_new (s_registry, 3);
}

static void
s_teardown (void)
{
    metrics_collector_destroy (&s_collector);
    metrics_registry_destroy (&s_registry);
}

//  Decode TEXT as a message of TOPIC and apply it at NOW_MS.
static void
s_apply (const char *topic, const char *body, int64_t now_ms)
{
    char text[1024];
    snprintf (text, sizeof text, "{\"v\":1,\"type\":\"%s\",\"src\":\"t/1\",\"seq\":1,\"ts\":1,"
                                 "\"body\":%s}", topic, body);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    proto_error_t error;
    cr_assert (eq (int, proto_msg_decode (&msg, topic, text, strlen (text), &error), 0), "%s",
               error.text);
    metrics_collector_apply (s_collector, &msg, now_ms);
    proto_msg_reset (&msg);
}

static bool
s_rendered (const char *line, int64_t now_ms)
{
    metrics_collector_refresh (s_collector, now_ms, NULL);
    char *text = metrics_registry_render (s_registry);
    bool found = strstr (text, line) != NULL;
    if (!found)
        cr_log_info ("%s", text);
    free (text);
    return found;
}

TestSuite (metrics_collector, .init = s_setup, .fini = s_teardown);

Test (metrics_collector, boots_stops_and_failures_are_counted)
{
    s_apply ("vm.boot", "{\"service\":\"www\",\"request_id\":\"r\"}", 1000);
    s_apply ("vm.ready", "{\"service\":\"www\",\"boot_id\":\"b\",\"ip\":\"10.0.0.1\",\"via\":"
                         "\"probe\",\"boot_ms\":1500}", 1000);
    s_apply ("vm.ready", "{\"service\":\"www\",\"boot_id\":\"b\",\"ip\":\"10.0.0.1\",\"via\":"
                         "\"running\",\"boot_ms\":0}", 1000);
    cr_assert (s_rendered ("jitsu_vm_boots_total{service=\"www\",result=\"ready\"} 1\n", 1000),
               "a re-announce is not a boot");
    cr_assert (s_rendered ("jitsu_vm_boot_seconds_bucket{service=\"www\",from=\"off\","
                           "le=\"2\"} 1\n", 1000));
    cr_assert (s_rendered ("jitsu_vm_boot_seconds_bucket{service=\"www\",from=\"off\","
                           "le=\"1\"} 0\n", 1000));
    s_apply ("vm.ready", "{\"service\":\"www\",\"boot_id\":\"c\",\"ip\":\"10.0.0.1\",\"via\":"
                         "\"probe\",\"boot_ms\":20,\"from\":\"paused\"}", 1000);
    cr_assert (s_rendered ("jitsu_vm_boot_seconds_bucket{service=\"www\",from=\"paused\","
                           "le=\"0.05\"} 1\n", 1000), "one histogram series per tier");
    cr_assert (s_rendered ("jitsu_vms_running 1\n", 1000));
    cr_assert (s_rendered ("jitsu_vm_boot_requests_total{service=\"www\"} 1\n", 1000));
    s_apply ("vm.stopped", "{\"service\":\"www\",\"reason\":\"idle\",\"mode\":\"destroy\"}", 1000);
    cr_assert (s_rendered ("jitsu_vm_stops_total{reason=\"idle\"} 1\n", 1000));
    cr_assert (s_rendered ("jitsu_vms_running 0\n", 1000));
    s_apply ("vm.failed", "{\"service\":\"db\",\"boot_id\":\"b\",\"error\":\"virDomainCreate: "
                          "no such domain\"}", 1000);
    s_apply ("vm.failed", "{\"service\":\"db\",\"boot_id\":\"c\",\"error\":\"capacity\"}", 1000);
    cr_assert (s_rendered ("jitsu_vm_failures_total{error=\"virDomainCreate\"} 1\n", 1000));
    cr_assert (s_rendered ("jitsu_vm_failures_total{error=\"capacity\"} 1\n", 1000));
    cr_assert (s_rendered ("jitsu_vm_boots_total{service=\"db\",result=\"failed\"} 2\n", 1000));
}

Test (metrics_collector, syns_and_queries_are_counted)
{
    s_apply ("syn.held", "{\"service\":\"www\",\"ip\":\"10.0.0.1\",\"client\":\"10.0.0.2\","
                         "\"sport\":4000,\"dport\":80}", 1000);
    s_apply ("syn.replayed", "{\"service\":\"www\",\"count\":2,\"held_ms\":300}", 1000);
    s_apply ("dns.hits", "{\"service\":\"www\",\"count\":17,\"first_ts\":1,\"last_ts\":2}", 1000);
    s_apply ("dns.hits", "{\"service\":\"www\",\"count\":3,\"first_ts\":3,\"last_ts\":4}", 1000);
    cr_assert (s_rendered ("jitsu_syn_held_total{service=\"www\"} 1\n", 1000));
    cr_assert (s_rendered ("jitsu_syn_replayed_total{service=\"www\"} 2\n", 1000));
    cr_assert (s_rendered ("jitsu_syn_held_seconds_bucket{service=\"www\",le=\"0.5\"} 1\n",
                           1000));
    cr_assert (s_rendered ("jitsu_dns_queries_total{service=\"www\"} 20\n", 1000));
}

Test (metrics_collector, heartbeats_report_counters_and_go_stale)
{
    const char *alive = "{\"name\":\"dnsd\",\"instance\":\"2\",\"pid\":1,\"version\":\"0.1.0\","
                        "\"uptime_s\":42,\"counters\":{\"queries\":1200,\"answers-nxdomain\":3}}";
    s_apply ("svc.alive", alive, 10000);
    s_apply ("svc.alive", alive, 10500);  // heartbeats every 500 ms
    cr_assert (s_rendered ("jitsu_dnsd_queries{instance=\"2\"} 1200\n", 10500));
    cr_assert (s_rendered ("jitsu_dnsd_answers_nxdomain{instance=\"2\"} 3\n", 10500));
    cr_assert (s_rendered ("jitsu_uptime_seconds{process=\"dnsd\",instance=\"2\"} 42\n", 10500));
    cr_assert (s_rendered ("jitsu_up{process=\"dnsd\",instance=\"2\"} 1\n", 11900));
    cr_assert (s_rendered ("jitsu_up{process=\"dnsd\",instance=\"2\"} 0\n", 12100),
               "three missed heartbeats make it stale");
}

Test (metrics_collector, heartbeat_histograms_become_histograms_in_seconds)
{
    const char *alive =
        "{\"name\":\"vmctl\",\"instance\":\"qemu\",\"pid\":1,\"version\":\"0.1.0\","
        "\"uptime_s\":42,\"counters\":{},\"histograms\":[{\"name\":\"libvirt_call_us\","
        "\"labels\":{\"call\":\"create\"},\"le\":[500000,1000000,30000000],"
        "\"counts\":[1,2,3,4],\"sum\":19500000},{\"name\":\"queue_depth\",\"labels\":"
        "{\"instance\":\"x\"},\"le\":[1,10],\"counts\":[5,6,6],\"sum\":12}]}";
    s_apply ("svc.alive", alive, 10000);
    cr_assert (s_rendered ("# TYPE jitsu_vmctl_libvirt_call_seconds histogram\n", 10000));
    cr_assert (s_rendered ("jitsu_vmctl_libvirt_call_seconds_bucket{instance=\"qemu\","
                           "call=\"create\",le=\"0.5\"} 1\n", 10000));
    cr_assert (s_rendered ("jitsu_vmctl_libvirt_call_seconds_bucket{instance=\"qemu\","
                           "call=\"create\",le=\"30\"} 3\n", 10000));
    cr_assert (s_rendered ("jitsu_vmctl_libvirt_call_seconds_bucket{instance=\"qemu\","
                           "call=\"create\",le=\"+Inf\"} 4\n", 10000));
    cr_assert (s_rendered ("jitsu_vmctl_libvirt_call_seconds_sum{instance=\"qemu\","
                           "call=\"create\"} 19.5\n", 10000));
    cr_assert (s_rendered ("jitsu_vmctl_libvirt_call_seconds_count{instance=\"qemu\","
                           "call=\"create\"} 4\n", 10000));
    //  No unit: kept as it is; a label named instance does not override ours.
    cr_assert (s_rendered ("jitsu_vmctl_queue_depth_bucket{instance=\"qemu\",le=\"10\"} 6\n",
                           10000));
}
