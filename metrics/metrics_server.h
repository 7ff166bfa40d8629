/*  metrics_server: the exporter itself: a bus tap that feeds the registry, a heartbeat of its
    own, and the HTTP page that renders the registry.

    Two threads meet here: the bus loop writes the registry and the HTTP thread renders it; one
    lock guards everything both touch.  */

#ifndef METRICS_SERVER_H_INCLUDED
#define METRICS_SERVER_H_INCLUDED

#include "metrics_config.h"

typedef struct _metrics_server_t metrics_server_t;

//  Connect to the bus and start serving HTTP as CONFIG (copied) says. Returns NULL (logged)
//  when a socket cannot be opened or the HTTP listener cannot be bound.
metrics_server_t *metrics_server_new (const metrics_config_t *config);

//  Stop serving HTTP first (its thread reads everything else), then close the rest. NULL-safe.
void metrics_server_destroy (metrics_server_t **self_p);

//  Register the bus reader and the heartbeat timer on LOOP (borrowed). Returns 0, or -1.
int metrics_server_attach (metrics_server_t *self, zloop_t *loop);

//  The HTTP port actually bound.
int metrics_server_port (metrics_server_t *self);

#endif
