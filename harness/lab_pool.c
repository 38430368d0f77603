/*
 * lab_pool — functions, execution environments and invocations (see
 * lab_pool.h for the model and the threads).
 *
 * Life of an invocation: the invoker (an API thread) picks a warm idle
 * environment of the function's current generation, or creates one and asks
 * the main loop to fork it; it hangs its invocation on the environment,
 * thaws it, and waits on the environment's condition variable. The runtime's
 * GET /next (a daemon thread) takes the invocation; its POST /response or
 * /error completes it. The invoker then writes END/REPORT, reads the
 * environment's peak memory, and releases the environment, which freezes
 * itself at its next GET /next. Timeouts and memory are enforced by the
 * invoker, crashes are seen by the main loop's reaper.
 *
 * A Managed Instances (MI) environment (fn->max_concurrency > 0) holds up
 * to max_concurrency invocations in e->invs, oldest first, and is never
 * frozen: each invoker hangs its own invocation there and waits on the same
 * condition variable; any waiting GET /next takes the oldest undelivered
 * one; the invoker enforces its own invocation's timeout without killing
 * the environment (mi_await), writes its platform.report and unhooks it.
 */
#include "lab_pool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab_cgroup.h"
#include "lab_id.h"
#include "lab_log.h"
#include "lab_runtime_api.h"
#include "scratch.h"

#define MAX_ENV_VARS 320
#define ENV_STRINGS_MAX 16384
#define LOG_READ_CHUNK 65536
/* How often a running invocation's memory is sampled. */
#define MEM_SAMPLE_MS 20
#define TICK_MS 100
#define EVENT_WORKERS 2
#define EVENT_RETRY_MS 200
#define EVENT_RETRY_LIMIT_MS 60000
#define MAX_TREE_PROCS 64
/*
 * Spawner threads: each runs one lab_sandbox_spawn() at a time, which
 * mostly waits (fork, the child's namespace setup, the listener handoff),
 * so a burst is served several at a time: two per CPU, as more only make
 * each spawn slower on a saturated machine (and time out its handoff). They
 * live as long as the pool because PR_SET_PDEATHSIG is tied to the forking
 * thread.
 */
#define SPAWNERS_MAX 16
#define SPAWNERS_PER_CPU 2
#define SPAWN_ATTEMPTS 3
#define INITS_PER_CPU 8
#define INIT_POLL_MS 10
/* Children reaped before their spawner recorded the pid (a runtime that
 * dies at once): kept this long for the spawner to claim. */
#define UNCLAIMED_MAX 64
#define UNCLAIMED_KEEP_MS 10000

typedef enum {
    ENV_QUEUED = 0,   /* waiting for a spawner thread */
    ENV_SPAWNING,     /* a spawner is forking it (Init Duration counts from here) */
    ENV_INIT,         /* sandbox up, runtime not yet at its first /next (init budget runs) */
    ENV_READY,        /* at /next (idle, frozen) or running an invocation */
    ENV_DEAD,         /* killed or exited; awaiting reap and teardown */
} env_state;

typedef struct lab_fn lab_fn;
typedef struct lab_env lab_env;

typedef struct invocation {
    char request_id[40];
    char *payload;
    size_t payload_len;
    char *client_context;
    bool delivered;
    bool done;
    double assigned_at;     /* monotonic ms: when an environment took it */
    double delivered_at;    /* monotonic ms: when the runtime took it */
    long long deadline_ms;  /* epoch ms given to the runtime */
    char *response;
    size_t response_len;
    bool function_error;
    char *platform_error;   /* errorType of a lab-made error, e.g. Sandbox.Timedout */
    char *platform_message; /* its errorMessage, for the log */
    double duration_ms;
} invocation;

/* Lab-only bound on one environment's Runtime API connections beyond its
 * max concurrency's /next and /response pairs. */
#define MI_EXTRA_CONNECTIONS 16

struct lab_env {
    lab_fn *fn;
    lab_pool *pool;
    unsigned long long generation;
    env_state state;
    char hexid[33];
    char stream_name[64];
    pid_t pid;
    pid_t runtime_pid;
    int log_fd;
    bool log_in_epoll;
    lab_log *log;
    lab_runtime_api *rt;
    int listen_fd;
    char *tmp_dir;           /* LAB_SANDBOX_NONE: private TMPDIR */
    double spawned_at;       /* monotonic ms: when a spawner took it (Init Duration counts from here) */
    double init_started_at;  /* monotonic ms: sandbox up, runtime starting (the init budget's start) */
    double init_ms;          /* -1 until the first /next */
    bool init_reported;
    long invocations;
    lab_cgroup_env *cg;      /* its memory cgroup; NULL: the RSS fallback */
    long long mem_max_bytes; /* Max Memory Used so far */
    long long mem_win_tmp;   /* largest /tmp (tmpfs) size since the cgroup's peak was restarted */
    long long mem_win_reclaimable; /* largest reclaimable page cache, same window */
    bool frozen;
    bool killed;             /* we sent SIGKILL */
    bool reaped;
    int wait_status;
    char *death_type;        /* errorType when we killed it (timeout, memory) */
    char *init_error;        /* body the runtime posted to /init/error */
    char *spawn_error;
    invocation *inv;
    /* MI: up to fn->max_concurrency invocations, in arrival order (FIFO
     * for /next); inv stays NULL. */
    invocation **invs;
    int inv_count;
    double last_used;        /* monotonic ms */
    pthread_cond_t cv;
    pthread_mutex_t next_mu; /* one GET /next at a time: see rt_next() */
    int refs;
    lab_env *next;
    lab_env *spawn_next;     /* the spawn queue */
};

struct lab_fn {
    char *name;
    char *arn;
    char *runtime;
    lab_runtime_kind kind;
    char *handler;
    char *code_dir;
    char *description;
    int memory_mb;
    int timeout_s;
    int idle_timeout_s;
    int max_age_s;
    bool host_network;
    char *kms_key_arn;       /* NULL: Lambda's own key */
    int ephemeral_storage_mb;
    lab_kv *env;
    size_t env_count;
    char *cov_path;          /* host path of its coverage file; NULL: coverage off */
    int reserved;            /* -1: none */
    char revision_id[40];
    char last_modified[40];
    unsigned long long generation;
    double update_done_at;   /* monotonic ms; 0 once Successful */
    int in_flight;
    int max_concurrency;     /* MI: invocations per environment; 0: classic */
    int max_envs;            /* MI: environments of its current generation, at most */
    lab_env *envs;
    /* Versions (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html):
     * a published version is its own lab_fn in p->fns, a frozen copy of
     * $LATEST's configuration with the same code folder and environments of
     * its own; version is "" for $LATEST, base NULL for $LATEST. */
    char version[12];
    lab_fn *base;
    int last_version;                 /* $LATEST: the highest version published, 0: none */
    char published_revision[40];      /* $LATEST: its RevisionId when it was last published */
    lab_pool_alias aliases[LAB_POOL_MAX_ALIASES]; /* $LATEST only */
    size_t alias_count;
};

typedef struct unclaimed_child {
    pid_t pid;
    int status;
    double at;               /* monotonic ms */
} unclaimed_child;

typedef struct event_item {
    char *function;
    char *qualifier;         /* NULL: $LATEST */
    char *payload;
    size_t len;
    struct event_item *next;
} event_item;

struct lab_pool {
    pthread_mutex_t mu;
    lab_fn *fns;             /* fn_cap slots, never moved: environments point into it */
    size_t fn_count;
    size_t fn_cap;
    char *region;
    char *account;
    int update_delay_ms;
    int account_limit;
    int in_flight;
    lab_sandbox_mode mode;
    lab_cgroup *cg;          /* memory cgroups; NULL: the RSS fallback */
    char *log_dir;
    char *runtimes_dir;
    char *state_dir;
    char *python;            /* resolved interpreters, once */
    char *node;
    char *interp_prefix;     /* interpreter folder to bind when outside /usr */
    lab_sandbox_cache *sandbox_cache; /* spare sandboxes (bwrap), or NULL */
    int epfd;
    int sigchld_fd;
    bool stopping;
    /* Spawning: a FIFO of ENV_QUEUED environments (each holds a reference)
     * served by the spawner threads. */
    lab_env *spawn_head, *spawn_tail;
    pthread_cond_t spawn_cv;
    pthread_t spawners[SPAWNERS_MAX];
    int max_inits;           /* environments forked and not yet at /next, at most */
    int spawners_started;
    unclaimed_child unclaimed[UNCLAIMED_MAX];
    int unclaimed_count;
    /* Event invocations */
    event_item *ev_head, *ev_tail;
    size_t ev_count;
    pthread_cond_t ev_cv;
    pthread_t ev_threads[EVENT_WORKERS];
    int ev_started;
};

/* ---------- small helpers ---------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* The wall-clock instant ms from now, for pthread_cond_timedwait. */
static struct timespec realtime_after_ms(double ms)
{
    struct timespec ts;
    long long ns;

    clock_gettime(CLOCK_REALTIME, &ts);
    ns = (long long)ts.tv_nsec + (long long)(ms * 1e6);
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    return ts;
}

static long long epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void iso_now(char *out, size_t len)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0 || snprintf(out + n, len - n, ".%03d+0000", (int)(ts.tv_nsec / 1000000)) < 0)
        out[0] = '\0';
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char *memdup0(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* The function itself ($LATEST); p->mu held. */
static lab_fn *find_fn(lab_pool *p, const char *name)
{
    for (size_t i = 0; i < p->fn_count; i++)
        if (!p->fns[i].base && strcmp(p->fns[i].name, name) == 0)
            return &p->fns[i];
    return NULL;
}

static lab_fn *find_version(lab_pool *p, const lab_fn *base, const char *version)
{
    for (size_t i = 0; i < p->fn_count; i++)
        if (p->fns[i].base == base && strcmp(p->fns[i].version, version) == 0)
            return &p->fns[i];
    return NULL;
}

static lab_pool_alias *find_alias(lab_fn *base, const char *name)
{
    for (size_t i = 0; i < base->alias_count; i++)
        if (strcmp(base->aliases[i].name, name) == 0)
            return &base->aliases[i];
    return NULL;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/*
 * name + qualifier ("" / NULL / $LATEST, a version number or an alias
 * name) to the lab_fn that serves it; *alias the alias when one was named.
 * NULL when the function, version or alias does not exist. p->mu held.
 */
static lab_fn *resolve(lab_pool *p, const char *name, const char *qualifier, lab_pool_alias **alias)
{
    lab_fn *base = find_fn(p, name);
    lab_pool_alias *a;

    if (alias)
        *alias = NULL;
    if (!base || !qualifier || !qualifier[0] || strcmp(qualifier, "$LATEST") == 0)
        return base;
    if (all_digits(qualifier))
        return find_version(p, base, qualifier);
    a = find_alias(base, qualifier);
    if (!a)
        return NULL;
    if (alias)
        *alias = a;
    /* An alias may point at $LATEST (API_CreateAlias.html, FunctionVersion). */
    return strcmp(a->version, "$LATEST") == 0 ? base : find_version(p, base, a->version);
}

/* ---------- memory of an environment ---------- */

/*
 * Lambda's `Max Memory Used` is the execution environment's high-water mark
 * since it started, not one invocation's: AWS support, quoted in
 * https://engineering.taktile.com/blog/onnx-memory-usage-on-lambda/ . It
 * counts the whole sandbox, not the runtime process alone: a Node function
 * whose process.memoryUsage().rss is 47 MB reports 81 MB
 * (https://github.com/awsdocs/aws-lambda-developer-guide/issues/202), and
 * extensions run as processes of the same environment sharing its memory
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-extensions.html).
 * Lambda's /tmp is a disk (`df /tmp` shows /dev/vdd,
 * https://github.com/Sparticuz/chromium/issues/231), not memory.
 *
 * So with a memory cgroup per environment (lab_cgroup) the lab reports the
 * cgroup's peak charge less what its /tmp tmpfs holds, and kills the
 * environment when its charge less /tmp and less the page cache the kernel
 * would reclaim before an OOM kill passes the memory size. A peak is a peak
 * of the total: its /tmp share is taken as the largest seen since the peak
 * was last restarted, so /tmp shrinking inside that window makes the lab
 * err low, never count /tmp. Without a cgroup: the peak of the sum of the
 * processes' current RSS, sampled, and no lower than any one process's own
 * peak (VmHWM).
 */

/* VmRSS and VmHWM of one process in kB; -1 when it is gone. */
static int status_kb(pid_t pid, long *rss, long *hwm)
{
    char path[64], buf[2048];
    ssize_t n;
    int fd, found = 0;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    *rss = *hwm = 0;
    for (char *line = buf; line && *line && found < 2; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, "VmRSS:", 6) == 0) {
            *rss = strtol(line + 6, NULL, 10);
            found++;
        } else if (strncmp(line, "VmHWM:", 6) == 0) {
            *hwm = strtol(line + 6, NULL, 10);
            found++;
        }
    }
    return 0;
}

/* Children of pid (its main thread's, which is where runtimes fork from). */
static int children_of(pid_t pid, pid_t *out, int max)
{
    char path[64], buf[1024];
    int fd, n = 0;
    ssize_t len;
    char *s, *end;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    len = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (len <= 0)
        return 0;
    buf[len] = '\0';
    for (s = buf; n < max;) {
        long v = strtol(s, &end, 10);
        if (end == s)
            break;
        out[n++] = (pid_t)v;
        s = end;
    }
    return n;
}

/* The runtime process: below bwrap and bwrap's init in the sandbox. */
static pid_t find_runtime_pid(lab_env *e)
{
    pid_t level[4];
    pid_t cur = e->pid;
    int depth = e->pool->mode == LAB_SANDBOX_BWRAP ? 2 : 0;

    for (int i = 0; i < depth; i++) {
        if (children_of(cur, level, 4) < 1)
            return -1;
        cur = level[0];
    }
    return cur;
}

/* Fallback: sum of the function's processes' VmRSS in kB, and the largest VmHWM among them. */
static long env_memory_kb(lab_env *e, long *max_hwm)
{
    pid_t stack[MAX_TREE_PROCS];
    int top = 0;
    long total = 0;

    *max_hwm = 0;
    if (e->runtime_pid <= 0)
        e->runtime_pid = find_runtime_pid(e);
    if (e->runtime_pid <= 0)
        return -1;
    stack[top++] = e->runtime_pid;
    while (top > 0) {
        pid_t pid = stack[--top];
        long rss, hwm;
        if (status_kb(pid, &rss, &hwm) == 0) {
            total += rss;
            if (hwm > *max_hwm)
                *max_hwm = hwm;
        }
        top += children_of(pid, stack + top, MAX_TREE_PROCS - top);
    }
    return total;
}

