/*
 * labproc — starts coldsec-lab as a child process for a suite whose targets
 * are lab functions, so that `coldsec run` works on a fresh machine with no
 * AWS account: the lab listens on an ephemeral loopback port, coldsec reads
 * the readiness line, runs the suite against it, and stops it (TERM, then
 * KILL) whatever happens. The lab runs with TMPDIR set to a private folder
 * ($TMPDIR/coldsec-labproc-*) that stopping it removes, so even a lab that
 * had to be killed leaves no state folder behind.
 *
 * Ownership: labproc_start returns a handle labproc_stop frees.
 */
#ifndef COLDSEC_LABPROC_H
#define COLDSEC_LABPROC_H

#include <stddef.h>

typedef struct labproc labproc;

/* The lab's documented credentials and region (README, "coldsec-lab"):
 * not a secret, they only open the local lab. */
#define LABPROC_ACCESS_KEY_ID "AKIDCOLDSECLAB"
#define LABPROC_SECRET_ACCESS_KEY "coldsec-lab-secret"
#define LABPROC_REGION "us-east-1"

/* lab_bin: the coldsec-lab program; config: its functions file; log_file:
 * where its stderr goes. Waits up to 30 s for the readiness line. */
#define LABPROC_MAX_ARGS 8

/* extra_args: more of coldsec-lab's options (NULL-terminated, at most
 * LABPROC_MAX_ARGS), or NULL. */
int labproc_start(const char *lab_bin, const char *config, const char *const *extra_args, const char *log_file,
                  labproc **out, char *err, size_t errlen);
/* "http://127.0.0.1:PORT" */
const char *labproc_endpoint(const labproc *l);
void labproc_stop(labproc *l);

#endif
