/*  statestore_request: the frames, the JSON and the fields of one request.  */

#include "statestore_key.h"
#include "statestore_request.h"

#define S_AUTHOR_MAX  63
#define S_MESSAGE_MAX 1023

static bool
s_is_write (const char *op)
{
    return streq (op, "put") || streq (op, "del") || streq (op, "tx");
}

static bool
s_is_read (const char *op)
{
    return streq (op, "get") || streq (op, "list") || streq (op, "snapshot") || streq (op, "log")
           || streq (op, "get_at") || streq (op, "diff");
}

void
statestore_request_parse (statestore_request_t *self, zmsg_t *msg, statestore_stats_t *stats)
{
    assert (self);
    statestore_fault_t fault;
    self->identity = zmsg_pop (msg);
    zframe_t *payload = zmsg_pop (msg);
    if (payload && zframe_size (payload) == 0 && zmsg_size (msg) == 1) {
        self->delimiter = true;  // [identity][""][json] from a REQ socket
        zframe_destroy (&payload);
        payload = zmsg_pop (msg);
    }
    self->reply = json_object ();
    if (!payload || zmsg_size (msg) > 0)
        statestore_fault_set (&fault, STATESTORE_BAD_REQUEST, "a request is one JSON frame");
    else if (zframe_size (payload) > STATESTORE_REQUEST_MAX)
        statestore_fault_set (&fault, STATESTORE_TOO_LARGE, "request of %zu bytes, limit %d",
                              zframe_size (payload), STATESTORE_REQUEST_MAX);
    else {
        json_error_t error;
        self->request = json_loadb ((const char *) zframe_data (payload), zframe_size (payload),
                                    JSON_REJECT_DUPLICATES, &error);
        json_t *id = json_object_get (self->request, "id");
        const char *op = json_string_value (json_object_get (self->request, "op"));
        if (!self->request)
            statestore_fault_set (&fault, STATESTORE_BAD_REQUEST, "not JSON: %s", error.text);
        else if (!json_is_object (self->request))
            statestore_fault_set (&fault, STATESTORE_BAD_REQUEST, "a request is a JSON object");
        else if (!json_is_integer (id) || json_integer_value (id) < 0)
            statestore_fault_set (&fault, STATESTORE_BAD_REQUEST, "id must be an integer >= 0");
        else if (!op || (!s_is_write (op) && !s_is_read (op)))
            statestore_fault_set (&fault, STATESTORE_BAD_REQUEST, "unknown op \"%.32s\"",
                                  op ? op : "(none)");
        else {
            self->op = op;
            self->is_write = s_is_write (op);
            json_object_set (self->reply, "id", id);
            json_object_set_new (self->reply, "ok", json_true ());
            const char *client = json_string_value (json_object_get (self->request, "client"));
            if (self->is_write && client && strlen (client) <= PROTO_NAME_MAX)
                snprintf (self->dedup_key, sizeof self->dedup_key, "%s#%lld", client,
                          (long long) json_integer_value (id));
            zframe_destroy (&payload);
            return;
        }
    }
    zframe_destroy (&payload);
    statestore_request_fail (self, &fault, stats);
    self->op = NULL;
}

void
statestore_request_fail (statestore_request_t *self, const statestore_fault_t *fault,
                         statestore_stats_t *stats)
{
    assert (self);
    json_t *id = self->request ? json_object_get (self->request, "id") : NULL;
    json_decref (self->reply);
    self->reply = json_pack ("{s:O, s:b, s:s, s:s}", "id", id ? id : json_null (), "ok", 0,
                             "error", fault->code, "message", fault->message);
    statestore_stats_fault (stats, fault->code);
}

void
statestore_request_clear (statestore_request_t *self)
{
    assert (self);
    zchunk_destroy (&self->reply_text);
    zframe_destroy (&self->identity);
    json_decref (self->request);
    json_decref (self->reply);
    memset (self, 0, sizeof *self);
}

static int
s_check_key (const char *key, const char *where, statestore_fault_t *fault)
{
    char reason[128];
    if (!key)
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST,
                                     "%s: key missing or not a string", where);
    if (statestore_key_check (key, reason, sizeof reason))
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST, "%s: %.64s: %s", where, key,
                                     reason);
    return 0;
}

