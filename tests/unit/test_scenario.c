/*
 * Unit tests for the scenario model: the template language (tmpl), the
 * built-in scenario files and catalogs as they ship (scenario), the default
 * suite (suite), and the errors a user gets for broken files — each with the
 * FILE:LINE:COLUMN of the node to fix. Run from the repository root
 * (tests/run.sh does).
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

#include "scenario.h"
#include "suite.h"
#include "tmpl.h"

/* ---------- tmpl ---------- */

static int fill(void *ctx, const tmpl_token *t, const char **value, size_t *vlen, size_t *pad, char *why,
                size_t whylen)
{
    (void)ctx;
    switch (t->kind) {
    case TMPL_CANARY:
        if (t->arglen == 3 && memcmp(t->arg, "bad", 3) == 0) {
            snprintf(why, whylen, "no canary 'bad'");
            return -1;
        }
        *value = "CSC000000000000000000000001";
        break;
    case TMPL_USER_ID: *value = "alice-1234abcd"; break;
    case TMPL_USER_NAME: *value = "alice"; break;
    case TMPL_SEQ: *value = "42"; break;
    case TMPL_PAD: *pad = (size_t)strtoul(t->arg, NULL, 10); return 0;
    default: *value = ""; break;
    }
    *vlen = strlen(*value);
    return 0;
}

static char *expand(const char *s, size_t *len, char *err, size_t errlen)
{
    return tmpl_expand(s, strlen(s), fill, NULL, len, err, errlen);
}

static void test_tmpl_expands_every_token(void **state)
{
    char err[256];
    size_t len;
    char *out;
    (void)state;
    out = expand("u={{user.id}} n={{user.name}} s={{seq}} c={{canary.own}} p={{pad:3}}|{{open}}x{{close}}", &len,
                 err, sizeof(err));
    assert_non_null(out);
    assert_string_equal(out, "u=alice-1234abcd n=alice s=42 c=CSC000000000000000000000001 p=xxx|{{x}}");
    assert_int_equal(len, strlen(out));
    free(out);
    out = expand("no tokens { } }} {", &len, err, sizeof(err));
    assert_string_equal(out, "no tokens { } }} {");
    free(out);
}

static void test_tmpl_rejects_bad_tokens(void **state)
{
    static const char *const bad[] = {"{{cannary.x}}", "{{ user.id }}", "{{user.id", "a {{pad:x}}",
                                      "{{canary.}}",   "{{pad:$}}",     "{{}}",      "{{canary.a b}}"};
    char err[256];
    size_t len, at = 99;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_null(expand(bad[i], &len, err, sizeof(err)));
        assert_non_null(strstr(err, "bad template"));
        assert_int_equal(tmpl_scan(bad[i], strlen(bad[i]), NULL, NULL, &at, err, sizeof(err)), -1);
        assert_int_equal(at, strchr(bad[i], '{') - bad[i]);
    }
    /* A resolver's refusal is reported as such. */
    assert_null(expand("x {{canary.bad}}", &len, err, sizeof(err)));
    assert_string_equal(err, "no canary 'bad'");
    assert_true(tmpl_has_tokens("a{{b", 4));
    assert_false(tmpl_has_tokens("a{b}", 4));
}

static void test_tmpl_pad_is_capped(void **state)
{
    char err[256];
    size_t len;
    (void)state;
    assert_null(expand("{{pad:999999999}}", &len, err, sizeof(err)));
}

/* ---------- the shipped scenarios and suite ---------- */

static void test_builtin_scenarios_load(void **state)
{
    static const char *const ids[] = {"concurrent-state", "config",          "cross-user-leak", "injection-persistence",
                                      "memory-growth",    "secret-exposure", "tmp-residue"};
    scenario_set *set = NULL;
    char err[1024] = "";
    (void)state;
    assert_int_equal(scenario_set_load("scenarios", &set, err, sizeof(err)), 0);
    assert_int_equal(scenario_set_count(set), 7);
    for (size_t i = 0; i < 7; i++) {
        const scenario *sc = scenario_set_find(set, ids[i]);
        assert_non_null(sc);
        assert_string_equal(sc->cls, ids[i]);
        assert_true(sc->nasserts >= 1);
        assert_true(sc->nrefs >= 2);
    }
    {
        const scenario *sc = scenario_set_find(set, "injection-persistence");
        int inject = scenario_step_index(sc, "inject");
        assert_true(inject >= 0);
        assert_non_null(sc->steps[inject].cat);
        assert_true(cJSON_GetArraySize(sc->steps[inject].cat->entries) >= 10);
        assert_int_equal(sc->asserts[0].cleared_by, scenario_step_index(sc, "after_cold"));
        assert_int_equal(sc->asserts[0].who, WHO_OTHER_USER);
        assert_int_equal(sc->requires_max_concurrency, 0);
    }
    {
        /* Applies only where one environment serves several requests at
         * once; its sightings count only between overlapping requests. */
        const scenario *sc = scenario_set_find(set, "concurrent-state");
        assert_int_equal(sc->requires_max_concurrency, 2);
        assert_int_equal(sc->sev, SEVERITY_HIGH);
        assert_int_equal(sc->asserts[0].who, WHO_CONCURRENT_OTHER_USER);
        assert_true(sc->asserts[0].identity);
        assert_int_equal(sc->asserts[0].where, WHERE_PAYLOAD | WHERE_LOG);
        for (size_t i = 0; i < sc->nsteps; i++) {
            assert_int_equal(sc->steps[i].kind, STEP_INVOKE);
            assert_true(sc->steps[i].shuffle);
            assert_true(sc->steps[i].parallel.param >= 0);
        }
    }
    scenario_set_free(set);
}

