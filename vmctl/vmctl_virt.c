/*  vmctl_virt: the libvirt actor, the workers, and the notes they send.

    Threads. The main thread owns this object: the job queue, which worker runs what, which
    keys are busy, and a reference to the current connection. The actor thread owns the
    connection itself and runs virEventRunDefaultImpl () in a loop, with its command pipe
    registered as a libvirt event handle; it delivers lifecycle events, notices the connection
    closing, and reconnects. Each worker waits on its own pipe for one job at a time. Jobs go
    from the main thread straight to a worker and come straight back: every note (finished
    job, event, connection change) is pushed to one PULL socket the main thread reads, so a
    boot costs one thread hop each way. Jobs travel as pointers: exactly one thread owns a job
    at any moment.

    Connection references: the actor holds one; with each "connected" note it hands the main
    thread another, which the main thread passes on (one more reference per job) to workers,
    who drop theirs when the job is done. When the connection is lost the main thread sends its
    reference back to the actor to be dropped there, since dropping the last reference of a
    remote connection talks to libvirtd.  */

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdatomic.h>

#include "vmctl_exec.h"
#include "vmctl_virt.h"

#define S_HOUSEKEEPING_MS 100  // see s_on_housekeeping

//  The main thread's side.
struct _vmctl_virt_t {
    zactor_t *actor;                      // owned
    char endpoint[64];                    // where notes are pushed
    zsock_t *notes;                       // owned: PULL, bound
    zsock_t *loopback;                    // owned: PUSH to NOTES, for jobs failed here
    size_t worker_count;
    zactor_t **workers;                   // owned
    vmctl_job_t **worker_jobs;            // the job each worker runs, NULL when idle (borrowed)
    zlistx_t *queue;                      // owned: vmctl_job_t * waiting, in submit order
    zhashx_t *running_keys;               // owned: keys of jobs at a worker
    virConnectPtr conn;                   // a reference from the actor; NULL when down
    char down_reason[PROTO_TEXT_MAX + 1]; // why there is no connection
    vmctl_fault_t faults[VMCTL_JOB_KINDS];
    size_t pending;                       // jobs submitted and not yet read back
};

//  The actor's state; lives on the actor thread.
typedef struct {
    zsock_t *pipe;                        // borrowed from zactor
    zsock_t *notes;                       // owned: PUSH to the main thread
    char uri[256];
    char endpoint[64];
    int reconnect_min_ms;
    int reconnect_max_ms;
    int backoff_ms;                       // the next reconnect wait
    virConnectPtr conn;                   // owned reference; NULL while disconnected
    int lifecycle_id;                     // event callback id, -1 when none
    int reconnect_timer;                  // libvirt timeout ids, -1 when none
    int drop_timer;
    int housekeeping_timer;
    int pipe_watch;                       // libvirt handle id
    int announced;                        // last connection state told: -1 none, 0 down, 1 up
    char down_reason[PROTO_TEXT_MAX + 1];
    bool stopping;
    bool terminated;                      // $TERM already received
} s_actor_t;

//  Only one actor per process runs libvirt's (global) default event loop.
static atomic_bool s_exists;
static pthread_once_t s_libvirt_once = PTHREAD_ONCE_INIT;

//  libvirt prints every error to stderr unless told otherwise; vmctl logs its own.
static void
s_quiet (void *user_data, virErrorPtr error)
{
}

static void
s_libvirt_init (void)
{
    //  Both must happen before any thread uses libvirt or libxml2, and the event
    //  implementation before the first connection is opened.
    xmlInitParser ();
    virInitialize ();
    virSetErrorFunc (NULL, s_quiet);
    virEventRegisterDefaultImpl ();
}

//  Send [COMMAND][pointer] on SOCK.
static int
s_send_pointer (void *sock, const char *command, void *pointer)
{
    return zsock_send (sock, "sp", command, pointer);
}

//  The pointer in FRAME, or NULL.
static void *
s_pointer (zframe_t *frame)
{
    void *pointer = NULL;
    if (frame && zframe_size (frame) == sizeof pointer)
        memcpy (&pointer, zframe_data (frame), sizeof pointer);
    return pointer;
}

//  Workers -------------------------------------------------------------------------------

