/*
 * junit — junit.xml from a report.json document (mapping and escaping in
 * junit.h; the subset written is schemas/junit.xsd). Two passes: the first
 * checks the document and classifies every result (passed, failure,
 * error), because a <testsuite>'s counts are attributes that precede its
 * test cases; the second writes, straight to the stream.
 */
#include "junit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"

/* What one report string may add to the file: CI servers hold the whole
 * file in memory and show each text in a page. */
#define JUNIT_MAX_ATTR ((size_t)1024)
#define JUNIT_MAX_TEXT ((size_t)64 * 1024)
/* Larger durations are not a run's (and "inf" is no xs:decimal). */
#define JUNIT_MAX_MS 1e15

#define REPLACEMENT "\xef\xbf\xbd"
#define SETUP_CASE_NAME "(target setup)"
#define ATTACHMENT_MARKER "[[ATTACHMENT|"

typedef enum { ESC_TEXT, ESC_ATTR } esc_mode;

typedef enum { CASE_PASSED, CASE_FAILURE, CASE_ERROR, CASE_SKIPPED } case_kind;

typedef struct {
    const cJSON *result;
    const cJSON *worst;   /* the gating finding the failure message names */
    size_t gating;        /* findings of the result with gate = true */
    size_t findings;      /* all findings of the result */
    size_t suite;         /* index into writer.suites */
    double ms;
    case_kind kind;
} case_info;

typedef struct {
    const char *name;     /* as the document spells it, to match results */
    const char *label;    /* as written */
    const cJSON *target;  /* NULL for a target results[] names but targets[] lacks */
    size_t tests, failures, errors, skipped;
    double ms;
} suite_info;

typedef struct {
    FILE *out;
    const cJSON *report;
    const cJSON *findings;
    const char *fail_on;     /* NULL when the document has none */
    const char *suite_path;  /* likewise */
    suite_info *suites;
    size_t nsuites;
    case_info *cases;
    size_t ncases;
    bool oom;
} writer;

static const char *const severities[] = {"info", "low", "medium", "high", "critical"};

/* Statuses of results[] that end a test case with <error>. */
static const char *const error_statuses[] = {"refused", "untestable", "interrupted", "not-restored"};

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *get_str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static const char *str_or(const cJSON *o, const char *key, const char *fallback)
{
    const char *s = get_str(o, key);
    return s ? s : fallback;
}

/* Names become attributes that may not be empty (schemas/junit.xsd). */
static const char *nonempty(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

static int severity_rank(const char *s)
{
    for (size_t i = 0; s && i < sizeof(severities) / sizeof(severities[0]); i++)
        if (strcmp(s, severities[i]) == 0)
            return (int)i;
    return -1;
}

static bool is_error_status(const char *status)
{
    for (size_t i = 0; i < sizeof(error_statuses) / sizeof(error_statuses[0]); i++)
        if (strcmp(status, error_statuses[i]) == 0)
            return true;
    return false;
}

static bool known_status(const char *status)
{
    return strcmp(status, "passed") == 0 || strcmp(status, "findings") == 0 || strcmp(status, "not_applicable") == 0 ||
           is_error_status(status);
}

/* A duration in ms from the document, or 0 when it is none a run has. */
static double ms_of(const cJSON *o)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "ms");
    double ms = cJSON_IsNumber(v) ? v->valuedouble : 0;
    return ms >= 0 && ms < JUNIT_MAX_MS ? ms : 0;
}

static bool finding_of(const cJSON *f, const cJSON *result)
{
    return strcmp(get_str(f, "target"), get_str(result, "target")) == 0 &&
           strcmp(get_str(f, "scenario"), get_str(result, "scenario")) == 0;
}

/* ---------- escaping ---------- */

/* XML 1.0's Char production (utf8_decode already refuses surrogates and
 * anything past U+10FFFF), less DEL and the C1 controls: those are legal
 * XML but invisible, and terminals that show a log act on some of them. */
static bool xml_char(uint32_t c)
{
    if (c == 0x9 || c == 0xa || c == 0xd)
        return true;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
        return false;
    return c != 0xfffe && c != 0xffff;
}

