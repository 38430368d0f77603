/*
 * Unit tests for harness/lab_config.c: the YAML configuration of
 * coldsec-lab.
 *
 * Most of the checks are one table, error_cases: a YAML text and the error
 * it must produce, position included, so adding a rule means adding a row.
 * The rest are the round trip of a full config, defaults, limits built at
 * run time (sizes that would make the table unreadable), files on disk for
 * lab_config_load, and prefixes/garbage that must fail cleanly, not crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lab_config.h"

#define ERR_LEN 512

/* Parses text as "t.yaml" against base "/base", without checking folders. */
static int parse_text(const char *text, lab_config **cfg, char *err)
{
    return lab_config_parse(text, strlen(text), "t.yaml", "/base", false, cfg, err, ERR_LEN);
}

/* Like parse_text, but the test fails with the message if parsing fails. */
static lab_config *parse_ok(const char *text)
{
    char err[ERR_LEN];
    lab_config *cfg = NULL;

    if (parse_text(text, &cfg, err) != 0)
        fail_msg("unexpected error: %s", err);
    assert_non_null(cfg);
    return cfg;
}

static void expect_error(const char *text, size_t len, const char *expected)
{
    char err[ERR_LEN] = "";
    static lab_config sentinel;
    lab_config *cfg = &sentinel; /* must be reset to NULL */
    int rc = lab_config_parse(text, len, "t.yaml", "/base", false, &cfg, err, sizeof err);

    if (rc != -1 || cfg != NULL || strstr(err, expected) == NULL)
        fail_msg("rc=%d\n  expected: %s\n  got:      %s", rc, expected, err);
}

/* A function that passes every check, to which rows add one fault. */
#define FN_HEAD "functions:\n  - name: f\n    runtime: python3.11\n    handler: h.handler\n    code: c\n"

typedef struct error_case {
    const char *name;
    const char *yaml;
    const char *expected; /* substring of the message, with its position */
} error_case;

