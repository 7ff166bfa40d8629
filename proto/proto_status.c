/*  proto_status: reading and writing a service's status.  */

#include <czmq.h>

#include "proto_status.h"

static const char *const s_state_names[] = {"off",    "booting", "ready",    "stopping",
                                            "failed", "paused",  "saved",    "draining", NULL};
static const char *const s_tier_names[] = {"", "off", "paused", "saved", NULL};

const char *
proto_state_name (proto_state_t state)
{
    return state >= PROTO_STATE_OFF && state < PROTO_STATES ? s_state_names[state] : "?";
}

int
proto_state_parse (const char *name, proto_state_t *state)
{
    for (int index = 0; s_state_names[index]; index++)
        if (streq (s_state_names[index], name)) {
            *state = (proto_state_t) index;
            return 0;
        }
    return -1;
}

//  Read the optional integer NAME into TARGET; -2 when it is not a non-negative integer.
static int
s_integer (json_t *value, const char *name, int64_t *target, proto_error_t *error)
{
    json_t *field = json_object_get (value, name);
    if (!field)
        return 0;
    if (!json_is_integer (field) || json_integer_value (field) < 0)
        return proto_error_set (error, PROTO_ERR_TYPE, "status: %s: expected an integer >= 0",
                                name);
    *target = json_integer_value (field);
    return 0;
}

//  Read the optional string NAME into TARGET of SIZE bytes.
static int
s_string (json_t *value, const char *name, char *target, size_t size, proto_error_t *error)
{
    json_t *field = json_object_get (value, name);
    if (!field)
        return 0;
    if (!json_is_string (field))
        return proto_error_set (error, PROTO_ERR_TYPE, "status: %s: expected a string", name);
    if (proto_copy (target, size, json_string_value (field)))
        return proto_error_set (error, PROTO_ERR_TOO_LONG, "status: %s: longer than %zu bytes",
                                name, size - 1);
    return 0;
}

//  Read the optional tier "from" into TARGET.
static int
s_tier (json_t *value, proto_tier_t *target, proto_error_t *error)
{
    json_t *field = json_object_get (value, "from");
    if (!field)
        return 0;
    for (int index = 1; s_tier_names[index]; index++)
        if (json_is_string (field) && streq (json_string_value (field), s_tier_names[index])) {
            *target = (proto_tier_t) index;
            return 0;
        }
    return proto_error_set (error, PROTO_ERR_VALUE, "status: from: expected off, paused or saved");
}

int
proto_status_parse (proto_status_t *self, json_t *value, proto_error_t *error)
{
    assert (self);
    memset (self, 0, sizeof *self);
    if (!json_is_object (value))
        return proto_error_set (error, PROTO_ERR_NOT_OBJECT, "status: expected an object");
    json_t *state = json_object_get (value, "state");
    if (!json_is_string (state) || proto_state_parse (json_string_value (state), &self->state))
        return proto_error_set (error, PROTO_ERR_VALUE,
                                "status: state: expected off, booting, ready, stopping, failed, "
                                "paused, saved or draining");
    if (s_string (value, "boot_id", self->boot_id, sizeof self->boot_id, error)
        || s_string (value, "last_error", self->last_error, sizeof self->last_error, error)
        || s_integer (value, "since", &self->since, error)
        || s_integer (value, "boots", &self->boots, error)
        || s_integer (value, "last_boot_ms", &self->last_boot_ms, error)
        || s_tier (value, &self->from, error)) {
        memset (self, 0, sizeof *self);
        return -2;
    }
    return 0;
}

json_t *
proto_status_encode (const proto_status_t *self)
{
    assert (self);
    json_t *value =
        json_pack ("{s:s, s:s, s:I, s:I, s:I, s:s}", "state", proto_state_name (self->state),
                   "boot_id", self->boot_id, "since", (json_int_t) self->since, "boots",
                   (json_int_t) self->boots, "last_boot_ms", (json_int_t) self->last_boot_ms,
                   "last_error", self->last_error);
    if (self->from > PROTO_TIER_UNSET && self->from <= PROTO_TIER_SAVED)
        json_object_set_new (value, "from", json_string (s_tier_names[self->from]));
    return value;
}
