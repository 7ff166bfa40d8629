/*  vmctl_exec: boot, the stop modes, counters and lookups as libvirt calls.  */

#include <libvirt/virterror.h>
#include <unistd.h>

#include "vmctl_exec.h"
#include "vmctl_xml.h"

bool
vmctl_exec_is_uuid (const char *text)
{
    if (strlen (text) != 36)
        return false;
    for (int index = 0; index < 36; index++) {
        bool dash = index == 8 || index == 13 || index == 18 || index == 23;
        if (dash ? text[index] != '-' : !isxdigit ((unsigned char) text[index]))
            return false;
    }
    return true;
}

vmctl_domain_state_t
vmctl_exec_domain_state (int state)
{
    switch (state) {
    case VIR_DOMAIN_PAUSED:
        return VMCTL_DOMAIN_PAUSED;
    case VIR_DOMAIN_CRASHED:
        return VMCTL_DOMAIN_CRASHED;
    case VIR_DOMAIN_SHUTOFF:
    case VIR_DOMAIN_NOSTATE:
        return VMCTL_DOMAIN_OFF;
    default:
        return VMCTL_DOMAIN_RUNNING;  // running, blocked, shutting down, PM-suspended
    }
}

//  The domain TARGET names (by UUID or name), or NULL with libvirt's error set; *CALL names
//  the lookup that was made.
static virDomainPtr
s_lookup (virConnectPtr conn, const char *target, const char **call)
{
    if (vmctl_exec_is_uuid (target)) {
        *call = "virDomainLookupByUUIDString";
        return virDomainLookupByUUIDString (conn, target);
    }
    *call = "virDomainLookupByName";
    return virDomainLookupByName (conn, target);
}

//  Whether the last libvirt error says the domain does not exist.
static bool
s_no_domain (void)
{
    return virGetLastErrorCode () == VIR_ERR_NO_DOMAIN;
}

//  libvirt 9 picks host-side interface names (vnetN) in its LXC and QEMU drivers with a race:
//  now and then a start fails with "unable to create vnetX <-> vnetY veth pair: File exists"
//  (2 of about 40 LXC boots in bench/e2e.sh). That failure leaves nothing behind: whether to
//  try again after ATTEMPT failed attempts (at most two more).
static bool
s_name_race (int attempt)
{
    const char *message = virGetLastErrorMessage ();
    if (attempt >= 2 || !message || !strstr (message, "File exists"))
        return false;
    zsys_warning ("vmctl_exec: start failed, trying again error=%s", message);
    zclock_sleep (50);
    return true;
}

//  Start DOM (CALL: START, or RESTORE when it has a managed save image), timing each try.
static int
s_start (vmctl_job_t *job, virDomainPtr dom, vmctl_call_t call)
{
    for (int attempt = 0;; attempt++) {
        int64_t started = zclock_usecs ();
        int rc = virDomainCreate (dom);
        vmctl_job_timed (job, call, started);
        if (rc == 0 || !s_name_race (attempt))
            return rc;
    }
}

static virDomainPtr
s_create_xml (vmctl_job_t *job, virConnectPtr conn, const char *xml)
{
    for (int attempt = 0;; attempt++) {
        int64_t started = zclock_usecs ();
        virDomainPtr dom = virDomainCreateXML (conn, xml, 0);
        vmctl_job_timed (job, VMCTL_CALL_CREATE, started);
        if (dom || !s_name_race (attempt))
            return dom;
    }
}

//  virDomainDestroy, timed.
static int
s_destroy_call (vmctl_job_t *job, virDomainPtr dom)
{
    int64_t started = zclock_usecs ();
    int rc = virDomainDestroy (dom);
    vmctl_job_timed (job, VMCTL_CALL_DESTROY, started);
    return rc;
}

