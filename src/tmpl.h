/*
 * tmpl — the payload template language of scenario files and baseline
 * events: text with {{NAME}} tokens that the scenario engine fills in for
 * each invocation.
 *
 *   {{canary.ID}}     a fresh random canary the scenario declares
 *   {{split:canary.ID}} the same canary cut in two quoted halves joined by
 *                     '+' (CSC1234'+'5678): code that runs the payload
 *                     assembles the canary, a text that only stores or
 *                     echoes it never holds it whole
 *   {{user.id}}       the sending user's identity: NAME-CANARY, fresh every run,
 *                     so that it is a canary of its own
 *   {{user.name}}     the user's name in the scenario ("alice")
 *   {{seq}}           the invocation's number within the scenario
 *   {{pad:N}}         N filler bytes; {{pad:$PARAM}} takes N from a parameter
 *   {{open}} {{close}} a literal "{{" or "}}"
 *
 * Checking and expanding share one tokenizer, so what loads is what runs: the
 * scenario parser rejects an unknown or malformed token at its file:line:column
 * before anything is invoked.
 *
 * Ownership: tokens point into the caller's text; tmpl_expand returns a
 * malloc'd string the caller frees. No state outside the arguments.
 */
#ifndef COLDSEC_TMPL_H
#define COLDSEC_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#define TMPL_MAX_PAD ((size_t)6 * 1024 * 1024)   /* Lambda's payload limit */
#define TMPL_MAX_OUTPUT ((size_t)8 * 1024 * 1024)

typedef enum { TMPL_CANARY, TMPL_CANARY_SPLIT, TMPL_USER_ID, TMPL_USER_NAME, TMPL_SEQ, TMPL_PAD, TMPL_OPEN, TMPL_CLOSE } tmpl_kind;

typedef struct tmpl_token {
    tmpl_kind kind;
    const char *arg;   /* CANARY, CANARY_SPLIT: the ID; PAD: the number or "$PARAM"; else NULL */
    size_t arglen;
    size_t offset;     /* of "{{" in the text */
} tmpl_token;

/* Called per token; returns 0, or -1 with why filled (e.g. an unknown canary). */
typedef int (*tmpl_token_fn)(void *ctx, const tmpl_token *t, char *why, size_t whylen);

/*
 * Walks the tokens of text. Returns 0, or -1 with *at = the byte offset of the
 * bad token and why = what is wrong ("unknown template {{cannary.x}}", an
 * unterminated "{{", what cb said).
 */
int tmpl_scan(const char *text, size_t len, tmpl_token_fn cb, void *ctx, size_t *at, char *why, size_t whylen);

/* Gives the text of one token (value need not be NUL-terminated; it must
 * stay valid until the next call). PAD is expanded by tmpl itself from the
 * count *pad_bytes the resolver sets (value ignored). */
typedef int (*tmpl_resolve_fn)(void *ctx, const tmpl_token *t, const char **value, size_t *vlen,
                               size_t *pad_bytes, char *why, size_t whylen);

/* Expands text; NULL with err on a resolver failure, TMPL_MAX_OUTPUT or OOM. */
char *tmpl_expand(const char *text, size_t len, tmpl_resolve_fn resolve, void *ctx, size_t *outlen, char *err,
                  size_t errlen);

/* Does text hold any token? Cheap test before expanding. */
bool tmpl_has_tokens(const char *text, size_t len);

#endif
