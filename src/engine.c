/*
 * engine — one scenario against one target (see engine.h).
 *
 * Three phases. Plan: every invoke step becomes a list of invocations —
 * variants (baseline fields × catalog entries) × count × users, shuffled
 * with the seed when the step asks — fixed before anything is sent, and
 * written to plan.json. Run: steps in order; each invocation's payload is
 * rendered just before it starts (canaries drawn then) and its answer,
 * log tail and REPORT line kept (answers capped). Evaluate: each assertion
 * reads the kept answers and yields at most one finding, with evidence.
 *
 * A payload can always be rendered again from the plan and the canaries
 * the invocation drew, so requests are never kept in memory: the evidence
 * re-renders the few it shows and writes them to replay/ for `coldsec
 * invoke --payload @FILE`.
 */
#include "engine.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "canary.h"
#include "concur.h"
#include "event.h"
#include "fanout.h"
#include "fileio.h"
#include "fnconfig.h"
#include "forcer.h"
#include "logtail.h"
#include "memfit.h"
#include "monotime.h"
#include "plan.h"
#include "rundir.h"
#include "secrets.h"
#include "tmpl.h"

#define KEEP_ANSWER ((size_t)256 * 1024)  /* bytes of each answer kept for the assertions */
#define EXCERPT ((size_t)360)                      /* bytes either side of what an excerpt shows */
#define MAX_EXAMPLES 3                    /* invocations shown per finding */
#define MAX_INVOCATIONS 200000
#define ENGINE_MASK_SHAPES "secret-shapes"   /* the catalog whose patterns mask evidence */
#define MAX_MERGE_PLACES 16               /* objects of the baseline a merge entry is tried at */
#define SPLIT_AT 15                       /* {{split:}}: "CSC" + 12 hex, then the other 12 */
#define ECHO_WINDOW ((size_t)48)          /* bytes before a sighting searched for a merge's own member */
#define MAX_OVERLAP_MARKS 64              /* concurrent sightings marked on the timeline */

typedef struct variant {
    char *field;               /* JSON Pointer into the baseline, or NULL */
    const cJSON *entry;        /* catalog entry, or NULL */
} variant;

typedef struct inv {
    int step, variant, user;
    size_t seq;
    char canary[SCENARIO_MAX_CANARIES][CANARY_LEN + 1];  /* per-invocation canaries, drawn on first use */
    fanout_state state;
    long status;
    char *fn_error;
    char *payload;
    size_t payload_len;
    char *log;
    size_t log_len;
    bool has_report, cold;
    int max_mem;
    double start_ms, end_ms;
    char request_id[LAMBDA_REQUEST_ID_MAX];  /* x-amzn-RequestId; "" when the answer had none */
    char err[240];
} inv;

/* A canary seen in a request that overlapped the one that sent it, as the
 * timeline marks it: both requests and the time they ran together. */
typedef struct overlap_mark {
    size_t planted_seq, seen_seq;
    double start_ms, end_ms;
} overlap_mark;

typedef struct canary_ref {
    char value[CANARY_LEN + 1];
    long owner;                /* invocation index, or -1 for a per-run or identity canary */
    int canary;                /* index into scenario.canaries, or -1 for an identity canary */
    int user;                  /* identity canary: whose {{user.id}} holds it; else -1 */
} canary_ref;

typedef struct run {
    const engine_opts *o;
    const scenario *sc;
    const long *params;
    char user_id[SCENARIO_MAX_USERS][64]; /* NAME-CANARY: the identity is a canary of its own */
    cJSON *base;               /* the baseline with JSON-string bodies opened (event_embedded_open) */
    event_fields embedded;     /* which strings of base were opened, closed again by render */
    char run_canary[SCENARIO_MAX_CANARIES][CANARY_LEN + 1];
    variant *variants[SCENARIO_MAX_STEPS];
    size_t nvariants[SCENARIO_MAX_STEPS];
    size_t first[SCENARIO_MAX_STEPS], count[SCENARIO_MAX_STEPS];
    bool ran[SCENARIO_MAX_STEPS];
    double step_start[SCENARIO_MAX_STEPS], step_end[SCENARIO_MAX_STEPS];  /* from t0 */
    inv *invs;
    size_t ninvs;
    forcer *f;
    int cold_starts;
    volatile sig_atomic_t halt;
    const pcre2_code *stop_re; /* the current step's stop_on */
    long flat_after;           /* the current step's stop_when_flat, 0 if none */
    int hwm;                   /* highest Max Memory Used of the current step, and answers since it rose */
    long since_rise;
    size_t cur_step;
    char *scratch;             /* the payload prepare() handed out last */
    FILE *jsonl;
    double t0;                 /* monotime_ms() when the scenario began */
    double step_t0;            /* the current step's start, from t0: fanout times are relative to it */
    secrets *mask;             /* the function's own variable values: masked in evidence */
    canary_ref *refs;
    size_t nrefs;
    cJSON *findings;
    engine_result *res;
    /* How the function runs requests (fnconfig.h): a multi-concurrent one's
     * log tails interleave other requests' lines, and its environments are
     * not one request at a time. */
    long max_concurrency;
    bool multi, managed;
    size_t unattributed;       /* multi: answers without a request id, so without log evidence */
    bool not_forced[SCENARIO_MAX_STEPS];  /* cold_start steps that did not change the function */
    const char *qualifier;     /* the target's version or alias, or NULL (forcer_target_qualifier) */
    char latest_base[512];     /* the unqualified name when the qualifier resolves to $LATEST, else "" */
    bool qualified_not_run;    /* a cold_start step did not run on a qualified target: never a pass */
    overlap_mark marks[MAX_OVERLAP_MARKS];
    size_t nmarks;
} run;

/* ---------- small helpers ---------- */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* The first reason a run could not finish wins, except that a failed
 * restore outranks everything. */
static void set_detail(run *r, engine_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_detail(run *r, engine_status st, const char *fmt, ...)
{
    va_list ap;
    if (r->res->status == ENGINE_DONE || st == ENGINE_NOT_RESTORED) {
        r->res->status = st;
        va_start(ap, fmt);
        vsnprintf(r->res->detail, sizeof(r->res->detail), fmt, ap);
        va_end(ap);
    }
}

/* A result's notes (summary.note, "; "-joined): what did not run and why,
 * where it is no finding and no failure. */
static void add_note(run *r, const char *msg)
{
    const char *old = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->res->summary, "note"));
    char joined[1024];
    if (!r->res->summary)
        return;
    if (old) {
        snprintf(joined, sizeof(joined), "%s; %s", old, msg);
        cJSON_DeleteItemFromObjectCaseSensitive(r->res->summary, "note");
        cJSON_AddStringToObject(r->res->summary, "note", joined);
    } else {
        cJSON_AddStringToObject(r->res->summary, "note", msg);
    }
}

