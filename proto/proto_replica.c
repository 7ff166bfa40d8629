/*  proto_replica: snapshot, events, gaps and resyncs.  */

#include "proto_alive.h"
#include "proto_replica.h"
#include "proto_state_client.h"
#include "proto_sub.h"

#define S_BUFFER_MAX 10000   // events kept while a snapshot is in flight
#define S_SNAPSHOT_TIMEOUT_MS 2000
#define S_BUS_BATCH 256      // state.changed events read per wake-up

//  One key's copy.
typedef struct {
    json_t *value;           // owned
    int64_t mod_rev;
} s_entry_t;

struct _proto_replica_t {
    char *prefix;                   // owned
    int heartbeat_ms;
    proto_state_client_t *client;   // owned
    proto_sub_t *sub;               // owned
    zhashx_t *entries;              // owned: key -> s_entry_t *
    int64_t rev;
    bool synced;
    bool snapshot_pending;          // a snapshot request is in flight
    zlistx_t *buffered;             // owned: proto_msg_t * received while snapshotting
    bool buffer_overflowed;
    int64_t last_heard;             // zclock_mono of the last message from statestore
    uint64_t snapshots;
    proto_replica_fn *fn;
    void *fn_arg;
};

static void
s_entry_destroy (void **item_p)
{
    s_entry_t *entry = (s_entry_t *) *item_p;
    if (entry) {
        json_decref (entry->value);
        free (entry);
    }
    *item_p = NULL;
}

static bool
s_under_prefix (const proto_replica_t *self, const char *key)
{
    size_t length = strlen (self->prefix);
    if (length == 0 || streq (self->prefix, "/"))
        return true;
    return strncmp (key, self->prefix, length) == 0 && (key[length] == '\0' || key[length] == '/');
}

//  Store VALUE (borrowed) at KEY, or delete when NULL, and tell the handler if it changed.
static void
s_set (proto_replica_t *self, const char *key, json_t *value, int64_t mod_rev)
{
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->entries, key);
    if (!value) {
        if (entry) {
            zhashx_delete (self->entries, key);
            if (self->fn)
                self->fn (key, NULL, self->fn_arg);
        }
        return;
    }
    bool changed = !entry || !json_equal (entry->value, value);
    if (!entry) {
        entry = (s_entry_t *) zmalloc (sizeof (s_entry_t));
        zhashx_insert (self->entries, key, entry);
    }
    if (changed) {
        json_decref (entry->value);
        entry->value = json_incref (value);
    }
    entry->mod_rev = mod_rev;
    if (changed && self->fn)
        self->fn (key, value, self->fn_arg);
}

static void s_resync (proto_replica_t *self, const char *why);

//  Apply one event in order. Returns 0, or -1 when it cannot be applied (gap, value missing).
static int
s_apply_event (proto_replica_t *self, const proto_state_changed_t *event)
{
    if (event->rev <= self->rev)
        return 0;  // already reflected
    if (event->rev != self->rev + 1 || event->truncated)
        return -1;
    for (size_t index = 0; index < event->change_count; index++) {
        const proto_change_t *change = &event->changes[index];
        if (change->op == PROTO_OP_PUT && !change->value && s_under_prefix (self, change->key))
            return -1;
    }
    for (size_t index = 0; index < event->change_count; index++) {
        const proto_change_t *change = &event->changes[index];
        if (s_under_prefix (self, change->key))
            s_set (self, change->key, change->op == PROTO_OP_PUT ? change->value : NULL,
                   event->rev);
    }
    self->rev = event->rev;
    return 0;
}

