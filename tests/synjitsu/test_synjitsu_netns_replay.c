/*  synjitsu holds a booting guest's SYNs and replays them at vm.ready (see sj_harness.h): a
    fast guest connects with zero retransmits, a slow one before the client's next retransmit;
    the same runs without synjitsu show what the client would have waited for.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "sj_harness.h"
#include "synjitsu_frame.h"

Test (synjitsu_netns, guest_within_half_a_second_connects_with_zero_retransmits)
{
    sj_harness_start ("");
    pcap_t *client_side = sj_harness_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    int listener = sj_harness_guest_listen ();
    sj_harness_announce_booting (client_side);

    int64_t started = zclock_usecs ();
    int client = sj_harness_client_connect ();
    proto_msg_t msg;
    cr_assert (sj_harness_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg), "no syn.held; log %s",
               sj_harness_log ());
    cr_assert (eq (str, msg.syn_held.service, "www"));
    cr_assert (eq (str, msg.syn_held.ip, SJ_GUEST_IP));
    cr_assert (eq (str, msg.syn_held.client, SJ_CLIENT_IP));
    cr_assert (eq (i64, msg.syn_held.dport, 80));
    proto_msg_reset (&msg);

    //  The guest boots for ~0.3 s, then comes up: its port joins the bridge, and vmctl would
    //  say vm.ready.
    zclock_sleep (300);
    cr_assert (eq (int, sj_netns_attach_guest (sj_harness_net ()), 0));
    int64_t ready = zclock_usecs ();
    sj_harness_publish_ready ("www");
    cr_assert (eq (int, sj_harness_client_wait (client, 5000), 0), "connect failed");
    int64_t connected = zclock_usecs ();
    cr_assert (eq (u32, sj_harness_retransmits (client), 0), "the client retransmitted its SYN");
    cr_assert (not (eq (int, sj_harness_guest_accept (listener, 2000), -1)),
               "the guest got nothing");

    cr_assert (sj_harness_wait_msg (PROTO_MSG_SYN_REPLAYED, 2000, &msg));
    cr_assert (eq (i64, msg.syn_replayed.count, 1));
    cr_log_info ("figures: guest up %.1f ms after connect(); connect done %.3f ms after "
                 "vm.ready; total %.1f ms; tcpi_total_retrans=0; syn.replayed held_ms=%" PRId64,
                 (ready - started) / 1000.0, (connected - ready) / 1000.0,
                 (connected - started) / 1000.0, msg.syn_replayed.held_ms);
    proto_msg_reset (&msg);
    cr_assert (eq (int, sj_harness_stop_synjitsu (), 0), "SIGTERM should be a clean exit");
}

//  What the client put on the wire for its connect: ARP requests for the guest and SYNs.
static void
s_count_client_frames (pcap_t *client_out, int *arp_requests, int *syns)
{
    sj_frames_t *frames = sj_frames_new ();
    sj_frames_drain (frames, client_out);
    *arp_requests = *syns = 0;
    for (size_t index = 0; index < frames->count; index++) {
        synjitsu_frame_t frame;
        if (synjitsu_frame_parse (&frame, frames->frames[index].data,
                                  frames->frames[index].size))
            continue;
        *arp_requests += frame.kind == SYNJITSU_FRAME_ARP
                         && frame.arp_op == SYNJITSU_ARP_REQUEST;
        *syns += synjitsu_frame_is_syn (&frame);
    }
    sj_frames_destroy (&frames);
}

Test (synjitsu_netns, without_synjitsu_the_same_run_waits_for_a_retransmit)
{
    sj_harness_start (NULL);
    pcap_t *client_out = sj_harness_capture (SJ_CLIENT, "eth0", PCAP_D_OUT);
    int listener = sj_harness_guest_listen ();
    int64_t started = zclock_usecs ();
    int client = sj_harness_client_connect ();
    zclock_sleep (300);  // the guest appears as fast as in the test with synjitsu
    cr_assert (eq (int, sj_netns_attach_guest (sj_harness_net ()), 0));
    cr_assert (eq (int, sj_harness_client_wait (client, 8000), 0), "connect failed");
    int64_t connected = zclock_usecs ();
    unsigned retransmits = sj_harness_retransmits (client);
    int arp_requests, syns;
    s_count_client_frames (client_out, &arp_requests, &syns);
    //  Nobody answers ARP before the guest is there, so the client's SYN waits in its
    //  neighbour queue; this kernel does not count a SYN still queued in the host as
    //  retransmitted (tcpi_total_retrans stays 0), but the connect waits for the client's
    //  ARP retransmit all the same. Either retransmit shows the cost.
    cr_assert (ge (int, arp_requests + (int) retransmits, 2),
               "the client retransmitted nothing: arp_requests=%d tcpi_total_retrans=%u",
               arp_requests, retransmits);
    cr_assert (not (eq (int, sj_harness_guest_accept (listener, 2000), -1)));
    cr_log_info ("figures: without synjitsu arp_requests=%d syns_on_wire=%d "
                 "tcpi_total_retrans=%u connect took %.1f ms",
                 arp_requests, syns, retransmits, (connected - started) / 1000.0);
}

Test (synjitsu_netns, without_synjitsu_a_client_that_knows_the_mac_retransmits_its_syn)
{
    //  A client whose neighbour entry is already there (it talked to the guest's last boot):
    //  its SYN goes out at once and is lost, so TCP_INFO counts the retransmit.
    sj_harness_start (NULL);
    cr_assert (eq (int, sj_netns_run ("ip -n %s neigh replace " SJ_GUEST_IP " lladdr "
                                      SJ_GUEST_MAC " dev eth0 nud permanent",
                                      sj_netns_name (sj_harness_net (), SJ_CLIENT)), 0));
    int listener = sj_harness_guest_listen ();
    int client = sj_harness_client_connect ();
    zclock_sleep (300);
    cr_assert (eq (int, sj_netns_attach_guest (sj_harness_net ()), 0));
    cr_assert (eq (int, sj_harness_client_wait (client, 8000), 0), "connect failed");
    unsigned retransmits = sj_harness_retransmits (client);
    cr_assert (ge (u32, retransmits, 1), "the lost SYN must be retransmitted");
    cr_assert (not (eq (int, sj_harness_guest_accept (listener, 2000), -1)));
    cr_log_info ("figures: without synjitsu, MAC known: tcpi_total_retrans=%u", retransmits);
}

Test (synjitsu_netns, a_client_that_knows_the_mac_connects_with_zero_retransmits)
{
    sj_harness_start ("");
    cr_assert (eq (int, sj_netns_run ("ip -n %s neigh replace " SJ_GUEST_IP " lladdr "
                                      SJ_GUEST_MAC " dev eth0 nud permanent",
                                      sj_netns_name (sj_harness_net (), SJ_CLIENT)), 0));
    pcap_t *client_side = sj_harness_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    int listener = sj_harness_guest_listen ();
    int client = sj_harness_connect_while_booting (client_side);
    sj_harness_guest_up_then_ready_connects (listener, client);
}

//  A TCP frame of the test's connection seen in a capture.
typedef struct {
    int64_t usec;
    uint8_t flags;
    uint32_t seq;
    uint32_t ack;
    bool checksum_ok;
} s_segment_t;

//  The TCP segments of FRAMES between the client and the guest, port 80.
static int
s_segments (sj_frames_t *frames, s_segment_t *segments, int max)
{
    int count = 0;
    for (size_t index = 0; index < frames->count && count < max; index++) {
        synjitsu_frame_t frame;
        const uint8_t *data = frames->frames[index].data;
        if (synjitsu_frame_parse (&frame, data, frames->frames[index].size)
            || frame.kind != SYNJITSU_FRAME_TCP
            || (frame.tcp_dport != 80 && frame.tcp_sport != 80))
            continue;
        const uint8_t *tcp = data + frame.tcp_offset;
        segments[count].usec = frames->frames[index].usec;
        segments[count].flags = frame.tcp_flags;
        segments[count].seq = frame.tcp_seq;
        segments[count].ack = (uint32_t) tcp[8] << 24 | (uint32_t) tcp[9] << 16
                              | (uint32_t) tcp[10] << 8 | tcp[11];
        segments[count].checksum_ok = synjitsu_frame_checksum_ok (&frame, data);
        count++;
    }
    return count;
}

Test (synjitsu_netns, slow_guest_gets_the_held_syn_replayed_before_the_next_retransmit)
{
    sj_harness_start ("");
    pcap_t *client_side = sj_harness_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    pcap_t *from_client = sj_harness_capture (SJ_BRIDGE, "cport", PCAP_D_IN);  // client's sends
    int listener = sj_harness_guest_listen ();
    int client = sj_harness_connect_while_booting (client_side);
    proto_msg_t msg;
    //  The guest takes longer than the client's retransmit interval: wait for the first
    //  retransmit, as the client's TCP_INFO reports it, and a little more.
    for (int waited = 0; sj_harness_retransmits (client) == 0 && waited < 3000; waited += 10)
        zclock_sleep (10);
    cr_assert (eq (u32, sj_harness_retransmits (client), 1));
    zclock_sleep (250);
    cr_assert (eq (int, sj_netns_attach_guest (sj_harness_net ()), 0));
    pcap_t *guest_port = sj_harness_capture (SJ_BRIDGE, "gport", PCAP_D_INOUT);  // it is up now
    sj_harness_publish_ready ("www");
    cr_assert (eq (int, sj_harness_client_wait (client, 5000), 0), "connect failed");
    cr_assert (eq (u32, sj_harness_retransmits (client), 1),
               "the handshake waited for a second retransmit instead of the replay");
    cr_assert (not (eq (int, sj_harness_guest_accept (listener, 2000), -1)));
    cr_assert (sj_harness_wait_msg (PROTO_MSG_SYN_REPLAYED, 2000, &msg));
    cr_assert (eq (i64, msg.syn_replayed.count, 1));
    int64_t held_ms = msg.syn_replayed.held_ms;
    proto_msg_reset (&msg);

    //  The captures: what the guest's port carried, and the SYNs the client sent.
    sj_frames_t *guest_frames = sj_frames_new (), *client_frames = sj_frames_new ();
    sj_frames_drain (guest_frames, guest_port);
    sj_frames_drain (client_frames, from_client);
    s_segment_t guest[32], sent[32];
    int guest_count = s_segments (guest_frames, guest, 32);
    int sent_count = s_segments (client_frames, sent, 32);
    cr_assert (ge (int, guest_count, 2));
    //  The first segment the guest got is the replayed SYN, with good checksums; the next is
    //  its SYN/ACK, acknowledging the client's own initial sequence number.
    cr_assert (eq (u8, guest[0].flags & 0x3f, SYNJITSU_TCP_SYN));
    cr_assert (guest[0].checksum_ok, "the replayed SYN's checksums were not recomputed");
    cr_assert (eq (u8, guest[1].flags & 0x3f, SYNJITSU_TCP_SYN | SYNJITSU_TCP_ACK));
    cr_assert (eq (u32, guest[1].ack, guest[0].seq + 1));
    //  The client sent exactly two SYNs before that SYN/ACK (the original and one
    //  retransmit), both before the replay: the SYN/ACK answers the replay, not a client
    //  retransmit.
    int syns_before = 0;
    int64_t last_client_syn = 0;
    for (int index = 0; index < sent_count; index++)
        if ((sent[index].flags & 0x3f) == SYNJITSU_TCP_SYN && sent[index].usec <= guest[1].usec) {
            syns_before++;
            last_client_syn = sent[index].usec;
            cr_assert (eq (u32, sent[index].seq, guest[0].seq));
        }
    cr_assert (eq (int, syns_before, 2));
    cr_assert (lt (i64, last_client_syn, guest[0].usec));
    cr_log_info ("figures: client SYN retransmit -> replay %.1f ms; replay -> guest SYN/ACK "
                 "%.3f ms; held_ms=%" PRId64 "; tcpi_total_retrans=1 (next client retransmit "
                 "would have come ~%.0f ms after the replay)",
                 (guest[0].usec - last_client_syn) / 1000.0,
                 (guest[1].usec - guest[0].usec) / 1000.0, held_ms,
                 1000.0 - (guest[0].usec - last_client_syn) / 1000.0);
    sj_frames_destroy (&guest_frames);
    sj_frames_destroy (&client_frames);
}
