/*
 * report — the one in-memory result of a run (a report.json document,
 * docs/report-format.md, schemas/report-1.schema.json) and everything
 * derived from it: the gate, the baseline, the summary, the exit status,
 * and the files of reports/RUN/ (report.json always; junit.xml,
 * results.sarif, report.html as --format asks, each written by its own
 * module from the document alone).
 *
 * `coldsec run` builds a report with report_new + report_add while the
 * targets run; `coldsec report` rebuilds one from report.json files
 * (report_load: one file, or the shards of a run merged). Either way
 * report_finish decides gate, baseline states and summary from the
 * document, so a re-rendered report says what the original said.
 *
 * Exit status: 4 a configuration could not be restored; 2 a target refused
 * (usage or configuration); 3 a target could not be tested or the run was
 * interrupted; 1 a finding at or above the gate that the baseline does not
 * know; 0 otherwise (ranked 4 > 2 > 3 > 1 > 0).
 *
 * Thread-safety: report_add* may be called from several threads (a mutex
 * guards the document); the rest from one thread. Ownership: report_add
 * takes the result's findings, summary and timeline; strings are copied.
 */
#ifndef COLDSEC_REPORT_H
#define COLDSEC_REPORT_H

#include <stdio.h>

#include "engine.h"
#include "suite.h"

#define COLDSEC_VERSION "0.5.0"
#define REPORT_FORMAT 1

/* --format: report.json is always written (it is what --baseline and
 * `coldsec report` read); the others on demand. */
enum {
    REPORT_JSON = 1u << 0,
    REPORT_JUNIT = 1u << 1,
    REPORT_SARIF = 1u << 2,
    REPORT_HTML = 1u << 3,
    REPORT_ALL = REPORT_JSON | REPORT_JUNIT | REPORT_SARIF | REPORT_HTML
};

typedef struct report report;

/* Parses "json,junit,sarif,html" (any subset, comma-separated) into *out
 * (REPORT_JSON always included). -1 with err naming the bad word. */
int report_formats_parse(const char *list, unsigned *out, char *err, size_t errlen);

report *report_new(const suite *s, const char *run_id, const char *dir);
/* Loads paths[0..n) (report.json files; several are the shards of one run,
 * merged) into a report that will be written to dir as run_id. -1 with err
 * "FILE: why". */
int report_load(const char *const *paths, size_t n, const char *run_id, const char *dir, report **out, char *err,
                size_t errlen);
void report_set_fail_on(report *r, severity fail_on);
void report_set_shard(report *r, int index, int count);
/* Reads an earlier report.json: findings with fingerprints it has become
 * "known" and do not trip the gate. -1 with err "FILE: why". */
int report_set_baseline(report *r, const char *path, char *err, size_t errlen);

/* Records one target × scenario (res's findings, summary and timeline move
 * into the report); arn is the function's ARN when known (NULL otherwise). */
void report_add(report *r, const suite_target *t, const char *arn, const char *scenario_id, engine_result *res);
/* A target that failed before any scenario ran (configuration unreadable). */
void report_add_error(report *r, const suite_target *t, engine_status st, const char *detail);

/* Decides gate, baseline states, order and summary (once per change), then
 * writes DIR/report.json and the other formats asked for (0600, atomic
 * rename each). Every format is attempted; -1 with the first error. */
int report_write(report *r, unsigned formats, char *err, size_t errlen);
/* The summary table, the findings and the files written, for people;
 * color: ANSI colours for severities and statuses. */
void report_print(report *r, FILE *out, bool color);
/* The time now as report.json writes it: "2026-11-23T21:08:03Z" (UTC). */
void report_now_iso(char *out, size_t len);
/* out = the first 32 hex digits of SHA-256(text): the shape of every
 * finding fingerprint (and what coldsec fuzz's findings use too). */
void report_hash(const char *text, char out[33]);
/* Colour for fd: a terminal, and NO_COLOR (https://no-color.org) unset or empty. */
bool report_color_allowed(int fd);
int report_exit_status(report *r);
const char *report_dir(const report *r);
void report_free(report *r);

#endif
