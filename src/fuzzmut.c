/*
 * fuzzmut — JSON-aware, Lambda-aware mutation for `coldsec fuzz` (see
 * fuzzmut.h). One mutation: parse, list every node with its parent, apply
 * one to three operations (re-listing after each, since an operation frees
 * nodes), print unformatted. Nodes are always replaced through the parent
 * they were listed with: a replacement through any other parent would
 * leave the tree pointing at freed memory.
 *
 * Strings are put into the tree as valid UTF-8 (an ill-formed byte becomes
 * the code point of the same value) so that the event stays JSON for
 * strict parsers too; a NUL, which a cJSON string cannot hold, goes in as
 * a raw "\u0000" literal.
 */
#include "fuzzmut.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonutil.h"
#include "utf8.h"

#define MAX_OPS 3            /* operations on one tree per mutation */
#define MAX_ATTEMPTS 2       /* mutations tried before the byte fallback */
#define MAX_NESTED 3         /* levels of JSON-in-a-string mutated */
#define MAX_KEY_LEN 128      /* bytes of a material string used as a member name */
#define MAX_GRAFT_TRIES 8    /* nodes of b tried for a same-path graft */
#define MAX_B64 ((size_t)16 * 1024 * 1024) /* keeps OpenSSL's int lengths safe */
/* cJSON refuses to parse deeper nesting, so a deeper output would not replay. */
#define MAX_DEPTH CJSON_NESTING_LIMIT

struct fuzzmut {
    char **s;
    size_t *len;
    size_t n, cap;
};

/* ---------------------------------------------------------------------------
 * Seeded randomness: splitmix64, so a seed gives the same stream anywhere.
 */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t rng_below(rng *r, size_t n)
{
    return n ? (size_t)(rng_next(r) % n) : 0;
}

static bool rng_pct(rng *r, unsigned pct)
{
    return rng_below(r, 100) < pct;
}

typedef struct ctx {
    rng r;
    const fuzzmut *m;
    fuzzmut_bytes_fn bytes;
    size_t max_size;
} ctx;

/* ---------------------------------------------------------------------------
 * Built-in material: what an event field is worth trying without a catalog.
 */
static const char *const k_keys[] = {
    "body", "headers", "multiValueHeaders", "isBase64Encoded", "Records", "httpMethod",
    "path", "resource", "rawPath", "rawQueryString", "routeKey", "version", "requestContext",
    "queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
    "stageVariables", "cookies", "authorizer", "claims", "identity", "sourceIp",
    "eventSource", "eventSourceARN", "awsRegion", "messageId", "receiptHandle",
    "messageAttributes", "attributes", "md5OfBody", "Sns", "Message", "MessageAttributes",
    "TopicArn", "Subject", "detail", "detail-type", "source", "account", "region",
    "resources", "time", "id", "dynamodb", "Keys", "NewImage", "OldImage", "eventName",
    "kinesis", "data", "partitionKey", "sequenceNumber", "s3", "bucket", "object", "key",
    "size", "content-type", "Content-Type", "Authorization", "cookie", "x-forwarded-for",
    "host", "__proto__", "constructor", "prototype", "",
};

static const char *const k_texts[] = {
    "", " ", "0", "-1", "true", "null", "{}", "[]", "\"", "\\", "'", "%00", "%",
    "../../../../etc/passwd", "/tmp/x", "${HOME}", "{{x}}", "<a>", "' OR '1'='1",
    "$(id)", ";id", "a\r\nX-Injected: 1", "\u00e9\u00e8", "\xf0\x9f\x98\x80", "\u2028",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "aws:sqs", "aws:sns", "aws:s3", "aws:kinesis", "aws:dynamodb", "2.0", "$default",
    "GET", "POST", "INSERT", "MODIFY", "REMOVE", "ObjectCreated:Put",
    "{\"a\":1}", "[1,2]", "dGVzdA==", "=",
};

/* Numbers as JSON text, so that 2^53+1 prints as written, not rounded. */
static const char *const k_numbers[] = {
    "0", "-1", "1", "1e308", "-1e308", "4294967296", "9007199254740993", "0.1", "-0",
    "2147483648", "-2147483649", "18446744073709551616", "1e-320", "1e999", "0.0", "255",
    "65536", "-9007199254740993",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A material string, or a built-in one when there is none (or by chance). */
static void pick_text(ctx *c, const char **p, size_t *n)
{
    if (c->m && c->m->n && rng_pct(&c->r, 75)) {
        size_t i = rng_below(&c->r, c->m->n);
        *p = c->m->s[i];
        *n = c->m->len[i];
        return;
    }
    *p = k_texts[rng_below(&c->r, COUNT(k_texts))];
    *n = strlen(*p);
}

/* ---------------------------------------------------------------------------
 * Strings into the tree.
 */

/* p[0..n) as well-formed UTF-8 in a malloc'd, NUL-terminated copy: an
 * ill-formed byte b becomes U+00bb (two bytes), so the length at most doubles. */
static char *text_fix(const unsigned char *p, size_t n, size_t *outn)
{
    char *out = malloc(2 * n + 1);
    size_t k = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_decode(p + i, n - i, &cp);

        if (len) {
            memcpy(out + k, p + i, len);
            k += len;
            i += len;
        } else {
            out[k++] = (char)(0xc0 | (p[i] >> 6));
            out[k++] = (char)(0x80 | (p[i] & 0x3f));
            i++;
        }
    }
    out[k] = '\0';
    *outn = k;
    return out;
}

