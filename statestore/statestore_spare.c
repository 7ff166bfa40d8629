/*  statestore_spare: the pool of empty files.  */

#include <dirent.h>

#include "statestore_spare.h"
#include <czmq.h>

struct _statestore_spare_t {
    char *directory;             // owned
    uint64_t *names;             // owned: numbers of the spare files "sN" in the pool
    size_t count;
    size_t capacity;
    uint64_t next;               // the next unused number
};

static void
s_path (statestore_spare_t *self, uint64_t name, char *path, size_t size)
{
    snprintf (path, size, "%s/s%llu", self->directory, (unsigned long long) name);
}

static void
s_push (statestore_spare_t *self, uint64_t name)
{
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 64;
        self->names = (uint64_t *) realloc (self->names, self->capacity * sizeof (uint64_t));
    }
    self->names[self->count++] = name;
}

statestore_spare_t *
statestore_spare_new (const char *directory)
{
    if (zsys_dir_create ("%s", directory))
        return NULL;
    statestore_spare_t *self = (statestore_spare_t *) zmalloc (sizeof (statestore_spare_t));
    self->directory = strdup (directory);
    self->next = 1;
    DIR *listing = opendir (directory);
    struct dirent *entry;
    while (listing && (entry = readdir (listing))) {
        char *end;
        unsigned long long name = strtoull (entry->d_name + 1, &end, 10);
        if (entry->d_name[0] != 's' || *end || end == entry->d_name + 1)
            continue;
        char path[PATH_MAX];
        s_path (self, name, path, sizeof path);
        struct stat status;
        //  Linked elsewhere too: a replace was cut short. That inode is live; drop the name.
        if (stat (path, &status) || status.st_nlink != 1) {
            unlink (path);
            continue;
        }
        s_push (self, name);
        if (name >= self->next)
            self->next = name + 1;
    }
    if (listing)
        closedir (listing);
    return self;
}

void
statestore_spare_destroy (statestore_spare_t **self_p)
{
    assert (self_p);
    statestore_spare_t *self = *self_p;
    if (!self)
        return;
    free (self->names);
    free (self->directory);
    free (self);
    *self_p = NULL;
}

static int
s_write_all (int fd, const void *data, size_t size)
{
    const char *cursor = (const char *) data;
    while (size > 0) {
        ssize_t written = write (fd, cursor, size);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return -1;
        cursor += written;
        size -= (size_t) written;
    }
    return 0;
}

//  Open a spare for writing (emptied), or a new file when the pool is empty. Returns the fd
//  and its number in *NAME, or -1.
static int
s_take (statestore_spare_t *self, uint64_t *name)
{
    char path[PATH_MAX];
    while (self->count > 0) {
        *name = self->names[--self->count];
        s_path (self, *name, path, sizeof path);
        int fd = open (path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        struct stat status;
        if (fd >= 0 && fstat (fd, &status) == 0 && status.st_nlink == 1)
            return fd;
        if (fd >= 0)
            close (fd);
    }
    *name = self->next++;
    s_path (self, *name, path, sizeof path);
    return open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
}

int
statestore_spare_write (statestore_spare_t *self, const char *path, const void *data,
                        size_t size)
{
    assert (self);
    uint64_t name;
    int fd = s_take (self, &name);
    if (fd < 0)
        return -1;
    int rc = s_write_all (fd, data, size) || fdatasync (fd) ? -1 : 0;
    int saved = errno;
    close (fd);
    char spare[PATH_MAX];
    s_path (self, name, spare, sizeof spare);
    if (rc) {
        s_push (self, name);
        errno = saved;
        return -1;
    }
    //  Keep the inode PATH has now: link it into the pool before the rename replaces it.
    uint64_t old_name = self->next++;
    char old_spare[PATH_MAX];
    s_path (self, old_name, old_spare, sizeof old_spare);
    bool kept_old = link (path, old_spare) == 0;
    if (rename (spare, path)) {
        saved = errno;
        if (kept_old)
            unlink (old_spare);
        s_push (self, name);
        errno = saved;
        return -1;
    }
    if (kept_old) {
        //  Writable by us later whatever mode it had (libgit2 writes packs 0444).
        if (truncate (old_spare, 0) == 0 && chmod (old_spare, 0640) == 0
            && self->count < STATESTORE_SPARE_MAX)
            s_push (self, old_name);
        else
            unlink (old_spare);
    }
    return 0;
}

int
statestore_spare_retire (statestore_spare_t *self, const char *path)
{
    assert (self);
    if (self->count >= STATESTORE_SPARE_MAX)
        return unlink (path);
    uint64_t name = self->next++;
    char spare[PATH_MAX];
    s_path (self, name, spare, sizeof spare);
    if (rename (path, spare))
        return -1;
    if (truncate (spare, 0) || chmod (spare, 0640))
        return unlink (spare);
    s_push (self, name);
    return 0;
}

int
statestore_spare_sync (const char *directory)
{
    int fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

size_t
statestore_spare_count (statestore_spare_t *self)
{
    assert (self);
    return self->count;
}
