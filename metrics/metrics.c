/*  jitsu-metrics: a Prometheus exporter that taps the bus.  */

#include "metrics_config.h"
#include "metrics_server.h"

static const char *s_usage =
    "Serve Prometheus metrics about a jitsu deployment on GET /metrics, from what its processes\n"
    "publish on the bus (svc.alive heartbeats, vm.*, syn.*, dns.hits).\n";

int
main (int argc, char **argv)
{
    proto_main_args_t args;
    if (proto_main_begin (argc, argv, "jitsu-metrics", s_usage, &args))
        return args.status;

    metrics_config_t config;
    proto_error_t error;
    if (metrics_config_load (&config, args.config_path, &error)) {
        zsys_error ("metrics: bad config: %s", error.text);
        return PROTO_MAIN_EXIT_FAILED;
    }
    if (args.check_config) {
        printf ("config ok: listen=%s:%d bus_out=%s\n", config.address, config.port,
                config.endpoints.bus_out);
        return PROTO_MAIN_EXIT_OK;
    }

    int rc = PROTO_MAIN_EXIT_FAILED;
    zloop_t *loop = NULL;
    metrics_server_t *server = metrics_server_new (&config);
    if (!server)
        goto cleanup;
    loop = zloop_new ();
    if (!loop || metrics_server_attach (server, loop))
        goto cleanup;
    zsys_info ("metrics: serving http://%s:%d/metrics bus_out=%s", config.address,
               metrics_server_port (server), config.endpoints.bus_out);
    rc = proto_main_run (loop);
cleanup:
    //  The server first: its HTTP thread and bus reader use what it owns.
    metrics_server_destroy (&server);
    zloop_destroy (&loop);
    return rc;
}
