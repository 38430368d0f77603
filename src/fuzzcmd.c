/*
 * fuzzcmd — `coldsec fuzz` (see fuzzcmd.h).
 */
#include "fuzzcmd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "fuzzlog.h"
#include "jsonutil.h"
#include "monotime.h"
#include "paths.h"
#include "proctree.h"
#include "report.h"
#include "rundir.h"
#include "scratch.h"
#include "suite.h"
#include "tmpl.h"

#define MAX_PASS 64
#define DIR_LEN 4096                  /* a folder given or made from what was given */
#define FILE_LEN (DIR_LEN + 512)       /* a file in such a folder */
#define ERR_LEN (FILE_LEN + 1024)
/* After the fuzzer: its labs already got SIGTERM from their parent's death
 * and stop within a second or two; -fork workers get it from us at once. */
#define FUZZ_REAP_TERM_MS 0
#define FUZZ_REAP_KILL_MS 15000

static const char FUZZ_HELP[] =
    "usage: coldsec fuzz --target NAME [--time 60s] [--corpus DIR] [--jobs N] [--seed N]\n"
    "                    [--lab-config FILE] [--event FILE] [--no-coverage] [--fatal-exceptions]\n"
    "                    [--growth-mb N] [--out DIR] [--lab-bin PATH] [--fuzz-bin PATH] [-- LIBFUZZER-FLAGS]\n"
    "Fuzzes a lab function's handler in its warm environment with libFuzzer's engine: coldsec starts its\n"
    "own coldsec-lab, feeds the handler mutated events (JSON-aware, Lambda-aware, with the scenario\n"
    "catalogs' injection strings), steers by the handler's line coverage, and stops at the first\n"
    "finding: the environment died, a timeout, a planted canary or a variable's value in an answer or\n"
    "log, memory growth, or state pollution (a fixed probe answers differently after an input than on a\n"
    "fresh environment, confirmed by replay). Unhandled exceptions are reported once per type and frame\n"
    "and do not stop the run. Writes reports/fuzz/NAME/: corpus/, the inputs and finding files with the\n"
    "commands that replay them, and RUN/report.json (with junit.xml, results.sarif, report.html).\n\n"
    "  --target NAME       the lab function (a target of ./scenarios.yaml, or any function of --lab-config)\n"
    "  --time DURATION     how long (60s, 5m, 1h; default 60s)\n"
    "  --corpus DIR        the corpus (default reports/fuzz/NAME/corpus; seeded when empty)\n"
    "  --jobs N            N fuzzing processes (libFuzzer's -fork), each with its own lab (default 1)\n"
    "  --seed N            libFuzzer's seed (default: random)\n"
    "  --lab-config FILE   the lab's functions (default: the suite's lab config)\n"
    "  --event FILE        the baseline event: seed and state-pollution probe (default: the suite target's)\n"
    "  --no-coverage       no coverage feedback from the handler (for comparison)\n"
    "  --fatal-exceptions  stop at the first unhandled exception too\n"
    "  --growth-mb N       Max Memory Used this far above the lowest seen is a finding (default 32)\n"
    "  --out DIR           where fuzz folders go (default reports/fuzz)\n"
    "  --lab-bin, --fuzz-bin PATH  coldsec-lab and coldsec-fuzz (default: beside this coldsec)\n"
    "  -- FLAGS            passed to libFuzzer as they are (e.g. -- -runs=1000 -max_len=4096)\n\n"
    "Exit status: 0 no finding at or above medium; 1 findings; 2 usage error; 3 the target could not be\n"
    "fuzzed (the lab or the fuzzer failed).\n";

typedef struct fuzz_opts {
    const char *target, *corpus, *lab_config, *event, *out_dir, *lab_bin, *fuzz_bin;
    long seconds, growth_mb, seed;
    int jobs;
    bool coverage, fatal_exceptions, have_seed;
    const char *pass[MAX_PASS];
    size_t npass;
} fuzz_opts;

/* "90", "90s", "5m", "1h" → seconds; -1 when it is none of these. */
static long parse_duration(const char *s)
{
    char *end;
    long n;
    errno = 0;
    n = strtol(s, &end, 10);
    if (errno || end == s || n <= 0)
        return -1;
    if (*end == '\0' || strcmp(end, "s") == 0)
        return n;
    if (strcmp(end, "m") == 0 && n <= 100000)
        return n * 60;
    if (strcmp(end, "h") == 0 && n <= 10000)
        return n * 3600;
    return -1;
}

