/*
 * test_awsconf.c — proves src/awsconf.c against botocore's rules:
 *   1. the INI dialect (configparser as botocore uses it) and its errors,
 *      with file:line:column, as tables of text and expected result;
 *   2. shlex splitting of credential_process, vectors from Python's
 *      shlex.split;
 *   3. every precedence rule of credentials, region, endpoint and CA bundle,
 *      in a temporary HOME with an injected environment (the process's own
 *      environment is never read);
 *   4. credential_process end to end with small shell scripts, where every
 *      failure's message is checked not to hold the secret the script printed.
 * Everything runs as one cmocka group so the last summary line counts every test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "awsconf.h"

#define MAX_ENV 32
#define ERR_LEN 1024
#define TEXT_MAX 8192

/* What the scripts print as secrets; no message may ever contain them. */
#define SECRET "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
#define TOKEN "IQoJb3JpZ2luX2VjEXAMPLETOKENxyz"
#define AKID "AKIAIOSFODNN7EXAMPLE"

#define assert_contains(hay, needle)                                                   \
    do {                                                                               \
        if (!strstr((hay), (needle)))                                                  \
            fail_msg("\"%s\"\n  does not contain \"%s\"", (hay), (needle));            \
    } while (0)

#define assert_not_contains(hay, needle)                                               \
    do {                                                                               \
        if (strstr((hay), (needle)))                                                   \
            fail_msg("\"%s\"\n  must not contain \"%s\"", (hay), (needle));            \
    } while (0)

/* ------------------------------------------------------------------------
 * Fixture: a temporary HOME, an injected environment, one resolved result.
 */
typedef struct fixture {
    char dir[PATH_MAX];
    const char *names[MAX_ENV];
    char *values[MAX_ENV];
    size_t nenv;
    awsconf_options opt;
    awsconf *conf;
    char err[ERR_LEN];
} fixture;

static const char *fx_getenv(void *ctx, const char *name)
{
    const fixture *fx = ctx;
    size_t i;
    for (i = 0; i < fx->nenv; i++) {
        if (strcmp(fx->names[i], name) == 0)
            return fx->values[i];
    }
    return NULL;
}

/* Sets (value non-NULL) or unsets a variable of the injected environment. */
static void fx_env(fixture *fx, const char *name, const char *value)
{
    size_t i;
    for (i = 0; i < fx->nenv; i++) {
        if (strcmp(fx->names[i], name) == 0)
            break;
    }
    if (i < fx->nenv) {
        free(fx->values[i]);
        if (!value) {
            fx->nenv--;
            fx->names[i] = fx->names[fx->nenv];
            fx->values[i] = fx->values[fx->nenv];
            return;
        }
    } else {
        if (!value)
            return;
        assert_true(fx->nenv < MAX_ENV);
        fx->names[fx->nenv++] = name;
    }
    fx->values[i] = strdup(value);
    assert_non_null(fx->values[i]);
}

static void fx_path(const fixture *fx, const char *rel, char out[PATH_MAX])
{
    assert_true(snprintf(out, PATH_MAX, "%s/%s", fx->dir, rel) < PATH_MAX);
}

