/*
 * scenario — loads scenarios/NAME.yaml and the catalogs they use into the
 * model of scenario.h, checking every reference at load time.
 *
 * The walk follows the schema; each failure stops the load with one
 * "FILE:LINE:COLUMN: message" from yamldoc. Catalog entries keep their
 * positions beside the JSON so that a template error inside a catalog also
 * points at its line.
 */
#include "scenario.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "tmpl.h"
#include "yamldoc.h"

#define MAX_SCENARIOS 64
#define MAX_CATALOGS 32

struct scenario_set {
    scenario *items[MAX_SCENARIOS];
    size_t count;
    catalog *cats[MAX_CATALOGS];
    size_t ncats;
    char *dir;     /* the first folder: its catalogs/ are looked in first */
    char *builtin; /* the built-in folder after it, or NULL */
};

/* What a load needs, passed down instead of globals. */
typedef struct load_ctx {
    scenario_set *set;
    const yamldoc *doc;
    scenario *sc;
    char *err;
    size_t errlen;
} load_ctx;

static const char *const severity_names[] = {"info", "low", "medium", "high", "critical"};

int severity_parse(const char *s, severity *out)
{
    for (size_t i = 0; i < sizeof(severity_names) / sizeof(severity_names[0]); i++) {
        if (strcmp(s, severity_names[i]) == 0) {
            *out = (severity)i;
            return 0;
        }
    }
    return -1;
}

const char *severity_name(severity s)
{
    return (unsigned)s < sizeof(severity_names) / sizeof(severity_names[0]) ? severity_names[s] : "?";
}


int scenario_param_index(const scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->nparams; i++)
        if (strcmp(sc->params[i].name, name) == 0)
            return (int)i;
    return -1;
}

long scenario_num_value(const scenario_num *n, const long *values)
{
    return n->param >= 0 ? values[n->param] : n->value;
}

int scenario_step_index(const scenario *sc, const char *id)
{
    for (size_t i = 0; i < sc->nsteps; i++)
        if (strcmp(sc->steps[i].id, id) == 0)
            return (int)i;
    return -1;
}

