/*
 * Unit tests for event: field listing order and JSON Pointer escaping,
 * get/replace/delete on objects, arrays and escaped names, duplicate
 * members (the last one counts), the merge that keeps "__proto__" as a
 * member, each envelope's documented keys checked on the parsed output,
 * bodies verbatim (invalid JSON, control bytes, NUL, base64 round trip),
 * the wrap's refusals, the texts read out of responses, objects listed as
 * merge places, and JSON-string bodies opened and closed again. Payloads are
 * copied into buffers of their exact length so ASan catches reads past len.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

#define RID "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
/* 2026-11-23T18:31:24.123Z */
#define TIME_MS 1795458684123LL
#define TIME_TEXT "23/Nov/2026:18:31:24 +0000"

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(s);

    assert_non_null(j);
    return j;
}

static char *print(const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);

    assert_non_null(s);
    return s;
}

static void assert_json_equal(const cJSON *j, const char *expected)
{
    char *s = print(j);

    assert_string_equal(s, expected);
    free(s);
}

static void assert_fields(const char *event, int which, const char *const *expected, size_t n)
{
    cJSON *ev = parse(event);
    event_fields f;

    assert_int_equal(event_fields_list(ev, which, &f), 0);
    assert_int_equal(f.count, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(f.paths[i], expected[i]);
        assert_non_null(event_get(ev, f.paths[i]));
    }
    event_fields_free(&f);
    assert_null(f.paths);
    assert_int_equal(f.count, 0);
    cJSON_Delete(ev);
}

/* ---------------------------------------------------------------------------
 * Fields.
 */
static void test_fields_order(void **state)
{
    static const char ev[] = "{\"b\":\"x\",\"a\":{\"c\":1,\"d\":[true,null,\"s\",{\"e\":\"f\"}]},"
                             "\"g\":[],\"h\":{},\"i\":2.5,\"j\":[[\"deep\"]]}";
    static const char *const leaves[] = {"/b",     "/a/c",     "/a/d/0", "/a/d/1",
                                         "/a/d/2", "/a/d/3/e", "/i",     "/j/0/0"};
    static const char *const strings[] = {"/b", "/a/d/2", "/a/d/3/e", "/j/0/0"};

    (void)state;
    assert_fields(ev, EVENT_LEAVES, leaves, sizeof(leaves) / sizeof(leaves[0]));
    assert_fields(ev, EVENT_STRINGS, strings, sizeof(strings) / sizeof(strings[0]));
    /* Containers only, or a bare scalar: nothing to list. */
    assert_fields("{\"a\":{},\"b\":[[],{}]}", EVENT_LEAVES, NULL, 0);
    assert_fields("\"root\"", EVENT_LEAVES, NULL, 0);
    assert_fields("[1,\"two\"]", EVENT_STRINGS, (const char *const[]){"/1"}, 1);
}

