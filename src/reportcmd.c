/*
 * reportcmd — `coldsec report REPORT.json...` (see reportcmd.h).
 */
#include "reportcmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "rundir.h"

static const char REPORT_HELP[] =
    "usage: coldsec report REPORT.json... [--out DIR] [--format LIST] [--fail-on SEVERITY]\n"
    "                      [--baseline OLD_REPORT] [--quiet]\n"
    "Writes the report formats again from report.json files into a new run folder under --out; given\n"
    "several (the shards of one run: the same suite and seed), merges them into one report. Prints the\n"
    "summary table.\n\n"
    "  --out DIR           where the new run folder goes (default reports)\n"
    "  --format LIST       json, junit, sarif, html, comma-separated (default all); report.json always\n"
    "  --fail-on SEV       the gate: info, low, medium, high or critical (default: the report's)\n"
    "  --baseline FILE     an earlier report.json: findings it has are \"known\" and do not trip the gate\n"
    "  --quiet             no summary table\n\n"
    "Exit status: 0 no finding at or above the gate; 1 findings at or above it; 2 usage error or a file\n"
    "that is not a coldsec report; 3 a target could not be tested, or the run was interrupted; 4 a\n"
    "function's configuration could not be restored (run `coldsec restore JOURNAL`).\n";

int reportcmd_command(int argc, char **argv)
{
    enum { O_OUT = 300, O_FORMAT, O_FAIL_ON, O_BASELINE, O_QUIET, O_HELP };
    static const struct option opts[] = {
        {"out", required_argument, NULL, O_OUT},         {"format", required_argument, NULL, O_FORMAT},
        {"fail-on", required_argument, NULL, O_FAIL_ON}, {"baseline", required_argument, NULL, O_BASELINE},
        {"quiet", no_argument, NULL, O_QUIET},           {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0}};
    const char *out_dir = "reports", *baseline = NULL, *run_id;
    unsigned formats = REPORT_ALL;
    int fail_on = -1, c, rc = 2;
    bool quiet = false;
    report *rep = NULL;
    char err[2048], dir[4096];

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_OUT: out_dir = optarg; break;
        case O_FORMAT:
            if (report_formats_parse(optarg, &formats, err, sizeof(err)) != 0) {
                fprintf(stderr, "coldsec report: %s\n", err);
                return 2;
            }
            break;
        case O_FAIL_ON: {
            severity sev;
            if (severity_parse(optarg, &sev) != 0) {
                fprintf(stderr, "coldsec report: --fail-on: info, low, medium, high or critical, not \"%s\"\n",
                        optarg);
                return 2;
            }
            fail_on = (int)sev;
            break;
        }
        case O_BASELINE: baseline = optarg; break;
        case O_QUIET: quiet = true; break;
        case O_HELP: fputs(REPORT_HELP, stdout); return 0;
        default:
            fprintf(stderr, "coldsec report: unknown or incomplete option \"%s\" (see coldsec report --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "coldsec report: which report.json? (see coldsec report --help)\n");
        return 2;
    }
    if (rundir_name(out_dir, dir, sizeof(dir)) != 0) {
        fprintf(stderr, "coldsec report: no random numbers for the run folder's name\n");
        return 2;
    }
    run_id = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    if (report_load((const char *const *)argv + optind, (size_t)(argc - optind), run_id, dir, &rep, err,
                    sizeof(err)) != 0) {
        fprintf(stderr, "coldsec report: %s\n", err);
        return 2;
    }
    if (fail_on >= 0)
        report_set_fail_on(rep, (severity)fail_on);
    if (baseline && report_set_baseline(rep, baseline, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec report: --baseline %s\n", err);
        goto cleanup;
    }
    if (rundir_create(dir, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec report: %s\n", err);
        goto cleanup;
    }
    rc = report_exit_status(rep);
    if (report_write(rep, formats, err, sizeof(err)) != 0) {
        fprintf(stderr, "coldsec report: could not write the report: %s\n", err);
        if (rc == 0 || rc == 1)
            rc = 3;
    }
    if (!quiet)
        report_print(rep, stdout, report_color_allowed(STDOUT_FILENO));
cleanup:
    report_free(rep);
    return rc;
}
