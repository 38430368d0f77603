/*
 * run — the `coldsec run` command: loads the suite, starts coldsec-lab when
 * targets live there, runs every target × scenario through the engine
 * (targets in parallel, scenarios of one target in order, because their
 * cold starts change the same function), and writes the report even when
 * the run is cut short.
 */
#include "run.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "awsconf.h"
#include "engine.h"
#include "monotime.h"
#include "paths.h"
#include "labproc.h"
#include "lambda_client.h"
#include "report.h"
#include "rundir.h"
#include "shard.h"
#include "suite.h"

/* What replay commands say for a lab target: the lab started by hand. */
#define LAB_REPLAY_ENDPOINT "http://127.0.0.1:9000"

#define MAX_FILTERS 64

static const char RUN_HELP[] =
    "usage: coldsec run [SUITE] [--target NAME]... [--scenario ID]... [--seed N] [--fail-on SEVERITY]\n"
    "                   [--out DIR] [--format LIST] [--baseline OLD_REPORT] [--shard I/N] [--jobs N]\n"
    "                   [--scenario-dir DIR] [--lab-bin PATH] [--verbose] [--quiet]\n"
    "       coldsec run --list-scenarios [SUITE] [--scenario-dir DIR]\n"
    "Runs the suite (default ./scenarios.yaml): forces cold starts, fires each scenario's payloads and\n"
    "asserts on the answers and log tails. Lab targets run on a coldsec-lab that coldsec starts itself.\n"
    "Writes reports/RUN/: report.json, junit.xml, results.sarif, report.html (and per target and\n"
    "scenario: plan.json, invocations.jsonl, replay/), also when the run is cut short, and prints a\n"
    "summary table. Progress goes to stderr: a bar on a terminal, a line per run otherwise; colour only\n"
    "on a terminal and never with NO_COLOR set.\n\n"
    "  --target NAME       only these targets (repeatable)\n"
    "  --scenario ID       only these scenarios (repeatable)\n"
    "  --seed N            the plan's seed (default: the suite's); the same seed gives the same plan\n"
    "                      (all but the users' ids, fresh canaries every run)\n"
    "  --fail-on SEV       info, low, medium, high or critical (default: the suite's, else medium)\n"
    "  --out DIR           where run folders go (default reports)\n"
    "  --format LIST       json, junit, sarif, html, comma-separated (default all); report.json always\n"
    "  --baseline FILE     an earlier report.json: findings it has are \"known\" and do not trip the\n"
    "                      gate; the ones it has that this run no longer sees are listed as absent\n"
    "  --shard I/N         only part I of N of the target x scenario runs (the runs on one function stay\n"
    "                      in one part; the N parts are the whole run); merge with `coldsec report`\n"
    "  --jobs N            targets tested at the same time (default 4)\n"
    "  --scenario-dir DIR  the suite's scenario files (default: scenarios/ beside the suite, if any); looked\n"
    "                      in before the built-in scenarios: a file there replaces the built-in of its id\n"
    "  --list-scenarios    print each scenario id and the file it comes from, then stop\n"
    "  --lab-bin PATH      the coldsec-lab program (default: beside this coldsec)\n"
    "  --verbose           the cold-start forcer's plan and progress for every target\n"
    "  --quiet             no progress: only errors and the summary\n\n"
    "Exit status: 0 no finding at or above the gate; 1 findings at or above it; 2 usage or configuration\n"
    "error (a refused cold start included); 3 a target could not be tested, or the run was interrupted;\n"
    "4 a function's configuration could not be restored (the message names the journal).\n";

typedef struct run_opts {
    const char *suite_path, *out_dir, *scenario_dir, *lab_bin, *baseline;
    const char *targets[MAX_FILTERS], *scenarios[MAX_FILTERS];
    size_t ntargets, nscenarios;
    long seed;
    bool have_seed, verbose, quiet, list_scenarios;
    int fail_on;
    int jobs;
    unsigned formats;
    int shard_index, shard_count;   /* 0: no --shard */
} run_opts;

typedef struct shared {
    const run_opts *o;
    const suite *s;
    report *rep;
    const char *run_dir;
    const char *lab_endpoint;
    const volatile sig_atomic_t *stop;
    pthread_mutex_t lock;
    size_t next, done, total_runs, findings;
    FILE *null;
    const int *shard_of;       /* per target; NULL: every target */
    bool bar, color;           /* stderr is a terminal (and colour is allowed) */
    double t0;
} shared;

