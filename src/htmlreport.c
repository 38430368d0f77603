/*
 * htmlreport — renders report.html from a report.json document (see
 * htmlreport.h). The page is streamed straight to the caller's FILE: a
 * header with the exit status, the summary and results table, the
 * findings with their evidence and memory charts, then one timeline per
 * scenario that invoked. Nothing but the document is read.
 *
 * Safety rests on three habits kept throughout: report text only goes out
 * through the esc_* functions (entities for & < > " ', U+FFFD for
 * ill-formed UTF-8 and control characters); class names and colours come
 * from our own tables, chosen by comparing report text against them, never
 * by copying it; the only URLs are CWE links formatted from a number we
 * parsed. Numbers in SVG coordinates are our own arithmetic on values
 * checked to be finite.
 */
#include "htmlreport.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Caps on what one page shows, so a report of any size renders in bounded
 * time and a browser can still open it. Each cap is said on the page when
 * it applies. */
#define HTMLREPORT_TEXT_CAP 65536     /* bytes of one string (evidence text) */
#define HTMLREPORT_LABEL_CHARS 28     /* characters of an SVG label */
#define HTMLREPORT_MAX_EXAMPLES 20    /* examples shown per finding */
#define HTMLREPORT_MAX_TABLE_ROWS 200 /* rows of an evidence table */
#define HTMLREPORT_MAX_TABLE_COLS 12  /* columns of an evidence table */
#define HTMLREPORT_MAX_LANES 48       /* environments drawn per timeline */
#define HTMLREPORT_MAX_RECTS 5000     /* invocations drawn per timeline */
#define HTMLREPORT_MAX_USERS 7        /* users with their own colour */
#define HTMLREPORT_MAX_POINTS 5000    /* points of a memory chart */
#define HTMLREPORT_MAX_STEP_MARKS 64   /* step markers per timeline */
#define HTMLREPORT_JSON_CAP 65536     /* bytes of an evidence value shown as JSON */

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

static const char *const SEVERITIES[] = {"critical", "high", "medium", "low", "info"};
#define NSEVERITIES (sizeof(SEVERITIES) / sizeof(SEVERITIES[0]))

typedef struct {
    FILE *out;
    const cJSON *report;
    const cJSON *scenarios; /* report.scenarios, may be NULL */
    unsigned svg_seq;       /* makes SVG title ids unique in the page */
} hr_ctx;

/* ---- reading the document -------------------------------------------- */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* cJSON turns 1e999 into infinity: such a number counts as absent. */
static bool jnum(const cJSON *o, const char *key, double *v)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble))
        return false;
    *v = n->valuedouble;
    return true;
}

static bool jtrue(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static const cJSON *jarr(const cJSON *o, const char *key)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsArray(a) ? a : NULL;
}

static const cJSON *jobj(const cJSON *o, const char *key)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsObject(a) ? a : NULL;
}

/* Index of s in SEVERITIES, or -1. */
static int severity_index(const char *s)
{
    for (size_t i = 0; s && i < NSEVERITIES; i++)
        if (strcmp(s, SEVERITIES[i]) == 0)
            return (int)i;
    return -1;
}

static const cJSON *scenario_by_id(const hr_ctx *c, const char *id)
{
    const cJSON *s;

    if (!id)
        return NULL;
    cJSON_ArrayForEach(s, c->scenarios) {
        const char *sid = jstr(s, "id");
        if (sid && strcmp(sid, id) == 0)
            return s;
    }
    return NULL;
}

/* ---- escaping ---------------------------------------------------------- */

/* Characters that would change how text displays or parses beyond its
 * glyphs: C0 and C1 controls (tab, LF and CR are layout), DEL, and the
 * bidirectional embeddings, overrides and isolates that can make a log
 * line read differently from what it holds. */
