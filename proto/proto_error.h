/*  proto_error: why a message, request or config was rejected, as a class and a sentence.  */

#ifndef PROTO_ERROR_H_INCLUDED
#define PROTO_ERROR_H_INCLUDED

#include <stdarg.h>

#define PROTO_ERROR_TEXT_MAX 255

//  The malformed-input classes; receivers count drops by class.
typedef enum {
    PROTO_OK = 0,
    PROTO_ERR_NOT_JSON,      // the frame does not parse as JSON
    PROTO_ERR_NOT_OBJECT,    // JSON, but not an object
    PROTO_ERR_ENVELOPE,      // v/type/src/seq/ts/body missing or mistyped, or topic mismatch
    PROTO_ERR_VERSION,       // an envelope major version this build does not speak
    PROTO_ERR_MISSING,       // a required body field is absent
    PROTO_ERR_TYPE,          // a field has the wrong JSON type
    PROTO_ERR_TOO_LONG,      // a string field exceeds its limit
    PROTO_ERR_TOO_LARGE,     // the body exceeds PROTO_BODY_MAX
    PROTO_ERR_VALUE,         // right type, wrong value: enum, range, address syntax
    PROTO_ERR_TOPIC,         // encoding a topic this build does not know
    PROTO_ERR_COUNT
} proto_errcode_t;

//  An error class and a human sentence naming the field at fault.
typedef struct {
    proto_errcode_t code;
    char text[PROTO_ERROR_TEXT_MAX + 1];
} proto_error_t;

//  Set ERROR (may be NULL) to CODE with a printf-style sentence. Returns -2 for convenience.
int proto_error_set (proto_error_t *error, proto_errcode_t code, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  The class's short name ("not_json"), for counters and logs (borrowed).
const char *proto_errcode_name (proto_errcode_t code);

#endif
