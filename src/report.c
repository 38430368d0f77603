/*
 * report — the run's result as one report.json document, from which every
 * format is written; gate, baseline, merge and exit status (see report.h).
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "htmlreport.h"
#include "jsonutil.h"
#include "junit.h"
#include "sarif.h"

struct report {
    pthread_mutex_t lock;
    cJSON *root, *scenarios, *targets, *results, *findings;
    cJSON *baseline;           /* fingerprint → stub of the baseline's findings; NULL without --baseline */
    char *dir;
    severity fail_on;
    int worst_status;          /* see report_exit_status */
    bool decided;              /* finish() ran since the last change: exit status, write and print share it */
    const suite *s;            /* NULL for a loaded report */
};

#define ORDER_KEY "_order"     /* a result's or finding's place in suite order; dropped when sorted */
#define MAX_REPORT_BYTES (512L * 1024 * 1024)

/* By engine_status; not_applicable (requires: not met) is neither a pass
 * nor a failure and leaves the exit status alone. */
static const char *const status_names[] = {"done",        "refused",      "untestable",
                                           "interrupted", "not-restored", "not_applicable"};

void report_now_iso(char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *get_str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static double get_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void set_str(cJSON *o, const char *key, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    cJSON_AddStringToObject(o, key, value);
}

static void set_num(cJSON *o, const char *key, double value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    cJSON_AddNumberToObject(o, key, value);
}

static void set_bool(cJSON *o, const char *key, bool value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    cJSON_AddBoolToObject(o, key, value);
}

static severity severity_of(const cJSON *f)
{
    severity sev = SEVERITY_INFO;
    const char *s = get_str(f, "severity");
    if (s)
        severity_parse(s, &sev);
    return sev;
}

int report_formats_parse(const char *list, unsigned *out, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"json", REPORT_JSON}, {"junit", REPORT_JUNIT}, {"sarif", REPORT_SARIF}, {"html", REPORT_HTML},
                 {"all", REPORT_ALL}};
    unsigned mask = REPORT_JSON;
    const char *p = list;

    while (*p) {
        size_t n = strcspn(p, ","), k;
        for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (strlen(names[k].name) == n && strncmp(p, names[k].name, n) == 0)
                break;
        if (k == sizeof(names) / sizeof(names[0])) {
            snprintf(err, errlen, "--format: \"%.*s\" is not a format (json, junit, sarif, html or all)", (int)n, p);
            return -1;
        }
        mask |= names[k].bit;
        p += n;
        if (*p == ',')
            p++;
    }
    *out = mask;
    return 0;
}

static report *report_alloc(const char *dir)
{
    report *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->dir = strdup(dir);
    r->fail_on = SEVERITY_MEDIUM;
    if (!r->dir) {
        report_free(r);
        return NULL;
    }
    return r;
}

report *report_new(const suite *s, const char *run_id, const char *dir)
{
    report *r = report_alloc(dir);
    cJSON *tool;
    char when[32];
    if (!r)
        return NULL;
    r->fail_on = s->fail_on;
    r->s = s;
    r->root = cJSON_CreateObject();
    if (!r->root) {
        report_free(r);
        return NULL;
    }
    report_now_iso(when, sizeof(when));
    cJSON_AddNumberToObject(r->root, "coldsec_report", REPORT_FORMAT);
    tool = cJSON_AddObjectToObject(r->root, "tool");
    cJSON_AddStringToObject(tool, "name", "coldsec");
    cJSON_AddStringToObject(tool, "version", COLDSEC_VERSION);
    cJSON_AddStringToObject(r->root, "run_id", run_id);
    cJSON_AddStringToObject(r->root, "suite", s->path);
    cJSON_AddNumberToObject(r->root, "seed", (double)s->seed);
    cJSON_AddStringToObject(r->root, "fail_on", severity_name(s->fail_on));
    cJSON_AddStringToObject(r->root, "started", when);
    r->scenarios = cJSON_AddArrayToObject(r->root, "scenarios");
    r->targets = cJSON_AddArrayToObject(r->root, "targets");
    r->results = cJSON_AddArrayToObject(r->root, "results");
    r->findings = cJSON_AddArrayToObject(r->root, "findings");
    if (!r->results || !r->findings || !r->scenarios || !r->targets) {
        report_free(r);
        return NULL;
    }
    return r;
}

