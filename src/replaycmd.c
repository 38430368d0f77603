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
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "awsconf.h"
#include "canary.h"
#include "fileio.h"
#include "fuzzenv.h"
#include "fuzzfinding.h"
#include "jsonutil.h"
#include "labproc.h"
#include "event.h"
#include "lambda_client.h"
#include "logtail.h"
#include "memfit.h"
#include "paths.h"
#include "replayfile.h"
#include "scratch.h"
#include "secrets.h"

#define MAX_REQUEST ((size_t)6 << 20)   /* Lambda's synchronous payload limit */

static const char REPLAY_HELP[] =
    "usage: coldsec replay FINDING.json [--lab-bin PATH] [--skip-cold-start]\n"
    "Sends a finding's recorded requests again and says whether it reproduces, judged by the file's\n"
    "check: a canary planted earlier back where it was seen; a pattern matching within as many sends as\n"
    "the run needed; exposed secrets found again (masked); out of memory again after a rising series.\n"
    "FINDING.json is the file a finding's reproduce list names first\n"
    "(REPORT-FOLDER/TARGET/SCENARIO/finding-N.json); its request files are named relative to it.\n"
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

/* ---------- a finding file of `coldsec run` (src/replayfile.h) ---------- */

/* Where replay sends: a fresh lab of the recorded config, or the recorded AWS target. */
typedef struct replay_conn {
    lambda_client *client;
    labproc *lp;
    awsconf *conf;
    sigv4_credentials lab_cred;
    char tmp[4096];
} replay_conn;

/* One answer: the response, its log tail decoded, and its REPORT line. */
typedef struct replay_answer {
    lambda_response resp;
    char *log;
    size_t log_len;
    logtail_report report;
} replay_answer;

static void answer_clear(replay_answer *a)
{
    lambda_response_clear(&a->resp);
    free(a->log);
    memset(a, 0, sizeof(*a));
}

static void conn_close(replay_conn *c)
{
    lambda_client_free(c->client);
    labproc_stop(c->lp);
    awsconf_free(c->conf);
    if (c->tmp[0] && scratch_remove(c->tmp) != 0)
        fprintf(stderr, "coldsec replay: %s: not removed: %s\n", c->tmp, strerror(errno));
    memset(c, 0, sizeof(*c));
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

/* Connects to where the finding ran; 0, or 3 (could not test) with a message printed. */
static int conn_open(replay_conn *c, const replayfile *f, const char *path, const char *lab_bin_opt, bool skip_cold)
{
    const cJSON *tg = replayfile_target(f);
    const char *function = get_str(tg, "function");
    bool lab = strcmp(get_str(tg, "where"), "lab") == 0;
    char err[2048];
    lambda_client_options lo;

    memset(c, 0, sizeof(*c));
    memset(&lo, 0, sizeof(lo));
    if (!lab && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(replayfile_doc(f), "cold_start")) && !skip_cold) {
        fprintf(stderr, "coldsec replay: the original run forced a cold start of %s first; replay does not change "
                        "an AWS function's configuration: run `coldsec cold-start %s --allow-mutation` and then "
                        "`coldsec replay %s --skip-cold-start`\n", function, function, path);
        return 3;
    }
    if (lab) {
        const char *config = get_str(tg, "lab_config");
        if (start_lab(lab_bin_opt, config, c->tmp, sizeof(c->tmp), &c->lp, &lo, &c->lab_cred) != 0)
            return 3;
        printf("coldsec replay: %s on a fresh lab (%s): its first invocation is a cold start\n", function, config);
    } else {
        awsconf_options ao;
        memset(&ao, 0, sizeof(ao));
        ao.region = get_str(tg, "region");
        ao.profile = get_str(tg, "profile");
        ao.endpoint = get_str(tg, "endpoint");
        if (awsconf_resolve(&ao, &c->conf, err, sizeof(err)) != 0) {
            fprintf(stderr, "coldsec replay: %s\n", err);
            return 3;
        }
        lo.endpoint = awsconf_endpoint(c->conf);
        lo.region = awsconf_region(c->conf);
        lo.cred = awsconf_credentials(c->conf);
        lo.ca_bundle = awsconf_ca_bundle(c->conf);
        printf("coldsec replay: %s in %s\n", function, lo.region);
    }
    c->client = lambda_client_new(&lo, err, sizeof(err));
    if (!c->client) {
        fprintf(stderr, "coldsec replay: %s\n", err);
        return 3;
    }
    return 0;
}

