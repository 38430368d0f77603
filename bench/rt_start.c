/*
 * rt_start — a runtime's own start, outside the lab: the baseline for the
 * lab's Init Duration in `make bench` (BENCHMARKS.md).
 *
 * The lab's Init Duration runs from just before it forks an environment to
 * the runtime's first GET /2018-06-01/runtime/invocation/next. This does the
 * same without the lab: it listens on a fresh 127.0.0.1 port (a fake Runtime
 * API that only has to see the first /next), forks and execs the given
 * command with AWS_LAMBDA_RUNTIME_API pointing there and the given
 * variables (nothing is inherited from the caller's environment, as in the
 * lab), and times fork → the complete request head of that first /next.
 * Then it kills the process group and reaps it. The command may be a
 * runtime directly, or bwrap wrapping one (sharing the network), to split
 * the sandbox's share from the lab's.
 *
 * --lab-sandbox fresh|spare starts the command the way the lab does, with
 * the lab's own lab_sandbox_spawn() (its own network namespace, the
 * listener handed back, the lab's binds; CODE at /var/task, RTDIR at
 * /var/runtime): "fresh" sets every sandbox up on the clock, "spare" starts
 * from a sandbox prepared ahead (lab_sandbox.h, "Spares"; STUB is
 * coldsec-lab-stub). The clock is the same: the call → the first /next on
 * the listener it returns. --gap-ms pauses between runs (every mode alike),
 * as cold starts in the lab come at least an update delay apart.
 *
 *   rt_start [--runs N] [--label TEXT] [--env K=V]... [--gap-ms MS]
 *            [--lab-sandbox fresh|spare --code CODE [--runtime-dir RTDIR] [--stub STUB]]
 *            -- COMMAND ARGS...
 *
 * Prints one JSON object: median, min and max in ms over the runs.
 * Loopback only (a sandboxed run's listener is on its own namespace's
 * loopback). No globals.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab_sandbox.h"

/* EXIT_RUNTIME: no run reached GET /next. */
enum exit_code { EXIT_OK = 0, EXIT_USAGE = 2, EXIT_SETUP = 3, EXIT_RUNTIME = 4 };

#define MAX_ENV 64
#define MAX_RUNS 1000
#define HEAD_MAX 8192
#define FIRST_NEXT_TIMEOUT_MS 10000
#define NEXT_PATH "/2018-06-01/runtime/invocation/next"
#define POLL_SLICE_MS 20

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int listen_loopback(int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/*
 * Waits until the runtime's first complete request head arrives. Returns 0
 * when it is GET /next. The accepted connection goes to *cfd_out (or -1) and
 * stays open until the runtime is killed, so it never sees the API go away.
 */
static int await_first_next(int lfd, double deadline, pid_t pid, bool *reaped, int *cfd_out)
{
    char head[HEAD_MAX + 1];
    size_t len = 0;
    int cfd = -1, rc = -1, status;
    struct pollfd p = {.fd = lfd, .events = POLLIN};

    /* Short slices, so that a runtime that dies fails the run at once. */
    for (;;) {
        int n = poll(&p, 1, POLL_SLICE_MS);
        if (n == 1)
            break;
        if (n < 0 && errno != EINTR)
            goto cleanup;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            *reaped = true;
            goto cleanup;
        }
        if (now_ms() >= deadline)
            goto cleanup;
    }
    cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (cfd < 0)
        goto cleanup;
    while (len < HEAD_MAX) {
        ssize_t n;
        p = (struct pollfd){.fd = cfd, .events = POLLIN};
        if (poll(&p, 1, (int)(deadline - now_ms())) != 1)
            goto cleanup;
        n = read(cfd, head + len, HEAD_MAX - len);
        if (n <= 0)
            goto cleanup;
        len += (size_t)n;
        head[len] = '\0';
        if (strstr(head, "\r\n\r\n")) {
            rc = strncmp(head, "GET " NEXT_PATH " ", strlen("GET " NEXT_PATH " ")) == 0 ? 0 : -1;
            break;
        }
    }
cleanup:
    *cfd_out = cfd;
    return rc;
}

/* How one run starts its command. */
typedef struct start_how {
    int lab_sandbox;            /* 0: fork+exec; 1: lab_sandbox_spawn */
    const char *code_dir;
    const char *runtime_dir;
    lab_sandbox_cache *cache;   /* spare mode */
} start_how;

