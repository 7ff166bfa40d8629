/*  proto_msg: the message catalogue and a table-driven codec.

    Each topic has a value struct and a table of its fields (name, kind, offset, limits); one
    reader and one writer walk the tables, so a new message is a struct, a table and a line in
    the catalogue, and every message is checked the same way.  */

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "proto_alive.h"
#include "proto_msg.h"

//  Enum fields are read and written through int.
_Static_assert (sizeof (proto_via_t) == sizeof (int), "enums must be int-sized");

#define S_PARSE_MAX (1024 * 1024)  // frames above this are not even parsed

typedef enum {
    S_STR,       // char[]: UTF-8 string
    S_IP,        // char[]: IPv4 or IPv6 address in text form
    S_MAC,       // char[]: "xx:xx:xx:xx:xx:xx"
    S_INT,       // int64_t within [min, max]
    S_BOOL,      // bool
    S_ENUM,      // an enum, on the wire one of choices[]
    S_CHANGES,   // state.changed "changes"
    S_COUNTERS,  // svc.alive "counters"
    S_HISTOGRAMS // svc.alive "histograms"
} s_kind_t;

//  One body field: where it lives in the value struct and what the wire allows.
typedef struct {
    const char *name;
    s_kind_t kind;
    size_t offset;                 // from the start of the body struct
    size_t size;                   // char[] fields: buffer size, terminator included
    bool required;
    int64_t min, max;              // S_INT range
    const char *const *choices;    // S_ENUM wire names, indexed by value; NULL-terminated
} s_field_t;

#define S_SIZEOF(T, f) sizeof (((T *) 0)->f)
#define S_TEXT(kind, T, f, req) { #f, kind, offsetof (T, f), S_SIZEOF (T, f), req, 0, 0, NULL }
#define S_STRING(T, f, req) S_TEXT (S_STR, T, f, req)
#define S_ADDRESS(T, f, req) S_TEXT (S_IP, T, f, req)
#define S_HWADDR(T, f, req) S_TEXT (S_MAC, T, f, req)
#define S_INTEGER(T, f, lo, hi) { #f, S_INT, offsetof (T, f), 0, true, lo, hi, NULL }
#define S_CHOICE(T, f, req, names) { #f, S_ENUM, offsetof (T, f), 0, req, 0, 0, names }
#define S_END { NULL, 0, 0, 0, false, 0, 0, NULL }

#define S_TS_MAX INT64_C (253402300799999)  // year 9999 in UNIX ms
#define S_COUNT_MAX INT64_MAX

//  Optional enums keep "" at index 0: that value is "absent" and is not encoded.
static const char *const s_via_names[] = {"event", "probe", "garp", "running", "timeout", NULL};
static const char *const s_reason_names[] = {"idle", "admin", "crash", "external", "failed",
                                             NULL};
static const char *const s_mode_names[] = {"", "destroy", "shutdown", "suspend", "save", NULL};
static const char *const s_op_names[] = {"put", "del", NULL};
static const char *const s_tier_names[] = {"", "off", "paused", "saved", NULL};
static const char *const s_drain_mode_names[] = {"", "destroy", "shutdown", "", "save", NULL};
static const char *const s_booting_mask_names[] = {"",      "none",     "delay", "ready",
                                                   "synjitsu", "auto",  NULL};

static const s_field_t s_vm_boot_fields[] = {
    S_STRING (proto_vm_boot_t, service, true),
    S_STRING (proto_vm_boot_t, request_id, true),
    S_STRING (proto_vm_boot_t, qname, false),
    S_STRING (proto_vm_boot_t, qtype, false),
    S_ADDRESS (proto_vm_boot_t, client, false),
    S_END,
};

static const s_field_t s_vm_booting_fields[] = {
    S_STRING (proto_vm_booting_t, service, true),
    S_STRING (proto_vm_booting_t, boot_id, true),
    S_STRING (proto_vm_booting_t, domain, true),
    S_STRING (proto_vm_booting_t, uuid, true),
    S_ADDRESS (proto_vm_booting_t, ip, true),
    S_HWADDR (proto_vm_booting_t, mac, false),
    S_STRING (proto_vm_booting_t, iface, false),
    S_CHOICE (proto_vm_booting_t, mask, false, s_booting_mask_names),
    S_END,
};