static char *memdup0(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

static const cJSON *obj(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = obj(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---------- rendering a payload ---------- */

typedef struct render_ctx {
    run *r;
    inv *iv;
    char num[32];
    char split[CANARY_LEN + 8];
} render_ctx;

static int resolve_token(void *ctx, const tmpl_token *t, const char **value, size_t *vlen, size_t *pad, char *why,
                         size_t whylen)
{
    render_ctx *x = ctx;
    const scenario *sc = x->r->sc;
    char name[80];
    const char *whole;
    size_t n = t->arglen < sizeof(name) - 1 ? t->arglen : sizeof(name) - 1;
    int k;

    if (t->arg)
        memcpy(name, t->arg, n);
    name[t->arg ? n : 0] = '\0';
    switch (t->kind) {
    case TMPL_CANARY:
    case TMPL_CANARY_SPLIT:
        k = scenario_canary_index(sc, name);
        if (k < 0) {
            snprintf(why, whylen, "no canary '%s'", name);
            return -1;
        }
        if (sc->canaries[k].per_run) {
            *value = x->r->run_canary[k];
        } else {
            if (!x->iv->canary[k][0] && canary_new(x->iv->canary[k], sizeof(x->iv->canary[k])) != 0) {
                snprintf(why, whylen, "OpenSSL's RNG failed");
                return -1;
            }
            *value = x->iv->canary[k];
        }
        *vlen = CANARY_LEN;
        if (t->kind == TMPL_CANARY_SPLIT) {
            /* Two quoted halves that Python and JavaScript both join with
             * '+': only code that ran the payload holds the whole canary. */
            whole = *value;
            snprintf(x->split, sizeof(x->split), "%.*s'+'%s", SPLIT_AT, whole, whole + SPLIT_AT);
            *value = x->split;
            *vlen = strlen(x->split);
        }
        return 0;
    case TMPL_USER_ID:
        *value = x->r->user_id[x->iv->user];
        *vlen = strlen(*value);
        return 0;
    case TMPL_USER_NAME:
        *value = sc->users[x->iv->user];
        *vlen = strlen(*value);
        return 0;
    case TMPL_SEQ:
        snprintf(x->num, sizeof(x->num), "%zu", x->iv->seq);
        *value = x->num;
        *vlen = strlen(x->num);
        return 0;
    case TMPL_PAD:
        if (name[0] == '$') {
            k = scenario_param_index(sc, name + 1);
            *pad = k < 0 ? 0 : (size_t)x->r->params[k];
        } else {
            *pad = (size_t)strtoul(name, NULL, 10);
        }
        return 0;
    default:
        snprintf(why, whylen, "unexpected template");
        return -1;
    }
}

static int expand_string(render_ctx *x, const char *s, char **out, size_t *outlen, char *err, size_t errlen)
{
    *out = tmpl_expand(s, strlen(s), resolve_token, x, outlen, err, errlen);
    return *out ? 0 : -1;
}

/* Expands every template in the tree in place, keys included, once. */
static int expand_tree(render_ctx *x, cJSON *v, char *err, size_t errlen)
{
    char *s;
    size_t n;
    if (v->string && tmpl_has_tokens(v->string, strlen(v->string))) {
        if (expand_string(x, v->string, &s, &n, err, errlen) != 0)
            return -1;
        cJSON_free(v->string);
        v->string = s;
    }
    if (cJSON_IsString(v) && tmpl_has_tokens(v->valuestring, strlen(v->valuestring))) {
        if (expand_string(x, v->valuestring, &s, &n, err, errlen) != 0)
            return -1;
        cJSON_free(v->valuestring);
        v->valuestring = s;
    }
    for (cJSON *c = v->child; c; c = c->next) {
        if (expand_tree(x, c, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static char *b64(const char *in, size_t len)
{
    size_t cap = 4 * ((len + 2) / 3) + 1;
    char *out = malloc(cap);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)len);
    return out;
}

/* The Invoke payload of invocation iv: baseline, its variant, templates, envelope. */
static char *render(run *r, inv *iv, size_t *len, char *err, size_t errlen)
{
    const suite_target *t = r->o->t;
    const scenario_step *st = &r->sc->steps[iv->step];
    const variant *v = &r->variants[iv->step][iv->variant];
    event_envelope envelope = st->envelope >= 0 ? (event_envelope)st->envelope : t->envelope;
    render_ctx x = {r, iv, "", ""};
    cJSON *ev = cJSON_Duplicate(r->base, 1), *val = NULL;
    /* Users after the step's first send the varied field omitted or empty
     * instead (vary.others): what the first one sent must not reach them. */
    bool other = st->others != OTHERS_SAME && st->nusers > 0 && iv->user != st->users[0];
    const cJSON *set = st->set;
    char *body = NULL, *out = NULL;
    const char *body_text = NULL;
    bool body_b64 = false;
    char request_id[64];

    if (!ev)
        goto oom;
    if (v->entry) {
        const cJSON *merge = obj(v->entry, "merge");
        set = obj(v->entry, "set");
        if (cJSON_IsString(obj(v->entry, "body"))) {
            body_text = str(v->entry, "body");
            body_b64 = cJSON_IsTrue(obj(v->entry, "base64"));
        }
        if (merge) {
            /* At the object the variant names: a handler merges whatever
             * part of the event it trusts (event.prefs, a parsed body). */
            if (event_merge_top(event_get(ev, v->field ? v->field : ""), merge) != 0) {
                snprintf(err, errlen, "could not merge catalog entry %s at '%s'", str(v->entry, "id"),
                         v->field ? v->field : "");
                goto fail;
            }
            set = NULL;
        }
    }
    if (v->field && !(v->entry && obj(v->entry, "merge"))) {
        if (other && st->others == OTHERS_OMIT) {
            if (event_delete(ev, v->field) != 0) {
                snprintf(err, errlen, "could not omit %s", v->field);
                goto fail;
            }
        } else if (other) {
            val = cJSON_CreateString("");
            if (!val)
                goto oom;
            if (event_replace(ev, v->field, val) != 0) {
                snprintf(err, errlen, "could not empty %s", v->field);
                goto fail;
            }
        } else if (v->entry && cJSON_IsTrue(obj(v->entry, "delete"))) {
            if (event_delete(ev, v->field) != 0) {
                snprintf(err, errlen, "could not delete %s", v->field);
                goto fail;
            }
        } else if (set) {
            if (v->entry && cJSON_IsString(set) && str(v->entry, "encode") &&
                strcmp(str(v->entry, "encode"), "base64") == 0) {
                char *plain;
                size_t plen;
                if (expand_string(&x, set->valuestring, &plain, &plen, err, errlen) != 0)
                    goto fail;
                body = b64(plain, plen);
                free(plain);
                val = body ? cJSON_CreateString(body) : NULL;
                free(body);
                body = NULL;
            } else {
                val = cJSON_Duplicate(set, 1);
            }
            if (!val)
                goto oom;
            if (event_replace(ev, v->field, val) != 0) {
                snprintf(err, errlen, "could not set %s", v->field);
                goto fail;
            }
        }
    }
    if (expand_tree(&x, ev, err, errlen) != 0)
        goto fail;
    if (event_embedded_close(ev, &r->embedded) != 0)
        goto oom;
    body = body_text ? strdup(body_text) : cJSON_PrintUnformatted(ev);
    if (!body)
        goto oom;
    if (t->url) {
        /* transport http: the trigger builds the event from the request. */
        *len = strlen(body);
        cJSON_Delete(ev);
        return body;
    }
    snprintf(request_id, sizeof(request_id), "coldsec-%016llx-%06zu",
             (unsigned long long)fnv1a(r->o->s->seed, r->sc->id), iv->seq);
    {
        event_http http = {.request_id = request_id, .time_ms = 1795000000000LL + (long long)iv->seq,
                           .base64 = body_b64};
        out = event_wrap(envelope, body, strlen(body), &http, len, err, errlen);
    }
    cJSON_Delete(ev);
    free(body);
    return out;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    cJSON_Delete(ev);
    free(body);
    return NULL;
}

/* ---------- plan ---------- */

static bool has_tokens(const cJSON *v)
{
    return cJSON_IsString(v) && tmpl_has_tokens(v->valuestring, strlen(v->valuestring));
}

/* Fields of the baseline a step varies: never those carrying templates (the
 * caller's identity). */
static int select_fields(run *r, scenario_fields which, event_fields *out)
{
    event_fields all = {NULL, 0};
    const cJSON *base = r->base;
    size_t keep = 0, longest = 0;
    long best = -1;

    memset(out, 0, sizeof(*out));
    if (which == FIELDS_NONE)
        return 0;
    if (event_fields_list(base, which == FIELDS_LEAVES ? EVENT_LEAVES : EVENT_STRINGS, &all) != 0)
        return -1;
    for (size_t i = 0; i < all.count; i++) {
        const cJSON *v = event_get(base, all.paths[i]);
        if (!v || has_tokens(v)) {
            free(all.paths[i]);
            continue;
        }
        if (which == FIELDS_LONGEST && cJSON_IsString(v) && (long)strlen(v->valuestring) > best) {
            best = (long)strlen(v->valuestring);
            longest = keep;
        }
        all.paths[keep++] = all.paths[i];
    }
    all.count = keep;
    if (which == FIELDS_LONGEST && keep > 0) {
        char *p = all.paths[longest];
        for (size_t i = 0; i < keep; i++)
            if (i != longest)
                free(all.paths[i]);
        all.paths[0] = p;
        all.count = 1;
    }
    *out = all;
    return 0;
}

static long step_count(run *r, const scenario_step *st)
{
    if (st->until_full) {
        const cJSON *eph = obj(r->o->config, "EphemeralStorage");
        double mb = cJSON_IsNumber(obj(eph, "Size")) ? obj(eph, "Size")->valuedouble : 512.0;
        double fill = (double)scenario_num_value(&st->fill_bytes, r->params);
        long n = (long)ceil(mb * 1048576.0 * 1.25 / fill) + 2;
        return n > 100000 ? 100000 : n;
    }
    if (st->until_oom) {
        /* Twice the memory in requests: a function that keeps what it is
         * sent runs out well before, one that keeps nothing never does. */
        double mb = cJSON_IsNumber(obj(r->o->config, "MemorySize")) ? obj(r->o->config, "MemorySize")->valuedouble
                                                                     : 128.0;
        double fill = (double)scenario_num_value(&st->fill_bytes, r->params);
        long n = (long)ceil(mb * 1048576.0 * 2.0 / fill) + 10;
        return n > 100000 ? 100000 : n;
    }
    return scenario_num_value(&st->count, r->params);
}

static int add_variant(variant **vs, size_t *n, size_t *cap, const char *field, const cJSON *entry)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        variant *p = realloc(*vs, nc * sizeof(*p));
        if (!p)
            return -1;
        *vs = p;
        *cap = nc;
    }
    (*vs)[*n].field = field ? strdup(field) : NULL;
    (*vs)[*n].entry = entry;
    if (field && !(*vs)[*n].field)
        return -1;
    (*n)++;
    return 0;
}

static int plan_variants(run *r, size_t si)
{
    const scenario_step *st = &r->sc->steps[si];
    event_fields fields, objects = {NULL, 0};
    variant *vs = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;

    if (select_fields(r, st->fields, &fields) != 0)
        return -1;
    if (st->cat && event_fields_list(r->base, EVENT_OBJECTS, &objects) != 0) {
        event_fields_free(&fields);
        return -1;
    }
    if (st->set) {
        for (size_t i = 0; i < fields.count; i++)
            if (add_variant(&vs, &n, &cap, fields.paths[i], NULL) != 0)
                goto cleanup;
    } else if (st->cat) {
        const cJSON *e;
        /* Merges first: a merge leaves every string at the baseline, so a
         * function that keeps the last text it was sent would show later
         * callers only the baseline's had a merge come last. */
        for (int pass = 0; pass < 2; pass++) {
            cJSON_ArrayForEach(e, st->cat->entries) {
                if ((obj(e, "merge") != NULL) != (pass == 0))
                    continue;
                if (obj(e, "body")) {
                    /* Lambda rejects a raw Invoke payload that is not JSON:
                     * only an HTTP trigger's handler ever sees such a body. */
                    if (((st->envelope >= 0 ? st->envelope : (int)r->o->t->envelope) != EVENT_ENVELOPE_RAW ||
                         r->o->t->url) &&
                        add_variant(&vs, &n, &cap, NULL, e) != 0)
                        goto cleanup;
                } else if (obj(e, "merge")) {
                    for (size_t i = 0; i < objects.count && i < MAX_MERGE_PLACES; i++)
                        if (add_variant(&vs, &n, &cap, objects.paths[i][0] ? objects.paths[i] : NULL, e) != 0)
                            goto cleanup;
                } else {
                    for (size_t i = 0; i < fields.count; i++)
                        if (add_variant(&vs, &n, &cap, fields.paths[i], e) != 0)
                            goto cleanup;
                }
            }
        }
    } else if (add_variant(&vs, &n, &cap, NULL, NULL) != 0) {
        goto cleanup;
    }
    rc = 0;
cleanup:
    event_fields_free(&fields);
    event_fields_free(&objects);
    r->variants[si] = vs;
    r->nvariants[si] = n;
    return rc;
}

static int plan(run *r)
{
    const scenario *sc = r->sc;
    size_t total = 0;

    for (size_t si = 0; si < sc->nsteps; si++) {
        const scenario_step *st = &sc->steps[si];
        if (st->kind != STEP_INVOKE)
            continue;
        if (plan_variants(r, si) != 0)
            return -1;
        r->count[si] = r->nvariants[si] * (size_t)step_count(r, st) * st->nusers;
        total += r->count[si];
    }
    if (total > MAX_INVOCATIONS)
        return -1;
    r->invs = calloc(total ? total : 1, sizeof(*r->invs));
    if (!r->invs)
        return -1;
    for (size_t si = 0; si < sc->nsteps; si++) {
        const scenario_step *st = &sc->steps[si];
        size_t k;
        long reps;
        if (st->kind != STEP_INVOKE)
            continue;
        reps = step_count(r, st);
        r->first[si] = r->ninvs;
        k = r->ninvs;
        for (size_t v = 0; v < r->nvariants[si]; v++)
            for (long rep = 0; rep < reps; rep++)
                for (size_t u = 0; u < st->nusers; u++) {
                    r->invs[k].step = (int)si;
                    r->invs[k].variant = (int)v;
                    r->invs[k].user = st->users[u];
                    k++;
                }
        if (st->shuffle && r->count[si] > 1) {
            plan_rng rng;
            plan_rng_seed(&rng, fnv1a(fnv1a(r->o->s->seed ^ si, r->o->t->name), sc->id));
            for (size_t i = r->count[si] - 1; i > 0; i--) {
                size_t j = (size_t)plan_rng_below(&rng, i + 1);
                inv tmp = r->invs[r->first[si] + i];
                r->invs[r->first[si] + i] = r->invs[r->first[si] + j];
                r->invs[r->first[si] + j] = tmp;
            }
        }
        r->ninvs = k;
    }
    for (size_t i = 0; i < r->ninvs; i++)
        r->invs[i].seq = i + 1;
    return 0;
}

static int write_plan(run *r)
{
    cJSON *root = cJSON_CreateObject(), *steps, *users;
    char path[4096], *text;
    FILE *fp;
    int rc = -1;

    cJSON_AddStringToObject(root, "target", r->o->t->name);
    cJSON_AddStringToObject(root, "scenario", r->sc->id);
    cJSON_AddNumberToObject(root, "seed", (double)r->o->s->seed);
    users = cJSON_AddObjectToObject(root, "users");
    steps = cJSON_AddArrayToObject(root, "steps");
    for (size_t u = 0; u < r->sc->nusers; u++)
        cJSON_AddStringToObject(users, r->sc->users[u], r->user_id[u]);
    for (size_t si = 0; si < r->sc->nsteps; si++) {
        const scenario_step *st = &r->sc->steps[si];
        cJSON *s = cJSON_CreateObject(), *list;
        cJSON_AddStringToObject(s, "id", st->id);
        cJSON_AddStringToObject(s, "kind", st->kind == STEP_INVOKE ? "invoke"
                                           : st->kind == STEP_COLD_START ? "cold_start" : "sleep");
        cJSON_AddItemToArray(steps, s);
        if (st->kind != STEP_INVOKE)
            continue;
        cJSON_AddNumberToObject(s, "parallel", (double)scenario_num_value(&st->parallel, r->params));
        list = cJSON_AddArrayToObject(s, "invocations");
        for (size_t i = r->first[si]; i < r->first[si] + r->count[si]; i++) {
            const inv *iv = &r->invs[i];
            const variant *v = &r->variants[si][iv->variant];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "seq", (double)iv->seq);
            cJSON_AddStringToObject(e, "user", r->sc->users[iv->user]);
            if (v->field)
                cJSON_AddStringToObject(e, "field", v->field);
            if (v->entry)
                cJSON_AddStringToObject(e, "entry", str(v->entry, "id") ? str(v->entry, "id") : "?");
            cJSON_AddItemToArray(list, e);
        }
    }
    text = cJSON_Print(root);
    snprintf(path, sizeof(path), "%s/plan.json", r->o->dir);
    fp = text ? fopen(path, "w") : NULL;
    if (fp) {
        fputs(text, fp);
        fputc('\n', fp);
        rc = fclose(fp) == 0 ? 0 : -1;
    }
    free(text);
    cJSON_Delete(root);
    return rc;
}

/* ---------- running the steps ---------- */

static int prepare_one(void *ctx, size_t index, fanout_request *req)
{
    run *r = ctx;
    inv *iv = &r->invs[r->first[r->cur_step] + index];
    size_t len = 0;
    char err[200];

    free(r->scratch);
    r->scratch = render(r, iv, &len, err, sizeof(err));
    if (!r->scratch) {
        snprintf(iv->err, sizeof(iv->err), "payload: %s", err);
        return -1;
    }
    req->payload = (const unsigned char *)r->scratch;
    req->payload_len = len;
    req->tag = NULL;
    return 0;
}

static bool re_matches(const pcre2_code *re, const char *text, size_t len)
{
    pcre2_match_data *md;
    int rc;
    if (!re || !text)
        return false;
    md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md)
        return false;
    rc = pcre2_match(re, (PCRE2_SPTR)text, len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

static double ms1(double ms)
{
    return round(ms * 10) / 10;
}

static const char *const inv_states[] = {"pending", "ok", "failed", "cancelled"};

/* One invocation as invocations.jsonl and the report's timeline show it:
 * who sent which payload, what came back, when. */
static cJSON *inv_record(const run *r, const inv *iv)
{
    const variant *v = &r->variants[iv->step][iv->variant];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "seq", (double)iv->seq);
    cJSON_AddStringToObject(o, "step", r->sc->steps[iv->step].id);
    cJSON_AddStringToObject(o, "user", r->sc->users[iv->user]);
    if (v->field)
        cJSON_AddStringToObject(o, "field", v->field);
    if (v->entry && str(v->entry, "id"))
        cJSON_AddStringToObject(o, "entry", str(v->entry, "id"));
    cJSON_AddStringToObject(o, "state", inv_states[iv->state]);
    cJSON_AddNumberToObject(o, "status", (double)iv->status);
    if (iv->fn_error)
        cJSON_AddStringToObject(o, "function_error", iv->fn_error);
    if (iv->has_report) {
        cJSON_AddBoolToObject(o, "cold", iv->cold);
        cJSON_AddNumberToObject(o, "max_memory_used_mb", iv->max_mem);
    }
    if (iv->request_id[0])
        cJSON_AddStringToObject(o, "request_id", iv->request_id);
    cJSON_AddNumberToObject(o, "start_ms", ms1(iv->start_ms));
    cJSON_AddNumberToObject(o, "end_ms", ms1(iv->end_ms));
    return o;
}

static void write_jsonl(run *r, const inv *iv)
{
    cJSON *o;
    char *line;
    if (!r->jsonl)
        return;
    o = inv_record(r, iv);
    if (!o)
        return;
    cJSON_AddNumberToObject(o, "response_bytes", (double)iv->payload_len);
    if (iv->err[0])
        cJSON_AddStringToObject(o, "error", iv->err);
    line = cJSON_PrintUnformatted(o);
    if (line) {
        fputs(line, r->jsonl);
        fputc('\n', r->jsonl);
    }
    free(line);
    cJSON_Delete(o);
}

static void on_one_done(void *ctx, fanout_item *it)
{
    run *r = ctx;
    inv *iv = &r->invs[r->first[r->cur_step] + it->index];

    iv->state = it->state;
    iv->status = it->resp.status;
    iv->start_ms = it->start_ms + r->step_t0;
    iv->end_ms = it->end_ms + r->step_t0;
    if (it->resp.function_error)
        iv->fn_error = strdup(it->resp.function_error);
    if (it->resp.body) {
        iv->payload = memdup0(it->resp.body, it->resp.body_len);
        iv->payload_len = iv->payload ? it->resp.body_len : 0;
    }
    memcpy(iv->request_id, it->resp.request_id, sizeof(iv->request_id));
    if (it->log && r->multi) {
        /* One environment serves several requests at once and its tail
         * interleaves their lines: only those naming this request's id are
         * its evidence (contract 6), whatever the scenario. */
        if (logtail_own_lines(it->log, it->log_len, iv->request_id, &iv->log, &iv->log_len) != 0)
            iv->log_len = 0;
        if (!iv->request_id[0])
            r->unattributed++;
    } else if (it->log) {
        iv->log = memdup0(it->log, it->log_len);
        iv->log_len = iv->log ? it->log_len : 0;
    }
    iv->has_report = it->report.present;
    iv->cold = it->cold;
    iv->max_mem = it->report.max_memory_used_mb;
    if (it->err && !iv->err[0])
        lambda_error_format(it->err, iv->err, sizeof(iv->err));
    if (r->stop_re && (re_matches(r->stop_re, iv->payload, iv->payload_len) ||
                       re_matches(r->stop_re, iv->log, iv->log_len)))
        r->halt = 1;
    if (r->flat_after > 0 && iv->has_report) {
        if (iv->max_mem > r->hwm) {
            r->hwm = iv->max_mem;
            r->since_rise = 0;
        } else if (++r->since_rise >= r->flat_after) {
            r->halt = 1;   /* the high-water mark flattened: nothing is kept */
        }
    }
    write_jsonl(r, iv);
}

/* The first error an invocation of step si met, else fallback. */
static const char *step_error(const run *r, size_t si, const char *fallback)
{
    for (size_t i = r->first[si]; i < r->first[si] + r->count[si]; i++)
        if (r->invs[i].err[0])
            return r->invs[i].err;
    return fallback;
}

static int run_invoke(run *r, size_t si)
{
    const scenario_step *st = &r->sc->steps[si];
    fanout_options fo;
    fanout_stats stats;
    char err[512] = "";
    int rc = 0;

    memset(&fo, 0, sizeof(fo));
    memset(&stats, 0, sizeof(stats));
    r->cur_step = si;
    r->halt = 0;
    r->stop_re = st->stop_re;
    r->flat_after = scenario_num_value(&st->flat_after, r->params);
    r->hwm = 0;
    r->since_rise = 0;
    fo.function = r->o->t->function;
    fo.max_in_flight = (int)scenario_num_value(&st->parallel, r->params);
    fo.log_tail = true;
    fo.max_payload = KEEP_ANSWER;
    fo.prepare = prepare_one;
    fo.on_done = on_one_done;
    fo.ctx = r;
    fo.stop = r->o->stop;
    fo.halt = &r->halt;
    fo.http_url = r->o->t->url;
    fo.http_sign = r->o->t->url_sign;
    r->step_t0 = monotime_ms() - r->t0;
    if (r->count[si] && fanout_run(r->o->client, &fo, r->count[si], &stats, err, sizeof(err)) != 0) {
        set_detail(r, ENGINE_UNTESTABLE, "invocation engine: %s", step_error(r, si, err));
        rc = -1;
    }
    free(r->scratch);
    r->scratch = NULL;
    r->stop_re = NULL;
    r->ran[si] = true;
    if (rc == 0 && r->count[si] && stats.ok == 0 && !(r->o->stop && *r->o->stop)) {
        /* Nothing answered: no finding could mean anything. */
        set_detail(r, ENGINE_UNTESTABLE, "no invocation of this step was answered: %s",
                   step_error(r, si, "no invocation was answered"));
        rc = -1;
    }
    return rc;
}

static int restore(run *r)
{
    char err[2048];
    forcer_status st;
    if (!r->f)
        return 0;
    st = forcer_restore(r->f, err, sizeof(err));
    if (st != FORCER_OK) {
        char msg[3000];
        snprintf(msg, sizeof(msg), "RESTORE %s: %s; the journal is %s — run `coldsec restore %s`",
                 st == FORCER_CONFLICT ? "CONFLICT" : "FAILED", err, forcer_journal_path(r->f),
                 forcer_journal_path(r->f));
        set_detail(r, ENGINE_NOT_RESTORED, "%s", msg);
    }
    forcer_free(r->f);
    r->f = NULL;
    return st == FORCER_OK ? 0 : -1;
}

static int run_cold_start(run *r, size_t si)
{
    const scenario_step *st = &r->sc->steps[si];
    const char *names[SCENARIO_MAX_CANARIES], *values[SCENARIO_MAX_CANARIES];
    char dir[4096], err[2048];
    forcer_options fo;
    forcer_status fs;

    if (restore(r) != 0)
        return -1;
    if (r->managed) {
        /* A Managed Instances function keeps its environments through a
         * configuration change: only a published version gets new ones
         * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-version-publishing.html),
         * and publishing would deploy whatever $LATEST holds. Nothing is
         * changed; the scenario goes on against the running environments. */
        char msg[400];
        snprintf(msg, sizeof(msg), "%s: not forced: a Managed Instances function keeps its environments through a "
                 "configuration change (only publishing a version replaces them, and coldsec never publishes "
                 "one); the steps after it ran against the running environments", st->id);
        r->not_forced[si] = true;
        add_note(r, msg);
        return 0;
    }
    if (r->qualifier && !r->latest_base[0]) {
        /* A version's configuration (and so an alias's) is immutable, and
         * UpdateFunctionConfiguration changes $LATEST only
         * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html,
         * https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html):
         * no configuration change can give the version new environments, and
         * coldsec never publishes or repoints an alias of a user's function.
         * The step is not run; the scenario goes on against whatever
         * environments the version has. A finding from what it answered
         * stands; without one the result is not a pass (engine_run). */
        char msg[600];
        snprintf(msg, sizeof(msg), "%s: not forced: the target names version or alias '%s', whose configuration is "
                 "immutable (UpdateFunctionConfiguration changes $LATEST only), so no cold start can be forced there; "
                 "the steps after it ran against the version's running environments", st->id, r->qualifier);
        r->not_forced[si] = true;
        r->qualified_not_run = true;
        add_note(r, msg);
        return 0;
    }
    for (size_t i = 0; i < st->nplant; i++) {
        names[i] = r->sc->canaries[st->plant[i]].plant;
        values[i] = r->run_canary[st->plant[i]];
    }
    snprintf(dir, sizeof(dir), "%s/cold-start-%d", r->o->dir, ++r->cold_starts);
    memset(&fo, 0, sizeof(fo));
    /* An alias (or :$LATEST) that resolves to $LATEST runs $LATEST's
     * environments, which a change of $LATEST's configuration retires
     * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html):
     * the cold start is forced on the unqualified function. */
    fo.function = r->latest_base[0] ? r->latest_base : r->o->t->function;
    fo.run_dir = dir;
    fo.allow_mutation = r->o->t->allow_mutation;
    fo.protected_patterns = r->o->s->nprotect ? (const char *const *)r->o->s->protect : NULL;
    fo.nprotected = r->o->s->nprotect;
    fo.canary_names = names;
    fo.canary_values = values;
    fo.ncanaries = st->nplant;
    fo.out = r->o->forcer_out;
    fo.stop = r->o->stop;
    fo.stop_at = r->o->stop_at;
    fs = forcer_begin(r->o->client, &fo, &r->f, err, sizeof(err));
    if (fs == FORCER_OK)
        return 0;
    set_detail(r, fs == FORCER_REFUSED ? ENGINE_REFUSED
                  : (fs == FORCER_CONFLICT || fs == FORCER_NOT_RESTORED) ? ENGINE_NOT_RESTORED
                  : (r->o->stop && *r->o->stop) ? ENGINE_INTERRUPTED
                  : ENGINE_UNTESTABLE,
               "cold start: %s", err);
    restore(r);
    return -1;
}

/* ---------- evidence ---------- */

/* Printable excerpt of text around focus (or the start), masked. */
static char *excerpt(run *r, const char *text, size_t len, const char *focus)
{
    size_t mlen = 0, start = 0, end, cap;
    char *masked, *clean, *out;
    const char *hit;

    if (!text)
        return strdup("");
    masked = secrets_mask(r->mask, text, len, &mlen);
    if (!masked)
        return NULL;
    hit = focus ? memmem(masked, mlen, focus, strlen(focus)) : NULL;
    if (hit)
        start = (size_t)(hit - masked) > EXCERPT ? (size_t)(hit - masked) - EXCERPT : 0;
    end = start + 2 * EXCERPT + (focus ? strlen(focus) : 0);
    if (end > mlen)
        end = mlen;
    cap = (end - start) * 3 + 64;
    clean = malloc(cap);
    out = malloc(cap + 64);
    if (!clean || !out) {
        free(masked);
        free(clean);
        free(out);
        return NULL;
    }
    logtail_sanitize(masked + start, end - start, clean, cap);
    snprintf(out, cap + 64, "%s%s%s", start ? "…" : "", clean, end < mlen ? "…" : "");
    free(masked);
    free(clean);
    return out;
}

static const char *replay_file(run *r, inv *iv, char *path, size_t pathlen)
{
    char err[512];
    size_t len = 0;
    char *payload = render(r, iv, &len, err, sizeof(err));
    char dir[4096];
    FILE *fp;

    snprintf(dir, sizeof(dir), "%s/replay", r->o->dir);
    snprintf(path, pathlen, "%s/%06zu.json", dir, iv->seq);
    if (!payload || rundir_create(dir, err, sizeof(err)) != 0) {
        free(payload);
        return NULL;
    }
    fp = fopen(path, "w");
    if (fp) {
        fwrite(payload, 1, len, fp);
        fclose(fp);
        chmod(path, 0600);
    }
    free(payload);
    return fp ? path : NULL;
}

static void add_excerpt(run *r, cJSON *o, const char *key, const char *text, size_t len, const char *focus)
{
    char *e = excerpt(r, text, len, focus);
    if (e)
        cJSON_AddStringToObject(o, key, e);
    free(e);
}

/* One invocation as evidence; focus is what to centre excerpts on. */
static cJSON *inv_json(run *r, inv *iv, const char *focus, cJSON *reproduce)
{
    const variant *v = &r->variants[iv->step][iv->variant];
    cJSON *o = cJSON_CreateObject();
    char path[4200], cmd[5000], err[512];
    size_t len = 0;
    char *payload = render(r, iv, &len, err, sizeof(err));

    cJSON_AddNumberToObject(o, "seq", (double)iv->seq);
    cJSON_AddStringToObject(o, "step", r->sc->steps[iv->step].id);
    cJSON_AddStringToObject(o, "user", r->sc->users[iv->user]);
    cJSON_AddStringToObject(o, "user_id", r->user_id[iv->user]);
    if (v->field)
        cJSON_AddStringToObject(o, "field", v->field);
    if (v->entry && str(v->entry, "id"))
        cJSON_AddStringToObject(o, "payload_entry", str(v->entry, "id"));
    if (iv->has_report)
        cJSON_AddBoolToObject(o, "cold", iv->cold);
    cJSON_AddNumberToObject(o, "status", (double)iv->status);
    if (iv->fn_error)
        cJSON_AddStringToObject(o, "function_error", iv->fn_error);
    if (payload) {
        add_excerpt(r, o, "request", payload, len, focus);
        cJSON_AddNumberToObject(o, "request_bytes", (double)len);
    }
    free(payload);
    add_excerpt(r, o, "response", iv->payload, iv->payload_len, focus);
    add_excerpt(r, o, "log_tail", iv->log, iv->log_len, focus);
    if (reproduce && replay_file(r, iv, path, sizeof(path))) {
        cJSON_AddStringToObject(o, "request_file", path);
        if (r->o->t->url)
            snprintf(cmd, sizeof(cmd), "curl -sS -X POST -H 'content-type: application/json' --data-binary @%s %s%s",
                     path, r->o->t->url, r->o->t->url_sign ? " --aws-sigv4 aws:amz:REGION:lambda --user KEY:SECRET" : "");
        else
            snprintf(cmd, sizeof(cmd), "coldsec invoke %s --payload @%s --log%s%s", r->o->t->function, path,
                     r->o->replay_connection ? " " : "", r->o->replay_connection ? r->o->replay_connection : "");
        cJSON_AddItemToArray(reproduce, cJSON_CreateString(cmd));
    }
    return o;
}

static cJSON *finding_new(run *r, const scenario_assert *a, severity sev, const char *summary, cJSON **evidence)
{
    cJSON *f = cJSON_CreateObject(), *refs;
    cJSON_AddStringToObject(f, "class", a->cls ? a->cls : r->sc->cls);
    cJSON_AddStringToObject(f, "scenario", r->sc->id);
    cJSON_AddStringToObject(f, "assertion", a->id);
    cJSON_AddStringToObject(f, "target", r->o->t->name);
    cJSON_AddStringToObject(f, "function", r->o->t->function);
    cJSON_AddStringToObject(f, "severity", severity_name(sev));
    cJSON_AddStringToObject(f, "title", a->title);
    cJSON_AddStringToObject(f, "summary", summary);
    cJSON_AddStringToObject(f, "fix", r->sc->fix);
    refs = cJSON_AddArrayToObject(f, "cwe");
    for (size_t i = 0; i < r->sc->nrefs; i++)
        if (r->sc->refs[i].cwe)
            cJSON_AddItemToArray(refs, cJSON_CreateString(r->sc->refs[i].cwe));
    *evidence = cJSON_AddObjectToObject(f, "evidence");
    cJSON_AddItemToArray(r->findings, f);
    return f;
}

/* The steps to replay by hand: a cold start first when the scenario forced one. */
static cJSON *reproduce_list(run *r, cJSON *ev)
{
    cJSON *list = cJSON_AddArrayToObject(ev, "reproduce");
    if (r->cold_starts) {
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "coldsec cold-start %s --allow-mutation%s%s",
                 r->latest_base[0] ? r->latest_base : r->o->t->function,
                 r->o->replay_connection ? " " : "", r->o->replay_connection ? r->o->replay_connection : "");
        cJSON_AddItemToArray(list, cJSON_CreateString(cmd));
    }
    return list;
}

/* The assertion's where (WHERE_PAYLOAD, WHERE_LOG) as a finding file's list. */
static cJSON *where_list(unsigned where)
{
    cJSON *l = cJSON_CreateArray();
    if ((where & WHERE_PAYLOAD) && l)
        cJSON_AddItemToArray(l, cJSON_CreateString("payload"));
    if ((where & WHERE_LOG) && l)
        cJSON_AddItemToArray(l, cJSON_CreateString("log"));
    return l;
}

/* The last finding's file for `coldsec replay` (src/replaycmd.h,
 * docs/report-format.md "Finding files"): DIR/finding-N.json with where
 * the function ran (the lab config or the AWS target's settings), whether a
 * cold start came first, the requests to send in order (steps[i] is the
 * request of invocation order[i], in the role roles[i]) and how replay
 * judges what comes back (check, which the file takes). Request files are
 * named relative to the file's folder, so a moved or copied report folder
 * still replays; the lab config is the user's own file, named absolute.
 * Its path heads the finding's reproduce list. */
static void replay_recipe(run *r, cJSON *reproduce, const inv *const *order, const char *const *roles, size_t nsteps,
                          cJSON *check)
{
    cJSON *doc = cJSON_CreateObject(), *tg, *steps, *step, *fn;
    char path[4200], cmd[4300], dir[PATH_MAX], conf[PATH_MAX], *text = NULL;

    if (!doc || !check)
        goto cleanup;
    /* An absolute path in the reproduce list: replay may run from another folder than the run. */
    if (!realpath(r->o->dir, dir))
        snprintf(dir, sizeof(dir), "%s", r->o->dir);
    snprintf(path, sizeof(path), "%s/finding-%d.json", dir, cJSON_GetArraySize(r->findings));
    cJSON_AddNumberToObject(doc, "coldsec_replay", 1);
    fn = cJSON_GetArrayItem(r->findings, cJSON_GetArraySize(r->findings) - 1);
    cJSON_AddStringToObject(doc, "scenario", r->sc->id);
    cJSON_AddStringToObject(doc, "assertion", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn, "assertion")));
    cJSON_AddStringToObject(doc, "title", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn, "title")));
    tg = cJSON_AddObjectToObject(doc, "target");
    cJSON_AddStringToObject(tg, "name", r->o->t->name);
    cJSON_AddStringToObject(tg, "function", r->o->t->function);
    cJSON_AddStringToObject(tg, "where", r->o->t->lab ? "lab" : "aws");
    if (r->o->t->lab && r->o->s->lab_config) {
        if (!realpath(r->o->s->lab_config, conf))
            snprintf(conf, sizeof(conf), "%s", r->o->s->lab_config);
        cJSON_AddStringToObject(tg, "lab_config", conf);
    }
    if (r->o->t->region)
        cJSON_AddStringToObject(tg, "region", r->o->t->region);
    if (r->o->t->profile)
        cJSON_AddStringToObject(tg, "profile", r->o->t->profile);
    if (r->o->t->endpoint)
        cJSON_AddStringToObject(tg, "endpoint", r->o->t->endpoint);
    cJSON_AddBoolToObject(doc, "cold_start", r->cold_starts > 0);
    steps = cJSON_AddArrayToObject(doc, "steps");
    for (size_t i = 0; i < nsteps; i++) {
        char file[64], written[4200];
        if (!replay_file(r, (inv *)order[i], written, sizeof(written)))
            goto cleanup;
        step = cJSON_CreateObject();
        snprintf(file, sizeof(file), "replay/%06zu.json", order[i]->seq);
        cJSON_AddNumberToObject(step, "seq", (double)order[i]->seq);
        cJSON_AddStringToObject(step, "user", r->sc->users[order[i]->user]);
        cJSON_AddStringToObject(step, "role", roles[i]);
        cJSON_AddStringToObject(step, "request_file", file);
        cJSON_AddItemToArray(steps, step);
    }
    cJSON_AddItemToObject(doc, "check", check);
    check = NULL;
    text = cJSON_Print(doc);
    if (text && fileio_write(path, text, strlen(text)) == 0) {
        chmod(path, 0600);
        snprintf(cmd, sizeof(cmd), "coldsec replay %s", path);
        cJSON_InsertItemInArray(reproduce, 0, cJSON_CreateString(cmd));
    }
