/*
 * lab_pool — the functions of a coldsec-lab and their execution environments.
 *
 * An environment is a sandboxed runtime process tree (lab_sandbox) with its
 * own Runtime API (lab_runtime_api) and log (lab_log). It serves one
 * invocation at a time, is frozen (SIGSTOP) while it waits in /next, is
 * reused warm before a new one starts, and is retired on configuration
 * change (after its current invocation), idle timeout, maximum age, crash,
 * timeout or memory over the function's size.
 *
 * A Managed Instances function (max_concurrency N) is served differently
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-execution-environment.html):
 * an environment holds up to N invocations at once, is never frozen, and
 * hands each waiting GET /next one undelivered invocation, oldest first;
 * /response and /error name theirs by request id. New invocations go to the
 * busiest environment with a free slot; a new environment starts (on
 * demand: AWS provisions them ahead) only while fewer than `environments`
 * exist, else Invoke answers 429 (LAB_POOL_THROTTLED_BUSY). A timed-out
 * invocation fails alone (Sandbox.Timedout to its caller; the environment
 * and its other invocations go on); a crash or memory kill fails them all.
 * A configuration change retires an environment once its in-flight
 * invocations are done. Its log is JSON lines (lab_log_json_*).
 *
 * Threads: invocations arrive on the Lambda API's connection threads and
 * block in lab_pool_invoke(); the runtime's calls arrive on each
 * environment's daemon threads; new environments are forked by the pool's
 * spawner threads, which live as long as the pool (PR_SET_PDEATHSIG is tied
 * to the forking thread), several at a time and never on an API thread;
 * lab_pool_run() is the lab's main loop, which reaps, reads logs and retires
 * environments. One mutex per pool guards all state.
 *
 * Ownership: lab_pool_new() borrows cfg only during the call. Every cJSON
 * returned belongs to the caller (cJSON_Delete). lab_pool_result_clear()
 * frees what an invoke result holds.
 */
#ifndef COLDSEC_LAB_POOL_H
#define COLDSEC_LAB_POOL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "lab_config.h"
#include "lab_sandbox.h"

/* Lambda's synchronous request payload limit. */
#define LAB_POOL_MAX_PAYLOAD 6291456
/* Queued Event invocations before Invoke answers 429. */
#define LAB_POOL_MAX_QUEUED_EVENTS 1024
/* Init has this long (as on Lambda), counted from when its spawn starts,
 * before the environment is given up. */
#define LAB_POOL_INIT_TIMEOUT_MS 10000
/* PutFunctionConcurrency leaves at least this much of the account's limit
 * to functions without a reservation, as Lambda does (PutFunctionConcurrency,
 * AWS Lambda API Reference). */
#define LAB_POOL_MIN_UNRESERVED 100

/*
 * Coverage files (coldsec-lab --coverage-dir; read by `coldsec fuzz`):
 * DIR/FUNCTION.cov, mode 0600, LAB_POOL_COV_SIZE bytes: the magic, a
 * little-endian uint64 generation only the fuzzer writes, then one saturating
 * counter per hashed line (Python) or block (Node). Created zeroed by
 * lab_pool_new(); runtimes add an invocation's counts before they post its
 * /response or /error, unless the generation changed meanwhile.
 */
#define LAB_POOL_COV_MAGIC "CSCOV001"
#define LAB_POOL_COV_HEADER 16
#define LAB_POOL_COV_COUNTERS 65536
#define LAB_POOL_COV_SIZE (LAB_POOL_COV_HEADER + LAB_POOL_COV_COUNTERS)
#define LAB_POOL_COV_ENV "COLDSEC_COVERAGE"

/* Published versions per function, and aliases (lab bounds: AWS's are
 * far higher, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
#define LAB_POOL_MAX_VERSIONS 64
#define LAB_POOL_MAX_ALIASES 16
#define LAB_POOL_MAX_ALIAS_NAME 128

typedef struct lab_pool lab_pool;

/* An alias: a name that points at one published version
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html). */
typedef struct lab_pool_alias {
    char name[LAB_POOL_MAX_ALIAS_NAME + 1];
    char version[12];
    char *description;
    char arn[512];
    char revision_id[40];
} lab_pool_alias;

typedef enum {
    LAB_POOL_OK = 0,
    LAB_POOL_NOT_FOUND,          /* 404 ResourceNotFoundException */
    LAB_POOL_THROTTLED_RESERVED, /* 429 ReservedFunctionConcurrentInvocationLimitExceeded */
    LAB_POOL_THROTTLED_ACCOUNT,  /* 429 ConcurrentInvocationLimitExceeded */
    LAB_POOL_THROTTLED_BUSY,     /* 429 ExecutionEnvironmentConcurrencyLimitExceeded (the lab's
                                  * Reason): every slot of a Managed Instances function is busy */
    LAB_POOL_CONFLICT,           /* 409 ResourceConflictException: update in progress */
    LAB_POOL_PRECONDITION,       /* 412 PreconditionFailedException */
    LAB_POOL_INVALID,            /* 400 InvalidParameterValueException */
    LAB_POOL_INTERNAL,           /* 500 ServiceException */
    LAB_POOL_LAST
} lab_pool_status;

typedef struct lab_pool_options {
    lab_sandbox_mode mode;
    const char *log_dir;      /* log streams; NULL keeps none */
    const char *runtimes_dir; /* folder holding python/ and node/ bootstraps */
    const char *state_dir;    /* private TMPDIRs in LAB_SANDBOX_NONE mode */
    const char *coverage_dir; /* absolute folder for FUNCTION.cov files, or NULL: no coverage */
} lab_pool_options;

