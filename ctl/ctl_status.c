/*  ctl_status: `jitsuctl status`, services and processes at a glance.

    Services come from statestore (definition and status). What only lives in the running
    processes comes from the bus, heard for a short window: heartbeats say which processes are
    alive, dns.hits when each service was last queried (dnsd publishes them every second while
    a service is queried), from which the time left before the idle stop follows.  */

#include <getopt.h>
#include <time.h>

#include "ctl_args.h"
#include "ctl_request.h"
#include "ctl_status.h"

#define S_LISTEN_MS_DEFAULT 2000

static const char *s_usage =
    "Usage: jitsuctl status [--listen MS] [--json]\n"
    "Show every service (state, address, boots, last boot, last query, time until the idle\n"
    "stop) and every process heard on the bus (instance, pid, uptime, version).\n"
    "  --listen MS  how long to listen to the bus for heartbeats and queries (default 2000;\n"
    "               a service not queried within that window shows no last query)\n"
    "  --json       print it as JSON\n";

//  What the bus said while we listened.
typedef struct {
    json_t *processes;  // owned: "name/instance" -> {name, instance, pid, uptime_s, version}
    json_t *queries;    // owned: service -> last query, UNIX ms
} s_heard_t;

static void
s_heard (s_heard_t *heard, const proto_msg_t *msg)
{
    if (msg->type == PROTO_MSG_SVC_ALIVE) {
        const proto_svc_alive_t *alive = &msg->svc_alive;
        char key[2 * PROTO_NAME_MAX + 2];
        snprintf (key, sizeof key, "%s/%s", alive->name, alive->instance);
        json_object_set_new (heard->processes, key,
                             json_pack ("{s:s, s:s, s:I, s:I, s:s}", "name", alive->name,
                                        "instance", alive->instance, "pid",
                                        (json_int_t) alive->pid, "uptime_s",
                                        (json_int_t) alive->uptime_s, "version",
                                        alive->version));
    }
    else if (msg->type == PROTO_MSG_DNS_HITS) {
        json_t *known = json_object_get (heard->queries, msg->dns_hits.service);
        if (!known || json_integer_value (known) < msg->dns_hits.last_ts)
            json_object_set_new (heard->queries, msg->dns_hits.service,
                                 json_integer (msg->dns_hits.last_ts));
    }
}

//  Listen to the bus for LISTEN_MS and fill HEARD.
static void
s_listen (const proto_endpoints_t *endpoints, int listen_ms, s_heard_t *heard)
{
    proto_sub_t *sub = proto_sub_new (endpoints->bus_out);
    if (!sub)
        return;
    proto_sub_subscribe (sub, "svc.alive");
    proto_sub_subscribe (sub, "dns.hits");
    zpoller_t *poller = zpoller_new (proto_sub_sock (sub), NULL);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    int64_t deadline = zclock_mono () + listen_ms;
    while (!zsys_interrupted && zclock_mono () < deadline) {
        zpoller_wait (poller, (int) (deadline - zclock_mono ()));
        while (proto_sub_recv (sub, &msg, NULL) != -1) {
            s_heard (heard, &msg);
            proto_msg_reset (&msg);
        }
    }
    proto_msg_reset (&msg);
    zpoller_destroy (&poller);
    proto_sub_destroy (&sub);
}

//  "12s", "5m", "3h", "2d": a duration for a narrow column.
static void
s_age (int64_t ms, char *text, size_t size)
{
    int64_t seconds = ms / 1000;
    if (seconds < 120)
        snprintf (text, size, "%llds", (long long) seconds);
    else if (seconds < 7200)
        snprintf (text, size, "%lldm", (long long) seconds / 60);
    else if (seconds < 172800)
        snprintf (text, size, "%lldh", (long long) seconds / 3600);
    else
        snprintf (text, size, "%lldd", (long long) seconds / 86400);
}

