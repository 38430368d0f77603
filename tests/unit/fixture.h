/*
 * fixture.h — reads a JSON fixture of tests/fixtures/ for the unit tests of
 * the report writers (tests run from the repository root, as tests/run.sh
 * runs them). Header-only: each test binary is one .c file.
 */
#ifndef COLDSEC_TEST_FIXTURE_H
#define COLDSEC_TEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "jsonutil.h"

/* The whole file as one JSON value; fails the test when it cannot. */
static cJSON *fixture_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    cJSON *doc;

    if (!f)
        fail_msg("%s: cannot open (run the tests from the repository root)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    doc = jsonutil_parse_whole(buf, (size_t)n);
    free(buf);
    if (!doc)
        fail_msg("%s: not JSON", path);
    return doc;
}

#endif
