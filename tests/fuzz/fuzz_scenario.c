/*
 * libFuzzer target for the scenario loader (scenario.c) and the suite
 * loader (suite.c), through yamldoc and tmpl, from files on disk as
 * coldsec reads them.
 *
 * Input, split at lines that are exactly "---8<---":
 *   SCENARIO [---8<--- CATALOG [---8<--- CATALOG [---8<--- CATALOG]]]
 *   #suite... SCENARIO ---8<--- SUITE [---8<--- CATALOG ...]
 * written to a per-process directory under /dev/shm (mkdtemp once):
 *   BASE/scenarios/s.yaml, BASE/scenarios/catalogs/inj.yaml, inj2.yaml,
 *   inj3.yaml (a catalog part that is absent is removed), BASE/suite.yaml.
 *   BASE is /dev/shm/coldsec-fuzz-scenario-PID-XXXXXX; a later run removes
 *   the files of a run that crashed.
 * Without "#suite" the suite is a fixed valid one that runs scenario "s1".
 *
 * Checks:
 *   - every failure has a message "PATH:LINE:COLUMN: text" or "PATH: text"
 *     with PATH one of the files (or the scenario folder), LINE within that
 *     file, and text non-empty;
 *   - scenario_set_load and suite_load agree: the fixed suite loads iff the
 *     scenario folder loads and holds "s1", and fails with the very same
 *     message when the folder does not load;
 *   - on success every invariant of scenario.h / suite.h holds: counts within
 *     their maxima, indexes in range, step bitmasks naming only existing
 *     steps, ids unique and found by the lookups, what each step and
 *     assertion kind needs present (catalogs non-NULL where required, with
 *     the key the use needs), numbers within the range of their field with
 *     the defaults and with each suite target's parameter overrides;
 *   - everything is freed (LeakSanitizer).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "scenario.h"
#include "suite.h"
#include "yamldoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ERR_LEN 2048
#define MAX_PARTS 5
#define NCATS 3
#define SEP "---8<---"
#define SHM_DIR "/dev/shm"
#define SHM_PREFIX "coldsec-fuzz-scenario-"

static char base[PATH_MAX];                 /* realpath of the mkdtemp directory */
static char dir[PATH_MAX];                  /* BASE/scenarios */
static char catdir[PATH_MAX];               /* BASE/scenarios/catalogs */
static char scen_path[PATH_MAX];            /* BASE/scenarios/s.yaml */
static char cat_path[NCATS][PATH_MAX];      /* BASE/scenarios/catalogs/inj{,2,3}.yaml */
static char suite_path[PATH_MAX];           /* BASE/suite.yaml */

static const char fixed_suite[] =
    "version: 1\n"
    "seed: 7\n"
    "fail_on: high\n"
    "targets:\n"
    "  - function: fuzz-target\n"
    "    aws: {region: us-east-1}\n"
    "    envelope: apigw-v2\n"
    "    baseline: {user_id: \"{{user.id}}\", item: \"{{pad:8}}\", n: 1}\n"
    "    scenarios: [s1]\n";

/* ---- files ---- */

static void cleanup_dir(void)
{
    for (int i = 0; i < NCATS; i++)
        unlink(cat_path[i]);
    unlink(scen_path);
    unlink(suite_path);
    rmdir(catdir);
    rmdir(dir);
    rmdir(base);
}

static void set_paths(const char *b)
{
    snprintf(dir, sizeof dir, "%s/scenarios", b);
    snprintf(catdir, sizeof catdir, "%s/catalogs", dir);
    snprintf(scen_path, sizeof scen_path, "%s/s.yaml", dir);
    snprintf(suite_path, sizeof suite_path, "%s/suite.yaml", b);
    for (int i = 0; i < NCATS; i++)
        snprintf(cat_path[i], sizeof cat_path[i], "%s/inj%s.yaml", catdir, i == 0 ? "" : i == 1 ? "2" : "3");
}

/* A crash (abort, _Exit) skips atexit: remove what dead runs left behind,
 * our own files only, recognised by the prefix and the pid in the name. */
