/*
 * lambda_client — the Lambda REST API over libcurl (see lambda_client.h).
 *
 * Every exchange is a lambda_call: a prepared request that is signed again
 * for each attempt (x-amz-date must be fresh), a response collected under a
 * hard size cap, and a classification of the outcome. The synchronous
 * operations run a call on one easy handle and sleep between attempts; the
 * invocation engine runs many calls on a multi handle and keeps the timers
 * itself. Both share the retry policy that lives here.
 *
 * Retry policy: 429 (throttling) retries until the call's retry budget is
 * spent, because absorbing throttles is the point of a load tool; conflicts
 * (409 "update in progress"), 5xx and network errors retry up to
 * max_attempts. The delay is full jitter over a capped exponential, and a
 * Retry-After header is a floor. A timeout is final: retrying a slow or
 * drip-feeding endpoint would multiply the time the user asked for.
 */
#include "lambda_client.h"

#include "jsonutil.h"
#include "monotime.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HEADER_VALUE 8192
#define RETRY_AFTER_CAP_MS 20000L

struct lambda_client {
    char *endpoint;     /* without trailing slash */
    char *host;         /* Host header: host[:port] as in the URL */
    char *base_path;    /* path part of the endpoint, "" usually */
    char *region;
    char *ca_bundle;
    const sigv4_credentials *cred;
    long connect_timeout_ms, api_timeout_ms, invoke_timeout_ms;
    int max_attempts;
    long backoff_base_ms, backoff_cap_ms, retry_budget_ms;
    FILE *trace;
    uint64_t jitter;    /* xorshift state for backoff jitter, seeded from RAND_bytes */
    CURLSH *share;      /* connections, DNS and TLS sessions across calls */
};

typedef struct call_header {
    const char *name;
    char *value;
} call_header;

#define CALL_MAX_HEADERS 8

struct lambda_call {
    lambda_client *c;
    char op[40];
    char function[260];
    const char *method;
    char *path;           /* wire path */
    char *query;          /* wire query or NULL */
    unsigned char *body;
    size_t body_len;
    call_header extra[CALL_MAX_HEADERS];
    size_t nextra;
    size_t keep_max;      /* bytes of body kept */
    size_t hard_max;      /* beyond this the transfer is aborted */
    long timeout_ms;
    bool json_response;   /* control plane: the body must be JSON */
    bool http;            /* an HTTP trigger (lambda_call_http), not the Lambda API */
    bool sign;            /* http: SigV4 for a URL with AWS_IAM auth */
    char *http_host;      /* http: Host of url, for signing */
    const char *content_type;

    CURL *easy;
    struct curl_slist *hdrs;
    char *url;
    char errbuf[CURL_ERROR_SIZE];

    lambda_response resp;
    size_t body_cap;
    bool too_large;
    char error_type[96];  /* x-amzn-ErrorType */
    long retry_after_ms;
    lambda_error err;
    int attempts;
    long waited_ms;
};

/* ---------- small helpers ---------- */

static uint64_t next_jitter(lambda_client *c)
{
    uint64_t x = c->jitter;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->jitter = x;
    return x;
}

/* Error text from a server is untrusted: keep printable ASCII only, so a
 * hostile endpoint cannot write escape sequences to the user's terminal. */
