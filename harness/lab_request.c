/*
 * lab_request — parsing and validation of the lab's requests, as pure
 * functions (see lab_request.h). The handlers in lab_api.c and
 * lab_runtime_api.c call these and only read the request off the
 * connection and write the answer back.
 */
#include "lab_request.h"
#include "utf8.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RT_PREFIX "/2018-06-01/runtime/"
#define URL_MAX_HEADER_NAME 256 /* longer names are dropped from the event */
#define URL_MAX_MEDIA_TYPE 127  /* of a Content-Type, for the text-or-binary choice */

static void set_error(lab_request_error *err, int status, const char *code, const char *message)
{
    err->status = status;
    err->code = code;
    snprintf(err->message, sizeof(err->message), "%s", message);
}

/* ---------- routes and Invoke ---------- */

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

int lab_request_pct_decode(const char *src, size_t len, char *out, size_t outlen)
{
    size_t o = 0;

    if (outlen == 0)
        return -1;
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

int lab_request_function_name(const char *region, const char *account, const char *raw,
                              size_t rawlen, char *name, size_t namelen, char *qual,
                              size_t quallen)
{
    char dec[LAB_REQUEST_MAX_NAME + 1];
    char *parts[8];
    int n = 0;
    char *s, *save = NULL;
    const char *fname, *q = "";

    if (rawlen == 0 || lab_request_pct_decode(raw, rawlen, dec, sizeof(dec)) != 0)
        return -1;
    for (s = strtok_r(dec, ":", &save); s && n < 8; s = strtok_r(NULL, ":", &save))
        parts[n++] = s;
    if (n == 0)
        return -1;
    /* "arn" and "arn:q" are a function named arn (Lambda's FunctionName
     * pattern allows it), not a truncated ARN. */
    if (n > 2 && strcmp(parts[0], "arn") == 0) {
        if (n < 7 || strcmp(parts[1], "aws") != 0 || strcmp(parts[2], "lambda") != 0 ||
            strcmp(parts[3], region) != 0 || strcmp(parts[4], account) != 0 ||
            strcmp(parts[5], "function") != 0 || n > 8)
            return -1;
        fname = parts[6];
        if (n == 8)
            q = parts[7];
    } else if (n >= 3 && strcmp(parts[1], "function") == 0) {
        if (strcmp(parts[0], account) != 0 || n > 4)
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

void lab_request_not_found(const char *region, const char *account, const char *name,
                           const char *qualifier, lab_request_error *err)
{
    err->status = 404;
    err->code = "ResourceNotFoundException";
    snprintf(err->message, sizeof(err->message),
             "Function not found: arn:aws:lambda:%s:%s:function:%s%s%s", region, account, name,
             qualifier ? ":" : "", qualifier ? qualifier : "");
}

void lab_request_route_api(const char *method, const char *path, const char *qualifier_arg,
                           const char *region, const char *account, lab_request_route *out)
{
    static const char fn2015[] = "/2015-03-31/functions/";
    static const char conc2017[] = "/2017-10-31/functions/";
    static const char conc2019[] = "/2019-09-30/functions/";
    static const char url2021[] = "/2021-10-31/functions/";
    static const char aliases[] = "/aliases/";
    const char *seg, *rest;
    size_t seglen;
    bool qualified_op;

    memset(out, 0, sizeof(*out));
    out->op = LAB_REQUEST_OP_ERROR;
    /* GetAccountSettings: GET /2016-08-19/account-settings/
     * (https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html). */
    if ((strcmp(path, "/2016-08-19/account-settings/") == 0 ||
         strcmp(path, "/2016-08-19/account-settings") == 0) &&
        strcmp(method, "GET") == 0) {
        out->op = LAB_REQUEST_OP_GET_ACCOUNT_SETTINGS;
        return;
    }
    if ((strcmp(path, "/2015-03-31/functions") == 0 || strcmp(path, fn2015) == 0) &&
        strcmp(method, "GET") == 0) {
        out->op = LAB_REQUEST_OP_LIST_FUNCTIONS;
        return;
    }
    if (strncmp(path, fn2015, sizeof(fn2015) - 1) == 0)
        seg = path + sizeof(fn2015) - 1;
    else if (strncmp(path, conc2017, sizeof(conc2017) - 1) == 0)
        seg = path + sizeof(conc2017) - 1;
    else if (strncmp(path, conc2019, sizeof(conc2019) - 1) == 0)
        seg = path + sizeof(conc2019) - 1;
    else if (strncmp(path, url2021, sizeof(url2021) - 1) == 0)
        seg = path + sizeof(url2021) - 1;
    else
        goto unknown;
    rest = strchr(seg, '/');
    seglen = rest ? (size_t)(rest - seg) : strlen(seg);
    if (!rest)
        rest = "";
    if (lab_request_function_name(region, account, seg, seglen, out->name, sizeof(out->name),
                                  out->qualifier, sizeof(out->qualifier)) != 0) {
        out->name[0] = out->qualifier[0] = '\0';
        set_error(&out->err, 404, "ResourceNotFoundException",
                  "Function not found: the function name is not valid for this account and region");
        return;
    }
    if (qualifier_arg && !out->qualifier[0] &&
        lab_request_pct_decode(qualifier_arg, strlen(qualifier_arg), out->qualifier,
                               sizeof(out->qualifier)) != 0) {
        out->qualifier[0] = '\0';
        set_error(&out->err, 400, "InvalidParameterValueException", "Invalid Qualifier.");
        return;
    }
    /* Qualifier: pattern (|[a-zA-Z0-9$_-]+), 1 to 128 characters
     * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html). */
    if (strspn(out->qualifier, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789$_-") !=
            strlen(out->qualifier) ||
        strlen(out->qualifier) > 128) {
        out->qualifier[0] = '\0';
        set_error(&out->err, 400, "InvalidParameterValueException", "Invalid Qualifier.");
        return;
    }
    if (strncmp(path, fn2015, sizeof(fn2015) - 1) == 0) {
        /* The versions and aliases paths: PublishVersion,
         * ListVersionsByFunction, CreateAlias, ListAliases, GetAlias,
         * UpdateAlias, DeleteAlias (AWS Lambda API Reference, e.g.
         * https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html). */
        if (strcmp(rest, "/invocations") == 0 && strcmp(method, "POST") == 0)
            out->op = LAB_REQUEST_OP_INVOKE;
        else if (strcmp(rest, "/configuration") == 0 && strcmp(method, "GET") == 0)
            out->op = LAB_REQUEST_OP_GET_CONFIGURATION;
        else if (strcmp(rest, "/configuration") == 0 && strcmp(method, "PUT") == 0)
            out->op = LAB_REQUEST_OP_UPDATE_CONFIGURATION;
        else if ((rest[0] == '\0' || strcmp(rest, "/") == 0) && strcmp(method, "GET") == 0)
            out->op = LAB_REQUEST_OP_GET_FUNCTION;
        else if ((strcmp(rest, "/versions") == 0 || strcmp(rest, "/versions/") == 0) &&
                 strcmp(method, "POST") == 0)
            out->op = LAB_REQUEST_OP_PUBLISH_VERSION;
        else if ((strcmp(rest, "/versions") == 0 || strcmp(rest, "/versions/") == 0) &&
                 strcmp(method, "GET") == 0)
            out->op = LAB_REQUEST_OP_LIST_VERSIONS;
        else if ((strcmp(rest, "/aliases") == 0 || strcmp(rest, "/aliases/") == 0) &&
                 strcmp(method, "POST") == 0)
            out->op = LAB_REQUEST_OP_CREATE_ALIAS;
        else if ((strcmp(rest, "/aliases") == 0 || strcmp(rest, "/aliases/") == 0) &&
                 strcmp(method, "GET") == 0)
            out->op = LAB_REQUEST_OP_LIST_ALIASES;
        else if (strncmp(rest, aliases, sizeof(aliases) - 1) == 0 &&
                 !strchr(rest + sizeof(aliases) - 1, '/')) {
            const char *a = rest + sizeof(aliases) - 1;
            if (lab_request_pct_decode(a, strlen(a), out->alias, sizeof(out->alias)) != 0) {
                set_error(&out->err, 400, "InvalidParameterValueException", "Invalid alias name.");
                return;
            }
            if (strcmp(method, "GET") == 0)
                out->op = LAB_REQUEST_OP_GET_ALIAS;
            else if (strcmp(method, "PUT") == 0)
                out->op = LAB_REQUEST_OP_UPDATE_ALIAS;
            else if (strcmp(method, "DELETE") == 0)
                out->op = LAB_REQUEST_OP_DELETE_ALIAS;
        }
    } else if (strncmp(path, url2021, sizeof(url2021) - 1) == 0) {
        /* https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionUrlConfig.html */
        if (strcmp(rest, "/url") == 0 && strcmp(method, "GET") == 0)
            out->op = LAB_REQUEST_OP_GET_URL_CONFIG;
    } else if (strcmp(rest, "/concurrency") == 0) {
        bool v2019 = strncmp(path, conc2019, sizeof(conc2019) - 1) == 0;
        if (v2019 && strcmp(method, "GET") == 0)
            out->op = LAB_REQUEST_OP_GET_CONCURRENCY;
        else if (!v2019 && strcmp(method, "PUT") == 0)
            out->op = LAB_REQUEST_OP_PUT_CONCURRENCY;
        else if (!v2019 && strcmp(method, "DELETE") == 0)
            out->op = LAB_REQUEST_OP_DELETE_CONCURRENCY;
    }
    /* A version or alias qualifies only the operations that take one; the
     * others name the function itself ($LATEST). */
    qualified_op = out->op == LAB_REQUEST_OP_INVOKE || out->op == LAB_REQUEST_OP_GET_CONFIGURATION ||
                   out->op == LAB_REQUEST_OP_GET_FUNCTION || out->op == LAB_REQUEST_OP_GET_URL_CONFIG;
    if (out->qualifier[0] && strcmp(out->qualifier, "$LATEST") != 0 && !qualified_op) {
        out->op = LAB_REQUEST_OP_ERROR;
        out->alias[0] = '\0';
        lab_request_not_found(region, account, out->name, out->qualifier, &out->err);
        return;
    }
    if (out->op != LAB_REQUEST_OP_ERROR)
        return;
unknown:
    set_error(&out->err, 404, "UnknownOperationException", "Unknown operation");
}

int lab_request_invoke_headers(const char *type, const char *log_type,
                               lab_request_invocation_type *out_type, bool *out_tail,
                               lab_request_error *err)
{
    if (!type || strcmp(type, "RequestResponse") == 0) {
        *out_type = LAB_REQUEST_INVOKE_SYNC;
    } else if (strcmp(type, "Event") == 0) {
        *out_type = LAB_REQUEST_INVOKE_EVENT;
    } else if (strcmp(type, "DryRun") == 0) {
        *out_type = LAB_REQUEST_INVOKE_DRY_RUN;
    } else {
        set_error(err, 400, "InvalidParameterValueException",
                  "1 validation error detected: Value at 'invocationType' failed to satisfy "
                  "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]");
        return -1;
    }
    if (log_type && strcmp(log_type, "Tail") != 0 && strcmp(log_type, "None") != 0) {
        set_error(err, 400, "InvalidParameterValueException",
                  "1 validation error detected: Value at 'logType' failed to satisfy "
                  "constraint: Member must satisfy enum value set: [None, Tail]");
        return -1;
    }
    *out_tail = log_type && strcmp(log_type, "Tail") == 0;
    return 0;
}

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

int lab_request_client_context(const char *b64, char **out)
{
    size_t len = strlen(b64), n = 0;

    /* Strict base64: EVP_DecodeBlock alone took "====" and left the count
     * of padding to subtract, which went below zero. */
    *out = NULL;
    if (len > LAB_REQUEST_MAX_CLIENT_CONTEXT)
        return -1;
    return lab_request_b64_decode(b64, len, out, &n);
}

int lab_request_invoke_body(lab_request_invocation_type type, const char *body, size_t len,
                            bool too_large, const char *client_context, char **context,
                            lab_request_error *err)
{
    size_t error_at = 0;

    *context = NULL;
    if (too_large) {
        set_error(err, 413, "RequestEntityTooLargeException",
                  "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
        return -1;
    }
    if (type == LAB_REQUEST_INVOKE_EVENT && len > LAB_REQUEST_MAX_EVENT_PAYLOAD) {
        set_error(err, 413, "RequestEntityTooLargeException",
                  "Request must be smaller than 1048576 bytes for the InvokeFunction operation");
        return -1;
    }
    if (!valid_json(body, len, &error_at)) {
        err->status = 400;
        err->code = "InvalidRequestContentException";
        snprintf(err->message, sizeof(err->message),
                 "Could not parse request body into json: Could not parse payload into json: "
                 "invalid JSON at byte %zu", error_at);
        return -1;
    }
    if (client_context && lab_request_client_context(client_context, context) != 0) {
        set_error(err, 400, "InvalidParameterValueException",
                  "Client context must be a valid Base64-encoded JSON object of at most 3583 bytes.");
        return -1;
    }
    return 0;
}

cJSON *lab_request_config_body(const char *body, size_t len, bool too_large,
                               lab_request_error *err)
{
    cJSON *o;

    if (too_large || len > LAB_REQUEST_MAX_CONFIG_BODY) {
        set_error(err, 413, "RequestEntityTooLargeException", "Request body too large.");
        return NULL;
    }
    o = len ? cJSON_ParseWithLength(body, len) : cJSON_CreateObject();
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        set_error(err, 400, "InvalidRequestContentException",
                  "Could not parse request body into json: expected a JSON object");
        return NULL;
    }
    return o;
}

/* ---------- Runtime API ---------- */

const char *lab_request_rt_path(const char *url)
{
    return strncmp(url, RT_PREFIX, sizeof(RT_PREFIX) - 1) == 0 ? url + sizeof(RT_PREFIX) - 1 : NULL;
}

void lab_request_rt_parse(const char *method, const char *path, lab_request_rt *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = LAB_REQUEST_RT_REFUSED;
    out->status = 404;
    if (strcmp(method, "GET") == 0) {
        if (strcmp(path, "invocation/next") == 0)
            out->kind = LAB_REQUEST_RT_NEXT;
        return;
    }
    if (strcmp(method, "POST") != 0) {
        out->status = 405;
        return;
    }
    if (strcmp(path, "init/error") == 0) {
        out->kind = LAB_REQUEST_RT_INIT_ERROR;
        return;
    }
    if (strncmp(path, "invocation/", 11) == 0) {
        const char *id = path + 11;
        const char *slash = strchr(id, '/');
        size_t idlen;

        if (!slash || (size_t)(slash - id) > LAB_REQUEST_MAX_REQUEST_ID) {
            out->status = 400;
            return;
        }
        if (strcmp(slash, "/response") == 0)
            out->kind = LAB_REQUEST_RT_RESPONSE;
        else if (strcmp(slash, "/error") == 0)
            out->kind = LAB_REQUEST_RT_ERROR;
        else
            return;
        idlen = (size_t)(slash - id);
        memcpy(out->request_id, id, idlen);
        out->request_id[idlen] = '\0';
    }
}

/* ---------- function URLs ---------- */

/* UTF-8 without NUL: text a JSON string (and a C string) carries as it is. */
static bool plain_text(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
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
        uint32_t cp;
        size_t n = s[i] == '\0' ? 0 : utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (n == 0) {
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

/* Replaces or adds key's string value. */
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
bool lab_request_text_media_type(const char *ct)
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

/* One request header into headers (lower-cased, repeats comma-joined) or cookies. */
static bool add_header(cJSON *headers, cJSON *cookies, const char *key, const char *value)
{
    char name[URL_MAX_HEADER_NAME + 1];
    size_t n = key ? strlen(key) : 0;

    if (!value)
        value = "";
    /* Not a name HTTP allows, and a JSON key must be text: dropped. */
    if (n == 0 || n > URL_MAX_HEADER_NAME)
        return true;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7F)
            return true;
        name[i] = (char)tolower((unsigned char)key[i]);
    }
    name[n] = '\0';
    return strcmp(name, "cookie") == 0 ? add_cookies(cookies, value)
                                       : add_joined(headers, name, value);
}

/* What a load balancer in front of the function adds (AWS adds these too). */
static bool add_forwarded(cJSON *headers, const char *ip, int port, const char *trace)
{
    const cJSON *xff = cJSON_GetObjectItemCaseSensitive(headers, "x-forwarded-for");
    char portbuf[16];
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
    return set_text(headers, "x-amzn-trace-id", trace);
}

/* A percent-decoded copy of s[0..len); the text as sent when it does not decode. */
static char *query_piece(const char *s, size_t len)
{
    char *out = len < SIZE_MAX ? malloc(len + 1) : NULL;

    if (out && lab_request_pct_decode(s, len, out, len + 1) != 0) {
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

char *lab_request_b64_encode(const char *s, size_t len)
{
    unsigned char *out;

    if (len > (size_t)INT32_MAX / 2)
        return NULL;
    out = malloc(4 * ((len + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock(out, (const unsigned char *)s, (int)len);
    return (char *)out;
}

int lab_request_b64_decode(const char *s, size_t len, char **out, size_t *outlen)
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
    buf[n - (int)pad] = '\0';
    *out = (char *)buf;
    *outlen = (size_t)n - pad;
    return 0;
}

static const char *find_header(const lab_request_url_in *in, const char *name)
{
    for (size_t i = 0; i < in->nheaders; i++)
        if (in->headers[i].name && strcasecmp(in->headers[i].name, name) == 0)
            return in->headers[i].value ? in->headers[i].value : "";
    return NULL;
}

char *lab_request_url_event(const lab_request_url_in *in)
{
    const char *ua = find_header(in, "User-Agent");
    const char *ct = find_header(in, "Content-Type");
    cJSON *headers = cJSON_CreateObject(), *cookies = cJSON_CreateArray();
    cJSON *env = cJSON_CreateObject();
    cJSON *ctx = NULL, *http = NULL;
    char domain[LAB_REQUEST_URL_ID_LEN + 128], stamp[40];
    char *b64 = NULL, *out = NULL;
    bool base64 = false;
    time_t secs = (time_t)(in->now_ms / 1000);
    struct tm tm;

    if (!gmtime_r(&secs, &tm) || strftime(stamp, sizeof(stamp), "%d/%b/%Y:%H:%M:%S +0000", &tm) == 0)
        stamp[0] = '\0';
    snprintf(domain, sizeof(domain), "%s.lambda-url.%s.on.aws", in->url_id, in->region);
    if (!env || !headers || !cookies)
        goto cleanup;
    for (size_t i = 0; i < in->nheaders; i++)
        if (!add_header(headers, cookies, in->headers[i].name, in->headers[i].value))
            goto cleanup;
    if (!add_forwarded(headers, in->source_ip, in->port, in->trace_id))
        goto cleanup;
    if (!add_text(env, "version", "2.0") || !add_text(env, "routeKey", "$default") ||
        !add_text(env, "rawPath", in->path) || !add_text(env, "rawQueryString", in->query))
        goto cleanup;
    if (cookies->child) {
        cJSON *c = cookies;
        cookies = NULL;
        if (!add_item(env, "cookies", c))
            goto cleanup;
    }
    {
        cJSON *h = headers;
        headers = NULL;
        if (!add_item(env, "headers", h) || !add_query_params(env, in->query))
            goto cleanup;
    }
    ctx = cJSON_AddObjectToObject(env, "requestContext");
    /* Auth type NONE: the caller is anonymous, and there is no authorizer. */
    if (!ctx || !add_text(ctx, "accountId", "anonymous") || !add_text(ctx, "apiId", in->url_id) ||
        !cJSON_AddNullToObject(ctx, "authentication") || !add_text(ctx, "domainName", domain) ||
        !add_text(ctx, "domainPrefix", in->url_id))
        goto cleanup;
    http = cJSON_AddObjectToObject(ctx, "http");
    if (!http || !add_text(http, "method", in->method) || !add_text(http, "path", in->path) ||
        !add_text(http, "protocol", "HTTP/1.1") || !add_text(http, "sourceIp", in->source_ip) ||
        !add_text(http, "userAgent", ua ? ua : ""))
        goto cleanup;
    if (!add_text(ctx, "requestId", in->request_id) || !add_text(ctx, "routeKey", "$default") ||
        !add_text(ctx, "stage", "$default") || !add_text(ctx, "time", stamp) ||
        !cJSON_AddNumberToObject(ctx, "timeEpoch", (double)in->now_ms))
        goto cleanup;
    if (in->body_len > 0) {
        base64 = !lab_request_text_media_type(ct) || !plain_text(in->body, in->body_len);
        if (base64) {
            b64 = lab_request_b64_encode(in->body, in->body_len);
            if (!b64 || !add_item(env, "body", cJSON_CreateString(b64)))
                goto cleanup;
        } else if (!add_item(env, "body", cJSON_CreateString(in->body))) {
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
    cJSON_Delete(headers);
    cJSON_Delete(cookies);
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

/* No CR or LF: a function must not be able to add headers or split the answer. */
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
        return lab_request_b64_decode(b->valuestring, strlen(b->valuestring), body, len) == 0;
    if (cJSON_IsString(b))
        *body = strdup(b->valuestring);
    else if (b && !cJSON_IsNull(b))
        *body = cJSON_PrintUnformatted(b);
    else
        *body = strdup("");
    *len = *body ? strlen(*body) : 0;
    return *body != NULL;
}

static bool reply_header(lab_request_url_reply *r, const char *name, const char *value)
{
    char **names = realloc(r->names, (r->nheaders + 1) * sizeof(*names));
    char **values;

    if (!names)
        return false;
    r->names = names;
    values = realloc(r->values, (r->nheaders + 1) * sizeof(*values));
    if (!values)
        return false;
    r->values = values;
    names[r->nheaders] = strdup(name);
    values[r->nheaders] = strdup(value);
    r->nheaders++;
    return names[r->nheaders - 1] && values[r->nheaders - 1];
}

/* headers (strings, numbers or booleans) and cookies (one Set-Cookie each). */
static bool url_headers(lab_request_url_reply *r, const cJSON *doc, bool *typed)
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
        if (strcasecmp(it->string, "Content-Type") == 0)
            *typed = true;
        if (!reply_header(r, it->string, v))
            return false;
    }
    cJSON_ArrayForEach(it, ck) {
        if (!cJSON_IsString(it) || !header_value_ok(it->valuestring) ||
            !reply_header(r, "Set-Cookie", it->valuestring))
            return false;
    }
    return true;
}

void lab_request_url_reply_clear(lab_request_url_reply *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    free(r->names);
    free(r->values);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

int lab_request_url_result(const char *payload, size_t len, lab_request_url_reply *out)
{
    cJSON *doc = cJSON_ParseWithLength(payload, len);
    const cJSON *sc = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "statusCode") : NULL;
    bool typed = false;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (!doc)
        goto cleanup;
    if (sc) {
        if (!url_status(sc, &out->status) || !url_body(doc, &out->body, &out->body_len))
            goto cleanup;
    } else if (cJSON_IsString(doc)) {
        out->status = 200;
        out->body = strdup(doc->valuestring);
        out->body_len = out->body ? strlen(out->body) : 0;
    } else {
        out->status = 200;
        out->body = malloc(len + 1);
        out->body_len = len;
        if (out->body) {
            memcpy(out->body, payload, len);
            out->body[len] = '\0';
        }
    }
    if (!out->body)
        goto cleanup;
    if (sc && !url_headers(out, doc, &typed))
        goto cleanup;
    if (!typed && !reply_header(out, "Content-Type", "application/json"))
        goto cleanup;
    rc = 0;
cleanup:
    if (rc != 0)
        lab_request_url_reply_clear(out);
    cJSON_Delete(doc);
    return rc;
}
