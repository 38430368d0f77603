/*
 * htmlreport — report.html: one self-contained page (inline CSS and SVG, no
 * script, no external resource) rendered from a report.json document
 * (docs/report-format.md) alone, so `coldsec report` can render it again
 * from the file. It shows the run's header and exit status, the summary and
 * results, every finding with its evidence, a timeline of each scenario's
 * invocations across the inferred execution environments, and a memory
 * chart for memory-growth findings.
 *
 * Every string of the document is treated as attacker-controlled (evidence
 * is what the target returned): it is HTML-escaped, ill-formed UTF-8 and
 * control characters become U+FFFD, and no report text ever becomes a URL.
 *
 * Ownership: the document and the stream stay the caller's; nothing is
 * kept after the call. The caller writes to a temporary file and renames
 * it; on error the stream may hold a partial page.
 */
#ifndef COLDSEC_HTMLREPORT_H
#define COLDSEC_HTMLREPORT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* Writes report.html for `report` to `out`. Returns 0, or -1 with a
 * message in err[0..errlen) when the document is not a format-1 report
 * (checked before anything is written), memory runs out, or a write
 * fails. */
int htmlreport_write(const cJSON *report, FILE *out, char *err, size_t errlen);

#endif
