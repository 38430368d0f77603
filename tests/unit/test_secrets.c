/*
 * Unit tests for secrets: each form a literal leaks as (raw, base64 and
 * base64url whole and at every alignment inside a longer encoding, percent
 * and JSON escapes as the common encoders write them), short values,
 * merging, order and max, exact masking, and a property over 200 random
 * secrets in random text in every encoding: each byte the secret decides
 * is masked and the mask is exactly the scan's matches replaced. Then the
 * five pcre2 patterns written as scenario files give them, pattern errors,
 * the variable name and value classifiers, and scanning from several
 * threads. Texts are scanned from heap copies of their exact length so
 * ASan catches any read past len.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

#define MAXM 64

/* The five patterns as scenario files give them (coldsec itself ships none). */
#define PAT_AWS_KEY_ID "\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b"
#define PAT_PEM_PRIVATE_KEY "-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
#define PAT_URL_PASSWORD "\\b[A-Za-z][A-Za-z0-9+.-]*://[^\\s/:@\"']+:[^\\s/@\"']+@[^\\s/@\"'?#]+"
#define PAT_JWT "\\beyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*"
#define PAT_BEARER "(?i)\\bbearer\\s+[A-Za-z0-9._~+/-]{8,}=*"

/* ---------------------------------------------------------------------------
 * Helpers.
 */
static char *heap_copy(const char *text, size_t len)
{
    char *copy = malloc(len ? len : 1);

    assert_non_null(copy);
    if (len)
        memcpy(copy, text, len);
    return copy;
}

static size_t scan_exact(const secrets *s, const char *text, size_t len, secrets_match *out,
                         size_t max)
{
    char *copy = heap_copy(text, len);
    size_t n = secrets_scan(s, copy, len, out, max);

    free(copy);
    return n;
}

static size_t scan_str(const secrets *s, const char *text, secrets_match *out, size_t max)
{
    return scan_exact(s, text, strlen(text), out, max);
}

static char *mask_exact(const secrets *s, const char *text, size_t len, size_t *outlen)
{
    char *copy = heap_copy(text, len);
    char *m = secrets_mask(s, copy, len, outlen);

    free(copy);
    assert_non_null(m);
    assert_int_equal(strlen(m), *outlen); /* no NUL in these tests' output but the last */
    return m;
}

static secrets *one_literal(const char *name, const char *value, size_t len)
{
    secrets *s = secrets_new();

    assert_non_null(s);
    assert_int_equal(secrets_add_literal(s, name, value, len), 0);
    return s;
}

static secrets *with_patterns(void)
{
    static const char *const pats[][2] = {
        {"aws_access_key_id", PAT_AWS_KEY_ID}, {"pem_private_key", PAT_PEM_PRIVATE_KEY},
        {"password_in_url", PAT_URL_PASSWORD}, {"jwt", PAT_JWT},
        {"bearer_token", PAT_BEARER},
    };
    secrets *s = secrets_new();
    char err[256];

    assert_non_null(s);
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++)
        if (secrets_add_pattern(s, pats[i][0], pats[i][1], err, sizeof err) != 0)
            fail_msg("%s", err);
    return s;
}

/* Base64 of in[0..n) with OpenSSL; url: '-' '_' and no padding. */
static char *enc_b64(const void *in, size_t n, bool url, size_t *outlen)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    size_t k;

    assert_non_null(out);
    k = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    if (url) {
        for (size_t i = 0; i < k; i++)
            out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
        while (k > 0 && out[k - 1] == '=')
            k--;
        out[k] = '\0';
    }
    *outlen = k;
    return out;
}

/* "[MASKED NAME LEN sha256:8hex]" computed here, for expected outputs. */
static void marker(char *out, size_t outlen, const char *name, const char *text, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    assert_int_equal(EVP_Digest(text, n, md, &mdlen, EVP_sha256(), NULL), 1);
    snprintf(out, outlen, "[MASKED %s %zu sha256:%02x%02x%02x%02x]", name, n, md[0], md[1],
             md[2], md[3]);
}

/* Asserts exactly one match, with this form, at [off, off+len). */
static void assert_one(const secrets *s, const char *text, size_t tlen, const char *form,
                       size_t off, size_t len)
{
    secrets_match m[MAXM];
    size_t n = scan_exact(s, text, tlen, m, MAXM);

    if (n != 1)
        fail_msg("%zu matches in \"%.*s\", want 1", n, (int)tlen, text);
    assert_string_equal(m[0].form, form);
    assert_string_equal(m[0].kind, "literal");
    if (m[0].offset != off || m[0].len != len)
        fail_msg("match at [%zu,+%zu), want [%zu,+%zu) in \"%.*s\"", m[0].offset, m[0].len, off,
                 len, (int)tlen, text);
}

/* ---------------------------------------------------------------------------
 * Literal forms.
 */
static void test_raw(void **state)
{
    const char *v = "hunter2-correct-horse";
    const char *text = "error: auth failed for hunter2-correct-horse at db";
    secrets *s = one_literal("DB_PASSWORD", v, strlen(v));
    secrets_match m[MAXM];

    (void)state;
    assert_int_equal(scan_str(s, text, m, MAXM), 1);
    assert_string_equal(m[0].name, "DB_PASSWORD");
    assert_string_equal(m[0].kind, "literal");
    assert_string_equal(m[0].form, "raw");
    assert_int_equal(m[0].offset, 23);
    assert_int_equal(m[0].len, strlen(v));
    assert_int_equal(scan_str(s, "hunter2-correct-hors", m, MAXM), 0);
    assert_int_equal(scan_str(s, "", m, MAXM), 0);
    assert_int_equal(secrets_scan(s, NULL, 0, m, MAXM), 0);
    secrets_free(s);
}