static const s_field_t s_vm_ready_fields[] = {
    S_STRING (proto_vm_ready_t, service, true),
    S_STRING (proto_vm_ready_t, boot_id, true),
    S_ADDRESS (proto_vm_ready_t, ip, true),
    S_CHOICE (proto_vm_ready_t, via, true, s_via_names),
    S_INTEGER (proto_vm_ready_t, boot_ms, 0, S_COUNT_MAX),
    S_CHOICE (proto_vm_ready_t, from, false, s_tier_names),
    S_END,
};

static const s_field_t s_vm_prepare_fields[] = {
    S_STRING (proto_vm_prepare_t, service, true),
    S_STRING (proto_vm_prepare_t, request_id, true),
    S_CHOICE (proto_vm_prepare_t, tier, true, s_tier_names),
    S_END,
};

static const s_field_t s_vm_draining_fields[] = {
    S_STRING (proto_vm_draining_t, service, true),
    S_STRING (proto_vm_draining_t, boot_id, true),
    S_CHOICE (proto_vm_draining_t, mode, true, s_drain_mode_names),
    S_INTEGER (proto_vm_draining_t, ttl, 1, 86400),
    S_INTEGER (proto_vm_draining_t, until_ts, 0, S_TS_MAX),
    S_END,
};

static const s_field_t s_vm_stop_fields[] = {
    S_STRING (proto_vm_stop_t, service, true),
    S_CHOICE (proto_vm_stop_t, reason, true, s_reason_names),
    S_CHOICE (proto_vm_stop_t, mode, false, s_mode_names),
    S_STRING (proto_vm_stop_t, boot_id, false),
    S_END,
};

static const s_field_t s_vm_failed_fields[] = {
    S_STRING (proto_vm_failed_t, service, true),
    S_STRING (proto_vm_failed_t, boot_id, true),
    S_STRING (proto_vm_failed_t, error, true),
    S_END,
};

static const s_field_t s_dns_hits_fields[] = {
    S_STRING (proto_dns_hits_t, service, true),
    S_INTEGER (proto_dns_hits_t, count, 1, S_COUNT_MAX),
    S_INTEGER (proto_dns_hits_t, first_ts, 0, S_TS_MAX),
    S_INTEGER (proto_dns_hits_t, last_ts, 0, S_TS_MAX),
    S_END,
};

static const s_field_t s_syn_held_fields[] = {
    S_STRING (proto_syn_held_t, service, true),
    S_ADDRESS (proto_syn_held_t, ip, true),
    S_ADDRESS (proto_syn_held_t, client, true),
    S_INTEGER (proto_syn_held_t, sport, 0, 65535),
    S_INTEGER (proto_syn_held_t, dport, 0, 65535),
    S_END,
};

static const s_field_t s_syn_replayed_fields[] = {
    S_STRING (proto_syn_replayed_t, service, true),
    S_ADDRESS (proto_syn_replayed_t, ip, false),
    S_INTEGER (proto_syn_replayed_t, count, 0, S_COUNT_MAX),
    S_INTEGER (proto_syn_replayed_t, held_ms, 0, S_COUNT_MAX),
    S_END,
};

static const s_field_t s_guest_seen_fields[] = {
    S_STRING (proto_guest_seen_t, service, true),
    S_ADDRESS (proto_guest_seen_t, ip, true),
    S_HWADDR (proto_guest_seen_t, mac, true),
    S_END,
};

static const s_field_t s_state_changed_fields[] = {
    S_INTEGER (proto_state_changed_t, rev, 0, S_COUNT_MAX),
    S_STRING (proto_state_changed_t, commit, true),
    {"changes", S_CHANGES, offsetof (proto_state_changed_t, changes), 0, true, 0, 0, NULL},
    {"truncated", S_BOOL, offsetof (proto_state_changed_t, truncated), 0, false, 0, 0, NULL},
    S_END,
};

static const s_field_t s_svc_alive_fields[] = {
    S_STRING (proto_svc_alive_t, name, true),
    S_STRING (proto_svc_alive_t, instance, true),
    S_INTEGER (proto_svc_alive_t, pid, 0, INT32_MAX),
    S_STRING (proto_svc_alive_t, version, true),
    S_INTEGER (proto_svc_alive_t, uptime_s, 0, S_COUNT_MAX),
    {"counters", S_COUNTERS, offsetof (proto_svc_alive_t, counters), 0, true, 0, 0, NULL},
    {"histograms", S_HISTOGRAMS, offsetof (proto_svc_alive_t, histograms), 0, false, 0, 0, NULL},
    S_END,
};

