/*
 * Unit tests for src/yamldoc.c: the YAML loader under coldsec's config
 * files.
 *
 * Three tables carry most of the checks, one cmocka test per row:
 * parse_cases (a YAML text and the exact error, position included),
 * getter_cases (a value under `v:` at 1:4, a getter, and what it returns
 * or the exact message) and json_cases (a YAML text and its JSON, or the
 * exact error). The rest are the tree's shape and positions, aliases
 * (shared nodes, cycles, a billion laughs), limits built at run time,
 * bytes that are not text, quoting, files on disk and a real-looking
 * scenario file walked the way the engine will walk it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "yamldoc.h"

#define ERR_LEN 512

static yamldoc *parse_len(const char *text, size_t len)
{
    char err[ERR_LEN];
    yamldoc *d = NULL;

    if (yamldoc_parse(text, len, "t.yaml", &d, err, sizeof err) != 0)
        fail_msg("unexpected error: %s", err);
    assert_non_null(d);
    return d;
}

static yamldoc *parse_ok(const char *text)
{
    return parse_len(text, strlen(text));
}

static void expect_parse_error(const char *text, size_t len, const char *expected)
{
    char err[ERR_LEN] = "";
    static char sentinel;
    yamldoc *d = (yamldoc *)&sentinel; /* must be reset to NULL */
    int rc = yamldoc_parse(text, len, "t.yaml", &d, err, sizeof err);

    if (rc != -1 || d != NULL || strcmp(err, expected) != 0)
        fail_msg("rc=%d\n  expected: %s\n  got:      %s", rc, expected, err);
}

/* For the tests that hostile input stays fast. Bounds are generous (a
 * loaded machine, ASan): what they guard against takes minutes or never
 * ends. */
static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- table: parse errors ------------------------------------------------ */

typedef struct parse_case {
    const char *name;
    const char *yaml;
    const char *expected;
} parse_case;

static parse_case parse_cases[] = {
    {"syntax_error", "a: b\n c: d\n", "t.yaml:2:3: YAML syntax error: mapping values are not allowed in this context"},
    {"unclosed_flow", "steps: [a, b\n",
     "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 8)"},
    {"second_document", "a: 1\n---\nb: 2\n", "t.yaml:2:1: only one YAML document is allowed; a second one starts here"},
    {"second_document_after_end", "--- a\n...\n--- b\n", "t.yaml:3:1: only one YAML document is allowed; a second one starts here"},
    {"duplicate_key", "name: x\nseverity: high\nname: y\n", "t.yaml:3:1: duplicate key 'name' (first at 1:1)"},
    /* Keys are names: one hiding text behind a NUL would equal its prefix
     * wherever a C string compares it. */
    {"nul_in_key", "a: 1\n\"c\\0d\": 2\n", "t.yaml:2:1: a key holds a NUL character"},
    {"duplicate_key_flow", "steps: [{sleep: 1, invoke: {}, sleep: 2}]\n",
     "t.yaml:1:32: duplicate key 'sleep' (first at 1:10)"},
    {"duplicate_key_earliest_repeat", "b: 1\na: 2\na: 3\nb: 4\n", "t.yaml:3:1: duplicate key 'a' (first at 2:1)"},
    {"duplicate_key_quoted_vs_plain", "1: a\n\"1\": b\n", "t.yaml:2:1: duplicate key '1' (first at 1:1)"},
    {"duplicate_key_through_alias", "- &k name\n- {name: 1, *k : 2}\n", "t.yaml:2:13: duplicate key 'name' (first at 2:4)"},
    {"sequence_as_key", "? [a]\n: b\n", "t.yaml:1:3: mapping keys must be scalars, not a sequence"},
    {"mapping_as_key", "{{a: 1}: b}\n", "t.yaml:1:2: mapping keys must be scalars, not a mapping"},
    {"alias_to_mapping_as_key", "- &m {a: 1}\n- {*m : 1}\n", "t.yaml:2:4: mapping keys must be scalars, not a mapping"},
    {"undefined_alias", "x: &a 1\ny: *b\n", "t.yaml:2:4: alias 'b' names no anchor defined before it"},
    {"alias_before_anchor", "x: *a\ny: &a 1\n", "t.yaml:1:4: alias 'a' names no anchor defined before it"},
    {"custom_tag", "severity: !high x\n",
     "t.yaml:1:11: unsupported tag '!high' (only the standard tags !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are allowed)"},
    {"binary_tag", "k: !!binary aGk=\n",
     "t.yaml:1:4: unsupported tag '!!binary' (only the standard tags !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are allowed)"},
    {"tag_directive_tag", "%TAG !e! tag:example.com,2000:\n---\n- !e!x 1\n",
     "t.yaml:3:3: unsupported tag 'tag:example.com,2000:x' (only the standard tags !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are allowed)"},
    {"int_tag_on_text", "count: !!int ten\n", "t.yaml:1:8: 'ten' is not a valid !!int"},
    {"bool_tag_on_text", "on: !!bool yes\n", "t.yaml:1:5: 'yes' is not a valid !!bool"},
    {"int_tag_on_quoted", "count: !!int \"10\"\n",
     "t.yaml:1:8: tag !!int on a quoted or block scalar: write the value plain, without the tag"},
    {"map_tag_on_sequence", "steps: !!map [a]\n", "t.yaml:1:8: tag !!map does not fit a sequence"},
    {"seq_tag_on_scalar", "steps: !!seq a\n", "t.yaml:1:8: tag !!seq does not fit a scalar"},
    {"str_tag_on_mapping", "x: !!str {a: 1}\n", "t.yaml:1:4: tag !!str does not fit a mapping"},
    {"control_character", "name: a\x01" "b\n", "t.yaml:1:8: YAML error: control characters are not allowed (U+0001)"},
    {"invalid_utf8_lead", "name: ok\nbad: \xff\n", "t.yaml:2:6: YAML error: invalid leading UTF-8 octet (byte 0xFF)"},
    {"invalid_utf8_trail", "name: \xc3\x28\n", "t.yaml:1:8: YAML error: invalid trailing UTF-8 octet (byte 0x28)"},
    {"utf8_truncated", "name: \xe2\x82", "t.yaml:1:7: YAML error: incomplete UTF-8 octet sequence"},
    {"utf16_le", "\xff\xfen\x00", "t.yaml:1:1: the file is UTF-16; save it as UTF-8"},
    {"utf16_be", "\xfe\xff\x00n", "t.yaml:1:1: the file is UTF-16; save it as UTF-8"},
};
#define N_PARSE_CASES (sizeof parse_cases / sizeof parse_cases[0])

static void test_parse_case(void **state)
{
    const parse_case *c = *state;

    expect_parse_error(c->yaml, strlen(c->yaml), c->expected);
}

