/*
 * coldsec-lab — a local AWS Lambda that runs real handlers in reusable,
 * sandboxed execution environments (DESIGN.md, "The parts").
 *
 * main() only parses the command line, prepares signals, wires the pool
 * (environments) to the API (HTTP), prints the readiness line and runs the
 * pool's loop until SIGINT/SIGTERM.
 *
 * Nothing is left behind: the lab is its environments' child subreaper (an
 * orphan of a sandbox comes back to it, not to init), reaps every child
 * before it exits, and removes its state folder ($TMPDIR/coldsec-lab-*,
 * the default log streams and the unsandboxed environments' TMPDIRs
 * included) on every way out but SIGKILL. Only --log-dir is kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab_api.h"
#include "lab_config.h"
#include "lab_pool.h"
#include "lab_sandbox.h"
#include "paths.h"
#include "proctree.h"
#include "scratch.h"

/* Process exit codes. */
enum {
    LAB_EXIT_OK = 0,
    LAB_EXIT_FAILURE = 1, /* could not start or a fatal runtime error */
    LAB_EXIT_USAGE = 2,   /* bad command line or configuration */
};

static const char usage[] =
    "usage: coldsec-lab --config FILE [--listen 127.0.0.1:PORT] [--log-dir DIR]\n"
    "                   [--sandbox auto|bwrap|none] [--runtimes DIR] [--coverage-dir DIR]\n"
    "\n"
    "A local AWS Lambda for coldsec. Serves the Lambda API (SigV4-checked) on a\n"
    "loopback address; PORT 0 picks a free port. Prints one line\n"
    "  coldsec-lab listening on http://127.0.0.1:PORT\n"
    "when ready. SIGINT/SIGTERM stop it and every execution environment; it\n"
    "reaps every process they started and removes its state folder\n"
    "($TMPDIR/coldsec-lab-XXXXXX) before it exits.\n"
    "\n"
    "  --config FILE     functions and credentials (see harness/functions.yaml)\n"
    "  --listen ADDR     loopback address and port (default 127.0.0.1:9000)\n"
    "  --log-dir DIR     keep the log streams in DIR (default: in the lab's state folder\n"
    "                    in $TMPDIR, removed with it when the lab stops)\n"
    "  --sandbox MODE    bwrap: bubblewrap + namespaces (required); none: plain\n"
    "                    processes; auto (default): bwrap when it works here\n"
    "  --runtimes DIR    runtime bootstraps (default: found from this binary, see src/paths.h)\n"
    "  --coverage-dir DIR  handler coverage for `coldsec fuzz`: DIR/FUNCTION.cov per\n"
    "                    function (mode 0600, recreated zeroed at start), bound into\n"
    "                    each environment at /var/runtime/coverage ($COLDSEC_COVERAGE)\n";

typedef struct options {
    const char *config;
    char host[64];
    int port;
    const char *log_dir;
    const char *sandbox;
    const char *runtimes;
    const char *coverage_dir;
} options;

static int parse_listen(const char *s, options *o)
{
    const char *colon = strrchr(s, ':');
    char *end;
    long port;

    if (!colon || (size_t)(colon - s) >= sizeof(o->host) || colon == s)
        return -1;
    port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return -1;
    memcpy(o->host, s, (size_t)(colon - s));
    o->host[colon - s] = '\0';
    o->port = (int)port;
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    snprintf(o->host, sizeof(o->host), "127.0.0.1");
    o->port = 9000;
    o->sandbox = "auto";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            exit(LAB_EXIT_OK);
        }
        if (!v) {
            fprintf(stderr, "coldsec-lab: %s needs a value\n%s", a, usage);
            return -1;
        }
        if (strcmp(a, "--config") == 0) {
            o->config = v;
        } else if (strcmp(a, "--listen") == 0) {
            if (parse_listen(v, o) != 0) {
                fprintf(stderr, "coldsec-lab: --listen %s: expected HOST:PORT\n", v);
                return -1;
            }
        } else if (strcmp(a, "--log-dir") == 0) {
            o->log_dir = v;
        } else if (strcmp(a, "--sandbox") == 0) {
            if (strcmp(v, "auto") != 0 && strcmp(v, "bwrap") != 0 && strcmp(v, "none") != 0) {
                fprintf(stderr, "coldsec-lab: --sandbox %s: expected auto, bwrap or none\n", v);
                return -1;
            }
            o->sandbox = v;
        } else if (strcmp(a, "--runtimes") == 0) {
            o->runtimes = v;
        } else if (strcmp(a, "--coverage-dir") == 0) {
            o->coverage_dir = v;
        } else {
            fprintf(stderr, "coldsec-lab: unknown option %s\n%s", a, usage);
            return -1;
        }
        i++;
    }
    if (!o->config) {
        fprintf(stderr, "coldsec-lab: --config is required\n%s", usage);
        return -1;
    }
    return 0;
}