/* Writes dir/rel (parents created), mode 0600 or 0755 for scripts. */
static void fx_write_mode(const fixture *fx, const char *rel, const char *text, mode_t mode)
{
    char path[PATH_MAX];
    char *slash;
    FILE *f;
    fx_path(fx, rel, path);
    for (slash = strchr(path + strlen(fx->dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
        *slash = '/';
    }
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void fx_write(const fixture *fx, const char *rel, const char *text)
{
    fx_write_mode(fx, rel, text, 0600);
}

static void fx_writef(const fixture *fx, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fx_writef(const fixture *fx, const char *rel, const char *fmt, ...)
{
    char text[TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    assert_true(vsnprintf(text, sizeof text, fmt, ap) < (int)sizeof text);
    va_end(ap);
    fx_write(fx, rel, text);
}

static void fx_script(const fixture *fx, const char *rel, const char *body)
{
    char text[TEXT_MAX];
    assert_true(snprintf(text, sizeof text, "#!/bin/sh\n%s\n", body) < (int)sizeof text);
    fx_write_mode(fx, rel, text, 0755);
}

static int fx_resolve(fixture *fx)
{
    awsconf_free(fx->conf);
    fx->conf = NULL;
    memset(fx->err, 0, sizeof fx->err);
    fx->opt.getenv_fn = fx_getenv;
    fx->opt.getenv_ctx = fx;
    return awsconf_resolve(&fx->opt, &fx->conf, fx->err, sizeof fx->err);
}

/* Resolves and expects success, failing with the error otherwise. */
static void fx_ok(fixture *fx)
{
    if (fx_resolve(fx) != 0)
        fail_msg("awsconf_resolve failed: %s", fx->err);
    assert_non_null(fx->conf);
}

/* Resolves and expects failure; the message must hold no secret of the test data. */
static void fx_fails(fixture *fx, const char *needle)
{
    if (fx_resolve(fx) == 0)
        fail_msg("awsconf_resolve succeeded; expected an error containing \"%s\"", needle);
    assert_null(fx->conf);
    assert_contains(fx->err, needle);
    assert_not_contains(fx->err, SECRET);
    assert_not_contains(fx->err, TOKEN);
    assert_not_contains(fx->err, AKID);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    assert_true(snprintf(fx->dir, sizeof fx->dir, "%s/awsconf-XXXXXX",
                         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") < (int)sizeof fx->dir);
    assert_non_null(mkdtemp(fx->dir));
    fx_env(fx, "HOME", fx->dir);
    *state = fx;
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    size_t i;
    awsconf_free(fx->conf);
    nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (i = 0; i < fx->nenv; i++)
        free(fx->values[i]);
    free(fx);
    return 0;
}

/* ------------------------------------------------------------------------
 * INI dialect
 */
static awsconf_ini *parse_ok(const char *text)
{
    char err[ERR_LEN] = "";
    awsconf_ini *ini = awsconf_ini_parse(text, strlen(text), "t.ini", err, sizeof err);
    if (!ini)
        fail_msg("parse failed: %s", err);
    return ini;
}

static void test_ini_syntax(void **state)
{
    (void)state;
    awsconf_ini *ini = parse_ok("# comment\n"
                                "; another\n"
                                "[default]\n"
                                "aws_access_key_id = AKID1\n"
                                "Region=eu-west-1   \n"
                                "output: json\n"
                                "note = a # not a comment ; neither\n"
                                "url = http://h:1/p=q\n"
                                "empty =\n"
                                "\n"
                                "[  profile   dev  ]   # trailing comment\n"
                                "\tregion\t=\tus-east-2\n"
                                "[ci]\n"
                                "    indented = first key may be indented\n"
                                "    second = same indent is a new key\n");
    assert_string_equal(awsconf_ini_get(ini, "default", "aws_access_key_id"), "AKID1");
    /* configparser lower-cases keys: any case finds them. */
    assert_string_equal(awsconf_ini_get(ini, "default", "region"), "eu-west-1");
    assert_string_equal(awsconf_ini_get(ini, "default", "REGION"), "eu-west-1");
    assert_string_equal(awsconf_ini_get(ini, "default", "output"), "json");
    assert_string_equal(awsconf_ini_get(ini, "default", "note"), "a # not a comment ; neither");
    assert_string_equal(awsconf_ini_get(ini, "default", "url"), "http://h:1/p=q");
    assert_string_equal(awsconf_ini_get(ini, "default", "empty"), "");
    /* Section names are trimmed, inner spacing kept, and compared exactly. */
    assert_string_equal(awsconf_ini_get(ini, "profile   dev", "region"), "us-east-2");
    assert_null(awsconf_ini_get(ini, "Default", "region"));
    assert_string_equal(awsconf_ini_get(ini, "ci", "indented"), "first key may be indented");
    assert_string_equal(awsconf_ini_get(ini, "ci", "second"), "same indent is a new key");
    assert_null(awsconf_ini_get(ini, "ci", "missing"));
    assert_null(awsconf_ini_get(ini, "nope", "region"));
    assert_null(awsconf_ini_get(ini, NULL, "region"));
    assert_null(awsconf_ini_get(ini, "default", NULL));
    assert_null(awsconf_ini_get(NULL, "default", "region"));
    awsconf_ini_free(ini);
    awsconf_ini_free(NULL);
}

static void test_ini_continuation_and_nested(void **state)
{
    (void)state;
    awsconf_ini *ini = parse_ok("[default]\n"
                                "multi = one\n"
                                "  two\n"
                                "\n"
                                "# a comment does not end the value\n"
                                "  three\n"
                                "\n"
                                "s3 =\n"
                                "  max_concurrent_requests = 10\n"
                                "\n"
                                "  Addressing_Style = path\n"
                                "region = us-west-1\n"
                                "after = x\n"
                                "  [not-a-section]\n");
    /* Blank lines inside a value are kept, trailing ones dropped, as configparser does. */
    assert_string_equal(awsconf_ini_get(ini, "default", "multi"), "one\ntwo\n\nthree");
    /* A nested block is skipped by plain lookups; the keys after it are still found. */
    assert_null(awsconf_ini_get(ini, "default", "s3"));
    assert_null(awsconf_ini_get(ini, "default", "max_concurrent_requests"));
    assert_string_equal(awsconf_ini_get(ini, "default", "region"), "us-west-1");
    /* An indented "[x]" under a key is more of its value, not a header. */
    assert_string_equal(awsconf_ini_get(ini, "default", "after"), "x\n[not-a-section]");
    awsconf_ini_free(ini);
}

static void test_ini_default_section(void **state)
{
    (void)state;
    awsconf_ini *ini = parse_ok("[DEFAULT]\n"
                                "region = eu-north-1\n"
                                "output = text\n"
                                "[a]\n"
                                "region = us-east-1\n"
                                "[b]\n");
    /* configparser: [DEFAULT]'s keys are inherited by every section... */
    assert_string_equal(awsconf_ini_get(ini, "a", "region"), "us-east-1");
    assert_string_equal(awsconf_ini_get(ini, "a", "output"), "text");
    assert_string_equal(awsconf_ini_get(ini, "b", "region"), "eu-north-1");
    /* ...but it is not a section botocore lists, and it makes none exist. */
    assert_null(awsconf_ini_get(ini, "DEFAULT", "region"));
    assert_null(awsconf_ini_get(ini, "c", "region"));
    awsconf_ini_free(ini);
    /* configparser reopens [DEFAULT]; a key is still allowed once across its parts. */
    ini = parse_ok("[DEFAULT]\nregion = r1\n[a]\n[DEFAULT]\noutput = o1\n");
    assert_string_equal(awsconf_ini_get(ini, "a", "region"), "r1");
    assert_string_equal(awsconf_ini_get(ini, "a", "output"), "o1");
    awsconf_ini_free(ini);
}

static void test_ini_line_endings(void **state)
{
    (void)state;
    /* Python reads the files with universal newlines: \n, \r\n and \r. */
    awsconf_ini *ini = parse_ok("[a]\r\nk = v\r\nj = w\rz = 1\n[b]\rx = 2");
    assert_string_equal(awsconf_ini_get(ini, "a", "k"), "v");
    assert_string_equal(awsconf_ini_get(ini, "a", "j"), "w");
    assert_string_equal(awsconf_ini_get(ini, "a", "z"), "1");
    assert_string_equal(awsconf_ini_get(ini, "b", "x"), "2");
    awsconf_ini_free(ini);
    ini = parse_ok("");
    assert_null(awsconf_ini_get(ini, "a", "k"));
    awsconf_ini_free(ini);
}

typedef struct ini_error_case {
    const char *text;
    size_t len; /* 0: strlen(text) */
    const char *expect; /* the whole message starts with this */
} ini_error_case;

static const ini_error_case ini_errors[] = {
    {"k = v\n", 0, "t.ini:1:1: expected a [section] header before the first setting"},
    {"\n# c\n  novalue\n", 0, "t.ini:3:3: expected a [section] header before the first setting"},
    {"[a]\nnovalue\n", 0, "t.ini:2:1: expected 'key = value', a [section] header or a # comment"},
    {"[a]\n  = v\n", 0, "t.ini:2:3: expected a key before '='"},
    {"[a]\n: v\n", 0, "t.ini:2:1: expected a key before ':'"},
    {"[a\n", 0, "t.ini:1:3: expected ']' to close the section header"},
    {"[a]\n  [b\n", 0, "t.ini:2:5: expected ']' to close the section header"},
    {"[ ]\n", 0, "t.ini:1:1: expected a section name between '[' and ']'"},
    {"[]\n", 0, "t.ini:1:1: expected a section name between '[' and ']'"},
    {"[a] junk\n", 0, "t.ini:1:5: expected the end of the line or a comment after ']'"},
    /* Indented under a key with an empty value, a header is a nested line (botocore too). */
    {"[a]\nk =\n\n  [b]\n", 0, "t.ini:4:3: expected 'key = value' in the block nested under 'k'"},
    {"[a]\ns3 =\n  max = 1\n  novalue\n", 0,
     "t.ini:4:3: expected 'key = value' in the block nested under 's3'"},
    {"[a]\n[b]\n[a]\n", 0, "t.ini:3:1: duplicate section [a] (first at line 1)"},
    {"[a]\nRegion = x\nregion = y\n", 0, "t.ini:3:1: duplicate key 'region' in [a] (first at line 2)"},
    /* Keys repeat freely across sections, and nested keys may repeat. */
    {"[a]\nk=1\n[b]\nk=1\ns3 =\n  x=1\n  x=2\n[c]\n[c]\n", 0,
     "t.ini:9:1: duplicate section [c] (first at line 8)"},
    /* The first problem in file order is reported: a duplicate before a bad line... */
    {"[a]\n[a]\nbad\n", 0, "t.ini:2:1: duplicate section [a] (first at line 1)"},
    /* ...and a bad line before a duplicate. */
    {"[a]\nbad\n[a]\n", 0, "t.ini:2:1: expected 'key = value'"},
    {"[DEFAULT]\nk = 1\n[a]\n[DEFAULT]\nk = 2\n", 0,
     "t.ini:5:1: duplicate key 'k' in [DEFAULT] (first at line 2)"},
    {"[a]\nk = v\0w\n", 12, "t.ini:2:6: expected text, found a NUL byte"},
    {"[a]\nk = 1\r\nk = 2\r\n", 0, "t.ini:3:1: duplicate key 'k' in [a] (first at line 2)"},
};

static void test_ini_errors(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof ini_errors / sizeof ini_errors[0]; i++) {
        const ini_error_case *c = &ini_errors[i];
        char err[ERR_LEN] = "";
        size_t len = c->len ? c->len : strlen(c->text);
        awsconf_ini *ini = awsconf_ini_parse(c->text, len, "t.ini", err, sizeof err);
        if (ini)
            fail_msg("case %zu parsed; expected \"%s\"", i, c->expect);
        if (strncmp(err, c->expect, strlen(c->expect)) != 0)
            fail_msg("case %zu: got \"%s\"\n  expected \"%s\"", i, err, c->expect);
    }
}

static void test_ini_errors_never_quote_lines(void **state)
{
    static const char *const texts[] = {
        "[default]\naws_access_key_id = " AKID "\n" SECRET "\n",
        SECRET " = 1\n",
        "[default]\ns3 =\n  " SECRET "\n",
        "[" SECRET "\n",
        "[default] " SECRET "\n",
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char err[ERR_LEN] = "";
        assert_null(awsconf_ini_parse(texts[i], strlen(texts[i]), "t.ini", err, sizeof err));
        assert_true(strncmp(err, "t.ini:", 6) == 0);
        assert_not_contains(err, SECRET);
        assert_not_contains(err, AKID);
    }
}

static void test_ini_limits(void **state)
{
    char err[ERR_LEN] = "";
    size_t n = (size_t)AWSCONF_INI_MAX_BYTES + 1, i;
    char *big = malloc(n);
    awsconf_ini *ini;
    (void)state;
    assert_non_null(big);
    memcpy(big, "[a]\n", 4);
    for (i = 4; i < n; i++)
        big[i] = (i % 8 == 7) ? '\n' : '#';
    assert_null(awsconf_ini_parse(big, n, "big.ini", err, sizeof err));
    assert_string_equal(err, "big.ini: larger than 1024 KiB, the most coldsec reads from an AWS "
                             "config file");
    /* Exactly at the cap is fine. */
    ini = awsconf_ini_parse(big, n - 1, "big.ini", err, sizeof err);
    assert_non_null(ini);
    awsconf_ini_free(ini);
    free(big);
    assert_null(awsconf_ini_parse(NULL, 1, "x.ini", err, sizeof err));
    assert_string_equal(err, "x.ini: no text");
    /* NULL err is allowed. */
    assert_null(awsconf_ini_parse("bad", 3, "x.ini", NULL, 0));
}

/* Mutations of a realistic file: either a tree or an error naming the file. */
static void test_ini_mutations(void **state)
{
    static const char base[] = "[default]\n"
                               "aws_access_key_id = AKID\n"
                               "s3 =\n"
                               "  max = 1\n"
                               "[profile dev]\n"
                               "region: eu-west-1\n"
                               "  more\n"
                               "# c\n";
    static const char pick[] = "[]=:#; \t\r\n\\\"'a\x01";
    char copy[sizeof base];
    unsigned seed = 12345;
    int round, k;
    (void)state;
    for (round = 0; round < 5000; round++) {
        char err[ERR_LEN] = "";
        awsconf_ini *ini;
        memcpy(copy, base, sizeof base);
        for (k = 0; k < 1 + round % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % (sizeof base - 1);
            seed = seed * 1103515245u + 12345u;
            copy[at] = pick[(seed >> 8) % (sizeof pick - 1)];
        }
        ini = awsconf_ini_parse(copy, sizeof base - 1, "m.ini", err, sizeof err);
        if (!ini)
            assert_true(strncmp(err, "m.ini:", 6) == 0);
        awsconf_ini_free(ini);
    }
}

/* ------------------------------------------------------------------------
 * shlex
 */
typedef struct split_case {
    const char *command;
    const char *words[4]; /* NULL-terminated; all NULL with error set: must fail */
    const char *error;
} split_case;

/* Expected words are what Python 3.11's shlex.split() returns. */
static const split_case split_cases[] = {
    {"a b  c", {"a", "b", "c", NULL}, NULL},
    {"'a b' c", {"a b", "c", NULL}, NULL},
    {"\"a b\" c", {"a b", "c", NULL}, NULL},
    {"a\\ b", {"a b", NULL}, NULL},
    {"\"a\\\"b\"", {"a\"b", NULL}, NULL},
    {"'a\\'", {"a\\", NULL}, NULL},
    {"\"a\\b\"", {"a\\b", NULL}, NULL},
    {"\"a\\\\b\"", {"a\\b", NULL}, NULL},
    {"a\"b c\"d", {"ab cd", NULL}, NULL},
    {"''", {"", NULL}, NULL},
    {"a \"\" b", {"a", "", "b", NULL}, NULL},
    {"\ta\nb\r", {"a", "b", NULL}, NULL},
    {"\"a\\$b\"", {"a\\$b", NULL}, NULL},
    {"'a\\\"b'", {"a\\\"b", NULL}, NULL},
    {"a\\\\", {"a\\", NULL}, NULL},
    {"\\'", {"'", NULL}, NULL},
    {"x#y", {"x#y", NULL}, NULL},
    {"a\\\nb", {"a\nb", NULL}, NULL},
    {"\"\\\\\\\"x\"", {"\\\"x", NULL}, NULL},
    {"\"unterminated", {NULL}, "a quote is not closed"},
    {"'unterminated", {NULL}, "a quote is not closed"},
    {"ok 'x", {NULL}, "a quote is not closed"},
    {"trail\\", {NULL}, "ends with a backslash"},
    {"\"a\\", {NULL}, "ends with a backslash"},
    {" ", {NULL}, "the command is empty"},
    {"", {NULL}, "the command is empty"},
};

static void test_split_command(void **state)
{
    size_t i, j;
    char err[ERR_LEN];
    (void)state;
    for (i = 0; i < sizeof split_cases / sizeof split_cases[0]; i++) {
        const split_case *c = &split_cases[i];
        char **argv;
        err[0] = '\0';
        argv = awsconf_split_command(c->command, err, sizeof err);
        if (c->error) {
            if (argv)
                fail_msg("case %zu split; expected \"%s\"", i, c->error);
            assert_contains(err, c->error);
            continue;
        }
        if (!argv)
            fail_msg("case %zu failed: %s", i, err);
        for (j = 0; c->words[j]; j++) {
            assert_non_null(argv[j]);
            assert_string_equal(argv[j], c->words[j]);
        }
        assert_null(argv[j]);
        awsconf_argv_free(argv);
    }
    assert_null(awsconf_split_command(NULL, err, sizeof err));
    awsconf_argv_free(NULL);
}

/* ------------------------------------------------------------------------
 * Credentials
 */
static void test_env_credentials(void **state)
{
    fixture *fx = *state;
    fx_env(fx, "AWS_ACCESS_KEY_ID", AKID);
    fx_env(fx, "AWS_SECRET_ACCESS_KEY", SECRET);
    fx_env(fx, "AWS_REGION", "eu-west-1");
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, AKID);
    assert_string_equal(awsconf_credentials(fx->conf)->secret_access_key, SECRET);
    assert_null(awsconf_credentials(fx->conf)->session_token);
    assert_string_equal(awsconf_source(fx->conf), "environment");
    assert_int_equal(awsconf_expiration(fx->conf), 0);
    assert_string_equal(awsconf_region(fx->conf), "eu-west-1");
    assert_string_equal(awsconf_endpoint(fx->conf), "https://lambda.eu-west-1.amazonaws.com");
    assert_null(awsconf_ca_bundle(fx->conf));

    fx_env(fx, "AWS_SESSION_TOKEN", TOKEN);
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->session_token, TOKEN);
    /* botocore reads the older AWS_SECURITY_TOKEN first. */
    fx_env(fx, "AWS_SECURITY_TOKEN", "OLDERTOKEN");
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->session_token, "OLDERTOKEN");
    fx_env(fx, "AWS_SECURITY_TOKEN", "");
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->session_token, TOKEN);

    fx_env(fx, "AWS_CREDENTIAL_EXPIRATION", "2999-01-01T00:00:00Z");
    fx_ok(fx);
    assert_int_equal(awsconf_expiration(fx->conf), 32472144000);
    fx_env(fx, "AWS_CREDENTIAL_EXPIRATION", "2001-01-01T00:00:00Z");
    fx_fails(fx, "the credentials in the environment have expired");
    fx_env(fx, "AWS_CREDENTIAL_EXPIRATION", "soon");
    fx_fails(fx, "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 timestamp");

    /* Accessors take NULL. */
    assert_null(awsconf_credentials(NULL));
    assert_null(awsconf_region(NULL));
    assert_null(awsconf_endpoint(NULL));
    assert_null(awsconf_ca_bundle(NULL));
    assert_null(awsconf_source(NULL));
    assert_int_equal(awsconf_expiration(NULL), 0);
    awsconf_free(NULL);
}

static void test_env_partial(void **state)
{
    fixture *fx = *state;
    fx_env(fx, "AWS_REGION", "eu-west-1");
    fx_env(fx, "AWS_ACCESS_KEY_ID", AKID);
    fx_fails(fx, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    fx_env(fx, "AWS_ACCESS_KEY_ID", NULL);
    fx_env(fx, "AWS_SECRET_ACCESS_KEY", SECRET);
    fx_fails(fx, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    /* Empty counts as unset: then the (absent) profile is tried. */
    fx_env(fx, "AWS_SECRET_ACCESS_KEY", "");
    fx_fails(fx, "no AWS credentials for profile \"default\"");
}

static void test_credential_characters(void **state)
{
    fixture *fx = *state;
    fx_env(fx, "AWS_REGION", "eu-west-1");
    fx_env(fx, "AWS_ACCESS_KEY_ID", AKID);
    fx_env(fx, "AWS_SECRET_ACCESS_KEY", SECRET "\r\nX-Injected: 1");
    fx_fails(fx, "environment: the secret access key holds a character no AWS key has");
    fx_env(fx, "AWS_SECRET_ACCESS_KEY", SECRET);
    fx_env(fx, "AWS_SESSION_TOKEN", TOKEN "\n");
    fx_fails(fx, "environment: the session token holds a character no AWS token has");
    fx_env(fx, "AWS_SESSION_TOKEN", NULL);
    fx_env(fx, "AWS_ACCESS_KEY_ID", AKID " ");
    fx_fails(fx, "environment: the access key id holds a character no AWS key has");
}

static void test_explicit_profile_beats_env(void **state)
{
    fixture *fx = *state;
    fx_write(fx, ".aws/credentials", "[staging]\n"
                                     "aws_access_key_id = AKIDSTAGING\n"
                                     "aws_secret_access_key = secret-staging\n");
    fx_env(fx, "AWS_ACCESS_KEY_ID", AKID);
    fx_env(fx, "AWS_SECRET_ACCESS_KEY", SECRET);
    fx_env(fx, "AWS_REGION", "eu-west-1");
    fx->opt.profile = "staging";
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, "AKIDSTAGING");
    assert_string_equal(awsconf_credentials(fx->conf)->secret_access_key, "secret-staging");
    assert_string_equal(awsconf_source(fx->conf),
                        "shared credentials file ~/.aws/credentials [profile staging]");
    /* An explicit profile without keys does not fall back to the environment. */
    fx_write(fx, ".aws/credentials", "[staging]\nregion = eu-west-1\n");
    fx_fails(fx, "no AWS credentials for profile \"staging\"");
    assert_not_contains(fx->err, "the environment");
}

static void test_env_beats_aws_profile(void **state)
{
    fixture *fx = *state;
    fx_write(fx, ".aws/credentials", "[staging]\n"
                                     "aws_access_key_id = AKIDSTAGING\n"
                                     "aws_secret_access_key = secret-staging\n");
    fx_write(fx, ".aws/config", "[profile staging]\nregion = ap-southeast-2\n");
    fx_env(fx, "AWS_PROFILE", "staging");
    fx_env(fx, "AWS_ACCESS_KEY_ID", AKID);
    fx_env(fx, "AWS_SECRET_ACCESS_KEY", SECRET);
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, AKID);
    assert_string_equal(awsconf_source(fx->conf), "environment");
    /* The region still comes from AWS_PROFILE's profile. */
    assert_string_equal(awsconf_region(fx->conf), "ap-southeast-2");
    fx_env(fx, "AWS_ACCESS_KEY_ID", NULL);
    fx_env(fx, "AWS_SECRET_ACCESS_KEY", NULL);
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, "AKIDSTAGING");
}

static void test_credentials_file_beats_config_file(void **state)
{
    fixture *fx = *state;
    char script[PATH_MAX];
    fx_path(fx, "creds.sh", script);
    fx_script(fx, "creds.sh",
              "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROCESS\", \"SecretAccessKey\": "
              "\"secret-process\"}'");
    fx_write(fx, ".aws/credentials", "[default]\n"
                                     "aws_access_key_id = AKIDCREDS\n"
                                     "aws_secret_access_key = secret-creds\n"
                                     "aws_session_token = token-creds\n");
    fx_writef(fx, ".aws/config",
              "[default]\n"
              "region = us-east-1\n"
              "aws_access_key_id = AKIDCONFIG\n"
              "aws_secret_access_key = secret-config\n"
              "credential_process = %s\n",
              script);
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, "AKIDCREDS");
    assert_string_equal(awsconf_credentials(fx->conf)->session_token, "token-creds");
    assert_string_equal(awsconf_source(fx->conf),
                        "shared credentials file ~/.aws/credentials [profile default]");
    /* Without the credentials file, botocore runs credential_process before the config's keys... */
    fx_write(fx, ".aws/credentials", "");
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, "AKIDPROCESS");
    assert_string_equal(awsconf_source(fx->conf), "credential_process [profile default] in ~/.aws/config");
    /* ...and the config's keys are the last resort. */
    fx_write(fx, ".aws/config", "[default]\n"
                                "region = us-east-1\n"
                                "aws_access_key_id = AKIDCONFIG\n"
                                "aws_secret_access_key = secret-config\n");
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, "AKIDCONFIG");
    assert_null(awsconf_credentials(fx->conf)->session_token);
    assert_string_equal(awsconf_source(fx->conf), "config file ~/.aws/config [profile default]");
    /* Half a key pair is an error naming the half that is missing. */
    fx_write(fx, ".aws/credentials", "[default]\naws_access_key_id = AKIDCREDS\n");
    fx_fails(fx, "shared credentials file ~/.aws/credentials [profile default] has "
                 "aws_access_key_id but no aws_secret_access_key");
    fx_write(fx, ".aws/credentials", "[default]\naws_secret_access_key = " SECRET "\n");
    fx_fails(fx, "has aws_secret_access_key but no aws_access_key_id");
}

