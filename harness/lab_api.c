/*
 * lab_api — the Lambda REST API (see lab_api.h).
 *
 * libmicrohttpd is told not to unescape URLs: SigV4 signs the path and query
 * exactly as sent, and function names arrive percent-encoded (ARNs).
 */
#include "lab_api.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lab_id.h"
#include "sigv4.h"

#define MAX_QUERY 2048
#define MAX_NAME 256
#define MAX_CLIENT_CONTEXT 3583
#define MAX_CONFIG_BODY ((size_t)64 * 1024)

/* Function URLs: /lambda-url/NAME[/path][?query]. */
#define URL_PREFIX "/lambda-url"
#define URL_ID_LEN 32            /* AWS's url-ids: 32 lower-case letters and digits */
#define URL_MAX_HEADER_NAME 256  /* longer names are dropped from the event */
#define URL_MAX_MEDIA_TYPE 127   /* of a Content-Type, for the text-or-binary choice */

typedef struct url_fn {
    char *name;
    char id[URL_ID_LEN + 1];
} url_fn;

struct lab_api {
    struct MHD_Daemon *daemon;
    lab_pool *pool;
    lab_credential *creds;
    size_t ncreds;
    url_fn *urls;  /* the functions with `function_url: true`, copied at start */
    size_t nurls;
    int port;
};

/*
 * Per connection: the target of the request being read, from MHD's URI
 * callback until handle() takes it. It lives here and not in the request
 * because MHD reports a request it refuses before handle() to nobody, so
 * anything allocated for it must be freed with the connection or the next
 * request.
 */
typedef struct conn_state {
    char *uri;
} conn_state;

typedef struct request {
    char *uri;     /* the request target as sent, query string included */
    char *body;
    size_t len;
    size_t cap;
    bool too_large;
} request;

typedef struct header_set {
    sigv4_header h[SIGV4_MAX_HEADERS];
    size_t n;
    bool overflow;
} header_set;

/* ---------- answers ---------- */

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned int status, char *body,
                                 size_t len, const char *error_code, const char *request_id)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    char rid[40];
    enum MHD_Result ret;

    if (!r) {
        free(body);
        return MHD_NO;
    }
    if (!request_id) {
        lab_id_uuid(rid);
        request_id = rid;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "x-amzn-RequestId", request_id);
    if (error_code)
        MHD_add_response_header(r, "x-amzn-ErrorType", error_code);
    if (status == 429)
        MHD_add_response_header(r, "Retry-After", "1");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned int status, cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;

    cJSON_Delete(o);
    if (!s)
        return MHD_NO;
    return send_body(c, status, s, strlen(s), NULL, NULL);
}

/* Lambda's error body: {"Type":"User","message":...} (+ Reason for throttles). */
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned int status,
                                  const char *code, const char *message, const char *reason)
{
    cJSON *o = cJSON_CreateObject();
    char *s;

    if (reason)
        cJSON_AddStringToObject(o, "Reason", reason);
    cJSON_AddStringToObject(o, "Type", status >= 500 ? "Service" : "User");
    /* AWS spells it "Message" on some errors and "message" on others;
     * ResourceNotFoundException uses the capital. */
    cJSON_AddStringToObject(o, strcmp(code, "ResourceNotFoundException") == 0 ? "Message" : "message",
                            message);
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return MHD_NO;
    return send_body(c, status, s, strlen(s), code, NULL);
}

static enum MHD_Result send_empty(struct MHD_Connection *c, unsigned int status, const char *rid)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    if (!r)
        return MHD_NO;
    if (rid)
        MHD_add_response_header(r, "x-amzn-RequestId", rid);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_not_found(struct MHD_Connection *c, lab_pool *pool,
                                      const char *name, const char *qualifier)
{
    char msg[MAX_NAME * 2 + 128];

    snprintf(msg, sizeof(msg), "Function not found: arn:aws:lambda:%s:%s:function:%s%s%s",
             lab_pool_region(pool), lab_pool_account(pool), name, qualifier ? ":" : "",
             qualifier ? qualifier : "");
    return send_error(c, 404, "ResourceNotFoundException", msg, NULL);
}

static enum MHD_Result send_status(struct MHD_Connection *c, lab_pool *pool,
                                   lab_pool_status st, const char *name, const char *msg)
{
    switch (st) {
    case LAB_POOL_NOT_FOUND:
        return send_not_found(c, pool, name, NULL);
    case LAB_POOL_THROTTLED_RESERVED:
        return send_error(c, 429, "TooManyRequestsException", "Rate Exceeded.",
                          "ReservedFunctionConcurrentInvocationLimitExceeded");
    case LAB_POOL_THROTTLED_ACCOUNT:
        return send_error(c, 429, "TooManyRequestsException", "Rate Exceeded.",
                          "ConcurrentInvocationLimitExceeded");
    case LAB_POOL_CONFLICT:
        return send_error(c, 409, "ResourceConflictException", msg, NULL);
    case LAB_POOL_PRECONDITION:
        return send_error(c, 412, "PreconditionFailedException", msg, NULL);
    case LAB_POOL_INVALID:
        return send_error(c, 400, "InvalidParameterValueException", msg, NULL);
    default:
        return send_error(c, 500, "ServiceException", "The lab could not complete the request.", NULL);
    }
}

/* ---------- request parsing ---------- */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes src[0..len) into out; -1 on bad escapes or overflow. */
static int pct_decode(const char *src, size_t len, char *out, size_t outlen)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        char ch = src[i];
        if (ch == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return -1;
            hi = hexval((unsigned char)src[i + 1]);
            lo = hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (ch == '\0' || o + 1 >= outlen)
            return -1;
        out[o++] = ch;
    }
    out[o] = '\0';
    return 0;
}

/*
 * FunctionName in any of Lambda's forms: name, name:qualifier,
 * ACCOUNT:function:name[:q], arn:aws:lambda:REGION:ACCOUNT:function:name[:q].
 * Writes the plain name and the qualifier ("" when none).
 */