void report_set_fail_on(report *r, severity fail_on)
{
    r->fail_on = fail_on;
    r->decided = false;
    set_str(r->root, "fail_on", severity_name(fail_on));
}

void report_set_shard(report *r, int index, int count)
{
    cJSON *sh = cJSON_CreateObject();
    cJSON_AddNumberToObject(sh, "index", index);
    cJSON_AddNumberToObject(sh, "count", count);
    cJSON_DeleteItemFromObjectCaseSensitive(r->root, "shard");
    cJSON_AddItemToObject(r->root, "shard", sh);
}

/* ---------- the document's parts ---------- */

static cJSON *find_by(const cJSON *arr, const char *key, const char *value)
{
    cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        const char *v = get_str(e, key);
        if (v && strcmp(v, value) == 0)
            return e;
    }
    return NULL;
}

/* Paths under the working folder as relative ones: reports travel as CI
 * artifacts, and the machine's folders are nobody's business there. */
static const char *relative(const char *path, char *buf, size_t len)
{
    size_t n;
    if (!path || path[0] != '/' || !getcwd(buf, len))
        return path ? path : "";
    n = strlen(buf);
    if (strncmp(path, buf, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path;
}

static void add_scenario(report *r, const scenario *sc)
{
    cJSON *o, *refs;
    char cwd[4096];
    if (find_by(r->scenarios, "id", sc->id))
        return;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", sc->id);
    cJSON_AddStringToObject(o, "title", sc->title ? sc->title : sc->id);
    cJSON_AddStringToObject(o, "class", sc->cls);
    cJSON_AddStringToObject(o, "severity", severity_name(sc->sev));
    cJSON_AddStringToObject(o, "proves", sc->proves ? sc->proves : "");
    cJSON_AddStringToObject(o, "fix", sc->fix ? sc->fix : "");
    cJSON_AddStringToObject(o, "file", relative(sc->path, cwd, sizeof(cwd)));
    refs = cJSON_AddArrayToObject(o, "references");
    for (size_t i = 0; i < sc->nrefs; i++) {
        const scenario_ref *ref = &sc->refs[i];
        cJSON *x = cJSON_CreateObject();
        if (ref->cwe)
            cJSON_AddStringToObject(x, "cwe", ref->cwe);
        if (ref->seed)
            cJSON_AddStringToObject(x, "seed", ref->seed);
        cJSON_AddStringToObject(x, "title", ref->title ? ref->title : "");
        cJSON_AddItemToArray(refs, x);
    }
    cJSON_AddItemToArray(r->scenarios, o);
}

static void add_target(report *r, const suite_target *t, const char *arn)
{
    cJSON *o = find_by(r->targets, "name", t->name);
    if (o) {
        if (arn && !get_str(o, "arn"))
            cJSON_AddStringToObject(o, "arn", arn);
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", t->name);
    cJSON_AddStringToObject(o, "function", t->function);
    if (arn)
        cJSON_AddStringToObject(o, "arn", arn);
    cJSON_AddStringToObject(o, "where", t->lab ? "lab" : "aws");
    if (!t->lab && t->region)
        cJSON_AddStringToObject(o, "region", t->region);
    if (!t->lab && t->endpoint)
        cJSON_AddStringToObject(o, "endpoint", t->endpoint);
    cJSON_AddNumberToObject(o, "suite_index", (double)(t - r->s->targets));
    cJSON_AddNumberToObject(o, "suite_line", t->line);
    cJSON_AddNumberToObject(o, "suite_column", t->column);
    cJSON_AddItemToArray(r->targets, o);
}

void report_hash(const char *text, char out[33])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, strlen(text), md);
    for (int i = 0; i < 16; i++)
        snprintf(out + (size_t)2 * i, 3, "%02x", md[i]);
}

/* What identifies a finding across runs: the function (its ARN when known)
 * and what was proven (scenario, assertion); nothing that varies per run. */
static void fingerprint(const char *identity, const cJSON *f, int duplicate, char out[33])
{
    char text[2048];
    const char *sc = get_str(f, "scenario"), *as = get_str(f, "assertion");
    if (duplicate > 1)
        snprintf(text, sizeof(text), "%s\n%s\n%s\n#%d", identity, sc ? sc : "", as ? as : "", duplicate);
    else
        snprintf(text, sizeof(text), "%s\n%s\n%s", identity, sc ? sc : "", as ? as : "");
    report_hash(text, out);
}

static void identity_of(const suite_target *t, const char *arn, char *out, size_t len)
{
    if (arn)
        snprintf(out, len, "%s", arn);
    else
        snprintf(out, len, "%s:%s", t->lab ? "lab" : "aws", t->function);
}

/* Targets run in parallel and finish in any order; reports list them in
 * the suite's order: target, then its scenarios, then the assertions. */
static double order_of(const report *r, const suite_target *t, const char *scenario_id)
{
    size_t ti = (size_t)(t - r->s->targets), si = SUITE_MAX_RUNS;
    for (size_t i = 0; i < t->nruns; i++)
        if (strcmp(t->runs[i].sc->id, scenario_id) == 0)
            si = i;
    return (double)(ti * (SUITE_MAX_RUNS + 1) + si);
}

void report_add(report *r, const suite_target *t, const char *arn, const char *scenario_id, engine_result *res)
{
    cJSON *o = cJSON_CreateObject(), *f;
    int nf = cJSON_GetArraySize(res->findings);
    double order = order_of(r, t, scenario_id);
    char identity[1024];

    identity_of(t, arn, identity, sizeof(identity));
    cJSON_AddStringToObject(o, "target", t->name);
    cJSON_AddStringToObject(o, "function", t->function);
    cJSON_AddStringToObject(o, "scenario", scenario_id);
    cJSON_AddStringToObject(o, "status", res->status != ENGINE_DONE ? status_names[res->status]
                                         : nf ? "findings" : "passed");
    if (res->detail[0])
        cJSON_AddStringToObject(o, "detail", res->detail);
    cJSON_AddNumberToObject(o, "findings", nf);
    cJSON_AddNumberToObject(o, "invocations", (double)res->invocations);
    cJSON_AddNumberToObject(o, "ms", round(res->ms));
    if (res->summary) {
        cJSON_AddItemToObject(o, "summary", res->summary);
        res->summary = NULL;
    }
    if (res->timeline) {
        cJSON_AddItemToObject(o, "timeline", res->timeline);
        res->timeline = NULL;
    }
    cJSON_AddNumberToObject(o, ORDER_KEY, order);
    pthread_mutex_lock(&r->lock);
    add_target(r, t, arn);
    for (size_t i = 0; i < t->nruns; i++)
        if (strcmp(t->runs[i].sc->id, scenario_id) == 0)
            add_scenario(r, t->runs[i].sc);
    cJSON_AddItemToArray(r->results, o);
    r->decided = false;
    while (res->findings && (f = cJSON_DetachItemFromArray(res->findings, 0)) != NULL) {
        char fp[33];
        fingerprint(identity, f, 1, fp);
        cJSON_AddStringToObject(f, "fingerprint", fp);
        cJSON_AddNumberToObject(f, ORDER_KEY, order);
        cJSON_AddItemToArray(r->findings, f);
    }
    pthread_mutex_unlock(&r->lock);
}

void report_add_error(report *r, const suite_target *t, engine_status st, const char *detail)
{
    engine_result res;
    memset(&res, 0, sizeof(res));
    res.status = st;
    snprintf(res.detail, sizeof(res.detail), "%s", detail);
    report_add(r, t, NULL, "*", &res);
}

/* ---------- loading and merging ---------- */

static cJSON *read_json(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *buf = fileio_read(path, MAX_REPORT_BYTES, &len);
    cJSON *doc;

    if (!buf) {
        if (errno == EFBIG)
            snprintf(err, errlen, "%s: larger than %ld MiB: not a coldsec report", path, MAX_REPORT_BYTES >> 20);
        else
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    doc = jsonutil_parse_whole(buf, len);
    free(buf);
    if (!doc) {
        snprintf(err, errlen, "%s: not JSON (a report.json of coldsec is)", path);
        return NULL;
    }
    if (!cJSON_IsObject(doc) || get_num(doc, "coldsec_report") != REPORT_FORMAT ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "results")) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "findings")) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "targets")) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "scenarios"))) {
        snprintf(err, errlen, "%s: not a coldsec report of format %d (coldsec_report, results, findings, targets, "
                              "scenarios)", path, REPORT_FORMAT);
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* Moves the items of from[key] that `to` lacks (by id_key) into to[key]. */
static void merge_unique(cJSON *to, cJSON *from, const char *id_key)
{
    cJSON *e;
    while ((e = cJSON_DetachItemFromArray(from, 0)) != NULL) {
        const char *id = get_str(e, id_key);
        if (id && !find_by(to, id_key, id))
            cJSON_AddItemToArray(to, e);
        else
            cJSON_Delete(e);
    }
}

/* A loaded item's place: its target's place in the suite, then where its
 * file had it (each target's runs are all in one file: shards never split
 * a function). */
static void order_loaded(report *r, cJSON *arr, size_t file_index)
{
    cJSON *e;
    int pos = 0;
    cJSON_ArrayForEach(e, arr) {
        const cJSON *t = find_by(r->targets, "name", get_str(e, "target") ? get_str(e, "target") : "");
        double ti = t ? get_num(t, "suite_index") : 1e6;
        cJSON_AddNumberToObject(e, ORDER_KEY, ti * 1e7 + (double)file_index * 1e5 + pos++);
    }
}

int report_load(const char *const *paths, size_t n, const char *run_id, const char *dir, report **out, char *err,
                size_t errlen)
{
    report *r = report_alloc(dir);
    cJSON *merged = NULL;

    *out = NULL;
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        cJSON *doc = read_json(paths[i], err, errlen), *m;
        if (!doc)
            goto fail;
        if (!r->root) {
            r->root = doc;
            r->scenarios = cJSON_GetObjectItemCaseSensitive(doc, "scenarios");
            r->targets = cJSON_GetObjectItemCaseSensitive(doc, "targets");
            r->results = cJSON_GetObjectItemCaseSensitive(doc, "results");
            r->findings = cJSON_GetObjectItemCaseSensitive(doc, "findings");
        } else {
            char *seed_a = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(r->root, "seed"));
            char *seed_b = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(doc, "seed"));
            bool same = seed_a && seed_b && strcmp(seed_a, seed_b) == 0;
            free(seed_a);
            free(seed_b);
            if (!same || strcmp(get_str(doc, "suite") ? get_str(doc, "suite") : "",
                                get_str(r->root, "suite") ? get_str(r->root, "suite") : "") != 0) {
                snprintf(err, errlen, "%s: another suite or seed than %s: only the shards of one run merge", paths[i],
                         paths[0]);
                cJSON_Delete(doc);
                goto fail;
            }
            merge_unique(r->scenarios, cJSON_GetObjectItemCaseSensitive(doc, "scenarios"), "id");
            merge_unique(r->targets, cJSON_GetObjectItemCaseSensitive(doc, "targets"), "name");
        }
        if (n > 1) {
            if (!merged)
                merged = cJSON_CreateArray();
            m = cJSON_CreateObject();
            cJSON_AddStringToObject(m, "run_id", get_str(doc, "run_id") ? get_str(doc, "run_id") : "");
            if (cJSON_GetObjectItemCaseSensitive(doc, "shard"))
                cJSON_AddItemToObject(m, "shard",
                                      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(doc, "shard"), true));
            cJSON_AddItemToArray(merged, m);
        }
        order_loaded(r, doc == r->root ? r->results : cJSON_GetObjectItemCaseSensitive(doc, "results"), i);
        order_loaded(r, doc == r->root ? r->findings : cJSON_GetObjectItemCaseSensitive(doc, "findings"), i);
        if (doc != r->root) {
            cJSON *e;
            while ((e = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(doc, "results"), 0)) != NULL)
                cJSON_AddItemToArray(r->results, e);
            while ((e = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(doc, "findings"), 0)) != NULL)
                cJSON_AddItemToArray(r->findings, e);
            cJSON_Delete(doc);
        }
    }
    if (!r->root) {
        snprintf(err, errlen, "no report.json given");
        goto fail;
    }
    {
        severity sev = SEVERITY_MEDIUM;
        const char *fo = get_str(r->root, "fail_on");
        if (fo)
            severity_parse(fo, &sev);
        r->fail_on = sev;
    }
    set_str(r->root, "run_id", run_id);
    if (merged) {
        cJSON_DeleteItemFromObjectCaseSensitive(r->root, "shard");
        cJSON_DeleteItemFromObjectCaseSensitive(r->root, "merged_from");
        cJSON_AddItemToObject(r->root, "merged_from", merged);
        merged = NULL;
    }
    /* The baseline of a re-rendered report is the one given now, if any. */
    cJSON_DeleteItemFromObjectCaseSensitive(r->root, "baseline");
    *out = r;
    return 0;
