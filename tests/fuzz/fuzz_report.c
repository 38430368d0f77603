/*
 * libFuzzer target for report.json as coldsec reads it back: `coldsec
 * report` and `--baseline` load files a CI job hands over, and the JUnit,
 * SARIF and HTML writers render whatever such a file says. A damaged or
 * hostile report must be refused with its name in the error, or rendered,
 * never crash; a refusal from a writer must say why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "htmlreport.h"
#include "jsonutil.h"
#include "junit.h"
#include "report.h"
#include "sarif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*writer)(const cJSON *report, FILE *out, char *err, size_t errlen);

static void render(const cJSON *doc)
{
    static const writer writers[] = {junit_write, sarif_write, htmlreport_write};
    for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
        char *buf = NULL, err[512] = "";
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        if (!out)
            abort();
        if (writers[i](doc, out, err, sizeof(err)) != 0 && err[0] == '\0')
            abort();
        fclose(out);
        free(buf);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[1024];
    const char *paths[2];
    report *r = NULL;
    cJSON *doc = jsonutil_parse_whole((const char *)data, size);
    int fd;

    if (doc)
        render(doc);
    cJSON_Delete(doc);
    /* report_load reads files: hand it this input as one, twice (a merge). */
    fd = memfd_create("report.json", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    paths[0] = paths[1] = path;
    for (size_t n = 1; n <= 2; n++) {
        if (report_load(paths, n, "20261123T000000Z-000000", "/nonexistent/fuzz", &r, err, sizeof(err)) != 0) {
            if (strncmp(err, path, strlen(path)) != 0)
                abort();
            continue;
        }
        if (report_set_baseline(r, path, err, sizeof(err)) != 0)
            abort();   /* it loaded once: it must load as a baseline too */
        (void)report_exit_status(r);
        report_free(r);
    }
    close(fd);
    return 0;
}