static void copy_printable(char *dst, size_t dstlen, const char *src, size_t srclen)
{
    size_t o = 0;
    if (dstlen == 0)
        return;
    for (size_t i = 0; i < srclen && o + 1 < dstlen; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    dst[o] = '\0';
}

static void copy_server_text(const lambda_client *c, char *dst, size_t dstlen, const char *src, size_t srclen);

int lambda_encode_component(const char *in, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            if (o + 1 >= outlen)
                return -1;
            out[o++] = (char)*p;
        } else {
            if (o + 3 >= outlen)
                return -1;
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (o >= outlen)
        return -1;
    out[o] = '\0';
    return (int)o;
}

void lambda_error_format(const lambda_error *e, char *out, size_t outlen)
{
    char status[32] = "";
    if (e->http_status > 0)
        snprintf(status, sizeof(status), "HTTP %ld ", e->http_status);
    snprintf(out, outlen, "%s %s: %s%s: %s%s%s%s", e->op, e->function[0] ? e->function : "-", status,
             e->code[0] ? e->code : "Error", e->message,
             e->reason[0] ? " (Reason: " : "", e->reason, e->reason[0] ? ")" : "");
}

void lambda_response_clear(lambda_response *r)
{
    free(r->body);
    free(r->function_error);
    free(r->log_result);
    free(r->executed_version);
    memset(r, 0, sizeof(*r));
}

/* ---------- client ---------- */

static int split_endpoint(lambda_client *c, char *err, size_t errlen)
{
    const char *p = c->endpoint, *host, *slash;
    if (strncmp(p, "https://", 8) == 0)
        host = p + 8;
    else if (strncmp(p, "http://", 7) == 0)
        host = p + 7;
    else {
        snprintf(err, errlen, "endpoint %s: must start with https:// or http://", p);
        return -1;
    }
    slash = strchr(host, '/');
    c->host = slash ? strndup(host, (size_t)(slash - host)) : strdup(host);
    c->base_path = strdup(slash ? slash : "");
    if (!c->host || !c->base_path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!c->host[0] || strpbrk(c->host, " \t\r\n@?#")) {
        snprintf(err, errlen, "endpoint %s: no usable host name", c->endpoint);
        return -1;
    }
    if (strchr(c->base_path, '?') || strchr(c->base_path, '#')) {
        snprintf(err, errlen, "endpoint %s: must not carry a query or fragment", c->endpoint);
        return -1;
    }
    return 0;
}

lambda_client *lambda_client_new(const lambda_client_options *o, char *err, size_t errlen)
{
    lambda_client *c = calloc(1, sizeof(*c));
    size_t n;

    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!o->endpoint || !o->region || !o->cred || !o->cred->access_key_id || !o->cred->secret_access_key) {
        snprintf(err, errlen, "lambda client: endpoint, region and credentials are required");
        goto fail;
    }
    c->endpoint = strdup(o->endpoint);
    c->region = strdup(o->region);
    c->ca_bundle = o->ca_bundle ? strdup(o->ca_bundle) : NULL;
    if (!c->endpoint || !c->region || (o->ca_bundle && !c->ca_bundle)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    n = strlen(c->endpoint);
    while (n > 0 && c->endpoint[n - 1] == '/')
        c->endpoint[--n] = '\0';
    if (split_endpoint(c, err, errlen) != 0)
        goto fail;
    c->cred = o->cred;
    c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
    c->api_timeout_ms = o->api_timeout_ms > 0 ? o->api_timeout_ms : 30000;
    c->invoke_timeout_ms = o->invoke_timeout_ms > 0 ? o->invoke_timeout_ms : 905000;
    c->max_attempts = o->max_attempts > 0 ? o->max_attempts : 8;
    c->backoff_base_ms = o->backoff_base_ms > 0 ? o->backoff_base_ms : 100;
    c->backoff_cap_ms = o->backoff_cap_ms > 0 ? o->backoff_cap_ms : 5000;
    c->retry_budget_ms = o->retry_budget_ms > 0 ? o->retry_budget_ms : 120000;
    c->trace = o->trace;
    if (RAND_bytes((unsigned char *)&c->jitter, sizeof(c->jitter)) != 1 || c->jitter == 0)
        c->jitter = 0x9e3779b97f4a7c15ULL;
    c->share = curl_share_init();
    if (!c->share) {
        snprintf(err, errlen, "libcurl: cannot make a share handle");
        goto fail;
    }
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    return c;
fail:
    lambda_client_free(c);
    return NULL;
}

void lambda_client_free(lambda_client *c)
{
    if (!c)
        return;
    if (c->share)
        curl_share_cleanup(c->share);
    free(c->endpoint);
    free(c->host);
    free(c->base_path);
    free(c->region);
    free(c->ca_bundle);
    free(c);
}

const char *lambda_client_endpoint(const lambda_client *c) { return c->endpoint; }
const char *lambda_client_region(const lambda_client *c) { return c->region; }

/* ---------- calls ---------- */

static int call_add_header(lambda_call *call, const char *name, const char *value)
{
    if (call->nextra >= CALL_MAX_HEADERS)
        return -1;
    call->extra[call->nextra].name = name;
    call->extra[call->nextra].value = strdup(value);
    if (!call->extra[call->nextra].value)
        return -1;
    call->nextra++;
    return 0;
}

/* The path is prefix + the encoded function name + suffix. */
static lambda_call *call_new(lambda_client *c, const char *op, const char *method, const char *function,
                             const char *prefix, const char *suffix, const char *qualifier)
{
    lambda_call *call = calloc(1, sizeof(*call));
    char enc[1024], path[1400], q[300];

    if (!call)
        return NULL;
    call->c = c;
    snprintf(call->op, sizeof(call->op), "%s", op);
    snprintf(call->function, sizeof(call->function), "%s", function);
    call->method = method;
    call->timeout_ms = c->api_timeout_ms;
    call->keep_max = call->hard_max = LAMBDA_MAX_API_RESPONSE;
    call->json_response = true;
    snprintf(call->err.op, sizeof(call->err.op), "%s", op);
    copy_printable(call->err.function, sizeof(call->err.function), function, strlen(function));
    if (lambda_encode_component(function, enc, sizeof(enc)) < 0)
        goto fail;
    snprintf(path, sizeof(path), "%s%s%s%s", c->base_path, prefix, enc, suffix);
    call->path = strdup(path);
    if (!call->path)
        goto fail;
    if (qualifier && qualifier[0]) {
        char qenc[260];
        if (lambda_encode_component(qualifier, qenc, sizeof(qenc)) < 0)
            goto fail;
        snprintf(q, sizeof(q), "Qualifier=%s", qenc);
        call->query = strdup(q);
        if (!call->query)
            goto fail;
    }
    return call;
fail:
    lambda_call_free(call);
    return NULL;
}

lambda_call *lambda_call_invoke(lambda_client *c, const lambda_invoke_request *req)
{
    static const char *const types[] = {"RequestResponse", "Event", "DryRun"};
    lambda_call *call = call_new(c, "Invoke", "POST", req->function,
                                 "/2015-03-31/functions/", "/invocations",
                                 req->qualifier);
    if (!call)
        return NULL;
    call->timeout_ms = c->invoke_timeout_ms;
    call->json_response = false;
    call->hard_max = LAMBDA_MAX_INVOKE_RESPONSE;
    call->keep_max = req->max_payload && req->max_payload < call->hard_max ? req->max_payload : call->hard_max;
    if (req->payload_len) {
        call->body = malloc(req->payload_len);
        if (!call->body)
            goto fail;
        memcpy(call->body, req->payload, req->payload_len);
        call->body_len = req->payload_len;
    }
    if (call_add_header(call, "X-Amz-Invocation-Type", types[req->type]) != 0)
        goto fail;
    if (req->log_tail && req->type == LAMBDA_INVOKE_REQUEST_RESPONSE &&
        call_add_header(call, "X-Amz-Log-Type", "Tail") != 0)
        goto fail;
    if (req->client_context && call_add_header(call, "X-Amz-Client-Context", req->client_context) != 0)
        goto fail;
    return call;
fail:
    lambda_call_free(call);
    return NULL;
}

lambda_call *lambda_call_http(lambda_client *c, const lambda_http_request *req)
{
    lambda_call *call = calloc(1, sizeof(*call));
    const char *host, *path;
    char *q;

    if (!call)
        return NULL;
    call->c = c;
    call->http = true;
    call->sign = req->sign;
    snprintf(call->op, sizeof(call->op), "HTTP");
    snprintf(call->function, sizeof(call->function), "%s", req->function ? req->function : req->url);
    snprintf(call->err.op, sizeof(call->err.op), "HTTP");
    copy_printable(call->err.function, sizeof(call->err.function), call->function, strlen(call->function));
    call->method = req->method ? req->method : "POST";
    call->content_type = req->content_type ? req->content_type : "application/json";
    call->timeout_ms = c->invoke_timeout_ms;
    call->hard_max = LAMBDA_MAX_INVOKE_RESPONSE;
    call->keep_max = req->max_payload && req->max_payload < call->hard_max ? req->max_payload : call->hard_max;
    if (strncmp(req->url, "https://", 8) == 0)
        host = req->url + 8;
    else if (strncmp(req->url, "http://", 7) == 0)
        host = req->url + 7;
    else
        goto fail;
    path = strchr(host, '/');
    call->url = strdup(req->url);
    call->http_host = path ? strndup(host, (size_t)(path - host)) : strdup(host);
    call->path = strdup(path ? path : "/");
    if (!call->url || !call->http_host || !call->path || !call->http_host[0])
        goto fail;
    /* The signer wants path and query apart. */
    if ((q = strchr(call->path, '?')) != NULL) {
        *q = '\0';
        call->query = strdup(q + 1);
        if (!call->query)
            goto fail;
    }
    if (req->body_len) {
        call->body = malloc(req->body_len);
        if (!call->body)
            goto fail;
        memcpy(call->body, req->body, req->body_len);
        call->body_len = req->body_len;
    }
    return call;
fail:
    lambda_call_free(call);
    return NULL;
}

void lambda_call_free(lambda_call *call)
{
    if (!call)
        return;
    if (call->easy)
        curl_easy_cleanup(call->easy);
    curl_slist_free_all(call->hdrs);
    for (size_t i = 0; i < call->nextra; i++)
        free(call->extra[i].value);
    free(call->path);
    free(call->query);
    free(call->body);
    free(call->url);
    free(call->http_host);
    lambda_response_clear(&call->resp);
    free(call);
}

const lambda_error *lambda_call_error(const lambda_call *call) { return &call->err; }
CURL *lambda_call_handle(const lambda_call *call) { return call->easy; }

void lambda_call_take_response(lambda_call *call, lambda_response *out)
{
    *out = call->resp;
    memset(&call->resp, 0, sizeof(call->resp));
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    lambda_call *call = ud;
    size_t n = size * nmemb, keep;

    call->resp.body_total += n;
    if (call->resp.body_total > call->hard_max) {
        call->too_large = true;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    keep = call->resp.body_len < call->keep_max ? call->keep_max - call->resp.body_len : 0;
    if (keep > n)
        keep = n;
    if (keep < n)
        call->resp.truncated = true;
    if (keep == 0)
        return n;
    if (call->resp.body_len + keep + 1 > call->body_cap) {
        size_t cap = call->body_cap ? call->body_cap : 4096;
        char *nb;
        while (cap < call->resp.body_len + keep + 1)
            cap *= 2;
        nb = realloc(call->resp.body, cap);
        if (!nb)
            return 0;
        call->resp.body = nb;
        call->body_cap = cap;
    }
    memcpy(call->resp.body + call->resp.body_len, ptr, keep);
    call->resp.body_len += keep;
    call->resp.body[call->resp.body_len] = '\0';
    return n;
}

static void keep_header(char **slot, const char *v, size_t n)
{
    free(*slot);
    *slot = strndup(v, n);
}


/* The request id as the log lines carry it, or nothing: a value that is not
 * printable ASCII without spaces could never match a log line's id. */
static void keep_request_id(char *out, size_t outlen, const char *v, size_t vl)
{
    out[0] = '\0';
    if (vl == 0 || vl >= outlen)
        return;
    for (size_t i = 0; i < vl; i++)
        if (v[i] <= ' ' || v[i] > '~')
            return;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    lambda_call *call = ud;
    size_t n = size * nmemb, nl;
    const char *colon, *v;

    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        /* A new response (after 100 Continue, or a redirect): forget the last. */
        free(call->resp.function_error);
        free(call->resp.log_result);
        free(call->resp.executed_version);
        call->resp.function_error = call->resp.log_result = call->resp.executed_version = NULL;
        call->resp.request_id[0] = '\0';
        call->error_type[0] = '\0';
        call->retry_after_ms = 0;
        return n;
    }
    colon = memchr(ptr, ':', n);
    if (!colon)
        return n;
    nl = (size_t)(colon - ptr);
    v = colon + 1;
    while (v < ptr + n && (*v == ' ' || *v == '\t'))
        v++;
    {
        size_t vl = (size_t)(ptr + n - v);
        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl > MAX_HEADER_VALUE)
            return n; /* a value no Lambda header reaches: ignore it */
        if (nl == 20 && strncasecmp(ptr, "X-Amz-Function-Error", nl) == 0)
            keep_header(&call->resp.function_error, v, vl);
        else if (nl == 16 && strncasecmp(ptr, "X-Amz-Log-Result", nl) == 0)
            keep_header(&call->resp.log_result, v, vl);
        else if (nl == 22 && strncasecmp(ptr, "X-Amz-Executed-Version", nl) == 0)
            keep_header(&call->resp.executed_version, v, vl);
        else if (nl == 16 && strncasecmp(ptr, "x-amzn-RequestId", nl) == 0)
            keep_request_id(call->resp.request_id, sizeof(call->resp.request_id), v, vl);
        else if (nl == 16 && strncasecmp(ptr, "x-amzn-ErrorType", nl) == 0)
            copy_server_text(call->c, call->error_type, sizeof(call->error_type), v, vl);
        else if (nl == 11 && strncasecmp(ptr, "Retry-After", nl) == 0) {
            char tmp[32];
            char *end;
            double s;
            copy_printable(tmp, sizeof(tmp), v, vl);
            s = strtod(tmp, &end);
            if (end != tmp && s >= 0 && s < 3600)
                call->retry_after_ms = (long)(s * 1000.0);
        }
    }
    return n;
}