cleanup:
    free(text);
    cJSON_Delete(check);
    cJSON_Delete(doc);
}

/* A planting and a sighting in the order they were sent: the canary back
 * where it was seen (seen_in: a text label, "payload", "body" or "log"). */
static void replay_canary(run *r, cJSON *reproduce, const inv *planted, const inv *seen, const char *canary,
                          const char *seen_in)
{
    const inv *order[2] = {planted, seen};
    const char *roles[2] = {"planted", "seen"};
    cJSON *check = cJSON_CreateObject();
    cJSON_AddStringToObject(check, "kind", "canary");
    cJSON_AddStringToObject(check, "canary", canary);
    cJSON_AddStringToObject(check, "seen_in", seen_in);
    cJSON_AddNumberToObject(check, "seen_step", 2);
    replay_recipe(r, reproduce, order, roles, 2, check);
}

/* ---------- texts and canaries ---------- */

typedef struct texts {
    event_text t[EVENT_MAX_TEXTS + 1];
    size_t n;
} texts;

static void texts_of(const inv *iv, unsigned where, texts *out)
{
    out->n = 0;
    if ((where & WHERE_PAYLOAD) && iv->payload)
        out->n = event_response_texts(iv->payload, iv->payload_len, out->t, EVENT_MAX_TEXTS);
    if ((where & WHERE_LOG) && iv->log) {
        out->t[out->n].label = "log";
        out->t[out->n].data = memdup0(iv->log, iv->log_len);
        out->t[out->n].len = out->t[out->n].data ? iv->log_len : 0;
        if (out->t[out->n].data)
            out->n++;
    }
}

