/*
 * yamldoc — coldsec's YAML loader for its own configuration files: the
 * suite a user runs (scenarios.yaml) and the scenario files in scenarios/.
 *
 * libyaml reads the text; yamldoc turns it into an immutable tree in which
 * every node carries its 1-based line and column, and offers typed getters
 * whose errors read "FILE:LINE:COLUMN: message", the form in which the
 * engine reports every configuration error. Config readers walk the tree
 * with yamldoc_get/yamldoc_check_keys and the getters; payload templates
 * and other free-form values can be taken whole with yamldoc_to_json.
 *
 * What the loader refuses, each with the position of the offending node:
 * YAML syntax errors, text that is not UTF-8, a second document, duplicate
 * keys in a mapping (compared as text: 1 and "1" collide, as they would
 * in JSON), keys that are not scalars, aliases to no earlier
 * anchor, tags other than the standard ones (!, !!str, !!int, !!float,
 * !!bool, !!null, !!map, !!seq), nesting deeper than YAMLDOC_MAX_DEPTH,
 * more than YAMLDOC_MAX_ANCHORS anchors or YAMLDOC_MAX_NODES nodes, and
 * files over YAMLDOC_MAX_BYTES. Those bounds are checked on each libyaml
 * event before anything is built for it, so hostile input costs time and
 * memory linear in its size. This is YAML 1.2: a `<<` merge key (YAML
 * 1.1) is an ordinary key, which yamldoc_check_keys reports as such.
 *
 * Aliases share their anchor's node: the tree is a graph in which a node
 * may have several parents, and a recursive alias (`&a [*a]`) makes a
 * cycle. A walk that follows the schema of a config file never notices
 * (a cycle can only ever be met as a node of the wrong kind); a generic
 * walk must bound its depth, as yamldoc_to_json does. The position of a
 * node reached through an alias is the anchor's.
 *
 * Ownership: yamldoc_load()/yamldoc_parse() return a yamldoc the caller
 * frees with yamldoc_free(); it owns every node and string reachable from
 * it, which stay valid and unchanged until then. yamldoc_string() returns
 * a malloc'd copy and yamldoc_to_json() a cJSON tree, both the caller's.
 *
 * Thread-safety: no globals. A loaded yamldoc is never written again, so
 * any number of threads may read one at a time; err buffers are the
 * caller's.
 */
#ifndef COLDSEC_YAMLDOC_H
#define COLDSEC_YAMLDOC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { YAMLDOC_SCALAR, YAMLDOC_MAP, YAMLDOC_SEQ } yamldoc_kind;

typedef struct yamldoc_node yamldoc_node;
struct yamldoc_node {
    yamldoc_kind kind;
    int line, column;              /* 1-based; column counts characters */
    /* SCALAR */
    const char *text;              /* NUL-terminated (may contain NULs: use len) */
    size_t len;
    bool plain;                    /* plain style (not quoted, not block literal) */
    /* MAP: count pairs keys[i] -> values[i]; SEQ: count items in values[] */
    size_t count;
    const yamldoc_node *const *keys;   /* MAP only; keys are scalars */
    const yamldoc_node *const *values;
};

typedef struct yamldoc yamldoc;    /* owns all nodes and strings */

/* Bounds on what a document may hold (see the top of this file). */
#define YAMLDOC_MAX_BYTES (4 * 1024 * 1024)
#define YAMLDOC_MAX_DEPTH 64          /* nested mappings and sequences */
#define YAMLDOC_MAX_ANCHORS 256       /* anchor definitions in a document */
#define YAMLDOC_MAX_NODES 1000000     /* nodes built (an alias builds none) */
#define YAMLDOC_MAX_JSON_NODES 100000 /* nodes yamldoc_to_json emits, aliases expanded */
/* yamldoc_quote repeats at most this many bytes of a user's text... */
#define YAMLDOC_QUOTE_MAX 48
/* ...and never needs a buffer larger than this. */
#define YAMLDOC_QUOTE_BUFLEN (YAMLDOC_QUOTE_MAX * 4 + 8)

/*
 * Reads path (at most YAMLDOC_MAX_BYTES) and parses it with path as the
 * name in messages. On failure returns -1, *out is NULL and err holds
 * "FILE: cannot read: strerror", "FILE:LINE:COLUMN: message" or, when no
 * position applies, "FILE: message".
 */
