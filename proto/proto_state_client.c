/*  proto_state_client: ids, retries and reply dispatch over a DEALER socket.  */

#include "proto_state_client.h"

#define S_TICK_MS 25

//  A request waiting for its reply.
typedef struct {
    int64_t id;
    char *text;                  // owned: the request as sent
    int64_t next_send;           // zclock_mono when it is (re-)sent
    int64_t give_up_at;          // zclock_mono when it is abandoned
    int timeout_ms;
    proto_state_reply_fn *fn;
    void *arg;
} s_pending_t;

struct _proto_state_client_t {
    zsock_t *dealer;             // owned
    char author[64];
    char name[96];               // "author#pid.random": statestore's dedup key
    int64_t next_id;
    zlistx_t *pending;           // owned: s_pending_t *, in send order
    uint64_t timeouts;
};

static void
s_pending_destroy (void **item_p)
{
    s_pending_t *pending = (s_pending_t *) *item_p;
    if (pending) {
        free (pending->text);
        free (pending);
    }
    *item_p = NULL;
}

proto_state_client_t *
proto_state_client_new (const char *endpoint, const char *author)
{
    proto_state_client_t *self = (proto_state_client_t *) zmalloc (sizeof (proto_state_client_t));
    snprintf (self->author, sizeof self->author, "%s", author);
    snprintf (self->name, sizeof self->name, "%.40s#%d.%u", author, (int) getpid (),
              (unsigned) randof (1000000));
    self->next_id = 1;
    self->pending = zlistx_new ();
    zlistx_set_destructor (self->pending, s_pending_destroy);
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->dealer)
        goto failed;
    //  Queue nothing for a statestore that is not there: the retry timer re-sends instead,
    //  so a restart never delivers a pile of stale duplicates.
    zsock_set_immediate (self->dealer, 1);
    zsock_set_linger (self->dealer, 0);
    zsock_set_rcvhwm (self->dealer, 10000);
    if (zsock_connect (self->dealer, "%s", endpoint)) {
        zsys_error ("proto_state_client: zsock_connect failed endpoint=%s", endpoint);
        goto failed;
    }
    return self;
failed:
    proto_state_client_destroy (&self);
    return NULL;
}

void
proto_state_client_destroy (proto_state_client_t **self_p)
{
    assert (self_p);
    proto_state_client_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->dealer);
    zlistx_destroy (&self->pending);
    free (self);
    *self_p = NULL;
}

//  Send PENDING. Not connected yet (EAGAIN) means try again at the next tick; sent means wait
//  a whole timeout for the answer before sending again.
static void
s_transmit (proto_state_client_t *self, s_pending_t *pending)
{
    int sent = zmq_send (zsock_resolve (self->dealer), pending->text, strlen (pending->text),
                         ZMQ_DONTWAIT);
    pending->next_send = zclock_mono () + (sent < 0 ? S_TICK_MS : pending->timeout_ms);
}

//  Queue REQUEST (consumed) and send it; returns the pending record or NULL.
static s_pending_t *
s_submit (proto_state_client_t *self, json_t *request, int timeout_ms, int retries,
          proto_state_reply_fn *fn, void *arg)
{
    if (!json_is_object (request)) {
        json_decref (request);
        return NULL;
    }
    s_pending_t *pending = (s_pending_t *) zmalloc (sizeof (s_pending_t));
    pending->id = self->next_id++;
    pending->timeout_ms = timeout_ms > 0 ? timeout_ms : PROTO_STATE_TIMEOUT_MS;
    pending->give_up_at = zclock_mono ()
                          + (int64_t) pending->timeout_ms
                                * ((retries > 0 ? retries : PROTO_STATE_RETRIES) + 1);
    pending->fn = fn;
    pending->arg = arg;
    json_object_set_new (request, "id", json_integer (pending->id));
    json_object_set_new (request, "client", json_string (self->name));
    if (!json_object_get (request, "author"))
        json_object_set_new (request, "author", json_string (self->author));
    pending->text = json_dumps (request, JSON_COMPACT);
    json_decref (request);
    zlistx_add_end (self->pending, pending);
    s_transmit (self, pending);
    return pending;
}

int
proto_state_client_send (proto_state_client_t *self, json_t *request, int timeout_ms, int retries,
                         proto_state_reply_fn *fn, void *arg)
{
    assert (self);
    return s_submit (self, request, timeout_ms, retries, fn, arg) ? 0 : -1;
}

//  Find the pending request ID; returns its cursor handle or NULL.
static void *
s_find (proto_state_client_t *self, int64_t id)
{
    for (s_pending_t *pending = (s_pending_t *) zlistx_first (self->pending); pending;
         pending = (s_pending_t *) zlistx_next (self->pending))
        if (pending->id == id)
            return zlistx_cursor (self->pending);
    return NULL;
}

