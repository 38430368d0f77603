/*
 * lab_load — the load generator of `make bench` (see BENCHMARKS.md).
 *
 * Warm mode (default): N slots, each one libcurl easy handle that is reused
 * for every request so its keep-alive connection stays open, all driven by
 * one libcurl multi handle (one thread, as the coldsec client fans out).
 * Every request is an Invoke, POST /2015-03-31/functions/NAME/invocations,
 * signed afresh with our sigv4_sign(): signing is part of what a real client
 * pays per request, so it is in the throughput; its mean cost is printed
 * apart, and the latency clock starts after signing (request handed to
 * libcurl) and stops when libcurl reports the transfer done. Requests
 * started during the warm-up (at least --warmup seconds, and until every
 * slot has had one answer without error, so that each slot's cold
 * environment is out of the numbers; at most WARMUP_MAX_S) are not counted.
 *
 * Cold mode (--cold N): N times, UpdateFunctionConfiguration adds a nonce
 * variable to the function's own variables (the way AWS documents forcing
 * a cold start, DESIGN.md decision 3), waits for LastUpdateStatus
 * Successful, then invokes with X-Amz-Log-Type: Tail and reads Init Duration
 * from the REPORT line. The original variables are put back at the end.
 *
 * Traffic goes to 127.0.0.1 only: any other host in --url is refused, and
 * proxies from the environment are ignored.
 *
 * Output: one JSON object on stdout. Exit codes: enum exit_code.
 *
 * Ownership: each slot owns its easy handle and header list; the run owns
 * the multi handle and the latency array; everything is freed in run_*()'s
 * cleanup path. No globals.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sigv4.h"

enum exit_code {
    EXIT_OK = 0,      /* ran; errors, if any, are counted in the output */
    EXIT_USAGE = 2,   /* bad arguments, or a host other than 127.0.0.1 */
    EXIT_SETUP = 3,   /* libcurl / memory / lab unreachable or refusing */
};

#define MAX_SLOTS 1024
#define MAX_COLD_RUNS 1000
#define MAX_NAME 64
#define URL_MAX 256
#define AUTH_MAX 512
/* Caps on what the lab may send back: bodies kept in cold mode, headers. */
#define BODY_MAX ((size_t)256 * 1024)
#define LOG_RESULT_MAX 8192
#define ERROR_BODY_MAX 300
/* How long warm-up may wait for every slot's first good answer. */
#define WARMUP_MAX_S 60.0
/* Waiting for LastUpdateStatus: Successful. */
#define UPDATE_POLL_MS 10
#define UPDATE_WAIT_MAX_MS 30000
#define NONCE_VAR "COLDSEC_BENCH_NONCE"

typedef struct options {
    char base_url[URL_MAX]; /* http://127.0.0.1:PORT */
    char host[64];          /* 127.0.0.1:PORT, the Host header */
    const char *function;
    const char *payload;
    const char *label;
    const char *access_key;
    const char *secret;
    const char *region;
    int concurrency;
    double duration_s;
    long count;             /* > 0: measure this many requests instead */
    double warmup_s;
    bool tail;              /* X-Amz-Log-Type: Tail on warm invokes */
    int cold_runs;          /* > 0: cold mode */
    long server_pid;        /* > 0: also report its CPU and its children's */
} options;

typedef struct slot {
    CURL *easy;
    struct curl_slist *headers;
    double started;   /* monotonic s; after signing */
    bool measured;    /* started inside the measured window */
    bool fn_error;    /* X-Amz-Function-Error seen */
    char body[ERROR_BODY_MAX + 1]; /* start of the answer, shown for the first error */
    size_t body_len;
} slot;

typedef struct latencies {
    uint32_t *us;
    size_t n, cap;
} latencies;

