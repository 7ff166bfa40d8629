/*  proto_main: what every jitsu process's main () shares: the standard flags, logging, the
    loop and the exit status.

    Every service takes -c FILE, -v, -h/--help and --check-config, runs in the foreground and
    logs with zsys_* to stderr, where supervisord collects it. A main reads as wiring: flags,
    config, server_new, attach, proto_main_run, then the server destroyed before the loop (its
    sockets, probes and timers leave the loop they are registered with).

    Exit status, the same for every process: 0 after help, --check-config, or a SIGINT/SIGTERM
    that ended the loop; 1 when start-up failed or a handler ended the loop (it failed); 2 after
    a usage error.  */

#ifndef PROTO_MAIN_H_INCLUDED
#define PROTO_MAIN_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

#define PROTO_MAIN_EXIT_OK     0  // help, --check-config, or stopped by a signal
#define PROTO_MAIN_EXIT_FAILED 1  // start-up failed, or a handler ended the loop
#define PROTO_MAIN_EXIT_USAGE  2  // bad flags or arguments

//  The standard flags of a service.
typedef struct {
    const char *config_path;  // borrowed from argv; NULL when -c was not given
    bool verbose;             // -v: per-message debug logging
    bool check_config;        // --check-config: load and validate the config, then exit
    int status;               // when proto_main_begin returns -1: what main returns
} proto_main_args_t;

//  Parse ARGV into ARGS and, to run, send logs to stderr under NAME. USAGE is the text after
//  "Usage: NAME". Returns 0 to run, or -1 when main is to return ARGS->status at once:
//  PROTO_MAIN_EXIT_OK after help, PROTO_MAIN_EXIT_USAGE after a usage error (printed).
int proto_main_begin (int argc, char **argv, const char *name, const char *usage,
                      proto_main_args_t *args);

//  Run LOOP (borrowed) until SIGINT or SIGTERM. Returns the exit status: PROTO_MAIN_EXIT_OK
//  when a signal ended the loop, PROTO_MAIN_EXIT_FAILED when a handler did (it returned -1).
int proto_main_run (zloop_t *loop);

//  Send zsys logs to stderr under IDENT, and install czmq's SIGINT/SIGTERM handler.
void proto_main_log_init (const char *ident);

#endif
