/*
 * libFuzzer target for tmpl: the payload templates of scenario files,
 * catalogs and baselines. The input is any text. Beyond surviving:
 *   - tmpl_scan (a checker that accepts everything) and tmpl_expand (a
 *     resolver giving fixed short values and small pads) agree: expand
 *     fails iff scan fails, with the same message, and both walk the same
 *     tokens (each token's "{{" at its offset, its argument inside the text);
 *     except that {{pad:$over}} is one byte more than TMPL_MAX_PAD, so
 *     expand also fails, with its own message, at such a pad (unless a
 *     malformed "{{" comes first);
 *   - the output cap: checked once per process (LLVMFuzzerInitialize) with
 *     {{pad:$huge}} = TMPL_MAX_PAD bytes, at and just past TMPL_MAX_OUTPUT,
 *     and against a malformed "{{" before or after the cap is reached (each
 *     such expansion costs tens of milliseconds under ASan: too slow to
 *     leave to the fuzzer);
 *   - the output equals what an independent reference expander (written
 *     here from tmpl.h, not from tmpl.c) makes of the text: every valid
 *     "{{...}}" replaced, "{{open}}" -> "{{", "{{close}}" -> "}}", the rest
 *     copied; so with no token at all the output is the input;
 *   - a failure reports the offset of a "{{" in the input (the first
 *     malformed one, as the reference finds it), and a message;
 *   - tmpl_has_tokens is true iff the input holds "{{";
 *   - a checker or resolver that refuses the k-th token makes scan and
 *     expand fail at that token with the checker's/resolver's message.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TOKENS 4096
#define WHY_LEN 512
#define REFUSED "refused by the fuzzer"

/* ---- reference tokenizer, from the rules in tmpl.h ---- */

typedef struct ref_tok {
    size_t offset, end;   /* "{{" .. one past "}}" */
    tmpl_kind kind;
    size_t arg, arglen;   /* offsets into the text (arg unused for kinds without one) */
} ref_tok;

static bool is_ident_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool all_ident(const char *s, size_t n)
{
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_ident_char((unsigned char)s[i]))
            return false;
    return true;
}

