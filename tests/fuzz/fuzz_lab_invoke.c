/*
 * libFuzzer target for the lab's Lambda API request parsing
 * (harness/lab_request.c): routing of /2015-03-31, /2017-10-31 and
 * /2019-09-30 paths (FunctionName in every form, percent-decoding, the
 * Qualifier argument), the Invoke headers and payload (X-Amz-Invocation-Type,
 * X-Amz-Log-Type, X-Amz-Client-Context) and a control-plane JSON body.
 *
 * Input: one flags byte, then newline-separated fields method, path,
 * Qualifier, invocation type, log type, client context; the rest is the body.
 * Flag bits say which of the optional fields are present (the others are
 * NULL, as a missing header is) and whether the body was "too large".
 *
 * Properties: no crash; a refusal is AWS-shaped (status and error type as
 * the handlers answer them); an accepted name round-trips (encoded as a
 * name, name:qualifier or ARN, it routes to the same name and qualifier; a
 * qualifier other than $LATEST only on Invoke, GetFunction,
 * GetFunctionConfiguration and GetFunctionUrlConfig);
 * any name of [A-Za-z0-9_-]{1,64} is accepted; a client context that is
 * strict base64 decodes to what a reference decoder gives.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_request.h"

#define REGION "us-east-1"
#define ACCOUNT "123456789012"
#define NFIELDS 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

/* Percent-encodes s (botocore's way: everything but unreserved). */
static void encode(const char *s, char *out)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (unreserved(ch)) {
            *out++ = (char)ch;
        } else {
            *out++ = '%';
            *out++ = hex[ch >> 4];
            *out++ = hex[ch & 15];
        }
    }
    *out = '\0';
}

static bool known_code(const lab_request_error *e)
{
    return e->code && e->message[0] &&
           ((e->status == 404 && (strcmp(e->code, "UnknownOperationException") == 0 ||
                                  strcmp(e->code, "ResourceNotFoundException") == 0)) ||
            (e->status == 400 && (strcmp(e->code, "InvalidParameterValueException") == 0 ||
                                  strcmp(e->code, "InvalidRequestContentException") == 0)) ||
            (e->status == 413 && strcmp(e->code, "RequestEntityTooLargeException") == 0));
}

/* name and qualifier, in the three forms, must route back to themselves. */
static void round_trip(const char *name, const char *qual)
{
    char enc[3 * (2 * LAB_REQUEST_MAX_NAME + 64) + 1], raw[2 * LAB_REQUEST_MAX_NAME + 64];
    char path[sizeof(enc) + 64];
    lab_request_route rt;

    for (int form = 0; form < 3; form++) {
        const char *pre = form == 0 ? "" : form == 1 ? ACCOUNT ":function:"
                                                     : "arn:aws:lambda:" REGION ":" ACCOUNT ":function:";
        snprintf(raw, sizeof(raw), "%s%s%s%s", pre, name, qual[0] ? ":" : "", qual);
        if (strlen(raw) > LAB_REQUEST_MAX_NAME)
            continue;
        encode(raw, enc);
        snprintf(path, sizeof(path), "/2015-03-31/functions/%s/invocations", enc);
        lab_request_route_api("POST", path, NULL, REGION, ACCOUNT, &rt);
        if (rt.op != LAB_REQUEST_OP_INVOKE || strcmp(rt.name, name) != 0 ||
            strcmp(rt.qualifier, qual) != 0) {
            fprintf(stderr, "round trip of [%s] [%s] via %s gave op %d [%s] [%s]\n", name, qual, path,
                    (int)rt.op, rt.name, rt.qualifier);
            abort();
        }
    }
}

static int b64val(char ch)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = ch ? strchr(alphabet, ch) : NULL;

    return p ? (int)(p - alphabet) : -1;
}

/* Strict base64 with padding; -1 when not. out holds len / 4 * 3 bytes. */
static long ref_b64(const char *s, size_t len, unsigned char *out)
{
    size_t o = 0;

    if (len % 4 != 0)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64val(s[i + k])) < 0) {
                return -1;
            }
        }
        if (pad == 1 && s[i + 2] == '=')
            return -1;
        out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        if (pad < 2)
            out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
        if (pad < 1)
            out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
    }
    return (long)o;
}