static int parse(int argc, char **argv, fuzz_opts *o)
{
    enum { O_TARGET = 300, O_TIME, O_CORPUS, O_JOBS, O_SEED, O_LAB_CONFIG, O_EVENT, O_NO_COVERAGE, O_FATAL,
           O_GROWTH, O_OUT, O_LAB_BIN, O_FUZZ_BIN, O_HELP };
    static const struct option opts[] = {
        {"target", required_argument, NULL, O_TARGET},     {"time", required_argument, NULL, O_TIME},
        {"corpus", required_argument, NULL, O_CORPUS},     {"jobs", required_argument, NULL, O_JOBS},
        {"seed", required_argument, NULL, O_SEED},         {"lab-config", required_argument, NULL, O_LAB_CONFIG},
        {"event", required_argument, NULL, O_EVENT},       {"no-coverage", no_argument, NULL, O_NO_COVERAGE},
        {"fatal-exceptions", no_argument, NULL, O_FATAL},  {"growth-mb", required_argument, NULL, O_GROWTH},
        {"out", required_argument, NULL, O_OUT},           {"lab-bin", required_argument, NULL, O_LAB_BIN},
        {"fuzz-bin", required_argument, NULL, O_FUZZ_BIN}, {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0}};
    int c;
    char *end;

    memset(o, 0, sizeof(*o));
    o->seconds = 60;
    o->growth_mb = 32;
    o->jobs = 1;
    o->coverage = true;
    o->out_dir = "reports/fuzz";
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case O_TARGET: o->target = optarg; break;
        case O_TIME:
            o->seconds = parse_duration(optarg);
            if (o->seconds < 0) {
                fprintf(stderr, "coldsec fuzz: --time: a duration like 60s, 5m or 1h, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        case O_CORPUS: o->corpus = optarg; break;
        case O_JOBS:
            errno = 0;
            o->jobs = (int)strtol(optarg, &end, 10);
            if (errno || *end || o->jobs < 1 || o->jobs > 64) {
                fprintf(stderr, "coldsec fuzz: --jobs: 1 to 64, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        case O_SEED:
            errno = 0;
            o->seed = strtol(optarg, &end, 10);
            if (errno || *end || o->seed < 0 || o->seed > 4294967295L) {
                fprintf(stderr, "coldsec fuzz: --seed: 0 to 4294967295, not \"%s\"\n", optarg);
                return 2;
            }
            o->have_seed = true;
            break;
        case O_LAB_CONFIG: o->lab_config = optarg; break;
        case O_EVENT: o->event = optarg; break;
        case O_NO_COVERAGE: o->coverage = false; break;
        case O_FATAL: o->fatal_exceptions = true; break;
        case O_GROWTH:
            errno = 0;
            o->growth_mb = strtol(optarg, &end, 10);
            if (errno || *end || o->growth_mb < 1 || o->growth_mb > 10240) {
                fprintf(stderr, "coldsec fuzz: --growth-mb: 1 to 10240, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        case O_OUT: o->out_dir = optarg; break;
        case O_LAB_BIN: o->lab_bin = optarg; break;
        case O_FUZZ_BIN: o->fuzz_bin = optarg; break;
        case O_HELP: fputs(FUZZ_HELP, stdout); return -1;
        default:
            fprintf(stderr, "coldsec fuzz: unknown or incomplete option \"%s\" (see coldsec fuzz --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
        fprintf(stderr, "coldsec fuzz: unexpected \"%s\" (libFuzzer's flags go after --)\n", argv[optind]);
        return 2;
    }
    for (; optind < argc; optind++) {
        if (o->npass == MAX_PASS) {
            fprintf(stderr, "coldsec fuzz: at most %d libFuzzer flags\n", MAX_PASS);
            return 2;
        }
        o->pass[o->npass++] = argv[optind];
    }
    if (!o->target) {
        fprintf(stderr, "coldsec fuzz: which function? --target NAME (see coldsec fuzz --help)\n");
        return 2;
    }
    return 0;
}

/* A baseline event of a suite holds {{user.id}} and friends: the fuzzer's
 * seed and probe is one rendering of it. */
static int render_baseline(void *ctx, const tmpl_token *t, const char **value, size_t *vlen, size_t *pad_bytes,
                           char *why, size_t whylen)
{
    (void)ctx;
    switch (t->kind) {
    case TMPL_USER_ID: *value = "fuzz-user-1"; break;
    case TMPL_USER_NAME: *value = "fuzz"; break;
    case TMPL_SEQ: *value = "1"; break;
    case TMPL_OPEN: *value = "{{"; break;
    case TMPL_CLOSE: *value = "}}"; break;
    case TMPL_PAD: *pad_bytes = 16; *value = ""; break;
    default: snprintf(why, whylen, "a baseline event has no canaries"); return -1;
    }
    *vlen = strlen(*value);
    return 0;
}

/* Finds lab config and baseline event: given, or from the suite's target
 * of that name. Writes the event to dir/event.json. */
static int resolve_target(const fuzz_opts *o, const char *dir, char *lab_config, size_t lclen, char *err,
                          size_t errlen)
{
    suite *s = NULL;
    char path[FILE_LEN];
    char *event = NULL;
    size_t len = 0;
    int rc = -1;

    snprintf(path, sizeof(path), "%s/event.json", dir);
    if (o->lab_config && o->event) {
        snprintf(lab_config, lclen, "%s", o->lab_config);
        event = fileio_read(o->event, (size_t)16 << 20, &len);
        cJSON *doc = event ? jsonutil_parse_whole(event, len) : NULL;
        bool ok = doc != NULL;
        cJSON_Delete(doc);
        if (!ok) {
            snprintf(err, errlen, "--event %s: %s", o->event, event ? "not one JSON value" : strerror(errno));
            goto cleanup;
        }
    } else {
        const suite_target *t = NULL;
        char *text, builtin[PATH_MAX];
        if (paths_find(PATHS_SCENARIOS, builtin, sizeof(builtin)) != 0)
            builtin[0] = '\0';
        if (suite_load_builtin("scenarios.yaml", NULL, builtin[0] ? builtin : NULL, &s, err, errlen) != 0)
            goto cleanup;
        for (size_t i = 0; i < s->ntargets; i++)
            if (strcmp(s->targets[i].name, o->target) == 0)
                t = &s->targets[i];
        if (!t || !t->lab) {
            snprintf(err, errlen, "--target %s: not a lab target of scenarios.yaml: give --lab-config FILE and --event "
                                  "FILE", o->target);
            goto cleanup;
        }
        snprintf(lab_config, lclen, "%s", o->lab_config ? o->lab_config : s->lab_config);
        if (o->event) {
            event = fileio_read(o->event, (size_t)16 << 20, &len);
        } else {
            text = cJSON_PrintUnformatted(t->baseline);
            event = text ? tmpl_expand(text, strlen(text), render_baseline, NULL, &len, err, errlen) : NULL;
            free(text);
        }
        if (!event) {
            snprintf(err, errlen, "--target %s: no baseline event", o->target);
            goto cleanup;
        }
    }
    if (fileio_write(path, event, len) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(event);
    suite_free(s);
    return rc;
}

static bool dir_empty(const char *path)
{
    DIR *d = opendir(path);
    const struct dirent *e;
    bool empty = true;
    if (!d)
        return true;
    while (empty && (e = readdir(d)) != NULL)
        empty = e->d_name[0] == '.';
    closedir(d);
    return empty;
}

/* The seeds: the baseline event and our Lambda event shapes. */
static void seed_corpus(const char *dir, const char *corpus, const char *events)
{
    char from[FILE_LEN], to[FILE_LEN];
    DIR *d;
    const struct dirent *e;
    char *text;
    size_t len;

    snprintf(from, sizeof(from), "%s/event.json", dir);
    snprintf(to, sizeof(to), "%s/seed-baseline.json", corpus);
    if ((text = fileio_read(from, (size_t)16 << 20, &len)) != NULL)
        fileio_write(to, text, len);
    free(text);
    d = opendir(events);
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        snprintf(from, sizeof(from), "%s/%s", events, e->d_name);
        snprintf(to, sizeof(to), "%s/seed-%s", corpus, e->d_name);
        if ((text = fileio_read(from, (size_t)16 << 20, &len)) != NULL)
            fileio_write(to, text, len);
        free(text);
    }
    if (d)
        closedir(d);
}

/* Whatever coldsec-fuzz wrote on stderr that is waiting in the pipe. */
static void drain(int fd, fuzzlog *fl)
{
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        fuzzlog_feed(fl, buf, (size_t)n);
}

/* Runs coldsec-fuzz with its stderr into fl (a pipe read while it runs,
 * non-blocking: its labs hold the pipe too and may outlive it, so the end
 * is the fuzzer's exit, not the pipe's). */
static int run_fuzzer(const char *fuzz_bin, char *const *args, const char *const *env,
                      const volatile sig_atomic_t *stop, fuzzlog *fl, int *pipe_fd)
{
    int fds[2], status = 0;
    pid_t pid;
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        for (size_t i = 0; env[i]; i += 2)
            setenv(env[i], env[i + 1], 1);
        execv(fuzz_bin, args);
        fprintf(stderr, "coldsec fuzz: cannot run %s: %s\n", fuzz_bin, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    *pipe_fd = fds[0];
    for (;;) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return -1;
        if (stop && *stop)
            kill(pid, SIGINT);
        if (poll(&p, 1, 50) > 0)
            drain(fds[0], fl);
    }
    drain(fds[0], fl);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Whether coldsec-fuzz ended at an oracle's finding: it writes
 * oracle-abort-RUN-PID (holding the finding file's path) just before its
 * abort(), and nothing else writes that name. A crash, a sanitizer's report
 * or an abort on an error of coldsec-fuzz's own has no such file, so its
 * banner and stack stay on the terminal. The markers are removed (the
 * finding files are what stays). */
static bool oracle_ended(const char *dir, const char *run_id, char *finding, size_t flen)
{
    char prefix[128], path[FILE_LEN];
    DIR *d = opendir(dir);
    const struct dirent *e;
    bool found = false;
    finding[0] = '\0';
    snprintf(prefix, sizeof(prefix), "oracle-abort-%s-", run_id);
    while (d && (e = readdir(d)) != NULL) {
        char *text;
        size_t len = 0;
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        text = fileio_read(path, FILE_LEN, &len);
        if (text && !found)
            snprintf(finding, flen, "%.*s", (int)len, text);
        free(text);
        unlink(path);
        found = true;
    }
    if (d)
        closedir(d);
    return found;
}

/* The terminal's account of an oracle's finding: what, its files, where
 * libFuzzer's report went, and the steps that replay it. */
static void say_finding(const char *finding, const char *log_path)
{
    char *text;
    size_t len = 0;
    cJSON *doc, *steps, *step;
    const char *input;
    bool by_hand = false;
    text = fileio_read(finding, (size_t)16 << 20, &len);
    doc = text ? jsonutil_parse_whole(text, len) : NULL;
    free(text);
    input = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "input_file"));
    fprintf(stderr, "coldsec fuzz: finding: %s in %s: %s\n",
            doc ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "kind")) : "?",
            doc ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "function")) : "?",
            doc ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "detail")) : "(finding file unreadable)");
    fprintf(stderr, "  finding file: %s\n  input:        %s\n  libFuzzer's crash report (banner, stack, MS line): %s\n",
            finding, input ? input : "?", log_path);
    /* The reproduce list starts with `coldsec replay FINDING`; the rest is
     * the same by hand. */
    steps = cJSON_GetObjectItemCaseSensitive(doc, "reproduce");
    cJSON_ArrayForEach(step, steps) {
        const char *s = cJSON_GetStringValue(step);
        if (!s)
            continue;
        if (step == steps->child && strncmp(s, "coldsec replay ", 15) == 0) {
            fprintf(stderr, "  replay it:    %s\n", s);
            continue;
        }
        if (!by_hand)
            fprintf(stderr, "  or by hand:\n");
        by_hand = true;
        fprintf(stderr, "    %s\n", s);
    }
    cJSON_Delete(doc);
}

