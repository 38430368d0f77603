/*
 * tmpl — tokenizer and expander for {{...}} payload templates (see tmpl.h).
 * Tokens are matched exactly: no whitespace inside the braces, no nesting,
 * no filters. A narrow language keeps a payload's meaning obvious from the
 * scenario file and leaves nothing to evaluate at run time.
 */
#include "tmpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAD_BYTE 'x'

static bool starts(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

static bool ident_ok(const char *s, size_t len, size_t first)
{
    if (len <= first || len - first > 64)
        return false;
    for (size_t i = first; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Classifies the inside of "{{...}}". */
static int classify(const char *in, size_t len, tmpl_token *t)
{
    t->arg = NULL;
    t->arglen = 0;
    if (len == 3 && memcmp(in, "seq", 3) == 0) {
        t->kind = TMPL_SEQ;
    } else if (len == 4 && memcmp(in, "open", 4) == 0) {
        t->kind = TMPL_OPEN;
    } else if (len == 5 && memcmp(in, "close", 5) == 0) {
        t->kind = TMPL_CLOSE;
    } else if (len == 7 && memcmp(in, "user.id", 7) == 0) {
        t->kind = TMPL_USER_ID;
    } else if (len == 9 && memcmp(in, "user.name", 9) == 0) {
        t->kind = TMPL_USER_NAME;
    } else if (starts(in, len, "canary.") && ident_ok(in, len, 7)) {
        t->kind = TMPL_CANARY;
        t->arg = in + 7;
        t->arglen = len - 7;
    } else if (starts(in, len, "split:canary.") && ident_ok(in, len, 13)) {
        t->kind = TMPL_CANARY_SPLIT;
        t->arg = in + 13;
        t->arglen = len - 13;
    } else if (starts(in, len, "pad:$") && ident_ok(in, len, 5)) {
        t->kind = TMPL_PAD;
        t->arg = in + 4;
        t->arglen = len - 4;
    } else if (starts(in, len, "pad:") && len > 4 && len <= 12) {
        for (size_t i = 4; i < len; i++)
            if (in[i] < '0' || in[i] > '9')
                return -1;
        t->kind = TMPL_PAD;
        t->arg = in + 4;
        t->arglen = len - 4;
    } else {
        return -1;
    }
    return 0;
}

/* Finds the next token at or after *pos; 1 found, 0 none, -1 malformed. */
static int next_token(const char *text, size_t len, size_t *pos, tmpl_token *t, size_t *end)
{
    const char *open = NULL;
    size_t i = *pos;

    while (i + 1 < len) {
        if (text[i] == '{' && text[i + 1] == '{') {
            open = text + i;
            break;
        }
        i++;
    }
    if (!open)
        return 0;
    t->offset = i;
    for (size_t j = i + 2; j + 1 < len && j < i + 2 + 80; j++) {
        if (text[j] == '}' && text[j + 1] == '}') {
            *end = j + 2;
            *pos = j + 2;
            return classify(text + i + 2, j - i - 2, t) == 0 ? 1 : -1;
        }
    }
    return -1;
}

static void describe_bad(const char *text, size_t len, size_t at, char *why, size_t whylen)
{
    size_t n = len - at < 40 ? len - at : 40;
    char shown[48];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof(shown); i++)
        shown[k++] = (text[at + i] >= 0x20 && text[at + i] < 0x7f) ? text[at + i] : '?';
    shown[k] = '\0';
    snprintf(why, whylen,
             "bad template \"%s\" (expected {{canary.ID}}, {{split:canary.ID}}, {{user.id}}, {{user.name}}, "
             "{{seq}}, {{pad:N}}, {{pad:$PARAM}}, {{open}} or {{close}})",
             shown);
}

int tmpl_scan(const char *text, size_t len, tmpl_token_fn cb, void *ctx, size_t *at, char *why, size_t whylen)
{
    size_t pos = 0, end = 0;
    tmpl_token t;
    int r;

    while ((r = next_token(text, len, &pos, &t, &end)) == 1) {
        if (cb && cb(ctx, &t, why, whylen) != 0) {
            *at = t.offset;
            return -1;
        }
    }
    if (r < 0) {
        *at = t.offset;
        describe_bad(text, len, t.offset, why, whylen);
        return -1;
    }
    return 0;
}

bool tmpl_has_tokens(const char *text, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (text[i] == '{' && text[i + 1] == '{')
            return true;
    return false;
}

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static int buf_reserve(buf *b, size_t more)
{
    size_t need, cap;
    char *p;
    if (more > TMPL_MAX_OUTPUT || b->len + more > TMPL_MAX_OUTPUT)
        return -1;
    need = b->len + more + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static int buf_add(buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

char *tmpl_expand(const char *text, size_t len, tmpl_resolve_fn resolve, void *ctx, size_t *outlen, char *err,
                  size_t errlen)
{
    buf b = {NULL, 0, 0};
    size_t pos = 0, last = 0, end = 0;
    tmpl_token t;
    int r;

    if (buf_add(&b, "", 0) != 0)
        goto oom;
    while ((r = next_token(text, len, &pos, &t, &end)) == 1) {
        const char *value = NULL;
        size_t vlen = 0, pad = 0;
        char why[256] = "";
        if (buf_add(&b, text + last, t.offset - last) != 0)
            goto oom;
        last = end;
        if (t.kind == TMPL_OPEN || t.kind == TMPL_CLOSE) {
            if (buf_add(&b, t.kind == TMPL_OPEN ? "{{" : "}}", 2) != 0)
                goto oom;
            continue;
        }
        if (resolve(ctx, &t, &value, &vlen, &pad, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s", why[0] ? why : "template could not be filled in");
            goto fail;
        }
        if (t.kind == TMPL_PAD) {
            if (pad > TMPL_MAX_PAD || buf_reserve(&b, pad) != 0)
                goto oom;
            memset(b.data + b.len, PAD_BYTE, pad);
            b.len += pad;
            b.data[b.len] = '\0';
        } else if (buf_add(&b, value, vlen) != 0) {
            goto oom;
        }
    }
    if (r < 0) {
        describe_bad(text, len, t.offset, err, errlen);
        goto fail;
    }
    if (buf_add(&b, text + last, len - last) != 0)
        goto oom;
    *outlen = b.len;
    return b.data;
oom:
    snprintf(err, errlen, "template expands beyond %zu bytes or out of memory", TMPL_MAX_OUTPUT);
fail:
    free(b.data);
    return NULL;
}
