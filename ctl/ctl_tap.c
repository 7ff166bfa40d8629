/*  ctl_tap: print every bus message, one JSON envelope per line.

    Messages are decoded through the codec first: valid ones go to stdout (pipe them into jq),
    malformed ones are reported on stderr with the reason and the tap keeps running.  */

#include <getopt.h>
#include <limits.h>

#include "ctl_args.h"
#include "ctl_tap.h"

static const char *s_usage =
    "Usage: jitsuctl tap [--pretty] [--count N] [PREFIX...]\n"
    "Print each bus message whose topic starts with one of PREFIX (default: all) as one JSON\n"
    "line on stdout. Malformed messages are reported on stderr and skipped.\n"
    "  --pretty    indent the JSON for humans (several lines per message)\n"
    "  --count N   exit after N messages\n";

int
ctl_tap_run (const proto_endpoints_t *endpoints, int argc, char **argv)
{
    static const struct option options[] = {
        {"pretty", no_argument, NULL, 'p'},
        {"count", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool pretty = false;
    long limit = 0;
    int option;
    optind = 1;
    while ((option = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        if (option == 'p')
            pretty = true;
        else if (option == 'n') {
            if (!ctl_args_number (optarg, 1, LONG_MAX, &limit,
                                  "jitsuctl tap: --count needs a positive number"))
                return 2;
        }
        else
            return ctl_args_other (option, s_usage);
    }

    proto_sub_t *sub = proto_sub_new (endpoints->bus_out);
    if (!sub) {
        fprintf (stderr, "jitsuctl tap: cannot connect to %s\n", endpoints->bus_out);
        return 1;
    }
    if (optind == argc)
        proto_sub_subscribe (sub, "");
    for (int index = optind; index < argc; index++)
        proto_sub_subscribe (sub, argv[index]);

    zpoller_t *poller = zpoller_new (proto_sub_sock (sub), NULL);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    long printed = 0;
    size_t flags = pretty ? JSON_INDENT (2) : JSON_COMPACT;
    while (!zsys_interrupted && (limit == 0 || printed < limit)) {
        if (!zpoller_wait (poller, -1))
            continue;
        proto_error_t error;
        int rc;
        while ((rc = proto_sub_recv (sub, &msg, &error)) != -1) {
            if (rc == -2) {
                fprintf (stderr, "jitsuctl tap: malformed message topic=%s class=%s reason=%s\n",
                         msg.topic, proto_errcode_name (error.code), error.text);
                continue;
            }
            json_dumpf (msg.json, stdout, flags);
            fputc ('\n', stdout);
            fflush (stdout);
            proto_msg_reset (&msg);
            if (limit && ++printed >= limit)
                break;
        }
    }
    proto_msg_reset (&msg);
    zpoller_destroy (&poller);
    proto_sub_destroy (&sub);
    return 0;
}