/* Length of s[0..n) cut to at most cap bytes, backed off a split UTF-8
 * sequence so the cut does not add a U+FFFD of its own. */
static size_t cut_len(const char *s, size_t n, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t cut = cap;

    if (n <= cap)
        return n;
    for (int back = 0; cut > 0 && back < 3 && (p[cut] & 0xc0u) == 0x80u; back++)
        cut--;
    return cut;
}

/* Writes s[0..n) as XML character data. '>' is escaped too, so "]]>" never
 * appears; in attributes, quotes are escaped and newlines, tabs and CRs
 * become character references so that attribute normalisation keeps them.
 * Text keeps its quotes: evidence is JSON, and people read the raw file. */
static void put_span(FILE *out, const char *s, size_t n, esc_mode mode)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        uint32_t c = 0;
        size_t len = utf8_decode(p + i, n - i, &c);

        if (len == 0 || !xml_char(c)) {
            fputs(REPLACEMENT, out);
            i += len ? len : 1;
            continue;
        }
        switch (c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs(mode == ESC_ATTR ? "&quot;" : "\"", out); break;
        case '\'': fputs(mode == ESC_ATTR ? "&apos;" : "'", out); break;
        case '\r': fputs("&#13;", out); break;
        case '\n': fputs(mode == ESC_ATTR ? "&#10;" : "\n", out); break;
        case '\t': fputs(mode == ESC_ATTR ? "&#9;" : "\t", out); break;
        case '[':
            /* Jenkins's junit-attachments plugin copies the file such a
             * marker names from the agent; GitLab links it. Evidence must
             * not choose files, so the marker is broken up. */
            if (n - i >= strlen(ATTACHMENT_MARKER) &&
                strncasecmp((const char *)p + i, ATTACHMENT_MARKER, strlen(ATTACHMENT_MARKER)) == 0) {
                fputs("[ [", out);
                i += 2;
                continue;
            }
            fputc('[', out);
            break;
        default: fwrite(p + i, 1, len, out); break;
        }
        i += len;
    }
}

static void put_str(writer *w, const char *s, esc_mode mode)
{
    size_t n = strlen(s), cap = mode == ESC_ATTR ? JUNIT_MAX_ATTR : JUNIT_MAX_TEXT, cut = cut_len(s, n, cap);

    put_span(w->out, s, cut, mode);
    if (cut < n)
        fprintf(w->out, " … [%zu more bytes cut]", n - cut);
}

static void put_indent(writer *w, int indent)
{
    fprintf(w->out, "%*s", indent, "");
}

/* A multi-line text (a log tail, a fix) with every line after the first
 * indented, so it reads as part of the entry above it. */
static void put_block(writer *w, const char *s, int indent)
{
    size_t n = strlen(s), cut = cut_len(s, n, JUNIT_MAX_TEXT), start = 0;
    size_t end = cut;

    while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r'))
        end--;
    for (size_t i = 0; i <= end; i++) {
        if (i < end && s[i] != '\n')
            continue;
        put_span(w->out, s + start, i - start, ESC_TEXT);
        if (i < end) {
            fputc('\n', w->out);
            put_indent(w, indent);
        }
        start = i + 1;
    }
    if (cut < n)
        fprintf(w->out, " … [%zu more bytes cut]", n - cut);
}

static void put_number(writer *w, double v)
{
    fprintf(w->out, "%.15g", v);
}

static void put_secs(writer *w, double ms)
{
    fprintf(w->out, "%.3f", ms / 1000.0);
}

