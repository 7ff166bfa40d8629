/*  jitsu-vmctl: boots, watches and stops the VMs behind jitsu's services, through libvirt.  */

#include "vmctl_config.h"
#include "vmctl_server.h"

static const char *s_usage =
    "Boot a service's VM on vm.boot, announce it (vm.booting, vm.ready), stop it when idle,\n"
    "and keep /services/NAME/status in statestore. The only jitsu process that talks to\n"
    "libvirt (default qemu:///system). Running VMs survive a restart: vmctl adopts them.\n";

int
main (int argc, char **argv)
{
    proto_main_args_t args;
    if (proto_main_begin (argc, argv, "jitsu-vmctl", s_usage, &args))
        return args.status;

    vmctl_config_t config;
    proto_error_t error;
    if (vmctl_config_load (&config, args.config_path, &error)) {
        zsys_error ("vmctl: bad config: %s", error.text);
        return PROTO_MAIN_EXIT_FAILED;
    }
    if (args.check_config) {
        printf ("config ok: uri=%s instance=%s bus_in=%s bus_out=%s state=%s workers=%d "
                "max_running=%d max_booting=%d memory_budget_mib=%d evict_idle=%s\n",
                config.uri, config.instance, config.endpoints.bus_in, config.endpoints.bus_out,
                config.endpoints.state, config.workers, config.limits.max_running,
                config.limits.max_booting, config.limits.memory_budget_mib,
                config.limits.evict_idle ? "true" : "false");
        return PROTO_MAIN_EXIT_OK;
    }

    int rc = PROTO_MAIN_EXIT_FAILED;
    zloop_t *loop = NULL;
    vmctl_server_t *server = vmctl_server_new (&config, args.verbose);
    if (!server)
        goto cleanup;
    loop = zloop_new ();
    if (!loop || vmctl_server_attach (server, loop))
        goto cleanup;
    zsys_info ("vmctl: started uri=%s instance=%s bus_in=%s bus_out=%s state=%s", config.uri,
               config.instance, config.endpoints.bus_in, config.endpoints.bus_out,
               config.endpoints.state);
    rc = proto_main_run (loop);
    const vmctl_stats_t *stats = vmctl_server_stats (server);
    zsys_info ("vmctl: stopping boots=%llu failures=%llu stops_idle=%llu",
               (unsigned long long) stats->boots, (unsigned long long) stats->boot_failures,
               (unsigned long long) stats->stops_idle);
cleanup:
    //  The server first: its probes are registered on the loop.
    vmctl_server_destroy (&server);
    zloop_destroy (&loop);
    return rc;
}