/* p[0..n) (valid UTF-8) as a quoted JSON literal, every control byte escaped. */
static char *json_literal(const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *out = malloc(6 * n + 3);
    size_t k = 0;

    if (!out)
        return NULL;
    out[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)p[i];

        if (b == '"' || b == '\\') {
            out[k++] = '\\';
            out[k++] = (char)b;
        } else if (b < 0x20) {
            memcpy(out + k, "\\u00", 4);
            out[k + 4] = hex[b >> 4];
            out[k + 5] = hex[b & 15];
            k += 6;
        } else {
            out[k++] = (char)b;
        }
    }
    out[k++] = '"';
    out[k] = '\0';
    return out;
}

/* A string node holding p[0..n) (made valid UTF-8); NULL when out of memory. */
static cJSON *make_string(const void *p, size_t n)
{
    size_t fn = 0;
    char *fixed = text_fix(p, n, &fn);
    char *lit = NULL;
    cJSON *node = NULL;

    if (!fixed)
        goto cleanup;
    if (memchr(fixed, '\0', fn)) {
        lit = json_literal(fixed, fn);
        if (lit)
            node = cJSON_CreateRaw(lit);
    } else {
        node = cJSON_CreateString(fixed);
    }
cleanup:
    free(lit);
    free(fixed);
    return node;
}

/* ---------------------------------------------------------------------------
 * Byte mutation: the caller's (libFuzzer's) or a small one of our own.
 */
static size_t own_bytes(ctx *c, uint8_t *d, size_t size, size_t max)
{
    static const char *const tokens[] = {"{", "}", "[", "]", ",", ":", "\"", "\\", "null",
                                         "true", "\\u0000", "\xff", "%", "\n"};
    size_t at = rng_below(&c->r, size + 1);

    switch (rng_below(&c->r, 6)) {
    case 0: /* flip a bit */
        if (size) {
            d[at % size] ^= (uint8_t)(1u << rng_below(&c->r, 8));
            return size;
        }
        break;
    case 1: /* set a byte */
        if (size) {
            d[at % size] = (uint8_t)rng_next(&c->r);
            return size;
        }
        break;
    case 2: /* erase a range */
        if (size > 1) {
            size_t from = at % size;
            size_t n = 1 + rng_below(&c->r, size - from < 8 ? size - from : 8);
            if (n >= size)
                n = size - 1;
            memmove(d + from, d + from + n, size - from - n);
            return size - n;
        }
        break;
    case 3: { /* insert a token or a material string */
        const char *p;
        size_t n;
        if (rng_pct(&c->r, 50)) {
            p = tokens[rng_below(&c->r, COUNT(tokens))];
            n = strlen(p);
        } else {
            pick_text(c, &p, &n);
        }
        if (n && size + n <= max) {
            memmove(d + at + n, d + at, size - at);
            memcpy(d + at, p, n);
            return size + n;
        }
        break;
    }
    case 4: /* copy a chunk over another place */
        if (size > 1) {
            size_t from = rng_below(&c->r, size);
            size_t to = rng_below(&c->r, size);
            size_t n = 1 + rng_below(&c->r, size - (from > to ? from : to));
            memmove(d + to, d + from, n);
            return size;
        }
        break;
    default:
        break;
    }
    /* Insert a random byte: always possible below max. */
    if (size < max) {
        memmove(d + at + 1, d + at, size - at);
        d[at] = (uint8_t)rng_next(&c->r);
        return size + 1;
    }
    if (size)
        d[rng_below(&c->r, size)] ^= 1;
    return size;
}

/* At least one byte back whenever max allows: libFuzzer asserts on 0. */
static size_t mutate_bytes(ctx *c, uint8_t *d, size_t size, size_t max)
{
    size_t n;

    if (max == 0)
        return 0;
    if (size == 0) { /* nothing for a byte mutator to work on yet */
        d[0] = (uint8_t)rng_next(&c->r);
        return 1;
    }
    n = c->bytes ? c->bytes(d, size, max) : own_bytes(c, d, size, max);
    if (n > max)
        n = max;
    if (n == 0) {
        d[0] = (uint8_t)rng_next(&c->r);
        n = 1;
    }
    return n;
}

/* ---------------------------------------------------------------------------
 * The node list.
 */
typedef struct slot {
    cJSON *node;
    cJSON *parent; /* NULL for the root */
    size_t up;     /* index of the parent's slot (the root's own index for the root) */
    int depth;     /* containers from the root down to and including node */
} slot;

enum { L_NESTED, L_BASE64, L_RECORDS, L_HEADER, L_LAST };