//  The catalogue: topic string and body fields of every type.
static const struct {
    const char *topic;
    const s_field_t *fields;
} s_catalogue[PROTO_MSG_COUNT] = {
    [PROTO_MSG_UNKNOWN] = {"", NULL},
    [PROTO_MSG_VM_BOOT] = {"vm.boot", s_vm_boot_fields},
    [PROTO_MSG_VM_BOOTING] = {"vm.booting", s_vm_booting_fields},
    [PROTO_MSG_VM_READY] = {"vm.ready", s_vm_ready_fields},
    [PROTO_MSG_VM_STOPPING] = {"vm.stopping", s_vm_stop_fields},
    [PROTO_MSG_VM_STOPPED] = {"vm.stopped", s_vm_stop_fields},
    [PROTO_MSG_VM_FAILED] = {"vm.failed", s_vm_failed_fields},
    [PROTO_MSG_DNS_HITS] = {"dns.hits", s_dns_hits_fields},
    [PROTO_MSG_SYN_HELD] = {"syn.held", s_syn_held_fields},
    [PROTO_MSG_SYN_REPLAYED] = {"syn.replayed", s_syn_replayed_fields},
    [PROTO_MSG_GUEST_SEEN] = {"guest.seen", s_guest_seen_fields},
    [PROTO_MSG_STATE_CHANGED] = {"state.changed", s_state_changed_fields},
    [PROTO_MSG_SVC_ALIVE] = {"svc.alive", s_svc_alive_fields},
    [PROTO_MSG_VM_DRAINING] = {"vm.draining", s_vm_draining_fields},
    [PROTO_MSG_VM_PREPARE] = {"vm.prepare", s_vm_prepare_fields},
};

//  All union members start at the same address: the body struct of any type.
static void *
s_body (proto_msg_t *self)
{
    return &self->vm_boot;
}

bool
proto_is_mac (const char *text)
{
    //  Six pairs of hex digits separated by colons, nothing else.
    for (int index = 0; index < 17; index++) {
        char c = text[index];
        if (index % 3 == 2 ? c != ':' : !isxdigit ((unsigned char) c))
            return false;
    }
    return text[17] == '\0';
}

static bool
s_is_ip (const char *text)
{
    unsigned char address[16];
    return inet_pton (AF_INET, text, address) == 1 || inet_pton (AF_INET6, text, address) == 1;
}

static int
s_choice_index (const char *const *choices, const char *name)
{
    for (int index = 0; choices[index]; index++)
        if (choices[index][0] && streq (choices[index], name))
            return index;
    return -1;
}

static int
s_read_changes (proto_state_changed_t *body, json_t *value, proto_error_t *error)
{
    if (!json_is_array (value))
        return proto_error_set (error, PROTO_ERR_TYPE, "body.changes: expected an array");
    size_t index;
    json_t *item;
    json_array_foreach (value, index, item) {
        json_t *key = json_object_get (item, "key");
        json_t *op = json_object_get (item, "op");
        if (!json_is_object (item))
            return proto_error_set (error, PROTO_ERR_TYPE, "body.changes[%zu]: expected an object",
                                    index);
        if (!key || !op)
            return proto_error_set (error, PROTO_ERR_MISSING, "body.changes[%zu].%s: missing",
                                    index, key ? "op" : "key");
        if (!json_is_string (key) || !json_is_string (op))
            return proto_error_set (error, PROTO_ERR_TYPE,
                                    "body.changes[%zu]: key and op must be strings", index);
        if (json_string_length (key) > PROTO_KEY_MAX)
            return proto_error_set (error, PROTO_ERR_TOO_LONG,
                                    "body.changes[%zu].key: longer than %d bytes", index,
                                    PROTO_KEY_MAX);
        int choice = s_choice_index (s_op_names, json_string_value (op));
        if (choice < 0)
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "body.changes[%zu].op: \"%s\" is not put or del", index,
                                    json_string_value (op));
        proto_change_t *grown =
            realloc (body->changes, (body->change_count + 1) * sizeof (proto_change_t));
        if (!grown)
            return proto_error_set (error, PROTO_ERR_TOO_LARGE, "body.changes: out of memory");
        body->changes = grown;
        proto_change_t *change = &body->changes[body->change_count++];
        memcpy (change->key, json_string_value (key), json_string_length (key) + 1);
        change->op = (proto_op_t) choice;
        change->value = json_incref (json_object_get (item, "value"));
    }
    return 0;
}