static void test_fields_escaping(void **state)
{
    static const char ev[] =
        "{\"a/b\":\"1\",\"m~n\":\"2\",\"~1\":\"3\",\"\":\"4\",\"x\":{\"\":\"5\",\"/~/\":\"6\"}}";
    static const char *const paths[] = {"/a~1b", "/m~0n", "/~01", "/", "/x/", "/x/~1~0~1"};
    static const char *const values[] = {"1", "2", "3", "4", "5", "6"};
    cJSON *j = parse(ev);

    (void)state;
    assert_fields(ev, EVENT_STRINGS, paths, 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(cJSON_GetStringValue(event_get(j, paths[i])), values[i]);
    cJSON_Delete(j);
}

static void test_fields_duplicates_last_wins(void **state)
{
    cJSON *ev = parse("{\"k\":{\"a\":1},\"z\":0,\"k\":\"last\",\"o\":{\"p\":1,\"p\":2}}");
    static const char *const leaves[] = {"/z", "/k", "/o/p"};

    (void)state;
    assert_fields("{\"k\":{\"a\":1},\"z\":0,\"k\":\"last\",\"o\":{\"p\":1,\"p\":2}}", EVENT_LEAVES,
                  leaves, 3);
    assert_string_equal(cJSON_GetStringValue(event_get(ev, "/k")), "last");
    assert_int_equal((int)cJSON_GetNumberValue(event_get(ev, "/o/p")), 2);
    assert_null(event_get(ev, "/k/a"));
    cJSON_Delete(ev);
}

/* {"a":{"a":...{"a":"leaf"}}} with `levels` objects. */
static cJSON *nested(int levels)
{
    cJSON *v = cJSON_CreateString("leaf");

    for (int i = 0; i < levels; i++) {
        cJSON *o = cJSON_CreateObject();
        assert_non_null(o);
        cJSON_AddItemToObject(o, "a", v);
        v = o;
    }
    return v;
}

static void test_fields_caps(void **state)
{
    event_fields f = {(char **)1, 7};
    cJSON *ok = nested(EVENT_MAX_DEPTH);
    cJSON *deep = nested(EVENT_MAX_DEPTH + 1);
    cJSON *many = cJSON_CreateArray();

    (void)state;
    assert_int_equal(event_fields_list(ok, EVENT_LEAVES, &f), 0);
    assert_int_equal(f.count, 1);
    assert_int_equal(strlen(f.paths[0]), 2 * EVENT_MAX_DEPTH);
    event_fields_free(&f);
    assert_int_equal(event_fields_list(deep, EVENT_LEAVES, &f), -1);
    assert_null(f.paths);
    assert_int_equal(f.count, 0);

    for (int i = 0; i < EVENT_MAX_FIELDS; i++)
        cJSON_AddItemToArray(many, cJSON_CreateNumber(i));
    assert_int_equal(event_fields_list(many, EVENT_LEAVES, &f), 0);
    assert_int_equal(f.count, EVENT_MAX_FIELDS);
    assert_string_equal(f.paths[EVENT_MAX_FIELDS - 1], "/9999");
    event_fields_free(&f);
    /* Strings only: numbers do not count against the cap. */
    cJSON_AddItemToArray(many, cJSON_CreateString("one more"));
    assert_int_equal(event_fields_list(many, EVENT_STRINGS, &f), 0);
    assert_int_equal(f.count, 1);
    event_fields_free(&f);
    assert_int_equal(event_fields_list(many, EVENT_LEAVES, &f), -1);

    assert_int_equal(event_fields_list(NULL, EVENT_LEAVES, &f), -1);
    assert_int_equal(event_fields_list(ok, 0, &f), -1);
    assert_int_equal(event_fields_list(ok, EVENT_STRINGS | EVENT_LEAVES, &f), -1);
    event_fields_free(NULL);
    cJSON_Delete(ok);
    cJSON_Delete(deep);
    cJSON_Delete(many);
}

/* The places a merge can reach: the root first, then objects in document
 * order, inside arrays too; never a string or number. */
static void test_objects_list(void **state)
{
    cJSON *ev = parse("{\"a\":1,\"prefs\":{\"theme\":\"x\",\"n\":{}},\"items\":[{\"sku\":\"s\"},2,[{}]],\"s~/\":{}}");
    event_fields f;
    static const char *const want[] = {"", "/prefs", "/prefs/n", "/items/0", "/items/2/0", "/s~0~1"};
    (void)state;
    assert_int_equal(event_fields_list(ev, EVENT_OBJECTS, &f), 0);
    assert_int_equal(f.count, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < f.count; i++) {
        assert_string_equal(f.paths[i], want[i]);
        assert_true(cJSON_IsObject(event_get(ev, f.paths[i])));
    }
    event_fields_free(&f);
    cJSON_Delete(ev);
}

/* An API Gateway or SQS event's JSON-string body is opened so that its
 * fields can be varied, nested bodies too (SNS in SQS), and closed again
 * to a string; what a variant replaced stays as it is. */
static void test_embedded_bodies(void **state)
{
    cJSON *ev = parse("{\"headers\":{\"x\":\"{not json\"},\"body\":\"{\\\"sku\\\":\\\"S1\\\",\\\"q\\\":2}\","
                      "\"Records\":[{\"body\":\" {\\\"Message\\\":\\\"[\\\\\\\"m\\\\\\\"]\\\"}\"}],"
                      "\"n\":\"12\",\"arr\":\"[]\"}");
    cJSON *open = NULL, *copy;
    event_fields emb, strings;
    char *s;
    (void)state;
    assert_int_equal(event_embedded_open(ev, &open, &emb), 0);
    assert_int_equal(emb.count, 4);
    assert_string_equal(emb.paths[0], "/body");
    assert_string_equal(emb.paths[1], "/Records/0/body");
    assert_string_equal(emb.paths[2], "/arr");
    assert_string_equal(emb.paths[3], "/Records/0/body/Message");
    /* the original is untouched; the copy has fields inside the bodies */
    assert_true(cJSON_IsString(event_get(ev, "/body")));
    assert_string_equal(event_get(open, "/body/sku")->valuestring, "S1");
    assert_string_equal(event_get(open, "/Records/0/body/Message/0")->valuestring, "m");
    assert_string_equal(event_get(open, "/headers/x")->valuestring, "{not json");
    assert_string_equal(event_get(open, "/n")->valuestring, "12");
    assert_int_equal(event_fields_list(open, EVENT_STRINGS, &strings), 0);
    assert_int_equal(strings.count, 4);  /* headers/x, body/sku, Message/0, n */
    event_fields_free(&strings);

    copy = cJSON_Duplicate(open, 1);
    assert_int_equal(event_replace(copy, "/body/sku", cJSON_CreateString("CSC\"x")), 0);
    assert_int_equal(event_replace(copy, "/arr", cJSON_CreateString("replaced")), 0);
    assert_int_equal(event_embedded_close(copy, &emb), 0);
    s = print(copy);
    assert_string_equal(s, "{\"headers\":{\"x\":\"{not json\"},\"body\":\"{\\\"sku\\\":\\\"CSC\\\\\\\"x\\\",\\\"q\\\":2}\","
                           "\"Records\":[{\"body\":\"{\\\"Message\\\":\\\"[\\\\\\\"m\\\\\\\"]\\\"}\"}],"
                           "\"n\":\"12\",\"arr\":\"replaced\"}");
    cJSON_free(s);
    cJSON_Delete(copy);
    cJSON_Delete(open);
    event_fields_free(&emb);

    /* nothing to open: an equal copy and an empty list */
    cJSON_Delete(ev);
    ev = parse("{\"a\":\"b\"}");
    assert_int_equal(event_embedded_open(ev, &open, &emb), 0);
    assert_int_equal(emb.count, 0);
    assert_true(cJSON_Compare(ev, open, 1));
    cJSON_Delete(open);
    event_fields_free(&emb);
    assert_int_equal(event_embedded_open(NULL, &open, &emb), -1);
    assert_null(open);
    cJSON_Delete(ev);
}

/* ---------------------------------------------------------------------------
 * Get, replace, delete.
 */
static void test_get_pointers(void **state)
{
    cJSON *ev = parse("{\"arr\":[10,11,{\"x\":\"y\"}],\"0\":\"zero\",\"s\":\"str\",\"n\":null}");

    (void)state;
    assert_ptr_equal(event_get(ev, ""), ev);
    assert_int_equal((int)cJSON_GetNumberValue(event_get(ev, "/arr/0")), 10);
    assert_int_equal((int)cJSON_GetNumberValue(event_get(ev, "/arr/1")), 11);
    assert_string_equal(cJSON_GetStringValue(event_get(ev, "/arr/2/x")), "y");
    assert_string_equal(cJSON_GetStringValue(event_get(ev, "/0")), "zero");
    assert_true(cJSON_IsNull(event_get(ev, "/n")));
    /* Absent. */
    assert_null(event_get(ev, "/arr/3"));
    assert_null(event_get(ev, "/arr/-"));
    assert_null(event_get(ev, "/arr/01"));
    assert_null(event_get(ev, "/arr/+1"));
    assert_null(event_get(ev, "/arr/"));
    assert_null(event_get(ev, "/arr/99999999999"));
    assert_null(event_get(ev, "/arr/x"));
    assert_null(event_get(ev, "/s/0"));
    assert_null(event_get(ev, "/missing"));
    assert_null(event_get(ev, "/Arr"));
    assert_null(event_get(ev, "/arr/2/x/deeper"));
    /* Invalid. */
    assert_null(event_get(ev, "arr"));
    assert_null(event_get(ev, "/arr~"));
    assert_null(event_get(ev, "/~2"));
    assert_null(event_get(ev, NULL));
    assert_null(event_get(NULL, ""));
    cJSON_Delete(ev);
}

static void test_replace(void **state)
{
    cJSON *ev = parse("{\"a\":\"1\",\"b\":{\"c/d\":\"x\",\"e~f\":[1,2,3]},\"g\":true}");

    (void)state;
    assert_int_equal(event_replace(ev, "/a", cJSON_CreateNumber(7)), 0);
    assert_int_equal(event_replace(ev, "/b/c~1d", cJSON_CreateString("CANARY")), 0);
    assert_int_equal(event_replace(ev, "/b/e~0f/1", cJSON_CreateString("two")), 0);
    assert_int_equal(event_replace(ev, "/b/e~0f/0", cJSON_CreateNull()), 0);
    assert_int_equal(event_replace(ev, "/b/e~0f/2", parse("{\"$ne\":null}")), 0);
    assert_json_equal(ev, "{\"a\":7,\"b\":{\"c/d\":\"CANARY\",\"e~f\":[null,\"two\",{\"$ne\":null}]},"
                          "\"g\":true}");
    /* A value that already carries a name gets the replaced member's. */
    {
        cJSON *named = parse("{\"other\":false}");
        cJSON *v = cJSON_DetachItemFromObject(named, "other");
        assert_int_equal(event_replace(ev, "/g", v), 0);
        cJSON_Delete(named);
    }
    assert_json_equal(ev, "{\"a\":7,\"b\":{\"c/d\":\"CANARY\",\"e~f\":[null,\"two\",{\"$ne\":null}]},"
                          "\"g\":false}");
    /* Failures free the value (ASan would report a leak) and change nothing. */
    assert_int_equal(event_replace(ev, "/missing", cJSON_CreateString("x")), -1);
    assert_int_equal(event_replace(ev, "/b/e~0f/3", cJSON_CreateString("x")), -1);
    assert_int_equal(event_replace(ev, "/b/e~0f/-", cJSON_CreateString("x")), -1);
    assert_int_equal(event_replace(ev, "", cJSON_CreateString("x")), -1);
    assert_int_equal(event_replace(ev, "a", cJSON_CreateString("x")), -1);
    assert_int_equal(event_replace(ev, "/a", NULL), -1);
    assert_int_equal(event_replace(NULL, "/a", cJSON_CreateString("x")), -1);
    assert_json_equal(ev, "{\"a\":7,\"b\":{\"c/d\":\"CANARY\",\"e~f\":[null,\"two\",{\"$ne\":null}]},"
                          "\"g\":false}");
    cJSON_Delete(ev);
}

static void test_replace_duplicate_takes_last(void **state)
{
    cJSON *ev = parse("{\"k\":1,\"k\":2}");

    (void)state;
    assert_int_equal(event_replace(ev, "/k", cJSON_CreateString("x")), 0);
    assert_json_equal(ev, "{\"k\":1,\"k\":\"x\"}");
    assert_int_equal(event_delete(ev, "/k"), 0);
    assert_json_equal(ev, "{\"k\":1}");
    assert_int_equal((int)cJSON_GetNumberValue(event_get(ev, "/k")), 1);
    cJSON_Delete(ev);
}

static void test_delete(void **state)
{
    cJSON *ev = parse("{\"a\":[\"x\",\"y\",\"z\"],\"b/c\":{\"d\":1},\"e\":2}");

    (void)state;
    assert_int_equal(event_delete(ev, "/a/0"), 0);
    assert_string_equal(cJSON_GetStringValue(event_get(ev, "/a/0")), "y");
    assert_int_equal(event_delete(ev, "/a/1"), 0);
    assert_null(event_get(ev, "/a/1"));
    assert_int_equal(event_delete(ev, "/b~1c/d"), 0);
    assert_null(event_get(ev, "/b~1c/d"));
    assert_int_equal(event_delete(ev, "/e"), 0);
    assert_json_equal(ev, "{\"a\":[\"y\"],\"b/c\":{}}");
    assert_int_equal(event_delete(ev, "/e"), -1);
    assert_int_equal(event_delete(ev, "/a/5"), -1);
    assert_int_equal(event_delete(ev, ""), -1);
    assert_int_equal(event_delete(ev, "/~"), -1);
    assert_int_equal(event_delete(NULL, "/a"), -1);
    assert_json_equal(ev, "{\"a\":[\"y\"],\"b/c\":{}}");
    cJSON_Delete(ev);
}

/* ---------------------------------------------------------------------------
 * Merge.
 */
static void test_merge_proto_kept(void **state)
{
    cJSON *ev = parse("{\"user\":\"alice\",\"__proto__\":{\"old\":1},\"n\":1}");
    cJSON *payload = parse("{\"n\":2,\"__proto__\":{\"isAdmin\":true},"
                           "\"constructor\":{\"prototype\":{\"polluted\":\"yes\"}},\"new\":[1]}");
    cJSON *again = parse("{\"__proto__\":{\"second\":true}}");

    (void)state;
    assert_int_equal(event_merge_top(ev, payload), 0);
    assert_json_equal(ev, "{\"user\":\"alice\",\"__proto__\":{\"old\":1},\"n\":2,"
                          "\"__proto__\":{\"isAdmin\":true},"
                          "\"constructor\":{\"prototype\":{\"polluted\":\"yes\"}},\"new\":[1]}");
    /* obj was copied, not moved. */
    assert_json_equal(payload, "{\"n\":2,\"__proto__\":{\"isAdmin\":true},"
                               "\"constructor\":{\"prototype\":{\"polluted\":\"yes\"}},"
                               "\"new\":[1]}");
    /* The pointer reaches the last "__proto__", the one JSON.parse keeps. */
    assert_true(cJSON_IsTrue(event_get(ev, "/__proto__/isAdmin")));
    assert_int_equal(event_merge_top(ev, again), 0);
    assert_true(cJSON_IsTrue(event_get(ev, "/__proto__/second")));
    {
        char *s = print(ev);
        const char *p = s;
        int count = 0;
        while ((p = strstr(p, "\"__proto__\":")) != NULL) {
            count++;
            p++;
        }
        assert_int_equal(count, 3);
        free(s);
    }
    cJSON_Delete(again);
    cJSON_Delete(payload);
    cJSON_Delete(ev);
}

static void test_merge_refusals(void **state)
{
    cJSON *ev = parse("{\"a\":1}");
    cJSON *arr = parse("[1]");
    cJSON *empty = parse("{}");

    (void)state;
    assert_int_equal(event_merge_top(ev, arr), -1);
    assert_int_equal(event_merge_top(arr, ev), -1);
    assert_int_equal(event_merge_top(ev, NULL), -1);
    assert_int_equal(event_merge_top(NULL, ev), -1);
    assert_int_equal(event_merge_top(ev, empty), 0);
    assert_int_equal(event_merge_top(ev, ev), 0); /* itself: every name replaces itself */
    assert_json_equal(ev, "{\"a\":1}");
    assert_json_equal(arr, "[1]");
    cJSON_Delete(ev);
    cJSON_Delete(arr);
    cJSON_Delete(empty);
}

/* ---------------------------------------------------------------------------
 * Envelopes.
 */
static void test_envelope_names(void **state)
{
    static const char *const names[] = {"raw", "apigw-v1", "apigw-v2", "function-url"};
    event_envelope e;

    (void)state;
    for (int i = 0; i < EVENT_ENVELOPE_LAST; i++) {
        assert_int_equal(event_envelope_parse(names[i], &e), 0);
        assert_int_equal(e, i);
        assert_string_equal(event_envelope_name(e), names[i]);
    }
    assert_int_equal(event_envelope_parse("APIGW-V1", &e), -1);
    assert_int_equal(event_envelope_parse("apigw", &e), -1);
    assert_int_equal(event_envelope_parse("", &e), -1);
    assert_int_equal(event_envelope_parse(NULL, &e), -1);
    assert_null(event_envelope_name(EVENT_ENVELOPE_LAST));
    assert_null(event_envelope_name((event_envelope)-1));
}

static event_http http_req(void)
{
    event_http h = {.method = "PUT",
                    .path = "/orders/42",
                    .source_ip = "203.0.113.9",
                    .request_id = RID,
                    .time_ms = TIME_MS,
                    .user_agent = "coldsec-test/1.0"};
    return h;
}

/* Wraps body[0..len) (copied to an exact-length buffer) and parses the result. */
static cJSON *wrap_parse(event_envelope env, const char *body, size_t len, const event_http *h)
{
    char err[256];
    char *copy = malloc(len ? len : 1);
    size_t outlen = 0;
    char *out;
    cJSON *j;

    assert_non_null(copy);
    if (len)
        memcpy(copy, body, len);
    out = event_wrap(env, copy, len, h, &outlen, err, sizeof(err));
    free(copy);
    if (!out)
        fail_msg("event_wrap: %s", err);
    assert_int_equal(strlen(out), outlen);
    j = cJSON_ParseWithLength(out, outlen);
    assert_non_null(j);
    free(out);
    return j;
}

static void assert_keys(const cJSON *obj, const char *const *keys, size_t n)
{
    const cJSON *c = obj->child;

    for (size_t i = 0; i < n; i++, c = c->next) {
        assert_non_null(c);
        assert_string_equal(c->string, keys[i]);
    }
    assert_null(c);
}

static const char *str_at(const cJSON *j, const char *pointer)
{
    const char *s = cJSON_GetStringValue(event_get(j, pointer));

    if (!s)
        fail_msg("no string at %s", pointer);
    return s;
}

static void assert_headers(const cJSON *h, const char *host, const char *ua, const char *ip,
                           const char *content_length, bool multi)
{
    static const char *const keys[] = {"content-length",  "content-type",     "host",
                                       "user-agent",      "x-forwarded-for",  "x-forwarded-port",
                                       "x-forwarded-proto"};
    const char *values[] = {content_length, "application/json", host, ua, ip, "443", "https"};

    assert_true(cJSON_IsObject(h));
    assert_keys(h, keys, 7);
    for (size_t i = 0; i < 7; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, keys[i]);
        if (multi) {
            assert_true(cJSON_IsArray(v));
            assert_int_equal(cJSON_GetArraySize(v), 1);
            v = cJSON_GetArrayItem(v, 0);
        }
        assert_string_equal(cJSON_GetStringValue(v), values[i]);
    }
}

