/*  libFuzzer target: dnsd's packet handler must survive any message, over UDP and TCP, fresh
    or released from the waitlist, COOKIE options answered; every answer it writes must fit the
    transport, carry the query's id with QR set, and parse with ldns, and so must the RRL slip
    cut from it; a query dnsd's own parser accepts must read the same to ldns (same name, type,
    class and EDNS payload); and the slip rewrite must survive any bytes as an "answer".

    The table holds running, sleeping and wake-listed services, a configured zone with long NS
    names (answers that need TC), a reverse zone and a derived one. It is rebuilt for every
    input so each run is reproducible from its input alone.  */

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dnsd_handler.h"
#include "dnsd_rrl.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static dnsd_config_t s_config;      // forwarding on, loopback offered recursion
static dnsd_config_t s_config_off;  // the same without upstreams
static bool s_loaded;
static uint8_t s_answer[65535];
static uint8_t s_slip[65535];
static dnsd_cookie_t *s_cookie;

static void
s_load (void)
{
    char path[] = "/tmp/fuzz-dnsd-XXXXXX";
    int fd = mkstemp (path);
    FILE *file = fdopen (fd, "w");
    fprintf (file, "{\"zones\": [{\"name\": \"example.net\"}, {\"name\": \"0.0.10.in-addr.arpa\"},"
                   " {\"name\": \"big.example\", \"ns\": [");
    for (int index = 0; index < 16; index++)
        fprintf (file, "%s\"ns%02d.%063d.%040d.big.example\"", index ? ", " : "", index, 0, 0);
    fprintf (file, "]}], \"upstreams\": [\"127.0.0.1@5300\"]}");
    fclose (file);
    proto_error_t error;
    if (dnsd_config_load (&s_config, path, &error))
        __builtin_trap ();
    unlink (path);
    uint8_t secret[DNSD_COOKIE_SECRET_SIZE] = {0x5e, 0xc7, 0xe7};
    s_cookie = dnsd_cookie_new (secret);
    if (!s_cookie)
        __builtin_trap ();
    s_config_off = s_config;  // shares the zones: both live as long as the process
    s_config_off.upstream_count = 0;
    s_loaded = true;
}

static void
s_define (dnsd_table_t *table, const char *name, const char *text)
{
    json_t *value = json_loads (text, 0, NULL);
    proto_error_t error;
    if (!value || dnsd_table_define (table, name, value, &error))
        __builtin_trap ();
    json_decref (value);
}

//  Check one answer of SIZE bytes to the query in DATA, sent within LIMIT bytes; RA set
//  exactly when RECURSION is offered.
static void
s_check_answer (const uint8_t *data, size_t size, const dnsd_outcome_t *outcome, size_t limit,
                bool recursion)
{
    if (outcome->size < 12 || outcome->size > limit)
        __builtin_trap ();
    if (s_answer[0] != data[0] || s_answer[1] != data[1] || !(s_answer[2] & 0x80))
        __builtin_trap ();
    if (!!(s_answer[3] & DNSD_FLAG_RA) != recursion)
        __builtin_trap ();
    ldns_pkt *packet = NULL;
    if (ldns_wire2pkt (&packet, s_answer, outcome->size) != LDNS_STATUS_OK)
        __builtin_trap ();
    if ((int) ldns_pkt_get_rcode (packet) != (outcome->rcode & 0x0f))
        __builtin_trap ();
    ldns_pkt_free (packet);
    //  The slip RRL would send instead: TC, no larger, and still a DNS message.
    memcpy (s_slip, s_answer, outcome->size);
    size_t slipped = dnsd_rrl_slip (s_slip, outcome->size);
    if (slipped < 12 || slipped > outcome->size || !(s_slip[2] & 0x02))
        __builtin_trap ();
    if (ldns_wire2pkt (&packet, s_slip, slipped) != LDNS_STATUS_OK)
        __builtin_trap ();
    ldns_pkt_free (packet);
}

