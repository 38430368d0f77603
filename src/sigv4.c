/*
 * sigv4.c — AWS Signature Version 4 on OpenSSL's libcrypto: the canonical
 * request as botocore builds it for every service but S3, the signer the
 * coldsec client uses, and the verifier coldsec-lab runs on every request.
 *
 * The verifier reads untrusted requests. Every length it accepts is capped
 * (SIGV4_MAX_* in sigv4.h and below) before anything is copied, the
 * Authorization header is parsed in place, and signatures are compared in
 * constant time. No state outlives a call; the only heap memory is the
 * canonical request and its scratch, sized from the (capped) input.
 */
#include "sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Caps on the rest of the untrusted input; far above what Lambda sends. */
#define SIGV4_MAX_METHOD_LEN 16
#define SIGV4_MAX_PATH_LEN 8192
#define SIGV4_MAX_QUERY_LEN 8192
#define SIGV4_MAX_HEADER_NAME_LEN 256
#define SIGV4_MAX_HEADER_VALUE_LEN 8192
#define SIGV4_MAX_AKID_LEN 128
#define SIGV4_MAX_SCOPE_PART_LEN 64 /* region and service */
#define SIGV4_MAX_SECRET_LEN 256

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"
#define SIGV4_AMZ_DATE_LEN 16 /* YYYYMMDDTHHMMSSZ */
#define SIGV4_SCOPE_DATE_LEN 8
#define SIGV4_HEX_LEN 64 /* hex of a SHA-256 */
#define SIGV4_MAX_SKEW_SECONDS 300

/* AWS's own words, so clients and humans see what Lambda would say. */
#define MSG_MISSING_TOKEN "Missing Authentication Token"
#define MSG_UNKNOWN_KEY "The security token included in the request is invalid."
#define MSG_MISMATCH                                                          \
    "The request signature we calculated does not match the signature you " \
    "provided. Check your AWS Secret Access Key and signing method. Consult " \
    "the service documentation for details."
#define MSG_NO_DATE                                                           \
    "Authorization header requires existence of either a 'X-Amz-Date' or a " \
    "'Date' header."
#define MSG_HOST_UNSIGNED                                                     \
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
#define MSG_CONTENT_SHA                                                       \
    "The provided 'x-amz-content-sha256' header does not match what was "    \
    "computed."

