/*  proto_state_client: reading a snapshot reply.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "proto.h"

Test (proto_state_client, snapshot_entries_become_one_object)
{
    json_t *reply = json_pack ("{s:b, s:I, s:[{s:s, s:i, s:I}, {s:s, s:{s:s}, s:I}, {s:i}]}",
                               "ok", 1, "rev", (json_int_t) 7, "entries", "key", "/a", "value",
                               1, "mod_rev", (json_int_t) 3, "key", "/b", "value", "x", "y",
                               "mod_rev", (json_int_t) 7, "value", 2);
    json_t *values = proto_state_client_values (reply);
    cr_assert (eq (sz, json_object_size (values), 2), "an entry without a key is left out");
    cr_assert (eq (i64, json_integer_value (json_object_get (values, "/a")), 1));
    json_t *object = json_object_get (values, "/b");
    cr_assert (eq (str, (char *) json_string_value (json_object_get (object, "x")), "y"));
    json_decref (values);
    json_decref (reply);
}

Test (proto_state_client, a_reply_without_entries_is_an_empty_object)
{
    json_t *reply = json_pack ("{s:b}", "ok", 0);
    json_t *values = proto_state_client_values (reply);
    cr_assert (not (eq (ptr, values, NULL)));
    cr_assert (eq (int, json_is_object (values), 1));
    cr_assert (eq (sz, json_object_size (values), 0));
    json_decref (values);
    json_decref (reply);
}