static void remove_stale(void)
{
    DIR *d = opendir(SHM_DIR);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        long pid;
        char *end;
        char stale[PATH_MAX];
        if (strncmp(e->d_name, SHM_PREFIX, strlen(SHM_PREFIX)) != 0)
            continue;
        pid = strtol(e->d_name + strlen(SHM_PREFIX), &end, 10);
        if (pid <= 0 || *end != '-' || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue;
        snprintf(stale, sizeof stale, SHM_DIR "/%s", e->d_name);
        set_paths(stale);
        snprintf(base, sizeof base, "%s", stale);
        cleanup_dir();
    }
    closedir(d);
    base[0] = '\0';
}

static void setup(void)
{
    char tmpl[PATH_MAX];

    if (base[0])
        return;
    remove_stale();
    snprintf(tmpl, sizeof tmpl, SHM_DIR "/" SHM_PREFIX "%ld-XXXXXX", (long)getpid());
    if (!mkdtemp(tmpl) || !realpath(tmpl, base)) {
        perror("fuzz_scenario: mkdtemp " SHM_DIR);
        abort();
    }
    set_paths(base);
    if (mkdir(dir, 0700) != 0 || mkdir(catdir, 0700) != 0) {
        perror("fuzz_scenario: mkdir");
        abort();
    }
    atexit(cleanup_dir);
}

static void write_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(path);
        abort();
    }
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            perror(path);
            abort();
        }
        text += n;
        len -= (size_t)n;
    }
    close(fd);
}

/* Splits at lines that are exactly SEP; returns the number of parts. */
static size_t split(const char *s, size_t len, const char **part, size_t *plen)
{
    size_t n = 0, start = 0, i = 0, k = strlen(SEP);

    while (i <= len && n + 1 < MAX_PARTS) {
        /* i is at the start of a line */
        if (len - i >= k && memcmp(s + i, SEP, k) == 0 && (i + k == len || s[i + k] == '\n')) {
            part[n] = s + start;
            plen[n++] = i - start;
            start = i + k + (i + k < len);
            i = start;
            continue;
        }
        {
            const char *nl = memchr(s + i, '\n', len - i);
            if (!nl)
                break;
            i = (size_t)(nl - s) + 1;
        }
    }
    part[n] = s + start;
    plen[n++] = len - start;
    return n;
}

/* Lines of a file (as yamldoc counts them: \n, \r\n or \r), +1 for a mark
 * just past the end. */
static long count_lines(const char *s, size_t len)
{
    long lines = 1;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n')))
            lines++;
    return lines + 1;
}

/* ---- error messages ---- */

typedef struct known_file {
    const char *path;
    long lines;        /* 0: the file is absent or a folder (no positions) */
} known_file;

/* FUZZ_SCENARIO_VERBOSE=1: print each load's outcome (for corpus work). */
static void verbose(const char *what, int rc, const char *err)
{
    static int on = -1;
    if (on < 0)
        on = getenv("FUZZ_SCENARIO_VERBOSE") != NULL;
    if (on)
        fprintf(stderr, "%s: %s\n", what, rc == 0 ? "ok" : err);
}

static void fail_msg(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_scenario: %s: \"%s\"\n", what, err);
    abort();
}

/* "PATH:L:C: text" (1 <= L <= lines, C >= 1) or "PATH: text". */
static void check_err(const char *err, const known_file *files, size_t nfiles)
{
    for (size_t i = 0; i < nfiles; i++) {
        size_t k = strlen(files[i].path);
        const char *p = err + k;
        long line, col;
        char *end;

        if (strncmp(err, files[i].path, k) != 0 || *p != ':')
            continue;
        p++;
        if (p[0] == ' ') {
            if (p[1] == '\0' || p[1] == ' ')
                fail_msg("empty message", err);
            return;
        }
        if (p[0] < '0' || p[0] > '9')
            continue;   /* a longer path sharing this prefix, perhaps */
        line = strtol(p, &end, 10);
        if (*end != ':' || end[1] < '0' || end[1] > '9')
            fail_msg("bad position", err);
        col = strtol(end + 1, &end, 10);
        if (end[0] != ':' || end[1] != ' ' || end[2] == '\0')
            fail_msg("bad position", err);
        if (line < 1 || col < 1 || files[i].lines == 0 || line > files[i].lines)
            fail_msg("position out of the file", err);
        return;
    }
    fail_msg("message names no file of the load", err);
}