static void
s_on_snapshot (json_t *reply, void *argument)
{
    proto_replica_t *self = (proto_replica_t *) argument;
    self->snapshot_pending = false;
    json_t *entries = json_object_get (reply, "entries");
    json_t *rev = json_object_get (reply, "rev");
    if (!reply || !json_is_true (json_object_get (reply, "ok")) || !json_is_array (entries)
        || !json_is_integer (rev)) {
        //  Timed out or refused: ask again; statestore may be restarting.
        s_resync (self, reply ? "snapshot refused" : "snapshot timed out");
        return;
    }
    self->last_heard = zclock_mono ();
    //  Replace the copy, telling the handler only about real differences.
    zhashx_t *seen = zhashx_new ();
    size_t index;
    json_t *item;
    json_array_foreach (entries, index, item) {
        const char *key = json_string_value (json_object_get (item, "key"));
        json_t *value = json_object_get (item, "value");
        if (!key || !value)
            continue;
        s_set (self, key, value, json_integer_value (json_object_get (item, "mod_rev")));
        zhashx_insert (seen, key, (void *) 1);
    }
    zlistx_t *gone = zhashx_keys (self->entries);
    for (const char *key = (const char *) zlistx_first (gone); key;
         key = (const char *) zlistx_next (gone))
        if (!zhashx_lookup (seen, key))
            s_set (self, key, NULL, 0);
    zlistx_destroy (&gone);
    zhashx_destroy (&seen);
    self->rev = json_integer_value (rev);
    self->synced = true;

    //  Events that arrived meanwhile, in order; anything that does not follow means resync.
    bool broken = self->buffer_overflowed;
    self->buffer_overflowed = false;
    for (proto_msg_t *msg = (proto_msg_t *) zlistx_first (self->buffered); msg && !broken;
         msg = (proto_msg_t *) zlistx_next (self->buffered))
        broken = s_apply_event (self, &msg->state_changed) != 0;
    zlistx_purge (self->buffered);
    if (broken)
        s_resync (self, "events missing after snapshot");
}

static void
s_resync (proto_replica_t *self, const char *why)
{
    if (self->snapshot_pending)
        return;
    if (self->snapshots > 0)
        zsys_info ("proto_replica: resync prefix=%s rev=%lld reason=%s", self->prefix,
                   (long long) self->rev, why);
    self->synced = false;
    self->snapshot_pending = true;
    self->snapshots++;
    json_t *request = json_pack ("{s:s, s:s}", "op", "snapshot", "prefix", self->prefix);
    proto_state_client_send (self->client, request, S_SNAPSHOT_TIMEOUT_MS, 1, s_on_snapshot,
                             self);
}

void
proto_replica_feed (proto_replica_t *self, const proto_msg_t *msg)
{
    assert (self);
    if (msg->type == PROTO_MSG_SVC_ALIVE) {
        if (!streq (msg->svc_alive.name, "statestore"))
            return;
        self->last_heard = zclock_mono ();
        //  The heartbeat follows its events on the same path: a newer revision means we lost
        //  an event, an older one means statestore's history changed under us. A heartbeat
        //  without a rev says nothing about it.
        int64_t rev = proto_alive_counter (&msg->svc_alive, "rev", self->rev);
        if (self->synced && rev != self->rev)
            s_resync (self, rev > self->rev ? "heartbeat ahead" : "rev went back");
        return;
    }
    if (msg->type != PROTO_MSG_STATE_CHANGED)
        return;
    self->last_heard = zclock_mono ();
    if (self->snapshot_pending) {
        if (zlistx_size (self->buffered) >= S_BUFFER_MAX) {
            self->buffer_overflowed = true;
            return;
        }
        proto_msg_t *copy = proto_msg_new (PROTO_MSG_STATE_CHANGED);
        copy->state_changed.rev = msg->state_changed.rev;
        copy->state_changed.truncated = msg->state_changed.truncated;
        for (size_t index = 0; index < msg->state_changed.change_count; index++) {
            const proto_change_t *change = &msg->state_changed.changes[index];
            proto_msg_add_change (copy, change->key, change->op, change->value);
        }
        zlistx_add_end (self->buffered, copy);
        return;
    }
    if (s_apply_event (self, &msg->state_changed))
        s_resync (self, msg->state_changed.truncated ? "a commit too large for one event"
                                                     : "revision gap or value missing");
}

