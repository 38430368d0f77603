/*
 * lab_cgroup — per-environment memory cgroups (see lab_cgroup.h).
 *
 * Interface files (Documentation/admin-guide/cgroup-v2.rst and
 * cgroup-v1/memory.rst in the Linux tree): v2 memory.current, memory.peak
 * (writable, resetting the peak for that file descriptor, since Linux
 * 6.12), memory.max, memory.stat ("file", "shmem"), memory.events
 * ("oom_kill"), cgroup.kill; v1 memory.usage_in_bytes,
 * memory.max_usage_in_bytes (writing 0 restarts it from the current usage),
 * memory.limit_in_bytes, memory.stat ("cache", "shmem"), memory.oom_control
 * ("oom_kill"). Counters are read with pread() on descriptors kept open, so
 * a sample costs one system call.
 */
#include "lab_cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PREFIX "coldsec-lab-"
#define SELF_SUFFIX ".self"
/* How long lab_cgroup_close() waits for the kernel to let go of exiting processes. */
#define CLOSE_WAIT_MS 2000

typedef struct pending {
    char *path;
    struct pending *next;
} pending;

struct lab_cgroup {
    int version;              /* 1 or 2 */
    char own[PATH_MAX];       /* the cgroup the lab was started in */
    char dir[PATH_MAX];       /* own/coldsec-lab-<pid> */
    char self_leaf[PATH_MAX]; /* v2: where the lab moved itself, or "" */
    bool enabled_memory;      /* v2: we wrote +memory to own's subtree_control */
    char desc[PATH_MAX + 32];
    pthread_mutex_t mu;
    pending *pending;
};

struct lab_cgroup_env {
    lab_cgroup *cg;
    char path[PATH_MAX];
    char procs[PATH_MAX + 16];
    int usage_fd;
    int peak_fd;
    int stat_fd;
    bool peak_resettable;
};

/* ---------- small file helpers ---------- */

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    size_t len = strlen(text);
    ssize_t n;
    int saved;

    if (fd < 0)
        return -1;
    n = write(fd, text, len);
    saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)len ? 0 : -1;
}

static ssize_t read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

static int join(char *out, size_t len, const char *a, const char *b)
{
    int n = snprintf(out, len, "%s/%s", a, b);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static bool has_word(const char *list, const char *word)
{
    size_t wl = strlen(word);

    for (const char *s = list; (s = strstr(s, word)) != NULL; s += wl) {
        bool start = s == list || s[-1] == ' ' || s[-1] == '\n' || s[-1] == ',';
        bool end = s[wl] == '\0' || s[wl] == ' ' || s[wl] == '\n' || s[wl] == ',';
        if (start && end)
            return true;
    }
    return false;
}

static int read_counter(int fd, long long *out)
{
    char buf[64];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    char *end;

    if (n <= 0)
        return -1;
    buf[n] = '\0';
    errno = 0;
    *out = strtoll(buf, &end, 10);
    return end == buf || errno != 0 ? -1 : 0;
}

/* Value of "key N" at the start of a line in a flat keyed file; -1 when absent. */
static long long keyed_value(const char *text, const char *key)
{
    size_t kl = strlen(key);

    for (const char *line = text; line && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, key, kl) == 0 && line[kl] == ' ')
            return strtoll(line + kl + 1, NULL, 10);
    }
    return -1;
}

/* ---------- finding the lab's own cgroup ---------- */

/*
 * The folder of the lab's cgroup in the hierarchy of fstype ("cgroup2", or
 * "cgroup" with option "memory"): the mount point from /proc/self/mountinfo
 * plus the path from /proc/self/cgroup, less the mount's own root.
 */
