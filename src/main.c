/*
 * coldsec — the command line. Each subcommand is a function here that
 * parses its options, builds the Lambda client from awsconf (credentials,
 * region, endpoint as AWS tools find them) and drives the modules:
 *
 *   invoke      one Invoke, payload to stdout, log tail to stderr
 *   cold-start  forcer: retire every warm environment, verify, restore
 *   restore     finish an interrupted restore from a journal
 *   fanout      many invocations through the engine, optionally after a
 *               forced cold start; one JSON line per invocation
 *   init        a starter suite (initcmd)
 *
 * Exit status: 0 fine; 1 the function returned an error (invoke); 2 usage
 * or configuration error; 3 the target could not be tested; 4 a
 * configuration could not be restored (or someone else's change was left
 * in place): the loudest, always with the journal's path.
 *
 * The only mutable global is the signal flag, as signal handlers need.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "awsconf.h"
#include "canary.h"
#include "fanout.h"
#include "fnconfig.h"
#include "forcer.h"
#include "fuzzcmd.h"
#include "initcmd.h"
#include "journal.h"
#include "lambda_client.h"
#include "logtail.h"
#include "plan.h"
#include "report.h"
#include "replaycmd.h"
#include "reportcmd.h"
#include "run.h"
#include "rundir.h"
#include "tmpl.h"

enum {
    EXIT_OK = 0,
    EXIT_FUNCTION_ERROR = 1,
    EXIT_USAGE = 2,
    EXIT_UNTESTABLE = 3,
    EXIT_NOT_RESTORED = 4
};

#define MAX_PAYLOAD_FILE ((size_t)6 * 1024 * 1024)

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---------- options every command shares ---------- */

typedef struct common {
    const char *region, *profile, *endpoint, *ca_bundle;
    long timeout_s;
    int max_attempts;
    bool verbose, quiet;
} common;

enum {
    OPT_REGION = 256, OPT_PROFILE, OPT_ENDPOINT, OPT_CA_BUNDLE, OPT_TIMEOUT, OPT_MAX_ATTEMPTS, OPT_VERBOSE,
    OPT_QUIET, OPT_HELP,
    OPT_PAYLOAD, OPT_QUALIFIER, OPT_LOG, OPT_INVOCATION_TYPE,
    OPT_ALLOW_MUTATION, OPT_ALLOW_PROTECTED, OPT_PROTECT, OPT_DRY_RUN, OPT_VERIFY, OPT_OUT,
    OPT_COUNT, OPT_PARALLEL, OPT_SEED, OPT_USERS, OPT_COLD_START, OPT_MAX_PAYLOAD
};

#define COMMON_LONG_OPTIONS                                                              \
    {"region", required_argument, NULL, OPT_REGION},                                     \
    {"profile", required_argument, NULL, OPT_PROFILE},                                   \
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},                                 \
    {"ca-bundle", required_argument, NULL, OPT_CA_BUNDLE},                               \
    {"timeout", required_argument, NULL, OPT_TIMEOUT},                                   \
    {"max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS},                         \
    {"verbose", no_argument, NULL, OPT_VERBOSE},                                         \
    {"quiet", no_argument, NULL, OPT_QUIET},                                             \
    {"help", no_argument, NULL, OPT_HELP}

static const char COMMON_HELP[] =
    "Connection (as AWS tools: environment, then AWS_PROFILE or default in ~/.aws/{credentials,config},\n"
    "credential_process included):\n"
    "  --region R          region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's region)\n"
    "  --profile P         use this profile's credentials (over AWS_ACCESS_KEY_ID)\n"
    "  --endpoint URL      Lambda endpoint (else AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL, the profile's)\n"
    "  --ca-bundle FILE    trust these CAs (else AWS_CA_BUNDLE); HTTPS is always verified\n"
    "  --timeout S         per-request limit in seconds (default: 30 for the API, 905 for Invoke)\n"
    "  --max-attempts N    attempts for conflicts, 5xx and network errors (default 8; throttling\n"
    "                      retries until 120 s of backoff are spent)\n"
    "  --verbose           one line per retry, where credentials came from (never their values)\n"
    "  --quiet             errors only\n";

/* Returns 1 when the option was a common one, 0 if not, -1 on a bad value. */
static int common_option(common *co, int opt, const char *arg)
{
    char *end;
    switch (opt) {
    case OPT_REGION: co->region = arg; return 1;
    case OPT_PROFILE: co->profile = arg; return 1;
    case OPT_ENDPOINT: co->endpoint = arg; return 1;
    case OPT_CA_BUNDLE: co->ca_bundle = arg; return 1;
    case OPT_VERBOSE: co->verbose = true; return 1;
    case OPT_QUIET: co->quiet = true; return 1;
    case OPT_TIMEOUT:
        errno = 0;
        co->timeout_s = strtol(arg, &end, 10);
        if (errno || *end || co->timeout_s < 1 || co->timeout_s > 3600) {
            fprintf(stderr, "coldsec: --timeout: expected whole seconds from 1 to 3600, got \"%s\"\n", arg);
            return -1;
        }
        return 1;
    case OPT_MAX_ATTEMPTS:
        errno = 0;
        co->max_attempts = (int)strtol(arg, &end, 10);
        if (errno || *end || co->max_attempts < 1 || co->max_attempts > 100) {
            fprintf(stderr, "coldsec: --max-attempts: expected 1 to 100, got \"%s\"\n", arg);
            return -1;
        }
        return 1;
    default:
        return 0;
    }
}

static int parse_count(const char *opt, const char *arg, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    *out = strtol(arg, &end, 10);
    if (errno || *end || end == arg || *out < lo || *out > hi) {
        fprintf(stderr, "coldsec: %s: expected a whole number from %ld to %ld, got \"%s\"\n", opt, lo, hi, arg);
        return -1;
    }
    return 0;
}

typedef struct session {
    awsconf *conf;
    lambda_client *client;
    FILE *msg;   /* progress for the user: stderr, or /dev/null with --quiet */
} session;

static void session_close(session *s)
{
    lambda_client_free(s->client);
    awsconf_free(s->conf);
    if (s->msg && s->msg != stderr)
        fclose(s->msg);
    s->msg = NULL;
}

static bool loopback_url(const char *url)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 || strncmp(h, "[::1]", 5) == 0;
}

