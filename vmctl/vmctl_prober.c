/*  vmctl_prober: connect, wait for writable, read SO_ERROR, retry; retire, then free.  */

#include <netinet/in.h>

#include "vmctl_prober.h"
#include "proto_addr.h"

//  One probe.
typedef struct {
    vmctl_prober_t *owner;           // borrowed
    char name[64];
    struct sockaddr_storage address;
    socklen_t address_length;
    int fd;                          // the attempt in progress, -1 between attempts
    int retry_timer;                 // zloop timer ids, -1 when none
    int attempt_timer;
    bool retired;                    // stopped: its handlers return at once
    uint64_t attempts;
} s_probe_t;

struct _vmctl_prober_t {
    zloop_t *loop;                   // borrowed
    int interval_ms;
    int attempt_ms;
    vmctl_prober_fn *fn;
    void *arg;
    zhashx_t *running;               // owned: name -> s_probe_t * (freed through retirement)
    zlistx_t *retired;               // owned: s_probe_t * retired since the last sweep
    zlistx_t *expired;               // owned: s_probe_t * retired before it: freed next sweep
    int sweep_timer;
};

static void s_attempt (s_probe_t *probe);

static void
s_close_attempt (s_probe_t *probe)
{
    zloop_t *loop = probe->owner->loop;
    if (probe->fd >= 0) {
        zmq_pollitem_t item = {NULL, probe->fd, ZMQ_POLLOUT, 0};
        zloop_poller_end (loop, &item);
        close (probe->fd);
        probe->fd = -1;
    }
    if (probe->attempt_timer >= 0) {
        zloop_timer_end (loop, probe->attempt_timer);
        probe->attempt_timer = -1;
    }
}

//  Stop PROBE for good; it is freed two sweeps later.
static void
s_retire (s_probe_t *probe)
{
    if (probe->retired)
        return;
    vmctl_prober_t *self = probe->owner;
    s_close_attempt (probe);
    if (probe->retry_timer >= 0) {
        zloop_timer_end (self->loop, probe->retry_timer);
        probe->retry_timer = -1;
    }
    probe->retired = true;
    if (zhashx_lookup (self->running, probe->name) == probe)
        zhashx_delete (self->running, probe->name);
    zlistx_add_end (self->retired, probe);
}

static int
s_on_retry (zloop_t *loop, int timer_id, void *argument)
{
    s_probe_t *probe = (s_probe_t *) argument;
    if (probe->retired)
        return 0;
    probe->retry_timer = -1;
    s_attempt (probe);
    return 0;
}

static void
s_retry_later (s_probe_t *probe, int delay_ms)
{
    s_close_attempt (probe);
    if (probe->retry_timer < 0)
        probe->retry_timer =
            zloop_timer (probe->owner->loop, (size_t) delay_ms, 1, s_on_retry, probe);
}

static void
s_succeed (s_probe_t *probe)
{
    int64_t usecs = zclock_usecs ();
    vmctl_prober_t *self = probe->owner;
    s_retire (probe);
    self->fn (self->arg, probe->name, usecs);  // PROBE stays allocated until swept
}

static int
s_on_writable (zloop_t *loop, zmq_pollitem_t *item, void *argument)
{
    s_probe_t *probe = (s_probe_t *) argument;
    if (probe->retired || probe->fd < 0)
        return 0;
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt (probe->fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0)
        s_succeed (probe);
    else
        s_retry_later (probe, probe->owner->interval_ms);
    return 0;
}

static int
s_on_attempt_timeout (zloop_t *loop, int timer_id, void *argument)
{
    s_probe_t *probe = (s_probe_t *) argument;
    if (probe->retired)
        return 0;
    probe->attempt_timer = -1;
    s_retry_later (probe, 1);  // a fresh attempt at once: the old one may wait on ARP
    return 0;
}

static void
s_attempt (s_probe_t *probe)
{
    vmctl_prober_t *self = probe->owner;
    probe->attempts++;
    probe->fd = socket (probe->address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe->fd < 0) {
        s_retry_later (probe, self->interval_ms);
        return;
    }
    int rc;
    do
        rc = connect (probe->fd, (struct sockaddr *) &probe->address, probe->address_length);
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        s_succeed (probe);
        return;
    }
    if (errno != EINPROGRESS) {
        s_retry_later (probe, self->interval_ms);
        return;
    }
    zmq_pollitem_t item = {NULL, probe->fd, ZMQ_POLLOUT, 0};
    if (zloop_poller (self->loop, &item, s_on_writable, probe)) {
        s_retry_later (probe, self->interval_ms);
        return;
    }
    zloop_poller_set_tolerant (self->loop, &item);
    probe->attempt_timer =
        zloop_timer (self->loop, (size_t) self->attempt_ms, 1, s_on_attempt_timeout, probe);
}

