/*  ctl_prepare: publish vm.prepare, then follow the service's messages until it is parked.  */

#include "ctl_prepare.h"

//  What the run has seen of the service, and the boot it waits for.
typedef struct {
    const char *service;
    proto_tier_t tier;
    bool booted;                        // a vm.ready since the request
    int status;                         // -1 while waiting, then the exit status
} s_wait_t;

static void
s_on_message (s_wait_t *wait, const proto_msg_t *msg)
{
    const char *service = proto_msg_service (msg);
    if (!service || !streq (service, wait->service))
        return;
    if (msg->type == PROTO_MSG_VM_READY) {
        wait->booted = true;
        printf ("%s ready (boot_ms=%lld from=%s)\n", service, (long long) msg->vm_ready.boot_ms,
                proto_tier_name (msg->vm_ready.from));
    }
    else if (msg->type == PROTO_MSG_VM_FAILED) {
        fprintf (stderr, "jitsuctl service prepare: %s failed: %s\n", service,
                 msg->vm_failed.error);
        wait->status = 1;
    }
    else if (msg->type == PROTO_MSG_VM_STOPPED && msg->vm_stop.reason == PROTO_REASON_ADMIN) {
        proto_mode_t mode = msg->vm_stop.mode;
        proto_tier_t tier = mode == PROTO_MODE_SUSPEND ? PROTO_TIER_PAUSED
                            : mode == PROTO_MODE_SAVE  ? PROTO_TIER_SAVED
                                                       : PROTO_TIER_OFF;
        printf ("%s parked: %s (asked: %s)\n", service, proto_tier_name (tier),
                proto_tier_name (wait->tier));
        //  A harsher tier than asked is a fallback (a driver without save): said, not hidden.
        wait->status = tier == wait->tier ? 0 : 1;
    }
}

int
ctl_prepare_run (const proto_endpoints_t *endpoints, const char *service, const char *tier,
                 int timeout_ms)
{
    s_wait_t wait = {service, PROTO_TIER_SAVED, false, -1};
    if (tier && streq (tier, "paused"))
        wait.tier = PROTO_TIER_PAUSED;
    else if (tier && streq (tier, "off"))
        wait.tier = PROTO_TIER_OFF;
    else if (tier && !streq (tier, "saved")) {
        fprintf (stderr, "jitsuctl service prepare: TIER is paused, saved or off\n");
        return 2;
    }
    char instance[16];
    snprintf (instance, sizeof instance, "%d", (int) getpid ());
    proto_pub_t *pub = proto_pub_new (endpoints->bus_in, "jitsuctl", instance);
    proto_sub_t *sub = proto_sub_new (endpoints->bus_out);
    int status = 1;
    if (!pub || !sub) {
        fprintf (stderr, "jitsuctl service prepare: cannot reach the bus at %s\n",
                 endpoints->bus_in);
        goto cleanup;
    }
    const char *topics[] = {"vm.ready", "vm.failed", "vm.stopped"};
    for (size_t index = 0; index < 3; index++)
        proto_sub_subscribe (sub, topics[index]);
    if (proto_pub_await (pub, "vm.prepare", 5000)) {
        fprintf (stderr, "jitsuctl service prepare: no vmctl listens on the bus\n");
        goto cleanup;
    }
    zclock_sleep (200);  // our own subscriptions reach the bus as well
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_VM_PREPARE);
    proto_copy (msg.vm_prepare.service, sizeof msg.vm_prepare.service, service);
    snprintf (msg.vm_prepare.request_id, sizeof msg.vm_prepare.request_id, "%s:1",
              proto_pub_src (pub));
    msg.vm_prepare.tier = wait.tier;
    if (proto_pub_send (pub, &msg)) {
        fprintf (stderr, "jitsuctl service prepare: sending vm.prepare failed\n");
        goto cleanup;
    }
    zpoller_t *poller = zpoller_new (proto_sub_sock (sub), NULL);
    int64_t deadline = zclock_mono () + timeout_ms;
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    while (wait.status < 0 && !zsys_interrupted && zclock_mono () < deadline) {
        if (!zpoller_wait (poller, (int) (deadline - zclock_mono ())))
            continue;
        proto_error_t error;
        while (wait.status < 0 && proto_sub_recv (sub, &msg, &error) == 0) {
            s_on_message (&wait, &msg);
            proto_msg_reset (&msg);
        }
    }
    proto_msg_reset (&msg);
    zpoller_destroy (&poller);
    if (wait.status < 0)
        fprintf (stderr, "jitsuctl service prepare: %s not parked within %d ms (%s)\n", service,
                 timeout_ms, wait.booted ? "it booted" : "it did not boot");
    status = wait.status < 0 ? 1 : wait.status;
cleanup:
    proto_sub_destroy (&sub);
    proto_pub_destroy (&pub);
    return status;
}
