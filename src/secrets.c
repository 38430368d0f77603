/*
 * secrets.c — the secret-exposure scanner and the evidence masker (see
 * secrets.h). A literal secret becomes a handful of byte strings ("needles":
 * its raw bytes and the encodings a leak takes) found with memmem; a pattern
 * is a compiled pcre2 program. Scanning collects every occurrence as a span,
 * merges overlapping spans of one secret, and sorts them by offset; masking
 * merges overlapping spans of all secrets and replaces each with a marker.
 *
 * The scanned text is hostile (whatever the function returned): it is only
 * ever read within [0, len), needles are searched with memmem, and pcre2 is
 * told the subject may hold invalid UTF-8. Nothing is written to the handle
 * after setup, so scans may run in parallel.
 */
#include "secrets.h"
#include "utf8.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest name secrets_name_is_secret() looks at, and its word budget. */
#define NAME_CLASSIFY_MAX 256
#define NAME_MAX_WORDS (NAME_CLASSIFY_MAX / 2 + 1)
/* Longest SSM parameter name (AWS's limit). */
#define SSM_PATH_MAX 2048

/* One add_* call: a literal (code NULL) or a pattern. */
typedef struct secret_entry {
    char *name;
    const char *kind; /* "pattern" or "literal" */
    pcre2_code *code;
} secret_entry;

/* One byte string a literal leaks as. */
typedef struct needle {
    size_t entry; /* index into entries */
    const char *form;
    char *bytes;
    size_t len;
} needle;

struct secrets {
    secret_entry *entries;
    size_t nentries, entries_cap;
    needle *needles;
    size_t nneedles, needles_cap;
};

/* An occurrence found in the text: [off, end). */
typedef struct span {
    size_t entry;
    const char *form;
    size_t off, end;
} span;

typedef struct spans {
    span *v;
    size_t n, cap;
} spans;

/* A growable byte buffer; oom is sticky, so callers check once at the end. */
typedef struct dynbuf {
    char *p;
    size_t n, cap;
    bool oom;
} dynbuf;

/* ---------------------------------------------------------------------------
 * Small helpers.
 */

/* Returns arr grown to hold at least need elements of elem bytes (updating
 * *cap), or NULL on OOM or overflow with arr untouched. */
static void *grow_array(void *arr, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 8;
    void *p;

    if (need <= *cap)
        return arr;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return NULL;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return NULL;
    p = realloc(arr, ncap * elem);
    if (!p)
        return NULL;
    *cap = ncap;
    return p;
}

static void buf_put(dynbuf *b, const void *src, size_t n)
{
    char *p;

    if (b->oom || n == 0)
        return;
    if (n > SIZE_MAX - b->n - 1) {
        b->oom = true;
        return;
    }
    p = grow_array(b->p, &b->cap, b->n + n + 1, 1);
    if (!p) {
        b->oom = true;
        return;
    }
    b->p = p;
    memcpy(b->p + b->n, src, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_putc(dynbuf *b, char c)
{
    buf_put(b, &c, 1);
}

static void buf_free(dynbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

static int spans_push(spans *l, size_t entry, const char *form, size_t off, size_t end)
{
    span *v = grow_array(l->v, &l->cap, l->n + 1, sizeof *v);

    if (!v)
        return -1;
    l->v = v;
    l->v[l->n++] = (span){.entry = entry, .form = form, .off = off, .end = end};
    return 0;
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void set_err(char *err, size_t errlen, const char *name, const char *msg)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "pattern %s: %s", name ? name : "(null)", msg);
}

/* Printable ASCII, no space or brackets, 1..SECRETS_MAX_NAME bytes. */
static bool name_ok(const char *name)
{
    size_t n;

    if (!name)
        return false;
    for (n = 0; name[n]; n++) {
        unsigned char c = (unsigned char)name[n];
        if (n >= SECRETS_MAX_NAME || c <= 0x20 || c >= 0x7f || c == '[' || c == ']')
            return false;
    }
    return n > 0;
}

/* ---------------------------------------------------------------------------
 * Setup.
 */
secrets *secrets_new(void)
{
    return calloc(1, sizeof(secrets));
}

void secrets_free(secrets *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nentries; i++) {
        free(s->entries[i].name);
        pcre2_code_free(s->entries[i].code);
    }
    for (size_t i = 0; i < s->nneedles; i++)
        free(s->needles[i].bytes);
    free(s->entries);
    free(s->needles);
    free(s);
}

/* Appends an entry owning a copy of name and (on success) code. */
static int add_entry(secrets *s, const char *name, const char *kind, pcre2_code *code)
{
    secret_entry *v = grow_array(s->entries, &s->entries_cap, s->nentries + 1, sizeof *v);
    char *copy = NULL;

    if (!v)
        return -1;
    s->entries = v;
    copy = strdup(name);
    if (!copy)
        return -1;
    s->entries[s->nentries++] = (secret_entry){.name = copy, .kind = kind, .code = code};
    return 0;
}

int secrets_add_pattern(secrets *s, const char *name, const char *pattern, char *err,
                        size_t errlen)
{
    pcre2_code *code = NULL;
    int errcode = 0;
    PCRE2_SIZE erroff = 0;
    int rc = -1;

    if (err && errlen > 0)
        err[0] = '\0';
    if (!s || !pattern) {
        set_err(err, errlen, name_ok(name) ? name : "(invalid name)", "no handle or no pattern");
        goto cleanup;
    }
    if (!name_ok(name)) {
        set_err(err, errlen, "(invalid name)",
                "a name is 1-128 printable ASCII bytes without space, '[' or ']'");
        goto cleanup;
    }
    code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                         PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &errcode, &erroff, NULL);
    if (!code) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(errcode, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "pcre2 error %d", errcode);
        if (err && errlen > 0)
            snprintf(err, errlen, "pattern %s: %s at offset %zu", name, (const char *)msg,
                     (size_t)erroff);
        goto cleanup;
    }
    /* JIT is an optimisation: without it (no JIT support, no executable
     * memory) pcre2_match interprets the same program. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    if (add_entry(s, name, "pattern", code) != 0) {
        set_err(err, errlen, name, "out of memory");
        goto cleanup;
    }
    code = NULL; /* the entry owns it */
    rc = 0;

