/*  vmctl_status: one write in flight per service, the newest waiting one next.  */

#include "vmctl_status.h"

//  One service's writes.
typedef struct {
    vmctl_status_t *owner;              // borrowed
    char service[PROTO_NAME_MAX + 1];
    bool in_flight;
    json_t *sent;                       // owned: the value in flight
    json_t *next;                       // owned: the value to write once the one in flight ends
    json_t *unstored;                   // owned: a value whose write failed, for flush
} s_entry_t;

struct _vmctl_status_t {
    proto_state_client_t *client;       // borrowed
    zhashx_t *entries;                  // owned: service -> s_entry_t *
    uint64_t writes;
    uint64_t failures;
    uint64_t coalesced;
};

static void
s_entry_destroy (void **item_p)
{
    s_entry_t *entry = (s_entry_t *) *item_p;
    if (entry) {
        json_decref (entry->sent);
        json_decref (entry->next);
        json_decref (entry->unstored);
        free (entry);
    }
    *item_p = NULL;
}

static void s_send (s_entry_t *entry, json_t *value);

static void
s_on_reply (json_t *reply, void *argument)
{
    s_entry_t *entry = (s_entry_t *) argument;
    vmctl_status_t *self = entry->owner;
    entry->in_flight = false;
    json_t *sent = entry->sent;
    entry->sent = NULL;
    if (!reply || !json_is_true (json_object_get (reply, "ok"))) {
        self->failures++;
        const char *message = reply ? json_string_value (json_object_get (reply, "message"))
                                    : "no reply after every retry";
        zsys_error ("vmctl_status: status write failed service=%s error=%s", entry->service,
                    message ? message : "?");
        //  Kept for vmctl_status_flush, unless a newer value is on its way anyway.
        json_decref (entry->unstored);
        entry->unstored = entry->next ? NULL : json_incref (sent);
    }
    json_decref (sent);
    if (entry->next) {
        json_t *value = entry->next;
        entry->next = NULL;
        s_send (entry, value);
    }
}

//  Send VALUE (consumed) as ENTRY's status.
static void
s_send (s_entry_t *entry, json_t *value)
{
    vmctl_status_t *self = entry->owner;
    char key[PROTO_KEY_MAX + 1];
    snprintf (key, sizeof key, "/services/%s/status", entry->service);
    const char *state = json_string_value (json_object_get (value, "state"));
    const char *boot_id = json_string_value (json_object_get (value, "boot_id"));
    char message[PROTO_NAME_MAX * 2 + 32];
    snprintf (message, sizeof message, "%s %s %s", entry->service, state ? state : "?",
              boot_id ? boot_id : "");
    json_t *request = json_pack ("{s:s, s:s, s:o, s:s}", "op", "put", "key", key, "value", value,
                                 "message", message);
    entry->in_flight = true;
    json_decref (entry->unstored);
    entry->unstored = NULL;
    json_decref (entry->sent);
    entry->sent = json_incref (value);
    self->writes++;
    if (proto_state_client_send (self->client, request, 0, 0, s_on_reply, entry)) {
        entry->in_flight = false;
        self->failures++;
    }
}

vmctl_status_t *
vmctl_status_new (proto_state_client_t *client)
{
    assert (client);
    vmctl_status_t *self = (vmctl_status_t *) zmalloc (sizeof (vmctl_status_t));
    self->client = client;
    self->entries = zhashx_new ();
    zhashx_set_destructor (self->entries, s_entry_destroy);
    return self;
}

void
vmctl_status_destroy (vmctl_status_t **self_p)
{
    assert (self_p);
    vmctl_status_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->entries);
    free (self);
    *self_p = NULL;
}

void
vmctl_status_write (vmctl_status_t *self, const char *service, const proto_status_t *status)
{
    assert (self && service && status);
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->entries, service);
    if (!entry) {
        entry = (s_entry_t *) zmalloc (sizeof (s_entry_t));
        entry->owner = self;
        proto_copy (entry->service, sizeof entry->service, service);
        zhashx_insert (self->entries, service, entry);
    }
    json_t *value = proto_status_encode (status);
    if (entry->in_flight) {
        if (entry->next)
            self->coalesced++;
        json_decref (entry->next);
        entry->next = value;
        return;
    }
    s_send (entry, value);
}

void
vmctl_status_flush (vmctl_status_t *self)
{
    assert (self);
    for (s_entry_t *entry = (s_entry_t *) zhashx_first (self->entries); entry;
         entry = (s_entry_t *) zhashx_next (self->entries))
        if (entry->unstored && !entry->in_flight) {
            json_t *value = entry->unstored;
            entry->unstored = NULL;
            s_send (entry, value);
        }
}

uint64_t
vmctl_status_writes (vmctl_status_t *self)
{
    assert (self);
    return self->writes;
}

uint64_t
vmctl_status_failures (vmctl_status_t *self)
{
    assert (self);
    return self->failures;
}

uint64_t
vmctl_status_coalesced (vmctl_status_t *self)
{
    assert (self);
    return self->coalesced;
}
