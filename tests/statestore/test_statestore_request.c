/*  statestore_request: what a request's frames and fields may be, and the faults otherwise.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "statestore_request.h"

static statestore_request_t s_request;
static statestore_stats_t s_stats;

static void
s_teardown (void)
{
    statestore_request_clear (&s_request);
    memset (&s_stats, 0, sizeof s_stats);
}

TestSuite (statestore_request, .fini = s_teardown);

//  Parse FRAME_COUNT frames after an identity frame into s_request.
static void
s_parse_frames (size_t frame_count, const char **frames)
{
    statestore_request_clear (&s_request);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "peer");
    for (size_t index = 0; index < frame_count; index++)
        zmsg_addmem (msg, frames[index], strlen (frames[index]));
    statestore_request_parse (&s_request, msg, &s_stats);
    zmsg_destroy (&msg);
}

static void
s_parse (const char *json)
{
    s_parse_frames (1, &json);
}

static const char *
s_error (void)
{
    return json_string_value (json_object_get (s_request.reply, "error"));
}

Test (statestore_request, a_write_naming_its_client_gets_a_dedup_key)
{
    s_parse ("{\"id\":7,\"op\":\"put\",\"client\":\"vmctl/1\",\"key\":\"/a\",\"value\":1}");
    cr_assert (eq (str, (char *) s_request.op, "put"));
    cr_assert (s_request.is_write);
    cr_assert (not (s_request.delimiter));
    cr_assert (eq (str, s_request.dedup_key, "vmctl/1#7"));
    cr_assert (eq (str, (char *) zframe_data (s_request.identity), "peer"));
    char *reply = json_dumps (s_request.reply, JSON_COMPACT);
    cr_assert (eq (str, reply, "{\"id\":7,\"ok\":true}"));
    free (reply);
}

Test (statestore_request, reads_and_anonymous_writes_have_no_dedup_key)
{
    s_parse ("{\"id\":1,\"op\":\"get\",\"client\":\"vmctl/1\",\"key\":\"/a\"}");
    cr_assert (not (s_request.is_write));
    cr_assert (eq (str, s_request.dedup_key, ""));
    s_parse ("{\"id\":2,\"op\":\"del\",\"key\":\"/a\"}");
    cr_assert (s_request.is_write);
    cr_assert (eq (str, s_request.dedup_key, ""));
}

Test (statestore_request, a_req_client_gets_its_empty_frame_back)
{
    const char *frames[] = {"", "{\"id\":1,\"op\":\"list\"}"};
    s_parse_frames (2, frames);
    cr_assert (s_request.delimiter);
    cr_assert (eq (str, (char *) s_request.op, "list"));
}

Test (statestore_request, malformed_requests_are_bad_requests)
{
    const char *bad[] = {"not json",
                         "[1]",
                         "{\"op\":\"get\"}",
                         "{\"id\":-1,\"op\":\"get\"}",
                         "{\"id\":\"1\",\"op\":\"get\"}",
                         "{\"id\":1}",
                         "{\"id\":1,\"op\":\"move\"}",
                         "{\"id\":1,\"id\":2,\"op\":\"get\"}"};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        s_parse (bad[index]);
        cr_assert (eq (ptr, (void *) s_request.op, NULL), "accepted %s", bad[index]);
        cr_assert (eq (int, json_is_false (json_object_get (s_request.reply, "ok")), 1));
        cr_assert (eq (str, (char *) s_error (), STATESTORE_BAD_REQUEST), "%s", bad[index]);
    }
    cr_assert (eq (u64, s_stats.bad_request, sizeof bad / sizeof bad[0]));
}

Test (statestore_request, a_refused_request_keeps_its_id_when_it_has_one)
{
    s_parse ("{\"id\":3,\"op\":\"move\"}");
    cr_assert (eq (i64, json_integer_value (json_object_get (s_request.reply, "id")), 3));
    s_parse ("not json");
    cr_assert (eq (int, json_is_null (json_object_get (s_request.reply, "id")), 1));
}

Test (statestore_request, a_request_is_exactly_one_json_frame)
{
    const char *frames[] = {"{\"id\":1,\"op\":\"get\"}", "{\"id\":2,\"op\":\"get\"}"};
    s_parse_frames (2, frames);
    cr_assert (eq (ptr, (void *) s_request.op, NULL));
    cr_assert (eq (str, (char *) s_error (), STATESTORE_BAD_REQUEST));
    s_parse_frames (0, NULL);
    cr_assert (eq (str, (char *) s_error (), STATESTORE_BAD_REQUEST));
}

Test (statestore_request, a_frame_over_the_limit_is_too_large)
{
    char *huge = (char *) malloc (STATESTORE_REQUEST_MAX + 2);
    memset (huge, ' ', STATESTORE_REQUEST_MAX + 1);
    huge[STATESTORE_REQUEST_MAX + 1] = '\0';
    s_parse (huge);
    free (huge);
    cr_assert (eq (str, (char *) s_error (), STATESTORE_TOO_LARGE));
    cr_assert (eq (u64, s_stats.too_large, 1));
}

Test (statestore_request, tx_ops_are_parsed_in_order)
{
    s_parse ("{\"id\":1,\"op\":\"tx\",\"ops\":[{\"op\":\"put\",\"key\":\"/a\",\"value\":{}},"
             "{\"op\":\"del\",\"key\":\"/b\",\"expect_rev\":4}]}");
    statestore_op_t ops[2];
    statestore_fault_t fault;
    cr_assert (eq (int, statestore_request_ops (&s_request, ops, &fault), 2));
    cr_assert (eq (str, (char *) ops[0].key, "/a"));
    cr_assert (eq (int, json_is_object (ops[0].value), 1));
    cr_assert (eq (i64, ops[0].expect_rev, -1));
    cr_assert (eq (str, (char *) ops[1].key, "/b"));
    cr_assert (eq (ptr, ops[1].value, NULL));
    cr_assert (eq (i64, ops[1].expect_rev, 4));
}

Test (statestore_request, bad_ops_are_refused_with_the_reason)
{
    const struct {
        const char *json;
        const char *message;
    } cases[] = {
        {"{\"id\":1,\"op\":\"put\",\"key\":\"/a\"}", "put: put needs a value"},
        {"{\"id\":1,\"op\":\"del\"}", "del: key missing or not a string"},
        {"{\"id\":1,\"op\":\"del\",\"key\":\"/a/../b\"}", "del: /a/../b: "},
        {"{\"id\":1,\"op\":\"del\",\"key\":\"/a\",\"expect_rev\":-1}",
         "del: expect_rev must be an integer >= 0"},
        {"{\"id\":1,\"op\":\"tx\",\"ops\":[]}", "tx: ops must be a non-empty array"},
        {"{\"id\":1,\"op\":\"tx\",\"ops\":[{\"op\":\"del\",\"key\":\"/a\"},{\"op\":\"mv\"}]}",
         "tx ops[1]: expected {\"op\":\"put\"|\"del\", \"key\":...}"},
    };
    statestore_op_t ops[2];
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        statestore_fault_t fault;
        s_parse (cases[index].json);
        cr_assert (eq (int, statestore_request_ops (&s_request, ops, &fault), -1), "%s",
                   cases[index].json);
        cr_assert (eq (str, (char *) fault.code, STATESTORE_BAD_REQUEST));
        cr_assert (eq (int, strncmp (fault.message, cases[index].message,
                                     strlen (cases[index].message)), 0),
                   "%s: %s", cases[index].json, fault.message);
    }
}

Test (statestore_request, a_value_over_the_limit_is_too_large)
{
    json_t *request = json_pack ("{s:i, s:s, s:s}", "id", 1, "op", "put", "key", "/a");
    char *value = (char *) malloc (STATESTORE_VALUE_MAX + 1);
    memset (value, 'v', STATESTORE_VALUE_MAX - 2);
    value[STATESTORE_VALUE_MAX - 2] = '\0';
    json_object_set_new (request, "value", json_string (value));  // fits, with its quotes
    char *text = json_dumps (request, JSON_COMPACT);
    s_parse (text);
    free (text);
    statestore_op_t op;
    statestore_fault_t fault;
    cr_assert (eq (int, statestore_request_ops (&s_request, &op, &fault), 1));
    strcat (value, "v");
    json_object_set_new (request, "value", json_string (value));
    text = json_dumps (request, JSON_COMPACT);
    s_parse (text);
    cr_assert (eq (int, statestore_request_ops (&s_request, &op, &fault), -1));
    cr_assert (eq (str, (char *) fault.code, STATESTORE_TOO_LARGE));
    free (text);
    free (value);
    json_decref (request);
}

Test (statestore_request, the_author_defaults_to_unknown_and_must_fit_a_commit_header)
{
    const char *author, *message;
    statestore_fault_t fault;
    s_parse ("{\"id\":1,\"op\":\"del\",\"key\":\"/a\"}");
    cr_assert (eq (int, statestore_request_signature (&s_request, &author, &message, &fault), 0));
    cr_assert (eq (str, (char *) author, "unknown"));
    cr_assert (eq (ptr, (void *) message, NULL));
    const char *bad[] = {"\"\"", "\"a <b>\"", "\"a\\nb\"", "7",
                         "\"0123456789012345678901234567890123456789012345678901234567890123\""};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        char json[160];
        snprintf (json, sizeof json, "{\"id\":1,\"op\":\"del\",\"key\":\"/a\",\"author\":%s}",
                  bad[index]);
        s_parse (json);
        cr_assert (eq (int, statestore_request_signature (&s_request, &author, &message, &fault),
                       -1), "accepted %s", bad[index]);
    }
    s_parse ("{\"id\":1,\"op\":\"del\",\"key\":\"/a\",\"author\":\"ctl\",\"message\":5}");
    cr_assert (eq (int, statestore_request_signature (&s_request, &author, &message, &fault), -1));
    cr_assert (eq (str, fault.message, "message: a string of at most 1023 bytes"));
}

Test (statestore_request, read_fields_are_checked_and_absent_ones_take_defaults)
{
    statestore_fault_t fault;
    const char *prefix, *key;
    int64_t limit = 20;
    s_parse ("{\"id\":1,\"op\":\"log\"}");
    cr_assert (eq (int, statestore_request_prefix (&s_request, &prefix, &fault), 0));
    cr_assert (eq (str, (char *) prefix, ""));
    cr_assert (eq (int, statestore_request_integer (&s_request, "limit", 1, &limit, &fault), 0));
    cr_assert (eq (i64, limit, 20));
    cr_assert (eq (int, statestore_request_key (&s_request, "get", &key, &fault), -1));
    cr_assert (eq (str, fault.message, "get: key missing or not a string"));
    s_parse ("{\"id\":1,\"op\":\"log\",\"prefix\":3,\"limit\":0,\"key\":\"/k\"}");
    cr_assert (eq (int, statestore_request_prefix (&s_request, &prefix, &fault), -1));
    cr_assert (eq (str, fault.message, "prefix must be a string"));
    cr_assert (eq (int, statestore_request_integer (&s_request, "limit", 1, &limit, &fault), -1));
    cr_assert (eq (str, fault.message, "limit must be an integer >= 1"));
    cr_assert (eq (int, statestore_request_key (&s_request, "get", &key, &fault), 0));
    cr_assert (eq (str, (char *) key, "/k"));
}
