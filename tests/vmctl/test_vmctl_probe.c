/*  vmctl_probe: non-blocking TCP readiness probes on a zloop, on loopback only.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>

#include "vmctl_probe.h"

//  What the loop saw.
typedef struct {
    zloop_t *loop;
    vmctl_probe_t *probe;
    int64_t connected_us;   // 0 until the callback
    int calls;
    int port;
    int family;
    int listener;           // -1 until listening
} s_context_t;

static int
s_listen (int family, int port)
{
    int fd = socket (family, SOCK_STREAM, 0);
    int yes = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    struct sockaddr_storage storage = {0};
    socklen_t length;
    if (family == AF_INET) {
        struct sockaddr_in *address = (struct sockaddr_in *) &storage;
        address->sin_family = AF_INET;
        address->sin_port = htons ((uint16_t) port);
        address->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        length = sizeof *address;
    }
    else {
        struct sockaddr_in6 *address = (struct sockaddr_in6 *) &storage;
        address->sin6_family = AF_INET6;
        address->sin6_port = htons ((uint16_t) port);
        address->sin6_addr = in6addr_loopback;
        length = sizeof *address;
    }
    if (bind (fd, (struct sockaddr *) &storage, length) || listen (fd, 8)) {
        close (fd);
        return -1;
    }
    return fd;
}

//  A port nothing listens on.
static int
s_free_port (int family)
{
    int fd = s_listen (family, 0);
    cr_assert (ge (int, fd, 0));
    struct sockaddr_storage storage;
    socklen_t length = sizeof storage;
    getsockname (fd, (struct sockaddr *) &storage, &length);
    close (fd);
    return ntohs (family == AF_INET ? ((struct sockaddr_in *) &storage)->sin_port
                                    : ((struct sockaddr_in6 *) &storage)->sin6_port);
}

static void
s_on_connected (void *arg, int64_t usecs)
{
    s_context_t *context = (s_context_t *) arg;
    context->connected_us = usecs;
    context->calls++;
}

static int
s_on_check (zloop_t *loop, int timer_id, void *arg)
{
    return ((s_context_t *) arg)->calls ? -1 : 0;
}

static int
s_on_give_up (zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

static int
s_on_start_listening (zloop_t *loop, int timer_id, void *arg)
{
    s_context_t *context = (s_context_t *) arg;
    context->listener = s_listen (context->family, context->port);
    return 0;
}

//  Run the loop until the probe calls back or TIMEOUT_MS pass.
static void
s_run (s_context_t *context, int timeout_ms)
{
    zloop_timer (context->loop, 5, 0, s_on_check, context);
    zloop_timer (context->loop, (size_t) timeout_ms, 1, s_on_give_up, context);
    zloop_start (context->loop);
}

static void
s_context (s_context_t *context, int family)
{
    memset (context, 0, sizeof *context);
    context->loop = zloop_new ();
    context->family = family;
    context->port = s_free_port (family);
    context->listener = -1;
}

static void
s_context_end (s_context_t *context)
{
    vmctl_probe_destroy (&context->probe);
    zloop_destroy (&context->loop);
    if (context->listener >= 0)
        close (context->listener);
}

Test (vmctl_probe, connects_to_a_listener, .timeout = 20)
{
    s_context_t context;
    s_context (&context, AF_INET);
    context.listener = s_listen (AF_INET, context.port);
    context.probe = vmctl_probe_new (context.loop, "127.0.0.1", context.port, 10, 500,
                                     s_on_connected, &context);
    cr_assert (not (eq (ptr, context.probe, NULL)));
    s_run (&context, 5000);
    cr_assert (eq (int, context.calls, 1));
    cr_assert (gt (i64, context.connected_us, 0));
    s_context_end (&context);
}

Test (vmctl_probe, retries_until_a_listener_appears, .timeout = 20)
{
    s_context_t context;
    s_context (&context, AF_INET);
    context.probe = vmctl_probe_new (context.loop, "127.0.0.1", context.port, 10, 500,
                                     s_on_connected, &context);
    zloop_timer (context.loop, 200, 1, s_on_start_listening, &context);
    s_run (&context, 5000);
    cr_assert (eq (int, context.calls, 1));
    cr_assert (gt (u64, vmctl_probe_attempts (context.probe), 1), "refused attempts retried");
    s_context_end (&context);
}

Test (vmctl_probe, connects_over_ipv6, .timeout = 20)
{
    int probe_fd = socket (AF_INET6, SOCK_STREAM, 0);
    if (probe_fd < 0)
        cr_skip_test ("no IPv6 on this host");
    close (probe_fd);
    s_context_t context;
    s_context (&context, AF_INET6);
    context.listener = s_listen (AF_INET6, context.port);
    if (context.listener < 0) {
        s_context_end (&context);
        cr_skip_test ("cannot listen on ::1");
    }
    context.probe = vmctl_probe_new (context.loop, "::1", context.port, 10, 500,
                                     s_on_connected, &context);
    s_run (&context, 5000);
    cr_assert (eq (int, context.calls, 1));
    s_context_end (&context);
}

Test (vmctl_probe, destroyed_probe_never_calls_back, .timeout = 20)
{
    s_context_t context;
    s_context (&context, AF_INET);
    context.probe = vmctl_probe_new (context.loop, "127.0.0.1", context.port, 10, 500,
                                     s_on_connected, &context);
    zloop_timer (context.loop, 50, 1, s_on_give_up, &context);
    zloop_start (context.loop);
    vmctl_probe_destroy (&context.probe);
    context.listener = s_listen (AF_INET, context.port);
    zloop_timer (context.loop, 100, 1, s_on_give_up, &context);
    zloop_start (context.loop);
    cr_assert (eq (int, context.calls, 0));
    s_context_end (&context);
}

Test (vmctl_probe, address_must_parse)
{
    zloop_t *loop = zloop_new ();
    cr_assert (eq (ptr, vmctl_probe_new (loop, "www.example.org", 80, 10, 500, s_on_connected,
                                         NULL), NULL));
    cr_assert (eq (ptr, vmctl_probe_new (loop, "10.0.0.300", 80, 10, 500, s_on_connected, NULL),
                   NULL));
    zloop_destroy (&loop);
}