cleanup:
    pcre2_code_free(code);
    return rc;
}

/* Registers bytes[0..len) as a form of entry, unless that entry already has
 * the same bytes (which also drops "url"/"json" forms equal to raw). An
 * empty needle would match everywhere: refused. */
static int add_needle(secrets *s, size_t entry, const char *form, const char *bytes,
                      size_t len)
{
    needle *v;
    char *copy;

    if (len == 0)
        return -1;
    for (size_t i = 0; i < s->nneedles; i++) {
        const needle *o = &s->needles[i];
        if (o->entry == entry && o->len == len && memcmp(o->bytes, bytes, len) == 0)
            return 0;
    }
    v = grow_array(s->needles, &s->needles_cap, s->nneedles + 1, sizeof *v);
    if (!v)
        return -1;
    s->needles = v;
    copy = malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, bytes, len);
    s->needles[s->nneedles++] = (needle){.entry = entry, .form = form, .bytes = copy, .len = len};
    return 0;
}

/* Base64 of (a zero bytes + value) with EVP_EncodeBlock; url selects the
 * base64url alphabet. Returns a malloc'd NUL-terminated string and its
 * length (padding included) in *outlen, or NULL on OOM. */
static char *b64_encode(const char *value, size_t len, size_t a, bool url, size_t *outlen)
{
    size_t n = a + len;
    unsigned char *in = calloc(n, 1);
    char *out = NULL;
    int k;

    if (!in)
        goto cleanup;
    memcpy(in + a, value, len);
    out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out)
        goto cleanup;
    k = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    if (k <= 0) {
        free(out);
        out = NULL;
        goto cleanup;
    }
    *outlen = (size_t)k;
    if (url)
        for (size_t i = 0; i < *outlen; i++)
            out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];

cleanup:
    free(in);
    return out;
}

/* The whole encoding at alignment 0 (padded for base64, unpadded for
 * base64url), then the stable part for each alignment (see secrets.h). */
static int add_base64_forms(secrets *s, size_t entry, const char *value, size_t len, bool url)
{
    const char *form = url ? "base64url" : "base64";
    char *enc = NULL;
    size_t elen = 0;
    int rc = -1;

    enc = b64_encode(value, len, 0, url, &elen);
    if (!enc)
        goto cleanup;
    if (url)
        while (elen > 0 && enc[elen - 1] == '=')
            elen--;
    if (add_needle(s, entry, form, enc, elen) != 0)
        goto cleanup;
    for (size_t a = 0; a < 3; a++) {
        /* Character i carries bits [6i, 6i+6); the value holds bits
         * [8a, 8(a+len)). Keep the characters wholly inside. */
        size_t from = (8 * a + 5) / 6, to = 8 * (a + len) / 6;
        free(enc);
        enc = b64_encode(value, len, a, url, &elen);
        if (!enc || to > elen)
            goto cleanup;
        if (add_needle(s, entry, form, enc + from, to - from) != 0)
            goto cleanup;
    }
    rc = 0;

cleanup:
    free(enc);
    return rc;
}

