/*  statestore_undo: what a group's writes changed in the tree, to put it back.

    A group's writes are applied to the in-memory tree before anything of it is on disk, so
    that later writes and the reads of the group see them. When one op of a tx fails, the ops
    of that tx already applied are undone; when the group cannot be written to disk, all of
    it is. Records are undone newest first, so a key changed twice ends where it started.  */

#ifndef STATESTORE_UNDO_H_INCLUDED
#define STATESTORE_UNDO_H_INCLUDED

#include "statestore_tree.h"

typedef struct _statestore_undo_t statestore_undo_t;

//  An empty undo log for TREE (borrowed, must outlive it).
statestore_undo_t *statestore_undo_new (statestore_tree_t *tree);

//  Free the records without undoing them. NULL-safe.
void statestore_undo_destroy (statestore_undo_t **self_p);

//  Record KEY's state before a change: VALUE (borrowed, a reference is taken; NULL when the key
//  did not exist) and its MOD_REV.
void statestore_undo_push (statestore_undo_t *self, const char *key, json_t *value,
                           int64_t mod_rev);

//  Number of records: a mark that statestore_undo_to can go back to.
size_t statestore_undo_count (statestore_undo_t *self);

//  Undo the newest records in the tree until only KEEP remain.
void statestore_undo_to (statestore_undo_t *self, size_t keep);

//  Forget every record, keeping the tree as it is: the group is durable.
void statestore_undo_clear (statestore_undo_t *self);

#endif
