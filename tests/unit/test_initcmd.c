/*
 * Unit tests for initcmd's pure parts: the runtime a folder's file names
 * suggest (and the ambiguous cases left to the user), the handler found in
 * a file's text (Python defs, CommonJS and ESM exports, look-alikes that
 * are not handlers), {{user.id}} placed at a given pointer or at a guessed
 * identity field (inside a JSON-string body too), and sample event files:
 * the envelope recognised, the body taken as the baseline, and a parse
 * error's file:line:column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "initcmd.h"

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    return j;
}

static void assert_json(const cJSON *j, const char *want)
{
    char *s = cJSON_PrintUnformatted(j);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

static void test_runtime_guess(void **state)
{
    const char *py[] = {"handler.py", "requirements.txt"};
    const char *node[] = {"package.json", "README.md"};
    const char *mjs[] = {"app.mjs"};
    const char *both[] = {"handler.py", "index.js"};
    const char *none[] = {"main.go", "Makefile"};
    (void)state;
    assert_int_equal(initcmd_guess_runtime(py, 2), INITCMD_RUNTIME_PYTHON);
    assert_int_equal(initcmd_guess_runtime(node, 2), INITCMD_RUNTIME_NODE);
    assert_int_equal(initcmd_guess_runtime(mjs, 1), INITCMD_RUNTIME_NODE);
    assert_int_equal(initcmd_guess_runtime(both, 2), INITCMD_RUNTIME_UNKNOWN);
    assert_int_equal(initcmd_guess_runtime(none, 2), INITCMD_RUNTIME_UNKNOWN);
    assert_int_equal(initcmd_guess_runtime(NULL, 0), INITCMD_RUNTIME_UNKNOWN);
}

static void test_handler_python(void **state)
{
    char out[64];
    (void)state;
    assert_int_equal(initcmd_guess_handler(INITCMD_RUNTIME_PYTHON, "handler.py",
                                           "import json\n\ndef handler(event, context):\n    return 1\n", out,
                                           sizeof(out)),
                     1);
    assert_string_equal(out, "handler.handler");
    assert_int_equal(initcmd_guess_handler(INITCMD_RUNTIME_PYTHON, "app.py",
                                           "async def lambda_handler (event, ctx):\n    pass\n", out, sizeof(out)),
                     1);
    assert_string_equal(out, "app.lambda_handler");
    /* A method, a longer name, a comment: not a handler. */
    assert_int_equal(initcmd_guess_handler(INITCMD_RUNTIME_PYTHON, "x.py",
                                           "class A:\n    def handler(self):\n        pass\n"
                                           "def handler_v2(e, c):\n    pass\n# def handler(e, c):\n",
                                           out, sizeof(out)),
                     0);
    assert_int_equal(initcmd_guess_handler(INITCMD_RUNTIME_PYTHON, "handler.py", "def handler(e, c): pass\n", out,
                                           8),
                     -1);
}

static void test_handler_node(void **state)
{
    char out[64];
    (void)state;
    assert_int_equal(initcmd_guess_handler(INITCMD_RUNTIME_NODE, "index.js",
                                           "'use strict';\nexports.handler = async (event) => event;\n", out,
                                           sizeof(out)),
                     1);
    assert_string_equal(out, "index.handler");
    assert_int_equal(initcmd_guess_handler(INITCMD_RUNTIME_NODE, "main.cjs",
                                           "module.exports.handler = function (e, c, cb) { cb(null, 1); };\n", out,
                                           sizeof(out)),
                     1);
    assert_string_equal(out, "main.handler");
    assert_int_equal(initcmd_guess_handler(INITCMD_RUNTIME_NODE, "app.mjs",
                                           "import x from 'y';\nexport async function handler(event) {}\n", out,
                                           sizeof(out)),
                     1);
    assert_string_equal(out, "app.handler");
    assert_int_equal(initcmd_guess_handler(INITCMD_RUNTIME_NODE, "app.mjs", "  export const handler = () => 1;\n",
                                           out, sizeof(out)),
                     1);
    /* A comparison, a longer name, a call: not definitions. */
    assert_int_equal(initcmd_guess_handler(INITCMD_RUNTIME_NODE, "x.js",
                                           "if (exports.handler == null) {}\nexports.handlerX = 1;\nhandler();\n",
                                           out, sizeof(out)),
                     0);
    assert_int_equal(initcmd_guess_handler(INITCMD_RUNTIME_NODE, "noext", "exports.handler = 1;\n", out, sizeof(out)),
                     -1);
}

