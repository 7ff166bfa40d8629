/*  End to end: the whole suite under supervisord, real QEMU and LXC guests on a bridge in a
    network namespace, real clients (dig, curl, a TCP client reading TCP_INFO).

    The suite comes up once, before every test (deploy/suite up, as the demo does), and goes
    down after the last one. Each test uses its own service, so tests do not depend on one
    another's VMs. A `jitsuctl tap` records the bus for the whole run. Anything missing (root,
    namespaces, QEMU, libvirtd, or a libvirtd already running) makes every test skip with the
    reason printed.  */

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/new/assert.h>
#include <sys/wait.h>

#include "proto.h"
#include "test_support.h"

#define S_NAME   "jte"
#define S_ROOT   "/tmp/jte"
#define S_RUN    S_ROOT "/run"
#define S_SUBNET "10.78.0"
#define S_PORT   "5399"
#define S_GUEST  "/var/cache/jitsu/guest"
#define S_CTL    JITSU_BUILD_DIR "/ctl/jitsuctl"
#define S_TCP    JITSU_BUILD_DIR "/tests/e2e/e2e_tcp"
#define S_SKIP   S_ROOT "/skip"       // why every test skips, when they must
#define S_TAP    S_ROOT "/tap.jsonl"  // every bus message of the run

//  The services of the run: name, kind, last address byte, mask, ttl, more fields. The QEMU
//  ones hold their answers until ready however long the boot (hold_max_ms 60000: these tests
//  ask dnsd directly, no resolver gives up on them).
static const struct {
    const char *name;
    bool qemu;
    int host;
    const char *mask;
    int ttl;
    const char *extra;
} s_services[] = {
    {"q", true, 10, "ready", 300, NULL},    // a query boots it, the page is served
    {"l", false, 11, "synjitsu", 300, NULL},  // zero retransmits with synjitsu
    {"r", true, 12, "ready", 300, NULL},    // the answer waits for the guest
    {"s", true, 13, "synjitsu", 300, NULL},   // the held SYN is replayed at readiness
    {"n", false, 14, "synjitsu", 300, NULL},  // the same as l, with synjitsu stopped
    {"i", false, 15, "none", 1, NULL},        // idle stop after 2 x TTL
    {"f", true, 16, "ready", 300, NULL},    // processes killed during its boots
    {"c", false, 17, "ready", 300, NULL},     // 20 clients at once
    //  The idle tiers: the whole ladder; vmctl killed while paused, while saved; a corrupt save.
    {"t", true, 18, "ready", 1, "\"idle_ladder\": [{\"after_s\": 3, \"mode\": \"suspend\"}, "
                                "{\"after_s\": 10, \"mode\": \"save\"}, {\"after_s\": 20, "
                                "\"mode\": \"destroy\"}], "},
    {"k", true, 19, "ready", 1, "\"idle_ladder\": [{\"after_s\": 2, \"mode\": \"suspend\"}, "
                                "{\"after_s\": 600, \"mode\": \"save\"}], "},
    {"v", true, 20, "ready", 1, "\"stop_mode\": \"save\", \"idle_timeout_s\": 2, "},
    {"x", true, 21, "ready", 1, "\"stop_mode\": \"save\", \"idle_timeout_s\": 2, "},
    //  The drain before a destroy: answers carry drain_ttl, a query keeps the VM.
    {"d", true, 22, "ready", 4, "\"drain_ttl\": 2, \"idle_ladder\": [{\"after_s\": 4, "
                                "\"mode\": \"destroy\"}], "},
};

//  Run a shell command with the suite's settings; returns its exit status.
#define S_ENV                                                                                      \
    "JITSU_NAME=" S_NAME " JITSU_RUN=" S_RUN " JITSU_STATE=" S_ROOT "/state JITSU_BIN="            \
    JITSU_BUILD_DIR " JITSU_GUEST=" S_GUEST " JITSU_SUBNET=" S_SUBNET " JITSU_DNS_PORT=" S_PORT   \
    " JITSU_METRICS_PORT=9199 JITSU_RUN_DIR=" S_RUN " "

static void
s_skip_because (const char *reason)
{
    FILE *file = fopen (S_SKIP, "w");
    if (file) {
        fputs (reason, file);
        fclose (file);
    }
    fprintf (stderr, "e2e: every test will skip: %s\n", reason);
}