typedef struct run_stats {
    latencies lat;
    long errors;
    long http_errors;   /* non-200 */
    long curl_errors;
    long fn_errors;     /* 200 with X-Amz-Function-Error */
    long first_error_status;
    long new_connections; /* CURLINFO_NUM_CONNECTS summed: 0 per request when kept alive */
    double sign_s;      /* total time in sigv4_sign + header building */
    long signs;
} run_stats;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int lat_push(latencies *l, double seconds)
{
    double us = seconds * 1e6;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 65536;
        uint32_t *p = realloc(l->us, cap * sizeof(*p));
        if (!p)
            return -1;
        l->us = p;
        l->cap = cap;
    }
    l->us[l->n++] = us < 0 ? 0 : us > 4e9 ? UINT32_MAX : (uint32_t)us;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static uint32_t pct_u32(const uint32_t *v, size_t n, double p)
{
    size_t rank;
    if (n == 0)
        return 0;
    rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of a sorted array (mean of the middle two when n is even). */
static double median(const double *v, int n)
{
    if (n <= 0)
        return 0;
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: lab_load --url http://127.0.0.1:PORT [--function NAME] [--concurrency N]\n"
            "                [--duration S | --count N] [--warmup S] [--payload JSON] [--tail]\n"
            "                [--cold N] [--label TEXT] [--access-key K] [--secret S] [--region R]\n"
            "                [--server-pid PID]\n"
            "Warm mode prints {invokes_per_s, p50_us, p90_us, p99_us, max_us, errors, ...};\n"
            "--cold N forces N cold starts (UpdateFunctionConfiguration) and prints Init Duration.\n");
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= MAX_NAME)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return false;
    return true;
}

/* Accepts http://127.0.0.1:PORT[/] only: the benchmark never leaves loopback. */
static int parse_url(const char *url, options *o)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    int rc = -1;

    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto cleanup;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto cleanup;
    if (strcmp(scheme, "http") != 0 || strcmp(host, "127.0.0.1") != 0 ||
        (strcmp(path, "/") != 0 && path[0] != '\0')) {
        fprintf(stderr, "lab_load: refusing %s: only http://127.0.0.1:PORT is allowed\n", url);
        goto cleanup;
    }
    if (atoi(port) <= 0 || atoi(port) > 65535)
        goto cleanup;
    snprintf(o->base_url, sizeof(o->base_url), "http://127.0.0.1:%d", atoi(port));
    snprintf(o->host, sizeof(o->host), "127.0.0.1:%d", atoi(port));
    rc = 0;
cleanup:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

static int parse_args(int argc, char **argv, options *o)
{
    const char *url = NULL;

    o->function = "hello-c";
    o->payload = "{}";
    o->label = "";
    o->access_key = "AKIDCOLDSECLAB";
    o->secret = "coldsec-lab-secret";
    o->region = "us-east-1";
    o->concurrency = 1;
    o->duration_s = 5;
    o->warmup_s = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;

        if (strcmp(a, "--tail") == 0) {
            o->tail = true;
            takes = false;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(EXIT_OK);
        } else if (!v) {
            fprintf(stderr, "lab_load: %s needs a value\n", a);
            return -1;
        } else if (strcmp(a, "--url") == 0) {
            url = v;
        } else if (strcmp(a, "--function") == 0) {
            o->function = v;
        } else if (strcmp(a, "--concurrency") == 0) {
            o->concurrency = atoi(v);
        } else if (strcmp(a, "--duration") == 0) {
            o->duration_s = atof(v);
        } else if (strcmp(a, "--count") == 0) {
            o->count = atol(v);
        } else if (strcmp(a, "--warmup") == 0) {
            o->warmup_s = atof(v);
        } else if (strcmp(a, "--payload") == 0) {
            o->payload = v;
        } else if (strcmp(a, "--label") == 0) {
            o->label = v;
        } else if (strcmp(a, "--cold") == 0) {
            o->cold_runs = atoi(v);
        } else if (strcmp(a, "--access-key") == 0) {
            o->access_key = v;
        } else if (strcmp(a, "--secret") == 0) {
            o->secret = v;
        } else if (strcmp(a, "--region") == 0) {
            o->region = v;
        } else if (strcmp(a, "--server-pid") == 0) {
            o->server_pid = atol(v);
        } else {
            fprintf(stderr, "lab_load: unknown option %s\n", a);
            return -1;
        }
        if (takes)
            i++;
    }
    if (!url) {
        fprintf(stderr, "lab_load: --url is required\n");
        return -1;
    }
    if (parse_url(url, o) != 0)
        return -1;
    if (!name_ok(o->function)) {
        fprintf(stderr, "lab_load: function name must be [A-Za-z0-9_-]{1,63}\n");
        return -1;
    }
    if (o->concurrency < 1 || o->concurrency > MAX_SLOTS || o->duration_s <= 0 ||
        o->warmup_s < 0 || o->count < 0 || o->cold_runs < 0 || o->cold_runs > MAX_COLD_RUNS) {
        fprintf(stderr, "lab_load: concurrency 1..%d, duration > 0, warmup >= 0, cold 0..%d\n",
                MAX_SLOTS, MAX_COLD_RUNS);
        return -1;
    }
    return 0;
}

