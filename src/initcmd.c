/*
 * initcmd — `coldsec init`: a starter suite (and, for a local handler, the
 * lab functions file it points to) for one function. See initcmd.h.
 *
 * The written YAML is meant to be read and edited: every choice coldsec
 * made (runtime, handler, envelope, where {{user.id}} went) is said in a
 * comment next to it, with what to check. The baseline is written as a JSON
 * flow mapping (JSON is YAML), so an event's strings keep their exact text.
 */
#include "initcmd.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "awsconf.h"
#include "fileio.h"
#include "lambda_client.h"

#define INITCMD_MAX_EVENT ((size_t)6 * 1024 * 1024) /* Lambda's synchronous payload limit */
#define INITCMD_MAX_SOURCE ((size_t)4 * 1024 * 1024) /* a handler file we read for its handler */
#define INITCMD_MAX_FILES 512

enum { INIT_OK = 0, INIT_USAGE = 2, INIT_UNTESTABLE = 3 };

/* Runtimes written for a guessed kind: the oldest ones Lambda Managed
 * Instances also support (Python 3.13+, Node.js 22+), so the suite stays
 * valid if the function moves there. */
#define DEFAULT_PYTHON "python3.13"
#define DEFAULT_NODE "nodejs22.x"

static const char *const SCENARIOS_DEFAULT =
    "[cross-user-leak, secret-exposure, injection-persistence, tmp-residue, memory-growth, config]";

/* ---------- pure parts ---------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_node_file(const char *name)
{
    return strcmp(name, "package.json") == 0 || ends_with(name, ".js") || ends_with(name, ".mjs") ||
           ends_with(name, ".cjs");
}

initcmd_runtime initcmd_guess_runtime(const char *const *names, size_t count)
{
    bool py = false, node = false;
    for (size_t i = 0; i < count; i++) {
        if (!names[i])
            continue;
        if (ends_with(names[i], ".py"))
            py = true;
        else if (is_node_file(names[i]))
            node = true;
    }
    if (py == node)
        return INITCMD_RUNTIME_UNKNOWN;
    return py ? INITCMD_RUNTIME_PYTHON : INITCMD_RUNTIME_NODE;
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* p points at a word; true when it is exactly word (not a prefix of a
 * longer identifier), with *after set past it. */
static bool word_at(const char *p, const char *word, const char **after)
{
    size_t n = strlen(word);
    if (strncmp(p, word, n) != 0 || ident_char(p[n]))
        return false;
    *after = p + n;
    return true;
}

static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Node.js forms at p (the start of a line, blanks skipped) that define fn. */
static bool node_defines(const char *p, const char *fn)
{
    const char *q;
    if (word_at(p, "module", &q) && *q == '.')
        p = q + 1;
    if (word_at(p, "exports", &q) && *q == '.') {
        if (!word_at(q + 1, fn, &q))
            return false;
        q = skip_blanks(q);
        return *q == '=' && q[1] != '=';
    }
    if (!word_at(p, "export", &q))
        return false;
    p = skip_blanks(q);
    if (word_at(p, "const", &q) || word_at(p, "let", &q) || word_at(p, "var", &q))
        return word_at(skip_blanks(q), fn, &q);
    if (word_at(p, "async", &q))
        p = skip_blanks(q);
    if (!word_at(p, "function", &q))
        return false;
    return word_at(skip_blanks(q), fn, &q);
}

static bool py_defines(const char *p, const char *fn)
{
    const char *q;
    if (word_at(p, "async", &q))
        p = skip_blanks(q);
    if (!word_at(p, "def", &q))
        return false;
    if (!word_at(skip_blanks(q), fn, &q))
        return false;
    return *skip_blanks(q) == '(';
}

int initcmd_guess_handler(initcmd_runtime rt, const char *name, const char *text, char *out, size_t outlen)
{
    static const char *const fns[] = {"handler", "lambda_handler"};
    const char *dot = strrchr(name, '.');
    size_t modlen = dot ? (size_t)(dot - name) : 0;

    if (modlen == 0 || rt == INITCMD_RUNTIME_UNKNOWN)
        return -1;
    for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
        for (const char *line = text; line && *line;) {
            /* Python: a top-level def only (indented ones are methods). */
            const char *p = rt == INITCMD_RUNTIME_PYTHON ? line : skip_blanks(line);
            if (rt == INITCMD_RUNTIME_PYTHON ? py_defines(p, fns[f]) : node_defines(p, fns[f])) {
                int n = snprintf(out, outlen, "%.*s.%s", (int)modlen, name, fns[f]);
                return n < 0 || (size_t)n >= outlen ? -1 : 1;
            }
            line = strchr(line, '\n');
            if (line)
                line++;
        }
    }
    return 0;
}

/* Member names that usually carry who is asking, compared with case and
 * '-'/'_' ignored. */
static bool identity_name(const char *name)
{
    static const char *const names[] = {"user", "userid", "username", "sub", "customer", "customerid",
                                        "owner", "ownerid", "accountid", "tenant", "tenantid", "principalid"};
    char norm[64];
    size_t k = 0;
    for (const char *p = name; *p && k + 1 < sizeof(norm); p++) {
        if (*p == '_' || *p == '-')
            continue;
        norm[k++] = (char)tolower((unsigned char)*p);
    }
    norm[k] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(norm, names[i]) == 0)
            return true;
    return false;
}

