/*  statestore_repack: an actor that folds the many small packs of group commits together.

    Each group commit writes a small pack without deltas. In the background the actor opens
    its own handle on the repository and writes one pack with deltas in place of several:
    usually all packs but the largest (incremental, cost proportional to what is new), and all
    of them once the small ones add up to half the largest (so the history stays one pack).
    It reports which packs the new one replaces; the main thread deletes them
    (statestore_repo_retire_packs) between two groups.

    Protocol on its socket: send "REPACK"; receive "DONE" followed by one frame per replaced
    pack name, or "FAILED" and a reason.

    Unlike a czmq actor, the thread is joined when the repacker is destroyed: libgit2 frees
    its per-thread state in a destructor that runs as the thread exits, and a process that
    exits first leaks it (LeakSanitizer saw it).  */

#ifndef STATESTORE_REPACK_H_INCLUDED
#define STATESTORE_REPACK_H_INCLUDED

#include <czmq.h>

typedef struct _statestore_repack_t statestore_repack_t;

//  Start the repacker thread for the repository at PATH (copied). Returns NULL on failure.
statestore_repack_t *statestore_repack_new (const char *path);

//  Stop the thread (a repack in progress finishes first) and join it. NULL-safe.
void statestore_repack_destroy (statestore_repack_t **self_p);

//  The socket to send "REPACK" on and read the outcome from (borrowed), for zloop_reader.
zsock_t *statestore_repack_sock (statestore_repack_t *self);

#endif
