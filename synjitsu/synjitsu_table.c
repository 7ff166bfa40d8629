/*  synjitsu_table: booting addresses and held SYNs, bounded.

    Held SYNs sit on one list in arrival order (a retransmit moves its 4-tuple to the end), so
    the oldest overall is the head and the oldest of one address is the first of its own on
    the way from the head. The bounds are small (a few thousand at most), so linear searches
    cost less than keeping indexes consistent.  */

#include "synjitsu_table.h"

//  One held SYN: the latest frame of a 4-tuple.
typedef struct _s_syn_t s_syn_t;
struct _s_syn_t {
    s_syn_t *previous;          // toward the oldest
    s_syn_t *next;              // toward the newest
    synjitsu_vm_t *vm;          // borrowed: the booting address it is for
    struct in_addr client;
    uint16_t sport;
    uint16_t dport;
    int64_t first_ms;           // the first SYN of the 4-tuple: what the client has waited
    int64_t last_ms;            // the frame kept: what max_hold_ms measures
    size_t size;
    uint8_t *data;              // owned
};

struct _synjitsu_table_t {
    synjitsu_limits_t limits;
    synjitsu_vm_t *vms[SYNJITSU_VMS_MAX];  // owned, the first vm_count used
    size_t vm_count;
    s_syn_t *oldest;            // owned list of held SYNs, oldest first
    s_syn_t *newest;
    size_t syn_count;
    synjitsu_table_stats_t stats;
};

synjitsu_table_t *
synjitsu_table_new (const synjitsu_limits_t *limits)
{
    assert (limits);
    synjitsu_table_t *self = (synjitsu_table_t *) zmalloc (sizeof (synjitsu_table_t));
    self->limits = *limits;
    return self;
}

//  Unlink SYN from the list, free it, and keep the counts right.
static void
s_syn_destroy (synjitsu_table_t *self, s_syn_t *syn)
{
    if (syn->previous)
        syn->previous->next = syn->next;
    else
        self->oldest = syn->next;
    if (syn->next)
        syn->next->previous = syn->previous;
    else
        self->newest = syn->previous;
    syn->vm->held--;
    self->syn_count--;
    free (syn->data);
    free (syn);
}

static void
s_syn_append (synjitsu_table_t *self, s_syn_t *syn)
{
    syn->next = NULL;
    syn->previous = self->newest;
    if (self->newest)
        self->newest->next = syn;
    else
        self->oldest = syn;
    self->newest = syn;
}

//  Drop every SYN held for VM.
static void
s_drop_all (synjitsu_table_t *self, synjitsu_vm_t *vm)
{
    s_syn_t *syn = self->oldest;
    while (syn) {
        s_syn_t *next = syn->next;
        if (syn->vm == vm)
            s_syn_destroy (self, syn);
        syn = next;
    }
}

//  Remove the VM at INDEX of the array and free it; its SYNs must be gone already.
static void
s_vm_remove (synjitsu_table_t *self, size_t index)
{
    assert (self->vms[index]->held == 0);
    free (self->vms[index]);
    self->vms[index] = self->vms[--self->vm_count];
    self->vms[self->vm_count] = NULL;
}

void
synjitsu_table_destroy (synjitsu_table_t **self_p)
{
    assert (self_p);
    synjitsu_table_t *self = *self_p;
    if (!self)
        return;
    while (self->oldest)
        s_syn_destroy (self, self->oldest);
    while (self->vm_count)
        s_vm_remove (self, self->vm_count - 1);
    free (self);
    *self_p = NULL;
}

static ssize_t
s_vm_index (synjitsu_table_t *self, struct in_addr ip)
{
    for (size_t index = 0; index < self->vm_count; index++)
        if (self->vms[index]->ip.s_addr == ip.s_addr)
            return (ssize_t) index;
    return -1;
}

