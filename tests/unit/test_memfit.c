/*
 * Unit tests for memfit: exact lines, noisy lines with a known slope (fixed
 * seed), a hand-computed r2, degenerate inputs, memfit_steps_to's cases, and
 * x around 1e9 (timestamps), where summing raw x*x would lose every digit
 * of the variance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "memfit.h"

#define NPTS 1000

static void assert_close(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.17g, want %.17g (tolerance %g)", got, want, tol);
}

/* splitmix64: a fixed, portable sequence (rand() differs between libcs). */
static uint64_t next_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static double next_unit(uint64_t *state)
{
    return (double)(next_u64(state) >> 11) * 0x1.0p-52 - 1.0;
}

static void test_exact_lines(void **state)
{
    double x[10], y[10];
    memfit f;

    (void)state;
    for (int i = 0; i < 10; i++) {
        x[i] = i;
        y[i] = 3.0 * i + 7.0;
    }
    assert_int_equal(memfit_linear(x, y, 10, &f), 0);
    assert_int_equal(f.n, 10);
    assert_close(f.slope, 3.0, 1e-12);
    assert_close(f.intercept, 7.0, 1e-12);
    assert_close(f.r2, 1.0, 1e-12);

    /* Falling, fractional, unevenly spaced, unsorted. */
    {
        const double xs[] = {0.5, -2.25, 10.0, 3.125, 7.75};
        double ys[5];
        for (int i = 0; i < 5; i++)
            ys[i] = -1.5 * xs[i] + 42.0;
        assert_int_equal(memfit_linear(xs, ys, 5, &f), 0);
        assert_int_equal(f.n, 5);
        assert_close(f.slope, -1.5, 1e-12);
        assert_close(f.intercept, 42.0, 1e-12);
        assert_close(f.r2, 1.0, 1e-12);
    }
    /* Exactly three points, the minimum. */
    {
        const double xs[] = {1, 2, 3}, ys[] = {10, 20, 30};
        assert_int_equal(memfit_linear(xs, ys, 3, &f), 0);
        assert_close(f.slope, 10.0, 1e-12);
        assert_close(f.intercept, 0.0, 1e-12);
    }
}

/* x = 1,2,3,4; y = 1,3,2,4: Sxx = Syy = 5, Sxy = 4, so slope 0.8,
 * intercept 0.5, r2 = 16/25. */
static void test_hand_computed_r2(void **state)
{
    const double x[] = {1, 2, 3, 4}, y[] = {1, 3, 2, 4};
    memfit f;

    (void)state;
    assert_int_equal(memfit_linear(x, y, 4, &f), 0);
    assert_close(f.slope, 0.8, 1e-15);
    assert_close(f.intercept, 0.5, 1e-15);
    assert_close(f.r2, 0.64, 1e-15);

    /* No linear relation at all: r2 = 0. */
    {
        const double xs[] = {-1, 0, 1, 0}, ys[] = {1, 0, 1, 2};
        assert_int_equal(memfit_linear(xs, ys, 4, &f), 0);
        assert_close(f.slope, 0.0, 1e-15);
        assert_close(f.r2, 0.0, 1e-15);
    }
}

static void test_noisy_known_slope(void **state)
{
    static double x[NPTS], y[NPTS];
    uint64_t seed = 20240611;
    memfit f;

    (void)state;
    /* 2.5 MB per invocation on 128 MB, noise of +-4 MB. */
    for (int i = 0; i < NPTS; i++) {
        x[i] = i;
        y[i] = 2.5 * i + 128.0 + 4.0 * next_unit(&seed);
    }
    assert_int_equal(memfit_linear(x, y, NPTS, &f), 0);
    assert_close(f.slope, 2.5, 0.005);
    assert_close(f.intercept, 128.0, 1.0);
    assert_true(f.r2 > 0.999 && f.r2 <= 1.0);

    /* Pure noise around a flat line: slope near 0, r2 near 0. */
    for (int i = 0; i < NPTS; i++)
        y[i] = 512.0 + 4.0 * next_unit(&seed);
    assert_int_equal(memfit_linear(x, y, NPTS, &f), 0);
    assert_close(f.slope, 0.0, 0.001);
    assert_true(f.r2 >= 0.0 && f.r2 < 0.01);

    /* Noise comparable to the growth: the slope is still found, r2 drops. */
    for (int i = 0; i < NPTS; i++)
        y[i] = 0.05 * i + 200.0 + 40.0 * next_unit(&seed);
    assert_int_equal(memfit_linear(x, y, NPTS, &f), 0);
    assert_close(f.slope, 0.05, 0.01);
    assert_true(f.r2 > 0.2 && f.r2 < 0.8);
}

static void test_flat_y(void **state)
{
    const double x[] = {1, 2, 3, 4, 5};
    const double y[] = {0.1, 0.1, 0.1, 0.1, 0.1}; /* not exact in binary */
    memfit f;

    (void)state;
    assert_int_equal(memfit_linear(x, y, 5, &f), 0);
    assert_int_equal(f.n, 5);
    assert_true(f.slope == 0.0);
    assert_true(f.intercept == 0.1);
    assert_true(f.r2 == 1.0);
}