static int own_cgroup_dir(int version, char *out, size_t len)
{
    char line[4096], cgpath[PATH_MAX] = "", mnt[PATH_MAX] = "", root[PATH_MAX] = "";
    FILE *f = fopen("/proc/self/cgroup", "re");
    int rc = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        if ((version == 2 && strcmp(line, "0") == 0 && c1[1] == '\0') ||
            (version == 1 && has_word(c1 + 1, "memory"))) {
            snprintf(cgpath, sizeof(cgpath), "%s", c2 + 1);
            cgpath[strcspn(cgpath, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
    if (!cgpath[0])
        return -1;

    f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        char r[PATH_MAX], m[PATH_MAX], fstype[64], opts[1024];
        const char *sep = strstr(line, " - ");
        if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2 ||
            sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2)
            continue;
        if ((version == 2 && strcmp(fstype, "cgroup2") == 0) ||
            (version == 1 && strcmp(fstype, "cgroup") == 0 && has_word(opts, "memory"))) {
            snprintf(root, sizeof(root), "%s", r);
            snprintf(mnt, sizeof(mnt), "%s", m);
            break;
        }
    }
    fclose(f);
    if (!mnt[0])
        return -1;
    {
        const char *rel = cgpath;
        size_t rl = strlen(root);
        int n;
        if (strcmp(root, "/") != 0 && strncmp(cgpath, root, rl) == 0)
            rel = cgpath + rl;
        n = snprintf(out, len, "%s%s", mnt, strcmp(rel, "/") == 0 ? "" : rel);
        if (n > 0 && (size_t)n < len)
            rc = 0;
    }
    return rc;
}

/* ---------- removing folders ---------- */

static void kill_inside(const char *dir)
{
    char path[PATH_MAX + 16], buf[8192];
    ssize_t n;

    if (join(path, sizeof(path), dir, "cgroup.kill") == 0 && write_file(path, "1") == 0)
        return;
    if (join(path, sizeof(path), dir, "cgroup.procs") != 0)
        return;
    n = read_file(path, buf, sizeof(buf));
    if (n <= 0)
        return;
    for (char *s = buf, *end; *s; s = end) {
        long pid = strtol(s, &end, 10);
        if (end == s)
            break;
        if (pid > 0)
            kill((pid_t)pid, SIGKILL);
    }
}

/* Kills and removes dir and the cgroups in it; 0 when it is gone. */
static int remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return errno == ENOENT ? 0 : -1;
    while ((de = readdir(d)) != NULL) {
        char sub[PATH_MAX];
        if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (join(sub, sizeof(sub), dir, de->d_name) == 0)
            remove_tree(sub);
    }
    closedir(d);
    kill_inside(dir);
    return rmdir(dir) == 0 || errno == ENOENT ? 0 : -1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Folders of labs that died without cleaning up (their pid is gone). */
static void remove_stale(const char *own)
{
    DIR *d = opendir(own);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        char sub[PATH_MAX], *end;
        long pid;

        if (de->d_type != DT_DIR || strncmp(de->d_name, PREFIX, strlen(PREFIX)) != 0)
            continue;
        pid = strtol(de->d_name + strlen(PREFIX), &end, 10);
        if (pid <= 0 || (*end != '\0' && strcmp(end, SELF_SUFFIX) != 0) || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (join(sub, sizeof(sub), own, de->d_name) == 0)
            remove_tree(sub);
    }
    closedir(d);
}

/* ---------- opening ---------- */

/* v2: lets children of own use the memory controller, moving the lab out of own if it must. */
static int v2_delegate(lab_cgroup *cg, char *why, size_t whylen)
{
    char path[PATH_MAX + 32], buf[1024];

    if (join(path, sizeof(path), cg->own, "cgroup.subtree_control") != 0 ||
        read_file(path, buf, sizeof(buf)) < 0) {
        snprintf(why, whylen, "cgroup v2: cannot read %.200s/cgroup.subtree_control", cg->own);
        return -1;
    }
    if (has_word(buf, "memory"))
        return 0;
    if (write_file(path, "+memory") == 0) {
        cg->enabled_memory = true;
        return 0;
    }
    if (errno != EBUSY) {
        snprintf(why, whylen, "cgroup v2: cannot enable memory for %.200s: %s", cg->own,
                 strerror(errno));
        return -1;
    }
    /* A cgroup with processes cannot delegate a controller: step into a leaf. */
    if (snprintf(cg->self_leaf, sizeof(cg->self_leaf), "%s/" PREFIX "%ld" SELF_SUFFIX, cg->own,
                 (long)getpid()) >= (int)sizeof(cg->self_leaf) ||
        (mkdir(cg->self_leaf, 0755) != 0 && errno != EEXIST)) {
        snprintf(why, whylen, "cgroup v2: cannot make a leaf for the lab in %.200s: %s", cg->own,
                 strerror(errno));
        cg->self_leaf[0] = '\0';
        return -1;
    }
    if (join(buf, sizeof(buf), cg->self_leaf, "cgroup.procs") == 0 && write_file(buf, "0") == 0 &&
        write_file(path, "+memory") == 0) {
        cg->enabled_memory = true;
        return 0;
    }
    snprintf(why, whylen, "cgroup v2: %.200s is shared with other processes (%s); run the lab in a "
             "cgroup of its own, e.g. systemd-run [--user] --scope -p Delegate=yes", cg->own, strerror(errno));
    if (join(buf, sizeof(buf), cg->own, "cgroup.procs") == 0)
        write_file(buf, "0");
    rmdir(cg->self_leaf);
    cg->self_leaf[0] = '\0';
    return -1;
}

static int try_version(lab_cgroup *cg, int version, char *why, size_t whylen)
{
    char path[PATH_MAX + 48], buf[1024];

    cg->version = version;
    if (own_cgroup_dir(version, cg->own, sizeof(cg->own)) != 0) {
        snprintf(why, whylen, "no cgroup v%d memory hierarchy mounted", version);
        return -1;
    }
    if (version == 2) {
        if (join(path, sizeof(path), cg->own, "cgroup.controllers") != 0 ||
            read_file(path, buf, sizeof(buf)) < 0 || !has_word(buf, "memory")) {
            snprintf(why, whylen, "cgroup v2: memory controller not available in %.200s", cg->own);
            return -1;
        }
    }
    if (access(cg->own, W_OK) != 0) {
        snprintf(why, whylen, "cgroup v%d: %.200s is not writable (%s)", version, cg->own,
                 strerror(errno));
        return -1;
    }
    remove_stale(cg->own);
    if (version == 2 && v2_delegate(cg, why, whylen) != 0)
        return -1;
    if (snprintf(cg->dir, sizeof(cg->dir), "%s/" PREFIX "%ld", cg->own, (long)getpid()) >=
            (int)sizeof(cg->dir) ||
        (mkdir(cg->dir, 0755) != 0 && errno != EEXIST)) {
        snprintf(why, whylen, "cgroup v%d: cannot create %.200s: %s", version, cg->dir,
                 strerror(errno));
        cg->dir[0] = '\0';
        return -1;
    }
    if (version == 2) {
        if (join(path, sizeof(path), cg->dir, "cgroup.subtree_control") != 0 ||
            write_file(path, "+memory") != 0) {
            snprintf(why, whylen, "cgroup v2: cannot enable memory in %.200s: %s", cg->dir,
                     strerror(errno));
            return -1;
        }
    } else if (join(path, sizeof(path), cg->dir, "memory.max_usage_in_bytes") != 0 ||
               access(path, R_OK) != 0) {
        snprintf(why, whylen, "cgroup v1: %.200s has no memory counters", cg->dir);
        return -1;
    }
    snprintf(cg->desc, sizeof(cg->desc), "cgroup v%d at %s", version, cg->dir);
    return 0;
}

/* Undoes what try_version() did, so that the other version or the fallback starts clean. */
static void undo(lab_cgroup *cg)
{
    char path[PATH_MAX + 32];

    if (cg->dir[0])
        remove_tree(cg->dir);
    if (cg->enabled_memory && join(path, sizeof(path), cg->own, "cgroup.subtree_control") == 0)
        write_file(path, "-memory");
    if (cg->self_leaf[0]) {
        if (join(path, sizeof(path), cg->own, "cgroup.procs") == 0)
            write_file(path, "0");
        rmdir(cg->self_leaf);
    }
    cg->dir[0] = cg->self_leaf[0] = '\0';
    cg->enabled_memory = false;
}

lab_cgroup *lab_cgroup_open(char *why, size_t whylen)
{
    const char *force = getenv(LAB_CGROUP_ENV);
    char why2[256] = "";
    lab_cgroup *cg;

    if (force && strcmp(force, "rss") == 0) {
        snprintf(why, whylen, "%s=rss", LAB_CGROUP_ENV);
        return NULL;
    }
    cg = calloc(1, sizeof(*cg));
    if (!cg) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&cg->mu, NULL);
    if (try_version(cg, 2, why2, sizeof(why2)) == 0)
        return cg;
    undo(cg);
    if (try_version(cg, 1, why, whylen) == 0)
        return cg;
    undo(cg);
    if (why2[0]) {
        size_t n = strlen(why);
        snprintf(why + n, whylen - n, "; %s", why2);
    }
    pthread_mutex_destroy(&cg->mu);
    free(cg);
    return NULL;
}

