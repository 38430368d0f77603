/*
 * lab_log — see lab_log.h. The tail is a ring of the last 4 KB; the stream
 * is a buffered file flushed at the end of every invocation, so a crash of
 * the lab loses at most the current invocation's lines.
 */
#include "lab_log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct lab_log {
    FILE *stream;
    size_t stream_bytes;
    int truncated;
    char ring[LAB_LOG_TAIL_BYTES];
    size_t ring_len;  /* bytes held, <= LAB_LOG_TAIL_BYTES */
    size_t ring_head; /* next write position */
};

static int mkdirs(char *path)
{
    char *p;

    for (p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

lab_log *lab_log_open(const char *dir, const char *function, const char *stream_name,
                      char *err, size_t errlen)
{
    lab_log *l = calloc(1, sizeof(*l));
    char folder[4096];
    char file[4096 + 128];
    time_t now = time(NULL);
    struct tm tm;

    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!dir)
        return l;
    gmtime_r(&now, &tm);
    snprintf(folder, sizeof(folder), "%s/%s/%04d/%02d/%02d", dir, function,
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    if (mkdirs(folder) != 0) {
        snprintf(err, errlen, "log folder %s: %s", folder, strerror(errno));
        goto fail;
    }
    snprintf(file, sizeof(file), "%s/%s", folder, stream_name);
    l->stream = fopen(file, "ae");
    if (!l->stream) {
        snprintf(err, errlen, "log stream %s: %s", file, strerror(errno));
        goto fail;
    }
    return l;
fail:
    free(l);
    return NULL;
}

static void ring_put(lab_log *l, const char *data, size_t len)
{
    size_t first;

    if (len >= LAB_LOG_TAIL_BYTES) {
        memcpy(l->ring, data + len - LAB_LOG_TAIL_BYTES, LAB_LOG_TAIL_BYTES);
        l->ring_head = 0;
        l->ring_len = LAB_LOG_TAIL_BYTES;
        return;
    }
    first = LAB_LOG_TAIL_BYTES - l->ring_head;
    if (first > len)
        first = len;
    memcpy(l->ring + l->ring_head, data, first);
    memcpy(l->ring, data + first, len - first);
    l->ring_head = (l->ring_head + len) % LAB_LOG_TAIL_BYTES;
    l->ring_len = l->ring_len + len > LAB_LOG_TAIL_BYTES ? LAB_LOG_TAIL_BYTES : l->ring_len + len;
}

static void stream_put(lab_log *l, const char *data, size_t len)
{
    static const char note[] = "[coldsec-lab] log stream truncated: over 16 MiB\n";

    if (!l->stream || l->truncated)
        return;
    if (l->stream_bytes + len > LAB_LOG_STREAM_MAX) {
        fwrite(note, 1, sizeof(note) - 1, l->stream);
        l->truncated = 1;
        return;
    }
    fwrite(data, 1, len, l->stream);
    l->stream_bytes += len;
}

void lab_log_append(lab_log *l, const char *data, size_t len)
{
    ring_put(l, data, len);
    stream_put(l, data, len);
}

void lab_log_line(lab_log *l, const char *line)
{
    lab_log_append(l, line, strlen(line));
    lab_log_append(l, "\n", 1);
}

void lab_log_start(lab_log *l, const char *request_id)
{
    char line[128];

    snprintf(line, sizeof(line), "START RequestId: %s Version: $LATEST", request_id);
    lab_log_line(l, line);
}

void lab_log_format_report(const char *request_id, const lab_log_report *r,
                           char *out, size_t outlen)
{
    int n = snprintf(out, outlen,
                     "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %.0f ms\t"
                     "Memory Size: %d MB\tMax Memory Used: %d MB\t",
                     request_id, r->duration_ms, ceil(r->duration_ms),
                     r->memory_size_mb, r->max_memory_used_mb);

    if (r->init_duration_ms >= 0 && n > 0 && (size_t)n < outlen)
        snprintf(out + n, outlen - (size_t)n, "Init Duration: %.2f ms\t", r->init_duration_ms);
}

/* The ring, oldest byte first, in base64 (NULL on allocation failure). */
static char *ring_b64(const lab_log *l)
{
    unsigned char flat[LAB_LOG_TAIL_BYTES];
    size_t start = (l->ring_head + LAB_LOG_TAIL_BYTES - l->ring_len) % LAB_LOG_TAIL_BYTES;
    char *b64;

    for (size_t i = 0; i < l->ring_len; i++)
        flat[i] = (unsigned char)l->ring[(start + i) % LAB_LOG_TAIL_BYTES];
    b64 = malloc(4 * ((l->ring_len + 2) / 3) + 1);
    if (b64)
        EVP_EncodeBlock((unsigned char *)b64, flat, (int)l->ring_len);
    return b64;
}

char *lab_log_finish(lab_log *l, const char *request_id, const lab_log_report *r,
                     const char *after_report)
{
    char line[512];
    char *b64;

    snprintf(line, sizeof(line), "END RequestId: %s", request_id);
    lab_log_line(l, line);
    lab_log_format_report(request_id, r, line, sizeof(line));
    lab_log_line(l, line);
    if (after_report)
        lab_log_line(l, after_report);
    if (l->stream)
        fflush(l->stream);

    b64 = ring_b64(l);
    l->ring_len = 0;
    l->ring_head = 0;
    return b64;
}

/* ---- JSON log format (Managed Instances) ---- */

/* Two decimals, as the text REPORT line has them. */
static double ms2(double ms)
{
    return round(ms * 100.0) / 100.0;
}

/* {"time":iso,"type":type,"record":record} into out; takes record. */
static void json_platform_line(const char *iso, const char *type, cJSON *record,
                               char *out, size_t outlen)
{
    cJSON *o = cJSON_CreateObject();
    char *text;

    out[0] = '\0';
    if (!o || !record) {
        cJSON_Delete(o);
        cJSON_Delete(record);
        return;
    }
    cJSON_AddStringToObject(o, "time", iso);
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddItemToObject(o, "record", record);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text && strlen(text) < outlen)
        memcpy(out, text, strlen(text) + 1);
    free(text);
}

void lab_log_format_json_start(const char *iso, const char *request_id, char *out, size_t outlen)
{
    cJSON *rec = cJSON_CreateObject();

    cJSON_AddStringToObject(rec, "requestId", request_id);
    cJSON_AddStringToObject(rec, "version", "$LATEST");
    json_platform_line(iso, "platform.start", rec, out, outlen);
}

void lab_log_format_json_report(const char *iso, const char *request_id, const char *status,
                                const lab_log_report *r, char *out, size_t outlen)
{
    cJSON *rec = cJSON_CreateObject(), *m;

    cJSON_AddStringToObject(rec, "requestId", request_id);
    cJSON_AddStringToObject(rec, "status", status);
    m = cJSON_AddObjectToObject(rec, "metrics");
    cJSON_AddNumberToObject(m, "durationMs", ms2(r->duration_ms));
    cJSON_AddNumberToObject(m, "billedDurationMs", ceil(r->duration_ms));
    cJSON_AddNumberToObject(m, "memorySizeMB", r->memory_size_mb);
    cJSON_AddNumberToObject(m, "maxMemoryUsedMB", r->max_memory_used_mb);
    json_platform_line(iso, "platform.report", rec, out, outlen);
}

void lab_log_format_json_init_report(const char *iso, double init_ms, const char *status,
                                     char *out, size_t outlen)
{
    cJSON *rec = cJSON_CreateObject(), *m;

    cJSON_AddStringToObject(rec, "initializationType", "on-demand");
    cJSON_AddStringToObject(rec, "phase", "init");
    cJSON_AddStringToObject(rec, "status", status);
    m = cJSON_AddObjectToObject(rec, "metrics");
    cJSON_AddNumberToObject(m, "durationMs", ms2(init_ms));
    json_platform_line(iso, "platform.initReport", rec, out, outlen);
}

void lab_log_iso_now(char *out, size_t outlen)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0 || snprintf(out + n, outlen - n, ".%03dZ", (int)(ts.tv_nsec / 1000000)) < 0)
        out[0] = '\0';
}

