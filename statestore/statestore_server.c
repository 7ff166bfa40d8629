/*  statestore_server: the sockets, the group of waiting requests, and the loop handlers.

    A request goes through explicit stages: parsed (or refused with bad_request/too_large) by
    statestore_request, then, for writes, applied to the in-memory tree and committed by
    statestore_writer (retries answered from statestore_dedup instead), then the group is
    flushed to disk, then reads are answered by statestore_reader, then every reply is sent.  */

#include "statestore_dedup.h"
#include "statestore_reader.h"
#include "statestore_repack.h"
#include "statestore_repo.h"
#include "statestore_request.h"
#include "statestore_server.h"
#include "statestore_tree.h"
#include "statestore_writer.h"

struct _statestore_server_t {
    const statestore_config_t *config;  // borrowed
    zsock_t *router;              // owned: the request socket
    proto_pub_t *pub;             // owned: state.changed and svc.alive
    statestore_repo_t *repo;      // owned
    statestore_tree_t *tree;      // owned: the current state
    statestore_repack_t *repacker;  // owned
    bool repacking;
    int64_t unpacked_since;       // zclock_mono when a second pack was first seen
    statestore_request_t *group;  // owned array of config->batch_max requests
    statestore_writer_t *writer;  // owned: the write path
    statestore_reader_t *reader;  // owned: the reads
    statestore_dedup_t *dedup;    // owned: replies of recent writes, by dedup_key
    statestore_stats_t stats;
};

static void
s_send_reply (statestore_server_t *self, statestore_request_t *request, const char *text)
{
    zmsg_t *reply = zmsg_new ();
    zmsg_append (reply, &request->identity);
    if (request->delimiter)
        zmsg_addmem (reply, "", 0);
    zmsg_addstr (reply, text);
    zmsg_send (&reply, self->router);
}

//  Send REQUEST its reply: one already serialised (a snapshot), the cached one of a retried
//  write, or the reply built now, which is cached when the write names its client.
static void
s_answer (statestore_server_t *self, statestore_request_t *request)
{
    char *text = NULL;
    const char *cached = *request->dedup_key && request->is_write
                             ? statestore_dedup_lookup (self->dedup, request->dedup_key)
                             : NULL;
    if (request->reply_text)
        cached = (const char *) zchunk_data (request->reply_text);
    else if (!cached) {
        text = json_dumps (request->reply, JSON_COMPACT);
        if (*request->dedup_key && request->is_write && text)
            statestore_dedup_remember (self->dedup, request->dedup_key, text);
    }
    s_send_reply (self, request, cached ? cached : text ? text : "{\"ok\":false}");
    free (text);
}

static void
s_publish_events (statestore_server_t *self)
{
    proto_msg_t *event;
    while ((event = statestore_writer_pop_event (self->writer))) {
        proto_pub_send (self->pub, event);
        proto_msg_destroy (&event);
    }
}

static void
s_maybe_repack (statestore_server_t *self)
{
    size_t packs = statestore_repo_packs (self->repo);
    if (self->repacking || packs < 2)
        return;
    if (self->unpacked_since == 0)
        self->unpacked_since = zclock_mono ();
    bool many = packs >= (size_t) self->config->repack_packs;
    bool old = zclock_mono () - self->unpacked_since >= self->config->repack_interval_s * 1000;
    if (many || old) {
        self->repacking = true;
        zstr_send (statestore_repack_sock (self->repacker), "REPACK");
    }
}

//  Handle COUNT requests as one group.
static void
s_handle_group (statestore_server_t *self, size_t count)
{
    self->stats.groups++;
    if (count > self->stats.group_max)
        self->stats.group_max = count;
    //  Writes, in order; retried ones are answered from the cache.
    for (size_t index = 0; index < count; index++) {
        statestore_request_t *request = &self->group[index];
        if (!request->op || !request->is_write)
            continue;
        if (*request->dedup_key && statestore_dedup_lookup (self->dedup, request->dedup_key)) {
            self->stats.dedup_hits++;
            continue;
        }
        statestore_writer_apply (self->writer, request);
    }
    statestore_writer_flush (self->writer, self->group, count);
    //  Reads see every write of the group; then everyone is answered, in order.
    for (size_t index = 0; index < count; index++) {
        statestore_request_t *request = &self->group[index];
        if (request->op && !request->is_write)
            statestore_reader_answer (self->reader, request);
        s_answer (self, request);
        statestore_request_clear (request);
    }
    s_publish_events (self);
    s_maybe_repack (self);
}