static long long max_ll(long long a, long long b)
{
    return a > b ? a : b;
}

/*
 * Bytes in the environment's /tmp tmpfs, seen through its runtime's root:
 * the cgroup's shmem also holds shared anonymous memory and /dev/shm, which
 * are memory on Lambda too, so only /tmp itself is taken out. 0 without
 * the sandbox, whose TMPDIR is on disk.
 */
static long long env_tmp_bytes(lab_env *e)
{
    char path[64];
    struct statvfs sv;

    if (e->pool->mode != LAB_SANDBOX_BWRAP)
        return 0;
    if (e->runtime_pid <= 0)
        e->runtime_pid = find_runtime_pid(e);
    if (e->runtime_pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/root/tmp", (int)e->runtime_pid);
    if (statvfs(path, &sv) != 0 || sv.f_bfree > sv.f_blocks)
        return 0;
    return (long long)(sv.f_blocks - sv.f_bfree) * (long long)sv.f_frsize;
}

/*
 * cgroup accounting. at_end: the invocation is over, read the kernel's peak
 * (which catches what fell between two samples), then restart it; else
 * sample the current charge. Reads memory.stat and /tmp only when the
 * charge could be news (a new peak, or over the memory size), so an
 * invocation that stays below its environment's peak costs one read.
 */
static bool cgroup_over_memory(lab_env *e, bool at_end)
{
    long long limit = (long long)e->fn->memory_mb << 20;
    long long charge, tmp, reclaimable;
    lab_cgroup_stat st;
    bool over;

    if ((at_end ? lab_cgroup_env_peak(e->cg, &charge) : lab_cgroup_env_usage(e->cg, &charge)) != 0)
        return false;
    if (charge - e->mem_win_tmp <= e->mem_max_bytes && charge <= limit)
        return false;
    if (lab_cgroup_env_stat(e->cg, &st) != 0)
        return false;
    tmp = env_tmp_bytes(e);
    /* page cache the kernel would drop before it killed anything */
    reclaimable = st.file - st.shmem > 0 ? st.file - st.shmem : 0;
    e->mem_win_tmp = max_ll(e->mem_win_tmp, tmp);
    e->mem_win_reclaimable = max_ll(e->mem_win_reclaimable, reclaimable);
    if (at_end) {
        e->mem_max_bytes = max_ll(e->mem_max_bytes, charge - e->mem_win_tmp);
        over = charge - e->mem_win_tmp - e->mem_win_reclaimable > limit;
        if (lab_cgroup_env_reset_peak(e->cg) == 0) {
            e->mem_win_tmp = tmp;
            e->mem_win_reclaimable = reclaimable;
        }
    } else {
        e->mem_max_bytes = max_ll(e->mem_max_bytes, charge - tmp);
        over = charge - tmp - reclaimable > limit;
    }
    return over;
}

/* Fallback accounting: sampled sum of RSS, never below a process's own peak. */
static bool rss_over_memory(lab_env *e)
{
    long long limit = (long long)e->fn->memory_mb << 20;
    long hwm;
    long kb = env_memory_kb(e, &hwm);
    long long now;

    if (kb < 0)
        return false;
    now = (long long)kb * 1024;
    e->mem_max_bytes = max_ll(e->mem_max_bytes, max_ll(now, (long long)hwm * 1024));
    return now > limit || (long long)hwm * 1024 > limit;
}

/* ---------- environment lifecycle (callers hold p->mu) ---------- */

static void env_unref(lab_env *e);

static void env_kill(lab_env *e, const char *death_type)
{
    if (death_type && !e->death_type)
        e->death_type = strdup(death_type);
    if (e->pid > 0 && !e->reaped && !e->killed) {
        lab_sandbox_signal(e->pid, SIGKILL);
        e->killed = true;
    } else if (e->pid <= 0 && e->state != ENV_SPAWNING) {
        e->reaped = true; /* never forked: nothing to wait for */
    }
    /* (one being forked is killed by its spawner once it has a pid) */
    e->state = ENV_DEAD;
    pthread_cond_broadcast(&e->cv);
}

static lab_env *env_new(lab_fn *fn, lab_pool *p)
{
    lab_env *e = calloc(1, sizeof(*e));

    if (!e)
        return NULL;
    e->fn = fn;
    e->pool = p;
    e->generation = fn->generation;
    e->state = ENV_QUEUED;
    e->log_fd = -1;
    e->listen_fd = -1;
    e->init_ms = -1;
    if (fn->max_concurrency > 0) {
        e->invs = calloc((size_t)fn->max_concurrency, sizeof(invocation *));
        if (!e->invs) {
            free(e);
            return NULL;
        }
    }
    e->refs = 1; /* the function's list */
    e->spawned_at = now_ms();
    e->last_used = e->spawned_at;
    pthread_cond_init(&e->cv, NULL);
    pthread_mutex_init(&e->next_mu, NULL);
    lab_id_hex(e->hexid, 16);
    snprintf(e->stream_name, sizeof(e->stream_name), "[%s]%s",
             fn->version[0] ? fn->version : "$LATEST", e->hexid);
    e->next = fn->envs;
    fn->envs = e;
    /* The queue's reference; a spawner drops it. */
    e->refs++;
    if (p->spawn_tail)
        p->spawn_tail->spawn_next = e;
    else
        p->spawn_head = e;
    p->spawn_tail = e;
    pthread_cond_signal(&p->spawn_cv);
    return e;
}

static void env_free(lab_env *e)
{
    if (e->log_fd >= 0)
        close(e->log_fd);
    if (e->listen_fd >= 0)
        close(e->listen_fd);
    lab_log_close(&e->log);
    lab_cgroup_env_free(&e->cg);
    if (e->tmp_dir) {
        scratch_remove(e->tmp_dir);
        free(e->tmp_dir);
    }
    free(e->death_type);
    free(e->init_error);
    free(e->spawn_error);
    free(e->invs);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->next_mu);
    free(e);
}

/* An invocation is hung on it (classic or MI). */
static bool env_busy(const lab_env *e)
{
    return e->inv != NULL || e->inv_count > 0;
}

static void env_unref(lab_env *e)
{
    if (--e->refs == 0)
        env_free(e);
}

/* Reads what the environment printed; p->mu held. */
static void env_drain_log(lab_env *e)
{
    char buf[LOG_READ_CHUNK];
    ssize_t n;

    if (e->log_fd < 0)
        return;
    while ((n = read(e->log_fd, buf, sizeof(buf))) > 0)
        lab_log_append(e->log, buf, (size_t)n);
}

/* ---------- invocation outcome helpers ---------- */

/*
 * bubblewrap reports a sandboxed process killed by signal N as exit status
 * 128+N. The crash signals are read back as signals; other statuses above 128
 * stay exit statuses, since runtimes use them on purpose (Node exits 128 and
 * 129). A runtime that calls exit(137) itself is reported as killed.
 */
static int bwrap_signal(int code)
{
    static const int crash[] = {SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGKILL, SIGSEGV, SIGTERM};

    for (size_t i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
        if (code == 128 + crash[i])
            return crash[i];
    return 0;
}

/* Lambda words a runtime's end as Go's os/exec does. */
static void go_exit_reason(int status, bool via_bwrap, char *out, size_t len)
{
    int sig = 0;

    if (WIFSIGNALED(status))
        sig = WTERMSIG(status);
    else if (via_bwrap && WIFEXITED(status))
        sig = bwrap_signal(WEXITSTATUS(status));
    if (sig) {
        const char *name = sig == SIGKILL ? "killed" : sig == SIGSEGV ? "segmentation fault"
                         : sig == SIGABRT ? "aborted" : sig == SIGTERM ? "terminated"
                         : strsignal(sig);
        snprintf(out, len, "Runtime exited with error: signal: %s", name);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        snprintf(out, len, "Runtime exited with error: exit status %d", WEXITSTATUS(status));
    } else {
        snprintf(out, len, "Runtime exited without providing a reason");
    }
}

static void set_platform_error(invocation *inv, const char *type, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    char *body;

    cJSON_AddStringToObject(o, "errorType", type);
    cJSON_AddStringToObject(o, "errorMessage", message);
    body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(inv->response);
    inv->response = body;
    inv->response_len = body ? strlen(body) : 0;
    inv->function_error = true;
    free(inv->platform_error);
    inv->platform_error = strdup(type);
    free(inv->platform_message);
    inv->platform_message = strdup(message);
    inv->done = true;
}

/* ---------- Runtime API callbacks (daemon threads) ---------- */

/* The oldest invocation of an MI environment no /next has taken; p->mu held. */
static invocation *mi_undelivered(const lab_env *e)
{
    for (int i = 0; i < e->inv_count; i++)
        if (!e->invs[i]->delivered && !e->invs[i]->done)
            return e->invs[i];
    return NULL;
}

/* Fills ev from inv, marked delivered now; p->mu held. The strings are
 * checked by the caller after unlocking. */
static void deliver(lab_env *e, invocation *inv, lab_runtime_event *ev)
{
    char trace[128];
    char hex[25];

    lab_id_hex(hex, 12);
    inv->delivered = true;
    inv->delivered_at = now_ms();
    inv->deadline_ms = epoch_ms() + (long long)e->fn->timeout_s * 1000;
    snprintf(trace, sizeof(trace), "Root=1-%08llx-%s;Parent=%.16s;Sampled=0",
             (unsigned long long)(inv->deadline_ms / 1000 - e->fn->timeout_s), hex, e->hexid);
    ev->request_id = strdup(inv->request_id);
    ev->function_arn = strdup(e->fn->arn);
    ev->trace_id = strdup(trace);
    ev->client_context = xstrdup(inv->client_context);
    ev->payload = memdup0(inv->payload, inv->payload_len);
    ev->payload_len = inv->payload_len;
    ev->deadline_ms = inv->deadline_ms;
}

/*
 * GET /next of an MI environment: up to max_concurrency of these wait at
 * once (one per runtime worker), so no next_mu, and no freeze: an MI
 * environment runs continuously between invocations
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-execution-environment.html).
 * Init is over at the first worker's /next (same page): its initReport is
 * written then, once.
 */
static int rt_next_mi(lab_env *e, lab_runtime_event *ev)
{
    lab_pool *p = e->pool;
    invocation *inv;

    pthread_mutex_lock(&p->mu);
    if (e->state == ENV_INIT) {
        e->init_ms = now_ms() - e->spawned_at;
        e->state = ENV_READY;
        e->runtime_pid = find_runtime_pid(e);
        env_drain_log(e);
        lab_log_json_init_report(e->log, e->init_ms, "success");
        e->init_reported = true;
    }
    while (e->state == ENV_READY && !(inv = mi_undelivered(e)))
        pthread_cond_wait(&e->cv, &p->mu);
    if (e->state != ENV_READY) {
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    env_drain_log(e);
    lab_log_json_start(e->log, inv->request_id);
    deliver(e, inv, ev);
    pthread_mutex_unlock(&p->mu);
    if (!ev->request_id || !ev->function_arn || !ev->trace_id || !ev->payload) {
        lab_runtime_event_clear(ev);
        return -1;
    }
    return 0;
}

/* An MI environment's invocation by request id; p->mu held. */
static invocation *mi_find(const lab_env *e, const char *request_id)
{
    for (int i = 0; i < e->inv_count; i++)
        if (strcmp(e->invs[i]->request_id, request_id) == 0)
            return e->invs[i];
    return NULL;
}

/*
 * The freeze (SIGSTOP while the runtime waits here, SIGCONT when work comes)
 * is sent by this thread alone and outside p->mu, so no invoker waits on the
 * pool lock behind a kill(). e->next_mu keeps a second concurrent /next of
 * the same environment from sending its signals out of order with ours.
 * kill() on the process group outside p->mu cannot hit a stranger: the
 * group's id stays taken until its last member is reaped, and the daemon
 * thread running this is joined before the environment is torn down.
 */
static int rt_next(void *arg, lab_runtime_event *ev)
{
    lab_env *e = arg;
    lab_pool *p = e->pool;
    invocation *inv;
    bool thaw;
    pid_t pid;

    if (e->fn->max_concurrency > 0) /* set once at start: read without p->mu */
        return rt_next_mi(e, ev);
    pthread_mutex_lock(&e->next_mu);
    pthread_mutex_lock(&p->mu);
    if (e->state == ENV_INIT) {
        e->init_ms = now_ms() - e->spawned_at;
        e->state = ENV_READY;
        e->runtime_pid = find_runtime_pid(e);
    }
    pid = e->pid;
    while (e->state == ENV_READY && !(e->inv && !e->inv->delivered)) {
        if (!e->frozen) {
            /* Lambda freezes the environment while it waits for work:
             * nothing the function left running may run between callers. */
            e->frozen = true;
            pthread_mutex_unlock(&p->mu);
            lab_sandbox_signal(pid, SIGSTOP);
            pthread_mutex_lock(&p->mu);
            continue; /* work may have come meanwhile */
        }
        pthread_cond_wait(&e->cv, &p->mu);
    }
    if (e->state != ENV_READY) {
        pthread_mutex_unlock(&p->mu);
        pthread_mutex_unlock(&e->next_mu);
        return -1;
    }
    thaw = e->frozen;
    e->frozen = false;
    inv = e->inv;
    env_drain_log(e);
    lab_log_start(e->log, inv->request_id);
    /* No wake-up for the invoker: it looks again within MEM_SAMPLE_MS
     * anyway (await_invocation), and a wake-up here would cost a context
     * switch on every warm invoke. */
    deliver(e, inv, ev);
    pthread_mutex_unlock(&p->mu);
    if (thaw)
        lab_sandbox_signal(pid, SIGCONT);
    pthread_mutex_unlock(&e->next_mu);
    if (!ev->request_id || !ev->function_arn || !ev->trace_id || !ev->payload) {
        lab_runtime_event_clear(ev);
        return -1;
    }
    return 0;
}

static int rt_result(void *arg, const char *request_id, const char *body, size_t len,
                     int is_error, const char *error_type)
{
    lab_env *e = arg;
    lab_pool *p = e->pool;
    invocation *inv;
    int status = 202;

    (void)error_type;
    pthread_mutex_lock(&p->mu);
    if (e->invs) {
        /* MI: by request id; one that timed out or finished is gone from
         * the list and refused like an unknown id. */
        if (e->inv_count == 0) {
            status = 403;
            goto out;
        }
        inv = mi_find(e, request_id);
        if (!inv) {
            status = 400;
            goto out;
        }
    } else {
        inv = e->inv;
        if (!inv) {
            status = 403;
            goto out;
        }
    }
    if (!inv->delivered || inv->done) {
        status = 403;
        goto out;
    }
    if (strcmp(inv->request_id, request_id) != 0) {
        status = 400;
        goto out;
    }
    env_drain_log(e);
    inv->duration_ms = now_ms() - inv->delivered_at;
    if (len > LAB_RUNTIME_API_MAX_BODY) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "Response payload size exceeded maximum allowed payload size (%d bytes).",
                 LAB_RUNTIME_API_MAX_BODY);
        set_platform_error(inv, "Function.ResponseSizeTooLarge", msg);
        status = 413;
    } else {
        inv->response = memdup0(body, len);
        inv->response_len = inv->response ? len : 0;
        inv->function_error = is_error != 0;
        inv->done = true;
    }
    pthread_mutex_unlock(&p->mu);
    /* After unlocking, so the woken invoker does not block at once on
     * p->mu held here; e outlives this daemon thread (housekeeping stops
     * the daemon before the last unref). */
    pthread_cond_broadcast(&e->cv);
    return status;
out:
    pthread_mutex_unlock(&p->mu);
    return status;
}