/* "step N: ROLE, as USER (seq S)": how a recorded step is named in what replay prints. */
static void step_label(const cJSON *st, size_t i, char *out, size_t len)
{
    snprintf(out, len, "step %zu: %s, as %s (seq %.0f)", i + 1, get_str(st, "role") ? get_str(st, "role") : "?",
             get_str(st, "user") ? get_str(st, "user") : "?",
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(st, "seq")));
}

/* Sends one request; 0, or -1 (no answer) with a message printed. */
static int send_request(replay_conn *c, const replayfile *f, const char *request, size_t len, const char *what,
                        replay_answer *out)
{
    lambda_invoke_request req;
    lambda_error le;
    char err[2048];

    memset(out, 0, sizeof(*out));
    memset(&req, 0, sizeof(req));
    req.function = get_str(replayfile_target(f), "function");
    req.payload = (const unsigned char *)request;
    req.payload_len = len;
    req.log_tail = true;
    if (lambda_invoke(c->client, &req, &out->resp, &le) != 0 && out->resp.status == 0) {
        lambda_error_format(&le, err, sizeof(err));
        fprintf(stderr, "coldsec replay: %s: no answer: %s\n", what, err);
        answer_clear(out);
        return -1;
    }
    if (out->resp.log_result &&
        logtail_decode(out->resp.log_result, strlen(out->resp.log_result), &out->log, &out->log_len) != 0) {
        out->log = NULL;
        out->log_len = 0;
    }
    if (out->log)
        logtail_parse(out->log, out->log_len, &out->report);
    return 0;
}

static void print_answer(const char *what, const replay_answer *a)
{
    printf("  %s: status %ld%s%s", what, a->resp.status, a->resp.function_error ? ", function error " : "",
           a->resp.function_error ? a->resp.function_error : "");
    if (a->report.present)
        printf(", Max Memory Used %d MB%s", a->report.max_memory_used_mb, a->report.has_init ? ", cold" : "");
    putchar('\n');
}

/* The texts of an answer a where list asks to search (all when where is NULL):
 * the payload's (event_response_texts: "payload", an HTTP body "body") and "log". */
static size_t answer_texts(const replay_answer *a, const cJSON *where, event_text *out)
{
    size_t n = 0;
    if (a->resp.body && (!where || replayfile_where_has(where, "payload")))
        n = event_response_texts(a->resp.body, a->resp.body_len, out, EVENT_MAX_TEXTS);
    if (a->log && (!where || replayfile_where_has(where, "log"))) {
        out[n].label = "log";
        out[n].data = malloc(a->log_len + 1);
        if (out[n].data) {
            memcpy(out[n].data, a->log, a->log_len);
            out[n].data[a->log_len] = '\0';
            out[n++].len = a->log_len;
        }
    }
    return n;
}

/* A short printable excerpt of text[0..total) around [at, at+len). With
 * mask, the whole text is masked first (a window could cut a secret in two
 * and leave half of it unmasked) and the excerpt is centred on the span's
 * own marker. */
static void print_excerpt(const char *prefix, const secrets *mask, const char *text, size_t total, size_t at,
                          size_t len)
{
    size_t from, to, mlen = 0, klen = 0;
    char *masked = NULL, *marker = NULL, clean[1024];
    const char *hit;
    if (mask) {
        masked = secrets_mask(mask, text, total, &mlen);
        marker = secrets_mask(mask, text + at, len, &klen);
        if (!masked || !marker) {
            free(masked);
            free(marker);
            return;
        }
        hit = memmem(masked, mlen, marker, klen);
        text = masked;
        total = mlen;
        at = hit ? (size_t)(hit - masked) : 0;
        len = hit ? klen : 0;
    }
    from = at > 60 ? at - 60 : 0;
    to = at + len + 60 < total ? at + len + 60 : total;
    logtail_sanitize(text + from, to - from, clean, sizeof(clean));
    printf("%s%s%s%s\n", prefix, from ? "…" : "", clean, to < total ? "…" : "");
    free(masked);
    free(marker);
}

