/*
 * coldsec-fuzz — the program `coldsec fuzz` runs: libFuzzer's engine (its
 * main, its corpus, its flags) driving a handler that runs as it runs on
 * Lambda, in a warm environment of a coldsec-lab this program starts.
 *
 * One input = one event. It is sent with Invoke (log tail on); the
 * handler's line coverage comes back through the lab's shared bitmap
 * (coldsec-lab --coverage-dir) into libFuzzer's extra counters; fuzzoracle
 * judges the answer (the environment died, a timeout, a planted canary or a
 * variable's value in the answer or log, memory over the bound — confirmed
 * by replaying the input on a fresh environment); then a fixed probe
 * (the target's baseline event) goes to the same warm environment, and an
 * answer that differs from a fresh environment's is replayed on a fresh
 * environment before it is called state pollution. A finding is written to
 * OUT (the input, a JSON file with the evidence, masked, and the commands
 * that replay it), said in a `FINDING kind=...` line, and ends the run with
 * abort() so that libFuzzer keeps the input as a crash artifact. Unhandled
 * exceptions are findings too, once per type and frame, without stopping
 * (COLDSEC_FUZZ_FATAL_EXCEPTIONS=1 makes them fatal).
 *
 * Before that abort() it writes OUT/oracle-abort-RUN_ID-PID (the finding
 * file's path): `coldsec fuzz` keeps libFuzzer's crash banner and stack of
 * an oracle's abort in the run's log only when that marker is there; any
 * other death of this program (a fault of our own code, an abort on an
 * error) has no marker and its stack stays on the terminal.
 *
 * Configured by `coldsec fuzz` through the environment (libFuzzer owns
 * argv): COLDSEC_FUZZ_{LAB_BIN, LAB_CONFIG, FUNCTION, PROBE, OUT, RUN_ID,
 * COVERAGE, FATAL_EXCEPTIONS, GROWTH_MB, CATALOGS, DICTS}.
 * COLDSEC_FUZZ_TEST_SEGV=1 is for coldsec's tests only: the first input
 * raises SIGSEGV in this program (a stand-in for a bug of ours, harmless:
 * no request is sent), so that a test sees how a real crash is shown.
 *
 * libFuzzer's callbacks take no context, so the run's state hangs off one
 * static pointer that LLVMFuzzerInitialize sets; the extra counters must be
 * a static array in their section for libFuzzer to find them.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "canary.h"
#include "fileio.h"
#include "fuzzenv.h"
#include "fuzzfinding.h"
#include "fuzzmut.h"
#include "fuzzoracle.h"
#include "jsonutil.h"
#include "labproc.h"
#include "lambda_client.h"
#include "monotime.h"
#include "scenario.h"
#include "scratch.h"
#include "secrets.h"
#include "tmpl.h"
#include "utf8.h"

#define COV_HEADER 16
#define COV_COUNTERS 65536
#define COV_MAGIC "CSCOV001"
#define MAX_EXCEPTION_KEYS 512
#define KEEP_ANSWER FUZZENV_KEEP_ANSWER
#define REPLAY_ENDPOINT "http://127.0.0.1:9000"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2, uint8_t *out,
                                 size_t max_out, unsigned seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

__attribute__((section("__libfuzzer_extra_counters"), used, aligned(64))) static uint8_t extra[COV_COUNTERS];

typedef fuzzenv_answer answer;

typedef struct fz {
    labproc *lab;
    lambda_client *client;
    sigv4_credentials cred;
    const char *function, *out, *run_id, *lab_config;
    char lab_config_abs[4200];   /* what a finding file records: replay may run elsewhere */
    char out_abs[4200];
    int growth_mb;
    char canary[64];
    cJSON *variables;            /* the function's own, plus the canary */
    char *probe;
    size_t probe_len;
    char *reference;             /* the probe's answer on a fresh environment */
    size_t reference_len;
    bool probe_on;
    secrets *sec;
    fuzzoracle *oracle;
    fuzzmut *mut;
    unsigned char *cov;
    bool fatal_exceptions;
    bool test_segv;              /* COLDSEC_FUZZ_TEST_SEGV=1: tests only (see the top) */
    int nonce;
    char (*keys)[300];
    size_t nkeys, findings;
    unsigned long long execs;
    double t0, last_stats;
    char tmp[256];
    char last_finding[4200];     /* the finding file report_finding wrote last */
} fz;

