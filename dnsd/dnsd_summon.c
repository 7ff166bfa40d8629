/*  dnsd_summon: boots, single flight, masks, wake lists, rate limits, timeouts.  */

#include "dnsd_query.h"
#include "dnsd_summon.h"

struct _dnsd_summon_t {
    dnsd_table_t *table;  // borrowed
    int boot_retry_ms;
    int hold_max_ms;              // for services that set none
    dnsd_ratelimit_t *ratelimit;  // owned
    dnsd_summon_stats_t stats;
};

dnsd_summon_t *
dnsd_summon_new (dnsd_table_t *table, const dnsd_config_t *config)
{
    assert (table);
    dnsd_summon_t *self = (dnsd_summon_t *) zmalloc (sizeof (dnsd_summon_t));
    self->table = table;
    self->boot_retry_ms = config->boot_retry_ms;
    self->hold_max_ms = config->hold_max_ms;
    self->ratelimit = dnsd_ratelimit_new (config->boot_rate, config->boot_burst,
                                          config->boot_prefix_rate, config->boot_prefix_burst);
    return self;
}

void
dnsd_summon_destroy (dnsd_summon_t **self_p)
{
    assert (self_p);
    dnsd_summon_t *self = *self_p;
    if (!self)
        return;
    dnsd_ratelimit_destroy (&self->ratelimit);
    free (self);
    *self_p = NULL;
}

static void
s_start (dnsd_summon_t *self, dnsd_service_t *service, bool acked, int64_t mono_ms)
{
    dnsd_table_flight_add (self->table, service);
    service->acked = acked;
    service->boot_started = mono_ms;
    service->boot_published = mono_ms;
}

void
dnsd_summon_query (dnsd_summon_t *self, dnsd_service_t *service, const struct sockaddr *client,
                   uint16_t qtype, int64_t mono_ms, dnsd_decision_t *decision)
{
    assert (self);
    decision->boot = false;
    decision->wait = false;
    decision->deadline = 0;
    decision->capped = false;
    if (qtype != DNSD_TYPE_A && qtype != DNSD_TYPE_AAAA)
        return;  // only address queries mean someone wants to connect
    if (!service->in_flight) {
        if (!dnsd_service_may_wake (service, client)) {
            self->stats.wake_denied++;
            return;
        }
        if (!dnsd_ratelimit_allow (self->ratelimit, client, mono_ms)) {
            self->stats.rate_limited++;
            return;
        }
        s_start (self, service, false, mono_ms);
        self->stats.boots++;
        decision->boot = true;
    }
    int64_t deadline;
    switch (service->mask) {
    case PROTO_MASK_DELAY:
        if (service->response_delay_ms <= 0)
            return;
        deadline = mono_ms + service->response_delay_ms;
        break;
    case PROTO_MASK_READY:
    case PROTO_MASK_AUTO:
        deadline = service->boot_started + service->ready_timeout_ms;
        break;
    case PROTO_MASK_NONE:
    case PROTO_MASK_SYNJITSU:
    default:
        return;
    }
    int hold_max_ms = service->hold_max_ms >= 0 ? service->hold_max_ms : self->hold_max_ms;
    if (service->boot_started + hold_max_ms < deadline) {
        deadline = service->boot_started + hold_max_ms;
        decision->capped = true;
    }
    if (deadline <= mono_ms) {
        if (decision->capped)
            self->stats.past_cap++;
        return;
    }
    decision->wait = true;
    decision->deadline = deadline;
}

