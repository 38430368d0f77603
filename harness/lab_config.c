/*
 * lab_config — reads coldsec-lab's YAML configuration into the plain structs
 * of lab_config.h.
 *
 * Two passes over the text, both with libyaml. The event parser goes first:
 * it reports syntax errors and stops inputs that libyaml's document loader
 * would take quadratic time on (flow collections nested thousands deep, tens
 * of thousands of anchors), before the loader ever sees them. The document
 * loader then builds a tree whose nodes carry line and column, and a
 * fixed-depth schema walk (top mapping → functions → function → environment)
 * turns it into structs. Because the walk never recurses generically,
 * aliases are simply followed: a recursive alias can only ever be met as a
 * node of the wrong type, and nothing is expanded.
 *
 * Every check that fails stops the parse with one message
 * "NAME:LINE:COLUMN: what is wrong" (1-based) on the node to fix; a partial
 * config is never handed out.
 */
#include "lab_config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#define LC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* Caps on what a config may hold beyond those in the header. */
#define MAX_DEPTH 16          /* the schema needs 4 levels; deeper is not a lab config */
#define MAX_ANCHORS 256       /* libyaml looks anchors up linearly */
#define MAX_CREDENTIALS 64
#define MAX_NAME_LEN 64       /* Lambda function names */
#define MAX_HANDLER_LEN 128   /* Lambda: Handler */
#define MAX_DESCRIPTION_LEN 256 /* Lambda: Description, in characters */
#define MAX_REGION_LEN 32
#define MAX_KEY_ID_LEN 128    /* IAM: access key ids */
#define MAX_SECRET_LEN 128
#define QUOTE_MAX 48          /* bytes of a user's text an error message repeats */

#define DEFAULT_REGION "us-east-1"
#define DEFAULT_ACCOUNT_ID "000000000000"

/* Everything the schema walk needs; passed down instead of any global. */
typedef struct cfg_ctx {
    yaml_document_t *doc;
    const char *name;      /* file name for messages */
    const char *base_dir;  /* absolute */
    bool check_code_dirs;
    char *err;
    size_t errlen;
} cfg_ctx;

/* A user's text made safe to print: quoted, escaped, cut at QUOTE_MAX. */
typedef struct quoted {
    char text[QUOTE_MAX * 4 + 8];
} quoted;