static bool selected(const char *const *list, size_t n, const char *name)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

/* In --target and in this runner's --shard. */
static bool target_selected(const run_opts *o, const int *shard_of, const suite *s, size_t i)
{
    if (shard_of && shard_of[i] != o->shard_index)
        return false;
    return selected(o->targets, o->ntargets, s->targets[i].name);
}

/* awsconf reads the environment through this for lab targets: the lab's
 * pair and endpoint, nothing of the user's AWS setup. */
typedef struct lab_env {
    const char *endpoint;
} lab_env;

static const char *lab_getenv(void *ctx, const char *name)
{
    const lab_env *e = ctx;
    if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
        return LABPROC_ACCESS_KEY_ID;
    if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
        return LABPROC_SECRET_ACCESS_KEY;
    if (strcmp(name, "AWS_REGION") == 0)
        return LABPROC_REGION;
    if (strcmp(name, "AWS_ENDPOINT_URL_LAMBDA") == 0)
        return e->endpoint;
    /* No shared files: a user's ~/.aws must not leak into lab runs. */
    if (strcmp(name, "AWS_SHARED_CREDENTIALS_FILE") == 0 || strcmp(name, "AWS_CONFIG_FILE") == 0)
        return "/nonexistent/coldsec-lab";
    return NULL;
}

static int open_client(shared *sh, const suite_target *t, awsconf **conf, lambda_client **client, char *replay,
                       size_t replaylen, char *err, size_t errlen)
{
    lab_env env = {sh->lab_endpoint};
    awsconf_options ao;
    lambda_client_options lo;

    memset(&ao, 0, sizeof(ao));
    if (t->lab) {
        ao.getenv_fn = lab_getenv;
        ao.getenv_ctx = &env;
    } else {
        ao.profile = t->profile;
        ao.region = t->region;
        ao.endpoint = t->endpoint;
        ao.ca_bundle = t->ca_bundle;
    }
    if (awsconf_resolve(&ao, conf, err, errlen) != 0)
        return -1;
    memset(&lo, 0, sizeof(lo));
    lo.endpoint = awsconf_endpoint(*conf);
    lo.region = awsconf_region(*conf);
    lo.cred = awsconf_credentials(*conf);
    lo.ca_bundle = awsconf_ca_bundle(*conf);
    *client = lambda_client_new(&lo, err, errlen);
    if (!*client)
        return -1;
    if (t->lab)
        snprintf(replay, replaylen, "--endpoint %s --region %s", LAB_REPLAY_ENDPOINT, LABPROC_REGION);
    else
        snprintf(replay, replaylen, "--region %s%s%s%s%s", lo.region, t->profile ? " --profile " : "",
                 t->profile ? t->profile : "", t->endpoint ? " --endpoint " : "", t->endpoint ? t->endpoint : "");
    return 0;
}