static int build_headers(lambda_call *call, char *err, size_t errlen)
{
    lambda_client *c = call->c;
    sigv4_header h[CALL_MAX_HEADERS + 4];
    size_t nh = 0;
    char amz_date[20], auth[SIGV4_MAX_AUTH_LEN], line[MAX_HEADER_VALUE + 64];
    sigv4_request req;
    struct curl_slist *l = NULL, *t;

    if (call->http && !call->sign) {
        /* A URL with auth type NONE: the caller's credentials stay home. */
        snprintf(line, sizeof(line), "Content-Type: %s", call->content_type);
        if (!(t = curl_slist_append(l, line)))
            goto oom;
        l = t;
        if (!(t = curl_slist_append(l, "Expect:")))
            goto oom;
        curl_slist_free_all(call->hdrs);
        call->hdrs = t;
        return 0;
    }
    sigv4_amz_date(time(NULL), amz_date, sizeof(amz_date));
    h[nh++] = (sigv4_header){"Host", call->http ? call->http_host : c->host};
    h[nh++] = (sigv4_header){"X-Amz-Date", amz_date};
    if (c->cred->session_token && c->cred->session_token[0])
        h[nh++] = (sigv4_header){"X-Amz-Security-Token", c->cred->session_token};
    if (call->json_response && call->body_len)
        h[nh++] = (sigv4_header){"Content-Type", "application/json"};
    if (call->http)
        h[nh++] = (sigv4_header){"Content-Type", call->content_type};
    for (size_t i = 0; i < call->nextra; i++)
        h[nh++] = (sigv4_header){call->extra[i].name, call->extra[i].value};
    req = (sigv4_request){.method = call->method, .path = call->path, .query = call->query,
                          .headers = h, .nheaders = nh, .body = call->body, .body_len = call->body_len};
    if (sigv4_sign(&req, c->cred, c->region, "lambda", amz_date, auth, sizeof(auth)) != SIGV4_OK) {
        snprintf(err, errlen, "%s %s: cannot sign the request", call->op, call->err.function);
        return -1;
    }
    for (size_t i = 0; i < nh; i++) {
        int n = snprintf(line, sizeof(line), "%s: %s", h[i].name, h[i].value);
        t = curl_slist_append(l, line);
        /* The token may be among them: wipe what was written, not all 8 KB. */
        OPENSSL_cleanse(line, n > 0 && (size_t)n < sizeof(line) ? (size_t)n : sizeof(line));
        if (!t)
            goto oom;
        l = t;
    }
    snprintf(line, sizeof(line), "Authorization: %s", auth);
    t = curl_slist_append(l, line);
    if (!t)
        goto oom;
    l = t;
    /* No 100-continue round trip, and no Accept header nobody asked for. */
    if (!(t = curl_slist_append(l, "Expect:")))
        goto oom;
    l = t;
    if (!call->http && (!call->body_len || !call->json_response)) {
        if (!(t = curl_slist_append(l, "Content-Type:")))
            goto oom;
        l = t;
    }
    curl_slist_free_all(call->hdrs);
    call->hdrs = l;
    return 0;
oom:
    curl_slist_free_all(l);
    snprintf(err, errlen, "out of memory");
    return -1;
}

