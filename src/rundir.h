/*
 * rundir — the folder a run writes into: <out>/<UTC time>-<6 hex>, under
 * reports/ unless --out says otherwise. The name is made at start-up; the
 * folder is created only when there is something to write (a journal
 * before a change, a fan-out's results), so a refused or dry run leaves
 * nothing behind.
 *
 * Ownership: the caller owns every buffer.
 */
#ifndef COLDSEC_RUNDIR_H
#define COLDSEC_RUNDIR_H

#include <stddef.h>

/* Writes "<out_dir or reports>/<YYYYMMDDTHHMMSSZ>-<6 hex from RAND_bytes>"
 * into path. Returns 0, or -1 when the RNG fails. */
int rundir_name(const char *out_dir, char *path, size_t len);

/* Creates path and any missing parents, mode 0700 (an existing folder is
 * fine). Returns 0, or -1 with "FOLDER: cannot create the run folder: why"
 * in err. */
int rundir_create(const char *path, char *err, size_t errlen);

#endif
