/*  proto_msg: golden samples round-trip, and each malformed class is rejected with a reason.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>

#include "proto.h"

//  Decode TEXT sent on TOPIC; returns the decoder's result and fills MSG and ERROR.
static int
s_decode (proto_msg_t *msg, const char *topic, const char *text, proto_error_t *error)
{
    proto_msg_init (msg, PROTO_MSG_UNKNOWN);
    return proto_msg_decode (msg, topic, text, strlen (text), error);
}

//  Decode TEXT expecting a failure of class CODE; the message must be left empty.
static void
s_expect_malformed (const char *topic, const char *text, proto_errcode_t code)
{
    proto_msg_t msg;
    proto_error_t error = {0};
    int rc = s_decode (&msg, topic, text, &error);
    cr_assert (eq (int, rc, -2), "accepted: %s", text);
    cr_assert (eq (str, (char *) proto_errcode_name (error.code),
                   (char *) proto_errcode_name (code)), "reason: %s", error.text);
    cr_assert (gt (sz, strlen (error.text), 0));
    cr_assert (eq (ptr, msg.json, NULL));
    proto_msg_reset (&msg);
}

static const char *s_boot_body = "\"body\":{\"service\":\"www\",\"request_id\":\"r1\"}";

Test (proto_msg, golden_samples_round_trip)
{
    DIR *directory = opendir (TEST_DATA_DIR);
    cr_assert (not (eq (ptr, directory, NULL)));
    int samples = 0;
    bool seen[PROTO_MSG_COUNT] = {false};
    struct dirent *entry;
    while ((entry = readdir (directory))) {
        if (!strstr (entry->d_name, ".json"))
            continue;
        //  "vm.boot+minimal.json" samples topic vm.boot.
        char topic[256];
        snprintf (topic, sizeof topic, "%s", entry->d_name);
        *(strchr (topic, '+') ? strchr (topic, '+') : strstr (topic, ".json")) = '\0';
        char path[1024];
        snprintf (path, sizeof path, "%s/%s", TEST_DATA_DIR, entry->d_name);
        char *text = NULL;
        size_t size = 0;
        FILE *file = fopen (path, "r");
        cr_assert (not (eq (ptr, file, NULL)));
        cr_assert (gt (sz, getdelim (&text, &size, '\0', file), 0));
        fclose (file);

        proto_msg_t msg;
        proto_error_t error;
        cr_assert (eq (int, s_decode (&msg, topic, text, &error), 0), "%s: %s", entry->d_name,
                   error.text);
        cr_assert (not (eq (int, msg.type, PROTO_MSG_UNKNOWN)), "%s", entry->d_name);
        seen[msg.type] = true;
        char *encoded = proto_msg_encode (&msg, &error);
        cr_assert (not (eq (ptr, encoded, NULL)), "%s: %s", entry->d_name, error.text);
        json_t *expected = json_loads (text, 0, NULL);
        json_t *actual = json_loads (encoded, 0, NULL);
        cr_assert (json_equal (expected, actual), "%s:\n  golden  %s\n  encoded %s",
                   entry->d_name, text, encoded);
        json_decref (expected);
        json_decref (actual);
        free (encoded);
        free (text);
        proto_msg_reset (&msg);
        samples++;
    }
    closedir (directory);
    for (int type = 1; type < PROTO_MSG_COUNT; type++)
        cr_assert (seen[type], "no golden sample for %s", proto_msg_topic (type));
    cr_assert (ge (int, samples, PROTO_MSG_COUNT - 1));
}

Test (proto_msg, decoded_fields_land_in_the_struct)
{
    proto_msg_t msg;
    proto_error_t error;
    const char *text = "{\"v\":1,\"type\":\"vm.ready\",\"src\":\"vmctl/1\",\"seq\":8,\"ts\":5,"
                       "\"body\":{\"service\":\"www\",\"boot_id\":\"b\",\"ip\":\"10.0.0.10\","
                       "\"via\":\"probe\",\"boot_ms\":2149}}";
    cr_assert (eq (int, s_decode (&msg, "vm.ready", text, &error), 0));
    cr_assert (eq (int, msg.type, PROTO_MSG_VM_READY));
    cr_assert (eq (str, msg.src, "vmctl/1"));
    cr_assert (eq (i64, msg.seq, 8));
    cr_assert (eq (str, msg.vm_ready.ip, "10.0.0.10"));
    cr_assert (eq (int, msg.vm_ready.via, PROTO_VIA_PROBE));
    cr_assert (eq (i64, msg.vm_ready.boot_ms, 2149));
    proto_msg_reset (&msg);
}

Test (proto_msg, the_service_a_message_is_about)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_STOPPED);
    strcpy (msg.vm_stop.service, "www");
    cr_assert (eq (str, (char *) proto_msg_service (&msg), "www"));
    proto_msg_init (&msg, PROTO_MSG_SYN_REPLAYED);
    strcpy (msg.syn_replayed.service, "db");
    cr_assert (eq (str, (char *) proto_msg_service (&msg), "db"));
    proto_msg_init (&msg, PROTO_MSG_SVC_ALIVE);
    cr_assert (eq (ptr, (void *) proto_msg_service (&msg), NULL), "svc.alive names a process");
    proto_msg_init (&msg, PROTO_MSG_STATE_CHANGED);
    cr_assert (eq (ptr, (void *) proto_msg_service (&msg), NULL));
    proto_msg_reset (&msg);
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    cr_assert (eq (ptr, (void *) proto_msg_service (&msg), NULL));
}

Test (proto_msg, unknown_keys_are_ignored)
{
    proto_msg_t msg;
    proto_error_t error;
    char text[512];
    snprintf (text, sizeof text,
              "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"a/1\",\"seq\":1,\"ts\":1,\"future\":[1],"
              "\"body\":{\"service\":\"www\",\"request_id\":\"r1\",\"priority\":{\"x\":1}}}");
    cr_assert (eq (int, s_decode (&msg, "vm.boot", text, &error), 0), "%s", error.text);
    cr_assert (eq (str, msg.vm_boot.service, "www"));
    proto_msg_reset (&msg);
}

Test (proto_msg, unknown_topic_decodes_as_unknown)
{
    proto_msg_t msg;
    proto_error_t error;
    const char *text = "{\"v\":1,\"type\":\"vm.teleport\",\"src\":\"a/1\",\"seq\":1,\"ts\":1,"
                       "\"body\":{\"anything\":true}}";
    cr_assert (eq (int, s_decode (&msg, "vm.teleport", text, &error), 0));
    cr_assert (eq (int, msg.type, PROTO_MSG_UNKNOWN));
    cr_assert (eq (str, msg.topic, "vm.teleport"));
    cr_assert (eq (ptr, proto_msg_encode (&msg, &error), NULL));
    cr_assert (eq (int, error.code, PROTO_ERR_TOPIC));
    proto_msg_reset (&msg);
}

Test (proto_msg, not_json_is_rejected)
{
    s_expect_malformed ("vm.boot", "{\"v\":1,", PROTO_ERR_NOT_JSON);
    s_expect_malformed ("vm.boot", "", PROTO_ERR_NOT_JSON);
    s_expect_malformed ("vm.boot", "{\"v\":1} trailing", PROTO_ERR_NOT_JSON);
    s_expect_malformed ("vm.boot", "{\"v\":1,\"v\":1}", PROTO_ERR_NOT_JSON);
    s_expect_malformed ("vm.boot", "{\"v\":\"\\u0000\"}", PROTO_ERR_NOT_JSON);
}

Test (proto_msg, not_an_object_is_rejected)
{
    s_expect_malformed ("vm.boot", "[1,2]", PROTO_ERR_NOT_OBJECT);
    s_expect_malformed ("vm.boot", "\"vm.boot\"", PROTO_ERR_NOT_OBJECT);
    s_expect_malformed ("vm.boot", "42", PROTO_ERR_NOT_OBJECT);
}

Test (proto_msg, wrong_envelope_is_rejected)
{
    char text[512];
    //  Each envelope field missing or mistyped, in turn.
    const char *broken[] = {
        "{\"type\":\"vm.boot\",\"src\":\"a/1\",\"seq\":1,\"ts\":1,%s}",
        "{\"v\":\"1\",\"type\":\"vm.boot\",\"src\":\"a/1\",\"seq\":1,\"ts\":1,%s}",
        "{\"v\":1,\"src\":\"a/1\",\"seq\":1,\"ts\":1,%s}",
        "{\"v\":1,\"type\":\"vm.boot\",\"seq\":1,\"ts\":1,%s}",
        "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"a/1\",\"ts\":1,%s}",
        "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"a/1\",\"seq\":1,%s}",
        "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"a/1\",\"seq\":-1,\"ts\":1,%s}",
        "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"a/1\",\"seq\":\"1\",\"ts\":1,%s}",
        "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"\",\"seq\":1,\"ts\":1,%s}",
        "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"a/1\",\"seq\":1,\"ts\":1,\"x\":1}",
        "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"a/1\",\"seq\":1,\"ts\":1,\"body\":[]}",
    };
    for (size_t index = 0; index < sizeof broken / sizeof broken[0]; index++) {
        snprintf (text, sizeof text, broken[index], s_boot_body);
        s_expect_malformed ("vm.boot", text, PROTO_ERR_ENVELOPE);
    }
    //  The topic frame must equal the envelope's type.
    snprintf (text, sizeof text, "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"a/1\",\"seq\":1,"
                                 "\"ts\":1,%s}", s_boot_body);
    s_expect_malformed ("vm.ready", text, PROTO_ERR_ENVELOPE);
}

Test (proto_msg, unknown_major_version_is_rejected)
{
    char text[512];
    snprintf (text, sizeof text, "{\"v\":2,\"type\":\"vm.boot\",\"src\":\"a/1\",\"seq\":1,"
                                 "\"ts\":1,%s}", s_boot_body);
    s_expect_malformed ("vm.boot", text, PROTO_ERR_VERSION);
    s_expect_malformed ("vm.boot", "{\"v\":0}", PROTO_ERR_VERSION);
}

//  Wrap BODY in a valid envelope of TOPIC and expect class CODE.
static void
s_expect_bad_body (const char *topic, const char *body, proto_errcode_t code)
{
    char text[8192];
    snprintf (text, sizeof text,
              "{\"v\":1,\"type\":\"%s\",\"src\":\"t/1\",\"seq\":1,\"ts\":1,\"body\":%s}", topic,
              body);
    s_expect_malformed (topic, text, code);
}

Test (proto_msg, missing_required_field_is_rejected)
{
    s_expect_bad_body ("vm.boot", "{\"request_id\":\"r1\"}", PROTO_ERR_MISSING);
    s_expect_bad_body ("vm.booting", "{\"service\":\"w\",\"boot_id\":\"b\",\"domain\":\"d\","
                                     "\"uuid\":\"u\"}", PROTO_ERR_MISSING);
    s_expect_bad_body ("vm.ready", "{\"service\":\"w\",\"boot_id\":\"b\",\"ip\":\"10.0.0.1\","
                                   "\"via\":\"event\"}", PROTO_ERR_MISSING);
    s_expect_bad_body ("vm.stopped", "{\"service\":\"w\"}", PROTO_ERR_MISSING);
    s_expect_bad_body ("state.changed", "{\"rev\":1,\"commit\":\"ab\",\"changes\":[{\"key\":"
                                        "\"/a\"}]}", PROTO_ERR_MISSING);
    s_expect_bad_body ("svc.alive", "{\"name\":\"n\",\"instance\":\"1\",\"pid\":1,"
                                    "\"version\":\"v\",\"uptime_s\":1}", PROTO_ERR_MISSING);
}

Test (proto_msg, wrong_type_is_rejected)
{
    s_expect_bad_body ("vm.boot", "{\"service\":1,\"request_id\":\"r1\"}", PROTO_ERR_TYPE);
    s_expect_bad_body ("vm.ready", "{\"service\":\"w\",\"boot_id\":\"b\",\"ip\":\"10.0.0.1\","
                                   "\"via\":\"event\",\"boot_ms\":\"12\"}", PROTO_ERR_TYPE);
    s_expect_bad_body ("vm.ready", "{\"service\":\"w\",\"boot_id\":\"b\",\"ip\":\"10.0.0.1\","
                                   "\"via\":\"event\",\"boot_ms\":1.5}", PROTO_ERR_TYPE);
    s_expect_bad_body ("state.changed", "{\"rev\":1,\"commit\":\"ab\",\"changes\":{}}",
                       PROTO_ERR_TYPE);
    s_expect_bad_body ("state.changed", "{\"rev\":1,\"commit\":\"ab\",\"changes\":[],"
                                        "\"truncated\":1}", PROTO_ERR_TYPE);
    s_expect_bad_body ("svc.alive", "{\"name\":\"n\",\"instance\":\"1\",\"pid\":1,"
                                    "\"version\":\"v\",\"uptime_s\":1,\"counters\":{\"q\":\"1\"}}",
                       PROTO_ERR_TYPE);
}

Test (proto_msg, string_too_long_is_rejected)
{
    char body[4096];
    char name[PROTO_NAME_MAX + 2];
    memset (name, 'w', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf (body, sizeof body, "{\"service\":\"%s\",\"request_id\":\"r1\"}", name);
    s_expect_bad_body ("vm.boot", body, PROTO_ERR_TOO_LONG);
    //  The limit itself is allowed.
    name[PROTO_NAME_MAX] = '\0';
    snprintf (body, sizeof body,
              "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"t/1\",\"seq\":1,\"ts\":1,"
              "\"body\":{\"service\":\"%s\",\"request_id\":\"r1\"}}", name);
    proto_msg_t msg;
    cr_assert (eq (int, s_decode (&msg, "vm.boot", body, NULL), 0));
    proto_msg_reset (&msg);
}

Test (proto_msg, body_over_64_kib_is_rejected)
{
    size_t size = PROTO_BODY_MAX + 200;
    char *text = malloc (size + 256);
    int length = snprintf (text, 256, "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"t/1\",\"seq\":1,"
                                      "\"ts\":1,\"body\":{\"service\":\"w\",\"request_id\":"
                                      "\"r\",\"padding\":\"");
    memset (text + length, 'x', size);
    strcpy (text + length + size, "\"}}");
    s_expect_malformed ("vm.boot", text, PROTO_ERR_TOO_LARGE);
    //  A big envelope with a small body is fine: the limit is on the body.
    length = snprintf (text, 256, "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"t/1\",\"seq\":1,"
                                  "\"ts\":1,%s,\"padding\":\"", s_boot_body);
    memset (text + length, 'x', size);
    strcpy (text + length + size, "\"}");
    proto_msg_t msg;
    cr_assert (eq (int, s_decode (&msg, "vm.boot", text, NULL), 0));
    proto_msg_reset (&msg);
    free (text);
}

Test (proto_msg, bad_values_are_rejected)
{
    s_expect_bad_body ("vm.stopped", "{\"service\":\"w\",\"reason\":\"bored\"}", PROTO_ERR_VALUE);
    s_expect_bad_body ("vm.boot", "{\"service\":\"\",\"request_id\":\"r1\"}", PROTO_ERR_VALUE);
    s_expect_bad_body ("vm.boot", "{\"service\":\"w\",\"request_id\":\"r1\",\"client\":"
                                  "\"10.0.0.300\"}", PROTO_ERR_VALUE);
    s_expect_bad_body ("guest.seen", "{\"service\":\"w\",\"ip\":\"10.0.0.3\",\"mac\":"
                                     "\"52:54:00:12:34\"}", PROTO_ERR_VALUE);
    s_expect_bad_body ("syn.held", "{\"service\":\"w\",\"ip\":\"10.0.0.3\",\"client\":"
                                   "\"10.0.0.2\",\"sport\":70000,\"dport\":80}", PROTO_ERR_VALUE);
    s_expect_bad_body ("dns.hits", "{\"service\":\"w\",\"count\":0,\"first_ts\":1,"
                                   "\"last_ts\":1}", PROTO_ERR_VALUE);
    s_expect_bad_body ("state.changed", "{\"rev\":1,\"commit\":\"ab\",\"changes\":[{\"key\":"
                                        "\"/a\",\"op\":\"rename\"}]}", PROTO_ERR_VALUE);
}

//  A heartbeat with one histogram HISTOGRAM (a JSON object) is refused with CODE.
static void
s_expect_bad_histogram (const char *histogram, proto_errcode_t code)
{
    char body[1024];
    snprintf (body, sizeof body, "{\"name\":\"n\",\"instance\":\"1\",\"pid\":1,"
              "\"version\":\"v\",\"uptime_s\":1,\"counters\":{},\"histograms\":[%s]}",
              histogram);
    s_expect_bad_body ("svc.alive", body, code);
}

Test (proto_msg, bad_histograms_are_rejected)
{
    s_expect_bad_histogram ("{\"name\":\"h_us\",\"le\":[2,1],\"counts\":[0,0,0],\"sum\":0}",
                            PROTO_ERR_VALUE);  // bounds not ascending
    s_expect_bad_histogram ("{\"name\":\"h_us\",\"le\":[1,2],\"counts\":[2,1,3],\"sum\":0}",
                            PROTO_ERR_VALUE);  // counts decreasing
    s_expect_bad_histogram ("{\"name\":\"h_us\",\"le\":[1,2],\"counts\":[0,1],\"sum\":0}",
                            PROTO_ERR_VALUE);  // no +Inf count
    s_expect_bad_histogram ("{\"name\":\"h_us\",\"le\":[],\"counts\":[0],\"sum\":0}",
                            PROTO_ERR_VALUE);  // no bound
    s_expect_bad_histogram ("{\"name\":\"H-us\",\"le\":[1],\"counts\":[0,0],\"sum\":0}",
                            PROTO_ERR_VALUE);  // not a metric name
    s_expect_bad_histogram ("{\"name\":\"h\",\"labels\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"},"
                            "\"le\":[1],\"counts\":[0,0],\"sum\":0}", PROTO_ERR_VALUE);
    s_expect_bad_histogram ("{\"name\":\"h\",\"le\":[1],\"counts\":[0,-1],\"sum\":0}",
                            PROTO_ERR_VALUE);
    s_expect_bad_histogram ("{\"name\":\"h\",\"le\":[1],\"counts\":[0,0],\"sum\":-5}",
                            PROTO_ERR_VALUE);
    s_expect_bad_histogram ("{\"name\":\"h\",\"le\":[1.5],\"counts\":[0,0],\"sum\":0}",
                            PROTO_ERR_TYPE);
    s_expect_bad_histogram ("{\"name\":\"h\",\"labels\":{\"a\":1},\"le\":[1],"
                            "\"counts\":[0,0],\"sum\":0}", PROTO_ERR_TYPE);
    s_expect_bad_histogram ("{\"name\":\"h\",\"le\":[1],\"counts\":[0,0]}", PROTO_ERR_TYPE);
    s_expect_bad_histogram ("[1]", PROTO_ERR_TYPE);
    char many[1024] = "";
    for (int index = 0; index <= PROTO_HISTOGRAMS_MAX; index++)
        strcat (many, index ? ",{}" : "{}");
    s_expect_bad_histogram (many, PROTO_ERR_VALUE);
}

Test (proto_msg, encode_refuses_what_decode_would_refuse)
{
    proto_msg_t msg;
    proto_error_t error;
    proto_msg_init (&msg, PROTO_MSG_VM_READY);
    strcpy (msg.vm_ready.service, "www");
    strcpy (msg.vm_ready.boot_id, "b1");
    strcpy (msg.vm_ready.ip, "not-an-ip");
    cr_assert (eq (ptr, proto_msg_encode (&msg, &error), NULL));
    cr_assert (eq (int, error.code, PROTO_ERR_VALUE));
    strcpy (msg.vm_ready.ip, "10.0.0.10");
    msg.vm_ready.via = (proto_via_t) 99;
    cr_assert (eq (ptr, proto_msg_encode (&msg, &error), NULL));
    msg.vm_ready.via = PROTO_VIA_EVENT;
    msg.vm_ready.service[0] = '\0';
    cr_assert (eq (ptr, proto_msg_encode (&msg, &error), NULL));
    cr_assert (eq (int, error.code, PROTO_ERR_MISSING));
    strcpy (msg.vm_ready.service, "www");
    char *text = proto_msg_encode (&msg, &error);
    cr_assert (not (eq (ptr, text, NULL)), "%s", error.text);
    free (text);
}

Test (proto_msg, builders_respect_their_limits)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_SVC_ALIVE);
    char name[16];
    for (int index = 0; index < PROTO_COUNTERS_MAX; index++) {
        snprintf (name, sizeof name, "c%d", index);
        cr_assert (eq (int, proto_msg_add_counter (&msg, name, index), 0));
    }
    cr_assert (eq (int, proto_msg_add_counter (&msg, "one_too_many", 1), -1));
    const int64_t bounds[] = {10, 100}, counts[] = {1, 2, 3}, decreasing[] = {2, 1, 3};
    for (int index = 0; index < PROTO_HISTOGRAMS_MAX; index++)
        cr_assert (eq (int, proto_msg_add_histogram (&msg, "h_us", "call", "create", bounds, 2,
                                                     counts, 40), 0));
    cr_assert (eq (int, proto_msg_add_histogram (&msg, "h_us", NULL, NULL, bounds, 2, counts, 0),
                   -1), "full");
    proto_msg_init (&msg, PROTO_MSG_SVC_ALIVE);
    cr_assert (eq (int, proto_msg_add_histogram (&msg, "h_us", NULL, NULL, bounds, 2, decreasing,
                                                 0), -1));
    cr_assert (eq (int, proto_msg_add_histogram (&msg, "H", NULL, NULL, bounds, 2, counts, 0), -1));
    cr_assert (eq (sz, msg.svc_alive.histogram_count, 0));
    proto_msg_init (&msg, PROTO_MSG_STATE_CHANGED);
    char key[PROTO_KEY_MAX + 2];
    memset (key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    cr_assert (eq (int, proto_msg_add_change (&msg, key, PROTO_OP_PUT, NULL), -1));
    cr_assert (eq (int, proto_msg_add_change (&msg, "/a", PROTO_OP_DEL, NULL), 0));
    cr_assert (eq (sz, msg.state_changed.change_count, 1));
    proto_msg_reset (&msg);
    char small[4];
    cr_assert (eq (int, proto_copy (small, sizeof small, "abcd"), -1));
    cr_assert (eq (str, small, "abc"));
}

Test (proto_msg, a_heap_message_is_initialised_and_destroyed_with_what_it_owns)
{
    proto_msg_t *msg = proto_msg_new (PROTO_MSG_STATE_CHANGED);
    cr_assert (eq (int, msg->type, PROTO_MSG_STATE_CHANGED));
    cr_assert (eq (str, msg->topic, "state.changed"));
    json_t *value = json_integer (5);
    cr_assert (eq (int, proto_msg_add_change (msg, "/a", PROTO_OP_PUT, value), 0));
    json_decref (value);  // the change holds its own reference, freed by the destroy (ASan)
    proto_msg_destroy (&msg);
    cr_assert (eq (ptr, msg, NULL));
    proto_msg_destroy (&msg);  // NULL-safe
}

Test (proto_msg, a_table_of_counters_goes_into_a_heartbeat_until_it_is_full)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_SVC_ALIVE);
    const proto_counter_t counters[] = {{"boots", 3}, {"stops", 2}};
    cr_assert (eq (int, proto_msg_add_counters (&msg, counters, 2), 0));
    cr_assert (eq (sz, msg.svc_alive.counter_count, 2));
    cr_assert (eq (i64, proto_alive_counter (&msg.svc_alive, "stops", -1), 2));
    for (size_t index = 2; index < PROTO_COUNTERS_MAX; index++)
        proto_msg_add_counter (&msg, "filler", 0);
    cr_assert (eq (int, proto_msg_add_counters (&msg, counters, 2), -1), "no room left");
    cr_assert (eq (sz, msg.svc_alive.counter_count, (size_t) PROTO_COUNTERS_MAX));
    proto_msg_reset (&msg);
}