/* Not const: cmocka's initial_state is a plain void *. */
static error_case error_cases[] = {
    /* unknown and repeated keys */
    {"unknown_top_key", "region: us-east-1\nregoin: x\n",
     "t.yaml:2:1: unknown key 'regoin' in the configuration (did you mean 'region'?)"},
    {"unknown_function_key", FN_HEAD "    memroy_mb: 128\n",
     "t.yaml:6:5: unknown key 'memroy_mb' in function 'f' (did you mean 'memory_mb'?)"},
    {"unknown_key_no_suggestion", FN_HEAD "    colour: blue\n",
     "t.yaml:6:5: unknown key 'colour' in function 'f'"},
    {"unknown_credentials_key", "credentials:\n  - access_key_id: A\n    secret_access_key: s\n    token: t\n",
     "t.yaml:4:5: unknown key 'token' in a credentials entry"},
    /* The key's own quote character is escaped; a double quote needs none. */
    {"unknown_key_escaped", "\"a\\x01\\\"'b\": 1\n", "t.yaml:1:1: unknown key 'a\\x01\"\\'b' in the configuration"},
    {"duplicate_top_key", "region: us-east-1\naccount_id: \"000000000000\"\nregion: eu-west-1\n",
     "t.yaml:3:1: duplicate key 'region' (first at 1:1)"},
    {"duplicate_function_key", FN_HEAD "    memory_mb: 256\n    memory_mb: 512\n",
     "t.yaml:7:5: duplicate key 'memory_mb' (first at 6:5)"},
    {"non_scalar_key", "? [a]\n: b\n", "t.yaml:1:3: mapping keys must be scalars, not a sequence"},

    /* wrong node types */
    {"root_is_list", "- a\n- b\n", "t.yaml:1:1: the configuration (region, account_id, credentials, functions) must be a mapping, not a sequence"},
    {"root_is_scalar", "hello\n", "t.yaml:1:1: the configuration (region, account_id, credentials, functions) must be a mapping, not a scalar"},
    {"functions_is_mapping", "functions:\n  name: f\n", "t.yaml:2:3: functions must be a sequence, not a mapping"},
    {"functions_is_empty_value", "functions:\n", "t.yaml:1:11: functions must be a sequence, not an empty value"},
    {"function_is_scalar", "functions:\n  - f\n", "t.yaml:2:5: each entry of functions must be a mapping, not a scalar"},
    {"function_is_list", "functions:\n  - [a]\n", "t.yaml:2:5: each entry of functions must be a mapping, not a sequence"},
    {"environment_is_list", FN_HEAD "    environment: [A, B]\n",
     "t.yaml:6:18: environment must be a mapping, not a sequence"},
    {"env_value_is_mapping", FN_HEAD "    environment:\n      AB: {x: 1}\n",
     "t.yaml:7:11: value of environment variable 'AB' must be a string, not a mapping"},
    {"env_key_is_list", FN_HEAD "    environment: {[a]: b}\n",
     "t.yaml:6:19: mapping keys must be scalars, not a sequence"},
    {"credentials_is_mapping", "credentials:\n  access_key_id: A\n",
     "t.yaml:2:3: credentials must be a sequence, not a mapping"},
    {"credential_is_scalar", "credentials: [A]\n", "t.yaml:1:15: each entry of credentials must be a mapping, not a scalar"},
    {"region_is_list", "region: [us-east-1]\n", "t.yaml:1:9: region must be a string, not a sequence"},
    {"memory_is_list", FN_HEAD "    memory_mb: [128]\n",
     "t.yaml:6:16: memory_mb must be an integer from 128 to 10240, not a sequence"},
    {"network_is_mapping", FN_HEAD "    network: {host: true}\n",
     "t.yaml:6:14: network must be a string, not a mapping"},

    /* integers: strict */
    {"memory_garbage", "functions:\n  - name: hello-python\n    runtime: python3.11\n    handler: handler.handler\n"
                       "    code: functions/hello-python\n    timeout_s: 3\n    memory_mb: 12x\n",
     "t.yaml:7:16: memory_mb must be an integer from 128 to 10240, got '12x'"},
    {"memory_below", FN_HEAD "    memory_mb: 127\n", "t.yaml:6:16: memory_mb must be an integer from 128 to 10240, got '127'"},
    {"memory_above", FN_HEAD "    memory_mb: 10241\n", "t.yaml:6:16: memory_mb must be an integer from 128 to 10240, got '10241'"},
    {"memory_leading_zero", FN_HEAD "    memory_mb: 0128\n", "t.yaml:6:16: memory_mb must be an integer from 128 to 10240, got '0128'"},
    {"memory_plus", FN_HEAD "    memory_mb: +128\n", "t.yaml:6:16: memory_mb must be an integer from 128 to 10240, got '+128'"},
    {"memory_hex", FN_HEAD "    memory_mb: 0x80\n", "t.yaml:6:16: memory_mb must be an integer from 128 to 10240, got '0x80'"},
    {"memory_exponent", FN_HEAD "    memory_mb: 1e3\n", "t.yaml:6:16: memory_mb must be an integer from 128 to 10240, got '1e3'"},
    {"memory_underscore", FN_HEAD "    memory_mb: 1_024\n", "t.yaml:6:16: memory_mb must be an integer from 128 to 10240, got '1_024'"},
    {"memory_float", FN_HEAD "    memory_mb: 128.0\n", "t.yaml:6:16: memory_mb must be an integer from 128 to 10240, got '128.0'"},
    {"memory_space", FN_HEAD "    memory_mb: \" 128\"\n", "t.yaml:6:16: memory_mb must be an integer from 128 to 10240, got ' 128'"},
    {"memory_empty", FN_HEAD "    memory_mb:\n", "t.yaml:6:15: memory_mb must be an integer from 128 to 10240, not an empty value"},
    {"memory_quoted_empty", FN_HEAD "    memory_mb: \"\"\n", "t.yaml:6:16: memory_mb must be an integer from 128 to 10240, got ''"},
    {"memory_overflow", FN_HEAD "    memory_mb: 99999999999999999999\n",
     "t.yaml:6:16: memory_mb must be an integer from 128 to 10240, got '99999999999999999999'"},
    {"timeout_zero", FN_HEAD "    timeout_s: 0\n", "t.yaml:6:16: timeout_s must be an integer from 1 to 900, got '0'"},
    {"timeout_above", FN_HEAD "    timeout_s: 901\n", "t.yaml:6:16: timeout_s must be an integer from 1 to 900, got '901'"},
    {"reserved_negative", FN_HEAD "    reserved_concurrency: -1\n",
     "t.yaml:6:27: reserved_concurrency must be an integer from 0 to 2147483647, got '-1'"},
    {"reserved_minus_zero", FN_HEAD "    reserved_concurrency: -0\n",
     "t.yaml:6:27: reserved_concurrency must be an integer from 0 to 2147483647, got '-0'"},
    {"reserved_too_big", FN_HEAD "    reserved_concurrency: 2147483648\n",
     "t.yaml:6:27: reserved_concurrency must be an integer from 0 to 2147483647, got '2147483648'"},
    {"idle_zero", FN_HEAD "    idle_timeout_s: 0\n", "t.yaml:6:21: idle_timeout_s must be an integer from 1 to 2147483647, got '0'"},
    {"max_age_zero", FN_HEAD "    max_age_s: 0\n", "t.yaml:6:16: max_age_s must be an integer from 1 to 2147483647, got '0'"},
    {"update_delay_negative", "update_delay_ms: -1\n", "t.yaml:1:18: update_delay_ms must be an integer from 0 to 600000, got '-1'"},
    {"account_concurrency_zero", "account_concurrency: 0\n",
     "t.yaml:1:22: account_concurrency must be an integer from 1 to 100000, got '0'"},

    /* top-level values */
    {"account_id_short", "account_id: \"123\"\n", "t.yaml:1:13: account_id must be exactly 12 digits (quote it: \"000000000000\"), got '123'"},
    {"account_id_letter", "account_id: \"00000000000a\"\n", "t.yaml:1:13: account_id must be exactly 12 digits"},
    {"region_upper", "region: US-East-1\n", "t.yaml:1:9: region must be 1 to 32 lowercase letters, digits or hyphens (like us-east-1), got 'US-East-1'"},
    {"region_empty", "region: \"\"\n", "t.yaml:1:9: region must be 1 to 32 lowercase letters"},

    /* credentials */
    {"credentials_empty", "credentials: []\n",
     "t.yaml:1:14: credentials must not be empty (leave the key out to accept the default pair)"},
    {"credential_empty_id", "credentials:\n  - access_key_id: \"\"\n    secret_access_key: s\n",
     "t.yaml:2:20: access_key_id must be 1 to 128 letters, digits or underscores, got ''"},
    {"credential_id_slash", "credentials:\n  - access_key_id: AK/ID\n    secret_access_key: s\n",
     "t.yaml:2:20: access_key_id must be 1 to 128 letters, digits or underscores, got 'AK/ID'"},
    {"credential_no_secret", "credentials:\n  - access_key_id: AKID\n",
     "t.yaml:2:5: credentials entry #1 is missing required key 'secret_access_key'"},
    {"credential_no_id", "credentials:\n  - secret_access_key: s\n",
     "t.yaml:2:5: credentials entry #1 is missing required key 'access_key_id'"},
    {"credential_empty_secret", "credentials:\n  - access_key_id: AKID\n    secret_access_key: \"\"\n",
     "t.yaml:3:24: secret_access_key must be 1 to 128 characters"},
    {"credential_duplicate", "credentials:\n  - access_key_id: AKID\n    secret_access_key: a\n"
                             "  - access_key_id: AKID\n    secret_access_key: b\n",
     "t.yaml:4:20: duplicate access_key_id 'AKID'"},

    /* required keys name the function's mapping */
    {"missing_name", "functions:\n  - name: a\n    runtime: provided\n    code: c\n  - runtime: provided\n    code: c\n",
     "t.yaml:5:5: function #2 is missing required key 'name'"},
    {"missing_runtime", "functions:\n  - name: f\n    code: c\n", "t.yaml:2:5: function 'f' is missing required key 'runtime'"},
    {"missing_code", "functions:\n  - name: f\n    runtime: provided\n", "t.yaml:2:5: function 'f' is missing required key 'code'"},
    {"missing_handler_python", "functions:\n  - name: f\n    runtime: python3.12\n    code: c\n",
     "t.yaml:2:5: function 'f' is missing required key 'handler' (required for python3.12)"},
    {"missing_handler_node", "functions:\n- {name: f, runtime: nodejs20.x, code: c}\n",
     "t.yaml:2:3: function 'f' is missing required key 'handler' (required for nodejs20.x)"},

    /* function values */
    {"duplicate_function", "functions:\n  - {name: f, runtime: provided, code: a}\n  - {name: g, runtime: provided, code: b}\n"
                           "  - {name: f, runtime: provided, code: c}\n",
     "t.yaml:4:12: duplicate function name 'f' (first defined at line 2)"},
    {"name_with_space", "functions:\n  - name: hello world\n", "t.yaml:2:11: function name must be 1 to 64 letters, digits, hyphens or underscores, got 'hello world'"},
    {"name_too_long", "functions:\n  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
     "t.yaml:2:11: function name must be 1 to 64"},
    {"name_empty", "functions:\n  - name: \"\"\n", "t.yaml:2:11: function name must be 1 to 64 letters, digits, hyphens or underscores, got ''"},
    {"name_with_nul", "functions:\n  - name: \"a\\0b\"\n", "t.yaml:2:11: name must not contain NUL characters"},
    {"duplicate_runtime_key", FN_HEAD "    runtime: ruby3.2\n", "t.yaml:6:5: duplicate key 'runtime' (first at 3:5)"},
    {"runtime_ruby", "functions:\n  - name: f\n    runtime: ruby3.2\n",
     "t.yaml:3:14: unknown runtime 'ruby3.2' (expected python3.x, nodejsNN.x, provided, provided.al2 or provided.al2023)"},
    {"runtime_python2", "functions:\n  - name: f\n    runtime: python2.7\n", "t.yaml:3:14: unknown runtime 'python2.7'"},
    {"runtime_node_no_version", "functions:\n  - name: f\n    runtime: nodejs.x\n", "t.yaml:3:14: unknown runtime 'nodejs.x'"},
    {"runtime_provided_other", "functions:\n  - name: f\n    runtime: provided.al1\n", "t.yaml:3:14: unknown runtime 'provided.al1'"},
    {"handler_without_dot", "functions:\n  - name: f\n    runtime: python3.11\n    handler: handler\n    code: c\n",
     "t.yaml:4:14: handler must look like 'module.function' (at most 128 characters, no spaces), got 'handler'"},
    {"handler_with_space", "functions:\n  - name: f\n    runtime: nodejs20.x\n    handler: \"a .b\"\n    code: c\n",
     "t.yaml:4:14: handler must look like 'module.function'"},
    {"handler_provided_empty", "functions:\n  - name: f\n    runtime: provided\n    handler: \"\"\n    code: c\n",
     "t.yaml:4:14: handler must be 1 to 128 characters without spaces, got ''"},
    {"code_empty", "functions:\n  - name: f\n    runtime: provided\n    code: \"\"\n", "t.yaml:4:11: code must name a folder, got ''"},
    {"network_bridge", FN_HEAD "    network: bridge\n",
     "t.yaml:6:14: network must be 'host' (leave it out for the function's own network namespace), got 'bridge'"},

    /* kms_key_arn: the value's position, the rule, and what was written */
    {"kms_not_an_arn", FN_HEAD "    kms_key_arn: my-key\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or arn:aws:kms:REGION:ACCOUNT:alias/NAME), got 'my-key'"},
    {"kms_other_service", FN_HEAD "    kms_key_arn: arn:aws:s3:us-east-1:000000000000:key/k1\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or arn:aws:kms:REGION:ACCOUNT:alias/NAME), got 'arn:aws:s3:us-east-1:000000000000:key/k1'"},
    {"kms_service_prefix", FN_HEAD "    kms_key_arn: arn:aws:kmsx:us-east-1:000000000000:key/k1\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN"},
    {"kms_other_partition", FN_HEAD "    kms_key_arn: arn:azure:kms:us-east-1:000000000000:key/k1\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN"},
    {"kms_partition_glued", FN_HEAD "    kms_key_arn: arn:awsx:kms:us-east-1:000000000000:key/k1\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN"},
    {"kms_no_region", FN_HEAD "    kms_key_arn: arn:aws:kms::000000000000:key/k1\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN"},
    {"kms_region_upper", FN_HEAD "    kms_key_arn: arn:aws:kms:US-EAST-1:000000000000:key/k1\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN"},
    {"kms_short_account", FN_HEAD "    kms_key_arn: arn:aws:kms:us-east-1:12345:key/k1\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or arn:aws:kms:REGION:ACCOUNT:alias/NAME), got 'arn:aws:kms:us-east-1:12345:key/k1'"},
    {"kms_long_account", FN_HEAD "    kms_key_arn: arn:aws:kms:us-east-1:0000000000001:key/k1\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN"},
    {"kms_grant", FN_HEAD "    kms_key_arn: arn:aws:kms:us-east-1:000000000000:grant/g1\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN"},
    {"kms_empty_key_id", FN_HEAD "    kms_key_arn: arn:aws:kms:us-east-1:000000000000:key/\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN"},
    {"kms_empty_alias", FN_HEAD "    kms_key_arn: arn:aws:kms:us-east-1:000000000000:alias/\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN"},
    {"kms_space", FN_HEAD "    kms_key_arn: \"arn:aws:kms:us-east-1:000000000000:key/k 1\"\n",
     "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or arn:aws:kms:REGION:ACCOUNT:alias/NAME), got 'arn:aws:kms:us-east-1:000000000000:key/k 1'"},
    {"kms_empty", FN_HEAD "    kms_key_arn: \"\"\n", "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or arn:aws:kms:REGION:ACCOUNT:alias/NAME), got ''"},
    {"kms_is_list", FN_HEAD "    kms_key_arn: [arn:aws:kms:us-east-1:000000000000:key/k1]\n",
     "t.yaml:6:18: kms_key_arn must be a string, not a sequence"},
    {"kms_duplicate", FN_HEAD "    kms_key_arn: arn:aws:kms:us-east-1:000000000000:key/a\n"
                      "    kms_key_arn: arn:aws:kms:us-east-1:000000000000:key/b\n",
     "t.yaml:7:5: duplicate key 'kms_key_arn' (first at 6:5)"},
    {"kms_typo", FN_HEAD "    kms_keyarn: arn:aws:kms:us-east-1:000000000000:key/a\n",
     "t.yaml:6:5: unknown key 'kms_keyarn' in function 'f' (did you mean 'kms_key_arn'?)"},

    /* ephemeral_storage_mb: 1..10240 in the lab (Lambda: 512..10240) */
    {"ephemeral_zero", FN_HEAD "    ephemeral_storage_mb: 0\n",
     "t.yaml:6:27: ephemeral_storage_mb must be an integer from 1 to 10240, got '0'"},
    {"ephemeral_negative", FN_HEAD "    ephemeral_storage_mb: -16\n",
     "t.yaml:6:27: ephemeral_storage_mb must be an integer from 1 to 10240, got '-16'"},
    {"ephemeral_above", FN_HEAD "    ephemeral_storage_mb: 10241\n",
     "t.yaml:6:27: ephemeral_storage_mb must be an integer from 1 to 10240, got '10241'"},
    {"ephemeral_float", FN_HEAD "    ephemeral_storage_mb: 16.5\n",
     "t.yaml:6:27: ephemeral_storage_mb must be an integer from 1 to 10240, got '16.5'"},
    {"ephemeral_unit", FN_HEAD "    ephemeral_storage_mb: 16MB\n",
     "t.yaml:6:27: ephemeral_storage_mb must be an integer from 1 to 10240, got '16MB'"},
    {"ephemeral_empty", FN_HEAD "    ephemeral_storage_mb:\n",
     "t.yaml:6:26: ephemeral_storage_mb must be an integer from 1 to 10240, not an empty value"},
    {"ephemeral_mapping", FN_HEAD "    ephemeral_storage_mb: {size: 16}\n",
     "t.yaml:6:27: ephemeral_storage_mb must be an integer from 1 to 10240, not a mapping"},
    {"ephemeral_typo", FN_HEAD "    ephemeral_storag_mb: 16\n",
     "t.yaml:6:5: unknown key 'ephemeral_storag_mb' in function 'f' (did you mean 'ephemeral_storage_mb'?)"},

    /* max_concurrency (Managed Instances): 1..1600, MI runtimes only; environments with it */
#define MI_HEAD "functions:\n  - name: f\n    runtime: python3.13\n    handler: h.handler\n    code: c\n"
    {"max_concurrency_zero", MI_HEAD "    max_concurrency: 0\n",
     "t.yaml:6:22: max_concurrency must be an integer from 1 to 1600, got '0'"},
    {"max_concurrency_above", MI_HEAD "    max_concurrency: 1601\n",
     "t.yaml:6:22: max_concurrency must be an integer from 1 to 1600, got '1601'"},
    {"max_concurrency_word", MI_HEAD "    max_concurrency: x\n",
     "t.yaml:6:22: max_concurrency must be an integer from 1 to 1600, got 'x'"},
    {"max_concurrency_python311", FN_HEAD "    max_concurrency: 4\n",
     "t.yaml:6:22: function 'f': max_concurrency (Lambda Managed Instances) is not supported on runtime python3.11"},
    {"max_concurrency_node20",
     "functions:\n  - name: f\n    runtime: nodejs20.x\n    handler: h.handler\n    code: c\n    max_concurrency: 4\n",
     "t.yaml:6:22: function 'f': max_concurrency (Lambda Managed Instances) is not supported on runtime nodejs20.x"},
    {"max_concurrency_provided_al2",
     "functions:\n  - name: f\n    runtime: provided.al2\n    code: c\n    max_concurrency: 4\n",
     "t.yaml:5:22: function 'f': max_concurrency (Lambda Managed Instances) is not supported on runtime provided.al2"},
    {"environments_without_mi", FN_HEAD "    environments: 2\n",
     "t.yaml:6:5: function 'f': environments applies only to a Managed Instances function"},
    {"environments_zero", MI_HEAD "    max_concurrency: 2\n    environments: 0\n",
     "t.yaml:7:19: environments must be an integer from 1 to 64, got '0'"},
    {"environments_above", MI_HEAD "    max_concurrency: 2\n    environments: 65\n",
     "t.yaml:7:19: environments must be an integer from 1 to 64, got '65'"},

    /* function_url: YAML 1.2 booleans, unquoted */
    {"function_url_yes", FN_HEAD "    function_url: yes\n",
     "t.yaml:6:19: function_url must be true or false, got 'yes'"},
    {"function_url_on", FN_HEAD "    function_url: on\n",
     "t.yaml:6:19: function_url must be true or false, got 'on'"},
    {"function_url_number", FN_HEAD "    function_url: 1\n",
     "t.yaml:6:19: function_url must be true or false, got '1'"},
    {"function_url_mixed_case", FN_HEAD "    function_url: tRUE\n",
     "t.yaml:6:19: function_url must be true or false, got 'tRUE'"},
    {"function_url_quoted", FN_HEAD "    function_url: \"true\"\n",
     "t.yaml:6:19: function_url must be true or false (unquoted), got the quoted string 'true'"},
    {"function_url_single_quoted", FN_HEAD "    function_url: 'false'\n",
     "t.yaml:6:19: function_url must be true or false (unquoted), got the quoted string 'false'"},
    {"function_url_empty", FN_HEAD "    function_url:\n",
     "t.yaml:6:18: function_url must be true or false, not an empty value"},
    {"function_url_list", FN_HEAD "    function_url: [true]\n",
     "t.yaml:6:19: function_url must be true or false, not a sequence"},
    {"function_url_mapping", FN_HEAD "    function_url: {auth: NONE}\n",
     "t.yaml:6:19: function_url must be true or false, not a mapping"},
    {"function_url_duplicate", FN_HEAD "    function_url: true\n    function_url: false\n",
     "t.yaml:7:5: duplicate key 'function_url' (first at 6:5)"},
    {"function_url_typo", FN_HEAD "    function_ulr: true\n",
     "t.yaml:6:5: unknown key 'function_ulr' in function 'f' (did you mean 'function_url'?)"},
    {"function_url_at_top", "function_url: true\n",
     "t.yaml:1:1: unknown key 'function_url' in the configuration"},

    /* environment */
    {"env_name_digit", FN_HEAD "    environment:\n      1X: a\n",
     "t.yaml:7:7: environment variable name must match [a-zA-Z][a-zA-Z0-9_]+, got '1X'"},
    {"env_name_one_letter", FN_HEAD "    environment: {A: a}\n",
     "t.yaml:6:19: environment variable name must match [a-zA-Z][a-zA-Z0-9_]+, got 'A'"},
    {"env_name_dash", FN_HEAD "    environment: {MY-VAR: a}\n", "t.yaml:6:19: environment variable name must match [a-zA-Z][a-zA-Z0-9_]+, got 'MY-VAR'"},
    {"env_name_reserved", FN_HEAD "    environment: {AWS_REGION: eu-west-1}\n",
     "t.yaml:6:19: environment variable 'AWS_REGION' is reserved"},
    {"env_name_runtime_api", FN_HEAD "    environment: {AWS_LAMBDA_RUNTIME_API: \"127.0.0.1:1\"}\n",
     "t.yaml:6:19: environment variable 'AWS_LAMBDA_RUNTIME_API' is reserved"},
    {"env_duplicate", FN_HEAD "    environment:\n      AB: a\n      AB: b\n", "t.yaml:8:7: duplicate key 'AB' (first at 7:7)"},

    /* YAML itself */
    {"syntax_unclosed_flow", "region: [us-east-1\n",
     "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 9)"},
    {"syntax_bad_indent", "functions:\n  - name: f\n   runtime: provided\n",
     "t.yaml:3:4: YAML syntax error: did not find expected '-' indicator (while parsing a block collection at line 2, column 3)"},
    {"syntax_tab", "region:\n\tus-east-1\n", "t.yaml:2:1: YAML syntax error: found character that cannot start any token"},
    {"syntax_mapping_in_scalar", "region: a: b\n", "t.yaml:1:10: YAML syntax error: mapping values are not allowed in this context"},
    {"syntax_bad_utf8", "region: \xff\n", "t.yaml:1:9: YAML error: invalid leading UTF-8 octet (byte 0xFF)"},
    {"syntax_control_char", "region: a\nx: \x01\n", "t.yaml:2:4: YAML error: control characters are not allowed (U+0001)"},
    {"undefined_alias", "region: *nowhere\n", "t.yaml:1:9: alias 'nowhere' names no anchor defined before it"},
    {"second_document", "region: us-east-1\n---\nregion: eu-west-1\n",
     "t.yaml:2:1: only one YAML document is allowed; a second one starts here"},
    {"empty", "", "t.yaml: the configuration is empty"},
    {"comments_only", "# nothing here\n\n", "t.yaml: the configuration is empty"},
    {"recursive_alias", "functions: &f [*f]\n", "t.yaml:1:12: each entry of functions must be a mapping, not a sequence"},
    {"alias_as_key_type", "region: &r [a]\naccount_id: *r\n", "t.yaml:1:9: region must be a string, not a sequence"},
    {"alias_to_duplicate_key", "&k region: us-east-1\n*k : eu-west-1\n", "t.yaml:2:1: duplicate key 'region' (first at 1:1)"},
    {"custom_tag", "region: !region us-east-1\n",
     "t.yaml:1:9: unsupported tag '!region' (only the standard tags !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are allowed)"},
    {"tag_contradicts_value", FN_HEAD "    memory_mb: !!int big\n", "t.yaml:6:16: 'big' is not a valid !!int"},
    {"merge_key", FN_HEAD "    <<: {memory_mb: 256}\n",
     "t.yaml:6:5: unknown key '<<' in function 'f' (merge keys are YAML 1.1; coldsec reads YAML 1.2: write the keys out)"},
    {"env_name_with_nul", FN_HEAD "    environment: {\"A\\0B\": x}\n",
     "t.yaml:6:19: a key holds a NUL character"},
    {"env_value_with_nul", FN_HEAD "    environment: {AB: \"x\\0y\"}\n",
     "t.yaml:6:23: value of environment variable 'AB' must not contain NUL characters"},
    {"network_null", FN_HEAD "    network: ~\n", "t.yaml:6:14: network must be 'host' (leave it out for the function's own network namespace), got '~'"},
};

