/*
 * lab_runtime_api — the Runtime API over libmicrohttpd (see the header).
 * Routes, status codes and error bodies follow the Runtime API as RIE
 * serves it (reference section 4).
 */
#include "lab_runtime_api.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab_request.h"

/* Connections of a classic environment (one /next at a time, plus the
 * runtime's extra or stale ones). */
#define MAX_CONNECTIONS 16
/* Each environment has a polling thread and a thread per connection: with
 * 1,000 environments, 8 MiB default stacks would reserve 16 GB of address
 * space for threads that need a few pages (the deepest path reads the log
 * through a 64 KiB buffer). */
#define THREAD_STACK (256 * 1024)

struct lab_runtime_api {
    struct MHD_Daemon *daemon;
    const lab_runtime_api_ops *ops;
    void *env;
};

typedef struct upload {
    char *body;
    size_t len;
    size_t cap;
    bool too_large;
} upload;

void lab_runtime_event_clear(lab_runtime_event *ev)
{
    free(ev->request_id);
    free(ev->function_arn);
    free(ev->trace_id);
    free(ev->client_context);
    free(ev->payload);
    memset(ev, 0, sizeof(*ev));
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *json)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), (void *)json,
                                                             MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_status(struct MHD_Connection *c, int status)
{
    switch (status) {
    case 202:
        return reply(c, 202, "{\"status\":\"OK\"}");
    case 400:
        return reply(c, 400, "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}");
    case 403:
        return reply(c, 403, "{\"errorMessage\":\"Invalid state transition\",\"errorType\":\"InvalidStateTransition\"}");
    case 413:
        return reply(c, 413, "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\","
                             "\"errorType\":\"RequestEntityTooLarge\"}");
    default:
        return reply(c, 500, "{\"errorMessage\":\"Internal Server Error\",\"errorType\":\"InternalServerError\"}");
    }
}

static enum MHD_Result serve_next(lab_runtime_api *api, struct MHD_Connection *c)
{
    lab_runtime_event ev;
    struct MHD_Response *r;
    char deadline[32];
    enum MHD_Result ret;

    memset(&ev, 0, sizeof(ev));
    if (api->ops->next(api->env, &ev) != 0)
        return reply_status(c, 500);
    r = MHD_create_response_from_buffer(ev.payload_len, ev.payload, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        lab_runtime_event_clear(&ev);
        return MHD_NO;
    }
    ev.payload = NULL; /* now the response's */
    snprintf(deadline, sizeof(deadline), "%lld", ev.deadline_ms);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Lambda-Runtime-Aws-Request-Id", ev.request_id);
    MHD_add_response_header(r, "Lambda-Runtime-Deadline-Ms", deadline);
    MHD_add_response_header(r, "Lambda-Runtime-Invoked-Function-Arn", ev.function_arn);
    MHD_add_response_header(r, "Lambda-Runtime-Trace-Id", ev.trace_id);
    if (ev.client_context)
        MHD_add_response_header(r, "Lambda-Runtime-Client-Context", ev.client_context);
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    lab_runtime_event_clear(&ev);
    return ret;
}

/* Collects a request body, keeping at most LAB_RUNTIME_API_MAX_BODY bytes. */
static void collect(upload *u, const char *data, size_t size)
{
    if (u->too_large)
        return;
    if (u->len + size > LAB_RUNTIME_API_MAX_BODY) {
        u->too_large = true;
        return;
    }
    if (u->len + size + 1 > u->cap) {
        size_t cap = u->cap ? u->cap : 4096;
        char *nb;
        while (cap < u->len + size + 1)
            cap *= 2;
        nb = realloc(u->body, cap);
        if (!nb) {
            u->too_large = true;
            return;
        }
        u->body = nb;
        u->cap = cap;
    }
    memcpy(u->body + u->len, data, size);
    u->len += size;
    u->body[u->len] = '\0';
}

static enum MHD_Result reply_not_found(struct MHD_Connection *c)
{
    return reply(c, 404, "{\"errorMessage\":\"Not found\",\"errorType\":\"NotFound\"}");
}

static enum MHD_Result reply_refused(struct MHD_Connection *c, int status)
{
    if (status == 405)
        return reply(c, 405, "{\"errorMessage\":\"Method not allowed\",\"errorType\":\"MethodNotAllowed\"}");
    if (status == 400)
        return reply_status(c, 400);
    return reply_not_found(c);
}

static enum MHD_Result dispatch_post(lab_runtime_api *api, struct MHD_Connection *c,
                                     const lab_request_rt *rt, upload *u)
{
    const char *etype = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                    "Lambda-Runtime-Function-Error-Type");
    const char *body = u->body ? u->body : "";
    size_t len = u->too_large ? LAB_RUNTIME_API_MAX_BODY + 1 : u->len;

    if (rt->kind == LAB_REQUEST_RT_INIT_ERROR) {
        if (u->too_large)
            return reply_status(c, 413);
        return reply_status(c, api->ops->init_error(api->env, body, u->len, etype));
    }
    return reply_status(c, api->ops->result(api->env, rt->request_id, body, len,
                                            rt->kind == LAB_REQUEST_RT_ERROR, etype));
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_size, void **con_cls)
{
    lab_runtime_api *api = cls;
    upload *u = *con_cls;
    const char *path = lab_request_rt_path(url);
    lab_request_rt rt;

    (void)version;
    if (!path)
        return reply_not_found(c);
    /* Answer nothing on the first call: a response queued before libmicrohttpd
     * has finished reading the request makes it close the connection, and a
     * runtime would then reconnect (a new thread here) on every invocation. */
    if (!u) {
        u = calloc(1, sizeof(*u));
        if (!u)
            return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    lab_request_rt_parse(method, path, &rt);
    if (rt.kind == LAB_REQUEST_RT_NEXT)
        return serve_next(api, c);
    /* A POST's body is read before it is answered, whatever the route. */
    if (strcmp(method, "POST") == 0 && *upload_size) {
        collect(u, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (rt.kind == LAB_REQUEST_RT_REFUSED)
        return reply_refused(c, rt.status);
    return dispatch_post(api, c, &rt, u);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    upload *u = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (u) {
        free(u->body);
        free(u);
        *con_cls = NULL;
    }
}

lab_runtime_api *lab_runtime_api_start(int listen_fd, const lab_runtime_api_ops *ops,
                                       void *env, unsigned int max_connections,
                                       char *err, size_t errlen)
{
    lab_runtime_api *api = calloc(1, sizeof(*api));

    if (max_connections < MAX_CONNECTIONS)
        max_connections = MAX_CONNECTIONS;

    if (!api) {
        snprintf(err, errlen, "out of memory");
        close(listen_fd);
        return NULL;
    }
    api->ops = ops;
    api->env = env;
    /* poll(), not select(): a lab with a few hundred environments has
     * descriptors past FD_SETSIZE. */
    api->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC,
        0, NULL, NULL, handle, api,
        MHD_OPTION_LISTEN_SOCKET, listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, max_connections,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_END);
    if (!api->daemon) {
        snprintf(err, errlen, "cannot start the Runtime API server");
        close(listen_fd);
        free(api);
        return NULL;
    }
    return api;
}

void lab_runtime_api_stop(lab_runtime_api **pa)
{
    lab_runtime_api *api = pa ? *pa : NULL;

    if (!api)
        return;
    MHD_stop_daemon(api->daemon);
    free(api);
    *pa = NULL;
}