static int parse_function_name(lab_pool *pool, const char *raw, size_t rawlen,
                               char *name, size_t namelen, char *qual, size_t quallen)
{
    char dec[MAX_NAME + 1];
    char *parts[8];
    int n = 0;
    char *s, *save = NULL;
    const char *fname, *q = "";

    if (rawlen == 0 || pct_decode(raw, rawlen, dec, sizeof(dec)) != 0)
        return -1;
    for (s = strtok_r(dec, ":", &save); s && n < 8; s = strtok_r(NULL, ":", &save))
        parts[n++] = s;
    if (n == 0)
        return -1;
    if (strcmp(parts[0], "arn") == 0) {
        if (n < 7 || strcmp(parts[1], "aws") != 0 || strcmp(parts[2], "lambda") != 0 ||
            strcmp(parts[3], lab_pool_region(pool)) != 0 ||
            strcmp(parts[4], lab_pool_account(pool)) != 0 || strcmp(parts[5], "function") != 0 || n > 8)
            return -1;
        fname = parts[6];
        if (n == 8)
            q = parts[7];
    } else if (n >= 3 && strcmp(parts[1], "function") == 0) {
        if (strcmp(parts[0], lab_pool_account(pool)) != 0 || n > 4)
            return -1;
        fname = parts[2];
        if (n == 4)
            q = parts[3];
    } else {
        if (n > 2)
            return -1;
        fname = parts[0];
        if (n == 2)
            q = parts[1];
    }
    if (strlen(fname) >= namelen || strlen(q) >= quallen)
        return -1;
    snprintf(name, namelen, "%s", fname);
    snprintf(qual, quallen, "%s", q);
    return 0;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    header_set *hs = cls;

    (void)kind;
    if (hs->n >= SIGV4_MAX_HEADERS) {
        hs->overflow = true;
        return MHD_NO;
    }
    hs->h[hs->n].name = key;
    hs->h[hs->n].value = value ? value : "";
    hs->n++;
    return MHD_YES;
}

typedef struct query_buf {
    char s[MAX_QUERY];
    size_t len;
    bool overflow;
} query_buf;

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    query_buf *q = cls;
    int n;

    (void)kind;
    n = snprintf(q->s + q->len, sizeof(q->s) - q->len, "%s%s=%s", q->len ? "&" : "", key,
                 value ? value : "");
    if (n < 0 || (size_t)n >= sizeof(q->s) - q->len) {
        q->overflow = true;
        return MHD_NO;
    }
    q->len += (size_t)n;
    return MHD_YES;
}

static const char *secret_for(void *ctx, const char *akid)
{
    lab_api *api = ctx;

    for (size_t i = 0; i < api->ncreds; i++)
        if (strcmp(api->creds[i].access_key_id, akid) == 0)
            return api->creds[i].secret_access_key;
    return NULL;
}

/* Checks the signature; on refusal queues the 403 and returns false. */
static bool authorised(lab_api *api, struct MHD_Connection *c, const char *method,
                       const char *url, const request *rq, enum MHD_Result *ret)
{
    header_set hs = {.n = 0, .overflow = false};
    query_buf q = {.len = 0, .overflow = false};
    sigv4_request sr;
    char detail[512] = "", akid[128] = "";
    sigv4_status st;

    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hs);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, &q);
    if (hs.overflow || q.overflow) {
        *ret = send_error(c, 400, "InvalidParameterValueException", "Too many headers or query parameters.", NULL);
        return false;
    }
    sr.method = method;
    sr.path = url;
    sr.query = q.len ? q.s : NULL;
    sr.headers = hs.h;
    sr.nheaders = hs.n;
    sr.body = (const unsigned char *)rq->body;
    sr.body_len = rq->len;
    st = sigv4_verify(&sr, time(NULL), "lambda", lab_pool_region(api->pool), secret_for, api, detail, sizeof(detail),
                      akid, sizeof(akid));
    switch (st) {
    case SIGV4_OK:
        return true;
    case SIGV4_ERR_UNKNOWN_KEY:
        *ret = send_error(c, 403, "UnrecognizedClientException",
                          "The security token included in the request is invalid.", NULL);
        return false;
    case SIGV4_ERR_MISSING:
        *ret = send_error(c, 403, "MissingAuthenticationTokenException", "Missing Authentication Token", NULL);
        return false;
    case SIGV4_ERR_MALFORMED:
        *ret = send_error(c, 403, "IncompleteSignatureException",
                          detail[0] ? detail : "Authorization header is malformed.", NULL);
        return false;
    case SIGV4_ERR_EXPIRED:
    case SIGV4_ERR_MISMATCH:
        *ret = send_error(c, 403, "InvalidSignatureException", detail, NULL);
        return false;
    default:
        *ret = send_error(c, 500, "ServiceException", "Signature check failed.", NULL);
        return false;
    }
}

/* ---------- operations ---------- */

static bool valid_json(const char *s, size_t len, size_t *error_at)
{
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    bool ok = o != NULL;

    /* cJSON stops at the end of the first value: trailing garbage is an error */
    if (ok) {
        const char *p = end;
        while (p < s + len && isspace((unsigned char)*p))
            p++;
        if (p != s + len) {
            ok = false;
            end = p;
        }
    }
    cJSON_Delete(o);
    *error_at = end ? (size_t)(end - s) : 0;
    return ok;
}

/* X-Amz-Client-Context is base64 JSON; the runtime gets it decoded. */
static int decode_client_context(const char *b64, char **out)
{
    size_t len = strlen(b64);
    unsigned char *buf;
    int n;

    *out = NULL;
    if (len > MAX_CLIENT_CONTEXT || len % 4 != 0)
        return -1;
    buf = malloc(len / 4 * 3 + 1);
    if (!buf)
        return -1;
    n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len);
    if (n < 0) {
        free(buf);
        return -1;
    }
    while (len > 0 && b64[len - 1] == '=') {
        n--;
        len--;
    }
    buf[n] = '\0';
    *out = (char *)buf;
    return 0;
}

