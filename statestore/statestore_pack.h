/*  statestore_pack: a git pack file (version 2) and its index, built in memory.

    Formats: Documentation/gitformat-pack.txt in git. The pack is a header, the objects
    (type and size in a varint, then zlib data), and the SHA-1 of all that; the index (v2) is a
    fan-out table, the sorted object ids, the CRC-32 of each packed object, their offsets, the
    pack's checksum and its own. Objects are stored whole: the background repack computes
    deltas.  */

#ifndef STATESTORE_PACK_H_INCLUDED
#define STATESTORE_PACK_H_INCLUDED

#include <czmq.h>
#include <git2.h>

typedef struct _statestore_pack_t statestore_pack_t;

//  An empty pack, or NULL when zlib cannot be initialised.
statestore_pack_t *statestore_pack_new (void);

//  Free it. NULL-safe.
void statestore_pack_destroy (statestore_pack_t **self_p);

//  Add the object ID of TYPE with SIZE bytes of DATA (copied, compressed). Returns 0, or -1.
int statestore_pack_add (statestore_pack_t *self, const git_oid *id, git_object_t type,
                         const void *data, size_t size);

//  Finish the pack and build the index. Returns 0, or -1. No objects may be added after.
int statestore_pack_finish (statestore_pack_t *self);

//  The finished pack and index bytes (borrowed), and the name git gives it ("pack-<sha>",
//  the hex of the pack checksum).
zchunk_t *statestore_pack_data (statestore_pack_t *self);
zchunk_t *statestore_pack_index (statestore_pack_t *self);
const char *statestore_pack_name (statestore_pack_t *self);

//  Objects added.
size_t statestore_pack_count (statestore_pack_t *self);

#endif