/* ---- invariants ---- */

#define CHECK(cond)                                                                                      \
    do {                                                                                                 \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "fuzz_scenario: invariant failed at line %d: %s\n", __LINE__, #cond);        \
            abort();                                                                                     \
        }                                                                                                \
    } while (0)

static bool name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* A number of a field: a parameter index in range, and its value (with
 * values[], the defaults or a target's overrides) within [min, max]. */
static void check_num(const scenario *sc, const scenario_num *n, const long *values, long min, long max)
{
    long v;
    CHECK(n->param >= -1 && n->param < (int)sc->nparams);
    v = scenario_num_value(n, values);
    if (v < min || v > max) {
        fprintf(stderr, "fuzz_scenario: value %ld (%s%s) outside [%ld, %ld]\n", v,
                n->param >= 0 ? "parameter " : "literal", n->param >= 0 ? sc->params[n->param].name : "", min,
                max);
        abort();
    }
}

static bool step_mask_ok(const scenario *sc, uint64_t mask)
{
    return sc->nsteps >= 64 || (mask >> sc->nsteps) == 0;
}

static void check_catalog(const scenario_set *set, const catalog *k, const char *need_key)
{
    const cJSON *e;
    char want[PATH_MAX + 80];

    CHECK(k != NULL && name_ok(k->name) && k->path != NULL);
    snprintf(want, sizeof want, "%s/%s.yaml", catdir, k->name);
    CHECK(strcmp(k->path, want) == 0);
    CHECK(scenario_set_catalog(set, k->name) == k);
    CHECK(cJSON_IsArray(k->entries));
    cJSON_ArrayForEach(e, k->entries) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(e, "_line");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "_column");
        CHECK(cJSON_IsObject(e));
        CHECK(cJSON_IsNumber(l) && l->valuedouble >= 1 && cJSON_IsNumber(c) && c->valuedouble >= 1);
        CHECK(cJSON_GetObjectItemCaseSensitive(e, "id") || cJSON_GetObjectItemCaseSensitive(e, "runtime"));
        if (need_key)
            CHECK(cJSON_GetObjectItemCaseSensitive(e, need_key) != NULL);
    }
}

/* The numbers of sc with the parameter values values[]. */
static void check_numbers(const scenario *sc, const long *values)
{
    for (size_t i = 0; i < sc->nsteps; i++) {
        const scenario_step *st = &sc->steps[i];
        if (st->kind == STEP_SLEEP)
            check_num(sc, &st->sleep_ms, values, 0, 3600000);
        if (st->kind == STEP_INVOKE) {
            if (st->until_full)
                check_num(sc, &st->fill_bytes, values, 1024, 6 * 1024 * 1024);
            else
                check_num(sc, &st->count, values, 1, 100000);
            check_num(sc, &st->parallel, values, 1, 1000);
        }
    }
    for (size_t i = 0; i < sc->nasserts; i++) {
        const scenario_assert *a = &sc->asserts[i];
        check_num(sc, &a->oom_within, values, 1, 100000000);
        check_num(sc, &a->min_points, values, 3, 100000);
    }
}

