/*  proto_service: the service schema, its defaults, the Jitsu syntax and the wake ACL.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "proto.h"

//  Parse TEXT; returns the result and leaves SERVICE filled (or reset) and ERROR set.
static int
s_parse (proto_service_t *service, const char *text, proto_error_t *error)
{
    json_t *config = json_loads (text, 0, NULL);
    cr_assert (not (eq (ptr, config, NULL)), "test JSON is broken: %s", text);
    proto_service_init (service);
    int rc = proto_service_parse (service, config, "www", error);
    json_decref (config);
    return rc;
}

static void
s_expect_refused (const char *text, const char *field)
{
    proto_service_t service;
    proto_error_t error;
    cr_assert (eq (int, s_parse (&service, text, &error), -2), "accepted %s", text);
    cr_assert (not (eq (ptr, strstr (error.text, field), NULL)), "'%s' not named: %s", field,
               error.text);
    proto_service_reset (&service);
}

Test (proto_service, minimal_definition_gets_the_documented_defaults)
{
    proto_service_t service;
    proto_error_t error;
    cr_assert (eq (int, s_parse (&service, "{\"name\":\"www\",\"dns\":[\"WWW.Example.org.\"],"
                                           "\"ip\":\"10.0.0.10\",\"domain\":\"www\"}", &error),
                   0), "%s", error.text);
    cr_assert (eq (str, service.dns[0], "www.example.org"));
    cr_assert (eq (int, service.ttl, 60));
    cr_assert (eq (int, service.idle_timeout_s, 120), "2 x ttl");
    cr_assert (eq (int, service.mask, PROTO_MASK_AUTO));
    cr_assert (eq (int, service.ready, PROTO_READY_EVENT));
    cr_assert (eq (int, service.stop_mode, PROTO_MODE_DESTROY));
    cr_assert (eq (int, service.idle_on, PROTO_IDLE_ON_DNS_TRAFFIC));
    cr_assert (eq (int, service.ready_timeout_ms, 10000));
    cr_assert (eq (sz, service.wake_count, 0));
    cr_assert (eq (ptr, service.template, NULL));
    proto_service_reset (&service);
}

Test (proto_service, every_field_parses_and_encodes_back)
{
    proto_service_t service;
    proto_error_t error;
    const char *text =
        "{\"name\":\"www\",\"dns\":[\"a.example\",\"b.example\"],\"ip\":\"10.0.0.10\","
        "\"ip6\":\"2001:db8::10\",\"mac\":\"52:54:00:AB:cd:01\",\"template\":{\"kernel\":"
        "\"/k/vmlinux\",\"initrd\":\"/k/initrd\",\"cmdline\":\"quiet\",\"memory_mib\":64,"
        "\"vcpus\":2,\"bridge\":\"br0\",\"machine\":\"q35\"},\"ttl\":30,\"mask\":\"ready\","
        "\"response_delay_ms\":50,\"ready\":\"probe:80\",\"ready_timeout_ms\":4000,"
        "\"stop_mode\":\"suspend\",\"idle_timeout_s\":90,\"idle_on\":\"dns\","
        "\"wake\":[\"10.0.0.0/8\",\"2001:db8::/32\"]}";
    cr_assert (eq (int, s_parse (&service, text, &error), 0), "%s", error.text);
    cr_assert (eq (str, service.mac, "52:54:00:ab:cd:01"));
    cr_assert (eq (int, service.ready, PROTO_READY_PROBE));
    cr_assert (eq (int, service.ready_port, 80));
    cr_assert (eq (int, service.template->memory_mib, 64));
    cr_assert (eq (int, service.idle_timeout_s, 90));
    json_t *encoded = proto_service_encode (&service);
    proto_service_t again;
    proto_service_init (&again);
    cr_assert (eq (int, proto_service_parse (&again, encoded, "again", &error), 0), "%s",
               error.text);
    json_t *twice = proto_service_encode (&again);
    cr_assert (json_equal (encoded, twice), "encode is not stable");
    json_decref (twice);
    json_decref (encoded);
    proto_service_reset (&again);
    proto_service_reset (&service);
}

Test (proto_service, bad_definitions_name_the_field)
{
    s_expect_refused ("{\"name\":\"www\",\"dns\":[\"a.example\"],\"ip\":\"10.0.0.10\","
                      "\"domain\":\"www\",\"tll\":30}", "tll");
    s_expect_refused ("{\"name\":\"www\",\"dns\":[],\"ip\":\"10.0.0.10\",\"domain\":\"w\"}",
                      "dns");
    s_expect_refused ("{\"name\":\"www\",\"dns\":[\"a..b\"],\"ip\":\"10.0.0.10\","
                      "\"domain\":\"w\"}", "dns[0]");
    s_expect_refused ("{\"name\":\"www\",\"dns\":[\"a.b\"],\"ip\":\"::1\",\"domain\":\"w\"}",
                      "ip");
    s_expect_refused ("{\"name\":\"www\",\"dns\":[\"a.b\"],\"ip\":\"10.0.0.1\"}", "domain");
    s_expect_refused ("{\"name\":\"www\",\"dns\":[\"a.b\"],\"ip\":\"10.0.0.1\",\"domain\":\"w\","
                      "\"template\":{\"kernel\":\"/k\",\"bridge\":\"br0\"}}", "domain");
    s_expect_refused ("{\"name\":\"www\",\"dns\":[\"a.b\"],\"ip\":\"10.0.0.1\","
                      "\"template\":{\"kernel\":\"k\",\"bridge\":\"br0\"}}", "kernel");
    s_expect_refused ("{\"name\":\"www\",\"dns\":[\"a.b\"],\"ip\":\"10.0.0.1\",\"domain\":\"w\","
                      "\"ttl\":0}", "ttl");
    s_expect_refused ("{\"name\":\"www\",\"dns\":[\"a.b\"],\"ip\":\"10.0.0.1\",\"domain\":\"w\","
                      "\"mask\":\"fast\"}", "mask");
    s_expect_refused ("{\"name\":\"www\",\"dns\":[\"a.b\"],\"ip\":\"10.0.0.1\",\"domain\":\"w\","
                      "\"ready\":\"probe:99999\"}", "ready");
    s_expect_refused ("{\"name\":\"www\",\"dns\":[\"a.b\"],\"ip\":\"10.0.0.1\",\"domain\":\"w\","
                      "\"stop_mode\":\"none\"}", "stop_mode");
    s_expect_refused ("{\"name\":\"www\",\"dns\":[\"a.b\"],\"ip\":\"10.0.0.1\",\"domain\":\"w\","
                      "\"mac\":\"01:00:5e:00:00:01\"}", "mac");
    s_expect_refused ("{\"name\":\"www\",\"dns\":[\"a.b\"],\"ip\":\"10.0.0.1\",\"domain\":\"w\","
                      "\"wake\":[\"10.0.0.0/33\"]}", "wake[0]");
    s_expect_refused ("{\"name\":\"-www\",\"dns\":[\"a.b\"],\"ip\":\"10.0.0.1\",\"domain\":\"w\"}",
                      "name");
}

Test (proto_service, jitsu_syntax_becomes_a_config)
{
    char *words[] = {"dns=www.example.org,ip=10.0.0.10,domain=www", "ttl=30,dns=alt.example",
                     "cmdline=a\\,b c,kernel=/k,bridge=br0"};
    proto_error_t error;
    json_t *config = proto_service_from_words ("www", 3, words, &error);
    cr_assert (not (eq (ptr, config, NULL)), "%s", error.text);
    cr_assert (eq (sz, json_array_size (json_object_get (config, "dns")), 2));
    cr_assert (eq (i64, json_integer_value (json_object_get (config, "ttl")), 30));
    json_t *template = json_object_get (config, "template");
    cr_assert (eq (str, (char *) json_string_value (json_object_get (template, "cmdline")),
                   "a,b c"));
    json_decref (config);

    char *unknown[] = {"dns=a.b,colour=red"};
    cr_assert (eq (ptr, proto_service_from_words ("www", 1, unknown, &error), NULL));
    cr_assert (not (eq (ptr, strstr (error.text, "colour"), NULL)));
    char *not_number[] = {"ttl=soon"};
    cr_assert (eq (ptr, proto_service_from_words ("www", 1, not_number, &error), NULL));
    cr_assert (not (eq (ptr, strstr (error.text, "ttl"), NULL)));
}

static bool
s_may_wake (const proto_service_t *service, const char *address)
{
    struct sockaddr_storage storage = {0};
    if (strchr (address, ':')) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) &storage;
        v6->sin6_family = AF_INET6;
        inet_pton (AF_INET6, address, &v6->sin6_addr);
    }
    else {
        struct sockaddr_in *v4 = (struct sockaddr_in *) &storage;
        v4->sin_family = AF_INET;
        inet_pton (AF_INET, address, &v4->sin_addr);
    }
    return proto_service_may_wake (service, (struct sockaddr *) &storage);
}

Test (proto_service, wake_list_admits_only_its_networks)
{
    proto_service_t service;
    proto_error_t error;
    const char *listed = "{\"name\":\"www\",\"dns\":[\"a.b\"],\"ip\":\"10.0.0.1\",\"domain\":\"w\","
                         "\"wake\":[\"10.1.0.0/16\",\"192.0.2.7\",\"2001:db8::/33\"]}";
    cr_assert (eq (int, s_parse (&service, listed, &error), 0));
    cr_assert (s_may_wake (&service, "10.1.200.3"));
    cr_assert (not (s_may_wake (&service, "10.2.0.1")));
    cr_assert (s_may_wake (&service, "192.0.2.7"));
    cr_assert (not (s_may_wake (&service, "192.0.2.8")));
    cr_assert (s_may_wake (&service, "2001:db8:7fff::1"));
    cr_assert (not (s_may_wake (&service, "2001:db8:8000::1")));
    cr_assert (s_may_wake (&service, "::ffff:10.1.0.9"), "v4-mapped counts as IPv4");
    proto_service_reset (&service);
    const char *open = "{\"name\":\"www\",\"dns\":[\"a.b\"],\"ip\":\"10.0.0.1\",\"domain\":\"w\"}";
    cr_assert (eq (int, s_parse (&service, open, &error), 0));
    cr_assert (s_may_wake (&service, "203.0.113.1"), "no list: everyone");
    proto_service_reset (&service);
}

Test (proto_status, round_trips_and_refuses_a_bad_state)
{
    proto_status_t status = {PROTO_STATE_READY, "www-3", 1795328627150, 3, 2149, "",
                             PROTO_TIER_SAVED};
    json_t *value = proto_status_encode (&status);
    proto_status_t parsed;
    proto_error_t error;
    cr_assert (eq (int, proto_status_parse (&parsed, value, &error), 0), "%s", error.text);
    cr_assert (eq (int, parsed.state, PROTO_STATE_READY));
    cr_assert (eq (str, parsed.boot_id, "www-3"));
    cr_assert (eq (i64, parsed.last_boot_ms, 2149));
    cr_assert (eq (int, parsed.from, PROTO_TIER_SAVED));
    json_decref (value);
    const char *tiers[] = {"paused", "saved", "draining"};
    for (size_t index = 0; index < 3; index++) {
        value = json_pack ("{s:s}", "state", tiers[index]);
        cr_assert (eq (int, proto_status_parse (&parsed, value, &error), 0), "%s", error.text);
        cr_assert (eq (str, (char *) proto_state_name (parsed.state), (char *) tiers[index]));
        json_decref (value);
    }
    value = json_pack ("{s:s, s:s}", "state", "off", "from", "hibernated");
    cr_assert (eq (int, proto_status_parse (&parsed, value, &error), -2));
    json_decref (value);
    value = json_pack ("{s:s}", "state", "sleeping");
    cr_assert (eq (int, proto_status_parse (&parsed, value, &error), -2));
    cr_assert (not (eq (ptr, strstr (error.text, "state"), NULL)));
    json_decref (value);
    value = json_pack ("{s:s, s:s, s:b}", "state", "off", "boots", "3", "future", 1);
    cr_assert (eq (int, proto_status_parse (&parsed, value, &error), -2), "boots must be int");
    json_decref (value);
}

//  The body of a minimal service with EXTRA fields (",\"ttl\":30").
static int
s_parse_extra (proto_service_t *service, const char *extra, proto_error_t *error)
{
    char text[1024];
    snprintf (text, sizeof text, "{\"name\":\"www\",\"dns\":[\"www.example.org\"],"
                                 "\"ip\":\"10.0.0.10\",\"domain\":\"www\"%s}", extra);
    return s_parse (service, text, error);
}

Test (proto_service, an_idle_ladder_parses_in_order_and_encodes_back)
{
    proto_service_t service;
    proto_error_t error;
    cr_assert (eq (int, s_parse_extra (&service, ",\"ttl\":30,\"idle_ladder\":["
                                                 "{\"after_s\":60,\"mode\":\"suspend\"},"
                                                 "{\"after_s\":600,\"mode\":\"save\"},"
                                                 "{\"after_s\":3600,\"mode\":\"destroy\"}]",
                                       &error), 0), "%s", error.text);
    cr_assert (eq (sz, service.ladder_count, 3));
    cr_assert (eq (int, service.ladder[1].after_s, 600));
    cr_assert (eq (int, service.ladder[1].mode, PROTO_MODE_SAVE));
    cr_assert (eq (int, service.idle_timeout_s, 60), "the first step");
    cr_assert (eq (int, service.stop_mode, PROTO_MODE_SUSPEND));
    json_t *encoded = proto_service_encode (&service);
    proto_service_t again;
    proto_service_init (&again);
    cr_assert (eq (int, proto_service_parse (&again, encoded, "again", &error), 0), "%s",
               error.text);
    cr_assert (eq (sz, again.ladder_count, 3));
    cr_assert (eq (int, again.ladder[2].mode, PROTO_MODE_DESTROY));
    json_decref (encoded);
    proto_service_reset (&again);
    proto_service_reset (&service);
}

Test (proto_service, a_bad_ladder_or_an_idle_time_under_the_ttl_is_refused_by_name)
{
    struct {
        const char *extra, *says;
    } cases[] = {
        {",\"idle_ladder\":[{\"after_s\":600,\"mode\":\"save\"},{\"after_s\":60,"
         "\"mode\":\"destroy\"}]", "idle_ladder[1].after_s"},
        {",\"idle_ladder\":[{\"after_s\":600,\"mode\":\"nap\"}]", "idle_ladder[0]"},
        {",\"idle_ladder\":[]", "idle_ladder"},
        {",\"stop_mode\":\"save\",\"idle_ladder\":[{\"after_s\":600,\"mode\":\"save\"}]",
         "not together"},
        {",\"ttl\":300,\"idle_timeout_s\":120", "idle_timeout_s: 120 s is shorter than the ttl"},
        {",\"ttl\":300,\"idle_ladder\":[{\"after_s\":60,\"mode\":\"suspend\"}]", "idle_ladder"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        proto_service_t service;
        proto_error_t error;
        cr_assert (eq (int, s_parse_extra (&service, cases[index].extra, &error), -2), "%s",
                   cases[index].extra);
        cr_assert (not (eq (ptr, strstr (error.text, cases[index].says), NULL)), "%s: %s",
                   cases[index].says, error.text);
    }
}

Test (proto_service, short_ttls_default_to_5_s_at_most_the_ttl)
{
    proto_service_t service;
    proto_error_t error;
    cr_assert (eq (int, s_parse_extra (&service, "", &error), 0), "%s", error.text);
    cr_assert (eq (int, service.boot_ttl, 5));
    cr_assert (eq (int, service.drain_ttl, 5));
    cr_assert (eq (int, service.hold_max_ms, -1), "the dnsd decides");
    proto_service_reset (&service);
    cr_assert (eq (int, s_parse_extra (&service, ",\"ttl\":2", &error), 0), "%s", error.text);
    cr_assert (eq (int, service.boot_ttl, 2));
    proto_service_reset (&service);
}

Test (proto_service, the_flat_syntax_writes_a_ladder_as_steps)
{
    char *words[] = {"dns=www.example.org,ip=10.0.0.10,domain=www",
                     "idle_ladder=60:suspend/600:save/3600:destroy"};
    proto_error_t error;
    json_t *config = proto_service_from_words ("www", 2, words, &error);
    cr_assert (not (eq (ptr, config, NULL)), "%s", error.text);
    proto_service_t service;
    proto_service_init (&service);
    cr_assert (eq (int, proto_service_parse (&service, config, "www", &error), 0), "%s",
               error.text);
    cr_assert (eq (sz, service.ladder_count, 3));
    cr_assert (eq (int, service.ladder[2].after_s, 3600));
    json_decref (config);
    proto_service_reset (&service);
    char *bad[] = {"dns=www.example.org,ip=10.0.0.10,domain=www,idle_ladder=60-suspend"};
    cr_assert (eq (ptr, proto_service_from_words ("www", 1, bad, &error), NULL));
    cr_assert (not (eq (ptr, strstr (error.text, "AFTER_S:MODE"), NULL)), "%s", error.text);
}