int scenario_canary_index(const scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->ncanaries; i++)
        if (strcmp(sc->canaries[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* A scalar used as a name or keyword must hold no NUL: every compare
 * after this point sees C strings, and "go\0x" would pass for "go". */
static bool is_word(const yamldoc_node *n)
{
    return n && n->kind == YAMLDOC_SCALAR && !memchr(n->text, '\0', n->len);
}

static int expect_word(load_ctx *c, const yamldoc_node *n, const char *what)
{
    if (yamldoc_expect(c->doc, n, YAMLDOC_SCALAR, what, c->err, c->errlen) != 0)
        return -1;
    return is_word(n) ? 0 : yamldoc_fail(c->doc, n, c->err, c->errlen, "%s: holds a NUL character", what);
}

/* The index in words (NULL-terminated, at most three) of n's text, or -1
 * after an error that lists them. */
static int one_of(load_ctx *c, const yamldoc_node *n, const char *what, const char *const words[])
{
    if (expect_word(c, n, what) != 0)
        return -1;
    for (int i = 0; words[i]; i++)
        if (strcmp(n->text, words[i]) == 0)
            return i;
    return yamldoc_fail(c->doc, n, c->err, c->errlen, "%s: expected %s, %s or %s, not '%s'", what, words[0],
                        words[1], words[2], n->text);
}

/* ---- small getters on top of yamldoc ---- */

static int need(load_ctx *c, const yamldoc_node *map, const char *key, const yamldoc_node **out)
{
    *out = yamldoc_get(map, key);
    if (!*out)
        return yamldoc_fail(c->doc, map, c->err, c->errlen, "missing key '%s'", key);
    return 0;
}

static int opt_string(load_ctx *c, const yamldoc_node *map, const char *key, char **out)
{
    const yamldoc_node *n = yamldoc_get(map, key);
    *out = NULL;
    return n ? yamldoc_string(c->doc, n, key, out, c->err, c->errlen) : 0;
}

static int req_string(load_ctx *c, const yamldoc_node *map, const char *key, char **out)
{
    const yamldoc_node *n;
    *out = NULL;
    if (need(c, map, key, &n) != 0)
        return -1;
    return yamldoc_string(c->doc, n, key, out, c->err, c->errlen);
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-'))
            return false;
    }
    return true;
}

/* A parameter used where [min, max] is allowed keeps that range, so that a
 * suite's override is checked against every use. */
static void narrow_param(scenario_param *p, long min, long max)
{
    if (min > p->min)
        p->min = min;
    if (max < p->max)
        p->max = max;
}

/* A number: an integer literal or "$PARAM" naming a declared parameter. */
static int get_num(load_ctx *c, const yamldoc_node *n, const char *what, long min, long max, scenario_num *out)
{
    out->param = -1;
    out->value = 0;
    if (is_word(n) && n->len > 1 && n->text[0] == '$') {
        int i = scenario_param_index(c->sc, n->text + 1);
        if (i < 0)
            return yamldoc_fail(c->doc, n, c->err, c->errlen, "%s: no parameter '%s' in this scenario's parameters",
                                what, n->text + 1);
        if (c->sc->params[i].value < min || c->sc->params[i].value > max)
            return yamldoc_fail(c->doc, n, c->err, c->errlen, "%s: parameter '%s' must be from %ld to %ld", what,
                                n->text + 1, min, max);
        narrow_param(&c->sc->params[i], min, max);
        out->param = i;
        return 0;
    }
    return yamldoc_long(c->doc, n, what, min, max, &out->value, c->err, c->errlen);
}

/* ---- templates ---- */

typedef struct tmpl_check {
    scenario *sc;           /* NULL: no scenario to resolve canaries and parameters in */
    bool deferred;          /* a catalog on its own: canaries and $PARAMs are checked when a scenario binds it */
} tmpl_check;

static int check_token(void *ctx, const tmpl_token *t, char *why, size_t whylen)
{
    const tmpl_check *k = ctx;
    char name[80] = "";
    size_t n = t->arglen < sizeof(name) - 1 ? t->arglen : sizeof(name) - 1;

    if (t->arg) {
        memcpy(name, t->arg, n);
        name[n] = '\0';
    }
    if (k->deferred && (t->kind == TMPL_CANARY || t->kind == TMPL_CANARY_SPLIT ||
                        (t->kind == TMPL_PAD && name[0] == '$')))
        return 0;
    if (t->kind == TMPL_CANARY || t->kind == TMPL_CANARY_SPLIT) {
        if (!k->sc) {
            snprintf(why, whylen, "{{canary.%s}}: canaries belong to scenarios, not to baseline events", name);
            return -1;
        }
        if (scenario_canary_index(k->sc, name) < 0) {
            snprintf(why, whylen, "{{canary.%s}}: the scenario declares no canary '%s'", name, name);
            return -1;
        }
    } else if (t->kind == TMPL_PAD && name[0] == '$') {
        int p = k->sc ? scenario_param_index(k->sc, name + 1) : -1;
        if (p < 0) {
            snprintf(why, whylen, "{{pad:%s}}: no parameter '%s'", name, name + 1);
            return -1;
        }
        if (k->sc->params[p].value > (long)TMPL_MAX_PAD) {
            snprintf(why, whylen, "{{pad:%s}}: more than Lambda's 6 MB payload", name);
            return -1;
        }
        narrow_param(&k->sc->params[p], 0, (long)TMPL_MAX_PAD);
    } else if (t->kind == TMPL_PAD) {
        if (strtoul(name, NULL, 10) > TMPL_MAX_PAD) {
            snprintf(why, whylen, "{{pad:%s}}: more than Lambda's 6 MB payload", name);
            return -1;
        }
    }
    return 0;
}

/* Checks every string (and key) of a JSON value for template errors. */
static int check_json_templates(const cJSON *v, const tmpl_check *k, char *why, size_t whylen)
{
    size_t at;
    if (cJSON_IsString(v) &&
        tmpl_scan(v->valuestring, strlen(v->valuestring), check_token, (void *)k, &at, why, whylen))
        return -1;
    if (v->string && tmpl_scan(v->string, strlen(v->string), check_token, (void *)k, &at, why, whylen))
        return -1;
    for (const cJSON *ch = v->child; ch; ch = ch->next) {
        if (check_json_templates(ch, k, why, whylen) != 0)
            return -1;
    }
    return 0;
}

int scenario_check_baseline(const cJSON *ev, char *why, size_t whylen)
{
    tmpl_check k = {NULL, false};
    return check_json_templates(ev, &k, why, whylen);
}

/* ---- catalogs ---- */

static void catalog_free(catalog *k)
{
    if (!k)
        return;
    free(k->name);
    free(k->path);
    cJSON_Delete(k->entries);
    free(k);
}

static const char *const catalog_entry_keys[] = {"id", "lang", "technique", "set", "merge", "delete",
                                                  "body", "base64", "encode", "pattern", "runtime",
                                                  "deprecated", NULL};

/* Loads scenarios/catalogs/NAME.yaml once per set. */
static int catalog_get(load_ctx *c, const yamldoc_node *at, const char *name, const catalog **out)
{
    scenario_set *set = c->set;
    char path[4096];
    yamldoc *doc = NULL;
    const yamldoc_node *root, *entries;
    catalog *k = NULL;
    load_ctx cc = *c;

    for (size_t i = 0; i < set->ncats; i++) {
        if (strcmp(set->cats[i]->name, name) == 0) {
            *out = set->cats[i];
            return 0;
        }
    }
    if (!name_ok(name))
        return yamldoc_fail(c->doc, at, c->err, c->errlen, "bad catalog name '%s'", name);
    if (set->ncats >= MAX_CATALOGS)
        return yamldoc_fail(c->doc, at, c->err, c->errlen, "more than %d catalogs", MAX_CATALOGS);
    /* A suite-side catalog of the same name replaces the built-in one for
     * every scenario of the set (one name, one catalog). */
    snprintf(path, sizeof(path), "%s/catalogs/%s.yaml", set->dir, name);
    if (set->builtin && access(path, F_OK) != 0)
        snprintf(path, sizeof(path), "%s/catalogs/%s.yaml", set->builtin, name);
    if (yamldoc_load(path, &doc, c->err, c->errlen) != 0) {
        char inner[1024];
        snprintf(inner, sizeof(inner), "%s", c->err);
        return yamldoc_fail(c->doc, at, c->err, c->errlen, "catalog '%s': %s", name, inner);
    }
    cc.doc = doc;
    root = yamldoc_root(doc);
    if (!root) {
        snprintf(c->err, c->errlen, "%s: empty catalog", path);
        goto fail;
    }
    {
        static const char *const top[] = {"entries", NULL};
        if (yamldoc_check_keys(doc, root, top, "catalog", c->err, c->errlen) != 0 ||
            need(&cc, root, "entries", &entries) != 0 ||
            yamldoc_expect(doc, entries, YAMLDOC_SEQ, "entries", c->err, c->errlen) != 0)
            goto fail;
    }
    k = calloc(1, sizeof(*k));
    if (!k || !(k->name = strdup(name)) || !(k->path = strdup(path)) || !(k->entries = cJSON_CreateArray())) {
        snprintf(c->err, c->errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < entries->count; i++) {
        const yamldoc_node *e = entries->values[i];
        cJSON *j;
        char *id = NULL;
        if (yamldoc_check_keys(doc, e, catalog_entry_keys, "catalog entry", c->err, c->errlen) != 0)
            goto fail;
        if (!yamldoc_get(e, "id") && !yamldoc_get(e, "runtime")) {
            yamldoc_fail(doc, e, c->err, c->errlen, "a catalog entry needs an 'id'");
            goto fail;
        }
        if (opt_string(&cc, e, "id", &id) != 0)
            goto fail;
        free(id);
        j = yamldoc_to_json(doc, e, c->err, c->errlen);
        if (!j)
            goto fail;
        cJSON_AddNumberToObject(j, "_line", e->line);
        cJSON_AddNumberToObject(j, "_column", e->column);
        cJSON_AddItemToArray(k->entries, j);
        {
            char why[512];
            tmpl_check tc = {NULL, true};
            if (check_json_templates(j, &tc, why, sizeof(why)) != 0) {
                yamldoc_fail(doc, e, c->err, c->errlen, "%s", why);
                goto fail;
            }
        }
    }
    set->cats[set->ncats++] = k;
    yamldoc_free(doc);
    *out = k;
    return 0;
fail:
    catalog_free(k);
    yamldoc_free(doc);
    return -1;
}

/* A catalog used by a scenario: its templates must resolve in that scenario. */
static int bind_catalog(load_ctx *c, const yamldoc_node *at, const catalog *k, const char *need_key)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, k->entries) {
        char why[512];
        int line = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "_line"));
        int col = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "_column"));
        if (need_key && !cJSON_GetObjectItemCaseSensitive(e, need_key)) {
            return yamldoc_fail(c->doc, at, c->err, c->errlen, "catalog '%s' (%s:%d:%d): entry has no '%s'",
                                k->name, k->path, line, col, need_key);
        }
        tmpl_check tc = {c->sc, false};
        if (check_json_templates(e, &tc, why, sizeof(why)) != 0)
            return yamldoc_fail(c->doc, at, c->err, c->errlen, "catalog '%s' (%s:%d:%d): %s", k->name, k->path,
                                line, col, why);
    }
    return 0;
}

