/*  proto_addr: address text and a port to a socket address, and the port back.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>

#include "proto.h"

//  The address bytes of STORAGE, whichever its family.
static const void *
s_bytes (const struct sockaddr_storage *storage)
{
    if (storage->ss_family == AF_INET)
        return &((const struct sockaddr_in *) storage)->sin_addr;
    return &((const struct sockaddr_in6 *) storage)->sin6_addr;
}

Test (proto_addr, ipv4_and_ipv6_text_become_their_socket_addresses)
{
    const struct {
        const char *text;
        int port, family;
        size_t length;
    } cases[] = {
        {"192.0.2.7", 5353, AF_INET, sizeof (struct sockaddr_in)},
        {"0.0.0.0", 0, AF_INET, sizeof (struct sockaddr_in)},
        {"2001:db8::1", 53, AF_INET6, sizeof (struct sockaddr_in6)},
        {"::", 65535, AF_INET6, sizeof (struct sockaddr_in6)},
        {"::ffff:192.0.2.1", 80, AF_INET6, sizeof (struct sockaddr_in6)},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        struct sockaddr_storage storage;
        socklen_t length = 0;
        cr_assert (eq (int, proto_addr_parse (cases[index].text, cases[index].port, &storage,
                                              &length), 0), "refused %s", cases[index].text);
        cr_assert (eq (int, storage.ss_family, cases[index].family));
        cr_assert (eq (sz, (size_t) length, cases[index].length));
        cr_assert (eq (int, proto_addr_port (&storage), cases[index].port));
        uint8_t expected[16];
        inet_pton (cases[index].family, cases[index].text, expected);
        size_t size = cases[index].family == AF_INET ? 4 : 16;
        cr_assert (eq (int, memcmp (s_bytes (&storage), expected, size), 0), "%s",
                   cases[index].text);
    }
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