static bool url_unreserved(char c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int add_url_forms(secrets *s, size_t entry, const char *value, size_t len)
{
    static const char *const hexes[] = {"0123456789ABCDEF", "0123456789abcdef"};
    dynbuf b = {0};
    int rc = -1;

    for (size_t h = 0; h < 2; h++) {
        b.n = 0;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)value[i];
            if (url_unreserved(value[i])) {
                buf_putc(&b, value[i]);
            } else {
                char esc[3] = {'%', hexes[h][c >> 4], hexes[h][c & 15u]};
                buf_put(&b, esc, sizeof esc);
            }
        }
        if (b.oom || add_needle(s, entry, "url", b.p, b.n) != 0)
            goto cleanup;
    }
    rc = 0;

cleanup:
    buf_free(&b);
    return rc;
}

/* JSON string escaping variants (flags), see secrets.h. */
#define JSON_ASCII 1u /* non-ASCII as \uxxxx (surrogate pairs above U+FFFF) */
#define JSON_DEL 2u   /* DEL as \u007f */
#define JSON_HTML 4u  /* < > & U+2028 U+2029 as \u escapes */
#define JSON_SLASH 8u /* / as \/ */

/* Appends \uxxxx (lower-case hex, as the encoders write it) for cp <= 0xffff. */
static void json_u(dynbuf *b, uint32_t cp)
{
    static const char hex[] = "0123456789abcdef";
    char esc[6] = {'\\', 'u', hex[(cp >> 12) & 15u], hex[(cp >> 8) & 15u],
                   hex[(cp >> 4) & 15u], hex[cp & 15u]};

    buf_put(b, esc, sizeof esc);
}

/* value must be valid UTF-8 when flags has JSON_ASCII or JSON_HTML. */
static void json_escape(dynbuf *b, const char *value, size_t len, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)value;

    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        uint32_t cp = c;
        size_t k = 1;

        if (c >= 0x80 && (flags & (JSON_ASCII | JSON_HTML))) {
            k = utf8_decode(p + i, len - i, &cp);
            if (k == 0) { /* cannot happen for valid input; copy the byte */
                k = 1;
                cp = c;
            }
        }
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else if (c == '/' && (flags & JSON_SLASH)) {
            buf_put(b, "\\/", 2);
        } else if (c == '\b') {
            buf_put(b, "\\b", 2);
        } else if (c == '\f') {
            buf_put(b, "\\f", 2);
        } else if (c == '\n') {
            buf_put(b, "\\n", 2);
        } else if (c == '\r') {
            buf_put(b, "\\r", 2);
        } else if (c == '\t') {
            buf_put(b, "\\t", 2);
        } else if (c < 0x20 || (c == 0x7f && (flags & JSON_DEL)) ||
                   ((c == '<' || c == '>' || c == '&') && (flags & JSON_HTML))) {
            json_u(b, c);
        } else if (cp >= 0x80 && (flags & JSON_ASCII)) {
            if (cp > 0xffff) {
                json_u(b, 0xd800 + ((cp - 0x10000) >> 10));
                json_u(b, 0xdc00 + ((cp - 0x10000) & 0x3ffu));
            } else {
                json_u(b, cp);
            }
        } else if ((cp == 0x2028 || cp == 0x2029) && (flags & JSON_HTML)) {
            json_u(b, cp);
        } else {
            buf_put(b, p + i, k);
        }
        i += k;
    }
}

static int add_json_forms(secrets *s, size_t entry, const char *value, size_t len)
{
    /* JavaScript/Java, Python (ensure_ascii), Go, PHP. */
    static const unsigned profiles[] = {0, JSON_ASCII | JSON_DEL, JSON_HTML,
                                        JSON_SLASH | JSON_ASCII};
    bool valid = utf8_valid(value, len);
    dynbuf b = {0};
    int rc = -1;

    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
        unsigned flags = profiles[i];
        if (!valid && (flags & JSON_ASCII))
            continue;
        if (!valid)
            flags &= ~JSON_HTML;
        b.n = 0;
        json_escape(&b, value, len, flags);
        if (b.oom || add_needle(s, entry, "json", b.p ? b.p : "", b.n) != 0)
            goto cleanup;
    }
    rc = 0;

