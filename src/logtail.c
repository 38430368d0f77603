/*
 * logtail.c — the log tail an Invoke returns in X-Amz-Log-Result, read by
 * the coldsec client's invocation engine: base64 on OpenSSL's EVP decoder,
 * the platform's REPORT and Task-timed-out lines, and a sanitizer for
 * printing the tail. coldsec-lab writes the same lines (harness/lab_log.c),
 * and test_logtail checks that the two agree.
 *
 * The endpoint may be hostile: the parser works in place on pointer + length
 * (no NUL needed, NULs inside are ordinary bytes), copies a token only into
 * a fixed buffer after checking its length, and accepts only plain decimals,
 * so strtod never sees hex, exponents, inf or nan. JSON lines go to cJSON
 * with their length (no NUL needed) and every value read from them is
 * type- and range-checked before it is kept.
 */
#include "logtail.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Longest field name we look at ("Billed Restore Duration" is 23). */
#define LOGTAIL_MAX_NAME 64
/* Longest number token: "1000000000.00" is 13; leading zeros are allowed. */
#define LOGTAIL_MAX_NUMBER 31
/* Longest unit word an unknown field may carry. */
#define LOGTAIL_MAX_UNIT 8

#define REPORT_PREFIX "REPORT RequestId:"
#define TIMEOUT_PHRASE "Task timed out after"

/* ---------------------------------------------------------------------------
 * Base64.
 */
static bool is_b64_alphabet(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '=';
}