static bool harmful_cp(uint32_t cp)
{
    if (cp < 0x20)
        return cp != '\t' && cp != '\n' && cp != '\r';
    return (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Writes p[0..n) as HTML text safe in element content and in quoted
 * attribute values. */
static void esc_bytes(FILE *out, const unsigned char *p, size_t n)
{
    size_t i = 0, from = 0;

    while (i < n) {
        uint32_t cp = 0;
        size_t len = utf8_decode(p + i, n - i, &cp);
        const char *rep = NULL;

        if (len == 0) {
            rep = REPLACEMENT;
            len = 1;
        } else if (cp == '&') {
            rep = "&amp;";
        } else if (cp == '<') {
            rep = "&lt;";
        } else if (cp == '>') {
            rep = "&gt;";
        } else if (cp == '"') {
            rep = "&quot;";
        } else if (cp == '\'') {
            rep = "&#39;";
        } else if (harmful_cp(cp)) {
            rep = REPLACEMENT;
        }
        if (rep) {
            if (i > from)
                fwrite(p + from, 1, i - from, out);
            fputs(rep, out);
            from = i + len;
        }
        i += len;
    }
    if (n > from)
        fwrite(p + from, 1, n - from, out);
}

/* Byte length of s cut to at most cap bytes, not inside a UTF-8
 * sequence (a cut sequence would show as U+FFFD). */
static size_t capped_len(const char *s, size_t cap)
{
    size_t n = strlen(s);

    if (n <= cap)
        return n;
    n = cap;
    while (n > 0 && ((unsigned char)s[n] & 0xc0u) == 0x80u)
        n--;
    return n;
}

static void esc_note_cut(FILE *out, size_t total, size_t shown)
{
    if (total > shown)
        fprintf(out, "<span class=\"cut\">… %zu more bytes not shown</span>", total - shown);
}

/* Report text in element content; NULL writes nothing. */
static void esc(FILE *out, const char *s)
{
    size_t n;

    if (!s)
        return;
    n = capped_len(s, HTMLREPORT_TEXT_CAP);
    esc_bytes(out, (const unsigned char *)s, n);
    esc_note_cut(out, strlen(s), n);
}

/* Report text, or our own placeholder when it is absent. */
static void esc_or(FILE *out, const char *s, const char *absent)
{
    if (s)
        esc(out, s);
    else
        fputs(absent, out);
}

/* At most max_chars characters of s (for SVG labels and tooltips, which
 * have no room for a "bytes not shown" note), with an ellipsis when cut. */
static void esc_chars(FILE *out, const char *s, size_t max_chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n, i = 0, chars = 0;

    if (!s)
        return;
    n = strlen(s);
    while (i < n && chars < max_chars) {
        uint32_t cp;
        size_t len = utf8_decode(p + i, n - i, &cp);
        i += len ? len : 1;
        chars++;
    }
    esc_bytes(out, p, i);
    if (i < n)
        fputs("…", out);
}

/* Evidence text with every occurrence of `mark` (a canary) highlighted,
 * so a reader finds the proof in a 4 KB answer. */
static void esc_marked(FILE *out, const char *s, const char *mark)
{
    size_t n, mlen, at = 0;

    if (!s)
        return;
    n = capped_len(s, HTMLREPORT_TEXT_CAP);
    mlen = mark ? strlen(mark) : 0;
    if (mlen >= 4) {
        for (;;) {
            const char *hit = memmem(s + at, n - at, mark, mlen);
            size_t off;
            if (!hit)
                break;
            off = (size_t)(hit - s);
            esc_bytes(out, (const unsigned char *)s + at, off - at);
            fputs("<mark>", out);
            esc_bytes(out, (const unsigned char *)hit, mlen);
            fputs("</mark>", out);
            at = off + mlen;
        }
    }
    esc_bytes(out, (const unsigned char *)s + at, n - at);
    esc_note_cut(out, strlen(s), n);
}

/* ---- small formatting helpers ----------------------------------------- */

static void put_num(FILE *out, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        fprintf(out, "%.0f", v);
    else
        fprintf(out, "%.4g", v);
}

static void put_duration(FILE *out, double ms)
{
    if (ms < 1000)
        fprintf(out, "%.0f ms", ms);
    else if (ms < 120000)
        fprintf(out, "%.2f s", ms / 1000);
    else
        fprintf(out, "%.1f min", ms / 60000);
}

/* Axis ticks: nice_step gives about the number asked for; the cap only
 * guards the loops. */
#define MAX_TICKS 50

/* A 1-2-5 step giving about `want` intervals over [0, max]. */
static double nice_step(double max, double want)
{
    double raw = max / want, mag, norm;

    if (!(raw > 0) || !isfinite(raw))
        return 1;
    mag = pow(10, floor(log10(raw)));
    norm = raw / mag;
    if (norm <= 1)
        return mag;
    if (norm <= 2)
        return 2 * mag;
    if (norm <= 5)
        return 5 * mag;
    return 10 * mag;
}

static void put_ms_tick(FILE *out, double ms, double step)
{
    if (step >= 1000)
        fprintf(out, "%g s", ms / 1000);
    else
        fprintf(out, "%g ms", ms);
}

/* "CWE-94" → 94; anything else is not a CWE id we link. */
static bool cwe_number(const char *s, unsigned long *num)
{
    size_t digits = 0;
    unsigned long v = 0;

    if (!s || strncmp(s, "CWE-", 4) != 0)
        return false;
    for (s += 4; *s >= '0' && *s <= '9'; s++, digits++)
        v = v * 10 + (unsigned long)(*s - '0');
    if (*s != '\0' || digits == 0 || digits > 7)
        return false;
    *num = v;
    return true;
}

static void put_severity_badge(FILE *out, const char *sev)
{
    int i = severity_index(sev);

    fprintf(out, "<span class=\"badge sev-%s\">", i >= 0 ? SEVERITIES[i] : "unknown");
    if (sev)
        esc_chars(out, sev, 16);
    else
        fputs("unknown", out);
    fputs("</span>", out);
}

static const char *status_class(const char *status)
{
    static const char *const known[] = {"passed",      "findings",     "refused",       "untestable",
                                        "interrupted", "not-restored", "not_applicable"};

    for (size_t i = 0; status && i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(status, known[i]) == 0)
            return known[i];
    return "other";
}

/* ---- page head ------------------------------------------------------- */

static const char CSS[] =
    ":root{color-scheme:light dark;--bg:#f5f6f8;--fg:#1b1f24;--card:#fff;--muted:#59636e;--border:#d5dae0;"
    "--code:#f0f2f5;--link:#0b5cad;--crit:#8b0a1e;--high:#c62828;--med:#b86e00;--low:#1f6fb2;--info:#5f6b7a;"
    "--ok:#1a7f37;--warn:#9a6700;--cold:#3566c8;--pt:#0072b2;--grid:#e3e7ec;--axis:#6b7480;--lane:#f7f8fa;--mark:#ffe58a}"
    "@media (prefers-color-scheme:dark){:root{--bg:#0e1217;--fg:#e2e6eb;--card:#161b22;--muted:#9aa5b1;"
    "--border:#2d3540;--code:#0b0f14;--link:#6cb6ff;--crit:#ff6b81;--high:#ff7b72;--med:#e3a33b;--low:#6cb6ff;"
    "--info:#9aa5b1;--ok:#3fb950;--warn:#d29922;--cold:#8fb3ff;--pt:#56b4e9;--grid:#232a33;--axis:#8b949e;--lane:#1b2129;--mark:#6b5a00}}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,'Segoe UI',"
    "Roboto,'Noto Sans',sans-serif}"
    "main,header.top{max-width:1180px;margin:0 auto;padding:0 20px}"
    "h1{font-size:1.6em;margin:20px 0 6px}h2{font-size:1.3em;margin:28px 0 10px;padding-bottom:4px;"
    "border-bottom:1px solid var(--border)}h3{font-size:1.1em;margin:0 0 6px}h4{font-size:.95em;margin:14px 0 4px}"
    "a{color:var(--link)}"
    "code,pre,.mono{font-family:ui-monospace,'SFMono-Regular','DejaVu Sans Mono',Menlo,Consolas,monospace;"
    "font-size:.88em}"
    "pre{background:var(--code);border:1px solid var(--border);border-radius:6px;padding:8px 10px;margin:4px 0;"
    "white-space:pre-wrap;overflow-wrap:anywhere;max-height:24em;overflow:auto}"
    "mark{background:var(--mark);color:inherit;border-radius:2px}"
    ".cut{color:var(--muted);font-style:italic;margin-left:.5em}"
    ".muted{color:var(--muted)}"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0 12px}"
    "dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;overflow-wrap:anywhere}"
    ".exit{border-radius:8px;padding:10px 14px;margin:10px 0;font-weight:600;border:2px solid}"
    ".exit-0{border-color:var(--ok)}.exit-1{border-color:var(--high)}.exit-2,.exit-3,.exit-x{border-color:var(--warn)}"
    ".exit .code{font-size:1.3em;margin-right:.5em}"
    ".alarm{background:#b00020;color:#fff;padding:16px 20px;font-size:1.15em;border-bottom:6px solid #ffd400}"
    ".alarm strong{font-size:1.35em;letter-spacing:.04em;display:block}.alarm ul{margin:6px 0 0}"
    ".alarm code{color:#fff}"
    ".exit-4{background:#b00020;color:#fff;border-color:#ffd400;font-size:1.1em}"
    ".cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}"
    ".card{background:var(--card);border:1px solid var(--border);border-radius:8px;padding:8px 14px;min-width:110px}"
    ".card .n{font-size:1.6em;font-weight:700;display:block}.card .l{color:var(--muted);font-size:.85em}"
    ".card.sev-critical .n{color:var(--crit)}.card.sev-high .n{color:var(--high)}"
    ".card.sev-medium .n{color:var(--med)}.card.sev-low .n{color:var(--low)}.card.sev-info .n{color:var(--info)}"
    "table{border-collapse:collapse;width:100%;background:var(--card);margin:6px 0}table.kv{width:auto;min-width:40%}"
    "th,td{border:1px solid var(--border);padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}"
    "th{background:var(--code);font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".badge{display:inline-block;border-radius:4px;padding:0 7px;font-size:.8em;font-weight:700;color:#fff;"
    "text-transform:uppercase;letter-spacing:.03em;vertical-align:2px;white-space:nowrap}"
    ".sev-critical.badge{background:var(--crit)}.sev-high.badge{background:var(--high)}"
    ".sev-medium.badge{background:var(--med)}.sev-low.badge{background:var(--low)}"
    ".sev-info.badge,.sev-unknown.badge{background:var(--info)}"
    "@media (prefers-color-scheme:dark){.badge{color:#0e1217}}"
    ".st{font-weight:600}.st-passed{color:var(--ok)}.st-findings{color:var(--high)}.st-refused,.st-untestable,"
    ".st-interrupted,.st-other{color:var(--warn)}.st-not-restored{color:#fff;background:#b00020;padding:0 4px;"
    "border-radius:3px}.st-not_applicable{color:var(--muted);font-style:italic}"
    "tr.row-not-restored td{background:rgba(176,0,32,.12)}"
    ".tag{display:inline-block;border:1px solid var(--border);border-radius:10px;padding:0 8px;font-size:.8em;"
    "margin-right:4px;color:var(--muted);white-space:nowrap}.tag.gate{border-color:var(--high);color:var(--high)}"
    ".tag.new{border-color:var(--med);color:var(--med)}"
    "article.finding{background:var(--card);border:1px solid var(--border);border-left:6px solid var(--info);"
    "border-radius:8px;padding:12px 16px;margin:14px 0}"
    "article.sev-critical{border-left-color:var(--crit)}article.sev-high{border-left-color:var(--high)}"
    "article.sev-medium{border-left-color:var(--med)}article.sev-low{border-left-color:var(--low)}"
    ".where{color:var(--muted);margin:2px 0 6px}.where code{color:var(--fg)}"
    "p.summary{font-weight:500;margin:6px 0}"
    "dl.fx{margin:6px 0}dl.fx dt{font-weight:600;margin-top:6px}dl.fx dd{margin:0 0 0 0;white-space:pre-line}"
    "ul.refs{margin:2px 0;padding-left:20px}"
    "details{border:1px solid var(--border);border-radius:6px;margin:6px 0;background:var(--bg)}"
    "details>summary{cursor:pointer;padding:4px 10px;font-weight:500}details[open]>summary{border-bottom:1px solid "
    "var(--border)}details>div{padding:6px 10px}"
    ".inv-meta{margin:2px 0 4px;color:var(--muted)}.inv-meta span+span::before{content:' · '}.inv-meta b{color:var(--fg);font-weight:600}"
    ".pair{display:grid;grid-template-columns:1fr 1fr;gap:10px}@media (max-width:800px){.pair{grid-template-columns:1fr}}"
    "figure{margin:10px 0 18px;background:var(--card);border:1px solid var(--border);border-radius:8px;padding:10px}"
    "figcaption{color:var(--muted);font-size:.88em;margin-top:4px}"
    "svg{display:block;width:100%;height:auto}svg.memchart{max-width:860px}"
    "svg text{fill:var(--fg);font:11px system-ui,sans-serif}svg text.ax{fill:var(--axis);font-size:10px}"
    "svg .grid{stroke:var(--grid);stroke-width:1}svg .axis{stroke:var(--axis);stroke-width:1}"
    "svg .lane{fill:var(--lane)}svg .step{stroke:var(--axis);stroke-width:1;stroke-dasharray:3 3}"
    "svg .coldband{fill:#5b8def;fill-opacity:.13}svg .coldline{stroke:var(--cold);stroke-width:2}"
    "svg .sleepband{fill:var(--axis);fill-opacity:.08}"
    "svg text.coldlbl{fill:var(--cold);font-weight:600}"
    "svg .inv{stroke:var(--card);stroke-width:.7}svg .inv.cold{stroke:var(--fg);stroke-width:1.2}"
    "svg .inv.faint{fill-opacity:.35}svg .coldmk{fill:var(--fg)}svg .errmk{fill:#d1242f}"
    ".u0{fill:#0072b2;background:#0072b2}.u1{fill:#e69f00;background:#e69f00}.u2{fill:#009e73;background:#009e73}"
    ".u3{fill:#cc79a7;background:#cc79a7}.u4{fill:#56b4e9;background:#56b4e9}.u5{fill:#d55e00;background:#d55e00}"
    ".u6{fill:#b8a800;background:#b8a800}.uo{fill:#8c8c8c;background:#8c8c8c}"
    "ul.legend{list-style:none;padding:0;margin:6px 0 0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:.88em}"
    "ul.legend .sw{display:inline-block;width:14px;height:10px;border-radius:2px;margin-right:5px;vertical-align:0}"
    "ul.legend .sw.cold{background:none;border:1.5px solid var(--fg)}"
    "ul.legend .sw.err{background:none;border-bottom:3px solid #d1242f;border-radius:0}"
    "ul.legend .sw.cs{background:#5b8def;opacity:.5}"
    "svg .ovl{fill:var(--mark);opacity:.75}ul.legend .sw.ovl{background:var(--mark)}"
    "svg .pt{fill:var(--pt)}svg .fit{stroke:#d55e00;stroke-width:2;fill:none}"
    "svg .proj{stroke:#d55e00;stroke-width:1.5;stroke-dasharray:2 4;fill:none}"
    "svg .limit{stroke:#d1242f;stroke-width:1.5;stroke-dasharray:6 4}svg text.limitlbl{fill:#d1242f}"
    "footer{max-width:1180px;margin:30px auto;padding:10px 20px;color:var(--muted);font-size:.85em;"
    "border-top:1px solid var(--border)}"
    "@media print{:root{--bg:#fff;--card:#fff;--fg:#000;--code:#f4f4f4}body{font-size:11pt}"
    "main,header.top{max-width:none}article.finding,figure,tr{break-inside:avoid}h2{break-after:avoid}"
    "details::details-content{content-visibility:visible;display:block}pre{max-height:none;overflow:visible}"
    "a{color:inherit;text-decoration:none}}";

static void write_head(hr_ctx *c)
{
    FILE *out = c->out;

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"referrer\" content=\"no-referrer\">\n<title>coldsec report ",
          out);
    esc(out, jstr(c->report, "run_id"));
    fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", CSS);
}

/* ---- header: the run and its exit status ------------------------------ */

static const char *exit_meaning(int status)
{
    switch (status) {
    case 0:
        return "nothing at or above the gate";
    case 1:
        return "findings at or above the gate";
    case 2:
        return "usage or configuration error";
    case 3:
        return "a target could not be tested, or the run was interrupted";
    case 4:
        return "a configuration could not be restored";
    default:
        return "unknown exit status";
    }
}

/* The loudest thing on the page: a function may still run with the
 * configuration coldsec changed to force cold starts. */
static void write_not_restored(hr_ctx *c, int exit_status)
{
    FILE *out = c->out;
    const cJSON *r;
    bool any = exit_status == 4;

    cJSON_ArrayForEach(r, jarr(c->report, "results")) {
        const char *st = jstr(r, "status");
        if (st && strcmp(st, "not-restored") == 0)
            any = true;
    }
    if (!any)
        return;
    fputs("<div class=\"alarm\" role=\"alert\"><strong>⚠ CONFIGURATION NOT RESTORED (exit status 4)</strong>"
          "coldsec changed a function's configuration to force cold starts and could not put it back, or left "
          "someone else's change in place. The function may still run with coldsec's variables. Finish the "
          "restore with <code>coldsec restore reports/RUN/journal.json</code> and check the function by hand.",
          out);
    fputs("<ul>", out);
    cJSON_ArrayForEach(r, jarr(c->report, "results")) {
        const char *st = jstr(r, "status");
        if (!st || strcmp(st, "not-restored") != 0)
            continue;
        fputs("<li><code>", out);
        esc_or(out, jstr(r, "target"), "?");
        fputs("</code> (", out);
        esc_or(out, jstr(r, "function"), "?");
        fputs(")", out);
        if (jstr(r, "detail")) {
            fputs(": ", out);
            esc(out, jstr(r, "detail"));
        }
        fputs("</li>", out);
    }
    fputs("</ul></div>\n", out);
}

static void meta_row(FILE *out, const char *label, const char *value)
{
    fprintf(out, "<dt>%s</dt><dd>", label);
    esc_or(out, value, "<span class=\"muted\">—</span>");
    fputs("</dd>", out);
}

static void write_header(hr_ctx *c, int exit_status)
{
    FILE *out = c->out;
    const cJSON *rep = c->report, *tool = jobj(rep, "tool"), *shard = jobj(rep, "shard");
    const cJSON *base = jobj(rep, "baseline");
    double v;

    write_not_restored(c, exit_status);
    fputs("<header class=\"top\">\n<h1>coldsec report</h1>\n<dl class=\"meta\">", out);
    fputs("<dt>run</dt><dd><code>", out);
    esc(out, jstr(rep, "run_id"));
    fputs("</code></dd>", out);
    meta_row(out, "suite", jstr(rep, "suite"));
    fputs("<dt>seed</dt><dd>", out);
    if (jnum(rep, "seed", &v))
        put_num(out, v);
    else
        fputs("—", out);
    fputs("</dd><dt>gate (fail_on)</dt><dd>", out);
    put_severity_badge(out, jstr(rep, "fail_on"));
    fputs("</dd>", out);
    meta_row(out, "started", jstr(rep, "started"));
    meta_row(out, "finished", jstr(rep, "finished"));
    if (shard) {
        double i = 0, n = 0;
        fputs("<dt>shard</dt><dd>", out);
        if (jnum(shard, "index", &i) && jnum(shard, "count", &n)) {
            put_num(out, i);
            fputs(" of ", out);
            put_num(out, n);
        } else {
            fputs("?", out);
        }
        fputs("</dd>", out);
    }
    if (base) {
        fputs("<dt>baseline</dt><dd><code>", out);
        esc_or(out, jstr(base, "run_id"), "?");
        fputs("</code>", out);
        if (jstr(base, "report")) {
            fputs(" from <code>", out);
            esc(out, jstr(base, "report"));
            fputs("</code>", out);
        }
        fputs("</dd>", out);
    }
    fputs("<dt>tool</dt><dd>", out);
    esc_or(out, jstr(tool, "name"), "coldsec");
    fputs(" ", out);
    esc(out, jstr(tool, "version"));
    fputs("</dd></dl>\n", out);
    if (exit_status >= 0 && exit_status <= 4)
        fprintf(out, "<div class=\"exit exit-%d\" role=\"status\"><span class=\"code\">exit status %d</span>%s</div>\n",
                exit_status, exit_status, exit_meaning(exit_status));
    else
        fputs("<div class=\"exit exit-x\" role=\"status\"><span class=\"code\">exit status ?</span>"
              "the report does not say</div>\n",
              out);
    fputs("</header>\n", out);
}

/* ---- summary and results ------------------------------------------------ */

/* A count from the summary; "—" when the report lacks it. */
static void card(FILE *out, const char *cls, const cJSON *obj, const char *key, const char *label)
{
    double n;

    fprintf(out, "<div class=\"card %s\"><span class=\"n\">", cls);
    if (jnum(obj, key, &n))
        put_num(out, n);
    else
        fputs("—", out);
    fprintf(out, "</span><span class=\"l\">%s</span></div>", label);
}

static void write_findings_index(hr_ctx *c)
{
    FILE *out = c->out;
    const cJSON *f;
    int i = 0;

    if (cJSON_GetArraySize(jarr(c->report, "findings")) == 0)
        return;
    fputs("<h3>Findings at a glance</h3>\n<table><thead><tr><th scope=\"col\">severity</th>"
          "<th scope=\"col\">finding</th><th scope=\"col\">target</th><th scope=\"col\">gate</th></tr></thead><tbody>",
          out);
    cJSON_ArrayForEach(f, jarr(c->report, "findings")) {
        const char *bl = jstr(f, "baseline");
        i++;
        fputs("<tr><td>", out);
        put_severity_badge(out, jstr(f, "severity"));
        fprintf(out, "</td><td><a href=\"#finding-%d\">", i);
        esc_or(out, jstr(f, "title"), "(untitled)");
        fputs("</a></td><td><code>", out);
        esc(out, jstr(f, "target"));
        fputs("</code></td><td>", out);
        fputs(jtrue(f, "gate") ? "<span class=\"tag gate\">at/above gate</span>" : "<span class=\"muted\">below</span>",
              out);
        if (bl && strcmp(bl, "known") == 0)
            fputs(" <span class=\"tag\">known</span>", out);
        else if (bl && strcmp(bl, "new") == 0)
            fputs(" <span class=\"tag new\">new</span>", out);
        fputs("</td></tr>", out);
    }
    fputs("</tbody></table>\n", out);
}

static void write_summary(hr_ctx *c, const bool *drawn)
{
    FILE *out = c->out;
    const cJSON *sum = jobj(c->report, "summary"), *bysev = jobj(sum, "by_severity"), *r;
    double v = 0;
    int i = 0;

    fputs("<section id=\"summary\" aria-labelledby=\"h-summary\">\n<h2 id=\"h-summary\">Summary</h2>\n"
          "<div class=\"cards\">",
          out);
    for (size_t s = 0; s < NSEVERITIES; s++) {
        char cls[32];
        snprintf(cls, sizeof(cls), "sev-%s", SEVERITIES[s]);
        card(out, cls, bysev, SEVERITIES[s], SEVERITIES[s]);
    }
    card(out, "", sum, "findings", "findings");
    card(out, "", sum, "findings_at_or_above_gate", "at or above the gate");
    if (jobj(c->report, "baseline")) {
        card(out, "", sum, "new_findings", "new since the baseline");
        card(out, "", sum, "known_findings", "known from the baseline");
        card(out, "", sum, "absent_findings", "absent since the baseline");
    }
    card(out, "", sum, "results", "results");
    card(out, "", sum, "not_completed", "not completed");
    fputs("</div>\n", out);
    write_findings_index(c);

    fputs("<h3>Results</h3>\n<table><thead><tr><th scope=\"col\">target</th><th scope=\"col\">scenario</th>"
          "<th scope=\"col\">status</th><th scope=\"col\">findings</th><th scope=\"col\">invocations</th>"
          "<th scope=\"col\">time</th></tr></thead><tbody>",
          out);
    cJSON_ArrayForEach(r, jarr(c->report, "results")) {
        const char *st = jstr(r, "status"), *cls = status_class(st);
        fprintf(out, "<tr class=\"row-%s\"><td><code>", cls);
        esc(out, jstr(r, "target"));
        fputs("</code></td><td>", out);
        esc(out, jstr(r, "scenario"));
        fprintf(out, "</td><td><span class=\"st st-%s\">", cls);
        esc_or(out, st, "?");
        fputs("</span>", out);
        if (jstr(r, "detail")) {
            fputs("<br><span class=\"muted\">", out);
            esc(out, jstr(r, "detail"));
            fputs("</span>", out);
        }
        fputs("</td><td class=\"num\">", out);
        if (jnum(r, "findings", &v))
            put_num(out, v);
        fputs("</td><td class=\"num\">", out);
        if (jnum(r, "invocations", &v)) {
            if (drawn[i])
                fprintf(out, "<a href=\"#timeline-%d\" title=\"timeline\">", i);
            put_num(out, v);
            if (drawn[i])
                fputs("</a>", out);
        }
        fputs("</td><td class=\"num\">", out);
        if (jnum(r, "ms", &v) && v >= 0)
            put_duration(out, v);
        fputs("</td></tr>", out);
        i++;
    }
    fputs("</tbody></table>\n</section>\n", out);
}

/* ---- findings ----------------------------------------------------------- */

static void write_cwe(hr_ctx *c, const cJSON *f, const cJSON *scen)
{
    FILE *out = c->out;
    const cJSON *cw, *ref;
    bool any_other = false;

    if (cJSON_GetArraySize(jarr(f, "cwe")) > 0) {
        fputs("<dt>Weaknesses</dt><dd><ul class=\"refs\">", out);
        cJSON_ArrayForEach(cw, jarr(f, "cwe")) {
            unsigned long num;
            const char *id = cJSON_IsString(cw) ? cw->valuestring : NULL;
            if (!id)
                continue;
            fputs("<li>", out);
            if (cwe_number(id, &num)) {
                fprintf(out,
                        "<a href=\"https://cwe.mitre.org/data/definitions/%lu.html\" rel=\"noopener noreferrer\">"
                        "CWE-%lu</a>",
                        num, num);
                /* The scenario's references carry the weakness's name. */
                cJSON_ArrayForEach(ref, jarr(scen, "references")) {
                    const char *rc = jstr(ref, "cwe");
                    if (rc && strcmp(rc, id) == 0 && jstr(ref, "title")) {
                        fputs(" ", out);
                        esc(out, jstr(ref, "title"));
                        break;
                    }
                }
            } else {
                esc(out, id);
            }
            fputs("</li>", out);
        }
        fputs("</ul></dd>", out);
    }
    cJSON_ArrayForEach(ref, jarr(scen, "references"))
        if (!jstr(ref, "cwe"))
            any_other = true;
    if (!any_other)
        return;
    /* Seed articles and URLs stay text: a URL from the report is never a link. */
    fputs("<dt>References</dt><dd><ul class=\"refs\">", out);
    cJSON_ArrayForEach(ref, jarr(scen, "references")) {
        if (jstr(ref, "cwe"))
            continue;
        fputs("<li>", out);
        if (jstr(ref, "seed")) {
            fputs("seed article ", out);
            esc(out, jstr(ref, "seed"));
            fputs(": ", out);
        }
        esc(out, jstr(ref, "title"));
        if (jstr(ref, "url")) {
            fputs(" <code>", out);
            esc(out, jstr(ref, "url"));
            fputs("</code>", out);
        }
        fputs("</li>", out);
    }
    fputs("</ul></dd>", out);
}

static bool is_scalar(const cJSON *v)
{
    return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsNull(v);
}

static void put_scalar(FILE *out, const cJSON *v)
{
    if (cJSON_IsString(v))
        esc(out, v->valuestring);
    else if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
        put_num(out, v->valuedouble);
    else if (cJSON_IsTrue(v))
        fputs("true", out);
    else if (cJSON_IsFalse(v))
        fputs("false", out);
    else if (cJSON_IsNull(v))
        fputs("<span class=\"muted\">null</span>", out);
}

/* An array of flat objects (secret-exposure's `exposed`, config's
 * `variables`) reads best as a table; columns in first-seen order. */
static bool flat_objects(const cJSON *a)
{
    const cJSON *o, *v;

    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
        return false;
    cJSON_ArrayForEach(o, a) {
        if (!cJSON_IsObject(o))
            return false;
        cJSON_ArrayForEach(v, o) if (!is_scalar(v)) return false;
    }
    return true;
}

static void write_object_table(FILE *out, const cJSON *a)
{
    const char *cols[HTMLREPORT_MAX_TABLE_COLS] = {NULL};
    size_t ncols = 0, rows = 0, total = (size_t)cJSON_GetArraySize(a);
    const cJSON *o, *v;

    cJSON_ArrayForEach(o, a) {
        cJSON_ArrayForEach(v, o) {
            size_t k;
            if (!v->string)
                continue;
            for (k = 0; k < ncols && strcmp(cols[k], v->string) != 0; k++)
                ;
            if (k == ncols && ncols < HTMLREPORT_MAX_TABLE_COLS)
                cols[ncols++] = v->string;
        }
    }
    fputs("<table><thead><tr>", out);
    for (size_t k = 0; k < ncols; k++) {
        fputs("<th scope=\"col\">", out);
        esc(out, cols[k]);
        fputs("</th>", out);
    }
    fputs("</tr></thead><tbody>", out);
    cJSON_ArrayForEach(o, a) {
        if (rows++ == HTMLREPORT_MAX_TABLE_ROWS)
            break;
        fputs("<tr>", out);
        for (size_t k = 0; k < ncols; k++) {
            fputs("<td>", out);
            put_scalar(out, cJSON_GetObjectItemCaseSensitive(o, cols[k]));
            fputs("</td>", out);
        }
        fputs("</tr>", out);
    }
    fputs("</tbody></table>", out);
    if (total > HTMLREPORT_MAX_TABLE_ROWS)
        fprintf(out, "<p class=\"muted\">%zu more rows in report.json</p>", total - HTMLREPORT_MAX_TABLE_ROWS);
}

static bool evidence_key_is_special(const char *k)
{
    return strcmp(k, "reproduce") == 0 || strcmp(k, "examples") == 0 || strcmp(k, "max_memory_used_mb") == 0;
}

/* Evidence fields other than reproduce, examples and the memory series:
 * scalars in one table, flat object lists as tables, anything else as
 * JSON. Returns -1 on allocation failure. */
static int write_evidence_facts(FILE *out, const cJSON *ev)
{
    const cJSON *v;
    bool any = false;

    cJSON_ArrayForEach(v, ev) {
        if (v->string && !evidence_key_is_special(v->string) && is_scalar(v))
            any = true;
    }
    if (any) {
        fputs("<table class=\"kv\"><tbody>", out);
        cJSON_ArrayForEach(v, ev) {
            if (!v->string || evidence_key_is_special(v->string) || !is_scalar(v))
                continue;
            fputs("<tr><th scope=\"row\">", out);
            esc(out, v->string);
            fputs("</th><td>", out);
            put_scalar(out, v);
            fputs("</td></tr>", out);
        }
        fputs("</tbody></table>", out);
    }
    cJSON_ArrayForEach(v, ev) {
        if (!v->string || evidence_key_is_special(v->string) || is_scalar(v))
            continue;
        fputs("<h4>", out);
        esc(out, v->string);
        fputs("</h4>", out);
        if (flat_objects(v)) {
            write_object_table(out, v);
        } else {
            char *json = cJSON_Print(v);
            size_t n;
            if (!json)
                return -1;
            n = capped_len(json, HTMLREPORT_JSON_CAP);
            fputs("<pre>", out);
            esc_bytes(out, (const unsigned char *)json, n);
            esc_note_cut(out, strlen(json), n);
            fputs("</pre>", out);
            cJSON_free(json);
        }
    }
    return 0;
}

static void write_reproduce(FILE *out, const cJSON *ev)
{
    const cJSON *cmd;
    bool first = true;

    if (cJSON_GetArraySize(jarr(ev, "reproduce")) == 0)
        return;
    fputs("<h4>Reproduce</h4><pre class=\"cmd\">", out);
    cJSON_ArrayForEach(cmd, jarr(ev, "reproduce")) {
        if (!cJSON_IsString(cmd))
            continue;
        if (!first)
            fputs("\n", out);
        esc(out, cmd->valuestring);
        first = false;
    }
    fputs("</pre>", out);
}

/* One line naming an invocation: "#98 step benign, user bob, warm, 200". */
static void inv_label(FILE *out, const cJSON *inv)
{
    double v;

    if (jnum(inv, "seq", &v)) {
        fputs("#", out);
        put_num(out, v);
    }
    if (jstr(inv, "step")) {
        fputs(" step ", out);
        esc(out, jstr(inv, "step"));
    }
    if (jstr(inv, "user")) {
        fputs(", user ", out);
        esc(out, jstr(inv, "user"));
    }
}

static void inv_meta_item(FILE *out, const char *label, const char *value)
{
    if (!value)
        return;
    fprintf(out, "<span>%s <b>", label);
    esc(out, value);
    fputs("</b></span>", out);
}

static void pre_block(FILE *out, const char *title, const char *text, const char *mark)
{
    if (!text)
        return;
    fprintf(out, "<h4>%s</h4><pre>", title);
    esc_marked(out, text, mark);
    fputs("</pre>", out);
}

static void write_invocation(FILE *out, const cJSON *inv, const char *mark)
{
    const cJSON *cold = cJSON_GetObjectItemCaseSensitive(inv, "cold");
    double v;

    fputs("<p class=\"inv-meta\">", out);
    inv_meta_item(out, "user id", jstr(inv, "user_id"));
    inv_meta_item(out, "field", jstr(inv, "field"));
    inv_meta_item(out, "payload entry", jstr(inv, "payload_entry"));
    if (cJSON_IsBool(cold))
        fprintf(out, "<span><b>%s</b></span>", cJSON_IsTrue(cold) ? "cold" : "warm");
    if (jnum(inv, "status", &v)) {
        fputs("<span>status <b>", out);
        put_num(out, v);
        fputs("</b></span>", out);
    }
    inv_meta_item(out, "function error", jstr(inv, "function_error"));
    if (jnum(inv, "request_bytes", &v)) {
        fputs("<span>request ", out);
        put_num(out, v);
        fputs(" bytes</span>", out);
    }
    inv_meta_item(out, "replay", jstr(inv, "request_file"));
    fputs("</p>", out);
    pre_block(out, "Request", jstr(inv, "request"), mark);
    pre_block(out, "Response", jstr(inv, "response"), mark);
    pre_block(out, "Log tail", jstr(inv, "log_tail"), mark);
}

static void write_examples(FILE *out, const cJSON *ev)
{
    const cJSON *ex, *examples = jarr(ev, "examples");
    int i = 0, total = cJSON_GetArraySize(examples);

    cJSON_ArrayForEach(ex, examples) {
        const cJSON *planted = jobj(ex, "planted"), *seen = jobj(ex, "seen");
        const char *canary = jstr(ex, "canary");

        if (!cJSON_IsObject(ex))
            continue;
        if (++i > HTMLREPORT_MAX_EXAMPLES)
            break;
        fprintf(out, "<details><summary>Example %d: ", i);
        if (planted || seen) {
            fputs("planted by ", out);
            inv_label(out, planted);
            fputs(" → seen by ", out);
            inv_label(out, seen);
            if (jstr(ex, "seen_in")) {
                fputs(" in the ", out);
                esc(out, jstr(ex, "seen_in"));
            }
            fputs("</summary><div>", out);
            if (canary) {
                fputs("<p>canary <mark class=\"mono\">", out);
                esc(out, canary);
                fputs("</mark></p>", out);
            }
            fputs("<div class=\"pair\"><div><h4>Planted ", out);
            inv_label(out, planted);
            fputs("</h4>", out);
            write_invocation(out, planted, canary);
            fputs("</div><div><h4>Seen ", out);
            inv_label(out, seen);
            fputs("</h4>", out);
            write_invocation(out, seen, canary);
            fputs("</div></div></div></details>", out);
        } else {
            inv_label(out, ex);
            fputs("</summary><div>", out);
            write_invocation(out, ex, canary);
            fputs("</div></details>", out);
        }
    }
    if (total > HTMLREPORT_MAX_EXAMPLES)
        fprintf(out, "<p class=\"muted\">%d more examples in report.json</p>", total - HTMLREPORT_MAX_EXAMPLES);
}

/* ---- memory chart ------------------------------------------------------- */

#define MC_W 860.0
#define MC_H 280.0
#define MC_L 52.0
#define MC_R 16.0
#define MC_T 14.0
#define MC_B 40.0

/* Max Memory Used per invocation of the series, the fitted line (and where
 * it meets the memory size, when that is near), and the memory size. */
static void write_memory_chart(hr_ctx *c, const cJSON *f)
{
    FILE *out = c->out;
    const cJSON *ev = jobj(f, "evidence"), *series = jarr(ev, "max_memory_used_mb"), *p;
    double slope = 0, icpt = 0, r2 = 0, limit = 0, to_oom = 0, ymax = 0, xmax, ystep, xstep;
    bool has_fit, has_limit, has_oom, project = false;
    int n = cJSON_GetArraySize(series), idx = 0, drawn = 0;
    unsigned id = ++c->svg_seq;

    if (!series)
        return;
    has_fit = jnum(ev, "slope_mb_per_invocation", &slope) && jnum(ev, "intercept_mb", &icpt);
    has_limit = jnum(ev, "memory_size_mb", &limit) && limit > 0 && limit < 1e7;
    has_oom = jnum(ev, "invocations_to_oom", &to_oom) && to_oom >= 0;
    cJSON_ArrayForEach(p, series) {
        if (idx++ >= HTMLREPORT_MAX_POINTS)
            break;
        if (cJSON_IsNumber(p) && isfinite(p->valuedouble) && p->valuedouble > ymax && p->valuedouble < 1e7)
            ymax = p->valuedouble;
    }
    if (n > HTMLREPORT_MAX_POINTS)
        n = HTMLREPORT_MAX_POINTS;
    xmax = n > 1 ? n - 1 : 1;
    /* Show the line reaching the limit only when that is within a few
     * series lengths; further out the points would shrink to a smear. */
    if (has_fit && has_limit && has_oom && slope > 0 && xmax + to_oom <= 5 * xmax + 10) {
        project = true;
        xmax += to_oom;
    }
    if (has_limit && limit > ymax)
        ymax = limit;
    ymax = ymax > 0 ? ymax * 1.08 : 1;
    ystep = nice_step(ymax, 6);
    xstep = nice_step(xmax, 8);

#define MX(x) (MC_L + (x) / xmax * (MC_W - MC_L - MC_R))
#define MY(y) (MC_H - MC_B - (y) / ymax * (MC_H - MC_B - MC_T))
    fprintf(out,
            "<figure><svg class=\"memchart\" role=\"img\" aria-labelledby=\"mc-%u\" viewBox=\"0 0 %.0f %.0f\">"
            "<title id=\"mc-%u\">Max Memory Used per invocation",
            id, MC_W, MC_H, id);
    if (has_fit)
        fputs(" with the fitted line", out);
    if (has_limit)
        fputs(" and the memory size", out);
    fputs("</title>", out);
    for (int k = 0; k <= MAX_TICKS && k * ystep <= ymax + 1e-9; k++) {
        double y = k * ystep;
        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", MC_L, MY(y),
                MC_W - MC_R, MY(y));
        fprintf(out, "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>", MC_L - 6, MY(y) + 3,
                y);
    }
    for (int k = 0; k <= MAX_TICKS && k * xstep <= xmax + 1e-9; k++)
        fprintf(out, "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>", MX(k * xstep),
                MC_H - MC_B + 14, k * xstep);
    fprintf(out,
            "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
            "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
            MC_L, MC_T, MC_L, MC_H - MC_B, MC_L, MC_H - MC_B, MC_W - MC_R, MC_H - MC_B);
    fprintf(out,
            "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">invocation in the series (0 = first "
            "after the cold start)</text>"
            "<text class=\"ax\" transform=\"translate(12 %.1f) rotate(-90)\" text-anchor=\"middle\">Max Memory "
            "Used (MB)</text>",
            (MC_L + MC_W - MC_R) / 2, MC_H - 8, (MC_T + MC_H - MC_B) / 2);
    if (has_limit)
        fprintf(out,
                "<line class=\"limit\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<text class=\"limitlbl\" x=\"%.1f\" y=\"%.1f\">memory size %g MB</text>",
                MC_L, MY(limit), MC_W - MC_R, MY(limit), MC_L + 6, MY(limit) - 5, limit);
    if (has_fit) {
        double x1 = n > 1 ? n - 1 : 1, y0 = icpt, y1 = icpt + slope * x1;
        if (fabs(y0) < 1e7 && fabs(y1) < 1e7)
            fprintf(out, "<line class=\"fit\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", MX(0), MY(y0),
                    MX(x1), MY(y1));
        if (project && fabs(y1) < 1e7)
            fprintf(out, "<line class=\"proj\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", MX(x1), MY(y1),
                    MX(xmax), MY(limit));
    }
    idx = 0;
    cJSON_ArrayForEach(p, series) {
        if (idx >= n)
            break;
        if (cJSON_IsNumber(p) && isfinite(p->valuedouble) && p->valuedouble >= 0 && p->valuedouble < 1e7) {
            fprintf(out, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\"><title>invocation %d: %g MB</title>"
                         "</circle>",
                    MX(idx), MY(p->valuedouble), idx, p->valuedouble);
            drawn++;
        }
        idx++;
    }
#undef MX
#undef MY
    fputs("</svg><figcaption>", out);
    if (drawn == 0)
        fputs("No Max Memory Used values in the evidence", out);
    else
        fprintf(out, "Max Memory Used of %d invocations on one environment", drawn);
    if (has_fit) {
        fputs("; least-squares fit: ", out);
        put_num(out, slope);
        fputs(" MB per invocation, intercept ", out);
        put_num(out, icpt);
        fputs(" MB", out);
        if (jnum(ev, "r2", &r2)) {
            fputs(", r² ", out);
            put_num(out, r2);
        }
    }
    if (has_limit) {
        fputs("; memory size ", out);
        put_num(out, limit);
        fputs(" MB (dashed)", out);
    }
    if (has_oom) {
        fputs("; the limit is reached in about ", out);
        put_num(out, to_oom);
        fputs(" more invocations", out);
        if (project)
            fputs(" (dotted)", out);
    }
    if (cJSON_GetArraySize(series) > HTMLREPORT_MAX_POINTS)
        fprintf(out, "; the first %d points are shown", HTMLREPORT_MAX_POINTS);
    fputs(".</figcaption></figure>", out);
}

static int write_finding(hr_ctx *c, const cJSON *f, int num)
{
    FILE *out = c->out;
    const cJSON *scen = scenario_by_id(c, jstr(f, "scenario")), *ev = jobj(f, "evidence");
    const char *sev = jstr(f, "severity"), *bl = jstr(f, "baseline"), *fix = jstr(f, "fix");
    const char *sfix = jstr(scen, "fix");
    int si = severity_index(sev);

    fprintf(out, "<article class=\"finding sev-%s\" id=\"finding-%d\" aria-labelledby=\"finding-%d-h\">\n",
            si >= 0 ? SEVERITIES[si] : "unknown", num, num);
    fprintf(out, "<h3 id=\"finding-%d-h\">", num);
    put_severity_badge(out, sev);
    fputs(" <span class=\"ftitle\">", out);
    esc_or(out, jstr(f, "title"), "(untitled)");
    fputs("</span></h3>\n<p class=\"where\">target <code>", out);
    esc(out, jstr(f, "target"));
    fputs("</code> · function <code>", out);
    esc(out, jstr(f, "function"));
    fputs("</code> · scenario <code>", out);
    esc(out, jstr(f, "scenario"));
    fputs("</code> · assertion <code>", out);
    esc(out, jstr(f, "assertion"));
    fputs("</code></p>\n<p>", out);
    fputs(jtrue(f, "gate") ? "<span class=\"tag gate\">counts toward the gate</span>"
                           : "<span class=\"tag\">below the gate</span>",
          out);
    if (bl && strcmp(bl, "new") == 0)
        fputs("<span class=\"tag new\">baseline: new</span>", out);
    else if (bl && strcmp(bl, "known") == 0)
        fputs("<span class=\"tag\">baseline: known</span>", out);
    fputs("<span class=\"tag\">fingerprint <code>", out);
    esc(out, jstr(f, "fingerprint"));
    fputs("</code></span></p>\n<p class=\"summary\">", out);
    esc(out, jstr(f, "summary"));
    fputs("</p>\n<dl class=\"fx\">", out);
    if (jstr(scen, "proves")) {
        fputs("<dt>What the scenario proves</dt><dd>", out);
        esc(out, jstr(scen, "proves"));
        fputs("</dd>", out);
    }
    if (fix || sfix) {
        fputs("<dt>Fix</dt><dd>", out);
        esc(out, fix ? fix : sfix);
        fputs("</dd>", out);
        if (fix && sfix && strcmp(fix, sfix) != 0) {
            fputs("<dd>", out);
            esc(out, sfix);
            fputs("</dd>", out);
        }
    }
    write_cwe(c, f, scen);
    fputs("</dl>\n", out);
    if (ev) {
        fputs("<h4>Evidence</h4>", out);
        if (write_evidence_facts(out, ev) != 0)
            return -1;
        write_memory_chart(c, f);
        write_reproduce(out, ev);
        write_examples(out, ev);
    }
    fputs("\n</article>\n", out);
    return 0;
}

static void write_absent(hr_ctx *c)
{
    FILE *out = c->out;
    const cJSON *absent = jarr(jobj(c->report, "baseline"), "absent"), *s;

    if (cJSON_GetArraySize(absent) == 0)
        return;
    fputs("<h3>Absent since the baseline</h3>\n<p class=\"muted\">Baseline findings this run did not see again: "
          "fixed, or not tested this time.</p><table><thead><tr><th scope=\"col\">severity</th>"
          "<th scope=\"col\">finding</th><th scope=\"col\">target</th><th scope=\"col\">scenario / assertion</th>"
          "<th scope=\"col\">fingerprint</th></tr></thead><tbody>",
          out);
    cJSON_ArrayForEach(s, absent) {
        fputs("<tr><td>", out);
        put_severity_badge(out, jstr(s, "severity"));
        fputs("</td><td>", out);
        esc(out, jstr(s, "title"));
        fputs("</td><td><code>", out);
        esc(out, jstr(s, "target"));
        fputs("</code></td><td>", out);
        esc(out, jstr(s, "scenario"));
        fputs(" / ", out);
        esc(out, jstr(s, "assertion"));
        fputs("</td><td><code>", out);
        esc(out, jstr(s, "fingerprint"));
        fputs("</code></td></tr>", out);
    }
    fputs("</tbody></table>\n", out);
}

static int write_findings(hr_ctx *c)
{
    FILE *out = c->out;
    const cJSON *f, *findings = jarr(c->report, "findings");
    int num = 0;

    fprintf(out, "<section id=\"findings\" aria-labelledby=\"h-findings\">\n<h2 id=\"h-findings\">Findings (%d)</h2>\n",
            cJSON_GetArraySize(findings));
    if (cJSON_GetArraySize(findings) == 0)
        fputs("<p>No findings.</p>\n", out);
    cJSON_ArrayForEach(f, findings)
        if (write_finding(c, f, ++num) != 0)
            return -1;
    write_absent(c);
    fputs("</section>\n", out);
    return 0;
}

/* ---- timelines ---------------------------------------------------------- */

#define TL_W 1000.0
#define TL_L 78.0  /* lane labels */
#define TL_R 14.0
#define TL_T 38.0  /* two rows of step labels */
#define TL_LANE 16.0
#define TL_BAR 10.0
#define TL_AXIS 30.0

/* x of a time on the timeline's axis. */
static double tl_x(double ms, double xmax)
{
    return TL_L + ms / xmax * (TL_W - TL_L - TL_R);
}

/* One invocation, read once from the document. */
typedef struct {
    const cJSON *src;
    double start, end;
    long env; /* -1: unknown */
    int user; /* index into users, or HTMLREPORT_MAX_USERS for "other" */
} tl_inv;

typedef struct {
    const char *users[HTMLREPORT_MAX_USERS];
    int nusers;
    bool other_users;
    long *envs; /* distinct env numbers, sorted */
    size_t nenvs;
    bool unknown_lane;
    size_t lanes; /* drawn env lanes (<= HTMLREPORT_MAX_LANES) */
    double xmax;
    bool slots;   /* lanes are concurrency slots ("lanes": "concurrency_slots"), not environments */
} tl_info;

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return (x > y) - (x < y);
}