/* Reads every step's request file; 0, or 2 (a bad finding file) with a message printed. */
static int load_requests(const replayfile *f, const char *path, char **req, size_t *req_len)
{
    for (size_t i = 0; i < replayfile_nsteps(f); i++) {
        const char *file = replayfile_request_path(f, i);
        req[i] = fileio_read(file, MAX_REQUEST, &req_len[i]);
        if (!req[i]) {
            fprintf(stderr, "coldsec replay: %s: steps[%zu].request_file %s: %s\n", path, i, file, strerror(errno));
            return 2;
        }
    }
    return 0;
}

/* canary: the steps in order; reproduced when the canary planted earlier
 * comes back in the seen step's text where it was seen the first time. */
static int check_canary(replay_conn *c, const replayfile *f, const char *path, char **req, const size_t *req_len)
{
    const cJSON *ck = replayfile_check(f);
    const char *canary = get_str(ck, "canary"), *seen_in = get_str(ck, "seen_in");
    size_t seen = replayfile_check_step(f);
    bool reproduced = false;

    /* The seen request carrying the canary itself would make its return an
     * echo of our own request: nothing would be proven. */
    if (req[seen] && memmem(req[seen], req_len[seen], canary, strlen(canary))) {
        fprintf(stderr, "coldsec replay: %s: the seen request itself holds the canary: its return would prove "
                        "nothing\n", path);
        return 2;
    }
    for (size_t i = 0; i <= seen; i++) {
        const cJSON *st = replayfile_step(f, i);
        replay_answer a;
        char what[160];
        step_label(st, i, what, sizeof(what));
        if (send_request(c, f, req[i], req_len[i], what, &a) != 0)
            return 3;
        print_answer(what, &a);
        if (i == seen) {
            event_text tx[EVENT_MAX_TEXTS + 1];
            size_t n = answer_texts(&a, NULL, tx);
            for (size_t t = 0; t < n && !reproduced; t++)
                reproduced = strcmp(tx[t].label, seen_in) == 0 && memmem(tx[t].data, tx[t].len, canary, strlen(canary));
            event_texts_free(tx, n);
        }
        answer_clear(&a);
    }
    if (reproduced)
        printf("REPRODUCED: the canary %s planted before step %zu came back in the %s of step %zu (%s)\n", canary,
               seen + 1, seen_in, seen + 1, get_str(replayfile_doc(f), "title") ? get_str(replayfile_doc(f), "title") : "");
    else
        printf("NOT REPRODUCED: the canary %s planted before step %zu did not come back in the %s of step %zu\n",
               canary, seen + 1, seen_in, seen + 1);
    return reproduced ? 1 : 0;
}

/* pattern: the matching request sent again, at most `sends` times (as many
 * as the run sent until it matched); reproduced when the pattern matches
 * what comes back where the assertion looked. */
static int check_pattern(replay_conn *c, const replayfile *f, const char *path, char **req, const size_t *req_len)
{
    const cJSON *ck = replayfile_check(f), *where = cJSON_GetObjectItemCaseSensitive(ck, "where");
    const char *pattern = get_str(ck, "pattern");
    size_t st = replayfile_check_step(f);
    long sends = replayfile_check_sends(f), sent = 0;
    pcre2_code *re;
    pcre2_match_data *md = NULL;
    int errcode, rc = 3;
    PCRE2_SIZE off;
    bool matched = false;

    re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &errcode, &off, NULL);
    md = re ? pcre2_match_data_create_from_pattern(re, NULL) : NULL;
    if (!re || !md) {
        fprintf(stderr, "coldsec replay: %s: check.pattern: does not compile (at offset %zu)\n", path, (size_t)off);
        rc = 2;
        goto cleanup;
    }
    printf("  sending step %zu's request up to %ld times until /%s/ matches\n", st + 1, sends, pattern);
    while (sent < sends && !matched) {
        replay_answer a;
        event_text tx[EVENT_MAX_TEXTS + 1];
        size_t n;
        char what[64];
        snprintf(what, sizeof(what), "send %ld", sent + 1);
        if (send_request(c, f, req[st], req_len[st], what, &a) != 0)
            goto cleanup;
        sent++;
        print_answer(what, &a);
        n = answer_texts(&a, where, tx);
        for (size_t t = 0; t < n && !matched; t++)
            if (pcre2_match(re, (PCRE2_SPTR)tx[t].data, tx[t].len, 0, 0, md, NULL) >= 0) {
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                char prefix[96];
                matched = true;
                snprintf(prefix, sizeof(prefix), "    matched in the %s: ", tx[t].label);
                print_excerpt(prefix, NULL, tx[t].data, tx[t].len, ov[0], ov[1] - ov[0]);
            }
        event_texts_free(tx, n);
        answer_clear(&a);
    }
    if (matched)
        printf("REPRODUCED: /%s/ matched after %ld send%s of the request (the run: %ld)\n", pattern, sent,
               sent == 1 ? "" : "s", sends);
    else
        printf("NOT REPRODUCED: /%s/ did not match in %ld sends of the request\n", pattern, sent);
    rc = matched ? 1 : 0;