typedef struct list {
    slot *v;
    size_t n, cap;
    size_t *lam[L_LAST]; /* slot indices where a Lambda-aware operation applies */
    size_t lamn[L_LAST], lamcap[L_LAST];
    int max_depth;
} list;

static void list_free(list *l)
{
    free(l->v);
    for (int i = 0; i < L_LAST; i++)
        free(l->lam[i]);
    memset(l, 0, sizeof(*l));
}

static int push_index(size_t **v, size_t *n, size_t *cap, size_t x)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        size_t *nv = realloc(*v, nc * sizeof(*nv));
        if (!nv)
            return -1;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return 0;
}

static bool name_is(const cJSON *node, const char *name)
{
    return node && node->string && strcmp(node->string, name) == 0;
}

static bool name_is_ci(const cJSON *node, const char *name)
{
    return node && node->string && strcasecmp(node->string, name) == 0;
}

/* Is this string member's text base64 that the envelope says to decode?
 * (API Gateway and function URL bodies with isBase64Encoded, Kinesis data.) */
static bool is_b64_text(const cJSON *node, const cJSON *parent)
{
    if (!parent || !cJSON_IsString(node))
        return false;
    if (name_is(node, "body"))
        return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(parent, "isBase64Encoded"));
    return name_is(node, "data") && name_is(parent, "kinesis");
}

/* A string worth parsing as JSON: it opens like an object or array. */
static bool looks_nested(const cJSON *node, const cJSON *parent)
{
    const char *s;

    if (!cJSON_IsString(node) || !node->valuestring)
        return false;
    if (is_b64_text(node, parent))
        return true;
    for (s = node->valuestring; *s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'; s++)
        ;
    return *s == '{' || *s == '[';
}

static int collect(list *l, cJSON *node, cJSON *parent, size_t up, int depth)
{
    size_t me = l->n;
    bool container = cJSON_IsObject(node) || cJSON_IsArray(node);

    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        slot *nv = realloc(l->v, nc * sizeof(*nv));
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = nc;
    }
    if (container)
        depth++;
    if (depth > l->max_depth)
        l->max_depth = depth;
    l->v[l->n++] = (slot){node, parent, parent ? up : me, depth};

    if (looks_nested(node, parent) &&
        push_index(&l->lam[L_NESTED], &l->lamn[L_NESTED], &l->lamcap[L_NESTED], me) != 0)
        return -1;
    if (cJSON_IsObject(node) &&
        cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(node, "isBase64Encoded")) &&
        cJSON_IsString(cJSON_GetObjectItemCaseSensitive(node, "body")) &&
        push_index(&l->lam[L_BASE64], &l->lamn[L_BASE64], &l->lamcap[L_BASE64], me) != 0)
        return -1;
    if (cJSON_IsArray(node) && name_is(node, "Records") &&
        push_index(&l->lam[L_RECORDS], &l->lamn[L_RECORDS], &l->lamcap[L_RECORDS], me) != 0)
        return -1;
    if (parent && cJSON_IsObject(parent) && node->string &&
        (name_is_ci(parent, "headers") || name_is_ci(parent, "multiValueHeaders")) &&
        push_index(&l->lam[L_HEADER], &l->lamn[L_HEADER], &l->lamcap[L_HEADER], me) != 0)
        return -1;

    if (container) {
        for (cJSON *ch = node->child; ch; ch = ch->next) {
            if (collect(l, ch, node, me, depth) != 0)
                return -1;
        }
    }
    return 0;
}

static int list_build(list *l, cJSON *root)
{
    memset(l, 0, sizeof(*l));
    if (collect(l, root, NULL, 0, 0) != 0) {
        list_free(l);
        return -1;
    }
    return 0;
}

/* Drops a node's member name (a copy of an object member carries one). */
static void drop_name(cJSON *node)
{
    if (node->string && !(node->type & cJSON_StringIsConst))
        cJSON_free(node->string);
    node->string = NULL;
    node->type &= ~cJSON_StringIsConst;
}

/* Links item into arr after the node after (at the front when after is
 * NULL). Debian's cJSON 1.7.15 (1.7.15-1+deb12u4) refuses
 * cJSON_InsertItemInArray anywhere but the ends, so the list is linked
 * here: child->prev is the last item, the last item's next is NULL. */
static void insert_after(cJSON *arr, cJSON *after, cJSON *item)
{
    cJSON *first = arr->child;

    drop_name(item);
    if (!first) {
        item->prev = item;
        item->next = NULL;
        arr->child = item;
    } else if (!after) {
        item->next = first;
        item->prev = first->prev;
        first->prev = item;
        arr->child = item;
    } else {
        item->prev = after;
        item->next = after->next;
        if (after->next)
            after->next->prev = item;
        else
            first->prev = item;
        after->next = item;
    }
}

/* Puts repl where s->node is (taking its member name) and frees the old
 * node; takes ownership of repl. */
