/*
 * suite — reads scenarios.yaml into the suite of suite.h. Scenario names,
 * parameter overrides and baseline templates are all checked here, before
 * anything is invoked.
 */
#include "suite.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamldoc.h"

typedef struct sctx {
    const yamldoc *doc;
    suite *s;
    char *err;
    size_t errlen;
} sctx;

static char *dir_of(const char *path)
{
    char *abs = realpath(path, NULL), *slash;
    if (!abs)
        return NULL;
    slash = strrchr(abs, '/');
    if (slash && slash != abs)
        *slash = '\0';
    else if (slash)
        slash[1] = '\0';
    return abs;
}

/* dir/rel, or rel when absolute; malloc'd. */
static char *resolve(const char *dir, const char *rel)
{
    size_t n;
    char *out;
    if (rel[0] == '/')
        return strdup(rel);
    n = strlen(dir) + strlen(rel) + 2;
    out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", dir, rel);
    return out;
}

static int opt_str(sctx *c, const yamldoc_node *map, const char *key, char **out)
{
    const yamldoc_node *n = yamldoc_get(map, key);
    return n ? yamldoc_string(c->doc, n, key, out, c->err, c->errlen) : 0;
}

static int parse_scenarios(sctx *c, const yamldoc_node *n, suite_target *t)
{
    if (yamldoc_expect(c->doc, n, YAMLDOC_SEQ, "scenarios", c->err, c->errlen) != 0)
        return -1;
    if (n->count == 0 || n->count > SUITE_MAX_RUNS)
        return yamldoc_fail(c->doc, n, c->err, c->errlen, "scenarios: 1 to %d names", SUITE_MAX_RUNS);
    for (size_t i = 0; i < n->count; i++) {
        const yamldoc_node *v = n->values[i];
        const scenario *sc;
        suite_run *r = &t->runs[t->nruns];
        if (yamldoc_expect(c->doc, v, YAMLDOC_SCALAR, "scenarios", c->err, c->errlen) != 0)
            return -1;
        if (memchr(v->text, '\0', v->len))
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "scenarios: a name holds a NUL character");
        sc = scenario_set_find(c->s->set, v->text);
        if (!sc)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "no scenario '%s' in %s", v->text, c->s->scenario_dir);
        for (size_t j = 0; j < t->nruns; j++)
            if (t->runs[j].sc == sc)
                return yamldoc_fail(c->doc, v, c->err, c->errlen, "scenario '%s' listed twice", v->text);
        r->sc = sc;
        for (size_t p = 0; p < sc->nparams; p++)
            r->params[p] = sc->params[p].value;
        t->nruns++;
    }
    return 0;
}

/* parameters: {SCENARIO: {NAME: VALUE}} */
static int parse_overrides(sctx *c, const yamldoc_node *n, suite_target *t)
{
    if (yamldoc_expect(c->doc, n, YAMLDOC_MAP, "parameters", c->err, c->errlen) != 0)
        return -1;
    for (size_t i = 0; i < n->count; i++) {
        const yamldoc_node *key = n->keys[i], *vals = n->values[i];
        suite_run *r = NULL;
        for (size_t j = 0; j < t->nruns; j++)
            if (strcmp(t->runs[j].sc->id, key->text) == 0)
                r = &t->runs[j];
        if (!r)
            return yamldoc_fail(c->doc, key, c->err, c->errlen, "parameters for '%s', which this target does not run",
                                key->text);
        if (yamldoc_expect(c->doc, vals, YAMLDOC_MAP, key->text, c->err, c->errlen) != 0)
            return -1;
        for (size_t k = 0; k < vals->count; k++) {
            int p = scenario_param_index(r->sc, vals->keys[k]->text);
            if (p < 0)
                return yamldoc_fail(c->doc, vals->keys[k], c->err, c->errlen, "scenario '%s' has no parameter '%s'",
                                    r->sc->id, vals->keys[k]->text);
            if (yamldoc_long(c->doc, vals->values[k], vals->keys[k]->text, r->sc->params[p].min,
                             r->sc->params[p].max, &r->params[p], c->err, c->errlen) != 0)
                return -1;
        }
    }
    return 0;
}

