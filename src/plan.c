/*
 * plan — seeded, repeatable choices for a fan-out (see plan.h).
 */
#include "plan.h"

void plan_rng_seed(plan_rng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t plan_rng_next(plan_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t plan_rng_below(plan_rng *r, uint64_t n)
{
    /* Reject the top partial range so every value is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
    do
        x = plan_rng_next(r);
    while (x >= limit);
    return x % n;
}

void plan_assign_users(uint64_t seed, int *user_of, size_t count, int users)
{
    plan_rng r;

    if (users < 1)
        users = 1;
    for (size_t i = 0; i < count; i++)
        user_of[i] = (int)(i % (size_t)users);
    /* Fisher-Yates: even shares, seeded order. */
    plan_rng_seed(&r, seed);
    for (size_t i = count; i > 1; i--) {
        size_t j = (size_t)plan_rng_below(&r, i);
        int t = user_of[i - 1];
        user_of[i - 1] = user_of[j];
        user_of[j] = t;
    }
}
