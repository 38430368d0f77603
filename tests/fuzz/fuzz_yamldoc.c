/*
 * libFuzzer target for yamldoc_parse(): every coldsec config file goes
 * through it. Beyond surviving, a parse must yield a tree whose invariants
 * hold — positions >= 1 and inside the input, counts and arrays consistent
 * with the kind, scalars NUL-terminated, keys scalars and unique, the
 * getters' errors positioned — and yamldoc_to_json of the root must either
 * succeed with JSON that prints and parses back, or fail with a message
 * "fuzz.yaml:LINE:COLUMN: ...". Failed parses must name the file.
 *
 * Aliases share nodes and recursive ones make cycles, so the walk visits
 * each node once through a set of pointers, not once per path.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamldoc.h"

#define NAME "fuzz.yaml"
#define ERR_LEN 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef const yamldoc_node *node_ref;

/* Open-addressing set of node pointers (size is a power of two). */
typedef struct seen_set {
    node_ref *slots;
    size_t size, used;
} seen_set;

static bool seen_add(seen_set *s, const yamldoc_node *n)
{
    size_t i;

    if ((s->used + 1) * 2 > s->size) {
        seen_set g = {calloc(s->size * 2, sizeof(node_ref)), s->size * 2, 0};
        if (g.slots == NULL)
            abort();
        for (size_t k = 0; k < s->size; k++) {
            if (s->slots[k] != NULL)
                seen_add(&g, s->slots[k]);
        }
        free(s->slots);
        *s = g;
    }
    i = ((uintptr_t)n >> 4) * 0x9E3779B97F4A7C15u & (s->size - 1);
    while (s->slots[i] != NULL) {
        if (s->slots[i] == n)
            return false;
        i = (i + 1) & (s->size - 1);
    }
    s->slots[i] = n;
    s->used++;
    return true;
}

/* "fuzz.yaml:L:C: message" with L, C >= 1. */
static bool positioned(const char *err)
{
    int line = 0, col = 0, end = 0;

    if (sscanf(err, NAME ":%d:%d: %n", &line, &col, &end) != 2 || end == 0)
        return false;
    return line >= 1 && col >= 1 && err[end] != '\0';
}

/* Lines in the input, for the upper bound on positions (+1: a mark may sit
 * just past a last line without a newline, or on an empty last line). */
static int count_lines(const uint8_t *data, size_t size)
{
    int lines = 1;

    for (size_t i = 0; i < size; i++) {
        if (data[i] == '\n' || (data[i] == '\r' && (i + 1 >= size || data[i + 1] != '\n')))
            lines++;
    }
    return lines + 1;
}

/* The getters either succeed or fail with a positioned message. */
static void try_getters(const yamldoc *d, const yamldoc_node *n)
{
    char err[ERR_LEN], q[YAMLDOC_QUOTE_BUFLEN];
    char *s = NULL;
    long lv;
    double dv;
    bool bv;
    static const char *const allowed[] = {"name", "steps", "severity", NULL};

    if (yamldoc_string(d, n, "v", &s, err, sizeof err) == 0) {
        if (n->kind != YAMLDOC_SCALAR || strlen(s) != n->len || memcmp(s, n->text, n->len) != 0)
            abort();
        free(s);
    } else if (!positioned(err)) {
        abort();
    }
    if (yamldoc_long(d, n, "v", -1000, 1000, &lv, err, sizeof err) == 0) {
        if (lv < -1000 || lv > 1000)
            abort();
    } else if (!positioned(err)) {
        abort();
    }
    if (yamldoc_double(d, n, "v", 0.0, 1.0, &dv, err, sizeof err) == 0) {
        if (!(dv >= 0.0 && dv <= 1.0))
            abort();
    } else if (!positioned(err)) {
        abort();
    }
    if (yamldoc_bool(d, n, "v", &bv, err, sizeof err) != 0 && !positioned(err))
        abort();
    if (yamldoc_expect(d, n, YAMLDOC_MAP, "v", err, sizeof err) != 0 &&
        (n->kind == YAMLDOC_MAP || !positioned(err)))
        abort();
    if (yamldoc_check_keys(d, n, allowed, "v", err, sizeof err) != 0 && !positioned(err))
        abort();
    if (n->kind == YAMLDOC_SCALAR) {
        yamldoc_quote(q, sizeof q, n->text, n->len);
        if (q[0] != '\'' || strlen(q) >= sizeof q)
            abort();
    }
}