//  Run jobs from the pipe until $TERM; push each back to ARGUMENT (the notes endpoint).
static void
s_worker (zsock_t *pipe, void *argument)
{
    zsock_t *notes = zsock_new_push ((const char *) argument);
    zsock_signal (pipe, 0);
    while (notes) {
        zmsg_t *msg = zmsg_recv (pipe);
        char *command = msg ? zmsg_popstr (msg) : NULL;
        zframe_t *frame = msg ? zmsg_pop (msg) : NULL;
        vmctl_job_t *job = (vmctl_job_t *) s_pointer (frame);
        bool run = command && streq (command, "JOB") && job;
        zframe_destroy (&frame);
        zstr_free (&command);
        zmsg_destroy (&msg);
        if (!run)
            break;
        vmctl_exec_run (job, (virConnectPtr) job->conn);
        virConnectClose ((virConnectPtr) job->conn);  // the job's own reference
        job->conn = NULL;
        s_send_pointer (notes, "DONE", job);
    }
    zsock_destroy (&notes);
}

//  The actor -----------------------------------------------------------------------------

static void s_connect (s_actor_t *self);
static void s_on_reconnect (int timer, void *opaque);
static void s_on_close (virConnectPtr conn, int reason, void *opaque);

//  Tell the main thread about the connection, once per change; "up" carries a reference.
static void
s_announce (s_actor_t *self, bool up)
{
    if (self->announced == (up ? 1 : 0))
        return;
    self->announced = up ? 1 : 0;
    if (up)
        virConnectRef (self->conn);
    zsock_send (self->notes, "sisp", "CONN", up ? 1 : 0, up ? "" : self->down_reason,
                up ? (void *) self->conn : NULL);
}

//  What vmctl makes of libvirt's lifecycle EVENT with DETAIL.
static vmctl_event_t
s_event (int event, int detail)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
    case VIR_DOMAIN_EVENT_RESUMED:
        return VMCTL_EVENT_STARTED;
    case VIR_DOMAIN_EVENT_STOPPED:
        return detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED ? VMCTL_EVENT_CRASHED
                                                          : VMCTL_EVENT_STOPPED;
    case VIR_DOMAIN_EVENT_CRASHED:
        return VMCTL_EVENT_CRASHED;
    default:
        return VMCTL_EVENT_OTHER;
    }
}

static int
s_on_lifecycle (virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    s_actor_t *self = (s_actor_t *) opaque;
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    const char *name = virDomainGetName (dom);
    virDomainGetUUIDString (dom, uuid);
    zsock_send (self->notes, "sssii8", "EVENT", name ? name : "", uuid, event, detail,
                (uint64_t) zclock_usecs ());
    return 0;
}

static void
s_schedule_reconnect (s_actor_t *self)
{
    if (self->stopping || self->reconnect_timer >= 0)
        return;
    self->reconnect_timer = virEventAddTimeout (self->backoff_ms, s_on_reconnect, self, NULL);
    self->backoff_ms = self->backoff_ms * 2 > self->reconnect_max_ms ? self->reconnect_max_ms
                                                                     : self->backoff_ms * 2;
}

//  Let go of the connection: workers still holding a reference finish with errors.
static void
s_disconnect (s_actor_t *self)
{
    if (!self->conn)
        return;
    if (self->lifecycle_id >= 0)
        virConnectDomainEventDeregisterAny (self->conn, self->lifecycle_id);
    self->lifecycle_id = -1;
    virConnectUnregisterCloseCallback (self->conn, s_on_close);
    virConnectClose (self->conn);
    self->conn = NULL;
    virResetLastError ();
}

static void
s_on_drop (int timer, void *opaque)
{
    s_actor_t *self = (s_actor_t *) opaque;
    virEventRemoveTimeout (timer);
    self->drop_timer = -1;
    if (!self->conn)
        return;
    zsys_warning ("vmctl_virt: connection lost uri=%s reason=%s", self->uri, self->down_reason);
    s_disconnect (self);
    s_announce (self, false);
    s_schedule_reconnect (self);
}