//  What dnsd's parser accepts, ldns reads the same way.
static void
s_compare_with_ldns (const uint8_t *data, size_t size)
{
    dnsd_query_t query;
    if (dnsd_query_parse (&query, data, size) != DNSD_QUERY_OK)
        return;
    ldns_pkt *packet = NULL;
    //  ldns reads every record to the end: compare only what has no trailing bytes.
    if (query.records_end != size)
        return;
    if (ldns_wire2pkt (&packet, data, size) != LDNS_STATUS_OK)
        __builtin_trap ();
    ldns_rr *question = ldns_rr_list_rr (ldns_pkt_question (packet), 0);
    ldns_rdf *name = ldns_rdf_new_frm_data (LDNS_RDF_TYPE_DNAME, query.qname_length, query.lower);
    if (!question || !name || ldns_dname_compare (ldns_rr_owner (question), name) != 0
        || ldns_rr_get_type (question) != query.qtype
        || ldns_rr_get_class (question) != query.qclass || ldns_pkt_edns (packet) != query.edns
        || (query.edns && ldns_pkt_edns_udp_size (packet) != query.edns_payload
            && ldns_pkt_edns_udp_size (packet) >= 512))
        __builtin_trap ();
    ldns_rdf_deep_free (name);
    ldns_pkt_free (packet);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_loaded)
        s_load ();
    //  An exact-size heap copy, so ASan sees any read past the end of the message.
    uint8_t *message = (uint8_t *) malloc (size ? size : 1);
    memcpy (message, data, size);

    dnsd_table_t *table = dnsd_table_new (&s_config);
    dnsd_summon_t *summon = dnsd_summon_new (table, &s_config);
    //  Forwarding on for even sizes; recursion offered to the client (loopback) unless the
    //  size's second bit says it comes from outside recursion_from.
    bool forwarding = size % 2 == 0, outside = size & 2;
    dnsd_handler_t *handler =
        dnsd_handler_new (table, summon, forwarding ? &s_config : &s_config_off);
    dnsd_handler_set_cookie (handler, s_cookie);
    s_define (table, "www",
              "{\"name\":\"www\",\"dns\":[\"www.example.org\",\"a.b.example.net\"],"
              "\"ip\":\"10.0.0.10\",\"ip6\":\"2001:db8::10\",\"domain\":\"www\"}");
    dnsd_summon_state (summon, dnsd_table_service (table, "www"), PROTO_STATE_READY, 1, 0);
    s_define (table, "sleepy",
              "{\"name\":\"sleepy\",\"dns\":[\"sleepy.example.org\"],"
              "\"ip\":\"10.0.0.11\",\"domain\":\"s\",\"mask\":\"ready\"}");
    s_define (table, "guarded",
              "{\"name\":\"guarded\",\"dns\":[\"g.example.net\"],"
              "\"ip\":\"10.0.0.12\",\"domain\":\"g\",\"mask\":\"delay\","
              "\"response_delay_ms\":5,\"wake\":[\"10.0.0.0/8\"]}");

    struct sockaddr_in client = {.sin_family = AF_INET};
    client.sin_addr.s_addr = htonl (outside ? 0xc0000201 : 0x7f000001);
    bool recursion = forwarding && !outside;
    for (int round = 0; round < 3; round++) {
        //  UDP, TCP, then UDP again as a held query being released.
        bool tcp = round == 1, release = round == 2;
        size_t limit = tcp ? sizeof s_answer : DNSD_EDNS_PAYLOAD;
        dnsd_context_t context = {
            (const struct sockaddr *) &client, tcp, release, true, 1000, 100 + round};
        dnsd_outcome_t outcome;
        dnsd_verdict_t verdict =
            dnsd_handler_process (handler, message, size, &context, s_answer, limit, &outcome);
        switch (verdict) {
        case DNSD_VERDICT_ANSWER:
            s_check_answer (message, size, &outcome, limit, recursion);
            break;
        case DNSD_VERDICT_WAIT:
            if (release || !outcome.service)
                __builtin_trap ();  // a released query is always answered
            break;
        case DNSD_VERDICT_FORWARD:
            if (!recursion || outcome.limit < 512 || !(message[2] & (DNSD_FLAG_RD >> 8)))
                __builtin_trap ();  // only with forwarding on, for RD from recursion_from
            break;
        case DNSD_VERDICT_DROP:
            break;
        default:
            __builtin_trap ();
        }
        if (outcome.boot && (!outcome.service || release))
            __builtin_trap ();
    }
    s_compare_with_ldns (message, size);
    //  Any bytes as an answer to slip: read within bounds, never grown.
    if (size <= sizeof s_slip) {
        memcpy (s_slip, message, size);
        if (dnsd_rrl_slip (s_slip, size) > size)
            __builtin_trap ();
    }

    dnsd_handler_destroy (&handler);
    dnsd_summon_destroy (&summon);
    dnsd_table_destroy (&table);
    free (message);
    return 0;
}
