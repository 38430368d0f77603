/*
 * Unit tests for junit: the real sample report and this module's fixtures
 * (tests/fixtures/junit-*.json) rendered and checked the way CI consumers
 * see them. Every rendering goes through tests/tools/check_junit.py
 * (xmllint against schemas/junit.xsd, then the counts), and single values
 * are read back decoded with `xmllint --xpath`, so the tests assert what a
 * parser sees, not only which bytes were written. Hostile evidence
 * (markup, "]]>", control bytes, ill-formed UTF-8, attachment markers) must
 * stay text; malformed documents must be refused before anything is
 * written. Run from the repository root (tests/run.sh does).
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

#include "jsonutil.h"
#include "junit.h"
#include "utf8.h"
#include "fixture.h"

#define SAMPLE "tests/fixtures/report-sample.json"
#define STATUSES "tests/fixtures/junit-statuses.json"
#define GATES "tests/fixtures/junit-gates.json"
#define CHECKER "tests/tools/check_junit.py"
#define XML_START "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"coldsec\" "

/* One rendering: the bytes, a file holding them, and check_junit's verdict. */
typedef struct {
    char *xml;
    size_t len;
    char path[64];
    cJSON *summary;
} rendered;

static cJSON *parse(const char *json)
{
    cJSON *doc = jsonutil_parse_whole(json, strlen(json));
    assert_non_null(doc);
    return doc;
}

/* Output of a command, NUL-terminated, and its exit status. */
static char *run_cmd(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    char *out = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&out, &len);
    char buf[4096];
    size_t n;

    assert_non_null(p);
    assert_non_null(mem);
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        fwrite(buf, 1, n, mem);
    *status = pclose(p);
    fclose(mem);
    return out;
}

static int render_to(const cJSON *doc, char **xml, size_t *len, char *err, size_t errlen)
{
    FILE *mem = open_memstream(xml, len);
    int rc;

    assert_non_null(mem);
    rc = junit_write(doc, mem, err, errlen);
    assert_int_equal(fclose(mem), 0);
    return rc;
}

/* Renders doc (which must succeed), stores it in a temporary file and
 * requires check_junit.py to accept it. */
static void render(const cJSON *doc, rendered *r)
{
    char err[256] = "", cmd[256];
    int fd, status;
    char *out;

    memset(r, 0, sizeof(*r));
    assert_int_equal(render_to(doc, &r->xml, &r->len, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    snprintf(r->path, sizeof(r->path), "/tmp/coldsec-junit-XXXXXX");
    fd = mkstemp(r->path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, r->xml, r->len), (ssize_t)r->len);
    close(fd);
    /* The checker needs only the standard library; the system's python
     * starts in a tenth of the time a pyenv shim takes. */
    snprintf(cmd, sizeof(cmd), "%s " CHECKER " %s 2>&1",
             access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3", r->path);
    out = run_cmd(cmd, &status);
    if (status != 0)
        fail_msg("check_junit.py rejected the output: %s", out);
    r->summary = parse(out);
    free(out);
}

static void release(rendered *r)
{
    unlink(r->path);
    free(r->xml);
    cJSON_Delete(r->summary);
}

/* A string as an XML parser reads it: `xmllint --xpath string(EXPR)`. */
static char *xpath(const rendered *r, const char *expr)
{
    char cmd[512];
    int status;
    char *out;
    size_t n;

    /* Expressions quote with '; the shell's quotes are ". */
    assert_null(strpbrk(expr, "\"$`\\"));
    snprintf(cmd, sizeof(cmd), "xmllint --xpath \"string(%s)\" %s", expr, r->path);
    out = run_cmd(cmd, &status);
    assert_int_equal(status, 0);
    n = strlen(out);
    if (n > 0 && out[n - 1] == '\n')
        out[n - 1] = '\0';
    return out;
}

static void assert_xpath(const rendered *r, const char *expr, const char *want)
{
    char *got = xpath(r, expr);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", expr, got, want);
    free(got);
}

static void assert_xpath_has(const rendered *r, const char *expr, const char *needle)
{
    char *got = xpath(r, expr);
    if (!strstr(got, needle))
        fail_msg("%s: \"%s\" not in \"%s\"", expr, needle, got);
    free(got);
}

static void assert_xpath_lacks(const rendered *r, const char *expr, const char *needle)
{
    char *got = xpath(r, expr);
    if (strstr(got, needle))
        fail_msg("%s: \"%s\" unexpectedly in \"%s\"", expr, needle, got);
    free(got);
}

static long count(const cJSON *summary, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(summary, key);
    assert_true(cJSON_IsNumber(v));
    return (long)v->valuedouble;
}

/* check_junit's cases[i]: suite, name, failure, error. */
static void assert_case(const rendered *r, int i, const char *suite, const char *name, bool failure, bool error)
{
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r->summary, "cases"), i);

    assert_non_null(c);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "suite")), suite);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name")), name);
    assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "failure")), failure);
    assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "error")), error);
}

