/*
 * Unit tests for htmlreport: the sample report renders with one section per
 * finding, one timeline per result that has one and a memory chart for the
 * memory-growth finding; hostile text everywhere (markup, quotes, control
 * and bidi characters, ill-formed UTF-8, fake CWE ids, javascript: URLs)
 * stays text; a report without findings or timelines; the not-restored
 * banner with a baseline and a shard; timelines beyond the lane and bar
 * caps; malformed documents and a failing stream.
 *
 * Every page is checked by one scanner: each '<' must open a tag we emit,
 * with attributes we emit, and every href is an anchor or a CWE link we
 * formatted. Fixtures are read from tests/fixtures (run from the repo root,
 * as tests/run.sh does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htmlreport.h"
#include "jsonutil.h"
#include "utf8.h"
#include "fixture.h"

#define FIXTURES "tests/fixtures/"

/* Renders doc; returns the page (caller frees) or NULL with err set. */
static char *render(const cJSON *doc, int *rc, char *err, size_t errlen)
{
    char *page = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&page, &len);

    assert_non_null(out);
    err[0] = '\0';
    *rc = htmlreport_write(doc, out, err, errlen);
    assert_int_equal(fclose(out), 0);
    return page;
}

static char *render_ok(const cJSON *doc)
{
    char err[256];
    int rc;
    char *page = render(doc, &rc, err, sizeof(err));

    if (rc != 0)
        fail_msg("htmlreport_write: %s", err);
    return page;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static bool in_list(const char *s, size_t n, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strlen(list[i]) == n && strncmp(s, list[i], n) == 0)
            return true;
    return false;
}

/* An href we allow: "#anchor" or a CWE link with digits only. */
static void check_href(const char *v, size_t n)
{
    static const char cwe[] = "https://cwe.mitre.org/data/definitions/";
    size_t i;

    if (n > 0 && v[0] == '#') {
        for (i = 1; i < n; i++)
            if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
                fail_msg("odd anchor href %.*s", (int)n, v);
        return;
    }
    if (n < sizeof(cwe) - 1 + 6 || strncmp(v, cwe, sizeof(cwe) - 1) != 0)
        fail_msg("href other than a CWE link: %.*s", (int)n, v);
    for (i = sizeof(cwe) - 1; i < n - 5 && v[i] >= '0' && v[i] <= '9'; i++)
        ;
    if (i == sizeof(cwe) - 1 || i != n - 5 || strncmp(v + i, ".html", 5) != 0)
        fail_msg("malformed CWE link: %.*s", (int)n, v);
}

/* Every '<' opens a tag of ours with attributes of ours (report text can
 * only ever appear escaped); no script, no event handler, no src, hrefs
 * only to anchors and CWE definitions; valid UTF-8 without stray control
 * characters or bidi overrides. */
