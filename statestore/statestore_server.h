/*  statestore_server: the request API of PROTOCOL.md on a ROUTER socket, with group commit.

    Requests that arrive together are handled as one group: every write becomes its own
    commit, all commits of the group go to disk in one pack with one ref update, then every
    request of the group is answered and one state.changed per commit is published. A write
    is never acknowledged before it is durable, and reads in the group see its writes.  */

#ifndef STATESTORE_SERVER_H_INCLUDED
#define STATESTORE_SERVER_H_INCLUDED

#include "statestore_config.h"

typedef struct _statestore_server_t statestore_server_t;

//  Open the repository, load the state and bind the request socket, as CONFIG (borrowed, must
//  outlive the server) says. Returns NULL with REASON filled on failure.
statestore_server_t *statestore_server_new (const statestore_config_t *config, char *reason,
                                            size_t reason_size);

//  Stop the repack actor, close sockets and the repository. NULL-safe.
void statestore_server_destroy (statestore_server_t **self_p);

//  Register the request socket, the repack actor and the heartbeat timer on LOOP.
int statestore_server_attach (statestore_server_t *self, zloop_t *loop);

//  The current revision.
int64_t statestore_server_rev (statestore_server_t *self);

#endif
