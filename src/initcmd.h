/*
 * initcmd — `coldsec init`: writes a starter suite for one function into
 * the current folder, so that a new user's first `coldsec run` has a target,
 * a baseline with {{user.id}} where the identity goes, and comments saying
 * what to change.
 *
 *   --handler DIR        a lab target: runtime and handler guessed from the
 *                        files (asked on a terminal where they cannot be),
 *                        plus the lab functions file the suite points to
 *   --function NAME|ARN  an AWS target: one read-only GetFunctionConfiguration
 *                        fills runtime, memory and timeout comments
 *   --event FILE | --shape NAME   the baseline
 *
 * Nothing existing is ever overwritten (O_EXCL): the command refuses with
 * exit 2 instead.
 *
 * The pure parts (runtime and handler guesses, identity placement, reading
 * a sample event) are exposed for the unit tests. Ownership: strings passed
 * in are borrowed; cJSON trees given to a function stay the caller's unless
 * the comment says otherwise. No globals.
 */
#ifndef COLDSEC_INITCMD_H
#define COLDSEC_INITCMD_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "event.h"

typedef enum {
    INITCMD_RUNTIME_UNKNOWN = 0, /* no file says, or files of both kinds */
    INITCMD_RUNTIME_PYTHON,
    INITCMD_RUNTIME_NODE
} initcmd_runtime;

/*
 * The runtime a handler folder's file names suggest: package.json, *.js,
 * *.mjs, *.cjs -> Node.js; *.py -> Python. Files of both kinds, or of
 * neither, give INITCMD_RUNTIME_UNKNOWN (the user must say).
 */
initcmd_runtime initcmd_guess_runtime(const char *const *names, size_t count);

/*
 * Whether text (the contents of file name) defines a Lambda handler named
 * `handler` or `lambda_handler` for runtime rt: Python `def NAME(` at the
 * start of a line; Node.js `exports.NAME =`, `module.exports.NAME =`,
 * `export const|let|var NAME`, `export [async] function NAME`. On a match
 * writes "module.NAME" (the file name without its extension) into out and
 * returns 1; 0 when none; -1 when out is too small or name has no module.
 */
int initcmd_guess_handler(initcmd_runtime rt, const char *name, const char *text, char *out, size_t outlen);

/*
 * Puts the string "{{user.id}}" where the caller's identity goes in *ev.
 * pointer (RFC 6901, into *ev; JSON held in strings, such as an SQS
 * record's body, counts as fields) names the place, or NULL to guess: the
 * first leaf in document order whose member name is user, userId,
 * user_id, username, sub, customer, customerId, customer_id, owner,
 * ownerId, owner_id, accountId, account_id, tenant or tenantId (any case,
 * '-' and '_' ignored), or an "id" directly inside a member named like one.
 * The value there must be a string or a number. *ev may be replaced by a
 * new tree (the old one freed). Returns 1 with the pointer used in placed,
 * 0 when the guess found nothing (*ev unchanged), -1 with a reason in err.
 */
int initcmd_place_identity(cJSON **ev, const char *pointer, char *placed, size_t placedlen, char *err,
                           size_t errlen);

/*
 * A sample event file read for a baseline: the envelope it came in (an
 * API Gateway REST or HTTP API event, a function URL event, else raw) and
 * the baseline coldsec sends inside it (the parsed "body" of an HTTP
 * event, else the whole event). Returns 0 with *baseline (caller frees)
 * and *env, or -1 with "FILE:LINE:COLUMN: reason" (or "FILE: reason") in
 * err.
 */
int initcmd_read_event(const char *path, cJSON **baseline, event_envelope *env, char *err, size_t errlen);

/* `coldsec init` (argv[0] is "init"): the exit status (0, 2 usage or a file
 * that exists, 3 the AWS function could not be read). */
int initcmd_command(int argc, char **argv);

#endif
