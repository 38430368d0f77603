/*
 * lab_request — the parsing and validation half of the lab's request
 * handling, as pure functions: no libmicrohttpd, no pool, no I/O. lab_api
 * (the Lambda REST API and function URLs) and lab_runtime_api (the Runtime
 * API) read a request off the connection, hand its pieces to these
 * functions, and act on what they return; the fuzz targets
 * (tests/fuzz/fuzz_lab_invoke.c, fuzz_lab_runtime.c, fuzz_lab_url.c) and
 * tests/unit/test_lab_request.c call them directly.
 *
 * Three groups:
 *   - routes and Invoke: the /2015-03-31, /2017-10-31 and /2019-09-30
 *     paths, FunctionName in all its forms, the Qualifier, the invocation
 *     headers and payload, and a control-plane JSON body;
 *   - the Runtime API's routes (2018-06-01);
 *   - function URLs: an HTTP request into the payload format 2.0 event, and
 *     a function's answer into an HTTP response.
 *
 * Refusals come back as a lab_request_error: the HTTP status, the AWS error
 * type (a static string) and the message, exactly what the handlers answer.
 *
 * Ownership: strings passed in are borrowed for the call. Strings and
 * structures handed back are the caller's: char * results are malloc'd and
 * freed with free(); a lab_request_url_reply is freed with
 * lab_request_url_reply_clear(); a cJSON * with cJSON_Delete().
 */
#ifndef COLDSEC_LAB_REQUEST_H
#define COLDSEC_LAB_REQUEST_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* FunctionName and qualifier, decoded, at most this many bytes. */
#define LAB_REQUEST_MAX_NAME 256
/* X-Amz-Client-Context: base64, at most this many bytes. */
#define LAB_REQUEST_MAX_CLIENT_CONTEXT 3583
/* The Invoke payload limits (synchronous; Event). */
#define LAB_REQUEST_MAX_SYNC_PAYLOAD 6291456
#define LAB_REQUEST_MAX_EVENT_PAYLOAD 1048576
/* A control-plane (configuration, concurrency) body. */
#define LAB_REQUEST_MAX_CONFIG_BODY ((size_t)64 * 1024)
/* A request id in a Runtime API path. */
#define LAB_REQUEST_MAX_REQUEST_ID 64
/* 6 MB + the 100 bytes Lambda allows for the response envelope. */
#define LAB_REQUEST_MAX_RUNTIME_BODY 6291556
/* Function URL ids: 32 lower-case letters and digits. */
#define LAB_REQUEST_URL_ID_LEN 32

typedef struct lab_request_error {
    int status;       /* HTTP status */
    const char *code; /* x-amzn-ErrorType, a static string */
    char message[LAB_REQUEST_MAX_NAME * 2 + 128];
} lab_request_error;

/* ---------- routes and Invoke ---------- */

typedef enum lab_request_op {
    LAB_REQUEST_OP_ERROR = 0, /* refused: see the route's err */
    LAB_REQUEST_OP_LIST_FUNCTIONS,
    LAB_REQUEST_OP_INVOKE,
    LAB_REQUEST_OP_GET_CONFIGURATION,
    LAB_REQUEST_OP_UPDATE_CONFIGURATION,
    LAB_REQUEST_OP_GET_FUNCTION,
    LAB_REQUEST_OP_GET_CONCURRENCY,
    LAB_REQUEST_OP_PUT_CONCURRENCY,
    LAB_REQUEST_OP_DELETE_CONCURRENCY,
    LAB_REQUEST_OP_PUBLISH_VERSION,   /* POST   /2015-03-31/functions/N/versions */
    LAB_REQUEST_OP_LIST_VERSIONS,     /* GET    /2015-03-31/functions/N/versions */
    LAB_REQUEST_OP_CREATE_ALIAS,      /* POST   /2015-03-31/functions/N/aliases */
    LAB_REQUEST_OP_LIST_ALIASES,      /* GET    /2015-03-31/functions/N/aliases */
    LAB_REQUEST_OP_GET_ALIAS,         /* GET    /2015-03-31/functions/N/aliases/A */
    LAB_REQUEST_OP_UPDATE_ALIAS,      /* PUT    /2015-03-31/functions/N/aliases/A */
    LAB_REQUEST_OP_DELETE_ALIAS,      /* DELETE /2015-03-31/functions/N/aliases/A */
    LAB_REQUEST_OP_GET_URL_CONFIG,    /* GET    /2021-10-31/functions/N/url */
    LAB_REQUEST_OP_GET_ACCOUNT_SETTINGS /* GET  /2016-08-19/account-settings/ */
} lab_request_op;

typedef struct lab_request_route {
    lab_request_op op;
    char name[LAB_REQUEST_MAX_NAME + 1];      /* plain function name */
    /* "" when none; a version or alias only for Invoke, GetFunction,
     * GetFunctionConfiguration and GetFunctionUrlConfig (the pool resolves
     * it), else "" or "$LATEST" once routed */
    char qualifier[LAB_REQUEST_MAX_NAME + 1];
    char alias[LAB_REQUEST_MAX_NAME + 1];     /* the alias ops' Name, decoded */
    lab_request_error err;                    /* when op is LAB_REQUEST_OP_ERROR */
} lab_request_route;

/* Percent-decodes src[0..len) into out (NUL-terminated); -1 on a bad escape,
 * a NUL byte or overflow. */
int lab_request_pct_decode(const char *src, size_t len, char *out, size_t outlen);

/*
 * FunctionName in any of Lambda's forms: name, name:qualifier,
 * ACCOUNT:function:name[:q], arn:aws:lambda:REGION:ACCOUNT:function:name[:q],
 * percent-encoded. Writes the plain name and the qualifier ("" when none);
 * -1 when raw is not one of those for this region and account.
 */
