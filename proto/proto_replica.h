/*  proto_replica: an in-memory copy of statestore's keys under a prefix, kept in sync.

    Subscribe first, then snapshot, then apply state.changed events newer than the snapshot.
    A gap in revisions, an event without its value, a heartbeat from statestore announcing a
    revision we never saw, or a silence longer than two heartbeat intervals trigger a fresh
    snapshot; a snapshot is re-requested until statestore answers. The handler hears every key
    that changed, whether from an event or from the difference a snapshot revealed, so what
    the owner derives from the copy converges with it.  */

#ifndef PROTO_REPLICA_H_INCLUDED
#define PROTO_REPLICA_H_INCLUDED

#include <czmq.h>
#include <jansson.h>

#include "proto_endpoints.h"
#include "proto_msg.h"

typedef struct _proto_replica_t proto_replica_t;

//  Called for each changed key under the prefix: VALUE is the new value (borrowed), or NULL
//  when the key was deleted.
typedef void(proto_replica_fn) (const char *key, json_t *value, void *arg);

//  Replicate keys under PREFIX ("" for all) from the statestore and bus of ENDPOINTS, as
//  AUTHOR; HEARTBEAT_MS is statestore's heartbeat period. Returns NULL on socket failure.
proto_replica_t *proto_replica_new (const proto_endpoints_t *endpoints, const char *prefix,
                                    const char *author, int heartbeat_ms);

//  Close everything and free the copy. NULL-safe.
void proto_replica_destroy (proto_replica_t **self_p);

//  Call FN (with ARG) for every change from now on.
void proto_replica_set_handler (proto_replica_t *self, proto_replica_fn *fn, void *arg);

//  Register the sockets and timers on LOOP and request the first snapshot.
int proto_replica_attach (proto_replica_t *self, zloop_t *loop);

//  Feed a state.changed or svc.alive message received elsewhere (for owners that share one
//  subscription); the replica's own subscription does this by itself.
void proto_replica_feed (proto_replica_t *self, const proto_msg_t *msg);

//  The value of KEY (borrowed), or NULL.
json_t *proto_replica_get (proto_replica_t *self, const char *key);

//  The revision that last changed KEY, or 0.
int64_t proto_replica_mod_rev (proto_replica_t *self, const char *key);

//  Walk every key and value (borrowed).
void proto_replica_foreach (proto_replica_t *self, proto_replica_fn *fn, void *arg);

//  The revision the copy reflects; 0 before the first snapshot.
int64_t proto_replica_rev (proto_replica_t *self);

//  Whether a snapshot has been applied and no resync is pending.
bool proto_replica_synced (proto_replica_t *self);

//  Snapshots taken after the first one (each one is a detected loss or silence).
uint64_t proto_replica_resyncs (proto_replica_t *self);

//  Number of keys held.
size_t proto_replica_size (proto_replica_t *self);

#endif