static void test_wrap_apigw_v1(void **state)
{
    static const char body[] = "{\"orderId\":42}";
    static const char *const top[] = {
        "resource",       "path",           "httpMethod",
        "headers",        "multiValueHeaders", "queryStringParameters",
        "multiValueQueryStringParameters", "pathParameters", "stageVariables",
        "requestContext", "body",           "isBase64Encoded"};
    static const char *const ctx[] = {"accountId",  "apiId",       "domainName",
                                      "domainPrefix", "httpMethod", "identity",
                                      "path",       "protocol",    "requestId",
                                      "requestTime", "requestTimeEpoch", "resourceId",
                                      "resourcePath", "stage"};
    event_http h = http_req();
    cJSON *j = wrap_parse(EVENT_ENVELOPE_APIGW_V1, body, strlen(body), &h);
    const char *host = "coldsecapi.execute-api.us-east-1.amazonaws.com";

    (void)state;
    assert_keys(j, top, sizeof(top) / sizeof(top[0]));
    assert_string_equal(str_at(j, "/resource"), "/orders/42");
    assert_string_equal(str_at(j, "/path"), "/orders/42");
    assert_string_equal(str_at(j, "/httpMethod"), "PUT");
    assert_headers(event_get(j, "/headers"), host, "coldsec-test/1.0", "203.0.113.9", "14", false);
    assert_headers(event_get(j, "/multiValueHeaders"), host, "coldsec-test/1.0", "203.0.113.9",
                   "14", true);
    assert_true(cJSON_IsNull(event_get(j, "/queryStringParameters")));
    assert_true(cJSON_IsNull(event_get(j, "/multiValueQueryStringParameters")));
    assert_true(cJSON_IsNull(event_get(j, "/pathParameters")));
    assert_true(cJSON_IsNull(event_get(j, "/stageVariables")));
    assert_keys(event_get(j, "/requestContext"), ctx, sizeof(ctx) / sizeof(ctx[0]));
    assert_string_equal(str_at(j, "/requestContext/accountId"), "123456789012");
    assert_string_equal(str_at(j, "/requestContext/apiId"), "coldsecapi");
    assert_string_equal(str_at(j, "/requestContext/domainName"), host);
    assert_string_equal(str_at(j, "/requestContext/domainPrefix"), "coldsecapi");
    assert_string_equal(str_at(j, "/requestContext/httpMethod"), "PUT");
    assert_string_equal(str_at(j, "/requestContext/identity/sourceIp"), "203.0.113.9");
    assert_string_equal(str_at(j, "/requestContext/identity/userAgent"), "coldsec-test/1.0");
    assert_true(cJSON_IsNull(event_get(j, "/requestContext/identity/user")));
    assert_true(cJSON_IsNull(event_get(j, "/requestContext/identity/cognitoIdentityId")));
    /* REST APIs put the stage in front of the path here. */
    assert_string_equal(str_at(j, "/requestContext/path"), "/coldsec/orders/42");
    assert_string_equal(str_at(j, "/requestContext/stage"), "coldsec");
    assert_string_equal(str_at(j, "/requestContext/protocol"), "HTTP/1.1");
    assert_string_equal(str_at(j, "/requestContext/requestId"), RID);
    assert_string_equal(str_at(j, "/requestContext/requestTime"), TIME_TEXT);
    assert_true(cJSON_GetNumberValue(event_get(j, "/requestContext/requestTimeEpoch")) ==
                (double)TIME_MS);
    assert_true(strlen(str_at(j, "/requestContext/resourceId")) > 0);
    assert_string_equal(str_at(j, "/requestContext/resourcePath"), "/orders/42");
    assert_string_equal(str_at(j, "/body"), body);
    assert_true(cJSON_IsFalse(event_get(j, "/isBase64Encoded")));
    cJSON_Delete(j);
}