/* One start through the lab's sandbox; ms from the call to the first /next, or -1. */
static double one_sandboxed_run(const start_how *how, char **cmd, char **envp, size_t envc,
                                char *api_var, size_t api_len)
{
    lab_sandbox_spec spec = {
        .mode = LAB_SANDBOX_BWRAP, .argv = (const char *const *)cmd,
        .envp = (const char *const *)envp, .code_dir = how->code_dir,
        .runtime_dir = how->runtime_dir, .tmp_mb = 512, .listen_fd = -1, .cache = how->cache,
    };
    lab_sandbox_proc proc = {.pid = -1, .log_fd = -1, .listen_fd = -1};
    char err[512];
    int cfd = -1, status;
    bool reaped = false;
    double t0, ms = -1;

    snprintf(api_var, api_len, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", LAB_SANDBOX_RUNTIME_PORT);
    envp[envc] = api_var;
    envp[envc + 1] = NULL;
    t0 = now_ms();
    if (lab_sandbox_spawn(&spec, &proc, err, sizeof(err)) != 0) {
        fprintf(stderr, "rt_start: %s\n", err);
        return -1;
    }
    if (await_first_next(proc.listen_fd, t0 + FIRST_NEXT_TIMEOUT_MS, proc.pid, &reaped, &cfd) == 0)
        ms = now_ms() - t0;
    lab_sandbox_signal(proc.pid, SIGKILL);
    if (!reaped) {
        kill(proc.pid, SIGKILL);
        while (waitpid(proc.pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (cfd >= 0)
        close(cfd);
    close(proc.listen_fd);
    close(proc.log_fd);
    return ms;
}

/* One start; returns ms from fork to the first /next, or -1. */
static double one_run(char **cmd, char **envp, size_t envc, char *api_var, size_t api_len)
{
    int port = 0, lfd = listen_loopback(&port), cfd = -1, status;
    bool reaped = false;
    double t0, ms = -1;
    pid_t pid;

    if (lfd < 0)
        return -1;
    snprintf(api_var, api_len, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", port);
    envp[envc] = api_var;
    envp[envc + 1] = NULL;
    t0 = now_ms();
    pid = fork();
    if (pid < 0) {
        close(lfd);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "r", stdin))
            _exit(127);
        execve(cmd[0], cmd, envp);
        _exit(127);
    }
    setpgid(pid, pid);
    if (await_first_next(lfd, t0 + FIRST_NEXT_TIMEOUT_MS, pid, &reaped, &cfd) == 0)
        ms = now_ms() - t0;
    kill(-pid, SIGKILL); /* the group: bwrap's children too */
    if (!reaped) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (cfd >= 0)
        close(cfd);
    close(lfd);
    return ms;
}

int main(int argc, char **argv)
{
    char *envp[MAX_ENV + 2];
    char api_var[64];
    size_t envc = 0;
    int runs = 10, ok = 0, i;
    const char *label = "";
    double *ms = NULL, med;
    char **cmd = NULL;
    int rc = EXIT_USAGE, gap_ms = 0;
    const char *sandbox_mode = NULL, *stub = NULL;
    start_how how = {0};
    char err[512];

    for (i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--") == 0) {
            cmd = argv + i + 1;
            break;
        } else if (strcmp(argv[i], "--runs") == 0 && v) {
            runs = atoi(v);
            i++;
        } else if (strcmp(argv[i], "--label") == 0 && v) {
            label = v;
            i++;
        } else if (strcmp(argv[i], "--env") == 0 && v && strchr(v, '=') && envc < MAX_ENV - 1) {
            envp[envc++] = argv[++i];
        } else if (strcmp(argv[i], "--gap-ms") == 0 && v) {
            gap_ms = atoi(v);
            i++;
        } else if (strcmp(argv[i], "--lab-sandbox") == 0 && v) {
            sandbox_mode = argv[++i];
        } else if (strcmp(argv[i], "--code") == 0 && v) {
            how.code_dir = argv[++i];
        } else if (strcmp(argv[i], "--runtime-dir") == 0 && v) {
            how.runtime_dir = argv[++i];
        } else if (strcmp(argv[i], "--stub") == 0 && v) {
            stub = argv[++i];
        } else {
            break;
        }
    }
    if (!cmd || !cmd[0] || runs < 1 || runs > MAX_RUNS || gap_ms < 0 ||
        (sandbox_mode && (!how.code_dir || (strcmp(sandbox_mode, "fresh") != 0 &&
                                            strcmp(sandbox_mode, "spare") != 0)))) {
        fprintf(stderr, "usage: rt_start [--runs N] [--label TEXT] [--env K=V]... [--gap-ms MS]\n"
                        "                [--lab-sandbox fresh|spare --code DIR [--runtime-dir DIR] [--stub PATH]]\n"
                        "                -- COMMAND ARGS...\n");
        return EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    rc = EXIT_SETUP;
    how.lab_sandbox = sandbox_mode != NULL;
    if (sandbox_mode && strcmp(sandbox_mode, "spare") == 0 &&
        lab_sandbox_cache_new(&how.cache, stub, err, sizeof(err)) != 0) {
        fprintf(stderr, "rt_start: %s\n", err);
        goto cleanup;
    }
    ms = calloc((size_t)runs, sizeof(*ms));
    if (!ms)
        goto cleanup;
    /* spare mode: one start outside the numbers, so that run 1 has a spare too */
    if (how.cache && one_sandboxed_run(&how, cmd, envp, envc, api_var, sizeof(api_var)) < 0)
        fprintf(stderr, "rt_start: the start that prepares the first spare failed\n");
    for (i = 0; i < runs; i++) {
        double t;
        if (gap_ms > 0 || how.cache)
            usleep((useconds_t)(gap_ms > 0 ? gap_ms : 100) * 1000);
        t = how.lab_sandbox ? one_sandboxed_run(&how, cmd, envp, envc, api_var, sizeof(api_var))
                            : one_run(cmd, envp, envc, api_var, sizeof(api_var));
        if (t >= 0)
            ms[ok++] = t;
    }
    if (ok == 0) {
        fprintf(stderr, "rt_start: %s never reached GET /next\n", cmd[0]);
        rc = EXIT_RUNTIME;
        goto cleanup;
    }
    qsort(ms, (size_t)ok, sizeof(*ms), cmp_double);
    med = ok % 2 ? ms[ok / 2] : (ms[ok / 2 - 1] + ms[ok / 2]) / 2;
    printf("{\"mode\":\"runtime_start\",\"label\":\"%s\",\"runs\":%d,\"errors\":%d,"
           "\"start_ms_p50\":%.2f,\"start_ms_min\":%.2f,\"start_ms_max\":%.2f}\n",
           label, ok, runs - ok, med, ms[0], ms[ok - 1]);
    rc = EXIT_OK; /* failed runs are counted in "errors" */
cleanup:
    lab_sandbox_cache_free(&how.cache);
    free(ms);
    return rc;
}
