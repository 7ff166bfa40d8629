/*  metrics_http: GET /metrics over HTTP, served by libmicrohttpd in its own thread.  */

#ifndef METRICS_HTTP_H_INCLUDED
#define METRICS_HTTP_H_INCLUDED

#include <stdint.h>

typedef struct _metrics_http_t metrics_http_t;

//  Produce the page. Called from the HTTP thread; returns text the server frees.
typedef char *(metrics_http_render_fn) (void *arg);

//  Listen on ADDRESS:PORT (IPv4 or IPv6 literal; PORT 0 picks one) and answer GET /metrics
//  with RENDER's text. Returns NULL (logged) when the socket cannot be bound.
metrics_http_t *metrics_http_new (const char *address, int port, metrics_http_render_fn *render,
                                  void *arg);

//  Stop serving. NULL-safe.
void metrics_http_destroy (metrics_http_t **self_p);

//  The port actually bound.
int metrics_http_port (metrics_http_t *self);

//  Requests answered so far.
uint64_t metrics_http_requests (metrics_http_t *self);

#endif