static void test_config_profile_sections(void **state)
{
    fixture *fx = *state;
    fx_write(fx, ".aws/config", "[default]\n"
                                "region = eu-west-1\n"
                                "aws_access_key_id = AKIDPLAIN\n"
                                "aws_secret_access_key = s1\n"
                                "[profile default]\n"
                                "region = eu-west-2\n"
                                "aws_access_key_id = AKIDPROFILE\n"
                                "aws_secret_access_key = s2\n"
                                "[profile \"my dev\"]\n"
                                "region = eu-west-3\n"
                                "aws_access_key_id = AKIDMYDEV\n"
                                "aws_secret_access_key = s3\n"
                                "[dev]\n"
                                "aws_access_key_id = AKIDNOTAPROFILE\n"
                                "aws_secret_access_key = s4\n");
    /* [default] and [profile default] both name it; the later section wins, as in botocore. */
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, "AKIDPROFILE");
    assert_string_equal(awsconf_region(fx->conf), "eu-west-2");
    /* Profile names are shlex-split, so quotes allow spaces. */
    fx->opt.profile = "my dev";
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, "AKIDMYDEV");
    assert_string_equal(awsconf_source(fx->conf), "config file ~/.aws/config [profile my dev]");
    /* In the config file, [dev] is not a profile. */
    fx->opt.profile = "dev";
    fx_fails(fx, "profile \"dev\" (from --profile) not found");
}

