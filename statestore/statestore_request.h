/*  statestore_request: one request of the ROUTER socket, parsed and validated.

    A request is [identity][json], or [identity][""][json] from a REQ socket; the JSON object
    is one of the requests of PROTOCOL.md (section *statestore requests*). Parsing checks the
    frames, the size, the id and the op, and prepares the reply; the field checks below are
    what the write path and the reads ask of the fields they use. Nothing here touches a
    socket or the state.  */

#ifndef STATESTORE_REQUEST_H_INCLUDED
#define STATESTORE_REQUEST_H_INCLUDED

#include <czmq.h>
#include <jansson.h>

#include "proto.h"
#include "statestore_fault.h"
#include "statestore_stats.h"

#define STATESTORE_REQUEST_MAX (4 * 1024 * 1024)  // bytes in one request frame
#define STATESTORE_VALUE_MAX   (1024 * 1024)      // bytes of one value, compact JSON
#define STATESTORE_TX_MAX      10000              // ops in one tx

//  One request of a group, through its stages. A plain record rather than an opaque class:
//  the server keeps batch_max of them in one array that every group reuses, and the stages
//  (parse, write, read, answer) fill its fields in turn.
typedef struct {
    zframe_t *identity;           // owned: the client's routing id
    bool delimiter;               // a REQ client: echo the empty frame
    json_t *request;              // owned; NULL when it did not parse
    json_t *reply;                // owned; built as the request is handled
    zchunk_t *reply_text;         // owned: a reply already serialised (snapshot), or NULL
    const char *op;               // borrowed from request; NULL when parsing failed
    bool is_write;
    char dedup_key[PROTO_NAME_MAX + 32];  // "client#id" for writes that name a client
} statestore_request_t;

//  One parsed op of a write: put (value set) or del.
typedef struct {
    const char *key;              // borrowed from the request
    json_t *value;                // borrowed; NULL for del
    int64_t expect_rev;           // -1 when not given
} statestore_op_t;

//  Stage 1: take the frames of MSG (the frames are consumed, MSG stays the caller's), parse
//  the JSON, check id and op, and start the reply. On failure the reply is the error, counted
//  in STATS, and op is NULL.
void statestore_request_parse (statestore_request_t *self, zmsg_t *msg,
                               statestore_stats_t *stats);

//  Make the reply an error with FAULT, and count it in STATS.
void statestore_request_fail (statestore_request_t *self, const statestore_fault_t *fault,
                              statestore_stats_t *stats);

//  Free everything the request holds and zero it for the next group.
void statestore_request_clear (statestore_request_t *self);

//  Parse the ops of a write (put, del or tx) into OPS, an array of STATESTORE_TX_MAX whose
//  keys and values are borrowed from the request. Returns the number of ops, or -1 with FAULT.
int statestore_request_ops (statestore_request_t *self, statestore_op_t *ops,
                            statestore_fault_t *fault);

//  The author ("unknown" when absent) and message (NULL when absent) of a write, borrowed.
//  Returns 0, or -1 with FAULT.
int statestore_request_signature (statestore_request_t *self, const char **author,
                                  const char **message, statestore_fault_t *fault);

//  The field "key" (borrowed), checked; WHERE names the op in the error. Returns 0, or -1 with
//  FAULT (KEY is still set, NULL when it is missing).
int statestore_request_key (statestore_request_t *self, const char *where, const char **key,
                            statestore_fault_t *fault);

//  The optional string field "prefix" (borrowed; "" when absent). Returns 0, or -1 with FAULT.
int statestore_request_prefix (statestore_request_t *self, const char **prefix,
                               statestore_fault_t *fault);

//  The optional integer field NAME >= MIN into VALUE, left alone when absent. Returns 0, or -1
//  with FAULT.
int statestore_request_integer (statestore_request_t *self, const char *name, int64_t min,
                                int64_t *value, statestore_fault_t *fault);

#endif