static void safe_name(const char *in, char *out, size_t len)
{
    size_t k = 0;
    for (; *in && k + 1 < len; in++)
        out[k++] = ((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') || (*in >= '0' && *in <= '9') ||
                    *in == '-' || *in == '_' || *in == '.')
                       ? *in
                       : '_';
    out[k] = '\0';
}

/* The bar's last line on a terminal: how far, what was found, how long. */
static void draw_bar(const shared *sh, const char *now)
{
    enum { WIDTH = 24 };
    size_t fill = sh->total_runs ? sh->done * WIDTH / sh->total_runs : WIDTH;
    char bar[WIDTH + 1];
    double secs = (monotime_ms() - sh->t0) / 1000.0;

    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r\033[K[%s] %zu/%zu  %zu finding%s  %02d:%02d  %.60s", bar, sh->done, sh->total_runs,
            sh->findings, sh->findings == 1 ? "" : "s", (int)(secs / 60), (int)secs % 60, now);
    fflush(stderr);
}

static void progress_start(shared *sh, const suite_target *t, const char *scenario_id)
{
    char now[300];
    if (!sh->bar)
        return;
    snprintf(now, sizeof(now), "%s %s", t->name, scenario_id);
    pthread_mutex_lock(&sh->lock);
    draw_bar(sh, now);
    pthread_mutex_unlock(&sh->lock);
}

static void progress(shared *sh, const suite_target *t, const char *scenario_id, const engine_result *res)
{
    int nf = cJSON_GetArraySize(res->findings);
    const char *what = res->status == ENGINE_DONE             ? (nf ? "findings" : "passed")
                       : res->status == ENGINE_NOT_APPLICABLE ? "not applicable"
                                                              : "NOT COMPLETED";
    const char *on = "", *off = sh->color ? "\033[0m" : "";

    if (sh->color)
        on = res->status == ENGINE_NOT_APPLICABLE ? "\033[2m"
             : res->status != ENGINE_DONE         ? "\033[1;35m"
             : nf                                 ? "\033[31m"
                                                  : "\033[32m";
    pthread_mutex_lock(&sh->lock);
    sh->done++;
    sh->findings += (size_t)nf;
    if (!sh->o->quiet) {
        if (sh->bar)
            fputs("\r\033[K", stderr);
        fprintf(stderr, "coldsec: [%zu/%zu] %s %s: %s%s%s%s%s (%d finding%s, %zu invocations, %.1f s)\n", sh->done,
                sh->total_runs, t->name, scenario_id, on, what, off, res->detail[0] ? ": " : "", res->detail, nf,
                nf == 1 ? "" : "s", res->invocations, res->ms / 1000.0);
        if (sh->bar)
            draw_bar(sh, "");
    }
    pthread_mutex_unlock(&sh->lock);
}

static void test_target(shared *sh, const suite_target *t)
{
    awsconf *conf = NULL;
    lambda_client *client = NULL;
    cJSON *config = NULL, *concurrency = NULL;
    lambda_error le;
    const char *arn = NULL;
    char err[2048], replay[1024], tname[256];

    safe_name(t->name, tname, sizeof(tname));
    if (open_client(sh, t, &conf, &client, replay, sizeof(replay), err, sizeof(err)) != 0) {
        report_add_error(sh->rep, t, ENGINE_REFUSED, err);
        goto cleanup;
    }
    if (lambda_get_configuration(client, t->function, NULL, &config, &le) != 0) {
        lambda_error_format(&le, err, sizeof(err));
        report_add_error(sh->rep, t, ENGINE_UNTESTABLE, err);
        goto cleanup;
    }
    arn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(config, "FunctionArn"));
    /* Optional: a role may lack lambda:GetFunctionConcurrency. */
    if (lambda_get_concurrency(client, t->function, &concurrency, &le) != 0)
        concurrency = NULL;
    for (size_t i = 0; i < t->nruns; i++) {
        const suite_run *run = &t->runs[i];
        engine_opts eo;
        engine_result res;
        char dir[4096], sname[128];
        if (!selected(sh->o->scenarios, sh->o->nscenarios, run->sc->id))
            continue;
        if (sh->stop && *sh->stop)
            break;
        safe_name(run->sc->id, sname, sizeof(sname));
        snprintf(dir, sizeof(dir), "%s/%s/%s", sh->run_dir, tname, sname);
        memset(&eo, 0, sizeof(eo));
        eo.client = client;
        eo.s = sh->s;
        eo.t = t;
        eo.run = run;
        eo.config = config;
        eo.concurrency = concurrency;
        eo.dir = dir;
        eo.replay_connection = replay;
        eo.stop = sh->stop;
        eo.forcer_out = sh->o->verbose ? stderr : sh->null;
        eo.stop_at = getenv("COLDSEC_TEST_STOP_AT");
        progress_start(sh, t, run->sc->id);
        engine_run(&eo, &res);
        progress(sh, t, run->sc->id, &res);
        report_add(sh->rep, t, arn, run->sc->id, &res);
        engine_result_clear(&res);
    }
cleanup:
    cJSON_Delete(config);
    cJSON_Delete(concurrency);
    lambda_client_free(client);
    awsconf_free(conf);
}

static void *worker(void *arg)
{
    shared *sh = arg;
    for (;;) {
        size_t i;
        const suite_target *t;
        pthread_mutex_lock(&sh->lock);
        while (sh->next < sh->s->ntargets && !target_selected(sh->o, sh->shard_of, sh->s, sh->next))
            sh->next++;
        i = sh->next++;
        pthread_mutex_unlock(&sh->lock);
        if (i >= sh->s->ntargets || (sh->stop && *sh->stop))
            return NULL;
        t = &sh->s->targets[i];
        test_target(sh, t);
    }
}

