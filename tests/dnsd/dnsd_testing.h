/*  dnsd_testing: what dnsd's unit tests share: DNS messages built and read with ldns.  */

#ifndef DNSD_TESTING_H_INCLUDED
#define DNSD_TESTING_H_INCLUDED

#include <ldns/ldns.h>
#include <stdint.h>
#include <sys/socket.h>

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

#endif
