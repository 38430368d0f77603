/*
 * fileio — whole files in and out, for the commands that hand files to each
 * other (coldsec fuzz and its driver, coldsec report): read all of a file
 * with a size cap, write a new file readable by its owner only (inputs,
 * findings and reports hold evidence).
 *
 * Ownership: fileio_read returns a malloc'd, NUL-terminated buffer the
 * caller frees.
 */
#ifndef COLDSEC_FILEIO_H
#define COLDSEC_FILEIO_H

#include <stddef.h>

/* The whole of path (at most max bytes) in *len; NULL with errno set when
 * it cannot be read (EFBIG when it is larger than max). */
char *fileio_read(const char *path, size_t max, size_t *len);
/* Creates or truncates path with mode 0600 and writes data. 0, or -1 with
 * errno set. */
int fileio_write(const char *path, const void *data, size_t len);

#endif
