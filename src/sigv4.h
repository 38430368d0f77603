/*
 * sigv4 — AWS Signature Version 4, to sign (the coldsec client) and to
 * verify (coldsec-lab), on OpenSSL's libcrypto.
 *
 * Why our own: libcurl 7.88's CURLOPT_AWS_SIGV4 signs paths holding an ARN
 * differently from botocore (DESIGN.md, decision 2). The canonical path is
 * the path *as sent on the wire* (already percent-encoded by the sender),
 * normalised and percent-encoded once more, which is what AWS does for every
 * service but S3: `arn%3Aaws` is signed as `arn%253Aaws`.
 *
 * Ownership: nothing here allocates memory that outlives a call, except
 * sigv4_canonical_request(), whose result the caller frees with free().
 * All strings passed in are borrowed for the duration of the call. A
 * sigv4_key_cache is the caller's: it lives as long as the caller keeps it.
 */
#ifndef COLDSEC_SIGV4_H
#define COLDSEC_SIGV4_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Caps on untrusted input the verifier accepts. */
#define SIGV4_MAX_HEADERS 64
#define SIGV4_MAX_AUTH_LEN 2048

typedef enum {
    SIGV4_OK = 0,
    SIGV4_ERR_MISSING,      /* no Authorization header / no X-Amz-Date */
    SIGV4_ERR_MALFORMED,    /* header present but not parseable */
    SIGV4_ERR_UNKNOWN_KEY,  /* access key id not known to the verifier */
    SIGV4_ERR_EXPIRED,      /* X-Amz-Date more than 5 minutes from now */
    SIGV4_ERR_MISMATCH,     /* signature does not match */
    SIGV4_ERR_INTERNAL,     /* allocation or crypto failure */
    SIGV4_ERR_LAST
} sigv4_status;

typedef struct sigv4_header {
    const char *name;  /* any case; compared case-insensitively */
    const char *value;
} sigv4_header;

typedef struct sigv4_request {
    const char *method;          /* "GET", "POST", ... */
    const char *path;            /* wire path, e.g. "/2015-03-31/functions/arn%3Aaws%3A.../invocations" */
    const char *query;           /* wire query string without '?', or NULL */
    const sigv4_header *headers; /* every header of the request (duplicates allowed) */
    size_t nheaders;
    const unsigned char *body;   /* may be NULL when body_len is 0 */
    size_t body_len;
} sigv4_request;

typedef struct sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL for long-term keys */
} sigv4_credentials;

/*
 * Derived signing keys (kSigning) of the last few scopes, so that a signer
 * or a verifier pays one HMAC per request instead of five: the key depends
 * only on the secret, the date, the region and the service. Secrets longer
 * than SIGV4_KEY_CACHE_SECRET_MAX are never cached. The cache holds copies
 * of secrets and keys: sigv4_key_cache_destroy() wipes them. Threads may
 * share one cache (it has its own mutex).
 */
#define SIGV4_KEY_CACHE_SLOTS 4
#define SIGV4_KEY_CACHE_SECRET_MAX 128

typedef struct sigv4_key_cache_slot {
    bool used;
    size_t secret_len;
    char secret[SIGV4_KEY_CACHE_SECRET_MAX];
    char date8[9];
    char region[65];
    char service[65];
    unsigned char key[32];
} sigv4_key_cache_slot;

typedef struct sigv4_key_cache {
    pthread_mutex_t mu;
    unsigned next; /* slot to replace next */
    sigv4_key_cache_slot slot[SIGV4_KEY_CACHE_SLOTS];
} sigv4_key_cache;

void sigv4_key_cache_init(sigv4_key_cache *cache);
void sigv4_key_cache_destroy(sigv4_key_cache *cache);

/*
 * Builds the canonical request over the headers named in signed_headers
 * (a ';'-joined, lower-case, sorted list). Returns a malloc'd string the
 * caller frees, or NULL on allocation failure.
 */
char *sigv4_canonical_request(const sigv4_request *req, const char *signed_headers);

/*
 * Signs req. Every header in req->headers but Authorization (a retry may
 * still carry the old one) is signed; the caller must already
 * have put `host` and `x-amz-date` (value amz_date, "YYYYMMDDTHHMMSSZ") there,
 * and `x-amz-security-token` when cred->session_token is set.
 * Writes the Authorization header value into out (NUL-terminated).
 * Returns SIGV4_OK, or SIGV4_ERR_INTERNAL / SIGV4_ERR_MALFORMED (also when
 * the value would exceed SIGV4_MAX_AUTH_LEN, which verifiers refuse).
 */
sigv4_status sigv4_sign(const sigv4_request *req, const sigv4_credentials *cred,
                        const char *region, const char *service,
                        const char *amz_date, char *out, size_t outlen);
/* sigv4_sign() with a key cache (NULL: none). */
sigv4_status sigv4_sign_cached(const sigv4_request *req, const sigv4_credentials *cred,
                               const char *region, const char *service,
                               const char *amz_date, char *out, size_t outlen,
                               sigv4_key_cache *cache);

/* UTC civil time to time_t, with the calendar checked (leap years; second
 * 60 allowed for a leap second): false for an impossible date or one
 * time_t cannot hold. Shared with credential expiry parsing (awsconf). */
bool sigv4_civil_time(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s, time_t *out);

/* Formats t as "YYYYMMDDTHHMMSSZ" (UTC) into out (at least 17 bytes). */
void sigv4_amz_date(time_t t, char *out, size_t outlen);

/* Looks up the secret for an access key id; NULL when unknown. */
typedef const char *(*sigv4_secret_lookup)(void *ctx, const char *access_key_id);

/*
 * Verifies req's Authorization header (found among req->headers) against the
 * secret that lookup returns. `now` is the verifier's clock; more than 5
 * minutes of skew gives SIGV4_ERR_EXPIRED. expected_service is checked
 * against the credential scope, and so is expected_region unless it is NULL
 * (a scope for another region is SIGV4_ERR_MISMATCH, as AWS answers it with
 * InvalidSignatureException). On failure a one-line reason in AWS's words
 * (for the error body) goes to detail, e.g.
 * "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z (20240101T001000Z - 5 min.)".
 * access_key_id_out (may be NULL) receives the key id that was presented.
 */
sigv4_status sigv4_verify(const sigv4_request *req, time_t now,
                          const char *expected_service, const char *expected_region,
                          sigv4_secret_lookup lookup, void *ctx,
                          char *detail, size_t detail_len,
                          char *access_key_id_out, size_t akid_len);
/* sigv4_verify() with a key cache (NULL: none). */
sigv4_status sigv4_verify_cached(const sigv4_request *req, time_t now,
                                 const char *expected_service, const char *expected_region,
                                 sigv4_secret_lookup lookup, void *ctx,
                                 char *detail, size_t detail_len,
                                 char *access_key_id_out, size_t akid_len,
                                 sigv4_key_cache *cache);

/* Short stable name of a status, for logs and tests. */
const char *sigv4_status_name(sigv4_status s);

#endif
