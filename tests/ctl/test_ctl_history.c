/*  ctl_history: reading --since.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <time.h>

#include "ctl_history.h"

Test (ctl_history, relative_times_count_back_from_now)
{
    int64_t now = 1795330000000;
    cr_assert (eq (i64, ctl_history_parse_time ("30s", now), now - 30000));
    cr_assert (eq (i64, ctl_history_parse_time ("10m", now), now - 600000));
    cr_assert (eq (i64, ctl_history_parse_time ("2h", now), now - 7200000));
    cr_assert (eq (i64, ctl_history_parse_time ("3d", now), now - 3 * 86400000LL));
}

Test (ctl_history, absolute_times_are_local_dates_or_unix_seconds)
{
    cr_assert (eq (i64, ctl_history_parse_time ("1795330000", 0), 1795330000000));
    struct tm when = {0};
    when.tm_year = 2026 - 1900;
    when.tm_mon = 10;
    when.tm_mday = 22;
    when.tm_hour = 7;
    when.tm_min = 30;
    when.tm_isdst = -1;
    int64_t expected = (int64_t) mktime (&when) * 1000;
    cr_assert (eq (i64, ctl_history_parse_time ("2026-11-22T07:30", 0), expected));
    cr_assert (eq (i64, ctl_history_parse_time ("2026-11-22T07:30:00", 0), expected));
    cr_assert (eq (i64, ctl_history_parse_time ("yesterday", 0), -1));
    cr_assert (eq (i64, ctl_history_parse_time ("10x", 0), -1));
}