static fz *run_state;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "coldsec-fuzz: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(3);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static void hex_digest(const void *data, size_t len, char out[13])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 6; i++)
        snprintf(out + (size_t)2 * i, 3, "%02x", md[i]);
}

/* ---------- talking to the lab ---------- */

static int invoke(fz *f, const char *payload, size_t len, answer *a)
{
    return fuzzenv_invoke(f->client, f->function, payload, len, a);
}

static void answer_clear(answer *a)
{
    fuzzenv_answer_clear(a);
}

/* Retires every environment of the function (a configuration change, as
 * `coldsec cold-start` does; the lab is ours and thrown away, so no
 * journal), with the canary planted. */
static int fresh_environment(fz *f)
{
    if (fuzzenv_fresh(f->client, f->function, f->variables, ++f->nonce) != 0)
        return -1;
    fuzzoracle_reset_memory(f->oracle);
    return 0;
}

/* ---------- findings ---------- */

static char *masked(const fz *f, const char *text, size_t len)
{
    size_t n = 0;
    char *m;
    if (!text)
        return NULL;
    m = secrets_mask(f->sec, text, len < KEEP_ANSWER ? len : KEEP_ANSWER, &n);
    return m;
}

static void add_text(cJSON *o, const char *key, const fz *f, const char *text, size_t len)
{
    char *m = masked(f, text, len);
    if (m)
        cJSON_AddStringToObject(o, key, m);
    free(m);
}

/* `coldsec replay FINDING` first; then the same by hand. */
static void replay_commands(const fz *f, cJSON *list, const char *finding, const char *input_path, bool pollution)
{
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "coldsec replay %s", finding);
    cJSON_AddItemToArray(list, cJSON_CreateString(cmd));
    snprintf(cmd, sizeof(cmd), "coldsec-lab --config %s --listen 127.0.0.1:9000 &   # the lab, started by hand",
             f->lab_config_abs);
    cJSON_AddItemToArray(list, cJSON_CreateString(cmd));
    if (pollution) {
        snprintf(cmd, sizeof(cmd), "coldsec cold-start %s --allow-mutation --endpoint %s --region %s", f->function,
                 REPLAY_ENDPOINT, LABPROC_REGION);
        cJSON_AddItemToArray(list, cJSON_CreateString(cmd));
    }
    snprintf(cmd, sizeof(cmd), "coldsec invoke %s --payload @%s --log --endpoint %s --region %s", f->function,
             input_path, REPLAY_ENDPOINT, LABPROC_REGION);
    cJSON_AddItemToArray(list, cJSON_CreateString(cmd));
    if (pollution) {
        snprintf(cmd, sizeof(cmd), "coldsec invoke %s --payload @%s/probe.json --log --endpoint %s --region %s",
                 f->function, f->out, REPLAY_ENDPOINT, LABPROC_REGION);
        cJSON_AddItemToArray(list, cJSON_CreateString(cmd));
    }
}

