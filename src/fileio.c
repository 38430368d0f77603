/*
 * fileio — whole-file reads and owner-only writes (see fileio.h).
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *fileio_read(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    int saved = 0;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        saved = errno;
        goto cleanup;
    }
    if ((unsigned long)n > max) {
        saved = EFBIG;
        goto cleanup;
    }
    buf = malloc((size_t)n + 1);
    if (!buf) {
        saved = ENOMEM;
        goto cleanup;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        saved = ferror(f) ? EIO : ENODATA;
        free(buf);
        buf = NULL;
        goto cleanup;
    }
    buf[n] = '\0';
    *len = (size_t)n;
cleanup:
    fclose(f);
    if (!buf)
        errno = saved;
    return buf;
}

int fileio_write(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = -1, saved;
    if (fd < 0)
        return -1;
    if (write(fd, data, len) == (ssize_t)len)
        rc = 0;
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}
