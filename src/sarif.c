/*
 * sarif — a report.json document as a SARIF 2.1.0 log (see sarif.h). The
 * log is built as a cJSON tree, checking the document as it goes, and is
 * printed only once complete: a malformed report writes nothing.
 *
 * Allocation failures while building are recorded in the context and
 * reported once at the end, which keeps the many small additions readable;
 * document errors stop the build at once with a message naming the field.
 */
#include "sarif.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "utf8.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
#define SARIF_INFO_URI "https://github.com/coldsec/coldsec"
#define SARIF_PLAIN_ID "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
#define SARIF_CWE_URI "https://cwe.mitre.org/data/definitions/"
#define SARIF_FP_KEY "coldsecFinding/v1"
#define SARIF_SRCROOT "%SRCROOT%"

/* Caps on the untrusted text a log carries, in bytes before the "…" that
 * marks a cut: GitHub shows little of a long message, and the log of a run
 * with many findings must stay small enough to upload. */
#define SARIF_NAME_MAX 256   /* ids, names, fingerprints, evidence keys */
#define SARIF_LINE_MAX 1024  /* a title, a summary, a detail, an evidence string */
#define SARIF_DOC_MAX 8192   /* a scenario's proves / fix, a finding's fix */
#define SARIF_CMD_MAX 2048   /* one reproduce command */
#define SARIF_CMDS_MAX 32    /* reproduce commands kept per finding */
#define SARIF_SERIES_MAX 64  /* elements kept of an evidence array */
#define SARIF_TAGS_MAX 20    /* GitHub ignores tags past the 20th */

#define ELLIPSIS "\xe2\x80\xa6"
#define REPLACEMENT "\xef\xbf\xbd"

typedef struct {
    char *err;
    size_t errlen;
    bool failed; /* err holds the first document error */
    bool oom;
} sctx;

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

/* GitHub reads security-severity (a CVSS-like score) from the rule; the
 * level follows SARIF's three: a proof at high or above fails a check. */
static const struct severity_map {
    const char *name, *level, *score;
} SEVERITIES[] = {{"critical", "error", "9.5"}, {"high", "error", "8.0"}, {"medium", "warning", "5.5"},
                  {"low", "note", "3.0"},       {"info", "note", "1.0"}};

static int bad(sctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(sctx *c, const char *fmt, ...)
{
    va_list ap;

    if (!c->failed && c->errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    c->failed = true;
    return -1;
}

/* ---------- text ---------- */

static void sb_putn(sbuf *b, const char *s, size_t n)
{
    char *p;
    size_t cap;

    if (b->oom)
        return;
    if (n >= SIZE_MAX / 2 - b->len) {
        b->oom = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    /* Only short, coldsec-made text goes through here. */
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        b->oom = true;
        return;
    }
    sb_putn(b, tmp, (size_t)n);
}

/* Appends s as well-formed UTF-8 of at most max bytes (ill-formed bytes and
 * control characters but newline and tab as U+FFFD, a cut marked with "…"); with md, every ASCII punctuation mark is
 * backslash-escaped so report text can never become markdown syntax. */
static void sb_text_as(sbuf *b, const char *s, size_t max, bool md)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), used = 0, k;
    uint32_t cp;

    for (size_t i = 0; i < n; i += k) {
        const char *piece = (const char *)p + i;
        size_t len = k = utf8_decode(p + i, n - i, &cp);

        /* Control characters (escape sequences) become U+FFFD too. */
        if (k == 0 || (cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7f) {
            piece = REPLACEMENT;
            len = 3;
            k = k ? k : 1;
            cp = 0xfffd;
        }
        if (used + len > max) {
            sb_puts(b, ELLIPSIS);
            return;
        }
        used += len;
        if (md && cp < 0x80 && ispunct((int)cp))
            sb_putn(b, "\\", 1);
        sb_putn(b, piece, len);
    }
}

static void sb_text(sbuf *b, const char *s, size_t max)
{
    sb_text_as(b, s, max, false);
}

static void sb_md(sbuf *b, const char *s, size_t max)
{
    sb_text_as(b, s, max, true);
}

/* SARIF2001: plain-text messages are sentences ending with a period. */
static void sb_end_sentence(sbuf *b)
{
    while (b->len > 0 && strchr(" \t\r\n", b->p[b->len - 1]))
        b->p[--b->len] = '\0';
    if (b->len == 0 || b->p[b->len - 1] != '.')
        sb_putn(b, ".", 1);
}

/* Percent-encodes s[0..max) but RFC 3986's unreserved set and the bytes
 * in keep: safe in a URI and in a markdown link destination. */
static void sb_pct(sbuf *b, const char *s, size_t max, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    char enc[3];

    for (size_t i = 0; i < max && s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x80 && isalnum(ch)) || strchr("-._~", ch) || strchr(keep, ch)) {
            sb_putn(b, &s[i], 1);
            continue;
        }
        enc[0] = '%';
        enc[1] = hex[ch >> 4];
        enc[2] = hex[ch & 15];
        sb_putn(b, enc, 3);
    }
}

