/*
 * lab_config — reads coldsec-lab's YAML configuration into the plain structs
 * of lab_config.h.
 *
 * The YAML is src/yamldoc's business, as it is for the engine's own config
 * files: yamldoc_parse()/yamldoc_load() read the text into a tree whose
 * nodes carry line and column, refusing on the way syntax errors, a second
 * document, repeated keys, non-scalar keys, unknown tags and the inputs that
 * would make loading slow (deep nesting, many anchors or nodes); its getters
 * and yamldoc_fail() write every message as "NAME:LINE:COLUMN: what is
 * wrong". What this file adds is the lab's schema: a fixed-depth walk (top
 * mapping → functions → function → environment, and credentials) with
 * Lambda's rules for each value, the defaults, the code folders resolved
 * against the config file's folder, and the lab's own bound on the size of
 * a config (LAB_CONFIG_MAX_BYTES, below yamldoc's). Because the walk never
 * recurses generically, aliases are simply followed: a recursive alias can
 * only ever be met as a node of the wrong kind, and nothing is expanded.
 *
 * Three getters below wrap yamldoc's where the lab's rules have always been
 * its own: strings are taken as written (an empty value is "", not a
 * refused null), integers refuse "-0", and booleans must be unquoted but
 * may be True/TRUE/False/FALSE.
 *
 * Every check that fails stops the parse with one message on the node to
 * fix; a partial config is never handed out.
 */
#include "lab_config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "yamldoc.h"

/* Caps on what a config may hold beyond those in the header. */
#define MAX_CREDENTIALS 64
#define MAX_NAME_LEN 64       /* Lambda function names */
#define MAX_HANDLER_LEN 128   /* Lambda: Handler */
#define MAX_DESCRIPTION_LEN 256 /* Lambda: Description, in characters */
#define MAX_REGION_LEN 32
#define MAX_KEY_ID_LEN 128    /* IAM: access key ids */
#define MAX_SECRET_LEN 128
#define MAX_ARN_LEN 2048      /* Lambda: KMSKeyArn */

#define DEFAULT_NAME "<config>"
#define DEFAULT_REGION "us-east-1"
#define DEFAULT_ACCOUNT_ID "000000000000"

/* Everything the schema walk needs; passed down instead of any global. */
typedef struct cfg_ctx {
    const yamldoc *d;      /* names the file in messages */
    const char *base_dir;  /* absolute */
    bool check_code_dirs;
    char *err;
    size_t errlen;
} cfg_ctx;

/* yamldoc_fail() into c's buffer: "NAME:LINE:COLUMN: ..." about node n
 * ("NAME: ..." when n is NULL); -1, visibly so to the analyzer. */
#define FAIL(c, n, ...) (yamldoc_fail((c)->d, (n), (c)->err, (c)->errlen, __VA_ARGS__), -1)

/* A user's text made safe to print (yamldoc_quote: quoted, escaped, cut). */
typedef struct quoted {
    char text[YAMLDOC_QUOTE_BUFLEN];
} quoted;

static const char *quote(quoted *q, const char *s)
{
    return yamldoc_quote(q->text, sizeof q->text, s, strlen(s));
}

static int fail_oom(const cfg_ctx *c)
{
    return FAIL(c, NULL, "out of memory");
}

/* ---- getters --------------------------------------------------------- */

/* The place of key k in the NULL-terminated table keys, or -1. Unknown
 * keys never get here: yamldoc_check_keys has refused them. */
static int key_index(const yamldoc_node *k, const char *const *keys)
{
    for (int i = 0; keys[i] != NULL; i++) {
        if (strlen(keys[i]) == k->len && memcmp(k->text, keys[i], k->len) == 0)
            return i;
    }
    return -1;
}

/*
 * A scalar's text into *out (replacing what was there). A plain scalar is
 * taken as written, as the lab always has: `description:` is "", and `FOO:
 * null` sets FOO to "null" (Lambda's variables are strings). yamldoc_string
 * would refuse those as YAML nulls; everything else goes through it, so
 * collections and text with NUL characters are refused.
 */