static int rt_init_error(void *arg, const char *body, size_t len, const char *error_type)
{
    lab_env *e = arg;
    lab_pool *p = e->pool;
    int status = 202;

    (void)error_type;
    pthread_mutex_lock(&p->mu);
    if (e->state != ENV_INIT || e->init_error) {
        status = 403;
    } else {
        e->init_error = memdup0(body, len);
        e->init_ms = now_ms() - e->spawned_at;
        if (e->invs && e->log) { /* MI: init is reported once, as JSON */
            env_drain_log(e);
            lab_log_json_init_report(e->log, e->init_ms, "error");
            e->init_reported = true;
        }
        pthread_cond_broadcast(&e->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return status;
}

static const lab_runtime_api_ops rt_ops = {
    .next = rt_next,
    .result = rt_result,
    .init_error = rt_init_error,
};

/* ---------- spawning (spawner threads) ---------- */

typedef struct spawn_plan {
    char *argv[8];
    char *envp[MAX_ENV_VARS];
    size_t envc;
    char strings[ENV_STRINGS_MAX];
    size_t used;
    int overflow;
} spawn_plan;

static void plan_env(spawn_plan *sp, const char *key, const char *value)
{
    size_t need = strlen(key) + strlen(value) + 2;
    if (sp->envc + 1 >= MAX_ENV_VARS || sp->used + need > sizeof(sp->strings)) {
        sp->overflow = 1;
        return;
    }
    snprintf(sp->strings + sp->used, need, "%s=%s", key, value);
    sp->envp[sp->envc++] = sp->strings + sp->used;
    sp->envp[sp->envc] = NULL;
    sp->used += need;
}

static char *plan_str(spawn_plan *sp, const char *s)
{
    size_t need = strlen(s) + 1;
    char *d;
    if (sp->used + need > sizeof(sp->strings)) {
        sp->overflow = 1;
        return NULL;
    }
    d = sp->strings + sp->used;
    memcpy(d, s, need);
    sp->used += need;
    return d;
}

static void random_alnum(char *out, size_t n, const char *alphabet)
{
    unsigned char b[128];
    size_t alen = strlen(alphabet);
    if (n > sizeof(b))
        n = sizeof(b);
    if (RAND_bytes(b, (int)n) != 1)
        abort();
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[b[i] % alen];
    out[n] = '\0';
}

/*
 * The environment Lambda gives a runtime (reference section 4), then the
 * function's own variables. The credentials are random per environment and
 * valid nowhere: they stand where the execution role's keys stand on AWS, so
 * scenarios can see them leak.
 */
static int plan_build(lab_pool *p, lab_env *e, int port, const char *rt_host, spawn_plan *sp)
{
    lab_fn *fn = e->fn;
    bool sandboxed = p->mode == LAB_SANDBOX_BWRAP;
    char buf[PATH_MAX + 64], akid[21], akid_rand[17], secret[41], token[129];
    struct tm tm;
    time_t t = time(NULL);
    const char *task_root = sandboxed ? "/var/task" : fn->code_dir;
    const char *rt_dir = sandboxed ? "/var/runtime" : rt_host;

    memset(sp, 0, sizeof(*sp));

    for (size_t i = 0; i < fn->env_count; i++) {
        /* The first of two equal names wins in getenv(): with coverage on, a
         * function's own variable must not redirect the runtime's writes. */
        if (fn->cov_path && strcmp(fn->env[i].key, LAB_POOL_COV_ENV) == 0)
            continue;
        /* Nor may it change what an MI environment is told below. */
        if (fn->max_concurrency > 0 && (strcmp(fn->env[i].key, "AWS_LAMBDA_MAX_CONCURRENCY") == 0 ||
                                        strcmp(fn->env[i].key, "AWS_LAMBDA_LOG_FORMAT") == 0))
            continue;
        plan_env(sp, fn->env[i].key, fn->env[i].value);
    }
    if (fn->cov_path)
        plan_env(sp, LAB_POOL_COV_ENV, sandboxed ? LAB_SANDBOX_COVERAGE_PATH : fn->cov_path);
    plan_env(sp, "AWS_LAMBDA_FUNCTION_NAME", fn->name);
    plan_env(sp, "AWS_LAMBDA_FUNCTION_VERSION", e->fn->version[0] ? e->fn->version : "$LATEST");
    snprintf(buf, sizeof(buf), "%d", fn->memory_mb);
    plan_env(sp, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", buf);
    snprintf(buf, sizeof(buf), "/aws/lambda/%s", fn->name);
    plan_env(sp, "AWS_LAMBDA_LOG_GROUP_NAME", buf);
    gmtime_r(&t, &tm);
    snprintf(buf, sizeof(buf), "%04d/%02d/%02d/%s", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, e->stream_name);
    plan_env(sp, "AWS_LAMBDA_LOG_STREAM_NAME", buf);
    snprintf(buf, sizeof(buf), "127.0.0.1:%d", port);
    plan_env(sp, "AWS_LAMBDA_RUNTIME_API", buf);
    plan_env(sp, "AWS_REGION", p->region);
    plan_env(sp, "AWS_DEFAULT_REGION", p->region);
    if (fn->kind != LAB_RUNTIME_PROVIDED) {
        snprintf(buf, sizeof(buf), "AWS_Lambda_%s", fn->runtime);
        plan_env(sp, "AWS_EXECUTION_ENV", buf);
    }
    if (fn->handler)
        plan_env(sp, "_HANDLER", fn->handler);
    plan_env(sp, "LAMBDA_TASK_ROOT", task_root);
    plan_env(sp, "LAMBDA_RUNTIME_DIR", rt_dir);
    plan_env(sp, "TZ", ":UTC");
    plan_env(sp, "LANG", "en_US.UTF-8");
    plan_env(sp, "PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin");
    plan_env(sp, "LD_LIBRARY_PATH", "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib");
    plan_env(sp, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    if (fn->max_concurrency > 0) {
        /* MI runtimes size their workers by it and log JSON only
         * (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html,
         * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html). */
        snprintf(buf, sizeof(buf), "%d", fn->max_concurrency);
        plan_env(sp, "AWS_LAMBDA_MAX_CONCURRENCY", buf);
        plan_env(sp, "AWS_LAMBDA_LOG_FORMAT", "JSON");
    }
    random_alnum(akid_rand, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    snprintf(akid, sizeof(akid), "ASIA%s", akid_rand);
    random_alnum(secret, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    random_alnum(token, 128, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    plan_env(sp, "AWS_ACCESS_KEY_ID", akid);
    plan_env(sp, "AWS_SECRET_ACCESS_KEY", secret);
    plan_env(sp, "AWS_SESSION_TOKEN", token);
    plan_env(sp, "AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000");
    plan_env(sp, "PWD", task_root);
    if (!sandboxed)
        plan_env(sp, "TMPDIR", e->tmp_dir);

    switch (fn->kind) {
    case LAB_RUNTIME_PYTHON:
        sp->argv[0] = plan_str(sp, p->python);
        snprintf(buf, sizeof(buf), "%s/bootstrap.py", rt_dir);
        sp->argv[1] = plan_str(sp, buf);
        break;
    case LAB_RUNTIME_NODE: {
        /* Lambda's Node bootstrap (/var/runtime/bootstrap in the public
         * nodejs base images) gives V8 a tenth of the memory size as new
         * space (half of it per semi-space) and the rest as old space, so
         * V8 collects under pressure before the environment is killed.
         * Without these flags V8's default limit (GBs) never feels 128 MB
         * and a handler that keeps nothing looks like it grows. */
        int new_space = fn->memory_mb / 10;
        sp->argv[0] = plan_str(sp, p->node);
        sp->argv[1] = plan_str(sp, "--expose-gc");
        snprintf(buf, sizeof(buf), "--max-semi-space-size=%d", new_space / 2);
        sp->argv[2] = plan_str(sp, buf);
        snprintf(buf, sizeof(buf), "--max-old-space-size=%d", fn->memory_mb - new_space);
        sp->argv[3] = plan_str(sp, buf);
        snprintf(buf, sizeof(buf), "%s/bootstrap.js", rt_dir);
        sp->argv[4] = plan_str(sp, buf);
        break;
    }
    default:
        snprintf(buf, sizeof(buf), "%s/bootstrap", task_root);
        sp->argv[0] = plan_str(sp, buf);
        break;
    }
    return sp->overflow ? -1 : 0;
}

/*
 * The main loop reaps with waitpid(-1) while a spawner may not yet have
 * recorded the pid it forked: such a status waits here until claimed;
 * p->mu held.
 */
static void claim_unclaimed(lab_pool *p, lab_env *e)
{
    for (int i = 0; i < p->unclaimed_count; i++) {
        if (p->unclaimed[i].pid != e->pid)
            continue;
        e->reaped = true;
        e->wait_status = p->unclaimed[i].status;
        p->unclaimed[i] = p->unclaimed[--p->unclaimed_count];
        return;
    }
}

static void spawn_env(lab_pool *p, lab_env *e)
{
    spawn_plan *sp = NULL;
    lab_sandbox_spec spec;
    lab_sandbox_proc proc = {.pid = -1, .log_fd = -1, .listen_fd = -1};
    char err[512] = "";
    char rt_host[PATH_MAX];
    int listen_fd = -1, port = LAB_SANDBOX_RUNTIME_PORT;
    lab_runtime_api *rt = NULL;
    lab_cgroup_env *cg = NULL;
    struct epoll_event ev;
    lab_fn *fn = e->fn;

    sp = malloc(sizeof(*sp));
    if (!sp) {
        snprintf(err, sizeof(err), "out of memory");
        goto fail;
    }
    if (p->mode == LAB_SANDBOX_NONE || fn->host_network) {
        if (lab_sandbox_listen_loopback(&listen_fd, &port, err, sizeof(err)) != 0)
            goto fail;
    }
    if (p->mode == LAB_SANDBOX_NONE) {
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof(tmp), "%s/tmp-%s", p->state_dir, e->hexid) >= (int)sizeof(tmp) ||
            mkdir(tmp, 0700) != 0) {
            snprintf(err, sizeof(err), "private TMPDIR in %.300s: %s", p->state_dir, strerror(errno));
            goto fail;
        }
        pthread_mutex_lock(&p->mu);
        e->tmp_dir = strdup(tmp);
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_lock(&p->mu);
    e->log = lab_log_open(p->log_dir, fn->name, e->stream_name, err, sizeof(err));
    snprintf(rt_host, sizeof(rt_host), "%s/%s", p->runtimes_dir,
             fn->kind == LAB_RUNTIME_PYTHON ? "python" : "node");
    if (!e->log || plan_build(p, e, port, rt_host, sp) != 0) {
        pthread_mutex_unlock(&p->mu);
        if (!err[0])
            snprintf(err, sizeof(err), "environment too large");
        goto fail;
    }
    spec.mode = p->mode;
    spec.argv = (const char *const *)sp->argv;
    spec.envp = (const char *const *)sp->envp;
    spec.code_dir = fn->code_dir;
    spec.runtime_dir = fn->kind == LAB_RUNTIME_PROVIDED ? NULL : rt_host;
    spec.extra_ro_dir = p->interp_prefix;
    spec.coverage_file = fn->cov_path;
    spec.cwd = fn->code_dir;
    spec.tmp_mb = fn->ephemeral_storage_mb;
    spec.listen_fd = listen_fd;
    spec.cache = p->sandbox_cache;
    spec.spare_idle_s = fn->idle_timeout_s;
    pthread_mutex_unlock(&p->mu);

    listen_fd = -1; /* moved into spec */
    spec.cgroup_procs = NULL;
    if (p->cg) {
        /* Hard limit: a backstop for what outruns the sampling; /tmp's
         * tmpfs is charged too, so it fits on top of the memory size. */
        long long backstop = ((long long)fn->memory_mb + fn->ephemeral_storage_mb + 64) << 20;
        cg = lab_cgroup_env_new(p->cg, e->hexid, backstop, err, sizeof(err));
        if (!cg)
            goto fail;
        spec.cgroup_procs = lab_cgroup_env_procs(cg);
    }
    /* A sandbox that fails to start is the platform's failure, not the
     * function's: on a loaded machine the listener handoff can time out,
     * so try again, with the init clock restarted. Only in the sandbox's
     * own network namespace: a listener passed in is consumed by a failure
     * and its port is already in the environment. */
    for (int attempt = 1;; attempt++) {
        if (lab_sandbox_spawn(&spec, &proc, err, sizeof(err)) == 0)
            break;
        if (spec.listen_fd >= 0 || attempt >= SPAWN_ATTEMPTS)
            goto fail;
        fprintf(stderr, "coldsec-lab: %s: starting an environment again (attempt %d): %s\n",
                fn->name, attempt + 1, err);
        pthread_mutex_lock(&p->mu);
        e->spawned_at = now_ms();
        pthread_mutex_unlock(&p->mu);
    }

    pthread_mutex_lock(&p->mu);
    e->cg = cg;
    cg = NULL;
    e->pid = proc.pid;
    e->log_fd = proc.log_fd;
    e->reaped = false;
    claim_unclaimed(p, e);
    if (e->state == ENV_DEAD || e->reaped) { /* retired, or died, while it was being forked */
        env_kill(e, NULL);
    } else {
        e->state = ENV_INIT;
        e->init_started_at = now_ms();
    }
    pthread_mutex_unlock(&p->mu);

    /* An MI environment's workers each hold a /next open and post their
     * /response on another connection. */
    rt = lab_runtime_api_start(proc.listen_fd, &rt_ops, e,
                               (unsigned int)(2 * fn->max_concurrency + MI_EXTRA_CONNECTIONS),
                               err, sizeof(err));
    pthread_mutex_lock(&p->mu);
    e->rt = rt;
    if (!rt) {
        e->spawn_error = strdup(err);
        env_kill(e, NULL);
    }
    ev.events = EPOLLIN;
    ev.data.ptr = e;
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, e->log_fd, &ev) == 0)
        e->log_in_epoll = true;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&p->mu);
    free(sp);
    return;

fail:
    if (listen_fd >= 0)
        close(listen_fd);
    lab_cgroup_env_free(&cg);
    free(sp);
    fprintf(stderr, "coldsec-lab: %s: cannot start an environment: %s\n", fn->name, err);
    pthread_mutex_lock(&p->mu);
    e->spawn_error = strdup(err);
    e->reaped = true;
    env_kill(e, NULL);
    pthread_mutex_unlock(&p->mu);
}

static int cpu_count(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 && cpus < 1024 ? (int)cpus : 1;
}

static int spawner_count(void)
{
    int n = cpu_count() * SPAWNERS_PER_CPU;
    return n > SPAWNERS_MAX ? SPAWNERS_MAX : n;
}

/* Environments being forked or initialising; p->mu held. */
static int inits_in_flight(const lab_pool *p)
{
    int n = 0;
    for (size_t i = 0; i < p->fn_count; i++)
        for (const lab_env *e = p->fns[i].envs; e; e = e->next)
            if (e->state == ENV_SPAWNING || e->state == ENV_INIT)
                n++;
    return n;
}

/*
 * A spawner thread: takes the oldest queued environment and forks it, off
 * the API, Runtime API and main-loop threads. The init budget is not
 * counted from when the environment was asked for: on Lambda the Init
 * phase, and its 10 s limit, is the runtime's start up to its first /next
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html,
 * "Init phase"), so time spent waiting for a spawner in a burst, or for the
 * sandbox's namespaces, is the lab's, not the function's. It starts once the
 * sandbox is up (init_started_at); Init Duration is still reported from the
 * spawn's start, so the lab's own spawn cost stays visible in REPORT.
 *
 * At most INITS_PER_CPU environments per CPU are started and not yet at
 * their first /next: on Lambda each init has its own resources, while here
 * a thousand runtimes starting at once share the machine, and each init
 * would take long enough to run out of its budget.
 */
static void *spawner_main(void *arg)
{
    lab_pool *p = arg;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        lab_env *e;

        while (!p->spawn_head && !p->stopping)
            pthread_cond_wait(&p->spawn_cv, &p->mu);
        if (p->stopping)
            break;
        if (inits_in_flight(p) >= p->max_inits) {
            /* An init ends in rt_next or a death, neither of which signals
             * the spawners: look again shortly. */
            struct timespec ts = realtime_after_ms(INIT_POLL_MS);
            pthread_cond_timedwait(&p->spawn_cv, &p->mu, &ts);
            continue;
        }
        e = p->spawn_head;
        p->spawn_head = e->spawn_next;
        if (!p->spawn_head)
            p->spawn_tail = NULL;
        e->spawn_next = NULL;
        if (e->state != ENV_QUEUED) { /* retired before its turn */
            env_unref(e);
            continue;
        }
        e->state = ENV_SPAWNING;
        e->spawned_at = now_ms();
        e->last_used = e->spawned_at;
        pthread_cond_broadcast(&e->cv); /* its invoker now counts the init budget */
        pthread_mutex_unlock(&p->mu);
        spawn_env(p, e);
        pthread_mutex_lock(&p->mu);
        env_unref(e);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---------- invocation (API threads) ---------- */

/* Concurrency reserved by all functions; p->mu held. */
static int reserved_total(const lab_pool *p, const lab_fn *except)
{
    int n = 0;
    for (size_t i = 0; i < p->fn_count; i++)
        if (&p->fns[i] != except && p->fns[i].reserved > 0)
            n += p->fns[i].reserved;
    return n;
}

/*
 * Lambda's concurrency model: a function with reserved concurrency runs up
 * to its reservation, which no other function can use; every other
 * function shares what is left of the account's limit
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
 * Beyond either, Invoke answers 429 TooManyRequestsException, Reason
 * ReservedFunctionConcurrentInvocationLimitExceeded or
 * ConcurrentInvocationLimitExceeded (the ThrottleReason values of the
 * Lambda API: botocore's Lambda.Client.exceptions.TooManyRequestsException).
 * p->mu held.
 */
static lab_pool_status throttle_check(const lab_pool *p, const lab_fn *fn)
{
    int unreserved_in_flight = 0;

    if (fn->reserved >= 0)
        return fn->in_flight >= fn->reserved ? LAB_POOL_THROTTLED_RESERVED : LAB_POOL_OK;
    for (size_t i = 0; i < p->fn_count; i++)
        if (p->fns[i].reserved < 0)
            unreserved_in_flight += p->fns[i].in_flight;
    return unreserved_in_flight >= p->account_limit - reserved_total(p, NULL)
               ? LAB_POOL_THROTTLED_ACCOUNT : LAB_POOL_OK;
}

static lab_env *pick_env(lab_fn *fn)
{
    for (lab_env *e = fn->envs; e; e = e->next)
        if (e->state == ENV_READY && !e->inv && e->generation == fn->generation)
            return e;
    return NULL;
}

static void refresh_update_status(lab_fn *fn)
{
    if (fn->update_done_at > 0 && now_ms() >= fn->update_done_at)
        fn->update_done_at = 0;
}

/* What went wrong with an environment that died under an invocation. */
static void fail_dead_env(lab_env *e, invocation *inv)
{
    char reason[160], msg[256];

    if (e->init_error) {
        free(inv->response);
        inv->response = strdup(e->init_error);
        inv->response_len = inv->response ? strlen(inv->response) : 0;
        inv->function_error = true;
        inv->done = true;
        return;
    }
    if (e->spawn_error) {
        snprintf(msg, sizeof(msg), "RequestId: %s Error: %s", inv->request_id, e->spawn_error);
        set_platform_error(inv, "Runtime.ExitError", msg);
        return;
    }
    if ((e->death_type && strcmp(e->death_type, "Runtime.OutOfMemory") == 0) ||
        (!e->death_type && lab_cgroup_env_oom_kills(e->cg) > 0)) {
        snprintf(msg, sizeof(msg),
                 "RequestId: %s Error: Runtime exited with error: signal: killed", inv->request_id);
        set_platform_error(inv, "Runtime.OutOfMemory", msg);
        return;
    }
    go_exit_reason(e->wait_status, e->pool->mode == LAB_SANDBOX_BWRAP, reason, sizeof(reason));
    snprintf(msg, sizeof(msg), "RequestId: %s Error: %s", inv->request_id, reason);
    set_platform_error(inv, "Runtime.ExitError", msg);
}

/* Samples (or, at_end, settles) the environment's memory; true when it is over its size. */
static bool env_over_memory(lab_env *e, bool at_end)
{
    return e->cg ? cgroup_over_memory(e, at_end) : rss_over_memory(e);
}

/* Max Memory Used in MB, rounded up, at most the memory size (as on Lambda). */
static int env_max_memory_mb(const lab_env *e)
{
    long long mb = (e->mem_max_bytes + (1 << 20) - 1) >> 20;

    if (mb > e->fn->memory_mb)
        mb = e->fn->memory_mb;
    return mb > 0 ? (int)mb : 1;
}

/* Waits for inv on e; p->mu held. */
static void await_invocation(lab_pool *p, lab_env *e, invocation *inv)
{
    double next_sample = now_ms() + MEM_SAMPLE_MS;

    for (;;) {
        double now = now_ms(), wake;
        struct timespec ts;

        if (inv->done)
            return;
        /* An init error is served once the runtime has exited, so that
         * everything it printed is in the tail. */
        if (e->state == ENV_DEAD && (e->reaped || e->spawn_error)) {
            env_drain_log(e);
            fail_dead_env(e, inv);
            return;
        }
        if (inv->delivered) {
            double deadline = inv->delivered_at + (double)e->fn->timeout_s * 1000.0;
            if (now >= deadline) {
                char msg[160];
                snprintf(msg, sizeof(msg), "RequestId: %s Error: Task timed out after %.2f seconds",
                         inv->request_id, (now - inv->delivered_at) / 1000.0);
                inv->duration_ms = now - inv->delivered_at;
                env_kill(e, "Sandbox.Timedout");
                env_drain_log(e);
                set_platform_error(inv, "Sandbox.Timedout", msg);
                return;
            }
            if (now >= next_sample) {
                next_sample = now + MEM_SAMPLE_MS;
                if (env_over_memory(e, false)) {
                    inv->duration_ms = now - inv->delivered_at;
                    env_kill(e, "Runtime.OutOfMemory");
                    env_drain_log(e);
                    fail_dead_env(e, inv);
                    return;
                }
            }
            wake = deadline < next_sample ? deadline : next_sample;
        } else if (e->state == ENV_QUEUED || e->state == ENV_SPAWNING) {
            /* Waiting for a spawner, or for its sandbox: no budget runs yet
             * (spawner_main); the spawner's own attempts are bounded. */
            wake = now + 1000.0;
        } else if (e->state != ENV_DEAD) {
            /* A new environment has Lambda's 10 s for init from when its
             * runtime starts; a warm one whose runtime has not yet come back
             * to /next, the function's timeout. */
            double deadline = e->state == ENV_READY
                                  ? inv->assigned_at + (double)e->fn->timeout_s * 1000.0
                                  : e->init_started_at + LAB_POOL_INIT_TIMEOUT_MS;
            if (now >= deadline) {
                char msg[160];
                double waited = now - (e->state == ENV_READY ? inv->assigned_at : e->init_started_at);
                snprintf(msg, sizeof(msg), "RequestId: %s Error: Task timed out after %.2f seconds",
                         inv->request_id, waited / 1000.0);
                inv->duration_ms = waited;
                env_kill(e, "Sandbox.Timedout");
                env_drain_log(e);
                set_platform_error(inv, "Sandbox.Timedout", msg);
                return;
            }
            /* rt_next() does not wake us when the runtime takes the
             * invocation: look again at the next sample time, so the
             * function's deadline and memory are watched from then on. */
            if (now >= next_sample)
                next_sample = now + MEM_SAMPLE_MS;
            wake = deadline < next_sample ? deadline : next_sample;
        } else {
            wake = now + TICK_MS; /* killed, waiting for the reaper */
        }
        ts = realtime_after_ms(wake - now);
        pthread_cond_timedwait(&e->cv, &p->mu, &ts);
    }
}

/* END/REPORT, peak memory, and the environment back to the pool; p->mu held. */
static void finish_invocation(lab_env *e, invocation *inv, lab_invoke_result *out)
{
    lab_log_report r;
    char after[256] = "";
    const char *after_line = NULL;
    bool first = !e->init_reported;

    if (e->state == ENV_READY && env_over_memory(e, true)) {
        /* The function went over its memory between two samples: Lambda
         * would have killed it, so its answer must not be served. */
        env_kill(e, "Runtime.OutOfMemory");
        fail_dead_env(e, inv);
    }
    if (inv->platform_error && strcmp(inv->platform_error, "Sandbox.Timedout") == 0) {
        char stamp[40];
        iso_now(stamp, sizeof(stamp));
        stamp[23] = 'Z';
        stamp[24] = '\0';
        snprintf(after, sizeof(after), "%s %s Task timed out after %.2f seconds", stamp,
                 inv->request_id, inv->duration_ms / 1000.0);
        after_line = after;
    } else if (inv->platform_error && inv->platform_message && e->log) {
        /* no log when the environment failed before its log was opened */
        char line[512];
        snprintf(line, sizeof(line), "%s\n%s", inv->platform_message, inv->platform_error);
        lab_log_line(e->log, line);
    }
    if (!inv->delivered && e->log)
        lab_log_start(e->log, inv->request_id);
    r.duration_ms = inv->duration_ms;
    r.memory_size_mb = e->fn->memory_mb;
    r.max_memory_used_mb = env_max_memory_mb(e);
    r.init_duration_ms = first && e->init_ms >= 0 ? e->init_ms : -1;
    e->init_reported = true;
    if (e->log)
        out->log_tail_b64 = lab_log_finish(e->log, inv->request_id, &r, after_line);

    memcpy(out->request_id, inv->request_id, sizeof(out->request_id));
    out->function_error = inv->function_error;
    out->payload = inv->response;
    out->payload_len = inv->response_len;
    inv->response = NULL;
    if (!out->payload) {
        out->payload = strdup("null");
        out->payload_len = 4;
    }

    e->inv = NULL;
    e->invocations++;
    e->last_used = now_ms();
    if (e->state == ENV_READY &&
        (e->generation != e->fn->generation ||
         e->last_used - e->spawned_at > (double)e->fn->max_age_s * 1000.0))
        env_kill(e, NULL);
}

/* ---------- Managed Instances invocations (API threads, p->mu held) ---------- */

/*
 * The environment of the function's current generation with a free slot
 * that already holds the most invocations, starting or ready, so that
 * overlapping requests share one environment as MI packs them; NULL when
 * every one is full.
 */
static lab_env *mi_pick_env(lab_fn *fn, int *live)
{
    lab_env *best = NULL;

    *live = 0;
    for (lab_env *e = fn->envs; e; e = e->next) {
        if (e->state == ENV_DEAD || e->generation != fn->generation)
            continue;
        (*live)++;
        if (e->inv_count < fn->max_concurrency && (!best || e->inv_count > best->inv_count))
            best = e;
    }
    return best;
}

static void mi_timed_out(lab_env *e, invocation *inv, double waited)
{
    char msg[160];

    snprintf(msg, sizeof(msg), "RequestId: %s Error: Task timed out after %.2f seconds",
             inv->request_id, waited / 1000.0);
    inv->duration_ms = waited;
    env_drain_log(e);
    set_platform_error(inv, "Sandbox.Timedout", msg);
}

/*
 * Waits for inv on an MI environment. Its timeout fails it alone: Lambda
 * does not stop the code of a timed-out MI invocation nor its environment
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-execution-environment.html);
 * a late /response is refused once it is unhooked. Memory over the size
 * and a crash end the environment and so every invocation in it.
 */
static void mi_await(lab_pool *p, lab_env *e, invocation *inv)
{
    double next_sample = now_ms() + MEM_SAMPLE_MS;

    for (;;) {
        double now = now_ms(), wake;
        struct timespec ts;

        if (inv->done)
            return;
        if (e->state == ENV_DEAD && (e->reaped || e->spawn_error)) {
            env_drain_log(e);
            fail_dead_env(e, inv);
            return;
        }
        if (e->state == ENV_DEAD) {
            wake = now + TICK_MS; /* killed, waiting for the reaper */
        } else if (inv->delivered) {
            double deadline = inv->delivered_at + (double)e->fn->timeout_s * 1000.0;
            if (now >= deadline) {
                mi_timed_out(e, inv, now - inv->delivered_at);
                return;
            }
            if (now >= next_sample) {
                next_sample = now + MEM_SAMPLE_MS;
                if (env_over_memory(e, false)) {
                    inv->duration_ms = now - inv->delivered_at;
                    env_kill(e, "Runtime.OutOfMemory");
                    env_drain_log(e);
                    fail_dead_env(e, inv);
                    return;
                }
            }
            wake = deadline < next_sample ? deadline : next_sample;
        } else if (e->state == ENV_QUEUED || e->state == ENV_SPAWNING) {
            wake = now + 1000.0; /* no budget runs yet (spawner_main) */
        } else if (e->state == ENV_INIT) {
            /* Init failing its budget ends the environment, for all. */
            double deadline = e->init_started_at + LAB_POOL_INIT_TIMEOUT_MS;
            if (now >= deadline) {
                env_kill(e, "Sandbox.Timedout");
                mi_timed_out(e, inv, now - e->init_started_at);
                return;
            }
            wake = deadline < now + MEM_SAMPLE_MS ? deadline : now + MEM_SAMPLE_MS;
        } else {
            /* Ready, every worker busy: it waits for one, within its own
             * timeout, and fails alone past it. */
            double deadline = inv->assigned_at + (double)e->fn->timeout_s * 1000.0;
            if (now >= deadline) {
                mi_timed_out(e, inv, now - inv->assigned_at);
                return;
            }
            wake = deadline < now + MEM_SAMPLE_MS ? deadline : now + MEM_SAMPLE_MS;
        }
        ts = realtime_after_ms(wake - now);
        pthread_cond_timedwait(&e->cv, &p->mu, &ts);
    }
}

/* platform.report, the shared tail, and inv unhooked from e. */
static void mi_finish(lab_env *e, invocation *inv, lab_invoke_result *out)
{
    lab_log_report r;
    const char *status;
    int i;

    if (e->state == ENV_READY && !inv->platform_error && env_over_memory(e, true)) {
        env_kill(e, "Runtime.OutOfMemory");
        fail_dead_env(e, inv);
    }
    if (inv->platform_error && strcmp(inv->platform_error, "Sandbox.Timedout") == 0)
        status = "timeout";
    else
        status = inv->function_error ? "error" : "success";
    if (e->log) {
        if (!inv->delivered)
            lab_log_json_start(e->log, inv->request_id);
        r.duration_ms = inv->duration_ms;
        r.memory_size_mb = e->fn->memory_mb;
        r.max_memory_used_mb = env_max_memory_mb(e); /* the environment's peak, shared */
        r.init_duration_ms = -1; /* platform.initReport has it */
        out->log_tail_b64 = lab_log_json_finish(e->log, inv->request_id, &r, status);
    }

    memcpy(out->request_id, inv->request_id, sizeof(out->request_id));
    out->function_error = inv->function_error;
    out->payload = inv->response;
    out->payload_len = inv->response_len;
    inv->response = NULL;
    if (!out->payload) {
        out->payload = strdup("null");
        out->payload_len = 4;
    }

    for (i = 0; i < e->inv_count && e->invs[i] != inv; i++) {
    }
    if (i < e->inv_count) {
        memmove(&e->invs[i], &e->invs[i + 1], (size_t)(e->inv_count - i - 1) * sizeof(invocation *));
        e->inv_count--;
    }
    e->invocations++;
    e->last_used = now_ms();
    /* Retired by a configuration change or age once its last invocation is done. */
    if (e->state == ENV_READY && e->inv_count == 0 &&
        (e->generation != e->fn->generation ||
         e->last_used - e->spawned_at > (double)e->fn->max_age_s * 1000.0))
        env_kill(e, NULL);
}

/* Invoke of an MI function: fn's in-flight counts are taken; p->mu held. */
static lab_pool_status mi_invoke(lab_pool *p, lab_fn *fn, invocation *inv, lab_invoke_result *out)
{
    int live;
    lab_env *e = mi_pick_env(fn, &live);

    if (!e) {
        if (live >= fn->max_envs)
            return LAB_POOL_THROTTLED_BUSY; /* backpressure: every slot is busy */
        e = env_new(fn, p);
        if (!e)
            return LAB_POOL_INTERNAL;
    }
    e->refs++;
    e->invs[e->inv_count++] = inv;
    inv->assigned_at = now_ms();
    pthread_cond_broadcast(&e->cv); /* a waiting /next takes it */
    mi_await(p, e, inv);
    mi_finish(e, inv, out);
    env_unref(e);
    return LAB_POOL_OK;
}

lab_pool_status lab_pool_invoke(lab_pool *p, const char *function, const char *payload,
                                size_t len, const char *client_context,
                                lab_invoke_result *out)
{
    return lab_pool_invoke_as(p, function, NULL, payload, len, client_context, NULL, out);
}

lab_pool_status lab_pool_invoke_as(lab_pool *p, const char *function, const char *qualifier,
                                   const char *payload, size_t len, const char *client_context,
                                   const char *request_id, lab_invoke_result *out)
{
    invocation inv;
    lab_fn *fn, *acct;
    lab_env *e;
    lab_pool_status st = LAB_POOL_OK;

    memset(out, 0, sizeof(*out));
    memset(&inv, 0, sizeof(inv));
    if (request_id && strlen(request_id) < sizeof(inv.request_id))
        snprintf(inv.request_id, sizeof(inv.request_id), "%s", request_id);
    else
        lab_id_uuid(inv.request_id);
    inv.payload = (char *)payload;
    inv.payload_len = len;
    inv.client_context = (char *)client_context;

    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        st = LAB_POOL_INTERNAL;
        goto out;
    }
    fn = resolve(p, function, qualifier, NULL);
    if (!fn) {
        st = LAB_POOL_NOT_FOUND;
        goto out;
    }
    snprintf(out->executed_version, sizeof(out->executed_version), "%s",
             fn->version[0] ? fn->version : "$LATEST");
    /* Reserved concurrency is the function's, shared by all its versions
     * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html):
     * counted on $LATEST's entry. */
    acct = fn->base ? fn->base : fn;
    refresh_update_status(fn);
    st = throttle_check(p, acct);
    if (st != LAB_POOL_OK)
        goto out;
    acct->in_flight++;
    p->in_flight++;
    if (fn->max_concurrency > 0) {
        st = mi_invoke(p, fn, &inv, out);
        acct->in_flight--;
        p->in_flight--;
        goto out;
    }
    e = pick_env(fn);
    if (!e) {
        e = env_new(fn, p);
        if (!e) {
            acct->in_flight--;
            p->in_flight--;
            st = LAB_POOL_INTERNAL;
            goto out;
        }
    }
    e->refs++;
    e->inv = &inv;
    inv.assigned_at = now_ms();
    pthread_cond_broadcast(&e->cv); /* rt_next() thaws the environment */
    await_invocation(p, e, &inv);
    finish_invocation(e, &inv, out);
    acct->in_flight--;
    p->in_flight--;
    env_unref(e);
out:
    pthread_mutex_unlock(&p->mu);
    free(inv.response);
    free(inv.platform_error);
    free(inv.platform_message);
    return st;
}

void lab_pool_result_clear(lab_invoke_result *r)
{
    free(r->payload);
    free(r->log_tail_b64);
    memset(r, 0, sizeof(*r));
}

/* ---------- Event invocations ---------- */

static void *event_worker(void *arg)
{
    lab_pool *p = arg;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        event_item *it;
        double started;

        while (!p->ev_head && !p->stopping)
            pthread_cond_wait(&p->ev_cv, &p->mu);
        if (p->stopping)
            break;
        it = p->ev_head;
        p->ev_head = it->next;
        if (!p->ev_head)
            p->ev_tail = NULL;
        p->ev_count--;
        pthread_mutex_unlock(&p->mu);

        /* Lambda retries throttled events; the lab does for a minute. */
        started = now_ms();
        for (;;) {
            lab_invoke_result r;
            lab_pool_status st = lab_pool_invoke_as(p, it->function, it->qualifier, it->payload,
                                                    it->len, NULL, NULL, &r);
            lab_pool_result_clear(&r);
            if ((st != LAB_POOL_THROTTLED_RESERVED && st != LAB_POOL_THROTTLED_ACCOUNT &&
                 st != LAB_POOL_THROTTLED_BUSY) ||
                now_ms() - started > EVENT_RETRY_LIMIT_MS)
                break;
            pthread_mutex_lock(&p->mu);
            if (p->stopping) {
                pthread_mutex_unlock(&p->mu);
                break;
            }
            pthread_mutex_unlock(&p->mu);
            usleep(EVENT_RETRY_MS * 1000);
        }
        free(it->function);
        free(it->qualifier);
        free(it->payload);
        free(it);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

lab_pool_status lab_pool_invoke_async(lab_pool *p, const char *function, const char *qualifier,
                                      const char *payload, size_t len)
{
    event_item *it;
    lab_pool_status st = LAB_POOL_OK;

    pthread_mutex_lock(&p->mu);
    if (!resolve(p, function, qualifier, NULL)) {
        st = LAB_POOL_NOT_FOUND;
        goto out;
    }
    if (p->ev_count >= LAB_POOL_MAX_QUEUED_EVENTS) {
        st = LAB_POOL_THROTTLED_ACCOUNT;
        goto out;
    }
    it = calloc(1, sizeof(*it));
    if (!it || !(it->function = strdup(function)) || !(it->payload = memdup0(payload, len)) ||
        (qualifier && qualifier[0] && !(it->qualifier = strdup(qualifier)))) {
        if (it) {
            free(it->function);
            free(it->payload);
        }
        free(it);
        st = LAB_POOL_INTERNAL;
        goto out;
    }
    it->len = len;
    if (p->ev_tail)
        p->ev_tail->next = it;
    else
        p->ev_head = it;
    p->ev_tail = it;
    p->ev_count++;
    pthread_cond_signal(&p->ev_cv);
out:
    pthread_mutex_unlock(&p->mu);
    return st;
}

/* ---------- configuration API ---------- */

static void stamp_update(lab_fn *fn)
{
    lab_id_uuid(fn->revision_id);
    iso_now(fn->last_modified, sizeof(fn->last_modified));
}

/* arn: the FunctionArn to show (an alias's ARN when asked through one),
 * or NULL: the entry's own. */
static cJSON *config_json_as(lab_pool *p, lab_fn *fn, const char *arn)
{
    cJSON *o = cJSON_CreateObject(), *env, *vars, *arch, *eph, *state;
    bool in_progress;

    refresh_update_status(fn);
    in_progress = fn->update_done_at > 0;
    cJSON_AddStringToObject(o, "FunctionName", fn->name);
    cJSON_AddStringToObject(o, "FunctionArn", arn ? arn : fn->arn);
    cJSON_AddStringToObject(o, "Runtime", fn->runtime);
    {
        char role[256];
        snprintf(role, sizeof(role), "arn:aws:iam::%s:role/coldsec-lab-%s", p->account, fn->name);
        cJSON_AddStringToObject(o, "Role", role);
    }
    cJSON_AddStringToObject(o, "Handler", fn->handler ? fn->handler : "bootstrap");
    cJSON_AddStringToObject(o, "Description", fn->description ? fn->description : "");
    cJSON_AddNumberToObject(o, "Timeout", fn->timeout_s);
    cJSON_AddNumberToObject(o, "MemorySize", fn->memory_mb);
    cJSON_AddStringToObject(o, "LastModified", fn->last_modified);
    cJSON_AddStringToObject(o, "Version", fn->version[0] ? fn->version : "$LATEST");
    env = cJSON_AddObjectToObject(o, "Environment");
    vars = cJSON_AddObjectToObject(env, "Variables");
    for (size_t i = 0; i < fn->env_count; i++)
        cJSON_AddStringToObject(vars, fn->env[i].key, fn->env[i].value);
    /* Lambda leaves the key out for its own key, as scenarios expect. */
    if (fn->kms_key_arn)
        cJSON_AddStringToObject(o, "KMSKeyArn", fn->kms_key_arn);
    cJSON_AddStringToObject(o, "RevisionId", fn->revision_id);
    cJSON_AddStringToObject(o, "State", "Active");
    cJSON_AddStringToObject(o, "LastUpdateStatus", in_progress ? "InProgress" : "Successful");
    if (in_progress) {
        cJSON_AddStringToObject(o, "LastUpdateStatusReason", "The function is being updated.");
        cJSON_AddStringToObject(o, "LastUpdateStatusReasonCode", "Updating");
    }
    cJSON_AddStringToObject(o, "PackageType", "Zip");
    arch = cJSON_AddArrayToObject(o, "Architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("x86_64"));
    eph = cJSON_AddObjectToObject(o, "EphemeralStorage");
    cJSON_AddNumberToObject(eph, "Size", fn->ephemeral_storage_mb);
    if (fn->max_concurrency > 0) {
        /* API_LambdaManagedInstancesCapacityProviderConfig (Lambda API
         * Reference); the provider is the lab's one, named coldsec-lab. */
        cJSON *cpc = cJSON_AddObjectToObject(o, "CapacityProviderConfig");
        cJSON *mi = cJSON_AddObjectToObject(cpc, "LambdaManagedInstancesCapacityProviderConfig");
        char cp[256];
        snprintf(cp, sizeof(cp), "arn:aws:lambda:%s:%s:capacity-provider:coldsec-lab", p->region,
                 p->account);
        cJSON_AddStringToObject(mi, "CapacityProviderArn", cp);
        cJSON_AddNumberToObject(mi, "PerExecutionEnvironmentMaxConcurrency", fn->max_concurrency);
        cJSON_AddNumberToObject(mi, "ExecutionEnvironmentMemoryGiBPerVCpu", 2.0);
    }
    state = cJSON_AddObjectToObject(o, "LoggingConfig");
    /* MI support only JSON logs
     * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html). */
    cJSON_AddStringToObject(state, "LogFormat", fn->max_concurrency > 0 ? "JSON" : "Text");
    {
        char group[256];
        snprintf(group, sizeof(group), "/aws/lambda/%s", fn->name);
        cJSON_AddStringToObject(state, "LogGroup", group);
    }
    return o;
}

static cJSON *config_json(lab_pool *p, lab_fn *fn)
{
    return config_json_as(p, fn, NULL);
}

cJSON *lab_pool_get_configuration(lab_pool *p, const char *function, const char *qualifier,
                                  lab_pool_status *st)
{
    cJSON *o = NULL;
    lab_pool_alias *alias;
    lab_fn *fn;

    pthread_mutex_lock(&p->mu);
    fn = resolve(p, function, qualifier, &alias);
    if (fn) {
        o = config_json_as(p, fn, alias ? alias->arn : NULL);
        *st = o ? LAB_POOL_OK : LAB_POOL_INTERNAL;
    } else {
        *st = LAB_POOL_NOT_FOUND;
    }
    pthread_mutex_unlock(&p->mu);
    return o;
}

cJSON *lab_pool_get_function(lab_pool *p, const char *function, const char *qualifier,
                             lab_pool_status *st)
{
    cJSON *o = NULL, *code, *conc;
    lab_pool_alias *alias;
    lab_fn *fn;

    pthread_mutex_lock(&p->mu);
    fn = resolve(p, function, qualifier, &alias);
    if (!fn) {
        *st = LAB_POOL_NOT_FOUND;
        goto out;
    }
    o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "Configuration", config_json_as(p, fn, alias ? alias->arn : NULL));
    code = cJSON_AddObjectToObject(o, "Code");
    cJSON_AddStringToObject(code, "RepositoryType", "Local");
    cJSON_AddStringToObject(code, "Location", fn->code_dir);
    if (fn->reserved >= 0) {
        conc = cJSON_AddObjectToObject(o, "Concurrency");
        cJSON_AddNumberToObject(conc, "ReservedConcurrentExecutions", fn->reserved);
    }
    *st = LAB_POOL_OK;
out:
    pthread_mutex_unlock(&p->mu);
    return o;
}

cJSON *lab_pool_list_functions(lab_pool *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "Functions");

    pthread_mutex_lock(&p->mu);
    /* ListFunctions shows each function's $LATEST only (its
     * FunctionVersion=ALL would add the versions). */
    for (size_t i = 0; i < p->fn_count; i++)
        if (!p->fns[i].base)
            cJSON_AddItemToArray(arr, config_json(p, &p->fns[i]));
    pthread_mutex_unlock(&p->mu);
    return o;
}

/* Checks and copies Environment.Variables; NULL + msg on refusal. */
static lab_kv *parse_env_update(const cJSON *vars, size_t *count, char *msg, size_t msglen)
{
    const cJSON *it;
    size_t n = 0, total = 0, i = 0;
    lab_kv *kv;

    if (vars && !cJSON_IsObject(vars)) {
        snprintf(msg, msglen, "Environment.Variables must be a map of strings");
        return NULL;
    }
    cJSON_ArrayForEach(it, vars) {
        if (!cJSON_IsString(it)) {
            snprintf(msg, msglen, "Environment variable %s must be a string", it->string);
            return NULL;
        }
        if (!lab_config_env_name_ok(it->string)) {
            snprintf(msg, msglen,
                     "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: "
                     "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]");
            return NULL;
        }
        if (lab_config_env_reserved(it->string)) {
            snprintf(msg, msglen,
                     "Lambda was unable to configure your environment variables because the environment "
                     "variables you have provided contains reserved keys that are currently not supported "
                     "for modification. Reserved keys used in this request: %s", it->string);
            return NULL;
        }
        total += strlen(it->string) + strlen(it->valuestring);
        n++;
    }
    if (total > LAB_CONFIG_MAX_ENV_BYTES || n > LAB_CONFIG_MAX_ENV) {
        snprintf(msg, msglen,
                 "Lambda was unable to configure your environment variables because the environment "
                 "variables you have provided exceeded the 4KB limit. String measured: %zu", total);
        return NULL;
    }
    kv = calloc(n ? n : 1, sizeof(*kv));
    if (!kv) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    cJSON_ArrayForEach(it, vars) {
        kv[i].key = strdup(it->string);
        kv[i].value = strdup(it->valuestring);
        i++;
    }
    *count = n;
    return kv;
}

static void free_kv(lab_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

/* Retires every idle environment now; busy ones go after their invocation. */
static void retire_generation(lab_fn *fn)
{
    fn->generation++;
    for (lab_env *e = fn->envs; e; e = e->next)
        if (!env_busy(e) && e->state != ENV_DEAD)
            env_kill(e, NULL);
}

cJSON *lab_pool_update_configuration(lab_pool *p, const char *function, const cJSON *req,
                                     lab_pool_status *st, char *msg, size_t msglen)
{
    cJSON *out = NULL;
    const cJSON *rev, *envo, *vars, *mem, *tmo, *desc;
    lab_fn *fn;
    lab_kv *kv = NULL;
    size_t kvn = 0;

    pthread_mutex_lock(&p->mu);
    fn = find_fn(p, function);
    if (!fn) {
        *st = LAB_POOL_NOT_FOUND;
        goto out;
    }
    refresh_update_status(fn);
    if (fn->update_done_at > 0) {
        snprintf(msg, msglen,
                 "The operation cannot be performed at this time. An update is in progress for resource: %s",
                 fn->arn);
        *st = LAB_POOL_CONFLICT;
        goto out;
    }
    rev = cJSON_GetObjectItemCaseSensitive(req, "RevisionId");
    if (rev && (!cJSON_IsString(rev) || strcmp(rev->valuestring, fn->revision_id) != 0)) {
        snprintf(msg, msglen,
                 "The Revision Id provided does not match the latest Revision Id. "
                 "Call the GetFunction/GetAlias API to retrieve the latest Revision Id");
        *st = LAB_POOL_PRECONDITION;
        goto out;
    }
    mem = cJSON_GetObjectItemCaseSensitive(req, "MemorySize");
    tmo = cJSON_GetObjectItemCaseSensitive(req, "Timeout");
    desc = cJSON_GetObjectItemCaseSensitive(req, "Description");
    envo = cJSON_GetObjectItemCaseSensitive(req, "Environment");
    if (mem && (!cJSON_IsNumber(mem) || mem->valuedouble < 128 || mem->valuedouble > 10240 ||
                mem->valuedouble != floor(mem->valuedouble))) {
        snprintf(msg, msglen, "1 validation error detected: Value at 'memorySize' failed to satisfy constraint: "
                              "Member must have value between 128 and 10240");
        *st = LAB_POOL_INVALID;
        goto out;
    }
    if (tmo && (!cJSON_IsNumber(tmo) || tmo->valuedouble < 1 || tmo->valuedouble > 900 ||
                tmo->valuedouble != floor(tmo->valuedouble))) {
        snprintf(msg, msglen, "1 validation error detected: Value at 'timeout' failed to satisfy constraint: "
                              "Member must have value between 1 and 900");
        *st = LAB_POOL_INVALID;
        goto out;
    }
    if (desc && (!cJSON_IsString(desc) || strlen(desc->valuestring) > 256)) {
        snprintf(msg, msglen, "Description must be a string of at most 256 characters");
        *st = LAB_POOL_INVALID;
        goto out;
    }
    if (envo) {
        if (!cJSON_IsObject(envo)) {
            snprintf(msg, msglen, "Environment must be an object");
            *st = LAB_POOL_INVALID;
            goto out;
        }
        vars = cJSON_GetObjectItemCaseSensitive(envo, "Variables");
        kv = parse_env_update(vars, &kvn, msg, msglen);
        if (!kv) {
            *st = LAB_POOL_INVALID;
            goto out;
        }
        free_kv(fn->env, fn->env_count);
        fn->env = kv;
        fn->env_count = kvn;
    }
    if (mem)
        fn->memory_mb = (int)mem->valuedouble;
    if (tmo)
        fn->timeout_s = (int)tmo->valuedouble;
    if (desc) {
        char *d = strdup(desc->valuestring);
        if (d) {
            free(fn->description);
            fn->description = d;
        }
    }
    stamp_update(fn);
    retire_generation(fn);
    fn->update_done_at = p->update_delay_ms > 0 ? now_ms() + p->update_delay_ms : 0;
    out = config_json(p, fn);
    *st = LAB_POOL_OK;
out:
    pthread_mutex_unlock(&p->mu);
    return out;
}

lab_pool_status lab_pool_set_concurrency(lab_pool *p, const char *function, int n)
{
    lab_fn *fn;
    lab_pool_status st = LAB_POOL_OK;

    pthread_mutex_lock(&p->mu);
    fn = find_fn(p, function);
    if (!fn)
        st = LAB_POOL_NOT_FOUND;
    else if (n > 0 && reserved_total(p, fn) + n > p->account_limit - LAB_POOL_MIN_UNRESERVED)
        st = LAB_POOL_INVALID;
    else
        fn->reserved = n < 0 ? -1 : n;
    pthread_mutex_unlock(&p->mu);
    return st;
}

lab_pool_status lab_pool_get_concurrency(lab_pool *p, const char *function, int *n)
{
    lab_fn *fn;
    lab_pool_status st = LAB_POOL_OK;

    pthread_mutex_lock(&p->mu);
    fn = find_fn(p, function);
    if (!fn)
        st = LAB_POOL_NOT_FOUND;
    else
        *n = fn->reserved;
    pthread_mutex_unlock(&p->mu);
    return st;
}

/* ---------- versions and aliases ---------- */

static lab_pool_status version_copy(lab_fn *v, const lab_fn *fn, int number, const char *desc)
{
    char arn[600];

    memset(v, 0, sizeof(*v));
    snprintf(v->version, sizeof(v->version), "%d", number);
    snprintf(arn, sizeof(arn), "%s:%d", fn->arn, number);
    v->base = (lab_fn *)fn;
    v->name = strdup(fn->name);
    v->arn = strdup(arn);
    v->runtime = strdup(fn->runtime);
    v->kind = fn->kind;
    v->handler = xstrdup(fn->handler);
    v->code_dir = strdup(fn->code_dir);
    v->description = strdup(desc ? desc : fn->description);
    v->memory_mb = fn->memory_mb;
    v->timeout_s = fn->timeout_s;
    v->idle_timeout_s = fn->idle_timeout_s;
    v->max_age_s = fn->max_age_s;
    v->host_network = fn->host_network;
    v->kms_key_arn = xstrdup(fn->kms_key_arn);
    v->ephemeral_storage_mb = fn->ephemeral_storage_mb;
    v->cov_path = xstrdup(fn->cov_path);
    v->reserved = -1; /* reservations are the function's: see throttle_check() */
    v->max_concurrency = fn->max_concurrency;
    v->max_envs = fn->max_envs;
    v->env = calloc(fn->env_count ? fn->env_count : 1, sizeof(lab_kv));
    if (!v->name || !v->arn || !v->runtime || !v->code_dir || !v->description || !v->env ||
        (fn->handler && !v->handler) || (fn->kms_key_arn && !v->kms_key_arn) ||
        (fn->cov_path && !v->cov_path))
        return LAB_POOL_INTERNAL;
    for (size_t i = 0; i < fn->env_count; i++) {
        v->env[i].key = strdup(fn->env[i].key);
        v->env[i].value = strdup(fn->env[i].value);
        v->env_count = i + 1;
        if (!v->env[i].key || !v->env[i].value)
            return LAB_POOL_INTERNAL;
    }
    stamp_update(v);
    return LAB_POOL_OK;
}

/*
 * PublishVersion (https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html):
 * "Lambda doesn't publish a version if the function's configuration and code
 * haven't changed since the last version" — the last version is answered.
 * A version's configuration is then immutable
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html);
 * the lab's code folder is never replaced, so the RevisionId of $LATEST at
 * the last publish tells whether anything changed.
 */
cJSON *lab_pool_publish_version(lab_pool *p, const char *function, const cJSON *req,
                                bool *created, lab_pool_status *st, char *msg, size_t msglen)
{
    const cJSON *rev = cJSON_GetObjectItemCaseSensitive(req, "RevisionId");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(req, "Description");
    cJSON *out = NULL;
    lab_fn *fn, *v;
    char num[12];

    *created = false;
    pthread_mutex_lock(&p->mu);
    fn = find_fn(p, function);
    if (!fn) {
        *st = LAB_POOL_NOT_FOUND;
        goto out;
    }
    refresh_update_status(fn);
    if (fn->update_done_at > 0) {
        snprintf(msg, msglen,
                 "The operation cannot be performed at this time. An update is in progress for resource: %s",
                 fn->arn);
        *st = LAB_POOL_CONFLICT;
        goto out;
    }
    if ((rev && (!cJSON_IsString(rev) || strcmp(rev->valuestring, fn->revision_id) != 0))) {
        snprintf(msg, msglen,
                 "The Revision Id provided does not match the latest Revision Id. "
                 "Call the GetFunction/GetAlias API to retrieve the latest Revision Id");
        *st = LAB_POOL_PRECONDITION;
        goto out;
    }
    if (desc && !cJSON_IsString(desc)) {
        snprintf(msg, msglen, "Description must be a string.");
        *st = LAB_POOL_INVALID;
        goto out;
    }
    if (fn->last_version > 0 && strcmp(fn->published_revision, fn->revision_id) == 0) {
        snprintf(num, sizeof(num), "%d", fn->last_version);
        v = find_version(p, fn, num);
        out = v ? config_json(p, v) : NULL;
        *st = out ? LAB_POOL_OK : LAB_POOL_INTERNAL;
        goto out;
    }
    if (fn->last_version >= LAB_POOL_MAX_VERSIONS || p->fn_count >= p->fn_cap) {
        snprintf(msg, msglen, "The lab keeps at most %d versions of a function.", LAB_POOL_MAX_VERSIONS);
        *st = LAB_POOL_INVALID;
        goto out;
    }
    v = &p->fns[p->fn_count++];
    if (version_copy(v, fn, fn->last_version + 1, desc ? desc->valuestring : NULL) != LAB_POOL_OK) {
        *st = LAB_POOL_INTERNAL; /* the entry stays (freed with the pool) but is never found */
        v->base = NULL;
        free(v->name);
        v->name = strdup("");
        goto out;
    }
    fn->last_version++;
    snprintf(fn->published_revision, sizeof(fn->published_revision), "%s", fn->revision_id);
    out = config_json(p, v);
    *created = true;
    *st = out ? LAB_POOL_OK : LAB_POOL_INTERNAL;
out:
    pthread_mutex_unlock(&p->mu);
    return out;
}

/* https://docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html:
 * $LATEST first, then the versions in order. The lab answers every one in
 * one page (no NextMarker). */
cJSON *lab_pool_list_versions(lab_pool *p, const char *function, lab_pool_status *st)
{
    cJSON *o = NULL, *arr;
    lab_fn *fn;

    pthread_mutex_lock(&p->mu);
    fn = find_fn(p, function);
    if (!fn) {
        *st = LAB_POOL_NOT_FOUND;
        goto out;
    }
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "Versions");
    cJSON_AddItemToArray(arr, config_json(p, fn));
    for (size_t i = 0; i < p->fn_count; i++)
        if (p->fns[i].base == fn)
            cJSON_AddItemToArray(arr, config_json(p, &p->fns[i]));
    *st = LAB_POOL_OK;
out:
    pthread_mutex_unlock(&p->mu);
    return o;
}

/* AliasConfiguration (https://docs.aws.amazon.com/lambda/latest/api/API_AliasConfiguration.html). */
static cJSON *alias_json(const lab_pool_alias *a)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "AliasArn", a->arn);
    cJSON_AddStringToObject(o, "Name", a->name);
    cJSON_AddStringToObject(o, "FunctionVersion", a->version);
    cJSON_AddStringToObject(o, "Description", a->description ? a->description : "");
    cJSON_AddStringToObject(o, "RevisionId", a->revision_id);
    return o;
}

/* Name: (?!^[0-9]+$)([a-zA-Z0-9-_]+), 1..128 (API_CreateAlias.html). */
static bool alias_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > LAB_POOL_MAX_ALIAS_NAME || all_digits(s))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