/* ---------- tree ---------- */

static void put(sctx *c, cJSON *parent, const char *key, cJSON *item)
{
    bool ok;

    if (!item) {
        c->oom = true;
        return;
    }
    ok = parent && (key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item));
    if (!ok) {
        cJSON_Delete(item);
        c->oom = true;
    }
}

static cJSON *put_obj(sctx *c, cJSON *parent, const char *key)
{
    cJSON *o = cJSON_CreateObject();

    put(c, parent, key, o);
    return c->oom ? NULL : o;
}

static cJSON *put_arr(sctx *c, cJSON *parent, const char *key)
{
    cJSON *a = cJSON_CreateArray();

    put(c, parent, key, a);
    return c->oom ? NULL : a;
}

static void put_str(sctx *c, cJSON *parent, const char *key, const char *s)
{
    put(c, parent, key, cJSON_CreateString(s));
}

/* Adds the buffer's text and frees it. */
static void put_sb(sctx *c, cJSON *parent, const char *key, sbuf *b)
{
    if (b->oom)
        c->oom = true;
    put_str(c, parent, key, b->p ? b->p : "");
    free(b->p);
    *b = (sbuf){0};
}

static void put_text(sctx *c, cJSON *parent, const char *key, const char *s, size_t max)
{
    sbuf b = {0};

    sb_text(&b, s, max);
    put_sb(c, parent, key, &b);
}

/* {"text": ...} holding b's text as a sentence. */
static void put_message(sctx *c, cJSON *parent, const char *key, sbuf *b)
{
    sb_end_sentence(b);
    put_sb(c, put_obj(c, parent, key), "text", b);
}

/* ---------- document ---------- */

static const cJSON *get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *get_str(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(get(o, key));

    return s && *s ? s : NULL;
}

/* A 1-based position: an integer in 1..INT_MAX, else 0. */
static int get_pos(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);

    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > INT_MAX ||
        v->valuedouble != floor(v->valuedouble))
        return 0;
    return (int)v->valuedouble;
}

static const struct severity_map *severity_of(const char *name)
{
    for (size_t i = 0; name && i < sizeof(SEVERITIES) / sizeof(SEVERITIES[0]); i++)
        if (strcmp(name, SEVERITIES[i].name) == 0)
            return &SEVERITIES[i];
    return NULL;
}

static const cJSON *find_by(const cJSON *arr, const char *key, const char *value, int *index)
{
    int i = 0;
    const cJSON *e;

    cJSON_ArrayForEach(e, arr) {
        const char *s = cJSON_GetStringValue(get(e, key));
        if (s && strcmp(s, value) == 0) {
            if (index)
                *index = i;
            return e;
        }
        i++;
    }
    return NULL;
}

/* rules[] holds ids as cleaned text (sb_text): a scenario name from the
 * document is looked up cleaned the same way. */
static const cJSON *find_rule(sctx *c, const cJSON *rules, const char *id, int *index)
{
    const cJSON *r = NULL;
    sbuf b = {0};

    sb_text(&b, id, SARIF_NAME_MAX);
    if (b.oom)
        c->oom = true;
    else if (b.p)
        r = find_by(rules, "id", b.p, index);
    free(b.p);
    return r;
}

/* "CWE-94" → 94; 0 when it is not a CWE id. */
static long cwe_number(const char *s)
{
    char *end;
    long n;

    if (!s || strncmp(s, "CWE-", 4) != 0 || !isdigit((unsigned char)s[4]))
        return 0;
    n = strtol(s + 4, &end, 10);
    return *end == '\0' && n > 0 && n < 10000000 ? n : 0;
}

/* The number in s[0..width) (all digits: checked by the caller). */
static int digits(const char *s, int width)
{
    int n = 0;

    for (int i = 0; i < width; i++)
        n = n * 10 + (s[i] - '0');
    return n;
}

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.fff]Z" in *out; -1 for
 * anything else, so no ill-formed time reaches a date-time property. */