#define N_ERROR_CASES (sizeof error_cases / sizeof error_cases[0])

static void test_error_case(void **state)
{
    const error_case *ec = *state;

    expect_error(ec->yaml, strlen(ec->yaml), ec->expected);
}

/* Every key, none at its default. */
static const char full_yaml[] =
    "# the lab's own config\n"
    "region: eu-west-2\n"
    "account_id: \"123456789012\"\n"
    "update_delay_ms: 50\n"
    "account_concurrency: 64\n"
    "credentials:\n"
    "  - access_key_id: AKIDONE\n"
    "    secret_access_key: secret-one\n"
    "  - access_key_id: AKID_TWO\n"
    "    secret_access_key: \"secret two\"\n"
    "functions:\n"
    "  - name: hello-python\n"
    "    runtime: python3.11\n"
    "    handler: handler.handler\n"
    "    code: functions/hello-python\n"
    "    description: \"Says hello\"\n"
    "    memory_mb: 256\n"
    "    timeout_s: 30\n"
    "    environment: {GREETING: hi, COUNT: 3, FLAG: true, EMPTY: \"\", Z_1: 0x10}\n"
    "    reserved_concurrency: 0\n"
    "    idle_timeout_s: 60\n"
    "    max_age_s: 120\n"
    "    network: host\n"
    "    kms_key_arn: arn:aws:kms:eu-west-2:123456789012:key/1b4c0d6e-0000-4000-8000-00000000c01d\n"
    "    ephemeral_storage_mb: 16\n"
    "    function_url: true\n"
    "  - name: hello_node\n"
    "    runtime: nodejs20.x\n"
    "    handler: src/index.handler\n"
    "    code: /opt/code/node\n"
    "    function_url: FALSE\n"
    "  - name: bench-c\n"
    "    runtime: provided.al2023\n"
    "    code: ./build/functions/hello-c/\n"
    "    memory_mb: 10240\n"
    "    timeout_s: 900\n";

