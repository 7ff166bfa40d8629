/*  statestore_history: log, get_at and diff over the commits of refs/heads/main.

    Each commit's message lists what it changed (Jitsu-Change trailers), so log reads commit
    objects only; get_at and diff read trees and blobs.  */

#include "statestore_history.h"
#include "statestore_key.h"

int64_t
statestore_history_rev_of (const char *message)
{
    const char *trailer = strstr (message, "\nJitsu-Rev: ");
    if (!trailer)
        return -1;
    char *end;
    long long rev = strtoll (trailer + 12, &end, 10);
    return end == trailer + 12 || rev < 1 ? -1 : rev;
}

//  The changes under PREFIX recorded in MESSAGE, as [{key, op}].
static json_t *
s_changes (const char *message, const char *prefix)
{
    json_t *changes = json_array ();
    const char *line = message;
    while ((line = strstr (line, "\nJitsu-Change: "))) {
        line += 15;
        size_t length = strcspn (line, "\n");
        if (length < 5 || length > STATESTORE_KEY_MAX + 4 || line[3] != ' ')
            continue;
        char key[STATESTORE_KEY_MAX + 1];
        memcpy (key, line + 4, length - 4);
        key[length - 4] = '\0';
        if (statestore_key_has_prefix (key, prefix))
            json_array_append_new (changes, json_pack ("{s:s, s:s%}", "key", key, "op", line, 3));
    }
    return changes;
}

//  The JSON value of blob ID, or NULL.
static json_t *s_value_of (git_repository *git, const git_oid *id);

//  Add to each put of CHANGES its value in the tree of COMMIT.
static void
s_add_values (git_repository *git, git_commit *commit, json_t *changes)
{
    git_tree *tree = NULL;
    if (git_commit_tree (&tree, commit))
        return;
    size_t index;
    json_t *change;
    json_array_foreach (changes, index, change) {
        if (!streq (json_string_value (json_object_get (change, "op")), "put"))
            continue;
        char path[STATESTORE_PATH_MAX + 1];
        git_tree_entry *entry = NULL;
        if (statestore_key_to_path (json_string_value (json_object_get (change, "key")), path,
                                    sizeof path) == 0
            && git_tree_entry_bypath (&entry, tree, path) == 0) {
            json_t *value = s_value_of (git, git_tree_entry_id (entry));
            if (value)
                json_object_set_new (change, "value", value);
        }
        git_tree_entry_free (entry);
    }
    git_tree_free (tree);
}

int
statestore_history_log (statestore_repo_t *repo, const char *prefix, int limit, int64_t since,
                        bool values, json_t *reply, statestore_fault_t *fault)
{
    json_t *entries = json_array ();
    git_repository *git = statestore_repo_git (repo);
    for (int64_t rev = statestore_repo_durable_rev (repo);
         rev >= 1 && (int) json_array_size (entries) < limit; rev--) {
        git_oid id;
        git_commit *commit = NULL;
        if (statestore_repo_commit_at (repo, rev, &id) || git_commit_lookup (&commit, git, &id)) {
            json_decref (entries);
            return statestore_fault_set (fault, STATESTORE_INTERNAL, "reading revision %lld: %s",
                                         (long long) rev, git_error_last ()->message);
        }
        const git_signature *author = git_commit_author (commit);
        if ((int64_t) author->when.time * 1000 < since - 999) {
            git_commit_free (commit);
            break;  // history is in time order: everything further back is older still
        }
        json_t *changes = s_changes (git_commit_message (commit), prefix);
        if (values)
            s_add_values (git, commit, changes);
        if (json_array_size (changes) > 0) {
            const char *summary = git_commit_summary (commit);
            json_array_append_new (
                entries, json_pack ("{s:I, s:s, s:s, s:I, s:s, s:o}", "rev", (json_int_t) rev,
                                    "commit", git_oid_tostr_s (&id), "author", author->name,
                                    "ts", (json_int_t) author->when.time * 1000, "message",
                                    summary ? summary : "", "changes", changes));
        }
        else
            json_decref (changes);
        git_commit_free (commit);
    }
    json_object_set_new (reply, "entries", entries);
    return 0;
}

static int
s_by_key (const void *left, const void *right)
{
    return strcmp (json_string_value (json_object_get (*(json_t *const *) left, "key")),
                   json_string_value (json_object_get (*(json_t *const *) right, "key")));
}

//  Sort an array of objects by their "key": git orders paths by bucket, users read keys.
static void
s_sort_by_key (json_t *array)
{
    size_t count = json_array_size (array);
    json_t **items = (json_t **) malloc ((count ? count : 1) * sizeof (json_t *));
    for (size_t index = 0; index < count; index++)
        items[index] = json_incref (json_array_get (array, index));
    qsort (items, count, sizeof (json_t *), s_by_key);
    json_array_clear (array);
    for (size_t index = 0; index < count; index++)
        json_array_append_new (array, items[index]);
    free (items);
}

