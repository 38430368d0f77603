/*
 * fuzzoracle — the verdict on one fuzzed invocation (see fuzzoracle.h).
 */
#include "fuzzoracle.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonutil.h"
#include "logtail.h"

#define MAX_MATCHES 16

struct fuzzoracle {
    const secrets *sec;
    int bound_mb;
    int lowest_mb;             /* INT_MAX until a REPORT line was seen */
};

fuzzoracle *fuzzoracle_new(const secrets *sec, int growth_bound_mb)
{
    fuzzoracle *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->sec = sec;
    o->bound_mb = growth_bound_mb > 0 ? growth_bound_mb : 1;
    o->lowest_mb = INT_MAX;
    return o;
}

void fuzzoracle_reset_memory(fuzzoracle *o)
{
    o->lowest_mb = INT_MAX;
}

void fuzzoracle_free(fuzzoracle *o)
{
    free(o);
}

const char *fuzzoracle_kind_name(fuzzoracle_kind k)
{
    static const char *const names[] = {"none", "crash", "timeout", "leak", "memory", "exception", "pollution"};
    return k <= FUZZORACLE_POLLUTION ? names[k] : "?";
}

static bool contains(const char *hay, size_t haylen, const char *needle, size_t nlen)
{
    if (!hay || nlen == 0 || nlen > haylen)
        return false;
    return memmem(hay, haylen, needle, nlen) != NULL;
}

/* The registered secrets in text that the input did not already carry,
 * named into detail (appended). Returns how many. */
static size_t leaks_in(const fuzzoracle *o, const fuzzoracle_answer *a, const char *text, size_t len,
                       const char *where, char *detail, size_t dlen)
{
    secrets_match m[MAX_MATCHES];
    size_t n, found = 0;
    if (!o->sec || !text || len == 0)
        return 0;
    n = secrets_scan(o->sec, text, len, m, MAX_MATCHES);
    if (n == SECRETS_SCAN_ERROR)
        return 0;
    for (size_t i = 0; i < n && i < MAX_MATCHES; i++) {
        size_t used = strlen(detail);
        if (contains(a->input, a->input_len, text + m[i].offset, m[i].len))
            continue;   /* our own request, handed back: an echo proves nothing */
        found++;
        if (used + 64 < dlen)
            snprintf(detail + used, dlen - used, "%s%s (%s, %s) in the %s", used ? "; " : "", m[i].name,
                     m[i].kind, m[i].form, where);
    }
    return found;
}

/* "FILE:LINE" of the innermost frame in the function's own code
 * (/var/task): Python lists frames outermost first, Node innermost first. */
static void top_frame(const cJSON *trace, char *out, size_t len)
{
    const cJSON *e;
    out[0] = '\0';
    cJSON_ArrayForEach(e, trace) {
        const char *s = cJSON_GetStringValue(e), *p;
        int line = 0;
        char file[200];
        if (!s || !(p = strstr(s, "/var/task/")))
            continue;
        if (strncmp(s, "  File \"", 8) == 0 || strncmp(s, "File \"", 6) == 0) {
            /* Python: '  File "/var/task/x.py", line 12, in f' — keep the last one. */
            if (sscanf(p, "%199[^\"]\", line %d", file, &line) == 2)
                snprintf(out, len, "%s:%d", file, line);
        } else if (out[0] == '\0') {
            /* Node: 'at f (/var/task/index.js:5:11)' — the first one is innermost. */
            if (sscanf(p, "%199[^:]:%d", file, &line) == 2)
                snprintf(out, len, "%s:%d", file, line);
        }
    }
}

void fuzzoracle_judge(fuzzoracle *o, const fuzzoracle_answer *a, fuzzoracle_verdict *v)
{
    logtail_report rep;
    cJSON *err = NULL;
    const char *type = NULL, *message = NULL;

    memset(v, 0, sizeof(*v));
    v->max_memory_mb = -1;
    memset(&rep, 0, sizeof(rep));
    if (a->log)
        logtail_parse(a->log, a->log_len, &rep);
    if (rep.present) {
        v->max_memory_mb = rep.max_memory_used_mb;
        if (rep.max_memory_used_mb < o->lowest_mb)
            o->lowest_mb = rep.max_memory_used_mb;
    }
    if (a->function_error && a->payload)
        err = jsonutil_parse_whole(a->payload, a->payload_len);
    type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "errorType"));
    message = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "errorMessage"));

    if (type && strcmp(type, "Runtime.ExitError") == 0) {
        v->kind = FUZZORACLE_CRASH;
        snprintf(v->detail, sizeof(v->detail), "the environment died: %.400s", message ? message : type);
    } else if ((type && strcmp(type, "Sandbox.Timedout") == 0) || rep.timed_out) {
        v->kind = FUZZORACLE_TIMEOUT;
        snprintf(v->detail, sizeof(v->detail), "the invocation timed out: %.400s",
                 message ? message : "Task timed out (log tail)");
    } else if (leaks_in(o, a, a->payload, a->payload_len, "answer", v->detail, sizeof(v->detail)) +
                   leaks_in(o, a, a->log, a->log_len, "log tail", v->detail, sizeof(v->detail)) >
               0) {
        v->kind = FUZZORACLE_LEAK;
    } else if (rep.present && o->lowest_mb != INT_MAX && rep.max_memory_used_mb - o->lowest_mb > o->bound_mb) {
        v->kind = FUZZORACLE_MEMORY;
        snprintf(v->detail, sizeof(v->detail),
                 "Max Memory Used %d MB, %d MB above the lowest seen (%d MB); bound %d MB of %d MB",
                 rep.max_memory_used_mb, rep.max_memory_used_mb - o->lowest_mb, o->lowest_mb, o->bound_mb,
                 rep.memory_size_mb);
    } else if (type && strncmp(type, "Runtime.", 8) == 0) {
        /* The runtime could not turn the input into an event (bytes Python's
         * json refuses): the handler never ran, so nothing of it is proven. */
        v->not_an_event = true;
    } else if (a->function_error) {
        char frame[240];
        top_frame(cJSON_GetObjectItemCaseSensitive(err, "stackTrace"), frame, sizeof(frame));
        v->kind = FUZZORACLE_EXCEPTION;
        snprintf(v->key, sizeof(v->key), "%.60s at %.230s", type ? type : a->function_error,
                 frame[0] ? frame : "(no frame in the function's code)");
        snprintf(v->detail, sizeof(v->detail), "unhandled %.60s at %.200s: %.200s", type ? type : "error",
                 frame[0] ? frame : "(no frame in the function's code)", message ? message : "");
    }
    if (v->kind != FUZZORACLE_NONE && v->kind != FUZZORACLE_EXCEPTION)
        snprintf(v->key, sizeof(v->key), "%s", fuzzoracle_kind_name(v->kind));
    cJSON_Delete(err);
}

/* Length of a UUID (8-4-4-4-12 hex) at p, else 0. */
static size_t uuid_at(const char *p, size_t left)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    size_t k = 0;
    for (size_t g = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, k++)
            if (k >= left || !isxdigit((unsigned char)p[k]))
                return 0;
        if (g < 4) {
            if (k >= left || p[k] != '-')
                return 0;
            k++;
        }
    }
    return k;
}

bool fuzzoracle_same_answer(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i = 0, j = 0;
    while (i < alen && j < blen) {
        size_t ua = uuid_at(a + i, alen - i), ub = uuid_at(b + j, blen - j);
        if (ua && ub) {
            i += ua;
            j += ub;
            continue;
        }
        if (a[i] != b[j])
            return false;
        i++;
        j++;
    }
    return i == alen && j == blen;
}