static void check_scenario(const scenario_set *set, const scenario *sc)
{
    long defaults[SCENARIO_MAX_PARAMS] = {0};
    bool invokes = false;

    CHECK(sc != NULL && name_ok(sc->id));
    CHECK(scenario_set_find(set, sc->id) == sc);
    CHECK(sc->title && sc->cls && sc->proves && sc->fix && sc->path);
    CHECK(name_ok(sc->cls));
    CHECK(strcmp(severity_name(sc->sev), "?") != 0);
    CHECK(strcmp(sc->path, scen_path) == 0);
    CHECK(sc->nrefs == 0 || sc->refs != NULL);
    for (size_t i = 0; i < sc->nrefs; i++)
        CHECK(sc->refs[i].title != NULL);

    CHECK(sc->nparams <= SCENARIO_MAX_PARAMS);
    for (size_t i = 0; i < sc->nparams; i++) {
        CHECK(name_ok(sc->params[i].name));
        CHECK(scenario_param_index(sc, sc->params[i].name) == (int)i);
        CHECK(sc->params[i].value >= 0 && sc->params[i].value <= 1000000000);
        defaults[i] = sc->params[i].value;
    }
    CHECK(sc->ncanaries <= SCENARIO_MAX_CANARIES);
    for (size_t i = 0; i < sc->ncanaries; i++) {
        const scenario_canary *k = &sc->canaries[i];
        CHECK(name_ok(k->name));
        CHECK(scenario_canary_index(sc, k->name) == (int)i);
        if (k->plant)
            CHECK(k->per_run && strncmp(k->plant, "COLDSEC_", 8) == 0 && name_ok(k->plant));
    }
    CHECK(sc->nusers <= SCENARIO_MAX_USERS);
    /* requires: {max_concurrency: N}: AWS's range, or 0 for none. */
    CHECK(sc->requires_max_concurrency >= 0 && sc->requires_max_concurrency <= 1600);
    for (size_t i = 0; i < sc->nusers; i++)
        CHECK(name_ok(sc->users[i]));

    CHECK(sc->nsteps <= SCENARIO_MAX_STEPS);
    for (size_t i = 0; i < SCENARIO_MAX_STEPS; i++) {
        const scenario_step *st = &sc->steps[i];
        if (i >= sc->nsteps) {
            CHECK(st->id == NULL && st->set == NULL && st->cat == NULL && st->stop_on == NULL);
            continue;
        }
        CHECK(st->id != NULL && scenario_step_index(sc, st->id) == (int)i);
        CHECK(st->line >= 1 && st->column >= 1);
        CHECK(st->nplant <= SCENARIO_MAX_CANARIES && st->nusers <= SCENARIO_MAX_USERS);
        switch (st->kind) {
        case STEP_COLD_START:
            for (size_t p = 0; p < st->nplant; p++)
                CHECK(st->plant[p] >= 0 && (size_t)st->plant[p] < sc->ncanaries &&
                      sc->canaries[st->plant[p]].plant != NULL);
            CHECK(st->nusers == 0 && !st->set && !st->cat && !st->stop_on);
            break;
        case STEP_SLEEP:
            CHECK(st->nplant == 0 && st->nusers == 0 && !st->set && !st->cat && !st->stop_on);
            break;
        case STEP_INVOKE:
            invokes = true;
            CHECK(name_ok(st->id));
            CHECK(st->nplant == 0);
            CHECK(st->nusers >= 1);
            for (size_t u = 0; u < st->nusers; u++)
                CHECK(st->users[u] >= 0 && (size_t)st->users[u] < sc->nusers);
            CHECK((unsigned)st->fields <= FIELDS_LONGEST);
            CHECK(!(st->set && st->cat));
            if (st->set)
                CHECK(st->fields != FIELDS_NONE);
            if (st->cat)
                check_catalog(set, st->cat, NULL);
            break;
        default:
            CHECK(!"step kind");
        }
    }
    CHECK(sc->invokes == invokes);

    CHECK(sc->nasserts >= 1 && sc->asserts != NULL);
    for (size_t i = 0; i < sc->nasserts; i++) {
        const scenario_assert *a = &sc->asserts[i];
        CHECK(a->id && a->title);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(sc->asserts[j].id, a->id) != 0);
        CHECK(strcmp(severity_name(a->sev), "?") != 0);
        CHECK(a->line >= 1 && a->column >= 1);
        CHECK(step_mask_ok(sc, a->planted_in) && step_mask_ok(sc, a->seen_in));
        CHECK((a->where & ~(unsigned)(WHERE_PAYLOAD | WHERE_LOG)) == 0);
        CHECK((unsigned)a->who <= WHO_CONCURRENT_OTHER_USER);
        CHECK(a->ncanaries <= SCENARIO_MAX_CANARIES);
        for (size_t k = 0; k < a->ncanaries && k < SCENARIO_MAX_CANARIES; k++)
            CHECK(a->canaries[k] >= 0 && (size_t)a->canaries[k] < sc->ncanaries);
        CHECK(a->cleared_by >= -1 && a->cleared_by < (int)sc->nsteps);
        CHECK(a->min_r2 >= 0.0 && a->min_r2 <= 1.0);
        if (a->shapes)
            check_catalog(set, a->shapes, "pattern");
        if (a->runtimes)
            check_catalog(set, a->runtimes, "deprecated");
        switch (a->kind) {
        case ASSERT_CANARY_SEEN:
            CHECK(a->ncanaries > 0 && a->seen_in && a->planted_in);
            break;
        case ASSERT_PATTERN_SEEN:
            CHECK(a->pattern && a->seen_in);
            break;
        case ASSERT_SECRET_SEEN:
        case ASSERT_MEMORY_GROWTH:
            CHECK(a->seen_in);
            break;
        case ASSERT_STATUS:
            CHECK(a->seen_in && a->expect && (!strcmp(a->expect, "ok") || !strcmp(a->expect, "error")));
            break;
        case ASSERT_CONFIG:
            CHECK((unsigned)a->check <= CHECK_TRIGGER_TIMEOUT);
            if (a->check == CHECK_DEPRECATED_RUNTIME)
                CHECK(a->runtimes != NULL);
            break;
        default:
            CHECK(!"assertion kind");
        }
    }
    check_numbers(sc, defaults);
}

