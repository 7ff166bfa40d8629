/*  dnsd_server: dnsd's I/O, wired to its zloop.

    Binds the UDP and TCP sockets at once (so a clash stops start-up), keeps the table in sync
    with statestore through a proto_replica of /services, hears vm.* events on the bus, and
    starts answering once the first snapshot is in (or sync_wait_ms passed). Every message
    goes through dnsd_handler; the server acts on its verdict: answer (UDP answers leave in
    sendmmsg batches), forward (dnsd_forward), hold (dnsd_waitlist), drop. It publishes
    vm.boot, coalesced dns.hits and svc.alive.  */

#ifndef DNSD_SERVER_H_INCLUDED
#define DNSD_SERVER_H_INCLUDED

#include "dnsd_config.h"

typedef struct _dnsd_server_t dnsd_server_t;

//  Bind CONFIG's addresses and connect to the bus and statestore. CONFIG is borrowed and must
//  outlive the server. Returns NULL (logged) when a socket cannot be bound or connected.
dnsd_server_t *dnsd_server_new (const dnsd_config_t *config, bool verbose);

//  Close everything. NULL-safe.
void dnsd_server_destroy (dnsd_server_t **self_p);

//  Register readers, pollers and timers on LOOP. Returns 0, or -1.
int dnsd_server_attach (dnsd_server_t *self, zloop_t *loop);

//  The port bound (useful with port 0).
int dnsd_server_port (dnsd_server_t *self);

//  Messages handled so far, for the exit log line.
uint64_t dnsd_server_queries (dnsd_server_t *self);

#endif