//  Fill DOMAIN from DOM: identity, state, memory and, when it is active, its interface.
//  Failures leave fields empty: they never undo what a job did.
static void
s_describe (virDomainPtr dom, vmctl_domain_t *domain)
{
    domain->found = true;
    const char *name = virDomainGetName (dom);
    proto_copy (domain->name, sizeof domain->name, name ? name : "");
    if (virDomainGetUUIDString (dom, domain->uuid))
        domain->uuid[0] = '\0';
    int state = VIR_DOMAIN_NOSTATE, reason = 0;
    if (virDomainGetState (dom, &state, &reason, 0))
        state = VIR_DOMAIN_NOSTATE;
    domain->state = vmctl_exec_domain_state (state);
    domain->crashed = state == VIR_DOMAIN_SHUTOFF && reason == VIR_DOMAIN_SHUTOFF_CRASHED;
    domain->persistent = virDomainIsPersistent (dom) == 1;
    domain->managed_save = domain->persistent && virDomainHasManagedSaveImage (dom, 0) == 1;
    unsigned long memory = virDomainGetMaxMemory (dom);
    domain->memory_kib = memory;
    domain->mac[0] = domain->iface[0] = '\0';
    if (virDomainIsActive (dom) == 1) {
        char *xml = virDomainGetXMLDesc (dom, 0);
        if (xml)
            vmctl_xml_interface (xml, domain->wanted_mac, domain->mac, domain->iface);
        free (xml);
    }
    virResetLastError ();
}

//  Honour an injected fault for CALL: returns 1 when the call must be skipped (the job has
//  failed or pretends success), 0 to make it.
static int
s_fault (vmctl_job_t *job, const char *call)
{
    if (job->fault == VMCTL_FAULT_FAIL) {
        snprintf (job->error, sizeof job->error, "%s: injected fault", call);
        job->rc = -1;
        return 1;
    }
    return job->fault == VMCTL_FAULT_IGNORE ? 1 : 0;
}

//  FUNCTION, the libvirt call timed as CALL from STARTED (zclock_usecs), has just returned RC:
//  record its time, and fail the job naming it when RC is not 0 (libvirt's last error is
//  still its own).
static void
s_called (vmctl_job_t *job, const char *function, vmctl_call_t call, int64_t started, int rc)
{
    vmctl_job_timed (job, call, started);
    if (rc)
        vmctl_job_fail (job, function);
}

//  Restore the domain from its save file (and remove the file: the memory it holds is stale
//  once the guest runs). Returns 0 with *DOM_P the restored domain, or -1 after a failure,
//  which removes the file and leaves JOB's note saying why (*DOM_P is kept).
static int
s_restore (vmctl_job_t *job, virConnectPtr conn, virDomainPtr *dom_p)
{
    const char *path = job->domain.save_path;
    job->booted = VMCTL_BOOTED_RESTORED;
    job->call_us = zclock_usecs ();
    int rc = -1;
    if (s_fault (job, "virDomainRestoreFlags")) {
        //  Injected: as a libvirt failure, the cold boot follows.
        job->rc = 0;
        virResetLastError ();
    }
    else {
        //  No flags: the image says whether it runs (see s_save).
        rc = virDomainRestoreFlags (conn, path, NULL, 0);
        vmctl_job_timed (job, VMCTL_CALL_RESTORE, job->call_us);
    }
    if (rc == 0) {
        const char *call;
        virDomainPtr restored = s_lookup (conn, job->domain.target, &call);
        if (restored) {
            if (*dom_p)
                virDomainFree (*dom_p);
            *dom_p = restored;
            unlink (path);
            return 0;
        }
        snprintf (job->note, sizeof job->note, "%s: %s after the restore", call,
                  virGetLastErrorMessage ());
    }
    else
        snprintf (job->note, sizeof job->note, "virDomainRestoreFlags: %s",
                  virGetLastErrorCode () ? virGetLastErrorMessage () : "injected fault");
    virResetLastError ();
    unlink (path);
    return -1;
}

