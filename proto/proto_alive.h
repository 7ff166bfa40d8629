/*  proto_alive: svc.alive's counters and histograms on the wire, for proto_msg's codec.  */

#ifndef PROTO_ALIVE_H_INCLUDED
#define PROTO_ALIVE_H_INCLUDED

#include "proto_msg.h"

//  Read the "counters" object VALUE (borrowed) into BODY. Returns 0, or -2 with ERROR.
int proto_alive_read_counters (proto_svc_alive_t *body, json_t *value, proto_error_t *error);

//  Read the "histograms" array VALUE (borrowed) into BODY. Returns 0, or -2 with ERROR.
int proto_alive_read_histograms (proto_svc_alive_t *body, json_t *value, proto_error_t *error);

//  The value of BODY's counter NAME, or MISSING when BODY has no counter of that name.
int64_t proto_alive_counter (const proto_svc_alive_t *body, const char *name, int64_t missing);

//  BODY's counters as an object (a new reference).
json_t *proto_alive_write_counters (const proto_svc_alive_t *body);

//  BODY's histograms as an array (a new reference), or NULL with ERROR when one breaks the
//  schema's rules.
json_t *proto_alive_write_histograms (const proto_svc_alive_t *body, proto_error_t *error);

#endif
