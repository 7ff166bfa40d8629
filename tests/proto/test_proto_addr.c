/*  proto_addr: address text and a port to a socket address, and the port back.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>

#include "proto.h"

Test (proto_addr, an_ipv4_address_becomes_a_sockaddr_in)
{
    struct sockaddr_storage storage;
    socklen_t length = 0;
    cr_assert (eq (int, proto_addr_parse ("192.0.2.7", 5353, &storage, &length), 0));
    cr_assert (eq (int, storage.ss_family, AF_INET));
    cr_assert (eq (u32, (uint32_t) length, (uint32_t) sizeof (struct sockaddr_in)));
    const struct sockaddr_in *v4 = (const struct sockaddr_in *) &storage;
    cr_assert (eq (u32, ntohl (v4->sin_addr.s_addr), 0xc0000207));
    cr_assert (eq (int, ntohs (v4->sin_port), 5353));
    cr_assert (eq (int, proto_addr_port (&storage), 5353));
}

Test (proto_addr, an_ipv6_address_becomes_a_sockaddr_in6)
{
    struct sockaddr_storage storage;
    socklen_t length = 0;
    cr_assert (eq (int, proto_addr_parse ("2001:db8::1", 53, &storage, &length), 0));
    cr_assert (eq (int, storage.ss_family, AF_INET6));
    cr_assert (eq (u32, (uint32_t) length, (uint32_t) sizeof (struct sockaddr_in6)));
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *) &storage;
    struct in6_addr expected;
    inet_pton (AF_INET6, "2001:db8::1", &expected);
    cr_assert (eq (int, memcmp (&v6->sin6_addr, &expected, sizeof expected), 0));
    cr_assert (eq (int, proto_addr_port (&storage), 53));
    cr_assert (eq (int, proto_addr_parse ("::", 0, &storage, &length), 0));
    cr_assert (eq (int, storage.ss_family, AF_INET6));
    cr_assert (eq (int, proto_addr_port (&storage), 0));
}

Test (proto_addr, text_that_is_not_an_address_is_refused_and_leaves_nothing)
{
    const char *refused[] = {"", "localhost", "192.0.2", "192.0.2.256", "[::1]", "::1%lo",
                             "192.0.2.1:53", " 192.0.2.1", "2001:db8::1::2"};
    for (size_t index = 0; index < sizeof refused / sizeof refused[0]; index++) {
        struct sockaddr_storage storage;
        memset (&storage, 0xff, sizeof storage);
        socklen_t length = 99;
        cr_assert (eq (int, proto_addr_parse (refused[index], 53, &storage, &length), -2),
                   "accepted \"%s\"", refused[index]);
        cr_assert (eq (u32, (uint32_t) length, 0));
        cr_assert (eq (int, storage.ss_family, AF_UNSPEC));
    }
    struct sockaddr_storage storage;
    socklen_t length;
    cr_assert (eq (int, proto_addr_parse (NULL, 53, &storage, &length), -2));
}

Test (proto_addr, a_port_outside_sixteen_bits_is_refused)
{
    struct sockaddr_storage storage;
    socklen_t length;
    cr_assert (eq (int, proto_addr_parse ("127.0.0.1", 65535, &storage, &length), 0));
    cr_assert (eq (int, proto_addr_port (&storage), 65535));
    cr_assert (eq (int, proto_addr_parse ("127.0.0.1", 65536, &storage, &length), -2));
    cr_assert (eq (int, proto_addr_parse ("::1", -1, &storage, &length), -2));
}

Test (proto_addr, other_families_have_no_port)
{
    struct sockaddr_storage storage = {.ss_family = AF_UNIX};
    cr_assert (eq (int, proto_addr_port (&storage), 0));
}
