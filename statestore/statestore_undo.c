/*  statestore_undo: a stack of prior states.  */

#include "statestore_undo.h"

//  One write's prior state of one key.
typedef struct {
    char *key;                    // owned
    json_t *value;                // owned; NULL when the key did not exist
    int64_t mod_rev;
} s_record_t;

struct _statestore_undo_t {
    statestore_tree_t *tree;      // borrowed
    s_record_t *records;          // owned
    size_t count;
    size_t capacity;
};

statestore_undo_t *
statestore_undo_new (statestore_tree_t *tree)
{
    assert (tree);
    statestore_undo_t *self = (statestore_undo_t *) zmalloc (sizeof (statestore_undo_t));
    self->tree = tree;
    return self;
}

void
statestore_undo_destroy (statestore_undo_t **self_p)
{
    assert (self_p);
    statestore_undo_t *self = *self_p;
    if (!self)
        return;
    statestore_undo_clear (self);
    free (self->records);
    free (self);
    *self_p = NULL;
}

void
statestore_undo_push (statestore_undo_t *self, const char *key, json_t *value, int64_t mod_rev)
{
    assert (self);
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 64;
        self->records =
            (s_record_t *) realloc (self->records, self->capacity * sizeof (s_record_t));
    }
    self->records[self->count++] = (s_record_t){strdup (key), json_incref (value), mod_rev};
}

size_t
statestore_undo_count (statestore_undo_t *self)
{
    assert (self);
    return self->count;
}

void
statestore_undo_to (statestore_undo_t *self, size_t keep)
{
    assert (self);
    char reason[64];
    while (self->count > keep) {
        s_record_t *record = &self->records[--self->count];
        //  The tree takes the record's reference to the value.
        if (record->value)
            statestore_tree_put (self->tree, record->key, record->value, record->mod_rev, reason,
                                 sizeof reason);
        else
            statestore_tree_del (self->tree, record->key);
        free (record->key);
    }
}

void
statestore_undo_clear (statestore_undo_t *self)
{
    assert (self);
    for (size_t index = 0; index < self->count; index++) {
        free (self->records[index].key);
        json_decref (self->records[index].value);
    }
    self->count = 0;
}