static void test_full_config_round_trip(void **state)
{
    lab_config *cfg = parse_ok(full_yaml);
    const lab_function_config *py, *node, *c;

    (void)state;
    assert_string_equal(cfg->path, "t.yaml");
    assert_string_equal(cfg->region, "eu-west-2");
    assert_string_equal(cfg->account_id, "123456789012");
    assert_int_equal(cfg->update_delay_ms, 50);
    assert_int_equal(cfg->account_concurrency, 64);
    assert_int_equal(cfg->credential_count, 2);
    assert_string_equal(cfg->credentials[0].access_key_id, "AKIDONE");
    assert_string_equal(cfg->credentials[0].secret_access_key, "secret-one");
    assert_string_equal(cfg->credentials[1].access_key_id, "AKID_TWO");
    assert_string_equal(cfg->credentials[1].secret_access_key, "secret two");
    assert_int_equal(cfg->function_count, 3);

    py = &cfg->functions[0];
    assert_string_equal(py->name, "hello-python");
    assert_string_equal(py->runtime, "python3.11");
    assert_int_equal(py->kind, LAB_RUNTIME_PYTHON);
    assert_string_equal(py->handler, "handler.handler");
    assert_string_equal(py->code_dir, "/base/functions/hello-python");
    assert_string_equal(py->description, "Says hello");
    assert_int_equal(py->memory_mb, 256);
    assert_int_equal(py->timeout_s, 30);
    assert_int_equal(py->reserved_concurrency, 0);
    assert_int_equal(py->idle_timeout_s, 60);
    assert_int_equal(py->max_age_s, 120);
    assert_true(py->host_network);
    assert_string_equal(py->kms_key_arn, "arn:aws:kms:eu-west-2:123456789012:key/1b4c0d6e-0000-4000-8000-00000000c01d");
    assert_int_equal(py->ephemeral_storage_mb, 16);
    assert_true(py->function_url);
    /* File order, and scalars taken as the text written. */
    assert_int_equal(py->env_count, 5);
    assert_string_equal(py->env[0].key, "GREETING");
    assert_string_equal(py->env[0].value, "hi");
    assert_string_equal(py->env[1].key, "COUNT");
    assert_string_equal(py->env[1].value, "3");
    assert_string_equal(py->env[2].key, "FLAG");
    assert_string_equal(py->env[2].value, "true");
    assert_string_equal(py->env[3].key, "EMPTY");
    assert_string_equal(py->env[3].value, "");
    assert_string_equal(py->env[4].key, "Z_1");
    assert_string_equal(py->env[4].value, "0x10");

    node = &cfg->functions[1];
    assert_string_equal(node->name, "hello_node");
    assert_int_equal(node->kind, LAB_RUNTIME_NODE);
    assert_string_equal(node->handler, "src/index.handler");
    assert_string_equal(node->code_dir, "/opt/code/node");
    assert_null(node->kms_key_arn);
    assert_int_equal(node->ephemeral_storage_mb, 512);
    assert_false(node->function_url);

    c = &cfg->functions[2];
    assert_int_equal(c->kind, LAB_RUNTIME_PROVIDED);
    assert_string_equal(c->runtime, "provided.al2023");
    assert_null(c->handler);
    assert_string_equal(c->code_dir, "/base/build/functions/hello-c");
    assert_int_equal(c->memory_mb, 10240);
    assert_int_equal(c->timeout_s, 900);
    assert_false(c->function_url);

    assert_ptr_equal(lab_config_find(cfg, "hello_node"), node);
    assert_null(lab_config_find(cfg, "hello"));
    assert_null(lab_config_find(cfg, NULL));
    assert_null(lab_config_find(NULL, "hello_node"));

    lab_config_free(&cfg);
    assert_null(cfg);
}

