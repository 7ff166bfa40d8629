/*  statestore_dedup: the replies of recent writes, for clients that retry.

    A client that names itself ("client" in the request) and times out sends the same write
    again with the same id. Answering the retry from here, instead of applying it a second
    time, keeps a write that succeeded from turning into a conflict or a second commit. The
    cache keeps the newest replies; the oldest one goes first.  */

#ifndef STATESTORE_DEDUP_H_INCLUDED
#define STATESTORE_DEDUP_H_INCLUDED

#include <stddef.h>

#define STATESTORE_DEDUP_MAX 4096  // write replies kept for retried requests

typedef struct _statestore_dedup_t statestore_dedup_t;

//  An empty cache that keeps at most CAPACITY replies.
statestore_dedup_t *statestore_dedup_new (size_t capacity);

//  Free the cache and every reply in it. NULL-safe.
void statestore_dedup_destroy (statestore_dedup_t **self_p);

//  The reply text remembered for KEY ("client#id"), borrowed until the next remember, or NULL.
const char *statestore_dedup_lookup (statestore_dedup_t *self, const char *key);

//  Remember a copy of TEXT as the reply for KEY, forgetting the oldest reply when the cache is
//  full. A KEY already remembered keeps its first reply.
void statestore_dedup_remember (statestore_dedup_t *self, const char *key, const char *text);

//  Number of replies remembered.
size_t statestore_dedup_size (statestore_dedup_t *self);

#endif
