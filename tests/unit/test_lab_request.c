/*
 * Unit tests for harness/lab_request.c: the lab's request parsing, the
 * part of lab_api and lab_runtime_api that needs no connection.
 *
 * Tables of routes (Lambda API and Runtime API) with the answer each gets,
 * the Invoke headers and payload checks, function URL events and answer
 * mapping, and the regression inputs the fuzz targets
 * (tests/fuzz/fuzz_lab_*.c) found, each next to what it broke.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lab_request.h"

#define REGION "us-east-1"
#define ACCOUNT "123456789012"

typedef struct route_case {
    const char *method;
    const char *path;
    const char *qualifier;
    const char *name; /* when routed */
    const char *code; /* when refused */
    lab_request_op op;
    int status;       /* when refused */
} route_case;

static const route_case routes[] = {
    {"GET", "/2015-03-31/functions", NULL, "", NULL, LAB_REQUEST_OP_LIST_FUNCTIONS, 0},
    {"GET", "/2015-03-31/functions/", NULL, "", NULL, LAB_REQUEST_OP_LIST_FUNCTIONS, 0},
    {"POST", "/2015-03-31/functions", NULL, NULL, "UnknownOperationException", LAB_REQUEST_OP_ERROR, 404},
    {"POST", "/2015-03-31/functions/hello/invocations", NULL, "hello", NULL, LAB_REQUEST_OP_INVOKE, 0},
    {"POST", "/2015-03-31/functions/hello%3A%24LATEST/invocations", NULL, "hello", NULL, LAB_REQUEST_OP_INVOKE, 0},
    {"POST", "/2015-03-31/functions/hello/invocations", "%24LATEST", "hello", NULL, LAB_REQUEST_OP_INVOKE, 0},
    {"POST", "/2015-03-31/functions/hello/invocations", "prod", "hello", NULL, LAB_REQUEST_OP_INVOKE, 0},
    {"PUT", "/2015-03-31/functions/hello/configuration", "prod", NULL, "ResourceNotFoundException", LAB_REQUEST_OP_ERROR, 404},
    {"POST", "/2015-03-31/functions/hello/invocations", "%zz", NULL, "InvalidParameterValueException", LAB_REQUEST_OP_ERROR, 400},
    {"POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ahello/invocations", NULL, "hello", NULL, LAB_REQUEST_OP_INVOKE, 0},
    {"POST", "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:hello:$LATEST/invocations", NULL, "hello", NULL, LAB_REQUEST_OP_INVOKE, 0},
    {"POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Ahello/invocations", NULL, NULL, "ResourceNotFoundException", LAB_REQUEST_OP_ERROR, 404},
    {"POST", "/2015-03-31/functions/123456789012%3Afunction%3Ahello/invocations", NULL, "hello", NULL, LAB_REQUEST_OP_INVOKE, 0},
    {"POST", "/2015-03-31/functions/999999999999%3Afunction%3Ahello/invocations", NULL, NULL, "ResourceNotFoundException", LAB_REQUEST_OP_ERROR, 404},
    {"POST", "/2015-03-31/functions/a%3Ab%3Ac/invocations", NULL, NULL, "ResourceNotFoundException", LAB_REQUEST_OP_ERROR, 404},
    {"POST", "/2015-03-31/functions/bad%2/invocations", NULL, NULL, "ResourceNotFoundException", LAB_REQUEST_OP_ERROR, 404},
    {"POST", "/2015-03-31/functions/nul%00/invocations", NULL, NULL, "ResourceNotFoundException", LAB_REQUEST_OP_ERROR, 404},
    {"POST", "/2015-03-31/functions//invocations", NULL, NULL, "ResourceNotFoundException", LAB_REQUEST_OP_ERROR, 404},
    {"GET", "/2015-03-31/functions/hello/invocations", NULL, NULL, "UnknownOperationException", LAB_REQUEST_OP_ERROR, 404},
    {"GET", "/2015-03-31/functions/hello/configuration", NULL, "hello", NULL, LAB_REQUEST_OP_GET_CONFIGURATION, 0},
    {"PUT", "/2015-03-31/functions/hello/configuration", NULL, "hello", NULL, LAB_REQUEST_OP_UPDATE_CONFIGURATION, 0},
    {"GET", "/2015-03-31/functions/hello", NULL, "hello", NULL, LAB_REQUEST_OP_GET_FUNCTION, 0},
    {"GET", "/2015-03-31/functions/hello/", NULL, "hello", NULL, LAB_REQUEST_OP_GET_FUNCTION, 0},
    {"PUT", "/2017-10-31/functions/hello/concurrency", NULL, "hello", NULL, LAB_REQUEST_OP_PUT_CONCURRENCY, 0},
    {"DELETE", "/2017-10-31/functions/hello/concurrency", NULL, "hello", NULL, LAB_REQUEST_OP_DELETE_CONCURRENCY, 0},
    {"GET", "/2017-10-31/functions/hello/concurrency", NULL, NULL, "UnknownOperationException", LAB_REQUEST_OP_ERROR, 404},
    {"GET", "/2019-09-30/functions/hello/concurrency", NULL, "hello", NULL, LAB_REQUEST_OP_GET_CONCURRENCY, 0},
    {"GET", "/2016-01-01/functions/hello", NULL, NULL, "UnknownOperationException", LAB_REQUEST_OP_ERROR, 404},
    /* Regression (fuzz_lab_invoke): a function may be named "arn"; it was
     * taken for a truncated ARN and could not be reached at all. */
    {"POST", "/2015-03-31/functions/arn/invocations", NULL, "arn", NULL, LAB_REQUEST_OP_INVOKE, 0},
    {"POST", "/2015-03-31/functions/arn%3A%24LATEST/invocations", NULL, "arn", NULL, LAB_REQUEST_OP_INVOKE, 0},
    /* name "arn", qualifier "aws": routed; the pool answers 404 (no such alias) */
    {"POST", "/2015-03-31/functions/arn%3Aaws/invocations", NULL, "arn", NULL, LAB_REQUEST_OP_INVOKE, 0},
    {"POST", "/2015-03-31/functions/arn%3Aaws%3Alambda/invocations", NULL, NULL, "ResourceNotFoundException", LAB_REQUEST_OP_ERROR, 404},
};