/* Lane of an invocation, or -1 when its environment is beyond the cap. */
static long tl_lane(const tl_info *t, long env)
{
    const long *hit;

    if (env < 0)
        return (long)t->lanes;
    hit = bsearch(&env, t->envs, t->nenvs, sizeof(long), cmp_long);
    if (!hit || (size_t)(hit - t->envs) >= t->lanes)
        return -1;
    return (long)(hit - t->envs);
}

static int tl_user(tl_info *t, const char *user)
{
    if (!user) {
        t->other_users = true;
        return HTMLREPORT_MAX_USERS;
    }
    for (int i = 0; i < t->nusers; i++)
        if (strcmp(t->users[i], user) == 0)
            return i;
    if (t->nusers < HTMLREPORT_MAX_USERS) {
        t->users[t->nusers] = user;
        return t->nusers++;
    }
    t->other_users = true;
    return HTMLREPORT_MAX_USERS;
}

/* The colour classes of the stylesheet: one per user, then "other". */
static const char *tl_user_class(int user)
{
    static const char *const cls[HTMLREPORT_MAX_USERS + 1] = {"u0", "u1", "u2", "u3", "u4", "u5", "u6", "uo"};

    return cls[user >= 0 && user < HTMLREPORT_MAX_USERS ? user : HTMLREPORT_MAX_USERS];
}