cleanup:
    buf_free(&b);
    return rc;
}

int secrets_add_literal(secrets *s, const char *name, const char *value, size_t len)
{
    size_t entries_before, needles_before;
    int rc = -1;

    if (!s || !name_ok(name) || !value || len > SECRETS_MAX_LITERAL)
        return -1;
    if (len < SECRETS_MIN_LITERAL)
        return 0;
    entries_before = s->nentries;
    needles_before = s->nneedles;
    if (add_entry(s, name, "literal", NULL) != 0)
        goto cleanup;
    if (add_needle(s, entries_before, "raw", value, len) != 0 ||
        add_base64_forms(s, entries_before, value, len, false) != 0 ||
        add_base64_forms(s, entries_before, value, len, true) != 0 ||
        add_url_forms(s, entries_before, value, len) != 0 ||
        add_json_forms(s, entries_before, value, len) != 0)
        goto cleanup;
    rc = 0;

cleanup:
    if (rc != 0) { /* roll back: nothing added on failure */
        while (s->nneedles > needles_before)
            free(s->needles[--s->nneedles].bytes);
        while (s->nentries > entries_before)
            free(s->entries[--s->nentries].name);
    }
    return rc;
}

/* ---------------------------------------------------------------------------
 * Scanning.
 */

/* Every occurrence of one needle; overlapping occurrences (a value like
 * "abababab" in "ababababab") extend one span. */
static int collect_needle(const needle *nd, const char *text, size_t len, spans *l)
{
    size_t pos = 0;
    bool have = false;
    span cur = {0};

    while (nd->len <= len - pos) {
        const char *hit = memmem(text + pos, len - pos, nd->bytes, nd->len);
        size_t off;
        if (!hit)
            break;
        off = (size_t)(hit - text);
        if (have && off < cur.end) {
            cur.end = off + nd->len;
        } else {
            if (have && spans_push(l, cur.entry, cur.form, cur.off, cur.end) != 0)
                return -1;
            cur = (span){.entry = nd->entry, .form = nd->form, .off = off, .end = off + nd->len};
            have = true;
        }
        pos = off + 1;
    }
    if (have && spans_push(l, cur.entry, cur.form, cur.off, cur.end) != 0)
        return -1;
    return 0;
}

/* Every non-empty match of entry e's pattern. On a pcre2 error the search
 * stops; with mask_failures the rest of the text becomes one span. */
static int collect_pattern(const secrets *s, size_t e, const char *text, size_t len, spans *l,
                           bool mask_failures)
{
    const pcre2_code *code = s->entries[e].code;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    uint32_t nojit = 0;
    size_t start = 0;
    int rc = -1;

    if (!md)
        goto cleanup;
    while (start < len) {
        int m = pcre2_match(code, (PCRE2_SPTR)text, len, start, PCRE2_NOTEMPTY | nojit, md,
                            NULL);
        const PCRE2_SIZE *ov;
        if (m == PCRE2_ERROR_JIT_STACKLIMIT && !nojit) {
            nojit = PCRE2_NO_JIT; /* the interpreter keeps its frames on the heap */
            continue;
        }
        if (m == PCRE2_ERROR_NOMATCH)
            break;
        if (m < 0) {
            if (mask_failures && spans_push(l, e, "raw", start, len) != 0)
                goto cleanup;
            break;
        }
        ov = pcre2_get_ovector_pointer(md);
        if (ov[1] > ov[0] && ov[1] <= len && spans_push(l, e, "raw", ov[0], ov[1]) != 0)
            goto cleanup;
        start = ov[1] > start ? ov[1] : start + 1;
    }
    rc = 0;

cleanup:
    pcre2_match_data_free(md);
    return rc;
}

static int collect(const secrets *s, const char *text, size_t len, spans *l, bool mask_failures)
{
    for (size_t i = 0; i < s->nneedles; i++)
        if (collect_needle(&s->needles[i], text, len, l) != 0)
            return -1;
    for (size_t e = 0; e < s->nentries; e++)
        if (s->entries[e].code && collect_pattern(s, e, text, len, l, mask_failures) != 0)
            return -1;
    return 0;
}

static int cmp_size(size_t a, size_t b)
{
    return a < b ? -1 : a > b;
}