/* ---- table: getters ----------------------------------------------------- */

typedef enum { G_STRING, G_LONG, G_DOUBLE, G_BOOL, G_MAP, G_SEQ, G_SCALAR } getter;

typedef struct getter_case {
    const char *name;
    const char *value;      /* the YAML after "v: " */
    getter g;
    double min, max;        /* G_LONG, G_DOUBLE */
    const char *expected;   /* "=" then the value got, or the exact error */
} getter_case;

static getter_case getter_cases[] = {
    /* yamldoc_string */
    {"string_plain", "hello world", G_STRING, 0, 0, "=hello world"},
    {"string_quoted_number", "\"42\"", G_STRING, 0, 0, "=42"},
    {"string_plain_number", "42", G_STRING, 0, 0, "=42"},
    {"string_quoted_empty", "''", G_STRING, 0, 0, "="},
    {"string_literal", "|\n  a\n  b\n", G_STRING, 0, 0, "=a\nb\n"},
    {"string_quoted_null", "\"null\"", G_STRING, 0, 0, "=null"},
    {"string_empty_value", "", G_STRING, 0, 0, "t.yaml:1:3: v must be a string, not an empty value"},
    {"string_null", "~", G_STRING, 0, 0, "t.yaml:1:4: v must be a string, not null"},
    {"string_mapping", "{a: 1}", G_STRING, 0, 0, "t.yaml:1:4: v must be a string, not a mapping"},
    {"string_sequence", "[a]", G_STRING, 0, 0, "t.yaml:1:4: v must be a string, not a sequence"},
    {"string_nul", "\"a\\0b\"", G_STRING, 0, 0, "t.yaml:1:4: v must not contain NUL characters"},

    /* yamldoc_long */
    {"long_ok", "128", G_LONG, 128, 10240, "=128"},
    {"long_negative", "-5", G_LONG, -10, 10, "=-5"},
    {"long_zero", "0", G_LONG, 0, 1, "=0"},
    {"long_quoted", "\"7\"", G_LONG, 0, 10, "=7"},
    {"long_max", "9223372036854775807", G_LONG, (double)LONG_MIN, (double)LONG_MAX, "=9223372036854775807"},
    {"long_min", "-9223372036854775808", G_LONG, (double)LONG_MIN, (double)LONG_MAX, "=-9223372036854775808"},
    {"long_below", "127", G_LONG, 128, 10240, "t.yaml:1:4: v must be an integer from 128 to 10240, got '127'"},
    {"long_above", "10241", G_LONG, 128, 10240, "t.yaml:1:4: v must be an integer from 128 to 10240, got '10241'"},
    {"long_garbage", "12x", G_LONG, 0, 100, "t.yaml:1:4: v must be an integer from 0 to 100, got '12x'"},
    {"long_leading_zero", "010", G_LONG, 0, 100, "t.yaml:1:4: v must be an integer from 0 to 100, got '010'"},
    {"long_plus", "+5", G_LONG, 0, 100, "t.yaml:1:4: v must be an integer from 0 to 100, got '+5'"},
    {"long_hex", "0x10", G_LONG, 0, 100, "t.yaml:1:4: v must be an integer from 0 to 100, got '0x10'"},
    {"long_float", "1.0", G_LONG, 0, 100, "t.yaml:1:4: v must be an integer from 0 to 100, got '1.0'"},
    {"long_exponent", "1e2", G_LONG, 0, 100, "t.yaml:1:4: v must be an integer from 0 to 100, got '1e2'"},
    {"long_underscore", "1_000", G_LONG, 0, 10000, "t.yaml:1:4: v must be an integer from 0 to 10000, got '1_000'"},
    {"long_space", "\" 5\"", G_LONG, 0, 100, "t.yaml:1:4: v must be an integer from 0 to 100, got ' 5'"},
    {"long_minus_only", "\"-\"", G_LONG, -5, 5, "t.yaml:1:4: v must be an integer from -5 to 5, got '-'"},
    {"long_overflow", "9223372036854775808", G_LONG, 0, (double)LONG_MAX,
     "t.yaml:1:4: v must be an integer >= 0, got '9223372036854775808'"},
    {"long_underflow", "-9223372036854775809", G_LONG, (double)LONG_MIN, (double)LONG_MAX,
     "t.yaml:1:4: v must be an integer, got '-9223372036854775809'"},
    {"long_upper_only", "11", G_LONG, (double)LONG_MIN, 10, "t.yaml:1:4: v must be an integer <= 10, got '11'"},
    {"long_empty", "", G_LONG, 1, 9, "t.yaml:1:3: v must be an integer from 1 to 9, not an empty value"},
    {"long_sequence", "[1]", G_LONG, 1, 9, "t.yaml:1:4: v must be an integer from 1 to 9, not a sequence"},

    /* yamldoc_double */
    {"double_ok", "0.25", G_DOUBLE, 0, 1, "=0.25"},
    {"double_int", "1", G_DOUBLE, 0, 1, "=1"},
    {"double_exponent", "2.5e-1", G_DOUBLE, 0, 1, "=0.25"},
    {"double_leading_dot", ".5", G_DOUBLE, 0, 1, "=0.5"},
    {"double_negative", "-1.5", G_DOUBLE, -2, 0, "=-1.5"},
    {"double_above", "1.5", G_DOUBLE, 0, 1, "t.yaml:1:4: v must be a number from 0 to 1, got '1.5'"},
    {"double_inf", ".inf", G_DOUBLE, 0, 1e300, "t.yaml:1:4: v must be a number from 0 to 1e+300, got '.inf'"},
    {"double_nan", ".nan", G_DOUBLE, 0, 1, "t.yaml:1:4: v must be a number from 0 to 1, got '.nan'"},
    {"double_overflow", "1e400", G_DOUBLE, 0, 1e300, "t.yaml:1:4: v must be a number from 0 to 1e+300, got '1e400'"},
    {"double_garbage", "0.5x", G_DOUBLE, 0, 1, "t.yaml:1:4: v must be a number from 0 to 1, got '0.5x'"},
    {"double_hex", "0x1p-1", G_DOUBLE, 0, 1, "t.yaml:1:4: v must be a number from 0 to 1, got '0x1p-1'"},
    {"double_octal_looking", "01", G_DOUBLE, 0, 2, "t.yaml:1:4: v must be a number from 0 to 2, got '01'"},
    {"double_mapping", "{}", G_DOUBLE, 0, 1, "t.yaml:1:4: v must be a number from 0 to 1, not a mapping"},

    /* yamldoc_bool */
    {"bool_true", "true", G_BOOL, 0, 0, "=true"},
    {"bool_false", "false", G_BOOL, 0, 0, "=false"},
    {"bool_yes", "yes", G_BOOL, 0, 0, "t.yaml:1:4: v must be true or false, got 'yes'"},
    {"bool_capital", "True", G_BOOL, 0, 0, "t.yaml:1:4: v must be true or false, got 'True'"},
    {"bool_one", "1", G_BOOL, 0, 0, "t.yaml:1:4: v must be true or false, got '1'"},
    {"bool_empty", "", G_BOOL, 0, 0, "t.yaml:1:3: v must be true or false, not an empty value"},
    {"bool_sequence", "[true]", G_BOOL, 0, 0, "t.yaml:1:4: v must be true or false, not a sequence"},

    /* yamldoc_expect */
    {"expect_map_ok", "{a: 1}", G_MAP, 0, 0, "="},
    {"expect_map_got_seq", "[a]", G_MAP, 0, 0, "t.yaml:1:4: v must be a mapping, not a sequence"},
    {"expect_map_got_scalar", "a", G_MAP, 0, 0, "t.yaml:1:4: v must be a mapping, not a scalar"},
    {"expect_map_got_empty", "", G_MAP, 0, 0, "t.yaml:1:3: v must be a mapping, not an empty value"},
    {"expect_seq_ok", "[]", G_SEQ, 0, 0, "="},
    {"expect_seq_got_map", "\n  a: 1\n", G_SEQ, 0, 0, "t.yaml:2:3: v must be a sequence, not a mapping"},
    {"expect_scalar_ok", "x", G_SCALAR, 0, 0, "="},
    {"expect_scalar_empty_ok", "", G_SCALAR, 0, 0, "="},
    {"expect_scalar_got_seq", "\n  - a\n", G_SCALAR, 0, 0, "t.yaml:2:3: v must be a scalar, not a sequence"},
};
#define N_GETTER_CASES (sizeof getter_cases / sizeof getter_cases[0])