bool
dnsd_summon_state (dnsd_summon_t *self, dnsd_service_t *service, proto_state_t state, int64_t ts,
                   int64_t mono_ms)
{
    assert (self);
    if (ts < service->state_ts) {
        self->stats.stale_ignored++;
        return false;
    }
    proto_state_t previous = service->state;
    service->state = state;
    service->state_ts = ts;
    switch (state) {
    case PROTO_STATE_DRAINING:
        //  Still up, answered with the drain's TTL; its first query is reported at once.
        if (previous != PROTO_STATE_DRAINING) {
            service->draining_ttl = service->drain_ttl;
            service->drain_mono = mono_ms;
        }
        dnsd_table_flight_remove (self->table, service);
        return true;
    case PROTO_STATE_READY:
        dnsd_table_flight_remove (self->table, service);
        return true;
    case PROTO_STATE_FAILED:
        if (service->in_flight)
            self->stats.boots_failed++;
        dnsd_table_flight_remove (self->table, service);
        return true;
    case PROTO_STATE_BOOTING:
        //  vmctl heard a vm.boot, ours or someone else's: never send one of our own for it.
        if (service->in_flight)
            service->acked = true;
        else
            s_start (self, service, true, mono_ms);
        return false;
    case PROTO_STATE_OFF:
    case PROTO_STATE_STOPPING:
    case PROTO_STATE_PAUSED:
    case PROTO_STATE_SAVED:
        //  A boot in flight stays: this may be the previous VM going away.
        return false;
    case PROTO_STATES:
        break;
    }
    return false;
}

//  The state a vm.* event (not vm.boot) puts its service in.
static proto_state_t
s_event_state (const proto_msg_t *msg)
{
    switch (msg->type) {
    case PROTO_MSG_VM_BOOTING:
        return PROTO_STATE_BOOTING;
    case PROTO_MSG_VM_READY:
        return PROTO_STATE_READY;
    case PROTO_MSG_VM_DRAINING:
        return PROTO_STATE_DRAINING;
    case PROTO_MSG_VM_FAILED:
        return PROTO_STATE_FAILED;
    case PROTO_MSG_VM_STOPPING:
        return PROTO_STATE_STOPPING;
    case PROTO_MSG_VM_STOPPED:
        //  Paused and saved are not running either: a query summons them as it does an off VM.
        return msg->vm_stop.mode == PROTO_MODE_SUSPEND ? PROTO_STATE_PAUSED
               : msg->vm_stop.mode == PROTO_MODE_SAVE  ? PROTO_STATE_SAVED
                                                       : PROTO_STATE_OFF;
    default:
        return PROTO_STATE_OFF;
    }
}

bool
dnsd_summon_event (dnsd_summon_t *self, dnsd_service_t *service, const proto_msg_t *msg,
                   int64_t mono_ms)
{
    assert (self);
    bool release = dnsd_summon_state (self, service, s_event_state (msg), msg->ts, mono_ms);
    //  When this event is what set the state, its TTL is the drain's: vmctl timed its step by
    //  it.
    if (msg->type == PROTO_MSG_VM_DRAINING && service->state == PROTO_STATE_DRAINING
        && service->state_ts == msg->ts)
        service->draining_ttl = (uint32_t) msg->vm_draining.ttl;
    return release;
}

bool
dnsd_summon_join (dnsd_summon_t *self, dnsd_service_t *service, int64_t mono_ms)
{
    assert (self);
    if (service->in_flight || dnsd_service_running (service))
        return false;
    s_start (self, service, true, mono_ms);
    return true;
}

void
dnsd_summon_forget (dnsd_summon_t *self, dnsd_service_t *service)
{
    assert (self);
    dnsd_table_flight_remove (self->table, service);
}

void
dnsd_summon_tick (dnsd_summon_t *self, int64_t mono_ms, dnsd_summon_fn *fn, void *arg)
{
    assert (self);
    dnsd_service_t *next;
    for (dnsd_service_t *service = dnsd_table_flight_first (self->table); service; service = next) {
        next = service->flight_next;
        if (mono_ms - service->boot_started >= service->ready_timeout_ms) {
            self->stats.boot_timeouts++;
            dnsd_table_flight_remove (self->table, service);
            fn (service, true, arg);
        }
        else if (!service->acked && mono_ms - service->boot_published >= self->boot_retry_ms) {
            service->boot_published = mono_ms;
            self->stats.republished++;
            fn (service, false, arg);
        }
    }
}

const dnsd_summon_stats_t *
dnsd_summon_stats (dnsd_summon_t *self)
{
    assert (self);
    return &self->stats;
}