int lab_request_function_name(const char *region, const char *account, const char *raw,
                              size_t rawlen, char *name, size_t namelen, char *qual,
                              size_t quallen);

/*
 * Routes a signed Lambda API request: method, path as sent (no query), the
 * Qualifier query argument as sent (or NULL). Fills out->op and the name,
 * or out->err with the answer the lab gives.
 */
void lab_request_route_api(const char *method, const char *path, const char *qualifier_arg,
                           const char *region, const char *account, lab_request_route *out);

/* ResourceNotFoundException (404) for name[:qualifier]; qualifier may be NULL. */
void lab_request_not_found(const char *region, const char *account, const char *name,
                           const char *qualifier, lab_request_error *err);

typedef enum lab_request_invocation_type {
    LAB_REQUEST_INVOKE_SYNC = 0, /* RequestResponse */
    LAB_REQUEST_INVOKE_EVENT,
    LAB_REQUEST_INVOKE_DRY_RUN
} lab_request_invocation_type;

/* X-Amz-Invocation-Type and X-Amz-Log-Type (either may be NULL): 0, or -1
 * with err filled. */
int lab_request_invoke_headers(const char *type, const char *log_type,
                               lab_request_invocation_type *out_type, bool *out_tail,
                               lab_request_error *err);

/*
 * The Invoke payload (body[0..len), already "{}" when it was empty;
 * too_large when it was dropped past the limit) and X-Amz-Client-Context
 * (base64, or NULL). 0 with *context the decoded client context (malloc'd,
 * NULL when none was sent), or -1 with err filled and *context NULL.
 */
int lab_request_invoke_body(lab_request_invocation_type type, const char *body, size_t len,
                            bool too_large, const char *client_context, char **context,
                            lab_request_error *err);

/* X-Amz-Client-Context: base64 of at most 3583 bytes; 0 with *out decoded
 * (malloc'd, NUL-terminated), or -1 with *out NULL. */
int lab_request_client_context(const char *b64, char **out);

/* A control-plane body: a JSON object (an empty body is {}); NULL with err
 * filled when too large or not an object. */
cJSON *lab_request_config_body(const char *body, size_t len, bool too_large,
                               lab_request_error *err);

/* ---------- Runtime API ---------- */

typedef enum lab_request_rt_kind {
    LAB_REQUEST_RT_REFUSED = 0, /* answer status (400, 404, 405) */
    LAB_REQUEST_RT_NEXT,
    LAB_REQUEST_RT_RESPONSE,
    LAB_REQUEST_RT_ERROR,
    LAB_REQUEST_RT_INIT_ERROR
} lab_request_rt_kind;

typedef struct lab_request_rt {
    lab_request_rt_kind kind;
    int status; /* when refused */
    char request_id[LAB_REQUEST_MAX_REQUEST_ID + 1];
} lab_request_rt;

/* The route below /2018-06-01/runtime/ in a (decoded) request path, or NULL
 * when the path is not the Runtime API's (answered 404 at once). */
const char *lab_request_rt_path(const char *url);

/* method and the route lab_request_rt_path() returned. */
void lab_request_rt_parse(const char *method, const char *path, lab_request_rt *out);

/* ---------- function URLs ---------- */

typedef struct lab_request_header {
    const char *name;
    const char *value;
} lab_request_header;

/* An HTTP request to /lambda-url/NAME..., every field borrowed. */
typedef struct lab_request_url_in {
    const char *method;
    const char *path;  /* rawPath: as sent, "/" when empty */
    const char *query; /* rawQueryString: as sent, "" when none */
    const lab_request_header *headers; /* in the order received, repeats included */
    size_t nheaders;
    const char *body; /* len bytes, NUL-terminated at len (or NULL when len is 0) */
    size_t body_len;
    const char *url_id; /* LAB_REQUEST_URL_ID_LEN characters */
    const char *region;
    const char *source_ip;  /* "" when unknown */
    int port;               /* the lab's, for X-Forwarded-Port */
    const char *request_id; /* requestContext.requestId */
    const char *trace_id;   /* X-Amzn-Trace-Id when the client sent none */
    long long now_ms;       /* epoch milliseconds */
} lab_request_url_in;

/* The function URL event (payload format 2.0) as JSON text (malloc'd);
 * NULL when out of memory. */
char *lab_request_url_event(const lab_request_url_in *in);

/* Whether a Content-Type is one whose body reaches the function as text. */
bool lab_request_text_media_type(const char *content_type);

/* A function's answer mapped to HTTP; headers[i] = names[i]: values[i],
 * Set-Cookie ones included, all malloc'd. */
typedef struct lab_request_url_reply {
    unsigned int status;
    char **names;
    char **values;
    size_t nheaders;
    char *body;
    size_t body_len;
} lab_request_url_reply;

/*
 * An object with statusCode is a response (statusCode, headers, cookies,
 * body, isBase64Encoded); anything else is 200 application/json with the
 * answer as body, a string's text unquoted. -1 (out cleared) when the
 * answer cannot be mapped: AWS answers 502 then.
 */
int lab_request_url_result(const char *payload, size_t len, lab_request_url_reply *out);
void lab_request_url_reply_clear(lab_request_url_reply *r);

/* Standard base64 with padding, nothing else; -1 when s is not that.
 * *out is malloc'd (NUL-terminated). */
int lab_request_b64_decode(const char *s, size_t len, char **out, size_t *outlen);
/* base64 of s[0..len), malloc'd; NULL when too large or out of memory. */
char *lab_request_b64_encode(const char *s, size_t len);

#endif