static enum MHD_Result op_invoke(lab_api *api, struct MHD_Connection *c, const char *name,
                                 const request *rq)
{
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Invocation-Type");
    const char *logtype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Log-Type");
    const char *cc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Client-Context");
    const char *payload = rq->len ? rq->body : "{}";
    size_t len = rq->len ? rq->len : 2;
    char *context = NULL;
    lab_invoke_result res;
    lab_pool_status st;
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t error_at;
    bool tail;

    if (!type)
        type = "RequestResponse";
    if (strcmp(type, "RequestResponse") != 0 && strcmp(type, "Event") != 0 &&
        strcmp(type, "DryRun") != 0)
        return send_error(c, 400, "InvalidParameterValueException",
                          "1 validation error detected: Value at 'invocationType' failed to satisfy "
                          "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
                          NULL);
    if (logtype && strcmp(logtype, "Tail") != 0 && strcmp(logtype, "None") != 0)
        return send_error(c, 400, "InvalidParameterValueException",
                          "1 validation error detected: Value at 'logType' failed to satisfy "
                          "constraint: Member must satisfy enum value set: [None, Tail]", NULL);
    tail = logtype && strcmp(logtype, "Tail") == 0;
    if (!lab_pool_has_function(api->pool, name))
        return send_not_found(c, api->pool, name, NULL);
    if (rq->too_large)
        return send_error(c, 413, "RequestEntityTooLargeException",
                          "Request must be smaller than 6291456 bytes for the InvokeFunction operation", NULL);
    if (strcmp(type, "Event") == 0 && rq->len > 1048576)
        return send_error(c, 413, "RequestEntityTooLargeException",
                          "Request must be smaller than 1048576 bytes for the InvokeFunction operation", NULL);
    if (!valid_json(payload, len, &error_at)) {
        char msg[160];
        snprintf(msg, sizeof(msg), "Could not parse request body into json: Could not parse payload into json: "
                                   "invalid JSON at byte %zu", error_at);
        return send_error(c, 400, "InvalidRequestContentException", msg, NULL);
    }
    if (cc && decode_client_context(cc, &context) != 0)
        return send_error(c, 400, "InvalidParameterValueException",
                          "Client context must be a valid Base64-encoded JSON object of at most 3583 bytes.",
                          NULL);
    if (strcmp(type, "DryRun") == 0) {
        free(context);
        return send_empty(c, 204, NULL);
    }
    if (strcmp(type, "Event") == 0) {
        free(context);
        st = lab_pool_invoke_async(api->pool, name, payload, len);
        if (st != LAB_POOL_OK)
            return send_status(c, api->pool, st, name, "");
        return send_empty(c, 202, NULL);
    }
    st = lab_pool_invoke(api->pool, name, payload, len, context, &res);
    free(context);
    if (st != LAB_POOL_OK)
        return send_status(c, api->pool, st, name, "");
    r = MHD_create_response_from_buffer(res.payload_len, res.payload, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        lab_pool_result_clear(&res);
        return MHD_NO;
    }
    res.payload = NULL;
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "x-amzn-RequestId", res.request_id);
    MHD_add_response_header(r, "X-Amz-Executed-Version", "$LATEST");
    if (res.function_error)
        MHD_add_response_header(r, "X-Amz-Function-Error", "Unhandled");
    if (tail && res.log_tail_b64)
        MHD_add_response_header(r, "X-Amz-Log-Result", res.log_tail_b64);
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    lab_pool_result_clear(&res);
    return ret;
}

static cJSON *parse_body(const request *rq, struct MHD_Connection *c, enum MHD_Result *ret)
{
    cJSON *o;

    if (rq->too_large || rq->len > MAX_CONFIG_BODY) {
        *ret = send_error(c, 413, "RequestEntityTooLargeException", "Request body too large.", NULL);
        return NULL;
    }
    o = rq->len ? cJSON_ParseWithLength(rq->body, rq->len) : cJSON_CreateObject();
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        *ret = send_error(c, 400, "InvalidRequestContentException",
                          "Could not parse request body into json: expected a JSON object", NULL);
        return NULL;
    }
    return o;
}

static enum MHD_Result op_concurrency(lab_api *api, struct MHD_Connection *c, const char *method,
                                      const char *name, const request *rq)
{
    enum MHD_Result ret = MHD_NO;
    lab_pool_status st;
    cJSON *body, *out;
    int n = -1;

    if (strcmp(method, "GET") == 0) {
        st = lab_pool_get_concurrency(api->pool, name, &n);
        if (st != LAB_POOL_OK)
            return send_status(c, api->pool, st, name, "");
        out = cJSON_CreateObject();
        if (n >= 0)
            cJSON_AddNumberToObject(out, "ReservedConcurrentExecutions", n);
        return send_json(c, 200, out);
    }
    if (strcmp(method, "DELETE") == 0) {
        st = lab_pool_set_concurrency(api->pool, name, -1);
        return st == LAB_POOL_OK ? send_empty(c, 204, NULL) : send_status(c, api->pool, st, name, "");
    }
    body = parse_body(rq, c, &ret);
    if (!body)
        return ret;
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "ReservedConcurrentExecutions");
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e6 ||
            v->valuedouble != (double)(int)v->valuedouble) {
            cJSON_Delete(body);
            return send_error(c, 400, "InvalidParameterValueException",
                              "ReservedConcurrentExecutions must be a whole number, 0 or more.", NULL);
        }
        n = (int)v->valuedouble;
    }
    cJSON_Delete(body);
    st = lab_pool_set_concurrency(api->pool, name, n);
    if (st != LAB_POOL_OK)
        return send_status(c, api->pool, st, name,
                           "Specified ReservedConcurrentExecutions for function decreases account's "
                           "UnreservedConcurrentExecution below its minimum value.");
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "ReservedConcurrentExecutions", n);
    return send_json(c, 200, out);
}