static size_t occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---------------------------------------------------------------------------
 * The sample report of a real run.
 */
static void test_sample_counts_and_structure(void **state)
{
    cJSON *doc = fixture_load(SAMPLE);
    rendered r;

    (void)state;
    render(doc, &r);
    assert_int_equal(count(r.summary, "tests"), 8);
    assert_int_equal(count(r.summary, "failures"), 5);
    assert_int_equal(count(r.summary, "errors"), 0);
    assert_int_equal(count(r.summary, "skipped"), 0);
    assert_int_equal(count(r.summary, "suites"), 4);
    assert_case(&r, 0, "injection-persistence-python-vulnerable", "injection-persistence", true, false);
    assert_case(&r, 1, "injection-persistence-python-vulnerable", "config", false, false);
    assert_case(&r, 2, "tmp-residue-node-vulnerable", "tmp-residue", true, false);
    assert_case(&r, 5, "memory-growth-node-vulnerable", "config", false, false);
    /* plaintext-secret (medium, gate) fails it; no-reserved-concurrency (low) does not. */
    assert_case(&r, 7, "secret-exposure-python-vulnerable", "config", true, false);
    assert_true(strncmp(r.xml, XML_START, strlen(XML_START)) == 0);

    assert_xpath(&r, "/testsuites/@time", "9.649");
    assert_xpath(&r, "/testsuites/testsuite[1]/@time", "2.952");
    assert_xpath(&r, "/testsuites/testsuite[1]/@timestamp", "2026-11-23T21:08:03");
    assert_xpath(&r, "/testsuites/testsuite[1]/@hostname", "coldsec");
    assert_xpath(&r, "//testsuite[1]/properties/property[@name='run_id']/@value", "20261123T210803Z-428de6");
    assert_xpath(&r, "//testsuite[1]/properties/property[@name='seed']/@value", "20261123");
    assert_xpath(&r, "//testsuite[1]/properties/property[@name='fail_on']/@value", "medium");
    assert_xpath(&r, "//testsuite[1]/properties/property[@name='suite']/@value", "scenarios.yaml");
    assert_xpath(&r, "count(//property[@name='shard'])", "0");

    assert_xpath(&r, "//testsuite[1]/testcase[1]/@classname", "coldsec.injection-persistence-python-vulnerable");
    assert_xpath(&r, "//testsuite[1]/testcase[1]/@file", "scenarios.yaml");
    assert_xpath(&r, "//testsuite[1]/testcase[1]/@time", "2.952");
    assert_xpath(&r, "//testsuite[1]/testcase[1]/failure/@message",
                 "[critical] Injected code kept running in warm environments and changed other users' responses "
                 "(1 finding at or above medium)");
    assert_xpath(&r, "//testsuite[1]/testcase[1]/failure/@type", "coldsec.injection-persistence.persisted");
    /* The failure's text carries the whole proof. */
    assert_xpath_has(&r, "//testsuite[1]/testcase[1]/failure", "fingerprint 803fc992c9384bd118cbf9585a86f8c6");
    assert_xpath_has(&r, "//testsuite[1]/testcase[1]/failure", "CWE: CWE-94, CWE-502, CWE-1321");
    assert_xpath_has(&r, "//testsuite[1]/testcase[1]/failure", "  fix: Never pass request data to eval");
    assert_xpath_has(&r, "//testsuite[1]/testcase[1]/failure",
                     "    coldsec cold-start injection-persistence-python-vulnerable --allow-mutation");
    assert_xpath_has(&r, "//testsuite[1]/testcase[1]/failure", "\"coldsec_marker\":\"CSCf1752b73a786c6566d6abd83\"");
    assert_xpath_has(&r, "//testsuite[1]/testcase[1]/failure", "\tInit Duration: 455.55 ms");
    assert_xpath_has(&r, "//testsuite[1]/testcase[1]/failure", "    seen: seq=98, step=benign, user=bob");

    /* Two gating findings of equal severity: the first one is named. */
    assert_xpath(&r, "//testsuite[2]/testcase[1]/failure/@message",
                 "[high] Content of an earlier caller's request reappeared for a later caller "
                 "(2 findings at or above medium)");
    assert_xpath_has(&r, "//testsuite[2]/testcase[1]/failure", "Writes failed with ENOSPC");
    /* memory-growth evidence: the series and the fit. */
    assert_xpath_has(&r, "//testsuite[3]/testcase[1]/failure", "slope_mb_per_invocation=0.5081");
    assert_xpath_has(&r, "//testsuite[3]/testcase[1]/failure", "max_memory_used_mb: 43, 44, 45,");
    /* A low finding below the gate: system-out says why it passes. */
    assert_xpath(&r, "count(//testsuite[1]/testcase[2]/failure)", "0");
    assert_xpath_has(&r, "//testsuite[1]/testcase[2]/system-out",
                     "[low] No reserved concurrency\n  does not fail the test: low is below fail_on medium");
    assert_xpath_has(&r, "//testsuite[1]/testcase[1]/system-out",
                     "invocations: 160 (160 answered, 16 cold, 2 cold starts forced) in 2.952 s");
    /* A failed case lists its non-gating finding too, after the gating one. */
    assert_xpath_has(&r, "//testsuite[4]/testcase[2]/failure", "1 of 2 findings fails this test.");
    assert_xpath_has(&r, "//testsuite[4]/testcase[2]/system-out", "[low] No reserved concurrency");
    assert_xpath_lacks(&r, "//testsuite[4]/testcase[2]/system-out", "plaintext-secret");
    release(&r);
    cJSON_Delete(doc);
}