/* The last two unescaped segments of pointer into last and parent ("" when
 * absent). */
static void pointer_tail(const char *pointer, char *parent, char *last, size_t len)
{
    const char *segs[2] = {"", ""};
    size_t lens[2] = {0, 0};
    for (const char *p = pointer; (p = strchr(p, '/')) != NULL;) {
        const char *e = strchr(p + 1, '/');
        segs[0] = segs[1];
        lens[0] = lens[1];
        segs[1] = p + 1;
        lens[1] = e ? (size_t)(e - p - 1) : strlen(p + 1);
        p = p + 1;
    }
    for (int i = 0; i < 2; i++) {
        char *o = i == 0 ? parent : last;
        size_t k = 0;
        for (size_t j = 0; j < lens[i] && k + 1 < len; j++) {
            char c = segs[i][j];
            if (c == '~' && j + 1 < lens[i]) {
                c = segs[i][j + 1] == '1' ? '/' : '~';
                j++;
            }
            o[k++] = c;
        }
        o[k] = '\0';
    }
}

static int guess_identity(const cJSON *ev, char *placed, size_t placedlen)
{
    event_fields f = {0};
    int found = 0;
    if (event_fields_list(ev, EVENT_LEAVES, &f) != 0)
        return -1;
    for (size_t i = 0; i < f.count && !found; i++) {
        char parent[128], last[128];
        const cJSON *v = event_get(ev, f.paths[i]);
        if (!cJSON_IsString(v) && !cJSON_IsNumber(v))
            continue;
        pointer_tail(f.paths[i], parent, last, sizeof(last));
        if (identity_name(last) || (strcmp(last, "id") == 0 && identity_name(parent))) {
            snprintf(placed, placedlen, "%s", f.paths[i]);
            found = 1;
        }
    }
    event_fields_free(&f);
    return found;
}

int initcmd_place_identity(cJSON **ev, const char *pointer, char *placed, size_t placedlen, char *err,
                           size_t errlen)
{
    cJSON *open = NULL, *v;
    event_fields embedded = {0};
    int rc = -1;

    if (!ev || !*ev || placedlen == 0) {
        snprintf(err, errlen, "no event");
        return -1;
    }
    placed[0] = '\0';
    if (event_embedded_open(*ev, &open, &embedded) != 0) {
        snprintf(err, errlen, "the event is nested deeper than %d levels", EVENT_MAX_DEPTH);
        return -1;
    }
    if (pointer) {
        if (snprintf(placed, placedlen, "%s", pointer) >= (int)placedlen) {
            snprintf(err, errlen, "pointer too long");
            goto cleanup;
        }
    } else {
        int found = guess_identity(open, placed, placedlen);
        if (found < 0) {
            snprintf(err, errlen, "the event has too many fields or is nested too deep");
            goto cleanup;
        }
        if (found == 0) {
            rc = 0;
            goto cleanup;
        }
    }
    v = event_get(open, placed);
    if (!v) {
        snprintf(err, errlen, "no such field in the event (a JSON Pointer, e.g. /user/id)");
        goto cleanup;
    }
    if (!cJSON_IsString(v) && !cJSON_IsNumber(v)) {
        snprintf(err, errlen, "the value there is not a string or a number");
        goto cleanup;
    }
    v = cJSON_CreateString("{{user.id}}");
    if (!v || event_replace(open, placed, v) != 0 || event_embedded_close(open, &embedded) != 0) {
        snprintf(err, errlen, "out of memory");
        goto cleanup;
    }
    cJSON_Delete(*ev);
    *ev = open;
    open = NULL;
    rc = 1;
cleanup:
    cJSON_Delete(open);
    event_fields_free(&embedded);
    return rc;
}

/* 1-based line and column of offset in text. */
static void line_col(const char *text, size_t offset, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static const char *json_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The trigger an event came from, by the members AWS documents for each
 * payload: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * (version "2.0", requestContext.http), https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
 * (the same 2.0 shape, domainName *.lambda-url.REGION.on.aws), and
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
 * (REST: httpMethod, resource, requestContext). */
static event_envelope envelope_of(const cJSON *ev)
{
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(ev, "requestContext");
    const char *version = json_string(ev, "version"), *domain;
    if (!cJSON_IsObject(rc))
        return EVENT_ENVELOPE_RAW;
    if (version && strcmp(version, "2.0") == 0 && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rc, "http"))) {
        domain = json_string(rc, "domainName");
        return domain && strstr(domain, ".lambda-url.") ? EVENT_ENVELOPE_FUNCTION_URL : EVENT_ENVELOPE_APIGW_V2;
    }
    if (json_string(ev, "httpMethod"))
        return EVENT_ENVELOPE_APIGW_V1;
    return EVENT_ENVELOPE_RAW;
}