/* One value on a line: scalars as they are, anything else as compact JSON. */
static void put_value(writer *w, const cJSON *v)
{
    char *json;

    if (!v) {
        fputs("(none)", w->out);
    } else if (cJSON_IsString(v)) {
        put_str(w, v->valuestring, ESC_TEXT);
    } else if (cJSON_IsNumber(v)) {
        put_number(w, v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        fputs(cJSON_IsTrue(v) ? "true" : "false", w->out);
    } else if (cJSON_IsNull(v)) {
        fputs("null", w->out);
    } else {
        json = cJSON_PrintUnformatted(v);
        if (!json) {
            w->oom = true;
            return;
        }
        put_str(w, json, ESC_TEXT);
        cJSON_free(json);
    }
}

static bool is_scalar(const cJSON *v)
{
    return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsNull(v);
}

/* The texts of an invocation that get lines of their own. */
static bool is_exchange_key(const char *k)
{
    return strcmp(k, "request") == 0 || strcmp(k, "response") == 0 || strcmp(k, "log_tail") == 0;
}

/* "key=value, key=value" for the members of o that are not skipped. */
static void put_pairs(writer *w, const cJSON *o, bool skip_exchange, bool skip_objects)
{
    const cJSON *it;
    bool first = true;

    cJSON_ArrayForEach(it, o) {
        if (!it->string || (skip_exchange && is_exchange_key(it->string)) || (skip_objects && cJSON_IsObject(it)))
            continue;
        fputs(first ? "" : ", ", w->out);
        put_str(w, it->string, ESC_TEXT);
        fputc('=', w->out);
        put_value(w, it);
        first = false;
    }
}

/* ---------- findings ---------- */

static void put_gate_reason(writer *w, const cJSON *f)
{
    const char *sev = str_or(f, "severity", "(no severity)");

    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "gate"))) {
        fputs("fails the test: ", w->out);
        put_str(w, sev, ESC_TEXT);
        fputs(w->fail_on ? " is at or above fail_on " : " gates this run", w->out);
        if (w->fail_on)
            put_str(w, w->fail_on, ESC_TEXT);
    } else if (strcmp(str_or(f, "baseline", ""), "known") == 0) {
        fputs("does not fail the test: the baseline report already has it (baseline: known)", w->out);
    } else if (w->fail_on && severity_rank(sev) < severity_rank(w->fail_on)) {
        fputs("does not fail the test: ", w->out);
        put_str(w, sev, ESC_TEXT);
        fputs(" is below fail_on ", w->out);
        put_str(w, w->fail_on, ESC_TEXT);
    } else {
        fputs("does not fail the test: report.json does not count it toward the gate (gate: false)", w->out);
    }
}

/* One invocation of an example: its facts on one line, then what went
 * in and came back, each on lines of its own. */
static void put_exchange(writer *w, const char *label, const cJSON *inv, int indent)
{
    static const char *const texts[] = {"request", "response", "log_tail"};

    put_indent(w, indent);
    put_str(w, label, ESC_TEXT);
    fputs(": ", w->out);
    put_pairs(w, inv, true, false);
    fputc('\n', w->out);
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        const char *s = get_str(inv, texts[i]);
        if (!s)
            continue;
        put_indent(w, indent + 2);
        fprintf(w->out, "%s:\n", texts[i]);
        put_indent(w, indent + 4);
        put_block(w, s, indent + 4);
        fputc('\n', w->out);
    }
}

static void put_examples(writer *w, const cJSON *examples)
{
    const cJSON *ex, *it;
    size_t k = 0;

    cJSON_ArrayForEach(ex, examples) {
        k++;
        fprintf(w->out, "  example %zu:", k);
        if (!cJSON_IsObject(ex)) {
            fputc(' ', w->out);
            put_value(w, ex);
            fputc('\n', w->out);
            continue;
        }
        /* Either an invocation itself, or facts (canary, seen_in) with
         * the invocations they relate (planted, seen). */
        fputc('\n', w->out);
        if (cJSON_GetObjectItemCaseSensitive(ex, "request") || cJSON_GetObjectItemCaseSensitive(ex, "response")) {
            put_exchange(w, "invocation", ex, 4);
            continue;
        }
        put_indent(w, 4);
        put_pairs(w, ex, false, true);
        fputc('\n', w->out);
        cJSON_ArrayForEach(it, ex) {
            if (cJSON_IsObject(it) && it->string)
                put_exchange(w, it->string, it, 4);
        }
    }
}