//  One service's row as JSON: the facts, computed at NOW (UNIX ms).
static json_t *
s_service_row (const char *name, json_t *config, json_t *status_value, json_t *queries,
               int64_t now)
{
    proto_service_t service;
    proto_service_init (&service);
    proto_error_t error;
    json_t *row = json_pack ("{s:s}", "name", name);
    if (proto_service_parse (&service, config, name, &error)) {
        json_object_set_new (row, "error", json_string (error.text));
        return row;
    }
    proto_status_t status;
    memset (&status, 0, sizeof status);  // off, never booted
    if (status_value)
        proto_status_parse (&status, status_value, &error);
    json_object_set_new (row, "state", json_string (proto_state_name (status.state)));
    json_object_set_new (row, "ip", json_string (service.ip));
    json_object_set_new (row, "dns", json_string (service.dns[0]));
    json_object_set_new (row, "mask", json_string (proto_mask_name (service.mask)));
    json_object_set_new (row, "boots", json_integer (status.boots));
    json_object_set_new (row, "since", json_integer (status.since));
    if (status.last_boot_ms)
        json_object_set_new (row, "last_boot_ms", json_integer (status.last_boot_ms));
    if (status.last_error[0])
        json_object_set_new (row, "last_error", json_string (status.last_error));
    json_t *query = json_object_get (queries, name);
    if (query)
        json_object_set (row, "last_query", query);
    //  vmctl stops a ready VM idle_timeout_s after its last use: becoming ready, or the last
    //  query. A query heard while listening gives the exact time left; without one, any query
    //  came earlier, so the time counted from becoming ready is only a lower bound.
    if (status.state == PROTO_STATE_READY) {
        int64_t timeout_ms = service.idle_timeout_s * 1000LL;
        if (query && json_integer_value (query) > status.since)
            json_object_set_new (row, "idle_stop_in_ms",
                                 json_integer (json_integer_value (query) + timeout_ms - now));
        else if (status.since + timeout_ms > now)
            json_object_set_new (row, "idle_stop_in_at_least_ms",
                                 json_integer (status.since + timeout_ms - now));
    }
    proto_service_reset (&service);
    return row;
}

static void
s_print_services (json_t *services, int64_t now)
{
    printf ("%-16s %-9s %-15s %5s  %-10s %-10s %-10s %s\n", "SERVICE", "STATE", "IP", "BOOTS",
            "LAST BOOT", "LAST QUERY", "IDLE STOP", "NAME");
    size_t index;
    json_t *row;
    json_array_foreach (services, index, row) {
        const char *name = json_string_value (json_object_get (row, "name"));
        if (json_object_get (row, "error")) {
            printf ("%-16s invalid: %s\n", name,
                    json_string_value (json_object_get (row, "error")));
            continue;
        }
        char last_boot[24] = "-", last_query[24] = "-", idle[24] = "-";
        json_t *boot_ms = json_object_get (row, "last_boot_ms");
        if (boot_ms)
            snprintf (last_boot, sizeof last_boot, "%lld ms",
                      (long long) json_integer_value (boot_ms));
        json_t *query = json_object_get (row, "last_query");
        if (query) {
            s_age (now - json_integer_value (query), last_query, sizeof last_query - 4);
            strcat (last_query, " ago");
        }
        json_t *exact = json_object_get (row, "idle_stop_in_ms");
        json_t *bound = json_object_get (row, "idle_stop_in_at_least_ms");
        if (exact)
            s_age (json_integer_value (exact) > 0 ? json_integer_value (exact) : 0, idle,
                   sizeof idle);
        else if (bound) {
            idle[0] = '>';
            idle[1] = '=';
            s_age (json_integer_value (bound), idle + 2, sizeof idle - 2);
        }
        printf ("%-16s %-9s %-15s %5lld  %-10s %-10s %-10s %s\n", name,
                json_string_value (json_object_get (row, "state")),
                json_string_value (json_object_get (row, "ip")),
                (long long) json_integer_value (json_object_get (row, "boots")), last_boot,
                last_query, idle, json_string_value (json_object_get (row, "dns")));
    }
}

