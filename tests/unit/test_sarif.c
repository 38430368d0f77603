/*
 * Unit tests for sarif: the sample report's log read back with cJSON (a
 * rule per scenario, ruleIndex, levels, fingerprints, locations), baseline
 * states and a shard's automation id, notifications for results that were
 * not tested to the end, a report without findings, suite paths, hostile
 * text (tests/fixtures/sarif-hostile.json), malformed reports (-1, nothing
 * written), and Microsoft's validator on the fixtures' logs
 * (tests/tools/validate_sarif.sh: no error, no warning).
 *
 * Run from the repository root (tests/run.sh does), where the fixtures are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonutil.h"
#include "sarif.h"
#include "utf8.h"
#include "fixture.h"

#define SAMPLE "tests/fixtures/report-sample.json"
#define HOSTILE "tests/fixtures/sarif-hostile.json"
#define NO_FINDINGS "tests/fixtures/sarif-no-findings.json"
#define VALIDATE "tests/tools/validate_sarif.sh"

/* Renders report; with want_ok, parses the log back (caller frees). */
static cJSON *render(const cJSON *report, int want_rc, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cJSON *log = NULL;
    int rc;

    assert_non_null(out);
    err[0] = '\0';
    rc = sarif_write(report, out, err, errlen);
    assert_int_equal(fclose(out), 0);
    if (rc != want_rc)
        fail_msg("sarif_write returned %d (err: %s), want %d", rc, err, want_rc);
    if (want_rc == 0) {
        log = jsonutil_parse_whole(text, len);
        assert_non_null(log);
    } else {
        assert_true(strlen(err) > 0);
        assert_int_equal(len, 0); /* a malformed report writes nothing */
    }
    free(text);
    return log;
}

static cJSON *render_ok(const cJSON *report)
{
    char err[512];

    return render(report, 0, err, sizeof(err));
}

static const cJSON *at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!v)
        fail_msg("no \"%s\"", key);
    return v;
}

static const char *str(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(at(o, key));

    if (!s)
        fail_msg("\"%s\" is not a string", key);
    return s;
}

static const cJSON *run_of(const cJSON *log)
{
    assert_int_equal(cJSON_GetArraySize(at(log, "runs")), 1);
    return cJSON_GetArrayItem(at(log, "runs"), 0);
}

static const char *level_of(const char *severity)
{
    if (strcmp(severity, "critical") == 0 || strcmp(severity, "high") == 0)
        return "error";
    return strcmp(severity, "medium") == 0 ? "warning" : "note";
}

static const cJSON *target_named(const cJSON *report, const char *name)
{
    const cJSON *t;

    cJSON_ArrayForEach(t, at(report, "targets")) {
        if (strcmp(str(t, "name"), name) == 0)
            return t;
    }
    fail_msg("no target %s", name);
    return NULL;
}

static bool ends_with_period(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && s[n - 1] == '.';
}

static bool has_string(const cJSON *arr, const char *s)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, arr) {
        if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0)
            return true;
    }
    return false;
}

