/*  statestore_server: parsing requests, grouping writes into durable commits, answering.

    A request goes through explicit stages: parsed (or refused with bad_request/too_large),
    then, for writes, applied to the in-memory tree and committed, then the group is flushed to
    disk, then reads are answered from the tree and history, then every reply is sent.  */

#include "statestore_fault.h"
#include "statestore_history.h"
#include "statestore_key.h"
#include "statestore_repack.h"
#include "statestore_repo.h"
#include "statestore_server.h"
#include "statestore_tree.h"

#define S_AUTHOR_MAX  63
#define S_MESSAGE_MAX 1023
#define S_EVENT_BUDGET 60000  // bytes of values a state.changed may carry

//  Counters reported in svc.alive.
typedef struct {
    uint64_t requests;
    uint64_t writes;
    uint64_t commits;
    uint64_t groups;              // flushes: one pack and one ref update each
    uint64_t unchanged;           // writes that changed nothing and made no commit
    uint64_t dedup_hits;          // retried writes answered from the reply cache
    uint64_t not_found;
    uint64_t conflict;
    uint64_t bad_request;
    uint64_t too_large;
    uint64_t internal;
    uint64_t repacks;
    uint64_t repack_failures;
    uint64_t group_max;           // largest group seen
} s_stats_t;

//  One write's prior state of one key, to undo it.
typedef struct {
    char *key;                    // owned
    json_t *value;                // owned; NULL when the key did not exist
    int64_t mod_rev;
} s_undo_t;

//  One request of a group, through its stages.
typedef struct {
    zframe_t *identity;           // owned: the client's routing id
    bool delimiter;               // a REQ client: echo the empty frame
    json_t *request;              // owned; NULL when it did not parse
    json_t *reply;                // owned; built as the request is handled
    zchunk_t *reply_text;         // owned: a reply already serialised (snapshot), or NULL
    const char *op;               // borrowed from request
    bool is_write;
    char dedup_key[PROTO_NAME_MAX + 32];  // "client#id" for writes that name a client
} s_request_t;

//  One parsed op of a write: put (value set) or del.
typedef struct {
    const char *key;              // borrowed from the request
    json_t *value;                // borrowed; NULL for del
    int64_t expect_rev;           // -1 when not given
} s_op_t;

struct _statestore_server_t {
    const statestore_config_t *config;  // borrowed
    zsock_t *router;              // owned: the request socket
    proto_pub_t *pub;             // owned: state.changed and svc.alive
    statestore_repo_t *repo;      // owned
    statestore_tree_t *tree;      // owned: the current state
    statestore_repack_t *repacker;  // owned
    bool repacking;
    int64_t unpacked_since;       // zclock_mono when a second pack was first seen
    s_request_t *group;           // owned array of config->batch_max requests
    s_undo_t *undo;               // owned: undo records of the current group
    size_t undo_count;
    size_t undo_capacity;
    zlist_t *events;              // owned: proto_msg_t * to publish after the flush
    zhashx_t *dedup;              // owned: dedup_key -> reply text
    zlist_t *dedup_order;         // owned: keys in insertion order, for eviction
    s_op_t ops[STATESTORE_TX_MAX];
    s_stats_t stats;
};

static void
s_undo_push (statestore_server_t *self, const char *key, json_t *value, int64_t mod_rev)
{
    if (self->undo_count == self->undo_capacity) {
        self->undo_capacity = self->undo_capacity ? self->undo_capacity * 2 : 64;
        self->undo = (s_undo_t *) realloc (self->undo, self->undo_capacity * sizeof (s_undo_t));
    }
    self->undo[self->undo_count++] = (s_undo_t){strdup (key), json_incref (value), mod_rev};
}

//  Undo the newest records until only KEEP remain.
static void
s_undo_to (statestore_server_t *self, size_t keep)
{
    char reason[64];
    while (self->undo_count > keep) {
        s_undo_t *record = &self->undo[--self->undo_count];
        if (record->value)
            statestore_tree_put (self->tree, record->key, record->value, record->mod_rev, reason,
                                 sizeof reason);
        else
            statestore_tree_del (self->tree, record->key);
        free (record->key);
    }
}

