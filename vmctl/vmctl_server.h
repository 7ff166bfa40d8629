/*  vmctl_server: vmctl's I/O, wired to its zloop.

    The bus (vm.boot, dns.hits, guest.seen in; vm.* and svc.alive out), a replica of
    /services (definitions in, stored statuses at start), statestore writes of
    /services/NAME/status, the libvirt actor's notes, and the TCP probes; all of it is fed to
    vmctl_fleet, which decides.  */

#ifndef VMCTL_SERVER_H_INCLUDED
#define VMCTL_SERVER_H_INCLUDED

#include "vmctl_config.h"
#include "vmctl_fleet.h"

#define VMCTL_TICK_MS  10   // deadlines: response delays, ready timeouts, shutdown grace
#define VMCTL_BATCH    64   // bus messages or libvirt notes handled per wake-up

typedef struct _vmctl_server_t vmctl_server_t;

//  Connect to the bus and statestore and start the libvirt actor, as CONFIG (copied) says.
//  Returns NULL (logged) when a socket or the actor cannot be created.
vmctl_server_t *vmctl_server_new (const vmctl_config_t *config, bool verbose);

//  Stop the actor and close everything; VMs keep running. NULL-safe.
void vmctl_server_destroy (vmctl_server_t **self_p);

//  Register readers and timers on LOOP (borrowed, must outlive the server). Returns 0 or -1.
int vmctl_server_attach (vmctl_server_t *self, zloop_t *loop);

//  The counters so far (borrowed).
const vmctl_stats_t *vmctl_server_stats (vmctl_server_t *self);

//  Tests: make every later libvirt job of KIND meet FAULT.
void vmctl_server_inject (vmctl_server_t *self, vmctl_job_kind_t kind, vmctl_fault_t fault);

#endif