static int cmp_ref(const void *a, const void *b)
{
    return strcmp(((const canary_ref *)a)->value, ((const canary_ref *)b)->value);
}

static int index_canaries(run *r)
{
    size_t n = 0, cap = r->sc->ncanaries + r->sc->nusers;
    for (size_t i = 0; i < r->ninvs; i++)
        for (size_t k = 0; k < r->sc->ncanaries; k++)
            cap += r->invs[i].canary[k][0] != '\0';
    r->refs = calloc(cap ? cap : 1, sizeof(*r->refs));
    if (!r->refs)
        return -1;
    for (size_t k = 0; k < r->sc->ncanaries; k++) {
        if (r->sc->canaries[k].per_run) {
            memcpy(r->refs[n].value, r->run_canary[k], CANARY_LEN + 1);
            r->refs[n].owner = -1;
            r->refs[n].user = -1;
            r->refs[n++].canary = (int)k;
        }
    }
    for (size_t u = 0; u < r->sc->nusers; u++) {
        const char *c = strchr(r->user_id[u], '-');
        memcpy(r->refs[n].value, c + 1, CANARY_LEN + 1);
        r->refs[n].owner = -1;
        r->refs[n].user = (int)u;
        r->refs[n++].canary = -1;
    }
    for (size_t i = 0; i < r->ninvs; i++)
        for (size_t k = 0; k < r->sc->ncanaries; k++)
            if (r->invs[i].canary[k][0]) {
                memcpy(r->refs[n].value, r->invs[i].canary[k], CANARY_LEN + 1);
                r->refs[n].owner = (long)i;
                r->refs[n].user = -1;
                r->refs[n++].canary = (int)k;
            }
    r->nrefs = n;
    qsort(r->refs, n, sizeof(*r->refs), cmp_ref);
    return 0;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The next "CSC" + n hex digits in text at or after *pos, in either case (a
 * handler may upper- or lower-case what it keeps), as the canonical form
 * ("CSC" + lower-case hex) in key; false when none. When exact, the digits
 * must not be followed by one more (a {{split:}} half, not a whole canary). */
static bool next_shape(const char *text, size_t len, size_t *pos, size_t n, bool exact, char *key)
{
    while (*pos + 3 + n <= len) {
        size_t at = *pos, i;
        *pos = at + 1;
        if (lower(text[at]) != 'c' || lower(text[at + 1]) != 's' || lower(text[at + 2]) != 'c')
            continue;
        for (i = 0; i < n && is_hex(text[at + 3 + i]); i++)
            ;
        if (i < n || (exact && at + 3 + n < len && is_hex(text[at + 3 + n])))
            continue;
        memcpy(key, "CSC", 3);
        for (i = 0; i < n; i++)
            key[3 + i] = lower(text[at + 3 + i]);
        key[3 + n] = '\0';
        *pos = at + 3 + n;
        return true;
    }
    return false;
}

/* Next canary of this run in text at or after *pos; NULL when none. */
static const canary_ref *next_canary(const run *r, const char *text, size_t len, size_t *pos)
{
    canary_ref key;

    memset(&key, 0, sizeof(key));
    while (next_shape(text, len, pos, CANARY_LEN - 3, false, key.value)) {
        const canary_ref *hit = bsearch(&key, r->refs, r->nrefs, sizeof(*r->refs), cmp_ref);
        if (hit)
            return hit;
    }
    return NULL;
}

static bool in_steps(uint64_t mask, int step)
{
    return (mask >> step) & 1;
}

static bool wants_canary(const scenario_assert *a, int k)
{
    for (size_t i = 0; i < a->ncanaries; i++)
        if (a->canaries[i] == k)
            return true;
    return false;
}

/* ---------- execution environments, as timing tells ---------- */

static int by_start(const void *a, const void *b)
{
    const inv *x = *(const inv *const *)a, *y = *(const inv *const *)b;
    if (x->start_ms != y->start_ms)
        return x->start_ms < y->start_ms ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The environment an invocation ran in, as far as timing tells: one with
 * Init Duration opened a new environment; a warm one went to the
 * environment that became free last before it started (or, when client
 * timing overlaps, the one that frees first); a forced cold start retires
 * them all. AWS exposes no environment id: this draws the picture in
 * report.html, no assertion rests on it. */
typedef struct env_slot {
    int id;
    double free_at;
} env_slot;

static int assign_env(env_slot *envs, size_t *nenvs, int *next_id, const inv *iv)
{
    size_t best = SIZE_MAX;
    if (iv->cold || *nenvs == 0) {
        envs[*nenvs].id = ++*next_id;
        envs[*nenvs].free_at = iv->end_ms;
        return envs[(*nenvs)++].id;
    }
    for (size_t e = 0; e < *nenvs; e++)
        if (envs[e].free_at <= iv->start_ms && (best == SIZE_MAX || envs[e].free_at > envs[best].free_at))
            best = e;
    if (best == SIZE_MAX)
        for (size_t e = 0; e < *nenvs; e++)
            if (best == SIZE_MAX || envs[e].free_at < envs[best].free_at)
                best = e;
    envs[best].free_at = iv->end_ms;
    return envs[best].id;
}

/* env_of[i]: the inferred environment of invocation i (1, 2, ...), 0 for
 * one without a REPORT line or of a multi-concurrent function. order (r->ninvs slots) gets the invocations
 * that ran, by start; returns how many. -1 when memory runs out. */
static long infer_envs(const run *r, int *env_of, const inv **order)
{
    env_slot *envs = malloc((r->ninvs ? r->ninvs : 1) * sizeof(*envs));
    size_t n = 0, nenvs = 0, si_next = 0;
    int next_id = 0;

    if (!envs)
        return -1;
    for (size_t i = 0; i < r->ninvs; i++) {
        env_of[i] = 0;
        if (r->invs[i].state == FANOUT_OK || r->invs[i].state == FANOUT_FAILED ||
            (r->invs[i].state == FANOUT_CANCELLED && r->invs[i].end_ms > 0))
            order[n++] = &r->invs[i];
    }
    qsort((void *)order, n, sizeof(const inv *), by_start);
    for (size_t k = 0; k < n; k++) {
        const inv *iv = order[k];
        /* A forced cold start that ended before this began retired every environment. */
        for (; si_next < r->sc->nsteps && r->step_end[si_next] > 0 && r->step_end[si_next] <= iv->start_ms; si_next++)
            if (r->sc->steps[si_next].kind == STEP_COLD_START)
                nenvs = 0;
        /* One environment of a multi-concurrent function serves many at
         * once: overlap says nothing about which one a request went to. */
        if (iv->has_report && !r->multi)
            env_of[iv - r->invs] = assign_env(envs, &nenvs, &next_id, iv);
    }
    free(envs);
    return (long)n;
}

/* ---------- assertions ---------- */

typedef struct sighting {
    long owner;        /* the invocation that sent it */
    size_t seen;       /* where it came back */
    const char *where;
    char value[64];  /* what was seen: a canary, a user's whole identity, or a {{split:}} canary's first half */
} sighting;

typedef struct sightings {
    sighting *s;
    size_t n, cap, responses;  /* responses: answers with at least one */
    size_t apart;              /* who: concurrent_other_user: sightings in requests that did not overlap */
} sightings;

/* How long two invocations ran together as the client saw them (start of
 * the first attempt to the answer), in ms; <= 0 when they did not. */
static double overlap_ms(const inv *a, const inv *b)
{
    return concur_overlap_ms(a->start_ms, a->end_ms, b->start_ms, b->end_ms);
}

static int sighting_add(sightings *l, long owner, size_t seen, const char *where, const char *value)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        sighting *p = realloc(l->s, nc * sizeof(*p));
        if (!p)
            return -1;
        l->s = p;
        l->cap = nc;
    }
    l->s[l->n].owner = owner;
    l->s[l->n].seen = seen;
    l->s[l->n].where = where;
    snprintf(l->s[l->n].value, sizeof(l->s[l->n].value), "%s", value);
    l->n++;
    return 0;
}

static size_t uf_find(size_t *p, size_t x)
{
    while (p[x] != x)
        x = p[x] = p[p[x]];
    return x;
}

/* Is a canary of the assertion's planted steps seen in step si? */
static bool seen_in_step(run *r, const scenario_assert *a, int si)
{
    for (size_t j = r->first[si]; j < r->first[si] + r->count[si]; j++) {
        texts tx;
        bool hit = false;
        texts_of(&r->invs[j], a->where, &tx);
        for (size_t t = 0; t < tx.n && !hit; t++) {
            size_t pos = 0;
            const canary_ref *c;
            while ((c = next_canary(r, tx.t[t].data, tx.t[t].len, &pos)) != NULL)
                if (c->owner >= 0 && wants_canary(a, c->canary) && in_steps(a->planted_in, r->invs[c->owner].step))
                    hit = true;
        }
        event_texts_free(tx.t, tx.n);
        if (hit)
            return true;
    }
    return false;
}

/* expect: always — every answer of seen_in must carry a canary of the
 * assertion (planted in planted_in, by whom `who` says); those that do not
 * are the finding. */
static void eval_canary_always(run *r, const scenario_assert *a, const bool *had)
{
    size_t missing = 0, total = 0;
    long first = -1;
    cJSON *ev;
    char summary[512];

    for (size_t j = 0; j < r->ninvs; j++) {
        if (!in_steps(a->seen_in, r->invs[j].step) || r->invs[j].state != FANOUT_OK)
            continue;
        total++;
        if (!had[j]) {
            missing++;
            if (first < 0)
                first = (long)j;
        }
    }
    if (!missing)
        return;
    snprintf(summary, sizeof(summary), "%zu of %zu answers did not carry the expected canary", missing, total);
    finding_new(r, a, a->sev, summary, &ev);
    cJSON_AddNumberToObject(ev, "answers_without_canary", (double)missing);
    cJSON_AddNumberToObject(ev, "answers", (double)total);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(ev, "examples"),
                         inv_json(r, &r->invs[first], NULL, reproduce_list(r, ev)));
}

/* The invocation that sent user u's identity to where invocation j saw it:
 * u's last one of the planted steps that began before j ended; -1 if none.
 * For who: concurrent_other_user, the one of u's that ran longest together
 * with j when any did. */
static long identity_source(const run *r, const scenario_assert *a, int u, size_t j)
{
    long best = -1;
    if (a->who == WHO_CONCURRENT_OTHER_USER) {
        double most = 0;
        for (size_t i = 0; i < r->ninvs; i++) {
            const inv *o = &r->invs[i];
            double ov;
            if (o->user != u || !in_steps(a->planted_in, o->step) || i == j)
                continue;
            ov = overlap_ms(o, &r->invs[j]);
            if (ov > most) {
                most = ov;
                best = (long)i;
            }
        }
        if (best >= 0)
            return best;
    }
    for (size_t i = 0; i < r->ninvs; i++) {
        const inv *o = &r->invs[i];
        if (o->user != u || !in_steps(a->planted_in, o->step) || o->state != FANOUT_OK ||
            o->start_ms > r->invs[j].end_ms)
            continue;
        if (best < 0 || o->start_ms >= r->invs[best].start_ms)
            best = (long)i;
    }
    return best;
}

