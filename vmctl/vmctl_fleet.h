/*  vmctl_fleet: every service's VM and its life: boot, readiness, idle stop, the stop ladder,
    reconcile and admission. No sockets: the owner feeds it what happened (bus messages,
    finished libvirt jobs, lifecycle events, probe results, ticks) and it acts through the
    callbacks it was given (publish, write a status, submit a job, start or stop a probe).

    A VM's state is the status's: off, booting, ready, stopping, failed. Booting goes
    create -> readiness (event, probe or garp) -> response_delay_ms -> ready; a failure or the
    ready timeout stops whatever was started (vm.stopping/vm.stopped reason "failed") and then
    publishes vm.failed. Stopping runs the service's stop_mode and falls back to destroy
    when the mode fails, or, for shutdown, when the guest is still up after the grace period.
    Until vmctl has both the service definitions (the replica) and libvirt's view of their
    domains (a reconcile after each connection), vm.boot requests are held, never lost.  */

#ifndef VMCTL_FLEET_H_INCLUDED
#define VMCTL_FLEET_H_INCLUDED

#include "vmctl_config.h"
#include "vmctl_job.h"
#include "vmctl_stats.h"
#include "vmctl_virt.h"

typedef struct _vmctl_fleet_t vmctl_fleet_t;

//  How the fleet acts on the world. ARG is passed back to each.
typedef struct {
    //  Publish MSG on the bus (the callee resets it).
    void (*publish) (void *arg, proto_msg_t *msg);
    //  Store STATUS (borrowed) as SERVICE's status.
    void (*status) (void *arg, const char *service, const proto_status_t *status);
    //  Run JOB (consumed) through libvirt; it comes back through vmctl_fleet_on_job.
    void (*submit) (void *arg, vmctl_job_t *job);
    //  Start probing IP:PORT for SERVICE; success comes back (once, the probe then ended)
    //  through vmctl_fleet_on_probe.
    void (*probe) (void *arg, const char *service, const char *ip, int port);
    //  Stop probing for SERVICE (nothing when it does not probe).
    void (*unprobe) (void *arg, const char *service);
    void *arg;
} vmctl_fleet_io_t;

//  A fleet for CONFIG (borrowed, must outlive it) acting through IO (copied).
vmctl_fleet_t *vmctl_fleet_new (const vmctl_config_t *config, const vmctl_fleet_io_t *io);

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
