/*
 * lambda_client — the Lambda REST API (2015-03-31) over libcurl, signed with
 * our sigv4 module. It is what coldsec uses against AWS, SAM local,
 * LocalStack and coldsec-lab alike.
 *
 * Two ways in:
 *  - synchronous operations (lambda_get_configuration, lambda_invoke, ...)
 *    that retry throttling, update conflicts, 5xx and network errors with
 *    capped exponential backoff and full jitter, honouring Retry-After;
 *  - lambda_call, one prepared exchange the invocation engine drives on a
 *    curl multi handle: it signs afresh for every attempt, collects the
 *    response with a size cap, classifies the outcome and says whether and
 *    when to retry.
 *
 * Secrets: the client borrows the credentials; it never prints them, and
 * what it reports (lambda_error, the verbose trace) holds no header values.
 *
 * Ownership: lambda_client_new() copies the strings of its options except
 * cred, which must outlive the client. Results returned through out
 * parameters (cJSON trees, lambda_response fields) belong to the caller.
 */
#ifndef COLDSEC_LAMBDA_CLIENT_H
#define COLDSEC_LAMBDA_CLIENT_H

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sigv4.h"

/* Invoke payloads are at most 6 MB on Lambda; one more KB for the error
 * envelope Lambda puts around an oversize answer. */
#define LAMBDA_MAX_INVOKE_RESPONSE ((size_t)6 * 1024 * 1024 + 1024)
/* Control-plane answers (configurations, errors) are a few KB. */
#define LAMBDA_MAX_API_RESPONSE ((size_t)1024 * 1024)

#define LAMBDA_REQUEST_ID_MAX 64   /* bytes of x-amzn-RequestId kept, NUL included (AWS: a 36-byte UUID) */

typedef struct lambda_client lambda_client;

typedef struct lambda_client_options {
    const char *endpoint;          /* base URL, e.g. https://lambda.us-east-1.amazonaws.com */
    const char *region;
    const sigv4_credentials *cred; /* borrowed */
    const char *ca_bundle;         /* NULL: libcurl's default store */
    long connect_timeout_ms;       /* 0: 5000 */
    long api_timeout_ms;           /* whole exchange, control plane; 0: 30000 */
    long invoke_timeout_ms;        /* whole exchange, Invoke; 0: 905000 (Lambda's 900 s + margin) */
    int max_attempts;              /* 0: 8 */
    long backoff_base_ms;          /* 0: 100 */
    long backoff_cap_ms;           /* 0: 5000 */
    long retry_budget_ms;          /* total time one call may spend waiting to retry; 0: 120000 */
    FILE *trace;                   /* --verbose: one line per attempt and retry; NULL: quiet */
} lambda_client_options;

/* What went wrong, in words a user can act on. */
typedef struct lambda_error {
    char op[40];           /* "Invoke", "GetFunctionConfiguration", ... */
    char function[260];
    long http_status;      /* 0: no HTTP answer */
    char code[96];         /* AWS error code, or a curl/coldsec one */
    char message[512];
    char reason[96];       /* throttling Reason, when given */
    int attempts;
} lambda_error;

/* "GetFunctionConfiguration orders: HTTP 404 ResourceNotFoundException: Function not found: ..." */
void lambda_error_format(const lambda_error *e, char *out, size_t outlen);

lambda_client *lambda_client_new(const lambda_client_options *o, char *err, size_t errlen);
void lambda_client_free(lambda_client *c);
const char *lambda_client_endpoint(const lambda_client *c);
const char *lambda_client_region(const lambda_client *c);

/* ---------- one exchange, for the synchronous calls and the engine ---------- */

typedef enum {
    LAMBDA_INVOKE_REQUEST_RESPONSE = 0,
    LAMBDA_INVOKE_EVENT,
    LAMBDA_INVOKE_DRY_RUN
} lambda_invoke_type;

typedef struct lambda_invoke_request {
    const char *function;      /* name, name:alias, full or partial ARN */
    const char *qualifier;     /* NULL, a version, an alias or "$LATEST" */
    const unsigned char *payload;
    size_t payload_len;
    lambda_invoke_type type;
    bool log_tail;             /* X-Amz-Log-Type: Tail */
    const char *client_context; /* base64 JSON or NULL */
    size_t max_payload;        /* keep at most this much of the answer; 0: LAMBDA_MAX_INVOKE_RESPONSE */
} lambda_invoke_request;

