/*  dnsd_suffix: registrable domains of wire names from Debian's public suffix list.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_name.h"
#include "dnsd_suffix.h"

static dnsd_suffix_t *s_suffix;

static void
s_setup (void)
{
    s_suffix = dnsd_suffix_new ();
    cr_assert (not(eq (ptr, s_suffix, NULL)));
}

static void
s_teardown (void)
{
    dnsd_suffix_destroy (&s_suffix);
    dnsd_suffix_destroy (&s_suffix);  // idempotent
}

//  The registrable domain of TEXT, as text, or "(none)".
static char *
s_registrable (const char *text)
{
    static char result[DNSD_NAME_TEXT_MAX];
    uint8_t wire[DNSD_NAME_MAX];
    int length = dnsd_name_from_text (text, wire);
    cr_assert (gt (int, length, 0), "%s", text);
    int offset = dnsd_suffix_registrable (s_suffix, wire, (size_t) length);
    if (offset < 0)
        return "(none)";
    cr_assert (lt (int, offset, length));
    dnsd_name_to_text (wire + offset, result, sizeof result);
    return result;
}

TestSuite (dnsd_suffix, .init = s_setup, .fini = s_teardown);

Test (dnsd_suffix, a_name_under_a_multi_label_suffix_registers_one_label_below_it)
{
    cr_assert (eq (str, s_registrable ("shop.co.uk"), "shop.co.uk"));
    cr_assert (eq (str, s_registrable ("www.shop.co.uk"), "shop.co.uk"));
    cr_assert (eq (str, s_registrable ("a.b.www.shop.CO.UK"), "shop.co.uk"), "any case");
    cr_assert (eq (str, s_registrable ("foo.github.io"), "foo.github.io"), "private section");
}

Test (dnsd_suffix, a_public_suffix_has_no_registrable_domain)
{
    cr_assert (eq (str, s_registrable ("co.uk"), "(none)"));
    cr_assert (eq (str, s_registrable ("uk"), "(none)"));
    cr_assert (eq (str, s_registrable ("github.io"), "(none)"));
    cr_assert (eq (str, s_registrable ("in-addr.arpa"), "(none)"));
    //  Wildcard and exception rules: *.kawasaki.jp, !city.kawasaki.jp.
    cr_assert (eq (str, s_registrable ("foo.kawasaki.jp"), "(none)"));
    cr_assert (eq (str, s_registrable ("www.foo.kawasaki.jp"), "www.foo.kawasaki.jp"));
    cr_assert (eq (str, s_registrable ("city.kawasaki.jp"), "city.kawasaki.jp"));
    cr_assert (eq (str, s_registrable ("."), "(none)"), "the root");
}

Test (dnsd_suffix, an_unlisted_top_level_domain_is_a_public_suffix)
{
    //  .test (RFC 6761) is not in the list: the implicit * rule makes it one, as the demo's
    //  jitsu.test relies on.
    cr_assert (eq (str, s_registrable ("test"), "(none)"));
    cr_assert (eq (str, s_registrable ("jitsu.test"), "jitsu.test"));
    cr_assert (eq (str, s_registrable ("www.jitsu.test"), "jitsu.test"));
    cr_assert (eq (str, s_registrable ("a.b.internal"), "b.internal"));
}

Test (dnsd_suffix, odd_bytes_in_a_label_are_not_read_as_dots)
{
    //  One label "shop.co" under uk, not three labels.
    cr_assert (eq (str, s_registrable ("shop\\.co.uk"), "shop\\046co.uk"));
    cr_assert (eq (str, s_registrable ("www.shop\\.co.uk"), "shop\\046co.uk"));
    cr_assert (eq (str, s_registrable ("\\255\\000.co.uk"), "\\255\\000.co.uk"));
}
