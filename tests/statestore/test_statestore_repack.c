/*  statestore_repack and statestore_repo: what a repack replaces, and a history that cannot be
    read whole.

    A group's flush renames its .pack into objects/pack, then, a data sync later, its .idx. A
    repack that runs in between must leave that pack alone: no reader sees its objects yet, so
    the pack the repack writes does not hold them. These tests make that moment on purpose
    (a pack without its index next to complete ones) instead of waiting for a kill -9 to hit it
    one run in twenty, as tests/integration/test_statestore_crash did.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "statestore_pack.h"
#include "statestore_repack.h"
#include "statestore_repo.h"
#include "test_support.h"

static char *s_run_dir;
static char *s_path;
static statestore_repo_t *s_repo;

static void
s_setup (void)
{
    s_run_dir = test_rundir_new ();
    cr_assert (s_run_dir != NULL);
    s_path = zsys_sprintf ("%s/state.git", s_run_dir);
    char reason[256] = "";
    s_repo = statestore_repo_new (s_path, reason, sizeof reason);
    cr_assert (s_repo != NULL, "statestore_repo_new: %s", reason);
}

static void
s_teardown (void)
{
    statestore_repo_destroy (&s_repo);
    zstr_free (&s_path);
    test_rundir_destroy (&s_run_dir);
}

TestSuite (statestore_repack, .init = s_setup, .fini = s_teardown, .timeout = 60);

//  Commit one key "k" holding SIZE bytes (pseudo-random from SEED, so they do not compress)
//  and flush it: one group pack. Returns the revision.
static int64_t
s_commit (uint32_t seed, size_t size)
{
    byte *value = (byte *) malloc (size);
    for (size_t index = 0; index < size; index++) {
        seed = seed * 1103515245u + 12345u;
        value[index] = (byte) (seed >> 16);
    }
    git_odb *builder = statestore_repo_builder (s_repo);
    git_oid blob, tree, commit;
    cr_assert (eq (int, git_odb_write (&blob, builder, value, size, GIT_OBJECT_BLOB), 0));
    free (value);
    byte entry[9 + GIT_OID_RAWSZ] = "100644 k";  // the trailing NUL ends the name
    memcpy (entry + 9, blob.id, GIT_OID_RAWSZ);
    cr_assert (eq (int, git_odb_write (&tree, builder, entry, sizeof entry, GIT_OBJECT_TREE), 0));
    cr_assert (eq (int, statestore_repo_track (s_repo, &blob), 0));
    cr_assert (eq (int, statestore_repo_track (s_repo, &tree), 0));
    int64_t rev = statestore_repo_commit (s_repo, &tree, "test", "put k\n", &commit);
    cr_assert (gt (i64, rev, 0));
    cr_assert (eq (int, statestore_repo_flush (s_repo), 0));
    return rev;
}

//  Write DATA as PACK's file with the extension EXTENSION in the pack directory.
static void
s_write_part (statestore_pack_t *pack, const char *extension, zchunk_t *data)
{
    char *file = zsys_sprintf ("%s/objects/pack/%s.%s", s_path, statestore_pack_name (pack),
                               extension);
    FILE *handle = fopen (file, "wb");
    cr_assert (handle != NULL);
    cr_assert (eq (sz, fwrite (zchunk_data (data), 1, zchunk_size (data), handle),
                   zchunk_size (data)));
    fclose (handle);
    zstr_free (&file);
}

//  Put a pack holding one new blob into objects/pack as a flush leaves it between its two
//  renames: the .pack in place, the .idx not yet. Returns the pack (the caller writes the
//  index later and destroys it); BLOB receives the object's id.
static statestore_pack_t *
s_pack_without_index (git_oid *blob)
{
    const char *content = "written by a group whose index is not in place yet";
    cr_assert (eq (int, git_odb_hash (blob, content, strlen (content), GIT_OBJECT_BLOB), 0));
    statestore_pack_t *pack = statestore_pack_new ();
    cr_assert (pack != NULL);
    cr_assert (eq (int, statestore_pack_add (pack, blob, GIT_OBJECT_BLOB, content,
                                             strlen (content)), 0));
    cr_assert (eq (int, statestore_pack_finish (pack), 0));
    s_write_part (pack, "pack", statestore_pack_data (pack));
    return pack;
}

//  Finish what s_pack_without_index began: the index, renamed into place.
static void
s_write_index (statestore_pack_t *pack)
{
    s_write_part (pack, "idx", statestore_pack_index (pack));
}

//  Run one repack; returns the names of the packs it replaced (the caller destroys the list).
static zlist_t *
s_repack (void)
{
    statestore_repack_t *repack = statestore_repack_new (s_path);
    cr_assert (repack != NULL);
    cr_assert (eq (int, zstr_send (statestore_repack_sock (repack), "REPACK"), 0));
    zmsg_t *outcome = zmsg_recv (statestore_repack_sock (repack));
    cr_assert (outcome != NULL);
    char *status = zmsg_popstr (outcome);
    if (!streq (status, "DONE")) {
        char *reason = zmsg_popstr (outcome);
        cr_assert (strcmp (status, "DONE") == 0, "repack: %s %s", status, reason ? reason : "");
    }
    zstr_free (&status);
    zlist_t *replaced = zlist_new ();
    zlist_autofree (replaced);
    char *name;
    while ((name = zmsg_popstr (outcome))) {
        zlist_append (replaced, name);
        zstr_free (&name);
    }
    zmsg_destroy (&outcome);
    statestore_repack_destroy (&repack);
    return replaced;
}

static bool
s_listed (zlist_t *names, const char *name)
{
    for (const char *each = (const char *) zlist_first (names); each;
         each = (const char *) zlist_next (names))
        if (streq (each, name))
            return true;
    return false;
}

//  The repack at the moment of the flush, then the flush's end, then the retire: the blob of
//  the half-written pack and every commit must still be there.
static void
s_check_repack_spares_pack_without_index (void)
{
    git_oid blob;
    statestore_pack_t *pack = s_pack_without_index (&blob);
    zlist_t *replaced = s_repack ();
    cr_assert (gt (sz, zlist_size (replaced), 0), "the repack replaced nothing");
    cr_assert (not (s_listed (replaced, statestore_pack_name (pack))),
               "the repack replaced %s, whose index was not in place",
               statestore_pack_name (pack));
    s_write_index (pack);
    cr_assert (eq (int, statestore_repo_retire_packs (s_repo, replaced), 0));
    git_odb *odb = NULL;
    cr_assert (eq (int, git_repository_odb (&odb, statestore_repo_git (s_repo)), 0));
    cr_assert (git_odb_exists (odb, &blob), "the blob of %s is gone",
               statestore_pack_name (pack));
    for (int64_t rev = 1; rev <= statestore_repo_rev (s_repo); rev++) {
        git_oid commit;
        cr_assert (eq (int, statestore_repo_commit_at (s_repo, rev, &commit), 0));
        cr_assert (git_odb_exists (odb, &commit), "the commit of rev %lld is gone",
                   (long long) rev);
    }
    git_odb_free (odb);
    zlist_destroy (&replaced);
    statestore_pack_destroy (&pack);
}

Test (statestore_repack, a_full_repack_leaves_a_pack_whose_index_is_not_in_place)
{
    //  Packs of about one size: the small ones add up to half the largest, a full repack.
    for (uint32_t seed = 1; seed <= 3; seed++)
        s_commit (seed, 100);
    s_check_repack_spares_pack_without_index ();
}

Test (statestore_repack, an_incremental_repack_leaves_a_pack_whose_index_is_not_in_place)
{
    //  One large pack and two small: all packs but the largest are folded.
    s_commit (1, 64 * 1024);
    s_commit (2, 100);
    s_commit (3, 100);
    s_check_repack_spares_pack_without_index ();
}

Test (statestore_repack, a_history_with_a_missing_commit_is_refused_at_open)
{
    s_commit (1, 100);
    s_commit (2, 100);
    s_commit (3, 100);
    git_oid middle;
    cr_assert (eq (int, statestore_repo_commit_at (s_repo, 2, &middle), 0));
    statestore_repo_destroy (&s_repo);
    //  Remove the pack that holds revision 2: the history from the ref has a hole.
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr (hex, sizeof hex, &middle);
    cr_assert (eq (int, test_shell ("cd %s/objects/pack && for idx in *.idx; do "
                                    "git show-index < $idx | grep -q %s && "
                                    "rm ${idx%%.idx}.pack $idx; done; true", s_path, hex), 0));
    char reason[256] = "";
    s_repo = statestore_repo_new (s_path, reason, sizeof reason);
    cr_assert (eq (ptr, s_repo, NULL), "opened at rev %lld, as if the history were shorter",
               (long long) statestore_repo_rev (s_repo));
    cr_assert (strstr (reason, "reading history") != NULL, "reason: %s", reason);
}
