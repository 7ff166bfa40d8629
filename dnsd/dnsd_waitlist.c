/*  dnsd_waitlist: per-service lists of held queries, and the list of services holding some. */

#include "dnsd_waitlist.h"

struct _dnsd_waitlist_t {
    size_t max;
    size_t size;
    dnsd_service_t *services;  // borrowed: services with held queries (waiting_next)
};

dnsd_waitlist_t *
dnsd_waitlist_new (size_t max)
{
    dnsd_waitlist_t *self = (dnsd_waitlist_t *) zmalloc (sizeof (dnsd_waitlist_t));
    self->max = max;
    return self;
}

static void
s_take (dnsd_waitlist_t *self, dnsd_waiter_t *waiter)
{
    dnsd_service_t *service = waiter->service;
    if (waiter->prev)
        waiter->prev->next = waiter->next;
    else
        service->waiters_head = waiter->next;
    if (waiter->next)
        waiter->next->prev = waiter->prev;
    else
        service->waiters_tail = waiter->prev;
    self->size--;
    if (--service->waiting == 0) {
        if (service->waiting_prev)
            service->waiting_prev->waiting_next = service->waiting_next;
        else
            self->services = service->waiting_next;
        if (service->waiting_next)
            service->waiting_next->waiting_prev = service->waiting_prev;
        service->waiting_prev = service->waiting_next = NULL;
    }
}

static void
s_free (dnsd_waiter_t *waiter)
{
    free (waiter->message);
    free (waiter);
}

void
dnsd_waitlist_destroy (dnsd_waitlist_t **self_p)
{
    assert (self_p);
    dnsd_waitlist_t *self = *self_p;
    if (!self)
        return;
    while (self->services) {
        dnsd_waiter_t *waiter = self->services->waiters_head;
        s_take (self, waiter);
        s_free (waiter);
    }
    free (self);
    *self_p = NULL;
}

bool
dnsd_waitlist_has_room (dnsd_waitlist_t *self)
{
    assert (self);
    return self->size < self->max;
}

int
dnsd_waitlist_add (dnsd_waitlist_t *self, dnsd_service_t *service, const dnsd_peer_t *peer,
                   const uint8_t *message, size_t size, int64_t deadline, bool capped)
{
    assert (self);
    if (self->size >= self->max)
        return -1;
    dnsd_waiter_t *waiter = (dnsd_waiter_t *) zmalloc (sizeof (dnsd_waiter_t));
    waiter->service = service;
    waiter->peer = *peer;
    waiter->message = (uint8_t *) malloc (size ? size : 1);
    assert (waiter->message);
    memcpy (waiter->message, message, size);
    waiter->size = size;
    waiter->deadline = deadline;
    waiter->capped = capped;
    waiter->prev = service->waiters_tail;
    if (service->waiters_tail)
        service->waiters_tail->next = waiter;
    else
        service->waiters_head = waiter;
    service->waiters_tail = waiter;
    if (service->waiting++ == 0) {
        service->waiting_prev = NULL;
        service->waiting_next = self->services;
        if (self->services)
            self->services->waiting_prev = service;
        self->services = service;
    }
    self->size++;
    return 0;
}

void
dnsd_waitlist_release (dnsd_waitlist_t *self, dnsd_service_t *service, dnsd_waitlist_fn *fn,
                       void *arg)
{
    assert (self);
    while (service->waiters_tail) {
        dnsd_waiter_t *waiter = service->waiters_tail;
        s_take (self, waiter);
        fn (waiter, false, arg);
        s_free (waiter);
    }
}

void
dnsd_waitlist_expire (dnsd_waitlist_t *self, int64_t mono_ms, dnsd_waitlist_fn *fn, void *arg)
{
    assert (self);
    dnsd_service_t *next_service;
    for (dnsd_service_t *service = self->services; service; service = next_service) {
        //  FN may empty this service's list (and take it off the list of services).
        next_service = service->waiting_next;
        dnsd_waiter_t *previous;
        for (dnsd_waiter_t *waiter = service->waiters_tail; waiter; waiter = previous) {
            previous = waiter->prev;
            if (waiter->deadline <= mono_ms) {
                s_take (self, waiter);
                fn (waiter, true, arg);
                s_free (waiter);
            }
        }
    }
}

size_t
dnsd_waitlist_size (dnsd_waitlist_t *self)
{
    assert (self);
    return self->size;
}
