/*
 * labproc — starts coldsec-lab as a child process for a suite whose targets
 * are lab functions, so that `coldsec run` works on a fresh machine with no
 * AWS account: the lab listens on an ephemeral loopback port, coldsec reads
 * the readiness line, runs the suite against it, and stops it (TERM, then
 * KILL) whatever happens.
 *
 * Ownership: labproc_start returns a handle labproc_stop frees.
 */
#ifndef COLDSEC_LABPROC_H
#define COLDSEC_LABPROC_H

#include <stddef.h>

typedef struct labproc labproc;

/* lab_bin: the coldsec-lab program; config: its functions file; log_file:
 * where its stderr goes. Waits up to 30 s for the readiness line. */
int labproc_start(const char *lab_bin, const char *config, const char *log_file, labproc **out, char *err,
                  size_t errlen);
/* "http://127.0.0.1:PORT" */
const char *labproc_endpoint(const labproc *l);
void labproc_stop(labproc *l);

#endif
