/*  sj_netns: the network of one namespace test, made of real kernels and removed afterwards.

    Three namespaces named after the test's PID: "sjt<PID>b" holds the bridge br0 (synjitsu
    runs there), "sjt<PID>c" the client (eth0, 10.77.0.1/24) on the bridge port "cport", and
    "sjt<PID>g" the guest (eth0, 10.77.0.2/24, MAC 52:54:00:77:00:02) whose bridge-side end
    "gport" is attached only when the test calls sj_netns_attach_guest. IPv6 is off in all
    three so that only the test's own traffic crosses the bridge.

    A guardian process removes the namespaces (and kills what runs in them) when the test
    process goes away, whether it ends, fails an assertion or is killed on a timeout.  */

#ifndef SJ_NETNS_H_INCLUDED
#define SJ_NETNS_H_INCLUDED

#include <pcap/pcap.h>
#include <stdbool.h>

#define SJ_CLIENT_IP  "10.77.0.1"
#define SJ_GUEST_IP   "10.77.0.2"
#define SJ_GUEST_MAC  "52:54:00:77:00:02"

typedef enum { SJ_BRIDGE = 0, SJ_CLIENT, SJ_GUEST, SJ_ROLES } sj_role_t;

typedef struct _sj_netns_t sj_netns_t;

//  Create the namespaces, bridge and veths. Returns NULL, with REASON (SIZE bytes) saying
//  which command failed, when the machine cannot do it.
sj_netns_t *sj_netns_new (char *reason, size_t size);

//  Delete the namespaces (and everything in them). NULL-safe.
void sj_netns_destroy (sj_netns_t **self_p);

//  The namespace name of ROLE (borrowed).
const char *sj_netns_name (sj_netns_t *self, sj_role_t role);

//  Attach the guest's veth to the bridge and wait until the bridge forwards on it. Returns 0,
//  or -1.
int sj_netns_attach_guest (sj_netns_t *self);

//  A socket made inside ROLE's namespace (it stays there). Returns the fd, or -1.
int sj_netns_socket (sj_netns_t *self, sj_role_t role, int domain, int type);

//  A live, non-blocking, immediate-mode capture of IFACE inside ROLE's namespace, limited to
//  DIRECTION (PCAP_D_IN, PCAP_D_OUT or PCAP_D_INOUT). Returns NULL on failure.
pcap_t *sj_netns_pcap (sj_netns_t *self, sj_role_t role, const char *iface,
                       pcap_direction_t direction);

//  Run a shell command (printf-style); returns its exit status.
int sj_netns_run (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

#endif
