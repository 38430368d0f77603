/*
 * libFuzzer target for event: the baseline event is the user's and a
 * response payload is whatever the function returned. The input is taken
 * three ways. Beyond surviving:
 *   - as a response payload: the first text is the exact payload, and a
 *     "body" text appears exactly when the whole payload is an object whose
 *     last "body" member is a string;
 *   - as a request body: every HTTP envelope parses as JSON and carries the
 *     body verbatim (read back through event_response_texts too); without
 *     base64 only valid UTF-8 is accepted, with base64 everything is, and
 *     raw is a byte-for-byte copy;
 *   - as a JSON event: every listed pointer is unique and resolves to a leaf
 *     (strings for EVENT_STRINGS, a subsequence of EVENT_LEAVES); replacing
 *     a field makes its pointer resolve to the new value; deleting one
 *     removes exactly one item and the pointer then finds what the header
 *     promises (the next array item, or the earlier member of that name);
 *     merging the event into a copy of itself leaves every top-level
 *     pointer resolving to the same JSON.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Mutations tried per input: enough to reach every kind of field. */
#define FUZZ_MUTATIONS 24
#define FUZZ_REQUEST_ID "fuzz-request-0001"

/* An independent strict UTF-8 check (code points, not byte tables). */
static bool utf8_ok(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint32_t cp;
        size_t n;

        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if ((s[i] & 0xE0) == 0xC0) {
            n = 1;
            cp = s[i] & 0x1F;
        } else if ((s[i] & 0xF0) == 0xE0) {
            n = 2;
            cp = s[i] & 0x0F;
        } else if ((s[i] & 0xF8) == 0xF0) {
            n = 3;
            cp = s[i] & 0x07;
        } else {
            return false;
        }
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

static cJSON *parse_whole(const char *text, size_t len)
{
    const char *end = NULL;
    cJSON *doc;

    if (len == 0)
        return NULL;
    doc = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!doc)
        return NULL;
    while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end != text + len) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

static const cJSON *last_member(const cJSON *obj, const char *name)
{
    const cJSON *found = NULL;

    for (const cJSON *c = obj->child; c; c = c->next) {
        if (c->string && strcmp(c->string, name) == 0)
            found = c;
    }
    return found;
}

/* ---------------------------------------------------------------------------
 * The input as a response payload.
 */
static void check_texts(const char *in, size_t size)
{
    event_text t[EVENT_MAX_TEXTS];
    size_t n = event_response_texts(in, size, t, EVENT_MAX_TEXTS);
    cJSON *doc = parse_whole(in, size);
    const cJSON *body = cJSON_IsObject(doc) ? last_member(doc, "body") : NULL;
    bool want_body = cJSON_IsString(body);

    if (n != (want_body ? 2u : 1u))
        abort();
    if (strcmp(t[0].label, "payload") != 0 || t[0].len != size ||
        (size && memcmp(t[0].data, in, size) != 0) || t[0].data[size] != '\0')
        abort();
    if (n == 2) {
        const cJSON *b64 = last_member(doc, "isBase64Encoded");
        if (strcmp(t[1].label, "body") != 0 || t[1].data[t[1].len] != '\0')
            abort();
        if (!cJSON_IsTrue(b64) && strcmp(t[1].data, body->valuestring) != 0)
            abort();
    }
    event_texts_free(t, n);
    cJSON_Delete(doc);
}

/* ---------------------------------------------------------------------------
 * The input as a request body.
 */
