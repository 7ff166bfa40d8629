/*  vt_harness: vmctl in-process on libvirt's test driver, with a real bus and statestore.

    The bus forwarder and statestore run in one thread, vmctl (vmctl_server and its libvirt
    actor) in another, both on ipc endpoints in a fresh run directory. The test talks to them
    as any process would (publisher, subscriber, state client) and looks at the hypervisor
    through its own test:///default connection, which shares the driver's state with vmctl's
    and keeps it alive while vmctl restarts.  */

#ifndef VT_HARNESS_H_INCLUDED
#define VT_HARNESS_H_INCLUDED

#include <libvirt/libvirt.h>

#include "proto.h"
#include "vmctl_job.h"

#define VT_WAIT 10000  // ms a lifecycle test waits for what vmctl does

//  Start the bus and statestore (not vmctl yet) and open the test's sockets and connection.
void vt_setup (void);

//  Stop everything, remove the run directory. For a suite's .fini.
void vt_teardown (void);

//  Start vmctl with CONFIG (a JSON object's members, without braces, added to the test
//  defaults; may be NULL) and wait until it has reconciled. Fails the test if it does not.
void vt_start (const char *config);

//  Stop vmctl (its VMs keep running), as a restart's first half.
void vt_stop (void);

//  The test's libvirt connection (borrowed).
virConnectPtr vt_conn (void);

//  Define (persistent, shut off) a test-driver domain NAME with a bridge interface of MAC.
void vt_define (const char *name, const char *mac);

//  virDomainState of domain NAME, or -1 when it does not exist.
int vt_domain_state (const char *name);

//  Write /services/NAME/config = JSON and wait until vmctl has it.
void vt_service (const char *name, const char *json);

//  Delete /services/NAME/config and wait until vmctl has seen it.
void vt_service_delete (const char *name);

//  Store /services/NAME/status = JSON directly (to stage a restart).
void vt_put_status (const char *name, const char *json);

//  Read /services/NAME/status into STATUS; fails the test when absent.
void vt_status (const char *name, proto_status_t *status);

//  The same once the stored state is STATE, or after VT_WAIT ms: vmctl publishes an event
//  before its status write lands, so a test that just saw the event waits for the write.
void vt_status_when (const char *name, proto_state_t state, proto_status_t *status);

//  Publish vm.boot, dns.hits or guest.seen for SERVICE.
void vt_boot (const char *service);
void vt_hits (const char *service);
void vt_guest_seen (const char *service, const char *ip, const char *mac);

//  Wait up to TIMEOUT_MS for the next unread message of TOPIC about SERVICE and return it
//  (borrowed; valid until teardown), or NULL.
const proto_msg_t *vt_wait (const char *topic, const char *service, int timeout_ms);

//  Messages of TOPIC about SERVICE received so far (after reading what is waiting).
int vt_count (const char *topic, const char *service);

//  The statuses written for SERVICE, as seen on the bus: "booting,ready,stopping,off".
const char *vt_states (const char *service);

//  Wait up to TIMEOUT_MS until SERVICE's statuses are EXPECTED; returns them as they are.
const char *vt_states_reach (const char *service, const char *expected, int timeout_ms);

//  Wait for a fresh vmctl heartbeat and return its counter NAME (-1 when absent).
int64_t vt_counter (const char *name);

//  Wait (up to TIMEOUT_MS) until vmctl's counter NAME is at least VALUE. Returns the last.
int64_t vt_counter_reaches (const char *name, int64_t value, int timeout_ms);

//  The test's run directory (borrowed); vmctl's save files are in its "saves".
const char *vt_run_dir (void);

//  Make vmctl's later libvirt jobs of KIND meet FAULT.
void vt_inject (vmctl_job_kind_t kind, vmctl_fault_t fault);

//  A TCP port on 127.0.0.1 that nothing listens on (yet).
int vt_free_port (void);

//  Listen on 127.0.0.1:PORT; returns the socket (closed at teardown).
int vt_listen (int port);

#endif
