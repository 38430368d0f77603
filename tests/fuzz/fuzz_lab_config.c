/*
 * libFuzzer target for lab_config_parse(): the lab's YAML configuration is
 * user input. Beyond surviving, a parse must either yield a config whose
 * invariants hold (the limits lab_config.h promises) or an error that names
 * the file, as every config error must.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lab_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lab_config *cfg = NULL;
    char err[512];

    err[0] = '\0';
    if (lab_config_parse((const char *)data, size, "fuzz.yaml", "/fuzz", false, &cfg, err,
                         sizeof(err)) != 0) {
        if (cfg || strncmp(err, "fuzz.yaml:", 10) != 0)
            abort();
        return 0;
    }
    if (!cfg || !cfg->region || !cfg->account_id || strlen(cfg->account_id) != 12 ||
        cfg->credential_count == 0 || cfg->function_count > LAB_CONFIG_MAX_FUNCTIONS)
        abort();
    for (size_t i = 0; i < cfg->function_count; i++) {
        const lab_function_config *f = &cfg->functions[i];
        size_t envlen = 0;
        if (!f->name || !f->runtime || !f->code_dir || f->code_dir[0] != '/' ||
            f->memory_mb < 128 || f->memory_mb > 10240 || f->timeout_s < 1 || f->timeout_s > 900 ||
            f->kind >= LAB_RUNTIME_LAST || (f->kind != LAB_RUNTIME_PROVIDED && !f->handler) ||
            f->env_count > LAB_CONFIG_MAX_ENV || lab_config_find(cfg, f->name) == NULL)
            abort();
        for (size_t j = 0; j < f->env_count; j++)
            envlen += strlen(f->env[j].key) + strlen(f->env[j].value);
        if (envlen > 4096)
            abort();
    }
    lab_config_free(&cfg);
    if (cfg)
        abort();
    return 0;
}
