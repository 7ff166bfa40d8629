/*  vmctl_prober: non-blocking TCP readiness probes on a zloop, on loopback only.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>

#include "test_support.h"
#include "vmctl_prober.h"

//  What the loop saw.
typedef struct {
    zloop_t *loop;
    vmctl_prober_t *prober;
    int64_t connected_us;   // 0 until a callback
    int calls;
    char last[64];          // the name of the last probe that connected
    int port;
    int family;
    int listener;           // -1 until listening
    int toggles;            // s_on_toggle: how many times it stopped or started the probe
} s_context_t;

static void
s_on_connected (void *arg, const char *name, int64_t usecs)
{
    s_context_t *context = (s_context_t *) arg;
    context->connected_us = usecs;
    context->calls++;
    snprintf (context->last, sizeof context->last, "%s", name);
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
    context->listener = test_listen (context->family, context->port, 64);
    return 0;
}

//  Run the loop until a probe calls back or TIMEOUT_MS pass.
static void
s_run (s_context_t *context, int timeout_ms)
{
    int check = zloop_timer (context->loop, 5, 0, s_on_check, context);
    int give_up = zloop_timer (context->loop, (size_t) timeout_ms, 1, s_on_give_up, context);
    zloop_start (context->loop);
    zloop_timer_end (context->loop, check);
    zloop_timer_end (context->loop, give_up);
}

static void
s_context (s_context_t *context, int family)
{
    memset (context, 0, sizeof *context);
    context->loop = zloop_new ();
    context->family = family;
    context->port = test_free_port (family);
    cr_assert (gt (int, context->port, 0));
    context->listener = -1;
    context->prober = vmctl_prober_new (context->loop, 10, 500, s_on_connected, context);
    cr_assert (not (eq (ptr, context->prober, NULL)));
}

//  A context on AF_INET with the probe "www" started towards 127.0.0.1 at the context's port.
static void
s_context_probing (s_context_t *context)
{
    s_context (context, AF_INET);
    cr_assert (eq (int, vmctl_prober_start (context->prober, "www", "127.0.0.1", context->port),
                   0));
}

static void
s_context_end (s_context_t *context)
{
    vmctl_prober_destroy (&context->prober);
    zloop_destroy (&context->loop);
    if (context->listener >= 0)
        close (context->listener);
}

Test (vmctl_prober, connects_to_a_listener, .timeout = 20)
{
    s_context_t context;
    s_context (&context, AF_INET);
    context.listener = test_listen (AF_INET, context.port, 64);
    cr_assert (eq (int, vmctl_prober_start (context.prober, "www", "127.0.0.1", context.port),
                   0));
    s_run (&context, 5000);
    cr_assert (eq (int, context.calls, 1));
    cr_assert (eq (str, context.last, "www"));
    cr_assert (gt (i64, context.connected_us, 0));
    cr_assert (eq (sz, vmctl_prober_running (context.prober), 0), "a probe ends on success");
    s_context_end (&context);
}

Test (vmctl_prober, retries_until_a_listener_appears, .timeout = 20)
{
    s_context_t context;
    s_context_probing (&context);
    zloop_timer (context.loop, 200, 1, s_on_start_listening, &context);
    s_run (&context, 5000);
    cr_assert (eq (int, context.calls, 1));
    s_context_end (&context);
}

Test (vmctl_prober, refused_attempts_are_retried, .timeout = 20)
{
    s_context_t context;
    s_context_probing (&context);
    s_run (&context, 200);
    cr_assert (eq (int, context.calls, 0));
    cr_assert (gt (u64, vmctl_prober_attempts (context.prober, "www"), 3));
    s_context_end (&context);
}

Test (vmctl_prober, connects_over_ipv6, .timeout = 20)
{
    int probe_fd = socket (AF_INET6, SOCK_STREAM, 0);
    if (probe_fd < 0)
        cr_skip_test ("no IPv6 on this host");
    close (probe_fd);
    s_context_t context;
    s_context (&context, AF_INET6);
    context.listener = test_listen (AF_INET6, context.port, 64);
    if (context.listener < 0) {
        s_context_end (&context);
        cr_skip_test ("cannot listen on ::1");
    }
    vmctl_prober_start (context.prober, "www", "::1", context.port);
    s_run (&context, 5000);
    cr_assert (eq (int, context.calls, 1));
    s_context_end (&context);
}

Test (vmctl_prober, stopped_probe_never_calls_back, .timeout = 20)
{
    s_context_t context;
    s_context_probing (&context);
    s_run (&context, 50);
    vmctl_prober_stop (context.prober, "www");
    context.listener = test_listen (AF_INET, context.port, 64);
    s_run (&context, 100);
    cr_assert (eq (int, context.calls, 0));
    cr_assert (eq (sz, vmctl_prober_running (context.prober), 0));
    cr_assert (eq (sz, vmctl_prober_retired (context.prober), 1), "freed only later");
    s_context_end (&context);
}

Test (vmctl_prober, retired_probes_are_freed_after_two_sweeps, .timeout = 20)
{
    s_context_t context;
    s_context (&context, AF_INET);
    vmctl_prober_start (context.prober, "a", "127.0.0.1", context.port);
    vmctl_prober_start (context.prober, "a", "127.0.0.1", context.port);  // replaces the first
    cr_assert (eq (sz, vmctl_prober_running (context.prober), 1));
    cr_assert (eq (sz, vmctl_prober_retired (context.prober), 1));
    vmctl_prober_stop (context.prober, "a");
    s_run (&context, 2 * VMCTL_PROBER_SWEEP_MS + 200);
    cr_assert (eq (sz, vmctl_prober_retired (context.prober), 0));
    s_context_end (&context);
}

//  Every millisecond, stop or restart the probe from a timer: its own retry timer and
//  poller are often due in the same zloop iteration. (Bug: a probe freed by another handler
//  was then called back by its own timer; the sanitizer build caught it.)
static int
s_on_toggle (zloop_t *loop, int timer_id, void *arg)
{
    s_context_t *context = (s_context_t *) arg;
    if (context->toggles++ % 2)
        vmctl_prober_start (context->prober, "www", "127.0.0.1", context->port);
    else
        vmctl_prober_stop (context->prober, "www");
    return 0;
}

Test (vmctl_prober, stopping_probes_from_other_handlers_is_safe, .timeout = 30)
{
    s_context_t context;
    s_context (&context, AF_INET);
    vmctl_prober_destroy (&context.prober);
    context.prober = vmctl_prober_new (context.loop, 1, 500, s_on_connected, &context);
    vmctl_prober_start (context.prober, "www", "127.0.0.1", context.port);
    zloop_timer (context.loop, 1, 0, s_on_toggle, &context);
    zloop_timer (context.loop, 3000, 1, s_on_give_up, &context);
    zloop_start (context.loop);
    cr_assert (gt (int, context.toggles, 100));
    cr_assert (eq (int, context.calls, 0), "nothing listens");
    s_context_end (&context);
}

Test (vmctl_prober, address_must_parse)
{
    s_context_t context;
    s_context (&context, AF_INET);
    cr_assert (eq (int, vmctl_prober_start (context.prober, "a", "www.example.org", 80), -1));
    cr_assert (eq (int, vmctl_prober_start (context.prober, "a", "10.0.0.300", 80), -1));
    cr_assert (eq (sz, vmctl_prober_running (context.prober), 0));
    s_context_end (&context);
}
