/*  vmctl_job: one piece of work for libvirt, with its inputs and its result.

    The main thread fills a job and hands it to vmctl_virt; a worker thread runs it
    (vmctl_exec) and it comes back, filled in, to the main thread. The job is owned by exactly
    one thread at a time, so it needs no lock.  */

#ifndef VMCTL_JOB_H_INCLUDED
#define VMCTL_JOB_H_INCLUDED

#include "proto.h"
#include "vmctl_save.h"

//  What a job does.
typedef enum {
    VMCTL_JOB_BOOT = 0,  // bring the VM up: resume, restore, start or create it
    VMCTL_JOB_DESTROY,   // power it off now (virDomainDestroy); off already is success
    VMCTL_JOB_SHUTDOWN,  // ask the guest to power off (virDomainShutdown)
    VMCTL_JOB_SUSPEND,   // pause it (virDomainSuspend)
    VMCTL_JOB_SAVE,      // save to its file, atomically (virDomainSaveFlags, then rename)
    VMCTL_JOB_STATS,     // interface counters (virDomainInterfaceStats)
    VMCTL_JOB_LIST,      // read the state of some domains
    VMCTL_JOB_KINDS
} vmctl_job_kind_t;

//  How BOOT brought the VM up.
typedef enum {
    VMCTL_BOOTED_CREATED = 0,  // a transient domain was created from the template
    VMCTL_BOOTED_STARTED,      // a defined domain was started
    VMCTL_BOOTED_RESTORED,     // restored from its save file (or a managed save image)
    VMCTL_BOOTED_RESUMED,      // it was paused and was resumed
    VMCTL_BOOTED_RUNNING       // it was already running: nothing was done
} vmctl_booted_t;

//  The libvirt calls vmctl times (vmctl_stats keeps a histogram of each).
typedef enum {
    VMCTL_CALL_CREATE = 0,  // virDomainCreateXML: a transient domain from a template
    VMCTL_CALL_START,       // virDomainCreate: a defined domain
    VMCTL_CALL_RESTORE,     // virDomainRestoreFlags (or virDomainCreate of a managed save)
    VMCTL_CALL_RESUME,      // virDomainResume (or virDomainPMWakeup)
    VMCTL_CALL_DESTROY,     // virDomainDestroy
    VMCTL_CALL_SHUTDOWN,    // virDomainShutdown
    VMCTL_CALL_SUSPEND,     // virDomainSuspend
    VMCTL_CALL_SAVE,        // virDomainSaveFlags
    VMCTL_CALLS
} vmctl_call_t;

#define VMCTL_JOB_CALLS_MAX 4  // timed calls one job makes at most (a destroy, three starts)

//  One timed libvirt call.
typedef struct {
    vmctl_call_t call;
    int64_t us;                         // how long it took, in the worker
} vmctl_timed_call_t;

//  A fault the tests inject for one kind of job (vmctl_virt_inject).
typedef enum {
    VMCTL_FAULT_NONE = 0,
    VMCTL_FAULT_FAIL,    // the call fails with an "injected" error and changes nothing
    VMCTL_FAULT_IGNORE   // the call succeeds and changes nothing (a guest ignoring shutdown)
} vmctl_fault_t;

//  A domain's state, as much of libvirt's virDomainState as vmctl acts on (vmctl_exec maps it).
typedef enum {
    VMCTL_DOMAIN_OFF = 0,  // shut off, or no state
    VMCTL_DOMAIN_RUNNING,  // running, blocked, shutting down or PM-suspended: holds resources
    VMCTL_DOMAIN_PAUSED,   // paused: holds its memory, uses no CPU
    VMCTL_DOMAIN_CRASHED   // crashed and kept (on_crash=preserve): still holds its resources
} vmctl_domain_state_t;

