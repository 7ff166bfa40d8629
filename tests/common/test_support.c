/*  test_support: processes, run directories and files for tests.  */

#include <czmq.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include "test_support.h"

char *
test_rundir_new (void)
{
    char *path = strdup ("/tmp/jt-XXXXXX");
    if (!path || !mkdtemp (path)) {
        free (path);
        return NULL;
    }
    setenv ("JITSU_RUN_DIR", path, 1);
    return path;
}

static int
s_remove (const char *path, const struct stat *status, int flag, struct FTW *walk)
{
    return remove (path);
}

void
test_rundir_destroy (char **path_p)
{
    if (!path_p || !*path_p)
        return;
    //  JITSU_TEST_KEEP=1 keeps run directories (logs, outputs) for a post-mortem.
    const char *keep = getenv ("JITSU_TEST_KEEP");
    if (keep && *keep && strcmp (keep, "0") != 0) {
        fprintf (stderr, "test run directory kept: %s\n", *path_p);
        free (*path_p);
        *path_p = NULL;
        return;
    }
    nftw (*path_p, s_remove, 16, FTW_DEPTH | FTW_PHYS);
    free (*path_p);
    *path_p = NULL;
}

int
test_vrun (const char *stdout_path, const char *stderr_path, const char *program,
           const char *first, va_list args)
{
    char *argv[32] = {(char *) program};
    int count = 1;
    for (const char *arg = first; arg && count < 31; arg = va_arg (args, const char *))
        argv[count++] = (char *) arg;
    argv[count] = NULL;
    pid_t pid = test_spawn (argv, stdout_path, stderr_path);
    int status = 0;
    if (pid < 0 || waitpid (pid, &status, 0) != pid)
        return -1;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  Children started by test_spawn, so a test that fails half-way leaves none running.
#define S_CHILDREN_MAX 64
static pid_t s_children[S_CHILDREN_MAX];

pid_t
test_spawn (char *const argv[], const char *stdout_path, const char *stderr_path)
{
    fflush (NULL);
    pid_t pid = fork ();
    if (pid > 0) {
        for (int index = 0; index < S_CHILDREN_MAX; index++)
            if (s_children[index] == 0) {
                s_children[index] = pid;
                break;
            }
    }
    if (pid != 0)
        return pid;
    const char *paths[2] = {stdout_path, stderr_path};
    for (int index = 0; index < 2; index++) {
        if (!paths[index])
            continue;
        int fd = open (paths[index], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        if (fd < 0 || dup2 (fd, index + 1) < 0)
            _exit (126);
        close (fd);
    }
    execv (argv[0], argv);
    _exit (127);
}

int
test_stop (pid_t pid, int signal, int timeout_ms)
{
    int status = 0;
    kill (pid, signal);
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (waitpid (pid, &status, WNOHANG) == pid)
            return status;
        zclock_sleep (10);
    }
    kill (pid, SIGKILL);
    waitpid (pid, &status, 0);
    return status;
}

void
test_reap_all (void)
{
    for (int index = 0; index < S_CHILDREN_MAX; index++) {
        pid_t pid = s_children[index];
        s_children[index] = 0;
        //  Only our own children: waitpid fails for PIDs already reaped by the test.
        if (pid > 0 && waitpid (pid, NULL, WNOHANG) == 0) {
            kill (pid, SIGKILL);
            waitpid (pid, NULL, 0);
        }
    }
}

bool
test_wait_path (const char *path, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (access (path, F_OK) == 0)
            return true;
        zclock_sleep (10);
    }
    return false;
}

int
test_count_lines (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    int lines = 0, c;
    while ((c = fgetc (file)) != EOF)
        lines += c == '\n';
    fclose (file);
    return lines;
}

bool
test_wait_lines (const char *path, int lines, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        if (test_count_lines (path) >= lines)
            return true;
        zclock_sleep (20);
    }
    return false;
}

pid_t
test_start_bus (const char *run_dir)
{
    char log[512], socket_path[512];
    snprintf (log, sizeof log, "%s/bus.log", run_dir);
    snprintf (socket_path, sizeof socket_path, "%s/bus-in", run_dir);
    char *argv[] = {JITSU_BUILD_DIR "/bus/jitsu-bus", NULL};
    pid_t pid = test_spawn (argv, log, log);
    return pid > 0 && test_wait_path (socket_path, 5000) ? pid : -1;
}

