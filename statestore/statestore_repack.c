/*  statestore_repack: fewer, delta-compressed packs.  */

#include <dirent.h>
#include <pthread.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>

#include "statestore_repack.h"
#include "statestore_repo.h"

//  One pack file: its base name ("pack-<sha>") and size.
typedef struct {
    char name[64];
    int64_t size;
} s_pack_t;

//  The packs present now, complete: COUNT receives their number. The caller frees the array.
//  A pack counts only once its index is in place. The main thread renames a group's .pack,
//  then (a data sync later) its .idx; a pack listed in between would be replaced by a pack
//  that does not hold its objects (no reader sees a pack without its index), and deleted.
static s_pack_t *
s_list_packs (const char *directory_path, size_t *count)
{
    size_t capacity = 16;
    s_pack_t *packs = (s_pack_t *) malloc (capacity * sizeof (s_pack_t));
    *count = 0;
    DIR *directory = opendir (directory_path);
    struct dirent *entry;
    while (directory && (entry = readdir (directory))) {
        size_t length = strlen (entry->d_name);
        if (length < 6 || length > 63 || !streq (entry->d_name + length - 5, ".pack")
            || strncmp (entry->d_name, "pack-", 5))
            continue;
        char *path = zsys_sprintf ("%s/%s", directory_path, entry->d_name);
        char *index_path = zsys_sprintf ("%s/%.*s.idx", directory_path, (int) length - 5,
                                         entry->d_name);
        bool indexed = access (index_path, F_OK) == 0;
        zstr_free (&index_path);
        if (indexed) {
            if (*count == capacity)
                packs = (s_pack_t *) realloc (packs, (capacity *= 2) * sizeof (s_pack_t));
            s_pack_t *pack = &packs[(*count)++];
            snprintf (pack->name, sizeof pack->name, "%.*s", (int) length - 5, entry->d_name);
            pack->size = zsys_file_size (path);
        }
        zstr_free (&path);
    }
    if (directory)
        closedir (directory);
    return packs;
}

static int
s_insert_object (const git_oid *id, void *argument)
{
    return git_packbuilder_insert ((git_packbuilder *) argument, id, NULL);
}

//  Write one pack holding every object of PACKS (all of them when FULL, else all but the
//  LARGEST); it replaces them. The objects are read from exactly those packs, not from the
//  repository's view of the directory, so that a pack is replaced only by one that holds
//  what it held. Returns 0 with REPLACED filled, or -1 with REASON.
static int
s_write (const char *path, const char *pack_directory, s_pack_t *packs, size_t count, bool full,
         size_t largest, zlist_t *replaced, char *reason, size_t reason_size)
{
    git_repository *git = NULL;
    git_packbuilder *builder = NULL;
    git_odb *source = NULL;
    git_revwalk *walk = NULL;
    int rc = -1;
    if (git_repository_open_bare (&git, path) || git_packbuilder_new (&builder, git))
        goto cleanup;
    git_packbuilder_set_threads (builder, 1);
    if (full) {
        //  History first, so the packbuilder knows paths and finds good deltas; then every
        //  object, reachable or not, so that nothing a later commit may reuse is lost.
        git_oid head;
        if (git_reference_name_to_id (&head, git, STATESTORE_REPO_REF) == 0
            && (git_revwalk_new (&walk, git) || git_revwalk_push (walk, &head)
                || git_packbuilder_insert_walk (builder, walk)))
            goto cleanup;
    }
    //  An object database made of just the packs replaced.
    if (git_odb_new (&source))
        goto cleanup;
    for (size_t index = 0; index < count; index++) {
        if (!full && index == largest)
            continue;
        git_odb_backend *backend = NULL;
        char *idx = zsys_sprintf ("%s/%s.idx", pack_directory, packs[index].name);
        int failed = git_odb_backend_one_pack (&backend, idx);
        if (!failed && git_odb_add_backend (source, backend, 1)) {
            backend->free (backend);
            failed = -1;
        }
        zstr_free (&idx);
        if (failed)
            goto cleanup;
    }
    if (git_odb_foreach (source, s_insert_object, builder)
        || git_packbuilder_write (builder, pack_directory, 0, NULL, NULL))
        goto cleanup;
    const char *written = git_packbuilder_name (builder);
    for (size_t index = 0; index < count; index++) {
        //  The new pack may have the very name of an old one (same objects): keep that.
        if ((full || index != largest) && strcmp (packs[index].name + 5, written))
            zlist_append (replaced, packs[index].name);
    }
    rc = 0;
cleanup:
    if (rc)
        snprintf (reason, reason_size, "%s",
                  git_error_last () ? git_error_last ()->message : "unknown failure");
    git_revwalk_free (walk);
    git_odb_free (source);
    git_packbuilder_free (builder);
    git_repository_free (git);
    return rc;
}

