/*  proto_cidr: what parses as a network, how it prints, and which clients fall in it.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "proto_cidr.h"

//  A client address from text, IPv4 or IPv6, into STORAGE.
static const struct sockaddr *
s_client (struct sockaddr_storage *storage, const char *text)
{
    memset (storage, 0, sizeof *storage);
    struct sockaddr_in *v4 = (struct sockaddr_in *) storage;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) storage;
    if (inet_pton (AF_INET, text, &v4->sin_addr) == 1)
        v4->sin_family = AF_INET;
    else {
        cr_assert (eq (int, inet_pton (AF_INET6, text, &v6->sin6_addr), 1), "%s", text);
        v6->sin6_family = AF_INET6;
    }
    return (const struct sockaddr *) storage;
}

//  Whether CLIENT is in the one network TEXT.
static bool
s_in (const char *text, const char *client)
{
    proto_cidr_t cidr;
    cr_assert (eq (int, proto_cidr_parse (&cidr, text), 0), "%s", text);
    struct sockaddr_storage storage;
    return proto_cidr_list_match (&cidr, 1, s_client (&storage, client));
}

Test (proto_cidr, networks_and_single_addresses_parse)
{
    proto_cidr_t cidr;
    cr_assert (eq (int, proto_cidr_parse (&cidr, "10.0.0.0/8"), 0));
    cr_assert (eq (int, cidr.family, AF_INET));
    cr_assert (eq (int, cidr.prefix_length, 8));
    cr_assert (eq (u8, cidr.address[0], 10));
    cr_assert (eq (int, proto_cidr_parse (&cidr, "192.0.2.7"), 0));
    cr_assert (eq (int, cidr.prefix_length, 32), "one address");
    cr_assert (eq (int, proto_cidr_parse (&cidr, "2001:db8::/32"), 0));
    cr_assert (eq (int, cidr.family, AF_INET6));
    cr_assert (eq (int, cidr.prefix_length, 32));
    cr_assert (eq (int, proto_cidr_parse (&cidr, "::1"), 0));
    cr_assert (eq (int, cidr.prefix_length, 128));
    cr_assert (eq (int, proto_cidr_parse (&cidr, "0.0.0.0/0"), 0));
    cr_assert (eq (int, cidr.prefix_length, 0));
}

Test (proto_cidr, garbage_is_not_a_network)
{
    const char *bad[] = {"",
                         "/8",
                         "10.0.0.0/",
                         "10.0.0.0/33",
                         "10.0.0.0/-1",
                         "10.0.0.0/ 8",
                         "10.0.0.0/+8",
                         "10.0.0.0/0x8",
                         "10.0.0.0/8x",
                         "10.0.0/8",
                         "::1/129",
                         "2001:db8::/1000",
                         "www",
                         "10.0.0.0/8/8",
                         "10.0.0.0 /8",
                         "0000000000000000000000000000000000000000000000000000000000000001"};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        proto_cidr_t cidr;
        cr_assert (eq (int, proto_cidr_parse (&cidr, bad[index]), -2), "accepted \"%s\"",
                   bad[index]);
        cr_assert (eq (int, cidr.family, 0), "left filled: \"%s\"", bad[index]);
    }
}

Test (proto_cidr, a_network_prints_as_configured)
{
    const char *texts[][2] = {{"10.0.0.0/8", "10.0.0.0/8"},
                              {"192.0.2.7", "192.0.2.7/32"},
                              {"10.1.2.3/8", "10.1.2.3/8"},
                              {"2001:DB8::/32", "2001:db8::/32"},
                              {"::ffff:10.0.0.0/104", "10.0.0.0/8"}};
    for (size_t index = 0; index < sizeof texts / sizeof texts[0]; index++) {
        proto_cidr_t cidr;
        char text[PROTO_CIDR_TEXT_MAX];
        cr_assert (eq (int, proto_cidr_parse (&cidr, texts[index][0]), 0));
        cr_assert (
            eq (str, proto_cidr_format (&cidr, text, sizeof text), (char *) texts[index][1]));
    }
    proto_cidr_t cidr;
    char text[PROTO_CIDR_TEXT_MAX];
    cr_assert (
        eq (int, proto_cidr_parse (&cidr, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), 0));
    cr_assert (eq (str, proto_cidr_format (&cidr, text, sizeof text),
                   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"),
               "the longest fits");
}

Test (proto_cidr, clients_match_on_the_prefix_bits_only)
{
    cr_assert (s_in ("10.0.0.0/8", "10.255.1.2"));
    cr_assert (not(s_in ("10.0.0.0/8", "11.0.0.1")));
    cr_assert (s_in ("10.1.2.3/8", "10.9.9.9"), "host bits of the network are ignored");
    cr_assert (s_in ("192.168.0.0/23", "192.168.1.200"));
    cr_assert (not(s_in ("192.168.0.0/23", "192.168.2.1")));
    cr_assert (s_in ("127.0.0.1/32", "127.0.0.1"));
    cr_assert (not(s_in ("127.0.0.1/32", "127.0.0.2")));
    cr_assert (s_in ("0.0.0.0/0", "203.0.113.9"));
    cr_assert (s_in ("2001:db8::/33", "2001:db8:7fff::1"));
    cr_assert (not(s_in ("2001:db8::/33", "2001:db8:8000::1")));
    cr_assert (s_in ("::1", "::1"));
    cr_assert (not(s_in ("::1", "::2")));
}

Test (proto_cidr, families_never_mix_but_mapped_ipv4_is_ipv4)
{
    cr_assert (not(s_in ("0.0.0.0/0", "2001:db8::1")));
    cr_assert (not(s_in ("::/0", "10.0.0.1")));
    //  An IPv4 client on a dual-stack socket, and a network written in the mapped form.
    cr_assert (s_in ("127.0.0.0/8", "::ffff:127.0.0.2"));
    cr_assert (not(s_in ("127.0.0.0/8", "::ffff:10.0.0.1")));
    cr_assert (s_in ("::ffff:10.0.0.0/104", "10.20.30.40"));
    cr_assert (s_in ("::ffff:10.0.0.0/104", "::ffff:10.20.30.40"));
    cr_assert (not(s_in ("::ffff:10.0.0.0/104", "11.0.0.1")));
}

Test (proto_cidr, a_list_matches_any_of_its_networks)
{
    proto_cidr_t list[2];
    cr_assert (eq (int, proto_cidr_parse (&list[0], "127.0.0.0/8"), 0));
    cr_assert (eq (int, proto_cidr_parse (&list[1], "::1"), 0));
    struct sockaddr_storage storage;
    cr_assert (proto_cidr_list_match (list, 2, s_client (&storage, "127.0.0.53")));
    cr_assert (proto_cidr_list_match (list, 2, s_client (&storage, "::1")));
    cr_assert (not(proto_cidr_list_match (list, 2, s_client (&storage, "192.0.2.1"))));
    cr_assert (not(proto_cidr_list_match (list, 0, s_client (&storage, "::1"))), "empty list");
    cr_assert (not(proto_cidr_list_match (list, 2, NULL)), "no address");
    storage.ss_family = AF_UNIX;
    cr_assert (not(proto_cidr_list_match (list, 2, (const struct sockaddr *) &storage)));
}
