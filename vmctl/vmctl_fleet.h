/*  vmctl_fleet: every service's VM and what concerns more than one. No sockets: the owner
    feeds it what happened (bus messages, finished libvirt jobs, lifecycle events, probe
    results, ticks) and it acts through the callbacks it was given (vmctl_io_t).

    Each VM's life is a vmctl_vm_t (its states are in vmctl/README.md). The fleet keeps the
    registry, ignores the services another vmctl instance serves, holds vm.boot requests until
    vmctl has both the service definitions (the replica) and libvirt's view of their domains
    (a reconcile after each connection), never losing one, decides admission (limits, a
    waiting list, evicting idle VMs to make room) and routes what arrives to its VM.  */

#ifndef VMCTL_FLEET_H_INCLUDED
#define VMCTL_FLEET_H_INCLUDED

#include "vmctl_config.h"
#include "vmctl_io.h"
#include "vmctl_job.h"
#include "vmctl_stats.h"
#include "vmctl_virt.h"

typedef struct _vmctl_fleet_t vmctl_fleet_t;


//  A fleet for CONFIG (borrowed, must outlive it) acting through IO (copied).
vmctl_fleet_t *vmctl_fleet_new (const vmctl_config_t *config, const vmctl_io_t *io);

//  Free every VM record. Running VMs are left running (a restart adopts them). NULL-safe.
void vmctl_fleet_destroy (vmctl_fleet_t **self_p);

//  A service's stored config changed: VALUE (borrowed) is the new one, NULL when deleted.
void vmctl_fleet_on_config (vmctl_fleet_t *self, const char *service, json_t *value);

//  A service's stored status, as found at start (later ones are vmctl's own writes).
void vmctl_fleet_on_stored_status (vmctl_fleet_t *self, const char *service, json_t *value);

//  The replica holds every service definition: vmctl may act on them.
void vmctl_fleet_on_synced (vmctl_fleet_t *self);

//  vm.boot, received at RECEIVED_US (zclock_usecs).
void vmctl_fleet_on_boot (vmctl_fleet_t *self, const proto_vm_boot_t *boot, int64_t received_us);

//  vm.prepare: boot the service once, then leave it in the tier asked.
void vmctl_fleet_on_prepare (vmctl_fleet_t *self, const proto_vm_prepare_t *prepare);

//  dns.hits.
void vmctl_fleet_on_hits (vmctl_fleet_t *self, const proto_dns_hits_t *hits);

//  guest.seen, received at RECEIVED_US.
void vmctl_fleet_on_guest_seen (vmctl_fleet_t *self, const proto_guest_seen_t *seen,
                                int64_t received_us);

//  A note from vmctl_virt; a finished job in it is consumed.
void vmctl_fleet_on_note (vmctl_fleet_t *self, vmctl_note_t *note);

//  SERVICE's probe connected at USECS.
void vmctl_fleet_on_probe (vmctl_fleet_t *self, const char *service, int64_t usecs);

//  Deadlines: ready timeouts, response delays, shutdown grace, held requests. Call often.
void vmctl_fleet_tick (vmctl_fleet_t *self);

//  Look for idle VMs and stop them. Call every idle_check_ms.
void vmctl_fleet_idle_check (vmctl_fleet_t *self);

//  The counters (borrowed).
const vmctl_stats_t *vmctl_fleet_stats (vmctl_fleet_t *self);

//  Gauges for svc.alive: VMs per state, active VMs, their memory, services known.
typedef struct {
    int64_t services;        // with a valid config
    int64_t booting;
    int64_t ready;
    int64_t stopping;
    int64_t failed;
    int64_t active;          // domains running or paused
    int64_t paused;          // parked by stop_mode suspend
    int64_t memory_mib;      // of the active domains
    int64_t held;            // vm.boot requests waiting for the reconcile
    bool connected;          // libvirt connection up
    bool reconciled;         // libvirt's view read since the last connection
} vmctl_fleet_gauges_t;

//  Fill GAUGES.
void vmctl_fleet_gauges (vmctl_fleet_t *self, vmctl_fleet_gauges_t *gauges);

#endif