/* Common libcurl settings: loopback only, no proxy, HTTP/1.1 keep-alive. */
static void easy_defaults(CURL *e)
{
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "coldsec-lab_load/1");
}

/*
 * Signs one request and builds its header list (host, x-amz-date and, with a
 * body, content-type are signed; Expect is turned off). Returns the list, or
 * NULL on failure. The caller frees it with curl_slist_free_all.
 */
static struct curl_slist *signed_headers(const options *o, const char *method, const char *path,
                                         const char *body, size_t body_len)
{
    char amz_date[20], auth[AUTH_MAX], line[AUTH_MAX + 32];
    sigv4_header h[3];
    size_t nh = 0;
    sigv4_credentials cred = {o->access_key, o->secret, NULL};
    sigv4_request rq;
    struct curl_slist *l = NULL, *t;

    sigv4_amz_date(time(NULL), amz_date, sizeof(amz_date));
    h[nh++] = (sigv4_header){"host", o->host};
    h[nh++] = (sigv4_header){"x-amz-date", amz_date};
    if (body)
        h[nh++] = (sigv4_header){"content-type", "application/json"};
    rq = (sigv4_request){method, path, NULL, h, nh, (const unsigned char *)body, body_len};
    if (sigv4_sign(&rq, &cred, o->region, "lambda", amz_date, auth, sizeof(auth)) != SIGV4_OK)
        return NULL;

    snprintf(line, sizeof(line), "X-Amz-Date: %s", amz_date);
    if (!(t = curl_slist_append(l, line)))
        goto fail;
    l = t;
    snprintf(line, sizeof(line), "Authorization: %s", auth);
    if (!(t = curl_slist_append(l, line)))
        goto fail;
    l = t;
    if (!(t = curl_slist_append(l, body ? "Content-Type: application/json" : "Content-Type:")))
        goto fail;
    l = t;
    if (!(t = curl_slist_append(l, "Expect:")))
        goto fail;
    l = t;
    return l;
fail:
    curl_slist_free_all(l);
    return NULL;
}

/* ---------- CPU accounting ---------- */

/*
 * CPU seconds of the server process (all its threads) and of all its
 * descendants (the lab's environments: bwrap, runtimes), and the machine's
 * busy and total jiffies, at one instant. Descendants that exit between two
 * snapshots are missed; in a warm run none do.
 */
typedef struct cpu_snap {
    double server_s;
    double children_s;
    unsigned long long busy, total;
} cpu_snap;

typedef struct proc_row {
    long pid, ppid;
    unsigned long long ticks;
} proc_row;

/* Reads pid, ppid and utime+stime from /proc/PID/stat. */
static int read_stat(const char *pid, proc_row *r)
{
    char path[64], buf[1024];
    FILE *f;
    const char *p;
    unsigned long long ut = 0, st = 0;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%s/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!p || sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                     &r->ppid, &ut, &st) != 3)
        return -1;
    r->pid = atol(pid);
    r->ticks = ut + st;
    return 0;
}

