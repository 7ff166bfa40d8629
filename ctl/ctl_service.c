/*  ctl_service: defining services. Every definition is validated with proto_service (the same
    code dnsd and vmctl use) before it is written.  */

#include "ctl_prepare.h"
#include "ctl_request.h"
#include "ctl_service.h"

static const char *s_usage =
    "Usage: jitsuctl service COMMAND [ARGS...]\n"
    "Define the services jitsu summons VMs for (/services/NAME/config in statestore).\n"
    "\n"
    "  add NAME KEY=VALUE[,KEY=VALUE...]... [--replace]\n"
    "        define a service in the original Jitsu syntax, e.g.\n"
    "        jitsuctl service add www dns=www.example.org,ip=10.0.0.10,domain=www,ttl=60\n"
    "        dns= and wake= repeat; template fields are flat (kernel=,initrd=,cmdline=,\n"
    "        memory_mib=,vcpus=,bridge=,machine=); write a comma inside a value as \\,\n"
    "        --replace overwrites an existing definition\n"
    "        idle_ladder=60:suspend/600:save/3600:destroy gives the idle tiers\n"
    "  apply FILE.json   define every service of a JSON list (or one object) atomically\n"
    "  ls                list services with their state\n"
    "  show NAME         the effective definition (defaults filled in) and the status\n"
    "  rm NAME           delete a service's definition and status (vmctl removes its save\n"
    "                    file)\n"
    "  prepare NAME [paused|saved|off]\n"
    "                    boot it once and leave it in that tier (default saved), so its first\n"
    "                    query resumes or restores instead of cold-booting; waits up to 120 s\n"
    "\n"
    "Fields and defaults: proto/PROTOCOL.md, section Services.\n";

//  Validate CONFIG (borrowed) as service NAME; prints why not. Returns 0 or -1.
static int
s_validate (json_t *config, const char *name)
{
    proto_service_t service;
    proto_service_init (&service);
    proto_error_t error;
    int rc = proto_service_parse (&service, config, name, &error);
    if (rc)
        fprintf (stderr, "jitsuctl service: invalid definition: %s\n", error.text);
    else if (!streq (service.name, name)) {
        fprintf (stderr, "jitsuctl service: name \"%s\" does not match %s\n", service.name, name);
        rc = -1;
    }
    proto_service_reset (&service);
    return rc ? -1 : 0;
}

static char *
s_config_key (const char *name)
{
    return zsys_sprintf ("/services/%s/config", name);
}

static int
s_add (const proto_endpoints_t *endpoints, int argc, char **argv)
{
    bool replace = false;
    int words = 0;
    char **word_list = (char **) calloc (argc + 1, sizeof (char *));
    for (int index = 1; index < argc; index++) {
        if (streq (argv[index], "--replace"))
            replace = true;
        else
            word_list[words++] = argv[index];
    }
    proto_error_t error;
    json_t *config = proto_service_from_words (argv[0], words, word_list, &error);
    free (word_list);
    if (!config) {
        fprintf (stderr, "jitsuctl service add: %s\n", error.text);
        return 1;
    }
    if (s_validate (config, argv[0])) {
        json_decref (config);
        return 1;
    }
    char *key = s_config_key (argv[0]);
    json_t *request = json_pack ("{s:s, s:s, s:o}", "op", "put", "key", key, "value", config);
    json_object_set_new (request, "message", json_sprintf ("service add %s", argv[0]));
    if (!replace)
        json_object_set_new (request, "expect_rev", json_integer (0));
    zstr_free (&key);
    json_t *reply = ctl_request (endpoints, "service add", request);
    if (!reply) {
        if (!replace)
            fprintf (stderr, "jitsuctl service add: (use --replace to overwrite an existing "
                             "service)\n");
        return 1;
    }
    printf ("service %s defined at rev %lld\n", argv[0],
            (long long) json_integer_value (json_object_get (reply, "rev")));
    json_decref (reply);
    return 0;
}

static int
s_apply (const proto_endpoints_t *endpoints, const char *path)
{
    json_error_t json_error;
    json_t *document = json_load_file (path, JSON_REJECT_DUPLICATES, &json_error);
    if (!document) {
        fprintf (stderr, "jitsuctl service apply: %s:%d: %s\n", path, json_error.line,
                 json_error.text);
        return 1;
    }
    if (json_is_object (document)) {
        json_t *list = json_array ();
        json_array_append_new (list, document);
        document = list;
    }
    int rc = 1;
    json_t *ops = json_array ();
    size_t index;
    json_t *config;
    json_array_foreach (document, index, config) {
        const char *name = json_string_value (json_object_get (config, "name"));
        char where[64];
        snprintf (where, sizeof where, "%s[%zu]", path, index);
        if (!name) {
            fprintf (stderr, "jitsuctl service apply: %s: name: missing\n", where);
            goto cleanup;
        }
        if (s_validate (config, name))
            goto cleanup;
        char *key = s_config_key (name);
        json_array_append_new (ops, json_pack ("{s:s, s:s, s:O}", "op", "put", "key", key,
                                               "value", config));
        zstr_free (&key);
    }
    if (json_array_size (ops) == 0) {
        fprintf (stderr, "jitsuctl service apply: %s defines no service\n", path);
        goto cleanup;
    }
    json_t *request = json_pack ("{s:s, s:O}", "op", "tx", "ops", ops);
    json_object_set_new (request, "message",
                         json_sprintf ("service apply %s (%zu services)", path,
                                       json_array_size (ops)));
    json_t *reply = ctl_request (endpoints, "service apply", request);
    if (reply) {
        printf ("%zu services applied at rev %lld\n", json_array_size (ops),
                (long long) json_integer_value (json_object_get (reply, "rev")));
        json_decref (reply);
        rc = 0;
    }
cleanup:
    json_decref (ops);
    json_decref (document);
    return rc;
}

