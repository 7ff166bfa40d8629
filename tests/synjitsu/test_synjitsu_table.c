/*  synjitsu_table: what is held, what is replaced, what the caps and the age limit drop, and
    what a release hands back.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "synjitsu_table.h"

static const uint8_t s_mac[6] = {0x52, 0x54, 0x00, 0x77, 0x00, 0x02};

static struct in_addr
s_ip (const char *text)
{
    struct in_addr address;
    inet_pton (AF_INET, text, &address);
    return address;
}

//  A SYN (or, with FLAGS, another segment) from CLIENT:SPORT to SERVER:DPORT; TAG is stored
//  in the sequence number so a test can tell which copy was kept.
typedef struct {
    uint8_t data[54];
    synjitsu_frame_t frame;
} s_segment_t;

static s_segment_t
s_segment (const char *client, uint16_t sport, const char *server, uint16_t dport, uint8_t flags,
           uint32_t tag)
{
    s_segment_t segment;
    uint8_t *data = segment.data;
    memset (data, 0, sizeof segment.data);
    memcpy (data, s_mac, 6);
    data[12] = 0x08;
    uint8_t *ip = data + 14;
    ip[0] = 0x45;
    ip[3] = 40;
    ip[8] = 64;
    ip[9] = 6;
    struct in_addr source = s_ip (client), destination = s_ip (server);
    memcpy (ip + 12, &source, 4);
    memcpy (ip + 16, &destination, 4);
    uint8_t *tcp = ip + 20;
    tcp[0] = (uint8_t) (sport >> 8), tcp[1] = (uint8_t) sport;
    tcp[2] = (uint8_t) (dport >> 8), tcp[3] = (uint8_t) dport;
    tcp[4] = (uint8_t) (tag >> 24), tcp[5] = (uint8_t) (tag >> 16);
    tcp[6] = (uint8_t) (tag >> 8), tcp[7] = (uint8_t) tag;
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    cr_assert (eq (int, synjitsu_frame_parse (&segment.frame, data, sizeof segment.data), 0));
    return segment;
}

static synjitsu_hold_t
s_hold (synjitsu_table_t *table, const char *client, uint16_t sport, const char *server,
        uint32_t tag, int64_t now_ms)
{
    s_segment_t segment = s_segment (client, sport, server, 80, SYNJITSU_TCP_SYN, tag);
    return synjitsu_table_hold (table, &segment.frame, segment.data, sizeof segment.data,
                                now_ms);
}

//  What the replay callback saw.
typedef struct {
    int count;
    uint32_t tags[64];
    uint16_t sports[64];
} s_replayed_t;

static void
s_replay (void *argument, const synjitsu_vm_t *vm, uint8_t *frame, size_t size)
{
    s_replayed_t *replayed = (s_replayed_t *) argument;
    synjitsu_frame_t parsed;
    cr_assert (eq (int, synjitsu_frame_parse (&parsed, frame, size), 0));
    replayed->tags[replayed->count] = parsed.tcp_seq;
    replayed->sports[replayed->count++] = parsed.tcp_sport;
}

static synjitsu_table_t *
s_table (int per_ip, int overall, int max_hold_ms)
{
    synjitsu_limits_t limits = {per_ip, overall, max_hold_ms, 3, 2000};
    synjitsu_table_t *table = synjitsu_table_new (&limits);
    cr_assert (eq (int, synjitsu_table_booting (table, "www", "b1", s_ip ("10.77.0.2"), s_mac,
                                                1000), 0));
    return table;
}

Test (synjitsu_table, booting_address_is_found_with_its_mac_and_service)
{
    synjitsu_table_t *table = s_table (8, 8, 3000);
    const synjitsu_vm_t *vm = synjitsu_table_lookup (table, s_ip ("10.77.0.2"));
    cr_assert (not (eq (ptr, (void *) vm, NULL)));
    cr_assert (eq (str, (char *) vm->service, "www"));
    cr_assert (vm->has_mac);
    cr_assert (eq (int, memcmp (vm->mac, s_mac, 6), 0));
    cr_assert (eq (ptr, (void *) synjitsu_table_lookup (table, s_ip ("10.77.0.3")), NULL));
    cr_assert (eq (int, synjitsu_table_booting (table, "db", "b2", s_ip ("10.77.0.3"), NULL, 0),
                   0));
    cr_assert (not (synjitsu_table_lookup (table, s_ip ("10.77.0.3"))->has_mac));
    struct in_addr ips[4];
    cr_assert (eq (sz, synjitsu_table_ips (table, ips, 4), 2));
    cr_assert (eq (sz, synjitsu_table_size (table), 2));
    synjitsu_table_destroy (&table);
    cr_assert (eq (ptr, table, NULL));
    synjitsu_table_destroy (&table);  // idempotent
}

Test (synjitsu_table, only_syns_to_booting_addresses_are_held)
{
    synjitsu_table_t *table = s_table (8, 8, 3000);
    cr_assert (eq (int, s_hold (table, "10.77.0.1", 40000, "10.77.0.2", 1, 1000),
                   SYNJITSU_HOLD_NEW));
    cr_assert (eq (int, s_hold (table, "10.77.0.1", 40000, "10.77.0.5", 1, 1000),
                   SYNJITSU_HOLD_IGNORED), "not booting");
    s_segment_t synack = s_segment ("10.77.0.1", 40001, "10.77.0.2", 80,
                                    SYNJITSU_TCP_SYN | SYNJITSU_TCP_ACK, 2);
    cr_assert (eq (int, synjitsu_table_hold (table, &synack.frame, synack.data, 54, 1000),
                   SYNJITSU_HOLD_IGNORED), "SYN/ACK is not a connection attempt");
    s_segment_t ack = s_segment ("10.77.0.1", 40002, "10.77.0.2", 80, SYNJITSU_TCP_ACK, 3);
    cr_assert (eq (int, synjitsu_table_hold (table, &ack.frame, ack.data, 54, 1000),
                   SYNJITSU_HOLD_IGNORED));
    cr_assert (eq (sz, synjitsu_table_held (table), 1));
    cr_assert (eq (u64, synjitsu_table_stats (table)->held, 1));
    synjitsu_table_destroy (&table);
}

Test (synjitsu_table, a_retransmit_replaces_the_held_copy_of_its_4_tuple)
{
    synjitsu_table_t *table = s_table (8, 8, 3000);
    cr_assert (eq (int, s_hold (table, "10.77.0.1", 40000, "10.77.0.2", 1, 1000),
                   SYNJITSU_HOLD_NEW));
    cr_assert (eq (int, s_hold (table, "10.77.0.1", 40001, "10.77.0.2", 2, 1100),
                   SYNJITSU_HOLD_NEW));
    cr_assert (eq (int, s_hold (table, "10.77.0.1", 40000, "10.77.0.2", 3, 2000),
                   SYNJITSU_HOLD_REPLACED));
    cr_assert (eq (sz, synjitsu_table_held (table), 2));
    s_replayed_t replayed = {0};
    synjitsu_release_t result;
    cr_assert (eq (int, synjitsu_table_release (table, s_ip ("10.77.0.2"), NULL, 2500, s_replay,
                                                &replayed, &result), 0));
    cr_assert (eq (int, replayed.count, 2));
    //  In the order of the frames kept: 40001 (kept at 1100), then 40000's retransmit (2000).
    cr_assert (eq (u16, replayed.sports[0], 40001));
    cr_assert (eq (u32, replayed.tags[1], 3), "the latest copy is the one replayed");
    cr_assert (eq (i64, result.held_ms, 1500), "held since the first SYN of its 4-tuple");
    cr_assert (eq (sz, result.replayed, 2));
    cr_assert (eq (u64, result.held_total, 2));
    cr_assert (eq (str, result.service, "www"));
    cr_assert (eq (u64, synjitsu_table_stats (table)->replaced, 1));
    synjitsu_table_destroy (&table);
}

Test (synjitsu_table, per_address_cap_drops_the_oldest_of_that_address)
{
    synjitsu_table_t *table = s_table (3, 100, 3000);
    synjitsu_table_booting (table, "db", "b2", s_ip ("10.77.0.3"), s_mac, 1000);
    s_hold (table, "10.77.0.1", 50000, "10.77.0.3", 99, 1000);  // another address, oldest
    for (uint16_t port = 1; port <= 5; port++)
        s_hold (table, "10.77.0.1", port, "10.77.0.2", port, 1000 + port);
    cr_assert (eq (u64, synjitsu_table_stats (table)->evicted, 2));
    cr_assert (eq (sz, synjitsu_table_held (table), 4));
    s_replayed_t replayed = {0};
    synjitsu_release_t result;
    synjitsu_table_release (table, s_ip ("10.77.0.2"), NULL, 1100, s_replay, &replayed, &result);
    cr_assert (eq (int, replayed.count, 3));
    cr_assert (eq (u16, replayed.sports[0], 3), "ports 1 and 2 were dropped, oldest first");
    cr_assert (eq (u16, replayed.sports[2], 5));
    cr_assert (eq (sz, synjitsu_table_held (table), 1), "the other address kept its SYN");
    synjitsu_table_destroy (&table);
}

Test (synjitsu_table, overall_cap_drops_the_oldest_of_all)
{
    synjitsu_table_t *table = s_table (100, 4, 3000);
    synjitsu_table_booting (table, "db", "b2", s_ip ("10.77.0.3"), s_mac, 1000);
    s_hold (table, "10.77.0.1", 1, "10.77.0.3", 1, 1001);  // oldest of all
    for (uint16_t port = 2; port <= 6; port++)
        s_hold (table, "10.77.0.1", port, "10.77.0.2", port, 1000 + port);
    cr_assert (eq (sz, synjitsu_table_held (table), 4));
    cr_assert (eq (u64, synjitsu_table_stats (table)->evicted, 2));
    synjitsu_release_t result;
    synjitsu_table_release (table, s_ip ("10.77.0.3"), NULL, 1100, NULL, NULL, &result);
    cr_assert (eq (sz, result.replayed, 0), "10.77.0.3's only SYN was the oldest: dropped");
    cr_assert (eq (u64, result.held_total, 1), "but it was held: syn.replayed reports count 0");
    s_replayed_t replayed = {0};
    synjitsu_table_release (table, s_ip ("10.77.0.2"), NULL, 1100, s_replay, &replayed, &result);
    cr_assert (eq (int, replayed.count, 4));
    cr_assert (eq (u16, replayed.sports[0], 3), "port 2 was the next oldest");
    synjitsu_table_destroy (&table);
}

Test (synjitsu_table, syns_older_than_max_hold_are_dropped_not_replayed)
{
    synjitsu_table_t *table = s_table (8, 8, 3000);
    s_hold (table, "10.77.0.1", 1, "10.77.0.2", 1, 1000);
    s_hold (table, "10.77.0.1", 2, "10.77.0.2", 2, 2500);
    s_hold (table, "10.77.0.1", 3, "10.77.0.2", 3, 3900);
    cr_assert (eq (sz, synjitsu_table_expire (table, 4000), 0), "3000 ms old is not too old");
    cr_assert (eq (sz, synjitsu_table_expire (table, 4001), 1));
    cr_assert (eq (sz, synjitsu_table_held (table), 2));
    //  A release after the age limit drops instead of replaying.
    s_replayed_t replayed = {0};
    synjitsu_release_t result;
    synjitsu_table_release (table, s_ip ("10.77.0.2"), NULL, 5600, s_replay, &replayed, &result);
    cr_assert (eq (int, replayed.count, 1));
    cr_assert (eq (u16, replayed.sports[0], 3));
    cr_assert (eq (sz, result.expired, 1));
    cr_assert (eq (u64, synjitsu_table_stats (table)->expired, 2));
    cr_assert (eq (i64, result.held_ms, 1700));
    synjitsu_table_destroy (&table);
}

Test (synjitsu_table, a_retransmit_restarts_the_age_of_its_4_tuple)
{
    synjitsu_table_t *table = s_table (8, 8, 3000);
    s_hold (table, "10.77.0.1", 1, "10.77.0.2", 1, 1000);
    s_hold (table, "10.77.0.1", 1, "10.77.0.2", 2, 3000);  // the client still tries
    cr_assert (eq (sz, synjitsu_table_expire (table, 5000), 0));
    cr_assert (eq (sz, synjitsu_table_held (table), 1));
    synjitsu_table_destroy (&table);
}

Test (synjitsu_table, release_forgets_the_address_and_a_second_one_does_nothing)
{
    synjitsu_table_t *table = s_table (8, 8, 3000);
    synjitsu_release_t result;
    const uint8_t seen[6] = {0x52, 0x54, 0x00, 0x99, 0x99, 0x99};
    cr_assert (eq (int, synjitsu_table_release (table, s_ip ("10.77.0.2"), seen, 1000, NULL,
                                                NULL, &result), 0));
    cr_assert (eq (u64, result.held_total, 0), "nothing held: nothing to report");
    cr_assert (eq (ptr, (void *) synjitsu_table_lookup (table, s_ip ("10.77.0.2")), NULL));
    cr_assert (eq (int, synjitsu_table_release (table, s_ip ("10.77.0.2"), NULL, 1000, NULL,
                                                NULL, &result), -1));
    cr_assert (eq (int, s_hold (table, "10.77.0.1", 1, "10.77.0.2", 1, 1000),
                   SYNJITSU_HOLD_IGNORED), "released: SYNs now go to the guest");
    synjitsu_table_destroy (&table);
}

//  Replays the guest MAC it is handed, to check release's MAC argument.
static void
s_replay_mac (void *argument, const synjitsu_vm_t *vm, uint8_t *frame, size_t size)
{
    memcpy (argument, vm->mac, 6);
}

Test (synjitsu_table, release_with_the_mac_seen_on_the_wire_replays_to_it)
{
    synjitsu_table_t *table = s_table (8, 8, 3000);
    s_hold (table, "10.77.0.1", 1, "10.77.0.2", 1, 1000);
    const uint8_t seen[6] = {0x52, 0x54, 0x00, 0x99, 0x99, 0x99};
    uint8_t replayed_mac[6] = {0};
    synjitsu_release_t result;
    synjitsu_table_release (table, s_ip ("10.77.0.2"), seen, 1000, s_replay_mac, replayed_mac,
                            &result);
    cr_assert (eq (int, memcmp (replayed_mac, seen, 6), 0));
    synjitsu_table_destroy (&table);
}

Test (synjitsu_table, forget_drops_every_address_of_a_service_and_its_syns)
{
    synjitsu_table_t *table = s_table (8, 8, 3000);
    synjitsu_table_booting (table, "www", "b1", s_ip ("10.77.0.4"), s_mac, 1000);
    synjitsu_table_booting (table, "db", "b2", s_ip ("10.77.0.3"), s_mac, 1000);
    s_hold (table, "10.77.0.1", 1, "10.77.0.2", 1, 1000);
    s_hold (table, "10.77.0.1", 2, "10.77.0.4", 1, 1000);
    s_hold (table, "10.77.0.1", 3, "10.77.0.3", 1, 1000);
    cr_assert (eq (sz, synjitsu_table_forget (table, "www"), 2));
    cr_assert (eq (sz, synjitsu_table_size (table), 1));
    cr_assert (eq (sz, synjitsu_table_held (table), 1));
    cr_assert (not (eq (ptr, (void *) synjitsu_table_lookup (table, s_ip ("10.77.0.3")), NULL)));
    cr_assert (eq (sz, synjitsu_table_forget (table, "nobody"), 0));
    synjitsu_table_destroy (&table);
}

//  Counts announcements.
static void
s_count (void *argument, const synjitsu_vm_t *vm)
{
    (*(int *) argument)++;
}

Test (synjitsu_table, announcements_go_out_garp_count_times_spaced)
{
    synjitsu_table_t *table = s_table (8, 8, 3000);  // booting at 1000, 3 every 2000 ms
    int sent = 0;
    synjitsu_table_announce (table, 1000, s_count, &sent);
    cr_assert (eq (int, sent, 1), "the first goes out at once");
    synjitsu_table_announce (table, 2999, s_count, &sent);
    cr_assert (eq (int, sent, 1), "not before the interval");
    synjitsu_table_announce (table, 3000, s_count, &sent);
    synjitsu_table_announce (table, 5000, s_count, &sent);
    synjitsu_table_announce (table, 9000, s_count, &sent);
    cr_assert (eq (int, sent, 3), "three in all");
    //  A repeated vm.booting with the same MAC does not start them again.
    synjitsu_table_booting (table, "www", "b1", s_ip ("10.77.0.2"), s_mac, 9000);
    synjitsu_table_announce (table, 9000, s_count, &sent);
    cr_assert (eq (int, sent, 3));
    //  Without a MAC there is nothing to announce.
    synjitsu_table_booting (table, "db", "b2", s_ip ("10.77.0.3"), NULL, 9000);
    synjitsu_table_announce (table, 20000, s_count, &sent);
    cr_assert (eq (int, sent, 3));
    synjitsu_table_destroy (&table);
}

Test (synjitsu_table, a_repeated_booting_keeps_the_held_syns)
{
    synjitsu_table_t *table = s_table (8, 8, 3000);
    s_hold (table, "10.77.0.1", 1, "10.77.0.2", 1, 1000);
    synjitsu_table_booting (table, "www", "b1", s_ip ("10.77.0.2"), s_mac, 1200);
    cr_assert (eq (sz, synjitsu_table_held (table), 1));
    synjitsu_table_destroy (&table);
}

Test (synjitsu_table, a_watched_address_holds_nothing_and_announces_nothing)
{
    synjitsu_limits_t limits = {8, 8, 3000, 3, 2000};
    synjitsu_table_t *table = synjitsu_table_new (&limits);
    cr_assert (eq (int, synjitsu_table_watching (table, "www", "b1", s_ip ("10.77.0.2"), s_mac,
                                                 1000), 0));
    const synjitsu_vm_t *vm = synjitsu_table_lookup (table, s_ip ("10.77.0.2"));
    cr_assert (not (eq (ptr, (void *) vm, NULL)), "watched: its frames are still recognised");
    cr_assert (vm->watch_only);
    cr_assert (eq (int, s_hold (table, "10.77.0.1", 40000, "10.77.0.2", 1, 1000),
                   SYNJITSU_HOLD_IGNORED));
    int sent = 0;
    synjitsu_table_announce (table, 9000, s_count, &sent);
    cr_assert (eq (int, sent, 0));
    //  The mask changed to synjitsu: from now on it is held and announced.
    synjitsu_table_booting (table, "www", "b1", s_ip ("10.77.0.2"), s_mac, 9000);
    cr_assert (eq (int, s_hold (table, "10.77.0.1", 40000, "10.77.0.2", 1, 9000),
                   SYNJITSU_HOLD_NEW));
    synjitsu_table_announce (table, 9000, s_count, &sent);
    cr_assert (eq (int, sent, 1));
    synjitsu_table_destroy (&table);
}

Test (synjitsu_table, a_full_table_refuses_and_counts)
{
    synjitsu_limits_t limits = {1, 1, 1000, 0, 1000};
    synjitsu_table_t *table = synjitsu_table_new (&limits);
    for (uint32_t index = 0; index < SYNJITSU_VMS_MAX; index++) {
        struct in_addr ip = {htonl (0x0a000000u + index)};
        cr_assert (eq (int, synjitsu_table_booting (table, "s", "b", ip, NULL, 0), 0));
    }
    struct in_addr extra = {htonl (0x0b000000u)};
    cr_assert (eq (int, synjitsu_table_booting (table, "s", "b", extra, NULL, 0), -1));
    cr_assert (eq (u64, synjitsu_table_stats (table)->refused, 1));
    cr_assert (eq (sz, synjitsu_table_forget (table, "s"), SYNJITSU_VMS_MAX));
    synjitsu_table_destroy (&table);
}
