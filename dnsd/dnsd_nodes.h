/*  dnsd_nodes: every name that exists in dnsd's data, by lowercase wire name.

    A node exists while something is at it or below it: a service name, a zone apex, a PTR
    owner, or a descendant of one (an empty non-terminal, which answers NODATA rather than
    NXDOMAIN: RFC 8020). Open addressing with linear probing and backward-shift deletion; a
    lookup is one hash and, almost always, one memcmp.  */

#ifndef DNSD_NODES_H_INCLUDED
#define DNSD_NODES_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd_zone.h"

typedef struct _dnsd_service_t dnsd_service_t;
typedef struct _dnsd_nodes_t dnsd_nodes_t;

//  One name (a record: the table edits it, the handler reads it).
typedef struct {
    uint32_t hash;            // dnsd_name_hash of name
    uint32_t refs;            // things at or below this name
    dnsd_zone_t *apex;        // borrowed: the zone whose apex this is, or NULL
    dnsd_service_t **owners;  // owned array of borrowed services claiming A/AAAA here;
    size_t owner_count;       // the first one answers
    dnsd_service_t **ptrs;    // owned array of borrowed services whose address maps here
    size_t ptr_count;
    size_t length;   // of name
    uint8_t name[];  // lowercase wire name
} dnsd_node_t;

//  An empty table.
dnsd_nodes_t *dnsd_nodes_new (void);

//  Free every node. NULL-safe.
void dnsd_nodes_destroy (dnsd_nodes_t **self_p);

//  The node of NAME (LENGTH bytes, HASH its dnsd_name_hash), or NULL. Borrowed.
dnsd_node_t *dnsd_nodes_lookup (dnsd_nodes_t *self, const uint8_t *name, size_t length,
                                uint32_t hash);

//  Count one more thing at NAME: its node and every ancestor's gain a reference, and are
//  created if needed. Returns NAME's node (borrowed).
dnsd_node_t *dnsd_nodes_ref (dnsd_nodes_t *self, const uint8_t *name, size_t length);

//  Take back a reference from NAME and its ancestors; nodes left with none are freed.
void dnsd_nodes_unref (dnsd_nodes_t *self, const uint8_t *name, size_t length);

//  Append SERVICE to a node's owners (PTR false) or PTR targets (PTR true).
void dnsd_node_add (dnsd_node_t *node, dnsd_service_t *service, bool ptr);

//  Remove SERVICE from a node's owners or PTR targets (order of the others kept).
void dnsd_node_remove (dnsd_node_t *node, dnsd_service_t *service, bool ptr);

//  Number of nodes.
size_t dnsd_nodes_size (dnsd_nodes_t *self);

#endif
