/*  bus_forwarder: messages reach subscribers once and in order, subscriptions reach
    publishers, and malformed traffic is forwarded untouched for receivers to drop and count.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "bus_forwarder.h"
#include "proto.h"
#include "test_support.h"

//  Any message on the actor pipe means "stop".
static int
s_on_pipe (zloop_t *loop, zsock_t *pipe, void *argument)
{
    return -1;
}

//  The forwarder runs in an actor with its own loop, as it would in its own process.
static void
s_forwarder_actor (zsock_t *pipe, void *argument)
{
    proto_endpoints_t *endpoints = (proto_endpoints_t *) argument;
    bus_forwarder_t *forwarder = bus_forwarder_new (endpoints->bus_in, endpoints->bus_out, 1000);
    zloop_t *loop = zloop_new ();
    if (forwarder)
        bus_forwarder_attach (forwarder, loop);
    zloop_reader (loop, pipe, s_on_pipe, NULL);
    zsock_signal (pipe, forwarder ? 0 : 1);
    zloop_start (loop);
    zloop_destroy (&loop);
    bus_forwarder_destroy (&forwarder);
}

static char *s_run_dir;
static proto_endpoints_t s_endpoints;
static zactor_t *s_forwarder;

static void
s_setup (void)
{
    s_run_dir = test_rundir_new ();
    cr_assert (not (eq (ptr, s_run_dir, NULL)));
    proto_endpoints_defaults (&s_endpoints);
    s_forwarder = zactor_new (s_forwarder_actor, &s_endpoints);
    cr_assert (not (eq (ptr, s_forwarder, NULL)));
}

static void
s_teardown (void)
{
    zactor_destroy (&s_forwarder);
    test_rundir_destroy (&s_run_dir);
}

//  Wait for one message on SUB; returns its decode result.
static int
s_receive (proto_sub_t *sub, proto_msg_t *msg, proto_error_t *error)
{
    zpoller_t *poller = zpoller_new (proto_sub_sock (sub), NULL);
    zpoller_wait (poller, 2000);
    zpoller_destroy (&poller);
    return proto_sub_recv (sub, msg, error);
}

//  A subscriber to the forwarder's output, for the topics under PREFIX.
static proto_sub_t *
s_sub (const char *prefix)
{
    proto_sub_t *sub = proto_sub_new (s_endpoints.bus_out);
    cr_assert (not (eq (ptr, sub, NULL)));
    proto_sub_subscribe (sub, prefix);
    return sub;
}

//  A bare PUB socket connected to the forwarder's input, for frames proto_pub would not send.
static zsock_t *
s_raw (void)
{
    zsock_t *raw = test_raw_publisher (s_endpoints.bus_in);
    cr_assert (not (eq (ptr, raw, NULL)));
    return raw;
}

TestSuite (bus_forwarder, .init = s_setup, .fini = s_teardown, .timeout = 20);

Test (bus_forwarder, messages_arrive_once_in_order)
{
    proto_sub_t *sub = s_sub ("vm.");
    proto_pub_t *pub = proto_pub_new (s_endpoints.bus_in, "test", "1");
    cr_assert (eq (int, proto_pub_await (pub, "vm.boot", 5000), 0));

    proto_msg_t msg;
    for (int index = 1; index <= 100; index++) {
        proto_msg_init (&msg, PROTO_MSG_VM_BOOT);
        strcpy (msg.vm_boot.service, "www");
        snprintf (msg.vm_boot.request_id, sizeof msg.vm_boot.request_id, "r%d", index);
        cr_assert (eq (int, proto_pub_send (pub, &msg), 0));
    }
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    for (int index = 1; index <= 100; index++) {
        cr_assert (eq (int, s_receive (sub, &msg, NULL), 0));
        cr_assert (eq (int, msg.type, PROTO_MSG_VM_BOOT));
        cr_assert (eq (i64, msg.seq, index));
        cr_assert (eq (str, msg.src, "test/1"));
        proto_msg_reset (&msg);
    }
    cr_assert (eq (int, proto_sub_recv (sub, &msg, NULL), -1), "a message arrived twice");
    cr_assert (eq (u64, proto_sub_gaps (sub), 0));
    proto_pub_destroy (&pub);
    proto_sub_destroy (&sub);
}

Test (bus_forwarder, subscribers_get_only_their_prefixes)
{
    proto_sub_t *sub = s_sub ("dns.");
    proto_pub_t *pub = proto_pub_new (s_endpoints.bus_in, "test", "2");
    cr_assert (eq (int, proto_pub_await (pub, "dns.hits", 5000), 0));
    cr_assert (eq (int, proto_pub_await (pub, "vm.boot", 200), -1), "nobody wants vm.boot");

    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_BOOT);
    strcpy (msg.vm_boot.service, "www");
    strcpy (msg.vm_boot.request_id, "r1");
    proto_pub_send (pub, &msg);
    proto_msg_init (&msg, PROTO_MSG_DNS_HITS);
    strcpy (msg.dns_hits.service, "www");
    msg.dns_hits.count = 3;
    proto_pub_send (pub, &msg);
    cr_assert (eq (int, s_receive (sub, &msg, NULL), 0));
    cr_assert (eq (int, msg.type, PROTO_MSG_DNS_HITS));
    cr_assert (eq (i64, msg.dns_hits.count, 3));
    proto_msg_reset (&msg);
    proto_pub_destroy (&pub);
    proto_sub_destroy (&sub);
}

Test (bus_forwarder, malformed_messages_are_dropped_and_counted_by_receivers)
{
    proto_sub_t *sub = s_sub ("");
    zsock_t *raw = s_raw ();

    zstr_sendm (raw, "vm.boot");
    zstr_send (raw, "{\"v\":1,");
    zstr_sendm (raw, "vm.boot");
    zstr_sendm (raw, "{}");
    zstr_send (raw, "third frame");
    zstr_send (raw, "only-a-topic");
    zstr_sendm (raw, "vm.boot");
    zstr_send (raw, "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"r/1\",\"seq\":1,\"ts\":1,"
                    "\"body\":{\"service\":\"www\",\"request_id\":\"ok\"}}");

    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    proto_error_t error;
    cr_assert (eq (int, s_receive (sub, &msg, &error), -2));
    cr_assert (eq (int, error.code, PROTO_ERR_NOT_JSON));
    cr_assert (eq (int, s_receive (sub, &msg, &error), -2));
    cr_assert (eq (int, error.code, PROTO_ERR_ENVELOPE), "%s", error.text);
    cr_assert (eq (int, s_receive (sub, &msg, &error), -2));
    cr_assert (eq (int, error.code, PROTO_ERR_ENVELOPE), "%s", error.text);
    cr_assert (eq (int, s_receive (sub, &msg, &error), 0), "%s", error.text);
    cr_assert (eq (str, msg.vm_boot.request_id, "ok"));
    cr_assert (eq (u64, proto_sub_malformed (sub), 3));
    cr_assert (eq (u64, proto_sub_malformed_by (sub, PROTO_ERR_ENVELOPE), 2));
    cr_assert (eq (u64, proto_sub_received (sub), 4));
    proto_msg_reset (&msg);
    zsock_destroy (&raw);
    proto_sub_destroy (&sub);
}

Test (bus_forwarder, sequence_gaps_are_counted)
{
    proto_sub_t *sub = s_sub ("");
    zsock_t *raw = s_raw ();
    const int seqs[] = {1, 2, 5, 6, 1};  // 3 and 4 lost; then the publisher restarted
    for (size_t index = 0; index < 5; index++) {
        zstr_sendm (raw, "vm.boot");
        zstr_sendf (raw, "{\"v\":1,\"type\":\"vm.boot\",\"src\":\"r/1\",\"seq\":%d,\"ts\":1,"
                         "\"body\":{\"service\":\"www\",\"request_id\":\"x\"}}", seqs[index]);
    }
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    for (size_t index = 0; index < 5; index++) {
        cr_assert (eq (int, s_receive (sub, &msg, NULL), 0));
        proto_msg_reset (&msg);
    }
    cr_assert (eq (u64, proto_sub_gaps (sub), 2));
    zsock_destroy (&raw);
    proto_sub_destroy (&sub);
}

Test (bus_forwarder, a_second_bind_on_the_same_endpoints_fails_cleanly)
{
    //  zmq's ipc bind unlinks a stale socket file, so two forwarders could both bind; the
    //  jitsu-bus process guards with a lock file (tested in integration). Here a tcp port in
    //  use must make bus_forwarder_new return NULL rather than crash.
    zsock_t *holder = zsock_new (ZMQ_PUB);
    int port = zsock_bind (holder, "tcp://127.0.0.1:*");
    cr_assert (gt (int, port, 0));
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    bus_forwarder_t *second = bus_forwarder_new (endpoint, "tcp://127.0.0.1:*", 10);
    cr_assert (eq (ptr, second, NULL));
    zsock_destroy (&holder);
}
