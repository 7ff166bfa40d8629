/*  jitsu-metrics: a Prometheus exporter that taps the bus.  */

#include <pthread.h>

#include "metrics_collector.h"
#include "metrics_config.h"
#include "metrics_http.h"

static const char *s_usage =
    "Serve Prometheus metrics about a jitsu deployment on GET /metrics, from what its processes\n"
    "publish on the bus (svc.alive heartbeats, vm.*, syn.*, dns.hits).\n";

//  Shared between the bus loop (writes) and the HTTP thread (renders): the lock guards all.
typedef struct {
    pthread_mutex_t lock;
    metrics_registry_t *registry;
    metrics_collector_t *collector;
    proto_sub_t *sub;
    proto_pub_t *pub;
} s_exporter_t;

static char *
s_render (void *argument)
{
    s_exporter_t *exporter = (s_exporter_t *) argument;
    pthread_mutex_lock (&exporter->lock);
    metrics_collector_refresh (exporter->collector, zclock_time (), exporter->sub);
    char *text = metrics_registry_render (exporter->registry);
    pthread_mutex_unlock (&exporter->lock);
    return text;
}

static void
s_on_bus_message (void *argument, const proto_msg_t *msg)
{
    s_exporter_t *exporter = (s_exporter_t *) argument;
    metrics_collector_apply (exporter->collector, msg, zclock_time ());
}

static int
s_on_bus (zloop_t *loop, zsock_t *reader, void *argument)
{
    s_exporter_t *exporter = (s_exporter_t *) argument;
    pthread_mutex_lock (&exporter->lock);
    proto_sub_drain (exporter->sub, 256, s_on_bus_message, exporter);
    pthread_mutex_unlock (&exporter->lock);
    return 0;
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *argument)
{
    s_exporter_t *exporter = (s_exporter_t *) argument;
    proto_msg_t msg;
    proto_pub_alive (exporter->pub, &msg);
    pthread_mutex_lock (&exporter->lock);
    proto_msg_add_counter (&msg, "messages", (int64_t) proto_sub_received (exporter->sub));
    proto_msg_add_counter (&msg, "malformed", (int64_t) proto_sub_malformed (exporter->sub));
    proto_msg_add_counter (&msg, "series_dropped",
                           (int64_t) metrics_registry_dropped (exporter->registry));
    pthread_mutex_unlock (&exporter->lock);
    proto_pub_send (exporter->pub, &msg);
    proto_msg_reset (&msg);
    return 0;
}

int
main (int argc, char **argv)
{
    proto_main_args_t args;
    int parsed = proto_main_args (argc, argv, "jitsu-metrics", s_usage, &args);
    if (parsed)
        return parsed > 0 ? 0 : 2;
    proto_main_log_init ("jitsu-metrics");
    metrics_config_t config;
    proto_error_t error;
    if (metrics_config_load (&config, args.config_path, &error)) {
        zsys_error ("metrics: bad config: %s", error.text);
        return 1;
    }
    if (args.check_config) {
        printf ("config ok: listen=%s:%d bus_out=%s\n", config.address, config.port,
                config.endpoints.bus_out);
        return 0;
    }
    s_exporter_t exporter = {.registry = metrics_registry_new ((size_t) config.series_max)};
    pthread_mutex_init (&exporter.lock, NULL);
    exporter.collector = metrics_collector_new (exporter.registry, config.stale_heartbeats);
    exporter.sub = proto_sub_new (config.endpoints.bus_out);
    exporter.pub = proto_pub_new (config.endpoints.bus_in, "metrics", config.instance);
    metrics_http_t *http = NULL;
    zloop_t *loop = zloop_new ();
    int rc = 1;
    if (!exporter.sub || !exporter.pub)
        goto cleanup;
    proto_sub_subscribe (exporter.sub, "");
    http = metrics_http_new (config.address, config.port, s_render, &exporter);
    if (!http || zloop_reader (loop, proto_sub_sock (exporter.sub), s_on_bus, &exporter)
        || zloop_timer (loop, config.heartbeat_ms, 0, s_on_tick, &exporter) < 0)
        goto cleanup;
    zsys_info ("metrics: serving http://%s:%d/metrics bus_out=%s", config.address,
               metrics_http_port (http), config.endpoints.bus_out);
    zloop_start (loop);
    rc = 0;
cleanup:
    metrics_http_destroy (&http);  // first: the HTTP thread uses everything below
    zloop_destroy (&loop);
    proto_pub_destroy (&exporter.pub);
    proto_sub_destroy (&exporter.sub);
    metrics_collector_destroy (&exporter.collector);
    metrics_registry_destroy (&exporter.registry);
    pthread_mutex_destroy (&exporter.lock);
    return rc;
}
