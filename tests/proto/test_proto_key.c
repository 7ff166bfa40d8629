/*  proto_key: splitting /services/NAME/FIELD.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "proto.h"

Test (proto_key, a_service_key_splits_into_name_and_the_rest)
{
    const struct {
        const char *key, *name, *field;
    } cases[] = {
        {"/services/www/config", "www", "config"},
        {"/services/www/status", "www", "status"},
        {"/services/mail.example/a/b", "mail.example", "a/b"},  // the rest, slashes and all
        {"/services/www/", "www", ""},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        char name[PROTO_NAME_MAX + 1];
        const char *field = NULL;
        cr_assert (eq (int, proto_key_split (cases[index].key, name, sizeof name, &field), 0),
                   "refused %s", cases[index].key);
        cr_assert (eq (str, name, (char *) cases[index].name));
        cr_assert (eq (str, (char *) field, (char *) cases[index].field));
    }
}

Test (proto_key, keys_that_name_no_service_are_refused)
{
    char name[PROTO_NAME_MAX + 1];
    const char *field = NULL;
    const char *refused[] = {
        "/services/www",      // no field
        "/services//config",  // empty name
        "/services/",
        "/service/www/config",
        "/other/www/config",
        "services/www/config",
        "",
    };
    for (size_t index = 0; index < sizeof refused / sizeof refused[0]; index++)
        cr_assert (eq (int, proto_key_split (refused[index], name, sizeof name, &field), -2),
                   "accepted \"%s\"", refused[index]);
    cr_assert (eq (ptr, (void *) field, NULL), "field set on a refused key");
}

Test (proto_key, a_name_longer_than_a_service_name_is_refused)
{
    char key[PROTO_NAME_MAX + 32];
    char name[PROTO_NAME_MAX + 1];
    const char *field;
    char longest[PROTO_NAME_MAX + 2];
    memset (longest, 'a', PROTO_NAME_MAX);
    longest[PROTO_NAME_MAX] = '\0';
    snprintf (key, sizeof key, "/services/%s/config", longest);
    cr_assert (eq (int, proto_key_split (key, name, sizeof name, &field), 0));
    cr_assert (eq (str, name, longest));
    strcat (longest, "a");
    snprintf (key, sizeof key, "/services/%s/config", longest);
    cr_assert (eq (int, proto_key_split (key, name, sizeof name, &field), -2));
    char small[4];
    cr_assert (eq (int, proto_key_split ("/services/www/config", small, sizeof small, &field), 0));
    cr_assert (eq (int, proto_key_split ("/services/mail/config", small, sizeof small, &field),
                   -2), "a name that does not fit the buffer");
}