static void test_file_locations(void **state)
{
    fixture *fx = *state;
    char elsewhere[PATH_MAX], cfg[PATH_MAX];
    fx_write(fx, ".aws/credentials", "[default]\n"
                                     "aws_access_key_id = AKIDHOME\n"
                                     "aws_secret_access_key = s\n");
    fx_write(fx, "other/creds", "[default]\n"
                                "aws_access_key_id = AKIDELSEWHERE\n"
                                "aws_secret_access_key = s\n");
    fx_write(fx, "other/cfg", "[default]\nregion = sa-east-1\n");
    fx_path(fx, "other/creds", elsewhere);
    fx_path(fx, "other/cfg", cfg);
    fx->opt.region = "us-east-1";
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, "AKIDHOME");
    fx_env(fx, "AWS_SHARED_CREDENTIALS_FILE", elsewhere);
    fx_env(fx, "AWS_CONFIG_FILE", cfg);
    fx->opt.region = NULL;
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, "AKIDELSEWHERE");
    assert_string_equal(awsconf_region(fx->conf), "sa-east-1");
    assert_contains(awsconf_source(fx->conf), elsewhere);
    /* "~" in a variable is expanded, as botocore's expanduser does. */
    fx_env(fx, "AWS_SHARED_CREDENTIALS_FILE", "~/other/creds");
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, "AKIDELSEWHERE");
    assert_string_equal(awsconf_source(fx->conf),
                        "shared credentials file ~/other/creds [profile default]");
}