static void check_page(const char *page)
{
    static const char *const tags[] = {
        "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "main", "footer", "section",
        "article", "h1", "h2", "h3", "h4", "p", "div", "span", "b", "strong", "code", "pre", "mark", "a", "br",
        "dl", "dt", "dd", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "figure",
        "figcaption", "svg", "g", "rect", "line", "path", "circle", "text", NULL};
    static const char *const attrs[] = {
        "lang", "charset", "http-equiv", "content", "name", "class", "id", "role", "aria-labelledby", "href",
        "rel", "title", "scope", "viewBox", "x", "y", "x1", "y1", "x2", "y2", "width", "height", "cx", "cy", "r",
        "d", "text-anchor", "transform", NULL};
    size_t len = strlen(page);
    const char *p = page, *end = page + len;

    assert_true(utf8_valid(page, len));
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)page[i];
        if (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r')
            fail_msg("control byte 0x%02x at %zu", ch, i);
        if (ch == 0x7f)
            fail_msg("DEL at %zu", i);
    }
    assert_null(strstr(page, "\xe2\x80\xae")); /* U+202E */
    assert_null(strstr(page, "\xe2\x81\xa6")); /* U+2066 */
    assert_null(strstr(page, "\xc2\x85"));     /* U+0085 */

    while ((p = strchr(p, '<')) != NULL) {
        const char *q = p + 1, *name;
        size_t n;

        if (*q == '/')
            q++;
        name = q;
        while (q < end && *q != ' ' && *q != '>' && *q != '/')
            q++;
        n = (size_t)(q - name);
        if (!in_list(name, n, tags))
            fail_msg("unexpected tag <%.*s at %zu", (int)n, name, (size_t)(p - page));
        if (n == 5 && strncmp(name, "style", 5) == 0) {
            /* Our stylesheet: skip to its end tag. */
            p = strstr(q, "</style>");
            assert_non_null(p);
            p += 8;
            continue;
        }
        while (q < end && *q != '>') {
            const char *an, *val;
            size_t an_len;

            while (*q == ' ' || *q == '/')
                q++;
            if (*q == '>')
                break;
            an = q;
            while (q < end && *q != '=' && *q != ' ' && *q != '>')
                q++;
            an_len = (size_t)(q - an);
            if (n == 8 && strncmp(name, "!DOCTYPE", 8) == 0)
                continue; /* "html" */
            if (!in_list(an, an_len, attrs))
                fail_msg("unexpected attribute %.*s on <%.*s>", (int)an_len, an, (int)n, name);
            if (*q != '=')
                continue;
            q++;
            if (*q != '"')
                fail_msg("unquoted attribute %.*s", (int)an_len, an);
            val = ++q;
            while (q < end && *q != '"') {
                if (*q == '<' || *q == '>')
                    fail_msg("markup inside attribute %.*s", (int)an_len, an);
                q++;
            }
            assert_true(q < end);
            if (an_len == 4 && strncmp(an, "href", 4) == 0)
                check_href(val, (size_t)(q - val));
            q++;
        }
        p = q;
    }
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "<img"));
    assert_null(strstr(page, "src=\""));
}

static void test_sample(void **state)
{
    cJSON *doc = fixture_load(FIXTURES "report-sample.json");
    char *page;

    (void)state;
    page = render_ok(doc);
    check_page(page);
    assert_non_null(strstr(page, "<meta charset=\"utf-8\">"));
    assert_non_null(strstr(page, "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\""));
    assert_int_equal(count(page, "<article class=\"finding"), 10);
    /* Every result of the sample has a timeline (config's is empty). */
    assert_int_equal(count(page, "<svg class=\"timeline"), 8);
    assert_int_equal(count(page, "<svg class=\"timeline empty\""), 4);
    assert_int_equal(count(page, "<svg class=\"memchart\""), 1);
    assert_int_equal(count(page, "role=\"img\""), 9);
    /* injection-persistence: 160 bars in 16 lanes, 16 of them cold. */
    assert_int_equal(count(page, "<rect class=\"inv "), 160 + 11 + 40 + 62);
    assert_non_null(strstr(page, ">env 16</text>"));
    assert_non_null(strstr(page, "inferred</strong> from Init Duration and timing"));
    assert_non_null(strstr(page, "❄ forced cold start"));
    assert_non_null(strstr(page, "exit status 1</span>findings at or above the gate"));
    assert_non_null(strstr(page, "href=\"https://cwe.mitre.org/data/definitions/94.html\""));
    assert_non_null(strstr(page, "Injected code kept running in warm environments and changed other users&#39; "
                                 "responses"));
    assert_non_null(strstr(page, "<mark>CSCf1752b73a786c6566d6abd83</mark>"));
    assert_non_null(strstr(page, "class=\"limit\""));
    assert_non_null(strstr(page, "r² 0.9733"));
    assert_null(strstr(page, "NOT RESTORED"));
    free(page);
    cJSON_Delete(doc);
}