/* ---- error reporting ------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...) LC_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int vfail_mark(const cfg_ctx *c, yaml_mark_t mark, const char *fmt, va_list ap)
    LC_PRINTF(3, 0);
static int vfail_mark(const cfg_ctx *c, yaml_mark_t mark, const char *fmt, va_list ap)
{
    int n;

    if (c->err == NULL || c->errlen == 0)
        return -1;
    n = snprintf(c->err, c->errlen, "%s:%zu:%zu: ", c->name, mark.line + 1, mark.column + 1);
    if (n >= 0 && (size_t)n < c->errlen)
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    return -1;
}

/* Writes the error at a position; always returns -1 so callers can `return`. */
static int fail_mark(const cfg_ctx *c, yaml_mark_t mark, const char *fmt, ...) LC_PRINTF(3, 4);
static int fail_mark(const cfg_ctx *c, yaml_mark_t mark, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail_mark(c, mark, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail_at(const cfg_ctx *c, const yaml_node_t *node, const char *fmt, ...) LC_PRINTF(3, 4);
static int fail_at(const cfg_ctx *c, const yaml_node_t *node, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail_mark(c, node->start_mark, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail_oom(const cfg_ctx *c)
{
    set_err(c->err, c->errlen, "%s: out of memory", c->name);
    return -1;
}

static const char *quote(quoted *q, const void *text, size_t len)
{
    const unsigned char *p = text;
    size_t cut = len, o = 0;

    if (len > QUOTE_MAX) {
        /* Never cut a UTF-8 sequence in half. */
        cut = QUOTE_MAX;
        while (cut > 0 && (p[cut] & 0xC0) == 0x80)
            cut--;
    }
    q->text[o++] = '"';
    for (size_t i = 0; i < cut; i++) {
        unsigned char ch = p[i];
        if (ch == '"' || ch == '\\') {
            q->text[o++] = '\\';
            q->text[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7F) {
            snprintf(q->text + o, 5, "\\x%02x", ch);
            o += 4;
        } else {
            q->text[o++] = (char)ch;
        }
    }
    q->text[o++] = '"';
    if (cut < len) {
        memcpy(q->text + o, "...", 3);
        o += 3;
    }
    q->text[o] = '\0';
    return q->text;
}

/* Turns a libyaml failure into "NAME:LINE:COLUMN: problem". */
static int fail_parser(const cfg_ctx *c, const yaml_parser_t *parser,
                       const unsigned char *data, size_t len)
{
    const char *problem = parser->problem ? parser->problem : "unknown error";
    yaml_mark_t mark = parser->problem_mark;

    switch (parser->error) {
    case YAML_MEMORY_ERROR:
        return fail_oom(c);
    case YAML_READER_ERROR:
        /* The reader gives a byte offset, not a mark: count lines ourselves. */
        mark.line = 0;
        mark.column = 0;
        for (size_t i = 0; i < parser->problem_offset && i < len; i++) {
            if (data[i] == '\n') {
                mark.line++;
                mark.column = 0;
            } else {
                mark.column++;
            }
        }
        if (parser->problem_value != -1)
            return fail_mark(c, mark, "YAML error: %s (byte 0x%02X)", problem,
                             (unsigned)parser->problem_value);
        return fail_mark(c, mark, "YAML error: %s", problem);
    default:
        if (parser->context != NULL)
            return fail_mark(c, mark, "YAML syntax error: %s (%s at line %zu, column %zu)",
                             problem, parser->context, parser->context_mark.line + 1,
                             parser->context_mark.column + 1);
        return fail_mark(c, mark, "YAML syntax error: %s", problem);
    }
}

/* ---- node helpers ---------------------------------------------------- */

static const char *kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        if (n->data.scalar.length == 0 && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            return "an empty value";
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

/* Node ids come from libyaml's own loader; a bad one means a libyaml bug,
 * reported rather than dereferenced. */
static const yaml_node_t *node_get(const cfg_ctx *c, int id)
{
    const yaml_node_t *n = yaml_document_get_node(c->doc, id);

    if (n == NULL)
        set_err(c->err, c->errlen, "%s: internal error: dangling YAML node", c->name);
    return n;
}

static bool scalar_is(const yaml_node_t *n, const char *s)
{
    size_t len = strlen(s);

    return n->type == YAML_SCALAR_NODE && n->data.scalar.length == len &&
           memcmp(n->data.scalar.value, s, len) == 0;
}

/* The value under key in mapping m, or NULL. */
static const yaml_node_t *map_find(const cfg_ctx *c, const yaml_node_t *m, const char *key)
{
    for (const yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        if (k != NULL && scalar_is(k, key))
            return yaml_document_get_node(c->doc, p->value);
    }
    return NULL;
}

/* Copies a scalar's text into *out. what names the field in messages. */
static int get_string(const cfg_ctx *c, const yaml_node_t *n, const char *what, char **out)
{
    size_t len;
    char *s;

    /* Errors return a literal -1: on 0 the caller relies on *out being set. */
    if (n->type != YAML_SCALAR_NODE) {
        fail_at(c, n, "%s must be a string, got %s", what, kind_name(n));
        return -1;
    }
    len = n->data.scalar.length;
    /* "\0" is legal YAML, but every consumer of these strings is C. */
    if (memchr(n->data.scalar.value, '\0', len) != NULL) {
        fail_at(c, n, "%s must not contain NUL characters", what);
        return -1;
    }
    s = malloc(len + 1);
    if (s == NULL) {
        fail_oom(c);
        return -1;
    }
    memcpy(s, n->data.scalar.value, len);
    s[len] = '\0';
    free(*out);
    *out = s;
    return 0;
}

/*
 * Strict decimal: optional '-', digits, no leading zeros (YAML 1.1 reads
 * 010 as octal 8; we refuse rather than guess), no spaces, signs, '_' or
 * exponents, and the whole text consumed.
 */
static bool parse_long(const unsigned char *text, size_t len, long *out)
{
    char buf[24];
    size_t i = 0;
    char *end = NULL;
    long v;

    if (len == 0 || len >= sizeof buf)
        return false;
    if (text[0] == '-')
        i = 1;
    if (i == len || (text[i] == '0' && (len - i > 1 || i == 1)))
        return false;
    for (size_t j = i; j < len; j++) {
        if (text[j] < '0' || text[j] > '9')
            return false;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    errno = 0;
    v = strtol(buf, &end, 10);
    if (errno != 0 || end != buf + len)
        return false;
    *out = v;
    return true;
}

static int get_int(const cfg_ctx *c, const yaml_node_t *n, const char *what,
                   long min, long max, int *out)
{
    char range[64];
    quoted q;
    long v = 0;

    if (max == INT_MAX)
        snprintf(range, sizeof range, ">= %ld", min);
    else
        snprintf(range, sizeof range, "from %ld to %ld", min, max);
    if (n->type != YAML_SCALAR_NODE ||
        (n->data.scalar.length == 0 && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)) {
        fail_at(c, n, "%s must be an integer %s, got %s", what, range, kind_name(n));
        return -1;
    }
    if (!parse_long(n->data.scalar.value, n->data.scalar.length, &v) || v < min || v > max) {
        fail_at(c, n, "%s must be an integer %s, got %s", what, range,
                quote(&q, n->data.scalar.value, n->data.scalar.length));
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* Levenshtein distance, for "did you mean"; long keys are never close. */
static size_t edit_distance(const unsigned char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b), prev[33], cur[33];

    if (alen > 32 || blen > 32)
        return SIZE_MAX;
    for (size_t j = 0; j <= blen; j++)
        prev[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != (unsigned char)b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof prev);
    }
    return prev[blen];
}

/*
 * Looks key up in the NULL-terminated table keys and returns its position,
 * or -1 after an error for a non-scalar, unknown or repeated key. YAML
 * forbids repeated keys but libyaml keeps both; we refuse, since either
 * choice would hide a value the user wrote. where ends the message
 * ("at the top level", "in function \"x\"").
 */
static int key_lookup(const cfg_ctx *c, const yaml_node_t *key, const char *const *keys,
                      const char *where, unsigned *seen)
{
    const char *best = NULL;
    size_t best_d = 3;
    quoted q;

    if (key->type != YAML_SCALAR_NODE)
        return fail_at(c, key, "keys must be strings, got %s %s", kind_name(key), where);
    for (int i = 0; keys[i] != NULL; i++) {
        if (!scalar_is(key, keys[i]))
            continue;
        if (*seen & (1u << i))
            return fail_at(c, key, "duplicate key \"%s\" %s", keys[i], where);
        *seen |= 1u << i;
        return i;
    }
    for (int i = 0; keys[i] != NULL; i++) {
        size_t d = edit_distance(key->data.scalar.value, key->data.scalar.length, keys[i]);
        if (d < best_d) {
            best_d = d;
            best = keys[i];
        }
    }
    quote(&q, key->data.scalar.value, key->data.scalar.length);
    if (best != NULL)
        return fail_at(c, key, "unknown key %s %s (did you mean \"%s\"?)", q.text, where, best);
    return fail_at(c, key, "unknown key %s %s", q.text, where);
}

/* ---- value checks ---------------------------------------------------- */

static bool all_chars(const char *s, size_t min, size_t max, const char *extra, bool lower_only)
{
    size_t len = strlen(s);

    if (len < min || len > max)
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  (!lower_only && *p >= 'A' && *p <= 'Z') || strchr(extra, *p) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

static bool digits(const char *s, size_t min, size_t max)
{
    size_t len = strlen(s);

    if (len < min || len > max)
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
    }
    return true;
}

static bool runtime_kind(const char *s, lab_runtime_kind *kind)
{
    size_t len = strlen(s);

    if (strncmp(s, "python3.", 8) == 0 && digits(s + 8, 1, 2)) {
        *kind = LAB_RUNTIME_PYTHON;
        return true;
    }
    if (strncmp(s, "nodejs", 6) == 0 && len > 8 && strcmp(s + len - 2, ".x") == 0) {
        char num[4] = {0};
        if (len - 8 > 3)
            return false;
        memcpy(num, s + 6, len - 8);
        if (!digits(num, 1, 3))
            return false;
        *kind = LAB_RUNTIME_NODE;
        return true;
    }
    if (strcmp(s, "provided") == 0 || strcmp(s, "provided.al2") == 0 ||
        strcmp(s, "provided.al2023") == 0) {
        *kind = LAB_RUNTIME_PROVIDED;
        return true;
    }
    return false;
}

/* python and node handlers are "path/module.function"; provided takes any word. */
static bool handler_ok(const char *s, lab_runtime_kind kind)
{
    size_t len = strlen(s);
    const char *dot;

    if (len == 0 || len > MAX_HANDLER_LEN)
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7F)
            return false;
    }
    if (kind == LAB_RUNTIME_PROVIDED)
        return true;
    dot = strrchr(s, '.');
    return dot != NULL && dot != s && dot[1] != '\0' && dot[-1] != '/';
}

/* Lambda refuses these: it sets them itself (and the lab does too). */
bool lab_config_env_reserved(const char *name)
{
    static const char *const reserved[] = {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION",
        "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", NULL,
    };

    for (size_t i = 0; reserved[i] != NULL; i++) {
        if (strcmp(name, reserved[i]) == 0)
            return true;
    }
    return false;
}

/* Lambda's rule: [a-zA-Z]([a-zA-Z0-9_])+ — at least two characters. */
bool lab_config_env_name_ok(const char *s)
{
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    return all_chars(s + 1, 1, SIZE_MAX, "_", false);
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

/* ---- paths ----------------------------------------------------------- */

/* dir + "/" + rel, without a doubled slash. */
static char *path_join(const char *dir, const char *rel)
{
    size_t dlen = strlen(dir), rlen = strlen(rel);
    char *s;

    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    s = malloc(dlen + 1 + rlen + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, dir, dlen);
    if (dlen == 0 || dir[dlen - 1] != '/')
        s[dlen++] = '/';
    memcpy(s + dlen, rel, rlen + 1);
    return s;
}

/*
 * Lexical clean-up of an absolute path: drops "." components and repeated
 * slashes. ".." is kept: resolving it without the file system would be
 * wrong across symlinks.
 */
static void path_tidy(char *p)
{
    char *w = p;
    const char *r = p;

    while (*r != '\0') {
        if (r[0] == '/' && (r[1] == '/' || (r[1] == '.' && (r[2] == '/' || r[2] == '\0')))) {
            r += r[1] == '/' ? 1 : 2;
            continue;
        }
        *w++ = *r++;
    }
    if (w > p + 1 && w[-1] == '/')
        w--;
    if (w == p)
        *w++ = '/';
    *w = '\0';
}

/* An absolute, tidied copy of path (relative paths are taken from the cwd). */
static char *path_absolute(const char *path)
{
    char *cwd = NULL, *out = NULL;

    if (path[0] == '/') {
        out = strdup(path);
    } else {
        cwd = getcwd(NULL, 0);
        if (cwd != NULL)
            out = path_join(cwd, path);
    }
    if (out != NULL)
        path_tidy(out);
    free(cwd);
    return out;
}

/* Resolves a function's `code`; with check_code_dirs it must be a folder. */
static int resolve_code(const cfg_ctx *c, const yaml_node_t *n, const char *rel, char **out)
{
    int rc = -1;
    char *joined = NULL, *real = NULL;
    struct stat st;
    quoted q;

    quote(&q, rel, strlen(rel));
    if (rel[0] == '\0') {
        fail_at(c, n, "code must name a folder, got \"\"");
        goto cleanup;
    }
    joined = rel[0] == '/' ? strdup(rel) : path_join(c->base_dir, rel);
    if (joined == NULL) {
        fail_oom(c);
        goto cleanup;
    }
    path_tidy(joined);
    if (!c->check_code_dirs) {
        free(*out);
        *out = joined;
        joined = NULL;
        rc = 0;
        goto cleanup;
    }
    real = realpath(joined, NULL);
    if (real == NULL) {
        char ebuf[128];
        fail_at(c, n, "code folder %s (%s) cannot be used: %s", q.text, joined,
                strerror_r(errno, ebuf, sizeof ebuf));
        goto cleanup;
    }
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fail_at(c, n, "code folder %s (%s) is not a directory", q.text, real);
        goto cleanup;
    }
    free(*out);
    *out = real;
    real = NULL;
    rc = 0;
cleanup:
    free(joined);
    free(real);
    return rc;
}

/* ---- the schema ------------------------------------------------------ */

enum { TK_REGION, TK_ACCOUNT_ID, TK_UPDATE_DELAY, TK_ACCOUNT_CONCURRENCY, TK_CREDENTIALS, TK_FUNCTIONS };
static const char *const top_keys[] = {
    "region", "account_id", "update_delay_ms", "account_concurrency", "credentials", "functions", NULL,
};

enum { CK_ID, CK_SECRET };
static const char *const credential_keys[] = {"access_key_id", "secret_access_key", NULL};

enum {
    FK_NAME, FK_RUNTIME, FK_HANDLER, FK_CODE, FK_DESCRIPTION, FK_MEMORY, FK_TIMEOUT,
    FK_ENVIRONMENT, FK_RESERVED, FK_IDLE, FK_MAX_AGE, FK_NETWORK,
};
static const char *const function_keys[] = {
    "name", "runtime", "handler", "code", "description", "memory_mb", "timeout_s",
    "environment", "reserved_concurrency", "idle_timeout_s", "max_age_s", "network", NULL,
};

static int parse_environment(const cfg_ctx *c, const yaml_node_t *key, const yaml_node_t *map,
                             lab_function_config *fn)
{
    size_t count, total = 0;
    quoted q;

    if (map->type != YAML_MAPPING_NODE)
        return fail_at(c, map, "environment must be a mapping of NAME: value, got %s", kind_name(map));
    count = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    if (count > LAB_CONFIG_MAX_ENV) {
        const yaml_node_t *extra = node_get(c, map->data.mapping.pairs.start[LAB_CONFIG_MAX_ENV].key);
        if (extra == NULL)
            return -1;
        return fail_at(c, extra, "too many environment variables in function \"%s\": the limit is %d",
                       fn->name, LAB_CONFIG_MAX_ENV);
    }
    if (count == 0)
        return 0;
    fn->env = calloc(count, sizeof *fn->env);
    if (fn->env == NULL)
        return fail_oom(c);
    /* Zeroed entries are safe to free, so the count can be set up front. */
    fn->env_count = count;
    for (size_t i = 0; i < count; i++) {
        const yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
        const yaml_node_t *k = node_get(c, p->key), *v = node_get(c, p->value);
        lab_kv *kv = &fn->env[i];

        if (k == NULL || v == NULL)
            return -1;
        if (k->type != YAML_SCALAR_NODE)
            return fail_at(c, k, "environment variable names must be strings, got %s", kind_name(k));
        quote(&q, k->data.scalar.value, k->data.scalar.length);
        if (memchr(k->data.scalar.value, '\0', k->data.scalar.length) != NULL)
            return fail_at(c, k, "environment variable name must match [a-zA-Z][a-zA-Z0-9_]+, got %s",
                           q.text);
        if (get_string(c, k, "environment variable name", &kv->key) != 0)
            return -1;
        if (!lab_config_env_name_ok(kv->key))
            return fail_at(c, k, "environment variable name must match [a-zA-Z][a-zA-Z0-9_]+, got %s",
                           q.text);
        if (lab_config_env_reserved(kv->key))
            return fail_at(c, k, "environment variable %s is reserved: Lambda (and the lab) sets it",
                           q.text);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(fn->env[j].key, kv->key) == 0)
                return fail_at(c, k, "duplicate environment variable %s", q.text);
        }
        /* Numbers and booleans are taken as the text written: Lambda's
         * variables are strings. */
        if (v->type != YAML_SCALAR_NODE)
            return fail_at(c, v, "value of environment variable %s must be a string, got %s",
                           q.text, kind_name(v));
        if (get_string(c, v, "an environment variable's value", &kv->value) != 0)
            return -1;
        total += strlen(kv->key) + strlen(kv->value);
    }
    if (total > LAB_CONFIG_MAX_ENV_BYTES)
        return fail_at(c, key, "environment of function \"%s\" is %zu bytes (names plus values); "
                       "Lambda allows at most %d", fn->name, total, LAB_CONFIG_MAX_ENV_BYTES);
    return 0;
}

static void function_defaults(lab_function_config *fn)
{
    fn->kind = LAB_RUNTIME_LAST;
    fn->memory_mb = 128;
    fn->timeout_s = 3;
    fn->reserved_concurrency = -1;
    fn->idle_timeout_s = 600;
    fn->max_age_s = 7200;
    fn->host_network = false;
}

/* pos is the function's 0-based place in the list, for a message without a name. */
static int parse_function(const cfg_ctx *c, const yaml_node_t *node, size_t pos,
                          lab_function_config *fn, const yaml_node_t **name_out)
{
    const yaml_node_t *name_node, *handler_node = NULL;
    char where[128];
    unsigned seen = 0;
    quoted q;

    function_defaults(fn);
    if (node->type != YAML_MAPPING_NODE)
        return fail_at(c, node, "each entry of functions must be a mapping, got %s", kind_name(node));
    /* The name first, so that every later message can say whose key it is. */
    name_node = map_find(c, node, "name");
    if (name_node == NULL)
        return fail_at(c, node, "function #%zu is missing required key \"name\"", pos + 1);
    *name_out = name_node;
    if (get_string(c, name_node, "name", &fn->name) != 0)
        return -1;
    if (!all_chars(fn->name, 1, MAX_NAME_LEN, "-_", false))
        return fail_at(c, name_node, "function name must be 1 to %d letters, digits, hyphens or "
                       "underscores, got %s", MAX_NAME_LEN, quote(&q, fn->name, strlen(fn->name)));
    snprintf(where, sizeof where, "in function \"%s\"", fn->name);
    fn->description = strdup("");
    if (fn->description == NULL)
        return fail_oom(c);

    for (const yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node_get(c, p->key), *v = node_get(c, p->value);
        int r = 0;

        if (k == NULL || v == NULL)
            return -1;
        switch (key_lookup(c, k, function_keys, where, &seen)) {
        case FK_NAME:
            break; /* read above */
        case FK_RUNTIME:
            r = get_string(c, v, "runtime", &fn->runtime);
            if (r == 0 && !runtime_kind(fn->runtime, &fn->kind))
                r = fail_at(c, v, "unknown runtime %s (expected python3.x, nodejsNN.x, provided, "
                            "provided.al2 or provided.al2023)",
                            quote(&q, fn->runtime, strlen(fn->runtime)));
            break;
        case FK_HANDLER:
            /* Checked after the loop: its form depends on the runtime. */
            r = get_string(c, v, "handler", &fn->handler);
            handler_node = v;
            break;
        case FK_CODE: {
            char *rel = NULL;
            r = get_string(c, v, "code", &rel);
            if (r == 0)
                r = resolve_code(c, v, rel, &fn->code_dir);
            free(rel);
            break;
        }
        case FK_DESCRIPTION:
            r = get_string(c, v, "description", &fn->description);
            if (r == 0 && utf8_chars(fn->description) > MAX_DESCRIPTION_LEN)
                r = fail_at(c, v, "description must be at most %d characters", MAX_DESCRIPTION_LEN);
            break;
        case FK_MEMORY:
            r = get_int(c, v, "memory_mb", 128, 10240, &fn->memory_mb);
            break;
        case FK_TIMEOUT:
            r = get_int(c, v, "timeout_s", 1, 900, &fn->timeout_s);
            break;
        case FK_ENVIRONMENT:
            r = parse_environment(c, k, v, fn);
            break;
        case FK_RESERVED:
            r = get_int(c, v, "reserved_concurrency", 0, INT_MAX, &fn->reserved_concurrency);
            break;
        case FK_IDLE:
            r = get_int(c, v, "idle_timeout_s", 1, INT_MAX, &fn->idle_timeout_s);
            break;
        case FK_MAX_AGE:
            r = get_int(c, v, "max_age_s", 1, INT_MAX, &fn->max_age_s);
            break;
        case FK_NETWORK:
            if (!scalar_is(v, "host"))
                r = fail_at(c, v, "network must be \"host\" (leave it out for the function's own "
                            "network namespace), got %s", v->type == YAML_SCALAR_NODE
                                ? quote(&q, v->data.scalar.value, v->data.scalar.length)
                                : kind_name(v));
            else
                fn->host_network = true;
            break;
        default:
            r = -1; /* key_lookup wrote the error */
            break;
        }
        if (r != 0)
            return -1;
    }

    if (fn->runtime == NULL)
        return fail_at(c, node, "function \"%s\" is missing required key \"runtime\"", fn->name);
    if (fn->code_dir == NULL)
        return fail_at(c, node, "function \"%s\" is missing required key \"code\"", fn->name);
    if (fn->handler == NULL && fn->kind != LAB_RUNTIME_PROVIDED)
        return fail_at(c, node, "function \"%s\" is missing required key \"handler\" (required for %s)",
                       fn->name, fn->runtime);
    if (fn->handler != NULL && !handler_ok(fn->handler, fn->kind))
        return fail_at(c, handler_node, fn->kind == LAB_RUNTIME_PROVIDED
                           ? "handler must be 1 to 128 characters without spaces, got %s"
                           : "handler must look like \"module.function\" (at most 128 characters, "
                             "no spaces), got %s",
                       quote(&q, fn->handler, strlen(fn->handler)));
    return 0;
}

static int parse_functions(const cfg_ctx *c, const yaml_node_t *seq, lab_config *cfg)
{
    int rc = -1;
    size_t count;
    size_t *name_lines = NULL; /* for "first defined at line N" */

    if (seq->type != YAML_SEQUENCE_NODE) {
        fail_at(c, seq, "functions must be a list, got %s", kind_name(seq));
        goto cleanup;
    }
    count = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (count > LAB_CONFIG_MAX_FUNCTIONS) {
        const yaml_node_t *extra = node_get(c, seq->data.sequence.items.start[LAB_CONFIG_MAX_FUNCTIONS]);
        if (extra != NULL)
            fail_at(c, extra, "too many functions: the limit is %d", LAB_CONFIG_MAX_FUNCTIONS);
        goto cleanup;
    }
    if (count == 0) {
        rc = 0;
        goto cleanup;
    }
    cfg->functions = calloc(count, sizeof *cfg->functions);
    name_lines = calloc(count, sizeof *name_lines);
    if (cfg->functions == NULL || name_lines == NULL) {
        fail_oom(c);
        goto cleanup;
    }
    cfg->function_count = count;
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *item = node_get(c, seq->data.sequence.items.start[i]);
        const yaml_node_t *name_node = NULL;

        /* name_node is always set on success; tested for the analyzer. */
        if (item == NULL || parse_function(c, item, i, &cfg->functions[i], &name_node) != 0 ||
            name_node == NULL)
            goto cleanup;
        name_lines[i] = name_node->start_mark.line + 1;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->functions[j].name, cfg->functions[i].name) == 0) {
                fail_at(c, name_node, "duplicate function name \"%s\" (first defined at line %zu)",
                        cfg->functions[i].name, name_lines[j]);
                goto cleanup;
            }
        }
    }
    rc = 0;
