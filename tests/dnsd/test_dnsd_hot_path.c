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

static dt_stack_t s_stack;

static void
s_setup (void)
{
    dt_stack_start (&s_stack, NULL);
    dnsd_service_t *www =
        dt_define (s_stack.table, "www",
                   "{\"name\":\"www\",\"dns\":[\"www.example.org\"],\"ip\":\"10.0.0.10\","
                   "\"ip6\":\"2001:db8::10\",\"domain\":\"www\"}");
    dnsd_summon_state (s_stack.summon, www, PROTO_STATE_READY, 1, 0);
}

static void
s_teardown (void)
{
    s_counting = false;
    dt_stack_stop (&s_stack);
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
        dnsd_handler_process (s_stack.handler, query, size, &context, answer, sizeof answer,
                              &outcome);
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
    cr_assert (eq (i64, dnsd_table_service (s_stack.table, "www")->hits, 2000), "hits counted");
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
    dt_define (s_stack.table, "api",
               "{\"name\":\"api\",\"dns\":[\"api.example.org\"],\"ip\":\"10.0.0.11\","
               "\"domain\":\"api\"}");
    s_counting = false;
    cr_assert (gt (sz, s_allocations, 0), "the wrapper counts nothing: the test proves nothing");
}