static void test_degenerate(void **state)
{
    const double x[] = {1, 2, 3, 4}, y[] = {5, 6, 8, 9};
    const double same_x[] = {7, 7, 7, 7};
    double bad[4];
    memfit f;

    (void)state;
    memset(&f, 0x5a, sizeof f);
    assert_int_equal(memfit_linear(x, y, 2, &f), -1);
    assert_int_equal(f.n, 0); /* zeroed on failure */
    assert_true(f.slope == 0.0 && f.intercept == 0.0 && f.r2 == 0.0);
    assert_int_equal(memfit_linear(x, y, 0, &f), -1);
    assert_int_equal(memfit_linear(NULL, y, 4, &f), -1);
    assert_int_equal(memfit_linear(x, NULL, 4, &f), -1);
    assert_int_equal(memfit_linear(x, y, 4, NULL), -1);
    assert_int_equal(memfit_linear(same_x, y, 4, &f), -1);

    const double nonfinite[] = {NAN, INFINITY, -INFINITY};
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < 4; i++) {
            memcpy(bad, x, sizeof bad);
            bad[i] = nonfinite[k];
            assert_int_equal(memfit_linear(bad, y, 4, &f), -1);
            memcpy(bad, y, sizeof bad);
            bad[i] = nonfinite[k];
            assert_int_equal(memfit_linear(x, bad, 4, &f), -1);
        }
    }
    /* Finite values whose squares overflow. */
    {
        const double big_x[] = {-1e200, 0, 1e200}, small_y[] = {1, 2, 3};
        assert_int_equal(memfit_linear(big_x, small_y, 3, &f), -1);
    }
}

static void test_steps_to(void **state)
{
    memfit f = {.n = 10, .slope = 2.0, .intercept = 0.0, .r2 = 1.0};

    (void)state;
    assert_true(memfit_steps_to(&f, 10, 30) == 5.0);   /* 20 -> 30 exactly */
    assert_true(memfit_steps_to(&f, 10, 31) == 6.0);   /* 5.5 rounds up */
    assert_true(memfit_steps_to(&f, 10, 20.5) == 1.0);
    assert_true(memfit_steps_to(&f, 10, 20) == 0.0);   /* at the limit */
    assert_true(memfit_steps_to(&f, 10, 3) == 0.0);    /* above it */
    assert_true(memfit_steps_to(&f, -5, 0) == 5.0);
    assert_true(isinf(memfit_steps_to(&f, 10, INFINITY)));
    assert_true(memfit_steps_to(&f, 10, -INFINITY) == 0.0);

    f.slope = 0.0;
    f.intercept = 100.0;
    assert_true(isinf(memfit_steps_to(&f, 10, 128)) && memfit_steps_to(&f, 10, 128) > 0);
    assert_true(memfit_steps_to(&f, 10, 100) == 0.0);
    f.slope = -1.0;
    assert_true(isinf(memfit_steps_to(&f, 10, 128)));
    assert_true(memfit_steps_to(&f, 10, 50) == 0.0); /* above now, though falling */

    /* The scenario's use: 128 MB limit, 1.25 MB per invocation from 64 MB. */
    f.slope = 1.25;
    f.intercept = 64.0;
    assert_true(memfit_steps_to(&f, 0, 128) == 52.0); /* 51.2 -> 52 */

    assert_true(isnan(memfit_steps_to(NULL, 0, 1)));
    assert_true(isnan(memfit_steps_to(&f, NAN, 1)));
    assert_true(isnan(memfit_steps_to(&f, INFINITY, 1)));
    assert_true(isnan(memfit_steps_to(&f, 0, NAN)));
    f.slope = NAN;
    assert_true(isnan(memfit_steps_to(&f, 0, 1)));
}

/* x as Unix timestamps (~1.7e9 s, half-second steps) and as counters near
 * 1e9: the fit must be as good as near 0. */
static void test_large_x_offsets(void **state)
{
    static double x[NPTS], y[NPTS];
    uint64_t seed = 7;
    memfit f;

    (void)state;
    for (int i = 0; i < NPTS; i++) {
        x[i] = 1.7e9 + 0.5 * i;
        y[i] = 128.0 + 0.75 * (0.5 * i); /* 0.75 MB per second */
    }
    assert_int_equal(memfit_linear(x, y, NPTS, &f), 0);
    assert_close(f.slope, 0.75, 1e-9);
    assert_close(f.r2, 1.0, 1e-9);
    /* The line at the first and last point, not the raw intercept (which
     * is -1.275e9 and carries the offset's rounding). */
    assert_close(f.slope * x[0] + f.intercept, 128.0, 1e-4);
    assert_close(f.slope * x[NPTS - 1] + f.intercept, 128.0 + 0.75 * 499.5, 1e-4);
    assert_close(memfit_steps_to(&f, x[NPTS - 1], 128.0 + 0.75 * 499.5 + 75.0), 100.0, 1.0);

    for (int i = 0; i < NPTS; i++) {
        x[i] = 1e9 + i;
        y[i] = 256.0 + 0.01 * i + 0.5 * next_unit(&seed);
    }
    assert_int_equal(memfit_linear(x, y, NPTS, &f), 0);
    assert_close(f.slope, 0.01, 0.0005);
    assert_true(f.r2 > 0.95);
    assert_close(f.slope * 1e9 + f.intercept, 256.0, 0.1);

    /* Tiny spacing on a huge offset: three points 1e-3 apart at 1e9. */
    {
        const double xs[] = {1e9, 1e9 + 1e-3, 1e9 + 2e-3}, ys[] = {1, 2, 3};
        assert_int_equal(memfit_linear(xs, ys, 3, &f), 0);
        /* The x themselves are rounded to 1.2e-7 (the ulp at 1e9). */
        assert_close(f.slope, 1000.0, 0.5);
        assert_true(f.r2 > 0.9999);
    }
}