//  Choose between incremental and full, and repack. REPLACED gets the retired names.
static int
s_repack (const char *path, zlist_t *replaced, char *reason, size_t reason_size)
{
    char *pack_directory = zsys_sprintf ("%s/objects/pack", path);
    size_t count = 0;
    s_pack_t *packs = s_list_packs (pack_directory, &count);
    size_t largest = 0;
    int64_t small_total = 0;
    for (size_t index = 1; index < count; index++)
        if (packs[index].size > packs[largest].size)
            largest = index;
    for (size_t index = 0; index < count; index++)
        small_total += index == largest ? 0 : packs[index].size;
    int rc = 0;
    if (count >= 2) {
        bool full = small_total * 2 >= packs[largest].size;
        rc = s_write (path, pack_directory, packs, count, full, largest, replaced, reason,
                      reason_size);
    }
    free (packs);
    zstr_free (&pack_directory);
    return rc;
}

struct _statestore_repack_t {
    zsock_t *pipe;              // owned: our end
    zsock_t *thread_pipe;       // owned: the thread's end, closed after the join
    pthread_t thread;
    char *path;                 // owned
};

static void *
s_run (void *argument)
{
    statestore_repack_t *self = (statestore_repack_t *) argument;
    git_libgit2_init ();
    while (true) {
        char *command = zstr_recv (self->thread_pipe);
        if (!command || streq (command, "$TERM")) {
            zstr_free (&command);
            break;
        }
        if (streq (command, "REPACK")) {
            zlist_t *replaced = zlist_new ();
            zlist_autofree (replaced);
            char reason[256];
            if (s_repack (self->path, replaced, reason, sizeof reason))
                zstr_sendx (self->thread_pipe, "FAILED", reason, NULL);
            else {
                zmsg_t *done = zmsg_new ();
                zmsg_addstr (done, "DONE");
                for (const char *name = (const char *) zlist_first (replaced); name;
                     name = (const char *) zlist_next (replaced))
                    zmsg_addstr (done, name);
                zmsg_send (&done, self->thread_pipe);
            }
            zlist_destroy (&replaced);
        }
        zstr_free (&command);
    }
    git_libgit2_shutdown ();
    return NULL;
}

statestore_repack_t *
statestore_repack_new (const char *path)
{
    statestore_repack_t *self = (statestore_repack_t *) zmalloc (sizeof (statestore_repack_t));
    self->path = strdup (path);
    self->pipe = zsys_create_pipe (&self->thread_pipe);
    if (!self->pipe || pthread_create (&self->thread, NULL, s_run, self)) {
        zsock_destroy (&self->thread_pipe);
        zsock_destroy (&self->pipe);
        free (self->path);
        free (self);
        return NULL;
    }
    return self;
}

void
statestore_repack_destroy (statestore_repack_t **self_p)
{
    assert (self_p);
    statestore_repack_t *self = *self_p;
    if (!self)
        return;
    zstr_send (self->pipe, "$TERM");
    pthread_join (self->thread, NULL);
    zsock_destroy (&self->thread_pipe);
    zsock_destroy (&self->pipe);
    free (self->path);
    free (self);
    *self_p = NULL;
}

zsock_t *
statestore_repack_sock (statestore_repack_t *self)
{
    assert (self);
    return self->pipe;
}
