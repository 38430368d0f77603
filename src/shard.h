/*
 * shard — `--shard I/N`: which part of a suite's target × scenario runs a
 * CI runner takes. Deterministic (the suite alone decides), complete (the
 * N parts together are the whole run, each run in exactly one part), and
 * safe: every run on one function stays in one part, because cold starts
 * change the function's configuration and two runners must not race on
 * it. Parts are balanced by number of runs (largest group first, to the
 * least loaded part, lowest part on ties).
 *
 * Ownership: the caller owns every array.
 */
#ifndef COLDSEC_SHARD_H
#define COLDSEC_SHARD_H

#include <stddef.h>

#define SHARD_MAX 64

/* "I/N" with 1 <= I <= N <= SHARD_MAX. -1 with err saying what is wrong. */
int shard_parse(const char *text, int *index, int *count, char *err, size_t errlen);

/* Targets 0..n-1: keys[i] names the function target i changes (targets
 * with equal keys are one group), runs[i] how many runs it has. Writes
 * shard_of[i] in 1..count. -1 when out of memory. */
int shard_assign(const char *const *keys, const size_t *runs, size_t n, int count, int *shard_of);

#endif