static void tl_tooltip(FILE *out, const tl_inv *iv)
{
    const cJSON *s = iv->src;
    const cJSON *cold = cJSON_GetObjectItemCaseSensitive(s, "cold");
    double v;

    fputs("<title>", out);
    if (jnum(s, "seq", &v)) {
        fputs("#", out);
        put_num(out, v);
    }
    fputs(" step ", out);
    esc_chars(out, jstr(s, "step"), 64);
    fputs(", user ", out);
    esc_chars(out, jstr(s, "user"), 64);
    if (jstr(s, "field")) {
        fputs(", field ", out);
        esc_chars(out, jstr(s, "field"), 120);
    }
    if (jstr(s, "entry")) {
        fputs(", entry ", out);
        esc_chars(out, jstr(s, "entry"), 120);
    }
    fputs("\n", out);
    esc_chars(out, jstr(s, "state"), 32);
    if (jnum(s, "status", &v)) {
        fputs(" ", out);
        put_num(out, v);
    }
    if (jstr(s, "function_error")) {
        fputs(", function error ", out);
        esc_chars(out, jstr(s, "function_error"), 64);
    }
    if (cJSON_IsBool(cold))
        fputs(cJSON_IsTrue(cold) ? ", cold" : ", warm", out);
    fprintf(out, ", %.1f ms", iv->end - iv->start);
    if (jnum(s, "max_memory_used_mb", &v)) {
        fputs(", ", out);
        put_num(out, v);
        fputs(" MB", out);
    }
    if (iv->env >= 0)
        fprintf(out, ", %s %ld", cJSON_GetObjectItemCaseSensitive(s, "slot") ? "slot" : "env", iv->env);
    fputs("</title>", out);
}