CURL *lambda_call_attempt(lambda_call *call, char *err, size_t errlen)
{
    lambda_client *c = call->c;
    CURL *e;

    if (!call->url) {
        size_t n = strlen(c->endpoint) + strlen(call->path) - strlen(c->base_path) +
                   (call->query ? strlen(call->query) + 1 : 0) + 1;
        call->url = malloc(n);
        if (!call->url) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        snprintf(call->url, n, "%s%s%s%s", c->endpoint, call->path + strlen(c->base_path),
                 call->query ? "?" : "", call->query ? call->query : "");
    }
    if (!call->easy) {
        call->easy = curl_easy_init();
        if (!call->easy) {
            snprintf(err, errlen, "libcurl: cannot make an easy handle");
            return NULL;
        }
    }
    e = call->easy;
    if (build_headers(call, err, errlen) != 0)
        return NULL;
    /* A fresh response for this attempt. */
    lambda_response_clear(&call->resp);
    call->body_cap = 0;
    call->too_large = false;
    call->error_type[0] = '\0';
    call->retry_after_ms = 0;
    call->errbuf[0] = '\0';
    call->attempts++;

    curl_easy_setopt(e, CURLOPT_URL, call->url);
    curl_easy_setopt(e, CURLOPT_SHARE, c->share);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, call->method);
    if (strcmp(call->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->body ? (const char *)call->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->hdrs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, call->timeout_ms);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    /* 4 KB instead of 16: a thousand transfers in flight keep 12 MB less,
     * and Lambda answers are mostly small. */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
    if (c->ca_bundle)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_bundle);
    curl_easy_setopt(e, CURLOPT_PRIVATE, call);
    return e;
}

