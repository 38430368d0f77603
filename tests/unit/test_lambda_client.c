/*
 * Unit tests for lambda_client's pure parts: the path encoding botocore
 * uses for a function name (so ARNs and qualifiers sign as AWS expects),
 * the user-facing error line, and endpoint validation. The wire behaviour
 * (signing, retries, caps) is tested against the lab and against hostile
 * servers in tests/integration/test_driver*.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lambda_client.h"

static void test_encode_component(void **state)
{
    char out[256];
    (void)state;
    assert_int_equal(lambda_encode_component("orders", out, sizeof(out)), 6);
    assert_string_equal(out, "orders");
    lambda_encode_component("arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST", out, sizeof(out));
    assert_string_equal(out, "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders%3A%24LATEST");
    lambda_encode_component("a b/c~d_e.f", out, sizeof(out));
    assert_string_equal(out, "a%20b%2Fc~d_e.f");
    lambda_encode_component("\xc3\xa9", out, sizeof(out));
    assert_string_equal(out, "%C3%A9");
    assert_int_equal(lambda_encode_component("abc", out, 3), -1);
    assert_int_equal(lambda_encode_component(":", out, 3), -1);
    assert_int_equal(lambda_encode_component(":", out, 4), 3);
}

static void test_error_line(void **state)
{
    lambda_error e = {.op = "Invoke", .function = "orders", .http_status = 429,
                      .code = "TooManyRequestsException", .message = "Rate Exceeded.",
                      .reason = "ReservedFunctionConcurrentInvocationLimitExceeded"};
    char line[512];
    (void)state;
    lambda_error_format(&e, line, sizeof(line));
    assert_string_equal(line, "Invoke orders: HTTP 429 TooManyRequestsException: Rate Exceeded. "
                              "(Reason: ReservedFunctionConcurrentInvocationLimitExceeded)");
    e = (lambda_error){.op = "GetFunctionConfiguration", .function = "f", .code = "NetworkError",
                       .message = "Connection refused"};
    lambda_error_format(&e, line, sizeof(line));
    assert_string_equal(line, "GetFunctionConfiguration f: NetworkError: Connection refused");
}

static void test_endpoint_validation(void **state)
{
    sigv4_credentials cred = {"AKID", "secret", NULL};
    lambda_client_options o = {.endpoint = "ftp://x", .region = "us-east-1", .cred = &cred};
    char err[256];
    lambda_client *c;
    (void)state;
    assert_null(lambda_client_new(&o, err, sizeof(err)));
    assert_non_null(strstr(err, "must start with https:// or http://"));
    o.endpoint = "https:///x";
    assert_null(lambda_client_new(&o, err, sizeof(err)));
    assert_non_null(strstr(err, "no usable host"));
    o.endpoint = "https://user@host";
    assert_null(lambda_client_new(&o, err, sizeof(err)));
    o.endpoint = "https://host/x?y=1";
    assert_null(lambda_client_new(&o, err, sizeof(err)));
    assert_non_null(strstr(err, "query"));
    o.endpoint = "https://lambda.us-east-1.amazonaws.com/";
    c = lambda_client_new(&o, err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(lambda_client_endpoint(c), "https://lambda.us-east-1.amazonaws.com");
    assert_string_equal(lambda_client_region(c), "us-east-1");
    lambda_client_free(c);
    o.cred = NULL;
    assert_null(lambda_client_new(&o, err, sizeof(err)));
    assert_non_null(strstr(err, "credentials are required"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_component),
        cmocka_unit_test(test_error_line),
        cmocka_unit_test(test_endpoint_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
