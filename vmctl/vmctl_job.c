/*  vmctl_job: a job's life: made by the main thread, run by a worker, read back.  */

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vmctl_job.h"

vmctl_job_t *
vmctl_job_new (vmctl_job_kind_t kind, const char *service, const char *target)
{
    vmctl_job_t *self = (vmctl_job_t *) zmalloc (sizeof (vmctl_job_t));
    self->kind = kind;
    if (service) {
        proto_copy (self->key, sizeof self->key, service);
        proto_copy (self->domain.service, sizeof self->domain.service, service);
    }
    if (target)
        proto_copy (self->domain.target, sizeof self->domain.target, target);
    return self;
}

void
vmctl_job_destroy (vmctl_job_t **self_p)
{
    assert (self_p);
    vmctl_job_t *self = *self_p;
    if (!self)
        return;
    free (self->domains);
    free (self->xml);
    free (self);
    *self_p = NULL;
}

vmctl_domain_t *
vmctl_job_add_domain (vmctl_job_t *self, const char *service, const char *target)
{
    assert (self);
    self->domains = (vmctl_domain_t *) realloc (self->domains,
                                                (self->domain_count + 1) * sizeof (vmctl_domain_t));
    assert (self->domains);
    vmctl_domain_t *domain = &self->domains[self->domain_count++];
    memset (domain, 0, sizeof *domain);
    proto_copy (domain->service, sizeof domain->service, service);
    proto_copy (domain->target, sizeof domain->target, target);
    return domain;
}

int
vmctl_job_fail (vmctl_job_t *self, const char *call)
{
    assert (self);
    const char *message = virGetLastErrorMessage ();
    snprintf (self->error, sizeof self->error, "%s: %s", call,
              message && *message ? message : "unknown error");
    self->rc = -1;
    return -1;
}

void
vmctl_job_timed (vmctl_job_t *self, vmctl_call_t call, int64_t started_us)
{
    assert (self && call < VMCTL_CALLS);
    if (self->call_count == VMCTL_JOB_CALLS_MAX)
        return;
    vmctl_timed_call_t *timed = &self->calls[self->call_count++];
    timed->call = call;
    timed->us = zclock_usecs () - started_us;
}

static const struct {
    const char *name, *function;
} s_calls[VMCTL_CALLS] = {
    [VMCTL_CALL_CREATE] = {"create", "virDomainCreateXML"},
    [VMCTL_CALL_START] = {"start", "virDomainCreate"},
    [VMCTL_CALL_RESTORE] = {"restore", "virDomainRestoreFlags"},
    [VMCTL_CALL_RESUME] = {"resume", "virDomainResume"},
    [VMCTL_CALL_DESTROY] = {"destroy", "virDomainDestroy"},
    [VMCTL_CALL_SHUTDOWN] = {"shutdown", "virDomainShutdown"},
    [VMCTL_CALL_SUSPEND] = {"suspend", "virDomainSuspend"},
    [VMCTL_CALL_SAVE] = {"save", "virDomainSaveFlags"},
};

const char *
vmctl_call_name (vmctl_call_t call)
{
    return call < VMCTL_CALLS ? s_calls[call].name : "?";
}

const char *
vmctl_call_function (vmctl_call_t call)
{
    return call < VMCTL_CALLS ? s_calls[call].function : "?";
}

const char *
vmctl_job_kind_name (vmctl_job_kind_t kind)
{
    static const char *const names[] = {"boot",    "destroy", "shutdown", "suspend",
                                        "save",    "stats",   "list"};
    return kind < VMCTL_JOB_KINDS ? names[kind] : "?";
}

const char *
vmctl_booted_name (vmctl_booted_t booted)
{
    static const char *const names[] = {"created", "started", "restored", "resumed", "running"};
    return booted <= VMCTL_BOOTED_RUNNING ? names[booted] : "?";
}
