/*
 * Unit tests for plan and canary: the seeded generator gives the same
 * sequence for a seed (pinned values, so a platform or refactor that
 * changes it is caught), user assignment is even and seed-dependent, and
 * canaries have their shape and never repeat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "canary.h"
#include "plan.h"

static void test_splitmix_reference_values(void **state)
{
    plan_rng r;
    (void)state;
    /* splitmix64's published first outputs for seed 1234567. */
    plan_rng_seed(&r, 1234567);
    assert_true(plan_rng_next(&r) == 6457827717110365317ULL);
    assert_true(plan_rng_next(&r) == 3203168211198807973ULL);
    assert_true(plan_rng_next(&r) == 9817491932198370423ULL);
}

static void test_below_stays_in_range(void **state)
{
    plan_rng r;
    int seen[7] = {0};
    (void)state;
    plan_rng_seed(&r, 42);
    for (int i = 0; i < 7000; i++) {
        uint64_t v = plan_rng_below(&r, 7);
        assert_true(v < 7);
        seen[v]++;
    }
    for (int i = 0; i < 7; i++)
        assert_true(seen[i] > 800 && seen[i] < 1200);
}

static void test_users_even_and_seeded(void **state)
{
    int a[30], b[30], c[30], count[3] = {0};
    (void)state;
    plan_assign_users(7, a, 30, 3);
    plan_assign_users(7, b, 30, 3);
    plan_assign_users(8, c, 30, 3);
    assert_memory_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, c, sizeof(a));
    for (int i = 0; i < 30; i++)
        count[a[i]]++;
    assert_int_equal(count[0], 10);
    assert_int_equal(count[1], 10);
    assert_int_equal(count[2], 10);
    plan_assign_users(1, a, 5, 0); /* fewer than one user means one */
    for (int i = 0; i < 5; i++)
        assert_int_equal(a[i], 0);
}

static void test_canaries_shape_and_fresh(void **state)
{
    char a[CANARY_LEN + 1], b[CANARY_LEN + 1], small[8];
    (void)state;
    assert_int_equal(canary_new(a, sizeof(a)), 0);
    assert_int_equal(canary_new(b, sizeof(b)), 0);
    assert_int_equal(strlen(a), CANARY_LEN);
    assert_memory_equal(a, "CSC", 3);
    assert_int_equal(strspn(a + 3, "0123456789abcdef"), 24);
    assert_string_not_equal(a, b);
    assert_int_equal(canary_new(small, sizeof(small)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splitmix_reference_values),
        cmocka_unit_test(test_below_stays_in_range),
        cmocka_unit_test(test_users_even_and_seeded),
        cmocka_unit_test(test_canaries_shape_and_fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