fail:
    cJSON_Delete(merged);
    report_free(r);
    return -1;
}

int report_set_baseline(report *r, const char *path, char *err, size_t errlen)
{
    cJSON *doc = read_json(path, err, errlen), *f, *info;
    if (!doc)
        return -1;
    cJSON_Delete(r->baseline);
    r->baseline = cJSON_CreateObject();
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(doc, "findings")) {
        const char *fp = get_str(f, "fingerprint");
        cJSON *stub;
        if (!fp || cJSON_GetObjectItemCaseSensitive(r->baseline, fp))
            continue;
        stub = cJSON_CreateObject();
        cJSON_AddStringToObject(stub, "fingerprint", fp);
        static const char *const keys[] = {"target", "scenario", "assertion", "severity", "title"};
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            cJSON_AddStringToObject(stub, keys[k], get_str(f, keys[k]) ? get_str(f, keys[k]) : "");
        cJSON_AddItemToObject(r->baseline, fp, stub);
    }
    info = cJSON_CreateObject();
    cJSON_AddStringToObject(info, "report", path);
    cJSON_AddStringToObject(info, "run_id", get_str(doc, "run_id") ? get_str(doc, "run_id") : "");
    cJSON_DeleteItemFromObjectCaseSensitive(r->root, "baseline");
    cJSON_AddItemToObject(r->root, "baseline", info);
    cJSON_Delete(doc);
    r->decided = false;
    return 0;
}