static int
s_booting (synjitsu_table_t *self, const char *service, const char *boot_id, struct in_addr ip,
           const uint8_t *mac, bool watch_only, int64_t now_ms)
{
    assert (self);
    ssize_t index = s_vm_index (self, ip);
    synjitsu_vm_t *vm;
    if (index >= 0)
        vm = self->vms[index];
    else {
        if (self->vm_count == SYNJITSU_VMS_MAX) {
            self->stats.refused++;
            return -1;
        }
        vm = (synjitsu_vm_t *) zmalloc (sizeof (synjitsu_vm_t));
        vm->ip = ip;
        vm->since_ms = now_ms;
        self->vms[self->vm_count++] = vm;
    }
    proto_copy (vm->service, sizeof vm->service, service);
    proto_copy (vm->boot_id, sizeof vm->boot_id, boot_id ? boot_id : "");
    bool mac_changed = mac ? !vm->has_mac || memcmp (vm->mac, mac, SYNJITSU_MAC_SIZE) : vm->has_mac;
    if (mac_changed || index < 0 || watch_only != vm->watch_only) {
        vm->has_mac = mac != NULL;
        if (mac)
            memcpy (vm->mac, mac, SYNJITSU_MAC_SIZE);
        vm->garps_left = vm->has_mac && !watch_only ? self->limits.garp_count : 0;
        vm->garp_due_ms = now_ms;
    }
    vm->watch_only = watch_only;
    return 0;
}

int
synjitsu_table_booting (synjitsu_table_t *self, const char *service, const char *boot_id,
                        struct in_addr ip, const uint8_t *mac, int64_t now_ms)
{
    return s_booting (self, service, boot_id, ip, mac, false, now_ms);
}

int
synjitsu_table_watching (synjitsu_table_t *self, const char *service, const char *boot_id,
                         struct in_addr ip, const uint8_t *mac, int64_t now_ms)
{
    return s_booting (self, service, boot_id, ip, mac, true, now_ms);
}

bool
synjitsu_table_seen (synjitsu_table_t *self, struct in_addr ip, const uint8_t *mac)
{
    assert (self);
    ssize_t index = s_vm_index (self, ip);
    if (index < 0 || self->vms[index]->seen)
        return false;
    synjitsu_vm_t *vm = self->vms[index];
    vm->seen = true;
    if (mac) {
        memcpy (vm->mac, mac, SYNJITSU_MAC_SIZE);
        vm->has_mac = true;
    }
    return true;
}

const synjitsu_vm_t *
synjitsu_table_lookup (synjitsu_table_t *self, struct in_addr ip)
{
    assert (self);
    ssize_t index = s_vm_index (self, ip);
    return index < 0 ? NULL : self->vms[index];
}

//  Make room for one more SYN for VM: drop the oldest of VM's own at its cap, then the oldest
//  overall at the overall cap.
static void
s_make_room (synjitsu_table_t *self, synjitsu_vm_t *vm)
{
    if (vm->held >= (size_t) self->limits.max_syns_per_ip) {
        for (s_syn_t *syn = self->oldest; syn; syn = syn->next)
            if (syn->vm == vm) {
                s_syn_destroy (self, syn);
                self->stats.evicted++;
                break;
            }
    }
    if (self->syn_count >= (size_t) self->limits.max_syns && self->oldest) {
        s_syn_destroy (self, self->oldest);
        self->stats.evicted++;
    }
}

synjitsu_hold_t
synjitsu_table_hold (synjitsu_table_t *self, const synjitsu_frame_t *frame, const uint8_t *data,
                     size_t size, int64_t now_ms)
{
    assert (self);
    assert (frame);
    if (!synjitsu_frame_is_syn (frame))
        return SYNJITSU_HOLD_IGNORED;
    ssize_t index = s_vm_index (self, frame->ip_dst);
    if (index < 0 || self->limits.max_syns_per_ip < 1 || self->limits.max_syns < 1)
        return SYNJITSU_HOLD_IGNORED;
    synjitsu_vm_t *vm = self->vms[index];
    if (vm->watch_only)
        return SYNJITSU_HOLD_IGNORED;
    uint8_t *copy = (uint8_t *) malloc (size);
    if (!copy)
        return SYNJITSU_HOLD_IGNORED;
    memcpy (copy, data, size);

    for (s_syn_t *syn = self->oldest; syn; syn = syn->next) {
        if (syn->vm == vm && syn->client.s_addr == frame->ip_src.s_addr
            && syn->sport == frame->tcp_sport && syn->dport == frame->tcp_dport) {
            free (syn->data);
            syn->data = copy;
            syn->size = size;
            syn->last_ms = now_ms;
            //  Move it to the newest end: the list stays in order of the frames kept.
            if (syn != self->newest) {
                if (syn->previous)
                    syn->previous->next = syn->next;
                else
                    self->oldest = syn->next;
                syn->next->previous = syn->previous;
                s_syn_append (self, syn);
            }
            self->stats.replaced++;
            return SYNJITSU_HOLD_REPLACED;
        }
    }
    s_make_room (self, vm);
    s_syn_t *syn = (s_syn_t *) zmalloc (sizeof (s_syn_t));
    syn->vm = vm;
    syn->client = frame->ip_src;
    syn->sport = frame->tcp_sport;
    syn->dport = frame->tcp_dport;
    syn->first_ms = syn->last_ms = now_ms;
    syn->data = copy;
    syn->size = size;
    s_syn_append (self, syn);
    vm->held++;
    vm->held_total++;
    self->syn_count++;
    self->stats.held++;
    return SYNJITSU_HOLD_NEW;
}

