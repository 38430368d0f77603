/*
 * replayfile — reading and checking a finding file (see replayfile.h).
 * Each member is checked where it is read, so an error names the member
 * the file got wrong and nothing after a bad member is trusted.
 */
#include "replayfile.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"

struct replayfile {
    cJSON *doc;
    const cJSON *target, *check, *steps;
    replayfile_kind kind;
    size_t nsteps, check_step;
    long sends;
    char **paths;   /* nsteps resolved request files */
};

static const char *const kind_names[REPLAYFILE_KIND_LAST] = {"canary", "pattern", "secret", "memory"};

static void fail(char *err, size_t errlen, const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (!err || !errlen)
        return;
    n = snprintf(err, errlen, "%s: ", path);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static const char *get_str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* A whole number member in [lo, hi]; false when absent or otherwise. */
static bool get_int(const cJSON *o, const char *k, long lo, long hi, long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    double d;
    if (!cJSON_IsNumber(v))
        return false;
    d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi)
        return false;
    *out = (long)d;
    return true;
}

static bool nonempty(const char *s)
{
    return s && *s;
}

/* A where list: a non-empty array of "payload" and "log". */
static bool good_where(const cJSON *w)
{
    const cJSON *e;
    if (!cJSON_IsArray(w) || cJSON_GetArraySize(w) == 0)
        return false;
    cJSON_ArrayForEach(e, w) {
        const char *s = cJSON_GetStringValue(e);
        if (!s || (strcmp(s, "payload") != 0 && strcmp(s, "log") != 0))
            return false;
    }
    return true;
}

bool replayfile_where_has(const cJSON *where, const char *label)
{
    const cJSON *e;
    const char *want = label && strcmp(label, "log") == 0 ? "log" : "payload";
    if (!label)
        return false;
    cJSON_ArrayForEach(e, where) {
        const char *s = cJSON_GetStringValue(e);
        if (s && strcmp(s, want) == 0)
            return true;
    }
    return false;
}

/* check.step (1-based in the file) into f->check_step; sends when asked. */
static int read_step_sends(replayfile *f, const char *path, const char *step_key, bool sends, char *err,
                           size_t errlen)
{
    long v;
    if (!get_int(f->check, step_key, 1, (long)f->nsteps, &v)) {
        fail(err, errlen, path, "check.%s: must be a step's number, 1 to %zu", step_key, f->nsteps);
        return -1;
    }
    f->check_step = (size_t)v - 1;
    if (sends && !get_int(f->check, "sends", 1, REPLAYFILE_MAX_SENDS, &f->sends)) {
        fail(err, errlen, path, "check.sends: must be a whole number from 1 to %d", REPLAYFILE_MAX_SENDS);
        return -1;
    }
    return 0;
}

static int check_canary(replayfile *f, const char *path, char *err, size_t errlen)
{
    if (!nonempty(get_str(f->check, "canary"))) {
        fail(err, errlen, path, "check.canary: missing or empty");
        return -1;
    }
    if (!nonempty(get_str(f->check, "seen_in"))) {
        fail(err, errlen, path, "check.seen_in: missing (\"payload\", \"body\" or \"log\")");
        return -1;
    }
    if (read_step_sends(f, path, "seen_step", false, err, errlen) != 0)
        return -1;
    if (f->check_step == 0) {
        fail(err, errlen, path, "check.seen_step: the sighting must come after the step that planted it");
        return -1;
    }
    return 0;
}

static int check_pattern(replayfile *f, const char *path, char *err, size_t errlen)
{
    if (!nonempty(get_str(f->check, "pattern"))) {
        fail(err, errlen, path, "check.pattern: missing or empty");
        return -1;
    }
    if (!good_where(cJSON_GetObjectItemCaseSensitive(f->check, "where"))) {
        fail(err, errlen, path, "check.where: must be a list of \"payload\" and \"log\"");
        return -1;
    }
    return read_step_sends(f, path, "step", true, err, errlen);
}