/* A series of n warm answers rising step MB each from base, the first cold. */
static void rising(memfit_sample *s, size_t n, double base, double step)
{
    for (size_t i = 0; i < n; i++)
        s[i] = (memfit_sample){base + step * (double)i, true, i == 0, false};
}

static void test_judge_oom(void **state)
{
    memfit_sample s[40];
    double x[40], y[40];
    memfit_series r;
    memfit_bounds b = {128, 10, 0.8, 10000};

    (void)state;
    rising(s, 30, 10, 1.5);          /* 10 -> 53.5: rose more than 128/4 */
    s[30] = (memfit_sample){0, false, false, true};
    assert_int_equal(memfit_judge(s, 31, &b, x, y, &r), 0);
    assert_int_equal(r.verdict, MEMFIT_OOM);
    assert_int_equal(r.oom_at, 30);
    assert_int_equal(r.n, 30);
    assert_int_equal(r.lone_oom, -1);
    /* Out of memory after a series that rose too little: one request's cost, and a new series. */
    rising(s, 12, 10, 0.5);
    s[12] = (memfit_sample){0, false, false, true};
    assert_int_equal(memfit_judge(s, 13, &b, x, y, &r), 0);
    assert_int_equal(r.verdict, MEMFIT_NONE);
    assert_int_equal(r.lone_oom, 12);
    assert_int_equal(r.n, 0);
    /* Too few points before it: no proof either. */
    rising(s, 5, 10, 20);
    s[5] = (memfit_sample){0, false, false, true};
    assert_int_equal(memfit_judge(s, 6, &b, x, y, &r), 0);
    assert_int_equal(r.verdict, MEMFIT_NONE);
    assert_int_equal(memfit_judge(s, 6, NULL, x, y, &r), -1);
    assert_int_equal(memfit_judge(s, 6, &b, x, y, NULL), -1);
}

static void test_judge_trend_and_none(void **state)
{
    memfit_sample s[40];
    double x[40], y[40];
    memfit_series r;
    memfit_bounds b = {128, 10, 0.8, 10000};

    (void)state;
    rising(s, 20, 10, 1);
    assert_int_equal(memfit_judge(s, 20, &b, x, y, &r), 0);
    assert_int_equal(r.verdict, MEMFIT_TREND);
    assert_close(r.fit.slope, 1.0, 1e-9);
    assert_close(r.steps_to_limit, 99, 1e-9);   /* 29 now, 128 reached 99 later */
    assert_int_equal(r.last_point, 19);
    b.within = 50;                                 /* projected too far out: nothing */
    assert_int_equal(memfit_judge(s, 20, &b, x, y, &r), 0);
    assert_int_equal(r.verdict, MEMFIT_NONE);
    b.within = 10000;
    rising(s, 20, 30, 0);                          /* flat */
    assert_int_equal(memfit_judge(s, 20, &b, x, y, &r), 0);
    assert_int_equal(r.verdict, MEMFIT_NONE);
    /* A cold answer after enough points ends the series; unreported answers are skipped. */
    rising(s, 12, 10, 1);
    rising(s + 12, 12, 10, 1);
    s[3].reported = false;
    assert_int_equal(memfit_judge(s, 24, &b, x, y, &r), 0);
    assert_int_equal(r.n, 11);
    assert_int_equal(r.last_point, 11);
}

static void test_answer_oom(void **state)
{
    const char *p = "{\"errorType\": \"Runtime.OutOfMemory\"}";
    (void)state;
    assert_true(memfit_answer_oom("Unhandled", p, strlen(p)));
    assert_false(memfit_answer_oom(NULL, p, strlen(p)));
    assert_false(memfit_answer_oom("Unhandled", "{\"errorType\": \"ValueError\"}", 25));
    assert_false(memfit_answer_oom("Unhandled", NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_lines),
        cmocka_unit_test(test_hand_computed_r2),
        cmocka_unit_test(test_noisy_known_slope),
        cmocka_unit_test(test_flat_y),
        cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_steps_to),
        cmocka_unit_test(test_large_x_offsets),
        cmocka_unit_test(test_judge_oom),
        cmocka_unit_test(test_judge_trend_and_none),
        cmocka_unit_test(test_answer_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