static void check_body(event_envelope env, const char *in, size_t size, bool base64,
                       const char *out, size_t len)
{
    cJSON *j = parse_whole(out, len);
    const cJSON *body;
    event_text t[EVENT_MAX_TEXTS];
    size_t n;
    const char *nul = size ? memchr(in, '\0', size) : NULL;
    size_t visible = nul ? (size_t)(nul - in) : size;

    if (!cJSON_IsObject(j))
        abort();
    if (env == EVENT_ENVELOPE_APIGW_V1) {
        if (!cJSON_IsString(event_get(j, "/httpMethod")) ||
            !cJSON_IsString(event_get(j, "/requestContext/identity/sourceIp")))
            abort();
    } else {
        const char *version = cJSON_GetStringValue(event_get(j, "/version"));
        const char *rid = cJSON_GetStringValue(event_get(j, "/requestContext/requestId"));
        if (!version || !rid || strcmp(version, "2.0") != 0 || strcmp(rid, FUZZ_REQUEST_ID) != 0)
            abort();
    }
    body = event_get(j, "/body");
    if (cJSON_IsTrue(event_get(j, "/isBase64Encoded")) != (base64 && size > 0))
        abort();
    if (size == 0) {
        if (env == EVENT_ENVELOPE_APIGW_V1 ? !cJSON_IsNull(body) : body != NULL)
            abort();
        cJSON_Delete(j);
        return;
    }
    if (!cJSON_IsString(body))
        abort();
    /* cJSON ends its strings at a decoded \u0000: compare what it can hold. */
    if (!base64 && (strlen(body->valuestring) != visible || memcmp(body->valuestring, in, visible)))
        abort();
    cJSON_Delete(j);

    /* What the response side reads out of it is the body again. */
    n = event_response_texts(out, len, t, EVENT_MAX_TEXTS);
    if (n != 2)
        abort();
    if (base64 ? (t[1].len != size || memcmp(t[1].data, in, size) != 0)
               : (t[1].len != visible || memcmp(t[1].data, in, visible) != 0))
        abort();
    event_texts_free(t, n);
}

static void check_wrap(const char *in, size_t size)
{
    event_http http = {.request_id = FUZZ_REQUEST_ID, .time_ms = 1795458684123LL};
    bool valid = utf8_ok((const uint8_t *)in, size);
    char err[256];
    size_t len = 0;
    char *out = event_wrap(EVENT_ENVELOPE_RAW, in, size, NULL, &len, err, sizeof(err));

    if (!out || len != size || (size && memcmp(out, in, size) != 0))
        abort();
    free(out);
    for (int e = EVENT_ENVELOPE_APIGW_V1; e < EVENT_ENVELOPE_LAST; e++) {
        for (int b = 0; b < 2; b++) {
            http.base64 = b;
            err[0] = 'x';
            out = event_wrap((event_envelope)e, in, size, &http, &len, err, sizeof(err));
            if (!out) {
                /* Only a non-UTF-8 body without base64 is refused. */
                if (b || valid || strstr(err, "UTF-8") == NULL)
                    abort();
                continue;
            }
            if (!b && !valid)
                abort();
            check_body((event_envelope)e, in, size, b, out, len);
            free(out);
        }
    }
}

/* ---------------------------------------------------------------------------
 * The input as a JSON event.
 */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ptr's parent pointer, in a malloc'd copy. */
static char *parent_of(const char *ptr)
{
    const char *slash = strrchr(ptr, '/');
    size_t n = (size_t)(slash - ptr);
    char *p = malloc(n + 1);

    if (!p)
        abort();
    memcpy(p, ptr, n);
    p[n] = '\0';
    return p;
}

static void check_replace(const cJSON *ev, const char *ptr)
{
    cJSON *copy = cJSON_Duplicate(ev, true);
    cJSON *v = cJSON_CreateString("CSC000000000000000000000000");
    cJSON *obj = cJSON_CreateObject();
    size_t plen = strlen(ptr);
    char *sub = malloc(plen + 3);

    if (!copy || !v || !obj || !sub)
        abort();
    if (event_replace(copy, ptr, v) != 0 || event_get(copy, ptr) != v)
        abort();
    /* A leaf turned into a container: its pointer now leads inside. */
    cJSON_AddNumberToObject(obj, "x", 1);
    if (event_replace(copy, ptr, obj) != 0)
        abort();
    memcpy(sub, ptr, plen);
    memcpy(sub + plen, "/x", 3);
    if (cJSON_GetNumberValue(event_get(copy, sub)) != 1)
        abort();
    free(sub);
    cJSON_Delete(copy);
}