/* ---------------------------------------------------------------------------
 * Gate, below the gate, known from the baseline.
 */
static void test_gate_nongate_and_known(void **state)
{
    cJSON *doc = fixture_load(GATES);
    rendered r;

    (void)state;
    render(doc, &r);
    assert_int_equal(count(r.summary, "tests"), 4);
    assert_int_equal(count(r.summary, "failures"), 2);
    assert_int_equal(count(r.summary, "errors"), 0);
    assert_case(&r, 0, "orders", "injection-persistence", true, false);
    assert_case(&r, 1, "orders", "cross-user-leak", false, false);
    assert_case(&r, 2, "orders", "secret-exposure", true, false);
    assert_case(&r, 3, "orders", "tmp-residue", false, false);

    /* The worst gating finding names the failure, though it came second. */
    assert_xpath(&r, "//testcase[1]/failure/@message",
                 "[critical] Injected code kept running in warm environments (2 findings at or above medium)");
    assert_xpath(&r, "//testcase[1]/failure/@type", "coldsec.injection-persistence.persisted");
    assert_xpath_has(&r, "//testcase[1]/failure", "2 of 3 findings fail this test.");
    assert_xpath_has(&r, "//testcase[1]/failure", "[medium] A marker was echoed\n  fails the test: medium is at or "
                                                  "above fail_on medium");
    assert_xpath_has(&r, "//testcase[1]/failure", "canary=CSC0001, seen_in=payload");
    assert_xpath_has(&r, "//testcase[1]/failure", "      log_tail:\n        START\n        REPORT Max Memory Used");
    assert_xpath_has(&r, "//testcase[1]/system-out", "1 finding of this test does not fail it:");
    assert_xpath_has(&r, "//testcase[1]/system-out", "[low] A cold start was needed to clear it");
    assert_xpath_lacks(&r, "//testcase[1]/system-out", "Injected code");

    /* A known high finding does not fail the test; system-out says why. */
    assert_xpath(&r, "count(//testcase[2]/failure)", "0");
    assert_xpath_has(&r, "//testcase[2]/system-out",
                     "[high] Another user's canary came back\n  does not fail the test: the baseline report "
                     "already has it");
    assert_xpath_has(&r, "//testcase[2]/system-out", "[info] Answers were slower in parallel\n  does not fail the "
                                                     "test: info is below fail_on medium");
    assert_xpath_has(&r, "//testcase[2]/system-out", "2 findings of this test do not fail it:");

    /* Equal severities: the first in report order is named. */
    assert_xpath(&r, "//testcase[3]/failure/@message", "[high] First high finding (2 findings at or above medium)");
    assert_xpath(&r, "//testcase[3]/failure/@type", "coldsec.secret-exposure.exposed");

    /* passed: a plain test case, whose output summarises the invocations. */
    assert_xpath(&r, "count(//testcase[4]/*)", "1");
    assert_xpath(&r, "//testcase[4]/@time", "1.500");
    assert_xpath(&r, "//testcase[4]/system-out",
                 "invocations: 11 (11 answered, 1 cold, 1 cold starts forced) in 1.500 s\n");
    assert_xpath(&r, "//property[@name='baseline_run_id']/@value", "20261120T080000Z-000aaa");
    release(&r);
    cJSON_Delete(doc);
}