static void tl_axis(FILE *out, double xmax, double plot_bottom)
{
    double step = nice_step(xmax, 10);

    for (int k = 0; k <= MAX_TICKS && k * step <= xmax + 1e-9; k++) {
        double x = k * step;
        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", tl_x(x, xmax), TL_T, tl_x(x, xmax),
                plot_bottom);
        fprintf(out, "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", tl_x(x, xmax), plot_bottom + 14);
        put_ms_tick(out, x, step);
        fputs("</text>", out);
    }
    fprintf(out, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", TL_L, plot_bottom,
            TL_W - TL_R, plot_bottom);
    fprintf(out, "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">time from the scenario's start</text>",
            TL_W - TL_R, plot_bottom + 27);
}

/* Step boundaries, forced cold starts as shaded bands, labels staggered
 * on two rows so neighbouring steps stay legible. */
static void tl_steps(FILE *out, const cJSON *steps, double xmax, double plot_bottom)
{
    const cJSON *s;
    double last_x[2] = {-1e9, -1e9};
    int marks = 0;

    cJSON_ArrayForEach(s, steps) {
        double a, b, x;
        const char *kind = jstr(s, "kind");
        bool cold = kind && strcmp(kind, "cold_start") == 0, sleep = kind && strcmp(kind, "sleep") == 0;
        int row;

        if (!jnum(s, "start_ms", &a) || a < 0 || a > xmax)
            continue;
        if (++marks > HTMLREPORT_MAX_STEP_MARKS)
            break;
        if (!jnum(s, "end_ms", &b) || b < a)
            b = a;
        if (b > xmax)
            b = xmax;
        x = tl_x(a, xmax);
        if (cold || sleep)
            fprintf(out, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
                    cold ? "coldband" : "sleepband", x, TL_T - 4, tl_x(b, xmax) - x, plot_bottom - TL_T + 4);
        fprintf(out, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", cold ? "coldline" : "step",
                x, TL_T - 10, x, plot_bottom);
        row = x - last_x[0] >= 110 ? 0 : (x - last_x[1] >= 110 ? 1 : (last_x[0] <= last_x[1] ? 0 : 1));
        last_x[row] = x;
        /* Near the right edge the label ends at its line instead. */
        if (x > TL_W - TL_R - 180)
            fprintf(out, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", cold ? "coldlbl" : "ax",
                    x - 3, row ? 24.0 : 11.0);
        else
            fprintf(out, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\">", cold ? "coldlbl" : "ax", x + 3,
                    row ? 24.0 : 11.0);
        fputs("<title>step ", out);
        esc_chars(out, jstr(s, "id"), 120);
        fputs(" (", out);
        esc_chars(out, kind, 32);
        fprintf(out, ") %.1f–%.1f ms</title>", a, b);
        if (cold)
            fputs("❄ forced cold start", out);
        else
            esc_chars(out, jstr(s, "id"), HTMLREPORT_LABEL_CHARS);
        fputs("</text>", out);
    }
}

