/*  vmctl_probe: connect, wait for writable, read SO_ERROR, retry.  */

#include <arpa/inet.h>
#include <netinet/in.h>

#include "vmctl_probe.h"

struct _vmctl_probe_t {
    zloop_t *loop;                 // borrowed
    struct sockaddr_storage address;
    socklen_t address_length;
    int interval_ms;
    int attempt_ms;
    int fd;                        // the attempt in progress, -1 between attempts
    int retry_timer;               // zloop timer id, -1 when none
    int attempt_timer;             // zloop timer id, -1 when none
    bool done;
    uint64_t attempts;
    vmctl_probe_fn *fn;
    void *arg;
};

static void s_attempt (vmctl_probe_t *self);

static void
s_close_attempt (vmctl_probe_t *self)
{
    if (self->fd >= 0) {
        zmq_pollitem_t item = {NULL, self->fd, ZMQ_POLLOUT, 0};
        zloop_poller_end (self->loop, &item);
        close (self->fd);
        self->fd = -1;
    }
    if (self->attempt_timer >= 0) {
        zloop_timer_end (self->loop, self->attempt_timer);
        self->attempt_timer = -1;
    }
}

static int
s_on_retry (zloop_t *loop, int timer_id, void *argument)
{
    vmctl_probe_t *self = (vmctl_probe_t *) argument;
    self->retry_timer = -1;
    s_attempt (self);
    return 0;
}

static void
s_retry_later (vmctl_probe_t *self, int delay_ms)
{
    s_close_attempt (self);
    if (self->retry_timer < 0)
        self->retry_timer = zloop_timer (self->loop, (size_t) delay_ms, 1, s_on_retry, self);
}

static void
s_succeed (vmctl_probe_t *self)
{
    int64_t usecs = zclock_usecs ();
    s_close_attempt (self);
    self->done = true;
    self->fn (self->arg, usecs);  // may destroy SELF: nothing after this
}

static int
s_on_writable (zloop_t *loop, zmq_pollitem_t *item, void *argument)
{
    vmctl_probe_t *self = (vmctl_probe_t *) argument;
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt (self->fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0)
        s_succeed (self);
    else
        s_retry_later (self, self->interval_ms);
    return 0;
}

static int
s_on_attempt_timeout (zloop_t *loop, int timer_id, void *argument)
{
    vmctl_probe_t *self = (vmctl_probe_t *) argument;
    self->attempt_timer = -1;
    s_retry_later (self, 1);  // a fresh attempt at once: the old one may wait on ARP
    return 0;
}

static void
s_attempt (vmctl_probe_t *self)
{
    if (self->done)
        return;
    self->attempts++;
    self->fd = socket (self->address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (self->fd < 0) {
        s_retry_later (self, self->interval_ms);
        return;
    }
    int rc;
    do
        rc = connect (self->fd, (struct sockaddr *) &self->address, self->address_length);
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        s_succeed (self);
        return;
    }
    if (errno != EINPROGRESS) {
        s_retry_later (self, self->interval_ms);
        return;
    }
    zmq_pollitem_t item = {NULL, self->fd, ZMQ_POLLOUT, 0};
    if (zloop_poller (self->loop, &item, s_on_writable, self)) {
        s_retry_later (self, self->interval_ms);
        return;
    }
    zloop_poller_set_tolerant (self->loop, &item);
    self->attempt_timer =
        zloop_timer (self->loop, (size_t) self->attempt_ms, 1, s_on_attempt_timeout, self);
}

vmctl_probe_t *
vmctl_probe_new (zloop_t *loop, const char *ip, int port, int interval_ms, int attempt_ms,
                 vmctl_probe_fn *fn, void *arg)
{
    assert (loop && ip && fn);
    vmctl_probe_t *self = (vmctl_probe_t *) zmalloc (sizeof (vmctl_probe_t));
    self->fd = -1;
    self->retry_timer = self->attempt_timer = -1;
    self->loop = loop;
    self->interval_ms = interval_ms > 0 ? interval_ms : 1;
    self->attempt_ms = attempt_ms > 0 ? attempt_ms : 500;
    self->fn = fn;
    self->arg = arg;
    struct sockaddr_in *ipv4 = (struct sockaddr_in *) &self->address;
    struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *) &self->address;
    if (inet_pton (AF_INET, ip, &ipv4->sin_addr) == 1) {
        ipv4->sin_family = AF_INET;
        ipv4->sin_port = htons ((uint16_t) port);
        self->address_length = sizeof *ipv4;
    }
    else if (inet_pton (AF_INET6, ip, &ipv6->sin6_addr) == 1) {
        ipv6->sin6_family = AF_INET6;
        ipv6->sin6_port = htons ((uint16_t) port);
        self->address_length = sizeof *ipv6;
    }
    else {
        free (self);
        return NULL;
    }
    //  The first attempt is made from the loop, so a success never calls back inside new.
    self->retry_timer = zloop_timer (loop, 1, 1, s_on_retry, self);
    return self;
}

void
vmctl_probe_destroy (vmctl_probe_t **self_p)
{
    assert (self_p);
    vmctl_probe_t *self = *self_p;
    if (!self)
        return;
    s_close_attempt (self);
    if (self->retry_timer >= 0)
        zloop_timer_end (self->loop, self->retry_timer);
    free (self);
    *self_p = NULL;
}

uint64_t
vmctl_probe_attempts (vmctl_probe_t *self)
{
    assert (self);
    return self->attempts;
}