static void check_node(const yamldoc *d, const yamldoc_node *n, int max_line)
{
    if (n == NULL || n->line < 1 || n->column < 1 || n->line > max_line)
        abort();
    switch (n->kind) {
    case YAMLDOC_SCALAR:
        if (n->text == NULL || n->text[n->len] != '\0' || n->count != 0 || n->keys != NULL ||
            n->values != NULL)
            abort();
        break;
    case YAMLDOC_MAP:
        if (n->count > 0 && (n->keys == NULL || n->values == NULL))
            abort();
        for (size_t i = 0; i < n->count; i++) {
            const yamldoc_node *k = n->keys[i];
            if (k == NULL || k->kind != YAMLDOC_SCALAR || n->values[i] == NULL)
                abort();
            /* Keys are unique, so lookup finds this very pair. */
            if (memchr(k->text, '\0', k->len) == NULL && yamldoc_get(n, k->text) != n->values[i])
                abort();
            for (size_t j = 0; j < i && n->count <= 64; j++) {
                if (n->keys[j]->len == k->len && memcmp(n->keys[j]->text, k->text, k->len) == 0)
                    abort();
            }
        }
        break;
    case YAMLDOC_SEQ:
        if (n->keys != NULL || (n->count > 0 && n->values == NULL))
            abort();
        for (size_t i = 0; i < n->count; i++) {
            if (n->values[i] == NULL)
                abort();
        }
        if (yamldoc_get(n, "a") != NULL)
            abort();
        break;
    default:
        abort();
    }
    try_getters(d, n);
}

/* Depth-first over the graph, each node once. */
static void walk(const yamldoc *d, const yamldoc_node *root, int max_line)
{
    seen_set seen = {calloc(64, sizeof(node_ref)), 64, 0};
    node_ref *stack = NULL;
    size_t top = 0, cap = 0;

    if (seen.slots == NULL)
        abort();
    seen_add(&seen, root);
    check_node(d, root, max_line);
    for (;;) {
        const yamldoc_node *n;

        if (root != NULL) {
            n = root;
            root = NULL;
        } else if (top > 0) {
            n = stack[--top];
        } else {
            break;
        }
        for (size_t i = 0; i < n->count * (n->kind == YAMLDOC_MAP ? 2 : 1); i++) {
            const yamldoc_node *c = n->kind == YAMLDOC_MAP ? (i % 2 ? n->values : n->keys)[i / 2]
                                                           : n->values[i];
            if (!seen_add(&seen, c))
                continue;
            check_node(d, c, max_line);
            if (top == cap) {
                cap = cap ? cap * 2 : 64;
                stack = realloc(stack, cap * sizeof(node_ref));
                if (stack == NULL)
                    abort();
            }
            stack[top++] = c;
        }
    }
    free(stack);
    free(seen.slots);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    yamldoc *d = NULL;
    const yamldoc_node *root;
    char err[ERR_LEN];
    cJSON *j;

    err[0] = '\0';
    if (yamldoc_parse((const char *)data, size, NAME, &d, err, sizeof err) != 0) {
        if (d != NULL || strncmp(err, NAME ":", sizeof NAME) != 0)
            abort();
        return 0;
    }
    if (d == NULL || strcmp(yamldoc_name(d), NAME) != 0)
        abort();
    root = yamldoc_root(d);
    if (root != NULL) {
        walk(d, root, count_lines(data, size));
        j = yamldoc_to_json(d, root, err, sizeof err);
        if (j != NULL) {
            char *text = cJSON_PrintUnformatted(j);
            cJSON *back = text != NULL ? cJSON_Parse(text) : NULL;
            if (back == NULL)
                abort();
            cJSON_Delete(back);
            free(text);
            cJSON_Delete(j);
        } else if (!positioned(err)) {
            abort();
        }
    }
    yamldoc_free(d);
    return 0;
}
