/*
 * Unit tests for how the forcer reads a target's name: which names carry a
 * version or alias qualifier (those get no configuration change of their
 * own), and the unqualified function a qualifier resolving to $LATEST is
 * forced on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "forcer.h"

static void test_qualifier(void **state)
{
    (void)state;
    assert_null(forcer_target_qualifier("orders"));
    assert_string_equal(forcer_target_qualifier("orders:live"), "live");
    assert_string_equal(forcer_target_qualifier("orders:$LATEST"), "$LATEST");
    assert_null(forcer_target_qualifier("123456789012:function:orders"));
    assert_string_equal(forcer_target_qualifier("123456789012:function:orders:7"), "7");
    assert_null(forcer_target_qualifier("arn:aws:lambda:us-east-1:123456789012:function:orders"));
    assert_string_equal(forcer_target_qualifier("arn:aws:lambda:us-east-1:123456789012:function:orders:live"),
                        "live");
}

static void test_unqualified(void **state)
{
    char out[128], small[6];
    (void)state;
    assert_int_equal(forcer_target_unqualified("orders:live", out, sizeof(out)), 0);
    assert_string_equal(out, "orders");
    assert_int_equal(forcer_target_unqualified("orders", out, sizeof(out)), 0);
    assert_string_equal(out, "orders");
    assert_int_equal(
        forcer_target_unqualified("arn:aws:lambda:us-east-1:123456789012:function:orders:dev", out, sizeof(out)), 0);
    assert_string_equal(out, "arn:aws:lambda:us-east-1:123456789012:function:orders");
    assert_int_equal(forcer_target_unqualified("123456789012:function:orders:$LATEST", out, sizeof(out)), 0);
    assert_string_equal(out, "123456789012:function:orders");
    /* "orders" needs 7 bytes with its terminator */
    assert_int_equal(forcer_target_unqualified("orders:live", small, sizeof(small)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qualifier),
        cmocka_unit_test(test_unqualified),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