cleanup:
    free(name_lines);
    return rc;
}

static int parse_credentials(const cfg_ctx *c, const yaml_node_t *seq, lab_config *cfg)
{
    size_t count;
    quoted q;

    if (seq->type != YAML_SEQUENCE_NODE)
        return fail_at(c, seq, "credentials must be a list of {access_key_id, secret_access_key}, got %s",
                       kind_name(seq));
    count = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (count == 0)
        return fail_at(c, seq, "credentials must not be empty (leave the key out to accept the "
                       "default pair)");
    if (count > MAX_CREDENTIALS) {
        const yaml_node_t *extra = node_get(c, seq->data.sequence.items.start[MAX_CREDENTIALS]);
        if (extra == NULL)
            return -1;
        return fail_at(c, extra, "too many credentials: the limit is %d", MAX_CREDENTIALS);
    }
    cfg->credentials = calloc(count, sizeof *cfg->credentials);
    if (cfg->credentials == NULL)
        return fail_oom(c);
    cfg->credential_count = count;
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *item = node_get(c, seq->data.sequence.items.start[i]);
        const yaml_node_t *id_node = NULL;
        lab_credential *cr = &cfg->credentials[i];
        unsigned seen = 0;

        if (item == NULL)
            return -1;
        if (item->type != YAML_MAPPING_NODE)
            return fail_at(c, item, "each entry of credentials must be a mapping, got %s",
                           kind_name(item));
        for (const yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
            const yaml_node_t *k = node_get(c, p->key), *v = node_get(c, p->value);
            int r;

            if (k == NULL || v == NULL)
                return -1;
            switch (key_lookup(c, k, credential_keys, "in a credentials entry", &seen)) {
            case CK_ID:
                r = get_string(c, v, "access_key_id", &cr->access_key_id);
                /* No '/', ',', '=' or spaces: SigV4's Credential= field splits on them. */
                if (r == 0 && !all_chars(cr->access_key_id, 1, MAX_KEY_ID_LEN, "_", false))
                    r = fail_at(c, v, "access_key_id must be 1 to %d letters, digits or underscores, "
                                "got %s", MAX_KEY_ID_LEN,
                                quote(&q, cr->access_key_id, strlen(cr->access_key_id)));
                id_node = v;
                break;
            case CK_SECRET:
                r = get_string(c, v, "secret_access_key", &cr->secret_access_key);
                if (r == 0 && (cr->secret_access_key[0] == '\0' ||
                               strlen(cr->secret_access_key) > MAX_SECRET_LEN))
                    r = fail_at(c, v, "secret_access_key must be 1 to %d characters", MAX_SECRET_LEN);
                break;
            default:
                r = -1;
                break;
            }
            if (r != 0)
                return -1;
        }
        if (cr->access_key_id == NULL)
            return fail_at(c, item, "credentials entry #%zu is missing required key \"access_key_id\"",
                           i + 1);
        if (cr->secret_access_key == NULL)
            return fail_at(c, item, "credentials entry #%zu is missing required key "
                           "\"secret_access_key\"", i + 1);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->credentials[j].access_key_id, cr->access_key_id) == 0)
                return fail_at(c, id_node, "duplicate access_key_id \"%s\"", cr->access_key_id);
        }
    }
    return 0;
}