static const char *const target_keys[] = {"name",     "function",  "lab",       "aws",      "allow_mutation",
                                          "transport", "url",      "url_auth",  "envelope", "baseline",
                                          "scenarios", "parameters", NULL};

static int parse_target(sctx *c, const yamldoc_node *n, const yamldoc_node *defaults, suite_target *t)
{
    const yamldoc_node *v, *aws;
    char *s = NULL;
    int r;

    t->line = n->line;
    t->column = n->column;
    if (yamldoc_check_keys(c->doc, n, target_keys, "target", c->err, c->errlen) != 0)
        return -1;
    if (!(v = yamldoc_get(n, "function")))
        return yamldoc_fail(c->doc, n, c->err, c->errlen, "missing key 'function' (a name or an ARN)");
    if (yamldoc_string(c->doc, v, "function", &t->function, c->err, c->errlen) != 0 || opt_str(c, n, "name", &t->name))
        return -1;
    if (!t->name && !(t->name = strdup(t->function)))
        return yamldoc_fail(c->doc, n, c->err, c->errlen, "out of memory");
    aws = yamldoc_get(n, "aws");
    t->lab = aws == NULL;
    if ((v = yamldoc_get(n, "lab"))) {
        if (yamldoc_bool(c->doc, v, "lab", &t->lab, c->err, c->errlen) != 0)
            return -1;
        if (t->lab && aws)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "a target is either on the lab or on AWS (aws:)");
    }
    if (aws) {
        static const char *const keys[] = {"region", "profile", "endpoint", "ca_bundle", NULL};
        if (yamldoc_check_keys(c->doc, aws, keys, "aws", c->err, c->errlen) != 0 ||
            opt_str(c, aws, "region", &t->region) || opt_str(c, aws, "profile", &t->profile) ||
            opt_str(c, aws, "endpoint", &t->endpoint) || opt_str(c, aws, "ca_bundle", &t->ca_bundle))
            return -1;
    }
    /* The lab is ours to change; a real function must opt in. */
    t->allow_mutation = t->lab;
    if ((v = yamldoc_get(n, "allow_mutation")) &&
        yamldoc_bool(c->doc, v, "allow_mutation", &t->allow_mutation, c->err, c->errlen) != 0)
        return -1;
    if ((v = yamldoc_get(n, "transport"))) {
        bool http;
        if (yamldoc_string(c->doc, v, "transport", &s, c->err, c->errlen) != 0)
            return -1;
        http = strcmp(s, "http") == 0;
        r = http || strcmp(s, "invoke") == 0;
        free(s);
        if (!r)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "transport: invoke (the Lambda API) or http (a URL)");
        if (http) {
            const yamldoc_node *u = yamldoc_get(n, "url"), *auth = yamldoc_get(n, "url_auth");
            if (!u)
                return yamldoc_fail(c->doc, v, c->err, c->errlen,
                                    "transport: http needs 'url' (the function URL or API Gateway URL)");
            if (yamldoc_string(c->doc, u, "url", &t->url, c->err, c->errlen) != 0)
                return -1;
            if (strncmp(t->url, "https://", 8) != 0 && strncmp(t->url, "http://", 7) != 0)
                return yamldoc_fail(c->doc, u, c->err, c->errlen, "url: must start with https:// or http://");
            if (auth) {
                if (yamldoc_string(c->doc, auth, "url_auth", &s, c->err, c->errlen) != 0)
                    return -1;
                t->url_sign = strcmp(s, "aws_iam") == 0;
                r = t->url_sign || strcmp(s, "none") == 0;
                free(s);
                if (!r)
                    return yamldoc_fail(c->doc, auth, c->err, c->errlen, "url_auth: none or aws_iam");
            }
        }
    }
    if (!t->url && (yamldoc_get(n, "url") || yamldoc_get(n, "url_auth")))
        return yamldoc_fail(c->doc, yamldoc_get(n, "url") ? yamldoc_get(n, "url") : yamldoc_get(n, "url_auth"),
                            c->err, c->errlen, "url and url_auth belong to 'transport: http'");
    t->envelope = EVENT_ENVELOPE_RAW;
    if ((v = yamldoc_get(n, "envelope"))) {
        if (yamldoc_string(c->doc, v, "envelope", &s, c->err, c->errlen) != 0)
            return -1;
        r = event_envelope_parse(s, &t->envelope);
        free(s);
        if (r != 0)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "envelope: raw, apigw-v1, apigw-v2 or function-url");
    }
    if (!(v = yamldoc_get(n, "baseline")))
        return yamldoc_fail(c->doc, n, c->err, c->errlen,
                            "missing key 'baseline' (the event a normal request sends, as a mapping)");
    if (yamldoc_expect(c->doc, v, YAMLDOC_MAP, "baseline", c->err, c->errlen) != 0)
        return -1;
    t->baseline = yamldoc_to_json(c->doc, v, c->err, c->errlen);
    if (!t->baseline)
        return -1;
    {
        char why[512];
        if (scenario_check_baseline(t->baseline, why, sizeof(why)) != 0)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "baseline: %s", why);
    }
    v = yamldoc_get(n, "scenarios");
    if (!v && defaults)
        v = yamldoc_get(defaults, "scenarios");
    if (!v)
        return yamldoc_fail(c->doc, n, c->err, c->errlen, "missing key 'scenarios' (and no defaults: scenarios)");
    if (parse_scenarios(c, v, t) != 0)
        return -1;
    if ((v = yamldoc_get(n, "parameters")) && parse_overrides(c, v, t) != 0)
        return -1;
    return 0;
}