static void check_v2(const cJSON *j, bool function_url, const char *body)
{
    static const char *const top_v2[] = {"version", "routeKey", "rawPath", "rawQueryString",
                                         "headers", "requestContext", "body", "isBase64Encoded"};
    static const char *const top_url[] = {"version",        "routeKey",       "rawPath",
                                          "rawQueryString", "headers",        "requestContext",
                                          "pathParameters", "stageVariables", "body",
                                          "isBase64Encoded"};
    static const char *const ctx_v2[] = {"accountId", "apiId",     "domainName", "domainPrefix",
                                         "http",      "requestId", "routeKey",   "stage",
                                         "time",      "timeEpoch"};
    static const char *const ctx_url[] = {"accountId",    "apiId", "authentication", "domainName",
                                          "domainPrefix", "http",  "requestId",      "routeKey",
                                          "stage",        "time",  "timeEpoch"};
    static const char *const http[] = {"method", "path", "protocol", "sourceIp", "userAgent"};
    const char *host = function_url ? "coldseccoldseccoldseccoldsec0000.lambda-url.us-east-1.on.aws"
                                    : "coldsecapi.execute-api.us-east-1.amazonaws.com";
    const char *route = function_url ? "$default" : "PUT /orders/42";
    char clen[24];

    if (function_url)
        assert_keys(j, top_url, sizeof(top_url) / sizeof(top_url[0]));
    else
        assert_keys(j, top_v2, sizeof(top_v2) / sizeof(top_v2[0]));
    assert_string_equal(str_at(j, "/version"), "2.0");
    assert_string_equal(str_at(j, "/routeKey"), route);
    assert_string_equal(str_at(j, "/rawPath"), "/orders/42");
    assert_string_equal(str_at(j, "/rawQueryString"), "");
    snprintf(clen, sizeof(clen), "%zu", strlen(body));
    assert_headers(event_get(j, "/headers"), host, "coldsec-test/1.0", "203.0.113.9", clen, false);
    if (function_url) {
        assert_keys(event_get(j, "/requestContext"), ctx_url, sizeof(ctx_url) / sizeof(ctx_url[0]));
        assert_string_equal(str_at(j, "/requestContext/accountId"), "anonymous");
        assert_true(cJSON_IsNull(event_get(j, "/requestContext/authentication")));
        assert_true(cJSON_IsNull(event_get(j, "/pathParameters")));
        assert_true(cJSON_IsNull(event_get(j, "/stageVariables")));
        assert_int_equal(strlen(str_at(j, "/requestContext/apiId")), 32);
    } else {
        assert_keys(event_get(j, "/requestContext"), ctx_v2, sizeof(ctx_v2) / sizeof(ctx_v2[0]));
        assert_string_equal(str_at(j, "/requestContext/accountId"), "123456789012");
        assert_int_equal(strlen(str_at(j, "/requestContext/apiId")), 10);
    }
    assert_string_equal(str_at(j, "/requestContext/domainName"), host);
    assert_string_equal(str_at(j, "/requestContext/domainPrefix"), str_at(j, "/requestContext/apiId"));
    assert_keys(event_get(j, "/requestContext/http"), http, 5);
    assert_string_equal(str_at(j, "/requestContext/http/method"), "PUT");
    assert_string_equal(str_at(j, "/requestContext/http/path"), "/orders/42");
    assert_string_equal(str_at(j, "/requestContext/http/protocol"), "HTTP/1.1");
    assert_string_equal(str_at(j, "/requestContext/http/sourceIp"), "203.0.113.9");
    assert_string_equal(str_at(j, "/requestContext/http/userAgent"), "coldsec-test/1.0");
    assert_string_equal(str_at(j, "/requestContext/requestId"), RID);
    assert_string_equal(str_at(j, "/requestContext/routeKey"), route);
    assert_string_equal(str_at(j, "/requestContext/stage"), "$default");
    assert_string_equal(str_at(j, "/requestContext/time"), TIME_TEXT);
    assert_true(cJSON_GetNumberValue(event_get(j, "/requestContext/timeEpoch")) == (double)TIME_MS);
    assert_string_equal(str_at(j, "/body"), body);
    assert_true(cJSON_IsFalse(event_get(j, "/isBase64Encoded")));
}

