/*
 * lab_sandbox — forks one execution environment (see lab_sandbox.h).
 *
 * Everything the child needs (argv, environment, paths) is built before
 * fork(): between fork and exec a multi-threaded process may only make
 * async-signal-safe calls, so the child does raw syscalls only.
 */
#include "lab_sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sched.h>

#define BWRAP_PATH "/usr/bin/bwrap"
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

static int build_bwrap_argv(argv_builder *b, const lab_sandbox_spec *spec)
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
    for (i = 0; spec->argv[i]; i++)
        arg(b, spec->argv[i]);
    return 0;
}

int lab_sandbox_spawn(const lab_sandbox_spec *spec, lab_sandbox_proc *out,
                      char *err, size_t errlen)
{
    argv_builder b = {.n = 0, .overflow = 0, .used = 0};
    int logp[2] = {-1, -1};
    int sv[2] = {-1, -1};
    int devnull = -1;
    int listen_fd = spec->listen_fd;
    int own_ns = (spec->mode == LAB_SANDBOX_BWRAP && listen_fd < 0);
    pid_t parent = getpid();
    pid_t pid;
    const char *const *child_argv;
    sigset_t all;

    if (spec->mode == LAB_SANDBOX_NONE && listen_fd < 0) {
        snprintf(err, errlen, "unsandboxed environment needs a listener");
        goto fail;
    }
    /* tmpfs reads size=0 as "no limit": never let a zero through. */
    if (spec->mode == LAB_SANDBOX_BWRAP && spec->tmp_mb <= 0) {
        snprintf(err, errlen, "sandbox /tmp size must be positive, got %d MB", spec->tmp_mb);
        goto fail;
    }
    if (spec->mode == LAB_SANDBOX_BWRAP) {
        if (build_bwrap_argv(&b, spec) != 0) {
            snprintf(err, errlen, "runtime folder %.300s: %s", spec->runtime_dir, strerror(errno));
            goto fail;
        }
        if (b.overflow) {
            snprintf(err, errlen, "too many sandbox arguments");
            goto fail;
        }
        child_argv = b.v;
    } else {
        child_argv = spec->argv;
    }
    if (pipe2(logp, O_CLOEXEC) != 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 ||
        (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "environment pipes: %s", strerror(errno));
        goto fail;
    }

    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        int lfd;

        /* The lab blocks signals for its signalfd and ignores SIGPIPE;
         * neither may leak into the function's processes. */
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGPIPE, SIG_DFL);
        setpgid(0, 0);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        close(sv[0]);
        close(logp[0]);
        /* Before exec, so that every process of the environment is charged
         * to its memory cgroup from the start. */
        if (spec->cgroup_procs) {
            int cfd = open(spec->cgroup_procs, O_WRONLY | O_CLOEXEC);
            if (cfd < 0 || write(cfd, "0", 1) != 1)
                child_fail(sv[1], "join memory cgroup");
            close(cfd);
        }
        if (own_ns) {
            if (unshare(CLONE_NEWNET) != 0)
                child_fail(sv[1], "unshare(CLONE_NEWNET)");
            if (child_loopback_up() != 0)
                child_fail(sv[1], "loopback up");
            lfd = child_listen_9001();
            if (lfd < 0)
                child_fail(sv[1], "listen 127.0.0.1:9001");
            if (send_fd(sv[1], lfd) != 0)
                child_fail(sv[1], "hand over listener");
            close(lfd);
        } else {
            if (listen_fd >= 0)
                close(listen_fd);
            if (write(sv[1], "R", 1) != 1)
                _exit(127);
        }
        if (dup2(devnull, 0) < 0 || dup2(logp[1], 1) < 0 || dup2(logp[1], 2) < 0)
            _exit(127);
        if (spec->mode == LAB_SANDBOX_NONE && spec->cwd && chdir(spec->cwd) != 0)
            _exit(127);
        /* Only 0-2 may reach the function: the lab's sockets and pipes are
         * O_CLOEXEC, and this closes anything a library opened without it. */
        syscall(SYS_close_range, 3U, ~0U, 0U);
        execve(child_argv[0], (char *const *)child_argv, (char *const *)spec->envp);
        _exit(127);
    }

    close(sv[1]);
    sv[1] = -1;
    close(logp[1]);
    logp[1] = -1;
    if (own_ns) {
        if (recv_handoff(sv[0], &listen_fd, err, errlen) != 0)
            goto fail_child;
    } else {
        char ready;
        struct pollfd p = {.fd = sv[0], .events = POLLIN};
        if (poll(&p, 1, HANDOFF_TIMEOUT_MS) != 1 || read(sv[0], &ready, 1) != 1) {
            snprintf(err, errlen, "environment did not start");
            goto fail_child;
        }
    }
    if (fcntl(logp[0], F_SETFL, O_NONBLOCK) != 0) {
        snprintf(err, errlen, "log pipe: %s", strerror(errno));
        goto fail_child;
    }
    close(sv[0]);
    close(devnull);
    out->pid = pid;
    out->log_fd = logp[0];
    out->listen_fd = listen_fd;
    return 0;

fail_child:
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
fail:
    if (listen_fd >= 0)
        close(listen_fd);
    if (logp[0] >= 0)
        close(logp[0]);
    if (logp[1] >= 0)
        close(logp[1]);
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    if (devnull >= 0)
        close(devnull);
    return -1;
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
