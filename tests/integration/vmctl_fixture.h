/*  vmctl_fixture: what vmctl's integration tests share.

    A bus and a statestore in a fresh run directory, the real jitsu-vmctl started (and
    killed) by PID, jitsuctl runs, a subscriber that keeps every vm.* and svc.alive message, and
    a private libvirtd: run as the user nobody in a directory of its own, serving libvirt's test
    driver over its socket (test+unix:///default), so that the hypervisor outlives vmctl. It
    touches no system state and boots nothing; the test keeps a connection to it open, which
    keeps the test driver's domains alive while vmctl dies. Tests that use it need root and
    skip with the reason otherwise.  */

#ifndef VMCTL_FIXTURE_H_INCLUDED
#define VMCTL_FIXTURE_H_INCLUDED

#include <libvirt/libvirt.h>

#include "proto.h"

#define VF_WAIT_MS 10000

extern char *vf_run_dir;       // the current test's run directory
extern pid_t vf_statestore;    // statestore's PID (tests kill and restart it)
extern pid_t vf_vmctl;         // vmctl's PID, -1 before it starts
extern virConnectPtr vf_conn;  // the test's connection to the private libvirtd
extern int vf_listener;        // a socket vf_listen opened, -1 when none

//  Start a bus and a statestore in a new run directory and the test's sockets. For .init.
void vf_setup (void);

//  Stop everything started, remove the directories. For .fini.
void vf_teardown (void);

//  The next message of TOPIC about SERVICE (a heartbeat's process name for "svc.alive"),
//  taken out of what was received, or NULL after TIMEOUT_MS. The caller frees it (vf_drop).
proto_msg_t *vf_wait (const char *topic, const char *service, int timeout_ms);

//  Like vf_wait, but the test fails without the message.
proto_msg_t *vf_expect (const char *topic, const char *service);

//  Free a message from vf_wait. NULL-safe.
void vf_drop (proto_msg_t *msg);

//  Counter NAME of a heartbeat, or -1.
int64_t vf_counter (const proto_msg_t *alive, const char *name);

//  Wait until a vmctl heartbeat has counter NAME equal to VALUE; returns the last value seen.
int64_t vf_counter_becomes (const char *name, int64_t value);

//  Start jitsu-vmctl on URI with EXTRA config members; wait until it has reconciled.
void vf_start_vmctl (const char *uri, const char *extra);

//  Run jitsuctl with ARGUMENTS (one shell string); returns its exit status.
int vf_jitsuctl (const char *arguments);

//  Publish vm.boot for SERVICE with jitsuctl.
void vf_boot (const char *service);

//  Write /services/NAME/config = JSON; wait until vmctl has it.
void vf_service (const char *name, const char *json);

//  SERVICE's stored state, and waiting until it is STATE (returns the last read).
proto_state_t vf_state (const char *service);
proto_state_t vf_state_becomes (const char *service, proto_state_t state);

//  Listen on loopback PORT (test_free_port gives one nothing listens on) into vf_listener.
void vf_listen (int port);

//  Skip the test unless a private libvirtd can run here.
void vf_need_libvirtd (void);

//  Start (or restart) the private libvirtd and (re)open vf_conn; stop it.
void vf_start_libvirtd (void);
void vf_stop_libvirtd (void);

//  Its socket, and its test driver's URI (borrowed).
const char *vf_socket (void);
const char *vf_test_uri (void);

//  Active domains called NAME in the private libvirtd.
int vf_running_named (const char *name);

#endif