static void
s_register_services (void)
{
    char *services = strdup ("[");
    for (size_t index = 0; index < sizeof s_services / sizeof s_services[0]; index++) {
        const char *name = s_services[index].name;
        int host = s_services[index].host;
        char *entry;
        if (s_services[index].qemu)
            entry = zsys_sprintf (
                "{\"name\": \"%s\", \"dns\": [\"%s.jitsu.test\"], \"ip\": \"" S_SUBNET ".%d\", "
                "\"mac\": \"52:54:00:78:00:%02d\", \"template\": {\"kernel\": \"" S_GUEST
                "/vmlinux\", \"initrd\": \"" S_GUEST "/initrd.cpio\", \"cmdline\": \"$(cat "
                S_GUEST "/cmdline) jitsu.ip=" S_SUBNET ".%d/24 jitsu.name=%s\", "
                "\"memory_mib\": 128, \"bridge\": \"" S_NAME "0\"}, \"ttl\": %d, %s\"mask\": "
                "\"%s\", \"ready\": \"probe:80\", \"ready_timeout_ms\": 60000, "
                "\"hold_max_ms\": 60000}",
                name, name, host, host, host, name, s_services[index].ttl,
                s_services[index].extra ? s_services[index].extra : "", s_services[index].mask);
        else {
            //  An LXC guest is a defined domain.
            test_shell ("sed -e 's|@NAME@|" S_NAME "-%s|' -e 's|@ADDRESS@|" S_SUBNET ".%d/24|' "
                        "-e 's|@SERVICE@|%s|' -e 's|@ROOTFS@|" S_GUEST "/rootfs|' "
                        "-e 's|@BRIDGE@|" S_NAME "0|' -e 's|@MAC@|52:54:00:78:00:%02d|' "
                        "-e 's|@IFACE@|l-" S_NAME "-%d|' "
                        JITSU_SOURCE_DIR "/deploy/guest/lxc-domain.xml.in > " S_ROOT "/%s.xml "
                        "&& virsh -q -c lxc:///system define " S_ROOT "/%s.xml >/dev/null",
                        name, host, name, host, host, name, name);
            entry = zsys_sprintf (
                "{\"name\": \"%s\", \"dns\": [\"%s.jitsu.test\"], \"ip\": \"" S_SUBNET ".%d\", "
                "\"mac\": \"52:54:00:78:00:%02d\", \"domain\": \"" S_NAME "-%s\", \"ttl\": %d, "
                "\"mask\": \"%s\", \"ready\": \"probe:80\"}",
                name, name, host, host, name, s_services[index].ttl, s_services[index].mask);
        }
        char *grown = zsys_sprintf ("%s%s%s", services, index ? ", " : "", entry);
        free (services);
        zstr_free (&entry);
        services = grown;
    }
    //  The cmdline needs the shell ($(cat ...)): write the file through it.
    test_shell ("cat > " S_ROOT "/services.json <<EOF\n%s]\nEOF", services);
    free (services);
    if (test_shell (S_ENV S_CTL " service apply " S_ROOT "/services.json >/dev/null"))
        s_skip_because ("registering the services failed: see " S_ROOT);
}

ReportHook (PRE_ALL) (struct criterion_test_set *tests)
{
    test_shell ("rm -rf " S_ROOT " && mkdir -p " S_ROOT);
    if (!test_is_root ()) {
        s_skip_because ("needs root: network namespaces, libvirtd and guests");
        return;
    }
    const char *tools[] = {"ip", "qemu-system-x86_64", "libvirtd", "virsh", "supervisord",
                           "dig", "curl", "setpriv", "jq", "lz4", "cpio"};
    for (size_t index = 0; index < sizeof tools / sizeof tools[0]; index++)
        if (test_shell ("command -v %s >/dev/null", tools[index])) {
            char reason[128];
            snprintf (reason, sizeof reason, "%s is not installed (deploy/install-deps)",
                      tools[index]);
            s_skip_because (reason);
            return;
        }
    if (test_shell ("ip netns add jte-probe && ip netns del jte-probe")) {
        s_skip_because ("cannot create network namespaces here");
        return;
    }
    if (test_shell ("pgrep -x libvirtd >/dev/null") == 0) {
        s_skip_because ("a libvirtd is already running; the suite runs its own in a namespace");
        return;
    }
    if (test_shell (JITSU_SOURCE_DIR "/deploy/guest/build " S_GUEST " >" S_ROOT
                    "/guest.log 2>&1")) {
        s_skip_because ("building the guests failed (network for apt-get download?): see "
                        S_ROOT "/guest.log");
        return;
    }
    if (test_shell (S_ENV JITSU_SOURCE_DIR "/deploy/suite up >" S_ROOT "/suite.log 2>&1")) {
        //  Not a skip: the suite is what is under test. Every test fails with this reason.
        FILE *file = fopen (S_ROOT "/broken", "w");
        fclose (file);
        return;
    }
    s_register_services ();
    //  Record the bus for the whole run.
    test_shell ("(" S_ENV S_CTL " tap > " S_TAP " 2>/dev/null & echo $! > " S_ROOT "/tap.pid)");
    zclock_sleep (500);
}