static void test_routes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const route_case *c = &routes[i];
        lab_request_route rt;

        lab_request_route_api(c->method, c->path, c->qualifier, REGION, ACCOUNT, &rt);
        if (rt.op != c->op)
            fail_msg("%s %s: op %d, want %d", c->method, c->path, (int)rt.op, (int)c->op);
        if (c->op == LAB_REQUEST_OP_ERROR) {
            assert_int_equal(rt.err.status, c->status);
            assert_string_equal(rt.err.code, c->code);
            assert_true(rt.err.message[0] != '\0');
        } else {
            assert_string_equal(rt.name, c->name);
        }
    }
}

static void test_not_found_names_qualifier(void **state)
{
    lab_request_route rt;

    (void)state;
    /* Invoke takes a version or alias: the pool resolves it. */
    lab_request_route_api("POST", "/2015-03-31/functions/hello:prod/invocations", NULL, REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_INVOKE);
    assert_string_equal(rt.qualifier, "prod");
    /* UpdateFunctionConfiguration does not: the function itself only. */
    lab_request_route_api("PUT", "/2015-03-31/functions/hello:prod/configuration", NULL, REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_ERROR);
    assert_string_equal(rt.err.message,
                        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:hello:prod");
}

static void test_version_alias_routes(void **state)
{
    lab_request_route rt;

    (void)state;
    lab_request_route_api("POST", "/2015-03-31/functions/hello/versions", NULL, REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_PUBLISH_VERSION);
    lab_request_route_api("GET", "/2015-03-31/functions/hello/versions", NULL, REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_LIST_VERSIONS);
    lab_request_route_api("POST", "/2015-03-31/functions/hello/aliases", NULL, REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_CREATE_ALIAS);
    lab_request_route_api("GET", "/2015-03-31/functions/hello/aliases", NULL, REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_LIST_ALIASES);
    lab_request_route_api("PUT", "/2015-03-31/functions/hello/aliases/live", NULL, REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_UPDATE_ALIAS);
    assert_string_equal(rt.alias, "live");
    lab_request_route_api("DELETE", "/2015-03-31/functions/hello/aliases/live", NULL, REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_DELETE_ALIAS);
    lab_request_route_api("GET", "/2021-10-31/functions/hello/url", "live", REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_GET_URL_CONFIG);
    assert_string_equal(rt.qualifier, "live");
    lab_request_route_api("GET", "/2016-08-19/account-settings/", NULL, REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_GET_ACCOUNT_SETTINGS);
    lab_request_route_api("GET", "/2015-03-31/functions/hello/aliases/a/b", NULL, REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_ERROR);
    assert_string_equal(rt.err.code, "UnknownOperationException");
}

/* Regression (fuzz_lab_invoke, crash-31050f3c): a Qualifier argument
 * decoding to "a:b/c" routed an Invoke whose name:qualifier no longer named
 * the same function; AWS's pattern is (|[a-zA-Z0-9$_-]+). */
static void test_qualifier_charset(void **state)
{
    lab_request_route rt;

    (void)state;
    lab_request_route_api("POST", "/2015-03-31/functions/hello/invocations", "a%3Ab%2Fc", REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_ERROR);
    assert_int_equal(rt.err.status, 400);
    assert_string_equal(rt.err.code, "InvalidParameterValueException");
    lab_request_route_api("POST", "/2015-03-31/functions/hello/invocations", "live_2-$x", REGION, ACCOUNT, &rt);
    assert_int_equal(rt.op, LAB_REQUEST_OP_INVOKE);
    assert_string_equal(rt.qualifier, "live_2-$x");
}

/* Regression (fuzz_lab_invoke, crash-c83957b5): X-Amz-Client-Context "===="
 * wrote one byte before the decode buffer (EVP_DecodeBlock counts pads as
 * data, and four were taken off a three-byte result). */
static void test_client_context_padding(void **state)
{
    static const char *const bad[] = {"====", "A===", "AAAA====", "ab=c", "  AA", "AA\t=", "eQ======", NULL};
    char *out = (char *)"x";

    (void)state;
    for (size_t i = 0; bad[i]; i++) {
        assert_int_equal(lab_request_client_context(bad[i], &out), -1);
        assert_null(out);
    }
    assert_int_equal(lab_request_client_context("eyJhIjoxfQ==", &out), 0);
    assert_string_equal(out, "{\"a\":1}");
    free(out);
    assert_int_equal(lab_request_client_context("AA==", &out), 0);
    free(out);
    assert_int_equal(lab_request_client_context("", &out), 0);
    assert_string_equal(out, "");
    free(out);
}

static void test_client_context_limit(void **state)
{
    char *b64 = malloc(LAB_REQUEST_MAX_CLIENT_CONTEXT + 2), *out = NULL;

    (void)state;
    assert_non_null(b64);
    memset(b64, 'A', LAB_REQUEST_MAX_CLIENT_CONTEXT - 3);
    b64[LAB_REQUEST_MAX_CLIENT_CONTEXT - 3] = '\0'; /* 3580, a multiple of 4 */
    assert_int_equal(lab_request_client_context(b64, &out), 0);
    free(out);
    memset(b64, 'A', LAB_REQUEST_MAX_CLIENT_CONTEXT + 1);
    b64[LAB_REQUEST_MAX_CLIENT_CONTEXT + 1] = '\0'; /* 3584 */
    assert_int_equal(lab_request_client_context(b64, &out), -1);
    free(b64);
}

static void test_invoke_headers(void **state)
{
    lab_request_invocation_type t;
    lab_request_error err;
    bool tail = true;

    (void)state;
    assert_int_equal(lab_request_invoke_headers(NULL, NULL, &t, &tail, &err), 0);
    assert_int_equal(t, LAB_REQUEST_INVOKE_SYNC);
    assert_false(tail);
    assert_int_equal(lab_request_invoke_headers("Event", "Tail", &t, &tail, &err), 0);
    assert_int_equal(t, LAB_REQUEST_INVOKE_EVENT);
    assert_true(tail);
    assert_int_equal(lab_request_invoke_headers("DryRun", "None", &t, &tail, &err), 0);
    assert_int_equal(t, LAB_REQUEST_INVOKE_DRY_RUN);
    assert_int_equal(lab_request_invoke_headers("event", NULL, &t, &tail, &err), -1);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "InvalidParameterValueException");
    assert_non_null(strstr(err.message, "invocationType"));
    assert_int_equal(lab_request_invoke_headers(NULL, "tail", &t, &tail, &err), -1);
    assert_non_null(strstr(err.message, "logType"));
}

