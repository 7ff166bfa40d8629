/*  proto_pub: sending consumes the message, whether it went out or not.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "proto.h"

//  A publisher with nobody on the other side: pub/sub drops what it sends, and that is enough
//  to see what sending does to the message.
static proto_pub_t *s_pub;

static void
s_setup (void)
{
    s_pub = proto_pub_new ("inproc://test_proto_pub-nobody", "test", "1");
    cr_assert (not (eq (ptr, s_pub, NULL)));
}

static void
s_teardown (void)
{
    proto_pub_destroy (&s_pub);
}

TestSuite (proto_pub, .init = s_setup, .fini = s_teardown, .timeout = 10);

Test (proto_pub, a_sent_message_is_reset)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_STATE_CHANGED);
    msg.state_changed.rev = 7;
    strcpy (msg.state_changed.commit, "0123abcd");
    json_t *value = json_pack ("{s:s}", "name", "www");
    cr_assert (eq (int, proto_msg_add_change (&msg, "/services/www/config", PROTO_OP_PUT, value),
                   0));
    json_decref (value);  // the message holds its own reference
    cr_assert (eq (int, proto_pub_send (s_pub, &msg), 0));
    cr_assert (eq (int, msg.type, PROTO_MSG_STATE_CHANGED), "the type is kept");
    cr_assert (eq (sz, msg.state_changed.change_count, 0), "the changes were freed");
    cr_assert (eq (ptr, (void *) msg.state_changed.changes, NULL));
    cr_assert (eq (i64, msg.state_changed.rev, 0));
    cr_assert (eq (u64, proto_pub_sent (s_pub), 1));
    proto_msg_reset (&msg);  // a second reset is harmless
}

Test (proto_pub, a_message_that_fails_to_encode_is_reset_too)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_STATE_CHANGED);
    strcpy (msg.state_changed.commit, "0123abcd");
    char *large = (char *) zmalloc (PROTO_BODY_MAX + 2);
    memset (large, 'x', PROTO_BODY_MAX + 1);
    json_t *value = json_string (large);
    free (large);
    cr_assert (eq (int, proto_msg_add_change (&msg, "/services/www/config", PROTO_OP_PUT, value),
                   0));
    json_decref (value);
    cr_assert (eq (int, proto_pub_send (s_pub, &msg), -1), "a body over PROTO_BODY_MAX");
    cr_assert (eq (sz, msg.state_changed.change_count, 0), "the changes were freed");
    cr_assert (eq (u64, proto_pub_failed (s_pub), 1));
    cr_assert (eq (u64, proto_pub_sent (s_pub), 0));
}
