/*
 * Unit tests for report: --format parsing; loading report.json files and
 * refusing what is not one; the exit status ranking (4 > 2 > 3 > 1 > 0)
 * decided from a loaded document; the gate moving with --fail-on; merging
 * shards back into suite order; and the baseline's known, new, absent and
 * not-retested findings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

#define RUN_ID "20261123T000000Z-abcdef"

static void formats(void **state)
{
    unsigned m = 0;
    char err[256];
    (void)state;
    assert_int_equal(report_formats_parse("json", &m, err, sizeof(err)), 0);
    assert_int_equal(m, REPORT_JSON);
    assert_int_equal(report_formats_parse("sarif,junit", &m, err, sizeof(err)), 0);
    assert_int_equal(m, REPORT_JSON | REPORT_SARIF | REPORT_JUNIT);
    assert_int_equal(report_formats_parse("all", &m, err, sizeof(err)), 0);
    assert_int_equal(m, REPORT_ALL);
    assert_int_equal(report_formats_parse("html,pdf", &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "\"pdf\" is not a format"));
    assert_int_equal(report_formats_parse("json,,html", &m, err, sizeof(err)), -1);
    assert_int_equal(report_formats_parse("JSON", &m, err, sizeof(err)), -1);
}

/* A temporary report.json with these results (target, scenario, status)
 * and findings (target, scenario, assertion, severity, fingerprint char). */
typedef struct row {
    const char *target, *scenario, *status;
} row;
typedef struct frow {
    const char *target, *scenario, *assertion, *severity;
    char fp;
} frow;

static char *write_report(const char *suite_path, const row *rows, size_t nrows, const frow *frows, size_t nf,
                          const char *const *targets, size_t ntargets)
{
    char *path = strdup("/tmp/coldsec-test-report-XXXXXX");
    cJSON *doc = cJSON_CreateObject(), *arr;
    char *text;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    cJSON_AddNumberToObject(doc, "coldsec_report", 1);
    cJSON_AddStringToObject(doc, "run_id", "20261122T000000Z-000001");
    cJSON_AddStringToObject(doc, "suite", suite_path);
    cJSON_AddNumberToObject(doc, "seed", 7);
    cJSON_AddStringToObject(doc, "fail_on", "medium");
    cJSON_AddArrayToObject(doc, "scenarios");
    arr = cJSON_AddArrayToObject(doc, "targets");
    for (size_t i = 0; i < ntargets; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", targets[i]);
        /* suite order: the index is the name's last digit */
        cJSON_AddNumberToObject(t, "suite_index", targets[i][strlen(targets[i]) - 1] - '0');
        cJSON_AddItemToArray(arr, t);
    }
    arr = cJSON_AddArrayToObject(doc, "results");
    for (size_t i = 0; i < nrows; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "target", rows[i].target);
        cJSON_AddStringToObject(o, "scenario", rows[i].scenario);
        cJSON_AddStringToObject(o, "status", rows[i].status);
        cJSON_AddItemToArray(arr, o);
    }
    arr = cJSON_AddArrayToObject(doc, "findings");
    for (size_t i = 0; i < nf; i++) {
        cJSON *o = cJSON_CreateObject();
        char fp[33];
        memset(fp, frows[i].fp, 32);
        fp[32] = '\0';
        cJSON_AddStringToObject(o, "fingerprint", fp);
        cJSON_AddStringToObject(o, "target", frows[i].target);
        cJSON_AddStringToObject(o, "scenario", frows[i].scenario);
        cJSON_AddStringToObject(o, "assertion", frows[i].assertion);
        cJSON_AddStringToObject(o, "severity", frows[i].severity);
        cJSON_AddStringToObject(o, "title", "t");
        cJSON_AddItemToArray(arr, o);
    }
    text = cJSON_Print(doc);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    free(text);
    cJSON_Delete(doc);
    return path;
}

static const char *const T2[] = {"t1", "t2"};