/* A pcre2 pattern of a scenario, compiled once for every run of it. */
static int compile_pattern(load_ctx *c, const yamldoc_node *at, const char *text, const char *what,
                           pcre2_code **out)
{
    int code;
    PCRE2_SIZE off;
    *out = pcre2_compile((PCRE2_SPTR)text, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, NULL);
    if (!*out) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof(msg));
        return yamldoc_fail(c->doc, at, c->err, c->errlen, "%s: %s at offset %zu", what, (char *)msg, (size_t)off);
    }
    return 0;
}

/* ---- steps ---- */

static int step_list(load_ctx *c, const yamldoc_node *n, const char *what, uint64_t *mask)
{
    *mask = 0;
    if (yamldoc_expect(c->doc, n, YAMLDOC_SEQ, what, c->err, c->errlen) != 0)
        return -1;
    for (size_t i = 0; i < n->count; i++) {
        const yamldoc_node *v = n->values[i];
        int s;
        if (expect_word(c, v, what) != 0)
            return -1;
        s = scenario_step_index(c->sc, v->text);
        if (s < 0)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "%s: no step with id '%s'", what, v->text);
        *mask |= (uint64_t)1 << s;
    }
    return 0;
}

static int user_list(load_ctx *c, const yamldoc_node *n, scenario_step *st)
{
    if (yamldoc_expect(c->doc, n, YAMLDOC_SEQ, "users", c->err, c->errlen) != 0)
        return -1;
    if (n->count == 0 || n->count > SCENARIO_MAX_USERS)
        return yamldoc_fail(c->doc, n, c->err, c->errlen, "users: 1 to %d names", SCENARIO_MAX_USERS);
    for (size_t i = 0; i < n->count; i++) {
        const yamldoc_node *v = n->values[i];
        size_t u;
        if (expect_word(c, v, "users") != 0)
            return -1;
        for (u = 0; u < c->sc->nusers; u++)
            if (strcmp(c->sc->users[u], v->text) == 0)
                break;
        if (u == c->sc->nusers)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "no user '%s' in the scenario's users", v->text);
        st->users[st->nusers++] = (int)u;
    }
    return 0;
}

static int parse_vary(load_ctx *c, const yamldoc_node *n, scenario_step *st)
{
    static const char *const keys[] = {"field", "set", "catalog", "others", NULL};
    const yamldoc_node *f = yamldoc_get(n, "field"), *set = yamldoc_get(n, "set"), *cat = yamldoc_get(n, "catalog");
    const yamldoc_node *others = yamldoc_get(n, "others");
    if (yamldoc_check_keys(c->doc, n, keys, "vary", c->err, c->errlen) != 0)
        return -1;
    if (others) {
        static const char *const words[] = {"same", "omit", "empty", NULL};
        static const scenario_others values[] = {OTHERS_SAME, OTHERS_OMIT, OTHERS_EMPTY};
        int i = one_of(c, others, "others", words);
        if (i < 0)
            return -1;
        st->others = values[i];
        if (!f)
            return yamldoc_fail(c->doc, others, c->err, c->errlen, "vary: 'others' needs a 'field'");
    }
    if (f) {
        static const char *const words[] = {"strings", "leaves", "longest", NULL};
        static const scenario_fields values[] = {FIELDS_STRINGS, FIELDS_LEAVES, FIELDS_LONGEST};
        int i = one_of(c, f, "field", words);
        if (i < 0)
            return -1;
        st->fields = values[i];
    }
    if (!!set == !!cat)
        return yamldoc_fail(c->doc, n, c->err, c->errlen, "vary needs exactly one of 'set' or 'catalog'");
    if (set) {
        char why[512];
        if (!f)
            return yamldoc_fail(c->doc, n, c->err, c->errlen, "vary: 'set' needs a 'field'");
        st->set = yamldoc_to_json(c->doc, set, c->err, c->errlen);
        if (!st->set)
            return -1;
        tmpl_check tc = {c->sc, false};
        if (check_json_templates(st->set, &tc, why, sizeof(why)) != 0)
            return yamldoc_fail(c->doc, set, c->err, c->errlen, "%s", why);
    } else {
        if (expect_word(c, cat, "catalog") != 0 ||
            catalog_get(c, cat, cat->text, &st->cat) != 0 || bind_catalog(c, cat, st->cat, NULL) != 0)
            return -1;
    }
    return 0;
}