int initcmd_read_event(const char *path, cJSON **baseline, event_envelope *env, char *err, size_t errlen)
{
    size_t len = 0, line, col;
    char *text = fileio_read(path, INITCMD_MAX_EVENT, &len);
    const char *end = NULL;
    cJSON *ev = NULL, *body = NULL;
    const cJSON *b;
    int rc = -1;

    *baseline = NULL;
    *env = EVENT_ENVELOPE_RAW;
    if (!text) {
        snprintf(err, errlen, "%s: %s", path, errno == EFBIG ? "larger than Lambda's 6 MB payload limit" : strerror(errno));
        return -1;
    }
    /* len + 1: cJSON wants the terminating NUL inside the length. */
    ev = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (!ev) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        if (!end) {
            const char *e = cJSON_GetErrorPtr();
            off = e && e >= text && e <= text + len ? (size_t)(e - text) : 0;
        }
        line_col(text, off, &line, &col);
        snprintf(err, errlen, "%s:%zu:%zu: not JSON (a sample event is one JSON value)", path, line, col);
        goto cleanup;
    }
    *env = envelope_of(ev);
    if (*env == EVENT_ENVELOPE_RAW) {
        *baseline = ev;
        ev = NULL;
        rc = 0;
        goto cleanup;
    }
    /* An HTTP event: coldsec builds the envelope itself (event_wrap), so
     * the baseline is what the client sent, the body. */
    b = cJSON_GetObjectItemCaseSensitive(ev, "body");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "isBase64Encoded"))) {
        snprintf(err, errlen, "%s: the body is base64 (isBase64Encoded): give the event with its body decoded",
                 path);
        goto cleanup;
    }
    if (!b || cJSON_IsNull(b)) {
        body = cJSON_CreateObject();
    } else if (!cJSON_IsString(b) || !(body = cJSON_Parse(b->valuestring))) {
        snprintf(err, errlen, "%s: the %s event's body is not JSON: coldsec's baseline is a JSON body", path,
                 event_envelope_name(*env));
        goto cleanup;
    }
    if (!body) {
        snprintf(err, errlen, "out of memory");
        goto cleanup;
    }
    *baseline = body;
    rc = 0;
cleanup:
    cJSON_Delete(ev);
    free(text);
    return rc;
}

/* ---------- shapes ---------- */

static cJSON *starter_body(void)
{
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "user_id", "{{user.id}}") || !cJSON_AddStringToObject(o, "item", "book"))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* An SQS event of one record, its body the starter body as JSON text:
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (example
 * event). coldsec has no SQS envelope, so it is sent raw. */
static cJSON *sqs_event(void)
{
    cJSON *ev = cJSON_CreateObject(), *recs, *r, *attrs, *body = starter_body();
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!ev || !text || !(recs = cJSON_AddArrayToObject(ev, "Records")) || !(r = cJSON_CreateObject()))
        goto fail;
    cJSON_AddItemToArray(recs, r);
    cJSON_AddStringToObject(r, "messageId", "059f36b4-87a3-44ab-83d2-661975830a7d");
    cJSON_AddStringToObject(r, "receiptHandle", "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a");
    cJSON_AddStringToObject(r, "body", text);
    attrs = cJSON_AddObjectToObject(r, "attributes");
    cJSON_AddStringToObject(attrs, "ApproximateReceiveCount", "1");
    cJSON_AddStringToObject(attrs, "SentTimestamp", "1545082649183");
    cJSON_AddStringToObject(attrs, "SenderId", "AIDAIENQZJOLO23YVJ4VO");
    cJSON_AddStringToObject(attrs, "ApproximateFirstReceiveTimestamp", "1545082649185");
    cJSON_AddObjectToObject(r, "messageAttributes");
    cJSON_AddStringToObject(r, "eventSource", "aws:sqs");
    cJSON_AddStringToObject(r, "eventSourceARN", "arn:aws:sqs:us-east-1:123456789012:my-queue");
    cJSON_AddStringToObject(r, "awsRegion", "us-east-1");
    free(text);
    return ev;
fail:
    free(text);
    cJSON_Delete(ev);
    return NULL;
}

/* ---------- the command ---------- */

typedef struct init_opts {
    const char *out, *lab_out, *handler_dir, *function, *region, *profile, *endpoint, *ca_bundle;
    const char *event, *shape, *identity, *runtime, *handler_name, *name;
} init_opts;

/* What the written suite says about its baseline and target. */
typedef struct init_plan {
    char runtime[32], handler[257], name[65], code[PATH_MAX + 1];
    char region[64];           /* the region awsconf resolved (AWS target) */
    char placed[512];          /* where {{user.id}} went, "" when nowhere */
    char source[PATH_MAX + 64];/* "event file X" or "shape Y" */
    event_envelope env;
    bool sqs;
    cJSON *baseline;
    cJSON *config;             /* GetFunctionConfiguration's answer (AWS target) */
} init_plan;

