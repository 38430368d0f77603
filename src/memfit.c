/*
 * memfit.c — ordinary least squares for the memory-growth scenario (see
 * memfit.h). Two passes: the means first, each taken relative to the first
 * point so a large common offset (x around 1e9) does not eat the digits,
 * then the centred sums Sxx, Sxy, Syy. Summing raw x*x and x*y instead
 * would cancel catastrophically: at x ~ 1e9, x*x ~ 1e18 leaves nothing of
 * a variance of a few hundred.
 */
#include "memfit.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

static bool all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return false;
    return true;
}

/* Mean of v[0..n), as v[0] + mean(v[i] - v[0]): exact for a constant series
 * and accurate when the values share a large offset. */
static double shifted_mean(const double *v, size_t n)
{
    double sum = 0.0;

    for (size_t i = 0; i < n; i++)
        sum += v[i] - v[0];
    return v[0] + sum / (double)n;
}

static bool all_equal(const double *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[0])
            return false;
    return true;
}

int memfit_linear(const double *x, const double *y, size_t n, memfit *out)
{
    double mx, my, sxx = 0.0, sxy = 0.0, syy = 0.0;
    memfit f = {0};
    int rc = -1;

    if (!x || !y || !out || n < 3)
        goto cleanup;
    if (!all_finite(x, n) || !all_finite(y, n) || all_equal(x, n))
        goto cleanup;

    mx = shifted_mean(x, n);
    my = shifted_mean(y, n);
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if (!isfinite(sxx) || !isfinite(sxy) || !isfinite(syy) || sxx <= 0.0)
        goto cleanup;

    f.n = n;
    if (all_equal(y, n)) {
        /* Zero variance: the flat line through the value is exact. */
        f.slope = 0.0;
        f.intercept = y[0];
        f.r2 = 1.0;
    } else {
        f.slope = sxy / sxx;
        f.intercept = my - f.slope * mx;
        /* Syy > 0 here; the ratio is in [0, 1] up to rounding. */
        f.r2 = (sxy / sxx) * (sxy / syy);
        if (!(f.r2 >= 0.0))
            f.r2 = 0.0;
        if (f.r2 > 1.0)
            f.r2 = 1.0;
    }
    if (!isfinite(f.slope) || !isfinite(f.intercept))
        goto cleanup;
    rc = 0;

cleanup:
    if (out)
        *out = rc == 0 ? f : (memfit){0};
    return rc;
}

double memfit_steps_to(const memfit *f, double x_now, double limit)
{
    double now;

    if (!f || isnan(limit) || !isfinite(x_now) || !isfinite(f->slope) ||
        !isfinite(f->intercept))
        return NAN;
    now = f->slope * x_now + f->intercept;
    if (now >= limit)
        return 0.0;
    if (f->slope <= 0.0 || isinf(limit))
        return INFINITY;
    return ceil((limit - now) / f->slope);
}

int memfit_judge(const memfit_sample *s, size_t ns, const memfit_bounds *b, double *x, double *y, memfit_series *out)
{
    size_t n = 0;

    if (!out)
        return -1;
    *out = (memfit_series){MEMFIT_NONE, 0, -1, -1, -1, {0}, 0.0};
    if (!b || (ns && (!s || !x || !y)))
        return -1;
    for (size_t j = 0; j < ns; j++) {
        if (s[j].oom) {
            if (n >= b->min_points && n > 0 && y[n - 1] - y[0] >= b->limit_mb / 4) {
                out->verdict = MEMFIT_OOM;
                out->oom_at = (long)j;
                out->n = n;
                return 0;
            }
            if (out->lone_oom < 0)
                out->lone_oom = (long)j;
            n = 0;   /* the next answer comes from a new environment */
            continue;
        }
        if (!s[j].reported)
            continue;
        if (s[j].cold && n >= b->min_points)
            break;
        if (s[j].cold)
            n = 0;
        x[n] = (double)n;
        y[n] = s[j].max_mem_mb;
        out->last_point = (long)j;
        n++;
    }
    out->n = n;
    if (n < b->min_points || memfit_linear(x, y, n, &out->fit) != 0 || out->fit.slope <= 0 ||
        out->fit.r2 < b->min_r2)
        return 0;
    out->steps_to_limit = memfit_steps_to(&out->fit, x[n - 1], b->limit_mb);
    if (out->steps_to_limit <= b->within)
        out->verdict = MEMFIT_TREND;
    return 0;
}

bool memfit_answer_oom(const char *fn_error, const char *payload, size_t len)
{
    static const char *const words[] = {"Runtime.OutOfMemory", "Runtime.ExitError", "heap out of memory",
                                        "MemoryError"};
    if (!fn_error || !payload)
        return false;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (memmem(payload, len, words[i], strlen(words[i])))
            return true;
    return false;
}
