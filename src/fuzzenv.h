/*
 * fuzzenv — a lab function as `coldsec fuzz` sets it up and talks to it,
 * shared by coldsec-fuzz (fuzz/coldsec_fuzz.c) and `coldsec replay` of a
 * fuzz finding (src/replaycmd.c), so that a replayed input is sent and
 * judged exactly as the fuzzer sent and judged it: its variables read and a
 * canary planted among them (COLDSEC_FUZZ_CANARY), fresh environments made
 * by a configuration change, one input sent as raw event bytes with the log
 * tail, the answer handed to fuzzoracle, and the secrets its leak oracle
 * looks for (every literal value of those variables).
 *
 * Ownership: fuzzenv_plant returns variables the caller frees with
 * cJSON_Delete; fuzzenv_answer's fields are freed by fuzzenv_answer_clear;
 * fuzzenv_secrets returns a set the caller frees with secrets_free.
 */
#ifndef COLDSEC_FUZZENV_H
#define COLDSEC_FUZZENV_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "fuzzoracle.h"
#include "lambda_client.h"
#include "secrets.h"

/* The variable coldsec-fuzz plants (and the leak oracle looks for). */
#define FUZZENV_CANARY_VARIABLE "COLDSEC_FUZZ_CANARY"
/* At most this much of an answer is kept (an oracle needs no more). */
#define FUZZENV_KEEP_ANSWER ((size_t)64 * 1024)

typedef struct fuzzenv_answer {
    lambda_response resp;
    char *log;                 /* the decoded log tail, or NULL */
    size_t log_len;
} fuzzenv_answer;

/* Waits until the function's last configuration update is done; 0 when it
 * succeeded. */
int fuzzenv_wait_updated(lambda_client *c, const char *function);

/* Reads the function's variables, adds canary as FUZZENV_CANARY_VARIABLE
 * and sets them (which retires its environments). *variables: what is set
 * now. 0, or -1 with err filled. */
int fuzzenv_plant(lambda_client *c, const char *function, const char *canary, cJSON **variables, char *err,
                  size_t errlen);

/* Retires every environment of the function: variables again, with a new
 * COLDSEC_FUZZ_NONCE (a configuration change, as `coldsec cold-start`
 * does). 0 when the update is done. */
int fuzzenv_fresh(lambda_client *c, const char *function, const cJSON *variables, int nonce);

/* One Invoke of payload with the log tail; 0 when there was an answer. */
int fuzzenv_invoke(lambda_client *c, const char *function, const char *payload, size_t len, fuzzenv_answer *a);
void fuzzenv_answer_clear(fuzzenv_answer *a);

/* fuzzoracle's verdict on a, the answer to input. */
void fuzzenv_judge(fuzzoracle *o, const fuzzenv_answer *a, const char *input, size_t input_len,
                   fuzzoracle_verdict *v);

/* Max Memory Used is a high-water mark that also creeps with the runtime's
 * own life, so an environment over the bound proves nothing alone: the
 * input, sent FUZZENV_MEMORY_REPLAYS times to an environment the caller
 * made fresh, must make the memory climb steadily (slope and fit) before
 * it is a finding. true when it does: what was measured is appended to
 * detail (dlen bytes in all) and *last_mb is the last Max Memory Used. */
#define FUZZENV_MEMORY_REPLAYS 40
bool fuzzenv_memory_grows(lambda_client *c, const char *function, const char *data, size_t size, char *detail,
                          size_t dlen, int *last_mb);

/* The literal values of variables (long enough, not references to a secret
 * store) as secrets, named by their variable. NULL on OOM. */
secrets *fuzzenv_secrets(const cJSON *variables);

#endif