static int parse_invoke(load_ctx *c, const yamldoc_node *n, scenario_step *st)
{
    static const char *const keys[] = {"id",      "users",   "count",    "parallel", "vary",
                                       "shuffle", "stop_on", "envelope", "stop_when_flat", NULL};
    const yamldoc_node *v;

    if (yamldoc_check_keys(c->doc, n, keys, "invoke", c->err, c->errlen) != 0 || req_string(c, n, "id", &st->id))
        return -1;
    if (!name_ok(st->id))
        return yamldoc_fail(c->doc, yamldoc_get(n, "id"), c->err, c->errlen, "id: letters, digits, '-' and '_'");
    if (need(c, n, "users", &v) != 0 || user_list(c, v, st) != 0)
        return -1;
    if (need(c, n, "count", &v) != 0)
        return -1;
    if (v->kind == YAMLDOC_MAP) {
        static const char *const ck[] = {"until_full", "until_oom", NULL};
        const yamldoc_node *u = yamldoc_get(v, "until_full"), *o = yamldoc_get(v, "until_oom");
        if (yamldoc_check_keys(c->doc, v, ck, "count", c->err, c->errlen) != 0)
            return -1;
        if (!!u == !!o)
            return yamldoc_fail(c->doc, v, c->err, c->errlen,
                                "count: a number, $PARAM, {until_full: BYTES} or {until_oom: BYTES}");
        st->until_full = u != NULL;
        st->until_oom = o != NULL;
        if (get_num(c, u ? u : o, u ? "until_full" : "until_oom", 1024, 6L * 1024 * 1024, &st->fill_bytes) != 0)
            return -1;
    } else if (get_num(c, v, "count", 1, 100000, &st->count) != 0) {
        return -1;
    }
    st->parallel.value = 1;
    st->parallel.param = -1;
    if ((v = yamldoc_get(n, "parallel")) && get_num(c, v, "parallel", 1, 1000, &st->parallel) != 0)
        return -1;
    st->flat_after.param = -1;
    if ((v = yamldoc_get(n, "stop_when_flat")) && get_num(c, v, "stop_when_flat", 1, 100000, &st->flat_after) != 0)
        return -1;
    if ((v = yamldoc_get(n, "shuffle")) && yamldoc_bool(c->doc, v, "shuffle", &st->shuffle, c->err, c->errlen))
        return -1;
    if ((v = yamldoc_get(n, "vary")) && parse_vary(c, v, st) != 0)
        return -1;
    st->envelope = -1;
    if ((v = yamldoc_get(n, "envelope"))) {
        event_envelope e;
        if (expect_word(c, v, "envelope") != 0)
            return -1;
        if (event_envelope_parse(v->text, &e) != 0)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "envelope: raw, apigw-v1, apigw-v2 or function-url");
        st->envelope = (int)e;
    }
    if ((v = yamldoc_get(n, "stop_on"))) {
        if (yamldoc_string(c->doc, v, "stop_on", &st->stop_on, c->err, c->errlen) != 0 ||
            compile_pattern(c, v, st->stop_on, "stop_on", &st->stop_re) != 0)
            return -1;
    }
    c->sc->invokes = true;
    return 0;
}

static int parse_step(load_ctx *c, const yamldoc_node *n, size_t index)
{
    scenario *sc = c->sc;
    scenario_step *st = &sc->steps[index];
    const yamldoc_node *body;
    const char *kind;
    char auto_id[32];

    if (yamldoc_expect(c->doc, n, YAMLDOC_MAP, "each step", c->err, c->errlen) != 0)
        return -1;
    if (n->count != 1)
        return yamldoc_fail(c->doc, n, c->err, c->errlen, "a step is one of cold_start:, invoke: or sleep:");
    kind = n->keys[0]->text;
    body = n->values[0];
    st->line = n->line;
    st->column = n->column;
    st->sleep_ms.param = -1;
    st->count.param = -1;
    st->fill_bytes.param = -1;
    if (strcmp(kind, "invoke") == 0) {
        st->kind = STEP_INVOKE;
        if (yamldoc_expect(c->doc, body, YAMLDOC_MAP, "invoke", c->err, c->errlen) != 0 ||
            parse_invoke(c, body, st) != 0)
            return -1;
        for (size_t i = 0; i < index; i++)
            if (strcmp(sc->steps[i].id, st->id) == 0)
                return yamldoc_fail(c->doc, body, c->err, c->errlen, "a second step with id '%s'", st->id);
        return 0;
    }
    snprintf(auto_id, sizeof(auto_id), "%s#%zu", kind, index + 1);
    if (strcmp(kind, "cold_start") == 0) {
        static const char *const keys[] = {"plant", NULL};
        const yamldoc_node *p;
        st->kind = STEP_COLD_START;
        if (yamldoc_check_keys(c->doc, body, keys, "cold_start", c->err, c->errlen) != 0)
            return -1;
        if ((p = yamldoc_get(body, "plant"))) {
            if (yamldoc_expect(c->doc, p, YAMLDOC_SEQ, "plant", c->err, c->errlen) != 0)
                return -1;
            for (size_t i = 0; i < p->count && i < SCENARIO_MAX_CANARIES; i++) {
                const yamldoc_node *v = p->values[i];
                int k = is_word(v) ? scenario_canary_index(sc, v->text) : -1;
                if (k < 0 || !sc->canaries[k].plant)
                    return yamldoc_fail(c->doc, v, c->err, c->errlen,
                                        "plant: not a canary declared with 'plant: VARIABLE'");
                st->plant[st->nplant++] = k;
            }
        }
    } else if (strcmp(kind, "sleep") == 0) {
        static const char *const keys[] = {"ms", NULL};
        const yamldoc_node *ms;
        st->kind = STEP_SLEEP;
        if (yamldoc_check_keys(c->doc, body, keys, "sleep", c->err, c->errlen) != 0 || need(c, body, "ms", &ms) ||
            get_num(c, ms, "ms", 0, 3600000, &st->sleep_ms) != 0)
            return -1;
    } else {
        return yamldoc_fail(c->doc, n->keys[0], c->err, c->errlen,
                            "unknown step '%s' (expected cold_start, invoke or sleep)", kind);
    }
    st->id = strdup(auto_id);
    return st->id ? 0 : yamldoc_fail(c->doc, n, c->err, c->errlen, "out of memory");
}

/* ---- assertions ---- */

static int where_list(load_ctx *c, const yamldoc_node *n, unsigned *out)
{
    *out = 0;
    if (yamldoc_expect(c->doc, n, YAMLDOC_SEQ, "where", c->err, c->errlen) != 0)
        return -1;
    for (size_t i = 0; i < n->count; i++) {
        const yamldoc_node *v = n->values[i];
        if (is_word(v) && strcmp(v->text, "payload") == 0)
            *out |= WHERE_PAYLOAD;
        else if (is_word(v) && strcmp(v->text, "log") == 0)
            *out |= WHERE_LOG;
        else
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "where: payload or log");
    }
    return 0;
}

