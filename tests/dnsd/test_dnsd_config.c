/*  dnsd_config: defaults, every list, and refusals that name the file and the field.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_config.h"
#include "dnsd_testing.h"

static char s_path[64];

//  Write TEXT to a temporary config file and load it; returns the rc, ERROR filled.
static int
s_load (dnsd_config_t *config, const char *text, proto_error_t *error)
{
    strcpy (s_path, "/tmp/dnsd-config-XXXXXX");
    int fd = mkstemp (s_path);
    cr_assert (eq (sz, (size_t) write (fd, text, strlen (text)), strlen (text)));
    close (fd);
    int rc = dnsd_config_load (config, s_path, error);
    unlink (s_path);
    return rc;
}

//  The config TEXT is refused, and the error names the file and FIELD.
static void
s_refused (const char *text, const char *field)
{
    dnsd_config_t config;
    proto_error_t error;
    cr_assert (eq (int, s_load (&config, text, &error), -2), "%s", text);
    cr_assert (not(eq (ptr, strstr (error.text, field), NULL)), "%s: error \"%s\" does not name %s",
               text, error.text, field);
    cr_assert (not(eq (ptr, strstr (error.text, "/tmp/dnsd-config-"), NULL)),
               "the file is named: %s", error.text);
    dnsd_config_reset (&config);
}

Test (dnsd_config, defaults_serve_localhost_on_53_without_forwarding)
{
    dnsd_config_t config;
    proto_error_t error;
    cr_assert (eq (int, dnsd_config_load (&config, NULL, &error), 0));
    cr_assert (eq (int, config.port, 53));
    cr_assert (eq (sz, config.listen_count, 1));
    cr_assert (eq (str, config.listen[0], "127.0.0.1"));
    cr_assert (not(dnsd_config_forwarding (&config)));
    cr_assert (eq (str, config.instance, "1"));
    cr_assert (eq (sz, config.derived.ns_count, 1));
    dnsd_config_reset (&config);
}

Test (dnsd_config, every_key_is_read)
{
    dnsd_config_t config;
    proto_error_t error;
    int rc =
        s_load (&config,
                "{\"instance\": \"2\", \"listen\": [\"127.0.0.1\", \"::1\"], \"port\": 5353,"
                " \"upstreams\": [\"192.0.2.53\", \"2001:db8::53@5300\"],"
                " \"forward_timeout_ms\": 500, \"forward_retries\": 1, \"forwards_max\": 10,"
                " \"nameservers\": [\"ns1.example.org\", \"ns2.example.org\"],"
                " \"zones\": [{\"name\": \"Example.ORG.\", \"hostmaster\": \"root.example.org\","
                " \"ttl\": 100, \"minimum\": 10}, {\"name\": \"10.in-addr.arpa\","
                " \"ns\": [\"rev.example.org\"]}],"
                " \"heartbeat_ms\": 500, \"statestore_heartbeat_ms\": 200,"
                " \"boot_retry_ms\": 300, \"boot_rate\": 5, \"boot_burst\": 6,"
                " \"boot_prefix_rate\": 1, \"boot_prefix_burst\": 2, \"waiting_max\": 7,"
                " \"tcp_clients_max\": 8, \"tcp_idle_ms\": 900, \"sync_wait_ms\": 0,"
                " \"port_file\": \"/tmp/p\", \"endpoints\": {\"run_dir\": \"/tmp/x\"}}",
                &error);
    cr_assert (eq (int, rc, 0), "%s", error.text);
    cr_assert (eq (sz, config.upstream_count, 2));
    cr_assert (eq (str, config.upstreams[0].text, "192.0.2.53@53"));
    cr_assert (eq (str, config.upstreams[1].text, "2001:db8::53@5300"));
    cr_assert (eq (sz, config.zone_count, 2));
    cr_assert (eq (int, memcmp (config.zones[0].apex, "\7example\3org", 13), 0));
    cr_assert (eq (sz, config.zones[0].ns_count, 2), "nameservers are the default NS");
    cr_assert (eq (int, config.zones[0].ttl, 100));
    cr_assert (eq (sz, config.zones[1].ns_count, 1));
    cr_assert (eq (int, config.waiting_max, 7));
    cr_assert (eq (str, config.endpoints.bus_in, "ipc:///tmp/x/bus-in"));
    dnsd_config_reset (&config);
}

Test (dnsd_config, mistakes_are_refused_with_the_field_named)
{
    struct {
        const char *text;
        const char *field;
    } cases[] = {
        {"{\"prot\": 53}", "prot"},
        {"{\"port\": 70000}", "port"},
        {"{\"listen\": [\"localhost\"]}", "listen[0]"},
        {"{\"upstreams\": [\"192.0.2.1@0\"]}", "upstreams[0]"},
        {"{\"upstreams\": [\"dns.example\"]}", "upstreams[0]"},
        {"{\"zones\": [{\"ns\": [\"a.example\"]}]}", "zones[0]: name"},
        {"{\"zones\": [{\"name\": \"a..example\"}]}", "zones[0]: name"},
        {"{\"zones\": [{\"name\": \"x.example\"}, {\"name\": \"X.example.\"}]}", "listed twice"},
        {"{\"zones\": [{\"name\": \"x.example\", \"tll\": 5}]}", "tll"},
        {"{\"nameservers\": []}", "nameservers"},
        {"{\"port\": 53, \"port\": 54}", "port"},
        {"{\"recursion_from\": \"127.0.0.1\"}", "recursion_from"},
        {"{\"recursion_from\": [\"127.0.0.1\", \"10.0.0.0/33\"]}", "recursion_from[1]"},
        {"{\"recursion_from\": [\"localhost\"]}", "recursion_from[0]"},
        {"{\"recursion_from\": [8]}", "recursion_from[0]"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++)
        s_refused (cases[index].text, cases[index].field);
}

Test (dnsd_config, hold_max_ms_defaults_to_1200_and_is_bounded)
{
    dnsd_config_t config;
    proto_error_t error;
    cr_assert (eq (int, dnsd_config_load (&config, NULL, &error), 0));
    cr_assert (eq (int, config.hold_max_ms, 1200), "under Unbound's discard-timeout of 1900 ms");
    dnsd_config_reset (&config);
    cr_assert (eq (int, s_load (&config, "{\"hold_max_ms\": 0}", &error), 0), "%s", error.text);
    cr_assert (eq (int, config.hold_max_ms, 0), "0: never hold");
    dnsd_config_reset (&config);
    s_refused ("{\"hold_max_ms\": 60001}", "hold_max_ms");
}

Test (dnsd_config, rrl_and_cookie_keys_are_read_and_checked)
{
    dnsd_config_t config;
    proto_error_t error;
    cr_assert (eq (int, dnsd_config_load (&config, NULL, &error), 0));
    cr_assert (eq (int, config.rrl_rate, 200));
    cr_assert (eq (int, config.rrl_slip, 2));
    cr_assert (eq (int, config.rrl_ipv4_prefix, 24));
    cr_assert (eq (int, config.rrl_ipv6_prefix, 56));
    cr_assert (eq (sz, config.rrl_exempt_count, 2), "loopback");
    cr_assert (not(config.has_cookie_secret), "a random secret per process");
    dnsd_config_reset (&config);

    cr_assert (eq (int,
                   s_load (&config,
                           "{\"rrl_rate\": 0, \"rrl_slip\": 1, \"rrl_ipv4_prefix\": 32, "
                           "\"rrl_ipv6_prefix\": 64, \"rrl_exempt\": [], "
                           "\"cookie_secret\": \"E5E973E5A6B2A43F48E7DC849E37BFCF\"}",
                           &error),
                   0),
               "%s", error.text);
    cr_assert (eq (int, config.rrl_rate, 0));
    cr_assert (eq (int, config.rrl_ipv4_prefix, 32));
    cr_assert (eq (sz, config.rrl_exempt_count, 0), "[]: nothing exempt");
    cr_assert (config.has_cookie_secret);
    cr_assert (eq (int, config.cookie_secret[15], 0xcf));
    dnsd_config_reset (&config);

    cr_assert (eq (int, s_load (&config, "{\"rrl_exempt\": [\"10.0.0.0/8\", \"2001:db8::/32\"]}",
                                &error),
                   0));
    cr_assert (eq (sz, config.rrl_exempt_count, 2));
    cr_assert (eq (int, config.rrl_exempt[1].prefix_length, 32));
    dnsd_config_reset (&config);

    const char *bad[][2] = {
        {"{\"rrl_exempt\": [\"10.0.0.0/33\"]}", "rrl_exempt[0]"},
        {"{\"rrl_exempt\": \"10.0.0.0/8\"}", "rrl_exempt"},
        {"{\"rrl_ipv4_prefix\": 33}", "rrl_ipv4_prefix"},
        {"{\"rrl_rate\": -1}", "rrl_rate"},
        {"{\"cookie_secret\": \"e5e973e5a6b2a43f48e7dc849e37bf\"}", "cookie_secret"},
        {"{\"cookie_secret\": \"e5e973e5a6b2a43f48e7dc849e37bfcfaa\"}", "cookie_secret"},
        {"{\"cookie_secret\": \"x5e973e5a6b2a43f48e7dc849e37bfcf\"}", "cookie_secret"},
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++)
        s_refused (bad[index][0], bad[index][1]);
}

Test (dnsd_config, recursion_is_offered_to_loopback_only_by_default)
{
    dnsd_config_t config;
    proto_error_t error;
    struct sockaddr_storage storage;
    cr_assert (eq (int, s_load (&config, "{\"upstreams\": [\"192.0.2.53\"]}", &error), 0));
    cr_assert (eq (sz, config.recursion_count, 2));
    cr_assert (dnsd_config_recursion (&config, dt_client (&storage, "127.0.0.1")));
    cr_assert (dnsd_config_recursion (&config, dt_client (&storage, "127.3.2.1")));
    cr_assert (dnsd_config_recursion (&config, dt_client (&storage, "::1")));
    cr_assert (dnsd_config_recursion (&config, dt_client (&storage, "::ffff:127.0.0.1")));
    cr_assert (not(dnsd_config_recursion (&config, dt_client (&storage, "192.0.2.1"))));
    cr_assert (not(dnsd_config_recursion (&config, dt_client (&storage, "::2"))));
    cr_assert (not(dnsd_config_recursion (&config, NULL)));
    dnsd_config_reset (&config);
    //  Without upstreams there is no recursion to offer, to anyone.
    cr_assert (eq (int, dnsd_config_load (&config, NULL, &error), 0));
    cr_assert (not(dnsd_config_recursion (&config, dt_client (&storage, "127.0.0.1"))));
    dnsd_config_reset (&config);
}

Test (dnsd_config, recursion_from_replaces_the_default)
{
    dnsd_config_t config;
    proto_error_t error;
    struct sockaddr_storage storage;
    int rc = s_load (&config,
                     "{\"upstreams\": [\"192.0.2.53\"],"
                     " \"recursion_from\": [\"10.0.0.0/8\", \"2001:db8::/32\"]}",
                     &error);
    cr_assert (eq (int, rc, 0), "%s", error.text);
    cr_assert (eq (sz, config.recursion_count, 2));
    cr_assert (dnsd_config_recursion (&config, dt_client (&storage, "10.1.2.3")));
    cr_assert (dnsd_config_recursion (&config, dt_client (&storage, "2001:db8::1")));
    cr_assert (not(dnsd_config_recursion (&config, dt_client (&storage, "127.0.0.1"))),
               "loopback is no longer in it");
    dnsd_config_reset (&config);
    rc = s_load (&config, "{\"upstreams\": [\"192.0.2.53\"], \"recursion_from\": []}", &error);
    cr_assert (eq (int, rc, 0), "%s", error.text);
    cr_assert (eq (sz, config.recursion_count, 0));
    cr_assert (not(dnsd_config_recursion (&config, dt_client (&storage, "127.0.0.1"))), "nobody");
    dnsd_config_reset (&config);
}
