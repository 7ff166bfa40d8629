/*  statestore_spare: durable file writes that recycle inodes instead of creating and
    deleting them.

    Why: on a filesystem without a journal (ext4 as this project's machines are set up), the
    inode allocator skips every inode freed in the last 60 to 360 seconds, so a process that
    creates and deletes a few files per commit makes each later create slower and slower
    (measured: over a third of statestore's time went to ext4's recently_deleted scan).
    Files written here take an empty spare file from a pool directory, are fsync'd and renamed
    into place; files retired or replaced go back to the pool, truncated. In steady state no
    inode is allocated or freed.

    A spare that is also linked elsewhere (a crash between the two steps of a replace) is never
    reused: its link count says so.  */

#ifndef STATESTORE_SPARE_H_INCLUDED
#define STATESTORE_SPARE_H_INCLUDED

#include <stddef.h>

#define STATESTORE_SPARE_MAX 1024  // spares kept; beyond that, retired files are unlinked

typedef struct _statestore_spare_t statestore_spare_t;

//  Use (and create) DIRECTORY as the pool. Returns NULL when it cannot be created.
statestore_spare_t *statestore_spare_new (const char *directory);

//  Forget the pool (the files stay for the next start). NULL-safe.
void statestore_spare_destroy (statestore_spare_t **self_p);

//  Make PATH hold SIZE bytes of DATA, durably: written to a spare, fsync'd, renamed over PATH
//  (whose old inode becomes a spare). The caller fsyncs PATH's directory (once per batch of
//  writes) with statestore_spare_sync. Returns 0, or -1 with errno set.
int statestore_spare_write (statestore_spare_t *self, const char *path, const void *data,
                            size_t size);

//  Remove PATH, keeping its inode as a truncated spare. Returns 0, or -1 with errno set.
int statestore_spare_retire (statestore_spare_t *self, const char *path);

//  fsync DIRECTORY, so the renames in it are durable. Returns 0, or -1 with errno set.
int statestore_spare_sync (const char *directory);

//  Spares available now.
size_t statestore_spare_count (statestore_spare_t *self);

#endif