static int parse_time(const char *s, double *out)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    struct tm tm = {0}, back;
    double frac = 0, scale = 0.1;
    const char *p;
    time_t t;

    if (!s || strlen(s) < sizeof(shape))
        return -1;
    for (size_t i = 0; i + 1 < sizeof(shape); i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return -1;
    p = s + sizeof(shape) - 1;
    if (*p == '.') {
        if (!isdigit((unsigned char)p[1]))
            return -1;
        for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
            frac += (*p - '0') * scale;
    }
    if (strcmp(p, "Z") != 0)
        return -1;
    tm.tm_year = digits(s, 4) - 1900;
    tm.tm_mon = digits(s + 5, 2) - 1;
    tm.tm_mday = digits(s + 8, 2);
    tm.tm_hour = digits(s + 11, 2);
    tm.tm_min = digits(s + 14, 2);
    tm.tm_sec = digits(s + 17, 2);
    back = tm;
    t = timegm(&tm);
    /* timegm normalises 2026-02-31 into March: a changed field means the
     * date did not exist. */
    if (t == (time_t)-1 || tm.tm_mon != back.tm_mon || tm.tm_mday != back.tm_mday ||
        tm.tm_hour != back.tm_hour || tm.tm_min != back.tm_min || tm.tm_sec != back.tm_sec)
        return -1;
    *out = (double)t + frac;
    return 0;
}

/* The suite file's URI relative to %SRCROOT% (see sarif.h). */
static int suite_uri(sctx *c, const char *suite, sbuf *out)
{
    char cwd[PATH_MAX];
    const char *rel = suite, *seg;
    size_t cwdlen, n, nseg = 0, fixed = 0, *before = NULL;
    sbuf path = {0};
    int rc = -1;

    if (suite[0] == '/') {
        if (getcwd(cwd, sizeof(cwd))) {
            cwdlen = strlen(cwd);
            while (cwdlen > 0 && cwd[cwdlen - 1] == '/')
                cwdlen--;
            if (strncmp(suite, cwd, cwdlen) == 0 && suite[cwdlen] == '/')
                rel = suite + cwdlen;
        }
        while (*rel == '/')
            rel++;
    }
    /* before[k]: path.len before segment k, so ".." can take it back; the
     * first `fixed` segments are ".." above the root and stay. */
    before = calloc(strlen(rel) / 2 + 1, sizeof(*before));
    if (!before) {
        c->oom = true;
        goto cleanup;
    }
    for (seg = rel; *seg; seg += n + (seg[n] == '/')) {
        n = strcspn(seg, "/");
        if (n == 0 || (n == 1 && seg[0] == '.'))
            continue;
        if (n == 2 && seg[0] == '.' && seg[1] == '.' && nseg > fixed) {
            path.len = before[--nseg];
            if (path.p)
                path.p[path.len] = '\0';
            continue;
        }
        if (n == 2 && seg[0] == '.' && seg[1] == '.')
            fixed++;
        before[nseg++] = path.len;
        if (path.len)
            sb_putn(&path, "/", 1);
        sb_pct(&path, seg, n, "!$&'()*+,;=@");
    }
    if (path.oom) {
        c->oom = true;
        goto cleanup;
    }
    if (path.len == 0) {
        bad(c, "suite \"%.200s\" names no file", suite);
        goto cleanup;
    }
    sb_putn(out, path.p, path.len);
    rc = 0;

cleanup:
    free(before);
    free(path.p);
    return rc;
}

/* ---------- rules ---------- */

/* SARIF2012 wants a PascalCase friendly name; SARIF1001 one unlike the id. */
static void friendly_name(const char *id, sbuf *b)
{
    bool start = true;

    for (const char *p = id; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x80 || !isalnum(ch)) {
            start = true;
            continue;
        }
        if (b->len == 0 && isdigit(ch))
            sb_puts(b, "Scenario");
        if (start)
            ch = (unsigned char)toupper(ch);
        sb_putn(b, (const char *)&ch, 1);
        start = false;
    }
    /* SARIF1001 compares name and id ignoring case. */
    if (b->len == 0 || (b->p && strcasecmp(b->p, id) == 0)) {
        sbuf named = {0};
        sb_puts(&named, "Scenario");
        if (b->p)
            sb_putn(&named, b->p, b->len);
        free(b->p);
        *b = named;
    }
}

static void add_tag(sctx *c, cJSON *tags, const char *tag)
{
    const cJSON *t;

    if (!tags || cJSON_GetArraySize(tags) >= SARIF_TAGS_MAX)
        return;
    cJSON_ArrayForEach(t, tags) {
        if (strcmp(cJSON_GetStringValue(t), tag) == 0)
            return;
    }
    put_str(c, tags, NULL, tag);
}

static void add_cwe_tag(sctx *c, cJSON *tags, const char *cwe)
{
    char tag[64];
    long n = cwe_number(cwe);

    if (n == 0)
        return;
    snprintf(tag, sizeof(tag), "external/cwe/cwe-%ld", n);
    add_tag(c, tags, tag);
}

/* help.text and help.markdown: what the scenario proves, how to fix it,
 * and its references (CWE pages linked; URLs only when http or https). */
