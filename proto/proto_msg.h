/*  proto_msg: the bus message catalogue, its value structs and its codec.

    Every bus message is two frames, [topic][json], where the JSON is the envelope
    {"v":1,"type":TOPIC,"src":...,"seq":N,"ts":UNIX_MS,"body":{...}}.  PROTOCOL.md is the
    source of truth for every topic and field; this header mirrors it.  Decoding is strict on
    required keys and types and lenient on unknown keys, so newer publishers can add fields
    without breaking older receivers.  */

#ifndef PROTO_MSG_H_INCLUDED
#define PROTO_MSG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "proto_error.h"

#define PROTO_VERSION_MAJOR 1         // envelope "v"; a receiver rejects any other major
#define PROTO_BODY_MAX      65536     // bytes of compact body JSON a message may carry
#define PROTO_FRAME_MAX     (PROTO_BODY_MAX + 1024)  // the body plus room for the envelope
#define PROTO_TOPIC_MAX     31
#define PROTO_SRC_MAX       63        // "dnsd/1": process name and instance
#define PROTO_NAME_MAX      63        // service, process and instance names
#define PROTO_ID_MAX        63        // request_id, boot_id
#define PROTO_DNAME_MAX     253       // a DNS name in presentation form, no trailing dot
#define PROTO_DOMAIN_MAX    255       // a libvirt domain name
#define PROTO_QTYPE_MAX     15
#define PROTO_ADDR_MAX      45        // INET6_ADDRSTRLEN - 1
#define PROTO_MAC_MAX       17        // "52:54:00:12:34:56"
#define PROTO_UUID_MAX      36
#define PROTO_IFACE_MAX     15        // IFNAMSIZ - 1
#define PROTO_TEXT_MAX      1023      // free text: error messages
#define PROTO_KEY_MAX       1023      // a statestore key
#define PROTO_COMMIT_MAX    40        // a git commit id in hex
#define PROTO_VERSION_MAX   31        // a software version string
#define PROTO_COUNTERS_MAX  128       // counters one svc.alive may carry
#define PROTO_HISTOGRAMS_MAX 16       // histograms one svc.alive may carry
#define PROTO_BOUNDS_MAX    15        // upper bounds of one histogram (+Inf comes on top)
#define PROTO_LABELS_MAX    2         // labels of one histogram

//  Every topic this build knows; PROTO_MSG_UNKNOWN is a well-formed envelope with a topic
//  from a newer build, which receivers ignore.
typedef enum {
    PROTO_MSG_UNKNOWN = 0,
    PROTO_MSG_VM_BOOT,
    PROTO_MSG_VM_BOOTING,
    PROTO_MSG_VM_READY,
    PROTO_MSG_VM_STOPPING,
    PROTO_MSG_VM_STOPPED,
    PROTO_MSG_VM_FAILED,
    PROTO_MSG_DNS_HITS,
    PROTO_MSG_SYN_HELD,
    PROTO_MSG_SYN_REPLAYED,
    PROTO_MSG_GUEST_SEEN,
    PROTO_MSG_STATE_CHANGED,
    PROTO_MSG_SVC_ALIVE,
    PROTO_MSG_VM_DRAINING,
    PROTO_MSG_VM_PREPARE,
    PROTO_MSG_COUNT
} proto_msg_type_t;

//  How a VM was found ready (vm.ready "via").
typedef enum {
    PROTO_VIA_EVENT = 0,  // libvirt reported the domain started
    PROTO_VIA_PROBE,      // a TCP connect to ip:port succeeded
    PROTO_VIA_GARP,       // synjitsu saw the guest's own frames (guest.seen)
    PROTO_VIA_RUNNING,    // it was already running: a re-announce
    PROTO_VIA_TIMEOUT     // ready_timeout_ms passed; announced anyway
} proto_via_t;

//  Why a VM stops (vm.stopping / vm.stopped "reason").
typedef enum {
    PROTO_REASON_IDLE = 0,
    PROTO_REASON_ADMIN,
    PROTO_REASON_CRASH,
    PROTO_REASON_EXTERNAL,
    PROTO_REASON_FAILED
} proto_reason_t;