static void tl_rects(FILE *out, const tl_info *t, const tl_inv *invs, size_t n, size_t *drawn)
{
    *drawn = 0;
    for (size_t i = 0; i < n && *drawn < HTMLREPORT_MAX_RECTS; i++) {
        const tl_inv *iv = &invs[i];
        const char *state = jstr(iv->src, "state");
        long lane = tl_lane(t, iv->env);
        bool cold = jtrue(iv->src, "cold");
        bool err = (state && strcmp(state, "failed") == 0) || jstr(iv->src, "function_error");
        bool faint = state && (strcmp(state, "cancelled") == 0 || strcmp(state, "pending") == 0);
        const char *user_cls = tl_user_class(iv->user);
        double x, w, y;

        if (lane < 0)
            continue;
        x = tl_x(iv->start, t->xmax);
        w = tl_x(iv->end, t->xmax) - x;
        if (w < 2)
            w = 2;
        y = TL_T + (double)lane * TL_LANE + (TL_LANE - TL_BAR) / 2;
        fprintf(out, "<g><rect class=\"inv %s%s%s%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\">",
                user_cls, cold ? " cold" : "", err ? " err" : "", faint ? " faint" : "", x, y, w, TL_BAR);
        tl_tooltip(out, iv);
        fputs("</rect>", out);
        if (cold)
            fprintf(out, "<path class=\"coldmk\" d=\"M%.1f %.1fl4 0l-4 4z\"/>", x, y - 2);
        if (err)
            fprintf(out, "<rect class=\"errmk\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"2.5\"/>", x, y + TL_BAR + 0.5,
                    w);
        fputs("</g>", out);
        (*drawn)++;
    }
}