static void test_invoke_body(void **state)
{
    lab_request_error err;
    char *ctx = (char *)"x";
    char *big;

    (void)state;
    assert_int_equal(lab_request_invoke_body(LAB_REQUEST_INVOKE_SYNC, "{}", 2, false, NULL, &ctx, &err), 0);
    assert_null(ctx);
    assert_int_equal(lab_request_invoke_body(LAB_REQUEST_INVOKE_SYNC, "{}", 2, true, NULL, &ctx, &err), -1);
    assert_int_equal(err.status, 413);
    assert_string_equal(err.code, "RequestEntityTooLargeException");
    assert_int_equal(lab_request_invoke_body(LAB_REQUEST_INVOKE_SYNC, "{\"a\":1} x", 9, false, NULL, &ctx, &err), -1);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "InvalidRequestContentException");
    assert_non_null(strstr(err.message, "invalid JSON at byte 8"));
    assert_int_equal(lab_request_invoke_body(LAB_REQUEST_INVOKE_SYNC, "{}", 2, false, "====", &ctx, &err), -1);
    assert_null(ctx);
    assert_string_equal(err.code, "InvalidParameterValueException");
    assert_int_equal(lab_request_invoke_body(LAB_REQUEST_INVOKE_SYNC, "{}", 2, false, "e30=", &ctx, &err), 0);
    assert_string_equal(ctx, "{}");
    free(ctx);
    big = malloc(LAB_REQUEST_MAX_EVENT_PAYLOAD + 3);
    assert_non_null(big);
    big[0] = '"';
    memset(big + 1, 'a', LAB_REQUEST_MAX_EVENT_PAYLOAD);
    big[LAB_REQUEST_MAX_EVENT_PAYLOAD + 1] = '"';
    assert_int_equal(lab_request_invoke_body(LAB_REQUEST_INVOKE_EVENT, big, LAB_REQUEST_MAX_EVENT_PAYLOAD + 2,
                                             false, NULL, &ctx, &err), -1);
    assert_int_equal(err.status, 413);
    assert_non_null(strstr(err.message, "1048576"));
    assert_int_equal(lab_request_invoke_body(LAB_REQUEST_INVOKE_SYNC, big, LAB_REQUEST_MAX_EVENT_PAYLOAD + 2,
                                             false, NULL, &ctx, &err), 0);
    free(big);
}