//  Forget the undo records: the group is durable.
static void
s_undo_clear (statestore_server_t *self)
{
    for (size_t index = 0; index < self->undo_count; index++) {
        free (self->undo[index].key);
        json_decref (self->undo[index].value);
    }
    self->undo_count = 0;
}

static int
s_track_object (const git_oid *oid, void *argument)
{
    return statestore_repo_track ((statestore_repo_t *) argument, oid);
}

static void
s_count_fault (statestore_server_t *self, const char *code)
{
    if (streq (code, STATESTORE_NOT_FOUND))
        self->stats.not_found++;
    else if (streq (code, STATESTORE_CONFLICT))
        self->stats.conflict++;
    else if (streq (code, STATESTORE_BAD_REQUEST))
        self->stats.bad_request++;
    else if (streq (code, STATESTORE_TOO_LARGE))
        self->stats.too_large++;
    else
        self->stats.internal++;
}

//  Make REQUEST's reply an error.
static void
s_fail (statestore_server_t *self, s_request_t *request, const statestore_fault_t *fault)
{
    json_t *id = request->request ? json_object_get (request->request, "id") : NULL;
    json_decref (request->reply);
    request->reply = json_pack ("{s:O, s:b, s:s, s:s}", "id", id ? id : json_null (), "ok", 0,
                                "error", fault->code, "message", fault->message);
    s_count_fault (self, fault->code);
}

//  The hex id of the commit of REV, "" for 0.
static const char *
s_commit_hex (statestore_server_t *self, int64_t rev, char *buffer)
{
    git_oid commit;
    if (statestore_repo_commit_at (self->repo, rev, &commit))
        return "";
    return git_oid_tostr (buffer, GIT_OID_HEXSZ + 1, &commit);
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
s_parse_op (json_t *object, bool put, const char *where, s_op_t *op, statestore_fault_t *fault)
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

//  Parse a write request into self->ops. Returns the number of ops, or -1 with FAULT.
static int
s_parse_write (statestore_server_t *self, json_t *request, const char *op,
               statestore_fault_t *fault)
{
    if (!streq (op, "tx"))
        return s_parse_op (request, streq (op, "put"), op, &self->ops[0], fault) ? -1 : 1;
    json_t *ops = json_object_get (request, "ops");
    if (!json_is_array (ops) || json_array_size (ops) == 0)
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST,
                                     "tx: ops must be a non-empty array");
    if (json_array_size (ops) > STATESTORE_TX_MAX)
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST, "tx: more than %d ops",
                                     STATESTORE_TX_MAX);
    size_t index;
    json_t *item;
    json_array_foreach (ops, index, item) {
        char where[32];
        snprintf (where, sizeof where, "tx ops[%zu]", index);
        const char *kind = json_string_value (json_object_get (item, "op"));
        if (!json_is_object (item) || !kind || (!streq (kind, "put") && !streq (kind, "del")))
            return statestore_fault_set (fault, STATESTORE_BAD_REQUEST,
                                         "%s: expected {\"op\":\"put\"|\"del\", \"key\":...}",
                                         where);
        if (s_parse_op (item, streq (kind, "put"), where, &self->ops[index], fault))
            return -1;
    }
    return (int) json_array_size (ops);
}

