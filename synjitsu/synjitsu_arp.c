/*  synjitsu_arp: building ARP replies (RFC 826) and announcements (RFC 5227).  */

#include <string.h>

#include "synjitsu_arp.h"

bool
synjitsu_arp_wants_reply (const synjitsu_frame_t *request)
{
    return request->kind == SYNJITSU_FRAME_ARP && request->arp_op == SYNJITSU_ARP_REQUEST
           && request->arp_spa.s_addr != INADDR_ANY
           && request->arp_spa.s_addr != request->arp_tpa.s_addr;
}

static void
s_put16 (uint8_t *at, uint16_t value)
{
    at[0] = (uint8_t) (value >> 8);
    at[1] = (uint8_t) value;
}

//  Write an Ethernet/IPv4 ARP packet at FRAME + OFFSET (RFC 826 packet format) and pad the
//  frame to the Ethernet minimum. Returns the frame's size.
static size_t
s_arp_body (uint8_t *frame, size_t offset, uint16_t op, const uint8_t *sha, struct in_addr spa,
            const uint8_t *tha, struct in_addr tpa)
{
    uint8_t *arp = frame + offset;
    s_put16 (arp, 1);                        // ar$hrd: Ethernet
    s_put16 (arp + 2, SYNJITSU_ETHERTYPE_IPV4);  // ar$pro: IPv4
    arp[4] = 6;                              // ar$hln
    arp[5] = 4;                              // ar$pln
    s_put16 (arp + 6, op);                   // ar$op
    memcpy (arp + 8, sha, 6);
    memcpy (arp + 14, &spa.s_addr, 4);
    memcpy (arp + 18, tha, 6);
    memcpy (arp + 24, &tpa.s_addr, 4);
    size_t length = offset + 28;
    if (length < SYNJITSU_ARP_FRAME_MIN) {
        memset (frame + length, 0, SYNJITSU_ARP_FRAME_MIN - length);
        length = SYNJITSU_ARP_FRAME_MIN;
    }
    return length;
}

size_t
synjitsu_arp_reply (uint8_t *frame, size_t size, const synjitsu_frame_t *request,
                    const uint8_t *mac)
{
    if (size < SYNJITSU_ARP_FRAME_MAX || request->kind != SYNJITSU_FRAME_ARP
        || request->arp_op != SYNJITSU_ARP_REQUEST)
        return 0;
    //  RFC 826: the reply goes to the requester's hardware address (ar$sha), on the same
    //  network, so it carries the request's VLAN tags.
    memcpy (frame, request->arp_sha, 6);
    memcpy (frame + 6, mac, 6);
    size_t offset = 12;
    for (int index = 0; index < request->vlan_count; index++) {
        s_put16 (frame + offset, request->vlans[index].tpid);
        s_put16 (frame + offset + 2, request->vlans[index].tci);
        offset += SYNJITSU_VLAN_TAG;
    }
    s_put16 (frame + offset, SYNJITSU_ETHERTYPE_ARP);
    //  Swap the roles: we are the target; the requester becomes the target of the reply.
    return s_arp_body (frame, offset + 2, SYNJITSU_ARP_REPLY, mac, request->arp_tpa,
                       request->arp_sha, request->arp_spa);
}

size_t
synjitsu_arp_announce (uint8_t *frame, size_t size, const uint8_t *mac, struct in_addr ip)
{
    static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t zero[6] = {0};
    if (size < SYNJITSU_ARP_FRAME_MAX)
        return 0;
    memcpy (frame, broadcast, 6);
    memcpy (frame + 6, mac, 6);
    s_put16 (frame + 12, SYNJITSU_ETHERTYPE_ARP);
    //  RFC 5227 section 2.3: an ARP Announcement is an ARP Request with the sender and target
    //  IP addresses both set to the host's address and the target hardware address zero.
    return s_arp_body (frame, 14, SYNJITSU_ARP_REQUEST, mac, ip, zero, ip);
}