static void add_help(sctx *c, cJSON *rule, const cJSON *sc)
{
    sbuf text = {0}, md = {0};
    const char *proves = get_str(sc, "proves"), *fix = get_str(sc, "fix");
    const cJSON *refs = get(sc, "references"), *ref;
    cJSON *help = put_obj(c, rule, "help");

    sb_puts(&text, "What it proves: ");
    sb_text(&text, proves ? proves : "(not stated)", SARIF_DOC_MAX);
    sb_puts(&text, "\n\nHow to fix: ");
    sb_text(&text, fix ? fix : "(not stated)", SARIF_DOC_MAX);
    sb_puts(&md, "**What it proves.** ");
    sb_md(&md, proves ? proves : "(not stated)", SARIF_DOC_MAX);
    sb_puts(&md, "\n\n**How to fix.** ");
    sb_md(&md, fix ? fix : "(not stated)", SARIF_DOC_MAX);
    if (cJSON_GetArraySize(refs) > 0) {
        sb_puts(&text, "\n\nReferences:");
        sb_puts(&md, "\n\n**References**\n");
    }
    cJSON_ArrayForEach(ref, refs) {
        const char *title = get_str(ref, "title"), *cwe = get_str(ref, "cwe"), *seed = get_str(ref, "seed");
        const char *url = get_str(ref, "url");
        long n = cwe_number(cwe);

        sb_puts(&text, "\n- ");
        sb_puts(&md, "\n- ");
        if (n > 0) {
            sb_printf(&text, "CWE-%ld (" SARIF_CWE_URI "%ld.html)", n, n);
            sb_printf(&md, "[CWE-%ld](" SARIF_CWE_URI "%ld.html)", n, n);
        } else if (cwe || seed) {
            sb_puts(&text, cwe ? "" : "Seed article ");
            sb_puts(&md, cwe ? "" : "Seed article ");
            sb_text(&text, cwe ? cwe : seed, SARIF_NAME_MAX);
            sb_md(&md, cwe ? cwe : seed, SARIF_NAME_MAX);
        } else if (url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0)) {
            sb_text(&text, url, SARIF_LINE_MAX);
            sb_putn(&md, "[", 1);
            sb_md(&md, title ? title : url, SARIF_LINE_MAX);
            sb_puts(&md, "](");
            /* The scheme's "://" stays; the rest is encoded whole. */
            sb_puts(&md, strncmp(url, "https", 5) == 0 ? "https://" : "http://");
            sb_pct(&md, strstr(url, "://") + 3, SARIF_LINE_MAX, "/?#@!$&'*+,;=:%");
            sb_putn(&md, ")", 1);
            title = NULL;
        } else {
            sb_text(&text, url ? url : "reference", SARIF_LINE_MAX);
            sb_md(&md, url ? url : "reference", SARIF_LINE_MAX);
        }
        if (title) {
            sb_puts(&text, ": ");
            sb_puts(&md, ": ");
            sb_text(&text, title, SARIF_LINE_MAX);
            sb_md(&md, title, SARIF_LINE_MAX);
        }
    }
    put_sb(c, help, "text", &text);
    put_sb(c, help, "markdown", &md);
}

static int add_rule(sctx *c, cJSON *rules, const cJSON *sc, const cJSON *findings, int i)
{
    const char *id = get_str(sc, "id"), *title, *proves, *cls;
    const struct severity_map *sev;
    const cJSON *ref, *f, *w;
    cJSON *rule, *props, *tags;
    sbuf b = {0};

    if (!id)
        return bad(c, "scenarios[%d]: no id", i);
    /* One rule per scenario id: a repeated entry adds nothing. */
    if (find_rule(c, rules, id, NULL))
        return 0;
    sev = severity_of(get_str(sc, "severity"));
    if (!sev)
        return bad(c, "scenarios[%d]: severity \"%.40s\" is not one of info, low, medium, high, critical", i,
                   cJSON_GetStringValue(get(sc, "severity")) ? cJSON_GetStringValue(get(sc, "severity")) : "");
    title = get_str(sc, "title") ? get_str(sc, "title") : id;
    proves = get_str(sc, "proves") ? get_str(sc, "proves") : title;
    cls = get_str(sc, "class");

    rule = put_obj(c, rules, NULL);
    put_text(c, rule, "id", id, SARIF_NAME_MAX);
    friendly_name(id, &b);
    put_sb(c, rule, "name", &b);
    sb_text(&b, title, SARIF_LINE_MAX);
    put_message(c, rule, "shortDescription", &b);
    sb_text(&b, proves, SARIF_DOC_MAX);
    put_message(c, rule, "fullDescription", &b);
    add_help(c, rule, sc);
    /* docs/scenarios/ID.md documents the built-in scenarios, whose ids are
     * plain; any other id gets the folder: the validator's URI check (.NET)
     * rejects some valid escapes, such as "%C3%BC%20". */
    if (strspn(id, SARIF_PLAIN_ID) == strlen(id) && strlen(id) <= SARIF_NAME_MAX) {
        sb_puts(&b, SARIF_INFO_URI "/blob/main/docs/scenarios/");
        sb_puts(&b, id);
        sb_puts(&b, ".md");
    } else {
        sb_puts(&b, SARIF_INFO_URI "/tree/main/docs/scenarios");
    }
    put_sb(c, rule, "helpUri", &b);
    put_str(c, put_obj(c, rule, "defaultConfiguration"), "level", sev->level);

    props = put_obj(c, rule, "properties");
    tags = put_arr(c, props, "tags");
    add_tag(c, tags, "security");
    if (cls) {
        sb_text(&b, cls, SARIF_NAME_MAX);
        if (!b.oom && b.p)
            add_tag(c, tags, b.p);
        c->oom = c->oom || b.oom;
        free(b.p);
        b = (sbuf){0};
    }
    /* GitHub filters alerts by these CWE tags: the scenario's own and
     * those its findings name. */
    cJSON_ArrayForEach(ref, get(sc, "references")) {
        add_cwe_tag(c, tags, get_str(ref, "cwe"));
    }
    cJSON_ArrayForEach(f, findings) {
        const char *fs = get_str(f, "scenario");
        if (!fs || strcmp(fs, id) != 0)
            continue;
        cJSON_ArrayForEach(w, get(f, "cwe")) {
            add_cwe_tag(c, tags, cJSON_GetStringValue(w));
        }
    }
    put_str(c, props, "security-severity", sev->score);
    /* Every finding is a proof with evidence, never a guess. */
    put_str(c, props, "precision", "high");
    return 0;
}

