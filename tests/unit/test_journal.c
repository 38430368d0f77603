/*
 * Unit tests for journal: a written journal loads back with the same facts;
 * the digest recognises exactly the original variables (order-free, and no
 * value is stored); writes are atomic and 0600; hostile or foreign files
 * are refused with a message naming the file and the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

static char *tmpdir(void)
{
    char tpl[] = "/tmp/coldsec-journal-XXXXXX";
    char *d = mkdtemp(tpl);
    assert_non_null(d);
    return strdup(d);
}

static cJSON *vars(const char *json)
{
    cJSON *v = cJSON_Parse(json);
    assert_non_null(v);
    return v;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 1 << 20);
    assert_non_null(f);
    assert_non_null(buf);
    assert_true(fread(buf, 1, (1 << 20) - 1, f) > 0);
    fclose(f);
    return buf;
}

static journal *sample(const char *path, cJSON **orig_out)
{
    cJSON *orig = vars("{\"DB_PASSWORD\":\"hunter2-secret\",\"MODE\":\"staging\"}");
    cJSON *added = vars("{\"COLDSEC_COLD_START_NONCE\":\"abc123\"}");
    journal_info ji = {.function = "orders", .function_arn = "arn:aws:lambda:us-east-1:1:function:orders",
                       .region = "us-east-1", .endpoint = "https://lambda.us-east-1.amazonaws.com",
                       .original_revision = "rev-1", .original_vars = orig, .added_vars = added};
    journal *j = journal_new(path, &ji);
    assert_non_null(j);
    cJSON_Delete(added);
    *orig_out = orig;
    return j;
}

static void test_round_trip_and_no_values_stored(void **state)
{
    char *dir = tmpdir(), path[512], err[256];
    cJSON *orig, *reordered, *changed, *with_nonce;
    journal *j, *k;
    struct stat st;
    char *text;

    (void)state;
    snprintf(path, sizeof(path), "%s/journal.json", dir);
    j = sample(path, &orig);
    assert_int_equal(journal_write(j, err, sizeof(err)), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    text = slurp(path);
    assert_null(strstr(text, "hunter2-secret"));
    assert_null(strstr(text, "staging"));
    assert_non_null(strstr(text, "DB_PASSWORD"));
    free(text);

    k = journal_load(path, err, sizeof(err));
    assert_non_null(k);
    assert_int_equal(journal_get_state(k), JOURNAL_PLANNED);
    assert_string_equal(journal_function(k), "orders");
    assert_string_equal(journal_region(k), "us-east-1");
    assert_null(journal_ours_revision(k));
    assert_true(journal_is_original(k, orig));
    reordered = vars("{\"MODE\":\"staging\",\"DB_PASSWORD\":\"hunter2-secret\"}");
    assert_true(journal_is_original(k, reordered));
    changed = vars("{\"MODE\":\"staging\",\"DB_PASSWORD\":\"hunter3-secret\"}");
    assert_false(journal_is_original(k, changed));
    /* Name/value boundaries are part of the digest. */
    cJSON_Delete(changed);
    changed = vars("{\"MODE\":\"stagingD\",\"B_PASSWORD\":\"hunter2-secret\"}");
    assert_false(journal_is_original(k, changed));
    assert_false(journal_is_original(k, NULL));
    with_nonce = vars("{\"MODE\":\"staging\",\"DB_PASSWORD\":\"hunter2-secret\",\"COLDSEC_COLD_START_NONCE\":\"abc123\"}");
    assert_true(journal_has_added(k, with_nonce));
    assert_false(journal_has_added(k, orig));
    assert_false(journal_is_original(k, with_nonce));

    assert_int_equal(journal_set_state(k, JOURNAL_UPDATED, "rev-2", "update accepted"), 0);
    assert_int_equal(journal_write(k, err, sizeof(err)), 0);
    journal_free(k);
    k = journal_load(path, err, sizeof(err));
    assert_non_null(k);
    assert_int_equal(journal_get_state(k), JOURNAL_UPDATED);
    assert_string_equal(journal_ours_revision(k), "rev-2");
    /* No temporary file is left behind. */
    snprintf(path, sizeof(path), "%s/journal.json.tmp", dir);
    assert_int_not_equal(access(path, F_OK), 0);

    journal_free(j);
    journal_free(k);
    cJSON_Delete(orig);
    cJSON_Delete(reordered);
    cJSON_Delete(changed);
    cJSON_Delete(with_nonce);
    snprintf(path, sizeof(path), "%s/journal.json", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0); /* nothing else was left in it */
    free(dir);
}

