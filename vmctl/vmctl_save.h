/*  vmctl_save: the saved tier's files. One file a service, in vmctl's save_dir, named after
    the service and a fingerprint of what it would boot (the template's domain XML, or the
    defined domain's name): a file saved before the template changed is never restored.

    A save is written under a temporary name and renamed once complete and on disk, so a
    vmctl or libvirtd killed mid-save leaves the previous file or none, never half of one.
    Only worker threads call what touches files (vmctl_exec); the names are pure.  */

#ifndef VMCTL_SAVE_H_INCLUDED
#define VMCTL_SAVE_H_INCLUDED

#include "vmctl_config.h"

#define VMCTL_SAVE_PATH_MAX (VMCTL_SAVE_DIR_MAX + PROTO_NAME_MAX + 32)

//  The file for SERVICE booting WHAT (XML or domain name) in DIR, into PATH (SIZE bytes):
//  "DIR/SERVICE-<16 hex digits>.save". Returns 0, or -1 when it does not fit.
int vmctl_save_path (const char *dir, const char *service, const char *what, char *path,
                     size_t size);

//  Whether PATH exists.
bool vmctl_save_exists (const char *path);

//  Make the finished save TEMPORARY durable under PATH (fsync, rename, fsync the directory).
//  Returns 0, or -1 with errno set (TEMPORARY is then removed).
int vmctl_save_commit (const char *temporary, const char *path);

//  Remove every file of SERVICE in DIR (saves and unfinished saves) but KEEP (may be NULL).
//  Returns how many were removed.
int vmctl_save_forget (const char *dir, const char *service, const char *keep);

#endif
