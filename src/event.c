/*
 * event.c — the scenario engine's view of a Lambda event (see event.h):
 * JSON Pointer listing, lookup and mutation of a user's baseline event,
 * the HTTP triggers' envelopes that carry a mutated event to the function
 * as API Gateway or a function URL would, and the texts of a response that
 * the canary and secret searches read.
 *
 * Trees are cJSON; lookups compare member names case-sensitively and take
 * the last of duplicate names (what the function's own JSON parser keeps).
 * The envelopes are built with cJSON, except the body: cJSON strings end at
 * a NUL and pass any byte through, so the body is quoted here, after a
 * strict UTF-8 check, with NUL as \u0000. Base64 is OpenSSL's block coder,
 * with our own checks around it (it accepts '=' anywhere and counts padding
 * as data). Responses are untrusted: parsed only whole and below a cap.
 */
#include "event.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonutil.h"
#include "utf8.h"

/* Fixed parts of the HTTP envelopes: AWS's documentation example account,
 * and ids of the right shape (API ids are 10 characters, URL ids 32). */
#define EV_ACCOUNT "123456789012"
#define EV_REGION "us-east-1"
#define EV_API_ID "coldsecapi"
#define EV_STAGE_V1 "coldsec"
#define EV_RESOURCE_ID "c0ldsc"
#define EV_URL_ID "coldseccoldseccoldseccoldsec0000"

#define EV_DEFAULT_METHOD "POST"
#define EV_DEFAULT_PATH "/"
#define EV_DEFAULT_SOURCE_IP "198.51.100.7"
#define EV_DEFAULT_USER_AGENT "coldsec"

/* Caps on the caller's HTTP fields. */
#define EV_MAX_METHOD 32
#define EV_MAX_PATH 8192
#define EV_MAX_REQUEST_ID 128
#define EV_MAX_USER_AGENT 1024
#define EV_MAX_IP 64
/* 9999-12-31T23:59:59.999Z: the four-digit years the time format holds. */
#define EV_MAX_TIME_MS 253402300799999LL

/* ---------------------------------------------------------------------------
 * JSON Pointers.
 */

/* "" or '/'-separated tokens in which every '~' is followed by '0' or '1'. */
static bool pointer_valid(const char *p)
{
    if (!p)
        return false;
    if (*p == '\0')
        return true;
    if (*p != '/')
        return false;
    for (; *p; p++) {
        if (*p == '~' && p[1] != '0' && p[1] != '1')
            return false;
    }
    return true;
}

/* Whether the escaped token tok[0..len) (validated) spells name. */
static bool token_equals(const char *tok, size_t len, const char *name)
{
    for (size_t i = 0; i < len; i++, name++) {
        char c = tok[i];
        if (c == '~') {
            c = tok[i + 1] == '0' ? '~' : '/';
            i++;
        }
        if (*name != c)
            return false;
    }
    return *name == '\0';
}

/* An array index token: "0" or digits without a leading zero, up to INT_MAX. */
static bool token_index(const char *tok, size_t len, int *idx)
{
    long long v = 0;

    if (len == 0 || len > 10 || (tok[0] == '0' && len > 1))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (tok[i] < '0' || tok[i] > '9')
            return false;
        v = v * 10 + (tok[i] - '0');
    }
    if (v > INT_MAX)
        return false;
    *idx = (int)v;
    return true;
}

/* The last member of obj named by the escaped token (NULL if none). */
static cJSON *member_by_token(const cJSON *obj, const char *tok, size_t len)
{
    cJSON *found = NULL;

    for (cJSON *c = obj->child; c; c = c->next) {
        if (c->string && token_equals(tok, len, c->string))
            found = c;
    }
    return found;
}

/* The last member of obj named name (NULL if none). */
static cJSON *member_by_name(const cJSON *obj, const char *name)
{
    cJSON *found = NULL;

    for (cJSON *c = obj->child; c; c = c->next) {
        if (c->string && strcmp(c->string, name) == 0)
            found = c;
    }
    return found;
}

static cJSON *array_at(const cJSON *arr, int idx)
{
    cJSON *c = arr->child;

    while (c && idx-- > 0)
        c = c->next;
    return c;
}

/*
 * Walks pointer from root. Returns -1 when the pointer is invalid; else 0
 * with *item the value (NULL when absent) and *parent its container (NULL
 * for the root). The tree is the caller's to change, hence non-const out.
 */