static bool is_b64_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int logtail_decode(const char *b64, size_t b64len, char **out, size_t *outlen)
{
    EVP_ENCODE_CTX *ctx = NULL;
    unsigned char *buf = NULL;
    int n = 0;
    int m = 0;
    int rc = -1;

    *out = NULL;
    *outlen = 0;
    if (b64len > LOGTAIL_MAX_B64 || (!b64 && b64len > 0))
        goto cleanup;
    /* Our own check, not OpenSSL's: which bytes it skips (e.g. '-') has
     * changed between versions, and the header promises exactly these. */
    for (size_t i = 0; i < b64len; i++) {
        unsigned char c = (unsigned char)b64[i];
        if (!is_b64_alphabet(c) && !is_b64_space(c))
            goto cleanup;
    }
    /* 3 bytes per 4 characters decoded, whitespace included as if it were
     * data; +4 covers the NUL with room to spare. */
    buf = malloc(b64len / 4 * 3 + 4);
    ctx = EVP_ENCODE_CTX_new();
    if (!buf || !ctx)
        goto cleanup;
    EVP_DecodeInit(ctx);
    if (b64len > 0 &&
        EVP_DecodeUpdate(ctx, buf, &n, (const unsigned char *)b64, (int)b64len) < 0)
        goto cleanup;
    if (EVP_DecodeFinal(ctx, buf + n, &m) < 0)
        goto cleanup;
    buf[n + m] = '\0';
    *out = (char *)buf;
    *outlen = (size_t)n + (size_t)m;
    buf = NULL;
    rc = 0;

cleanup:
    EVP_ENCODE_CTX_free(ctx);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------------------
 * A cursor over one line. Character classes are ASCII only, whatever the
 * locale.
 */
typedef struct cursor {
    const char *p;
    const char *end;
} cursor;

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_sep(char c)
{
    return c == ' ' || c == '\t';
}

static bool at_end(const cursor *c)
{
    return c->p >= c->end;
}

static size_t skip_seps(cursor *c)
{
    const char *start = c->p;

    while (!at_end(c) && is_sep(*c->p))
        c->p++;
    return (size_t)(c->p - start);
}

/* The run of non-separator bytes at the cursor (possibly empty). */
static size_t take_word(cursor *c, const char **word)
{
    const char *start = c->p;

    while (!at_end(c) && !is_sep(*c->p))
        c->p++;
    *word = start;
    return (size_t)(c->p - start);
}

static bool take_literal(cursor *c, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

static bool span_is(const char *p, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

/* ---------------------------------------------------------------------------
 * Numbers: plain decimals only, so strtod's extras (hex floats, exponents,
 * inf, nan, signs, leading space) never reach it.
 */
static bool parse_decimal(const char *p, size_t n, double *v)
{
    char buf[LOGTAIL_MAX_NUMBER + 1];
    char *endp = NULL;
    size_t i = 0;
    double d;

    if (n == 0 || n > LOGTAIL_MAX_NUMBER)
        return false;
    while (i < n && is_digit(p[i]))
        i++;
    if (i == 0)
        return false;
    if (i < n) {
        size_t frac;
        if (p[i] != '.')
            return false;
        frac = ++i;
        while (i < n && is_digit(p[i]))
            i++;
        if (i == frac || i != n)
            return false;
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    d = strtod(buf, &endp);
    if (endp != buf + n || !isfinite(d) || d < 0 || d > LOGTAIL_MAX_VALUE)
        return false;
    *v = d;
    return true;
}

static bool parse_int(const char *p, size_t n, int *v)
{
    unsigned long long acc = 0;

    if (n == 0 || n > LOGTAIL_MAX_NUMBER)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return false;
        acc = acc * 10 + (unsigned long long)(p[i] - '0');
        if (acc > (unsigned long long)LOGTAIL_MAX_VALUE)
            return false;
    }
    *v = (int)acc;
    return true;
}

/* ---------------------------------------------------------------------------
 * The REPORT line.
 */
enum {
    F_REQUEST_ID = 1 << 0,
    F_DURATION = 1 << 1,
    F_BILLED = 1 << 2,
    F_MEMORY = 1 << 3,
    F_MAX_MEMORY = 1 << 4,
    F_INIT = 1 << 5,
    F_REQUIRED = F_REQUEST_ID | F_DURATION | F_BILLED | F_MEMORY | F_MAX_MEMORY,
};

/*
 * A field name is words of letters joined by single spaces, then ':'. The
 * scan stops at LOGTAIL_MAX_NAME, which also keeps take_unit's look-ahead
 * cheap on a line of endless words.
 */
static bool take_name(cursor *c, const char **name, size_t *len)
{
    const char *start = c->p;

    for (;;) {
        if (at_end(c) || !is_letter(*c->p))
            return false;
        while (!at_end(c) && is_letter(*c->p) && c->p - start <= LOGTAIL_MAX_NAME)
            c->p++;
        if (c->p - start > LOGTAIL_MAX_NAME)
            return false;
        if (!at_end(c) && *c->p == ':')
            break;
        if (c->end - c->p >= 2 && c->p[0] == ' ' && is_letter(c->p[1])) {
            c->p++;
            continue;
        }
        return false;
    }
    *name = start;
    *len = (size_t)(c->p - start);
    c->p++; /* ':' */
    return true;
}

static bool all_letters(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_letter(p[i]))
            return false;
    }
    return n > 0;
}

/*
 * The unit after a value, if the next word is one; else nothing is consumed.
 * Spaces may separate fields as well as a value from its unit, so a word of
 * letters is a unit unless it begins the next field's name; the usual units
 * always are, so "2.10 ms Billed Duration: 3 ms" reads right with single
 * spaces. An unknown field's unknown unit ("Foo: 1 widgets") is skipped too.
 */
static size_t take_unit(cursor *c, const char **unit)
{
    static const char *const known[] = {"ms", "MB", "s", "KB", "GB"};
    cursor look = *c;
    const char *w;
    size_t n;
    bool is_unit = false;

    *unit = NULL;
    skip_seps(&look);
    n = take_word(&look, &w);
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        is_unit = is_unit || span_is(w, n, known[i]);
    if (!is_unit && n <= LOGTAIL_MAX_UNIT && all_letters(w, n)) {
        cursor name = {w, c->end};
        const char *ignored;
        size_t ignored_len;
        is_unit = !take_name(&name, &ignored, &ignored_len);
    }
    if (!is_unit)
        return 0;
    *c = look;
    *unit = w;
    return n;
}

static bool valid_request_id(const char *p, size_t n)
{
    if (n == 0 || n >= LOGTAIL_REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] <= ' ' || p[i] > '~')
            return false;
    }
    return true;
}

