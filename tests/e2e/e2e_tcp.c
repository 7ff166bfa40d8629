/*  e2e_tcp: a real TCP client for the end-to-end tests, run inside the client namespace.

    e2e_tcp connect IP PORT TIMEOUT_MS
        one blocking connect, as a browser would make it; prints
        "start_ms=S end_ms=E ok=0|1 retransmits=N" (UNIX ms; retransmits from TCP_INFO)
    e2e_tcp first IP PORT TIMEOUT_MS
        try to connect every 10 ms until one succeeds; prints "first_ms=T" or fails. A
        guest that is up but not yet listening refuses at once; one not up at all leaves the
        attempt to time out after 100 ms.  */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

//  Connect to ADDRESS within TIMEOUT_MS. Returns the socket, or -1.
static int
s_connect (const struct sockaddr_in *address, int timeout_ms)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect (fd, (const struct sockaddr *) address, sizeof *address) == 0)
        return fd;
    if (errno != EINPROGRESS) {
        close (fd);
        return -1;
    }
    struct pollfd item = {fd, POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof error;
    if (poll (&item, 1, timeout_ms) != 1
        || getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &length) || error) {
        close (fd);
        return -1;
    }
    return fd;
}

int
main (int argc, char **argv)
{
    if (argc != 5 || (strcmp (argv[1], "connect") && strcmp (argv[1], "first"))) {
        fprintf (stderr, "usage: e2e_tcp connect|first IP PORT TIMEOUT_MS\n");
        return 2;
    }
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons (atoi (argv[3]))};
    if (inet_pton (AF_INET, argv[2], &address.sin_addr) != 1) {
        fprintf (stderr, "e2e_tcp: not an IPv4 address: %s\n", argv[2]);
        return 2;
    }
    int timeout_ms = atoi (argv[4]);
    long long start = s_now_ms ();
    if (strcmp (argv[1], "connect") == 0) {
        int fd = s_connect (&address, timeout_ms);
        long long end = s_now_ms ();
        struct tcp_info info;
        memset (&info, 0, sizeof info);
        socklen_t length = sizeof info;
        if (fd >= 0)
            getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &length);
        printf ("start_ms=%lld end_ms=%lld ok=%d retransmits=%u\n", start, end, fd >= 0,
                info.tcpi_total_retrans);
        if (fd >= 0)
            close (fd);
        return fd >= 0 ? 0 : 1;
    }
    while (s_now_ms () - start < timeout_ms) {
        int fd = s_connect (&address, 100);
        if (fd >= 0) {
            printf ("first_ms=%lld\n", s_now_ms ());
            close (fd);
            return 0;
        }
        usleep (10000);
    }
    fprintf (stderr, "e2e_tcp: nothing answered on %s:%s in %d ms\n", argv[2], argv[3],
             timeout_ms);
    return 1;
}
