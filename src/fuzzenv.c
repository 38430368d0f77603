/*
 * fuzzenv — the fuzzed lab function's set-up and invocations (see fuzzenv.h).
 */
#include "fuzzenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logtail.h"
#include "memfit.h"
#include "monotime.h"

/* 300 polls 50 ms apart: a lab's update takes a few ms; 15 s is a lab in
 * trouble. */
#define WAIT_POLLS 300
#define WAIT_POLL_MS 50

int fuzzenv_wait_updated(lambda_client *c, const char *function)
{
    for (int i = 0; i < WAIT_POLLS; i++) {
        cJSON *cfg = NULL;
        lambda_error le;
        const char *st;
        if (lambda_get_configuration(c, function, NULL, &cfg, &le) != 0)
            return -1;
        st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "LastUpdateStatus"));
        if (!st || strcmp(st, "InProgress") != 0) {
            int rc = !st || strcmp(st, "Successful") == 0 ? 0 : -1;
            cJSON_Delete(cfg);
            return rc;
        }
        cJSON_Delete(cfg);
        monotime_sleep_ms(WAIT_POLL_MS);
    }
    return -1;
}

/* Sets the function's variables to vars (consumed) and waits for it. */
static int set_variables(lambda_client *c, const char *function, cJSON *vars)
{
    cJSON *body = cJSON_CreateObject(), *out = NULL;
    lambda_error le;
    int rc;
    if (!body || !vars) {
        cJSON_Delete(body);
        cJSON_Delete(vars);
        return -1;
    }
    cJSON_AddItemToObject(cJSON_AddObjectToObject(body, "Environment"), "Variables", vars);
    rc = lambda_update_configuration(c, function, body, &out, &le);
    cJSON_Delete(body);
    cJSON_Delete(out);
    return rc != 0 ? -1 : fuzzenv_wait_updated(c, function);
}

int fuzzenv_plant(lambda_client *c, const char *function, const char *canary, cJSON **variables, char *err,
                  size_t errlen)
{
    cJSON *cfg = NULL, *vars;
    lambda_error le;

    *variables = NULL;
    if (lambda_get_configuration(c, function, NULL, &cfg, &le) != 0) {
        lambda_error_format(&le, err, errlen);
        return -1;
    }
    vars = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg, "Environment"), "Variables");
    vars = vars ? cJSON_Duplicate(vars, true) : cJSON_CreateObject();
    cJSON_Delete(cfg);
    if (!vars || !cJSON_AddStringToObject(vars, FUZZENV_CANARY_VARIABLE, canary) ||
        set_variables(c, function, cJSON_Duplicate(vars, true)) != 0) {
        snprintf(err, errlen, "%s: could not plant the canary variable", function);
        cJSON_Delete(vars);
        return -1;
    }
    *variables = vars;
    return 0;
}

int fuzzenv_fresh(lambda_client *c, const char *function, const cJSON *variables, int nonce)
{
    cJSON *vars = cJSON_Duplicate(variables, true);
    char text[32];
    snprintf(text, sizeof(text), "%d", nonce);
    if (vars && !cJSON_AddStringToObject(vars, "COLDSEC_FUZZ_NONCE", text)) {
        cJSON_Delete(vars);
        return -1;
    }
    return set_variables(c, function, vars);
}

int fuzzenv_invoke(lambda_client *c, const char *function, const char *payload, size_t len, fuzzenv_answer *a)
{
    lambda_invoke_request req;
    lambda_error le;
    memset(a, 0, sizeof(*a));
    memset(&req, 0, sizeof(req));
    req.function = function;
    req.payload = (const unsigned char *)payload;
    req.payload_len = len;
    req.log_tail = true;
    req.max_payload = FUZZENV_KEEP_ANSWER;
    if (lambda_invoke(c, &req, &a->resp, &le) != 0 && a->resp.status == 0)
        return -1;
    /* No log tail (undecodable) only leaves the log-based oracles blind. */
    if (a->resp.log_result &&
        logtail_decode(a->resp.log_result, strlen(a->resp.log_result), &a->log, &a->log_len) != 0)
        a->log = NULL;
    return 0;
}

void fuzzenv_answer_clear(fuzzenv_answer *a)
{
    lambda_response_clear(&a->resp);
    free(a->log);
    a->log = NULL;
}

void fuzzenv_judge(fuzzoracle *o, const fuzzenv_answer *a, const char *input, size_t input_len,
                   fuzzoracle_verdict *v)
{
    fuzzoracle_answer fa;
    memset(&fa, 0, sizeof(fa));
    fa.status = a->resp.status;
    fa.function_error = a->resp.function_error;
    fa.payload = a->resp.body;
    fa.payload_len = a->resp.body_len;
    fa.log = a->log;
    fa.log_len = a->log_len;
    fa.input = input;
    fa.input_len = input_len;
    fuzzoracle_judge(o, &fa, v);
}

bool fuzzenv_memory_grows(lambda_client *c, const char *function, const char *data, size_t size, char *detail,
                          size_t dlen, int *last_mb)
{
    double x[FUZZENV_MEMORY_REPLAYS], y[FUZZENV_MEMORY_REPLAYS];
    size_t n = 0, used = strlen(detail);
    memfit fit;
    for (int i = 0; i < FUZZENV_MEMORY_REPLAYS; i++) {
        fuzzenv_answer a;
        logtail_report rep;
        if (fuzzenv_invoke(c, function, data, size, &a) != 0)
            break;
        memset(&rep, 0, sizeof(rep));
        if (a.log)
            logtail_parse(a.log, a.log_len, &rep);
        fuzzenv_answer_clear(&a);
        if (!rep.present)
            break;
        x[n] = i;
        y[n++] = rep.max_memory_used_mb;
    }
    if (n < FUZZENV_MEMORY_REPLAYS / 2 || memfit_linear(x, y, n, &fit) != 0 || fit.slope < 0.1 || fit.r2 < 0.8)
        return false;
    if (used < dlen)
        snprintf(detail + used, dlen - used,
                 "%sreplayed %zu times on a fresh environment: +%.2f MB per invocation (r2 %.2f, %.0f -> %.0f MB)",
                 used ? "; " : "", n, fit.slope, fit.r2, y[0], y[n - 1]);
    *last_mb = (int)y[n - 1];
    return true;
}

secrets *fuzzenv_secrets(const cJSON *variables)
{
    secrets *sec = secrets_new();
    const cJSON *v;
    if (!sec)
        return NULL;
    cJSON_ArrayForEach(v, variables) {
        const char *val = cJSON_GetStringValue(v);
        if (!val || strlen(val) < SECRETS_MIN_LITERAL || secrets_value_is_reference(val))
            continue;
        if (secrets_add_literal(sec, v->string, val, strlen(val)) != 0) {
            secrets_free(sec);
            return NULL;
        }
    }
    return sec;
}
