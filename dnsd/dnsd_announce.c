/*  dnsd_announce: vm.boot and dns.hits out.  */

#include <arpa/inet.h>

#include "dnsd_announce.h"
#include "dnsd_query.h"

struct _dnsd_announce_t {
    proto_pub_t *pub;     // borrowed
    dnsd_table_t *table;  // borrowed
    zloop_t *loop;        // borrowed once attached
    int timer;            // the next dns.hits due; -1 when not armed
    uint64_t sequence;    // request ids
    uint64_t hits_published;
};

dnsd_announce_t *
dnsd_announce_new (proto_pub_t *pub, dnsd_table_t *table)
{
    assert (pub);
    assert (table);
    dnsd_announce_t *self = (dnsd_announce_t *) zmalloc (sizeof (dnsd_announce_t));
    self->pub = pub;
    self->table = table;
    self->timer = -1;
    return self;
}

void
dnsd_announce_destroy (dnsd_announce_t **self_p)
{
    assert (self_p);
    dnsd_announce_t *self = *self_p;
    if (!self)
        return;
    if (self->timer >= 0)
        zloop_timer_end (self->loop, self->timer);
    free (self);
    *self_p = NULL;
}

static void
s_boot (dnsd_announce_t *self, proto_msg_t *msg, dnsd_service_t *service, bool again)
{
    proto_copy (msg->vm_boot.service, sizeof msg->vm_boot.service, service->name);
    proto_copy (msg->vm_boot.request_id, sizeof msg->vm_boot.request_id, service->request_id);
    proto_pub_send (self->pub, msg);
    zsys_info ("dnsd_announce: vm.boot service=%s request_id=%s%s", service->name,
               service->request_id, again ? " again" : "");
}

void
dnsd_announce_boot (dnsd_announce_t *self, dnsd_service_t *service, const char *qname,
                    uint16_t qtype, const struct sockaddr *client)
{
    assert (self);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_BOOT);
    //  "dnsd/1:42"; a src too long for an id was refused by proto_pub_new already.
    char request_id[PROTO_SRC_MAX + 24];
    snprintf (request_id, sizeof request_id, "%s:%" PRIu64, proto_pub_src (self->pub),
              ++self->sequence);
    dnsd_service_set_request_id (service, request_id);
    proto_copy (msg.vm_boot.qname, sizeof msg.vm_boot.qname, qname);
    strcpy (msg.vm_boot.qtype, qtype == DNSD_TYPE_AAAA ? "AAAA" : "A");
    const void *address = client->sa_family == AF_INET
                              ? (const void *) &((const struct sockaddr_in *) client)->sin_addr
                              : (const void *) &((const struct sockaddr_in6 *) client)->sin6_addr;
    inet_ntop (client->sa_family, address, msg.vm_boot.client, sizeof msg.vm_boot.client);
    s_boot (self, &msg, service, false);
}

void
dnsd_announce_boot_again (dnsd_announce_t *self, dnsd_service_t *service)
{
    assert (self);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_BOOT);
    s_boot (self, &msg, service, true);
}

//  dns.hits with SERVICE's count (a dnsd_table_fn).
static void
s_publish_hits (dnsd_service_t *service, void *arg)
{
    dnsd_announce_t *self = (dnsd_announce_t *) arg;
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_DNS_HITS);
    proto_copy (msg.dns_hits.service, sizeof msg.dns_hits.service, service->name);
    msg.dns_hits.count = service->hits;
    msg.dns_hits.first_ts = service->hits_first_ts;
    msg.dns_hits.last_ts = service->hits_last_ts;
    proto_pub_send (self->pub, &msg);
    self->hits_published++;
}

static int s_on_due (zloop_t *loop, int timer_id, void *arg);

//  A one-shot timer for the earliest report due. Reports join the table's queue at its tail,
//  a second after everything on it, so an armed timer is never too late for a newcomer.
static void
s_arm (dnsd_announce_t *self)
{
    int64_t due = dnsd_table_hits_due (self->table);
    if (self->timer >= 0 || !self->loop || due < 0)
        return;
    int64_t delay = due - zclock_mono ();
    self->timer = zloop_timer (self->loop, (size_t) (delay > 1 ? delay : 1), 1, s_on_due, self);
}

static int
s_on_due (zloop_t *loop, int timer_id, void *arg)
{
    dnsd_announce_t *self = (dnsd_announce_t *) arg;
    self->timer = -1;  // a one-shot: zloop has ended it
    dnsd_table_take_hits (self->table, zclock_mono (), s_publish_hits, self);
    s_arm (self);
    return 0;
}

int
dnsd_announce_attach (dnsd_announce_t *self, zloop_t *loop)
{
    assert (self);
    self->loop = loop;
    s_arm (self);
    return 0;
}

void
dnsd_announce_hits (dnsd_announce_t *self, dnsd_service_t *service)
{
    assert (self);
    dnsd_table_report (self->table, service, zclock_mono (), s_publish_hits, self);
    s_arm (self);
}

uint64_t
dnsd_announce_hits_published (dnsd_announce_t *self)
{
    assert (self);
    return self->hits_published;
}
