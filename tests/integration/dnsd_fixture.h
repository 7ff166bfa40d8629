/*  dnsd_fixture: what dnsd's integration tests share: a bus and a statestore in a fresh run
    directory, dnsd instances started by PID on a port they pick and report, real dig, kdig
    and jitsuctl runs, an NSD upstream, Unbound and Knot Resolver in front of dnsd, and
    dnsd's own counters read from its svc.alive.  */

#ifndef DNSD_FIXTURE_H_INCLUDED
#define DNSD_FIXTURE_H_INCLUDED

#include <stdbool.h>
#include <sys/types.h>

#include "proto.h"

#define DF_DNSD JITSU_BUILD_DIR "/dnsd/jitsu-dnsd"
#define DF_CTL  JITSU_BUILD_DIR "/ctl/jitsuctl"

//  The run directory of the current test.
extern char *df_run_dir;

//  Start a bus and a statestore in a new run directory, and a subscriber to vm.boot, dns.hits
//  and svc.alive. For a suite's .init.
void df_setup (void);

//  Stop everything started, remove the run directory. For a suite's .fini.
void df_teardown (void);

//  Start dnsd instance INSTANCE on PORT (0: a free port) with EXTRA config pairs (may be NULL,
//  no braces); heartbeats every 100 ms, statestore's every 200 ms. Waits until it serves.
//  Returns the port, or -1 when it did not start (its log is RUN_DIR/dnsd-INSTANCE.log).
int df_start_dnsd (const char *instance, int port, const char *extra);

//  Stop dnsd instance INSTANCE with SIGTERM. Returns true when it exited with status 0.
bool df_stop_dnsd (const char *instance);

//  The PID of dnsd instance INSTANCE (the test fails if it is not running).
pid_t df_pid (const char *instance);

//  Run jitsuctl with arguments (NULL-terminated); its output goes to RUN_DIR/ctl.out.
//  Returns its exit status.
int df_jitsuctl (const char *first, ...);

//  Run a shell command (printf-style) with stdout and stderr in RUN_DIR/OUTPUT. Returns its
//  exit status.
int df_run (const char *output, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

//  Run dig against dnsd on 127.0.0.1 PORT, one try with a 5 s timeout, with the arguments
//  FORMAT makes (printf-style); output in RUN_DIR/OUTPUT. Returns dig's exit status.
int df_dig (const char *output, int port, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Whether RUN_DIR/OUTPUT contains TEXT, runs of blanks (dig's tabs) read as one space.
bool df_contains (const char *output, const char *text);

//  Counter NAME of dnsd instance INSTANCE from its next svc.alive (up to 5 s), or -1.
int64_t df_counter (const char *instance, const char *name);

//  Wait until counter NAME of INSTANCE is at least VALUE. Returns true, or false after
//  TIMEOUT_MS.
bool df_wait_counter (const char *instance, const char *name, int64_t value, int timeout_ms);

//  Wait until counter NAME of INSTANCE equals VALUE. Returns true, or false after TIMEOUT_MS.
bool df_wait_equal (const char *instance, const char *name, int64_t value, int timeout_ms);

//  vm.boot messages for SERVICE heard so far, after listening WAIT_MS more.
int df_boots (const char *service, int wait_ms);

//  The request_id of the last vm.boot heard for SERVICE ("" if none).
const char *df_last_request_id (const char *service);

//  dns.hits messages heard for SERVICE so far, and the sum of their counts.
int df_hits (const char *service, int64_t *count);

//  The count of the first dns.hits heard for SERVICE (0 if none).
int64_t df_first_hits (const char *service);

//  Publish TOPIC with the JSON BODY through jitsuctl (as vmctl would); the test fails if it
//  cannot.
void df_publish (const char *topic, const char *body);

//  Define a service with jitsuctl in the original syntax ("dns=...,ip=...,domain=...") and
//  mark it running (a ready status) when RUNNING.
void df_service (const char *name, const char *words, bool running);

//  A UDP socket bound to ADDRESS ("127.0.0.1") and PORT (0: any free one), without
//  SO_REUSEPORT; the port it has goes into BOUND (may be NULL). The test fails if it cannot bind.
int df_udp_socket (const char *address, int port, int *bound);

//  A port free for UDP and TCP on 127.0.0.1 right now.
int df_free_port (void);

//  Start NSD on a free loopback port serving ZONE (origin) from the zone file text TEXT.
//  Returns its port; the test fails if it cannot start.
int df_start_nsd (const char *zone, const char *text);

//  Start Unbound on a free loopback port, with ZONE a stub zone to dnsd on DNSD_PORT (dnsd
//  must answer ZONE's SOA) and EXTRA lines for its server: section (NULL: none; each line
//  "  key: value\n"). Its log (log-queries) is RUN_DIR/unbound.out. Skips the test, saying
//  why, when Unbound is not installed. Returns its port.
int df_start_unbound (const char *zone, int dnsd_port, const char *extra);

//  Start Knot Resolver (kresd) likewise, EXTRA Lua lines after the stub policy (NULL: none).
//  Its log is RUN_DIR/kresd.out. Skips the test when it is not installed.
int df_start_kresd (const char *zone, int dnsd_port, const char *extra);

#endif