static enum MHD_Result route(lab_api *api, struct MHD_Connection *c, const char *method,
                             const char *url, const request *rq)
{
    static const char fn2015[] = "/2015-03-31/functions";
    static const char conc2017[] = "/2017-10-31/functions/";
    static const char conc2019[] = "/2019-09-30/functions/";
    char name[MAX_NAME + 1], qual[MAX_NAME + 1];
    const char *qarg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "Qualifier");
    const char *seg, *rest;
    size_t seglen;
    enum MHD_Result ret = MHD_NO;
    lab_pool_status st;
    cJSON *o;

    if ((strcmp(url, fn2015) == 0 || strcmp(url, "/2015-03-31/functions/") == 0) &&
        strcmp(method, "GET") == 0)
        return send_json(c, 200, lab_pool_list_functions(api->pool));

    if (strncmp(url, "/2015-03-31/functions/", 22) == 0)
        seg = url + 22;
    else if (strncmp(url, conc2017, sizeof(conc2017) - 1) == 0)
        seg = url + sizeof(conc2017) - 1;
    else if (strncmp(url, conc2019, sizeof(conc2019) - 1) == 0)
        seg = url + sizeof(conc2019) - 1;
    else
        return send_error(c, 404, "UnknownOperationException", "Unknown operation", NULL);
    rest = strchr(seg, '/');
    seglen = rest ? (size_t)(rest - seg) : strlen(seg);
    if (!rest)
        rest = "";
    if (parse_function_name(api->pool, seg, seglen, name, sizeof(name), qual, sizeof(qual)) != 0)
        return send_error(c, 404, "ResourceNotFoundException",
                          "Function not found: the function name is not valid for this account and region", NULL);
    if (qarg && !qual[0]) {
        char dq[MAX_NAME + 1];
        if (pct_decode(qarg, strlen(qarg), dq, sizeof(dq)) != 0)
            return send_error(c, 400, "InvalidParameterValueException", "Invalid Qualifier.", NULL);
        snprintf(qual, sizeof(qual), "%s", dq);
    }
    if (qual[0] && strcmp(qual, "$LATEST") != 0)
        return send_not_found(c, api->pool, name, qual);

    if (strncmp(url, "/2015-03-31/", 12) == 0) {
        if (strcmp(rest, "/invocations") == 0 && strcmp(method, "POST") == 0)
            return op_invoke(api, c, name, rq);
        if (strcmp(rest, "/configuration") == 0 && strcmp(method, "GET") == 0) {
            o = lab_pool_get_configuration(api->pool, name, &st);
            return st == LAB_POOL_OK ? send_json(c, 200, o) : send_status(c, api->pool, st, name, "");
        }
        if (strcmp(rest, "/configuration") == 0 && strcmp(method, "PUT") == 0) {
            char msg[768] = "";
            cJSON *body = parse_body(rq, c, &ret);
            if (!body)
                return ret;
            o = lab_pool_update_configuration(api->pool, name, body, &st, msg, sizeof(msg));
            cJSON_Delete(body);
            return st == LAB_POOL_OK ? send_json(c, 200, o) : send_status(c, api->pool, st, name, msg);
        }
        if ((rest[0] == '\0' || strcmp(rest, "/") == 0) && strcmp(method, "GET") == 0) {
            o = lab_pool_get_function(api->pool, name, &st);
            return st == LAB_POOL_OK ? send_json(c, 200, o) : send_status(c, api->pool, st, name, "");
        }
    } else if (strcmp(rest, "/concurrency") == 0) {
        bool v2019 = strncmp(url, conc2019, sizeof(conc2019) - 1) == 0;
        if ((v2019 && strcmp(method, "GET") == 0) ||
            (!v2019 && (strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0)))
            return op_concurrency(api, c, method, name, rq);
    }
    return send_error(c, 404, "UnknownOperationException", "Unknown operation", NULL);
}

/* ---------- function URLs ---------- */

/*
 * A function with `function_url: true` answers plain HTTP under
 * /lambda-url/NAME, with no signature (auth type NONE), as its URL
 * https://<url-id>.lambda-url.<region>.on.aws would. The request becomes the
 * function URL event (payload format 2.0), runs through the same pool path
 * as Invoke, and the answer is mapped back to HTTP as Lambda maps it. Where
 * AWS's documentation and AWS disagree, this follows answers recorded
 * against AWS (LocalStack's snapshot tests, 2025): a returned string is sent
 * unquoted, and a URL that does not exist is 403 {"Message":null}.
 */

static bool is_function_url(const char *url)
{
    size_t n = sizeof(URL_PREFIX) - 1;

    return strncmp(url, URL_PREFIX, n) == 0 && (url[n] == '\0' || url[n] == '/');
}

static const url_fn *find_url_fn(const lab_api *api, const char *name, size_t len)
{
    for (size_t i = 0; i < api->nurls; i++)
        if (strlen(api->urls[i].name) == len && memcmp(api->urls[i].name, name, len) == 0)
            return &api->urls[i];
    return NULL;
}

