/*  test_config: the check every service's config test makes of a file it must refuse: the
    loader calls it malformed (-2), and its error names the file and what is wrong with it.
    Header-only and for Criterion tests alone, so that test_support stays free of Criterion.  */

#ifndef TEST_CONFIG_H_INCLUDED
#define TEST_CONFIG_H_INCLUDED

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto_error.h"
#include "test_support.h"

//  Load the config file at PATH (into a config of the test's own) and return the loader's code.
typedef int (test_config_load_fn) (const char *path, proto_error_t *error);

//  Define NAME, a test_config_load_fn that loads into a CONFIG_TYPE of its own with LOAD.
#define TEST_CONFIG_LOADER(name, config_type, load)                                                \
    static int name (const char *path, proto_error_t *error)                                       \
    {                                                                                              \
        config_type config;                                                                        \
        return load (&config, path, error);                                                        \
    }

//  TEXT, written to a file, must be refused by LOAD with -2 and an error naming the file and
//  WHAT: a field, a value, or "line N" (which ":N:", the jansson position, also satisfies).
static inline void
test_config_refused (test_config_load_fn *load, const char *text, const char *what)
{
    const char *path = test_write_temp (text);
    proto_error_t error;
    int rc = load (path, &error);
    unlink (path);
    cr_assert (eq (int, rc, -2), "%s", text);
    cr_assert (not (eq (ptr, strstr (error.text, path), NULL)),
               "%s: error \"%s\" does not name the file", text, error.text);
    char position[32] = "";
    unsigned line;
    if (sscanf (what, "line %u", &line) == 1)
        snprintf (position, sizeof position, ":%u:", line);
    bool named = strstr (error.text, what) || (*position && strstr (error.text, position));
    cr_assert (named, "%s: error \"%s\" does not name %s", text, error.text, what);
}

#endif
