/*  dnsd_table: services in and out, derived and configured zones, PTRs, bad definitions.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_table.h"
#include "dnsd_testing.h"

static dnsd_config_t s_config;
static dnsd_table_t *s_table;

//  Config with zones "example.net" and "0.0.10.in-addr.arpa".
static void
s_setup (void)
{
    char path[] = "/tmp/dnsd-table-XXXXXX";
    int fd = mkstemp (path);
    const char *text = "{\"zones\": [{\"name\": \"example.net\", \"ns\": [\"ns1.example.net\"]},"
                       " {\"name\": \"0.0.10.in-addr.arpa\"}]}";
    cr_assert (eq (sz, (size_t) write (fd, text, strlen (text)), strlen (text)));
    close (fd);
    proto_error_t error;
    cr_assert (eq (int, dnsd_config_load (&s_config, path, &error), 0), "%s", error.text);
    unlink (path);
    s_table = dnsd_table_new (&s_config);
}

static void
s_teardown (void)
{
    dnsd_table_destroy (&s_table);
    dnsd_config_reset (&s_config);
}

static void
s_define (const char *name, const char *json)
{
    dt_define (s_table, name, json);
}

static const dnsd_node_t *
s_node (const char *text)
{
    uint8_t wire[DNSD_NAME_MAX];
    int length = dnsd_name_from_text (text, wire);
    return dnsd_table_node (s_table, wire, (size_t) length, dnsd_name_hash (wire, (size_t) length));
}

static const dnsd_zone_t *
s_zone (const char *text)
{
    uint8_t wire[DNSD_NAME_MAX];
    int length = dnsd_name_from_text (text, wire);
    return dnsd_table_zone (s_table, wire, (size_t) length);
}

static char *
s_apex (const dnsd_zone_t *zone)
{
    static char text[DNSD_NAME_TEXT_MAX];
    if (!zone)
        return "(none)";
    dnsd_name_to_text (zone->apex, text, sizeof text);
    return text;
}

TestSuite (dnsd_table, .init = s_setup, .fini = s_teardown);

Test (dnsd_table, configured_zones_exist_from_the_start)
{
    cr_assert (eq (sz, dnsd_table_zones (s_table), 2));
    cr_assert (eq (str, s_apex (s_zone ("anything.example.net")), "example.net"));
    cr_assert (eq (ptr, (void *) s_zone ("example.com"), NULL));
    cr_assert (not(eq (ptr, (void *) s_node ("example.net")->apex, NULL)));
}

Test (dnsd_table, a_service_name_outside_the_zones_derives_its_parent)
{
    s_define ("www", "{\"name\":\"www\",\"dns\":[\"www.example.org\"],\"ip\":\"10.0.0.10\","
                     "\"ip6\":\"2001:db8::10\",\"domain\":\"www\",\"ttl\":30}");
    const dnsd_node_t *node = s_node ("WWW.EXAMPLE.ORG");
    cr_assert (not(eq (ptr, (void *) node, NULL)));
    cr_assert (eq (sz, node->owner_count, 1));
    dnsd_service_t *service = node->owners[0];
    cr_assert (eq (str, service->name, "www"));
    cr_assert (eq (u32, service->ttl, 30));
    cr_assert (eq (int, memcmp (service->ip, "\12\0\0\12", 4), 0));
    cr_assert (service->has_ip6);
    cr_assert (eq (str, s_apex (s_zone ("www.example.org")), "example.org"));
    cr_assert (eq (str, s_apex (s_zone ("nope.example.org")), "example.org"));
    cr_assert (eq (sz, dnsd_table_zones (s_table), 3));
    cr_assert (eq (sz, dnsd_table_defined (s_table), 1));
}

Test (dnsd_table, a_name_under_a_top_level_domain_is_its_own_zone)
{
    s_define ("bare", "{\"name\":\"bare\",\"dns\":[\"example.com\"],\"ip\":\"10.0.0.2\","
                      "\"domain\":\"bare\"}");
    cr_assert (eq (str, s_apex (s_zone ("example.com")), "example.com"));
    cr_assert (eq (ptr, (void *) s_zone ("other.com"), NULL), "never the whole TLD");
}

Test (dnsd_table, a_name_under_a_public_suffix_is_its_own_zone_never_the_suffix)
{
    s_define ("shop", "{\"name\":\"shop\",\"dns\":[\"shop.co.uk\",\"www.shop.co.uk\"],"
                      "\"ip\":\"10.0.0.4\",\"domain\":\"shop\"}");
    cr_assert (eq (str, s_apex (s_zone ("shop.co.uk")), "shop.co.uk"));
    cr_assert (eq (str, s_apex (s_zone ("www.shop.co.uk")), "shop.co.uk"), "one zone for both");
    cr_assert (eq (ptr, (void *) s_zone ("other.co.uk"), NULL), "strangers' names are not ours");
    cr_assert (eq (ptr, (void *) s_zone ("co.uk"), NULL));
    cr_assert (eq (sz, dnsd_table_zones (s_table), 3));
    //  Wildcard rules too: *.kawasaki.jp makes foo.kawasaki.jp a suffix, so not its zone.
    s_define ("jp", "{\"name\":\"jp\",\"dns\":[\"www.foo.kawasaki.jp\"],"
                    "\"ip\":\"10.0.0.5\",\"domain\":\"jp\"}");
    cr_assert (eq (str, s_apex (s_zone ("www.foo.kawasaki.jp")), "www.foo.kawasaki.jp"));
    cr_assert (eq (ptr, (void *) s_zone ("bar.foo.kawasaki.jp"), NULL));
    dnsd_table_undefine (s_table, "shop");
    dnsd_table_undefine (s_table, "jp");
    cr_assert (eq (sz, dnsd_table_zones (s_table), 2));
    cr_assert (eq (sz, dnsd_table_names (s_table), 7), "every derived name went");
}

Test (dnsd_table, a_name_that_is_a_public_suffix_is_refused_naming_the_zone_to_configure)
{
    s_define ("pages", "{\"name\":\"pages\",\"dns\":[\"pages.example.org\"],"
                       "\"ip\":\"10.0.0.6\",\"domain\":\"pages\"}");
    json_t *value = dt_json ("{\"name\":\"pages\",\"dns\":[\"pages.example.org\",\"github.io\"],"
                             "\"ip\":\"10.0.0.6\",\"domain\":\"pages\"}");
    proto_error_t error;
    cr_assert (eq (int, dnsd_table_define (s_table, "pages", value, &error), -2));
    json_decref (value);
    cr_assert (
        not(eq (ptr, strstr (error.text, "pages: dns[1]: \"github.io\" is a public suffix"), NULL)),
        "%s", error.text);
    cr_assert (
        not(eq (ptr, strstr (error.text, "{\"name\": \"github.io\"} to \"zones\" in dnsd's config"),
                NULL)),
        "%s", error.text);
    //  Refused as a whole, as any invalid definition: the old one is gone too.
    cr_assert (eq (ptr, (void *) s_node ("pages.example.org"), NULL));
    cr_assert (eq (ptr, (void *) s_zone ("github.io"), NULL));
    cr_assert (eq (sz, dnsd_table_defined (s_table), 0));
    cr_assert (eq (sz, dnsd_table_zones (s_table), 2));
}

Test (dnsd_table, a_public_suffix_in_a_configured_zone_is_served)
{
    dnsd_config_t config;
    char path[] = "/tmp/dnsd-table-XXXXXX";
    int fd = mkstemp (path);
    const char *text = "{\"zones\": [{\"name\": \"github.io\"}]}";
    cr_assert (eq (sz, (size_t) write (fd, text, strlen (text)), strlen (text)));
    close (fd);
    proto_error_t error;
    cr_assert (eq (int, dnsd_config_load (&config, path, &error), 0), "%s", error.text);
    unlink (path);
    dnsd_table_t *table = dnsd_table_new (&config);
    json_t *value = dt_json ("{\"name\":\"pages\",\"dns\":[\"github.io\",\"a.github.io\"],"
                             "\"ip\":\"10.0.0.6\",\"domain\":\"pages\"}");
    cr_assert (eq (int, dnsd_table_define (table, "pages", value, &error), 0), "%s", error.text);
    json_decref (value);
    uint8_t wire[DNSD_NAME_MAX];
    int length = dnsd_name_from_text ("a.github.io", wire);
    cr_assert (not(eq (ptr,
                       (void *) dnsd_table_node (table, wire, (size_t) length,
                                                 dnsd_name_hash (wire, (size_t) length)),
                       NULL)));
    cr_assert (eq (sz, dnsd_table_zones (table), 1), "the configured zone, nothing derived");
    dnsd_table_destroy (&table);
    dnsd_config_reset (&config);
}

Test (dnsd_table, a_name_in_a_configured_zone_derives_nothing)
{
    s_define ("api", "{\"name\":\"api\",\"dns\":[\"api.example.net\"],\"ip\":\"10.0.0.3\","
                     "\"domain\":\"api\"}");
    cr_assert (eq (sz, dnsd_table_zones (s_table), 2));
    cr_assert (eq (str, s_apex (s_zone ("api.example.net")), "example.net"));
}

Test (dnsd_table, a_service_address_in_a_reverse_zone_gets_a_ptr)
{
    s_define ("www", "{\"name\":\"www\",\"dns\":[\"www.example.org\",\"alias.example.org\"],"
                     "\"ip\":\"10.0.0.10\",\"domain\":\"www\"}");
    s_define ("far", "{\"name\":\"far\",\"dns\":[\"far.example.org\"],\"ip\":\"10.9.0.1\","
                     "\"domain\":\"far\"}");
    const dnsd_node_t *node = s_node ("10.0.0.10.in-addr.arpa");
    cr_assert (not(eq (ptr, (void *) node, NULL)));
    cr_assert (eq (sz, node->ptr_count, 1));
    cr_assert (eq (int, memcmp (node->ptrs[0]->primary, "\3www\7example\3org", 17), 0),
               "the first name is the PTR target");
    cr_assert (eq (ptr, (void *) s_node ("1.0.9.10.in-addr.arpa"), NULL), "outside the zone");
}

Test (dnsd_table, redefining_and_undefining_move_and_remove_names)
{
    s_define ("www", "{\"name\":\"www\",\"dns\":[\"www.example.org\"],\"ip\":\"10.0.0.10\","
                     "\"domain\":\"www\"}");
    s_define ("www", "{\"name\":\"www\",\"dns\":[\"web.example.com\"],\"ip\":\"10.0.0.11\","
                     "\"domain\":\"www\"}");
    cr_assert (eq (ptr, (void *) s_node ("www.example.org"), NULL));
    cr_assert (eq (ptr, (void *) s_zone ("www.example.org"), NULL), "derived zone gone");
    cr_assert (not(eq (ptr, (void *) s_node ("web.example.com"), NULL)));
    dnsd_table_undefine (s_table, "www");
    cr_assert (eq (ptr, (void *) s_node ("web.example.com"), NULL));
    cr_assert (eq (sz, dnsd_table_zones (s_table), 2));
    cr_assert (eq (sz, dnsd_table_defined (s_table), 0));
    //  Only the configured apexes (and their ancestors) are left.
    cr_assert (eq (sz, dnsd_table_names (s_table), 7));
    dnsd_service_t *service = dnsd_table_service (s_table, "www");
    cr_assert (dnsd_table_prune (s_table, service));
    cr_assert (eq (ptr, dnsd_table_service (s_table, "www"), NULL));
}

Test (dnsd_table, an_invalid_definition_is_refused_and_serves_nothing)
{
    s_define ("www", "{\"name\":\"www\",\"dns\":[\"www.example.org\"],\"ip\":\"10.0.0.10\","
                     "\"domain\":\"www\"}");
    json_t *bad = dt_json ("{\"name\":\"www\",\"dns\":[\"www.example.org\"],\"ip\":\"10.0.0.300\","
                           "\"domain\":\"www\"}");
    proto_error_t error;
    cr_assert (eq (int, dnsd_table_define (s_table, "www", bad, &error), -2));
    cr_assert (not(eq (ptr, strstr (error.text, "ip"), NULL)), "%s", error.text);
    cr_assert (eq (ptr, (void *) s_node ("www.example.org"), NULL));
    json_decref (bad);
    bad = dt_json ("{\"name\":\"other\",\"dns\":[\"x.example.org\"],\"ip\":\"10.0.0.1\","
                   "\"domain\":\"x\"}");
    cr_assert (eq (int, dnsd_table_define (s_table, "www", bad, &error), -2), "name != key");
    json_decref (bad);
    bad = dt_json ("[1,2]");
    cr_assert (eq (int, dnsd_table_define (s_table, "www", bad, &error), -2));
    json_decref (bad);
    cr_assert (eq (sz, dnsd_table_defined (s_table), 0));
}

Test (dnsd_table, a_name_claimed_twice_is_answered_by_the_first_until_it_goes)
{
    s_define ("a", "{\"name\":\"a\",\"dns\":[\"www.example.org\"],\"ip\":\"10.0.0.1\","
                   "\"domain\":\"a\"}");
    s_define ("b", "{\"name\":\"b\",\"dns\":[\"www.example.org\"],\"ip\":\"10.0.0.2\","
                   "\"domain\":\"b\"}");
    cr_assert (eq (str, s_node ("www.example.org")->owners[0]->name, "a"));
    dnsd_table_undefine (s_table, "a");
    cr_assert (eq (str, s_node ("www.example.org")->owners[0]->name, "b"));
}

static int64_t s_reported[8];
static char s_reported_names[8][PROTO_NAME_MAX + 1];
static int s_reports;

static void
s_collect (dnsd_service_t *service, void *arg)
{
    cr_assert (lt (int, s_reports, 8));
    s_reported[s_reports] = service->hits;
    strcpy (s_reported_names[s_reports++], service->name);
}

static dnsd_service_t *
s_hits_service (const char *name)
{
    char text[256];
    snprintf (text, sizeof text,
              "{\"name\":\"%s\",\"dns\":[\"%s.example.org\"],\"ip\":\"10.0.0.1\","
              "\"domain\":\"%s\"}",
              name, name, name);
    s_define (name, text);
    return dnsd_table_service (s_table, name);
}

//  Service NAME, with one query reported at MONO_MS.
static dnsd_service_t *
s_reported_service (const char *name, int64_t mono_ms)
{
    dnsd_service_t *service = s_hits_service (name);
    dnsd_table_hit (s_table, service, mono_ms, mono_ms);
    dnsd_table_report (s_table, service, mono_ms, s_collect, NULL);
    return service;
}

Test (dnsd_table, the_first_query_after_a_quiet_second_is_reported_at_once)
{
    dnsd_service_t *service = s_hits_service ("www");
    s_reports = 0;
    cr_assert (dnsd_table_hit (s_table, service, 7000, 50000), "never reported: at once");
    dnsd_table_report (s_table, service, 50000, s_collect, NULL);
    cr_assert (eq (int, s_reports, 1));
    cr_assert (eq (i64, s_reported[0], 1));
    cr_assert (eq (i64, dnsd_table_hits_due (s_table), 51000));
    //  Within the second: counted, not reported.
    cr_assert (not(dnsd_table_hit (s_table, service, 7300, 50300)));
    cr_assert (not(dnsd_table_hit (s_table, service, 7600, 50600)));
    cr_assert (eq (i64, service->hits_first_ts, 7300));
    cr_assert (eq (i64, service->hits_last_ts, 7600));
    dnsd_table_take_hits (s_table, 50999, s_collect, NULL);
    cr_assert (eq (int, s_reports, 1), "not yet a second since the last report");
    dnsd_table_take_hits (s_table, 51000, s_collect, NULL);
    cr_assert (eq (int, s_reports, 2), "its second is up: the two coalesced");
    cr_assert (eq (i64, s_reported[1], 2));
    cr_assert (not(dnsd_table_hit (s_table, service, 8500, 51500)), "a second after that one");
    dnsd_table_take_hits (s_table, 52000, s_collect, NULL);
    cr_assert (eq (int, s_reports, 3));
    //  A second without queries: off the queue, and the next query is reported at once.
    dnsd_table_take_hits (s_table, 53000, s_collect, NULL);
    cr_assert (eq (int, s_reports, 3), "nothing new, nothing published");
    cr_assert (eq (i64, dnsd_table_hits_due (s_table), -1));
    cr_assert (dnsd_table_hit (s_table, service, 10100, 53100));
}

Test (dnsd_table, a_late_timer_does_not_delay_a_query_after_a_quiet_second)
{
    dnsd_service_t *service = s_reported_service ("www", 1000);
    //  Still queued (the timer has not run), but a second has passed.
    cr_assert (dnsd_table_hit (s_table, service, 2000, 2000));
}

Test (dnsd_table, the_first_query_of_a_drain_is_reported_at_once)
{
    dnsd_service_t *service = s_reported_service ("www", 1000);
    service->state = PROTO_STATE_DRAINING;  // as dnsd_summon_state sets it
    service->drain_mono = 1200;
    cr_assert (dnsd_table_hit (s_table, service, 1300, 1300), "it cancels the drain");
    dnsd_table_report (s_table, service, 1300, s_collect, NULL);
    cr_assert (not(dnsd_table_hit (s_table, service, 1400, 1400)), "later ones coalesce");
    cr_assert (eq (i64, dnsd_table_hits_due (s_table), 2300), "moved to the queue's tail");
}

Test (dnsd_table, reports_fall_due_in_the_order_they_were_made)
{
    dnsd_service_t *a = s_reported_service ("a", 1000), *b = s_reported_service ("b", 1100);
    cr_assert (not(dnsd_table_hit (s_table, b, 1200, 1200)));
    cr_assert (not(dnsd_table_hit (s_table, a, 1300, 1300)));
    dnsd_table_take_hits (s_table, 2000, s_collect, NULL);
    cr_assert (eq (int, s_reports, 3), "a's second is up, not b's");
    cr_assert (eq (str, s_reported_names[2], "a"));
    cr_assert (eq (i64, dnsd_table_hits_due (s_table), 2100));
    dnsd_table_take_hits (s_table, 2100, s_collect, NULL);
    cr_assert (eq (int, s_reports, 4));
    cr_assert (eq (str, s_reported_names[3], "b"));
    //  An undefined service leaves the queue with its record.
    dnsd_table_undefine (s_table, "a");
    cr_assert (dnsd_table_prune (s_table, a));
    cr_assert (eq (i64, dnsd_table_hits_due (s_table), 3100), "b, reported at 2100");
}