static void cpu_snapshot(long server, cpu_snap *s)
{
    DIR *d = NULL;
    struct dirent *de;
    proc_row *rows = NULL;
    size_t n = 0, cap = 0;
    double hz = (double)sysconf(_SC_CLK_TCK);
    unsigned long long v[8] = {0};
    FILE *f;

    memset(s, 0, sizeof(*s));
    f = fopen("/proc/stat", "r");
    if (f) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) == 8) {
            s->busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
            s->total = s->busy + v[3] + v[4];
        }
        fclose(f);
    }
    if (server <= 0 || !(d = opendir("/proc")))
        goto cleanup;
    while ((de = readdir(d))) {
        proc_row r;
        if (de->d_name[0] < '0' || de->d_name[0] > '9' || read_stat(de->d_name, &r) != 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 1024;
            proc_row *nr = realloc(rows, nc * sizeof(*nr));
            if (!nr)
                goto cleanup;
            rows = nr;
            cap = nc;
        }
        rows[n++] = r;
    }
    for (size_t i = 0; i < n; i++) {
        long up = rows[i].pid;
        int depth = 0;
        if (up == server) {
            s->server_s = (double)rows[i].ticks / hz;
            continue;
        }
        /* Walk up the parent chain (short: lab, bwrap, bwrap init, runtime). */
        while (up > 1 && up != server && depth++ < 16) {
            long parent = 0;
            for (size_t j = 0; j < n; j++)
                if (rows[j].pid == up) {
                    parent = rows[j].ppid;
                    break;
                }
            up = parent;
        }
        if (up == server)
            s->children_s += (double)rows[i].ticks / hz;
    }
cleanup:
    if (d)
        closedir(d);
    free(rows);
}

/* ---------- warm mode ---------- */

/* Keeps the first ERROR_BODY_MAX bytes of an answer, drops the rest. */
static size_t warm_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    slot *s = userdata;
    size_t n = size * nmemb, room = ERROR_BODY_MAX - s->body_len;
    size_t k = n < room ? n : room;

    memcpy(s->body + s->body_len, ptr, k);
    s->body_len += k;
    s->body[s->body_len] = '\0';
    return n;
}

static size_t warm_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    slot *s = userdata;
    size_t n = size * nmemb;
    static const char fe[] = "x-amz-function-error:";

    if (n >= sizeof(fe) - 1 && strncasecmp(ptr, fe, sizeof(fe) - 1) == 0)
        s->fn_error = true;
    return n;
}

typedef struct warm_run {
    const options *o;
    CURLM *multi;
    slot *slots;
    char url[URL_MAX + 2 * MAX_NAME + 64];
    char path[2 * MAX_NAME + 64];
    int in_multi;     /* easy handles currently added */
    bool warmup_incomplete;
    double warmup_s;  /* how long the warm-up took */
    cpu_snap cpu_begin, cpu_end;
    run_stats st;
} warm_run;

/* (Re)starts slot s: sign, set headers, hand to the multi handle. */
static int slot_start(warm_run *w, slot *s, bool measured)
{
    double t0 = now_s();
    struct curl_slist *h;
    size_t len = strlen(w->o->payload);

    h = signed_headers(w->o, "POST", w->path, w->o->payload, len);
    if (!h)
        return -1;
    if (w->o->tail) {
        struct curl_slist *t = curl_slist_append(h, "X-Amz-Log-Type: Tail");
        if (!t) {
            curl_slist_free_all(h);
            return -1;
        }
        h = t;
    }
    curl_slist_free_all(s->headers);
    s->headers = h;
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
    s->fn_error = false;
    s->body_len = 0;
    s->body[0] = '\0';
    s->measured = measured;
    s->started = now_s();
    w->st.sign_s += s->started - t0;
    w->st.signs++;
    if (curl_multi_add_handle(w->multi, s->easy) != CURLM_OK)
        return -1;
    w->in_multi++;
    return 0;
}

