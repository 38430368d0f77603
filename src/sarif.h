/*
 * sarif — results.sarif: a run's report.json document (docs/report-format.md)
 * rendered as SARIF 2.1.0 for code scanning (GitHub's upload included), from
 * the document alone so `coldsec report` can render it again from the file.
 * It must pass Microsoft's validator (rule kinds Sarif and Gh) with no error
 * or warning: tests/tools/validate_sarif.sh checks it.
 *
 * Mapping: one rule per scenario (id = the scenario id, stable across runs
 * and what a suite names); one result per finding, placed at the target's
 * entry in the suite file, relative to %SRCROOT% (the directory coldsec ran
 * in, which CI makes the repository root), with the function as a logical
 * location and the finding's fingerprint as partial fingerprint; one error
 * notification per result that was not tested to the end.
 *
 * Suite path: an absolute path under the current directory becomes relative
 * to it; any other absolute path loses its leading slashes (a relative
 * reference may not start with one), so a checkout at / still resolves it;
 * "." segments go, "a/.." pairs collapse; every byte outside RFC 3986's
 * unreserved set and "/" is percent-encoded.
 *
 * Every string of the document is treated as attacker-controlled: ill-formed
 * UTF-8 becomes U+FFFD, markdown is escaped, long texts are cut, and evidence
 * keeps its reproduce commands and scalars but not its examples.
 *
 * Ownership: the document and the stream stay the caller's; nothing is kept
 * after the call. The caller writes to a temporary file and renames it.
 */
#ifndef COLDSEC_SARIF_H
#define COLDSEC_SARIF_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* Writes the SARIF log for `report` to `out`. Returns 0, or -1 with a
 * message in err[0..errlen) when the document is not a format-1 report
 * (nothing is written then), memory runs out, or the write fails. */
int sarif_write(const cJSON *report, FILE *out, char *err, size_t errlen);

#endif
