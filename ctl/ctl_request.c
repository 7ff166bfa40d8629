/*  ctl_request: jitsuctl's statestore calls.  */

#include "ctl_request.h"

#define S_TIMEOUT_MS 2000
#define S_RETRIES    2

static json_t *
s_request (const proto_endpoints_t *endpoints, const char *command, json_t *request,
           bool quiet_missing)
{
    proto_state_client_t *client = proto_state_client_new (endpoints->state, "jitsuctl");
    if (!client) {
        json_decref (request);
        fprintf (stderr, "jitsuctl %s: cannot connect to %s\n", command, endpoints->state);
        return NULL;
    }
    json_t *reply = proto_state_client_call (client, request, S_TIMEOUT_MS, S_RETRIES);
    proto_state_client_destroy (&client);
    if (!reply) {
        fprintf (stderr, "jitsuctl %s: statestore at %s did not answer (is jitsu-statestore "
                         "running?)\n", command, endpoints->state);
        return NULL;
    }
    if (json_is_true (json_object_get (reply, "ok")))
        return reply;
    const char *code = json_string_value (json_object_get (reply, "error"));
    if (!(quiet_missing && code && streq (code, "not_found")))
        fprintf (stderr, "jitsuctl %s: %s: %s\n", command, code ? code : "error",
                 json_string_value (json_object_get (reply, "message")));
    json_decref (reply);
    return NULL;
}

json_t *
ctl_request (const proto_endpoints_t *endpoints, const char *command, json_t *request)
{
    return s_request (endpoints, command, request, false);
}

json_t *
ctl_request_snapshot (const proto_endpoints_t *endpoints, const char *command,
                      const char *prefix, int64_t *rev)
{
    json_t *reply = ctl_request (endpoints, command,
                                 json_pack ("{s:s, s:s}", "op", "snapshot", "prefix", prefix));
    if (!reply)
        return NULL;
    json_t *values = proto_state_client_values (reply);
    if (rev)
        *rev = json_integer_value (json_object_get (reply, "rev"));
    json_decref (reply);
    return values;
}

json_t *
ctl_request_quiet_missing (const proto_endpoints_t *endpoints, const char *command,
                           json_t *request)
{
    return s_request (endpoints, command, request, true);
}
