/*  Integration: statestore killed with SIGKILL again and again under a stream of writes.

    A writer puts in a loop while another thread kills statestore at random moments (each
    statestore after it acknowledged a few puts, so a slow machine still tests something) and
    starts it again. After every kill `git fsck` must accept the repository as it was left; at the end
    every acknowledged put must be there with its value (or with a later value whose
    acknowledgement was lost in a kill).  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <stdatomic.h>

#include "proto.h"
#include "test_support.h"

#define S_KEYS   40
#define S_KILLS  8

#define S_ACKS_PER_LIFE  5  // puts acknowledged by each statestore before it is killed

static char *s_run_dir;
static volatile bool s_writing;
static _Atomic int64_t s_acknowledged;  // puts acknowledged so far

//  What the writer knows about each key.
typedef struct {
    int64_t acknowledged;   // the last value statestore acknowledged, -1 for none
    int64_t attempted;      // the last value sent
} s_key_t;

static s_key_t s_keys[S_KEYS];

//  What the killer thread shares with the test.
typedef struct {
    pid_t statestore;       // the current statestore process
    int fsck_failures;
} s_killer_t;

static void
s_setup (void)
{
    s_run_dir = test_rundir_new ();
}

static void
s_teardown (void)
{
    test_reap_all ();
    test_rundir_destroy (&s_run_dir);
}

//  Kill statestore S_KILLS times at random moments, check the repository after each kill,
//  then start it again.
static void *
s_killer (void *argument)
{
    s_killer_t *killer = (s_killer_t *) argument;
    for (int kill_count = 0; kill_count < S_KILLS; kill_count++) {
        //  Each statestore lives until it acknowledged a few puts (however slow the machine),
        //  then dies at a random moment of the next quarter second.
        int64_t before = atomic_load (&s_acknowledged);
        for (int waited = 0;
             waited < 30000 && atomic_load (&s_acknowledged) < before + S_ACKS_PER_LIFE;
             waited += 10)
            zclock_sleep (10);
        zclock_sleep (randof (250));
        test_stop (killer->statestore, SIGKILL, 1000);
        if (test_shell ("git --git-dir=%s/state.git fsck --no-progress >>%s/fsck.log 2>&1",
                        s_run_dir, s_run_dir))
            killer->fsck_failures++;
        killer->statestore = test_start_statestore (s_run_dir, NULL);
    }
    s_writing = false;
    return NULL;
}

TestSuite (statestore_crash, .init = s_setup, .fini = s_teardown, .timeout = 120);

Test (statestore_crash, no_acknowledged_write_is_lost_to_kill_9)
{
    s_killer_t shared = {test_start_statestore (s_run_dir, NULL), 0};
    cr_assert (gt (int, shared.statestore, 0));
    proto_endpoints_t endpoints;
    proto_endpoints_defaults (&endpoints);
    proto_state_client_t *client = proto_state_client_new (endpoints.state, "writer");
    for (int index = 0; index < S_KEYS; index++)
        s_keys[index] = (s_key_t){-1, -1};

    s_writing = true;
    atomic_store (&s_acknowledged, 0);
    pthread_t killer;
    pthread_create (&killer, NULL, s_killer, &shared);
    int64_t value = 0, acknowledged = 0;
    while (s_writing) {
        int key = (int) (value % S_KEYS);
        json_t *request = json_pack ("{s:s, s:o, s:I}", "op", "put", "key",
                                     json_sprintf ("/crash/k%d", key), "value",
                                     (json_int_t) value);
        s_keys[key].attempted = value;
        json_t *reply = proto_state_client_call (client, request, 300, 1);
        if (reply && json_is_true (json_object_get (reply, "ok"))) {
            s_keys[key].acknowledged = value;
            acknowledged++;
            atomic_fetch_add (&s_acknowledged, 1);
        }
        json_decref (reply);
        value++;
    }
    pthread_join (killer, NULL);
    cr_assert (eq (int, shared.fsck_failures, 0),
               "git fsck refused the repository after a kill, see %s/fsck.log", s_run_dir);
    cr_log_info ("%lld puts attempted, %lld acknowledged, %d kills", (long long) value,
                 (long long) acknowledged, S_KILLS);
    cr_assert (gt (i64, acknowledged, 4 * S_KILLS), "too few writes got through to mean anything");

    //  Everything acknowledged is there.
    for (int key = 0; key < S_KEYS; key++) {
        json_t *request = json_pack ("{s:s}", "op", "get");
        json_object_set_new (request, "key", json_sprintf ("/crash/k%d", key));
        json_t *reply = proto_state_client_call (client, request, 2000, 2);
        cr_assert (not (eq (ptr, reply, NULL)));
        if (s_keys[key].acknowledged < 0) {
            json_decref (reply);
            continue;
        }
        int64_t stored = json_integer_value (json_object_get (reply, "value"));
        cr_assert (ge (i64, stored, s_keys[key].acknowledged),
                   "k%d: acknowledged %lld, stored %lld", key,
                   (long long) s_keys[key].acknowledged, (long long) stored);
        cr_assert (le (i64, stored, s_keys[key].attempted));
        json_decref (reply);
    }
    proto_state_client_destroy (&client);
    test_stop (shared.statestore, SIGTERM, 5000);
    cr_assert (eq (int, test_shell ("git --git-dir=%s/state.git fsck --strict --no-progress "
                                    ">/dev/null 2>&1", s_run_dir), 0));
}
