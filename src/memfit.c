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
