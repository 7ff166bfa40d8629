/*  synjitsu_frame: a length-checked view of one Ethernet frame from the bridge.

    synjitsu only needs a few things out of a frame: who sent it (Ethernet and IPv4 source),
    whether it is an ARP packet and for which address, and whether it is a TCP SYN and for
    which 4-tuple.  The parser reads every field through bounds-checked helpers and never
    writes to the frame; synjitsu_frame_checksum is the one function that edits a frame (a copy
    synjitsu owns) before it is injected again.  */

#ifndef SYNJITSU_FRAME_H_INCLUDED
#define SYNJITSU_FRAME_H_INCLUDED

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYNJITSU_MAC_SIZE       6
#define SYNJITSU_ETHER_HEADER   14
#define SYNJITSU_VLAN_TAG       4
#define SYNJITSU_VLANS_MAX      2       // 802.1Q, or 802.1ad outer + 802.1Q inner
#define SYNJITSU_ETHERTYPE_IPV4 0x0800
#define SYNJITSU_ETHERTYPE_ARP  0x0806
#define SYNJITSU_ETHERTYPE_VLAN 0x8100  // IEEE 802.1Q
#define SYNJITSU_ETHERTYPE_QINQ 0x88a8  // IEEE 802.1ad
#define SYNJITSU_ARP_REQUEST    1
#define SYNJITSU_ARP_REPLY      2
#define SYNJITSU_TCP_FIN        0x01
#define SYNJITSU_TCP_SYN        0x02
#define SYNJITSU_TCP_RST        0x04
#define SYNJITSU_TCP_ACK        0x10

//  What a well-formed frame turned out to be.
typedef enum {
    SYNJITSU_FRAME_OTHER = 0,  // well-formed but nothing synjitsu handles (IPv6, LLDP, RARP...)
    SYNJITSU_FRAME_ARP,        // Ethernet/IPv4 ARP: the arp_* fields are set
    SYNJITSU_FRAME_IPV4,       // IPv4 that is not a whole TCP segment (UDP, ICMP, a fragment)
    SYNJITSU_FRAME_TCP         // IPv4 + TCP: the ip_* and tcp_* fields are set
} synjitsu_frame_kind_t;

//  One 802.1Q/802.1ad tag as it was on the wire.
typedef struct {
    uint16_t tpid;             // 0x8100 or 0x88a8
    uint16_t tci;              // priority, DEI and VLAN id
} synjitsu_vlan_t;

//  The parsed view of a frame. Offsets index the frame the view was parsed from.
typedef struct {
    synjitsu_frame_kind_t kind;
    const char *error;         // why the frame is malformed (static text), NULL when it is not
    uint8_t dst_mac[SYNJITSU_MAC_SIZE];
    uint8_t src_mac[SYNJITSU_MAC_SIZE];
    synjitsu_vlan_t vlans[SYNJITSU_VLANS_MAX];
    int vlan_count;
    uint16_t ethertype;        // the innermost one
    size_t l3_offset;          // where the ARP or IPv4 header starts

    uint16_t arp_op;           // SYNJITSU_ARP_REQUEST or _REPLY (others are kept as read)
    uint8_t arp_sha[SYNJITSU_MAC_SIZE];
    struct in_addr arp_spa;
    uint8_t arp_tha[SYNJITSU_MAC_SIZE];
    struct in_addr arp_tpa;

    struct in_addr ip_src;
    struct in_addr ip_dst;
    uint8_t ip_protocol;
    size_t ip_header_size;     // IHL * 4, options included
    size_t ip_total_size;      // the IPv4 total length: the frame may carry padding after it

    uint16_t tcp_sport;
    uint16_t tcp_dport;
    uint32_t tcp_seq;
    uint8_t tcp_flags;
    size_t tcp_offset;         // where the TCP header starts
    size_t tcp_header_size;    // data offset * 4, options included
} synjitsu_frame_t;

//  Parse SIZE bytes of DATA (borrowed, not kept) into SELF. Returns 0, or -2 when the frame is
//  malformed (SELF->error says why). Frames that are well-formed but not handled return 0
//  with kind SYNJITSU_FRAME_OTHER.
int synjitsu_frame_parse (synjitsu_frame_t *self, const uint8_t *data, size_t size);

//  Whether a parsed frame is a TCP SYN that opens a connection (SYN set, ACK and RST clear).
bool synjitsu_frame_is_syn (const synjitsu_frame_t *self);

//  Recompute the IPv4 header checksum and the TCP checksum of the IPv4/TCP frame DATA in
//  place. A SYN captured on a local veth carries only the partial checksum of checksum
//  offload, which the receiver drops silently. Returns 0, or -2 when DATA is not a well-formed
//  IPv4/TCP frame.
int synjitsu_frame_checksum (uint8_t *data, size_t size);

//  Whether the IPv4 and TCP checksums of a parsed IPv4/TCP frame DATA are correct.
bool synjitsu_frame_checksum_ok (const synjitsu_frame_t *self, const uint8_t *data);

//  Format MAC as "52:54:00:12:34:56" into TEXT (at least 18 bytes). Returns TEXT.
char *synjitsu_frame_mac_text (const uint8_t *mac, char *text);

//  Parse "52:54:00:12:34:56" into MAC. Returns 0, or -1 when TEXT is not a MAC.
int synjitsu_frame_mac_parse (const char *text, uint8_t *mac);

#endif