/*
 * A lab at scale holds thousands of descriptors: per environment its log
 * pipe, log file, Runtime API listener, wake-up descriptor and the runtime's
 * connection, plus one per Lambda API caller. A fresh machine's soft limit
 * is 1,024, so it is raised to the hard limit. Environments inherit it, as
 * they inherited whatever the lab had before; Lambda gives a function 1,024
 * (Lambda quotas, "File descriptors"), which only lab_sandbox's child could
 * set before its exec. Failure is not fatal: the lab then serves fewer at
 * once.
 */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        fprintf(stderr, "coldsec-lab: warning: cannot raise the descriptor limit: %s\n",
                strerror(errno));
}

/* fds 0-2 must exist before we open sockets, or a socket becomes "stdout". */
static void ensure_std_fds(void)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
            exit(LAB_EXIT_FAILURE);
}

/* --runtimes, else the bootstraps found from this executable (paths.h:
 * PREFIX/share/coldsec/runtimes installed, harness/runtimes in a build). */
static int find_runtimes(const char *given, char *out, size_t outlen)
{
    if (given)
        return realpath(given, out) && strlen(out) < outlen ? 0 : -1;
    return paths_find(PATHS_RUNTIMES, out, outlen);
}

int main(int argc, char **argv)
{
    options o = {0};
    lab_config *cfg = NULL;
    lab_pool *pool = NULL;
    lab_api *api = NULL;
    lab_pool_options po = {0};
    char err[1024], runtimes[PATH_MAX], state_tmpl[PATH_MAX], log_dir[PATH_MAX];
    char coverage_dir[PATH_MAX];
    const char *tmpdir = getenv("TMPDIR");
    char *state_dir = NULL;
    int rc = LAB_EXIT_FAILURE, stop_fd = -1;
    sigset_t mask;
    struct sigaction sa;

    ensure_std_fds();
    if (parse_args(argc, argv, &o) != 0)
        return LAB_EXIT_USAGE;
    /* bwrap's pid-namespace init outlives the bwrap we kill for an instant;
     * without this it is re-parented to init, which need not reap it. */
    if (proctree_become_reaper() != 0)
        fprintf(stderr, "coldsec-lab: WARNING: PR_SET_CHILD_SUBREAPER: %s: orphans of environments go to init\n",
                strerror(errno));
    raise_fd_limit();

    /* Signals are read from signalfds, so they are blocked before any thread
     * exists; SIGCHLD must not fire for every freeze (SIGSTOP) we send. */
    signal(SIGPIPE, SIG_IGN);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);

    if (lab_config_load(o.config, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec-lab: %s\n", err);
        rc = LAB_EXIT_USAGE;
        goto cleanup;
    }
    if (find_runtimes(o.runtimes, runtimes, sizeof(runtimes)) != 0) {
        fprintf(stderr, "coldsec-lab: runtime bootstraps not found (give --runtimes DIR)\n");
        goto cleanup;
    }
    po.mode = LAB_SANDBOX_BWRAP;
    if (strcmp(o.sandbox, "none") == 0) {
        po.mode = LAB_SANDBOX_NONE;
    } else if (lab_sandbox_probe(err, sizeof(err)) != 0) {
        if (strcmp(o.sandbox, "bwrap") == 0) {
            fprintf(stderr, "coldsec-lab: --sandbox bwrap: %s\n", err);
            goto cleanup;
        }
        po.mode = LAB_SANDBOX_NONE;
        fprintf(stderr,
                "coldsec-lab: WARNING: no sandbox (%s).\n"
                "coldsec-lab: WARNING: environments run as plain processes: /tmp is emulated by a\n"
                "coldsec-lab: WARNING: private TMPDIR, and environments can reach each other and the lab.\n",
                err);
    }
    if (po.mode == LAB_SANDBOX_NONE && strcmp(o.sandbox, "none") == 0)
        fprintf(stderr, "coldsec-lab: WARNING: --sandbox none: environments are not isolated.\n");

    snprintf(state_tmpl, sizeof(state_tmpl), "%s/coldsec-lab-XXXXXX", tmpdir ? tmpdir : "/tmp");
    state_dir = mkdtemp(state_tmpl);
    if (!state_dir) {
        fprintf(stderr, "coldsec-lab: state folder %s: %s\n", state_tmpl, strerror(errno));
        goto cleanup;
    }
    if (o.log_dir) {
        snprintf(log_dir, sizeof(log_dir), "%s", o.log_dir);
    } else {
        snprintf(log_dir, sizeof(log_dir), "%s/logs", state_dir);
        fprintf(stderr, "coldsec-lab: log streams in %s (removed when the lab stops; --log-dir DIR keeps them)\n",
                log_dir);
    }
    if (mkdir(log_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "coldsec-lab: --log-dir %s: %s\n", log_dir, strerror(errno));
        goto cleanup;
    }
    if (o.coverage_dir) {
        /* Absolute, because unsandboxed runtimes get the file's host path
         * and run in their code folder. */
        if ((mkdir(o.coverage_dir, 0700) != 0 && errno != EEXIST) ||
            !realpath(o.coverage_dir, coverage_dir)) {
            fprintf(stderr, "coldsec-lab: --coverage-dir %s: %s\n", o.coverage_dir, strerror(errno));
            rc = LAB_EXIT_USAGE;
            goto cleanup;
        }
        po.coverage_dir = coverage_dir;
    }
    po.log_dir = log_dir;
    po.runtimes_dir = runtimes;
    po.state_dir = state_dir;
    pool = lab_pool_new(cfg, &po, err, sizeof(err));
    if (!pool) {
        fprintf(stderr, "coldsec-lab: %s\n", err);
        goto cleanup;
    }
    api = lab_api_start(o.host, o.port, pool, cfg, err, sizeof(err));
    if (!api) {
        fprintf(stderr, "coldsec-lab: %s\n", err);
        goto cleanup;
    }
    sigdelset(&mask, SIGCHLD);
    stop_fd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (stop_fd < 0) {
        fprintf(stderr, "coldsec-lab: signalfd: %s\n", strerror(errno));
        goto cleanup;
    }
    printf("coldsec-lab listening on http://%s:%d\n", o.host, lab_api_port(api));
    fflush(stdout);
    if (lab_pool_run(pool, stop_fd) != 0) {
        fprintf(stderr, "coldsec-lab: main loop failed: %s\n", strerror(errno));
        goto cleanup;
    }
    rc = LAB_EXIT_OK;
cleanup:
    lab_api_stop(&api);
    lab_pool_free(&pool);
    lab_config_free(&cfg);
    if (stop_fd >= 0)
        close(stop_fd);
    /* The pool waited for its environments; what they orphaned is ours now
     * (and may still write into the state folder): killed and reaped first. */
    proctree_reap_all(0, 0);
    if (state_dir && scratch_remove(state_dir) != 0)
        fprintf(stderr, "coldsec-lab: state folder %s: not removed: %s\n", state_dir, strerror(errno));
    return rc;
}
