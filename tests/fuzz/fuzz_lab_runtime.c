/*
 * libFuzzer target for the Runtime API's request parsing
 * (lab_request_rt_path / lab_request_rt_parse in harness/lab_request.c):
 * GET /2018-06-01/runtime/invocation/next, POST .../invocation/ID/response
 * and /error, POST .../init/error.
 *
 * Input: the method up to the first newline, then the (decoded) request
 * path as libmicrohttpd hands it over.
 *
 * Properties: no crash; only the four routes are accepted, each for its
 * one method; a refusal is 404 (unknown route), 405 (a method other than
 * GET and POST) or 400 (a request id that is missing or longer than 64
 * bytes), as the handler answers today; an accepted request id is exactly
 * the path segment, and the pool's check (the id of the current
 * invocation, compared whole) accepts only the canonical path for it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_request.h"

#define PREFIX "/2018-06-01/runtime/"
#define CURRENT "8f3c2b1a-5d6e-4f70-8a9b-0c1d2e3f4a5b"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *nl;
    const char *method, *url, *path;
    char canon[sizeof(PREFIX) + LAB_REQUEST_MAX_REQUEST_ID + 32];
    bool get, post;
    lab_request_rt rt;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    nl = strchr(buf, '\n');
    method = nl ? buf : "POST";
    url = nl ? nl + 1 : buf;
    if (nl)
        *nl = '\0';
    get = strcmp(method, "GET") == 0;
    post = strcmp(method, "POST") == 0;
    path = lab_request_rt_path(url);
    if ((path != NULL) != (strncmp(url, PREFIX, strlen(PREFIX)) == 0))
        abort();
    if (!path)
        goto done;
    lab_request_rt_parse(method, path, &rt);
    switch (rt.kind) {
    case LAB_REQUEST_RT_NEXT:
        if (!get || strcmp(path, "invocation/next") != 0)
            abort();
        break;
    case LAB_REQUEST_RT_INIT_ERROR:
        if (!post || strcmp(path, "init/error") != 0)
            abort();
        break;
    case LAB_REQUEST_RT_RESPONSE:
    case LAB_REQUEST_RT_ERROR:
        if (!post || strlen(rt.request_id) > LAB_REQUEST_MAX_REQUEST_ID || strchr(rt.request_id, '/'))
            abort();
        snprintf(canon, sizeof(canon), "invocation/%s/%s", rt.request_id,
                 rt.kind == LAB_REQUEST_RT_RESPONSE ? "response" : "error");
        if (strcmp(canon, path) != 0)
            abort();
        /* The pool's check: the whole id of the current invocation. */
        if (strcmp(rt.request_id, CURRENT) == 0 &&
            strcmp(path, rt.kind == LAB_REQUEST_RT_RESPONSE ? "invocation/" CURRENT "/response"
                                                            : "invocation/" CURRENT "/error") != 0)
            abort();
        break;
    case LAB_REQUEST_RT_REFUSED:
        if (rt.request_id[0])
            abort();
        if (rt.status == 405 ? (get || post)
                             : rt.status == 400 ? !post || strncmp(path, "invocation/", 11) != 0
                                                : rt.status != 404)
            abort();
        if (get && strcmp(path, "invocation/next") == 0)
            abort();
        break;
    default:
        abort();
    }
done:
    free(buf);
    return 0;
}