/* ---------- the report ---------- */

typedef struct kind_info {
    const char *kind, *severity, *title, *fix, *cwe;
} kind_info;

static const kind_info kinds[] = {
    {"crash", "high", "An input makes the execution environment die",
     "Validate the event's fields before using them; never call exit paths on bad input; catch what a parser "
     "can raise and answer with an error.", "CWE-20"},
    {"timeout", "medium", "An input makes the invocation run past its timeout",
     "Bound the work an input can ask for (sizes, loops, retries) and validate types before using them.",
     "CWE-400"},
    {"leak", "high", "A secret of the function's configuration comes back in an answer or a log",
     "Never put configuration values into error messages, answers or logs; read secrets from Secrets Manager "
     "or SSM at run time and keep them out of exceptions.", "CWE-209"},
    {"memory", "medium", "Inputs make the warm environment's memory grow",
     "Do not keep request data in module-level state; bound caches by size and age.", "CWE-401"},
    {"pollution", "high", "An input changes what later callers of the warm environment get",
     "Keep per-request state in the handler; never let a request change module-level settings that other "
     "requests read.", "CWE-1321"},
    {"exception", "low", "An input raises an unhandled exception",
     "Validate the event and answer bad input with a 4xx-style answer instead of an unhandled exception.",
     "CWE-755"},
};