static int canary_list(load_ctx *c, const yamldoc_node *n, scenario_assert *a)
{
    size_t count = n->kind == YAMLDOC_SEQ ? n->count : 1;
    for (size_t i = 0; i < count; i++) {
        const yamldoc_node *v = n->kind == YAMLDOC_SEQ ? n->values[i] : n;
        int k = is_word(v) ? scenario_canary_index(c->sc, v->text) : -1;
        if (k < 0)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "not a canary this scenario declares");
        if (a->ncanaries == SCENARIO_MAX_CANARIES)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "more than %d canaries in one assertion",
                                SCENARIO_MAX_CANARIES);
        a->canaries[a->ncanaries++] = k;
    }
    return 0;
}

static const char *const assert_keys[] = {"id", "title", "severity", "canary", "canaries", "planted_in", "seen_in",
                                          "where", "who", "cleared_by", "pattern", "function_variables",
                                          "shapes", "oom_within", "min_points", "min_r2", "expect", "check",
                                          "runtimes", "identity", "echo_class", "echo_severity", "class", NULL};

static int parse_assert(load_ctx *c, const yamldoc_node *n, scenario_assert *a)
{
    static const struct { const char *name; scenario_assert_kind kind; } kinds[] = {
        {"canary_seen", ASSERT_CANARY_SEEN}, {"pattern_seen", ASSERT_PATTERN_SEEN},
        {"secret_seen", ASSERT_SECRET_SEEN}, {"memory_growth", ASSERT_MEMORY_GROWTH},
        {"status", ASSERT_STATUS}, {"config", ASSERT_CONFIG}};
    const yamldoc_node *b, *v;
    const char *kind;
    size_t k;
    char *s = NULL;

    if (yamldoc_expect(c->doc, n, YAMLDOC_MAP, "each assertion", c->err, c->errlen) != 0)
        return -1;
    if (n->count != 1)
        return yamldoc_fail(c->doc, n, c->err, c->errlen, "an assertion is one of canary_seen:, pattern_seen:, "
                                                          "secret_seen:, memory_growth:, status: or config:");
    kind = n->keys[0]->text;
    b = n->values[0];
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        if (strcmp(kind, kinds[k].name) == 0)
            break;
    if (k == sizeof(kinds) / sizeof(kinds[0]))
        return yamldoc_fail(c->doc, n->keys[0], c->err, c->errlen, "unknown assertion '%s'", kind);
    a->kind = kinds[k].kind;
    a->line = n->line;
    a->column = n->column;
    a->cleared_by = -1;
    a->sev = c->sc->sev;
    a->where = WHERE_PAYLOAD | WHERE_LOG;
    a->oom_within.param = a->min_points.param = -1;
    a->oom_within.value = 10000;
    a->min_points.value = 10;
    a->min_r2 = 0.8;
    if (yamldoc_expect(c->doc, b, YAMLDOC_MAP, kind, c->err, c->errlen) != 0 ||
        yamldoc_check_keys(c->doc, b, assert_keys, kind, c->err, c->errlen) != 0 ||
        req_string(c, b, "id", &a->id) != 0 || req_string(c, b, "title", &a->title) != 0)
        return -1;
    if ((v = yamldoc_get(b, "severity"))) {
        if (yamldoc_string(c->doc, v, "severity", &s, c->err, c->errlen) != 0)
            return -1;
        k = (size_t)severity_parse(s, &a->sev);
        free(s);
        if (k != 0)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "severity: info, low, medium, high or critical");
    }
    if ((v = yamldoc_get(b, "seen_in")) && step_list(c, v, "seen_in", &a->seen_in) != 0)
        return -1;
    if ((v = yamldoc_get(b, "planted_in")) && step_list(c, v, "planted_in", &a->planted_in) != 0)
        return -1;
    if ((v = yamldoc_get(b, "where")) && where_list(c, v, &a->where) != 0)
        return -1;
    if ((v = yamldoc_get(b, "canary")) && canary_list(c, v, a) != 0)
        return -1;
    if ((v = yamldoc_get(b, "canaries")) && canary_list(c, v, a) != 0)
        return -1;
    if ((v = yamldoc_get(b, "who"))) {
        if (is_word(v) && strcmp(v->text, "any") == 0)
            a->who = WHO_ANY;
        else if (is_word(v) && strcmp(v->text, "other_user") == 0)
            a->who = WHO_OTHER_USER;
        else if (is_word(v) && strcmp(v->text, "other_invocation") == 0)
            a->who = WHO_OTHER_INVOCATION;
        else if (is_word(v) && strcmp(v->text, "concurrent_other_user") == 0)
            a->who = WHO_CONCURRENT_OTHER_USER;
        else
            return yamldoc_fail(c->doc, v, c->err, c->errlen,
                                "who: any, other_user, other_invocation or concurrent_other_user");
    }
    if ((v = yamldoc_get(b, "cleared_by"))) {
        if (expect_word(c, v, "cleared_by") != 0)
            return -1;
        a->cleared_by = scenario_step_index(c->sc, v->text);
        if (a->cleared_by < 0)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "cleared_by: no step with id '%s'", v->text);
    }
    if ((v = yamldoc_get(b, "shapes"))) {
        if (expect_word(c, v, "shapes") != 0 ||
            catalog_get(c, v, v->text, &a->shapes) != 0 || bind_catalog(c, v, a->shapes, "pattern") != 0)
            return -1;
    }
    if ((v = yamldoc_get(b, "runtimes"))) {
        if (expect_word(c, v, "runtimes") != 0 ||
            catalog_get(c, v, v->text, &a->runtimes) != 0 || bind_catalog(c, v, a->runtimes, "deprecated") != 0)
            return -1;
    }
    if ((v = yamldoc_get(b, "identity")) &&
        yamldoc_bool(c->doc, v, "identity", &a->identity, c->err, c->errlen) != 0)
        return -1;
    a->echo_sev = a->sev;
    if (opt_string(c, b, "echo_class", &a->echo_class) != 0 || opt_string(c, b, "class", &a->cls) != 0)
        return -1;
    if ((v = yamldoc_get(b, "echo_severity"))) {
        if (yamldoc_string(c->doc, v, "echo_severity", &s, c->err, c->errlen) != 0)
            return -1;
        k = (size_t)severity_parse(s, &a->echo_sev);
        free(s);
        s = NULL;
        if (k != 0)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "echo_severity: info, low, medium, high or critical");
    }
    if ((v = yamldoc_get(b, "function_variables")) &&
        yamldoc_bool(c->doc, v, "function_variables", &a->function_variables, c->err, c->errlen) != 0)
        return -1;
    if ((v = yamldoc_get(b, "oom_within")) && get_num(c, v, "oom_within", 1, 100000000, &a->oom_within) != 0)
        return -1;
    if ((v = yamldoc_get(b, "min_points")) && get_num(c, v, "min_points", 3, 100000, &a->min_points) != 0)
        return -1;
    if ((v = yamldoc_get(b, "min_r2")) &&
        yamldoc_double(c->doc, v, "min_r2", 0.0, 1.0, &a->min_r2, c->err, c->errlen) != 0)
        return -1;
    if (opt_string(c, b, "pattern", &a->pattern) != 0 || opt_string(c, b, "expect", &a->expect) != 0)
        return -1;

    /* What each kind needs. */
    switch (a->kind) {
    case ASSERT_CANARY_SEEN:
        if (!a->ncanaries || !a->seen_in || !a->planted_in)
            return yamldoc_fail(c->doc, b, c->err, c->errlen, "canary_seen needs canary, planted_in and seen_in");
        if (a->expect && strcmp(a->expect, "never") != 0 && strcmp(a->expect, "always") != 0)
            return yamldoc_fail(c->doc, yamldoc_get(b, "expect"), c->err, c->errlen,
                                "expect: never (a sighting is the finding) or always (a missing one is)");
        a->always = a->expect && strcmp(a->expect, "always") == 0;
        break;
    case ASSERT_PATTERN_SEEN:
        if (!a->pattern || !a->seen_in)
            return yamldoc_fail(c->doc, b, c->err, c->errlen, "pattern_seen needs pattern and seen_in");
        if (compile_pattern(c, yamldoc_get(b, "pattern"), a->pattern, "pattern", &a->re) != 0)
            return -1;
        break;
    case ASSERT_SECRET_SEEN:
        if (!a->seen_in)
            return yamldoc_fail(c->doc, b, c->err, c->errlen, "secret_seen needs seen_in");
        break;
    case ASSERT_MEMORY_GROWTH:
        if (!a->seen_in)
            return yamldoc_fail(c->doc, b, c->err, c->errlen, "memory_growth needs seen_in");
        break;
    case ASSERT_STATUS:
        if (!a->seen_in || !a->expect || (strcmp(a->expect, "ok") != 0 && strcmp(a->expect, "error") != 0))
            return yamldoc_fail(c->doc, b, c->err, c->errlen, "status needs seen_in and expect: ok|error");
        break;
    case ASSERT_CONFIG: {
        static const char *const checks[] = {"plaintext_secret", "deprecated_runtime", "no_reserved_concurrency",
                                             "trigger_timeout"};
        size_t i;
        v = yamldoc_get(b, "check");
        if (!is_word(v))
            return yamldoc_fail(c->doc, b, c->err, c->errlen, "config needs check: %s, %s, %s or %s", checks[0],
                                checks[1], checks[2], checks[3]);
        for (i = 0; i < 4; i++)
            if (strcmp(v->text, checks[i]) == 0)
                break;
        if (i == 4)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "unknown check '%s'", v->text);
        a->check = (scenario_check)i;
        if (a->check == CHECK_DEPRECATED_RUNTIME && !a->runtimes)
            return yamldoc_fail(c->doc, b, c->err, c->errlen, "deprecated_runtime needs runtimes: CATALOG");
        break;
    }
    }
    return 0;
}