//  Read one field from BODY into the struct at BASE.
static int
s_read_field (const s_field_t *field, json_t *body, char *base, proto_error_t *error)
{
    json_t *value = json_object_get (body, field->name);
    if (!value) {
        if (field->required)
            return proto_error_set (error, PROTO_ERR_MISSING, "body.%s: missing required field",
                                    field->name);
        return 0;
    }
    char *target = base + field->offset;
    switch (field->kind) {
    case S_STR:
    case S_IP:
    case S_MAC: {
        if (!json_is_string (value))
            return proto_error_set (error, PROTO_ERR_TYPE, "body.%s: expected a string",
                                    field->name);
        size_t length = json_string_length (value);
        if (length >= field->size)
            return proto_error_set (error, PROTO_ERR_TOO_LONG,
                                    "body.%s: %zu bytes, longer than %zu", field->name, length,
                                    field->size - 1);
        const char *text = json_string_value (value);
        if (field->required && length == 0)
            return proto_error_set (error, PROTO_ERR_VALUE, "body.%s: must not be empty",
                                    field->name);
        if (length > 0 && field->kind == S_IP && !s_is_ip (text))
            return proto_error_set (error, PROTO_ERR_VALUE, "body.%s: \"%s\" is not an address",
                                    field->name, text);
        if (length > 0 && field->kind == S_MAC && !proto_is_mac (text))
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "body.%s: \"%s\" is not a MAC address", field->name, text);
        memcpy (target, text, length + 1);
        return 0;
    }
    case S_INT: {
        if (!json_is_integer (value))
            return proto_error_set (error, PROTO_ERR_TYPE, "body.%s: expected an integer",
                                    field->name);
        int64_t number = json_integer_value (value);
        if (number < field->min || number > field->max)
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "body.%s: %lld is outside [%lld, %lld]", field->name,
                                    (long long) number, (long long) field->min,
                                    (long long) field->max);
        memcpy (target, &number, sizeof number);
        return 0;
    }
    case S_BOOL: {
        if (!json_is_boolean (value))
            return proto_error_set (error, PROTO_ERR_TYPE, "body.%s: expected true or false",
                                    field->name);
        bool flag = json_is_true (value);
        memcpy (target, &flag, sizeof flag);
        return 0;
    }
    case S_ENUM: {
        if (!json_is_string (value))
            return proto_error_set (error, PROTO_ERR_TYPE, "body.%s: expected a string",
                                    field->name);
        int choice = s_choice_index (field->choices, json_string_value (value));
        if (choice < 0)
            return proto_error_set (error, PROTO_ERR_VALUE, "body.%s: \"%.64s\" is not allowed",
                                    field->name, json_string_value (value));
        memcpy (target, &choice, sizeof choice);
        return 0;
    }
    case S_CHANGES:
        return s_read_changes ((proto_state_changed_t *) base, value, error);
    case S_COUNTERS:
        return proto_alive_read_counters ((proto_svc_alive_t *) base, value, error);
    case S_HISTOGRAMS:
        return proto_alive_read_histograms ((proto_svc_alive_t *) base, value, error);
    }
    return proto_error_set (error, PROTO_ERR_VALUE, "body.%s: unknown field kind", field->name);
}

static json_t *
s_write_changes (const proto_state_changed_t *body)
{
    json_t *array = json_array ();
    for (size_t index = 0; index < body->change_count; index++) {
        const proto_change_t *change = &body->changes[index];
        json_t *item = json_pack ("{s:s,s:s}", "key", change->key, "op", s_op_names[change->op]);
        if (change->value)
            json_object_set (item, "value", change->value);
        json_array_append_new (array, item);
    }
    return array;
}