static void test_defaults(void **state)
{
    lab_config *cfg = parse_ok("functions:\n  - name: f\n    runtime: provided\n    code: c\n");
    const lab_function_config *fn = &cfg->functions[0];

    (void)state;
    assert_string_equal(cfg->region, "us-east-1");
    assert_string_equal(cfg->account_id, "000000000000");
    assert_int_equal(cfg->update_delay_ms, 300);
    assert_int_equal(cfg->account_concurrency, 1000);
    assert_int_equal(cfg->credential_count, 1);
    assert_string_equal(cfg->credentials[0].access_key_id, LAB_CONFIG_DEFAULT_ACCESS_KEY_ID);
    assert_string_equal(cfg->credentials[0].secret_access_key, LAB_CONFIG_DEFAULT_SECRET_ACCESS_KEY);
    assert_int_equal(cfg->function_count, 1);
    assert_null(fn->handler);
    assert_string_equal(fn->description, "");
    assert_int_equal(fn->memory_mb, 128);
    assert_int_equal(fn->timeout_s, 3);
    assert_int_equal(fn->reserved_concurrency, -1);
    assert_int_equal(fn->idle_timeout_s, 600);
    assert_int_equal(fn->max_age_s, 7200);
    assert_false(fn->host_network);
    assert_null(fn->kms_key_arn);
    assert_int_equal(fn->ephemeral_storage_mb, LAB_CONFIG_EPHEMERAL_DEFAULT_MB);
    assert_int_equal(fn->ephemeral_storage_mb, 512);
    assert_false(fn->function_url);
    assert_null(fn->env);
    assert_int_equal(fn->env_count, 0);
    lab_config_free(&cfg);

    /* No functions at all, and an explicit empty list, are a lab with none. */
    cfg = parse_ok("region: us-east-1\n");
    assert_int_equal(cfg->function_count, 0);
    assert_null(cfg->functions);
    lab_config_free(&cfg);
    cfg = parse_ok("functions: []\naccount_id: 000000000000\n");
    assert_int_equal(cfg->function_count, 0);
    assert_string_equal(cfg->account_id, "000000000000");
    lab_config_free(&cfg);
}

static void test_runtimes(void **state)
{
    static const struct {
        const char *runtime;
        lab_runtime_kind kind;
    } ok[] = {
        {"python3.8", LAB_RUNTIME_PYTHON},   {"python3.12", LAB_RUNTIME_PYTHON},
        {"nodejs18.x", LAB_RUNTIME_NODE},    {"nodejs20.x", LAB_RUNTIME_NODE},
        {"nodejs4.x", LAB_RUNTIME_NODE},     {"provided", LAB_RUNTIME_PROVIDED},
        {"provided.al2", LAB_RUNTIME_PROVIDED}, {"provided.al2023", LAB_RUNTIME_PROVIDED},
    };
    static const char *const bad[] = {
        "python3", "python3.", "python3.123", "python3.x", "Python3.11", "nodejs20", "nodejs20.y",
        "nodejs1234.x", "nodejsxx.x", "provided.al", "java21", "",
    };
    char yaml[256], err[ERR_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        lab_config *cfg;
        snprintf(yaml, sizeof yaml, "functions:\n  - {name: f, runtime: \"%s\", handler: a.b, code: c}\n",
                 ok[i].runtime);
        cfg = parse_ok(yaml);
        assert_int_equal(cfg->functions[0].kind, ok[i].kind);
        assert_string_equal(cfg->functions[0].runtime, ok[i].runtime);
        lab_config_free(&cfg);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lab_config *cfg = NULL;
        snprintf(yaml, sizeof yaml, "functions:\n  - {name: f, runtime: \"%s\", handler: a.b, code: c}\n",
                 bad[i]);
        assert_int_equal(parse_text(yaml, &cfg, err), -1);
        assert_null(cfg);
        if (strstr(err, "t.yaml:2:24: unknown runtime") == NULL)
            fail_msg("%s: %s", bad[i], err);
    }
}

/* Appends to a growing test buffer; the test fails on overflow. */
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < cap - *len);
    *len += (size_t)n;
}