/* x-amzn-ErrorType "Code:http://..." or "ns#Code": keep the code (PARSE). */
static void trim_error_type(char *t)
{
    char *hash = strrchr(t, '#'), *colon;
    if (hash)
        memmove(t, hash + 1, strlen(hash + 1) + 1);
    colon = strchr(t, ':');
    if (colon)
        *colon = '\0';
}

/* Replaces every occurrence of needle in *buf (length *len) with
 * "[redacted]"; *buf is reallocated. */
static int redact_all(char **buf, size_t *len, const char *needle)
{
    static const char mark[] = "[redacted]";
    size_t nl = needle ? strlen(needle) : 0, o = 0;
    char *out;

    if (nl < 4)
        return 0; /* nothing that short is a credential worth hiding */
    out = malloc(*len / nl * (sizeof(mark) - 1) + *len + 1);
    if (!out)
        return -1;
    for (size_t i = 0; i < *len;) {
        if (i + nl <= *len && memcmp(*buf + i, needle, nl) == 0) {
            memcpy(out + o, mark, sizeof(mark) - 1);
            o += sizeof(mark) - 1;
            i += nl;
        } else {
            out[o++] = (*buf)[i++];
        }
    }
    out[o] = '\0';
    free(*buf);
    *buf = out;
    *len = o;
    return 0;
}