static int exit_of(const row *rows, size_t n)
{
    char *path = write_report("s.yaml", rows, n, NULL, 0, T2, 2);
    const char *paths[] = {path};
    report *r = NULL;
    char err[512];
    int st;
    assert_int_equal(report_load(paths, 1, RUN_ID, "/tmp/unused", &r, err, sizeof(err)), 0);
    st = report_exit_status(r);
    report_free(r);
    unlink(path);
    free(path);
    return st;
}

static void exit_status_ranking(void **state)
{
    (void)state;
    assert_int_equal(exit_of((row[]){{"t1", "a", "passed"}, {"t2", "a", "findings"}}, 2), 0);
    assert_int_equal(exit_of((row[]){{"t1", "a", "passed"}, {"t2", "a", "untestable"}}, 2), 3);
    assert_int_equal(exit_of((row[]){{"t1", "a", "interrupted"}, {"t2", "a", "refused"}}, 2), 2);
    assert_int_equal(exit_of((row[]){{"t1", "a", "refused"}, {"t2", "a", "not-restored"}}, 2), 4);
    assert_int_equal(exit_of((row[]){{"t1", "a", "not-restored"}, {"t2", "a", "untestable"}}, 2), 4);
}

static void gate_follows_fail_on(void **state)
{
    static const row rows[] = {{"t1", "a", "findings"}};
    static const frow fr[] = {{"t1", "a", "x", "low", 'a'}, {"t1", "a", "y", "high", 'b'}};
    char *path = write_report("s.yaml", rows, 1, fr, 2, T2, 2);
    const char *paths[] = {path};
    report *r = NULL;
    char err[512];
    (void)state;
    assert_int_equal(report_load(paths, 1, RUN_ID, "/tmp/unused", &r, err, sizeof(err)), 0);
    assert_int_equal(report_exit_status(r), 1);
    report_set_fail_on(r, SEVERITY_CRITICAL);
    assert_int_equal(report_exit_status(r), 0);
    report_set_fail_on(r, SEVERITY_LOW);
    assert_int_equal(report_exit_status(r), 1);
    report_free(r);
    unlink(path);
    free(path);
}

static void refuses_what_is_not_a_report(void **state)
{
    static const char *const bodies[] = {"", "{}", "[]", "{\"coldsec_report\": 2, \"results\": [], \"findings\": []}",
                                         "{\"coldsec_report\": 1, \"results\": {}, \"findings\": [], \"targets\": [], "
                                         "\"scenarios\": []}",
                                         "{\"coldsec_report\": 1} trailing"};
    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        char path[] = "/tmp/coldsec-test-bad-XXXXXX", err[512] = "";
        const char *paths[] = {path};
        report *r = NULL;
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, bodies[i], strlen(bodies[i])), (ssize_t)strlen(bodies[i]));
        close(fd);
        assert_int_equal(report_load(paths, 1, RUN_ID, "/tmp/unused", &r, err, sizeof(err)), -1);
        assert_null(r);
        assert_memory_equal(err, path, strlen(path));
        unlink(path);
    }
    {
        const char *paths[] = {"/nonexistent/report.json"};
        report *r = NULL;
        char err[512];
        assert_int_equal(report_load(paths, 1, RUN_ID, "/tmp/unused", &r, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "/nonexistent/report.json: "));
    }
}