ReportHook (POST_ALL) (struct criterion_global_stats *stats)
{
    test_shell ("kill $(cat " S_ROOT "/tap.pid 2>/dev/null) 2>/dev/null");
    for (size_t index = 0; index < sizeof s_services / sizeof s_services[0]; index++)
        if (!s_services[index].qemu)
            test_shell ("virsh -q -c lxc:///system destroy " S_NAME "-%s >/dev/null 2>&1; "
                        "virsh -q -c lxc:///system undefine " S_NAME "-%s >/dev/null 2>&1",
                        s_services[index].name, s_services[index].name);
    test_shell (S_ENV JITSU_SOURCE_DIR "/deploy/suite down >>" S_ROOT "/suite.log 2>&1");
    //  Logs stay in S_ROOT when something failed; a clean run leaves nothing.
    if (stats->tests_failed == 0 && stats->tests_crashed == 0)
        test_shell ("rm -rf " S_ROOT);
}

//  Every test starts here: skip with the reason, or fail when the suite did not come up.
static void
s_setup (void)
{
    char reason[256] = "";
    FILE *file = fopen (S_SKIP, "r");
    if (file) {
        if (!fgets (reason, sizeof reason, file))
            strcpy (reason, "(no reason recorded)");
        fclose (file);
        cr_skip_test ("%s", reason);
    }
    cr_assert (eq (int, access (S_ROOT "/broken", F_OK), -1),
               "the suite did not come up: see " S_ROOT "/suite.log and " S_RUN "/log");
}

TestSuite (e2e, .init = s_setup, .timeout = 240);

