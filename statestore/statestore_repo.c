/*  statestore_repo: opening, recovering, committing and flushing the git repository.  */

#include <dirent.h>
#include <time.h>
#include <sys/file.h>
#include <zlib.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "statestore_pack.h"
#include "statestore_repo.h"
#include "statestore_spare.h"

#define S_SIGNATURE_EMAIL "jitsu@localhost"

struct _statestore_repo_t {
    char *path;                  // owned: the repository directory
    int lock_fd;                 // exclusive flock on PATH/jitsu.lock
    git_repository *git;         // owned: the repository on disk, for reads and new packs
    git_odb *odb;                // owned reference to its object database
    git_odb *builder_odb;        // owned: in memory only, holds nothing but the mempack
    git_odb_backend *mempack;    // owned by builder_odb: new objects until flushed
    git_oid *revs;               // owned: revs[n - 1] is the commit of revision n
    size_t rev_count;            // revisions, pending ones included
    size_t rev_capacity;
    size_t durable_count;        // revisions on disk
    git_oid *tracked;            // owned: objects written since the last flush
    size_t tracked_count;
    size_t tracked_capacity;
    zhashx_t *mod_revs;          // owned until taken: key -> last revision, from the history
    size_t packs;                // pack files in objects/pack
    statestore_spare_t *spare;   // owned: inodes recycled for packs and refs
};

//  Remove what a process killed mid-write leaves: ref lock files and temporary pack files. We
//  hold the repository lock, so nobody else can be writing them.
static void
s_recover (const char *path)
{
    const char *locks[] = {"refs/heads/main.lock", "packed-refs.lock", "HEAD.lock",
                           "config.lock"};
    for (size_t index = 0; index < sizeof locks / sizeof locks[0]; index++) {
        char *file = zsys_sprintf ("%s/%s", path, locks[index]);
        if (unlink (file) == 0)
            zsys_warning ("statestore_repo: removed stale %s", file);
        zstr_free (&file);
    }
    char *packs = zsys_sprintf ("%s/objects/pack", path);
    DIR *directory = opendir (packs);
    struct dirent *entry;
    while (directory && (entry = readdir (directory))) {
        const char *name = entry->d_name;
        if (strncmp (name, "pack_git2_", 10) && strncmp (name, "tmp_", 4))
            continue;
        char *file = zsys_sprintf ("%s/%s", packs, name);
        if (unlink (file) == 0)
            zsys_warning ("statestore_repo: removed temporary %s", file);
        zstr_free (&file);
    }
    if (directory)
        closedir (directory);
    zstr_free (&packs);
}

//  The pack files in PATH/objects/pack.
static size_t
s_count_packs (const char *path)
{
    char *packs = zsys_sprintf ("%s/objects/pack", path);
    DIR *directory = opendir (packs);
    size_t count = 0;
    struct dirent *entry;
    while (directory && (entry = readdir (directory))) {
        size_t length = strlen (entry->d_name);
        count += length > 5 && streq (entry->d_name + length - 5, ".pack");
    }
    if (directory)
        closedir (directory);
    zstr_free (&packs);
    return count;
}

//  Append OID to the array *OIDS of *COUNT ids, doubling its *CAPACITY (from FIRST) when it
//  is full. Returns 0, or -1 when out of memory (the array is left as it was).
static int
s_append_oid (git_oid **oids, size_t *count, size_t *capacity, size_t first,
              const git_oid *oid)
{
    if (*count == *capacity) {
        size_t grown_capacity = *capacity ? *capacity * 2 : first;
        git_oid *grown = (git_oid *) realloc (*oids, grown_capacity * sizeof (git_oid));
        if (!grown)
            return -1;
        *oids = grown;
        *capacity = grown_capacity;
    }
    (*oids)[(*count)++] = *oid;
    return 0;
}