static int resolve(const cJSON *root, const char *pointer, cJSON **parent, cJSON **item)
{
    cJSON *cur = (cJSON *)root;
    cJSON *par = NULL;
    const char *p = pointer;

    *parent = NULL;
    *item = NULL;
    if (!root || !pointer_valid(pointer))
        return -1;
    while (*p == '/') {
        const char *tok = p + 1;
        size_t len = strcspn(tok, "/");
        cJSON *next = NULL;
        int idx = 0;

        if (cJSON_IsObject(cur))
            next = member_by_token(cur, tok, len);
        else if (cJSON_IsArray(cur) && token_index(tok, len, &idx))
            next = array_at(cur, idx);
        if (!next)
            return 0;
        par = cur;
        cur = next;
        p = tok + len;
    }
    *parent = par;
    *item = cur;
    return 0;
}

cJSON *event_get(const cJSON *ev, const char *pointer)
{
    cJSON *parent = NULL;
    cJSON *item = NULL;

    if (resolve(ev, pointer, &parent, &item) != 0)
        return NULL;
    return item;
}

/* A copy of s made with cJSON's allocator, for a member name cJSON frees. */
static char *cjson_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = cJSON_malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

int event_replace(cJSON *ev, const char *pointer, cJSON *value)
{
    cJSON *parent = NULL;
    cJSON *item = NULL;
    char *name = NULL;
    int rc = -1;

    if (!value || resolve(ev, pointer, &parent, &item) != 0 || !item || !parent)
        goto cleanup;
    if (item->string) {
        name = cjson_strdup(item->string);
        if (!name)
            goto cleanup;
    }
    if (value->string && !(value->type & cJSON_StringIsConst))
        cJSON_free(value->string);
    value->string = name;
    value->type &= ~cJSON_StringIsConst;
    name = NULL;
    if (!cJSON_ReplaceItemViaPointer(parent, item, value))
        goto cleanup;
    value = NULL;
    rc = 0;
cleanup:
    cJSON_Delete(value);
    return rc;
}

int event_delete(cJSON *ev, const char *pointer)
{
    cJSON *parent = NULL;
    cJSON *item = NULL;

    if (resolve(ev, pointer, &parent, &item) != 0 || !item || !parent)
        return -1;
    cJSON_Delete(cJSON_DetachItemViaPointer(parent, item));
    return 0;
}

/* ---------------------------------------------------------------------------
 * Listing fields.
 */
typedef struct lister {
    int which;
    event_fields *out;
    size_t cap;       /* of out->paths */
    char *path;       /* the pointer of the value being visited */
    size_t path_len;
    size_t path_cap;
} lister;

/* Appends "/" and the escaped token for name to l->path. */
static int path_push(lister *l, const char *name)
{
    size_t need = 1;

    for (const char *s = name; *s; s++)
        need += (*s == '~' || *s == '/') ? 2 : 1;
    if (need > SIZE_MAX / 2 - l->path_len)
        return -1;
    if (l->path_len + need + 1 > l->path_cap) {
        size_t cap = (l->path_len + need + 1) * 2;
        char *p = realloc(l->path, cap);
        if (!p)
            return -1;
        l->path = p;
        l->path_cap = cap;
    }
    l->path[l->path_len++] = '/';
    for (const char *s = name; *s; s++) {
        if (*s == '~' || *s == '/') {
            l->path[l->path_len++] = '~';
            l->path[l->path_len++] = *s == '~' ? '0' : '1';
        } else {
            l->path[l->path_len++] = *s;
        }
    }
    l->path[l->path_len] = '\0';
    return 0;
}

static int field_add(lister *l)
{
    char *p;

    if (l->out->count >= EVENT_MAX_FIELDS)
        return -1;
    if (l->out->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **paths = realloc(l->out->paths, cap * sizeof(*paths));
        if (!paths)
            return -1;
        l->out->paths = paths;
        l->cap = cap;
    }
    p = strdup(l->path);
    if (!p)
        return -1;
    l->out->paths[l->out->count++] = p;
    return 0;
}

typedef struct member_ref {
    const char *name;
    size_t idx;
} member_ref;