/* Writes the input and finding-KIND-HASH.json; says FINDING on stderr. */
static void report_finding(fz *f, const fuzzoracle_verdict *v, const uint8_t *data, size_t size, const answer *a,
                           const answer *probe_after)
{
    char hash[13], input_name[64], input_path[4200], path[4200], when[32];
    cJSON *o = cJSON_CreateObject(), *ev;
    char *text;
    time_t now = time(NULL);
    struct tm tm;

    hex_digest(data, size, hash);
    snprintf(input_name, sizeof(input_name), "input-%s.json", hash);
    snprintf(input_path, sizeof(input_path), "%s/%s", f->out, input_name);
    snprintf(path, sizeof(path), "%s/finding-%s-%s.json", f->out_abs, fuzzoracle_kind_name(v->kind), hash);
    fileio_write(input_path, data, size);
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(o, "run_id", f->run_id);
    cJSON_AddStringToObject(o, "kind", fuzzoracle_kind_name(v->kind));
    cJSON_AddStringToObject(o, "key", v->key);
    cJSON_AddStringToObject(o, "function", f->function);
    cJSON_AddStringToObject(o, "detail", v->detail);
    cJSON_AddStringToObject(o, "found", when);
    cJSON_AddNumberToObject(o, "after_executions", (double)f->execs);
    cJSON_AddNumberToObject(o, "after_seconds", (monotime_ms() - f->t0) / 1000.0);
    cJSON_AddStringToObject(o, "input_file", input_path);
    ev = cJSON_AddObjectToObject(o, "evidence");
    add_text(ev, "request", f, (const char *)data, size);
    if (a) {
        cJSON_AddNumberToObject(ev, "status", (double)a->resp.status);
        if (a->resp.function_error)
            cJSON_AddStringToObject(ev, "function_error", a->resp.function_error);
        add_text(ev, "response", f, a->resp.body, a->resp.body_len);
        add_text(ev, "log_tail", f, a->log, a->log_len);
        if (v->max_memory_mb >= 0)
            cJSON_AddNumberToObject(ev, "max_memory_used_mb", v->max_memory_mb);
    }
    if (probe_after) {
        add_text(ev, "probe", f, f->probe, f->probe_len);
        add_text(ev, "probe_answer_fresh", f, f->reference, f->reference_len);
        add_text(ev, "probe_answer_after_input", f, probe_after->resp.body, probe_after->resp.body_len);
    }
    /* What `coldsec replay` needs (fuzzfinding.h): the files by their
     * names in this folder, so that a moved folder replays too. */
    fuzzfinding_add(o, f->lab_config_abs, f->function, input_name,
                    v->kind == FUZZORACLE_POLLUTION ? "probe.json" : NULL, v, f->growth_mb);
    replay_commands(f, cJSON_AddArrayToObject(o, "reproduce"), path, input_path, probe_after != NULL);
    text = cJSON_Print(o);
    if (text)
        fileio_write(path, text, strlen(text));
    free(text);
    cJSON_Delete(o);
    snprintf(f->last_finding, sizeof(f->last_finding), "%s", path);
    f->findings++;
    fprintf(stderr, "FINDING kind=%s function=%s detail=\"%s\" input=%s evidence=%s\n", fuzzoracle_kind_name(v->kind),
            f->function, v->detail, input_path, path);
}

static void write_stats(fz *f, bool force)
{
    double now = monotime_ms();
    char path[4200], text[512];
    /* One file per process: with --jobs, libFuzzer's fork-mode parent runs
     * no input and each child counts its own. */
    if ((!force && now - f->last_stats < 1000) || f->execs == 0)
        return;
    f->last_stats = now;
    snprintf(path, sizeof(path), "%s/stats-%s-%d.json", f->out, f->run_id, (int)getpid());
    snprintf(text, sizeof(text),
             "{\"run_id\": \"%s\", \"executions\": %llu, \"seconds\": %.3f, \"exec_per_s\": %.1f, \"findings\": %zu, "
             "\"coverage\": %s, \"pollution_probe\": %s}\n",
             f->run_id, f->execs, (now - f->t0) / 1000.0, f->execs / ((now - f->t0) / 1000.0 + 1e-9), f->findings,
             f->cov ? "true" : "false", f->probe_on ? "true" : "false");
    fileio_write(path, text, strlen(text));
}

/* Says how the run went, stops the lab (which removes its own folders) and
 * removes ours: on a normal end (libFuzzer's -max_total_time, -runs),
 * exit() on an error, and before the abort() of a finding, whose crash
 * handler ends in _Exit. libFuzzer's SIGINT ends in _Exit too: then the
 * lab, a PR_SET_PDEATHSIG child, stops by itself, and `coldsec fuzz`
 * removes the private TMPDIR all this lives in. */
