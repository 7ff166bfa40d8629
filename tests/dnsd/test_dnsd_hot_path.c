/*  The hot path allocates nothing: answering a running service (and NXDOMAIN, NODATA, a
    running service's hits) goes through dnsd_handler without one malloc, calloc or realloc.

    This binary is linked with --wrap for the three, so every call from dnsd's code (czmq's
    zmalloc included: it is inlined there) is counted; a control test checks the count does
    see dnsd allocating where it should.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "dnsd_handler.h"
#include "dnsd_testing.h"

void *__real_malloc (size_t size);
void *__real_calloc (size_t count, size_t size);
void *__real_realloc (void *pointer, size_t size);
void *__wrap_malloc (size_t size);
void *__wrap_calloc (size_t count, size_t size);
void *__wrap_realloc (void *pointer, size_t size);

static bool s_counting;
static size_t s_allocations;

void *
__wrap_malloc (size_t size)
{
    s_allocations += s_counting;
    return __real_malloc (size);
}

void *
__wrap_calloc (size_t count, size_t size)
{
    s_allocations += s_counting;
    return __real_calloc (count, size);
}

void *
__wrap_realloc (void *pointer, size_t size)
{
    s_allocations += s_counting;
    return __real_realloc (pointer, size);
}

static dnsd_config_t s_config;
static dnsd_table_t *s_table;
static dnsd_summon_t *s_summon;
static dnsd_handler_t *s_handler;

static void
s_define (const char *name, const char *json)
{
    json_t *value = dt_json (json);
    proto_error_t error;
    cr_assert (eq (int, dnsd_table_define (s_table, name, value, &error), 0), "%s", error.text);
    json_decref (value);
}

static void
s_setup (void)
{
    proto_error_t error;
    cr_assert (eq (int, dnsd_config_load (&s_config, NULL, &error), 0));
    s_table = dnsd_table_new (&s_config);
    s_summon = dnsd_summon_new (s_table, &s_config);
    s_handler = dnsd_handler_new (s_table, s_summon, &s_config);
    s_define ("www", "{\"name\":\"www\",\"dns\":[\"www.example.org\"],\"ip\":\"10.0.0.10\","
                     "\"ip6\":\"2001:db8::10\",\"domain\":\"www\"}");
    dnsd_summon_state (s_summon, dnsd_table_service (s_table, "www"), PROTO_STATE_READY, 1, 0);
}

static void
s_teardown (void)
{
    s_counting = false;
    dnsd_handler_destroy (&s_handler);
    dnsd_summon_destroy (&s_summon);
    dnsd_table_destroy (&s_table);
    dnsd_config_reset (&s_config);
}

//  Allocations made while answering NAME TYPE a thousand times; the last answer's RCODE.
static size_t
s_count (const char *name, const char *type, int *rcode)
{
    uint8_t query[512], answer[DNSD_EDNS_PAYLOAD];
    size_t size = dt_query (query, name, type, true);
    struct sockaddr_storage client;
    dnsd_context_t context = {dt_client (&client, "127.0.0.1"), false, false, true, 1000, 1000};
    dnsd_outcome_t outcome;
    s_allocations = 0;
    s_counting = true;
    for (int index = 0; index < 1000; index++) {
        context.now_ms++;
        dnsd_handler_process (s_handler, query, size, &context, answer, sizeof answer, &outcome);
    }
    s_counting = false;
    *rcode = outcome.rcode;
    return s_allocations;
}

TestSuite (dnsd_hot_path, .init = s_setup, .fini = s_teardown);

Test (dnsd_hot_path, answering_a_running_service_allocates_nothing)
{
    int rcode;
    cr_assert (eq (sz, s_count ("www.example.org.", "A", &rcode), 0));
    cr_assert (eq (int, rcode, DNSD_RCODE_NOERROR));
    cr_assert (eq (sz, s_count ("WWW.example.org.", "AAAA", &rcode), 0));
    cr_assert (eq (i64, dnsd_table_service (s_table, "www")->hits, 2000), "hits counted");
}

Test (dnsd_hot_path, negative_answers_allocate_nothing)
{
    int rcode;
    cr_assert (eq (sz, s_count ("nope.example.org.", "A", &rcode), 0));
    cr_assert (eq (int, rcode, DNSD_RCODE_NXDOMAIN));
    cr_assert (eq (sz, s_count ("www.example.org.", "MX", &rcode), 0));
    cr_assert (eq (int, rcode, DNSD_RCODE_NOERROR));
    cr_assert (eq (sz, s_count ("example.com.", "A", &rcode), 0));
    cr_assert (eq (int, rcode, DNSD_RCODE_REFUSED));
}

Test (dnsd_hot_path, the_count_sees_dnsd_allocating)
{
    s_allocations = 0;
    s_counting = true;
    s_define ("api", "{\"name\":\"api\",\"dns\":[\"api.example.org\"],\"ip\":\"10.0.0.11\","
                     "\"domain\":\"api\"}");
    s_counting = false;
    cr_assert (gt (sz, s_allocations, 0), "the wrapper counts nothing: the test proves nothing");
}