static void test_config_body(void **state)
{
    lab_request_error err;
    cJSON *o;

    (void)state;
    o = lab_request_config_body(NULL, 0, false, &err);
    assert_true(cJSON_IsObject(o));
    cJSON_Delete(o);
    o = lab_request_config_body("{\"RevisionId\":\"r\"}", 18, false, &err);
    assert_true(cJSON_IsObject(o));
    cJSON_Delete(o);
    assert_null(lab_request_config_body("[1]", 3, false, &err));
    assert_int_equal(err.status, 400);
    assert_null(lab_request_config_body("{}", 2, true, &err));
    assert_int_equal(err.status, 413);
    assert_null(lab_request_config_body("{}", LAB_REQUEST_MAX_CONFIG_BODY + 1, false, &err));
    assert_int_equal(err.status, 413);
}

typedef struct rt_case {
    const char *method;
    const char *url;
    lab_request_rt_kind kind;
    int status;
    const char *id;
} rt_case;

static void test_runtime_routes(void **state)
{
    static const rt_case cases[] = {
        {"GET", "/2018-06-01/runtime/invocation/next", LAB_REQUEST_RT_NEXT, 0, ""},
        {"POST", "/2018-06-01/runtime/invocation/abc-1/response", LAB_REQUEST_RT_RESPONSE, 0, "abc-1"},
        {"POST", "/2018-06-01/runtime/invocation/abc-1/error", LAB_REQUEST_RT_ERROR, 0, "abc-1"},
        {"POST", "/2018-06-01/runtime/init/error", LAB_REQUEST_RT_INIT_ERROR, 0, ""},
        {"POST", "/2018-06-01/runtime/invocation//response", LAB_REQUEST_RT_RESPONSE, 0, ""},
        {"POST", "/2018-06-01/runtime/invocation/abc", LAB_REQUEST_RT_REFUSED, 400, ""},
        {"POST", "/2018-06-01/runtime/invocation/abc/next", LAB_REQUEST_RT_REFUSED, 404, ""},
        {"POST", "/2018-06-01/runtime/invocation/a/b/response", LAB_REQUEST_RT_REFUSED, 404, ""},
        {"POST", "/2018-06-01/runtime/invocation/next", LAB_REQUEST_RT_REFUSED, 400, ""},
        {"GET", "/2018-06-01/runtime/invocation/abc/response", LAB_REQUEST_RT_REFUSED, 404, ""},
        {"PUT", "/2018-06-01/runtime/invocation/next", LAB_REQUEST_RT_REFUSED, 405, ""},
        {"POST", "/2018-06-01/runtime/other", LAB_REQUEST_RT_REFUSED, 404, ""},
    };
    char url[256];
    lab_request_rt rt;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = lab_request_rt_path(cases[i].url);
        assert_non_null(path);
        lab_request_rt_parse(cases[i].method, path, &rt);
        if (rt.kind != cases[i].kind)
            fail_msg("%s %s: kind %d", cases[i].method, cases[i].url, (int)rt.kind);
        if (rt.kind == LAB_REQUEST_RT_REFUSED)
            assert_int_equal(rt.status, cases[i].status);
        assert_string_equal(rt.request_id, cases[i].id);
    }
    assert_null(lab_request_rt_path("/2018-06-02/runtime/invocation/next"));
    /* 64 bytes is the longest id; 65 is refused before the pool sees it. */
    snprintf(url, sizeof(url), "invocation/%064d/response", 0);
    lab_request_rt_parse("POST", url, &rt);
    assert_int_equal(rt.kind, LAB_REQUEST_RT_RESPONSE);
    snprintf(url, sizeof(url), "invocation/%065d/response", 0);
    lab_request_rt_parse("POST", url, &rt);
    assert_int_equal(rt.kind, LAB_REQUEST_RT_REFUSED);
    assert_int_equal(rt.status, 400);
}