static void test_sample(void **state)
{
    cJSON *report = fixture_load(SAMPLE), *log;
    const cJSON *run, *driver, *rules, *results, *sc, *f, *inv;
    int i = 0;

    (void)state;
    log = render_ok(report);
    assert_string_equal(str(log, "version"), "2.1.0");
    assert_string_equal(str(log, "$schema"), "https://json.schemastore.org/sarif-2.1.0.json");
    run = run_of(log);
    driver = at(at(run, "tool"), "driver");
    assert_string_equal(str(driver, "name"), "coldsec");
    assert_string_equal(str(driver, "version"), "0.5.0");
    assert_string_equal(str(driver, "semanticVersion"), "0.5.0");
    assert_string_equal(str(driver, "informationUri"), "https://github.com/coldsec/coldsec");
    assert_string_equal(str(at(run, "automationDetails"), "id"), "coldsec/scenarios/");

    /* One rule per scenario, in order. */
    rules = at(driver, "rules");
    assert_int_equal(cJSON_GetArraySize(rules), cJSON_GetArraySize(at(report, "scenarios")));
    cJSON_ArrayForEach(sc, at(report, "scenarios")) {
        const cJSON *rule = cJSON_GetArrayItem(rules, i++), *props = at(rule, "properties");
        char uri[512];

        assert_string_equal(str(rule, "id"), str(sc, "id"));
        assert_string_not_equal(str(rule, "name"), str(rule, "id"));
        assert_true(ends_with_period(str(at(rule, "shortDescription"), "text")));
        assert_non_null(strstr(str(at(rule, "fullDescription"), "text"), str(sc, "proves")));
        assert_non_null(strstr(str(at(rule, "help"), "text"), "https://cwe.mitre.org/data/definitions/94.html"));
        assert_non_null(strstr(str(at(rule, "help"), "markdown"), "[CWE-94](https://cwe.mitre.org/data/definitions/94.html)"));
        assert_non_null(strstr(str(at(rule, "help"), "text"), "Seed article 002"));
        snprintf(uri, sizeof(uri), "https://github.com/coldsec/coldsec/blob/main/docs/scenarios/%s.md", str(sc, "id"));
        assert_string_equal(str(rule, "helpUri"), uri);
        assert_string_equal(str(at(rule, "defaultConfiguration"), "level"), level_of(str(sc, "severity")));
        assert_string_equal(str(props, "security-severity"), "8.0");
        assert_string_equal(str(props, "precision"), "high");
        assert_true(has_string(at(props, "tags"), "security"));
        assert_true(has_string(at(props, "tags"), "external/cwe/cwe-94"));
    }
    assert_string_equal(str(cJSON_GetArrayItem(rules, 0), "name"), "InjectionPersistence");
    /* The findings' own CWEs join the scenario's. */
    assert_true(has_string(at(at(cJSON_GetArrayItem(rules, 0), "properties"), "tags"), "external/cwe/cwe-502"));

    /* One result per finding. */
    results = at(run, "results");
    assert_int_equal(cJSON_GetArraySize(results), cJSON_GetArraySize(at(report, "findings")));
    i = 0;
    cJSON_ArrayForEach(f, at(report, "findings")) {
        const cJSON *res = cJSON_GetArrayItem(results, i++), *loc, *phys, *region, *logical, *target, *ev;
        char fqn[512];

        assert_string_equal(str(res, "ruleId"), str(f, "scenario"));
        assert_string_equal(str(cJSON_GetArrayItem(rules, at(res, "ruleIndex")->valueint), "id"), str(res, "ruleId"));
        assert_string_equal(str(res, "level"), level_of(str(f, "severity")));
        assert_string_equal(str(at(res, "partialFingerprints"), "coldsecFinding/v1"), str(f, "fingerprint"));
        assert_null(cJSON_GetObjectItemCaseSensitive(res, "baselineState"));
        assert_true(ends_with_period(str(at(res, "message"), "text")));
        assert_non_null(strstr(str(at(res, "message"), "text"), str(f, "summary")));

        assert_int_equal(cJSON_GetArraySize(at(res, "locations")), 1);
        loc = cJSON_GetArrayItem(at(res, "locations"), 0);
        phys = at(loc, "physicalLocation");
        assert_string_equal(str(at(phys, "artifactLocation"), "uri"), "scenarios.yaml");
        assert_string_equal(str(at(phys, "artifactLocation"), "uriBaseId"), "%SRCROOT%");
        target = target_named(report, str(f, "target"));
        region = at(phys, "region");
        assert_int_equal(at(region, "startLine")->valueint, at(target, "suite_line")->valueint);
        assert_int_equal(at(region, "startColumn")->valueint, at(target, "suite_column")->valueint);
        logical = cJSON_GetArrayItem(at(loc, "logicalLocations"), 0);
        assert_string_equal(str(logical, "name"), str(f, "function"));
        snprintf(fqn, sizeof(fqn), "lab:%s", str(f, "function"));
        assert_string_equal(str(logical, "fullyQualifiedName"), fqn);
        assert_string_equal(str(logical, "kind"), "function");

        assert_string_equal(str(at(res, "properties"), "assertion"), str(f, "assertion"));
        ev = at(at(res, "properties"), "evidence");
        assert_null(cJSON_GetObjectItemCaseSensitive(ev, "examples"));
        if (cJSON_GetObjectItemCaseSensitive(at(f, "evidence"), "reproduce"))
            assert_int_equal(cJSON_GetArraySize(at(ev, "reproduce")),
                             cJSON_GetArraySize(at(at(f, "evidence"), "reproduce")));
    }

    inv = cJSON_GetArrayItem(at(run, "invocations"), 0);
    assert_true(cJSON_IsTrue(at(inv, "executionSuccessful")));
    assert_string_equal(str(inv, "startTimeUtc"), str(report, "started"));
    assert_string_equal(str(inv, "endTimeUtc"), str(report, "finished"));
    assert_int_equal(at(inv, "exitCode")->valueint, 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(inv, "toolExecutionNotifications"));
    cJSON_Delete(log);
    cJSON_Delete(report);
}

