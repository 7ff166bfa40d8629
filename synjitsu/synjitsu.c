/*  synjitsu: answers ARP for booting VMs, holds their clients' SYNs and replays them to the
    guest once it is up, so the client's connect completes without waiting for its SYN
    retransmit.  */

#include "synjitsu_config.h"
#include "synjitsu_server.h"

static const char *s_usage =
    "Answer ARP for booting VMs on the bridge, hold their clients' TCP SYNs, and replay them\n"
    "to the guest when it is up (vm.ready, or its own frames on the bridge). Needs\n"
    "CAP_NET_RAW (and CAP_NET_ADMIN to answer the host's own ARP requests): run it with\n"
    "setcap cap_net_raw,cap_net_admin+ep synjitsu instead of as root.\n";

int
main (int argc, char **argv)
{
    proto_main_args_t args;
    if (proto_main_begin (argc, argv, "synjitsu", s_usage, &args))
        return args.status;

    synjitsu_config_t config;
    proto_error_t error;
    if (synjitsu_config_load (&config, args.config_path, &error)) {
        zsys_error ("synjitsu: bad config: %s", error.text);
        return PROTO_MAIN_EXIT_FAILED;
    }
    if (args.check_config) {
        printf ("config ok: bridge=%s bus_in=%s bus_out=%s\n", config.bridge,
                config.endpoints.bus_in, config.endpoints.bus_out);
        return PROTO_MAIN_EXIT_OK;
    }

    int rc = PROTO_MAIN_EXIT_FAILED;
    zloop_t *loop = NULL;
    synjitsu_server_t *server = synjitsu_server_new (&config, args.verbose);
    if (!server)
        goto cleanup;
    loop = zloop_new ();
    if (!loop || synjitsu_server_attach (server, loop))
        goto cleanup;
    zsys_info ("synjitsu: started bridge=%s bus_in=%s bus_out=%s instance=%s", config.bridge,
               config.endpoints.bus_in, config.endpoints.bus_out, config.instance);
    rc = proto_main_run (loop);  // a failed capture ends the loop: exit 1
    const synjitsu_server_stats_t *stats = synjitsu_server_stats (server);
    zsys_info ("synjitsu: stopping frames=%" PRIu64 " arp_replies=%" PRIu64
               " syns_replayed=%" PRIu64,
               stats->frames, stats->arp_replies, stats->syns_replayed);
cleanup:
    //  The server first: its capture is polled by the loop.
    synjitsu_server_destroy (&server);
    zloop_destroy (&loop);
    return rc;
}
