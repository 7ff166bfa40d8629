/*  proto_sub: a process's subscription to the bus.

    Receives [topic][json] messages from the bus's XPUB side, decodes them, and keeps the
    counters a receiver needs to be honest about pub/sub: messages received, dropped as
    malformed (by class), and sequence gaps per publisher. proto_sub_drain is the reader
    handler every process runs: a bounded batch, malformed messages counted and warned about
    at most once a second, the good ones handed on.  */

#ifndef PROTO_SUB_H_INCLUDED
#define PROTO_SUB_H_INCLUDED

#include <czmq.h>
#include "proto_msg.h"

#define PROTO_SUB_SOURCES_MAX 1024  // publishers tracked for gaps before the table is reset

typedef struct _proto_sub_t proto_sub_t;

//  Connect to the bus output ENDPOINT. Subscribes to nothing until proto_sub_subscribe.
//  Returns NULL when the socket cannot be created or connected.
proto_sub_t *proto_sub_new (const char *endpoint);

//  Close the socket. NULL-safe.
void proto_sub_destroy (proto_sub_t **self_p);

//  Receive topics starting with PREFIX ("" for everything).
void proto_sub_subscribe (proto_sub_t *self, const char *prefix);

//  Receive and decode one message without blocking. Returns 0 with MSG filled (it must have
//  been initialised with proto_msg_init), -1 when nothing is waiting, or -2 when the message
//  was malformed (counted; ERROR says why; MSG->topic holds the topic frame if it had one).
int proto_sub_recv (proto_sub_t *self, proto_msg_t *msg, proto_error_t *error);

//  Called by proto_sub_drain for each well-formed message; MSG is borrowed for the call.
typedef void (proto_sub_fn) (void *arg, const proto_msg_t *msg);

//  Receive up to MAX messages without blocking and call FN (with ARG) for each well-formed
//  one. Malformed ones are counted (proto_sub_malformed) and logged as a warning at most once
//  a second. Returns the number of messages received, well-formed or not.
int proto_sub_drain (proto_sub_t *self, int max, proto_sub_fn *fn, void *arg);

//  Register the socket on LOOP (borrowed): whenever messages wait, proto_sub_drain hands up to
//  MAX of them to FN (with ARG). A caller that must hold a lock around the whole batch runs
//  its own zloop_reader and drains inside it instead. Returns 0, or -1.
int proto_sub_attach (proto_sub_t *self, zloop_t *loop, int max, proto_sub_fn *fn, void *arg);

//  The socket, for zloop_reader and zpoller (borrowed).
zsock_t *proto_sub_sock (proto_sub_t *self);

//  Counters since creation.
uint64_t proto_sub_received (proto_sub_t *self);
uint64_t proto_sub_malformed (proto_sub_t *self);
uint64_t proto_sub_malformed_by (proto_sub_t *self, proto_errcode_t code);
uint64_t proto_sub_gaps (proto_sub_t *self);  // messages missing between two seen from one src

#endif
