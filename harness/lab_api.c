/*
 * lab_api — the Lambda REST API (see lab_api.h).
 *
 * libmicrohttpd is told not to unescape URLs: SigV4 signs the path and query
 * exactly as sent, and function names arrive percent-encoded (ARNs).
 */
#include "lab_api.h"

#include <arpa/inet.h>
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
#include "lab_request.h"
#include "sigv4.h"

#define MAX_QUERY 2048

/* Function URLs: /lambda-url/NAME[/path][?query]. */
#define URL_PREFIX "/lambda-url"
#define URL_ID_LEN LAB_REQUEST_URL_ID_LEN

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
    char started[32];     /* ISO 8601: the function URLs' CreationTime */
    sigv4_key_cache keys; /* one secret, one region: one derivation a day */
    bool keys_ready;
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

/* A refusal lab_request decided on. */
static enum MHD_Result send_request_error(struct MHD_Connection *c, const lab_request_error *err)
{
    return send_error(c, (unsigned int)err->status, err->code, err->message, NULL);
}

static enum MHD_Result send_not_found(struct MHD_Connection *c, lab_pool *pool,
                                      const char *name, const char *qualifier)
{
    lab_request_error err;

    lab_request_not_found(lab_pool_region(pool), lab_pool_account(pool), name, qualifier, &err);
    return send_request_error(c, &err);
}

/* qualifier: named in a 404 (NULL: none); msg: a 404's own message when set
 * (an alias or version Lambda names), the other refusals' message. */
