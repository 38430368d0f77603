/*
 * memfit — a least-squares line through a memory series. The memory-growth
 * scenario invokes a function many times, reads `Max Memory Used` from each
 * REPORT line (logtail), and fits memory (y) against invocation number or
 * time (x): the slope is the growth per step, r2 says how well a straight
 * line explains it, and memfit_steps_to() turns the line into "N more
 * invocations until the memory limit". The scenario engine compares these
 * with the bounds a scenario file sets.
 *
 * Pure arithmetic: no allocation, no state, every function thread-safe.
 * Inputs are borrowed for the duration of the call.
 */
#ifndef COLDSEC_MEMFIT_H
#define COLDSEC_MEMFIT_H

#include <stddef.h>

typedef struct memfit {
    size_t n;          /* number of points fitted */
    double slope;      /* y per unit of x */
    double intercept;  /* y at x = 0 */
    double r2;         /* coefficient of determination, in [0, 1] */
} memfit;

/*
 * Ordinary least squares y = slope*x + intercept over the n points
 * (x[i], y[i]). The sums are taken over centred values (x - mean x,
 * y - mean y, the means themselves computed relative to the first point),
 * so x around 1e9 (timestamps) fits as well as x around 0.
 *
 * r2 = Sxy^2 / (Sxx * Syy), clamped to [0, 1]. When every y is equal
 * (zero variance: a flat line explains the data perfectly) slope is 0,
 * intercept that value and r2 is 1.
 *
 * Returns 0 and fills *out; or -1, with *out zeroed (when out is not NULL),
 * when x, y or out is NULL, n < 3, every x is equal (no line is defined),
 * any value is not finite, or the sums overflow.
 */
int memfit_linear(const double *x, const double *y, size_t n, memfit *out)
    __attribute__((warn_unused_result));

/*
 * How many more steps of x, from x_now, until the fitted line reaches limit:
 * ceil((limit - (slope*x_now + intercept)) / slope). Returns 0 when the
 * line is already at or above limit at x_now (checked first, whatever the
 * slope); INFINITY (math.h) when it is below and slope <= 0, or when limit
 * is +INFINITY; NAN when f is NULL, limit is NAN, or x_now, f->slope or
 * f->intercept is not finite. The result is in units of x.
 */
double memfit_steps_to(const memfit *f, double x_now, double limit);

#endif
