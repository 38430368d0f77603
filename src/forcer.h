/*
 * forcer — forces cold starts of a Lambda function the way AWS documents
 * it, by changing its environment, and always gives the configuration back
 * (DESIGN.md, decision 3).
 *
 *   forcer_begin    read the whole configuration; refuse what is unsafe
 *                   (guard rails, an environment not readable whole, 4 KB);
 *                   journal (fsync'd); update the variables plus a nonce and
 *                   any canaries with RevisionId as precondition; wait for
 *                   LastUpdateStatus Successful.
 *   forcer_restore  put the original variables back, with our own update's
 *                   RevisionId as precondition; never overwrite a change
 *                   someone else made: that is FORCER_CONFLICT.
 *   forcer_restore_journal  the same from a journal on disk, for a run that
 *                   was killed (`coldsec restore JOURNAL`).
 *
 * Lambda Managed Instances (CapacityProviderConfig in the configuration):
 * refused, nothing changed. Their environments run on through a
 * configuration change; only publishing a version provisions new ones
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-version-publishing.html),
 * and coldsec will not publish a version of a user's function: it would
 * deploy whatever is in $LATEST. The engine does not call the forcer for
 * such a function: its cold_start steps are recorded as not forced and
 * the scenario goes on against the running environments.
 *
 * Messages for the user (the plan, progress, conflicts and what to do) go to
 * opts->out. Variable values are never printed, only names.
 *
 * Ownership: a forcer borrows the client and options for its life; strings
 * it returns live as long as the forcer.
 */
#ifndef COLDSEC_FORCER_H
#define COLDSEC_FORCER_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "lambda_client.h"

#define FORCER_NONCE_VAR "COLDSEC_COLD_START_NONCE"
#define FORCER_MAX_ENV_BYTES 4096

typedef enum {
    FORCER_OK = 0,
    FORCER_DRY_RUN,      /* the plan was printed; nothing changed */
    FORCER_REFUSED,      /* unsafe to change; nothing changed */
    FORCER_FAILED,       /* an API or disk error; see err (a restore was attempted) */
    FORCER_CONFLICT,     /* someone else changed the function; left as they made it */
    FORCER_NOT_RESTORED  /* our change could not be undone; the journal says how */
} forcer_status;

typedef struct forcer_options {
    const char *function;          /* name or unqualified ARN */
    const char *run_dir;           /* the journal goes here (created if missing) */
    bool allow_mutation;           /* the target opted in (config or --allow-mutation) */
    const char *const *protected_patterns; /* fnmatch, case-insensitive; NULL: {"*prod*"} */
    size_t nprotected;
    bool allow_protected;          /* --allow-protected */
    bool dry_run;
    const char *const *canary_names;  /* extra variables a scenario plants */
    const char *const *canary_values;
    size_t ncanaries;
    long wait_timeout_ms;          /* for LastUpdateStatus; 0: 600000 */
    FILE *out;                     /* plan and progress; NULL: stderr */
    const volatile sig_atomic_t *stop; /* SIGINT/SIGTERM seen: stop waiting and restore */
    /* Test hook (COLDSEC_TEST_STOP_AT): the forcer stops itself with
     * SIGSTOP at "journal-written" or "waiting", so a test can kill -9
     * it at that exact step. NULL in normal runs. */
    const char *stop_at;
} forcer_options;

typedef struct forcer forcer;

/* The version or alias a target names (name:QUALIFIER, an ARN ending in
 * :QUALIFIER, $LATEST included), or NULL for the unqualified function.
 * The forcer refuses such a target: a published version's configuration is
 * immutable, and UpdateFunctionConfiguration changes $LATEST only. */
const char *forcer_target_qualifier(const char *function);

/* function without its qualifier (the whole text when it has none) into
 * out; -1 when out is too small. */
int forcer_target_unqualified(const char *function, char *out, size_t len);

forcer_status forcer_begin(lambda_client *c, const forcer_options *o, forcer **out, char *err, size_t errlen);
forcer_status forcer_restore(forcer *f, char *err, size_t errlen);
const char *forcer_journal_path(const forcer *f);
void forcer_free(forcer *f);

forcer_status forcer_restore_journal(lambda_client *c, const char *journal_path, FILE *out, char *err,
                                     size_t errlen);

/* Environment size as Lambda measures it for the 4 KB limit: the JSON text
 * of the variables map. */
size_t forcer_env_size(const cJSON *vars);

#endif
