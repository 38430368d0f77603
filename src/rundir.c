/*
 * rundir — naming and creating a run's folder (see rundir.h).
 */
#include "rundir.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int rundir_name(const char *out_dir, char *path, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    unsigned char r[3];
    char stamp[32];

    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    if (RAND_bytes(r, sizeof(r)) != 1)
        return -1;
    snprintf(path, len, "%s/%s-%02x%02x%02x", out_dir ? out_dir : "reports", stamp, r[0], r[1], r[2]);
    return 0;
}

int rundir_create(const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                goto fail;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "%s: cannot create the run folder: %s", tmp, strerror(errno));
    return -1;
}
