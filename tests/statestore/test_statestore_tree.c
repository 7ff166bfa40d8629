/*  statestore_tree: the state in memory, and the git trees it writes and loads.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "statestore_tree.h"
#include "test_support.h"

static statestore_tree_t *s_tree;

static void
s_setup (void)
{
    s_tree = statestore_tree_new ();
}

static void
s_teardown (void)
{
    statestore_tree_destroy (&s_tree);
}

static int
s_put (const char *key, const char *json, int64_t rev)
{
    char reason[256];
    return statestore_tree_put (s_tree, key, json_loads (json, JSON_DECODE_ANY, NULL), rev,
                                reason, sizeof reason);
}

static int
s_collect (const char *key, json_t *value, int64_t mod_rev, void *argument)
{
    char *list = (char *) argument;
    strcat (list, key);
    strcat (list, " ");
    return 0;
}

TestSuite (statestore_tree, .init = s_setup, .fini = s_teardown);

Test (statestore_tree, put_then_get_returns_value_and_revision)
{
    cr_assert (eq (int, s_put ("/services/www/config", "{\"ttl\":60}", 7), 0));
    int64_t mod_rev = 0;
    json_t *value = statestore_tree_get (s_tree, "/services/www/config", &mod_rev);
    cr_assert (not (eq (ptr, value, NULL)));
    cr_assert (eq (i64, json_integer_value (json_object_get (value, "ttl")), 60));
    cr_assert (eq (i64, mod_rev, 7));
    cr_assert (eq (sz, statestore_tree_size (s_tree), 1));
    cr_assert (eq (ptr, statestore_tree_get (s_tree, "/services/www", NULL), NULL));
    cr_assert (statestore_tree_is_directory (s_tree, "/services/www"));
}

Test (statestore_tree, a_value_cannot_become_a_directory_or_back)
{
    cr_assert (eq (int, s_put ("/a/b", "1", 1), 0));
    cr_assert (eq (int, s_put ("/a/b/c", "2", 2), -1));
    cr_assert (eq (int, s_put ("/a", "3", 3), -1));
    cr_assert (eq (sz, statestore_tree_size (s_tree), 1));
    int64_t mod_rev;
    cr_assert (eq (i64, json_integer_value (statestore_tree_get (s_tree, "/a/b", &mod_rev)), 1));
}

Test (statestore_tree, delete_removes_emptied_directories)
{
    s_put ("/a/b/c", "1", 1);
    s_put ("/a/d", "2", 2);
    cr_assert (eq (int, statestore_tree_del (s_tree, "/a/b/c"), 0));
    cr_assert (not (statestore_tree_is_directory (s_tree, "/a/b")));
    cr_assert (eq (int, s_put ("/a/b", "3", 3), 0), "the emptied directory is gone");
    cr_assert (eq (int, statestore_tree_del (s_tree, "/a/missing"), -1));
    cr_assert (eq (int, statestore_tree_del (s_tree, "/a"), -1), "a directory is not a value");
}

Test (statestore_tree, foreach_walks_in_key_order_under_a_prefix)
{
    const char *keys[] = {"/s/zeta/c", "/s/alpha/c", "/s/alpha/b", "/t/x", "/s/mid"};
    for (size_t index = 0; index < 5; index++)
        s_put (keys[index], "true", 1);
    char list[256] = "";
    statestore_tree_foreach (s_tree, "/s", s_collect, list);
    cr_assert (eq (str, list, "/s/alpha/b /s/alpha/c /s/mid /s/zeta/c "));
    list[0] = '\0';
    statestore_tree_foreach (s_tree, "", s_collect, list);
    cr_assert (eq (str, list, "/s/alpha/b /s/alpha/c /s/mid /s/zeta/c /t/x "));
    list[0] = '\0';
    statestore_tree_foreach (s_tree, "/s/al", s_collect, list);
    cr_assert (eq (str, list, ""), "prefixes are whole segments");
}

static int
s_count_written (const git_oid *oid, void *argument)
{
    (*(int *) argument)++;
    return 0;
}

Test (statestore_tree, write_then_load_round_trips_and_rewrites_only_changed_paths)
{
    char *directory = test_rundir_new ();
    char path[256];
    snprintf (path, sizeof path, "%s/repo.git", directory);
    git_libgit2_init ();
    git_repository *repo = NULL;
    git_odb *odb = NULL;
    cr_assert (eq (int, git_repository_init (&repo, path, 1), 0));
    cr_assert (eq (int, git_repository_odb (&odb, repo), 0));

    char key[64];
    for (int index = 0; index < 1000; index++) {
        snprintf (key, sizeof key, "/services/svc%d/config", index);
        s_put (key, "{\"ttl\":60}", index + 1);
    }
    git_oid root, again;
    int written = 0;
    cr_assert (eq (int, statestore_tree_write (s_tree, odb, &root, s_count_written, &written), 0));
    cr_assert (gt (int, written, 1000));

    //  One more value: its blob, its directory with one bucket, the services bucket, the
    //  services tree and the root.
    written = 0;
    s_put ("/services/svc5/status", "\"booting\"", 1001);
    cr_assert (eq (int, statestore_tree_write (s_tree, odb, &again, s_count_written, &written),
                   0));
    cr_assert (le (int, written, 7), "wrote %d objects for one key", written);

    statestore_tree_t *loaded = statestore_tree_new ();
    zhashx_t *revs = zhashx_new ();
    zhashx_insert (revs, "/services/svc5/status", (void *) (intptr_t) 1001);
    char reason[256];
    cr_assert (eq (int, statestore_tree_load (loaded, repo, &again, revs, reason, sizeof reason),
                   0), "%s", reason);
    cr_assert (eq (sz, statestore_tree_size (loaded), 1001));
    int64_t mod_rev = 0;
    json_t *value = statestore_tree_get (loaded, "/services/svc5/status", &mod_rev);
    cr_assert (eq (str, (char *) json_string_value (value), "booting"));
    cr_assert (eq (i64, mod_rev, 1001));
    //  Loaded clean: writing again produces the same root without new objects.
    git_oid same;
    written = 0;
    cr_assert (eq (int, statestore_tree_write (loaded, odb, &same, s_count_written, &written),
                   0));
    cr_assert (git_oid_equal (&same, &again));
    cr_assert (eq (int, written, 0));
    zhashx_destroy (&revs);
    statestore_tree_destroy (&loaded);
    git_odb_free (odb);
    git_repository_free (repo);
    git_libgit2_shutdown ();
    test_rundir_destroy (&directory);
}
