/*  statestore_repack: an actor that folds the many small packs of group commits into one.

    Each group commit writes a pack without deltas. In the background, the actor opens its
    own handle on the repository, writes one pack of every object with deltas (libgit2's
    packbuilder), and reports which old packs the new one replaces; the main thread then deletes
    them (statestore_repo_retire_packs) between two groups.

    Protocol on the actor pipe: send "REPACK"; receive "DONE" followed by one frame per
    replaced pack name, or "FAILED" and a reason.  */

#ifndef STATESTORE_REPACK_H_INCLUDED
#define STATESTORE_REPACK_H_INCLUDED

#include <czmq.h>

//  The actor body: ARGUMENT is the repository path (borrowed for the actor's lifetime).
void statestore_repack_actor (zsock_t *pipe, void *argument);

#endif