static void test_identity_at_pointer(void **state)
{
    cJSON *ev = parse("{\"order\":{\"owner\":{\"handle\":\"ann\"}},\"user_id\":\"u-1\"}");
    char placed[128], err[256];
    (void)state;
    assert_int_equal(initcmd_place_identity(&ev, "/order/owner/handle", placed, sizeof(placed), err, sizeof(err)),
                     1);
    assert_string_equal(placed, "/order/owner/handle");
    /* The pointer given wins over the field a guess would take. */
    assert_json(ev, "{\"order\":{\"owner\":{\"handle\":\"{{user.id}}\"}},\"user_id\":\"u-1\"}");
    assert_int_equal(initcmd_place_identity(&ev, "/order/nope", placed, sizeof(placed), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no such field"));
    assert_int_equal(initcmd_place_identity(&ev, "/order", placed, sizeof(placed), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a string or a number"));
    cJSON_Delete(ev);
}

static void test_identity_guessed(void **state)
{
    struct {
        const char *in, *placed, *out;
    } cases[] = {
        {"{\"item\":\"book\",\"userId\":\"u-1\"}", "/userId", "{\"item\":\"book\",\"userId\":\"{{user.id}}\"}"},
        {"{\"customer\":{\"id\":42,\"name\":\"Ann\"}}", "/customer/id",
         "{\"customer\":{\"id\":\"{{user.id}}\",\"name\":\"Ann\"}}"},
        {"{\"claims\":{\"SUB\":\"abc\"}}", "/claims/SUB", "{\"claims\":{\"SUB\":\"{{user.id}}\"}}"},
        {"{\"Records\":[{\"body\":\"{\\\"user_id\\\":\\\"u\\\",\\\"n\\\":1}\"}]}", "/Records/0/body/user_id",
         "{\"Records\":[{\"body\":\"{\\\"user_id\\\":\\\"{{user.id}}\\\",\\\"n\\\":1}\"}]}"},
    };
    char placed[128], err[256];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *ev = parse(cases[i].in);
        assert_int_equal(initcmd_place_identity(&ev, NULL, placed, sizeof(placed), err, sizeof(err)), 1);
        assert_string_equal(placed, cases[i].placed);
        assert_json(ev, cases[i].out);
        cJSON_Delete(ev);
    }
    {
        /* Nothing like an identity (a "user" object is not a leaf): 0, unchanged. */
        cJSON *ev = parse("{\"item\":\"book\",\"user\":{\"name\":\"x\"},\"users\":\"many\"}");
        assert_int_equal(initcmd_place_identity(&ev, NULL, placed, sizeof(placed), err, sizeof(err)), 0);
        assert_json(ev, "{\"item\":\"book\",\"user\":{\"name\":\"x\"},\"users\":\"many\"}");
        cJSON_Delete(ev);
    }
}

static char *write_tmp(const char *text)
{
    static const char tmpl[] = "/tmp/coldsec-unit-initcmd-XXXXXX";
    char *path = strdup(tmpl);
    int fd;
    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_read_event(void **state)
{
    char err[512], want[512];
    cJSON *b = NULL;
    event_envelope env;
    char *v2 = write_tmp("{\"version\":\"2.0\",\"requestContext\":{\"http\":{\"method\":\"POST\"},"
                         "\"domainName\":\"a.execute-api.us-east-1.amazonaws.com\"},\"body\":\"{\\\"a\\\":1}\"}");
    char *url = write_tmp("{\"version\":\"2.0\",\"requestContext\":{\"http\":{\"method\":\"GET\"},"
                          "\"domainName\":\"x.lambda-url.eu-west-1.on.aws\"}}");
    char *v1 = write_tmp("{\"httpMethod\":\"POST\",\"resource\":\"/\",\"requestContext\":{},\"body\":\"{}\"}");
    char *raw = write_tmp("[1, 2]\n");
    char *bad = write_tmp("{\n  \"a\": [1,\n   2,, 3]\n}\n");
    char *b64 = write_tmp("{\"version\":\"2.0\",\"requestContext\":{\"http\":{}},\"body\":\"e30=\",\"isBase64Encoded\":true}");
    (void)state;

    assert_int_equal(initcmd_read_event(v2, &b, &env, err, sizeof(err)), 0);
    assert_int_equal(env, EVENT_ENVELOPE_APIGW_V2);
    assert_json(b, "{\"a\":1}");
    cJSON_Delete(b);
    assert_int_equal(initcmd_read_event(url, &b, &env, err, sizeof(err)), 0);
    assert_int_equal(env, EVENT_ENVELOPE_FUNCTION_URL);
    assert_json(b, "{}");
    cJSON_Delete(b);
    assert_int_equal(initcmd_read_event(v1, &b, &env, err, sizeof(err)), 0);
    assert_int_equal(env, EVENT_ENVELOPE_APIGW_V1);
    cJSON_Delete(b);
    assert_int_equal(initcmd_read_event(raw, &b, &env, err, sizeof(err)), 0);
    assert_int_equal(env, EVENT_ENVELOPE_RAW);
    assert_json(b, "[1,2]");
    cJSON_Delete(b);
    assert_int_equal(initcmd_read_event(bad, &b, &env, err, sizeof(err)), -1);
    assert_null(b);
    snprintf(want, sizeof(want), "%s:3:6: not JSON", bad);
    assert_non_null(strstr(err, want));
    assert_int_equal(initcmd_read_event(b64, &b, &env, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "base64"));
    assert_int_equal(initcmd_read_event("/nonexistent/coldsec-event.json", &b, &env, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/coldsec-event.json: "));

    for (char **p = (char *[]){v2, url, v1, raw, bad, b64, NULL}; *p; p++) {
        unlink(*p);
        free(*p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_guess),     cmocka_unit_test(test_handler_python),
        cmocka_unit_test(test_handler_node),      cmocka_unit_test(test_identity_at_pointer),
        cmocka_unit_test(test_identity_guessed),  cmocka_unit_test(test_read_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