/* By entry, then offset, then longest first. */
static int span_cmp_entry(const void *pa, const void *pb)
{
    const span *a = pa, *b = pb;
    int c = cmp_size(a->entry, b->entry);

    if (c == 0)
        c = cmp_size(a->off, b->off);
    return c ? c : cmp_size(b->end, a->end);
}

/* By offset, then longest first, then entry. */
static int span_cmp_offset(const void *pa, const void *pb)
{
    const span *a = pa, *b = pb;
    int c = cmp_size(a->off, b->off);

    if (c == 0)
        c = cmp_size(b->end, a->end);
    return c ? c : cmp_size(a->entry, b->entry);
}

/* Merges overlapping spans of the same entry in place, then orders by offset. */
static void merge_per_entry(spans *l)
{
    size_t w = 0;

    if (l->n == 0)
        return;
    qsort(l->v, l->n, sizeof *l->v, span_cmp_entry);
    for (size_t r = 1; r < l->n; r++) {
        span *cur = &l->v[w];
        if (l->v[r].entry == cur->entry && l->v[r].off < cur->end) {
            if (l->v[r].end > cur->end)
                cur->end = l->v[r].end;
        } else {
            l->v[++w] = l->v[r];
        }
    }
    l->n = w + 1;
    qsort(l->v, l->n, sizeof *l->v, span_cmp_offset);
}

size_t secrets_scan(const secrets *s, const char *text, size_t len, secrets_match *out,
                    size_t max)
{
    spans l = {0};
    size_t total = SECRETS_SCAN_ERROR;

    if (!s || !text || len == 0)
        return 0;
    if (collect(s, text, len, &l, false) != 0)
        goto cleanup;
    merge_per_entry(&l);
    for (size_t i = 0; i < l.n && i < max && out; i++) {
        const secret_entry *e = &s->entries[l.v[i].entry];
        out[i] = (secrets_match){.name = e->name, .kind = e->kind, .form = l.v[i].form,
                                 .offset = l.v[i].off, .len = l.v[i].end - l.v[i].off};
    }
    total = l.n;

cleanup:
    free(l.v);
    return total;
}