/* FunctionVersion: $LATEST or a published version; 0, or the status and
 * Lambda's message. p->mu held. */
static lab_pool_status alias_target(lab_pool *p, lab_fn *fn, const cJSON *ver, char *msg,
                                    size_t msglen)
{
    if (!cJSON_IsString(ver) || (strcmp(ver->valuestring, "$LATEST") != 0 && !all_digits(ver->valuestring)) ||
        strlen(ver->valuestring) >= sizeof(((lab_pool_alias *)0)->version)) {
        snprintf(msg, msglen, "FunctionVersion must be $LATEST or a version number.");
        return LAB_POOL_INVALID;
    }
    if (strcmp(ver->valuestring, "$LATEST") != 0 && !find_version(p, fn, ver->valuestring)) {
        snprintf(msg, msglen, "Function not found: %s:%s", fn->arn, ver->valuestring);
        return LAB_POOL_NOT_FOUND;
    }
    return LAB_POOL_OK;
}

static lab_pool_status set_description(lab_pool_alias *a, const cJSON *desc, char *msg, size_t msglen)
{
    char *d;

    if (!desc)
        return LAB_POOL_OK;
    if (!cJSON_IsString(desc)) {
        snprintf(msg, msglen, "Description must be a string.");
        return LAB_POOL_INVALID;
    }
    d = strdup(desc->valuestring);
    if (!d)
        return LAB_POOL_INTERNAL;
    free(a->description);
    a->description = d;
    return LAB_POOL_OK;
}