//  libvirt closed the connection (libvirtd died, keepalive timed out). The connection is in
//  use inside this callback, so it is let go of from a timeout, right after.
static void
s_on_close (virConnectPtr conn, int reason, void *opaque)
{
    s_actor_t *self = (s_actor_t *) opaque;
    static const char *const reasons[] = {"error", "end of file", "keepalive timeout",
                                          "closed by client"};
    snprintf (self->down_reason, sizeof self->down_reason,
              "virConnectOpen: connection to %s closed: %s", self->uri,
              reason >= 0 && reason < 4 ? reasons[reason] : "unknown reason");
    if (self->drop_timer < 0)
        self->drop_timer = virEventAddTimeout (0, s_on_drop, self, NULL);
}

static void
s_on_reconnect (int timer, void *opaque)
{
    s_actor_t *self = (s_actor_t *) opaque;
    virEventRemoveTimeout (timer);
    self->reconnect_timer = -1;
    s_connect (self);
}

static void
s_connect (s_actor_t *self)
{
    virConnectPtr conn = virConnectOpen (self->uri);
    if (!conn) {
        const char *message = virGetLastErrorMessage ();
        snprintf (self->down_reason, sizeof self->down_reason, "virConnectOpen: %s",
                  message ? message : "unknown error");
        virResetLastError ();
        if (self->announced != 0)
            zsys_warning ("vmctl_virt: cannot connect uri=%s error=%s", self->uri,
                          self->down_reason);
        s_announce (self, false);
        s_schedule_reconnect (self);
        return;
    }
    self->conn = conn;
    self->lifecycle_id = virConnectDomainEventRegisterAny (
        conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK (s_on_lifecycle),
        self, NULL);
    if (self->lifecycle_id < 0)
        zsys_error ("vmctl_virt: virConnectDomainEventRegisterAny failed uri=%s error=%s",
                    self->uri, virGetLastErrorMessage ());
    //  Both only apply to remote connections (libvirtd); local drivers refuse them.
    virConnectRegisterCloseCallback (conn, s_on_close, self, NULL);
    virConnectSetKeepAlive (conn, 5, 3);
    virResetLastError ();
    self->backoff_ms = self->reconnect_min_ms;
    zsys_info ("vmctl_virt: connected uri=%s", self->uri);
    s_announce (self, true);
}

static void
s_on_command (s_actor_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg)
        return;
    char *command = zmsg_popstr (msg);
    if (!command || streq (command, "STOP") || streq (command, "$TERM")) {
        self->stopping = true;
        self->terminated = !command || streq (command, "$TERM");
    }
    else if (streq (command, "UNREF")) {
        //  The main thread's reference to a lost connection.
        zframe_t *frame = zmsg_pop (msg);
        virConnectPtr conn = (virConnectPtr) s_pointer (frame);
        zframe_destroy (&frame);
        if (conn)
            virConnectClose (conn);
        virResetLastError ();
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
}

//  A ZeroMQ socket's fd only says that its state may have changed: read until ZMQ_EVENTS
//  says the pipe is empty.
static void
s_drain (s_actor_t *self)
{
    while (!self->stopping && (zsock_events (self->pipe) & ZMQ_POLLIN))
        s_on_command (self);
}

static void
s_on_fd (int watch, int fd, int events, void *opaque)
{
    s_drain ((s_actor_t *) opaque);
}

//  A safety net under s_drain: should an fd signal ever be missed, a command waits at most
//  this long instead of forever.
static void
s_on_housekeeping (int timer, void *opaque)
{
    s_drain ((s_actor_t *) opaque);
}

