/*  synjitsu's limits and bad input on the bridge (see sj_harness.h): the per-address cap on
    held SYNs, max_hold_ms, and malformed frames dropped, counted and survived.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "sj_harness.h"

Test (synjitsu_netns, per_address_cap_drops_the_oldest_syns)
{
    sj_harness_start ("\"max_syns_per_ip\":2");
    pcap_t *client_side = sj_harness_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    int listener = sj_harness_guest_listen ();
    sj_harness_announce_booting (client_side);
    int clients[4];
    proto_msg_t msg;
    for (int index = 0; index < 4; index++) {
        clients[index] = sj_harness_client_connect ();
        cr_assert (sj_harness_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg), "connection %d", index);
        proto_msg_reset (&msg);
    }
    cr_assert (eq (int, sj_netns_attach_guest (sj_harness_net ()), 0));
    sj_harness_publish_ready ("www");
    cr_assert (sj_harness_wait_msg (PROTO_MSG_SYN_REPLAYED, 2000, &msg));
    cr_assert (eq (i64, msg.syn_replayed.count, 2), "only the cap's worth is replayed");
    proto_msg_reset (&msg);
    //  The two newest connect at once; the two oldest were dropped and wait for their
    //  client's retransmit.
    for (int index = 2; index < 4; index++) {
        cr_assert (eq (int, sj_harness_client_wait (clients[index], 5000), 0));
        cr_assert (eq (u32, sj_harness_retransmits (clients[index]), 0), "connection %d", index);
    }
    for (int index = 0; index < 2; index++) {
        cr_assert (eq (int, sj_harness_client_wait (clients[index], 5000), 0));
        cr_assert (ge (u32, sj_harness_retransmits (clients[index]), 1), "connection %d", index);
    }
    cr_assert (eq (i64, sj_harness_wait_counter ("syns_evicted", 2, 3000), 2));
    for (int index = 0; index < 4; index++)
        cr_assert (not (eq (int, sj_harness_guest_accept (listener, 2000), -1)));
}

Test (synjitsu_netns, syn_older_than_max_hold_is_dropped_not_replayed)
{
    sj_harness_start ("\"max_hold_ms\":200");
    pcap_t *client_side = sj_harness_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    int listener = sj_harness_guest_listen ();
    int client = sj_harness_connect_while_booting (client_side);
    proto_msg_t msg;
    cr_assert (eq (i64, sj_harness_wait_counter ("syns_expired", 1, 3000), 1));
    cr_assert (eq (u32, sj_harness_retransmits (client), 0),
               "expired before the client's retransmit");
    cr_assert (eq (int, sj_netns_attach_guest (sj_harness_net ()), 0));
    sj_harness_publish_ready ("www");
    cr_assert (sj_harness_wait_msg (PROTO_MSG_SYN_REPLAYED, 2000, &msg));
    cr_assert (eq (i64, msg.syn_replayed.count, 0), "the expired SYN must not be replayed");
    proto_msg_reset (&msg);
    cr_assert (eq (int, sj_harness_client_wait (client, 5000), 0));
    cr_assert (eq (u32, sj_harness_retransmits (client), 1),
               "the client's own retransmit connected");
    cr_assert (not (eq (int, sj_harness_guest_accept (listener, 2000), -1)));
}

Test (synjitsu_netns, malformed_frames_on_the_bridge_are_dropped_counted_and_survived)
{
    sj_harness_start ("");
    pcap_t *client_side = sj_harness_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    sj_harness_announce_booting (client_side);  // the filter now lets 10.77.0.2's frames in
    //  Every malformed golden frame, sent raw from the client's namespace. (Not valid.pcap:
    //  its announcement from the guest's MAC and IP would rightly count as the guest up.)
    int raw = sj_harness_keep (sj_netns_socket (sj_harness_net (), SJ_CLIENT, AF_PACKET, SOCK_RAW));
    struct ifreq request = {0};
    strcpy (request.ifr_name, "eth0");
    cr_assert (eq (int, ioctl (raw, SIOCGIFINDEX, &request), 0));
    struct sockaddr_ll link = {.sll_family = AF_PACKET, .sll_ifindex = request.ifr_ifindex,
                               .sll_halen = 6};
    sj_frames_t *frames = sj_frames_read (TEST_DATA_DIR "/malformed.pcap");
    cr_assert (not (eq (ptr, frames, NULL)));
    for (size_t index = 0; index < frames->count; index++)
        sendto (raw, frames->frames[index].data, frames->frames[index].size, 0,
                (struct sockaddr *) &link, sizeof link);
    sj_frames_destroy (&frames);
    //  Those the kernel filter let through and the parser refused are counted; the process
    //  lives on and still holds a real client's SYN.
    proto_msg_t msg;
    int64_t malformed = 0;
    for (int tries = 0; malformed == 0 && tries < 30; tries++) {
        cr_assert (sj_harness_wait_msg (PROTO_MSG_SVC_ALIVE, 2000, &msg), "no heartbeat; log %s",
                   sj_harness_log ());
        malformed = sj_harness_counter (&msg, "frames_malformed");
        proto_msg_reset (&msg);
    }
    cr_assert (ge (i64, malformed, 1));
    cr_assert (eq (int, waitpid (sj_harness_synjitsu_pid (), NULL, WNOHANG), 0), "synjitsu died");
    int client = sj_harness_client_connect ();
    cr_assert (sj_harness_wait_msg (PROTO_MSG_SYN_HELD, 900, &msg),
               "no syn.held after the garbage");
    proto_msg_reset (&msg);
    cr_log_info ("figures: %" PRId64 " of 15 malformed frames passed the kernel filter and "
                 "were dropped by the parser", malformed);
    (void) client;
}