//  Read every reply waiting. Returns the reply to WANTED (owned) if it came, else NULL.
static json_t *
s_receive (proto_state_client_t *self, int64_t wanted)
{
    json_t *kept = NULL;
    while (zsock_events (self->dealer) & ZMQ_POLLIN) {
        char *text = zstr_recv (self->dealer);
        if (!text)
            break;
        json_t *reply = json_loads (text, 0, NULL);
        zstr_free (&text);
        json_t *id = json_object_get (reply, "id");
        void *handle = json_is_integer (id) ? s_find (self, json_integer_value (id)) : NULL;
        if (!handle) {
            json_decref (reply);  // a duplicate answer to a request already settled
            continue;
        }
        s_pending_t *pending = (s_pending_t *) zlistx_handle_item (handle);
        proto_state_reply_fn *fn = pending->fn;
        void *arg = pending->arg;
        bool is_wanted = pending->id == wanted;
        zlistx_delete (self->pending, handle);
        if (is_wanted)
            kept = reply;
        else {
            if (fn)
                fn (reply, arg);
            json_decref (reply);
        }
    }
    return kept;
}

//  Re-send or give up requests whose deadline passed. Returns true if WANTED was given up.
//  Given-up requests are detached first and called back after the walk, because a callback
//  may send new requests.
static bool
s_expire (proto_state_client_t *self, int64_t wanted)
{
    bool gave_up = false;
    int64_t now = zclock_mono ();
    zlistx_t *expired = NULL;
    for (s_pending_t *pending = (s_pending_t *) zlistx_first (self->pending); pending;
         pending = (s_pending_t *) zlistx_next (self->pending)) {
        if (now < pending->give_up_at) {
            if (now >= pending->next_send)
                s_transmit (self, pending);
            continue;
        }
        zlistx_detach_cur (self->pending);  // the cursor steps back, so the walk goes on
        if (!expired) {
            expired = zlistx_new ();
            zlistx_set_destructor (expired, s_pending_destroy);
        }
        zlistx_add_end (expired, pending);
    }
    if (!expired)
        return false;
    for (s_pending_t *pending = (s_pending_t *) zlistx_first (expired); pending;
         pending = (s_pending_t *) zlistx_next (expired)) {
        self->timeouts++;
        gave_up |= pending->id == wanted;
        if (pending->fn)
            pending->fn (NULL, pending->arg);
    }
    zlistx_destroy (&expired);
    return gave_up;
}

json_t *
proto_state_client_call (proto_state_client_t *self, json_t *request, int timeout_ms, int retries)
{
    assert (self);
    s_pending_t *pending = s_submit (self, request, timeout_ms, retries, NULL, NULL);
    if (!pending)
        return NULL;
    int64_t id = pending->id;
    zpoller_t *poller = zpoller_new (self->dealer, NULL);
    json_t *reply = NULL;
    while (!reply && !zsys_interrupted) {
        zpoller_wait (poller, S_TICK_MS);
        reply = s_receive (self, id);
        if (!reply && s_expire (self, id))
            break;
    }
    zpoller_destroy (&poller);
    if (!reply) {
        void *handle = s_find (self, id);
        if (handle)
            zlistx_delete (self->pending, handle);
    }
    return reply;
}

static int
s_on_reply (zloop_t *loop, zsock_t *reader, void *argument)
{
    s_receive ((proto_state_client_t *) argument, -1);
    return 0;
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *argument)
{
    s_expire ((proto_state_client_t *) argument, -1);
    return 0;
}

json_t *
proto_state_client_values (json_t *reply)
{
    json_t *values = json_object ();
    size_t index;
    json_t *entry;
    json_array_foreach (json_object_get (reply, "entries"), index, entry) {
        const char *key = json_string_value (json_object_get (entry, "key"));
        if (key)
            json_object_set (values, key, json_object_get (entry, "value"));
    }
    return values;
}

int
proto_state_client_attach (proto_state_client_t *self, zloop_t *loop)
{
    assert (self);
    if (zloop_reader (loop, self->dealer, s_on_reply, self)
        || zloop_timer (loop, S_TICK_MS, 0, s_on_tick, self) < 0)
        return -1;
    return 0;
}

size_t
proto_state_client_pending (proto_state_client_t *self)
{
    assert (self);
    return zlistx_size (self->pending);
}

uint64_t
proto_state_client_timeouts (proto_state_client_t *self)
{
    assert (self);
    return self->timeouts;
}
