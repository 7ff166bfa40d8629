/*  synjitsu_table: the addresses that are booting and the SYN frames held for them.

    Pure logic, no sockets: the server feeds it bus events and parsed frames with the time,
    and it says what to answer, what to hold and what to replay.  Held SYNs are bounded per
    address and overall (the oldest is dropped and counted) and by age; only the latest frame
    of each 4-tuple is kept, since replaying a client's retransmits too would only make the
    guest send duplicate SYN/ACKs.  */

#ifndef SYNJITSU_TABLE_H_INCLUDED
#define SYNJITSU_TABLE_H_INCLUDED

#include "proto.h"
#include "synjitsu_frame.h"

#define SYNJITSU_VMS_MAX 256  // addresses booting at once; more are refused and counted

typedef struct _synjitsu_table_t synjitsu_table_t;

//  The bounds the table keeps to.
typedef struct {
    int max_syns_per_ip;      // held SYNs per booting address
    int max_syns;             // held SYNs overall
    int max_hold_ms;          // a SYN not replayed within this is dropped
    int garp_count;           // ARP Announcements per boot
    int garp_interval_ms;     // between two of them
} synjitsu_limits_t;

//  One booting address.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    char boot_id[PROTO_ID_MAX + 1];
    struct in_addr ip;
    uint8_t mac[SYNJITSU_MAC_SIZE];
    bool has_mac;             // vm.booting carried a MAC: ARP can be answered
    bool watch_only;          // not the synjitsu mask: no ARP, no SYNs, only guest.seen
    bool seen;                // the guest's own frames were seen on the bridge
    int64_t since_ms;         // when vm.booting arrived
    int garps_left;           // announcements still to send
    int64_t garp_due_ms;      // when the next one is due
    size_t held;              // SYNs held now
    uint64_t held_total;      // 4-tuples held during this boot, replayed or not
} synjitsu_vm_t;

//  What happened to a SYN offered to the table.
typedef enum {
    SYNJITSU_HOLD_IGNORED = 0,  // not a SYN, or not to a booting address
    SYNJITSU_HOLD_NEW,          // a new 4-tuple is held (publish syn.held)
    SYNJITSU_HOLD_REPLACED      // a retransmit replaced the held copy of its 4-tuple
} synjitsu_hold_t;

//  What releasing an address did.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    struct in_addr ip;
    size_t replayed;          // frames handed to the replay callback
    size_t expired;           // frames dropped instead, being older than max_hold_ms
    int64_t held_ms;          // the longest a replayed 4-tuple waited since its first SYN
    uint64_t held_total;      // 4-tuples held during the boot (0: nothing to report)
} synjitsu_release_t;

//  Counters since creation.
typedef struct {
    uint64_t held;            // new 4-tuples held
    uint64_t replaced;        // retransmits that replaced a held copy
    uint64_t evicted;         // dropped, oldest first, to keep to the caps
    uint64_t expired;         // dropped for age
    uint64_t released;        // handed out for replay
    uint64_t refused;         // vm.booting refused: the table was full
} synjitsu_table_stats_t;

//  Called for each frame to replay: FRAME (SIZE bytes) belongs to the table and may be edited
//  in place (checksums, destination MAC) until the call returns. VM is borrowed.
typedef void(synjitsu_table_replay_fn) (void *argument, const synjitsu_vm_t *vm, uint8_t *frame,
                                        size_t size);

//  Called for each ARP Announcement due. VM is borrowed.
typedef void(synjitsu_table_announce_fn) (void *argument, const synjitsu_vm_t *vm);

//  Create an empty table keeping to LIMITS (copied).
synjitsu_table_t *synjitsu_table_new (const synjitsu_limits_t *limits);

//  Free the table and every frame it holds. NULL-safe.
void synjitsu_table_destroy (synjitsu_table_t **self_p);

//  SERVICE's VM is booting at IP, its interface at MAC (NULL when unknown). Idempotent: a
//  repeated vm.booting keeps the held SYNs and only restarts the announcements when the MAC
//  changed. Returns 0, or -1 when SYNJITSU_VMS_MAX addresses are booting (counted).
int synjitsu_table_booting (synjitsu_table_t *self, const char *service, const char *boot_id,
                            struct in_addr ip, const uint8_t *mac, int64_t now_ms);

//  The same for a VM whose service masks its boot otherwise: its address is watched for the
//  guest's own frames only (no ARP answered or announced, no SYN held).
int synjitsu_table_watching (synjitsu_table_t *self, const char *service, const char *boot_id,
                             struct in_addr ip, const uint8_t *mac, int64_t now_ms);

//  The guest at IP sent a frame from MAC: MAC replaces the one vm.booting gave. Returns whether
//  this is the first time (false also when IP is not booting).
bool synjitsu_table_seen (synjitsu_table_t *self, struct in_addr ip, const uint8_t *mac);

//  The booting VM at IP, or NULL (borrowed, valid until the table changes).
const synjitsu_vm_t *synjitsu_table_lookup (synjitsu_table_t *self, struct in_addr ip);

//  Offer the parsed frame FRAME (DATA, SIZE bytes, copied when held) captured at NOW_MS.
synjitsu_hold_t synjitsu_table_hold (synjitsu_table_t *self, const synjitsu_frame_t *frame,
                                     const uint8_t *data, size_t size, int64_t now_ms);

//  IP is up: call REPLAY for each SYN held for it, oldest first, dropping those older than
//  max_hold_ms, then forget IP (ARP for it is no longer answered). MAC, when not NULL, is the
//  guest's MAC as seen on the wire and replaces the one vm.booting gave. Returns 0 with RESULT
//  filled, or -1 when IP was not booting.
int synjitsu_table_release (synjitsu_table_t *self, struct in_addr ip, const uint8_t *mac,
                            int64_t now_ms, synjitsu_table_replay_fn *replay, void *argument,
                            synjitsu_release_t *result);

//  Forget every address of SERVICE and the SYNs held for them. Returns how many addresses.
size_t synjitsu_table_forget (synjitsu_table_t *self, const char *service);

//  Drop the SYNs older than max_hold_ms at NOW_MS. Returns how many were dropped.
size_t synjitsu_table_expire (synjitsu_table_t *self, int64_t now_ms);

//  Call ANNOUNCE for each VM whose next ARP Announcement is due at NOW_MS.
void synjitsu_table_announce (synjitsu_table_t *self, int64_t now_ms,
                              synjitsu_table_announce_fn *announce, void *argument);

//  Copy up to MAX booting addresses into IPS. Returns how many were copied.
size_t synjitsu_table_ips (synjitsu_table_t *self, struct in_addr *ips, size_t max);

//  Addresses booting now, and SYNs held now.
size_t synjitsu_table_size (synjitsu_table_t *self);
size_t synjitsu_table_held (synjitsu_table_t *self);

//  The counters so far (borrowed).
const synjitsu_table_stats_t *synjitsu_table_stats (synjitsu_table_t *self);

#endif