/* Replaces doc[key] (an object member) with a string of raw bytes. */
static void set_raw(cJSON *obj, const char *key, const char *bytes)
{
    cJSON *s = cJSON_CreateString(bytes);

    assert_non_null(s);
    assert_true(cJSON_ReplaceItemInObjectCaseSensitive(obj, key, s));
}

static void test_hostile(void **state)
{
    cJSON *doc = fixture_load(FIXTURES "html-hostile.json");
    cJSON *finding = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "findings"), 0);
    cJSON *ex = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(finding, "evidence"), "examples"), 1);
    cJSON *tl_inv = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "results"), 0),
                                                "timeline"),
                            "invocations"),
        0);
    char *page;

    (void)state;
    assert_non_null(ex);
    assert_non_null(tl_inv);
    /* Ill-formed UTF-8 JSON text cannot carry: stray continuation, overlong
     * '/', a surrogate, a cut sequence, bytes past U+10FFFF. */
    set_raw(finding, "summary", "A\x80" "B\xc0\xaf" "C\xed\xa0\x80" "D\xe2\x82" "E\xf5\x80\x80\x80" "F\xff");
    set_raw(ex, "response", "resp\xfe<script>x</script>\x01\x1b\x7f");
    set_raw(tl_inv, "user", "u\xff\"><svg onload=alert(1)>");
    page = render_ok(doc);
    check_page(page);

    assert_non_null(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;&lt;/pre&gt;&quot;&gt;&lt;img src=x "
                                 "onerror=alert(1)&gt;&#39;&amp;amp;"));
    assert_non_null(strstr(page, "A\xef\xbf\xbd" "B\xef\xbf\xbd\xef\xbf\xbd" "C"));
    assert_non_null(strstr(page, "F\xef\xbf\xbd"));
    assert_non_null(strstr(page, "resp\xef\xbf\xbd&lt;script&gt;x&lt;/script&gt;\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"));
    assert_non_null(strstr(page, "u\xef\xbf\xbd&quot;&gt;&lt;svg onload=alert(1)&gt;"));
    /* Only the real CWE id became a link; the others stay text. */
    assert_int_equal(count(page, "<a href=\"https://cwe.mitre.org/"), 1);
    assert_non_null(strstr(page, "CWE-94&quot;&gt;&lt;script&gt;"));
    assert_non_null(strstr(page, "CWE-12345678"));
    assert_non_null(strstr(page, "<code>javascript:alert(1)//"));
    assert_null(strstr(page, "evil.example/x.js\""));
    /* The document's structure survived: both findings, the scenario text,
     * the timeline with its unknown lane, the memory chart without a crash
     * on a non-numeric point. */
    assert_int_equal(count(page, "<article class=\"finding"), 2);
    assert_non_null(strstr(page, "<article class=\"finding sev-unknown\""));
    assert_non_null(strstr(page, "proves&lt;script&gt;"));
    assert_int_equal(count(page, "<svg class=\"timeline\""), 1);
    assert_non_null(strstr(page, ">unknown</text>"));
    assert_int_equal(count(page, "<svg class=\"memchart\""), 1);
    assert_int_equal(count(page, "<circle class=\"pt\""), 5);
    assert_non_null(strstr(page, "<mark>CANARY1234</mark>"));
    assert_non_null(strstr(page, "class=\"inv u0 cold\""));
    assert_non_null(strstr(page, "class=\"errmk\""));
    assert_non_null(strstr(page, "class=\"sleepband\""));
    free(page);
    cJSON_Delete(doc);
}

static void test_no_findings(void **state)
{
    cJSON *doc = fixture_load(FIXTURES "html-empty.json");
    char *page;

    (void)state;
    page = render_ok(doc);
    check_page(page);
    assert_non_null(strstr(page, "<h2 id=\"h-findings\">Findings (0)</h2>"));
    assert_non_null(strstr(page, "No findings."));
    assert_int_equal(count(page, "<article"), 0);
    assert_int_equal(count(page, "<svg"), 0);
    assert_null(strstr(page, "id=\"timelines\""));
    assert_non_null(strstr(page, "<span class=\"st st-refused\">refused</span>"));
    assert_non_null(strstr(page, "exit status 2</span>usage or configuration error"));
    assert_null(strstr(page, "NOT RESTORED"));
    free(page);
    cJSON_Delete(doc);
}

