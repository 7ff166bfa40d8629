/*  dnsd_query: what is read from a query, and what NSD's order of checks makes of bad ones.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_query.h"
#include "dnsd_testing.h"

//  A header: id 0xabcd, FLAGS, then the four counts.
static size_t
s_header (uint8_t *wire, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
    uint16_t words[6] = {0xabcd, flags, qd, an, ns, ar};
    for (int index = 0; index < 6; index++) {
        wire[2 * index] = (uint8_t) (words[index] >> 8);
        wire[2 * index + 1] = (uint8_t) words[index];
    }
    return 12;
}

//  Append "www.Example.org" A IN.
static size_t
s_question (uint8_t *wire, size_t offset)
{
    static const uint8_t question[] = {3,   'w', 'w', 'w', 7,   'E', 'x', 'a', 'm', 'p', 'l',
                                       'e', 3,   'o', 'r', 'g', 0,   0,   1,   0,   1};
    memcpy (wire + offset, question, sizeof question);
    return offset + sizeof question;
}

//  Append an OPT record with PAYLOAD, VERSION and the DO bit.
static size_t
s_opt (uint8_t *wire, size_t offset, uint16_t payload, uint8_t version, bool dnssec_ok)
{
    uint8_t opt[11] = {
        0, 0, 41, (uint8_t) (payload >> 8), (uint8_t) payload, 0, version, dnssec_ok ? 0x80 : 0,
        0, 0, 0};
    memcpy (wire + offset, opt, sizeof opt);
    return offset + sizeof opt;
}

Test (dnsd_query, a_plain_query_is_read_and_its_name_lowercased)
{
    uint8_t wire[512];
    size_t size = s_question (wire, s_header (wire, 0x0100, 1, 0, 0, 0));
    dnsd_query_t query;
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_OK));
    cr_assert (eq (u16, query.id, 0xabcd));
    cr_assert (eq (u16, query.qtype, 1));
    cr_assert (eq (u16, query.qclass, 1));
    cr_assert (eq (sz, query.qname_length, 17));
    cr_assert (eq (int, memcmp (query.lower, "\3www\7example\3org", 17), 0));
    cr_assert (eq (int, memcmp (query.qname, "\3www\7Example\3org", 17), 0), "case kept");
    cr_assert (eq (u32, query.hash, dnsd_name_hash (query.lower, 17)));
    cr_assert (eq (sz, query.question_end, size));
    cr_assert (not(query.edns));
    cr_assert (eq (sz, dnsd_query_udp_limit (&query), 512));
}

Test (dnsd_query, edns_payload_version_and_do_bit_are_read)
{
    uint8_t wire[512];
    size_t size = s_opt (wire, s_question (wire, s_header (wire, 0, 1, 0, 0, 1)), 4096, 0, true);
    dnsd_query_t query;
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_OK));
    cr_assert (query.edns);
    cr_assert (query.edns_do);
    cr_assert (eq (u16, query.edns_payload, 4096));
    cr_assert (eq (sz, dnsd_query_udp_limit (&query), DNSD_EDNS_PAYLOAD), "capped at 1232");
    size = s_opt (wire, s_question (wire, s_header (wire, 0, 1, 0, 0, 1)), 100, 0, false);
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_OK));
    cr_assert (eq (sz, dnsd_query_udp_limit (&query), 512), "below 512 counts as 512");
}

Test (dnsd_query, an_ldns_query_parses)
{
    uint8_t wire[512];
    size_t size = dt_query (wire, "Some.Host.example.", "AAAA", true);
    dnsd_query_t query;
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_OK));
    cr_assert (eq (u16, query.qtype, 28));
    cr_assert (query.edns);
}

Test (dnsd_query, short_packets_and_responses_are_dropped)
{
    uint8_t wire[512];
    size_t size = s_question (wire, s_header (wire, 0x8000, 1, 0, 0, 0));
    dnsd_query_t query;
    cr_assert (eq (int, dnsd_query_parse (&query, wire, 11), DNSD_QUERY_DROP));
    cr_assert (eq (int, dnsd_query_parse (&query, wire, 0), DNSD_QUERY_DROP));
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_DROP), "QR set");
}

Test (dnsd_query, other_opcodes_are_not_implemented)
{
    uint8_t wire[512];
    for (int opcode = 1; opcode < 16; opcode++) {
        size_t size = s_question (wire, s_header (wire, (uint16_t) (opcode << 11), 1, 0, 0, 0));
        dnsd_query_t query;
        cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_NOTIMP));
    }
    //  Even with nothing but a header: the opcode decides first.
    uint8_t header[12];
    s_header (header, 5 << 11, 0, 0, 0, 0);
    dnsd_query_t query;
    cr_assert (eq (int, dnsd_query_parse (&query, header, 12), DNSD_QUERY_NOTIMP));
}

Test (dnsd_query, unreadable_questions_are_format_errors)
{
    uint8_t wire[600];
    dnsd_query_t query;
    //  No question at all.
    size_t size = s_header (wire, 0, 1, 0, 0, 0);
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_FORMERR));
    //  Type and class cut off.
    size = s_question (wire, s_header (wire, 0, 1, 0, 0, 0));
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size - 1), DNSD_QUERY_FORMERR));
    //  A label running past the end.
    cr_assert (eq (int, dnsd_query_parse (&query, wire, 15), DNSD_QUERY_FORMERR));
    //  A compression pointer in the question, even a valid-looking one.
    size = s_header (wire, 0, 1, 0, 0, 0);
    uint8_t pointer[] = {0xc0, 0x0c, 0, 1, 0, 1};
    memcpy (wire + size, pointer, sizeof pointer);
    cr_assert (
        eq (int, dnsd_query_parse (&query, wire, size + sizeof pointer), DNSD_QUERY_FORMERR));
    //  Reserved label types 0x40 and 0x80.
    wire[size] = 0x41;
    cr_assert (
        eq (int, dnsd_query_parse (&query, wire, size + sizeof pointer), DNSD_QUERY_FORMERR));
    //  A name longer than 255 bytes: five labels of 63.
    size = s_header (wire, 0, 1, 0, 0, 0);
    for (int label = 0; label < 5; label++) {
        wire[size++] = 63;
        memset (wire + size, 'a', 63);
        size += 63;
    }
    memcpy (wire + size, "\0\0\1\0\1", 5);
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size + 5), DNSD_QUERY_FORMERR));
}

Test (dnsd_query, counts_other_than_one_question_are_format_errors)
{
    uint8_t wire[512];
    dnsd_query_t query;
    uint16_t counts[][4] = {{0, 0, 0, 0}, {2, 0, 0, 0}, {1, 1, 0, 0}, {1, 0, 1, 0}};
    for (size_t index = 0; index < 4; index++) {
        size_t size = s_question (wire, s_header (wire, 0, counts[index][0], counts[index][1],
                                                  counts[index][2], counts[index][3]));
        cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_FORMERR),
                   "counts %zu", index);
    }
    //  A query carrying an RCODE.
    size_t size = s_question (wire, s_header (wire, 0x0003, 1, 0, 0, 0));
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_FORMERR));
}

Test (dnsd_query, the_additional_section_holds_one_opt_and_nothing_else)
{
    uint8_t wire[512];
    dnsd_query_t query;
    //  Two OPT records (RFC 6891 section 6.1.1).
    size_t size = s_opt (wire, s_question (wire, s_header (wire, 0, 1, 0, 0, 2)), 1232, 0, 0);
    size = s_opt (wire, size, 1232, 0, 0);
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_FORMERR));
    //  ARCOUNT announces a record that is not there.
    size = s_question (wire, s_header (wire, 0, 1, 0, 0, 1));
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_FORMERR));
    //  An OPT whose owner is not the root (here a compression pointer).
    size = s_question (wire, s_header (wire, 0, 1, 0, 0, 1));
    uint8_t bad[] = {0xc0, 0x0c, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0};
    memcpy (wire + size, bad, sizeof bad);
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size + sizeof bad), DNSD_QUERY_FORMERR));
    //  A record of another type (a TSIG-like one).
    size = s_opt (wire, s_question (wire, s_header (wire, 0, 1, 0, 0, 1)), 1232, 0, 0);
    wire[size - 9] = 250;
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_FORMERR));
    //  OPT RDATA longer than the packet.
    size = s_opt (wire, s_question (wire, s_header (wire, 0, 1, 0, 0, 1)), 1232, 0, 0);
    wire[size - 1] = 8;
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_FORMERR));
    //  Options that fit are skipped (an NSID request); trailing garbage after the records is
    //  ignored.
    wire[size - 1] = 4;
    memcpy (wire + size, "\0\3\0\0junk", 8);
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size + 8), DNSD_QUERY_OK));
}

//  A query with an OPT whose RDATA is OPTIONS (LENGTH bytes) into WIRE; returns its size.
static size_t
s_with_options (uint8_t *wire, const uint8_t *options, size_t length)
{
    size_t size = s_opt (wire, s_question (wire, s_header (wire, 0, 1, 0, 0, 1)), 1232, 0, 0);
    wire[size - 2] = (uint8_t) (length >> 8);
    wire[size - 1] = (uint8_t) length;
    memcpy (wire + size, options, length);
    return size + length;
}

Test (dnsd_query, the_first_cookie_option_is_kept)
{
    uint8_t wire[512], options[64] = {0, 3, 0, 0,  0, 10, 0, 8, 1, 2, 3, 4, 5, 6,
                                      7, 8, 0, 10, 0, 8,  9, 9, 9, 9, 9, 9, 9, 9};
    dnsd_query_t query;
    size_t size = s_with_options (wire, options, 28);
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_OK));
    cr_assert (eq (sz, query.cookie_length, 8));
    cr_assert (eq (ptr, (void *) query.cookie, wire + size - 28 + 8), "after the NSID");
    cr_assert (eq (u8, query.cookie[0], 1), "the first of two");
    cr_assert (eq (sz, query.cookie_reply_length, 0));
    //  No cookie: none.
    size = s_with_options (wire, options, 4);
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_OK));
    cr_assert (eq (ptr, (void *) query.cookie, NULL));
}

Test (dnsd_query, a_cookie_of_a_length_rfc_7873_refuses_is_formerr)
{
    uint8_t wire[512], options[64] = {0, 10, 0, 0};
    dnsd_query_t query;
    for (uint8_t length = 0; length <= 41; length++) {
        options[3] = length;
        size_t size = s_with_options (wire, options, 4 + (size_t) length);
        bool ok = length == 8 || (length >= 16 && length <= 40);
        cr_assert (eq (int, dnsd_query_parse (&query, wire, size),
                       ok ? DNSD_QUERY_OK : DNSD_QUERY_FORMERR),
                   "length %d", length);
    }
}

Test (dnsd_query, an_option_past_the_opt_rdata_is_formerr)
{
    uint8_t wire[512], options[16] = {0, 3, 0, 5, 1, 2, 3, 4};
    dnsd_query_t query;
    cr_assert (eq (int, dnsd_query_parse (&query, wire, s_with_options (wire, options, 8)),
                   DNSD_QUERY_FORMERR),
               "5 bytes announced, 4 there");
    cr_assert (eq (int, dnsd_query_parse (&query, wire, s_with_options (wire, options, 3)),
                   DNSD_QUERY_FORMERR),
               "a cut option header");
}

Test (dnsd_query, an_unknown_edns_version_is_badvers)
{
    uint8_t wire[512];
    dnsd_query_t query;
    size_t size = s_opt (wire, s_question (wire, s_header (wire, 0, 1, 0, 0, 1)), 1232, 1, 0);
    cr_assert (eq (int, dnsd_query_parse (&query, wire, size), DNSD_QUERY_BADVERS));
    cr_assert (eq (sz, query.question_end, 33), "the question is there to echo");
}
