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
 * `--delay-ms MS` (thread mode only) holds every answer MS milliseconds
 * before sending it, so a client's requests really are in flight together
 * (bench/fanout_vs_boto3.py measures coldsec's memory with 1,000 of them);
 * the server counts requests, connections and the peak of requests held at
 * once, and prints them on stdout when it stops:
 * `bare_http: requests R, connections C, peak concurrent P`.
 *
 *   bare_http [--listen 127.0.0.1:PORT] [--mode thread|epoll] [--delay-ms MS]
 *
 * Prints `bare_http listening on http://127.0.0.1:PORT` when ready; SIGTERM
 * or SIGINT stops it. Loopback only. No globals: the counters live in main's
 * struct server, passed to the callbacks.
 */
#include <microhttpd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum exit_code { EXIT_OK = 0, EXIT_USAGE = 2, EXIT_SETUP = 3 };

#define MAX_CONNECTIONS 1024
static const char BODY[] = "{\"message\":\"hello\",\"runtime\":\"c\",\"invocation\":1}";

struct server {
    long delay_ms;            /* 0: answer at once */
    atomic_long requests;     /* answered */
    atomic_long connections;  /* accepted */
    atomic_long holding;      /* requests being held right now */
    atomic_long peak;         /* the most held at once */
};

static void hold(struct server *s)
{
    long now = atomic_fetch_add(&s->holding, 1) + 1;
    long peak = atomic_load(&s->peak);
    struct timespec ts = {.tv_sec = s->delay_ms / 1000, .tv_nsec = (s->delay_ms % 1000) * 1000000L};

    while (now > peak && !atomic_compare_exchange_weak(&s->peak, &peak, now))
        ;
    while (nanosleep(&ts, &ts) != 0)
        ;
    atomic_fetch_sub(&s->holding, 1);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct server *s = cls;
    (void)c;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&s->connections, 1);
}

/* Answers once the whole request (and its body) has been read. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_size, void **con_cls)
{
    struct server *s = cls;
    struct MHD_Response *r;
    enum MHD_Result ret;

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
    if (s->delay_ms > 0)
        hold(s); /* thread mode: only this connection's thread waits */
    atomic_fetch_add(&s->requests, 1);
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
    struct server srv = {0};
    sigset_t stop;
    int sig, port = 0, rc = EXIT_SETUP;
    bool epoll = false;

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
            if (strcmp(v, "epoll") == 0) {
                flags = MHD_USE_EPOLL_INTERNAL_THREAD;
                epoll = true;
            } else if (strcmp(v, "thread") != 0) {
                return EXIT_USAGE;
            }
            i++;
        } else if (strcmp(argv[i], "--delay-ms") == 0 && v) {
            char *end;
            srv.delay_ms = strtol(v, &end, 10);
            if (*end || end == v || srv.delay_ms < 0 || srv.delay_ms > 600000) {
                fprintf(stderr, "bare_http: --delay-ms: expected 0 to 600000\n");
                return EXIT_USAGE;
            }
            i++;
        } else {
            fprintf(stderr, "usage: bare_http [--listen 127.0.0.1:PORT] [--mode thread|epoll] [--delay-ms MS]\n");
            return EXIT_USAGE;
        }
    }
    if (port < 0 || port > 65535)
        return EXIT_USAGE;
    if (epoll && srv.delay_ms > 0) {
        fprintf(stderr, "bare_http: --delay-ms needs --mode thread (one epoll thread would hold every answer)\n");
        return EXIT_USAGE;
    }

    /* Signals are taken with sigwait: block them before MHD's threads start. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((unsigned short)port);
    d = MHD_start_daemon(flags | MHD_USE_ITC, 0, NULL, NULL, handle, &srv,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_NOTIFY_CONNECTION, on_connection, &srv,
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
    if (rc == EXIT_OK) {
        printf("bare_http: requests %ld, connections %ld, peak concurrent %ld\n", atomic_load(&srv.requests),
               atomic_load(&srv.connections), atomic_load(&srv.peak));
        fflush(stdout);
    }
    return rc;
}
