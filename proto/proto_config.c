/*  proto_config: table-driven, strict reading of JSON config.  */

#include <czmq.h>

#include "proto_config.h"
#include "proto_msg.h"

static const proto_config_field_t *
s_find (const proto_config_field_t *fields, const char *name)
{
    for (const proto_config_field_t *field = fields; field->name; field++)
        if (streq (field->name, name))
            return field;
    return NULL;
}

static int
s_read (const proto_config_field_t *field, json_t *value, const char *where, proto_error_t *error)
{
    switch (field->kind) {
    case PROTO_CONFIG_INT: {
        if (!json_is_integer (value))
            return proto_error_set (error, PROTO_ERR_TYPE, "%s: %s: expected an integer", where,
                                    field->name);
        json_int_t number = json_integer_value (value);
        if (number < field->min || number > field->max)
            return proto_error_set (error, PROTO_ERR_VALUE, "%s: %s: %lld is outside [%lld, %lld]",
                                    where, field->name, (long long) number,
                                    (long long) field->min, (long long) field->max);
        *(int *) field->target = (int) number;
        return 0;
    }
    case PROTO_CONFIG_STR: {
        if (!json_is_string (value))
            return proto_error_set (error, PROTO_ERR_TYPE, "%s: %s: expected a string", where,
                                    field->name);
        if (field->min > 0 && json_string_length (value) == 0)
            return proto_error_set (error, PROTO_ERR_VALUE, "%s: %s: must not be empty", where,
                                    field->name);
        if (proto_copy ((char *) field->target, field->size, json_string_value (value)))
            return proto_error_set (error, PROTO_ERR_TOO_LONG, "%s: %s: longer than %zu bytes",
                                    where, field->name, field->size - 1);
        return 0;
    }
    case PROTO_CONFIG_BOOL:
        if (!json_is_boolean (value))
            return proto_error_set (error, PROTO_ERR_TYPE, "%s: %s: expected true or false",
                                    where, field->name);
        *(bool *) field->target = json_is_true (value);
        return 0;
    case PROTO_CONFIG_JSON:
        *(json_t **) field->target = value;
        return 0;
    }
    return proto_error_set (error, PROTO_ERR_VALUE, "%s: %s: unknown kind", where, field->name);
}

int
proto_config_read (json_t *object, const proto_config_field_t *fields, const char *where,
                   proto_error_t *error)
{
    if (!json_is_object (object))
        return proto_error_set (error, PROTO_ERR_TYPE, "%s: expected an object", where);
    const char *key;
    json_t *value;
    json_object_foreach (object, key, value) {
        const proto_config_field_t *field = s_find (fields, key);
        if (!field)
            return proto_error_set (error, PROTO_ERR_VALUE, "%s: unknown key \"%.64s\"", where,
                                    key);
        if (s_read (field, value, where, error))
            return -2;
    }
    return 0;
}
