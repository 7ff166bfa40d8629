/*  proto_config_file: a service's JSON config file, its keys and its "endpoints" object.

    One level above proto_config (a table of keys read from an object) and proto_endpoints
    (where the sockets live, itself read with a proto_config table): a file holds both, and
    this is the one place that splits it.  */

#ifndef PROTO_CONFIG_FILE_H_INCLUDED
#define PROTO_CONFIG_FILE_H_INCLUDED

#include <jansson.h>

#include "proto_config.h"
#include "proto_endpoints.h"
#include "proto_error.h"

//  Fill ENDPOINTS with the defaults a service's config starts from (proto_endpoints_defaults).
//  Returns 0, or -2 with ERROR when JITSU_RUN_DIR is too long for an ipc:// endpoint.
int proto_config_endpoints (proto_endpoints_t *endpoints, proto_error_t *error);

//  Load a JSON config file, rejecting duplicate keys. Returns a new reference, or NULL with
//  ERROR naming the file, line and reason.
json_t *proto_config_load (const char *path, proto_error_t *error);

//  Apply a config OBJECT (borrowed, not modified): its "endpoints" object to ENDPOINTS (may be
//  NULL when the config takes none), every other key to FIELDS. PROTO_CONFIG_JSON targets
//  borrow from OBJECT. WHERE (the file) prefixes error messages. Returns 0, or -2 with ERROR
//  naming WHERE and the key.
int proto_config_apply (json_t *object, const proto_config_field_t *fields,
                        proto_endpoints_t *endpoints, const char *where, proto_error_t *error);

//  Load the JSON config file PATH and apply it as proto_config_apply does. This is how every
//  service reads its file. FIELDS may not hold PROTO_CONFIG_JSON entries: the document is gone
//  when this returns (read such files with proto_config_load and proto_config_apply). Returns
//  0, or -2 with ERROR naming the file and the key.
int proto_config_file (const char *path, const proto_config_field_t *fields,
                       proto_endpoints_t *endpoints, proto_error_t *error);

#endif