/* Fills r from one REPORT line; false (r partly written) if malformed. */
static bool parse_report_line(const char *line, size_t len, logtail_report *r)
{
    cursor c = {line + strlen("REPORT"), line + len};
    unsigned seen = 0;

    for (;;) {
        const char *name, *value, *unit;
        size_t name_len, value_len, unit_len;
        unsigned field = 0;
        bool ok = true;

        skip_seps(&c);
        if (at_end(&c))
            break;
        if (!take_name(&c, &name, &name_len))
            return false;
        skip_seps(&c);
        value_len = take_word(&c, &value);
        if (value_len == 0)
            return false;
        unit_len = take_unit(&c, &unit);

        if (span_is(name, name_len, "RequestId")) {
            field = F_REQUEST_ID;
            ok = unit_len == 0 && valid_request_id(value, value_len);
            if (ok) {
                memcpy(r->request_id, value, value_len);
                r->request_id[value_len] = '\0';
            }
        } else if (span_is(name, name_len, "Duration")) {
            field = F_DURATION;
            ok = span_is(unit, unit_len, "ms") && parse_decimal(value, value_len, &r->duration_ms);
        } else if (span_is(name, name_len, "Billed Duration")) {
            field = F_BILLED;
            ok = span_is(unit, unit_len, "ms") && parse_decimal(value, value_len, &r->billed_ms);
        } else if (span_is(name, name_len, "Memory Size")) {
            field = F_MEMORY;
            ok = span_is(unit, unit_len, "MB") && parse_int(value, value_len, &r->memory_size_mb);
        } else if (span_is(name, name_len, "Max Memory Used")) {
            field = F_MAX_MEMORY;
            ok = span_is(unit, unit_len, "MB") &&
                 parse_int(value, value_len, &r->max_memory_used_mb);
        } else if (span_is(name, name_len, "Init Duration")) {
            field = F_INIT;
            ok = span_is(unit, unit_len, "ms") && parse_decimal(value, value_len, &r->init_ms);
        }
        /* Unknown fields (Restore Duration, ...) are skipped whole above. */
        if (!ok || (seen & field))
            return false;
        seen |= field;
    }
    if ((seen & F_REQUIRED) != F_REQUIRED)
        return false;
    r->has_init = (seen & F_INIT) != 0;
    return true;
}

/* `<timestamp> <requestId> Task timed out after N seconds`. */
static bool parse_timeout_line(const char *line, size_t len, double *seconds)
{
    cursor c = {line, line + len};
    const char *w;
    size_t n;

    for (int i = 0; i < 2; i++) { /* timestamp, request id */
        if (take_word(&c, &w) == 0 || skip_seps(&c) == 0)
            return false;
    }
    if (!take_literal(&c, TIMEOUT_PHRASE) || skip_seps(&c) == 0)
        return false;
    n = take_word(&c, &w);
    if (!parse_decimal(w, n, seconds) || skip_seps(&c) == 0 || !take_literal(&c, "seconds"))
        return false;
    skip_seps(&c);
    return at_end(&c);
}