/* ---------- results ---------- */

/* location: the target's entry in the suite file, and the function. */
static int add_location(sctx *c, cJSON *locations, const char *uri, const cJSON *target, const char *function,
                        const char *what)
{
    cJSON *loc, *phys, *region, *logical;
    const char *arn = get_str(target, "arn"), *where = get_str(target, "where"), *region_name = get_str(target, "region");
    int line = get_pos(target, "suite_line"), column = get_pos(target, "suite_column");
    sbuf fqn = {0};

    if (line == 0)
        return bad(c, "%s: its target has no suite_line (a positive integer)", what);
    loc = put_obj(c, locations, NULL);
    phys = put_obj(c, loc, "physicalLocation");
    {
        cJSON *art = put_obj(c, phys, "artifactLocation");
        put_str(c, art, "uri", uri);
        put_str(c, art, "uriBaseId", SARIF_SRCROOT);
    }
    region = put_obj(c, phys, "region");
    put(c, region, "startLine", cJSON_CreateNumber(line));
    if (column > 0)
        put(c, region, "startColumn", cJSON_CreateNumber(column));

    logical = put_obj(c, put_arr(c, loc, "logicalLocations"), NULL);
    put_text(c, logical, "name", function, SARIF_NAME_MAX);
    if (arn) {
        sb_text(&fqn, arn, SARIF_NAME_MAX);
    } else {
        if (where) {
            sb_text(&fqn, where, SARIF_NAME_MAX);
            sb_putn(&fqn, ":", 1);
        }
        if (where && region_name) {
            sb_text(&fqn, region_name, SARIF_NAME_MAX);
            sb_putn(&fqn, ":", 1);
        }
        sb_text(&fqn, function, SARIF_NAME_MAX);
    }
    put_sb(c, logical, "fullyQualifiedName", &fqn);
    put_str(c, logical, "kind", "function");
    return 0;
}

/* A bounded copy of a scalar, or NULL for anything else. */
static cJSON *scalar_copy(const cJSON *v, size_t max)
{
    sbuf b = {0};
    cJSON *out;

    if (cJSON_IsString(v)) {
        sb_text(&b, v->valuestring, max);
        out = b.oom ? NULL : cJSON_CreateString(b.p ? b.p : "");
        free(b.p);
        return out;
    }
    if (cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsNull(v))
        return cJSON_Duplicate(v, false);
    return NULL;
}

/* The evidence's scalars and reproduce commands; examples (full requests
 * and answers) stay in report.json, counted here. */
static void add_evidence(sctx *c, cJSON *props, const cJSON *ev)
{
    const cJSON *m, *e;
    cJSON *out;

    if (!cJSON_IsObject(ev))
        return;
    out = put_obj(c, props, "evidence");
    cJSON_ArrayForEach(m, ev) {
        sbuf key = {0};
        bool reproduce = strcmp(m->string, "reproduce") == 0;

        sb_text(&key, m->string, SARIF_NAME_MAX);
        if (key.oom || !key.p || !out || get(out, key.p)) {
            c->oom = c->oom || key.oom;
            free(key.p);
            continue;
        }
        if (strcmp(m->string, "examples") == 0 && cJSON_IsArray(m)) {
            put(c, out, "examples_in_report_json", cJSON_CreateNumber(cJSON_GetArraySize(m)));
        } else if (cJSON_IsArray(m)) {
            cJSON *arr = put_arr(c, out, key.p);
            int kept = 0, cap = reproduce ? SARIF_CMDS_MAX : SARIF_SERIES_MAX;
            cJSON_ArrayForEach(e, m) {
                cJSON *v;
                if (kept == cap)
                    break;
                v = scalar_copy(e, reproduce ? SARIF_CMD_MAX : SARIF_LINE_MAX);
                if (v) {
                    put(c, arr, NULL, v);
                    kept++;
                }
            }
        } else if (!cJSON_IsObject(m)) {
            put(c, out, key.p, scalar_copy(m, SARIF_LINE_MAX));
        }
        free(key.p);
    }
}