//  Bring the domain up as its state asks: resume, destroy a half-dead one, start, or create
//  it from the template. *DOM_P is the domain afterwards (owned; NULL when there is none).
static void
s_bring_up (vmctl_job_t *job, virConnectPtr conn, virDomainPtr *dom_p)
{
    const char *call;
    virDomainPtr dom = *dom_p = s_lookup (conn, job->domain.target, &call);
    if (!dom && !(job->xml && s_no_domain ())) {
        vmctl_job_fail (job, call);
        return;
    }
    if (dom) {
        int state = VIR_DOMAIN_NOSTATE, reason = 0;
        if (virDomainGetState (dom, &state, &reason, 0)) {
            vmctl_job_fail (job, "virDomainGetState");
            return;
        }
        if (state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED) {
            job->booted = VMCTL_BOOTED_RUNNING;
            return;
        }
        job->call_us = zclock_usecs ();
        if (state == VIR_DOMAIN_PAUSED || state == VIR_DOMAIN_PMSUSPENDED) {
            job->booted = VMCTL_BOOTED_RESUMED;
            bool paused = state == VIR_DOMAIN_PAUSED;
            const char *function = paused ? "virDomainResume" : "virDomainPMWakeup";
            if (s_fault (job, function) == 0) {
                int64_t started = zclock_usecs ();
                int rc = paused ? virDomainResume (dom) : virDomainPMWakeup (dom, 0);
                s_called (job, function, VMCTL_CALL_RESUME, started, rc);
            }
            return;
        }
        if (state == VIR_DOMAIN_SHUTDOWN || state == VIR_DOMAIN_CRASHED) {
            //  Half-dead: clear it, then start afresh. A transient domain goes away here.
            if (s_destroy_call (job, dom) && virDomainIsActive (dom) == 1) {
                vmctl_job_fail (job, "virDomainDestroy");
                return;
            }
            if (virDomainIsPersistent (dom) != 1) {
                virDomainFree (dom);
                dom = *dom_p = NULL;
            }
        }
    }
    if (job->domain.save_path[0] && vmctl_save_exists (job->domain.save_path)) {
        //  The saved tier: its file brings it back running, or it cold-boots without it.
        if (s_restore (job, conn, dom_p) == 0)
            return;
        dom = *dom_p;
    }
    if (dom) {
        bool restore = virDomainHasManagedSaveImage (dom, 0) == 1;
        job->booted = restore ? VMCTL_BOOTED_RESTORED : VMCTL_BOOTED_STARTED;
        job->call_us = zclock_usecs ();
        if (s_fault (job, "virDomainCreate") == 0
            && s_start (job, dom, restore ? VMCTL_CALL_RESTORE : VMCTL_CALL_START))
            vmctl_job_fail (job, "virDomainCreate");
        return;
    }
    if (!job->xml) {
        snprintf (job->error, sizeof job->error, "%s: domain '%s' went away", call,
                  job->domain.target);
        job->rc = -1;
        return;
    }
    job->booted = VMCTL_BOOTED_CREATED;
    job->call_us = zclock_usecs ();
    if (s_fault (job, "virDomainCreateXML"))
        return;
    *dom_p = s_create_xml (job, conn, job->xml);
    if (!*dom_p)
        vmctl_job_fail (job, "virDomainCreateXML");
}

static void
s_boot (vmctl_job_t *job, virConnectPtr conn)
{
    virDomainPtr dom = NULL;
    s_bring_up (job, conn, &dom);
    if (dom && job->rc == 0)
        s_describe (dom, &job->domain);
    if (dom)
        virDomainFree (dom);
}

//  Remove the service's save files (all of them, or all but KEEP).
static void
s_forget_but (const vmctl_job_t *job, const char *keep)
{
    const char *path = job->domain.save_path;
    const char *slash = strrchr (path, '/');
    if (!slash)
        return;
    char dir[VMCTL_SAVE_PATH_MAX + 1];
    snprintf (dir, sizeof dir, "%.*s", (int) (slash - path), path);
    vmctl_save_forget (dir, job->key, keep);
}

static void
s_forget (const vmctl_job_t *job)
{
    s_forget_but (job, NULL);
}

//  Save the domain to a temporary file, then make it its save file.
static void
s_save (vmctl_job_t *job, virDomainPtr dom)
{
    const char *path = job->domain.save_path;
    if (!path[0]) {
        snprintf (job->error, sizeof job->error, "virDomainSaveFlags: no save file configured");
        job->rc = -1;
        return;
    }
    if (s_fault (job, "virDomainSaveFlags"))
        return;
    s_forget_but (job, path);  // saves of an older template
    char temporary[VMCTL_SAVE_PATH_MAX + 8];
    snprintf (temporary, sizeof temporary, "%s.tmp", path);
    int64_t started = zclock_usecs ();
    //  A domain saved while paused (a demotion) must run when restored: RUNNING says so in
    //  the image. A running one runs anyway (and libvirt's test driver takes no flags).
    int state = VIR_DOMAIN_NOSTATE, reason = 0;
    virDomainGetState (dom, &state, &reason, 0);
    unsigned int flags = state == VIR_DOMAIN_PAUSED ? VIR_DOMAIN_SAVE_RUNNING : 0;
    int rc = virDomainSaveFlags (dom, temporary, NULL, flags);
    vmctl_job_timed (job, VMCTL_CALL_SAVE, started);
    if (rc) {
        vmctl_job_fail (job, "virDomainSaveFlags");
        unlink (temporary);
    }
    else if (vmctl_save_commit (temporary, path)) {
        snprintf (job->error, sizeof job->error, "rename %s: %s", path, strerror (errno));
        job->rc = -1;
    }
}

