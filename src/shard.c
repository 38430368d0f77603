/*
 * shard — splits a suite's runs into N parts by function (see shard.h).
 */
#include "shard.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int shard_parse(const char *text, int *index, int *count, char *err, size_t errlen)
{
    char *end;
    long i, n;

    /* strtol would take " 2" and "+2": only digits are an I/N. */
    errno = 0;
    i = strtol(text, &end, 10);
    if (errno || !isdigit((unsigned char)text[0]) || *end != '/' || !isdigit((unsigned char)end[1])) {
        snprintf(err, errlen, "--shard: I/N (this runner's part I of N, e.g. 2/4), not \"%s\"", text);
        return -1;
    }
    n = strtol(end + 1, &end, 10);
    if (errno || *end || n < 1 || n > SHARD_MAX || i < 1 || i > n) {
        snprintf(err, errlen, "--shard: I/N with 1 <= I <= N <= %d, not \"%s\"", SHARD_MAX, text);
        return -1;
    }
    *index = (int)i;
    *count = (int)n;
    return 0;
}

typedef struct group {
    size_t first;   /* the group's first target: ties keep suite order */
    size_t runs;
} group;

static int by_size(const void *a, const void *b)
{
    const group *x = a, *y = b;
    if (x->runs != y->runs)
        return x->runs < y->runs ? 1 : -1;
    return (x->first > y->first) - (x->first < y->first);
}

int shard_assign(const char *const *keys, const size_t *runs, size_t n, int count, int *shard_of)
{
    group *groups = calloc(n ? n : 1, sizeof(*groups));
    size_t *of = calloc(n ? n : 1, sizeof(*of)), ngroups = 0;
    size_t load[SHARD_MAX] = {0};
    int rc = -1;

    if (!groups || !of || count < 1 || count > SHARD_MAX)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        size_t g;
        for (g = 0; g < ngroups; g++)
            if (strcmp(keys[groups[g].first], keys[i]) == 0)
                break;
        if (g == ngroups)
            groups[ngroups++].first = i;
        groups[g].runs += runs[i];
    }
    qsort(groups, ngroups, sizeof(*groups), by_size);
    for (size_t g = 0; g < ngroups; g++) {
        int best = 0;
        for (int k = 1; k < count; k++)
            if (load[k] < load[best])
                best = k;
        load[best] += groups[g].runs;
        /* Remember the part per group through its first target. */
        of[groups[g].first] = (size_t)best + 1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t first = i;
        for (size_t j = 0; j < i; j++)
            if (strcmp(keys[j], keys[i]) == 0) {
                first = j;
                break;
            }
        shard_of[i] = (int)of[first];
    }
    rc = 0;
cleanup:
    free(groups);
    free(of);
    return rc;
}
