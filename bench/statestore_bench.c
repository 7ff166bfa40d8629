/*  statestore_bench: acknowledged puts, snapshot time and repository growth at 10 000
    services, side by side with etcd (the reference) in the same run.

    Both stores are started fresh by the bench on loopback, both acknowledge a put only once it
    is on disk (statestore: pack + ref fsync'd; etcd: WAL fsync'd), and both are given the same
    keys and values. Run it with bench/statestore.sh, which builds and finds etcd.  */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/wait.h>

#include "proto.h"

#define S_IN_FLIGHT_MAX 64

//  Every put writes a value never written before: a store may skip a put that changes
//  nothing (statestore does), which would not measure a commit.
static int64_t s_value_counter;

//  One store under test: how to send a put and collect its acknowledgement, asynchronously.
typedef struct s_store_t s_store_t;
struct s_store_t {
    const char *name;
    //  Open CONNECTIONS channels; returns 0.
    int (*open) (s_store_t *self, int connections);
    //  Send a put of VALUE at KEY on channel CHANNEL.
    void (*send_put) (s_store_t *self, int channel, const char *key, const char *value);
    //  Wait up to TIMEOUT_MS for acknowledgements; returns the channels that got one.
    int (*wait_acks) (s_store_t *self, int *channels, int timeout_ms);
    //  Read everything under PREFIX; returns the number of keys.
    int (*snapshot) (s_store_t *self, const char *prefix);
    void (*close) (s_store_t *self);
    //  Bytes on disk.
    int64_t (*disk_bytes) (s_store_t *self);
    int connections;
    char data_dir[256];
    pid_t pid;
    zsock_t *dealers[S_IN_FLIGHT_MAX];      // statestore
    int sockets[S_IN_FLIGHT_MAX];           // etcd
    char *buffers[S_IN_FLIGHT_MAX];         // etcd: response bytes so far
    size_t buffered[S_IN_FLIGHT_MAX];
    proto_endpoints_t endpoints;
    int port;
};

static int64_t
s_du (const char *path)
{
    char command[512];
    snprintf (command, sizeof command, "du -sb %s | cut -f1", path);
    FILE *pipe = popen (command, "r");
    long long bytes = 0;
    if (pipe && fscanf (pipe, "%lld", &bytes) != 1)
        bytes = 0;
    if (pipe)
        pclose (pipe);
    return bytes;
}

//  statestore ----------------------------------------------------------------------------

static int
s_statestore_open (s_store_t *self, int connections)
{
    self->connections = connections;
    for (int index = 0; index < connections; index++)
        self->dealers[index] = zsock_new_dealer (self->endpoints.state);
    zclock_sleep (100);
    return 0;
}

static void
s_statestore_send_put (s_store_t *self, int channel, const char *key, const char *value)
{
    zstr_sendf (self->dealers[channel], "{\"id\":1,\"op\":\"put\",\"key\":\"%s\",\"value\":%s,"
                "\"author\":\"bench\"}", key, value);
}

static int
s_statestore_wait_acks (s_store_t *self, int *channels, int timeout_ms)
{
    zmq_pollitem_t items[S_IN_FLIGHT_MAX];
    for (int index = 0; index < self->connections; index++)
        items[index] = (zmq_pollitem_t){zsock_resolve (self->dealers[index]), 0, ZMQ_POLLIN, 0};
    zmq_poll (items, self->connections, timeout_ms);
    int count = 0;
    for (int index = 0; index < self->connections; index++) {
        if (!(items[index].revents & ZMQ_POLLIN))
            continue;
        char *reply = zstr_recv (self->dealers[index]);
        if (!strstr (reply, "\"ok\":true"))
            fprintf (stderr, "statestore refused a put: %s\n", reply);
        zstr_free (&reply);
        channels[count++] = index;
    }
    return count;
}