/* ---------------------------------------------------------------------------
 * Statuses that are not findings, "*", suite order.
 */
static void test_statuses_become_errors(void **state)
{
    cJSON *doc = fixture_load(STATUSES);
    rendered r;

    (void)state;
    render(doc, &r);
    assert_int_equal(count(r.summary, "tests"), 6);
    assert_int_equal(count(r.summary, "failures"), 0);
    assert_int_equal(count(r.summary, "errors"), 4);
    assert_int_equal(count(r.summary, "suites"), 3);
    /* Suites in targets[] order although results[] starts with broken-fn;
     * a target only results[] names comes last. */
    assert_case(&r, 0, "staging-orders", "cross-user-leak", false, true);
    assert_case(&r, 1, "staging-orders", "memory-growth", false, true);
    assert_case(&r, 2, "staging-orders", "tmp-residue", false, true);
    assert_case(&r, 3, "staging-orders", "config", false, false);
    assert_case(&r, 4, "broken-fn", "(target setup)", false, true);
    assert_case(&r, 5, "ghost", "config", false, false);

    /* refused: the detail is the message, its newline and tab kept. */
    assert_xpath(&r, "//testcase[@name='cross-user-leak']/error/@type", "refused");
    assert_xpath(&r, "//testcase[@name='cross-user-leak']/error/@message", "payload template: unknown field\n\tat /items/0");
    assert_non_null(strstr(r.xml, "message=\"payload template: unknown field&#10;&#9;at /items/0\""));

    /* interrupted with a gating finding: one <error>, the finding in its text. */
    assert_xpath(&r, "//testcase[@name='memory-growth']/error/@type", "interrupted");
    assert_xpath(&r, "count(//testcase[@name='memory-growth']/failure)", "0");
    assert_xpath_has(&r, "//testcase[@name='memory-growth']/error",
                     "1 finding was proven before it stopped (1 would fail it)");
    assert_xpath_has(&r, "//testcase[@name='memory-growth']/error", "[high] Max Memory Used grows with every request");
    assert_xpath_has(&r, "//testcase[@name='memory-growth']/system-out", "note: stopped early");

    /* not-restored: loud, with the journal to restore from. */
    assert_xpath(&r, "//testcase[@name='tmp-residue']/error/@type", "not-restored");
    assert_xpath_has(&r, "//testcase[@name='tmp-residue']/error/@message",
                     "CONFIGURATION NOT RESTORED: run `coldsec restore reports/20261124T101500Z-abcdef/journal.json` "
                     "now. RESTORE FAILED");
    assert_xpath_has(&r, "//testcase[@name='tmp-residue']/error", "THE FUNCTION'S CONFIGURATION WAS NOT RESTORED");

    /* A target that failed before any scenario. */
    assert_xpath(&r, "//testsuite[@name='broken-fn']/testcase/@classname", "coldsec.broken-fn");
    assert_xpath(&r, "//testsuite[@name='broken-fn']/testcase/@time", "0.013");
    assert_xpath(&r, "//testsuite[@name='broken-fn']/testcase/error/@type", "untestable");
    assert_xpath(&r, "//testsuite[@name='broken-fn']/testcase/error/@message",
                 "GetFunctionConfiguration: AccessDeniedException");

    assert_xpath(&r, "//testsuite[1]/@errors", "3");
    assert_xpath(&r, "//testsuite[1]/@time", "3.503");
    assert_xpath(&r, "//testsuite[1]/properties/property[@name='shard']/@value", "2/4");
    assert_xpath(&r, "//testsuite[1]/properties/property[@name='region']/@value", "eu-west-1");
    assert_xpath(&r, "//testsuite[1]/testcase[1]/@file", "ci/suite.yaml");
    release(&r);
    cJSON_Delete(doc);
}