static const kind_info *kind_of(const char *k)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (k && strcmp(kinds[i].kind, k) == 0)
            return &kinds[i];
    return &kinds[sizeof(kinds) / sizeof(kinds[0]) - 1];
}

static void fingerprint(const char *function, const char *key, char out[33])
{
    char text[1024];
    snprintf(text, sizeof(text), "lab:%s\nfuzz\n%s", function, key);
    report_hash(text, out);
}

static cJSON *finding_of(const cJSON *file, const char *target)
{
    const kind_info *k = kind_of(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(file, "kind")));
    const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(file, "key"));
    const char *function = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(file, "function"));
    const char *detail = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(file, "detail"));
    cJSON *f = cJSON_CreateObject(), *ev, *cwe, *ex;
    char fp[33];
    fingerprint(function ? function : target, key ? key : k->kind, fp);
    cJSON_AddStringToObject(f, "fingerprint", fp);
    cJSON_AddBoolToObject(f, "gate", false);
    cJSON_AddStringToObject(f, "class", "fuzz");
    cJSON_AddStringToObject(f, "scenario", "fuzz");
    cJSON_AddStringToObject(f, "assertion", k->kind);
    cJSON_AddStringToObject(f, "target", target);
    cJSON_AddStringToObject(f, "function", function ? function : target);
    cJSON_AddStringToObject(f, "severity", k->severity);
    cJSON_AddStringToObject(f, "title", k->title);
    cJSON_AddStringToObject(f, "summary", detail && *detail ? detail : k->title);
    cJSON_AddStringToObject(f, "fix", k->fix);
    cwe = cJSON_AddArrayToObject(f, "cwe");
    cJSON_AddItemToArray(cwe, cJSON_CreateString(k->cwe));
    ev = cJSON_AddObjectToObject(f, "evidence");
    cJSON_AddItemToObject(ev, "reproduce",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(file, "reproduce"), true));
    ex = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(file, "evidence"), true);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(ev, "examples"), ex ? ex : cJSON_CreateObject());
    if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(file, "input_file")))
        cJSON_AddStringToObject(ev, "input_file",
                                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(file, "input_file")));
    cJSON_AddNumberToObject(ev, "after_executions",
                            cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(file, "after_executions")));
    cJSON_AddNumberToObject(ev, "after_seconds",
                            cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(file, "after_seconds")));
    return f;
}