static void
s_on_bus_message (void *argument, const proto_msg_t *msg)
{
    proto_replica_feed ((proto_replica_t *) argument, msg);
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *argument)
{
    proto_replica_t *self = (proto_replica_t *) argument;
    if (zclock_mono () - self->last_heard > 2 * self->heartbeat_ms) {
        self->last_heard = zclock_mono ();  // one resync per silence, not one per tick
        s_resync (self, "statestore silent");
    }
    return 0;
}

proto_replica_t *
proto_replica_new (const proto_endpoints_t *endpoints, const char *prefix, const char *author,
                   int heartbeat_ms)
{
    proto_replica_t *self = (proto_replica_t *) zmalloc (sizeof (proto_replica_t));
    self->prefix = strdup (prefix);
    self->heartbeat_ms = heartbeat_ms > 0 ? heartbeat_ms : 1000;
    self->entries = zhashx_new ();
    zhashx_set_destructor (self->entries, s_entry_destroy);
    self->buffered = zlistx_new ();
    zlistx_set_destructor (self->buffered, (czmq_destructor *) proto_msg_destroy);
    self->client = proto_state_client_new (endpoints->state, author);
    self->sub = proto_sub_new (endpoints->bus_out);
    if (!self->client || !self->sub) {
        proto_replica_destroy (&self);
        return NULL;
    }
    proto_sub_subscribe (self->sub, "state.changed");
    proto_sub_subscribe (self->sub, "svc.alive");
    return self;
}

void
proto_replica_destroy (proto_replica_t **self_p)
{
    assert (self_p);
    proto_replica_t *self = *self_p;
    if (!self)
        return;
    proto_sub_destroy (&self->sub);
    proto_state_client_destroy (&self->client);
    zlistx_destroy (&self->buffered);
    zhashx_destroy (&self->entries);
    free (self->prefix);
    free (self);
    *self_p = NULL;
}

void
proto_replica_set_handler (proto_replica_t *self, proto_replica_fn *fn, void *arg)
{
    assert (self);
    self->fn = fn;
    self->fn_arg = arg;
}

int
proto_replica_attach (proto_replica_t *self, zloop_t *loop)
{
    assert (self);
    if (proto_state_client_attach (self->client, loop)
        || proto_sub_attach (self->sub, loop, S_BUS_BATCH, s_on_bus_message, self)
        || zloop_timer (loop, self->heartbeat_ms / 2, 0, s_on_tick, self) < 0)
        return -1;
    self->last_heard = zclock_mono ();
    s_resync (self, "start");
    return 0;
}

json_t *
proto_replica_get (proto_replica_t *self, const char *key)
{
    assert (self);
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->entries, key);
    return entry ? entry->value : NULL;
}

int64_t
proto_replica_mod_rev (proto_replica_t *self, const char *key)
{
    assert (self);
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->entries, key);
    return entry ? entry->mod_rev : 0;
}

void
proto_replica_foreach (proto_replica_t *self, proto_replica_fn *fn, void *arg)
{
    assert (self);
    for (s_entry_t *entry = (s_entry_t *) zhashx_first (self->entries); entry;
         entry = (s_entry_t *) zhashx_next (self->entries))
        fn ((const char *) zhashx_cursor (self->entries), entry->value, arg);
}

int64_t
proto_replica_rev (proto_replica_t *self)
{
    assert (self);
    return self->rev;
}

bool
proto_replica_synced (proto_replica_t *self)
{
    assert (self);
    return self->synced;
}

uint64_t
proto_replica_resyncs (proto_replica_t *self)
{
    assert (self);
    return self->snapshots > 0 ? self->snapshots - 1 : 0;
}

size_t
proto_replica_size (proto_replica_t *self)
{
    assert (self);
    return zhashx_size (self->entries);
}