static void
s_actor (zsock_t *pipe, void *argument)
{
    s_actor_t *self = (s_actor_t *) argument;
    self->pipe = pipe;
    char connect_endpoint[80];
    snprintf (connect_endpoint, sizeof connect_endpoint, ">%s", self->endpoint);
    self->notes = zsock_new_push (connect_endpoint);
    bool started = self->notes != NULL;
    if (started) {
        self->pipe_watch = virEventAddHandle (zsock_fd (pipe), VIR_EVENT_HANDLE_READABLE, s_on_fd,
                                              self, NULL);
        self->housekeeping_timer =
            virEventAddTimeout (S_HOUSEKEEPING_MS, s_on_housekeeping, self, NULL);
        started = self->pipe_watch >= 0;
    }
    zsock_signal (pipe, 0);
    zstr_send (pipe, started ? "READY" : "FAILED");
    if (started) {
        s_connect (self);
        s_drain (self);
        while (!self->stopping)
            if (virEventRunDefaultImpl () < 0) {
                zsys_error ("vmctl_virt: virEventRunDefaultImpl failed error=%s",
                            virGetLastErrorMessage ());
                zclock_sleep (100);
            }
    }
    if (self->pipe_watch >= 0)
        virEventRemoveHandle (self->pipe_watch);
    if (self->housekeeping_timer >= 0)
        virEventRemoveTimeout (self->housekeeping_timer);
    if (self->reconnect_timer >= 0)
        virEventRemoveTimeout (self->reconnect_timer);
    if (self->drop_timer >= 0)
        virEventRemoveTimeout (self->drop_timer);
    s_disconnect (self);
    zsock_destroy (&self->notes);
    if (!self->terminated)
        zstr_send (pipe, "STOPPED");
    //  zactor_destroy's $TERM ends the actor; the shim signals it back.
    while (!self->terminated) {
        char *command = zstr_recv (pipe);
        self->terminated = !command || streq (command, "$TERM");
        zstr_free (&command);
    }
    free (self);
}

//  The main thread's side -----------------------------------------------------------------

//  Hand JOB back through the notes socket, failed with REASON, without a libvirt call.
static void
s_fail_here (vmctl_virt_t *self, vmctl_job_t *job, const char *reason)
{
    snprintf (job->error, sizeof job->error, "%s", reason);
    job->rc = -1;
    job->done_us = zclock_usecs ();
    s_send_pointer (self->loopback, "DONE", job);
}

//  Give waiting jobs to idle workers, keeping each key's jobs in order.
static void
s_dispatch (vmctl_virt_t *self)
{
    zhashx_t *blocked = NULL;  // keys that already have an earlier job waiting
    vmctl_job_t *job = (vmctl_job_t *) zlistx_first (self->queue);
    while (job) {
        bool keyed = job->key[0] != '\0';
        if (keyed && (zhashx_lookup (self->running_keys, job->key)
                      || (blocked && zhashx_lookup (blocked, job->key)))) {
            if (!blocked)
                blocked = zhashx_new ();
            zhashx_insert (blocked, job->key, (void *) 1);
            job = (vmctl_job_t *) zlistx_next (self->queue);
            continue;
        }
        if (!self->conn) {
            zlistx_detach_cur (self->queue);
            s_fail_here (self, job, self->down_reason);
            job = (vmctl_job_t *) zlistx_next (self->queue);
            continue;
        }
        size_t worker = 0;
        while (worker < self->worker_count && self->worker_jobs[worker])
            worker++;
        if (worker == self->worker_count)
            break;
        zlistx_detach_cur (self->queue);
        job->fault = self->faults[job->kind];
        job->conn = self->conn;
        virConnectRef (self->conn);
        if (keyed)
            zhashx_insert (self->running_keys, job->key, (void *) 1);
        self->worker_jobs[worker] = job;
        s_send_pointer (self->workers[worker], "JOB", job);
        job = (vmctl_job_t *) zlistx_next (self->queue);
    }
    zhashx_destroy (&blocked);
}

//  Let go of the main thread's connection reference, in the actor's thread.
static void
s_release (vmctl_virt_t *self)
{
    if (!self->conn)
        return;
    s_send_pointer (self->actor, "UNREF", self->conn);
    self->conn = NULL;
}