//  Apply COUNT ops as one atomic change at revision REV; record undo records and CHANGES
//  (a state.changed message). Returns the number of keys changed, or -1 with FAULT (nothing
//  applied).
static int
s_apply (statestore_server_t *self, int count, int64_t rev, proto_msg_t *changes,
         statestore_fault_t *fault)
{
    size_t undo_mark = self->undo_count;
    int changed = 0;
    size_t budget = S_EVENT_BUDGET;
    for (int index = 0; index < count; index++) {
        s_op_t *op = &self->ops[index];
        int64_t mod_rev = 0;
        json_t *current = statestore_tree_get (self->tree, op->key, &mod_rev);
        char reason[256];
        int rc = 0;
        if (op->expect_rev >= 0 && (current ? mod_rev : 0) != op->expect_rev)
            rc = statestore_fault_set (fault, STATESTORE_CONFLICT,
                                       "%s: expect_rev %lld, but it is %lld",
                                       op->key, (long long) op->expect_rev,
                                       (long long) (current ? mod_rev : 0));
        else if (!op->value && !current)
            rc = statestore_fault_set (fault, STATESTORE_NOT_FOUND, "%s: no such key", op->key);
        else if (op->value && current && json_equal (current, op->value))
            continue;  // nothing to change
        else {
            s_undo_push (self, op->key, current, mod_rev);
            if (op->value
                && statestore_tree_put (self->tree, op->key, json_incref (op->value), rev, reason,
                                        sizeof reason))
                rc = statestore_fault_set (fault, STATESTORE_CONFLICT, "%s", reason);
            else if (!op->value)
                statestore_tree_del (self->tree, op->key);
        }
        if (rc) {
            s_undo_to (self, undo_mark);
            proto_msg_reset (changes);
            return -1;
        }
        //  The event carries the new values while they fit; a replica fetches the rest.
        size_t size = op->value ? json_dumpb (op->value, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY)
                                : 0;
        size_t key_size = strlen (op->key) + 32;
        json_t *carried = NULL;
        if (budget >= key_size + size) {
            carried = op->value;
            budget -= key_size + size;
        }
        else if (budget >= key_size)
            budget -= key_size;
        else {
            changes->state_changed.truncated = true;
            changed++;
            continue;
        }
        proto_msg_add_change (changes, op->key, op->value ? PROTO_OP_PUT : PROTO_OP_DEL, carried);
        changed++;
    }
    return changed;
}

