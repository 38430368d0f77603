/*
 * fuzzlog — what of coldsec-fuzz's stderr reaches the terminal in
 * `coldsec fuzz` (src/fuzzcmd.c). Every byte goes to the run's log file;
 * the terminal gets the lines as they come until libFuzzer's crash report
 * starts (a "==PID== " banner line, or fork mode's "INFO: log from the inner
 * process"). From there on lines are held: fuzzlog_finish shows them on the
 * terminal, or — when the fuzzer's end was an oracle's finding (the caller
 * knows from the marker coldsec-fuzz writes before its abort) — leaves them
 * in the log only, where a finding's banner and stack frames of the fuzzer
 * belong: they are the fuzzer's, not the function's.
 *
 * Ownership: fuzzlog_new borrows log and term (both must outlive it).
 */
#ifndef COLDSEC_FUZZLOG_H
#define COLDSEC_FUZZLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct fuzzlog fuzzlog;

/* log may be NULL (then nothing is kept). NULL on OOM. */
fuzzlog *fuzzlog_new(FILE *log, FILE *term);
/* Bytes of the fuzzer's stderr, in any chunks. */
void fuzzlog_feed(fuzzlog *l, const char *data, size_t len);
/* The end: a last partial line is taken as a line; the held crash report
 * goes to the terminal unless oracle_finding. */
void fuzzlog_finish(fuzzlog *l, bool oracle_finding);
/* Whether a crash report started (lines are or were held). */
bool fuzzlog_crash_report_seen(const fuzzlog *l);
void fuzzlog_free(fuzzlog *l);

#endif
