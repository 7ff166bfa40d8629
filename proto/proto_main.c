/*  proto_main: standard flags and logging for every jitsu process.  */

#include <czmq.h>
#include <getopt.h>

#include "proto_main.h"

//  Parse ARGV. Returns 0 to run, 1 when help was printed, or -1 after printing a usage error.
static int
s_parse (int argc, char **argv, const char *name, const char *usage, proto_main_args_t *args)
{
    assert (args);
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"check-config", no_argument, NULL, 'C'},
        {NULL, 0, NULL, 0},
    };
    memset (args, 0, sizeof *args);
    optind = 1;
    int option;
    while ((option = getopt_long (argc, argv, "c:vh", options, NULL)) != -1) {
        switch (option) {
        case 'c':
            args->config_path = optarg;
            break;
        case 'v':
            args->verbose = true;
            break;
        case 'C':
            args->check_config = true;
            break;
        case 'h':
            printf ("Usage: %s [-c FILE] [-v] [--check-config]\n%s", name, usage);
            printf ("\n  -c, --config FILE   JSON configuration (defaults apply without it)\n"
                    "  -v, --verbose       log every message handled\n"
                    "      --check-config  validate the configuration and exit\n"
                    "  -h, --help          show this help\n"
                    "\nEnvironment: JITSU_RUN_DIR (default /run/jitsu) holds the ipc sockets.\n");
            return 1;
        default:
            fprintf (stderr, "%s: try '%s --help'\n", name, name);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "%s: unexpected argument '%s'; try '%s --help'\n", name, argv[optind],
                 name);
        return -1;
    }
    return 0;
}

int
proto_main_begin (int argc, char **argv, const char *name, const char *usage,
                  proto_main_args_t *args)
{
    int parsed = s_parse (argc, argv, name, usage, args);
    if (parsed) {
        args->status = parsed > 0 ? PROTO_MAIN_EXIT_OK : PROTO_MAIN_EXIT_USAGE;
        return -1;
    }
    proto_main_log_init (name);
    return 0;
}

int
proto_main_run (zloop_t *loop)
{
    assert (loop);
    return zloop_start (loop) == 0 ? PROTO_MAIN_EXIT_OK : PROTO_MAIN_EXIT_FAILED;
}

void
proto_main_log_init (const char *ident)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    zsys_set_logident (ident);
}