static int
s_statestore_snapshot (s_store_t *self, const char *prefix)
{
    zstr_sendf (self->dealers[0], "{\"id\":2,\"op\":\"snapshot\",\"prefix\":\"%s\"}", prefix);
    char *reply = zstr_recv (self->dealers[0]);
    json_t *parsed = json_loads (reply, 0, NULL);
    int count = (int) json_array_size (json_object_get (parsed, "entries"));
    json_decref (parsed);
    zstr_free (&reply);
    return count;
}

static void
s_statestore_close (s_store_t *self)
{
    for (int index = 0; index < self->connections; index++)
        zsock_destroy (&self->dealers[index]);
}

static int64_t
s_disk (s_store_t *self)
{
    return s_du (self->data_dir);
}

//  etcd, through its v3 JSON gateway with keep-alive connections -------------------------

static char *
s_base64 (const char *text)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t length = strlen (text);
    char *out = malloc (4 * ((length + 2) / 3) + 1);
    size_t used = 0;
    for (size_t index = 0; index < length; index += 3) {
        uint32_t chunk = (uint8_t) text[index] << 16;
        if (index + 1 < length)
            chunk |= (uint8_t) text[index + 1] << 8;
        if (index + 2 < length)
            chunk |= (uint8_t) text[index + 2];
        out[used++] = alphabet[(chunk >> 18) & 63];
        out[used++] = alphabet[(chunk >> 12) & 63];
        out[used++] = index + 1 < length ? alphabet[(chunk >> 6) & 63] : '=';
        out[used++] = index + 2 < length ? alphabet[chunk & 63] : '=';
    }
    out[used] = '\0';
    return out;
}

static int
s_etcd_open (s_store_t *self, int connections)
{
    self->connections = connections;
    for (int index = 0; index < connections; index++) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons (self->port)};
        inet_pton (AF_INET, "127.0.0.1", &address.sin_addr);
        int one = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect (fd, (struct sockaddr *) &address, sizeof address))
            return -1;
        self->sockets[index] = fd;
        self->buffers[index] = malloc (1 << 22);
        self->buffered[index] = 0;
    }
    return 0;
}

static void
s_etcd_post (s_store_t *self, int channel, const char *path, const char *body)
{
    char header[256];
    int length = snprintf (header, sizeof header,
                           "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                           "application/json\r\nContent-Length: %zu\r\n\r\n",
                           path, strlen (body));
    if (write (self->sockets[channel], header, length) != length
        || write (self->sockets[channel], body, strlen (body)) != (ssize_t) strlen (body))
        fprintf (stderr, "etcd: write failed\n");
}

static void
s_etcd_send_put (s_store_t *self, int channel, const char *key, const char *value)
{
    char *key64 = s_base64 (key);
    char *value64 = s_base64 (value);
    char *body = zsys_sprintf ("{\"key\":\"%s\",\"value\":\"%s\"}", key64, value64);
    s_etcd_post (self, channel, "/v3/kv/put", body);
    zstr_free (&body);
    free (key64);
    free (value64);
}

//  Whether channel INDEX holds a whole HTTP response; consumes it and returns its body.
static char *
s_etcd_take_response (s_store_t *self, int index)
{
    char *data = self->buffers[index];
    data[self->buffered[index]] = '\0';
    char *end = strstr (data, "\r\n\r\n");
    if (!end)
        return NULL;
    char *length_field = strcasestr (data, "Content-Length:");
    size_t body_length = length_field ? strtoul (length_field + 15, NULL, 10) : 0;
    size_t total = (size_t) (end + 4 - data) + body_length;
    if (self->buffered[index] < total)
        return NULL;
    char *body = strndup (end + 4, body_length);
    memmove (data, data + total, self->buffered[index] - total);
    self->buffered[index] -= total;
    return body;
}

static int
s_etcd_wait_acks (s_store_t *self, int *channels, int timeout_ms)
{
    struct pollfd fds[S_IN_FLIGHT_MAX];
    for (int index = 0; index < self->connections; index++)
        fds[index] = (struct pollfd){self->sockets[index], POLLIN, 0};
    poll (fds, self->connections, timeout_ms);
    int count = 0;
    for (int index = 0; index < self->connections; index++) {
        if (!(fds[index].revents & POLLIN))
            continue;
        ssize_t got = read (self->sockets[index], self->buffers[index] + self->buffered[index],
                            (1 << 22) - 1 - self->buffered[index]);
        if (got > 0)
            self->buffered[index] += got;
        char *body = s_etcd_take_response (self, index);
        if (body) {
            if (!strstr (body, "header"))
                fprintf (stderr, "etcd refused a put: %s\n", body);
            free (body);
            channels[count++] = index;
        }
    }
    return count;
}

