/*
 * bare_http — the baseline of `make bench`: the cheapest HTTP server that
 * answers an Invoke the way the lab does, so that lab_load against it
 * measures the bare loopback HTTP round trip (client, kernel, libmicrohttpd)
 * and "lab overhead" = lab latency - this latency.
 *
 * It answers every request with 200 and a hello-c-sized JSON body, reading
 * and dropping any body, checking no signature. By default it serves with
 * the lab's own libmicrohttpd model (a thread per connection, see
 * harness/lab_api.c), so the difference is what the lab does per request,
 * not how it serves HTTP; `--mode epoll` uses one epoll thread instead, to
 * show what the serving model itself costs.
 *
 *   bare_http [--listen 127.0.0.1:PORT] [--mode thread|epoll]
 *
 * Prints `bare_http listening on http://127.0.0.1:PORT` when ready; SIGTERM
 * or SIGINT stops it. Loopback only. No globals.
 */
#include <microhttpd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum exit_code { EXIT_OK = 0, EXIT_USAGE = 2, EXIT_SETUP = 3 };

#define MAX_CONNECTIONS 1024
static const char BODY[] = "{\"message\":\"hello\",\"runtime\":\"c\",\"invocation\":1}";

/* Answers once the whole request (and its body) has been read. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_size, void **con_cls)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    if (!*con_cls) {
        *con_cls = c; /* any non-NULL marker: headers seen */
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    r = MHD_create_response_from_buffer(sizeof(BODY) - 1, (void *)BODY, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "X-Amz-Executed-Version", "$LATEST");
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    struct MHD_Daemon *d = NULL;
    const union MHD_DaemonInfo *info;
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    sigset_t stop;
    int sig, port = 0, rc = EXIT_SETUP;

    memset(&sa, 0, sizeof(sa));
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--listen") == 0 && v) {
            if (strncmp(v, "127.0.0.1:", 10) != 0) {
                fprintf(stderr, "bare_http: listens on 127.0.0.1 only\n");
                return EXIT_USAGE;
            }
            port = atoi(v + 10);
            i++;
        } else if (strcmp(argv[i], "--mode") == 0 && v) {
            if (strcmp(v, "epoll") == 0)
                flags = MHD_USE_EPOLL_INTERNAL_THREAD;
            else if (strcmp(v, "thread") != 0)
                return EXIT_USAGE;
            i++;
        } else {
            fprintf(stderr, "usage: bare_http [--listen 127.0.0.1:PORT] [--mode thread|epoll]\n");
            return EXIT_USAGE;
        }
    }
    if (port < 0 || port > 65535)
        return EXIT_USAGE;

    /* Signals are taken with sigwait: block them before MHD's threads start. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((unsigned short)port);
    d = MHD_start_daemon(flags | MHD_USE_ITC, 0, NULL, NULL, handle, NULL,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
                         MHD_OPTION_CONNECTION_TIMEOUT, 60U,
                         MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bare_http: cannot start the daemon\n");
        goto cleanup;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (!info) {
        fprintf(stderr, "bare_http: no port\n");
        goto cleanup;
    }
    printf("bare_http listening on http://127.0.0.1:%u\n", (unsigned int)info->port);
    fflush(stdout);
    if (sigwait(&stop, &sig) != 0)
        goto cleanup;
    rc = EXIT_OK;
cleanup:
    if (d)
        MHD_stop_daemon(d);
    return rc;
}
