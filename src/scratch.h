/*
 * scratch — private temporary folders that go away: a program makes one
 * under $TMPDIR (or /tmp) with a name of its own ("coldsec-fuzz-XXXXXX"),
 * points what it starts at it (TMPDIR=...), and removes it with everything
 * in it on every exit path, so nothing a run made is left in /tmp however
 * the run ended (finding, error, SIGINT) and whatever its children left.
 *
 * Ownership: the caller owns every buffer.
 */
#ifndef COLDSEC_SCRATCH_H
#define COLDSEC_SCRATCH_H

#include <stddef.h>

/* Makes "$TMPDIR/<prefix>-XXXXXX" (mode 0700, mkdtemp) and writes its path
 * into out. Returns 0, or -1 with "why" in err. */
int scratch_make(const char *prefix, char *out, size_t outlen, char *err, size_t errlen);

/* Removes path and everything below it, never following a symbolic link
 * (a link is removed, not what it names). A path that does not exist is
 * fine. Returns 0, or -1 when something could not be removed (errno set). */
int scratch_remove(const char *path);

#endif