//  Run COMMAND (printf-style) and return its first output line (static), or "".
static const char *
s_output (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

static const char *
s_output (const char *format, ...)
{
    static char line[1024];
    va_list args;
    va_start (args, format);
    char *command = zsys_vprintf (format, args);
    va_end (args);
    line[0] = '\0';
    FILE *pipe = popen (command, "r");
    if (pipe) {
        if (!fgets (line, sizeof line, pipe))
            line[0] = '\0';
        pclose (pipe);
    }
    zstr_free (&command);
    line[strcspn (line, "\n")] = '\0';
    return line;
}

//  Resolve SERVICE.jitsu.test with dig; returns the address (static) or "".
static const char *
s_dig (const char *service)
{
    return s_output ("dig +short +time=10 +tries=2 @127.0.0.1 -p " S_PORT " %s.jitsu.test A",
                     service);
}

//  The address of SERVICE.
static const char *
s_address (const char *service)
{
    static char address[32];
    for (size_t index = 0; index < sizeof s_services / sizeof s_services[0]; index++)
        if (streq (s_services[index].name, service))
            snprintf (address, sizeof address, S_SUBNET ".%d", s_services[index].host);
    return address;
}

//  Bus messages of TOPIC about SERVICE recorded so far.
static int
s_tap_count (const char *topic, const char *service)
{
    return atoi (s_output ("jq -c 'select(.type == \"%s\" and .body.service == \"%s\")' " S_TAP
                           " | wc -l", topic, service));
}

//  Wait up to SECONDS for a bus message of TOPIC about SERVICE; returns whether it came.
static bool
s_tap_wait (const char *topic, const char *service, int seconds)
{
    for (int tick = 0; tick < seconds * 10; tick++) {
        if (s_tap_count (topic, service) > 0)
            return true;
        zclock_sleep (100);
    }
    return false;
}

//  The stored state of SERVICE ("off", "booting", "ready"...), or "".
static const char *
s_state (const char *service)
{
    return s_output (S_ENV S_CTL " state get /services/%s/status 2>/dev/null | jq -r .state",
                     service);
}

static bool
s_state_reaches (const char *service, const char *state, int seconds)
{
    for (int tick = 0; tick < seconds * 5; tick++) {
        if (streq (s_state (service), state))
            return true;
        zclock_sleep (200);
    }
    return false;
}

//  Domains of SERVICE running in libvirt (QEMU or LXC).
static int
s_running (const char *service)
{
    return atoi (s_output ("(virsh -q -c qemu:///system list --name; virsh -q -c lxc:///system "
                           "list --name) | grep -cx " S_NAME "-%s", service));
}

//  One TCP connect from the client namespace: fills RESULT's numbers; returns whether it
//  connected.
typedef struct {
    long long start_ms, end_ms;
    int ok, retransmits;
} s_connect_t;

static bool
s_connect (const char *address, int timeout_ms, s_connect_t *result)
{
    const char *line = s_output ("ip netns exec " S_NAME "-client " S_TCP " connect %s 80 %d",
                                 address, timeout_ms);
    memset (result, 0, sizeof *result);
    sscanf (line, "start_ms=%lld end_ms=%lld ok=%d retransmits=%d", &result->start_ms,
            &result->end_ms, &result->ok, &result->retransmits);
    return result->ok == 1;
}

Test (e2e, a_query_for_a_stopped_service_boots_it_and_the_page_is_served)
{
    cr_assert (eq (int, s_running ("q"), 0));
    cr_assert (eq (str, (char *) s_dig ("q"), (char *) s_address ("q")));
    const char *page = s_output ("ip netns exec " S_NAME "-client curl -s -m 10 http://%s/",
                                 s_address ("q"));
    cr_assert (not (eq (ptr, strstr (page, "jitsu service q"), NULL)), "page: %s", page);
    cr_assert (eq (int, s_running ("q"), 1), "virsh lists the domain");
    cr_assert (s_state_reaches ("q", "ready", 10));
    const char *history = s_output (S_ENV S_CTL " history q | grep -c 'ready '");
    cr_assert (eq (int, atoi (history), 1), "statestore history shows the boot");
}

Test (e2e, with_mask_ready_the_answer_waits_until_the_guest_answers)
{
    //  Watch the guest's port while dig waits for its answer, from the bridge's side: a
    //  client would learn the guest's MAC only at its next ARP retry, up to a second late
    //  (nobody answers ARP for the address with mask=ready), the bridge's side within 100 ms.
    test_shell ("ip netns exec " S_NAME "-net " S_TCP " first %s 80 60000 > " S_ROOT
                "/first.txt &", s_address ("r"));
    zclock_sleep (100);
    const char *answer = s_dig ("r");
    long long answered_ms = (long long) zclock_time ();
    cr_assert (eq (str, (char *) answer, (char *) s_address ("r")));
    long long first_ms = 0;
    for (int tick = 0; tick < 50 && first_ms == 0; tick++) {
        zclock_sleep (100);
        first_ms = atoll (s_output ("cut -d= -f2 " S_ROOT "/first.txt"));
    }
    cr_assert (gt (i64, first_ms, 0), "the guest never answered on port 80");
    //  The watcher tries every 10 ms: the guest was up at most that long before it saw it.
    cr_log_info ("guest answered at %lld, DNS answer at %lld (%+lld ms)", first_ms, answered_ms,
                 answered_ms - first_ms);
    cr_assert (ge (i64, answered_ms + 20, first_ms),
               "the DNS answer came %lld ms before the guest answered", first_ms - answered_ms);
}

Test (e2e, synjitsu_lets_a_client_connect_to_a_booting_lxc_guest_without_retransmits)
{
    //  With synjitsu: the answer comes at once, the connect right after it.
    cr_assert (eq (str, (char *) s_dig ("l"), (char *) s_address ("l")));
    s_connect_t with;
    cr_assert (s_connect (s_address ("l"), 10000, &with), "the connect failed");
    cr_log_info ("with synjitsu: connect took %lld ms, %d retransmits",
                 with.end_ms - with.start_ms, with.retransmits);
    cr_assert (eq (int, with.retransmits, 0));

    //  The same with synjitsu stopped, on a twin service: the first SYN is lost (or waits
    //  for an ARP answer nobody gives) and the kernel sends again after a second.
    test_shell (S_ENV "supervisorctl -c " S_RUN "/etc/supervisord.conf stop synjitsu >/dev/null");
    cr_assert (eq (str, (char *) s_dig ("n"), (char *) s_address ("n")));
    s_connect_t without;
    bool connected = s_connect (s_address ("n"), 10000, &without);
    test_shell (S_ENV "supervisorctl -c " S_RUN "/etc/supervisord.conf start synjitsu >/dev/null");
    cr_assert (connected, "the connect without synjitsu failed");
    cr_log_info ("without synjitsu: connect took %lld ms, %d retransmits",
                 without.end_ms - without.start_ms, without.retransmits);
    //  This kernel counts a SYN held back by an unresolved neighbour as no retransmit, but
    //  the client still waits for the ARP retry a second later (see synjitsu/README.md).
    cr_assert (without.retransmits >= 1 || without.end_ms - without.start_ms >= 900,
               "without synjitsu the client did not have to try again");
}

Test (e2e, a_syn_held_for_a_slow_qemu_guest_is_replayed_at_readiness)
{
    cr_assert (eq (str, (char *) s_dig ("s"), (char *) s_address ("s")));
    s_connect_t result;
    cr_assert (s_connect (s_address ("s"), 30000, &result), "the connect failed");
    cr_assert (s_tap_wait ("syn.replayed", "s", 5), "synjitsu replayed nothing");
    long long replayed_ms = atoll (s_output ("jq -c 'select(.type == \"syn.replayed\" and "
                                             ".body.service == \"s\") | .ts' " S_TAP
                                             " | head -1"));
    cr_log_info ("connect %lld ms, %d retransmits; replay %lld ms after the connect began",
                 result.end_ms - result.start_ms, result.retransmits,
                 replayed_ms - result.start_ms);
    //  The client's own SYNs leave at 0, 1, 2... s; the handshake completed right after the
    //  replay, before the retransmit that would otherwise have come next.
    long long next_retransmit = result.start_ms + (result.retransmits + 1) * 1000LL;
    cr_assert (lt (i64, result.end_ms, next_retransmit),
               "the connect completed with a retransmit, not with the replay");
    cr_assert (le (i64, result.end_ms - replayed_ms, 500), "the replay did not complete it");
}

Test (e2e, a_vm_nobody_queries_is_stopped_after_twice_its_ttl)
{
    cr_assert (eq (str, (char *) s_dig ("i"), (char *) s_address ("i")));
    cr_assert (s_state_reaches ("i", "ready", 10));
    //  Broadcast noise on the bridge reaches the guest the whole time; only what the guest
    //  sends counts as use (a broadcast to a closed port gets no ICMP answer).
    test_shell ("ip netns exec " S_NAME "-client timeout 20 python3 -c 'import socket, time\n"
                "s = socket.socket (socket.AF_INET, socket.SOCK_DGRAM)\n"
                "s.setsockopt (socket.SOL_SOCKET, socket.SO_BROADCAST, 1)\n"
                "while True:\n    s.sendto (b\"noise\", (\"" S_SUBNET ".255\", 9))\n"
                "    time.sleep (0.1)\n' >/dev/null 2>&1 &");
    //  TTL 1 s: stopped about 2 s after the last query (plus vmctl's check and a destroy).
    cr_assert (s_tap_wait ("vm.stopped", "i", 20), "no vm.stopped on the bus");
    const char *reason = s_output ("jq -r 'select(.type == \"vm.stopped\" and .body.service == "
                                   "\"i\") | .body.reason' " S_TAP " | head -1");
    cr_assert (eq (str, (char *) reason, "idle"));
    cr_assert (s_state_reaches ("i", "off", 10));
    cr_assert (eq (int, s_running ("i"), 0));
    const char *history = s_output (S_ENV S_CTL " history i | grep -c ' off '");
    cr_assert (ge (int, atoi (history), 1), "no commit for the stop in the history");
}

//  Save the history's commits so far, oldest first, as [[rev, commit]...] in S_ROOT/NAME.
static void
s_commits (const char *name)
{
    test_shell (S_ENV S_CTL " state log --limit 10000 --json | jq -c "
                "'[.entries[] | [.rev, .commit]] | reverse' > " S_ROOT "/%s", name);
}

//  Whether every commit saved in S_ROOT/BEFORE is still in S_ROOT/AFTER, with its revision.
static bool
s_commits_kept (const char *before, const char *after)
{
    return test_shell ("jq -e --slurpfile before " S_ROOT "/%s '($before[0] | length) > 0 and "
                       ".[: ($before[0] | length)] == $before[0]' " S_ROOT "/%s >/dev/null",
                       before, after) == 0;
}

Test (e2e, killing_each_process_mid_boot_loses_nothing_and_leaves_one_vm, .timeout = 600)
{
    const char *processes[] = {"bus", "statestore", "vmctl-qemu", "synjitsu", "dnsd:dnsd-0"};
    for (size_t round = 0; round < sizeof processes / sizeof processes[0]; round++) {
        s_commits ("commits-before.json");
        //  A boot in flight, with queries waiting on it.
        test_shell ("for n in 1 2 3; do dig -b 127.0.0.$((n + 1)) +short +time=20 +tries=1 "
                    "@127.0.0.1 -p " S_PORT " f.jitsu.test A > " S_ROOT "/fault-%zu-$n.txt & "
                    "done", round);
        cr_assert (s_state_reaches ("f", "booting", 10), "%s: the boot did not start",
                   processes[round]);
        const char *pid = s_output (S_ENV "supervisorctl -c " S_RUN "/etc/supervisord.conf "
                                    "pid %s", processes[round]);
        int victim = atoi (pid);
        cr_assert (gt (int, victim, 1), "no pid for %s", processes[round]);
        kill (victim, SIGKILL);
        //  supervisord restarts it.
        bool restarted = false;
        for (int tick = 0; tick < 100 && !restarted; tick++) {
            zclock_sleep (200);
            int now = atoi (s_output (S_ENV "supervisorctl -c " S_RUN "/etc/supervisord.conf "
                                      "pid %s", processes[round]));
            restarted = now > 1 && now != victim;
        }
        cr_assert (restarted, "supervisord did not restart %s", processes[round]);
        //  The service comes up, exactly once, and answers.
        cr_assert (eq (str, (char *) s_dig ("f"), (char *) s_address ("f")),
                   "after killing %s", processes[round]);
        cr_assert (s_state_reaches ("f", "ready", 60), "after killing %s", processes[round]);
        cr_assert (eq (int, s_running ("f"), 1), "after killing %s", processes[round]);
        const char *page = s_output ("ip netns exec " S_NAME "-client curl -s -m 10 "
                                     "http://%s/", s_address ("f"));
        cr_assert (not (eq (ptr, strstr (page, "jitsu service f"), NULL)), "after killing %s",
                   processes[round]);
        //  Every commit made before the kill is still there, with its revision.
        s_commits ("commits-after.json");
        cr_assert (s_commits_kept ("commits-before.json", "commits-after.json"),
                   "after killing %s, history lost commits (see " S_ROOT "/commits-*.json)",
                   processes[round]);
        //  Off again for the next round: an external stop, as a person would do it.
        test_shell ("virsh -q -c qemu:///system destroy " S_NAME "-f >/dev/null 2>&1");
        cr_assert (s_state_reaches ("f", "off", 30), "after killing %s", processes[round]);
    }
}

Test (e2e, twenty_clients_resolving_a_stopped_name_share_one_boot)
{
    //  Each dig from an address of its own: dig binds its random port with address reuse, so
    //  two digs on one address can share a port and one never sees its answer.
    test_shell ("for n in $(seq 1 20); do dig -b 127.0.0.$((n + 1)) +short +time=20 +tries=1 "
                "@127.0.0.1 -p " S_PORT " c.jitsu.test A > " S_ROOT "/client-$n.txt & done; "
                "wait");
    int answered = atoi (s_output ("cat " S_ROOT "/client-*.txt | grep -cx %s",
                                   s_address ("c")));
    cr_assert (eq (int, answered, 20), "%d of 20 clients got the address", answered);
    cr_assert (eq (int, s_tap_count ("vm.booting", "c"), 1), "one boot");
    cr_assert (eq (int, s_running ("c"), 1));
    test_shell ("for n in $(seq 1 20); do ip netns exec " S_NAME "-client " S_TCP " connect %s "
                "80 10000 > " S_ROOT "/connect-$n.txt & done; wait", s_address ("c"));
    int connected = atoi (s_output ("cat " S_ROOT "/connect-*.txt | grep -c ok=1"));
    cr_assert (eq (int, connected, 20), "%d of 20 clients connected", connected);
}

//  The tiers ---------------------------------------------------------------------------------

//  The tier SERVICE's last vm.ready woke from ("off", "paused", "saved"), or "".
static const char *
s_woke_from (const char *service)
{
    return s_output ("jq -r 'select(.type == \"vm.ready\" and .body.service == \"%s\") | "
                     ".body.from // \"\"' " S_TAP " | tail -1", service);
}

//  How many of SERVICE's boots woke from TIER.
static int
s_boots_from (const char *service, const char *tier)
{
    return atoi (s_output ("jq -c 'select(.type == \"vm.ready\" and .body.service == \"%s\" and "
                           ".body.from == \"%s\")' " S_TAP " | wc -l", service, tier));
}

//  SERVICE's save files in the suite's save directory.
static int
s_save_files (const char *service)
{
    return atoi (s_output ("ls " S_ROOT "/state/saves | grep -c '^%s-'", service));
}

//  A query and a page for SERVICE, as a client does it; fails the test when either fails.
static void
s_query_and_fetch (const char *service, const char *when)
{
    cr_assert (eq (str, (char *) s_dig (service), (char *) s_address (service)), "%s", when);
    const char *page = s_output ("ip netns exec " S_NAME "-client curl -s -m 10 http://%s/",
                                 s_address (service));
    char expected[64];
    snprintf (expected, sizeof expected, "jitsu service %s", service);
    cr_assert (not (eq (ptr, strstr (page, expected), NULL)), "%s: page: %s", when, page);
}

//  Kill vmctl-qemu with SIGKILL and wait until supervisord has it running again.
static void
s_kill_vmctl (void)
{
    const char *command = S_ENV "supervisorctl -c " S_RUN "/etc/supervisord.conf pid vmctl-qemu";
    int victim = atoi (s_output ("%s", command));
    cr_assert (gt (int, victim, 1), "no pid for vmctl-qemu");
    kill (victim, SIGKILL);
    bool restarted = false;
    for (int tick = 0; tick < 100 && !restarted; tick++) {
        zclock_sleep (200);
        int now = atoi (s_output ("%s", command));
        restarted = now > 1 && now != victim;
    }
    cr_assert (restarted, "supervisord did not restart vmctl-qemu");
    zclock_sleep (1500);  // its reconcile
}

Test (e2e, a_service_walks_the_idle_ladder_and_wakes_from_each_tier, .timeout = 300)
{
    s_query_and_fetch ("t", "cold");
    cr_assert (eq (str, (char *) s_woke_from ("t"), "off"));
    //  3 s idle: suspended. A query resumes it.
    cr_assert (s_state_reaches ("t", "paused", 20), "not paused: %s", s_state ("t"));
    cr_assert (eq (int, s_running ("t"), 1), "a paused domain is still listed");
    s_query_and_fetch ("t", "from paused");
    cr_assert (eq (str, (char *) s_woke_from ("t"), "paused"));
    //  Down again: paused at 3 s, saved at 10 s (no drain from paused). A query restores it.
    cr_assert (s_state_reaches ("t", "saved", 40), "not saved: %s", s_state ("t"));
    cr_assert (eq (int, s_running ("t"), 0), "a saved domain is gone from libvirt");
    cr_assert (eq (int, s_save_files ("t"), 1));
    s_query_and_fetch ("t", "from saved");
    cr_assert (eq (str, (char *) s_woke_from ("t"), "saved"));
    cr_assert (eq (int, s_save_files ("t"), 0), "the restored file is gone");
    //  The whole ladder: at 20 s the save file goes too. A query cold-boots it.
    cr_assert (s_state_reaches ("t", "saved", 40));
    cr_assert (s_state_reaches ("t", "off", 40), "not off: %s", s_state ("t"));
    cr_assert (eq (int, s_save_files ("t"), 0));
    s_query_and_fetch ("t", "from off");
    cr_assert (eq (str, (char *) s_woke_from ("t"), "off"));
}

Test (e2e, vmctl_killed_while_paused_or_saved_resumes_or_restores_and_boots_once,
      .timeout = 300)
{
    s_query_and_fetch ("k", "cold");
    cr_assert (s_state_reaches ("k", "paused", 20));
    s_kill_vmctl ();
    cr_assert (eq (str, (char *) s_state ("k"), "paused"), "the restarted vmctl kept the tier");
    s_query_and_fetch ("k", "after the kill, paused");
    cr_assert (eq (str, (char *) s_woke_from ("k"), "paused"));
    cr_assert (eq (int, s_boots_from ("k", "off"), 1), "booted cold once, never again");
    cr_assert (eq (int, s_running ("k"), 1));

    s_query_and_fetch ("v", "cold");
    cr_assert (s_state_reaches ("v", "saved", 30));
    cr_assert (eq (int, s_save_files ("v"), 1));
    s_kill_vmctl ();
    cr_assert (eq (int, s_save_files ("v"), 1), "the save file outlived vmctl");
    cr_assert (eq (str, (char *) s_state ("v"), "saved"), "the restarted vmctl kept the tier");
    s_query_and_fetch ("v", "after the kill, saved");
    cr_assert (eq (str, (char *) s_woke_from ("v"), "saved"));
    cr_assert (eq (int, s_boots_from ("v", "off"), 1), "booted cold once, never again");
    cr_assert (eq (int, s_running ("v"), 1));
}

Test (e2e, a_corrupt_save_file_falls_back_to_a_cold_boot, .timeout = 200)
{
    s_query_and_fetch ("x", "cold");
    cr_assert (s_state_reaches ("x", "saved", 30));
    cr_assert (eq (int, test_shell ("f=$(ls " S_ROOT "/state/saves/x-*.save) && "
                                    "head -c 65536 /dev/urandom > \"$f\""), 0));
    s_query_and_fetch ("x", "with a corrupt save file");
    cr_assert (eq (str, (char *) s_woke_from ("x"), "off"), "cold-booted");
    cr_assert (eq (int, s_save_files ("x"), 0), "the corrupt file is removed");
}

//  The TTL of SERVICE's A record as dnsd answers it now (-1 when no answer).
static int
s_ttl (const char *service)
{
    const char *ttl = s_output ("dig +noall +answer +time=10 +tries=1 @127.0.0.1 -p " S_PORT
                                " %s.jitsu.test A | awk '{print $2}'", service);
    return ttl[0] ? atoi (ttl) : -1;
}

Test (e2e, a_cached_answer_never_outlives_its_vm_and_a_query_during_the_drain_keeps_it,
      .timeout = 200)
{
    cr_assert (eq (int, s_ttl ("d"), 4), "answered once ready: the full TTL");
    int64_t answered = zclock_mono ();
    //  For as long as that answer may be cached, the VM answers.
    while (zclock_mono () - answered < 4000) {
        const char *page = s_output ("ip netns exec " S_NAME "-client curl -s -m 5 http://%s/",
                                     s_address ("d"));
        cr_assert (not (eq (ptr, strstr (page, "jitsu service d"), NULL)),
                   "%lld ms after an answer with TTL 4 s the VM is gone",
                   (long long) (zclock_mono () - answered));
        zclock_sleep (500);
    }
    //  Idle after 4 s: the drain before the destroy. A query now gets the drain TTL and
    //  keeps the VM.
    cr_assert (s_state_reaches ("d", "draining", 20), "no drain: %s", s_state ("d"));
    cr_assert (eq (int, s_running ("d"), 1));
    cr_assert (eq (int, s_ttl ("d"), 2), "the drain TTL");
    cr_assert (s_state_reaches ("d", "ready", 10), "the query did not keep it");
    //  Nobody asks again: drained, then destroyed; the last answer (2 s) expired first.
    int64_t last_answer = zclock_time ();
    cr_assert (s_state_reaches ("d", "off", 40), "not off: %s", s_state ("d"));
    long long stopped = atoll (s_output ("jq -r 'select(.type == \"vm.stopping\" and "
                                         ".body.service == \"d\") | .ts' " S_TAP " | tail -1"));
    cr_assert (ge (i64, stopped - last_answer, 2000),
               "the destroy began %lld ms after an answer with TTL 2 s",
               stopped - (long long) last_answer);
}

//  The tests share one suite and the machine's two cores: one at a time, whatever --jobs says.
int
main (int argc, char *argv[])
{
    struct criterion_test_set *tests = criterion_initialize ();
    int result = 0;
    if (criterion_handle_args (argc, argv, true)) {
        criterion_options.jobs = 1;
        result = !criterion_run_all_tests (tests);
    }
    criterion_finalize (tests);
    return result;
}
