/*  dnsd_cookie: SipHash-2-4's reference vectors, RFC 9018's appendix A, option lengths,
    verification, renewal and the lifetime window; and what the handler answers a query's
    COOKIE option with.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <sodium.h>

#include "dnsd_cookie.h"
#include "dnsd_handler.h"
#include "dnsd_testing.h"

//  HEX (even length) into BYTES; returns the byte count.
static size_t
s_hex (const char *hex, uint8_t *bytes)
{
    size_t length = 0;
    cr_assert (eq (int, sodium_hex2bin (bytes, 64, hex, strlen (hex), NULL, &length, NULL), 0));
    return length;
}

static char *
s_text (const uint8_t *bytes, size_t length)
{
    static char text[129];
    return sodium_bin2hex (text, sizeof text, bytes, length);
}

static dnsd_cookie_t *
s_cookie (const char *secret_hex)
{
    uint8_t secret[DNSD_COOKIE_SECRET_SIZE];
    cr_assert (eq (int, dnsd_cookie_secret_parse (secret_hex, secret), 0));
    dnsd_cookie_t *cookie = dnsd_cookie_new (secret);
    cr_assert (not(eq (ptr, cookie, NULL)));
    return cookie;
}

//  The reference implementation's vectors (SipHash paper, appendix A, and its vectors.h):
//  key 00 01 .. 0f, message 00 01 .. (length - 1). Lengths around the 8-byte block edges.
Test (dnsd_cookie, siphash_2_4_matches_the_reference_vectors)
{
    static const struct {
        size_t length;
        const char *hash;
    } vectors[] = {
        {0, "310e0edd47db6f72"},  {1, "fd67dc93c539f874"},  {7, "37d1018bf50002ab"},
        {8, "6224939a79f5f593"},  {9, "b0e4a90bdf82009e"},  {15, "e545be4961ca29a1"},
        {16, "db9bc2577fcc2a3f"}, {63, "724506eb4c328a95"},
    };
    uint8_t key[16], message[64], hash[8];
    for (int index = 0; index < 64; index++)
        message[index] = (uint8_t) index;
    for (int index = 0; index < 16; index++)
        key[index] = (uint8_t) index;
    for (size_t index = 0; index < sizeof vectors / sizeof vectors[0]; index++) {
        crypto_shorthash_siphash24 (hash, message, vectors[index].length, key);
        cr_assert (eq (str, s_text (hash, 8), (char *) vectors[index].hash), "length %zu",
                   vectors[index].length);
    }
}

//  RFC 9018 appendix A: the server cookies of A.1 to A.4.
Test (dnsd_cookie, the_server_cookie_is_rfc_9018s)
{
    static const struct {
        const char *secret, *client_cookie, *address;
        uint32_t now;
        const char *server;
    } vectors[] = {
        {"e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100", 1559731985,
         "010000005cf79f111f8130c3eee29480"},
        {"e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100", 1559734385,
         "010000005cf7a871d4a564a1442aca77"},
        {"e5e973e5a6b2a43f48e7dc849e37bfcf", "fc93fc62807ddb86", "203.0.113.203", 1559734700,
         "010000005cf7a9acf73a7810aca2381e"},
        {"445536bcd2513298075a5d379663c962", "22681ab97d52c298",
         "2001:db8:220:1:59de:d0f4:8769:82b8", 1559741961, "010000005cf7c609a6bb79d16625507a"},
    };
    for (size_t index = 0; index < sizeof vectors / sizeof vectors[0]; index++) {
        dnsd_cookie_t *cookie = s_cookie (vectors[index].secret);
        uint8_t client_cookie[8], server[DNSD_COOKIE_SERVER_SIZE];
        s_hex (vectors[index].client_cookie, client_cookie);
        struct sockaddr_storage storage;
        dnsd_cookie_make (cookie, client_cookie, dt_client (&storage, vectors[index].address),
                          vectors[index].now, NULL, server);
        cr_assert (eq (str, s_text (server, sizeof server), (char *) vectors[index].server),
                   "A.%zu", index + 1);
        dnsd_cookie_destroy (&cookie);
        cr_assert (eq (ptr, cookie, NULL));
    }
}

static dnsd_cookie_status_t
s_check (dnsd_cookie_t *cookie, const char *option_hex, const char *address, uint32_t now,
         uint8_t *reply)
{
    uint8_t option[64];
    size_t length = s_hex (option_hex, option);
    struct sockaddr_storage storage;
    return dnsd_cookie_check (cookie, option, length, dt_client (&storage, address), now, reply);
}

//  What dnsd_cookie_check says of the COOKIE option HELD from ADDRESS at NOW, under the secret
//  e5e9..bfcf unless SECRET; and when REPLY is set, the cookie it puts in the reply.
static const struct {
    const char *what;  //  names the case in a failure message
    const char *secret;
    const char *held;
    const char *address;
    uint32_t now;
    dnsd_cookie_status_t verdict;
    const char *reply;
} s_check_cases[] = {
    {"A.1: a client cookie alone gets a fresh server cookie", NULL, "2464c4abcf10c957",
     "198.51.100.100", 1559731985, DNSD_COOKIE_CLIENT_ONLY,
     "2464c4abcf10c957010000005cf79f111f8130c3eee29480"},
    {"A.1's cookie a minute old: valid and kept", NULL,
     "2464c4abcf10c957010000005cf79f111f8130c3eee29480", "198.51.100.100", 1559731985 + 60,
     DNSD_COOKIE_VALID, "2464c4abcf10c957010000005cf79f111f8130c3eee29480"},
    {"A.2: forty minutes later, still valid, but renewed", NULL,
     "2464c4abcf10c957010000005cf79f111f8130c3eee29480", "198.51.100.100", 1559734385,
     DNSD_COOKIE_VALID, "2464c4abcf10c957010000005cf7a871d4a564a1442aca77"},
    //  A.3: a cookie another implementation issued, with reserved bytes abcdef, at 5cf78f71.
    {"A.3's reserved bytes are hashed", NULL, "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5",
     "203.0.113.203", 0x5cf78f71 + 60, DNSD_COOKIE_VALID,
     "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5"},
    {"A.3: 1 h 51 min later it has expired, and A.3's fresh cookie replaces it", NULL,
     "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", "203.0.113.203", 1559734700,
     DNSD_COOKIE_BAD, "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e"},
    {"not ours: another address", NULL, "2464c4abcf10c957010000005cf79f111f8130c3eee29480",
     "198.51.100.101", 1559731985, DNSD_COOKIE_BAD, NULL},
    {"not ours: one bit of the hash", NULL, "2464c4abcf10c957010000005cf79f111f8130c3eee29481",
     "198.51.100.100", 1559731985, DNSD_COOKIE_BAD, NULL},
    {"not ours: version 2", NULL, "2464c4abcf10c957020000005cf79f111f8130c3eee29480",
     "198.51.100.100", 1559731985, DNSD_COOKIE_BAD, NULL},
    {"not ours: 8 bytes, someone else's kind, replaced by a fresh cookie of ours", NULL,
     "2464c4abcf10c9570102030405060708", "198.51.100.100", 1559731985, DNSD_COOKIE_BAD,
     "2464c4abcf10c957010000005cf79f111f8130c3eee29480"},
    {"not ours: another secret", "445536bcd2513298075a5d379663c962",
     "2464c4abcf10c957010000005cf79f111f8130c3eee29480", "198.51.100.100", 1559731985,
     DNSD_COOKIE_BAD, NULL},
    {"lives an hour", NULL, "2464c4abcf10c957010000005cf79f111f8130c3eee29480",
     "198.51.100.100", 1559731985 + 3600, DNSD_COOKIE_VALID, NULL},
    {"not a second more", NULL, "2464c4abcf10c957010000005cf79f111f8130c3eee29480",
     "198.51.100.100", 1559731985 + 3601, DNSD_COOKIE_BAD, NULL},
    {"may come five minutes early", NULL, "2464c4abcf10c957010000005cf79f111f8130c3eee29480",
     "198.51.100.100", 1559731985 - 300, DNSD_COOKIE_VALID, NULL},
    {"not a second earlier", NULL, "2464c4abcf10c957010000005cf79f111f8130c3eee29480",
     "198.51.100.100", 1559731985 - 301, DNSD_COOKIE_BAD, NULL},
    {"an IPv4-mapped client hashes as IPv4", NULL,
     "2464c4abcf10c957010000005cf79f111f8130c3eee29480", "::ffff:198.51.100.100", 1559731985,
     DNSD_COOKIE_VALID, NULL},
    {"7 bytes, which RFC 7873 refuses, are malformed", NULL, "2464c4abcf10c9", "192.0.2.1", 1,
     DNSD_COOKIE_MALFORMED, NULL},
    {"9 bytes, which RFC 7873 refuses, are malformed", NULL, "2464c4abcf10c95701", "192.0.2.1",
     1, DNSD_COOKIE_MALFORMED, NULL},
};

Test (dnsd_cookie, check_verifies_renews_and_refuses)
{
    for (size_t i = 0; i < sizeof s_check_cases / sizeof s_check_cases[0]; i++) {
        const char *what = s_check_cases[i].what;
        const char *secret = s_check_cases[i].secret;
        dnsd_cookie_t *cookie = s_cookie (secret ? secret : "e5e973e5a6b2a43f48e7dc849e37bfcf");
        uint8_t reply[DNSD_COOKIE_REPLY_SIZE];
        cr_assert (eq (int,
                       s_check (cookie, s_check_cases[i].held, s_check_cases[i].address,
                                s_check_cases[i].now, reply),
                       s_check_cases[i].verdict),
                   "%s", what);
        if (s_check_cases[i].reply)
            cr_assert (eq (str, s_text (reply, sizeof reply), (char *) s_check_cases[i].reply),
                       "%s", what);
        dnsd_cookie_destroy (&cookie);
    }
}

Test (dnsd_cookie, timestamps_wrap_as_serial_numbers)
{
    dnsd_cookie_t *cookie = s_cookie ("e5e973e5a6b2a43f48e7dc849e37bfcf");
    struct sockaddr_storage storage;
    const struct sockaddr *client = dt_client (&storage, "192.0.2.1");
    uint8_t option[DNSD_COOKIE_REPLY_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8};
    dnsd_cookie_make (cookie, option, client, 0xfffffff0u, NULL, option + 8);
    uint8_t reply[DNSD_COOKIE_REPLY_SIZE];
    cr_assert (eq (int, dnsd_cookie_check (cookie, option, sizeof option, client, 100, reply),
                   DNSD_COOKIE_VALID),
               "116 seconds old across 2106");
    dnsd_cookie_destroy (&cookie);
}

Test (dnsd_cookie, lengths_rfc_7873_refuses_are_malformed)
{
    for (size_t length = 0; length <= 48; length++) {
        bool ok = length == 8 || (length >= 16 && length <= 40);
        cr_assert (eq (int, dnsd_cookie_length_ok (length), ok), "length %zu", length);
    }
}

Test (dnsd_cookie, secrets_are_32_hex_digits_or_random)
{
    uint8_t secret[DNSD_COOKIE_SECRET_SIZE];
    cr_assert (eq (int, dnsd_cookie_secret_parse ("e5e973e5a6b2a43f48e7dc849e37bfcf", secret), 0));
    cr_assert (eq (int, secret[0], 0xe5));
    cr_assert (eq (int, dnsd_cookie_secret_parse ("e5e973e5a6b2a43f48e7dc849e37bf", secret), -2));
    cr_assert (eq (int, dnsd_cookie_secret_parse ("e5e973e5a6b2a43f48e7dc849e37bfcx", secret), -2));
    cr_assert (eq (int, dnsd_cookie_secret_parse ("", secret), -2));
    //  Two random secrets make two different cookies for the same client.
    dnsd_cookie_t *one = dnsd_cookie_new (NULL), *two = dnsd_cookie_new (NULL);
    cr_assert (one && two);
    struct sockaddr_storage storage;
    const struct sockaddr *client = dt_client (&storage, "192.0.2.1");
    uint8_t client_cookie[8] = {0}, first[16], second[16];
    dnsd_cookie_make (one, client_cookie, client, 1000, NULL, first);
    dnsd_cookie_make (two, client_cookie, client, 1000, NULL, second);
    cr_assert (not(eq (int, memcmp (first + 8, second + 8, 8), 0)));
    dnsd_cookie_destroy (&one);
    dnsd_cookie_destroy (&two);
}

//  The handler with cookies: what a query's COOKIE option gets back ---------------------------

static dt_stack_t s_stack;
static dnsd_cookie_t *s_cookie_jar;
static uint8_t s_answer[65535];

static void
s_setup (void)
{
    dt_stack_start (&s_stack, NULL);
    dnsd_service_t *www = dt_define (s_stack.table, "www",
                                     "{\"name\":\"www\",\"dns\":[\"www.example.org\"],"
                                     "\"ip\":\"10.0.0.10\",\"domain\":\"www\"}");
    dnsd_summon_state (s_stack.summon, www, PROTO_STATE_READY, 1, 0);
    s_cookie_jar = s_cookie ("e5e973e5a6b2a43f48e7dc849e37bfcf");
    dnsd_handler_set_cookie (s_stack.handler, s_cookie_jar);
}

static void
s_teardown (void)
{
    dt_stack_stop (&s_stack);
    dnsd_cookie_destroy (&s_cookie_jar);
}

//  Ask NAME A from ADDRESS at NOW_S with the COOKIE option data COOKIE_HEX (NULL: no option).
//  Returns the verdict; the answer is in s_answer.
static dnsd_verdict_t
s_ask (const char *name, const char *cookie_hex, const char *address, int64_t now_s,
       dnsd_outcome_t *outcome)
{
    uint8_t wire[512];
    size_t size = dt_query (wire, name, "A", true);  // the OPT comes last, RDLENGTH 0
    if (cookie_hex) {
        uint8_t cookie[64];
        size_t length = s_hex (cookie_hex, cookie);
        wire[size - 2] = 0;
        wire[size - 1] = (uint8_t) (4 + length);
        uint8_t option[4] = {0, DNSD_OPTION_COOKIE, 0, (uint8_t) length};
        memcpy (wire + size, option, 4);
        memcpy (wire + size + 4, cookie, length);
        size += 4 + length;
    }
    struct sockaddr_storage storage;
    dnsd_context_t context = {dt_client (&storage, address), false, false, true, now_s * 1000, 500};
    return dnsd_handler_process (s_stack.handler, wire, size, &context, s_answer, DNSD_EDNS_PAYLOAD,
                                 outcome);
}

//  The COOKIE option data of the answer of SIZE bytes in s_answer, as hex ("" if none).
static char *
s_answer_cookie (size_t size, ldns_pkt_rcode *rcode)
{
    ldns_pkt *packet = dt_parse (s_answer, size);
    *rcode = ldns_pkt_get_rcode (packet);
    static char text[129];
    text[0] = '\0';
    ldns_rdf *options = ldns_pkt_edns_data (packet);
    if (options) {
        const uint8_t *data = ldns_rdf_data (options);
        size_t length = ldns_rdf_size (options);
        for (size_t offset = 0; offset + 4 <= length;) {
            size_t option_size = (size_t) (data[offset + 2] << 8 | data[offset + 3]);
            if (data[offset + 1] == DNSD_OPTION_COOKIE && data[offset] == 0
                && offset + 4 + option_size <= length)
                sodium_bin2hex (text, sizeof text, data + offset + 4, option_size);
            offset += 4 + option_size;
        }
    }
    ldns_pkt_free (packet);
    return text;
}

TestSuite (dnsd_handler_cookie, .init = s_setup, .fini = s_teardown);

Test (dnsd_handler_cookie, a_client_cookie_gets_a_server_cookie_and_the_answer)
{
    dnsd_outcome_t outcome;
    cr_assert (eq (
        int, s_ask ("www.example.org", "2464c4abcf10c957", "198.51.100.100", 1559731985, &outcome),
        DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.cookie, DNSD_COOKIE_CLIENT_ONLY));
    ldns_pkt_rcode rcode;
    cr_assert (eq (str, s_answer_cookie (outcome.size, &rcode),
                   "2464c4abcf10c957010000005cf79f111f8130c3eee29480"));
    cr_assert (eq (int, rcode, LDNS_RCODE_NOERROR));
    ldns_pkt *packet = dt_parse (s_answer, outcome.size);
    cr_assert (eq (sz, ldns_pkt_ancount (packet), 1), "answered as without a cookie");
    ldns_pkt_free (packet);
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->cookies[DNSD_COOKIE_CLIENT_ONLY], 1));
}

Test (dnsd_handler_cookie, the_returned_cookie_verifies_on_the_next_query)
{
    dnsd_outcome_t outcome;
    s_ask ("www.example.org", "0102030405060708", "192.0.2.1", 1000000, &outcome);
    ldns_pkt_rcode rcode;
    char held[129];
    strcpy (held, s_answer_cookie (outcome.size, &rcode));
    cr_assert (eq (sz, strlen (held), 48));
    cr_assert (eq (int, s_ask ("www.example.org", held, "192.0.2.1", 1000010, &outcome),
                   DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.cookie, DNSD_COOKIE_VALID));
    cr_assert (eq (str, s_answer_cookie (outcome.size, &rcode), held), "young: echoed");
    //  From another address the same cookie is not valid, and a new one comes back.
    s_ask ("www.example.org", held, "192.0.2.2", 1000010, &outcome);
    cr_assert (eq (int, outcome.cookie, DNSD_COOKIE_BAD));
    cr_assert (not(eq (str, s_answer_cookie (outcome.size, &rcode), held)));
    cr_assert (eq (int, rcode, LDNS_RCODE_NOERROR), "a bad cookie is not enforced");
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->cookies[DNSD_COOKIE_VALID], 1));
    cr_assert (eq (u64, dnsd_handler_stats (s_stack.handler)->cookies[DNSD_COOKIE_BAD], 1));
}

Test (dnsd_handler_cookie, negative_and_refused_answers_carry_the_cookie_too)
{
    dnsd_outcome_t outcome;
    ldns_pkt_rcode rcode;
    s_ask ("nope.example.org", "0102030405060708", "192.0.2.1", 1000000, &outcome);
    cr_assert (eq (sz, strlen (s_answer_cookie (outcome.size, &rcode)), 48));
    cr_assert (eq (int, rcode, LDNS_RCODE_NXDOMAIN));
    s_ask ("www.example.com", "0102030405060708", "192.0.2.1", 1000000, &outcome);
    cr_assert (eq (sz, strlen (s_answer_cookie (outcome.size, &rcode)), 48));
    cr_assert (eq (int, rcode, LDNS_RCODE_REFUSED));
}

Test (dnsd_handler_cookie, a_malformed_cookie_is_formerr)
{
    dnsd_outcome_t outcome;
    cr_assert (eq (int, s_ask ("www.example.org", "01020304050607", "192.0.2.1", 1000, &outcome),
                   DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_FORMERR));
    cr_assert (eq (int,
                   s_ask ("www.example.org", "010203040506070809", "192.0.2.1", 1000, &outcome),
                   DNSD_VERDICT_ANSWER));
    cr_assert (eq (int, outcome.rcode, DNSD_RCODE_FORMERR));
}

Test (dnsd_handler_cookie, without_a_cookie_the_answer_has_none)
{
    dnsd_outcome_t outcome;
    ldns_pkt_rcode rcode;
    s_ask ("www.example.org", NULL, "192.0.2.1", 1000, &outcome);
    cr_assert (eq (int, outcome.cookie, DNSD_COOKIE_NONE));
    cr_assert (eq (str, s_answer_cookie (outcome.size, &rcode), ""));
}