pid_t
test_start_statestore (const char *run_dir, const char *extra)
{
    char config[512], log[512], socket_path[512];
    snprintf (config, sizeof config, "%s/statestore.json", run_dir);
    snprintf (log, sizeof log, "%s/statestore.log", run_dir);
    snprintf (socket_path, sizeof socket_path, "%s/state", run_dir);
    if (test_write_file (config, "{\"repo\": \"%s/state.git\", \"heartbeat_ms\": 200%s%s}\n",
                         run_dir, extra ? ", " : "", extra ? extra : ""))
        return -1;
    unlink (socket_path);  // a killed predecessor's socket must not count as "listening"
    char *argv[] = {JITSU_BUILD_DIR "/statestore/jitsu-statestore", "-c", config, NULL};
    pid_t pid = test_spawn (argv, log, log);
    return pid > 0 && test_wait_path (socket_path, 10000) ? pid : -1;
}

int
test_start_bus_and_statestore (const char *run_dir, pid_t *bus, pid_t *statestore)
{
    *bus = test_start_bus (run_dir);
    *statestore = test_start_statestore (run_dir, NULL);
    return *bus > 0 && *statestore > 0 ? 0 : -1;
}

int
test_write_file (const char *path, const char *format, ...)
{
    FILE *file = fopen (path, "w");
    if (!file)
        return -1;
    va_list args;
    va_start (args, format);
    int written = vfprintf (file, format, args);
    va_end (args);
    return fclose (file) || written < 0 ? -1 : 0;
}

const char *
test_write_temp (const char *text)
{
    static char path[32];
    strcpy (path, "/tmp/jt-test-XXXXXX");
    int fd = mkstemp (path);
    size_t length = strlen (text);
    if (fd < 0 || write (fd, text, length) != (ssize_t) length) {
        fprintf (stderr, "test_write_temp: cannot write %s: %s\n", path, strerror (errno));
        abort ();
    }
    close (fd);
    return path;
}

//  Fill STORAGE with the loopback address of FAMILY at PORT. Returns its length.
static socklen_t
s_loopback (int family, int port, struct sockaddr_storage *storage)
{
    memset (storage, 0, sizeof *storage);
    if (family == AF_INET6) {
        struct sockaddr_in6 *address = (struct sockaddr_in6 *) storage;
        address->sin6_family = AF_INET6;
        address->sin6_port = htons ((uint16_t) port);
        address->sin6_addr = in6addr_loopback;
        return sizeof *address;
    }
    struct sockaddr_in *address = (struct sockaddr_in *) storage;
    address->sin_family = AF_INET;
    address->sin_port = htons ((uint16_t) port);
    address->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    return sizeof *address;
}

int
test_listen (int family, int port, int backlog)
{
    struct sockaddr_storage storage;
    socklen_t length = s_loopback (family, port, &storage);
    int fd = socket (family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int yes = 1;
    if (setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes)
        || bind (fd, (struct sockaddr *) &storage, length) || listen (fd, backlog)) {
        close (fd);
        return -1;
    }
    return fd;
}

int
test_free_port (int family)
{
    int fd = test_listen (family, 0, 1);
    if (fd < 0)
        return -1;
    struct sockaddr_storage storage;
    socklen_t length = sizeof storage;
    int rc = getsockname (fd, (struct sockaddr *) &storage, &length);
    close (fd);
    if (rc)
        return -1;
    return ntohs (family == AF_INET6 ? ((struct sockaddr_in6 *) &storage)->sin6_port
                                     : ((struct sockaddr_in *) &storage)->sin_port);
}

zsock_t *
test_raw_publisher (const char *endpoint)
{
    zsock_t *raw = zsock_new (ZMQ_XPUB);
    if (!raw || zsock_connect (raw, "%s", endpoint)) {
        zsock_destroy (&raw);
        return NULL;
    }
    zframe_t *subscription = zframe_recv (raw);
    if (!subscription)
        zsock_destroy (&raw);
    zframe_destroy (&subscription);
    return raw;
}

int
test_shell (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *command = zsys_vprintf (format, args);
    va_end (args);
    int status = system (command);
    zstr_free (&command);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

bool
test_is_root (void)
{
    return geteuid () == 0;
}