static int
s_ls (const proto_endpoints_t *endpoints)
{
    json_t *values = ctl_request_snapshot (endpoints, "service", "/services", NULL);
    if (!values)
        return 1;
    printf ("%-16s %-28s %-15s %-9s %s\n", "NAME", "DNS", "IP", "MASK", "STATE");
    const char *key;
    json_t *value;
    json_object_foreach (values, key, value) {
        size_t length = strlen (key);
        if (length < 7 || !streq (key + length - 7, "/config"))
            continue;
        proto_service_t service;
        proto_service_init (&service);
        char name[PROTO_NAME_MAX + 1];
        snprintf (name, sizeof name, "%.*s", (int) (length - 7 - 10), key + 10);
        proto_error_t error;
        if (proto_service_parse (&service, value, name, &error)) {
            printf ("%-16s (invalid: %s)\n", name, error.text);
            continue;
        }
        char *status_key = zsys_sprintf ("/services/%s/status", name);
        const char *state =
            json_string_value (json_object_get (json_object_get (values, status_key), "state"));
        zstr_free (&status_key);
        printf ("%-16s %-28s %-15s %-9s %s\n", name, service.dns[0], service.ip,
                proto_mask_name (service.mask), state ? state : "off");
        proto_service_reset (&service);
    }
    json_decref (values);
    return 0;
}

static int
s_show (const proto_endpoints_t *endpoints, const char *name)
{
    char *prefix = zsys_sprintf ("/services/%s", name);
    json_t *values = ctl_request_snapshot (endpoints, "service", prefix, NULL);
    zstr_free (&prefix);
    if (!values)
        return 1;
    char *key = s_config_key (name);
    json_t *config = json_object_get (values, key);
    zstr_free (&key);
    int rc = 1;
    if (!config)
        fprintf (stderr, "jitsuctl service show: no service %s\n", name);
    else {
        proto_service_t service;
        proto_service_init (&service);
        proto_error_t error;
        if (proto_service_parse (&service, config, name, &error))
            fprintf (stderr, "jitsuctl service show: stored definition is invalid: %s\n",
                     error.text);
        else {
            char *status_key = zsys_sprintf ("/services/%s/status", name);
            json_t *shown = json_pack ("{s:o, s:O}", "config", proto_service_encode (&service),
                                       "status", json_object_get (values, status_key)
                                                     ? json_object_get (values, status_key)
                                                     : json_null ());
            zstr_free (&status_key);
            json_dumpf (shown, stdout, JSON_INDENT (2));
            fputc ('\n', stdout);
            json_decref (shown);
            rc = 0;
        }
        proto_service_reset (&service);
    }
    json_decref (values);
    return rc;
}

static int
s_rm (const proto_endpoints_t *endpoints, const char *name)
{
    char *prefix = zsys_sprintf ("/services/%s", name);
    json_t *listing = ctl_request (endpoints, "service rm",
                                   json_pack ("{s:s, s:s}", "op", "list", "prefix", prefix));
    zstr_free (&prefix);
    if (!listing)
        return 1;
    json_t *keys = json_object_get (listing, "keys");
    if (json_array_size (keys) == 0) {
        fprintf (stderr, "jitsuctl service rm: no service %s\n", name);
        json_decref (listing);
        return 1;
    }
    json_t *ops = json_array ();
    size_t index;
    json_t *key;
    json_array_foreach (keys, index, key)
        json_array_append_new (ops, json_pack ("{s:s, s:O}", "op", "del", "key", key));
    json_t *request = json_pack ("{s:s, s:o}", "op", "tx", "ops", ops);
    json_object_set_new (request, "message", json_sprintf ("service rm %s", name));
    json_decref (listing);
    json_t *reply = ctl_request (endpoints, "service rm", request);
    if (!reply)
        return 1;
    printf ("service %s removed at rev %lld\n", name,
            (long long) json_integer_value (json_object_get (reply, "rev")));
    json_decref (reply);
    return 0;
}

int
ctl_service_run (const proto_endpoints_t *endpoints, int argc, char **argv)
{
    if (argc < 2 || streq (argv[1], "--help") || streq (argv[1], "-h")) {
        fputs (s_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *command = argv[1];
    for (int index = 2; index < argc; index++)
        if (streq (argv[index], "--help") || streq (argv[index], "-h")) {
            fputs (s_usage, stdout);
            return 0;
        }
    if (streq (command, "add") && argc >= 4)
        return s_add (endpoints, argc - 2, argv + 2);
    if (streq (command, "apply") && argc == 3)
        return s_apply (endpoints, argv[2]);
    if (streq (command, "ls") && argc == 2)
        return s_ls (endpoints);
    if (streq (command, "show") && argc == 3)
        return s_show (endpoints, argv[2]);
    if (streq (command, "rm") && argc == 3)
        return s_rm (endpoints, argv[2]);
    if (streq (command, "prepare") && (argc == 3 || argc == 4))
        return ctl_prepare_run (endpoints, argv[2], argc == 4 ? argv[3] : NULL, 120000);
    fprintf (stderr, "jitsuctl service: bad command or arguments\n%s", s_usage);
    return 2;
}
