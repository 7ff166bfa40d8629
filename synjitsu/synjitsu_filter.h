/*  synjitsu_filter: the BPF filter expression for the addresses currently booting.

    The kernel should hand synjitsu only what it acts on: ARP about a booting address (requests
    to answer, the guest's own ARP), IPv4 sent by a booting guest (it is up), and TCP SYNs
    (SYN set, ACK clear) to a booting address, untagged or behind one 802.1Q tag.  */

#ifndef SYNJITSU_FILTER_H_INCLUDED
#define SYNJITSU_FILTER_H_INCLUDED

#include <netinet/in.h>
#include <stddef.h>

//  Beyond this many addresses the per-address filter would come near the kernel's limit of
//  4096 BPF instructions; synjitsu_filter_build then writes the broad filter instead (all ARP
//  and all IPv4), and the userland checks do the narrowing.
#define SYNJITSU_FILTER_HOSTS_MAX 64

//  A filter text large enough for SYNJITSU_FILTER_HOSTS_MAX addresses.
#define SYNJITSU_FILTER_TEXT_MAX  (SYNJITSU_FILTER_HOSTS_MAX * 200 + 512)

//  Write the filter for the COUNT addresses IPS into TEXT (SIZE bytes). No address gives a
//  filter that matches nothing. Returns 0, or -1 when TEXT is too small.
int synjitsu_filter_build (const struct in_addr *ips, size_t count, char *text, size_t size);

#endif
