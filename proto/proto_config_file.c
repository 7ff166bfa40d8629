/*  proto_config_file: loading a config file and splitting off its endpoints.  */

#include <czmq.h>

#include "proto_config_file.h"

int
proto_config_endpoints (proto_endpoints_t *endpoints, proto_error_t *error)
{
    if (proto_endpoints_defaults (endpoints))
        return proto_error_set (error, PROTO_ERR_TOO_LONG, "JITSU_RUN_DIR is too long");
    return 0;
}

json_t *
proto_config_load (const char *path, proto_error_t *error)
{
    json_error_t json_error;
    json_t *config = json_load_file (path, JSON_REJECT_DUPLICATES, &json_error);
    if (!config) {
        proto_error_set (error, PROTO_ERR_NOT_JSON, "%s:%d:%d: %s", path, json_error.line,
                         json_error.column, json_error.text);
        return NULL;
    }
    if (!json_is_object (config)) {
        proto_error_set (error, PROTO_ERR_NOT_OBJECT, "%s: expected a JSON object", path);
        json_decref (config);
        return NULL;
    }
    return config;
}

int
proto_config_apply (json_t *object, const proto_config_field_t *fields,
                    proto_endpoints_t *endpoints, const char *where, proto_error_t *error)
{
    //  A shallow copy loses the "endpoints" key; its values are the caller's own.
    json_t *copy = json_copy (object);
    json_t *endpoint_config = NULL;
    if (endpoints) {
        endpoint_config = json_incref (json_object_get (copy, "endpoints"));
        json_object_del (copy, "endpoints");
    }
    int rc = proto_config_read (copy, fields, where, error);
    if (rc == 0 && endpoints)
        rc = proto_endpoints_configure (endpoints, endpoint_config, where, error);
    json_decref (endpoint_config);
    json_decref (copy);
    return rc;
}

int
proto_config_file (const char *path, const proto_config_field_t *fields,
                   proto_endpoints_t *endpoints, proto_error_t *error)
{
    for (const proto_config_field_t *field = fields; field->name; field++)
        assert (field->kind != PROTO_CONFIG_JSON);  // it would point into a freed document
    json_t *config = proto_config_load (path, error);
    if (!config)
        return -2;
    int rc = proto_config_apply (config, fields, endpoints, path, error);
    json_decref (config);
    return rc;
}