//  Validate the author and message of a write. Returns 0, or -1 with FAULT.
static int
s_check_signature (json_t *request, const char **author, const char **message,
                   statestore_fault_t *fault)
{
    json_t *author_json = json_object_get (request, "author");
    json_t *message_json = json_object_get (request, "message");
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

//  Handle one write: apply it and create its commit (pending until the group's flush).
static void
s_handle_write (statestore_server_t *self, s_request_t *request)
{
    statestore_fault_t fault;
    const char *author, *message;
    self->stats.writes++;
    int count = s_parse_write (self, request->request, request->op, &fault);
    if (count < 0 || s_check_signature (request->request, &author, &message, &fault)) {
        s_fail (self, request, &fault);
        return;
    }
    int64_t rev = statestore_repo_rev (self->repo) + 1;
    proto_msg_t *event = (proto_msg_t *) zmalloc (sizeof (proto_msg_t));
    proto_msg_init (event, PROTO_MSG_STATE_CHANGED);
    size_t undo_mark = self->undo_count;
    int changed = s_apply (self, count, rev, event, &fault);
    if (changed < 0) {
        s_fail (self, request, &fault);
        free (event);
        return;
    }
    char hex[GIT_OID_HEXSZ + 1];
    if (changed == 0) {
        //  Nothing changed: no commit, and the reply says where the state stands.
        self->stats.unchanged++;
        free (event);
        int64_t current = statestore_repo_rev (self->repo);
        json_object_set_new (request->reply, "rev", json_integer (current));
        json_object_set_new (request->reply, "commit",
                             json_string (s_commit_hex (self, current, hex)));
        json_object_set_new (request->reply, "unchanged", json_true ());
        return;
    }
    //  The message: a summary line, then trailers that history queries read.
    zchunk_t *text = zchunk_new (NULL, 256);
    char *line = message ? zsys_sprintf ("%.*s\n\n", (int) strcspn (message, "\n"), message)
                 : count == 1 ? zsys_sprintf ("%s %s\n\n", self->ops[0].value ? "put" : "del",
                                              self->ops[0].key)
                              : zsys_sprintf ("tx: %d ops\n\n", count);
    zchunk_extend (text, line, strlen (line));
    zstr_free (&line);
    line = zsys_sprintf ("Jitsu-Rev: %lld\n", (long long) rev);
    zchunk_extend (text, line, strlen (line));
    zstr_free (&line);
    for (int index = 0; index < count; index++) {
        line = zsys_sprintf ("Jitsu-Change: %s %s\n", self->ops[index].value ? "put" : "del",
                             self->ops[index].key);
        zchunk_extend (text, line, strlen (line));
        zstr_free (&line);
    }
    zchunk_extend (text, "", 1);
    git_oid root, commit;
    if (statestore_tree_write (self->tree, statestore_repo_builder (self->repo), &root,
                               s_track_object, self->repo)
        || statestore_repo_commit (self->repo, &root, author, (char *) zchunk_data (text), &commit)
               != rev) {
        s_undo_to (self, undo_mark);
        statestore_fault_set (&fault, STATESTORE_INTERNAL, "commit failed: %s",
                              git_error_last () ? git_error_last ()->message : "?");
        s_fail (self, request, &fault);
        proto_msg_reset (event);
        free (event);
    }
    else {
        self->stats.commits++;
        event->state_changed.rev = rev;
        git_oid_tostr (event->state_changed.commit, sizeof event->state_changed.commit, &commit);
        zlist_append (self->events, event);
        json_object_set_new (request->reply, "rev", json_integer (rev));
        json_object_set_new (request->reply, "commit", json_string (git_oid_tostr_s (&commit)));
    }
    zchunk_destroy (&text);
}

//  The snapshot reply being written.
typedef struct {
    zchunk_t *chunk;
    bool first;
} s_snapshot_t;

//  Append one snapshot entry to the reply text. Keys need no escaping: their characters are
//  [A-Za-z0-9._/-]; the value text is JSON already.
static int
s_add_entry_text (const char *key, const char *text, int64_t mod_rev, void *argument)
{
    s_snapshot_t *snapshot = (s_snapshot_t *) argument;
    const char *open = snapshot->first ? "{\"key\":\"" : ",{\"key\":\"";
    snapshot->first = false;
    zchunk_extend (snapshot->chunk, open, strlen (open));
    zchunk_extend (snapshot->chunk, key, strlen (key));
    zchunk_extend (snapshot->chunk, "\",\"value\":", 10);
    zchunk_extend (snapshot->chunk, text, strlen (text));
    char tail[48];
    int length = snprintf (tail, sizeof tail, ",\"mod_rev\":%lld}", (long long) mod_rev);
    zchunk_extend (snapshot->chunk, tail, (size_t) length);
    return 0;
}

//  A snapshot reply, serialised directly: at 10 000 keys building it as a JSON tree first
//  costs several times more than the rest of the request.
static zchunk_t *
s_snapshot_text (statestore_server_t *self, json_t *id, const char *prefix)
{
    char hex[GIT_OID_HEXSZ + 1];
    int64_t rev = statestore_repo_durable_rev (self->repo);
    char *head = zsys_sprintf ("{\"id\":%lld,\"ok\":true,\"rev\":%lld,\"commit\":\"%s\","
                               "\"entries\":[",
                               (long long) json_integer_value (id), (long long) rev,
                               s_commit_hex (self, rev, hex));
    s_snapshot_t snapshot = {zchunk_new (NULL, 64 + 160 * statestore_tree_size (self->tree)),
                             true};
    zchunk_extend (snapshot.chunk, head, strlen (head));
    zstr_free (&head);
    statestore_tree_foreach_text (self->tree, prefix, s_add_entry_text, &snapshot);
    zchunk_extend (snapshot.chunk, "]}", 3);  // with the terminating NUL
    return snapshot.chunk;
}

static int
s_add_key (const char *key, json_t *value, int64_t mod_rev, void *argument)
{
    json_array_append_new ((json_t *) argument, json_string (key));
    return 0;
}

//  The optional string PREFIX of a request ("" when absent). Returns 0, or -1 with FAULT.
static int
s_prefix (json_t *request, const char **prefix, statestore_fault_t *fault)
{
    json_t *value = json_object_get (request, "prefix");
    char reason[128];
    *prefix = value ? json_string_value (value) : "";
    if (!*prefix)
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST, "prefix must be a string");
    if (statestore_key_check_prefix (*prefix, reason, sizeof reason))
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST,
                                     "prefix %.64s: %s", *prefix, reason);
    return 0;
}

//  An optional integer field NAME >= MIN of REQUEST into VALUE. Returns 0, or -1 with FAULT.
static int
s_integer (json_t *request, const char *name, int64_t min, int64_t *value,
           statestore_fault_t *fault)
{
    json_t *field = json_object_get (request, name);
    if (!field)
        return 0;
    if (!json_is_integer (field) || json_integer_value (field) < min)
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST, "%s must be an integer >= %lld",
                                     name, (long long) min);
    *value = json_integer_value (field);
    return 0;
}

