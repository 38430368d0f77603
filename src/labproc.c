/*
 * labproc — coldsec-lab as a child of `coldsec run` (see labproc.h).
 */
#include "labproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monotime.h"
#include "scratch.h"

#define READY_PREFIX "coldsec-lab listening on "
#define READY_TIMEOUT_MS 30000
#define STOP_GRACE_MS 5000

#define MAX_ENV 4096

struct labproc {
    pid_t pid;
    int out_fd;
    char endpoint[256];
    char tmp[4096]; /* the lab's TMPDIR, ours to remove */
};

/* The lab removes its own state folder when it stops; its private TMPDIR
 * also covers a lab that had to be killed. */
static void reap(labproc *l)
{
    double t0 = monotime_ms();
    int status;
    kill(l->pid, SIGTERM);
    while (waitpid(l->pid, &status, WNOHANG) == 0) {
        if (monotime_ms() - t0 > STOP_GRACE_MS) {
            kill(l->pid, SIGKILL);
            waitpid(l->pid, &status, 0);
            break;
        }
        monotime_sleep_ms(20);
    }
    if (l->tmp[0] && scratch_remove(l->tmp) != 0)
        fprintf(stderr, "coldsec: the lab's temporary folder %s: not removed: %s\n", l->tmp, strerror(errno));
}

/* environ with TMPDIR=tmp, built before fork (setenv is not safe between
 * fork and exec in a threaded program). Returns a malloc'd array whose
 * strings are environ's and tmpdir_var's. */
static char **env_with_tmpdir(char *tmpdir_var)
{
    extern char **environ;
    size_t n = 0, k = 0;
    char **env;
    while (n < MAX_ENV && environ[n])
        n++;
    env = calloc(n + 2, sizeof(*env));
    if (!env)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "TMPDIR=", 7) != 0)
            env[k++] = environ[i];
    env[k++] = tmpdir_var;
    env[k] = NULL;
    return env;
}

int labproc_start(const char *lab_bin, const char *config, const char *const *extra_args, const char *log_file,
                  labproc **out, char *err, size_t errlen)
{
    int pipefd[2] = {-1, -1};
    labproc *l = calloc(1, sizeof(*l));
    char line[256], tmpdir_var[4200], why[512];
    char **env = NULL;
    size_t used = 0;
    double t0;

    *out = NULL;
    if (!l || pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot start the lab: %s", strerror(errno));
        free(l);
        return -1;
    }
    if (scratch_make("coldsec-labproc", l->tmp, sizeof(l->tmp), why, sizeof(why)) != 0 ||
        snprintf(tmpdir_var, sizeof(tmpdir_var), "TMPDIR=%s", l->tmp) >= (int)sizeof(tmpdir_var) ||
        (env = env_with_tmpdir(tmpdir_var)) == NULL) {
        snprintf(err, errlen, "cannot start the lab: %s", l->tmp[0] ? "out of memory" : why);
        if (l->tmp[0])
            scratch_remove(l->tmp);
        close(pipefd[0]);
        close(pipefd[1]);
        free(l);
        return -1;
    }
    l->pid = fork();
    if (l->pid < 0) {
        snprintf(err, errlen, "cannot start the lab: fork: %s", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        scratch_remove(l->tmp);
        free(env);
        free(l);
        return -1;
    }
    if (l->pid == 0) {
        const char *argv[LABPROC_MAX_ARGS + 6] = {lab_bin, "--config", config, "--listen", "127.0.0.1:0"};
        size_t argc = 5;
        int logfd = open(log_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        /* A parent that dies without stopping us (a fuzzer's crash path ends
         * in _exit) must not leave a lab and its environments behind. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        for (size_t i = 0; extra_args && extra_args[i] && i < LABPROC_MAX_ARGS; i++)
            argv[argc++] = extra_args[i];
        argv[argc] = NULL;
        dup2(pipefd[1], STDOUT_FILENO);
        if (logfd >= 0)
            dup2(logfd, STDERR_FILENO);
        execve(lab_bin, (char *const *)argv, env);
        fprintf(stderr, "coldsec: cannot run %s: %s\n", lab_bin, strerror(errno));
        _exit(127);
    }
    free(env);
    close(pipefd[1]);
    l->out_fd = pipefd[0];
    t0 = monotime_ms();
    line[0] = '\0';
    while (used < sizeof(line) - 1) {
        struct pollfd p = {l->out_fd, POLLIN, 0};
        int left = READY_TIMEOUT_MS - (int)(monotime_ms() - t0);
        ssize_t n;
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        n = read(l->out_fd, line + used, 1);
        if (n <= 0)
            break;
        if (line[used] == '\n') {
            line[used] = '\0';
            break;
        }
        used++;
        line[used] = '\0';
    }
    if (strncmp(line, READY_PREFIX, strlen(READY_PREFIX)) != 0 ||
        strncmp(line + strlen(READY_PREFIX), "http://127.", 11) != 0) {
        snprintf(err, errlen, "coldsec-lab (%s) did not get ready; its messages are in %s", lab_bin, log_file);
        reap(l);
        close(l->out_fd);
        free(l);
        return -1;
    }
    snprintf(l->endpoint, sizeof(l->endpoint), "%s", line + strlen(READY_PREFIX));
    *out = l;
    return 0;
}

const char *labproc_endpoint(const labproc *l)
{
    return l->endpoint;
}

void labproc_stop(labproc *l)
{
    if (!l)
        return;
    reap(l);
    close(l->out_fd);
    free(l);
}
