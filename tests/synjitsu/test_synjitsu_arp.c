/*  synjitsu_arp: replies follow RFC 826 and announcements RFC 5227, checked byte by byte at
    the offsets the RFCs give (not through synjitsu's own parser).  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "sj_pcap.h"
#include "synjitsu_arp.h"

static const uint8_t s_guest_mac[6] = {0x52, 0x54, 0x00, 0x77, 0x00, 0x02};
static const uint8_t s_client_mac[6] = {0x02, 0x00, 0x00, 0x77, 0x00, 0x01};

static uint16_t
s_get16 (const uint8_t *at)
{
    return (uint16_t) (at[0] << 8 | at[1]);
}

static sj_frames_t *
s_valid (void)
{
    sj_frames_t *frames = sj_frames_read (TEST_DATA_DIR "/valid.pcap");
    cr_assert (not (eq (ptr, frames, NULL)));
    return frames;
}

static synjitsu_frame_t
s_parse (sj_frames_t *frames, size_t index)
{
    synjitsu_frame_t frame;
    cr_assert (eq (int, synjitsu_frame_parse (&frame, frames->frames[index].data,
                                              frames->frames[index].size), 0));
    return frame;
}

Test (synjitsu_arp, reply_follows_rfc_826)
{
    sj_frames_t *frames = s_valid ();
    synjitsu_frame_t request = s_parse (frames, 0);  // who-has 10.77.0.2 tell 10.77.0.1
    cr_assert (synjitsu_arp_wants_reply (&request));
    uint8_t reply[SYNJITSU_ARP_FRAME_MAX];
    size_t size = synjitsu_arp_reply (reply, sizeof reply, &request, s_guest_mac);
    cr_assert (eq (sz, size, 60), "padded to the Ethernet minimum");
    cr_assert (eq (int, memcmp (reply, s_client_mac, 6), 0), "sent to the requester");
    cr_assert (eq (int, memcmp (reply + 6, s_guest_mac, 6), 0));
    cr_assert (eq (u16, s_get16 (reply + 12), 0x0806));
    const uint8_t *arp = reply + 14;
    cr_assert (eq (u16, s_get16 (arp), 1), "ar$hrd Ethernet");
    cr_assert (eq (u16, s_get16 (arp + 2), 0x0800), "ar$pro IPv4");
    cr_assert (eq (u8, arp[4], 6));
    cr_assert (eq (u8, arp[5], 4));
    cr_assert (eq (u16, s_get16 (arp + 6), 2), "ar$op reply");
    cr_assert (eq (int, memcmp (arp + 8, s_guest_mac, 6), 0), "ar$sha: the guest");
    cr_assert (eq (int, memcmp (arp + 14, "\x0a\x4d\x00\x02", 4), 0), "ar$spa: 10.77.0.2");
    cr_assert (eq (int, memcmp (arp + 18, s_client_mac, 6), 0), "ar$tha: the requester");
    cr_assert (eq (int, memcmp (arp + 24, "\x0a\x4d\x00\x01", 4), 0), "ar$tpa: 10.77.0.1");
    for (size_t index = 42; index < 60; index++)
        cr_assert (eq (u8, reply[index], 0), "padding is zero");
    sj_frames_destroy (&frames);
}

Test (synjitsu_arp, reply_to_a_tagged_request_carries_its_tags)
{
    //  Make an 802.1Q-tagged request from the untagged one.
    sj_frames_t *frames = s_valid ();
    uint8_t tagged[64];
    memcpy (tagged, frames->frames[0].data, 12);
    memcpy (tagged + 12, "\x81\x00\x20\x07", 4);  // priority 1, VLAN 7
    memcpy (tagged + 16, frames->frames[0].data + 12, 30);
    synjitsu_frame_t request;
    cr_assert (eq (int, synjitsu_frame_parse (&request, tagged, 46), 0));
    cr_assert (eq (int, request.kind, SYNJITSU_FRAME_ARP));
    uint8_t reply[SYNJITSU_ARP_FRAME_MAX];
    size_t size = synjitsu_arp_reply (reply, sizeof reply, &request, s_guest_mac);
    cr_assert (eq (sz, size, 60));
    cr_assert (eq (u16, s_get16 (reply + 12), 0x8100));
    cr_assert (eq (u16, s_get16 (reply + 14), 0x2007));
    cr_assert (eq (u16, s_get16 (reply + 16), 0x0806));
    cr_assert (eq (u16, s_get16 (reply + 18 + 6), 2));
    sj_frames_destroy (&frames);
}

Test (synjitsu_arp, announcement_follows_rfc_5227)
{
    struct in_addr ip;
    inet_pton (AF_INET, "10.77.0.2", &ip);
    uint8_t frame[SYNJITSU_ARP_FRAME_MAX];
    size_t size = synjitsu_arp_announce (frame, sizeof frame, s_guest_mac, ip);
    cr_assert (eq (sz, size, 60));
    cr_assert (eq (int, memcmp (frame, "\xff\xff\xff\xff\xff\xff", 6), 0), "broadcast");
    cr_assert (eq (int, memcmp (frame + 6, s_guest_mac, 6), 0));
    const uint8_t *arp = frame + 14;
    cr_assert (eq (u16, s_get16 (arp + 6), 1), "an ARP Request");
    cr_assert (eq (int, memcmp (arp + 8, s_guest_mac, 6), 0));
    cr_assert (eq (int, memcmp (arp + 14, "\x0a\x4d\x00\x02", 4), 0), "sender IP = the IP");
    cr_assert (eq (int, memcmp (arp + 18, "\0\0\0\0\0\0", 6), 0), "target MAC zero");
    cr_assert (eq (int, memcmp (arp + 24, "\x0a\x4d\x00\x02", 4), 0), "target IP = the IP");
}

Test (synjitsu_arp, probes_announcements_and_replies_are_not_answered)
{
    sj_frames_t *frames = s_valid ();
    synjitsu_frame_t reply = s_parse (frames, 1);
    synjitsu_frame_t announcement = s_parse (frames, 2);
    synjitsu_frame_t probe = s_parse (frames, 3);
    synjitsu_frame_t syn = s_parse (frames, 4);
    cr_assert (not (synjitsu_arp_wants_reply (&reply)));
    cr_assert (not (synjitsu_arp_wants_reply (&announcement)));
    cr_assert (not (synjitsu_arp_wants_reply (&probe)), "RFC 5227: a probe is not a conflict");
    cr_assert (not (synjitsu_arp_wants_reply (&syn)));
    uint8_t out[SYNJITSU_ARP_FRAME_MAX];
    cr_assert (eq (sz, synjitsu_arp_reply (out, sizeof out, &reply, s_guest_mac), 0));
    cr_assert (eq (sz, synjitsu_arp_reply (out, 20, &announcement, s_guest_mac), 0),
               "a buffer too small is refused");
    sj_frames_destroy (&frames);
}