static void test_not_restored(void **state)
{
    cJSON *doc = fixture_load(FIXTURES "html-not-restored.json");
    char *page;
    const char *alarm, *header;

    (void)state;
    page = render_ok(doc);
    check_page(page);
    alarm = strstr(page, "<div class=\"alarm\" role=\"alert\"><strong>⚠ CONFIGURATION NOT RESTORED");
    header = strstr(page, "<header");
    assert_non_null(alarm);
    assert_true(alarm < header); /* first thing on the page */
    assert_non_null(strstr(page, "journal reports/20261123T000000Z-111111/journal.json"));
    assert_non_null(strstr(page, "<div class=\"exit exit-4\" role=\"status\"><span class=\"code\">exit status 4"));
    assert_non_null(strstr(page, "tr class=\"row-not-restored\""));
    assert_non_null(strstr(page, "<dt>shard</dt><dd>2 of 3</dd>"));
    assert_non_null(strstr(page, "20261120T000000Z-abcdef"));
    assert_non_null(strstr(page, "Absent since the baseline"));
    assert_non_null(strstr(page, "absent since the baseline"));
    free(page);

    /* exit status 4 alone (no result says not-restored) still raises it. */
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "results"), 0), "status",
                              cJSON_CreateString("interrupted"));
    page = render_ok(doc);
    assert_non_null(strstr(page, "CONFIGURATION NOT RESTORED"));
    free(page);
    cJSON_Delete(doc);
}

/* 5000 invocations over 100 environments and an unknown lane: lanes stop
 * at the cap and the caption says so; a memory finding without a series
 * has no chart, one with a series but no fit has points only. */
static void test_big_timeline(void **state)
{
    cJSON *doc = fixture_load(FIXTURES "html-empty.json");
    cJSON *res = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "results"), 0);
    cJSON *tl = cJSON_AddObjectToObject(res, "timeline"), *invs, *steps;
    cJSON *findings = cJSON_GetObjectItem(doc, "findings");
    char *page;

    (void)state;
    steps = cJSON_AddArrayToObject(tl, "steps");
    invs = cJSON_AddArrayToObject(tl, "invocations");
    for (int s = 0; s < 100; s++) {
        cJSON *st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "id", s % 10 ? "burst" : "cold_start#n");
        cJSON_AddStringToObject(st, "kind", s % 10 ? "invoke" : "cold_start");
        cJSON_AddNumberToObject(st, "start_ms", s * 100.0);
        cJSON_AddNumberToObject(st, "end_ms", s * 100.0 + 90);
        cJSON_AddItemToArray(steps, st);
    }
    for (int i = 0; i < 5000; i++) {
        cJSON *iv = cJSON_CreateObject();
        char user[16];
        snprintf(user, sizeof(user), "user%d", i % 12);
        cJSON_AddNumberToObject(iv, "seq", i + 1);
        cJSON_AddStringToObject(iv, "step", "burst");
        cJSON_AddStringToObject(iv, "user", user);
        cJSON_AddStringToObject(iv, "state", "ok");
        cJSON_AddNumberToObject(iv, "status", 200);
        cJSON_AddBoolToObject(iv, "cold", i < 100);
        if (i % 7 != 3)
            cJSON_AddNumberToObject(iv, "env", (i % 100) + 1);
        cJSON_AddNumberToObject(iv, "start_ms", i * 2.0);
        cJSON_AddNumberToObject(iv, "end_ms", i * 2.0 + 7);
        cJSON_AddItemToArray(invs, iv);
    }
    {
        cJSON *f = cJSON_CreateObject(), *ev;
        cJSON_AddStringToObject(f, "severity", "medium");
        cJSON_AddStringToObject(f, "title", "no series");
        ev = cJSON_AddObjectToObject(f, "evidence");
        cJSON_AddNumberToObject(ev, "slope_mb_per_invocation", 1);
        cJSON_AddItemToArray(findings, f);
        f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "severity", "medium");
        cJSON_AddStringToObject(f, "title", "crashed");
        ev = cJSON_AddObjectToObject(f, "evidence");
        cJSON_AddNumberToObject(ev, "memory_size_mb", 128);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(ev, "max_memory_used_mb"), cJSON_CreateNumber(120));
        cJSON_AddItemToArray(findings, f);
    }
    page = render_ok(doc);
    check_page(page);
    assert_int_equal(count(page, "<svg class=\"timeline\""), 1);
    assert_non_null(strstr(page, ">env 48</text>"));
    assert_null(strstr(page, ">env 49</text>"));
    assert_non_null(strstr(page, ">unknown</text>"));
    assert_non_null(strstr(page, "Only the first 48 environments are drawn; 52 more"));
    assert_true(count(page, "<rect class=\"inv ") < 5000);
    assert_true(count(page, "class=\"step\"") <= 64);
    assert_non_null(strstr(page, "class=\"inv uo"));
    assert_non_null(strstr(page, "other users"));
    assert_int_equal(count(page, "<svg class=\"memchart\""), 1);
    assert_int_equal(count(page, "class=\"fit\""), 0);
    free(page);
    cJSON_Delete(doc);
}

