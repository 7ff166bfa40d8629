/*  proto_pub: stamping and sending bus messages.

    The socket is an XPUB rather than a PUB: it behaves the same for sending, and it lets
    proto_pub_await see the subscriptions the bus forwards, which is how a one-shot publisher
    (jitsuctl publish) knows its message will not be dropped before anyone listens.  */

#include "proto_pub.h"

#define S_LINGER_MS 200
#define S_SNDHWM    100000

struct _proto_pub_t {
    zsock_t *sock;                       // owned: XPUB connected to the bus input
    char name[PROTO_NAME_MAX + 1];
    char instance[PROTO_NAME_MAX + 1];
    char src[PROTO_SRC_MAX + 1];
    int64_t seq;                         // last sequence number sent
    int64_t started_ms;                  // for uptime_s
    uint64_t sent;
    uint64_t failed;
};

proto_pub_t *
proto_pub_new (const char *endpoint, const char *name, const char *instance)
{
    assert (endpoint);
    proto_pub_t *self = (proto_pub_t *) zmalloc (sizeof (proto_pub_t));
    if (proto_copy (self->name, sizeof self->name, name)
        || proto_copy (self->instance, sizeof self->instance, instance)
        || snprintf (self->src, sizeof self->src, "%s/%s", name, instance)
               >= (int) sizeof self->src) {
        zsys_error ("proto_pub: name too long name=%s instance=%s", name, instance);
        goto failed;
    }
    self->started_ms = zclock_time ();
    self->sock = zsock_new (ZMQ_XPUB);
    if (!self->sock)
        goto failed;
    zsock_set_sndhwm (self->sock, S_SNDHWM);
    zsock_set_linger (self->sock, S_LINGER_MS);
    if (zsock_connect (self->sock, "%s", endpoint)) {
        zsys_error ("proto_pub: zsock_connect failed endpoint=%s", endpoint);
        goto failed;
    }
    return self;
failed:
    proto_pub_destroy (&self);
    return NULL;
}

void
proto_pub_destroy (proto_pub_t **self_p)
{
    assert (self_p);
    proto_pub_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->sock);
    free (self);
    *self_p = NULL;
}

int
proto_pub_send (proto_pub_t *self, proto_msg_t *msg)
{
    assert (self);
    assert (msg);
    strcpy (msg->src, self->src);
    msg->seq = self->seq + 1;
    msg->ts = zclock_time ();
    proto_error_t error;
    char *text = proto_msg_encode (msg, &error);
    int rc = -1;
    if (text) {
        void *handle = zsock_resolve (self->sock);
        const char *topic = proto_msg_topic (msg->type);
        if (zmq_send (handle, topic, strlen (topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0
            && zmq_send (handle, text, strlen (text), ZMQ_DONTWAIT) >= 0)
            rc = 0;
        free (text);
    }
    else
        zsys_error ("proto_pub: not sent topic=%s reason=%s", msg->topic, error.text);
    proto_msg_reset (msg);
    if (rc) {
        self->failed++;
        return -1;
    }
    self->seq++;
    self->sent++;
    return 0;
}

int
proto_pub_await (proto_pub_t *self, const char *topic, int timeout_ms)
{
    assert (self);
    int64_t deadline = zclock_mono () + timeout_ms;
    size_t topic_length = strlen (topic);
    while (!zsys_interrupted) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            return -1;
        zmq_pollitem_t item = {zsock_resolve (self->sock), 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, (long) left) <= 0)
            continue;
        //  A subscription message is one byte (1 = subscribe) followed by the prefix.
        zframe_t *frame = zframe_recv (self->sock);
        if (!frame)
            continue;
        size_t size = zframe_size (frame);
        const byte *data = zframe_data (frame);
        bool matches = size >= 1 && data[0] == 1 && size - 1 <= topic_length
                       && memcmp (data + 1, topic, size - 1) == 0;
        zframe_destroy (&frame);
        if (matches)
            return 0;
    }
    return -1;
}

void
proto_pub_alive (proto_pub_t *self, proto_msg_t *msg)
{
    assert (self);
    proto_msg_init (msg, PROTO_MSG_SVC_ALIVE);
    proto_svc_alive_t *alive = &msg->svc_alive;
    strcpy (alive->name, self->name);
    strcpy (alive->instance, self->instance);
    alive->pid = getpid ();
    proto_copy (alive->version, sizeof alive->version, JITSU_VERSION);
    alive->uptime_s = (zclock_time () - self->started_ms) / 1000;
}

const char *
proto_pub_src (proto_pub_t *self)
{
    assert (self);
    return self->src;
}

uint64_t
proto_pub_sent (proto_pub_t *self)
{
    assert (self);
    return self->sent;
}

uint64_t
proto_pub_failed (proto_pub_t *self)
{
    assert (self);
    return self->failed;
}