static void print_warm(const options *o, warm_run *w, double elapsed, double cpu)
{
    latencies *l = &w->st.lat;
    double sum = 0;

    qsort(l->us, l->n, sizeof(*l->us), cmp_u32);
    for (size_t i = 0; i < l->n; i++)
        sum += l->us[i];
    printf("{\"mode\":\"warm\",\"label\":\"%s\",\"function\":\"%s\",\"concurrency\":%d,"
           "\"tail\":%s,\"requests\":%zu,\"seconds\":%.3f,\"invokes_per_s\":%.1f,"
           "\"mean_us\":%.0f,\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,\"max_us\":%u,"
           "\"errors\":%ld,\"http_errors\":%ld,\"curl_errors\":%ld,\"function_errors\":%ld,"
           "\"first_error_status\":%ld,\"sign_us_mean\":%.1f,\"client_cpu_s\":%.3f,"
           "\"client_cpu_us_per_req\":%.1f,\"warmup_s\":%.2f,\"warmup_complete\":%s,"
           "\"server_cpu_us_per_req\":%.1f,\"children_cpu_us_per_req\":%.1f,"
           "\"machine_busy_pct\":%.1f,\"new_connections\":%ld}\n",
           o->label, o->function, o->concurrency, o->tail ? "true" : "false", l->n, elapsed,
           elapsed > 0 ? (double)l->n / elapsed : 0.0, l->n ? sum / (double)l->n : 0.0,
           pct_u32(l->us, l->n, 50), pct_u32(l->us, l->n, 90), pct_u32(l->us, l->n, 99),
           l->n ? l->us[l->n - 1] : 0, w->st.errors, w->st.http_errors, w->st.curl_errors,
           w->st.fn_errors, w->st.first_error_status,
           w->st.signs ? w->st.sign_s / (double)w->st.signs * 1e6 : 0.0, cpu,
           l->n ? cpu / (double)l->n * 1e6 : 0.0, w->warmup_s,
           w->warmup_incomplete ? "false" : "true",
           l->n ? (w->cpu_end.server_s - w->cpu_begin.server_s) / (double)l->n * 1e6 : 0.0,
           l->n ? (w->cpu_end.children_s - w->cpu_begin.children_s) / (double)l->n * 1e6 : 0.0,
           w->cpu_end.total > w->cpu_begin.total
               ? 100.0 * (double)(w->cpu_end.busy - w->cpu_begin.busy) /
                     (double)(w->cpu_end.total - w->cpu_begin.total)
               : 0.0,
           w->st.new_connections);
}

