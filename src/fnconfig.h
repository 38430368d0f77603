/*
 * fnconfig — what a function's configuration (GetFunctionConfiguration)
 * says about how it runs requests, read in one place for the engine, the
 * forcer and the config audit.
 *
 * Lambda Managed Instances: a function with a capacity provider has
 * FunctionConfiguration.CapacityProviderConfig =
 * {"LambdaManagedInstancesCapacityProviderConfig": {"CapacityProviderArn",
 * "PerExecutionEnvironmentMaxConcurrency" (1..1600),
 * "ExecutionEnvironmentMemoryGiBPerVCpu"}}
 * (https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html,
 * https://docs.aws.amazon.com/lambda/latest/api/API_LambdaManagedInstancesCapacityProviderConfig.html).
 * One of its environments serves up to that many invocations at once
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-execution-environment.html);
 * a classic function (no CapacityProviderConfig) serves one at a time.
 *
 * Ownership: everything borrows the configuration; strings returned point
 * into it and live as long as it does. Pure functions, thread-safe.
 */
#ifndef COLDSEC_FNCONFIG_H
#define COLDSEC_FNCONFIG_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#define FNCONFIG_MAX_CONCURRENCY 1600   /* AWS's upper bound for PerExecutionEnvironmentMaxConcurrency */

/* CapacityProviderConfig is present: a Managed Instances function (even
 * with a maximum concurrency of 1). */
bool fnconfig_is_managed(const cJSON *config);

/* Invocations one execution environment may serve at once:
 * PerExecutionEnvironmentMaxConcurrency when it is a whole number in
 * 1..FNCONFIG_MAX_CONCURRENCY, else 1 (classic Lambda, or a Managed
 * Instances function that does not say). */
long fnconfig_max_concurrency(const cJSON *config);

/* fnconfig_max_concurrency > 1: an invocation's log tail holds other
 * requests' lines (contract 6 of issue 14). */
bool fnconfig_is_multi_concurrent(const cJSON *config);

/* CapacityProviderArn, or NULL. */
const char *fnconfig_capacity_provider(const cJSON *config);

/* LoggingConfig.LogFormat ("Text", "JSON"), or NULL when not reported. */
const char *fnconfig_log_format(const cJSON *config);

/* {managed_instances, max_concurrency, capacity_provider?, log_format?}
 * for a result's summary: the facts the report shows about how the
 * function runs requests. NULL when out of memory; the caller owns it. */
cJSON *fnconfig_summary(const cJSON *config);

#endif
