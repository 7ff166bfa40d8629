/*  ctl_args: what jitsuctl's commands share when reading their options.  */

#ifndef CTL_ARGS_H_INCLUDED
#define CTL_ARGS_H_INCLUDED

#include <stdbool.h>

//  Read TEXT as a whole decimal number within [MIN, MAX] into VALUE. Returns true, or prints
//  COMPLAINT (a whole line, without its newline) on stderr and returns false.
bool ctl_args_number (const char *text, long min, long max, long *value, const char *complaint);

//  What a command returns for OPTION, one that getopt_long gave back and the command does not
//  read itself: 0 after USAGE on stdout for -h/--help, else 2 after USAGE on stderr (getopt_long
//  has already said what was wrong).
int ctl_args_other (int option, const char *usage);

//  Whether ARGV holds exactly COUNT operands after the options getopt_long read (ARGC -
//  optind). Prints USAGE on stderr and returns false otherwise.
bool ctl_args_operands (int argc, int count, const char *usage);

#endif
