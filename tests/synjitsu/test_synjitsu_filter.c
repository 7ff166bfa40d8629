/*  synjitsu_filter: the filter text compiles with libpcap, fits the kernel's limit, and lets
    through exactly the golden frames synjitsu acts on (run with pcap_offline_filter, the same
    BPF the kernel runs).  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "sj_pcap.h"
#include "synjitsu_filter.h"

//  Compile TEXT for Ethernet and report which frames of valid.pcap it matches, as a string
//  of '1' and '0' by frame index. Also checks the program fits in 4096 instructions
//  (BPF_MAXINSNS, the kernel's limit).
static void
s_matches (const char *text, char *result, size_t size)
{
    pcap_t *pcap = pcap_open_dead (DLT_EN10MB, 65535);
    struct bpf_program program;
    cr_assert (eq (int, pcap_compile (pcap, &program, text, 1, PCAP_NETMASK_UNKNOWN), 0),
               "%s: %s", pcap_geterr (pcap), text);
    cr_assert (le (u32, program.bf_len, 4096), "%u instructions", program.bf_len);
    sj_frames_t *frames = sj_frames_read (TEST_DATA_DIR "/valid.pcap");
    cr_assert (not (eq (ptr, frames, NULL)));
    cr_assert (lt (sz, frames->count, size));
    for (size_t index = 0; index < frames->count; index++) {
        struct pcap_pkthdr header = {{0, 0}, (bpf_u_int32) frames->frames[index].size,
                                     (bpf_u_int32) frames->frames[index].size};
        result[index] = pcap_offline_filter (&program, &header, frames->frames[index].data)
                            ? '1' : '0';
    }
    result[frames->count] = '\0';
    sj_frames_destroy (&frames);
    pcap_freecode (&program);
    pcap_close (pcap);
}

static struct in_addr
s_ip (const char *text)
{
    struct in_addr address;
    inet_pton (AF_INET, text, &address);
    return address;
}

Test (synjitsu_filter, nothing_booting_matches_nothing)
{
    char text[SYNJITSU_FILTER_TEXT_MAX], result[64];
    cr_assert (eq (int, synjitsu_filter_build (NULL, 0, text, sizeof text), 0));
    s_matches (text, result, sizeof result);
    cr_assert (eq (str, result, "0000000000000000"));
}

Test (synjitsu_filter, booting_address_lets_through_its_arp_its_syns_and_its_own_frames)
{
    struct in_addr ips[] = {s_ip ("10.77.0.9"), s_ip ("10.77.0.2")};
    char text[SYNJITSU_FILTER_TEXT_MAX], result[64];
    cr_assert (eq (int, synjitsu_filter_build (ips, 2, text, sizeof text), 0));
    s_matches (text, result, sizeof result);
    //  By index (data/README.md): 0-3 ARP about .2: yes; 4-6 SYNs to .2, plain, with an IPv4
    //  option, behind one tag: yes; 7 behind two tags: no (the kernel filter follows one tag);
    //  8 SYN/ACK from .2: yes, the guest's own frame; 9 UDP to .2: no; 10 the first fragment
    //  of a SYN: yes (tcp[] skips only later fragments; the parser does not hold it);
    //  11 IPv6: no; 12 ARP for IEEE 802 hardware, at the same offsets: yes (the parser drops
    //  it); 13 LLC: no; 14 RST to .2: no; 15 three tags: no.
    cr_assert (eq (str, result, "1111111010101000"), "%s", text);
}

Test (synjitsu_filter, other_addresses_are_not_let_through)
{
    struct in_addr ips[] = {s_ip ("10.77.0.9")};
    char text[SYNJITSU_FILTER_TEXT_MAX], result[64];
    cr_assert (eq (int, synjitsu_filter_build (ips, 1, text, sizeof text), 0));
    s_matches (text, result, sizeof result);
    cr_assert (eq (str, result, "0000000000000000"), "%s", text);
}

Test (synjitsu_filter, the_largest_narrow_filter_fits_and_more_addresses_go_broad)
{
    struct in_addr ips[SYNJITSU_FILTER_HOSTS_MAX + 1];
    for (size_t index = 0; index <= SYNJITSU_FILTER_HOSTS_MAX; index++)
        ips[index].s_addr = htonl (0xfeffff00u + (uint32_t) index);  // 254.255.255.x: fullest text
    ips[0] = s_ip ("10.77.0.2");
    char text[SYNJITSU_FILTER_TEXT_MAX], result[64];
    cr_assert (eq (int, synjitsu_filter_build (ips, SYNJITSU_FILTER_HOSTS_MAX, text,
                                               sizeof text), 0));
    s_matches (text, result, sizeof result);
    cr_assert (eq (str, result, "1111111010101000"));
    //  One more: everything ARP and IPv4 (the parser and the table narrow it in userland).
    cr_assert (eq (int, synjitsu_filter_build (ips, SYNJITSU_FILTER_HOSTS_MAX + 1, text,
                                               sizeof text), 0));
    s_matches (text, result, sizeof result);
    cr_assert (eq (str, result, "1111111011101010"), "%s", text);
}

Test (synjitsu_filter, too_small_a_buffer_is_refused)
{
    struct in_addr ips[] = {s_ip ("10.77.0.2")};
    char text[32];
    cr_assert (eq (int, synjitsu_filter_build (ips, 1, text, sizeof text), -1));
    cr_assert (eq (int, synjitsu_filter_build (ips, 1, text, 0), -1));
}