static const char INIT_HELP[] =
    "usage: coldsec init --handler DIR [--runtime R] [--handler-name MODULE.FUNCTION] [--name NAME]\n"
    "       coldsec init --function NAME|ARN [--region R] [--profile P] [--endpoint URL] [--ca-bundle FILE]\n"
    "       both: [--event FILE [--identity POINTER] | --shape SHAPE] [--out FILE] [--lab-out FILE]\n"
    "Writes a starter suite for one function into the current folder (coldsec.yaml, or --out) and,\n"
    "for --handler, the lab functions file it points to (coldsec-lab.yaml, or --lab-out). Never\n"
    "overwrites a file: exit 2 when one exists.\n\n"
    "  --handler DIR         a local handler folder, run on coldsec-lab; runtime and handler are guessed\n"
    "                        from its files, asked on a terminal where they cannot be\n"
    "  --runtime R           python or nodejs (or a Lambda runtime id: python3.13, nodejs22.x)\n"
    "  --handler-name M.F    the handler (handler.handler, index.handler)\n"
    "  --name NAME           the function's name in the lab (default: the folder's name)\n"
    "  --function NAME|ARN   an AWS function: one read-only GetFunctionConfiguration, nothing changed\n"
    "  --event FILE          the baseline from a sample event (JSON; an HTTP event's body)\n"
    "  --identity POINTER    where {{user.id}} goes in that event (JSON Pointer, e.g. /body/user/id);\n"
    "                        default: the first field named like user, userId, sub, customer...\n"
    "  --shape SHAPE         a starter baseline: raw (default), apigw-v1, apigw-v2, function-url, sqs\n"
    "  --out FILE            the suite (default coldsec.yaml)\n"
    "  --lab-out FILE        the lab functions file (default coldsec-lab.yaml)\n"
    "  --region R, --profile P, --endpoint URL, --ca-bundle FILE   as for the other commands\n";

enum {
    IO_OUT = 300, IO_LAB_OUT, IO_HANDLER, IO_FUNCTION, IO_REGION, IO_PROFILE, IO_ENDPOINT, IO_CA_BUNDLE,
    IO_EVENT, IO_SHAPE, IO_IDENTITY, IO_RUNTIME, IO_HANDLER_NAME, IO_NAME, IO_HELP
};

static int parse_opts(int argc, char **argv, init_opts *o)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, IO_OUT}, {"lab-out", required_argument, NULL, IO_LAB_OUT},
        {"handler", required_argument, NULL, IO_HANDLER}, {"function", required_argument, NULL, IO_FUNCTION},
        {"region", required_argument, NULL, IO_REGION}, {"profile", required_argument, NULL, IO_PROFILE},
        {"endpoint", required_argument, NULL, IO_ENDPOINT}, {"ca-bundle", required_argument, NULL, IO_CA_BUNDLE},
        {"event", required_argument, NULL, IO_EVENT}, {"shape", required_argument, NULL, IO_SHAPE},
        {"identity", required_argument, NULL, IO_IDENTITY}, {"runtime", required_argument, NULL, IO_RUNTIME},
        {"handler-name", required_argument, NULL, IO_HANDLER_NAME}, {"name", required_argument, NULL, IO_NAME},
        {"help", no_argument, NULL, IO_HELP}, {NULL, 0, NULL, 0}};
    int opt;

    memset(o, 0, sizeof(*o));
    o->out = "coldsec.yaml";
    o->lab_out = "coldsec-lab.yaml";
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case IO_OUT: o->out = optarg; break;
        case IO_LAB_OUT: o->lab_out = optarg; break;
        case IO_HANDLER: o->handler_dir = optarg; break;
        case IO_FUNCTION: o->function = optarg; break;
        case IO_REGION: o->region = optarg; break;
        case IO_PROFILE: o->profile = optarg; break;
        case IO_ENDPOINT: o->endpoint = optarg; break;
        case IO_CA_BUNDLE: o->ca_bundle = optarg; break;
        case IO_EVENT: o->event = optarg; break;
        case IO_SHAPE: o->shape = optarg; break;
        case IO_IDENTITY: o->identity = optarg; break;
        case IO_RUNTIME: o->runtime = optarg; break;
        case IO_HANDLER_NAME: o->handler_name = optarg; break;
        case IO_NAME: o->name = optarg; break;
        case IO_HELP: fputs(INIT_HELP, stdout); return -1;
        default: fprintf(stderr, "coldsec init: see `coldsec init --help`\n"); return INIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "coldsec init: unexpected argument \"%s\"; see `coldsec init --help`\n", argv[optind]);
        return INIT_USAGE;
    }
    if (!o->handler_dir == !o->function) {
        fprintf(stderr, "coldsec init: give one of --handler DIR (a lab target) or --function NAME|ARN (AWS)\n");
        return INIT_USAGE;
    }
    if (o->event && o->shape) {
        fprintf(stderr, "coldsec init: --event and --shape both give the baseline: pass one\n");
        return INIT_USAGE;
    }
    if (o->identity && !o->event) {
        fprintf(stderr, "coldsec init: --identity places {{user.id}} in an --event FILE\n");
        return INIT_USAGE;
    }
    if (o->handler_dir && (o->region || o->profile || o->endpoint || o->ca_bundle)) {
        fprintf(stderr, "coldsec init: --region, --profile, --endpoint and --ca-bundle are for --function\n");
        return INIT_USAGE;
    }
    if (o->handler_dir && (strchr(o->out, '/') || strchr(o->lab_out, '/'))) {
        /* The suite names the lab file by a path relative to itself, and
         * the lab file the code relative to itself: both in one folder. */
        fprintf(stderr, "coldsec init: with --handler, --out and --lab-out are file names in the current folder\n");
        return INIT_USAGE;
    }
    if (o->function && (o->runtime || o->handler_name || o->name)) {
        fprintf(stderr, "coldsec init: --runtime, --handler-name and --name are for --handler (AWS says them)\n");
        return INIT_USAGE;
    }
    return 0;
}

/* A line the user typed on the terminal (without its newline) into out,
 * or -1 at end of input. */
static int ask(const char *question, char *out, size_t len)
{
    size_t n;
    fputs(question, stderr);
    fflush(stderr);
    if (!fgets(out, (int)len, stdin))
        return -1;
    n = strcspn(out, "\r\n");
    out[n] = '\0';
    return 0;
}

