/*  dnsd_waitlist: held queries released per service, the latest first, by deadline, within a
    bound.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_waitlist.h"

static dnsd_waitlist_t *s_list;  // of 10
static dnsd_service_t *s_www;
static dnsd_peer_t s_peer;

static int s_released, s_expired;
static size_t s_order[16];  // the sizes of the queries released, in release order
static size_t s_order_count;

static void
s_setup (void)
{
    s_list = dnsd_waitlist_new (10);
    s_www = dnsd_service_new ("www");
}

static void
s_teardown (void)
{
    dnsd_waitlist_destroy (&s_list);
    dnsd_service_destroy (&s_www);
}

static void
s_on_release (dnsd_waiter_t *waiter, bool expired, void *arg)
{
    if (expired)
        s_expired++;
    else
        s_released++;
    if (s_order_count < sizeof s_order / sizeof s_order[0])
        s_order[s_order_count++] = waiter->size;
}

//  Hold a query of SIZE bytes for www until DEADLINE.
static int
s_add (size_t size, int64_t deadline, bool capped)
{
    return dnsd_waitlist_add (s_list, s_www, &s_peer, (const uint8_t *) "abcd", size, deadline,
                              capped);
}

TestSuite (dnsd_waitlist, .init = s_setup, .fini = s_teardown);

//  A resolver retries a silent server with a new id and port each time and listens only for
//  its latest try (Unbound): every try is held, and the latest goes out first.
Test (dnsd_waitlist, a_service_releases_all_its_queries_latest_first)
{
    dnsd_service_t *api = dnsd_service_new ("api");
    for (size_t index = 1; index <= 4; index++) {
        s_peer.tcp = index == 3;  // a try over TCP among them (Knot Resolver's third)
        cr_assert (eq (int, s_add (index, 1000, false), 0));
    }
    cr_assert (eq (
        int, dnsd_waitlist_add (s_list, api, &s_peer, (const uint8_t *) "x", 1, 1000, false), 0));
    cr_assert (eq (sz, s_www->waiting, 4));
    dnsd_waitlist_release (s_list, s_www, s_on_release, NULL);
    cr_assert (eq (int, s_released, 4), "every try is answered");
    cr_assert (eq (sz, s_order_count, 4));
    for (size_t index = 0; index < 4; index++)
        cr_assert (eq (sz, s_order[index], 4 - index), "send %zu: the try of size %zu", index,
                   s_order[index]);
    cr_assert (eq (sz, s_www->waiting, 0));
    cr_assert (eq (sz, dnsd_waitlist_size (s_list), 1));
    dnsd_waitlist_destroy (&s_list);  // frees api's without answering
    cr_assert (eq (sz, api->waiting, 0));
    dnsd_service_destroy (&api);
}

//  A boot's cap passes for all its held queries at once: they leave latest first too.
Test (dnsd_waitlist, queries_expiring_together_leave_latest_first)
{
    for (size_t index = 1; index <= 3; index++)
        s_add (index, 1200, true);
    dnsd_waitlist_expire (s_list, 1200, s_on_release, NULL);
    cr_assert (eq (sz, s_order_count, 3));
    cr_assert (eq (sz, s_order[0], 3));
    cr_assert (eq (sz, s_order[2], 1));
}

Test (dnsd_waitlist, a_waiter_remembers_whether_the_cap_set_its_deadline)
{
    s_add (1, 100, true);
    s_add (2, 100, false);
    cr_assert (s_www->waiters_head->capped);
    cr_assert (not(s_www->waiters_tail->capped));
}

Test (dnsd_waitlist, deadlines_release_one_by_one)
{
    s_add (1, 100, false);
    s_add (2, 300, false);
    s_add (3, 200, false);
    dnsd_waitlist_expire (s_list, 99, s_on_release, NULL);
    cr_assert (eq (int, s_expired, 0));
    dnsd_waitlist_expire (s_list, 250, s_on_release, NULL);
    cr_assert (eq (int, s_expired, 2));
    cr_assert (eq (sz, s_www->waiting, 1));
    dnsd_waitlist_expire (s_list, 300, s_on_release, NULL);
    cr_assert (eq (int, s_expired, 3));
    cr_assert (eq (sz, dnsd_waitlist_size (s_list), 0));
}

Test (dnsd_waitlist, the_bound_holds)
{
    dnsd_waitlist_t *list = dnsd_waitlist_new (2);
    cr_assert (dnsd_waitlist_has_room (list));
    dnsd_waitlist_add (list, s_www, &s_peer, (const uint8_t *) "a", 1, 100, false);
    dnsd_waitlist_add (list, s_www, &s_peer, (const uint8_t *) "a", 1, 100, false);
    cr_assert (not(dnsd_waitlist_has_room (list)));
    cr_assert (eq (
        int, dnsd_waitlist_add (list, s_www, &s_peer, (const uint8_t *) "a", 1, 100, false), -1));
    dnsd_waitlist_destroy (&list);
}
