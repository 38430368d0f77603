/*
 * engine — runs one scenario against one target: plans its invocations from
 * the seed, forces the cold starts it asks for (forcer, always restored),
 * fires its invoke steps through the fan-out engine, and turns what came
 * back into findings by evaluating its assertions (DESIGN.md, "Scenario
 * model", decisions 4 and 5).
 *
 * A finding is built only from what the target returned: a canary seen
 * where it must not be, a pattern in an answer or log tail, a secret's
 * value, a Max Memory Used series, a configuration field. Its evidence
 * holds the invocations that prove it (requests and answers, secrets
 * masked) and the `coldsec` commands that replay them by hand.
 *
 * Files (all under opts->dir): plan.json (the seeded plan: who sends what,
 * in which order, without canary values), invocations.jsonl (one line per
 * invocation: timings, status, cold or warm, memory), replay/SEQ.json (the
 * exact payloads of evidence invocations), cold-start-N/journal.json.
 *
 * Ownership: the caller owns everything in engine_opts; engine_result's
 * findings/summary are the caller's to cJSON_Delete (engine_result_clear).
 * One engine_run per thread; nothing global.
 */
#ifndef COLDSEC_ENGINE_H
#define COLDSEC_ENGINE_H

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "lambda_client.h"
#include "suite.h"

typedef enum {
    ENGINE_DONE = 0,        /* every step ran; findings (if any) are in the result */
    ENGINE_REFUSED,         /* the forcer refused to change the function (exit 2) */
    ENGINE_UNTESTABLE,      /* the function could not be tested: API errors, nothing answered (exit 3) */
    ENGINE_INTERRUPTED,     /* SIGINT/SIGTERM; restored first (exit 3) */
    ENGINE_NOT_RESTORED,    /* a configuration could not be restored (exit 4) */
    ENGINE_NOT_APPLICABLE   /* the function is not what the scenario requires (requires:); nothing was
                               sent, detail says why; never a pass, no effect on the exit status */
} engine_status;

typedef struct engine_opts {
    lambda_client *client;
    const suite *s;
    const suite_target *t;
    const suite_run *run;
    const cJSON *config;          /* GetFunctionConfiguration, read once per target */
    const cJSON *concurrency;     /* GetFunctionConcurrency, or NULL when it could not be read */
    const char *dir;              /* this scenario's folder: reports/RUN/TARGET/SCENARIO */
    const char *replay_connection; /* connection options for replay commands ("--endpoint URL --region R") */
    const volatile sig_atomic_t *stop;
    FILE *forcer_out;             /* the forcer's plan and progress lines */
    const char *stop_at;          /* COLDSEC_TEST_STOP_AT */
} engine_opts;

typedef struct engine_result {
    engine_status status;
    char detail[1024];            /* why, for anything but DONE */
    cJSON *findings;              /* array of finding objects */
    cJSON *summary;               /* steps, invocations, cold starts, timings */
    cJSON *timeline;              /* {steps, invocations} (docs/report-format.md); NULL when nothing was invoked */
    size_t invocations;
    double ms;
} engine_result;

int engine_run(const engine_opts *o, engine_result *out);
void engine_result_clear(engine_result *r);

#endif