static void test_getter_case(void **state)
{
    const getter_case *c = *state;
    char text[256], err[ERR_LEN] = "", got[256] = "";
    yamldoc *d;
    const yamldoc_node *v;
    int rc = -1;

    snprintf(text, sizeof text, "v: %s\n", c->value);
    d = parse_ok(text);
    v = yamldoc_get(yamldoc_root(d), "v");
    assert_non_null(v);
    switch (c->g) {
    case G_STRING: {
        char *s = NULL;
        rc = yamldoc_string(d, v, "v", &s, err, sizeof err);
        if (rc == 0)
            snprintf(got, sizeof got, "=%s", s);
        free(s);
        break;
    }
    case G_LONG: {
        long n = 0;
        rc = yamldoc_long(d, v, "v", (long)c->min, c->max >= (double)LONG_MAX ? LONG_MAX : (long)c->max,
                          &n, err, sizeof err);
        if (rc == 0)
            snprintf(got, sizeof got, "=%ld", n);
        break;
    }
    case G_DOUBLE: {
        double x = 0;
        rc = yamldoc_double(d, v, "v", c->min, c->max, &x, err, sizeof err);
        if (rc == 0)
            snprintf(got, sizeof got, "=%g", x);
        break;
    }
    case G_BOOL: {
        bool b = false;
        rc = yamldoc_bool(d, v, "v", &b, err, sizeof err);
        if (rc == 0)
            snprintf(got, sizeof got, "=%s", b ? "true" : "false");
        break;
    }
    default:
        rc = yamldoc_expect(d, v, c->g == G_MAP ? YAMLDOC_MAP : c->g == G_SEQ ? YAMLDOC_SEQ : YAMLDOC_SCALAR,
                            "v", err, sizeof err);
        if (rc == 0)
            snprintf(got, sizeof got, "=");
        break;
    }
    if (rc != 0)
        snprintf(got, sizeof got, "%s", err);
    else if (err[0] != '\0')
        fail_msg("err written on success: %s", err);
    if (strcmp(got, c->expected) != 0)
        fail_msg("%s\n  expected: %s\n  got:      %s", c->value, c->expected, got);
    yamldoc_free(d);
}

/* ---- table: JSON -------------------------------------------------------- */

typedef struct json_case {
    const char *name;
    const char *yaml;
    const char *expected;   /* "=" then the JSON, or the exact error */
} json_case;

static json_case json_cases[] = {
    {"nulls", "[null, Null, NULL, ~, 'null', \"~\"]", "=[null,null,null,null,\"null\",\"~\"]"},
    {"empty_value", "a:\nb: ''\n", "={\"a\":null,\"b\":\"\"}"},
    {"bools", "[true, True, TRUE, false, False, FALSE, yes, no, on, off, 'true']",
     "=[true,true,true,false,false,false,\"yes\",\"no\",\"on\",\"off\",\"true\"]"},
    {"ints", "[0, -0, 7, -7, +7, 0o17, 0x1F, 0xff, 999999999999999, -999999999999999, 0x38D7EA4C67FFF]",
     "=[0,0,7,-7,7,15,31,255,999999999999999,-999999999999999,999999999999999]"},
    {"floats", "[1.5, -.5, +.5, 5., 1e3, 2E-2, -1.25e+2, 0.0]", "=[1.5,-0.5,0.5,5,1000,0.02,-125,0]"},
    {"not_numbers", "[1_000, 0b101, 1.2.3, 0x, 0o8, -0x1, 1e, e3, '12', \"0.5\"]",
     "=[\"1_000\",\"0b101\",\"1.2.3\",\"0x\",\"0o8\",\"-0x1\",\"1e\",\"e3\",\"12\",\"0.5\"]"},
    {"block_scalars", "a: |\n  12\nb: >\n  true\n", "={\"a\":\"12\\n\",\"b\":\"true\\n\"}"},
    {"keys_become_strings", "{1: a, true: b, null: c, 1.5: d, ~: e}", "={\"1\":\"a\",\"true\":\"b\",\"null\":\"c\",\"1.5\":\"d\",\"~\":\"e\"}"},
    {"tags", "[!!str 12, !!int 12, !!float 1, !!bool true, !!null ~, ! 12, !!map {a: 1}, !!seq [], !<tag:yaml.org,2002:str> 5]",
     "=[\"12\",12,1,true,null,\"12\",{\"a\":1},[],\"5\"]"},
    {"nested", "steps:\n  - invoke: {count: 2, payload: {id: \"{{user.ID}}\"}}\n",
     "={\"steps\":[{\"invoke\":{\"count\":2,\"payload\":{\"id\":\"{{user.ID}}\"}}}]}"},
    {"alias_expanded", "a: &x {k: 1}\nb: *x\n", "={\"a\":{\"k\":1},\"b\":{\"k\":1}}"},
    {"unicode", "k: \"\\u263A \\x41\"\n", "={\"k\":\"\xe2\x98\xba A\"}"},
    {"inf", "[.inf]", "t.yaml:1:2: '.inf' has no JSON form (JSON numbers are finite): quote it for a string"},
    {"minus_inf", "x: -.Inf", "t.yaml:1:4: '-.Inf' has no JSON form (JSON numbers are finite): quote it for a string"},
    {"nan", "x: .NaN", "t.yaml:1:4: '.NaN' has no JSON form (JSON numbers are finite): quote it for a string"},
    {"float_overflow", "x: 1e400", "t.yaml:1:4: number '1e400' is out of range"},
    {"leading_zero", "zip: 01234",
     "t.yaml:1:6: integer '01234' has a leading zero, which YAML 1.1 reads as octal: drop the zero, or quote it for a string"},
    /* cJSON would print 9007199254740991 as 9.00719925474099e+15. */
    {"int_16_digits", "x: 9007199254740991",
     "t.yaml:1:4: integer '9007199254740991' is too large to be a number here (the limit is 999999999999999): quote it for a string"},
    {"int_overflow", "x: -99999999999999999999",
     "t.yaml:1:4: integer '-99999999999999999999' is too large to be a number here (the limit is 999999999999999): quote it for a string"},
    {"hex_too_large", "x: 0x38D7EA4C68000",
     "t.yaml:1:4: integer '0x38D7EA4C68000' is too large to be a number here (the limit is 999999999999999): quote it for a string"},
    {"nul_in_value", "x: \"a\\0\"", "t.yaml:1:4: text with NUL characters has no JSON form here"},
};
#define N_JSON_CASES (sizeof json_cases / sizeof json_cases[0])

