/*  proto_key: taking service keys apart.  */

#include <assert.h>
#include <string.h>

#include "proto_key.h"

int
proto_key_split (const char *key, char *name_buffer, size_t size, const char **field)
{
    assert (name_buffer && field);
    size_t prefix_length = strlen (PROTO_KEY_SERVICES);
    if (!key || strncmp (key, PROTO_KEY_SERVICES, prefix_length))
        return -2;
    const char *name = key + prefix_length;
    const char *slash = strchr (name, '/');
    if (!slash || slash == name)
        return -2;
    size_t length = (size_t) (slash - name);
    if (length > PROTO_NAME_MAX || length >= size)
        return -2;
    memcpy (name_buffer, name, length);
    name_buffer[length] = '\0';
    *field = slash + 1;
    return 0;
}
