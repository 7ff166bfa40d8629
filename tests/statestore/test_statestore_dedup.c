/*  statestore_dedup: the reply cache that answers retried writes.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>

#include "statestore_dedup.h"

Test (statestore_dedup, a_remembered_reply_is_found_by_its_key)
{
    statestore_dedup_t *dedup = statestore_dedup_new (4);
    cr_assert (eq (ptr, (void *) statestore_dedup_lookup (dedup, "vmctl/1#1"), NULL));
    char text[] = "{\"id\":1,\"ok\":true}";
    statestore_dedup_remember (dedup, "vmctl/1#1", text);
    text[0] = 'x';  // the cache keeps a copy
    cr_assert (eq (str, (char *) statestore_dedup_lookup (dedup, "vmctl/1#1"),
                   "{\"id\":1,\"ok\":true}"));
    cr_assert (eq (ptr, (void *) statestore_dedup_lookup (dedup, "vmctl/2#1"), NULL));
    statestore_dedup_destroy (&dedup);
    cr_assert (eq (ptr, dedup, NULL));
    statestore_dedup_destroy (&dedup);
}

Test (statestore_dedup, the_first_reply_for_a_key_stays)
{
    statestore_dedup_t *dedup = statestore_dedup_new (4);
    statestore_dedup_remember (dedup, "c#1", "first");
    statestore_dedup_remember (dedup, "c#1", "second");
    cr_assert (eq (str, (char *) statestore_dedup_lookup (dedup, "c#1"), "first"));
    cr_assert (eq (sz, statestore_dedup_size (dedup), 1));
    statestore_dedup_destroy (&dedup);
}

Test (statestore_dedup, a_full_cache_forgets_its_oldest_reply)
{
    statestore_dedup_t *dedup = statestore_dedup_new (STATESTORE_DEDUP_MAX);
    char key[32];
    for (int index = 0; index <= STATESTORE_DEDUP_MAX; index++) {
        snprintf (key, sizeof key, "c#%d", index);
        statestore_dedup_remember (dedup, key, key);
    }
    cr_assert (eq (sz, statestore_dedup_size (dedup), STATESTORE_DEDUP_MAX));
    cr_assert (eq (ptr, (void *) statestore_dedup_lookup (dedup, "c#0"), NULL));
    cr_assert (eq (str, (char *) statestore_dedup_lookup (dedup, "c#1"), "c#1"));
    snprintf (key, sizeof key, "c#%d", STATESTORE_DEDUP_MAX);
    cr_assert (eq (str, (char *) statestore_dedup_lookup (dedup, key), key));
    statestore_dedup_destroy (&dedup);
}