//  One domain, as asked about and as libvirt answered.
typedef struct {
    char service[PROTO_NAME_MAX + 1];   // in: the service it belongs to
    char target[PROTO_DOMAIN_MAX + 1];  // in: domain name or UUID to look up
    char wanted_mac[PROTO_MAC_MAX + 1]; // in: the interface to read ("" = the first)
    int64_t epoch;                      // in: the caller's, echoed back
    char save_path[VMCTL_SAVE_PATH_MAX + 1];  // in: its saved tier's file ("" when none)
    bool found;                         // out: the domain exists
    vmctl_domain_state_t state;         // out
    bool crashed;                       // out: it is off because it crashed
    bool saved;                         // out: its save file exists
    bool persistent;                    // out: defined, not transient
    bool managed_save;                  // out: has a managed save image
    uint64_t memory_kib;                // out: maximum memory
    char name[PROTO_DOMAIN_MAX + 1];    // out
    char uuid[PROTO_UUID_MAX + 1];      // out
    char mac[PROTO_MAC_MAX + 1];        // out: the interface's MAC, when active
    char iface[PROTO_IFACE_MAX + 1];    // out: its host-side device, when active
} vmctl_domain_t;

//  Interface counters (STATS).
typedef struct {
    int64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
} vmctl_traffic_t;

//  A job.
typedef struct {
    vmctl_job_kind_t kind;
    uint64_t id;                        // set by vmctl_virt_submit
    char key[PROTO_NAME_MAX + 1];       // jobs with one key run one at a time, in order
    int purpose;                        // the caller's tag, echoed back
    vmctl_domain_t domain;              // single-domain jobs: in and out
    char *xml;                          // BOOT of a template: the domain to create (owned)
    char device[PROTO_MAC_MAX + 1];     // STATS: interface device or MAC
    vmctl_domain_t *domains;            // LIST: in and out (owned)
    size_t domain_count;
    vmctl_fault_t fault;                // set by vmctl_virt from what tests injected
    void *conn;                         // set by vmctl_virt: a virConnectPtr reference
    //  Results.
    int rc;                             // 0 done, -1 failed
    char error[PROTO_TEXT_MAX + 1];     // "virDomainCreate: <libvirt's message>"
    vmctl_booted_t booted;              // BOOT
    char note[PROTO_TEXT_MAX + 1];      // BOOT: a restore that failed before the cold boot
    bool was_off;                       // DESTROY: it was off (or gone) already
    vmctl_traffic_t traffic;            // STATS
    int64_t submitted_us;               // zclock_usecs when submitted
    int64_t call_us;                    // BOOT: when the call that starts it was made
    int64_t done_us;                    // when the worker finished
    vmctl_timed_call_t calls[VMCTL_JOB_CALLS_MAX];  // the timed calls made, in order
    size_t call_count;
} vmctl_job_t;

//  A new job of KIND for the domain TARGET of SERVICE (the key). Never NULL.
vmctl_job_t *vmctl_job_new (vmctl_job_kind_t kind, const char *service, const char *target);

//  Free a job and what it owns. NULL-safe.
void vmctl_job_destroy (vmctl_job_t **self_p);

//  Append a domain to look up to a LIST job. Returns the entry (borrowed).
vmctl_domain_t *vmctl_job_add_domain (vmctl_job_t *self, const char *service,
                                      const char *target);

//  Set ERROR to "CALL: libvirt's last error message" and RC to -1. Returns -1.
int vmctl_job_fail (vmctl_job_t *self, const char *call);

//  Record that CALL, begun at STARTED_US (zclock_usecs), has just returned. Calls past
//  VMCTL_JOB_CALLS_MAX are not recorded.
void vmctl_job_timed (vmctl_job_t *self, vmctl_call_t call, int64_t started_us);

//  A call's short name ("create"), for labels (borrowed).
const char *vmctl_call_name (vmctl_call_t call);

//  The libvirt function a call is ("virDomainCreateXML"), for logs (borrowed).
const char *vmctl_call_function (vmctl_call_t call);

//  The job kind's name, for logs (borrowed).
const char *vmctl_job_kind_name (vmctl_job_kind_t kind);

//  How a boot went, for logs (borrowed).
const char *vmctl_booted_name (vmctl_booted_t booted);

#endif
