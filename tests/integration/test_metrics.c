/*  Integration: jitsu-metrics on a real bus, scraped with real curl, checked with promtool.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <sys/wait.h>

#include "proto.h"
#include "test_support.h"

#define S_METRICS JITSU_BUILD_DIR "/metrics/jitsu-metrics"

static char *s_run_dir;
static char s_log[512], s_scrape[512];
static int s_port;
static pid_t s_exporter;
static proto_pub_t *s_pub;

//  Start the bus and the exporter (SERIES_MAX series per family); find its port in its log.
static void
s_start (int series_max)
{
    s_run_dir = test_rundir_new ();
    snprintf (s_log, sizeof s_log, "%s/metrics.log", s_run_dir);
    snprintf (s_scrape, sizeof s_scrape, "%s/scrape.txt", s_run_dir);
    cr_assert (gt (int, test_start_bus (s_run_dir), 0));
    char config[512];
    snprintf (config, sizeof config, "%s/metrics.json", s_run_dir);
    test_write_file (config, "{\"port\": 0, \"series_max\": %d, \"heartbeat_ms\": 200}\n",
                     series_max);
    char *argv[] = {S_METRICS, "-c", config, NULL};
    s_exporter = test_spawn (argv, s_log, s_log);
    for (int waited = 0; waited < 100 && !s_port; waited++) {
        zclock_sleep (50);
        FILE *log = fopen (s_log, "r");
        char line[512];
        while (log && fgets (line, sizeof line, log)) {
            char *at = strstr (line, "http://127.0.0.1:");
            if (at)
                s_port = atoi (at + 17);
        }
        if (log)
            fclose (log);
    }
    cr_assert (gt (int, s_port, 0), "the exporter did not report its port");
    proto_endpoints_t endpoints;
    proto_endpoints_defaults (&endpoints);
    s_pub = proto_pub_new (endpoints.bus_in, "test", "1");
    cr_assert (eq (int, proto_pub_await (s_pub, "vm.ready", 5000), 0));
}

static void
s_teardown (void)
{
    proto_pub_destroy (&s_pub);
    test_reap_all ();
    test_rundir_destroy (&s_run_dir);
    s_port = 0;
}

//  Scrape with curl into s_scrape; returns curl's status.
static int
s_curl (void)
{
    return test_shell ("curl -sf -o %s http://127.0.0.1:%d/metrics", s_scrape, s_port);
}

//  Whether the last scrape has LINE.
static bool
s_scraped (const char *line)
{
    return test_shell ("grep -qxF -- '%s' %s", line, s_scrape) == 0;
}

//  Scrape until LINE appears (the exporter applies messages asynchronously).
static bool
s_wait_for (const char *line)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        if (s_curl () == 0 && s_scraped (line))
            return true;
        zclock_sleep (100);
    }
    return false;
}

static void
s_publish (proto_msg_t *msg)
{
    cr_assert (eq (int, proto_pub_send (s_pub, msg), 0));
}

TestSuite (metrics, .fini = s_teardown, .timeout = 60);

Test (metrics, a_known_sequence_moves_counters_and_histograms_and_passes_promtool)
{
    s_start (2000);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_BOOT);
    strcpy (msg.vm_boot.service, "www");
    strcpy (msg.vm_boot.request_id, "r1");
    s_publish (&msg);
    proto_msg_init (&msg, PROTO_MSG_VM_READY);
    strcpy (msg.vm_ready.service, "www");
    strcpy (msg.vm_ready.boot_id, "www-1");
    strcpy (msg.vm_ready.ip, "10.0.0.10");
    msg.vm_ready.via = PROTO_VIA_PROBE;
    msg.vm_ready.boot_ms = 2149;
    s_publish (&msg);
    proto_msg_init (&msg, PROTO_MSG_SYN_REPLAYED);
    strcpy (msg.syn_replayed.service, "www");
    msg.syn_replayed.count = 2;
    msg.syn_replayed.held_ms = 1200;
    s_publish (&msg);
    proto_msg_init (&msg, PROTO_MSG_VM_STOPPED);
    strcpy (msg.vm_stop.service, "www");
    msg.vm_stop.reason = PROTO_REASON_IDLE;
    msg.vm_stop.mode = PROTO_MODE_DESTROY;
    s_publish (&msg);

    cr_assert (s_wait_for ("jitsu_vm_stops_total{reason=\"idle\"} 1"));
    cr_assert (s_scraped ("jitsu_vm_boots_total{service=\"www\",result=\"ready\"} 1"));
    cr_assert (s_scraped ("jitsu_vm_boot_seconds_bucket{service=\"www\",from=\"off\",le=\"5\"} 1"));
    cr_assert (s_scraped ("jitsu_vm_boot_seconds_bucket{service=\"www\",from=\"off\",le=\"2\"} 0"));
    cr_assert (s_scraped ("jitsu_vm_boot_seconds_sum{service=\"www\",from=\"off\"} 2.149"));
    cr_assert (s_scraped ("jitsu_syn_replayed_total{service=\"www\"} 2"));
    cr_assert (s_scraped ("jitsu_syn_held_seconds_bucket{service=\"www\",le=\"2\"} 1"));
    cr_assert (s_scraped ("jitsu_vms_running 0"));
    cr_assert (s_wait_for ("jitsu_up{process=\"bus\",instance=\"1\"} 1"), "the bus heartbeat");
    cr_assert (eq (int, test_shell ("promtool check metrics < %s > %s/promtool.log 2>&1",
                                    s_scrape, s_run_dir), 0),
               "promtool refused the page, see %s/promtool.log", s_run_dir);
    cr_assert (eq (int, test_shell ("curl -s -o /dev/null -w '%%{http_code}' "
                                    "http://127.0.0.1:%d/nothing | grep -qx 404", s_port), 0));
}

Test (metrics, a_process_that_stops_beating_turns_up_to_zero)
{
    s_start (2000);
    proto_endpoints_t endpoints;
    proto_endpoints_defaults (&endpoints);
    proto_pub_t *ghost = proto_pub_new (endpoints.bus_in, "ghost", "7");
    cr_assert (eq (int, proto_pub_await (ghost, "svc.alive", 5000), 0));
    for (int beat = 0; beat < 3; beat++) {
        proto_msg_t msg;
        proto_pub_alive (ghost, &msg);
        proto_pub_send (ghost, &msg);
        zclock_sleep (200);
    }
    cr_assert (s_wait_for ("jitsu_up{process=\"ghost\",instance=\"7\"} 1"));
    proto_pub_destroy (&ghost);
    //  Three missed 200 ms heartbeats later it is down.
    cr_assert (s_wait_for ("jitsu_up{process=\"ghost\",instance=\"7\"} 0"));
}

Test (metrics, ten_thousand_bogus_services_do_not_grow_the_series_past_the_cap)
{
    s_start (500);
    for (int index = 0; index < 10000; index++) {
        proto_msg_t msg;
        proto_msg_init (&msg, PROTO_MSG_DNS_HITS);
        snprintf (msg.dns_hits.service, sizeof msg.dns_hits.service, "bogus-%d", index);
        msg.dns_hits.count = 1;
        s_publish (&msg);
    }
    cr_assert (s_wait_for ("jitsu_metrics_series_dropped_total{family=\"jitsu_dns_queries_total\"}"
                           " 9500"), "every series past the cap is counted as dropped");
    int series = test_shell ("test $(grep -c '^jitsu_dns_queries_total{' %s) -eq 500", s_scrape);
    cr_assert (eq (int, series, 0), "the family holds exactly its cap");
    cr_assert (eq (int, test_shell ("promtool check metrics < %s >/dev/null 2>&1", s_scrape), 0));
}

Test (metrics, malformed_bus_messages_are_counted_not_fatal)
{
    s_start (2000);
    proto_endpoints_t endpoints;
    proto_endpoints_defaults (&endpoints);
    zsock_t *raw = zsock_new (ZMQ_XPUB);
    zsock_connect (raw, "%s", endpoints.bus_in);
    zframe_t *subscription = zframe_recv (raw);
    zframe_destroy (&subscription);
    zstr_sendm (raw, "vm.ready");
    zstr_send (raw, "{broken");
    zstr_sendm (raw, "vm.ready");
    zstr_send (raw, "{\"v\":1,\"type\":\"vm.ready\",\"src\":\"r/1\",\"seq\":1,\"ts\":1,"
                    "\"body\":{\"service\":\"www\"}}");
    zsock_destroy (&raw);
    cr_assert (s_wait_for ("jitsu_metrics_bus_malformed_total{class=\"not_json\"} 1"));
    cr_assert (s_scraped ("jitsu_metrics_bus_malformed_total{class=\"missing\"} 1"));
    cr_assert (eq (int, waitpid (s_exporter, NULL, WNOHANG), 0), "the exporter died");
}
