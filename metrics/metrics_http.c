/*  metrics_http: a libmicrohttpd daemon with one page.  */

#include <czmq.h>
#include <microhttpd.h>

#include "metrics_http.h"
#include "proto_addr.h"

struct _metrics_http_t {
    struct MHD_Daemon *daemon;      // owned
    metrics_http_render_fn *render;
    void *arg;
    int port;
    volatile uint64_t requests;
};

static enum MHD_Result
s_on_request (void *argument, struct MHD_Connection *connection, const char *url,
              const char *method, const char *version, const char *upload_data,
              size_t *upload_size, void **state)
{
    metrics_http_t *self = (metrics_http_t *) argument;
    self->requests++;
    unsigned int status = MHD_HTTP_OK;
    char *body;
    if (strcmp (method, "GET") && strcmp (method, "HEAD")) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        body = strdup ("only GET\n");
    }
    else if (strcmp (url, "/metrics")) {
        status = MHD_HTTP_NOT_FOUND;
        body = strdup ("try /metrics\n");
    }
    else
        body = self->render (self->arg);
    if (!body)
        return MHD_NO;
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_FREE);
    if (status == MHD_HTTP_OK)
        MHD_add_response_header (response, "Content-Type",
                                 "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result result = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return result;
}

metrics_http_t *
metrics_http_new (const char *address, int port, metrics_http_render_fn *render, void *arg)
{
    metrics_http_t *self = (metrics_http_t *) zmalloc (sizeof (metrics_http_t));
    self->render = render;
    self->arg = arg;
    struct sockaddr_storage storage;
    socklen_t length;
    if (proto_addr_parse (address, port, &storage, &length)) {
        zsys_error ("metrics_http: not an address: %s", address);
        free (self);
        return NULL;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (storage.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    self->daemon = MHD_start_daemon (flags, (uint16_t) port, NULL, NULL, s_on_request, self,
                                     MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &storage,
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
                                     MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 64,
                                     MHD_OPTION_END);
    if (!self->daemon) {
        zsys_error ("metrics_http: MHD_start_daemon failed address=%s port=%d", address, port);
        free (self);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (self->daemon,
                                                            MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : port;
    return self;
}

void
metrics_http_destroy (metrics_http_t **self_p)
{
    assert (self_p);
    metrics_http_t *self = *self_p;
    if (!self)
        return;
    MHD_stop_daemon (self->daemon);
    free (self);
    *self_p = NULL;
}

int
metrics_http_port (metrics_http_t *self)
{
    assert (self);
    return self->port;
}

uint64_t
metrics_http_requests (metrics_http_t *self)
{
    assert (self);
    return self->requests;
}