static void test_default_suite_loads(void **state)
{
    suite *s = NULL;
    char err[1024] = "";
    size_t vulnerable = 0, hardened = 0;
    (void)state;
    assert_int_equal(suite_load("scenarios.yaml", NULL, &s, err, sizeof(err)), 0);
    assert_int_equal(s->fail_on, SEVERITY_MEDIUM);
    assert_non_null(s->lab_config);
    for (size_t i = 0; i < s->ntargets; i++) {
        const suite_target *t = &s->targets[i];
        assert_true(t->lab);
        assert_true(t->allow_mutation);
        vulnerable += strstr(t->name, "-vulnerable") != NULL;
        hardened += strstr(t->name, "-hardened") != NULL;
        /* Every target runs the scenario of its class. */
        for (size_t k = 0; k <= t->nruns; k++) {
            assert_true(k < t->nruns);
            if (strncmp(t->name, t->runs[k].sc->cls, strlen(t->runs[k].sc->cls)) == 0)
                break;
        }
    }
    /* Every hardened twin has its vulnerable sample (NAME-hardened and
     * NAME-vulnerable); a cell may hold more vulnerable variants
     * (NAME-vulnerable-VARIANT). */
    for (size_t i = 0; i < s->ntargets; i++) {
        const char *name = s->targets[i].name;
        const char *h = strstr(name, "-hardened");
        char twin[256];
        bool found = false;
        if (h == NULL)
            continue;
        assert_true(snprintf(twin, sizeof(twin), "%.*s-vulnerable", (int)(h - name), name) < (int)sizeof(twin));
        for (size_t k = 0; k < s->ntargets && !found; k++)
            found = strcmp(s->targets[k].name, twin) == 0;
        assert_true(found);
    }
    assert_true(vulnerable >= hardened);
    assert_true(hardened >= 11);
    suite_free(s);
}

/* ---------- broken files: FILE:LINE:COLUMN ---------- */

typedef struct tmpdir {
    char path[64];
} tmpdir;

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void make_dir(tmpdir *d)
{
    char cat[128];
    snprintf(d->path, sizeof(d->path), "/tmp/coldsec-test-scenario-XXXXXX");
    assert_non_null(mkdtemp(d->path));
    snprintf(cat, sizeof(cat), "%s/catalogs", d->path);
    assert_int_equal(mkdir(cat, 0700), 0);
}