static void test_wrap_apigw_v2(void **state)
{
    static const char body[] = "{\"orderId\":42,\"note\":\"caf\xc3\xa9 \\\"quoted\\\"\"}";
    event_http h = http_req();
    cJSON *j = wrap_parse(EVENT_ENVELOPE_APIGW_V2, body, strlen(body), &h);

    (void)state;
    check_v2(j, false, body);
    cJSON_Delete(j);
}

static void test_wrap_function_url(void **state)
{
    static const char body[] = "[1,2,3]";
    event_http h = http_req();
    cJSON *j = wrap_parse(EVENT_ENVELOPE_FUNCTION_URL, body, strlen(body), &h);

    (void)state;
    check_v2(j, true, body);
    cJSON_Delete(j);
}

static void test_wrap_defaults(void **state)
{
    event_http h = {.request_id = "r-1", .time_ms = 0};
    cJSON *j = wrap_parse(EVENT_ENVELOPE_APIGW_V2, "{}", 2, &h);

    (void)state;
    assert_string_equal(str_at(j, "/requestContext/http/method"), "POST");
    assert_string_equal(str_at(j, "/rawPath"), "/");
    assert_string_equal(str_at(j, "/routeKey"), "POST /");
    assert_string_equal(str_at(j, "/requestContext/http/sourceIp"), "198.51.100.7");
    assert_string_equal(str_at(j, "/requestContext/http/userAgent"), "coldsec");
    assert_string_equal(str_at(j, "/headers/user-agent"), "coldsec");
    assert_string_equal(str_at(j, "/requestContext/time"), "01/Jan/1970:00:00:00 +0000");
    assert_true(cJSON_GetNumberValue(event_get(j, "/requestContext/timeEpoch")) == 0.0);
    cJSON_Delete(j);
    /* IPv6 and the last representable millisecond. */
    h.source_ip = "2001:db8::7";
    h.time_ms = 253402300799999LL;
    j = wrap_parse(EVENT_ENVELOPE_APIGW_V1, "{}", 2, &h);
    assert_string_equal(str_at(j, "/requestContext/identity/sourceIp"), "2001:db8::7");
    assert_string_equal(str_at(j, "/requestContext/requestTime"), "31/Dec/9999:23:59:59 +0000");
    assert_true(cJSON_GetNumberValue(event_get(j, "/requestContext/requestTimeEpoch")) ==
                253402300799999.0);
    cJSON_Delete(j);
}

