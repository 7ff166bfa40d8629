/*  proto_state_client: requests to statestore, with timeouts and retries.

    Each request gets an id and this client's name, so statestore answers a retried write from
    its reply cache instead of applying it twice. A request is re-sent every timeout until it
    is answered or its retries run out (timeout x (retries + 1) in all); statestore restarting
    only delays answers. While the connection is not up yet, sending is retried every tick.

    Asynchronous use (services): attach to the zloop, send with a callback. Synchronous use
    (jitsuctl, tests): proto_state_client_call.  */

#ifndef PROTO_STATE_CLIENT_H_INCLUDED
#define PROTO_STATE_CLIENT_H_INCLUDED

#include <czmq.h>
#include <jansson.h>

#define PROTO_STATE_TIMEOUT_MS 1000  // default wait before a request is re-sent
#define PROTO_STATE_RETRIES    5     // default re-sends before giving up

typedef struct _proto_state_client_t proto_state_client_t;

//  Called once per request: with the reply (borrowed; "ok" true or false), or with NULL when
//  every retry timed out.
typedef void(proto_state_reply_fn) (json_t *reply, void *arg);

//  Connect to statestore at ENDPOINT as AUTHOR ("vmctl/1"), which becomes the commit author of
//  writes that do not name one. Returns NULL when the socket cannot be created.
proto_state_client_t *proto_state_client_new (const char *endpoint, const char *author);

//  Close the socket; pending callbacks are dropped without being called. NULL-safe.
void proto_state_client_destroy (proto_state_client_t **self_p);

//  Send REQUEST (a reference is consumed) and call FN with its reply later. TIMEOUT_MS and
//  RETRIES <= 0 take the defaults. Returns 0, or -1 when REQUEST is not an object.
int proto_state_client_send (proto_state_client_t *self, json_t *request, int timeout_ms,
                             int retries, proto_state_reply_fn *fn, void *arg);

//  Send REQUEST (consumed) and wait for its reply. Returns the reply (the caller owns it), or
//  NULL when every retry timed out or the process was interrupted. Replies to asynchronous
//  requests that arrive meanwhile are dispatched to their callbacks.
json_t *proto_state_client_call (proto_state_client_t *self, json_t *request, int timeout_ms,
                                 int retries);

//  The entries of a snapshot REPLY (borrowed) as one object key -> value (a new reference);
//  empty when REPLY holds no entries.
json_t *proto_state_client_values (json_t *reply);

//  Register the socket and a retry timer on LOOP.
int proto_state_client_attach (proto_state_client_t *self, zloop_t *loop);

//  Requests sent and not yet answered or given up.
size_t proto_state_client_pending (proto_state_client_t *self);

//  Requests given up after their last retry.
uint64_t proto_state_client_timeouts (proto_state_client_t *self);

#endif