//  The range over a fresh HTTP/1.0 connection, read to its end: the gateway answers large
//  ranges in chunks, which a plain Content-Length reader cannot follow.
static int
s_etcd_snapshot (s_store_t *self, const char *prefix)
{
    char start[256], end[256];
    snprintf (start, sizeof start, "%s/", prefix);
    snprintf (end, sizeof end, "%s0", prefix);  // '0' follows '/'
    char *key64 = s_base64 (start);
    char *end64 = s_base64 (end);
    char *body = zsys_sprintf ("{\"key\":\"%s\",\"range_end\":\"%s\"}", key64, end64);
    free (key64);
    free (end64);
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons (self->port)};
    inet_pton (AF_INET, "127.0.0.1", &address.sin_addr);
    if (connect (fd, (struct sockaddr *) &address, sizeof address)) {
        close (fd);
        zstr_free (&body);
        return -1;
    }
    char *request = zsys_sprintf ("POST /v3/kv/range HTTP/1.0\r\nContent-Type: application/json"
                                  "\r\nContent-Length: %zu\r\n\r\n%s", strlen (body), body);
    if (write (fd, request, strlen (request)) < 0)
        fprintf (stderr, "etcd: write failed\n");
    zstr_free (&request);
    zstr_free (&body);
    size_t capacity = 1 << 24, used = 0;
    char *response = malloc (capacity);
    ssize_t got;
    while ((got = read (fd, response + used, capacity - 1 - used)) > 0)
        used += (size_t) got;
    response[used] = '\0';
    close (fd);
    char *json = strstr (response, "\r\n\r\n");
    json_t *parsed = json ? json_loads (json + 4, 0, NULL) : NULL;
    int count = (int) json_array_size (json_object_get (parsed, "kvs"));
    json_decref (parsed);
    free (response);
    return count;
}

static void
s_etcd_close (s_store_t *self)
{
    for (int index = 0; index < self->connections; index++) {
        close (self->sockets[index]);
        free (self->buffers[index]);
    }
}

//  Wait until statestore has folded its group packs (at most 2 left), so sizes and timings
//  are not taken in the middle of a background repack. etcd has nothing to wait for.
static void
s_settle (s_store_t *store)
{
    if (strcmp (store->name, "statestore"))
        return;
    char command[512];
    snprintf (command, sizeof command, "ls %s/objects/pack/*.pack 2>/dev/null | wc -l",
              store->data_dir);
    for (int waited = 0; waited < 120; waited++) {
        FILE *pipe = popen (command, "r");
        int packs = 99;
        if (pipe && fscanf (pipe, "%d", &packs) != 1)
            packs = 99;
        if (pipe)
            pclose (pipe);
        if (packs <= 2)
            break;
        zclock_sleep (1000);
    }
    zclock_sleep (500);
}

//  The workloads ------------------------------------------------------------------------

static int
s_by_value (const void *left, const void *right)
{
    int64_t a = *(const int64_t *) left, b = *(const int64_t *) right;
    return a < b ? -1 : a > b;
}