/* not_applicable: <skipped> with the detail, counted as skipped, never a pass or an error. */
static void test_not_applicable_is_skipped(void **state)
{
    cJSON *doc = fixture_load(SAMPLE), *r0;
    rendered r;

    (void)state;
    r0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "results"), 0);
    cJSON_ReplaceItemInObjectCaseSensitive(r0, "status", cJSON_CreateString("not_applicable"));
    cJSON_ReplaceItemInObjectCaseSensitive(r0, "findings", cJSON_CreateNumber(0));
    cJSON_AddStringToObject(r0, "detail", "needs a function that serves at least 2 requests at once");
    render(doc, &r);
    assert_xpath(&r, "count(//testcase/skipped)", "1");
    assert_xpath(&r, "//testcase/skipped/@message", "needs a function that serves at least 2 requests at once");
    assert_xpath(&r, "count(//testcase[skipped]/error)", "0");
    assert_xpath(&r, "/testsuites/@skipped", "1");
    release(&r);
    cJSON_Delete(doc);
}

/* not-restored whose detail names no journal still says what to run. */
static void test_not_restored_without_journal(void **state)
{
    cJSON *doc = parse("{\"coldsec_report\":1,\"targets\":[{\"name\":\"t\"}],\"findings\":[],\"results\":["
                       "{\"target\":\"t\",\"scenario\":\"s\",\"status\":\"not-restored\",\"detail\":\"lost\"}]}");
    rendered r;

    (void)state;
    render(doc, &r);
    assert_xpath(&r, "//error/@message", "CONFIGURATION NOT RESTORED: run `coldsec restore JOURNAL` now. lost");
    assert_xpath_has(&r, "//error", "Run `coldsec restore JOURNAL`\nwith the journal named above");
    release(&r);
    cJSON_Delete(doc);
}

/* ---------------------------------------------------------------------------
 * Hostile text.
 */
static void set_string(cJSON *o, const char *key, const char *value)
{
    cJSON *s = cJSON_CreateString(value);
    assert_non_null(s);
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        assert_true(cJSON_ReplaceItemInObjectCaseSensitive(o, key, s));
    else
        assert_true(cJSON_AddItemToObject(o, key, s));
}