static void check_set(const scenario_set *set)
{
    CHECK(set != NULL);
    CHECK(scenario_set_count(set) == 1);   /* the folder holds s.yaml only */
    CHECK(scenario_set_at(set, 1) == NULL);
    check_scenario(set, scenario_set_at(set, 0));
}

static void check_suite(const suite *s)
{
    CHECK(s->path && strcmp(s->path, suite_path) == 0);
    CHECK(s->scenario_dir && strcmp(s->scenario_dir, dir) == 0);
    CHECK(strcmp(severity_name(s->fail_on), "?") != 0);
    CHECK(s->nprotect <= SUITE_MAX_PROTECT);
    for (size_t i = 0; i < s->nprotect; i++)
        CHECK(s->protect[i] != NULL);
    check_set(s->set);
    CHECK(s->ntargets >= 1 && s->ntargets <= SUITE_MAX_TARGETS && s->targets);
    for (size_t i = 0; i < s->ntargets; i++) {
        const suite_target *t = &s->targets[i];
        CHECK(t->name && t->function);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(s->targets[j].name, t->name) != 0);
        if (t->lab)
            CHECK(s->lab_config && !t->region && !t->profile && !t->endpoint && !t->ca_bundle);
        CHECK(event_envelope_name(t->envelope) != NULL);
        if (t->url)
            CHECK(strncmp(t->url, "https://", 8) == 0 || strncmp(t->url, "http://", 7) == 0);
        else
            CHECK(!t->url_sign);
        CHECK(cJSON_IsObject(t->baseline));
        CHECK(t->line >= 1 && t->column >= 1);
        CHECK(t->nruns >= 1 && t->nruns <= SUITE_MAX_RUNS);
        for (size_t r = 0; r < t->nruns; r++) {
            const scenario *sc = t->runs[r].sc;
            CHECK(sc && scenario_set_find(s->set, sc->id) == sc);
            for (size_t q = 0; q < r; q++)
                CHECK(t->runs[q].sc != sc);
            for (size_t p = 0; p < sc->nparams; p++)
                CHECK(t->runs[r].params[p] >= 0 && t->runs[r].params[p] <= 1000000000);
            /* What the engine will run with this target's overrides. */
            check_numbers(sc, t->runs[r].params);
        }
    }
}

