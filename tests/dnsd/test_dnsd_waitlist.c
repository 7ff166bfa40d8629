/*  dnsd_waitlist: held queries released per service, by deadline, within a bound.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_waitlist.h"

static int s_released, s_expired;
static size_t s_last_size;

static void
s_on_release (dnsd_waiter_t *waiter, bool expired, void *arg)
{
    if (expired)
        s_expired++;
    else
        s_released++;
    s_last_size = waiter->size;
}

static size_t s_order[16];
static size_t s_order_count;

static void
s_on_release_record (dnsd_waiter_t *waiter, bool expired, void *arg)
{
    s_on_release (waiter, expired, arg);
    if (s_order_count < sizeof s_order / sizeof s_order[0])
        s_order[s_order_count++] = waiter->size;
}

//  A resolver retries a silent server with a new id and port each time and listens only for
//  its latest try (Unbound): every try is held, and the latest goes out first.
Test (dnsd_waitlist, a_service_releases_all_its_queries_latest_first)
{
    dnsd_waitlist_t *list = dnsd_waitlist_new (10);
    dnsd_service_t *www = dnsd_service_new ("www"), *api = dnsd_service_new ("api");
    dnsd_peer_t peer = {0};
    for (size_t index = 1; index <= 4; index++) {
        peer.tcp = index == 3;  // a try over TCP among them (Knot Resolver's third)
        cr_assert (eq (int,
                       dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "abcd", index, 1000,
                                          false),
                       0));
    }
    cr_assert (
        eq (int, dnsd_waitlist_add (list, api, &peer, (const uint8_t *) "x", 1, 1000, false), 0));
    cr_assert (eq (sz, www->waiting, 4));
    s_released = s_expired = 0;
    s_order_count = 0;
    dnsd_waitlist_release (list, www, s_on_release_record, NULL);
    cr_assert (eq (int, s_released, 4), "every try is answered");
    cr_assert (eq (sz, s_order_count, 4));
    for (size_t index = 0; index < 4; index++)
        cr_assert (eq (sz, s_order[index], 4 - index), "send %zu: the try of size %zu", index,
                   s_order[index]);
    cr_assert (eq (sz, www->waiting, 0));
    cr_assert (eq (sz, dnsd_waitlist_size (list), 1));
    dnsd_waitlist_destroy (&list);  // frees api's without answering
    cr_assert (eq (sz, api->waiting, 0));
    dnsd_service_destroy (&www);
    dnsd_service_destroy (&api);
}

//  A boot's cap passes for all its held queries at once: they leave latest first too.
Test (dnsd_waitlist, queries_expiring_together_leave_latest_first)
{
    dnsd_waitlist_t *list = dnsd_waitlist_new (10);
    dnsd_service_t *www = dnsd_service_new ("www");
    dnsd_peer_t peer = {0};
    for (size_t index = 1; index <= 3; index++)
        dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "abc", index, 1200, true);
    s_order_count = 0;
    dnsd_waitlist_expire (list, 1200, s_on_release_record, NULL);
    cr_assert (eq (sz, s_order_count, 3));
    cr_assert (eq (sz, s_order[0], 3));
    cr_assert (eq (sz, s_order[2], 1));
    dnsd_waitlist_destroy (&list);
    dnsd_service_destroy (&www);
}

Test (dnsd_waitlist, a_waiter_remembers_whether_the_cap_set_its_deadline)
{
    dnsd_waitlist_t *list = dnsd_waitlist_new (10);
    dnsd_service_t *www = dnsd_service_new ("www");
    dnsd_peer_t peer = {0};
    dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "a", 1, 100, true);
    dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "b", 1, 100, false);
    cr_assert (www->waiters_head->capped);
    cr_assert (not(www->waiters_tail->capped));
    dnsd_waitlist_destroy (&list);
    dnsd_service_destroy (&www);
}

Test (dnsd_waitlist, deadlines_release_one_by_one)
{
    dnsd_waitlist_t *list = dnsd_waitlist_new (10);
    dnsd_service_t *www = dnsd_service_new ("www");
    dnsd_peer_t peer = {0};
    dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "a", 1, 100, false);
    dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "ab", 2, 300, false);
    dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "abc", 3, 200, false);
    s_released = s_expired = 0;
    dnsd_waitlist_expire (list, 99, s_on_release, NULL);
    cr_assert (eq (int, s_expired, 0));
    dnsd_waitlist_expire (list, 250, s_on_release, NULL);
    cr_assert (eq (int, s_expired, 2));
    cr_assert (eq (sz, www->waiting, 1));
    dnsd_waitlist_expire (list, 300, s_on_release, NULL);
    cr_assert (eq (int, s_expired, 3));
    cr_assert (eq (sz, dnsd_waitlist_size (list), 0));
    dnsd_waitlist_destroy (&list);
    dnsd_service_destroy (&www);
}

Test (dnsd_waitlist, the_bound_holds)
{
    dnsd_waitlist_t *list = dnsd_waitlist_new (2);
    dnsd_service_t *www = dnsd_service_new ("www");
    dnsd_peer_t peer = {0};
    cr_assert (dnsd_waitlist_has_room (list));
    dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "a", 1, 100, false);
    dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "a", 1, 100, false);
    cr_assert (not(dnsd_waitlist_has_room (list)));
    cr_assert (
        eq (int, dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "a", 1, 100, false), -1));
    dnsd_waitlist_destroy (&list);
    dnsd_service_destroy (&www);
}
