/*  dnsd_handler: every record type and RCODE dnsd answers, what it forwards, refuses and
    drops, and when a query waits for a boot, checked by parsing each answer with ldns.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_handler.h"
#include "dnsd_testing.h"

static dt_stack_t s_stack;
static struct sockaddr_storage s_client;
static uint8_t s_answer[65535];

//  Zones: example.net (configured), big.example (16 long NS names), 0.0.10.in-addr.arpa.
//  Services: www (running, A and AAAA), sleepy (mask ready), lazy (mask none, ttl 300, boot_ttl
//  4, drain_ttl 6), deep (a.b.deep.example.org: b.deep.example.org is an empty non-terminal).
static void
s_setup_with (bool forwarding)
{
    char path[] = "/tmp/dnsd-handler-XXXXXX";
    int fd = mkstemp (path);
    FILE *file = fdopen (fd, "w");
    fprintf (file, "{\"zones\": [{\"name\": \"example.net\", \"ns\": [\"ns1.example.net\","
                   " \"ns2.example.net\"], \"minimum\": 30, \"ttl\": 600},"
                   " {\"name\": \"0.0.10.in-addr.arpa\"}, {\"name\": \"big.example\", \"ns\": [");
    for (int index = 0; index < 16; index++)
        fprintf (file, "%s\"ns%02d.%s.%s.big.example\"", index ? ", " : "", index,
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    fprintf (file, "]}]%s}", forwarding ? ", \"upstreams\": [\"127.0.0.1@5300\"]" : "");
    fclose (file);
    dt_stack_start (&s_stack, path);
    unlink (path);
    dnsd_table_t *table = s_stack.table;
    dnsd_service_t *www =
        dt_define (table, "www",
                   "{\"name\":\"www\",\"dns\":[\"www.example.org\"],\"ip\":\"10.0.0.10\","
                   "\"ip6\":\"2001:db8::10\",\"domain\":\"www\",\"ttl\":30}");
    dnsd_summon_state (s_stack.summon, www, PROTO_STATE_READY, 1, 0);
    dt_define (table, "sleepy",
               "{\"name\":\"sleepy\",\"dns\":[\"sleepy.example.org\"],\"ip\":\"10.0.0.11\","
               "\"domain\":\"sleepy\",\"mask\":\"ready\",\"ready_timeout_ms\":3000}");
    dt_define (table, "lazy",
               "{\"name\":\"lazy\",\"dns\":[\"lazy.example.net\"],\"ip\":\"10.0.0.12\","
               "\"domain\":\"lazy\",\"mask\":\"none\",\"ttl\":300,\"boot_ttl\":4,"
               "\"drain_ttl\":6}");
    dt_define (table, "deep",
               "{\"name\":\"deep\",\"dns\":[\"a.b.deep.example.org\"],\"ip\":\"10.1.0.1\","
               "\"domain\":\"deep\"}");
    dt_client (&s_client, "127.0.0.1");
}

static void
s_setup (void)
{
    s_setup_with (false);
}

static void
s_setup_forwarding (void)
{
    s_setup_with (true);
}

static void
s_teardown (void)
{
    dt_stack_stop (&s_stack);
}

//  Run the SIZE bytes of WIRE through the handler over UDP (or TCP) with room to wait.
static dnsd_verdict_t
s_process (const uint8_t *wire, size_t size, bool tcp, dnsd_outcome_t *outcome)
{
    dnsd_context_t context = {(const struct sockaddr *) &s_client, tcp, false, true, 1000, 500};
    return dnsd_handler_process (s_stack.handler, wire, size, &context, s_answer,
                                 tcp ? sizeof s_answer : DNSD_EDNS_PAYLOAD, outcome);
}

//  Ask NAME TYPE over UDP, expect an answer, and parse it.
static ldns_pkt *
s_ask (const char *name, const char *type, bool edns)
{
    uint8_t wire[512];
    size_t size = dt_query (wire, name, type, edns);
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_ANSWER), "%s %s",
               name, type);
    cr_assert (le (sz, outcome.size, edns ? DNSD_EDNS_PAYLOAD : 512));
    ldns_pkt *packet = dt_parse (s_answer, outcome.size);
    cr_assert (eq (int, (int) ldns_pkt_get_rcode (packet), outcome.rcode));
    return packet;
}

//  The owner of record INDEX of SECTION, as text.
static char *
s_owner (ldns_pkt *packet, ldns_pkt_section section, size_t index)
{
    ldns_rr_list *list = ldns_pkt_get_section_clone (packet, section);
    char *text = ldns_rdf2str (ldns_rr_owner (ldns_rr_list_rr (list, index)));
    ldns_rr_list_deep_free (list);
    return text;
}

static uint32_t
s_ttl (ldns_pkt *packet, ldns_pkt_section section, size_t index)
{
    ldns_rr_list *list = ldns_pkt_get_section_clone (packet, section);
    uint32_t ttl = ldns_rr_ttl (ldns_rr_list_rr (list, index));
    ldns_rr_list_deep_free (list);
    return ttl;
}

static void
s_expect_rdata (ldns_pkt *packet, ldns_pkt_section section, size_t index, const char *expected)
{
    char *text = dt_rdata (packet, section, index);
    cr_assert (eq (str, text, (char *) expected));
    free (text);
}

TestSuite (dnsd_handler, .init = s_setup, .fini = s_teardown);

Test (dnsd_handler, a_and_aaaa_of_a_running_service_are_answered_with_its_ttl)
{
    ldns_pkt *packet = s_ask ("www.example.org.", "A", false);
    cr_assert (eq (int, ldns_pkt_get_rcode (packet), LDNS_RCODE_NOERROR));
    cr_assert (ldns_pkt_aa (packet));
    cr_assert (eq (u16, ldns_pkt_ancount (packet), 1));
    s_expect_rdata (packet, LDNS_SECTION_ANSWER, 0, "10.0.0.10");
    cr_assert (eq (u32, s_ttl (packet, LDNS_SECTION_ANSWER, 0), 30));
    ldns_pkt_free (packet);
    packet = s_ask ("www.example.org.", "AAAA", true);
    s_expect_rdata (packet, LDNS_SECTION_ANSWER, 0, "2001:db8::10");
    cr_assert (ldns_pkt_edns (packet));
    ldns_pkt_free (packet);
    packet = s_ask ("www.example.org.", "ANY", false);
    cr_assert (eq (u16, ldns_pkt_ancount (packet), 2));
    ldns_pkt_free (packet);
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->answers[0], 3));
    cr_assert (eq (i64, dnsd_table_service (s_stack.table, "www")->hits, 3), "hits counted");
}

Test (dnsd_handler, names_are_case_insensitive)
{
    ldns_pkt *packet = s_ask ("wWw.EXAMPLE.oRg.", "A", false);
    s_expect_rdata (packet, LDNS_SECTION_ANSWER, 0, "10.0.0.10");
    char *owner = s_owner (packet, LDNS_SECTION_ANSWER, 0);
    cr_assert (eq (str, owner, "wWw.EXAMPLE.oRg."), "the owner is the question as asked");
    free (owner);
    ldns_pkt_free (packet);
}

Test (dnsd_handler, a_missing_name_is_nxdomain_with_the_soa)
{
    ldns_pkt *packet = s_ask ("nope.Example.org.", "A", false);
    cr_assert (eq (int, ldns_pkt_get_rcode (packet), LDNS_RCODE_NXDOMAIN));
    cr_assert (ldns_pkt_aa (packet));
    cr_assert (eq (u16, ldns_pkt_ancount (packet), 0));
    cr_assert (eq (u16, ldns_pkt_nscount (packet), 1));
    char *owner = s_owner (packet, LDNS_SECTION_AUTHORITY, 0);
    cr_assert (eq (str, owner, "Example.org."));
    free (owner);
    s_expect_rdata (packet, LDNS_SECTION_AUTHORITY, 0,
                    "localhost. hostmaster.example.org. 1 3600 600 86400 60");
    ldns_pkt_free (packet);
    packet = s_ask ("x.y.example.net.", "AAAA", false);
    cr_assert (eq (int, ldns_pkt_get_rcode (packet), LDNS_RCODE_NXDOMAIN));
    cr_assert (eq (u32, s_ttl (packet, LDNS_SECTION_AUTHORITY, 0), 30),
               "negative TTL: min (SOA TTL, MINIMUM)");
    ldns_pkt_free (packet);
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->answers[3], 2));
}

Test (dnsd_handler, another_type_at_an_existing_name_is_nodata)
{
    const char *cases[][2] = {{"www.example.org.", "MX"},
                              {"www.example.org.", "TXT"},
                              {"b.deep.example.org.", "A"},
                              {"lazy.example.net.", "AAAA"},
                              {"example.org.", "A"}};
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        ldns_pkt *packet = s_ask (cases[index][0], cases[index][1], false);
        cr_assert (eq (int, ldns_pkt_get_rcode (packet), LDNS_RCODE_NOERROR), "%s %s",
                   cases[index][0], cases[index][1]);
        cr_assert (eq (u16, ldns_pkt_ancount (packet), 0));
        cr_assert (eq (u16, ldns_pkt_nscount (packet), 1), "SOA in authority");
        ldns_pkt_free (packet);
    }
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->nodata, 5));
}

Test (dnsd_handler, soa_and_ns_are_answered_at_the_apex)
{
    ldns_pkt *packet = s_ask ("example.net.", "SOA", false);
    cr_assert (eq (u16, ldns_pkt_ancount (packet), 1));
    s_expect_rdata (packet, LDNS_SECTION_ANSWER, 0,
                    "ns1.example.net. hostmaster.example.net. 1 3600 600 86400 30");
    cr_assert (eq (u32, s_ttl (packet, LDNS_SECTION_ANSWER, 0), 600));
    ldns_pkt_free (packet);
    packet = s_ask ("example.net.", "NS", false);
    cr_assert (eq (u16, ldns_pkt_ancount (packet), 2));
    s_expect_rdata (packet, LDNS_SECTION_ANSWER, 1, "ns2.example.net.");
    ldns_pkt_free (packet);
    packet = s_ask ("EXAMPLE.org.", "NS", false);
    s_expect_rdata (packet, LDNS_SECTION_ANSWER, 0, "localhost.");
    ldns_pkt_free (packet);
    packet = s_ask ("example.net.", "ANY", false);
    cr_assert (eq (u16, ldns_pkt_ancount (packet), 3));
    ldns_pkt_free (packet);
}

Test (dnsd_handler, a_reverse_zone_answers_ptr_for_service_addresses)
{
    ldns_pkt *packet = s_ask ("10.0.0.10.in-addr.arpa.", "PTR", false);
    s_expect_rdata (packet, LDNS_SECTION_ANSWER, 0, "www.example.org.");
    ldns_pkt_free (packet);
    packet = s_ask ("99.0.0.10.in-addr.arpa.", "PTR", false);
    cr_assert (eq (int, ldns_pkt_get_rcode (packet), LDNS_RCODE_NXDOMAIN));
    ldns_pkt_free (packet);
}

Test (dnsd_handler, names_outside_the_zones_are_refused_without_forwarding)
{
    ldns_pkt *packet = s_ask ("www.example.com.", "A", true);
    cr_assert (eq (int, ldns_pkt_get_rcode (packet), LDNS_RCODE_REFUSED));
    cr_assert (not(ldns_pkt_aa (packet)));
    cr_assert (eq (u16, ldns_pkt_qdcount (packet), 1));
    ldns_pkt_free (packet);
    packet = s_ask ("org.", "SOA", false);
    cr_assert (eq (int, ldns_pkt_get_rcode (packet), LDNS_RCODE_REFUSED), "a parent is not ours");
    ldns_pkt_free (packet);
}

TestSuite (dnsd_handler_forwarding, .init = s_setup_forwarding, .fini = s_teardown);

Test (dnsd_handler_forwarding, names_outside_the_zones_are_forwarded)
{
    uint8_t wire[512];
    size_t size = dt_query (wire, "www.example.com.", "A", true);
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_FORWARD));
    cr_assert (eq (sz, outcome.limit, 1232));
    cr_assert (eq (int, s_process (wire, size, true, &outcome), DNSD_VERDICT_FORWARD));
    cr_assert (eq (sz, outcome.limit, 65535));
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->forwarded, 2));
    //  Served names are still answered here.
    ldns_pkt *packet = s_ask ("nope.example.org.", "A", false);
    cr_assert (eq (int, ldns_pkt_get_rcode (packet), LDNS_RCODE_NXDOMAIN));
    ldns_pkt_free (packet);
}

//  Ask NAME A over UDP from CLIENT with RD as given; returns the verdict.
static dnsd_verdict_t
s_ask_from (const char *client, const char *name, bool rd, dnsd_outcome_t *outcome)
{
    dt_client (&s_client, client);
    uint8_t wire[512];
    size_t size = dt_query (wire, name, "A", true);
    if (!rd)
        wire[2] &= (uint8_t) ~(DNSD_FLAG_RD >> 8);
    return s_process (wire, size, false, outcome);
}

static bool
s_ra (void)
{
    return s_answer[3] & DNSD_FLAG_RA;
}

Test (dnsd_handler_forwarding, a_client_outside_recursion_from_is_refused_without_ra)
{
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_ask_from ("192.0.2.1", "www.example.com.", true, &outcome),
                   DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_REFUSED));
    cr_assert (not(s_ra ()));
    cr_assert (eq (int, s_ask_from ("2001:db8::1", "www.example.com.", true, &outcome),
                   DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_REFUSED));
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->recursion_refused, 2));
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->forwarded, 0));
    //  Its own names are answered to anyone, without RA.
    cr_assert (eq (int, s_ask_from ("192.0.2.1", "www.example.org.", true, &outcome),
                   DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_NOERROR));
    cr_assert (not(s_ra ()));
    //  Loopback (IPv4, IPv6 and mapped) is offered recursion: forwarded.
    cr_assert (eq (int, s_ask_from ("127.0.0.2", "www.example.com.", true, &outcome),
                   DNSD_VERDICT_FORWARD));
    cr_assert (
        eq (int, s_ask_from ("::1", "www.example.com.", true, &outcome), DNSD_VERDICT_FORWARD));
    cr_assert (eq (int, s_ask_from ("::ffff:127.0.0.1", "www.example.com.", true, &outcome),
                   DNSD_VERDICT_FORWARD));
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->forwarded, 3));
}

Test (dnsd_handler_forwarding, ra_is_set_in_every_answer_to_a_client_offered_recursion)
{
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_ask_from ("127.0.0.1", "www.example.org.", true, &outcome),
                   DNSD_VERDICT_ANSWER));
    cr_assert (s_ra (), "an authoritative answer");
    cr_assert (eq (int, s_ask_from ("127.0.0.1", "nope.example.org.", true, &outcome),
                   DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_NXDOMAIN));
    cr_assert (s_ra (), "NXDOMAIN");
    //  A header-only error copies the query's flags: a client's RA is not echoed to a client
    //  outside recursion_from, and set for one inside.
    uint8_t wire[512];
    size_t size = dt_query (wire, "www.example.org.", "A", true);
    wire[3] |= DNSD_FLAG_RA;
    wire[2] = (uint8_t) (0x01 | (4 << 3));  // NOTIFY: NOTIMP
    dt_client (&s_client, "192.0.2.1");
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_NOTIMP));
    cr_assert (not(s_ra ()));
    wire[3] &= (uint8_t) ~DNSD_FLAG_RA;
    dt_client (&s_client, "::1");
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_ANSWER));
    cr_assert (s_ra ());
}

Test (dnsd_handler_forwarding, a_foreign_name_without_rd_is_refused_never_forwarded)
{
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_ask_from ("127.0.0.1", "www.example.com.", false, &outcome),
                   DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_REFUSED));
    cr_assert (s_ra (), "recursion is available, it was not asked for");
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->norecurse_refused, 1));
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->forwarded, 0));
    //  Its own names need no RD.
    cr_assert (eq (int, s_ask_from ("127.0.0.1", "www.example.org.", false, &outcome),
                   DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_NOERROR));
    cr_assert (not(s_answer[2] & (DNSD_FLAG_RD >> 8)), "RD comes back as sent");
}

Test (dnsd_handler, ra_is_never_set_without_forwarding)
{
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_ask_from ("127.0.0.1", "www.example.org.", true, &outcome),
                   DNSD_VERDICT_ANSWER));
    cr_assert (not(s_ra ()));
    cr_assert (eq (int, s_ask_from ("127.0.0.1", "www.example.com.", true, &outcome),
                   DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_REFUSED));
    cr_assert (not(s_ra ()));
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->recursion_refused, 0),
               "nothing to refuse: no recursion at all");
}

Test (dnsd_handler, other_classes_and_zone_transfers_are_refused)
{
    uint8_t wire[512];
    size_t size = dt_query (wire, "www.example.org.", "A", false);
    wire[size - 1] = 3;  // CH
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_REFUSED));
    ldns_pkt_free (s_ask ("example.net.", "AXFR", false));
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->answers[5], 2));
}

Test (dnsd_handler, malformed_messages_are_dropped_or_answered_like_nsd)
{
    uint8_t wire[512];
    size_t size = dt_query (wire, "www.example.org.", "A", true);
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_process (wire, 5, false, &outcome), DNSD_VERDICT_DROP));
    wire[2] |= 0x80;
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_DROP));
    wire[2] = 0x01 | (4 << 3);  // NOTIFY
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_NOTIMP));
    cr_assert (eq (sz, outcome.size, 12));
    wire[2] = 0x01;
    wire[5] = 2;  // QDCOUNT 2
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_FORMERR));
    wire[5] = 1;
    wire[size - 5] = 1;  // EDNS version 1
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_ANSWER));
    ldns_pkt *packet = dt_parse (s_answer, outcome.size);
    cr_assert (eq (u8, ldns_pkt_edns_extended_rcode (packet), 1), "BADVERS");
    ldns_pkt_free (packet);
    const dnsd_handler_stats_t *stats = dnsd_handler_stats (s_stack.handler);
    cr_assert (eq (u64, stats->dropped_short, 1));
    cr_assert (eq (u64, stats->dropped_response, 1));
    cr_assert (eq (u64, stats->answers[DNSD_RCODE_NOTIMP], 1));
    cr_assert (eq (u64, stats->answers[DNSD_RCODE_FORMERR], 1));
    cr_assert (eq (u64, stats->answers_badvers, 1));
    cr_assert (eq (u64, stats->queries, 5));
}

Test (dnsd_handler, a_large_answer_is_truncated_over_udp_and_whole_over_tcp)
{
    ldns_pkt *packet = s_ask ("big.example.", "NS", false);
    cr_assert (ldns_pkt_tc (packet));
    cr_assert (eq (u16, ldns_pkt_ancount (packet), 0));
    ldns_pkt_free (packet);
    packet = s_ask ("big.example.", "NS", true);
    cr_assert (ldns_pkt_tc (packet), "over 1232 bytes even with EDNS");
    ldns_pkt_free (packet);
    uint8_t wire[512];
    size_t size = dt_query (wire, "big.example.", "NS", true);
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_process (wire, size, true, &outcome), DNSD_VERDICT_ANSWER));
    cr_assert (gt (sz, outcome.size, 1232));
    packet = dt_parse (s_answer, outcome.size);
    cr_assert (not(ldns_pkt_tc (packet)));
    cr_assert (eq (u16, ldns_pkt_ancount (packet), 16));
    ldns_pkt_free (packet);
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->truncated, 2));
}

Test (dnsd_handler, an_address_query_for_a_sleeping_service_waits_and_boots)
{
    uint8_t wire[512];
    size_t size = dt_query (wire, "sleepy.example.org.", "A", false);
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_WAIT));
    cr_assert (outcome.boot);
    cr_assert (eq (str, outcome.service->name, "sleepy"));
    cr_assert (eq (i64, outcome.deadline, 1700), "hold_max_ms (1200) after the boot started");
    cr_assert (outcome.capped, "before its ready_timeout_ms (3000)");
    cr_assert (eq (str, outcome.qname, "sleepy.example.org"), "vm.boot needs no second parse");
    cr_assert (eq (int, outcome.qtype, DNSD_TYPE_A));
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_WAIT));
    cr_assert (not(outcome.boot), "single flight");
    //  Released: answered whatever the state.
    dnsd_context_t context = {(const struct sockaddr *) &s_client, false, true, true, 2000, 900};
    cr_assert (eq (
        int, dnsd_handler_process (s_stack.handler, wire, size, &context, s_answer, 1232, &outcome),
        DNSD_VERDICT_ANSWER));
    ldns_pkt *packet = dt_parse (s_answer, outcome.size);
    s_expect_rdata (packet, LDNS_SECTION_ANSWER, 0, "10.0.0.11");
    ldns_pkt_free (packet);
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->held, 2));
}

Test (dnsd_handler, other_types_for_a_sleeping_service_never_wait_or_boot)
{
    uint8_t wire[512];
    const char *types[] = {"MX", "TXT", "ANY", "SOA", "NS", "SRV"};
    for (size_t index = 0; index < sizeof types / sizeof types[0]; index++) {
        size_t size = dt_query (wire, "sleepy.example.org.", types[index], false);
        dnsd_outcome_t outcome;
        cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_ANSWER));
        cr_assert (not(outcome.boot), "%s booted", types[index]);
    }
    cr_assert (eq (u64, dnsd_summon_stats (s_stack.summon)->boots, 0));
}

Test (dnsd_handler, a_full_waitlist_means_an_answer_now)
{
    uint8_t wire[512];
    size_t size = dt_query (wire, "sleepy.example.org.", "AAAA", false);
    dnsd_context_t context = {(const struct sockaddr *) &s_client, false, false, false, 1000, 500};
    dnsd_outcome_t outcome;
    cr_assert (eq (
        int, dnsd_handler_process (s_stack.handler, wire, size, &context, s_answer, 1232, &outcome),
        DNSD_VERDICT_ANSWER));
    cr_assert (outcome.boot, "the boot still starts");
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->hold_refused, 1));
}

Test (dnsd_handler, a_sleeping_service_with_mask_none_is_answered_at_once_and_booted)
{
    uint8_t wire[512];
    size_t size = dt_query (wire, "lazy.example.net.", "A", false);
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_ANSWER));
    cr_assert (outcome.boot);
    ldns_pkt *packet = dt_parse (s_answer, outcome.size);
    s_expect_rdata (packet, LDNS_SECTION_ANSWER, 0, "10.0.0.12");
    ldns_pkt_free (packet);
}

//  The A answer to NAME over UDP, at MONO_MS: its TTL; OUTCOME filled.
static uint32_t
s_answer_ttl (const char *name, int64_t mono_ms, dnsd_outcome_t *outcome)
{
    uint8_t wire[512];
    size_t size = dt_query (wire, name, "A", false);
    dnsd_context_t context = {
        (const struct sockaddr *) &s_client, false, false, true, 1000, mono_ms};
    cr_assert (eq (
        int, dnsd_handler_process (s_stack.handler, wire, size, &context, s_answer, 1232, outcome),
        DNSD_VERDICT_ANSWER));
    ldns_pkt *packet = dt_parse (s_answer, outcome->size);
    uint32_t ttl = s_ttl (packet, LDNS_SECTION_ANSWER, 0);
    ldns_pkt_free (packet);
    return ttl;
}

static int s_reports;

static void
s_on_report (dnsd_service_t *service, void *arg)
{
    s_reports++;
}

Test (dnsd_handler, answers_carry_the_boot_ttl_until_ready_and_the_drain_ttl_while_draining)
{
    dnsd_service_t *lazy = dnsd_table_service (s_stack.table, "lazy");
    dnsd_outcome_t outcome;
    cr_assert (eq (u32, s_answer_ttl ("lazy.example.net.", 500, &outcome), 4),
               "mask none, answered before ready: the boot TTL");
    cr_assert (outcome.boot);
    cr_assert (outcome.report, "the first query is reported at once");
    cr_assert (eq (ptr, outcome.service, lazy));
    dnsd_table_report (s_stack.table, lazy, 500, s_on_report, NULL);
    cr_assert (eq (u32, s_answer_ttl ("lazy.example.net.", 600, &outcome), 4), "still booting");
    cr_assert (not(outcome.report), "coalesced: reported within the second");
    dnsd_summon_state (s_stack.summon, lazy, PROTO_STATE_READY, 10, 650);
    cr_assert (eq (u32, s_answer_ttl ("lazy.example.net.", 660, &outcome), 300), "ready");
    cr_assert (not(outcome.report));
    //  vmctl announces a drain: the drain TTL at once, no boot, and the query reported now.
    dnsd_summon_state (s_stack.summon, lazy, PROTO_STATE_DRAINING, 20, 700);
    cr_assert (eq (u32, s_answer_ttl ("lazy.example.net.", 800, &outcome), 6));
    cr_assert (not(outcome.boot));
    cr_assert (outcome.report, "a query during the drain is reported at once: it cancels it");
    dnsd_table_report (s_stack.table, lazy, 800, s_on_report, NULL);
    cr_assert (eq (u32, s_answer_ttl ("lazy.example.net.", 900, &outcome), 6));
    cr_assert (not(outcome.report), "once per drain; the rest coalesce");
    dnsd_summon_state (s_stack.summon, lazy, PROTO_STATE_READY, 30, 950);
    cr_assert (eq (u32, s_answer_ttl ("lazy.example.net.", 960, &outcome), 300), "back to full");
    cr_assert (eq (int, s_reports, 2));
}

Test (dnsd_handler, a_held_query_released_after_ready_gets_the_full_ttl_and_at_the_cap_the_boot_ttl)
{
    uint8_t wire[512];
    size_t size = dt_query (wire, "SLEEPY.Example.org.", "A", false);
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_WAIT));
    //  Released at the cap: not ready yet.
    dnsd_context_t context = {(const struct sockaddr *) &s_client, false, true, true, 2000, 1700};
    cr_assert (eq (
        int, dnsd_handler_process (s_stack.handler, wire, size, &context, s_answer, 1232, &outcome),
        DNSD_VERDICT_ANSWER));
    ldns_pkt *packet = dt_parse (s_answer, outcome.size);
    cr_assert (eq (u32, s_ttl (packet, LDNS_SECTION_ANSWER, 0), 5), "boot_ttl's default");
    char *owner = s_owner (packet, LDNS_SECTION_ANSWER, 0);
    cr_assert (eq (str, owner, "SLEEPY.Example.org."), "0x20: the case as asked");
    free (owner);
    ldns_pkt_free (packet);
    //  Released by vm.ready.
    dnsd_summon_state (s_stack.summon, dnsd_table_service (s_stack.table, "sleepy"),
                       PROTO_STATE_READY, 5, 1800);
    cr_assert (eq (
        int, dnsd_handler_process (s_stack.handler, wire, size, &context, s_answer, 1232, &outcome),
        DNSD_VERDICT_ANSWER));
    packet = dt_parse (s_answer, outcome.size);
    cr_assert (eq (u32, s_ttl (packet, LDNS_SECTION_ANSWER, 0), 60), "the service's ttl");
    ldns_pkt_free (packet);
}

//  QNAME minimisation: Unbound asks the names between the zone and the target with type A,
//  Knot Resolver with NS. A name that exists only because a service is below it stays NODATA
//  (RFC 8020: an NXDOMAIN would deny the whole subtree), and wakes nothing.
Test (dnsd_handler, an_empty_non_terminal_is_nodata_for_every_type_and_wakes_nothing)
{
    //  In a configured zone (a derived one has its apex at the service's parent).
    dt_define (s_stack.table, "nest",
               "{\"name\":\"nest\",\"dns\":[\"x.y.z.example.net\"],\"ip\":\"10.1.0.2\","
               "\"domain\":\"nest\"}");
    const char *types[] = {"A", "AAAA", "NS", "TXT", "ANY"};
    const char *names[] = {"z.example.net.", "Y.z.EXAMPLE.nEt."};
    for (size_t name = 0; name < 2; name++)
        for (size_t index = 0; index < sizeof types / sizeof types[0]; index++) {
            uint8_t wire[512];
            size_t size = dt_query (wire, names[name], types[index], false);
            dnsd_outcome_t outcome;
            cr_assert (eq (int, s_process (wire, size, false, &outcome), DNSD_VERDICT_ANSWER));
            cr_assert (not(outcome.boot));
            cr_assert (not(outcome.report));
            ldns_pkt *packet = dt_parse (s_answer, outcome.size);
            cr_assert (eq (int, ldns_pkt_get_rcode (packet), LDNS_RCODE_NOERROR), "%s %s",
                       names[name], types[index]);
            cr_assert (eq (u16, ldns_pkt_ancount (packet), 0));
            cr_assert (eq (u16, ldns_pkt_nscount (packet), 1), "the SOA");
            ldns_rr *question = ldns_rr_list_rr (ldns_pkt_question (packet), 0);
            char *asked = ldns_rdf2str (ldns_rr_owner (question));
            cr_assert (eq (str, asked, (char *) names[name]), "the question as asked");
            free (asked);
            ldns_pkt_free (packet);
        }
    cr_assert (eq (u64, dnsd_summon_stats (s_stack.summon)->boots, 0));
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->service_queries, 0),
               "no service's hit");
    cr_assert (eq (i64, dnsd_table_service (s_stack.table, "nest")->hits, 0));
    ldns_pkt *packet = s_ask ("w.y.z.example.net.", "A", false);
    cr_assert (eq (int, ldns_pkt_get_rcode (packet), LDNS_RCODE_NXDOMAIN), "beside it: none");
    ldns_pkt_free (packet);
}