static void test_file_problems(void **state)
{
    fixture *fx = *state;
    char dir[PATH_MAX];
    fx->opt.region = "us-east-1";
    /* A missing file is not an error; a directory in its place is. */
    fx_env(fx, "AWS_ACCESS_KEY_ID", AKID);
    fx_env(fx, "AWS_SECRET_ACCESS_KEY", SECRET);
    fx_ok(fx);
    fx_path(fx, "", dir);
    fx_env(fx, "AWS_CONFIG_FILE", dir);
    fx_fails(fx, ": not a regular file");
    fx_env(fx, "AWS_CONFIG_FILE", NULL);
    /* A syntax error names the file as configured, line and column. */
    fx_write(fx, ".aws/credentials", "[default]\naws_secret_access_key " SECRET "\n");
    fx_fails(fx, "~/.aws/credentials:2:1: expected 'key = value'");
    fx_write(fx, ".aws/credentials", "");
    fx_write(fx, ".aws/config", "[default]\n[default]\n");
    fx_fails(fx, "~/.aws/config:2:1: duplicate section [default] (first at line 1)");
}

static void test_missing_profile(void **state)
{
    fixture *fx = *state;
    fx->opt.region = "us-east-1";
    fx->opt.profile = "nope";
    fx_fails(fx, "profile \"nope\" (from --profile) not found: neither ~/.aws/credentials (no "
                 "such file) has [nope] nor ~/.aws/config (no such file) has [profile nope]");
    fx_write(fx, ".aws/credentials", "[other]\n");
    fx_write(fx, ".aws/config", "[profile other]\n");
    fx_fails(fx, "profile \"nope\" (from --profile) not found: neither ~/.aws/credentials has "
                 "[nope] nor ~/.aws/config has [profile nope]");
    /* AWS_PROFILE must name a profile too (botocore's ProfileNotFound)... */
    fx->opt.profile = NULL;
    fx_env(fx, "AWS_PROFILE", "gone");
    fx_fails(fx, "profile \"gone\" (from AWS_PROFILE) not found");
    /* ...even with keys in the environment. */
    fx_env(fx, "AWS_ACCESS_KEY_ID", AKID);
    fx_env(fx, "AWS_SECRET_ACCESS_KEY", SECRET);
    fx_fails(fx, "profile \"gone\" (from AWS_PROFILE) not found");
    /* The implicit default need not exist. */
    fx_env(fx, "AWS_PROFILE", NULL);
    fx_ok(fx);
}