//  Write one field of the struct at BASE into BODY; the same rules as reading apply.
static int
s_write_field (const s_field_t *field, json_t *body, const char *base, proto_error_t *error)
{
    const char *source = base + field->offset;
    json_t *value = NULL;
    switch (field->kind) {
    case S_STR:
    case S_IP:
    case S_MAC: {
        size_t length = strnlen (source, field->size);
        if (length == field->size)
            return proto_error_set (error, PROTO_ERR_TOO_LONG, "body.%s: not terminated",
                                    field->name);
        if (length == 0) {
            if (field->required)
                return proto_error_set (error, PROTO_ERR_MISSING,
                                        "body.%s: missing required field", field->name);
            return 0;
        }
        if ((field->kind == S_IP && !s_is_ip (source))
            || (field->kind == S_MAC && !proto_is_mac (source)))
            return proto_error_set (error, PROTO_ERR_VALUE, "body.%s: \"%s\" is malformed",
                                    field->name, source);
        value = json_stringn (source, length);
        if (!value)
            return proto_error_set (error, PROTO_ERR_VALUE, "body.%s: not valid UTF-8",
                                    field->name);
        break;
    }
    case S_INT: {
        int64_t number;
        memcpy (&number, source, sizeof number);
        if (number < field->min || number > field->max)
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "body.%s: %lld is outside [%lld, %lld]", field->name,
                                    (long long) number, (long long) field->min,
                                    (long long) field->max);
        value = json_integer (number);
        break;
    }
    case S_BOOL: {
        bool flag;
        memcpy (&flag, source, sizeof flag);
        if (!flag && !field->required)
            return 0;
        value = json_boolean (flag);
        break;
    }
    case S_ENUM: {
        int choice;
        memcpy (&choice, source, sizeof choice);
        int count = 0;
        while (field->choices[count])
            count++;
        if (choice < 0 || choice >= count)
            return proto_error_set (error, PROTO_ERR_VALUE, "body.%s: %d is out of range",
                                    field->name, choice);
        if (field->choices[choice][0] == '\0') {
            if (field->required)
                return proto_error_set (error, PROTO_ERR_VALUE, "body.%s: %d is not allowed",
                                        field->name, choice);
            return 0;  // the optional enum's "absent" value
        }
        value = json_string (field->choices[choice]);
        break;
    }
    case S_CHANGES:
        value = s_write_changes ((const proto_state_changed_t *) base);
        break;
    case S_COUNTERS:
        value = proto_alive_write_counters ((const proto_svc_alive_t *) base);
        break;
    case S_HISTOGRAMS:
        if (((const proto_svc_alive_t *) base)->histogram_count == 0)
            return 0;  // optional
        value = proto_alive_write_histograms ((const proto_svc_alive_t *) base, error);
        if (!value)
            return -1;
        break;
    }
    json_object_set_new (body, field->name, value);
    return 0;
}

void
proto_msg_init (proto_msg_t *self, proto_msg_type_t type)
{
    assert (self);
    assert (type >= 0 && type < PROTO_MSG_COUNT);
    memset (self, 0, sizeof *self);
    self->type = type;
    strcpy (self->topic, s_catalogue[type].topic);
}

void
proto_msg_reset (proto_msg_t *self)
{
    assert (self);
    if (self->type == PROTO_MSG_STATE_CHANGED) {
        for (size_t index = 0; index < self->state_changed.change_count; index++)
            json_decref (self->state_changed.changes[index].value);
        free (self->state_changed.changes);
    }
    json_decref (self->json);
    proto_msg_init (self, self->type);
}

proto_msg_t *
proto_msg_new (proto_msg_type_t type)
{
    proto_msg_t *self = (proto_msg_t *) zmalloc (sizeof (proto_msg_t));
    proto_msg_init (self, type);
    return self;
}

void
proto_msg_destroy (proto_msg_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        proto_msg_reset (*self_p);
        free (*self_p);
        *self_p = NULL;
    }
}

int
proto_msg_decode_body (proto_msg_t *self, json_t *body, proto_error_t *error)
{
    assert (self);
    const s_field_t *fields = s_catalogue[self->type].fields;
    if (!fields)
        return 0;
    if (!json_is_object (body))
        return proto_error_set (error, PROTO_ERR_TYPE, "body: expected an object");
    for (const s_field_t *field = fields; field->name; field++)
        if (s_read_field (field, body, s_body (self), error))
            return -2;
    return 0;
}