/* ---------- deciding ---------- */

static int by_order(const void *a, const void *b)
{
    double x = get_num(*(cJSON *const *)a, ORDER_KEY);
    double y = get_num(*(cJSON *const *)b, ORDER_KEY);
    return (x > y) - (x < y);
}

/* Sorts arr by ORDER_KEY (stable: position breaks ties, so that assertions
 * keep their order) and drops the key. */
static void sort_by_order(cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    cJSON **items = n > 0 ? calloc((size_t)n, sizeof(cJSON *)) : NULL;
    if (!items)
        return;
    for (int i = 0; i < n; i++) {
        items[i] = cJSON_DetachItemFromArray(arr, 0);
        set_num(items[i], ORDER_KEY, get_num(items[i], ORDER_KEY) * 1e6 + i);
    }
    qsort((void *)items, (size_t)n, sizeof(cJSON *), by_order);
    for (int i = 0; i < n; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(items[i], ORDER_KEY);
        cJSON_AddItemToArray(arr, items[i]);
    }
    free(items);
}

/* 0 < 1 (finding) < 3 (untestable) < 2 (refused) < 4 (not restored). */
static int rank(int exit_status)
{
    static const int ranks[] = {0, 1, 3, 2, 4};
    return exit_status >= 0 && exit_status <= 4 ? ranks[exit_status] : 0;
}