static void clean_up(fz *f)
{
    write_stats(f, true);
    labproc_stop(f->lab);
    f->lab = NULL;
    if (f->tmp[0] && scratch_remove(f->tmp) != 0)
        fprintf(stderr, "coldsec-fuzz: %s: not removed: %s\n", f->tmp, strerror(errno));
    f->tmp[0] = '\0';
}

static void fatal(fz *f)
{
    clean_up(f);
    fflush(stderr);
    abort();
}

/* The end of a run at an oracle's finding: the marker that tells
 * `coldsec fuzz` the abort below is a finding, not a crash of ours (see the
 * top of this file). Written last, after the finding file. */
static void finding_abort(fz *f)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/oracle-abort-%s-%d", f->out, f->run_id, (int)getpid());
    fileio_write(path, f->last_finding, strlen(f->last_finding));
    fatal(f);
}

static void at_exit(void)
{
    if (run_state)
        clean_up(run_state);
}

/* ---------- set-up ---------- */

/* path as an absolute path (the working folder before a relative one),
 * symbolic links kept: a finding file names it for a replay elsewhere. */
static void absolute(const char *path, char *out, size_t outlen)
{
    char cwd[4096];
    if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        snprintf(out, outlen, "%s", path);
    else
        snprintf(out, outlen, "%s/%s", cwd, path);
}

/* Catalog templates name canaries and users of a scenario run: here a
 * fixed marker stands for them, and padding is kept short. */
static int material_resolve(void *ctx, const tmpl_token *t, const char **value, size_t *vlen, size_t *pad_bytes,
                            char *why, size_t whylen)
{
    (void)ctx;
    (void)why;
    (void)whylen;
    switch (t->kind) {
    case TMPL_OPEN: *value = "{{"; *vlen = 2; break;
    case TMPL_CLOSE: *value = "}}"; *vlen = 2; break;
    case TMPL_PAD: *pad_bytes = 64; break;
    default: *value = "CSCFUZZMARKER1"; *vlen = 14; break;
    }
    return 0;
}

/* The dictionaries libFuzzer was given (COLDSEC_FUZZ_DICTS, ':'-joined,
 * ours first): their words as whole values too, not only spliced into
 * strings. A dictionary the user gave is about this handler, so its words
 * are added USER_DICT_WEIGHT times: picked that much more often than the
 * generic Lambda words and catalog strings. */
#define USER_DICT_WEIGHT 8
static void load_dicts(fz *f, const char *list, const char *own)
{
    char *copy = strdup(list), *save = NULL;
    int index = 0;
    for (char *p = copy ? strtok_r(copy, ":", &save) : NULL; p; p = strtok_r(NULL, ":", &save), index++) {
        size_t len = 0;
        char *text = fileio_read(p, (size_t)16 << 20, &len), err[256];
        int times = index == 0 && strcmp(p, own) == 0 ? 1 : USER_DICT_WEIGHT;
        if (!text)
            die("dictionary %s: %s", p, strerror(errno));
        for (int k = 0; k < times; k++)
            if (fuzzmut_add_dict(f->mut, text, len, err, sizeof(err)) != 0)
                die("dictionary %s: %s", p, err);
        free(text);
    }
    free(copy);
}

/* Every string the scenario catalogs hold (injection payloads, error
 * provokers, bad bodies), templates filled, as mutation material. */
