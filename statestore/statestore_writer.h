/*  statestore_writer: the write path, from a parsed write to a durable commit.

    Each write (put, del, tx) of a group is applied to the in-memory tree as one atomic change
    and becomes its own pending commit, with a state.changed event for it. After the group's
    writes, statestore_writer_flush puts every pending commit on disk at once; only then may
    the writes be acknowledged and the events published. When the flush fails, the tree goes
    back to the durable state and every write of the group is refused.  */

#ifndef STATESTORE_WRITER_H_INCLUDED
#define STATESTORE_WRITER_H_INCLUDED

#include "proto.h"
#include "statestore_repo.h"
#include "statestore_request.h"
#include "statestore_stats.h"
#include "statestore_tree.h"

typedef struct _statestore_writer_t statestore_writer_t;

//  A writer of REPO and TREE, counting into STATS (all borrowed, must outlive it).
statestore_writer_t *statestore_writer_new (statestore_repo_t *repo, statestore_tree_t *tree,
                                            statestore_stats_t *stats);

//  Free the writer and the events it still holds. NULL-safe.
void statestore_writer_destroy (statestore_writer_t **self_p);

//  Apply the write REQUEST and create its commit, pending until the flush. The reply gets the
//  new rev and commit, or where the state stands when nothing changed, or the fault.
void statestore_writer_apply (statestore_writer_t *self, statestore_request_t *request);

//  Make the pending commits durable. When that fails, undo the group in the tree, drop its
//  events, and turn every write of GROUP (COUNT requests) that was ok into an internal error.
void statestore_writer_flush (statestore_writer_t *self, statestore_request_t *group,
                              size_t count);

//  Take the next state.changed of the flushed group (owned: proto_msg_destroy), or NULL when
//  there is none.
proto_msg_t *statestore_writer_pop_event (statestore_writer_t *self);

#endif