static void
s_print_processes (json_t *processes)
{
    printf ("\n%-24s %8s %10s  %s\n", "PROCESS", "PID", "UPTIME", "VERSION");
    size_t index;
    json_t *row;
    json_array_foreach (processes, index, row) {
        char key[2 * PROTO_NAME_MAX + 2], uptime[24];
        snprintf (key, sizeof key, "%s/%s", json_string_value (json_object_get (row, "name")),
                  json_string_value (json_object_get (row, "instance")));
        s_age (json_integer_value (json_object_get (row, "uptime_s")) * 1000, uptime,
               sizeof uptime);
        printf ("%-24s %8lld %10s  %s\n", key,
                (long long) json_integer_value (json_object_get (row, "pid")), uptime,
                json_string_value (json_object_get (row, "version")));
    }
    if (json_array_size (processes) == 0)
        printf ("(no heartbeat heard: is the bus running?)\n");
}

static int
s_by_string (const void *left, const void *right)
{
    return strcmp (*(const char *const *) left, *(const char *const *) right);
}

//  The values of OBJECT in key order, as a new array.
static json_t *
s_sorted_values (json_t *object)
{
    size_t count = json_object_size (object), index = 0;
    const char **keys = (const char **) malloc ((count ? count : 1) * sizeof (char *));
    const char *key;
    json_t *value;
    json_object_foreach (object, key, value)
        keys[index++] = key;
    qsort (keys, count, sizeof (char *), s_by_string);
    json_t *array = json_array ();
    for (index = 0; index < count; index++)
        json_array_append (array, json_object_get (object, keys[index]));
    free (keys);
    return array;
}

int
ctl_status_run (const proto_endpoints_t *endpoints, int argc, char **argv)
{
    static const struct option options[] = {
        {"listen", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long listen_ms = S_LISTEN_MS_DEFAULT;
    bool as_json = false;
    int option;
    optind = 1;
    while ((option = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        if (option == 'l') {
            if (!ctl_args_number (optarg, 0, 60000, &listen_ms,
                                  "jitsuctl status: --listen takes 0 to 60000 ms"))
                return 2;
        }
        else if (option == 'j')
            as_json = true;
        else
            return ctl_args_other (option, s_usage);
    }
    if (!ctl_args_operands (argc, 0, s_usage))
        return 2;
    int64_t rev;
    json_t *values = ctl_request_snapshot (endpoints, "status", "/services", &rev);
    if (!values)
        return 1;
    s_heard_t heard = {json_object (), json_object ()};
    s_listen (endpoints, (int) listen_ms, &heard);
    int64_t now = zclock_time ();

    //  Pair each config with its status.
    json_t *services = json_array ();
    const char *key;
    json_t *value;
    json_object_foreach (values, key, value) {
        size_t length = strlen (key);
        if (length <= 17 || !streq (key + length - 7, "/config"))
            continue;
        char name[PROTO_NAME_MAX + 1];
        snprintf (name, sizeof name, "%.*s", (int) (length - 17), key + 10);
        char *status_key = zsys_sprintf ("/services/%s/status", name);
        json_array_append_new (services,
                               s_service_row (name, value, json_object_get (values, status_key),
                                              heard.queries, now));
        zstr_free (&status_key);
    }
    json_t *processes = s_sorted_values (heard.processes);
    if (as_json) {
        json_t *document = json_pack ("{s:I, s:I, s:i, s:o, s:o}", "rev", (json_int_t) rev,
                                      "now", (json_int_t) now, "listened_ms", (int) listen_ms,
                                      "services", services, "processes", processes);
        json_dumpf (document, stdout, JSON_INDENT (2));
        fputc ('\n', stdout);
        json_decref (document);
    }
    else {
        s_print_services (services, now);
        s_print_processes (processes);
        printf ("\n(last query and processes: what the bus said in the last %ld ms; state rev "
                "%lld)\n", listen_ms, (long long) rev);
        json_decref (services);
        json_decref (processes);
    }
    json_decref (values);
    json_decref (heard.processes);
    json_decref (heard.queries);
    return 0;
}
