/*  statestore_reader: the reads of PROTOCOL.md (get, list, snapshot, log, get_at, diff).

    get, list and snapshot are answered from the in-memory tree, the history reads from git
    through statestore_history. A read is answered after its group's flush, so it sees every
    write of the group, and it names the durable revision.  */

#ifndef STATESTORE_READER_H_INCLUDED
#define STATESTORE_READER_H_INCLUDED

#include "statestore_repo.h"
#include "statestore_request.h"
#include "statestore_stats.h"
#include "statestore_tree.h"

#define STATESTORE_LOG_MAX 10000  // entries one log request may ask for

typedef struct _statestore_reader_t statestore_reader_t;

//  A reader of REPO and TREE, counting failures into STATS (all borrowed, must outlive it).
statestore_reader_t *statestore_reader_new (statestore_repo_t *repo, statestore_tree_t *tree,
                                            statestore_stats_t *stats);

//  Free the reader. NULL-safe.
void statestore_reader_destroy (statestore_reader_t **self_p);

//  Fill the reply of the read REQUEST (or its reply_text, for a snapshot), or make it the
//  fault.
void statestore_reader_answer (statestore_reader_t *self, statestore_request_t *request);

#endif