//  Put COUNT values with IN_FLIGHT requests outstanding; KEY_OF picks the key of put N among
//  SERVICES. Fills latencies (us) when not NULL. Returns puts per second.
static double
s_run_puts (s_store_t *store, int count, int in_flight, int services, const char *suffix,
            int64_t *latencies)
{
    store->open (store, in_flight);
    int64_t sent_at[S_IN_FLIGHT_MAX];
    int sent = 0, done = 0;
    int64_t start = zclock_usecs ();
    char key[128], value[128];
    for (int channel = 0; channel < in_flight && sent < count; channel++, sent++) {
        snprintf (key, sizeof key, "/services/svc%d/%s", (sent * 7919) % services, suffix);
        snprintf (value, sizeof value, "{\"state\":\"ready\",\"boots\":%lld}",
                  (long long) ++s_value_counter);
        sent_at[channel] = zclock_usecs ();
        store->send_put (store, channel, key, value);
    }
    while (done < count) {
        int channels[S_IN_FLIGHT_MAX];
        int acks = store->wait_acks (store, channels, 5000);
        if (acks == 0) {
            fprintf (stderr, "%s: no acknowledgement for 5 s\n", store->name);
            break;
        }
        for (int index = 0; index < acks; index++) {
            int channel = channels[index];
            if (latencies)
                latencies[done] = zclock_usecs () - sent_at[channel];
            done++;
            if (sent < count) {
                snprintf (key, sizeof key, "/services/svc%d/%s", (sent * 7919) % services,
                          suffix);
                snprintf (value, sizeof value, "{\"state\":\"ready\",\"boots\":%lld}",
                          (long long) ++s_value_counter);
                sent_at[channel] = zclock_usecs ();
                store->send_put (store, channel, key, value);
                sent++;
            }
        }
    }
    double seconds = (zclock_usecs () - start) / 1e6;
    store->close (store);
    return done / seconds;
}

//  Results of one store.
typedef struct {
    double single_rate, group_rate;
    double p50_ms, p99_ms;
    double snapshot_ms;
    int snapshot_keys;
    double growth_per_commit;
} s_result_t;

static s_result_t
s_measure (s_store_t *store, int services, int puts, int in_flight)
{
    s_result_t result = {0};
    //  10 000 services, each with a config key; written with many puts in flight.
    fprintf (stderr, "%s: loading %d services\n", store->name, services);
    s_run_puts (store, services, S_IN_FLIGHT_MAX, services, "config", NULL);
    s_settle (store);

    //  Snapshot of all 10 000 keys, best of 5.
    store->open (store, 1);
    result.snapshot_ms = 1e9;
    for (int round = 0; round < 5; round++) {
        int64_t start = zclock_usecs ();
        result.snapshot_keys = store->snapshot (store, "/services");
        double ms = (zclock_usecs () - start) / 1000.0;
        result.snapshot_ms = ms < result.snapshot_ms ? ms : result.snapshot_ms;
    }
    store->close (store);

    //  One put at a time: latency and rate.
    s_settle (store);
    int64_t *latencies = calloc (puts, sizeof (int64_t));
    result.single_rate = s_run_puts (store, puts, 1, services, "status", latencies);
    qsort (latencies, puts, sizeof (int64_t), s_by_value);
    result.p50_ms = latencies[puts / 2] / 1000.0;
    result.p99_ms = latencies[puts * 99 / 100] / 1000.0;
    free (latencies);

    //  Many puts in flight: group commit.
    result.group_rate = s_run_puts (store, puts * 5, in_flight, services, "status", NULL);

    //  Growth: 10 000 more single-key commits, measured after the store has packed them.
    s_settle (store);
    int64_t before = store->disk_bytes (store);
    s_run_puts (store, 10000, in_flight, services, "status", NULL);
    s_settle (store);
    int64_t after = store->disk_bytes (store);
    fprintf (stderr, "%s: on disk %lld bytes before 10000 commits, %lld after\n", store->name,
             (long long) before, (long long) after);
    result.growth_per_commit = (double) (after - before) / 10000;
    return result;
}

static pid_t
s_spawn (char *const argv[], const char *log)
{
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2 (fd, 1);
        dup2 (fd, 2);
        execvp (argv[0], argv);
        _exit (127);
    }
    return pid;
}

