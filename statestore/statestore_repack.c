/*  statestore_repack: one delta-compressed pack out of many.  */

#include <dirent.h>
#include <git2.h>

#include "statestore_repack.h"
#include "statestore_repo.h"

//  The packs present now, by base name ("pack-<sha>").
static zlist_t *
s_list_packs (const char *path)
{
    zlist_t *names = zlist_new ();
    zlist_autofree (names);
    char *directory_path = zsys_sprintf ("%s/objects/pack", path);
    DIR *directory = opendir (directory_path);
    struct dirent *entry;
    while (directory && (entry = readdir (directory))) {
        size_t length = strlen (entry->d_name);
        if (length > 5 && streq (entry->d_name + length - 5, ".pack")
            && !strncmp (entry->d_name, "pack-", 5)) {
            char *name = strndup (entry->d_name, length - 5);
            zlist_append (names, name);
            free (name);
        }
    }
    if (directory)
        closedir (directory);
    zstr_free (&directory_path);
    return names;
}

static int
s_insert_object (const git_oid *id, void *argument)
{
    return git_packbuilder_insert ((git_packbuilder *) argument, id, NULL);
}

//  Write one pack of everything; OLD_PACKS loses the new pack's own name if it was there.
static int
s_repack (const char *path, zlist_t *old_packs, char *reason, size_t reason_size)
{
    git_repository *git = NULL;
    git_packbuilder *builder = NULL;
    git_revwalk *walk = NULL;
    git_odb *odb = NULL;
    git_oid head;
    int rc = -1;
    char *pack_directory = zsys_sprintf ("%s/objects/pack", path);
    //  History first, so the packbuilder knows paths and finds good deltas; then every
    //  object in the old packs, reachable or not, so that nothing a later commit may reuse is
    //  lost when they are deleted.
    if (git_repository_open_bare (&git, path) || git_packbuilder_new (&builder, git)
        || git_repository_odb (&odb, git))
        goto cleanup;
    git_packbuilder_set_threads (builder, 1);
    if (git_reference_name_to_id (&head, git, STATESTORE_REPO_REF) == 0
        && (git_revwalk_new (&walk, git) || git_revwalk_push (walk, &head)
            || git_packbuilder_insert_walk (builder, walk)))
        goto cleanup;
    if (git_odb_foreach (odb, s_insert_object, builder)
        || git_packbuilder_write (builder, pack_directory, 0, NULL, NULL))
        goto cleanup;
    const char *written = git_packbuilder_name (builder);
    for (const char *name = (const char *) zlist_first (old_packs); name;
         name = (const char *) zlist_next (old_packs)) {
        if (!strncmp (name + 5, written, strlen (written))) {
            zlist_remove (old_packs, (void *) name);
            break;
        }
    }
    rc = 0;
cleanup:
    if (rc)
        snprintf (reason, reason_size, "%s",
                  git_error_last () ? git_error_last ()->message : "unknown failure");
    zstr_free (&pack_directory);
    git_revwalk_free (walk);
    git_odb_free (odb);
    git_packbuilder_free (builder);
    git_repository_free (git);
    return rc;
}

void
statestore_repack_actor (zsock_t *pipe, void *argument)
{
    const char *path = (const char *) argument;
    git_libgit2_init ();
    zsock_signal (pipe, 0);
    while (!zsys_interrupted) {
        char *command = zstr_recv (pipe);
        if (!command || streq (command, "$TERM")) {
            zstr_free (&command);
            break;
        }
        if (streq (command, "REPACK")) {
            zlist_t *old_packs = s_list_packs (path);
            char reason[256];
            if (s_repack (path, old_packs, reason, sizeof reason))
                zstr_sendx (pipe, "FAILED", reason, NULL);
            else {
                zmsg_t *done = zmsg_new ();
                zmsg_addstr (done, "DONE");
                for (const char *name = (const char *) zlist_first (old_packs); name;
                     name = (const char *) zlist_next (old_packs))
                    zmsg_addstr (done, name);
                zmsg_send (&done, pipe);
            }
            zlist_destroy (&old_packs);
        }
        zstr_free (&command);
    }
    git_libgit2_shutdown ();
}
