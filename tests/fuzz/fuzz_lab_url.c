/*
 * libFuzzer target for function URLs (harness/lab_request.c): an HTTP
 * request into the payload format 2.0 event (lab_request_url_event) and a
 * function's answer into an HTTP response (lab_request_url_result).
 *
 * Input: one flags byte. Bit 0 clear: a request, as newline-separated
 * method, raw path, raw query, then "name:value" header lines up to an
 * empty line, then the body (any bytes). Bit 0 set: the rest is the
 * function's answer.
 *
 * Properties: no crash; the event is valid JSON with version "2.0",
 * routeKey, rawPath, rawQueryString, headers (an object of strings),
 * requestContext.http.method and isBase64Encoded; the body comes back
 * byte for byte (decoded when isBase64Encoded); every request cookie
 * becomes a string in cookies. A mapped answer has a status in 100–599,
 * header names that are tokens, no CR or LF in any name or value, a
 * Content-Type, and a base64 body decodes to what was sent.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_request.h"

#define MAX_HEADERS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsString(v))
        abort();
    return v->valuestring;
}

static void check_event(const char *ev, const char *path, const char *body, size_t body_len)
{
    cJSON *doc = cJSON_Parse(ev);
    const cJSON *h, *ctx, *b64, *b, *it;

    if (!cJSON_IsObject(doc) || strcmp(str_of(doc, "version"), "2.0") != 0 ||
        strcmp(str_of(doc, "routeKey"), "$default") != 0)
        abort();
    (void)str_of(doc, "rawQueryString");
    if (strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.~%") == strlen(path) &&
        strcmp(str_of(doc, "rawPath"), path) != 0)
        abort();
    h = cJSON_GetObjectItemCaseSensitive(doc, "headers");
    if (!cJSON_IsObject(h))
        abort();
    cJSON_ArrayForEach(it, h) {
        if (!cJSON_IsString(it) || !it->string[0])
            abort();
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "cookies")) {
        if (!cJSON_IsString(it) || !it->valuestring[0])
            abort();
    }
    ctx = cJSON_GetObjectItemCaseSensitive(doc, "requestContext");
    (void)str_of(cJSON_GetObjectItemCaseSensitive(ctx, "http"), "method");
    (void)str_of(ctx, "requestId");
    b64 = cJSON_GetObjectItemCaseSensitive(doc, "isBase64Encoded");
    b = cJSON_GetObjectItemCaseSensitive(doc, "body");
    if (!cJSON_IsBool(b64) || (body_len == 0) != (b == NULL))
        abort();
    if (b && cJSON_IsTrue(b64)) {
        char *dec = NULL;
        size_t n = 0;
        if (!cJSON_IsString(b) || lab_request_b64_decode(b->valuestring, strlen(b->valuestring), &dec, &n) != 0 ||
            n != body_len || memcmp(dec, body, n) != 0)
            abort();
        free(dec);
    } else if (b && (!cJSON_IsString(b) || strlen(b->valuestring) != body_len ||
                     memcmp(b->valuestring, body, body_len) != 0)) {
        abort();
    }
    cJSON_Delete(doc);
}

static void request(char *s, size_t len)
{
    lab_request_header headers[MAX_HEADERS];
    const char *fields[3] = {"GET", "/", ""};
    size_t nh = 0;
    char *p = s, *end = s + len, *body;
    lab_request_url_in in;
    char *ev;

    for (int i = 0; i < 3; i++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        *nl = '\0';
        if (memchr(p, '\0', (size_t)(nl - p)))
            return; /* a C string on the wire has no NUL */
        fields[i] = p;
        p = nl + 1;
    }
    while (p < end && nh < MAX_HEADERS) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *colon;
        if (!nl || nl == p) {
            if (nl)
                p++;
            break;
        }
        *nl = '\0';
        colon = strchr(p, ':');
        if (memchr(p, '\0', (size_t)(nl - p)) || !colon) {
            p = nl + 1;
            continue;
        }
        *colon = '\0';
        headers[nh].name = p;
        headers[nh].value = colon + 1;
        nh++;
        p = nl + 1;
    }
    body = p; /* s has a NUL at len */
    memset(&in, 0, sizeof(in));
    in.method = fields[0];
    in.path = fields[1][0] ? fields[1] : "/";
    in.query = fields[2];
    in.headers = headers;
    in.nheaders = nh;
    in.body = body;
    in.body_len = (size_t)(end - body);
    in.url_id = "0123456789abcdef0123456789abcdef";
    in.region = "us-east-1";
    in.source_ip = "127.0.0.1";
    in.port = 9000;
    in.request_id = "8f3c2b1a-5d6e-4f70-8a9b-0c1d2e3f4a5b";
    in.trace_id = "Root=1-00000000-000000000000000000000000";
    in.now_ms = 1732389000123LL;
    ev = lab_request_url_event(&in);
    if (!ev)
        abort();
    check_event(ev, in.path, in.body, in.body_len);
    free(ev);
}

static void answer(const char *s, size_t len)
{
    lab_request_url_reply r;
    bool typed = false;

    if (lab_request_url_result(s, len, &r) != 0) {
        if (r.body || r.nheaders)
            abort();
        return;
    }
    if (r.status < 100 || r.status > 599 || !r.body)
        abort();
    for (size_t i = 0; i < r.nheaders; i++) {
        const char *n = r.names[i];
        if (!n[0] || strpbrk(n, "\r\n: \t") || strpbrk(r.values[i], "\r\n"))
            abort();
        if (strcasecmp(n, "Content-Type") == 0)
            typed = true;
        if (strcasecmp(n, "Content-Length") == 0 || strcasecmp(n, "Transfer-Encoding") == 0)
            abort();
    }
    if (!typed)
        abort();
    {
        cJSON *doc = cJSON_ParseWithLength(s, len);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(doc, "body");
        if (cJSON_GetObjectItemCaseSensitive(doc, "statusCode") && cJSON_IsString(b) &&
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "isBase64Encoded"))) {
            char *ref = NULL;
            size_t n = 0;
            if (lab_request_b64_decode(b->valuestring, strlen(b->valuestring), &ref, &n) != 0 ||
                n != r.body_len || memcmp(ref, r.body, n) != 0)
                abort();
            free(ref);
        }
        cJSON_Delete(doc);
    }
    lab_request_url_reply_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf;

    if (size < 1)
        return 0;
    buf = malloc(size);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    if (data[0] & 1)
        answer(buf, size - 1);
    else
        request(buf, size - 1);
    free(buf);
    return 0;
}
