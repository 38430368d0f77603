/*
 * report — the run's result as JSON, its summary and exit status (see
 * report.h).
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct report {
    pthread_mutex_t lock;
    cJSON *root, *results, *findings;
    char *dir;
    severity fail_on;
    int worst_status;          /* see report_exit_status */
    const suite *s;            /* for the order results are written in */
};

#define ORDER_KEY "_order"     /* the suite's order of a result or finding; dropped when written */

static const char *const status_names[] = {"done", "refused", "untestable", "interrupted", "not-restored"};

static void now_iso(char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

report *report_new(const suite *s, const char *run_id, const char *dir)
{
    report *r = calloc(1, sizeof(*r));
    char when[32];
    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->root = cJSON_CreateObject();
    r->dir = strdup(dir);
    r->fail_on = s->fail_on;
    r->s = s;
    if (!r->root || !r->dir) {
        report_free(r);
        return NULL;
    }
    now_iso(when, sizeof(when));
    cJSON_AddNumberToObject(r->root, "coldsec_report", 1);
    cJSON_AddStringToObject(r->root, "run_id", run_id);
    cJSON_AddStringToObject(r->root, "suite", s->path);
    cJSON_AddNumberToObject(r->root, "seed", (double)s->seed);
    cJSON_AddStringToObject(r->root, "fail_on", severity_name(s->fail_on));
    cJSON_AddStringToObject(r->root, "started", when);
    r->results = cJSON_AddArrayToObject(r->root, "results");
    r->findings = cJSON_AddArrayToObject(r->root, "findings");
    return r;
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

static int exit_of(engine_status st)
{
    switch (st) {
    case ENGINE_REFUSED: return 2;
    case ENGINE_UNTESTABLE:
    case ENGINE_INTERRUPTED: return 3;
    case ENGINE_NOT_RESTORED: return 4;
    default: return 0;
    }
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

void report_add(report *r, const suite_target *t, const char *scenario_id, engine_result *res)
{
    cJSON *o = cJSON_CreateObject(), *f;
    int nf = cJSON_GetArraySize(res->findings);
    bool gate = false;
    double order = order_of(r, t, scenario_id);

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
    cJSON_AddNumberToObject(o, ORDER_KEY, order);
    pthread_mutex_lock(&r->lock);
    cJSON_AddItemToArray(r->results, o);
    while (res->findings && (f = cJSON_DetachItemFromArray(res->findings, 0)) != NULL) {
        cJSON_AddNumberToObject(f, ORDER_KEY, order);
        severity sev = SEVERITY_INFO;
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(f, "severity");
        if (cJSON_IsString(s))
            severity_parse(s->valuestring, &sev);
        gate |= sev >= r->fail_on;
        cJSON_AddItemToArray(r->findings, f);
    }
    raise_status(r, exit_of(res->status));
    if (gate)
        raise_status(r, 1);
    pthread_mutex_unlock(&r->lock);
}

void report_add_error(report *r, const suite_target *t, engine_status st, const char *detail)
{
    engine_result res;
    memset(&res, 0, sizeof(res));
    res.status = st;
    snprintf(res.detail, sizeof(res.detail), "%s", detail);
    report_add(r, t, "*", &res);
}

static int by_order(const void *a, const void *b)
{
    double x = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)a, ORDER_KEY));
    double y = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)b, ORDER_KEY));
    return (x > y) - (x < y);
}

/* Sorts arr by ORDER_KEY (stable: qsort over (order, position)) and drops the key. */
static void sort_by_order(cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    cJSON **items = n > 0 ? calloc((size_t)n, sizeof(cJSON *)) : NULL;
    if (!items)
        return;
    for (int i = 0; i < n; i++) {
        items[i] = cJSON_DetachItemFromArray(arr, 0);
        /* Position breaks ties, so that assertions keep their order. */
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(items[i], ORDER_KEY),
                             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(items[i], ORDER_KEY)) * 1e6 + i);
    }
    qsort((void *)items, (size_t)n, sizeof(cJSON *), by_order);
    for (int i = 0; i < n; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(items[i], ORDER_KEY);
        cJSON_AddItemToArray(arr, items[i]);
    }
    free(items);
}

