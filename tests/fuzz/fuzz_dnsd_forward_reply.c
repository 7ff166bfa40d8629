/*  libFuzzer target: what an upstream sends back to dnsd_forward, through dnsd_relay. Any
    reply must be classified without reading past its end; a reply relayed to the client must
    fit the client's limit, parse with ldns, carry the client's id, question, QR and RA, and
    carry dnsd's own OPT (1232, no options) exactly when the client sent one; a reply with
    another id is never relayed.

    The first byte picks the client: bit 0 EDNS, bit 1 DO, bits 2-3 its limit (512, 1232,
    65535), bit 4 the upstream id taken from the reply (else 0xbeef: mostly mismatches), bits
    5-6 the question. The rest is the reply.  */

#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd_relay.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static uint8_t s_out[65535 + DNSD_RELAY_OPT_SIZE];

//  The client's query: header (id 0x1234, RD), the question NAME (wire) TYPE IN, an OPT.
static size_t
s_client (uint8_t *wire, const char *name, size_t name_length, uint16_t type, bool edns,
          bool dnssec_ok)
{
    static const uint8_t header[12] = {0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy (wire, header, 12);
    memcpy (wire + 12, name, name_length);
    size_t size = 12 + name_length;
    wire[size++] = (uint8_t) (type >> 8), wire[size++] = (uint8_t) type;
    wire[size++] = 0, wire[size++] = 1;
    if (edns) {
        const uint8_t opt[11] = {0, 0, 41, 0x10, 0, 0, 0, (uint8_t) (dnssec_ok ? 0x80 : 0),
                                 0, 0, 0};
        memcpy (wire + size, opt, 11);
        size += 11;
        wire[11] = 1;
    }
    return size;
}

static void
s_check (const dnsd_relay_t *relay, const uint8_t *client, size_t out_size, bool cut)
{
    if (out_size < 12 || out_size > relay->limit)
        __builtin_trap ();
    if (s_out[0] != 0x12 || s_out[1] != 0x34 || !(s_out[2] & 0x80) || !(s_out[3] & 0x80))
        __builtin_trap ();  // the client's id, QR, RA
    ldns_pkt *packet = NULL;
    if (ldns_wire2pkt (&packet, s_out, out_size) != LDNS_STATUS_OK)
        __builtin_trap ();
    if (ldns_pkt_qdcount (packet) != 1
        || memcmp (s_out + 12, client + 12, relay->question_end - 12) != 0)
        __builtin_trap ();  // the question as the client sent it
    if (ldns_pkt_edns (packet) != relay->edns)
        __builtin_trap ();
    if (relay->edns
        && (ldns_pkt_edns_udp_size (packet) != DNSD_EDNS_PAYLOAD || ldns_pkt_edns_data (packet)
            || ldns_pkt_edns_do (packet) != relay->edns_do))
        __builtin_trap ();
    if (cut && (!ldns_pkt_tc (packet) || ldns_pkt_ancount (packet) != 0))
        __builtin_trap ();
    ldns_pkt_free (packet);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const struct {
        const char *name;
        size_t length;
        uint16_t type;
    } questions[4] = {
        {"\3www\7example\3com", 17, 1},
        {"\3WwW\7ExAmPlE\3cOm", 17, 28},
        {"\7example\3com", 13, 6},
        {"", 1, 2},
    };
    uint8_t variant = data[0];
    static const size_t limits[4] = {512, 1232, 65535, 512};
    uint8_t client[512];
    int pick = (variant >> 5) & 3;
    size_t client_size = s_client (client, questions[pick].name, questions[pick].length,
                                   questions[pick].type, variant & 1, variant & 2);
    dnsd_query_t query;
    if (dnsd_query_parse (&query, client, client_size) != DNSD_QUERY_OK)
        __builtin_trap ();
    dnsd_relay_t relay;
    dnsd_relay_init (&relay, &query, client, limits[(variant >> 2) & 3]);
    //  An exact-size heap copy of the reply, so ASan sees any read past its end.
    size_t reply_size = size - 1;
    uint8_t *reply = (uint8_t *) malloc (reply_size ? reply_size : 1);
    memcpy (reply, data + 1, reply_size);
    uint16_t id = 0xbeef;
    if ((variant & 0x10) && reply_size >= 2)
        id = (uint16_t) ((reply[0] << 8) | reply[1]);
    dnsd_relay_set_id (&relay, id);
    if (dnsd_relay_id (&relay) != id)
        __builtin_trap ();

    size_t out_size;
    bool cut;
    dnsd_relay_status_t status =
        dnsd_relay_answer (&relay, reply, reply_size, s_out, &out_size, &cut);
    bool other_id = reply_size >= 2 && ((reply[0] << 8) | reply[1]) != id;
    switch (status) {
    case DNSD_RELAY_ANSWER:
    case DNSD_RELAY_TRUNCATED:
        if (other_id)
            __builtin_trap ();
        s_check (&relay, client, out_size, cut);
        break;
    case DNSD_RELAY_MISMATCH:
    case DNSD_RELAY_MALFORMED:
        if (out_size != 0)
            __builtin_trap ();
        break;
    default:
        __builtin_trap ();
    }
    //  SERVFAIL for the same client always parses too.
    uint8_t error[DNSD_UDP_LEGACY];
    size_t error_size = dnsd_relay_error (&relay, error, DNSD_RCODE_SERVFAIL);
    ldns_pkt *packet = NULL;
    if (ldns_wire2pkt (&packet, error, error_size) != LDNS_STATUS_OK)
        __builtin_trap ();
    ldns_pkt_free (packet);
    free (reply);
    return 0;
}
