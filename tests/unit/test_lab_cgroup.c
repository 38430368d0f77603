/*
 * Unit tests for lab_cgroup: COLDSEC_LAB_MEMORY=rss forces the fallback
 * with its reason; where a memory cgroup can be made (root, a memory
 * hierarchy), a process that joins an environment's cgroup is charged
 * there, the peak keeps what it touched after it freed it and restarts on
 * reset, and freeing the environment kills what is left inside and removes
 * the folders. Skipped where no memory cgroup can be made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab_cgroup.h"

#define MIB (1024LL * 1024)
#define TOUCH_MB 32

static void test_forced_fallback_says_why(void **state)
{
    char why[256] = "";
    lab_cgroup *cg;

    (void)state;
    setenv(LAB_CGROUP_ENV, "rss", 1);
    cg = lab_cgroup_open(why, sizeof(why));
    unsetenv(LAB_CGROUP_ENV);
    assert_null(cg);
    assert_non_null(strstr(why, "COLDSEC_LAB_MEMORY=rss"));
    assert_string_equal(lab_cgroup_describe(NULL), "none");
}

/* Child: joins procs, touches TOUCH_MB, frees it, tells the parent, waits to be killed. */
static void child_touch(const char *procs, int done_w)
{
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    char *p;

    if (fd < 0 || write(fd, "0", 1) != 1)
        _exit(2);
    close(fd);
    p = mmap(NULL, (size_t)(TOUCH_MB * MIB), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    if (p == MAP_FAILED)
        _exit(3);
    memset(p, 1, (size_t)(TOUCH_MB * MIB));
    munmap(p, (size_t)(TOUCH_MB * MIB));
    if (write(done_w, "d", 1) != 1)
        _exit(4);
    for (;;)
        pause();
}

static void test_environment_peak_reset_and_removal(void **state)
{
    char why[512] = "", err[512] = "", dir[4200];
    lab_cgroup *cg;
    lab_cgroup_env *e;
    long long usage = -1, peak = -1, after = -1;
    int pipefd[2];
    char byte;
    pid_t pid;

    (void)state;
    cg = lab_cgroup_open(why, sizeof(why));
    if (!cg) {
        fprintf(stderr, "  skipped: %s\n", why);
        skip();
    }
    assert_non_null(strstr(lab_cgroup_describe(cg), "cgroup v"));
    e = lab_cgroup_env_new(cg, "unit-env", 256 * MIB, err, sizeof(err));
    assert_non_null(e);
    snprintf(dir, sizeof(dir), "%s", lab_cgroup_env_procs(e));
    *strrchr(dir, '/') = '\0';
    assert_int_equal(access(dir, F_OK), 0);

    assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child_touch(lab_cgroup_env_procs(e), pipefd[1]);
    close(pipefd[1]);
    assert_int_equal(read(pipefd[0], &byte, 1), 1);
    close(pipefd[0]);

    assert_int_equal(lab_cgroup_env_peak(e, &peak), 0);
    assert_int_equal(lab_cgroup_env_usage(e, &usage), 0);
    /* The child freed what it touched: the peak remembers it, the usage does not. */
    assert_true(peak >= TOUCH_MB * MIB);
    assert_true(usage < peak - TOUCH_MB * MIB / 2);
    if (lab_cgroup_env_reset_peak(e) == 0) {
        assert_int_equal(lab_cgroup_env_peak(e, &after), 0);
        assert_true(after < peak - TOUCH_MB * MIB / 2);
    }
    assert_int_equal(lab_cgroup_env_oom_kills(e), 0);

    /* Still inside: freeing the environment must end it. */
    lab_cgroup_env_free(&e);
    assert_null(e);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    lab_cgroup_close(&cg);
    assert_null(cg);
    assert_int_not_equal(access(dir, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forced_fallback_says_why),
        cmocka_unit_test(test_environment_peak_reset_and_removal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