cJSON *lab_pool_create_alias(lab_pool *p, const char *function, const cJSON *req,
                             lab_pool_status *st, char *msg, size_t msglen)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, "Name");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(req, "FunctionVersion");
    cJSON *out = NULL;
    lab_pool_alias *a;
    lab_fn *fn;

    pthread_mutex_lock(&p->mu);
    fn = find_fn(p, function);
    if (!fn) {
        *st = LAB_POOL_NOT_FOUND;
        goto out;
    }
    if (!cJSON_IsString(name) || !alias_name_ok(name->valuestring)) {
        snprintf(msg, msglen, "Name must be 1 to 128 letters, digits, '-' or '_', and not only digits.");
        *st = LAB_POOL_INVALID;
        goto out;
    }
    *st = alias_target(p, fn, ver, msg, msglen);
    if (*st != LAB_POOL_OK)
        goto out;
    if (find_alias(fn, name->valuestring)) {
        snprintf(msg, msglen, "Alias already exists: %s:%s", fn->arn, name->valuestring);
        *st = LAB_POOL_CONFLICT;
        goto out;
    }
    if (fn->alias_count >= LAB_POOL_MAX_ALIASES) {
        snprintf(msg, msglen, "The lab keeps at most %d aliases of a function.", LAB_POOL_MAX_ALIASES);
        *st = LAB_POOL_INVALID;
        goto out;
    }
    a = &fn->aliases[fn->alias_count];
    memset(a, 0, sizeof(*a));
    snprintf(a->name, sizeof(a->name), "%s", name->valuestring);
    snprintf(a->version, sizeof(a->version), "%s", ver->valuestring);
    snprintf(a->arn, sizeof(a->arn), "%s:%s", fn->arn, name->valuestring);
    lab_id_uuid(a->revision_id);
    *st = set_description(a, cJSON_GetObjectItemCaseSensitive(req, "Description"), msg, msglen);
    if (*st != LAB_POOL_OK) {
        free(a->description);
        goto out;
    }
    fn->alias_count++;
    out = alias_json(a);