/* Is this sighting the request's own text come back rather than its effect:
 * a merge's member seen inside the "__proto__" / "prototype" it was sent in? */
static bool merge_echo(const char *text, size_t at)
{
    size_t from = at > ECHO_WINDOW ? at - ECHO_WINDOW : 0;
    return memmem(text + from, at - from, "__proto__", 9) || memmem(text + from, at - from, "prototype", 9);
}

/* The owner of a {{split:}} canary whose first half is key; -1 if none. */
static long half_owner(const run *r, const scenario_assert *a, const char *key)
{
    for (size_t i = 0; i < r->ninvs; i++)
        for (size_t k = 0; k < a->ncanaries; k++) {
            const char *c = r->invs[i].canary[a->canaries[k]];
            if (c[0] && memcmp(c, key, SPLIT_AT) == 0)
                return (long)i;
        }
    return -1;
}

static bool others_ok(const scenario_assert *a, const inv *owner, long owner_idx, const inv *iv, size_t j)
{
    if ((a->who == WHO_OTHER_USER || a->who == WHO_CONCURRENT_OTHER_USER) && owner->user == iv->user)
        return false;
    if (a->who == WHO_OTHER_INVOCATION && (size_t)owner_idx == j)
        return false;
    return true;
}

/* One text of invocation j: canaries (and the users' identities when the
 * assertion asks) into hits, echoes of the requests' own text into echoes. */
static void scan_text(run *r, const scenario_assert *a, size_t j, const event_text *t, sightings *hits,
                      sightings *echoes)
{
    const inv *iv = &r->invs[j];
    size_t pos = 0;
    const canary_ref *c;
    char key[CANARY_LEN + 1];

    while ((c = next_canary(r, t->data, t->len, &pos)) != NULL) {
        long owner;
        if (c->user >= 0) {
            if (!a->identity || c->user == iv->user)
                continue;
            owner = identity_source(r, a, c->user, j);
            if (owner < 0)
                continue;
        } else {
            if (c->owner < 0 || !wants_canary(a, c->canary) || !in_steps(a->planted_in, r->invs[c->owner].step))
                continue;
            owner = c->owner;
        }
        if (!others_ok(a, &r->invs[owner], owner, iv, j))
            continue;
        if (a->who == WHO_CONCURRENT_OTHER_USER && overlap_ms(&r->invs[owner], iv) <= 0) {
            /* Another user's, but from a request that had ended (or not
             * begun): warm state across requests, cross-user-leak's
             * finding, not a race between concurrent ones. */
            hits->apart++;
            continue;
        }
        if (c->user < 0 && merge_echo(t->data, pos - CANARY_LEN)) {
            if (a->echo_class)
                sighting_add(echoes, owner, j, t->label, c->value);
            continue;
        }
        sighting_add(hits, owner, j, t->label, c->user >= 0 ? r->user_id[c->user] : c->value);
    }
    if (!a->echo_class)
        return;
    pos = 0;
    while (next_shape(t->data, t->len, &pos, SPLIT_AT - 3, true, key)) {
        long owner = half_owner(r, a, key);
        if (owner < 0 || !in_steps(a->planted_in, r->invs[owner].step) || !others_ok(a, &r->invs[owner], owner, iv, j))
            continue;
        if (a->who == WHO_CONCURRENT_OTHER_USER && overlap_ms(&r->invs[owner], iv) <= 0)
            continue;
        sighting_add(echoes, owner, j, t->label, key);
    }
}

/* How many environments the planted steps reached and how many of them
 * answered a request of the seen steps again, as timing tells (inferred:
 * no verdict rests on it, but a pass where they were not revisited says
 * less). 0 and 0 when memory runs out. */
static void env_reach(const run *r, const scenario_assert *a, size_t *reached, size_t *revisited)
{
    int *env_of = malloc((r->ninvs ? r->ninvs : 1) * sizeof(*env_of));
    const inv **order = malloc((r->ninvs ? r->ninvs : 1) * sizeof(const inv *));
    unsigned char *seen = calloc(r->ninvs + 1, 1);   /* per env id: 1 planted, 2 answered a seen step */

    *reached = *revisited = 0;
    if (env_of && order && seen && infer_envs(r, env_of, order) >= 0) {
        for (size_t i = 0; i < r->ninvs; i++) {
            if (!env_of[i])
                continue;
            if (in_steps(a->planted_in, r->invs[i].step))
                seen[env_of[i]] |= 1;
            if (in_steps(a->seen_in, r->invs[i].step) && r->invs[i].state == FANOUT_OK)
                seen[env_of[i]] |= 2;
        }
        for (size_t e = 1; e <= r->ninvs; e++) {
            *reached += (seen[e] & 1) != 0;
            *revisited += seen[e] == 3;
        }
    }
    free(env_of);
    free((void *)order);
    free(seen);
}

/* Who received what was seen, for a finding's summary. */
static const char *who_words(const scenario_assert *a)
{
    switch (a->who) {
    case WHO_OTHER_USER: return "other users";
    case WHO_CONCURRENT_OTHER_USER: return "other users' requests running at the same time (client-side timing)";
    default: return "later requests";
    }
}

/* The overlap of an example's two requests, in ms from the scenario's
 * start as the client saw them, and its mark on the timeline. */
static void add_overlap(run *r, cJSON *ex, const inv *planted, const inv *seen)
{
    cJSON *o = cJSON_AddObjectToObject(ex, "overlap"), *p, *q;
    double from = planted->start_ms > seen->start_ms ? planted->start_ms : seen->start_ms;
    double to = planted->end_ms < seen->end_ms ? planted->end_ms : seen->end_ms;
    if (!o)
        return;
    p = cJSON_AddArrayToObject(o, "planted_ms");
    q = cJSON_AddArrayToObject(o, "seen_ms");
    cJSON_AddItemToArray(p, cJSON_CreateNumber(ms1(planted->start_ms)));
    cJSON_AddItemToArray(p, cJSON_CreateNumber(ms1(planted->end_ms)));
    cJSON_AddItemToArray(q, cJSON_CreateNumber(ms1(seen->start_ms)));
    cJSON_AddItemToArray(q, cJSON_CreateNumber(ms1(seen->end_ms)));
    cJSON_AddNumberToObject(o, "overlap_ms", ms1(to - from));
    cJSON_AddStringToObject(o, "clock", "client");
    if (r->nmarks < MAX_OVERLAP_MARKS) {
        overlap_mark *m = &r->marks[r->nmarks++];
        m->planted_seq = planted->seq;
        m->seen_seq = seen->seq;
        m->start_ms = from;
        m->end_ms = to;
    }
}

/* The finding for a list of sightings; echo: of the request's own text, at
 * the assertion's echo class and severity. reach: env_reach's two counts,
 * or NULL where the assertion plants and looks in the same steps. */
static void report_sightings(run *r, const scenario_assert *a, const sightings *l, bool echo, const size_t *reach)
{
    const sighting *s = l->s;
    size_t ns = l->n, *parent = NULL, envs = 0, distinct = 0;
    cJSON *f, *ev, *examples, *reproduce;
    char summary[1024];

    /* Canaries that come back together came from one environment: the
     * connected groups are a lower bound on how many were affected. A
     * user's identity is one value sent in all of that user's requests, so
     * its sightings are one group whatever request they are traced to. */
    parent = calloc(r->ninvs, sizeof(*parent));
    if (parent) {
        bool *used = calloc(r->ninvs, sizeof(*used));
        for (size_t i = 0; i < r->ninvs; i++)
            parent[i] = i;
        for (size_t i = 1; i < ns; i++) {
            if (s[i].seen == s[i - 1].seen)
                parent[uf_find(parent, (size_t)s[i].owner)] = uf_find(parent, (size_t)s[i - 1].owner);
            for (size_t k = 0; k < i; k++)
                if (strcmp(s[k].value, s[i].value) == 0) {
                    parent[uf_find(parent, (size_t)s[i].owner)] = uf_find(parent, (size_t)s[k].owner);
                    break;
                }
        }
        for (size_t i = 0; used && i < ns; i++) {
            size_t root = uf_find(parent, (size_t)s[i].owner);
            if (!used[root]) {
                used[root] = true;
                envs++;
            }
        }
        free(used);
    }
    for (size_t i = 0; i < ns; i++) {
        size_t k;
        for (k = 0; k < i; k++)
            if (strcmp(s[k].value, s[i].value) == 0)
                break;
        distinct += k == i;
    }
    if (echo)
        snprintf(summary, sizeof(summary),
                 "text of %zu request%s that %s sent in step '%s' came back as it was sent %zu time%s in %zu "
                 "answer%s to %s: the function stored it and showed it to them (nothing shows it ran)",
                 distinct, distinct == 1 ? "" : "s", r->sc->users[r->invs[s[0].owner].user],
                 r->sc->steps[r->invs[s[0].owner].step].id, ns, ns == 1 ? "" : "s", l->responses,
                 l->responses == 1 ? "" : "s", who_words(a));
    else if (r->multi)
        /* One environment serves many requests at once: canaries seen
         * apart may share one, so no count of environments is claimed. */
        snprintf(summary, sizeof(summary), "%zu canar%s sent by %s in step '%s' came back %zu time%s in %zu answer%s to %s",
                 distinct, distinct == 1 ? "y" : "ies", r->sc->users[r->invs[s[0].owner].user],
                 r->sc->steps[r->invs[s[0].owner].step].id, ns, ns == 1 ? "" : "s", l->responses,
                 l->responses == 1 ? "" : "s", who_words(a));
    else
        snprintf(summary, sizeof(summary),
                 "%zu canar%s sent by %s in step '%s' came back %zu time%s in %zu answer%s to %s (at least %zu "
                 "environment%s affected)",
                 distinct, distinct == 1 ? "y" : "ies", r->sc->users[r->invs[s[0].owner].user],
                 r->sc->steps[r->invs[s[0].owner].step].id, ns, ns == 1 ? "" : "s", l->responses,
                 l->responses == 1 ? "" : "s", who_words(a), envs,
                 envs == 1 ? "" : "s");
    f = finding_new(r, a, echo ? a->echo_sev : a->sev, summary, &ev);
    if (echo) {
        cJSON_ReplaceItemInObject(f, "class", cJSON_CreateString(a->echo_class));
        cJSON_ReplaceItemInObject(f, "title", cJSON_CreateString("Text one user sent was stored and shown to "
                                                                 "another user"));
        cJSON_AddBoolToObject(ev, "stored_not_executed", true);
    }
    cJSON_AddNumberToObject(ev, "sightings", (double)ns);
    cJSON_AddNumberToObject(ev, "distinct_canaries", (double)distinct);
    cJSON_AddNumberToObject(ev, "answers_affected", (double)l->responses);
    if (!r->multi)
        cJSON_AddNumberToObject(ev, "environments_at_least", (double)envs);
    if (a->who == WHO_CONCURRENT_OTHER_USER && l->apart)
        cJSON_AddNumberToObject(ev, "sightings_not_overlapping", (double)l->apart);
    if (reach) {
        cJSON_AddNumberToObject(ev, "environments_reached_inferred", (double)reach[0]);
        cJSON_AddNumberToObject(ev, "environments_revisited_inferred", (double)reach[1]);
    }
    if (!echo && a->cleared_by >= 0 && r->ran[a->cleared_by]) {
        bool still = seen_in_step(r, a, a->cleared_by);
        cJSON_AddBoolToObject(ev, "cleared_by_cold_start", !still);
    }
    reproduce = reproduce_list(r, ev);
    examples = cJSON_AddArrayToObject(ev, "examples");
    for (size_t i = 0, shown = 0; i < ns && shown < MAX_EXAMPLES; i++) {
        size_t k;
        cJSON *ex;
        for (k = 0; k < i; k++)
            if (s[k].owner == s[i].owner)
                break;
        if (k < i)
            continue;
        ex = cJSON_CreateObject();
        cJSON_AddStringToObject(ex, "canary", s[i].value);
        cJSON_AddStringToObject(ex, "seen_in", s[i].where);
        /* Only the first example is replayed: one planting and one sighting
         * in the order they were sent is the whole proof. */
        cJSON_AddItemToObject(ex, "planted", inv_json(r, &r->invs[s[i].owner], s[i].value, shown == 0 ? reproduce : NULL));
        cJSON_AddItemToObject(ex, "seen", inv_json(r, &r->invs[s[i].seen], s[i].value, shown == 0 ? reproduce : NULL));
        if (shown == 0 && a->who != WHO_CONCURRENT_OTHER_USER && !r->o->t->url)
            replay_canary(r, reproduce, &r->invs[s[i].owner], &r->invs[s[i].seen], s[i].value, s[i].where);
        if (a->who == WHO_CONCURRENT_OTHER_USER) {
            add_overlap(r, ex, &r->invs[s[i].owner], &r->invs[s[i].seen]);
            if (shown == 0)
                cJSON_AddItemToArray(reproduce, cJSON_CreateString("send the two requests above at the same time "
                                                                   "(both invokes in flight together)"));
        }
        cJSON_AddItemToArray(examples, ex);
        shown++;
    }
    free(parent);
}

/* who: concurrent_other_user: how many answered requests of the seen steps
 * ran (client-side) at the same time as at least one of another user's
 * planted ones. A sweep by start time that stops at the first partner, so
 * a lower bound; it says whether the pass means anything. */
static size_t overlapping_answers(const run *r, const scenario_assert *a, size_t *answered)
{
    const inv **order = malloc((r->ninvs ? r->ninvs : 1) * sizeof(const inv *));
    bool *hit = calloc(r->ninvs ? r->ninvs : 1, sizeof(bool));
    size_t n = 0, count = 0;

    *answered = 0;
    if (!order || !hit)
        goto cleanup;
    for (size_t i = 0; i < r->ninvs; i++) {
        if (r->invs[i].end_ms > 0)
            order[n++] = &r->invs[i];
        *answered += in_steps(a->seen_in, r->invs[i].step) && r->invs[i].state == FANOUT_OK;
    }
    qsort((void *)order, n, sizeof(const inv *), by_start);
    for (size_t p = 0; p < n; p++)
        for (size_t q = p + 1; q < n && order[q]->start_ms < order[p]->end_ms; q++) {
            const inv *x = order[p], *y = order[q];
            bool xy = in_steps(a->planted_in, x->step) && in_steps(a->seen_in, y->step);
            bool yx = in_steps(a->planted_in, y->step) && in_steps(a->seen_in, x->step);
            if (x->user == y->user || (!xy && !yx) || overlap_ms(x, y) <= 0)
                continue;
            hit[y - r->invs] |= xy && y->state == FANOUT_OK;
            hit[x - r->invs] |= yx && x->state == FANOUT_OK;
            break;
        }
    for (size_t i = 0; i < r->ninvs; i++)
        count += hit[i];
cleanup:
    free((void *)order);
    free(hit);
    return count;
}

