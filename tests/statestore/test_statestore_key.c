/*  statestore_key: what a key may be, and where it lives in git.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>

#include "statestore_key.h"

static bool
s_valid (const char *key)
{
    char reason[128];
    return statestore_key_check (key, reason, sizeof reason) == 0;
}

Test (statestore_key, accepts_slash_paths_of_the_allowed_characters)
{
    cr_assert (s_valid ("/services/www/config"));
    cr_assert (s_valid ("/a"));
    cr_assert (s_valid ("/A-Z_a.z/0-9"));
    cr_assert (s_valid ("/.hidden/..x"));
}

Test (statestore_key, refuses_everything_else)
{
    const char *bad[] = {"",         "services", "/",        "/a/",   "//a",       "/a//b",
                         "/a b",     "/a/./b",   "/a/../b",  "/é",    "/a\nb",     "/a/.",
                         "/a?b",     "/a/b/"};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++)
        cr_assert (not (s_valid (bad[index])), "accepted \"%s\"", bad[index]);
    char deep[1100] = "";
    for (int index = 0; index < 70; index++)
        strcat (deep, "/a");
    cr_assert (not (s_valid (deep)), "deeper than the limit");
    char longest[1100] = "/";
    memset (longest + 1, 'k', 1023);
    longest[1024] = '\0';
    cr_assert (not (s_valid (longest)), "1024 bytes is over the limit");
    longest[1023] = '\0';
    cr_assert (s_valid (longest));
}

Test (statestore_key, path_has_a_bucket_below_the_top_level_and_maps_back)
{
    char path[STATESTORE_PATH_MAX + 1], key[STATESTORE_KEY_MAX + 1];
    cr_assert (eq (int, statestore_key_to_path ("/services/www/config", path, sizeof path), 0));
    char expected[64];
    snprintf (expected, sizeof expected, "services/%02x/www/%02x/config",
              statestore_key_bucket ("www", 3), statestore_key_bucket ("config", 6));
    cr_assert (eq (str, path, expected));
    cr_assert (eq (int, statestore_key_from_path (path, key, sizeof key), 0));
    cr_assert (eq (str, key, "/services/www/config"));
    cr_assert (eq (int, statestore_key_to_path ("/top", path, sizeof path), 0));
    cr_assert (eq (str, path, "top"));
}

Test (statestore_key, paths_with_wrong_buckets_are_not_keys)
{
    char key[STATESTORE_KEY_MAX + 1];
    char path[64];
    int wrong = (statestore_key_bucket ("www", 3) + 1) & 0xff;
    snprintf (path, sizeof path, "services/%02x/www", wrong);
    cr_assert (eq (int, statestore_key_from_path (path, key, sizeof key), -1));
    cr_assert (eq (int, statestore_key_from_path ("services/www", key, sizeof key), -1));
    cr_assert (eq (int, statestore_key_from_path ("services/zz/www", key, sizeof key), -1));
}

Test (statestore_key, buckets_spread_ten_thousand_names)
{
    int used[256] = {0};
    char name[32];
    for (int index = 0; index < 10000; index++) {
        int length = snprintf (name, sizeof name, "service-%d", index);
        used[statestore_key_bucket (name, length)]++;
    }
    int fullest = 0, empty = 0;
    for (int bucket = 0; bucket < 256; bucket++) {
        fullest = used[bucket] > fullest ? used[bucket] : fullest;
        empty += used[bucket] == 0;
    }
    //  39 per bucket on average; no bucket should be several times that.
    cr_assert (lt (int, fullest, 100), "fullest bucket holds %d", fullest);
    cr_assert (eq (int, empty, 0));
}

Test (statestore_key, prefixes_match_whole_segments)
{
    cr_assert (statestore_key_has_prefix ("/services/www/config", "/services/www"));
    cr_assert (statestore_key_has_prefix ("/services/www", "/services/www"));
    cr_assert (not (statestore_key_has_prefix ("/services/www2/config", "/services/www")));
    cr_assert (statestore_key_has_prefix ("/anything", ""));
    cr_assert (statestore_key_has_prefix ("/anything", "/"));
}
