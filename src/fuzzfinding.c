/*
 * fuzzfinding — a fuzz finding file's replay record (see fuzzfinding.h).
 */
#include "fuzzfinding.h"

#include <stdio.h>
#include <string.h>

static const char *state_of(fuzzoracle_kind k)
{
    return k == FUZZORACLE_POLLUTION ? "probe" : k == FUZZORACLE_MEMORY ? "session" : "none";
}

void fuzzfinding_add(cJSON *o, const char *lab_config, const char *function, const char *input, const char *probe,
                     const fuzzoracle_verdict *v, int growth_mb)
{
    cJSON *r, *oracle;
    cJSON_AddNumberToObject(o, "coldsec_fuzz_finding", FUZZFINDING_FORMAT);
    r = cJSON_AddObjectToObject(o, "replay");
    cJSON_AddStringToObject(r, "lab_config", lab_config);
    cJSON_AddStringToObject(r, "function", function);
    cJSON_AddStringToObject(r, "input", input);
    if (probe)
        cJSON_AddStringToObject(r, "probe", probe);
    cJSON_AddStringToObject(r, "state", state_of(v->kind));
    oracle = cJSON_AddObjectToObject(r, "oracle");
    cJSON_AddStringToObject(oracle, "kind", fuzzoracle_kind_name(v->kind));
    cJSON_AddStringToObject(oracle, "key", v->key);
    cJSON_AddNumberToObject(oracle, "growth_mb", growth_mb);
}

bool fuzzfinding_is(const cJSON *doc)
{
    return cJSON_GetObjectItemCaseSensitive(doc, "coldsec_fuzz_finding") != NULL;
}

static const char *get_str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* name, resolved against the folder of finding_path (absolute names as
 * they are). -1 when it does not fit. */
static int resolve(const char *finding_path, const char *name, char *out, size_t outlen)
{
    const char *slash = strrchr(finding_path, '/');
    int n;
    if (name[0] == '/' || !slash)
        n = snprintf(out, outlen, "%s", name);
    else
        n = snprintf(out, outlen, "%.*s/%s", (int)(slash - finding_path), finding_path, name);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static bool copy(char *out, size_t outlen, const char *s)
{
    return s && *s && snprintf(out, outlen, "%s", s) < (int)outlen;
}

int fuzzfinding_parse(const cJSON *doc, const char *finding_path, fuzzfinding *out, char *err, size_t errlen)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(doc, "replay");
    const cJSON *oracle = cJSON_GetObjectItemCaseSensitive(r, "oracle");
    const cJSON *growth = cJSON_GetObjectItemCaseSensitive(oracle, "growth_mb");
    const char *kind = get_str(oracle, "kind"), *input = get_str(r, "input"), *probe = get_str(r, "probe");
    double format = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "coldsec_fuzz_finding"));

    memset(out, 0, sizeof(*out));
    if (format != FUZZFINDING_FORMAT) {
        snprintf(err, errlen, "coldsec_fuzz_finding: format %d is the one this coldsec reads", FUZZFINDING_FORMAT);
        return -1;
    }
    if (!cJSON_IsObject(r)) {
        snprintf(err, errlen, "no \"replay\" object");
        return -1;
    }
    if (!copy(out->lab_config, sizeof(out->lab_config), get_str(r, "lab_config"))) {
        snprintf(err, errlen, "replay.lab_config: a path is needed");
        return -1;
    }
    if (!copy(out->function, sizeof(out->function), get_str(r, "function"))) {
        snprintf(err, errlen, "replay.function: a function name is needed");
        return -1;
    }
    if (!input || !*input || resolve(finding_path, input, out->input, sizeof(out->input)) != 0) {
        snprintf(err, errlen, "replay.input: a file name is needed");
        return -1;
    }
    if (probe && (!*probe || resolve(finding_path, probe, out->probe, sizeof(out->probe)) != 0)) {
        snprintf(err, errlen, "replay.probe: not a file name");
        return -1;
    }
    out->kind = FUZZORACLE_NONE;
    for (int k = FUZZORACLE_CRASH; kind && k <= FUZZORACLE_POLLUTION; k++)
        if (strcmp(kind, fuzzoracle_kind_name((fuzzoracle_kind)k)) == 0)
            out->kind = (fuzzoracle_kind)k;
    if (out->kind == FUZZORACLE_NONE) {
        snprintf(err, errlen, "replay.oracle.kind: \"%s\" is none of crash, timeout, leak, memory, exception, "
                              "pollution", kind ? kind : "");
        return -1;
    }
    if (!copy(out->key, sizeof(out->key), get_str(oracle, "key"))) {
        snprintf(err, errlen, "replay.oracle.key: the finding's key is needed");
        return -1;
    }
    if (!cJSON_IsNumber(growth) || growth->valuedouble < 1 || growth->valuedouble > 10240) {
        snprintf(err, errlen, "replay.oracle.growth_mb: a number of MB, 1 to 10240");
        return -1;
    }
    out->growth_mb = (int)growth->valuedouble;
    if (out->kind == FUZZORACLE_POLLUTION && !out->probe[0]) {
        snprintf(err, errlen, "replay.probe: a pollution finding needs the probe it was judged by");
        return -1;
    }
    return 0;
}

bool fuzzfinding_same(const fuzzfinding *f, const fuzzoracle_verdict *v)
{
    if (v->kind != f->kind)
        return false;
    return f->kind != FUZZORACLE_EXCEPTION || strcmp(v->key, f->key) == 0;
}