/*
 * Server text (error messages, codes, excerpts) goes to the terminal, the
 * --verbose trace and reports, so it must not carry our credentials: AWS's
 * InvalidSignatureException quotes the canonical request, session token
 * included. We cut there, redact every whole occurrence of the key id,
 * secret and token, and a credential's prefix left at the end by a server
 * that truncated its own message; then keep printable ASCII only.
 */
static void copy_server_text(const lambda_client *c, char *dst, size_t dstlen, const char *src, size_t srclen)
{
    const char *creds[3] = {c->cred->secret_access_key, c->cred->session_token, c->cred->access_key_id};
    const char *cut = memmem(src, srclen, "The Canonical String", 20);
    char *buf;
    size_t len;

    if (cut)
        srclen = (size_t)(cut - src);
    if (srclen > 4096)
        srclen = 4096;
    buf = strndup(src, srclen);
    if (!buf) {
        copy_printable(dst, dstlen, "(server text withheld: out of memory)", 37);
        return;
    }
    len = strlen(buf);
    for (int i = 0; i < 3; i++) {
        size_t cl = creds[i] ? strlen(creds[i]) : 0;
        if (redact_all(&buf, &len, creds[i]) != 0) {
            free(buf);
            copy_printable(dst, dstlen, "(server text withheld: out of memory)", 37);
            return;
        }
        size_t start = cl > 0 ? cl - 1 : 0;
        if (start > len)
            start = len;
        for (size_t k = start; k >= 8; k--) {
            if (memcmp(buf + len - k, creds[i], k) == 0) {
                len -= k;
                buf[len] = '\0';
                break;
            }
        }
    }
    copy_printable(dst, dstlen, buf, len);
    OPENSSL_cleanse(buf, len);
    free(buf);
}

static void parse_error_body(lambda_call *call)
{
    lambda_error *e = &call->err;
    cJSON *doc = NULL;
    const cJSON *v;
    static const char *const code_keys[] = {"code", "Code", "__type", NULL};
    static const char *const msg_keys[] = {"message", "Message", "errorMessage", NULL};

    e->code[0] = e->message[0] = e->reason[0] = '\0';
    if (call->error_type[0]) {
        trim_error_type(call->error_type);
        snprintf(e->code, sizeof(e->code), "%s", call->error_type);
    }
    if (call->resp.body_len)
        doc = jsonutil_parse_whole(call->resp.body, call->resp.body_len);
    if (cJSON_IsObject(doc)) {
        for (int i = 0; !e->code[0] && code_keys[i]; i++) {
            v = cJSON_GetObjectItemCaseSensitive(doc, code_keys[i]);
            if (cJSON_IsString(v)) {
                copy_server_text(call->c, e->code, sizeof(e->code), v->valuestring, strlen(v->valuestring));
                trim_error_type(e->code);
            }
        }
        for (int i = 0; !e->message[0] && msg_keys[i]; i++) {
            v = cJSON_GetObjectItemCaseSensitive(doc, msg_keys[i]);
            if (cJSON_IsString(v))
                copy_server_text(call->c, e->message, sizeof(e->message), v->valuestring, strlen(v->valuestring));
        }
        v = cJSON_GetObjectItemCaseSensitive(doc, "Reason");
        if (cJSON_IsString(v))
            copy_server_text(call->c, e->reason, sizeof(e->reason), v->valuestring, strlen(v->valuestring));
    } else if (call->resp.body_len) {
        size_t n = call->resp.body_len < 200 ? call->resp.body_len : 200;
        char shown[220];
        copy_server_text(call->c, shown, sizeof(shown), call->resp.body, n);
        snprintf(e->message, sizeof(e->message), "non-JSON error body (%zu bytes): %s%s", call->resp.body_total,
                 shown, call->resp.body_len > n ? "..." : "");
    }
    cJSON_Delete(doc);
    if (!e->code[0])
        snprintf(e->code, sizeof(e->code), "HTTP%ld", call->resp.status);
    if (!e->message[0])
        snprintf(e->message, sizeof(e->message), "no error message in the answer");
}

