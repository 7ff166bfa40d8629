/*  statestore_dedup: a hash of replies and the order they came in.  */

#include <czmq.h>

#include "statestore_dedup.h"

struct _statestore_dedup_t {
    zhashx_t *replies;            // owned: key -> reply text (owned)
    zlist_t *order;               // owned: keys (owned) in insertion order, for eviction
    size_t capacity;
};

statestore_dedup_t *
statestore_dedup_new (size_t capacity)
{
    assert (capacity > 0);
    statestore_dedup_t *self = (statestore_dedup_t *) zmalloc (sizeof (statestore_dedup_t));
    self->replies = zhashx_new ();
    zhashx_set_destructor (self->replies, (zhashx_destructor_fn *) zstr_free);
    self->order = zlist_new ();
    self->capacity = capacity;
    return self;
}

void
statestore_dedup_destroy (statestore_dedup_t **self_p)
{
    assert (self_p);
    statestore_dedup_t *self = *self_p;
    if (!self)
        return;
    char *key;
    while ((key = (char *) zlist_pop (self->order)))
        free (key);
    zlist_destroy (&self->order);
    zhashx_destroy (&self->replies);
    free (self);
    *self_p = NULL;
}

const char *
statestore_dedup_lookup (statestore_dedup_t *self, const char *key)
{
    assert (self);
    return (const char *) zhashx_lookup (self->replies, key);
}

void
statestore_dedup_remember (statestore_dedup_t *self, const char *key, const char *text)
{
    assert (self);
    if (zhashx_lookup (self->replies, key))
        return;
    if (zlist_size (self->order) >= self->capacity) {
        char *oldest = (char *) zlist_pop (self->order);
        zhashx_delete (self->replies, oldest);
        free (oldest);
    }
    zhashx_insert (self->replies, key, strdup (text));
    zlist_append (self->order, strdup (key));
}

size_t
statestore_dedup_size (statestore_dedup_t *self)
{
    assert (self);
    return zhashx_size (self->replies);
}