typedef struct lab_invoke_result {
    char request_id[40];
    bool function_error;  /* X-Amz-Function-Error: Unhandled */
    char *payload;        /* response body (JSON text) */
    size_t payload_len;
    char *log_tail_b64;   /* X-Amz-Log-Result */
    char executed_version[12]; /* X-Amz-Executed-Version: $LATEST or the version run */
} lab_invoke_result;

lab_pool *lab_pool_new(const lab_config *cfg, const lab_pool_options *opt,
                       char *err, size_t errlen);
/* Kills every environment and frees the pool; NULLs the caller's pointer. */
void lab_pool_free(lab_pool **p);

/* The main loop: reaps, reads logs, retires idle or old environments,
 * until stop_fd becomes readable. Returns 0, or -1 on a fatal error. */
int lab_pool_run(lab_pool *p, int stop_fd);

/* Synchronous invocation; blocks until the function answers, fails or times out. */
lab_pool_status lab_pool_invoke(lab_pool *p, const char *function, const char *payload,
                                size_t len, const char *client_context,
                                lab_invoke_result *out);
/* The same for a qualifier (NULL, "" or $LATEST; a version number; an alias
 * name: LAB_POOL_NOT_FOUND when it does not exist), under a request id the
 * caller chose, because a function URL's event carries the id before the
 * invocation starts; NULL (or an id of 40 characters or more) draws one. */
lab_pool_status lab_pool_invoke_as(lab_pool *p, const char *function, const char *qualifier,
                                   const char *payload, size_t len, const char *client_context,
                                   const char *request_id, lab_invoke_result *out);
/* Event invocation: queued, run by the pool's workers. */
lab_pool_status lab_pool_invoke_async(lab_pool *p, const char *function, const char *qualifier,
                                      const char *payload, size_t len);
void lab_pool_result_clear(lab_invoke_result *r);

bool lab_pool_has_function(lab_pool *p, const char *function);
const char *lab_pool_region(const lab_pool *p);
const char *lab_pool_account(const lab_pool *p);

/* FunctionConfiguration as Lambda returns it, of $LATEST or the version a
 * qualifier names (an alias's: its ARN as FunctionArn, the version's
 * Version). */
cJSON *lab_pool_get_configuration(lab_pool *p, const char *function, const char *qualifier,
                                  lab_pool_status *st);
/* GetFunction: {Configuration, Code, Concurrency?}. */
cJSON *lab_pool_get_function(lab_pool *p, const char *function, const char *qualifier,
                             lab_pool_status *st);
/* ListFunctions: {Functions: [...]}. */
cJSON *lab_pool_list_functions(lab_pool *p);
/*
 * UpdateFunctionConfiguration with the request body (Environment, MemorySize,
 * Timeout, Description, RevisionId). On error msg holds Lambda's message.
 */
cJSON *lab_pool_update_configuration(lab_pool *p, const char *function, const cJSON *req,
                                     lab_pool_status *st, char *msg, size_t msglen);
/* Reserved concurrency: n >= 0 sets, n < 0 deletes; LAB_POOL_INVALID when
 * it would leave less than LAB_POOL_MIN_UNRESERVED unreserved. */
lab_pool_status lab_pool_set_concurrency(lab_pool *p, const char *function, int n);
/* -1 when none is set. */
lab_pool_status lab_pool_get_concurrency(lab_pool *p, const char *function, int *n);

/*
 * Versions and aliases. On error msg holds Lambda's message.
 * PublishVersion (req: Description, RevisionId): the new version's
 * FunctionConfiguration, *created false when nothing changed since the last
 * one (that version is answered, as Lambda does).
 */
cJSON *lab_pool_publish_version(lab_pool *p, const char *function, const cJSON *req,
                                bool *created, lab_pool_status *st, char *msg, size_t msglen);
/* ListVersionsByFunction: {Versions: [$LATEST, 1, 2, ...]}. */
cJSON *lab_pool_list_versions(lab_pool *p, const char *function, lab_pool_status *st);
/* CreateAlias (req: Name, FunctionVersion, Description) / UpdateAlias
 * (FunctionVersion, Description, RevisionId): AliasConfiguration. */
cJSON *lab_pool_create_alias(lab_pool *p, const char *function, const cJSON *req,
                             lab_pool_status *st, char *msg, size_t msglen);
cJSON *lab_pool_update_alias(lab_pool *p, const char *function, const char *alias,
                             const cJSON *req, lab_pool_status *st, char *msg, size_t msglen);
cJSON *lab_pool_get_alias(lab_pool *p, const char *function, const char *alias,
                          lab_pool_status *st, char *msg, size_t msglen);
lab_pool_status lab_pool_delete_alias(lab_pool *p, const char *function, const char *alias);
/* ListAliases: {Aliases: [...]}, only those for version when not NULL. */
cJSON *lab_pool_list_aliases(lab_pool *p, const char *function, const char *version,
                             lab_pool_status *st);
/* 0 when name[:qualifier] exists; the FunctionArn to show for it into arn. */
lab_pool_status lab_pool_resolve_arn(lab_pool *p, const char *function, const char *qualifier,
                                     char *arn, size_t arnlen);
/* GetAccountSettings: {AccountLimit, AccountUsage}. */
cJSON *lab_pool_account_settings(lab_pool *p);

/* Live environments of a function (for tests and the demo). */
int lab_pool_environment_count(lab_pool *p, const char *function);

#endif