static int add_result(sctx *c, cJSON *results, const cJSON *rules, const cJSON *targets, const char *uri,
                      const cJSON *f, int i)
{
    const char *scenario = get_str(f, "scenario"), *target_name = get_str(f, "target");
    const char *fp = get_str(f, "fingerprint"), *title = get_str(f, "title"), *summary = get_str(f, "summary");
    const char *baseline = get_str(f, "baseline"), *function = get_str(f, "function");
    const char *fields[] = {"class", "assertion", "target", "function", "severity"};
    const struct severity_map *sev = severity_of(get_str(f, "severity"));
    const cJSON *target, *w;
    cJSON *res, *props, *cwes;
    char what[64];
    int rule_index = 0;
    sbuf b = {0};

    snprintf(what, sizeof(what), "findings[%d]", i);
    if (!scenario || !find_rule(c, rules, scenario, &rule_index))
        return bad(c, "%s: scenario \"%.100s\" is not in scenarios[]", what, scenario ? scenario : "");
    target = target_name ? find_by(targets, "name", target_name, NULL) : NULL;
    if (!target)
        return bad(c, "%s: target \"%.100s\" is not in targets[]", what, target_name ? target_name : "");
    if (!sev)
        return bad(c, "%s: severity is not one of info, low, medium, high, critical", what);
    if (!fp)
        return bad(c, "%s: no fingerprint", what);
    if (!title)
        return bad(c, "%s: no title", what);
    if (baseline && strcmp(baseline, "new") != 0 && strcmp(baseline, "known") != 0)
        return bad(c, "%s: baseline \"%.40s\" is neither new nor known", what, baseline);
    if (!function)
        function = get_str(target, "function") ? get_str(target, "function") : target_name;

    res = put_obj(c, results, NULL);
    put_text(c, res, "ruleId", scenario, SARIF_NAME_MAX);
    put(c, res, "ruleIndex", cJSON_CreateNumber(rule_index));
    put_str(c, res, "level", sev->level);
    /* Findings of one target share its suite line: the message names it. */
    sb_text(&b, title, SARIF_LINE_MAX);
    while (b.len > 0 && b.p[b.len - 1] == '.')
        b.p[--b.len] = '\0';
    sb_puts(&b, " (target '");
    sb_text(&b, target_name, SARIF_NAME_MAX);
    sb_puts(&b, "').");
    if (summary) {
        sb_putn(&b, " ", 1);
        sb_text(&b, summary, SARIF_LINE_MAX);
    }
    put_message(c, res, "message", &b);
    if (add_location(c, put_arr(c, res, "locations"), uri, target, function, what) != 0)
        return -1;
    put_text(c, put_obj(c, res, "partialFingerprints"), SARIF_FP_KEY, fp, SARIF_NAME_MAX);
    if (baseline)
        put_str(c, res, "baselineState", strcmp(baseline, "new") == 0 ? "new" : "unchanged");

    props = put_obj(c, res, "properties");
    for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
        if (get_str(f, fields[k]))
            put_text(c, props, fields[k], get_str(f, fields[k]), SARIF_NAME_MAX);
    if (cJSON_IsBool(get(f, "gate")))
        put(c, props, "gate", cJSON_CreateBool(cJSON_IsTrue(get(f, "gate"))));
    if (cJSON_IsArray(get(f, "cwe"))) {
        cwes = put_arr(c, props, "cwe");
        cJSON_ArrayForEach(w, get(f, "cwe")) {
            if (cJSON_IsString(w))
                put(c, cwes, NULL, scalar_copy(w, SARIF_NAME_MAX));
        }
    }
    if (get_str(f, "fix"))
        put_text(c, props, "fix", get_str(f, "fix"), SARIF_DOC_MAX);
    add_evidence(c, props, get(f, "evidence"));
    return 0;
}

/* ---------- invocation ---------- */

/* One error notification per result that was not tested to the end; a
 * note-level one per result that did not apply (not_applicable: the
 * function is not what the scenario tests, so there is no result, and the
 * run still executed successfully). */
