/*  proto_pub: a process's publisher on the bus.

    Stamps every message with the process's src ("dnsd/1"), a per-process sequence number that
    starts at 1, and the time, then sends [topic][json] to the bus's XSUB side.  */

#ifndef PROTO_PUB_H_INCLUDED
#define PROTO_PUB_H_INCLUDED

#include <czmq.h>
#include "proto_msg.h"

typedef struct _proto_pub_t proto_pub_t;

//  Connect to the bus input ENDPOINT ("ipc://..." without prefix) as NAME/INSTANCE. Returns
//  NULL when the socket cannot be created or the names are too long.
proto_pub_t *proto_pub_new (const char *endpoint, const char *name, const char *instance);

//  Close the socket (pending messages are given up to a short linger). NULL-safe.
void proto_pub_destroy (proto_pub_t **self_p);

//  Stamp src, seq and ts into MSG and send it. Consumes MSG: it is reset (proto_msg_reset)
//  once sent, and also when sending failed. Returns 0, or -1 when MSG does not encode (logged
//  with the reason) or the send failed. Never blocks: at the high-water mark the message is
//  dropped, as pub/sub does.
int proto_pub_send (proto_pub_t *self, proto_msg_t *msg);

//  Wait up to TIMEOUT_MS until some subscriber on the bus wants TOPIC, so a message sent just
//  after connecting is not lost to the slow-joiner race. Returns 0, or -1 on timeout.
int proto_pub_await (proto_pub_t *self, const char *topic, int timeout_ms);

//  Initialise MSG as this process's svc.alive (name, instance, pid, version, uptime); the caller
//  adds its counters with proto_msg_add_counter and sends it.
void proto_pub_alive (proto_pub_t *self, proto_msg_t *msg);

//  The "name/instance" this publisher stamps (borrowed).
const char *proto_pub_src (proto_pub_t *self);

//  Messages sent and messages that failed to encode or send.
uint64_t proto_pub_sent (proto_pub_t *self);
uint64_t proto_pub_failed (proto_pub_t *self);

#endif