static void test_json_case(void **state)
{
    const json_case *c = *state;
    char err[ERR_LEN] = "", got[512];
    yamldoc *d = parse_ok(c->yaml);
    cJSON *j = yamldoc_to_json(d, yamldoc_root(d), err, sizeof err);

    if (j != NULL) {
        char *s = cJSON_PrintUnformatted(j);
        assert_non_null(s);
        snprintf(got, sizeof got, "=%s", s);
        free(s);
        cJSON_Delete(j);
    } else {
        snprintf(got, sizeof got, "%s", err);
    }
    if (strcmp(got, c->expected) != 0)
        fail_msg("%s\n  expected: %s\n  got:      %s", c->yaml, c->expected, got);
    yamldoc_free(d);
}

/* ---- the tree ----------------------------------------------------------- */

static void assert_at(const yamldoc_node *n, yamldoc_kind kind, int line, int column)
{
    assert_non_null(n);
    if (n->kind != kind || n->line != line || n->column != column)
        fail_msg("node kind %d at %d:%d, expected kind %d at %d:%d", n->kind, n->line, n->column, kind,
                 line, column);
}

static void test_positions(void **state)
{
    static const char text[] =
        "name: cross-user-leak\n"                   /* 1 */
        "steps:\n"                                  /* 2 */
        "  - invoke:\n"                             /* 3 */
        "      count: 100\n"                        /* 4 */
        "      payload: {user: \"{{user.ID}}\", n: [1, 'two']}\n" /* 5 */
        "  - sleep: 0.5\n"                          /* 6 */
        "note: |\n"                                 /* 7 */
        "  text\n"                                  /* 8 */
        "empty:\n"                                  /* 9 */
        "é: ü\n";                                   /* 10: columns count characters */
    yamldoc *d = parse_ok(text);
    const yamldoc_node *root = yamldoc_root(d), *steps, *invoke, *payload, *n;

    (void)state;
    assert_string_equal(yamldoc_name(d), "t.yaml");
    assert_at(root, YAMLDOC_MAP, 1, 1);
    assert_int_equal(root->count, 5);
    assert_at(root->keys[0], YAMLDOC_SCALAR, 1, 1);
    assert_string_equal(root->keys[0]->text, "name");
    assert_at(root->values[0], YAMLDOC_SCALAR, 1, 7);
    assert_int_equal(root->values[0]->len, 15);
    assert_true(root->values[0]->plain);

    steps = yamldoc_get(root, "steps");
    assert_at(steps, YAMLDOC_SEQ, 3, 3);
    assert_int_equal(steps->count, 2);
    assert_null(steps->keys);
    assert_at(steps->values[0], YAMLDOC_MAP, 3, 5);
    invoke = yamldoc_get(steps->values[0], "invoke");
    assert_at(invoke, YAMLDOC_MAP, 4, 7);
    assert_at(yamldoc_get(invoke, "count"), YAMLDOC_SCALAR, 4, 14);
    payload = yamldoc_get(invoke, "payload");
    assert_at(payload, YAMLDOC_MAP, 5, 16);
    assert_at(payload->keys[0], YAMLDOC_SCALAR, 5, 17);
    n = yamldoc_get(payload, "user");
    assert_at(n, YAMLDOC_SCALAR, 5, 23);
    assert_false(n->plain);
    assert_string_equal(n->text, "{{user.ID}}");
    n = yamldoc_get(payload, "n");
    assert_at(n, YAMLDOC_SEQ, 5, 41);
    assert_at(n->values[0], YAMLDOC_SCALAR, 5, 42);
    assert_at(n->values[1], YAMLDOC_SCALAR, 5, 45);
    assert_false(n->values[1]->plain);
    assert_at(yamldoc_get(steps->values[1], "sleep"), YAMLDOC_SCALAR, 6, 12);

    n = yamldoc_get(root, "note");
    assert_at(n, YAMLDOC_SCALAR, 7, 7);
    assert_false(n->plain);
    assert_string_equal(n->text, "text\n");
    n = yamldoc_get(root, "empty");
    assert_at(n, YAMLDOC_SCALAR, 9, 7);
    assert_true(n->plain);
    assert_int_equal(n->len, 0);
    assert_string_equal(n->text, "");
    n = yamldoc_get(root, "\xc3\xa9");
    assert_at(n, YAMLDOC_SCALAR, 10, 4);
    yamldoc_free(d);
}

static void test_get(void **state)
{
    yamldoc *d = parse_ok("a: 1\nb: [x]\ncd: 2\n");
    const yamldoc_node *root = yamldoc_root(d);

    (void)state;
    assert_string_equal(yamldoc_get(root, "a")->text, "1");
    assert_null(yamldoc_get(root, "z"));
    assert_null(yamldoc_get(root, "c")); /* no prefix match */
    assert_null(yamldoc_get(yamldoc_get(root, "b"), "x"));
    assert_null(yamldoc_get(yamldoc_get(root, "a"), "a"));
    assert_null(yamldoc_get(NULL, "a"));
    assert_null(yamldoc_get(root, NULL));
    yamldoc_free(d);
}

