/*  dnsd_announce: what dnsd tells the bus about services: vm.boot for the boots it starts
    (and again while nobody heard one), and dns.hits.

    dns.hits follows PROTOCOL.md: the first query after a second without a report for the
    service is reported at once, later ones are coalesced into at most one report per second,
    each published when its second is up (a one-shot timer for the earliest due, not a poll),
    so vmctl hears of a query at once or at most a second late, and never misses one before
    an idle decision it could have seen. The table keeps the counts; this class publishes.  */

#ifndef DNSD_ANNOUNCE_H_INCLUDED
#define DNSD_ANNOUNCE_H_INCLUDED

#include "dnsd_table.h"

typedef struct _dnsd_announce_t dnsd_announce_t;

//  Announce through PUB (borrowed: its src names the requests) the services of TABLE
//  (borrowed).
dnsd_announce_t *dnsd_announce_new (proto_pub_t *pub, dnsd_table_t *table);

//  Free it (and end its timer). NULL-safe.
void dnsd_announce_destroy (dnsd_announce_t **self_p);

//  Publish the dns.hits that fall due on LOOP from now on. Returns 0.
int dnsd_announce_attach (dnsd_announce_t *self, zloop_t *loop);

//  vm.boot for a new boot of SERVICE, asked for by a query for QNAME (text, "" if none) of
//  QTYPE from CLIENT; the boot gets its request id here.
void dnsd_announce_boot (dnsd_announce_t *self, dnsd_service_t *service, const char *qname,
                         uint16_t qtype, const struct sockaddr *client);

//  vm.boot again for SERVICE's boot in flight, with its request id.
void dnsd_announce_boot_again (dnsd_announce_t *self, dnsd_service_t *service);

//  dns.hits for SERVICE now (dnsd_table_hit said so); later hits wait for their second.
void dnsd_announce_hits (dnsd_announce_t *self, dnsd_service_t *service);

//  dns.hits messages published so far.
uint64_t dnsd_announce_hits_published (dnsd_announce_t *self);

#endif