static void raise_status(report *r, int exit_status)
{
    if (rank(exit_status) > rank(r->worst_status))
        r->worst_status = exit_status;
}

static int exit_of_status(const char *st)
{
    if (!st || strcmp(st, "passed") == 0 || strcmp(st, "findings") == 0 || strcmp(st, "not_applicable") == 0)
        return 0;
    if (strcmp(st, "refused") == 0)
        return 2;
    if (strcmp(st, "not-restored") == 0)
        return 4;
    return 3;
}

/* Two findings of one assertion on one function (a config check that
 * fires twice) must not share a fingerprint: the later ones get #k. */
static void dedupe_fingerprints(cJSON *findings)
{
    cJSON *f, *g;
    cJSON_ArrayForEach(f, findings) {
        int k = 1;
        const char *fp = get_str(f, "fingerprint");
        if (!fp)
            continue;
        for (g = findings->child; g != f; g = g->next) {
            const char *gp = get_str(g, "fingerprint");
            if (gp && strcmp(gp, fp) == 0)
                k++;
        }
        if (k > 1) {
            char text[64], out[33];
            snprintf(text, sizeof(text), "%s#%d", fp, k);
            report_hash(text, out);
            set_str(f, "fingerprint", out);
        }
    }
}

static bool result_completed(const report *r, const char *target, const char *scenario_id)
{
    const cJSON *res;
    cJSON_ArrayForEach(res, r->results) {
        const char *t = get_str(res, "target"), *s = get_str(res, "scenario"), *st = get_str(res, "status");
        if (t && s && st && strcmp(t, target) == 0 && strcmp(s, scenario_id) == 0)
            return strcmp(st, "passed") == 0 || strcmp(st, "findings") == 0;
    }
    return false;
}