/* ---- the scenario file ---- */

static const char *const scenario_keys[] = {"id",         "title",    "class", "severity", "proves",
                                            "fix",        "references", "parameters", "canaries", "users",
                                            "steps",      "assertions", "requires", NULL};

/* requires: {max_concurrency: N}: the scenario tests what only a function
 * serving N requests at once in one environment can do. */
static int parse_requires(load_ctx *c, const yamldoc_node *v)
{
    static const char *const keys[] = {"max_concurrency", NULL};
    const yamldoc_node *mc;

    if (yamldoc_expect(c->doc, v, YAMLDOC_MAP, "requires", c->err, c->errlen) != 0 ||
        yamldoc_check_keys(c->doc, v, keys, "requires", c->err, c->errlen) != 0)
        return -1;
    if (!(mc = yamldoc_get(v, "max_concurrency")))
        return yamldoc_fail(c->doc, v, c->err, c->errlen, "requires: needs max_concurrency");
    /* AWS's range for PerExecutionEnvironmentMaxConcurrency. */
    return yamldoc_long(c->doc, mc, "max_concurrency", 1, 1600, &c->sc->requires_max_concurrency, c->err,
                        c->errlen);
}

static int parse_header(load_ctx *c, const yamldoc_node *root)
{
    scenario *sc = c->sc;
    const yamldoc_node *v;
    char *s = NULL;
    int r;

    if (req_string(c, root, "id", &sc->id) || req_string(c, root, "title", &sc->title) ||
        req_string(c, root, "class", &sc->cls) || req_string(c, root, "proves", &sc->proves) ||
        req_string(c, root, "fix", &sc->fix))
        return -1;
    if (!name_ok(sc->id))
        return yamldoc_fail(c->doc, yamldoc_get(root, "id"), c->err, c->errlen, "id: letters, digits, '-', '_'");
    if (!name_ok(sc->cls))
        return yamldoc_fail(c->doc, yamldoc_get(root, "class"), c->err, c->errlen,
                            "class: letters, digits, '-' and '_' (the built-in classes are "
                            "injection-persistence, cross-user-leak, tmp-residue, memory-growth, "
                            "secret-exposure, concurrent-state and config)");
    if (req_string(c, root, "severity", &s) != 0)
        return -1;
    r = severity_parse(s, &sc->sev);
    free(s);
    if (r != 0)
        return yamldoc_fail(c->doc, yamldoc_get(root, "severity"), c->err, c->errlen,
                            "severity: info, low, medium, high or critical");
    if ((v = yamldoc_get(root, "references"))) {
        static const char *const keys[] = {"cwe", "seed", "title", NULL};
        if (yamldoc_expect(c->doc, v, YAMLDOC_SEQ, "references", c->err, c->errlen) != 0)
            return -1;
        sc->refs = calloc(v->count ? v->count : 1, sizeof(*sc->refs));
        if (!sc->refs)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "out of memory");
        for (size_t i = 0; i < v->count; i++) {
            const yamldoc_node *r0 = v->values[i];
            scenario_ref *ref = &sc->refs[sc->nrefs++];
            if (yamldoc_check_keys(c->doc, r0, keys, "reference", c->err, c->errlen) ||
                opt_string(c, r0, "cwe", &ref->cwe) || opt_string(c, r0, "seed", &ref->seed) ||
                req_string(c, r0, "title", &ref->title))
                return -1;
        }
    }
    if ((v = yamldoc_get(root, "parameters"))) {
        if (yamldoc_expect(c->doc, v, YAMLDOC_MAP, "parameters", c->err, c->errlen) != 0)
            return -1;
        if (v->count > SCENARIO_MAX_PARAMS)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "more than %d parameters", SCENARIO_MAX_PARAMS);
        for (size_t i = 0; i < v->count; i++) {
            scenario_param *p = &sc->params[sc->nparams];
            if (!name_ok(v->keys[i]->text))
                return yamldoc_fail(c->doc, v->keys[i], c->err, c->errlen, "parameter names: letters, digits, _");
            if (yamldoc_long(c->doc, v->values[i], v->keys[i]->text, 0, 1000000000, &p->value, c->err, c->errlen))
                return -1;
            p->min = 0;
            p->max = 1000000000;
            p->name = strdup(v->keys[i]->text);
            if (!p->name)
                return yamldoc_fail(c->doc, v, c->err, c->errlen, "out of memory");
            sc->nparams++;
        }
    }
    if ((v = yamldoc_get(root, "canaries"))) {
        static const char *const keys[] = {"per", "plant", NULL};
        if (yamldoc_expect(c->doc, v, YAMLDOC_MAP, "canaries", c->err, c->errlen) != 0)
            return -1;
        if (v->count > SCENARIO_MAX_CANARIES)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "more than %d canaries", SCENARIO_MAX_CANARIES);
        for (size_t i = 0; i < v->count; i++) {
            scenario_canary *k = &sc->canaries[sc->ncanaries];
            const yamldoc_node *d = v->values[i], *per;
            if (!name_ok(v->keys[i]->text))
                return yamldoc_fail(c->doc, v->keys[i], c->err, c->errlen, "canary names: letters, digits, _");
            if (yamldoc_check_keys(c->doc, d, keys, "canary", c->err, c->errlen) != 0 || need(c, d, "per", &per))
                return -1;
            if (!is_word(per) || (strcmp(per->text, "run") != 0 && strcmp(per->text, "invocation") != 0))
                return yamldoc_fail(c->doc, per, c->err, c->errlen, "per: run or invocation");
            k->per_run = strcmp(per->text, "run") == 0;
            if (!(k->name = strdup(v->keys[i]->text)) || opt_string(c, d, "plant", &k->plant) != 0)
                return -1;
            sc->ncanaries++;
            if (k->plant && !k->per_run)
                return yamldoc_fail(c->doc, d, c->err, c->errlen, "only 'per: run' canaries can be planted");
            if (k->plant && (strncmp(k->plant, "COLDSEC_", 8) != 0 || !name_ok(k->plant)))
                return yamldoc_fail(c->doc, yamldoc_get(d, "plant"), c->err, c->errlen,
                                    "plant: a variable name starting with COLDSEC_ (never one of the function's)");
        }
    }
    if ((v = yamldoc_get(root, "requires")) && parse_requires(c, v) != 0)
        return -1;
    if ((v = yamldoc_get(root, "users"))) {
        if (yamldoc_expect(c->doc, v, YAMLDOC_SEQ, "users", c->err, c->errlen) != 0)
            return -1;
        if (v->count > SCENARIO_MAX_USERS)
            return yamldoc_fail(c->doc, v, c->err, c->errlen, "more than %d users", SCENARIO_MAX_USERS);
        for (size_t i = 0; i < v->count; i++) {
            if (yamldoc_string(c->doc, v->values[i], "users", &sc->users[sc->nusers], c->err, c->errlen) != 0)
                return -1;
            sc->nusers++;
            if (!name_ok(sc->users[sc->nusers - 1]))
                return yamldoc_fail(c->doc, v->values[i], c->err, c->errlen, "user names: letters, digits, -, _");
        }
    }
    return 0;
}

