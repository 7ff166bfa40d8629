/*  statestore_key: key syntax and the bucketed git layout.  */

#include <stdio.h>
#include <string.h>

#include "statestore_key.h"

static bool
s_is_key_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
           || c == '_' || c == '-';
}

int
statestore_key_check (const char *key, char *reason, size_t reason_size)
{
    size_t length = strlen (key);
    if (length == 0 || key[0] != '/') {
        snprintf (reason, reason_size, "key must start with /");
        return -1;
    }
    if (length > STATESTORE_KEY_MAX) {
        snprintf (reason, reason_size, "key longer than %d bytes", STATESTORE_KEY_MAX);
        return -1;
    }
    int depth = 0;
    const char *segment = key + 1;
    while (true) {
        size_t size = 0;
        while (segment[size] && segment[size] != '/') {
            if (!s_is_key_char (segment[size])) {
                snprintf (reason, reason_size, "key has a character outside [A-Za-z0-9._-]");
                return -1;
            }
            size++;
        }
        if (size == 0) {
            snprintf (reason, reason_size, "key has an empty segment");
            return -1;
        }
        if ((size == 1 && segment[0] == '.') || (size == 2 && !strncmp (segment, "..", 2))) {
            snprintf (reason, reason_size, "key has a . or .. segment");
            return -1;
        }
        if (++depth > STATESTORE_DEPTH_MAX) {
            snprintf (reason, reason_size, "key deeper than %d segments", STATESTORE_DEPTH_MAX);
            return -1;
        }
        if (!segment[size])
            return 0;
        segment += size + 1;
    }
}

int
statestore_key_check_prefix (const char *prefix, char *reason, size_t reason_size)
{
    if (prefix[0] == '\0' || strcmp (prefix, "/") == 0)
        return 0;
    return statestore_key_check (prefix, reason, reason_size);
}

uint8_t
statestore_key_bucket (const char *segment, size_t length)
{
    uint32_t hash = 2166136261u;
    for (size_t index = 0; index < length; index++) {
        hash ^= (uint8_t) segment[index];
        hash *= 16777619u;
    }
    return (uint8_t) (hash >> 24);
}

int
statestore_key_to_path (const char *key, char *path, size_t path_size)
{
    size_t used = 0;
    const char *segment = key + 1;
    bool top = true;
    while (*segment) {
        size_t size = strcspn (segment, "/");
        //  "/" + bucket + "/" + segment, the first level without a bucket.
        size_t need = (used ? 1 : 0) + (top ? 0 : 3) + size;
        if (used + need + 1 > path_size)
            return -1;
        if (used)
            path[used++] = '/';
        if (!top)
            used += sprintf (path + used, "%02x/", statestore_key_bucket (segment, size));
        memcpy (path + used, segment, size);
        used += size;
        top = false;
        segment += size;
        if (*segment == '/')
            segment++;
    }
    path[used] = '\0';
    return 0;
}

static int
s_hex_value (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int
statestore_key_from_path (const char *path, char *key, size_t key_size)
{
    size_t used = 0;
    const char *component = path;
    bool top = true;
    while (*component) {
        if (!top) {
            //  A bucket component: two hex digits that must match the segment after it.
            int high = s_hex_value (component[0]);
            int low = high < 0 ? -1 : s_hex_value (component[1]);
            if (low < 0 || component[2] != '/')
                return -1;
            const char *segment = component + 3;
            size_t size = strcspn (segment, "/");
            if (size == 0 || statestore_key_bucket (segment, size) != (uint8_t) (high * 16 + low))
                return -1;
            component = segment;
        }
        size_t size = strcspn (component, "/");
        if (size == 0 || used + 1 + size + 1 > key_size)
            return -1;
        key[used++] = '/';
        memcpy (key + used, component, size);
        used += size;
        component += size;
        if (*component == '/')
            component++;
        top = false;
    }
    key[used] = '\0';
    return used > 0 ? 0 : -1;
}

bool
statestore_key_has_prefix (const char *key, const char *prefix)
{
    size_t length = strlen (prefix);
    if (length == 0 || (length == 1 && prefix[0] == '/'))
        return true;
    return strncmp (key, prefix, length) == 0 && (key[length] == '\0' || key[length] == '/');
}
