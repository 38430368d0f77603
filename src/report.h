/*
 * report — collects what every target × scenario of a run produced and
 * writes reports/RUN/report.json, prints the summary, and decides the exit
 * status. One in-memory result, from which the next formats (JUnit, SARIF,
 * HTML) will also be written.
 *
 * report.json: {"coldsec_report": 1, run_id, suite, seed, fail_on, started,
 * finished, summary{...}, results[ one per target × scenario: status,
 * detail, invocations, ms, findings ], findings[ class, scenario,
 * assertion, target, function, severity, title, summary, fix, cwe,
 * evidence ]}. Evidence arrives masked from the engine.
 *
 * Exit status: 4 a configuration could not be restored; 2 a target refused
 * (usage or configuration); 3 a target could not be tested or the run was
 * interrupted; 1 a finding at or above the gate; 0 otherwise.
 *
 * Thread-safety: report_add may be called from several threads (a mutex
 * guards the result). Ownership: report_add takes the result's findings.
 */
#ifndef COLDSEC_REPORT_H
#define COLDSEC_REPORT_H

#include <stdio.h>

#include "engine.h"
#include "suite.h"

typedef struct report report;

report *report_new(const suite *s, const char *run_id, const char *dir);
/* Records one target × scenario (res's findings move into the report). */
void report_add(report *r, const suite_target *t, const char *scenario_id, engine_result *res);
/* A target that failed before any scenario ran (configuration unreadable). */
void report_add_error(report *r, const suite_target *t, engine_status st, const char *detail);
/* Writes DIR/report.json (0600, atomic rename). */
int report_write(report *r, char *err, size_t errlen);
void report_print(const report *r, FILE *out);
int report_exit_status(const report *r);
void report_free(report *r);

#endif