static int parse(int argc, char **argv, run_opts *o)
{
    enum { O_TARGET = 300, O_SCENARIO, O_SEED, O_FAIL_ON, O_OUT, O_JOBS, O_SCENARIO_DIR, O_LAB_BIN, O_VERBOSE,
           O_QUIET, O_HELP, O_FORMAT, O_BASELINE, O_SHARD, O_LIST };
    static const struct option opts[] = {
        {"target", required_argument, NULL, O_TARGET},       {"scenario", required_argument, NULL, O_SCENARIO},
        {"seed", required_argument, NULL, O_SEED},           {"fail-on", required_argument, NULL, O_FAIL_ON},
        {"out", required_argument, NULL, O_OUT},             {"jobs", required_argument, NULL, O_JOBS},
        {"scenario-dir", required_argument, NULL, O_SCENARIO_DIR},
        {"lab-bin", required_argument, NULL, O_LAB_BIN},     {"verbose", no_argument, NULL, O_VERBOSE},
        {"quiet", no_argument, NULL, O_QUIET},               {"help", no_argument, NULL, O_HELP},
        {"format", required_argument, NULL, O_FORMAT},       {"baseline", required_argument, NULL, O_BASELINE},
        {"shard", required_argument, NULL, O_SHARD},         {"list-scenarios", no_argument, NULL, O_LIST},
        {NULL, 0, NULL, 0}};
    int c;
    char *end, err[256];

    memset(o, 0, sizeof(*o));
    o->formats = REPORT_ALL;
    o->suite_path = "scenarios.yaml";
    o->out_dir = "reports";
    o->jobs = 4;
    o->fail_on = -1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_TARGET:
        case O_SCENARIO: {
            const char **list = c == O_TARGET ? o->targets : o->scenarios;
            size_t *n = c == O_TARGET ? &o->ntargets : &o->nscenarios;
            if (*n == MAX_FILTERS) {
                fprintf(stderr, "coldsec run: at most %d --%s\n", MAX_FILTERS, c == O_TARGET ? "target" : "scenario");
                return 2;
            }
            list[(*n)++] = optarg;
            break;
        }
        case O_SEED:
            errno = 0;
            o->seed = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || o->seed < 0) {
                fprintf(stderr, "coldsec run: --seed: a whole number from 0, not \"%s\"\n", optarg);
                return 2;
            }
            o->have_seed = true;
            break;
        case O_FAIL_ON: {
            severity sev;
            if (severity_parse(optarg, &sev) != 0) {
                fprintf(stderr, "coldsec run: --fail-on: info, low, medium, high or critical, not \"%s\"\n", optarg);
                return 2;
            }
            o->fail_on = (int)sev;
            break;
        }
        case O_OUT: o->out_dir = optarg; break;
        case O_FORMAT:
            if (report_formats_parse(optarg, &o->formats, err, sizeof(err)) != 0) {
                fprintf(stderr, "coldsec run: %s\n", err);
                return 2;
            }
            break;
        case O_BASELINE: o->baseline = optarg; break;
        case O_SHARD:
            if (shard_parse(optarg, &o->shard_index, &o->shard_count, err, sizeof(err)) != 0) {
                fprintf(stderr, "coldsec run: %s\n", err);
                return 2;
            }
            break;
        case O_JOBS:
            errno = 0;
            o->jobs = (int)strtol(optarg, &end, 10);
            if (errno || *end || o->jobs < 1 || o->jobs > 64) {
                fprintf(stderr, "coldsec run: --jobs: 1 to 64, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        case O_SCENARIO_DIR: o->scenario_dir = optarg; break;
        case O_LAB_BIN: o->lab_bin = optarg; break;
        case O_LIST: o->list_scenarios = true; break;
        case O_VERBOSE: o->verbose = true; break;
        case O_QUIET: o->quiet = true; break;
        case O_HELP: fputs(RUN_HELP, stdout); return -1;
        default:
            fprintf(stderr, "coldsec run: unknown or incomplete option \"%s\" (see coldsec run --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc)
        o->suite_path = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "coldsec run: one suite file only (\"%s\" is extra)\n", argv[optind]);
        return 2;
    }
    return 0;
}

/* Which shard each target belongs to: targets that change the same
 * function are one group (shard.h). */