/* Reads the invocations (t->envs has room for all), decides lanes and
 * users. */
static void tl_collect(const cJSON *invs_json, tl_inv *invs, size_t *n, tl_info *t)
{
    const cJSON *j;
    size_t k = 0, nenv = 0;
    const char *lane_key = t->slots ? "slot" : "env";

    cJSON_ArrayForEach(j, invs_json) {
        double a, b, env;
        if (!cJSON_IsObject(j) || !jnum(j, "start_ms", &a) || a < 0 || a > 1e10)
            continue;
        if (!jnum(j, "end_ms", &b) || b < a || b > 1e10)
            b = a;
        invs[k].src = j;
        invs[k].start = a;
        invs[k].end = b;
        invs[k].env = (jnum(j, lane_key, &env) && env >= 0 && env < 1e9 && env == floor(env)) ? (long)env : -1;
        invs[k].user = tl_user(t, jstr(j, "user"));
        if (invs[k].env < 0)
            t->unknown_lane = true;
        else
            t->envs[nenv++] = invs[k].env;
        if (b > t->xmax)
            t->xmax = b;
        k++;
    }
    *n = k;
    qsort(t->envs, nenv, sizeof(long), cmp_long);
    for (size_t i = 0; i < nenv; i++)
        if (t->nenvs == 0 || t->envs[t->nenvs - 1] != t->envs[i])
            t->envs[t->nenvs++] = t->envs[i];
    t->lanes = t->nenvs < HTMLREPORT_MAX_LANES ? t->nenvs : HTMLREPORT_MAX_LANES;
}

/* Where a canary of one request was seen in another that ran at the same
 * time: a band over the time they overlapped, across both lanes. */
static size_t tl_overlaps(FILE *out, const tl_info *t, const tl_inv *invs, size_t n, const cJSON *marks)
{
    const cJSON *m;
    size_t drawn = 0;

    cJSON_ArrayForEach(m, marks) {
        double ps, ss, a, b, y0 = -1, y1 = -1;
        if (!jnum(m, "planted_seq", &ps) || !jnum(m, "seen_seq", &ss) || !jnum(m, "start_ms", &a) ||
            !jnum(m, "end_ms", &b) || a < 0 || b < a || b > 1e10)
            continue;
        for (size_t i = 0; i < n; i++) {
            double seq;
            long lane;
            if (!jnum(invs[i].src, "seq", &seq) || (seq != ps && seq != ss) || (lane = tl_lane(t, invs[i].env)) < 0)
                continue;
            if (y0 < 0 || TL_T + (double)lane * TL_LANE < y0)
                y0 = TL_T + (double)lane * TL_LANE;
            if (TL_T + (double)(lane + 1) * TL_LANE > y1)
                y1 = TL_T + (double)(lane + 1) * TL_LANE;
        }
        if (y0 < 0)
            continue;
        fprintf(out, "<rect class=\"ovl\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>a canary of "
                     "#%.0f seen in #%.0f while both ran (",
                tl_x(a, t->xmax), y0, tl_x(b, t->xmax) - tl_x(a, t->xmax) < 2 ? 2 : tl_x(b, t->xmax) - tl_x(a, t->xmax),
                y1 - y0, ps, ss);
        put_duration(out, b - a);
        fputs(" together, client-side timing)</title></rect>", out);
        drawn++;
    }
    return drawn;
}

static void tl_legend(FILE *out, const tl_info *t)
{
    fputs("<ul class=\"legend\">", out);
    for (int u = 0; u < t->nusers; u++) {
        fprintf(out, "<li><span class=\"sw %s\"></span>user ", tl_user_class(u));
        esc_chars(out, t->users[u], 40);
        fputs("</li>", out);
    }
    if (t->other_users)
        fputs("<li><span class=\"sw uo\"></span>other users</li>", out);
    fputs("<li><span class=\"sw cold\"></span>cold (Init Duration; ▸ at its start)</li>"
          "<li><span class=\"sw err\"></span>failed or function error (red underline)</li>"
          "<li><span class=\"sw cs\"></span>forced cold start</li>",
          out);
    if (t->slots)
        fputs("<li><span class=\"sw ovl\"></span>a canary seen in a concurrent request (the time both ran)</li>", out);
    fputs("</ul>", out);
}