/* targets[] by their place in the suite, scenarios[] as the sorted results
 * first use them: both lists read in the order the results do. */
static void order_parts(report *r)
{
    cJSON *e;
    const cJSON *res;
    int pos = 0;
    cJSON_ArrayForEach(e, r->targets) {
        set_num(e, ORDER_KEY, get_num(e, "suite_index"));
    }
    sort_by_order(r->targets);
    cJSON_ArrayForEach(res, r->results) {
        const char *id = get_str(res, "scenario");
        e = id ? find_by(r->scenarios, "id", id) : NULL;
        if (e && !cJSON_GetObjectItemCaseSensitive(e, ORDER_KEY))
            cJSON_AddNumberToObject(e, ORDER_KEY, pos++);
    }
    cJSON_ArrayForEach(e, r->scenarios) {
        if (!cJSON_GetObjectItemCaseSensitive(e, ORDER_KEY))
            cJSON_AddNumberToObject(e, ORDER_KEY, pos++);
    }
    sort_by_order(r->scenarios);
}

static void finish(report *r)
{
    cJSON *sum, *by, *f, *info;
    const cJSON *res;
    size_t counts[SEVERITY_CRITICAL + 1] = {0}, gated = 0, total = 0, bad = 0, known = 0, fresh = 0, absent = 0,
           untested = 0;
    char when[32];

    if (r->decided)
        return;
    r->decided = true;
    sort_by_order(r->results);
    sort_by_order(r->findings);
    order_parts(r);
    if (r->s) {
        /* A finding's fingerprint was made per target; collisions only show in the whole list. */
        dedupe_fingerprints(r->findings);
        report_now_iso(when, sizeof(when));
        set_str(r->root, "finished", when);
    }
    r->worst_status = 0;
    cJSON_ArrayForEach(res, r->results) {
        int st = exit_of_status(get_str(res, "status"));
        bad += st != 0;
        raise_status(r, st);
    }
    cJSON_ArrayForEach(f, r->findings) {
        severity sev = severity_of(f);
        const char *fp = get_str(f, "fingerprint");
        bool is_known = r->baseline && fp && cJSON_GetObjectItemCaseSensitive(r->baseline, fp);
        bool gate = sev >= r->fail_on && !is_known;
        if (r->baseline) {
            set_str(f, "baseline", is_known ? "known" : "new");
            known += is_known;
            fresh += !is_known;
        } else {
            cJSON_DeleteItemFromObjectCaseSensitive(f, "baseline");
        }
        set_bool(f, "gate", gate);
        counts[sev]++;
        gated += gate;
        total++;
        if (gate)
            raise_status(r, 1);
    }
    info = cJSON_GetObjectItemCaseSensitive(r->root, "baseline");
    if (r->baseline && info) {
        cJSON *list = cJSON_CreateArray(), *stub;
        cJSON_ArrayForEach(stub, r->baseline) {
            const char *t = get_str(stub, "target"), *s = get_str(stub, "scenario");
            if (find_by(r->findings, "fingerprint", stub->string))
                continue;
            /* Only a pair this run tested to the end can say the finding is gone. */
            if (t && s && result_completed(r, t, s)) {
                cJSON_AddItemToArray(list, cJSON_Duplicate(stub, true));
                absent++;
            } else {
                untested++;
            }
        }
        set_num(info, "known", (double)known);
        cJSON_DeleteItemFromObjectCaseSensitive(info, "absent");
        cJSON_AddItemToObject(info, "absent", list);
        set_num(info, "not_retested", (double)untested);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(r->root, "summary");
    sum = cJSON_AddObjectToObject(r->root, "summary");
    cJSON_AddNumberToObject(sum, "results", cJSON_GetArraySize(r->results));
    cJSON_AddNumberToObject(sum, "not_completed", (double)bad);
    cJSON_AddNumberToObject(sum, "findings", (double)total);
    cJSON_AddNumberToObject(sum, "findings_at_or_above_gate", (double)gated);
    if (r->baseline) {
        cJSON_AddNumberToObject(sum, "new_findings", (double)fresh);
        cJSON_AddNumberToObject(sum, "known_findings", (double)known);
        cJSON_AddNumberToObject(sum, "absent_findings", (double)absent);
    }
    by = cJSON_AddObjectToObject(sum, "by_severity");
    for (int i = SEVERITY_CRITICAL; i >= SEVERITY_INFO; i--)
        cJSON_AddNumberToObject(by, severity_name((severity)i), (double)counts[i]);
    cJSON_AddNumberToObject(sum, "exit_status", r->worst_status);
}

/* ---------- writing ---------- */

typedef int (*format_writer)(const cJSON *report, FILE *out, char *err, size_t errlen);

static int write_json(const cJSON *doc, FILE *out, char *err, size_t errlen)
{
    char *text = cJSON_Print(doc);
    int rc = 0;
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (fputs(text, out) == EOF || fputc('\n', out) == EOF) {
        snprintf(err, errlen, "%s", strerror(errno));
        rc = -1;
    }
    free(text);
    return rc;
}

/* DIR/name through a 0600 temporary, fsync'd and renamed: a reader never
 * sees half a report, and evidence is the user's alone. */
static int write_file(const char *dir, const char *name, format_writer fn, const cJSON *doc, char *err,
                      size_t errlen)
{
    char path[4096], tmp[4200], why[1024] = "";
    int fd, rc = -1;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    fp = fdopen(fd, "w");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (fn(doc, fp, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        fclose(fp);
        goto cleanup;
    }
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        fclose(fp);
        goto cleanup;
    }
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int report_write(report *r, unsigned formats, char *err, size_t errlen)
{
    static const struct {
        unsigned bit;
        const char *name;
        format_writer fn;
    } files[] = {{REPORT_JSON, "report.json", write_json},
                 {REPORT_JUNIT, "junit.xml", junit_write},
                 {REPORT_SARIF, "results.sarif", sarif_write},
                 {REPORT_HTML, "report.html", htmlreport_write}};
    int rc = 0;
    char why[8192];

    pthread_mutex_lock(&r->lock);
    finish(r);
    if (mkdir(r->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", r->dir, strerror(errno));
        pthread_mutex_unlock(&r->lock);
        return -1;
    }
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (!((formats | REPORT_JSON) & files[i].bit))
            continue;
        if (write_file(r->dir, files[i].name, files[i].fn, r->root, why, sizeof(why)) != 0 && rc == 0) {
            snprintf(err, errlen, "%s", why);
            rc = -1;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

/* ---------- people ---------- */

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"

static const char *severity_color(const char *sev)
{
    if (!sev)
        return "";
    if (strcmp(sev, "critical") == 0)
        return "\033[1;35m";
    if (strcmp(sev, "high") == 0)
        return "\033[1;31m";
    if (strcmp(sev, "medium") == 0)
        return "\033[33m";
    if (strcmp(sev, "low") == 0)
        return "\033[36m";
    return "\033[2m";
}

static const char *status_color(const char *st)
{
    if (!st)
        return "";
    if (strcmp(st, "passed") == 0)
        return "\033[32m";
    if (strcmp(st, "findings") == 0)
        return "\033[31m";
    if (strcmp(st, "not_applicable") == 0)
        return "\033[2m";
    return "\033[1;35m";
}

/* Columns as wide as their longest cell (up to a cap), so that the table
 * reads in a terminal and in a CI log alike. */
static int width_of(const cJSON *arr, const char *key, int min, int cap)
{
    const cJSON *e;
    int w = min;
    cJSON_ArrayForEach(e, arr) {
        const char *v = get_str(e, key);
        if (v && (int)strlen(v) > w)
            w = (int)strlen(v);
    }
    return w > cap ? cap : w;
}

void report_print(report *r, FILE *out, bool color)
{
    const cJSON *res, *f, *sum, *info;
    int wt, ws;
    const char *reset = color ? C_RESET : "", *bold = color ? C_BOLD : "";

    pthread_mutex_lock(&r->lock);
    finish(r);
    wt = width_of(r->results, "target", 6, 48);
    ws = width_of(r->results, "scenario", 8, 28);
    fprintf(out, "\n%s%-*s  %-*s  %-14s  %8s  %11s  %8s%s\n", bold, wt, "TARGET", ws, "SCENARIO", "RESULT", "FINDINGS",
            "INVOCATIONS", "TIME", reset);
    cJSON_ArrayForEach(res, r->results) {
        const char *t = get_str(res, "target"), *s = get_str(res, "scenario"), *st = get_str(res, "status");
        /* Why it did not complete, else what did not run (a denied permission). */
        const char *d = get_str(res, "detail") ? get_str(res, "detail")
                                               : get_str(cJSON_GetObjectItemCaseSensitive(res, "summary"), "note");
        fprintf(out, "%-*.*s  %-*.*s  %s%-14s%s  %8d  %11d  %7.1fs%s%s\n", wt, wt, t ? t : "?", ws, ws, s ? s : "?",
                color ? status_color(st) : "", st ? st : "?", reset, (int)get_num(res, "findings"),
                (int)get_num(res, "invocations"), get_num(res, "ms") / 1000.0, d ? "  " : "", d ? d : "");
    }
    if (cJSON_GetArraySize(r->findings) > 0)
        fprintf(out, "\n%sFINDINGS%s\n", bold, reset);
    cJSON_ArrayForEach(f, r->findings) {
        const char *sev = get_str(f, "severity"), *base = get_str(f, "baseline");
        const char *title = get_str(f, "title"), *s = get_str(f, "summary");
        fprintf(out, "  %s[%-8s]%s %-22s %s%s\n             %s\n             %s\n", color ? severity_color(sev) : "",
                sev ? sev : "?", reset, get_str(f, "class") ? get_str(f, "class") : "?",
                get_str(f, "target") ? get_str(f, "target") : "?",
                base && strcmp(base, "known") == 0 ? "  (known from the baseline: not gated)" : "", title ? title : "",
                s ? s : "");
    }
    info = cJSON_GetObjectItemCaseSensitive(r->root, "baseline");
    if (info) {
        const cJSON *stub;
        cJSON_ArrayForEach(stub, cJSON_GetObjectItemCaseSensitive(info, "absent")) {
            fprintf(out, "  [absent  ] %s %s %s: in the baseline, not seen again\n", get_str(stub, "target"),
                    get_str(stub, "scenario"), get_str(stub, "assertion"));
        }
    }
    sum = cJSON_GetObjectItemCaseSensitive(r->root, "summary");
    fprintf(out, "\n%s%d findings (%d at or above %s", bold, (int)get_num(sum, "findings"),
            (int)get_num(sum, "findings_at_or_above_gate"), severity_name(r->fail_on));
    if (info)
        fprintf(out, "; %d new, %d known, %d absent", (int)get_num(sum, "new_findings"),
                (int)get_num(sum, "known_findings"), (int)get_num(sum, "absent_findings"));
    fprintf(out, "), %d of %d results not completed; exit status %d%s\n", (int)get_num(sum, "not_completed"),
            (int)get_num(sum, "results"), r->worst_status, reset);
    fprintf(out, "report: %s/\n", r->dir);
    pthread_mutex_unlock(&r->lock);
}

int report_exit_status(report *r)
{
    int st;
    pthread_mutex_lock(&r->lock);
    finish(r);
    st = r->worst_status;
    pthread_mutex_unlock(&r->lock);
    return st;
}

bool report_color_allowed(int fd)
{
    const char *nc = getenv("NO_COLOR");
    return isatty(fd) && !(nc && *nc);
}

const char *report_dir(const report *r)
{
    return r->dir;
}

void report_free(report *r)
{
    if (!r)
        return;
    cJSON_Delete(r->root);
    cJSON_Delete(r->baseline);
    free(r->dir);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
