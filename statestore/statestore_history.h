/*  statestore_history: questions about the past, answered from git.

    log (which commits changed keys under a prefix), get_at (a key at a revision or commit) and
    diff (what changed between two revisions). Only durable revisions are visible.  */

#ifndef STATESTORE_HISTORY_H_INCLUDED
#define STATESTORE_HISTORY_H_INCLUDED

#include <jansson.h>

#include "statestore_fault.h"
#include "statestore_repo.h"

//  Add "entries" to REPLY: up to LIMIT commits, newest first and not older than SINCE (UNIX ms),
//  that changed keys under PREFIX, each with only its changes under PREFIX; with VALUES, each
//  put carries the value as of that commit. Returns 0, or -1 with FAULT.
int statestore_history_log (statestore_repo_t *repo, const char *prefix, int limit,
                            int64_t since, bool values, json_t *reply,
                            statestore_fault_t *fault);

//  Add "rev", "commit", "key" and "value" to REPLY: KEY as of revision REV, or of commit
//  COMMIT_HEX when REV is 0. Returns 0, or -1 with FAULT.
int statestore_history_get_at (statestore_repo_t *repo, const char *key, int64_t rev,
                               const char *commit_hex, json_t *reply, statestore_fault_t *fault);

//  Add "changes" to REPLY: every key that differs between revisions FROM and TO (0 is the empty
//  state), with "op" put or del and the "old" and "new" values. Returns 0, or -1 with FAULT.
int statestore_history_diff (statestore_repo_t *repo, int64_t from, int64_t to, json_t *reply,
                             statestore_fault_t *fault);

//  Parse the revision a commit's message records ("Jitsu-Rev: N"). Returns it, or -1.
int64_t statestore_history_rev_of (const char *message);

#endif
