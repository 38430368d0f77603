/*
 * lab_runtime_api — the Lambda Runtime API (2018-06-01) served to one
 * execution environment, on the listening socket that lab_sandbox made
 * inside the environment's network namespace. One libmicrohttpd daemon per
 * environment, a thread per connection, because GET /next blocks until the
 * lab has an invocation for this environment.
 *
 * The HTTP side lives here; what the calls mean for the environment is the
 * pool's business, reached through lab_runtime_api_ops. The routes and
 * request ids are parsed by lab_request_rt_parse() (harness/lab_request.h).
 */
#ifndef COLDSEC_LAB_RUNTIME_API_H
#define COLDSEC_LAB_RUNTIME_API_H

#include <stddef.h>

/* 6 MB + the 100 bytes Lambda allows for the response envelope. */
#define LAB_RUNTIME_API_MAX_BODY 6291556

typedef struct lab_runtime_api lab_runtime_api;

/* An invocation handed to the runtime; all strings malloc'd, freed by
 * lab_runtime_event_clear(). */
typedef struct lab_runtime_event {
    char *request_id;
    char *function_arn;
    char *trace_id;
    char *client_context; /* decoded JSON, or NULL */
    char *payload;
    size_t payload_len;
    long long deadline_ms; /* epoch milliseconds */
} lab_runtime_event;

void lab_runtime_event_clear(lab_runtime_event *ev);

typedef struct lab_runtime_api_ops {
    /* GET /next: blocks; 0 with ev filled, or -1 when the environment is
     * going away (the runtime is told 500 and must exit). */
    int (*next)(void *env, lab_runtime_event *ev);
    /* POST /invocation/{id}/response or /error. Returns the HTTP status to
     * answer: 202, 400 (unknown id), 403 (no invocation), 413 (too large). */
    int (*result)(void *env, const char *request_id, const char *body, size_t len,
                  int is_error, const char *error_type);
    /* POST /init/error: 202, or 403 once init is over. */
    int (*init_error)(void *env, const char *body, size_t len, const char *error_type);
} lab_runtime_api_ops;

/* Takes ownership of listen_fd (closed by lab_runtime_api_stop or on failure).
 * max_connections: concurrent connections served, at least 16 (a Managed
 * Instances environment keeps up to its max concurrency of GET /next open
 * at once, plus its /response posts). */
lab_runtime_api *lab_runtime_api_start(int listen_fd, const lab_runtime_api_ops *ops,
                                       void *env, unsigned int max_connections,
                                       char *err, size_t errlen);
/* Stops the daemon; every blocked next() must already have been told to return. */
void lab_runtime_api_stop(lab_runtime_api **api);

#endif