static int parse_root(const cfg_ctx *c, const yaml_node_t *root, lab_config *cfg)
{
    unsigned seen = 0;
    quoted q;

    if (root->type != YAML_MAPPING_NODE)
        return fail_at(c, root, "the configuration must be a mapping (region, account_id, "
                       "credentials, functions), got %s", kind_name(root));
    for (const yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node_get(c, p->key), *v = node_get(c, p->value);
        int r;

        if (k == NULL || v == NULL)
            return -1;
        switch (key_lookup(c, k, top_keys, "at the top level", &seen)) {
        case TK_REGION:
            r = get_string(c, v, "region", &cfg->region);
            /* The region lands in ARNs and in SigV4's credential scope. */
            if (r == 0 && !all_chars(cfg->region, 1, MAX_REGION_LEN, "-", true))
                r = fail_at(c, v, "region must be 1 to %d lowercase letters, digits or hyphens "
                            "(like us-east-1), got %s", MAX_REGION_LEN,
                            quote(&q, cfg->region, strlen(cfg->region)));
            break;
        case TK_ACCOUNT_ID:
            r = get_string(c, v, "account_id", &cfg->account_id);
            if (r == 0 && !digits(cfg->account_id, 12, 12))
                r = fail_at(c, v, "account_id must be exactly 12 digits (quote it: "
                            "\"000000000000\"), got %s",
                            quote(&q, cfg->account_id, strlen(cfg->account_id)));
            break;
        case TK_UPDATE_DELAY:
            r = get_int(c, v, "update_delay_ms", 0, 600000, &cfg->update_delay_ms);
            break;
        case TK_ACCOUNT_CONCURRENCY:
            r = get_int(c, v, "account_concurrency", 1, 100000, &cfg->account_concurrency);
            break;
        case TK_CREDENTIALS:
            r = parse_credentials(c, v, cfg);
            break;
        case TK_FUNCTIONS:
            r = parse_functions(c, v, cfg);
            break;
        default:
            r = -1;
            break;
        }
        if (r != 0)
            return -1;
    }
    return 0;
}

