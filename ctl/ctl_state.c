/*  ctl_state: `jitsuctl state`, the key/value store and its history from the command line.  */

#include <getopt.h>
#include <time.h>

#include "ctl_args.h"
#include "ctl_request.h"
#include "ctl_state.h"

static const char *s_usage =
    "Usage: jitsuctl state COMMAND [ARGS...]\n"
    "Read and write statestore's keys, and walk their history.\n"
    "\n"
    "  get KEY                    print a key's value\n"
    "  put KEY JSON [--expect-rev N] [-m MESSAGE]   set a value (JSON, or - for stdin)\n"
    "  del KEY [--expect-rev N] [-m MESSAGE]        delete a key\n"
    "  ls [PREFIX]                list keys\n"
    "  tree [PREFIX]              list keys and the fields of their values, aligned\n"
    "  log [PREFIX] [--limit N]   commits that changed keys under PREFIX, newest first\n"
    "  diff FROM TO               keys that differ between two revisions\n"
    "  at KEY REV|COMMIT          a key's value at a revision or commit\n"
    "\n"
    "  --json   print statestore's reply as JSON instead (every command)\n";

//  Options shared by the state commands.
typedef struct {
    bool json;
    long long expect_rev;       // -1 when not given
    long limit;
    const char *message;
} s_options_t;

static void
s_print_json (json_t *value)
{
    json_dumpf (value, stdout, JSON_INDENT (2) | JSON_ENCODE_ANY);
    fputc ('\n', stdout);
}

//  One line of `tree`: PATH, dots, VALUE.
typedef struct {
    char *path;
    char *value;
} s_line_t;

//  Flatten VALUE at PATH into LINES: objects become sub-paths, anything else one line.
static void
s_flatten (zlistx_t *lines, const char *path, json_t *value)
{
    if (json_is_object (value) && json_object_size (value) > 0) {
        const char *field;
        json_t *child;
        json_object_foreach (value, field, child) {
            char *child_path = zsys_sprintf ("%s/%s", path, field);
            s_flatten (lines, child_path, child);
            zstr_free (&child_path);
        }
        return;
    }
    s_line_t *line = (s_line_t *) zmalloc (sizeof (s_line_t));
    line->path = strdup (path);
    line->value = json_is_string (value) ? strdup (json_string_value (value))
                                         : json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
    zlistx_add_end (lines, line);
}

static int
s_print_tree (json_t *entries)
{
    zlistx_t *lines = zlistx_new ();
    size_t index;
    json_t *entry;
    json_array_foreach (entries, index, entry)
        s_flatten (lines, json_string_value (json_object_get (entry, "key")),
                   json_object_get (entry, "value"));
    size_t width = 0;
    for (s_line_t *line = (s_line_t *) zlistx_first (lines); line;
         line = (s_line_t *) zlistx_next (lines))
        width = strlen (line->path) > width ? strlen (line->path) : width;
    for (s_line_t *line = (s_line_t *) zlistx_first (lines); line;
         line = (s_line_t *) zlistx_next (lines)) {
        printf ("%s ", line->path);
        for (size_t dot = strlen (line->path); dot < width + 3; dot++)
            putchar ('.');
        printf (" %s\n", line->value);
        free (line->path);
        free (line->value);
        free (line);
    }
    zlistx_destroy (&lines);
    return 0;
}

static int
s_print_log (json_t *entries)
{
    size_t index;
    json_t *entry;
    json_array_foreach (entries, index, entry) {
        time_t seconds = (time_t) (json_integer_value (json_object_get (entry, "ts")) / 1000);
        char when[32];
        strftime (when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime (&seconds));
        printf ("rev %-6lld %s  %.10s  %-16s %s\n",
                (long long) json_integer_value (json_object_get (entry, "rev")), when,
                json_string_value (json_object_get (entry, "commit")),
                json_string_value (json_object_get (entry, "author")),
                json_string_value (json_object_get (entry, "message")));
        size_t change_index;
        json_t *change;
        json_array_foreach (json_object_get (entry, "changes"), change_index, change)
            printf ("    %s %s\n", json_string_value (json_object_get (change, "op")),
                    json_string_value (json_object_get (change, "key")));
    }
    return 0;
}

static int
s_print_diff (json_t *changes)
{
    size_t index;
    json_t *change;
    json_array_foreach (changes, index, change) {
        char *old_text = json_object_get (change, "old")
                             ? json_dumps (json_object_get (change, "old"),
                                           JSON_COMPACT | JSON_ENCODE_ANY)
                             : NULL;
        char *new_text = json_object_get (change, "new")
                             ? json_dumps (json_object_get (change, "new"),
                                           JSON_COMPACT | JSON_ENCODE_ANY)
                             : NULL;
        printf ("%s %s\n", json_string_value (json_object_get (change, "op")),
                json_string_value (json_object_get (change, "key")));
        if (old_text)
            printf ("  - %s\n", old_text);
        if (new_text)
            printf ("  + %s\n", new_text);
        free (old_text);
        free (new_text);
    }
    return 0;
}