static int replace_at(cJSON **root, const slot *s, cJSON *repl)
{
    if (!repl)
        return -1;
    drop_name(repl);
    if (!s->parent) {
        cJSON_Delete(*root);
        *root = repl;
        return 0;
    }
    if (s->node->string) {
        repl->string = s->node->string;
        repl->type |= s->node->type & cJSON_StringIsConst;
        s->node->string = NULL;
        s->node->type &= ~cJSON_StringIsConst;
    }
    if (!cJSON_ReplaceItemViaPointer(s->parent, s->node, repl)) {
        cJSON_Delete(repl);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * New values.
 */
static cJSON *new_string(ctx *c)
{
    const char *p;
    size_t n;

    pick_text(c, &p, &n);
    return make_string(p, n);
}

static cJSON *new_number(ctx *c)
{
    return cJSON_CreateRaw(k_numbers[rng_below(&c->r, COUNT(k_numbers))]);
}

/* A member name: a Lambda key, or a material string cut to MAX_KEY_LEN
 * (at its first NUL: cJSON names end there). malloc'd. */
static char *new_key(ctx *c)
{
    const char *p;
    size_t n;
    size_t fn = 0;
    char *k;

    if (c->m && c->m->n && rng_pct(&c->r, 60)) {
        pick_text(c, &p, &n);
    } else {
        p = k_keys[rng_below(&c->r, COUNT(k_keys))];
        n = strlen(p);
    }
    if (n > MAX_KEY_LEN)
        n = MAX_KEY_LEN;
    k = text_fix((const unsigned char *)p, n, &fn);
    return k;
}

/* A value of any type other than avoid's (-1 for any), or a copy of a node
 * of the tree. */
static cJSON *new_value(ctx *c, const list *l, int avoid)
{
    for (int tries = 0; tries < 8; tries++) {
        int kind = (int)rng_below(&c->r, 9);
        cJSON *v = NULL;

        switch (kind) {
        case 0: v = cJSON_CreateNull(); break;
        case 1: v = cJSON_CreateBool(rng_pct(&c->r, 50)); break;
        case 2: v = new_number(c); break;
        case 3: v = new_string(c); break;
        case 4: v = cJSON_CreateObject(); break;
        case 5: v = cJSON_CreateArray(); break;
        case 6: { /* a one-member object */
            char *k = new_key(c);
            cJSON *in = new_string(c);
            v = cJSON_CreateObject();
            if (!k || !in || !v || !cJSON_AddItemToObject(v, k, in)) {
                cJSON_Delete(in);
                cJSON_Delete(v);
                v = NULL;
            }
            free(k);
            break;
        }
        case 7: { /* a one-item array */
            cJSON *in = new_string(c);
            v = cJSON_CreateArray();
            if (!in || !v || !cJSON_AddItemToArray(v, in)) {
                cJSON_Delete(in);
                cJSON_Delete(v);
                v = NULL;
            }
            break;
        }
        default:
            v = l->n ? cJSON_Duplicate(l->v[rng_below(&c->r, l->n)].node, true) : NULL;
            break;
        }
        if (!v)
            return NULL;
        if (avoid < 0 || (v->type & 0xff) != avoid)
            return v;
        cJSON_Delete(v);
    }
    return cJSON_CreateNull();
}

/* ---------------------------------------------------------------------------
 * Operations on one node.
 */
static int mutate_tree(ctx *c, cJSON **root, int level);

/* The text of a string node changed: by bytes(), by material, or spliced. */
static int op_string(ctx *c, cJSON **root, const slot *s)
{
    const char *old = s->node->valuestring ? s->node->valuestring : "";
    size_t len = strlen(old);
    const char *p;
    size_t n;
    uint8_t *buf = NULL;
    int rc = -1;

    switch (rng_below(&c->r, 3)) {
    case 0: { /* libFuzzer's bytes on a copy, with room to grow */
        size_t cap = len + 64 + len / 2;
        size_t out;
        if (cap > c->max_size && c->max_size > len)
            cap = c->max_size;
        buf = malloc(cap ? cap : 1);
        if (!buf)
            goto cleanup;
        memcpy(buf, old, len);
        out = mutate_bytes(c, buf, len, cap);
        rc = replace_at(root, s, make_string(buf, out));
        break;
    }
    case 1: /* a material string instead */
        rc = replace_at(root, s, new_string(c));
        break;
    default: { /* a material string spliced in, over a random span */
        size_t at = rng_below(&c->r, len + 1);
        size_t cut = rng_pct(&c->r, 50) ? rng_below(&c->r, len - at + 1) : 0;
        pick_text(c, &p, &n);
        buf = malloc(len - cut + n + 1);
        if (!buf)
            goto cleanup;
        memcpy(buf, old, at);
        memcpy(buf + at, p, n);
        memcpy(buf + at + n, old + at + cut, len - at - cut);
        rc = replace_at(root, s, make_string(buf, len - cut + n));
        break;
    }
    }
cleanup:
    free(buf);
    return rc;
}

static int op_object(ctx *c, const list *l, const slot *s)
{
    cJSON *obj = s->node;
    int size = cJSON_GetArraySize(obj);
    unsigned what = size ? (unsigned)rng_below(&c->r, 3) : 1;
    cJSON *pick = size ? cJSON_GetArrayItem(obj, (int)rng_below(&c->r, (size_t)size)) : NULL;
    char *k = NULL;
    cJSON *v = NULL;
    int rc = -1;

    if (what == 0) { /* delete a member */
        cJSON_Delete(cJSON_DetachItemViaPointer(obj, pick));
        return 0;
    }
    k = new_key(c);
    if (!k)
        goto cleanup;
    /* add a member (most event fields are strings: half of new ones are),
     * or copy one's subtree under another name */
    if (what == 1)
        v = rng_pct(&c->r, 50) ? new_string(c) : new_value(c, l, -1);
    else
        v = cJSON_Duplicate(pick, true);
    if (!v)
        goto cleanup;
    if (!cJSON_AddItemToObject(obj, k, v))
        goto cleanup;
    v = NULL;
    rc = 0;
cleanup:
    cJSON_Delete(v);
    free(k);
    return rc;
}

static int op_array(ctx *c, const list *l, const slot *s)
{
    cJSON *arr = s->node;
    int size = cJSON_GetArraySize(arr);
    int at = size ? (int)rng_below(&c->r, (size_t)size) : 0;
    cJSON *v;

    switch (size ? rng_below(&c->r, 4) : 3) {
    case 0: { /* duplicate an item, next to it */
        cJSON *item = cJSON_GetArrayItem(arr, at);
        v = cJSON_Duplicate(item, true);
        if (!v)
            return -1;
        insert_after(arr, item, v);
        return 0;
    }
    case 1: /* empty it */
        while (arr->child)
            cJSON_Delete(cJSON_DetachItemViaPointer(arr, arr->child));
        return 0;
    case 2: /* drop one */
        cJSON_DeleteItemFromArray(arr, at);
        return 0;
    default: /* add a new value */
        v = new_value(c, l, -1);
        if (!v)
            return -1;
        insert_after(arr, at ? cJSON_GetArrayItem(arr, at - 1) : NULL, v);
        return 0;
    }
}

static int op_generic(ctx *c, cJSON **root, const list *l, const slot *s)
{
    int type = s->node->type & 0xff;

    /* Any node, sometimes: another type in its place. */
    if (rng_pct(&c->r, 15) || type == cJSON_NULL || type == cJSON_Raw)
        return replace_at(root, s, new_value(c, l, type));
    switch (type) {
    case cJSON_String:
        return op_string(c, root, s);
    case cJSON_Number:
        return replace_at(root, s, new_number(c));
    case cJSON_True:
        return replace_at(root, s, cJSON_CreateFalse());
    case cJSON_False:
        return replace_at(root, s, cJSON_CreateTrue());
    case cJSON_Object:
        return op_object(c, l, s);
    case cJSON_Array:
        return op_array(c, l, s);
    default:
        return replace_at(root, s, new_value(c, l, type));
    }
}

/* Base64 via OpenSSL: malloc'd, NUL-terminated; NULL on failure or if
 * text is not base64. */
static char *b64_encode(const void *p, size_t n, size_t *outn)
{
    char *out;
    int k;

    if (n > MAX_B64)
        return NULL;
    out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out)
        return NULL;
    k = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    *outn = (size_t)k;
    return out;
}

static unsigned char *b64_decode(const char *text, size_t *outn)
{
    size_t n = strlen(text);
    unsigned char *out;
    int k;

    if (n > MAX_B64 || n % 4)
        return NULL;
    out = malloc(3 * (n / 4) + 1);
    if (!out)
        return NULL;
    k = EVP_DecodeBlock(out, (const unsigned char *)text, (int)n);
    if (k < 0) {
        free(out);
        return NULL;
    }
    /* EVP_DecodeBlock counts the bytes '=' padding stands for. */
    if (n && text[n - 1] == '=')
        k--;
    if (n > 1 && text[n - 2] == '=')
        k--;
    *outn = (size_t)k;
    out[k] = '\0';
    return out;
}

/* JSON inside a string (base64 where the envelope says so): parsed,
 * mutated, printed back. 1 when the string held no JSON (nothing done). */
static int op_nested(ctx *c, cJSON **root, const slot *s, int level)
{
    bool b64 = is_b64_text(s->node, s->parent);
    unsigned char *raw = NULL;
    size_t rawn = 0;
    cJSON *sub = NULL;
    char *text = NULL;
    char *enc = NULL;
    size_t encn = 0;
    int rc = -1;

    if (level >= MAX_NESTED)
        return 1;
    if (b64) {
        raw = b64_decode(s->node->valuestring, &rawn);
        if (!raw)
            return 1;
        sub = jsonutil_parse_whole((const char *)raw, rawn);
    } else {
        sub = jsonutil_parse_whole(s->node->valuestring, strlen(s->node->valuestring));
    }
    if (!sub) {
        rc = 1;
        goto cleanup;
    }
    if (mutate_tree(c, &sub, level + 1) != 0)
        goto cleanup;
    text = cJSON_PrintUnformatted(sub);
    if (!text)
        goto cleanup;
    if (b64) {
        enc = b64_encode(text, strlen(text), &encn);
        if (!enc)
            goto cleanup;
        rc = replace_at(root, s, cJSON_CreateString(enc));
    } else {
        rc = replace_at(root, s, cJSON_CreateString(text));
    }
cleanup:
    free(enc);
    if (text)
        cJSON_free(text);
    cJSON_Delete(sub);
    free(raw);
    return rc;
}

/* isBase64Encoded flipped, the body encoded or decoded to match. A body
 * that does not decode keeps its text: a flag that lies is a test too. */
static int op_base64(const slot *s, cJSON **root)
{
    cJSON *obj = s->node;
    cJSON *flag = cJSON_GetObjectItemCaseSensitive(obj, "isBase64Encoded");
    cJSON *body = cJSON_GetObjectItemCaseSensitive(obj, "body");
    bool was = cJSON_IsTrue(flag);
    slot fs = {flag, obj, 0, 0};
    slot bs = {body, obj, 0, 0};
    cJSON *nb = NULL;

    if (was) {
        size_t n = 0;
        unsigned char *raw = b64_decode(body->valuestring, &n);
        if (raw) {
            nb = make_string(raw, n);
            free(raw);
            if (!nb)
                return -1;
        }
    } else {
        size_t n = 0;
        char *enc = b64_encode(body->valuestring, strlen(body->valuestring), &n);
        if (!enc)
            return -1;
        nb = cJSON_CreateString(enc);
        free(enc);
        if (!nb)
            return -1;
    }
    if (nb && replace_at(root, &bs, nb) != 0)
        return -1;
    return replace_at(root, &fs, cJSON_CreateBool(!was));
}

/* Records: a record duplicated (the handler loops over more), or none. */
static int op_records(ctx *c, const slot *s)
{
    cJSON *arr = s->node;
    int size = cJSON_GetArraySize(arr);

    if (size && rng_pct(&c->r, 75)) {
        cJSON *item = cJSON_GetArrayItem(arr, (int)rng_below(&c->r, (size_t)size));
        cJSON *v = cJSON_Duplicate(item, true);
        if (!v)
            return -1;
        insert_after(arr, item, v);
        return 0;
    }
    while (arr->child)
        cJSON_Delete(cJSON_DetachItemViaPointer(arr, arr->child));
    return 0;
}

/* A header name in another case: HTTP says names are case-insensitive,
 * handlers that read headers["Content-Type"] do not. */
static int op_header(ctx *c, const slot *s)
{
    char *name = s->node->string;
    unsigned mode = (unsigned)rng_below(&c->r, 4);
    bool start = true;
    bool changed = false;

    if (!name || (s->node->type & cJSON_StringIsConst))
        return 1;
    for (char *p = name; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        bool up;

        if (mode == 0)
            up = true;
        else if (mode == 1)
            up = false;
        else if (mode == 2)
            up = start; /* Title-Case */
        else
            up = rng_pct(&c->r, 50);
        if (ch < 0x80)
            *p = (char)(up ? (ch >= 'a' && ch <= 'z' ? ch - 32 : ch)
                           : (ch >= 'A' && ch <= 'Z' ? ch + 32 : ch));
        changed |= (unsigned char)*p != ch;
        start = ch == '-';
    }
    return changed ? 0 : 1; /* same name: let another operation run */
}

/* One operation on the tree: Lambda-aware where it applies (two times in
 * five), generic otherwise. */
static int op_one(ctx *c, cJSON **root, const list *l, int level)
{
    size_t kinds[L_LAST];
    size_t nk = 0;

    for (int i = 0; i < L_LAST; i++) {
        if (l->lamn[i])
            kinds[nk++] = (size_t)i;
    }
    if (nk && rng_pct(&c->r, 40)) {
        size_t kind = kinds[rng_below(&c->r, nk)];
        const slot *s = &l->v[l->lam[kind][rng_below(&c->r, l->lamn[kind])]];
        int rc;

        switch (kind) {
        case L_NESTED: rc = op_nested(c, root, s, level); break;
        case L_BASE64: rc = op_base64(s, root); break;
        case L_RECORDS: rc = op_records(c, s); break;
        default: rc = op_header(c, s); break;
        }
        if (rc <= 0)
            return rc;
    }
    return op_generic(c, root, l, &l->v[rng_below(&c->r, l->n)]);
}

static int mutate_tree(ctx *c, cJSON **root, int level)
{
    int ops = 1 + rng_pct(&c->r, 30) + rng_pct(&c->r, 10);

    for (int i = 0; i < ops && i < MAX_OPS; i++) {
        list l;
        int rc;

        if (list_build(&l, *root) != 0)
            return -1;
        rc = op_one(c, root, &l, level);
        list_free(&l);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Printing within bounds.
 */

/* The tree printed into out[0..max) if it fits and replays (nesting within
 * cJSON's limit); its length, or 0. */
static size_t emit(cJSON *root, uint8_t *out, size_t max)
{
    list l;
    char *text;
    size_t n = 0;

    if (list_build(&l, root) != 0)
        return 0;
    if (l.max_depth > MAX_DEPTH) {
        list_free(&l);
        return 0;
    }
    list_free(&l);
    text = cJSON_PrintUnformatted(root);
    if (!text)
        return 0;
    n = strlen(text);
    if (n == 0 || n > max) {
        n = 0;
    } else {
        memcpy(out, text, n);
    }
    cJSON_free(text);
    return n;
}

/* data[0..size) parsed as one whole JSON value (from a NUL-terminated
 * copy: cJSON is not instrumented, so an overread would go unseen). */
static cJSON *parse_input(const uint8_t *data, size_t size)
{
    char *copy;
    cJSON *doc;

    if (size == 0)
        return NULL;
    copy = malloc(size + 1);
    if (!copy)
        return NULL;
    memcpy(copy, data, size);
    copy[size] = '\0';
    doc = jsonutil_parse_whole(copy, size);
    free(copy);
    return doc;
}

/* ---------------------------------------------------------------------------
 * Public API.
 */
fuzzmut *fuzzmut_new(void)
{
    return calloc(1, sizeof(fuzzmut));
}

int fuzzmut_add_string(fuzzmut *m, const char *s, size_t len)
{
    char *copy;

    if (!m || (!s && len) || len > FUZZMUT_MAX_STRING_LEN || m->n >= FUZZMUT_MAX_STRINGS)
        return -1;
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 32;
        char **ns = realloc(m->s, nc * sizeof(*ns));
        size_t *nl;
        if (!ns)
            return -1;
        m->s = ns;
        nl = realloc(m->len, nc * sizeof(*nl));
        if (!nl)
            return -1;
        m->len = nl;
        m->cap = nc;
    }
    copy = malloc(len + 1);
    if (!copy)
        return -1;
    if (len)
        memcpy(copy, s, len);
    copy[len] = '\0';
    m->s[m->n] = copy;
    m->len[m->n] = len;
    m->n++;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One dictionary line's value into out (at least as long as the line);
 * its length, or -1 when the line is malformed. */
static long dict_value(const char *line, size_t n, char *out, const char **why)
{
    size_t i = 0, k = 0;
    while (i < n && line[i] != '"') {
        /* name: letters, digits, '_' — then '=' */
        bool name_char = isalnum((unsigned char)line[i]) || line[i] == '_';
        if (!name_char && !(line[i] == '=' && i + 1 < n && line[i + 1] == '"')) {
            *why = "expected name=\"value\" or \"value\"";
            return -1;
        }
        i++;
    }
    if (i == n) {
        *why = "no opening quote";
        return -1;
    }
    for (i++; i < n && line[i] != '"'; i++) {
        if (line[i] != '\\') {
            out[k++] = line[i];
        } else if (i + 1 < n && (line[i + 1] == '\\' || line[i + 1] == '"')) {
            out[k++] = line[++i];
        } else if (i + 3 < n && line[i + 1] == 'x' && hexval(line[i + 2]) >= 0 && hexval(line[i + 3]) >= 0) {
            out[k++] = (char)(hexval(line[i + 2]) * 16 + hexval(line[i + 3]));
            i += 3;
        } else {
            *why = "an escape other than \\\\, \\\" or \\xNN";
            return -1;
        }
    }
    if (i >= n) {
        *why = "no closing quote";
        return -1;
    }
    for (i++; i < n; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
            *why = "text after the closing quote";
            return -1;
        }
    return (long)k;
}

int fuzzmut_add_dict(fuzzmut *m, const char *text, size_t len, char *err, size_t errlen)
{
    size_t pos = 0, line_no = 0;
    char *value = malloc(len + 1);
    int rc = -1;
    if (!value) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos, skip = 0;
        const char *why = NULL;
        long vlen;
        pos += n + (nl ? 1 : 0);
        line_no++;
        while (skip < n && (line[skip] == ' ' || line[skip] == '\t'))
            skip++;
        if (skip == n || line[skip] == '#' || (n - skip == 1 && line[skip] == '\r'))
            continue;
        vlen = dict_value(line + skip, n - skip, value, &why);
        if (vlen < 0) {
            snprintf(err, errlen, "line %zu: %s", line_no, why);
            goto cleanup;
        }
        if (fuzzmut_add_string(m, value, (size_t)vlen) != 0) {
            snprintf(err, errlen, "line %zu: out of memory or material full", line_no);
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    free(value);
    return rc;
}

size_t fuzzmut_count(const fuzzmut *m)
{
    return m ? m->n : 0;
}

size_t fuzzmut_mutate(const fuzzmut *m, uint8_t *data, size_t size, size_t max_size, unsigned seed,
                      fuzzmut_bytes_fn bytes)
{
    ctx c = {{(uint64_t)seed * 0x2545f4914f6cdd1dULL + 1}, m, bytes, max_size};
    cJSON *doc;

    if (max_size == 0 || !data)
        return 0;
    if (size > max_size)
        size = max_size;
    doc = parse_input(data, size);
    for (int attempt = 0; doc && attempt < MAX_ATTEMPTS; attempt++) {
        cJSON *tree = cJSON_Duplicate(doc, true);
        size_t n = 0;

        if (tree && mutate_tree(&c, &tree, 0) == 0)
            n = emit(tree, data, max_size);
        cJSON_Delete(tree);
        if (n) {
            cJSON_Delete(doc);
            return n;
        }
    }
    cJSON_Delete(doc);
    return mutate_bytes(&c, data, size, max_size);
}

/* The path of b's slot i (root excluded) followed in a: the node there,
 * with its parent, in *out. */
static bool same_path(const list *lb, size_t i, cJSON *a, slot *out)
{
    size_t depth = 0;
    size_t *chain;
    cJSON *cur = a;
    cJSON *parent = NULL;
    bool ok = false;

    for (size_t j = i; lb->v[j].parent; j = lb->v[j].up)
        depth++;
    if (depth == 0)
        return false;
    chain = calloc(depth, sizeof(*chain));
    if (!chain)
        return false;
    for (size_t j = i, k = depth; lb->v[j].parent; j = lb->v[j].up)
        chain[--k] = j;
    for (size_t k = 0; k < depth; k++) {
        const slot *s = &lb->v[chain[k]];
        cJSON *next = NULL;

        if (!s->parent)
            goto cleanup;
        if (cJSON_IsObject(s->parent) && s->node->string && cJSON_IsObject(cur)) {
            next = cJSON_GetObjectItemCaseSensitive(cur, s->node->string);
        } else if (cJSON_IsArray(s->parent) && cJSON_IsArray(cur)) {
            int idx = 0;
            for (const cJSON *x = s->parent->child; x && x != s->node; x = x->next)
                idx++;
            next = cJSON_GetArrayItem(cur, idx);
        }
        if (!next)
            goto cleanup;
        parent = cur;
        cur = next;
    }
    out->node = cur;
    out->parent = parent;
    ok = true;
cleanup:
    free(chain);
    return ok;
}

/* A subtree of b grafted into a: at the same path if a has it, else into
 * a random container (or over a random node). 0 on success. */
static int graft(ctx *c, cJSON **a, cJSON *b)
{
    list la;
    list lb;
    slot target;
    cJSON *piece = NULL;
    int rc = -1;

    memset(&la, 0, sizeof(la));
    if (list_build(&lb, b) != 0)
        return -1;
    if (list_build(&la, *a) != 0)
        goto cleanup;
    for (int t = 0; t < MAX_GRAFT_TRIES; t++) {
        size_t i = rng_below(&c->r, lb.n);
        if (same_path(&lb, i, *a, &target)) {
            rc = replace_at(a, &target, cJSON_Duplicate(lb.v[i].node, true));
            goto cleanup;
        }
    }
    {
        const slot *from = &lb.v[rng_below(&c->r, lb.n)];
        const slot *to = &la.v[rng_below(&c->r, la.n)];

        piece = cJSON_Duplicate(from->node, true);
        if (!piece)
            goto cleanup;
        if (cJSON_IsObject(to->node)) {
            char *k = from->node->string ? NULL : new_key(c);
            const char *name = from->node->string ? from->node->string : k;
            cJSON_bool added = name && cJSON_AddItemToObject(to->node, name, piece);
            free(k);
            if (!added)
                goto cleanup;
        } else if (cJSON_IsArray(to->node)) {
            int size = cJSON_GetArraySize(to->node);
            int at = (int)rng_below(&c->r, (size_t)size + 1);
            insert_after(to->node, at ? cJSON_GetArrayItem(to->node, at - 1) : NULL, piece);
        } else {
            rc = replace_at(a, to, piece);
            piece = NULL;
            goto cleanup;
        }
        piece = NULL;
        rc = 0;
    }
cleanup:
    cJSON_Delete(piece);
    list_free(&la);
    list_free(&lb);
    return rc;
}

size_t fuzzmut_crossover(const fuzzmut *m, const uint8_t *a, size_t alen, const uint8_t *b,
                         size_t blen, uint8_t *out, size_t max_out, unsigned seed)
{
    ctx c = {{(uint64_t)seed * 0x2545f4914f6cdd1dULL + 7}, m, NULL, max_out};
    cJSON *ja;
    cJSON *jb;
    size_t n = 0;
    size_t i;
    size_t j;

    if (!out || max_out == 0)
        return 0;
    if (!a)
        alen = 0;
    if (!b)
        blen = 0;
    ja = parse_input(a, alen);
    jb = ja ? parse_input(b, blen) : NULL;
    if (ja && jb && graft(&c, &ja, jb) == 0)
        n = emit(ja, out, max_out);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    if (n)
        return n;

    /* A prefix of a joined to a suffix of b. */
    i = rng_below(&c.r, alen + 1);
    j = rng_below(&c.r, blen + 1);
    if (i > max_out)
        i = max_out;
    if (a && i)
        memcpy(out, a, i);
    n = blen - j;
    if (n > max_out - i)
        n = max_out - i;
    if (b && n)
        memcpy(out + i, b + j, n);
    return i + n;
}

void fuzzmut_free(fuzzmut *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->s[i]);
    free(m->s);
    free(m->len);
    free(m);
}
