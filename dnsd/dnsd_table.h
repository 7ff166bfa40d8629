/*  dnsd_table: what dnsd serves: zones, names and services, in memory.

    Built from dnsd's config (configured zones) and patched from statestore's
    /services/NAME/config values as the replica hears of them: each service name gets a node
    that answers A and AAAA; a name outside every configured zone derives a zone from its
    parent (or from itself when the parent is a public suffix, as co.uk or com; a name that is
    a public suffix itself is refused: dnsd_suffix); a service address whose
    reverse name falls in a configured zone gets a PTR. The hot path reads it without locks or
    allocation: one hash lookup per query.  */

#ifndef DNSD_TABLE_H_INCLUDED
#define DNSD_TABLE_H_INCLUDED

#include "dnsd_config.h"
#include "dnsd_nodes.h"
#include "dnsd_service.h"
#include "dnsd_zone.h"

typedef struct _dnsd_table_t dnsd_table_t;

//  Called for a service whose hits are due (dnsd_table_take_hits).
typedef void (dnsd_table_fn) (dnsd_service_t *service, void *arg);

//  A table with CONFIG's zones, or NULL when there is no public suffix list. CONFIG is
//  borrowed and must outlive the table.
dnsd_table_t *dnsd_table_new (const dnsd_config_t *config);

//  Free everything. NULL-safe.
void dnsd_table_destroy (dnsd_table_t **self_p);

//  Define service NAME from its config VALUE (borrowed), replacing an earlier definition.
//  Returns 0, or -2 with ERROR when VALUE is not a valid definition for NAME, or one of its
//  names is a public suffix outside the configured zones: the service is then not served (as
//  if deleted) until a valid one arrives.
int dnsd_table_define (dnsd_table_t *self, const char *name, json_t *value, proto_error_t *error);

//  Stop serving service NAME's names (its config was deleted). Its record stays while it has
//  a status, a boot or waiters; see dnsd_table_prune.
void dnsd_table_undefine (dnsd_table_t *self, const char *name);

//  Service NAME's record, or NULL. Borrowed.
dnsd_service_t *dnsd_table_service (dnsd_table_t *self, const char *name);

//  Service NAME's record, created undefined if needed (a status or event came first). NULL
//  when NAME is too long. Borrowed.
dnsd_service_t *dnsd_table_ensure (dnsd_table_t *self, const char *name);

//  Free SERVICE's record if nothing needs it any more: undefined, no status, no boot, no
//  waiters. Returns true when it was freed.
bool dnsd_table_prune (dnsd_table_t *self, dnsd_service_t *service);

//  The node of a lowercase wire NAME of LENGTH bytes and HASH, or NULL. Borrowed.
const dnsd_node_t *dnsd_table_node (dnsd_table_t *self, const uint8_t *name, size_t length,
                                    uint32_t hash);

//  The longest served zone NAME is in, or NULL (the name is someone else's). Borrowed.
const dnsd_zone_t *dnsd_table_zone (dnsd_table_t *self, const uint8_t *name, size_t length);

//  SOA serial: statestore's revision, so it grows whenever services change.
void dnsd_table_set_serial (dnsd_table_t *self, uint32_t serial);
uint32_t dnsd_table_serial (dnsd_table_t *self);

//  Put SERVICE on the in-flight list (its boot fields are set by the caller), or take it off.
void dnsd_table_flight_add (dnsd_table_t *self, dnsd_service_t *service);
void dnsd_table_flight_remove (dnsd_table_t *self, dnsd_service_t *service);

//  The first service with a boot in flight (then follow flight_next), or NULL. Borrowed.
dnsd_service_t *dnsd_table_flight_first (dnsd_table_t *self);

//  Count a query for SERVICE at NOW_MS (UNIX ms), MONO_MS (monotonic). Returns true when it is
//  to be reported at once (dnsd_table_report): the service had no dns.hits for a second, or
//  this is the first query since its drain began. Hot path: no allocation.
bool dnsd_table_hit (dnsd_table_t *self, dnsd_service_t *service, int64_t now_ms, int64_t mono_ms);

//  Report SERVICE's hits now: FN reads them, then they are cleared and the service waits
//  DNSD_HITS_INTERVAL_MS on the queue before its next report.
void dnsd_table_report (dnsd_table_t *self, dnsd_service_t *service, int64_t mono_ms,
                        dnsd_table_fn *fn, void *arg);

//  Report, through FN, the hits of every service whose last report is DNSD_HITS_INTERVAL_MS
//  old at MONO_MS and that had queries since; services without are done with.
void dnsd_table_take_hits (dnsd_table_t *self, int64_t mono_ms, dnsd_table_fn *fn, void *arg);

//  When dnsd_table_take_hits has something to do next (monotonic ms), or -1: nothing queued.
int64_t dnsd_table_hits_due (dnsd_table_t *self);

//  Call FN for every service record.
void dnsd_table_foreach (dnsd_table_t *self, dnsd_table_fn *fn, void *arg);

//  Sizes: service records, defined services, nodes, zones.
size_t dnsd_table_services (dnsd_table_t *self);
size_t dnsd_table_defined (dnsd_table_t *self);
size_t dnsd_table_names (dnsd_table_t *self);
size_t dnsd_table_zones (dnsd_table_t *self);

#endif
