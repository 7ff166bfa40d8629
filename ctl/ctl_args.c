/*  ctl_args: option values for jitsuctl's commands.  */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl_args.h"

bool
ctl_args_number (const char *text, long min, long max, long *value, const char *complaint)
{
    char *end;
    long number = strtol (text, &end, 10);
    if (*end || number < min || number > max) {
        fprintf (stderr, "%s\n", complaint);
        return false;
    }
    *value = number;
    return true;
}

int
ctl_args_other (int option, const char *usage)
{
    fputs (usage, option == 'h' ? stdout : stderr);
    return option == 'h' ? 0 : 2;
}

bool
ctl_args_operands (int argc, int count, const char *usage)
{
    if (argc - optind == count)
        return true;
    fputs (usage, stderr);
    return false;
}