/* report.json of this fuzz run, from the finding files it wrote, then every
 * format through the report module. Returns the report's exit status, or -1. */
static int write_report(const fuzz_opts *o, const char *dir, const char *run_id, const char *lab_config,
                        const char *started, double ms, int fuzzer_rc, char *err, size_t errlen)
{
    cJSON *doc = cJSON_CreateObject(), *tool, *sc, *tg, *res, *findings, *refs, *sum, *stats = NULL;
    char path[FILE_LEN], run_dir[DIR_LEN + 64], when[32], *text;
    const char *paths[1];
    report *rep = NULL;
    DIR *d;
    const struct dirent *e;
    size_t nf = 0, len = 0, nstats = 0;
    double execs = 0, rate = 0;
    bool coverage = false;
    int rc = -1;

    /* stats-RUN-PID.json, one per fuzzing process (several with --jobs). */
    stats = cJSON_CreateObject();
    d = opendir(dir);
    while (d && (e = readdir(d)) != NULL) {
        cJSON *one;
        char prefix[128];
        snprintf(prefix, sizeof(prefix), "stats-%s-", run_id);
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        text = fileio_read(path, (size_t)1 << 20, &len);
        one = text ? jsonutil_parse_whole(text, len) : NULL;
        free(text);
        if (one) {
            execs += cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(one, "executions"));
            rate += cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(one, "exec_per_s"));
            coverage |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(one, "coverage"));
            nstats++;
        }
        cJSON_Delete(one);
    }
    if (d)
        closedir(d);
    cJSON_AddNumberToObject(stats, "executions", execs);
    cJSON_AddNumberToObject(stats, "exec_per_s", rate);
    cJSON_AddNumberToObject(stats, "processes", (double)nstats);
    cJSON_AddBoolToObject(stats, "coverage", coverage);
    snprintf(path, sizeof(path), "%s/stats-%s.json", dir, run_id);
    text = cJSON_Print(stats);
    if (text)
        fileio_write(path, text, strlen(text));
    free(text);
    report_now_iso(when, sizeof(when));
    cJSON_AddNumberToObject(doc, "coldsec_report", REPORT_FORMAT);
    tool = cJSON_AddObjectToObject(doc, "tool");
    cJSON_AddStringToObject(tool, "name", "coldsec");
    cJSON_AddStringToObject(tool, "version", COLDSEC_VERSION);
    cJSON_AddStringToObject(doc, "run_id", run_id);
    cJSON_AddStringToObject(doc, "suite", lab_config);
    cJSON_AddNumberToObject(doc, "seed", o->have_seed ? (double)o->seed : 0);
    cJSON_AddStringToObject(doc, "fail_on", "medium");
    cJSON_AddStringToObject(doc, "started", started);
    cJSON_AddStringToObject(doc, "finished", when);
    sc = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "scenarios"), sc);
    cJSON_AddStringToObject(sc, "id", "fuzz");
    cJSON_AddStringToObject(sc, "title", "Coverage-guided fuzzing of the handler in its warm environment");
    cJSON_AddStringToObject(sc, "class", "fuzz");
    cJSON_AddStringToObject(sc, "severity", "high");
    cJSON_AddStringToObject(sc, "proves",
                            "An input, sent as an event to the handler running in a lab environment, made the "
                            "environment die, time out, return a secret, grow its memory, or change what a fixed "
                            "probe gets on the same warm environment.");
    cJSON_AddStringToObject(sc, "fix", "See each finding's fix.");
    cJSON_AddStringToObject(sc, "file", "");
    refs = cJSON_AddArrayToObject(sc, "references");
    cJSON_AddItemToArray(refs, cJSON_CreateObject());
    cJSON_AddStringToObject(cJSON_GetArrayItem(refs, 0), "cwe", "CWE-20");
    cJSON_AddStringToObject(cJSON_GetArrayItem(refs, 0), "title", "Improper Input Validation");
    tg = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "targets"), tg);
    cJSON_AddStringToObject(tg, "name", o->target);
    cJSON_AddStringToObject(tg, "function", o->target);
    cJSON_AddStringToObject(tg, "where", "lab");
    cJSON_AddNumberToObject(tg, "suite_index", 0);
    cJSON_AddNumberToObject(tg, "suite_line", 1);
    cJSON_AddNumberToObject(tg, "suite_column", 1);
    findings = cJSON_AddArrayToObject(doc, "findings");
    d = opendir(dir);
    while (d && (e = readdir(d)) != NULL) {
        cJSON *file;
        if (strncmp(e->d_name, "finding-", 8) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        text = fileio_read(path, (size_t)16 << 20, &len);
        file = text ? jsonutil_parse_whole(text, len) : NULL;
        free(text);
        if (file && strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(file, "run_id"))
                               ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(file, "run_id"))
                               : "",
                           run_id) == 0) {
            cJSON_AddItemToArray(findings, finding_of(file, o->target));
            nf++;
        }
        cJSON_Delete(file);
    }
    if (d)
        closedir(d);
    res = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "results"), res);
    cJSON_AddStringToObject(res, "target", o->target);
    cJSON_AddStringToObject(res, "function", o->target);
    cJSON_AddStringToObject(res, "scenario", "fuzz");
    cJSON_AddStringToObject(res, "status", nf ? "findings" : fuzzer_rc == 0 ? "passed" : "untestable");
    if (!nf && fuzzer_rc != 0) {
        char detail[128];
        snprintf(detail, sizeof(detail), "coldsec-fuzz ended with status %d and no finding (see its messages)",
                 fuzzer_rc);
        cJSON_AddStringToObject(res, "detail", detail);
    }
    cJSON_AddNumberToObject(res, "findings", (double)nf);
    cJSON_AddNumberToObject(res, "invocations", execs);
    cJSON_AddNumberToObject(res, "ms", (double)(long)ms);
    sum = cJSON_AddObjectToObject(res, "summary");
    cJSON_AddNumberToObject(sum, "invocations", execs);
    cJSON_AddNumberToObject(sum, "answered", execs);
    cJSON_AddNumberToObject(sum, "cold", 0);
    cJSON_AddNumberToObject(sum, "cold_starts_forced", 0);
    cJSON_AddNumberToObject(sum, "ms", (double)(long)ms);
    if (nstats) {
        char note[200];
        snprintf(note, sizeof(note), "%.0f executions, %.1f exec/s in %zu process%s, coverage %s", execs, rate,
                 nstats, nstats == 1 ? "" : "es", coverage ? "on" : "off");
        cJSON_AddStringToObject(sum, "note", note);
    }
    snprintf(run_dir, sizeof(run_dir), "%s/%s", dir, run_id);
    if (rundir_create(run_dir, err, errlen) != 0)
        goto cleanup;
    snprintf(path, sizeof(path), "%s/report.json", run_dir);
    text = cJSON_Print(doc);
    if (!text || fileio_write(path, text, strlen(text)) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(text);
        goto cleanup;
    }
    free(text);
    paths[0] = path;
    if (report_load(paths, 1, run_id, run_dir, &rep, err, errlen) != 0 ||
        report_write(rep, REPORT_ALL, err, errlen) != 0)
        goto cleanup;
    report_print(rep, stdout, report_color_allowed(STDOUT_FILENO));
    rc = report_exit_status(rep);
