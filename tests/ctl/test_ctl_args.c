/*  ctl_args: what jitsuctl's commands share when reading their options.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <getopt.h>

#include "ctl_args.h"

Test (ctl_args, help_exits_0_and_any_other_option_2)
{
    cr_assert (eq (int, ctl_args_other ('h', "usage\n"), 0));
    cr_assert (eq (int, ctl_args_other ('?', "usage\n"), 2));
    cr_assert (eq (int, ctl_args_other (':', "usage\n"), 2), "a missing option argument");
}

Test (ctl_args, operands_are_what_getopt_left)
{
    optind = 2;
    cr_assert (ctl_args_operands (3, 1, "usage\n"));
    cr_assert (not (ctl_args_operands (3, 0, "usage\n")));
    cr_assert (not (ctl_args_operands (3, 2, "usage\n")));
    optind = 3;
    cr_assert (ctl_args_operands (3, 0, "usage\n"));
}

Test (ctl_args, numbers_are_whole_and_in_range)
{
    long value = 7;
    cr_assert (ctl_args_number ("42", 1, 100, &value, "complaint"));
    cr_assert (eq (long, value, 42));
    cr_assert (not (ctl_args_number ("0", 1, 100, &value, "complaint")));
    cr_assert (not (ctl_args_number ("42ms", 1, 100, &value, "complaint")));
    cr_assert (eq (long, value, 42), "a refused number leaves the value alone");
}