static void test_baseline_and_shard(void **state)
{
    cJSON *report = fixture_load(SAMPLE), *log, *shard = cJSON_CreateObject();
    const cJSON *results;

    (void)state;
    cJSON_AddNumberToObject(shard, "index", 2);
    cJSON_AddNumberToObject(shard, "count", 3);
    cJSON_AddItemToObject(report, "shard", shard);
    cJSON_AddStringToObject(cJSON_GetArrayItem(at(report, "findings"), 0), "baseline", "new");
    cJSON_AddStringToObject(cJSON_GetArrayItem(at(report, "findings"), 1), "baseline", "known");
    log = render_ok(report);
    assert_string_equal(str(at(run_of(log), "automationDetails"), "id"), "coldsec/scenarios/shard-2-of-3/");
    results = at(run_of(log), "results");
    assert_string_equal(str(cJSON_GetArrayItem(results, 0), "baselineState"), "new");
    assert_string_equal(str(cJSON_GetArrayItem(results, 1), "baselineState"), "unchanged");
    assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(results, 2), "baselineState"));
    cJSON_Delete(log);
    cJSON_Delete(report);
}

static void test_notifications(void **state)
{
    cJSON *report = fixture_load(SAMPLE), *log, *r0, *r1;
    const cJSON *inv, *notes, *n0, *n1;

    (void)state;
    r0 = cJSON_GetArrayItem(at(report, "results"), 0);
    cJSON_ReplaceItemInObjectCaseSensitive(r0, "status", cJSON_CreateString("untestable"));
    cJSON_AddStringToObject(r0, "detail", "no REPORT line in the log tail");
    r1 = cJSON_GetArrayItem(at(report, "results"), 2);
    cJSON_ReplaceItemInObjectCaseSensitive(r1, "status", cJSON_CreateString("refused"));
    cJSON_ReplaceItemInObjectCaseSensitive(r1, "scenario", cJSON_CreateString("*"));
    cJSON_AddStringToObject(r1, "detail", "function not found");
    log = render_ok(report);
    inv = cJSON_GetArrayItem(at(run_of(log), "invocations"), 0);
    assert_true(cJSON_IsFalse(at(inv, "executionSuccessful")));
    notes = at(inv, "toolExecutionNotifications");
    assert_int_equal(cJSON_GetArraySize(notes), 2);
    n0 = cJSON_GetArrayItem(notes, 0);
    assert_string_equal(str(n0, "level"), "error");
    assert_non_null(strstr(str(at(n0, "message"), "text"), "no REPORT line in the log tail."));
    assert_string_equal(str(at(n0, "associatedRule"), "id"), "injection-persistence");
    assert_int_equal(at(at(n0, "associatedRule"), "index")->valueint, 0);
    assert_string_equal(str(at(n0, "properties"), "status"), "untestable");
    n1 = cJSON_GetArrayItem(notes, 1);
    assert_non_null(strstr(str(at(n1, "message"), "text"), "'refused': function not found."));
    assert_null(cJSON_GetObjectItemCaseSensitive(n1, "associatedRule"));
    assert_int_equal(cJSON_GetArraySize(at(n1, "locations")), 1);
    cJSON_Delete(log);
    cJSON_Delete(report);
}

/* not_applicable: a note, no error, and the run still executed successfully. */
static void test_not_applicable_is_a_note(void **state)
{
    cJSON *report = fixture_load(SAMPLE), *log, *r0;
    const cJSON *inv, *notes, *n0;

    (void)state;
    r0 = cJSON_GetArrayItem(at(report, "results"), 0);
    cJSON_ReplaceItemInObjectCaseSensitive(r0, "status", cJSON_CreateString("not_applicable"));
    cJSON_AddStringToObject(r0, "detail", "needs a function that serves at least 2 requests at once");
    log = render_ok(report);
    inv = cJSON_GetArrayItem(at(run_of(log), "invocations"), 0);
    assert_true(cJSON_IsTrue(at(inv, "executionSuccessful")));
    notes = at(inv, "toolExecutionNotifications");
    assert_int_equal(cJSON_GetArraySize(notes), 1);
    n0 = cJSON_GetArrayItem(notes, 0);
    assert_string_equal(str(n0, "level"), "note");
    assert_string_equal(str(at(n0, "properties"), "status"), "not_applicable");
    assert_non_null(strstr(str(at(n0, "message"), "text"), "serves at least 2 requests at once"));
    cJSON_Delete(log);
    cJSON_Delete(report);
}