static void test_no_credentials(void **state)
{
    fixture *fx = *state;
    fx->opt.region = "us-east-1";
    fx_fails(fx, "no AWS credentials for profile \"default\": looked at the environment "
                 "(AWS_ACCESS_KEY_ID), ~/.aws/credentials (no such file) and ~/.aws/config (no "
                 "such file); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    fx_write(fx, ".aws/credentials", "[other]\n");
    fx_write(fx, ".aws/config", "[default]\nregion = us-east-1\n");
    fx_fails(fx, "~/.aws/credentials (no [default]) and ~/.aws/config [default] (no keys, no "
                 "credential_process)");
}

static void test_unsupported_profiles(void **state)
{
    fixture *fx = *state;
    fx_write(fx, ".aws/config", "[profile admin]\n"
                                "role_arn = arn:aws:iam::123456789012:role/Admin\n"
                                "source_profile = base\n"
                                "[profile base]\n"
                                "aws_access_key_id = AKIDBASE\n"
                                "aws_secret_access_key = s\n"
                                "[profile sso]\n"
                                "sso_session = corp\n"
                                "sso_account_id = 123456789012\n"
                                "sso_role_name = Admin\n"
                                "[profile half]\n"
                                "sso_session = corp\n"
                                "[profile chained]\n"
                                "source_profile = base\n");
    fx_write(fx, ".aws/credentials", "[admin]\n"
                                     "aws_access_key_id = AKIDADMIN\n"
                                     "aws_secret_access_key = s\n");
    fx->opt.region = "us-east-1";
    /* botocore assumes the role even though the profile has keys: using them would be someone else. */
    fx->opt.profile = "admin";
    fx_fails(fx, "profile \"admin\" gets its credentials through assume-role (role_arn), which "
                 "coldsec does not support; add a profile with credential_process = aws configure "
                 "export-credentials --profile admin --format process, and use that one");
    fx->opt.profile = "sso";
    fx_fails(fx, "through IAM Identity Center (sso_account_id)");
    fx->opt.profile = "half";
    fx_fails(fx, "through IAM Identity Center (sso_session)");
    fx->opt.profile = "chained";
    fx_fails(fx, "through assume-role (source_profile)");
    fx->opt.profile = "base";
    fx_ok(fx);
    /* Web identity from the environment comes before any profile without --profile. */
    fx_env(fx, "AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token");
    fx_ok(fx);
    fx->opt.profile = NULL;
    fx_env(fx, "AWS_PROFILE", "base");
    fx_fails(fx, "AWS_WEB_IDENTITY_TOKEN_FILE is set");
}

/* ------------------------------------------------------------------------
 * Region, endpoint, CA bundle
 */
static void keys_in_env(fixture *fx)
{
    fx_env(fx, "AWS_ACCESS_KEY_ID", AKID);
    fx_env(fx, "AWS_SECRET_ACCESS_KEY", SECRET);
}

static void test_region_order(void **state)
{
    fixture *fx = *state;
    keys_in_env(fx);
    fx_write(fx, ".aws/credentials", "[staging]\n");
    fx_write(fx, ".aws/config", "[profile staging]\nregion = eu-central-1\n");
    fx_fails(fx, "no AWS region: pass --region, set AWS_REGION, or add region = ... to [default] "
                 "in ~/.aws/config");
    fx_env(fx, "AWS_PROFILE", "staging");
    fx_ok(fx);
    assert_string_equal(awsconf_region(fx->conf), "eu-central-1");
    fx_env(fx, "AWS_DEFAULT_REGION", "us-east-2");
    fx_ok(fx);
    assert_string_equal(awsconf_region(fx->conf), "us-east-2");
    fx_env(fx, "AWS_REGION", "us-west-2");
    fx_ok(fx);
    assert_string_equal(awsconf_region(fx->conf), "us-west-2");
    fx->opt.region = "ap-south-1";
    fx_ok(fx);
    assert_string_equal(awsconf_region(fx->conf), "ap-south-1");
    /* The credentials file's profile counts too: botocore merges it over the config's. */
    fx->opt.region = NULL;
    fx_env(fx, "AWS_REGION", NULL);
    fx_env(fx, "AWS_DEFAULT_REGION", NULL);
    fx_write(fx, ".aws/credentials", "[staging]\nregion = me-south-1\n");
    fx_ok(fx);
    assert_string_equal(awsconf_region(fx->conf), "me-south-1");
}

static void test_region_invalid(void **state)
{
    fixture *fx = *state;
    keys_in_env(fx);
    fx_env(fx, "AWS_REGION", "us east 1");
    fx_fails(fx, "the region from AWS_REGION is not a valid region name");
    fx_env(fx, "AWS_REGION", NULL);
    fx_write(fx, ".aws/config", "[default]\nregion = evil.example.com/\n");
    fx_fails(fx, "the region from region of profile \"default\" in ~/.aws/config is not a valid");
    fx->opt.region = "-bad";
    fx_fails(fx, "the region from --region is not a valid region name");
    fx->opt.region = "12345";
    fx_fails(fx, "the region from --region is not a valid region name");
}

static void test_endpoint_order(void **state)
{
    fixture *fx = *state;
    keys_in_env(fx);
    fx_write(fx, ".aws/config", "[default]\n"
                                "region = us-east-1\n"
                                "endpoint_url = http://profile:1\n");
    fx->opt.endpoint = "http://opt:1/";
    fx_env(fx, "AWS_ENDPOINT_URL_LAMBDA", "http://lambda-env:2");
    fx_env(fx, "AWS_ENDPOINT_URL", "http://global-env:3");
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "http://opt:1");
    fx->opt.endpoint = NULL;
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "http://lambda-env:2");
    fx_env(fx, "AWS_ENDPOINT_URL_LAMBDA", NULL);
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "http://global-env:3");
    fx_env(fx, "AWS_ENDPOINT_URL", NULL);
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "http://profile:1");
    fx_write(fx, ".aws/config", "[default]\nregion = us-east-1\n");
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "https://lambda.us-east-1.amazonaws.com");
    /* One trailing slash goes; a path stays; the scheme is lower-cased. */
    fx->opt.endpoint = "HTTPS://LocalHost:4566/prefix//";
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "https://LocalHost:4566/prefix/");
}

static void test_endpoint_ignore_flag(void **state)
{
    fixture *fx = *state;
    keys_in_env(fx);
    fx_write(fx, ".aws/config", "[default]\n"
                                "region = eu-west-1\n"
                                "endpoint_url = http://profile:1\n");
    fx_env(fx, "AWS_ENDPOINT_URL_LAMBDA", "http://lambda-env:2");
    fx_env(fx, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "True");
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "https://lambda.eu-west-1.amazonaws.com");
    /* The flag ignores configuration, not what the caller passes. */
    fx->opt.endpoint = "http://opt:1";
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "http://opt:1");
    fx->opt.endpoint = NULL;
    fx_env(fx, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false");
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "http://lambda-env:2");
    /* The profile may set it too; the variable, when set, wins. */
    fx_write(fx, ".aws/config", "[default]\n"
                                "region = eu-west-1\n"
                                "endpoint_url = http://profile:1\n"
                                "ignore_configured_endpoint_urls = true\n");
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "http://lambda-env:2");
    fx_env(fx, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", NULL);
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "https://lambda.eu-west-1.amazonaws.com");
}

static void test_endpoint_services_section(void **state)
{
    fixture *fx = *state;
    keys_in_env(fx);
    fx_write(fx, ".aws/config", "[default]\n"
                                "region = eu-west-1\n"
                                "services = local\n"
                                "endpoint_url = http://profile:1\n"
                                "[services local]\n"
                                "s3 =\n"
                                "  endpoint_url = http://s3:1\n"
                                "lambda =\n"
                                "  endpoint_url = http://localhost:4566/\n");
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "http://localhost:4566");
    /* botocore: AWS_ENDPOINT_URL beats the services section, which beats endpoint_url. */
    fx_env(fx, "AWS_ENDPOINT_URL", "http://global-env:3");
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "http://global-env:3");
    fx_env(fx, "AWS_ENDPOINT_URL", NULL);
    fx_write(fx, ".aws/config", "[default]\n"
                                "region = eu-west-1\n"
                                "services = local\n"
                                "endpoint_url = http://profile:1\n"
                                "[services local]\n"
                                "s3 =\n"
                                "  endpoint_url = http://s3:1\n");
    fx_ok(fx);
    assert_string_equal(awsconf_endpoint(fx->conf), "http://profile:1");
    fx_write(fx, ".aws/config", "[default]\nregion = eu-west-1\nservices = gone\n");
    fx_fails(fx, "[default] in ~/.aws/config sets services = gone, but ~/.aws/config has no "
                 "[services gone] section");
}

static void test_endpoint_partitions(void **state)
{
    static const char *const cases[][2] = {
        {"us-east-1", "https://lambda.us-east-1.amazonaws.com"},
        {"us-gov-west-1", "https://lambda.us-gov-west-1.amazonaws.com"},
        {"cn-north-1", "https://lambda.cn-north-1.amazonaws.com.cn"},
        {"cn-northwest-1", "https://lambda.cn-northwest-1.amazonaws.com.cn"},
        {"us-iso-east-1", "https://lambda.us-iso-east-1.c2s.ic.gov"},
        {"us-isob-east-1", "https://lambda.us-isob-east-1.sc2s.sgov.gov"},
    };
    fixture *fx = *state;
    size_t i;
    keys_in_env(fx);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx->opt.region = cases[i][0];
        fx_ok(fx);
        assert_string_equal(awsconf_endpoint(fx->conf), cases[i][1]);
    }
}

