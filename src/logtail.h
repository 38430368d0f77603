/*
 * logtail — facts from an Invoke's log tail. The coldsec client invokes with
 * `X-Amz-Log-Type: Tail`; the response header `X-Amz-Log-Result` holds the
 * base64 of the last 4 KB of the invocation's log. The invocation engine
 * decodes it here, reads the platform's REPORT line (duration, billed
 * duration, memory, Init Duration => cold start) and Task-timed-out line,
 * or, in Lambda's JSON log format, the `platform.report` record; tells
 * which request a JSON line belongs to (requestId / record.requestId), so
 * that a function serving several requests at once (Managed Instances)
 * has each invocation's log evidence cut down to its own lines; and
 * sanitizes the text before it reaches a terminal or a report.
 *
 * Everything here is untrusted input from whatever endpoint answered: every
 * length is bounded by the caller's len or a cap below, and nothing reads
 * past it.
 *
 * Ownership: logtail_decode() returns a malloc'd buffer the caller frees
 * with free(); nothing else allocates. Input strings are borrowed for the
 * duration of the call. No state outlives a call; every function is
 * thread-safe.
 */
#ifndef COLDSEC_LOGTAIL_H
#define COLDSEC_LOGTAIL_H

#include <stdbool.h>
#include <stddef.h>

/* Lambda sends 4 KB (about 5.5 KB of base64); anything past this is hostile. */
#define LOGTAIL_MAX_B64 ((size_t)64 * 1024)
/* Largest number a REPORT field may hold (ms, MB, seconds): beyond is hostile. */
#define LOGTAIL_MAX_VALUE 1e9
#define LOGTAIL_REQUEST_ID_MAX 64 /* bytes, NUL included */

typedef struct logtail_report {
    bool present;            /* a well-formed REPORT line was the last REPORT line */
    char request_id[LOGTAIL_REQUEST_ID_MAX]; /* printable ASCII, no spaces */
    double duration_ms;
    double billed_ms;
    int memory_size_mb;
    int max_memory_used_mb;
    bool has_init;           /* "Init Duration" present => cold start */
    double init_ms;
    bool timed_out;          /* a "Task timed out after N seconds" line after the last REPORT */
    double timed_out_after_s;
} logtail_report;

/*
 * Decodes the base64 in b64[0..b64len) (b64 may be NULL when b64len is 0).
 * Spaces, tabs, CR and LF are skipped; any other byte outside the base64
 * alphabet, misplaced padding, a truncated group, or more than
 * LOGTAIL_MAX_B64 bytes of input gives -1. On success returns 0 and sets
 * *out to a malloc'd buffer (caller frees) holding *outlen bytes plus a
 * terminating NUL; the bytes may themselves contain NULs. On failure *out
 * is NULL and *outlen 0.
 */
int logtail_decode(const char *b64, size_t b64len, char **out, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Reads the facts in text[0..len) (NULs allowed, no terminator needed) into
 * *out, which is zeroed first.
 *
 * The report comes from the LAST line starting with "REPORT RequestId:"
 * (the tail may begin mid-line; a function's own output can only precede
 * the platform's REPORT). After "REPORT", fields `Name: value [unit]` come
 * in any order, separated by runs of tabs or spaces (AWS: tabs and a
 * trailing tab; the Runtime Interface Emulator: two spaces, Init Duration
 * first); a trailing CR is ignored. RequestId, Duration (ms), Billed
 * Duration (ms), Memory Size (MB) and Max Memory Used (MB) are required,
 * Init Duration (ms) optional, other fields (SnapStart's Restore Duration)
 * ignored. Numbers are plain decimals (no sign, exponent, inf or nan) up
 * to LOGTAIL_MAX_VALUE; memory sizes are integers. If that line is
 * malformed in any way (missing, duplicate or bad field, wrong unit, request
 * id too long) present is false and its fields stay zero: an earlier REPORT
 * line is never used in its place.
 *
 * timed_out is set by a line `<timestamp> <requestId> Task timed out after
 * N seconds` that follows the last REPORT line (the last such line wins).
 */
void logtail_parse(const char *text, size_t len, logtail_report *out);

/*
 * As logtail_parse, for the invocation whose request id is request_id (the
 * Invoke answer's x-amzn-RequestId; NULL or "" when unknown). The text
 * REPORT line reads exactly as logtail_parse reads it; it is the answer
 * unless request_id is known and a JSON record names it, or no REPORT line
 * is in the tail. The tail is then read for Lambda's JSON log format
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html):
 * the last line that is a JSON object with "type": "platform.report" and
 * record.requestId equal to request_id (any request id when it is unknown)
 * gives the report: record.requestId, record.metrics.durationMs,
 * billedDurationMs, memorySizeMB and maxMemoryUsedMB (required; numbers
 * 0..LOGTAIL_MAX_VALUE, the memory sizes whole), initDurationMs (optional:
 * has_init, a cold start); record.status "timeout" sets timed_out (with
 * timed_out_after_s 0: the record does not say). A malformed chosen record
 * leaves present false, as a malformed REPORT line does.
 */
void logtail_parse_for(const char *text, size_t len, const char *request_id, logtail_report *out);

/*
 * The request a log line belongs to: a line (no newline; NULs allowed) that
 * is one JSON object with a string "requestId" (what the Node and Python
 * runtimes write) or, failing that, "record": {"requestId": ...} (the
 * platform's records). Copies it into id (idlen bytes, NUL-terminated) and
 * returns true; false for any other line (text, a cut line, an id that is
 * empty, too long or not printable ASCII).
 */
bool logtail_line_request_id(const char *line, size_t len, char *id, size_t idlen);

/*
 * The lines of text[0..len) that logtail_line_request_id attributes to
 * request_id, in order, each followed by '\n', into a malloc'd buffer the
 * caller frees (*out, NUL-terminated, *outlen bytes; empty when none or
 * when request_id is NULL or ""). Every other line (unattributed, another
 * request's) is left out. 0, or -1 when out of memory (*out NULL).
 */
int logtail_own_lines(const char *text, size_t len, const char *request_id, char **out, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Copies text[0..len) into out[0..outlen) for a terminal or a report: keeps
 * \n, \t and valid UTF-8; replaces each other control character (C0, DEL,
 * C1), each bidirectional override or isolate (U+202A..U+202E,
 * U+2066..U+2069, which can reorder what a reader sees), and each maximal
 * ill-formed UTF-8 subsequence (Unicode's recommended practice; a sequence
 * cut at either end of the tail is one) with U+FFFD. Stops at the first
 * character that does not fit whole, so a valid sequence is never split.
 * NUL-terminates when outlen > 0 and returns the bytes written before the
 * NUL (always < outlen; 0 when outlen is 0, and out may then be NULL).
 */
size_t logtail_sanitize(const char *text, size_t len, char *out, size_t outlen);

#endif
