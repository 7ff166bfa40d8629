/*  proto_status: a service's runtime status, /services/NAME/status (schema in PROTOCOL.md).

    vmctl writes it, once per transition; dnsd, jitsuctl and the exporter read it.  */

#ifndef PROTO_STATUS_H_INCLUDED
#define PROTO_STATUS_H_INCLUDED

#include <stdint.h>
#include <jansson.h>

#include "proto_error.h"
#include "proto_msg.h"

//  Where a service's VM is in its life.
typedef enum {
    PROTO_STATE_OFF = 0,
    PROTO_STATE_BOOTING,
    PROTO_STATE_READY,
    PROTO_STATE_STOPPING,
    PROTO_STATE_FAILED,
    PROTO_STATE_PAUSED,    // suspended: memory held, no CPU
    PROTO_STATE_SAVED,     // its memory in vmctl's save file
    PROTO_STATE_DRAINING,  // ready, and about to be saved, shut down or destroyed
    PROTO_STATES
} proto_state_t;

//  The status value.
typedef struct {
    proto_state_t state;
    char boot_id[PROTO_ID_MAX + 1];      // the current or last boot; "" before the first
    int64_t since;                       // UNIX ms of the last transition
    int64_t boots;                       // boots started so far
    int64_t last_boot_ms;                // vm.boot to ready of the last successful boot
    char last_error[PROTO_TEXT_MAX + 1]; // "" when none
    proto_tier_t from;                   // the tier the last successful boot woke from
} proto_status_t;

//  Parse VALUE (borrowed) into SELF; absent fields take zero values, unknown ones are ignored
//  (the writer may be newer). Returns 0, or -2 with ERROR naming the field.
int proto_status_parse (proto_status_t *self, json_t *value, proto_error_t *error);

//  The value to store. Returns a new reference.
json_t *proto_status_encode (const proto_status_t *self);

//  The wire name of STATE (borrowed), and back. Parse returns 0, or -1 for an unknown name.
const char *proto_state_name (proto_state_t state);
int proto_state_parse (const char *name, proto_state_t *state);

#endif
