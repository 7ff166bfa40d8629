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

//  Names, each one's registrable domain ("(none)": the name is a public suffix), and what the
//  case shows when that is more than its group says.
static const struct {
    const char *name;
    const char *registrable;
    const char *note;
} s_cases[] = {
    //  A name under a multi-label suffix registers one label below it.
    {"shop.co.uk", "shop.co.uk", ""},
    {"www.shop.co.uk", "shop.co.uk", ""},
    {"a.b.www.shop.CO.UK", "shop.co.uk", "any case"},
    {"foo.github.io", "foo.github.io", "private section"},
    //  A public suffix has no registrable domain.
    {"co.uk", "(none)", ""},
    {"uk", "(none)", ""},
    {"github.io", "(none)", ""},
    {"in-addr.arpa", "(none)", ""},
    //  Wildcard and exception rules: *.kawasaki.jp, !city.kawasaki.jp.
    {"foo.kawasaki.jp", "(none)", ""},
    {"www.foo.kawasaki.jp", "www.foo.kawasaki.jp", ""},
    {"city.kawasaki.jp", "city.kawasaki.jp", ""},
    {".", "(none)", "the root"},
    //  An unlisted top-level domain is a public suffix. .test (RFC 6761) is not in the list: the
    //  implicit * rule makes it one, as the demo's jitsu.test relies on.
    {"test", "(none)", ""},
    {"jitsu.test", "jitsu.test", ""},
    {"www.jitsu.test", "jitsu.test", ""},
    {"a.b.internal", "b.internal", ""},
    //  Odd bytes in a label are not read as dots: one label "shop.co" under uk, not three.
    {"shop\\.co.uk", "shop\\046co.uk", ""},
    {"www.shop\\.co.uk", "shop\\046co.uk", ""},
    {"\\255\\000.co.uk", "\\255\\000.co.uk", ""},
};

Test (dnsd_suffix, registrable_domains_follow_the_list)
{
    for (size_t index = 0; index < sizeof s_cases / sizeof s_cases[0]; index++) {
        const char *name = s_cases[index].name;
        cr_assert (eq (str, s_registrable (name), (char *) s_cases[index].registrable), "%s %s",
                   name, s_cases[index].note);
    }
}
