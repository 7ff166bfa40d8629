/*  test_assert: Criterion's assertion macros, with one fix. Every test includes it first
    (jitsu_add_test passes -include).

    Criterion 2.4.1's typed gt() expands to !(actual < reference), which is actual >=
    reference: gt (int, 0, 0) passes. Here it is actual > reference, as documented.  */

#ifndef TEST_ASSERT_H_INCLUDED
#define TEST_ASSERT_H_INCLUDED

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#undef CRI_BINOP_T_GT
#define CRI_BINOP_T_GT(Tag, Actual, Ref) (CRI_BINOP_LT_TAG (Tag, , Ref, Actual))

#endif