static bool retryable_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static long backoff_ms(lambda_call *call, bool throttled)
{
    lambda_client *c = call->c;
    int shift = call->attempts < 16 ? call->attempts : 16;
    long ceiling = c->backoff_base_ms << shift;
    long d;

    if (ceiling > c->backoff_cap_ms || ceiling <= 0)
        ceiling = c->backoff_cap_ms;
    d = (long)(next_jitter(c) % (uint64_t)(ceiling + 1));
    if (throttled && call->retry_after_ms > 0) {
        long floor_ms = call->retry_after_ms < RETRY_AFTER_CAP_MS ? call->retry_after_ms : RETRY_AFTER_CAP_MS;
        /* Spread the callers told to wait the same time, so they do not
         * come back in one burst. */
        d = floor_ms + d / 2;
    }
    return d;
}

lambda_call_outcome lambda_call_done(lambda_call *call, CURLcode rc, long *retry_in_ms)
{
    lambda_client *c = call->c;
    lambda_error *e = &call->err;
    bool retry = false, throttled = false;
    long delay;

    *retry_in_ms = 0;
    e->attempts = call->attempts;
    call->resp.attempts = call->attempts;
    e->http_status = 0;
    if (call->easy) {
        double t = 0;
        curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &call->resp.status);
        if (curl_easy_getinfo(call->easy, CURLINFO_TOTAL_TIME, &t) == CURLE_OK)
            call->resp.total_ms = t * 1000.0;
        if (curl_easy_getinfo(call->easy, CURLINFO_STARTTRANSFER_TIME, &t) == CURLE_OK)
            call->resp.first_byte_ms = t * 1000.0;
    }
    if (rc != CURLE_OK) {
        if (call->too_large) {
            snprintf(e->code, sizeof(e->code), "ResponseTooLarge");
            snprintf(e->message, sizeof(e->message),
                     "the endpoint sent more than %zu bytes; no Lambda answer is that large", call->hard_max);
            return LAMBDA_CALL_FAILED;
        }
        const char *why = call->errbuf[0] ? call->errbuf : curl_easy_strerror(rc);
        if (rc == CURLE_OUT_OF_MEMORY) {
            /* What libcurl answers to a header line over its 100 KB limit. */
            snprintf(e->code, sizeof(e->code), "ResponseTooLarge");
            snprintf(e->message, sizeof(e->message), "the endpoint sent a header libcurl would not hold (%s)", why);
            return LAMBDA_CALL_FAILED;
        }
        snprintf(e->code, sizeof(e->code), "%s",
                 rc == CURLE_OPERATION_TIMEDOUT ? "Timeout"
                 : (rc == CURLE_WEIRD_SERVER_REPLY || rc == CURLE_BAD_CONTENT_ENCODING) ? "InvalidResponse"
                 : "NetworkError");
        copy_printable(e->message, sizeof(e->message), why, strlen(why));
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            size_t n = strlen(e->message);
            snprintf(e->message + n, sizeof(e->message) - n, " (limit %ld ms)", call->timeout_ms);
        }
        retry = retryable_curl(rc);
    } else if (call->http && call->resp.status != 429) {
        /* What an HTTP caller sees, error pages included, is the answer. */
        if (call->resp.status >= 500 && !call->resp.function_error) {
            char what[32];
            snprintf(what, sizeof(what), "HTTP %ld", call->resp.status);
            call->resp.function_error = strdup(what);
        }
        return LAMBDA_CALL_OK;
    } else if (call->resp.status >= 200 && call->resp.status < 300) {
        if (call->json_response) {
            /* Every control-plane answer is one JSON object; an empty or
             * half-garbage body is not "nothing to report". */
            cJSON *doc = jsonutil_parse_whole(call->resp.body, call->resp.body_len);
            bool ok = cJSON_IsObject(doc);
            cJSON_Delete(doc);
            if (!ok || call->resp.truncated) {
                e->http_status = call->resp.status;
                snprintf(e->code, sizeof(e->code), "InvalidResponse");
                snprintf(e->message, sizeof(e->message), "the answer (%zu bytes) is not a JSON object",
                         call->resp.body_total);
                return LAMBDA_CALL_FAILED;
            }
        }
        return LAMBDA_CALL_OK;
    } else {
        e->http_status = call->resp.status;
        parse_error_body(call);
        throttled = call->resp.status == 429;
        retry = throttled || call->resp.status >= 500 ||
                (call->resp.status == 409 && strcmp(e->code, "ResourceConflictException") == 0);
    }
    if (!retry)
        return LAMBDA_CALL_FAILED;
    if (!throttled && call->attempts >= c->max_attempts)
        return LAMBDA_CALL_FAILED;
    delay = backoff_ms(call, throttled);
    if (call->waited_ms + delay > c->retry_budget_ms)
        return LAMBDA_CALL_FAILED;
    call->waited_ms += delay;
    if (c->trace) {
        char line[800];
        lambda_error_format(e, line, sizeof(line));
        fprintf(c->trace, "coldsec: %s (attempt %d); retrying in %ld ms\n", line, call->attempts, delay);
    }
    *retry_in_ms = delay;
    return LAMBDA_CALL_RETRY;
}