/*
 * First pass, on events: syntax, one document only, and the bounds that
 * keep the document loader linear (libyaml's scanner does work per token
 * proportional to flow depth, and anchor lookup is a linear scan).
 */
static int prescan(const cfg_ctx *c, const unsigned char *data, size_t len)
{
    int rc = -1;
    yaml_parser_t parser;
    bool ready = false, done = false;
    size_t depth = 0, anchors = 0, documents = 0;

    if (!yaml_parser_initialize(&parser)) {
        fail_oom(c);
        goto cleanup;
    }
    ready = true;
    yaml_parser_set_input_string(&parser, data, len);
    while (!done) {
        yaml_event_t ev;
        const yaml_char_t *anchor = NULL;
        int bad = 0;

        if (!yaml_parser_parse(&parser, &ev)) {
            fail_parser(c, &parser, data, len);
            goto cleanup;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1)
                bad = fail_mark(c, ev.start_mark, "only one YAML document is allowed; a second "
                                "one starts here");
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            anchor = ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor
                                                          : ev.data.mapping_start.anchor;
            if (++depth > MAX_DEPTH)
                bad = fail_mark(c, ev.start_mark, "nested more than %d levels deep", MAX_DEPTH);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_SCALAR_EVENT:
            anchor = ev.data.scalar.anchor;
            break;
        default:
            break;
        }
        if (bad == 0 && anchor != NULL && ++anchors > MAX_ANCHORS)
            bad = fail_mark(c, ev.start_mark, "too many anchors: the limit is %d", MAX_ANCHORS);
        yaml_event_delete(&ev);
        if (bad != 0)
            goto cleanup;
    }
    rc = 0;