//  How a VM is stopped ("mode"); NONE when nothing was done (crash, external).
typedef enum {
    PROTO_MODE_NONE = 0,
    PROTO_MODE_DESTROY,
    PROTO_MODE_SHUTDOWN,
    PROTO_MODE_SUSPEND,
    PROTO_MODE_SAVE
} proto_mode_t;

//  The idle tier a VM woke from (vm.ready "from", status "from"); UNSET when absent.
typedef enum {
    PROTO_TIER_UNSET = 0,
    PROTO_TIER_OFF,       // created or started
    PROTO_TIER_PAUSED,    // resumed
    PROTO_TIER_SAVED      // restored from its save file
} proto_tier_t;

//  What a commit did to one key (state.changed "changes[].op").
typedef enum {
    PROTO_OP_PUT = 0,
    PROTO_OP_DEL
} proto_op_t;

//  vm.boot: a DNS query (or an operator) asks for a service's VM.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    char request_id[PROTO_ID_MAX + 1];  // unique per request; echoes nowhere, for tracing
    char qname[PROTO_DNAME_MAX + 1];    // optional: the name that was queried
    char qtype[PROTO_QTYPE_MAX + 1];    // optional: "A" or "AAAA"
    char client[PROTO_ADDR_MAX + 1];    // optional: the querying client's address
} proto_vm_boot_t;

//  vm.booting's optional mask: the service's (proto_mask_t + 1), or UNSET when absent.
typedef enum {
    PROTO_BOOTING_MASK_UNSET = 0,
    PROTO_BOOTING_MASK_NONE,
    PROTO_BOOTING_MASK_DELAY,
    PROTO_BOOTING_MASK_READY,
    PROTO_BOOTING_MASK_SYNJITSU,
    PROTO_BOOTING_MASK_AUTO
} proto_booting_mask_t;

//  vm.booting: vmctl's create call returned; the VM is on its way up.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    char boot_id[PROTO_ID_MAX + 1];
    char domain[PROTO_DOMAIN_MAX + 1];  // the libvirt domain name
    char uuid[PROTO_UUID_MAX + 1];
    char ip[PROTO_ADDR_MAX + 1];
    char mac[PROTO_MAC_MAX + 1];        // optional: absent if the domain has no interface
    char iface[PROTO_IFACE_MAX + 1];    // optional: host-side interface, e.g. "vnet3"
    proto_booting_mask_t mask;          // optional: the service's mask
} proto_vm_booting_t;

//  vm.ready: the VM answers; DNS answers held for it may go out.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    char boot_id[PROTO_ID_MAX + 1];
    char ip[PROTO_ADDR_MAX + 1];
    proto_via_t via;
    int64_t boot_ms;                    // vm.boot received to ready, in milliseconds
    proto_tier_t from;                  // optional: the tier it woke from
} proto_vm_ready_t;

//  vm.prepare: boot the service once, then leave it in a tier.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    char request_id[PROTO_ID_MAX + 1];
    proto_tier_t tier;                  // paused, saved or off
} proto_vm_prepare_t;

//  vm.draining: a ready VM will become unreachable at until_ts; answer with ttl meanwhile.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    char boot_id[PROTO_ID_MAX + 1];
    proto_mode_t mode;                  // the step to come: save, shutdown or destroy
    int64_t ttl;                        // seconds
    int64_t until_ts;                   // UNIX ms
} proto_vm_draining_t;

//  vm.stopping and vm.stopped share one body.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    proto_reason_t reason;
    proto_mode_t mode;                  // optional: PROTO_MODE_NONE is not encoded
    char boot_id[PROTO_ID_MAX + 1];     // optional
} proto_vm_stop_t;

//  vm.failed: a boot did not reach ready; whatever was started has been stopped.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    char boot_id[PROTO_ID_MAX + 1];
    char error[PROTO_TEXT_MAX + 1];     // e.g. "capacity" or libvirt's message
} proto_vm_failed_t;

//  dns.hits: queries for a service coalesced by one dnsd instance.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    int64_t count;
    int64_t first_ts;                   // UNIX ms of the first query counted
    int64_t last_ts;                    // UNIX ms of the last query counted
} proto_dns_hits_t;