static int
s_append_rev (statestore_repo_t *self, const git_oid *commit)
{
    return s_append_oid (&self->revs, &self->rev_count, &self->rev_capacity, 1024, commit);
}

//  Apply the "Jitsu-Change: put|del KEY" trailers of MESSAGE at revision REV.
static void
s_index_changes (statestore_repo_t *self, const char *message, int64_t rev)
{
    const char *line = message;
    while ((line = strstr (line, "Jitsu-Change: "))) {
        line += 14;
        bool put = strncmp (line, "put ", 4) == 0;
        bool del = strncmp (line, "del ", 4) == 0;
        size_t length = strcspn (line + 4, "\n");
        if ((put || del) && length > 0 && length < 1024) {
            char key[1024];
            memcpy (key, line + 4, length);
            key[length] = '\0';
            if (put)
                zhashx_update (self->mod_revs, key, (void *) (intptr_t) rev);
            else
                zhashx_delete (self->mod_revs, key);
        }
    }
}

//  Walk refs/heads/main oldest first: one revision per commit, and the mod_rev of every key.
//  A history that cannot be read whole (a missing object, an unreadable ref) is refused: read
//  as far as it goes, it would become a shorter history that the next commit makes final.
static int
s_index_history (statestore_repo_t *self, char *reason, size_t reason_size)
{
    git_oid head;
    int found = git_reference_name_to_id (&head, self->git, STATESTORE_REPO_REF);
    if (found == GIT_ENOTFOUND)
        return 0;  // no commit yet
    git_revwalk *walk = NULL;
    int rc = -1;
    if (found || git_revwalk_new (&walk, self->git)
        || git_revwalk_sorting (walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE)
        || git_revwalk_push (walk, &head))
        goto cleanup;
    git_oid commit_id;
    int walked;
    while ((walked = git_revwalk_next (&commit_id, walk)) == 0) {
        git_commit *commit = NULL;
        if (git_commit_lookup (&commit, self->git, &commit_id) || s_append_rev (self, &commit_id)) {
            git_commit_free (commit);
            goto cleanup;
        }
        s_index_changes (self, git_commit_message (commit), (int64_t) self->rev_count);
        git_commit_free (commit);
    }
    if (walked != GIT_ITEROVER)
        goto cleanup;
    self->durable_count = self->rev_count;
    rc = 0;
cleanup:
    if (rc)
        snprintf (reason, reason_size, "reading history: %s",
                  git_error_last () ? git_error_last ()->message : "out of memory");
    git_revwalk_free (walk);
    return rc;
}

//  Open the repository on disk, and an in-memory object database for new objects. Writing
//  through the repository on disk would make libgit2 look for every new object in every pack
//  and rescan the pack directory after each miss; the builder's only backend is the mempack.
static int
s_open_git (statestore_repo_t *self)
{
    if (git_repository_open_bare (&self->git, self->path)
        || git_repository_odb (&self->odb, self->git) || git_odb_new (&self->builder_odb)
        || git_mempack_new (&self->mempack)
        || git_odb_add_backend (self->builder_odb, self->mempack, 1))
        return -1;
    return 0;
}

static void
s_close_git (statestore_repo_t *self)
{
    git_odb_free (self->builder_odb);  // frees the mempack backend it owns
    self->builder_odb = NULL;
    self->mempack = NULL;
    git_odb_free (self->odb);
    self->odb = NULL;
    git_repository_free (self->git);
    self->git = NULL;
}