static void put_evidence(writer *w, const cJSON *ev)
{
    const cJSON *it, *el;
    bool any_scalar = false;

    cJSON_ArrayForEach(it, ev) {
        if (!it->string || !is_scalar(it))
            continue;
        fputs(any_scalar ? ", " : "  evidence: ", w->out);
        put_str(w, it->string, ESC_TEXT);
        fputc('=', w->out);
        put_value(w, it);
        any_scalar = true;
    }
    if (any_scalar)
        fputc('\n', w->out);
    cJSON_ArrayForEach(it, ev) {
        if (!it->string || is_scalar(it) || strcmp(it->string, "reproduce") == 0 ||
            strcmp(it->string, "examples") == 0)
            continue;
        fputs("  ", w->out);
        put_str(w, it->string, ESC_TEXT);
        fputc(':', w->out);
        if (cJSON_IsObject(it)) {
            fputc(' ', w->out);
            put_pairs(w, it, false, false);
        } else {
            cJSON_ArrayForEach(el, it) {
                fputs(cJSON_IsObject(el) ? "\n    " : el == it->child ? " " : ", ", w->out);
                if (cJSON_IsObject(el))
                    put_pairs(w, el, false, false);
                else
                    put_value(w, el);
            }
        }
        fputc('\n', w->out);
    }
    it = cJSON_GetObjectItemCaseSensitive(ev, "reproduce");
    if (cJSON_IsArray(it) && cJSON_GetArraySize(it) > 0) {
        fputs("  reproduce:\n", w->out);
        cJSON_ArrayForEach(el, it) {
            fputs("    ", w->out);
            put_value(w, el);
            fputc('\n', w->out);
        }
    }
    put_examples(w, cJSON_GetObjectItemCaseSensitive(ev, "examples"));
}

static void put_finding(writer *w, const cJSON *f)
{
    const cJSON *cwe = cJSON_GetObjectItemCaseSensitive(f, "cwe"), *it;
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(f, "evidence");
    const char *s;

    fputc('[', w->out);
    put_str(w, str_or(f, "severity", "(no severity)"), ESC_TEXT);
    fputs("] ", w->out);
    put_str(w, str_or(f, "title", "(untitled finding)"), ESC_TEXT);
    fputs("\n  ", w->out);
    put_gate_reason(w, f);
    fputs("\n  finding: ", w->out);
    put_str(w, str_or(f, "class", "?"), ESC_TEXT);
    fputc('/', w->out);
    put_str(w, str_or(f, "assertion", "?"), ESC_TEXT);
    if ((s = get_str(f, "fingerprint"))) {
        fputs(", fingerprint ", w->out);
        put_str(w, s, ESC_TEXT);
    }
    if ((s = get_str(f, "baseline"))) {
        fputs(", baseline: ", w->out);
        put_str(w, s, ESC_TEXT);
    }
    fputc('\n', w->out);
    if ((s = get_str(f, "summary"))) {
        fputs("  summary: ", w->out);
        put_block(w, s, 4);
        fputc('\n', w->out);
    }
    if (cJSON_IsArray(cwe) && cJSON_GetArraySize(cwe) > 0) {
        fputs("  CWE:", w->out);
        cJSON_ArrayForEach(it, cwe) {
            fputs(it == cwe->child ? " " : ", ", w->out);
            put_value(w, it);
        }
        fputc('\n', w->out);
    }
    if ((s = get_str(f, "fix"))) {
        fputs("  fix: ", w->out);
        put_block(w, s, 4);
        fputc('\n', w->out);
    }
    if (cJSON_IsObject(ev))
        put_evidence(w, ev);
}

/* Every finding of the result whose gate is `gate`, each after a blank line. */
static void put_findings(writer *w, const cJSON *result, bool gate)
{
    const cJSON *f;

    cJSON_ArrayForEach(f, w->findings) {
        if (finding_of(f, result) && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "gate")) == gate) {
            fputc('\n', w->out);
            put_finding(w, f);
        }
    }
}

/* ---------- test cases ---------- */

