/*
 * libFuzzer target for lab_config_parse(): the lab's YAML configuration is
 * user input, read by src/yamldoc and walked by harness/lab_config. Beyond
 * surviving, a parse must either yield a config whose invariants hold (the
 * limits lab_config.h promises) or an error that names the file and, unless
 * there is no node to point at (an empty file, no memory), the position of
 * the node to fix: a message without one means lab_config handed yamldoc a
 * missing node.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int positioned(const char *err)
{
    int line = 0, column = 0, end = 0;

    if (sscanf(err, "fuzz.yaml:%d:%d: %n", &line, &column, &end) == 2 && end > 0)
        return line > 0 && column > 0;
    return strncmp(err, "fuzz.yaml: the configuration is empty", 37) == 0 ||
           strcmp(err, "fuzz.yaml: out of memory") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lab_config *cfg = NULL;
    char err[512];

    err[0] = '\0';
    if (lab_config_parse((const char *)data, size, "fuzz.yaml", "/fuzz", false, &cfg, err,
                         sizeof(err)) != 0) {
        if (cfg || !positioned(err))
            abort();
        return 0;
    }
    if (!cfg || !cfg->region || !cfg->account_id || strlen(cfg->account_id) != 12 ||
        cfg->credential_count == 0 || cfg->function_count > LAB_CONFIG_MAX_FUNCTIONS ||
        cfg->update_delay_ms < 0 || cfg->account_concurrency < 1 || err[0] != '\0')
        abort();
    for (size_t i = 0; i < cfg->credential_count; i++) {
        if (!cfg->credentials[i].access_key_id || !cfg->credentials[i].access_key_id[0] ||
            !cfg->credentials[i].secret_access_key || !cfg->credentials[i].secret_access_key[0])
            abort();
    }
    for (size_t i = 0; i < cfg->function_count; i++) {
        const lab_function_config *f = &cfg->functions[i];
        size_t envlen = 0;
        if (!f->name || !f->runtime || !f->code_dir || f->code_dir[0] != '/' || !f->description ||
            f->memory_mb < 128 || f->memory_mb > 10240 || f->timeout_s < 1 || f->timeout_s > 900 ||
            f->kind >= LAB_RUNTIME_LAST || (f->kind != LAB_RUNTIME_PROVIDED && !f->handler) ||
            f->env_count > LAB_CONFIG_MAX_ENV || lab_config_find(cfg, f->name) != f ||
            f->ephemeral_storage_mb < LAB_CONFIG_EPHEMERAL_MIN_MB ||
            f->ephemeral_storage_mb > LAB_CONFIG_EPHEMERAL_MAX_MB || f->reserved_concurrency < -1 ||
            f->idle_timeout_s < 1 || f->max_age_s < 1 ||
            (f->kms_key_arn && strncmp(f->kms_key_arn, "arn:aws", 7) != 0))
            abort();
        for (size_t j = 0; j < f->env_count; j++) {
            if (!lab_config_env_name_ok(f->env[j].key) || lab_config_env_reserved(f->env[j].key) ||
                !f->env[j].value)
                abort();
            envlen += strlen(f->env[j].key) + strlen(f->env[j].value);
        }
        if (envlen > LAB_CONFIG_MAX_ENV_BYTES)
            abort();
    }
    lab_config_free(&cfg);
    if (cfg)
        abort();
    return 0;
}