//  Build the request for COMMAND with ARGUMENTS (already checked for count).
static json_t *
s_build (const char *command, int count, char **arguments, const s_options_t *options)
{
    if (streq (command, "get"))
        return json_pack ("{s:s, s:s}", "op", "get", "key", arguments[0]);
    if (streq (command, "ls") || streq (command, "tree"))
        return json_pack ("{s:s, s:s}", "op", streq (command, "ls") ? "list" : "snapshot",
                          "prefix", count ? arguments[0] : "");
    if (streq (command, "log"))
        return json_pack ("{s:s, s:s, s:i}", "op", "log", "prefix", count ? arguments[0] : "",
                          "limit", (int) options->limit);
    if (streq (command, "diff")) {
        char *end_from, *end_to;
        long long from = strtoll (arguments[0], &end_from, 10);
        long long to = strtoll (arguments[1], &end_to, 10);
        if (*end_from || *end_to) {
            fprintf (stderr, "jitsuctl state diff: FROM and TO are revision numbers\n");
            return NULL;
        }
        return json_pack ("{s:s, s:I, s:I}", "op", "diff", "from", from, "to", to);
    }
    if (streq (command, "at")) {
        char *end;
        long long rev = strtoll (arguments[1], &end, 10);
        if (*end || rev < 1)  // not a number: a commit id
            return json_pack ("{s:s, s:s, s:s}", "op", "get_at", "key", arguments[0], "commit",
                              arguments[1]);
        return json_pack ("{s:s, s:s, s:I}", "op", "get_at", "key", arguments[0], "rev", rev);
    }
    json_t *request = json_pack ("{s:s, s:s}", "op", command, "key", arguments[0]);
    if (streq (command, "put")) {
        json_error_t error;
        json_t *value = streq (arguments[1], "-")
                            ? json_loadf (stdin, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error)
                            : json_loads (arguments[1], JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                                          &error);
        if (!value) {
            fprintf (stderr, "jitsuctl state put: the value is not JSON: %s\n", error.text);
            json_decref (request);
            return NULL;
        }
        json_object_set_new (request, "value", value);
    }
    if (options->expect_rev >= 0)
        json_object_set_new (request, "expect_rev", json_integer (options->expect_rev));
    if (options->message)
        json_object_set_new (request, "message", json_string (options->message));
    return request;
}

//  Print the useful part of REPLY to COMMAND.
static void
s_show (const char *command, json_t *reply, const s_options_t *options)
{
    if (options->json)
        s_print_json (reply);
    else if (streq (command, "get") || streq (command, "at"))
        s_print_json (json_object_get (reply, "value"));
    else if (streq (command, "put") || streq (command, "del"))
        printf ("rev %lld %s%s\n", (long long) json_integer_value (json_object_get (reply, "rev")),
                json_string_value (json_object_get (reply, "commit")),
                json_is_true (json_object_get (reply, "unchanged")) ? " (unchanged)" : "");
    else if (streq (command, "ls")) {
        size_t index;
        json_t *key;
        json_array_foreach (json_object_get (reply, "keys"), index, key)
            puts (json_string_value (key));
    }
    else if (streq (command, "tree"))
        s_print_tree (json_object_get (reply, "entries"));
    else if (streq (command, "log"))
        s_print_log (json_object_get (reply, "entries"));
    else if (streq (command, "diff"))
        s_print_diff (json_object_get (reply, "changes"));
}

int
ctl_state_run (const proto_endpoints_t *endpoints, int argc, char **argv)
{
    static const struct {
        const char *name;
        int min, max;           // positional arguments
    } commands[] = {
        {"get", 1, 1}, {"put", 2, 2}, {"del", 1, 1},  {"ls", 0, 1},
        {"tree", 0, 1}, {"log", 0, 1}, {"diff", 2, 2}, {"at", 2, 2},
    };
    static const struct option flags[] = {
        {"json", no_argument, NULL, 'j'},
        {"expect-rev", required_argument, NULL, 'e'},
        {"limit", required_argument, NULL, 'l'},
        {"message", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2 || streq (argv[1], "--help") || streq (argv[1], "-h")) {
        fputs (s_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *command = argv[1];
    s_options_t options = {false, -1, 20, NULL};
    int option;
    optind = 2;
    while ((option = getopt_long (argc, argv, "hm:", flags, NULL)) != -1) {
        char *end = NULL;
        if (option == 'j')
            options.json = true;
        else if (option == 'e')
            options.expect_rev = strtoll (optarg, &end, 10);
        else if (option == 'l')
            options.limit = strtol (optarg, &end, 10);
        else if (option == 'm')
            options.message = optarg;
        else
            return ctl_args_other (option, s_usage);
        if (end && (*end || options.expect_rev < -1 || options.limit < 1)) {
            fprintf (stderr, "jitsuctl state: --expect-rev and --limit take numbers\n");
            return 2;
        }
    }
    int count = argc - optind;
    for (size_t index = 0; index < sizeof commands / sizeof commands[0]; index++) {
        if (!streq (commands[index].name, command))
            continue;
        if (count < commands[index].min || count > commands[index].max) {
            fprintf (stderr, "jitsuctl state %s: wrong number of arguments\n%s", command, s_usage);
            return 2;
        }
        json_t *request = s_build (command, count, argv + optind, &options);
        if (!request)
            return 1;
        char what[32];
        snprintf (what, sizeof what, "state %s", command);
        json_t *reply = ctl_request (endpoints, what, request);
        if (!reply)
            return 1;
        s_show (command, reply, &options);
        json_decref (reply);
        return 0;
    }
    fprintf (stderr, "jitsuctl state: unknown command '%s'\n%s", command, s_usage);
    return 2;
}