static int session_open(session *s, const common *co, const char *region, const char *endpoint)
{
    char err[1024];
    awsconf_options ao = {.profile = co->profile, .region = region ? region : co->region,
                          .endpoint = endpoint ? endpoint : co->endpoint, .ca_bundle = co->ca_bundle};
    lambda_client_options lo;

    memset(s, 0, sizeof(*s));
    s->msg = co->quiet ? fopen("/dev/null", "w") : NULL;
    if (!s->msg)
        s->msg = stderr;
    if (awsconf_resolve(&ao, &s->conf, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec: %s\n", err);
        session_close(s);
        return EXIT_USAGE;
    }
    memset(&lo, 0, sizeof(lo));
    lo.endpoint = awsconf_endpoint(s->conf);
    lo.region = awsconf_region(s->conf);
    lo.cred = awsconf_credentials(s->conf);
    lo.ca_bundle = awsconf_ca_bundle(s->conf);
    lo.api_timeout_ms = co->timeout_s * 1000;
    lo.invoke_timeout_ms = co->timeout_s * 1000;
    lo.max_attempts = co->max_attempts;
    lo.trace = co->verbose ? stderr : NULL;
    s->client = lambda_client_new(&lo, err, sizeof(err));
    if (!s->client) {
        fprintf(stderr, "coldsec: %s\n", err);
        session_close(s);
        return EXIT_USAGE;
    }
    if (strncmp(lo.endpoint, "http://", 7) == 0 && !loopback_url(lo.endpoint) && !co->quiet)
        fprintf(stderr, "coldsec: warning: %s is plain HTTP: payloads and answers travel unencrypted\n",
                lo.endpoint);
    if (co->verbose)
        fprintf(stderr, "coldsec: endpoint %s, region %s, credentials from %s\n", lo.endpoint, lo.region,
                awsconf_source(s->conf));
    return EXIT_OK;
}

/* --payload JSON or @FILE; *out is malloc'd. */
static int load_payload(const char *arg, unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (arg[0] == '@') {
        FILE *f = fopen(arg + 1, "rb");
        size_t n;
        if (!f) {
            fprintf(stderr, "coldsec: --payload %s: cannot open: %s\n", arg + 1, strerror(errno));
            return -1;
        }
        *out = malloc(MAX_PAYLOAD_FILE + 1);
        if (!*out) {
            fclose(f);
            fprintf(stderr, "coldsec: out of memory\n");
            return -1;
        }
        n = fread(*out, 1, MAX_PAYLOAD_FILE + 1, f);
        fclose(f);
        if (n > MAX_PAYLOAD_FILE) {
            fprintf(stderr, "coldsec: --payload %s: larger than Lambda's 6 MB limit\n", arg + 1);
            free(*out);
            *out = NULL;
            return -1;
        }
        *len = n;
        return 0;
    }
    *len = strlen(arg);
    *out = (unsigned char *)strdup(arg);
    return *out ? 0 : -1;
}

static void print_log(const char *log, size_t len)
{
    size_t cap = len * 3 + 1;
    char *clean = malloc(cap);
    if (!clean)
        return;
    logtail_sanitize(log, len, clean, cap);
    fputs(clean, stderr);
    if (len && log[len - 1] != '\n')
        fputc('\n', stderr);
    free(clean);
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* ---------- shared by cold-start and fanout ---------- */

typedef struct mutate_opts {
    bool allow_mutation, allow_protected, dry_run;
    const char *protect[16];
    size_t nprotect;
    const char *out_dir;
} mutate_opts;

static int mutate_option(mutate_opts *m, int opt, const char *arg)
{
    switch (opt) {
    case OPT_ALLOW_MUTATION: m->allow_mutation = true; return 1;
    case OPT_ALLOW_PROTECTED: m->allow_protected = true; return 1;
    case OPT_DRY_RUN: m->dry_run = true; return 1;
    case OPT_OUT: m->out_dir = arg; return 1;
    case OPT_PROTECT:
        if (m->nprotect >= sizeof(m->protect) / sizeof(m->protect[0])) {
            fprintf(stderr, "coldsec: at most 16 --protect patterns\n");
            return -1;
        }
        m->protect[m->nprotect++] = arg;
        return 1;
    default:
        return 0;
    }
}

#define MUTATE_LONG_OPTIONS                                              \
    {"allow-mutation", no_argument, NULL, OPT_ALLOW_MUTATION},           \
    {"allow-protected", no_argument, NULL, OPT_ALLOW_PROTECTED},         \
    {"protect", required_argument, NULL, OPT_PROTECT},                   \
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},                         \
    {"out", required_argument, NULL, OPT_OUT}

static const char MUTATE_HELP[] =
    "Cold starts (a configuration change, journaled and always restored):\n"
    "  --allow-mutation    required: the function's configuration will be changed, then restored\n"
    "  --protect PATTERN   refuse functions matching PATTERN (fnmatch, any case; default *prod*)\n"
    "  --allow-protected   change a function even if it matches a protected pattern\n"
    "  --dry-run           print the plan; change nothing\n"
    "  --out DIR           run folders go here (default reports); the journal is DIR/<run>/journal.json\n";

/* ---------- one parser for every command's options ---------- */

/* Everything any command takes; each command's option table decides what
 * it accepts (getopt_long refuses the rest). */
typedef struct args {
    common co;
    mutate_opts m;
    const char *target;          /* the one positional argument */
    const char *payload;         /* JSON or @FILE */
    const char *qualifier;
    bool log, cold;
    lambda_invoke_type type;
    long verify, count, parallel, users, seed, max_payload;
} args;

typedef struct command_spec {
    const char *name;
    const char *help;
    bool mutates;                /* the cold-start options and their help */
    const char *positional;      /* "FUNCTION" or "JOURNAL" */
    const struct option *opts;
} command_spec;

static int own_option(args *a, int opt, const char *arg)
{
    switch (opt) {
    case OPT_PAYLOAD: a->payload = arg; return 0;
    case OPT_QUALIFIER: a->qualifier = arg; return 0;
    case OPT_LOG: a->log = true; return 0;
    case OPT_COLD_START: a->cold = true; return 0;
    case OPT_VERIFY: return parse_count("--verify", arg, 0, 1000, &a->verify);
    case OPT_COUNT: return parse_count("--count", arg, 1, 1000000, &a->count);
    case OPT_PARALLEL: return parse_count("--parallel", arg, 1, 10000, &a->parallel);
    case OPT_USERS: return parse_count("--users", arg, 1, 1000000, &a->users);
    case OPT_SEED: return parse_count("--seed", arg, 0, 0x7fffffffL, &a->seed);
    case OPT_MAX_PAYLOAD: return parse_count("--max-payload", arg, 0, 6291456, &a->max_payload);
    case OPT_INVOCATION_TYPE:
        if (strcmp(arg, "RequestResponse") == 0)
            a->type = LAMBDA_INVOKE_REQUEST_RESPONSE;
        else if (strcmp(arg, "Event") == 0)
            a->type = LAMBDA_INVOKE_EVENT;
        else if (strcmp(arg, "DryRun") == 0)
            a->type = LAMBDA_INVOKE_DRY_RUN;
        else {
            fprintf(stderr, "coldsec: --invocation-type must be RequestResponse, Event or DryRun\n");
            return -1;
        }
        return 0;
    default:
        return -1;
    }
}

/* Returns 0 with *a filled, EXIT_USAGE after saying why, or -1 after
 * printing --help. */
static int parse_args(const command_spec *cmd, int argc, char **argv, args *a)
{
    int opt;

    memset(a, 0, sizeof(*a));
    a->payload = "{}";
    a->verify = 1;
    a->count = 100;
    a->parallel = 32;
    a->users = 1;
    a->seed = 1;
    a->max_payload = 65536;
    if (wants_help(argc, argv)) {
        printf("%s%s%s%s", cmd->help, cmd->mutates ? MUTATE_HELP : "", cmd->mutates ? "\n" : "", COMMON_HELP);
        return -1;
    }
    while ((opt = getopt_long(argc, argv, "", cmd->opts, NULL)) != -1) {
        int c = common_option(&a->co, opt, optarg);
        if (c == 0 && cmd->mutates)
            c = mutate_option(&a->m, opt, optarg);
        if (c < 0)
            return EXIT_USAGE;
        if (c > 0)
            continue;
        if (opt == '?' || own_option(a, opt, optarg) != 0) {
            fprintf(stderr, "coldsec %s: see `coldsec %s --help`\n", cmd->name, cmd->name);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "coldsec %s: expected one %s; see `coldsec %s --help`\n", cmd->name, cmd->positional,
                cmd->name);
        return EXIT_USAGE;
    }
    a->target = argv[optind];
    return 0;
}

/* ---------- invoke ---------- */

static const char INVOKE_HELP[] =
    "usage: coldsec invoke FUNCTION [--payload JSON|@FILE] [--qualifier Q] [--log]\n"
    "                      [--invocation-type RequestResponse|Event|DryRun] [connection options]\n"
    "Invokes FUNCTION (name, name:alias, full or partial ARN) once and prints the answer's payload\n"
    "to stdout. --log prints the decoded log tail to stderr. Exit 0, or 1 when the function\n"
    "returned an error.\n\n";

static int cmd_invoke(int argc, char **argv)
{
    static const struct option opts[] = {
        {"payload", required_argument, NULL, OPT_PAYLOAD},
        {"qualifier", required_argument, NULL, OPT_QUALIFIER},
        {"log", no_argument, NULL, OPT_LOG},
        {"invocation-type", required_argument, NULL, OPT_INVOCATION_TYPE},
        COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    static const command_spec cmd = {"invoke", INVOKE_HELP, false, "FUNCTION", opts};
    args a;
    unsigned char *payload = NULL;
    size_t payload_len = 0;
    session s;
    lambda_response resp;
    lambda_error err;
    int rc = parse_args(&cmd, argc, argv, &a);

    if (rc != 0)
        return rc < 0 ? EXIT_OK : rc;
    if (load_payload(a.payload, &payload, &payload_len) != 0)
        return EXIT_USAGE;
    if ((rc = session_open(&s, &a.co, NULL, NULL)) != EXIT_OK) {
        free(payload);
        return rc;
    }
    {
        lambda_invoke_request req = {.function = a.target, .qualifier = a.qualifier, .payload = payload,
                                     .payload_len = payload_len, .type = a.type, .log_tail = a.log};
        if (lambda_invoke(s.client, &req, &resp, &err) != 0) {
            char line[1024];
            lambda_error_format(&err, line, sizeof(line));
            fprintf(stderr, "coldsec: %s\n", line);
            rc = EXIT_UNTESTABLE;
            goto cleanup;
        }
    }
    if (resp.body_len)
        fwrite(resp.body, 1, resp.body_len, stdout);
    fflush(stdout);
    if (a.log && resp.log_result) {
        char *text = NULL;
        size_t len = 0;
        if (logtail_decode(resp.log_result, strlen(resp.log_result), &text, &len) == 0) {
            print_log(text, len);
            free(text);
        } else {
            fprintf(stderr, "coldsec: the log tail (X-Amz-Log-Result) is not valid base64\n");
        }
    }
    rc = EXIT_OK;
    if (resp.function_error) {
        char kind[64];
        logtail_sanitize(resp.function_error, strlen(resp.function_error), kind, sizeof(kind));
        if (!a.co.quiet)
            fprintf(stderr, "coldsec: %s returned a function error (%s)\n", a.target, kind);
        rc = EXIT_FUNCTION_ERROR;
    }
    lambda_response_clear(&resp);
cleanup:
    free(payload);
    session_close(&s);
    return rc;
}

static int restore_status(forcer_status st, const char *err, const char *journal_file)
{
    if (st == FORCER_OK)
        return EXIT_OK;
    fprintf(stderr, "coldsec: RESTORE %s: %s\ncoldsec: the journal is %s; run `coldsec restore %s` once the "
                    "cause is fixed\n",
            st == FORCER_CONFLICT ? "CONFLICT" : "FAILED", err, journal_file, journal_file);
    return EXIT_NOT_RESTORED;
}

/* Restores what the forcer changed (f may be NULL: nothing to do) and
 * gives the exit status: a failed restore outranks everything, and an
 * interrupted run is never a success. */
static int end_cold_start(forcer *f, int rc)
{
    if (f) {
        char rerr[2048];
        forcer_status rs = forcer_restore(f, rerr, sizeof(rerr));
        int rrc = restore_status(rs, rerr, forcer_journal_path(f));
        if (rrc != EXIT_OK)
            return rrc;
    }
    if (g_stop) {
        fprintf(stderr, "coldsec: interrupted (SIGINT or SIGTERM)%s\n",
                f ? "; the configuration was restored first" : "");
        if (rc == EXIT_OK)
            rc = EXIT_UNTESTABLE;
    }
    return rc;
}

/* Begins a forced cold start. *f is set when something may need restoring. */
static int begin_cold_start(session *s, const char *function, const mutate_opts *m, const char *run_dir,
                            forcer **f)
{
    char err[2048];
    forcer_options fo = {.function = function, .run_dir = run_dir, .allow_mutation = m->allow_mutation,
                         .protected_patterns = m->nprotect ? m->protect : NULL, .nprotected = m->nprotect,
                         .allow_protected = m->allow_protected, .dry_run = m->dry_run,
                         .out = s->msg, .stop = &g_stop,
                         .stop_at = getenv("COLDSEC_TEST_STOP_AT")};
    forcer_status st;
    int rc;

    st = forcer_begin(s->client, &fo, f, err, sizeof(err));
    if (st == FORCER_OK || st == FORCER_DRY_RUN)
        return st == FORCER_OK ? EXIT_OK : -1;
    fprintf(stderr, "coldsec: %s%s\n", st == FORCER_REFUSED ? "refused: " : "", err);
    /* The forcer hands itself back when the change may have landed. */
    rc = end_cold_start(*f, st == FORCER_REFUSED ? EXIT_USAGE : EXIT_UNTESTABLE);
    forcer_free(*f);
    *f = NULL;
    return rc;
}

/* The payload, a run folder name and a session: what cold-start and fanout
 * need before they touch the function. */
static int prepare_run(const args *a, unsigned char **payload, size_t *payload_len, char *run_dir, size_t len,
                       session *s)
{
    int rc;
    if (load_payload(a->payload, payload, payload_len) != 0)
        return EXIT_USAGE;
    {
        char why[256];
        size_t at = 0;
        if (tmpl_scan((const char *)*payload, *payload_len, NULL, NULL, &at, why, sizeof(why)) != 0) {
            fprintf(stderr, "coldsec: --payload: byte %zu: %s\n", at, why);
            free(*payload);
            *payload = NULL;
            return EXIT_USAGE;
        }
    }
    if (rundir_name(a->m.out_dir, run_dir, len) != 0) {
        fprintf(stderr, "coldsec: OpenSSL's RNG failed\n");
        free(*payload);
        *payload = NULL;
        return EXIT_USAGE;
    }
    if ((rc = session_open(s, &a->co, NULL, NULL)) != EXIT_OK) {
        free(*payload);
        *payload = NULL;
    }
    return rc;
}

/* ---------- fanout and the verification of a cold start ---------- */

/* What a fan-out (or a cold start's verification) keeps while the engine
 * runs: the payload template and plan, where results go, and the first
 * failure to show. */
typedef struct fanout_ctx {
    const unsigned char *tpl;  /* payload template (tmpl: {{seq}}, {{user.id}}, {{canary.ID}}, {{pad:N}}) */
    size_t tpl_len;
    const int *user_of;        /* the seeded plan; NULL: user 0 */
    char *buf;                 /* the payload being prepared (the engine copies it) */
    FILE *jsonl;               /* NULL: results are not written */
    const char *stop_at;
    size_t done;
    char first_failure[1024];
} fanout_ctx;

/* What one fan-out invocation's payload template is filled with. */
typedef struct template_ctx {
    size_t seq;
    int user;
    const char *canary;
    char text[32];
} template_ctx;

/* tmpl's resolver for `fanout --payload`: {{seq}}, {{user.id}} and
 * {{user.name}} ("user-N" from the seeded plan), {{canary.ANY}} (the
 * invocation's one canary, whatever the name), {{pad:N}}. */
static int fill_token(void *ctx, const tmpl_token *t, const char **value, size_t *vlen, size_t *pad, char *why,
                      size_t whylen)
{
    template_ctx *x = ctx;
    switch (t->kind) {
    case TMPL_SEQ:
        snprintf(x->text, sizeof(x->text), "%zu", x->seq);
        *value = x->text;
        break;
    case TMPL_USER_ID:
    case TMPL_USER_NAME:
        snprintf(x->text, sizeof(x->text), "user-%d", x->user);
        *value = x->text;
        break;
    case TMPL_CANARY:
        *value = x->canary;
        break;
    case TMPL_PAD:
        if (t->arg[0] == '$') {
            snprintf(why, whylen, "{{pad:$PARAM}} needs a scenario; give a number");
            return -1;
        }
        *pad = (size_t)strtoul(t->arg, NULL, 10);
        return 0;
    default:
        snprintf(why, whylen, "unexpected template");
        return -1;
    }
    *vlen = strlen(*value);
    return 0;
}

/* The engine's prepare(): a fresh canary (the item's tag) and the payload. */
static int prepare_item(void *ctx, size_t index, fanout_request *req)
{
    fanout_ctx *x = ctx;
    char *canary = malloc(CANARY_LEN + 1);
    int user = x->user_of ? x->user_of[index] : 0;

    if (!canary || canary_new(canary, CANARY_LEN + 1) != 0) {
        free(canary);
        return -1;
    }
    free(x->buf);
    {
        template_ctx t = {index, user, canary, ""};
        char err[256];
        x->buf = tmpl_expand((const char *)x->tpl, x->tpl_len, fill_token, &t, &req->payload_len, err, sizeof(err));
        if (!x->buf)
            snprintf(x->first_failure, sizeof(x->first_failure), "--payload: %s", err);
    }
    if (!x->buf) {
        free(canary);
        return -1;
    }
    req->payload = (const unsigned char *)x->buf;
    req->tag = canary;
    return 0;
}

static void write_item(fanout_ctx *x, const fanout_item *it)
{
    size_t i = it->index;
    cJSON *o = cJSON_CreateObject(), *rep;
    char *line;
    static const char *const states[] = {"pending", "ok", "failed", "cancelled"};

    if (!o)
        return;
    cJSON_AddNumberToObject(o, "seq", (double)i);
    cJSON_AddNumberToObject(o, "user", x->user_of ? x->user_of[i] : 0);
    if (it->tag)
        cJSON_AddStringToObject(o, "canary", (const char *)it->tag);
    cJSON_AddStringToObject(o, "state", states[it->state]);
    cJSON_AddNumberToObject(o, "start_ms", it->start_ms);
    cJSON_AddNumberToObject(o, "end_ms", it->end_ms);
    if (it->state == FANOUT_OK) {
        cJSON_AddNumberToObject(o, "status", (double)it->resp.status);
        cJSON_AddNumberToObject(o, "attempts", it->resp.attempts);
        cJSON_AddNumberToObject(o, "exchange_ms", it->resp.total_ms);
        cJSON_AddNumberToObject(o, "first_byte_ms", it->resp.first_byte_ms);
        cJSON_AddNumberToObject(o, "payload_bytes", (double)it->resp.body_total);
        cJSON_AddBoolToObject(o, "payload_truncated", it->resp.truncated);
        if (it->resp.function_error) {
            char kind[64];
            logtail_sanitize(it->resp.function_error, strlen(it->resp.function_error), kind, sizeof(kind));
            cJSON_AddStringToObject(o, "function_error", kind);
        }
        if (it->report.present) {
            cJSON_AddBoolToObject(o, "cold", it->cold);
            rep = cJSON_AddObjectToObject(o, "report");
            cJSON_AddNumberToObject(rep, "duration_ms", it->report.duration_ms);
            cJSON_AddNumberToObject(rep, "billed_ms", it->report.billed_ms);
            cJSON_AddNumberToObject(rep, "memory_size_mb", it->report.memory_size_mb);
            cJSON_AddNumberToObject(rep, "max_memory_used_mb", it->report.max_memory_used_mb);
            if (it->report.has_init)
                cJSON_AddNumberToObject(rep, "init_ms", it->report.init_ms);
            if (it->report.timed_out)
                cJSON_AddBoolToObject(rep, "timed_out", true);
        } else {
            cJSON_AddNullToObject(o, "cold");
        }
    } else if (it->err) {
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "code", it->err->code);
        cJSON_AddStringToObject(e, "message", it->err->message);
        if (it->err->http_status)
            cJSON_AddNumberToObject(e, "http_status", (double)it->err->http_status);
        cJSON_AddNumberToObject(e, "attempts", it->err->attempts);
    }
    line = cJSON_PrintUnformatted(o);
    if (line) {
        fprintf(x->jsonl, "%s\n", line);
        free(line);
    }
    cJSON_Delete(o);
}

static void on_item_done(void *ctx, fanout_item *it)
{
    fanout_ctx *x = ctx;
    if (x->jsonl)
        write_item(x, it);
    if (it->state == FANOUT_FAILED && it->err && !x->first_failure[0])
        lambda_error_format(it->err, x->first_failure, sizeof(x->first_failure));
    free(it->tag);
    it->tag = NULL;
    if (++x->done == 1 && x->stop_at && strcmp(x->stop_at, "fanout") == 0) {
        fflush(NULL);
        raise(SIGSTOP);
    }
}

static const char COLD_START_HELP[] =
    "usage: coldsec cold-start FUNCTION --allow-mutation [--verify N] [--payload JSON|@FILE] [options]\n"
    "Retires every warm execution environment of FUNCTION by adding a nonce variable to its\n"
    "environment (journaled first), verifies that the next N invocations (default 1, payload {})\n"
    "report Init Duration, and restores the original variables. The configuration ends as it was.\n\n";

static int cmd_cold_start(int argc, char **argv)
{
    static const struct option opts[] = {
        {"verify", required_argument, NULL, OPT_VERIFY},
        {"payload", required_argument, NULL, OPT_PAYLOAD},
        MUTATE_LONG_OPTIONS,
        COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    static const command_spec cmd = {"cold-start", COLD_START_HELP, true, "FUNCTION", opts};
    args a;
    long verify;
    unsigned char *payload = NULL;
    size_t payload_len = 0;
    char run_dir[2048], err[1024];
    session s;
    forcer *f = NULL;
    int rc = parse_args(&cmd, argc, argv, &a);

    if (rc != 0)
        return rc < 0 ? EXIT_OK : rc;
    verify = a.verify;
    if ((rc = prepare_run(&a, &payload, &payload_len, run_dir, sizeof(run_dir), &s)) != EXIT_OK)
        return rc;
    install_signals();
    rc = begin_cold_start(&s, a.target, &a.m, run_dir, &f);
    if (rc != EXIT_OK) {
        rc = rc < 0 ? EXIT_OK : rc;
        goto cleanup;
    }
    if (verify > 0 && !g_stop) {
        fanout_stats st;
        fanout_ctx ctx = {.tpl = payload, .tpl_len = payload_len};
        fanout_options fo = {.function = a.target, .max_in_flight = (int)verify, .log_tail = true,
                             .max_payload = 4096, .prepare = prepare_item, .on_done = on_item_done,
                             .ctx = &ctx, .stop = &g_stop};
        int frc = fanout_run(s.client, &fo, (size_t)verify, &st, err, sizeof(err));
        free(ctx.buf);
        if (frc != 0) {
            fprintf(stderr, "coldsec: %s\n", err);
            rc = EXIT_UNTESTABLE;
        } else if (st.failed || st.cancelled) {
            if (ctx.first_failure[0])
                fprintf(stderr, "coldsec: verification: %s\n", ctx.first_failure);
            rc = EXIT_UNTESTABLE;
        } else if (st.cold != (size_t)verify) {
            fprintf(stderr, "coldsec: verification: %zu of %ld invocations were cold (%zu warm, %zu without a "
                            "REPORT line in the log tail); the cold start is not proven\n",
                    st.cold, verify, st.warm, st.unknown_temperature);
            rc = EXIT_UNTESTABLE;
        } else if (!a.co.quiet) {
            fprintf(stderr, "coldsec: verified: %ld of %ld invocations after the change were cold (Init Duration)\n",
                    verify, verify);
        }
    }
    rc = end_cold_start(f, rc);
cleanup:
    forcer_free(f);
    free(payload);
    session_close(&s);
    return rc;
}

/* ---------- restore ---------- */

static const char RESTORE_HELP[] =
    "usage: coldsec restore JOURNAL [connection options]\n"
    "Finishes an interrupted restore: puts FUNCTION's original variables back when its current\n"
    "variables are exactly the original ones plus what coldsec added; otherwise reports the\n"
    "conflict and changes nothing. Region and endpoint come from the journal.\n"
    "Exit 0 restored (or nothing to do), 4 not restored or conflict, 2 bad journal.\n\n";

static int cmd_restore(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_LONG_OPTIONS, {NULL, 0, NULL, 0}};
    static const command_spec cmd = {"restore", RESTORE_HELP, false, "JOURNAL", opts};
    args a;
    char err[2048];
    journal *j;
    session s;
    forcer_status st;
    int rc = parse_args(&cmd, argc, argv, &a);

    if (rc != 0)
        return rc < 0 ? EXIT_OK : rc;
    j = journal_load(a.target, err, sizeof(err));
    if (!j) {
        fprintf(stderr, "coldsec restore: %s\n", err);
        return EXIT_USAGE;
    }
    if ((a.co.region && strcmp(a.co.region, journal_region(j)) != 0) ||
        (a.co.endpoint && strcmp(a.co.endpoint, journal_endpoint(j)) != 0)) {
        fprintf(stderr, "coldsec restore: the journal is for region %s at %s; --region/--endpoint disagree\n",
                journal_region(j), journal_endpoint(j));
        journal_free(j);
        return EXIT_USAGE;
    }
    rc = session_open(&s, &a.co, journal_region(j), journal_endpoint(j));
    journal_free(j);
    if (rc != EXIT_OK)
        return rc;
    st = forcer_restore_journal(s.client, a.target, s.msg, err, sizeof(err));
    rc = restore_status(st, err, a.target);
    session_close(&s);
    return rc;
}

/* ---------- fanout ---------- */

static const char FANOUT_HELP[] =
    "usage: coldsec fanout FUNCTION [--count N] [--parallel P] [--payload TEMPLATE|@FILE] [--users U]\n"
    "                      [--seed S] [--cold-start --allow-mutation] [--max-payload BYTES] [options]\n"
    "Sends N invocations (default 100) with at most P in flight (default 32) on one event loop,\n"
    "absorbing throttling. In the payload, {{seq}} becomes the invocation's number, {{user.id}} its\n"
    "user (assigned from the seed), {{canary.ID}} a fresh random marker, {{pad:N}} N filler bytes.\n"
    "Writes one JSON line per invocation (timings, status, function error, REPORT fields, cold or\n"
    "warm) to\n"
    "DIR/<run>/invocations.jsonl and a summary to stdout. With --cold-start, the function's warm\n"
    "environments are retired first and its configuration restored at the end.\n"
    "Exit 0 when every invocation got an answer, 3 when some did not.\n\n";

static int cmd_fanout(int argc, char **argv)
{
    static const struct option opts[] = {
        {"count", required_argument, NULL, OPT_COUNT},
        {"parallel", required_argument, NULL, OPT_PARALLEL},
        {"payload", required_argument, NULL, OPT_PAYLOAD},
        {"qualifier", required_argument, NULL, OPT_QUALIFIER},
        {"seed", required_argument, NULL, OPT_SEED},
        {"users", required_argument, NULL, OPT_USERS},
        {"cold-start", no_argument, NULL, OPT_COLD_START},
        {"max-payload", required_argument, NULL, OPT_MAX_PAYLOAD},
        MUTATE_LONG_OPTIONS,
        COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    static const command_spec cmd = {"fanout", FANOUT_HELP, true, "FUNCTION", opts};
    args a;
    long count;
    unsigned char *tpl = NULL;
    size_t tpl_len = 0;
    char run_dir[2048], path[2200], err[1024];
    int *user_of = NULL;
    fanout_stats st;
    fanout_ctx ctx = {0};
    session s;
    forcer *f = NULL;
    int rc = parse_args(&cmd, argc, argv, &a);

    if (rc != 0)
        return rc < 0 ? EXIT_OK : rc;
    count = a.count;
    if (a.cold && a.qualifier) {
        fprintf(stderr, "coldsec fanout: --cold-start reaches only $LATEST; drop --qualifier\n");
        return EXIT_USAGE;
    }
    if ((rc = prepare_run(&a, &tpl, &tpl_len, run_dir, sizeof(run_dir), &s)) != EXIT_OK)
        return rc;
    user_of = calloc((size_t)count, sizeof(*user_of));
    if (!user_of) {
        fprintf(stderr, "coldsec: out of memory for a plan of %ld invocations\n", count);
        rc = EXIT_USAGE;
        goto cleanup;
    }
    plan_assign_users((uint64_t)a.seed, user_of, (size_t)count, (int)a.users);
    install_signals();
    if (a.cold) {
        rc = begin_cold_start(&s, a.target, &a.m, run_dir, &f);
        if (rc != EXIT_OK) {
            rc = rc < 0 ? EXIT_OK : rc;
            goto cleanup;
        }
    } else {
        if (a.m.dry_run) {
            printf("coldsec: dry run: would send %ld invocations of %s, %ld in flight\n", count, a.target,
                   a.parallel);
            rc = EXIT_OK;
            goto cleanup;
        }
        if (rundir_create(run_dir, err, sizeof(err)) != 0) {
            fprintf(stderr, "coldsec: %s\n", err);
            rc = EXIT_USAGE;
            goto cleanup;
        }
    }
    snprintf(path, sizeof(path), "%s/invocations.jsonl", run_dir);
    ctx.jsonl = fopen(path, "w");
    if (!ctx.jsonl) {
        fprintf(stderr, "coldsec: %s: cannot create: %s\n", path, strerror(errno));
        rc = EXIT_UNTESTABLE;
        goto restore;
    }
    ctx.tpl = tpl;
    ctx.tpl_len = tpl_len;
    ctx.user_of = user_of;
    ctx.stop_at = getenv("COLDSEC_TEST_STOP_AT");
    {
        fanout_options fo = {.function = a.target, .qualifier = a.qualifier, .max_in_flight = (int)a.parallel,
                             .log_tail = true, .max_payload = (size_t)a.max_payload, .prepare = prepare_item,
                             .on_done = on_item_done, .ctx = &ctx, .stop = &g_stop};
        if (fanout_run(s.client, &fo, (size_t)count, &st, err, sizeof(err)) != 0) {
            fprintf(stderr, "coldsec: %s\n", err);
            rc = EXIT_UNTESTABLE;
            goto restore;
        }
    }
    printf("coldsec: fanout %s: %ld invocations in %.0f ms (%.0f/s): %zu answered (%zu function errors), "
           "%zu failed, %zu cancelled; cold %zu, warm %zu, unknown %zu; retries %zu (throttled %zu); "
           "peak in flight %d\ncoldsec: results in %s\n",
           a.target, count, st.wall_ms, st.wall_ms > 0 ? (double)count * 1000.0 / st.wall_ms : 0.0, st.ok,
           st.function_errors, st.failed, st.cancelled, st.cold, st.warm, st.unknown_temperature, st.retries,
           st.throttled, st.peak_in_flight, path);
    if (ctx.first_failure[0])
        fprintf(stderr, "coldsec: first failure: %s\n", ctx.first_failure);
    rc = st.failed || st.cancelled ? EXIT_UNTESTABLE : EXIT_OK;
    if (a.cold && st.ok > 0 && st.cold == 0 && !g_stop) {
        fprintf(stderr, "coldsec: no invocation after the configuration change was cold (%zu warm, %zu without "
                        "a REPORT line): the cold start is not proven\n", st.warm, st.unknown_temperature);
        rc = EXIT_UNTESTABLE;
    }
restore:
    rc = end_cold_start(f, rc);
cleanup:
    if (ctx.jsonl)
        fclose(ctx.jsonl);
    free(ctx.buf);
    free(user_of);
    forcer_free(f);
    free(tpl);
    session_close(&s);
    return rc;
}

/* ---------- describe ---------- */

static const char DESCRIBE_HELP[] =
    "usage: coldsec describe FUNCTION [--qualifier Q] [connection options]\n"
    "Prints what coldsec sees of FUNCTION as JSON (GetFunction and GetFunctionConcurrency): its\n"
    "settings, the names and sizes of its variables (never their values), its reserved\n"
    "concurrency, how it runs requests (Concurrency: Lambda Managed Instances and their maximum\n"
    "concurrency per environment), and whether a cold start can be forced (the 4 KB headroom,\n"
    "Environment.Error; never on Managed Instances).\n\n";

static void copy_field(cJSON *dst, const cJSON *src, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, name);
    if (v)
        cJSON_AddItemToObject(dst, name, cJSON_Duplicate(v, 1));
}

static int cmd_describe(int argc, char **argv)
{
    static const struct option opts[] = {
        {"qualifier", required_argument, NULL, OPT_QUALIFIER},
        COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    static const command_spec cmd = {"describe", DESCRIBE_HELP, false, "FUNCTION", opts};
    static const char *const fields[] = {"FunctionName", "FunctionArn", "Runtime", "Handler", "MemorySize",
                                         "Timeout", "State", "StateReason", "LastUpdateStatus", "RevisionId",
                                         "Version", "CodeSha256", "CodeSize", "PackageType", "KMSKeyArn", NULL};
    args a;
    cJSON *fn = NULL, *conc = NULL, *out = NULL;
    const cJSON *cfg, *env, *vars, *it;
    lambda_error err;
    session s;
    char line[1024], *text;
    int rc = parse_args(&cmd, argc, argv, &a);

    if (rc != 0)
        return rc < 0 ? EXIT_OK : rc;
    if ((rc = session_open(&s, &a.co, NULL, NULL)) != EXIT_OK)
        return rc;
    rc = EXIT_UNTESTABLE;
    if (lambda_get_function(s.client, a.target, a.qualifier, &fn, &err) != 0 ||
        lambda_get_concurrency(s.client, a.target, &conc, &err) != 0) {
        lambda_error_format(&err, line, sizeof(line));
        fprintf(stderr, "coldsec: %s\n", line);
        goto cleanup;
    }
    cfg = cJSON_GetObjectItemCaseSensitive(fn, "Configuration");
    out = cJSON_CreateObject();
    if (!out || !cJSON_IsObject(cfg)) {
        fprintf(stderr, "coldsec: GetFunction %s: the answer has no Configuration\n", a.target);
        goto cleanup;
    }
    for (int i = 0; fields[i]; i++)
        copy_field(out, cfg, fields[i]);
    env = cJSON_GetObjectItemCaseSensitive(cfg, "Environment");
    vars = cJSON_GetObjectItemCaseSensitive(env, "Variables");
    {
        cJSON *masked = cJSON_AddObjectToObject(out, "Variables");
        cJSON_ArrayForEach(it, vars) {
            char shown[64];
            snprintf(shown, sizeof(shown), "<%zu bytes, not shown>",
                     cJSON_IsString(it) ? strlen(it->valuestring) : (size_t)0);
            cJSON_AddStringToObject(masked, it->string, shown);
        }
        cJSON_AddNumberToObject(out, "EnvironmentBytes", vars ? (double)forcer_env_size(vars) : 2);
    }
    if (cJSON_GetObjectItemCaseSensitive(env, "Error"))
        cJSON_AddItemToObject(out, "EnvironmentError",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(env, "Error"), 1));
    /* How it runs requests: Managed Instances serve several at once per
     * environment, and no cold start can be forced on them. */
    cJSON_AddItemToObject(out, "Concurrency", fnconfig_summary(cfg));
    it = cJSON_GetObjectItemCaseSensitive(conc, "ReservedConcurrentExecutions");
    if (cJSON_IsNumber(it))
        cJSON_AddNumberToObject(out, "ReservedConcurrentExecutions", it->valuedouble);
    else
        cJSON_AddNullToObject(out, "ReservedConcurrentExecutions");
    text = cJSON_Print(out);
    if (text) {
        printf("%s\n", text);
        free(text);
    }
    rc = EXIT_OK;
cleanup:
    cJSON_Delete(fn);
    cJSON_Delete(conc);
    cJSON_Delete(out);
    session_close(&s);
    return rc;
}

/* ---------- main ---------- */

/* ---------- run ---------- */

static int cmd_run(int argc, char **argv)
{
    install_signals();
    return run_command(argc, argv, &g_stop);
}

static int cmd_fuzz(int argc, char **argv)
{
    install_signals();
    return fuzzcmd_command(argc, argv, &g_stop);
}

static const char MAIN_HELP[] =
    "usage: coldsec COMMAND [options]    (coldsec COMMAND --help for each)\n"
    "coldsec tests the cold start and the warm life of Lambda functions.\n\n"
    "Commands:\n"
    "  init                  write a starter suite for one function (--handler DIR or --function NAME)\n"
    "  run [SUITE]           run a suite of scenarios (default ./scenarios.yaml) and report findings\n"
    "  report REPORT.json... write the report formats again from report.json files (merging shards)\n"
    "  fuzz --target NAME    coverage-guided fuzzing of a lab function's handler in its warm environment\n"
    "  replay FINDING.json   run a finding's recorded steps again: does it reproduce? (1 yes, 0 no)\n"
    "  invoke FUNCTION       invoke once; print the payload (and --log the log tail)\n"
    "  cold-start FUNCTION   retire every warm environment (config change, journaled, restored)\n"
    "  restore JOURNAL       finish a restore a killed run left undone\n"
    "  fanout FUNCTION       many invocations in parallel, optionally after a cold start\n"
    "  describe FUNCTION     what coldsec sees of a function (variable values never shown)\n\n"
    "  --version             coldsec's version\n\n"
    "Exit status: 0 fine (run, report: nothing at or above the gate); 1 the function returned an error\n"
    "(run, report: findings at or above the gate); 2 usage or configuration error; 3 the target could not\n"
    "be tested (run: or the run was interrupted); 4 a configuration could not be restored: run\n"
    "`coldsec restore JOURNAL` with the journal the message names.\n";

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"invoke", cmd_invoke}, {"cold-start", cmd_cold_start}, {"restore", cmd_restore},
                {"fanout", cmd_fanout}, {"describe", cmd_describe}, {"run", cmd_run},
                {"report", reportcmd_command}, {"fuzz", cmd_fuzz},
                {"init", initcmd_command}, {"replay", replaycmd_command}};
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(MAIN_HELP, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("coldsec %s\n", COLDSEC_VERSION);
        return EXIT_OK;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "coldsec: libcurl failed to initialise\n");
        return EXIT_UNTESTABLE;
    }
    rc = -1;
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(argv[1], cmds[i].name) == 0) {
            rc = cmds[i].fn(argc - 1, argv + 1);
            break;
        }
    }
    if (rc < 0) {
        fprintf(stderr, "coldsec: unknown command \"%s\"\n%s", argv[1], MAIN_HELP);
        rc = EXIT_USAGE;
    }
    curl_global_cleanup();
    return rc;
}
