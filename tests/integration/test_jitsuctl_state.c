/*  Integration: `jitsuctl service` and `jitsuctl state` against a real statestore.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <sys/wait.h>

#include "proto.h"
#include "test_support.h"

#define S_CTL JITSU_BUILD_DIR "/ctl/jitsuctl"

static char *s_run_dir;
static char s_out[512], s_err[512];

static void
s_setup (void)
{
    s_run_dir = test_rundir_new ();
    snprintf (s_out, sizeof s_out, "%s/out", s_run_dir);
    snprintf (s_err, sizeof s_err, "%s/err", s_run_dir);
    cr_assert (gt (int, test_start_bus (s_run_dir), 0));
    cr_assert (gt (int, test_start_statestore (s_run_dir, NULL), 0));
}

static void
s_teardown (void)
{
    test_reap_all ();
    test_rundir_destroy (&s_run_dir);
}

//  Run jitsuctl with ARGS (NULL-terminated); returns its exit status, output in s_out/s_err.
static int
s_jitsuctl (const char *first, ...)
{
    va_list args;
    va_start (args, first);
    int rc = test_vrun (s_out, s_err, S_CTL, first, args);
    va_end (args);
    return rc;
}

//  Whether FILE contains TEXT.
static bool
s_contains (const char *file, const char *text)
{
    return test_shell ("grep -qF -- '%s' %s", text, file) == 0;
}

TestSuite (jitsuctl_state, .init = s_setup, .fini = s_teardown, .timeout = 60);

Test (jitsuctl_state, service_add_validates_and_stores_the_definition)
{
    cr_assert (eq (int, s_jitsuctl ("service", "add", "www",
                                     "dns=www.example.org,ip=10.0.0.10,domain=www,ttl=30",
                                     NULL), 0));
    cr_assert (eq (int, s_jitsuctl ("service", "add", "www", "dns=x.org,ip=10.0.0.1,domain=w",
                                    NULL), 1), "adding twice needs --replace");
    cr_assert (s_contains (s_err, "--replace"));
    cr_assert (eq (int, s_jitsuctl ("service", "add", "bad", "dns=x.org,ip=10.0.0.300,domain=w",
                                    NULL), 1));
    cr_assert (s_contains (s_err, "ip: \"10.0.0.300\""));
    cr_assert (eq (int, s_jitsuctl ("service", "add", "bad", "dns=x.org,ip=10.0.0.3,domian=w",
                                    NULL), 1));
    cr_assert (s_contains (s_err, "domian"));

    cr_assert (eq (int, s_jitsuctl ("service", "ls", NULL), 0));
    cr_assert (s_contains (s_out, "www.example.org"));
    cr_assert (not (s_contains (s_out, "bad")));
    cr_assert (eq (int, s_jitsuctl ("service", "show", "www", NULL), 0));
    cr_assert (s_contains (s_out, "\"idle_timeout_s\": 60"), "defaults shown: 2 x ttl");

    cr_assert (eq (int, s_jitsuctl ("state", "tree", NULL), 0));
    cr_assert (s_contains (s_out, "/services/www/config/ttl ....."));
    cr_assert (s_contains (s_out, " 30"));

    cr_assert (eq (int, s_jitsuctl ("service", "rm", "www", NULL), 0));
    cr_assert (eq (int, s_jitsuctl ("service", "show", "www", NULL), 1));
}

Test (jitsuctl_state, service_apply_defines_a_list_atomically)
{
    char path[512];
    snprintf (path, sizeof path, "%s/services.json", s_run_dir);
    test_write_file (path, "[{\"name\":\"a\",\"dns\":[\"a.example\"],\"ip\":\"10.0.0.1\","
                           "\"domain\":\"a\"}, {\"name\":\"b\",\"dns\":[\"b.example\"],"
                           "\"ip\":\"10.0.0.2\",\"domain\":\"b\",\"mask\":\"sometimes\"}]");
    cr_assert (eq (int, s_jitsuctl ("service", "apply", path, NULL), 1));
    cr_assert (s_contains (s_err, "mask"));
    cr_assert (eq (int, s_jitsuctl ("state", "ls", "/services", NULL), 0));
    cr_assert (not (s_contains (s_out, "/services/a")), "nothing of a refused list is written");
    test_write_file (path, "[{\"name\":\"a\",\"dns\":[\"a.example\"],\"ip\":\"10.0.0.1\","
                           "\"domain\":\"a\"}, {\"name\":\"b\",\"dns\":[\"b.example\"],"
                           "\"ip\":\"10.0.0.2\",\"domain\":\"b\"}]");
    cr_assert (eq (int, s_jitsuctl ("service", "apply", path, NULL), 0));
    cr_assert (eq (int, s_jitsuctl ("state", "log", NULL), 0));
    cr_assert (s_contains (s_out, "service apply"));
    cr_assert (s_contains (s_out, "put /services/b/config"));
}

Test (jitsuctl_state, state_commands_read_write_and_walk_history)
{
    cr_assert (eq (int, s_jitsuctl ("state", "put", "/k", "{\"v\":1}", NULL), 0));
    cr_assert (eq (int, s_jitsuctl ("state", "put", "/k", "{\"v\":2}", "--expect-rev", "1",
                                    NULL), 0));
    cr_assert (eq (int, s_jitsuctl ("state", "put", "/k", "{\"v\":3}", "--expect-rev", "1",
                                    NULL), 1));
    cr_assert (s_contains (s_err, "conflict"));
    cr_assert (eq (int, s_jitsuctl ("state", "get", "/k", NULL), 0));
    cr_assert (s_contains (s_out, "\"v\": 2"));
    cr_assert (eq (int, s_jitsuctl ("state", "at", "/k", "1", NULL), 0));
    cr_assert (s_contains (s_out, "\"v\": 1"));
    cr_assert (eq (int, s_jitsuctl ("state", "diff", "1", "2", NULL), 0));
    cr_assert (s_contains (s_out, "- {\"v\":1}"));
    cr_assert (s_contains (s_out, "+ {\"v\":2}"));
    cr_assert (eq (int, s_jitsuctl ("state", "del", "/k", NULL), 0));
    cr_assert (eq (int, s_jitsuctl ("state", "get", "/k", NULL), 1));
    cr_assert (s_contains (s_err, "not_found"));
    cr_assert (eq (int, s_jitsuctl ("state", "put", "/k", "not json", NULL), 1));
    cr_assert (eq (int, s_jitsuctl ("state", "frob", NULL), 2));
    cr_assert (eq (int, s_jitsuctl ("state", "--help", NULL), 0));
    cr_assert (eq (int, s_jitsuctl ("service", "--help", NULL), 0));
}

Test (jitsuctl_state, a_missing_statestore_is_reported_not_waited_on_forever)
{
    test_reap_all ();  // statestore and bus gone
    cr_assert (eq (int, s_jitsuctl ("state", "get", "/k", NULL), 1));
    cr_assert (s_contains (s_err, "did not answer"));
}

Test (jitsuctl_state, history_tells_a_services_life_from_the_commits)
{
    cr_assert (eq (int, s_jitsuctl ("service", "add", "www",
                                    "dns=www.example.org,ip=10.0.0.10,domain=www", NULL), 0));
    const char *transitions[] = {
        "{\"state\":\"booting\",\"boot_id\":\"www-1\",\"since\":1795330000000,"
        "\"boots\":1,\"last_boot_ms\":0,\"last_error\":\"\"}",
        "{\"state\":\"ready\",\"boot_id\":\"www-1\",\"since\":1795330002149,"
        "\"boots\":1,\"last_boot_ms\":2149,\"last_error\":\"\"}",
        "{\"state\":\"off\",\"boot_id\":\"www-1\",\"since\":1795330122000,"
        "\"boots\":1,\"last_boot_ms\":2149,\"last_error\":\"\"}",
    };
    for (int index = 0; index < 3; index++)
        cr_assert (eq (int, s_jitsuctl ("state", "put", "/services/www/status",
                                        transitions[index], NULL), 0));
    cr_assert (eq (int, s_jitsuctl ("history", "www", NULL), 0));
    cr_assert (s_contains (s_out, "config written by jitsuctl (service add www)"));
    cr_assert (s_contains (s_out, "booting  www-1 (boot #1)"));
    cr_assert (s_contains (s_out, "ready    www-1 ready in 2149 ms"));
    cr_assert (s_contains (s_out, "off      www-1"));
    //  Oldest first: the definition, then booting, ready, off.
    cr_assert (eq (int, test_shell ("grep -n booting %s | cut -d: -f1 | xargs -I{} "
                                    "sh -c 'test {} -lt $(grep -n \"ready \" %s | cut -d: -f1)'",
                                    s_out, s_out), 0));
    cr_assert (eq (int, s_jitsuctl ("history", "www", "--since", "2099-01-01", NULL), 0));
    cr_assert (s_contains (s_out, "no history for www in that period"));
    cr_assert (eq (int, s_jitsuctl ("history", "www", "--since", "soon", NULL), 2));
    cr_assert (eq (int, s_jitsuctl ("history", "nobody", NULL), 0));
    cr_assert (s_contains (s_out, "no history for nobody"));
}

Test (jitsuctl_state, status_shows_services_from_statestore_and_processes_from_the_bus)
{
    cr_assert (eq (int, s_jitsuctl ("service", "add", "www",
                                    "dns=www.example.org,ip=10.0.0.10,domain=www,ttl=60", NULL),
                   0));
    cr_assert (eq (int, s_jitsuctl ("service", "add", "db", "dns=db.example.org,ip=10.0.0.11,"
                                    "domain=db", NULL), 0));
    char status[256];
    snprintf (status, sizeof status, "{\"state\":\"ready\",\"boot_id\":\"www-2\","
              "\"since\":%lld,\"boots\":2,\"last_boot_ms\":2149,\"last_error\":\"\"}",
              (long long) zclock_time () - 5000);
    cr_assert (eq (int, s_jitsuctl ("state", "put", "/services/www/status", status, NULL), 0));

    //  A query for www, heard while jitsuctl listens: published now and again in a second.
    proto_endpoints_t endpoints;
    proto_endpoints_defaults (&endpoints);
    proto_pub_t *pub = proto_pub_new (endpoints.bus_in, "dnsd", "9");
    char *argv[] = {JITSU_BUILD_DIR "/ctl/jitsuctl", "status", "--json", "--listen", "1500",
                    NULL};
    pid_t status_pid = test_spawn (argv, s_out, s_err);
    zclock_sleep (300);
    for (int round = 0; round < 2; round++) {
        proto_msg_t msg;
        proto_msg_init (&msg, PROTO_MSG_DNS_HITS);
        strcpy (msg.dns_hits.service, "www");
        msg.dns_hits.count = 3;
        msg.dns_hits.first_ts = msg.dns_hits.last_ts = zclock_time () - 100;
        proto_pub_send (pub, &msg);
        zclock_sleep (500);
    }
    int exit_status = 0;
    waitpid (status_pid, &exit_status, 0);
    proto_pub_destroy (&pub);
    cr_assert (eq (int, WEXITSTATUS (exit_status), 0));

    json_t *document = json_load_file (s_out, 0, NULL);
    cr_assert (not (eq (ptr, document, NULL)), "status --json is not JSON");
    json_t *services = json_object_get (document, "services");
    cr_assert (eq (sz, json_array_size (services), 2));
    json_t *db = json_array_get (services, 0), *www = json_array_get (services, 1);
    cr_assert (eq (str, (char *) json_string_value (json_object_get (db, "state")), "off"));
    cr_assert (eq (str, (char *) json_string_value (json_object_get (www, "state")), "ready"));
    cr_assert (eq (i64, json_integer_value (json_object_get (www, "boots")), 2));
    cr_assert (eq (i64, json_integer_value (json_object_get (www, "last_boot_ms")), 2149));
    cr_assert (not (eq (ptr, json_object_get (www, "last_query"), NULL)), "the query was heard");
    int64_t idle = json_integer_value (json_object_get (www, "idle_stop_in_ms"));
    cr_assert (gt (i64, idle, 100000), "idle stop is 120 s after the last query: %lld",
               (long long) idle);
    cr_assert (le (i64, idle, 120000));
    //  Heartbeats: the bus and statestore beat every second or faster.
    json_t *processes = json_object_get (document, "processes");
    bool statestore_seen = false;
    size_t index;
    json_t *process;
    json_array_foreach (processes, index, process)
        statestore_seen |= streq (json_string_value (json_object_get (process, "name")),
                                  "statestore");
    cr_assert (statestore_seen, "statestore's heartbeat was not heard");
    json_decref (document);

    cr_assert (eq (int, s_jitsuctl ("status", "--listen", "300", NULL), 0));
    cr_assert (s_contains (s_out, "www"));
    cr_assert (s_contains (s_out, "ready"));
    cr_assert (s_contains (s_out, "2149 ms"));
}
