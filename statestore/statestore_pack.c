/*  statestore_pack: writing pack and index bytes.  */

#include <arpa/inet.h>
#include <zlib.h>

#include "statestore_pack.h"

//  Where one object went in the pack.
typedef struct {
    git_oid id;
    uint32_t crc;          // CRC-32 of its header and compressed bytes
    uint64_t offset;       // from the start of the pack
} s_entry_t;

struct _statestore_pack_t {
    zchunk_t *data;        // owned: the pack
    zchunk_t *index;       // owned: the .idx, once finished
    s_entry_t *entries;    // owned
    size_t count;
    size_t capacity;
    char name[5 + GIT_OID_HEXSZ + 1];
    bool finished;
    z_stream zlib;         // level 1, for commits and blobs; one state for all objects, as
                           // initialising one costs more than compressing a small object
    z_stream stored;       // level 0, for trees: mostly object ids, which do not compress
    byte *deflated;        // owned: output buffer
    size_t deflated_capacity;
};

statestore_pack_t *
statestore_pack_new (void)
{
    statestore_pack_t *self = (statestore_pack_t *) zmalloc (sizeof (statestore_pack_t));
    self->data = zchunk_new (NULL, 16384);
    //  "PACK", version 2, object count (filled in by finish).
    byte header[12] = {'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0};
    zchunk_extend (self->data, header, sizeof header);
    if (deflateInit (&self->zlib, Z_BEST_SPEED) != Z_OK) {
        zchunk_destroy (&self->data);
        free (self);
        return NULL;
    }
    if (deflateInit (&self->stored, Z_NO_COMPRESSION) != Z_OK) {
        deflateEnd (&self->zlib);
        zchunk_destroy (&self->data);
        free (self);
        return NULL;
    }
    return self;
}

void
statestore_pack_destroy (statestore_pack_t **self_p)
{
    assert (self_p);
    statestore_pack_t *self = *self_p;
    if (!self)
        return;
    deflateEnd (&self->zlib);
    deflateEnd (&self->stored);
    free (self->deflated);
    zchunk_destroy (&self->data);
    zchunk_destroy (&self->index);
    free (self->entries);
    free (self);
    *self_p = NULL;
}

int
statestore_pack_add (statestore_pack_t *self, const git_oid *id, git_object_t type,
                     const void *data, size_t size)
{
    assert (self);
    assert (!self->finished);
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 64;
        s_entry_t *grown = (s_entry_t *) realloc (self->entries, capacity * sizeof (s_entry_t));
        if (!grown)
            return -1;
        self->entries = grown;
        self->capacity = capacity;
    }
    //  Object header: type in bits 4-6 of the first byte with the size's low 4 bits, then 7
    //  more bits of size per byte; the high bit says another byte follows.
    byte header[16];
    size_t used = 0, rest = size >> 4;
    header[used] = (byte) ((type << 4) | (size & 15));
    while (rest) {
        header[used++] |= 0x80;
        header[used] = rest & 0x7f;
        rest >>= 7;
    }
    used++;
    z_stream *zlib = type == GIT_OBJECT_TREE ? &self->stored : &self->zlib;
    size_t bound = deflateBound (zlib, size);
    if (bound > self->deflated_capacity) {
        byte *grown = (byte *) realloc (self->deflated, bound);
        if (!grown)
            return -1;
        self->deflated = grown;
        self->deflated_capacity = bound;
    }
    zlib->next_in = (Bytef *) data;
    zlib->avail_in = (uInt) size;
    zlib->next_out = self->deflated;
    zlib->avail_out = (uInt) bound;
    int rc = deflate (zlib, Z_FINISH);
    size_t deflated_size = bound - zlib->avail_out;
    deflateReset (zlib);
    if (rc != Z_STREAM_END)
        return -1;
    s_entry_t *entry = &self->entries[self->count++];
    entry->id = *id;
    entry->offset = zchunk_size (self->data);
    entry->crc = (uint32_t) crc32 (crc32 (0, header, used), self->deflated, deflated_size);
    zchunk_extend (self->data, header, used);
    zchunk_extend (self->data, self->deflated, deflated_size);
    return 0;
}

static int
s_by_id (const void *left, const void *right)
{
    return git_oid_cmp (&((const s_entry_t *) left)->id, &((const s_entry_t *) right)->id);
}

static void
s_append_u32 (zchunk_t *chunk, uint32_t value)
{
    uint32_t network = htonl (value);
    zchunk_extend (chunk, &network, 4);
}

//  Append the SHA-1 of everything in CHUNK so far; copy it to CHECKSUM if not NULL.
static void
s_append_checksum (zchunk_t *chunk, byte *checksum)
{
    zdigest_t *digest = zdigest_new ();
    zdigest_update (digest, zchunk_data (chunk), zchunk_size (chunk));
    if (checksum)
        memcpy (checksum, zdigest_data (digest), 20);
    zchunk_extend (chunk, zdigest_data (digest), 20);
    zdigest_destroy (&digest);
}

int
statestore_pack_finish (statestore_pack_t *self)
{
    assert (self);
    assert (!self->finished);
    byte *bytes = zchunk_data (self->data);
    uint32_t count = htonl ((uint32_t) self->count);
    memcpy (bytes + 8, &count, 4);
    byte pack_checksum[20];
    s_append_checksum (self->data, pack_checksum);

    qsort (self->entries, self->count, sizeof (s_entry_t), s_by_id);
    self->index = zchunk_new (NULL, 1072 + self->count * 28 + 40);
    byte magic[4] = {0xff, 't', 'O', 'c'};
    zchunk_extend (self->index, magic, 4);
    s_append_u32 (self->index, 2);
    //  Fan-out: entry N counts the objects whose first byte is at most N.
    size_t cursor = 0;
    for (int first = 0; first < 256; first++) {
        while (cursor < self->count && self->entries[cursor].id.id[0] <= first)
            cursor++;
        s_append_u32 (self->index, (uint32_t) cursor);
    }
    for (size_t index = 0; index < self->count; index++)
        zchunk_extend (self->index, self->entries[index].id.id, GIT_OID_RAWSZ);
    for (size_t index = 0; index < self->count; index++)
        s_append_u32 (self->index, self->entries[index].crc);
    for (size_t index = 0; index < self->count; index++) {
        if (self->entries[index].offset >= 0x80000000u)
            return -1;  // a group never writes 2 GiB; large offsets are not supported
        s_append_u32 (self->index, (uint32_t) self->entries[index].offset);
    }
    zchunk_extend (self->index, pack_checksum, 20);
    s_append_checksum (self->index, NULL);

    git_oid name;
    git_oid_fromraw (&name, pack_checksum);
    snprintf (self->name, sizeof self->name, "pack-%s", git_oid_tostr_s (&name));
    self->finished = true;
    return 0;
}

zchunk_t *
statestore_pack_data (statestore_pack_t *self)
{
    assert (self);
    return self->data;
}

zchunk_t *
statestore_pack_index (statestore_pack_t *self)
{
    assert (self);
    return self->index;
}

const char *
statestore_pack_name (statestore_pack_t *self)
{
    assert (self);
    return self->name;
}

size_t
statestore_pack_count (statestore_pack_t *self)
{
    assert (self);
    return self->count;
}