//  Parse one op object {op?, key, value?, expect_rev?} of kind PUT (or del) into OP.
static int
s_parse_op (json_t *object, bool put, const char *where, statestore_op_t *op,
            statestore_fault_t *fault)
{
    op->key = json_string_value (json_object_get (object, "key"));
    op->value = put ? json_object_get (object, "value") : NULL;
    json_t *expect = json_object_get (object, "expect_rev");
    op->expect_rev = -1;
    if (s_check_key (op->key, where, fault))
        return -1;
    if (put && !op->value)
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST, "%s: put needs a value", where);
    if (expect) {
        if (!json_is_integer (expect) || json_integer_value (expect) < 0)
            return statestore_fault_set (fault, STATESTORE_BAD_REQUEST,
                                         "%s: expect_rev must be an integer >= 0", where);
        op->expect_rev = json_integer_value (expect);
    }
    if (put && json_dumpb (op->value, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY)
                   > STATESTORE_VALUE_MAX)
        return statestore_fault_set (fault, STATESTORE_TOO_LARGE,
                                     "%s: %s: value over %d bytes", where,
                                     op->key, STATESTORE_VALUE_MAX);
    return 0;
}

int
statestore_request_ops (statestore_request_t *self, statestore_op_t *ops,
                        statestore_fault_t *fault)
{
    assert (self);
    const char *op = self->op;
    if (!streq (op, "tx"))
        return s_parse_op (self->request, streq (op, "put"), op, &ops[0], fault) ? -1 : 1;
    json_t *items = json_object_get (self->request, "ops");
    if (!json_is_array (items) || json_array_size (items) == 0)
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST,
                                     "tx: ops must be a non-empty array");
    if (json_array_size (items) > STATESTORE_TX_MAX)
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST, "tx: more than %d ops",
                                     STATESTORE_TX_MAX);
    size_t index;
    json_t *item;
    json_array_foreach (items, index, item) {
        char where[32];
        snprintf (where, sizeof where, "tx ops[%zu]", index);
        const char *kind = json_string_value (json_object_get (item, "op"));
        if (!json_is_object (item) || !kind || (!streq (kind, "put") && !streq (kind, "del")))
            return statestore_fault_set (fault, STATESTORE_BAD_REQUEST,
                                         "%s: expected {\"op\":\"put\"|\"del\", \"key\":...}",
                                         where);
        if (s_parse_op (item, streq (kind, "put"), where, &ops[index], fault))
            return -1;
    }
    return (int) json_array_size (items);
}

int
statestore_request_signature (statestore_request_t *self, const char **author,
                              const char **message, statestore_fault_t *fault)
{
    assert (self);
    json_t *author_json = json_object_get (self->request, "author");
    json_t *message_json = json_object_get (self->request, "message");
    *author = author_json ? json_string_value (author_json) : "unknown";
    *message = message_json ? json_string_value (message_json) : NULL;
    if (!*author || !**author || strlen (*author) > S_AUTHOR_MAX || strpbrk (*author, "<>\n"))
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST,
                                     "author: 1 to %d characters, without <, > or newlines",
                                     S_AUTHOR_MAX);
    if (message_json && (!*message || strlen (*message) > S_MESSAGE_MAX))
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST,
                                     "message: a string of at most %d "
                                     "bytes", S_MESSAGE_MAX);
    return 0;
}

int
statestore_request_key (statestore_request_t *self, const char *where, const char **key,
                        statestore_fault_t *fault)
{
    assert (self);
    *key = json_string_value (json_object_get (self->request, "key"));
    return s_check_key (*key, where, fault);
}

int
statestore_request_prefix (statestore_request_t *self, const char **prefix,
                           statestore_fault_t *fault)
{
    assert (self);
    json_t *value = json_object_get (self->request, "prefix");
    char reason[128];
    *prefix = value ? json_string_value (value) : "";
    if (!*prefix)
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST, "prefix must be a string");
    if (statestore_key_check_prefix (*prefix, reason, sizeof reason))
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST,
                                     "prefix %.64s: %s", *prefix, reason);
    return 0;
}

int
statestore_request_integer (statestore_request_t *self, const char *name, int64_t min,
                            int64_t *value, statestore_fault_t *fault)
{
    assert (self);
    json_t *field = json_object_get (self->request, name);
    if (!field)
        return 0;
    if (!json_is_integer (field) || json_integer_value (field) < min)
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST, "%s must be an integer >= %lld",
                                     name, (long long) min);
    *value = json_integer_value (field);
    return 0;
}
