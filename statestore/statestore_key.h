/*  statestore_key: keys as users see them, and where they live in the git tree.

    A key is a slash path, /services/www/config. In git it is stored with a bucket level
    inside every directory below the top one (services/7a/www/3c/config), so that a directory
    of 10 000 services is 256 small trees rather than one large one. The bucket of a segment
    is the first byte of its 32-bit FNV-1a hash, in two hex digits; it is part of the storage
    format and never changes.  */

#ifndef STATESTORE_KEY_H_INCLUDED
#define STATESTORE_KEY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATESTORE_KEY_MAX   1023  // bytes in a key
#define STATESTORE_DEPTH_MAX 64    // segments in a key
#define STATESTORE_PATH_MAX  (STATESTORE_KEY_MAX * 2)  // its git path, buckets included

//  Check KEY against ^(/[A-Za-z0-9._-]+)+$, the length limit and the "." / ".." segments.
//  Returns 0, or -1 with REASON filled.
int statestore_key_check (const char *key, char *reason, size_t reason_size);

//  Check a prefix: "" and "/" mean everything, otherwise the rules of a key. Returns 0 or -1.
int statestore_key_check_prefix (const char *prefix, char *reason, size_t reason_size);

//  The bucket of a segment of LENGTH bytes.
uint8_t statestore_key_bucket (const char *segment, size_t length);

//  Write the git path of a valid KEY into PATH. Returns 0, or -1 when it does not fit.
int statestore_key_to_path (const char *key, char *path, size_t path_size);

//  Write the key stored at git PATH into KEY, checking every bucket. Returns 0, or -1 when PATH
//  is not a path this layout produces.
int statestore_key_from_path (const char *path, char *key, size_t key_size);

//  Whether KEY lies under PREFIX on a segment boundary ("" and "/" match everything).
bool statestore_key_has_prefix (const char *key, const char *prefix);

#endif