static const char *const top_keys[] = {"version", "seed", "fail_on", "lab", "scenario_dir", "protect",
                                       "defaults", "targets", "baselines", NULL};  /* baselines: anchors only */

int suite_load(const char *path, const char *scenario_dir, suite **out, char *err, size_t errlen)
{
    return suite_load_builtin(path, scenario_dir, NULL, out, err, errlen);
}

int suite_load_builtin(const char *path, const char *scenario_dir, const char *builtin_dir, suite **out, char *err,
                       size_t errlen)
{
    yamldoc *doc = NULL;
    const yamldoc_node *root, *v, *defaults;
    suite *s = calloc(1, sizeof(*s));
    sctx c = {NULL, s, err, errlen};
    char *dir = NULL, *tmp = NULL;
    bool optional = false; /* the default folder beside the suite may be absent */
    int rc = -1;

    *out = NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (yamldoc_load(path, &doc, err, errlen) != 0)
        goto cleanup;
    c.doc = doc;
    dir = dir_of(path);
    if (!dir || !(s->path = strdup(path))) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    root = yamldoc_root(doc);
    if (!root) {
        snprintf(err, errlen, "%s: empty suite", path);
        goto cleanup;
    }
    if (yamldoc_check_keys(doc, root, top_keys, "suite", err, errlen) != 0)
        goto cleanup;
    if ((v = yamldoc_get(root, "version"))) {
        long version;
        if (yamldoc_long(doc, v, "version", 1, 1, &version, err, errlen) != 0)
            goto cleanup;
    }
    s->seed = 1;
    if ((v = yamldoc_get(root, "seed"))) {
        long seed;
        if (yamldoc_long(doc, v, "seed", 0, LONG_MAX, &seed, err, errlen) != 0)
            goto cleanup;
        s->seed = (uint64_t)seed;
    }
    s->fail_on = SEVERITY_MEDIUM;
    if ((v = yamldoc_get(root, "fail_on"))) {
        if (yamldoc_string(doc, v, "fail_on", &tmp, err, errlen) != 0)
            goto cleanup;
        if (severity_parse(tmp, &s->fail_on) != 0) {
            yamldoc_fail(doc, v, err, errlen, "fail_on: info, low, medium, high or critical");
            goto cleanup;
        }
    }
    if ((v = yamldoc_get(root, "protect"))) {
        if (yamldoc_expect(doc, v, YAMLDOC_SEQ, "protect", err, errlen) != 0)
            goto cleanup;
        for (size_t i = 0; i < v->count && s->nprotect < SUITE_MAX_PROTECT; i++) {
            if (yamldoc_string(doc, v->values[i], "protect", &s->protect[s->nprotect], err, errlen) != 0)
                goto cleanup;
            s->nprotect++;
        }
    }
    free(tmp);
    tmp = NULL;
    if (scenario_dir) {
        s->scenario_dir = strdup(scenario_dir);
    } else if ((v = yamldoc_get(root, "scenario_dir"))) {
        if (yamldoc_string(doc, v, "scenario_dir", &tmp, err, errlen) != 0)
            goto cleanup;
        s->scenario_dir = resolve(dir, tmp);
    } else {
        s->scenario_dir = resolve(dir, "scenarios");
        optional = true;
    }
    if (!s->scenario_dir ||
        scenario_set_load_layered(s->scenario_dir, optional, builtin_dir, &s->set, err, errlen) != 0)
        goto cleanup;
    if ((v = yamldoc_get(root, "lab"))) {
        static const char *const keys[] = {"config", NULL};
        const yamldoc_node *cfg;
        free(tmp);
        tmp = NULL;
        if (yamldoc_check_keys(doc, v, keys, "lab", err, errlen) != 0)
            goto cleanup;
        if (!(cfg = yamldoc_get(v, "config"))) {
            yamldoc_fail(doc, v, err, errlen, "missing key 'config' (the lab's functions file)");
            goto cleanup;
        }
        if (yamldoc_string(doc, cfg, "config", &tmp, err, errlen) != 0)
            goto cleanup;
        s->lab_config = resolve(dir, tmp);
        if (!s->lab_config)
            goto cleanup;
    }
    defaults = yamldoc_get(root, "defaults");
    if (defaults) {
        static const char *const keys[] = {"scenarios", NULL};
        if (yamldoc_check_keys(doc, defaults, keys, "defaults", err, errlen) != 0)
            goto cleanup;
    }
    if (!(v = yamldoc_get(root, "targets"))) {
        yamldoc_fail(doc, root, err, errlen, "missing key 'targets'");
        goto cleanup;
    }
    if (yamldoc_expect(doc, v, YAMLDOC_SEQ, "targets", err, errlen) != 0)
        goto cleanup;
    if (v->count == 0 || v->count > SUITE_MAX_TARGETS) {
        yamldoc_fail(doc, v, err, errlen, "targets: 1 to %d", SUITE_MAX_TARGETS);
        goto cleanup;
    }
    s->targets = calloc(v->count, sizeof(*s->targets));
    if (!s->targets)
        goto cleanup;
    for (size_t i = 0; i < v->count; i++) {
        suite_target *t = &s->targets[i];
        s->ntargets = i + 1;
        if (parse_target(&c, v->values[i], defaults, t) != 0)
            goto cleanup;
        if (t->lab && !s->lab_config) {
            yamldoc_fail(doc, v->values[i], err, errlen,
                         "target '%s' is on the lab, but the suite has no 'lab: {config: FILE}'", t->name);
            goto cleanup;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->targets[j].name, t->name) == 0) {
                yamldoc_fail(doc, v->values[i], err, errlen, "a second target named '%s' (give one a 'name')",
                             t->name);
                goto cleanup;
            }
        }
    }
    *out = s;
    s = NULL;
    rc = 0;
cleanup:
    free(tmp);
    free(dir);
    yamldoc_free(doc);
    suite_free(s);
    return rc;
}

void suite_free(suite *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ntargets; i++) {
        suite_target *t = &s->targets[i];
        free(t->name);
        free(t->function);
        free(t->region);
        free(t->profile);
        free(t->endpoint);
        free(t->ca_bundle);
        free(t->url);
        cJSON_Delete(t->baseline);
    }
    free(s->targets);
    for (size_t i = 0; i < s->nprotect; i++)
        free(s->protect[i]);
    free(s->path);
    free(s->lab_config);
    free(s->scenario_dir);
    scenario_set_free(s->set);
    free(s);
}