statestore_repo_t *
statestore_repo_new (const char *path, char *reason, size_t reason_size)
{
    git_libgit2_init ();
    //  Durability: fsync objects, packs and refs. Speed: our trees only reference objects we
    //  just wrote or loaded, so libgit2 need not look each one up again.
    git_libgit2_opts (GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
    git_libgit2_opts (GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
    //  The repository is ours alone: no user's or system's git config applies to it. (Run as
    //  an unprivileged user with root's HOME, libgit2 would otherwise fail on stat of
    //  /root/.gitconfig.)
    const int levels[] = {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
                          GIT_CONFIG_LEVEL_PROGRAMDATA};
    for (size_t index = 0; index < sizeof levels / sizeof levels[0]; index++)
        git_libgit2_opts (GIT_OPT_SET_SEARCH_PATH, levels[index], "");

    statestore_repo_t *self = (statestore_repo_t *) zmalloc (sizeof (statestore_repo_t));
    self->lock_fd = -1;
    self->path = strdup (path);
    self->mod_revs = zhashx_new ();
    char *lock_path = NULL;

    if (zsys_dir_create ("%s", path)) {
        snprintf (reason, reason_size, "cannot create %s: %s", path, strerror (errno));
        goto failed;
    }
    lock_path = zsys_sprintf ("%s/jitsu.lock", path);
    self->lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (self->lock_fd < 0 || flock (self->lock_fd, LOCK_EX | LOCK_NB)) {
        snprintf (reason, reason_size, "cannot lock %s: %s (is another statestore running?)",
                  lock_path, strerror (errno));
        goto failed;
    }
    git_repository *created = NULL;
    if (git_repository_open_bare (&created, path)) {
        git_repository_init_options options;
        git_repository_init_options_init (&options, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
        options.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
        options.initial_head = "main";
        if (git_repository_init_ext (&created, path, &options)) {
            snprintf (reason, reason_size, "cannot create repository %s: %s", path,
                      git_error_last ()->message);
            goto failed;
        }
        git_config *config = NULL;
        if (git_repository_config (&config, created) == 0)
            git_config_set_bool (config, "core.logAllRefUpdates", 0);
        git_config_free (config);
        zsys_info ("statestore_repo: created repository path=%s", path);
    }
    git_repository_free (created);
    s_recover (path);
    self->packs = s_count_packs (path);
    char *spare_directory = zsys_sprintf ("%s/jitsu-spare", path);
    self->spare = statestore_spare_new (spare_directory);
    zstr_free (&spare_directory);
    if (!self->spare) {
        snprintf (reason, reason_size, "cannot create %s/jitsu-spare: %s", path, strerror (errno));
        goto failed;
    }
    if (s_open_git (self)) {
        snprintf (reason, reason_size, "cannot open %s: %s", path, git_error_last ()->message);
        goto failed;
    }
    if (s_index_history (self, reason, reason_size))
        goto failed;
    zstr_free (&lock_path);
    return self;
failed:
    zstr_free (&lock_path);
    statestore_repo_destroy (&self);
    return NULL;
}

void
statestore_repo_destroy (statestore_repo_t **self_p)
{
    assert (self_p);
    statestore_repo_t *self = *self_p;
    if (!self)
        return;
    s_close_git (self);
    statestore_spare_destroy (&self->spare);
    zhashx_destroy (&self->mod_revs);
    free (self->tracked);
    free (self->revs);
    if (self->lock_fd >= 0)
        close (self->lock_fd);
    free (self->path);
    free (self);
    git_libgit2_shutdown ();
    *self_p = NULL;
}

git_repository *
statestore_repo_git (statestore_repo_t *self)
{
    assert (self);
    return self->git;
}

git_odb *
statestore_repo_builder (statestore_repo_t *self)
{
    assert (self);
    return self->builder_odb;
}

zhashx_t *
statestore_repo_take_mod_revs (statestore_repo_t *self)
{
    assert (self);
    zhashx_t *taken = self->mod_revs;
    self->mod_revs = NULL;
    return taken;
}

int64_t
statestore_repo_rev (statestore_repo_t *self)
{
    assert (self);
    return (int64_t) self->rev_count;
}

int64_t
statestore_repo_durable_rev (statestore_repo_t *self)
{
    assert (self);
    return (int64_t) self->durable_count;
}

int
statestore_repo_commit_at (statestore_repo_t *self, int64_t rev, git_oid *commit)
{
    assert (self);
    if (rev < 1 || rev > (int64_t) self->rev_count)
        return -1;
    *commit = self->revs[rev - 1];
    return 0;
}

const char *
statestore_repo_commit_hex (statestore_repo_t *self, int64_t rev, char *buffer)
{
    git_oid commit;
    if (statestore_repo_commit_at (self, rev, &commit))
        return "";
    return git_oid_tostr (buffer, GIT_OID_HEXSZ + 1, &commit);
}

int
statestore_repo_head_tree (statestore_repo_t *self, git_oid *tree)
{
    assert (self);
    if (self->rev_count == 0)
        return git_oid_fromstr (tree, STATESTORE_REPO_EMPTY_TREE);
    git_commit *commit = NULL;
    if (git_commit_lookup (&commit, self->git, &self->revs[self->rev_count - 1]))
        return -1;
    *tree = *git_commit_tree_id (commit);
    git_commit_free (commit);
    return 0;
}

int
statestore_repo_track (statestore_repo_t *self, const git_oid *oid)
{
    assert (self);
    return s_append_oid (&self->tracked, &self->tracked_count, &self->tracked_capacity, 256,
                         oid);
}

int64_t
statestore_repo_commit (statestore_repo_t *self, const git_oid *root, const char *author,
                        const char *message, git_oid *commit_id)
{
    assert (self);
    //  The commit object is written out directly (git's own text format): libgit2's
    //  git_commit_create would look the tree and the parent up on disk first.
    char tree_hex[GIT_OID_HEXSZ + 1], parent_hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr (tree_hex, sizeof tree_hex, root);
    if (self->rev_count)
        git_oid_tostr (parent_hex, sizeof parent_hex, &self->revs[self->rev_count - 1]);
    long long now = (long long) time (NULL);
    char *text = zsys_sprintf ("tree %s\n%s%s%sauthor %s <" S_SIGNATURE_EMAIL "> %lld +0000\n"
                               "committer statestore <" S_SIGNATURE_EMAIL "> %lld +0000\n\n%s",
                               tree_hex, self->rev_count ? "parent " : "",
                               self->rev_count ? parent_hex : "", self->rev_count ? "\n" : "",
                               author, now, now, message);
    int64_t rev = -1;
    if (git_odb_write (commit_id, self->builder_odb, text, strlen (text), GIT_OBJECT_COMMIT) == 0
        && statestore_repo_track (self, commit_id) == 0 && s_append_rev (self, commit_id) == 0)
        rev = (int64_t) self->rev_count;
    else
        zsys_error ("statestore_repo: commit failed: %s",
                    git_error_last () ? git_error_last ()->message : "out of memory");
    zstr_free (&text);
    return rev;
}

static int
s_by_oid (const void *left, const void *right)
{
    return git_oid_cmp ((const git_oid *) left, (const git_oid *) right);
}

//  A pack of the tracked objects, each once. Returns NULL on failure.
static statestore_pack_t *
s_build_pack (statestore_repo_t *self)
{
    qsort (self->tracked, self->tracked_count, sizeof (git_oid), s_by_oid);
    statestore_pack_t *pack = statestore_pack_new ();
    for (size_t index = 0; pack && index < self->tracked_count; index++) {
        const git_oid *oid = &self->tracked[index];
        if (index > 0 && git_oid_equal (oid, &self->tracked[index - 1]))
            continue;
        void *data = NULL;
        size_t size = 0;
        git_object_t type;
        int rc = self->mempack->read (&data, &size, &type, self->mempack, oid)
                 || statestore_pack_add (pack, oid, type, data, size);
        git_odb_backend_data_free (self->mempack, data);
        if (rc) {
            statestore_pack_destroy (&pack);
            return NULL;
        }
    }
    if (pack && statestore_pack_finish (pack))
        statestore_pack_destroy (&pack);
    return pack;
}

int
statestore_repo_flush (statestore_repo_t *self)
{
    assert (self);
    if (self->rev_count == self->durable_count) {
        //  No commit to write, but a failed write may have left objects behind.
        git_mempack_reset (self->mempack);
        self->tracked_count = 0;
        return 0;
    }
    //  The pack, then its index (readers find packs by their index), then the ref: each
    //  fsync'd, renamed into place, and the directories fsync'd. A crash before the ref moves
    //  leaves an unreferenced pack, which git accepts.
    statestore_pack_t *pack = s_build_pack (self);
    char *pack_directory = zsys_sprintf ("%s/objects/pack", self->path);
    char *refs_directory = zsys_sprintf ("%s/refs/heads", self->path);
    char *pack_path = NULL, *index_path = NULL, *ref_path = NULL;
    int rc = -1;
    if (!pack)
        goto cleanup;
    pack_path = zsys_sprintf ("%s/%s.pack", pack_directory, statestore_pack_name (pack));
    index_path = zsys_sprintf ("%s/%s.idx", pack_directory, statestore_pack_name (pack));
    ref_path = zsys_sprintf ("%s/main", refs_directory);
    char head[GIT_OID_HEXSZ + 2];
    git_oid_tostr (head, GIT_OID_HEXSZ + 1, &self->revs[self->rev_count - 1]);
    strcat (head, "\n");
    zchunk_t *data = statestore_pack_data (pack);
    zchunk_t *index = statestore_pack_index (pack);
    if (statestore_spare_write (self->spare, pack_path, zchunk_data (data), zchunk_size (data))
        || statestore_spare_write (self->spare, index_path, zchunk_data (index),
                                   zchunk_size (index))
        || statestore_spare_sync (pack_directory)
        || statestore_spare_write (self->spare, ref_path, head, strlen (head))
        || statestore_spare_sync (refs_directory))
        goto cleanup;
    self->durable_count = self->rev_count;
    self->packs++;
    rc = 0;
cleanup:
    if (rc) {
        zsys_error ("statestore_repo: flush failed revs=%zu..%zu error=%s",
                    self->durable_count + 1, self->rev_count, strerror (errno));
        self->rev_count = self->durable_count;
    }
    zstr_free (&ref_path);
    zstr_free (&index_path);
    zstr_free (&pack_path);
    zstr_free (&refs_directory);
    zstr_free (&pack_directory);
    statestore_pack_destroy (&pack);
    git_mempack_reset (self->mempack);
    self->tracked_count = 0;
    return rc;
}

size_t
statestore_repo_packs (statestore_repo_t *self)
{
    assert (self);
    return self->packs;
}

int
statestore_repo_retire_packs (statestore_repo_t *self, zlist_t *old_packs)
{
    assert (self);
    assert (self->tracked_count == 0);  // only between groups
    for (const char *name = (const char *) zlist_first (old_packs); name;
         name = (const char *) zlist_next (old_packs)) {
        const char *suffixes[] = {".idx", ".pack", ".rev"};  // .idx first: readers look it up
        for (size_t index = 0; index < 3; index++) {
            char *file = zsys_sprintf ("%s/objects/pack/%s%s", self->path, name, suffixes[index]);
            if (access (file, F_OK) == 0 && statestore_spare_retire (self->spare, file))
                zsys_warning ("statestore_repo: cannot retire %s: %s", file, strerror (errno));
            zstr_free (&file);
        }
    }
    s_close_git (self);
    if (s_open_git (self)) {
        zsys_error ("statestore_repo: reopen after repack failed: %s",
                    git_error_last () ? git_error_last ()->message : "?");
        return -1;
    }
    //  The old packs are gone and one new pack replaced them.
    size_t retired = zlist_size (old_packs);
    self->packs = self->packs + 1 > retired ? self->packs + 1 - retired : 1;
    return 0;
}

const char *
statestore_repo_path (statestore_repo_t *self)
{
    assert (self);
    return self->path;
}
