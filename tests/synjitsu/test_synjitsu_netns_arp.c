/*  synjitsu answers ARP for a booting guest (see sj_harness.h): its reply and Announcements
    on the wire, byte by byte against RFC 826 and RFC 5227, and the bridge host's own stack,
    which never sees an injected reply and gets a neighbour entry instead.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "sj_harness.h"
#include "synjitsu_frame.h"

Test (synjitsu_netns, the_bridge_hosts_own_stack_connects_with_zero_retransmits)
{
    //  The host routes clients into the bridge: its own IP stack is the one asking ARP. An
    //  injected reply never reaches it; synjitsu writes its neighbour table instead.
    sj_harness_start ("");
    cr_assert (eq (int, sj_netns_run ("ip -n %s addr add 10.77.0.254/24 dev br0",
                                      sj_netns_name (sj_harness_net (), SJ_BRIDGE)), 0));
    pcap_t *bridge_out = sj_harness_capture (SJ_BRIDGE, "br0", PCAP_D_OUT);
    int listener = sj_harness_guest_listen ();
    sj_harness_announce_booting (bridge_out);
    int client = sj_harness_connect_from (SJ_BRIDGE);
    proto_msg_t msg;
    cr_assert (sj_harness_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg), "no SYN from the host; log %s",
               sj_harness_log ());
    cr_assert (eq (str, msg.syn_held.client, "10.77.0.254"));
    proto_msg_reset (&msg);
    zclock_sleep (300);
    cr_assert (eq (int, sj_netns_attach_guest (sj_harness_net ()), 0));
    sj_harness_publish_ready ("www");
    cr_assert (eq (int, sj_harness_client_wait (client, 5000), 0), "connect failed");
    cr_assert (eq (u32, sj_harness_retransmits (client), 0));
    cr_assert (not (eq (int, sj_harness_guest_accept (listener, 2000), -1)));
    cr_assert (eq (i64, sj_harness_wait_counter ("neigh_updates", 1, 3000), 1));
    cr_assert (eq (i64, sj_harness_wait_counter ("arp_replies", 0, 3000), 0),
               "the host's request is not answered on the wire");
}

Test (synjitsu_netns, arp_reply_and_announcement_on_the_wire_follow_rfc_826_and_5227)
{
    sj_harness_start ("");
    pcap_t *client_side = sj_harness_capture (SJ_CLIENT, "eth0", PCAP_D_INOUT);
    sj_frames_t *frames = sj_frames_new ();
    sj_harness_publish_booting ("www");
    sj_harness_wait_announced (client_side, frames);
    sj_harness_client_connect ();
    proto_msg_t msg;
    cr_assert (sj_harness_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg),
               "no SYN: the client got no ARP reply");
    proto_msg_reset (&msg);
    //  All three announcements went out, garp_interval_ms apart.
    cr_assert (eq (i64, sj_harness_wait_counter ("garps", 3, 3000), 3));
    sj_frames_drain (frames, client_side);
    uint8_t guest_mac[6], client_mac[6];
    synjitsu_frame_mac_parse (SJ_GUEST_MAC, guest_mac);
    struct in_addr guest_ip, client_ip;
    inet_pton (AF_INET, SJ_GUEST_IP, &guest_ip);
    inet_pton (AF_INET, SJ_CLIENT_IP, &client_ip);
    int requests = 0, replies = 0, announcements = 0;
    bool client_mac_known = false;
    //  Decoded at the offsets of RFC 826's packet format, independently of synjitsu's parser.
    for (size_t index = 0; index < frames->count; index++) {
        const uint8_t *data = frames->frames[index].data;
        if (frames->frames[index].size < 42 || data[12] != 0x08 || data[13] != 0x06)
            continue;
        const uint8_t *arp = data + 14;
        cr_assert (eq (int, memcmp (arp, "\x00\x01\x08\x00\x06\x04", 6), 0),
                   "hrd 1, pro 0x0800, hln 6, pln 4");
        uint16_t op = (uint16_t) (arp[6] << 8 | arp[7]);
        if (op == 1 && memcmp (arp + 14, &client_ip, 4) == 0) {
            requests++;  // the client asking who has the guest's address
            memcpy (client_mac, arp + 8, 6);
            client_mac_known = true;
            cr_assert (eq (int, memcmp (arp + 24, &guest_ip, 4), 0));
        }
        else if (op == 1) {
            announcements++;  // RFC 5227 section 2.3
            cr_assert (eq (int, memcmp (data, "\xff\xff\xff\xff\xff\xff", 6), 0), "broadcast");
            cr_assert (eq (int, memcmp (data + 6, guest_mac, 6), 0));
            cr_assert (eq (int, memcmp (arp + 8, guest_mac, 6), 0), "sha: the guest's MAC");
            cr_assert (eq (int, memcmp (arp + 14, &guest_ip, 4), 0), "spa: the guest's IP");
            cr_assert (eq (int, memcmp (arp + 18, "\0\0\0\0\0\0", 6), 0), "tha: zero");
            cr_assert (eq (int, memcmp (arp + 24, &guest_ip, 4), 0), "tpa: the guest's IP");
        }
        else if (op == 2) {
            replies++;
            cr_assert (client_mac_known, "a reply came before any request");
            cr_assert (eq (int, memcmp (data, client_mac, 6), 0), "unicast to the requester");
            cr_assert (eq (int, memcmp (data + 6, guest_mac, 6), 0));
            cr_assert (eq (int, memcmp (arp + 8, guest_mac, 6), 0), "sha: the guest's MAC");
            cr_assert (eq (int, memcmp (arp + 14, &guest_ip, 4), 0), "spa: the guest's IP");
            cr_assert (eq (int, memcmp (arp + 18, client_mac, 6), 0), "tha: the requester");
            cr_assert (eq (int, memcmp (arp + 24, &client_ip, 4), 0), "tpa: the requester");
            cr_assert (eq (sz, frames->frames[index].size, 60), "padded to 60 bytes");
        }
    }
    cr_assert (ge (int, requests, 1));
    cr_assert (eq (int, replies, requests), "every request was answered once");
    cr_assert (eq (int, announcements, 3));
    //  The client's kernel took the reply: its neighbour entry holds the guest's MAC.
    cr_assert (eq (int, sj_netns_run ("ip -n %s neigh show " SJ_GUEST_IP " | grep -q "
                                      SJ_GUEST_MAC,
                                      sj_netns_name (sj_harness_net (), SJ_CLIENT)), 0));
    sj_frames_destroy (&frames);
}