/* Appends "[MASKED NAME LEN sha256:8hex]" for text[0..n). */
static int put_marker(dynbuf *b, const char *name, const char *text, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char marker[SECRETS_MAX_NAME + 64];
    int k;

    if (EVP_Digest(text, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 4)
        return -1;
    k = snprintf(marker, sizeof marker, "[MASKED %s %zu sha256:%02x%02x%02x%02x]", name, n,
                 md[0], md[1], md[2], md[3]);
    if (k < 0 || (size_t)k >= sizeof marker)
        return -1;
    buf_put(b, marker, (size_t)k);
    return 0;
}

char *secrets_mask(const secrets *s, const char *text, size_t len, size_t *outlen)
{
    spans l = {0};
    dynbuf b = {0};
    size_t pos = 0;
    char *result = NULL;

    if (!outlen)
        return NULL;
    *outlen = 0;
    if (!s || (!text && len > 0))
        goto cleanup;
    if (len > 0 && collect(s, text, len, &l, true) != 0)
        goto cleanup;
    if (l.n > 0)
        qsort(l.v, l.n, sizeof *l.v, span_cmp_offset);
    for (size_t i = 0; i < l.n;) {
        /* One masked region: this span and every span that overlaps it. */
        size_t off = l.v[i].off, end = l.v[i].end, first = i;
        for (i++; i < l.n && l.v[i].off < end; i++)
            if (l.v[i].end > end)
                end = l.v[i].end;
        buf_put(&b, text + pos, off - pos);
        if (put_marker(&b, s->entries[l.v[first].entry].name, text + off, end - off) != 0)
            goto cleanup;
        pos = end;
    }
    if (len > pos)
        buf_put(&b, text + pos, len - pos);
    if (!b.p && !b.oom) /* empty result */
        b.p = calloc(1, 1);
    if (b.oom || !b.p)
        goto cleanup;
    result = b.p;
    *outlen = b.n;
    b.p = NULL;

cleanup:
    buf_free(&b);
    free(l.v);
    return result;
}

/* ---------------------------------------------------------------------------
 * Classifying variables.
 */
typedef struct word {
    const char *p;
    size_t len;
} word;

/* Case-insensitive: is w (minus trailing digits when strip) equal to kw? */
static bool word_is(word w, const char *kw)
{
    size_t n = strlen(kw);

    if (w.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (upper(w.p[i]) != kw[i])
            return false;
    return true;
}

/* w without its trailing digits ("PASSWORD2" -> "PASSWORD"). */
static word word_core(word w)
{
    while (w.len > 0 && is_digit(w.p[w.len - 1]))
        w.len--;
    return w;
}

static bool word_ends_with(word w, const char *kw)
{
    size_t n = strlen(kw);
    word tail;

    if (w.len <= n)
        return false;
    tail = (word){w.p + w.len - n, n};
    return word_is(tail, kw);
}

static bool is_value_word(word w)
{
    static const char *const values[] = {
        "KEY",  "KEYS", "VALUE", "STRING",  "STR",     "BASE",    "B64", "BASE64",
        "HEX",  "PEM",  "DER",   "RAW",     "DATA",    "JSON",    "CURRENT",
        "PRIMARY", "SECONDARY", "OLD", "NEW", "PREV", "PREVIOUS",
    };
    size_t digits_from = (w.len > 1 && upper(w.p[0]) == 'V') ? 1 : 0;
    bool digits = w.len > digits_from;

    for (size_t i = digits_from; i < w.len; i++)
        digits = digits && is_digit(w.p[i]);
    if (digits)
        return true;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        if (word_is(w, values[i]))
            return true;
    return false;
}

/* Does a keyword end at words[j]? */
static bool keyword_ends_at(const word *words, size_t j)
{
    static const char *const singles[] = {
        "PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE", "PASS", "SECRET", "SECRETS",
        "TOKEN", "CREDENTIAL", "CREDENTIALS", "AUTH", "AUTHORIZATION", "DSN",
        "APIKEY", "PRIVATEKEY", "ACCESSKEY", "SIGNINGKEY", "ENCRYPTIONKEY", "CONNECTIONSTRING",
    };
    static const char *const pairs[][2] = {
        {"API", "KEY"},     {"PRIVATE", "KEY"},    {"ACCESS", "KEY"},
        {"SIGNING", "KEY"}, {"ENCRYPTION", "KEY"}, {"CONNECTION", "STRING"},
    };
    word core = word_core(words[j]);

    if (core.len == 0)
        return false;
    for (size_t i = 0; i < sizeof singles / sizeof singles[0]; i++)
        if (word_is(core, singles[i]) ||
            (strlen(singles[i]) >= 5 && word_ends_with(core, singles[i])))
            return true;
    for (size_t i = 0; j > 0 && i < sizeof pairs / sizeof pairs[0]; i++)
        if (word_is(core, pairs[i][1]) && word_is(words[j - 1], pairs[i][0]))
            return true;
    return false;
}

bool secrets_name_is_secret(const char *name)
{
    word words[NAME_MAX_WORDS];
    size_t n = 0, len;

    if (!name)
        return false;
    len = strnlen(name, NAME_CLASSIFY_MAX + 1);
    if (len == 0 || len > NAME_CLASSIFY_MAX)
        return false;
    for (size_t i = 0; i < len;) {
        size_t start;
        if (!is_alnum(name[i])) {
            i++;
            continue;
        }
        start = i++;
        /* A word ends at a separator or where lower/digit meets upper. */
        while (i < len && is_alnum(name[i]) &&
               !((name[i] >= 'A' && name[i] <= 'Z') &&
                 ((name[i - 1] >= 'a' && name[i - 1] <= 'z') || is_digit(name[i - 1]))))
            i++;
        if (n < NAME_MAX_WORDS)
            words[n++] = (word){name + start, i - start};
    }
    /* From the last word back: a keyword, or a value word to skip. */
    for (size_t j = n; j-- > 0;) {
        if (keyword_ends_at(words, j))
            return true;
        if (!is_value_word(words[j]))
            return false;
    }
    return false;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool secrets_value_is_reference(const char *value)
{
    size_t len;

    if (!value || !*value)
        return true;
    len = strlen(value);
    if (has_prefix(value, "arn:")) {
        size_t colons = 0;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)value[i];
            if (c <= 0x20 || c == 0x7f)
                return false;
            colons += c == ':';
        }
        return colons >= 5;
    }
    if (value[0] == '/') {
        if (len > SSM_PATH_MAX)
            return false;
        for (size_t i = 0; i < len; i++)
            if (!is_alnum(value[i]) && !strchr("_.-/", value[i]))
                return false;
        return true;
    }
    if (has_prefix(value, "{{resolve:"))
        return len >= 12 && strcmp(value + len - 2, "}}") == 0;
    return has_prefix(value, "ssm:") || has_prefix(value, "secretsmanager:");
}