static void test_empty_original_map(void **state)
{
    cJSON *none = cJSON_CreateObject(), *added = vars("{\"N\":\"1\"}"), *one = vars("{\"A\":\"b\"}");
    journal_info ji = {.function = "f", .region = "r", .endpoint = "e", .original_vars = NULL,
                       .added_vars = added};
    journal *j = journal_new("/nonexistent/j.json", &ji);

    (void)state;
    assert_non_null(j);
    assert_true(journal_is_original(j, none));
    assert_true(journal_is_original(j, NULL));
    assert_false(journal_is_original(j, one));
    journal_free(j);
    cJSON_Delete(none);
    cJSON_Delete(added);
    cJSON_Delete(one);
}

static void expect_refused(const char *text, const char *want)
{
    char err[512] = "";
    journal *j = journal_parse(text, strlen(text), "x/journal.json", err, sizeof(err));
    assert_null(j);
    if (!strstr(err, want) || !strstr(err, "x/journal.json"))
        fail_msg("for %s: got \"%s\", want \"%s\"", text, err, want);
}

static void test_foreign_and_broken_files_are_refused(void **state)
{
    char err[256];
    (void)state;
    expect_refused("", "not a JSON object");
    expect_refused("[1,2]", "not a JSON object");
    /* One object and then more is not a journal (cJSON alone would stop at the first). */
    expect_refused("{\"coldsec_journal\":1} {\"coldsec_journal\":1}", "not a JSON object");
    expect_refused("{\"coldsec_journal\":1}<html>", "not a JSON object");
    expect_refused("{\"coldsec_journal\":2}", "\"coldsec_journal\" must be 1");
    expect_refused("{\"coldsec_journal\":1,\"state\":\"planned\"}", "field \"function\"");
    expect_refused("{\"coldsec_journal\":1,\"state\":\"odd\",\"function\":\"f\",\"region\":\"r\",\"endpoint\":\"e\"}",
                   "unknown state");
    expect_refused("{\"coldsec_journal\":1,\"state\":\"planned\",\"function\":\"f\",\"region\":\"r\",\"endpoint\":\"e\","
                   "\"original\":{\"digest_salt\":\"zz\",\"variables_hmac_sha256\":\"00\"}}",
                   "digest_salt");
    expect_refused("{\"coldsec_journal\":1,\"state\":\"planned\",\"function\":\"f\",\"region\":\"r\",\"endpoint\":\"e\","
                   "\"original\":{\"digest_salt\":\"000102030405060708090a0b0c0d0e0f\",\"variables_hmac_sha256\":\"00\"},"
                   "\"added_variables\":{}}",
                   "added_variables");
    expect_refused("{\"coldsec_journal\":1,\"state\":\"planned\",\"function\":\"f\",\"region\":\"r\",\"endpoint\":\"e\","
                   "\"original\":{\"digest_salt\":\"000102030405060708090a0b0c0d0e0f\",\"variables_hmac_sha256\":\"00\"},"
                   "\"added_variables\":{\"N\":5}}",
                   "not a string");
    assert_null(journal_load("/nonexistent/journal.json", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/journal.json: cannot open"));
}

/* Found by fuzz_journal: a journal without ours_revision_id leaked the new
 * value instead of storing it. */
static void test_set_state_adds_a_missing_field(void **state)
{
    static const char text[] =
        "{\"coldsec_journal\":1,\"state\":\"planned\",\"function\":\"f\",\"region\":\"r\",\"endpoint\":\"e\","
        "\"original\":{\"digest_salt\":\"000102030405060708090a0b0c0d0e0f\",\"variables_hmac_sha256\":\"00\"},"
        "\"added_variables\":{\"N\":\"1\"}}";
    char err[256];
    journal *j = journal_parse(text, sizeof(text) - 1, "j.json", err, sizeof(err));
    (void)state;
    assert_non_null(j);
    assert_null(journal_ours_revision(j));
    assert_int_equal(journal_set_state(j, JOURNAL_UPDATED, "rev-9", NULL), 0);
    assert_string_equal(journal_ours_revision(j), "rev-9");
    assert_int_equal(journal_get_state(j), JOURNAL_UPDATED);
    journal_free(j);
}

static void test_write_into_missing_folder_fails_cleanly(void **state)
{
    cJSON *orig;
    char err[256] = "";
    journal *j = sample("/nonexistent-dir/journal.json", &orig);
    (void)state;
    assert_int_equal(journal_write(j, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/journal.json.tmp: cannot create"));
    journal_free(j);
    cJSON_Delete(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_no_values_stored),
        cmocka_unit_test(test_empty_original_map),
        cmocka_unit_test(test_foreign_and_broken_files_are_refused),
        cmocka_unit_test(test_set_state_adds_a_missing_field),
        cmocka_unit_test(test_write_into_missing_folder_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