vmctl_virt_t *
vmctl_virt_new (const char *uri, int workers, int reconnect_min_ms, int reconnect_max_ms)
{
    assert (uri);
    bool expected = false;
    if (!atomic_compare_exchange_strong (&s_exists, &expected, true)) {
        zsys_error ("vmctl_virt: only one per process (libvirt's event loop is global)");
        return NULL;
    }
    pthread_once (&s_libvirt_once, s_libvirt_init);
    vmctl_virt_t *self = (vmctl_virt_t *) zmalloc (sizeof (vmctl_virt_t));
    //  A new name each time: ZeroMQ releases an inproc name after its socket closes, later.
    static atomic_uint s_instances;
    snprintf (self->endpoint, sizeof self->endpoint, "inproc://vmctl-virt-%u",
              atomic_fetch_add (&s_instances, 1));
    snprintf (self->down_reason, sizeof self->down_reason, "virConnectOpen: not connected yet");
    self->queue = zlistx_new ();
    self->running_keys = zhashx_new ();
    self->worker_count = workers > 0 ? (size_t) workers : 1;
    self->workers = (zactor_t **) zmalloc (self->worker_count * sizeof (zactor_t *));
    self->worker_jobs = (vmctl_job_t **) zmalloc (self->worker_count * sizeof (vmctl_job_t *));
    self->notes = zsock_new_pull (self->endpoint);
    char connect_endpoint[80];
    snprintf (connect_endpoint, sizeof connect_endpoint, ">%s", self->endpoint);
    self->loopback = zsock_new_push (connect_endpoint);
    bool started = self->notes && self->loopback;
    for (size_t worker = 0; started && worker < self->worker_count; worker++) {
        self->workers[worker] = zactor_new (s_worker, self->endpoint);
        started = self->workers[worker] != NULL;
    }
    if (started) {
        s_actor_t *actor = (s_actor_t *) zmalloc (sizeof (s_actor_t));
        snprintf (actor->uri, sizeof actor->uri, "%s", uri);
        snprintf (actor->endpoint, sizeof actor->endpoint, "%s", self->endpoint);
        actor->reconnect_min_ms = reconnect_min_ms > 0 ? reconnect_min_ms : 100;
        actor->reconnect_max_ms = reconnect_max_ms >= actor->reconnect_min_ms
                                      ? reconnect_max_ms : actor->reconnect_min_ms;
        actor->backoff_ms = actor->reconnect_min_ms;
        actor->lifecycle_id = -1;
        actor->reconnect_timer = actor->drop_timer = actor->housekeeping_timer = -1;
        actor->pipe_watch = -1;
        actor->announced = -1;
        snprintf (actor->down_reason, sizeof actor->down_reason,
                  "virConnectOpen: not connected yet");
        //  The actor owns ACTOR from here on, and frees it when it ends.
        self->actor = zactor_new (s_actor, actor);
        char *ready = self->actor ? zstr_recv (self->actor) : NULL;
        started = ready && streq (ready, "READY");
        zstr_free (&ready);
    }
    if (!started) {
        zsys_error ("vmctl_virt: the libvirt threads did not start uri=%s", uri);
        vmctl_virt_destroy (&self);
    }
    return self;
}

void
vmctl_virt_destroy (vmctl_virt_t **self_p)
{
    assert (self_p);
    vmctl_virt_t *self = *self_p;
    if (!self)
        return;
    //  The actor first: it stops delivering events and lets go of its reference.
    if (self->actor) {
        zstr_send (self->actor, "STOP");
        while (true) {
            char *command = zstr_recv (self->actor);
            bool done = !command || streq (command, "STOPPED");
            zstr_free (&command);
            if (done)
                break;
        }
        zactor_destroy (&self->actor);
    }
    //  Workers finish the call they are in; then every note still here is read and freed.
    for (size_t worker = 0; worker < self->worker_count; worker++)
        zactor_destroy (&self->workers[worker]);
    while (self->notes && (zsock_events (self->notes) & ZMQ_POLLIN)) {
        //  Finished jobs are freed; a connection reference handed over is dropped.
        zmsg_t *msg = zmsg_recv (self->notes);
        char *command = zmsg_popstr (msg);
        zframe_t *last = zmsg_last (msg);
        void *pointer = s_pointer (last);
        if (command && streq (command, "DONE"))
            vmctl_job_destroy ((vmctl_job_t **) &pointer);
        else if (command && streq (command, "CONN") && zmsg_size (msg) == 3 && pointer)
            virConnectClose ((virConnectPtr) pointer);
        zstr_free (&command);
        zmsg_destroy (&msg);
    }
    for (vmctl_job_t *job = (vmctl_job_t *) zlistx_first (self->queue); job;
         job = (vmctl_job_t *) zlistx_next (self->queue))
        vmctl_job_destroy (&job);
    //  Nothing else uses libvirt now: the last reference may be dropped here.
    if (self->conn)
        virConnectClose (self->conn);
    virResetLastError ();
    zsock_destroy (&self->loopback);
    zsock_destroy (&self->notes);
    zlistx_destroy (&self->queue);
    zhashx_destroy (&self->running_keys);
    free (self->workers);
    free (self->worker_jobs);
    free (self);
    atomic_store (&s_exists, false);
    *self_p = NULL;
}