void lab_log_json_start(lab_log *l, const char *request_id)
{
    char iso[40], line[512];

    lab_log_iso_now(iso, sizeof(iso));
    lab_log_format_json_start(iso, request_id, line, sizeof(line));
    lab_log_line(l, line);
}

void lab_log_json_init_report(lab_log *l, double init_ms, const char *status)
{
    char iso[40], line[512];

    lab_log_iso_now(iso, sizeof(iso));
    lab_log_format_json_init_report(iso, init_ms, status, line, sizeof(line));
    lab_log_line(l, line);
    if (l->stream)
        fflush(l->stream);
}

char *lab_log_json_finish(lab_log *l, const char *request_id, const lab_log_report *r,
                          const char *status)
{
    char iso[40], line[512];

    lab_log_iso_now(iso, sizeof(iso));
    lab_log_format_json_report(iso, request_id, status, r, line, sizeof(line));
    lab_log_line(l, line);
    if (l->stream)
        fflush(l->stream);
    /* The ring is the environment's, shared by its concurrent requests:
     * kept, so the next tail holds what came before it too. */
    return ring_b64(l);
}

void lab_log_close(lab_log **lp)
{
    lab_log *l = lp ? *lp : NULL;

    if (!l)
        return;
    if (l->stream)
        fclose(l->stream);
    free(l);
    *lp = NULL;
}
