/*  jitsu-bus: the XSUB/XPUB forwarder every jitsu process connects to.  */

#include <sys/file.h>

#include "bus_config.h"
#include "bus_forwarder.h"

static const char *s_usage =
    "Forward jitsu bus messages: publishers connect to bus_in, subscribers to bus_out.\n";

//  Everything main () wires together; the heartbeat timer reads it.
typedef struct {
    bus_config_t config;
    bus_forwarder_t *forwarder;
    proto_pub_t *pub;
} s_bus_t;

static int
s_on_tick (zloop_t *loop, int timer_id, void *argument)
{
    s_bus_t *bus = (s_bus_t *) argument;
    const bus_forwarder_stats_t *stats = bus_forwarder_stats (bus->forwarder);
    proto_msg_t msg;
    proto_pub_alive (bus->pub, &msg);
    proto_msg_add_counter (&msg, "messages", stats->messages);
    proto_msg_add_counter (&msg, "bytes", stats->bytes);
    proto_msg_add_counter (&msg, "subscribes", stats->subscribes);
    proto_msg_add_counter (&msg, "unsubscribes", stats->unsubscribes);
    proto_msg_add_counter (&msg, "send_failures", stats->send_failures);
    proto_pub_send (bus->pub, &msg);
    return 0;
}

//  Hold an exclusive lock beside an ipc:// endpoint so a second bus cannot unlink and steal
//  the first one's sockets. Returns the lock fd, -1 when another bus holds it, or -2 when
//  the endpoint is not ipc:// (nothing to lock).
static int
s_lock (const char *endpoint)
{
    if (strncmp (endpoint, "ipc://", 6))
        return -2;
    char path[PROTO_ENDPOINT_MAX + 8];
    if (snprintf (path, sizeof path, "%s.lock", endpoint + 6) >= (int) sizeof path)
        return -1;
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB)) {
        zsys_error ("bus: cannot lock %s: %s (is another bus running?)", path, strerror (errno));
        if (fd >= 0)
            close (fd);
        return -1;
    }
    return fd;
}

int
main (int argc, char **argv)
{
    proto_main_args_t args;
    if (proto_main_begin (argc, argv, "jitsu-bus", s_usage, &args))
        return args.status;

    s_bus_t bus = {0};
    proto_error_t error;
    if (bus_config_load (&bus.config, args.config_path, &error)) {
        zsys_error ("bus: bad config: %s", error.text);
        return PROTO_MAIN_EXIT_FAILED;
    }
    if (args.check_config) {
        printf ("config ok: bus_in=%s bus_out=%s\n", bus.config.endpoints.bus_in,
                bus.config.endpoints.bus_out);
        return PROTO_MAIN_EXIT_OK;
    }

    int rc = PROTO_MAIN_EXIT_FAILED;
    int lock_fd = -1;
    zloop_t *loop = NULL;
    umask (0007);  // sockets and the lock are for the owner and the jitsu group only
    if (proto_endpoints_prepare (bus.config.endpoints.bus_in)
        || proto_endpoints_prepare (bus.config.endpoints.bus_out)) {
        zsys_error ("bus: cannot create run directory %s: %s", bus.config.endpoints.run_dir,
                    strerror (errno));
        goto cleanup;
    }
    lock_fd = s_lock (bus.config.endpoints.bus_in);
    if (lock_fd == -1)
        goto cleanup;
    bus.forwarder = bus_forwarder_new (bus.config.endpoints.bus_in, bus.config.endpoints.bus_out,
                                       bus.config.hwm);
    bus.pub = proto_pub_new (bus.config.endpoints.bus_in, "bus", bus.config.instance);
    loop = zloop_new ();
    if (!bus.forwarder || !bus.pub || !loop || bus_forwarder_attach (bus.forwarder, loop)
        || zloop_timer (loop, bus.config.heartbeat_ms, 0, s_on_tick, &bus) < 0)
        goto cleanup;
    zsys_info ("bus: started bus_in=%s bus_out=%s instance=%s", bus.config.endpoints.bus_in,
               bus.config.endpoints.bus_out, bus.config.instance);
    rc = proto_main_run (loop);
    zsys_info ("bus: stopping messages=%" PRIu64,
               bus_forwarder_stats (bus.forwarder)->messages);
cleanup:
    //  The forwarder and publisher first: their sockets leave the loop they are registered with.
    proto_pub_destroy (&bus.pub);
    bus_forwarder_destroy (&bus.forwarder);
    zloop_destroy (&loop);
    if (lock_fd >= 0)
        close (lock_fd);
    return rc;
}
