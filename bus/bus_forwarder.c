/*  bus_forwarder: moving messages XSUB -> XPUB and subscriptions XPUB -> XSUB.  */

#include "bus_forwarder.h"

//  Messages moved per wake-up before returning to the loop, so neither direction starves.
#define S_BATCH 256

struct _bus_forwarder_t {
    zsock_t *in;                   // owned: XSUB, publishers connect here
    zsock_t *out;                  // owned: XPUB, subscribers connect here
    bus_forwarder_stats_t stats;
};

bus_forwarder_t *
bus_forwarder_new (const char *in_endpoint, const char *out_endpoint, int hwm)
{
    bus_forwarder_t *self = (bus_forwarder_t *) zmalloc (sizeof (bus_forwarder_t));
    self->in = zsock_new (ZMQ_XSUB);
    self->out = zsock_new (ZMQ_XPUB);
    if (!self->in || !self->out)
        goto failed;
    zsock_set_rcvhwm (self->in, hwm);
    zsock_set_sndhwm (self->out, hwm);
    zsock_set_linger (self->out, 0);
    if (zsock_bind (self->in, "%s", in_endpoint) < 0) {
        zsys_error ("bus_forwarder: zsock_bind failed endpoint=%s error=%s", in_endpoint,
                    zmq_strerror (zmq_errno ()));
        goto failed;
    }
    if (zsock_bind (self->out, "%s", out_endpoint) < 0) {
        zsys_error ("bus_forwarder: zsock_bind failed endpoint=%s error=%s", out_endpoint,
                    zmq_strerror (zmq_errno ()));
        goto failed;
    }
    return self;
failed:
    bus_forwarder_destroy (&self);
    return NULL;
}

void
bus_forwarder_destroy (bus_forwarder_t **self_p)
{
    assert (self_p);
    bus_forwarder_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->out);
    zsock_destroy (&self->in);
    free (self);
    *self_p = NULL;
}

//  Move one whole multipart message from FROM to TO, reporting its first byte in *FIRST_BYTE
//  when not NULL. Returns its payload size, or -1 when nothing was waiting. A frame the
//  destination refuses is counted in *FAILURES.
static ssize_t
s_move (zsock_t *from, zsock_t *to, byte *first_byte, uint64_t *failures)
{
    void *source = zsock_resolve (from);
    void *target = zsock_resolve (to);
    ssize_t total = 0;
    bool more = true;
    bool first = true;
    while (more) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, source, first ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close (&frame);
            return first ? -1 : total;
        }
        if (first && first_byte)
            *first_byte = zmq_msg_size (&frame) ? *(byte *) zmq_msg_data (&frame) : 0;
        first = false;
        more = zmq_msg_more (&frame);
        total += zmq_msg_size (&frame);
        if (zmq_msg_send (&frame, target, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0) {
            (*failures)++;
            zmq_msg_close (&frame);
        }
    }
    return total;
}

static int
s_on_in (zloop_t *loop, zsock_t *reader, void *argument)
{
    bus_forwarder_t *self = (bus_forwarder_t *) argument;
    for (int count = 0; count < S_BATCH; count++) {
        ssize_t size = s_move (self->in, self->out, NULL, &self->stats.send_failures);
        if (size < 0)
            break;
        self->stats.messages++;
        self->stats.bytes += size;
    }
    return 0;
}

static int
s_on_out (zloop_t *loop, zsock_t *reader, void *argument)
{
    bus_forwarder_t *self = (bus_forwarder_t *) argument;
    for (int count = 0; count < S_BATCH; count++) {
        //  A subscription message starts with 1 (subscribe) or 0 (unsubscribe).
        byte kind = 0;
        if (s_move (self->out, self->in, &kind, &self->stats.send_failures) < 0)
            break;
        if (kind == 1)
            self->stats.subscribes++;
        else
            self->stats.unsubscribes++;
    }
    return 0;
}

int
bus_forwarder_attach (bus_forwarder_t *self, zloop_t *loop)
{
    assert (self);
    if (zloop_reader (loop, self->in, s_on_in, self)
        || zloop_reader (loop, self->out, s_on_out, self))
        return -1;
    return 0;
}

const bus_forwarder_stats_t *
bus_forwarder_stats (bus_forwarder_t *self)
{
    assert (self);
    return &self->stats;
}