const char *lab_cgroup_describe(const lab_cgroup *cg)
{
    return cg ? cg->desc : "none";
}

void lab_cgroup_sweep(lab_cgroup *cg)
{
    pending **pp;

    if (!cg)
        return;
    pthread_mutex_lock(&cg->mu);
    pp = &cg->pending;
    while (*pp) {
        pending *p = *pp;
        if (remove_tree(p->path) == 0) {
            *pp = p->next;
            free(p->path);
            free(p);
        } else {
            pp = &p->next;
        }
    }
    pthread_mutex_unlock(&cg->mu);
}

void lab_cgroup_close(lab_cgroup **cgp)
{
    lab_cgroup *cg = cgp ? *cgp : NULL;

    if (!cg)
        return;
    for (int waited = 0; waited < CLOSE_WAIT_MS; waited += 10) {
        lab_cgroup_sweep(cg);
        if (remove_tree(cg->dir) == 0)
            break;
        sleep_ms(10);
    }
    if (cg->dir[0] && access(cg->dir, F_OK) == 0)
        fprintf(stderr, "coldsec-lab: warning: could not remove %s\n", cg->dir);
    cg->dir[0] = '\0';
    undo(cg);
    while (cg->pending) {
        pending *p = cg->pending;
        cg->pending = p->next;
        free(p->path);
        free(p);
    }
    pthread_mutex_destroy(&cg->mu);
    free(cg);
    *cgp = NULL;
}