/* The whole encoding, for each length modulo 3 (padding "", "==", "="). */
static void test_base64_whole(void **state)
{
    static const char *const values[] = {"password1", "password", "password12",
                                         "\xfb\xef\xbe\xfb\xff\xfe\xfd\xfc\xfb\xfa"};

    (void)state;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        size_t vlen = strlen(values[i]), blen, ulen;
        char *b = enc_b64(values[i], vlen, false, &blen);
        char *u = enc_b64(values[i], vlen, true, &ulen);
        secrets *s = one_literal("V", values[i], vlen);
        char text[128];
        int n;

        n = snprintf(text, sizeof text, "token=%s;", b);
        assert_one(s, text, (size_t)n, "base64", 6, blen);
        if (strpbrk(u, "-_")) { /* the alphabets differ */
            n = snprintf(text, sizeof text, "t=%s&", u);
            assert_one(s, text, (size_t)n, "base64url", 2, ulen);
        }
        free(b);
        free(u);
        secrets_free(s);
    }
}

/* base64 of prefix + secret + suffix, every prefix length 0..5 (alignment 0,
 * 1, 2 twice) and suffix length 0..4: one match, covering every character
 * whose 6 bits are all the secret's. */
static void test_base64_alignments(void **state)
{
    static const char v[] = "correct-horse-battery\xff\xfe"; /* '/' in its base64 */
    const size_t vlen = sizeof v - 1;
    secrets *s = one_literal("V", v, vlen);

    (void)state;
    for (int url = 0; url < 2; url++) {
        for (size_t p = 0; p <= 5; p++) {
            for (size_t q = 0; q <= 4; q++) {
                unsigned char buf[64];
                secrets_match m[MAXM];
                size_t blen, n, from = (8 * p + 5) / 6, to = 8 * (p + vlen) / 6;
                char *blob;

                memset(buf, 0xa5, sizeof buf);
                memcpy(buf + p, v, sizeof v - 1);
                blob = enc_b64(buf, p + vlen + q, url, &blen);
                n = scan_exact(s, blob, blen, m, MAXM);
                if (n != 1)
                    fail_msg("url %d prefix %zu suffix %zu: %zu matches", url, p, q, n);
                assert_string_equal(m[0].form, url ? "base64url" : "base64");
                if (m[0].offset > from || m[0].offset + m[0].len < to ||
                    m[0].offset + m[0].len > blen)
                    fail_msg("url %d prefix %zu suffix %zu: [%zu,+%zu) misses [%zu,%zu)", url, p,
                             q, m[0].offset, m[0].len, from, to);
                if (p == 0 && q == 0) /* the whole encoding, padding included */
                    assert_int_equal(m[0].len, blen);
                free(blob);
            }
        }
    }
    secrets_free(s);
}

static void test_url_forms(void **state)
{
    const char *v = "p@ss w/rd&x=1%\xc3\xbc"; /* "p@ss w/rd&x=1%ü" */
    const char *upper = "GET /login?pw=p%40ss%20w%2Frd%26x%3D1%25%C3%BC HTTP/1.1";
    const char *lower = "GET /login?pw=p%40ss%20w%2frd%26x%3d1%25%c3%bc HTTP/1.1";
    const char *plain = "abcdefgh-._~XYZ";
    secrets *s = one_literal("PW", v, strlen(v));
    secrets_match m[MAXM];

    (void)state;
    assert_one(s, upper, strlen(upper), "url", 14, 32);
    assert_one(s, lower, strlen(lower), "url", 14, 32);
    secrets_free(s);

    /* Nothing to escape: the url form is the raw form, reported as raw. */
    s = one_literal("PLAIN", plain, strlen(plain));
    assert_int_equal(scan_str(s, "q=abcdefgh-._~XYZ", m, MAXM), 1);
    assert_string_equal(m[0].form, "raw");
    secrets_free(s);
}

