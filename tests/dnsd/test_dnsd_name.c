/*  dnsd_name: conversions, suffixes and reverse names.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <sys/socket.h>

#include "dnsd_name.h"

Test (dnsd_name, text_becomes_lowercase_wire_and_back)
{
    uint8_t wire[DNSD_NAME_MAX];
    cr_assert (eq (int, dnsd_name_from_text ("WWW.Example.ORG.", wire), 17));
    cr_assert (eq (int, memcmp (wire, "\3www\7example\3org", 17), 0));
    cr_assert (eq (int, dnsd_name_from_text ("www.example.org", wire), 17), "dot optional");
    char text[DNSD_NAME_TEXT_MAX];
    cr_assert (eq (int, dnsd_name_to_text (wire, text, sizeof text), 0));
    cr_assert (eq (str, text, "www.example.org"));
    cr_assert (eq (int, dnsd_name_labels (wire), 3));
    cr_assert (eq (sz, dnsd_name_length (wire), 17));
    cr_assert (eq (int, dnsd_name_from_text (".", wire), 1));
    cr_assert (eq (int, dnsd_name_to_text (wire, text, sizeof text), 0));
    cr_assert (eq (str, text, "."));
    cr_assert (eq (int, dnsd_name_labels (wire), 0));
}

Test (dnsd_name, odd_bytes_are_escaped_and_bad_names_refused)
{
    uint8_t wire[DNSD_NAME_MAX];
    const uint8_t odd[] = {3, 'a', '.', 0xff, 0};
    char text[DNSD_NAME_TEXT_MAX];
    cr_assert (eq (int, dnsd_name_to_text (odd, text, sizeof text), 0));
    cr_assert (eq (str, text, "a\\046\\255"));
    cr_assert (eq (int, dnsd_name_to_text (odd, text, 5), -1), "does not fit");
    char long_label[80];
    memset (long_label, 'a', 64);
    strcpy (long_label + 64, ".org");
    cr_assert (eq (int, dnsd_name_from_text (long_label, wire), -1));
    cr_assert (eq (int, dnsd_name_from_text ("", wire), -1));
    cr_assert (eq (int, dnsd_name_from_text ("a..b", wire), -1));
}

Test (dnsd_name, a_name_is_under_its_zones_on_label_boundaries_only)
{
    uint8_t name[DNSD_NAME_MAX], zone[DNSD_NAME_MAX], other[DNSD_NAME_MAX];
    size_t name_length = (size_t) dnsd_name_from_text ("www.example.org", name);
    size_t zone_length = (size_t) dnsd_name_from_text ("example.org", zone);
    size_t other_length = (size_t) dnsd_name_from_text ("ample.org", other);
    cr_assert (dnsd_name_is_under (name, name_length, zone, zone_length));
    cr_assert (dnsd_name_is_under (zone, zone_length, zone, zone_length));
    cr_assert (not(dnsd_name_is_under (zone, zone_length, name, name_length)));
    cr_assert (not(dnsd_name_is_under (name, name_length, other, other_length)));
}

Test (dnsd_name, reverse_names_follow_rfc_1035_and_3596)
{
    uint8_t wire[DNSD_NAME_MAX];
    char text[DNSD_NAME_TEXT_MAX];
    const uint8_t v4[4] = {10, 0, 0, 10};
    int length = dnsd_name_reverse (AF_INET, v4, wire);
    cr_assert (eq (sz, (size_t) length, dnsd_name_length (wire)));
    dnsd_name_to_text (wire, text, sizeof text);
    cr_assert (eq (str, text, "10.0.0.10.in-addr.arpa"));
    const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x1f};
    length = dnsd_name_reverse (AF_INET6, v6, wire);
    cr_assert (eq (sz, (size_t) length, dnsd_name_length (wire)));
    dnsd_name_to_text (wire, text, sizeof text);
    cr_assert (
        eq (str, text, "f.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"));
}
