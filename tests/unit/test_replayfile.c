/*
 * Unit tests for replayfile: a good file of each check kind reads back
 * (request files resolved against the file's folder, absolute ones kept);
 * bad files fail with an error naming the file and the member.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "replayfile.h"

#define HEAD "{\"coldsec_replay\": 1, \"title\": \"t\", " \
             "\"target\": {\"function\": \"f\", \"where\": \"lab\", \"lab_config\": \"/x/functions.yaml\"}, " \
             "\"cold_start\": true, "
#define TWO_STEPS "\"steps\": [{\"seq\": 1, \"user\": \"alice\", \"role\": \"planted\", \"request_file\": \"replay/000001.json\"}, " \
                  "{\"seq\": 2, \"user\": \"bob\", \"role\": \"seen\", \"request_file\": \"/abs/000002.json\"}], "
#define ONE_STEP "\"steps\": [{\"seq\": 6, \"user\": \"alice\", \"role\": \"matched\", \"request_file\": \"replay/000006.json\"}], "

static replayfile *parse(const char *text, char *err, size_t errlen)
{
    err[0] = '\0';
    return replayfile_parse("/r/t/s/finding-1.json", text, strlen(text), err, errlen);
}

static void test_canary(void **state)
{
    char err[512];
    replayfile *f = parse(HEAD TWO_STEPS "\"check\": {\"kind\": \"canary\", \"canary\": \"alice-CSC1\", "
                          "\"seen_in\": \"payload\", \"seen_step\": 2}}", err, sizeof(err));
    (void)state;
    assert_non_null(f);
    assert_int_equal(replayfile_kind_of(f), REPLAYFILE_CANARY);
    assert_string_equal(replayfile_kind_name(REPLAYFILE_CANARY), "canary");
    assert_int_equal(replayfile_nsteps(f), 2);
    assert_string_equal(replayfile_request_path(f, 0), "/r/t/s/replay/000001.json");
    assert_string_equal(replayfile_request_path(f, 1), "/abs/000002.json");
    assert_null(replayfile_request_path(f, 2));
    assert_int_equal(replayfile_check_step(f), 1);
    replayfile_free(f);
}

static void test_pattern_and_memory(void **state)
{
    char err[512];
    replayfile *f = parse(HEAD ONE_STEP "\"check\": {\"kind\": \"pattern\", \"pattern\": \"ENOSPC\", "
                          "\"where\": [\"payload\", \"log\"], \"step\": 1, \"sends\": 2}}", err, sizeof(err));
    (void)state;
    assert_non_null(f);
    assert_int_equal(replayfile_kind_of(f), REPLAYFILE_PATTERN);
    assert_int_equal(replayfile_check_sends(f), 2);
    assert_int_equal(replayfile_check_step(f), 0);
    replayfile_free(f);
    f = parse(HEAD ONE_STEP "\"check\": {\"kind\": \"memory\", \"proven\": true, \"step\": 1, \"sends\": 117, "
              "\"memory_size_mb\": 128, \"growth_mb\": 32, \"min_points\": 10, \"min_r2\": 0.8, \"oom_within\": 10000}}",
              err, sizeof(err));
    assert_non_null(f);
    assert_int_equal(replayfile_kind_of(f), REPLAYFILE_MEMORY);
    assert_int_equal(replayfile_check_sends(f), 117);
    replayfile_free(f);
}

static void test_secret(void **state)
{
    char err[512];
    replayfile *f = parse(HEAD ONE_STEP "\"check\": {\"kind\": \"secret\", \"function_variables\": true, "
                          "\"where\": [\"payload\"], \"shapes\": [{\"id\": \"jwt\", \"pattern\": \"eyJ\"}], "
                          "\"exposed\": [{\"kind\": \"secret-variable\", \"name\": \"DB_PASSWORD\", \"form\": \"raw\", "
                          "\"where\": \"payload\", \"step\": 1}]}}", err, sizeof(err));
    (void)state;
    assert_non_null(f);
    assert_int_equal(replayfile_kind_of(f), REPLAYFILE_SECRET);
    replayfile_free(f);
}

static void expect_error(const char *text, const char *member)
{
    char err[512];
    replayfile *f = parse(text, err, sizeof(err));
    if (f)
        fail_msg("parsed, expected an error naming %s", member);
    if (!strstr(err, "/r/t/s/finding-1.json: ") || !strstr(err, member))
        fail_msg("error \"%s\" does not name the file and %s", err, member);
}

static void test_bad_files(void **state)
{
    (void)state;
    expect_error("not json", "not a JSON object");
    expect_error("{\"coldsec_replay\": 2}", "coldsec_replay");
    expect_error("{\"coldsec_replay\": 1, \"target\": {\"where\": \"lab\"}}", "target.function");
    expect_error("{\"coldsec_replay\": 1, \"target\": {\"function\": \"f\", \"where\": \"moon\"}}", "target.where");
    expect_error("{\"coldsec_replay\": 1, \"target\": {\"function\": \"f\", \"where\": \"lab\"}}", "target.lab_config");
    expect_error(HEAD "\"steps\": []}", "steps");
    expect_error(HEAD "\"steps\": [{\"seq\": 1}]}", "steps[0].request_file");
    expect_error(HEAD "\"steps\": [{\"request_file\": \"a\", \"seq\": 1.5}]}", "steps[0].seq");
    expect_error(HEAD ONE_STEP "\"check\": {}}", "check.kind");
    expect_error(HEAD ONE_STEP "\"check\": {\"kind\": \"vibes\"}}", "check.kind");
    expect_error(HEAD TWO_STEPS "\"check\": {\"kind\": \"canary\", \"seen_in\": \"log\", \"seen_step\": 2}}",
                 "check.canary");
    expect_error(HEAD TWO_STEPS "\"check\": {\"kind\": \"canary\", \"canary\": \"c\", \"seen_in\": \"log\", "
                 "\"seen_step\": 3}}", "check.seen_step");
    expect_error(HEAD TWO_STEPS "\"check\": {\"kind\": \"canary\", \"canary\": \"c\", \"seen_in\": \"log\", "
                 "\"seen_step\": 1}}", "check.seen_step");
    expect_error(HEAD ONE_STEP "\"check\": {\"kind\": \"pattern\", \"pattern\": \"x\", \"where\": [\"payload\"], "
                 "\"step\": 1, \"sends\": 0}}", "check.sends");
    expect_error(HEAD ONE_STEP "\"check\": {\"kind\": \"pattern\", \"pattern\": \"x\", \"where\": [\"elsewhere\"], "
                 "\"step\": 1, \"sends\": 1}}", "check.where");
    expect_error(HEAD ONE_STEP "\"check\": {\"kind\": \"secret\", \"function_variables\": true, \"where\": [\"log\"], "
                 "\"shapes\": [], \"exposed\": [{\"kind\": \"pattern\", \"name\": \"jwt\", \"form\": \"raw\", "
                 "\"where\": \"log\", \"step\": 2}]}}", "check.exposed[0].step");
    expect_error(HEAD ONE_STEP "\"check\": {\"kind\": \"secret\", \"function_variables\": true, \"where\": [\"log\"], "
                 "\"shapes\": [{\"id\": \"jwt\"}], \"exposed\": []}}", "check.shapes[0]");
    expect_error(HEAD ONE_STEP "\"check\": {\"kind\": \"memory\", \"proven\": true, \"step\": 1, \"sends\": 3, "
                 "\"memory_size_mb\": 0, \"min_points\": 10, \"min_r2\": 0.8, \"oom_within\": 1}}",
                 "check.memory_size_mb");
}

static void test_where_has(void **state)
{
    char err[512];
    replayfile *f = parse(HEAD ONE_STEP "\"check\": {\"kind\": \"pattern\", \"pattern\": \"x\", "
                          "\"where\": [\"payload\"], \"step\": 1, \"sends\": 1}}", err, sizeof(err));
    const cJSON *where;
    (void)state;
    assert_non_null(f);
    where = cJSON_GetObjectItemCaseSensitive(replayfile_check(f), "where");
    assert_true(replayfile_where_has(where, "payload"));
    assert_true(replayfile_where_has(where, "body"));
    assert_false(replayfile_where_has(where, "log"));
    assert_false(replayfile_where_has(where, NULL));
    replayfile_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canary),         cmocka_unit_test(test_pattern_and_memory),
        cmocka_unit_test(test_secret),         cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_where_has),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