static lab_request_url_in url_in(const lab_request_header *h, size_t nh, const char *body, size_t len)
{
    lab_request_url_in in;

    memset(&in, 0, sizeof(in));
    in.method = "POST";
    in.path = "/orders";
    in.query = "a=1&a=2&b=%20c";
    in.headers = h;
    in.nheaders = nh;
    in.body = body;
    in.body_len = len;
    in.url_id = "0123456789abcdef0123456789abcdef";
    in.region = REGION;
    in.source_ip = "127.0.0.1";
    in.port = 9000;
    in.request_id = "req-1";
    in.trace_id = "Root=1-0-0";
    in.now_ms = 1732389000123LL;
    return in;
}

static void test_url_event(void **state)
{
    static const lab_request_header h[] = {
        {"Content-Type", "application/json"}, {"Cookie", "a=1; b=2"}, {"Accept", "x"}, {"ACCEPT", "y"},
        {"Cookie", " c=3 "}, {"Bad Name", "dropped"}};
    lab_request_url_in in = url_in(h, 6, "{\"k\":1}", 7);
    char *ev = lab_request_url_event(&in);
    cJSON *doc = cJSON_Parse(ev);
    const cJSON *headers = cJSON_GetObjectItemCaseSensitive(doc, "headers");
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(doc, "queryStringParameters");

    (void)state;
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "version")->valuestring, "2.0");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "rawPath")->valuestring, "/orders");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(headers, "accept")->valuestring, "x,y");
    assert_null(cJSON_GetObjectItemCaseSensitive(headers, "bad name"));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(headers, "x-forwarded-for")->valuestring, "127.0.0.1");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "cookies")), 3);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(qs, "a")->valuestring, "1,2");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(qs, "b")->valuestring, " c");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "isBase64Encoded")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "body")->valuestring, "{\"k\":1}");
    cJSON_Delete(doc);
    free(ev);
}

