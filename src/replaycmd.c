/*
 * replaycmd — `coldsec replay` (see replaycmd.h).
 */
#include "replaycmd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "awsconf.h"
#include "canary.h"
#include "fileio.h"
#include "fuzzenv.h"
#include "fuzzfinding.h"
#include "jsonutil.h"
#include "labproc.h"
#include "lambda_client.h"
#include "logtail.h"
#include "paths.h"
#include "scratch.h"

#define MAX_REQUEST ((size_t)6 << 20)   /* Lambda's synchronous payload limit */

static const char REPLAY_HELP[] =
    "usage: coldsec replay FINDING.json [--lab-bin PATH] [--skip-cold-start]\n"
    "Runs a finding's recorded steps again (the planted and the seen invocation's requests, in the order\n"
    "they were sent) and says whether it reproduces: the same canary back where it was seen. FINDING.json\n"
    "is the file a finding's reproduce list names first (REPORT-FOLDER/TARGET/SCENARIO/finding-N.json).\n"
    "A lab finding runs on a fresh coldsec-lab of the recorded lab config (its first invocation is a\n"
    "cold start); an AWS finding on the recorded region/profile/endpoint. A coldsec fuzz finding file\n"
    "(reports/fuzz/NAME/finding-KIND-HASH.json): its input on a fresh lab, judged by the fuzzer's oracle.\n\n"
    "  --lab-bin PATH      coldsec-lab (default: beside this coldsec)\n"
    "  --skip-cold-start   AWS: the original forced a cold start first; replay does not change a\n"
    "                      function's configuration (run `coldsec cold-start` yourself, then this)\n\n"
    "Exit status: 1 reproduced, 0 not reproduced, 2 usage or a bad finding file, 3 could not test.\n";

static const char *get_str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* Whether the canary is in what the seen invocation got back, where it was
 * seen the first time (the log tail for "log", else the answer). */
static bool seen_again(const char *canary, const char *seen_in, const lambda_response *resp, const char *log,
                       size_t log_len)
{
    size_t n = strlen(canary);
    if (strcmp(seen_in, "log") == 0)
        return log && memmem(log, log_len, canary, n) != NULL;
    return resp->body && memmem(resp->body, resp->body_len, canary, n) != NULL;
}

/* A fresh coldsec-lab of config (lab_bin_opt, or the coldsec-lab beside
 * this coldsec), its log in a new scratch folder tmp (which the caller
 * removes when tmp[0]); lo and cred are filled to reach it. Says on stderr
 * what failed. */
