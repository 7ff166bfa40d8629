/*  vmctl_exec: what each job does through libvirt. Blocking: only worker threads call it.

    Every failure is reported as libvirt reports it, prefixed by the call that failed
    ("virDomainCreateXML: XML error: ..."), which is what vm.failed carries.  */

#ifndef VMCTL_EXEC_H_INCLUDED
#define VMCTL_EXEC_H_INCLUDED

#include <libvirt/libvirt.h>

#include "vmctl_job.h"

//  Run JOB on CONN (borrowed) and fill its results.
void vmctl_exec_run (vmctl_job_t *job, virConnectPtr conn);

//  What vmctl makes of a virDomainState.
vmctl_domain_state_t vmctl_exec_domain_state (int state);

//  Whether TEXT is a UUID in its 36-character text form.
bool vmctl_exec_is_uuid (const char *text);

#endif
