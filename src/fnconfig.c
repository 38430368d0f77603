/*
 * fnconfig — reads a function configuration's concurrency model (see
 * fnconfig.h). Every value is type- and range-checked: the configuration
 * comes from whatever endpoint answered.
 */
#include "fnconfig.h"

#include <math.h>

static const cJSON *mi_config(const cJSON *config)
{
    const cJSON *cp = cJSON_GetObjectItemCaseSensitive(config, "CapacityProviderConfig");
    return cJSON_GetObjectItemCaseSensitive(cp, "LambdaManagedInstancesCapacityProviderConfig");
}

bool fnconfig_is_managed(const cJSON *config)
{
    return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(config, "CapacityProviderConfig"));
}

long fnconfig_max_concurrency(const cJSON *config)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(mi_config(config), "PerExecutionEnvironmentMaxConcurrency");
    if (!fnconfig_is_managed(config) || !cJSON_IsNumber(n) || !isfinite(n->valuedouble) ||
        n->valuedouble != floor(n->valuedouble) || n->valuedouble < 1 || n->valuedouble > FNCONFIG_MAX_CONCURRENCY)
        return 1;
    return (long)n->valuedouble;
}

bool fnconfig_is_multi_concurrent(const cJSON *config)
{
    return fnconfig_max_concurrency(config) > 1;
}

const char *fnconfig_capacity_provider(const cJSON *config)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(mi_config(config), "CapacityProviderArn");
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *fnconfig_log_format(const cJSON *config)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(config, "LoggingConfig"),
                                                      "LogFormat");
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

cJSON *fnconfig_summary(const cJSON *config)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (!cJSON_AddBoolToObject(o, "managed_instances", fnconfig_is_managed(config)) ||
        !cJSON_AddNumberToObject(o, "max_concurrency", (double)fnconfig_max_concurrency(config)) ||
        (fnconfig_capacity_provider(config) &&
         !cJSON_AddStringToObject(o, "capacity_provider", fnconfig_capacity_provider(config))) ||
        (fnconfig_log_format(config) && !cJSON_AddStringToObject(o, "log_format", fnconfig_log_format(config)))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