/* The journal path in a not-restored result's detail (the engine writes
 * "... the journal is PATH — run `coldsec restore PATH`"), or NULL. */
static const char *journal_in(const char *detail, size_t *len)
{
    static const char name[] = "journal.json";
    const char *hit = strstr(detail, name), *start;

    if (!hit)
        return NULL;
    start = hit;
    while (start > detail && !strchr(" \t\n`'\"", start[-1]))
        start--;
    *len = (size_t)(hit - start) + strlen(name);
    return start;
}

static void put_failure(writer *w, const case_info *c)
{
    fputs("      <failure message=\"[", w->out);
    put_str(w, str_or(c->worst, "severity", "(no severity)"), ESC_ATTR);
    fputs("] ", w->out);
    put_str(w, str_or(c->worst, "title", "(untitled finding)"), ESC_ATTR);
    if (w->fail_on) {
        fprintf(w->out, " (%zu finding%s at or above ", c->gating, c->gating == 1 ? "" : "s");
        put_str(w, w->fail_on, ESC_ATTR);
        fputc(')', w->out);
    } else {
        fprintf(w->out, " (%zu gating finding%s)", c->gating, c->gating == 1 ? "" : "s");
    }
    fputs("\" type=\"coldsec.", w->out);
    put_str(w, str_or(c->worst, "class", "unknown"), ESC_ATTR);
    fputc('.', w->out);
    put_str(w, str_or(c->worst, "assertion", "unknown"), ESC_ATTR);
    fprintf(w->out, "\">%zu of %zu finding%s fail%s this test.\n", c->gating, c->findings,
            c->findings == 1 ? "" : "s", c->gating == 1 ? "s" : "");
    put_findings(w, c->result, true);
    put_findings(w, c->result, false);
    fputs("</failure>\n", w->out);
}

static void put_error(writer *w, const case_info *c)
{
    const char *status = get_str(c->result, "status");
    const char *detail = str_or(c->result, "detail", "(report.json gives no detail)");
    const char *journal = NULL;
    size_t jlen = 0;
    bool lost = strcmp(status, "not-restored") == 0;

    if (lost && (journal = journal_in(detail, &jlen)) != NULL)
        jlen = cut_len(journal, jlen, JUNIT_MAX_ATTR);
    fputs("      <error message=\"", w->out);
    if (lost) {
        /* The one status that leaves harm behind: the message, which is
         * what a CI page shows first, says what to do. */
        fputs("CONFIGURATION NOT RESTORED: run `coldsec restore ", w->out);
        if (journal)
            put_span(w->out, journal, jlen, ESC_ATTR);
        else
            fputs("JOURNAL", w->out);
        fputs("` now. ", w->out);
    }
    put_str(w, detail, ESC_ATTR);
    fputs("\" type=\"", w->out);
    put_str(w, status, ESC_ATTR);
    fputs("\">", w->out);
    put_str(w, status, ESC_TEXT);
    fputs(": ", w->out);
    put_block(w, detail, 2);
    fputc('\n', w->out);
    if (lost) {
        fputs("\nTHE FUNCTION'S CONFIGURATION WAS NOT RESTORED. coldsec changed its environment variables to\n"
              "force cold starts and could not put the originals back. Run `coldsec restore ",
              w->out);
        if (journal)
            put_span(w->out, journal, jlen, ESC_TEXT);
        else
            fputs("JOURNAL", w->out);
        fputs("`\n", w->out);
        fputs(journal ? "(the journal named above) before anything else changes the function.\n"
                      : "with the journal named above before anything else changes the function.\n",
              w->out);
    }
    if (c->findings > 0) {
        fprintf(w->out, "\nThe test did not finish; %zu finding%s proven before it stopped (%zu would fail it):\n",
                c->findings, c->findings == 1 ? " was" : "s were", c->gating);
        put_findings(w, c->result, true);
        put_findings(w, c->result, false);
    }
    fputs("</error>\n", w->out);
}