void
vmctl_virt_submit (vmctl_virt_t *self, vmctl_job_t **job_p)
{
    assert (self && job_p && *job_p);
    vmctl_job_t *job = *job_p;
    static uint64_t s_next_id;
    job->id = ++s_next_id;
    job->submitted_us = zclock_usecs ();
    self->pending++;
    zlistx_add_end (self->queue, job);
    *job_p = NULL;
    s_dispatch (self);
}

int
vmctl_virt_recv (vmctl_virt_t *self, vmctl_note_t *note)
{
    assert (self && note);
    memset (note, 0, sizeof *note);
    if (!(zsock_events (self->notes) & ZMQ_POLLIN))
        return -1;
    zmsg_t *msg = zmsg_recv (self->notes);
    if (!msg)
        return -1;
    char *command = zmsg_popstr (msg);
    int rc = -1;
    if (command && streq (command, "DONE")) {
        zframe_t *frame = zmsg_pop (msg);
        note->job = (vmctl_job_t *) s_pointer (frame);
        zframe_destroy (&frame);
        if (note->job) {
            note->kind = VMCTL_NOTE_DONE;
            self->pending--;
            for (size_t worker = 0; worker < self->worker_count; worker++)
                if (self->worker_jobs[worker] == note->job) {
                    self->worker_jobs[worker] = NULL;
                    if (note->job->key[0])
                        zhashx_delete (self->running_keys, note->job->key);
                }
            s_dispatch (self);
            rc = 0;
        }
    }
    else if (command && streq (command, "EVENT")) {
        char *name = zmsg_popstr (msg);
        char *uuid = zmsg_popstr (msg);
        char *event = zmsg_popstr (msg);
        char *detail = zmsg_popstr (msg);
        char *usecs = zmsg_popstr (msg);
        if (name && uuid && event && detail && usecs) {
            note->kind = VMCTL_NOTE_EVENT;
            proto_copy (note->domain, sizeof note->domain, name);
            proto_copy (note->uuid, sizeof note->uuid, uuid);
            note->event = s_event (atoi (event), atoi (detail));
            note->usecs = strtoll (usecs, NULL, 10);
            rc = 0;
        }
        zstr_free (&name);
        zstr_free (&uuid);
        zstr_free (&event);
        zstr_free (&detail);
        zstr_free (&usecs);
    }
    else if (command && streq (command, "CONN")) {
        char *up = zmsg_popstr (msg);
        char *message = zmsg_popstr (msg);
        zframe_t *frame = zmsg_pop (msg);
        virConnectPtr conn = (virConnectPtr) s_pointer (frame);
        zframe_destroy (&frame);
        note->kind = VMCTL_NOTE_CONNECTION;
        note->up = up && atoi (up) == 1 && conn;
        proto_copy (note->message, sizeof note->message, message ? message : "");
        s_release (self);
        if (note->up)
            self->conn = conn;  // the actor took this reference for us
        else
            proto_copy (self->down_reason, sizeof self->down_reason, note->message);
        s_dispatch (self);  // waiting jobs go to workers, or fail at once without libvirt
        zstr_free (&up);
        zstr_free (&message);
        rc = 0;
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
    return rc;
}

zsock_t *
vmctl_virt_sock (vmctl_virt_t *self)
{
    assert (self);
    return self->notes;
}

size_t
vmctl_virt_pending (vmctl_virt_t *self)
{
    assert (self);
    return self->pending;
}

void
vmctl_virt_inject (vmctl_virt_t *self, vmctl_job_kind_t kind, vmctl_fault_t fault)
{
    assert (self && kind < VMCTL_JOB_KINDS);
    self->faults[kind] = fault;
}