//  Answer a read from the tree or the history.
static void
s_handle_read (statestore_server_t *self, s_request_t *request)
{
    json_t *body = request->request;
    json_t *reply = request->reply;
    const char *op = request->op;
    statestore_fault_t fault;
    int64_t rev = statestore_repo_durable_rev (self->repo);
    const char *key = json_string_value (json_object_get (body, "key"));
    const char *prefix;
    int rc = 0;
    if (streq (op, "get")) {
        int64_t mod_rev = 0;
        json_t *value = NULL;
        if (!(rc = s_check_key (key, "get", &fault))
            && !(value = statestore_tree_get (self->tree, key, &mod_rev)))
            rc = statestore_fault_set (&fault, STATESTORE_NOT_FOUND, "%s: no such key", key);
        if (rc == 0) {
            json_object_set_new (reply, "rev", json_integer (rev));
            json_object_set_new (reply, "key", json_string (key));
            json_object_set (reply, "value", value);
            json_object_set_new (reply, "mod_rev", json_integer (mod_rev));
        }
    }
    else if (streq (op, "snapshot")) {
        if (!(rc = s_prefix (body, &prefix, &fault)))
            request->reply_text = s_snapshot_text (self, json_object_get (body, "id"), prefix);
    }
    else if (streq (op, "list")) {
        if (!(rc = s_prefix (body, &prefix, &fault))) {
            json_t *keys = json_array ();
            statestore_tree_foreach (self->tree, prefix, s_add_key, keys);
            json_object_set_new (reply, "rev", json_integer (rev));
            json_object_set_new (reply, "keys", keys);
        }
    }
    else if (streq (op, "log")) {
        int64_t limit = 20, since = 0;
        json_t *values = json_object_get (body, "values");
        if (!(rc = s_prefix (body, &prefix, &fault))
            && !(rc = s_integer (body, "limit", 1, &limit, &fault))
            && !(rc = s_integer (body, "since", 0, &since, &fault)) && values
            && !json_is_boolean (values))
            rc = statestore_fault_set (&fault, STATESTORE_BAD_REQUEST, "values must be true or "
                                                                       "false");
        if (rc == 0)
            rc = statestore_history_log (self->repo, prefix,
                                         (int) (limit > STATESTORE_LOG_MAX ? STATESTORE_LOG_MAX
                                                                           : limit),
                                         since, json_is_true (values), reply, &fault);
    }
    else if (streq (op, "get_at")) {
        int64_t at = 0;
        const char *commit = json_string_value (json_object_get (body, "commit"));
        if (!(rc = s_check_key (key, "get_at", &fault))
            && !(rc = s_integer (body, "rev", 1, &at, &fault)) && at == 0 && !commit)
            rc = statestore_fault_set (&fault, STATESTORE_BAD_REQUEST,
                                       "get_at needs rev or commit");
        if (rc == 0)
            rc = statestore_history_get_at (self->repo, key, at, commit, reply, &fault);
    }
    else if (streq (op, "diff")) {
        int64_t from = -1, to = -1;
        if (!(rc = s_integer (body, "from", 0, &from, &fault))
            && !(rc = s_integer (body, "to", 0, &to, &fault)) && (from < 0 || to < 0))
            rc = statestore_fault_set (&fault, STATESTORE_BAD_REQUEST, "diff needs from and to");
        if (rc == 0)
            rc = statestore_history_diff (self->repo, from, to, reply, &fault);
    }
    if (rc)
        s_fail (self, request, &fault);
}

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