static void check_route(const char *method, const char *path, const char *qarg)
{
    lab_request_route rt;

    lab_request_route_api(method, path, qarg, REGION, ACCOUNT, &rt);
    if (rt.op == LAB_REQUEST_OP_ERROR) {
        if (!known_code(&rt.err) || rt.err.status == 413)
            abort();
        return;
    }
    if (rt.op == LAB_REQUEST_OP_LIST_FUNCTIONS || rt.op == LAB_REQUEST_OP_GET_ACCOUNT_SETTINGS)
        return;   /* no function named */
    /* A version or alias reaches only the operations that take one. */
    if (!rt.name[0] || strchr(rt.name, ':') ||
        (rt.qualifier[0] && strcmp(rt.qualifier, "$LATEST") != 0 && rt.op != LAB_REQUEST_OP_INVOKE &&
         rt.op != LAB_REQUEST_OP_GET_CONFIGURATION && rt.op != LAB_REQUEST_OP_GET_FUNCTION &&
         rt.op != LAB_REQUEST_OP_GET_URL_CONFIG))
        abort();
    round_trip(rt.name, rt.qualifier);
}

static void check_invoke(const char *type, const char *logtype, const char *cc, const char *body,
                         size_t len, bool too_large)
{
    lab_request_invocation_type it;
    lab_request_error err;
    char *context = NULL;
    bool tail = false;

    if (lab_request_invoke_headers(type, logtype, &it, &tail, &err) != 0) {
        if (err.status != 400 || strcmp(err.code, "InvalidParameterValueException") != 0)
            abort();
        it = LAB_REQUEST_INVOKE_SYNC;
    } else if (tail != (logtype && strcmp(logtype, "Tail") == 0)) {
        abort();
    }
    if (lab_request_invoke_body(it, len ? body : "{}", len ? len : 2, too_large, cc, &context, &err) != 0) {
        if (context || !known_code(&err) || err.status == 404)
            abort();
    } else if (too_large || (cc != NULL) != (context != NULL)) {
        abort();
    }
    if (context) {
        unsigned char *ref = malloc(strlen(cc) / 4 * 3 + 1);
        long n = ref ? ref_b64(cc, strlen(cc), ref) : -1;
        /* Strict base64 without NULs inside must come back as it decodes. */
        if (n >= 0 && !memchr(ref, 0, (size_t)n) &&
            (strlen(context) != (size_t)n || memcmp(context, ref, (size_t)n) != 0))
            abort();
        free(ref);
        free(context);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *fields[NFIELDS] = {NULL};
    const char *body;
    size_t used = 0, len;
    lab_request_error err;
    unsigned flags;
    cJSON *o;

    if (size < 1)
        return 0;
    flags = data[0];
    buf = malloc(size);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    len = strlen(buf);
    for (int i = 0; i < NFIELDS; i++) {
        char *nl = used < len ? strchr(buf + used, '\n') : NULL;
        fields[i] = buf + used;
        if (!nl) {
            used = len;
            for (int k = i + 1; k < NFIELDS; k++)
                fields[k] = buf + len;
            break;
        }
        *nl = '\0';
        used = (size_t)(nl - buf) + 1;
    }
    body = buf + used;
    len = strlen(body);
    check_route(fields[0], fields[1], (flags & 1) ? fields[2] : NULL);
    /* Any plain name is one a function may have. */
    if (fields[1][0] && strlen(fields[1]) <= 64 &&
        strspn(fields[1], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
            strlen(fields[1]))
        round_trip(fields[1], (flags & 32) ? "$LATEST" : "");
    check_invoke((flags & 2) ? fields[3] : NULL, (flags & 4) ? fields[4] : NULL,
                 (flags & 8) ? fields[5] : NULL, body, len, (flags & 16) != 0);
    o = lab_request_config_body(body, len, (flags & 16) != 0, &err);
    if (o ? !cJSON_IsObject(o) : !known_code(&err))
        abort();
    cJSON_Delete(o);
    free(buf);
    return 0;
}