static int check_secret(replayfile *f, const char *path, char *err, size_t errlen)
{
    const cJSON *shapes = cJSON_GetObjectItemCaseSensitive(f->check, "shapes");
    const cJSON *exposed = cJSON_GetObjectItemCaseSensitive(f->check, "exposed"), *e;
    int i = 0;
    long v;

    if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(f->check, "function_variables"))) {
        fail(err, errlen, path, "check.function_variables: must be true or false");
        return -1;
    }
    if (!good_where(cJSON_GetObjectItemCaseSensitive(f->check, "where"))) {
        fail(err, errlen, path, "check.where: must be a list of \"payload\" and \"log\"");
        return -1;
    }
    if (!cJSON_IsArray(shapes)) {
        fail(err, errlen, path, "check.shapes: must be a list of {id, pattern}");
        return -1;
    }
    cJSON_ArrayForEach(e, shapes) {
        if (!nonempty(get_str(e, "id")) || !nonempty(get_str(e, "pattern"))) {
            fail(err, errlen, path, "check.shapes[%d]: needs an id and a pattern", i);
            return -1;
        }
        i++;
    }
    if (!cJSON_IsArray(exposed) || cJSON_GetArraySize(exposed) == 0) {
        fail(err, errlen, path, "check.exposed: must be a non-empty list");
        return -1;
    }
    i = 0;
    cJSON_ArrayForEach(e, exposed) {
        static const char *const members[] = {"kind", "name", "form", "where"};
        for (size_t m = 0; m < sizeof(members) / sizeof(members[0]); m++)
            if (!nonempty(get_str(e, members[m]))) {
                fail(err, errlen, path, "check.exposed[%d].%s: missing or empty", i, members[m]);
                return -1;
            }
        if (!get_int(e, "step", 1, (long)f->nsteps, &v)) {
            fail(err, errlen, path, "check.exposed[%d].step: must be a step's number, 1 to %zu", i, f->nsteps);
            return -1;
        }
        i++;
    }
    return 0;
}

static int check_memory(replayfile *f, const char *path, char *err, size_t errlen)
{
    static const char *const nums[] = {"memory_size_mb", "min_r2", "oom_within"};
    long v;
    if (read_step_sends(f, path, "step", true, err, errlen) != 0)
        return -1;
    if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(f->check, "proven"))) {
        fail(err, errlen, path, "check.proven: must be true or false");
        return -1;
    }
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(f->check, nums[i]);
        if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble) || n->valuedouble < 0 ||
            (i == 0 && n->valuedouble <= 0)) {
            fail(err, errlen, path, "check.%s: must be a number%s", nums[i], i == 0 ? " above 0" : ", 0 or more");
            return -1;
        }
    }
    if (!get_int(f->check, "min_points", 0, REPLAYFILE_MAX_SENDS, &v)) {
        fail(err, errlen, path, "check.min_points: must be a whole number, 0 or more");
        return -1;
    }
    return 0;
}

static int read_steps(replayfile *f, const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    int n = cJSON_GetArraySize(f->steps);

    if (!cJSON_IsArray(f->steps) || n < 1 || n > REPLAYFILE_MAX_STEPS) {
        fail(err, errlen, path, "steps: must be a list of 1 to %d requests", REPLAYFILE_MAX_STEPS);
        return -1;
    }
    f->paths = calloc((size_t)n, sizeof(char *));
    if (!f->paths) {
        fail(err, errlen, path, "out of memory");
        return -1;
    }
    f->nsteps = (size_t)n;
    for (int i = 0; i < n; i++) {
        const cJSON *st = cJSON_GetArrayItem(f->steps, i);
        const char *file = get_str(st, "request_file");
        long seq;
        size_t len;
        if (!nonempty(file)) {
            fail(err, errlen, path, "steps[%d].request_file: missing or empty", i);
            return -1;
        }
        if (!get_int(st, "seq", 0, LONG_MAX / 2, &seq)) {
            fail(err, errlen, path, "steps[%d].seq: must be a whole number", i);
            return -1;
        }
        /* Relative to the finding file's folder: a moved report folder still replays. */
        len = (file[0] == '/' ? 0 : dirlen) + strlen(file) + 1;
        f->paths[i] = malloc(len);
        if (!f->paths[i]) {
            fail(err, errlen, path, "out of memory");
            return -1;
        }
        snprintf(f->paths[i], len, "%.*s%s", (int)(file[0] == '/' ? 0 : dirlen), path, file);
    }
    return 0;
}