static int member_ref_cmp(const void *a, const void *b)
{
    const member_ref *x = a;
    const member_ref *y = b;
    int c = strcmp(x->name, y->name);

    if (c != 0)
        return c;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/*
 * Sets shadowed[i] for each of obj's n members that a later member of the
 * same name hides. Sorting keeps this O(n log n): an event is the user's,
 * but an object of many thousands of members should not cost n^2.
 */
static int mark_shadowed(const cJSON *obj, size_t n, bool *shadowed)
{
    member_ref *refs = malloc(n * sizeof(*refs));
    size_t m = 0;
    size_t i = 0;

    if (!refs)
        return -1;
    for (const cJSON *c = obj->child; c; c = c->next, i++) {
        if (c->string)
            refs[m++] = (member_ref){c->string, i};
    }
    qsort(refs, m, sizeof(*refs), member_ref_cmp);
    for (size_t k = 0; k + 1 < m; k++) {
        if (strcmp(refs[k].name, refs[k + 1].name) == 0)
            shadowed[refs[k].idx] = true;
    }
    free(refs);
    return 0;
}

static int list_value(lister *l, const cJSON *v, int depth);

static int list_object(lister *l, const cJSON *obj, int depth)
{
    size_t n = 0;
    size_t i = 0;
    bool *shadowed = NULL;
    size_t saved = l->path_len;
    int rc = -1;

    for (const cJSON *c = obj->child; c; c = c->next)
        n++;
    if (n == 0)
        return 0;
    shadowed = calloc(n, sizeof(*shadowed));
    if (!shadowed || mark_shadowed(obj, n, shadowed) != 0)
        goto cleanup;
    for (const cJSON *c = obj->child; c; c = c->next, i++) {
        if (!c->string || shadowed[i])
            continue;
        if (path_push(l, c->string) != 0 || list_value(l, c, depth + 1) != 0)
            goto cleanup;
        l->path_len = saved;
        l->path[saved] = '\0';
    }
    rc = 0;
cleanup:
    free(shadowed);
    return rc;
}

static int list_array(lister *l, const cJSON *arr, int depth)
{
    size_t saved = l->path_len;
    unsigned long idx = 0;

    for (const cJSON *c = arr->child; c; c = c->next, idx++) {
        char tok[24];
        snprintf(tok, sizeof(tok), "%lu", idx);
        if (path_push(l, tok) != 0 || list_value(l, c, depth + 1) != 0)
            return -1;
        l->path_len = saved;
        l->path[saved] = '\0';
    }
    return 0;
}

static int list_value(lister *l, const cJSON *v, int depth)
{
    if (depth > EVENT_MAX_DEPTH)
        return -1;
    if (cJSON_IsObject(v))
        return list_object(l, v, depth);
    if (cJSON_IsArray(v))
        return list_array(l, v, depth);
    if (depth == 0 || (l->which == EVENT_STRINGS && !cJSON_IsString(v)))
        return 0;
    return field_add(l);
}

/* EVENT_OBJECTS: the objects themselves, the root ("") first. */
static int list_objects(lister *l, const cJSON *v, int depth)
{
    size_t saved = l->path_len;
    unsigned long idx = 0;

    if (depth > EVENT_MAX_DEPTH)
        return -1;
    if (cJSON_IsObject(v) && field_add(l) != 0)
        return -1;
    if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
        return 0;
    for (const cJSON *c = v->child; c; c = c->next, idx++) {
        char tok[24];
        if (cJSON_IsObject(v) && !c->string)
            continue;
        snprintf(tok, sizeof(tok), "%lu", idx);
        if (path_push(l, cJSON_IsObject(v) ? c->string : tok) != 0 || list_objects(l, c, depth + 1) != 0)
            return -1;
        l->path_len = saved;
        l->path[saved] = '\0';
    }
    return 0;
}

int event_fields_list(const cJSON *ev, int which, event_fields *out)
{
    lister l = {.which = which, .out = out};
    int rc = -1;

    if (!out)
        return -1;
    out->paths = NULL;
    out->count = 0;
    if (!ev || (which != EVENT_STRINGS && which != EVENT_LEAVES && which != EVENT_OBJECTS))
        goto cleanup;
    l.path = malloc(64);
    if (!l.path)
        goto cleanup;
    l.path_cap = 64;
    l.path[0] = '\0';
    if ((which == EVENT_OBJECTS ? list_objects(&l, ev, 0) : list_value(&l, ev, 0)) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    free(l.path);
    if (rc != 0)
        event_fields_free(out);
    return rc;
}

void event_fields_free(event_fields *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->count; i++)
        free(f->paths[i]);
    free(f->paths);
    f->paths = NULL;
    f->count = 0;
}

/* A string whose text is a JSON object or array ("body" of an HTTP or
 * SQS event, an SNS "Message"): the parsed container, or NULL. */
static cJSON *embedded_json(const cJSON *v)
{
    const char *p;
    cJSON *doc;

    if (!cJSON_IsString(v) || !v->valuestring)
        return NULL;
    for (p = v->valuestring; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
        ;
    if (*p != '{' && *p != '[')
        return NULL;
    doc = cJSON_Parse(p);
    if (doc && !cJSON_IsObject(doc) && !cJSON_IsArray(doc)) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    return doc;
}

int event_embedded_open(const cJSON *ev, cJSON **out, event_fields *embedded)
{
    cJSON *copy = NULL;
    size_t cap = 0;
    int rc = -1;

    if (!out || !embedded)
        return -1;
    *out = NULL;
    embedded->paths = NULL;
    embedded->count = 0;
    if (!ev || !(copy = cJSON_Duplicate(ev, 1)))
        goto cleanup;
    /* A pass per level of nesting (a JSON body holding a JSON string
     * again, as SNS-to-SQS does): what a pass opens, the next one lists. */
    for (int pass = 0; pass < EVENT_MAX_EMBEDDED_LEVELS; pass++) {
        event_fields strings = {NULL, 0};
        size_t opened = 0;
        if (event_fields_list(copy, EVENT_STRINGS, &strings) != 0)
            goto cleanup;
        for (size_t i = 0; i < strings.count; i++) {
            cJSON *doc = embedded_json(event_get(copy, strings.paths[i]));
            if (!doc)
                continue;
            if (embedded->count == cap) {
                size_t nc = cap ? cap * 2 : 4;
                char **p = realloc(embedded->paths, nc * sizeof(*p));
                if (!p) {
                    cJSON_Delete(doc);
                    event_fields_free(&strings);
                    goto cleanup;
                }
                embedded->paths = p;
                cap = nc;
            }
            if (event_replace(copy, strings.paths[i], doc) != 0) {
                event_fields_free(&strings);
                goto cleanup;
            }
            embedded->paths[embedded->count++] = strings.paths[i];
            strings.paths[i] = NULL;
            opened++;
        }
        event_fields_free(&strings);
        if (!opened)
            break;
    }
    *out = copy;
    copy = NULL;
    rc = 0;
cleanup:
    cJSON_Delete(copy);
    if (rc != 0)
        event_fields_free(embedded);
    return rc;
}

int event_embedded_close(cJSON *ev, const event_fields *embedded)
{
    /* Later paths were opened inside earlier ones: close them first. */
    for (size_t i = embedded->count; i-- > 0;) {
        cJSON *v = event_get(ev, embedded->paths[i]), *s;
        char *text;
        if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
            continue;   /* replaced or deleted by the variant: it is what it is */
        text = cJSON_PrintUnformatted(v);
        s = text ? cJSON_CreateString(text) : NULL;
        cJSON_free(text);
        if (!s || event_replace(ev, embedded->paths[i], s) != 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Merging members in.
 */

/* Names a JavaScript object treats specially: kept literally, never merged. */
static bool special_name(const char *name)
{
    return strcmp(name, "__proto__") == 0 || strcmp(name, "constructor") == 0 ||
           strcmp(name, "prototype") == 0;
}

int event_merge_top(cJSON *ev, const cJSON *obj)
{
    cJSON *copy = NULL;
    int rc = -1;

    if (!cJSON_IsObject(ev) || !cJSON_IsObject(obj))
        goto cleanup;
    /* Copy everything first, so that nothing after can fail half-way. */
    copy = cJSON_Duplicate(obj, true);
    if (!copy)
        goto cleanup;
    for (const cJSON *c = copy->child; c; c = c->next) {
        if (!c->string)
            goto cleanup;
    }
    while (copy->child) {
        cJSON *m = cJSON_DetachItemViaPointer(copy, copy->child);
        cJSON *old = special_name(m->string) ? NULL : member_by_name(ev, m->string);

        if (old) {
            (void)cJSON_ReplaceItemViaPointer(ev, old, m);
        } else {
            /* What cJSON_AddItemToObject does once it has copied the name;
             * m already owns its name, so this cannot fail. */
            (void)cJSON_AddItemToArray(ev, m);
        }
    }
    rc = 0;
cleanup:
    cJSON_Delete(copy);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Envelopes.
 */
static const char *const envelope_names[EVENT_ENVELOPE_LAST] = {
    [EVENT_ENVELOPE_RAW] = "raw",
    [EVENT_ENVELOPE_APIGW_V1] = "apigw-v1",
    [EVENT_ENVELOPE_APIGW_V2] = "apigw-v2",
    [EVENT_ENVELOPE_FUNCTION_URL] = "function-url",
};

int event_envelope_parse(const char *name, event_envelope *out)
{
    if (!name || !out)
        return -1;
    for (int i = 0; i < EVENT_ENVELOPE_LAST; i++) {
        if (strcmp(name, envelope_names[i]) == 0) {
            *out = (event_envelope)i;
            return 0;
        }
    }
    return -1;
}

const char *event_envelope_name(event_envelope e)
{
    if ((int)e < 0 || e >= EVENT_ENVELOPE_LAST)
        return NULL;
    return envelope_names[e];
}

/* s[0..len) (valid UTF-8) as a quoted JSON string, malloc'd. */
static char *json_quote(const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t need = 3;
    char *out;
    char *o;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
            need += 2;
        else if (c < 0x20)
            need += 6;
        else
            need += 1;
    }
    out = malloc(need);
    if (!out)
        return NULL;
    o = out;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc = 0;

        switch (c) {
        case '"': esc = '"'; break;
        case '\\': esc = '\\'; break;
        case '\b': esc = 'b'; break;
        case '\f': esc = 'f'; break;
        case '\n': esc = 'n'; break;
        case '\r': esc = 'r'; break;
        case '\t': esc = 't'; break;
        default: break;
        }
        if (esc) {
            *o++ = '\\';
            *o++ = esc;
        } else if (c < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 0xF];
            o += 6;
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* The base64 of s[0..len) (len <= EVENT_MAX_BODY), malloc'd. */
static char *b64_encode(const char *s, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);

    if (out)
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)len);
    return out;
}

static bool is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool method_valid(const char *m)
{
    size_t n = strlen(m);

    if (n == 0 || n > EV_MAX_METHOD)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_tchar((unsigned char)m[i]))
            return false;
    }
    return true;
}

static bool path_valid(const char *p)
{
    size_t n = strlen(p);

    if (n == 0 || n > EV_MAX_PATH || p[0] != '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f || c == '?' || c == '#')
            return false;
    }
    return utf8_valid(p, n);
}

static bool ip_valid(const char *ip)
{
    unsigned char addr[16];

    if (strlen(ip) >= EV_MAX_IP)
        return false;
    return inet_pton(AF_INET, ip, addr) == 1 || inet_pton(AF_INET6, ip, addr) == 1;
}

static bool request_id_valid(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > EV_MAX_REQUEST_ID)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (id[i] <= ' ' || id[i] > '~')
            return false;
    }
    return true;
}