static void check_delete(const cJSON *ev, const char *ptr)
{
    cJSON *copy = cJSON_Duplicate(ev, true);
    char *pp = parent_of(ptr);
    cJSON *parent;
    cJSON *item;
    const cJSON *expect = NULL;
    int before;

    if (!copy)
        abort();
    parent = event_get(copy, pp);
    item = event_get(copy, ptr);
    if (!parent || !item)
        abort();
    before = cJSON_GetArraySize(parent);
    if (cJSON_IsArray(parent)) {
        expect = item->next;
    } else {
        for (const cJSON *c = parent->child; c != item; c = c->next) {
            if (strcmp(c->string, item->string) == 0)
                expect = c;
        }
    }
    if (event_delete(copy, ptr) != 0 || cJSON_GetArraySize(parent) != before - 1 ||
        event_get(copy, ptr) != expect)
        abort();
    free(pp);
    cJSON_Delete(copy);
}

/* Merging ev into a copy of itself: each top-level pointer finds the same JSON. */
static void check_merge(const cJSON *ev)
{
    cJSON *copy = cJSON_Duplicate(ev, true);

    if (!copy)
        abort();
    if (event_merge_top(copy, ev) != 0)
        abort();
    for (const cJSON *c = ev->child; c; c = c->next) {
        char ptr[256];
        size_t k = 0;
        char *a;
        char *b;

        ptr[k++] = '/';
        for (const char *s = c->string; *s && k + 3 < sizeof(ptr); s++) {
            if (*s == '~' || *s == '/') {
                ptr[k++] = '~';
                ptr[k++] = *s == '~' ? '0' : '1';
            } else {
                ptr[k++] = *s;
            }
        }
        ptr[k] = '\0';
        if (k + 3 >= sizeof(ptr))
            continue; /* long name: covered by the field checks */
        a = cJSON_PrintUnformatted(event_get(ev, ptr));
        b = cJSON_PrintUnformatted(event_get(copy, ptr));
        if (!a || !b || strcmp(a, b) != 0)
            abort();
        free(a);
        free(b);
    }
    cJSON_Delete(copy);
}

static void check_event(const cJSON *ev, const char *in, size_t size)
{
    event_fields leaves;
    event_fields strings;
    size_t j = 0;
    char *as_pointer;
    cJSON *copy;

    if (event_fields_list(ev, EVENT_LEAVES, &leaves) != 0) {
        if (leaves.paths || leaves.count)
            abort();
        return; /* too deep or too many: refused whole */
    }
    if (event_fields_list(ev, EVENT_STRINGS, &strings) != 0)
        abort();
    for (size_t i = 0; i < leaves.count; i++) {
        const cJSON *v = event_get(ev, leaves.paths[i]);
        if (!v || cJSON_IsObject(v) || cJSON_IsArray(v) || leaves.paths[i][0] != '/')
            abort();
        if (j < strings.count && strcmp(strings.paths[j], leaves.paths[i]) == 0)
            j++;
        else if (cJSON_IsString(v))
            abort(); /* a string leaf missing from the string list */
    }
    if (j != strings.count)
        abort();
    for (size_t i = 0; i < strings.count; i++) {
        if (!cJSON_IsString(event_get(ev, strings.paths[i])))
            abort();
    }
    for (size_t i = 0; i < leaves.count && i < FUZZ_MUTATIONS; i++) {
        check_replace(ev, leaves.paths[i]);
        check_delete(ev, leaves.paths[i]);
    }
    /* qsort must not see the NULL array of an event without leaves. */
    if (leaves.count > 1)
        qsort(leaves.paths, leaves.count, sizeof(*leaves.paths), cmp_str);
    for (size_t i = 1; i < leaves.count; i++) {
        if (strcmp(leaves.paths[i - 1], leaves.paths[i]) == 0)
            abort();
    }
    event_fields_free(&strings);
    event_fields_free(&leaves);
    if (cJSON_IsObject(ev))
        check_merge(ev);

    /* The input as a pointer, too: whatever it finds, deleting it works. */
    as_pointer = malloc(size + 1);
    copy = cJSON_Duplicate(ev, true);
    if (!as_pointer || !copy)
        abort();
    memcpy(as_pointer, in, size);
    as_pointer[size] = '\0';
    if (event_get(copy, as_pointer) && as_pointer[0] != '\0' &&
        event_delete(copy, as_pointer) != 0)
        abort();
    free(as_pointer);
    cJSON_Delete(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    cJSON *ev;

    check_texts(in, size);
    check_wrap(in, size);
    ev = parse_whole(in, size);
    if (ev)
        check_event(ev, in, size);
    cJSON_Delete(ev);
    return 0;
}