static bool all_digits(const char *s, size_t n)
{
    if (n < 1 || n > 8)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool eq(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static bool has_prefix(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    return n >= k && memcmp(s, lit, k) == 0;
}

/* The inside of the braces, at text+start, n bytes. */
static bool ref_classify(const char *text, size_t start, size_t n, ref_tok *t)
{
    const char *s = text + start;
    t->arg = 0;
    t->arglen = 0;
    if (eq(s, n, "seq"))
        t->kind = TMPL_SEQ;
    else if (eq(s, n, "open"))
        t->kind = TMPL_OPEN;
    else if (eq(s, n, "close"))
        t->kind = TMPL_CLOSE;
    else if (eq(s, n, "user.id"))
        t->kind = TMPL_USER_ID;
    else if (eq(s, n, "user.name"))
        t->kind = TMPL_USER_NAME;
    else if (has_prefix(s, n, "canary.") && all_ident(s + 7, n - 7)) {
        t->kind = TMPL_CANARY;
        t->arg = start + 7;
        t->arglen = n - 7;
    } else if (has_prefix(s, n, "split:canary.") && all_ident(s + 13, n - 13)) {
        t->kind = TMPL_CANARY_SPLIT;
        t->arg = start + 13;
        t->arglen = n - 13;
    } else if (has_prefix(s, n, "pad:$") && all_ident(s + 5, n - 5)) {
        t->kind = TMPL_PAD;   /* the argument keeps its '$' */
        t->arg = start + 4;
        t->arglen = n - 4;
    } else if (has_prefix(s, n, "pad:") && all_digits(s + 4, n - 4)) {
        t->kind = TMPL_PAD;
        t->arg = start + 4;
        t->arglen = n - 4;
    } else {
        return false;
    }
    return true;
}

/*
 * The tokens up to the first malformed "{{" (one with no "}}" within 80
 * bytes, or whose inside is not a token), or all; returns their count, with
 * *bad = the offset of that "{{", or SIZE_MAX when there is none. The "}}"
 * closing a token is the first one after the "{{".
 */
static size_t ref_tokens(const char *text, size_t len, ref_tok *out, size_t max, size_t *bad)
{
    size_t n = 0, i = 0;

    *bad = SIZE_MAX;
    while (i + 1 < len) {
        const char *open = memmem(text + i, len - i, "{{", 2);
        const char *close;
        size_t o, window;
        if (!open)
            break;
        o = (size_t)(open - text);
        /* "}}" may start at most 80 bytes after the inside begins. */
        window = len - (o + 2) < 81 ? len - (o + 2) : 81;
        close = memmem(text + o + 2, window, "}}", 2);
        if (!close || !ref_classify(text, o + 2, (size_t)(close - text) - (o + 2), &out[n])) {
            *bad = o;
            return n;
        }
        out[n].offset = o;
        out[n].end = (size_t)(close - text) + 2;
        i = out[n].end;
        if (++n == max)
            return n;   /* caller treats a full table as "too many to check" */
    }
    return n;
}

/* ---- the callbacks ---- */

typedef struct seen_tok {
    tmpl_kind kind;
    size_t offset;
    size_t arg, arglen;   /* arg as an offset into the text, or SIZE_MAX */
} seen_tok;

typedef struct cb_ctx {
    const char *text;
    size_t len;
    seen_tok toks[MAX_TOKENS];
    size_t n;
    size_t refuse_at;     /* refuse the call with this index (SIZE_MAX: none) */
    bool overflow;
} cb_ctx;

static void record(cb_ctx *c, const tmpl_token *t)
{
    seen_tok *s;
    if (t->offset + 1 >= c->len || c->text[t->offset] != '{' || c->text[t->offset + 1] != '{')
        abort();
    if (t->arg != NULL && (t->arg < c->text || t->arg + t->arglen > c->text + c->len))
        abort();
    if ((t->arg == NULL) != (t->kind != TMPL_CANARY && t->kind != TMPL_CANARY_SPLIT && t->kind != TMPL_PAD))
        abort();
    if (c->n == MAX_TOKENS) {
        c->overflow = true;
        return;
    }
    s = &c->toks[c->n++];
    s->kind = t->kind;
    s->offset = t->offset;
    s->arg = t->arg ? (size_t)(t->arg - c->text) : SIZE_MAX;
    s->arglen = t->arglen;
}

static int check_cb(void *ctx, const tmpl_token *t, char *why, size_t whylen)
{
    cb_ctx *c = ctx;
    size_t idx = c->n;
    record(c, t);
    if (idx == c->refuse_at) {
        snprintf(why, whylen, REFUSED);
        return -1;
    }
    return 0;
}

/* Set while LLVMFuzzerInitialize checks the output cap. */
static bool huge_on;

/* Pad bytes for a {{pad:...}} token (arg, arglen): N mod 23 for a literal;
 * for a parameter 5, except "$over" (one byte more than tmpl takes) and,
 * while huge_on, "$huge" (TMPL_MAX_PAD). */
static size_t pad_for(const char *arg, size_t arglen)
{
    unsigned long v = 0;
    if (arg[0] == '$') {
        if (huge_on && arglen == 5 && memcmp(arg, "$huge", 5) == 0)
            return TMPL_MAX_PAD;
        if (arglen == 5 && memcmp(arg, "$over", 5) == 0)
            return TMPL_MAX_PAD + 1;
        return 5;
    }
    for (size_t i = 0; i < arglen; i++)
        v = v * 10 + (unsigned long)(arg[i] - '0');
    return v % 23;
}

/* Fixed short values per kind; pads from pad_for. */
static int resolve_cb(void *ctx, const tmpl_token *t, const char **value, size_t *vlen, size_t *pad, char *why,
                      size_t whylen)
{
    cb_ctx *c = ctx;
    size_t idx = c->n;

    if (t->kind == TMPL_OPEN || t->kind == TMPL_CLOSE)
        abort();   /* tmpl handles these itself */
    record(c, t);
    if (idx == c->refuse_at) {
        snprintf(why, whylen, REFUSED);
        return -1;
    }
    switch (t->kind) {
    case TMPL_CANARY:
    case TMPL_CANARY_SPLIT:
        *value = "CAN";
        break;
    case TMPL_USER_ID:
        *value = "uid-7";
        break;
    case TMPL_USER_NAME:
        *value = "";   /* an empty value is legal */
        break;
    case TMPL_SEQ:
        *value = "42";
        break;
    case TMPL_PAD:
        *value = "ignored";
        *pad = pad_for(t->arg, t->arglen);
        break;
    default:
        abort();
    }
    *vlen = strlen(*value);
    return 0;
}

static size_t ref_pad(const char *text, const ref_tok *t)
{
    return pad_for(text + t->arg, t->arglen);
}

/* The length of the expansion of text[0, len) holding tokens toks[0, n), or
 * SIZE_MAX when tmpl must refuse it (a pad over TMPL_MAX_PAD, or more than
 * TMPL_MAX_OUTPUT in all). */
static size_t ref_length(const char *text, size_t len, const ref_tok *toks, size_t n)
{
    size_t total = len;
    for (size_t i = 0; i < n; i++) {
        total -= toks[i].end - toks[i].offset;
        if (toks[i].kind == TMPL_PAD) {
            size_t pad = ref_pad(text, &toks[i]);
            if (pad > TMPL_MAX_PAD)
                return SIZE_MAX;
            total += pad;
        } else {
            bool canary = toks[i].kind == TMPL_CANARY || toks[i].kind == TMPL_CANARY_SPLIT;
            total += canary ? 3 : toks[i].kind == TMPL_USER_ID ? 5
                   : toks[i].kind == TMPL_USER_NAME ? 0 : 2;
        }
    }
    return total > TMPL_MAX_OUTPUT ? SIZE_MAX : total;
}

/* The reference expansion of text (tokens already known to be valid). */
static char *ref_expand(const char *text, size_t len, const ref_tok *toks, size_t n, size_t *outlen)
{
    size_t cap = ref_length(text, len, toks, n) + 1, o = 0, last = 0;
    char *out;

    out = malloc(cap);
    if (!out)
        abort();
    for (size_t i = 0; i < n; i++) {
        const char *v = NULL;
        size_t pad = 0;
        memcpy(out + o, text + last, toks[i].offset - last);
        o += toks[i].offset - last;
        last = toks[i].end;
        switch (toks[i].kind) {
        case TMPL_OPEN: v = "{{"; break;
        case TMPL_CLOSE: v = "}}"; break;
        case TMPL_CANARY:
        case TMPL_CANARY_SPLIT: v = "CAN"; break;
        case TMPL_USER_ID: v = "uid-7"; break;
        case TMPL_USER_NAME: v = ""; break;
        case TMPL_SEQ: v = "42"; break;
        case TMPL_PAD: pad = ref_pad(text, &toks[i]); break;
        }
        if (v) {
            memcpy(out + o, v, strlen(v));
            o += strlen(v);
        } else {
            memset(out + o, 'x', pad);
            o += pad;
        }
    }
    memcpy(out + o, text + last, len - last);
    o += len - last;
    *outlen = o;
    return out;
}

static bool same_walk(const cb_ctx *c, const ref_tok *toks, size_t n, bool skip_literals)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const seen_tok *s;
        if (skip_literals && (toks[i].kind == TMPL_OPEN || toks[i].kind == TMPL_CLOSE))
            continue;
        if (k >= c->n)
            return false;
        s = &c->toks[k++];
        if (s->kind != toks[i].kind || s->offset != toks[i].offset)
            return false;
        if ((toks[i].kind == TMPL_CANARY || toks[i].kind == TMPL_CANARY_SPLIT || toks[i].kind == TMPL_PAD) &&
            (s->arg != toks[i].arg || s->arglen != toks[i].arglen))
            return false;
    }
    return k == c->n;
}