static void set_detail(char *detail, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---------------------------------------------------------------------------
 * Growing string; one failure flag instead of a check after every append.
 */
typedef struct strbuf {
    char *p;
    size_t len;
    size_t cap;
    bool failed;
} strbuf;

static void sb_reserve(strbuf *b, size_t extra)
{
    if (b->failed)
        return;
    if (extra > SIZE_MAX - b->len - 1) {
        b->failed = true;
        return;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void sb_append(strbuf *b, const char *s, size_t n)
{
    sb_reserve(b, n);
    if (b->failed)
        return;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(strbuf *b, const char *s)
{
    sb_append(b, s, strlen(s));
}

static void sb_putc(strbuf *b, char c)
{
    sb_append(b, &c, 1);
}

/* ---------------------------------------------------------------------------
 * Character classes, ASCII only: the locale must not change a signature.
 */
static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_unreserved(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* RFC 9110 tchar: what a header name may hold. */
static bool is_tchar(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Python's str.split() separators among ASCII, so values collapse like botocore's. */
static bool is_split_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static int hex_value(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Case-insensitive equality of a header name with a (name, len) slice. */
static bool name_eq(const char *name, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (name[i] == '\0' || ascii_lower((unsigned char)name[i]) != ascii_lower((unsigned char)s[i]))
            return false;
    }
    return name[n] == '\0';
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

static void sb_encode_byte(strbuf *b, unsigned char c)
{
    static const char digits[] = "0123456789ABCDEF";
    if (is_unreserved(c)) {
        sb_putc(b, (char)c);
    } else {
        char esc[3] = {'%', digits[c >> 4], digits[c & 0x0f]};
        sb_append(b, esc, sizeof esc);
    }
}

/* ---------------------------------------------------------------------------
 * Crypto: one-shot EVP digest and HMAC; false on any libcrypto failure.
 */
static bool sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const unsigned char empty = 0;
    if (!data)
        data = &empty; /* EVP wants a pointer even for zero bytes */
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return false;
    hex_encode(md, mdlen, out);
    return true;
}

static bool hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                        unsigned char out[32])
{
    unsigned int outlen = 0;
    if (keylen > INT_MAX)
        return false;
    if (!HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &outlen) || outlen != 32)
        return false;
    return true;
}

/* kSigning from the secret and the credential scope, as AWS documents it. */
static bool derive_key(const char *secret, size_t slen, const char *date8, const char *region,
                       const char *service, unsigned char out[32])
{
    bool ok = false;
    static const unsigned char prefix[4] = {'A', 'W', 'S', '4'};
    unsigned char ksecret[sizeof prefix + SIGV4_MAX_SECRET_LEN]; /* key bytes, not a string */
    unsigned char k1[32];

    memcpy(ksecret, prefix, sizeof prefix);
    memcpy(ksecret + sizeof prefix, secret, slen);
    if (!hmac_sha256(ksecret, sizeof prefix + slen, date8, strlen(date8), out) ||
        !hmac_sha256(out, 32, region, strlen(region), k1) ||
        !hmac_sha256(k1, sizeof k1, service, strlen(service), out) ||
        !hmac_sha256(out, 32, SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR), k1))
        goto cleanup;
    memcpy(out, k1, sizeof k1);
    ok = true;

cleanup:
    OPENSSL_cleanse(ksecret, sizeof ksecret);
    OPENSSL_cleanse(k1, sizeof k1);
    return ok;
}

void sigv4_key_cache_init(sigv4_key_cache *cache)
{
    memset(cache, 0, sizeof(*cache));
    pthread_mutex_init(&cache->mu, NULL);
}

void sigv4_key_cache_destroy(sigv4_key_cache *cache)
{
    if (!cache)
        return;
    pthread_mutex_destroy(&cache->mu);
    OPENSSL_cleanse(cache, sizeof(*cache));
}

static bool slot_matches(const sigv4_key_cache_slot *s, const char *secret, size_t slen,
                         const char *date8, const char *region, const char *service)
{
    return s->used && s->secret_len == slen && CRYPTO_memcmp(s->secret, secret, slen) == 0 &&
           strcmp(s->date8, date8) == 0 && strcmp(s->region, region) == 0 &&
           strcmp(s->service, service) == 0;
}

/* kSigning, from the cache when it holds this scope; stored there when not. */
static bool signing_key(const char *secret, size_t slen, const char *date8, const char *region,
                        const char *service, sigv4_key_cache *cache, unsigned char out[32])
{
    bool cacheable = cache && slen <= SIGV4_KEY_CACHE_SECRET_MAX &&
                     strlen(date8) < sizeof cache->slot[0].date8 &&
                     strlen(region) < sizeof cache->slot[0].region &&
                     strlen(service) < sizeof cache->slot[0].service;
    sigv4_key_cache_slot *s;

    if (cacheable) {
        bool hit = false;
        pthread_mutex_lock(&cache->mu);
        for (size_t i = 0; i < SIGV4_KEY_CACHE_SLOTS && !hit; i++) {
            if (slot_matches(&cache->slot[i], secret, slen, date8, region, service)) {
                memcpy(out, cache->slot[i].key, 32);
                hit = true;
            }
        }
        pthread_mutex_unlock(&cache->mu);
        if (hit)
            return true;
    }
    /* Derived outside the lock: two threads may both miss and both store. */
    if (!derive_key(secret, slen, date8, region, service, out))
        return false;
    if (cacheable) {
        pthread_mutex_lock(&cache->mu);
        s = &cache->slot[cache->next];
        cache->next = (cache->next + 1) % SIGV4_KEY_CACHE_SLOTS;
        OPENSSL_cleanse(s, sizeof(*s));
        s->used = true;
        s->secret_len = slen;
        memcpy(s->secret, secret, slen);
        snprintf(s->date8, sizeof s->date8, "%s", date8);
        snprintf(s->region, sizeof s->region, "%s", region);
        snprintf(s->service, sizeof s->service, "%s", service);
        memcpy(s->key, out, 32);
        pthread_mutex_unlock(&cache->mu);
    }
    return true;
}

/* hex(HMAC(kSigning, string_to_sign)). */
static bool compute_signature(const char *secret, const char *date8, const char *region,
                              const char *service, const char *string_to_sign,
                              sigv4_key_cache *cache, char out[SIGV4_HEX_LEN + 1])
{
    bool ok = false;
    unsigned char key[32];
    unsigned char sig[32];
    size_t slen = strnlen(secret, SIGV4_MAX_SECRET_LEN + 1);

    if (slen > SIGV4_MAX_SECRET_LEN)
        goto cleanup;
    if (!signing_key(secret, slen, date8, region, service, cache, key) ||
        !hmac_sha256(key, sizeof key, string_to_sign, strlen(string_to_sign), sig))
        goto cleanup;
    hex_encode(sig, sizeof sig, out);
    ok = true;

cleanup:
    OPENSSL_cleanse(key, sizeof key);
    return ok;
}

/* ---------------------------------------------------------------------------
 * Dates. Hand-rolled civil-day arithmetic so parsing needs no TZ or locale.
 */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned mp = m > 2 ? m - 3 : m + 9; /* March-based month */
    unsigned doy = (153 * mp + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

static bool parse_digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

bool sigv4_civil_time(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s, time_t *out)
{
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60)
        return false;
    long long t = days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + s;
    *out = (time_t)t;
    return (long long)*out == t;
}

/* Strict "YYYYMMDDTHHMMSSZ", the only form AWS signs with. */
static bool parse_amz_date(const char *s, size_t n, time_t *out)
{
    unsigned y, mo, d, h, mi, sec;
    if (n != SIGV4_AMZ_DATE_LEN || s[8] != 'T' || s[15] != 'Z')
        return false;
    if (!parse_digits(s, 4, &y) || !parse_digits(s + 4, 2, &mo) || !parse_digits(s + 6, 2, &d) ||
        !parse_digits(s + 9, 2, &h) || !parse_digits(s + 11, 2, &mi) ||
        !parse_digits(s + 13, 2, &sec))
        return false;
    return sec <= 59 && sigv4_civil_time(y, mo, d, h, mi, sec, out);
}

/*
 * HTTP Date header, "Sun, 30 Aug 2015 12:36:00 GMT". botocore writes the
 * zone as "-0000" (email.utils.formatdate) when it signs with Date, so the
 * numeric UTC forms are accepted too.
 */
static bool parse_http_date(const char *s, size_t n, time_t *out)
{
    static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static const char *const days = "Mon,Tue,Wed,Thu,Fri,Sat,Sun,";
    unsigned y, mo = 0, d, h, mi, sec, i;
    const char *zone;
    size_t zlen;

    if (n < 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
        s[19] != ':' || s[22] != ':' || s[25] != ' ')
        return false;
    {
        bool known = false;
        for (i = 0; i < 7; i++)
            known = known || memcmp(s, days + (size_t)4 * i, 3) == 0;
        if (!known)
            return false;
    }
    for (i = 0; i < 12; i++) {
        if (memcmp(s + 8, months[i], 3) == 0)
            mo = i + 1;
    }
    zone = s + 26;
    zlen = n - 26;
    if (mo == 0 || !parse_digits(s + 5, 2, &d) || !parse_digits(s + 12, 4, &y) ||
        !parse_digits(s + 17, 2, &h) || !parse_digits(s + 20, 2, &mi) ||
        !parse_digits(s + 23, 2, &sec))
        return false;
    if (!((zlen == 3 && memcmp(zone, "GMT", 3) == 0) ||
          (zlen == 5 && (memcmp(zone, "+0000", 5) == 0 || memcmp(zone, "-0000", 5) == 0))))
        return false;
    return sec <= 59 && sigv4_civil_time(y, mo, d, h, mi, sec, out);
}

void sigv4_amz_date(time_t t, char *out, size_t outlen)
{
    struct tm tm;
    if (!out || outlen == 0)
        return;
    out[0] = '\0';
    if (!gmtime_r(&t, &tm))
        return;
    /* strftime's %Y does not pad years below 1000: format the fields. */
    if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999 || outlen <= SIGV4_AMZ_DATE_LEN ||
        snprintf(out, outlen, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec) != SIGV4_AMZ_DATE_LEN)
        out[0] = '\0';
}

/* ---------------------------------------------------------------------------
 * Canonical request.
 */

/*
 * botocore's normalize_url_path + quote(safe='/~'): drop empty and "."
 * segments, let ".." pop, keep the leading and (when anything is left) the
 * trailing slash, then percent-encode each segment. Applied to the wire path,
 * which is already encoded, so `%3A` becomes `%253A`.
 */
static void canonical_path(strbuf *b, const char *path)
{
    size_t n = path ? strlen(path) : 0;
    size_t *starts = NULL, *lens = NULL;
    size_t nseg = 0, maxseg = 1, i;

    if (n == 0) {
        sb_putc(b, '/');
        return;
    }
    for (i = 0; i < n; i++)
        maxseg += path[i] == '/';
    starts = malloc(maxseg * sizeof *starts);
    lens = malloc(maxseg * sizeof *lens);
    if (!starts || !lens) {
        b->failed = true;
        goto cleanup;
    }
    for (i = 0; i <= n;) {
        size_t j = i;
        while (j < n && path[j] != '/')
            j++;
        size_t len = j - i;
        if (len == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (nseg > 0)
                nseg--;
        } else if (len > 0 && !(len == 1 && path[i] == '.')) {
            starts[nseg] = i;
            lens[nseg] = len;
            nseg++;
        }
        i = j + 1;
    }
    if (path[0] == '/')
        sb_putc(b, '/');
    for (i = 0; i < nseg; i++) {
        size_t k;
        if (i > 0)
            sb_putc(b, '/');
        for (k = 0; k < lens[i]; k++)
            sb_encode_byte(b, (unsigned char)path[starts[i] + k]);
    }
    if (path[n - 1] == '/' && nseg > 0)
        sb_putc(b, '/');

cleanup:
    free(starts);
    free(lens);
}

typedef struct qparam {
    const char *key;
    const char *value;
} qparam;

static int qparam_cmp(const void *a, const void *b)
{
    const qparam *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Percent-decodes s[0..n) and encodes it again into dst; returns bytes written. */
static size_t reencode(char *dst, const char *s, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        int hi, lo;
        if (c == '%' && i + 2 < n && (hi = hex_value((unsigned char)s[i + 1])) >= 0 &&
            (lo = hex_value((unsigned char)s[i + 2])) >= 0) {
            c = (unsigned char)(hi * 16 + lo);
            i += 3;
        } else {
            i++;
        }
        if (is_unreserved(c)) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '%';
            dst[o++] = digits[c >> 4];
            dst[o++] = digits[c & 0x0f];
        }
    }
    dst[o] = '\0';
    return o;
}

/*
 * Each key and value decoded and encoded again, so `$LATEST` and
 * `%24LATEST` sign alike whichever way a client wrote the query; pairs
 * sorted by key then value, `k=` for an empty value. Empty pairs
 * ("a=1&&b=2") carry nothing and are skipped.
 */
static void canonical_query(strbuf *b, const char *query)
{
    size_t n = query ? strlen(query) : 0;
    size_t maxpairs = 1, npairs = 0, i, used = 0;
    qparam *pairs = NULL;
    char *arena = NULL;

    if (n == 0)
        return;
    for (i = 0; i < n; i++)
        maxpairs += query[i] == '&';
    /* Each byte encodes to at most 3; two NULs per pair. */
    if (n > (SIZE_MAX - 2 * maxpairs - 1) / 3) {
        b->failed = true;
        return;
    }
    pairs = calloc(maxpairs, sizeof *pairs);
    arena = malloc(3 * n + 2 * maxpairs + 1);
    if (!pairs || !arena) {
        b->failed = true;
        goto cleanup;
    }
    for (i = 0; i <= n;) {
        size_t j = i, eq;
        while (j < n && query[j] != '&')
            j++;
        if (j > i) {
            eq = i;
            while (eq < j && query[eq] != '=')
                eq++;
            pairs[npairs].key = arena + used;
            used += reencode(arena + used, query + i, eq - i) + 1;
            pairs[npairs].value = arena + used;
            used += reencode(arena + used, query + eq + (eq < j), j - eq - (eq < j)) + 1;
            npairs++;
        }
        i = j + 1;
    }
    qsort(pairs, npairs, sizeof *pairs, qparam_cmp);
    for (i = 0; i < npairs; i++) {
        if (i > 0)
            sb_putc(b, '&');
        sb_puts(b, pairs[i].key);
        sb_putc(b, '=');
        sb_puts(b, pairs[i].value);
    }

cleanup:
    free(pairs);
    free(arena);
}

/* botocore's ' '.join(value.split()): trim, and any run of spaces becomes one. */
static void sb_trimall(strbuf *b, const char *v)
{
    bool pending_space = false, any = false;
    for (; *v; v++) {
        if (is_split_space((unsigned char)*v)) {
            pending_space = any;
            continue;
        }
        if (pending_space)
            sb_putc(b, ' ');
        pending_space = false;
        any = true;
        sb_putc(b, *v);
    }
}

static const char *find_header(const sigv4_request *req, const char *lname, size_t *count)
{
    const char *first = NULL;
    size_t i, c = 0;
    for (i = 0; i < req->nheaders; i++) {
        const sigv4_header *h = &req->headers[i];
        if (h->name && h->value && name_eq(h->name, lname, strlen(lname))) {
            if (!first)
                first = h->value;
            c++;
        }
    }
    if (count)
        *count = c;
    return first;
}

char *sigv4_canonical_request(const sigv4_request *req, const char *signed_headers)
{
    strbuf b = {0};
    const char *sh = signed_headers ? signed_headers : "";
    const char *p, *end = NULL;
    const char *content_sha;
    char body_hash[SIGV4_HEX_LEN + 1];

    if (!req || (req->nheaders > 0 && !req->headers))
        return NULL;
    sb_puts(&b, req->method ? req->method : "");
    sb_putc(&b, '\n');
    canonical_path(&b, req->path);
    sb_putc(&b, '\n');
    canonical_query(&b, req->query);
    sb_putc(&b, '\n');

    for (p = sh; *sh; p = end + 1) {
        size_t nlen, i;
        bool first = true;
        end = strchr(p, ';');
        nlen = end ? (size_t)(end - p) : strlen(p);
        sb_append(&b, p, nlen);
        sb_putc(&b, ':');
        for (i = 0; i < req->nheaders; i++) {
            const sigv4_header *h = &req->headers[i];
            if (!h->name || !h->value || !name_eq(h->name, p, nlen))
                continue;
            if (!first)
                sb_putc(&b, ',');
            first = false;
            sb_trimall(&b, h->value);
        }
        sb_putc(&b, '\n');
        if (!end)
            break;
    }
    /* botocore joins the header lines and appends '\n': an empty list still gives one. */
    if (!*sh)
        sb_putc(&b, '\n');
    sb_putc(&b, '\n');
    sb_puts(&b, sh);
    sb_putc(&b, '\n');

    content_sha = find_header(req, "x-amz-content-sha256", NULL);
    if (content_sha) {
        sb_puts(&b, content_sha);
    } else {
        if (!sha256_hex(req->body, req->body ? req->body_len : 0, body_hash))
            b.failed = true;
        else
            sb_puts(&b, body_hash);
    }

    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---------------------------------------------------------------------------
 * Shared by sign and verify.
 */

static bool bounded_len(const char *s, size_t cap, size_t *len)
{
    size_t n = s ? strnlen(s, cap + 1) : 0;
    if (len)
        *len = n;
    return n <= cap;
}

/* The request fits every cap and each header name is an HTTP token. */
static bool request_shape_ok(const sigv4_request *req)
{
    size_t i, n;
    if (!req || !req->method || !req->path)
        return false;
    if (!bounded_len(req->method, SIGV4_MAX_METHOD_LEN, &n) || n == 0)
        return false;
    if (!bounded_len(req->path, SIGV4_MAX_PATH_LEN, NULL) ||
        !bounded_len(req->query, SIGV4_MAX_QUERY_LEN, NULL))
        return false;
    if (req->nheaders > SIGV4_MAX_HEADERS || (req->nheaders > 0 && !req->headers))
        return false;
    if (req->body_len > 0 && !req->body)
        return false;
    for (i = 0; i < req->nheaders; i++) {
        const sigv4_header *h = &req->headers[i];
        size_t k;
        if (!h->name || !h->value)
            return false;
        if (!bounded_len(h->name, SIGV4_MAX_HEADER_NAME_LEN, &n) || n == 0 ||
            !bounded_len(h->value, SIGV4_MAX_HEADER_VALUE_LEN, NULL))
            return false;
        for (k = 0; k < n; k++) {
            if (!is_tchar((unsigned char)h->name[k]))
                return false;
        }
    }
    return true;
}

/* Region, service: what AWS puts in a credential scope. */
static bool scope_part_ok(const char *s, size_t n)
{
    size_t i;
    if (n == 0 || n > SIGV4_MAX_SCOPE_PART_LEN)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
            return false;
    }
    return true;
}

static bool akid_ok(const char *s, size_t n)
{
    size_t i;
    if (n == 0 || n > SIGV4_MAX_AKID_LEN)
        return false;
    for (i = 0; i < n; i++) {
        if (!is_alpha((unsigned char)s[i]) && !is_digit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static bool string_to_sign(const char *amz_date, const char *region, const char *service,
                           const char *creq, char *out, size_t outlen)
{
    char creq_hash[SIGV4_HEX_LEN + 1];
    int n;
    if (!sha256_hex(creq, strlen(creq), creq_hash))
        return false;
    n = snprintf(out, outlen, SIGV4_ALGORITHM "\n%s\n%.8s/%s/%s/" SIGV4_TERMINATOR "\n%s",
                 amz_date, amz_date, region, service, creq_hash);
    return n > 0 && (size_t)n < outlen;
}

/* Room for the string to sign with capped region and service. */
#define SIGV4_STS_LEN (sizeof SIGV4_ALGORITHM + SIGV4_AMZ_DATE_LEN + (size_t)2 * SIGV4_MAX_SCOPE_PART_LEN + \
                       sizeof SIGV4_TERMINATOR + SIGV4_HEX_LEN + 32)

/* ---------------------------------------------------------------------------
 * Signing.
 */

typedef struct name_ref {
    char *lname; /* lower-cased copy */
} name_ref;

static int name_ref_cmp(const void *a, const void *b)
{
    return strcmp(((const name_ref *)a)->lname, ((const name_ref *)b)->lname);
}

/*
 * Lower-cased, sorted, de-duplicated names of every header but
 * Authorization (a retry may still carry the old one, and AWS never
 * accepts it as signed). Caller frees.
 */
static char *signed_header_list(const sigv4_request *req)
{
    name_ref *names = NULL;
    char *arena = NULL;
    strbuf b = {0};
    bool ok = false;
    size_t i, k, n = 0, total = 0, used = 0;

    for (i = 0; i < req->nheaders; i++)
        total += strlen(req->headers[i].name) + 1;
    names = calloc(req->nheaders ? req->nheaders : 1, sizeof *names);
    arena = malloc(total ? total : 1);
    if (!names || !arena)
        goto cleanup;
    for (i = 0; i < req->nheaders; i++) {
        const char *nm = req->headers[i].name;
        size_t len = strlen(nm);
        if (name_eq(nm, "authorization", strlen("authorization")))
            continue;
        names[n].lname = arena + used;
        for (k = 0; k < len; k++)
            arena[used + k] = (char)ascii_lower((unsigned char)nm[k]);
        arena[used + len] = '\0';
        used += len + 1;
        n++;
    }
    qsort(names, n, sizeof *names, name_ref_cmp);
    sb_reserve(&b, total);
    for (i = 0; i < n; i++) {
        if (i > 0 && strcmp(names[i].lname, names[i - 1].lname) == 0)
            continue;
        if (b.len > 0)
            sb_putc(&b, ';');
        sb_puts(&b, names[i].lname);
    }
    if (!b.p)
        sb_append(&b, "", 0);
    ok = !b.failed;

cleanup:
    free(names);
    free(arena);
    if (!ok) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

sigv4_status sigv4_sign(const sigv4_request *req, const sigv4_credentials *cred,
                        const char *region, const char *service, const char *amz_date,
                        char *out, size_t outlen)
{
    return sigv4_sign_cached(req, cred, region, service, amz_date, out, outlen, NULL);
}

sigv4_status sigv4_sign_cached(const sigv4_request *req, const sigv4_credentials *cred,
                               const char *region, const char *service, const char *amz_date,
                               char *out, size_t outlen, sigv4_key_cache *cache)
{
    sigv4_status st = SIGV4_ERR_MALFORMED;
    char *signed_headers = NULL;
    char *creq = NULL;
    char sts[SIGV4_STS_LEN];
    char signature[SIGV4_HEX_LEN + 1];
    time_t t;
    size_t n;
    const char *v;
    int w;

    if (out && outlen > 0)
        out[0] = '\0';
    if (!req || !cred || !region || !service || !amz_date || !out || outlen == 0)
        goto cleanup;
    if (!cred->access_key_id || !akid_ok(cred->access_key_id, strlen(cred->access_key_id)) ||
        !cred->secret_access_key || !bounded_len(cred->secret_access_key, SIGV4_MAX_SECRET_LEN, NULL))
        goto cleanup;
    if (!scope_part_ok(region, strlen(region)) || !scope_part_ok(service, strlen(service)) ||
        !parse_amz_date(amz_date, strlen(amz_date), &t))
        goto cleanup;
    if (!request_shape_ok(req))
        goto cleanup;

    /* The caller's promises (sigv4.h): host, x-amz-date, and the token when there is one. */
    if (!find_header(req, "host", NULL))
        goto cleanup;
    v = find_header(req, "x-amz-date", &n);
    if (!v || n != 1 || strcmp(v, amz_date) != 0)
        goto cleanup;
    if (cred->session_token) {
        v = find_header(req, "x-amz-security-token", &n);
        if (!v || n != 1 || strcmp(v, cred->session_token) != 0)
            goto cleanup;
    }

    st = SIGV4_ERR_INTERNAL;
    signed_headers = signed_header_list(req);
    if (!signed_headers)
        goto cleanup;
    creq = sigv4_canonical_request(req, signed_headers);
    if (!creq)
        goto cleanup;
    if (!string_to_sign(amz_date, region, service, creq, sts, sizeof sts))
        goto cleanup;
    {
        char date8[SIGV4_SCOPE_DATE_LEN + 1];
        memcpy(date8, amz_date, SIGV4_SCOPE_DATE_LEN);
        date8[SIGV4_SCOPE_DATE_LEN] = '\0';
        if (!compute_signature(cred->secret_access_key, date8, region, service, sts, cache, signature))
            goto cleanup;
    }

    w = snprintf(out, outlen,
                 SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/" SIGV4_TERMINATOR
                 ", SignedHeaders=%s, Signature=%s",
                 cred->access_key_id, amz_date, region, service, signed_headers, signature);
    /* Past SIGV4_MAX_AUTH_LEN no verifier (ours included) would accept it. */
    if (w < 0 || (size_t)w >= outlen || (size_t)w > SIGV4_MAX_AUTH_LEN) {
        out[0] = '\0';
        st = SIGV4_ERR_MALFORMED; /* out too small for this request */
        goto cleanup;
    }
    st = SIGV4_OK;

cleanup:
    OPENSSL_cleanse(signature, sizeof signature);
    free(signed_headers);
    free(creq);
    return st;
}

/* ---------------------------------------------------------------------------
 * Verifying.
 */

typedef struct slice {
    const char *p;
    size_t n;
} slice;

typedef struct auth_parts {
    slice credential;
    slice signed_headers;
    slice signature;
    bool has_credential, has_signed_headers, has_signature;
} auth_parts;

static void set_detail(char *detail, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (!detail || len == 0)
        return;
    va_start(ap, fmt);
    if (vsnprintf(detail, len, fmt, ap) < 0)
        detail[0] = '\0';
    va_end(ap);
}

/*
 * "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...":
 * the algorithm, whitespace, then comma-separated key=value pairs in any
 * order, each key once. Slices point into v; nothing is copied.
 */
static bool parse_authorization(const char *v, size_t n, auth_parts *a, char *detail,
                                size_t detail_len)
{
    const size_t alg_len = strlen(SIGV4_ALGORITHM);
    size_t i;

    memset(a, 0, sizeof *a);
    if (n < alg_len || memcmp(v, SIGV4_ALGORITHM, alg_len) != 0 ||
        (n > alg_len && !is_ows((unsigned char)v[alg_len]))) {
        set_detail(detail, detail_len, "Unsupported authorization type: only " SIGV4_ALGORITHM
                                       " is accepted.");
        return false;
    }
    i = alg_len;
    while (i < n) {
        size_t ks, ke, vs, ve;
        while (i < n && is_ows((unsigned char)v[i]))
            i++;
        ks = i;
        while (i < n && v[i] != '=' && v[i] != ',')
            i++;
        if (i >= n || v[i] != '=') {
            set_detail(detail, detail_len,
                       "Invalid key=value pair (missing equal-sign) in Authorization header.");
            return false;
        }
        ke = i;
        while (ke > ks && is_ows((unsigned char)v[ke - 1]))
            ke--;
        vs = ++i;
        while (i < n && v[i] != ',')
            i++;
        ve = i;
        while (ve > vs && is_ows((unsigned char)v[ve - 1]))
            ve--;
        {
            slice val = {v + vs, ve - vs};
            size_t kl = ke - ks;
            const char *k = v + ks;
            bool *seen;
            slice *dst;
            if (kl == 10 && memcmp(k, "Credential", 10) == 0) {
                seen = &a->has_credential;
                dst = &a->credential;
            } else if (kl == 13 && memcmp(k, "SignedHeaders", 13) == 0) {
                seen = &a->has_signed_headers;
                dst = &a->signed_headers;
            } else if (kl == 9 && memcmp(k, "Signature", 9) == 0) {
                seen = &a->has_signature;
                dst = &a->signature;
            } else {
                set_detail(detail, detail_len, "Unknown key in Authorization header.");
                return false;
            }
            if (*seen) {
                set_detail(detail, detail_len, "Duplicate key in Authorization header.");
                return false;
            }
            *seen = true;
            *dst = val;
        }
        if (i < n)
            i++; /* the comma; a trailing one leaves an empty pair, caught above */
        if (i == n && v[n - 1] == ',') {
            set_detail(detail, detail_len,
                       "Invalid key=value pair (missing equal-sign) in Authorization header.");
            return false;
        }
    }
    if (!a->has_credential || !a->has_signed_headers || !a->has_signature) {
        set_detail(detail, detail_len, "%s%s%s",
                   a->has_credential ? "" : "Authorization header requires 'Credential' parameter. ",
                   a->has_signature ? "" : "Authorization header requires 'Signature' parameter. ",
                   a->has_signed_headers ? ""
                                         : "Authorization header requires 'SignedHeaders' parameter. ");
        return false;
    }
    return true;
}

typedef struct scope {
    char akid[SIGV4_MAX_AKID_LEN + 1];
    char date8[SIGV4_SCOPE_DATE_LEN + 1];
    char region[SIGV4_MAX_SCOPE_PART_LEN + 1];
    char service[SIGV4_MAX_SCOPE_PART_LEN + 1];
} scope;

/* AKID/YYYYMMDD/region/service/aws4_request, each part checked and copied. */
static bool parse_credential(slice c, scope *s, char *detail, size_t detail_len)
{
    slice part[5];
    size_t np = 0, i, start = 0;
    unsigned dummy;

    for (i = 0; i <= c.n; i++) {
        if (i == c.n || c.p[i] == '/') {
            if (np == 5) {
                np++;
                break;
            }
            part[np].p = c.p + start;
            part[np].n = i - start;
            np++;
            start = i + 1;
        }
    }
    if (np != 5) {
        set_detail(detail, detail_len,
                   "Credential must have exactly 5 slash-delimited elements, e.g. "
                   "keyid/date/region/service/term.");
        return false;
    }
    if (!akid_ok(part[0].p, part[0].n)) {
        set_detail(detail, detail_len, "Credential has a malformed access key id.");
        return false;
    }
    if (part[1].n != SIGV4_SCOPE_DATE_LEN || !parse_digits(part[1].p, part[1].n, &dummy)) {
        set_detail(detail, detail_len, "Credential has a malformed date; expected YYYYMMDD.");
        return false;
    }
    if (!scope_part_ok(part[2].p, part[2].n)) {
        set_detail(detail, detail_len, "Credential should be scoped to a valid region. ");
        return false;
    }
    if (!scope_part_ok(part[3].p, part[3].n)) {
        set_detail(detail, detail_len, "Credential should be scoped to a valid service. ");
        return false;
    }
    if (part[4].n != strlen(SIGV4_TERMINATOR) ||
        memcmp(part[4].p, SIGV4_TERMINATOR, part[4].n) != 0) {
        set_detail(detail, detail_len,
                   "Credential should be scoped with a valid terminator: '" SIGV4_TERMINATOR "'.");
        return false;
    }
    memcpy(s->akid, part[0].p, part[0].n);
    s->akid[part[0].n] = '\0';
    memcpy(s->date8, part[1].p, part[1].n);
    s->date8[part[1].n] = '\0';
    memcpy(s->region, part[2].p, part[2].n);
    s->region[part[2].n] = '\0';
    memcpy(s->service, part[3].p, part[3].n);
    s->service[part[3].n] = '\0';
    return true;
}

/*
 * The list must be what a signer writes: lower-case tokens, sorted, unique,
 * at most SIGV4_MAX_HEADERS, each present in the request, host among them.
 * Copies it NUL-terminated into out (SIGV4_MAX_AUTH_LEN + 1 bytes).
 */
static bool check_signed_headers(slice sh, const sigv4_request *req, char *out, char *detail,
                                 size_t detail_len)
{
    size_t i = 0, count = 0;
    slice prev = {NULL, 0};
    bool has_host = false;

    if (sh.n > SIGV4_MAX_AUTH_LEN)
        return false;
    while (i <= sh.n) {
        size_t s = i, k;
        size_t cnt = 0;
        while (i < sh.n && sh.p[i] != ';')
            i++;
        slice name = {sh.p + s, i - s};
        if (name.n == 0 || name.n > SIGV4_MAX_HEADER_NAME_LEN) {
            if (sh.n == 0)
                break; /* reported as host missing below */
            set_detail(detail, detail_len, "SignedHeaders holds an empty or oversized name.");
            return false;
        }
        for (k = 0; k < name.n; k++) {
            unsigned char c = (unsigned char)name.p[k];
            if (!is_tchar(c) || (c >= 'A' && c <= 'Z')) {
                set_detail(detail, detail_len,
                           "SignedHeaders must be lower-case header names separated by ';'.");
                return false;
            }
        }
        if (prev.p) {
            size_t m = prev.n < name.n ? prev.n : name.n;
            int c = memcmp(prev.p, name.p, m);
            if (c > 0 || (c == 0 && prev.n >= name.n)) {
                set_detail(detail, detail_len, "SignedHeaders must be sorted and unique.");
                return false;
            }
        }
        if (++count > SIGV4_MAX_HEADERS) {
            set_detail(detail, detail_len, "Too many SignedHeaders.");
            return false;
        }
        for (k = 0; k < req->nheaders; k++)
            cnt += name_eq(req->headers[k].name, name.p, name.n);
        if (cnt == 0) {
            set_detail(detail, detail_len, "A header named in SignedHeaders is not in the request.");
            return false;
        }
        if (name.n == 4 && memcmp(name.p, "host", 4) == 0)
            has_host = true;
        prev = name;
        i++;
    }
    if (!has_host) {
        set_detail(detail, detail_len, MSG_HOST_UNSIGNED);
        return false;
    }
    memcpy(out, sh.p, sh.n);
    out[sh.n] = '\0';
    return true;
}

static bool is_lower_hex(slice s)
{
    size_t i;
    for (i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (!is_digit(c) && !(c >= 'a' && c <= 'f'))
            return false;
    }
    return true;
}

/* The header value without its optional surrounding whitespace. */
static slice trimmed(const char *v)
{
    slice s = {v, strlen(v)};
    while (s.n > 0 && is_ows((unsigned char)s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && is_ows((unsigned char)s.p[s.n - 1]))
        s.n--;
    return s;
}

sigv4_status sigv4_verify(const sigv4_request *req, time_t now, const char *expected_service,
                          const char *expected_region, sigv4_secret_lookup lookup, void *ctx, char *detail, size_t detail_len,
                          char *access_key_id_out, size_t akid_len)
{
    return sigv4_verify_cached(req, now, expected_service, expected_region, lookup, ctx, detail,
                               detail_len, access_key_id_out, akid_len, NULL);
}

sigv4_status sigv4_verify_cached(const sigv4_request *req, time_t now, const char *expected_service,
                                 const char *expected_region, sigv4_secret_lookup lookup, void *ctx,
                                 char *detail, size_t detail_len, char *access_key_id_out,
                                 size_t akid_len, sigv4_key_cache *cache)
{
    sigv4_status st = SIGV4_ERR_MALFORMED;
    auth_parts a;
    scope sc;
    char signed_headers[SIGV4_MAX_AUTH_LEN + 1];
    char amz_date[SIGV4_AMZ_DATE_LEN + 1];
    char sts[SIGV4_STS_LEN];
    char computed[SIGV4_HEX_LEN + 1] = "";
    char body_hash[SIGV4_HEX_LEN + 1];
    char *creq = NULL;
    const char *auth, *date_v, *secret, *content_sha;
    size_t count;
    time_t t_req;
    slice av;

    set_detail(detail, detail_len, "%s", "");
    if (access_key_id_out && akid_len > 0)
        access_key_id_out[0] = '\0';
    if (!req || !expected_service || !lookup) {
        st = SIGV4_ERR_INTERNAL;
        set_detail(detail, detail_len, "sigv4_verify called without request, service or lookup.");
        goto cleanup;
    }
    if (!request_shape_ok(req)) {
        set_detail(detail, detail_len, "Request exceeds the verifier's limits.");
        goto cleanup;
    }

    auth = find_header(req, "authorization", &count);
    if (!auth) {
        st = SIGV4_ERR_MISSING;
        set_detail(detail, detail_len, MSG_MISSING_TOKEN);
        goto cleanup;
    }
    if (count != 1) {
        set_detail(detail, detail_len, "More than one Authorization header.");
        goto cleanup;
    }
    av = trimmed(auth);
    if (av.n > SIGV4_MAX_AUTH_LEN) {
        set_detail(detail, detail_len, "Authorization header is too long.");
        goto cleanup;
    }
    if (!parse_authorization(av.p, av.n, &a, detail, detail_len) ||
        !parse_credential(a.credential, &sc, detail, detail_len))
        goto cleanup;
    if (access_key_id_out && akid_len > 0)
        snprintf(access_key_id_out, akid_len, "%s", sc.akid);
    if (strcmp(sc.service, expected_service) != 0) {
        set_detail(detail, detail_len, "Credential should be scoped to correct service: '%s'. ",
                   expected_service);
        goto cleanup;
    }
    if (expected_region && strcmp(sc.region, expected_region) != 0) {
        st = SIGV4_ERR_MISMATCH;
        set_detail(detail, detail_len, "Credential should be scoped to a valid region. ");
        goto cleanup;
    }
    if (a.signature.n != SIGV4_HEX_LEN || !is_lower_hex(a.signature)) {
        set_detail(detail, detail_len, "Signature must be 64 lower-case hex digits.");
        goto cleanup;
    }
    if (!check_signed_headers(a.signed_headers, req, signed_headers, detail, detail_len))
        goto cleanup;

    /* X-Amz-Date wins over Date, as AWS documents. */
    date_v = find_header(req, "x-amz-date", &count);
    if (date_v) {
        slice d = trimmed(date_v);
        if (count != 1 || !parse_amz_date(d.p, d.n, &t_req)) {
            set_detail(detail, detail_len, "Date must be in ISO-8601 'basic format'.");
            goto cleanup;
        }
    } else {
        date_v = find_header(req, "date", &count);
        if (!date_v) {
            st = SIGV4_ERR_MISSING;
            set_detail(detail, detail_len, MSG_NO_DATE);
            goto cleanup;
        }
        slice d = trimmed(date_v);
        if (count != 1 || !parse_http_date(d.p, d.n, &t_req)) {
            set_detail(detail, detail_len, "Date header is not a valid HTTP date.");
            goto cleanup;
        }
    }
    sigv4_amz_date(t_req, amz_date, sizeof amz_date);
    if (amz_date[0] == '\0') {
        set_detail(detail, detail_len, "Date is out of range.");
        goto cleanup;
    }
    if (memcmp(amz_date, sc.date8, SIGV4_SCOPE_DATE_LEN) != 0) {
        set_detail(detail, detail_len,
                   "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                   "date from HTTP: '%s' != '%.8s', from '%s'.",
                   sc.date8, amz_date, amz_date);
        goto cleanup;
    }

    secret = lookup(ctx, sc.akid);
    if (!secret) {
        st = SIGV4_ERR_UNKNOWN_KEY;
        set_detail(detail, detail_len, MSG_UNKNOWN_KEY);
        goto cleanup;
    }

    if ((long long)t_req < (long long)now - SIGV4_MAX_SKEW_SECONDS ||
        (long long)t_req > (long long)now + SIGV4_MAX_SKEW_SECONDS) {
        char now_s[SIGV4_AMZ_DATE_LEN + 1], bound_s[SIGV4_AMZ_DATE_LEN + 1];
        bool past = (long long)t_req < (long long)now;
        sigv4_amz_date(now, now_s, sizeof now_s);
        sigv4_amz_date(past ? now - SIGV4_MAX_SKEW_SECONDS : now + SIGV4_MAX_SKEW_SECONDS,
                       bound_s, sizeof bound_s);
        st = SIGV4_ERR_EXPIRED;
        if (past)
            set_detail(detail, detail_len,
                       "Signature expired: %s is now earlier than %s (%s - 5 min.)", amz_date,
                       bound_s, now_s);
        else
            set_detail(detail, detail_len,
                       "Signature not yet current: %s is still later than %s (%s + 5 min.)",
                       amz_date, bound_s, now_s);
        goto cleanup;
    }

    /*
     * The canonical request takes X-Amz-Content-SHA256 on trust; a verifier
     * must not, or the body could be swapped under a valid signature.
     */
    content_sha = find_header(req, "x-amz-content-sha256", &count);
    if (content_sha) {
        st = SIGV4_ERR_INTERNAL;
        if (!sha256_hex(req->body, req->body_len, body_hash))
            goto cleanup;
        st = SIGV4_ERR_MISMATCH;
        if (count != 1 || strlen(content_sha) != SIGV4_HEX_LEN ||
            CRYPTO_memcmp(content_sha, body_hash, SIGV4_HEX_LEN) != 0) {
            set_detail(detail, detail_len, MSG_CONTENT_SHA);
            goto cleanup;
        }
    }

    st = SIGV4_ERR_INTERNAL;
    creq = sigv4_canonical_request(req, signed_headers);
    if (!creq || !string_to_sign(amz_date, sc.region, sc.service, creq, sts, sizeof sts) ||
        !compute_signature(secret, sc.date8, sc.region, sc.service, sts, cache, computed)) {
        set_detail(detail, detail_len, "Internal error while checking the signature.");
        goto cleanup;
    }
    if (CRYPTO_memcmp(computed, a.signature.p, SIGV4_HEX_LEN) != 0) {
        st = SIGV4_ERR_MISMATCH;
        set_detail(detail, detail_len, MSG_MISMATCH);
        goto cleanup;
    }
    st = SIGV4_OK;

cleanup:
    OPENSSL_cleanse(computed, sizeof computed);
    free(creq);
    return st;
}

const char *sigv4_status_name(sigv4_status s)
{
    static const char *const names[SIGV4_ERR_LAST] = {
        [SIGV4_OK] = "ok",
        [SIGV4_ERR_MISSING] = "missing",
        [SIGV4_ERR_MALFORMED] = "malformed",
        [SIGV4_ERR_UNKNOWN_KEY] = "unknown_key",
        [SIGV4_ERR_EXPIRED] = "expired",
        [SIGV4_ERR_MISMATCH] = "mismatch",
        [SIGV4_ERR_INTERNAL] = "internal",
    };
    if ((unsigned)s >= SIGV4_ERR_LAST || !names[s])
        return "unknown";
    return names[s];
}
