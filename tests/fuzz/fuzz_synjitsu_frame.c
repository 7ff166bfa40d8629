/*  libFuzzer target: synjitsu's frame parser must refuse any frame cleanly, never reading past
    its end; whatever it accepts as an IPv4/TCP frame must take a recomputed checksum that then
    verifies, and an accepted ARP request must yield a reply that parses again.  */

#include <stdlib.h>
#include <string.h>

#include "synjitsu_arp.h"
#include "synjitsu_frame.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  An exact-size heap copy, so ASan sees any read past the end of the frame.
    uint8_t *frame = (uint8_t *) malloc (size ? size : 1);
    memcpy (frame, data, size);
    synjitsu_frame_t parsed;
    int rc = synjitsu_frame_parse (&parsed, frame, size);
    if (rc != 0 && rc != -2)
        __builtin_trap ();
    if (rc == 0 && parsed.kind == SYNJITSU_FRAME_TCP) {
        if (synjitsu_frame_checksum (frame, size) != 0)
            __builtin_trap ();  // it parsed once, it must parse again
        synjitsu_frame_t again;
        if (synjitsu_frame_parse (&again, frame, size)
            || !synjitsu_frame_checksum_ok (&again, frame))
            __builtin_trap ();
    }
    if (rc == 0 && parsed.kind == SYNJITSU_FRAME_ARP && synjitsu_arp_wants_reply (&parsed)) {
        static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
        uint8_t reply[SYNJITSU_ARP_FRAME_MAX];
        size_t length = synjitsu_arp_reply (reply, sizeof reply, &parsed, mac);
        synjitsu_frame_t answer;
        if (length == 0 || synjitsu_frame_parse (&answer, reply, length)
            || answer.kind != SYNJITSU_FRAME_ARP || answer.arp_op != SYNJITSU_ARP_REPLY
            || answer.arp_spa.s_addr != parsed.arp_tpa.s_addr)
            __builtin_trap ();
    }
    free (frame);
    return 0;
}