/* The shipped scenarios in DIR/scn, so that a suite file can sit in DIR. */
static void copy_scenarios(const tmpdir *d, char *scn, size_t len)
{
    char cmd[512];
    snprintf(scn, len, "%s/scn", d->path);
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/catalogs && cp scenarios/*.yaml %s/ && cp scenarios/catalogs/*.yaml %s/catalogs/",
             scn, scn, scn);
    assert_int_equal(system(cmd), 0);
}

static void remove_dir(const tmpdir *d)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", d->path);
    assert_int_equal(system(cmd), 0);
}

#define SCENARIO_HEAD                                                                                          \
    "id: s1\ntitle: t\nclass: cross-user-leak\nseverity: high\nproves: p\nfix: f\n"                           \
    "canaries: {own: {per: invocation}}\nusers: [alice, bob]\n"

static void expect_scenario_error(const char *body, const char *expected)
{
    tmpdir d;
    scenario_set *set = NULL;
    char err[1024] = "", want[512], text[4096];
    make_dir(&d);
    snprintf(text, sizeof(text), SCENARIO_HEAD "%s", body);
    write_file(d.path, "s1.yaml", text);
    write_file(d.path, "catalogs/inj.yaml", "entries:\n  - {id: a, set: \"{{canary.nope}}\"}\n");
    assert_int_equal(scenario_set_load(d.path, &set, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s/s1.yaml:%s", d.path, expected);
    if (strstr(err, want) == NULL)
        fail_msg("got \"%s\", want it to contain \"%s\"", err, want);
    remove_dir(&d);
}

static void test_scenario_errors_name_the_place(void **state)
{
    (void)state;
    expect_scenario_error("steps:\n  - invoke: {id: a, users: [carol], count: 1}\nassertions: []\n",
                          "10:29: no user 'carol' in the scenario's users");
    expect_scenario_error("steps:\n  - invoke: {id: a, users: [alice], count: $rounds}\nassertions: []\n",
                          "10:44: count: no parameter 'rounds'");
    expect_scenario_error("steps:\n  - invoke: {id: a, users: [alice], count: 1, vary: {field: strings, set: "
                          "\"{{canary.other}}\"}}\nassertions: []\n",
                          "10:75: {{canary.other}}: the scenario declares no canary 'other'");
    expect_scenario_error("steps:\n  - invoke: {id: a, users: [alice], count: 1, vary: {field: strings, catalog: "
                          "inj}}\nassertions: []\n",
                          "10:79: catalog 'inj' (");
    expect_scenario_error("steps:\n  - invoke: {id: a, users: [alice], count: 1}\nassertions:\n"
                          "  - canary_seen: {id: x, title: t, canary: own, planted_in: [a], seen_in: [b]}\n",
                          "12:76: seen_in: no step with id 'b'");
    expect_scenario_error("steps:\n  - invoke: {id: a, users: [alice], count: 1}\nassertions:\n"
                          "  - pattern_seen: {id: x, title: t, pattern: \"(unclosed\", seen_in: [a]}\n",
                          "12:46: pattern: missing closing parenthesis");
    expect_scenario_error("steps:\n  - invoke: {id: a, users: [alice], count: 1}\nassertions:\n"
                          "  - canary_seen: {id: x, title: t, canary: own, planted_in: [a], seen_in: [a], sevrity: low}\n",
                          "12:80: unknown key 'sevrity' in canary_seen (did you mean 'severity'?)");
    expect_scenario_error("steps:\n  - reboot: {}\nassertions: []\n", "10:5: unknown step 'reboot'");
    expect_scenario_error("steps:\n  - invoke: {id: a, users: [alice], count: 1, vary: {field: strings, others: "
                          "drop, set: x}}\nassertions: []\n",
                          "10:78: others: expected same, omit or empty, not 'drop'");
    expect_scenario_error("steps:\n  - invoke: {id: a, users: [alice], count: 1, vary: {field: all, set: x}}\n"
                          "assertions: []\n",
                          "10:61: field: expected strings, leaves or longest, not 'all'");
    /* requires: and who: concurrent_other_user (issue 14). */
    expect_scenario_error("requires: {max_concurrency: 0}\nassertions: []\n",
                          "9:29: max_concurrency must be an integer from 1 to 1600");
    expect_scenario_error("requires: {max_concurrency: 1601}\nassertions: []\n",
                          "9:29: max_concurrency must be an integer from 1 to 1600");
    expect_scenario_error("requires: {max_concurency: 2}\nassertions: []\n",
                          "9:12: unknown key 'max_concurency' in requires");
    expect_scenario_error("requires: {}\nassertions: []\n", "9:11: requires: needs max_concurrency");
    expect_scenario_error("requires: 2\nassertions: []\n", "9:11: requires");
    expect_scenario_error("steps:\n  - invoke: {id: a, users: [alice], count: 1}\nassertions:\n"
                          "  - canary_seen: {id: x, title: t, canary: own, planted_in: [a], seen_in: [a], "
                          "who: concurrent}\n",
                          "12:85: who: any, other_user, other_invocation or concurrent_other_user");
    /* Found by fuzz_scenario: names hiding text behind a NUL, and more
     * canaries than an assertion holds. */
    expect_scenario_error("steps:\n  - invoke: {id: a, users: [alice], count: 1}\nassertions:\n"
                          "  - status: {id: x, title: t, seen_in: [\"a\\0b\"], expect: ok}\n",
                          "12:41: seen_in: holds a NUL character");
    expect_scenario_error("steps:\n  - \"invoke\\0x\": {id: a, users: [alice], count: 1}\nassertions: []\n",
                          "10:5: a key holds a NUL character");
    expect_scenario_error("steps:\n  - invoke: {id: a, users: [alice], count: 1}\nassertions:\n"
                          "  - canary_seen: {id: x, title: t, planted_in: [a], seen_in: [a], canary: [own, own, own, own,"
                          " own, own, own, own], canaries: [own, own, own, own, own, own, own, own, own]}\n",
                          "12:168: more than 16 canaries in one assertion");
}

