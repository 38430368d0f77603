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
void lab_log_close(lab_log **l);

#endif