static void put_system_out(writer *w, const case_info *c)
{
    static const char *const parts[][2] = {
        {"answered", "answered"}, {"cold", "cold"}, {"cold_starts_forced", "cold starts forced"}};
    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(c->result, "summary");
    const cJSON *inv = cJSON_GetObjectItemCaseSensitive(c->result, "invocations");
    const char *note = get_str(sum, "note");
    size_t quiet = c->findings - c->gating;
    bool open = false;

    if (!cJSON_IsNumber(inv))
        inv = cJSON_GetObjectItemCaseSensitive(sum, "invocations");
    fputs("      <system-out>invocations: ", w->out);
    if (cJSON_IsNumber(inv))
        put_number(w, inv->valuedouble);
    else
        fputs("unknown", w->out);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(sum, parts[i][0]);
        if (!cJSON_IsNumber(v))
            continue;
        fputs(open ? ", " : " (", w->out);
        put_number(w, v->valuedouble);
        fprintf(w->out, " %s", parts[i][1]);
        open = true;
    }
    fputs(open ? ")" : "", w->out);
    fputs(" in ", w->out);
    put_secs(w, c->ms);
    fputs(" s\n", w->out);
    if (note) {
        fputs("note: ", w->out);
        put_block(w, note, 2);
        fputc('\n', w->out);
    }
    if (quiet > 0) {
        fprintf(w->out, "\n%zu finding%s of this test %s not fail it:\n", quiet, quiet == 1 ? "" : "s",
                quiet == 1 ? "does" : "do");
        put_findings(w, c->result, false);
    }
    fputs("</system-out>\n", w->out);
}

static void put_case(writer *w, const case_info *c, const char *target)
{
    const char *scenario = get_str(c->result, "scenario");

    fputs("    <testcase name=\"", w->out);
    put_str(w, strcmp(scenario, "*") == 0 ? SETUP_CASE_NAME : nonempty(scenario, "(unnamed scenario)"), ESC_ATTR);
    fputs("\" classname=\"coldsec.", w->out);
    put_str(w, target, ESC_ATTR);
    fputs("\" time=\"", w->out);
    put_secs(w, c->ms);
    fputc('"', w->out);
    if (w->suite_path) {
        fputs(" file=\"", w->out);
        put_str(w, w->suite_path, ESC_ATTR);
        fputc('"', w->out);
    }
    fputs(">\n", w->out);
    if (c->kind == CASE_SKIPPED) {
        /* not_applicable: the function is not what the scenario tests;
         * neither a pass nor a failure. */
        fputs("      <skipped message=\"", w->out);
        put_str(w, str_or(c->result, "detail", "not applicable"), ESC_ATTR);
        fputs("\"/>\n", w->out);
    } else if (c->kind == CASE_ERROR)
        put_error(w, c);
    else if (c->kind == CASE_FAILURE)
        put_failure(w, c);
    put_system_out(w, c);
    fputs("    </testcase>\n", w->out);
}

/* ---------- suites ---------- */

static void put_property(writer *w, const char *name, const cJSON *v)
{
    if (!cJSON_IsString(v) && !cJSON_IsNumber(v))
        return;
    fprintf(w->out, "      <property name=\"%s\" value=\"", name);
    if (cJSON_IsString(v))
        put_str(w, v->valuestring, ESC_ATTR);
    else
        put_number(w, v->valuedouble);
    fputs("\"/>\n", w->out);
}

