/*  dnsd_testing: what dnsd's unit tests share: DNS messages built and read with ldns, services
    defined, and a handler wired to its table and summon as dnsd_server wires them.  */

#ifndef DNSD_TESTING_H_INCLUDED
#define DNSD_TESTING_H_INCLUDED

#include <ldns/ldns.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dnsd_handler.h"
#include "proto.h"

//  A query for NAME of TYPE ("A", "AAAA"...) with id 0x1234 and RD; EDNS with payload 1232
//  when EDNS is true. Its wire form goes into WIRE (512 bytes); returns its length.
size_t dt_query (uint8_t *wire, const char *name, const char *type, bool edns);

//  Parse an answer with ldns (the test fails if it does not parse). Free with ldns_pkt_free.
ldns_pkt *dt_parse (const uint8_t *wire, size_t size);

//  The text of the RDATA of answer record INDEX in SECTION of PACKET ("10.0.0.10"); the
//  caller frees it.
char *dt_rdata (ldns_pkt *packet, ldns_pkt_section section, size_t index);

//  A client address from text ("127.0.0.1" or "::1") into STORAGE.
const struct sockaddr *dt_client (struct sockaddr_storage *storage, const char *address);

//  A service definition from JSON text.
json_t *dt_json (const char *text);

//  Define service NAME in TABLE from JSON text (the test fails if the table refuses it).
//  Returns the service.
dnsd_service_t *dt_define (dnsd_table_t *table, const char *name, const char *json);

//  A handler with its own config, table and summon.
typedef struct {
    dnsd_config_t config;
    dnsd_table_t *table;
    dnsd_summon_t *summon;
    dnsd_handler_t *handler;
} dt_stack_t;

//  Load the config from CONFIG_PATH (NULL: the defaults) and make the table, summon and handler.
void dt_stack_start (dt_stack_t *self, const char *config_path);

//  Destroy what dt_stack_start made.
void dt_stack_stop (dt_stack_t *self);

#endif
