/*
 * lab_sandbox — starts one execution environment's process tree.
 *
 * In bwrap mode the child (cloned CLONE_VM|CLONE_VFORK as posix_spawn does,
 * not a fork of the multi-threaded lab) first enters a new network
 * namespace, brings its loopback up, listens on 127.0.0.1:9001 there and
 * hands that listening socket back to the lab over SCM_RIGHTS; then it execs bubblewrap
 * (new user, PID, IPC and UTS namespaces, uid 993 with no capabilities,
 * read-only root, code at /var/task, runtime at /var/runtime, private /tmp).
 * The lab serves the Runtime API on the socket it received, so the runtime
 * reaches it exactly as on Lambda while no environment can reach another's
 * Runtime API or the lab's own ports.
 *
 * With a coverage file (coldsec-lab --coverage-dir), that one file is bound
 * read-write at /var/runtime/coverage. bubblewrap cannot create a mount point
 * inside a read-only bind, so /var/runtime is then assembled from read-only
 * binds of the runtime folder's entries plus the coverage file, in a folder
 * of the sandbox's own root (read-only after --remount-ro /).
 *
 * With `network: host`, or in the unsandboxed fallback, the caller makes a
 * loopback listener itself (lab_sandbox_listen_loopback) and passes it in.
 *
 * Spares (spec->cache): bwrap's own setup (~8 ms of CPU here: three
 * processes, namespaces, mounts) and the netns handoff do not depend on
 * the function's command or variables, only on the sandbox's shape (code,
 * runtime and coverage binds, /tmp size). So after each start the cache's
 * own thread prepares one sandbox of that shape ahead of demand, 100 ms
 * later and at a lower priority than the runtimes starting meanwhile (nice
 * 10, put back to 0 at the start it serves): the same child, netns
 * listener and bwrap as above, whose command is coldsec-lab-stub (bwrap
 * execs it from an inherited descriptor, so it is at no path in the
 * sandbox). The stub says "ready" and waits; the next start of that shape
 * sends it argv and envp over the channel, and it closes every descriptor
 * but 0-2 and execs the runtime, which is then exactly what bwrap would
 * have exec'd directly. The runtime itself is never started ahead: Init
 * Duration still covers all of its start, as on Lambda, where the sandbox
 * is prepared before the Init phase begins. A spare never ran any code of
 * a function, and its /tmp is empty. When no spare is ready (the first
 * start of a shape, a burst, a spare still being set up: never waited
 * for), the start is the slow way and asks for a spare.
 * Host-network functions and the fallback never use spares.
 *
 * Thread safety: lab_sandbox_spawn may be called from several threads at
 * once (the cache has its own lock; nothing else is shared). Each call must
 * come from a thread that lives as long as the environments it starts:
 * PR_SET_PDEATHSIG fires when the *thread* that forked exits (spares are
 * forked by the cache's thread, which lives until lab_sandbox_cache_free).
 *
 * Per-environment cgroups (spec->cgroup_procs): a fresh child joins before
 * it execs bwrap, so everything after is charged there; a spare's processes
 * (bwrap, its init, the stub) exist before the start, so each is moved into
 * the cgroup before the stub gets its go and execs the runtime.
 */
#ifndef COLDSEC_LAB_SANDBOX_H
#define COLDSEC_LAB_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef enum {
    LAB_SANDBOX_BWRAP = 0, /* bubblewrap + namespaces */
    LAB_SANDBOX_NONE,      /* plain processes: private TMPDIR, loopback port */
    LAB_SANDBOX_LAST
} lab_sandbox_mode;

#define LAB_SANDBOX_RUNTIME_PORT 9001
#define LAB_SANDBOX_STUB_NAME "coldsec-lab-stub"
#define LAB_SANDBOX_MAX_ARGS 96
/* Where an environment sees its function's coverage file. */
#define LAB_SANDBOX_COVERAGE_PATH "/var/runtime/coverage"

/* Sandboxes prepared ahead of demand; see above. Owns its spares' processes. */
typedef struct lab_sandbox_cache lab_sandbox_cache;

typedef struct lab_sandbox_spec {
    lab_sandbox_mode mode;
    const char *const *argv;  /* command as seen inside, NULL-terminated */
    const char *const *envp;  /* its whole environment, NULL-terminated */
    const char *code_dir;     /* host folder bound read-only at /var/task */
    const char *runtime_dir;  /* host folder bound read-only at /var/runtime, or NULL */
    const char *extra_ro_dir; /* interpreter prefix outside /usr to bind, or NULL */
    const char *coverage_file; /* host file bound read-write at LAB_SANDBOX_COVERAGE_PATH, or NULL */
    const char *cwd;          /* LAB_SANDBOX_NONE only: working directory */
    int tmp_mb;               /* LAB_SANDBOX_BWRAP only: size of the /tmp tmpfs, > 0 */
    int listen_fd;            /* >= 0: use this listener (host network / NONE); -1: own namespace */
    const char *cgroup_procs; /* cgroup.procs the environment joins (lab_cgroup), or NULL */
    lab_sandbox_cache *cache; /* spares to start from and refill, or NULL (always the slow way) */
    int spare_idle_s;         /* the spare prepared after this start goes when not taken this long; 0: kept */
} lab_sandbox_spec;

typedef struct lab_sandbox_proc {
    pid_t pid;      /* our direct child (bwrap, or the runtime itself); also its process group */
    int log_fd;     /* read end of the environment's stdout+stderr, O_NONBLOCK|O_CLOEXEC; caller closes */
    int listen_fd;  /* Runtime API listener; caller closes */
} lab_sandbox_proc;

/* Creates a listening TCP socket on 127.0.0.1 with an ephemeral port. */
int lab_sandbox_listen_loopback(int *fd_out, int *port_out, char *err, size_t errlen);

/*
 * Starts the environment. On success returns 0 and fills out; the caller owns
 * out->log_fd and out->listen_fd (spec->listen_fd, when given, is moved into
 * out->listen_fd). On failure returns -1 with a message in err and closes
 * spec->listen_fd.
 */
int lab_sandbox_spawn(const lab_sandbox_spec *spec, lab_sandbox_proc *out,
                      char *err, size_t errlen);

/*
 * A cache whose spares run stub_path, or with NULL LAB_SANDBOX_STUB_NAME
 * beside this executable. 0 with *out set (the caller frees it with
 * lab_sandbox_cache_free); -1 with err when the stub cannot be opened (then
 * run without a cache).
 */
int lab_sandbox_cache_new(lab_sandbox_cache **out, const char *stub_path, char *err, size_t errlen);

/* Kills and reaps every spare, frees the cache, sets *c to NULL. */
void lab_sandbox_cache_free(lab_sandbox_cache **c);
/* Kills and reaps the spares past their spare_idle_s, as idle environments
 * are retired: an idle function keeps no process. Safe from any thread;
 * c may be NULL. */
void lab_sandbox_cache_trim(lab_sandbox_cache *c);

/*
 * coldsec-lab-stub's whole program: waits for its command on the spare's
 * channel and execs it. Returns only on failure (the exit code).
 */
int lab_sandbox_stub_main(void);

/*
 * Checks that bubblewrap and network namespaces work here by running
 * /bin/true the way lab_sandbox_spawn would. 0 when they do; -1 with the
 * reason in err.
 */
int lab_sandbox_probe(char *err, size_t errlen);

/* Sends sig to the whole environment (its process group). */
void lab_sandbox_signal(pid_t pid, int sig);

#endif