static void put_properties(writer *w, const suite_info *s)
{
    const cJSON *r = w->report;
    const cJSON *shard = cJSON_GetObjectItemCaseSensitive(r, "shard");
    const cJSON *index = cJSON_GetObjectItemCaseSensitive(shard, "index");
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(shard, "count");
    static const char *const target_keys[] = {"function", "where", "region", "arn"};

    fputs("    <properties>\n", w->out);
    put_property(w, "run_id", cJSON_GetObjectItemCaseSensitive(r, "run_id"));
    put_property(w, "seed", cJSON_GetObjectItemCaseSensitive(r, "seed"));
    put_property(w, "fail_on", cJSON_GetObjectItemCaseSensitive(r, "fail_on"));
    put_property(w, "suite", cJSON_GetObjectItemCaseSensitive(r, "suite"));
    if (cJSON_IsNumber(index) && cJSON_IsNumber(count)) {
        fputs("      <property name=\"shard\" value=\"", w->out);
        put_number(w, index->valuedouble);
        fputc('/', w->out);
        put_number(w, count->valuedouble);
        fputs("\"/>\n", w->out);
    }
    put_property(w, "coldsec_version", cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "tool"),
                                                                         "version"));
    put_property(w, "baseline_run_id",
                 cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "baseline"), "run_id"));
    for (size_t i = 0; s->target && i < sizeof(target_keys) / sizeof(target_keys[0]); i++)
        put_property(w, target_keys[i], cJSON_GetObjectItemCaseSensitive(s->target, target_keys[i]));
    fputs("    </properties>\n", w->out);
}

/* Ant's and Jenkins's timestamp: ISO 8601 without a zone (the report's
 * times are UTC); NULL-safe, false when `started` is not such a time. */
static bool ant_timestamp(const char *t, char out[20])
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";

    if (!t || strlen(t) < sizeof(shape) - 1)
        return false;
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        bool digit = t[i] >= '0' && t[i] <= '9';
        if (shape[i] == 'd' ? !digit : t[i] != shape[i])
            return false;
    }
    memcpy(out, t, sizeof(shape) - 1);
    out[sizeof(shape) - 1] = '\0';
    return true;
}

static void put_suite(writer *w, size_t si)
{
    const suite_info *s = &w->suites[si];
    char stamp[20];

    fputs("  <testsuite name=\"", w->out);
    put_str(w, s->label, ESC_ATTR);
    fprintf(w->out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"", s->tests, s->failures,
            s->errors, s->skipped);
    put_secs(w, s->ms);
    fputc('"', w->out);
    if (ant_timestamp(get_str(w->report, "started"), stamp))
        fprintf(w->out, " timestamp=\"%s\"", stamp);
    fputs(" hostname=\"coldsec\">\n", w->out);
    put_properties(w, s);
    for (size_t i = 0; i < w->ncases; i++)
        if (w->cases[i].suite == si)
            put_case(w, &w->cases[i], s->label);
    fputs("  </testsuite>\n", w->out);
}

static void put_document(writer *w)
{
    size_t tests = 0, failures = 0, errors = 0, skipped = 0;
    double ms = 0;

    for (size_t i = 0; i < w->nsuites; i++) {
        skipped += w->suites[i].skipped;
        tests += w->suites[i].tests;
        failures += w->suites[i].failures;
        errors += w->suites[i].errors;
        ms += w->suites[i].ms;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", w->out);
    fprintf(w->out, "<testsuites name=\"coldsec\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"",
            tests, failures, errors, skipped);
    put_secs(w, ms);
    fputs("\">\n", w->out);
    for (size_t i = 0; i < w->nsuites; i++)
        put_suite(w, i);
    fputs("</testsuites>\n", w->out);
}

/* ---------- checking and planning ---------- */

static int check_array(const cJSON *r, const char *key, char *err, size_t errlen)
{
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r, key)))
        return 0;
    set_err(err, errlen, "report.json: %s is not an array", key);
    return -1;
}

/* The document's shape, as far as the writer relies on it; optional and
 * descriptive fields may be missing or odd and are written as found. */
