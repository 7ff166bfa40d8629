/*  Integration: the real jitsu-statestore process, spoken to through proto_state_client.

    Every op, every error code, compare-and-set, tx atomicity, history against known commits,
    retries answered once, group commit, events, malformed input, a full disk, repacking.
    Each test ends with `git fsck --strict` on the repository.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "proto.h"
#include "test_support.h"

static char *s_run_dir;
static pid_t s_bus;
static pid_t s_statestore;
static proto_state_client_t *s_client;
static proto_endpoints_t s_endpoints;

static void
s_setup (void)
{
    s_run_dir = test_rundir_new ();
    proto_endpoints_defaults (&s_endpoints);
    cr_assert (eq (int, test_start_bus_and_statestore (s_run_dir, &s_bus, &s_statestore), 0),
               "bus or statestore did not start");
    s_client = proto_state_client_new (s_endpoints.state, "test/1");
}

static void
s_teardown (void)
{
    proto_state_client_destroy (&s_client);
    test_reap_all ();
    test_rundir_destroy (&s_run_dir);
}

//  Whether FIELD of REPLY is true (a function: cr_assert cannot take jansson's macros).
static bool
s_true (json_t *reply, const char *field)
{
    return json_is_true (json_object_get (reply, field));
}

//  Send TEXT (JSON) and return the reply; the test fails if statestore does not answer.
static json_t *
s_call (const char *text)
{
    json_t *request = json_loads (text, 0, NULL);
    cr_assert (not (eq (ptr, request, NULL)), "bad test JSON: %s", text);
    json_t *reply = proto_state_client_call (s_client, request, 2000, 2);
    cr_assert (not (eq (ptr, reply, NULL)), "no reply to %s", text);
    return reply;
}

//  Expect TEXT to succeed; returns the reply.
static json_t *
s_ok (const char *text)
{
    json_t *reply = s_call (text);
    cr_assert (s_true (reply, "ok"), "%s -> %s", text,
               json_string_value (json_object_get (reply, "message")));
    return reply;
}

//  Expect TEXT to fail with CODE.
static void
s_fails (const char *text, const char *code)
{
    json_t *reply = s_call (text);
    const char *got = json_string_value (json_object_get (reply, "error"));
    cr_assert (not (s_true (reply, "ok")), "%s succeeded", text);
    cr_assert (eq (str, (char *) (got ? got : "(none)"), (char *) code), "%s: %s", text,
               json_string_value (json_object_get (reply, "message")));
    cr_assert (gt (sz, strlen (json_string_value (json_object_get (reply, "message"))), 0));
    json_decref (reply);
}

static int64_t
s_int (json_t *reply, const char *field)
{
    return json_integer_value (json_object_get (reply, field));
}

//  Stop statestore cleanly (under ASan a leak makes the exit status non-zero) and check the
//  repository with git itself.
static void
s_fsck (void)
{
    int status = test_stop (s_statestore, SIGTERM, 5000);
    bool clean = WIFEXITED (status) && WEXITSTATUS (status) == 0;
    if (!clean)
        test_shell ("tail -40 %s/statestore.log >&2", s_run_dir);  // the run dir goes away
    cr_assert (clean, "statestore did not exit cleanly (status %d); its log is above", status);
    int rc = test_shell ("git --git-dir=%s/state.git fsck --strict --no-progress "
                         ">%s/fsck.log 2>&1", s_run_dir, s_run_dir);
    cr_assert (eq (int, rc, 0), "git fsck failed, see %s/fsck.log", s_run_dir);
}

TestSuite (statestore, .init = s_setup, .fini = s_teardown, .timeout = 60);

Test (statestore, every_op_answers_as_documented)
{
    json_t *reply = s_ok ("{\"id\":1,\"op\":\"put\",\"key\":\"/services/www/config\","
                          "\"value\":{\"ttl\":60},\"author\":\"test/1\"}");
    cr_assert (eq (i64, s_int (reply, "rev"), 1));
    cr_assert (eq (sz, strlen (json_string_value (json_object_get (reply, "commit"))), 40));
    json_decref (reply);

    reply = s_ok ("{\"id\":0,\"op\":\"get\",\"key\":\"/services/www/config\"}");
    cr_assert (eq (i64, s_int (json_object_get (reply, "value"), "ttl"), 60));
    cr_assert (eq (i64, s_int (reply, "mod_rev"), 1));
    json_decref (reply);

    reply = s_ok ("{\"id\":0,\"op\":\"tx\",\"ops\":[{\"op\":\"put\",\"key\":\"/services/a/config\","
                  "\"value\":1},{\"op\":\"put\",\"key\":\"/services/b/config\",\"value\":2}]}");
    cr_assert (eq (i64, s_int (reply, "rev"), 2), "a tx is one commit");
    json_decref (reply);

    reply = s_ok ("{\"id\":0,\"op\":\"list\",\"prefix\":\"/services\"}");
    json_t *keys = json_object_get (reply, "keys");
    cr_assert (eq (sz, json_array_size (keys), 3));
    cr_assert (eq (str, (char *) json_string_value (json_array_get (keys, 0)),
                   "/services/a/config"), "sorted");
    json_decref (reply);

    reply = s_ok ("{\"id\":0,\"op\":\"snapshot\",\"prefix\":\"/services/www\"}");
    cr_assert (eq (i64, s_int (reply, "rev"), 2));
    cr_assert (eq (sz, json_array_size (json_object_get (reply, "entries")), 1));
    json_decref (reply);

    reply = s_ok ("{\"id\":0,\"op\":\"del\",\"key\":\"/services/a/config\"}");
    cr_assert (eq (i64, s_int (reply, "rev"), 3));
    json_decref (reply);

    reply = s_ok ("{\"id\":0,\"op\":\"put\",\"key\":\"/services/b/config\",\"value\":2}");
    cr_assert (s_true (reply, "unchanged"), "same value, no commit");
    cr_assert (eq (i64, s_int (reply, "rev"), 3));
    json_decref (reply);
    s_fsck ();
}

Test (statestore, every_error_code_is_returned_and_the_store_keeps_serving)
{
    json_decref (s_ok ("{\"id\":0,\"op\":\"put\",\"key\":\"/a/b\",\"value\":1}"));
    s_fails ("{\"id\":0,\"op\":\"get\",\"key\":\"/missing\"}", "not_found");
    s_fails ("{\"id\":0,\"op\":\"del\",\"key\":\"/missing\"}", "not_found");
    s_fails ("{\"id\":0,\"op\":\"get_at\",\"key\":\"/a/b\",\"rev\":99}", "not_found");
    s_fails ("{\"id\":0,\"op\":\"get_at\",\"key\":\"/a/b\",\"commit\":\"0123\"}", "not_found");
    s_fails ("{\"id\":0,\"op\":\"put\",\"key\":\"/a/b\",\"value\":2,\"expect_rev\":7}",
             "conflict");
    s_fails ("{\"id\":0,\"op\":\"put\",\"key\":\"/a/b/c\",\"value\":2}", "conflict");
    s_fails ("{\"id\":0,\"op\":\"put\",\"key\":\"/a\",\"value\":2}", "conflict");
    s_fails ("{\"id\":0,\"op\":\"frobnicate\"}", "bad_request");
    s_fails ("{\"id\":0,\"op\":\"get\",\"key\":\"a/b\"}", "bad_request");
    s_fails ("{\"id\":0,\"op\":\"get\",\"key\":\"/a/../b\"}", "bad_request");
    s_fails ("{\"id\":0,\"op\":\"put\",\"key\":\"/x\"}", "bad_request");
    s_fails ("{\"id\":0,\"op\":\"put\",\"key\":\"/x\",\"value\":1,\"author\":\"a<b>\"}",
             "bad_request");
    s_fails ("{\"id\":0,\"op\":\"tx\",\"ops\":[]}", "bad_request");
    s_fails ("{\"id\":0,\"op\":\"log\",\"limit\":0}", "bad_request");
    s_fails ("{\"id\":0,\"op\":\"diff\",\"from\":0}", "bad_request");

    //  A value over 1 MiB.
    size_t size = 1024 * 1024 + 16;
    char *big = malloc (size + 128);
    int length = sprintf (big, "{\"id\":0,\"op\":\"put\",\"key\":\"/big\",\"value\":\"");
    memset (big + length, 'v', size);
    strcpy (big + length + size, "\"}");
    s_fails (big, "too_large");
    free (big);

    //  Raw frames: not JSON, too large, several frames. Each gets an error reply.
    zsock_t *raw = zsock_new_dealer (s_endpoints.state);
    zstr_send (raw, "{\"id\":");
    char *text = zstr_recv (raw);
    cr_assert (not (eq (ptr, strstr (text, "bad_request"), NULL)), "%s", text);
    zstr_free (&text);
    zframe_t *huge = zframe_new (NULL, 5 * 1024 * 1024);
    memset (zframe_data (huge), ' ', zframe_size (huge));
    zframe_send (&huge, raw, 0);
    text = zstr_recv (raw);
    cr_assert (not (eq (ptr, strstr (text, "too_large"), NULL)), "%s", text);
    zstr_free (&text);
    zstr_sendx (raw, "{\"id\":1,\"op\":\"get\",\"key\":\"/a/b\"}", "extra", NULL);
    text = zstr_recv (raw);
    cr_assert (not (eq (ptr, strstr (text, "bad_request"), NULL)), "%s", text);
    zstr_free (&text);
    zstr_send (raw, "{\"op\":\"get\",\"key\":\"/a/b\"}");  // no id
    text = zstr_recv (raw);
    cr_assert (not (eq (ptr, strstr (text, "bad_request"), NULL)), "%s", text);
    zstr_free (&text);
    zsock_destroy (&raw);

    //  Still serving, nothing was written by the refused requests.
    json_t *reply = s_ok ("{\"id\":0,\"op\":\"get\",\"key\":\"/a/b\"}");
    cr_assert (eq (i64, s_int (reply, "rev"), 1));
    json_decref (reply);
    s_fsck ();
}

Test (statestore, compare_and_set_guards_concurrent_writers)
{
    json_t *reply = s_ok ("{\"id\":0,\"op\":\"put\",\"key\":\"/c\",\"value\":1,\"expect_rev\":0}");
    int64_t rev = s_int (reply, "rev");
    json_decref (reply);
    s_fails ("{\"id\":0,\"op\":\"put\",\"key\":\"/c\",\"value\":2,\"expect_rev\":0}", "conflict");
    char text[128];
    snprintf (text, sizeof text, "{\"id\":0,\"op\":\"put\",\"key\":\"/c\",\"value\":2,"
                                 "\"expect_rev\":%lld}", (long long) rev);
    json_decref (s_ok (text));
    s_fails (text, "conflict");  // the same expectation is stale now
    snprintf (text, sizeof text, "{\"id\":0,\"op\":\"del\",\"key\":\"/c\",\"expect_rev\":%lld}",
              (long long) rev);
    s_fails (text, "conflict");
    s_fsck ();
}

Test (statestore, tx_applies_all_or_nothing)
{
    json_decref (s_ok ("{\"id\":0,\"op\":\"put\",\"key\":\"/t/held\",\"value\":1}"));
    s_fails ("{\"id\":0,\"op\":\"tx\",\"ops\":[{\"op\":\"put\",\"key\":\"/t/new\",\"value\":1},"
             "{\"op\":\"del\",\"key\":\"/t/held\"},"
             "{\"op\":\"put\",\"key\":\"/t/held\",\"value\":9,\"expect_rev\":5}]}",
             "conflict");
    s_fails ("{\"id\":0,\"op\":\"get\",\"key\":\"/t/new\"}", "not_found");
    json_t *reply = s_ok ("{\"id\":0,\"op\":\"get\",\"key\":\"/t/held\"}");
    cr_assert (eq (i64, json_integer_value (json_object_get (reply, "value")), 1));
    cr_assert (eq (i64, s_int (reply, "rev"), 1), "the failed tx made no commit");
    json_decref (reply);
    s_fsck ();
}

Test (statestore, history_queries_answer_from_known_commits)
{
    const char *writes[] = {
        "{\"id\":0,\"op\":\"put\",\"key\":\"/services/www/status\",\"value\":\"off\","
        "\"author\":\"vmctl/1\"}",
        "{\"id\":0,\"op\":\"put\",\"key\":\"/other\",\"value\":1,\"author\":\"someone\"}",
        "{\"id\":0,\"op\":\"put\",\"key\":\"/services/www/status\",\"value\":\"booting\","
        "\"author\":\"vmctl/1\",\"message\":\"boot www\"}",
        "{\"id\":0,\"op\":\"del\",\"key\":\"/other\"}",
    };
    char commits[4][41];
    for (int index = 0; index < 4; index++) {
        json_t *reply = s_ok (writes[index]);
        cr_assert (eq (i64, s_int (reply, "rev"), index + 1));
        strcpy (commits[index], json_string_value (json_object_get (reply, "commit")));
        json_decref (reply);
    }
    json_t *reply = s_ok ("{\"id\":0,\"op\":\"log\",\"prefix\":\"/services/www\"}");
    json_t *entries = json_object_get (reply, "entries");
    cr_assert (eq (sz, json_array_size (entries), 2));
    json_t *newest = json_array_get (entries, 0);
    cr_assert (eq (i64, s_int (newest, "rev"), 3));
    cr_assert (eq (str, (char *) json_string_value (json_object_get (newest, "commit")),
                   commits[2]));
    cr_assert (eq (str, (char *) json_string_value (json_object_get (newest, "author")),
                   "vmctl/1"));
    cr_assert (eq (str, (char *) json_string_value (json_object_get (newest, "message")),
                   "boot www"));
    json_decref (reply);

    reply = s_ok ("{\"id\":0,\"op\":\"log\",\"limit\":1}");
    cr_assert (eq (sz, json_array_size (json_object_get (reply, "entries")), 1));
    json_decref (reply);

    //  With values, each put carries the value it wrote; since stops at older commits.
    reply = s_ok ("{\"id\":0,\"op\":\"log\",\"prefix\":\"/services/www\",\"values\":true}");
    json_t *oldest = json_array_get (json_object_get (reply, "entries"), 1);
    json_t *first_change = json_array_get (json_object_get (oldest, "changes"), 0);
    cr_assert (eq (str, (char *) json_string_value (json_object_get (first_change, "value")),
                   "off"));
    json_decref (reply);
    reply = s_ok ("{\"id\":0,\"op\":\"log\",\"since\":99999999999999}");
    cr_assert (eq (sz, json_array_size (json_object_get (reply, "entries")), 0), "the future");
    json_decref (reply);
    s_fails ("{\"id\":0,\"op\":\"log\",\"values\":1}", "bad_request");

    reply = s_ok ("{\"id\":0,\"op\":\"get_at\",\"key\":\"/services/www/status\",\"rev\":2}");
    cr_assert (eq (str, (char *) json_string_value (json_object_get (reply, "value")), "off"));
    json_decref (reply);
    char text[256];
    snprintf (text, sizeof text, "{\"id\":0,\"op\":\"get_at\",\"key\":\"/services/www/status\","
                                 "\"commit\":\"%s\"}", commits[2]);
    reply = s_ok (text);
    cr_assert (eq (str, (char *) json_string_value (json_object_get (reply, "value")), "booting"));
    cr_assert (eq (i64, s_int (reply, "rev"), 3));
    json_decref (reply);
    s_fails ("{\"id\":0,\"op\":\"get_at\",\"key\":\"/other\",\"rev\":4}", "not_found");

    reply = s_ok ("{\"id\":0,\"op\":\"diff\",\"from\":1,\"to\":4}");
    json_t *changes = json_object_get (reply, "changes");
    cr_assert (eq (sz, json_array_size (changes), 1), "/other came and went");
    json_t *change = json_array_get (changes, 0);
    cr_assert (eq (str, (char *) json_string_value (json_object_get (change, "key")),
                   "/services/www/status"));
    cr_assert (eq (str, (char *) json_string_value (json_object_get (change, "old")), "off"));
    cr_assert (eq (str, (char *) json_string_value (json_object_get (change, "new")), "booting"));
    json_decref (reply);
    reply = s_ok ("{\"id\":0,\"op\":\"diff\",\"from\":0,\"to\":2}");
    cr_assert (eq (sz, json_array_size (json_object_get (reply, "changes")), 2));
    json_decref (reply);

    //  git itself agrees: every commit is there, authored by the writer.
    cr_assert (eq (int, test_shell ("git --git-dir=%s/state.git log --format=%%an main | "
                                    "grep -c vmctl/1 | grep -qx 2", s_run_dir), 0));
    s_fsck ();
}

Test (statestore, a_retried_write_is_applied_once)
{
    zsock_t *raw = zsock_new_dealer (s_endpoints.state);
    const char *request = "{\"id\":5,\"client\":\"retrier#1\",\"op\":\"tx\",\"ops\":["
                          "{\"op\":\"put\",\"key\":\"/once\",\"value\":1,\"expect_rev\":0}]}";
    zstr_send (raw, request);
    char *first = zstr_recv (raw);
    zstr_send (raw, request);  // the reply "was lost": the client sends it again
    char *second = zstr_recv (raw);
    cr_assert (eq (str, first, second), "the retry gets the original reply, not a conflict");
    zstr_free (&first);
    zstr_free (&second);
    zsock_destroy (&raw);
    json_t *reply = s_ok ("{\"id\":0,\"op\":\"log\"}");
    cr_assert (eq (sz, json_array_size (json_object_get (reply, "entries")), 1));
    json_decref (reply);
    s_fsck ();
}

//  Read statestore's counters from its next heartbeat.
static int64_t
s_counter (proto_sub_t *sub, const char *name)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    zpoller_t *poller = zpoller_new (proto_sub_sock (sub), NULL);
    int64_t value = -1;
    for (int64_t deadline = zclock_mono () + 3000; value < 0 && zclock_mono () < deadline;) {
        zpoller_wait (poller, 100);
        while (value < 0 && proto_sub_recv (sub, &msg, NULL) != -1) {
            if (msg.type == PROTO_MSG_SVC_ALIVE && streq (msg.svc_alive.name, "statestore"))
                value = proto_alive_counter (&msg.svc_alive, name, -1);
            proto_msg_reset (&msg);
        }
    }
    zpoller_destroy (&poller);
    return value;
}

Test (statestore, concurrent_writes_share_commits_groups_and_each_gets_its_own_commit)
{
    //  200 puts in flight at once from 4 clients: they must become 200 commits in fewer flushes.
    proto_state_client_t *clients[4];
    for (int index = 0; index < 4; index++)
        clients[index] = proto_state_client_new (s_endpoints.state, "load");
    zsock_t *dealers[4];
    for (int index = 0; index < 4; index++)
        dealers[index] = zsock_new_dealer (s_endpoints.state);
    zclock_sleep (100);
    for (int count = 0; count < 50; count++)
        for (int index = 0; index < 4; index++)
            zstr_sendf (dealers[index], "{\"id\":%d,\"op\":\"put\",\"key\":\"/load/c%d/k%d\","
                        "\"value\":%d}", count, index, count, count);
    int64_t revs_seen = 0;
    for (int index = 0; index < 4; index++)
        for (int count = 0; count < 50; count++) {
            char *text = zstr_recv (dealers[index]);
            json_t *reply = json_loads (text, 0, NULL);
            cr_assert (s_true (reply, "ok"), "%s", text);
            revs_seen = s_int (reply, "rev") > revs_seen ? s_int (reply, "rev") : revs_seen;
            json_decref (reply);
            zstr_free (&text);
        }
    cr_assert (eq (i64, revs_seen, 200), "one commit per write");
    proto_sub_t *sub = proto_sub_new (s_endpoints.bus_out);
    proto_sub_subscribe (sub, "svc.alive");
    int64_t groups = s_counter (sub, "groups");
    cr_log_info ("200 writes from 4 clients made %lld groups", (long long) groups);
    cr_assert (gt (i64, groups, 0));
    cr_assert (lt (i64, groups, 200), "writes in flight together must share a flush");
    proto_sub_destroy (&sub);
    for (int index = 0; index < 4; index++) {
        zsock_destroy (&dealers[index]);
        proto_state_client_destroy (&clients[index]);
    }
    s_fsck ();
}

Test (statestore, every_commit_is_announced_with_its_changes)
{
    proto_sub_t *sub = proto_sub_new (s_endpoints.bus_out);
    proto_sub_subscribe (sub, "state.changed");
    zclock_sleep (300);  // let the subscription reach the bus
    json_t *reply = s_ok ("{\"id\":0,\"op\":\"tx\",\"ops\":[{\"op\":\"put\",\"key\":\"/e/a\","
                          "\"value\":{\"x\":1}},{\"op\":\"put\",\"key\":\"/e/b\",\"value\":2}]}");
    zpoller_t *poller = zpoller_new (proto_sub_sock (sub), NULL);
    cr_assert (not (eq (ptr, zpoller_wait (poller, 3000), NULL)), "no state.changed");
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    cr_assert (eq (int, proto_sub_recv (sub, &msg, NULL), 0));
    cr_assert (eq (i64, msg.state_changed.rev, s_int (reply, "rev")));
    cr_assert (eq (str, msg.state_changed.commit,
                   (char *) json_string_value (json_object_get (reply, "commit"))));
    cr_assert (eq (sz, msg.state_changed.change_count, 2));
    cr_assert (eq (str, msg.state_changed.changes[0].key, "/e/a"));
    cr_assert (eq (i64, s_int (msg.state_changed.changes[0].value, "x"), 1), "value carried");
    proto_msg_reset (&msg);
    json_decref (reply);
    zpoller_destroy (&poller);
    proto_sub_destroy (&sub);
    s_fsck ();
}

Test (statestore, state_survives_a_restart)
{
    for (int index = 0; index < 20; index++) {
        char text[128];
        snprintf (text, sizeof text, "{\"id\":0,\"op\":\"put\",\"key\":\"/r/k%d\",\"value\":%d}",
                  index % 5, index);
        json_decref (s_ok (text));
    }
    test_stop (s_statestore, SIGKILL, 1000);
    s_statestore = test_start_statestore (s_run_dir, NULL);
    cr_assert (gt (int, s_statestore, 0));
    json_t *reply = s_ok ("{\"id\":0,\"op\":\"get\",\"key\":\"/r/k4\"}");
    cr_assert (eq (i64, json_integer_value (json_object_get (reply, "value")), 19));
    cr_assert (eq (i64, s_int (reply, "mod_rev"), 20), "mod_rev rebuilt from the history");
    cr_assert (eq (i64, s_int (reply, "rev"), 20));
    json_decref (reply);
    reply = s_ok ("{\"id\":0,\"op\":\"put\",\"key\":\"/r/k0\",\"value\":0,\"expect_rev\":16}");
    cr_assert (eq (i64, s_int (reply, "rev"), 21), "revisions continue");
    json_decref (reply);
    s_fsck ();
}

Test (statestore, repack_folds_group_packs_into_one)
{
    test_stop (s_statestore, SIGTERM, 5000);
    s_statestore = test_start_statestore (s_run_dir, "\"repack_packs\": 5");
    for (int index = 0; index < 30; index++) {
        char text[128];
        snprintf (text, sizeof text, "{\"id\":0,\"op\":\"put\",\"key\":\"/p/k%d\",\"value\":%d}",
                  index % 7, index);
        json_decref (s_ok (text));
    }
    zclock_sleep (1500);  // the repack runs in the background
    int packs = test_shell ("test $(ls %s/state.git/objects/pack/*.pack | wc -l) -le 5",
                            s_run_dir);
    cr_assert (eq (int, packs, 0), "30 group packs were not repacked");
    json_t *reply = s_ok ("{\"id\":0,\"op\":\"get\",\"key\":\"/p/k1\"}");
    cr_assert (eq (i64, json_integer_value (json_object_get (reply, "value")), 29));
    json_decref (reply);
    json_decref (s_ok ("{\"id\":0,\"op\":\"put\",\"key\":\"/p/after\",\"value\":1}"));
    s_fsck ();
}

Test (statestore, no_user_git_config_applies_to_the_repository)
{
    //  Under supervisord it runs as another user with root's HOME; whatever git config HOME
    //  holds (here one git cannot parse) must neither stop it nor change the repository.
    test_stop (s_statestore, SIGTERM, 5000);
    test_shell ("rm -rf %s/state.git && mkdir -p %s/home/.config/git && "
                "printf '[broken\\n' > %s/home/.gitconfig && "
                "cp %s/home/.gitconfig %s/home/.config/git/config",
                s_run_dir, s_run_dir, s_run_dir, s_run_dir, s_run_dir);
    char home[512];
    snprintf (home, sizeof home, "%s/home", s_run_dir);
    char *own_home = getenv ("HOME") ? strdup (getenv ("HOME")) : NULL;
    setenv ("HOME", home, 1);
    unsetenv ("XDG_CONFIG_HOME");
    s_statestore = test_start_statestore (s_run_dir, "\"repack_packs\": 2");
    cr_assert (gt (int, s_statestore, 0), "statestore did not start: see %s/statestore.log",
               s_run_dir);
    for (int index = 0; index < 6; index++)
        json_decref (s_ok ("{\"id\":0,\"op\":\"put\",\"key\":\"/h/k\",\"value\":1}"));
    zclock_sleep (1000);  // a repack ran in the background
    cr_assert (eq (int, test_shell ("grep -q 'repack failed' %s/statestore.log", s_run_dir), 1),
               "the repack failed: see %s/statestore.log", s_run_dir);
    if (own_home)
        setenv ("HOME", own_home, 1);  // for git fsck
    else
        unsetenv ("HOME");
    free (own_home);
    s_fsck ();
}

Test (statestore, a_full_disk_refuses_writes_and_loses_nothing)
{
    if (!test_is_root ())
        cr_skip_test ("needs root to mount a small tmpfs for the repository");
    test_stop (s_statestore, SIGTERM, 5000);
    char repo_dir[512];
    snprintf (repo_dir, sizeof repo_dir, "%s/state.git", s_run_dir);
    test_shell ("rm -rf %s && mkdir -p %s", repo_dir, repo_dir);
    cr_assert (eq (int, mount ("tmpfs", repo_dir, "tmpfs", 0, "size=1m"), 0), "%s",
               strerror (errno));
    s_statestore = test_start_statestore (s_run_dir, NULL);
    json_decref (s_ok ("{\"id\":0,\"op\":\"put\",\"key\":\"/small\",\"value\":1}"));
    //  Fill the disk with incompressible values until a write is refused.
    char *text = malloc (300000);
    bool refused = false;
    for (int index = 0; index < 20 && !refused; index++) {
        int length = sprintf (text, "{\"id\":0,\"op\":\"put\",\"key\":\"/fill/k%d\",\"value\":\"",
                              index);
        for (int byte = 0; byte < 200000; byte++)
            text[length++] = "abcdefghijklmnopqrstuvwxyz0123456789"[randof (36)];
        strcpy (text + length, "\"}");
        json_t *reply = s_call (text);
        refused = json_is_false (json_object_get (reply, "ok"));
        if (refused)
            cr_assert (eq (str, (char *) json_string_value (json_object_get (reply, "error")),
                           "internal"));
        json_decref (reply);
    }
    free (text);
    cr_assert (refused, "1 MiB never filled up");
    //  The refused write is not visible, earlier ones are, and the store still answers.
    json_t *reply = s_ok ("{\"id\":0,\"op\":\"get\",\"key\":\"/small\"}");
    int64_t rev = s_int (reply, "rev");
    json_decref (reply);
    char get[128];
    snprintf (get, sizeof get, "{\"id\":0,\"op\":\"get\",\"key\":\"/fill/k%lld\"}",
              (long long) rev - 1);
    s_fails (get, "not_found");
    test_stop (s_statestore, SIGTERM, 5000);
    int rc = test_shell ("git --git-dir=%s fsck --strict --no-progress >/dev/null 2>&1",
                         repo_dir);
    umount (repo_dir);
    cr_assert (eq (int, rc, 0), "fsck after a full disk");
}
