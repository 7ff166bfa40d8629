/*  ctl_args: what jitsuctl's commands share when reading their options.  */

#ifndef CTL_ARGS_H_INCLUDED
#define CTL_ARGS_H_INCLUDED

#include <stdbool.h>

//  Read TEXT as a whole decimal number within [MIN, MAX] into VALUE. Returns true, or prints
//  COMPLAINT (a whole line, without its newline) on stderr and returns false.
bool ctl_args_number (const char *text, long min, long max, long *value, const char *complaint);

#endif