out:
    pthread_mutex_unlock(&p->mu);
    return out;
}

/* p->mu held; Lambda's message for an alias it does not have. */
static lab_pool_alias *alias_or_404(lab_pool *p, const char *function, const char *alias,
                                    lab_fn **fn_out, lab_pool_status *st, char *msg, size_t msglen)
{
    lab_fn *fn = find_fn(p, function);
    lab_pool_alias *a = fn ? find_alias(fn, alias) : NULL;

    *fn_out = fn;
    if (!a) {
        *st = LAB_POOL_NOT_FOUND;
        snprintf(msg, msglen, "Alias not found: arn:aws:lambda:%s:%s:function:%s:%s", p->region,
                 p->account, function, alias);
    } else {
        *st = LAB_POOL_OK;
    }
    return a;
}

cJSON *lab_pool_get_alias(lab_pool *p, const char *function, const char *alias,
                          lab_pool_status *st, char *msg, size_t msglen)
{
    cJSON *out = NULL;
    lab_fn *fn;
    lab_pool_alias *a;

    pthread_mutex_lock(&p->mu);
    a = alias_or_404(p, function, alias, &fn, st, msg, msglen);
    if (a)
        out = alias_json(a);
    pthread_mutex_unlock(&p->mu);
    return out;
}

/* https://docs.aws.amazon.com/lambda/latest/api/API_UpdateAlias.html */
cJSON *lab_pool_update_alias(lab_pool *p, const char *function, const char *alias,
                             const cJSON *req, lab_pool_status *st, char *msg, size_t msglen)
{
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(req, "FunctionVersion");
    const cJSON *rev = cJSON_GetObjectItemCaseSensitive(req, "RevisionId");
    cJSON *out = NULL;
    lab_fn *fn;
    lab_pool_alias *a;

    pthread_mutex_lock(&p->mu);
    a = alias_or_404(p, function, alias, &fn, st, msg, msglen);
    if (!a)
        goto out;
    if (rev && (!cJSON_IsString(rev) || strcmp(rev->valuestring, a->revision_id) != 0)) {
        snprintf(msg, msglen,
                 "The Revision Id provided does not match the latest Revision Id. "
                 "Call the GetFunction/GetAlias API to retrieve the latest Revision Id");
        *st = LAB_POOL_PRECONDITION;
        goto out;
    }
    if (ver) {
        *st = alias_target(p, fn, ver, msg, msglen);
        if (*st != LAB_POOL_OK)
            goto out;
    }
    *st = set_description(a, cJSON_GetObjectItemCaseSensitive(req, "Description"), msg, msglen);
    if (*st != LAB_POOL_OK)
        goto out;
    if (ver)
        snprintf(a->version, sizeof(a->version), "%s", ver->valuestring);
    lab_id_uuid(a->revision_id);
    out = alias_json(a);
out:
    pthread_mutex_unlock(&p->mu);
    return out;
}