static int run_warm(const options *o)
{
    warm_run w;
    int rc = EXIT_SETUP;
    int n = o->concurrency, answered_slots = 0;
    int running = 0;
    long measured_started = 0;
    bool *answered = NULL;
    double t_start, warm_end = 0, end = 0, last_done = 0, cpu0 = 0;
    bool warming = true, stopping = false;

    memset(&w, 0, sizeof(w));
    w.o = o;
    snprintf(w.path, sizeof(w.path), "/2015-03-31/functions/%s/invocations", o->function);
    snprintf(w.url, sizeof(w.url), "%s%s", o->base_url, w.path);
    w.slots = calloc((size_t)n, sizeof(*w.slots));
    answered = calloc((size_t)n, sizeof(*answered));
    w.multi = curl_multi_init();
    if (!w.slots || !answered || !w.multi)
        goto cleanup;
    curl_multi_setopt(w.multi, CURLMOPT_MAXCONNECTS, (long)n);
    curl_multi_setopt(w.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n);
    curl_multi_setopt(w.multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    for (int i = 0; i < n; i++) {
        slot *s = &w.slots[i];
        if (!(s->easy = curl_easy_init()))
            goto cleanup;
        easy_defaults(s->easy);
        curl_easy_setopt(s->easy, CURLOPT_URL, w.url);
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, o->payload);
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(o->payload));
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, warm_body);
        curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, warm_header);
        curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
        curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
    }

    t_start = now_s();
    for (int i = 0; i < n; i++) {
        if (slot_start(&w, &w.slots[i], false) != 0)
            goto cleanup;
    }
    for (;;) {
        CURLMsg *msg;
        int queued;
        double t;

        if (curl_multi_perform(w.multi, &running) != CURLM_OK)
            goto cleanup;
        while ((msg = curl_multi_info_read(w.multi, &queued))) {
            slot *s = NULL;
            long status = 0;
            bool err;

            if (msg->msg != CURLMSG_DONE)
                continue;
            t = now_s();
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            err = msg->data.result != CURLE_OK || status != 200 || s->fn_error;
            curl_multi_remove_handle(w.multi, s->easy);
            w.in_multi--;
            if (!err && !answered[s - w.slots]) {
                answered[s - w.slots] = true;
                answered_slots++;
            }
            if (s->measured) {
                long nc = 0;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_NUM_CONNECTS, &nc);
                w.st.new_connections += nc;
                if (lat_push(&w.st.lat, t - s->started) != 0)
                    goto cleanup;
                last_done = t;
                if (err) {
                    w.st.errors++;
                    if (msg->data.result != CURLE_OK)
                        w.st.curl_errors++;
                    else if (status != 200)
                        w.st.http_errors++;
                    else
                        w.st.fn_errors++;
                    if (!w.st.first_error_status) {
                        w.st.first_error_status = msg->data.result != CURLE_OK ? -1 : status;
                        fprintf(stderr, "lab_load: first error: %s, status %ld: %s\n",
                                curl_easy_strerror(msg->data.result), status, s->body);
                    }
                }
            }
            if (warming && answered_slots == n && t - t_start >= o->warmup_s) {
                warming = false;
                warm_end = t;
                w.warmup_s = t - t_start;
                end = t + o->duration_s;
                cpu0 = cpu_s();
                cpu_snapshot(o->server_pid, &w.cpu_begin);
            } else if (warming && t - t_start > WARMUP_MAX_S) {
                /* Measure anyway, and say so: that is a result too. */
                fprintf(stderr, "lab_load: only %d of %d slots answered without error during "
                                "%.0f s of warm-up; measuring anyway\n",
                        answered_slots, n, WARMUP_MAX_S);
                w.warmup_incomplete = true;
                warming = false;
                warm_end = t;
                w.warmup_s = t - t_start;
                end = t + o->duration_s;
                cpu0 = cpu_s();
                cpu_snapshot(o->server_pid, &w.cpu_begin);
            }
            if (!warming && (o->count > 0 ? measured_started >= o->count : t >= end))
                stopping = true;
            if (!stopping) {
                if (slot_start(&w, s, !warming) != 0)
                    goto cleanup;
                if (!warming)
                    measured_started++;
            }
        }
        if (stopping && w.cpu_end.total == 0)
            cpu_snapshot(o->server_pid, &w.cpu_end);
        if (stopping && w.in_multi == 0)
            break;
        if (curl_multi_poll(w.multi, NULL, 0, 100, NULL) != CURLM_OK)
            goto cleanup;
    }
    print_warm(o, &w, last_done > warm_end ? last_done - warm_end : 0, cpu_s() - cpu0);
    rc = EXIT_OK;
cleanup:
    if (w.slots) {
        for (int i = 0; i < n; i++) {
            if (w.slots[i].easy) {
                if (w.multi)
                    curl_multi_remove_handle(w.multi, w.slots[i].easy);
                curl_easy_cleanup(w.slots[i].easy);
            }
            curl_slist_free_all(w.slots[i].headers);
        }
    }
    if (w.multi)
        curl_multi_cleanup(w.multi);
    free(w.slots);
    free(answered);
    free(w.st.lat.us);
    return rc;
}

/* ---------- cold mode ---------- */

typedef struct reply {
    long status;
    char *body;
    size_t len;
    bool overflow;
    bool fn_error;
    char log_result[LOG_RESULT_MAX];
} reply;

static size_t keep_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    reply *r = userdata;
    size_t n = size * nmemb;
    char *p;

    if (r->len + n > BODY_MAX) {
        r->overflow = true;
        return 0;
    }
    p = realloc(r->body, r->len + n + 1);
    if (!p)
        return 0;
    r->body = p;
    memcpy(r->body + r->len, ptr, n);
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

static size_t keep_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    reply *r = userdata;
    size_t n = size * nmemb;
    static const char lr[] = "x-amz-log-result:";
    static const char fe[] = "x-amz-function-error:";

    if (n > sizeof(lr) - 1 && strncasecmp(ptr, lr, sizeof(lr) - 1) == 0) {
        const char *v = ptr + sizeof(lr) - 1, *e = ptr + n;
        size_t len;
        while (v < e && *v == ' ')
            v++;
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
            e--;
        len = (size_t)(e - v);
        if (len >= sizeof(r->log_result))
            return 0;
        memcpy(r->log_result, v, len);
        r->log_result[len] = '\0';
    } else if (n >= sizeof(fe) - 1 && strncasecmp(ptr, fe, sizeof(fe) - 1) == 0) {
        r->fn_error = true;
    }
    return n;
}

