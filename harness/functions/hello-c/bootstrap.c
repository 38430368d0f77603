/*
 * hello-c — the lab's sample `provided` function: a custom runtime written in
 * C against the Lambda Runtime API, used by the benchmarks as the cheapest
 * possible handler.
 *
 * It loops GET /runtime/invocation/next → POST .../response with
 * {"message":"hello","runtime":"c","invocation":N} over one libcurl easy
 * handle, so the connection to AWS_LAMBDA_RUNTIME_API is kept alive between
 * invocations. Any Runtime API failure (500 included: "the runtime must
 * exit") ends the process with status 1. All state lives in main's
 * struct runtime; nothing global is mutable.
 *
 * Build: make build/functions/hello-c/bootstrap
 */
#include <curl/curl.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Caps on what the Runtime API may send us: events up to Lambda's 6 MB
 * synchronous payload, request ids far beyond a UUID's 36 characters. */
#define EVENT_MAX_BYTES ((size_t)6 * 1024 * 1024)
#define REQUEST_ID_MAX 128
#define URL_MAX 512

enum exit_code { EXIT_OK = 0, EXIT_RUNTIME_API = 1, EXIT_SETUP = 2 };

struct buffer {
    char *data;
    size_t len;
    size_t cap;
    bool overflow;
};

struct runtime {
    CURL *curl;
    char base[URL_MAX]; /* http://HOST:PORT/2018-06-01/runtime */
    char request_id[REQUEST_ID_MAX];
    struct buffer event;
    unsigned long invocations;
};

/* curl write callback: appends the event body, refusing more than the cap. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buffer *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n > EVENT_MAX_BYTES) {
        b->overflow = true;
        return 0; /* aborts the transfer */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* curl write callback for POST answers: read and dropped. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* curl header callback: keeps Lambda-Runtime-Aws-Request-Id. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct runtime *rt = userdata;
    size_t n = size * nmemb;
    static const char name[] = "lambda-runtime-aws-request-id:";
    const size_t name_len = sizeof name - 1;
    if (n > name_len && strncasecmp(ptr, name, name_len) == 0) {
        const char *v = ptr + name_len;
        const char *end = ptr + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        size_t len = (size_t)(end - v);
        if (len >= sizeof rt->request_id)
            return 0; /* absurd id: abort, the runtime exits */
        memcpy(rt->request_id, v, len);
        rt->request_id[len] = '\0';
    }
    return n;
}

/* An id goes into a URL path: only UUID-like characters are accepted. */
static bool request_id_ok(const char *id)
{
    if (!*id)
        return false;
    for (const char *p = id; *p; p++) {
        char c = *p;
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

/* GET /next. Returns true with rt->request_id set, false on any failure. */
static bool next_invocation(struct runtime *rt)
{
    char url[URL_MAX + 32];
    long status = 0;
    rt->request_id[0] = '\0';
    rt->event.len = 0;
    rt->event.overflow = false;
    snprintf(url, sizeof url, "%s/invocation/next", rt->base);
    curl_easy_setopt(rt->curl, CURLOPT_URL, url);
    curl_easy_setopt(rt->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(rt->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(rt->curl, CURLOPT_WRITEDATA, &rt->event);
    curl_easy_setopt(rt->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(rt->curl, CURLOPT_HEADERDATA, rt);
    CURLcode rc = curl_easy_perform(rt->curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "hello-c: GET /next failed: %s\n", curl_easy_strerror(rc));
        return false;
    }
    curl_easy_getinfo(rt->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "hello-c: GET /next answered %ld, exiting\n", status);
        return false;
    }
    if (!request_id_ok(rt->request_id)) {
        fprintf(stderr, "hello-c: missing or malformed Lambda-Runtime-Aws-Request-Id\n");
        return false;
    }
    return true;
}

/* POST the answer for rt->request_id. False when the runtime must exit. */
static bool post_response(struct runtime *rt, const char *body, size_t len)
{
    char url[URL_MAX + REQUEST_ID_MAX + 32];
    long status = 0;
    struct curl_slist *headers = NULL;
    bool ok = false;

    headers = curl_slist_append(headers, "Content-Type: application/json");
    if (!headers)
        goto cleanup;
    snprintf(url, sizeof url, "%s/invocation/%s/response", rt->base, rt->request_id);
    curl_easy_setopt(rt->curl, CURLOPT_URL, url);
    curl_easy_setopt(rt->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(rt->curl, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(rt->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(rt->curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(rt->curl, CURLOPT_HEADERFUNCTION, discard);
    CURLcode rc = curl_easy_perform(rt->curl);
    curl_easy_setopt(rt->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    if (rc != CURLE_OK) {
        fprintf(stderr, "hello-c: POST response failed: %s\n", curl_easy_strerror(rc));
        goto cleanup;
    }
    curl_easy_getinfo(rt->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 500) {
        fprintf(stderr, "hello-c: POST response answered %ld, exiting\n", status);
        goto cleanup;
    }
    if (status != 202)
        fprintf(stderr, "hello-c: POST response answered %ld\n", status);
    ok = true;
cleanup:
    curl_slist_free_all(headers);
    return ok;
}

int main(void)
{
    struct runtime rt = {0};
    int result = EXIT_SETUP;
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");

    if (!api || !*api) {
        fprintf(stderr, "hello-c: AWS_LAMBDA_RUNTIME_API is not set\n");
        return EXIT_SETUP;
    }
    int n = snprintf(rt.base, sizeof rt.base, "http://%s/2018-06-01/runtime", api);
    if (n < 0 || (size_t)n >= sizeof rt.base) {
        fprintf(stderr, "hello-c: AWS_LAMBDA_RUNTIME_API is too long\n");
        return EXIT_SETUP;
    }
    if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK)
        return EXIT_SETUP;
    rt.curl = curl_easy_init();
    if (!rt.curl)
        goto cleanup;
    /* No timeout: /next blocks until an invocation arrives (the environment
     * is frozen meanwhile). Keep-alive is libcurl's default for one handle. */
    curl_easy_setopt(rt.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(rt.curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(rt.curl, CURLOPT_USERAGENT, "coldsec-hello-c/1");

    result = EXIT_RUNTIME_API;
    for (;;) {
        char body[160];
        if (!next_invocation(&rt))
            break;
        rt.invocations++;
        int len = snprintf(body, sizeof body,
                           "{\"message\":\"hello\",\"runtime\":\"c\",\"invocation\":%lu}",
                           rt.invocations);
        if (len < 0 || (size_t)len >= sizeof body)
            break;
        fflush(stdout);
        if (!post_response(&rt, body, (size_t)len))
            break;
    }
cleanup:
    if (rt.curl)
        curl_easy_cleanup(rt.curl);
    free(rt.event.data);
    curl_global_cleanup();
    return result;
}
