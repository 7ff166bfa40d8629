/*  dnsd_nodes: an open-addressing hash of wire names.  */

#include <czmq.h>

#include "dnsd_nodes.h"

#define S_SLOTS_MIN 64

//  A slot keeps the hash next to the pointer, so a probe rarely touches a node it skips.
typedef struct {
    uint32_t hash;
    dnsd_node_t *node;  // owned; NULL: empty
} s_slot_t;

struct _dnsd_nodes_t {
    s_slot_t *slots;  // owned
    size_t mask;      // slot count - 1 (a power of two)
    size_t size;
};

dnsd_nodes_t *
dnsd_nodes_new (void)
{
    dnsd_nodes_t *self = (dnsd_nodes_t *) zmalloc (sizeof (dnsd_nodes_t));
    self->slots = (s_slot_t *) zmalloc (S_SLOTS_MIN * sizeof (s_slot_t));
    self->mask = S_SLOTS_MIN - 1;
    return self;
}

static void
s_node_free (dnsd_node_t *node)
{
    free (node->owners);
    free (node->ptrs);
    free (node);
}

void
dnsd_nodes_destroy (dnsd_nodes_t **self_p)
{
    assert (self_p);
    dnsd_nodes_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index <= self->mask; index++)
        if (self->slots[index].node)
            s_node_free (self->slots[index].node);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

dnsd_node_t *
dnsd_nodes_lookup (dnsd_nodes_t *self, const uint8_t *name, size_t length, uint32_t hash)
{
    for (size_t index = hash & self->mask;; index = (index + 1) & self->mask) {
        s_slot_t *slot = &self->slots[index];
        if (!slot->node)
            return NULL;
        if (slot->hash == hash && slot->node->length == length
            && memcmp (slot->node->name, name, length) == 0)
            return slot->node;
    }
}

static void
s_place (dnsd_nodes_t *self, dnsd_node_t *node)
{
    size_t index = node->hash & self->mask;
    while (self->slots[index].node)
        index = (index + 1) & self->mask;
    self->slots[index].hash = node->hash;
    self->slots[index].node = node;
}

//  Keep the load at most one half: probes stay short.
static void
s_grow (dnsd_nodes_t *self)
{
    size_t count = self->mask + 1;
    s_slot_t *old = self->slots;
    self->slots = (s_slot_t *) zmalloc (2 * count * sizeof (s_slot_t));
    self->mask = 2 * count - 1;
    for (size_t index = 0; index < count; index++)
        if (old[index].node)
            s_place (self, old[index].node);
    free (old);
}

dnsd_node_t *
dnsd_nodes_ref (dnsd_nodes_t *self, const uint8_t *name, size_t length)
{
    dnsd_node_t *first = NULL;
    //  NAME, then each parent down to (not including) the root.
    for (size_t offset = 0; name[offset] != 0; offset += 1 + name[offset]) {
        const uint8_t *suffix = name + offset;
        size_t suffix_length = length - offset;
        uint32_t hash = dnsd_name_hash (suffix, suffix_length);
        dnsd_node_t *node = dnsd_nodes_lookup (self, suffix, suffix_length, hash);
        if (!node) {
            if (2 * (self->size + 1) > self->mask + 1)
                s_grow (self);
            node = (dnsd_node_t *) zmalloc (sizeof (dnsd_node_t) + suffix_length);
            node->hash = hash;
            node->length = suffix_length;
            memcpy (node->name, suffix, suffix_length);
            s_place (self, node);
            self->size++;
        }
        node->refs++;
        if (!first)
            first = node;
    }
    return first;
}

//  Remove the node in slot INDEX and shift later members of its probe run back.
static void
s_delete_slot (dnsd_nodes_t *self, size_t index)
{
    s_node_free (self->slots[index].node);
    self->slots[index].node = NULL;
    self->size--;
    size_t hole = index;
    for (size_t next = (index + 1) & self->mask; self->slots[next].node;
         next = (next + 1) & self->mask) {
        size_t home = self->slots[next].hash & self->mask;
        //  The entry at NEXT may move to HOLE if its home is not cyclically in (HOLE, NEXT].
        bool stays = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
        if (!stays) {
            self->slots[hole] = self->slots[next];
            self->slots[next].node = NULL;
            hole = next;
        }
    }
}

void
dnsd_nodes_unref (dnsd_nodes_t *self, const uint8_t *name, size_t length)
{
    for (size_t offset = 0; name[offset] != 0; offset += 1 + name[offset]) {
        const uint8_t *suffix = name + offset;
        size_t suffix_length = length - offset;
        uint32_t hash = dnsd_name_hash (suffix, suffix_length);
        for (size_t index = hash & self->mask; self->slots[index].node;
             index = (index + 1) & self->mask) {
            dnsd_node_t *node = self->slots[index].node;
            if (node->hash == hash && node->length == suffix_length
                && memcmp (node->name, suffix, suffix_length) == 0) {
                assert (node->refs > 0);
                if (--node->refs == 0) {
                    assert (!node->apex && node->owner_count == 0 && node->ptr_count == 0);
                    s_delete_slot (self, index);
                }
                break;
            }
        }
    }
}

void
dnsd_node_add (dnsd_node_t *node, dnsd_service_t *service, bool ptr)
{
    dnsd_service_t ***array = ptr ? &node->ptrs : &node->owners;
    size_t *count = ptr ? &node->ptr_count : &node->owner_count;
    *array = (dnsd_service_t **) realloc (*array, (*count + 1) * sizeof (dnsd_service_t *));
    assert (*array);
    (*array)[(*count)++] = service;
}

void
dnsd_node_remove (dnsd_node_t *node, dnsd_service_t *service, bool ptr)
{
    dnsd_service_t **array = ptr ? node->ptrs : node->owners;
    size_t *count = ptr ? &node->ptr_count : &node->owner_count;
    for (size_t index = 0; index < *count; index++)
        if (array[index] == service) {
            memmove (array + index, array + index + 1,
                     (*count - index - 1) * sizeof (dnsd_service_t *));
            (*count)--;
            return;
        }
}

size_t
dnsd_nodes_size (dnsd_nodes_t *self)
{
    assert (self);
    return self->size;
}