int
synjitsu_table_release (synjitsu_table_t *self, struct in_addr ip, const uint8_t *mac,
                        int64_t now_ms, synjitsu_table_replay_fn *replay, void *argument,
                        synjitsu_release_t *result)
{
    assert (self);
    assert (result);
    memset (result, 0, sizeof *result);
    ssize_t index = s_vm_index (self, ip);
    if (index < 0)
        return -1;
    synjitsu_vm_t *vm = self->vms[index];
    if (mac) {
        memcpy (vm->mac, mac, SYNJITSU_MAC_SIZE);
        vm->has_mac = true;
    }
    proto_copy (result->service, sizeof result->service, vm->service);
    result->ip = ip;
    result->held_total = vm->held_total;
    s_syn_t *syn = self->oldest;
    while (syn) {
        s_syn_t *next = syn->next;
        if (syn->vm == vm) {
            if (now_ms - syn->last_ms > self->limits.max_hold_ms) {
                result->expired++;
                self->stats.expired++;
            }
            else {
                if (replay)
                    replay (argument, vm, syn->data, syn->size);
                result->replayed++;
                self->stats.released++;
                if (now_ms - syn->first_ms > result->held_ms)
                    result->held_ms = now_ms - syn->first_ms;
            }
            s_syn_destroy (self, syn);
        }
        syn = next;
    }
    s_vm_remove (self, (size_t) index);
    return 0;
}

size_t
synjitsu_table_forget (synjitsu_table_t *self, const char *service)
{
    assert (self);
    size_t forgotten = 0;
    size_t index = 0;
    while (index < self->vm_count) {
        if (streq (self->vms[index]->service, service)) {
            s_drop_all (self, self->vms[index]);
            s_vm_remove (self, index);  // moves the last VM into INDEX: look at it again
            forgotten++;
        }
        else
            index++;
    }
    return forgotten;
}

size_t
synjitsu_table_expire (synjitsu_table_t *self, int64_t now_ms)
{
    assert (self);
    size_t dropped = 0;
    s_syn_t *syn = self->oldest;
    while (syn) {
        s_syn_t *next = syn->next;
        if (now_ms - syn->last_ms > self->limits.max_hold_ms) {
            s_syn_destroy (self, syn);
            dropped++;
        }
        syn = next;
    }
    self->stats.expired += dropped;
    return dropped;
}

void
synjitsu_table_announce (synjitsu_table_t *self, int64_t now_ms,
                         synjitsu_table_announce_fn *announce, void *argument)
{
    assert (self);
    for (size_t index = 0; index < self->vm_count; index++) {
        synjitsu_vm_t *vm = self->vms[index];
        if (vm->garps_left > 0 && now_ms >= vm->garp_due_ms) {
            vm->garps_left--;
            vm->garp_due_ms = now_ms + self->limits.garp_interval_ms;
            announce (argument, vm);
        }
    }
}

size_t
synjitsu_table_ips (synjitsu_table_t *self, struct in_addr *ips, size_t max)
{
    assert (self);
    size_t count = 0;
    for (; count < self->vm_count && count < max; count++)
        ips[count] = self->vms[count]->ip;
    return count;
}

size_t
synjitsu_table_size (synjitsu_table_t *self)
{
    assert (self);
    return self->vm_count;
}

size_t
synjitsu_table_held (synjitsu_table_t *self)
{
    assert (self);
    return self->syn_count;
}

const synjitsu_table_stats_t *
synjitsu_table_stats (synjitsu_table_t *self)
{
    assert (self);
    return &self->stats;
}
