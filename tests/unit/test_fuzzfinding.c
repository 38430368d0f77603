/*
 * Unit tests for fuzzfinding, the replay record of a `coldsec fuzz` finding
 * file: what coldsec-fuzz writes reads back the same (files resolved
 * against the finding file's folder, absolute ones kept), each missing or
 * wrong field is named, a verdict is the finding again only with the same
 * kind (and for exceptions the same key), and memory's record says it
 * depended on the session. Also fuzzenv_secrets: the variables' literal values,
 * not short ones or references to a secret store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fuzzenv.h"
#include "fuzzfinding.h"

static cJSON *written(fuzzoracle_kind kind, const char *key, const char *probe)
{
    cJSON *o = cJSON_CreateObject();
    fuzzoracle_verdict v;
    memset(&v, 0, sizeof(v));
    v.kind = kind;
    snprintf(v.key, sizeof(v.key), "%s", key);
    fuzzfinding_add(o, "/lab/fuzz-functions.yaml", "fuzz-crash-python", "input-0123456789ab.json", probe, &v, 32);
    return o;
}

static void round_trip(void **state)
{
    cJSON *o = written(FUZZORACLE_CRASH, "crash", NULL);
    fuzzfinding f;
    char err[256];
    (void)state;
    assert_true(fuzzfinding_is(o));
    assert_int_equal(fuzzfinding_parse(o, "/runs/moved/finding-crash-0123456789ab.json", &f, err, sizeof(err)), 0);
    assert_string_equal(f.lab_config, "/lab/fuzz-functions.yaml");
    assert_string_equal(f.function, "fuzz-crash-python");
    assert_string_equal(f.input, "/runs/moved/input-0123456789ab.json");
    assert_string_equal(f.probe, "");
    assert_int_equal(f.kind, FUZZORACLE_CRASH);
    assert_string_equal(f.key, "crash");
    assert_int_equal(f.growth_mb, 32);
    /* A finding file named without a folder: its files are beside it. */
    assert_int_equal(fuzzfinding_parse(o, "finding.json", &f, err, sizeof(err)), 0);
    assert_string_equal(f.input, "input-0123456789ab.json");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(o, "replay"), "state")), "none");
    cJSON_Delete(o);

    o = written(FUZZORACLE_POLLUTION, "pollution", "probe.json");
    assert_int_equal(fuzzfinding_parse(o, "out/f.json", &f, err, sizeof(err)), 0);
    assert_string_equal(f.probe, "out/probe.json");
    cJSON_Delete(o);
}

typedef struct bad_case {
    const char *field;      /* path in "replay", dotted; "" for the marker */
    const char *json;       /* its new value, or NULL to delete it */
    const char *says;
} bad_case;

static void bad_fields_are_named(void **state)
{
    static const bad_case cases[] = {
        {"", "2", "coldsec_fuzz_finding"},
        {"lab_config", NULL, "replay.lab_config"},
        {"function", "\"\"", "replay.function"},
        {"input", "7", "replay.input"},
        {"probe", "\"\"", "replay.probe"},
        {"oracle.kind", "\"explosion\"", "replay.oracle.kind"},
        {"oracle.key", NULL, "replay.oracle.key"},
        {"oracle.growth_mb", "0", "replay.oracle.growth_mb"},
        {"oracle.growth_mb", "\"32\"", "replay.oracle.growth_mb"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *o = written(FUZZORACLE_TIMEOUT, "timeout", NULL), *parent = cJSON_GetObjectItemCaseSensitive(o, "replay");
        const char *name = cases[i].field;
        fuzzfinding f;
        char err[256] = "";
        if (!*name) {
            parent = o;
            name = "coldsec_fuzz_finding";
        } else if (strncmp(name, "oracle.", 7) == 0) {
            parent = cJSON_GetObjectItemCaseSensitive(parent, "oracle");
            name += 7;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(parent, name);
        if (cases[i].json)
            cJSON_AddItemToObject(parent, name, cJSON_Parse(cases[i].json));
        assert_int_equal(fuzzfinding_parse(o, "f.json", &f, err, sizeof(err)), -1);
        if (!strstr(err, cases[i].says))
            fail_msg("case %zu (%s): \"%s\" does not name %s", i, cases[i].field, err, cases[i].says);
        cJSON_Delete(o);
    }
    /* Not a finding file at all, and a pollution finding without its probe. */
    {
        cJSON *o = cJSON_Parse("{\"coldsec_replay\": 1}");
        fuzzfinding f;
        char err[256];
        assert_false(fuzzfinding_is(o));
        cJSON_Delete(o);
        o = written(FUZZORACLE_POLLUTION, "pollution", NULL);
        assert_int_equal(fuzzfinding_parse(o, "f.json", &f, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "replay.probe"));
        cJSON_Delete(o);
    }
}

static void same_kind_and_key(void **state)
{
    cJSON *o = written(FUZZORACLE_EXCEPTION, "KeyError at /var/task/handler.py:12", NULL);
    fuzzfinding f;
    fuzzoracle_verdict v;
    char err[256];
    (void)state;
    assert_int_equal(fuzzfinding_parse(o, "f.json", &f, err, sizeof(err)), 0);
    memset(&v, 0, sizeof(v));
    v.kind = FUZZORACLE_EXCEPTION;
    snprintf(v.key, sizeof(v.key), "KeyError at /var/task/handler.py:12");
    assert_true(fuzzfinding_same(&f, &v));
    snprintf(v.key, sizeof(v.key), "KeyError at /var/task/handler.py:13");
    assert_false(fuzzfinding_same(&f, &v));
    v.kind = FUZZORACLE_CRASH;
    assert_false(fuzzfinding_same(&f, &v));
    cJSON_Delete(o);

    o = written(FUZZORACLE_LEAK, "leak", NULL);
    assert_int_equal(fuzzfinding_parse(o, "f.json", &f, err, sizeof(err)), 0);
    v.kind = FUZZORACLE_LEAK;
    snprintf(v.key, sizeof(v.key), "leak");
    assert_true(fuzzfinding_same(&f, &v));
    v.kind = FUZZORACLE_NONE;
    assert_false(fuzzfinding_same(&f, &v));
    cJSON_Delete(o);

    o = written(FUZZORACLE_MEMORY, "memory", NULL);
    assert_int_equal(fuzzfinding_parse(o, "f.json", &f, err, sizeof(err)), 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(o, "replay"), "state")), "session");
    cJSON_Delete(o);
}

static void secrets_of_the_variables(void **state)
{
    cJSON *vars = cJSON_Parse("{\"API_KEY\": \"fuzz-sample-api-key-0001\", \"SHORT\": \"abc\", "
                              "\"REF\": \"{{resolve:secretsmanager:db}}\", \"N\": 7}");
    secrets *sec = fuzzenv_secrets(vars);
    secrets_match m[4];
    const char *text = "x fuzz-sample-api-key-0001 abc {{resolve:secretsmanager:db}}";
    size_t n;
    (void)state;
    assert_non_null(sec);
    n = secrets_scan(sec, text, strlen(text), m, 4);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].name, "API_KEY");
    secrets_free(sec);
    cJSON_Delete(vars);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(bad_fields_are_named),
        cmocka_unit_test(same_kind_and_key),
        cmocka_unit_test(secrets_of_the_variables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
