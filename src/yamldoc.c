/*
 * yamldoc — the YAML loader behind coldsec's configuration: scenarios.yaml
 * and the scenario files. Every config error the engine reports reads
 * "FILE:LINE:COLUMN: message"; this module keeps the positions that needs
 * and writes those messages (see yamldoc.h for the API and its rules).
 *
 * One pass over libyaml's events builds the tree. libyaml's own document
 * loader is not used (it looks anchors up linearly and knows none of our
 * rules), so the prescan of harness/lab_config.c is folded into the only
 * pass there is: each event is checked against the bounds — one document,
 * depth, anchors, nodes — before anything is built for it, and the first
 * bad event ends the parse. libyaml's scanner does work per token
 * proportional to the flow depth it has seen, so the depth bound, checked
 * as each collection opens, also stops `[[[[...` at once. Anchors live in
 * a small hash table, so an alias costs O(1) however many there are.
 *
 * Nodes and strings come from an arena owned by the yamldoc: nodes never
 * move once made, which lets an alias — even a recursive one, met while its
 * anchor's collection is still open — point straight at its target, and
 * yamldoc_free() is one walk over the blocks.
 */
#include "yamldoc.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#define YD_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

#define DEFAULT_NAME "<yaml>"
#define ARENA_FIRST 1024           /* bytes; blocks double from here... */
#define ARENA_BLOCK 65536          /* ...to here; a request over a quarter of one gets its own */
#define ANCHOR_SLOTS 512           /* hash table, at most half full */
#define EDIT_MAX 32                /* keys longer than this get no suggestion */
/* Integers to_json takes: 15 digits. A double holds more (2^53), but
 * cJSON prints with 15 significant digits whenever its round-trip check,
 * which tolerates an error of about 2^-52 relative, passes: 9007199254740991
 * would print as 9.00719925474099e+15. */
#define JSON_MAX_INT 999999999999999ULL
#define READ_CHUNK 65536
#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

/* ---- arena -------------------------------------------------------------- */

typedef struct arena_block {
    struct arena_block *next;
    size_t size, used;
    unsigned char *data;           /* points just past this header */
} arena_block;

struct yamldoc {
    const char *name;
    const yamldoc_node *root;
    arena_block *blocks;           /* the one being filled first */
    size_t block_size;             /* of the next standard block */
};

/* size bytes aligned to align (a power of two) from d's arena; NULL when
 * out of memory. */
static void *arena_alloc(yamldoc *d, size_t size, size_t align)
{
    arena_block *b = d->blocks;
    size_t pad = 0;

    if (b != NULL)
        pad = (size_t)(-(uintptr_t)(b->data + b->used)) & (align - 1);
    if (b == NULL || b->size - b->used < pad || b->size - b->used - pad < size) {
        size_t want = size + align;
        bool own = true;
        arena_block *nb;

        if (d->block_size == 0)
            d->block_size = ARENA_FIRST;
        if (want < size)
            return NULL;
        if (want <= d->block_size / 4) {
            want = d->block_size;
            own = false;
        }
        if (want > SIZE_MAX - sizeof *nb)
            return NULL;
        nb = malloc(sizeof *nb + want);
        if (nb == NULL)
            return NULL;
        nb->size = want;
        nb->used = 0;
        nb->data = (unsigned char *)(nb + 1);
        /* A big request's own block goes behind the current one, which
         * keeps its free space for the small requests that follow. */
        if (b != NULL && own) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            d->blocks = nb;
            if (!own && d->block_size < ARENA_BLOCK)
                d->block_size *= 2;
        }
        b = nb;
        pad = (size_t)(-(uintptr_t)b->data) & (align - 1);
    }
    b->used += pad;
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

static char *arena_strndup(yamldoc *d, const void *s, size_t len)
{
    char *p;

    if (len == SIZE_MAX)
        return NULL;
    p = arena_alloc(d, len + 1, 1);
    if (p == NULL)
        return NULL;
    if (len > 0)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void yamldoc_free(yamldoc *d)
{
    arena_block *b, *next;

    if (d == NULL)
        return;
    for (b = d->blocks; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    free(d);
}

const char *yamldoc_name(const yamldoc *d)
{
    return d != NULL && d->name != NULL ? d->name : DEFAULT_NAME;
}

const yamldoc_node *yamldoc_root(const yamldoc *d)
{
    return d != NULL ? d->root : NULL;
}

/* ---- messages ----------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...) YD_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* "NAME:LINE:COLUMN: message", or "NAME: message" when line is 0. */
static int vfail_pos(const char *name, int line, int column, char *err, size_t errlen,
                     const char *fmt, va_list ap) YD_PRINTF(6, 0);
static int vfail_pos(const char *name, int line, int column, char *err, size_t errlen,
                     const char *fmt, va_list ap)
{
    int n;

    if (err == NULL || errlen == 0)
        return -1;
    if (line > 0)
        n = snprintf(err, errlen, "%s:%d:%d: ", name, line, column);
    else
        n = snprintf(err, errlen, "%s: ", name);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    return -1;
}

int yamldoc_fail(const yamldoc *d, const yamldoc_node *n, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail_pos(yamldoc_name(d), n != NULL ? n->line : 0, n != NULL ? n->column : 0, err, errlen,
              fmt, ap);
    va_end(ap);
    return -1;
}

/* Appends to a fixed buffer, silently cutting what does not fit. */
typedef struct outbuf {
    char *buf;
    size_t cap, len;
} outbuf;

static void out_put(outbuf *o, const char *s, size_t n)
{
    size_t room = o->cap - 1 - o->len;

    if (n > room)
        n = room;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

/* Code points a terminal would act on rather than show: C1 controls, and
 * the bidirectional overrides and isolates that reorder what follows. */
static bool hidden_code_point(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069);
}

const char *yamldoc_quote(char *buf, size_t buflen, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    outbuf o = {buf, buflen, 0};
    size_t cut = len;
    char esc[16];

    if (buf == NULL || buflen == 0)
        return "";
    buf[0] = '\0';
    if (text == NULL)
        cut = len = 0;
    if (cut > YAMLDOC_QUOTE_MAX) {
        /* Never cut a UTF-8 sequence in half (a sequence is at most 4 bytes). */
        cut = YAMLDOC_QUOTE_MAX;
        for (size_t k = 0; k < 3 && cut > 0 && (p[cut] & 0xC0) == 0x80; k++)
            cut--;
    }
    out_put(&o, "'", 1);
    for (size_t i = 0; i < cut;) {
        uint32_t c = 0;
        size_t n = utf8_decode(p + i, cut - i, &c);

        if (n == 0 || c < 0x20 || c == 0x7F) {
            snprintf(esc, sizeof esc, "\\x%02x", (unsigned)p[i]);
            out_put(&o, esc, 4);
            i++;
            continue;
        }
        if (hidden_code_point(c)) {
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)c);
            out_put(&o, esc, 6);
        } else if (c == '\'' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            out_put(&o, esc, 2);
        } else {
            out_put(&o, (const char *)p + i, n);
        }
        i += n;
    }
    out_put(&o, "'", 1);
    if (cut < len)
        out_put(&o, "...", 3);
    return buf;
}