static int get_text(const cfg_ctx *c, const yamldoc_node *n, const char *what, char **out)
{
    char *s = NULL;

    if (n->kind == YAMLDOC_SCALAR && n->plain && memchr(n->text, '\0', n->len) == NULL) {
        s = strndup(n->text, n->len);
        if (s == NULL)
            return fail_oom(c);
    } else if (yamldoc_string(c->d, n, what, &s, c->err, c->errlen) != 0) {
        return -1;
    } else if (s == NULL) {
        return fail_oom(c); /* never: yamldoc_string sets s when it returns 0 */
    }
    free(*out);
    *out = s;
    return 0;
}

/* yamldoc_long in [min, max], and no "-0": the lab refuses a sign on zero
 * as it refuses leading zeros. */
static int get_int(const cfg_ctx *c, const yamldoc_node *n, const char *what, int min, int max,
                   int *out)
{
    long v = 0;
    quoted q;

    if (n->kind == YAMLDOC_SCALAR && n->len == 2 && memcmp(n->text, "-0", 2) == 0)
        return FAIL(c, n, "%s must be an integer from %d to %d, got %s", what, min, max,
                    quote(&q, n->text));
    if (yamldoc_long(c->d, n, what, min, max, &v, c->err, c->errlen) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

/*
 * YAML 1.2's booleans only, unquoted: YAML 1.1 also reads yes/no/on/off as
 * booleans and a quoted "true" is a string, so accepting those would make
 * the same file mean different things to different readers. The core
 * schema's True/TRUE/False/FALSE are booleans too; yamldoc_bool takes the
 * rest (true, false) and words the errors.
 */
static int get_bool(const cfg_ctx *c, const yamldoc_node *n, const char *what, bool *out)
{
    quoted q;

    if (n->kind != YAMLDOC_SCALAR)
        return yamldoc_bool(c->d, n, what, out, c->err, c->errlen);
    if (!n->plain)
        return FAIL(c, n, "%s must be true or false (unquoted), got the quoted string %s", what,
                    yamldoc_quote(q.text, sizeof q.text, n->text, n->len));
    if (n->len == 4 && (memcmp(n->text, "True", 4) == 0 || memcmp(n->text, "TRUE", 4) == 0)) {
        *out = true;
        return 0;
    }
    if (n->len == 5 && (memcmp(n->text, "False", 5) == 0 || memcmp(n->text, "FALSE", 5) == 0)) {
        *out = false;
        return 0;
    }
    return yamldoc_bool(c->d, n, what, out, c->err, c->errlen);
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

/*
 * arn:PARTITION:kms:REGION:ACCOUNT:key/ID or ...:alias/NAME. The lab never
 * calls KMS, so this is only the shape; it is strict because scenarios read
 * KMSKeyArn back to decide whether a function's variables are encrypted
 * with a customer key, and a typo there would flip that verdict.
 */
static bool kms_arn_ok(const char *s)
{
    static const char lower_digits[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
    const char *p, *account, *resource;

    if (strlen(s) > MAX_ARN_LEN || strncmp(s, "arn:aws", 7) != 0)
        return false;
    for (p = s; *p != '\0'; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7F)
            return false;
    }
    /* Partitions: aws, aws-cn, aws-us-gov, ... */
    p = s + 7;
    if (*p == '-')
        p += strspn(p, lower_digits);
    if (strncmp(p, ":kms:", 5) != 0)
        return false;
    p += 5;
    account = p + strspn(p, lower_digits);
    if (account == p || *account != ':')
        return false;
    account++;
    resource = account + strspn(account, "0123456789");
    if (resource - account != 12 || *resource != ':')
        return false;
    resource++;
    if (strncmp(resource, "key/", 4) == 0)
        return resource[4] != '\0';
    return strncmp(resource, "alias/", 6) == 0 && resource[6] != '\0';
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
static int resolve_code(const cfg_ctx *c, const yamldoc_node *n, const char *rel, char **out)
{
    int rc = -1;
    char *joined = NULL, *real = NULL;
    struct stat st;
    quoted q;

    quote(&q, rel);
    if (rel[0] == '\0') {
        rc = FAIL(c, n, "code must name a folder, got ''");
        goto cleanup;
    }
    joined = rel[0] == '/' ? strdup(rel) : path_join(c->base_dir, rel);
    if (joined == NULL) {
        rc = fail_oom(c);
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
        rc = FAIL(c, n, "code folder %s (%s) cannot be used: %s", q.text, joined,
                  strerror_r(errno, ebuf, sizeof ebuf));
        goto cleanup;
    }
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = FAIL(c, n, "code folder %s (%s) is not a directory", q.text, real);
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
    FK_ENVIRONMENT, FK_RESERVED, FK_IDLE, FK_MAX_AGE, FK_NETWORK, FK_KMS, FK_EPHEMERAL,
    FK_FUNCTION_URL, FK_MAX_CONCURRENCY, FK_ENVIRONMENTS,
};
static const char *const function_keys[] = {
    "name", "runtime", "handler", "code", "description", "memory_mb", "timeout_s",
    "environment", "reserved_concurrency", "idle_timeout_s", "max_age_s", "network",
    "kms_key_arn", "ephemeral_storage_mb", "function_url", "max_concurrency", "environments", NULL,
};

/* key is the `environment` key, where a message about the whole goes. */
static int parse_environment(const cfg_ctx *c, const yamldoc_node *key, const yamldoc_node *map,
                             lab_function_config *fn)
{
    size_t total = 0;

    if (yamldoc_expect(c->d, map, YAMLDOC_MAP, "environment", c->err, c->errlen) != 0)
        return -1;
    if (map->count > LAB_CONFIG_MAX_ENV)
        return FAIL(c, map->keys[LAB_CONFIG_MAX_ENV], "too many environment variables in function "
                    "'%s': the limit is %d", fn->name, LAB_CONFIG_MAX_ENV);
    if (map->count == 0)
        return 0;
    fn->env = calloc(map->count, sizeof *fn->env);
    if (fn->env == NULL)
        return fail_oom(c);
    /* Zeroed entries are safe to free, so the count can be set up front. */
    fn->env_count = map->count;
    /* Names are scalars and unique: yamldoc refuses repeated keys (and
     * keys with NUL characters, which get_text would refuse too). */
    for (size_t i = 0; i < map->count; i++) {
        const yamldoc_node *k = map->keys[i], *v = map->values[i];
        lab_kv *kv = &fn->env[i];
        char what[sizeof(quoted) + 32];
        quoted q;

        yamldoc_quote(q.text, sizeof q.text, k->text, k->len);
        if (get_text(c, k, "environment variable name", &kv->key) != 0)
            return -1;
        if (!lab_config_env_name_ok(kv->key))
            return FAIL(c, k, "environment variable name must match [a-zA-Z][a-zA-Z0-9_]+, got %s",
                        q.text);
        if (lab_config_env_reserved(kv->key))
            return FAIL(c, k, "environment variable %s is reserved: Lambda (and the lab) sets it",
                        q.text);
        /* Numbers and booleans are taken as the text written: Lambda's
         * variables are strings. */
        snprintf(what, sizeof what, "value of environment variable %s", q.text);
        if (get_text(c, v, what, &kv->value) != 0)
            return -1;
        total += strlen(kv->key) + strlen(kv->value);
    }
    if (total > LAB_CONFIG_MAX_ENV_BYTES)
        return FAIL(c, key, "environment of function '%s' is %zu bytes (names plus values); "
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
    fn->ephemeral_storage_mb = LAB_CONFIG_EPHEMERAL_DEFAULT_MB;
    fn->function_url = false;
    fn->max_concurrency = 0;
    fn->environments = 1;
}

/* One key of a function; fn->name is set. */
static int parse_function_key(const cfg_ctx *c, const yamldoc_node *k, const yamldoc_node *v,
                              lab_function_config *fn)
{
    int r = 0;
    quoted q;

    switch (key_index(k, function_keys)) {
    case FK_RUNTIME:
        r = get_text(c, v, "runtime", &fn->runtime);
        if (r == 0 && !runtime_kind(fn->runtime, &fn->kind))
            r = FAIL(c, v, "unknown runtime %s (expected python3.x, nodejsNN.x, provided, "
                     "provided.al2 or provided.al2023)", quote(&q, fn->runtime));
        break;
    case FK_HANDLER:
        /* Checked once all keys are read: its form depends on the runtime. */
        r = get_text(c, v, "handler", &fn->handler);
        break;
    case FK_CODE: {
        char *rel = NULL;
        r = get_text(c, v, "code", &rel);
        if (r == 0)
            r = resolve_code(c, v, rel, &fn->code_dir);
        free(rel);
        break;
    }
    case FK_DESCRIPTION:
        r = get_text(c, v, "description", &fn->description);
        if (r == 0 && utf8_chars(fn->description) > MAX_DESCRIPTION_LEN)
            r = FAIL(c, v, "description must be at most %d characters", MAX_DESCRIPTION_LEN);
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
    case FK_NETWORK: {
        char *net = NULL;
        r = get_text(c, v, "network", &net);
        if (r == 0 && strcmp(net, "host") != 0)
            r = FAIL(c, v, "network must be 'host' (leave it out for the function's own network "
                     "namespace), got %s", quote(&q, net));
        fn->host_network = r == 0;
        free(net);
        break;
    }
    case FK_KMS:
        r = get_text(c, v, "kms_key_arn", &fn->kms_key_arn);
        if (r == 0 && !kms_arn_ok(fn->kms_key_arn))
            r = FAIL(c, v, "kms_key_arn must be a KMS key or alias ARN "
                     "(arn:aws:kms:REGION:ACCOUNT:key/ID or arn:aws:kms:REGION:ACCOUNT:alias/NAME), "
                     "got %s", quote(&q, fn->kms_key_arn));
        break;
    case FK_EPHEMERAL:
        r = get_int(c, v, "ephemeral_storage_mb", LAB_CONFIG_EPHEMERAL_MIN_MB,
                    LAB_CONFIG_EPHEMERAL_MAX_MB, &fn->ephemeral_storage_mb);
        break;
    case FK_FUNCTION_URL:
        r = get_bool(c, v, "function_url", &fn->function_url);
        break;
    case FK_MAX_CONCURRENCY:
        r = get_int(c, v, "max_concurrency", 1, LAB_CONFIG_MAX_CONCURRENCY, &fn->max_concurrency);
        break;
    case FK_ENVIRONMENTS:
        r = get_int(c, v, "environments", 1, LAB_CONFIG_MAX_ENVIRONMENTS, &fn->environments);
        break;
    default:
        break; /* name, read first */
    }
    return r;
}

/*
 * Lambda Managed Instances run Python 3.13+, Node.js 22+, Java 21+, .NET 8+
 * and the OS-only provided.al2023
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-python-runtime.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-nodejs-runtime.html); the lab runs only the first two and provided, so
 * max_concurrency on an older one is refused rather than simulated on a
 * runtime AWS would not accept. `environments` bounds an MI function's
 * environments and means nothing without max_concurrency.
 */
static bool runtime_supports_mi(const lab_function_config *fn)
{
    switch (fn->kind) {
    case LAB_RUNTIME_PYTHON:
        return strtol(fn->runtime + strlen("python3."), NULL, 10) >= 13;
    case LAB_RUNTIME_NODE:
        return strtol(fn->runtime + strlen("nodejs"), NULL, 10) >= 22;
    case LAB_RUNTIME_PROVIDED:
        return strcmp(fn->runtime, "provided.al2023") == 0;
    default:
        return false;
    }
}

/* The key node of key in map (yamldoc_get gives its value), or NULL. */
static const yamldoc_node *key_node(const yamldoc_node *map, const char *key)
{
    for (size_t i = 0; i < map->count; i++)
        if (strlen(key) == map->keys[i]->len && memcmp(map->keys[i]->text, key, map->keys[i]->len) == 0)
            return map->keys[i];
    return NULL;
}

static int check_managed_instances(const cfg_ctx *c, const yamldoc_node *node,
                                   const lab_function_config *fn)
{
    const yamldoc_node *mc = yamldoc_get(node, "max_concurrency");
    const yamldoc_node *envs = yamldoc_get(node, "environments");

    if (envs != NULL && mc == NULL)
        return FAIL(c, key_node(node, "environments"), "function '%s': environments applies "
                    "only to a Managed Instances function (set max_concurrency)", fn->name);
    if (mc != NULL && !runtime_supports_mi(fn))
        return FAIL(c, mc, "function '%s': max_concurrency (Lambda Managed Instances) is not "
                    "supported on runtime %s (Managed Instances run python3.13+, nodejs22.x+ "
                    "or provided.al2023)", fn->name, fn->runtime);
    return 0;
}

/* pos is the function's 0-based place in the list, for a message without a name. */
static int parse_function(const cfg_ctx *c, const yamldoc_node *node, size_t pos,
                          lab_function_config *fn)
{
    const yamldoc_node *name_node;
    char what[MAX_NAME_LEN + 16];
    quoted q;

    function_defaults(fn);
    if (yamldoc_expect(c->d, node, YAMLDOC_MAP, "each entry of functions", c->err, c->errlen) != 0)
        return -1;
    /* The name first, so that every later message can say whose key it is. */
    name_node = yamldoc_get(node, "name");
    if (name_node == NULL)
        return FAIL(c, node, "function #%zu is missing required key 'name'", pos + 1);
    if (get_text(c, name_node, "name", &fn->name) != 0)
        return -1;
    if (!all_chars(fn->name, 1, MAX_NAME_LEN, "-_", false))
        return FAIL(c, name_node, "function name must be 1 to %d letters, digits, hyphens or "
                    "underscores, got %s", MAX_NAME_LEN, quote(&q, fn->name));
    snprintf(what, sizeof what, "function '%s'", fn->name);
    if (yamldoc_check_keys(c->d, node, function_keys, what, c->err, c->errlen) != 0)
        return -1;
    fn->description = strdup("");
    if (fn->description == NULL)
        return fail_oom(c);
    for (size_t i = 0; i < node->count; i++) {
        if (parse_function_key(c, node->keys[i], node->values[i], fn) != 0)
            return -1;
    }

    if (fn->runtime == NULL)
        return FAIL(c, node, "function '%s' is missing required key 'runtime'", fn->name);
    if (fn->code_dir == NULL)
        return FAIL(c, node, "function '%s' is missing required key 'code'", fn->name);
    if (fn->handler == NULL && fn->kind != LAB_RUNTIME_PROVIDED)
        return FAIL(c, node, "function '%s' is missing required key 'handler' (required for %s)",
                    fn->name, fn->runtime);
    if (fn->handler != NULL && !handler_ok(fn->handler, fn->kind))
        return FAIL(c, yamldoc_get(node, "handler"), fn->kind == LAB_RUNTIME_PROVIDED
                        ? "handler must be 1 to 128 characters without spaces, got %s"
                        : "handler must look like 'module.function' (at most 128 characters, "
                          "no spaces), got %s",
                    quote(&q, fn->handler));
    return check_managed_instances(c, node, fn);
}

static int parse_functions(const cfg_ctx *c, const yamldoc_node *seq, lab_config *cfg)
{
    if (yamldoc_expect(c->d, seq, YAMLDOC_SEQ, "functions", c->err, c->errlen) != 0)
        return -1;
    if (seq->count > LAB_CONFIG_MAX_FUNCTIONS)
        return FAIL(c, seq->values[LAB_CONFIG_MAX_FUNCTIONS], "too many functions: the limit is %d",
                    LAB_CONFIG_MAX_FUNCTIONS);
    if (seq->count == 0)
        return 0;
    cfg->functions = calloc(seq->count, sizeof *cfg->functions);
    if (cfg->functions == NULL)
        return fail_oom(c);
    cfg->function_count = seq->count;
    for (size_t i = 0; i < seq->count; i++) {
        const lab_function_config *fn = &cfg->functions[i];

        if (parse_function(c, seq->values[i], i, &cfg->functions[i]) != 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            const yamldoc_node *first = yamldoc_get(seq->values[j], "name");
            if (strcmp(cfg->functions[j].name, fn->name) == 0)
                return FAIL(c, yamldoc_get(seq->values[i], "name"), "duplicate function name '%s' "
                            "(first defined at line %d)", fn->name, first != NULL ? first->line : 0);
        }
    }
    return 0;
}

static int parse_credential(const cfg_ctx *c, const yamldoc_node *item, size_t pos,
                            lab_credential *cr)
{
    quoted q;

    if (yamldoc_expect(c->d, item, YAMLDOC_MAP, "each entry of credentials", c->err, c->errlen) != 0 ||
        yamldoc_check_keys(c->d, item, credential_keys, "a credentials entry", c->err, c->errlen) != 0)
        return -1;
    for (size_t i = 0; i < item->count; i++) {
        const yamldoc_node *v = item->values[i];

        switch (key_index(item->keys[i], credential_keys)) {
        case CK_ID:
            if (get_text(c, v, "access_key_id", &cr->access_key_id) != 0)
                return -1;
            /* No '/', ',', '=' or spaces: SigV4's Credential= field splits on them. */
            if (!all_chars(cr->access_key_id, 1, MAX_KEY_ID_LEN, "_", false))
                return FAIL(c, v, "access_key_id must be 1 to %d letters, digits or underscores, "
                            "got %s", MAX_KEY_ID_LEN, quote(&q, cr->access_key_id));
            break;
        case CK_SECRET:
            if (get_text(c, v, "secret_access_key", &cr->secret_access_key) != 0)
                return -1;
            if (cr->secret_access_key[0] == '\0' || strlen(cr->secret_access_key) > MAX_SECRET_LEN)
                return FAIL(c, v, "secret_access_key must be 1 to %d characters", MAX_SECRET_LEN);
            break;
        default:
            break;
        }
    }
    if (cr->access_key_id == NULL)
        return FAIL(c, item, "credentials entry #%zu is missing required key 'access_key_id'", pos + 1);
    if (cr->secret_access_key == NULL)
        return FAIL(c, item, "credentials entry #%zu is missing required key 'secret_access_key'",
                     pos + 1);
    return 0;
}

static int parse_credentials(const cfg_ctx *c, const yamldoc_node *seq, lab_config *cfg)
{
    quoted q;

    if (yamldoc_expect(c->d, seq, YAMLDOC_SEQ, "credentials", c->err, c->errlen) != 0)
        return -1;
    if (seq->count == 0)
        return FAIL(c, seq, "credentials must not be empty (leave the key out to accept the "
                    "default pair)");
    if (seq->count > MAX_CREDENTIALS)
        return FAIL(c, seq->values[MAX_CREDENTIALS], "too many credentials: the limit is %d",
                    MAX_CREDENTIALS);
    cfg->credentials = calloc(seq->count, sizeof *cfg->credentials);
    if (cfg->credentials == NULL)
        return fail_oom(c);
    cfg->credential_count = seq->count;
    for (size_t i = 0; i < seq->count; i++) {
        const lab_credential *cr = &cfg->credentials[i];

        if (parse_credential(c, seq->values[i], i, &cfg->credentials[i]) != 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->credentials[j].access_key_id, cr->access_key_id) == 0)
                return FAIL(c, yamldoc_get(seq->values[i], "access_key_id"),
                            "duplicate access_key_id %s", quote(&q, cr->access_key_id));
        }
    }
    return 0;
}

static int parse_root(const cfg_ctx *c, const yamldoc_node *root, lab_config *cfg)
{
    quoted q;

    if (yamldoc_expect(c->d, root, YAMLDOC_MAP, "the configuration (region, account_id, "
                       "credentials, functions)", c->err, c->errlen) != 0 ||
        yamldoc_check_keys(c->d, root, top_keys, "the configuration", c->err, c->errlen) != 0)
        return -1;
    for (size_t i = 0; i < root->count; i++) {
        const yamldoc_node *v = root->values[i];
        int r = 0;

        switch (key_index(root->keys[i], top_keys)) {
        case TK_REGION:
            r = get_text(c, v, "region", &cfg->region);
            /* The region lands in ARNs and in SigV4's credential scope. */
            if (r == 0 && !all_chars(cfg->region, 1, MAX_REGION_LEN, "-", true))
                r = FAIL(c, v, "region must be 1 to %d lowercase letters, digits or hyphens "
                         "(like us-east-1), got %s", MAX_REGION_LEN, quote(&q, cfg->region));
            break;
        case TK_ACCOUNT_ID:
            r = get_text(c, v, "account_id", &cfg->account_id);
            if (r == 0 && !digits(cfg->account_id, 12, 12))
                r = FAIL(c, v, "account_id must be exactly 12 digits (quote it: "
                         "\"000000000000\"), got %s", quote(&q, cfg->account_id));
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
            break;
        }
        if (r != 0)
            return -1;
    }
    return 0;
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

/* The config in d; base_dir (NULL: the cwd) resolves relative code folders. */
static int config_from_doc(const yamldoc *d, const char *base_dir, bool check_code_dirs,
                           lab_config **out, char *err, size_t errlen)
{
    int rc = -1;
    const yamldoc_node *root = yamldoc_root(d);
    lab_config *cfg = NULL;
    char *base_abs = NULL;
    cfg_ctx c = {.d = d, .check_code_dirs = check_code_dirs, .err = err, .errlen = errlen};

    if (root == NULL) {
        rc = FAIL(&c, NULL, "the configuration is empty (expected a mapping with region, account_id, "
                  "credentials and functions)");
        goto cleanup;
    }
    base_abs = path_absolute(base_dir != NULL ? base_dir : ".");
    if (base_abs == NULL) {
        char ebuf[128];
        rc = FAIL(&c, NULL, "cannot make the base folder absolute: %s",
                  strerror_r(errno, ebuf, sizeof ebuf));
        goto cleanup;
    }
    c.base_dir = base_abs;

    cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL) {
        rc = fail_oom(&c);
        goto cleanup;
    }
    cfg->update_delay_ms = 300;
    cfg->account_concurrency = 1000;
    cfg->region = strdup(DEFAULT_REGION);
    cfg->account_id = strdup(DEFAULT_ACCOUNT_ID);
    cfg->path = strdup(yamldoc_name(d)); /* lab_config_load replaces it with the absolute path */
    if (cfg->region == NULL || cfg->account_id == NULL || cfg->path == NULL) {
        rc = fail_oom(&c);
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
    free(base_abs);
    return rc;
}

int lab_config_parse(const char *data, size_t len, const char *name,
                     const char *base_dir, bool check_code_dirs,
                     lab_config **out, char *err, size_t errlen)
{
    int rc;
    yamldoc *d = NULL;

    if (name == NULL)
        name = DEFAULT_NAME;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (out == NULL || (data == NULL && len > 0)) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: invalid arguments", name);
        return -1;
    }
    *out = NULL;
    if (len > (size_t)LAB_CONFIG_MAX_BYTES) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: configuration is %zu bytes; the limit is %d", name, len,
                     LAB_CONFIG_MAX_BYTES);
        return -1;
    }
    if (yamldoc_parse(data, len, name, &d, err, errlen) != 0)
        return -1;
    rc = config_from_doc(d, base_dir, check_code_dirs, out, err, errlen);
    yamldoc_free(d);
    return rc;
}

int lab_config_load(const char *path, lab_config **out, char *err, size_t errlen)
{
    int rc = -1;
    char *abs = NULL, *dir = NULL, *slash;
    yamldoc *d = NULL;
    lab_config *cfg = NULL;
    struct stat st;

    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "lab_config_load: invalid arguments");
        goto cleanup;
    }
    /* The lab's bound is below yamldoc's, so a file over it is refused
     * unread. Only a regular file has a size to check; anything else (a
     * pipe) is bounded by yamldoc_load's YAMLDOC_MAX_BYTES. A stat that
     * fails is left to yamldoc_load to report. */
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > (off_t)LAB_CONFIG_MAX_BYTES) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: file is larger than the limit of %d bytes", path,
                     LAB_CONFIG_MAX_BYTES);
        goto cleanup;
    }
    if (yamldoc_load(path, &d, err, errlen) != 0)
        goto cleanup;
    /* The folder of the path as given, not of its symlink target: code
     * folders sit next to the file the user named. */
    abs = path_absolute(path);
    dir = abs != NULL ? strdup(abs) : NULL;
    if (dir == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: cannot make the path absolute", path);
        goto cleanup;
    }
    slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    if (config_from_doc(d, dir, true, &cfg, err, errlen) != 0)
        goto cleanup;
    free(cfg->path);
    cfg->path = abs;
    abs = NULL;
    *out = cfg;
    cfg = NULL;
    rc = 0;
cleanup:
    lab_config_free(&cfg);
    yamldoc_free(d);
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
    free(fn->kms_key_arn);
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
