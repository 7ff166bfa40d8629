/*  statestore_repack: an actor that folds the many small packs of group commits together.

    Each group commit writes a small pack without deltas. In the background the actor opens
    its own handle on the repository and writes one pack with deltas in place of several:
    usually all packs but the largest (incremental, cost proportional to what is new), and all
    of them once the small ones add up to half the largest (so the history stays one pack).
    It reports which packs the new one replaces; the main thread deletes them
    (statestore_repo_retire_packs) between two groups.

    Protocol on the actor pipe: send "REPACK"; receive "DONE" followed by one frame per
    replaced pack name, or "FAILED" and a reason.  */

#ifndef STATESTORE_REPACK_H_INCLUDED
#define STATESTORE_REPACK_H_INCLUDED

#include <czmq.h>

//  The actor body: ARGUMENT is the repository path (borrowed for the actor's lifetime).
void statestore_repack_actor (zsock_t *pipe, void *argument);

#endif