static void test_wrap_raw(void **state)
{
    static const char body[] = "not json \x00\xff at all";
    size_t len = 0;
    char *out;

    (void)state;
    out = event_wrap(EVENT_ENVELOPE_RAW, body, sizeof(body) - 1, NULL, &len, NULL, 0);
    assert_non_null(out);
    assert_int_equal(len, sizeof(body) - 1);
    assert_memory_equal(out, body, len);
    assert_int_equal(out[len], '\0');
    free(out);
    out = event_wrap(EVENT_ENVELOPE_RAW, NULL, 0, NULL, &len, NULL, 0);
    assert_non_null(out);
    assert_int_equal(len, 0);
    free(out);
}

/* Bodies that are not JSON, or hold every escape, arrive verbatim. */
static void test_wrap_body_verbatim(void **state)
{
    static const char *const bodies[] = {
        "{\"a\":",
        "'; DROP TABLE users; --",
        "\"\\\b\f\n\r\t\x01\x1f\x7f",
        "{{7*7}} ${jndi:ldap://x} <script>",
        "\xf0\x9f\x90\x8d \xe2\x80\xa8 \xef\xbf\xbf",
    };
    event_http h = http_req();

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        for (int env = EVENT_ENVELOPE_APIGW_V1; env < EVENT_ENVELOPE_LAST; env++) {
            cJSON *j = wrap_parse((event_envelope)env, bodies[i], strlen(bodies[i]), &h);
            assert_string_equal(str_at(j, "/body"), bodies[i]);
            assert_true(cJSON_IsFalse(event_get(j, "/isBase64Encoded")));
            cJSON_Delete(j);
        }
    }
}

static void test_wrap_nul_in_body(void **state)
{
    static const char body[] = "a\0b";
    event_http h = http_req();
    size_t len = 0;
    char *out = event_wrap(EVENT_ENVELOPE_APIGW_V2, body, 3, &h, &len, NULL, 0);

    (void)state;
    assert_non_null(out);
    assert_non_null(strstr(out, "\"body\":\"a\\u0000b\""));
    free(out);
}

static void test_wrap_base64_round_trip(void **state)
{
    static const char body[] = "\x00\xff\xfe{\"a\":1}\x80";
    event_http h = http_req();

    (void)state;
    h.base64 = true;
    for (int env = EVENT_ENVELOPE_APIGW_V1; env < EVENT_ENVELOPE_LAST; env++) {
        char err[128];
        size_t len = 0;
        char *out = event_wrap((event_envelope)env, body, sizeof(body) - 1, &h, &len, err,
                               sizeof(err));
        cJSON *j;
        event_text t[EVENT_MAX_TEXTS];
        size_t n;

        assert_non_null(out);
        j = cJSON_ParseWithLength(out, len);
        assert_non_null(j);
        assert_string_equal(str_at(j, "/body"), "AP/+eyJhIjoxfYA=");
        assert_true(cJSON_IsTrue(event_get(j, "/isBase64Encoded")));
        assert_string_equal(str_at(j, "/headers/content-length"), "11");
        cJSON_Delete(j);
        /* The response side decodes what the request side encoded. */
        n = event_response_texts(out, len, t, EVENT_MAX_TEXTS);
        assert_int_equal(n, 2);
        assert_string_equal(t[1].label, "body");
        assert_int_equal(t[1].len, sizeof(body) - 1);
        assert_memory_equal(t[1].data, body, t[1].len);
        event_texts_free(t, n);
        free(out);
    }
}