/* ---------- environments ---------- */

static int open_in(const char *dir, const char *name, int flags)
{
    char path[PATH_MAX + 32];
    if (join(path, sizeof(path), dir, name) != 0)
        return -1;
    return open(path, flags | O_CLOEXEC);
}

lab_cgroup_env *lab_cgroup_env_new(lab_cgroup *cg, const char *name, long long limit_bytes,
                                   char *err, size_t errlen)
{
    lab_cgroup_env *e = calloc(1, sizeof(*e));
    bool v2 = cg->version == 2;
    char path[PATH_MAX + 32], num[32];

    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cg = cg;
    e->usage_fd = e->peak_fd = e->stat_fd = -1;
    if (join(e->path, sizeof(e->path), cg->dir, name) != 0 ||
        join(e->procs, sizeof(e->procs), e->path, "cgroup.procs") != 0) {
        snprintf(err, errlen, "cgroup path too long");
        goto fail;
    }
    if (mkdir(e->path, 0755) != 0) {
        snprintf(err, errlen, "memory cgroup %.300s: %s", e->path, strerror(errno));
        e->path[0] = '\0';
        goto fail;
    }
    if (limit_bytes > 0) {
        snprintf(num, sizeof(num), "%lld", limit_bytes);
        if (join(path, sizeof(path), e->path, v2 ? "memory.max" : "memory.limit_in_bytes") != 0 ||
            write_file(path, num) != 0) {
            snprintf(err, errlen, "memory limit of %.300s: %s", e->path, strerror(errno));
            goto fail;
        }
    }
    if (v2) {
        /* The kernel's OOM killer ends the whole environment, as Lambda does,
         * not one process of it; and Lambda has no swap. Both best effort. */
        if (join(path, sizeof(path), e->path, "memory.oom.group") == 0)
            write_file(path, "1");
        if (join(path, sizeof(path), e->path, "memory.swap.max") == 0)
            write_file(path, "0");
    }
    e->usage_fd = open_in(e->path, v2 ? "memory.current" : "memory.usage_in_bytes", O_RDONLY);
    e->peak_fd = open_in(e->path, v2 ? "memory.peak" : "memory.max_usage_in_bytes", O_RDWR);
    e->peak_resettable = e->peak_fd >= 0;
    if (e->peak_fd < 0)
        e->peak_fd = open_in(e->path, v2 ? "memory.peak" : "memory.max_usage_in_bytes", O_RDONLY);
    e->stat_fd = open_in(e->path, "memory.stat", O_RDONLY);
    if (e->usage_fd < 0 || e->peak_fd < 0 || e->stat_fd < 0) {
        snprintf(err, errlen, "memory counters of %.300s: %s", e->path, strerror(errno));
        goto fail;
    }
    return e;
fail:
    lab_cgroup_env_free(&e);
    return NULL;
}

