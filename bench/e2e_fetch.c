/*  e2e_fetch: what a user's first visit to a summoned service costs, measured as one client.

    e2e_fetch DNS_PORT NAME NETNS TIMEOUT_MS
        asks 127.0.0.1:DNS_PORT for NAME's A record (from the namespace it was started in),
        then, inside network namespace NETNS (/run/netns/NETNS), connects to that address on
        port 80 at once, sends a GET and waits for the first byte of the answer. Prints:
        "query_ms=Q answer_ms=A connected_ms=C first_byte_ms=F retransmits=R ip=IP ok=0|1
        error=WHY" (WHY: none, no-answer, timeout, or the connect's error, e.g. ECONNREFUSED)
        with UNIX times in ms (comparable with the bus's ts) and the connect's SYN
        retransmits from TCP_INFO. Switching namespaces in-process keeps `ip netns exec` out
        of the figures.  */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (double) now.tv_sec * 1000.0 + (double) now.tv_nsec / 1e6;
}

//  Wait up to TIMEOUT_MS for EVENTS on FD; returns whether they came.
static int
s_wait (int fd, short events, int timeout_ms)
{
    struct pollfd item = {fd, events, 0};
    return poll (&item, 1, timeout_ms) == 1;
}

//  Resolve NAME at 127.0.0.1:PORT into ADDRESS (text). Returns 0, or -1.
static int
s_resolve (int port, const char *name, int timeout_ms, char *address, size_t size)
{
    ldns_rdf *owner = ldns_dname_new_frm_str (name);
    ldns_pkt *query = owner ? ldns_pkt_query_new (owner, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0)
                            : NULL;
    uint8_t *wire = NULL;
    size_t wire_size = 0;
    int rc = -1;
    int fd = socket (AF_INET, SOCK_DGRAM, 0);
    if (!query || fd < 0)
        goto done;
    ldns_pkt_set_random_id (query);
    if (ldns_pkt2wire (&wire, query, &wire_size) != LDNS_STATUS_OK)
        goto done;
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons (port)};
    inet_pton (AF_INET, "127.0.0.1", &server.sin_addr);
    if (sendto (fd, wire, wire_size, 0, (struct sockaddr *) &server, sizeof server) < 0
        || !s_wait (fd, POLLIN, timeout_ms))
        goto done;
    uint8_t buffer[4096];
    ssize_t got = recv (fd, buffer, sizeof buffer, 0);
    ldns_pkt *answer = NULL;
    if (got <= 0 || ldns_wire2pkt (&answer, buffer, (size_t) got) != LDNS_STATUS_OK)
        goto done;
    ldns_rr_list *records = ldns_pkt_rr_list_by_type (answer, LDNS_RR_TYPE_A, LDNS_SECTION_ANSWER);
    if (records && ldns_rr_list_rr_count (records) > 0) {
        ldns_rdf *data = ldns_rr_rdf (ldns_rr_list_rr (records, 0), 0);
        char *text = ldns_rdf2str (data);
        if (text && strlen (text) < size) {
            strcpy (address, text);
            rc = 0;
        }
        free (text);
    }
    ldns_rr_list_deep_free (records);
    ldns_pkt_free (answer);
done:
    if (fd >= 0)
        close (fd);
    free (wire);
    ldns_pkt_free (query);  // frees owner too
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc != 5) {
        fprintf (stderr, "usage: e2e_fetch DNS_PORT NAME NETNS TIMEOUT_MS\n");
        return 2;
    }
    int timeout_ms = atoi (argv[4]);
    char netns[256];
    snprintf (netns, sizeof netns, "/run/netns/%s", argv[3]);
    int netns_fd = open (netns, O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0) {
        fprintf (stderr, "e2e_fetch: %s: %s\n", netns, strerror (errno));
        return 2;
    }
    char address[64] = "-";
    double query = s_now_ms (), answer = 0, connected = 0, first_byte = 0;
    unsigned retransmits = 0;
    int ok = 0;
    const char *why = "no-answer";
    if (s_resolve (atoi (argv[1]), argv[2], timeout_ms, address, sizeof address) == 0) {
        answer = s_now_ms ();
        if (setns (netns_fd, CLONE_NEWNET)) {
            fprintf (stderr, "e2e_fetch: setns %s: %s\n", netns, strerror (errno));
            return 2;
        }
        struct sockaddr_in guest = {.sin_family = AF_INET, .sin_port = htons (80)};
        inet_pton (AF_INET, address, &guest.sin_addr);
        int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        int error = 0;
        socklen_t length = sizeof error;
        why = "timeout";
        if (fd >= 0
            && (connect (fd, (struct sockaddr *) &guest, sizeof guest) == 0 || errno == EINPROGRESS)
            && s_wait (fd, POLLOUT, timeout_ms)
            && getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0) {
            connected = s_now_ms ();
            struct tcp_info info;
            memset (&info, 0, sizeof info);
            length = sizeof info;
            getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &length);
            retransmits = info.tcpi_total_retrans;
            const char request[] = "GET / HTTP/1.0\r\n\r\n";
            char byte;
            if (send (fd, request, sizeof request - 1, 0) == (ssize_t) sizeof request - 1
                && s_wait (fd, POLLIN, timeout_ms) && recv (fd, &byte, 1, 0) == 1) {
                first_byte = s_now_ms ();
                ok = 1;
                why = "none";
            }
        }
        else if (error)
            why = strerrorname_np (error);
        if (fd >= 0)
            close (fd);
    }
    printf ("query_ms=%.1f answer_ms=%.1f connected_ms=%.1f first_byte_ms=%.1f retransmits=%u "
            "ip=%s ok=%d error=%s\n",
            query, answer, connected, first_byte, retransmits, address, ok, why);
    return ok ? 0 : 1;
}