static void test_catalog_may_use_parameters(void **state)
{
    tmpdir d;
    scenario_set *set = NULL;
    char err[1024] = "";
    (void)state;
    make_dir(&d);
    write_file(d.path, "s1.yaml", SCENARIO_HEAD "parameters: {size: 100}\nsteps:\n"
               "  - invoke: {id: a, users: [alice], count: 1, vary: {field: strings, catalog: inj}}\n"
               "assertions:\n  - status: {id: x, title: t, seen_in: [a], expect: ok}\n");
    write_file(d.path, "catalogs/inj.yaml", "entries:\n  - {id: a, set: \"{{pad:$size}}{{canary.own}}\"}\n");
    assert_int_equal(scenario_set_load(d.path, &set, err, sizeof(err)), 0);
    scenario_set_free(set);
    remove_dir(&d);
}

static void expect_suite_error(const char *text, const char *expected)
{
    tmpdir d;
    suite *s = NULL;
    char err[1024] = "", want[512], path[128], scn[128];
    make_dir(&d);
    copy_scenarios(&d, scn, sizeof(scn));
    write_file(d.path, "suite.yaml", text);
    snprintf(path, sizeof(path), "%s/suite.yaml", d.path);
    assert_int_equal(suite_load(path, scn, &s, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:%s", path, expected);
    if (strstr(err, want) == NULL)
        fail_msg("got \"%s\", want it to contain \"%s\"", err, want);
    remove_dir(&d);
}

static void test_suite_errors_name_the_place(void **state)
{
    (void)state;
    expect_suite_error("lab: {config: f.yaml}\ntargets:\n  - {function: f, baseline: {a: 1}, scenarios: [cros]}\n",
                       "3:49: no scenario 'cros'");
    expect_suite_error("lab: {config: f.yaml}\ntargets:\n  - {function: f, baseline: {a: \"{{canary.x}}\"}, "
                       "scenarios: [config]}\n",
                       "3:29: baseline: {{canary.x}}: canaries belong to scenarios");
    expect_suite_error("lab: {config: f.yaml}\ntargets:\n  - {function: f, baseline: {a: 1}, scenarios: [config],"
                       " parameters: {memory-growth: {invocations: 3}}}\n",
                       "3:71: parameters for 'memory-growth', which this target does not run");
    expect_suite_error("lab: {config: f.yaml}\ntargets:\n  - {function: f, baseline: {a: 1}, scenarios: "
                       "[memory-growth], parameters: {memory-growth: {invocation: 3}}}\n",
                       "3:94: scenario 'memory-growth' has no parameter 'invocation'");
    expect_suite_error("targets:\n  - {function: f, baseline: {a: 1}, scenarios: [config]}\n",
                       "2:5: target 'f' is on the lab, but the suite has no 'lab: {config: FILE}'");
    expect_suite_error("lab: {config: f.yaml}\ntargets:\n  - {function: f, envelope: sqs, baseline: {a: 1}, "
                       "scenarios: [config]}\n",
                       "3:29: envelope: raw, apigw-v1, apigw-v2 or function-url");
    expect_suite_error("fail_on: severe\ntargets: []\n", "1:10: fail_on: info, low, medium, high or critical");
    /* Found by fuzz_scenario: an override is checked against every use of
     * the parameter (fill_bytes: the /tmp fill divides by it). */
    expect_suite_error("lab: {config: f.yaml}\ntargets:\n  - {function: f, baseline: {a: 1}, scenarios: "
                       "[tmp-residue], parameters: {tmp-residue: {fill_bytes: 0}}}\n",
                       "3:102: fill_bytes must be an integer from 1024 to 6291456, got '0'");
    expect_suite_error("[]\n", "1:1: suite must be a mapping");
}

static void test_suite_overrides_parameters(void **state)
{
    tmpdir d;
    suite *s = NULL;
    char err[1024] = "", path[128], scn[128];
    const suite_run *run;
    (void)state;
    make_dir(&d);
    copy_scenarios(&d, scn, sizeof(scn));
    write_file(d.path, "suite.yaml",
               "seed: 99\nlab: {config: f.yaml}\ntargets:\n  - {function: f, baseline: {a: 1}, scenarios: "
               "[memory-growth], parameters: {memory-growth: {flat_after: 7}}}\n");
    snprintf(path, sizeof(path), "%s/suite.yaml", d.path);
    assert_int_equal(suite_load(path, scn, &s, err, sizeof(err)), 0);
    assert_int_equal(s->seed, 99);
    run = &s->targets[0].runs[0];
    assert_int_equal(run->params[scenario_param_index(run->sc, "flat_after")], 7);
    assert_int_equal(run->params[scenario_param_index(run->sc, "document_bytes")], 1048576);
    suite_free(s);
    remove_dir(&d);
}

/* The suite's folder before the built-in one: a file of a built-in id
 * replaces it, a new id is added, a catalog of the same name replaces the
 * built-in catalog. */
static void test_suite_folder_overrides_builtin(void **state)
{
    tmpdir d;
    scenario_set *set = NULL;
    char err[1024] = "", want[256];
    const scenario *sc;
    const catalog *cat;
    static const char body[] = "title: t\nclass: cross-user-leak\nseverity: high\nproves: p\nfix: f\n"
                               "canaries: {own: {per: invocation}}\nusers: [alice]\nsteps:\n"
                               "  - invoke: {id: a, users: [alice], count: 1, vary: {field: strings, catalog: "
                               "injection}}\nassertions:\n  - status: {id: x, title: t, seen_in: [a], expect: ok}\n";
    char text[1024];
    (void)state;
    make_dir(&d);
    snprintf(text, sizeof(text), "id: tmp-residue\n%s", body);
    write_file(d.path, "mine-residue.yaml", text);
    snprintf(text, sizeof(text), "id: my-own\n%s", body);
    write_file(d.path, "my-own.yaml", text);
    write_file(d.path, "catalogs/injection.yaml", "entries:\n  - {id: a, set: \"plain\"}\n");
    if (scenario_set_load_layered(d.path, true, "scenarios", &set, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    sc = scenario_set_find(set, "tmp-residue");
    assert_non_null(sc);
    snprintf(want, sizeof(want), "%s/mine-residue.yaml", d.path);
    assert_string_equal(sc->path, want);
    assert_false(sc->builtin);
    assert_string_equal(sc->overrides, "scenarios/tmp-residue.yaml");
    sc = scenario_set_find(set, "my-own");
    assert_non_null(sc);
    assert_null(sc->overrides);
    sc = scenario_set_find(set, "cross-user-leak");
    assert_non_null(sc);
    assert_true(sc->builtin);
    assert_string_equal(sc->path, "scenarios/cross-user-leak.yaml");
    cat = scenario_set_catalog(set, "injection");
    assert_non_null(cat);
    snprintf(want, sizeof(want), "%s/catalogs/injection.yaml", d.path);
    assert_string_equal(cat->path, want);
    cat = scenario_set_catalog(set, "error-provokers");
    if (cat)
        assert_string_equal(cat->path, "scenarios/catalogs/error-provokers.yaml");
    scenario_set_free(set);
    remove_dir(&d);
}

/* scenarios/ beside the suite may be absent when there is a built-in set;
 * a scenario_dir named by the suite or the caller must exist. */
static void test_missing_suite_folder(void **state)
{
    tmpdir d;
    suite *s = NULL;
    char err[1024] = "", path[128], missing[128];
    (void)state;
    make_dir(&d);
    write_file(d.path, "suite.yaml", "lab: {config: f.yaml}\ntargets:\n  - {function: f, baseline: {a: 1}, "
                                     "scenarios: [cross-user-leak]}\n");
    snprintf(path, sizeof(path), "%s/suite.yaml", d.path);
    assert_int_equal(suite_load_builtin(path, NULL, "scenarios", &s, err, sizeof(err)), 0);
    assert_true(s->targets[0].runs[0].sc->builtin);
    suite_free(s);
    assert_int_equal(suite_load(path, NULL, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot read the scenario folder"));
    snprintf(missing, sizeof(missing), "%s/nope", d.path);
    assert_int_equal(suite_load_builtin(path, missing, "scenarios", &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "nope: cannot read the scenario folder"));
    remove_dir(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tmpl_expands_every_token),
        cmocka_unit_test(test_tmpl_rejects_bad_tokens),
        cmocka_unit_test(test_tmpl_pad_is_capped),
        cmocka_unit_test(test_builtin_scenarios_load),
        cmocka_unit_test(test_default_suite_loads),
        cmocka_unit_test(test_scenario_errors_name_the_place),
        cmocka_unit_test(test_suite_errors_name_the_place),
        cmocka_unit_test(test_suite_overrides_parameters),
        cmocka_unit_test(test_catalog_may_use_parameters),
        cmocka_unit_test(test_suite_folder_overrides_builtin),
        cmocka_unit_test(test_missing_suite_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
