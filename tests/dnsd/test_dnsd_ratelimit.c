/*  dnsd_ratelimit: buckets per /24 and /64, refill, and the global cap.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_ratelimit.h"
#include "dnsd_testing.h"

static bool
s_allow (dnsd_ratelimit_t *limit, const char *client, int64_t now)
{
    struct sockaddr_storage storage;
    return dnsd_ratelimit_allow (limit, dt_client (&storage, client), now);
}

Test (dnsd_ratelimit, one_network_shares_one_bucket)
{
    dnsd_ratelimit_t *limit = dnsd_ratelimit_new (1000, 1000, 1, 2);
    cr_assert (s_allow (limit, "192.0.2.1", 10));
    cr_assert (s_allow (limit, "192.0.2.99", 10));
    cr_assert (not(s_allow (limit, "192.0.2.200", 10)), "same /24");
    cr_assert (not(s_allow (limit, "::ffff:192.0.2.7", 10)), "IPv4-mapped counts as IPv4");
    cr_assert (s_allow (limit, "198.51.100.1", 10), "another /24");
    cr_assert (s_allow (limit, "2001:db8:0:1::1", 10));
    cr_assert (s_allow (limit, "2001:db8:0:1::2", 10));
    cr_assert (not(s_allow (limit, "2001:db8:0:1:ffff::3", 10)), "same /64");
    cr_assert (s_allow (limit, "2001:db8:0:2::1", 10), "another /64");
    cr_assert (not(s_allow (limit, "192.0.2.1", 999)));
    cr_assert (s_allow (limit, "192.0.2.1", 1010), "one token per second comes back");
    dnsd_ratelimit_destroy (&limit);
    cr_assert (eq (ptr, limit, NULL));
}

Test (dnsd_ratelimit, the_global_bucket_caps_everyone)
{
    dnsd_ratelimit_t *limit = dnsd_ratelimit_new (2, 3, 100, 100);
    int allowed = 0;
    for (int index = 0; index < 100; index++) {
        char client[32];
        snprintf (client, sizeof client, "10.%d.%d.1", index / 256, index % 256);
        allowed += s_allow (limit, client, 5);
    }
    cr_assert (eq (int, allowed, 3));
    cr_assert (not(s_allow (limit, "10.200.0.1", 250)));
    cr_assert (s_allow (limit, "10.200.0.1", 505), "two per second");
    dnsd_ratelimit_destroy (&limit);
}