//  Stage 1: split the frames, parse the JSON, check id and op.
static void
s_parse (statestore_server_t *self, s_request_t *request, zmsg_t *msg)
{
    statestore_fault_t fault;
    request->identity = zmsg_pop (msg);
    zframe_t *payload = zmsg_pop (msg);
    if (payload && zframe_size (payload) == 0 && zmsg_size (msg) == 1) {
        request->delimiter = true;  // [identity][""][json] from a REQ socket
        zframe_destroy (&payload);
        payload = zmsg_pop (msg);
    }
    request->reply = json_object ();
    if (!payload || zmsg_size (msg) > 0)
        statestore_fault_set (&fault, STATESTORE_BAD_REQUEST, "a request is one JSON frame");
    else if (zframe_size (payload) > STATESTORE_REQUEST_MAX)
        statestore_fault_set (&fault, STATESTORE_TOO_LARGE, "request of %zu bytes, limit %d",
                              zframe_size (payload), STATESTORE_REQUEST_MAX);
    else {
        json_error_t error;
        request->request = json_loadb ((const char *) zframe_data (payload),
                                       zframe_size (payload), JSON_REJECT_DUPLICATES, &error);
        json_t *id = json_object_get (request->request, "id");
        const char *op = json_string_value (json_object_get (request->request, "op"));
        if (!request->request)
            statestore_fault_set (&fault, STATESTORE_BAD_REQUEST, "not JSON: %s", error.text);
        else if (!json_is_object (request->request))
            statestore_fault_set (&fault, STATESTORE_BAD_REQUEST, "a request is a JSON object");
        else if (!json_is_integer (id) || json_integer_value (id) < 0)
            statestore_fault_set (&fault, STATESTORE_BAD_REQUEST, "id must be an integer >= 0");
        else if (!op || (!s_is_write (op) && !s_is_read (op)))
            statestore_fault_set (&fault, STATESTORE_BAD_REQUEST, "unknown op \"%.32s\"",
                                  op ? op : "(none)");
        else {
            request->op = op;
            request->is_write = s_is_write (op);
            json_object_set (request->reply, "id", id);
            json_object_set_new (request->reply, "ok", json_true ());
            const char *client = json_string_value (json_object_get (request->request, "client"));
            if (request->is_write && client && strlen (client) <= PROTO_NAME_MAX)
                snprintf (request->dedup_key, sizeof request->dedup_key, "%s#%lld", client,
                          (long long) json_integer_value (id));
            zframe_destroy (&payload);
            return;
        }
    }
    zframe_destroy (&payload);
    s_fail (self, request, &fault);
    request->op = NULL;
}

//  Remember a write's reply for retries of the same request.
static void
s_dedup_remember (statestore_server_t *self, const char *key, const char *text)
{
    if (zhashx_lookup (self->dedup, key))
        return;
    if (zlist_size (self->dedup_order) >= STATESTORE_DEDUP_MAX) {
        char *oldest = (char *) zlist_pop (self->dedup_order);
        zhashx_delete (self->dedup, oldest);
        free (oldest);
    }
    zhashx_insert (self->dedup, key, strdup (text));
    zlist_append (self->dedup_order, strdup (key));
}

static void
s_send_reply (statestore_server_t *self, s_request_t *request, const char *text)
{
    zmsg_t *reply = zmsg_new ();
    zmsg_append (reply, &request->identity);
    if (request->delimiter)
        zmsg_addmem (reply, "", 0);
    zmsg_addstr (reply, text);
    zmsg_send (&reply, self->router);
}

static void
s_publish_events (statestore_server_t *self)
{
    proto_msg_t *event;
    while ((event = (proto_msg_t *) zlist_pop (self->events))) {
        proto_pub_send (self->pub, event);
        free (event);
    }
}

static void
s_maybe_repack (statestore_server_t *self)
{
    size_t packs = statestore_repo_packs (self->repo);
    if (self->repacking || packs < 2)
        return;
    if (self->unpacked_since == 0)
        self->unpacked_since = zclock_mono ();
    bool many = packs >= (size_t) self->config->repack_packs;
    bool old = zclock_mono () - self->unpacked_since >= self->config->repack_interval_s * 1000;
    if (many || old) {
        self->repacking = true;
        zstr_send (statestore_repack_sock (self->repacker), "REPACK");
    }
}