static void eval_canary_seen(run *r, const scenario_assert *a)
{
    sightings hits = {NULL, 0, 0, 0, 0}, echoes = {NULL, 0, 0, 0, 0};
    bool *had = calloc(r->ninvs ? r->ninvs : 1, sizeof(*had));
    size_t reach[2] = {0, 0};
    const size_t *apart = NULL;  /* planted and seen in other steps: their reach, once */

    if (!had)
        return;
    for (size_t j = 0; j < r->ninvs; j++) {
        texts tx;
        size_t before = hits.n, echoes_before = echoes.n;
        if (!in_steps(a->seen_in, r->invs[j].step))
            continue;
        texts_of(&r->invs[j], a->where, &tx);
        for (size_t t = 0; t < tx.n; t++)
            scan_text(r, a, j, &tx.t[t], &hits, &echoes);
        event_texts_free(tx.t, tx.n);
        had[j] = hits.n > before;
        hits.responses += had[j];
        echoes.responses += echoes.n > echoes_before;
    }
    if ((a->planted_in & a->seen_in) == 0) {
        env_reach(r, a, &reach[0], &reach[1]);
        apart = reach;
    }
    if (a->always)
        eval_canary_always(r, a, had);
    else if (hits.n)
        report_sightings(r, a, &hits, false, apart);
    /* Stored text is a finding of its own class only where nothing ran:
     * the executed marker is the stronger proof and says it all. */
    if (!a->always && echoes.n && !hits.n)
        report_sightings(r, a, &echoes, true, apart);
    if (!hits.n && apart && r->multi) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s: environments are not inferred for a function serving up to %ld requests "
                 "at once in one environment", a->id, r->max_concurrency);
        add_note(r, msg);
    } else if (!hits.n && apart) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s: the planting steps reached %zu environment%s and the later requests came "
                 "back to %zu of them (inferred from Init Duration and timing)", a->id, reach[0],
                 reach[0] == 1 ? "" : "s", reach[1]);
        add_note(r, msg);
    }
    if (a->who == WHO_CONCURRENT_OTHER_USER && !hits.n) {
        /* A pass only says something about requests that ran together. */
        size_t answered, together = overlapping_answers(r, a, &answered);
        char msg[300];
        if (together == 0 && answered > 0) {
            /* Nothing ran together: a pass would claim what was never
             * tried, so the result is untestable, never passed. */
            set_detail(r, ENGINE_UNTESTABLE, "%s: none of the %zu answered requests ran at the same time as another "
                       "user's (client-side timing), so nothing was tested; raise the scenario's parallel or check "
                       "that the function serves several requests at once", a->id, answered);
        } else {
            snprintf(msg, sizeof(msg), "%s: at least %zu of %zu answered requests ran at the same time as another "
                     "user's (client-side timing)", a->id, together, answered);
            add_note(r, msg);
        }
    }
    if (hits.apart) {
        /* Honest about what this assertion leaves to another: seen, but
         * not while the requests overlapped. */
        char msg[400];
        snprintf(msg, sizeof(msg), "%s: %zu sighting%s of another user's canary in requests that did not overlap "
                 "the one that sent it (state kept across requests: cross-user-leak's finding, not this one)",
                 a->id, hits.apart, hits.apart == 1 ? "" : "s");
        add_note(r, msg);
    }
    free(had);
    free(hits.s);
    free(echoes.s);
}

static void eval_pattern_seen(run *r, const scenario_assert *a)
{
    const pcre2_code *re = a->re;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    long first = -1;
    size_t hits = 0, before = 0;
    char matched[256] = "";
    const char *where = "";

    if (!md)
        return;
    for (size_t j = 0; j < r->ninvs; j++) {
        inv *iv = &r->invs[j];
        texts tx;
        bool hit = false;
        if (!in_steps(a->seen_in, iv->step))
            continue;
        texts_of(iv, a->where, &tx);
        for (size_t t = 0; t < tx.n && !hit; t++) {
            if (pcre2_match(re, (PCRE2_SPTR)tx.t[t].data, tx.t[t].len, 0, 0, md, NULL) >= 0) {
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                size_t n = ov[1] - ov[0] < sizeof(matched) - 1 ? ov[1] - ov[0] : sizeof(matched) - 1;
                hit = true;
                if (first < 0) {
                    first = (long)j;
                    memcpy(matched, tx.t[t].data + ov[0], n);
                    matched[n] = '\0';
                    where = tx.t[t].label;
                }
            }
        }
        event_texts_free(tx.t, tx.n);
        if (hit)
            hits++;
        else if (first < 0 && iv->state == FANOUT_OK)
            before++;
    }
    if (first >= 0) {
        cJSON *ev, *reproduce, *examples;
        char summary[768];
        snprintf(summary, sizeof(summary),
                 "\"%.80s\" appeared in the %s of %zu invocation%s of step '%s'; the first after %zu that "
                 "succeeded",
                 matched, where, hits, hits == 1 ? "" : "s", r->sc->steps[r->invs[first].step].id, before);
        finding_new(r, a, a->sev, summary, &ev);
        cJSON_AddStringToObject(ev, "pattern", a->pattern);
        cJSON_AddNumberToObject(ev, "invocations_matching", (double)hits);
        cJSON_AddNumberToObject(ev, "invocations_before_first_match", (double)before);
        reproduce = reproduce_list(r, ev);
        examples = cJSON_AddArrayToObject(ev, "examples");
        /* Replaying means sending the same requests again up to the first match. */
        cJSON_AddItemToArray(reproduce, cJSON_CreateString("repeat the invoke below as many times as "
                                                           "invocations_before_first_match + 1"));
        cJSON_AddItemToArray(examples, inv_json(r, &r->invs[first], matched, reproduce));
        if (!r->o->t->url) {
            const inv *order[1] = {&r->invs[first]};
            const char *roles[1] = {"matched"};
            cJSON *check = cJSON_CreateObject();
            cJSON_AddStringToObject(check, "kind", "pattern");
            cJSON_AddStringToObject(check, "pattern", a->pattern);
            cJSON_AddItemToObject(check, "where", where_list(a->where));
            cJSON_AddStringToObject(check, "matched_in", where);
            /* The request that matched, sent again up to as many times as
             * the original sent requests of the step until it matched. */
            cJSON_AddNumberToObject(check, "step", 1);
            cJSON_AddNumberToObject(check, "sends", (double)before + 1);
            replay_recipe(r, reproduce, order, roles, 1, check);
        }
    }
    pcre2_match_data_free(md);
}

/* The request an invocation sent, rendered once when first needed (an echo
 * of it in the answer is not a leak). */
typedef struct sent_request {
    char *payload;
    size_t len;
    bool tried;
} sent_request;

static bool request_holds(run *r, inv *iv, sent_request *sent, const char *text, size_t len)
{
    if (!sent->tried) {
        char err[256];
        sent->payload = render(r, iv, &sent->len, err, sizeof(err));
        sent->tried = true;
    }
    return sent->payload && len && memmem(sent->payload, sent->len, text, len) != NULL;
}

/* The exposures one secret assertion reports at most (and so the invocations its finding file replays). */
#define MAX_LEAKS 32

typedef struct leak {
    char kind[24];       /* planted-canary, secret-variable, variable, pattern */
    char name[96];
    char form[16];
    const char *where;
    size_t inv;
    severity sev;
    char focus[CANARY_LEN + 1];
} leak;

/* The secret-exposure finding's file: the invocations that exposed
 * something, in the order they were sent, and what each exposed by kind,
 * name, form and where — never a value. Replay rebuilds the literals as
 * this run did (the function's configuration, the shapes named here) and
 * scans the answers again with src/secrets. */
static void replay_secret(run *r, const scenario_assert *a, cJSON *reproduce, const leak *leaks, size_t nl)
{
    const inv *order[MAX_LEAKS] = {NULL};
    const char *roles[MAX_LEAKS] = {NULL};
    size_t n = 0;
    cJSON *check = cJSON_CreateObject(), *list, *shapes, *e;

    cJSON_AddStringToObject(check, "kind", "secret");
    cJSON_AddBoolToObject(check, "function_variables", a->function_variables);
    cJSON_AddItemToObject(check, "where", where_list(a->where));
    shapes = cJSON_AddArrayToObject(check, "shapes");
    if (a->shapes) {
        cJSON_ArrayForEach(e, a->shapes->entries) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", str(e, "id"));
            cJSON_AddStringToObject(o, "pattern", str(e, "pattern"));
            cJSON_AddItemToArray(shapes, o);
        }
    }
    list = cJSON_AddArrayToObject(check, "exposed");
    for (size_t k = 0; k < nl; k++) {
        cJSON *o = cJSON_CreateObject();
        size_t st;
        for (st = 0; st < n; st++)
            if (order[st] == &r->invs[leaks[k].inv])
                break;
        if (st == n) {
            order[n] = &r->invs[leaks[k].inv];
            roles[n++] = "exposed";
        }
        cJSON_AddStringToObject(o, "kind", leaks[k].kind);
        cJSON_AddStringToObject(o, "name", leaks[k].name);
        cJSON_AddStringToObject(o, "form", leaks[k].form);
        cJSON_AddStringToObject(o, "where", leaks[k].where);
        cJSON_AddNumberToObject(o, "step", (double)st + 1);
        cJSON_AddItemToArray(list, o);
    }
    replay_recipe(r, reproduce, order, roles, n, check);
}

static void eval_secret_seen(run *r, const scenario_assert *a)
{
    secrets *sec = secrets_new();
    const cJSON *vars = obj(obj(r->o->config, "Environment"), "Variables"), *v, *e;
    leak leaks[MAX_LEAKS];
    size_t nl = 0;
    severity worst = SEVERITY_INFO;
    char err[512];

    if (!sec)
        return;
    if (a->function_variables) {
        cJSON_ArrayForEach(v, vars) {
            /* A parameter path or ARN names a secret without being one. */
            if (cJSON_IsString(v) && !secrets_value_is_reference(v->valuestring) &&
                secrets_add_literal(sec, v->string, v->valuestring, strlen(v->valuestring)) != 0) {
                secrets_free(sec);
                return;
            }
        }
    }
    if (a->shapes) {
        cJSON_ArrayForEach(e, a->shapes->entries) {
            if (secrets_add_pattern(sec, str(e, "id"), str(e, "pattern"), err, sizeof(err)) != 0) {
                secrets_free(sec);
                return;
            }
        }
    }
    for (size_t j = 0; j < r->ninvs && nl < sizeof(leaks) / sizeof(leaks[0]); j++) {
        inv *iv = &r->invs[j];
        sent_request sent = {NULL, 0, false};
        texts tx;
        if (!in_steps(a->seen_in, iv->step))
            continue;
        texts_of(iv, a->where, &tx);
        for (size_t t = 0; t < tx.n; t++) {
            secrets_match m[16];
            size_t n = secrets_scan(sec, tx.t[t].data, tx.t[t].len, m, 16), pos = 0;
            const canary_ref *c;
            if (n > 16)
                n = 16;
            while ((c = next_canary(r, tx.t[t].data, tx.t[t].len, &pos)) != NULL) {
                size_t k;
                if (c->owner >= 0 || !wants_canary(a, c->canary))
                    continue;
                for (k = 0; k < nl; k++)
                    if (strcmp(leaks[k].kind, "planted-canary") == 0 &&
                        strcmp(leaks[k].name, r->sc->canaries[c->canary].plant) == 0 &&
                        strcmp(leaks[k].where, tx.t[t].label) == 0)
                        break;
                if (k < nl || nl == sizeof(leaks) / sizeof(leaks[0]))
                    continue;
                snprintf(leaks[nl].kind, sizeof(leaks[nl].kind), "planted-canary");
                snprintf(leaks[nl].name, sizeof(leaks[nl].name), "%s", r->sc->canaries[c->canary].plant);
                snprintf(leaks[nl].form, sizeof(leaks[nl].form), "raw");
                memcpy(leaks[nl].focus, c->value, CANARY_LEN + 1);
                leaks[nl].where = tx.t[t].label;
                leaks[nl].inv = j;
                leaks[nl++].sev = a->sev;
            }
            for (size_t i = 0; i < n && nl < sizeof(leaks) / sizeof(leaks[0]); i++) {
                bool literal = strcmp(m[i].kind, "literal") == 0;
                const char *kind = !literal ? "pattern"
                                   : secrets_name_is_secret(m[i].name) ? "secret-variable" : "variable";
                size_t k;
                if (request_holds(r, iv, &sent, tx.t[t].data + m[i].offset, m[i].len))
                    continue;
                for (k = 0; k < nl; k++)
                    if (strcmp(leaks[k].kind, kind) == 0 && strcmp(leaks[k].name, m[i].name) == 0 &&
                        strcmp(leaks[k].form, m[i].form) == 0 && strcmp(leaks[k].where, tx.t[t].label) == 0)
                        break;
                if (k < nl)
                    continue;
                snprintf(leaks[nl].kind, sizeof(leaks[nl].kind), "%s", kind);
                snprintf(leaks[nl].name, sizeof(leaks[nl].name), "%s", m[i].name);
                snprintf(leaks[nl].form, sizeof(leaks[nl].form), "%s", m[i].form);
                leaks[nl].focus[0] = '\0';
                leaks[nl].where = tx.t[t].label;
                leaks[nl].inv = j;
                leaks[nl++].sev = strcmp(kind, "secret-variable") == 0 ? a->sev
                                  : strcmp(kind, "pattern") == 0    ? SEVERITY_MEDIUM
                                                                    : SEVERITY_LOW;
            }
        }
        event_texts_free(tx.t, tx.n);
        free(sent.payload);
    }
    if (nl) {
        cJSON *ev, *list, *examples, *reproduce;
        char summary[1024];
        size_t used = 0;
        summary[0] = '\0';
        for (size_t k = 0; k < nl; k++)
            if (leaks[k].sev > worst)
                worst = leaks[k].sev;
        for (size_t k = 0; k < nl && used < sizeof(summary) - 200; k++) {
            int w = snprintf(summary + used, sizeof(summary) - used, "%s%s %s (%s) in the %s of #%zu", k ? "; " : "",
                             leaks[k].kind, leaks[k].name, leaks[k].form, leaks[k].where, r->invs[leaks[k].inv].seq);
            if (w > 0)
                used += (size_t)w;
        }
        finding_new(r, a, worst, summary, &ev);
        list = cJSON_AddArrayToObject(ev, "exposed");
        reproduce = reproduce_list(r, ev);
        examples = cJSON_AddArrayToObject(ev, "examples");
        for (size_t k = 0; k < nl; k++) {
            cJSON *o = cJSON_CreateObject();
            size_t q;
            cJSON_AddStringToObject(o, "kind", leaks[k].kind);
            cJSON_AddStringToObject(o, "name", leaks[k].name);
            cJSON_AddStringToObject(o, "form", leaks[k].form);
            cJSON_AddStringToObject(o, "where", leaks[k].where);
            cJSON_AddNumberToObject(o, "seq", (double)r->invs[leaks[k].inv].seq);
            cJSON_AddStringToObject(o, "severity", severity_name(leaks[k].sev));
            cJSON_AddItemToArray(list, o);
            for (q = 0; q < k; q++)
                if (leaks[q].inv == leaks[k].inv)
                    break;
            if (q == k && cJSON_GetArraySize(examples) < MAX_EXAMPLES)
                cJSON_AddItemToArray(examples, inv_json(r, &r->invs[leaks[k].inv],
                                                        leaks[k].focus[0] ? leaks[k].focus : "MASKED",
                                                        cJSON_GetArraySize(examples) == 0 ? reproduce : NULL));
        }
        if (!r->o->t->url)
            replay_secret(r, a, reproduce, leaks, nl);
    }
    secrets_free(sec);
}