static int
s_on_request (zloop_t *loop, zsock_t *router, void *argument)
{
    statestore_server_t *self = (statestore_server_t *) argument;
    size_t count = 0;
    //  Everything already waiting joins the group, up to batch_max: the group commit.
    while (count < (size_t) self->config->batch_max && (zsock_events (router) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv (router);
        if (!msg)
            break;
        self->stats.requests++;
        statestore_request_parse (&self->group[count++], msg, &self->stats);
        zmsg_destroy (&msg);
    }
    if (count)
        s_handle_group (self, count);
    return 0;
}

static int
s_on_repacker (zloop_t *loop, zsock_t *pipe, void *argument)
{
    statestore_server_t *self = (statestore_server_t *) argument;
    zmsg_t *msg = zmsg_recv (pipe);
    char *status = msg ? zmsg_popstr (msg) : NULL;
    if (status && streq (status, "DONE")) {
        zlist_t *old_packs = zlist_new ();
        zlist_autofree (old_packs);
        char *name;
        while ((name = zmsg_popstr (msg))) {
            zlist_append (old_packs, name);
            zstr_free (&name);
        }
        if (statestore_repo_retire_packs (self->repo, old_packs) == 0) {
            self->stats.repacks++;
            zsys_info ("statestore: repacked replaced=%zu rev=%lld", zlist_size (old_packs),
                       (long long) statestore_repo_rev (self->repo));
        }
        else
            self->stats.repack_failures++;
        zlist_destroy (&old_packs);
    }
    else {
        char *reason = msg ? zmsg_popstr (msg) : NULL;
        zsys_warning ("statestore: repack failed: %s", reason ? reason : "?");
        zstr_free (&reason);
        self->stats.repack_failures++;
    }
    self->repacking = false;
    self->unpacked_since = 0;
    zstr_free (&status);
    zmsg_destroy (&msg);
    return 0;
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *argument)
{
    statestore_server_t *self = (statestore_server_t *) argument;
    proto_msg_t msg;
    proto_pub_alive (self->pub, &msg);
    const proto_counter_t counters[] = {
        {"rev", (uint64_t) statestore_repo_rev (self->repo)},
        {"keys", statestore_tree_size (self->tree)},
        {"requests", self->stats.requests},
        {"writes", self->stats.writes},
        {"commits", self->stats.commits},
        {"groups", self->stats.groups},
        {"group_max", self->stats.group_max},
        {"unchanged", self->stats.unchanged},
        {"dedup_hits", self->stats.dedup_hits},
        {"errors_not_found", self->stats.not_found},
        {"errors_conflict", self->stats.conflict},
        {"errors_bad_request", self->stats.bad_request},
        {"errors_too_large", self->stats.too_large},
        {"errors_internal", self->stats.internal},
        {"repacks", self->stats.repacks},
        {"repack_failures", self->stats.repack_failures},
        {"packs", statestore_repo_packs (self->repo)},
    };
    proto_msg_add_counters (&msg, counters, sizeof counters / sizeof counters[0]);
    proto_pub_send (self->pub, &msg);
    s_maybe_repack (self);
    return 0;
}

statestore_server_t *
statestore_server_new (const statestore_config_t *config, char *reason, size_t reason_size)
{
    assert (config);
    statestore_server_t *self = (statestore_server_t *) zmalloc (sizeof (statestore_server_t));
    self->config = config;
    self->group = (statestore_request_t *) calloc (config->batch_max,
                                                   sizeof (statestore_request_t));
    self->dedup = statestore_dedup_new (STATESTORE_DEDUP_MAX);
    self->tree = statestore_tree_new ();
    self->repo = statestore_repo_new (config->repo, reason, reason_size);
    if (!self->repo)
        goto failed;

    zhashx_t *mod_revs = statestore_repo_take_mod_revs (self->repo);
    git_oid root;
    int rc = statestore_repo_head_tree (self->repo, &root)
             || statestore_tree_load (self->tree, statestore_repo_git (self->repo), &root,
                                      mod_revs, reason, reason_size);
    zhashx_destroy (&mod_revs);
    if (rc)
        goto failed;
    self->writer = statestore_writer_new (self->repo, self->tree, &self->stats);
    self->reader = statestore_reader_new (self->repo, self->tree, &self->stats);

    if (proto_endpoints_prepare (config->endpoints.state)) {
        snprintf (reason, reason_size, "cannot create the directory of %s: %s",
                  config->endpoints.state, strerror (errno));
        goto failed;
    }
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router || zsock_bind (self->router, "%s", config->endpoints.state) < 0) {
        snprintf (reason, reason_size, "cannot bind %s: %s", config->endpoints.state,
                  zmq_strerror (zmq_errno ()));
        goto failed;
    }
    zsock_set_sndhwm (self->router, 100000);
    zsock_set_rcvhwm (self->router, 100000);
    self->pub = proto_pub_new (config->endpoints.bus_in, "statestore", config->instance);
    self->repacker = statestore_repack_new (statestore_repo_path (self->repo));
    if (!self->pub || !self->repacker) {
        snprintf (reason, reason_size, "cannot connect to the bus at %s",
                  config->endpoints.bus_in);
        goto failed;
    }
    zsys_info ("statestore: ready repo=%s rev=%lld keys=%zu endpoint=%s", config->repo,
               (long long) statestore_repo_rev (self->repo), statestore_tree_size (self->tree),
               config->endpoints.state);
    return self;
failed:
    statestore_server_destroy (&self);
    return NULL;
}

void
statestore_server_destroy (statestore_server_t **self_p)
{
    assert (self_p);
    statestore_server_t *self = *self_p;
    if (!self)
        return;
    statestore_reader_destroy (&self->reader);
    statestore_writer_destroy (&self->writer);
    statestore_repack_destroy (&self->repacker);
    proto_pub_destroy (&self->pub);
    zsock_destroy (&self->router);
    statestore_tree_destroy (&self->tree);
    statestore_repo_destroy (&self->repo);
    statestore_dedup_destroy (&self->dedup);
    free (self->group);
    free (self);
    *self_p = NULL;
}

int
statestore_server_attach (statestore_server_t *self, zloop_t *loop)
{
    assert (self);
    if (zloop_reader (loop, self->router, s_on_request, self)
        || zloop_reader (loop, statestore_repack_sock (self->repacker), s_on_repacker, self)
        || zloop_timer (loop, self->config->heartbeat_ms, 0, s_on_tick, self) < 0)
        return -1;
    return 0;
}

int64_t
statestore_server_rev (statestore_server_t *self)
{
    assert (self);
    return statestore_repo_rev (self->repo);
}