static void test_endpoint_invalid(void **state)
{
    static const char *const cases[][2] = {
        {"ftp://host", "does not start with http:// or https://"},
        {"localhost:4566", "does not start with http:// or https://"},
        {"http://", "has no host"},
        {"http:///path", "has no host"},
        {"http://a b", "holds a space"},
        {"http://host/\n", "holds a space, a control"},
        {"http://host/?x=1", "has a query or a fragment"},
        {"http://user:" SECRET "@host", "holds a user name or password"},
    };
    fixture *fx = *state;
    size_t i;
    keys_in_env(fx);
    fx->opt.region = "us-east-1";
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx->opt.endpoint = cases[i][0];
        fx_fails(fx, cases[i][1]);
        assert_contains(fx->err, "the endpoint from --endpoint ");
    }
    fx->opt.endpoint = NULL;
    fx_env(fx, "AWS_ENDPOINT_URL_LAMBDA", "localhost:4566");
    fx_fails(fx, "the endpoint from AWS_ENDPOINT_URL_LAMBDA does not start with http://");
    fx_env(fx, "AWS_ENDPOINT_URL_LAMBDA", NULL);
    fx_write(fx, ".aws/config", "[default]\nendpoint_url = localhost\n");
    fx_fails(fx, "the endpoint from endpoint_url of profile \"default\" in ~/.aws/config does "
                 "not start");
}

static void test_ca_bundle_order(void **state)
{
    fixture *fx = *state;
    keys_in_env(fx);
    fx->opt.region = "us-east-1";
    fx_write(fx, ".aws/config", "[default]\nca_bundle = /profile/ca.pem\n");
    fx_ok(fx);
    assert_string_equal(awsconf_ca_bundle(fx->conf), "/profile/ca.pem");
    fx_env(fx, "AWS_CA_BUNDLE", "/env/ca.pem");
    fx_ok(fx);
    assert_string_equal(awsconf_ca_bundle(fx->conf), "/env/ca.pem");
    fx->opt.ca_bundle = "/opt/ca.pem";
    fx_ok(fx);
    assert_string_equal(awsconf_ca_bundle(fx->conf), "/opt/ca.pem");
}

static void test_bad_arguments(void **state)
{
    fixture *fx = *state;
    awsconf *c = (awsconf *)1;
    char err[ERR_LEN];
    assert_int_equal(awsconf_resolve(NULL, &c, err, sizeof err), -1);
    assert_null(c);
    assert_int_equal(awsconf_resolve(&fx->opt, NULL, err, sizeof err), -1);
    fx->opt.credential_process_timeout_s = -1;
    fx_fails(fx, "credential_process timeout must be 0");
    /* NULL err is allowed. */
    assert_int_equal(awsconf_resolve(NULL, &c, NULL, 0), -1);
}

/* ------------------------------------------------------------------------
 * credential_process
 */
#define GOOD_JSON                                                                          \
    "{\"Version\": 1, \"AccessKeyId\": \"" AKID "\", \"SecretAccessKey\": \"" SECRET "\", " \
    "\"SessionToken\": \"" TOKEN "\", \"Expiration\": \"2999-12-31T23:59:59.123+01:00\"}"

/* A profile "ci" whose credential_process is `script` (quoted as given) plus args. */
static void process_profile(fixture *fx, const char *rel, const char *body, const char *args)
{
    char script[PATH_MAX];
    fx_path(fx, rel, script);
    fx_script(fx, rel, body);
    fx_writef(fx, ".aws/config",
              "[profile ci]\n"
              "region = eu-west-1\n"
              "credential_process = '%s'%s\n",
              script, args);
    fx->opt.profile = "ci";
}

static void test_process_success(void **state)
{
    fixture *fx = *state;
    const sigv4_credentials *cr;
    process_profile(fx, "creds.sh", "cat <<'EOF'\n" GOOD_JSON "\nEOF", "");
    fx_ok(fx);
    cr = awsconf_credentials(fx->conf);
    assert_string_equal(cr->access_key_id, AKID);
    assert_string_equal(cr->secret_access_key, SECRET);
    assert_string_equal(cr->session_token, TOKEN);
    assert_int_equal(awsconf_expiration(fx->conf), 32503676399); /* 2999-12-31T22:59:59Z */
    assert_string_equal(awsconf_source(fx->conf), "credential_process [profile ci] in ~/.aws/config");
    /* No token, no expiration, a null token, whitespace around the object. */
    process_profile(fx, "creds.sh",
                    "printf '\\n {\"Version\":1,\"AccessKeyId\":\"AKIDX\",\"SecretAccessKey\":"
                    "\"sx\",\"SessionToken\":null} \\n\\n'",
                    "");
    fx_ok(fx);
    assert_null(awsconf_credentials(fx->conf)->session_token);
    assert_int_equal(awsconf_expiration(fx->conf), 0);
    /* Environment keys do not stop an explicit profile's process. */
    keys_in_env(fx);
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, "AKIDX");
}

static void test_process_quoted_arguments(void **state)
{
    fixture *fx = *state;
    char args_file[PATH_MAX], got[TEXT_MAX];
    FILE *f;
    size_t n;
    fx_path(fx, "args.txt", args_file);
    /* The script lives in a folder with a space and writes each argument on its own line. */
    process_profile(fx, "my tools/creds.sh",
                    "for a in \"$@\"; do printf '<%s>\\n' \"$a\"; done > \"$(dirname \"$0\")/../args.txt\"\n"
                    "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDQ\", \"SecretAccessKey\": \"sq\"}'",
                    " --profile \"two words\" 'single $HOME' back\\ slash \"esc\\\"aped\" '' x\"y z\"");
    fx_ok(fx);
    f = fopen(args_file, "r");
    assert_non_null(f);
    n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    assert_string_equal(got, "<--profile>\n<two words>\n<single $HOME>\n<back slash>\n"
                             "<esc\"aped>\n<>\n<xy z>\n");
    /* A command that cannot be split names the profile, not its text. */
    fx_write(fx, ".aws/config", "[profile ci]\nregion = eu-west-1\ncredential_process = get "
                                "--secret " SECRET " 'oops\n");
    fx_fails(fx, "credential_process of profile \"ci\" in ~/.aws/config cannot be run: a quote is "
                 "not closed");
}

static void test_process_descriptors(void **state)
{
    fixture *fx = *state;
    char body[TEXT_MAX], out[PATH_MAX], got[TEXT_MAX];
    int fd = open("/dev/null", O_RDONLY); /* inheritable on purpose */
    FILE *f;
    size_t n;
    assert_true(fd > 2);
    fx_path(fx, "fds.txt", out);
    /* stdin is /dev/null and nothing but 0-2 reaches the tool, as with Python's Popen. */
    assert_true(snprintf(body, sizeof body,
                         "{ readlink /proc/self/fd/0; [ -e /proc/self/fd/%d ] && echo leaked; } > '%s'\n"
                         "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDFD\", \"SecretAccessKey\": \"s\"}'",
                         fd, out) < (int)sizeof body);
    process_profile(fx, "creds.sh", body, "");
    fx_ok(fx);
    close(fd);
    f = fopen(out, "r");
    assert_non_null(f);
    n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    assert_string_equal(got, "/dev/null\n");
}

