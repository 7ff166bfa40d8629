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

Test (dnsd_waitlist, a_service_releases_all_its_queries_in_order)
{
    dnsd_waitlist_t *list = dnsd_waitlist_new (10);
    dnsd_service_t *www = dnsd_service_new ("www"), *api = dnsd_service_new ("api");
    dnsd_peer_t peer = {0};
    for (size_t index = 1; index <= 3; index++)
        cr_assert (eq (
            int, dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "abcd", index, 1000), 0));
    cr_assert (eq (int, dnsd_waitlist_add (list, api, &peer, (const uint8_t *) "x", 1, 1000), 0));
    cr_assert (eq (sz, www->waiting, 3));
    s_released = s_expired = 0;
    dnsd_waitlist_release (list, www, s_on_release, NULL);
    cr_assert (eq (int, s_released, 3));
    cr_assert (eq (sz, s_last_size, 3), "last in, last out");
    cr_assert (eq (sz, www->waiting, 0));
    cr_assert (eq (sz, dnsd_waitlist_size (list), 1));
    dnsd_waitlist_destroy (&list);  // frees api's without answering
    cr_assert (eq (sz, api->waiting, 0));
    dnsd_service_destroy (&www);
    dnsd_service_destroy (&api);
}

Test (dnsd_waitlist, deadlines_release_one_by_one)
{
    dnsd_waitlist_t *list = dnsd_waitlist_new (10);
    dnsd_service_t *www = dnsd_service_new ("www");
    dnsd_peer_t peer = {0};
    dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "a", 1, 100);
    dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "ab", 2, 300);
    dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "abc", 3, 200);
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
    dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "a", 1, 100);
    dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "a", 1, 100);
    cr_assert (not(dnsd_waitlist_has_room (list)));
    cr_assert (eq (int, dnsd_waitlist_add (list, www, &peer, (const uint8_t *) "a", 1, 100), -1));
    dnsd_waitlist_destroy (&list);
    dnsd_service_destroy (&www);
}
