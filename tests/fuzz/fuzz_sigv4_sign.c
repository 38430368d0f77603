/*
 * libFuzzer target for sigv4_sign(), the request side of our SigV4, checked
 * against sigv4_verify() and against a small reference signer written here
 * from botocore's rules (independent of src/sigv4.c).
 *
 * Input, line by line ('\n'; a NUL inside a line ends that field early):
 *   1  selector bytes (see SEL_* below; missing bytes are 0)
 *   2  method        (empty: one of METHODS, by selector)
 *   3  wire path     (empty: "/")
 *   4  wire query    (empty: none)
 *   5  region        (empty: us-east-1)
 *   6  service       (empty: lambda)
 *   7  access key id (empty: AKIDEXAMPLE)
 *   8  secret        (empty: the AWS example secret)
 *   9  session token (empty: none, long-term keys)
 *   then up to 6 header lines "Name:value" (value taken raw, whitespace and
 *   all; more lines before the blank one are ignored), a blank line, and the
 *   body (the rest, any bytes).
 * The harness adds Host, X-Amz-Date (from a fixed time), the token header
 * and, on request, a correct X-Amz-Content-SHA256, the way lambda_client does.
 *
 * Properties (a violation prints "FINDING sigv4_sign ..." and aborts):
 *   - sign succeeds exactly when the request is within sigv4.h's promises and
 *     sigv4.c's caps (out buffer large enough);
 *   - signing is deterministic, independent of header order (when no name
 *     repeats), and fits an exact-size buffer but not one byte less;
 *   - the Authorization header has the documented shape, SignedHeaders is the
 *     sorted, lower-cased, de-duplicated list of every header but
 *     Authorization, and the signature is what the reference computes;
 *   - sigv4_canonical_request() equals the reference byte for byte, with a
 *     sorted, re-encoded query, lower-case names and collapsed values;
 *   - sigv4_verify() accepts what sign produced (same secret, clock within
 *     5 minutes), says expired beyond, refuses another service or region;
 *   - one changed byte of the body, the method or the secret fails
 *     verification; one changed byte of the path, the query or a signed
 *     header value fails it exactly when the reference canonical request
 *     changes (so normalisation, e.g. "/a/./b" vs "/a//b", still verifies).
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FUZZ_HEADERS 6
#define MAX_HEADERS (MAX_FUZZ_HEADERS + 5) /* + host, date, token, content-sha, authorization */
#define AUTH_CAP 8192

/* Selector bytes (line 1). */
enum {
    SEL_OPTS,   /* bits 0-1 time, 2-4 skew, 5 verify without region, 6 add content-sha, 7 omit host */
    SEL_OPTS2,  /* bits 0-2 method, 3 harness headers last, 4-5 host spelling, 6 host value */
    SEL_BODY,   /* body byte to change */
    SEL_LINE,   /* method / path / query byte to change */
    SEL_HDR,    /* which header value to change */
    SEL_HDROFF, /* which byte of it */
    SEL_XOR,    /* the change (xor; 0 means 0x20) */
    SEL_N
};

