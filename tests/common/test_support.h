/*  test_support: what integration and socket tests share: temporary run directories, real
    processes started and stopped by PID, and waiting on files they write.  */

#ifndef TEST_SUPPORT_H_INCLUDED
#define TEST_SUPPORT_H_INCLUDED

#include <czmq.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>

//  Create a fresh run directory under /tmp (short: ipc paths are limited) and point
//  JITSU_RUN_DIR at it. Returns the path; free it with test_rundir_destroy.
char *test_rundir_new (void);

//  Remove the run directory and everything in it, free PATH and null it. NULL-safe.
void test_rundir_destroy (char **path_p);

//  Start ARGV (NULL-terminated) as a child with stdout and stderr sent to the given files
//  (NULL: inherited). Returns its PID, or -1.
pid_t test_spawn (char *const argv[], const char *stdout_path, const char *stderr_path);

//  Run PROGRAM with the arguments ARGS (FIRST, then the rest up to a NULL; 30 at most), stdout
//  and stderr sent to the given files, and wait for it. Returns its exit status, or -1.
int test_vrun (const char *stdout_path, const char *stderr_path, const char *program,
               const char *first, va_list args);

//  Send SIGNAL to PID and reap it, waiting at most TIMEOUT_MS before SIGKILL. Returns the
//  wait status.
int test_stop (pid_t pid, int signal, int timeout_ms);

//  SIGKILL and reap every child test_spawn started that is still running. Call it from a
//  suite's .fini so a failed assertion leaves no process behind.
void test_reap_all (void);

//  Wait until PATH exists. Returns true, or false after TIMEOUT_MS.
bool test_wait_path (const char *path, int timeout_ms);

//  Count the newline-terminated lines in PATH (0 when it does not exist).
int test_count_lines (const char *path);

//  Wait until PATH holds at least LINES lines. Returns true, or false after TIMEOUT_MS.
bool test_wait_lines (const char *path, int lines, int timeout_ms);

//  Start jitsu-bus for RUN_DIR (logging to RUN_DIR/bus.log) and wait until it listens.
//  Returns its PID, or -1.
pid_t test_start_bus (const char *run_dir);

//  Start jitsu-statestore for RUN_DIR with its repository in RUN_DIR/state.git, heartbeats
//  every 200 ms, and EXTRA (may be NULL: more "key": value pairs for its config, without
//  braces). Logs to RUN_DIR/statestore.log. Waits until it listens. Returns its PID, or -1.
pid_t test_start_statestore (const char *run_dir, const char *extra);

//  Start jitsu-bus, then jitsu-statestore without EXTRA, for RUN_DIR as the two above do; their
//  PIDs go to *BUS and *STATESTORE (-1 for one that did not start). Returns 0 when both started,
//  or -1.
int test_start_bus_and_statestore (const char *run_dir, pid_t *bus, pid_t *statestore);

//  Write FORMAT (printf-style) to PATH, created or truncated. Returns 0, or -1.
int test_write_file (const char *path, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Write TEXT to a new file /tmp/jt-test-XXXXXX. Returns its path, in a buffer the next call
//  reuses (unlink the file when done). Aborts the test when /tmp cannot be written.
const char *test_write_temp (const char *text);

//  A TCP socket listening on the loopback address of FAMILY (AF_INET or AF_INET6) at PORT (0:
//  any) with BACKLOG, SO_REUSEADDR set so a port just released can be taken again. Returns the
//  fd, or -1.
int test_listen (int family, int port, int backlog);

//  A loopback TCP port of FAMILY that nothing listens on (taken, read back and released), or
//  -1.
int test_free_port (int family);

//  A raw publisher, an XPUB socket that bypasses the codec, connected to ENDPOINT (the bus's
//  bus_in). Returns once a subscription reached it, so what it sends next is not dropped; NULL
//  when the socket cannot be made or no subscription came.
zsock_t *test_raw_publisher (const char *endpoint);

//  Run a shell COMMAND and return its exit status (-1 if it did not exit normally).
int test_shell (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  Whether the process runs as root (tests needing root print why they skip).
bool test_is_root (void);

#endif
