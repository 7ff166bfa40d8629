/*  jitsu-statestore: versioned key/value state with full history in a git repository.  */

#include "statestore_config.h"
#include "statestore_server.h"

static const char *s_usage =
    "Serve jitsu's durable state from a bare git repository (libgit2): requests on the state\n"
    "endpoint, one state.changed event on the bus per commit. See proto/PROTOCOL.md.\n";

int
main (int argc, char **argv)
{
    proto_main_args_t args;
    if (proto_main_begin (argc, argv, "jitsu-statestore", s_usage, &args))
        return args.status;

    statestore_config_t config;
    proto_error_t error;
    if (statestore_config_load (&config, args.config_path, &error)) {
        zsys_error ("statestore: bad config: %s", error.text);
        return PROTO_MAIN_EXIT_FAILED;
    }
    if (args.check_config) {
        printf ("config ok: repo=%s state=%s bus_in=%s\n", config.repo, config.endpoints.state,
                config.endpoints.bus_in);
        return PROTO_MAIN_EXIT_OK;
    }
    umask (0007);  // the repository and sockets belong to the owner and the jitsu group
    char reason[512];
    statestore_server_t *server = statestore_server_new (&config, reason, sizeof reason);
    if (!server) {
        zsys_error ("statestore: cannot start: %s", reason);
        return PROTO_MAIN_EXIT_FAILED;
    }
    zloop_t *loop = zloop_new ();
    int rc = PROTO_MAIN_EXIT_FAILED;
    if (loop && statestore_server_attach (server, loop) == 0) {
        rc = proto_main_run (loop);
        zsys_info ("statestore: stopping rev=%lld", (long long) statestore_server_rev (server));
    }
    //  The server first: its sockets leave the loop they are registered with.
    statestore_server_destroy (&server);
    zloop_destroy (&loop);
    return rc;
}