static void load_material(fz *f, const char *dir)
{
    scenario_set *set = NULL;
    char err[1024];
    static const char *const names[] = {"injection", "error-provokers", "bad-bodies"};
    if (scenario_set_load(dir, &set, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec-fuzz: no catalog material (%s)\n", err);
        return;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const catalog *c = scenario_set_catalog(set, names[i]);
        const cJSON *e, *v;
        if (!c)
            continue;
        cJSON_ArrayForEach(e, c->entries) {
            cJSON_ArrayForEach(v, e) {
                const char *s = cJSON_GetStringValue(v);
                size_t n = 0;
                char *x;
                if (!s || strcmp(v->string, "id") == 0 || strcmp(v->string, "lang") == 0 ||
                    strcmp(v->string, "technique") == 0)
                    continue;
                x = tmpl_expand(s, strlen(s), material_resolve, NULL, &n, err, sizeof(err));
                if (x && fuzzmut_add_string(f->mut, x, n) != 0)
                    fprintf(stderr, "coldsec-fuzz: out of memory for material\n");
                free(x);
            }
        }
    }
    scenario_set_free(set);
}

static void map_coverage(fz *f, const char *dir)
{
    char path[4200];
    int fd;
    void *p;
    snprintf(path, sizeof(path), "%s/%s.cov", dir, f->function);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        die("coverage: %s: the lab made no bitmap", path);
    p = mmap(NULL, COV_HEADER + COV_COUNTERS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED || memcmp(p, COV_MAGIC, 8) != 0)
        die("coverage: %s: not a coverage bitmap", path);
    f->cov = p;
}

static void set_up_secrets(fz *f)
{
    f->sec = fuzzenv_secrets(f->variables);
    if (!f->sec)
        die("%s", "out of memory");
}

/* The probe's answer on fresh environments, twice: if it is not the same
 * answer twice, no difference after an input could mean anything. */
static void set_up_probe(fz *f, const char *path)
{
    answer a, b;
    cJSON *doc;
    char out[4200];
    f->probe = fileio_read(path, (size_t)16 << 20, &f->probe_len);
    if (!f->probe)
        die("probe: %s: cannot read the baseline event", path);
    doc = jsonutil_parse_whole(f->probe, f->probe_len);
    if (!doc)
        die("probe: %s: not JSON", path);
    cJSON_Delete(doc);
    snprintf(out, sizeof(out), "%s/probe.json", f->out);
    fileio_write(out, f->probe, f->probe_len);
    if (invoke(f, f->probe, f->probe_len, &a) != 0)
        die("%s", "the probe could not be invoked: is the function in the lab?");
    if (fresh_environment(f) != 0 || invoke(f, f->probe, f->probe_len, &b) != 0)
        die("%s", "could not retire the function's environments");
    f->probe_on = !a.resp.function_error && !b.resp.function_error &&
                  fuzzoracle_same_answer(a.resp.body, a.resp.body_len, b.resp.body, b.resp.body_len);
    if (!f->probe_on)
        fprintf(stderr, "coldsec-fuzz: the probe does not get the same answer on two fresh environments (or fails):"
                        " no state-pollution oracle in this run\n");
    f->reference = a.resp.body;
    f->reference_len = a.resp.body_len;
    a.resp.body = NULL;
    answer_clear(&a);
    answer_clear(&b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz *f = calloc(1, sizeof(*f));
    char err[2048], log_file[4200], cov_dir[4200];
    const char *lab_args[3] = {NULL, NULL, NULL};
    lambda_client_options lo;

    (void)argc;
    (void)argv;
    if (!f)
        die("%s", "out of memory");
    run_state = f;
    f->function = getenv("COLDSEC_FUZZ_FUNCTION");
    f->out = getenv("COLDSEC_FUZZ_OUT");
    f->lab_config = getenv("COLDSEC_FUZZ_LAB_CONFIG");
    f->run_id = env_or("COLDSEC_FUZZ_RUN_ID", "run");
    if (!f->function || !f->out || !f->lab_config)
        die("%s", "run me through `coldsec fuzz` (COLDSEC_FUZZ_FUNCTION, _OUT and _LAB_CONFIG are not set)");
    absolute(f->lab_config, f->lab_config_abs, sizeof(f->lab_config_abs));
    absolute(f->out, f->out_abs, sizeof(f->out_abs));
    f->growth_mb = atoi(env_or("COLDSEC_FUZZ_GROWTH_MB", "32"));
    f->fatal_exceptions = strcmp(env_or("COLDSEC_FUZZ_FATAL_EXCEPTIONS", "0"), "1") == 0;
    f->test_segv = strcmp(env_or("COLDSEC_FUZZ_TEST_SEGV", "0"), "1") == 0;
    f->keys = calloc(MAX_EXCEPTION_KEYS, sizeof(*f->keys));
    /* Workers of -jobs each start their own lab: name what they make by pid. */
    snprintf(f->tmp, sizeof(f->tmp), "%s/coldsec-fuzz-%d-XXXXXX", env_or("TMPDIR", "/tmp"), (int)getpid());
    if (!f->keys || !mkdtemp(f->tmp)) {
        f->tmp[0] = '\0';
        die("cannot make a private folder: %s", strerror(errno));
    }
    atexit(at_exit); /* from here on, every exit removes it */
    snprintf(cov_dir, sizeof(cov_dir), "%s/coverage", f->tmp);
    snprintf(log_file, sizeof(log_file), "%s/lab.log", f->tmp);
    if (strcmp(env_or("COLDSEC_FUZZ_COVERAGE", "1"), "1") == 0) {
        if (mkdir(cov_dir, 0700) != 0)
            die("cannot make the coverage folder: %s", strerror(errno));
        lab_args[0] = "--coverage-dir";
        lab_args[1] = cov_dir;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (labproc_start(env_or("COLDSEC_FUZZ_LAB_BIN", "coldsec-lab"), f->lab_config, lab_args, log_file, &f->lab, err,
                      sizeof(err)) != 0)
        die("%s", err);
    f->cred.access_key_id = LABPROC_ACCESS_KEY_ID;
    f->cred.secret_access_key = LABPROC_SECRET_ACCESS_KEY;
    memset(&lo, 0, sizeof(lo));
    lo.endpoint = labproc_endpoint(f->lab);
    lo.region = LABPROC_REGION;
    lo.cred = &f->cred;
    lo.max_attempts = 1;
    f->client = lambda_client_new(&lo, err, sizeof(err));
    if (!f->client)
        die("%s", err);
    if (canary_new(f->canary, sizeof(f->canary)) != 0)
        die("%s", "no random numbers for the canary");
    if (fuzzenv_plant(f->client, f->function, f->canary, &f->variables, err, sizeof(err)) != 0)
        die("%s", err);
    set_up_secrets(f);
    f->oracle = fuzzoracle_new(f->sec, f->growth_mb);
    f->mut = fuzzmut_new();
    if (!f->oracle || !f->mut)
        die("%s", "out of memory");
    load_material(f, env_or("COLDSEC_FUZZ_CATALOGS", "scenarios"));
    load_dicts(f, env_or("COLDSEC_FUZZ_DICTS", ""), env_or("COLDSEC_FUZZ_OWN_DICT", "fuzz/lambda.dict"));
    if (lab_args[0])
        map_coverage(f, cov_dir);
    set_up_probe(f, env_or("COLDSEC_FUZZ_PROBE", ""));
    fprintf(stderr, "coldsec-fuzz: %s on %s: coverage %s, state-pollution probe %s, %zu strings of material\n",
            f->function, labproc_endpoint(f->lab), f->cov ? "on" : "off", f->probe_on ? "on" : "off",
            fuzzmut_count(f->mut));
    f->t0 = monotime_ms();
    return 0;
}

/* ---------- one input ---------- */

static bool seen_key(fz *f, const char *key)
{
    for (size_t i = 0; i < f->nkeys; i++)
        if (strcmp(f->keys[i], key) == 0)
            return true;
    if (f->nkeys < MAX_EXCEPTION_KEYS)
        snprintf(f->keys[f->nkeys++], sizeof(f->keys[0]), "%s", key);
    return false;
}

/* The probe answered differently after this input: is it the input? The
 * same input then the probe on a fresh environment must differ again. */
static void check_pollution(fz *f, const uint8_t *data, size_t size)
{
    answer in, probe;
    bool confirmed = false;
    if (fresh_environment(f) == 0 && invoke(f, (const char *)data, size, &in) == 0) {
        if (invoke(f, f->probe, f->probe_len, &probe) == 0) {
            confirmed = !fuzzoracle_same_answer(probe.resp.body, probe.resp.body_len, f->reference,
                                                f->reference_len);
            if (confirmed) {
                fuzzoracle_verdict v;
                memset(&v, 0, sizeof(v));
                v.kind = FUZZORACLE_POLLUTION;
                v.max_memory_mb = -1;
                snprintf(v.key, sizeof(v.key), "pollution");
                snprintf(v.detail, sizeof(v.detail),
                         "after this input the probe (the baseline event) got another answer on the warm "
                         "environment than on a fresh one; confirmed on a fresh environment");
                report_finding(f, &v, data, size, &in, &probe);
            }
            answer_clear(&probe);
        }
        answer_clear(&in);
    }
    if (confirmed)
        finding_abort(f);
    /* Whatever it was, the next input gets an environment the probe knows. */
    fresh_environment(f);
}

static bool valid_utf8(const uint8_t *p, size_t n)
{
    uint32_t cp;
    for (size_t i = 0, k; i < n; i += k)
        if ((k = utf8_decode(p + i, n - i, &cp)) == 0)
            return false;
    return true;
}

/* A memory verdict is a finding only if the input makes a fresh
 * environment's memory climb steadily (fuzzenv_memory_grows). */
static bool memory_grows_with(fz *f, const uint8_t *data, size_t size, fuzzoracle_verdict *v)
{
    if (fresh_environment(f) != 0)
        return false;
    return fuzzenv_memory_grows(f->client, f->function, (const char *)data, size, v->detail, sizeof(v->detail),
                                &v->max_memory_mb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz *f = run_state;
    cJSON *doc = jsonutil_parse_whole((const char *)data, size);
    answer a;
    fuzzoracle_verdict v;

    if (f->test_segv)
        raise(SIGSEGV);
    /* Lambda takes only JSON events in UTF-8: anything else is not worth keeping. */
    if (!doc || !valid_utf8(data, size)) {
        cJSON_Delete(doc);
        return -1;
    }
    cJSON_Delete(doc);
    if (f->cov) {
        uint64_t gen;
        memcpy(&gen, f->cov + 8, sizeof(gen));
        gen++;
        memset(f->cov + COV_HEADER, 0, COV_COUNTERS);
        memcpy(f->cov + 8, &gen, sizeof(gen));
    }
    f->execs++;
    if (invoke(f, (const char *)data, size, &a) != 0) {
        fprintf(stderr, "coldsec-fuzz: the lab did not answer an Invoke; its log: %s/lab.log\n", f->tmp);
        fatal(f);
    }
    if (f->cov)
        memcpy(extra, f->cov + COV_HEADER, COV_COUNTERS);
    else
        extra[0] = 1;   /* --no-coverage: one feature every input has, or libFuzzer stops ("no interesting inputs") */
    fuzzenv_judge(f->oracle, &a, (const char *)data, size, &v);
    if (v.not_an_event) {
        answer_clear(&a);
        return -1;
    }
    if (v.kind == FUZZORACLE_EXCEPTION) {
        if (!seen_key(f, v.key))
            report_finding(f, &v, data, size, &a, NULL);
        if (f->fatal_exceptions)
            finding_abort(f);
    } else if (v.kind == FUZZORACLE_MEMORY) {
        if (memory_grows_with(f, data, size, &v)) {
            report_finding(f, &v, data, size, &a, NULL);
            finding_abort(f);
        }
        /* Not this input: a fresh environment and a new baseline (done). */
        answer_clear(&a);
        write_stats(f, false);
        return 0;
    } else if (v.kind != FUZZORACLE_NONE) {
        report_finding(f, &v, data, size, &a, NULL);
        finding_abort(f);
    }
    answer_clear(&a);
    if (f->probe_on && v.kind == FUZZORACLE_NONE) {
        answer p;
        if (invoke(f, f->probe, f->probe_len, &p) == 0) {
            bool same = !p.resp.function_error &&
                        fuzzoracle_same_answer(p.resp.body, p.resp.body_len, f->reference, f->reference_len);
            answer_clear(&p);
            if (!same)
                check_pollution(f, data, size);
        }
    }
    write_stats(f, false);
    return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
    return fuzzmut_mutate(run_state ? run_state->mut : NULL, data, size, max_size, seed, LLVMFuzzerMutate);
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2, uint8_t *out,
                                 size_t max_out, unsigned seed)
{
    return fuzzmut_crossover(run_state ? run_state->mut : NULL, d1, s1, d2, s2, out, max_out, seed);
}