int
main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "Usage: statestore_bench STATESTORE_BINARY WORK_DIR [ETCD_BINARY]\n");
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (stderr);
    const int services = 10000, puts = 2000, in_flight = 32;
    static s_store_t stores[2];
    stores[0] = (s_store_t){.name = "statestore", .open = s_statestore_open,
                            .send_put = s_statestore_send_put, .wait_acks = s_statestore_wait_acks,
                            .snapshot = s_statestore_snapshot, .close = s_statestore_close,
                            .disk_bytes = s_disk};
    stores[1] = (s_store_t){.name = "etcd", .open = s_etcd_open, .send_put = s_etcd_send_put,
                            .wait_acks = s_etcd_wait_acks, .snapshot = s_etcd_snapshot,
                            .close = s_etcd_close, .disk_bytes = s_disk};
    s_result_t results[2];
    int store_count = argc > 3 ? 2 : 1;

    //  statestore, with its own run directory and repository.
    s_store_t *store = &stores[0];
    snprintf (store->data_dir, sizeof store->data_dir, "%s/state.git", argv[2]);
    char config[512], log[512], socket_path[512];
    snprintf (config, sizeof config, "%s/statestore.json", argv[2]);
    snprintf (log, sizeof log, "%s/statestore.log", argv[2]);
    FILE *file = fopen (config, "w");
    fprintf (file, "{\"repo\":\"%s\",\"endpoints\":{\"run_dir\":\"%s\"}}\n", store->data_dir,
             argv[2]);
    fclose (file);
    setenv ("JITSU_RUN_DIR", argv[2], 1);
    proto_endpoints_defaults (&store->endpoints);
    snprintf (socket_path, sizeof socket_path, "%s/state", argv[2]);
    char *statestore_argv[] = {argv[1], "-c", config, NULL};
    store->pid = s_spawn (statestore_argv, log);
    for (int waited = 0; access (socket_path, F_OK) && waited < 100; waited++)
        zclock_sleep (50);
    results[0] = s_measure (store, services, puts, in_flight);
    kill (store->pid, SIGTERM);
    waitpid (store->pid, NULL, 0);

    if (store_count == 2) {
        store = &stores[1];
        store->port = 23790;
        snprintf (store->data_dir, sizeof store->data_dir, "%s/etcd", argv[2]);
        snprintf (log, sizeof log, "%s/etcd.log", argv[2]);
        char *etcd_argv[] = {argv[3], "--data-dir", store->data_dir, "--listen-client-urls",
                             "http://127.0.0.1:23790", "--advertise-client-urls",
                             "http://127.0.0.1:23790", "--listen-peer-urls",
                             "http://127.0.0.1:23800", "--initial-advertise-peer-urls",
                             "http://127.0.0.1:23800", "--initial-cluster",
                             "default=http://127.0.0.1:23800", NULL};
        store->pid = s_spawn (etcd_argv, log);
        zclock_sleep (2000);
        results[1] = s_measure (store, services, puts, in_flight);
        kill (store->pid, SIGTERM);
        waitpid (store->pid, NULL, 0);
    }

    printf ("| measure (%d services) | statestore |%s\n", services,
            store_count == 2 ? " etcd 3.4 | statestore / etcd |" : "");
    printf ("|---|---|%s\n", store_count == 2 ? "---|---|" : "");
    const char *names[] = {"acknowledged puts/s, 1 in flight", "put latency p50 (ms)",
                           "put latency p99 (ms)", "acknowledged puts/s, 32 in flight",
                           "snapshot of all keys (ms)", "disk growth per commit (bytes)"};
    for (int row = 0; row < 6; row++) {
        double values[2];
        for (int index = 0; index < store_count; index++) {
            const s_result_t *r = &results[index];
            double all[] = {r->single_rate, r->p50_ms, r->p99_ms, r->group_rate,
                            r->snapshot_ms, r->growth_per_commit};
            values[index] = all[row];
        }
        printf ("| %s | %.1f |", names[row], values[0]);
        if (store_count == 2)
            printf (" %.1f | %.2f |", values[1], values[1] ? values[0] / values[1] : 0);
        printf ("\n");
    }
    printf ("\nkeys in the snapshot: statestore %d", results[0].snapshot_keys);
    if (store_count == 2)
        printf (", etcd %d", results[1].snapshot_keys);
    printf ("\n");
    return 0;
}
