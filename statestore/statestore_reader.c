/*  statestore_reader: one function per read op, and the table that picks it.  */

#include "statestore_history.h"
#include "statestore_reader.h"

struct _statestore_reader_t {
    statestore_repo_t *repo;      // borrowed
    statestore_tree_t *tree;      // borrowed: the current state
    statestore_stats_t *stats;    // borrowed
};

//  Answer one read op of REQUEST at the durable revision REV. Returns 0, or -1 with FAULT.
typedef int(s_read_fn) (statestore_reader_t *self, statestore_request_t *request, int64_t rev,
                        statestore_fault_t *fault);

statestore_reader_t *
statestore_reader_new (statestore_repo_t *repo, statestore_tree_t *tree,
                       statestore_stats_t *stats)
{
    assert (repo);
    assert (tree);
    assert (stats);
    statestore_reader_t *self = (statestore_reader_t *) zmalloc (sizeof (statestore_reader_t));
    self->repo = repo;
    self->tree = tree;
    self->stats = stats;
    return self;
}

void
statestore_reader_destroy (statestore_reader_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

static int
s_get (statestore_reader_t *self, statestore_request_t *request, int64_t rev,
       statestore_fault_t *fault)
{
    const char *key;
    int64_t mod_rev = 0;
    json_t *value = NULL;
    if (statestore_request_key (request, "get", &key, fault))
        return -1;
    if (!(value = statestore_tree_get (self->tree, key, &mod_rev)))
        return statestore_fault_set (fault, STATESTORE_NOT_FOUND, "%s: no such key", key);
    json_object_set_new (request->reply, "rev", json_integer (rev));
    json_object_set_new (request->reply, "key", json_string (key));
    json_object_set (request->reply, "value", value);
    json_object_set_new (request->reply, "mod_rev", json_integer (mod_rev));
    return 0;
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
static int
s_snapshot (statestore_reader_t *self, statestore_request_t *request, int64_t rev,
            statestore_fault_t *fault)
{
    const char *prefix;
    if (statestore_request_prefix (request, &prefix, fault))
        return -1;
    char hex[GIT_OID_HEXSZ + 1];
    json_t *id = json_object_get (request->request, "id");
    char *head = zsys_sprintf ("{\"id\":%lld,\"ok\":true,\"rev\":%lld,\"commit\":\"%s\","
                               "\"entries\":[",
                               (long long) json_integer_value (id), (long long) rev,
                               statestore_repo_commit_hex (self->repo, rev, hex));
    s_snapshot_t snapshot = {zchunk_new (NULL, 64 + 160 * statestore_tree_size (self->tree)),
                             true};
    zchunk_extend (snapshot.chunk, head, strlen (head));
    zstr_free (&head);
    statestore_tree_foreach_text (self->tree, prefix, s_add_entry_text, &snapshot);
    zchunk_extend (snapshot.chunk, "]}", 3);  // with the terminating NUL
    request->reply_text = snapshot.chunk;
    return 0;
}

static int
s_add_key (const char *key, json_t *value, int64_t mod_rev, void *argument)
{
    json_array_append_new ((json_t *) argument, json_string (key));
    return 0;
}

static int
s_list (statestore_reader_t *self, statestore_request_t *request, int64_t rev,
        statestore_fault_t *fault)
{
    const char *prefix;
    if (statestore_request_prefix (request, &prefix, fault))
        return -1;
    json_t *keys = json_array ();
    statestore_tree_foreach (self->tree, prefix, s_add_key, keys);
    json_object_set_new (request->reply, "rev", json_integer (rev));
    json_object_set_new (request->reply, "keys", keys);
    return 0;
}

static int
s_log (statestore_reader_t *self, statestore_request_t *request, int64_t rev,
       statestore_fault_t *fault)
{
    const char *prefix;
    int64_t limit = 20, since = 0;
    json_t *values = json_object_get (request->request, "values");
    if (statestore_request_prefix (request, &prefix, fault)
        || statestore_request_integer (request, "limit", 1, &limit, fault)
        || statestore_request_integer (request, "since", 0, &since, fault))
        return -1;
    if (values && !json_is_boolean (values))
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST, "values must be true or false");
    return statestore_history_log (self->repo, prefix,
                                   (int) (limit > STATESTORE_LOG_MAX ? STATESTORE_LOG_MAX : limit),
                                   since, json_is_true (values), request->reply, fault);
}

static int
s_get_at (statestore_reader_t *self, statestore_request_t *request, int64_t rev,
          statestore_fault_t *fault)
{
    const char *key;
    int64_t at = 0;
    const char *commit = json_string_value (json_object_get (request->request, "commit"));
    if (statestore_request_key (request, "get_at", &key, fault)
        || statestore_request_integer (request, "rev", 1, &at, fault))
        return -1;
    if (at == 0 && !commit)
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST, "get_at needs rev or commit");
    return statestore_history_get_at (self->repo, key, at, commit, request->reply, fault);
}

static int
s_diff (statestore_reader_t *self, statestore_request_t *request, int64_t rev,
        statestore_fault_t *fault)
{
    int64_t from = -1, to = -1;
    if (statestore_request_integer (request, "from", 0, &from, fault)
        || statestore_request_integer (request, "to", 0, &to, fault))
        return -1;
    if (from < 0 || to < 0)
        return statestore_fault_set (fault, STATESTORE_BAD_REQUEST, "diff needs from and to");
    return statestore_history_diff (self->repo, from, to, request->reply, fault);
}

//  The read ops; statestore_request has already refused any other op.
static const struct {
    const char *op;
    s_read_fn *fn;
} s_reads[] = {
    {"get", s_get},   {"snapshot", s_snapshot}, {"list", s_list},
    {"log", s_log},   {"get_at", s_get_at},     {"diff", s_diff},
};

void
statestore_reader_answer (statestore_reader_t *self, statestore_request_t *request)
{
    assert (self);
    statestore_fault_t fault;
    int64_t rev = statestore_repo_durable_rev (self->repo);
    for (size_t index = 0; index < sizeof s_reads / sizeof s_reads[0]; index++) {
        if (streq (request->op, s_reads[index].op)) {
            if (s_reads[index].fn (self, request, rev, &fault))
                statestore_request_fail (request, &fault, self->stats);
            return;
        }
    }
}
