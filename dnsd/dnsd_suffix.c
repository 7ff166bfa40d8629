/*  dnsd_suffix: libpsl on wire names.  */

#include <czmq.h>
#include <libpsl.h>

#include "dnsd_name.h"
#include "dnsd_suffix.h"

struct _dnsd_suffix_t {
    psl_ctx_t *psl;  // owned
};

dnsd_suffix_t *
dnsd_suffix_new (void)
{
    psl_ctx_t *psl = psl_latest (NULL);
    if (!psl) {
        zsys_error ("dnsd_suffix: psl_latest found no public suffix list dist_file=%s",
                    psl_dist_filename ());
        return NULL;
    }
    dnsd_suffix_t *self = (dnsd_suffix_t *) zmalloc (sizeof (dnsd_suffix_t));
    self->psl = psl;
    return self;
}

void
dnsd_suffix_destroy (dnsd_suffix_t **self_p)
{
    assert (self_p);
    dnsd_suffix_t *self = *self_p;
    if (!self)
        return;
    psl_free (self->psl);
    free (self);
    *self_p = NULL;
}

int
dnsd_suffix_registrable (dnsd_suffix_t *self, const uint8_t *name, size_t length)
{
    assert (self);
    //  Dotted text for libpsl, with each byte's offset in NAME. A byte outside [a-z0-9-] (a
    //  dot inside a label, binary) becomes '_': no rule has one, so such a label can only
    //  match a wildcard, as the byte itself would, and libpsl never reads it as UTF-8.
    char text[DNSD_NAME_MAX];
    int offsets[DNSD_NAME_MAX];
    size_t used = 0;
    for (size_t offset = 0; offset < length && name[offset]; offset += 1 + name[offset]) {
        if (used)
            text[used++] = '.';
        offsets[used] = (int) offset;
        for (size_t index = 1; index <= name[offset]; index++) {
            uint8_t byte = name[offset + index];
            bool plain =
                (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') || byte == '-';
            text[used++] = plain ? (char) byte : '_';
        }
    }
    text[used] = '\0';
    if (used == 0)
        return -1;
    const char *registrable = psl_registrable_domain (self->psl, text);
    //  It points into TEXT at the start of a label.
    return registrable ? offsets[registrable - text] : -1;
}
