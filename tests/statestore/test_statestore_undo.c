/*  statestore_undo: putting the tree back as a group's writes found it.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "statestore_undo.h"

static statestore_tree_t *s_tree;
static statestore_undo_t *s_undo;

static void
s_setup (void)
{
    s_tree = statestore_tree_new ();
    s_undo = statestore_undo_new (s_tree);
}

static void
s_teardown (void)
{
    statestore_undo_destroy (&s_undo);
    statestore_tree_destroy (&s_tree);
}

TestSuite (statestore_undo, .init = s_setup, .fini = s_teardown);

//  Put VALUE at KEY (or, unless PUT, delete KEY) at REV as a write does: record it first.
static void
s_change (const char *key, json_int_t value, bool put, int64_t rev)
{
    int64_t mod_rev = 0;
    json_t *current = statestore_tree_get (s_tree, key, &mod_rev);
    statestore_undo_push (s_undo, key, current, mod_rev);
    char reason[128];
    if (put)
        cr_assert (eq (int, statestore_tree_put (s_tree, key, json_integer (value), rev, reason,
                                                 sizeof reason), 0));
    else
        cr_assert (eq (int, statestore_tree_del (s_tree, key), 0));
}

static json_int_t
s_value (const char *key, int64_t *mod_rev)
{
    json_t *value = statestore_tree_get (s_tree, key, mod_rev);
    return value ? json_integer_value (value) : -1;
}

Test (statestore_undo, undoing_to_a_mark_keeps_what_came_before_it)
{
    s_change ("/a", 1, true, 1);
    size_t mark = statestore_undo_count (s_undo);
    s_change ("/a", 2, true, 2);
    s_change ("/b", 3, true, 2);
    cr_assert (eq (sz, statestore_undo_count (s_undo), 3));
    statestore_undo_to (s_undo, mark);
    int64_t mod_rev = 0;
    cr_assert (eq (i64, s_value ("/a", &mod_rev), 1));
    cr_assert (eq (i64, mod_rev, 1));
    cr_assert (eq (i64, s_value ("/b", &mod_rev), -1));
    statestore_undo_to (s_undo, 0);
    cr_assert (eq (sz, statestore_tree_size (s_tree), 0));
}

Test (statestore_undo, a_deleted_key_comes_back_with_its_mod_rev)
{
    char reason[128];
    statestore_tree_put (s_tree, "/a", json_integer (7), 4, reason, sizeof reason);
    s_change ("/a", 0, false, 5);
    cr_assert (eq (sz, statestore_tree_size (s_tree), 0));
    statestore_undo_to (s_undo, 0);
    int64_t mod_rev = 0;
    cr_assert (eq (i64, s_value ("/a", &mod_rev), 7));
    cr_assert (eq (i64, mod_rev, 4));
}

Test (statestore_undo, clearing_keeps_the_tree_as_it_is)
{
    s_change ("/a", 1, true, 1);
    statestore_undo_clear (s_undo);
    cr_assert (eq (sz, statestore_undo_count (s_undo), 0));
    statestore_undo_to (s_undo, 0);
    int64_t mod_rev = 0;
    cr_assert (eq (i64, s_value ("/a", &mod_rev), 1));
}