//  Handle COUNT requests as one group.
static void
s_handle_group (statestore_server_t *self, size_t count)
{
    self->stats.groups++;
    if (count > self->stats.group_max)
        self->stats.group_max = count;
    //  Writes, in order; retried ones are answered from the cache.
    for (size_t index = 0; index < count; index++) {
        s_request_t *request = &self->group[index];
        if (!request->op || !request->is_write)
            continue;
        if (*request->dedup_key && zhashx_lookup (self->dedup, request->dedup_key)) {
            self->stats.dedup_hits++;
            continue;
        }
        s_handle_write (self, request);
    }
    if (statestore_repo_flush (self->repo)) {
        //  Nothing of this group is on disk: put the tree back and refuse every write of it.
        s_undo_to (self, 0);
        statestore_fault_t fault;
        statestore_fault_set (&fault, STATESTORE_INTERNAL, "the repository could not be written; "
                              "nothing was stored");
        for (size_t index = 0; index < count; index++)
            if (self->group[index].op && self->group[index].is_write
                && json_is_true (json_object_get (self->group[index].reply, "ok")))
                s_fail (self, &self->group[index], &fault);
        proto_msg_t *event;
        while ((event = (proto_msg_t *) zlist_pop (self->events))) {
            proto_msg_reset (event);
            free (event);
        }
    }
    s_undo_clear (self);
    //  Reads see every write of the group; then everyone is answered, in order.
    for (size_t index = 0; index < count; index++) {
        s_request_t *request = &self->group[index];
        if (request->op && !request->is_write)
            s_handle_read (self, request);
        char *text = NULL;
        const char *cached = *request->dedup_key && request->is_write
                                 ? (const char *) zhashx_lookup (self->dedup, request->dedup_key)
                                 : NULL;
        if (request->reply_text)
            cached = (const char *) zchunk_data (request->reply_text);
        else if (!cached) {
            text = json_dumps (request->reply, JSON_COMPACT);
            if (*request->dedup_key && request->is_write && text)
                s_dedup_remember (self, request->dedup_key, text);
        }
        s_send_reply (self, request, cached ? cached : text ? text : "{\"ok\":false}");
        free (text);
        zchunk_destroy (&request->reply_text);
        zframe_destroy (&request->identity);
        json_decref (request->request);
        json_decref (request->reply);
        memset (request, 0, sizeof *request);
    }
    s_publish_events (self);
    s_maybe_repack (self);
}

static int
s_on_request (zloop_t *loop, zsock_t *router, void *argument)
{
    statestore_server_t *self = (statestore_server_t *) argument;
    size_t count = 0;
    //  Everything already waiting joins the group, up to batch_max: the group commit.
    while (count < (size_t) self->config->batch_max && (zsock_events (router) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv (router);
        if (!msg)
            break;
        self->stats.requests++;
        s_parse (self, &self->group[count++], msg);
        zmsg_destroy (&msg);
    }
    if (count)
        s_handle_group (self, count);
    return 0;
}

static int
s_on_repacker (zloop_t *loop, zsock_t *pipe, void *argument)
{
    statestore_server_t *self = (statestore_server_t *) argument;
    zmsg_t *msg = zmsg_recv (pipe);
    char *status = msg ? zmsg_popstr (msg) : NULL;
    if (status && streq (status, "DONE")) {
        zlist_t *old_packs = zlist_new ();
        zlist_autofree (old_packs);
        char *name;
        while ((name = zmsg_popstr (msg))) {
            zlist_append (old_packs, name);
            zstr_free (&name);
        }
        if (statestore_repo_retire_packs (self->repo, old_packs) == 0) {
            self->stats.repacks++;
            zsys_info ("statestore: repacked replaced=%zu rev=%lld", zlist_size (old_packs),
                       (long long) statestore_repo_rev (self->repo));
        }
        else
            self->stats.repack_failures++;
        zlist_destroy (&old_packs);
    }
    else {
        char *reason = msg ? zmsg_popstr (msg) : NULL;
        zsys_warning ("statestore: repack failed: %s", reason ? reason : "?");
        zstr_free (&reason);
        self->stats.repack_failures++;
    }
    self->repacking = false;
    self->unpacked_since = 0;
    zstr_free (&status);
    zmsg_destroy (&msg);
    return 0;
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *argument)
{
    statestore_server_t *self = (statestore_server_t *) argument;
    proto_msg_t msg;
    proto_pub_alive (self->pub, &msg);
    const struct {
        const char *name;
        uint64_t value;
    } counters[] = {
        {"rev", (uint64_t) statestore_repo_rev (self->repo)},
        {"keys", statestore_tree_size (self->tree)},
        {"requests", self->stats.requests},
        {"writes", self->stats.writes},
        {"commits", self->stats.commits},
        {"groups", self->stats.groups},
        {"group_max", self->stats.group_max},
        {"unchanged", self->stats.unchanged},
        {"dedup_hits", self->stats.dedup_hits},
        {"errors_not_found", self->stats.not_found},
        {"errors_conflict", self->stats.conflict},
        {"errors_bad_request", self->stats.bad_request},
        {"errors_too_large", self->stats.too_large},
        {"errors_internal", self->stats.internal},
        {"repacks", self->stats.repacks},
        {"repack_failures", self->stats.repack_failures},
        {"packs", statestore_repo_packs (self->repo)},
    };
    for (size_t index = 0; index < sizeof counters / sizeof counters[0]; index++)
        proto_msg_add_counter (&msg, counters[index].name, (int64_t) counters[index].value);
    proto_pub_send (self->pub, &msg);
    s_maybe_repack (self);
    return 0;
}

statestore_server_t *
statestore_server_new (const statestore_config_t *config, char *reason, size_t reason_size)
{
    assert (config);
    statestore_server_t *self = (statestore_server_t *) zmalloc (sizeof (statestore_server_t));
    self->config = config;
    self->group = (s_request_t *) calloc (config->batch_max, sizeof (s_request_t));
    self->events = zlist_new ();
    self->dedup = zhashx_new ();
    zhashx_set_destructor (self->dedup, (zhashx_destructor_fn *) zstr_free);
    self->dedup_order = zlist_new ();
    self->tree = statestore_tree_new ();
    self->repo = statestore_repo_new (config->repo, reason, reason_size);
    if (!self->repo)
        goto failed;

    zhashx_t *mod_revs = statestore_repo_take_mod_revs (self->repo);
    git_oid root;
    int rc = statestore_repo_head_tree (self->repo, &root)
             || statestore_tree_load (self->tree, statestore_repo_git (self->repo), &root,
                                      mod_revs, reason, reason_size);
    zhashx_destroy (&mod_revs);
    if (rc)
        goto failed;

    if (proto_endpoints_prepare (config->endpoints.state)) {
        snprintf (reason, reason_size, "cannot create the directory of %s: %s",
                  config->endpoints.state, strerror (errno));
        goto failed;
    }
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router || zsock_bind (self->router, "%s", config->endpoints.state) < 0) {
        snprintf (reason, reason_size, "cannot bind %s: %s", config->endpoints.state,
                  zmq_strerror (zmq_errno ()));
        goto failed;
    }
    zsock_set_sndhwm (self->router, 100000);
    zsock_set_rcvhwm (self->router, 100000);
    self->pub = proto_pub_new (config->endpoints.bus_in, "statestore", config->instance);
    self->repacker = statestore_repack_new (statestore_repo_path (self->repo));
    if (!self->pub || !self->repacker) {
        snprintf (reason, reason_size, "cannot connect to the bus at %s",
                  config->endpoints.bus_in);
        goto failed;
    }
    zsys_info ("statestore: ready repo=%s rev=%lld keys=%zu endpoint=%s", config->repo,
               (long long) statestore_repo_rev (self->repo), statestore_tree_size (self->tree),
               config->endpoints.state);
    return self;
failed:
    statestore_server_destroy (&self);
    return NULL;
}