cleanup:
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc;
}

/* The literal and pattern set the run scanned with (engine.c
 * eval_secret_seen): the function's own variables that hold no reference,
 * from its configuration now, when the assertion used them, and the shapes
 * the file names; into mask, every variable and shape (what evidence is
 * masked with). 0, or 3 with a message printed. */
static int secret_sets(replay_conn *c, const replayfile *f, secrets *scan, secrets *mask)
{
    const cJSON *ck = replayfile_check(f), *vars, *v, *e;
    const char *function = get_str(replayfile_target(f), "function");
    cJSON *config = NULL;
    lambda_error le;
    char err[1024];
    int rc = 3;

    if (lambda_get_configuration(c->client, function, NULL, &config, &le) != 0) {
        lambda_error_format(&le, err, sizeof(err));
        fprintf(stderr, "coldsec replay: %s\n", err);
        return 3;
    }
    vars = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(config, "Environment"), "Variables");
    cJSON_ArrayForEach(v, vars) {
        if (!cJSON_IsString(v))
            continue;
        if (secrets_add_literal(mask, v->string, v->valuestring, strlen(v->valuestring)) != 0 ||
            (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ck, "function_variables")) &&
             !secrets_value_is_reference(v->valuestring) &&
             secrets_add_literal(scan, v->string, v->valuestring, strlen(v->valuestring)) != 0)) {
            fprintf(stderr, "coldsec replay: variable %s: cannot be scanned for\n", v->string);
            goto cleanup;
        }
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ck, "shapes")) {
        if (secrets_add_pattern(scan, get_str(e, "id"), get_str(e, "pattern"), err, sizeof(err)) != 0 ||
            secrets_add_pattern(mask, get_str(e, "id"), get_str(e, "pattern"), err, sizeof(err)) != 0) {
            fprintf(stderr, "coldsec replay: check.shapes: %s\n", err);
            rc = 2;
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    cJSON_Delete(config);
    return rc;
}

/* secret: every step sent again in order and its answer scanned as the run
 * did; an exposure reproduces when its kind and name are found again in
 * the same step's text it was found in (any form; an echo of the request
 * does not count). Planted canaries were values the forcer put in the
 * function's environment for the run and took out again: replay changes no
 * configuration, so those are not tested, and a file of nothing else is
 * "could not test" (3). No value is printed: only mask markers. */
static int check_secret(replay_conn *c, const replayfile *f, const char *path, char **req, const size_t *req_len)
{
    const cJSON *ck = replayfile_check(f), *where = cJSON_GetObjectItemCaseSensitive(ck, "where");
    const cJSON *exposed = cJSON_GetObjectItemCaseSensitive(ck, "exposed"), *e;
    secrets *scan = secrets_new(), *mask = secrets_new();
    int nexp = cJSON_GetArraySize(exposed), testable = 0, again = 0, rc = 3;
    bool *seen = calloc((size_t)nexp + 1, sizeof(bool));

    (void)path;
    if (!scan || !mask || !seen)
        goto cleanup;
    cJSON_ArrayForEach(e, exposed)
        testable += strcmp(get_str(e, "kind"), "planted-canary") != 0;
    if (!testable) {
        printf("COULD NOT TEST: every exposure in this finding is a canary the run's cold start planted in the "
               "function's environment; replay changes no configuration, so it cannot plant one again\n");
        goto cleanup;
    }
    if ((rc = secret_sets(c, f, scan, mask)) != 0)
        goto cleanup;
    rc = 3;
    for (size_t i = 0; i < replayfile_nsteps(f); i++) {
        const cJSON *st = replayfile_step(f, i);
        replay_answer a;
        event_text tx[EVENT_MAX_TEXTS + 1];
        size_t n;
        char what[160];
        step_label(st, i, what, sizeof(what));
        if (send_request(c, f, req[i], req_len[i], what, &a) != 0)
            goto cleanup;
        print_answer(what, &a);
        n = answer_texts(&a, where, tx);
        for (size_t t = 0; t < n; t++) {
            secrets_match m[32];
            size_t nm = secrets_scan(scan, tx[t].data, tx[t].len, m, 32);
            if (nm == SECRETS_SCAN_ERROR)
                nm = 0;
            for (size_t k = 0; k < nm && k < 32; k++) {
                const char *kind = strcmp(m[k].kind, "literal") != 0 ? "pattern"
                                   : secrets_name_is_secret(m[k].name) ? "secret-variable" : "variable";
                int x = 0;
                if (req[i] && memmem(req[i], req_len[i], tx[t].data + m[k].offset, m[k].len))
                    continue;   /* the request's own text, echoed */
                cJSON_ArrayForEach(e, exposed) {
                    if (!seen[x] && cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "step")) == (double)i + 1 &&
                        strcmp(get_str(e, "kind"), kind) == 0 && strcmp(get_str(e, "name"), m[k].name) == 0 &&
                        strcmp(get_str(e, "where"), tx[t].label) == 0) {
                        char prefix[300];
                        seen[x] = true;
                        again++;
                        snprintf(prefix, sizeof(prefix), "    seen again: %s %s (%s) in the %s: ", kind, m[k].name,
                                 m[k].form, tx[t].label);
                        print_excerpt(prefix, mask, tx[t].data, tx[t].len, m[k].offset, m[k].len);
                    }
                    x++;
                }
            }
        }
        event_texts_free(tx, n);
        answer_clear(&a);
    }
    {
        int x = 0;
        cJSON_ArrayForEach(e, exposed) {
            bool planted = strcmp(get_str(e, "kind"), "planted-canary") == 0;
            if (!seen[x])
                printf("    %s: %s %s (%s) in the %s of step %.0f\n",
                       planted ? "not tested (a canary the run's cold start planted)" : "not seen again",
                       get_str(e, "kind"), get_str(e, "name"), get_str(e, "form"), get_str(e, "where"),
                       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "step")));
            x++;
        }
    }
    if (again)
        printf("REPRODUCED: %d of the %d exposures replay can test came back (values masked)\n", again, testable);
    else
        printf("NOT REPRODUCED: none of the %d exposures replay can test came back\n", testable);
    rc = again ? 1 : 0;