static int check_report(const cJSON *r, char *err, size_t errlen)
{
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(r, "coldsec_report"), *it;
    size_t i = 0;

    if (!cJSON_IsObject(r)) {
        set_err(err, errlen, "report.json: not a JSON object");
        return -1;
    }
    if (!cJSON_IsNumber(format) || format->valuedouble != 1) {
        set_err(err, errlen, "report.json: coldsec_report is not 1 (the only format this writer knows)");
        return -1;
    }
    if (check_array(r, "targets", err, errlen) || check_array(r, "results", err, errlen) ||
        check_array(r, "findings", err, errlen))
        return -1;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "targets")) {
        if (!get_str(it, "name")) {
            set_err(err, errlen, "report.json: targets[%zu] has no name", i);
            return -1;
        }
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "results")) {
        const char *status = get_str(it, "status");
        if (!get_str(it, "target") || !get_str(it, "scenario") || !status) {
            set_err(err, errlen, "report.json: results[%zu] lacks target, scenario or status", i);
            return -1;
        }
        if (!known_status(status)) {
            set_err(err, errlen, "report.json: results[%zu] has an unknown status", i);
            return -1;
        }
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "findings")) {
        if (!get_str(it, "target") || !get_str(it, "scenario")) {
            set_err(err, errlen, "report.json: findings[%zu] lacks target or scenario", i);
            return -1;
        }
        i++;
    }
    return 0;
}

static size_t suite_for(writer *w, const char *target)
{
    for (size_t i = 0; i < w->nsuites; i++)
        if (strcmp(w->suites[i].name, target) == 0)
            return i;
    w->suites[w->nsuites].name = target;
    w->suites[w->nsuites].label = nonempty(target, "(unnamed target)");
    return w->nsuites++;
}

static void classify(writer *w, case_info *c)
{
    const char *status = get_str(c->result, "status");
    const cJSON *f;
    int worst = -2;

    cJSON_ArrayForEach(f, w->findings) {
        if (!finding_of(f, c->result))
            continue;
        c->findings++;
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "gate")))
            continue;
        c->gating++;
        if (severity_rank(get_str(f, "severity")) > worst) {
            worst = severity_rank(get_str(f, "severity"));
            c->worst = f;
        }
    }
    c->kind = is_error_status(status)                  ? CASE_ERROR
              : strcmp(status, "not_applicable") == 0 ? CASE_SKIPPED
              : c->gating > 0                         ? CASE_FAILURE
                                                      : CASE_PASSED;
}

/* Suites in targets[] order (then targets only results[] name), each
 * result classified and counted into its suite. */
static int plan(writer *w, char *err, size_t errlen)
{
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(w->report, "targets");
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(w->report, "results"), *it;
    size_t nt = (size_t)cJSON_GetArraySize(targets), nr = (size_t)cJSON_GetArraySize(results);

    w->suites = calloc(nt + nr + 1, sizeof(*w->suites));
    w->cases = calloc(nr + 1, sizeof(*w->cases));
    if (!w->suites || !w->cases) {
        set_err(err, errlen, "junit: out of memory");
        return -1;
    }
    cJSON_ArrayForEach(it, targets) {
        size_t si = suite_for(w, get_str(it, "name"));
        if (!w->suites[si].target)
            w->suites[si].target = it;
    }
    cJSON_ArrayForEach(it, results) {
        case_info *c = &w->cases[w->ncases++];
        suite_info *s;

        c->result = it;
        c->ms = ms_of(it);
        c->suite = suite_for(w, get_str(it, "target"));
        classify(w, c);
        s = &w->suites[c->suite];
        s->tests++;
        s->failures += c->kind == CASE_FAILURE;
        s->errors += c->kind == CASE_ERROR;
        s->skipped += c->kind == CASE_SKIPPED;
        s->ms += c->ms;
    }
    return 0;
}

int junit_write(const cJSON *report, FILE *out, char *err, size_t errlen)
{
    writer w = {.out = out, .report = report};
    int rc = -1;

    if (check_report(report, err, errlen) != 0)
        goto cleanup;
    w.findings = cJSON_GetObjectItemCaseSensitive(report, "findings");
    w.fail_on = get_str(report, "fail_on");
    w.suite_path = get_str(report, "suite");
    if (plan(&w, err, errlen) != 0)
        goto cleanup;
    errno = 0;
    put_document(&w);
    if (w.oom) {
        set_err(err, errlen, "junit: out of memory");
        goto cleanup;
    }
    if (fflush(out) != 0 || ferror(out)) {
        set_err(err, errlen, "junit: write failed: %s", errno ? strerror(errno) : "stream error");
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(w.suites);
    free(w.cases);
    return rc;
}