static enum MHD_Result send_status_q(struct MHD_Connection *c, lab_pool *pool,
                                     lab_pool_status st, const char *name, const char *qualifier,
                                     const char *msg)
{
    switch (st) {
    case LAB_POOL_NOT_FOUND:
        if (msg && msg[0])
            return send_error(c, 404, "ResourceNotFoundException", msg, NULL);
        return send_not_found(c, pool, name, qualifier && qualifier[0] ? qualifier : NULL);
    case LAB_POOL_THROTTLED_RESERVED:
        return send_error(c, 429, "TooManyRequestsException", "Rate Exceeded.",
                          "ReservedFunctionConcurrentInvocationLimitExceeded");
    case LAB_POOL_THROTTLED_ACCOUNT:
        return send_error(c, 429, "TooManyRequestsException", "Rate Exceeded.",
                          "ConcurrentInvocationLimitExceeded");
    case LAB_POOL_THROTTLED_BUSY:
        /* The Reason is the lab's own: AWS documents the backpressure of a
         * Managed Instances function whose every slot is busy but no
         * ThrottleReason value for it
         * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-execution-environment.html). */
        return send_error(c, 429, "TooManyRequestsException", "Rate Exceeded.",
                          "ExecutionEnvironmentConcurrencyLimitExceeded");
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

static enum MHD_Result send_status(struct MHD_Connection *c, lab_pool *pool,
                                   lab_pool_status st, const char *name, const char *msg)
{
    return send_status_q(c, pool, st, name, NULL, st == LAB_POOL_NOT_FOUND ? "" : msg);
}

/* ---------- request parsing ---------- */

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
    st = sigv4_verify_cached(&sr, time(NULL), "lambda", lab_pool_region(api->pool), secret_for, api,
                             detail, sizeof(detail), akid, sizeof(akid), &api->keys);
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

/* Invoke of name[:qualifier]: a version or alias runs that version
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html, Qualifier),
 * and X-Amz-Executed-Version says which. */
static enum MHD_Result op_invoke(lab_api *api, struct MHD_Connection *c, const char *name,
                                 const char *qualifier, const request *rq)
{
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Invocation-Type");
    const char *logtype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Log-Type");
    const char *cc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Client-Context");
    const char *payload = rq->len ? rq->body : "{}";
    size_t len = rq->len ? rq->len : 2;
    char *context = NULL;
    lab_request_invocation_type itype;
    lab_request_error err;
    lab_invoke_result res;
    lab_pool_status st;
    struct MHD_Response *r;
    enum MHD_Result ret;
    bool tail;

    if (lab_request_invoke_headers(type, logtype, &itype, &tail, &err) != 0)
        return send_request_error(c, &err);
    char arn[600];

    if (lab_pool_resolve_arn(api->pool, name, qualifier, arn, sizeof(arn)) != LAB_POOL_OK)
        return send_not_found(c, api->pool, name, qualifier[0] ? qualifier : NULL);
    if (lab_request_invoke_body(itype, payload, len, rq->too_large, cc, &context, &err) != 0)
        return send_request_error(c, &err);
    if (itype == LAB_REQUEST_INVOKE_DRY_RUN) {
        free(context);
        return send_empty(c, 204, NULL);
    }
    if (itype == LAB_REQUEST_INVOKE_EVENT) {
        free(context);
        st = lab_pool_invoke_async(api->pool, name, qualifier, payload, len);
        if (st != LAB_POOL_OK)
            return send_status_q(c, api->pool, st, name, qualifier, "");
        return send_empty(c, 202, NULL);
    }
    st = lab_pool_invoke_as(api->pool, name, qualifier, payload, len, context, NULL, &res);
    free(context);
    if (st != LAB_POOL_OK)
        return send_status_q(c, api->pool, st, name, qualifier, "");
    r = MHD_create_response_from_buffer(res.payload_len, res.payload, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        lab_pool_result_clear(&res);
        return MHD_NO;
    }
    res.payload = NULL;
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "x-amzn-RequestId", res.request_id);
    MHD_add_response_header(r, "X-Amz-Executed-Version", res.executed_version);
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
    lab_request_error err;
    cJSON *o = lab_request_config_body(rq->body, rq->len, rq->too_large, &err);

    if (!o)
        *ret = send_request_error(c, &err);
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

/* PublishVersion (201), CreateAlias (201), UpdateAlias (200): a JSON body. */
static enum MHD_Result op_versions(lab_api *api, struct MHD_Connection *c,
                                   const lab_request_route *rt, const request *rq)
{
    enum MHD_Result ret = MHD_NO;
    char msg[768] = "";
    lab_pool_status st;
    bool created = true;
    cJSON *o, *body = parse_body(rq, c, &ret);

    if (!body)
        return ret;
    if (rt->op == LAB_REQUEST_OP_PUBLISH_VERSION)
        o = lab_pool_publish_version(api->pool, rt->name, body, &created, &st, msg, sizeof(msg));
    else if (rt->op == LAB_REQUEST_OP_CREATE_ALIAS)
        o = lab_pool_create_alias(api->pool, rt->name, body, &st, msg, sizeof(msg));
    else
        o = lab_pool_update_alias(api->pool, rt->name, rt->alias, body, &st, msg, sizeof(msg));
    cJSON_Delete(body);
    if (st != LAB_POOL_OK)
        return send_status_q(c, api->pool, st, rt->name, NULL, msg);
    /* PublishVersion and CreateAlias answer 201 (API_PublishVersion.html,
     * API_CreateAlias.html), also for a version that was not published anew. */
    (void)created;
    return send_json(c, rt->op == LAB_REQUEST_OP_UPDATE_ALIAS ? 200 : 201, o);
}

/*
 * GetFunctionUrlConfig (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionUrlConfig.html):
 * the functions with `function_url: true` have one, on the function itself
 * (no qualifier), auth type NONE, BUFFERED. FunctionUrl is the address AWS
 * would give it (the id the URL events carry in requestContext.domainName);
 * the lab serves it at /lambda-url/NAME on its own listener. Anything else:
 * ResourceNotFoundException, as for a function without a URL.
 */
static enum MHD_Result op_url_config(lab_api *api, struct MHD_Connection *c,
                                     const lab_request_route *rt)
{
    const url_fn *u = NULL;
    char arn[600], url[256];
    cJSON *o;

    if (lab_pool_resolve_arn(api->pool, rt->name, rt->qualifier, arn, sizeof(arn)) != LAB_POOL_OK)
        return send_not_found(c, api->pool, rt->name, rt->qualifier[0] ? rt->qualifier : NULL);
    if (!rt->qualifier[0])
        for (size_t i = 0; i < api->nurls; i++)
            if (strcmp(api->urls[i].name, rt->name) == 0)
                u = &api->urls[i];
    if (!u)
        return send_error(c, 404, "ResourceNotFoundException", "The resource you requested does not exist.",
                          NULL);
    snprintf(url, sizeof(url), "https://%s.lambda-url.%s.on.aws/", u->id, lab_pool_region(api->pool));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "FunctionUrl", url);
    cJSON_AddStringToObject(o, "FunctionArn", arn);
    cJSON_AddStringToObject(o, "AuthType", "NONE");
    cJSON_AddStringToObject(o, "CreationTime", api->started);
    cJSON_AddStringToObject(o, "LastModifiedTime", api->started);
    cJSON_AddStringToObject(o, "InvokeMode", "BUFFERED");
    return send_json(c, 200, o);
}

static enum MHD_Result route(lab_api *api, struct MHD_Connection *c, const char *method,
                             const char *url, const request *rq)
{
    const char *qarg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "Qualifier");
    lab_request_route rt;
    enum MHD_Result ret = MHD_NO;
    lab_pool_status st;
    cJSON *o;

    lab_request_route_api(method, url, qarg, lab_pool_region(api->pool), lab_pool_account(api->pool),
                          &rt);
    switch (rt.op) {
    case LAB_REQUEST_OP_LIST_FUNCTIONS:
        return send_json(c, 200, lab_pool_list_functions(api->pool));
    case LAB_REQUEST_OP_INVOKE:
        return op_invoke(api, c, rt.name, rt.qualifier, rq);
    case LAB_REQUEST_OP_GET_CONFIGURATION:
        o = lab_pool_get_configuration(api->pool, rt.name, rt.qualifier, &st);
        return st == LAB_POOL_OK ? send_json(c, 200, o)
                                 : send_status_q(c, api->pool, st, rt.name, rt.qualifier, "");
    case LAB_REQUEST_OP_UPDATE_CONFIGURATION: {
        char msg[768] = "";
        cJSON *body = parse_body(rq, c, &ret);
        if (!body)
            return ret;
        o = lab_pool_update_configuration(api->pool, rt.name, body, &st, msg, sizeof(msg));
        cJSON_Delete(body);
        return st == LAB_POOL_OK ? send_json(c, 200, o) : send_status(c, api->pool, st, rt.name, msg);
    }
    case LAB_REQUEST_OP_GET_FUNCTION:
        o = lab_pool_get_function(api->pool, rt.name, rt.qualifier, &st);
        return st == LAB_POOL_OK ? send_json(c, 200, o)
                                 : send_status_q(c, api->pool, st, rt.name, rt.qualifier, "");
    case LAB_REQUEST_OP_GET_CONCURRENCY:
        return op_concurrency(api, c, "GET", rt.name, rq);
    case LAB_REQUEST_OP_PUT_CONCURRENCY:
        return op_concurrency(api, c, "PUT", rt.name, rq);
    case LAB_REQUEST_OP_DELETE_CONCURRENCY:
        return op_concurrency(api, c, "DELETE", rt.name, rq);
    case LAB_REQUEST_OP_PUBLISH_VERSION:
    case LAB_REQUEST_OP_CREATE_ALIAS:
    case LAB_REQUEST_OP_UPDATE_ALIAS:
        return op_versions(api, c, &rt, rq);
    case LAB_REQUEST_OP_LIST_VERSIONS:
        o = lab_pool_list_versions(api->pool, rt.name, &st);
        return st == LAB_POOL_OK ? send_json(c, 200, o) : send_status(c, api->pool, st, rt.name, "");
    case LAB_REQUEST_OP_LIST_ALIASES: {
        const char *fv = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "FunctionVersion");
        o = lab_pool_list_aliases(api->pool, rt.name, fv, &st);
        return st == LAB_POOL_OK ? send_json(c, 200, o) : send_status(c, api->pool, st, rt.name, "");
    }
    case LAB_REQUEST_OP_GET_ALIAS: {
        char msg[768] = "";
        o = lab_pool_get_alias(api->pool, rt.name, rt.alias, &st, msg, sizeof(msg));
        return st == LAB_POOL_OK ? send_json(c, 200, o) : send_status_q(c, api->pool, st, rt.name, NULL, msg);
    }
    case LAB_REQUEST_OP_DELETE_ALIAS:
        st = lab_pool_delete_alias(api->pool, rt.name, rt.alias);
        return st == LAB_POOL_OK ? send_empty(c, 204, NULL) : send_status(c, api->pool, st, rt.name, "");
    case LAB_REQUEST_OP_GET_URL_CONFIG:
        return op_url_config(api, c, &rt);
    case LAB_REQUEST_OP_GET_ACCOUNT_SETTINGS:
        return send_json(c, 200, lab_pool_account_settings(api->pool));
    default:
        return send_request_error(c, &rt.err);
    }
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