/* https://docs.aws.amazon.com/lambda/latest/api/API_DeleteAlias.html: 204,
 * also when the alias does not exist (the function must). */
lab_pool_status lab_pool_delete_alias(lab_pool *p, const char *function, const char *alias)
{
    lab_pool_status st = LAB_POOL_OK;
    lab_fn *fn;
    lab_pool_alias *a;

    pthread_mutex_lock(&p->mu);
    fn = find_fn(p, function);
    if (!fn) {
        st = LAB_POOL_NOT_FOUND;
        goto out;
    }
    a = find_alias(fn, alias);
    if (a) {
        size_t i = (size_t)(a - fn->aliases);
        free(a->description);
        memmove(&fn->aliases[i], &fn->aliases[i + 1], (fn->alias_count - i - 1) * sizeof(*a));
        fn->alias_count--;
    }
out:
    pthread_mutex_unlock(&p->mu);
    return st;
}

/* https://docs.aws.amazon.com/lambda/latest/api/API_ListAliases.html */
cJSON *lab_pool_list_aliases(lab_pool *p, const char *function, const char *version,
                             lab_pool_status *st)
{
    cJSON *o = NULL, *arr;
    lab_fn *fn;

    pthread_mutex_lock(&p->mu);
    fn = find_fn(p, function);
    if (!fn) {
        *st = LAB_POOL_NOT_FOUND;
        goto out;
    }
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "Aliases");
    for (size_t i = 0; i < fn->alias_count; i++)
        if (!version || strcmp(version, fn->aliases[i].version) == 0)
            cJSON_AddItemToArray(arr, alias_json(&fn->aliases[i]));
    *st = LAB_POOL_OK;
out:
    pthread_mutex_unlock(&p->mu);
    return o;
}

lab_pool_status lab_pool_resolve_arn(lab_pool *p, const char *function, const char *qualifier,
                                     char *arn, size_t arnlen)
{
    lab_pool_alias *alias;
    lab_fn *fn;
    lab_pool_status st = LAB_POOL_NOT_FOUND;

    pthread_mutex_lock(&p->mu);
    fn = resolve(p, function, qualifier, &alias);
    if (fn) {
        snprintf(arn, arnlen, "%s", alias ? alias->arn : fn->arn);
        st = LAB_POOL_OK;
    }
    pthread_mutex_unlock(&p->mu);
    return st;
}

/* Bytes of the regular files under dir (depth-bounded; symlinks not followed). */
static long long dir_bytes(const char *dir, int depth)
{
    long long total = 0;
    DIR *d = depth > 0 ? opendir(dir) : NULL;
    struct dirent *de;

    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat sb;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
            lstat(path, &sb) != 0)
            continue;
        if (S_ISREG(sb.st_mode))
            total += (long long)sb.st_size;
        else if (S_ISDIR(sb.st_mode))
            total += dir_bytes(path, depth - 1);
    }
    closedir(d);
    return total;
}

/*
 * GetAccountSettings (https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html,
 * API_AccountLimit.html, API_AccountUsage.html): the code-size quotas are
 * Lambda's defaults (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html:
 * 75 GB of code storage, 250 MB unzipped, 50 MB zipped upload);
 * ConcurrentExecutions is the lab's account limit and
 * UnreservedConcurrentExecutions what reservations leave of it. Usage counts
 * each function's code folder once per version, as Lambda stores each.
 */
cJSON *lab_pool_account_settings(lab_pool *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *lim = cJSON_AddObjectToObject(o, "AccountLimit");
    cJSON *use = cJSON_AddObjectToObject(o, "AccountUsage");
    long long code = 0;
    int functions = 0;

    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->fn_count; i++) {
        if (!p->fns[i].base)
            functions++;
        if (p->fns[i].name[0])
            code += dir_bytes(p->fns[i].code_dir, 16);
    }
    cJSON_AddNumberToObject(lim, "TotalCodeSize", 80530636800.0);
    cJSON_AddNumberToObject(lim, "CodeSizeUnzipped", 262144000);
    cJSON_AddNumberToObject(lim, "CodeSizeZipped", 52428800);
    cJSON_AddNumberToObject(lim, "ConcurrentExecutions", p->account_limit);
    cJSON_AddNumberToObject(lim, "UnreservedConcurrentExecutions",
                            p->account_limit - reserved_total(p, NULL));
    cJSON_AddNumberToObject(use, "TotalCodeSize", (double)code);
    cJSON_AddNumberToObject(use, "FunctionCount", functions);
    pthread_mutex_unlock(&p->mu);
    return o;
}

bool lab_pool_has_function(lab_pool *p, const char *function)
{
    bool has;
    pthread_mutex_lock(&p->mu);
    has = find_fn(p, function) != NULL;
    pthread_mutex_unlock(&p->mu);
    return has;
}

const char *lab_pool_region(const lab_pool *p)
{
    return p->region;
}

const char *lab_pool_account(const lab_pool *p)
{
    return p->account;
}

int lab_pool_environment_count(lab_pool *p, const char *function)
{
    int n = 0;
    lab_fn *fn;

    pthread_mutex_lock(&p->mu);
    fn = find_fn(p, function);
    if (fn)
        for (lab_env *e = fn->envs; e; e = e->next)
            if (e->state != ENV_DEAD)
                n++;
    pthread_mutex_unlock(&p->mu);
    return n;
}

/* ---------- main loop ---------- */

static lab_env *env_by_pid(lab_pool *p, pid_t pid)
{
    for (size_t i = 0; i < p->fn_count; i++)
        for (lab_env *e = p->fns[i].envs; e; e = e->next)
            if (e->pid == pid)
                return e;
    return NULL;
}

static void reap(lab_pool *p)
{
    struct signalfd_siginfo si;
    int status;
    pid_t pid;

    while (read(p->sigchld_fd, &si, sizeof(si)) == sizeof(si)) {
        /* drain: one waitpid loop below serves every queued SIGCHLD */
    }
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        lab_env *e;
        pthread_mutex_lock(&p->mu);
        e = env_by_pid(p, pid);
        if (e) {
            e->reaped = true;
            e->wait_status = status;
            if (e->state != ENV_DEAD)
                env_kill(e, NULL);
            pthread_cond_broadcast(&e->cv);
        } else if (p->unclaimed_count < UNCLAIMED_MAX) {
            /* Forked, but its spawner has not recorded the pid yet; or an
             * orphan of an environment (the lab is their child subreaper,
             * see lab_main.c), which housekeeping forgets. */
            p->unclaimed[p->unclaimed_count++] =
                (unclaimed_child){.pid = pid, .status = status, .at = now_ms()};
        }
        pthread_mutex_unlock(&p->mu);
    }
}

/* Idle and old environments go; dead ones are torn down outside the lock
 * (stopping a daemon waits for its threads, which take the lock). */