replayfile *replayfile_parse(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
    replayfile *f = calloc(1, sizeof(*f));
    const char *where, *kind;
    int k;

    if (!path)
        path = "(finding file)";
    if (!f) {
        fail(err, errlen, path, "out of memory");
        return NULL;
    }
    f->doc = text ? jsonutil_parse_whole(text, len) : NULL;
    if (!cJSON_IsObject(f->doc)) {
        fail(err, errlen, path, "not a JSON object");
        goto bad;
    }
    if (cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f->doc, "coldsec_replay")) != 1) {
        fail(err, errlen, path, "coldsec_replay: not a finding file of coldsec (no \"coldsec_replay\": 1)");
        goto bad;
    }
    f->target = cJSON_GetObjectItemCaseSensitive(f->doc, "target");
    if (!cJSON_IsObject(f->target) || !nonempty(get_str(f->target, "function"))) {
        fail(err, errlen, path, "target.function: missing or empty");
        goto bad;
    }
    where = get_str(f->target, "where");
    if (!where || (strcmp(where, "lab") != 0 && strcmp(where, "aws") != 0)) {
        fail(err, errlen, path, "target.where: must be \"lab\" or \"aws\"");
        goto bad;
    }
    if (strcmp(where, "lab") == 0 && !nonempty(get_str(f->target, "lab_config"))) {
        fail(err, errlen, path, "target.lab_config: a lab finding needs the lab config it ran on");
        goto bad;
    }
    if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(f->doc, "cold_start"))) {
        fail(err, errlen, path, "cold_start: must be true or false");
        goto bad;
    }
    f->steps = cJSON_GetObjectItemCaseSensitive(f->doc, "steps");
    if (read_steps(f, path, err, errlen) != 0)
        goto bad;
    f->check = cJSON_GetObjectItemCaseSensitive(f->doc, "check");
    kind = get_str(f->check, "kind");
    if (!cJSON_IsObject(f->check) || !kind) {
        fail(err, errlen, path, "check.kind: missing (canary, pattern, secret or memory)");
        goto bad;
    }
    for (k = 0; k < REPLAYFILE_KIND_LAST; k++)
        if (strcmp(kind, kind_names[k]) == 0)
            break;
    if (k == REPLAYFILE_KIND_LAST) {
        fail(err, errlen, path, "check.kind: \"%.64s\" is none of canary, pattern, secret, memory", kind);
        goto bad;
    }
    f->kind = (replayfile_kind)k;
    switch (f->kind) {
    case REPLAYFILE_CANARY: k = check_canary(f, path, err, errlen); break;
    case REPLAYFILE_PATTERN: k = check_pattern(f, path, err, errlen); break;
    case REPLAYFILE_SECRET: k = check_secret(f, path, err, errlen); break;
    default: k = check_memory(f, path, err, errlen); break;
    }
    if (k != 0)
        goto bad;
    return f;
bad:
    replayfile_free(f);
    return NULL;
}

void replayfile_free(replayfile *f)
{
    if (!f)
        return;
    for (size_t i = 0; f->paths && i < f->nsteps; i++)
        free(f->paths[i]);
    free(f->paths);
    cJSON_Delete(f->doc);
    free(f);
}

replayfile_kind replayfile_kind_of(const replayfile *f)
{
    return f->kind;
}

const char *replayfile_kind_name(replayfile_kind k)
{
    return (int)k >= 0 && k < REPLAYFILE_KIND_LAST ? kind_names[k] : "?";
}

const cJSON *replayfile_doc(const replayfile *f)
{
    return f->doc;
}

const cJSON *replayfile_target(const replayfile *f)
{
    return f->target;
}

const cJSON *replayfile_check(const replayfile *f)
{
    return f->check;
}

size_t replayfile_nsteps(const replayfile *f)
{
    return f->nsteps;
}

const cJSON *replayfile_step(const replayfile *f, size_t i)
{
    return i < f->nsteps ? cJSON_GetArrayItem(f->steps, (int)i) : NULL;
}

const char *replayfile_request_path(const replayfile *f, size_t i)
{
    return i < f->nsteps ? f->paths[i] : NULL;
}

size_t replayfile_check_step(const replayfile *f)
{
    return f->check_step;
}

long replayfile_check_sends(const replayfile *f)
{
    return f->sends;
}
