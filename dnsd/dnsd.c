/*  jitsu-dnsd: the DNS server users point their resolvers at. It answers for services from
    statestore's definitions, forwards other names, and summons a service's VM when a query
    for it arrives and the VM is not running.  */

#include "dnsd_config.h"
#include "dnsd_server.h"

static const char *s_usage =
    "Answer DNS for jitsu's services (A, AAAA, SOA, NS, PTR; NXDOMAIN and NODATA with the SOA)\n"
    "over UDP and TCP, forward other names to the upstreams, and publish vm.boot when a query\n"
    "for a sleeping service arrives. Port 53 needs CAP_NET_BIND_SERVICE (or root):\n"
    "setcap cap_net_bind_service+ep jitsu-dnsd. See dnsd/README.md.\n";

int
main (int argc, char **argv)
{
    proto_main_args_t args;
    if (proto_main_begin (argc, argv, "jitsu-dnsd", s_usage, &args))
        return args.status;

    dnsd_config_t config;
    proto_error_t error;
    if (dnsd_config_load (&config, args.config_path, &error)) {
        zsys_error ("dnsd: bad config: %s", error.text);
        return PROTO_MAIN_EXIT_FAILED;
    }
    if (args.check_config) {
        printf ("config ok: listen=%zu port=%d upstreams=%zu zones=%zu bus_in=%s state=%s\n",
                config.listen_count, config.port, config.upstream_count, config.zone_count,
                config.endpoints.bus_in, config.endpoints.state);
        dnsd_config_reset (&config);
        return PROTO_MAIN_EXIT_OK;
    }

    int rc = PROTO_MAIN_EXIT_FAILED;
    zloop_t *loop = NULL;
    dnsd_server_t *server = dnsd_server_new (&config, args.verbose);
    if (!server)
        goto cleanup;
    loop = zloop_new ();
    if (!loop || dnsd_server_attach (server, loop))
        goto cleanup;
    zsys_info ("dnsd: started instance=%s port=%d bus_in=%s state=%s", config.instance,
               dnsd_server_port (server), config.endpoints.bus_in, config.endpoints.state);
    rc = proto_main_run (loop);
    zsys_info ("dnsd: stopping queries=%" PRIu64, dnsd_server_queries (server));
cleanup:
    //  The server first: its sockets leave the loop they are registered with.
    dnsd_server_destroy (&server);
    zloop_destroy (&loop);
    dnsd_config_reset (&config);
    return rc;
}
