/*  proto_key: the statestore keys of a service, /services/NAME/FIELD (PROTOCOL.md).

    dnsd and vmctl both follow /services through a replica and act on NAME/config and
    NAME/status; this is where such a key is taken apart.  */

#ifndef PROTO_KEY_H_INCLUDED
#define PROTO_KEY_H_INCLUDED

#include <stddef.h>

#include "proto_msg.h"

#define PROTO_KEY_SERVICES "/services/"  // the prefix of every service key

//  Split KEY, "/services/NAME/FIELD", into NAME (copied into NAME_BUFFER of SIZE bytes) and
//  FIELD (borrowed: the rest of KEY after NAME's slash, "" when nothing follows). Returns 0,
//  or -2 when KEY is not under /services/, has no slash after NAME, or NAME is empty or longer
//  than PROTO_NAME_MAX (or SIZE - 1).
int proto_key_split (const char *key, char *name_buffer, size_t size, const char **field);

#endif