static void scenario_free(scenario *sc)
{
    if (!sc)
        return;
    free(sc->id);
    free(sc->title);
    free(sc->cls);
    free(sc->proves);
    free(sc->fix);
    free(sc->path);
    free(sc->overrides);
    for (size_t i = 0; i < sc->nrefs; i++) {
        free(sc->refs[i].cwe);
        free(sc->refs[i].seed);
        free(sc->refs[i].title);
    }
    free(sc->refs);
    for (size_t i = 0; i < sc->nparams; i++)
        free(sc->params[i].name);
    for (size_t i = 0; i < sc->ncanaries; i++) {
        free(sc->canaries[i].name);
        free(sc->canaries[i].plant);
    }
    for (size_t i = 0; i < sc->nusers; i++)
        free(sc->users[i]);
    for (size_t i = 0; i < SCENARIO_MAX_STEPS; i++) {
        free(sc->steps[i].id);
        cJSON_Delete(sc->steps[i].set);
        free(sc->steps[i].stop_on);
        pcre2_code_free(sc->steps[i].stop_re);
    }
    for (size_t i = 0; i < sc->nasserts; i++) {
        free(sc->asserts[i].id);
        free(sc->asserts[i].title);
        free(sc->asserts[i].pattern);
        pcre2_code_free(sc->asserts[i].re);
        free(sc->asserts[i].expect);
        free(sc->asserts[i].echo_class);
        free(sc->asserts[i].cls);
    }
    free(sc->asserts);
    free(sc);
}

/* One scenario file. A built-in one (builtin) whose id the suite-side
 * folder already defines is skipped, and the suite's one records it. */
