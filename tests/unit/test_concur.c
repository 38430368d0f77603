/*
 * Unit tests for what the engine knows about requests that run at the same
 * time: the overlap of two client-side intervals and the timeline's
 * concurrency slots (concur), and the concurrency model a function
 * configuration reports (fnconfig: CapacityProviderConfig, absent means
 * classic Lambda, one request at a time per environment).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "concur.h"
#include "fnconfig.h"

static void test_overlap(void **state)
{
    (void)state;
    assert_true(concur_overlap_ms(0, 100, 50, 200) == 50);
    assert_true(concur_overlap_ms(50, 200, 0, 100) == 50);    /* symmetric */
    assert_true(concur_overlap_ms(0, 300, 100, 200) == 100);  /* one inside the other */
    assert_true(concur_overlap_ms(0, 100, 100, 200) <= 0);    /* touching: not together */
    assert_true(concur_overlap_ms(0, 100, 150, 200) <= 0);    /* one after the other */
    assert_true(concur_overlap_ms(0, 0, 0, 100) <= 0);        /* never answered */
    assert_true(concur_overlap_ms(10, 100, 0, 0) <= 0);
}

static void test_slots(void **state)
{
    /* 0 and 1 together, 2 after 0 ended (reuses slot 1), 3 while all of 1, 2 run. */
    double start[] = {0, 5, 100, 120, 500};
    double end[] = {100, 300, 200, 130, 600};
    size_t order[] = {0, 1, 2, 3, 4};
    int slot[5] = {0};
    (void)state;
    assert_int_equal(concur_slots(start, end, order, 5, slot), 3);
    assert_int_equal(slot[0], 1);
    assert_int_equal(slot[1], 2);
    assert_int_equal(slot[2], 1);
    assert_int_equal(slot[3], 3);
    assert_int_equal(slot[4], 1);
    /* One at a time: one slot, whatever the gaps. */
    {
        double s1[] = {0, 10, 20}, e1[] = {10, 20, 30};
        int sl[3];
        assert_int_equal(concur_slots(s1, e1, order, 3, sl), 1);
        assert_true(sl[0] == 1 && sl[1] == 1 && sl[2] == 1);
    }
    assert_int_equal(concur_slots(start, end, order, 0, slot), 0);
}

static cJSON *config(const char *json)
{
    cJSON *c = cJSON_Parse(json);
    assert_non_null(c);
    return c;
}

static void test_fnconfig(void **state)
{
    cJSON *classic = config("{\"FunctionName\":\"f\",\"LoggingConfig\":{\"LogFormat\":\"Text\"}}");
    cJSON *mi = config("{\"CapacityProviderConfig\":{\"LambdaManagedInstancesCapacityProviderConfig\":{"
                       "\"CapacityProviderArn\":\"arn:aws:lambda:eu-west-1:123456789012:capacity-provider:lab\","
                       "\"PerExecutionEnvironmentMaxConcurrency\":8,\"ExecutionEnvironmentMemoryGiBPerVCpu\":2.0}},"
                       "\"LoggingConfig\":{\"LogFormat\":\"JSON\"}}");
    cJSON *mi1 = config("{\"CapacityProviderConfig\":{\"LambdaManagedInstancesCapacityProviderConfig\":{"
                        "\"PerExecutionEnvironmentMaxConcurrency\":1}}}");
    static const char *const odd[] = {
        "{\"CapacityProviderConfig\":{\"LambdaManagedInstancesCapacityProviderConfig\":{"
        "\"PerExecutionEnvironmentMaxConcurrency\":1601}}}",
        "{\"CapacityProviderConfig\":{\"LambdaManagedInstancesCapacityProviderConfig\":{"
        "\"PerExecutionEnvironmentMaxConcurrency\":2.5}}}",
        "{\"CapacityProviderConfig\":{\"LambdaManagedInstancesCapacityProviderConfig\":{"
        "\"PerExecutionEnvironmentMaxConcurrency\":\"8\"}}}",
        "{\"CapacityProviderConfig\":{}}",
        "{\"CapacityProviderConfig\":\"x\"}",
    };
    cJSON *sum;
    (void)state;
    assert_false(fnconfig_is_managed(classic));
    assert_int_equal(fnconfig_max_concurrency(classic), 1);
    assert_false(fnconfig_is_multi_concurrent(classic));
    assert_null(fnconfig_capacity_provider(classic));
    assert_string_equal(fnconfig_log_format(classic), "Text");
    assert_int_equal(fnconfig_max_concurrency(NULL), 1);

    assert_true(fnconfig_is_managed(mi));
    assert_int_equal(fnconfig_max_concurrency(mi), 8);
    assert_true(fnconfig_is_multi_concurrent(mi));
    assert_string_equal(fnconfig_capacity_provider(mi), "arn:aws:lambda:eu-west-1:123456789012:capacity-provider:lab");
    sum = fnconfig_summary(mi);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sum, "managed_instances")));
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sum, "max_concurrency")), 8);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sum, "log_format")), "JSON");
    cJSON_Delete(sum);

    /* Managed Instances at 1: managed, but one request at a time. */
    assert_true(fnconfig_is_managed(mi1));
    assert_int_equal(fnconfig_max_concurrency(mi1), 1);
    assert_false(fnconfig_is_multi_concurrent(mi1));
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        cJSON *c = config(odd[i]);
        assert_int_equal(fnconfig_max_concurrency(c), 1);
        assert_false(fnconfig_is_multi_concurrent(c));
        cJSON_Delete(c);
    }
    cJSON_Delete(classic);
    cJSON_Delete(mi);
    cJSON_Delete(mi1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_fnconfig),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
