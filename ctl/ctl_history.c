/*  ctl_history: a service's life from the commits that touched /services/NAME.

    Every transition vmctl makes is one write of /services/NAME/status, hence one commit; the
    log request returns those commits with the values they wrote, oldest last, and this prints
    them oldest first.  */

#include <getopt.h>
#include <limits.h>
#include <time.h>

#include "ctl_args.h"
#include "ctl_history.h"
#include "ctl_request.h"

static const char *s_usage =
    "Usage: jitsuctl history SERVICE [--since TIME] [--limit N] [--json]\n"
    "Show a service's boots, readiness, stops and definition changes over time, from\n"
    "statestore's history (one commit per transition).\n"
    "  --since TIME  only newer events: 30s, 10m, 2h, 3d ago; 2026-11-22[T07:30[:00]] local\n"
    "                time; or UNIX seconds\n"
    "  --limit N     look at most N commits back (default 1000)\n"
    "  --json        print statestore's log entries as JSON\n";

int64_t
ctl_history_parse_time (const char *text, int64_t now_ms)
{
    char *end;
    long long number = strtoll (text, &end, 10);
    if (end != text && number >= 0) {
        static const struct {
            const char *suffix;
            int64_t ms;
        } units[] = {{"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
        for (size_t index = 0; index < sizeof units / sizeof units[0]; index++)
            if (streq (end, units[index].suffix))
                return now_ms - number * units[index].ms;
        if (*end == '\0')
            return number * 1000;  // UNIX seconds
    }
    struct tm when = {0};
    const char *formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"};
    for (size_t index = 0; index < 3; index++) {
        memset (&when, 0, sizeof when);
        const char *rest = strptime (text, formats[index], &when);
        if (rest && *rest == '\0') {
            when.tm_isdst = -1;
            return (int64_t) mktime (&when) * 1000;
        }
    }
    return -1;
}

static void
s_time (int64_t ms, char *text, size_t size)
{
    time_t seconds = (time_t) (ms / 1000);
    struct tm local;
    localtime_r (&seconds, &local);
    size_t length = strftime (text, size, "%Y-%m-%d %H:%M:%S", &local);
    snprintf (text + length, size - length, ".%03d", (int) (ms % 1000));
}

//  Print one change of ENTRY: status transitions in words, anything else as who wrote it.
static void
s_print_change (json_t *entry, json_t *change)
{
    const char *key = json_string_value (json_object_get (change, "key"));
    const char *op = json_string_value (json_object_get (change, "op"));
    int64_t rev = json_integer_value (json_object_get (entry, "rev"));
    int64_t ts = json_integer_value (json_object_get (entry, "ts"));
    const char *author = json_string_value (json_object_get (entry, "author"));
    const char *leaf = strrchr (key, '/') + 1;
    char when[40];
    if (streq (leaf, "status") && streq (op, "put")) {
        proto_status_t status;
        proto_error_t error;
        if (proto_status_parse (&status, json_object_get (change, "value"), &error)) {
            s_time (ts, when, sizeof when);
            printf ("%s  rev %-6lld unreadable status: %s\n", when, (long long) rev, error.text);
            return;
        }
        s_time (status.since ? status.since : ts, when, sizeof when);
        printf ("%s  rev %-6lld %-8s", when, (long long) rev, proto_state_name (status.state));
        switch (status.state) {
        case PROTO_STATE_BOOTING:
            printf (" %s (boot #%lld)\n", status.boot_id, (long long) status.boots);
            break;
        case PROTO_STATE_READY:
            printf (" %s ready in %lld ms%s%s\n", status.boot_id, (long long) status.last_boot_ms,
                    status.from ? " from " : "", status.from ? proto_tier_name (status.from) : "");
            break;
        case PROTO_STATE_FAILED:
            printf (" %s: %s\n", status.boot_id, status.last_error);
            break;
        default:
            printf (" %s\n", status.boot_id);
        }
        return;
    }
    s_time (ts, when, sizeof when);
    printf ("%s  rev %-6lld %s %s by %s (%s)\n", when, (long long) rev, leaf,
            streq (op, "put") ? "written" : "deleted", author,
            json_string_value (json_object_get (entry, "message")));
}

int
ctl_history_run (const proto_endpoints_t *endpoints, int argc, char **argv)
{
    static const struct option options[] = {
        {"since", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int64_t since = 0;
    long limit = 1000;
    bool as_json = false;
    int option;
    optind = 1;
    while ((option = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        if (option == 's') {
            since = ctl_history_parse_time (optarg, zclock_time ());
            if (since < 0) {
                fprintf (stderr, "jitsuctl history: --since: cannot read \"%s\"\n", optarg);
                return 2;
            }
        }
        else if (option == 'l') {
            if (!ctl_args_number (optarg, 1, LONG_MAX, &limit,
                                  "jitsuctl history: --limit needs a positive number"))
                return 2;
        }
        else if (option == 'j')
            as_json = true;
        else
            return ctl_args_other (option, s_usage);
    }
    if (!ctl_args_operands (argc, 1, s_usage))
        return 2;
    const char *service = argv[optind];
    char prefix[PROTO_NAME_MAX + 16];
    snprintf (prefix, sizeof prefix, "/services/%s", service);
    json_t *reply = ctl_request (endpoints, "history",
                                 json_pack ("{s:s, s:s, s:i, s:I, s:b}", "op", "log", "prefix",
                                            prefix, "limit", (int) limit, "since",
                                            (json_int_t) since, "values", 1));
    if (!reply)
        return 1;
    json_t *entries = json_object_get (reply, "entries");
    if (as_json) {
        json_dumpf (entries, stdout, JSON_INDENT (2));
        fputc ('\n', stdout);
    }
    else if (json_array_size (entries) == 0)
        printf ("no history for %s%s\n", service, since ? " in that period" : "");
    else
        for (size_t index = json_array_size (entries); index-- > 0;) {
            json_t *entry = json_array_get (entries, index);
            size_t change_index;
            json_t *change;
            json_array_foreach (json_object_get (entry, "changes"), change_index, change)
                s_print_change (entry, change);
        }
    json_decref (reply);
    return 0;
}
