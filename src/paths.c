/*
 * paths — coldsec's own files relative to the running executable (see
 * paths.h). Relative on purpose: an installed tree copied elsewhere (a CI
 * cache, a container layer) keeps working, and the build tree needs no
 * install step.
 */
#include "paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The folder of the running executable, symlinks resolved; -1 if unknown. */
static int self_dir(char *out, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    if (n <= 0)
        return -1;
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (!slash || (size_t)(slash - self) >= len)
        return -1;
    *slash = '\0';
    snprintf(out, len, "%s", self[0] ? self : "/");
    return 0;
}

int paths_find(paths_kind kind, char *out, size_t len)
{
    /* Installed first, then build/ and build/asan/ of a source tree. */
    static const char *const scenarios[] = {"/../share/coldsec/scenarios", "/../scenarios", "/../../scenarios", NULL};
    static const char *const runtimes[] = {"/../share/coldsec/runtimes", "/../harness/runtimes",
                                           "/../../harness/runtimes", NULL};
    static const char *const events[] = {"/../share/coldsec/fuzz/events", "/../fuzz/events", "/../../fuzz/events",
                                         NULL};
    static const char *const dict[] = {"/../share/coldsec/fuzz/lambda.dict", "/../fuzz/lambda.dict",
                                       "/../../fuzz/lambda.dict", NULL};
    const char *const *rel = kind == PATHS_SCENARIOS  ? scenarios
                             : kind == PATHS_RUNTIMES ? runtimes
                             : kind == PATHS_FUZZ_EVENTS ? events
                                                         : dict;
    char dir[PATH_MAX], cand[PATH_MAX + 64], real[PATH_MAX];

    if (len > 0)
        out[0] = '\0';
    if (self_dir(dir, sizeof(dir)) != 0)
        return -1;
    snprintf(out, len, "%s%s", dir, rel[0]);
    for (size_t i = 0; rel[i]; i++) {
        snprintf(cand, sizeof(cand), "%s%s", dir, rel[i]);
        if (realpath(cand, real) && strlen(real) < len) {
            snprintf(out, len, "%s", real);
            return 0;
        }
    }
    return -1;
}

void paths_beside_self(const char *program, char *out, size_t len)
{
    char dir[PATH_MAX];

    if (self_dir(dir, sizeof(dir)) != 0)
        snprintf(out, len, "%s", program);
    else
        snprintf(out, len, "%s/%s", dir, program);
}
