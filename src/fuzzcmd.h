/*
 * fuzzcmd — `coldsec fuzz`: coverage-guided fuzzing of a lab function's
 * handler in its warm environment. It prepares reports/fuzz/TARGET/ (the
 * corpus, seeded from the target's baseline event and our Lambda event
 * shapes in fuzz/events/), runs coldsec-fuzz (libFuzzer's engine with the
 * handler behind it, fuzz/coldsec_fuzz.c) with libFuzzer's flags, and then
 * turns the findings it wrote into a report (report.json and the other
 * formats, as `coldsec run` writes them).
 */
#ifndef COLDSEC_FUZZCMD_H
#define COLDSEC_FUZZCMD_H

#include <signal.h>

/* argv[0] is "fuzz". Returns the exit status (see `coldsec fuzz --help`). */
int fuzzcmd_command(int argc, char **argv, const volatile sig_atomic_t *stop);

#endif
