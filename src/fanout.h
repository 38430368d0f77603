/*
 * fanout — the invocation engine: many Invokes of one function on a single
 * libcurl multi handle, with a bounded number in flight (DESIGN.md,
 * decision 1). Each finished invocation gets its timings, HTTP status,
 * function error, payload (size-capped), decoded log tail and parsed REPORT
 * line, and whether it was a cold start (Init Duration in the REPORT).
 *
 * Throttling is absorbed, not just retried: each call retries with backoff
 * (lambda_client), and the engine halves its in-flight limit on every
 * throttle and grows it back by one per round of successes (AIMD), so a
 * function with reserved concurrency 2 is not hammered by 64 callers.
 *
 * Ownership: the engine owns each fanout_item; the caller sees it in
 * on_done() and copies what it keeps. prepare() payloads are copied.
 */
#ifndef COLDSEC_FANOUT_H
#define COLDSEC_FANOUT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "lambda_client.h"
#include "logtail.h"

typedef enum {
    FANOUT_PENDING = 0,  /* not started (or not finished when the run stopped) */
    FANOUT_OK,           /* an answer: see resp.function_error */
    FANOUT_FAILED,       /* no usable answer: see err */
    FANOUT_CANCELLED     /* stopped by the caller's stop flag */
} fanout_state;

typedef struct fanout_item {
    size_t index;                 /* which invocation of the plan, 0..n-1 */
    void *tag;                    /* what the caller's prepare() set */
    fanout_state state;
    lambda_response resp;
    lambda_error *err;            /* FAILED/CANCELLED: why (NULL if out of memory) */
    char *log;                    /* decoded log tail, NUL-terminated, or NULL */
    size_t log_len;
    logtail_report report;
    bool cold;                    /* the REPORT line had Init Duration */
    double start_ms;              /* first attempt, from the start of the run */
    double end_ms;
} fanout_item;

typedef struct fanout_stats {
    size_t ok, function_errors, failed, cancelled, cold, warm, unknown_temperature;
    size_t retries, throttled;
    int peak_in_flight;
    double wall_ms;
} fanout_stats;

/* What prepare() gives for one invocation. The payload needs to live only
 * until prepare's caller returns (the engine copies it at once); tag is
 * handed back in on_done, for the caller to free there. */
typedef struct fanout_request {
    const unsigned char *payload;
    size_t payload_len;
    void *tag;
} fanout_request;

typedef struct fanout_options {
    const char *function;
    const char *qualifier;       /* NULL: unqualified */
    int max_in_flight;           /* > 0 */
    bool log_tail;               /* ask for X-Amz-Log-Type: Tail */
    size_t max_payload;          /* bytes of each answer kept; 0: the client's cap */
    /* Builds invocation index just before it starts; 0, or -1 to stop the
     * run (the engine reports it as an engine failure). Required. */
    int (*prepare)(void *ctx, size_t index, fanout_request *req);
    /* Called once per invocation as it ends (any state but PENDING,
     * cancelled ones included). The item is the engine's and is cleared
     * when this returns: keep what you need. */
    void (*on_done)(void *ctx, fanout_item *item);
    void *ctx;
    /* Polled between events; when it becomes non-zero, nothing new starts
     * and transfers in flight are cancelled. NULL: none. */
    const volatile sig_atomic_t *stop;
    /* The same effect for the caller's own reason (an answer already proved
     * what the run was for): on_done may set it. NULL: none. */
    const volatile sig_atomic_t *halt;
    /* transport http: each payload is POSTed to this URL (a function URL or
     * an API Gateway URL) instead of invoked; NULL: the Invoke API. */
    const char *http_url;
    bool http_sign;              /* the URL wants SigV4 (auth type AWS_IAM) */
} fanout_options;

/*
 * Runs invocations 0..n-1. Memory is bounded by max_in_flight, not n: each
 * invocation is prepared when it starts and handed to on_done when it
 * ends. Returns 0, or -1 when the engine itself failed (err set).
 */
int fanout_run(lambda_client *c, const fanout_options *o, size_t n, fanout_stats *stats, char *err,
               size_t errlen);

#endif
