/*  synjitsu_capture: libpcap on Linux, with promiscuous mode driven by packet membership.  */

#include <czmq.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <pcap/pcap.h>

#include "synjitsu_capture.h"

struct _synjitsu_capture_t {
    pcap_t *pcap;                 // owned
    int fd;                       // borrowed from pcap: its packet socket
    int ifindex;
    bool promisc;
    uint8_t mac[6];
    char device[IF_NAMESIZE];
    synjitsu_capture_fn *handler; // during dispatch only
    void *argument;
};

synjitsu_capture_t *
synjitsu_capture_new (const char *device)
{
    assert (device);
    synjitsu_capture_t *self = (synjitsu_capture_t *) zmalloc (sizeof (synjitsu_capture_t));
    self->fd = -1;
    char error[PCAP_ERRBUF_SIZE] = "";
    snprintf (self->device, sizeof self->device, "%s", device);
    self->ifindex = (int) if_nametoindex (device);
    if (self->ifindex == 0) {
        zsys_error ("synjitsu_capture: if_nametoindex failed device=%s error=%s", device,
                    strerror (errno));
        goto failed;
    }
    self->pcap = pcap_create (device, error);
    if (!self->pcap) {
        zsys_error ("synjitsu_capture: pcap_create failed device=%s error=%s", device, error);
        goto failed;
    }
    int rc = 0;
    if (pcap_set_snaplen (self->pcap, SYNJITSU_SNAPLEN)
        || pcap_set_immediate_mode (self->pcap, 1)
        || pcap_set_promisc (self->pcap, 0)
        || (rc = pcap_activate (self->pcap)) < 0) {
        zsys_error ("synjitsu_capture: pcap_activate failed device=%s error=%s", device,
                    pcap_geterr (self->pcap));
        goto failed;
    }
    if (rc > 0)
        zsys_warning ("synjitsu_capture: pcap_activate warning device=%s warning=%s", device,
                      pcap_geterr (self->pcap));
    if (pcap_datalink (self->pcap) != DLT_EN10MB) {
        zsys_error ("synjitsu_capture: not an Ethernet device device=%s datalink=%s", device,
                    pcap_datalink_val_to_name (pcap_datalink (self->pcap)));
        goto failed;
    }
    if (pcap_setnonblock (self->pcap, 1, error) < 0) {
        zsys_error ("synjitsu_capture: pcap_setnonblock failed error=%s", error);
        goto failed;
    }
    self->fd = pcap_get_selectable_fd (self->pcap);
    if (self->fd < 0) {
        zsys_error ("synjitsu_capture: no selectable fd device=%s", device);
        goto failed;
    }
    struct ifreq request = {0};
    snprintf (request.ifr_name, sizeof request.ifr_name, "%s", device);
    if (ioctl (self->fd, SIOCGIFHWADDR, &request)) {
        zsys_error ("synjitsu_capture: SIOCGIFHWADDR failed device=%s error=%s", device,
                    strerror (errno));
        goto failed;
    }
    memcpy (self->mac, request.ifr_hwaddr.sa_data, 6);
    return self;
failed:
    synjitsu_capture_destroy (&self);
    return NULL;
}

void
synjitsu_capture_destroy (synjitsu_capture_t **self_p)
{
    assert (self_p);
    synjitsu_capture_t *self = *self_p;
    if (!self)
        return;
    //  Closing the packet socket drops its membership, and with it the promiscuous mode.
    if (self->pcap)
        pcap_close (self->pcap);
    free (self);
    *self_p = NULL;
}

const uint8_t *
synjitsu_capture_mac (synjitsu_capture_t *self)
{
    assert (self);
    return self->mac;
}

int
synjitsu_capture_ifindex (synjitsu_capture_t *self)
{
    assert (self);
    return self->ifindex;
}

int
synjitsu_capture_fd (synjitsu_capture_t *self)
{
    assert (self);
    return self->fd;
}

int
synjitsu_capture_set_filter (synjitsu_capture_t *self, const char *text)
{
    assert (self);
    struct bpf_program program;
    if (pcap_compile (self->pcap, &program, text, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        zsys_error ("synjitsu_capture: pcap_compile failed error=%s", pcap_geterr (self->pcap));
        return -1;
    }
    int rc = pcap_setfilter (self->pcap, &program);
    if (rc < 0)
        zsys_error ("synjitsu_capture: pcap_setfilter failed error=%s",
                    pcap_geterr (self->pcap));
    pcap_freecode (&program);
    return rc < 0 ? -1 : 0;
}

int
synjitsu_capture_set_promisc (synjitsu_capture_t *self, bool on)
{
    assert (self);
    if (self->promisc == on)
        return 0;
    //  Membership on our own socket (packet(7)): the kernel counts promiscuity per socket and
    //  takes ours back when the socket closes, even if the process is killed.
    struct packet_mreq request = {0};
    request.mr_ifindex = self->ifindex;
    request.mr_type = PACKET_MR_PROMISC;
    int option = on ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP;
    if (setsockopt (self->fd, SOL_PACKET, option, &request, sizeof request)) {
        zsys_error ("synjitsu_capture: setsockopt PACKET_MR_PROMISC failed device=%s error=%s",
                    self->device, strerror (errno));
        return -1;
    }
    self->promisc = on;
    return 0;
}

static void
s_on_frame (u_char *argument, const struct pcap_pkthdr *header, const u_char *bytes)
{
    synjitsu_capture_t *self = (synjitsu_capture_t *) argument;
    self->handler (self->argument, bytes, header->caplen, header->len);
}

int
synjitsu_capture_dispatch (synjitsu_capture_t *self, int max, synjitsu_capture_fn *handler,
                           void *argument)
{
    assert (self);
    self->handler = handler;
    self->argument = argument;
    int count = pcap_dispatch (self->pcap, max, s_on_frame, (u_char *) self);
    if (count == PCAP_ERROR)
        zsys_error ("synjitsu_capture: pcap_dispatch failed device=%s error=%s", self->device,
                    pcap_geterr (self->pcap));
    return count < 0 ? -1 : count;
}

int
synjitsu_capture_inject (synjitsu_capture_t *self, const uint8_t *data, size_t size)
{
    assert (self);
    int sent = pcap_inject (self->pcap, data, size);
    if (sent < 0 || (size_t) sent != size) {
        zsys_warning ("synjitsu_capture: pcap_inject failed device=%s error=%s", self->device,
                      pcap_geterr (self->pcap));
        return -1;
    }
    return 0;
}

uint64_t
synjitsu_capture_drops (synjitsu_capture_t *self)
{
    assert (self);
    struct pcap_stat stats;
    if (pcap_stats (self->pcap, &stats))
        return 0;
    return stats.ps_drop;
}
