/*
 * reportcmd — `coldsec report`: renders the formats again from report.json
 * files into a new run folder, merging the shards of one run when given
 * several, with the gate and baseline chosen now. The exit status is the
 * one the merged report decides, so a CI stage can gate on it.
 */
#ifndef COLDSEC_REPORTCMD_H
#define COLDSEC_REPORTCMD_H

/* argv[0] is "report". Returns the exit status (see `coldsec report --help`). */
int reportcmd_command(int argc, char **argv);

#endif
