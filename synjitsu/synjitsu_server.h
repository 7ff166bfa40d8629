/*  synjitsu_server: synjitsu's I/O, wired to its zloop.

    Reads vm.* from the bus and frames from the bridge, keeps the synjitsu_table up to date,
    answers ARP for booting addresses, announces them, holds SYNs to them, and replays the
    held SYNs when the guest is up (vm.ready, or its own frames on the bridge: guest.seen).
    ARP requests from the host's own IP stack are answered in its neighbour table instead
    (synjitsu_neigh), since an injected reply never reaches it.  */

#ifndef SYNJITSU_SERVER_H_INCLUDED
#define SYNJITSU_SERVER_H_INCLUDED

#include "synjitsu_config.h"

#define SYNJITSU_TICK_MS         50   // housekeeping: announcements due, SYNs too old
#define SYNJITSU_BATCH           64   // frames or messages handled per wake-up
#define SYNJITSU_HELD_PER_SECOND 100  // syn.held messages published per second at most

typedef struct _synjitsu_server_t synjitsu_server_t;

//  Counters reported in svc.alive (and read by tests).
typedef struct {
    uint64_t frames;             // frames captured
    uint64_t frames_malformed;   // dropped by the parser
    uint64_t frames_truncated;   // captured shorter than sent: never held
    uint64_t arp_replies;        // ARP requests answered for a booting address
    uint64_t neigh_updates;      // the host's own requests answered in its neighbour table
    uint64_t neigh_failures;     // ... that could not be (no CAP_NET_ADMIN)
    uint64_t garps;              // ARP Announcements sent
    uint64_t syns_replayed;      // held SYNs injected to a guest
    uint64_t inject_failures;    // pcap_inject refused a frame
    uint64_t guests_seen;        // guests found up from their own frames
    uint64_t vms_ignored;        // vm.booting with an address synjitsu does not serve (IPv6)
    uint64_t filter_updates;     // BPF filters installed
    uint64_t held_unpublished;   // syn.held not published, over SYNJITSU_HELD_PER_SECOND
} synjitsu_server_stats_t;

//  Open the capture on CONFIG's bridge, then connect to the bus (in that order: once
//  synjitsu's subscription shows on the bus, it already captures). CONFIG is copied. Returns
//  NULL (logged) when the capture or the bus sockets cannot be opened.
synjitsu_server_t *synjitsu_server_new (const synjitsu_config_t *config, bool verbose);

//  Close everything. NULL-safe.
void synjitsu_server_destroy (synjitsu_server_t **self_p);

//  Register the bus reader, the capture poller and the timers on LOOP. Returns 0, or -1.
int synjitsu_server_attach (synjitsu_server_t *self, zloop_t *loop);

//  The counters so far (borrowed).
const synjitsu_server_stats_t *synjitsu_server_stats (synjitsu_server_t *self);

#endif
