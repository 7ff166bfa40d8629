/*  bus_forwarder: the XSUB/XPUB pair every jitsu process meets on.

    Publishers connect to the XSUB side and subscribers to the XPUB side; messages flow from
    XSUB to XPUB and subscriptions flow back, so publishers only send what someone wants.
    The forwarder does not decode: it moves whole multipart messages and counts them.  */

#ifndef BUS_FORWARDER_H_INCLUDED
#define BUS_FORWARDER_H_INCLUDED

#include <czmq.h>

typedef struct _bus_forwarder_t bus_forwarder_t;

//  Counters the forwarder reports in its heartbeat.
typedef struct {
    uint64_t messages;        // multipart messages forwarded XSUB -> XPUB
    uint64_t bytes;           // payload bytes forwarded
    uint64_t subscribes;      // subscription messages forwarded XPUB -> XSUB
    uint64_t unsubscribes;
    uint64_t send_failures;   // frames the XPUB side refused (it drops at its high-water mark)
} bus_forwarder_stats_t;

//  Bind XSUB on IN_ENDPOINT and XPUB on OUT_ENDPOINT (no "@" prefix) with high-water mark HWM.
//  Returns NULL (logged) when a bind fails.
bus_forwarder_t *bus_forwarder_new (const char *in_endpoint, const char *out_endpoint, int hwm);

//  Unbind and close both sockets. NULL-safe.
void bus_forwarder_destroy (bus_forwarder_t **self_p);

//  Register both sockets' readers on LOOP. Returns 0, or -1.
int bus_forwarder_attach (bus_forwarder_t *self, zloop_t *loop);

//  The counters so far (borrowed).
const bus_forwarder_stats_t *bus_forwarder_stats (bus_forwarder_t *self);

#endif