static void test_no_findings(void **state)
{
    cJSON *report = fixture_load(NO_FINDINGS), *log;
    const cJSON *run;

    (void)state;
    log = render_ok(report);
    run = run_of(log);
    assert_true(cJSON_IsArray(at(run, "results")));
    assert_int_equal(cJSON_GetArraySize(at(run, "results")), 0);
    assert_int_equal(cJSON_GetArraySize(at(at(at(run, "tool"), "driver"), "rules")), 5);
    assert_true(cJSON_IsTrue(at(cJSON_GetArrayItem(at(run, "invocations"), 0), "executionSuccessful")));
    cJSON_Delete(log);
    cJSON_Delete(report);
}

static void check_suite(cJSON *report, const char *suite, const char *want)
{
    cJSON *log;
    const cJSON *res, *art;

    cJSON_ReplaceItemInObjectCaseSensitive(report, "suite", cJSON_CreateString(suite));
    log = render_ok(report);
    res = cJSON_GetArrayItem(at(run_of(log), "results"), 0);
    art = at(at(cJSON_GetArrayItem(at(res, "locations"), 0), "physicalLocation"), "artifactLocation");
    if (strcmp(str(art, "uri"), want) != 0)
        fail_msg("suite %s: uri %s, want %s", suite, str(art, "uri"), want);
    cJSON_Delete(log);
}

static void test_suite_paths(void **state)
{
    cJSON *report = fixture_load(SAMPLE);
    char cwd[PATH_MAX], path[PATH_MAX + 64];

    (void)state;
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(path, sizeof(path), "%s/sub dir/s.yaml", cwd);
    check_suite(report, path, "sub%20dir/s.yaml");
    snprintf(path, sizeof(path), "%s/./a//b/../s.yaml", cwd);
    check_suite(report, path, "a/s.yaml");
    if (strcmp(cwd, "/") != 0)
        check_suite(report, "/coldsec-elsewhere/x.yaml", "coldsec-elsewhere/x.yaml");
    check_suite(report, "./a/../b.yaml", "b.yaml");
    check_suite(report, "../up/../../s.yaml", "../../s.yaml");
    check_suite(report, "a:b/ü#?%.yaml", "a%3Ab/%C3%BC%23%3F%25.yaml");
    cJSON_Delete(report);
}

/* Every string of the log, keys included, is well-formed UTF-8 free of
 * control characters but newline and tab. */
static void check_clean(const cJSON *node)
{
    const cJSON *e;

    if (node->string)
        assert_true(utf8_valid(node->string, strlen(node->string)));
    if (cJSON_IsString(node)) {
        assert_true(utf8_valid(node->valuestring, strlen(node->valuestring)));
        for (const char *p = node->valuestring; *p; p++)
            if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
                fail_msg("control character in \"%s\"", node->valuestring);
    }
    cJSON_ArrayForEach(e, node) {
        check_clean(e);
    }
}

