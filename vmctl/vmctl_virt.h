/*  vmctl_virt: the one place vmctl meets libvirt, off the bus loop.

    An actor thread owns the libvirt connection and runs libvirt's default event loop: it
    delivers lifecycle events (crash, external shutdown) and the close callback, and it
    reconnects with backoff when libvirtd goes away. Blocking calls run on a few worker
    threads so that one slow call (a QEMU destroy takes ~1.8 s) does not hold up the boots
    behind it; workers borrow a reference to the actor's connection, which libvirt allows to
    be shared between threads. Jobs with the same key (a service) run one at a time, in the
    order they were submitted, so a stop never overtakes the boot before it.

    The main thread submits jobs and reads notes (finished jobs, lifecycle events, connection
    changes) from one socket it registers on its zloop. Only one vmctl_virt may exist in a
    process at a time: libvirt's default event loop is global.  */

#ifndef VMCTL_VIRT_H_INCLUDED
#define VMCTL_VIRT_H_INCLUDED

#include "vmctl_job.h"

typedef struct _vmctl_virt_t vmctl_virt_t;

//  What the actor tells the main thread.
typedef enum {
    VMCTL_NOTE_DONE = 1,   // a job finished
    VMCTL_NOTE_EVENT,      // a domain lifecycle event
    VMCTL_NOTE_CONNECTION  // the connection came up, was lost, or could not be made
} vmctl_note_kind_t;

//  A domain lifecycle event, as much of libvirt's as vmctl acts on (vmctl_virt maps it).
typedef enum {
    VMCTL_EVENT_OTHER = 0,  // defined, suspended, pmsuspended, ...: nothing to do
    VMCTL_EVENT_STARTED,    // started or resumed
    VMCTL_EVENT_STOPPED,    // stopped (shut down, destroyed, saved, ...)
    VMCTL_EVENT_CRASHED     // crashed, or stopped because it crashed
} vmctl_event_t;

//  One note.
typedef struct {
    vmctl_note_kind_t kind;
    vmctl_job_t *job;                   // DONE: the finished job, owned by the receiver
    char domain[PROTO_DOMAIN_MAX + 1];  // EVENT: domain name
    char uuid[PROTO_UUID_MAX + 1];      // EVENT: domain UUID
    vmctl_event_t event;                // EVENT
    int64_t usecs;                      // EVENT: zclock_usecs when libvirt delivered it
    bool up;                            // CONNECTION: connected now (else lost or refused)
    char message[PROTO_TEXT_MAX + 1];   // CONNECTION: why it is down
} vmctl_note_t;

//  Start the actor and WORKERS worker threads, and connect to URI. Reconnects wait
//  RECONNECT_MIN_MS, doubling up to RECONNECT_MAX_MS. Returns NULL when another vmctl_virt
//  exists in this process or a thread cannot start.
vmctl_virt_t *vmctl_virt_new (const char *uri, int workers, int reconnect_min_ms,
                              int reconnect_max_ms);

//  Stop the workers (each finishes its current call), close the connection, and free every
//  job still queued or unread. NULL-safe.
void vmctl_virt_destroy (vmctl_virt_t **self_p);

//  Hand a job over (consumed); it comes back as a DONE note, failed at once when there is no
//  connection ("virConnectOpen: <why>").
void vmctl_virt_submit (vmctl_virt_t *self, vmctl_job_t **job_p);

//  Read one note without blocking. Returns 0 with NOTE filled, or -1 when none is waiting.
int vmctl_virt_recv (vmctl_virt_t *self, vmctl_note_t *note);

//  The socket notes arrive on, for zloop_reader (borrowed).
zsock_t *vmctl_virt_sock (vmctl_virt_t *self);

//  Jobs submitted and not yet read back.
size_t vmctl_virt_pending (vmctl_virt_t *self);

//  Tests: make every later job of KIND meet FAULT (VMCTL_FAULT_NONE clears it).
void vmctl_virt_inject (vmctl_virt_t *self, vmctl_job_kind_t kind, vmctl_fault_t fault);

#endif