/* ---------- synchronous operations ---------- */

static int run_call(lambda_call *call, lambda_error *err)
{
    char msg[256];
    for (;;) {
        CURL *e = lambda_call_attempt(call, msg, sizeof(msg));
        CURLcode rc;
        long wait;
        lambda_call_outcome oc;

        if (!e) {
            *err = call->err;
            snprintf(err->code, sizeof(err->code), "ClientError");
            snprintf(err->message, sizeof(err->message), "%s", msg);
            return -1;
        }
        rc = curl_easy_perform(e);
        oc = lambda_call_done(call, rc, &wait);
        if (oc == LAMBDA_CALL_OK)
            return 0;
        if (oc == LAMBDA_CALL_FAILED) {
            *err = call->err;
            return -1;
        }
        monotime_sleep_ms(wait);
    }
}

static void client_error(lambda_error *err, const char *op, const char *function, const char *msg)
{
    memset(err, 0, sizeof(*err));
    snprintf(err->op, sizeof(err->op), "%s", op);
    copy_printable(err->function, sizeof(err->function), function, strlen(function));
    snprintf(err->code, sizeof(err->code), "ClientError");
    snprintf(err->message, sizeof(err->message), "%s", msg);
}

int lambda_invoke(lambda_client *c, const lambda_invoke_request *req, lambda_response *out, lambda_error *err)
{
    lambda_call *call = lambda_call_invoke(c, req);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!call) {
        client_error(err, "Invoke", req->function, "out of memory, or a function name over 256 characters");
        return -1;
    }
    rc = run_call(call, err);
    if (rc == 0)
        lambda_call_take_response(call, out);
    lambda_call_free(call);
    return rc;
}

static int json_op(lambda_client *c, const char *op, const char *method, const char *function,
                   const char *prefix, const char *suffix, const char *qualifier, const cJSON *body,
                   cJSON **out, lambda_error *err)
{
    lambda_call *call = call_new(c, op, method, function, prefix, suffix, qualifier);
    int rc = -1;

    *out = NULL;
    if (!call) {
        client_error(err, op, function, "out of memory, or a function name over 256 characters");
        return -1;
    }
    if (body) {
        char *text = cJSON_PrintUnformatted(body);
        if (!text) {
            client_error(err, op, function, "out of memory");
            goto cleanup;
        }
        call->body = (unsigned char *)text;
        call->body_len = strlen(text);
    }
    if (run_call(call, err) != 0)
        goto cleanup;
    *out = jsonutil_parse_whole(call->resp.body, call->resp.body_len);
    if (!*out) {
        client_error(err, op, function, "out of memory");
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (call && call->body) {
        /* An update body holds the function's variables: wipe it. */
        OPENSSL_cleanse(call->body, call->body_len);
    }
    lambda_call_free(call);
    return rc;
}

int lambda_get_configuration(lambda_client *c, const char *function, const char *qualifier, cJSON **out,
                             lambda_error *err)
{
    return json_op(c, "GetFunctionConfiguration", "GET", function, "/2015-03-31/functions/",
                   "/configuration", qualifier, NULL, out, err);
}

int lambda_update_configuration(lambda_client *c, const char *function, const cJSON *body, cJSON **out,
                                lambda_error *err)
{
    return json_op(c, "UpdateFunctionConfiguration", "PUT", function, "/2015-03-31/functions/",
                   "/configuration", NULL, body, out, err);
}

int lambda_get_function(lambda_client *c, const char *function, const char *qualifier, cJSON **out,
                        lambda_error *err)
{
    return json_op(c, "GetFunction", "GET", function, "/2015-03-31/functions/", "", qualifier, NULL, out, err);
}

int lambda_get_concurrency(lambda_client *c, const char *function, cJSON **out, lambda_error *err)
{
    return json_op(c, "GetFunctionConcurrency", "GET", function, "/2019-09-30/functions/", "/concurrency", NULL,
                   NULL, out, err);
}
