/*  statestore_fault: why a request failed, as the error code of PROTOCOL.md and a sentence.  */

#ifndef STATESTORE_FAULT_H_INCLUDED
#define STATESTORE_FAULT_H_INCLUDED

#include <stdarg.h>
#include <stdio.h>

#define STATESTORE_NOT_FOUND   "not_found"
#define STATESTORE_CONFLICT    "conflict"
#define STATESTORE_BAD_REQUEST "bad_request"
#define STATESTORE_TOO_LARGE   "too_large"
#define STATESTORE_INTERNAL    "internal"

//  A failed request: CODE is one of the constants above (borrowed, static).
typedef struct {
    const char *code;
    char message[512];
} statestore_fault_t;

//  Fill FAULT with CODE and a printf-style sentence; returns -1 so that handlers can
//  `return statestore_fault_set (...)`.
static inline int statestore_fault_set (statestore_fault_t *fault, const char *code,
                                        const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static inline int
statestore_fault_set (statestore_fault_t *fault, const char *code, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fault->code = code;
    vsnprintf (fault->message, sizeof fault->message, format, args);
    va_end (args);
    return -1;
}

#endif