static bool user_agent_valid(const char *ua)
{
    size_t n = strlen(ua);

    if (n > EV_MAX_USER_AGENT)
        return false;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)ua[i] < 0x20 || ua[i] == 0x7f)
            return false;
    }
    return utf8_valid(ua, n);
}

/* "23/Nov/2026:18:31:24 +0000", the format of API Gateway's time fields,
 * with English month names whatever the locale. */
static int format_time(long long ms, char *out, size_t outlen)
{
    static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (!gmtime_r(&t, &tm) || tm.tm_mon < 0 || tm.tm_mon > 11)
        return -1;
    snprintf(out, outlen, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday, months[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return 0;
}

/* The request as checked and defaulted, for building an envelope. */
typedef struct wrap_req {
    const char *method;
    const char *path;
    const char *ip;
    const char *request_id;
    const char *user_agent;
    long long time_ms;
    char time[80];
    char content_length[24];
    char host[128];
    char route_key[EV_MAX_METHOD + EV_MAX_PATH + 2];
    char stage_path[sizeof(EV_STAGE_V1) + EV_MAX_PATH + 2]; /* v1 requestContext.path */
    const char *domain_prefix;
} wrap_req;

/* cJSON_AddItemToObject that frees item when it fails. */
static bool add_item(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return false;
    if (!cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static bool add_str(cJSON *obj, const char *key, const char *val)
{
    return cJSON_AddStringToObject(obj, key, val) != NULL;
}

/* The request headers; each value in a one-item array when multi (v1's
 * multiValueHeaders). */
static cJSON *headers_new(const wrap_req *r, bool multi)
{
    const char *const h[][2] = {
        {"content-length", r->content_length},
        {"content-type", "application/json"},
        {"host", r->host},
        {"user-agent", r->user_agent},
        {"x-forwarded-for", r->ip},
        {"x-forwarded-port", "443"},
        {"x-forwarded-proto", "https"},
    };
    cJSON *obj = cJSON_CreateObject();

    if (!obj)
        return NULL;
    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
        bool ok;
        if (multi) {
            const char *one[1] = {h[i][1]};
            ok = add_item(obj, h[i][0], cJSON_CreateStringArray(one, 1));
        } else {
            ok = add_str(obj, h[i][0], h[i][1]);
        }
        if (!ok) {
            cJSON_Delete(obj);
            return NULL;
        }
    }
    return obj;
}

/* API Gateway REST API, Lambda proxy integration (payload format 1.0). */
static cJSON *envelope_v1(const wrap_req *r)
{
    static const char *const identity_nulls[] = {
        "accessKey",           "accountId",        "caller", "cognitoAuthenticationProvider",
        "cognitoAuthenticationType", "cognitoIdentityId", "cognitoIdentityPoolId",
        "principalOrgId",      "user",             "userArn",
    };
    cJSON *env = cJSON_CreateObject();
    cJSON *ctx = NULL;
    cJSON *identity = NULL;
    cJSON *out = NULL;

    if (!env)
        goto cleanup;
    if (!add_str(env, "resource", r->path) || !add_str(env, "path", r->path) ||
        !add_str(env, "httpMethod", r->method) || !add_item(env, "headers", headers_new(r, false)) ||
        !add_item(env, "multiValueHeaders", headers_new(r, true)) ||
        !cJSON_AddNullToObject(env, "queryStringParameters") ||
        !cJSON_AddNullToObject(env, "multiValueQueryStringParameters") ||
        !cJSON_AddNullToObject(env, "pathParameters") ||
        !cJSON_AddNullToObject(env, "stageVariables"))
        goto cleanup;
    ctx = cJSON_AddObjectToObject(env, "requestContext");
    if (!ctx || !add_str(ctx, "accountId", EV_ACCOUNT) || !add_str(ctx, "apiId", EV_API_ID) ||
        !add_str(ctx, "domainName", r->host) || !add_str(ctx, "domainPrefix", r->domain_prefix) ||
        !add_str(ctx, "httpMethod", r->method))
        goto cleanup;
    identity = cJSON_AddObjectToObject(ctx, "identity");
    if (!identity)
        goto cleanup;
    for (size_t i = 0; i < sizeof(identity_nulls) / sizeof(identity_nulls[0]); i++) {
        if (!cJSON_AddNullToObject(identity, identity_nulls[i]))
            goto cleanup;
    }
    if (!add_str(identity, "sourceIp", r->ip) || !add_str(identity, "userAgent", r->user_agent) ||
        !add_str(ctx, "path", r->stage_path) || !add_str(ctx, "protocol", "HTTP/1.1") ||
        !add_str(ctx, "requestId", r->request_id) || !add_str(ctx, "requestTime", r->time) ||
        !cJSON_AddNumberToObject(ctx, "requestTimeEpoch", (double)r->time_ms) ||
        !add_str(ctx, "resourceId", EV_RESOURCE_ID) || !add_str(ctx, "resourcePath", r->path) ||
        !add_str(ctx, "stage", EV_STAGE_V1))
        goto cleanup;
    out = env;
    env = NULL;
cleanup:
    cJSON_Delete(env);
    return out;
}

/* HTTP API payload format 2.0, and a function URL's request (same shape). */
static cJSON *envelope_v2(const wrap_req *r, bool function_url)
{
    cJSON *env = cJSON_CreateObject();
    cJSON *ctx = NULL;
    cJSON *http = NULL;
    cJSON *out = NULL;
    const char *route_key = function_url ? "$default" : r->route_key;

    if (!env || !add_str(env, "version", "2.0") || !add_str(env, "routeKey", route_key) ||
        !add_str(env, "rawPath", r->path) || !add_str(env, "rawQueryString", "") ||
        !add_item(env, "headers", headers_new(r, false)))
        goto cleanup;
    ctx = cJSON_AddObjectToObject(env, "requestContext");
    /* A function URL with auth type NONE reports the caller's account as
     * "anonymous"; an HTTP API reports the API owner's. */
    if (!ctx || !add_str(ctx, "accountId", function_url ? "anonymous" : EV_ACCOUNT) ||
        !add_str(ctx, "apiId", function_url ? EV_URL_ID : EV_API_ID))
        goto cleanup;
    if (function_url && !cJSON_AddNullToObject(ctx, "authentication"))
        goto cleanup;
    if (!add_str(ctx, "domainName", r->host) || !add_str(ctx, "domainPrefix", r->domain_prefix))
        goto cleanup;
    http = cJSON_AddObjectToObject(ctx, "http");
    if (!http || !add_str(http, "method", r->method) || !add_str(http, "path", r->path) ||
        !add_str(http, "protocol", "HTTP/1.1") || !add_str(http, "sourceIp", r->ip) ||
        !add_str(http, "userAgent", r->user_agent) || !add_str(ctx, "requestId", r->request_id) ||
        !add_str(ctx, "routeKey", route_key) || !add_str(ctx, "stage", "$default") ||
        !add_str(ctx, "time", r->time) ||
        !cJSON_AddNumberToObject(ctx, "timeEpoch", (double)r->time_ms))
        goto cleanup;
    if (function_url && (!cJSON_AddNullToObject(env, "pathParameters") ||
                         !cJSON_AddNullToObject(env, "stageVariables")))
        goto cleanup;
    out = env;
    env = NULL;
cleanup:
    cJSON_Delete(env);
    return out;
}

static void set_err(char *err, size_t errlen, const char *env, const char *msg)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "envelope %s: %s", env, msg);
}

/* Checks http and fills *r; NULL on success, else what is wrong. */
static const char *wrap_req_init(event_envelope env, const event_http *http, size_t body_len,
                                 wrap_req *r)
{
    memset(r, 0, sizeof(*r));
    if (!http)
        return "the HTTP request is missing";
    r->method = http->method ? http->method : EV_DEFAULT_METHOD;
    r->path = http->path ? http->path : EV_DEFAULT_PATH;
    r->ip = http->source_ip ? http->source_ip : EV_DEFAULT_SOURCE_IP;
    r->request_id = http->request_id;
    r->user_agent = http->user_agent ? http->user_agent : EV_DEFAULT_USER_AGENT;
    r->time_ms = http->time_ms;
    if (!r->request_id)
        return "request_id is required";
    if (!request_id_valid(r->request_id))
        return "request_id must be 1 to 128 printable ASCII characters without spaces";
    if (!method_valid(r->method))
        return "method must be an HTTP token of at most 32 characters";
    if (!path_valid(r->path))
        return "path must start with '/' and hold no query, fragment, space, control byte or "
               "invalid UTF-8";
    if (!ip_valid(r->ip))
        return "source_ip must be an IPv4 or IPv6 address";
    if (!user_agent_valid(r->user_agent))
        return "user_agent must be UTF-8 without control characters, at most 1024 bytes";
    if (r->time_ms < 0 || r->time_ms > EV_MAX_TIME_MS ||
        format_time(r->time_ms, r->time, sizeof(r->time)) != 0)
        return "time_ms must fall in the years 1970 to 9999";
    snprintf(r->content_length, sizeof(r->content_length), "%zu", body_len);
    snprintf(r->route_key, sizeof(r->route_key), "%s %s", r->method, r->path);
    snprintf(r->stage_path, sizeof(r->stage_path), "/%s%s", EV_STAGE_V1, r->path);
    if (env == EVENT_ENVELOPE_FUNCTION_URL) {
        r->domain_prefix = EV_URL_ID;
        snprintf(r->host, sizeof(r->host), "%s.lambda-url.%s.on.aws", EV_URL_ID, EV_REGION);
    } else {
        r->domain_prefix = EV_API_ID;
        snprintf(r->host, sizeof(r->host), "%s.execute-api.%s.amazonaws.com", EV_API_ID,
                 EV_REGION);
    }
    return NULL;
}

char *event_wrap(event_envelope env, const char *body, size_t body_len, const event_http *http,
                 size_t *len, char *err, size_t errlen)
{
    const char *name = event_envelope_name(env);
    const char *why = NULL;
    wrap_req req;
    cJSON *root = NULL;
    char *text = NULL;
    char *b64 = NULL;
    char *quoted = NULL;
    char *out = NULL;
    bool base64 = false;

    if (err && errlen > 0)
        err[0] = '\0';
    if (len)
        *len = 0;
    if (!name || !len) {
        set_err(err, errlen, name ? name : "?", "unknown envelope or no length pointer");
        goto cleanup;
    }
    if ((!body && body_len > 0) || body_len > EVENT_MAX_BODY) {
        set_err(err, errlen, name, "body is missing or larger than Lambda's 6 MB payload limit");
        goto cleanup;
    }
    if (env == EVENT_ENVELOPE_RAW) {
        out = malloc(body_len + 1);
        if (!out) {
            set_err(err, errlen, name, "out of memory");
            goto cleanup;
        }
        if (body_len)
            memcpy(out, body, body_len);
        out[body_len] = '\0';
        *len = body_len;
        goto cleanup;
    }
    why = wrap_req_init(env, http, body_len, &req);
    if (why) {
        set_err(err, errlen, name, why);
        goto cleanup;
    }
    base64 = http->base64 && body_len > 0;
    if (!base64 && !utf8_valid(body, body_len)) {
        set_err(err, errlen, name, "body is not valid UTF-8: send it with base64");
        goto cleanup;
    }
    root = env == EVENT_ENVELOPE_APIGW_V1 ? envelope_v1(&req)
                                          : envelope_v2(&req, env == EVENT_ENVELOPE_FUNCTION_URL);
    if (!root)
        goto nomem;
    if (body_len == 0) {
        if (env == EVENT_ENVELOPE_APIGW_V1 && !cJSON_AddNullToObject(root, "body"))
            goto nomem;
    } else if (base64) {
        b64 = b64_encode(body, body_len);
        if (!b64 || !add_str(root, "body", b64))
            goto nomem;
    } else {
        quoted = json_quote(body, body_len);
        if (!quoted || !add_item(root, "body", cJSON_CreateRaw(quoted)))
            goto nomem;
    }
    if (!cJSON_AddBoolToObject(root, "isBase64Encoded", base64))
        goto nomem;
    /* cJSON's default allocator is malloc: the caller's free() fits. */
    text = cJSON_PrintUnformatted(root);
    if (!text)
        goto nomem;
    *len = strlen(text);
    out = text;
    text = NULL;
    goto cleanup;
nomem:
    set_err(err, errlen, name, "out of memory");
cleanup:
    free(b64);
    free(quoted);
    cJSON_Delete(root);
    return out;
}

/* ---------------------------------------------------------------------------
 * Response texts.
 */
static bool is_b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

/*
 * Decodes standard base64 in s[0..len): ASCII whitespace skipped (MIME
 * line breaks), padding optional but only at the end. Returns 0 with a
 * malloc'd, NUL-terminated *out of *outlen bytes, or -1.
 */
static int b64_decode(const char *s, size_t len, char **out, size_t *outlen)
{
    char *clean = NULL;
    unsigned char *buf = NULL;
    size_t n = 0;
    size_t pad = 0;
    int got;
    int rc = -1;

    *out = NULL;
    *outlen = 0;
    if (len > INT_MAX - 4)
        goto cleanup;
    clean = malloc(len + 4);
    if (!clean)
        goto cleanup;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad > 0 || !is_b64_char(c))
            goto cleanup; /* data after padding, or not base64 */
        clean[n++] = (char)c;
    }
    if (n % 4 == 1 || pad > 2 || (pad > 0 && (n + pad) % 4 != 0))
        goto cleanup;
    pad = (4 - n % 4) % 4;
    for (size_t k = 0; k < pad; k++)
        clean[n++] = '=';
    buf = malloc(n / 4 * 3 + 1);
    if (!buf)
        goto cleanup;
    got = n ? EVP_DecodeBlock(buf, (const unsigned char *)clean, (int)n) : 0;
    /* EVP_DecodeBlock counts each '=' as a zero byte of output. */
    if (got < 0 || (size_t)got < pad)
        goto cleanup;
    *outlen = (size_t)got - pad;
    buf[*outlen] = '\0';
    *out = (char *)buf;
    buf = NULL;
    rc = 0;
