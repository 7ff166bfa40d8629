/*  metrics_server: bus in, Prometheus text out.  */

#include <pthread.h>

#include "metrics_collector.h"
#include "metrics_http.h"
#include "metrics_server.h"

#define S_BUS_BATCH 256

struct _metrics_server_t {
    metrics_config_t config;
    pthread_mutex_t lock;             // guards registry, collector and sub's counters
    metrics_registry_t *registry;     // owned
    metrics_collector_t *collector;   // owned
    proto_sub_t *sub;                 // owned: everything on the bus
    proto_pub_t *pub;                 // owned: our svc.alive
    metrics_http_t *http;             // owned: renders from its own thread
};

static char *
s_render (void *argument)
{
    metrics_server_t *self = (metrics_server_t *) argument;
    pthread_mutex_lock (&self->lock);
    metrics_collector_refresh (self->collector, zclock_time (), self->sub);
    char *text = metrics_registry_render (self->registry);
    pthread_mutex_unlock (&self->lock);
    return text;
}

static void
s_on_bus_message (void *argument, const proto_msg_t *msg)
{
    metrics_server_t *self = (metrics_server_t *) argument;
    metrics_collector_apply (self->collector, msg, zclock_time ());
}

//  Not proto_sub_attach: the lock is held over the whole batch, so a render never sees the
//  sub's counters half way through one.
static int
s_on_bus (zloop_t *loop, zsock_t *reader, void *argument)
{
    metrics_server_t *self = (metrics_server_t *) argument;
    pthread_mutex_lock (&self->lock);
    proto_sub_drain (self->sub, S_BUS_BATCH, s_on_bus_message, self);
    pthread_mutex_unlock (&self->lock);
    return 0;
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *argument)
{
    metrics_server_t *self = (metrics_server_t *) argument;
    proto_msg_t msg;
    proto_pub_alive (self->pub, &msg);
    pthread_mutex_lock (&self->lock);
    proto_msg_add_counter (&msg, "messages", (int64_t) proto_sub_received (self->sub));
    proto_msg_add_counter (&msg, "malformed", (int64_t) proto_sub_malformed (self->sub));
    proto_msg_add_counter (&msg, "series_dropped",
                           (int64_t) metrics_registry_dropped (self->registry));
    pthread_mutex_unlock (&self->lock);
    proto_pub_send (self->pub, &msg);
    return 0;
}

metrics_server_t *
metrics_server_new (const metrics_config_t *config)
{
    assert (config);
    metrics_server_t *self = (metrics_server_t *) zmalloc (sizeof (metrics_server_t));
    self->config = *config;
    pthread_mutex_init (&self->lock, NULL);
    self->registry = metrics_registry_new ((size_t) config->series_max);
    self->collector = metrics_collector_new (self->registry, config->stale_heartbeats);
    self->sub = proto_sub_new (config->endpoints.bus_out);
    self->pub = proto_pub_new (config->endpoints.bus_in, "metrics", config->instance);
    if (!self->sub || !self->pub)
        goto failed;
    proto_sub_subscribe (self->sub, "");
    self->http = metrics_http_new (config->address, config->port, s_render, self);
    if (!self->http)
        goto failed;
    return self;
failed:
    metrics_server_destroy (&self);
    return NULL;
}

void
metrics_server_destroy (metrics_server_t **self_p)
{
    assert (self_p);
    metrics_server_t *self = *self_p;
    if (!self)
        return;
    metrics_http_destroy (&self->http);  // first: the HTTP thread uses everything below
    proto_pub_destroy (&self->pub);
    proto_sub_destroy (&self->sub);
    metrics_collector_destroy (&self->collector);
    metrics_registry_destroy (&self->registry);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
metrics_server_attach (metrics_server_t *self, zloop_t *loop)
{
    assert (self && loop);
    if (zloop_reader (loop, proto_sub_sock (self->sub), s_on_bus, self)
        || zloop_timer (loop, (size_t) self->config.heartbeat_ms, 0, s_on_tick, self) < 0)
        return -1;
    return 0;
}

int
metrics_server_port (metrics_server_t *self)
{
    assert (self);
    return metrics_http_port (self->http);
}
