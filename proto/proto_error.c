/*  proto_error: error classes and their sentences.  */

#include <stdio.h>
#include "proto_error.h"

static const char *s_names[PROTO_ERR_COUNT] = {
    [PROTO_OK] = "ok",
    [PROTO_ERR_NOT_JSON] = "not_json",
    [PROTO_ERR_NOT_OBJECT] = "not_object",
    [PROTO_ERR_ENVELOPE] = "envelope",
    [PROTO_ERR_VERSION] = "version",
    [PROTO_ERR_MISSING] = "missing",
    [PROTO_ERR_TYPE] = "type",
    [PROTO_ERR_TOO_LONG] = "too_long",
    [PROTO_ERR_TOO_LARGE] = "too_large",
    [PROTO_ERR_VALUE] = "value",
    [PROTO_ERR_TOPIC] = "topic",
};

int
proto_error_set (proto_error_t *error, proto_errcode_t code, const char *format, ...)
{
    if (error) {
        va_list args;
        va_start (args, format);
        error->code = code;
        vsnprintf (error->text, sizeof error->text, format, args);
        va_end (args);
    }
    return -2;
}

const char *
proto_errcode_name (proto_errcode_t code)
{
    if (code < 0 || code >= PROTO_ERR_COUNT)
        return "unknown";
    return s_names[code];
}
