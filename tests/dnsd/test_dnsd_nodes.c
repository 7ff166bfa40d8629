/*  dnsd_nodes: references, empty non-terminals, and deletion that keeps lookups right.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_nodes.h"

static dnsd_node_t *
s_lookup (dnsd_nodes_t *nodes, const char *text)
{
    uint8_t wire[DNSD_NAME_MAX];
    int length = dnsd_name_from_text (text, wire);
    cr_assert (gt (int, length, 0));
    return dnsd_nodes_lookup (nodes, wire, (size_t) length, dnsd_name_hash (wire, (size_t) length));
}

static void
s_ref (dnsd_nodes_t *nodes, const char *text, bool add)
{
    uint8_t wire[DNSD_NAME_MAX];
    int length = dnsd_name_from_text (text, wire);
    if (add)
        dnsd_nodes_ref (nodes, wire, (size_t) length);
    else
        dnsd_nodes_unref (nodes, wire, (size_t) length);
}

Test (dnsd_nodes, a_name_brings_its_ancestors_and_takes_them_away)
{
    dnsd_nodes_t *nodes = dnsd_nodes_new ();
    s_ref (nodes, "a.b.example.org", true);
    cr_assert (eq (sz, dnsd_nodes_size (nodes), 4));
    cr_assert (not(eq (ptr, s_lookup (nodes, "b.example.org"), NULL)), "empty non-terminal");
    cr_assert (eq (u32, s_lookup (nodes, "org")->refs, 1));
    s_ref (nodes, "c.example.org", true);
    cr_assert (eq (u32, s_lookup (nodes, "example.org")->refs, 2));
    s_ref (nodes, "a.b.example.org", false);
    cr_assert (eq (ptr, s_lookup (nodes, "b.example.org"), NULL));
    cr_assert (eq (ptr, s_lookup (nodes, "a.b.example.org"), NULL));
    cr_assert (eq (u32, s_lookup (nodes, "example.org")->refs, 1));
    s_ref (nodes, "c.example.org", false);
    cr_assert (eq (sz, dnsd_nodes_size (nodes), 0));
    dnsd_nodes_destroy (&nodes);
    cr_assert (eq (ptr, nodes, NULL));
}

Test (dnsd_nodes, thousands_of_names_survive_growth_and_deletion)
{
    dnsd_nodes_t *nodes = dnsd_nodes_new ();
    char name[64];
    for (int index = 0; index < 5000; index++) {
        snprintf (name, sizeof name, "s%d.zone%d.example", index, index % 7);
        s_ref (nodes, name, true);
    }
    //  5000 names, 7 zones, and "example".
    cr_assert (eq (sz, dnsd_nodes_size (nodes), 5008));
    for (int index = 0; index < 5000; index += 2) {
        snprintf (name, sizeof name, "s%d.zone%d.example", index, index % 7);
        s_ref (nodes, name, false);
    }
    for (int index = 0; index < 5000; index++) {
        snprintf (name, sizeof name, "s%d.zone%d.example", index, index % 7);
        if (index % 2)
            cr_assert (not(eq (ptr, s_lookup (nodes, name), NULL)), "%s lost", name);
        else
            cr_assert (eq (ptr, s_lookup (nodes, name), NULL), "%s kept", name);
    }
    cr_assert (eq (sz, dnsd_nodes_size (nodes), 2508));
    dnsd_nodes_destroy (&nodes);
}

Test (dnsd_nodes, owners_keep_their_order)
{
    dnsd_nodes_t *nodes = dnsd_nodes_new ();
    uint8_t wire[DNSD_NAME_MAX];
    int length = dnsd_name_from_text ("www.example.org", wire);
    dnsd_node_t *node = dnsd_nodes_ref (nodes, wire, (size_t) length);
    dnsd_service_t *first = (dnsd_service_t *) 0x10, *second = (dnsd_service_t *) 0x20;
    dnsd_node_add (node, first, false);
    dnsd_node_add (node, second, false);
    dnsd_node_add (node, second, true);
    cr_assert (eq (ptr, node->owners[0], first));
    dnsd_node_remove (node, first, false);
    cr_assert (eq (ptr, node->owners[0], second), "the next claimant answers");
    cr_assert (eq (sz, node->owner_count, 1));
    cr_assert (eq (sz, node->ptr_count, 1));
    dnsd_node_remove (node, second, false);
    dnsd_node_remove (node, second, true);
    dnsd_nodes_unref (nodes, wire, (size_t) length);
    dnsd_nodes_destroy (&nodes);
}