static const struct {
    time_t t;
    const char *amz;
} TIMES[4] = {
    {1704164645, "20240102T030405Z"},
    {1709208000, "20240229T120000Z"},
    {1704067199, "20231231T235959Z"},
    {(time_t)2147483648LL, "20380119T031408Z"},
};
static const long SKEWS[8] = {0, 1, -1, 300, -300, 301, -301, 100000};
static const char *const METHODS[8] = {"POST", "GET", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "get"};
static const char *const HOST_NAMES[4] = {"Host", "host", "HOST", "hOsT"};
static const char *const HOST_VALUES[2] = {"lambda.us-east-1.amazonaws.com", "127.0.0.1:9000"};
static const char DEFAULT_SECRET[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

static void finding(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void finding(const char *fmt, ...)
{
    va_list ap;
    fputs("FINDING sigv4_sign ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* ---------------------------------------------------------------------------
 * A growing string for the reference (allocation failure aborts: a harness).
 */
typedef struct dstr {
    char *p;
    size_t len, cap;
} dstr;

static void ds_add(dstr *d, const char *s, size_t n)
{
    if (d->len + n + 1 > d->cap) {
        size_t cap = d->cap ? d->cap : 128;
        while (cap < d->len + n + 1)
            cap *= 2;
        d->p = realloc(d->p, cap);
        if (!d->p)
            abort();
        d->cap = cap;
    }
    if (n)
        memcpy(d->p + d->len, s, n);
    d->len += n;
    d->p[d->len] = '\0';
}

static void ds_str(dstr *d, const char *s)
{
    ds_add(d, s, strlen(s));
}

static void ds_chr(dstr *d, char c)
{
    ds_add(d, &c, 1);
}

static char *ds_take(dstr *d)
{
    if (!d->p)
        ds_add(d, "", 0);
    return d->p;
}

/* ---------------------------------------------------------------------------
 * The reference: botocore's SigV4 for every service but S3, as sigv4.h
 * describes it, written for clarity rather than speed.
 */
static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* Python's str.isspace() among ASCII: what value.split() splits on. */
static bool py_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' ||
           (c >= 0x1c && c <= 0x1f);
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        if (lower(*a) != lower(*b))
            return false;
    }
    return *a == *b;
}

static void pct(dstr *d, unsigned char c)
{
    char e[4];
    if (unreserved(c)) {
        ds_chr(d, (char)c);
    } else {
        snprintf(e, sizeof e, "%%%02X", c);
        ds_add(d, e, 3);
    }
}

/* remove_dot_segments (dropping empty ones too) + quote(safe='/~'). */
static void ref_path(dstr *d, const char *path)
{
    size_t n = 0, i, len = strlen(path), max = 1;
    const char *p = path, **seg;
    size_t *segn;

    if (len == 0) {
        ds_chr(d, '/');
        return;
    }
    for (i = 0; i < len; i++)
        max += path[i] == '/';
    seg = malloc(max * sizeof *seg);
    segn = malloc(max * sizeof *segn);
    if (!seg || !segn)
        abort();
    while (p <= path + len) {
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (n)
                n--;
        } else if (l && !(l == 1 && p[0] == '.')) {
            seg[n] = p;
            segn[n++] = l;
        }
        if (!e)
            break;
        p = e + 1;
    }
    if (path[0] == '/')
        ds_chr(d, '/');
    for (i = 0; i < n; i++) {
        size_t k;
        if (i)
            ds_chr(d, '/');
        for (k = 0; k < segn[i]; k++)
            pct(d, (unsigned char)seg[i][k]);
    }
    if (path[len - 1] == '/' && n)
        ds_chr(d, '/');
    free(seg);
    free(segn);
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode %XX where it is one, then encode for the canonical query. */
static char *requote(const char *s, size_t n)
{
    dstr d = {0};
    size_t i;
    for (i = 0; i < n; i++) {
        if (s[i] == '%' && n - i >= 3 && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
            pct(&d, (unsigned char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2])));
            i += 2;
        } else {
            pct(&d, (unsigned char)s[i]);
        }
    }
    return ds_take(&d);
}

