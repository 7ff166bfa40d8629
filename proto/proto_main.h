/*  proto_main: what every jitsu process's main () shares: the standard flags and logging.

    Every service takes -c FILE, -v, -h/--help and --check-config, runs in the foreground and
    logs with zsys_* to stderr, where supervisord collects it.  */

#ifndef PROTO_MAIN_H_INCLUDED
#define PROTO_MAIN_H_INCLUDED

#include <stdbool.h>

//  The standard flags of a service.
typedef struct {
    const char *config_path;  // borrowed from argv; NULL when -c was not given
    bool verbose;             // -v: per-message debug logging
    bool check_config;        // --check-config: load and validate the config, then exit
} proto_main_args_t;

//  Parse ARGV. Returns 0 to run, 1 when help was printed (exit 0), or -1 after printing a usage
//  error (exit 2). USAGE is the text after "Usage: NAME".
int proto_main_args (int argc, char **argv, const char *name, const char *usage,
                        proto_main_args_t *args);

//  Send zsys logs to stderr under IDENT, and install czmq's SIGINT/SIGTERM handler.
void proto_main_log_init (const char *ident);

#endif