/* Did this answer say the environment ran out of memory (memfit_answer_oom)? */
static bool out_of_memory(const inv *iv)
{
    return memfit_answer_oom(iv->fn_error, iv->payload, iv->payload_len);
}

/* The memory-growth finding's file: its one request sent again as many
 * times as the series took (sends), on a fresh environment, and judged by
 * memfit_judge with the bounds this run used. Only a series of one request
 * sent again and again is replayable so; another keeps its hand steps. */
static void replay_memory(run *r, cJSON *reproduce, const inv *example,
                          const size_t *inv_of, size_t sends, const memfit_bounds *b, bool proven)
{
    const inv *order[1] = {example};
    const char *roles[1] = {"series"};
    cJSON *check;

    if (r->o->t->url || sends == 0)
        return;
    for (size_t i = 0; i < sends; i++) {
        const inv *iv = &r->invs[inv_of[i]];
        if (iv->step != example->step || iv->variant != example->variant || iv->user != example->user)
            return;
    }
    check = cJSON_CreateObject();
    cJSON_AddStringToObject(check, "kind", "memory");
    cJSON_AddBoolToObject(check, "proven", proven);
    cJSON_AddNumberToObject(check, "step", 1);
    cJSON_AddNumberToObject(check, "sends", (double)sends);
    cJSON_AddNumberToObject(check, "memory_size_mb", b->limit_mb);
    cJSON_AddNumberToObject(check, "growth_mb", b->limit_mb / 4);
    cJSON_AddNumberToObject(check, "min_points", (double)b->min_points);
    cJSON_AddNumberToObject(check, "min_r2", b->min_r2);
    cJSON_AddNumberToObject(check, "oom_within", b->within);
    replay_recipe(r, reproduce, order, roles, 1, check);
}

/*
 * Retention is proven, not guessed: Max Memory Used is a high-water mark and
 * a lazy collector (V8) raises it on a function that keeps nothing. The proof
 * is the environment running out of memory after a series of warm
 * invocations whose high-water mark rose by a quarter of the memory size or
 * more, each request far below it. A rising series that never ran out within
 * the step's budget is reported low, as what it is: a trend.
 */
static void eval_memory_growth(run *r, const scenario_assert *a)
{
    double *x = calloc(r->ninvs + 1, sizeof(double)), *y = calloc(r->ninvs + 1, sizeof(double));
    memfit_sample *samples = calloc(r->ninvs + 1, sizeof(*samples));
    size_t *inv_of = calloc(r->ninvs + 1, sizeof(*inv_of));
    size_t n = 0, ns = 0, oom_after = 0;
    long last = -1, oom = -1, lone_oom = -1;
    memfit fit;
    memfit_series judged;
    memfit_bounds bounds;
    bool fitted = false;
    double mem = cJSON_IsNumber(obj(r->o->config, "MemorySize")) ? obj(r->o->config, "MemorySize")->valuedouble : 128;
    long min_points = scenario_num_value(&a->min_points, r->params);
    long within = scenario_num_value(&a->oom_within, r->params);
    cJSON *ev, *series, *reproduce, *examples;
    char summary[512];

    if (!x || !y || !samples || !inv_of)
        goto cleanup;
    /* One environment's series: from its cold start on (parallel 1 keeps
     * the same one); a new cold start mid-series begins a new series. The
     * judgement is memfit_judge's, which `coldsec replay` uses too. */
    for (size_t j = 0; j < r->ninvs; j++) {
        const inv *iv = &r->invs[j];
        if (!in_steps(a->seen_in, iv->step))
            continue;
        samples[ns].oom = out_of_memory(iv);
        samples[ns].reported = iv->has_report && iv->state == FANOUT_OK;
        samples[ns].cold = iv->cold;
        samples[ns].max_mem_mb = iv->max_mem;
        inv_of[ns++] = j;
    }
    bounds.limit_mb = mem;
    bounds.min_points = min_points > 0 ? (size_t)min_points : 0;
    bounds.min_r2 = a->min_r2;
    bounds.within = (double)within;
    if (memfit_judge(samples, ns, &bounds, x, y, &judged) != 0)
        goto cleanup;
    n = judged.n;
    fit = judged.fit;
    if (judged.oom_at >= 0) {
        oom = (long)inv_of[judged.oom_at];
        oom_after = n;
    }
    if (judged.lone_oom >= 0)
        lone_oom = (long)inv_of[judged.lone_oom];
    if (judged.last_point >= 0)
        last = (long)inv_of[judged.last_point];
    if (oom < 0 && lone_oom >= 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "memory_growth: invocation %zu ran out of memory without a rising series before "
                 "it: one request's cost, not memory kept between requests", r->invs[lone_oom].seq);
        add_note(r, msg);
    }
    if (oom < 0 && n < (size_t)min_points) {
        char msg[256];
        snprintf(msg, sizeof(msg), "memory_growth: only %zu REPORT lines of one environment (need %ld)", n,
                 min_points);
        add_note(r, msg);
        goto cleanup;
    }
    if (oom < 0) {
        double steps = judged.steps_to_limit;
        if (judged.verdict != MEMFIT_TREND)
            goto cleanup;
        fitted = true;
        snprintf(summary, sizeof(summary),
                 "Max Memory Used rose %.3f MB per invocation (r²=%.3f over %zu invocations, %d→%d MB) but the "
                 "environment did not run out of memory within the series: a trend (a lazy collector raises a "
                 "high-water mark too), not a proof; at this rate %.0f MB is reached in about %.0f more",
                 fit.slope, fit.r2, n, (int)y[0], (int)y[n - 1], mem, steps);
        cJSON_ReplaceItemInObject(finding_new(r, a, SEVERITY_LOW, summary, &ev), "title",
                                  cJSON_CreateString("Memory use rose with every warm invocation (a trend: the "
                                                     "environment did not run out of memory)"));
    } else {
        snprintf(summary, sizeof(summary),
                 "the environment ran out of memory after %zu warm invocations (Max Memory Used %d→%d of %.0f MB, "
                 "each request far smaller): it keeps what requests send, and any caller can crash it for the next",
                 oom_after, (int)y[0], (int)y[n - 1], mem);
        finding_new(r, a, a->sev, summary, &ev);
        cJSON_AddNumberToObject(ev, "invocations_to_oom", (double)oom_after);
        {
            /* Lambda's errorType says how it ran out (OutOfMemory, ExitError) */
            cJSON *err = cJSON_Parse(r->invs[oom].payload);
            const char *type = str(err, "errorType");
            cJSON_AddStringToObject(ev, "out_of_memory", type ? type : r->invs[oom].fn_error);
            cJSON_Delete(err);
        }
    }
    cJSON_AddBoolToObject(ev, "proven", !fitted);
    cJSON_AddNumberToObject(ev, "memory_size_mb", mem);
    if (fitted) {
        cJSON_AddNumberToObject(ev, "slope_mb_per_invocation", round(fit.slope * 10000) / 10000);
        cJSON_AddNumberToObject(ev, "intercept_mb", round(fit.intercept * 100) / 100);
        cJSON_AddNumberToObject(ev, "r2", round(fit.r2 * 10000) / 10000);
        cJSON_AddNumberToObject(ev, "invocations_to_oom", round(memfit_steps_to(&fit, x[n - 1], mem)));
    }
    series = cJSON_AddArrayToObject(ev, "max_memory_used_mb");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(series, cJSON_CreateNumber(y[i]));
    reproduce = reproduce_list(r, ev);
    examples = cJSON_AddArrayToObject(ev, "examples");
    cJSON_AddItemToArray(reproduce, cJSON_CreateString("repeat the invoke below and compare Max Memory Used "
                                                       "in the REPORT lines"));
    cJSON_AddItemToArray(examples, inv_json(r, &r->invs[oom >= 0 ? oom : last], NULL, reproduce));
    replay_memory(r, reproduce, &r->invs[oom >= 0 ? oom : last], inv_of,
                  judged.oom_at >= 0 ? (size_t)judged.oom_at + 1 : ns, &bounds, !fitted);
cleanup:
    free(x);
    free(y);
    free(samples);
    free(inv_of);
}

static void eval_status(run *r, const scenario_assert *a)
{
    size_t ok = 0, errors = 0, total = 0;
    long bad = -1;
    for (size_t j = 0; j < r->ninvs; j++) {
        const inv *iv = &r->invs[j];
        if (!in_steps(a->seen_in, iv->step))
            continue;
        total++;
        if (iv->state == FANOUT_OK && !iv->fn_error)
            ok++;
        else if (iv->state == FANOUT_OK)
            errors++;
        if (bad < 0 && ((strcmp(a->expect, "ok") == 0) != (iv->state == FANOUT_OK && !iv->fn_error)))
            bad = (long)j;
    }
    if (bad >= 0) {
        cJSON *ev;
        char summary[256];
        snprintf(summary, sizeof(summary), "%zu of %zu invocations answered without a function error (%zu errors)",
                 ok, total, errors);
        finding_new(r, a, a->sev, summary, &ev);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(ev, "examples"), inv_json(r, &r->invs[bad], NULL, NULL));
    }
}

static void today(char *out, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, len, "%Y-%m-%d", &tm);
}

static void eval_config(run *r, const scenario_assert *a)
{
    const cJSON *cfg = r->o->config, *vars = obj(obj(cfg, "Environment"), "Variables"), *v, *e;
    cJSON *ev;
    char summary[1024] = "";

    switch (a->check) {
    case CHECK_PLAINTEXT_SECRET: {
        secrets *shapes = secrets_new();
        cJSON *names = cJSON_CreateArray();
        size_t used = 0;
        char err[256];
        if (str(cfg, "KMSKeyArn") || !shapes || !names) {
            secrets_free(shapes);
            cJSON_Delete(names);
            return;
        }
        if (a->shapes) {
            cJSON_ArrayForEach(e, a->shapes->entries) {
                if (secrets_add_pattern(shapes, str(e, "id"), str(e, "pattern"), err, sizeof(err)) != 0)
                    break;
            }
        }
        cJSON_ArrayForEach(v, vars) {
            secrets_match m;
            const char *why = NULL;
            if (!cJSON_IsString(v))
                continue;
            if (secrets_scan(shapes, v->valuestring, strlen(v->valuestring), &m, 1) > 0)
                why = m.name;
            else if (secrets_name_is_secret(v->string) && !secrets_value_is_reference(v->valuestring) &&
                     strlen(v->valuestring) >= SECRETS_MIN_LITERAL)
                why = "secret-shaped name";
            if (why) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "variable", v->string);
                cJSON_AddStringToObject(o, "why", why);
                cJSON_AddNumberToObject(o, "value_bytes", (double)strlen(v->valuestring));
                cJSON_AddItemToArray(names, o);
                if (used < sizeof(summary) - 100) {
                    int w = snprintf(summary + used, sizeof(summary) - used, "%s%s (%s)", used ? ", " : "",
                                     v->string, why);
                    if (w > 0)
                        used += (size_t)w;
                }
            }
        }
        secrets_free(shapes);
        if (cJSON_GetArraySize(names) == 0) {
            cJSON_Delete(names);
            return;
        }
        finding_new(r, a, a->sev, summary, &ev);
        cJSON_AddItemToObject(ev, "variables", names);
        cJSON_AddNullToObject(ev, "KMSKeyArn");
        return;
    }
    case CHECK_DEPRECATED_RUNTIME: {
        const char *rt = str(cfg, "Runtime");
        char day[16];
        today(day, sizeof(day));
        if (!rt)
            return;
        cJSON_ArrayForEach(e, a->runtimes->entries) {
            const char *name = str(e, "runtime"), *date = str(e, "deprecated");
            if (name && date && strcmp(name, rt) == 0 && strcmp(date, day) <= 0) {
                snprintf(summary, sizeof(summary), "Runtime %s was deprecated on %s", rt, date);
                finding_new(r, a, a->sev, summary, &ev);
                cJSON_AddStringToObject(ev, "Runtime", rt);
                cJSON_AddStringToObject(ev, "deprecated", date);
            }
        }
        return;
    }
    case CHECK_NO_RESERVED_CONCURRENCY:
        if (r->managed) {
            /* Managed Instances scale by their capacity provider and
             * FunctionScalingConfig (Min/MaxExecutionEnvironments), not on
             * invoke, so reserved concurrency is not their bound
             * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-scaling.html,
             * https://docs.aws.amazon.com/lambda/latest/api/API_FunctionScalingConfig.html). */
            add_note(r, "config: a Managed Instances function scales by its capacity provider and "
                        "FunctionScalingConfig, not reserved concurrency: the reserved-concurrency check does not "
                        "apply");
            return;
        }
        if (!r->o->concurrency) {
            /* A denied permission must not read as a pass. */
            add_note(r, "config: GetFunctionConcurrency was not answered (permission?): the reserved-concurrency "
                        "check did not run");
            return;
        }
        if (obj(r->o->concurrency, "ReservedConcurrentExecutions"))
            return;
        finding_new(r, a, a->sev, "GetFunctionConcurrency reports no ReservedConcurrentExecutions", &ev);
        cJSON_AddNullToObject(ev, "ReservedConcurrentExecutions");
        return;
    case CHECK_TRIGGER_TIMEOUT: {
        double limit = r->o->t->envelope == EVENT_ENVELOPE_APIGW_V1   ? 29
                       : r->o->t->envelope == EVENT_ENVELOPE_APIGW_V2 ? 30
                                                                      : 0;
        double timeout = cJSON_IsNumber(obj(cfg, "Timeout")) ? obj(cfg, "Timeout")->valuedouble : 0;
        if (limit <= 0 || timeout <= limit)
            return;
        snprintf(summary, sizeof(summary), "Timeout is %.0f s; %s stops waiting after %.0f s", timeout,
                 event_envelope_name(r->o->t->envelope), limit);
        finding_new(r, a, a->sev, summary, &ev);
        cJSON_AddNumberToObject(ev, "Timeout", timeout);
        cJSON_AddNumberToObject(ev, "trigger_limit_s", limit);
        cJSON_AddStringToObject(ev, "envelope", event_envelope_name(r->o->t->envelope));
        return;
    }
    }
}