cleanup:
    if (ready)
        yaml_parser_delete(&parser);
    return rc;
}

static int set_default_credentials(const cfg_ctx *c, lab_config *cfg)
{
    cfg->credentials = calloc(1, sizeof *cfg->credentials);
    if (cfg->credentials == NULL)
        return fail_oom(c);
    cfg->credential_count = 1;
    cfg->credentials[0].access_key_id = strdup(LAB_CONFIG_DEFAULT_ACCESS_KEY_ID);
    cfg->credentials[0].secret_access_key = strdup(LAB_CONFIG_DEFAULT_SECRET_ACCESS_KEY);
    if (cfg->credentials[0].access_key_id == NULL || cfg->credentials[0].secret_access_key == NULL)
        return fail_oom(c);
    return 0;
}

int lab_config_parse(const char *data, size_t len, const char *name,
                     const char *base_dir, bool check_code_dirs,
                     lab_config **out, char *err, size_t errlen)
{
    int rc = -1;
    yaml_parser_t parser;
    yaml_document_t doc;
    bool parser_ready = false, doc_ready = false;
    const unsigned char *bytes = (const unsigned char *)(data != NULL ? data : "");
    const yaml_node_t *root;
    lab_config *cfg = NULL;
    char *base_abs = NULL;
    cfg_ctx c = {
        .doc = &doc,
        .name = name != NULL ? name : "<config>",
        .check_code_dirs = check_code_dirs,
        .err = err,
        .errlen = errlen,
    };

    set_err(err, errlen, "%s", "");
    if (out == NULL || (data == NULL && len > 0)) {
        set_err(err, errlen, "%s: invalid arguments", c.name);
        goto cleanup;
    }
    *out = NULL;
    if (len > (size_t)LAB_CONFIG_MAX_BYTES) {
        set_err(err, errlen, "%s: configuration is %zu bytes; the limit is %d",
                c.name, len, LAB_CONFIG_MAX_BYTES);
        goto cleanup;
    }
    if (prescan(&c, bytes, len) != 0)
        goto cleanup;

    if (!yaml_parser_initialize(&parser)) {
        fail_oom(&c);
        goto cleanup;
    }
    parser_ready = true;
    yaml_parser_set_input_string(&parser, bytes, len);
    if (!yaml_parser_load(&parser, &doc)) {
        fail_parser(&c, &parser, bytes, len);
        goto cleanup;
    }
    doc_ready = true;
    root = yaml_document_get_root_node(&doc);
    if (root == NULL) {
        set_err(err, errlen, "%s: the configuration is empty (expected a mapping with region, "
                "account_id, credentials and functions)", c.name);
        goto cleanup;
    }

    base_abs = path_absolute(base_dir != NULL ? base_dir : ".");
    if (base_abs == NULL) {
        char ebuf[128];
        set_err(err, errlen, "%s: cannot make the base folder absolute: %s", c.name,
                strerror_r(errno, ebuf, sizeof ebuf));
        goto cleanup;
    }
    c.base_dir = base_abs;

    cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL) {
        fail_oom(&c);
        goto cleanup;
    }
    cfg->update_delay_ms = 300;
    cfg->account_concurrency = 1000;
    cfg->region = strdup(DEFAULT_REGION);
    cfg->account_id = strdup(DEFAULT_ACCOUNT_ID);
    cfg->path = strdup(c.name); /* lab_config_load replaces it with the absolute path */
    if (cfg->region == NULL || cfg->account_id == NULL || cfg->path == NULL) {
        fail_oom(&c);
        goto cleanup;
    }
    if (parse_root(&c, root, cfg) != 0)
        goto cleanup;
    if (cfg->credential_count == 0 && set_default_credentials(&c, cfg) != 0)
        goto cleanup;

    *out = cfg;
    cfg = NULL;
    rc = 0;