cleanup:
    secrets_free(scan);
    secrets_free(mask);
    free(seen);
    return rc;
}

/* memory: the series' request sent again on a fresh environment, at most
 * `sends` times (the run's series up to its proof), stopping when an
 * answer runs out of memory; judged by memfit_judge with the run's bounds,
 * as the engine judges. A proven finding reproduces only by running out of
 * memory again; a trend by a trend or better. */
static int check_memory(replay_conn *c, const replayfile *f, char **req, const size_t *req_len)
{
    const cJSON *ck = replayfile_check(f);
    size_t st = replayfile_check_step(f);
    long sends = replayfile_check_sends(f), sent = 0;
    memfit_sample *s = calloc((size_t)sends, sizeof(*s));
    double *x = calloc((size_t)sends, sizeof(double)), *y = calloc((size_t)sends, sizeof(double));
    memfit_bounds b;
    memfit_series res;
    bool proven = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ck, "proven")), reproduced;
    int rc = 3;

    if (!s || !x || !y)
        goto cleanup;
    b.limit_mb = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ck, "memory_size_mb"));
    b.min_points = (size_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ck, "min_points"));
    b.min_r2 = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ck, "min_r2"));
    b.within = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ck, "oom_within"));
    printf("  sending step %zu's request up to %ld times (memory size %.0f MB; a proof needs %zu points rising "
           "%.0f MB or more, then out of memory)\n", st + 1, sends, b.limit_mb, b.min_points, b.limit_mb / 4);
    while (sent < sends) {
        replay_answer a;
        char what[64];
        snprintf(what, sizeof(what), "send %ld", sent + 1);
        if (send_request(c, f, req[st], req_len[st], what, &a) != 0)
            goto cleanup;
        s[sent].oom = memfit_answer_oom(a.resp.function_error, a.resp.body, a.resp.body_len);
        s[sent].reported = a.report.present;
        s[sent].cold = a.report.present && a.report.has_init;
        s[sent].max_mem_mb = a.report.max_memory_used_mb;
        /* The first, every tenth and the last few: the whole series is long. */
        if (sent == 0 || (sent + 1) % 10 == 0 || s[sent].oom || sent + 1 == sends)
            print_answer(what, &a);
        answer_clear(&a);
        if (s[sent++].oom)
            break;
    }
    if (memfit_judge(s, (size_t)sent, &b, x, y, &res) != 0)
        goto cleanup;
    reproduced = res.verdict == MEMFIT_OOM || (!proven && res.verdict == MEMFIT_TREND);
    if (res.verdict == MEMFIT_OOM)
        printf("%s: the environment ran out of memory after %zu warm invocations (Max Memory Used %.0f→%.0f of "
               "%.0f MB)\n", reproduced ? "REPRODUCED" : "NOT REPRODUCED", res.n, y[0], y[res.n - 1], b.limit_mb);
    else if (res.verdict == MEMFIT_TREND)
        printf("%s: Max Memory Used rose %.3f MB per invocation (r²=%.3f over %zu) without running out of memory%s\n",
               reproduced ? "REPRODUCED" : "NOT REPRODUCED", res.fit.slope, res.fit.r2, res.n,
               proven ? " (the run's finding was running out of memory)" : "");
    else
        printf("NOT REPRODUCED: %ld sends, %zu points of one environment: no out of memory after a rising series, "
               "no trend\n", sent, res.n);
    rc = reproduced ? 1 : 0;