/* Stable across restarts, so a test or a report can name the URL. */
static int url_id(const char *region, const char *account, const char *name, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char msg[512];
    int n = snprintf(msg, sizeof(msg), "lambda-url:%s:%s:%s", region, account, name);

    if (n < 0 || (size_t)n >= sizeof(msg) ||
        EVP_Digest(msg, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < URL_ID_LEN / 2)
        return -1;
    for (size_t i = 0; i < URL_ID_LEN / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* The URL front end's own refusals: {"Message": ...} and an error type. */
static enum MHD_Result send_url_error(struct MHD_Connection *c, unsigned int status,
                                      const char *code, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    char *s = NULL;

    if (o && (message ? cJSON_AddStringToObject(o, "Message", message)
                      : cJSON_AddNullToObject(o, "Message")))
        s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return MHD_NO;
    return send_body(c, status, s, strlen(s), code, NULL);
}

/* A function without a URL has none to call: answered as AWS answers a URL
 * id it does not know. */
static enum MHD_Result send_url_unknown(struct MHD_Connection *c)
{
    return send_url_error(c, 403, "AccessDeniedException", NULL);
}

static enum MHD_Result send_url_too_large(struct MHD_Connection *c)
{
    return send_url_error(c, 413, "RequestEntityTooLargeException",
                          "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms,
 * surrogates or code points past U+10FFFF); 0 when there is none. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        lo = p[0] == 0xE0 ? 0xA0 : 0x80;
        hi = p[0] == 0xED ? 0x9F : 0xBF;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        lo = p[0] == 0xF0 ? 0x90 : 0x80;
        hi = p[0] == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (left < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

/* UTF-8 without NUL: text a JSON string (and a C string) carries as it is. */
static bool plain_text(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq((const unsigned char *)s + i, len - i);
        if (n == 0 || s[i] == '\0')
            return false;
        i += n;
    }
    return true;
}

/*
 * A copy of s[0..len) with every byte that is not UTF-8 replaced by U+FFFD:
 * paths, queries and header values are bytes on the wire, and the runtime
 * parses the event as UTF-8.
 */
static char *utf8_clean(const char *s, size_t len)
{
    char *buf = malloc(len * 3 + 1);
    size_t o = 0;

    if (!buf)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq((const unsigned char *)s + i, len - i);
        if (n == 0 || s[i] == '\0') {
            memcpy(buf + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(buf + o, s + i, n);
            o += n;
            i += n;
        }
    }
    buf[o] = '\0';
    return buf;
}

static cJSON *json_text(const char *s, size_t len)
{
    char *clean = utf8_clean(s, len);
    cJSON *out = clean ? cJSON_CreateString(clean) : NULL;

    free(clean);
    return out;
}

/* Adds item (consumed, even on failure) under key. */
static bool add_item(cJSON *o, const char *key, cJSON *item)
{
    if (!item)
        return false;
    if (!cJSON_AddItemToObject(o, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static bool add_text(cJSON *o, const char *key, const char *s)
{
    return add_item(o, key, json_text(s, strlen(s)));
}

/* Replaces or adds key's string value (already valid UTF-8). */
static bool set_text(cJSON *o, const char *key, const char *s)
{
    cJSON *item = json_text(s, strlen(s));

    if (!item)
        return false;
    if (!cJSON_GetObjectItemCaseSensitive(o, key))
        return add_item(o, key, item);
    if (!cJSON_ReplaceItemInObjectCaseSensitive(o, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

/* "a" + sep + "b" in a new string. */
static char *join(const char *a, const char *sep, const char *b)
{
    size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "%s%s%s", a, sep, b);
    return s;
}

/* Appends value to key's comma-separated value, or adds it. */
static bool add_joined(cJSON *o, const char *key, const char *value)
{
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(o, key);
    char *joined;
    bool ok;

    if (!prev)
        return add_text(o, key, value);
    joined = join(prev->valuestring, ",", value);
    if (!joined)
        return false;
    ok = set_text(o, key, joined);
    free(joined);
    return ok;
}

/*
 * Bodies of these types reach the function as text, any other (or none) as
 * base64, so that a handler never gets bytes it cannot tell from text; form
 * posts are base64 on AWS too.
 */
static bool text_media_type(const char *ct)
{
    static const char *const text[] = {"application/json", "application/xml",
                                       "application/javascript", NULL};
    char mt[URL_MAX_MEDIA_TYPE + 1];
    size_t n = 0;

    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    while (ct[n] && ct[n] != ';' && ct[n] != ' ' && ct[n] != '\t' && n < URL_MAX_MEDIA_TYPE) {
        mt[n] = (char)tolower((unsigned char)ct[n]);
        n++;
    }
    mt[n] = '\0';
    if (strncmp(mt, "text/", 5) == 0)
        return true;
    for (size_t i = 0; text[i]; i++)
        if (strcmp(mt, text[i]) == 0)
            return true;
    return (n > 5 && strcmp(mt + n - 5, "+json") == 0) || (n > 4 && strcmp(mt + n - 4, "+xml") == 0);
}

typedef struct header_walk {
    cJSON *headers;
    cJSON *cookies;
    bool failed;
} header_walk;

/* "a=1; b=2" → ["a=1", "b=2"], as payload format 2.0 lists them. */
static bool add_cookies(cJSON *cookies, const char *v)
{
    for (;;) {
        const char *end = strchr(v, ';');
        size_t a = 0, n = end ? (size_t)(end - v) : strlen(v);

        while (a < n && (v[a] == ' ' || v[a] == '\t'))
            a++;
        while (n > a && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        if (n > a) {
            cJSON *s = json_text(v + a, n - a);
            if (!s || !cJSON_AddItemToArray(cookies, s)) {
                cJSON_Delete(s);
                return false;
            }
        }
        if (!end)
            return true;
        v = end + 1;
    }
}

static enum MHD_Result walk_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    header_walk *w = cls;
    char name[URL_MAX_HEADER_NAME + 1];
    size_t n = strlen(key);

    (void)kind;
    if (!value)
        value = "";
    /* Not a name HTTP allows, and a JSON key must be text: dropped. */
    if (n == 0 || n > URL_MAX_HEADER_NAME)
        return MHD_YES;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7F)
            return MHD_YES;
        name[i] = (char)tolower((unsigned char)key[i]);
    }
    name[n] = '\0';
    if (strcmp(name, "cookie") == 0 ? !add_cookies(w->cookies, value)
                                    : !add_joined(w->headers, name, value)) {
        w->failed = true;
        return MHD_NO;
    }
    return MHD_YES;
}

/* "" when the address is not IP (it always is: the lab listens on TCP). */
static void client_ip(struct MHD_Connection *c, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    out[0] = '\0';
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)len);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)len);
}

/* What a load balancer in front of the function adds (AWS adds these too). */
static bool add_forwarded(cJSON *headers, const char *ip, int port)
{
    const cJSON *xff = cJSON_GetObjectItemCaseSensitive(headers, "x-forwarded-for");
    char portbuf[16], trace[64], hex[2 * 12 + 1];
    bool ok;

    snprintf(portbuf, sizeof(portbuf), "%d", port);
    if (xff) {
        /* A client's own X-Forwarded-For stays, the address it came from is appended. */
        char *v = join(xff->valuestring, ", ", ip);
        ok = v && set_text(headers, "x-forwarded-for", v);
        free(v);
    } else {
        ok = set_text(headers, "x-forwarded-for", ip);
    }
    if (!ok || !set_text(headers, "x-forwarded-port", portbuf) ||
        !set_text(headers, "x-forwarded-proto", "http"))
        return false;
    if (cJSON_GetObjectItemCaseSensitive(headers, "x-amzn-trace-id"))
        return true;
    lab_id_hex(hex, 12);
    snprintf(trace, sizeof(trace), "Root=1-%08llx-%s", (unsigned long long)time(NULL), hex);
    return set_text(headers, "x-amzn-trace-id", trace);
}

/* A percent-decoded copy of s[0..len); the text as sent when it does not decode. */
static char *query_piece(const char *s, size_t len)
{
    char *out = malloc(len + 1);

    if (out && pct_decode(s, len, out, len + 1) != 0) {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    return out;
}

/* queryStringParameters: decoded, repeated names comma-joined, left out when empty. */
static bool add_query_params(cJSON *env, const char *q)
{
    cJSON *params = cJSON_CreateObject();
    bool ok = params != NULL;

    while (ok && *q) {
        const char *end = strchr(q, '&');
        size_t len = end ? (size_t)(end - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t klen = eq ? (size_t)(eq - q) : len;
        char *k = query_piece(q, klen);
        char *v = eq ? query_piece(eq + 1, len - klen - 1) : query_piece("", 0);
        /* A JSON key is not cleaned on the way in as values are. */
        char *key = k ? utf8_clean(k, strlen(k)) : NULL;

        ok = key && v;
        if (ok && key[0])
            ok = add_joined(params, key, v);
        free(key);
        free(k);
        free(v);
        q += len + (end ? 1 : 0);
    }
    if (ok && params->child) {
        ok = add_item(env, "queryStringParameters", params);
        params = NULL;
    }
    cJSON_Delete(params);
    return ok;
}

static char *b64_encode(const char *s, size_t len)
{
    unsigned char *out;

    if (len > (size_t)INT32_MAX / 2)
        return NULL;
    out = malloc(4 * ((len + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock(out, (const unsigned char *)s, (int)len);
    return (char *)out;
}

/* Standard base64 with padding, nothing else; -1 when s is not that. */
static int b64_decode(const char *s, size_t len, char **out, size_t *outlen)
{
    size_t pad = 0;
    unsigned char *buf;
    int n;

    *out = NULL;
    *outlen = 0;
    if (len % 4 != 0 || len > (size_t)INT32_MAX)
        return -1;
    if (len > 0 && s[len - 1] == '=')
        pad = len > 1 && s[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - pad; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/')
            return -1;
    buf = malloc(len / 4 * 3 + 1);
    if (!buf)
        return -1;
    n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
    if (n < 0 || (size_t)n < pad) {
        free(buf);
        return -1;
    }
    *out = (char *)buf;
    *outlen = (size_t)n - pad;
    return 0;
}

typedef struct url_call {
    const url_fn *fn;
    const char *method;
    const char *path;  /* rawPath: as sent, "/" when empty */
    const char *query; /* rawQueryString: as sent, "" when none */
    char request_id[LAB_ID_UUID_SIZE];
} url_call;

/* The function URL event (payload format 2.0) as JSON text; NULL when out of memory. */
static char *url_event(const lab_api *api, struct MHD_Connection *c, const url_call *u,
                       const request *rq)
{
    const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    header_walk w = {.headers = cJSON_CreateObject(), .cookies = cJSON_CreateArray(), .failed = false};
    cJSON *env = cJSON_CreateObject();
    cJSON *ctx = NULL, *http = NULL;
    char ip[INET6_ADDRSTRLEN] = "", domain[URL_ID_LEN + 64], stamp[40];
    char *b64 = NULL, *out = NULL;
    bool base64 = false;
    struct timespec now;
    long long now_ms;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &now);
    now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%d/%b/%Y:%H:%M:%S +0000", &tm);
    snprintf(domain, sizeof(domain), "%s.lambda-url.%s.on.aws", u->fn->id, lab_pool_region(api->pool));
    client_ip(c, ip, sizeof(ip));
    if (!env || !w.headers || !w.cookies)
        goto cleanup;
    MHD_get_connection_values(c, MHD_HEADER_KIND, walk_header, &w);
    if (w.failed || !add_forwarded(w.headers, ip, api->port))
        goto cleanup;
    if (!add_text(env, "version", "2.0") || !add_text(env, "routeKey", "$default") ||
        !add_text(env, "rawPath", u->path) || !add_text(env, "rawQueryString", u->query))
        goto cleanup;
    if (w.cookies->child) {
        cJSON *cookies = w.cookies;
        w.cookies = NULL;
        if (!add_item(env, "cookies", cookies))
            goto cleanup;
    }
    {
        cJSON *headers = w.headers;
        w.headers = NULL;
        if (!add_item(env, "headers", headers) || !add_query_params(env, u->query))
            goto cleanup;
    }
    ctx = cJSON_AddObjectToObject(env, "requestContext");
    /* Auth type NONE: the caller is anonymous, and there is no authorizer. */
    if (!ctx || !add_text(ctx, "accountId", "anonymous") || !add_text(ctx, "apiId", u->fn->id) ||
        !cJSON_AddNullToObject(ctx, "authentication") || !add_text(ctx, "domainName", domain) ||
        !add_text(ctx, "domainPrefix", u->fn->id))
        goto cleanup;
    http = cJSON_AddObjectToObject(ctx, "http");
    if (!http || !add_text(http, "method", u->method) || !add_text(http, "path", u->path) ||
        !add_text(http, "protocol", "HTTP/1.1") || !add_text(http, "sourceIp", ip) ||
        !add_text(http, "userAgent", ua ? ua : ""))
        goto cleanup;
    if (!add_text(ctx, "requestId", u->request_id) || !add_text(ctx, "routeKey", "$default") ||
        !add_text(ctx, "stage", "$default") || !add_text(ctx, "time", stamp) ||
        !cJSON_AddNumberToObject(ctx, "timeEpoch", (double)now_ms))
        goto cleanup;
    if (rq->len > 0) {
        base64 = !text_media_type(ct) || !plain_text(rq->body, rq->len);
        if (base64) {
            b64 = b64_encode(rq->body, rq->len);
            if (!b64 || !add_item(env, "body", cJSON_CreateString(b64)))
                goto cleanup;
        } else if (!add_item(env, "body", cJSON_CreateString(rq->body))) {
            goto cleanup;
        }
    }
    if (!cJSON_AddNullToObject(env, "pathParameters") ||
        !cJSON_AddBoolToObject(env, "isBase64Encoded", base64) ||
        !cJSON_AddNullToObject(env, "stageVariables"))
        goto cleanup;
    out = cJSON_PrintUnformatted(env);
cleanup:
    cJSON_Delete(env);
    cJSON_Delete(w.headers);
    cJSON_Delete(w.cookies);
    free(b64);
    return out;
}

/* RFC 9110 token characters. */
static bool header_name_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return false;
    return true;
}

/* No CR, LF or NUL: a function must not be able to add headers or split the answer. */
static bool header_value_ok(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

/* The server frames the answer itself; a function's own framing headers
 * would contradict it. */
static bool framing_header(const char *name)
{
    return strcasecmp(name, "content-length") == 0 || strcasecmp(name, "transfer-encoding") == 0 ||
           strcasecmp(name, "connection") == 0;
}

/* statusCode: a whole number or a string of digits (AWS takes "418"), 100 to 599. */
static bool url_status(const cJSON *sc, unsigned int *status)
{
    double v;

    if (cJSON_IsNumber(sc)) {
        v = sc->valuedouble;
    } else if (cJSON_IsString(sc) && strlen(sc->valuestring) == 3 &&
               strspn(sc->valuestring, "0123456789") == 3) {
        v = strtod(sc->valuestring, NULL);
    } else {
        return false;
    }
    if (!(v >= 100 && v <= 599) || v != (double)(int)v)
        return false;
    *status = (unsigned int)v;
    return true;
}

/* body: a string (base64-decoded when isBase64Encoded), other JSON as its text, none as empty. */
static bool url_body(const cJSON *doc, char **body, size_t *len)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(doc, "body");

    *body = NULL;
    *len = 0;
    if (cJSON_IsString(b) && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "isBase64Encoded")))
        return b64_decode(b->valuestring, strlen(b->valuestring), body, len) == 0;
    if (cJSON_IsString(b))
        *body = strdup(b->valuestring);
    else if (b && !cJSON_IsNull(b))
        *body = cJSON_PrintUnformatted(b);
    else
        *body = strdup("");
    *len = *body ? strlen(*body) : 0;
    return *body != NULL;
}

/* headers (strings, numbers or booleans) and cookies (one Set-Cookie each). */
static bool url_headers(struct MHD_Response *r, const cJSON *doc, bool *typed)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(doc, "headers");
    const cJSON *ck = cJSON_GetObjectItemCaseSensitive(doc, "cookies");
    const cJSON *it;

    if (cJSON_IsNull(h))
        h = NULL;
    if (cJSON_IsNull(ck))
        ck = NULL;
    if ((h && !cJSON_IsObject(h)) || (ck && !cJSON_IsArray(ck)))
        return false;
    cJSON_ArrayForEach(it, h) {
        char num[64];
        const char *v = num;

        if (cJSON_IsNull(it))
            continue;
        if (cJSON_IsString(it))
            v = it->valuestring;
        else if (cJSON_IsBool(it))
            v = cJSON_IsTrue(it) ? "true" : "false";
        else if (cJSON_IsNumber(it))
            snprintf(num, sizeof(num), "%.17g", it->valuedouble);
        else
            return false;
        if (!header_name_ok(it->string) || !header_value_ok(v))
            return false;
        if (framing_header(it->string))
            continue;
        if (strcasecmp(it->string, MHD_HTTP_HEADER_CONTENT_TYPE) == 0)
            *typed = true;
        if (MHD_add_response_header(r, it->string, v) != MHD_YES)
            return false;
    }
    cJSON_ArrayForEach(it, ck) {
        if (!cJSON_IsString(it) || !header_value_ok(it->valuestring) ||
            MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, it->valuestring) != MHD_YES)
            return false;
    }
    return true;
}

/*
 * The function's answer as HTTP. An object with statusCode is a response
 * (statusCode, headers, cookies, body); anything else is sent as 200
 * application/json with the answer as body, a string's text unquoted.
 * NULL when the answer cannot be mapped: AWS answers 502 then.
 */
static struct MHD_Response *url_response(const char *payload, size_t len, unsigned int *status)
{
    cJSON *doc = cJSON_ParseWithLength(payload, len);
    const cJSON *sc = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "statusCode") : NULL;
    struct MHD_Response *r = NULL, *out = NULL;
    char *body = NULL;
    size_t body_len = 0;
    bool typed = false;

    if (!doc)
        goto cleanup;
    if (sc) {
        if (!url_status(sc, status) || !url_body(doc, &body, &body_len))
            goto cleanup;
    } else if (cJSON_IsString(doc)) {
        *status = 200;
        body = strdup(doc->valuestring);
        body_len = body ? strlen(body) : 0;
    } else {
        *status = 200;
        body = malloc(len + 1);
        body_len = len;
        if (body)
            memcpy(body, payload, len);
    }
    if (!body)
        goto cleanup;
    r = MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_MUST_FREE);
    if (!r)
        goto cleanup;
    body = NULL;
    if (sc && !url_headers(r, doc, &typed))
        goto cleanup;
    if (!typed && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") != MHD_YES)
        goto cleanup;
    out = r;
    r = NULL;
cleanup:
    if (r)
        MHD_destroy_response(r);
    free(body);
    cJSON_Delete(doc);
    return out;
}

static enum MHD_Result op_function_url(lab_api *api, struct MHD_Connection *c, const char *url,
                                       const char *method, const request *rq)
{
    static char bad_gateway[] = "Internal Server Error";
    const char *name = url + sizeof(URL_PREFIX) - 1;
    const char *rest, *q;
    struct MHD_Response *r = NULL;
    unsigned int status = 502;
    lab_invoke_result res;
    lab_pool_status st;
    enum MHD_Result ret = MHD_NO;
    url_call u;
    char *event;
    size_t len;

    if (*name == '/')
        name++;
    rest = strchr(name, '/');
    u.fn = find_url_fn(api, name, rest ? (size_t)(rest - name) : strlen(name));
    if (!u.fn)
        return send_url_unknown(c);
    if (rq->too_large)
        return send_url_too_large(c);
    q = strchr(rq->uri, '?');
    u.method = method;
    u.path = rest ? rest : "/";
    u.query = q ? q + 1 : "";
    lab_id_uuid(u.request_id);
    event = url_event(api, c, &u, rq);
    if (!event)
        return send_error(c, 500, "ServiceException", "The lab could not build the event.", NULL);
    len = strlen(event);
    /* A body under the limit can still make an event over it, once base64. */
    if (len > LAB_POOL_MAX_PAYLOAD) {
        free(event);
        return send_url_too_large(c);
    }
    st = lab_pool_invoke_as(api->pool, u.fn->name, event, len, NULL, u.request_id, &res);
    free(event);
    if (st == LAB_POOL_NOT_FOUND)
        return send_url_unknown(c);
    if (st != LAB_POOL_OK)
        return send_status(c, api->pool, st, u.fn->name, "");
    /* Errors, timeouts and oversize answers alike: the function failed. */
    if (!res.function_error)
        r = url_response(res.payload, res.payload_len, &status);
    if (!r) {
        status = 502;
        r = MHD_create_response_from_buffer(sizeof(bad_gateway) - 1, bad_gateway, MHD_RESPMEM_PERSISTENT);
        if (!r)
            goto cleanup;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    }
    MHD_add_response_header(r, "x-amzn-RequestId", res.request_id);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
cleanup:
    lab_pool_result_clear(&res);
    return ret;
}

/* ---------- libmicrohttpd glue ---------- */

static void connection_event(void *cls, struct MHD_Connection *c, void **socket_context,
                             enum MHD_ConnectionNotificationCode toe)
{
    conn_state *cs = *socket_context;

    (void)cls;
    (void)c;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(conn_state));
    } else if (cs) {
        free(cs->uri);
        free(cs);
        *socket_context = NULL;
    }
}