static void expect_malformed(cJSON *doc, const char *want)
{
    char err[256];
    int rc;
    char *page = render(doc, &rc, err, sizeof(err));

    assert_int_equal(rc, -1);
    if (!strstr(err, want))
        fail_msg("err \"%s\" lacks \"%s\"", err, want);
    assert_string_equal(page, ""); /* nothing written for a bad document */
    free(page);
}

static void test_malformed(void **state)
{
    cJSON *doc;
    char err[64];

    (void)state;
    expect_malformed(NULL, "not a JSON object");
    doc = cJSON_CreateArray();
    expect_malformed(doc, "not a JSON object");
    cJSON_Delete(doc);

    doc = fixture_load(FIXTURES "html-empty.json");
    cJSON_ReplaceItemInObject(doc, "coldsec_report", cJSON_CreateNumber(2));
    expect_malformed(doc, "coldsec_report");
    cJSON_Delete(doc);

    doc = fixture_load(FIXTURES "html-empty.json");
    cJSON_ReplaceItemInObject(doc, "findings", cJSON_CreateString("none"));
    expect_malformed(doc, "findings is not an array");
    cJSON_Delete(doc);

    doc = fixture_load(FIXTURES "html-empty.json");
    cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "results"), cJSON_CreateString("x"));
    expect_malformed(doc, "an element of results");
    cJSON_Delete(doc);

    doc = fixture_load(FIXTURES "html-empty.json");
    cJSON_DeleteItemFromObject(doc, "summary");
    expect_malformed(doc, "summary");
    cJSON_Delete(doc);

    doc = fixture_load(FIXTURES "html-empty.json");
    cJSON_DeleteItemFromObject(doc, "run_id");
    expect_malformed(doc, "run_id");
    /* No stream; a tiny err buffer is cut, not overrun. */
    assert_int_equal(htmlreport_write(doc, NULL, err, 4), -1);
    assert_int_equal(strlen(err), 3);
    cJSON_Delete(doc);
}

/* A write that fails (a full disk) is an error, not a short page. */
static void test_write_error(void **state)
{
    cJSON *doc = fixture_load(FIXTURES "report-sample.json");
    char err[256] = "";
    FILE *full = fopen("/dev/full", "w");

    (void)state;
    if (!full)
        skip();
    assert_int_equal(htmlreport_write(doc, full, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "write failed"));
    fclose(full);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample),        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_no_findings),   cmocka_unit_test(test_not_restored),
        cmocka_unit_test(test_big_timeline),  cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_write_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
