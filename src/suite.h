/*
 * suite — the suite a user runs (scenarios.yaml): which functions to test
 * (targets), how to reach them, what a normal request looks like for each
 * (the baseline event, in its trigger's envelope), which scenarios run with
 * which parameters, the severity gate and the seed.
 *
 * A target is a function of the local lab (the default: `coldsec run`
 * starts coldsec-lab itself with the suite's lab config) or an AWS
 * function by name or ARN with region, profile and endpoint. The Lambda API
 * forces cold starts; invocations go through it too (transport `invoke`),
 * or as plain HTTP requests to the function's URL or an API Gateway URL
 * (transport `http`, where no log tail comes back).
 *
 * Every error names FILE:LINE:COLUMN (yamldoc).
 *
 * Ownership: suite_load returns a suite the caller frees with suite_free; it
 * owns its scenario set, targets and strings. Read-only afterwards: targets
 * may be run by several threads.
 */
#ifndef COLDSEC_SUITE_H
#define COLDSEC_SUITE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "scenario.h"

#define SUITE_MAX_TARGETS 256
#define SUITE_MAX_RUNS 16       /* scenarios per target */
#define SUITE_MAX_PROTECT 16

typedef struct suite_run {
    const scenario *sc;
    long params[SCENARIO_MAX_PARAMS];  /* defaults with the target's overrides */
} suite_run;

typedef struct suite_target {
    char *name;             /* shown in reports; the function unless given */
    char *function;         /* name or unqualified ARN */
    bool lab;               /* a function of the lab coldsec starts */
    char *region, *profile, *endpoint, *ca_bundle;   /* AWS targets; NULL: as the AWS CLI finds them */
    bool allow_mutation;    /* lab targets: true; AWS targets must opt in */
    event_envelope envelope;
    char *url;              /* transport http: the function URL or API Gateway URL; NULL: Invoke */
    bool url_sign;          /* the URL's auth type is AWS_IAM (SigV4) */
    cJSON *baseline;        /* the normal event, with {{user.id}} where the caller's identity goes */
    suite_run runs[SUITE_MAX_RUNS];
    size_t nruns;
    int line, column;
} suite_target;

typedef struct suite {
    char *path;
    uint64_t seed;
    severity fail_on;
    char *lab_config;       /* absolute; NULL when no target uses the lab */
    char *scenario_dir;
    char *protect[SUITE_MAX_PROTECT];  /* forcer guard patterns; none: the forcer's default */
    size_t nprotect;
    suite_target *targets;
    size_t ntargets;
    scenario_set *set;
} suite;

/* Loads path; scenario_dir overrides the suite's `scenario_dir` (NULL:
 * the suite's, else "scenarios" beside the suite file). */
int suite_load(const char *path, const char *scenario_dir, suite **out, char *err, size_t errlen);
/* The same, with builtin_dir (may be NULL) after the suite's folder
 * (scenario_set_load_layered): the default folder beside the suite may then
 * be missing; a scenario_dir the suite or the caller names may not. */
int suite_load_builtin(const char *path, const char *scenario_dir, const char *builtin_dir, suite **out, char *err,
                       size_t errlen);
void suite_free(suite *s);

#endif
