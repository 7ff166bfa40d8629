/*  vmctl_probe: is anything listening on ip:port yet? (ready=probe:PORT)

    A non-blocking TCP connect from the host, watched by the zloop: success calls back once;
    a refusal (the guest's stack is up, its service is not) tries again after the interval;
    an attempt that hangs (no ARP answer yet, SYN unanswered) is abandoned after the attempt
    timeout and a fresh one started. Never blocks the loop.  */

#ifndef VMCTL_PROBE_H_INCLUDED
#define VMCTL_PROBE_H_INCLUDED

#include <czmq.h>

typedef struct _vmctl_probe_t vmctl_probe_t;

//  Called once when a connect succeeds; USECS is zclock_usecs at that moment.
typedef void(vmctl_probe_fn) (void *arg, int64_t usecs);

//  Probe IP (IPv4 or IPv6 text) on PORT from LOOP (borrowed), every INTERVAL_MS after a
//  refusal, each attempt given up after ATTEMPT_MS. Returns NULL when IP does not parse.
vmctl_probe_t *vmctl_probe_new (zloop_t *loop, const char *ip, int port, int interval_ms,
                                int attempt_ms, vmctl_probe_fn *fn, void *arg);

//  Stop probing and close the socket. NULL-safe.
void vmctl_probe_destroy (vmctl_probe_t **self_p);

//  Connect attempts made so far.
uint64_t vmctl_probe_attempts (vmctl_probe_t *self);

#endif