typedef struct kv {
    char *k, *v;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

static void ref_query(dstr *d, const char *q)
{
    kv *pairs;
    size_t n = 0, cap = 1, i;
    const char *p;

    if (!q || !*q)
        return;
    for (p = q; *p; p++)
        cap += *p == '&';
    pairs = calloc(cap, sizeof *pairs);
    if (!pairs)
        abort();
    for (p = q;;) {
        const char *amp = strchr(p, '&');
        size_t l = amp ? (size_t)(amp - p) : strlen(p);
        if (l) {
            const char *eq = memchr(p, '=', l);
            size_t kl = eq ? (size_t)(eq - p) : l;
            pairs[n].k = requote(p, kl);
            pairs[n].v = eq ? requote(eq + 1, l - kl - 1) : requote("", 0);
            n++;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    qsort(pairs, n, sizeof *pairs, kv_cmp);
    for (i = 0; i < n; i++) {
        if (i)
            ds_chr(d, '&');
        ds_str(d, pairs[i].k);
        ds_chr(d, '=');
        ds_str(d, pairs[i].v);
        free(pairs[i].k);
        free(pairs[i].v);
    }
    free(pairs);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lower-cased, sorted, unique names of every header but Authorization. */
static char *ref_signed_headers(const sigv4_header *h, size_t n)
{
    char *names[MAX_HEADERS];
    size_t m = 0, i, k;
    dstr d = {0};
    for (i = 0; i < n; i++) {
        if (same_name(h[i].name, "authorization"))
            continue;
        names[m] = strdup(h[i].name);
        if (!names[m])
            abort();
        for (k = 0; names[m][k]; k++)
            names[m][k] = lower(names[m][k]);
        m++;
    }
    qsort(names, m, sizeof names[0], str_cmp);
    for (i = 0; i < m; i++) {
        if (!i || strcmp(names[i], names[i - 1]) != 0) {
            if (d.len)
                ds_chr(&d, ';');
            ds_str(&d, names[i]);
        }
    }
    for (i = 0; i < m; i++)
        free(names[i]);
    return ds_take(&d);
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    static const unsigned char nothing = 0;
    size_t i;
    if (EVP_Digest(n ? p : &nothing, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        abort();
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static const char *header_value(const sigv4_header *h, size_t n, const char *name, size_t *count)
{
    const char *first = NULL;
    size_t i, c = 0;
    for (i = 0; i < n; i++) {
        if (same_name(h[i].name, name)) {
            if (!first)
                first = h[i].value;
            c++;
        }
    }
    if (count)
        *count = c;
    return first;
}

static char *ref_canonical(const sigv4_request *r, const char *sh)
{
    dstr d = {0};
    const char *p = sh, *content_sha;
    char hash[65];

    ds_str(&d, r->method);
    ds_chr(&d, '\n');
    ref_path(&d, r->path);
    ds_chr(&d, '\n');
    ref_query(&d, r->query);
    ds_chr(&d, '\n');
    while (*p) {
        const char *semi = strchr(p, ';');
        size_t l = semi ? (size_t)(semi - p) : strlen(p), i;
        char name[300];
        bool first = true;
        if (l >= sizeof name)
            abort();
        memcpy(name, p, l);
        name[l] = '\0';
        ds_str(&d, name);
        ds_chr(&d, ':');
        for (i = 0; i < r->nheaders; i++) {
            const unsigned char *v = (const unsigned char *)r->headers[i].value;
            bool any = false, gap = false;
            if (!same_name(r->headers[i].name, name))
                continue;
            if (!first)
                ds_chr(&d, ',');
            first = false;
            for (; *v; v++) { /* ' '.join(value.split()) */
                if (py_space(*v)) {
                    gap = any;
                } else {
                    if (gap)
                        ds_chr(&d, ' ');
                    gap = false;
                    any = true;
                    ds_chr(&d, (char)*v);
                }
            }
        }
        ds_chr(&d, '\n');
        if (!semi)
            break;
        p = semi + 1;
    }
    if (!*sh)
        ds_chr(&d, '\n');
    ds_chr(&d, '\n');
    ds_str(&d, sh);
    ds_chr(&d, '\n');
    content_sha = header_value(r->headers, r->nheaders, "x-amz-content-sha256", NULL);
    if (content_sha) {
        ds_str(&d, content_sha);
    } else {
        sha256_hex(r->body, r->body_len, hash);
        ds_str(&d, hash);
    }
    return ds_take(&d);
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int olen = 0;
    if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &olen) || olen != 32)
        abort();
}

static void ref_signature(const char *secret, const char *amz, const char *region, const char *service,
                          const char *creq, char out[65])
{
    unsigned char k[32], k2[32];
    char date8[9], hash[65], key0[4 + 257], sts[512];
    size_t i;
    memcpy(date8, amz, 8);
    date8[8] = '\0';
    snprintf(key0, sizeof key0, "AWS4%s", secret);
    hmac(key0, strlen(key0), date8, k);
    hmac(k, 32, region, k2);
    hmac(k2, 32, service, k);
    hmac(k, 32, "aws4_request", k2);
    sha256_hex(creq, strlen(creq), hash);
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz, date8, region, service, hash);
    hmac(k2, 32, sts, k);
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", k[i]);
}

/* ---------------------------------------------------------------------------
 * What sigv4.h and sigv4.c's caps promise to sign.
 */
static bool tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool scope_ok(const char *s)
{
    size_t n = strlen(s), i;
    if (n == 0 || n > 64)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-' &&
            c != '_')
            return false;
    }
    return true;
}

static bool signable(const sigv4_request *r, const sigv4_credentials *c, const char *region,
                     const char *service, const char *amz)
{
    size_t i, n, k;
    const char *v;
    n = strlen(c->access_key_id);
    if (n == 0 || n > 128)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)c->access_key_id[i];
        if (!(ch >= 'A' && ch <= 'Z') && !(ch >= 'a' && ch <= 'z') && !(ch >= '0' && ch <= '9'))
            return false;
    }
    if (strlen(c->secret_access_key) > 256 || !scope_ok(region) || !scope_ok(service))
        return false;
    n = strlen(r->method);
    if (n == 0 || n > 16 || strlen(r->path) > 8192 || (r->query && strlen(r->query) > 8192))
        return false;
    for (i = 0; i < r->nheaders; i++) {
        n = strlen(r->headers[i].name);
        if (n == 0 || n > 256 || strlen(r->headers[i].value) > 8192)
            return false;
        for (k = 0; k < n; k++) {
            if (!tchar((unsigned char)r->headers[i].name[k]))
                return false;
        }
    }
    if (!header_value(r->headers, r->nheaders, "host", NULL))
        return false;
    v = header_value(r->headers, r->nheaders, "x-amz-date", &n);
    if (!v || n != 1 || strcmp(v, amz) != 0)
        return false;
    if (c->session_token) {
        v = header_value(r->headers, r->nheaders, "x-amz-security-token", &n);
        if (!v || n != 1 || strcmp(v, c->session_token) != 0)
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------
 * The canonical request's shape, checked directly on sigv4.c's output.
 */
static bool upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* memcmp order, a shorter prefix first: strcmp on slices. */
static int slice_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static bool encoded_ok(const char *s, size_t n, bool slash_ok)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n || !upper_hex(s[i + 1]) || !upper_hex(s[i + 2]))
                return false;
            i += 2;
        } else if (!unreserved(c) && !(slash_ok && c == '/')) {
            return false;
        }
    }
    return true;
}

