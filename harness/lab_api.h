/*
 * lab_api — the Lambda REST API of coldsec-lab (2015-03-31 and the
 * concurrency routes), over libmicrohttpd, bound to loopback only. Every
 * request's SigV4 signature is checked against the configured keys before
 * anything else happens; answers and error bodies are shaped as AWS's
 * (reference sections 1 and 2), so boto3 and the AWS CLI work against it.
 *
 * The one exception is function URLs: a function configured with
 * `function_url: true` answers unsigned HTTP at /lambda-url/NAME[/path][?query]
 * on the same listener (auth type NONE), as its https://<url-id>.lambda-url.
 * <region>.on.aws URL would, through the same environments as Invoke.
 *
 * Parsing and validation (routes, FunctionName, Invoke headers, the
 * function URL event and answer mapping) are lab_request's pure functions;
 * this module reads requests off libmicrohttpd and answers.
 *
 * Ownership: lab_api_start() copies the credentials it needs from cfg and
 * borrows pool, which must outlive the API; lab_api_stop() NULLs the pointer.
 */
#ifndef COLDSEC_LAB_API_H
#define COLDSEC_LAB_API_H

#include <stddef.h>

#include "lab_config.h"
#include "lab_pool.h"

/* Connections served at once (a thread each): an attacker's 2,000 parallel
 * callers with room to spare. Each costs a descriptor (coldsec-lab raises
 * RLIMIT_NOFILE to its hard limit) and a thread of LAB_API_THREAD_STACK. */
#define LAB_API_MAX_CONNECTIONS 4096
/* A connection thread's stack: the deepest path (an invoke reading the
 * environment's log through a 64 KiB buffer) uses well under this. */
#define LAB_API_THREAD_STACK (512 * 1024)
/* An idle keep-alive or slow-drip client is dropped after this long. */
#define LAB_API_IDLE_TIMEOUT_S 60
/* Bodies up to this size are read (and dropped past the payload limit). */
#define LAB_API_MAX_DISCARD (4 * (unsigned long long)LAB_POOL_MAX_PAYLOAD)

typedef struct lab_api lab_api;

/* host must be a loopback address; port 0 picks a free one. */
lab_api *lab_api_start(const char *host, int port, lab_pool *pool, const lab_config *cfg,
                       char *err, size_t errlen);
int lab_api_port(const lab_api *api);
/* Stops accepting and waits for the connection threads. */
void lab_api_stop(lab_api **api);

#endif