void logtail_parse(const char *text, size_t len, logtail_report *out)
{
    const char *report = NULL;
    size_t report_len = 0;
    size_t after_report = 0; /* offset of the line after the last REPORT line */
    size_t pos = 0;

    memset(out, 0, sizeof(*out));
    if (!text)
        return;
    /* One pass for the last REPORT line, a second from there for the
     * timeout line: linear in len however many lines there are. */
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        size_t next = pos + n + (nl ? 1 : 0);

        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n >= strlen(REPORT_PREFIX) && memcmp(line, REPORT_PREFIX, strlen(REPORT_PREFIX)) == 0) {
            report = line;
            report_len = n;
            after_report = next;
        }
        pos = next;
    }
    if (!report)
        return;
    if (!parse_report_line(report, report_len, out)) {
        memset(out, 0, sizeof(*out));
    } else {
        out->present = true;
    }

    for (pos = after_report; pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        double seconds;

        pos += n + (nl ? 1 : 0);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (parse_timeout_line(line, n, &seconds)) {
            out->timed_out = true;
            out->timed_out_after_s = seconds;
        }
    }
}

/* ---------------------------------------------------------------------------
 * JSON log lines (Lambda's JSON log format; the only one Managed Instances
 * support).
 */
#define PLATFORM_REPORT "platform.report"

/* One line as a JSON object, or NULL: a text line, a line cut at the start
 * of the tail, anything but an object. */
static cJSON *json_line(const char *line, size_t len)
{
    size_t i = 0;
    cJSON *j;

    while (i < len && is_sep(line[i]))
        i++;
    if (i == len || line[i] != '{')
        return NULL;
    j = cJSON_ParseWithLength(line, len);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool json_id(const char *v, char *id, size_t idlen)
{
    size_t n;
    if (!v)
        return false;
    n = strlen(v);
    if (!valid_request_id(v, n) || n >= idlen)
        return false;
    memcpy(id, v, n + 1);
    return true;
}

/* The line's request id out of an already parsed object. */
static bool json_request_id(const cJSON *j, char *id, size_t idlen)
{
    const char *v = json_str(j, "requestId");
    if (v)
        return json_id(v, id, idlen);
    return json_id(json_str(cJSON_GetObjectItemCaseSensitive(j, "record"), "requestId"), id, idlen);
}

bool logtail_line_request_id(const char *line, size_t len, char *id, size_t idlen)
{
    cJSON *j;
    bool ok;

    if (!line || !id || idlen == 0)
        return false;
    id[0] = '\0';
    j = json_line(line, len);
    ok = j && json_request_id(j, id, idlen);
    if (!ok)
        id[0] = '\0';
    cJSON_Delete(j);
    return ok;
}

static bool json_metric(const cJSON *m, const char *key, double *v)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, key);
    if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble) || n->valuedouble < 0 || n->valuedouble > LOGTAIL_MAX_VALUE)
        return false;
    *v = n->valuedouble;
    return true;
}

static bool json_metric_int(const cJSON *m, const char *key, int *v)
{
    double d;
    if (!json_metric(m, key, &d) || d != floor(d))
        return false;
    *v = (int)d;
    return true;
}

/* Fills r from a platform.report record; false (r partly written) if malformed. */
static bool parse_json_report(const cJSON *j, logtail_report *r)
{
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(j, "record");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, "metrics");
    const char *st = json_str(rec, "status");

    if (!cJSON_IsObject(rec) || !cJSON_IsObject(m) ||
        !json_id(json_str(rec, "requestId"), r->request_id, sizeof(r->request_id)) ||
        !json_metric(m, "durationMs", &r->duration_ms) || !json_metric(m, "billedDurationMs", &r->billed_ms) ||
        !json_metric_int(m, "memorySizeMB", &r->memory_size_mb) ||
        !json_metric_int(m, "maxMemoryUsedMB", &r->max_memory_used_mb))
        return false;
    if (cJSON_GetObjectItemCaseSensitive(m, "initDurationMs")) {
        if (!json_metric(m, "initDurationMs", &r->init_ms))
            return false;
        r->has_init = true;
    }
    if (st && strcmp(st, "timeout") == 0)
        r->timed_out = true;
    return true;
}

/* Is this line the platform.report of request_id (any when NULL)? The
 * cheap test first: most lines name no platform record at all. */