cleanup:
    lab_config_free(&cfg);
    if (doc_ready)
        yaml_document_delete(&doc);
    if (parser_ready)
        yaml_parser_delete(&parser);
    free(base_abs);
    return rc;
}

/* Reads at most LAB_CONFIG_MAX_BYTES; *data is NUL-terminated for safety. */
static int read_capped(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    int rc = -1, fd = -1;
    char *buf = NULL;
    size_t got = 0;
    char ebuf[128];

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errlen, "%s: cannot read: %s", path, strerror_r(errno, ebuf, sizeof ebuf));
        goto cleanup;
    }
    /* One byte more than the cap tells "exactly at the cap" from "over it". */
    buf = malloc((size_t)LAB_CONFIG_MAX_BYTES + 2);
    if (buf == NULL) {
        set_err(err, errlen, "%s: out of memory", path);
        goto cleanup;
    }
    while (got <= (size_t)LAB_CONFIG_MAX_BYTES) {
        ssize_t n = read(fd, buf + got, (size_t)LAB_CONFIG_MAX_BYTES + 1 - got);
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
    if (got > (size_t)LAB_CONFIG_MAX_BYTES) {
        set_err(err, errlen, "%s: file is larger than the limit of %d bytes", path,
                LAB_CONFIG_MAX_BYTES);
        goto cleanup;
    }
    buf[got] = '\0';
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

int lab_config_load(const char *path, lab_config **out, char *err, size_t errlen)
{
    int rc = -1;
    char *data = NULL, *abs = NULL, *dir = NULL, *slash;
    size_t len = 0;
    lab_config *cfg = NULL;

    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL) {
        set_err(err, errlen, "lab_config_load: invalid arguments");
        goto cleanup;
    }
    if (read_capped(path, &data, &len, err, errlen) != 0)
        goto cleanup;
    /* The folder of the path as given, not of its symlink target: code
     * folders sit next to the file the user named. */
    abs = path_absolute(path);
    dir = abs != NULL ? strdup(abs) : NULL;
    if (dir == NULL) {
        set_err(err, errlen, "%s: cannot make the path absolute", path);
        goto cleanup;
    }
    slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    if (lab_config_parse(data, len, path, dir, true, &cfg, err, errlen) != 0)
        goto cleanup;
    free(cfg->path);
    cfg->path = abs;
    abs = NULL;
    *out = cfg;
    cfg = NULL;
    rc = 0;
cleanup:
    lab_config_free(&cfg);
    free(data);
    free(abs);
    free(dir);
    return rc;
}