static void evaluate(run *r)
{
    if (index_canaries(r) != 0)
        return;
    for (size_t i = 0; i < r->sc->nasserts; i++) {
        const scenario_assert *a = &r->sc->asserts[i];
        switch (a->kind) {
        case ASSERT_CANARY_SEEN: eval_canary_seen(r, a); break;
        case ASSERT_PATTERN_SEEN: eval_pattern_seen(r, a); break;
        case ASSERT_SECRET_SEEN: eval_secret_seen(r, a); break;
        case ASSERT_MEMORY_GROWTH: eval_memory_growth(r, a); break;
        case ASSERT_STATUS: eval_status(r, a); break;
        case ASSERT_CONFIG: eval_config(r, a); break;
        }
    }
}

/* ---------- the whole run ---------- */

static int setup(run *r)
{
    const cJSON *vars = obj(obj(r->o->config, "Environment"), "Variables"), *v;
    const catalog *shapes = scenario_set_catalog(r->o->s->set, ENGINE_MASK_SHAPES);
    char err[512];

    /* Evidence is masked with the function's own values and every known
     * secret shape: a log tail may hold the execution role's session
     * credentials, which no configuration lists. */
    r->mask = secrets_new();
    if (!r->mask)
        return -1;
    cJSON_ArrayForEach(v, vars) {
        if (cJSON_IsString(v) && secrets_add_literal(r->mask, v->string, v->valuestring, strlen(v->valuestring)) != 0)
            return -1;
    }
    if (shapes) {
        cJSON_ArrayForEach(v, shapes->entries) {
            if (secrets_add_pattern(r->mask, str(v, "id"), str(v, "pattern"), err, sizeof(err)) != 0)
                return -1;
        }
    }
    /* A user's identity is a fresh canary too: a cache keyed by what every
     * user sends alike (a tenant, a path) hands the first caller's id, or
     * a field rendered from it, to the next one. */
    for (size_t u = 0; u < r->sc->nusers; u++) {
        char c[CANARY_LEN + 1];
        if (canary_new(c, sizeof(c)) != 0)
            return -1;
        snprintf(r->user_id[u], sizeof(r->user_id[u]), "%s-%s", r->sc->users[u], c);
    }
    if (event_embedded_open(r->o->t->baseline, &r->base, &r->embedded) != 0)
        return -1;
    for (size_t k = 0; k < r->sc->ncanaries; k++)
        if (r->sc->canaries[k].per_run && canary_new(r->run_canary[k], sizeof(r->run_canary[k])) != 0)
            return -1;
    if (rundir_create(r->o->dir, err, sizeof(err)) != 0) {
        set_detail(r, ENGINE_UNTESTABLE, "%s", err);
        return -1;
    }
    return 0;
}

/* ---------- timeline ---------- */

/* Concurrency slots for a multi-concurrent function's timeline: by start,
 * each invocation takes the lowest-numbered slot free when it started
 * (client-side timing). slot_of[i] is 1-based; 0 for one that never ran.
 * The slots are how many ran at once, not environments. */
static void assign_slots(const run *r, const inv **order, long n, int *slot_of)
{
    double *start = malloc((r->ninvs ? r->ninvs : 1) * sizeof(double));
    double *end = malloc((r->ninvs ? r->ninvs : 1) * sizeof(double));
    size_t *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof(size_t));

    for (size_t i = 0; i < r->ninvs; i++)
        slot_of[i] = 0;
    if (start && end && idx) {
        for (size_t i = 0; i < r->ninvs; i++) {
            start[i] = r->invs[i].start_ms;
            end[i] = r->invs[i].end_ms;
        }
        for (long k = 0; k < n; k++)
            idx[k] = (size_t)(order[k] - r->invs);
        concur_slots(start, end, idx, (size_t)n, slot_of);
    }
    free(start);
    free(end);
    free(idx);
}

/* {steps: [...], invocations: [...]} for report.json; NULL when nothing ran. */
static cJSON *build_timeline(const run *r)
{
    static const char *const kinds[] = {"cold_start", "invoke", "sleep"};
    cJSON *tl = NULL, *steps, *list;
    const inv **order = NULL;
    int *env_of = NULL;
    long n;

    if (!r->sc->invokes || r->ninvs == 0)
        return NULL;
    order = malloc(r->ninvs * sizeof(const inv *));
    env_of = malloc(r->ninvs * sizeof(*env_of));
    tl = cJSON_CreateObject();
    steps = cJSON_AddArrayToObject(tl, "steps");
    list = cJSON_AddArrayToObject(tl, "invocations");
    if (!order || !env_of || !steps || !list || (n = infer_envs(r, env_of, order)) < 0)
        goto fail;
    for (size_t si = 0; si < r->sc->nsteps; si++) {
        cJSON *st;
        if (r->step_end[si] <= 0)
            continue;
        st = cJSON_CreateObject();
        if (!st)
            goto fail;
        cJSON_AddItemToArray(steps, st);
        cJSON_AddStringToObject(st, "id", r->sc->steps[si].id);
        cJSON_AddStringToObject(st, "kind", kinds[r->sc->steps[si].kind]);
        cJSON_AddNumberToObject(st, "start_ms", ms1(r->step_start[si]));
        cJSON_AddNumberToObject(st, "end_ms", ms1(r->step_end[si]));
        if (r->not_forced[si])
            cJSON_AddStringToObject(st, "note", r->managed ? "not forced: Managed Instances keep their environments "
                                                             "through a configuration change"
                                                           : "not forced: a version's or alias's configuration is "
                                                             "immutable; no cold start can be forced there");
    }
    if (r->multi) {
        cJSON_AddStringToObject(tl, "lanes", "concurrency_slots");
        cJSON_AddNumberToObject(tl, "max_concurrency", (double)r->max_concurrency);
        assign_slots(r, order, n, env_of);
    }
    for (long k = 0; k < n; k++) {
        const inv *iv = order[k];
        cJSON *o = inv_record(r, iv);
        if (!o)
            goto fail;
        cJSON_AddItemToArray(list, o);
        if (r->multi && env_of[iv - r->invs])
            cJSON_AddNumberToObject(o, "slot", env_of[iv - r->invs]);
        else if (iv->has_report && !r->multi)
            cJSON_AddNumberToObject(o, "env", env_of[iv - r->invs]);
    }
    if (r->nmarks) {
        cJSON *marks = cJSON_AddArrayToObject(tl, "overlaps");
        for (size_t i = 0; marks && i < r->nmarks; i++) {
            cJSON *m = cJSON_CreateObject();
            if (!m)
                goto fail;
            cJSON_AddItemToArray(marks, m);
            cJSON_AddNumberToObject(m, "planted_seq", (double)r->marks[i].planted_seq);
            cJSON_AddNumberToObject(m, "seen_seq", (double)r->marks[i].seen_seq);
            cJSON_AddNumberToObject(m, "start_ms", ms1(r->marks[i].start_ms));
            cJSON_AddNumberToObject(m, "end_ms", ms1(r->marks[i].end_ms));
        }
    }
    free(order);
    free(env_of);
    return tl;
fail:
    free(order);
    free(env_of);
    cJSON_Delete(tl);
    return NULL;
}

int engine_run(const engine_opts *o, engine_result *out)
{
    run r;
    char path[4200];
    double t0 = monotime_ms();
    size_t cold = 0, answered = 0;

    memset(out, 0, sizeof(*out));
    memset(&r, 0, sizeof(r));
    r.o = o;
    r.sc = o->run->sc;
    r.params = o->run->params;
    r.res = out;
    r.t0 = t0;
    out->findings = cJSON_CreateArray();
    out->summary = cJSON_CreateObject();
    r.findings = out->findings;
    r.max_concurrency = fnconfig_max_concurrency(o->config);
    r.multi = fnconfig_is_multi_concurrent(o->config);
    r.managed = fnconfig_is_managed(o->config);
    r.qualifier = forcer_target_qualifier(o->t->function);
    if (r.qualifier && o->config) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o->config, "Version"));
        if (v && strcmp(v, "$LATEST") == 0 &&
            forcer_target_unqualified(o->t->function, r.latest_base, sizeof(r.latest_base)) != 0)
            r.latest_base[0] = '\0';
    }
    if (out->summary && r.managed)
        cJSON_AddItemToObject(out->summary, "concurrency", fnconfig_summary(o->config));
    if (r.sc->requires_max_concurrency > r.max_concurrency) {
        /* Nothing it tests can happen on this function: say so, never pass. */
        set_detail(&r, ENGINE_NOT_APPLICABLE,
                   "needs a function that serves at least %ld requests at once in one environment "
                   "(PerExecutionEnvironmentMaxConcurrency); this one reports %s",
                   r.sc->requires_max_concurrency,
                   r.managed ? "a Managed Instances maximum concurrency of 1"
                             : "no CapacityProviderConfig (classic Lambda: one request at a time per environment)");
        goto cleanup;
    }
    if (!out->findings || !out->summary || setup(&r) != 0) {
        set_detail(&r, ENGINE_UNTESTABLE, "%s", "could not set up the scenario (out of memory or no RNG)");
        goto cleanup;
    }
    if (plan(&r) != 0) {
        set_detail(&r, ENGINE_UNTESTABLE, "%s", "could not plan the invocations (out of memory or more than 200000)");
        goto cleanup;
    }
    write_plan(&r);
    if (o->t->url) {
        for (size_t i = 0; i < r.sc->nasserts; i++) {
            if (r.sc->asserts[i].kind == ASSERT_MEMORY_GROWTH) {
                set_detail(&r, ENGINE_UNTESTABLE, "%s",
                           "memory growth is read from REPORT lines, which only the Invoke API returns: run this "
                           "scenario with transport invoke");
                goto cleanup;
            }
        }
    }
    snprintf(path, sizeof(path), "%s/invocations.jsonl", o->dir);
    if (r.sc->invokes)
        r.jsonl = fopen(path, "w");
    for (size_t si = 0; si < r.sc->nsteps; si++) {
        const scenario_step *st = &r.sc->steps[si];
        if (o->stop && *o->stop) {
            set_detail(&r, ENGINE_INTERRUPTED, "%s", "interrupted (SIGINT or SIGTERM); the configuration was restored");
            break;
        }
        int step_rc = 0;
        r.step_start[si] = monotime_ms() - t0;
        if (st->kind == STEP_COLD_START) {
            step_rc = run_cold_start(&r, si);
        } else if (st->kind == STEP_SLEEP) {
            long ms = scenario_num_value(&st->sleep_ms, r.params);
            for (long slept = 0; slept < ms && !(o->stop && *o->stop); slept += 100)
                monotime_sleep_ms(ms - slept < 100 ? ms - slept : 100);
        } else {
            step_rc = run_invoke(&r, si);
        }
        r.step_end[si] = monotime_ms() - t0;
        if (step_rc != 0)
            break;
    }
    restore(&r);
    if (o->stop && *o->stop)
        set_detail(&r, ENGINE_INTERRUPTED, "%s", "interrupted (SIGINT or SIGTERM); the configuration was restored");
    if (r.jsonl)
        fclose(r.jsonl);
    r.jsonl = NULL;
    /* Even a partial run is evaluated: what came back is still evidence. */
    evaluate(&r);
    if (r.qualified_not_run && cJSON_GetArraySize(r.res->findings) == 0)
        set_detail(&r, ENGINE_UNTESTABLE,
                   "cold start not run: the target names version or alias '%s', whose configuration is immutable "
                   "(UpdateFunctionConfiguration changes $LATEST only), so no cold start can be forced there; the "
                   "scenario's other steps found nothing, which is no pass without the fresh environment it needs. "
                   "Run it against the unqualified function for a cold start",
                   r.qualifier);
    if (r.unattributed) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%zu answer%s carried no x-amzn-RequestId: their log tails were not used (lines "
                 "of a function serving several requests at once are only evidence for the request they name)",
                 r.unattributed, r.unattributed == 1 ? "" : "s");
        add_note(&r, msg);
    }
cleanup:
    for (size_t i = 0; i < r.ninvs; i++) {
        cold += r.invs[i].cold;
        answered += r.invs[i].state == FANOUT_OK;
    }
    out->invocations = r.ninvs;
    out->ms = monotime_ms() - t0;
    out->timeline = build_timeline(&r);
    if (out->summary) {
        cJSON_AddNumberToObject(out->summary, "invocations", (double)r.ninvs);
        cJSON_AddNumberToObject(out->summary, "answered", (double)answered);
        cJSON_AddNumberToObject(out->summary, "cold", (double)cold);
        cJSON_AddNumberToObject(out->summary, "cold_starts_forced", r.cold_starts);
        cJSON_AddNumberToObject(out->summary, "ms", round(out->ms));
    }
    if (r.f)
        restore(&r);
    for (size_t si = 0; si < SCENARIO_MAX_STEPS; si++) {
        for (size_t v = 0; v < r.nvariants[si]; v++)
            free(r.variants[si][v].field);
        free(r.variants[si]);
    }
    for (size_t i = 0; i < r.ninvs; i++) {
        free(r.invs[i].fn_error);
        free(r.invs[i].payload);
        free(r.invs[i].log);
    }
    free(r.invs);
    free(r.refs);
    cJSON_Delete(r.base);
    event_fields_free(&r.embedded);
    free(r.scratch);
    secrets_free(r.mask);
    return out->status == ENGINE_DONE || out->status == ENGINE_NOT_APPLICABLE ? 0 : -1;
}

void engine_result_clear(engine_result *r)
{
    cJSON_Delete(r->findings);
    cJSON_Delete(r->summary);
    cJSON_Delete(r->timeline);
    r->findings = r->summary = r->timeline = NULL;
}