//  DESTROY succeeds when the domain is off afterwards, whoever turned it off.
static void
s_destroy (vmctl_job_t *job, virConnectPtr conn)
{
    //  Off means no tier: a save file of the service goes too.
    s_forget (job);
    const char *call;
    virDomainPtr dom = s_lookup (conn, job->domain.target, &call);
    if (!dom) {
        if (s_no_domain ())
            job->was_off = true;
        else
            vmctl_job_fail (job, call);
        return;
    }
    if (virDomainIsActive (dom) == 0)
        job->was_off = true;
    else if (s_fault (job, "virDomainDestroy") == 0 && s_destroy_call (job, dom)) {
        //  It may have powered off by itself meanwhile (a shutdown completing).
        if (virDomainIsActive (dom) == 0 || s_no_domain ())
            job->was_off = true;
        else
            vmctl_job_fail (job, "virDomainDestroy");
    }
    virResetLastError ();
    virDomainFree (dom);
}

static void
s_call (vmctl_job_t *job, virConnectPtr conn)
{
    const char *call;
    virDomainPtr dom = s_lookup (conn, job->domain.target, &call);
    if (!dom) {
        vmctl_job_fail (job, call);
        return;
    }
    virDomainInterfaceStatsStruct stats;
    int64_t started = zclock_usecs ();
    switch (job->kind) {
    case VMCTL_JOB_SHUTDOWN:
        if (s_fault (job, "virDomainShutdown") == 0) {
            int rc = virDomainShutdown (dom);
            s_called (job, "virDomainShutdown", VMCTL_CALL_SHUTDOWN, started, rc);
        }
        break;
    case VMCTL_JOB_SUSPEND:
        if (s_fault (job, "virDomainSuspend") == 0) {
            int rc = virDomainSuspend (dom);
            s_called (job, "virDomainSuspend", VMCTL_CALL_SUSPEND, started, rc);
        }
        break;
    case VMCTL_JOB_SAVE:
        s_save (job, dom);
        break;
    case VMCTL_JOB_STATS:
        if (s_fault (job, "virDomainInterfaceStats"))
            break;
        if (virDomainInterfaceStats (dom, job->device, &stats, sizeof stats)) {
            vmctl_job_fail (job, "virDomainInterfaceStats");
            break;
        }
        job->traffic.rx_bytes = stats.rx_bytes;
        job->traffic.rx_packets = stats.rx_packets;
        job->traffic.tx_bytes = stats.tx_bytes;
        job->traffic.tx_packets = stats.tx_packets;
        break;
    default:
        assert (false);
    }
    virDomainFree (dom);
}

static void
s_list (vmctl_job_t *job, virConnectPtr conn)
{
    for (size_t index = 0; index < job->domain_count; index++) {
        vmctl_domain_t *domain = &job->domains[index];
        const char *call;
        domain->saved = vmctl_save_exists (domain->save_path);
        virDomainPtr dom = s_lookup (conn, domain->target, &call);
        if (dom) {
            s_describe (dom, domain);
            virDomainFree (dom);
        }
        else if (!s_no_domain ()) {
            //  The connection is gone or refuses: what we read so far cannot be trusted.
            vmctl_job_fail (job, call);
            return;
        }
        virResetLastError ();
    }
}

void
vmctl_exec_run (vmctl_job_t *job, virConnectPtr conn)
{
    assert (job && conn);
    job->rc = 0;
    job->error[0] = '\0';
    job->call_count = 0;
    switch (job->kind) {
    case VMCTL_JOB_BOOT:
        s_boot (job, conn);
        break;
    case VMCTL_JOB_DESTROY:
        s_destroy (job, conn);
        break;
    case VMCTL_JOB_LIST:
        s_list (job, conn);
        break;
    default:
        s_call (job, conn);
    }
    virResetLastError ();
    job->done_us = zclock_usecs ();
}
