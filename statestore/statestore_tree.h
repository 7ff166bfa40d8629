/*  statestore_tree: the current state in memory, and its git trees.

    Every read (get, list, snapshot) is served from here; git is written at commit time and
    read for history. Each node caches the id of its git object and is marked dirty when
    something below it changes, so a commit writes only the blobs and trees on changed paths:
    with the bucket fan-out (see statestore_key.h) that is a handful of small trees.  */

#ifndef STATESTORE_TREE_H_INCLUDED
#define STATESTORE_TREE_H_INCLUDED

#include <czmq.h>
#include <git2.h>
#include <jansson.h>

typedef struct _statestore_tree_t statestore_tree_t;

//  Called for each value in key order; a non-zero return stops the walk and is returned.
typedef int(statestore_tree_fn) (const char *key, json_t *value, int64_t mod_rev, void *arg);

//  Called for each value in key order with the value as compact JSON text (borrowed, cached
//  until the value changes); a non-zero return stops the walk.
typedef int(statestore_tree_text_fn) (const char *key, const char *text, int64_t mod_rev,
                                      void *arg);

//  Called with the id of every object statestore_tree_write wrote (or found already present).
typedef int(statestore_tree_written_fn) (const git_oid *oid, void *arg);

//  An empty tree.
statestore_tree_t *statestore_tree_new (void);

//  Free the tree and every value in it. NULL-safe.
void statestore_tree_destroy (statestore_tree_t **self_p);

//  The value at KEY (borrowed) with its mod_rev, or NULL when KEY holds no value.
json_t *statestore_tree_get (statestore_tree_t *self, const char *key, int64_t *mod_rev);

//  Whether KEY has keys below it (it is a directory).
bool statestore_tree_is_directory (statestore_tree_t *self, const char *key);

//  Store VALUE (a reference is consumed, even on failure) at a valid KEY, stamped MOD_REV.
//  Returns 0, or -1 with REASON when KEY has keys below it or a segment above it holds a value.
int statestore_tree_put (statestore_tree_t *self, const char *key, json_t *value,
                         int64_t mod_rev, char *reason, size_t reason_size);

//  Remove the value at KEY; directories left empty disappear. Returns 0, or -1 when KEY holds
//  no value.
int statestore_tree_del (statestore_tree_t *self, const char *key);

//  Walk the values under PREFIX ("" for all) in key order.
int statestore_tree_foreach (statestore_tree_t *self, const char *prefix, statestore_tree_fn *fn,
                             void *arg);

//  Walk the values under PREFIX in key order as compact JSON text: what a snapshot sends,
//  without building a JSON tree of the whole state.
int statestore_tree_foreach_text (statestore_tree_t *self, const char *prefix,
                                  statestore_tree_text_fn *fn, void *arg);

//  Number of values.
size_t statestore_tree_size (statestore_tree_t *self);

//  Write the changed blobs and trees into ODB and set ROOT to the root tree. Every object
//  id produced is passed to WRITTEN (may be NULL). Returns 0, or -1 on a libgit2 failure.
int statestore_tree_write (statestore_tree_t *self, git_odb *odb, git_oid *root,
                           statestore_tree_written_fn *written, void *arg);

//  Replace the contents with the git tree ROOT of REPO; MOD_REVS (may be NULL) maps each key to
//  the revision that last changed it (as intptr_t). Returns 0, or -1 with REASON when the
//  tree is not one this layout writes or a blob is not JSON.
int statestore_tree_load (statestore_tree_t *self, git_repository *repo, const git_oid *root,
                          zhashx_t *mod_revs, char *reason, size_t reason_size);

#endif