static int add_notification(sctx *c, cJSON *notes, const cJSON *rules, const cJSON *targets, const char *uri,
                            const cJSON *r, int i)
{
    const char *status = get_str(r, "status"), *target_name = get_str(r, "target");
    const char *scenario = get_str(r, "scenario"), *detail = get_str(r, "detail");
    const cJSON *target = target_name ? find_by(targets, "name", target_name, NULL) : NULL;
    cJSON *note, *props;
    char what[64];
    int rule_index = -1;
    sbuf b = {0};

    snprintf(what, sizeof(what), "results[%d]", i);
    if (!status)
        return bad(c, "%s: no status", what);
    if (!target_name)
        return bad(c, "%s: no target", what);
    note = put_obj(c, notes, NULL);
    put_str(c, note, "level", strcmp(status, "not_applicable") == 0 ? "note" : "error");
    sb_puts(&b, "Target '");
    sb_text(&b, target_name, SARIF_NAME_MAX);
    if (scenario && strcmp(scenario, "*") != 0) {
        sb_puts(&b, "', scenario '");
        sb_text(&b, scenario, SARIF_NAME_MAX);
    }
    sb_puts(&b, "' ended with status '");
    sb_text(&b, status, SARIF_NAME_MAX);
    sb_puts(&b, "': ");
    sb_text(&b, detail ? detail : "no detail given", SARIF_LINE_MAX);
    put_message(c, note, "message", &b);
    if (scenario && find_rule(c, rules, scenario, &rule_index)) {
        cJSON *assoc = put_obj(c, note, "associatedRule");
        put_text(c, assoc, "id", scenario, SARIF_NAME_MAX);
        put(c, assoc, "index", cJSON_CreateNumber(rule_index));
    }
    if (target && get_pos(target, "suite_line") > 0) {
        const char *fn = get_str(target, "function") ? get_str(target, "function") : target_name;
        if (add_location(c, put_arr(c, note, "locations"), uri, target, fn, what) != 0)
            return -1;
    }
    props = put_obj(c, note, "properties");
    put_text(c, props, "target", target_name, SARIF_NAME_MAX);
    if (scenario)
        put_text(c, props, "scenario", scenario, SARIF_NAME_MAX);
    put_text(c, props, "status", status, SARIF_NAME_MAX);
    return 0;
}

static int add_invocation(sctx *c, cJSON *run, const cJSON *report, const cJSON *rules, const char *uri)
{
    const cJSON *results = get(report, "results"), *r, *exit_status;
    const char *started = get_str(report, "started"), *finished = get_str(report, "finished");
    cJSON *inv = put_obj(c, put_arr(c, run, "invocations"), NULL);
    cJSON *notes = cJSON_CreateArray();
    double t0 = 0, t1 = 0;
    bool have_start;
    int i = 0, rc = -1, errors = 0;

    if (!notes) {
        c->oom = true;
        goto cleanup;
    }
    cJSON_ArrayForEach(r, results) {
        const char *status = get_str(r, "status");
        if (!status || (strcmp(status, "passed") != 0 && strcmp(status, "findings") != 0)) {
            if (add_notification(c, notes, rules, get(report, "targets"), uri, r, i) != 0)
                goto cleanup;
            errors += strcmp(status ? status : "", "not_applicable") != 0;
        }
        i++;
    }
    put(c, inv, "executionSuccessful", cJSON_CreateBool(errors == 0));
    exit_status = get(get(report, "summary"), "exit_status");
    if (cJSON_IsNumber(exit_status) && exit_status->valuedouble == floor(exit_status->valuedouble) &&
        fabs(exit_status->valuedouble) <= INT_MAX)
        put(c, inv, "exitCode", cJSON_CreateNumber(exit_status->valuedouble));
    have_start = parse_time(started, &t0) == 0;
    if (have_start)
        put_str(c, inv, "startTimeUtc", started);
    /* SARIF1006: an end before the start would make the log invalid. */
    if (parse_time(finished, &t1) == 0 && (!have_start || t1 >= t0))
        put_str(c, inv, "endTimeUtc", finished);
    if (cJSON_GetArraySize(notes) > 0) {
        put(c, inv, "toolExecutionNotifications", notes);
        notes = NULL;
    }
    rc = 0;

cleanup:
    cJSON_Delete(notes);
    return rc;
}

/* ---------- log ---------- */

/* "suite/" from the suite file's name without folders and extension, in
 * characters a category can hold, so that two suites' uploads do not
 * replace each other. */
static void category_of(const char *suite, sbuf *b)
{
    const char *base = strrchr(suite, '/') ? strrchr(suite, '/') + 1 : suite;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base), used = 0;
    for (size_t i = 0; i < n && used < 64; i++, used++) {
        char ch = base[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                  ch == '_' || ch == '.';
        sb_printf(b, "%c", ok ? ch : '_');
    }
    sb_puts(b, used ? "/" : "suite/");
}