static void test_hostile_evidence_stays_text(void **state)
{
    cJSON *doc = fixture_load(GATES);
    cJSON *findings = cJSON_GetObjectItemCaseSensitive(doc, "findings");
    cJSON *critical = cJSON_GetArrayItem(findings, 1);
    cJSON *example = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(critical, "evidence"), "examples"), 0);
    cJSON *seen = cJSON_GetObjectItemCaseSensitive(example, "seen");
    rendered r;
    char *got;

    (void)state;
    set_string(critical, "title", "Quote \"double\" 'single' <b>&amp;</b> \xff end");
    set_string(critical, "summary", "</failure></testcase><testcase name=\"x\"><![CDATA[ ]]> & done");
    set_string(seen, "response",
               "ctl:\x01\x02\x07\x08\x0b\x0c\x1b[31m\x1f del:\x7f c1:\xc2\x85\xc2\x9b "
               "bad:\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80 nonchar:\xef\xbf\xbe\xef\xbf\xbf "
               "ok:\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91 cr:a\r\nb cut:\xe2\x82");
    set_string(seen, "log_tail", "line [[ATTACHMENT|/etc/shadow]] and [[attachment|/root/.ssh/id_rsa]] [[x]]\n");
    render(doc, &r);

    /* Well-formed (check_junit accepted it), one failure, nothing escaped it. */
    assert_true(utf8_valid(r.xml, r.len));
    for (size_t i = 0; i < r.len; i++) {
        unsigned char c = (unsigned char)r.xml[i];
        if (c < 0x20 && c != '\n' && c != '\t')
            fail_msg("raw control byte 0x%02x at %zu", c, i);
    }
    assert_null(strstr(r.xml, "]]>"));
    assert_null(strstr(r.xml, "<![CDATA["));
    assert_null(strcasestr(r.xml, "[[ATTACHMENT|"));
    assert_int_equal(occurrences(r.xml, "<failure "), 2);
    assert_int_equal(occurrences(r.xml, "</failure>"), 2);
    assert_int_equal(occurrences(r.xml, "<testcase "), 4);
    assert_int_equal(count(r.summary, "tests"), 4);
    assert_int_equal(count(r.summary, "failures"), 2);

    /* What a parser reads back is the original text, with U+FFFD for what
     * XML cannot carry. */
    assert_xpath(&r, "//testcase[1]/failure/@message",
                 "[critical] Quote \"double\" 'single' <b>&amp;</b> \xef\xbf\xbd end (2 findings at or above medium)");
    assert_xpath_has(&r, "//testcase[1]/failure",
                     "summary: </failure></testcase><testcase name=\"x\"><![CDATA[ ]]> & done");
    got = xpath(&r, "//testcase[1]/failure");
    assert_non_null(strstr(got, "ctl:\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                                "\xef\xbf\xbd[31m\xef\xbf\xbd del:\xef\xbf\xbd c1:\xef\xbf\xbd\xef\xbf\xbd "));
    assert_non_null(strstr(got, "nonchar:\xef\xbf\xbd\xef\xbf\xbd ok:\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91 cr:a\r\n"));
    assert_non_null(strstr(got, "cut:\xef\xbf\xbd\xef\xbf\xbd"));
    /* Every ill-formed byte of "bad:" is one U+FFFD (11 bytes). */
    assert_non_null(strstr(got, "bad:\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                                "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd nonchar"));
    assert_non_null(strstr(got, "line [ [ATTACHMENT|/etc/shadow]] and [ [attachment|/root/.ssh/id_rsa]] [[x]]"));
    free(got);
    release(&r);
    cJSON_Delete(doc);
}

static void test_hostile_names(void **state)
{
    cJSON *doc = parse("{\"coldsec_report\":1,\"fail_on\":\"low\",\"suite\":\"a\\\"b'<c>&.yaml\","
                       "\"targets\":[{\"name\":\"ev\\\"il'<&>\\n\\ttarget\"},{\"name\":\"\"}],"
                       "\"results\":[{\"target\":\"ev\\\"il'<&>\\n\\ttarget\",\"scenario\":\"s\\r\\n<x/>\","
                       "\"status\":\"passed\",\"ms\":1},"
                       "{\"target\":\"\",\"scenario\":\"\",\"status\":\"passed\",\"ms\":1}],\"findings\":[]}");
    rendered r;

    (void)state;
    render(doc, &r);
    assert_xpath(&r, "//testsuite[1]/@name", "ev\"il'<&>\n\ttarget");
    assert_xpath(&r, "//testsuite[1]/testcase/@classname", "coldsec.ev\"il'<&>\n\ttarget");
    assert_xpath(&r, "//testsuite[1]/testcase/@name", "s\r\n<x/>");
    assert_xpath(&r, "//testsuite[1]/testcase/@file", "a\"b'<c>&.yaml");
    assert_non_null(strstr(r.xml, "name=\"ev&quot;il&apos;&lt;&amp;&gt;&#10;&#9;target\""));
    /* Empty names are not valid attribute values for the schema. */
    assert_xpath(&r, "//testsuite[2]/@name", "(unnamed target)");
    assert_xpath(&r, "//testsuite[2]/testcase/@name", "(unnamed scenario)");
    assert_xpath(&r, "//testsuite[2]/testcase/@classname", "coldsec.(unnamed target)");
    release(&r);
    cJSON_Delete(doc);
}

/* Long evidence is cut, on a character boundary, and says so. */
static void test_long_text_is_cut(void **state)
{
    cJSON *doc = fixture_load(GATES);
    cJSON *seen = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(
                                   cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "findings"), 1), "evidence"),
                               "examples"),
                           0),
        "seen");
    size_t n = 300 * 1024;
    char *big = malloc(n + 1);
    rendered r;
    char *got;

    (void)state;
    assert_non_null(big);
    for (size_t i = 0; i + 2 < n; i += 3)
        memcpy(big + i, "\xe2\x82\xac", 3);
    big[n] = '\0';
    set_string(seen, "response", big);
    render(doc, &r);
    assert_true(r.len < 100 * 1024);
    assert_true(utf8_valid(r.xml, r.len));
    got = xpath(&r, "//testcase[1]/failure");
    assert_non_null(strstr(got, "\xe2\x82\xac … [241665 more bytes cut]"));
    assert_null(strstr(got, "\xef\xbf\xbd"));
    free(got);
    free(big);
    release(&r);
    cJSON_Delete(doc);
}