cleanup:
    report_free(rep);
    cJSON_Delete(doc);
    cJSON_Delete(stats);
    return rc;
}

int fuzzcmd_command(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    fuzz_opts o;
    char dir[DIR_LEN], corpus[DIR_LEN + 64], lab_config[DIR_LEN], lab_bin[PATH_MAX + 16], fuzz_bin[PATH_MAX + 16];
    char err[ERR_LEN], run_path[DIR_LEN + 64], started[32], event[FILE_LEN];
    char a_time[64], a_timeout[64], a_jobs[64], a_seed[64], a_artifact[FILE_LEN], a_dict[PATH_MAX + 8];
    char growth[32], dicts[FILE_LEN], tmp[DIR_LEN], why[DIR_LEN + 256];
    char events[PATH_MAX], catalogs[PATH_MAX], own_dict[PATH_MAX];
    char run_dir[DIR_LEN + 64], log_path[DIR_LEN + 128], finding[FILE_LEN];
    const char *run_id, *args[MAX_PASS + 16], *env[32];
    size_t na = 0, ne = 0;
    FILE *log = NULL;
    fuzzlog *fl = NULL;
    int pipe_fd = -1;
    bool oracle;
    double t0;
    int rc = parse(argc, argv, &o), frc, rrc;

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    snprintf(dir, sizeof(dir), "%s/%s", o.out_dir, o.target);
    if (rundir_create(dir, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec fuzz: %s\n", err);
        return 2;
    }
    if (resolve_target(&o, dir, lab_config, sizeof(lab_config), err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec fuzz: %s\n", err);
        return 2;
    }
    if (o.corpus)
        snprintf(corpus, sizeof(corpus), "%s", o.corpus);
    else
        snprintf(corpus, sizeof(corpus), "%s/corpus", dir);
    if (rundir_create(corpus, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec fuzz: %s\n", err);
        return 2;
    }
    /* The event shapes, the dictionary and the catalogs are coldsec's
     * files, found from this executable (paths.h: installed or build tree). */
    if (paths_find(PATHS_FUZZ_EVENTS, events, sizeof(events)) != 0 ||
        paths_find(PATHS_SCENARIOS, catalogs, sizeof(catalogs)) != 0)
        fprintf(stderr, "coldsec fuzz: %s or %s not found: seeds and material come only from the baseline event\n",
                events, catalogs);
    if (paths_find(PATHS_FUZZ_DICT, own_dict, sizeof(own_dict)) != 0)
        own_dict[0] = '\0';
    if (dir_empty(corpus))
        seed_corpus(dir, corpus, events);
    if (rundir_name(dir, run_path, sizeof(run_path)) != 0) {
        fprintf(stderr, "coldsec fuzz: no random numbers\n");
        return 2;
    }
    run_id = strrchr(run_path, '/') + 1;
    if (o.lab_bin)
        snprintf(lab_bin, sizeof(lab_bin), "%s", o.lab_bin);
    else
        paths_beside_self("coldsec-lab", lab_bin, sizeof(lab_bin));
    if (o.fuzz_bin)
        snprintf(fuzz_bin, sizeof(fuzz_bin), "%s", o.fuzz_bin);
    else
        paths_beside_self("coldsec-fuzz", fuzz_bin, sizeof(fuzz_bin));
    snprintf(event, sizeof(event), "%s/event.json", dir);
    snprintf(growth, sizeof(growth), "%ld", o.growth_mb);
    env[ne++] = "COLDSEC_FUZZ_FUNCTION", env[ne++] = o.target;
    env[ne++] = "COLDSEC_FUZZ_OUT", env[ne++] = dir;
    env[ne++] = "COLDSEC_FUZZ_RUN_ID", env[ne++] = run_id;
    env[ne++] = "COLDSEC_FUZZ_LAB_CONFIG", env[ne++] = lab_config;
    env[ne++] = "COLDSEC_FUZZ_LAB_BIN", env[ne++] = lab_bin;
    env[ne++] = "COLDSEC_FUZZ_PROBE", env[ne++] = event;
    env[ne++] = "COLDSEC_FUZZ_COVERAGE", env[ne++] = o.coverage ? "1" : "0";
    env[ne++] = "COLDSEC_FUZZ_FATAL_EXCEPTIONS", env[ne++] = o.fatal_exceptions ? "1" : "0";
    env[ne++] = "COLDSEC_FUZZ_GROWTH_MB", env[ne++] = growth;
    env[ne++] = "COLDSEC_FUZZ_CATALOGS", env[ne++] = catalogs;
    env[ne++] = "COLDSEC_FUZZ_OWN_DICT", env[ne++] = own_dict;
    /* Dictionaries are material for the JSON mutator too (whole values). */
    dicts[0] = '\0';
    if (own_dict[0])
        snprintf(dicts, sizeof(dicts), "%s", own_dict);
    for (size_t i = 0; i < o.npass; i++)
        if (strncmp(o.pass[i], "-dict=", 6) == 0 && strlen(dicts) + strlen(o.pass[i]) + 2 < sizeof(dicts))
            snprintf(dicts + strlen(dicts), sizeof(dicts) - strlen(dicts), "%s%s", dicts[0] ? ":" : "",
                     o.pass[i] + 6);
    env[ne++] = "COLDSEC_FUZZ_DICTS", env[ne++] = dicts;
    /* Everything the fuzzer, libFuzzer's -fork workers and their labs make
     * in TMPDIR goes into one folder of ours, removed below however the
     * fuzzer ended: a finding's abort() and libFuzzer's SIGINT end in
     * _Exit, which cleans nothing up. */
    if (scratch_make("coldsec-fuzz", tmp, sizeof(tmp), why, sizeof(why)) != 0) {
        fprintf(stderr, "coldsec fuzz: %s\n", why);
        return 3;
    }
    env[ne++] = "TMPDIR", env[ne++] = tmp;
    env[ne] = NULL;
    snprintf(a_time, sizeof(a_time), "-max_total_time=%ld", o.seconds);
    snprintf(a_timeout, sizeof(a_timeout), "-timeout=%d", 120);
    snprintf(a_artifact, sizeof(a_artifact), "-artifact_prefix=%s/", dir);
    snprintf(a_dict, sizeof(a_dict), "-dict=%s", own_dict);
    args[na++] = fuzz_bin;
    args[na++] = a_time;
    args[na++] = a_timeout;
    args[na++] = a_artifact;
    args[na++] = "-print_final_stats=1";
    args[na++] = "-max_len=16384";
    if (own_dict[0])
        args[na++] = a_dict;
    if (o.have_seed) {
        snprintf(a_seed, sizeof(a_seed), "-seed=%ld", o.seed);
        args[na++] = a_seed;
    }
    /* libFuzzer's fork mode, not -jobs: -jobs writes fuzz-N.log files into
     * the working folder. Each child starts its own lab. */
    if (o.jobs > 1) {
        snprintf(a_jobs, sizeof(a_jobs), "-fork=%d", o.jobs);
        args[na++] = a_jobs;
    }
    for (size_t i = 0; i < o.npass; i++)
        args[na++] = o.pass[i];
    args[na++] = corpus;
    args[na] = NULL;
    report_now_iso(started, sizeof(started));
    fprintf(stderr, "coldsec fuzz: %s for %ld s (lab config %s); findings go to %s/\n", o.target, o.seconds,
            lab_config, dir);
    t0 = monotime_ms();
    /* The labs outlive a fuzzer that died (they stop on its death signal):
     * as their subreaper we wait for them, and kill what is left after
     * FUZZ_REAP_KILL_MS, before the folder they write into goes. */
    if (proctree_become_reaper() != 0)
        fprintf(stderr, "coldsec fuzz: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
    snprintf(run_dir, sizeof(run_dir), "%s/%s", dir, run_id);
    snprintf(log_path, sizeof(log_path), "%s/coldsec-fuzz.log", run_dir);
    /* The run's log: all of coldsec-fuzz's stderr (fuzzlog.h). */
    if (rundir_create(run_dir, err, sizeof(err)) != 0)
        fprintf(stderr, "coldsec fuzz: %s\n", err);
    else if (!(log = fopen(log_path, "w")) || !(fl = fuzzlog_new(log, stderr)))
        fprintf(stderr, "coldsec fuzz: %s: %s\n", log_path, strerror(errno));
    if (!fl) {
        if (log)
            fclose(log);
        scratch_remove(tmp);
        return 3;
    }
    frc = run_fuzzer(fuzz_bin, (char *const *)args, env, stop, fl, &pipe_fd);
    proctree_reap_all(FUZZ_REAP_TERM_MS, FUZZ_REAP_KILL_MS);
    if (pipe_fd >= 0) {
        drain(pipe_fd, fl);
        close(pipe_fd);
    }
    oracle = frc > 0 && oracle_ended(dir, run_id, finding, sizeof(finding));
    fuzzlog_finish(fl, oracle);
    if (oracle)
        say_finding(finding, log_path);
    else if (fuzzlog_crash_report_seen(fl))
        fprintf(stderr, "coldsec fuzz: coldsec-fuzz itself failed (not a finding of the function): its report is "
                        "above and in %s\n", log_path);
    fuzzlog_free(fl);
    fclose(log);
    if (scratch_remove(tmp) != 0)
        fprintf(stderr, "coldsec fuzz: %s: not removed: %s\n", tmp, strerror(errno));
    if (frc < 0) {
        fprintf(stderr, "coldsec fuzz: cannot run %s: %s\n", fuzz_bin, strerror(errno));
        return 3;
    }
    rrc = write_report(&o, dir, run_id, lab_config, started, monotime_ms() - t0, frc, err, sizeof(err));
    if (rrc < 0) {
        fprintf(stderr, "coldsec fuzz: could not write the report: %s\n", err);
        return 3;
    }
    /* libFuzzer's own exit statuses: 0 done; 77 our finding (abort); else
     * the fuzzer or the lab failed, which the report says as untestable. */
    return rrc;
}