static void test_wrap_empty_body(void **state)
{
    event_http h = http_req();
    cJSON *j;

    (void)state;
    h.base64 = true;
    j = wrap_parse(EVENT_ENVELOPE_APIGW_V1, "", 0, &h);
    assert_true(cJSON_IsNull(event_get(j, "/body")));
    assert_true(cJSON_IsFalse(event_get(j, "/isBase64Encoded")));
    assert_string_equal(str_at(j, "/headers/content-length"), "0");
    cJSON_Delete(j);
    for (int env = EVENT_ENVELOPE_APIGW_V2; env < EVENT_ENVELOPE_LAST; env++) {
        j = wrap_parse((event_envelope)env, NULL, 0, &h);
        assert_null(event_get(j, "/body"));
        assert_true(cJSON_IsFalse(event_get(j, "/isBase64Encoded")));
        cJSON_Delete(j);
    }
}

static void expect_wrap_error(event_envelope env, const char *body, size_t len,
                              const event_http *h, const char *needle)
{
    char err[256];
    size_t outlen = 99;
    char *out = event_wrap(env, body, len, h, &outlen, err, sizeof(err));

    assert_null(out);
    assert_int_equal(outlen, 0);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" lacks \"%s\"", err, needle);
    assert_null(strchr(err, '\n'));
}

static void test_wrap_errors(void **state)
{
    event_http h = http_req();
    event_http bad;
    char *big;
    size_t len = 0;

    (void)state;
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V1, "{}", 2, NULL, "missing");
    bad = h;
    bad.request_id = NULL;
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V2, "{}", 2, &bad, "request_id is required");
    bad.request_id = "has space";
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V2, "{}", 2, &bad, "request_id");
    bad = h;
    bad.method = "GE T";
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V1, "{}", 2, &bad, "method");
    bad.method = "";
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V1, "{}", 2, &bad, "method");
    bad = h;
    bad.path = "/a?b=1";
    expect_wrap_error(EVENT_ENVELOPE_FUNCTION_URL, "{}", 2, &bad, "path");
    bad.path = "relative";
    expect_wrap_error(EVENT_ENVELOPE_FUNCTION_URL, "{}", 2, &bad, "path");
    bad.path = "/a\nb";
    expect_wrap_error(EVENT_ENVELOPE_FUNCTION_URL, "{}", 2, &bad, "path");
    bad = h;
    bad.source_ip = "999.1.1.1";
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V2, "{}", 2, &bad, "source_ip");
    bad = h;
    bad.user_agent = "a\rb";
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V2, "{}", 2, &bad, "user_agent");
    bad = h;
    bad.time_ms = -1;
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V2, "{}", 2, &bad, "time_ms");
    bad.time_ms = 253402300800000LL;
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V2, "{}", 2, &bad, "time_ms");
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V1, "\xff\xfe", 2, &h, "UTF-8");
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V2, "\xc0\xaf", 2, &h, "UTF-8");       /* overlong */
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V2, "\xed\xa0\x80", 3, &h, "UTF-8");   /* surrogate */
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V2, "\xf4\x90\x80\x80", 4, &h, "UTF-8"); /* > U+10FFFF */
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V2, "ab\xe2\x82", 4, &h, "UTF-8");     /* cut */
    expect_wrap_error(EVENT_ENVELOPE_LAST, "{}", 2, &h, "unknown envelope");
    expect_wrap_error(EVENT_ENVELOPE_RAW, NULL, 5, &h, "body");
    big = calloc(1, EVENT_MAX_BODY + 1);
    assert_non_null(big);
    memset(big, 'a', EVENT_MAX_BODY + 1);
    expect_wrap_error(EVENT_ENVELOPE_APIGW_V2, big, EVENT_MAX_BODY + 1, &h, "6 MB");
    {
        char *out = event_wrap(EVENT_ENVELOPE_APIGW_V2, big, EVENT_MAX_BODY, &h, &len, NULL, 0);
        assert_non_null(out);
        assert_true(len > EVENT_MAX_BODY);
        free(out);
    }
    free(big);
    /* err may be absent. */
    assert_null(event_wrap(EVENT_ENVELOPE_APIGW_V2, "{}", 2, NULL, &len, NULL, 0));
}

/* ---------------------------------------------------------------------------
 * Response texts.
 */

/* event_response_texts on an exact-length heap copy of s[0..len). */
static size_t texts(const char *s, size_t len, event_text *t, size_t max)
{
    char *copy = malloc(len ? len : 1);
    size_t n;

    assert_non_null(copy);
    if (len)
        memcpy(copy, s, len);
    n = event_response_texts(copy, len, t, max);
    free(copy);
    return n;
}

static void expect_payload_only(const char *s, size_t len)
{
    event_text t[EVENT_MAX_TEXTS];
    size_t n = texts(s, len, t, EVENT_MAX_TEXTS);

    assert_int_equal(n, 1);
    assert_string_equal(t[0].label, "payload");
    assert_int_equal(t[0].len, len);
    assert_memory_equal(t[0].data, s, len);
    assert_int_equal(t[0].data[len], '\0');
    event_texts_free(t, n);
}

static void expect_body(const char *s, const char *body, size_t body_len)
{
    event_text t[EVENT_MAX_TEXTS];
    size_t n = texts(s, strlen(s), t, EVENT_MAX_TEXTS);

    assert_int_equal(n, 2);
    assert_string_equal(t[0].label, "payload");
    assert_int_equal(t[0].len, strlen(s));
    assert_string_equal(t[1].label, "body");
    assert_int_equal(t[1].len, body_len);
    assert_memory_equal(t[1].data, body, body_len);
    assert_int_equal(t[1].data[body_len], '\0');
    event_texts_free(t, n);
    assert_null(t[0].data);
    assert_null(t[1].data);
}

