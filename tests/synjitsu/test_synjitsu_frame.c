/*  synjitsu_frame: the golden captures in data/ (see data/README.md) parse as they should;
    every malformed frame is refused with its reason; checksums are recomputed as tcpdump
    computes them.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "sj_pcap.h"
#include "synjitsu_frame.h"

static sj_frames_t *
s_read (const char *name)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", TEST_DATA_DIR, name);
    sj_frames_t *frames = sj_frames_read (path);
    cr_assert (not (eq (ptr, frames, NULL)), "cannot read %s", path);
    return frames;
}

static uint32_t
s_ip (const char *text)
{
    struct in_addr address;
    inet_pton (AF_INET, text, &address);
    return address.s_addr;
}

//  What each frame of valid.pcap is, in the order make_pcaps.py writes them.
typedef struct {
    synjitsu_frame_kind_t kind;
    int vlan_count;
    bool syn;            // synjitsu_frame_is_syn
    uint16_t arp_op;     // ARP frames
    size_t ip_header;    // IPv4 frames
} s_expected_t;

static const s_expected_t s_valid[] = {
    {SYNJITSU_FRAME_ARP, 0, false, SYNJITSU_ARP_REQUEST, 0},   // 0 request
    {SYNJITSU_FRAME_ARP, 0, false, SYNJITSU_ARP_REPLY, 0},     // 1 reply, padded
    {SYNJITSU_FRAME_ARP, 0, false, SYNJITSU_ARP_REQUEST, 0},   // 2 announcement
    {SYNJITSU_FRAME_ARP, 0, false, SYNJITSU_ARP_REQUEST, 0},   // 3 probe
    {SYNJITSU_FRAME_TCP, 0, true, 0, 20},                      // 4 SYN
    {SYNJITSU_FRAME_TCP, 0, true, 0, 24},                      // 5 SYN, IPv4 option
    {SYNJITSU_FRAME_TCP, 1, true, 0, 20},                      // 6 802.1Q SYN
    {SYNJITSU_FRAME_TCP, 2, true, 0, 20},                      // 7 802.1ad + 802.1Q SYN
    {SYNJITSU_FRAME_TCP, 0, false, 0, 20},                     // 8 SYN/ACK
    {SYNJITSU_FRAME_IPV4, 0, false, 0, 20},                    // 9 UDP
    {SYNJITSU_FRAME_IPV4, 0, false, 0, 20},                    // 10 TCP fragment
    {SYNJITSU_FRAME_OTHER, 0, false, 0, 0},                    // 11 IPv6
    {SYNJITSU_FRAME_OTHER, 0, false, 0, 0},                    // 12 ARP, IEEE 802 hardware
    {SYNJITSU_FRAME_OTHER, 0, false, 0, 0},                    // 13 802.3 LLC
    {SYNJITSU_FRAME_TCP, 0, false, 0, 20},                     // 14 RST, padded
    {SYNJITSU_FRAME_OTHER, 2, false, 0, 0},                    // 15 three tags
};

Test (synjitsu_frame, golden_valid_frames_parse_as_listed)
{
    sj_frames_t *frames = s_read ("valid.pcap");
    size_t expected_count = sizeof s_valid / sizeof s_valid[0];
    cr_assert (eq (sz, frames->count, expected_count));
    for (size_t index = 0; index < frames->count; index++) {
        synjitsu_frame_t frame;
        int rc = synjitsu_frame_parse (&frame, frames->frames[index].data,
                                       frames->frames[index].size);
        cr_assert (eq (int, rc, 0), "frame %zu: %s", index, frame.error);
        cr_assert (eq (int, frame.kind, s_valid[index].kind), "frame %zu", index);
        cr_assert (eq (int, frame.vlan_count, s_valid[index].vlan_count), "frame %zu", index);
        cr_assert (eq (int, synjitsu_frame_is_syn (&frame), s_valid[index].syn), "frame %zu",
                   index);
        if (frame.kind == SYNJITSU_FRAME_ARP)
            cr_assert (eq (u16, frame.arp_op, s_valid[index].arp_op), "frame %zu", index);
        if (frame.kind == SYNJITSU_FRAME_TCP || frame.kind == SYNJITSU_FRAME_IPV4)
            cr_assert (eq (sz, frame.ip_header_size, s_valid[index].ip_header), "frame %zu",
                       index);
    }
    sj_frames_destroy (&frames);
}

Test (synjitsu_frame, syn_fields_are_read_through_tags_and_options)
{
    sj_frames_t *frames = s_read ("valid.pcap");
    const uint8_t client_mac[6] = {0x02, 0x00, 0x00, 0x77, 0x00, 0x01};
    for (size_t index = 4; index <= 7; index++) {
        synjitsu_frame_t frame;
        cr_assert (eq (int, synjitsu_frame_parse (&frame, frames->frames[index].data,
                                                  frames->frames[index].size), 0));
        cr_assert (eq (u32, frame.ip_src.s_addr, s_ip ("10.77.0.1")), "frame %zu", index);
        cr_assert (eq (u32, frame.ip_dst.s_addr, s_ip ("10.77.0.2")), "frame %zu", index);
        cr_assert (eq (u16, frame.tcp_sport, 40000));
        cr_assert (eq (u16, frame.tcp_dport, 80));
        cr_assert (eq (u32, frame.tcp_seq, 0x11223344));
        cr_assert (eq (sz, frame.tcp_header_size, 40), "Linux SYN options make 40 bytes");
        cr_assert (eq (int, memcmp (frame.src_mac, client_mac, 6), 0));
        cr_assert (synjitsu_frame_checksum_ok (&frame, frames->frames[index].data),
                   "frame %zu: the script's checksums are right", index);
    }
    synjitsu_frame_t frame;
    synjitsu_frame_parse (&frame, frames->frames[7].data, frames->frames[7].size);
    cr_assert (eq (u16, frame.vlans[0].tpid, 0x88a8));
    cr_assert (eq (u16, frame.vlans[0].tci, 100));
    cr_assert (eq (u16, frame.vlans[1].tpid, 0x8100));
    cr_assert (eq (u16, frame.vlans[1].tci, 7));
    //  The padded RST: the segment ends with the IPv4 total length, not the frame.
    synjitsu_frame_parse (&frame, frames->frames[14].data, frames->frames[14].size);
    cr_assert (eq (sz, frame.ip_total_size, 40));
    cr_assert (eq (sz, frames->frames[14].size, 60));
    cr_assert (synjitsu_frame_checksum_ok (&frame, frames->frames[14].data));
    sj_frames_destroy (&frames);
}

Test (synjitsu_frame, arp_addresses_are_read)
{
    sj_frames_t *frames = s_read ("valid.pcap");
    synjitsu_frame_t frame;
    cr_assert (eq (int, synjitsu_frame_parse (&frame, frames->frames[0].data,
                                              frames->frames[0].size), 0));
    cr_assert (eq (u32, frame.arp_spa.s_addr, s_ip ("10.77.0.1")));
    cr_assert (eq (u32, frame.arp_tpa.s_addr, s_ip ("10.77.0.2")));
    cr_assert (eq (u8, frame.arp_sha[5], 0x01));
    synjitsu_frame_parse (&frame, frames->frames[3].data, frames->frames[3].size);
    cr_assert (eq (u32, frame.arp_spa.s_addr, 0), "an RFC 5227 probe has sender 0.0.0.0");
    sj_frames_destroy (&frames);
}

Test (synjitsu_frame, every_golden_malformed_frame_is_refused_with_its_reason)
{
    static const char *reasons[] = {
        "ethernet: shorter",       "802.1q: tag truncated",   "arp: header truncated",
        "arp: addresses truncated", "ipv4: header truncated", "ipv4: version",
        "ipv4: IHL below 5",       "ipv4: total length below", "ipv4: total length beyond",
        "ipv4: bad option",        "ipv4: bad option",        "tcp: header truncated",
        "tcp: data offset below",  "tcp: data offset beyond", "tcp: bad option",
    };
    sj_frames_t *frames = s_read ("malformed.pcap");
    cr_assert (eq (sz, frames->count, sizeof reasons / sizeof reasons[0]));
    for (size_t index = 0; index < frames->count; index++) {
        synjitsu_frame_t frame;
        int rc = synjitsu_frame_parse (&frame, frames->frames[index].data,
                                       frames->frames[index].size);
        cr_assert (eq (int, rc, -2), "frame %zu was accepted", index);
        cr_assert (not (eq (ptr, (void *) frame.error, NULL)));
        cr_assert (eq (int, strncmp (frame.error, reasons[index], strlen (reasons[index])), 0),
                   "frame %zu: \"%s\", expected \"%s\"", index, frame.error, reasons[index]);
        cr_assert (not (synjitsu_frame_is_syn (&frame)));
    }
    sj_frames_destroy (&frames);
}

Test (synjitsu_frame, every_truncation_of_a_valid_frame_is_safe)
{
    //  Cut each golden frame at every length: the parser must refuse or accept without
    //  reading past the end (the ASan build checks the "without").
    sj_frames_t *frames = s_read ("valid.pcap");
    int refused = 0;
    for (size_t index = 0; index < frames->count; index++)
        for (size_t size = 0; size < frames->frames[index].size; size++) {
            uint8_t *copy = (uint8_t *) malloc (size ? size : 1);
            memcpy (copy, frames->frames[index].data, size);
            synjitsu_frame_t frame;
            refused += synjitsu_frame_parse (&frame, copy, size) == -2;
            free (copy);
        }
    cr_assert (gt (int, refused, 100));
    synjitsu_frame_t frame;
    cr_assert (eq (int, synjitsu_frame_parse (&frame, NULL, 0), -2));
    sj_frames_destroy (&frames);
}

Test (synjitsu_frame, offloaded_syn_from_a_real_veth_gets_the_checksum_tcpdump_computes)
{
    sj_frames_t *frames = s_read ("linux-veth.pcap");
    cr_assert (eq (sz, frames->count, 6));
    synjitsu_frame_t frame;
    //  Frame 0: IGMP with the Router Alert option, a real IPv4 header with options.
    cr_assert (eq (int, synjitsu_frame_parse (&frame, frames->frames[0].data,
                                              frames->frames[0].size), 0));
    cr_assert (eq (int, frame.kind, SYNJITSU_FRAME_IPV4));
    cr_assert (eq (sz, frame.ip_header_size, 24));
    //  Frame 3: the client's SYN with the partial checksum of offload.
    uint8_t *syn = frames->frames[3].data;
    size_t size = frames->frames[3].size;
    cr_assert (eq (int, synjitsu_frame_parse (&frame, syn, size), 0));
    cr_assert (synjitsu_frame_is_syn (&frame));
    cr_assert (not (synjitsu_frame_checksum_ok (&frame, syn)), "offload left a partial sum");
    uint8_t *tcp = syn + frame.tcp_offset;
    cr_assert (eq (u16, (uint16_t) (tcp[16] << 8 | tcp[17]), 0x14cb));
    uint16_t ip_before = (uint16_t) (syn[14 + 10] << 8 | syn[14 + 11]);
    cr_assert (eq (int, synjitsu_frame_checksum (syn, size), 0));
    cr_assert (synjitsu_frame_checksum_ok (&frame, syn));
    cr_assert (eq (u16, (uint16_t) (tcp[16] << 8 | tcp[17]), 0xe24f),
               "tcpdump -vv says: cksum 0x14cb (incorrect -> 0xe24f)");
    cr_assert (eq (u16, (uint16_t) (syn[14 + 10] << 8 | syn[14 + 11]), ip_before),
               "the IPv4 header checksum was already right and stays so");
    //  Frame 4, the SYN/ACK: not a SYN that opens a connection.
    synjitsu_frame_parse (&frame, frames->frames[4].data, frames->frames[4].size);
    cr_assert (not (synjitsu_frame_is_syn (&frame)));
    sj_frames_destroy (&frames);
}

Test (synjitsu_frame, checksum_restores_zeroed_sums_through_tags_and_options)
{
    sj_frames_t *frames = s_read ("valid.pcap");
    for (size_t index = 4; index <= 7; index++) {
        uint8_t *data = frames->frames[index].data;
        size_t size = frames->frames[index].size;
        uint8_t *original = (uint8_t *) malloc (size);
        memcpy (original, data, size);
        synjitsu_frame_t frame;
        synjitsu_frame_parse (&frame, data, size);
        data[frame.l3_offset + 10] ^= 0xff;
        data[frame.tcp_offset + 16] = data[frame.tcp_offset + 17] = 0;
        cr_assert (not (synjitsu_frame_checksum_ok (&frame, data)));
        cr_assert (eq (int, synjitsu_frame_checksum (data, size), 0));
        cr_assert (eq (int, memcmp (data, original, size), 0), "frame %zu", index);
        free (original);
    }
    //  Not IPv4/TCP: refused, untouched.
    cr_assert (eq (int, synjitsu_frame_checksum (frames->frames[0].data,
                                                 frames->frames[0].size), -2));
    sj_frames_destroy (&frames);
}

Test (synjitsu_frame, mac_text_round_trips_and_bad_text_is_refused)
{
    uint8_t mac[6];
    char text[18];
    cr_assert (eq (int, synjitsu_frame_mac_parse ("52:54:00:aB:cd:EF", mac), 0));
    cr_assert (eq (str, synjitsu_frame_mac_text (mac, text), "52:54:00:ab:cd:ef"));
    cr_assert (eq (int, synjitsu_frame_mac_parse ("52:54:00:ab:cd", mac), -1));
    cr_assert (eq (int, synjitsu_frame_mac_parse ("52-54-00-ab-cd-ef", mac), -1));
    cr_assert (eq (int, synjitsu_frame_mac_parse ("52:54:00:ab:cd:eg", mac), -1));
    cr_assert (eq (int, synjitsu_frame_mac_parse (" 2:54:00:ab:cd:ef", mac), -1));
    cr_assert (eq (int, synjitsu_frame_mac_parse (NULL, mac), -1));
}