const lab_function_config *lab_config_find(const lab_config *cfg, const char *name)
{
    if (cfg == NULL || name == NULL || cfg->functions == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->function_count; i++) {
        if (cfg->functions[i].name != NULL && strcmp(cfg->functions[i].name, name) == 0)
            return &cfg->functions[i];
    }
    return NULL;
}

static void function_free(lab_function_config *fn)
{
    if (fn->env != NULL) {
        for (size_t i = 0; i < fn->env_count; i++) {
            free(fn->env[i].key);
            free(fn->env[i].value);
        }
    }
    free(fn->env);
    free(fn->name);
    free(fn->runtime);
    free(fn->handler);
    free(fn->code_dir);
    free(fn->description);
}

void lab_config_free(lab_config **pcfg)
{
    lab_config *cfg;

    if (pcfg == NULL || *pcfg == NULL)
        return;
    cfg = *pcfg;
    if (cfg->functions != NULL) {
        for (size_t i = 0; i < cfg->function_count; i++)
            function_free(&cfg->functions[i]);
    }
    free(cfg->functions);
    if (cfg->credentials != NULL) {
        for (size_t i = 0; i < cfg->credential_count; i++) {
            free(cfg->credentials[i].access_key_id);
            free(cfg->credentials[i].secret_access_key);
        }
    }
    free(cfg->credentials);
    free(cfg->path);
    free(cfg->region);
    free(cfg->account_id);
    free(cfg);
    *pcfg = NULL;
}