static int load_one(scenario_set *set, const char *path, bool builtin, char *err, size_t errlen)
{
    load_ctx c = {set, NULL, NULL, err, errlen};
    yamldoc *doc = NULL;
    const yamldoc_node *root, *v;
    scenario *sc = NULL;
    int rc = -1;

    if (yamldoc_load(path, &doc, err, errlen) != 0)
        return -1;
    c.doc = doc;
    root = yamldoc_root(doc);
    if (!root) {
        snprintf(err, errlen, "%s: empty scenario file", path);
        goto cleanup;
    }
    if (yamldoc_check_keys(doc, root, scenario_keys, "scenario", err, errlen) != 0)
        goto cleanup;
    sc = calloc(1, sizeof(*sc));
    if (!sc || !(sc->path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        goto cleanup;
    }
    c.sc = sc;
    if (parse_header(&c, root) != 0)
        goto cleanup;
    sc->builtin = builtin;
    for (size_t i = 0; i < set->count; i++) {
        if (strcmp(set->items[i]->id, sc->id) == 0 && builtin && !set->items[i]->builtin) {
            rc = (set->items[i]->overrides = strdup(path)) ? 0 : -1;
            if (rc != 0)
                snprintf(err, errlen, "out of memory");
            goto cleanup;
        }
        if (strcmp(set->items[i]->id, sc->id) == 0) {
            yamldoc_fail(doc, yamldoc_get(root, "id"), err, errlen, "scenario '%s' is also defined in %s", sc->id,
                         set->items[i]->path);
            goto cleanup;
        }
    }
    if ((v = yamldoc_get(root, "steps"))) {
        if (yamldoc_expect(doc, v, YAMLDOC_SEQ, "steps", err, errlen) != 0)
            goto cleanup;
        if (v->count > SCENARIO_MAX_STEPS) {
            yamldoc_fail(doc, v, err, errlen, "more than %d steps", SCENARIO_MAX_STEPS);
            goto cleanup;
        }
        for (size_t i = 0; i < v->count; i++) {
            if (parse_step(&c, v->values[i], i) != 0)
                goto cleanup;
            sc->nsteps++;
        }
    }
    if (need(&c, root, "assertions", &v) != 0 || yamldoc_expect(doc, v, YAMLDOC_SEQ, "assertions", err, errlen))
        goto cleanup;
    if (v->count == 0) {
        yamldoc_fail(doc, v, err, errlen, "a scenario needs at least one assertion");
        goto cleanup;
    }
    sc->asserts = calloc(v->count, sizeof(*sc->asserts));
    if (!sc->asserts) {
        snprintf(err, errlen, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < v->count; i++) {
        if (parse_assert(&c, v->values[i], &sc->asserts[i]) != 0) {
            sc->nasserts = i + 1;
            goto cleanup;
        }
        sc->nasserts = i + 1;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(sc->asserts[j].id, sc->asserts[i].id) == 0) {
                yamldoc_fail(doc, v->values[i], err, errlen, "a second assertion with id '%s'", sc->asserts[i].id);
                goto cleanup;
            }
        }
    }
    if (set->count >= MAX_SCENARIOS) {
        snprintf(err, errlen, "%s: more than %d scenarios", path, MAX_SCENARIOS);
        goto cleanup;
    }
    set->items[set->count++] = sc;
    sc = NULL;
    rc = 0;
cleanup:
    scenario_free(sc);
    yamldoc_free(doc);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every *.yaml of dir (sorted) into set. A missing dir is skipped when
 * optional. */
static int load_dir(scenario_set *set, const char *dir, bool optional, bool builtin, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    const struct dirent *e;
    char *names[MAX_SCENARIOS];
    size_t n = 0;
    int rc = -1;

    if (!d && optional && errno == ENOENT)
        return 0;
    if (!d) {
        snprintf(err, errlen, "%s: cannot read the scenario folder: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0 || e->d_name[0] == '.')
            continue;
        if (n == MAX_SCENARIOS) {
            snprintf(err, errlen, "%s: more than %d scenario files", dir, MAX_SCENARIOS);
            goto cleanup;
        }
        if (!(names[n] = strdup(e->d_name))) {
            snprintf(err, errlen, "out of memory");
            goto cleanup;
        }
        n++;
    }
    qsort(names, n, sizeof(names[0]), cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (load_one(set, path, builtin, err, errlen) != 0)
            goto cleanup;
    }
    rc = 0;
cleanup:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    closedir(d);
    return rc;
}

/* Whether a and b name the same folder (a suite inside coldsec's source
 * tree uses the built-in folder itself as its own). */
static bool same_dir(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];
    return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

int scenario_set_load_layered(const char *dir, bool optional, const char *builtin, scenario_set **out, char *err,
                              size_t errlen)
{
    scenario_set *set = calloc(1, sizeof(*set));
    bool own_is_builtin = builtin && same_dir(dir, builtin);
    int rc = -1;

    *out = NULL;
    /* The suite's folder is the built-in one: one layer, said built-in. */
    if (own_is_builtin)
        builtin = NULL;
    if (!builtin)
        optional = false;
    if (!set || !(set->dir = strdup(dir)) || (builtin && !(set->builtin = strdup(builtin)))) {
        snprintf(err, errlen, "out of memory");
        goto cleanup;
    }
    if (load_dir(set, dir, optional, own_is_builtin, err, errlen) != 0 ||
        (builtin && load_dir(set, builtin, false, true, err, errlen) != 0))
        goto cleanup;
    if (set->count == 0) {
        snprintf(err, errlen, "%s: no scenario files (*.yaml)", builtin ? builtin : dir);
        goto cleanup;
    }
    *out = set;
    set = NULL;
    rc = 0;
cleanup:
    scenario_set_free(set);
    return rc;
}

int scenario_set_load(const char *dir, scenario_set **out, char *err, size_t errlen)
{
    return scenario_set_load_layered(dir, false, NULL, out, err, errlen);
}

void scenario_set_free(scenario_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++)
        scenario_free(s->items[i]);
    for (size_t i = 0; i < s->ncats; i++)
        catalog_free(s->cats[i]);
    free(s->dir);
    free(s->builtin);
    free(s);
}

size_t scenario_set_count(const scenario_set *s)
{
    return s->count;
}

const scenario *scenario_set_at(const scenario_set *s, size_t i)
{
    return i < s->count ? s->items[i] : NULL;
}

const scenario *scenario_set_find(const scenario_set *s, const char *id)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i]->id, id) == 0)
            return s->items[i];
    return NULL;
}

const catalog *scenario_set_catalog(const scenario_set *s, const char *name)
{
    for (size_t i = 0; i < s->ncats; i++)
        if (strcmp(s->cats[i]->name, name) == 0)
            return s->cats[i];
    return NULL;
}