static int *assign_shards(const run_opts *o, const suite *s)
{
    char **keys = calloc(s->ntargets ? s->ntargets : 1, sizeof(*keys));
    size_t *runs = calloc(s->ntargets ? s->ntargets : 1, sizeof(*runs));
    int *of = calloc(s->ntargets ? s->ntargets : 1, sizeof(*of));
    bool ok = keys && runs && of;

    for (size_t i = 0; ok && i < s->ntargets; i++) {
        const suite_target *t = &s->targets[i];
        if (asprintf(&keys[i], "%s\n%s\n%s\n%s", t->lab ? "lab" : "aws", t->region ? t->region : "",
                     t->endpoint ? t->endpoint : "", t->function) < 0) {
            keys[i] = NULL;
            ok = false;
            break;
        }
        if (selected(o->targets, o->ntargets, t->name))
            for (size_t k = 0; k < t->nruns; k++)
                runs[i] += selected(o->scenarios, o->nscenarios, t->runs[k].sc->id);
    }
    if (ok && shard_assign((const char *const *)keys, runs, s->ntargets, o->shard_count, of) != 0)
        ok = false;
    for (size_t i = 0; keys && i < s->ntargets; i++)
        free(keys[i]);
    free(keys);
    free(runs);
    if (!ok) {
        free(of);
        return NULL;
    }
    return of;
}

/* --list-scenarios: id, file, and where it comes from (stdout, one a line). */
static void list_scenarios(const suite *s)
{
    for (size_t i = 0; i < scenario_set_count(s->set); i++) {
        const scenario *sc = scenario_set_at(s->set, i);
        if (sc->builtin)
            printf("%-24s %s (built-in)\n", sc->id, sc->path);
        else if (sc->overrides)
            printf("%-24s %s (suite; overrides built-in %s)\n", sc->id, sc->path, sc->overrides);
        else
            printf("%-24s %s (suite)\n", sc->id, sc->path);
    }
}

