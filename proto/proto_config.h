/*  proto_config: reading a service's JSON config into a struct that already holds defaults.

    A table names each key, its kind, its target and its limits; the reader rejects unknown
    keys (a misspelt key fails at start-up), duplicate keys, wrong types and out-of-range
    values, always naming the file and the field. Files, and the "endpoints" object every
    file may hold, are proto_config_file's.  */

#ifndef PROTO_CONFIG_H_INCLUDED
#define PROTO_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "proto_error.h"

typedef enum {
    PROTO_CONFIG_INT,     // int *target within [min, max]
    PROTO_CONFIG_STR,     // char target[size]; non-empty when min > 0
    PROTO_CONFIG_BOOL,    // bool *target
    PROTO_CONFIG_JSON     // json_t **target, borrowed from the object: parsed by the caller
} proto_config_kind_t;

//  One config key.
typedef struct {
    const char *name;
    proto_config_kind_t kind;
    void *target;         // borrowed: where the value goes
    size_t size;          // PROTO_CONFIG_STR: buffer size
    int64_t min, max;     // PROTO_CONFIG_INT range; PROTO_CONFIG_STR: min > 0 = non-empty
} proto_config_field_t;

//  Ends a table of fields.
#define PROTO_CONFIG_END {NULL, PROTO_CONFIG_INT, NULL, 0, 0, 0}

//  Apply OBJECT to FIELDS (terminated by a NULL name). WHERE prefixes every message ("dnsd.json"
//  or "dnsd.json: endpoints"). Returns 0, or -2 with ERROR naming WHERE and the key.
int proto_config_read (json_t *object, const proto_config_field_t *fields, const char *where,
                       proto_error_t *error);

#endif