static void test_json_forms(void **state)
{
    static const struct {
        const char *value, *text, *escaped; /* text: a JSON document holding value */
    } cases[] = {
        /* JavaScript / Java: quote, backslash, newline, tab, other C0 */
        {"pa\"ss\\wo\nrd", "{\"error\":\"bad password pa\\\"ss\\\\wo\\nrd\"}",
         "pa\\\"ss\\\\wo\\nrd"},
        {"tab\there-\x01x", "{\"v\":\"tab\\there-\\u0001x\"}", "tab\\there-\\u0001x"},
        /* Python's ensure_ascii */
        {"p\xc3\xa4ssw\xc3\xb6rd-\xc3\xbcn\xc3\xaf" "code",
         "{\"v\": \"p\\u00e4ssw\\u00f6rd-\\u00fcn\\u00efcode\"}",
         "p\\u00e4ssw\\u00f6rd-\\u00fcn\\u00efcode"},
        {"key-\xf0\x9f\x98\x80-secret", "{\"v\": \"key-\\ud83d\\ude00-secret\"}",
         "key-\\ud83d\\ude00-secret"},
        /* PHP: \/ */
        {"abc/def/ghi", "{\"v\":\"abc\\/def\\/ghi\"}", "abc\\/def\\/ghi"},
        /* Go: HTML-safe */
        {"<a&b>secret", "{\"v\":\"\\u003ca\\u0026b\\u003esecret\"}",
         "\\u003ca\\u0026b\\u003esecret"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        secrets *s = one_literal("J", cases[i].value, strlen(cases[i].value));
        const char *at = strstr(cases[i].text, cases[i].escaped);

        assert_non_null(at);
        assert_one(s, cases[i].text, strlen(cases[i].text), "json",
                   (size_t)(at - cases[i].text), strlen(cases[i].escaped));
        secrets_free(s);
    }
}

static void test_short_values_and_bad_args(void **state)
{
    secrets *s = secrets_new();
    secrets_match m[MAXM];
    char name[SECRETS_MAX_NAME + 2];
    char *big;

    (void)state;
    assert_non_null(s);
    assert_int_equal(secrets_add_literal(s, "SHORT", "1234567", 7), 0);
    assert_int_equal(secrets_add_literal(s, "EMPTY", "", 0), 0);
    assert_int_equal(scan_str(s, "x1234567x MTIzNDU2Nw== 1234567", m, MAXM), 0);
    assert_int_equal(secrets_add_literal(s, "EIGHT", "12345678", 8), 0);
    assert_int_equal(scan_str(s, "x12345678x", m, MAXM), 1);
    assert_string_equal(m[0].name, "EIGHT");

    /* Any bytes, NULs included, in values and texts. */
    assert_int_equal(secrets_add_literal(s, "NUL", "abc\0defgh", 9), 0);
    assert_int_equal(scan_exact(s, "\0\0abc\0defgh\0", 12, m, MAXM), 1);
    assert_string_equal(m[0].name, "NUL");
    assert_int_equal(m[0].offset, 2);

    assert_int_equal(secrets_add_literal(NULL, "X", "12345678", 8), -1);
    assert_int_equal(secrets_add_literal(s, "X", NULL, 8), -1);
    assert_int_equal(secrets_add_literal(s, NULL, "12345678", 8), -1);
    assert_int_equal(secrets_add_literal(s, "", "12345678", 8), -1);
    assert_int_equal(secrets_add_literal(s, "A B", "12345678", 8), -1);
    assert_int_equal(secrets_add_literal(s, "A]", "12345678", 8), -1);
    assert_int_equal(secrets_add_literal(s, "A\x01", "12345678", 8), -1);
    assert_int_equal(secrets_add_literal(s, "A\xc3\xa9", "12345678", 8), -1);
    memset(name, 'N', sizeof name);
    name[SECRETS_MAX_NAME] = '\0';
    assert_int_equal(secrets_add_literal(s, name, "abcdefghij", 10), 0);
    name[SECRETS_MAX_NAME] = 'N';
    name[SECRETS_MAX_NAME + 1] = '\0';
    assert_int_equal(secrets_add_literal(s, name, "abcdefghij", 10), -1);
    big = calloc(1, SECRETS_MAX_LITERAL + 1);
    assert_non_null(big);
    memset(big, 'z', SECRETS_MAX_LITERAL + 1);
    assert_int_equal(secrets_add_literal(s, "BIG", big, SECRETS_MAX_LITERAL + 1), -1);
    assert_int_equal(secrets_add_literal(s, "BIG", big, SECRETS_MAX_LITERAL), 0);
    free(big);

    /* Failed adds registered nothing: only EIGHT, NUL and the 128-byte name's value. */
    assert_int_equal(scan_str(s, "12345678 abcdefghij", NULL, 0), 2);
    secrets_free(s);
    secrets_free(NULL);
}

/* ---------------------------------------------------------------------------
 * Merging, order, max.
 */
static void test_overlaps_merged(void **state)
{
    secrets *s = one_literal("AB", "abababab", 8);
    secrets_match m[MAXM];
    char text[128];
    size_t blen;
    char *b;

    (void)state;
    /* Overlapping occurrences of one form are one match. */
    assert_int_equal(scan_str(s, "xxabababababyy", m, MAXM), 1);
    assert_int_equal(m[0].offset, 2);
    assert_int_equal(m[0].len, 10);
    assert_int_equal(scan_str(s, "abababababababab", m, MAXM), 1);
    assert_int_equal(m[0].len, 16);
    secrets_free(s);
    /* Adjacent ones are two. */
    s = one_literal("SV", "SECRETVAL", 9);
    assert_int_equal(scan_str(s, "SECRETVALSECRETVAL", m, MAXM), 2);
    assert_int_equal(m[0].offset, 0);
    assert_int_equal(m[1].offset, 9);
    secrets_free(s);

    /* Two forms of one secret overlapping: raw "AAAfillerQUFB" ends with
     * "QUFB", where its own base64 begins. Merged, named by the earliest. */
    s = one_literal("X", "AAAfillerQUFB", 13);
    b = enc_b64("AAAfillerQUFB", 13, false, &blen);
    snprintf(text, sizeof text, "AAAfiller%s", b);
    assert_int_equal(scan_str(s, text, m, MAXM), 1);
    assert_string_equal(m[0].form, "raw");
    assert_int_equal(m[0].offset, 0);
    assert_int_equal(m[0].len, 9 + blen);
    free(b);
    secrets_free(s);

    /* Two secrets overlapping are reported apart. */
    s = secrets_new();
    assert_non_null(s);
    assert_int_equal(secrets_add_literal(s, "A", "alpha-bravo-charlie", 19), 0);
    assert_int_equal(secrets_add_literal(s, "B", "charlie-delta-echo", 18), 0);
    assert_int_equal(scan_str(s, "alpha-bravo-charlie-delta-echo", m, MAXM), 2);
    assert_string_equal(m[0].name, "A");
    assert_int_equal(m[0].offset, 0);
    assert_int_equal(m[0].len, 19);
    assert_string_equal(m[1].name, "B");
    assert_int_equal(m[1].offset, 12);
    assert_int_equal(m[1].len, 18);
    secrets_free(s);
}

static void test_order_and_max(void **state)
{
    secrets *s = with_patterns();
    secrets_match m[4];
    const char *text = "a second-secret-22 b AKIAIOSFODNN7EXAMPLE c first-secret-111 d";

    (void)state;
    assert_int_equal(secrets_add_literal(s, "K1", "first-secret-111", 16), 0);
    assert_int_equal(secrets_add_literal(s, "K2", "second-secret-22", 16), 0);
    memset(m, 0, sizeof m);
    m[2].name = "sentinel";
    assert_int_equal(scan_str(s, text, m, 2), 3);
    assert_string_equal(m[0].name, "K2");
    assert_int_equal(m[0].offset, 2);
    assert_string_equal(m[1].name, "aws_access_key_id");
    assert_string_equal(m[1].kind, "pattern");
    assert_string_equal(m[1].form, "raw");
    assert_int_equal(m[1].offset, 21);
    assert_string_equal(m[2].name, "sentinel"); /* untouched beyond max */
    assert_int_equal(scan_str(s, text, NULL, 0), 3);
    assert_int_equal(scan_str(s, text, m, 4), 3);
    assert_string_equal(m[2].name, "K1");
    assert_int_equal(m[2].offset, 44);
    secrets_free(s);
}

/* ---------------------------------------------------------------------------
 * Masking.
 */
static void test_mask_exact(void **state)
{
    secrets *s = one_literal("DB_PASSWORD", "hunter2-correct-horse", 21);
    size_t n;
    char *m;

    (void)state;
    m = mask_exact(s, "user=admin pass=hunter2-correct-horse end", 41, &n);
    assert_string_equal(m, "user=admin pass=[MASKED DB_PASSWORD 21 sha256:417b00ea] end");
    free(m);
    m = mask_exact(s, "hunter2-correct-horsehunter2-correct-horse", 42, &n);
    assert_string_equal(m, "[MASKED DB_PASSWORD 21 sha256:417b00ea]"
                           "[MASKED DB_PASSWORD 21 sha256:417b00ea]");
    free(m);
    /* No match: an exact copy. Empty text: an empty string. */
    m = mask_exact(s, "nothing to see", 14, &n);
    assert_string_equal(m, "nothing to see");
    assert_int_equal(n, 14);
    free(m);
    m = mask_exact(s, "", 0, &n);
    assert_string_equal(m, "");
    assert_int_equal(n, 0);
    free(m);
    m = secrets_mask(s, NULL, 0, &n);
    assert_non_null(m);
    assert_int_equal(n, 0);
    free(m);
    /* NULs around the secret survive; the buffer is NUL-terminated. */
    {
        static const char in[] = "a\0hunter2-correct-horse\0b";
        static const char want[] = "a\0[MASKED DB_PASSWORD 21 sha256:417b00ea]\0b";
        char *copy = heap_copy(in, sizeof in - 1);
        m = secrets_mask(s, copy, sizeof in - 1, &n);
        free(copy);
        assert_non_null(m);
        assert_int_equal(n, sizeof want - 1);
        assert_memory_equal(m, want, sizeof want);
        free(m);
    }
    /* Base64 form masked too. */
    m = mask_exact(s, "b64=aHVudGVyMi1jb3JyZWN0LWhvcnNl!", 33, &n);
    assert_string_equal(m, "b64=[MASKED DB_PASSWORD 28 sha256:ef413c3c]!");
    free(m);
    secrets_free(s);
}

static void test_mask_overlapping_secrets(void **state)
{
    secrets *s = with_patterns();
    size_t n;
    char *m;

    (void)state;
    assert_int_equal(secrets_add_literal(s, "A", "alpha-bravo-charlie", 19), 0);
    assert_int_equal(secrets_add_literal(s, "B", "charlie-delta-echo", 18), 0);
    assert_int_equal(secrets_add_literal(s, "DB_PASSWORD", "s3cr3t-passw0rd", 15), 0);
    m = mask_exact(s, "<alpha-bravo-charlie-delta-echo>", 32, &n);
    assert_string_equal(m, "<[MASKED A 30 sha256:a41f1c97]>");
    free(m);

    /* The password inside the URL the pattern matches: one span, named by
     * the pattern, whose match starts first. */
    {
        const char *text = "dsn=postgres://app:s3cr3t-passw0rd@db.internal:5432/orders";
        secrets_match mm[MAXM];
        assert_int_equal(scan_str(s, text, mm, MAXM), 2);
        assert_string_equal(mm[0].name, "password_in_url");
        assert_string_equal(mm[1].name, "DB_PASSWORD");
        m = mask_exact(s, text, strlen(text), &n);
        assert_string_equal(m, "dsn=[MASKED password_in_url 47 sha256:44330154]/orders");
        free(m);
    }
    secrets_free(s);
}

/* splitmix64: fixed and portable. */
static uint64_t rnd(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t rnd_below(uint64_t *st, size_t n)
{
    return (size_t)(rnd(st) % n);
}

typedef struct tbuf {
    char p[4096];
    size_t n;
} tbuf;

static void tput(tbuf *b, const void *src, size_t n)
{
    assert_true(b->n + n < sizeof b->p);
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void tputs(tbuf *b, const char *s)
{
    tput(b, s, strlen(s));
}

static void put_utf8(tbuf *b, uint32_t cp)
{
    unsigned char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (unsigned char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xc0 | (cp >> 6)), u[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xe0 | (cp >> 12)), u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        u[0] = (unsigned char)(0xf0 | (cp >> 18)), u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    tput(b, u, n);
}

/* A random secret as code points, written raw (UTF-8) and as JSON by a
 * JavaScript-style encoder and a Python ensure_ascii-style one. */
static void random_secret(uint64_t *st, tbuf *raw, tbuf *json, tbuf *json_ascii)
{
    static const uint32_t wide[] = {0xe9, 0x3b1, 0x20ac, 0x4e2d, 0x1f600, 0x10348};
    size_t target = 8 + rnd_below(st, 41);

    raw->n = json->n = json_ascii->n = 0;
    while (raw->n < target) {
        size_t r = rnd_below(st, 100);
        uint32_t cp = r < 85 ? (uint32_t)(0x20 + rnd_below(st, 0x5f))
                      : r < 90 ? (uint32_t)(1 + rnd_below(st, 0x1f))
                               : wide[rnd_below(st, sizeof wide / sizeof wide[0])];
        char esc[16];
        put_utf8(raw, cp);
        if (cp == '"' || cp == '\\') {
            snprintf(esc, sizeof esc, "\\%c", (char)cp);
        } else if (cp == '\n' || cp == '\t' || cp == '\r' || cp == '\b' || cp == '\f') {
            snprintf(esc, sizeof esc, "\\%c",
                     cp == '\n' ? 'n' : cp == '\t' ? 't' : cp == '\r' ? 'r' : cp == '\b' ? 'b' : 'f');
        } else if (cp < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
        } else {
            esc[0] = '\0';
        }
        if (esc[0]) {
            tputs(json, esc);
            tputs(json_ascii, esc);
            continue;
        }
        put_utf8(json, cp);
        if (cp < 0x80) {
            put_utf8(json_ascii, cp);
        } else if (cp < 0x10000) {
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
            tputs(json_ascii, esc);
        } else {
            snprintf(esc, sizeof esc, "\\u%04x\\u%04x", (unsigned)(0xd800 + ((cp - 0x10000) >> 10)),
                     (unsigned)(0xdc00 + ((cp - 0x10000) & 0x3ff)));
            tputs(json_ascii, esc);
        }
    }
}

static void random_printable(uint64_t *st, tbuf *b, size_t max)
{
    size_t n = rnd_below(st, max + 1);

    for (size_t i = 0; i < n; i++) {
        char c = (char)(0x20 + rnd_below(st, 0x5f));
        tput(b, &c, 1);
    }
}

enum { F_RAW, F_B64, F_B64URL, F_URL, F_URL_LOWER, F_JSON, F_JSON_ASCII, F_COUNT };

/* 200 random secrets, each embedded in random text in each encoding: the
 * scan's matches cover every character the secret alone decides (for base64
 * the characters whose 6 bits are all the secret's), the mask is exactly
 * those matches replaced, and neither the secret nor those characters are
 * in the masked text. */
static void test_mask_property(void **state)
{
    static const char *const forms[] = {"raw", "base64", "base64url", "url", "url", "json", "json"};
    uint64_t st = 0xc01d5ec;
    tbuf raw, json, json_ascii, text, want;

    (void)state;
    for (int iter = 0; iter < 200; iter++) {
        secrets *s;
        random_secret(&st, &raw, &json, &json_ascii);
        s = one_literal("S", raw.p, raw.n);
        for (int f = 0; f < F_COUNT; f++) {
            secrets_match m[MAXM];
            size_t rs, re, nm, masked_len, pos = 0;
            char *masked;

            text.n = 0;
            random_printable(&st, &text, 300);
            rs = text.n;
            if (f == F_B64 || f == F_B64URL) {
                unsigned char buf[256];
                size_t p = rnd_below(&st, 6), q = rnd_below(&st, 6), blen;
                char *blob;
                for (size_t i = 0; i < sizeof buf; i++)
                    buf[i] = (unsigned char)rnd(&st);
                memcpy(buf + p, raw.p, raw.n);
                blob = enc_b64(buf, p + raw.n + q, f == F_B64URL, &blen);
                tput(&text, blob, blen);
                free(blob);
                re = rs + 8 * (p + raw.n) / 6;
                rs += (8 * p + 5) / 6;
            } else if (f == F_URL || f == F_URL_LOWER) {
                const char *hex = f == F_URL ? "0123456789ABCDEF" : "0123456789abcdef";
                for (size_t i = 0; i < raw.n; i++) {
                    unsigned char c = (unsigned char)raw.p[i];
                    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        (c && strchr("-._~", c))) {
                        tput(&text, &c, 1);
                    } else {
                        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
                        tput(&text, e, 3);
                    }
                }
                re = text.n;
            } else {
                const tbuf *src = f == F_RAW ? &raw : f == F_JSON ? &json : &json_ascii;
                tput(&text, src->p, src->n);
                re = text.n;
            }
            random_printable(&st, &text, 300);

            nm = scan_exact(s, text.p, text.n, m, MAXM);
            assert_true(nm >= 1 && nm < MAXM);
            for (size_t i = rs; i < re; i++) {
                bool covered = false;
                for (size_t k = 0; k < nm && !covered; k++)
                    covered = m[k].offset <= i && i < m[k].offset + m[k].len;
                if (!covered)
                    fail_msg("iter %d form %s: byte %zu of [%zu,%zu) not matched", iter,
                             forms[f], i, rs, re);
            }
            for (size_t k = 0; k < nm; k++)
                assert_string_equal(m[k].name, "S");

            /* The expected mask, from the matches (disjoint: one secret). */
            want.n = 0;
            for (size_t k = 0; k < nm; k++) {
                char mk[128];
                assert_true(m[k].offset >= pos);
                tput(&want, text.p + pos, m[k].offset - pos);
                marker(mk, sizeof mk, "S", text.p + m[k].offset, m[k].len);
                tputs(&want, mk);
                pos = m[k].offset + m[k].len;
            }
            tput(&want, text.p + pos, text.n - pos);
            masked = secrets_mask(s, text.p, text.n, &masked_len);
            assert_non_null(masked);
            assert_int_equal(masked_len, want.n);
            assert_memory_equal(masked, want.p, want.n);
            assert_int_equal(masked[masked_len], '\0');
            assert_null(memmem(masked, masked_len, raw.p, raw.n));
            assert_null(memmem(masked, masked_len, text.p + rs, re - rs));
            free(masked);
        }
        secrets_free(s);
    }
}

/* ---------------------------------------------------------------------------
 * Patterns.
 */
static void test_patterns(void **state)
{
    static const struct {
        const char *text, *name, *match; /* name NULL: no match */
    } cases[] = {
        {"key AKIAIOSFODNN7EXAMPLE here", "aws_access_key_id", "AKIAIOSFODNN7EXAMPLE"},
        {"{\"AccessKeyId\":\"ASIAY34FZKBOKMUTVV7A\"}", "aws_access_key_id", "ASIAY34FZKBOKMUTVV7A"},
        {"AKIAIOSFODNN7EXAMPL", NULL, NULL},   /* 15 after the prefix */
        {"XAKIAIOSFODNN7EXAMPLE", NULL, NULL}, /* not at a word boundary */
        {"AKIAIOSFODNN7EXAMPLEX", NULL, NULL},
        {"akiaiosfodnn7example", NULL, NULL},  /* case-sensitive */
        {"-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "pem_private_key",
         "-----BEGIN RSA PRIVATE KEY-----"},
        {"x-----BEGIN PRIVATE KEY-----", "pem_private_key", "-----BEGIN PRIVATE KEY-----"},
        {"-----BEGIN OPENSSH PRIVATE KEY-----", "pem_private_key",
         "-----BEGIN OPENSSH PRIVATE KEY-----"},
        {"-----BEGIN ENCRYPTED PRIVATE KEY-----", "pem_private_key",
         "-----BEGIN ENCRYPTED PRIVATE KEY-----"},
        {"-----BEGIN PUBLIC KEY-----", NULL, NULL},
        {"-----BEGIN CERTIFICATE-----", NULL, NULL},
        {"db=postgres://app:s3cr3t@db.internal:5432/orders", "password_in_url",
         "postgres://app:s3cr3t@db.internal:5432"},
        {"{\"url\":\"redis://default:pa55word@cache:6379\"}", "password_in_url",
         "redis://default:pa55word@cache:6379"},
        {"https://example.com/path?q=1", NULL, NULL},
        {"https://user@example.com/", NULL, NULL},
        {"mailto:someone@example.com", NULL, NULL},
        {"Authorization: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
         "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
         "jwt",
         "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
         "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"},
        {"t=eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.", "jwt",
         "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."}, /* alg none: no signature */
        {"eyJhbGciOiJIUzI1NiJ9", NULL, NULL},         /* one part */
        {"abc.def.ghi", NULL, NULL},
        {"Authorization: Bearer abcdef0123456789.xyz", "bearer_token",
         "Bearer abcdef0123456789.xyz"},
        {"authorization: bearer dGhpcyBpcyBhIHRva2Vu==\r\n", "bearer_token",
         "bearer dGhpcyBpcyBhIHRva2Vu=="},
        {"WWW-Authenticate: Bearer realm=\"api\"", NULL, NULL},
        {"Bearer short", NULL, NULL},
        /* Any bytes around: invalid UTF-8 and NULs do not hide a match. */
        {"\xff\xfe\xc3 AKIAIOSFODNN7EXAMPLE \xe2\x82", "aws_access_key_id",
         "AKIAIOSFODNN7EXAMPLE"},
    };
    secrets *s = with_patterns();

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        secrets_match m[MAXM];
        size_t n = scan_str(s, cases[i].text, m, MAXM);
        if (!cases[i].name) {
            if (n != 0)
                fail_msg("case %zu: %zu matches (%s) in \"%s\"", i, n, m[0].name, cases[i].text);
            continue;
        }
        if (n != 1)
            fail_msg("case %zu: %zu matches in \"%s\"", i, n, cases[i].text);
        assert_string_equal(m[0].name, cases[i].name);
        assert_string_equal(m[0].kind, "pattern");
        assert_string_equal(m[0].form, "raw");
        assert_int_equal(m[0].len, strlen(cases[i].match));
        assert_memory_equal(cases[i].text + m[0].offset, cases[i].match, m[0].len);
    }
    /* A NUL before the match. */
    {
        static const char t[] = "\0\0AKIAIOSFODNN7EXAMPLE\0";
        secrets_match m[MAXM];
        assert_int_equal(scan_exact(s, t, sizeof t - 1, m, MAXM), 1);
        assert_int_equal(m[0].offset, 2);
    }
    secrets_free(s);
}

static void test_mask_patterns(void **state)
{
    secrets *s = with_patterns();
    size_t n;
    char *m;

    (void)state;
    m = mask_exact(s, "key=AKIAIOSFODNN7EXAMPLE!", 25, &n);
    assert_string_equal(m, "key=[MASKED aws_access_key_id 20 sha256:1a5d44a2]!");
    free(m);
    secrets_free(s);
}

static void test_pattern_errors(void **state)
{
    secrets *s = secrets_new();
    secrets_match m[MAXM];
    char err[256], tiny[12];

    (void)state;
    assert_non_null(s);
    assert_int_equal(secrets_add_pattern(s, "bad", "AKIA[A-Z", err, sizeof err), -1);
    assert_string_equal(err, "pattern bad: missing terminating ] for character class at offset 8");
    assert_int_equal(secrets_add_pattern(s, "paren", "(abc", err, sizeof err), -1);
    assert_string_equal(err, "pattern paren: missing closing parenthesis at offset 4");
    assert_int_equal(secrets_add_pattern(s, "utf", "ab\xff", err, sizeof err), -1);
    assert_string_equal(err, "pattern utf: UTF-8 error: illegal byte (0xfe or 0xff) at offset 2");
    assert_int_equal(secrets_add_pattern(s, "bad name", "x", err, sizeof err), -1);
    assert_non_null(strstr(err, "pattern (invalid name): "));
    assert_int_equal(secrets_add_pattern(s, "tiny", "(", tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "pattern tin"); /* truncated, terminated */
    assert_int_equal(secrets_add_pattern(s, "nobuf", "(", NULL, 0), -1);
    assert_int_equal(secrets_add_pattern(NULL, "x", "x", err, sizeof err), -1);
    assert_int_equal(secrets_add_pattern(s, "x", NULL, err, sizeof err), -1);
    /* Nothing was added. */
    assert_int_equal(scan_str(s, "AKIA ( abc x", m, MAXM), 0);
    /* A pattern that can match empty reports only non-empty matches. */
    assert_int_equal(secrets_add_pattern(s, "digits", "[0-9]*", err, sizeof err), 0);
    assert_int_equal(scan_str(s, "ab12cd345", m, MAXM), 2);
    assert_int_equal(m[0].offset, 2);
    assert_int_equal(m[0].len, 2);
    assert_int_equal(m[1].offset, 6);
    assert_int_equal(m[1].len, 3);
    secrets_free(s);
}

/* Catastrophic backtracking on hostile text: the search fails with
 * PCRE2_ERROR_MATCHLIMIT. The scan reports what it found before; the mask
 * hides everything from where the failed search began. */
static void test_pattern_failure_masks_rest(void **state)
{
    secrets *s = secrets_new();
    secrets_match m[MAXM];
    char text[64], want[256], mk1[80], mk2[80];
    char err[256];
    size_t n;
    char *out;

    (void)state;
    assert_non_null(s);
    assert_int_equal(secrets_add_pattern(s, "redos", "x|(a|aa)+$", err, sizeof err), 0);
    memset(text, 'a', sizeof text);
    text[0] = 'x';
    text[sizeof text - 1] = 'b';
    assert_int_equal(scan_exact(s, text, sizeof text, m, MAXM), 1);
    assert_int_equal(m[0].offset, 0);
    assert_int_equal(m[0].len, 1);
    out = mask_exact(s, text, sizeof text, &n);
    marker(mk1, sizeof mk1, "redos", text, 1);
    marker(mk2, sizeof mk2, "redos", text + 1, sizeof text - 1);
    snprintf(want, sizeof want, "%s%s", mk1, mk2);
    assert_string_equal(out, want);
    free(out);
    secrets_free(s);
}

/* ---------------------------------------------------------------------------
 * Classifiers.
 */
static void test_name_classifier(void **state)
{
    static const struct {
        const char *name;
        bool secret;
    } cases[] = {
        {"PASSWORD", true},
        {"DB_PASSWORD", true},
        {"db_password", true},
        {"DBPASSWORD", true},
        {"dbPassword", true},
        {"MYSQL_PASSWD", true},
        {"DB_PASS", true},
        {"KEY_PASSPHRASE", true},
        {"PASSWORD2", true},
        {"ADMIN_PASSWORDS", true},
        {"SECRET", true},
        {"JWT_SECRET", true},
        {"CLIENT_SECRET", true},
        {"SECRET_KEY", true},
        {"SECRET_KEY_BASE", true},
        {"APP_SECRETS", true},
        {"GITHUB_TOKEN", true},
        {"githubToken", true},
        {"SLACK_BOT_TOKEN", true},
        {"AWS_SESSION_TOKEN", true},
        {"CSRFTOKEN", true},
        {"TOKEN_V2", true},
        {"TOKEN_2", true},
        {"TOKEN_OLD", true},
        {"API_KEY", true},
        {"STRIPE_API_KEY", true},
        {"OPENAI_APIKEY", true},
        {"apiKey", true},
        {"APIKey", true},
        {"x-api-key", true},
        {"PRIVATE_KEY", true},
        {"RSA_PRIVATE_KEY_PEM", true},
        {"SSH_PRIVATE_KEY_B64", true},
        {"AWS_SECRET_ACCESS_KEY", true},
        {"ACCESS_KEY", true},
        {"SIGNING_KEY", true},
        {"DATA_ENCRYPTION_KEY", true},
        {"CREDENTIALS", true},
        {"DB_CREDENTIAL", true},
        {"AUTH", true},
        {"BASIC_AUTH", true},
        {"REDIS_AUTH", true},
        {"AUTHORIZATION", true},
        {"SENTRY_DSN", true},
        {"DSN", true},
        {"CONNECTION_STRING", true},
        {"DB_CONNECTION_STRING", true},
        {"AZURE_CONNECTIONSTRING", true},
        {"OAuthToken", true},
        {"PASSWORD_PARAM", false},
        {"DB_PASSWORD_PARAMETER_NAME", false},
        {"dbPasswordParam", false},
        {"TOKEN_TTL", false},
        {"githubTokenTTL", false},
        {"TOKEN_EXPIRY_SECONDS", false},
        {"TOKEN_URL", false},
        {"SECRET_ARN", false},
        {"DB_SECRET_ARN", false},
        {"SECRET_NAME", false},
        {"SECRET_ID", false},
        {"SECRETS_MANAGER_ENDPOINT", false},
        {"PASSWORD_MIN_LENGTH", false},
        {"PRIVATE_KEY_PATH", false},
        {"PRIVATE_KEY_ID", false},
        {"AWS_ACCESS_KEY_ID", false},
        {"API_KEY_NAME", false},
        {"AUTH_URL", false},
        {"AUTH_TYPE", false},
        {"NEXTAUTH_URL", false},
        {"OAUTH", false},
        {"AUTHOR", false},
        {"BYPASS_CACHE", false},
        {"PASSWORDLESS", false},
        {"DSN_TIMEOUT", false},
        {"CONNECTION_STRING_NAME", false},
        {"TOKENIZER_MODEL", false},
        {"MAX_TOKENS", false},
        {"PUBLIC_KEY", false},
        {"KMS_KEY_ARN", false},
        {"S3_KEY", false},
        {"PARTITION_KEY", false},
        {"KEY", false},
        {"TOKEN_GITHUB", false}, /* documented limit: a leading keyword does not count */
        {"TABLE_NAME", false},
        {"LOG_LEVEL", false},
        {"AWS_REGION", false},
        {"HOME", false},
        {"_", false},
        {"", false},
    };
    char longname[300];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (secrets_name_is_secret(cases[i].name) != cases[i].secret)
            fail_msg("%s: want %s", cases[i].name, cases[i].secret ? "secret" : "not secret");
    assert_false(secrets_name_is_secret(NULL));
    memset(longname, 'A', sizeof longname);
    memcpy(longname + sizeof longname - 10, "_PASSWORD", 10);
    assert_false(secrets_name_is_secret(longname)); /* over 256 bytes */
    assert_true(secrets_name_is_secret(longname + sizeof longname - 200));
}

static void test_value_classifier(void **state)
{
    static const struct {
        const char *value;
        bool reference;
    } cases[] = {
        {"", true},
        {"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf", true},
        {"arn:aws:ssm:eu-west-1:123456789012:parameter/app/db/password", true},
        {"arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd", true},
        {"arn:aws:s3:::my-bucket", true},
        {"/app/prod/db/password", true},
        {"/myapp/api-key.v2_x", true},
        {"{{resolve:secretsmanager:MySecret:SecretString:password}}", true},
        {"{{resolve:ssm:/app/param:1}}", true},
        {"ssm:/app/db/password", true},
        {"secretsmanager:prod/db", true},
        {"hunter2-correct-horse", false},
        {"arn:not-really", false},
        {"arn:aws:s3:::bucket with space", false},
        {"/tmp/x y", false},
        {"/p@ss#word", false},
        {"{{resolve:ssm:/x", false},
        {"SSM:/app/db", false},
        {"AKIAIOSFODNN7EXAMPLE", false},
        {"postgres://u:p@h/db", false},
        {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", false},
        {" /app/db", false},
    };
    char longpath[2100];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (secrets_value_is_reference(cases[i].value) != cases[i].reference)
            fail_msg("\"%s\": want %s", cases[i].value, cases[i].reference ? "reference" : "not");
    assert_true(secrets_value_is_reference(NULL));
    memset(longpath, 'a', sizeof longpath);
    longpath[0] = '/';
    longpath[2048] = '\0';
    assert_true(secrets_value_is_reference(longpath));
    longpath[2048] = 'a';
    longpath[2049] = '\0';
    assert_false(secrets_value_is_reference(longpath));
}

/* ---------------------------------------------------------------------------
 * Threads: one handle, many concurrent scans and masks, same answers.
 */
#define NTHREADS 8
#define NROUNDS 200

typedef struct thread_arg {
    const secrets *s;
    const char *text;
    size_t len;
    const secrets_match *want;
    size_t nwant;
    const char *want_mask;
    bool ok;
} thread_arg;

static void *scan_thread(void *p)
{
    thread_arg *a = p;

    a->ok = true;
    for (int r = 0; r < NROUNDS && a->ok; r++) {
        secrets_match m[MAXM];
        size_t n = secrets_scan(a->s, a->text, a->len, m, MAXM), mlen;
        char *masked = secrets_mask(a->s, a->text, a->len, &mlen);
        a->ok = n == a->nwant && memcmp(m, a->want, n * sizeof *m) == 0 && masked &&
                strcmp(masked, a->want_mask) == 0;
        free(masked);
    }
    return NULL;
}

static void test_threads(void **state)
{
    const char *text = "a AKIAIOSFODNN7EXAMPLE b hunter2-correct-horse c "
                       "aHVudGVyMi1jb3JyZWN0LWhvcnNl d Bearer abcdef0123456789 e";
    secrets *s = with_patterns();
    secrets_match want[MAXM];
    pthread_t th[NTHREADS];
    thread_arg args[NTHREADS];
    size_t nwant, mlen;
    char *want_mask;

    (void)state;
    assert_int_equal(secrets_add_literal(s, "DB_PASSWORD", "hunter2-correct-horse", 21), 0);
    nwant = secrets_scan(s, text, strlen(text), want, MAXM);
    assert_int_equal(nwant, 4);
    want_mask = secrets_mask(s, text, strlen(text), &mlen);
    assert_non_null(want_mask);
    for (int i = 0; i < NTHREADS; i++) {
        args[i] = (thread_arg){s, text, strlen(text), want, nwant, want_mask, false};
        assert_int_equal(pthread_create(&th[i], NULL, scan_thread, &args[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_true(args[i].ok);
    }
    free(want_mask);
    secrets_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_base64_whole),
        cmocka_unit_test(test_base64_alignments),
        cmocka_unit_test(test_url_forms),
        cmocka_unit_test(test_json_forms),
        cmocka_unit_test(test_short_values_and_bad_args),
        cmocka_unit_test(test_overlaps_merged),
        cmocka_unit_test(test_order_and_max),
        cmocka_unit_test(test_mask_exact),
        cmocka_unit_test(test_mask_overlapping_secrets),
        cmocka_unit_test(test_mask_property),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_mask_patterns),
        cmocka_unit_test(test_pattern_errors),
        cmocka_unit_test(test_pattern_failure_masks_rest),
        cmocka_unit_test(test_name_classifier),
        cmocka_unit_test(test_value_classifier),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
