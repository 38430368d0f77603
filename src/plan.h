/*
 * plan — what a fan-out sends, derived from the run's seed, so that the
 * same seed gives the same sequence of users and payload choices on every
 * run and every CI shard (markers stay random: see canary.h).
 *
 * The generator is splitmix64: tiny, with a fixed, documented output for a
 * given seed on every platform, which is what repeatability needs (it is
 * not for secrets).
 *
 * Ownership: plan_rng is a plain value the caller owns.
 */
#ifndef COLDSEC_PLAN_H
#define COLDSEC_PLAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct plan_rng {
    uint64_t state;
} plan_rng;

void plan_rng_seed(plan_rng *r, uint64_t seed);
uint64_t plan_rng_next(plan_rng *r);
/* Uniform in [0, n) without modulo bias; n > 0. */
uint64_t plan_rng_below(plan_rng *r, uint64_t n);

/* Assigns each of count invocations a user in [0, users): every user gets
 * a share as even as count allows, in an order shuffled by the seed. */
void plan_assign_users(uint64_t seed, int *user_of, size_t count, int users);

#endif