//  Read the envelope's fields; BODY is borrowed from ROOT.
static int
s_decode_envelope (proto_msg_t *self, json_t *root, const char *topic, json_t **body,
                   proto_error_t *error)
{
    json_t *version = json_object_get (root, "v");
    if (!json_is_integer (version))
        return proto_error_set (error, PROTO_ERR_ENVELOPE, "envelope: \"v\" missing or not an "
                                                           "integer");
    if (json_integer_value (version) != PROTO_VERSION_MAJOR)
        return proto_error_set (error, PROTO_ERR_VERSION,
                                "envelope: v=%lld, this build speaks v=%d",
                                (long long) json_integer_value (version), PROTO_VERSION_MAJOR);
    const char *type = NULL, *src = NULL;
    json_int_t seq = -1, ts = -1;
    if (json_unpack (root, "{s:s, s:s, s:I, s:I, s:o}", "type", &type, "src", &src, "seq", &seq,
                     "ts", &ts, "body", body)
        || !json_is_object (*body))
        return proto_error_set (error, PROTO_ERR_ENVELOPE,
                                "envelope: needs type, src (strings), seq, ts (integers) and "
                                "body (object)");
    if (seq < 0 || ts < 0)
        return proto_error_set (error, PROTO_ERR_ENVELOPE, "envelope: negative seq or ts");
    if (proto_copy (self->topic, sizeof self->topic, type)
        || proto_copy (self->src, sizeof self->src, src) || !*type || !*src)
        return proto_error_set (error, PROTO_ERR_ENVELOPE,
                                "envelope: type or src empty or too long");
    if (topic && strneq (topic, type))
        return proto_error_set (error, PROTO_ERR_ENVELOPE,
                                "envelope: topic frame \"%.31s\" but type \"%.31s\"", topic, type);
    self->seq = seq;
    self->ts = ts;
    return 0;
}

int
proto_msg_decode (proto_msg_t *self, const char *topic, const void *data, size_t size,
                  proto_error_t *error)
{
    assert (self);
    self->type = PROTO_MSG_UNKNOWN;
    proto_msg_reset (self);
    if (size > S_PARSE_MAX)
        return proto_error_set (error, PROTO_ERR_TOO_LARGE, "message of %zu bytes, body limit %d",
                                size, PROTO_BODY_MAX);
    json_error_t parse_error;
    json_t *root = json_loadb (data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &parse_error);
    if (!root)
        return proto_error_set (error, PROTO_ERR_NOT_JSON, "not JSON: %s at column %d",
                                parse_error.text, parse_error.column);
    json_t *body = NULL;
    int rc = 0;
    if (!json_is_object (root))
        rc = proto_error_set (error, PROTO_ERR_NOT_OBJECT, "not a JSON object");
    else
        rc = s_decode_envelope (self, root, topic, &body, error);

    //  Only a frame larger than the limit can hold a body larger than it: measure only then.
    if (rc == 0 && size > PROTO_BODY_MAX) {
        size_t body_size = json_dumpb (body, NULL, 0, JSON_COMPACT);
        if (body_size > PROTO_BODY_MAX)
            rc = proto_error_set (error, PROTO_ERR_TOO_LARGE, "body of %zu bytes, limit %d",
                                  body_size, PROTO_BODY_MAX);
    }
    if (rc == 0) {
        self->type = proto_msg_type_from_topic (self->topic);
        rc = proto_msg_decode_body (self, body, error);
    }
    if (rc) {
        json_decref (root);
        char topic_kept[PROTO_TOPIC_MAX + 1];
        strcpy (topic_kept, self->topic);
        proto_msg_reset (self);  // no half-decoded body survives a failure
        strcpy (self->topic, topic_kept);
        return -2;
    }
    self->json = root;
    if (error)
        error->code = PROTO_OK;
    return 0;
}

json_t *
proto_msg_encode_body (const proto_msg_t *self, proto_error_t *error)
{
    assert (self);
    const s_field_t *fields = s_catalogue[self->type].fields;
    if (!fields) {
        proto_error_set (error, PROTO_ERR_TOPIC, "topic \"%s\" is not in this build's catalogue",
                         self->topic);
        return NULL;
    }
    json_t *body = json_object ();
    for (const s_field_t *field = fields; field->name; field++)
        if (s_write_field (field, body, (const char *) &self->vm_boot, error)) {
            json_decref (body);
            return NULL;
        }
    return body;
}

