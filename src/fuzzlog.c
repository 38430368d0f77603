/*
 * fuzzlog — coldsec-fuzz's stderr to the log and the terminal (see fuzzlog.h).
 */
#include "fuzzlog.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Held lines beyond this go to the log only (a crash report is a few KB;
 * fork mode repeats a worker's whole log, still far below). */
#define HOLD_MAX ((size_t)4 << 20)

struct fuzzlog {
    FILE *log, *term;
    char *line;                 /* the partial line so far */
    size_t len, cap;
    char *held;                 /* the crash report's lines, for fuzzlog_finish */
    size_t held_len, held_cap;
    bool holding, truncated;
};

fuzzlog *fuzzlog_new(FILE *log, FILE *term)
{
    fuzzlog *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->log = log;
    l->term = term;
    return l;
}

/* libFuzzer's (and the sanitizers') report banner: "==1234== ". */
static bool banner(const char *s, size_t n)
{
    size_t i = 2;
    if (n < 5 || s[0] != '=' || s[1] != '=')
        return false;
    while (i < n && isdigit((unsigned char)s[i]))
        i++;
    return i > 2 && i + 1 < n && s[i] == '=' && s[i + 1] == '=';
}

static bool report_start(const char *s, size_t n)
{
    static const char inner[] = "INFO: log from the inner process";
    return banner(s, n) || (n >= sizeof(inner) - 1 && memcmp(s, inner, sizeof(inner) - 1) == 0);
}

static void hold(fuzzlog *l, const char *s, size_t n)
{
    if (l->held_len + n > HOLD_MAX) {
        l->truncated = true;
        return;
    }
    if (l->held_len + n > l->held_cap) {
        size_t cap = l->held_cap ? l->held_cap : 4096;
        char *p;
        while (cap < l->held_len + n)
            cap *= 2;
        if (!(p = realloc(l->held, cap))) {
            l->truncated = true;
            return;
        }
        l->held = p;
        l->held_cap = cap;
    }
    memcpy(l->held + l->held_len, s, n);
    l->held_len += n;
}

/* One whole line, with its newline (or without, at the end). */
static void line_done(fuzzlog *l, const char *s, size_t n)
{
    if (l->log)
        fwrite(s, 1, n, l->log);
    if (!l->holding && report_start(s, n))
        l->holding = true;
    if (l->holding) {
        hold(l, s, n);
    } else {
        fwrite(s, 1, n, l->term);
        fflush(l->term);
    }
}

void fuzzlog_feed(fuzzlog *l, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (l->len + 1 > l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 256;
            char *p = realloc(l->line, cap);
            if (!p) {
                /* No memory for the line: pass what there is as a line. */
                line_done(l, l->line, l->len);
                l->len = 0;
                continue;
            }
            l->line = p;
            l->cap = cap;
        }
        l->line[l->len++] = data[i];
        if (data[i] == '\n') {
            line_done(l, l->line, l->len);
            l->len = 0;
        }
    }
}

void fuzzlog_finish(fuzzlog *l, bool oracle_finding)
{
    if (l->len) {
        line_done(l, l->line, l->len);
        l->len = 0;
    }
    if (l->log)
        fflush(l->log);
    if (l->holding && !oracle_finding) {
        fwrite(l->held, 1, l->held_len, l->term);
        if (l->truncated)
            fputs("(the rest of this report is in the log file only)\n", l->term);
        fflush(l->term);
    }
    l->held_len = 0;
}

bool fuzzlog_crash_report_seen(const fuzzlog *l)
{
    return l->holding;
}

void fuzzlog_free(fuzzlog *l)
{
    if (!l)
        return;
    free(l->line);
    free(l->held);
    free(l);
}
