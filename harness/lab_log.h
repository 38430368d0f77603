/*
 * lab_log — one execution environment's log: the log stream file kept under
 * the lab's log folder (like a CloudWatch log stream), and the last 4 KB of
 * the current invocation that Invoke returns in X-Amz-Log-Result.
 *
 * What the environment prints between invocations (its init output, or a
 * straggler after a response) belongs to the next invocation's tail, before
 * its START line: an init-time secret must show in the first tail, as it
 * does in Lambda's log tail after an init error.
 *
 * A Managed Instances environment writes JSON platform lines instead
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html:
 * MI support only the JSON log format) and serves several requests at once,
 * so its tail is not one invocation's: lab_log_json_finish returns the last
 * LAB_LOG_TAIL_BYTES of the environment's log up to that request's
 * platform.report, other requests' lines interleaved, and keeps the ring.
 *
 * Not thread-safe: the owning environment serialises calls. Ownership:
 * lab_log_open() returns an object freed by lab_log_close(), which NULLs
 * the caller's pointer; lab_log_finish()'s tail is malloc'd, caller frees.
 */
#ifndef COLDSEC_LAB_LOG_H
#define COLDSEC_LAB_LOG_H

#include <stddef.h>

#define LAB_LOG_TAIL_BYTES 4096
/* A flooding function must not fill the disk: the stream stops growing here. */
#define LAB_LOG_STREAM_MAX ((size_t)16 * 1024 * 1024)

typedef struct lab_log lab_log;

typedef struct lab_log_report {
    double duration_ms;
    int memory_size_mb;
    int max_memory_used_mb;
    double init_duration_ms; /* < 0: not the first invocation of the environment */
} lab_log_report;

/*
 * Opens the stream file <dir>/<function>/<YYYY>/<MM>/<DD>/<stream_name>,
 * creating folders. stream_name is "[$LATEST]<32 hex>". dir NULL keeps no
 * file (tail only).
 */
lab_log *lab_log_open(const char *dir, const char *function, const char *stream_name,
                      char *err, size_t errlen);

/* Output of the function. */
void lab_log_append(lab_log *l, const char *data, size_t len);
/* A line the platform writes (no trailing newline needed). */
void lab_log_line(lab_log *l, const char *line);
void lab_log_start(lab_log *l, const char *request_id);
/*
 * Writes END and REPORT, flushes the stream, and returns the base64 of the
 * last LAB_LOG_TAIL_BYTES of this invocation's log (NULL on allocation
 * failure). after_report, when not NULL, is a platform line written after
 * REPORT (Lambda's "Task timed out" line).
 */
char *lab_log_finish(lab_log *l, const char *request_id, const lab_log_report *r,
                     const char *after_report);
/* Formats the REPORT line (no newline) into out. */
void lab_log_format_report(const char *request_id, const lab_log_report *r,
                           char *out, size_t outlen);
/*
 * JSON platform lines, one object each (no newline) into out, "" when it
 * does not fit. iso is the "time" value (lab_log_iso_now's form,
 * 2026-01-02T03:04:05.678Z):
 *   {"time":T,"type":"platform.start","record":{"requestId":ID,"version":"$LATEST"}}
 *   {"time":T,"type":"platform.report","record":{"requestId":ID,"status":S,"metrics":
 *     {"durationMs":D,"billedDurationMs":B,"memorySizeMB":M,"maxMemoryUsedMB":U}}}
 *   {"time":T,"type":"platform.initReport","record":{"initializationType":"on-demand",
 *     "phase":"init","status":S,"metrics":{"durationMs":D}}}
 * S is "success", "error" or "timeout" (initReport: "success" or "error");
 * r->init_duration_ms is not used: init is reported once by initReport.
 */
void lab_log_format_json_start(const char *iso, const char *request_id, char *out, size_t outlen);
void lab_log_format_json_report(const char *iso, const char *request_id, const char *status,
                                const lab_log_report *r, char *out, size_t outlen);
void lab_log_format_json_init_report(const char *iso, double init_ms, const char *status,
                                     char *out, size_t outlen);
/* The current UTC time as 2026-01-02T03:04:05.678Z. */
void lab_log_iso_now(char *out, size_t outlen);
/* The lines above, written to l with the current time. */
void lab_log_json_start(lab_log *l, const char *request_id);
void lab_log_json_init_report(lab_log *l, double init_ms, const char *status);
/* Writes platform.report, flushes, and returns the base64 of the last
 * LAB_LOG_TAIL_BYTES of the environment's log (caller frees; NULL on
 * allocation failure); the ring is kept. */
char *lab_log_json_finish(lab_log *l, const char *request_id, const lab_log_report *r,
                          const char *status);
void lab_log_close(lab_log **l);

#endif