int run_command(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    run_opts o;
    suite *s = NULL;
    labproc *lab = NULL;
    report *rep = NULL;
    shared sh;
    int *shard_of = NULL;
    char err[2048], run_dir[4096], lab_bin[PATH_MAX + 16], log_file[4200], builtin[PATH_MAX];
    const char *run_id;
    pthread_t threads[64];
    int nthreads = 0, rc = parse(argc, argv, &o);
    bool needs_lab = false;

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    memset(&sh, 0, sizeof(sh));
    /* The built-in scenarios come after the suite's own (paths.h); none
     * found leaves the suite's folder alone, as before. */
    if (paths_find(PATHS_SCENARIOS, builtin, sizeof(builtin)) != 0)
        builtin[0] = '\0';
    if (suite_load_builtin(o.suite_path, o.scenario_dir, builtin[0] ? builtin : NULL, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec: %s\n", err);
        return 2;
    }
    if (o.list_scenarios) {
        list_scenarios(s);
        suite_free(s);
        return 0;
    }
    if (o.have_seed)
        s->seed = (uint64_t)o.seed;
    if (o.fail_on >= 0)
        s->fail_on = (severity)o.fail_on;
    for (size_t i = 0; i < o.ntargets; i++) {
        size_t k;
        for (k = 0; k < s->ntargets; k++)
            if (strcmp(s->targets[k].name, o.targets[i]) == 0)
                break;
        if (k == s->ntargets) {
            fprintf(stderr, "coldsec: --target %s: no such target in %s\n", o.targets[i], s->path);
            rc = 2;
            goto cleanup;
        }
    }
    for (size_t i = 0; i < o.nscenarios; i++) {
        if (!scenario_set_find(s->set, o.scenarios[i])) {
            fprintf(stderr, "coldsec: --scenario %s: no such scenario in %s\n", o.scenarios[i], s->scenario_dir);
            rc = 2;
            goto cleanup;
        }
    }
    if (o.shard_count) {
        shard_of = assign_shards(&o, s);
        if (!shard_of) {
            fprintf(stderr, "coldsec: out of memory\n");
            rc = 2;
            goto cleanup;
        }
        sh.shard_of = shard_of;
    }
    if (rundir_name(o.out_dir, run_dir, sizeof(run_dir)) != 0 || rundir_create(run_dir, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec: cannot create the run folder under %s: %s\n", o.out_dir, err);
        rc = 2;
        goto cleanup;
    }
    run_id = strrchr(run_dir, '/') ? strrchr(run_dir, '/') + 1 : run_dir;
    rep = report_new(s, run_id, run_dir);
    sh.null = fopen("/dev/null", "w");
    if (!rep || !sh.null) {
        fprintf(stderr, "coldsec: out of memory\n");
        rc = 2;
        goto cleanup;
    }
    if (o.shard_count)
        report_set_shard(rep, o.shard_index, o.shard_count);
    /* Before anything runs: a baseline that cannot be read would make the gate lie. */
    if (o.baseline && report_set_baseline(rep, o.baseline, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec: --baseline %s\n", err);
        rc = 2;
        goto cleanup;
    }
    sh.o = &o;
    sh.s = s;
    for (size_t i = 0; i < s->ntargets; i++) {
        if (!target_selected(&o, shard_of, s, i))
            continue;
        needs_lab |= s->targets[i].lab;
        for (size_t k = 0; k < s->targets[i].nruns; k++)
            sh.total_runs += selected(o.scenarios, o.nscenarios, s->targets[i].runs[k].sc->id);
    }
    if (needs_lab) {
        if (o.lab_bin)
            snprintf(lab_bin, sizeof(lab_bin), "%s", o.lab_bin);
        else
            paths_beside_self("coldsec-lab", lab_bin, sizeof(lab_bin));
        snprintf(log_file, sizeof(log_file), "%s/lab.log", run_dir);
        if (labproc_start(lab_bin, s->lab_config, NULL, log_file, &lab, err, sizeof(err)) != 0) {
            fprintf(stderr, "coldsec: %s\n", err);
            /* Said in the report too, for the CI stage that only reads files. */
            for (size_t i = 0; i < s->ntargets; i++)
                if (target_selected(&o, shard_of, s, i))
                    report_add_error(rep, &s->targets[i], ENGINE_UNTESTABLE,
                                     s->targets[i].lab ? err : "not run: coldsec-lab did not start");
            goto cleanup;
        }
        sh.lab_endpoint = labproc_endpoint(lab);
        if (!o.quiet)
            fprintf(stderr, "coldsec: started coldsec-lab on %s (%s)\n", sh.lab_endpoint, s->lab_config);
    }
    if (!o.quiet) {
        if (o.shard_count)
            fprintf(stderr, "coldsec: shard %d/%d: %zu target × scenario runs%s\n", o.shard_index, o.shard_count,
                    sh.total_runs, sh.total_runs ? "" : " (the other shards have every function)");
        fprintf(stderr, "coldsec: %zu target × scenario runs, seed %llu, %d at a time; run folder %s\n",
                sh.total_runs, (unsigned long long)s->seed, o.jobs, run_dir);
    }
    sh.rep = rep;
    sh.run_dir = run_dir;
    sh.stop = stop;
    sh.t0 = monotime_ms();
    /* A bar only where someone watches; the forcer's --verbose lines would tear it. */
    sh.bar = isatty(STDERR_FILENO) && !o.quiet && !o.verbose;
    sh.color = report_color_allowed(STDERR_FILENO);
    pthread_mutex_init(&sh.lock, NULL);
    for (int i = 0; i < o.jobs && (size_t)i < s->ntargets; i++) {
        if (pthread_create(&threads[nthreads], NULL, worker, &sh) == 0)
            nthreads++;
    }
    if (nthreads == 0)
        worker(&sh);
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&sh.lock);
    if (sh.bar) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    if (stop && *stop) {
        engine_result res;
        memset(&res, 0, sizeof(res));
        res.status = ENGINE_INTERRUPTED;
        snprintf(res.detail, sizeof(res.detail), "the run was interrupted before this point");
        if (sh.done < sh.total_runs && s->ntargets)
            report_add(rep, &s->targets[0], NULL, "*", &res);
    }
cleanup:
    labproc_stop(lab);
    if (rep && rc != 2) {
        rc = report_exit_status(rep);
        if (report_write(rep, o.formats, err, sizeof(err)) != 0) {
            fprintf(stderr, "coldsec: could not write the report: %s\n", err);
            if (rc == 0 || rc == 1)
                rc = 3;
        }
        report_print(rep, stdout, report_color_allowed(STDOUT_FILENO));
        if (rc == 4)
            fprintf(stderr, "coldsec: A FUNCTION'S CONFIGURATION WAS NOT RESTORED: see the results marked "
                            "not-restored above and run `coldsec restore JOURNAL` with the journal they name\n");
    }
    if (sh.null)
        fclose(sh.null);
    report_free(rep);
    free(shard_of);
    suite_free(s);
    return rc;
}
