/*  dnsd_rrl: the per-network limit, the slip ratio, exemptions, cookies, and the TC rewrite;
    the clock is the caller's, so every case is exact.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_response.h"
#include "dnsd_rrl.h"
#include "dnsd_testing.h"

static dnsd_rrl_verdict_t
s_check (dnsd_rrl_t *rrl, const char *client, bool cookie, int64_t now)
{
    struct sockaddr_storage storage;
    return dnsd_rrl_check (rrl, dt_client (&storage, client), cookie, now);
}

static dnsd_rrl_t *
s_rrl (int rate, int slip, const char *exempt)
{
    proto_cidr_t cidr = {0};
    if (exempt)
        cr_assert (eq (int, proto_cidr_parse (&cidr, exempt), 0));
    return dnsd_rrl_new (rate, slip, 24, 56, &cidr, exempt ? 1 : 0);
}

Test (dnsd_rrl, a_burst_over_the_rate_alternates_slip_and_drop)
{
    dnsd_rrl_t *rrl = s_rrl (5, 2, NULL);
    int verdicts[3] = {0};
    for (int index = 0; index < 25; index++)
        verdicts[s_check (rrl, "192.0.2.1", false, 1000)]++;
    cr_assert (eq (int, verdicts[DNSD_RRL_SEND], 5));
    cr_assert (eq (int, verdicts[DNSD_RRL_SLIP], 10));
    cr_assert (eq (int, verdicts[DNSD_RRL_DROP], 10));
    cr_assert (eq (u64, dnsd_rrl_stats (rrl)->slipped, 10));
    cr_assert (eq (u64, dnsd_rrl_stats (rrl)->dropped, 10));
    //  The first over the limit slips: a real client learns of TCP at once.
    dnsd_rrl_destroy (&rrl);
    rrl = s_rrl (1, 2, NULL);
    cr_assert (eq (int, s_check (rrl, "192.0.2.1", false, 1000), DNSD_RRL_SEND));
    cr_assert (eq (int, s_check (rrl, "192.0.2.1", false, 1000), DNSD_RRL_SLIP));
    cr_assert (eq (int, s_check (rrl, "192.0.2.1", false, 1000), DNSD_RRL_DROP));
    dnsd_rrl_destroy (&rrl);
    cr_assert (eq (ptr, rrl, NULL));
}

Test (dnsd_rrl, the_rate_refills_with_time)
{
    dnsd_rrl_t *rrl = s_rrl (10, 2, NULL);
    for (int index = 0; index < 10; index++)
        cr_assert (eq (int, s_check (rrl, "192.0.2.1", false, 1000), DNSD_RRL_SEND));
    cr_assert (not(eq (int, s_check (rrl, "192.0.2.1", false, 1000), DNSD_RRL_SEND)));
    cr_assert (not(eq (int, s_check (rrl, "192.0.2.1", false, 1099), DNSD_RRL_SEND)));
    cr_assert (eq (int, s_check (rrl, "192.0.2.1", false, 1200), DNSD_RRL_SEND),
               "one answer per 100 ms comes back");
    //  A second of silence gives the whole second's budget back, not more.
    int sent = 0;
    for (int index = 0; index < 30; index++)
        sent += s_check (rrl, "192.0.2.1", false, 5000) == DNSD_RRL_SEND;
    cr_assert (eq (int, sent, 10));
    dnsd_rrl_destroy (&rrl);
}

Test (dnsd_rrl, networks_are_the_configured_prefixes)
{
    dnsd_rrl_t *rrl = s_rrl (1, 0, NULL);
    cr_assert (eq (int, s_check (rrl, "192.0.2.1", false, 1000), DNSD_RRL_SEND));
    cr_assert (eq (int, s_check (rrl, "192.0.2.200", false, 1000), DNSD_RRL_DROP), "same /24");
    cr_assert (eq (int, s_check (rrl, "::ffff:192.0.2.7", false, 1000), DNSD_RRL_DROP),
               "IPv4-mapped counts as IPv4");
    cr_assert (eq (int, s_check (rrl, "192.0.3.1", false, 1000), DNSD_RRL_SEND), "another /24");
    cr_assert (eq (int, s_check (rrl, "2001:db8:0:100::1", false, 1000), DNSD_RRL_SEND));
    cr_assert (eq (int, s_check (rrl, "2001:db8:0:1ff:ffff::1", false, 1000), DNSD_RRL_DROP),
               "same /56");
    cr_assert (eq (int, s_check (rrl, "2001:db8:0:200::1", false, 1000), DNSD_RRL_SEND),
               "another /56");
    cr_assert (eq (u64, dnsd_rrl_stats (rrl)->slipped, 0), "slip 0: drop them all");
    dnsd_rrl_destroy (&rrl);

    //  /32 and /128: every address on its own.
    proto_cidr_t none = {0};
    rrl = dnsd_rrl_new (1, 1, 32, 128, &none, 0);
    cr_assert (eq (int, s_check (rrl, "192.0.2.1", false, 1000), DNSD_RRL_SEND));
    cr_assert (eq (int, s_check (rrl, "192.0.2.1", false, 1000), DNSD_RRL_SLIP), "slip 1: all");
    cr_assert (eq (int, s_check (rrl, "192.0.2.2", false, 1000), DNSD_RRL_SEND));
    cr_assert (eq (int, s_check (rrl, "2001:db8::1", false, 1000), DNSD_RRL_SEND));
    cr_assert (eq (int, s_check (rrl, "2001:db8::2", false, 1000), DNSD_RRL_SEND));
    dnsd_rrl_destroy (&rrl);
}

Test (dnsd_rrl, exempt_networks_and_valid_cookies_are_never_limited)
{
    dnsd_rrl_t *rrl = s_rrl (1, 2, "127.0.0.0/8");
    for (int index = 0; index < 100; index++) {
        cr_assert (eq (int, s_check (rrl, "127.0.0.2", false, 1000), DNSD_RRL_SEND));
        cr_assert (eq (int, s_check (rrl, "192.0.2.1", true, 1000), DNSD_RRL_SEND));
    }
    cr_assert (eq (int, s_check (rrl, "192.0.2.1", false, 1000), DNSD_RRL_SEND),
               "cookie answers took nothing from the bucket");
    cr_assert (not(eq (int, s_check (rrl, "192.0.2.1", false, 1000), DNSD_RRL_SEND)));
    dnsd_rrl_destroy (&rrl);
}

Test (dnsd_rrl, rate_zero_is_off)
{
    dnsd_rrl_t *rrl = s_rrl (0, 2, NULL);
    for (int index = 0; index < 1000; index++)
        cr_assert (eq (int, s_check (rrl, "192.0.2.1", false, 1000), DNSD_RRL_SEND));
    dnsd_rrl_destroy (&rrl);
}

//  A real answer, NOERROR with A records and an OPT carrying a COOKIE, cut to a slip.
Test (dnsd_rrl, a_slip_keeps_the_question_and_the_opt)
{
    uint8_t wire[512];
    size_t query_size = dt_query (wire, "www.example.org", "A", true);
    dnsd_query_t query;
    cr_assert (eq (int, dnsd_query_parse (&query, wire, query_size), DNSD_QUERY_OK));
    memset (query.cookie_reply, 0xab, DNSD_COOKIE_REPLY_SIZE);
    query.cookie_reply_length = DNSD_COOKIE_REPLY_SIZE;
    uint8_t answer[1232];
    dnsd_response_t response;
    dnsd_response_begin (&response, answer, sizeof answer, &query, wire, 0, true);
    uint8_t address[4] = {10, 0, 0, 10};
    for (int index = 0; index < 3; index++)
        dnsd_response_add (&response, DNSD_SECTION_ANSWER, 12, 1, 30, address, 4);
    size_t size = dnsd_response_finish (&response, &query, 0);
    size_t slipped = dnsd_rrl_slip (answer, size);
    cr_assert (lt (sz, slipped, size));
    ldns_pkt *packet = dt_parse (answer, slipped);
    cr_assert (ldns_pkt_tc (packet));
    cr_assert (ldns_pkt_qr (packet));
    cr_assert (eq (int, ldns_pkt_id (packet), 0x1234));
    cr_assert (eq (sz, ldns_pkt_qdcount (packet), 1));
    cr_assert (eq (sz, ldns_pkt_ancount (packet), 0));
    cr_assert (ldns_pkt_edns (packet), "the OPT stays");
    cr_assert (eq (sz, ldns_rdf_size (ldns_pkt_edns_data (packet)), 4 + DNSD_COOKIE_REPLY_SIZE),
               "and its COOKIE");
    ldns_pkt_free (packet);
}

Test (dnsd_rrl, a_slip_without_edns_is_the_question_alone)
{
    uint8_t wire[512];
    size_t query_size = dt_query (wire, "www.example.org", "A", false);
    dnsd_query_t query;
    cr_assert (eq (int, dnsd_query_parse (&query, wire, query_size), DNSD_QUERY_OK));
    uint8_t answer[512];
    dnsd_response_t response;
    dnsd_response_begin (&response, answer, sizeof answer, &query, wire, 3, true);
    uint8_t soa[22] = {0};
    dnsd_response_add (&response, DNSD_SECTION_AUTHORITY, 12, 6, 60, soa, sizeof soa);
    size_t size = dnsd_response_finish (&response, &query, 3);
    cr_assert (eq (sz, dnsd_rrl_slip (answer, size), query.question_end));
    cr_assert (eq (int, answer[3] & 0x0f, 3), "the RCODE stays");
    cr_assert (eq (int, answer[2] & 0x02, 0x02), "TC");
}

Test (dnsd_rrl, an_unreadable_answer_is_not_slipped)
{
    uint8_t answer[64] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0,    0,    0, 0, 3,
                          'w',  'w',  'w',  0,    0, 1, 0, 1, 0xc0, 0x0c, 0, 1};
    cr_assert (eq (sz, dnsd_rrl_slip (answer, 25), 0), "a record cut short");
    cr_assert (eq (sz, dnsd_rrl_slip (answer, 10), 0), "shorter than a header");
    cr_assert (eq (sz, dnsd_rrl_slip (answer, 19), 0), "a question cut short");
    answer[13] = 0x50;  // a label type that does not exist
    cr_assert (eq (sz, dnsd_rrl_slip (answer, 25), 0));
}