static void housekeeping(lab_pool *p, bool all)
{
    lab_env *gone = NULL;
    double now = now_ms();

    lab_sandbox_cache_trim(p->sandbox_cache);
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->unclaimed_count;) {
        if (now - p->unclaimed[i].at > UNCLAIMED_KEEP_MS) {
            p->unclaimed[i] = p->unclaimed[--p->unclaimed_count];
        } else {
            i++;
        }
    }
    for (size_t i = 0; i < p->fn_count; i++) {
        lab_fn *fn = &p->fns[i];
        lab_env **pp = &fn->envs;
        refresh_update_status(fn);
        while (*pp) {
            lab_env *e = *pp;
            bool idle_too_long = e->state == ENV_READY && !env_busy(e) &&
                                 (now - e->last_used > (double)fn->idle_timeout_s * 1000.0 ||
                                  now - e->spawned_at > (double)fn->max_age_s * 1000.0);
            if ((all && e->state != ENV_DEAD) || idle_too_long)
                env_kill(e, NULL);
            if (e->state == ENV_DEAD && e->reaped && !env_busy(e)) {
                *pp = e->next;
                e->next = gone;
                gone = e;
                continue;
            }
            pp = &e->next;
        }
    }
    pthread_mutex_unlock(&p->mu);

    while (gone) {
        lab_env *e = gone;
        gone = e->next;
        lab_runtime_api_stop(&e->rt);
        lab_cgroup_env_free(&e->cg); /* off the lock: kills stragglers, removes the folder */
        pthread_mutex_lock(&p->mu);
        if (e->log_in_epoll) {
            epoll_ctl(p->epfd, EPOLL_CTL_DEL, e->log_fd, NULL);
            e->log_in_epoll = false;
        }
        env_drain_log(e);
        env_unref(e);
        pthread_mutex_unlock(&p->mu);
    }
    lab_cgroup_sweep(p->cg);
}

static bool any_env(lab_pool *p)
{
    bool any = false;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->fn_count && !any; i++)
        any = p->fns[i].envs != NULL;
    pthread_mutex_unlock(&p->mu);
    return any;
}

/* SIGKILL (again) to every environment not reaped yet; how many there are. */
static int kill_unreaped(lab_pool *p)
{
    int n = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->fn_count; i++)
        for (lab_env *e = p->fns[i].envs; e; e = e->next)
            if (e->pid > 0 && !e->reaped) {
                lab_sandbox_signal(e->pid, SIGKILL);
                n++;
            }
    pthread_mutex_unlock(&p->mu);
    return n;
}

int lab_pool_run(lab_pool *p, int stop_fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &stop_fd};
    double last_tick = now_ms();

    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, stop_fd, &ev) != 0)
        return -1;
    for (;;) {
        struct epoll_event evs[32];
        int n = epoll_wait(p->epfd, evs, 32, TICK_MS);
        bool stop = false;

        if (n < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < n; i++) {
            void *ptr = evs[i].data.ptr;
            if (ptr == &stop_fd) {
                stop = true;
            } else if (ptr == &p->sigchld_fd) {
                reap(p);
            } else {
                lab_env *e = ptr;
                pthread_mutex_lock(&p->mu);
                env_drain_log(e);
                if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
                    epoll_ctl(p->epfd, EPOLL_CTL_DEL, e->log_fd, NULL);
                    e->log_in_epoll = false;
                }
                pthread_mutex_unlock(&p->mu);
            }
        }
        if (stop)
            break;
        if (now_ms() - last_tick >= TICK_MS) {
            last_tick = now_ms();
            reap(p);
            housekeeping(p, false);
        }
    }

    /* Shutdown: no new work, every environment killed and reaped. A killed
     * environment is waited for as long as it takes (SIGKILL cannot be
     * refused, and one not waited for is a zombie of init's), up to 30 s
     * for one stuck in the kernel; the teardown of reaped ones waiting on
     * an invocation thread gives up after 2 s, to lab_pool_free. */
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->ev_cv);
    pthread_cond_broadcast(&p->spawn_cv);
    pthread_mutex_unlock(&p->mu);
    for (int tries = 0; any_env(p) && (tries < 100 || (tries < 1500 && kill_unreaped(p) > 0)); tries++) {
        housekeeping(p, true);
        reap(p);
        if (any_env(p))
            usleep(20000);
    }
    return 0;
}

/* ---------- construction ---------- */

static char *resolve_python(const char *runtime)
{
    char path[64];
    const char *ver = runtime + strlen("python");

    snprintf(path, sizeof(path), "/usr/bin/python%s", ver);
    if (access(path, X_OK) == 0)
        return strdup(path);
    if (access("/usr/bin/python3", X_OK) == 0) {
        fprintf(stderr, "coldsec-lab: warning: %s not found, running %s functions on /usr/bin/python3\n",
                path, runtime);
        return strdup("/usr/bin/python3");
    }
    return NULL;
}

/* Finds node on PATH and resolves links, never a version-manager shim. */
static char *resolve_node(char **prefix_out)
{
    const char *path = getenv("PATH");
    char *copy, *dir, *save = NULL, *found = NULL;

    *prefix_out = NULL;
    if (access("/usr/bin/node", X_OK) == 0)
        return strdup("/usr/bin/node");
    if (!path || !(copy = strdup(path)))
        return NULL;
    for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char cand[PATH_MAX], real[PATH_MAX];
        snprintf(cand, sizeof(cand), "%s/node", dir);
        if (access(cand, X_OK) == 0 && realpath(cand, real))
            found = strdup(real);
    }
    free(copy);
    if (found && strncmp(found, "/usr/", 5) != 0) {
        char *pre = strdup(found);
        char *slash;
        for (int i = 0; i < 2 && pre && (slash = strrchr(pre, '/')) && slash != pre; i++)
            *slash = '\0';
        *prefix_out = pre;
    }
    return found;
}

/*
 * DIR/NAME.cov, zeroed with its magic. Truncated in place rather than
 * replaced, so a reader that opened it early keeps the same file;
 * O_NOFOLLOW and the regular-file check keep a planted link or device from
 * being written instead.
 */
static int coverage_file_create(lab_fn *fn, const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct stat st;
    int fd = -1, rc = -1;

    if (snprintf(path, sizeof(path), "%s/%s.cov", dir, fn->name) >= (int)sizeof(path)) {
        snprintf(err, errlen, "--coverage-dir: path too long");
        return -1;
    }
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0 || fstat(fd, &st) != 0)
        goto fail_errno;
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "coverage file %.300s: not a regular file", path);
        goto cleanup;
    }
    if (fchmod(fd, 0600) != 0 || ftruncate(fd, 0) != 0 ||
        ftruncate(fd, LAB_POOL_COV_SIZE) != 0 ||
        pwrite(fd, LAB_POOL_COV_MAGIC, 8, 0) != 8)
        goto fail_errno;
    fn->cov_path = strdup(path);
    if (!fn->cov_path) {
        snprintf(err, errlen, "out of memory");
        goto cleanup;
    }
    rc = 0;
    goto cleanup;
fail_errno:
    snprintf(err, errlen, "coverage file %.300s: %s", path, strerror(errno));
cleanup:
    if (fd >= 0)
        close(fd);
    return rc;
}

static int copy_function(lab_pool *p, lab_fn *fn, const lab_function_config *c)
{
    char arn[512];

    snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:%s:function:%s", p->region, p->account, c->name);
    fn->name = strdup(c->name);
    fn->arn = strdup(arn);
    fn->runtime = strdup(c->runtime);
    fn->kind = c->kind;
    fn->handler = xstrdup(c->handler);
    fn->code_dir = strdup(c->code_dir);
    fn->description = strdup(c->description ? c->description : "");
    fn->memory_mb = c->memory_mb;
    fn->timeout_s = c->timeout_s;
    fn->idle_timeout_s = c->idle_timeout_s;
    fn->max_age_s = c->max_age_s;
    fn->host_network = c->host_network;
    fn->ephemeral_storage_mb = c->ephemeral_storage_mb;
    fn->reserved = c->reserved_concurrency;
    fn->kms_key_arn = xstrdup(c->kms_key_arn);
    fn->max_concurrency = c->max_concurrency;
    fn->max_envs = c->environments > 0 ? c->environments : 1;
    fn->env = calloc(c->env_count ? c->env_count : 1, sizeof(lab_kv));
    if (!fn->name || !fn->arn || !fn->runtime || !fn->code_dir || !fn->description || !fn->env ||
        (c->kms_key_arn && !fn->kms_key_arn))
        return -1;
    fn->env_count = c->env_count;
    for (size_t i = 0; i < c->env_count; i++) {
        fn->env[i].key = strdup(c->env[i].key);
        fn->env[i].value = strdup(c->env[i].value);
        if (!fn->env[i].key || !fn->env[i].value)
            return -1;
    }
    stamp_update(fn);
    return 0;
}

lab_pool *lab_pool_new(const lab_config *cfg, const lab_pool_options *opt,
                       char *err, size_t errlen)
{
    lab_pool *p = calloc(1, sizeof(*p));
    struct epoll_event ev = {.events = EPOLLIN};
    sigset_t chld;

    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->ev_cv, NULL);
    pthread_cond_init(&p->spawn_cv, NULL);
    p->epfd = p->sigchld_fd = -1;
    p->mode = opt->mode;
    p->region = strdup(cfg->region);
    p->account = strdup(cfg->account_id);
    p->update_delay_ms = cfg->update_delay_ms;
    p->account_limit = cfg->account_concurrency;
    p->log_dir = xstrdup(opt->log_dir);
    p->runtimes_dir = strdup(opt->runtimes_dir);
    p->state_dir = xstrdup(opt->state_dir);
    /* Room for every version up front: environments hold pointers into
     * the array, so it never moves. */
    p->fn_cap = (cfg->function_count ? cfg->function_count : 1) * (1 + LAB_POOL_MAX_VERSIONS);
    p->fns = calloc(p->fn_cap, sizeof(lab_fn));
    if (!p->region || !p->account || !p->runtimes_dir || !p->fns) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < cfg->function_count; i++) {
        const lab_function_config *c = &cfg->functions[i];
        p->fn_count++;
        if (copy_function(p, &p->fns[i], c) != 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        /* Without bwrap there is no tmpfs to size: a test relying on a full
         * /tmp would silently pass, so say which functions are affected. */
        if (p->mode == LAB_SANDBOX_NONE && c->ephemeral_storage_mb != LAB_CONFIG_EPHEMERAL_DEFAULT_MB)
            fprintf(stderr, "coldsec-lab: warning: function %s: ephemeral_storage_mb %d cannot be "
                    "enforced without the sandbox (its TMPDIR is a plain folder)\n",
                    c->name, c->ephemeral_storage_mb);
        if (opt->coverage_dir && coverage_file_create(&p->fns[i], opt->coverage_dir, err, errlen) != 0)
            goto fail;
        if (c->kind == LAB_RUNTIME_PYTHON && !p->python && !(p->python = resolve_python(c->runtime))) {
            snprintf(err, errlen, "function %s: no python3 interpreter in /usr/bin", c->name);
            goto fail;
        }
        if (c->kind == LAB_RUNTIME_NODE && !p->node && !(p->node = resolve_node(&p->interp_prefix))) {
            snprintf(err, errlen, "function %s: node not found on PATH", c->name);
            goto fail;
        }
    }
    {
        char why[512];
        /* Which Max Memory Used the user gets, said once at start. */
        p->cg = lab_cgroup_open(why, sizeof(why));
        if (p->cg)
            fprintf(stderr, "coldsec-lab: memory: Max Memory Used is the environment's peak from a "
                    "memory cgroup per environment (%s), /tmp not counted\n", lab_cgroup_describe(p->cg));
        else
            fprintf(stderr, "coldsec-lab: memory: no memory cgroup (%s); Max Memory Used is the "
                    "peak of the sum of the environment's process RSS, sampled every %d ms\n",
                    why, MEM_SAMPLE_MS);
    }
    if (p->mode == LAB_SANDBOX_BWRAP) {
        char why[512];
        if (lab_sandbox_cache_new(&p->sandbox_cache, NULL, why, sizeof(why)) != 0)
            fprintf(stderr, "coldsec-lab: warning: no prepared sandboxes, every cold start "
                    "sets one up: %s\n", why);
    }
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->sigchld_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (p->epfd < 0 || p->sigchld_fd < 0) {
        snprintf(err, errlen, "event loop: %s", strerror(errno));
        goto fail;
    }
    ev.data.ptr = &p->sigchld_fd;
    epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->sigchld_fd, &ev);
    for (int i = 0; i < EVENT_WORKERS; i++) {
        if (pthread_create(&p->ev_threads[i], NULL, event_worker, p) != 0) {
            snprintf(err, errlen, "event workers: %s", strerror(errno));
            goto fail;
        }
        p->ev_started++;
    }
    p->max_inits = cpu_count() * INITS_PER_CPU;
    for (int i = 0; i < spawner_count(); i++) {
        if (pthread_create(&p->spawners[i], NULL, spawner_main, p) != 0) {
            snprintf(err, errlen, "spawner threads: %s", strerror(errno));
            goto fail;
        }
        p->spawners_started++;
    }
    return p;
fail:
    lab_pool_free(&p);
    return NULL;
}

void lab_pool_free(lab_pool **pp)
{
    lab_pool *p = pp ? *pp : NULL;

    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->ev_cv);
    pthread_cond_broadcast(&p->spawn_cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->ev_started; i++)
        pthread_join(p->ev_threads[i], NULL);
    /* Spawners last among the threads that fork: their children get
     * SIGKILL (PR_SET_PDEATHSIG) as they go, and are waited for below. */
    for (int i = 0; i < p->spawners_started; i++)
        pthread_join(p->spawners[i], NULL);
    /* Queued environments never forked: drop the queue's reference; those
     * still on a function's list are freed with it. */
    while (p->spawn_head) {
        lab_env *e = p->spawn_head;
        p->spawn_head = e->spawn_next;
        if (--e->refs == 0)
            env_free(e);
    }
    while (p->ev_head) {
        event_item *it = p->ev_head;
        p->ev_head = it->next;
        free(it->function);
        free(it->payload);
        free(it);
    }
    for (size_t i = 0; i < p->fn_count; i++) {
        lab_fn *fn = &p->fns[i];
        while (fn->envs) {
            lab_env *e = fn->envs;
            fn->envs = e->next;
            if (e->pid > 0 && !e->reaped) {
                lab_sandbox_signal(e->pid, SIGKILL);
                waitpid(e->pid, NULL, 0);
            }
            lab_runtime_api_stop(&e->rt);
            env_free(e);
        }
        free(fn->name);
        free(fn->arn);
        free(fn->runtime);
        free(fn->handler);
        free(fn->code_dir);
        free(fn->description);
        free(fn->kms_key_arn);
        free(fn->cov_path);
        free_kv(fn->env, fn->env_count);
        for (size_t a = 0; a < fn->alias_count; a++)
            free(fn->aliases[a].description);
    }
    free(p->fns);
    lab_sandbox_cache_free(&p->sandbox_cache);
    lab_cgroup_close(&p->cg);
    if (p->epfd >= 0)
        close(p->epfd);
    if (p->sigchld_fd >= 0)
        close(p->sigchld_fd);
    free(p->region);
    free(p->account);
    free(p->log_dir);
    free(p->runtimes_dir);
    free(p->state_dir);
    free(p->python);
    free(p->node);
    free(p->interp_prefix);
    pthread_cond_destroy(&p->ev_cv);
    pthread_cond_destroy(&p->spawn_cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
    *pp = NULL;
}