cleanup:
    free(clean);
    free(buf);
    return rc;
}

static char *copy_bytes(const char *s, size_t len)
{
    char *d = malloc(len + 1);

    if (!d)
        return NULL;
    if (len)
        memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

size_t event_response_texts(const char *payload, size_t len, event_text *out, size_t max)
{
    cJSON *doc = NULL;
    const cJSON *body;
    const cJSON *b64;
    size_t n = 0;

    if (!out || max == 0 || (!payload && len > 0))
        return 0;
    out[0].label = "payload";
    out[0].len = len;
    out[0].data = copy_bytes(payload, len);
    if (!out[0].data)
        goto cleanup;
    n = 1;
    if (max < 2)
        goto cleanup;
    doc = len <= EVENT_MAX_RESPONSE ? jsonutil_parse_whole(payload, len) : NULL;
    if (!doc || !cJSON_IsObject(doc))
        goto cleanup;
    body = member_by_name(doc, "body");
    if (!cJSON_IsString(body) || !body->valuestring)
        goto cleanup;
    b64 = member_by_name(doc, "isBase64Encoded");
    out[1].label = "body";
    if (!cJSON_IsTrue(b64) ||
        b64_decode(body->valuestring, strlen(body->valuestring), &out[1].data, &out[1].len) != 0) {
        out[1].len = strlen(body->valuestring);
        out[1].data = copy_bytes(body->valuestring, out[1].len);
    }
    if (out[1].data)
        n = 2;
cleanup:
    cJSON_Delete(doc);
    return n;
}

void event_texts_free(event_text *t, size_t n)
{
    if (!t)
        return;
    for (size_t i = 0; i < n; i++) {
        free(t[i].data);
        t[i].data = NULL;
        t[i].len = 0;
        t[i].label = NULL;
    }
}