const char *lab_cgroup_env_procs(const lab_cgroup_env *e)
{
    return e ? e->procs : NULL;
}

int lab_cgroup_env_usage(lab_cgroup_env *e, long long *bytes)
{
    return read_counter(e->usage_fd, bytes);
}

int lab_cgroup_env_peak(lab_cgroup_env *e, long long *bytes)
{
    return read_counter(e->peak_fd, bytes);
}

int lab_cgroup_env_reset_peak(lab_cgroup_env *e)
{
    /* v1 takes "0"; v2 (6.12+) takes any non-empty string. */
    if (!e->peak_resettable || pwrite(e->peak_fd, "0", 1, 0) != 1)
        return -1;
    return 0;
}

int lab_cgroup_env_stat(lab_cgroup_env *e, lab_cgroup_stat *st)
{
    char buf[8192];
    ssize_t n = pread(e->stat_fd, buf, sizeof(buf) - 1, 0);

    if (n <= 0)
        return -1;
    buf[n] = '\0';
    st->file = keyed_value(buf, e->cg->version == 2 ? "file" : "cache");
    st->shmem = keyed_value(buf, "shmem");
    if (st->file < 0)
        return -1;
    if (st->shmem < 0)
        st->shmem = 0;
    return 0;
}

long lab_cgroup_env_oom_kills(lab_cgroup_env *e)
{
    char path[PATH_MAX + 32], buf[1024];

    if (!e || join(path, sizeof(path), e->path,
                   e->cg->version == 2 ? "memory.events" : "memory.oom_control") != 0 ||
        read_file(path, buf, sizeof(buf)) <= 0)
        return -1;
    return (long)keyed_value(buf, "oom_kill");
}

void lab_cgroup_env_free(lab_cgroup_env **ep)
{
    lab_cgroup_env *e = ep ? *ep : NULL;

    if (!e)
        return;
    if (e->usage_fd >= 0)
        close(e->usage_fd);
    if (e->peak_fd >= 0)
        close(e->peak_fd);
    if (e->stat_fd >= 0)
        close(e->stat_fd);
    if (e->path[0] && remove_tree(e->path) != 0) {
        /* Killed processes leave the cgroup only once the kernel has reaped them. */
        pending *p = malloc(sizeof(*p));
        if (p && (p->path = strdup(e->path)) != NULL) {
            pthread_mutex_lock(&e->cg->mu);
            p->next = e->cg->pending;
            e->cg->pending = p;
            pthread_mutex_unlock(&e->cg->mu);
        } else {
            free(p);
        }
    }
    free(e);
    *ep = NULL;
}