/* ---------------------------------------------------------------------------
 * Thin documents.
 */
static void test_empty_results(void **state)
{
    cJSON *doc = parse("{\"coldsec_report\":1,\"run_id\":\"r\",\"fail_on\":\"high\",\"started\":\"2026-11-23T21:08:03Z\","
                       "\"targets\":[],\"results\":[],\"findings\":[]}");
    cJSON *idle = parse("{\"coldsec_report\":1,\"targets\":[{\"name\":\"idle\"}],\"results\":[],\"findings\":[]}");
    rendered r;

    (void)state;
    render(doc, &r);
    assert_int_equal(count(r.summary, "tests"), 0);
    assert_int_equal(count(r.summary, "suites"), 0);
    assert_string_equal(r.xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                               "<testsuites name=\"coldsec\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\" "
                               "time=\"0.000\">\n</testsuites>\n");
    release(&r);

    /* A target without results is an empty suite. */
    render(idle, &r);
    assert_int_equal(count(r.summary, "suites"), 1);
    assert_xpath(&r, "//testsuite/@tests", "0");
    assert_xpath(&r, "//testsuite/@name", "idle");
    release(&r);
    cJSON_Delete(doc);
    cJSON_Delete(idle);
}

static void test_missing_optional_fields(void **state)
{
    /* No run_id, seed, fail_on, suite, started, shard; a result without
     * detail, ms or summary; findings without title, severity, class,
     * evidence; a started time that is not one. */
    cJSON *doc = parse("{\"coldsec_report\":1,\"started\":\"yesterday\",\"targets\":[{\"name\":\"t\"}],"
                       "\"results\":["
                       "{\"target\":\"t\",\"scenario\":\"a\",\"status\":\"untestable\"},"
                       "{\"target\":\"t\",\"scenario\":\"b\",\"status\":\"findings\",\"ms\":-5},"
                       "{\"target\":\"t\",\"scenario\":\"c\",\"status\":\"findings\",\"ms\":\"soon\"}],"
                       "\"findings\":["
                       "{\"target\":\"t\",\"scenario\":\"b\",\"gate\":true,\"evidence\":{\"examples\":[7,{}]}},"
                       "{\"target\":\"t\",\"scenario\":\"c\",\"severity\":\"medium\"}]}");
    rendered r;

    (void)state;
    render(doc, &r);
    assert_int_equal(count(r.summary, "tests"), 3);
    assert_int_equal(count(r.summary, "failures"), 1);
    assert_int_equal(count(r.summary, "errors"), 1);
    assert_xpath(&r, "count(//@timestamp)", "0");
    assert_xpath(&r, "count(//@file)", "0");
    assert_xpath(&r, "count(//property)", "0");
    assert_xpath(&r, "//testcase[1]/error/@message", "(report.json gives no detail)");
    assert_xpath(&r, "//testcase[2]/@time", "0.000");
    assert_xpath(&r, "//testcase[2]/failure/@message", "[(no severity)] (untitled finding) (1 gating finding)");
    assert_xpath(&r, "//testcase[2]/failure/@type", "coldsec.unknown.unknown");
    assert_xpath_has(&r, "//testcase[2]/failure", "  example 1: 7\n  example 2:\n");
    assert_xpath_has(&r, "//testcase[2]/system-out", "invocations: unknown in 0.000 s");
    /* gate missing: not counted, and system-out says so. */
    assert_xpath(&r, "count(//testcase[3]/failure)", "0");
    assert_xpath_has(&r, "//testcase[3]/system-out", "does not fail the test: report.json does not count it toward "
                                                     "the gate (gate: false)");
    release(&r);
    cJSON_Delete(doc);
}

