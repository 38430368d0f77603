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
#include <time.h>

#include "lab_id.h"
#include "sigv4.h"

#define MAX_QUERY 2048
#define MAX_NAME 256
#define MAX_CLIENT_CONTEXT 3583
#define MAX_CONFIG_BODY ((size_t)64 * 1024)

struct lab_api {
    struct MHD_Daemon *daemon;
    lab_pool *pool;
    lab_credential *creds;
    size_t ncreds;
    int port;
};

typedef struct request {
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

/* ---------- libmicrohttpd glue ---------- */

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
        if (cl && strtoull(cl, NULL, 10) > LAB_API_MAX_DISCARD)
            return send_error(c, 413, "RequestEntityTooLargeException",
                              "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
                              NULL);
        rq = calloc(1, sizeof(*rq));
        if (!rq)
            return MHD_NO;
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
    /* poll(), not select(): a lab with a few hundred environments has
     * descriptors past FD_SETSIZE. */
    api->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC,
        0, NULL, NULL, handle, api,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)LAB_API_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)LAB_API_IDLE_TIMEOUT_S,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
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
    free(api);
    *pa = NULL;
}