/* A function whose environment is one variable of total size key+value. */
static void test_environment_size(void **state)
{
    static char yaml[8192];
    char value[4200];
    lab_config *cfg;
    size_t len = 0;

    (void)state;
    /* 4096 exactly: AB + 4094 characters. */
    memset(value, 'v', 4094);
    value[4094] = '\0';
    append(yaml, sizeof yaml, &len, FN_HEAD "    environment:\n      AB: %s\n", value);
    cfg = parse_ok(yaml);
    assert_int_equal(strlen(cfg->functions[0].env[0].value), 4094);
    lab_config_free(&cfg);

    /* One byte more, spread over two variables. */
    len = 0;
    value[4091] = '\0';
    append(yaml, sizeof yaml, &len, FN_HEAD "    environment:\n      AB: %s\n      CD: xy\n", value);
    expect_error(yaml, len, "t.yaml:6:5: environment of function 'f' is 4097 bytes (names plus values); "
                            "Lambda allows at most 4096");
}

static void test_environment_count(void **state)
{
    static char yaml[16384];
    size_t len = 0;
    lab_config *cfg;

    (void)state;
    append(yaml, sizeof yaml, &len, FN_HEAD "    environment:\n");
    for (int i = 0; i < LAB_CONFIG_MAX_ENV; i++)
        append(yaml, sizeof yaml, &len, "      V%03d: x\n", i);
    cfg = parse_ok(yaml);
    assert_int_equal(cfg->functions[0].env_count, LAB_CONFIG_MAX_ENV);
    assert_string_equal(cfg->functions[0].env[255].key, "V255");
    lab_config_free(&cfg);

    /* The 257th name is on line 6 + 257 = 263. */
    append(yaml, sizeof yaml, &len, "      V256: x\n");
    expect_error(yaml, len, "t.yaml:263:7: too many environment variables in function 'f': the limit is 256");
}

static void test_function_count(void **state)
{
    static char yaml[65536];
    size_t len = 0;
    lab_config *cfg;

    (void)state;
    append(yaml, sizeof yaml, &len, "functions:\n");
    for (int i = 0; i < LAB_CONFIG_MAX_FUNCTIONS; i++)
        append(yaml, sizeof yaml, &len, "  - {name: f%d, runtime: provided, code: c}\n", i);
    cfg = parse_ok(yaml);
    assert_int_equal(cfg->function_count, LAB_CONFIG_MAX_FUNCTIONS);
    assert_non_null(lab_config_find(cfg, "f255"));
    lab_config_free(&cfg);

    append(yaml, sizeof yaml, &len, "  - {name: f256, runtime: provided, code: c}\n");
    expect_error(yaml, len, "t.yaml:258:5: too many functions: the limit is 256");
}

static void test_credential_count(void **state)
{
    static char yaml[8192];
    size_t len = 0;

    (void)state;
    append(yaml, sizeof yaml, &len, "credentials:\n");
    for (int i = 0; i < 65; i++)
        append(yaml, sizeof yaml, &len, "  - {access_key_id: K%d, secret_access_key: s}\n", i);
    expect_error(yaml, len, "t.yaml:66:5: too many credentials: the limit is 64");
}

static void test_description_length(void **state)
{
    char yaml[1024];
    char desc[400];
    lab_config *cfg;

    (void)state;
    /* 256 characters, some of them two bytes long: Lambda counts characters. */
    for (size_t i = 0; i < 128; i++)
        memcpy(desc + 2 * i, "\xc3\xa9", 2);
    memset(desc + 256, 'e', 128);
    desc[256 + 128] = '\0';
    snprintf(yaml, sizeof yaml, FN_HEAD "    description: \"%s\"\n", desc);
    cfg = parse_ok(yaml);
    assert_int_equal(strlen(cfg->functions[0].description), 384);
    lab_config_free(&cfg);

    snprintf(yaml, sizeof yaml, FN_HEAD "    description: \"%se\"\n", desc);
    expect_error(yaml, strlen(yaml), "t.yaml:6:18: description must be at most 256 characters");
}

