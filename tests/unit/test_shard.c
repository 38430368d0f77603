/*
 * Unit tests for shard: parsing I/N and its refusals; assignment is
 * complete (every target in exactly one part), keeps one function's
 * targets together, is balanced, and depends on nothing but its input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "shard.h"

static void parse_accepts_i_of_n(void **state)
{
    int i = 0, n = 0;
    char err[200];
    (void)state;
    assert_int_equal(shard_parse("2/4", &i, &n, err, sizeof(err)), 0);
    assert_int_equal(i, 2);
    assert_int_equal(n, 4);
    assert_int_equal(shard_parse("1/1", &i, &n, err, sizeof(err)), 0);
    assert_int_equal(shard_parse("64/64", &i, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 64);
}

static void parse_refuses_nonsense(void **state)
{
    static const char *const bad[] = {"", "2", "0/3", "4/3", "1/0", "1/65", "-1/3", "1/3x", "a/b", "1//3", "1/ 3",
                                      "99999999999999999999/3"};
    int i, n;
    char err[200];
    (void)state;
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        err[0] = '\0';
        if (shard_parse(bad[k], &i, &n, err, sizeof(err)) != -1)
            fail_msg("\"%s\" was accepted", bad[k]);
        assert_non_null(strstr(err, "--shard"));
    }
}

/* 20 targets on 14 functions (targets 0/5/9 share one, 1/2 another, 3/17/18 a third). */
#define NT 20
static const char *const keys[NT] = {"f0", "f1", "f1", "f3", "f4", "f0", "f6", "f7", "f8", "f0",
                                     "f10", "f11", "f12", "f13", "f14", "f15", "f16", "f3", "f3", "f19"};
static const size_t runs[NT] = {2, 2, 2, 6, 2, 2, 1, 2, 2, 2, 2, 3, 2, 2, 2, 2, 0, 2, 2, 2};

static void assignment_is_complete_grouped_and_balanced(void **state)
{
    (void)state;
    for (int count = 1; count <= 8; count++) {
        int of[NT];
        size_t load[9] = {0}, total = 0, biggest = 0;
        assert_int_equal(shard_assign(keys, runs, NT, count, of), 0);
        for (int i = 0; i < NT; i++) {
            assert_in_range(of[i], 1, count);
            load[of[i]] += runs[i];
            total += runs[i];
            for (int j = 0; j < NT; j++)
                if (strcmp(keys[i], keys[j]) == 0 && of[i] != of[j])
                    fail_msg("count %d: targets %d and %d share %s but went to parts %d and %d", count, i, j, keys[i],
                             of[i], of[j]);
        }
        /* Groups: f0=6, f3=10, f1=4, the rest <= 3. Greedy largest-first keeps
         * every part within the largest group of the ideal share. */
        biggest = 10;
        for (int k = 1; k <= count; k++)
            if (load[k] > total / (size_t)count + biggest)
                fail_msg("count %d: part %d has %zu of %zu runs", count, k, load[k], total);
        if (count == 2)
            assert_true(load[1] >= total / 2 - 3 && load[2] >= total / 2 - 3);
    }
}

static void assignment_is_deterministic(void **state)
{
    int a[NT], b[NT];
    (void)state;
    assert_int_equal(shard_assign(keys, runs, NT, 3, a), 0);
    assert_int_equal(shard_assign(keys, runs, NT, 3, b), 0);
    assert_memory_equal(a, b, sizeof(a));
    /* The largest group goes first, to part 1. */
    assert_int_equal(a[3], 1);
    assert_int_equal(a[17], 1);
}

static void more_parts_than_functions(void **state)
{
    static const char *const two[] = {"x", "y"};
    static const size_t r2[] = {3, 1};
    int of[2];
    (void)state;
    assert_int_equal(shard_assign(two, r2, 2, 5, of), 0);
    assert_int_equal(of[0], 1);
    assert_int_equal(of[1], 2);
    assert_int_equal(shard_assign(two, r2, 2, 0, of), -1);
    assert_int_equal(shard_assign(two, r2, 2, SHARD_MAX + 1, of), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_accepts_i_of_n),
        cmocka_unit_test(parse_refuses_nonsense),
        cmocka_unit_test(assignment_is_complete_grouped_and_balanced),
        cmocka_unit_test(assignment_is_deterministic),
        cmocka_unit_test(more_parts_than_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