/* Loads, finishes and writes report.json into a fresh folder; returns the parsed document. */
static cJSON *written(report *r, const char *dir)
{
    char err[8192], path[512], *text;
    FILE *fp;
    long len;
    cJSON *doc;
    assert_int_equal(report_write(r, REPORT_JSON, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/report.json", dir);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    text = calloc(1, (size_t)len + 1);
    assert_int_equal(fread(text, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    doc = cJSON_Parse(text);
    free(text);
    unlink(path);
    rmdir(dir);
    return doc;
}

static void merge_puts_shards_back_in_suite_order(void **state)
{
    static const char *const ta[] = {"t3", "t0"}, *const tb[] = {"t2", "t1"};
    static const row ra[] = {{"t3", "a", "passed"}, {"t0", "a", "findings"}, {"t0", "b", "passed"}};
    static const row rb[] = {{"t2", "a", "untestable"}, {"t1", "a", "passed"}};
    static const frow fa[] = {{"t0", "a", "x", "high", 'a'}};
    char *a = write_report("s.yaml", ra, 3, fa, 1, ta, 2), *b = write_report("s.yaml", rb, 2, NULL, 0, tb, 2);
    char *c = write_report("other.yaml", rb, 2, NULL, 0, tb, 2);
    const char *paths[] = {a, b}, *bad[] = {a, c};
    char dir[] = "/tmp/coldsec-test-merge-XXXXXX", err[512];
    report *r = NULL;
    cJSON *doc, *e;
    const char *want[] = {"t0", "t0", "t1", "t2", "t3"}, *wantt[] = {"t0", "t1", "t2", "t3"};
    size_t i = 0;
    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(report_load(bad, 2, RUN_ID, dir, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "only the shards of one run merge"));
    assert_int_equal(report_load(paths, 2, RUN_ID, dir, &r, err, sizeof(err)), 0);
    assert_int_equal(report_exit_status(r), 3);
    doc = written(r, dir);
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "results"))
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(e, "target")), want[i++]);
    assert_int_equal(i, 5);
    i = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "targets"))
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(e, "name")), wantt[i++]);
    assert_int_equal(i, 4);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "merged_from")), 2);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "run_id")), RUN_ID);
    cJSON_Delete(doc);
    report_free(r);
    unlink(a);
    unlink(b);
    unlink(c);
    free(a);
    free(b);
    free(c);
}

static void baseline_known_new_absent(void **state)
{
    static const row rows[] = {{"t1", "a", "findings"}, {"t2", "a", "untestable"}};
    static const frow now[] = {{"t1", "a", "x", "high", 'a'}, {"t1", "a", "y", "high", 'b'}};
    /* 'a' is known; 'c' was on a pair tested again (absent); 'd' on one not completed (not retested). */
    static const frow then[] = {{"t1", "a", "x", "high", 'a'}, {"t1", "a", "z", "high", 'c'},
                                {"t2", "a", "x", "high", 'd'}};
    char *cur = write_report("s.yaml", rows, 2, now, 2, T2, 2), *old = write_report("s.yaml", rows, 2, then, 3, T2, 2);
    const char *paths[] = {cur};
    char dir[] = "/tmp/coldsec-test-base-XXXXXX", err[512];
    report *r = NULL;
    cJSON *doc, *f, *base, *sum;
    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(report_load(paths, 1, RUN_ID, dir, &r, err, sizeof(err)), 0);
    assert_int_equal(report_set_baseline(r, "/nonexistent/old.json", err, sizeof(err)), -1);
    assert_int_equal(report_set_baseline(r, old, err, sizeof(err)), 0);
    assert_int_equal(report_exit_status(r), 3);  /* untestable outranks the one new finding */
    doc = written(r, dir);
    f = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "findings"), 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(f, "baseline")), "known");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(f, "gate")));
    f = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "findings"), 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(f, "baseline")), "new");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(f, "gate")));
    base = cJSON_GetObjectItem(doc, "baseline");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(base, "absent")), 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            cJSON_GetArrayItem(cJSON_GetObjectItem(base, "absent"), 0), "assertion")),
                        "z");
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(base, "not_retested")), 1);
    sum = cJSON_GetObjectItem(doc, "summary");
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(sum, "new_findings")), 1);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(sum, "known_findings")), 1);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(sum, "findings_at_or_above_gate")), 1);
    cJSON_Delete(doc);
    report_free(r);
    unlink(cur);
    unlink(old);
    free(cur);
    free(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats),
        cmocka_unit_test(exit_status_ranking),
        cmocka_unit_test(gate_follows_fail_on),
        cmocka_unit_test(refuses_what_is_not_a_report),
        cmocka_unit_test(merge_puts_shards_back_in_suite_order),
        cmocka_unit_test(baseline_known_new_absent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