typedef struct lambda_response {
    long status;               /* HTTP status; 0 when no answer */
    char *body;                /* NUL-terminated copy of the body (may hold NULs) */
    size_t body_len;
    size_t body_total;         /* bytes the server sent; > body_len when truncated */
    bool truncated;
    char *function_error;      /* X-Amz-Function-Error, or NULL */
    char *log_result;          /* X-Amz-Log-Result (base64), or NULL */
    char *executed_version;    /* X-Amz-Executed-Version, or NULL */
    /* x-amzn-RequestId: the invocation's request id, which its log lines
     * carry (requestId) when the function logs JSON; "" when absent or not
     * printable ASCII without spaces, shorter than the buffer. */
    char request_id[LAMBDA_REQUEST_ID_MAX];
    double total_ms;           /* the last attempt's exchange */
    double first_byte_ms;
    int attempts;
} lambda_response;

void lambda_response_clear(lambda_response *r);

typedef struct lambda_call lambda_call;

/* Prepares an Invoke; the payload is copied. NULL on allocation failure. */
lambda_call *lambda_call_invoke(lambda_client *c, const lambda_invoke_request *req);
/*
 * Makes the easy handle for the next attempt: signs with the current time.
 * The handle belongs to the call; add it to a multi handle, and after
 * curl_multi_remove_handle pass its result to lambda_call_done().
 */
CURL *lambda_call_attempt(lambda_call *call, char *err, size_t errlen);

typedef enum {
    LAMBDA_CALL_OK = 0,   /* an answer worth keeping (2xx) */
    LAMBDA_CALL_RETRY,    /* retryable; *retry_in_ms says when */
    LAMBDA_CALL_FAILED    /* final; lambda_call_error() says why */
} lambda_call_outcome;

/* A request to a function's HTTP trigger (a function URL or an API
 * Gateway URL) instead of the Invoke API: `transport: http`. */
typedef struct lambda_http_request {
    const char *url;           /* http(s)://host[:port]/path[?query] */
    const char *method;        /* NULL: "POST" */
    const char *content_type;  /* NULL: "application/json" */
    const unsigned char *body;
    size_t body_len;
    bool sign;                 /* AWS_IAM auth: SigV4 (service lambda) with the client's credentials */
    const char *function;      /* named in messages */
    size_t max_payload;        /* bytes of the answer kept; 0: LAMBDA_MAX_INVOKE_RESPONSE */
} lambda_http_request;

/*
 * Prepares an HTTP trigger request; the body is copied. Every HTTP answer is
 * an answer (an error page is what a caller sees) except 429, which is
 * retried like a throttled Invoke; a 5xx status also sets
 * resp.function_error to "HTTP NNN" (502 is how a function URL shows an
 * unhandled error). No log tail exists on this path. NULL when the URL is
 * not http(s) or on allocation failure.
 */
lambda_call *lambda_call_http(lambda_client *c, const lambda_http_request *req);

/* The easy handle of the current attempt (NULL before the first). */
CURL *lambda_call_handle(const lambda_call *call);
lambda_call_outcome lambda_call_done(lambda_call *call, CURLcode rc, long *retry_in_ms);
const lambda_error *lambda_call_error(const lambda_call *call);
/* Moves the response out of the call (the call keeps nothing). */
void lambda_call_take_response(lambda_call *call, lambda_response *out);
void lambda_call_free(lambda_call *call);

/* ---------- synchronous operations; 0 on success, -1 with *err filled ---------- */

int lambda_invoke(lambda_client *c, const lambda_invoke_request *req, lambda_response *out,
                  lambda_error *err);
int lambda_get_configuration(lambda_client *c, const char *function, const char *qualifier,
                             cJSON **out, lambda_error *err);
/* body: the UpdateFunctionConfiguration request (Environment, RevisionId, ...). */
int lambda_update_configuration(lambda_client *c, const char *function, const cJSON *body,
                                cJSON **out, lambda_error *err);
int lambda_get_function(lambda_client *c, const char *function, const char *qualifier,
                        cJSON **out, lambda_error *err);
int lambda_get_concurrency(lambda_client *c, const char *function, cJSON **out, lambda_error *err);

/* Percent-encodes everything but A-Z a-z 0-9 - _ . ~, as botocore does for
 * a path parameter. Returns bytes written, or -1 when out is too small. */
int lambda_encode_component(const char *in, char *out, size_t outlen);

#endif
