/*  Integration: several dnsd instances on one port (SO_REUSEPORT): both answer, either can
    go away, a boot one of them started is joined by the other, and a port some other
    program holds is refused rather than shared.  */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include "dnsd_fixture.h"
#include "test_support.h"

TestSuite (dnsd_instances, .init = df_setup, .fini = df_teardown, .timeout = 180);

//  Ask COUNT times over UDP (each dig from a port of its own, so the kernel spreads them),
//  or over TCP; returns how many got the address.
static int
s_answers (int port, int count, bool tcp)
{
    df_run ("many",
            "for i in $(seq %d); do dig @127.0.0.1 -p %d +short %s +time=5 +tries=1 "
            "www.example.org A; done",
            count, port, tcp ? "+tcp" : "");
    char path[512];
    snprintf (path, sizeof path, "%s/many", df_run_dir);
    return test_shell ("exit $(grep -cx 10.0.0.10 %s)", path);
}

Test (dnsd_instances, two_instances_on_one_port_both_answer)
{
    df_service ("www", "dns=www.example.org,ip=10.0.0.10,domain=www", true);
    int port = df_start_dnsd ("1", 0, NULL);
    cr_assert (gt (int, port, 0));
    cr_assert (eq (int, df_start_dnsd ("2", port, NULL), port), "see %s/dnsd-2.log", df_run_dir);
    cr_assert (eq (int, s_answers (port, 40, false), 40));
    cr_assert (eq (int, s_answers (port, 20, true), 20));
    //  The kernel hashes each client's address and port onto one of the sockets.
    cr_assert (df_wait_counter ("1", "queries_udp", 1, 5000), "instance 1 answered none");
    cr_assert (df_wait_counter ("2", "queries_udp", 1, 5000), "instance 2 answered none");
    cr_assert (df_wait_counter ("1", "tcp_accepted", 1, 5000));
    cr_assert (df_wait_counter ("2", "tcp_accepted", 1, 5000));
    cr_assert (eq (i64, df_counter ("1", "queries") + df_counter ("2", "queries"), 60));

    //  One goes away: the other answers everything.
    cr_assert (df_stop_dnsd ("1"), "instance 1 did not exit cleanly");
    cr_assert (eq (int, s_answers (port, 20, false), 20));
}

Test (dnsd_instances, a_boot_started_by_one_instance_is_joined_by_the_other)
{
    df_service ("sleepy",
                "dns=sleepy.example.org,ip=10.0.0.10,domain=sleepy,mask=ready,"
                "ready_timeout_ms=120000,hold_max_ms=60000",
                false);
    int port = df_start_dnsd ("1", 0, "\"boot_retry_ms\": 120000");
    cr_assert (gt (int, port, 0));
    cr_assert (eq (int, df_start_dnsd ("2", port, "\"boot_retry_ms\": 120000"), port));
    cr_assert (ge (i64, df_counter ("2", "queries"), 0), "the subscription is live");
    //  One query first: whichever instance gets it boots; the other hears the vm.boot.
    cr_assert (eq (int,
                   test_shell ("cd %s && (dig @127.0.0.1 -p %d +short +time=60 +tries=1 "
                               "sleepy.example.org > first 2>&1 &)",
                               df_run_dir, port),
                   0));
    cr_assert (eq (int, df_boots ("sleepy", 1000), 1));
    bool joined = false;
    for (int waited = 0; waited < 5000 && !joined; waited += 200)
        joined = df_counter ("1", "boots_joined") + df_counter ("2", "boots_joined") == 1;
    cr_assert (joined, "the other instance joined the boot");
    //  Then many, spread over both instances: nobody boots again.
    cr_assert (eq (int,
                   test_shell ("cd %s && (for i in $(seq 20); do dig @127.0.0.1 -p %d "
                               "-b 127.0.0.$((i + 1)) +short +time=60 +tries=1 "
                               "sleepy.example.org > dig.$i 2>&1 & done; wait; touch digs.done) >/dev/null 2>&1 &",
                               df_run_dir, port),
                   0));
    for (int waited = 0;
         waited < 30000 && df_counter ("1", "waiting") + df_counter ("2", "waiting") < 21;
         waited += 200)
        ;
    cr_assert (eq (int, df_boots ("sleepy", 300), 1), "one vm.boot for both instances");
    cr_assert (eq (int,
                   df_jitsuctl ("publish", "vm.ready",
                                "{\"service\":\"sleepy\",\"boot_id\":\"b1\","
                                "\"ip\":\"10.0.0.10\",\"via\":\"event\",\"boot_ms\":9}",
                                NULL),
                   0));
    char done[512];
    snprintf (done, sizeof done, "%s/digs.done", df_run_dir);
    cr_assert (test_wait_path (done, 60000));
    cr_assert (
        eq (int, test_shell ("test $(grep -lx 10.0.0.10 %s/dig.* | wc -l) -eq 20", df_run_dir), 0));
}

Test (dnsd_instances, a_port_another_program_holds_is_refused)
{
    //  A UDP socket without SO_REUSEPORT: dnsd must not share it, whatever the uid.
    int port;
    int fd = df_udp_socket ("127.0.0.1", 0, &port);
    cr_assert (eq (int, df_start_dnsd ("1", port, NULL), -1));
    char log[512];
    snprintf (log, sizeof log, "dnsd-1.log");
    cr_assert (df_contains (log, "cannot bind"));
    cr_assert (df_contains (log, "Address already in use"));
    close (fd);
}