static void summarize(report *r)
{
    cJSON *sum = cJSON_GetObjectItemCaseSensitive(r->root, "summary"), *by;
    const cJSON *f, *res;
    size_t counts[SEVERITY_CRITICAL + 1] = {0}, gated = 0, total = 0;
    char when[32];

    sort_by_order(r->results);
    sort_by_order(r->findings);
    if (sum)
        cJSON_DeleteItemFromObject(r->root, "summary");
    cJSON_DeleteItemFromObject(r->root, "finished");
    now_iso(when, sizeof(when));
    cJSON_AddStringToObject(r->root, "finished", when);
    sum = cJSON_AddObjectToObject(r->root, "summary");
    cJSON_ArrayForEach(f, r->findings) {
        severity sev = SEVERITY_INFO;
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(f, "severity");
        if (cJSON_IsString(s) && severity_parse(s->valuestring, &sev) == 0) {
            counts[sev]++;
            gated += sev >= r->fail_on;
            total++;
        }
    }
    cJSON_AddNumberToObject(sum, "results", cJSON_GetArraySize(r->results));
    {
        size_t bad = 0;
        cJSON_ArrayForEach(res, r->results) {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(res, "status");
            bad += cJSON_IsString(st) && strcmp(st->valuestring, "passed") != 0 &&
                   strcmp(st->valuestring, "findings") != 0;
        }
        cJSON_AddNumberToObject(sum, "not_completed", (double)bad);
    }
    cJSON_AddNumberToObject(sum, "findings", (double)total);
    cJSON_AddNumberToObject(sum, "findings_at_or_above_gate", (double)gated);
    by = cJSON_AddObjectToObject(sum, "by_severity");
    for (int i = SEVERITY_CRITICAL; i >= SEVERITY_INFO; i--)
        cJSON_AddNumberToObject(by, severity_name((severity)i), (double)counts[i]);
    cJSON_AddNumberToObject(sum, "exit_status", r->worst_status);
}

int report_write(report *r, char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    char *text;
    int fd, rc = -1;
    size_t len;

    pthread_mutex_lock(&r->lock);
    summarize(r);
    text = cJSON_Print(r->root);
    pthread_mutex_unlock(&r->lock);
    if (!text) {
        snprintf(err, errlen, "out of memory writing the report");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/report.json", r->dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
    } else if (close(fd) == 0) {
        fd = -1;
        if (rename(tmp, path) == 0)
            rc = 0;
        else
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    free(text);
    return rc;
}

void report_print(const report *r, FILE *out)
{
    const cJSON *res, *f, *sum;
    report *m = (report *)r;

    pthread_mutex_lock(&m->lock);
    fprintf(out, "\n%-44s %-22s %-12s %s\n", "TARGET", "SCENARIO", "RESULT", "FINDINGS");
    cJSON_ArrayForEach(res, r->results) {
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "target"));
        const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "scenario"));
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "status"));
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "detail"));
        int n = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(res, "findings"));
        fprintf(out, "%-44s %-22s %-12s %d%s%s\n", t ? t : "?", s ? s : "?", st ? st : "?", n, d ? "  " : "",
                d ? d : "");
    }
    fprintf(out, "\nFINDINGS\n");
    cJSON_ArrayForEach(f, r->findings) {
        const char *sev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "severity"));
        const char *cls = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "class"));
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "target"));
        const char *title = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "title"));
        const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "summary"));
        fprintf(out, "  [%-8s] %-22s %s\n             %s\n             %s\n", sev ? sev : "?", cls ? cls : "?",
                t ? t : "?", title ? title : "", s ? s : "");
    }
    sum = cJSON_GetObjectItemCaseSensitive(r->root, "summary");
    if (sum) {
        fprintf(out, "\n%d findings (%d at or above %s), %d results not completed; exit status %d\n",
                (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sum, "findings")),
                (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sum, "findings_at_or_above_gate")),
                severity_name(r->fail_on),
                (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sum, "not_completed")), r->worst_status);
    }
    fprintf(out, "report: %s/report.json\n", r->dir);
    pthread_mutex_unlock(&m->lock);
}

int report_exit_status(const report *r)
{
    return r->worst_status;
}

void report_free(report *r)
{
    if (!r)
        return;
    cJSON_Delete(r->root);
    free(r->dir);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