static void test_process_version(void **state)
{
    fixture *fx = *state;
    process_profile(fx, "creds.sh",
                    "echo '{\"Version\": 2, \"AccessKeyId\": \"" AKID "\", \"SecretAccessKey\": \"" SECRET
                    "\", \"SessionToken\": \"" TOKEN "\"}'",
                    "");
    fx_fails(fx, "printed no \"Version\": 1, the only version AWS tools support");
    assert_contains(fx->err, "credential_process of profile \"ci\" in ~/.aws/config: \"");
    assert_contains(fx->err, "creds.sh\"");
    process_profile(fx, "creds.sh",
                    "echo '{\"Version\": \"1\", \"AccessKeyId\": \"" AKID "\", \"SecretAccessKey\": \"" SECRET "\"}'",
                    "");
    fx_fails(fx, "printed no \"Version\": 1");
    process_profile(fx, "creds.sh",
                    "echo '{\"AccessKeyId\": \"" AKID "\", \"SecretAccessKey\": \"" SECRET "\"}'", "");
    fx_fails(fx, "printed no \"Version\": 1");
}

static void test_process_exit_status(void **state)
{
    fixture *fx = *state;
    process_profile(fx, "creds.sh",
                    "echo '" GOOD_JSON "'\n"
                    "echo 'creds.sh: failing on purpose (test)' >&2\n"
                    "exit 3",
                    "");
    fx_fails(fx, "creds.sh\" exited with status 3 (its stderr, if any, is above)");
    process_profile(fx, "creds.sh", "echo '" GOOD_JSON "'\nkill -9 $$", "");
    fx_fails(fx, "creds.sh\" was killed by signal 9");
}

static void test_process_timeout(void **state)
{
    fixture *fx = *state;
    time_t start = time(NULL);
    fx->opt.credential_process_timeout_s = 1;
    process_profile(fx, "creds.sh", "echo '" GOOD_JSON "'\nexec sleep 30", "");
    fx_fails(fx, "creds.sh\" did not finish within 1 s and was killed");
    assert_true(time(NULL) - start < 10);
    /* A child that closes stdout but lingers is held to the same deadline. */
    process_profile(fx, "creds.sh", "echo '" GOOD_JSON "'\nexec sleep 30 >/dev/null", "");
    fx_fails(fx, "did not finish within 1 s and was killed");
    assert_true(time(NULL) - start < 10);
}

static void test_process_too_large(void **state)
{
    fixture *fx = *state;
    process_profile(fx, "creds.sh",
                    "echo '" GOOD_JSON "'\n"
                    "head -c 70000 /dev/zero | tr '\\0' ' '",
                    "");
    fx_fails(fx, "creds.sh\" printed more than 64 KiB; its output was discarded");
    /* Exactly at the cap is read whole (and here is valid JSON padded with spaces). */
    process_profile(fx, "creds.sh",
                    "printf '%s' '{\"Version\":1,\"AccessKeyId\":\"AKIDBIG\",\"SecretAccessKey\":\"sb\"}'\n"
                    "head -c $((65536 - 60)) /dev/zero | tr '\\0' ' '",
                    "");
    fx_ok(fx);
    assert_string_equal(awsconf_credentials(fx->conf)->access_key_id, "AKIDBIG");
}

static void test_process_expired(void **state)
{
    fixture *fx = *state;
    process_profile(fx, "creds.sh",
                    "echo '{\"Version\": 1, \"AccessKeyId\": \"" AKID "\", \"SecretAccessKey\": \"" SECRET
                    "\", \"SessionToken\": \"" TOKEN "\", \"Expiration\": \"2001-01-01T00:00:00Z\"}'",
                    "");
    fx_fails(fx, "printed credentials that have already expired (Expiration is in the past)");
    process_profile(fx, "creds.sh",
                    "echo '{\"Version\": 1, \"AccessKeyId\": \"" AKID "\", \"SecretAccessKey\": \"" SECRET
                    "\", \"Expiration\": \"tomorrow\"}'",
                    "");
    fx_fails(fx, "printed an Expiration that is not an ISO 8601 timestamp");
}

static void test_process_bad_output(void **state)
{
    static const char *const outputs[][2] = {
        {"{\"Version\": 1, \"AccessKeyId\": \"" AKID "\", \"SecretAccessKey\": \"" SECRET,
         "did not print a JSON object (its output is not shown: it holds secrets)"},
        {"{\"Version\": 1, \"AccessKeyId\": \"" AKID "\", \"SecretAccessKey\": \"" SECRET "\"} trailing",
         "did not print a JSON object"},
        {"[\"" SECRET "\"]", "did not print a JSON object"},
        {"", "did not print a JSON object"},
        {"{\"Version\": 1, \"AccessKeyId\": \"" AKID "\"}", "printed no SecretAccessKey string"},
        {"{\"Version\": 1, \"SecretAccessKey\": \"" SECRET "\"}", "printed no AccessKeyId string"},
        {"{\"Version\": 1, \"AccessKeyId\": 5, \"SecretAccessKey\": \"" SECRET "\"}",
         "printed no AccessKeyId string"},
        {"{\"Version\": 1, \"AccessKeyId\": \"" AKID "\", \"SecretAccessKey\": \"" SECRET
         "\", \"SessionToken\": 7}",
         "printed a SessionToken that is not a string"},
        {"{\"Version\": 1, \"AccessKeyId\": \"" AKID "\", \"SecretAccessKey\": \"" SECRET
         "\\r\\nX: y\"}",
         "the secret access key holds a character no AWS key has"},
    };
    fixture *fx = *state;
    char body[TEXT_MAX];
    size_t i;
    for (i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        assert_true(snprintf(body, sizeof body, "cat <<'EOF'\n%s\nEOF", outputs[i][0]) <
                    (int)sizeof body);
        process_profile(fx, "creds.sh", body, "");
        fx_fails(fx, outputs[i][1]);
    }
}

static void test_process_cannot_start(void **state)
{
    fixture *fx = *state;
    fx_write(fx, ".aws/config", "[profile ci]\n"
                                "region = eu-west-1\n"
                                "credential_process = /nonexistent/get-creds --token " SECRET "\n");
    fx->opt.profile = "ci";
    fx_fails(fx, "credential_process of profile \"ci\" in ~/.aws/config: \"/nonexistent/get-creds\" "
                 "cannot be started: No such file or directory");
    /* The credentials file may hold credential_process too. */
    fx_write(fx, ".aws/credentials", "[ci]\ncredential_process = /nonexistent/other\n");
    fx_fails(fx, "credential_process of profile \"ci\" in ~/.aws/credentials: "
                 "\"/nonexistent/other\" cannot be started");
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ini_syntax),
        cmocka_unit_test(test_ini_continuation_and_nested),
        cmocka_unit_test(test_ini_default_section),
        cmocka_unit_test(test_ini_line_endings),
        cmocka_unit_test(test_ini_errors),
        cmocka_unit_test(test_ini_errors_never_quote_lines),
        cmocka_unit_test(test_ini_limits),
        cmocka_unit_test(test_ini_mutations),
        cmocka_unit_test(test_split_command),
        cmocka_unit_test_setup_teardown(test_env_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credential_characters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_profile_beats_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_beats_aws_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credentials_file_beats_config_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_profile_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_locations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_profiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_region_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_region_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_ignore_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_services_section, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_partitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_bundle_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_quoted_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_exit_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_bad_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_cannot_start, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
