/*  statestore_writer: apply, commit, flush, with undo for what fails.  */

#include "statestore_undo.h"
#include "statestore_writer.h"

#define S_EVENT_BUDGET 60000  // bytes of values a state.changed may carry

struct _statestore_writer_t {
    statestore_repo_t *repo;      // borrowed
    statestore_tree_t *tree;      // borrowed: the current state
    statestore_stats_t *stats;    // borrowed
    statestore_undo_t *undo;      // owned: undo records of the current group
    zlist_t *events;              // owned: proto_msg_t * to publish after the flush
    statestore_op_t ops[STATESTORE_TX_MAX];  // the ops of the write being applied
};

static void
s_drop_events (statestore_writer_t *self)
{
    proto_msg_t *event;
    while ((event = (proto_msg_t *) zlist_pop (self->events)))
        proto_msg_destroy (&event);
}

static int
s_track_object (const git_oid *oid, void *argument)
{
    return statestore_repo_track ((statestore_repo_t *) argument, oid);
}

statestore_writer_t *
statestore_writer_new (statestore_repo_t *repo, statestore_tree_t *tree,
                       statestore_stats_t *stats)
{
    assert (repo);
    assert (tree);
    assert (stats);
    statestore_writer_t *self = (statestore_writer_t *) zmalloc (sizeof (statestore_writer_t));
    self->repo = repo;
    self->tree = tree;
    self->stats = stats;
    self->undo = statestore_undo_new (tree);
    self->events = zlist_new ();
    return self;
}

void
statestore_writer_destroy (statestore_writer_t **self_p)
{
    assert (self_p);
    statestore_writer_t *self = *self_p;
    if (!self)
        return;
    s_drop_events (self);
    zlist_destroy (&self->events);
    statestore_undo_destroy (&self->undo);
    free (self);
    *self_p = NULL;
}

//  Apply COUNT ops as one atomic change at revision REV; record undo records and CHANGES
//  (a state.changed message). Returns the number of keys changed, or -1 with FAULT (nothing
//  applied).
static int
s_apply (statestore_writer_t *self, int count, int64_t rev, proto_msg_t *changes,
         statestore_fault_t *fault)
{
    size_t undo_mark = statestore_undo_count (self->undo);
    int changed = 0;
    size_t budget = S_EVENT_BUDGET;
    for (int index = 0; index < count; index++) {
        statestore_op_t *op = &self->ops[index];
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
            statestore_undo_push (self->undo, op->key, current, mod_rev);
            if (op->value
                && statestore_tree_put (self->tree, op->key, json_incref (op->value), rev, reason,
                                        sizeof reason))
                rc = statestore_fault_set (fault, STATESTORE_CONFLICT, "%s", reason);
            else if (!op->value)
                statestore_tree_del (self->tree, op->key);
        }
        if (rc) {
            statestore_undo_to (self->undo, undo_mark);
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

//  The commit message of COUNT ops at REV (owned): a summary line, then trailers that history
//  queries read.
static zchunk_t *
s_message (statestore_writer_t *self, int count, const char *message, int64_t rev)
{
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
    return text;
}

void
statestore_writer_apply (statestore_writer_t *self, statestore_request_t *request)
{
    assert (self);
    statestore_fault_t fault;
    const char *author, *message;
    self->stats->writes++;
    int count = statestore_request_ops (request, self->ops, &fault);
    if (count < 0 || statestore_request_signature (request, &author, &message, &fault)) {
        statestore_request_fail (request, &fault, self->stats);
        return;
    }
    int64_t rev = statestore_repo_rev (self->repo) + 1;
    proto_msg_t *event = proto_msg_new (PROTO_MSG_STATE_CHANGED);
    size_t undo_mark = statestore_undo_count (self->undo);
    int changed = s_apply (self, count, rev, event, &fault);
    if (changed < 0) {
        statestore_request_fail (request, &fault, self->stats);
        proto_msg_destroy (&event);
        return;
    }
    char hex[GIT_OID_HEXSZ + 1];
    if (changed == 0) {
        //  Nothing changed: no commit, and the reply says where the state stands.
        self->stats->unchanged++;
        proto_msg_destroy (&event);
        int64_t current = statestore_repo_rev (self->repo);
        json_object_set_new (request->reply, "rev", json_integer (current));
        json_object_set_new (request->reply, "commit",
                             json_string (statestore_repo_commit_hex (self->repo, current, hex)));
        json_object_set_new (request->reply, "unchanged", json_true ());
        return;
    }
    zchunk_t *text = s_message (self, count, message, rev);
    git_oid root, commit;
    if (statestore_tree_write (self->tree, statestore_repo_builder (self->repo), &root,
                               s_track_object, self->repo)
        || statestore_repo_commit (self->repo, &root, author, (char *) zchunk_data (text), &commit)
               != rev) {
        statestore_undo_to (self->undo, undo_mark);
        statestore_fault_set (&fault, STATESTORE_INTERNAL, "commit failed: %s",
                              git_error_last () ? git_error_last ()->message : "?");
        statestore_request_fail (request, &fault, self->stats);
        proto_msg_destroy (&event);
    }
    else {
        self->stats->commits++;
        event->state_changed.rev = rev;
        git_oid_tostr (event->state_changed.commit, sizeof event->state_changed.commit, &commit);
        zlist_append (self->events, event);
        json_object_set_new (request->reply, "rev", json_integer (rev));
        json_object_set_new (request->reply, "commit", json_string (git_oid_tostr_s (&commit)));
    }
    zchunk_destroy (&text);
}

void
statestore_writer_flush (statestore_writer_t *self, statestore_request_t *group, size_t count)
{
    assert (self);
    if (statestore_repo_flush (self->repo)) {
        //  Nothing of this group is on disk: put the tree back and refuse every write of it.
        statestore_undo_to (self->undo, 0);
        statestore_fault_t fault;
        statestore_fault_set (&fault, STATESTORE_INTERNAL, "the repository could not be written; "
                              "nothing was stored");
        for (size_t index = 0; index < count; index++)
            if (group[index].op && group[index].is_write
                && json_is_true (json_object_get (group[index].reply, "ok")))
                statestore_request_fail (&group[index], &fault, self->stats);
        s_drop_events (self);
    }
    statestore_undo_clear (self->undo);
}

proto_msg_t *
statestore_writer_pop_event (statestore_writer_t *self)
{
    assert (self);
    return (proto_msg_t *) zlist_pop (self->events);
}
