/*  dnsd_relay: the query dnsd sends upstream, and which replies it relays to the client and
    how: dnsd's own OPT on both hops, the client's id, RA, truncation that keeps the OPT.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_relay.h"
#include "dnsd_testing.h"

static uint8_t s_client[512];  // the client's query
static size_t s_client_size;
static dnsd_relay_t s_relay;
static uint8_t s_out[65535 + DNSD_RELAY_OPT_SIZE];
static size_t s_out_size;
static bool s_cut;

//  The client asks NAME TYPE with EDNS (and OPTIONS, OPTIONS_SIZE bytes, in its OPT; DO as
//  given) or without; the relay is started with LIMIT and the upstream id 0xbeef.
static void
s_start (const char *name, const char *type, bool edns, bool dnssec_ok, const uint8_t *options,
         size_t options_size, size_t limit)
{
    ldns_rdf *owner = ldns_dname_new_frm_str (name);
    ldns_pkt *packet =
        ldns_pkt_query_new (owner, ldns_get_rr_type_by_name (type), LDNS_RR_CLASS_IN, LDNS_RD);
    ldns_pkt_set_id (packet, 0x1234);
    ldns_pkt_set_cd (packet, true);
    if (edns) {
        ldns_pkt_set_edns_udp_size (packet, 4096);
        ldns_pkt_set_edns_do (packet, dnssec_ok);
        ldns_pkt_set_edns_data (
            packet, ldns_rdf_new_frm_data (LDNS_RDF_TYPE_UNKNOWN, options_size, options));
    }
    uint8_t *data = NULL;
    cr_assert (eq (int, ldns_pkt2wire (&data, packet, &s_client_size), LDNS_STATUS_OK));
    memcpy (s_client, data, s_client_size);
    free (data);
    ldns_pkt_free (packet);
    dnsd_query_t query;
    cr_assert (eq (int, dnsd_query_parse (&query, s_client, s_client_size), DNSD_QUERY_OK));
    dnsd_relay_init (&s_relay, &query, s_client, limit);
    dnsd_relay_set_id (&s_relay, 0xbeef);
}

//  The upstream's reply to the relay's query: the question as asked, RECORDS (text, NULL
//  ended) in the answer section, an OPT with payload 4096 and an NSID option; FLAGS added to
//  QR and RD. Its wire form goes into WIRE; returns its size.
static size_t
s_reply (uint8_t *wire, size_t max, const char **records, uint16_t flags)
{
    ldns_pkt *packet = dt_parse (s_relay.query, s_relay.size);
    ldns_pkt_set_qr (packet, true);
    ldns_pkt_set_aa (packet, flags & DNSD_FLAG_AA);
    ldns_pkt_set_tc (packet, flags & DNSD_FLAG_TC);
    for (size_t index = 0; records && records[index]; index++) {
        ldns_rr *rr = NULL;
        cr_assert (
            eq (int, ldns_rr_new_frm_str (&rr, records[index], 0, NULL, NULL), LDNS_STATUS_OK),
            "%s", records[index]);
        ldns_pkt_push_rr (packet, LDNS_SECTION_ANSWER, rr);
    }
    ldns_pkt_set_edns_udp_size (packet, 4096);
    static const uint8_t nsid[] = {0, 3, 0, 8, 'u', 'p', 's', 't', 'r', 'e', 'a', 'm'};
    ldns_pkt_set_edns_data (packet,
                            ldns_rdf_new_frm_data (LDNS_RDF_TYPE_UNKNOWN, sizeof nsid, nsid));
    uint8_t *data = NULL;
    size_t size = 0;
    cr_assert (eq (int, ldns_pkt2wire (&data, packet, &size), LDNS_STATUS_OK));
    cr_assert (le (sz, size, max));
    memcpy (wire, data, size);
    free (data);
    ldns_pkt_free (packet);
    return size;
}

static const char *s_www[] = {"www.example.com. 300 IN A 192.0.2.80", NULL};

static dnsd_relay_status_t
s_answer (const uint8_t *reply, size_t size)
{
    return dnsd_relay_answer (&s_relay, reply, size, s_out, &s_out_size, &s_cut);
}

Test (dnsd_relay, the_upstream_query_has_dnsd_own_opt_never_the_clients_options)
{
    //  A client cookie (RFC 7873) and an NSID request.
    static const uint8_t options[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 3, 0, 0};
    s_start ("WwW.Example.COM.", "A", true, true, options, sizeof options, 1232);
    ldns_pkt *query = dt_parse (s_relay.query, s_relay.size);
    cr_assert (eq (u16, ldns_pkt_id (query), 0xbeef));
    cr_assert (ldns_pkt_rd (query));
    cr_assert (ldns_pkt_cd (query), "CD goes on");
    cr_assert (not(ldns_pkt_qr (query)));
    cr_assert (ldns_pkt_edns (query));
    cr_assert (eq (u16, ldns_pkt_edns_udp_size (query), 1232), "dnsd's size, not the client's");
    cr_assert (ldns_pkt_edns_do (query), "DO copied");
    cr_assert (eq (ptr, ldns_pkt_edns_data (query), NULL), "no options");
    cr_assert (eq (int, s_relay.query[11], 1), "ARCOUNT: the OPT (ldns does not count it)");
    //  The question as the client wrote it, case and all.
    cr_assert (eq (int, memcmp (s_relay.query + 12, s_client + 12, s_relay.question_end - 12), 0));
    ldns_pkt_free (query);
    //  Without EDNS from the client, dnsd still uses it on its own hop, DO clear.
    s_start ("www.example.com.", "A", false, false, NULL, 0, 512);
    query = dt_parse (s_relay.query, s_relay.size);
    cr_assert (ldns_pkt_edns (query));
    cr_assert (not(ldns_pkt_edns_do (query)));
    cr_assert (ldns_pkt_cd (query));
    ldns_pkt_free (query);
}

Test (dnsd_relay, an_answer_gets_the_clients_id_ra_and_dnsd_opt)
{
    s_start ("www.example.com.", "A", true, true, NULL, 0, 1232);
    uint8_t reply[1024];
    size_t size = s_reply (reply, sizeof reply, s_www, DNSD_FLAG_AA);
    cr_assert (eq (int, s_answer (reply, size), DNSD_RELAY_ANSWER));
    cr_assert (not(s_cut));
    ldns_pkt *answer = dt_parse (s_out, s_out_size);
    cr_assert (eq (u16, ldns_pkt_id (answer), 0x1234));
    cr_assert (ldns_pkt_qr (answer));
    cr_assert (ldns_pkt_ra (answer));
    cr_assert (ldns_pkt_rd (answer));
    cr_assert (ldns_pkt_cd (answer));
    cr_assert (ldns_pkt_aa (answer), "the upstream's AA");
    cr_assert (eq (u16, ldns_pkt_ancount (answer), 1));
    char *text = dt_rdata (answer, LDNS_SECTION_ANSWER, 0);
    cr_assert (eq (str, text, "192.0.2.80"));
    free (text);
    cr_assert (ldns_pkt_edns (answer));
    cr_assert (eq (u16, ldns_pkt_edns_udp_size (answer), 1232), "dnsd's, not the upstream's 4096");
    cr_assert (eq (ptr, ldns_pkt_edns_data (answer), NULL), "the upstream's NSID stays there");
    cr_assert (ldns_pkt_edns_do (answer), "DO echoed");
    cr_assert (eq (int, (s_out[10] << 8) | s_out[11], 1), "ARCOUNT: dnsd's OPT");
    ldns_pkt_free (answer);
}

Test (dnsd_relay, a_client_without_edns_gets_no_opt)
{
    s_start ("www.example.com.", "A", false, false, NULL, 0, 512);
    uint8_t reply[1024];
    size_t size = s_reply (reply, sizeof reply, s_www, 0);
    cr_assert (eq (int, s_answer (reply, size), DNSD_RELAY_ANSWER));
    ldns_pkt *answer = dt_parse (s_out, s_out_size);
    cr_assert (not(ldns_pkt_edns (answer)));
    cr_assert (eq (u16, ldns_pkt_arcount (answer), 0));
    cr_assert (eq (u16, ldns_pkt_ancount (answer), 1));
    ldns_pkt_free (answer);
}

Test (dnsd_relay, replies_to_anything_else_are_mismatches)
{
    s_start ("www.example.com.", "A", true, false, NULL, 0, 1232);
    uint8_t reply[1024], copy[1024];
    size_t size = s_reply (reply, sizeof reply, s_www, 0);
    struct {
        size_t offset;
        uint8_t value;
        const char *why;
    } changes[] = {
        {1, 0xee, "another id"},
        {2, 0x01, "QR clear: a query"},
        {2, 0x80 | (4 << 3), "opcode NOTIFY"},
        {5, 2, "two questions"},
        {13, 'x', "another name"},
        {12 + 17 + 1, 28, "another type (AAAA)"},
        {12 + 17 + 3, 3, "another class (CH)"},
    };
    for (size_t index = 0; index < sizeof changes / sizeof changes[0]; index++) {
        memcpy (copy, reply, size);
        copy[changes[index].offset] = changes[index].value;
        cr_assert (eq (int, s_answer (copy, size), DNSD_RELAY_MISMATCH), "%s", changes[index].why);
    }
    //  The question's case may differ (0x20 at the upstream's end): still the question.
    memcpy (copy, reply, size);
    copy[13] = 'W';
    cr_assert (eq (int, s_answer (copy, size), DNSD_RELAY_ANSWER));
    cr_assert (eq (u8, s_out[13], 'w'), "the client gets its own case back");
    //  A NOERROR without its question cannot be matched; an error can.
    memcpy (copy, reply, size);
    copy[5] = 0;
    cr_assert (eq (int, s_answer (copy, DNSD_HEADER_SIZE), DNSD_RELAY_MISMATCH));
    copy[3] = DNSD_RCODE_REFUSED;
    cr_assert (eq (int, s_answer (copy, DNSD_HEADER_SIZE), DNSD_RELAY_ANSWER));
    ldns_pkt *answer = dt_parse (s_out, s_out_size);
    cr_assert (eq (int, ldns_pkt_get_rcode (answer), LDNS_RCODE_REFUSED));
    cr_assert (eq (u16, ldns_pkt_qdcount (answer), 1), "the client's question echoed");
    cr_assert (ldns_pkt_edns (answer));
    ldns_pkt_free (answer);
}

Test (dnsd_relay, broken_replies_are_malformed)
{
    s_start ("www.example.com.", "A", true, false, NULL, 0, 1232);
    uint8_t reply[1024], copy[1024];
    size_t size = s_reply (reply, sizeof reply, s_www, 0);
    cr_assert (eq (int, s_answer (reply, 11), DNSD_RELAY_MALFORMED), "shorter than a header");
    //  Cut inside the answer record, or the OPT.
    cr_assert (eq (int, s_answer (reply, s_relay.question_end + 8), DNSD_RELAY_MALFORMED));
    cr_assert (eq (int, s_answer (reply, size - 3), DNSD_RELAY_MALFORMED));
    //  An extended RCODE (BADCOOKIE, 23: upper bits 1) is about dnsd's hop.
    memcpy (copy, reply, size);
    size_t opt = size - 11 - 12;  // the OPT with its 12-byte NSID option is last
    cr_assert (eq (u8, copy[opt + 2], 41));
    copy[opt + 5] = 1;
    cr_assert (eq (int, s_answer (copy, size), DNSD_RELAY_MALFORMED));
    //  An OPT owned by another name than the root.
    memcpy (copy, reply, size);
    memmove (copy + opt + 2, copy + opt + 1, size - opt - 1);
    copy[opt] = 0xc0, copy[opt + 1] = 12;
    cr_assert (eq (int, s_answer (copy, size + 1), DNSD_RELAY_MALFORMED));
    //  A compression pointer past the end of the message (ldns checks the rewritten answer).
    memcpy (copy, reply, size);
    copy[s_relay.question_end + 1] = 0xff;
    cr_assert (eq (int, s_answer (copy, size), DNSD_RELAY_MALFORMED));
}

//  Found by fuzz_dnsd_forward_reply: ldns reads the 4 bytes of an address and carries on from
//  there, not from RDLENGTH, and took the rest of a 7-byte A record for the next record.
Test (dnsd_relay, a_record_longer_than_its_type_is_malformed)
{
    s_start ("www.example.com.", "A", true, false, NULL, 0, 1232);
    uint8_t reply[1024];
    size_t size = s_reply (reply, sizeof reply, s_www, 0);
    //  Grow the A record's RDATA from 4 to 7 bytes, in front of the OPT.
    size_t rdlength = s_relay.question_end + 10;
    cr_assert (eq (int, reply[rdlength + 1], 4));
    memmove (reply + rdlength + 2 + 7, reply + rdlength + 2 + 4, size - (rdlength + 2 + 4));
    memset (reply + rdlength + 2 + 4, 0, 3);
    reply[rdlength + 1] = 7;
    cr_assert (eq (int, s_answer (reply, size + 3), DNSD_RELAY_MALFORMED));
}

Test (dnsd_relay, what_follows_the_upstreams_opt_is_dropped_with_it)
{
    s_start ("www.example.com.", "A", true, false, NULL, 0, 1232);
    uint8_t reply[1024];
    size_t size = s_reply (reply, sizeof reply, s_www, 0);
    //  A record after the OPT (where a TSIG would be): "x. 0 IN A 192.0.2.1".
    static const uint8_t after[] = {1, 'x', 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1};
    memcpy (reply + size, after, sizeof after);
    size += sizeof after;
    reply[11] = 2;
    cr_assert (eq (int, s_answer (reply, size), DNSD_RELAY_ANSWER));
    ldns_pkt *answer = dt_parse (s_out, s_out_size);
    cr_assert (eq (int, (s_out[10] << 8) | s_out[11], 1), "ARCOUNT: dnsd's OPT only");
    cr_assert (eq (u16, ldns_pkt_edns_udp_size (answer), 1232));
    ldns_pkt_free (answer);
}

Test (dnsd_relay, a_truncated_relay_keeps_the_opt)
{
    //  The upstream's own TC answer.
    s_start ("www.example.com.", "A", true, true, NULL, 0, 1232);
    uint8_t reply[4096];
    size_t size = s_reply (reply, sizeof reply, NULL, DNSD_FLAG_TC);
    cr_assert (eq (int, s_answer (reply, size), DNSD_RELAY_TRUNCATED));
    ldns_pkt *answer = dt_parse (s_out, s_out_size);
    cr_assert (ldns_pkt_tc (answer));
    cr_assert (ldns_pkt_edns (answer));
    cr_assert (eq (u16, ldns_pkt_edns_udp_size (answer), 1232));
    cr_assert (ldns_pkt_edns_do (answer));
    ldns_pkt_free (answer);
    //  An answer larger than the client takes (512 bytes: 40 A records are 640 and more).
    s_start ("www.example.com.", "A", true, false, NULL, 0, 512);
    const char *records[41];
    char texts[40][64];
    for (int index = 0; index < 40; index++) {
        snprintf (texts[index], sizeof texts[index], "www.example.com. 60 IN A 192.0.2.%d",
                  index + 1);
        records[index] = texts[index];
    }
    records[40] = NULL;
    size = s_reply (reply, sizeof reply, records, 0);
    cr_assert (gt (sz, size, 512));
    cr_assert (eq (int, s_answer (reply, size), DNSD_RELAY_ANSWER));
    cr_assert (s_cut);
    cr_assert (le (sz, s_out_size, 512));
    answer = dt_parse (s_out, s_out_size);
    cr_assert (ldns_pkt_tc (answer));
    cr_assert (ldns_pkt_ra (answer));
    cr_assert (eq (u16, ldns_pkt_id (answer), 0x1234));
    cr_assert (eq (u16, ldns_pkt_ancount (answer), 0));
    cr_assert (eq (u16, ldns_pkt_qdcount (answer), 1));
    cr_assert (ldns_pkt_edns (answer), "the OPT survives the cut");
    cr_assert (eq (u16, ldns_pkt_edns_udp_size (answer), 1232));
    ldns_pkt_free (answer);
}

Test (dnsd_relay, servfail_carries_the_question_ra_and_the_opt)
{
    s_start ("www.example.com.", "A", true, true, NULL, 0, 1232);
    uint8_t out[512];
    size_t size = dnsd_relay_error (&s_relay, out, DNSD_RCODE_SERVFAIL);
    ldns_pkt *answer = dt_parse (out, size);
    cr_assert (eq (int, ldns_pkt_get_rcode (answer), LDNS_RCODE_SERVFAIL));
    cr_assert (eq (u16, ldns_pkt_id (answer), 0x1234));
    cr_assert (ldns_pkt_ra (answer));
    cr_assert (ldns_pkt_rd (answer));
    cr_assert (eq (u16, ldns_pkt_qdcount (answer), 1));
    cr_assert (ldns_pkt_edns (answer));
    cr_assert (ldns_pkt_edns_do (answer));
    ldns_pkt_free (answer);
}