static void test_url_event_binary_body(void **state)
{
    static const char body[] = {'a', '\0', (char)0xff, 'b'};
    lab_request_url_in in = url_in(NULL, 0, body, sizeof(body));
    char *ev = lab_request_url_event(&in), *dec = NULL;
    cJSON *doc = cJSON_Parse(ev);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(doc, "body");
    size_t n = 0;

    (void)state;
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "isBase64Encoded")));
    assert_int_equal(lab_request_b64_decode(b->valuestring, strlen(b->valuestring), &dec, &n), 0);
    assert_int_equal(n, sizeof(body));
    assert_memory_equal(dec, body, n);
    free(dec);
    cJSON_Delete(doc);
    free(ev);
}

static const char *reply_header(const lab_request_url_reply *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->names[i], name) == 0)
            return r->values[i];
    return NULL;
}

static void test_url_result(void **state)
{
    static const char *const unmappable[] = {
        "{\"statusCode\":99}", "{\"statusCode\":600}", "{\"statusCode\":200.5}", "{\"statusCode\":\"20\"}",
        "{\"statusCode\":200,\"headers\":{\"X\":\"a\\r\\nB: c\"}}",
        "{\"statusCode\":200,\"headers\":{\"X Y\":\"a\"}}",
        "{\"statusCode\":200,\"cookies\":[\"a\\nb\"]}",
        "{\"statusCode\":200,\"headers\":[1]}",
        "{\"statusCode\":200,\"isBase64Encoded\":true,\"body\":\"a===\"}", "not json", NULL};
    lab_request_url_reply r;
    const char *ok = "{\"statusCode\":\"201\",\"headers\":{\"X-N\":3,\"Content-Length\":\"9\"},"
                     "\"cookies\":[\"a=1\",\"b=2\"],\"isBase64Encoded\":true,\"body\":\"aGk=\"}";

    (void)state;
    for (size_t i = 0; unmappable[i]; i++) {
        if (lab_request_url_result(unmappable[i], strlen(unmappable[i]), &r) != -1)
            fail_msg("mapped: %s", unmappable[i]);
        assert_null(r.body);
    }
    assert_int_equal(lab_request_url_result(ok, strlen(ok), &r), 0);
    assert_int_equal(r.status, 201);
    assert_int_equal(r.body_len, 2);
    assert_memory_equal(r.body, "hi", 2);
    assert_string_equal(reply_header(&r, "X-N"), "3");
    assert_null(reply_header(&r, "Content-Length"));
    assert_string_equal(reply_header(&r, "Content-Type"), "application/json");
    assert_int_equal(r.nheaders, 4);
    lab_request_url_reply_clear(&r);
    assert_int_equal(lab_request_url_result("\"text\"", 6, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "text");
    lab_request_url_reply_clear(&r);
    assert_int_equal(lab_request_url_result("[1, 2]", 6, &r), 0);
    assert_string_equal(r.body, "[1, 2]");
    lab_request_url_reply_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_not_found_names_qualifier),
        cmocka_unit_test(test_version_alias_routes),
        cmocka_unit_test(test_qualifier_charset),
        cmocka_unit_test(test_client_context_padding),
        cmocka_unit_test(test_client_context_limit),
        cmocka_unit_test(test_invoke_headers),
        cmocka_unit_test(test_invoke_body),
        cmocka_unit_test(test_config_body),
        cmocka_unit_test(test_runtime_routes),
        cmocka_unit_test(test_url_event),
        cmocka_unit_test(test_url_event_binary_body),
        cmocka_unit_test(test_url_result),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
