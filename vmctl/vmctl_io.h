/*  vmctl_io: how vmctl's logic (vmctl_fleet, vmctl_vm) acts on the world. The server fills
    it with the bus, statestore, libvirt and prober; tests fill it with recorders.  */

#ifndef VMCTL_IO_H_INCLUDED
#define VMCTL_IO_H_INCLUDED

#include "vmctl_job.h"

//  The callbacks. ARG is passed back to each.
typedef struct {
    //  Publish MSG on the bus (the callee resets it).
    void (*publish) (void *arg, proto_msg_t *msg);
    //  Store STATUS (borrowed) as SERVICE's status.
    void (*status) (void *arg, const char *service, const proto_status_t *status);
    //  Run JOB (consumed) through libvirt; it comes back through vmctl_fleet_on_note.
    void (*submit) (void *arg, vmctl_job_t *job);
    //  Start probing IP:PORT for SERVICE; success comes back (once, the probe then ended)
    //  through vmctl_fleet_on_probe.
    void (*probe) (void *arg, const char *service, const char *ip, int port);
    //  Stop probing for SERVICE (nothing when it does not probe).
    void (*unprobe) (void *arg, const char *service);
    void *arg;
} vmctl_io_t;

#endif