//  syn.held: synjitsu holds a client's SYN for a booting VM.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    char ip[PROTO_ADDR_MAX + 1];        // the VM's address, the SYN's destination
    char client[PROTO_ADDR_MAX + 1];
    int64_t sport;
    int64_t dport;
} proto_syn_held_t;

//  syn.replayed: held SYNs were injected to the VM once it was up.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    char ip[PROTO_ADDR_MAX + 1];        // optional
    int64_t count;
    int64_t held_ms;                    // longest time one of them was held
} proto_syn_replayed_t;

//  guest.seen: synjitsu saw frames sent by the guest itself.
typedef struct {
    char service[PROTO_NAME_MAX + 1];
    char ip[PROTO_ADDR_MAX + 1];
    char mac[PROTO_MAC_MAX + 1];
} proto_guest_seen_t;

//  One key touched by a statestore commit.
typedef struct {
    char key[PROTO_KEY_MAX + 1];
    proto_op_t op;
    json_t *value;                      // owned, optional: the new value of a put
} proto_change_t;

//  state.changed: statestore made a commit.
typedef struct {
    int64_t rev;                        // commit count on refs/heads/main
    char commit[PROTO_COMMIT_MAX + 1];
    proto_change_t *changes;            // owned by the message; see proto_msg_add_change
    size_t change_count;
    bool truncated;                     // optional: changes was cut to fit; resync to see all
} proto_state_changed_t;

//  One named counter of a heartbeat.
typedef struct {
    char name[PROTO_NAME_MAX + 1];
    int64_t value;
} proto_counter_t;

//  One label of a histogram: what its series is of.
typedef struct {
    char name[PROTO_NAME_MAX + 1];      // "call"
    char value[PROTO_NAME_MAX + 1];     // "create"
} proto_label_t;

//  One cumulative histogram of a heartbeat.
typedef struct {
    char name[PROTO_NAME_MAX + 1];              // "libvirt_call_us": its unit ends it
    proto_label_t labels[PROTO_LABELS_MAX];
    size_t label_count;
    int64_t bounds[PROTO_BOUNDS_MAX];           // strictly ascending upper bounds
    size_t bound_count;                         // 1 to PROTO_BOUNDS_MAX
    int64_t counts[PROTO_BOUNDS_MAX + 1];       // at or below each bound, then all (+Inf)
    int64_t sum;
} proto_histogram_t;

//  svc.alive: a process's heartbeat.
typedef struct {
    char name[PROTO_NAME_MAX + 1];      // "dnsd"
    char instance[PROTO_NAME_MAX + 1];  // "1"
    int64_t pid;
    char version[PROTO_VERSION_MAX + 1];
    int64_t uptime_s;
    proto_counter_t counters[PROTO_COUNTERS_MAX];
    size_t counter_count;
    proto_histogram_t histograms[PROTO_HISTOGRAMS_MAX];  // optional
    size_t histogram_count;
} proto_svc_alive_t;

//  A bus message: envelope fields plus the typed body of its topic.
typedef struct {
    proto_msg_type_t type;
    char topic[PROTO_TOPIC_MAX + 1];    // the envelope "type", equal to the topic frame
    char src[PROTO_SRC_MAX + 1];        // publisher, "dnsd/1"
    int64_t seq;                        // per publisher, starts at 1 when it starts
    int64_t ts;                         // UNIX ms when published
    union {
        proto_vm_boot_t vm_boot;
        proto_vm_booting_t vm_booting;
        proto_vm_ready_t vm_ready;
        proto_vm_draining_t vm_draining;
        proto_vm_prepare_t vm_prepare;
        proto_vm_stop_t vm_stop;        // vm.stopping and vm.stopped
        proto_vm_failed_t vm_failed;
        proto_dns_hits_t dns_hits;
        proto_syn_held_t syn_held;
        proto_syn_replayed_t syn_replayed;
        proto_guest_seen_t guest_seen;
        proto_state_changed_t state_changed;
        proto_svc_alive_t svc_alive;
    };
    json_t *json;                       // owned: the whole envelope as decoded, NULL otherwise
} proto_msg_t;

//  Zero a message and make it one of TYPE (topic set from the catalogue).
void proto_msg_init (proto_msg_t *self, proto_msg_type_t type);

