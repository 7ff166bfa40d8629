/*  dnsd_handler: parse, classify, summon, answer.  */

#include "dnsd_handler.h"
#include "dnsd_response.h"

struct _dnsd_handler_t {
    dnsd_table_t *table;          // borrowed
    dnsd_summon_t *summon;        // borrowed
    dnsd_cookie_t *cookie;        // borrowed; NULL: COOKIE options ignored
    const dnsd_config_t *config;  // borrowed: upstreams, recursion_from
    dnsd_handler_stats_t stats;
};

dnsd_handler_t *
dnsd_handler_new (dnsd_table_t *table, dnsd_summon_t *summon, const dnsd_config_t *config)
{
    assert (table);
    assert (summon);
    assert (config);
    dnsd_handler_t *self = (dnsd_handler_t *) zmalloc (sizeof (dnsd_handler_t));
    self->table = table;
    self->summon = summon;
    self->config = config;
    return self;
}

void
dnsd_handler_destroy (dnsd_handler_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

void
dnsd_handler_set_cookie (dnsd_handler_t *self, dnsd_cookie_t *cookie)
{
    assert (self);
    self->cookie = cookie;
}

static void
s_count (dnsd_handler_t *self, int rcode)
{
    if (rcode >= 0 && rcode < 6)
        self->stats.answers[rcode]++;
    else if (rcode == DNSD_RCODE_BADVERS)
        self->stats.answers_badvers++;
}

static dnsd_verdict_t
s_answer (dnsd_handler_t *self, dnsd_outcome_t *outcome, size_t size, int rcode)
{
    outcome->size = size;
    outcome->rcode = rcode;
    s_count (self, rcode);
    return DNSD_VERDICT_ANSWER;
}

//  A whole answer of RCODE with no records (REFUSED, BADVERS).
static dnsd_verdict_t
s_empty (dnsd_handler_t *self, const dnsd_query_t *query, const uint8_t *packet, uint8_t *out,
         size_t limit, int rcode, dnsd_outcome_t *outcome)
{
    dnsd_response_t response;
    dnsd_response_begin (&response, out, limit, query, packet, rcode, false);
    return s_answer (self, outcome, dnsd_response_finish (&response, query, rcode), rcode);
}

static bool
s_wants (uint16_t qtype, uint16_t type)
{
    return qtype == type || qtype == DNSD_TYPE_ANY;
}

//  The records NODE holds for QUERY, appended to the answer section.
static void
s_records (dnsd_handler_t *self, dnsd_response_t *response, const dnsd_query_t *query,
           const dnsd_node_t *node)
{
    uint16_t qtype = query->qtype;
    if (node->owner_count) {
        const dnsd_service_t *service = node->owners[0];
        uint32_t ttl = dnsd_service_answer_ttl (service);
        if (s_wants (qtype, DNSD_TYPE_A))
            dnsd_response_add (response, DNSD_SECTION_ANSWER, DNSD_HEADER_SIZE, DNSD_TYPE_A, ttl,
                               service->ip, 4);
        if (s_wants (qtype, DNSD_TYPE_AAAA) && service->has_ip6)
            dnsd_response_add (response, DNSD_SECTION_ANSWER, DNSD_HEADER_SIZE, DNSD_TYPE_AAAA, ttl,
                               service->ip6, 16);
    }
    if (node->apex) {
        const dnsd_zone_t *zone = node->apex;
        if (s_wants (qtype, DNSD_TYPE_SOA)) {
            uint8_t rdata[DNSD_SOA_RDATA_MAX];
            size_t length = dnsd_zone_soa (zone, dnsd_table_serial (self->table), rdata);
            dnsd_response_add (response, DNSD_SECTION_ANSWER, DNSD_HEADER_SIZE, DNSD_TYPE_SOA,
                               zone->ttl, rdata, (uint16_t) length);
        }
        if (s_wants (qtype, DNSD_TYPE_NS))
            for (size_t index = 0; index < zone->config->ns_count; index++)
                dnsd_response_add (response, DNSD_SECTION_ANSWER, DNSD_HEADER_SIZE, DNSD_TYPE_NS,
                                   zone->ttl, zone->config->ns[index],
                                   (uint16_t) zone->config->ns_length[index]);
    }
    if (s_wants (qtype, DNSD_TYPE_PTR))
        for (size_t index = 0; index < node->ptr_count; index++) {
            const dnsd_service_t *service = node->ptrs[index];
            if (service->primary_length)
                dnsd_response_add (response, DNSD_SECTION_ANSWER, DNSD_HEADER_SIZE, DNSD_TYPE_PTR,
                                   service->ttl, service->primary,
                                   (uint16_t) service->primary_length);
        }
}

//  The question's name as vm.boot carries it; only a boot pays for the conversion.
static void
s_qname (const dnsd_query_t *query, dnsd_outcome_t *outcome)
{
    char text[DNSD_NAME_TEXT_MAX];
    outcome->qname[0] = '\0';
    if (dnsd_name_to_text (query->lower, text, sizeof text) == 0)
        proto_copy (outcome->qname, sizeof outcome->qname, text);
}

static dnsd_verdict_t
s_process (dnsd_handler_t *self, const uint8_t *packet, size_t size, const dnsd_context_t *context,
           uint8_t *out, size_t out_max, dnsd_outcome_t *outcome)
{
    outcome->size = 0;
    outcome->rcode = 0;
    outcome->service = NULL;
    outcome->boot = false;
    outcome->report = false;
    outcome->qname[0] = '\0';
    outcome->deadline = 0;
    outcome->capped = false;
    outcome->cookie = DNSD_COOKIE_NONE;
    if (!context->release)
        self->stats.queries++;

    //  Parse.
    dnsd_query_t query;
    switch (dnsd_query_parse (&query, packet, size)) {
    case DNSD_QUERY_DROP:
        if (size < DNSD_HEADER_SIZE)
            self->stats.dropped_short++;
        else
            self->stats.dropped_response++;
        return DNSD_VERDICT_DROP;
    case DNSD_QUERY_NOTIMP:
        return s_answer (self, outcome, dnsd_response_error (out, packet, DNSD_RCODE_NOTIMP),
                         DNSD_RCODE_NOTIMP);
    case DNSD_QUERY_FORMERR:
        return s_answer (self, outcome, dnsd_response_error (out, packet, DNSD_RCODE_FORMERR),
                         DNSD_RCODE_FORMERR);
    case DNSD_QUERY_BADVERS:
    case DNSD_QUERY_OK:
        break;
    }
    //  RFC 7873 section 5.2: every answer to a query with a COOKIE carries a server cookie;
    //  dnsd does not enforce them (see dnsd_cookie.h), so the answer is the same otherwise.
    if (query.cookie && self->cookie) {
        outcome->cookie =
            dnsd_cookie_check (self->cookie, query.cookie, query.cookie_length, context->client,
                               (uint32_t) (context->now_ms / 1000), query.cookie_reply);
        query.cookie_reply_length = DNSD_COOKIE_REPLY_SIZE;
        if (!context->release)
            self->stats.cookies[outcome->cookie]++;
    }
    size_t limit = out_max;
    if (!context->tcp && dnsd_query_udp_limit (&query) < limit)
        limit = dnsd_query_udp_limit (&query);
    if (query.edns && query.edns_version != 0)
        return s_empty (self, &query, packet, out, limit, DNSD_RCODE_BADVERS, outcome);
    //  Only class IN is served (ANY reads as IN); zone transfers are not offered.
    if ((query.qclass != DNSD_CLASS_IN && query.qclass != DNSD_CLASS_ANY)
        || query.qtype == DNSD_TYPE_AXFR || query.qtype == DNSD_TYPE_IXFR)
        return s_empty (self, &query, packet, out, limit, DNSD_RCODE_REFUSED, outcome);

    //  Classify.
    const dnsd_node_t *node =
        dnsd_table_node (self->table, query.lower, query.qname_length, query.hash);
    dnsd_service_t *service = node && node->owner_count ? node->owners[0] : NULL;

    //  Summon.
    if (service && !context->release) {
        self->stats.service_queries++;
        if (dnsd_table_hit (self->table, service, context->now_ms, context->mono_ms)) {
            outcome->report = true;
            outcome->service = service;
        }
        if (!dnsd_service_running (service)) {
            dnsd_decision_t decision;
            dnsd_summon_query (self->summon, service, context->client, query.qtype,
                               context->mono_ms, &decision);
            if (decision.boot) {
                outcome->boot = true;
                outcome->service = service;
                outcome->qtype = query.qtype;
                s_qname (&query, outcome);
            }
            if (decision.wait && context->may_wait) {
                outcome->service = service;
                outcome->deadline = decision.deadline;
                outcome->capped = decision.capped;
                self->stats.held++;
                return DNSD_VERDICT_WAIT;
            }
            if (decision.wait)
                self->stats.hold_refused++;
        }
    }

    //  Answer: the records at the name, else a negative answer from its zone.
    dnsd_response_t response;
    dnsd_response_begin (&response, out, limit, &query, packet, DNSD_RCODE_NOERROR, true);
    if (node)
        s_records (self, &response, &query, node);
    if (response.counts[DNSD_SECTION_ANSWER] == 0 && !response.overflow) {
        const dnsd_zone_t *zone = dnsd_table_zone (self->table, query.lower, query.qname_length);
        if (!zone) {
            //  Someone else's name: recursion, for those it is offered to (RFC 1035 section
            //  4.1.1: RD asks for it, RA says it is available). Without RD the client wants
            //  what dnsd itself knows; having no cache, dnsd knows nothing of the name, and
            //  forwarding would make an upstream recurse for a client that asked nobody to (a
            //  cache probe, or a resolver checking a delegation): REFUSED, as NSD and Knot
            //  answer for a name outside their zones.
            if (!dnsd_config_recursion (self->config, context->client)) {
                if (dnsd_config_forwarding (self->config))
                    self->stats.recursion_refused++;
            }
            else if (!(query.flags & DNSD_FLAG_RD))
                self->stats.norecurse_refused++;
            else {
                outcome->limit = context->tcp ? 65535 : dnsd_query_udp_limit (&query);
                self->stats.forwarded++;
                return DNSD_VERDICT_FORWARD;
            }
            return s_empty (self, &query, packet, out, limit, DNSD_RCODE_REFUSED, outcome);
        }
        //  RFC 2308 section 2: NXDOMAIN or NODATA, the zone's SOA in authority with the
        //  negative TTL. A node that exists (an empty non-terminal too) is NODATA (RFC 8020).
        int rcode = node ? DNSD_RCODE_NOERROR : DNSD_RCODE_NXDOMAIN;
        if (node)
            self->stats.nodata++;
        dnsd_response_set_rcode (&response, rcode);
        uint8_t rdata[DNSD_SOA_RDATA_MAX];
        size_t length = dnsd_zone_soa (zone, dnsd_table_serial (self->table), rdata);
        dnsd_response_add (&response, DNSD_SECTION_AUTHORITY,
                           dnsd_response_suffix (&query, zone->apex_length), DNSD_TYPE_SOA,
                           zone->negative_ttl, rdata, (uint16_t) length);
        if (response.overflow)
            self->stats.truncated++;
        return s_answer (self, outcome, dnsd_response_finish (&response, &query, rcode), rcode);
    }
    if (response.overflow)
        self->stats.truncated++;
    return s_answer (self, outcome, dnsd_response_finish (&response, &query, DNSD_RCODE_NOERROR),
                     DNSD_RCODE_NOERROR);
}

dnsd_verdict_t
dnsd_handler_process (dnsd_handler_t *self, const uint8_t *packet, size_t size,
                      const dnsd_context_t *context, uint8_t *out, size_t out_max,
                      dnsd_outcome_t *outcome)
{
    assert (self);
    dnsd_verdict_t verdict = s_process (self, packet, size, context, out, out_max, outcome);
    if (verdict == DNSD_VERDICT_ANSWER) {
        //  RA says whether recursion is available to this client (RFC 1035 section 4.1.1),
        //  whatever the answer: clients and resolvers read it to decide whom to ask. The
        //  header-only errors copy the query's flags, a client's RA among them.
        out[3] &= (uint8_t) ~DNSD_FLAG_RA;
        if (dnsd_config_recursion (self->config, context->client))
            out[3] |= DNSD_FLAG_RA;
    }
    return verdict;
}

void
dnsd_handler_count (dnsd_handler_t *self, const uint8_t *answer, size_t size)
{
    assert (self);
    if (size >= DNSD_HEADER_SIZE)
        s_count (self, answer[3] & 0x0f);
}

const dnsd_handler_stats_t *
dnsd_handler_stats (dnsd_handler_t *self)
{
    assert (self);
    return &self->stats;
}