/* Every request header, in the order received, repeats included. */
typedef struct header_list {
    lab_request_header *h;
    size_t n;
    size_t cap;
    bool failed;
} header_list;

static enum MHD_Result list_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    header_list *l = cls;

    (void)kind;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        lab_request_header *nh = realloc(l->h, cap * sizeof(*nh));
        if (!nh) {
            l->failed = true;
            return MHD_NO;
        }
        l->h = nh;
        l->cap = cap;
    }
    l->h[l->n].name = key;
    l->h[l->n].value = value;
    l->n++;
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
    header_list hl = {.h = NULL, .n = 0, .cap = 0, .failed = false};
    char ip[INET6_ADDRSTRLEN] = "", trace[64], hex[2 * 12 + 1];
    lab_request_url_in in;
    struct timespec now;
    char *out = NULL;

    clock_gettime(CLOCK_REALTIME, &now);
    client_ip(c, ip, sizeof(ip));
    lab_id_hex(hex, 12);
    snprintf(trace, sizeof(trace), "Root=1-%08llx-%s", (unsigned long long)now.tv_sec, hex);
    MHD_get_connection_values(c, MHD_HEADER_KIND, list_header, &hl);
    if (hl.failed)
        goto cleanup;
    memset(&in, 0, sizeof(in));
    in.method = u->method;
    in.path = u->path;
    in.query = u->query;
    in.headers = hl.h;
    in.nheaders = hl.n;
    in.body = rq->body;
    in.body_len = rq->len;
    in.url_id = u->fn->id;
    in.region = lab_pool_region(api->pool);
    in.source_ip = ip;
    in.port = api->port;
    in.request_id = u->request_id;
    in.trace_id = trace;
    in.now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    out = lab_request_url_event(&in);
