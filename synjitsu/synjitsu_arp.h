/*  synjitsu_arp: the ARP frames synjitsu sends on behalf of a booting guest.

    Two kinds: a reply to a request for the guest's address (RFC 826), which is what makes a
    Linux client send its SYN at all (it ignores gratuitous ARP, arp_accept=0), and an ARP
    Announcement (RFC 5227 section 2.3) for neighbours that do accept gratuitous ARP.  */

#ifndef SYNJITSU_ARP_H_INCLUDED
#define SYNJITSU_ARP_H_INCLUDED

#include "synjitsu_frame.h"

//  An ARP frame padded to the Ethernet minimum (60 bytes without the FCS), plus room for
//  two VLAN tags copied from a request.
#define SYNJITSU_ARP_FRAME_MIN 60
#define SYNJITSU_ARP_FRAME_MAX (SYNJITSU_ARP_FRAME_MIN + SYNJITSU_VLANS_MAX * SYNJITSU_VLAN_TAG)

//  Whether REQUEST (parsed) is an ARP request that the owner of its target address should
//  answer: a request for an IPv4 address from a host that has one. RFC 5227 probes (sender
//  address 0.0.0.0) and announcements (sender address = target address) are not answered:
//  answering a probe would tell the prober its address is taken.
bool synjitsu_arp_wants_reply (const synjitsu_frame_t *request);

//  Write into FRAME (SIZE bytes, at least SYNJITSU_ARP_FRAME_MAX) the reply to REQUEST
//  (parsed, an ARP request) saying that REQUEST's target address is at MAC, sent to the
//  requester with the request's VLAN tags. Returns the frame's size, or 0 when it does not
//  fit or REQUEST is not an ARP request.
size_t synjitsu_arp_reply (uint8_t *frame, size_t size, const synjitsu_frame_t *request,
                           const uint8_t *mac);

//  Write into FRAME an RFC 5227 ARP Announcement that IP is at MAC: a broadcast ARP request
//  whose sender and target protocol addresses are both IP and whose target hardware address
//  is zero. Returns the frame's size, or 0 when it does not fit.
size_t synjitsu_arp_announce (uint8_t *frame, size_t size, const uint8_t *mac,
                              struct in_addr ip);

#endif