static conn_state *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

/* Called with the request target as sent, before MHD splits off the query
 * and turns '+' into spaces: a function URL's event needs it byte for byte. */
static void *see_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    conn_state *cs = conn_of(c);

    (void)cls;
    if (cs) {
        free(cs->uri);
        cs->uri = strdup(uri ? uri : "");
    }
    return NULL;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_size, void **con_cls)
{
    lab_api *api = cls;
    request *rq = *con_cls;
    enum MHD_Result ret = MHD_NO;

    (void)version;
    if (!rq) {
        /* A body a little over the limit is read and dropped, so that an
         * honest client can read our 413; an absurd one is refused before
         * it is read (the client may only see the connection close). */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        conn_state *cs = conn_of(c);
        if (cl && strtoull(cl, NULL, 10) > LAB_API_MAX_DISCARD)
            return is_function_url(url)
                       ? send_url_too_large(c)
                       : send_error(c, 413, "RequestEntityTooLargeException",
                                    "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
                                    NULL);
        if (!cs || !cs->uri)
            return MHD_NO;
        rq = calloc(1, sizeof(*rq));
        if (!rq)
            return MHD_NO;
        rq->uri = cs->uri;
        cs->uri = NULL;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t size = *upload_size;
        *upload_size = 0;
        if (rq->too_large || rq->len + size > LAB_POOL_MAX_PAYLOAD) {
            /* keep reading so the client sees our 413, but keep nothing */
            rq->too_large = true;
            return MHD_YES;
        }
        if (rq->len + size + 1 > rq->cap) {
            size_t cap = rq->cap ? rq->cap : 4096;
            char *nb;
            while (cap < rq->len + size + 1)
                cap *= 2;
            nb = realloc(rq->body, cap);
            if (!nb)
                return MHD_NO;
            rq->body = nb;
            rq->cap = cap;
        }
        memcpy(rq->body + rq->len, upload_data, size);
        rq->len += size;
        rq->body[rq->len] = '\0';
        return MHD_YES;
    }
    /* Function URLs have auth type NONE: anyone who reaches the lab may call them. */
    if (is_function_url(url))
        return op_function_url(api, c, url, method, rq);
    if (!rq->too_large && !authorised(api, c, method, url, rq, &ret))
        return ret;
    return route(api, c, method, url, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    request *rq = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (rq) {
        free(rq->uri);
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

/* Leaves the URL as sent: SigV4 signs the encoded form. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

lab_api *lab_api_start(const char *host, int port, lab_pool *pool, const lab_config *cfg,
                       char *err, size_t errlen)
{
    lab_api *api = calloc(1, sizeof(*api));
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;

    if (!api) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
        snprintf(err, errlen, "--listen %s: the lab binds to loopback (127.0.0.0/8) only", host);
        goto fail;
    }
    api->pool = pool;
    api->creds = calloc(cfg->credential_count ? cfg->credential_count : 1, sizeof(lab_credential));
    if (!api->creds) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < cfg->credential_count; i++) {
        api->creds[i].access_key_id = strdup(cfg->credentials[i].access_key_id);
        api->creds[i].secret_access_key = strdup(cfg->credentials[i].secret_access_key);
        api->ncreds++;
        if (!api->creds[i].access_key_id || !api->creds[i].secret_access_key) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    api->urls = calloc(cfg->function_count ? cfg->function_count : 1, sizeof(url_fn));
    if (!api->urls) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < cfg->function_count; i++) {
        url_fn *u = &api->urls[api->nurls];
        if (!cfg->functions[i].function_url)
            continue;
        u->name = strdup(cfg->functions[i].name);
        api->nurls++;
        if (!u->name || url_id(cfg->region, cfg->account_id, u->name, u->id) != 0) {
            snprintf(err, errlen, "cannot set up the function URL of %s", cfg->functions[i].name);
            goto fail;
        }
    }
    /* poll(), not select(): a lab with a few hundred environments has
     * descriptors past FD_SETSIZE. */
    api->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC,
        0, NULL, NULL, handle, api,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)LAB_API_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)LAB_API_IDLE_TIMEOUT_S,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, see_uri, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, connection_event, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_END);
    if (!api->daemon) {
        snprintf(err, errlen, "cannot listen on %s:%d", host, port);
        goto fail;
    }
    info = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
    api->port = info ? info->port : port;
    return api;
fail:
    lab_api_stop(&api);
    return NULL;
}

int lab_api_port(const lab_api *api)
{
    return api->port;
}

void lab_api_stop(lab_api **pa)
{
    lab_api *api = pa ? *pa : NULL;

    if (!api)
        return;
    if (api->daemon)
        MHD_stop_daemon(api->daemon);
    for (size_t i = 0; i < api->ncreds; i++) {
        free(api->creds[i].access_key_id);
        free(api->creds[i].secret_access_key);
    }
    free(api->creds);
    for (size_t i = 0; i < api->nurls; i++)
        free(api->urls[i].name);
    free(api->urls);
    free(api);
    *pa = NULL;
}
