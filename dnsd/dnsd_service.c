/*  dnsd_service: a served service's record.  */

#include "dnsd_service.h"

dnsd_service_t *
dnsd_service_new (const char *name)
{
    dnsd_service_t *self = (dnsd_service_t *) zmalloc (sizeof (dnsd_service_t));
    if (proto_copy (self->name, sizeof self->name, name)) {
        free (self);
        return NULL;
    }
    proto_service_init (&self->config);
    self->state = PROTO_STATE_OFF;
    return self;
}

void
dnsd_service_destroy (dnsd_service_t **self_p)
{
    assert (self_p);
    dnsd_service_t *self = *self_p;
    if (!self)
        return;
    proto_service_reset (&self->config);
    free (self);
    *self_p = NULL;
}