static cJSON *report_record(const char *line, size_t n, const char *request_id)
{
    cJSON *j;
    char id[LOGTAIL_REQUEST_ID_MAX];

    if (n < strlen(PLATFORM_REPORT) || !memmem(line, n, PLATFORM_REPORT, strlen(PLATFORM_REPORT)))
        return NULL;
    j = json_line(line, n);
    if (!j || !json_str(j, "type") || strcmp(json_str(j, "type"), PLATFORM_REPORT) != 0 ||
        (request_id && (!json_request_id(j, id, sizeof(id)) || strcmp(id, request_id) != 0))) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

void logtail_parse_for(const char *text, size_t len, const char *request_id, logtail_report *out)
{
    size_t pos = 0, at = 0, at_len = 0;
    bool found = false;
    cJSON *j;

    if (request_id && !request_id[0])
        request_id = NULL;
    logtail_parse(text, len, out);
    /* Without a request id a text REPORT line wins, as it always has;
     * with one, only a record that names it is this invocation's. */
    if (!text || (!request_id && memmem(text, len, REPORT_PREFIX, strlen(REPORT_PREFIX))))
        return;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;

        j = report_record(line, n, request_id);
        if (j) {
            found = true;
            at = pos;
            at_len = n;
            cJSON_Delete(j);
        }
        pos += n + (nl ? 1 : 0);
    }
    if (!found)
        return;
    memset(out, 0, sizeof(*out));
    j = report_record(text + at, at_len, request_id);
    if (j && parse_json_report(j, out))
        out->present = true;
    else
        memset(out, 0, sizeof(*out));
    cJSON_Delete(j);
}

int logtail_own_lines(const char *text, size_t len, const char *request_id, char **out, size_t *outlen)
{
    size_t pos = 0, o = 0;
    char id[LOGTAIL_REQUEST_ID_MAX];
    char *buf = malloc(len + 2);   /* a last line without '\n' gets one, then the NUL */

    *out = NULL;
    *outlen = 0;
    if (!buf)
        return -1;
    while (text && request_id && request_id[0] && pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        size_t keep = n > 0 && line[n - 1] == '\r' ? n - 1 : n;

        if (logtail_line_request_id(line, keep, id, sizeof(id)) && strcmp(id, request_id) == 0) {
            memcpy(buf + o, line, keep);
            o += keep;
            buf[o++] = '\n';
        }
        pos += n + (nl ? 1 : 0);
    }
    buf[o] = '\0';
    *out = buf;
    *outlen = o;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Sanitizer.
 */
#define CP_INVALID UINT32_MAX

/*
 * Decodes one character at s (n >= 1 bytes available). Returns the bytes it
 * spans; for ill-formed input *cp is CP_INVALID and the span is the maximal
 * subpart (the longest prefix of a well-formed sequence, at least 1 byte),
 * so one U+FFFD replaces it and decoding resumes at the next possible start.
 */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t need;
    uint32_t v;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = c & 0x0Fu;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = c & 0x07u;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        *cp = CP_INVALID;
        return 1;
    }
    for (size_t k = 1; k <= need; k++) {
        if (k >= n || s[k] < lo || s[k] > hi) {
            *cp = CP_INVALID;
            return k;
        }
        v = (v << 6) | (s[k] & 0x3Fu);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return need + 1;
}

/* What must not reach a terminal or a report as is. */
static bool is_unsafe(uint32_t cp)
{
    if (cp == '\n' || cp == '\t')
        return false;
    return cp == CP_INVALID || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t logtail_sanitize(const char *text, size_t len, char *out, size_t outlen)
{
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    size_t o = 0;

    if (outlen == 0)
        return 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_next(s + i, len - i, &cp);
        const char *src = text + i;
        size_t srclen = n;

        if (is_unsafe(cp)) {
            src = replacement;
            srclen = sizeof(replacement) - 1;
        }
        if (srclen > outlen - 1 - o)
            break;
        memcpy(out + o, src, srclen);
        o += srclen;
        i += n;
    }
    out[o] = '\0';
    return o;
}
