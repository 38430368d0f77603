/*
 * junit — junit.xml: a run's report.json document (docs/report-format.md)
 * rendered as JUnit XML for the test views of CI (Jenkins's JUnit plugin,
 * GitLab's unit test reports), from the document alone so `coldsec report`
 * can render it again from the file. schemas/junit.xsd is the subset of
 * JUnit written here; tests/tools/check_junit.py validates a file against
 * it and checks its counts.
 *
 * Mapping: one <testsuite> per target (targets[] order), one <testcase> per
 * result (name = the scenario id, "(target setup)" for "*"; classname =
 * "coldsec." + the target's name). A result with a gating finding gets one
 * <failure> (message: the worst gating finding; text: every finding of the
 * result); refused, untestable, interrupted and not-restored get one
 * <error> instead (it wins over <failure>: the exit status ranks them
 * above findings, and strict schemas allow one of the two). Findings that
 * do not gate are also written to <system-out>, each with why.
 *
 * Every string of the document is treated as attacker-controlled: it is
 * XML-escaped, ill-formed UTF-8 and characters XML 1.0 forbids (and C1
 * controls) become U+FFFD, long strings are cut, and the attachment marker
 * of Jenkins and GitLab ("[[ATTACHMENT|path]]") is broken up so evidence
 * cannot name a file for CI to publish.
 *
 * Ownership: the document and the stream stay the caller's; nothing is
 * kept after the call. The caller writes to a temporary file and renames
 * it; on a write error the stream may hold a partial document.
 */
#ifndef COLDSEC_JUNIT_H
#define COLDSEC_JUNIT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* Writes junit.xml for `report` to `out`. Returns 0, or -1 with a message
 * in err[0..errlen) when the document is not a format-1 report (checked
 * before anything is written), memory runs out, or a write fails. */
int junit_write(const cJSON *report, FILE *out, char *err, size_t errlen);

#endif
