/*  vmctl_save: names, atomic commits and cleanup of the saved tier's files.  */

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "vmctl_save.h"

int
vmctl_save_path (const char *dir, const char *service, const char *what, char *path,
                 size_t size)
{
    assert (dir && service && what && path);
    //  FNV-1a, 64 bits: a fingerprint, not a defence (the directory is vmctl's own).
    uint64_t hash = UINT64_C (14695981039346656037);
    for (const char *cursor = what; *cursor; cursor++) {
        hash ^= (unsigned char) *cursor;
        hash *= UINT64_C (1099511628211);
    }
    int written = snprintf (path, size, "%s/%s-%016llx.save", dir, service,
                            (unsigned long long) hash);
    return written > 0 && (size_t) written < size ? 0 : -1;
}

bool
vmctl_save_exists (const char *path)
{
    return path[0] && access (path, F_OK) == 0;
}

//  fsync PATH (a file or a directory). Returns 0 or -1.
static int
s_sync (const char *path, int flags)
{
    int fd = open (path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

int
vmctl_save_commit (const char *temporary, const char *path)
{
    assert (temporary && path);
    char dir[VMCTL_SAVE_PATH_MAX + 1];
    snprintf (dir, sizeof dir, "%s", path);
    char *slash = strrchr (dir, '/');
    if (slash)
        *slash = '\0';
    if (s_sync (temporary, O_RDONLY) || rename (temporary, path)
        || s_sync (slash ? dir : ".", O_RDONLY | O_DIRECTORY)) {
        int saved = errno;
        unlink (temporary);
        errno = saved;
        return -1;
    }
    return 0;
}

int
vmctl_save_forget (const char *dir, const char *service, const char *keep)
{
    assert (dir && service);
    DIR *directory = opendir (dir);
    if (!directory)
        return 0;
    char prefix[PROTO_NAME_MAX + 2];
    snprintf (prefix, sizeof prefix, "%s-", service);
    const char *kept = keep ? strrchr (keep, '/') : NULL;
    kept = kept ? kept + 1 : keep;
    int removed = 0;
    struct dirent *entry;
    while ((entry = readdir (directory))) {
        const char *name = entry->d_name;
        //  SERVICE-<16 hex>.save or .save.tmp: another service's name may begin like ours,
        //  so the fingerprint's shape is checked too.
        size_t length = strlen (prefix);
        if (strncmp (name, prefix, length) || strlen (name) < length + 21
            || strncmp (name + length + 16, ".save", 5)
            || strspn (name + length, "0123456789abcdef") != 16)
            continue;
        if (kept && streq (name, kept))
            continue;
        char path[VMCTL_SAVE_PATH_MAX + 1];
        snprintf (path, sizeof path, "%s/%s", dir, name);
        removed += unlink (path) == 0;
    }
    closedir (directory);
    return removed;
}