//  The root tree of revision REV (the empty tree for 0) into TREE.
static int
s_tree_at (statestore_repo_t *repo, int64_t rev, git_tree **tree, statestore_fault_t *fault)
{
    git_repository *git = statestore_repo_git (repo);
    if (rev < 0 || rev > statestore_repo_durable_rev (repo))
        return statestore_fault_set (fault, STATESTORE_NOT_FOUND,
                                     "no revision %lld (latest is %lld)", (long long) rev,
                                     (long long) statestore_repo_durable_rev (repo));
    git_oid tree_id;
    if (rev == 0) {
        //  libgit2 knows the empty tree without reading it.
        git_oid_fromstr (&tree_id, STATESTORE_REPO_EMPTY_TREE);
        if (git_tree_lookup (tree, git, &tree_id) == 0)
            return 0;
    }
    else {
        git_oid commit_id;
        git_commit *commit = NULL;
        statestore_repo_commit_at (repo, rev, &commit_id);
        if (git_commit_lookup (&commit, git, &commit_id) == 0) {
            int rc = git_commit_tree (tree, commit);
            git_commit_free (commit);
            if (rc == 0)
                return 0;
        }
    }
    return statestore_fault_set (fault, STATESTORE_INTERNAL, "reading revision %lld: %s",
                                 (long long) rev, git_error_last ()->message);
}

//  The JSON value of blob ID, or NULL.
static json_t *
s_value_of (git_repository *git, const git_oid *id)
{
    git_blob *blob = NULL;
    if (git_blob_lookup (&blob, git, id))
        return NULL;
    json_t *value =
        json_loadb (git_blob_rawcontent (blob), git_blob_rawsize (blob), JSON_DECODE_ANY, NULL);
    git_blob_free (blob);
    return value;
}

int
statestore_history_get_at (statestore_repo_t *repo, const char *key, int64_t rev,
                           const char *commit_hex, json_t *reply, statestore_fault_t *fault)
{
    git_repository *git = statestore_repo_git (repo);
    if (rev == 0) {
        //  A commit id: its message says which revision it is.
        git_oid id;
        git_commit *commit = NULL;
        if (git_oid_fromstrp (&id, commit_hex) || git_commit_lookup (&commit, git, &id))
            return statestore_fault_set (fault, STATESTORE_NOT_FOUND, "no commit %.64s",
                                         commit_hex);
        rev = statestore_history_rev_of (git_commit_message (commit));
        git_commit_free (commit);
        git_oid expected;
        if (rev < 1 || statestore_repo_commit_at (repo, rev, &expected)
            || !git_oid_equal (&expected, &id))
            return statestore_fault_set (fault, STATESTORE_NOT_FOUND,
                                         "commit %.64s is not on " STATESTORE_REPO_REF, commit_hex);
    }
    git_tree *tree = NULL;
    if (s_tree_at (repo, rev, &tree, fault))
        return -1;
    char path[STATESTORE_PATH_MAX + 1];
    git_tree_entry *entry = NULL;
    json_t *value = NULL;
    int rc = 0;
    if (statestore_key_to_path (key, path, sizeof path)
        || git_tree_entry_bypath (&entry, tree, path)
        || git_tree_entry_type (entry) != GIT_OBJECT_BLOB)
        rc = statestore_fault_set (fault, STATESTORE_NOT_FOUND, "%s did not exist at revision %lld",
                                   key, (long long) rev);
    else if (!(value = s_value_of (git, git_tree_entry_id (entry))))
        rc = statestore_fault_set (fault, STATESTORE_INTERNAL, "%s at revision %lld is unreadable",
                                   key, (long long) rev);
    else {
        git_oid commit_id = {{0}};
        statestore_repo_commit_at (repo, rev, &commit_id);
        json_object_set_new (reply, "rev", json_integer (rev));
        json_object_set_new (reply, "commit", json_string (git_oid_tostr_s (&commit_id)));
        json_object_set_new (reply, "key", json_string (key));
        json_object_set_new (reply, "value", value);
    }
    git_tree_entry_free (entry);
    git_tree_free (tree);
    return rc;
}

int
statestore_history_diff (statestore_repo_t *repo, int64_t from, int64_t to, json_t *reply,
                         statestore_fault_t *fault)
{
    git_repository *git = statestore_repo_git (repo);
    git_tree *old_tree = NULL, *new_tree = NULL;
    git_diff *diff = NULL;
    int rc = -1;
    if (s_tree_at (repo, from, &old_tree, fault) || s_tree_at (repo, to, &new_tree, fault))
        goto cleanup;
    if (git_diff_tree_to_tree (&diff, git, old_tree, new_tree, NULL)) {
        statestore_fault_set (fault, STATESTORE_INTERNAL, "diff: %s", git_error_last ()->message);
        goto cleanup;
    }
    json_t *changes = json_array ();
    size_t count = git_diff_num_deltas (diff);
    for (size_t index = 0; index < count; index++) {
        const git_diff_delta *delta = git_diff_get_delta (diff, index);
        bool deleted = delta->status == GIT_DELTA_DELETED;
        const char *path = deleted ? delta->old_file.path : delta->new_file.path;
        char key[STATESTORE_KEY_MAX + 1];
        if (statestore_key_from_path (path, key, sizeof key))
            continue;  // not a path this layout writes: nothing a user can see
        json_t *change = json_pack ("{s:s, s:s}", "key", key, "op", deleted ? "del" : "put");
        if (delta->status != GIT_DELTA_ADDED) {
            json_t *old_value = s_value_of (git, &delta->old_file.id);
            if (old_value)
                json_object_set_new (change, "old", old_value);
        }
        if (!deleted) {
            json_t *new_value = s_value_of (git, &delta->new_file.id);
            if (new_value)
                json_object_set_new (change, "new", new_value);
        }
        json_array_append_new (changes, change);
    }
    s_sort_by_key (changes);
    json_object_set_new (reply, "changes", changes);
    rc = 0;
cleanup:
    git_diff_free (diff);
    git_tree_free (new_tree);
    git_tree_free (old_tree);
    return rc;
}
