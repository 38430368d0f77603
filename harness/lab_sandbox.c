/*
 * lab_sandbox — forks one execution environment (see lab_sandbox.h).
 *
 * Everything the child needs (argv, environment, paths) is built before
 * the clone: the child shares the lab's memory until it execs (as in
 * posix_spawn), so it makes raw syscalls only.
 *
 * Also coldsec-lab-stub's program (lab_sandbox_stub_main), so that the go
 * message is written and read in one file.
 */
#include "lab_sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sched.h>

#define BWRAP_PATH "/usr/bin/bwrap"
/* Where a spare's stub finds its channel and its own executable. */
#define STUB_CHANNEL_FD 3
#define STUB_EXE_FD 4
#define STUB_EXE_PATH "/proc/self/fd/4"
/*
 * The spare's priority while it is set up and waits; its whole process
 * group is put back to 0 before its runtime starts (the lab, root, may).
 */
#define SPARE_NICE 10
/* How long the lab waits for the child to hand over its listener. */
#define HANDOFF_TIMEOUT_MS 5000

/* Lambda runs functions as sbx_user1051. */
#define SANDBOX_UID "993"
#define SANDBOX_GID "990"

int lab_sandbox_listen_loopback(int *fd_out, int *port_out, char *err, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof(sa);

    if (fd < 0)
        goto fail;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        goto fail;
    *fd_out = fd;
    *port_out = ntohs(sa.sin_port);
    return 0;
fail:
    snprintf(err, errlen, "loopback listener: %s", strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Child only: async-signal-safe helpers. */
static void child_fail(int report_fd, const char *what)
{
    char msg[160];
    size_t n = strlen(what);
    const char *e = strerror(errno); /* not AS-safe in theory; glibc's is a table lookup */
    size_t m = strlen(e);

    if (n > 100)
        n = 100;
    if (m > 50)
        m = 50;
    memcpy(msg, what, n);
    msg[n] = ':';
    msg[n + 1] = ' ';
    memcpy(msg + n + 2, e, m);
    if (write(report_fd, msg, n + 2 + m) < 0) {
        /* nothing left to tell anyone */
    }
    _exit(127);
}

static int child_loopback_up(void)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (s < 0)
        return -1;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        goto fail;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
        goto fail;
    close(s);
    return 0;
fail:
    close(s);
    return -1;
}

static int child_listen_9001(void)
{
    struct sockaddr_in sa;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(LAB_SANDBOX_RUNTIME_PORT);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_fd(int sock, int fd)
{
    char byte = 'L';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg;
    struct cmsghdr *c;

    memset(&u, 0, sizeof(u));
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof(u.buf);
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* Receives either a listener (fd) or an error text from the child. */
static int recv_handoff(int sock, int *fd_out, char *err, size_t errlen)
{
    char buf[200];
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
    union {
        struct cmsghdr h;
        char cbuf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg;
    struct pollfd p = {.fd = sock, .events = POLLIN};
    struct cmsghdr *c;
    ssize_t n;

    if (poll(&p, 1, HANDOFF_TIMEOUT_MS) != 1) {
        snprintf(err, errlen, "environment did not hand over its Runtime API listener");
        return -1;
    }
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.cbuf;
    msg.msg_controllen = sizeof(u.cbuf);
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0) {
        snprintf(err, errlen, "environment exited before handing over its listener");
        return -1;
    }
    c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        memcpy(fd_out, CMSG_DATA(c), sizeof(int));
        return 0;
    }
    buf[n] = '\0';
    snprintf(err, errlen, "environment setup failed: %s", buf);
    return -1;
}

/* Room for the runtime folder's entries as bind paths (coverage mode). */
#define ARGV_STRINGS_MAX 8192

typedef struct argv_builder {
    const char *v[LAB_SANDBOX_MAX_ARGS];
    size_t n;
    int overflow;
    char tmp_bytes[24]; /* --size's argument: argv must outlive fork */
    char strings[ARGV_STRINGS_MAX]; /* bind paths built here, for the same reason */
    size_t used;
} argv_builder;

static void arg(argv_builder *b, const char *s)
{
    if (b->n + 1 >= LAB_SANDBOX_MAX_ARGS) {
        b->overflow = 1;
        return;
    }
    b->v[b->n++] = s;
    b->v[b->n] = NULL;
}

/* A "PREFIX/NAME" string kept in b; NULL (and overflow) when it does not fit. */
static const char *arg_path(argv_builder *b, const char *prefix, const char *name)
{
    size_t room = sizeof(b->strings) - b->used;
    int n = snprintf(b->strings + b->used, room, "%s/%s", prefix, name);
    const char *s = b->strings + b->used;

    if (n < 0 || (size_t)n >= room) {
        b->overflow = 1;
        return NULL;
    }
    b->used += (size_t)n + 1;
    return s;
}

/*
 * /var/runtime with the coverage file in it: each entry of the runtime
 * folder bound read-only on its own, because bubblewrap cannot create the
 * coverage mount point inside a read-only bind of the whole folder.
 */
static int bind_runtime_with_coverage(argv_builder *b, const lab_sandbox_spec *spec)
{
    DIR *d = NULL;
    struct dirent *de;
    int rc = -1;

    if (spec->runtime_dir) {
        d = opendir(spec->runtime_dir);
        if (!d)
            goto cleanup;
        while ((de = readdir(d)) != NULL) {
            struct stat st;
            const char *src, *dst;

            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                strcmp(de->d_name, "coverage") == 0)
                continue;
            if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
                continue;
            src = arg_path(b, spec->runtime_dir, de->d_name);
            dst = arg_path(b, "/var/runtime", de->d_name);
            if (!src || !dst)
                break;
            arg(b, "--ro-bind");
            arg(b, src);
            arg(b, dst);
        }
    }
    arg(b, "--bind");
    arg(b, spec->coverage_file);
    arg(b, LAB_SANDBOX_COVERAGE_PATH);
    rc = 0;
cleanup:
    if (d)
        closedir(d);
    return rc;
}

/* Debian 12 is merged-/usr: /bin, /lib, ... are links into /usr. */
static void bind_root_dir(argv_builder *b, const char *dir, const char *link_target)
{
    struct stat st;

    if (lstat(dir, &st) != 0)
        return;
    if (S_ISLNK(st.st_mode)) {
        arg(b, "--symlink");
        arg(b, link_target);
        arg(b, dir);
    } else if (S_ISDIR(st.st_mode)) {
        arg(b, "--ro-bind");
        arg(b, dir);
        arg(b, dir);
    }
}

/*
 * bwrap's arguments for spec. The command is cmd, or (stub) the stub
 * executable bwrap inherits at STUB_EXE_FD, seen through the sandbox's /proc.
 */
static int build_bwrap_argv(argv_builder *b, const lab_sandbox_spec *spec,
                            const char *const *cmd, int stub)
{
    size_t i;

    arg(b, BWRAP_PATH);
    arg(b, "--unshare-user");
    arg(b, "--uid");
    arg(b, SANDBOX_UID);
    arg(b, "--gid");
    arg(b, SANDBOX_GID);
    arg(b, "--unshare-pid");
    arg(b, "--unshare-ipc");
    arg(b, "--unshare-uts");
    arg(b, "--hostname");
    arg(b, "coldsec-lab-sandbox");
    arg(b, "--unshare-cgroup-try");
    arg(b, "--ro-bind");
    arg(b, "/usr");
    arg(b, "/usr");
    bind_root_dir(b, "/bin", "usr/bin");
    bind_root_dir(b, "/sbin", "usr/sbin");
    bind_root_dir(b, "/lib", "usr/lib");
    bind_root_dir(b, "/lib64", "usr/lib64");
    arg(b, "--ro-bind");
    arg(b, "/etc");
    arg(b, "/etc");
    if (spec->extra_ro_dir) {
        arg(b, "--ro-bind");
        arg(b, spec->extra_ro_dir);
        arg(b, spec->extra_ro_dir);
    }
    arg(b, "--proc");
    arg(b, "/proc");
    arg(b, "--dev");
    arg(b, "/dev");
    snprintf(b->tmp_bytes, sizeof(b->tmp_bytes), "%lld", (long long)spec->tmp_mb * 1024 * 1024);
    arg(b, "--size");
    arg(b, b->tmp_bytes);
    arg(b, "--tmpfs");
    arg(b, "/tmp");
    arg(b, "--ro-bind");
    arg(b, spec->code_dir);
    arg(b, "/var/task");
    if (spec->coverage_file) {
        if (bind_runtime_with_coverage(b, spec) != 0)
            return -1;
    } else if (spec->runtime_dir) {
        arg(b, "--ro-bind");
        arg(b, spec->runtime_dir);
        arg(b, "/var/runtime");
    }
    arg(b, "--chdir");
    arg(b, "/var/task");
    arg(b, "--remount-ro");
    arg(b, "/");
    arg(b, "--die-with-parent");
    arg(b, "--cap-drop");
    arg(b, "ALL");
    arg(b, "--");
    if (stub)
        arg(b, STUB_EXE_PATH);
    for (i = 0; cmd[i]; i++)
        arg(b, cmd[i]);
    return 0;
}

/* A forked child on its way to exec, as the parent keeps it. */
typedef struct started {
    pid_t pid;
    int sock;   /* our end of the handoff channel (and, for a spare, the stub's) */
    int log_fd; /* read end of its stdout+stderr */
} started;

/* What start_child() execs and how. */
typedef struct child_plan {
    const char *const *argv;
    const char *const *envp;
    int own_ns;        /* enter a new netns and hand its 9001 listener back */
    int listen_fd;     /* the caller's listener: closed in the child */
    const char *cwd;   /* chdir first (LAB_SANDBOX_NONE), or NULL */
    int stub_exe_fd;   /* >= 0: a spare: channel at STUB_CHANNEL_FD, stub at STUB_EXE_FD,
                        * set up at SPARE_NICE */
    const char *cgroup_procs; /* cgroup.procs to join before exec, or NULL */
} child_plan;

static void kill_started(started *st)
{
    if (st->pid > 0) {
        kill(-st->pid, SIGKILL);
        kill(st->pid, SIGKILL);
        /* ECHILD when the pool's waitpid(-1) got there first */
        while (waitpid(st->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (st->sock >= 0)
        close(st->sock);
    if (st->log_fd >= 0)
        close(st->log_fd);
    st->pid = -1;
    st->sock = st->log_fd = -1;
}

/*
 * Forks the child and returns at once (no waiting for its handoff). On
 * failure returns -1 with err set; cp->listen_fd is left to the caller.
 */
/* What the child of start_child() works with: all built before the clone. */
typedef struct child_args {
    const child_plan *cp;
    pid_t parent;
    int chan;     /* the child's end of the channel */
    int our_chan; /* the lab's end (closed in the child) */
    int log_r, log_w;
    int devnull;
} child_args;

/*
 * The child, up to its exec. It shares the lab's memory (CLONE_VM) while
 * the lab's thread waits (CLONE_VFORK), like posix_spawn: only syscalls on
 * its own stack and descriptors, nothing that allocates or takes a lock.
 */
static int child_main(void *arg)
{
    const child_args *a = arg;
    const child_plan *cp = a->cp;
    sigset_t none;
    int lfd;

    /* The lab blocks signals for its signalfd and ignores SIGPIPE;
     * neither may leak into the function's processes. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    setpgid(0, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != a->parent)
        _exit(127);
    close(a->our_chan);
    close(a->log_r);
    /* Before exec, so that every process of the environment is charged
     * to its memory cgroup from the start. */
    if (cp->cgroup_procs) {
        int cfd = open(cp->cgroup_procs, O_WRONLY | O_CLOEXEC);
        if (cfd < 0 || write(cfd, "0", 1) != 1)
            child_fail(a->chan, "join memory cgroup");
        close(cfd);
    }
    /* A spare is set up while runtimes start: it yields to them. */
    if (cp->stub_exe_fd >= 0 && setpriority(PRIO_PROCESS, 0, SPARE_NICE) != 0)
        child_fail(a->chan, "setpriority");
    if (cp->own_ns) {
        if (unshare(CLONE_NEWNET) != 0)
            child_fail(a->chan, "unshare(CLONE_NEWNET)");
        if (child_loopback_up() != 0)
            child_fail(a->chan, "loopback up");
        lfd = child_listen_9001();
        if (lfd < 0)
            child_fail(a->chan, "listen 127.0.0.1:9001");
        if (send_fd(a->chan, lfd) != 0)
            child_fail(a->chan, "hand over listener");
        close(lfd);
    } else {
        if (cp->listen_fd >= 0)
            close(cp->listen_fd);
        if (write(a->chan, "R", 1) != 1)
            _exit(127);
    }
    if (dup2(a->devnull, 0) < 0 || dup2(a->log_w, 1) < 0 || dup2(a->log_w, 2) < 0)
        _exit(127);
    if (cp->cwd && chdir(cp->cwd) != 0)
        _exit(127);
    if (cp->stub_exe_fd >= 0) {
        /* bwrap passes inherited descriptors on: the stub finds its
         * channel and its own executable at fixed numbers. */
        int chan = fcntl(a->chan, F_DUPFD, 10);
        int exe = fcntl(cp->stub_exe_fd, F_DUPFD, 10);
        if (chan < 0 || exe < 0 || dup2(chan, STUB_CHANNEL_FD) < 0 || dup2(exe, STUB_EXE_FD) < 0)
            _exit(127);
        syscall(SYS_close_range, (unsigned)STUB_EXE_FD + 1, ~0U, 0U);
    } else {
        /* Only 0-2 may reach the function: the lab's sockets and pipes
         * are O_CLOEXEC, and this closes anything a library opened
         * without it. */
        syscall(SYS_close_range, 3U, ~0U, 0U);
    }
    execve(cp->argv[0], (char *const *)cp->argv, (char *const *)cp->envp);
    _exit(127);
}

/* The child's stack: it runs only child_main's frames and the syscalls. */
#define CHILD_STACK_BYTES ((size_t)64 * 1024)

/*
 * Starts the child and returns once it has exec'd (or died), without
 * waiting for its handoff. fork() would copy the page tables of the whole
 * multi-threaded lab for a child that execs a few syscalls later; a
 * CLONE_VM|CLONE_VFORK child copies none. On failure returns -1 with err
 * set; cp->listen_fd is left to the caller.
 */
static int start_child(const child_plan *cp, started *st, char *err, size_t errlen)
{
    int logp[2] = {-1, -1};
    int sv[2] = {-1, -1};
    child_args a = {.cp = cp, .parent = getpid(), .devnull = -1};
    void *stack = MAP_FAILED;
    pid_t pid;

    st->pid = -1;
    st->sock = st->log_fd = -1;
    if (pipe2(logp, O_CLOEXEC) != 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 ||
        (a.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "environment pipes: %s", strerror(errno));
        goto fail;
    }
    a.chan = sv[1];
    a.our_chan = sv[0];
    a.log_r = logp[0];
    a.log_w = logp[1];
#ifdef __SANITIZE_ADDRESS__
    /* AddressSanitizer would poison the child's frames in the shadow of
     * memory the lab keeps using: sanitized builds copy the lab instead. */
    pid = fork();
    if (pid == 0)
        child_main(&a);
#else
    stack = mmap(NULL, CHILD_STACK_BYTES, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        snprintf(err, errlen, "child stack: %s", strerror(errno));
        goto fail;
    }
    pid = clone(child_main, (char *)stack + CHILD_STACK_BYTES, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
#endif
    if (pid < 0) {
        snprintf(err, errlen, "clone: %s", strerror(errno));
        goto fail;
    }
    /* The child has exec'd or died (CLONE_VFORK): its stack is free. */
    if (stack != MAP_FAILED)
        munmap(stack, CHILD_STACK_BYTES);
    close(sv[1]);
    close(logp[1]);
    close(a.devnull);
    st->pid = pid;
    st->sock = sv[0];
    st->log_fd = logp[0];
    return 0;
fail:
    if (stack != MAP_FAILED)
        munmap(stack, CHILD_STACK_BYTES);
    if (logp[0] >= 0)
        close(logp[0]);
    if (logp[1] >= 0)
        close(logp[1]);
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    if (a.devnull >= 0)
        close(a.devnull);
    return -1;
}

/* The first message of a started child: its netns listener, or "ready". */
static int await_handoff(started *st, int own_ns, int *listen_fd, char *err, size_t errlen)
{
    char ready;
    struct pollfd p = {.fd = st->sock, .events = POLLIN};

    if (own_ns)
        return recv_handoff(st->sock, listen_fd, err, errlen);
    if (poll(&p, 1, HANDOFF_TIMEOUT_MS) != 1 || read(st->sock, &ready, 1) != 1) {
        snprintf(err, errlen, "environment did not start");
        return -1;
    }
    return 0;
}

static int check_spec(const lab_sandbox_spec *spec, char *err, size_t errlen)
{
    if (spec->mode == LAB_SANDBOX_NONE && spec->listen_fd < 0) {
        snprintf(err, errlen, "unsandboxed environment needs a listener");
        return -1;
    }
    /* tmpfs reads size=0 as "no limit": never let a zero through. */
    if (spec->mode == LAB_SANDBOX_BWRAP && spec->tmp_mb <= 0) {
        snprintf(err, errlen, "sandbox /tmp size must be positive, got %d MB", spec->tmp_mb);
        return -1;
    }
    return 0;
}

/* ---------- spares: sandboxes prepared ahead, waiting for their command ---------- */

/*
 * The go message, one SOCK_SEQPACKET packet: 'G', argc and envc as
 * uint32_t, then argc + envc NUL-terminated strings.
 */
#define GO_MAX 65536
#define GO_HEAD (1 + 2 * sizeof(uint32_t))
#define STUB_MAX_ENV 1024
/*
 * How long after a start its replacement is prepared: bwrap's ~9 ms of CPU
 * then comes after the runtime's own start (C ~18 ms, Python ~64 ms) rather
 * than during it, whenever starts are further apart than this.
 */
#define REFILL_DELAY_MS 100
/* How many spares one cache keeps (all functions together). */
#define SPARES_MAX 16
/* A spare is bwrap, its pid-namespace init and the stub. */
#define SPARE_TREE_MAX 8

typedef struct spare {
    char *key;        /* the sandbox's shape (spare_key) */
    started st;       /* st.pid == 0: still being forked by the thread that reserved it */
    int listen_fd;    /* its netns listener, once handed over; else -1 */
    bool ready;       /* the stub said "ready": only then is it taken */
    struct timespec expires; /* CLOCK_MONOTONIC: dropped by lab_sandbox_cache_trim after; 0: never */
    struct spare *next;
} spare;

/* A sandbox shape to prepare a spare of: spec's bind fields, copied. */
typedef struct shape {
    char *key;
    char *dirs[4];    /* code_dir, runtime_dir, extra_ro_dir, coverage_file (or NULL) */
    int tmp_mb;
    int idle_s;       /* spec->spare_idle_s of the start that asked for it */
    struct timespec not_before; /* CLOCK_MONOTONIC: queued + REFILL_DELAY_MS */
    struct shape *next;
} shape;

struct lab_sandbox_cache {
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* todo or stop changed */
    pthread_t refiller;  /* forks every spare, so their PDEATHSIG is tied to it */
    bool refiller_started;
    bool stop;
    int stub_exe_fd;     /* coldsec-lab-stub beside the lab, O_CLOEXEC */
    spare *head;         /* newest first */
    int count;
    shape *todo;         /* shapes to prepare, oldest first */
};

static void *refiller_main(void *arg);

int lab_sandbox_cache_new(lab_sandbox_cache **out, const char *stub_path, char *err, size_t errlen)
{
    lab_sandbox_cache *c = calloc(1, sizeof(*c));
    char beside[PATH_MAX];

    *out = NULL;
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!stub_path) {
        /* Beside the lab (a build tree), else PREFIX/libexec/coldsec/ (an
         * installed tree: bin/ keeps only the programs users run). Found
         * here, not with src/paths.c, because the stub links this file
         * alone. */
        ssize_t n = readlink("/proc/self/exe", beside, sizeof(beside) - 1);
        char *slash;
        static const char installed[] = "../libexec/coldsec/" LAB_SANDBOX_STUB_NAME;
        beside[n > 0 ? n : 0] = '\0';
        slash = strrchr(beside, '/');
        if (!slash || (size_t)(slash - beside) + sizeof("/") + sizeof(installed) > sizeof(beside)) {
            snprintf(err, errlen, "cannot tell where this executable is");
            free(c);
            return -1;
        }
        memcpy(slash + 1, LAB_SANDBOX_STUB_NAME, sizeof(LAB_SANDBOX_STUB_NAME));
        if (access(beside, X_OK) != 0)
            memcpy(slash + 1, installed, sizeof(installed));
        stub_path = beside;
    }
    c->stub_exe_fd = open(stub_path, O_RDONLY | O_CLOEXEC);
    if (c->stub_exe_fd < 0) {
        snprintf(err, errlen, "%.300s: %s", stub_path, strerror(errno));
        free(c);
        return -1;
    }
    pthread_mutex_init(&c->mu, NULL);
    /* the refiller's deadlines are CLOCK_MONOTONIC */
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&c->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (pthread_create(&c->refiller, NULL, refiller_main, c) != 0) {
        snprintf(err, errlen, "spare sandboxes' thread: %s", strerror(errno));
        lab_sandbox_cache_free(&c);
        return -1;
    }
    c->refiller_started = true;
    *out = c;
    return 0;
}

static void shape_free(shape *h)
{
    if (!h)
        return;
    free(h->key);
    for (int i = 0; i < 4; i++)
        free(h->dirs[i]);
    free(h);
}

static void spare_free(spare *s)
{
    kill_started(&s->st);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    free(s->key);
    free(s);
}

/* A list unlinked from the cache: freed outside its lock, since
 * kill_started waits for each spare's exit. */
static void spare_free_list(spare *list)
{
    while (list) {
        spare *s = list;
        list = s->next;
        spare_free(s);
    }
}

void lab_sandbox_cache_free(lab_sandbox_cache **cp)
{
    lab_sandbox_cache *c = cp ? *cp : NULL;

    if (!c)
        return;
    if (c->refiller_started) {
        pthread_mutex_lock(&c->mu);
        c->stop = true;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->refiller, NULL);
    }
    while (c->todo) {
        shape *h = c->todo;
        c->todo = h->next;
        shape_free(h);
    }
    spare_free_list(c->head);
    c->head = NULL;
    close(c->stub_exe_fd);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
    *cp = NULL;
}

void lab_sandbox_cache_trim(lab_sandbox_cache *c)
{
    struct timespec now;
    spare *gone = NULL, **pp;

    if (!c)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&c->mu);
    for (pp = &c->head; *pp;) {
        spare *t = *pp;
        bool due = t->st.pid > 0 && t->expires.tv_sec != 0 &&
                   (now.tv_sec > t->expires.tv_sec ||
                    (now.tv_sec == t->expires.tv_sec && now.tv_nsec >= t->expires.tv_nsec));
        if (!due) {
            pp = &t->next;
            continue;
        }
        *pp = t->next;
        c->count--;
        t->next = gone;
        gone = t;
    }
    pthread_mutex_unlock(&c->mu);
    spare_free_list(gone);
}

/* What makes two environments' sandboxes interchangeable; NULL: no spare. */
static char *spare_key(const lab_sandbox_spec *spec)
{
    const char *f[4] = {spec->code_dir, spec->runtime_dir, spec->extra_ro_dir, spec->coverage_file};
    char *k;
    int n;

    for (int i = 0; i < 4; i++)
        if (!f[i])
            f[i] = "";
    n = snprintf(NULL, 0, "%s\n%s\n%s\n%s\n%d", f[0], f[1], f[2], f[3], spec->tmp_mb);
    if (n < 0 || !(k = malloc((size_t)n + 1)))
        return NULL;
    snprintf(k, (size_t)n + 1, "%s\n%s\n%s\n%s\n%d", f[0], f[1], f[2], f[3], spec->tmp_mb);
    return k;
}

/*
 * Reads what a spare has sent so far, without waiting: 1 when it is ready
 * (listener received, stub waiting), 0 when still being set up, -1 dead.
 */
static int spare_poll(spare *s)
{
    struct pollfd p = {.fd = s->st.sock, .events = POLLIN};
    char err[256], ready = 0;

    while (!s->ready) {
        if (poll(&p, 1, 0) != 1)
            return 0;
        if (s->listen_fd < 0) {
            if (recv_handoff(s->st.sock, &s->listen_fd, err, sizeof(err)) != 0)
                return -1;
            continue;
        }
        if (recv(s->st.sock, &ready, 1, MSG_DONTWAIT) != 1 || ready != 'S')
            return -1;
        s->ready = true;
    }
    return 1;
}

/*
 * Takes a ready spare of this shape out of the cache, or NULL. One still
 * being set up stays (it is never waited for: under load a start from it
 * could take longer than the slow way); dead ones are freed.
 */
static spare *spare_take(lab_sandbox_cache *c, const char *key)
{
    spare **pp, *s = NULL, *dead = NULL;

    pthread_mutex_lock(&c->mu);
    for (pp = &c->head; *pp;) {
        spare *t = *pp;
        int r = t->st.pid > 0 && strcmp(t->key, key) == 0 ? spare_poll(t) : 0;
        if (r == 0) {
            pp = &t->next;
            continue;
        }
        *pp = t->next;
        c->count--;
        if (r > 0) {
            s = t;
            break;
        }
        t->next = dead;
        dead = t;
    }
    pthread_mutex_unlock(&c->mu);
    spare_free_list(dead);
    return s;
}

/*
 * Prepares one spare of shape h on the refiller thread, unless one exists:
 * forks it and returns without waiting for its setup. Failures only mean
 * that the next environment of this shape starts the slow way.
 */
static void spare_prepare(lab_sandbox_cache *c, shape *h)
{
    static const char *const stub_argv_tail[] = {NULL};
    static const char *const no_env[] = {NULL};
    lab_sandbox_spec spec = {
        .mode = LAB_SANDBOX_BWRAP, .code_dir = h->dirs[0], .runtime_dir = h->dirs[1],
        .extra_ro_dir = h->dirs[2], .coverage_file = h->dirs[3], .tmp_mb = h->tmp_mb,
        .listen_fd = -1,
    };
    argv_builder *b = NULL;
    spare *s = NULL, *evict = NULL, **pp;
    started st;
    char err[256];
    child_plan cp;

    pthread_mutex_lock(&c->mu);
    for (spare *t = c->head; t; t = t->next) {
        if (strcmp(t->key, h->key) == 0) {
            pthread_mutex_unlock(&c->mu);
            return;
        }
    }
    s = calloc(1, sizeof(*s));
    if (s) {
        /* listed before it exists (st.pid == 0), so spare_take skips it */
        s->key = h->key;
        h->key = NULL;
        s->st.sock = s->st.log_fd = -1;
        s->listen_fd = -1;
        if (h->idle_s > 0) {
            clock_gettime(CLOCK_MONOTONIC, &s->expires);
            s->expires.tv_sec += h->idle_s;
        }
        s->next = c->head;
        c->head = s;
        c->count++;
        if (c->count > SPARES_MAX) {
            for (pp = &c->head; *pp && (*pp)->next; pp = &(*pp)->next)
                ;
            if (*pp != s && (*pp)->st.pid > 0) {
                evict = *pp;
                *pp = NULL;
                c->count--;
            }
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (!s)
        return;
    if (evict)
        spare_free(evict);

    b = calloc(1, sizeof(*b));
    if (!b || build_bwrap_argv(b, &spec, stub_argv_tail, 1) != 0 || b->overflow)
        goto unlist;
    cp = (child_plan){.argv = b->v, .envp = no_env, .own_ns = 1, .listen_fd = -1,
                      .cwd = NULL, .stub_exe_fd = c->stub_exe_fd};
    if (start_child(&cp, &st, err, sizeof(err)) != 0)
        goto unlist;
    free(b);
    pthread_mutex_lock(&c->mu);
    s->st = st; /* under the lock: spare_take reads st.pid */
    pthread_mutex_unlock(&c->mu);
    return;
unlist:
    free(b);
    pthread_mutex_lock(&c->mu);
    for (pp = &c->head; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            c->count--;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    s->st.pid = -1;
    spare_free(s);
}

/*
 * The refiller: prepares the shapes spare_request() queued. Its own thread,
 * so that no start waits for a spare's clone (the clone waits until the
 * child has made its netns and exec'd bwrap: milliseconds under load).
 */
static void *refiller_main(void *arg)
{
    lab_sandbox_cache *c = arg;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        shape *h;
        while (!c->stop && !c->todo)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        /* the oldest is the first due; stop or a timeout ends the wait */
        if (pthread_cond_timedwait(&c->cv, &c->mu, &c->todo->not_before) == 0)
            continue;
        if (c->stop || !c->todo)
            continue;
        h = c->todo;
        c->todo = h->next;
        pthread_mutex_unlock(&c->mu);
        spare_prepare(c, h);
        shape_free(h);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/*
 * Asks the refiller for one spare of spec's shape (key, which this takes),
 * unless one exists, is being prepared or is queued.
 */
static void spare_request(lab_sandbox_cache *c, const lab_sandbox_spec *spec, char *key)
{
    const char *dirs[4] = {spec->code_dir, spec->runtime_dir, spec->extra_ro_dir, spec->coverage_file};
    shape *h = calloc(1, sizeof(*h)), **pp;
    bool ok = h != NULL;

    for (int i = 0; ok && i < 4; i++)
        if (dirs[i] && !(h->dirs[i] = strdup(dirs[i])))
            ok = false;
    if (!ok) {
        free(key);
        shape_free(h);
        return;
    }
    h->key = key;
    h->tmp_mb = spec->tmp_mb;
    h->idle_s = spec->spare_idle_s;
    clock_gettime(CLOCK_MONOTONIC, &h->not_before);
    h->not_before.tv_nsec += REFILL_DELAY_MS * 1000000L;
    h->not_before.tv_sec += h->not_before.tv_nsec / 1000000000L;
    h->not_before.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&c->mu);
    for (spare *t = c->head; t; t = t->next)
        if (strcmp(t->key, key) == 0)
            ok = false;
    for (pp = &c->todo; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->key, key) == 0)
            ok = false;
    if (ok && !c->stop) {
        *pp = h;
        h = NULL;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    shape_free(h);
}

/* The argv and envp of spec as one go message; NULL when it would not fit. */
static char *go_message(const lab_sandbox_spec *spec, size_t *len_out)
{
    uint32_t argc = 0, envc = 0;
    size_t len = GO_HEAD;
    char *m, *w;

    while (spec->argv[argc])
        len += strlen(spec->argv[argc++]) + 1;
    while (spec->envp[envc])
        len += strlen(spec->envp[envc++]) + 1;
    if (len > GO_MAX || argc == 0 || argc >= LAB_SANDBOX_MAX_ARGS || envc > STUB_MAX_ENV ||
        !(m = malloc(len)))
        return NULL;
    m[0] = 'G';
    memcpy(m + 1, &argc, sizeof(argc));
    memcpy(m + 1 + sizeof(argc), &envc, sizeof(envc));
    w = m + GO_HEAD;
    for (uint32_t i = 0; i < argc; i++) {
        size_t n = strlen(spec->argv[i]) + 1;
        memcpy(w, spec->argv[i], n);
        w += n;
    }
    for (uint32_t i = 0; i < envc; i++) {
        size_t n = strlen(spec->envp[i]) + 1;
        memcpy(w, spec->envp[i], n);
        w += n;
    }
    *len_out = len;
    return m;
}

/*
 * Starts spec's command in a ready spare: the go message. 0 with out
 * filled; -1 when the spare is unusable (the spare is then gone and the
 * caller starts the slow way).
 */
/*
 * Moves a spare's processes (bwrap, its init, the stub: made before the
 * environment's cgroup existed) into cgroup_procs. The stub is blocked on
 * its channel until the go message, so the tree cannot grow meanwhile.
 */
static int spare_join_cgroup(pid_t root, const char *cgroup_procs)
{
    pid_t todo[SPARE_TREE_MAX];
    int n = 0, fd, rc = 0;

    fd = open(cgroup_procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    todo[n++] = root;
    while (n > 0 && rc == 0) {
        pid_t pid = todo[--n];
        char path[64], buf[256], num[24];
        int cfd, len;
        ssize_t got;

        len = snprintf(num, sizeof(num), "%d", (int)pid);
        if (write(fd, num, (size_t)len) != len)
            rc = -1;
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
        cfd = open(path, O_RDONLY | O_CLOEXEC);
        if (cfd < 0)
            continue;
        got = read(cfd, buf, sizeof(buf) - 1);
        close(cfd);
        buf[got > 0 ? got : 0] = '\0';
        for (char *p = buf, *end; n < SPARE_TREE_MAX; p = end) {
            long v = strtol(p, &end, 10);
            if (end == p)
                break;
            todo[n++] = (pid_t)v;
        }
    }
    close(fd);
    return rc;
}

static int spare_start(spare *s, const char *go, size_t go_len, const char *cgroup_procs,
                       lab_sandbox_proc *out)
{
    if (cgroup_procs && spare_join_cgroup(s->st.pid, cgroup_procs) != 0)
        goto fail;
    /* The runtime runs at full speed: bwrap, its init and the stub are all
     * in the spare's process group. */
    if (setpriority(PRIO_PGRP, (id_t)s->st.pid, 0) != 0)
        goto fail;
    if (send(s->st.sock, go, go_len, MSG_NOSIGNAL) != (ssize_t)go_len)
        goto fail;
    if (fcntl(s->st.log_fd, F_SETFL, O_NONBLOCK) != 0)
        goto fail;
    out->pid = s->st.pid;
    out->log_fd = s->st.log_fd;
    out->listen_fd = s->listen_fd;
    close(s->st.sock);
    free(s->key);
    free(s);
    return 0;
fail:
    spare_free(s);
    return -1;
}

int lab_sandbox_stub_main(void)
{
    char *buf = malloc(GO_MAX + 1);
    const char *argv[LAB_SANDBOX_MAX_ARGS + 1];
    const char *envp[STUB_MAX_ENV + 1];
    uint32_t argc, envc;
    ssize_t n;
    char *r, *end;
    int rc = 127;

    if (!buf || write(STUB_CHANNEL_FD, "S", 1) != 1)
        goto cleanup;
    n = recv(STUB_CHANNEL_FD, buf, GO_MAX + 1, 0);
    if (n <= 0) {
        rc = 0; /* the lab let this spare go unused */
        goto cleanup;
    }
    if ((size_t)n < GO_HEAD || n > GO_MAX || buf[0] != 'G')
        goto cleanup;
    memcpy(&argc, buf + 1, sizeof(argc));
    memcpy(&envc, buf + 1 + sizeof(argc), sizeof(envc));
    if (argc == 0 || argc >= LAB_SANDBOX_MAX_ARGS || envc > STUB_MAX_ENV)
        goto cleanup;
    r = buf + GO_HEAD;
    end = buf + n;
    for (uint32_t i = 0; i < argc + envc; i++) {
        char *z = memchr(r, '\0', (size_t)(end - r));
        if (!z)
            goto cleanup;
        if (i < argc)
            argv[i] = r;
        else
            envp[i - argc] = r;
        r = z + 1;
    }
    argv[argc] = NULL;
    envp[envc] = NULL;
    /* The function gets 0-2 only, as when bwrap execs it directly. */
    syscall(SYS_close_range, 3U, ~0U, 0U);
    execve(argv[0], (char *const *)argv, (char *const *)envp);
    /* bwrap's own wording and exit code, so both ways fail alike */
    fprintf(stderr, "bwrap: execvp %s: %s\n", argv[0], strerror(errno));
    rc = 1;
cleanup:
    free(buf);
    return rc;
}

int lab_sandbox_spawn(const lab_sandbox_spec *spec, lab_sandbox_proc *out,
                      char *err, size_t errlen)
{
    argv_builder *b = NULL;
    started st = {.pid = -1, .sock = -1, .log_fd = -1};
    int listen_fd = spec->listen_fd;
    int own_ns = (spec->mode == LAB_SANDBOX_BWRAP && listen_fd < 0);
    /* Spares need an absolute command: the stub does no PATH search. */
    int use_cache = own_ns && spec->cache && spec->argv[0] && spec->argv[0][0] == '/';
    char *key = NULL;
    child_plan cp;
    int rc = -1;

    if (check_spec(spec, err, errlen) != 0)
        goto cleanup;
    if (use_cache && (key = spare_key(spec)) != NULL) {
        spare *s = spare_take(spec->cache, key);
        size_t go_len = 0;
        char *go = s ? go_message(spec, &go_len) : NULL;

        if (s && go && spare_start(s, go, go_len, spec->cgroup_procs, out) == 0) {
            free(go);
            spare_request(spec->cache, spec, key);
            return 0;
        }
        if (s && !go)
            spare_free(s);
        free(go);
    }
    if (spec->mode == LAB_SANDBOX_BWRAP) {
        b = calloc(1, sizeof(*b));
        if (!b) {
            snprintf(err, errlen, "out of memory");
            goto cleanup;
        }
        if (build_bwrap_argv(b, spec, spec->argv, 0) != 0) {
            snprintf(err, errlen, "runtime folder %.300s: %s", spec->runtime_dir, strerror(errno));
            goto cleanup;
        }
        if (b->overflow) {
            snprintf(err, errlen, "too many sandbox arguments");
            goto cleanup;
        }
    }
    cp = (child_plan){.argv = b ? b->v : spec->argv, .envp = spec->envp, .own_ns = own_ns,
                      .listen_fd = listen_fd,
                      .cwd = spec->mode == LAB_SANDBOX_NONE ? spec->cwd : NULL, .stub_exe_fd = -1,
                      .cgroup_procs = spec->cgroup_procs};
    if (start_child(&cp, &st, err, errlen) != 0)
        goto cleanup;
    if (await_handoff(&st, own_ns, &listen_fd, err, errlen) != 0)
        goto cleanup;
    if (fcntl(st.log_fd, F_SETFL, O_NONBLOCK) != 0) {
        snprintf(err, errlen, "log pipe: %s", strerror(errno));
        goto cleanup;
    }
    close(st.sock);
    out->pid = st.pid;
    out->log_fd = st.log_fd;
    out->listen_fd = listen_fd;
    listen_fd = -1;
    st.pid = -1;
    st.sock = st.log_fd = -1;
    rc = 0;
    if (use_cache && key) {
        spare_request(spec->cache, spec, key);
        key = NULL;
    }
cleanup:
    kill_started(&st);
    if (listen_fd >= 0)
        close(listen_fd);
    free(key);
    free(b);
    return rc;
}

int lab_sandbox_probe(char *err, size_t errlen)
{
    static const char *const argv[] = {"/bin/true", NULL};
    static const char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
    lab_sandbox_spec spec = {
        .mode = LAB_SANDBOX_BWRAP, .argv = argv, .envp = envp,
        .code_dir = "/", .runtime_dir = NULL, .extra_ro_dir = NULL, .coverage_file = NULL,
        .cwd = NULL, .tmp_mb = 1, .listen_fd = -1,
    };
    lab_sandbox_proc p;
    int status = 0;
    char buf[512];
    ssize_t n;

    if (access(BWRAP_PATH, X_OK) != 0) {
        snprintf(err, errlen, "%s not found (install the bubblewrap package)", BWRAP_PATH);
        return -1;
    }
    if (lab_sandbox_spawn(&spec, &p, err, errlen) != 0)
        return -1;
    if (waitpid(p.pid, &status, 0) != p.pid) {
        snprintf(err, errlen, "waitpid: %s", strerror(errno));
        goto fail;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        n = read(p.log_fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        snprintf(err, errlen, "bubblewrap failed: %s", n > 0 ? buf : "no output");
        goto fail;
    }
    close(p.log_fd);
    close(p.listen_fd);
    return 0;
fail:
    close(p.log_fd);
    close(p.listen_fd);
    return -1;
}

void lab_sandbox_signal(pid_t pid, int sig)
{
    if (pid > 0)
        kill(-pid, sig);
}