/* One synchronous signed request on e (kept alive between calls). */
static int request(CURL *e, const options *o, const char *method, const char *path,
                   const char *body, bool tail, reply *r)
{
    char url[URL_MAX + 256];
    struct curl_slist *h;
    CURLcode cc;

    free(r->body);
    memset(r, 0, sizeof(*r));
    h = signed_headers(o, method, path, body, body ? strlen(body) : 0);
    if (!h)
        return -1;
    if (tail) {
        struct curl_slist *t = curl_slist_append(h, "X-Amz-Log-Type: Tail");
        if (!t) {
            curl_slist_free_all(h);
            return -1;
        }
        h = t;
    }
    snprintf(url, sizeof(url), "%s%s", o->base_url, path);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, keep_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    cc = curl_easy_perform(e);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_slist_free_all(h);
    if (cc != CURLE_OK) {
        fprintf(stderr, "lab_load: %s %s: %s\n", method, path, curl_easy_strerror(cc));
        return -1;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
    return 0;
}

/* Init Duration (ms) from a base64 log tail, or -1 when there is none. */
static double init_duration_ms(const char *b64)
{
    size_t len = strlen(b64);
    unsigned char *out = malloc(len / 4 * 3 + 4);
    const char *m;
    double ms = -1;
    int n;

    if (!out)
        return -1;
    n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
    if (n >= 0) {
        out[n] = '\0';
        m = strstr((const char *)out, "Init Duration: ");
        if (m)
            ms = strtod(m + strlen("Init Duration: "), NULL);
    }
    free(out);
    return ms;
}

/* Body of UpdateFunctionConfiguration: vars (may be NULL) + the nonce. */
static char *update_body(const cJSON *vars, const char *nonce)
{
    cJSON *root = cJSON_CreateObject(), *env, *v;
    char *s = NULL;

    if (!root)
        return NULL;
    env = cJSON_AddObjectToObject(root, "Environment");
    v = vars ? cJSON_Duplicate(vars, 1) : cJSON_CreateObject();
    if (!env || !v) {
        cJSON_Delete(v);
        goto cleanup;
    }
    cJSON_AddItemToObject(env, "Variables", v);
    if (nonce) {
        cJSON_DeleteItemFromObjectCaseSensitive(v, NONCE_VAR);
        if (!cJSON_AddStringToObject(v, NONCE_VAR, nonce))
            goto cleanup;
    }
    s = cJSON_PrintUnformatted(root);
cleanup:
    cJSON_Delete(root);
    return s;
}

/* Polls GetFunctionConfiguration until LastUpdateStatus is Successful. */
static int wait_successful(CURL *e, const options *o, const char *cfg_path, reply *r)
{
    for (int waited = 0; waited < UPDATE_WAIT_MAX_MS; waited += UPDATE_POLL_MS) {
        cJSON *c;
        const cJSON *s;
        bool ok;

        if (request(e, o, "GET", cfg_path, NULL, false, r) != 0 || r->status != 200)
            return -1;
        c = cJSON_Parse(r->body ? r->body : "");
        s = cJSON_GetObjectItemCaseSensitive(c, "LastUpdateStatus");
        ok = cJSON_IsString(s) && strcmp(s->valuestring, "Successful") == 0;
        cJSON_Delete(c);
        if (ok)
            return 0;
        usleep(UPDATE_POLL_MS * 1000);
    }
    return -1;
}

static int run_cold(const options *o)
{
    CURL *e = NULL;
    reply r = {0};
    cJSON *cfg = NULL;
    const cJSON *vars = NULL;
    char cfg_path[2 * MAX_NAME + 64], inv_path[2 * MAX_NAME + 64];
    double *init_ms = NULL, *wall_ms = NULL;
    char *body = NULL;
    int ok_runs = 0, errors = 0, rc = EXIT_SETUP;

    snprintf(cfg_path, sizeof(cfg_path), "/2015-03-31/functions/%s/configuration", o->function);
    snprintf(inv_path, sizeof(inv_path), "/2015-03-31/functions/%s/invocations", o->function);
    init_ms = calloc((size_t)o->cold_runs, sizeof(*init_ms));
    wall_ms = calloc((size_t)o->cold_runs, sizeof(*wall_ms));
    if (!init_ms || !wall_ms || !(e = curl_easy_init()))
        goto cleanup;
    easy_defaults(e);

    if (request(e, o, "GET", cfg_path, NULL, false, &r) != 0 || r.status != 200) {
        fprintf(stderr, "lab_load: GetFunctionConfiguration answered %ld: %s\n", r.status,
                r.body ? r.body : "");
        goto cleanup;
    }
    cfg = cJSON_Parse(r.body);
    vars = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg, "Environment"),
                                            "Variables");

    for (int i = 0; i < o->cold_runs; i++) {
        char nonce[64];
        double t0, ms;

        snprintf(nonce, sizeof(nonce), "%ld-%d", (long)time(NULL), i);
        free(body);
        if (!(body = update_body(vars, nonce)))
            goto cleanup;
        if (request(e, o, "PUT", cfg_path, body, false, &r) != 0 || r.status != 200) {
            fprintf(stderr, "lab_load: UpdateFunctionConfiguration answered %ld: %s\n", r.status,
                    r.body ? r.body : "");
            goto cleanup;
        }
        if (wait_successful(e, o, cfg_path, &r) != 0) {
            fprintf(stderr, "lab_load: update never became Successful\n");
            goto cleanup;
        }
        t0 = now_s();
        if (request(e, o, "POST", inv_path, o->payload, true, &r) != 0) {
            errors++;
            continue;
        }
        ms = init_duration_ms(r.log_result);
        if (r.status != 200 || r.fn_error || ms < 0) {
            fprintf(stderr, "lab_load: cold invoke %d: status %ld%s%s\n", i, r.status,
                    r.fn_error ? ", function error" : "", ms < 0 ? ", no Init Duration" : "");
            errors++;
            continue;
        }
        wall_ms[ok_runs] = (now_s() - t0) * 1e3;
        init_ms[ok_runs] = ms;
        ok_runs++;
    }

    /* Put the function's own variables back. */
    free(body);
    if ((body = update_body(vars, NULL)) != NULL &&
        (request(e, o, "PUT", cfg_path, body, false, &r) != 0 || r.status != 200))
        fprintf(stderr, "lab_load: restoring the variables answered %ld\n", r.status);

    qsort(init_ms, (size_t)ok_runs, sizeof(*init_ms), cmp_double);
    qsort(wall_ms, (size_t)ok_runs, sizeof(*wall_ms), cmp_double);
    printf("{\"mode\":\"cold\",\"label\":\"%s\",\"function\":\"%s\",\"runs\":%d,\"errors\":%d,"
           "\"init_ms_p50\":%.2f,\"init_ms_min\":%.2f,\"init_ms_max\":%.2f,"
           "\"cold_invoke_ms_p50\":%.2f,\"cold_invoke_ms_min\":%.2f,\"cold_invoke_ms_max\":%.2f}\n",
           o->label, o->function, ok_runs, errors,
           median(init_ms, ok_runs), ok_runs ? init_ms[0] : 0.0,
           ok_runs ? init_ms[ok_runs - 1] : 0.0, median(wall_ms, ok_runs),
           ok_runs ? wall_ms[0] : 0.0, ok_runs ? wall_ms[ok_runs - 1] : 0.0);
    rc = EXIT_OK;
cleanup:
    free(body);
    free(r.body);
    cJSON_Delete(cfg);
    if (e)
        curl_easy_cleanup(e);
    free(init_ms);
    free(wall_ms);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    int rc;

    memset(&o, 0, sizeof(o));
    signal(SIGPIPE, SIG_IGN);
    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return EXIT_SETUP;
    rc = o.cold_runs > 0 ? run_cold(&o) : run_warm(&o);
    curl_global_cleanup();
    return rc;
}