int yamldoc_load(const char *path, yamldoc **out, char *err, size_t errlen);
/* The same for data[0..len) (which need not be NUL-terminated); name is
 * used in messages and copied ("<yaml>" when NULL). */
int yamldoc_parse(const char *data, size_t len, const char *name, yamldoc **out, char *err, size_t errlen);
/* Frees d and every node and string in it; NULL is a no-op. */
void yamldoc_free(yamldoc *d);
const char *yamldoc_name(const yamldoc *d);
/* NULL for an empty document (nothing but comments and blank lines). A
 * document of just "---" has an empty plain scalar as its root. */
const yamldoc_node *yamldoc_root(const yamldoc *d);

/*
 * Every function below returns 0, or -1 with err = "NAME:LINE:COLUMN: ..."
 * about node n (NAME being yamldoc_name(d)); err is left alone on success.
 * what names the value in messages ("timeout_s", "each step"). Passing a
 * NULL node is an error whose message has no position: report a missing
 * key with yamldoc_fail on its mapping instead.
 */
int yamldoc_fail(const yamldoc *d, const yamldoc_node *n, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 5, 6)));  /* always returns -1 */
/* The value under key, compared byte for byte; NULL if absent or map is
 * not a MAP. */
const yamldoc_node *yamldoc_get(const yamldoc_node *map, const char *key);
/* Unknown keys are errors ("unknown key 'sevrity' in scenario (did you mean 'severity'?)"); what names the mapping.
 * allowed is NULL-terminated; map must be a MAP ("scenario must be a mapping, not ..."). */
int yamldoc_check_keys(const yamldoc *d, const yamldoc_node *map, const char *const *allowed, const char *what, char *err, size_t errlen);
int yamldoc_expect(const yamldoc *d, const yamldoc_node *n, yamldoc_kind kind, const char *what, char *err, size_t errlen);  /* "X must be a mapping, not a sequence" */
/* Any scalar but a plain null (empty, ~, null, Null, NULL) and one holding
 * NUL characters; *out is a malloc'd, NUL-terminated copy. */
int yamldoc_string(const yamldoc *d, const yamldoc_node *n, const char *what, char **out, char *err, size_t errlen);
/* Strict decimal in [min, max]: optional '-', digits, no leading zeros
 * (YAML 1.1 reads 010 as octal), no '+', '_', spaces or exponents. Quoted
 * numbers are accepted: the getter knows the type wanted. */
int yamldoc_long(const yamldoc *d, const yamldoc_node *n, const char *what, long min, long max, long *out, char *err, size_t errlen);
/* A YAML 1.2 core float or a strict decimal integer, finite, in [min, max]. */
int yamldoc_double(const yamldoc *d, const yamldoc_node *n, const char *what, double min, double max, double *out, char *err, size_t errlen);
int yamldoc_bool(const yamldoc *d, const yamldoc_node *n, const char *what, bool *out, char *err, size_t errlen); /* true/false only */
/*
 * The subtree as JSON: plain scalars typed by the YAML 1.2 core schema
 * (null, ~, empty → null; true/false; ints; floats incl. .inf/.nan →
 * error), quoted/block scalars are strings; map keys become strings.
 * Refused, as errors at the node: integers with leading zeros (012: YAML
 * 1.1 and 1.2 disagree on them) or beyond ±999999999999999 (15 digits:
 * cJSON would print larger ones rounded), floats that overflow, text with
 * NUL characters. NULL with err on limits (depth YAMLDOC_MAX_DEPTH,
 * YAMLDOC_MAX_JSON_NODES nodes after alias expansion) or out of memory;
 * every message has a position. The tree is the caller's (cJSON_Delete).
 */
cJSON *yamldoc_to_json(const yamldoc *d, const yamldoc_node *n, char *err, size_t errlen);
/*
 * A user's text made safe to quote in a message: escaped, cut at 48 bytes,
 * in quotes. Single quotes around it; \\ and \' escaped; control bytes,
 * bytes that are not UTF-8, C1 controls and bidirectional overrides as
 * \xNN or \uNNNN; "..." after the quotes when cut. Returns buf, always
 * NUL-terminated (cut to fit buflen), or "" when buflen is 0;
 * YAMLDOC_QUOTE_BUFLEN is always enough.
 */
const char *yamldoc_quote(char *buf, size_t buflen, const char *text, size_t len);

#endif