cleanup:
    free(hl.h);
    return out;
}

/* The function's answer as HTTP; NULL when it cannot be mapped (AWS answers 502). */
static struct MHD_Response *url_response(const char *payload, size_t len, unsigned int *status)
{
    lab_request_url_reply rep;
    struct MHD_Response *r = NULL, *out = NULL;

    if (lab_request_url_result(payload, len, &rep) != 0)
        return NULL;
    r = MHD_create_response_from_buffer(rep.body_len, rep.body, MHD_RESPMEM_MUST_FREE);
    if (!r)
        goto cleanup;
    rep.body = NULL;
    for (size_t i = 0; i < rep.nheaders; i++)
        if (MHD_add_response_header(r, rep.names[i], rep.values[i]) != MHD_YES)
            goto cleanup;
    *status = rep.status;
    out = r;
    r = NULL;
cleanup:
    if (r)
        MHD_destroy_response(r);
    lab_request_url_reply_clear(&rep);
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
    st = lab_pool_invoke_as(api->pool, u.fn->name, NULL, event, len, NULL, u.request_id, &res);
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
    {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(api->started, sizeof(api->started), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    }
    sigv4_key_cache_init(&api->keys);
    api->keys_ready = true;
    /* poll(), not select(): a lab with a few hundred environments has
     * descriptors past FD_SETSIZE. */
    api->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC,
        0, NULL, NULL, handle, api,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)LAB_API_MAX_CONNECTIONS,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)LAB_API_THREAD_STACK,
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
    if (api->keys_ready)
        sigv4_key_cache_destroy(&api->keys);
    free(api);
    *pa = NULL;
}