static void test_empty_documents(void **state)
{
    yamldoc *d;
    const yamldoc_node *root;
    char err[ERR_LEN];

    (void)state;
    static const char *const empties[] = {"", "\n\n", "# only a comment\n", "\xef\xbb\xbf", "  \n# x\n  \n"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        d = parse_ok(empties[i]);
        assert_null(yamldoc_root(d));
        yamldoc_free(d);
    }
    /* NULL data with length 0 is an empty document too. */
    assert_int_equal(yamldoc_parse(NULL, 0, NULL, &d, err, sizeof err), 0);
    assert_null(yamldoc_root(d));
    assert_string_equal(yamldoc_name(d), "<yaml>");
    yamldoc_free(d);

    /* "---" is a document whose root is an empty (null) scalar. */
    d = parse_ok("---\n");
    root = yamldoc_root(d);
    assert_non_null(root);
    assert_int_equal(root->kind, YAMLDOC_SCALAR);
    assert_int_equal(root->len, 0);
    assert_true(root->plain);
    assert_int_equal(yamldoc_expect(d, root, YAMLDOC_MAP, "the scenario", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:2:1: the scenario must be a mapping, not an empty value");
    yamldoc_free(d);

    /* One explicit document is fine. */
    d = parse_ok("%YAML 1.2\n---\na: 1\n...\n");
    assert_int_equal(yamldoc_root(d)->count, 1);
    yamldoc_free(d);
}

static void test_check_keys(void **state)
{
    static const char *const scenario_keys[] = {"name", "title", "severity", "steps", "assertions", NULL};
    char err[ERR_LEN];
    yamldoc *d;

    (void)state;
    d = parse_ok("name: x\nseverity: high\nsteps: []\n");
    assert_int_equal(yamldoc_check_keys(d, yamldoc_root(d), scenario_keys, "scenario", err, sizeof err), 0);
    yamldoc_free(d);

    d = parse_ok("name: x\nsevrity: high\n");
    assert_int_equal(yamldoc_check_keys(d, yamldoc_root(d), scenario_keys, "scenario", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:2:1: unknown key 'sevrity' in scenario (did you mean 'severity'?)");
    yamldoc_free(d);

    d = parse_ok("name: x\nstep: []\n");
    assert_int_equal(yamldoc_check_keys(d, yamldoc_root(d), scenario_keys, "scenario", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:2:1: unknown key 'step' in scenario (did you mean 'steps'?)");
    yamldoc_free(d);

    d = parse_ok("name: x\ncolour: blue\n");
    assert_int_equal(yamldoc_check_keys(d, yamldoc_root(d), scenario_keys, "scenario", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:2:1: unknown key 'colour' in scenario");
    yamldoc_free(d);

    /* Two letters away from a two-letter word is no suggestion. */
    d = parse_ok("{ab: 1}");
    static const char *const short_keys[] = {"id", NULL};
    assert_int_equal(yamldoc_check_keys(d, yamldoc_root(d), short_keys, "target", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:1:2: unknown key 'ab' in target");
    yamldoc_free(d);

    /* A user's key is escaped and cut in the message. */
    d = parse_ok("\"a'b\\x01\\u202Ec\": 1\n");
    assert_int_equal(yamldoc_check_keys(d, yamldoc_root(d), scenario_keys, "scenario", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:1:1: unknown key 'a\\'b\\x01\\u202ec' in scenario");
    yamldoc_free(d);

    /* YAML 1.1 merge keys get a hint rather than a guess. */
    d = parse_ok("defaults: &d {region: x}\ntarget: {<<: *d, name: y}\n");
    static const char *const target_keys[] = {"name", "region", NULL};
    assert_int_equal(yamldoc_check_keys(d, yamldoc_get(yamldoc_root(d), "target"), target_keys, "target",
                                        err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:2:10: unknown key '<<' in target (merge keys are YAML 1.1; coldsec "
                             "reads YAML 1.2: write the keys out)");
    yamldoc_free(d);

    d = parse_ok("- name: x\n");
    assert_int_equal(yamldoc_check_keys(d, yamldoc_root(d), scenario_keys, "scenario", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:1:1: scenario must be a mapping, not a sequence");
    assert_int_equal(yamldoc_check_keys(d, NULL, scenario_keys, "scenario", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml: scenario is missing");
    yamldoc_free(d);
}

static void test_fail(void **state)
{
    char err[ERR_LEN], small[12];
    yamldoc *d = parse_ok("steps:\n  - sleep: x\n");
    const yamldoc_node *step = yamldoc_get(yamldoc_root(d), "steps")->values[0];

    (void)state;
    assert_int_equal(yamldoc_fail(d, step, err, sizeof err, "each step needs %s", "an action"), -1);
    assert_string_equal(err, "t.yaml:2:5: each step needs an action");
    assert_int_equal(yamldoc_fail(d, NULL, err, sizeof err, "no %s", "steps"), -1);
    assert_string_equal(err, "t.yaml: no steps");
    assert_int_equal(yamldoc_fail(d, step, small, sizeof small, "%s", "long message"), -1);
    assert_string_equal(small, "t.yaml:2:5:");
    assert_int_equal(yamldoc_fail(d, step, NULL, 0, "x"), -1);
    assert_int_equal(yamldoc_fail(NULL, NULL, err, sizeof err, "x"), -1);
    assert_string_equal(err, "<yaml>: x");
    yamldoc_free(d);
}

/* ---- aliases ------------------------------------------------------------ */

static void test_aliases_share_nodes(void **state)
{
    static const char text[] =
        "payloads:\n"
        "  base: &base {id: 1, user: \"{{user.ID}}\"}\n"
        "steps:\n"
        "  - invoke: {payload: *base}\n"
        "  - invoke: {payload: *base}\n"
        "keys:\n"
        "  - &k name\n"
        "  - {*k : value}\n"
        "redefined:\n"
        "  - &r first\n"
        "  - &r second\n"
        "  - *r\n";
    yamldoc *d = parse_ok(text);
    const yamldoc_node *root = yamldoc_root(d), *base, *steps, *p0, *p1, *keys, *red;

    (void)state;
    base = yamldoc_get(yamldoc_get(root, "payloads"), "base");
    assert_at(base, YAMLDOC_MAP, 2, 9);
    steps = yamldoc_get(root, "steps");
    p0 = yamldoc_get(yamldoc_get(steps->values[0], "invoke"), "payload");
    p1 = yamldoc_get(yamldoc_get(steps->values[1], "invoke"), "payload");
    /* Shared, not copied: the position is the anchor's. */
    assert_ptr_equal(p0, base);
    assert_ptr_equal(p1, base);
    keys = yamldoc_get(root, "keys");
    assert_ptr_equal(keys->values[1]->keys[0], keys->values[0]);
    assert_string_equal(yamldoc_get(keys->values[1], "name")->text, "value");
    red = yamldoc_get(root, "redefined");
    assert_ptr_equal(red->values[2], red->values[1]);
    assert_string_equal(red->values[2]->text, "second");
    yamldoc_free(d);
}

/* 9 levels of 9 aliases: 9^9 "lol"s if expanded; loaded, it is 9 nodes
 * per level. */
static void test_billion_laughs(void **state)
{
    char text[4096], err[ERR_LEN];
    size_t n = 0;
    struct timespec t0;
    yamldoc *d;
    cJSON *j;

    (void)state;
    n += (size_t)snprintf(text + n, sizeof text - n, "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (char c = 'b'; c <= 'i'; c++) {
        n += (size_t)snprintf(text + n, sizeof text - n, "%c: &%c [", c, c);
        for (int k = 0; k < 9; k++)
            n += (size_t)snprintf(text + n, sizeof text - n, "*%c%s", c - 1, k < 8 ? ", " : "]\n");
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    d = parse_len(text, n);
    assert_int_equal(yamldoc_root(d)->count, 9);
    j = yamldoc_to_json(d, yamldoc_get(yamldoc_root(d), "i"), err, sizeof err);
    assert_null(j);
    assert_string_equal(err, "t.yaml:1:4: more than 100000 nodes once aliases are expanded");
    /* Small expansions still work. */
    j = yamldoc_to_json(d, yamldoc_get(yamldoc_root(d), "c"), err, sizeof err);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 9);
    cJSON_Delete(j);
    yamldoc_free(d);
    if (seconds_since(&t0) > 5.0)
        fail_msg("billion laughs took %.2f s", seconds_since(&t0));
}

static void test_recursive_alias(void **state)
{
    char err[ERR_LEN];
    yamldoc *d;
    const yamldoc_node *root;
    static const char *const keys[] = {"x", NULL};

    (void)state;
    d = parse_ok("&a [*a, {k: *a}]\n");
    root = yamldoc_root(d);
    assert_at(root, YAMLDOC_SEQ, 1, 1);
    assert_ptr_equal(root->values[0], root);
    assert_ptr_equal(yamldoc_get(root->values[1], "k"), root);
    assert_null(yamldoc_to_json(d, root, err, sizeof err));
    assert_string_equal(err, "t.yaml:1:1: nested more than 64 levels deep once aliases are expanded");
    /* A schema walk meets the cycle as a node of the wrong kind. */
    assert_int_equal(yamldoc_expect(d, root->values[0], YAMLDOC_MAP, "each step", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:1:1: each step must be a mapping, not a sequence");
    yamldoc_free(d);

    d = parse_ok("top: &m\n  x: *m\n");
    root = yamldoc_root(d);
    assert_ptr_equal(yamldoc_get(yamldoc_get(root, "top"), "x"), yamldoc_get(root, "top"));
    assert_int_equal(yamldoc_check_keys(d, yamldoc_get(root, "top"), keys, "top", err, sizeof err), 0);
    assert_null(yamldoc_to_json(d, root, err, sizeof err));
    /* A node's position is where it starts, its anchor included. */
    assert_string_equal(err, "t.yaml:1:6: nested more than 64 levels deep once aliases are expanded");
    yamldoc_free(d);
}

/* ---- bytes that are not text -------------------------------------------- */

static void test_nul_bytes(void **state)
{
    static const char raw[] = "name: a\0b\n";
    static const char escaped[] = "name: \"a\\0b\"\n";
    char err[ERR_LEN], q[YAMLDOC_QUOTE_BUFLEN], *s = NULL;
    yamldoc *d;
    const yamldoc_node *n;

    (void)state;
    expect_parse_error(raw, sizeof raw - 1, "t.yaml:1:8: YAML error: control characters are not allowed (U+0000)");
    expect_parse_error("\0", 1, "t.yaml:1:1: YAML error: control characters are not allowed (U+0000)");

    d = parse_ok(escaped);
    n = yamldoc_get(yamldoc_root(d), "name");
    assert_int_equal(n->len, 3);
    assert_memory_equal(n->text, "a\0b", 4);
    assert_int_equal(yamldoc_string(d, n, "name", &s, err, sizeof err), -1);
    assert_null(s);
    assert_string_equal(err, "t.yaml:1:7: name must not contain NUL characters");
    assert_string_equal(yamldoc_quote(q, sizeof q, n->text, n->len), "'a\\x00b'");
    assert_null(yamldoc_to_json(d, n, err, sizeof err));
    assert_string_equal(err, "t.yaml:1:7: text with NUL characters has no JSON form here");
    yamldoc_free(d);
}

static void test_non_utf8(void **state)
{
    yamldoc *d;
    const yamldoc_node *root;
    char *s = NULL, err[ERR_LEN];

    (void)state;
    /* Latin-1, overlong forms, surrogates: never text. */
    expect_parse_error("name: caf\xe9 au lait\n", 19, "t.yaml:1:11: YAML error: invalid trailing UTF-8 octet (byte 0x20)");
    expect_parse_error("a: \xc0\xaf\n", 6, "t.yaml:1:4: YAML error: invalid length of a UTF-8 sequence");
    expect_parse_error("a: \xed\xa0\x80\n", 7, "t.yaml:1:4: YAML error: invalid Unicode character (U+D800)");
    expect_parse_error("a: \x80\n", 5, "t.yaml:1:4: YAML error: invalid leading UTF-8 octet (byte 0x80)");

    /* A UTF-8 byte order mark is skipped, positions unchanged. */
    d = parse_ok("\xef\xbb\xbfname: caf\xc3\xa9\n");
    root = yamldoc_root(d);
    assert_at(root, YAMLDOC_MAP, 1, 1);
    assert_at(root->values[0], YAMLDOC_SCALAR, 1, 7);
    assert_int_equal(yamldoc_string(d, root->values[0], "name", &s, err, sizeof err), 0);
    assert_string_equal(s, "caf\xc3\xa9");
    free(s);
    yamldoc_free(d);
}

/* ---- limits ------------------------------------------------------------- */

static void test_limits(void **state)
{
    size_t big = (size_t)YAMLDOC_MAX_BYTES + 1, n;
    char *buf = malloc(big + 64), expected[128];
    struct timespec t0;
    yamldoc *d;

    (void)state;
    assert_non_null(buf);

    /* Depth: 64 nested collections load, 65 do not. */
    memset(buf, '[', 64);
    memset(buf + 64, ']', 64);
    d = parse_len(buf, 128);
    yamldoc_free(d);
    memset(buf, '[', 65);
    memset(buf + 65, ']', 65);
    expect_parse_error(buf, 130, "t.yaml:1:65: nested more than 64 levels deep");

    /* Deep flow nesting over the whole cap stops at once. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(buf, '[', YAMLDOC_MAX_BYTES);
    expect_parse_error(buf, YAMLDOC_MAX_BYTES, "t.yaml:1:65: nested more than 64 levels deep");
    assert_true(seconds_since(&t0) < 5.0);

    /* Anchors: 256 are fine, the 257th is refused. */
    n = 0;
    for (int i = 0; i < 256; i++)
        n += (size_t)snprintf(buf + n, 64, "k%d: &a%d x\n", i, i);
    d = parse_len(buf, n);
    yamldoc_free(d);
    n += (size_t)snprintf(buf + n, 64, "k256: &z x\n");
    expect_parse_error(buf, n, "t.yaml:257:7: too many anchors: the limit is 256");

    /* Nodes built: a sequence of YAMLDOC_MAX_NODES items needs one more node. */
    n = 0;
    buf[n++] = '[';
    for (int i = 0; i < YAMLDOC_MAX_NODES; i++) {
        buf[n++] = 'a';
        buf[n++] = ',';
    }
    buf[n - 1] = ']';
    snprintf(expected, sizeof expected, "t.yaml:1:%d: more than %d nodes", 2 * YAMLDOC_MAX_NODES, YAMLDOC_MAX_NODES);
    expect_parse_error(buf, n, expected);

    /* Size. */
    memset(buf, '#', big);
    snprintf(expected, sizeof expected, "t.yaml: the document is %zu bytes; the limit is %d", big, YAMLDOC_MAX_BYTES);
    expect_parse_error(buf, big, expected);
    d = parse_len(buf, big - 1);
    assert_null(yamldoc_root(d));
    yamldoc_free(d);
    free(buf);
}

static void test_duplicate_keys_in_a_big_mapping(void **state)
{
    size_t cap = 2000000, n = 0;
    char *buf = malloc(cap);
    struct timespec t0;

    (void)state;
    assert_non_null(buf);
    for (int i = 0; i < 100000; i++)
        n += (size_t)snprintf(buf + n, cap - n, "key%d: v\n", i);
    n += (size_t)snprintf(buf + n, cap - n, "key99999: again\n");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_parse_error(buf, n, "t.yaml:100001:1: duplicate key 'key99999' (first at 100000:1)");
    assert_true(seconds_since(&t0) < 5.0);
    free(buf);
}

/* ---- quoting ------------------------------------------------------------ */

static void test_quote(void **state)
{
    char q[YAMLDOC_QUOTE_BUFLEN], small[8];
    char long_text[100];

    (void)state;
    assert_string_equal(yamldoc_quote(q, sizeof q, "plain", 5), "'plain'");
    assert_string_equal(yamldoc_quote(q, sizeof q, "", 0), "''");
    assert_string_equal(yamldoc_quote(q, sizeof q, NULL, 3), "''");
    assert_string_equal(yamldoc_quote(q, sizeof q, "it's \\", 6), "'it\\'s \\\\'");
    assert_string_equal(yamldoc_quote(q, sizeof q, "a\nb\t\x1b[31m\x7f", 10), "'a\\x0ab\\x09\\x1b[31m\\x7f'");
    /* UTF-8 passes; broken UTF-8, C1 controls and bidi overrides do not. */
    assert_string_equal(yamldoc_quote(q, sizeof q, "caf\xc3\xa9", 5), "'caf\xc3\xa9'");
    assert_string_equal(yamldoc_quote(q, sizeof q, "\xff\xc3", 2), "'\\xff\\xc3'");
    assert_string_equal(yamldoc_quote(q, sizeof q, "\xc2\x85", 2), "'\\u0085'");
    assert_string_equal(yamldoc_quote(q, sizeof q, "a\xe2\x80\xae" "b", 5), "'a\\u202eb'");
    assert_string_equal(yamldoc_quote(q, sizeof q, "\xc0\xaf", 2), "'\\xc0\\xaf'");

    /* Cut at 48 bytes, never inside a character. */
    memset(long_text, 'x', sizeof long_text);
    assert_string_equal(yamldoc_quote(q, sizeof q, long_text, 49),
                        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'...");
    assert_string_equal(yamldoc_quote(q, sizeof q, long_text, 48),
                        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'");
    memcpy(long_text + 47, "\xc3\xa9", 2);
    assert_string_equal(yamldoc_quote(q, sizeof q, long_text, 60),
                        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'...");
    /* The worst case fits YAMLDOC_QUOTE_BUFLEN. */
    memset(long_text, 1, sizeof long_text);
    yamldoc_quote(q, sizeof q, long_text, sizeof long_text);
    assert_int_equal(strlen(q), 2 + 4 * YAMLDOC_QUOTE_MAX + 3);
    /* A small buffer is cut, still terminated. */
    assert_string_equal(yamldoc_quote(small, sizeof small, "abcdefghij", 10), "'abcdef");
    assert_string_equal(yamldoc_quote(small, 0, "x", 1), "");
    assert_string_equal(yamldoc_quote(NULL, 8, "x", 1), "");
}

/* ---- files and arguments ------------------------------------------------ */

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_load(void **state)
{
    char dir[] = "/tmp/coldsec-yamldoc-XXXXXX", path[256], expected[512], err[ERR_LEN];
    yamldoc *d = NULL;
    char *big;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/scenario.yaml", dir);
    write_file(path, "name: x\nsteps: 3\n", 17);
    assert_int_equal(yamldoc_load(path, &d, err, sizeof err), 0);
    assert_string_equal(yamldoc_name(d), path);
    assert_int_equal(yamldoc_fail(d, yamldoc_get(yamldoc_root(d), "steps"), err, sizeof err, "bad"), -1);
    snprintf(expected, sizeof expected, "%s:2:8: bad", path);
    assert_string_equal(err, expected);
    yamldoc_free(d);

    write_file(path, "name: [x\n", 9);
    assert_int_equal(yamldoc_load(path, &d, err, sizeof err), -1);
    assert_null(d);
    assert_true(strncmp(err, path, strlen(path)) == 0 && strncmp(err + strlen(path), ":2:1: YAML syntax error", 23) == 0);

    big = malloc((size_t)YAMLDOC_MAX_BYTES + 1);
    assert_non_null(big);
    memset(big, '#', (size_t)YAMLDOC_MAX_BYTES + 1);
    write_file(path, big, YAMLDOC_MAX_BYTES);
    assert_int_equal(yamldoc_load(path, &d, err, sizeof err), 0);
    assert_null(yamldoc_root(d));
    yamldoc_free(d);
    write_file(path, big, (size_t)YAMLDOC_MAX_BYTES + 1);
    assert_int_equal(yamldoc_load(path, &d, err, sizeof err), -1);
    snprintf(expected, sizeof expected, "%s: the file is larger than the limit of %d bytes", path, YAMLDOC_MAX_BYTES);
    assert_string_equal(err, expected);
    free(big);
    assert_int_equal(unlink(path), 0);

    assert_int_equal(yamldoc_load(path, &d, err, sizeof err), -1);
    snprintf(expected, sizeof expected, "%s: cannot read: No such file or directory", path);
    assert_string_equal(err, expected);
    assert_int_equal(yamldoc_load(dir, &d, err, sizeof err), -1);
    snprintf(expected, sizeof expected, "%s: cannot read: Is a directory", dir);
    assert_string_equal(err, expected);
    assert_int_equal(rmdir(dir), 0);
}

static void test_bad_arguments(void **state)
{
    char err[ERR_LEN];
    yamldoc *d = NULL;

    (void)state;
    assert_int_equal(yamldoc_parse("a", 1, "t.yaml", NULL, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml: invalid arguments");
    assert_int_equal(yamldoc_parse(NULL, 1, "t.yaml", &d, err, sizeof err), -1);
    assert_null(d);
    assert_int_equal(yamldoc_load(NULL, &d, err, sizeof err), -1);
    assert_string_equal(err, "yamldoc_load: invalid arguments");
    assert_int_equal(yamldoc_parse("a: [", 4, "t.yaml", &d, NULL, 0), -1);
    yamldoc_free(NULL);
    assert_null(yamldoc_root(NULL));
    assert_string_equal(yamldoc_name(NULL), "<yaml>");

    d = parse_ok("a: 1\n");
    assert_int_equal(yamldoc_string(d, NULL, "name", NULL, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml: name is missing");
    assert_int_equal(yamldoc_expect(d, NULL, YAMLDOC_MAP, "steps", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml: steps is missing");
    assert_null(yamldoc_to_json(d, NULL, err, sizeof err));
    yamldoc_free(d);
}

/* ---- a scenario, walked as the engine will ----------------------------- */

static void test_scenario_file(void **state)
{
    static const char text[] =
        "name: cross-user-leak\n"
        "severity: high\n"
        "references:\n"
        "  - https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html\n"
        "steps:\n"
        "  - cold_start: true\n"
        "  - invoke: &fan\n"
        "      count: 100\n"
        "      parallel: 16\n"
        "      ratio: 0.5\n"
        "      payload: {user: \"{{user.ID}}\", secret: \"{{canary.user}}\"}\n"
        "  - invoke: *fan\n"
        "  - sleep: 2\n";
    static const char *const top_keys[] = {"name", "severity", "references", "steps", NULL};
    static const char *const invoke_keys[] = {"count", "parallel", "ratio", "payload", NULL};
    char err[ERR_LEN], *name = NULL, *json;
    yamldoc *d = parse_ok(text);
    const yamldoc_node *root = yamldoc_root(d), *steps, *inv;
    long count = 0;
    double ratio = 0;
    bool cold = false;
    cJSON *payload;

    (void)state;
    assert_int_equal(yamldoc_check_keys(d, root, top_keys, "scenario", err, sizeof err), 0);
    assert_int_equal(yamldoc_string(d, yamldoc_get(root, "name"), "name", &name, err, sizeof err), 0);
    assert_string_equal(name, "cross-user-leak");
    free(name);
    steps = yamldoc_get(root, "steps");
    assert_int_equal(yamldoc_expect(d, steps, YAMLDOC_SEQ, "steps", err, sizeof err), 0);
    assert_int_equal(steps->count, 4);
    assert_int_equal(yamldoc_bool(d, yamldoc_get(steps->values[0], "cold_start"), "cold_start", &cold, err, sizeof err), 0);
    assert_true(cold);
    inv = yamldoc_get(steps->values[2], "invoke");
    assert_int_equal(yamldoc_check_keys(d, inv, invoke_keys, "invoke", err, sizeof err), 0);
    assert_int_equal(yamldoc_long(d, yamldoc_get(inv, "count"), "count", 1, 100000, &count, err, sizeof err), 0);
    assert_int_equal(count, 100);
    assert_int_equal(yamldoc_double(d, yamldoc_get(inv, "ratio"), "ratio", 0, 1, &ratio, err, sizeof err), 0);
    assert_true(ratio == 0.5);
    payload = yamldoc_to_json(d, yamldoc_get(inv, "payload"), err, sizeof err);
    assert_non_null(payload);
    json = cJSON_PrintUnformatted(payload);
    assert_string_equal(json, "{\"user\":\"{{user.ID}}\",\"secret\":\"{{canary.user}}\"}");
    free(json);
    cJSON_Delete(payload);
    /* The engine's message for a missing step action, at the step. */
    assert_int_equal(yamldoc_long(d, yamldoc_get(steps->values[3], "sleep"), "sleep", 5, 60, &count, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:13:12: sleep must be an integer from 5 to 60, got '2'");
    yamldoc_free(d);
}

int main(void)
{
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_empty_documents),
        cmocka_unit_test(test_check_keys),
        cmocka_unit_test(test_fail),
        cmocka_unit_test(test_aliases_share_nodes),
        cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_recursive_alias),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_non_utf8),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_duplicate_keys_in_a_big_mapping),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_scenario_file),
    };
    size_t n_fixed = sizeof fixed / sizeof fixed[0], n = n_fixed;
    struct CMUnitTest *tests = calloc(n_fixed + N_PARSE_CASES + N_GETTER_CASES + N_JSON_CASES, sizeof *tests);
    int failed;

    if (tests == NULL)
        return 1;
    memcpy(tests, fixed, sizeof fixed);
    /* One cmocka test per table row, so a failure names its row; one group,
     * so tests/run.sh sees a single summary. */
    for (size_t i = 0; i < N_PARSE_CASES; i++, n++) {
        tests[n].name = parse_cases[i].name;
        tests[n].test_func = test_parse_case;
        tests[n].initial_state = &parse_cases[i];
    }
    for (size_t i = 0; i < N_GETTER_CASES; i++, n++) {
        tests[n].name = getter_cases[i].name;
        tests[n].test_func = test_getter_case;
        tests[n].initial_state = &getter_cases[i];
    }
    for (size_t i = 0; i < N_JSON_CASES; i++, n++) {
        tests[n].name = json_cases[i].name;
        tests[n].test_func = test_json_case;
        tests[n].initial_state = &json_cases[i];
    }
    failed = _cmocka_run_group_tests("yamldoc", tests, n, NULL, NULL);
    free(tests);
    return failed;
}