static void
s_free_all (zlistx_t *list)
{
    for (s_probe_t *probe = (s_probe_t *) zlistx_first (list); probe;
         probe = (s_probe_t *) zlistx_next (list))
        free (probe);
    zlistx_purge (list);
}

//  Free what was retired before the last sweep: no handler of it can run any more.
static int
s_on_sweep (zloop_t *loop, int timer_id, void *argument)
{
    vmctl_prober_t *self = (vmctl_prober_t *) argument;
    s_free_all (self->expired);
    zlistx_t *swap = self->expired;
    self->expired = self->retired;
    self->retired = swap;
    return 0;
}

vmctl_prober_t *
vmctl_prober_new (zloop_t *loop, int interval_ms, int attempt_ms, vmctl_prober_fn *fn,
                  void *arg)
{
    assert (loop && fn);
    vmctl_prober_t *self = (vmctl_prober_t *) zmalloc (sizeof (vmctl_prober_t));
    self->loop = loop;
    self->interval_ms = interval_ms > 0 ? interval_ms : 1;
    self->attempt_ms = attempt_ms > 0 ? attempt_ms : 500;
    self->fn = fn;
    self->arg = arg;
    self->running = zhashx_new ();
    self->retired = zlistx_new ();
    self->expired = zlistx_new ();
    self->sweep_timer = zloop_timer (loop, VMCTL_PROBER_SWEEP_MS, 0, s_on_sweep, self);
    if (self->sweep_timer < 0)
        vmctl_prober_destroy (&self);
    return self;
}

void
vmctl_prober_destroy (vmctl_prober_t **self_p)
{
    assert (self_p);
    vmctl_prober_t *self = *self_p;
    if (!self)
        return;
    zlistx_t *names = zhashx_keys (self->running);
    for (const char *name = (const char *) zlistx_first (names); name;
         name = (const char *) zlistx_next (names))
        vmctl_prober_stop (self, name);
    zlistx_destroy (&names);
    if (self->sweep_timer >= 0)
        zloop_timer_end (self->loop, self->sweep_timer);
    s_free_all (self->retired);
    s_free_all (self->expired);
    zlistx_destroy (&self->retired);
    zlistx_destroy (&self->expired);
    zhashx_destroy (&self->running);
    free (self);
    *self_p = NULL;
}

int
vmctl_prober_start (vmctl_prober_t *self, const char *name, const char *ip, int port)
{
    assert (self && name && ip);
    s_probe_t *probe = (s_probe_t *) zmalloc (sizeof (s_probe_t));
    probe->owner = self;
    probe->fd = -1;
    probe->retry_timer = probe->attempt_timer = -1;
    snprintf (probe->name, sizeof probe->name, "%s", name);
    if (proto_addr_parse (ip, port, &probe->address, &probe->address_length)) {
        free (probe);
        return -1;
    }
    vmctl_prober_stop (self, name);
    zhashx_insert (self->running, probe->name, probe);
    //  The first attempt is made from the loop, so a success never calls back inside start.
    probe->retry_timer = zloop_timer (self->loop, 1, 1, s_on_retry, probe);
    return 0;
}

void
vmctl_prober_stop (vmctl_prober_t *self, const char *name)
{
    assert (self && name);
    s_probe_t *probe = (s_probe_t *) zhashx_lookup (self->running, name);
    if (probe)
        s_retire (probe);
}

size_t
vmctl_prober_running (vmctl_prober_t *self)
{
    assert (self);
    return zhashx_size (self->running);
}

size_t
vmctl_prober_retired (vmctl_prober_t *self)
{
    assert (self);
    return zlistx_size (self->retired) + zlistx_size (self->expired);
}

uint64_t
vmctl_prober_attempts (vmctl_prober_t *self, const char *name)
{
    assert (self && name);
    s_probe_t *probe = (s_probe_t *) zhashx_lookup (self->running, name);
    return probe ? probe->attempts : 0;
}
