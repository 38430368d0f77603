/*
 * rusage_run — runs one command and reports what wait4() says it cost:
 * its CPU (user, sys) and peak RSS, for bench/fanout_vs_boto3.py.
 *
 *   rusage_run OUTFILE -- CMD [ARG...]
 *
 * Writes one JSON line to OUTFILE:
 *   {"rc":N,"signal":S,"wall_s":W,"user_s":U,"sys_s":S,"maxrss_kb":K}
 * and exits 0 (the command's own status is in the JSON; 2 on usage error).
 *
 * Why a separate program: Linux's ru_maxrss of a child is the larger of its
 * own peak and the RSS of the process it was forked from at exec time, so
 * a child forked from the benchmark's Python process (~50 MB with boto3
 * loaded) would report at least ~50 MB whatever it did. Forked from this
 * small program (~1 MB) the number is the command's own. SIGTERM and SIGINT
 * are forwarded to the command. No globals but the child's pid, which the
 * signal handler needs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t g_child;

static void forward(int sig)
{
    if (g_child > 0)
        kill(g_child, sig);
}

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    struct timespec t0, t1;
    struct rusage ru;
    struct sigaction sa;
    int status = 0;
    pid_t pid;
    FILE *out;

    if (argc < 4 || strcmp(argv[2], "--") != 0) {
        fprintf(stderr, "usage: rusage_run OUTFILE -- CMD [ARG...]\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = fork();
    if (pid < 0) {
        perror("rusage_run: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[3], argv + 3);
        fprintf(stderr, "rusage_run: %s: %s\n", argv[3], strerror(errno));
        _exit(127);
    }
    g_child = pid;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("rusage_run: wait4");
            return 2;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out = fopen(argv[1], "w");
    if (!out) {
        perror("rusage_run: OUTFILE");
        return 2;
    }
    fprintf(out, "{\"rc\":%d,\"signal\":%d,\"wall_s\":%.6f,\"user_s\":%.6f,\"sys_s\":%.6f,\"maxrss_kb\":%ld}\n",
            WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, seconds(ru.ru_utime),
            seconds(ru.ru_stime), ru.ru_maxrss);
    return fclose(out) == 0 ? 0 : 2;
}
