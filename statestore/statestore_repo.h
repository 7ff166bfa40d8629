/*  statestore_repo: the git repository that holds the state and its history.

    Commits are built in memory (a libgit2 mempack) and made durable in groups: one pack file
    with every object of the group, written through libgit2's indexer with fsync, then one
    fsync'd update of refs/heads/main. Only after that are the writes acknowledged. Revision N
    is the N-th commit on refs/heads/main; the repository keeps the commit id of every
    revision in memory.  */

#ifndef STATESTORE_REPO_H_INCLUDED
#define STATESTORE_REPO_H_INCLUDED

#include <czmq.h>
#include <git2.h>

#define STATESTORE_REPO_REF "refs/heads/main"
#define STATESTORE_REPO_EMPTY_TREE "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

typedef struct _statestore_repo_t statestore_repo_t;

//  Open the bare repository at PATH, creating it if absent. Takes an exclusive lock, removes
//  what a killed predecessor left behind (lock files, temporary packs) and indexes the history.
//  Returns NULL with REASON filled when the repository cannot be used.
statestore_repo_t *statestore_repo_new (const char *path, char *reason, size_t reason_size);

//  Close the repository and release the lock. Pending commits are dropped. NULL-safe.
void statestore_repo_destroy (statestore_repo_t **self_p);

//  The repository on disk (borrowed): read history and objects through it.
git_repository *statestore_repo_git (statestore_repo_t *self);

//  The in-memory object database (borrowed) that new blobs and trees are written to; they
//  reach disk with the next statestore_repo_flush.
git_odb *statestore_repo_builder (statestore_repo_t *self);

//  Take the map of key -> revision that last changed it (as intptr_t), built from the history
//  when the repository was opened. The caller owns it; later calls return NULL.
zhashx_t *statestore_repo_take_mod_revs (statestore_repo_t *self);

//  The latest revision, pending commits included; 0 for an empty history.
int64_t statestore_repo_rev (statestore_repo_t *self);

//  The latest revision on disk.
int64_t statestore_repo_durable_rev (statestore_repo_t *self);

//  The commit of REV (1..rev) into COMMIT. Returns 0, or -1 when there is no such revision.
int statestore_repo_commit_at (statestore_repo_t *self, int64_t rev, git_oid *commit);

//  The hex id of the commit of REV written into BUFFER (GIT_OID_HEXSZ + 1 bytes) and returned
//  (borrowed: BUFFER), or "" (static) when there is no such revision, as for 0.
const char *statestore_repo_commit_hex (statestore_repo_t *self, int64_t rev, char *buffer);

//  The root tree of the latest commit (the empty tree when there is none) into TREE.
int statestore_repo_head_tree (statestore_repo_t *self, git_oid *tree);

//  Remember OID as written by this group: it goes into the next pack.
int statestore_repo_track (statestore_repo_t *self, const git_oid *oid);

//  Create a commit of tree ROOT on top of the latest one, by AUTHOR (no <, > or newline) with
//  MESSAGE (ending in a newline). It is pending until statestore_repo_flush. Returns its
//  revision, or -1.
int64_t statestore_repo_commit (statestore_repo_t *self, const git_oid *root, const char *author,
                                const char *message, git_oid *commit);

//  Make every pending commit durable. Returns 0, or -1 (logged); on failure the pending
//  commits are dropped, and the caller must reload its state from the durable head.
int statestore_repo_flush (statestore_repo_t *self);

//  Number of pack files in the repository.
size_t statestore_repo_packs (statestore_repo_t *self);

//  Replace the packs named in OLD_PACKS (base names, "pack-<sha>") by what a repack wrote:
//  delete them and reopen the repository so it sees the new set. Returns 0, or -1.
int statestore_repo_retire_packs (statestore_repo_t *self, zlist_t *old_packs);

//  The repository's directory (borrowed).
const char *statestore_repo_path (statestore_repo_t *self);

#endif