static void test_hostile(void **state)
{
    cJSON *report = fixture_load(HOSTILE), *log;
    const cJSON *run, *rules, *rule, *results, *res, *ev, *inv;

    (void)state;
    log = render_ok(report);
    check_clean(log);
    run = run_of(log);
    assert_string_equal(str(at(run, "automationDetails"), "id"), "coldsec/suite/shard-2-of-3/");
    rules = at(at(at(run, "tool"), "driver"), "rules");
    /* The repeated "config" entry adds no rule; "Config" is its own. */
    assert_int_equal(cJSON_GetArraySize(rules), 8);
    assert_string_equal(str(cJSON_GetArrayItem(rules, 5), "name"), "ScenarioConfig");
    rule = cJSON_GetArrayItem(rules, 6);
    assert_string_equal(str(rule, "id"), "2fa/check \xc3\xbcnicode!");
    assert_string_equal(str(rule, "helpUri"), "https://github.com/coldsec/coldsec/tree/main/docs/scenarios");
    assert_int_equal(cJSON_GetArraySize(at(at(rule, "properties"), "tags")), 20);
    /* Markdown from the report is escaped, and only http(s) becomes a link. */
    rule = cJSON_GetArrayItem(rules, 0);
    assert_null(strstr(str(at(rule, "help"), "markdown"), "](javascript"));
    assert_non_null(strstr(str(at(rule, "help"), "markdown"), "\\# Heading"));
    assert_non_null(strstr(str(at(rule, "help"), "markdown"), "\\`tick\\`"));
    assert_non_null(strstr(str(at(rule, "help"), "markdown"), "(https://example.com/a%20b/%28c%29?q=1&r=%3C2%3E#frag)"));
    assert_true(strlen(str(at(rule, "help"), "text")) < 20000);

    results = at(run, "results");
    assert_int_equal(cJSON_GetArraySize(results), cJSON_GetArraySize(at(report, "findings")));
    res = cJSON_GetArrayItem(results, 0);
    assert_string_equal(str(at(at(cJSON_GetArrayItem(at(res, "locations"), 0), "physicalLocation"),
                              "artifactLocation"),
                           "uri"),
                        "nonexistent/dir%20with%20space/%C3%BCn%C3%AF%231%3F%2541%3Ax/suite.yaml");
    assert_true(strlen(str(at(res, "message"), "text")) < 1200);
    ev = at(at(res, "properties"), "evidence");
    assert_int_equal(cJSON_GetArraySize(at(ev, "reproduce")), 32);
    assert_int_equal(cJSON_GetArraySize(at(ev, "series")), 64);
    assert_int_equal(cJSON_GetArraySize(at(ev, "mixed")), 4);
    assert_null(cJSON_GetObjectItemCaseSensitive(ev, "nested"));
    assert_int_equal(at(ev, "examples_in_report_json")->valueint, 1);
    assert_true(strlen(str(ev, "long")) < 1100);
    /* ARN when known, else where:region:function. */
    res = cJSON_GetArrayItem(results, 2);
    assert_string_equal(str(cJSON_GetArrayItem(at(cJSON_GetArrayItem(at(res, "locations"), 0), "logicalLocations"), 0),
                            "fullyQualifiedName"),
                        "arn:aws:lambda:eu-west-1:123456789012:function:tmp-residue-node-vulnerable");
    res = cJSON_GetArrayItem(results, 5);
    assert_string_equal(str(cJSON_GetArrayItem(at(cJSON_GetArrayItem(at(res, "locations"), 0), "logicalLocations"), 0),
                            "fullyQualifiedName"),
                        "aws:us-east-1:memory-growth-node-vulnerable");
    assert_null(cJSON_GetObjectItemCaseSensitive(
        at(at(cJSON_GetArrayItem(at(res, "locations"), 0), "physicalLocation"), "region"), "startColumn"));

    inv = cJSON_GetArrayItem(at(run, "invocations"), 0);
    assert_true(cJSON_IsFalse(at(inv, "executionSuccessful")));
    assert_int_equal(cJSON_GetArraySize(at(inv, "toolExecutionNotifications")), 4);
    /* The end precedes the start (fractions count): only the start stays. */
    assert_string_equal(str(inv, "startTimeUtc"), "2026-11-24T01:02:03.250Z");
    assert_null(cJSON_GetObjectItemCaseSensitive(inv, "endTimeUtc"));
    cJSON_Delete(log);
    cJSON_Delete(report);
}

/* Applies one change to a fresh sample and expects -1 with err. */
static void check_malformed(const char *what, void (*change)(cJSON *report), const char *err_has)
{
    cJSON *report = fixture_load(SAMPLE);
    char err[512];

    change(report);
    assert_null(render(report, -1, err, sizeof(err)));
    if (!strstr(err, err_has))
        fail_msg("%s: err \"%s\" lacks \"%s\"", what, err, err_has);
    cJSON_Delete(report);
}

static void bad_format(cJSON *r)
{
    cJSON_ReplaceItemInObjectCaseSensitive(r, "coldsec_report", cJSON_CreateNumber(2));
}

static void no_scenarios(cJSON *r)
{
    cJSON_DeleteItemFromObjectCaseSensitive(r, "scenarios");
}

static void unknown_scenario(cJSON *r)
{
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "findings"), 1), "scenario",
                                           cJSON_CreateString("nope"));
}