static cJSON *build(sctx *c, const cJSON *report)
{
    const cJSON *scenarios = get(report, "scenarios"), *targets = get(report, "targets");
    const cJSON *findings = get(report, "findings"), *e, *shard = get(report, "shard");
    const char *version = get_str(get(report, "tool"), "version"), *suite = get_str(report, "suite");
    const char *run_id = get_str(report, "run_id");
    cJSON *root = NULL, *run, *driver, *rules, *results, *props;
    sbuf uri = {0}, b = {0};
    int i;

    if (!cJSON_IsObject(report) || !cJSON_IsNumber(get(report, "coldsec_report")) ||
        get(report, "coldsec_report")->valuedouble != 1) {
        bad(c, "not a coldsec report of format 1 (coldsec_report)");
        goto cleanup;
    }
    if (!version || !suite || !cJSON_IsArray(scenarios) || !cJSON_IsArray(targets) ||
        !cJSON_IsArray(get(report, "results")) || !cJSON_IsArray(findings)) {
        bad(c, "report lacks tool.version, suite, scenarios, targets, results or findings");
        goto cleanup;
    }
    if (suite_uri(c, suite, &uri) != 0)
        goto cleanup;

    root = cJSON_CreateObject();
    put_str(c, root, "$schema", SARIF_SCHEMA);
    put_str(c, root, "version", "2.1.0");
    run = put_obj(c, put_arr(c, root, "runs"), NULL);
    driver = put_obj(c, put_obj(c, run, "tool"), "driver");
    put_str(c, driver, "name", "coldsec");
    put_text(c, driver, "version", version, SARIF_NAME_MAX);
    /* semanticVersion must be SemVer; a version that is not is left out. */
    {
        unsigned maj, min, pat;
        int used = 0;
        if (sscanf(version, "%u.%u.%u%n", &maj, &min, &pat, &used) == 3 && version[used] == '\0')
            put_str(c, driver, "semanticVersion", version);
    }
    put_str(c, driver, "informationUri", SARIF_INFO_URI);
    rules = put_arr(c, driver, "rules");
    i = 0;
    cJSON_ArrayForEach(e, scenarios) {
        if (add_rule(c, rules, e, findings, i++) != 0)
            goto cleanup;
    }

    /* GitHub keeps one analysis per category (the id up to its last "/"):
     * each suite is its own, and each shard of a suite's run. */
    sb_puts(&b, "coldsec/");
    category_of(suite, &b);
    if (shard && !cJSON_IsNull(shard)) {
        int index = get_pos(shard, "index"), count = get_pos(shard, "count");
        if (index == 0 || count == 0 || index > count) {
            bad(c, "shard: index and count must be integers with 1 <= index <= count");
            goto cleanup;
        }
        sb_printf(&b, "shard-%d-of-%d/", index, count);
    }
    put_sb(c, put_obj(c, run, "automationDetails"), "id", &b);

    if (add_invocation(c, run, report, rules, uri.p) != 0)
        goto cleanup;
    /* No absolute URI: the log must not carry the machine's paths. */
    sb_puts(&b, "The directory coldsec ran in, which CI makes the repository root.");
    put_message(c, put_obj(c, put_obj(c, run, "originalUriBaseIds"), SARIF_SRCROOT), "description", &b);
    results = put_arr(c, run, "results");
    i = 0;
    cJSON_ArrayForEach(e, findings) {
        if (add_result(c, results, rules, targets, uri.p, e, i++) != 0)
            goto cleanup;
    }
    /* suite_column counts characters (libyaml's marks). */
    put_str(c, run, "columnKind", "unicodeCodePoints");
    props = put_obj(c, run, "properties");
    if (run_id)
        put_text(c, props, "runId", run_id, SARIF_NAME_MAX);
    if (get_str(report, "fail_on"))
        put_text(c, props, "failOn", get_str(report, "fail_on"), SARIF_NAME_MAX);
    if (cJSON_IsNumber(get(report, "seed")))
        put(c, props, "seed", cJSON_Duplicate(get(report, "seed"), false));

cleanup:
    free(uri.p);
    free(b.p);
    if (c->failed || c->oom) {
        if (!c->failed)
            bad(c, "out of memory while building the SARIF log");
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

int sarif_write(const cJSON *report, FILE *out, char *err, size_t errlen)
{
    sctx c = {.err = err, .errlen = errlen};
    cJSON *log = build(&c, report);
    char *text = NULL;
    int rc = -1;

    if (!log)
        goto cleanup;
    text = cJSON_Print(log);
    if (!text) {
        bad(&c, "out of memory while printing the SARIF log");
        goto cleanup;
    }
    if (fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) != 0) {
        bad(&c, "writing the SARIF log failed");
        goto cleanup;
    }
    rc = 0;

cleanup:
    free(text);
    cJSON_Delete(log);
    return rc;
}