/* Expands text (len bytes); returns the output (or NULL) with err. */
static char *expand_for_init(const char *text, size_t len, size_t *outlen, char *err, size_t errlen)
{
    static cb_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.text = text;
    ctx.len = len;
    ctx.refuse_at = SIZE_MAX;
    err[0] = '\0';
    return tmpl_expand(text, len, resolve_cb, &ctx, outlen, err, errlen);
}

static bool cap_refused(const char *text, size_t len)
{
    char err[WHY_LEN];
    size_t outlen = 0;
    char *out = expand_for_init(text, len, &outlen, err, sizeof err);
    free(out);
    return out == NULL && strstr(err, "template expands beyond") == err;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char one[] = "a{{pad:$huge}}b";
    static const char two[] = "{{pad:$huge}}{{pad:$huge}}";
    static const char bad_before[] = "{{pad:$huge}}{{seq";
    static const char bad_after[] = "{{pad:$huge}}{{pad:$huge}}{{seq";
    /* Text filling the output to exactly TMPL_MAX_OUTPUT around one huge pad. */
    size_t fill = TMPL_MAX_OUTPUT - TMPL_MAX_PAD, outlen = 0, at = 0;
    char *text = malloc(fill + 16), *out, err[WHY_LEN], why[WHY_LEN];

    (void)argc;
    (void)argv;
    huge_on = true;
    out = expand_for_init(one, sizeof one - 1, &outlen, err, sizeof err);
    if (!out || outlen != TMPL_MAX_PAD + 2 || out[0] != 'a' || out[1] != 'x' || out[TMPL_MAX_PAD] != 'x' ||
        out[TMPL_MAX_PAD + 1] != 'b' || out[outlen] != '\0')
        abort();
    free(out);
    if (!cap_refused(two, sizeof two - 1) || !cap_refused(bad_after, sizeof bad_after - 1))
        abort();
    /* Under the cap, the malformed "{{" is what fails, as scan says. */
    out = expand_for_init(bad_before, sizeof bad_before - 1, &outlen, err, sizeof err);
    if (out || tmpl_scan(bad_before, sizeof bad_before - 1, NULL, NULL, &at, why, sizeof why) == 0 ||
        at != 13 || strcmp(err, why) != 0)
        abort();
    /* Exactly the cap is allowed; one byte more is not. */
    if (!text)
        abort();
    memset(text, 'y', fill);
    memcpy(text + fill, "{{pad:$huge}}", 13);
    out = expand_for_init(text, fill + 13, &outlen, err, sizeof err);
    if (!out || outlen != TMPL_MAX_OUTPUT)
        abort();
    free(out);
    text[fill + 13] = 'z';
    if (!cap_refused(text, fill + 14))
        abort();
    free(text);
    huge_on = false;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ref_tok toks[MAX_TOKENS];
    static cb_ctx scan_ctx, exp_ctx;
    const char *text = (const char *)data;
    char why[WHY_LEN], err[WHY_LEN];
    size_t at = SIZE_MAX, bad = SIZE_MAX, outlen = 0, reflen = 0;
    size_t nref, upto;
    int rs;
    char *out, *ref;

    if (size > 1 << 16)
        return 0;
    nref = ref_tokens(text, size, toks, MAX_TOKENS, &bad);
    if (nref == MAX_TOKENS)
        return 0;   /* too many to compare one by one (the fuzzer's max_len keeps this rare) */

    if (tmpl_has_tokens(text, size) != (memmem(text, size, "{{", 2) != NULL))
        abort();

    /* Scan, accepting everything. */
    memset(&scan_ctx, 0, sizeof scan_ctx);
    scan_ctx.text = text;
    scan_ctx.len = size;
    scan_ctx.refuse_at = SIZE_MAX;
    why[0] = '\0';
    rs = tmpl_scan(text, size, check_cb, &scan_ctx, &at, why, sizeof why);
    if ((rs != 0) != (bad != SIZE_MAX))
        abort();
    if (rs != 0) {
        /* The error is at the first malformed "{{", with a message. */
        if (at != bad || at + 1 >= size || text[at] != '{' || text[at + 1] != '{' || why[0] == '\0')
            abort();
        /* Only tokens before it were reported. */
        for (size_t i = 0; i < scan_ctx.n; i++)
            if (scan_ctx.toks[i].offset >= at)
                abort();
    }
    if (!same_walk(&scan_ctx, toks, nref, false)) {
        abort();
    }
    /* Without a checker, the same answer. */
    {
        size_t at2 = SIZE_MAX;
        char why2[WHY_LEN] = "";
        int r2 = tmpl_scan(text, size, NULL, NULL, &at2, why2, sizeof why2);
        if (r2 != rs || (rs != 0 && (at2 != at || strcmp(why, why2) != 0)))
            abort();
    }

    /* Expand. */
    memset(&exp_ctx, 0, sizeof exp_ctx);
    exp_ctx.text = text;
    exp_ctx.len = size;
    exp_ctx.refuse_at = SIZE_MAX;
    err[0] = '\0';
    out = tmpl_expand(text, size, resolve_cb, &exp_ctx, &outlen, err, sizeof err);
    /* What expand writes before it meets a malformed "{{": the text up to
     * the end of the last good token. Past a cap first, it says so. */
    upto = bad == SIZE_MAX ? size : nref > 0 ? toks[nref - 1].end : 0;
    if (ref_length(text, upto, toks, nref) == SIZE_MAX) {
        if (out != NULL || strstr(err, "template expands beyond") != err)
            abort();
        return 0;
    }
    if ((out == NULL) != (rs != 0))
        abort();
    if (out == NULL) {
        /* The same message as scan's, for the same "{{". */
        if (strcmp(err, why) != 0 || !same_walk(&exp_ctx, toks, nref, true))
            abort();
    } else {
        if (!same_walk(&exp_ctx, toks, nref, true))
            abort();
        ref = ref_expand(text, size, toks, nref, &reflen);
        if (outlen != reflen || memcmp(out, ref, reflen) != 0 || out[outlen] != '\0')
            abort();
        if (nref == 0 && (outlen != size || memcmp(out, text, size) != 0))
            abort();
        free(ref);
        free(out);
    }

    /* A refusal at token k (k from the input's length) stops at that token. */
    if (rs == 0 && nref > 0) {
        size_t k = size % nref, kr = 0;
        memset(&scan_ctx, 0, sizeof scan_ctx);
        scan_ctx.text = text;
        scan_ctx.len = size;
        scan_ctx.refuse_at = k;
        why[0] = '\0';
        if (tmpl_scan(text, size, check_cb, &scan_ctx, &at, why, sizeof why) == 0 || at != toks[k].offset ||
            strcmp(why, REFUSED) != 0 || scan_ctx.n != k + 1)
            abort();
        /* The resolver sees no {{open}}/{{close}}: refuse the k-th it sees, if any. */
        for (size_t i = 0; i < nref; i++)
            if (toks[i].kind != TMPL_OPEN && toks[i].kind != TMPL_CLOSE)
                kr++;
        if (kr > 0) {
            size_t want = k % kr, seen = 0, off = SIZE_MAX;
            for (size_t i = 0; i < nref; i++) {
                if (toks[i].kind == TMPL_OPEN || toks[i].kind == TMPL_CLOSE)
                    continue;
                if (seen++ == want) {
                    off = toks[i].offset;
                    break;
                }
            }
            memset(&exp_ctx, 0, sizeof exp_ctx);
            exp_ctx.text = text;
            exp_ctx.len = size;
            exp_ctx.refuse_at = want;
            err[0] = '\0';
            out = tmpl_expand(text, size, resolve_cb, &exp_ctx, &outlen, err, sizeof err);
            if (out != NULL || strcmp(err, REFUSED) != 0 || exp_ctx.n != want + 1 ||
                exp_ctx.toks[want].offset != off)
                abort();
        }
    }
    return 0;
}