static void unknown_target(cJSON *r)
{
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "findings"), 0), "target",
                                           cJSON_CreateString("nope"));
}

static void bad_severity(cJSON *r)
{
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "findings"), 0), "severity",
                                           cJSON_CreateString("severe"));
}

static void bad_scenario_severity(cJSON *r)
{
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "scenarios"), 2), "severity");
}

static void no_fingerprint(cJSON *r)
{
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "findings"), 0), "fingerprint");
}

static void no_suite_line(cJSON *r)
{
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "targets"), 0), "suite_line",
                                           cJSON_CreateNumber(0.5));
}

static void bad_shard(cJSON *r)
{
    cJSON *shard = cJSON_CreateObject();

    cJSON_AddNumberToObject(shard, "index", 4);
    cJSON_AddNumberToObject(shard, "count", 3);
    cJSON_AddItemToObject(r, "shard", shard);
}

static void bad_baseline(cJSON *r)
{
    cJSON_AddStringToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "findings"), 0), "baseline", "maybe");
}

static void root_suite(cJSON *r)
{
    cJSON_ReplaceItemInObjectCaseSensitive(r, "suite", cJSON_CreateString("/"));
}

static void test_malformed(void **state)
{
    cJSON *arr = cJSON_CreateArray();
    char err[512];

    (void)state;
    assert_null(render(arr, -1, err, sizeof(err)));
    cJSON_Delete(arr);
    check_malformed("format 2", bad_format, "format 1");
    check_malformed("no scenarios", no_scenarios, "scenarios");
    check_malformed("unknown scenario", unknown_scenario, "findings[1]: scenario \"nope\"");
    check_malformed("unknown target", unknown_target, "findings[0]: target \"nope\"");
    check_malformed("bad severity", bad_severity, "findings[0]: severity");
    check_malformed("bad scenario severity", bad_scenario_severity, "scenarios[2]: severity");
    check_malformed("no fingerprint", no_fingerprint, "fingerprint");
    check_malformed("no suite_line", no_suite_line, "suite_line");
    check_malformed("bad shard", bad_shard, "shard");
    check_malformed("bad baseline", bad_baseline, "baseline");
    check_malformed("root suite", root_suite, "names no file");
}

/* The fixtures' logs through Microsoft's validator, SARIF and GitHub rules. */
static void check_validator(const char *fixture)
{
    cJSON *report = fixture_load(fixture);
    char path[] = "/tmp/coldsec-test-sarif-XXXXXX", err[512], cmd[256];
    int fd = mkstemp(path), status;
    FILE *out;

    assert_true(fd >= 0);
    out = fdopen(fd, "w");
    assert_non_null(out);
    assert_int_equal(sarif_write(report, out, err, sizeof(err)), 0);
    assert_int_equal(fclose(out), 0);
    snprintf(cmd, sizeof(cmd), VALIDATE " %s", path);
    status = system(cmd);
    unlink(path);
    cJSON_Delete(report);
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 2)
        fail_msg("%s: the SARIF validator could not run: run make test, which installs it", fixture);
    if (WEXITSTATUS(status) != 0)
        fail_msg("%s: the SARIF validator reports errors or warnings (above)", fixture);
}

static void test_validator(void **state)
{
    char path[] = "/tmp/coldsec-test-sarif-XXXXXX", cmd[256];
    int fd = mkstemp(path), status;

    (void)state;
    /* First, that it fails a log without runs: a validator that skipped
     * the file would pass everything. */
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"version\": \"2.1.0\"}\n", 21), 21);
    assert_int_equal(close(fd), 0);
    snprintf(cmd, sizeof(cmd), VALIDATE " %s >/dev/null", path);
    status = system(cmd);
    unlink(path);
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 2)
        fail_msg("the SARIF validator could not run: run make test, which installs it");
    assert_int_equal(WEXITSTATUS(status), 1);
    check_validator(SAMPLE);
    check_validator(HOSTILE);
    check_validator(NO_FINDINGS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample),        cmocka_unit_test(test_baseline_and_shard),
        cmocka_unit_test(test_notifications), cmocka_unit_test(test_not_applicable_is_a_note),
        cmocka_unit_test(test_no_findings),
        cmocka_unit_test(test_suite_paths),   cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_malformed),     cmocka_unit_test(test_validator),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