char *
proto_msg_encode (const proto_msg_t *self, proto_error_t *error)
{
    assert (self);
    json_t *body = proto_msg_encode_body (self, error);
    if (!body)
        return NULL;
    if (json_dumpb (body, NULL, 0, JSON_COMPACT) > PROTO_BODY_MAX) {
        json_decref (body);
        proto_error_set (error, PROTO_ERR_TOO_LARGE, "body over %d bytes", PROTO_BODY_MAX);
        return NULL;
    }
    json_t *root = json_pack ("{s:i, s:s, s:s, s:I, s:I, s:o}", "v", PROTO_VERSION_MAJOR, "type",
                              s_catalogue[self->type].topic, "src", self->src,
                              "seq", (json_int_t) self->seq, "ts", (json_int_t) self->ts,
                              "body", body);
    char *text = root ? json_dumps (root, JSON_COMPACT) : NULL;
    json_decref (root);
    if (!text)
        proto_error_set (error, PROTO_ERR_ENVELOPE, "envelope: src is not valid UTF-8");
    return text;
}

int
proto_msg_add_change (proto_msg_t *self, const char *key, proto_op_t op, json_t *value)
{
    assert (self);
    assert (self->type == PROTO_MSG_STATE_CHANGED);
    proto_state_changed_t *body = &self->state_changed;
    if (strlen (key) > PROTO_KEY_MAX)
        return -1;
    proto_change_t *grown =
        realloc (body->changes, (body->change_count + 1) * sizeof (proto_change_t));
    if (!grown)
        return -1;
    body->changes = grown;
    proto_change_t *change = &body->changes[body->change_count++];
    strcpy (change->key, key);
    change->op = op;
    change->value = json_incref (value);
    return 0;
}


const char *
proto_msg_service (const proto_msg_t *self)
{
    assert (self);
    if (self->type <= PROTO_MSG_UNKNOWN || self->type >= PROTO_MSG_COUNT)
        return NULL;
    for (const s_field_t *field = s_catalogue[self->type].fields; field->name; field++)
        if (field->kind == S_STR && strcmp (field->name, "service") == 0)
            return (const char *) s_body ((proto_msg_t *) self) + field->offset;
    return NULL;
}

const char *
proto_msg_topic (proto_msg_type_t type)
{
    if (type < 0 || type >= PROTO_MSG_COUNT)
        return "";
    return s_catalogue[type].topic;
}

proto_msg_type_t
proto_msg_type_from_topic (const char *topic)
{
    for (int type = 1; type < PROTO_MSG_COUNT; type++)
        if (streq (s_catalogue[type].topic, topic))
            return (proto_msg_type_t) type;
    return PROTO_MSG_UNKNOWN;
}

static const char *
s_name_of (const char *const *choices, int value)
{
    for (int index = 0; choices[index]; index++)
        if (index == value)
            return choices[index][0] ? choices[index] : "none";
    return "?";
}

const char *
proto_via_name (proto_via_t via)
{
    return s_name_of (s_via_names, via);
}

const char *
proto_reason_name (proto_reason_t reason)
{
    return s_name_of (s_reason_names, reason);
}

const char *
proto_tier_name (proto_tier_t tier)
{
    return s_name_of (s_tier_names, tier);
}

const char *
proto_mode_name (proto_mode_t mode)
{
    return s_name_of (s_mode_names, mode);
}

int
proto_reason_parse (const char *name, proto_reason_t *reason)
{
    int index = s_choice_index (s_reason_names, name);
    if (index < 0)
        return -1;
    *reason = (proto_reason_t) index;
    return 0;
}

int
proto_mode_parse (const char *name, proto_mode_t *mode)
{
    int index = s_choice_index (s_mode_names, name);
    if (index < 0)
        return -1;
    *mode = (proto_mode_t) index;
    return 0;
}

int
proto_copy (char *dst, size_t size, const char *src)
{
    assert (size > 0);
    size_t length = strlen (src);
    if (length >= size) {
        memcpy (dst, src, size - 1);
        dst[size - 1] = '\0';
        return -1;
    }
    memcpy (dst, src, length + 1);
    return 0;
}
