/*  proto_sub: receiving, decoding and counting bus messages.  */

#include "proto_sub.h"

#define S_RCVHWM 100000

struct _proto_sub_t {
    zsock_t *sock;                       // owned: SUB connected to the bus output
    zhashx_t *last_seq;                  // owned: src -> last seq seen, as (void *) intptr
    uint64_t received;
    uint64_t malformed[PROTO_ERR_COUNT];
    uint64_t gaps;
    int64_t malformed_logged_ms;         // monotonic ms of the last malformed-message warning
    proto_sub_fn *fn;                    // proto_sub_attach: the handler, its batch and arg
    int max;
    void *arg;
};

proto_sub_t *
proto_sub_new (const char *endpoint)
{
    assert (endpoint);
    proto_sub_t *self = (proto_sub_t *) zmalloc (sizeof (proto_sub_t));
    self->last_seq = zhashx_new ();
    self->sock = zsock_new (ZMQ_SUB);
    if (!self->last_seq || !self->sock)
        goto failed;
    zsock_set_rcvhwm (self->sock, S_RCVHWM);
    if (zsock_connect (self->sock, "%s", endpoint)) {
        zsys_error ("proto_sub: zsock_connect failed endpoint=%s", endpoint);
        goto failed;
    }
    return self;
failed:
    proto_sub_destroy (&self);
    return NULL;
}

void
proto_sub_destroy (proto_sub_t **self_p)
{
    assert (self_p);
    proto_sub_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->sock);
    zhashx_destroy (&self->last_seq);
    free (self);
    *self_p = NULL;
}

void
proto_sub_subscribe (proto_sub_t *self, const char *prefix)
{
    assert (self);
    zsock_set_subscribe (self->sock, prefix);
}

//  Count a gap when SRC's sequence jumped. A sequence that goes backwards is a restarted
//  publisher (its seq starts again at 1), not a gap.
static void
s_track (proto_sub_t *self, const proto_msg_t *msg)
{
    void *seen = zhashx_lookup (self->last_seq, msg->src);
    int64_t last = seen ? (int64_t) (intptr_t) seen : 0;
    if (seen && msg->seq > last + 1)
        self->gaps += msg->seq - last - 1;
    if (!seen && zhashx_size (self->last_seq) >= PROTO_SUB_SOURCES_MAX)
        zhashx_purge (self->last_seq);  // bounded memory against a flood of src names
    zhashx_update (self->last_seq, msg->src, (void *) (intptr_t) msg->seq);
}

int
proto_sub_recv (proto_sub_t *self, proto_msg_t *msg, proto_error_t *error)
{
    assert (self);
    assert (msg);
    proto_error_t local_error;
    if (!error)
        error = &local_error;
    void *handle = zsock_resolve (self->sock);
    zmq_msg_t frames[2];
    zmq_msg_init (&frames[0]);
    zmq_msg_init (&frames[1]);
    int count = 0;
    bool more = true;
    //  Read the whole multipart message, keeping the first two frames; extra frames make it
    //  malformed but must still be drained.
    while (more) {
        zmq_msg_t *frame = &frames[count < 2 ? count : 1];
        if (count >= 2) {
            zmq_msg_close (frame);
            zmq_msg_init (frame);
        }
        if (zmq_msg_recv (frame, handle, ZMQ_DONTWAIT) < 0) {
            if (count == 0) {
                zmq_msg_close (&frames[0]);
                zmq_msg_close (&frames[1]);
                return -1;
            }
            continue;  // the rest of a multipart message is always there at once
        }
        count++;
        more = zmq_msg_more (frame);
    }
    self->received++;
    char topic[PROTO_TOPIC_MAX + 1] = "";
    size_t topic_size = zmq_msg_size (&frames[0]);
    int rc;
    if (count != 2 || topic_size == 0 || topic_size > PROTO_TOPIC_MAX)
        rc = proto_error_set (error, PROTO_ERR_ENVELOPE,
                              "expected frames [topic][json], got %d frames, topic %zu bytes",
                              count, topic_size);
    else {
        memcpy (topic, zmq_msg_data (&frames[0]), topic_size);
        topic[topic_size] = '\0';
        rc = proto_msg_decode (msg, topic, zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]),
                               error);
    }
    zmq_msg_close (&frames[0]);
    zmq_msg_close (&frames[1]);
    if (rc) {
        self->malformed[error->code < PROTO_ERR_COUNT ? error->code : PROTO_ERR_ENVELOPE]++;
        proto_copy (msg->topic, sizeof msg->topic, topic);
        return -2;
    }
    s_track (self, msg);
    return 0;
}

int
proto_sub_drain (proto_sub_t *self, int max, proto_sub_fn *fn, void *arg)
{
    assert (self);
    assert (fn);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    int count = 0;
    while (count < max) {
        proto_error_t error;
        int rc = proto_sub_recv (self, &msg, &error);
        if (rc == -1)
            break;
        count++;
        if (rc == 0)
            fn (arg, &msg);
        else if (zclock_mono () - self->malformed_logged_ms >= 1000) {
            //  Counted above (bus_malformed in svc.alive); a flood must not flood the log.
            self->malformed_logged_ms = zclock_mono ();
            zsys_warning ("proto_sub: malformed message dropped topic=%s class=%s reason=%s",
                          msg.topic, proto_errcode_name (error.code), error.text);
        }
        proto_msg_reset (&msg);
    }
    return count;
}

static int
s_on_readable (zloop_t *loop, zsock_t *reader, void *argument)
{
    proto_sub_t *self = (proto_sub_t *) argument;
    proto_sub_drain (self, self->max, self->fn, self->arg);
    return 0;
}

int
proto_sub_attach (proto_sub_t *self, zloop_t *loop, int max, proto_sub_fn *fn, void *arg)
{
    assert (self && loop && fn);
    self->fn = fn;
    self->max = max;
    self->arg = arg;
    return zloop_reader (loop, self->sock, s_on_readable, self);
}

zsock_t *
proto_sub_sock (proto_sub_t *self)
{
    assert (self);
    return self->sock;
}

uint64_t
proto_sub_received (proto_sub_t *self)
{
    assert (self);
    return self->received;
}

uint64_t
proto_sub_malformed (proto_sub_t *self)
{
    assert (self);
    uint64_t total = 0;
    for (int code = 0; code < PROTO_ERR_COUNT; code++)
        total += self->malformed[code];
    return total;
}

uint64_t
proto_sub_malformed_by (proto_sub_t *self, proto_errcode_t code)
{
    assert (self);
    return code < PROTO_ERR_COUNT ? self->malformed[code] : 0;
}

uint64_t
proto_sub_gaps (proto_sub_t *self)
{
    assert (self);
    return self->gaps;
}
