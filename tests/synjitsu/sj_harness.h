/*  sj_harness: the fixture of the synjitsu_netns suite, synjitsu with real kernels on both
    sides of a bridge (see sj_netns.h).

    The client is a real TCP socket in its own namespace; the "guest" is a namespace with a
    listening socket whose veth is attached to the bridge only after the client has started
    connecting; synjitsu runs as a real process in the bridge's namespace, on a real bus, and
    the test plays vmctl by publishing vm.booting and vm.ready. Retransmits are read from the
    client's TCP_INFO, and orderings from captures, never from a clock. Every test needs root
    (namespaces, raw sockets) and skips with the reason printed without it. Timings are
    printed with --verbose ("figures: ..."), never asserted. SJ_KEEP_LOG=PATH copies
    synjitsu's log of each test to PATH.<test's pid> at teardown.

    The suite (TestSuite synjitsu_netns, its teardown and timeout) is declared in sj_harness.c;
    the test files only add Tests to it. Each test runs in a process of its own, so the
    fixture's state is that process's: the functions below take no self. Every function
    asserts (a failed step fails the test), and what it opens is closed at teardown.  */

#ifndef SJ_HARNESS_H_INCLUDED
#define SJ_HARNESS_H_INCLUDED

//  proto.h (czmq) first: pcap.h defines SOCKET, which czmq_prelude.h declares as a type.
#include "proto.h"

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sj_netns.h"
#include "sj_pcap.h"

#define SJ_SYNJITSU_BINARY JITSU_BUILD_DIR "/synjitsu/synjitsu"

//  Bring up the bus and the namespaces, then synjitsu with CONFIG (JSON members added to
//  the test's defaults) unless CONFIG is NULL. Skips without root.
void sj_harness_start (const char *config);

//  Start synjitsu with the shell COMMAND (it should exec the binary), logging to the run
//  directory's synjitsu.log, and wait until it is on the bus both ways.
void sj_harness_spawn_synjitsu (const char *command);

//  The test's namespaces (borrowed).
sj_netns_t *sj_harness_net (void);

//  The test's run directory (borrowed).
const char *sj_harness_run_dir (void);

//  The path of synjitsu's stderr, for failure messages (borrowed).
const char *sj_harness_log (void);

//  The PID of the process started as synjitsu.
pid_t sj_harness_synjitsu_pid (void);

//  Close FD (asserted valid) at teardown. Returns FD.
int sj_harness_keep (int fd);

//  A capture of IFACE in ROLE's namespace, closed at teardown (borrowed).
pcap_t *sj_harness_capture (sj_role_t role, const char *iface, pcap_direction_t direction);

//  Publish MSG on the bus and reset it.
void sj_harness_publish (proto_msg_t *msg);

//  vm.booting for SERVICE at the guest's address, MAC and port, with MASK.
void sj_harness_publish_booting_masked (const char *service, proto_booting_mask_t mask);

//  vm.booting for SERVICE, mask unset.
void sj_harness_publish_booting (const char *service);

//  vm.ready for SERVICE at the guest's address.
void sj_harness_publish_ready (const char *service);

//  Receive until a message of TYPE arrives (from synjitsu, for svc.alive), or TIMEOUT_MS.
//  MSG holds it (reset it) when this returns true.
bool sj_harness_wait_msg (proto_msg_type_t type, int timeout_ms, proto_msg_t *msg);

//  The counter NAME of the svc.alive ALIVE (fails the test when it has none).
int64_t sj_harness_counter (const proto_msg_t *alive, const char *name);

//  Wait for a heartbeat whose counter NAME equals VALUE; returns the last value seen.
int64_t sj_harness_wait_counter (const char *name, int64_t value, int timeout_ms);

//  Wait until CLIENT sees synjitsu's first ARP Announcement: the booting address is in
//  synjitsu's table and its filter. The frames read are added to KEEP unless it is NULL.
void sj_harness_wait_announced (pcap_t *client, sj_frames_t *keep);

//  A listening socket on the guest's address, port 80.
int sj_harness_guest_listen (void);

//  A client socket in ROLE's namespace, connecting (non-blocking) to the guest, port 80.
int sj_harness_connect_from (sj_role_t role);

//  A client socket in the client namespace, connecting to the guest.
int sj_harness_client_connect (void);

//  Wait until the connect on FD finishes; returns its SO_ERROR (0 = connected), or -1 when it
//  is still in progress after TIMEOUT_MS.
int sj_harness_client_wait (int fd, int timeout_ms);

//  The client socket's SYN retransmits so far: TCP_INFO tcpi_total_retrans.
unsigned sj_harness_retransmits (int fd);

//  Wait until the guest has a connection to accept; returns its fd or -1.
int sj_harness_guest_accept (int listener, int timeout_ms);

//  SIGTERM synjitsu and reap it; returns its exit status, or -1 when it did not exit.
int sj_harness_stop_synjitsu (void);

//  "www" starts booting (vm.booting); returns once CAPTURE, on a path synjitsu's ARP
//  Announcement takes (what the client receives, the bridge's output), saw it.
void sj_harness_announce_booting (pcap_t *capture);

//  "www" starts booting; once synjitsu announces it, the client connects and synjitsu holds
//  its SYN. Returns the client's connecting socket.
int sj_harness_connect_while_booting (pcap_t *client_side);

//  The guest comes up, then vm.ready: CLIENT's connect completes on the replayed SYN, with no
//  retransmit, and LISTENER gets the connection.
void sj_harness_guest_up_then_ready_connects (int listener, int client);

#endif