static int write_timeline(hr_ctx *c, const cJSON *res, int index)
{
    FILE *out = c->out;
    const cJSON *tl = jobj(res, "timeline"), *invs_json = jarr(tl, "invocations");
    size_t total = (size_t)cJSON_GetArraySize(invs_json), n = 0, drawn = 0, ncold = 0, hidden_invs = 0;
    tl_inv *invs = NULL;
    tl_info t;
    double plot_bottom;
    unsigned id = ++c->svg_seq;
    int rc = -1;

    memset(&t, 0, sizeof(t));
    t.slots = jstr(tl, "lanes") && strcmp(jstr(tl, "lanes"), "concurrency_slots") == 0;
    invs = calloc(total ? total : 1, sizeof(*invs));
    t.envs = calloc(total ? total : 1, sizeof(*t.envs));
    if (!invs || !t.envs)
        goto cleanup;
    tl_collect(invs_json, invs, &n, &t);
    if (t.xmax <= 0)
        t.xmax = 1;
    {
        const cJSON *s;
        double b;
        cJSON_ArrayForEach(s, jarr(tl, "steps"))
            if (jnum(s, "end_ms", &b) && b > t.xmax && b < 1e10)
                t.xmax = b;
    }
    for (size_t i = 0; i < n; i++) {
        if (jtrue(invs[i].src, "cold"))
            ncold++;
        if (tl_lane(&t, invs[i].env) < 0)
            hidden_invs++;
    }
    plot_bottom = TL_T + (double)(t.lanes + (t.unknown_lane ? 1 : 0)) * TL_LANE;

    fprintf(out, "<figure id=\"timeline-%d\"><h3>", index);
    esc(out, jstr(res, "target"));
    fputs(" · ", out);
    esc(out, jstr(res, "scenario"));
    fprintf(out, "</h3><svg class=\"timeline\" role=\"img\" aria-labelledby=\"tl-%u\" viewBox=\"0 0 %.0f %.0f\">",
            id, TL_W, plot_bottom + TL_AXIS);
    fprintf(out, "<title id=\"tl-%u\">Timeline of %zu invocations across %zu %s</title>", id, n, t.nenvs,
            t.slots ? "concurrency slots" : "inferred environments");
    for (size_t l = 0; l < t.lanes + (t.unknown_lane ? 1 : 0); l++) {
        double y = TL_T + (double)l * TL_LANE;
        if (l % 2 == 0)
            fprintf(out, "<rect class=\"lane\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", TL_L, y,
                    TL_W - TL_L - TL_R, TL_LANE);
        if (l < t.lanes)
            fprintf(out, "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s %ld</text>", TL_L - 6,
                    y + TL_LANE / 2 + 3.5, t.slots ? "slot" : "env", t.envs[l]);
        else
            fprintf(out, "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">unknown</text>", TL_L - 6,
                    y + TL_LANE / 2 + 3.5);
    }
    tl_axis(out, t.xmax, plot_bottom);
    tl_steps(out, jarr(tl, "steps"), t.xmax, plot_bottom);
    if (t.slots)
        tl_overlaps(out, &t, invs, n, jarr(tl, "overlaps"));
    tl_rects(out, &t, invs, n, &drawn);
    fputs("</svg>", out);
    tl_legend(out, &t);
    fprintf(out, "<figcaption>%zu invocations (%zu cold) over ", n, ncold);
    put_duration(out, t.xmax);
    if (t.slots) {
        double mc = 0;
        fprintf(out, ", one lane per <strong>concurrency slot</strong> (%zu): how many requests ran at once, as the "
                     "client timed them. This function serves up to ", t.nenvs);
        if (jnum(tl, "max_concurrency", &mc) && mc >= 1 && mc <= 1e6)
            put_num(out, mc);
        else
            fputs("several", out);
        fputs(" requests at once in one execution environment (Managed Instances), so environments are "
              "<strong>not</strong> inferred from overlap; a slot is not an environment. Yellow bands mark a canary "
              "of one request seen in another while both ran. Hover a bar for its invocation.", out);
    } else {
        fprintf(out, ", one lane per execution environment (%zu). Environments are <strong>inferred</strong> from "
                     "Init Duration and timing: AWS shows no environment id, so this is a picture, not a proof; "
                     "findings never rest on it. Hover a bar for its invocation.",
                t.nenvs);
    }
    if (t.nenvs > t.lanes)
        fprintf(out, " Only the first %zu %s are drawn; %zu more (%zu invocations) are not.", t.lanes,
                t.slots ? "slots" : "environments", t.nenvs - t.lanes, hidden_invs);
    if (n - hidden_invs > drawn)
        fprintf(out, " Only the first %zu invocations are drawn.", drawn);
    if (total > n)
        fprintf(out, " %zu invocations without a start time are left out.", total - n);
    fputs("</figcaption></figure>\n", out);
    rc = 0;

cleanup:
    free(invs);
    free(t.envs);
    return rc;
}

static bool has_timeline(const cJSON *res)
{
    return jobj(res, "timeline") != NULL;
}

/* A scenario that invoked nothing (config reads the configuration) still
 * gets its figure, so every result with a timeline has one. */
static void write_empty_timeline(hr_ctx *c, const cJSON *res, int index)
{
    FILE *out = c->out;
    unsigned id = ++c->svg_seq;

    fprintf(out, "<figure id=\"timeline-%d\"><h3>", index);
    esc(out, jstr(res, "target"));
    fputs(" · ", out);
    esc(out, jstr(res, "scenario"));
    fprintf(out,
            "</h3><svg class=\"timeline empty\" role=\"img\" aria-labelledby=\"tl-%u\" viewBox=\"0 0 %.0f 28\">"
            "<title id=\"tl-%u\">Timeline: no invocations</title><text class=\"ax\" x=\"%.1f\" y=\"18\">"
            "no invocations: this scenario made no Lambda invocations</text></svg></figure>\n",
            id, TL_W, id, TL_L);
}

static int write_timelines(hr_ctx *c)
{
    FILE *out = c->out;
    const cJSON *r;
    int i = 0;
    bool any = false;

    cJSON_ArrayForEach(r, jarr(c->report, "results")) if (has_timeline(r)) any = true;
    if (!any)
        return 0;
    fputs("<section id=\"timelines\" aria-labelledby=\"h-timelines\">\n<h2 id=\"h-timelines\">Timelines</h2>\n"
          "<p class=\"muted\">Each bar is one invocation, from its start to its answer, in the lane of the "
          "execution environment it ran in, coloured by user. Environments are inferred from Init Duration and "
          "timing (AWS shows no environment id).</p>\n",
          out);
    cJSON_ArrayForEach(r, jarr(c->report, "results")) {
        if (cJSON_GetArraySize(jarr(jobj(r, "timeline"), "invocations")) > 0) {
            if (write_timeline(c, r, i) != 0)
                return -1;
        } else if (has_timeline(r)) {
            write_empty_timeline(c, r, i);
        }
        i++;
    }
    fputs("</section>\n", out);
    return 0;
}

/* ---- entry point ----------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The structure the page relies on; fields inside are read leniently. */
static int check_report(const cJSON *r, char *err, size_t errlen)
{
    static const char *const arrays[] = {"results", "findings"};
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "coldsec_report");
    const cJSON *item;

    if (!cJSON_IsObject(r)) {
        set_err(err, errlen, "report: not a JSON object");
        return -1;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != 1) {
        set_err(err, errlen, "report: coldsec_report is not 1 (not a format-1 report.json)");
        return -1;
    }
    if (!jstr(r, "run_id")) {
        set_err(err, errlen, "report: run_id is missing");
        return -1;
    }
    if (!jobj(r, "summary")) {
        set_err(err, errlen, "report: summary is missing");
        return -1;
    }
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        const cJSON *a = jarr(r, arrays[i]);
        if (!a) {
            set_err(err, errlen, "report: %s is not an array", arrays[i]);
            return -1;
        }
        cJSON_ArrayForEach(item, a) {
            if (!cJSON_IsObject(item)) {
                set_err(err, errlen, "report: an element of %s is not an object", arrays[i]);
                return -1;
            }
        }
    }
    return 0;
}

int htmlreport_write(const cJSON *report, FILE *out, char *err, size_t errlen)
{
    hr_ctx c;
    const cJSON *r;
    bool *drawn = NULL;
    double es;
    int exit_status = -1, nres, i = 0, rc = -1;

    if (!out) {
        set_err(err, errlen, "report.html: no output stream");
        return -1;
    }
    if (check_report(report, err, errlen) != 0)
        return -1;
    memset(&c, 0, sizeof(c));
    c.out = out;
    c.report = report;
    c.scenarios = jarr(report, "scenarios");
    if (jnum(jobj(report, "summary"), "exit_status", &es) && es >= 0 && es <= 4 && es == floor(es))
        exit_status = (int)es;
    nres = cJSON_GetArraySize(jarr(report, "results"));
    drawn = calloc(nres > 0 ? (size_t)nres : 1, sizeof(*drawn));
    if (!drawn) {
        set_err(err, errlen, "report.html: out of memory");
        goto cleanup;
    }
    cJSON_ArrayForEach(r, jarr(report, "results")) drawn[i++] = has_timeline(r);

    write_head(&c);
    write_header(&c, exit_status);
    fputs("<main>\n", out);
    write_summary(&c, drawn);
    if (write_findings(&c) != 0 || write_timelines(&c) != 0) {
        set_err(err, errlen, "report.html: out of memory");
        goto cleanup;
    }
    fputs("</main>\n<footer>Written by coldsec from report.json alone. Everything in the evidence is what the "
          "target returned (secrets masked), shown as text. The page loads nothing: no script, no external "
          "resource.</footer>\n</body>\n</html>\n",
          out);
    if (fflush(out) != 0 || ferror(out)) {
        set_err(err, errlen, "report.html: write failed");
        goto cleanup;
    }
    rc = 0;

cleanup:
    free(drawn);
    return rc;
}