static void check_shape(const char *creq, const sigv4_request *r, const char *sh)
{
    const char *p = creq, *nl, *q, *s;
    size_t ml = strlen(r->method), n;
    const char *prev_k = NULL, *prev_v = NULL;
    size_t prev_kl = 0, prev_vl = 0;

    if (strncmp(p, r->method, ml) != 0 || p[ml] != '\n')
        finding("canonical request does not start with the method line");
    p += ml + 1;
    /* path: encoded, no empty, "." or ".." segment */
    nl = strchr(p, '\n');
    if (!nl || !encoded_ok(p, (size_t)(nl - p), true))
        finding("canonical path is not percent-encoded: %.*s", nl ? (int)(nl - p) : 0, p);
    for (s = p; s < nl;) {
        const char *e = memchr(s, '/', (size_t)(nl - s));
        size_t l = e ? (size_t)(e - s) : (size_t)(nl - s);
        bool lead = s == p, trail = !e;
        if ((l == 0 && !lead && !trail) || (l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
            finding("canonical path keeps an empty or dot segment: %.*s", (int)(nl - p), p);
        if (!e)
            break;
        s = e + 1;
    }
    if ((r->path[0] == '/') != (p[0] == '/'))
        finding("canonical path lost or gained its leading slash");
    /* query: k=v pairs, encoded, sorted by key then value */
    p = nl + 1;
    nl = strchr(p, '\n');
    if (!nl)
        finding("canonical request has no query line");
    for (q = p; q < nl;) {
        const char *amp = memchr(q, '&', (size_t)(nl - q));
        const char *end = amp ? amp : nl;
        const char *eq = memchr(q, '=', (size_t)(end - q));
        size_t kl, vl;
        if (!eq)
            finding("canonical query pair without '=': %.*s", (int)(end - q), q);
        kl = (size_t)(eq - q);
        vl = (size_t)(end - eq - 1);
        if (!encoded_ok(q, kl, false) || !encoded_ok(eq + 1, vl, false))
            finding("canonical query pair not encoded: %.*s", (int)(end - q), q);
        if (prev_k) {
            int c = slice_cmp(prev_k, prev_kl, q, kl);
            if (c == 0)
                c = slice_cmp(prev_v, prev_vl, eq + 1, vl);
            if (c > 0)
                finding("canonical query is not sorted: %.*s", (int)(nl - p), p);
        }
        prev_k = q;
        prev_kl = kl;
        prev_v = eq + 1;
        prev_vl = vl;
        if (!amp)
            break;
        q = amp + 1;
    }
    /* one line per signed header, in SignedHeaders order, collapsed values */
    p = nl + 1;
    s = sh;
    while (*s) {
        const char *semi = strchr(s, ';');
        size_t l = semi ? (size_t)(semi - s) : strlen(s), i;
        const char *colon;
        nl = strchr(p, '\n');
        if (!nl || strncmp(p, s, l) != 0 || p[l] != ':')
            finding("canonical header line does not name '%.*s'", (int)l, s);
        for (i = 0; i < l; i++) {
            if (p[i] >= 'A' && p[i] <= 'Z')
                finding("canonical header name not lower-case: %.*s", (int)l, p);
        }
        colon = p + l;
        for (q = colon + 1; q < nl; q++) {
            bool bad_space = py_space((unsigned char)*q) && *q != ' ';
            bool bad_blank = *q == ' ' && (q == colon + 1 || q + 1 == nl || q[1] == ' ');
            if (bad_space || bad_blank)
                finding("canonical header value not collapsed: %.*s", (int)(nl - p), p);
        }
        p = nl + 1;
        if (!semi)
            break;
        s = semi + 1;
    }
    if (!*sh)
        p++; /* the empty header block's line */
    if (*p != '\n')
        finding("canonical request: no blank line after the headers");
    p++;
    n = strlen(sh);
    if (strncmp(p, sh, n) != 0 || p[n] != '\n')
        finding("canonical request's signed headers are not the Authorization's: %s", sh);
}

/* ---------------------------------------------------------------------------
 * The harness.
 */
typedef struct ctx {
    const char *akid;
    const char *secret;
} ctx;

static const char *lookup(void *c, const char *akid)
{
    const ctx *x = c;
    return strcmp(akid, x->akid) == 0 ? x->secret : NULL;
}

static unsigned char flip(unsigned char old, unsigned char x)
{
    unsigned char n = (unsigned char)(old ^ (x ? x : 0x20));
    if (n == 0)
        n = (unsigned char)(old ^ 0x01);
    if (n == 0)
        n = (unsigned char)(old ^ 0x02);
    return n;
}

/* One changed byte at off % len of s; "x" for an empty s. Caller frees. */
static char *mutated(const char *s, unsigned off, unsigned char x)
{
    size_t n = strlen(s);
    char *m;
    if (n == 0)
        return strdup("x");
    m = strdup(s);
    if (!m)
        abort();
    m[off % n] = (char)flip((unsigned char)m[off % n], x);
    return m;
}

static bool content_sha_ok(const sigv4_request *r)
{
    size_t count;
    char hash[65];
    const char *v = header_value(r->headers, r->nheaders, "x-amz-content-sha256", &count);
    if (!v)
        return true;
    sha256_hex(r->body, r->body_len, hash);
    return count == 1 && strcmp(v, hash) == 0;
}

typedef struct world {
    const char *region, *service, *amz, *sh, *orig_creq;
    time_t t;
    ctx keys;
} world;

/* sigv4_verify() on a variant of the signed request: it must pass exactly when
 * the reference says the variant signs alike. */
static void expect_verify(const world *w, const sigv4_request *v, const char *secret, const char *what,
                          bool must_fail)
{
    char detail[512], akid[200];
    ctx keys = {w->keys.akid, secret};
    char *creq = ref_canonical(v, w->sh);
    bool alike = strcmp(creq, w->orig_creq) == 0 && content_sha_ok(v) && strcmp(secret, w->keys.secret) == 0;
    sigv4_status st = sigv4_verify(v, w->t, w->service, w->region, lookup, &keys, detail, sizeof detail, akid,
                                   sizeof akid);
    if (must_fail && alike)
        finding("reference: %s should change the canonical request", what);
    if ((st == SIGV4_OK) != alike)
        finding("%s: verify says %s (%s), the reference says %s", what, sigv4_status_name(st), detail,
                alike ? "it signs alike" : "it does not");
    free(creq);
}

static size_t take_line(char **p, char *end, char **line)
{
    char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n;
    *line = *p;
    if (!nl) {
        n = (size_t)(end - *p);
        *p = end;
        return n;
    }
    *nl = '\0';
    n = (size_t)(nl - *line);
    *p = nl + 1;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *p, *end, *line;
    char *field[9];
    unsigned char sel[SEL_N] = {0};
    sigv4_header fh[MAX_FUZZ_HEADERS], hs[MAX_HEADERS], rev[MAX_HEADERS], vh[MAX_HEADERS];
    size_t nfh = 0, nh = 0, nvh, i, k, alen;
    const unsigned char *body = NULL;
    size_t body_len = 0;
    char content_sha[65];
    char auth[AUTH_CAP], auth2[AUTH_CAP], *exact, *prefix = NULL, *sh = NULL, *creq = NULL, *ref = NULL;
    char sig[65], detail[512], akid_out[200];
    const char *method, *region, *service, *amz;
    sigv4_credentials cred;
    sigv4_request req;
    sigv4_status st;
    time_t t, now;
    long skew;
    bool valid, harness_last;
    world w;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    p = buf;
    end = buf + size;
    for (i = 0; i < 9; i++) {
        if (p < end) {
            take_line(&p, end, &field[i]);
        } else {
            field[i] = end; /* "" */
        }
    }
    for (i = 0; i < SEL_N && field[0][i]; i++)
        sel[i] = (unsigned char)field[0][i];
    while (p < end) {
        size_t n = take_line(&p, end, &line);
        char *colon;
        if (n == 0) {
            body = (const unsigned char *)p;
            body_len = (size_t)(end - p);
            break;
        }
        if (nfh == MAX_FUZZ_HEADERS)
            continue;
        colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            fh[nfh] = (sigv4_header){line, colon + 1};
        } else {
            fh[nfh] = (sigv4_header){line, ""};
        }
        nfh++;
    }

    method = field[1][0] ? field[1] : METHODS[sel[SEL_OPTS2] & 7];
    region = field[4][0] ? field[4] : "us-east-1";
    service = field[5][0] ? field[5] : "lambda";
    cred.access_key_id = field[6][0] ? field[6] : "AKIDEXAMPLE";
    cred.secret_access_key = field[7][0] ? field[7] : DEFAULT_SECRET;
    cred.session_token = field[8][0] ? field[8] : NULL;
    t = TIMES[sel[SEL_OPTS] & 3].t;
    amz = TIMES[sel[SEL_OPTS] & 3].amz;
    skew = SKEWS[(sel[SEL_OPTS] >> 2) & 7];
    {
        char formatted[32];
        sigv4_amz_date(t, formatted, sizeof formatted);
        if (strcmp(formatted, amz) != 0)
            finding("sigv4_amz_date(%lld) = '%s', not %s", (long long)t, formatted, amz);
    }

    /* The request as lambda_client builds it: our headers first or last. */
    harness_last = (sel[SEL_OPTS2] >> 3) & 1;
    if (harness_last) {
        for (i = 0; i < nfh; i++)
            hs[nh++] = fh[i];
    }
    if (!((sel[SEL_OPTS] >> 7) & 1))
        hs[nh++] = (sigv4_header){HOST_NAMES[(sel[SEL_OPTS2] >> 4) & 3], HOST_VALUES[(sel[SEL_OPTS2] >> 6) & 1]};
    hs[nh++] = (sigv4_header){"X-Amz-Date", amz};
    if (cred.session_token)
        hs[nh++] = (sigv4_header){"X-Amz-Security-Token", cred.session_token};
    if ((sel[SEL_OPTS] >> 6) & 1) {
        sha256_hex(body, body_len, content_sha);
        hs[nh++] = (sigv4_header){"X-Amz-Content-SHA256", content_sha};
    }
    if (!harness_last) {
        for (i = 0; i < nfh; i++)
            hs[nh++] = fh[i];
    }
    req = (sigv4_request){method, field[2][0] ? field[2] : "/", field[3][0] ? field[3] : NULL, hs, nh, body, body_len};

    valid = signable(&req, &cred, region, service, amz);
    memset(auth, 'x', sizeof auth);
    st = sigv4_sign(&req, &cred, region, service, amz, auth, sizeof auth);
    if (st != SIGV4_OK) {
        if (valid)
            finding("sign refused a request within its promises: %s", sigv4_status_name(st));
        if (st != SIGV4_ERR_MALFORMED && st != SIGV4_ERR_INTERNAL)
            finding("sign returned %s", sigv4_status_name(st));
        if (auth[0] != '\0')
            finding("sign failed but left something in out");
        goto done;
    }
    if (!valid)
        finding("sign accepted a request outside its promises");

    /* Deterministic, independent of header order, exact-size buffer. */
    st = sigv4_sign(&req, &cred, region, service, amz, auth2, sizeof auth2);
    if (st != SIGV4_OK || strcmp(auth, auth2) != 0)
        finding("signing twice differs:\n  %s\n  %s", auth, auth2);
    alen = strlen(auth);
    exact = malloc(alen + 1);
    if (!exact)
        abort();
    st = sigv4_sign(&req, &cred, region, service, amz, exact, alen + 1);
    if (st != SIGV4_OK || strcmp(exact, auth) != 0)
        finding("signing into an exact-size buffer differs");
    free(exact);
    exact = malloc(alen);
    if (!exact)
        abort();
    st = sigv4_sign(&req, &cred, region, service, amz, exact, alen);
    if (st != SIGV4_ERR_MALFORMED || exact[0] != '\0')
        finding("signing into a buffer one byte short: %s", sigv4_status_name(st));
    free(exact);
    {
        bool dup = false;
        for (i = 0; i < nh; i++) {
            for (k = i + 1; k < nh; k++)
                dup = dup || same_name(hs[i].name, hs[k].name);
            rev[nh - 1 - i] = hs[i];
        }
        if (!dup) {
            sigv4_request r2 = req;
            r2.headers = rev;
            st = sigv4_sign(&r2, &cred, region, service, amz, auth2, sizeof auth2);
            if (st != SIGV4_OK || strcmp(auth, auth2) != 0)
                finding("header order changed the signature:\n  %s\n  %s", auth, auth2);
        }
    }

    /* The Authorization header's shape and SignedHeaders. */
    {
        dstr d = {0};
        char date8[9];
        const char *rest;
        memcpy(date8, amz, 8);
        date8[8] = '\0';
        ds_str(&d, "AWS4-HMAC-SHA256 Credential=");
        ds_str(&d, cred.access_key_id);
        ds_chr(&d, '/');
        ds_str(&d, date8);
        ds_chr(&d, '/');
        ds_str(&d, region);
        ds_chr(&d, '/');
        ds_str(&d, service);
        ds_str(&d, "/aws4_request, SignedHeaders=");
        sh = ref_signed_headers(hs, nh);
        ds_str(&d, sh);
        ds_str(&d, ", Signature=");
        prefix = ds_take(&d);
        if (strncmp(auth, prefix, strlen(prefix)) != 0)
            finding("Authorization is\n  %s\nnot\n  %s<signature>", auth, prefix);
        rest = auth + strlen(prefix);
        if (strlen(rest) != 64 || strspn(rest, "0123456789abcdef") != 64)
            finding("Authorization's signature is not 64 lower-case hex digits: %s", rest);
    }

    /* Canonical request: shape, then byte for byte against the reference. */
    creq = sigv4_canonical_request(&req, sh);
    if (!creq)
        finding("sigv4_canonical_request returned NULL");
    check_shape(creq, &req, sh);
    ref = ref_canonical(&req, sh);
    if (strcmp(creq, ref) != 0)
        finding("canonical request differs from the reference:\n--- sigv4.c\n%s\n--- reference\n%s", creq, ref);
    ref_signature(cred.secret_access_key, amz, region, service, ref, sig);
    if (strcmp(auth + strlen(prefix), sig) != 0)
        finding("signature %s, the reference computes %s", auth + strlen(prefix), sig);

    /* Round trip: the verifier gets the request with the new Authorization. */
    nvh = 0;
    for (i = 0; i < nh; i++) {
        if (!same_name(hs[i].name, "authorization"))
            vh[nvh++] = hs[i];
    }
    vh[nvh++] = (sigv4_header){"Authorization", auth};
    {
        sigv4_request v = req;
        ctx keys = {cred.access_key_id, cred.secret_access_key};
        sigv4_status want = SIGV4_OK;
        v.headers = vh;
        v.nheaders = nvh;
        now = t + skew;
        if (skew > 300 || skew < -300)
            want = SIGV4_ERR_EXPIRED;
        else if (!content_sha_ok(&v))
            want = SIGV4_ERR_MISMATCH;
        st = sigv4_verify(&v, now, service, ((sel[SEL_OPTS] >> 5) & 1) ? NULL : region, lookup, &keys, detail,
                          sizeof detail, akid_out, sizeof akid_out);
        if (st != want)
            finding("verify of what sign produced: %s (%s), expected %s\n  %s", sigv4_status_name(st), detail,
                    sigv4_status_name(want), auth);
        if (strcmp(akid_out, cred.access_key_id) != 0)
            finding("verify reports access key '%s', not '%s'", akid_out, cred.access_key_id);
        st = sigv4_verify(&v, t, strcmp(service, "lambda") ? "lambda" : "s3", region, lookup, &keys, detail,
                          sizeof detail, NULL, 0);
        if (st == SIGV4_OK)
            finding("verify accepted a signature for another service");
        st = sigv4_verify(&v, t, service, strcmp(region, "us-east-1") ? "us-east-1" : "eu-west-1", lookup, &keys,
                          detail, sizeof detail, NULL, 0);
        if (st != SIGV4_ERR_MISMATCH)
            finding("verify for another region: %s, expected mismatch", sigv4_status_name(st));

        /* One byte changed at a time. */
        w = (world){region, service, amz, sh, ref, t, keys};
        if (content_sha_ok(&v)) {
            unsigned char *b2 = malloc(body_len ? body_len : 1);
            sigv4_request m = v;
            char *s2;
            if (!b2)
                abort();
            expect_verify(&w, &v, cred.secret_access_key, "the signed request itself", false);
            if (body_len) {
                memcpy(b2, body, body_len);
                b2[sel[SEL_BODY] % body_len] = (unsigned char)(b2[sel[SEL_BODY] % body_len] ^
                                                               (sel[SEL_XOR] ? sel[SEL_XOR] : 0x20));
            } else {
                b2[0] = 'x';
            }
            m.body = b2;
            m.body_len = body_len ? body_len : 1;
            expect_verify(&w, &m, cred.secret_access_key, "a changed body byte", true);
            free(b2);

            m = v;
            s2 = mutated(v.method, sel[SEL_LINE], sel[SEL_XOR]);
            m.method = s2;
            if (strlen(s2) <= 16)
                expect_verify(&w, &m, cred.secret_access_key, "a changed method byte", true);
            free(s2);

            m = v;
            s2 = mutated(v.path, sel[SEL_LINE], sel[SEL_XOR]);
            m.path = s2;
            expect_verify(&w, &m, cred.secret_access_key, "a changed path byte", false);
            free(s2);

            if (v.query) {
                m = v;
                s2 = mutated(v.query, sel[SEL_LINE], sel[SEL_XOR]);
                m.query = s2;
                expect_verify(&w, &m, cred.secret_access_key, "a changed query byte", false);
                free(s2);
            }

            if (nvh > 1) {
                sigv4_header mh[MAX_HEADERS];
                size_t which = sel[SEL_HDR] % (nvh - 1); /* every header but Authorization (last) */
                char what[96];
                memcpy(mh, vh, nvh * sizeof mh[0]);
                s2 = mutated(mh[which].value, sel[SEL_HDROFF], sel[SEL_XOR]);
                mh[which].value = s2;
                m = v;
                m.headers = mh;
                snprintf(what, sizeof what, "a changed byte in the value of %.60s", mh[which].name);
                if (strlen(s2) <= 8192)
                    expect_verify(&w, &m, cred.secret_access_key, what, false);
                free(s2);
            }

            s2 = mutated(cred.secret_access_key, sel[SEL_LINE], sel[SEL_XOR]);
            if (strlen(s2) <= 256)
                expect_verify(&w, &v, s2, "a changed secret byte", true);
            free(s2);
        }
    }

done:
    free(prefix);
    free(sh);
    free(creq);
    free(ref);
    free(buf);
    return 0;
}