static int runtime_id(const char *given, char *out, size_t len)
{
    if (strcmp(given, "python") == 0)
        given = DEFAULT_PYTHON;
    else if (strcmp(given, "nodejs") == 0 || strcmp(given, "node") == 0)
        given = DEFAULT_NODE;
    if ((strncmp(given, "python3.", 8) == 0 && isdigit((unsigned char)given[8])) ||
        (strncmp(given, "nodejs", 6) == 0 && isdigit((unsigned char)given[6]) && ends_with(given, ".x"))) {
        snprintf(out, len, "%s", given);
        return 0;
    }
    fprintf(stderr, "coldsec init: --runtime: python or nodejs (or python3.N, nodejsN.x), not \"%s\"\n", given);
    return -1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The handler folder's top-level file names, sorted (so guesses do not
 * depend on the file system's order). */
static int list_dir(const char *dir, char ***names, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    *names = NULL;
    *count = 0;
    if (!d) {
        fprintf(stderr, "coldsec init: --handler %s: %s\n", dir, strerror(errno));
        return -1;
    }
    *names = calloc(INITCMD_MAX_FILES, sizeof(char *));
    while (*names && (e = readdir(d)) != NULL && *count < INITCMD_MAX_FILES) {
        if (e->d_name[0] == '.')
            continue;
        if (!((*names)[*count] = strdup(e->d_name)))
            break;
        (*count)++;
    }
    closedir(d);
    if (!*names)
        return -1;
    qsort(*names, *count, sizeof(char *), cmp_names);
    return 0;
}

static void free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

static bool runtime_file(initcmd_runtime rt, const char *name)
{
    return rt == INITCMD_RUNTIME_PYTHON ? ends_with(name, ".py")
                                        : (ends_with(name, ".js") || ends_with(name, ".mjs") || ends_with(name, ".cjs"));
}

static int lab_plan(const init_opts *o, bool tty, init_plan *p)
{
    char **names = NULL, answer[256], found[160] = "";
    size_t count = 0;
    int nfound = 0, rc = -1;
    initcmd_runtime rt;
    char real[PATH_MAX];
    const char *base;

    if (list_dir(o->handler_dir, &names, &count) != 0)
        return -1;
    if (o->runtime) {
        if (runtime_id(o->runtime, p->runtime, sizeof(p->runtime)) != 0)
            goto cleanup;
    } else {
        rt = initcmd_guess_runtime((const char *const *)names, count);
        if (rt == INITCMD_RUNTIME_UNKNOWN) {
            if (!tty) {
                fprintf(stderr,
                        "coldsec init: --handler %s: cannot tell the runtime from its files (%s): pass --runtime "
                        "python or --runtime nodejs\n",
                        o->handler_dir, count ? "both Python and Node.js files" : "no .py, .js, .mjs or package.json");
                goto cleanup;
            }
            if (ask("coldsec init: runtime of the handler (python or nodejs)? ", answer, sizeof(answer)) != 0 ||
                runtime_id(answer, p->runtime, sizeof(p->runtime)) != 0)
                goto cleanup;
        } else {
            snprintf(p->runtime, sizeof(p->runtime), "%s", rt == INITCMD_RUNTIME_PYTHON ? DEFAULT_PYTHON : DEFAULT_NODE);
        }
    }
    rt = strncmp(p->runtime, "python", 6) == 0 ? INITCMD_RUNTIME_PYTHON : INITCMD_RUNTIME_NODE;
    if (o->handler_name) {
        snprintf(p->handler, sizeof(p->handler), "%s", o->handler_name);
    } else {
        for (size_t i = 0; i < count; i++) {
            char path[PATH_MAX + 256], h[160];
            size_t len;
            char *text;
            if (!runtime_file(rt, names[i]))
                continue;
            snprintf(path, sizeof(path), "%s/%s", o->handler_dir, names[i]);
            if (!(text = fileio_read(path, INITCMD_MAX_SOURCE, &len)))
                continue;
            if (initcmd_guess_handler(rt, names[i], text, h, sizeof(h)) == 1) {
                if (nfound++ == 0)
                    snprintf(found, sizeof(found), "%s", h);
            }
            free(text);
        }
        if (nfound == 1) {
            snprintf(p->handler, sizeof(p->handler), "%s", found);
        } else if (!tty) {
            fprintf(stderr, "coldsec init: --handler %s: %s: pass --handler-name MODULE.FUNCTION\n", o->handler_dir,
                    nfound ? "several files define a handler" : "no file defines `handler` or `lambda_handler`");
            goto cleanup;
        } else if (ask("coldsec init: the handler (MODULE.FUNCTION, e.g. handler.handler)? ", answer,
                       sizeof(answer)) != 0 || !strchr(answer, '.')) {
            fprintf(stderr, "coldsec init: a handler is MODULE.FUNCTION (pass --handler-name)\n");
            goto cleanup;
        } else {
            snprintf(p->handler, sizeof(p->handler), "%s", answer);
        }
    }
    if (!strchr(p->handler, '.') || strchr(p->handler, '\n') || strchr(p->handler, '"')) {
        fprintf(stderr, "coldsec init: --handler-name: MODULE.FUNCTION, not \"%s\"\n", p->handler);
        goto cleanup;
    }
    if (!realpath(o->handler_dir, real)) {
        fprintf(stderr, "coldsec init: --handler %s: %s\n", o->handler_dir, strerror(errno));
        goto cleanup;
    }
    /* Code: as given when relative and both files go to the current folder
     * (the lab resolves it against its file's folder), else absolute. */
    if (o->handler_dir[0] != '/')
        snprintf(p->code, sizeof(p->code), "%s", o->handler_dir);
    else
        snprintf(p->code, sizeof(p->code), "%s", real);
    base = o->name;
    if (!base) {
        base = strrchr(real, '/');
        base = base && base[1] ? base + 1 : "my-function";
    }
    {
        size_t k = 0;
        for (const char *c = base; *c && k + 1 < sizeof(p->name); c++)
            p->name[k++] = (isalnum((unsigned char)*c) || *c == '-' || *c == '_') ? *c : '-';
        p->name[k] = '\0';
        if (o->name && strcmp(p->name, o->name) != 0) {
            fprintf(stderr, "coldsec init: --name: letters, digits, '-' and '_', at most 64, not \"%s\"\n", o->name);
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    free_names(names, count);
    return rc;
}

static int aws_plan(const init_opts *o, init_plan *p)
{
    awsconf_options ao = {.profile = o->profile, .region = o->region, .endpoint = o->endpoint,
                          .ca_bundle = o->ca_bundle};
    awsconf *conf = NULL;
    lambda_client_options lo;
    lambda_client *client = NULL;
    lambda_error lerr;
    char err[1024];
    int rc = INIT_USAGE;
    const char *n;

    if (awsconf_resolve(&ao, &conf, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec init: %s\n", err);
        goto cleanup;
    }
    memset(&lo, 0, sizeof(lo));
    lo.endpoint = awsconf_endpoint(conf);
    lo.region = awsconf_region(conf);
    lo.cred = awsconf_credentials(conf);
    lo.ca_bundle = awsconf_ca_bundle(conf);
    if (!(client = lambda_client_new(&lo, err, sizeof(err)))) {
        fprintf(stderr, "coldsec init: %s\n", err);
        goto cleanup;
    }
    /* Read-only: GetFunctionConfiguration, nothing else
     * (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html). */
    if (lambda_get_configuration(client, o->function, NULL, &p->config, &lerr) != 0) {
        lambda_error_format(&lerr, err, sizeof(err));
        fprintf(stderr, "coldsec init: --function %s: %s\n", o->function, err);
        rc = INIT_UNTESTABLE;
        goto cleanup;
    }
    snprintf(p->region, sizeof(p->region), "%s", awsconf_region(conf));
    n = json_string(p->config, "FunctionName");
    snprintf(p->name, sizeof(p->name), "%s", n ? n : "my-function");
    n = json_string(p->config, "Runtime");
    snprintf(p->runtime, sizeof(p->runtime), "%s", n ? n : "");
    n = json_string(p->config, "Handler");
    snprintf(p->handler, sizeof(p->handler), "%s", n ? n : "");
    rc = INIT_OK;
cleanup:
    lambda_client_free(client);
    awsconf_free(conf);
    return rc;
}

static int baseline_plan(const init_opts *o, init_plan *p)
{
    char err[1024];
    p->env = EVENT_ENVELOPE_RAW;
    if (o->event) {
        int placed;
        if (initcmd_read_event(o->event, &p->baseline, &p->env, err, sizeof(err)) != 0) {
            fprintf(stderr, "coldsec init: --event %s\n", err);
            return -1;
        }
        snprintf(p->source, sizeof(p->source), "the event file %s", o->event);
        if (o->identity && p->env != EVENT_ENVELOPE_RAW) {
            /* The pointer names a place in the file; coldsec sends the body
             * and builds the envelope around it. */
            if (strncmp(o->identity, "/body/", 6) != 0) {
                fprintf(stderr,
                        "coldsec init: --identity %s: this is an %s event and coldsec builds its envelope (the "
                        "requestContext is generated): the identity must be in the body, e.g. /body/user_id\n",
                        o->identity, event_envelope_name(p->env));
                return -1;
            }
        }
        placed = initcmd_place_identity(&p->baseline,
                                        o->identity && p->env != EVENT_ENVELOPE_RAW ? o->identity + 5 : o->identity,
                                        p->placed, sizeof(p->placed), err, sizeof(err));
        if (placed < 0) {
            fprintf(stderr, "coldsec init: --event %s: %s%s%s%s\n", o->event, o->identity ? "--identity " : "",
                    o->identity ? o->identity : "", o->identity ? ": " : "", err);
            return -1;
        }
        if (placed == 0)
            fprintf(stderr, "coldsec init: warning: no field of %s looks like the caller's identity: put "
                            "\"{{user.id}}\" there in the suite's baseline (or pass --identity POINTER)\n",
                    o->event);
        return 0;
    }
    if (o->shape && strcmp(o->shape, "sqs") == 0) {
        p->sqs = true;
        p->baseline = sqs_event();
        snprintf(p->placed, sizeof(p->placed), "/Records/0/body/user_id");
    } else {
        if (o->shape && event_envelope_parse(o->shape, &p->env) != 0) {
            fprintf(stderr, "coldsec init: --shape: raw, apigw-v1, apigw-v2, function-url or sqs, not \"%s\"\n",
                    o->shape);
            return -1;
        }
        p->baseline = starter_body();
        snprintf(p->placed, sizeof(p->placed), "/user_id");
    }
    snprintf(p->source, sizeof(p->source), "the %s shape", o->shape ? o->shape : "raw");
    if (!p->baseline) {
        fprintf(stderr, "coldsec init: out of memory\n");
        return -1;
    }
    return 0;
}

/* A YAML double-quoted scalar of s (JSON's escaping is YAML's). */
static void put_quoted(FILE *f, const char *s)
{
    cJSON *str = cJSON_CreateString(s);
    char *q = str ? cJSON_PrintUnformatted(str) : NULL;
    fputs(q ? q : "\"\"", f);
    free(q);
    cJSON_Delete(str);
}

static void write_baseline(FILE *f, const init_plan *p)
{
    char *json = cJSON_PrintUnformatted(p->baseline);
    const char *env = event_envelope_name(p->env);

    fprintf(f, "    # The baseline: what a normal request to the function looks like, from %s.\n", p->source);
    if (p->env != EVENT_ENVELOPE_RAW)
        fprintf(f, "    # It is the HTTP body: coldsec wraps it in the %s envelope itself (headers,\n"
                   "    # requestContext), so anything your function reads outside the body is not varied.\n",
                env);
    if (p->sqs)
        fprintf(f, "    # An SQS event, sent raw (coldsec has no SQS envelope); the scenarios vary the fields\n"
                   "    # inside the record's body too. Use one record, or one per message your code reads.\n");
    if (p->placed[0])
        fprintf(f, "    # {{user.id}} (the caller's identity: scenarios give each user their own and never\n"
                   "    # vary it) was placed at %s%s. CHECK that this is where your function reads who\n"
                   "    # is asking; move it if not.\n",
                p->env != EVENT_ENVELOPE_RAW ? "/body" : "", p->placed);
    else
        fprintf(f, "    # NO identity was placed: no field looked like one. Put \"{{user.id}}\" where your\n"
                   "    # function reads who is asking, or cross-user-leak cannot tell users apart.\n");
    fprintf(f, "    baseline: %s\n", json ? json : "{}");
    free(json);
}

static void write_envelope(FILE *f, const init_plan *p, bool aws)
{
    fprintf(f, "    # The trigger's envelope: raw (the event as it is), apigw-v1 (API Gateway REST),\n"
               "    # apigw-v2 (HTTP API), function-url.%s\n",
            aws ? " A function's configuration does not say which trigger calls\n"
                  "    # it (a function URL or API Gateway is configured elsewhere): PICK the one its\n"
                  "    # callers use."
                : "");
    fprintf(f, "    envelope: %s\n", event_envelope_name(p->env));
}

static void write_scenarios(FILE *f, bool managed)
{
    fprintf(f, "    # Scenarios to run (see scenarios/ and docs/scenarios/): drop the ones that do not fit;\n"
               "    # concurrent-state applies to Lambda Managed Instances functions (several requests\n"
               "    # per environment) and answers not_applicable on others.\n");
    if (managed)
        fprintf(f, "    scenarios: [cross-user-leak, concurrent-state, secret-exposure, injection-persistence, "
                   "tmp-residue, memory-growth, config]\n");
    else
        fprintf(f, "    scenarios: %s\n", SCENARIOS_DEFAULT);
}

static void write_header(FILE *f, const init_opts *o)
{
    fprintf(f, "# coldsec suite written by `coldsec init`: one target to start from. Read the comments,\n"
               "# change what they say, then: coldsec run %s\n", o->out);
    fprintf(f, "version: 1\n"
               "# The plan's seed: the same seed, the same requests (--seed overrides).\n"
               "seed: 1\n"
               "# The gate: findings at or above this severity make `coldsec run` exit 1 (critical, high,\n"
               "# medium, low, info; --fail-on overrides).\n"
               "fail_on: medium\n");
}

static void write_suite(FILE *f, const init_opts *o, const init_plan *p)
{
    write_header(f, o);
    if (o->handler_dir) {
        fprintf(f, "# The lab functions file: coldsec run starts coldsec-lab with it (no AWS account needed).\n"
                   "lab: {config: ");
        put_quoted(f, o->lab_out);
        fprintf(f, "}\ntargets:\n  - function: %s\n", p->name);
        fprintf(f, "    # On the lab: runtime %s, handler %s, code %s (in %s).\n", p->runtime, p->handler, p->code,
                o->lab_out);
        write_envelope(f, p, false);
    } else {
        const cJSON *mem = cJSON_GetObjectItemCaseSensitive(p->config, "MemorySize");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(p->config, "Timeout");
        const char *arn = json_string(p->config, "FunctionArn");
        const char *pkg = json_string(p->config, "PackageType");
        long conc = 1;
        const cJSON *cp = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(p->config, "CapacityProviderConfig"),
            "LambdaManagedInstancesCapacityProviderConfig");
        const cJSON *mc = cJSON_GetObjectItemCaseSensitive(cp, "PerExecutionEnvironmentMaxConcurrency");
        if (cJSON_IsNumber(mc))
            conc = (long)mc->valuedouble;
        fprintf(f, "targets:\n  - name: %s\n    function: ", p->name);
        put_quoted(f, o->function);
        fprintf(f, "\n    # GetFunctionConfiguration (read only) said: %s\n"
                   "    # runtime %s, handler %s, memory %d MB, timeout %d s%s.\n",
                arn ? arn : "(no FunctionArn)", p->runtime[0] ? p->runtime : "none (container image?)",
                p->handler[0] ? p->handler : "none", cJSON_IsNumber(mem) ? mem->valueint : 0,
                cJSON_IsNumber(to) ? to->valueint : 0, pkg && strcmp(pkg, "Image") == 0 ? ", a container image" : "");
        if (cp)
            fprintf(f, "    # A Lambda Managed Instances function: up to %ld requests at once per environment,\n"
                       "    # and no cold start can be forced on it.\n",
                    conc);
        /* The region the configuration was read in, so the suite runs
         * against the same function whatever the environment says later. */
        fprintf(f, "    aws: {region: ");
        put_quoted(f, p->region);
        if (o->profile) {
            fprintf(f, ", profile: ");
            put_quoted(f, o->profile);
        }
        if (o->endpoint) {
            fprintf(f, ", endpoint: ");
            put_quoted(f, o->endpoint);
        }
        fprintf(f, "}\n");
        fprintf(f, "    # Cold starts: scenarios that need one change the function's configuration for a\n"
                   "    # moment (journaled, restored, see `coldsec cold-start --help`). That is a change to\n"
                   "    # a live function, so it needs your consent: set true on a staging function you may\n"
                   "    # touch. While false, a scenario that needs one ends \"refused\" (not completed),\n"
                   "    # never passed.\n"
                   "    allow_mutation: false\n");
        write_envelope(f, p, true);
        write_baseline(f, p);
        write_scenarios(f, conc > 1);
        return;
    }
    write_baseline(f, p);
    write_scenarios(f, false);
}

static void write_lab(FILE *f, const init_opts *o, const init_plan *p)
{
    fprintf(f, "# coldsec-lab functions file written by `coldsec init` for %s (see README, \"coldsec-lab\",\n"
               "# for every key). The lab runs this machine's python3 / node for any python3.x / nodejsNN.x.\n"
               "functions:\n",
            o->out);
    fprintf(f, "  - name: %s\n    runtime: %s\n    handler: ", p->name, p->runtime);
    put_quoted(f, p->handler);
    fprintf(f, "\n    # The handler folder, relative to this file.\n    code: ");
    put_quoted(f, p->code);
    fprintf(f, "\n    # Set these to the deployed function's: memory-growth and the config audit read them.\n"
               "    memory_mb: 128\n"
               "    timeout_s: 10\n"
               "    # environment: {TABLE_NAME: orders}   # the variables the handler reads\n");
}

/* Writes a new file (never an existing one) from what fn prints. */
static int create_file(const char *path, void (*fn)(FILE *, const init_opts *, const init_plan *),
                       const init_opts *o, const init_plan *p)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    FILE *f;
    int bad;
    if (fd < 0) {
        fprintf(stderr, "coldsec init: %s: %s\n", path,
                errno == EEXIST ? "exists: not overwritten (move it away or pass --out / --lab-out)" : strerror(errno));
        return -1;
    }
    if (!(f = fdopen(fd, "w"))) {
        close(fd);
        unlink(path);
        return -1;
    }
    fn(f, o, p);
    bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "coldsec init: %s: write failed\n", path);
        unlink(path);
        return -1;
    }
    return 0;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int initcmd_command(int argc, char **argv)
{
    init_opts o;
    init_plan p;
    int rc = parse_opts(argc, argv, &o);

    memset(&p, 0, sizeof(p));
    if (rc != 0)
        return rc < 0 ? INIT_OK : rc;
    rc = INIT_USAGE;
    /* Before any question or AWS call: nothing is overwritten. */
    if (exists(o.out) || (o.handler_dir && exists(o.lab_out))) {
        fprintf(stderr, "coldsec init: %s: exists: not overwritten (move it away or pass %s)\n",
                exists(o.out) ? o.out : o.lab_out, exists(o.out) ? "--out" : "--lab-out");
        goto cleanup;
    }
    if (baseline_plan(&o, &p) != 0)
        goto cleanup;
    if (o.handler_dir) {
        if (lab_plan(&o, isatty(STDIN_FILENO) == 1, &p) != 0)
            goto cleanup;
    } else if ((rc = aws_plan(&o, &p)) != INIT_OK) {
        goto cleanup;
    }
    rc = INIT_USAGE;
    if (o.handler_dir && create_file(o.lab_out, write_lab, &o, &p) != 0)
        goto cleanup;
    if (create_file(o.out, write_suite, &o, &p) != 0) {
        if (o.handler_dir)
            unlink(o.lab_out);
        goto cleanup;
    }
    printf("coldsec init: wrote %s%s%s\n", o.out, o.handler_dir ? " and " : "", o.handler_dir ? o.lab_out : "");
    if (p.placed[0])
        printf("coldsec init: {{user.id}} is at %s%s: check that it is where the identity goes\n",
               p.env != EVENT_ENVELOPE_RAW ? "/body" : "", p.placed);
    printf("coldsec init: next: read its comments, then `coldsec run %s`\n", o.out);
    rc = INIT_OK;
cleanup:
    cJSON_Delete(p.baseline);
    cJSON_Delete(p.config);
    return rc;
}
