/*  dnsd_testing: ldns helpers and a wired handler for dnsd's unit tests.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_testing.h"

size_t
dt_query (uint8_t *wire, const char *name, const char *type, bool edns)
{
    ldns_rdf *owner = ldns_dname_new_frm_str (name);
    cr_assert (owner != NULL, "bad test name %s", name);
    ldns_pkt *packet =
        ldns_pkt_query_new (owner, ldns_get_rr_type_by_name (type), LDNS_RR_CLASS_IN, LDNS_RD);
    ldns_pkt_set_id (packet, 0x1234);
    if (edns) {
        ldns_pkt_set_edns_udp_size (packet, 1232);
        ldns_pkt_set_edns_data (packet, ldns_rdf_new_frm_data (LDNS_RDF_TYPE_UNKNOWN, 0, ""));
    }
    uint8_t *data = NULL;
    size_t size = 0;
    cr_assert (eq (int, ldns_pkt2wire (&data, packet, &size), LDNS_STATUS_OK));
    cr_assert (le (sz, size, 512));
    memcpy (wire, data, size);
    free (data);
    ldns_pkt_free (packet);
    return size;
}

ldns_pkt *
dt_parse (const uint8_t *wire, size_t size)
{
    ldns_pkt *packet = NULL;
    ldns_status status = ldns_wire2pkt (&packet, wire, size);
    cr_assert (eq (int, status, LDNS_STATUS_OK), "ldns: %s", ldns_get_errorstr_by_id (status));
    return packet;
}

char *
dt_rdata (ldns_pkt *packet, ldns_pkt_section section, size_t index)
{
    ldns_rr_list *list = ldns_pkt_get_section_clone (packet, section);
    cr_assert (lt (sz, index, ldns_rr_list_rr_count (list)));
    ldns_rr *rr = ldns_rr_list_rr (list, index);
    ldns_buffer *buffer = ldns_buffer_new (256);
    for (size_t field = 0; field < ldns_rr_rd_count (rr); field++) {
        if (field)
            ldns_buffer_printf (buffer, " ");
        ldns_rdf2buffer_str (buffer, ldns_rr_rdf (rr, field));
    }
    char *text = ldns_buffer_export2str (buffer);
    ldns_buffer_free (buffer);
    ldns_rr_list_deep_free (list);
    return text;
}

const struct sockaddr *
dt_client (struct sockaddr_storage *storage, const char *address)
{
    memset (storage, 0, sizeof *storage);
    struct sockaddr_in *v4 = (struct sockaddr_in *) storage;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) storage;
    if (inet_pton (AF_INET, address, &v4->sin_addr) == 1)
        v4->sin_family = AF_INET;
    else {
        cr_assert (eq (int, inet_pton (AF_INET6, address, &v6->sin6_addr), 1));
        v6->sin6_family = AF_INET6;
    }
    return (const struct sockaddr *) storage;
}

json_t *
dt_json (const char *text)
{
    json_error_t error;
    json_t *value = json_loads (text, 0, &error);
    cr_assert (value != NULL, "bad test JSON %s: %s", text, error.text);
    return value;
}

dnsd_service_t *
dt_define (dnsd_table_t *table, const char *name, const char *json)
{
    json_t *value = dt_json (json);
    proto_error_t error;
    cr_assert (eq (int, dnsd_table_define (table, name, value, &error), 0), "%s", error.text);
    json_decref (value);
    return dnsd_table_service (table, name);
}

void
dt_stack_start (dt_stack_t *self, const char *config_path)
{
    proto_error_t error;
    cr_assert (eq (int, dnsd_config_load (&self->config, config_path, &error), 0), "%s",
               error.text);
    self->table = dnsd_table_new (&self->config);
    self->summon = dnsd_summon_new (self->table, &self->config);
    self->handler = dnsd_handler_new (self->table, self->summon, &self->config);
}

void
dt_stack_stop (dt_stack_t *self)
{
    dnsd_handler_destroy (&self->handler);
    dnsd_summon_destroy (&self->summon);
    dnsd_table_destroy (&self->table);
    dnsd_config_reset (&self->config);
}
