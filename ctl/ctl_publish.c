/*  ctl_publish: validate a body through the codec, then publish it with a fresh envelope.  */

#include <getopt.h>
#include <limits.h>

#include "ctl_args.h"
#include "ctl_publish.h"

#define S_WAIT_MS_DEFAULT 2000

static const char *s_usage =
    "Usage: jitsuctl publish [--wait MS] TOPIC BODY\n"
    "Publish one message. BODY is the JSON body object (or - to read it from stdin); it is\n"
    "validated against TOPIC's schema in PROTOCOL.md and wrapped in a new envelope.\n"
    "  --wait MS   wait up to MS ms (default 2000) for a subscriber to TOPIC before sending:\n"
    "              pub/sub drops messages nobody subscribed to yet\n"
    "Example: jitsuctl publish vm.ready "
    "'{\"service\":\"www\",\"boot_id\":\"b1\",\"ip\":\"10.0.0.10\",\"via\":\"event\","
    "\"boot_ms\":120}'\n";

//  Print the topics this build knows, for the unknown-topic error.
static void
s_print_topics (FILE *stream)
{
    fprintf (stream, "known topics:");
    for (int type = 1; type < PROTO_MSG_COUNT; type++)
        fprintf (stream, " %s", proto_msg_topic ((proto_msg_type_t) type));
    fprintf (stream, "\n");
}

int
ctl_publish_run (const proto_endpoints_t *endpoints, int argc, char **argv)
{
    static const struct option options[] = {
        {"wait", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long wait_ms = S_WAIT_MS_DEFAULT;
    int option;
    optind = 1;
    while ((option = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        if (option == 'w') {
            if (!ctl_args_number (optarg, 0, LONG_MAX, &wait_ms,
                                  "jitsuctl publish: --wait needs a number of milliseconds"))
                return 2;
        }
        else
            return ctl_args_other (option, s_usage);
    }
    if (!ctl_args_operands (argc, 2, s_usage))
        return 2;
    const char *topic = argv[optind];
    const char *text = argv[optind + 1];

    proto_msg_type_t type = proto_msg_type_from_topic (topic);
    if (type == PROTO_MSG_UNKNOWN) {
        fprintf (stderr, "jitsuctl publish: unknown topic \"%s\"; ", topic);
        s_print_topics (stderr);
        return 1;
    }
    json_error_t json_error;
    json_t *body = streq (text, "-") ? json_loadf (stdin, JSON_REJECT_DUPLICATES, &json_error)
                                     : json_loads (text, JSON_REJECT_DUPLICATES, &json_error);
    if (!body) {
        fprintf (stderr, "jitsuctl publish: BODY is not JSON: %s at column %d\n", json_error.text,
                 json_error.column);
        return 1;
    }
    proto_msg_t msg;
    proto_msg_init (&msg, type);
    proto_error_t error;
    int rc = 1;
    proto_pub_t *pub = NULL;
    if (proto_msg_decode_body (&msg, body, &error)) {
        fprintf (stderr, "jitsuctl publish: invalid %s: %s (class %s)\n", topic, error.text,
                 proto_errcode_name (error.code));
        goto cleanup;
    }
    char instance[32];
    snprintf (instance, sizeof instance, "%d", (int) getpid ());
    pub = proto_pub_new (endpoints->bus_in, "jitsuctl", instance);
    if (!pub) {
        fprintf (stderr, "jitsuctl publish: cannot connect to %s\n", endpoints->bus_in);
        goto cleanup;
    }
    if (wait_ms > 0 && proto_pub_await (pub, topic, (int) wait_ms))
        fprintf (stderr, "jitsuctl publish: no subscriber for %s after %ld ms; sending anyway "
                         "(it may be dropped)\n", topic, wait_ms);
    if (proto_pub_send (pub, &msg)) {
        fprintf (stderr, "jitsuctl publish: send failed\n");
        goto cleanup;
    }
    rc = 0;
cleanup:
    proto_pub_destroy (&pub);  // lingers so the message leaves before we exit
    proto_msg_reset (&msg);
    json_decref (body);
    return rc;
}
