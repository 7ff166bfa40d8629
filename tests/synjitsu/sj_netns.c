/*  sj_netns: namespaces, bridge and veths for synjitsu's tests, with a guardian.  */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sj_netns.h"

struct _sj_netns_t {
    char names[SJ_ROLES][32];
    int guardian_fd;           // write end of the guardian's pipe; closing it wakes it
    pid_t guardian;
};

int
sj_netns_run (const char *format, ...)
{
    char command[1024];
    va_list arguments;
    va_start (arguments, format);
    vsnprintf (command, sizeof command, format, arguments);
    va_end (arguments);
    fflush (NULL);
    int status = system (command);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  Kill what still runs in the namespaces (only processes of ours live there), then delete
//  them. Deleting a namespace destroys its veths and bridge.
static void
s_remove (char names[SJ_ROLES][32])
{
    for (int role = 0; role < SJ_ROLES; role++) {
        sj_netns_run ("ip netns pids %s 2>/dev/null | xargs -r kill -9 2>/dev/null", names[role]);
        sj_netns_run ("ip netns del %s 2>/dev/null", names[role]);
    }
}

//  The guardian: wait for the test process to close the pipe (or die), then clean up.
static void
s_guardian (int read_fd, char names[SJ_ROLES][32])
{
    setsid ();
    int null_fd = open ("/dev/null", O_RDWR);
    dup2 (null_fd, 0);
    dup2 (null_fd, 1);
    dup2 (null_fd, 2);
    //  Hold nothing of the test process's: the test runner waits on some of its pipes.
    for (int fd = 3; fd < 1024; fd++)
        if (fd != read_fd)
            close (fd);
    char byte;
    while (read (read_fd, &byte, 1) < 0 && errno == EINTR)
        ;
    s_remove (names);
    _exit (0);
}

sj_netns_t *
sj_netns_new (char *reason, size_t size)
{
    sj_netns_t *self = (sj_netns_t *) calloc (1, sizeof (sj_netns_t));
    self->guardian_fd = -1;
    const char suffix[SJ_ROLES] = {'b', 'c', 'g'};
    for (int role = 0; role < SJ_ROLES; role++)
        snprintf (self->names[role], sizeof self->names[role], "sjt%d%c", (int) getpid (),
                  suffix[role]);
    int pipe_fds[2];
    if (pipe2 (pipe_fds, O_CLOEXEC)) {
        snprintf (reason, size, "pipe2: %s", strerror (errno));
        free (self);
        return NULL;
    }
    fflush (NULL);
    self->guardian = fork ();
    if (self->guardian == 0) {
        close (pipe_fds[1]);
        s_guardian (pipe_fds[0], self->names);
    }
    close (pipe_fds[0]);
    self->guardian_fd = pipe_fds[1];

    const char *b = self->names[SJ_BRIDGE], *c = self->names[SJ_CLIENT];
    const char *g = self->names[SJ_GUEST];
    char commands[][256] = {"", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""};
    int count = 0;
    snprintf (commands[count++], 256, "ip netns add %s && ip netns add %s && ip netns add %s",
              b, c, g);
    for (int role = 0; role < SJ_ROLES; role++)
        snprintf (commands[count++], 256,
                  "ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
                  "net.ipv6.conf.default.disable_ipv6=1 && ip -n %s link set lo up",
                  self->names[role], self->names[role]);
    snprintf (commands[count++], 256,
              "ip -n %s link add br0 type bridge stp_state 0 && ip -n %s link set br0 up", b, b);
    snprintf (commands[count++], 256, "ip -n %s link add cport type veth peer name eth0 netns %s",
              b, c);
    snprintf (commands[count++], 256, "ip -n %s link set cport master br0 up", b);
    snprintf (commands[count++], 256,
              "ip -n %s addr add " SJ_CLIENT_IP "/24 dev eth0 && ip -n %s link set eth0 up", c, c);
    snprintf (commands[count++], 256, "ip -n %s link add gport type veth peer name eth0 netns %s",
              b, g);
    snprintf (commands[count++], 256,
              "ip -n %s link set eth0 address " SJ_GUEST_MAC " && ip -n %s addr add " SJ_GUEST_IP
              "/24 dev eth0 && ip -n %s link set eth0 up",
              g, g, g);
    for (int index = 0; index < count; index++)
        if (sj_netns_run ("%s", commands[index])) {
            snprintf (reason, size, "command failed: %s", commands[index]);
            sj_netns_destroy (&self);
            return NULL;
        }
    return self;
}

void
sj_netns_destroy (sj_netns_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sj_netns_t *self = *self_p;
    s_remove (self->names);
    if (self->guardian_fd >= 0)
        close (self->guardian_fd);
    if (self->guardian > 0)
        waitpid (self->guardian, NULL, 0);
    free (self);
    *self_p = NULL;
}

const char *
sj_netns_name (sj_netns_t *self, sj_role_t role)
{
    return self->names[role];
}

int
sj_netns_attach_guest (sj_netns_t *self)
{
    const char *b = self->names[SJ_BRIDGE];
    if (sj_netns_run ("ip -n %s link set gport master br0 up", b))
        return -1;
    //  The port forwards once the kernel has seen the veth's carrier come up; a vm.ready
    //  sent before that would replay into a port that still drops.
    for (int tries = 0; tries < 200; tries++) {
        if (sj_netns_run ("bridge -n %s link show dev gport | grep -q 'state forwarding'", b)
            == 0)
            return 0;
        usleep (10000);
    }
    return -1;
}

//  Enter ROLE's namespace; returns an fd of the namespace to come back to, or -1.
static int
s_enter (sj_netns_t *self, sj_role_t role)
{
    char path[128];
    snprintf (path, sizeof path, "/run/netns/%s", self->names[role]);
    int home = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = open (path, O_RDONLY | O_CLOEXEC);
    if (home < 0 || target < 0 || setns (target, CLONE_NEWNET)) {
        if (home >= 0)
            close (home);
        home = -1;
    }
    if (target >= 0)
        close (target);
    return home;
}

static void
s_leave (int home)
{
    if (setns (home, CLONE_NEWNET))
        abort ();  // the test would go on in the wrong namespace
    close (home);
}

int
sj_netns_socket (sj_netns_t *self, sj_role_t role, int domain, int type)
{
    int home = s_enter (self, role);
    if (home < 0)
        return -1;
    int fd = socket (domain, type | SOCK_CLOEXEC, 0);
    s_leave (home);
    return fd;
}

pcap_t *
sj_netns_pcap (sj_netns_t *self, sj_role_t role, const char *iface, pcap_direction_t direction)
{
    int home = s_enter (self, role);
    if (home < 0)
        return NULL;
    char error[PCAP_ERRBUF_SIZE];
    pcap_t *pcap = pcap_create (iface, error);
    if (pcap
        && (pcap_set_snaplen (pcap, 65535) || pcap_set_immediate_mode (pcap, 1)
            || pcap_activate (pcap) < 0 || pcap_setdirection (pcap, direction)
            || pcap_setnonblock (pcap, 1, error) < 0)) {
        pcap_close (pcap);
        pcap = NULL;
    }
    s_leave (home);
    return pcap;
}