cleanup:
    free(s);
    free(x);
    free(y);
    return rc;
}

/* A finding file of `coldsec run`: checked whole, its requests read, then
 * sent where the finding ran and judged by its check's kind. */
static int replay_finding(const char *path, const char *text, size_t len, const char *lab_bin_opt, bool skip_cold)
{
    char err[2048];
    char *req[REPLAYFILE_MAX_STEPS] = {NULL};
    size_t req_len[REPLAYFILE_MAX_STEPS] = {0};
    replayfile *f = replayfile_parse(path, text, len, err, sizeof(err));
    replay_conn c;
    int rc = 2;

    memset(&c, 0, sizeof(c));
    if (!f) {
        fprintf(stderr, "coldsec replay: %s\n", err);
        return 2;
    }
    if ((rc = load_requests(f, path, req, req_len)) != 0)
        goto cleanup;
    if ((rc = conn_open(&c, f, path, lab_bin_opt, skip_cold)) != 0)
        goto cleanup;
    printf("  check: %s (%s)\n", replayfile_kind_name(replayfile_kind_of(f)),
           get_str(replayfile_doc(f), "title") ? get_str(replayfile_doc(f), "title") : "");
    switch (replayfile_kind_of(f)) {
    case REPLAYFILE_CANARY: rc = check_canary(&c, f, path, req, req_len); break;
    case REPLAYFILE_PATTERN: rc = check_pattern(&c, f, path, req, req_len); break;
    case REPLAYFILE_SECRET: rc = check_secret(&c, f, path, req, req_len); break;
    default: rc = check_memory(&c, f, req, req_len); break;
    }
cleanup:
    conn_close(&c);
    for (size_t i = 0; i < REPLAYFILE_MAX_STEPS; i++)
        free(req[i]);
    replayfile_free(f);
    return rc;
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
    const char *lab_bin_opt = NULL, *path;
    bool skip_cold = false;
    char *text = NULL;
    size_t len = 0;
    cJSON *doc = NULL;
    int c, rc = 2;

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
    /* One branch per kind of document. */
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "check")))
        rc = replay_finding(path, text, len, lab_bin_opt, skip_cold);
    else
        fprintf(stderr, "coldsec replay: %s: not a finding file of coldsec (no \"coldsec_replay\": 1 and "
                        "\"check\")\n", path);
cleanup:
    cJSON_Delete(doc);
    free(text);
    return rc;
}
