/*  proto_endpoints: run directory, endpoint defaults and their config object.  */

#include <czmq.h>

#include "proto_endpoints.h"
#include "proto_config.h"
#include "proto_msg.h"

//  An ipc:// path must fit in sockaddr_un.sun_path (108 bytes with its terminator).
#define S_SUN_PATH_MAX 107

static int
s_check_ipc (const char *endpoint, const char *context, proto_error_t *error)
{
    if (strncmp (endpoint, "ipc://", 6) == 0 && strlen (endpoint + 6) > S_SUN_PATH_MAX)
        return proto_error_set (error, PROTO_ERR_TOO_LONG, "%s: %s: ipc path longer than %d bytes",
                                context, endpoint, S_SUN_PATH_MAX);
    if (strncmp (endpoint, "ipc://", 6) && strncmp (endpoint, "tcp://", 6)
        && strncmp (endpoint, "inproc://", 9))
        return proto_error_set (error, PROTO_ERR_VALUE,
                                "%s: %s: expected ipc://, tcp:// or inproc://", context, endpoint);
    return 0;
}

//  Derive every endpoint from RUN_DIR. Returns 0, or -1 when it is too long.
static int
s_fill (proto_endpoints_t *self, const char *run_dir)
{
    if (proto_copy (self->run_dir, sizeof self->run_dir, run_dir))
        return -1;
    snprintf (self->bus_in, sizeof self->bus_in, "ipc://%s/bus-in", self->run_dir);
    snprintf (self->bus_out, sizeof self->bus_out, "ipc://%s/bus-out", self->run_dir);
    snprintf (self->state, sizeof self->state, "ipc://%s/state", self->run_dir);
    return 0;
}

int
proto_endpoints_defaults (proto_endpoints_t *self)
{
    assert (self);
    memset (self, 0, sizeof *self);
    const char *run_dir = getenv ("JITSU_RUN_DIR");
    return s_fill (self, run_dir && *run_dir ? run_dir : PROTO_RUN_DIR_DEFAULT);
}

int
proto_endpoints_configure (proto_endpoints_t *self, json_t *config, const char *where,
                           proto_error_t *error)
{
    assert (self);
    if (!config)
        return 0;
    char run_dir[PROTO_PATH_MAX + 1] = "";
    proto_endpoints_t given = {0};
    const proto_config_field_t fields[] = {
        {"run_dir", PROTO_CONFIG_STR, run_dir, sizeof run_dir, 1, 0},
        {"bus_in", PROTO_CONFIG_STR, given.bus_in, sizeof given.bus_in, 1, 0},
        {"bus_out", PROTO_CONFIG_STR, given.bus_out, sizeof given.bus_out, 1, 0},
        {"state", PROTO_CONFIG_STR, given.state, sizeof given.state, 1, 0},
        PROTO_CONFIG_END,
    };
    char context[PROTO_PATH_MAX * 3];
    snprintf (context, sizeof context, "%s: endpoints", where);
    if (proto_config_read (config, fields, context, error))
        return -2;
    //  A new run directory moves the defaults; explicit endpoints then apply on top.
    if (*run_dir && s_fill (self, run_dir))
        return proto_error_set (error, PROTO_ERR_TOO_LONG, "%s: run_dir: longer than %d bytes",
                                context, PROTO_PATH_MAX);
    if (*given.bus_in)
        strcpy (self->bus_in, given.bus_in);
    if (*given.bus_out)
        strcpy (self->bus_out, given.bus_out);
    if (*given.state)
        strcpy (self->state, given.state);
    const char *all[] = {self->bus_in, self->bus_out, self->state};
    for (size_t index = 0; index < 3; index++)
        if (s_check_ipc (all[index], context, error))
            return -2;
    return 0;
}

int
proto_endpoints_prepare (const char *endpoint)
{
    if (strncmp (endpoint, "ipc://", 6))
        return 0;
    char *directory = strdup (endpoint + 6);
    if (!directory)
        return -1;
    char *slash = strrchr (directory, '/');
    int rc = 0;
    if (slash && slash != directory) {
        *slash = '\0';
        //  Create each missing level; only the last one is ours to set to 0750.
        for (char *cursor = directory + 1; *cursor; cursor++) {
            if (*cursor != '/')
                continue;
            *cursor = '\0';
            if (mkdir (directory, 0755) && errno != EEXIST)
                rc = -1;
            *cursor = '/';
        }
        if (mkdir (directory, 0750) && errno != EEXIST)
            rc = -1;
        else
            rc = 0;
    }
    free (directory);
    return rc;
}
