/*  vmctl_status: writes /services/NAME/status through statestore, one put per transition.

    Writes for one service are sent one at a time: a transition that happens while the
    previous write is unanswered waits, and only the newest waiting one is sent. A retried
    old write can therefore never land after a newer one, and the stored status always ends
    at the last transition. A write that statestore never acknowledged (it was down longer
    than the state client retries) is kept and sent again by vmctl_status_flush.  */

#ifndef VMCTL_STATUS_H_INCLUDED
#define VMCTL_STATUS_H_INCLUDED

#include "proto.h"

typedef struct _vmctl_status_t vmctl_status_t;

//  Write through CLIENT (borrowed; destroy the client first: its pending callbacks point here).
vmctl_status_t *vmctl_status_new (proto_state_client_t *client);

//  Free the per-service records. NULL-safe.
void vmctl_status_destroy (vmctl_status_t **self_p);

//  Store STATUS (copied) as SERVICE's status.
void vmctl_status_write (vmctl_status_t *self, const char *service, const proto_status_t *status);

//  Send again every status whose last write failed (call it every second or so).
void vmctl_status_flush (vmctl_status_t *self);

//  Puts sent, puts refused or timed out, and writes skipped because a newer one replaced them.
uint64_t vmctl_status_writes (vmctl_status_t *self);
uint64_t vmctl_status_failures (vmctl_status_t *self);
uint64_t vmctl_status_coalesced (vmctl_status_t *self);

#endif