/* The message quotes at most 48 bytes of a user's text, never half a character. */
static void test_long_values_are_cut_in_messages(void **state)
{
    char yaml[512], err[ERR_LEN];
    lab_config *cfg = NULL;

    (void)state;
    snprintf(yaml, sizeof yaml, "region: \"%s\"\n",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
    assert_int_equal(parse_text(yaml, &cfg, err), -1);
    assert_non_null(strstr(err, "got 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'..."));
}

static void test_integers_accepted(void **state)
{
    lab_config *cfg = parse_ok("update_delay_ms: 0\naccount_concurrency: \"100000\"\n"
                               FN_HEAD "    memory_mb: 128\n    reserved_concurrency: 2147483647\n");

    (void)state;
    assert_int_equal(cfg->update_delay_ms, 0);
    assert_int_equal(cfg->account_concurrency, 100000);
    assert_int_equal(cfg->functions[0].reserved_concurrency, INT_MAX);
    lab_config_free(&cfg);
}

static void test_kms_and_ephemeral_accepted(void **state)
{
    static const char *const arns[] = {
        "arn:aws:kms:us-east-1:000000000000:key/1b4c0d6e-0000-4000-8000-00000000c01d",
        "arn:aws:kms:eu-west-3:123456789012:alias/orders-env",
        "arn:aws:kms:us-east-1:000000000000:alias/aws/lambda",
        "arn:aws-cn:kms:cn-north-1:123456789012:key/k1",
        "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/k1",
        "arn:aws:kms:us-east-1:000000000000:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    };
    static const struct {
        const char *text;
        int mb;
    } sizes[] = {{"1", 1}, {"16", 16}, {"512", 512}, {"\"10240\"", 10240}};
    char yaml[512];

    (void)state;
    for (size_t i = 0; i < sizeof arns / sizeof arns[0]; i++) {
        lab_config *cfg;
        snprintf(yaml, sizeof yaml, FN_HEAD "    kms_key_arn: \"%s\"\n", arns[i]);
        cfg = parse_ok(yaml);
        assert_string_equal(cfg->functions[0].kms_key_arn, arns[i]);
        lab_config_free(&cfg);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        lab_config *cfg;
        snprintf(yaml, sizeof yaml, FN_HEAD "    ephemeral_storage_mb: %s\n", sizes[i].text);
        cfg = parse_ok(yaml);
        assert_int_equal(cfg->functions[0].ephemeral_storage_mb, sizes[i].mb);
        lab_config_free(&cfg);
    }
}

/* max_concurrency on each runtime MI supports, and its defaults. */
static void test_max_concurrency_accepted(void **state)
{
    static const struct {
        const char *runtime;
        const char *extra;
        int mc, envs;
    } ok[] = {
        {"python3.13", "    handler: h.handler\n    max_concurrency: 1\n", 1, 1},
        {"python3.14", "    handler: h.handler\n    max_concurrency: 1600\n    environments: 64\n", 1600, 64},
        {"nodejs22.x", "    handler: h.handler\n    max_concurrency: 8\n    environments: 2\n", 8, 2},
        {"provided.al2023", "    max_concurrency: 4\n", 4, 1},
    };
    char yaml[512];

    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        lab_config *cfg;
        snprintf(yaml, sizeof yaml, "functions:\n  - name: f\n    runtime: %s\n    code: c\n%s",
                 ok[i].runtime, ok[i].extra);
        cfg = parse_ok(yaml);
        assert_int_equal(cfg->functions[0].max_concurrency, ok[i].mc);
        assert_int_equal(cfg->functions[0].environments, ok[i].envs);
        lab_config_free(&cfg);
    }
    {
        lab_config *cfg = parse_ok(FN_HEAD);
        assert_int_equal(cfg->functions[0].max_concurrency, 0); /* classic */
        assert_int_equal(cfg->functions[0].environments, 1);
        lab_config_free(&cfg);
    }
}

/* Lambda's KMSKeyArn limit; longer must fail, however well formed. */
static void test_kms_length(void **state)
{
    static char yaml[4096];
    char id[2100], err[ERR_LEN];
    const char *prefix = "arn:aws:kms:us-east-1:000000000000:key/";
    size_t room = 2048 - strlen(prefix);
    lab_config *cfg;

    (void)state;
    memset(id, 'k', room);
    id[room] = '\0';
    snprintf(yaml, sizeof yaml, FN_HEAD "    kms_key_arn: %s%s\n", prefix, id);
    cfg = parse_ok(yaml);
    assert_int_equal(strlen(cfg->functions[0].kms_key_arn), 2048);
    lab_config_free(&cfg);

    id[room] = 'k';
    id[room + 1] = '\0';
    snprintf(yaml, sizeof yaml, FN_HEAD "    kms_key_arn: %s%s\n", prefix, id);
    cfg = NULL;
    assert_int_equal(parse_text(yaml, &cfg, err), -1);
    assert_null(cfg);
    assert_non_null(strstr(err, "t.yaml:6:18: kms_key_arn must be a KMS key or alias ARN"));
}

/* Aliases are followed (nothing expands: the walk has a fixed depth). */
static void test_aliases(void **state)
{
    lab_config *cfg = parse_ok("functions:\n"
                               "  - name: a\n    runtime: provided\n    code: c\n"
                               "    environment: &common {STAGE: lab, LEVEL: \"2\"}\n"
                               "  - name: b\n    runtime: provided\n    code: c\n"
                               "    environment: *common\n");

    (void)state;
    assert_int_equal(cfg->functions[1].env_count, 2);
    assert_string_equal(cfg->functions[1].env[0].key, "STAGE");
    assert_string_equal(cfg->functions[1].env[1].value, "2");
    lab_config_free(&cfg);
}

/*
 * Plain scalars are taken as written, as the lab always read them: an empty
 * value is "" and null is the text "null" (yamldoc_string alone would refuse
 * both as YAML nulls). Booleans take the core schema's capitalised forms.
 */
static void test_plain_scalars_as_written(void **state)
{
    lab_config *cfg = parse_ok(FN_HEAD "    description:\n    function_url: True\n"
                               "    environment:\n      EMPTY:\n      WORD: null\n      TILDE: ~\n");
    const lab_function_config *fn = &cfg->functions[0];

    (void)state;
    assert_string_equal(fn->description, "");
    assert_true(fn->function_url);
    assert_int_equal(fn->env_count, 3);
    assert_string_equal(fn->env[0].value, "");
    assert_string_equal(fn->env[1].value, "null");
    assert_string_equal(fn->env[2].value, "~");
    lab_config_free(&cfg);

    cfg = parse_ok(FN_HEAD "    function_url: TRUE\n");
    assert_true(cfg->functions[0].function_url);
    lab_config_free(&cfg);
    cfg = parse_ok(FN_HEAD "    function_url: False\n");
    assert_false(cfg->functions[0].function_url);
    lab_config_free(&cfg);
}

/* Ten levels of ten aliases (10^10 leaves if expanded) cost nothing: the
 * walk meets the first level as a node of the wrong kind. */
static void test_billion_laughs(void **state)
{
    static char yaml[4096];
    size_t len = 0;
    clock_t start;

    (void)state;
    append(yaml, sizeof yaml, &len, "functions:\n  - &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++) {
        append(yaml, sizeof yaml, &len, "  - &l%d [", i);
        for (int j = 0; j < 10; j++)
            append(yaml, sizeof yaml, &len, "%s*l%d", j > 0 ? ", " : "", i - 1);
        append(yaml, sizeof yaml, &len, "]\n");
    }
    append(yaml, sizeof yaml, &len, "region: *l9\n");
    start = clock();
    expect_error(yaml, len, "t.yaml:2:5: each entry of functions must be a mapping, not a sequence");
    assert_true(clock() - start < CLOCKS_PER_SEC);
}

static void test_input_limits(void **state)
{
    size_t big = (size_t)LAB_CONFIG_MAX_BYTES + 1, deep = 400000;
    char *text = malloc(big > 2 * deep ? big : 2 * deep);
    char err[ERR_LEN];
    lab_config *cfg = NULL;
    clock_t start;

    (void)state;
    assert_non_null(text);
    memset(text, ' ', big);
    assert_int_equal(lab_config_parse(text, big, "t.yaml", "/base", false, &cfg, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml: configuration is 1048577 bytes; the limit is 1048576");

    /* libyaml's scanner is quadratic in flow depth: yamldoc must stop it
     * at its depth bound, as each collection opens. */
    memset(text, '[', deep);
    memset(text + deep, ']', deep);
    start = clock();
    expect_error(text, 2 * deep, "t.yaml:1:65: nested more than 64 levels deep");
    assert_true(clock() - start < CLOCKS_PER_SEC);
    free(text);

    /* Anchors are bounded. */
    {
        static char yaml[16384];
        size_t len = 0;
        append(yaml, sizeof yaml, &len, "x:\n");
        for (int i = 0; i < 257; i++)
            append(yaml, sizeof yaml, &len, "  - &a%d v\n", i);
        expect_error(yaml, len, "t.yaml:258:5: too many anchors: the limit is 256");
    }
}

static void test_bad_arguments(void **state)
{
    char err[ERR_LEN], tiny[8];
    lab_config *cfg = NULL;

    (void)state;
    assert_int_equal(lab_config_parse("region: x", 9, "t.yaml", "/b", false, NULL, err, sizeof err), -1);
    assert_int_equal(lab_config_parse(NULL, 5, "t.yaml", "/b", false, &cfg, err, sizeof err), -1);
    assert_null(cfg);
    /* NULL err, tiny err, NULL name and base_dir. */
    assert_int_equal(lab_config_parse("region: X\n", 10, "t.yaml", "/b", false, &cfg, NULL, 0), -1);
    assert_int_equal(lab_config_parse("region: X\n", 10, "t.yaml", "/b", false, &cfg, tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "t.yaml:");
    assert_int_equal(lab_config_parse("region: X\n", 10, NULL, NULL, false, &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "<config>:1:9: region"));
    assert_int_equal(lab_config_load(NULL, &cfg, err, sizeof err), -1);
    assert_int_equal(lab_config_load("x.yaml", NULL, err, sizeof err), -1);
}

/* code folders without the existence check: joined to base_dir, made absolute. */
static void test_code_dir_joining(void **state)
{
    const char *yaml = "functions:\n  - {name: f, runtime: provided, code: ./x/./y/}\n";
    char err[ERR_LEN], *cwd, expected[PATH_MAX + 16];
    lab_config *cfg = NULL;

    (void)state;
    assert_int_equal(lab_config_parse(yaml, strlen(yaml), "t.yaml", "/base/", false, &cfg, err, sizeof err), 0);
    assert_string_equal(cfg->functions[0].code_dir, "/base/x/y");
    lab_config_free(&cfg);

    cwd = getcwd(NULL, 0);
    assert_non_null(cwd);
    snprintf(expected, sizeof expected, "%s/rel/x/y", strcmp(cwd, "/") == 0 ? "" : cwd);
    assert_int_equal(lab_config_parse(yaml, strlen(yaml), "t.yaml", "rel", false, &cfg, err, sizeof err), 0);
    assert_string_equal(cfg->functions[0].code_dir, expected);
    lab_config_free(&cfg);
    free(cwd);
}

/* A scratch folder for lab_config_load, removed by the test. */
typedef struct scratch {
    char dir[64];
    char path[128];
} scratch;

static void scratch_file(const scratch *s, const char *name, const char *text, size_t len)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_load(void **state)
{
    scratch s;
    char err[ERR_LEN], path[PATH_MAX + 256], real_code[PATH_MAX], *big;
    lab_config *cfg = NULL;
    static const char good[] = "functions:\n  - name: hello\n    runtime: python3.11\n"
                               "    handler: handler.handler\n    code: functions/hello\n";
    static const char missing[] = "functions:\n  - name: hello\n    runtime: provided\n    code: functions/nope\n";
    static const char notdir[] = "functions:\n  - name: hello\n    runtime: provided\n    code: file.txt\n";

    (void)state;
    snprintf(s.dir, sizeof s.dir, "/tmp/coldsec-lab-config-XXXXXX");
    assert_non_null(mkdtemp(s.dir));
    snprintf(path, sizeof path, "%s/functions", s.dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/functions/hello", s.dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_non_null(realpath(path, real_code));

    scratch_file(&s, "good.yaml", good, strlen(good));
    snprintf(s.path, sizeof s.path, "%s/./good.yaml", s.dir);
    assert_int_equal(lab_config_load(s.path, &cfg, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/good.yaml", s.dir);
    assert_string_equal(cfg->path, path);
    assert_string_equal(cfg->functions[0].code_dir, real_code);
    lab_config_free(&cfg);

    scratch_file(&s, "missing.yaml", missing, strlen(missing));
    snprintf(s.path, sizeof s.path, "%s/missing.yaml", s.dir);
    assert_int_equal(lab_config_load(s.path, &cfg, err, sizeof err), -1);
    assert_null(cfg);
    snprintf(path, sizeof path, "%s:4:11: code folder 'functions/nope' (%s/functions/nope) cannot be used: "
             "No such file or directory", s.path, s.dir);
    assert_string_equal(err, path);

    scratch_file(&s, "file.txt", "x", 1);
    scratch_file(&s, "notdir.yaml", notdir, strlen(notdir));
    snprintf(s.path, sizeof s.path, "%s/notdir.yaml", s.dir);
    assert_int_equal(lab_config_load(s.path, &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, ":4:11: code folder 'file.txt' ("));
    assert_non_null(strstr(err, "/file.txt) is not a directory"));

    snprintf(s.path, sizeof s.path, "%s/absent.yaml", s.dir);
    assert_int_equal(lab_config_load(s.path, &cfg, err, sizeof err), -1);
    snprintf(path, sizeof path, "%s: cannot read: No such file or directory", s.path);
    assert_string_equal(err, path);

    assert_int_equal(lab_config_load(s.dir, &cfg, err, sizeof err), -1);
    snprintf(path, sizeof path, "%s: cannot read: Is a directory", s.dir);
    assert_string_equal(err, path);

    /* Exactly at the cap is read (and parsed); one byte more is refused unread. */
    big = malloc((size_t)LAB_CONFIG_MAX_BYTES + 1);
    assert_non_null(big);
    memset(big, '\n', (size_t)LAB_CONFIG_MAX_BYTES + 1);
    memcpy(big, "region: us-east-2", 17);
    scratch_file(&s, "big.yaml", big, (size_t)LAB_CONFIG_MAX_BYTES);
    snprintf(s.path, sizeof s.path, "%s/big.yaml", s.dir);
    assert_int_equal(lab_config_load(s.path, &cfg, err, sizeof err), 0);
    assert_string_equal(cfg->region, "us-east-2");
    lab_config_free(&cfg);
    scratch_file(&s, "big.yaml", big, (size_t)LAB_CONFIG_MAX_BYTES + 1);
    assert_int_equal(lab_config_load(s.path, &cfg, err, sizeof err), -1);
    snprintf(path, sizeof path, "%s: file is larger than the limit of 1048576 bytes", s.path);
    assert_string_equal(err, path);
    free(big);

    static const char *const files[] = {"good.yaml", "missing.yaml", "notdir.yaml", "file.txt", "big.yaml"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", s.dir, files[i]);
        assert_int_equal(unlink(path), 0);
    }
    snprintf(path, sizeof path, "%s/functions/hello", s.dir);
    assert_int_equal(rmdir(path), 0);
    snprintf(path, sizeof path, "%s/functions", s.dir);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(rmdir(s.dir), 0);
}

/* lab_config_free takes NULL, a NULL config, and hand-made partial trees. */
static void test_free_partial(void **state)
{
    lab_config *cfg = NULL;

    (void)state;
    lab_config_free(NULL);
    lab_config_free(&cfg);

    cfg = calloc(1, sizeof *cfg);
    assert_non_null(cfg);
    cfg->region = strdup("us-east-1");
    cfg->functions = calloc(2, sizeof *cfg->functions);
    assert_non_null(cfg->functions);
    cfg->function_count = 2;
    cfg->functions[0].name = strdup("half");
    cfg->functions[0].env = calloc(3, sizeof *cfg->functions[0].env);
    cfg->functions[0].env_count = 3;
    assert_non_null(cfg->functions[0].env);
    cfg->functions[0].env[0].key = strdup("ONLY_KEY");
    cfg->functions[1].env_count = 5; /* count without an array */
    cfg->credential_count = 4;       /* likewise */
    lab_config_free(&cfg);
    assert_null(cfg);
}

/*
 * Every prefix of a valid config, and byte-level corruptions of it, either
 * parse or fail with a positioned message; nothing crashes or leaks (ASan).
 */
static void test_truncated_and_garbage(void **state)
{
    size_t n = sizeof full_yaml - 1;
    char *copy = malloc(n + 1);
    char err[ERR_LEN];
    uint32_t seed = 12345;

    (void)state;
    assert_non_null(copy);
    for (size_t len = 0; len <= n; len++) {
        lab_config *cfg = NULL;
        memcpy(copy, full_yaml, len); /* exactly len bytes: no NUL after them for ASan to hide */
        int rc = lab_config_parse(copy, len, "t.yaml", "/base", false, &cfg, err, sizeof err);
        if (rc == 0) {
            assert_non_null(cfg);
        } else {
            assert_null(cfg);
            assert_true(strncmp(err, "t.yaml", 6) == 0);
        }
        lab_config_free(&cfg);
    }
    for (int round = 0; round < 2000; round++) {
        lab_config *cfg = NULL;
        memcpy(copy, full_yaml, n);
        for (int k = 0; k < 1 + round % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % n;
            seed = seed * 1103515245u + 12345u;
            static const char pick[] = "[]{}:,-&*!|>'\"#%@ \n\t\\\x01\xff" "0a";
            copy[at] = pick[(seed >> 8) % (sizeof pick - 1)];
        }
        if (lab_config_parse(copy, n, "t.yaml", "/base", false, &cfg, err, sizeof err) != 0) {
            assert_null(cfg);
            assert_true(strncmp(err, "t.yaml", 6) == 0);
        }
        lab_config_free(&cfg);
    }
    free(copy);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_full_config_round_trip),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_runtimes),
        cmocka_unit_test(test_environment_size),
        cmocka_unit_test(test_environment_count),
        cmocka_unit_test(test_function_count),
        cmocka_unit_test(test_credential_count),
        cmocka_unit_test(test_description_length),
        cmocka_unit_test(test_long_values_are_cut_in_messages),
        cmocka_unit_test(test_integers_accepted),
        cmocka_unit_test(test_kms_and_ephemeral_accepted),
        cmocka_unit_test(test_max_concurrency_accepted),
        cmocka_unit_test(test_kms_length),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_plain_scalars_as_written),
        cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_input_limits),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_code_dir_joining),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_free_partial),
        cmocka_unit_test(test_truncated_and_garbage),
    };
    size_t n_fixed = sizeof fixed / sizeof fixed[0];
    struct CMUnitTest *tests = calloc(n_fixed + N_ERROR_CASES, sizeof *tests);
    int failed;

    if (tests == NULL)
        return 1;
    memcpy(tests, fixed, sizeof fixed);
    /* One cmocka test per table row, so a failure names its row; one group,
     * so tests/run.sh sees a single summary. */
    for (size_t i = 0; i < N_ERROR_CASES; i++) {
        tests[n_fixed + i].name = error_cases[i].name;
        tests[n_fixed + i].test_func = test_error_case;
        tests[n_fixed + i].initial_state = &error_cases[i];
    }
    failed = _cmocka_run_group_tests("lab_config", tests, n_fixed + N_ERROR_CASES, NULL, NULL);
    free(tests);
    return failed;
}
