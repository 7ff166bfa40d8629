/*  vmctl_prober: is anything listening on ip:port yet? (ready=probe:PORT), for many VMs.

    Each probe is a non-blocking TCP connect from the host, watched by the zloop: success calls
    back once; a refusal (the guest's stack is up, its service is not) tries again after the
    interval; an attempt that hangs (no ARP answer yet, SYN unanswered) is abandoned after the
    attempt timeout and a fresh one started. Never blocks the loop.

    Probes are started and stopped from inside other zloop handlers. zloop removes an ended
    timer only at the end of the iteration, and dispatches pollers from a copy made before it
    polled, so a probe stopped by one handler may still have a handler called later in the
    same iteration. The prober therefore retires a stopped probe (its handlers then return at
    once) and frees it only after two sweeps of its housekeeping timer, when that iteration is
    long over.  */

#ifndef VMCTL_PROBER_H_INCLUDED
#define VMCTL_PROBER_H_INCLUDED

#include <czmq.h>

#define VMCTL_PROBER_SWEEP_MS 1000  // retired probes are freed within two of these

typedef struct _vmctl_prober_t vmctl_prober_t;

//  Called once when NAME's probe connects; USECS is zclock_usecs at that moment. The probe is
//  already retired; the callback may start and stop probes.
typedef void(vmctl_prober_fn) (void *arg, const char *name, int64_t usecs);

//  Probes on LOOP (borrowed, must outlive the prober; the prober's timer is ended at
//  destroy), INTERVAL_MS after a refusal, each attempt given up after ATTEMPT_MS. FN (with
//  ARG) hears every success. Returns NULL when the timer cannot be registered.
vmctl_prober_t *vmctl_prober_new (zloop_t *loop, int interval_ms, int attempt_ms,
                                  vmctl_prober_fn *fn, void *arg);

//  Stop every probe and free them all. Call it outside the loop's handlers. NULL-safe.
void vmctl_prober_destroy (vmctl_prober_t **self_p);

//  Probe IP (IPv4 or IPv6 text) on PORT for NAME, replacing NAME's probe if any. The first
//  attempt is made from the loop. Returns 0, or -1 when IP does not parse.
int vmctl_prober_start (vmctl_prober_t *self, const char *name, const char *ip, int port);

//  Stop NAME's probe (nothing when it has none).
void vmctl_prober_stop (vmctl_prober_t *self, const char *name);

//  Probes running now, and probes retired but not yet freed.
size_t vmctl_prober_running (vmctl_prober_t *self);
size_t vmctl_prober_retired (vmctl_prober_t *self);

//  Connect attempts NAME's running probe made so far (0 when it has none).
uint64_t vmctl_prober_attempts (vmctl_prober_t *self, const char *name);

#endif