static void test_texts_plain(void **state)
{
    static const char s[] = "{\"ok\":true,\"items\":[1,2]}";

    (void)state;
    expect_payload_only(s, strlen(s));
    expect_payload_only("\"just a string\"", 15);
    expect_payload_only("null", 4);
    expect_payload_only("", 0);
    /* "body" that is not a string is not an HTTP response body. */
    expect_payload_only("{\"body\":{\"a\":1}}", 16);
    expect_payload_only("[{\"body\":\"x\"}]", 14);
}

static void test_texts_http_body(void **state)
{
    static const char body[] = "{\"secret\":\"s3cr\\\"et\"}";

    (void)state;
    expect_body("{\"statusCode\":200,\"headers\":{\"content-type\":\"application/json\"},"
                "\"body\":\"{\\\"secret\\\":\\\"s3cr\\\\\\\"et\\\"}\",\"isBase64Encoded\":false}",
                body, strlen(body));
    expect_body("{\"statusCode\":200,\"body\":\"line1\\nline2 \\u00e9\"}", "line1\nline2 \xc3\xa9",
                14);
    /* Duplicate "body": the last one, as API Gateway's parser would read. */
    expect_body("{\"body\":\"first\",\"body\":\"second\"}", "second", 6);
    expect_body("{\"body\":\"\"}", "", 0);
}

static void test_texts_base64(void **state)
{
    (void)state;
    /* "hello CSC0123" */
    expect_body("{\"statusCode\":200,\"body\":\"aGVsbG8gQ1NDMDEyMw==\",\"isBase64Encoded\":true}",
                "hello CSC0123", 13);
    /* MIME line breaks and no padding. */
    expect_body("{\"body\":\"aGVs\\nbG8g\\r\\nQ1NDMDEyMw\",\"isBase64Encoded\":true}",
                "hello CSC0123", 13);
    expect_body("{\"body\":\"AP/+eyJhIjoxfYA=\",\"isBase64Encoded\":true}",
                "\x00\xff\xfe{\"a\":1}\x80", 11);
    expect_body("{\"body\":\"\",\"isBase64Encoded\":true}", "", 0);
    /* Not base64 after all: the body as it is. */
    expect_body("{\"body\":\"not base64!\",\"isBase64Encoded\":true}", "not base64!", 11);
    expect_body("{\"body\":\"QQ=A\",\"isBase64Encoded\":true}", "QQ=A", 4);
    expect_body("{\"body\":\"QQ===\",\"isBase64Encoded\":true}", "QQ===", 5);
    expect_body("{\"body\":\"QUJDR\",\"isBase64Encoded\":true}", "QUJDR", 5);
    /* "true" as a string is not true. */
    expect_body("{\"body\":\"aGk=\",\"isBase64Encoded\":\"true\"}", "aGk=", 4);
}

static void test_texts_error_shape(void **state)
{
    static const char s[] =
        "{\"errorMessage\":\"Handler fails: CSC0123\",\"errorType\":\"Exception\","
        "\"requestId\":\"" RID "\",\"stackTrace\":[\"  File \\\"/var/task/h.py\\\", line 2\"]}";

    (void)state;
    expect_payload_only(s, strlen(s));
}

static void test_texts_not_json(void **state)
{
    static const char timeout[] = "Task timed out after 3.00 seconds";
    static const char nul[] = "{\"body\":\"x\"}\0tail";

    (void)state;
    expect_payload_only(timeout, strlen(timeout));
    /* Truncated JSON, trailing garbage, two values, NUL inside. */
    expect_payload_only("{\"statusCode\":200,\"body\":\"abc", 29);
    expect_payload_only("{\"body\":\"abc\"}<html>", 20);
    expect_payload_only("{\"body\":\"a\"}{\"body\":\"b\"}", 24);
    expect_payload_only(nul, sizeof(nul) - 1);
    expect_payload_only("\xff\xfe\x00\x01", 4);
    /* Trailing whitespace is fine. */
    expect_body("{\"body\":\"x\"}\r\n ", "x", 1);
}

static void test_texts_max(void **state)
{
    static const char s[] = "{\"body\":\"x\"}";
    event_text t[EVENT_MAX_TEXTS];

    (void)state;
    assert_int_equal(texts(s, strlen(s), t, 1), 1);
    assert_string_equal(t[0].label, "payload");
    event_texts_free(t, 1);
    assert_int_equal(texts(s, strlen(s), t, 0), 0);
    assert_int_equal(event_response_texts(s, strlen(s), NULL, 2), 0);
    assert_int_equal(event_response_texts(NULL, 3, t, 2), 0);
    event_texts_free(NULL, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_order),
        cmocka_unit_test(test_fields_escaping),
        cmocka_unit_test(test_fields_duplicates_last_wins),
        cmocka_unit_test(test_fields_caps),
        cmocka_unit_test(test_objects_list),
        cmocka_unit_test(test_embedded_bodies),
        cmocka_unit_test(test_get_pointers),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_replace_duplicate_takes_last),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_merge_proto_kept),
        cmocka_unit_test(test_merge_refusals),
        cmocka_unit_test(test_envelope_names),
        cmocka_unit_test(test_wrap_apigw_v1),
        cmocka_unit_test(test_wrap_apigw_v2),
        cmocka_unit_test(test_wrap_function_url),
        cmocka_unit_test(test_wrap_defaults),
        cmocka_unit_test(test_wrap_raw),
        cmocka_unit_test(test_wrap_body_verbatim),
        cmocka_unit_test(test_wrap_nul_in_body),
        cmocka_unit_test(test_wrap_base64_round_trip),
        cmocka_unit_test(test_wrap_empty_body),
        cmocka_unit_test(test_wrap_errors),
        cmocka_unit_test(test_texts_plain),
        cmocka_unit_test(test_texts_http_body),
        cmocka_unit_test(test_texts_base64),
        cmocka_unit_test(test_texts_error_shape),
        cmocka_unit_test(test_texts_not_json),
        cmocka_unit_test(test_texts_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
