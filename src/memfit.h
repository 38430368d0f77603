/*
 * memfit — a least-squares line through a memory series. The memory-growth
 * scenario invokes a function many times, reads `Max Memory Used` from each
 * REPORT line (logtail), and fits memory (y) against invocation number or
 * time (x): the slope is the growth per step, r2 says how well a straight
 * line explains it, and memfit_steps_to() turns the line into "N more
 * invocations until the memory limit". The scenario engine compares these
 * with the bounds a scenario file sets.
 *
 * Pure: no allocation, no state, every function thread-safe.
 * Inputs are borrowed for the duration of the call.
 */
#ifndef COLDSEC_MEMFIT_H
#define COLDSEC_MEMFIT_H

#include <stdbool.h>
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

/* ---------- the memory-growth judgement (the engine's and `coldsec replay`'s) ---------- */

/* One answer of a series, in the order they came back. */
typedef struct memfit_sample {
    double max_mem_mb;  /* the REPORT line's Max Memory Used */
    bool reported;      /* answered with a REPORT line (else skipped) */
    bool cold;          /* the answer came from a new environment (Init Duration) */
    bool oom;           /* the answer said the environment ran out of memory */
} memfit_sample;

typedef struct memfit_bounds {
    double limit_mb;    /* the function's MemorySize */
    size_t min_points;  /* points of one environment needed before anything is said */
    double min_r2;      /* a trend must fit at least this well */
    double within;      /* ...and project the limit within this many more invocations */
} memfit_bounds;

typedef enum memfit_verdict {
    MEMFIT_NONE,        /* nothing shown (too few points, flat, or a poor fit) */
    MEMFIT_TREND,       /* rose steadily without running out: a trend, not a proof */
    MEMFIT_OOM          /* ran out of memory after a series that rose by limit/4 or more */
} memfit_verdict;

typedef struct memfit_series {
    memfit_verdict verdict;
    size_t n;           /* points of the judged series (x[0..n), y[0..n)) */
    long oom_at;        /* MEMFIT_OOM: the sample that ran out; else -1 */
    long lone_oom;      /* the first sample that ran out without such a series before it, or -1 */
    long last_point;    /* the sample of the series' last point, or -1 */
    memfit fit;         /* MEMFIT_TREND: the line */
    double steps_to_limit;  /* MEMFIT_TREND: memfit_steps_to from the last point */
} memfit_series;

/*
 * Judges samples s[0..ns) of one series the way the memory-growth scenario
 * does: one environment's series from its cold start on; an answer that ran
 * out of memory ends it as a proof when at least min_points came before and
 * Max Memory Used rose by limit_mb / 4 or more over them, else it starts a
 * new series (the next answer comes from a new environment). A cold answer
 * ends a series of min_points or more, or restarts a shorter one. Without
 * an out-of-memory answer, min_points or more points that fit a rising line
 * with r2 >= min_r2, projecting the limit within `within` more invocations,
 * are a trend. x and y (ns entries each, the caller's) receive the series'
 * points (x the point's number). Returns 0 and fills *out, or -1 for a NULL
 * argument. No allocation.
 */
/* Did an answer say its environment ran out of memory? A function error
 * (fn_error, X-Amz-Function-Error, non-NULL) whose payload[0..len) names
 * Lambda's error type or a runtime's own words (Runtime.OutOfMemory,
 * Runtime.ExitError, "heap out of memory", MemoryError). */
bool memfit_answer_oom(const char *fn_error, const char *payload, size_t len);

int memfit_judge(const memfit_sample *s, size_t ns, const memfit_bounds *b, double *x, double *y,
                 memfit_series *out) __attribute__((warn_unused_result));

#endif
