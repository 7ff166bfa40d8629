/*  dnsd_suffix: the public suffix list, so that dnsd never derives a zone for a name that
    many registrants share (co.uk, github.io, a top-level domain).

    A service name outside every configured zone derives a zone (dnsd_table); a zone at or
    above a public suffix would make dnsd answer authoritatively for strangers' names below
    it (other.co.uk: NXDOMAIN, SOA co.uk answered). The list is Debian's (package
    `publicsuffix`), read through libpsl with psl_latest: the newer of the package's
    /usr/share/publicsuffix/public_suffix_list.dafsa, which apt keeps up to date, and the copy
    built into libpsl5, so dnsd still starts where the file is missing. The list's implicit
    `*` rule makes every top-level domain a public suffix, listed or not: a `.test` or
    `.internal` name derives its zone as a `.com` name does (jitsu.test from www.jitsu.test,
    never test).  */

#ifndef DNSD_SUFFIX_H_INCLUDED
#define DNSD_SUFFIX_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef struct _dnsd_suffix_t dnsd_suffix_t;

//  The public suffix list, or NULL when libpsl has none (it logs why).
dnsd_suffix_t *dnsd_suffix_new (void);

//  Free it. NULL-safe.
void dnsd_suffix_destroy (dnsd_suffix_t **self_p);

//  Where the registrable domain of the lowercase wire NAME of LENGTH bytes begins (its public
//  suffix and one label more: shop.co.uk of www.shop.co.uk): an offset into NAME, or -1 when
//  NAME is a public suffix itself, or the root.
int dnsd_suffix_registrable (dnsd_suffix_t *self, const uint8_t *name, size_t length);

#endif
