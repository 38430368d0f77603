/*
 * scratch — private temporary folders that go away (see scratch.h).
 */
#include "scratch.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The folders we make are shallow; this is nftw's open-fd budget, not a
 * depth limit. */
#define SCRATCH_FDS 32

int scratch_make(const char *prefix, char *out, size_t outlen, char *err, size_t errlen)
{
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir)
        tmpdir = "/tmp";
    if (snprintf(out, outlen, "%s/%s-XXXXXX", tmpdir, prefix) >= (int)outlen) {
        snprintf(err, errlen, "TMPDIR %s: too long", tmpdir);
        return -1;
    }
    if (!mkdtemp(out)) {
        snprintf(err, errlen, "cannot make a private folder %s: %s", out, strerror(errno));
        out[0] = '\0';
        return -1;
    }
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    /* FTW_DP: a folder after its contents; FTW_DNR: one we cannot read
     * (its rmdir fails). Anything else (file, link, socket) is unlinked.
     * A failure does not stop the walk: the rest still goes, and the
     * top folder surviving says it. */
    if (type == FTW_DP || type == FTW_DNR)
        (void)rmdir(path);
    else
        (void)unlink(path);
    return 0;
}

int scratch_remove(const char *path)
{
    if (!path || !*path)
        return 0;
    /* FTW_PHYS: links are not followed; FTW_DEPTH: contents first; FTW_MOUNT:
     * never into another filesystem mounted below (a sandbox's). */
    if (nftw(path, remove_one, SCRATCH_FDS, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0 && errno != ENOENT)
        return -1;
    if (access(path, F_OK) == 0) {
        errno = ENOTEMPTY;
        return -1;
    }
    return 0;
}