/* ---- the target ---- */

/* The suite's own scenario_dir is followed only when it names BASE/scenarios
 * as "scenarios" or as the absolute path (the paths in messages are then the
 * ones this target knows); any other value is
 * overridden with it, so that a load never reads folders outside BASE. */
static const char *suite_scenario_dir(const char *text, size_t len)
{
    yamldoc *d = NULL;
    const yamldoc_node *v;
    char e[256];
    const char *out = NULL;

    if (yamldoc_parse(text, len, "suite", &d, e, sizeof e) != 0)
        return NULL;   /* suite_load fails the same way, before any folder */
    v = yamldoc_get(yamldoc_root(d), "scenario_dir");
    if (v != NULL && !(v->kind == YAMLDOC_SCALAR && strlen(v->text) == v->len &&
                       (strcmp(v->text, "scenarios") == 0 || strcmp(v->text, dir) == 0)))
        out = dir;
    yamldoc_free(d);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *part[MAX_PARTS];
    size_t plen[MAX_PARTS], nparts, first_cat;
    bool suite_mode = size >= 6 && memcmp(data, "#suite", 6) == 0;
    const char *suite_text = fixed_suite;
    size_t suite_len = sizeof fixed_suite - 1;
    known_file files[3 + NCATS];
    size_t nfiles = 0;
    char err[ERR_LEN], err2[ERR_LEN];
    scenario_set *set = NULL;
    suite *st = NULL;
    const char *sdir;
    int rs, ru;

    setup();
    nparts = split(text, size, part, plen);
    if (suite_mode && nparts < 2)
        return 0;   /* the suite is missing: nothing to test */
    write_file(scen_path, part[0], plen[0]);
    files[nfiles++] = (known_file){scen_path, count_lines(part[0], plen[0])};
    if (suite_mode) {
        suite_text = part[1];
        suite_len = plen[1];
    }
    write_file(suite_path, suite_text, suite_len);
    files[nfiles++] = (known_file){suite_path, count_lines(suite_text, suite_len)};
    first_cat = suite_mode ? 2 : 1;
    for (size_t i = 0; i < NCATS; i++) {
        size_t p = first_cat + i;
        if (p < nparts) {
            write_file(cat_path[i], part[p], plen[p]);
            files[nfiles++] = (known_file){cat_path[i], count_lines(part[p], plen[p])};
        } else {
            unlink(cat_path[i]);
        }
    }
    files[nfiles++] = (known_file){dir, 0};

    if (!suite_mode) {
        err[0] = '\0';
        rs = scenario_set_load(dir, &set, err, sizeof err);
        verbose("scenario_set_load", rs, err);
        if (rs != 0) {
            if (set != NULL)
                abort();
            check_err(err, files, nfiles);
        } else {
            check_set(set);
        }
        err2[0] = '\0';
        ru = suite_load(suite_path, dir, &st, err2, sizeof err2);
        verbose("suite_load (fixed)", ru, err2);
        if (ru != 0) {
            if (st != NULL)
                abort();
            check_err(err2, files, nfiles);
            if (rs != 0 && strcmp(err, err2) != 0)
                fail_msg("suite_load and scenario_set_load disagree", err2);
            if (rs == 0 && scenario_set_find(set, "s1") != NULL)
                fail_msg("the fixed suite failed on a folder that loads and holds s1", err2);
        } else {
            if (rs != 0 || scenario_set_find(set, "s1") == NULL)
                fail_msg("the fixed suite loaded on a folder that does not load or lacks s1", err);
            check_suite(st);
        }
        scenario_set_free(set);
        suite_free(st);
        return 0;
    }

    sdir = suite_scenario_dir(suite_text, suite_len);
    err[0] = '\0';
    ru = suite_load(suite_path, sdir, &st, err, sizeof err);
    verbose("suite_load", ru, err);
    if (ru != 0) {
        if (st != NULL)
            abort();
        check_err(err, files, nfiles);
    } else {
        check_suite(st);
        suite_free(st);
    }
    return 0;
}
