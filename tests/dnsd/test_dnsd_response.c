/*  dnsd_response: header bits, echoed question, compression pointers, OPT, truncation and
    NSD's header-only errors.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_response.h"
#include "dnsd_testing.h"

//  A query, parsed, and the response to it under way.
typedef struct {
    uint8_t query_wire[512];
    size_t size;  // of the query
    dnsd_query_t query;
    uint8_t answer[512];
    dnsd_response_t response;
} s_exchange_t;

//  Ask NAME TYPE (with an OPT record if EDNS, its DO bit set if DNSSEC_OK) and begin the response
//  in the answer's first ROOM bytes.
static void
s_begin (s_exchange_t *self, const char *name, const char *type, bool edns, bool dnssec_ok,
         size_t room)
{
    self->size = dt_query (self->query_wire, name, type, edns);
    if (dnssec_ok)
        self->query_wire[self->size - 4] = 0x80;
    cr_assert (eq (int, dnsd_query_parse (&self->query, self->query_wire, self->size),
                   DNSD_QUERY_OK));
    cr_assert (le (sz, room, sizeof self->answer));
    dnsd_response_begin (&self->response, self->answer, room, &self->query, self->query_wire, 0,
                         true);
}

Test (dnsd_response, an_answer_echoes_the_question_and_points_into_it)
{
    s_exchange_t exchange;
    s_begin (&exchange, "WwW.Example.org.", "A", false, false, 512);
    dnsd_response_add (&exchange.response, DNSD_SECTION_ANSWER, DNSD_HEADER_SIZE, DNSD_TYPE_A, 30,
                       (const uint8_t *) "\12\0\0\12", 4);
    size_t length = dnsd_response_finish (&exchange.response, &exchange.query, 0);
    cr_assert (eq (sz, length, exchange.size + 16));
    uint8_t *answer = exchange.answer;
    ldns_pkt *packet = dt_parse (answer, length);
    cr_assert (eq (u16, ldns_pkt_id (packet), 0x1234));
    cr_assert (ldns_pkt_qr (packet));
    cr_assert (ldns_pkt_aa (packet));
    cr_assert (ldns_pkt_rd (packet), "RD echoed");
    cr_assert (not(ldns_pkt_ra (packet)));
    cr_assert (eq (u16, ldns_pkt_ancount (packet), 1));
    cr_assert (eq (int, memcmp (answer + 12, "\3WwW\7Example", 12), 0), "case echoed");
    char *rdata = dt_rdata (packet, LDNS_SECTION_ANSWER, 0);
    cr_assert (eq (str, rdata, "10.0.0.10"));
    free (rdata);
    cr_assert (eq (sz, ldns_pkt_edns_udp_size (packet), 0), "no OPT without EDNS");
    ldns_pkt_free (packet);
}

Test (dnsd_response, edns_queries_get_an_opt_record_with_do_echoed)
{
    s_exchange_t exchange;
    s_begin (&exchange, "www.example.org.", "A", true, true, 512);
    size_t length = dnsd_response_finish (&exchange.response, &exchange.query, DNSD_RCODE_BADVERS);
    ldns_pkt *packet = dt_parse (exchange.answer, length);
    cr_assert (ldns_pkt_edns (packet));
    cr_assert (eq (u16, ldns_pkt_edns_udp_size (packet), DNSD_EDNS_PAYLOAD));
    cr_assert (ldns_pkt_edns_do (packet));
    cr_assert (eq (u8, ldns_pkt_edns_extended_rcode (packet), 1), "BADVERS = 16 = 1 << 4");
    cr_assert (eq (int, ldns_pkt_get_rcode (packet), 0));
    ldns_pkt_free (packet);
}

Test (dnsd_response, what_does_not_fit_is_cut_to_the_question_with_tc)
{
    s_exchange_t exchange;
    s_begin (&exchange, "example.org.", "NS", true, false, 512);
    uint8_t rdata[100];
    memset (rdata, 0, sizeof rdata);
    for (int index = 0; index < 10; index++)
        dnsd_response_add (&exchange.response, DNSD_SECTION_ANSWER, DNSD_HEADER_SIZE,
                           DNSD_TYPE_NS, 60, rdata, sizeof rdata);
    cr_assert (exchange.response.overflow);
    size_t length = dnsd_response_finish (&exchange.response, &exchange.query, 0);
    ldns_pkt *packet = dt_parse (exchange.answer, length);
    cr_assert (ldns_pkt_tc (packet));
    cr_assert (eq (u16, ldns_pkt_ancount (packet), 0));
    cr_assert (eq (u16, ldns_pkt_qdcount (packet), 1));
    cr_assert (ldns_pkt_edns (packet), "the OPT record stays");
    ldns_pkt_free (packet);
}

Test (dnsd_response, errors_are_a_header_like_nsd_sends)
{
    uint8_t query_wire[512], answer[12];
    dt_query (query_wire, "www.example.org.", "A", false);
    query_wire[2] |= 0x04 | 0x02;  // AA and TC set in the query: FORMERR keeps only RD
    query_wire[3] |= 0x20;         // AD
    cr_assert (eq (sz, dnsd_response_error (answer, query_wire, DNSD_RCODE_FORMERR), 12));
    cr_assert (eq (u8, answer[0], 0x12));
    cr_assert (eq (u8, answer[1], 0x34));
    cr_assert (eq (u8, answer[2], 0x81), "QR and RD only");
    cr_assert (eq (u8, answer[3], 0x01));
    for (int index = 4; index < 12; index++)
        cr_assert (eq (u8, answer[index], 0), "every count zero");
    query_wire[2] = (uint8_t) (0x05 << 3) | 0x01;  // opcode UPDATE, RD
    dnsd_response_error (answer, query_wire, DNSD_RCODE_NOTIMP);
    cr_assert (eq (u8, answer[2], 0x80 | (0x05 << 3) | 0x01), "opcode kept");
    cr_assert (eq (u8, answer[3], 0x04));
}
