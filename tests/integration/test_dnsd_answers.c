/*  Integration: a real jitsu-dnsd, with its services from a real statestore, asked by real
    dig and kdig: every record type and RCODE, case, TCP, truncation and the retry over TCP,
    EDNS, malformed packets, services coming and going, public suffixes, and a clean exit.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/wait.h>

#include "dnsd_fixture.h"
#include "test_support.h"

static int s_port;

//  Zones: example.net (two NS), big.example (16 long NS names: too large for UDP), the
//  reverse zone of 10.0.0.0/24. Services: www (running, A and AAAA) and api (running, A).
static void
s_setup (void)
{
    df_setup ();
    df_service ("www", "dns=www.example.org,ip=10.0.0.10,ip6=2001:db8::10,domain=www,ttl=30", true);
    df_service ("api", "dns=api.example.net,ip=10.0.0.20,domain=api", true);
    char extra[4096];
    int used = snprintf (extra, sizeof extra,
                         "\"zones\": [{\"name\": \"example.net\", \"ns\": [\"ns1.example.net\", "
                         "\"ns2.example.net\"]}, {\"name\": \"0.0.10.in-addr.arpa\"}, "
                         "{\"name\": \"big.example\", \"ns\": [");
    for (int index = 0; index < 16; index++)
        used += snprintf (extra + used, sizeof extra - (size_t) used,
                          "%s\"ns%02d.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
                          "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.big.example\"",
                          index ? ", " : "", index);
    snprintf (extra + used, sizeof extra - (size_t) used, "]}]");
    s_port = df_start_dnsd ("1", 0, extra);
    cr_assert (gt (int, s_port, 0), "dnsd did not start: see %s/dnsd-1.log", df_run_dir);
}

//  dig against dnsd, output in RUN_DIR/OUTPUT.
static int
s_dig (const char *output, const char *arguments)
{
    return df_dig (output, s_port, "+norec %s", arguments);
}

TestSuite (dnsd_answers, .init = s_setup, .fini = df_teardown, .timeout = 120);

Test (dnsd_answers, every_record_type_dig_asks_for)
{
    cr_assert (eq (int, s_dig ("a", "www.example.org A"), 0));
    cr_assert (df_contains ("a", "status: NOERROR"));
    cr_assert (df_contains ("a", "flags: qr aa"));
    cr_assert (df_contains ("a", "www.example.org. 30 IN A 10.0.0.10"));

    cr_assert (eq (int, s_dig ("aaaa", "www.example.org AAAA"), 0));
    cr_assert (df_contains ("aaaa", "www.example.org. 30 IN AAAA 2001:db8::10"));

    cr_assert (eq (int, s_dig ("soa", "example.net SOA"), 0));
    cr_assert (df_contains ("soa", "IN SOA ns1.example.net. hostmaster.example.net."));

    cr_assert (eq (int, s_dig ("ns", "example.net NS"), 0));
    cr_assert (df_contains ("ns", "IN NS ns1.example.net."));
    cr_assert (df_contains ("ns", "IN NS ns2.example.net."));

    cr_assert (eq (int, s_dig ("derived", "example.org SOA"), 0));
    cr_assert (df_contains ("derived", "example.org. 300 IN SOA localhost. "
                                       "hostmaster.example.org."),
               "the service's parent zone");

    cr_assert (eq (int, s_dig ("ptr", "-x 10.0.0.10"), 0));
    cr_assert (df_contains ("ptr", "10.0.0.10.in-addr.arpa. 30 IN PTR www.example.org."));

    cr_assert (
        eq (int, df_run ("kdig", "kdig @127.0.0.1 -p %d +norec api.example.net A", s_port), 0));
    cr_assert (df_contains ("kdig", "10.0.0.20"));
}

Test (dnsd_answers, every_rcode_dig_can_get)
{
    //  NXDOMAIN and NODATA carry the zone's SOA in the authority section.
    cr_assert (eq (int, s_dig ("nx", "nope.example.org A"), 0));
    cr_assert (df_contains ("nx", "status: NXDOMAIN"));
    cr_assert (df_contains ("nx", "AUTHORITY: 1"));
    cr_assert (df_contains ("nx", "example.org. 60 IN SOA"));

    cr_assert (eq (int, s_dig ("nodata", "www.example.org MX"), 0));
    cr_assert (df_contains ("nodata", "status: NOERROR"));
    cr_assert (df_contains ("nodata", "ANSWER: 0, AUTHORITY: 1"));

    //  Outside the served zones, forwarding off: REFUSED.
    cr_assert (eq (int, s_dig ("refused", "www.example.com A"), 0));
    cr_assert (df_contains ("refused", "status: REFUSED"));

    //  EDNS version 1: BADVERS (RFC 6891); dig shows the OPT dnsd advertises.
    cr_assert (eq (int, s_dig ("badvers", "+edns=1 +noednsnegotiation www.example.org A"), 0));
    cr_assert (df_contains ("badvers", "status: BADVERS"));
    cr_assert (eq (int, s_dig ("edns", "www.example.org A"), 0));
    cr_assert (df_contains ("edns", "udp: 1232"));

    //  A zone transfer is refused; another opcode is not implemented.
    s_dig ("axfr", "example.net AXFR");
    cr_assert (df_contains ("axfr", "Transfer failed"));
    cr_assert (eq (int, s_dig ("notify", "+opcode=notify example.net SOA"), 0));
    cr_assert (df_contains ("notify", "status: NOTIMP"));

    cr_assert (df_wait_counter ("1", "answers_nxdomain", 1, 5000));
    cr_assert (ge (i64, df_counter ("1", "answers_refused"), 2));
    cr_assert (ge (i64, df_counter ("1", "answers_badvers"), 1));
    cr_assert (ge (i64, df_counter ("1", "answers_notimp"), 1));
    cr_assert (ge (i64, df_counter ("1", "nodata"), 1));
}

Test (dnsd_answers, names_are_case_insensitive)
{
    cr_assert (eq (int, s_dig ("case", "WwW.ExAmPlE.oRg A"), 0));
    cr_assert (df_contains ("case", "WwW.ExAmPlE.oRg. 30 IN A 10.0.0.10"));
    cr_assert (eq (int, s_dig ("case-soa", "EXAMPLE.NET SOA"), 0));
    cr_assert (df_contains ("case-soa", "status: NOERROR"));
    cr_assert (df_contains ("case-soa", "ANSWER: 1"));
    cr_assert (eq (int, s_dig ("case-nx", "NoPe.EXAMPLE.net A"), 0));
    cr_assert (df_contains ("case-nx", "status: NXDOMAIN"));
}

Test (dnsd_answers, tcp_answers_like_udp)
{
    cr_assert (eq (int, s_dig ("tcp", "+tcp www.example.org A"), 0));
    cr_assert (df_contains ("tcp", "10.0.0.10"));
    cr_assert (df_contains ("tcp", "(TCP)"));
    cr_assert (eq (int,
                   df_run ("kdig",
                           "kdig @127.0.0.1 -p %d +tcp +norec +keepopen "
                           "www.example.org A nope.example.org A example.net NS",
                           s_port),
                   0));
    cr_assert (df_contains ("kdig", "10.0.0.10"));
    cr_assert (df_contains ("kdig", "NXDOMAIN"));
    cr_assert (df_contains ("kdig", "ns2.example.net."));
    cr_assert (df_wait_counter ("1", "tcp_accepted", 2, 5000));
    cr_assert (ge (i64, df_counter ("1", "queries_tcp"), 4));
}

Test (dnsd_answers, a_large_answer_is_truncated_and_dig_retries_over_tcp)
{
    cr_assert (eq (int, s_dig ("tc", "+ignore +noedns big.example NS"), 0));
    cr_assert (df_contains ("tc", "flags: qr aa tc"));
    cr_assert (df_contains ("tc", "ANSWER: 0"));
    cr_assert (eq (int, s_dig ("retry", "big.example NS"), 0));
    cr_assert (df_contains ("retry", "Truncated, retrying in TCP mode"));
    cr_assert (df_contains ("retry", "ANSWER: 16"));
    cr_assert (df_wait_counter ("1", "truncated", 2, 5000));
}

//  Send BYTES to dnsd over UDP; returns the answer's size (0 when none came in 500 ms).
static size_t
s_raw (const uint8_t *bytes, size_t size, uint8_t *answer)
{
    int fd = socket (AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) s_port)};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    cr_assert (
        eq (sz, (size_t) sendto (fd, bytes, size, 0, (struct sockaddr *) &address, sizeof address),
            size));
    struct pollfd item = {fd, POLLIN, 0};
    ssize_t got = 0;
    if (poll (&item, 1, 500) == 1)
        got = recv (fd, answer, 512, 0);
    close (fd);
    return got > 0 ? (size_t) got : 0;
}

Test (dnsd_answers, malformed_packets_are_dropped_or_answered_and_counted)
{
    uint8_t answer[512];
    const uint8_t question[] = {3,   'w', 'w', 'w', 7,   'e', 'x', 'a', 'm', 'p', 'l',
                                'e', 3,   'o', 'r', 'g', 0,   0,   1,   0,   1};
    uint8_t packet[64] = {0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy (packet + 12, question, sizeof question);
    size_t size = 12 + sizeof question;
    //  Short: dropped.
    cr_assert (eq (sz, s_raw (packet, 7, answer), 0));
    //  QR set: dropped.
    packet[2] = 0x81;
    cr_assert (eq (sz, s_raw (packet, size, answer), 0));
    //  Opcode 2 (STATUS): NOTIMP, header only.
    packet[2] = 0x10 | 0x01;
    cr_assert (eq (sz, s_raw (packet, size, answer), 12));
    cr_assert (eq (u8, answer[3] & 0x0f, 4));
    //  QDCOUNT 2: FORMERR.
    packet[2] = 0x01;
    packet[5] = 2;
    cr_assert (eq (sz, s_raw (packet, size, answer), 12));
    cr_assert (eq (u8, answer[3] & 0x0f, 1));
    cr_assert (eq (u8, answer[0], 0xbe), "the id comes back");
    //  A compression pointer in the question (pointing at itself): FORMERR.
    packet[5] = 1;
    packet[12] = 0xc0;
    packet[13] = 12;
    cr_assert (eq (sz, s_raw (packet, size, answer), 12));
    cr_assert (eq (u8, answer[3] & 0x0f, 1));
    //  A datagram over 4096 bytes (the kernel cuts it): dropped.
    uint8_t huge[5000];
    memset (huge, 0, sizeof huge);
    memcpy (huge, packet, size);
    cr_assert (eq (sz, s_raw (huge, sizeof huge, answer), 0));
    //  Still serving.
    cr_assert (eq (int, s_dig ("after", "www.example.org A"), 0));
    cr_assert (df_contains ("after", "10.0.0.10"));
    cr_assert (df_wait_counter ("1", "dropped", 3, 5000));
    cr_assert (eq (i64, df_counter ("1", "dropped_short"), 1));
    cr_assert (eq (i64, df_counter ("1", "dropped_response"), 1));
    cr_assert (eq (i64, df_counter ("1", "dropped_oversized"), 1));
    cr_assert (eq (i64, df_counter ("1", "dropped"), 3));
    cr_assert (ge (i64, df_counter ("1", "answers_formerr"), 2));
    cr_assert (ge (i64, df_counter ("1", "answers_notimp"), 1));
}

Test (dnsd_answers, services_come_and_go_with_statestore)
{
    cr_assert (eq (int, s_dig ("before", "new.example.org A"), 0));
    cr_assert (df_contains ("before", "status: NXDOMAIN"));
    df_service ("new", "dns=new.example.org,dns=alias.example.com,ip=10.0.0.30,domain=new", true);
    cr_assert (df_wait_counter ("1", "services", 3, 5000));
    cr_assert (eq (int, s_dig ("added", "alias.example.com A"), 0));
    cr_assert (df_contains ("added", "10.0.0.30"));
    cr_assert (eq (int, df_jitsuctl ("service", "rm", "new", NULL), 0));
    cr_assert (df_wait_equal ("1", "services", 2, 5000));
    cr_assert (eq (int, s_dig ("removed", "new.example.org A"), 0));
    cr_assert (df_contains ("removed", "status: NXDOMAIN"));
    cr_assert (eq (int, s_dig ("gone", "alias.example.com A"), 0));
    cr_assert (df_contains ("gone", "status: REFUSED"), "its derived zone went with it");
}

Test (dnsd_answers, a_service_under_a_public_suffix_never_makes_dnsd_serve_the_suffix)
{
    df_service ("shop", "dns=shop.co.uk,ip=10.0.0.40,domain=shop", true);
    cr_assert (df_wait_counter ("1", "services", 3, 5000));
    cr_assert (eq (int, s_dig ("shop", "shop.co.uk A"), 0));
    cr_assert (df_contains ("shop", "flags: qr aa"));
    cr_assert (df_contains ("shop", "IN A 10.0.0.40"));
    cr_assert (eq (int, s_dig ("shop-soa", "shop.co.uk SOA"), 0));
    cr_assert (df_contains ("shop-soa", "shop.co.uk. 300 IN SOA localhost. hostmaster.shop.co.uk."),
               "the service's own name is its zone");
    //  Names of other registrants under co.uk are foreign: REFUSED with forwarding off, as
    //  www.example.com is, never an authoritative NXDOMAIN or SOA.
    cr_assert (eq (int, s_dig ("other", "other.co.uk A"), 0));
    cr_assert (df_contains ("other", "status: REFUSED"));
    cr_assert (not(df_contains ("other", "flags: qr aa")));
    cr_assert (eq (int, s_dig ("suffix-soa", "co.uk SOA"), 0));
    cr_assert (df_contains ("suffix-soa", "status: REFUSED"));
    cr_assert (df_contains ("suffix-soa", "ANSWER: 0"));
    //  A name that is a public suffix itself is refused, and the log says what to configure.
    df_service ("pages", "dns=github.io,ip=10.0.0.41,domain=pages", true);
    cr_assert (df_wait_counter ("1", "invalid_configs", 1, 5000));
    cr_assert (df_contains ("dnsd-1.log", "pages: dns[0]: \"github.io\" is a public suffix"));
    cr_assert (df_contains ("dnsd-1.log", "add {\"name\": \"github.io\"} to \"zones\""));
    cr_assert (eq (int, s_dig ("pages", "github.io SOA"), 0));
    cr_assert (df_contains ("pages", "status: REFUSED"));
}

Test (dnsd_answers, an_invalid_stored_config_is_ignored_and_counted)
{
    //  Written around jitsuctl's validation, as a newer or broken writer might.
    cr_assert (eq (int,
                   df_jitsuctl ("state", "put", "/services/bad/config",
                                "{\"name\":\"bad\",\"dns\":[\"bad.example.org\"],"
                                "\"ip\":\"10.0.0.300\",\"domain\":\"bad\"}",
                                NULL),
                   0));
    cr_assert (df_wait_counter ("1", "invalid_configs", 1, 5000));
    cr_assert (eq (int, s_dig ("bad", "bad.example.org A"), 0));
    cr_assert (df_contains ("bad", "status: NXDOMAIN"));
    cr_assert (eq (int, s_dig ("good", "www.example.org A"), 0));
    cr_assert (df_contains ("good", "10.0.0.10"));
}

Test (dnsd_answers, check_config_validates_and_exits)
{
    char path[512];
    snprintf (path, sizeof path, "%s/dnsd-1.json", df_run_dir);
    cr_assert (eq (int, df_run ("check", "%s -c %s --check-config", DF_DNSD, path), 0));
    cr_assert (df_contains ("check", "config ok"));
    snprintf (path, sizeof path, "%s/bad.json", df_run_dir);
    FILE *file = fopen (path, "w");
    fputs ("{\"port\": 53,\n \"upstreams\": [\"not-an-address\"]}\n", file);
    fclose (file);
    cr_assert (eq (int, df_run ("bad", "%s -c %s --check-config", DF_DNSD, path), 1));
    cr_assert (df_contains ("bad", "upstreams[0]"));
}