//  Free what the message owns (changes, decoded JSON) and zero it; the type is kept.
void proto_msg_reset (proto_msg_t *self);

//  A message of TYPE on the heap (as proto_msg_init makes it), for queues and lists. The
//  caller owns it: proto_msg_destroy.
proto_msg_t *proto_msg_new (proto_msg_type_t type);

//  Reset and free a message from proto_msg_new, and null the caller's pointer. NULL-safe; cast
//  to czmq_destructor, it is a zlistx destructor for a list of messages.
void proto_msg_destroy (proto_msg_t **self_p);

//  Decode the frames [topic][data]. Returns 0, or -2 with ERROR filled when the message is
//  malformed. An unknown topic in a well-formed envelope decodes as PROTO_MSG_UNKNOWN.
int proto_msg_decode (proto_msg_t *self, const char *topic, const void *data, size_t size,
                      proto_error_t *error);

//  Fill the typed body of SELF (already init'ed with its type) from a body object (borrowed).
//  Returns 0, or -2 with ERROR filled.
int proto_msg_decode_body (proto_msg_t *self, json_t *body, proto_error_t *error);

//  Encode the whole envelope as compact JSON. Returns a string the caller frees, or NULL with
//  ERROR filled when a field is invalid (required string empty, enum out of range...).
char *proto_msg_encode (const proto_msg_t *self, proto_error_t *error);

//  Encode only the body. Returns a new reference, or NULL with ERROR filled.
json_t *proto_msg_encode_body (const proto_msg_t *self, proto_error_t *error);

//  Append a change to a state.changed message; VALUE (may be NULL) is borrowed and increfed.
//  Returns 0, or -1 when KEY is too long.
int proto_msg_add_change (proto_msg_t *self, const char *key, proto_op_t op, json_t *value);

//  Append a counter to a svc.alive message. Returns 0, or -1 when full or NAME is too long.
int proto_msg_add_counter (proto_msg_t *self, const char *name, int64_t value);

//  Append COUNT counters (a process's table of them, copied) to a svc.alive message. Returns 0,
//  or -1 when one did not fit (those before it were added).
int proto_msg_add_counters (proto_msg_t *self, const proto_counter_t *counters, size_t count);

//  Append a histogram to a svc.alive message: NAME, one label LABEL=VALUE (LABEL may be NULL),
//  BOUND_COUNT ascending BOUNDS, BOUND_COUNT + 1 cumulative COUNTS and their SUM (copied).
//  Returns 0, or -1 when full or a field does not fit the schema.
int proto_msg_add_histogram (proto_msg_t *self, const char *name, const char *label,
                             const char *value, const int64_t *bounds, size_t bound_count,
                             const int64_t *counts, int64_t sum);

//  The service the message is about (its body's "service" field, borrowed), or NULL for
//  topics without one (state.changed, svc.alive).
const char *proto_msg_service (const proto_msg_t *self);

//  The topic string of TYPE (borrowed), "" for PROTO_MSG_UNKNOWN.
const char *proto_msg_topic (proto_msg_type_t type);

//  The type of a topic string, PROTO_MSG_UNKNOWN if this build does not know it.
proto_msg_type_t proto_msg_type_from_topic (const char *topic);

//  Wire names of the enums (borrowed), for logs and tables.
const char *proto_via_name (proto_via_t via);
const char *proto_reason_name (proto_reason_t reason);
const char *proto_mode_name (proto_mode_t mode);
const char *proto_tier_name (proto_tier_t tier);

//  Parse a wire name back into an enum. Returns 0, or -1 when NAME is not one of them.
int proto_reason_parse (const char *name, proto_reason_t *reason);
int proto_mode_parse (const char *name, proto_mode_t *mode);

//  Whether TEXT is a MAC address as the wire writes it: "xx:xx:xx:xx:xx:xx", hex digits.
bool proto_is_mac (const char *text);

//  Copy SRC into DST of SIZE bytes. Returns 0, or -1 (DST holds a truncated copy) when SRC does
//  not fit: callers filling message fields check it rather than publish a cut-off name.
int proto_copy (char *dst, size_t size, const char *src);

#endif
