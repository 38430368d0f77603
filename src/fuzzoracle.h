/*
 * fuzzoracle — what one fuzzed invocation of a handler proves, for
 * `coldsec fuzz` (fuzz/coldsec_fuzz.c): the environment died, the
 * invocation timed out, a planted canary or a variable's literal value came
 * back (in the answer, the error or the log tail), the environment's memory
 * grew past a bound, or the handler raised an unhandled exception (keyed by
 * type and innermost frame of the function's own code, so that the fuzzer
 * reports each kind once). State pollution needs two invocations and is
 * the driver's; fuzzoracle_same_answer is its comparison.
 *
 * Pure decisions on what the caller hands in; the only state is the lowest
 * Max Memory Used seen, the baseline growth is measured from.
 *
 * Ownership: fuzzoracle_new borrows sec (it must outlive the oracle).
 */
#ifndef COLDSEC_FUZZORACLE_H
#define COLDSEC_FUZZORACLE_H

#include <stdbool.h>
#include <stddef.h>

#include "secrets.h"

typedef enum {
    FUZZORACLE_NONE = 0,
    FUZZORACLE_CRASH,      /* Runtime.ExitError: the environment died */
    FUZZORACLE_TIMEOUT,    /* Sandbox.Timedout, or "Task timed out" in the log */
    FUZZORACLE_LEAK,       /* a registered secret in the answer or the log tail */
    FUZZORACLE_MEMORY,     /* Max Memory Used rose more than the bound over the lowest seen */
    FUZZORACLE_EXCEPTION,  /* an unhandled exception of the handler */
    FUZZORACLE_POLLUTION   /* the driver's: a probe answered differently after the input */
} fuzzoracle_kind;

typedef struct fuzzoracle_answer {
    long status;                 /* the Invoke's HTTP status */
    const char *function_error;  /* X-Amz-Function-Error, or NULL */
    const char *payload;         /* the answer's body */
    size_t payload_len;
    const char *log;             /* the decoded log tail, or NULL */
    size_t log_len;
    const char *input;           /* what was sent: a secret already in it is an echo, not a leak */
    size_t input_len;
} fuzzoracle_answer;

typedef struct fuzzoracle_verdict {
    fuzzoracle_kind kind;
    char detail[512];            /* for people: what was seen, secrets named (never their values) */
    char key[300];               /* exceptions: "TYPE at FILE:LINE"; otherwise the kind's name */
    int max_memory_mb;           /* this invocation's Max Memory Used; -1 without a REPORT line */
    bool not_an_event;           /* the runtime refused the input (Runtime.UnmarshalError...): no handler ran */
} fuzzoracle_verdict;

typedef struct fuzzoracle fuzzoracle;

/* growth_bound_mb: how far above the lowest Max Memory Used seen counts as
 * growth (> 0). NULL on OOM. */
fuzzoracle *fuzzoracle_new(const secrets *sec, int growth_bound_mb);
void fuzzoracle_judge(fuzzoracle *o, const fuzzoracle_answer *a, fuzzoracle_verdict *v);
/* Forgets the memory baseline (after the driver forced a new environment). */
void fuzzoracle_reset_memory(fuzzoracle *o);
void fuzzoracle_free(fuzzoracle *o);

/* The kind's name as FINDING lines and finding files say it. */
const char *fuzzoracle_kind_name(fuzzoracle_kind k);

/* Whether two answers to the probe are the same answer: byte for byte, but
 * for request ids (UUIDs), which differ on every call. */
bool fuzzoracle_same_answer(const char *a, size_t alen, const char *b, size_t blen);

#endif