void
statestore_server_destroy (statestore_server_t **self_p)
{
    assert (self_p);
    statestore_server_t *self = *self_p;
    if (!self)
        return;
    statestore_repack_destroy (&self->repacker);
    proto_pub_destroy (&self->pub);
    zsock_destroy (&self->router);
    statestore_tree_destroy (&self->tree);
    statestore_repo_destroy (&self->repo);
    if (self->events) {
        proto_msg_t *event;
        while ((event = (proto_msg_t *) zlist_pop (self->events))) {
            proto_msg_reset (event);
            free (event);
        }
    }
    zlist_destroy (&self->events);
    s_undo_clear (self);
    free (self->undo);
    zhashx_destroy (&self->dedup);
    if (self->dedup_order) {
        char *key;
        while ((key = (char *) zlist_pop (self->dedup_order)))
            free (key);
    }
    zlist_destroy (&self->dedup_order);
    free (self->group);
    free (self);
    *self_p = NULL;
}

int
statestore_server_attach (statestore_server_t *self, zloop_t *loop)
{
    assert (self);
    if (zloop_reader (loop, self->router, s_on_request, self)
        || zloop_reader (loop, statestore_repack_sock (self->repacker), s_on_repacker, self)
        || zloop_timer (loop, self->config->heartbeat_ms, 0, s_on_tick, self) < 0)
        return -1;
    return 0;
}

int64_t
statestore_server_rev (statestore_server_t *self)
{
    assert (self);
    return statestore_repo_rev (self->repo);
}
