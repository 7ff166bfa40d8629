/*  vmctl_virt: the libvirt actor, its workers, and the notes they send back.

    Threads: the main thread (zloop) talks to the actor over the actor's pipe; the actor runs
    virEventRunDefaultImpl () in a loop, with the pipe and the workers' result socket
    registered as libvirt event handles; each worker waits on its own pipe for one job at a
    time and pushes it back when done. Jobs travel as pointers: exactly one thread owns a job
    at any moment.  */

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdatomic.h>

#include "vmctl_exec.h"
#include "vmctl_virt.h"

#define S_HOUSEKEEPING_MS 100  // see s_on_housekeeping

struct _vmctl_virt_t {
    zactor_t *actor;     // owned
    size_t pending;      // jobs submitted and not yet read back
};

//  The actor's state; lives on the actor thread.
typedef struct {
    zsock_t *pipe;                        // borrowed from zactor
    char uri[256];
    int reconnect_min_ms;
    int reconnect_max_ms;
    int backoff_ms;                       // the next reconnect wait
    virConnectPtr conn;                   // owned reference; NULL while disconnected
    int lifecycle_id;                     // event callback id, -1 when none
    int reconnect_timer;                  // libvirt timeout id, -1 when none
    int drop_timer;                       // libvirt timeout id, -1 when none
    int housekeeping_timer;
    int pipe_watch;                       // libvirt handle ids
    int results_watch;
    int announced;                        // last connection state told: -1 none, 0 down, 1 up
    char down_reason[PROTO_TEXT_MAX + 1]; // why we are not connected
    char results_endpoint[64];
    zsock_t *results;                     // owned: PULL, workers push finished jobs here
    size_t worker_count;
    zactor_t **workers;                   // owned
    vmctl_job_t **worker_jobs;            // the job each worker runs, NULL when idle (borrowed)
    zlistx_t *queue;                      // owned: vmctl_job_t * waiting, in submit order
    zhashx_t *running_keys;               // owned: keys of jobs at a worker
    vmctl_fault_t faults[VMCTL_JOB_KINDS];
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

//  Receive [COMMAND][pointer?] from SOCK; *POINTER is NULL when the second frame is absent.
//  Returns the command (owned), or NULL when interrupted.
static char *
s_recv_pointer (void *sock, void **pointer)
{
    *pointer = NULL;
    zmsg_t *msg = zmsg_recv (sock);
    if (!msg)
        return NULL;
    char *command = zmsg_popstr (msg);
    zframe_t *frame = zmsg_pop (msg);
    if (frame && zframe_size (frame) == sizeof (void *))
        memcpy (pointer, zframe_data (frame), sizeof (void *));
    zframe_destroy (&frame);
    zmsg_destroy (&msg);
    return command;
}

//  Worker: run jobs until $TERM. ARGUMENT is the results endpoint.
static void
s_worker (zsock_t *pipe, void *argument)
{
    zsock_t *results = zsock_new_push ((const char *) argument);
    zsock_signal (pipe, 0);
    while (results) {
        void *pointer;
        char *command = s_recv_pointer (pipe, &pointer);
        bool run = command && streq (command, "JOB") && pointer;
        zstr_free (&command);
        if (!run)
            break;
        vmctl_job_t *job = (vmctl_job_t *) pointer;
        vmctl_exec_run (job, (virConnectPtr) job->conn);
        virConnectClose ((virConnectPtr) job->conn);  // the reference the actor took
        job->conn = NULL;
        s_send_pointer (results, "DONE", job);
    }
    zsock_destroy (&results);
}

static void s_drain (s_actor_t *self);
static void s_connect (s_actor_t *self);
static void s_on_reconnect (int timer, void *opaque);
static void s_on_close (virConnectPtr conn, int reason, void *opaque);

//  Tell the main thread about the connection, once per change.
static void
s_announce (s_actor_t *self, bool up)
{
    if (self->announced == (up ? 1 : 0))
        return;
    self->announced = up ? 1 : 0;
    zsock_send (self->pipe, "sis", "CONN", up ? 1 : 0, up ? "" : self->down_reason);
}

static void
s_finish (s_actor_t *self, vmctl_job_t *job)
{
    s_send_pointer (self->pipe, "DONE", job);
}

//  Give waiting jobs to idle workers, keeping each key's jobs in order.
static void
s_dispatch (s_actor_t *self)
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
            snprintf (job->error, sizeof job->error, "%s", self->down_reason);
            job->rc = -1;
            job->done_us = zclock_usecs ();
            s_finish (self, job);
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

static int
s_on_lifecycle (virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    s_actor_t *self = (s_actor_t *) opaque;
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    const char *name = virDomainGetName (dom);
    virDomainGetUUIDString (dom, uuid);
    zsock_send (self->pipe, "sssii8", "EVENT", name ? name : "", uuid, event, detail,
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
    s_dispatch (self);  // jobs waiting now fail at once
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
    snprintf (self->down_reason, sizeof self->down_reason, "virConnectOpen: connection to %s "
              "closed: %s", self->uri,
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
        s_dispatch (self);
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
    s_dispatch (self);
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
    else if (streq (command, "JOB")) {
        vmctl_job_t *job = NULL;
        zframe_t *frame = zmsg_pop (msg);
        if (frame && zframe_size (frame) == sizeof job)
            memcpy (&job, zframe_data (frame), sizeof job);
        zframe_destroy (&frame);
        if (job) {
            zlistx_add_end (self->queue, job);
            s_dispatch (self);
        }
    }
    else if (streq (command, "FAULT")) {
        char *kind = zmsg_popstr (msg);
        char *fault = zmsg_popstr (msg);
        int index = kind ? atoi (kind) : -1;
        if (index >= 0 && index < VMCTL_JOB_KINDS && fault)
            self->faults[index] = (vmctl_fault_t) atoi (fault);
        zstr_free (&kind);
        zstr_free (&fault);
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
}

static void
s_on_result (s_actor_t *self)
{
    void *pointer;
    char *command = s_recv_pointer (self->results, &pointer);
    zstr_free (&command);
    vmctl_job_t *job = (vmctl_job_t *) pointer;
    if (!job)
        return;
    for (size_t worker = 0; worker < self->worker_count; worker++)
        if (self->worker_jobs[worker] == job)
            self->worker_jobs[worker] = NULL;
    if (job->key[0])
        zhashx_delete (self->running_keys, job->key);
    s_finish (self, job);
    s_dispatch (self);
}

//  Handle whatever is readable. A ZeroMQ socket's fd only signals that its state may have
//  changed, and sending on a socket can consume that signal, so every handler ends here and
//  reads both sockets until ZMQ_EVENTS says they are empty.
static void
s_drain (s_actor_t *self)
{
    bool progress = true;
    while (progress && !self->stopping) {
        progress = false;
        while (!self->stopping && (zsock_events (self->pipe) & ZMQ_POLLIN)) {
            s_on_command (self);
            progress = true;
        }
        while (!self->stopping && (zsock_events (self->results) & ZMQ_POLLIN)) {
            s_on_result (self);
            progress = true;
        }
    }
}

static void
s_on_fd (int watch, int fd, int events, void *opaque)
{
    s_drain ((s_actor_t *) opaque);
}

//  A safety net under s_drain: should an fd signal ever be missed, messages wait at most this
//  long instead of forever.
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
    self->queue = zlistx_new ();
    self->running_keys = zhashx_new ();
    snprintf (self->results_endpoint, sizeof self->results_endpoint, "inproc://vmctl-virt-%p",
              (void *) self);
    self->results = zsock_new_pull (self->results_endpoint);
    self->workers = (zactor_t **) zmalloc (self->worker_count * sizeof (zactor_t *));
    self->worker_jobs = (vmctl_job_t **) zmalloc (self->worker_count * sizeof (vmctl_job_t *));
    char connect_endpoint[80];
    snprintf (connect_endpoint, sizeof connect_endpoint, ">%s", self->results_endpoint);
    bool started = self->results != NULL;
    for (size_t worker = 0; started && worker < self->worker_count; worker++) {
        self->workers[worker] = zactor_new (s_worker, connect_endpoint);
        started = self->workers[worker] != NULL;
    }
    if (started) {
        self->pipe_watch = virEventAddHandle (zsock_fd (pipe), VIR_EVENT_HANDLE_READABLE, s_on_fd,
                                              self, NULL);
        self->results_watch = virEventAddHandle (zsock_fd (self->results),
                                                 VIR_EVENT_HANDLE_READABLE, s_on_fd, self, NULL);
        self->housekeeping_timer =
            virEventAddTimeout (S_HOUSEKEEPING_MS, s_on_housekeeping, self, NULL);
        started = self->pipe_watch >= 0 && self->results_watch >= 0;
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
    //  Teardown: workers finish the call they are in; every job still here is freed.
    for (size_t worker = 0; worker < self->worker_count; worker++)
        zactor_destroy (&self->workers[worker]);
    while (self->results && (zsock_events (self->results) & ZMQ_POLLIN)) {
        void *pointer;
        char *command = s_recv_pointer (self->results, &pointer);
        zstr_free (&command);
        vmctl_job_destroy ((vmctl_job_t **) &pointer);
    }
    for (vmctl_job_t *job = (vmctl_job_t *) zlistx_first (self->queue); job;
         job = (vmctl_job_t *) zlistx_next (self->queue))
        vmctl_job_destroy (&job);
    if (self->pipe_watch >= 0)
        virEventRemoveHandle (self->pipe_watch);
    if (self->results_watch >= 0)
        virEventRemoveHandle (self->results_watch);
    if (self->housekeeping_timer >= 0)
        virEventRemoveTimeout (self->housekeeping_timer);
    if (self->reconnect_timer >= 0)
        virEventRemoveTimeout (self->reconnect_timer);
    if (self->drop_timer >= 0)
        virEventRemoveTimeout (self->drop_timer);
    s_disconnect (self);
    zlistx_destroy (&self->queue);
    zhashx_destroy (&self->running_keys);
    zsock_destroy (&self->results);
    free (self->workers);
    free (self->worker_jobs);
    if (started)
        zstr_send (pipe, "STOPPED");
    //  zactor_destroy's $TERM ends the actor; the shim signals it back.
    if (!self->terminated) {
        while (true) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (term)
                break;
        }
    }
    free (self);
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
    s_actor_t *actor = (s_actor_t *) zmalloc (sizeof (s_actor_t));
    snprintf (actor->uri, sizeof actor->uri, "%s", uri);
    actor->worker_count = workers > 0 ? (size_t) workers : 1;
    actor->reconnect_min_ms = reconnect_min_ms > 0 ? reconnect_min_ms : 100;
    actor->reconnect_max_ms = reconnect_max_ms >= actor->reconnect_min_ms
                                  ? reconnect_max_ms : actor->reconnect_min_ms;
    actor->backoff_ms = actor->reconnect_min_ms;
    actor->lifecycle_id = -1;
    actor->reconnect_timer = actor->drop_timer = actor->housekeeping_timer = -1;
    actor->pipe_watch = actor->results_watch = -1;
    actor->announced = -1;
    snprintf (actor->down_reason, sizeof actor->down_reason, "virConnectOpen: not connected");

    vmctl_virt_t *self = (vmctl_virt_t *) zmalloc (sizeof (vmctl_virt_t));
    //  The actor owns ACTOR from here on, and frees it when it ends.
    self->actor = zactor_new (s_actor, actor);
    char *ready = self->actor ? zstr_recv (self->actor) : NULL;
    bool started = ready && streq (ready, "READY");
    zstr_free (&ready);
    if (!started) {
        zsys_error ("vmctl_virt: the libvirt actor did not start uri=%s", uri);
        zactor_destroy (&self->actor);
        free (self);
        atomic_store (&s_exists, false);
        return NULL;
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
    //  Read everything the actor still sends, freeing finished jobs, until it says it is done.
    zstr_send (self->actor, "STOP");
    while (true) {
        void *pointer;
        char *command = s_recv_pointer (self->actor, &pointer);
        bool done = !command || streq (command, "STOPPED");
        if (command && streq (command, "DONE"))
            vmctl_job_destroy ((vmctl_job_t **) &pointer);
        zstr_free (&command);
        if (done)
            break;
    }
    zactor_destroy (&self->actor);
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
    s_send_pointer (self->actor, "JOB", job);
    *job_p = NULL;
}

int
vmctl_virt_recv (vmctl_virt_t *self, vmctl_note_t *note)
{
    assert (self && note);
    memset (note, 0, sizeof *note);
    if (!(zsock_events (self->actor) & ZMQ_POLLIN))
        return -1;
    zmsg_t *msg = zmsg_recv (self->actor);
    if (!msg)
        return -1;
    char *command = zmsg_popstr (msg);
    int rc = -1;
    if (command && streq (command, "DONE")) {
        zframe_t *frame = zmsg_pop (msg);
        if (frame && zframe_size (frame) == sizeof note->job) {
            memcpy (&note->job, zframe_data (frame), sizeof note->job);
            note->kind = VMCTL_NOTE_DONE;
            self->pending--;
            rc = 0;
        }
        zframe_destroy (&frame);
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
            note->event = atoi (event);
            note->detail = atoi (detail);
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
        note->kind = VMCTL_NOTE_CONNECTION;
        note->up = up && atoi (up) == 1;
        proto_copy (note->message, sizeof note->message, message ? message : "");
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
    return (zsock_t *) self->actor;
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
    assert (self);
    zsock_send (self->actor, "sii", "FAULT", (int) kind, (int) fault);
}