static int start_lab(const char *lab_bin_opt, const char *config, char *tmp, size_t tmplen, labproc **lp,
                     lambda_client_options *lo, sigv4_credentials *cred)
{
    char lab_bin[PATH_MAX + 16], err[2048], log_file[4200];
    if (lab_bin_opt)
        snprintf(lab_bin, sizeof(lab_bin), "%s", lab_bin_opt);
    else
        paths_beside_self("coldsec-lab", lab_bin, sizeof(lab_bin));
    if (scratch_make("coldsec-replay", tmp, tmplen, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec replay: %s\n", err);
        tmp[0] = '\0';
        return -1;
    }
    snprintf(log_file, sizeof(log_file), "%s/lab.log", tmp);
    if (labproc_start(lab_bin, config, NULL, log_file, lp, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec replay: the lab (%s): %s\n", config, err);
        return -1;
    }
    cred->access_key_id = LABPROC_ACCESS_KEY_ID;
    cred->secret_access_key = LABPROC_SECRET_ACCESS_KEY;
    lo->endpoint = labproc_endpoint(*lp);
    lo->region = LABPROC_REGION;
    lo->cred = cred;
    return 0;
}

/* ---------- a finding file of `coldsec fuzz` (fuzzfinding.h) ---------- */

/* One event to the function, raw bytes as coldsec-fuzz sent it; says what
 * came back (status and function error: the body may hold a secret). */
static int fuzz_send(lambda_client *c, const fuzzfinding *ff, const char *what, const char *data, size_t len,
                     fuzzenv_answer *a)
{
    if (fuzzenv_invoke(c, ff->function, data, len, a) != 0) {
        fprintf(stderr, "coldsec replay: %s: the lab did not answer the Invoke\n", what);
        return -1;
    }
    printf("  %s: status %ld%s%s\n", what, a->resp.status, a->resp.function_error ? ", function error " : "",
           a->resp.function_error ? a->resp.function_error : "");
    return 0;
}

/* State pollution, judged as coldsec-fuzz confirms it: the probe's answer
 * on a fresh environment (the same on a second fresh one, or a difference
 * after the input would mean nothing), then the input and the probe on
 * another fresh environment, compared with fuzzoracle_same_answer.
 * Returns 1 reproduced, 0 not, 3 could not test. */
static int fuzz_pollution(lambda_client *c, const fuzzfinding *ff, const cJSON *vars, const char *input,
                          size_t input_len, const char *probe, size_t probe_len)
{
    fuzzenv_answer ref, again, in, after;
    int rc = 3;

    memset(&ref, 0, sizeof(ref));
    memset(&again, 0, sizeof(again));
    memset(&in, 0, sizeof(in));
    memset(&after, 0, sizeof(after));
    printf("  the probe: %s (%zu bytes)\n", ff->probe, probe_len);
    if (fuzz_send(c, ff, "probe on a fresh environment", probe, probe_len, &ref) != 0)
        goto cleanup;
    if (fuzzenv_fresh(c, ff->function, vars, 1) != 0) {
        fprintf(stderr, "coldsec replay: %s: could not retire its environments\n", ff->function);
        goto cleanup;
    }
    if (fuzz_send(c, ff, "probe on another fresh environment", probe, probe_len, &again) != 0)
        goto cleanup;
    if (ref.resp.function_error || again.resp.function_error ||
        !fuzzoracle_same_answer(ref.resp.body, ref.resp.body_len, again.resp.body, again.resp.body_len)) {
        printf("COULD NOT TEST: the probe does not get the same answer on two fresh environments (or fails): "
               "another answer after the input would prove nothing\n");
        goto cleanup;
    }
    if (fuzzenv_fresh(c, ff->function, vars, 2) != 0) {
        fprintf(stderr, "coldsec replay: %s: could not retire its environments\n", ff->function);
        goto cleanup;
    }
    if (fuzz_send(c, ff, "the input on a fresh environment", input, input_len, &in) != 0 ||
        fuzz_send(c, ff, "the probe after it, same environment", probe, probe_len, &after) != 0)
        goto cleanup;
    if (fuzzoracle_same_answer(after.resp.body, after.resp.body_len, ref.resp.body, ref.resp.body_len)) {
        printf("NOT REPRODUCED: after the input the probe got the same answer as on a fresh environment\n");
        rc = 0;
    } else {
        printf("REPRODUCED: pollution: after the input the probe (the baseline event) got another answer on the "
               "warm environment than on a fresh one\n");
        rc = 1;
    }
cleanup:
    fuzzenv_answer_clear(&ref);
    fuzzenv_answer_clear(&again);
    fuzzenv_answer_clear(&in);
    fuzzenv_answer_clear(&after);
    return rc;
}

/* `coldsec replay` of a fuzz finding: a fresh lab of the recorded config,
 * the function's variables with a canary planted as coldsec-fuzz plants it,
 * the input sent once on that fresh environment and judged by fuzzoracle
 * (pollution: fuzz_pollution; memory: fuzzenv_memory_grows, as the fuzzer
 * confirms it). Returns replay's exit status. */
static int replay_fuzz_finding(const char *path, const cJSON *doc, const char *lab_bin_opt)
{
    fuzzfinding ff;
    char err[2048], tmp[4096], canary[64];
    char *input = NULL, *probe = NULL;
    size_t input_len = 0, probe_len = 0;
    const char *kind;
    labproc *lp = NULL;
    lambda_client *client = NULL;
    lambda_client_options lo;
    sigv4_credentials cred = {0};
    cJSON *vars = NULL;
    secrets *sec = NULL;
    fuzzoracle *oracle = NULL;
    fuzzenv_answer a;
    fuzzoracle_verdict v;
    int rc = 2;

    tmp[0] = '\0';
    memset(&a, 0, sizeof(a));
    if (fuzzfinding_parse(doc, path, &ff, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec replay: %s: a fuzz finding file replay cannot read: %s\n", path, err);
        goto cleanup;
    }
    kind = fuzzoracle_kind_name(ff.kind);
    input = fileio_read(ff.input, MAX_REQUEST, &input_len);
    if (!input) {
        fprintf(stderr, "coldsec replay: %s: replay.input %s: %s\n", path, ff.input, strerror(errno));
        goto cleanup;
    }
    if (ff.probe[0] && !(probe = fileio_read(ff.probe, MAX_REQUEST, &probe_len))) {
        fprintf(stderr, "coldsec replay: %s: replay.probe %s: %s\n", path, ff.probe, strerror(errno));
        goto cleanup;
    }
    rc = 3;
    memset(&lo, 0, sizeof(lo));
    if (start_lab(lab_bin_opt, ff.lab_config, tmp, sizeof(tmp), &lp, &lo, &cred) != 0)
        goto cleanup;
    lo.max_attempts = 1;   /* as coldsec-fuzz: an input runs once */
    client = lambda_client_new(&lo, err, sizeof(err));
    if (!client) {
        fprintf(stderr, "coldsec replay: %s\n", err);
        goto cleanup;
    }
    if (canary_new(canary, sizeof(canary)) != 0) {
        fprintf(stderr, "coldsec replay: no random numbers for the canary\n");
        goto cleanup;
    }
    if (fuzzenv_plant(client, ff.function, canary, &vars, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec replay: %s\n", err);
        goto cleanup;
    }
    printf("coldsec replay: the %s finding of %s (%s) on a fresh lab (%s)\n", kind, ff.function, ff.key,
           ff.lab_config);
    printf("  sent: %s (%zu bytes), the event as coldsec fuzz sent it\n", ff.input, input_len);
    if (ff.kind == FUZZORACLE_POLLUTION) {
        rc = fuzz_pollution(client, &ff, vars, input, input_len, probe, probe_len);
        goto cleanup;
    }
    if (ff.kind == FUZZORACLE_MEMORY) {
        /* What made the fuzzer's memory verdict a finding: the input, again
         * and again on a fresh environment, climbs steadily. (Its first
         * hint, over --growth-mb above the session's lowest, is the
         * session's, not the input's.) */
        char detail[512] = "";
        int last_mb = -1;
        printf("  sending it %d times to one fresh environment\n", FUZZENV_MEMORY_REPLAYS);
        if (fuzzenv_memory_grows(client, ff.function, input, input_len, detail, sizeof(detail), &last_mb)) {
            printf("REPRODUCED: memory: %s\n", detail);
            rc = 1;
        } else {
            printf("NOT REPRODUCED: sent %d times to a fresh environment, the input did not make Max Memory Used "
                   "climb steadily\n", FUZZENV_MEMORY_REPLAYS);
            rc = 0;
        }
        goto cleanup;
    }
    sec = fuzzenv_secrets(vars);
    oracle = sec ? fuzzoracle_new(sec, ff.growth_mb) : NULL;
    if (!oracle) {
        fprintf(stderr, "coldsec replay: out of memory\n");
        goto cleanup;
    }
    if (fuzz_send(client, &ff, "the input on a fresh environment", input, input_len, &a) != 0)
        goto cleanup;
    fuzzenv_judge(oracle, &a, input, input_len, &v);
    if (fuzzfinding_same(&ff, &v)) {
        printf("REPRODUCED: %s: %s\n", kind, v.detail);
        rc = 1;
    } else {
        printf("NOT REPRODUCED: the oracle's verdict is %s%s%s, not the finding's %s (%s); on a fresh "
               "environment, where the fuzzing session's had run %.0f inputs before\n",
               v.kind != FUZZORACLE_NONE ? fuzzoracle_kind_name(v.kind)
               : v.not_an_event          ? "none (the runtime refused the input as an event)"
                                         : "none",
               v.detail[0] ? ": " : "", v.detail, kind, ff.key,
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "after_executions")));
        rc = 0;
    }
cleanup:
    fuzzenv_answer_clear(&a);
    fuzzoracle_free(oracle);
    secrets_free(sec);
    cJSON_Delete(vars);
    lambda_client_free(client);
    labproc_stop(lp);
    if (tmp[0] && scratch_remove(tmp) != 0)
        fprintf(stderr, "coldsec replay: %s: not removed: %s\n", tmp, strerror(errno));
    free(probe);
    free(input);
    return rc;
}

int replaycmd_command(int argc, char **argv)
{
    enum { O_LAB_BIN = 300, O_SKIP_COLD, O_HELP };
    static const struct option opts[] = {{"lab-bin", required_argument, NULL, O_LAB_BIN},
                                         {"skip-cold-start", no_argument, NULL, O_SKIP_COLD},
                                         {"help", no_argument, NULL, O_HELP},
                                         {NULL, 0, NULL, 0}};
    const char *lab_bin_opt = NULL, *path, *canary, *seen_in, *function, *where;
    bool skip_cold = false, lab, reproduced = false;
    char err[2048], tmp[4096];
    char *text = NULL, *requests[2] = {NULL, NULL};
    size_t len = 0, req_len[2] = {0, 0};
    cJSON *doc = NULL, *tg, *steps;
    labproc *lp = NULL;
    awsconf *conf = NULL;
    lambda_client *client = NULL;
    sigv4_credentials lab_cred = {0};
    lambda_client_options lo;
    int c, rc = 2;

    tmp[0] = '\0';
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case O_LAB_BIN: lab_bin_opt = optarg; break;
        case O_SKIP_COLD: skip_cold = true; break;
        case O_HELP: fputs(REPLAY_HELP, stdout); return 0;
        default:
            fprintf(stderr, "coldsec replay: unknown or incomplete option \"%s\" (see coldsec replay --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "coldsec replay: which finding? coldsec replay FINDING.json (see coldsec replay --help)\n");
        return 2;
    }
    path = argv[optind];
    text = fileio_read(path, (size_t)16 << 20, &len);
    if (!text) {
        fprintf(stderr, "coldsec replay: %s: %s\n", path, strerror(errno));
        goto cleanup;
    }
    doc = jsonutil_parse_whole(text, len);
    if (fuzzfinding_is(doc)) {
        rc = replay_fuzz_finding(path, doc, lab_bin_opt);
        goto cleanup;
    }
    tg = cJSON_GetObjectItemCaseSensitive(doc, "target");
    steps = cJSON_GetObjectItemCaseSensitive(doc, "steps");
    canary = get_str(doc, "canary");
    seen_in = get_str(doc, "seen_in");
    function = get_str(tg, "function");
    where = get_str(tg, "where");
    if (!doc || cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "coldsec_replay")) != 1) {
        fprintf(stderr, "coldsec replay: %s: not a finding file of coldsec (no \"coldsec_replay\": 1)\n", path);
        goto cleanup;
    }
    if (!function || !where || !canary || !*canary || !seen_in || cJSON_GetArraySize(steps) != 2) {
        fprintf(stderr, "coldsec replay: %s: needs target.function, target.where, canary, seen_in and two steps\n",
                path);
        goto cleanup;
    }
    lab = strcmp(where, "lab") == 0;
    for (int i = 0; i < 2; i++) {
        const char *file = get_str(cJSON_GetArrayItem(steps, i), "request_file");
        requests[i] = file ? fileio_read(file, MAX_REQUEST, &req_len[i]) : NULL;
        if (!requests[i]) {
            fprintf(stderr, "coldsec replay: %s: step %d: request_file %s: %s\n", path, i + 1, file ? file : "(none)",
                    file ? strerror(errno) : "missing");
            goto cleanup;
        }
    }
    /* The seen request carrying the canary itself would make its return an
     * echo of our own request: nothing would be proven. */
    if (memmem(requests[1], req_len[1], canary, strlen(canary))) {
        fprintf(stderr, "coldsec replay: %s: the seen request itself holds the canary: its return would prove "
                        "nothing\n", path);
        goto cleanup;
    }
    rc = 3;
    if (!lab && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "cold_start")) && !skip_cold) {
        fprintf(stderr, "coldsec replay: the original run forced a cold start of %s first; replay does not change "
                        "an AWS function's configuration: run `coldsec cold-start %s --allow-mutation` and then "
                        "`coldsec replay %s --skip-cold-start`\n", function, function, path);
        goto cleanup;
    }
    memset(&lo, 0, sizeof(lo));
    if (lab) {
        const char *config = get_str(tg, "lab_config");
        if (!config) {
            fprintf(stderr, "coldsec replay: %s: a lab finding without target.lab_config\n", path);
            rc = 2;
            goto cleanup;
        }
        if (start_lab(lab_bin_opt, config, tmp, sizeof(tmp), &lp, &lo, &lab_cred) != 0)
            goto cleanup;
        printf("coldsec replay: %s on a fresh lab (%s): its first invocation is a cold start\n", function, config);
    } else {
        awsconf_options ao;
        memset(&ao, 0, sizeof(ao));
        ao.region = get_str(tg, "region");
        ao.profile = get_str(tg, "profile");
        ao.endpoint = get_str(tg, "endpoint");
        if (awsconf_resolve(&ao, &conf, err, sizeof(err)) != 0) {
            fprintf(stderr, "coldsec replay: %s\n", err);
            goto cleanup;
        }
        lo.endpoint = awsconf_endpoint(conf);
        lo.region = awsconf_region(conf);
        lo.cred = awsconf_credentials(conf);
        lo.ca_bundle = awsconf_ca_bundle(conf);
        printf("coldsec replay: %s in %s\n", function, lo.region);
    }
    client = lambda_client_new(&lo, err, sizeof(err));
    if (!client) {
        fprintf(stderr, "coldsec replay: %s\n", err);
        goto cleanup;
    }
    for (int i = 0; i < 2; i++) {
        const cJSON *step = cJSON_GetArrayItem(steps, i);
        lambda_invoke_request req;
        lambda_response resp;
        lambda_error le;
        char *log = NULL;
        size_t log_len = 0;
        memset(&req, 0, sizeof(req));
        memset(&resp, 0, sizeof(resp));
        req.function = function;
        req.payload = (const unsigned char *)requests[i];
        req.payload_len = req_len[i];
        req.log_tail = true;
        if (lambda_invoke(client, &req, &resp, &le) != 0 && resp.status == 0) {
            lambda_error_format(&le, err, sizeof(err));
            fprintf(stderr, "coldsec replay: step %d (%s): no answer: %s\n", i + 1, get_str(step, "role"), err);
            lambda_response_clear(&resp);
            goto cleanup;
        }
        if (resp.log_result && logtail_decode(resp.log_result, strlen(resp.log_result), &log, &log_len) != 0)
            log = NULL;
        printf("  step %d: %s, as %s (seq %.0f): status %ld%s%s\n", i + 1, get_str(step, "role") ? get_str(step, "role") : "?",
               get_str(step, "user") ? get_str(step, "user") : "?",
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(step, "seq")), resp.status,
               resp.function_error ? ", function error " : "", resp.function_error ? resp.function_error : "");
        if (i == 1)
            reproduced = seen_again(canary, seen_in, &resp, log, log_len);
        free(log);
        lambda_response_clear(&resp);
    }
    if (reproduced)
        printf("REPRODUCED: the canary %s planted in step 1 came back in the %s of step 2 (%s)\n", canary,
               strcmp(seen_in, "log") == 0 ? "log tail" : "answer", get_str(doc, "title") ? get_str(doc, "title") : "");
    else
        printf("NOT REPRODUCED: the canary %s planted in step 1 did not come back in the %s of step 2\n", canary,
               strcmp(seen_in, "log") == 0 ? "log tail" : "answer");
    rc = reproduced ? 1 : 0;
cleanup:
    lambda_client_free(client);
    labproc_stop(lp);
    awsconf_free(conf);
    if (tmp[0] && scratch_remove(tmp) != 0)
        fprintf(stderr, "coldsec replay: %s: not removed: %s\n", tmp, strerror(errno));
    free(requests[0]);
    free(requests[1]);
    cJSON_Delete(doc);
    free(text);
    return rc;
}