/* ---------------------------------------------------------------------------
 * Refusals: nothing written, a reason given.
 */
static void assert_refused(const char *json, const char *why)
{
    cJSON *doc = parse(json);
    char err[256] = "";
    char *xml = NULL;
    size_t len = 0;

    assert_int_equal(render_to(doc, &xml, &len, err, sizeof(err)), -1);
    if (!strstr(err, why))
        fail_msg("%s: err \"%s\" lacks \"%s\"", json, err, why);
    assert_int_equal(len, 0);
    free(xml);
    cJSON_Delete(doc);
}

static void test_malformed_reports_are_refused(void **state)
{
    char err[256] = "";
    char *xml = NULL;
    size_t len = 0;

    (void)state;
    assert_refused("{\"coldsec_report\":1,\"targets\":[],\"results\":{},\"findings\":[]}", "results is not an array");
    assert_refused("{\"coldsec_report\":1,\"targets\":[],\"findings\":[]}", "results is not an array");
    assert_refused("{\"coldsec_report\":1,\"targets\":{},\"results\":[],\"findings\":[]}", "targets is not an array");
    assert_refused("{\"coldsec_report\":1,\"targets\":[],\"results\":[],\"findings\":null}",
                   "findings is not an array");
    assert_refused("[1,2]", "not a JSON object");
    assert_refused("{\"coldsec_report\":2,\"targets\":[],\"results\":[],\"findings\":[]}", "coldsec_report is not 1");
    assert_refused("{\"targets\":[],\"results\":[],\"findings\":[]}", "coldsec_report is not 1");
    assert_refused("{\"coldsec_report\":1,\"targets\":[{\"function\":\"f\"}],\"results\":[],\"findings\":[]}",
                   "targets[0] has no name");
    assert_refused("{\"coldsec_report\":1,\"targets\":[],\"results\":[{\"target\":\"t\",\"scenario\":\"s\","
                   "\"status\":\"exploded\"}],\"findings\":[]}",
                   "results[0] has an unknown status");
    assert_refused("{\"coldsec_report\":1,\"targets\":[],\"results\":[{\"target\":\"t\",\"status\":\"passed\"}],"
                   "\"findings\":[]}",
                   "results[0] lacks target, scenario or status");
    assert_refused("{\"coldsec_report\":1,\"targets\":[],\"results\":[7],\"findings\":[]}",
                   "results[0] lacks target, scenario or status");
    assert_refused("{\"coldsec_report\":1,\"targets\":[],\"results\":[],\"findings\":[{\"target\":\"t\"}]}",
                   "findings[0] lacks target or scenario");

    assert_int_equal(render_to(NULL, &xml, &len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a JSON object"));
    assert_int_equal(len, 0);
    free(xml);
}

/* A stream that cannot be written is an error, not a silent truncation. */
static void test_write_failure_is_reported(void **state)
{
    cJSON *doc = fixture_load(SAMPLE);
    FILE *full = fopen("/dev/full", "w");
    char err[256] = "";

    (void)state;
    if (!full)
        skip();
    assert_int_equal(junit_write(doc, full, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "junit: write failed: "));
    fclose(full);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_counts_and_structure),
        cmocka_unit_test(test_gate_nongate_and_known),
        cmocka_unit_test(test_statuses_become_errors),
        cmocka_unit_test(test_not_applicable_is_skipped),
        cmocka_unit_test(test_not_restored_without_journal),
        cmocka_unit_test(test_hostile_evidence_stays_text),
        cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_long_text_is_cut),
        cmocka_unit_test(test_empty_results),
        cmocka_unit_test(test_missing_optional_fields),
        cmocka_unit_test(test_malformed_reports_are_refused),
        cmocka_unit_test(test_write_failure_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
