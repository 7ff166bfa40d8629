/*  What synjitsu watches for a booting address (see sj_harness.h): the guest's own frames,
    reported as guest.seen (and, when configured, releasing the SYNs), another mask watched
    only, and vm.stopped and vm.failed forgetting the address.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "sj_harness.h"
#include "synjitsu_frame.h"

//  The guest comes up and speaks first: a datagram to the client makes its kernel ARP.
static void
s_guest_speaks (void)
{
    cr_assert (eq (int, sj_netns_attach_guest (sj_harness_net ()), 0));
    int udp = sj_harness_keep (sj_netns_socket (sj_harness_net (), SJ_GUEST, AF_INET, SOCK_DGRAM));
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons (9)};
    inet_pton (AF_INET, SJ_CLIENT_IP, &address.sin_addr);
    cr_assert (eq (int, (int) sendto (udp, "up", 2, 0, (struct sockaddr *) &address,
                                      sizeof address), 2));
}

//  The guest's own first frame, then (when WAIT_READY) vm.ready: when is the SYN replayed?
static void
s_guest_speaks_first (bool wait_ready)
{
    pcap_t *client_side = sj_harness_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    int listener = sj_harness_guest_listen ();
    int client = sj_harness_connect_while_booting (client_side);
    proto_msg_t msg;

    //  No vm.ready yet: the guest speaks first.
    s_guest_speaks ();
    cr_assert (sj_harness_wait_msg (PROTO_MSG_GUEST_SEEN, 2000, &msg), "no guest.seen; log %s",
               sj_harness_log ());
    cr_assert (eq (str, msg.guest_seen.service, "www"));
    cr_assert (eq (str, msg.guest_seen.ip, SJ_GUEST_IP));
    cr_assert (eq (str, msg.guest_seen.mac, SJ_GUEST_MAC));
    proto_msg_reset (&msg);
    if (wait_ready) {
        //  Its kernel is up, its server may not be: the SYN waits for vm.ready.
        cr_assert (not (sj_harness_wait_msg (PROTO_MSG_SYN_REPLAYED, 300, &msg)),
                   "replayed at the guest's first frame");
        sj_harness_publish_ready ("www");
    }
    cr_assert (sj_harness_wait_msg (PROTO_MSG_SYN_REPLAYED, 2000, &msg));
    cr_assert (eq (i64, msg.syn_replayed.count, 1));
    proto_msg_reset (&msg);
    cr_assert (eq (int, sj_harness_client_wait (client, 5000), 0));
    cr_assert (eq (u32, sj_harness_retransmits (client), 0));
    cr_assert (not (eq (int, sj_harness_guest_accept (listener, 2000), -1)));
}

Test (synjitsu_netns, guest_frames_are_reported_and_the_syn_waits_for_vm_ready)
{
    sj_harness_start ("");
    s_guest_speaks_first (true);
}

Test (synjitsu_netns, with_replay_on_guest_seen_the_guests_first_frame_releases_the_syn)
{
    sj_harness_start ("\"replay_on_guest_seen\": true");
    s_guest_speaks_first (false);
}

Test (synjitsu_netns, another_mask_is_only_watched_for_the_guests_frames)
{
    //  mask=ready: nobody is told the address before the guest is up, so synjitsu neither
    //  answers ARP for it nor holds SYNs; it still reports the guest's frames (ready: garp).
    sj_harness_start ("");
    pcap_t *client_side = sj_harness_capture (SJ_CLIENT, "eth0", PCAP_D_IN);
    sj_harness_publish_booting_masked ("www", PROTO_BOOTING_MASK_READY);
    cr_assert (eq (i64, sj_harness_wait_counter ("vms_booting", 1, 3000), 1));
    int client = sj_harness_client_connect ();
    proto_msg_t msg;
    cr_assert (not (sj_harness_wait_msg (PROTO_MSG_SYN_HELD, 1500, &msg)), "a SYN was held");
    sj_frames_t *frames = sj_frames_new ();
    sj_frames_drain (frames, client_side);
    for (size_t index = 0; index < frames->count; index++) {
        synjitsu_frame_t frame;
        bool arp = synjitsu_frame_parse (&frame, frames->frames[index].data,
                                         frames->frames[index].size) == 0
                   && frame.kind == SYNJITSU_FRAME_ARP;
        cr_assert (not (arp), "the client got an ARP frame while nothing was up");
    }
    sj_frames_destroy (&frames);
    s_guest_speaks ();
    cr_assert (sj_harness_wait_msg (PROTO_MSG_GUEST_SEEN, 2000, &msg), "no guest.seen; log %s",
               sj_harness_log ());
    cr_assert (eq (str, msg.guest_seen.service, "www"));
    proto_msg_reset (&msg);
    close (client);
}

Test (synjitsu_netns, stopped_and_failed_forget_the_address)
{
    sj_harness_start ("");
    pcap_t *client_side = sj_harness_capture (SJ_CLIENT, "eth0", PCAP_D_INOUT);
    sj_harness_publish_booting ("www");
    cr_assert (eq (i64, sj_harness_wait_counter ("vms_booting", 1, 3000), 1));
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_STOPPED);
    strcpy (msg.vm_stop.service, "www");
    msg.vm_stop.reason = PROTO_REASON_ADMIN;
    sj_harness_publish (&msg);
    cr_assert (eq (i64, sj_harness_wait_counter ("vms_booting", 0, 3000), 0));
    sj_harness_publish_booting ("db");
    cr_assert (eq (i64, sj_harness_wait_counter ("vms_booting", 1, 3000), 1));
    proto_msg_init (&msg, PROTO_MSG_VM_FAILED);
    strcpy (msg.vm_failed.service, "db");
    strcpy (msg.vm_failed.boot_id, "boot-1");
    strcpy (msg.vm_failed.error, "capacity");
    sj_harness_publish (&msg);
    cr_assert (eq (i64, sj_harness_wait_counter ("vms_booting", 0, 3000), 0));

    //  Forgotten: the client's ARP requests go unanswered and no SYN is held.
    sj_frames_t *frames = sj_frames_new ();
    sj_frames_drain (frames, client_side);  // the announcements sent before
    sj_frames_destroy (&frames);
    sj_harness_client_connect ();
    zclock_sleep (400);
    frames = sj_frames_new ();
    sj_frames_drain (frames, client_side);
    int requests = 0, replies = 0;
    for (size_t index = 0; index < frames->count; index++) {
        synjitsu_frame_t frame;
        if (synjitsu_frame_parse (&frame, frames->frames[index].data,
                                  frames->frames[index].size) == 0
            && frame.kind == SYNJITSU_FRAME_ARP) {
            requests += frame.arp_op == SYNJITSU_ARP_REQUEST;
            replies += frame.arp_op == SYNJITSU_ARP_REPLY;
        }
    }
    sj_frames_destroy (&frames);
    cr_assert (ge (int, requests, 1));
    cr_assert (eq (int, replies, 0));
    cr_assert (eq (i64, sj_harness_wait_counter ("syns_held", 0, 3000), 0));
    cr_assert (eq (i64, sj_harness_wait_counter ("arp_replies", 0, 3000), 0));
}
