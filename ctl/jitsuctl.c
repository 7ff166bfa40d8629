/*  jitsuctl: the operator's command line for a jitsu deployment.  */

#include "ctl_history.h"
#include "ctl_publish.h"
#include "ctl_service.h"
#include "ctl_state.h"
#include "ctl_status.h"
#include "ctl_tap.h"

static const char *s_usage =
    "Usage: jitsuctl [-c FILE] COMMAND [ARGS...]\n"
    "Operate a jitsu deployment over its bus and statestore.\n"
    "\n"
    "Commands:\n"
    "  tap [--pretty] [--count N] [PREFIX...]   print bus messages as JSON lines\n"
    "  publish [--wait MS] TOPIC BODY           validate BODY and publish it on TOPIC\n"
    "  service add|apply|ls|show|rm ...         define services (see service --help)\n"
    "  state get|put|del|ls|tree|log|diff|at    keys and history (see state --help)\n"
    "  history SERVICE [--since TIME]           a service's boots and stops over time\n"
    "  status [--listen MS] [--json]            services and processes at a glance\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   JSON with an \"endpoints\" object (bus_in, bus_out, state, run_dir)\n"
    "  -h, --help          show this help; COMMAND --help shows a command's\n"
    "\n"
    "Environment: JITSU_RUN_DIR (default /run/jitsu) holds the ipc sockets.\n";

//  A subcommand: its name and entry point.
typedef struct {
    const char *name;
    int (*run) (const proto_endpoints_t *endpoints, int argc, char **argv);
} s_command_t;

static const s_command_t s_commands[] = {
    {"tap", ctl_tap_run},
    {"publish", ctl_publish_run},
    {"service", ctl_service_run},
    {"state", ctl_state_run},
    {"history", ctl_history_run},
    {"status", ctl_status_run},
};

//  Read the endpoints from defaults and, when given, the "endpoints" object of PATH.
static int
s_load_endpoints (proto_endpoints_t *endpoints, const char *path)
{
    proto_error_t error;
    if (proto_endpoints_defaults (endpoints)) {
        fprintf (stderr, "jitsuctl: JITSU_RUN_DIR is too long\n");
        return -1;
    }
    if (!path)
        return 0;
    json_t *config = proto_config_load (path, &error);
    if (!config) {
        fprintf (stderr, "jitsuctl: %s\n", error.text);
        return -1;
    }
    int rc = proto_endpoints_configure (endpoints, json_object_get (config, "endpoints"), path,
                                        &error);
    if (rc)
        fprintf (stderr, "jitsuctl: %s\n", error.text);
    json_decref (config);
    return rc ? -1 : 0;
}

int
main (int argc, char **argv)
{
    const char *config_path = NULL;
    int first = 1;
    //  Global options come before the command; everything after belongs to the command.
    while (first < argc && argv[first][0] == '-') {
        if (streq (argv[first], "-h") || streq (argv[first], "--help")) {
            fputs (s_usage, stdout);
            return PROTO_MAIN_EXIT_OK;
        }
        if ((streq (argv[first], "-c") || streq (argv[first], "--config")) && first + 1 < argc) {
            config_path = argv[first + 1];
            first += 2;
            continue;
        }
        fprintf (stderr, "jitsuctl: unknown option '%s'\n%s", argv[first], s_usage);
        return PROTO_MAIN_EXIT_USAGE;
    }
    if (first == argc) {
        fputs (s_usage, stderr);
        return PROTO_MAIN_EXIT_USAGE;
    }
    proto_main_log_init ("jitsuctl");
    proto_endpoints_t endpoints;
    if (s_load_endpoints (&endpoints, config_path))
        return PROTO_MAIN_EXIT_FAILED;
    for (size_t index = 0; index < sizeof s_commands / sizeof s_commands[0]; index++)
        if (streq (argv[first], s_commands[index].name))
            return s_commands[index].run (&endpoints, argc - first, argv + first);
    fprintf (stderr, "jitsuctl: unknown command '%s'\n%s", argv[first], s_usage);
    return PROTO_MAIN_EXIT_USAGE;
}
