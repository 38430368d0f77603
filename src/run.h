/*
 * run — `coldsec run`: a suite of targets × scenarios, start to report.
 * main.c owns the signal handlers and passes their flag in: when it is set
 * the run stops starting anything, restores every configuration it
 * changed, and still writes its report.
 */
#ifndef COLDSEC_RUN_H
#define COLDSEC_RUN_H

#include <signal.h>

/* argv[0] is "run". Returns the exit status (see `coldsec run --help`). */
int run_command(int argc, char **argv, const volatile sig_atomic_t *stop);

#endif