/* ---- scalars: the YAML 1.2 core schema ---------------------------------- */

typedef enum { CORE_NULL, CORE_BOOL, CORE_INT, CORE_FLOAT, CORE_STR } core_type;

static bool text_is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* Digits matching accept() from s[i]; returns how many. */
static size_t span(const char *s, size_t len, size_t i, int (*accept)(int))
{
    size_t j = i;

    while (j < len && accept((unsigned char)s[j]))
        j++;
    return j - i;
}

static int is_dec(int c)
{
    return c >= '0' && c <= '9';
}

static int is_oct(int c)
{
    return c >= '0' && c <= '7';
}

static int is_hex(int c)
{
    return is_dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool core_null(const char *s, size_t len)
{
    return len == 0 || text_is(s, len, "~") || text_is(s, len, "null") ||
           text_is(s, len, "Null") || text_is(s, len, "NULL");
}

static bool core_bool(const char *s, size_t len, bool *v)
{
    if (text_is(s, len, "true") || text_is(s, len, "True") || text_is(s, len, "TRUE")) {
        *v = true;
        return true;
    }
    if (text_is(s, len, "false") || text_is(s, len, "False") || text_is(s, len, "FALSE")) {
        *v = false;
        return true;
    }
    return false;
}

/* [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+ */
static bool core_int(const char *s, size_t len)
{
    size_t i = 0;

    if (len > 2 && s[0] == '0' && s[1] == 'o')
        return span(s, len, 2, is_oct) == len - 2;
    if (len > 2 && s[0] == '0' && s[1] == 'x')
        return span(s, len, 2, is_hex) == len - 2;
    if (len > 0 && (s[0] == '-' || s[0] == '+'))
        i = 1;
    return i < len && span(s, len, i, is_dec) == len - i;
}

/* [-+]?(\.inf|\.Inf|\.INF) | \.nan|\.NaN|\.NAN */
static bool core_special_float(const char *s, size_t len)
{
    size_t i = len > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;

    if (text_is(s + i, len - i, ".inf") || text_is(s + i, len - i, ".Inf") ||
        text_is(s + i, len - i, ".INF"))
        return true;
    return i == 0 && (text_is(s, len, ".nan") || text_is(s, len, ".NaN") || text_is(s, len, ".NAN"));
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? — finite floats only. */
static bool core_finite_float(const char *s, size_t len)
{
    size_t i = 0, n;

    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    if (i < len && s[i] == '.') {
        n = span(s, len, i + 1, is_dec);
        if (n == 0)
            return false;
        i += 1 + n;
    } else {
        n = span(s, len, i, is_dec);
        if (n == 0)
            return false;
        i += n;
        if (i < len && s[i] == '.')
            i += 1 + span(s, len, i + 1, is_dec);
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        n = span(s, len, i, is_dec);
        if (n == 0)
            return false;
        i += n;
    }
    return i == len;
}

static core_type core_resolve(const char *s, size_t len)
{
    bool b;

    if (core_null(s, len))
        return CORE_NULL;
    if (core_bool(s, len, &b))
        return CORE_BOOL;
    if (core_int(s, len))
        return CORE_INT;
    if (core_finite_float(s, len) || core_special_float(s, len))
        return CORE_FLOAT;
    return CORE_STR;
}

/* Strict decimal: -?(0|[1-9][0-9]*). */
static bool strict_decimal(const char *s, size_t len)
{
    size_t i = len > 0 && s[0] == '-' ? 1 : 0;

    if (i == len || span(s, len, i, is_dec) != len - i)
        return false;
    return s[i] != '0' || len - i == 1;
}

/* ---- loader ------------------------------------------------------------- */

/* What a collection's keys[] and values[] hold. */
typedef const yamldoc_node *node_ref;

/* A node as it appears in its parent: an alias appears at its own place. */
typedef struct entry {
    const yamldoc_node *node;
    int line, column;
} entry;

typedef struct frame {
    yamldoc_node *node;            /* the open collection */
    size_t start;                  /* its first entry in the stack */
} frame;

typedef struct anchor {
    const char *name;              /* NULL: free slot */
    const yamldoc_node *node;
} anchor;

/* Everything one load needs; passed down instead of any global. */
typedef struct loader {
    yamldoc *d;
    char *err;
    size_t errlen;
    entry *stack;                  /* children of the open collections */
    size_t top, cap;
    frame frames[YAMLDOC_MAX_DEPTH];
    size_t depth;
    anchor anchors[ANCHOR_SLOTS];
    size_t anchor_count, node_count, documents;
} loader;

static int mark_line(yaml_mark_t m)
{
    return m.line < (size_t)INT_MAX ? (int)m.line + 1 : INT_MAX;
}

static int mark_column(yaml_mark_t m)
{
    return m.column < (size_t)INT_MAX ? (int)m.column + 1 : INT_MAX;
}

static int fail_mark(const loader *l, yaml_mark_t m, const char *fmt, ...) YD_PRINTF(3, 4);
static int fail_mark(const loader *l, yaml_mark_t m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail_pos(l->d->name, mark_line(m), mark_column(m), l->err, l->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail_oom(const loader *l)
{
    set_err(l->err, l->errlen, "%s: out of memory", l->d->name);
    return -1;
}

static const char *kind_name(const yamldoc_node *n)
{
    switch (n->kind) {
    case YAMLDOC_MAP:
        return "a mapping";
    case YAMLDOC_SEQ:
        return "a sequence";
    default:
        if (n->plain && n->len == 0)
            return "an empty value";
        if (n->plain && core_null(n->text, n->len))
            return "null";
        return "a scalar";
    }
}

/* A tag as the user would write it: "!!int" for the standard ones. */
static const char *tag_shown(const char *tag, char *buf, size_t buflen)
{
    size_t plen = strlen(YAML_TAG_PREFIX);
    char shown[YAMLDOC_QUOTE_MAX + 8];

    if (strncmp(tag, YAML_TAG_PREFIX, plen) == 0) {
        snprintf(shown, sizeof shown, "!!%s", tag + plen);
        tag = shown;
    }
    return yamldoc_quote(buf, buflen, tag, strlen(tag));
}

/*
 * Only the standard tags are accepted: a custom tag would mean a type
 * coldsec does not have. On a plain scalar, a type tag must agree with
 * what the core schema reads anyway (so `!!int abc` is an error, not a
 * string); !!str and the non-specific "!" make it a string. Quoted and
 * block scalars are strings already: only !!str fits them.
 */
static int check_tag(const loader *l, const yaml_event_t *ev, const char *tag, yamldoc_kind kind,
                     bool *plain)
{
    char q[YAMLDOC_QUOTE_BUFLEN];
    const char *t;
    core_type want;

    if (tag == NULL)
        return 0;
    if (strcmp(tag, "!") == 0) {
        *plain = false;
        return 0;
    }
    if (strncmp(tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) != 0)
        return fail_mark(l, ev->start_mark, "unsupported tag %s (only the standard tags !!str, "
                         "!!int, !!float, !!bool, !!null, !!map and !!seq are allowed)",
                         tag_shown(tag, q, sizeof q));
    t = tag + strlen(YAML_TAG_PREFIX);
    if (strcmp(t, "map") == 0 || strcmp(t, "seq") == 0) {
        yamldoc_kind tk = t[0] == 'm' ? YAMLDOC_MAP : YAMLDOC_SEQ;
        if (tk == kind)
            return 0;
        return fail_mark(l, ev->start_mark, "tag !!%s does not fit %s", t,
                         kind == YAMLDOC_MAP ? "a mapping" : kind == YAMLDOC_SEQ ? "a sequence" : "a scalar");
    }
    if (strcmp(t, "str") == 0) {
        if (kind != YAMLDOC_SCALAR)
            return fail_mark(l, ev->start_mark, "tag !!str does not fit %s",
                             kind == YAMLDOC_MAP ? "a mapping" : "a sequence");
        *plain = false;
        return 0;
    }
    if (strcmp(t, "null") == 0)
        want = CORE_NULL;
    else if (strcmp(t, "bool") == 0)
        want = CORE_BOOL;
    else if (strcmp(t, "int") == 0)
        want = CORE_INT;
    else if (strcmp(t, "float") == 0)
        want = CORE_FLOAT;
    else
        return fail_mark(l, ev->start_mark, "unsupported tag %s (only the standard tags !!str, "
                         "!!int, !!float, !!bool, !!null, !!map and !!seq are allowed)",
                         tag_shown(tag, q, sizeof q));
    if (kind != YAMLDOC_SCALAR)
        return fail_mark(l, ev->start_mark, "tag !!%s does not fit %s", t,
                         kind == YAMLDOC_MAP ? "a mapping" : "a sequence");
    if (!*plain)
        return fail_mark(l, ev->start_mark, "tag !!%s on a quoted or block scalar: write the value "
                         "plain, without the tag", t);
    {
        const char *s = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        core_type got = memchr(s, '\0', len) != NULL ? CORE_STR : core_resolve(s, len);

        if (got != want && !(want == CORE_FLOAT && got == CORE_INT))
            return fail_mark(l, ev->start_mark, "%s is not a valid !!%s", yamldoc_quote(q, sizeof q, s, len), t);
    }
    return 0;
}

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u;   /* FNV-1a */

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot holding name, or the free slot where it would go. */
static anchor *anchor_slot(loader *l, const char *name)
{
    size_t i = hash_name(name) & (ANCHOR_SLOTS - 1);

    while (l->anchors[i].name != NULL && strcmp(l->anchors[i].name, name) != 0)
        i = (i + 1) & (ANCHOR_SLOTS - 1);
    return &l->anchors[i];
}

/* Records an anchor; a later one of the same name replaces it, as YAML says. */
static int anchor_define(loader *l, const yaml_event_t *ev, const yaml_char_t *name,
                         const yamldoc_node *node)
{
    anchor *a;

    if (name == NULL)
        return 0;
    if (++l->anchor_count > YAMLDOC_MAX_ANCHORS)
        return fail_mark(l, ev->start_mark, "too many anchors: the limit is %d", YAMLDOC_MAX_ANCHORS);
    a = anchor_slot(l, (const char *)name);
    if (a->name == NULL) {
        a->name = arena_strndup(l->d, name, strlen((const char *)name));
        if (a->name == NULL)
            return fail_oom(l);
    }
    a->node = node;
    return 0;
}

static yamldoc_node *node_new(loader *l, const yaml_event_t *ev, yamldoc_kind kind)
{
    yamldoc_node *n;

    if (++l->node_count > YAMLDOC_MAX_NODES) {
        fail_mark(l, ev->start_mark, "more than %d nodes", YAMLDOC_MAX_NODES);
        return NULL;
    }
    n = arena_alloc(l->d, sizeof *n, alignof(yamldoc_node));
    if (n == NULL) {
        fail_oom(l);
        return NULL;
    }
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = mark_line(ev->start_mark);
    n->column = mark_column(ev->start_mark);
    n->text = "";
    return n;
}

/* A node of this kind may not appear here if it would be a mapping key. */
static int check_key_kind(const loader *l, yaml_mark_t m, const yamldoc_node *n, yamldoc_kind kind)
{
    const frame *f;

    if (l->depth == 0 || kind == YAMLDOC_SCALAR)
        return 0;
    f = &l->frames[l->depth - 1];
    if (f->node->kind != YAMLDOC_MAP || (l->top - f->start) % 2 != 0)
        return 0;
    return fail_mark(l, m, "mapping keys must be scalars, not %s",
                     n != NULL ? kind_name(n) : kind == YAMLDOC_MAP ? "a mapping" : "a sequence");
}

/* Hands a finished node to its parent (or makes it the root). */
static int attach(loader *l, const yamldoc_node *n, int line, int column)
{
    if (l->depth == 0) {
        l->d->root = n;
        return 0;
    }
    if (l->top == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 64;
        entry *s = realloc(l->stack, cap * sizeof *s);
        if (s == NULL)
            return fail_oom(l);
        l->stack = s;
        l->cap = cap;
    }
    l->stack[l->top].node = n;
    l->stack[l->top].line = line;
    l->stack[l->top].column = column;
    l->top++;
    return 0;
}

typedef struct key_ref {
    const yamldoc_node *key;
    size_t index;
    int line, column;
} key_ref;

static int text_cmp(const yamldoc_node *a, const yamldoc_node *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n > 0 ? memcmp(a->text, b->text, n) : 0;

    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* By text, then by position in the mapping. */
static int key_ref_cmp(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    int c = text_cmp(x->key, y->key);

    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * YAML forbids repeated keys but libyaml keeps both; we refuse, since
 * either choice would hide a value the user wrote. Keys are compared as
 * text (so 1 and "1" collide: as JSON they would). Sorting keeps a mapping
 * of n keys O(n log n); the error names the earliest repeat.
 */
static int check_duplicates(const loader *l, const entry *pairs, size_t count)
{
    int rc = -1;
    key_ref *refs = NULL;
    const key_ref *dup = NULL, *first = NULL;
    char q[YAMLDOC_QUOTE_BUFLEN];

    if (count < 2)
        return 0;
    refs = malloc(count * sizeof *refs);
    if (refs == NULL) {
        fail_oom(l);
        goto cleanup;
    }
    for (size_t i = 0; i < count; i++) {
        refs[i].key = pairs[2 * i].node;
        refs[i].index = i;
        refs[i].line = pairs[2 * i].line;
        refs[i].column = pairs[2 * i].column;
    }
    qsort(refs, count, sizeof *refs, key_ref_cmp);
    for (size_t g = 0, i = 1; i < count; i++) {
        if (text_cmp(refs[g].key, refs[i].key) != 0) {
            g = i;
            continue;
        }
        if (i == g + 1 && (dup == NULL || refs[i].index < dup->index)) {
            dup = &refs[i];
            first = &refs[g];
        }
    }
    if (dup != NULL) {
        yaml_mark_t m = {0, (size_t)dup->line - 1, (size_t)dup->column - 1};
        fail_mark(l, m, "duplicate key %s (first at %d:%d)",
                  yamldoc_quote(q, sizeof q, dup->key->text, dup->key->len), first->line, first->column);
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(refs);
    return rc;
}

static int open_collection(loader *l, const yaml_event_t *ev, yamldoc_kind kind)
{
    const yaml_char_t *tag, *anchor_name;
    yamldoc_node *n;
    bool plain = false;

    if (kind == YAMLDOC_MAP) {
        tag = ev->data.mapping_start.tag;
        anchor_name = ev->data.mapping_start.anchor;
    } else {
        tag = ev->data.sequence_start.tag;
        anchor_name = ev->data.sequence_start.anchor;
    }
    if (l->depth >= YAMLDOC_MAX_DEPTH)
        return fail_mark(l, ev->start_mark, "nested more than %d levels deep", YAMLDOC_MAX_DEPTH);
    if (check_key_kind(l, ev->start_mark, NULL, kind) != 0 ||
        check_tag(l, ev, (const char *)tag, kind, &plain) != 0)
        return -1;
    n = node_new(l, ev, kind);
    if (n == NULL)
        return -1;
    /* Before the children: a recursive alias inside finds it. */
    if (anchor_define(l, ev, anchor_name, n) != 0)
        return -1;
    l->frames[l->depth].node = n;
    l->frames[l->depth].start = l->top;
    l->depth++;
    return 0;
}

static int close_collection(loader *l)
{
    frame *f = &l->frames[l->depth - 1];
    yamldoc_node *n = f->node;
    size_t items = l->top - f->start;
    /* An empty root collection has no stack yet: no pointer arithmetic on NULL. */
    const entry *e = items ? l->stack + f->start : NULL;

    if (n->kind == YAMLDOC_MAP) {
        node_ref *keys = NULL, *values = NULL;
        size_t count = items / 2;

        /* Keys are names; one that hides text behind a NUL would compare
         * equal to its prefix everywhere a C string is used. */
        for (size_t i = 0; i < count; i++) {
            const yamldoc_node *k = e[2 * i].node;
            if (k->kind == YAMLDOC_SCALAR && memchr(k->text, '\0', k->len)) {
                yaml_mark_t m = {0, (size_t)e[2 * i].line - 1, (size_t)e[2 * i].column - 1};
                fail_mark(l, m, "a key holds a NUL character");
                return -1;
            }
        }
        if (check_duplicates(l, e, count) != 0)
            return -1;
        if (count > 0) {
            keys = arena_alloc(l->d, count * sizeof(node_ref), alignof(node_ref));
            values = arena_alloc(l->d, count * sizeof(node_ref), alignof(node_ref));
            if (keys == NULL || values == NULL)
                return fail_oom(l);
            for (size_t i = 0; i < count; i++) {
                keys[i] = e[2 * i].node;
                values[i] = e[2 * i + 1].node;
            }
        }
        n->count = count;
        n->keys = keys;
        n->values = values;
    } else {
        node_ref *values = NULL;

        if (items > 0) {
            values = arena_alloc(l->d, items * sizeof(node_ref), alignof(node_ref));
            if (values == NULL)
                return fail_oom(l);
            for (size_t i = 0; i < items; i++)
                values[i] = e[i].node;
        }
        n->count = items;
        n->values = values;
    }
    l->top = f->start;
    l->depth--;
    return attach(l, n, n->line, n->column);
}

static int on_scalar(loader *l, const yaml_event_t *ev)
{
    yamldoc_node *n;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;

    if (check_tag(l, ev, (const char *)ev->data.scalar.tag, YAMLDOC_SCALAR, &plain) != 0)
        return -1;
    n = node_new(l, ev, YAMLDOC_SCALAR);
    if (n == NULL)
        return -1;
    n->plain = plain;
    n->len = ev->data.scalar.length;
    if (n->len > 0) {
        n->text = arena_strndup(l->d, ev->data.scalar.value, n->len);
        if (n->text == NULL)
            return fail_oom(l);
    }
    if (anchor_define(l, ev, ev->data.scalar.anchor, n) != 0)
        return -1;
    return attach(l, n, n->line, n->column);
}

static int on_alias(loader *l, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const anchor *a = anchor_slot(l, name);
    char q[YAMLDOC_QUOTE_BUFLEN];

    if (a->name == NULL)
        return fail_mark(l, ev->start_mark, "alias %s names no anchor defined before it",
                         yamldoc_quote(q, sizeof q, name, strlen(name)));
    if (check_key_kind(l, ev->start_mark, a->node, a->node->kind) != 0)
        return -1;
    return attach(l, a->node, mark_line(ev->start_mark), mark_column(ev->start_mark));
}

static int on_event(loader *l, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++l->documents > 1)
            return fail_mark(l, ev->start_mark, "only one YAML document is allowed; a second one "
                             "starts here");
        return 0;
    case YAML_SCALAR_EVENT:
        return on_scalar(l, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(l, ev);
    case YAML_SEQUENCE_START_EVENT:
        return open_collection(l, ev, YAMLDOC_SEQ);
    case YAML_MAPPING_START_EVENT:
        return open_collection(l, ev, YAMLDOC_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (l->depth == 0)
            return fail_mark(l, ev->start_mark, "internal error: unbalanced YAML events");
        return close_collection(l);
    default:
        return 0;
    }
}

/* Turns a libyaml failure into "NAME:LINE:COLUMN: problem". */
static int fail_parser(const loader *l, const yaml_parser_t *parser, const unsigned char *data,
                       size_t len)
{
    const char *problem = parser->problem != NULL ? parser->problem : "unknown error";
    yaml_mark_t mark = parser->problem_mark;

    switch (parser->error) {
    case YAML_MEMORY_ERROR:
        return fail_oom(l);
    case YAML_READER_ERROR:
        /* The reader gives a byte offset, not a mark: count lines and
         * characters ourselves, as libyaml would. */
        mark.line = 0;
        mark.column = 0;
        for (size_t i = 0; i < parser->problem_offset && i < len; i++) {
            if (data[i] == '\n' || (data[i] == '\r' && (i + 1 >= len || data[i + 1] != '\n'))) {
                mark.line++;
                mark.column = 0;
            } else if (data[i] != '\r' && (data[i] & 0xC0) != 0x80) {
                mark.column++;
            }
        }
        /* libyaml gives the octet for UTF-8 errors, the character otherwise. */
        if (parser->problem_value != -1 && strstr(problem, "octet") != NULL)
            return fail_mark(l, mark, "YAML error: %s (byte 0x%02X)", problem,
                             (unsigned)parser->problem_value & 0xFFu);
        if (parser->problem_value != -1)
            return fail_mark(l, mark, "YAML error: %s (U+%04X)", problem,
                             (unsigned)parser->problem_value);
        return fail_mark(l, mark, "YAML error: %s", problem);
    default:
        if (parser->context != NULL)
            return fail_mark(l, mark, "YAML syntax error: %s (%s at line %zu, column %zu)", problem,
                             parser->context, parser->context_mark.line + 1,
                             parser->context_mark.column + 1);
        return fail_mark(l, mark, "YAML syntax error: %s", problem);
    }
}

int yamldoc_parse(const char *data, size_t len, const char *name, yamldoc **out, char *err, size_t errlen)
{
    int rc = -1;
    yaml_parser_t parser;
    bool parser_ready = false;
    const unsigned char *bytes = (const unsigned char *)(data != NULL ? data : "");
    loader *l = NULL;
    yamldoc *d = NULL;

    if (name == NULL)
        name = DEFAULT_NAME;
    if (out != NULL)
        *out = NULL;
    if (out == NULL || (data == NULL && len > 0)) {
        set_err(err, errlen, "%s: invalid arguments", name);
        goto cleanup;
    }
    if (len > (size_t)YAMLDOC_MAX_BYTES) {
        set_err(err, errlen, "%s: the document is %zu bytes; the limit is %d", name, len,
                YAMLDOC_MAX_BYTES);
        goto cleanup;
    }
    d = calloc(1, sizeof *d);
    l = calloc(1, sizeof *l);
    if (d == NULL || l == NULL || (d->name = arena_strndup(d, name, strlen(name))) == NULL) {
        set_err(err, errlen, "%s: out of memory", name);
        goto cleanup;
    }
    l->d = d;
    l->err = err;
    l->errlen = errlen;
    /* libyaml would convert UTF-16 silently, and report positions in a
     * text the user never saw; config files are UTF-8. */
    if (len >= 2 && ((bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF))) {
        set_err(err, errlen, "%s:1:1: the file is UTF-16; save it as UTF-8", name);
        goto cleanup;
    }
    /* A UTF-8 byte order mark is not part of the first line. */
    if (len >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) {
        bytes += 3;
        len -= 3;
    }
    if (!yaml_parser_initialize(&parser)) {
        fail_oom(l);
        goto cleanup;
    }
    parser_ready = true;
    yaml_parser_set_input_string(&parser, bytes, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    for (;;) {
        yaml_event_t ev;
        bool end;
        int r;

        if (!yaml_parser_parse(&parser, &ev)) {
            fail_parser(l, &parser, bytes, len);
            goto cleanup;
        }
        end = ev.type == YAML_STREAM_END_EVENT;
        r = on_event(l, &ev);
        yaml_event_delete(&ev);
        if (r != 0)
            goto cleanup;
        if (end)
            break;
    }
    *out = d;
    d = NULL;
    rc = 0;
cleanup:
    if (parser_ready)
        yaml_parser_delete(&parser);
    if (l != NULL)
        free(l->stack);
    free(l);
    yamldoc_free(d);
    return rc;
}

/* Reads at most YAMLDOC_MAX_BYTES of path into a malloc'd buffer. */
static int read_capped(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    int rc = -1, fd = -1;
    char *buf = NULL;
    size_t got = 0, cap = 0;
    char ebuf[128];

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        set_err(err, errlen, "%s: cannot read: %s", path, strerror_r(errno, ebuf, sizeof ebuf));
        goto cleanup;
    }
    /* One byte more than the cap tells "exactly at the cap" from "over it". */
    for (;;) {
        ssize_t n;

        if (got == cap) {
            size_t ncap = cap == 0 ? READ_CHUNK : cap * 2;
            char *nbuf;

            if (ncap > (size_t)YAMLDOC_MAX_BYTES + 1)
                ncap = (size_t)YAMLDOC_MAX_BYTES + 1;
            if (ncap == cap)
                break;
            nbuf = realloc(buf, ncap);
            if (nbuf == NULL) {
                set_err(err, errlen, "%s: out of memory", path);
                goto cleanup;
            }
            buf = nbuf;
            cap = ncap;
        }
        n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            set_err(err, errlen, "%s: cannot read: %s", path, strerror_r(errno, ebuf, sizeof ebuf));
            goto cleanup;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got > (size_t)YAMLDOC_MAX_BYTES) {
        set_err(err, errlen, "%s: the file is larger than the limit of %d bytes", path,
                YAMLDOC_MAX_BYTES);
        goto cleanup;
    }
    *data = buf;
    *len = got;
    buf = NULL;
    rc = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

int yamldoc_load(const char *path, yamldoc **out, char *err, size_t errlen)
{
    int rc = -1;
    char *data = NULL;
    size_t len = 0;

    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL) {
        set_err(err, errlen, "yamldoc_load: invalid arguments");
        goto cleanup;
    }
    if (read_capped(path, &data, &len, err, errlen) != 0)
        goto cleanup;
    rc = yamldoc_parse(data != NULL ? data : "", len, path, out, err, errlen);
cleanup:
    free(data);
    return rc;
}

/* ---- getters ------------------------------------------------------------ */

/* The message for a NULL node: there is no position to give. */
static int fail_missing(const yamldoc *d, const char *what, char *err, size_t errlen)
{
    return yamldoc_fail(d, NULL, err, errlen, "%s is missing", what != NULL ? what : "a value");
}

#define WHAT(w) ((w) != NULL ? (w) : "the value")

const yamldoc_node *yamldoc_get(const yamldoc_node *map, const char *key)
{
    size_t len;

    if (map == NULL || key == NULL || map->kind != YAMLDOC_MAP)
        return NULL;
    len = strlen(key);
    for (size_t i = 0; i < map->count; i++) {
        const yamldoc_node *k = map->keys[i];
        if (k->len == len && memcmp(k->text, key, len) == 0)
            return map->values[i];
    }
    return NULL;
}

/* Levenshtein distance, for "did you mean"; long keys are never close. */
static size_t edit_distance(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b), prev[EDIT_MAX + 1], cur[EDIT_MAX + 1];

    if (alen > EDIT_MAX || blen > EDIT_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= blen; j++)
        prev[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (blen + 1) * sizeof prev[0]);
    }
    return prev[blen];
}

int yamldoc_check_keys(const yamldoc *d, const yamldoc_node *map, const char *const *allowed, const char *what, char *err, size_t errlen)
{
    char q[YAMLDOC_QUOTE_BUFLEN];

    if (yamldoc_expect(d, map, YAMLDOC_MAP, what, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < map->count; i++) {
        const yamldoc_node *k = map->keys[i];
        const char *best = NULL;
        size_t best_d = 3;
        bool known = false;

        for (size_t j = 0; allowed != NULL && allowed[j] != NULL && !known; j++)
            known = text_is(k->text, k->len, allowed[j]);
        if (known)
            continue;
        /* Suggest only when close, and not the whole word away. */
        for (size_t j = 0; allowed != NULL && allowed[j] != NULL; j++) {
            size_t dist = edit_distance(k->text, k->len, allowed[j]);
            if (dist < best_d && dist < strlen(allowed[j])) {
                best_d = dist;
                best = allowed[j];
            }
        }
        yamldoc_quote(q, sizeof q, k->text, k->len);
        if (text_is(k->text, k->len, "<<"))
            return yamldoc_fail(d, k, err, errlen, "unknown key %s in %s (merge keys are YAML 1.1; "
                                "coldsec reads YAML 1.2: write the keys out)", q, WHAT(what));
        if (best != NULL)
            return yamldoc_fail(d, k, err, errlen, "unknown key %s in %s (did you mean '%s'?)", q,
                                WHAT(what), best);
        return yamldoc_fail(d, k, err, errlen, "unknown key %s in %s", q, WHAT(what));
    }
    return 0;
}

int yamldoc_expect(const yamldoc *d, const yamldoc_node *n, yamldoc_kind kind, const char *what, char *err, size_t errlen)
{
    static const char *const names[] = {"a scalar", "a mapping", "a sequence"};

    if (n == NULL)
        return fail_missing(d, what, err, errlen);
    if (n->kind == kind)
        return 0;
    return yamldoc_fail(d, n, err, errlen, "%s must be %s, not %s", WHAT(what),
                        (unsigned)kind < 3 ? names[kind] : "?", kind_name(n));
}

int yamldoc_string(const yamldoc *d, const yamldoc_node *n, const char *what, char **out, char *err, size_t errlen)
{
    char *s;

    if (n == NULL)
        return fail_missing(d, what, err, errlen);
    if (n->kind != YAMLDOC_SCALAR || (n->plain && core_null(n->text, n->len)))
        return yamldoc_fail(d, n, err, errlen, "%s must be a string, not %s", WHAT(what), kind_name(n));
    /* "\0" is legal YAML, but every consumer of these strings is C. */
    if (memchr(n->text, '\0', n->len) != NULL)
        return yamldoc_fail(d, n, err, errlen, "%s must not contain NUL characters", WHAT(what));
    s = malloc(n->len + 1);
    if (s == NULL)
        return yamldoc_fail(d, n, err, errlen, "out of memory");
    memcpy(s, n->text, n->len + 1);
    *out = s;
    return 0;
}

/* "an integer from 1 to 10", "an integer >= 0", ... */
static void long_range(char *buf, size_t len, long min, long max)
{
    if (min == LONG_MIN && max == LONG_MAX)
        snprintf(buf, len, "an integer");
    else if (max == LONG_MAX)
        snprintf(buf, len, "an integer >= %ld", min);
    else if (min == LONG_MIN)
        snprintf(buf, len, "an integer <= %ld", max);
    else
        snprintf(buf, len, "an integer from %ld to %ld", min, max);
}

int yamldoc_long(const yamldoc *d, const yamldoc_node *n, const char *what, long min, long max, long *out, char *err, size_t errlen)
{
    char range[96], q[YAMLDOC_QUOTE_BUFLEN];
    char *end = NULL;
    long v;

    if (n == NULL)
        return fail_missing(d, what, err, errlen);
    long_range(range, sizeof range, min, max);
    if (n->kind != YAMLDOC_SCALAR || (n->plain && n->len == 0))
        return yamldoc_fail(d, n, err, errlen, "%s must be %s, not %s", WHAT(what), range, kind_name(n));
    if (!strict_decimal(n->text, n->len))
        goto bad;
    /* Digits only, and text[len] is NUL: strtol sees exactly the text. */
    errno = 0;
    v = strtol(n->text, &end, 10);
    if (errno != 0 || end != n->text + n->len || v < min || v > max)
        goto bad;
    *out = v;
    return 0;
bad:
    return yamldoc_fail(d, n, err, errlen, "%s must be %s, got %s", WHAT(what), range,
                        yamldoc_quote(q, sizeof q, n->text, n->len));
}

static void double_range(char *buf, size_t len, double min, double max)
{
    bool low = min <= -DBL_MAX, high = max >= DBL_MAX;   /* infinities included */

    if (low && high)
        snprintf(buf, len, "a number");
    else if (high)
        snprintf(buf, len, "a number >= %g", min);
    else if (low)
        snprintf(buf, len, "a number <= %g", max);
    else
        snprintf(buf, len, "a number from %g to %g", min, max);
}

int yamldoc_double(const yamldoc *d, const yamldoc_node *n, const char *what, double min, double max, double *out, char *err, size_t errlen)
{
    char range[96], q[YAMLDOC_QUOTE_BUFLEN];
    char *end = NULL;
    double v;

    if (n == NULL)
        return fail_missing(d, what, err, errlen);
    double_range(range, sizeof range, min, max);
    if (n->kind != YAMLDOC_SCALAR || (n->plain && n->len == 0))
        return yamldoc_fail(d, n, err, errlen, "%s must be %s, not %s", WHAT(what), range, kind_name(n));
    /* An integer-looking text must be strict (010 is octal to YAML 1.1). */
    if (core_int(n->text, n->len) ? !strict_decimal(n->text, n->len)
                                   : !core_finite_float(n->text, n->len))
        goto bad;
    v = strtod(n->text, &end);
    if (end != n->text + n->len || !isfinite(v) || v < min || v > max)
        goto bad;
    *out = v;
    return 0;
bad:
    return yamldoc_fail(d, n, err, errlen, "%s must be %s, got %s", WHAT(what), range,
                        yamldoc_quote(q, sizeof q, n->text, n->len));
}

int yamldoc_bool(const yamldoc *d, const yamldoc_node *n, const char *what, bool *out, char *err, size_t errlen)
{
    char q[YAMLDOC_QUOTE_BUFLEN];

    if (n == NULL)
        return fail_missing(d, what, err, errlen);
    if (n->kind != YAMLDOC_SCALAR || (n->plain && n->len == 0))
        return yamldoc_fail(d, n, err, errlen, "%s must be true or false, not %s", WHAT(what),
                            kind_name(n));
    if (text_is(n->text, n->len, "true")) {
        *out = true;
        return 0;
    }
    if (text_is(n->text, n->len, "false")) {
        *out = false;
        return 0;
    }
    return yamldoc_fail(d, n, err, errlen, "%s must be true or false, got %s", WHAT(what),
                        yamldoc_quote(q, sizeof q, n->text, n->len));
}

/* ---- JSON --------------------------------------------------------------- */

typedef struct json_ctx {
    const yamldoc *d;
    char *err;
    size_t errlen;
    size_t nodes;
} json_ctx;

/* An integer in the core schema's forms, if a double holds it exactly. */
static int json_int(const json_ctx *c, const yamldoc_node *n, double *out)
{
    const char *s = n->text;
    char q[YAMLDOC_QUOTE_BUFLEN];
    char *end = NULL;
    size_t i = s[0] == '-' || s[0] == '+' ? 1 : 0;
    bool neg = s[0] == '-';
    unsigned long long v;

    yamldoc_quote(q, sizeof q, n->text, n->len);
    if (n->len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        errno = 0;
        v = strtoull(s + 2, &end, s[1] == 'o' ? 8 : 16);
    } else {
        if (s[i] == '0' && n->len - i > 1)
            return yamldoc_fail(c->d, n, c->err, c->errlen, "integer %s has a leading zero, which "
                                "YAML 1.1 reads as octal: drop the zero, or quote it for a string", q);
        errno = 0;
        v = strtoull(s + i, &end, 10);
    }
    if (errno != 0 || end != s + n->len || v > JSON_MAX_INT)
        return yamldoc_fail(c->d, n, c->err, c->errlen, "integer %s is too large to be a number here "
                            "(the limit is %llu): quote it for a string", q, JSON_MAX_INT);
    *out = neg && v != 0 ? -(double)v : (double)v;
    return 0;
}

static int json_float(const json_ctx *c, const yamldoc_node *n, double *out)
{
    char q[YAMLDOC_QUOTE_BUFLEN];
    char *end = NULL;
    double v;

    yamldoc_quote(q, sizeof q, n->text, n->len);
    if (core_special_float(n->text, n->len))
        return yamldoc_fail(c->d, n, c->err, c->errlen, "%s has no JSON form (JSON numbers are "
                            "finite): quote it for a string", q);
    v = strtod(n->text, &end);
    if (end != n->text + n->len || !isfinite(v))
        return yamldoc_fail(c->d, n, c->err, c->errlen, "number %s is out of range", q);
    *out = v;
    return 0;
}

static cJSON *json_scalar(const json_ctx *c, const yamldoc_node *n)
{
    cJSON *j = NULL;
    double v = 0;
    bool b = false;

    if (memchr(n->text, '\0', n->len) != NULL) {
        yamldoc_fail(c->d, n, c->err, c->errlen, "text with NUL characters has no JSON form here");
        return NULL;
    }
    switch (n->plain ? core_resolve(n->text, n->len) : CORE_STR) {
    case CORE_NULL:
        j = cJSON_CreateNull();
        break;
    case CORE_BOOL:
        core_bool(n->text, n->len, &b);
        j = cJSON_CreateBool(b);
        break;
    case CORE_INT:
        if (json_int(c, n, &v) != 0)
            return NULL;
        j = cJSON_CreateNumber(v);
        break;
    case CORE_FLOAT:
        if (json_float(c, n, &v) != 0)
            return NULL;
        j = cJSON_CreateNumber(v);
        break;
    default:
        j = cJSON_CreateString(n->text);
        break;
    }
    if (j == NULL)
        yamldoc_fail(c->d, n, c->err, c->errlen, "out of memory");
    return j;
}

static cJSON *json_node(json_ctx *c, const yamldoc_node *n, int depth)
{
    cJSON *j = NULL, *out = NULL;

    if (++c->nodes > YAMLDOC_MAX_JSON_NODES) {
        yamldoc_fail(c->d, n, c->err, c->errlen, "more than %d nodes once aliases are expanded",
                     YAMLDOC_MAX_JSON_NODES);
        goto cleanup;
    }
    if (n->kind == YAMLDOC_SCALAR)
        return json_scalar(c, n);
    /* Deeper than the loader allows can only come from aliases. */
    if (depth >= YAMLDOC_MAX_DEPTH) {
        yamldoc_fail(c->d, n, c->err, c->errlen, "nested more than %d levels deep once aliases "
                     "are expanded", YAMLDOC_MAX_DEPTH);
        goto cleanup;
    }
    j = n->kind == YAMLDOC_MAP ? cJSON_CreateObject() : cJSON_CreateArray();
    if (j == NULL) {
        yamldoc_fail(c->d, n, c->err, c->errlen, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n->count; i++) {
        cJSON *item = json_node(c, n->values[i], depth + 1);
        bool added;

        if (item == NULL)
            goto cleanup;
        if (n->kind == YAMLDOC_MAP) {
            const yamldoc_node *k = n->keys[i];
            if (memchr(k->text, '\0', k->len) != NULL) {
                cJSON_Delete(item);
                yamldoc_fail(c->d, k, c->err, c->errlen, "a key with NUL characters has no JSON form here");
                goto cleanup;
            }
            added = cJSON_AddItemToObject(j, k->text, item);
        } else {
            added = cJSON_AddItemToArray(j, item);
        }
        if (!added) {
            cJSON_Delete(item);
            yamldoc_fail(c->d, n, c->err, c->errlen, "out of memory");
            goto cleanup;
        }
    }
    out = j;
    j = NULL;
cleanup:
    cJSON_Delete(j);
    return out;
}

cJSON *yamldoc_to_json(const yamldoc *d, const yamldoc_node *n, char *err, size_t errlen)
{
    json_ctx c = {d, err, errlen, 0};

    if (n == NULL) {
        fail_missing(d, "the value to convert", err, errlen);
        return NULL;
    }
    return json_node(&c, n, 0);
}
