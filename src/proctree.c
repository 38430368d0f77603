/*
 * proctree — a process that answers for every process below it (see
 * proctree.h).
 */
#include "proctree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monotime.h"

#define POLL_MS 10
#define CHILDREN_BUF 8192

int proctree_become_reaper(void)
{
    return prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
}

/* Sends sig to every child of this process: /proc/self/task/TID/children
 * lists each thread's own (a child belongs to the thread that forked it;
 * orphans to the one the kernel picked). Returns how many were signalled. */
static int signal_children(int sig)
{
    DIR *tasks = opendir("/proc/self/task");
    const struct dirent *t;
    int n = 0;

    if (!tasks)
        return 0;
    while ((t = readdir(tasks)) != NULL) {
        char path[300], buf[CHILDREN_BUF];
        ssize_t len;
        int fd;
        if (t->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/children", t->d_name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        len = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (len <= 0)
            continue;
        buf[len] = '\0';
        for (char *s = buf, *end;; s = end) {
            long pid = strtol(s, &end, 10);
            if (end == s)
                break;
            if (pid > 0 && kill((pid_t)pid, sig) == 0)
                n++;
        }
    }
    closedir(tasks);
    return n;
}

int proctree_reap_all(int term_ms, int kill_ms)
{
    double t0 = monotime_ms();
    bool termed = false;
    int reaped = 0;

    for (;;) {
        double waited = monotime_ms() - t0;
        pid_t pid = waitpid(-1, NULL, WNOHANG);
        if (pid > 0) {
            reaped++;
            continue;
        }
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break; /* ECHILD: none left */
        if (waited >= kill_ms) {
            /* A SIGKILLed child cannot refuse: block until one goes (an
             * orphan that arrives meanwhile is signalled next round). */
            if (signal_children(SIGKILL) == 0)
                monotime_sleep_ms(POLL_MS); /* no /proc children list: poll */
            else if (waitpid(-1, NULL, 0) > 0)
                reaped++;
            continue;
        }
        if (waited >= term_ms && !termed) {
            signal_children(SIGTERM);
            termed = true;
        }
        monotime_sleep_ms(POLL_MS);
    }
    return reaped;
}
