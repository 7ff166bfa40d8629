/*  proto_sub: the batch drain every process's bus reader runs, by hand and on a loop.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "proto.h"

//  A raw PUB bound on an inproc endpoint of its own, and a proto_sub connected to it.
static zsock_t *s_pub;
static proto_sub_t *s_sub;

static void
s_setup (void)
{
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://test_proto_sub-%d", (int) getpid ());
    s_pub = zsock_new_pub (endpoint);
    s_sub = proto_sub_new (endpoint);
    cr_assert (not (eq (ptr, s_pub, NULL)));
    cr_assert (not (eq (ptr, s_sub, NULL)));
    proto_sub_subscribe (s_sub, "");
}

static void
s_teardown (void)
{
    proto_sub_destroy (&s_sub);
    zsock_destroy (&s_pub);
}

static void
s_send (const char *topic, const char *json)
{
    cr_assert (eq (int, zstr_sendx (s_pub, topic, json, NULL), 0));
}

static void
s_send_hits (const char *service, int64_t count)
{
    char json[256];
    snprintf (json, sizeof json,
              "{\"v\":1,\"type\":\"dns.hits\",\"src\":\"test/1\",\"seq\":%lld,\"ts\":1,"
              "\"body\":{\"service\":\"%s\",\"count\":%lld,\"first_ts\":1,\"last_ts\":1}}",
              (long long) count, service, (long long) count);
    s_send ("dns.hits", json);
}

//  Wait until something is readable, so a drain sees what was sent (inproc is not instant).
static void
s_wait (void)
{
    zpoller_t *poller = zpoller_new (proto_sub_sock (s_sub), NULL);
    cr_assert (not (eq (ptr, zpoller_wait (poller, 2000), NULL)), "nothing arrived");
    zpoller_destroy (&poller);
    zclock_sleep (50);  // the rest of the burst
}

//  What the handler saw.
typedef struct {
    int calls;
    int64_t counts;
    char last_service[PROTO_NAME_MAX + 1];
} s_seen_t;

static void
s_on_message (void *arg, const proto_msg_t *msg)
{
    s_seen_t *seen = (s_seen_t *) arg;
    cr_assert (eq (int, msg->type, PROTO_MSG_DNS_HITS));
    seen->calls++;
    seen->counts += msg->dns_hits.count;
    strcpy (seen->last_service, msg->dns_hits.service);
}

TestSuite (proto_sub, .init = s_setup, .fini = s_teardown, .timeout = 10);

Test (proto_sub, drain_hands_on_good_messages_and_counts_malformed_ones)
{
    s_send_hits ("www", 1);
    s_send ("dns.hits", "{not json");
    s_send_hits ("mail", 2);
    s_wait ();
    s_seen_t seen = {0};
    cr_assert (eq (int, proto_sub_drain (s_sub, 16, s_on_message, &seen), 3));
    cr_assert (eq (int, seen.calls, 2));
    cr_assert (eq (i64, seen.counts, 3));
    cr_assert (eq (str, seen.last_service, "mail"));
    cr_assert (eq (u64, proto_sub_received (s_sub), 3));
    cr_assert (eq (u64, proto_sub_malformed (s_sub), 1));
    cr_assert (eq (u64, proto_sub_malformed_by (s_sub, PROTO_ERR_NOT_JSON), 1));
}

Test (proto_sub, drain_reads_at_most_max_and_leaves_the_rest)
{
    for (int index = 1; index <= 5; index++)
        s_send_hits ("www", index);
    s_wait ();
    s_seen_t seen = {0};
    cr_assert (eq (int, proto_sub_drain (s_sub, 3, s_on_message, &seen), 3));
    cr_assert (eq (int, seen.calls, 3));
    cr_assert (eq (i64, seen.counts, 1 + 2 + 3));
    cr_assert (eq (int, proto_sub_drain (s_sub, 3, s_on_message, &seen), 2));
    cr_assert (eq (i64, seen.counts, 15));
    cr_assert (eq (int, proto_sub_drain (s_sub, 3, s_on_message, &seen), 0), "nothing left");
}

static int
s_on_stop (zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

Test (proto_sub, attached_to_a_loop_it_drains_in_batches_until_nothing_is_left)
{
    s_send_hits ("www", 4);
    s_send_hits ("mail", 5);
    s_send_hits ("ftp", 6);
    s_wait ();
    zloop_t *loop = zloop_new ();
    s_seen_t seen = {0};
    cr_assert (eq (int, proto_sub_attach (s_sub, loop, 2, s_on_message, &seen), 0));
    cr_assert (ge (int, zloop_timer (loop, 300, 1, s_on_stop, NULL), 0));
    zloop_start (loop);
    zloop_destroy (&loop);
    cr_assert (eq (int, seen.calls, 3), "a batch of two, then the third");
    cr_assert (eq (i64, seen.counts, 15));
    cr_assert (eq (str, seen.last_service, "ftp"));
}
