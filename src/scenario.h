/*
 * scenario — the built-in and user scenarios (scenarios/NAME.yaml) and the
 * payload catalogs beside them (scenarios/catalogs/NAME.yaml), loaded into an
 * immutable model the engine runs (DESIGN.md, "Scenario model").
 *
 * A scenario is data: what it requires of the function (requires:), the
 * canaries it declares, users who send, steps
 * (cold_start, invoke, sleep) and assertions (canary_seen, pattern_seen,
 * secret_seen, memory_growth, status, config). Everything is checked at load
 * time — step and canary references, templates, patterns, catalog entries —
 * and every error names FILE:LINE:COLUMN, so a typo never silently changes
 * what is tested.
 *
 * Numbers in steps and assertions are literals or "$PARAM", a parameter the
 * scenario declares with a default and a suite may override per target.
 *
 * Ownership: scenario_set owns every scenario and catalog and all their
 * strings; it is read-only after loading and may be shared by threads.
 */
#ifndef COLDSEC_SCENARIO_H
#define COLDSEC_SCENARIO_H

#include <cjson/cJSON.h>
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCENARIO_MAX_STEPS 32
#define SCENARIO_MAX_USERS 16
#define SCENARIO_MAX_CANARIES 16
#define SCENARIO_MAX_PARAMS 32

typedef enum { SEVERITY_INFO = 0, SEVERITY_LOW, SEVERITY_MEDIUM, SEVERITY_HIGH, SEVERITY_CRITICAL } severity;
int severity_parse(const char *s, severity *out);
const char *severity_name(severity s);

/* A literal, or a reference to a parameter ("$NAME"). */
typedef struct scenario_num {
    long value;
    int param;          /* index into scenario.params, or -1 */
} scenario_num;

typedef struct scenario_param {
    char *name;
    long value;         /* the default */
    long min, max;      /* what every use of it allows: a suite's override must stay inside */
} scenario_param;

typedef struct scenario_canary {
    char *name;
    bool per_run;       /* one value for the whole scenario run; else one per invocation */
    char *plant;        /* per_run canaries planted by cold_start as this variable, or NULL */
} scenario_canary;

/* Which fields of the baseline event an invoke step varies. */
typedef enum {
    FIELDS_NONE = 0,    /* the baseline as is (or body-level catalog entries) */
    FIELDS_STRINGS,     /* each string leaf without a template, one at a time */
    FIELDS_LEAVES,      /* each leaf (any type) without a template */
    FIELDS_LONGEST      /* the longest string leaf without a template */
} scenario_fields;

/* What the users after a step's first send in the varied field: the same
 * variant, or the baseline without the field, or with it empty (""): state
 * merged from one caller's request shows in the answer of one who did not
 * send that field. */
typedef enum { OTHERS_SAME = 0, OTHERS_OMIT, OTHERS_EMPTY } scenario_others;

typedef enum { STEP_COLD_START, STEP_INVOKE, STEP_SLEEP } scenario_step_kind;

typedef struct catalog catalog;

typedef struct scenario_step {
    scenario_step_kind kind;
    char *id;                   /* invoke: required; others: "cold_start#N" / "sleep#N" */
    int line, column;
    /* cold_start */
    int plant[SCENARIO_MAX_CANARIES];  /* canary indexes */
    size_t nplant;
    /* sleep */
    scenario_num sleep_ms;
    /* invoke */
    int users[SCENARIO_MAX_USERS];     /* user indexes, in sending order */
    size_t nusers;
    scenario_num count;         /* invocations per variant and user */
    bool until_full;            /* count = what fills EphemeralStorage with fill_bytes per request */
    bool until_oom;             /* count = what would fill MemorySize twice with fill_bytes per request */
    scenario_num fill_bytes;
    scenario_num parallel;
    bool shuffle;               /* seeded shuffle of the invocation order */
    scenario_fields fields;
    cJSON *set;                 /* template value for each varied field; NULL: none */
    const catalog *cat;         /* entries: set / merge / delete / body, per varied field (merge: per object) */
    scenario_others others;
    char *stop_on;              /* pcre2: stop the step once an answer or log matches */
    scenario_num flat_after;    /* stop once Max Memory Used has not risen for this many answers; 0: never */
    pcre2_code *stop_re;        /* stop_on compiled once, at load (matching is thread-safe) */
    int envelope;               /* an event_envelope overriding the target's, or -1 */
} scenario_step;

typedef enum {
    ASSERT_CANARY_SEEN,
    ASSERT_PATTERN_SEEN,
    ASSERT_SECRET_SEEN,
    ASSERT_MEMORY_GROWTH,
    ASSERT_STATUS,
    ASSERT_CONFIG
} scenario_assert_kind;

enum { WHERE_PAYLOAD = 1, WHERE_LOG = 2 };
/* Whose canary counts where it is seen: anyone's, another user's, another
 * invocation's, or another user's whose request overlapped the one it is
 * seen in ([start, end] as the client saw them). */
typedef enum { WHO_ANY = 0, WHO_OTHER_USER, WHO_OTHER_INVOCATION, WHO_CONCURRENT_OTHER_USER } scenario_who;
typedef enum {
    CHECK_PLAINTEXT_SECRET,
    CHECK_DEPRECATED_RUNTIME,
    CHECK_NO_RESERVED_CONCURRENCY,
    CHECK_TRIGGER_TIMEOUT
} scenario_check;

typedef struct scenario_assert {
    scenario_assert_kind kind;
    char *id;
    char *title;
    severity sev;               /* the scenario's unless the assertion says */
    int line, column;
    uint64_t planted_in;        /* step bitmasks */
    uint64_t seen_in;
    unsigned where;
    scenario_who who;
    int canaries[SCENARIO_MAX_CANARIES];
    size_t ncanaries;
    int cleared_by;             /* step index, or -1 */
    bool always;                /* canary_seen: the finding is an answer WITHOUT the canary */
    bool identity;              /* canary_seen: each user's {{user.id}} is that user's canary too */
    char *cls;                  /* the class of its findings when not the scenario's, or NULL */
    char *echo_class;           /* canary_seen: the class of a finding where a request's own text came
                                   back (a {{split:}} canary's half, a merge's member) instead of its
                                   effect; NULL: such sightings are not findings */
    severity echo_sev;
    char *pattern;              /* pattern_seen */
    pcre2_code *re;             /* pattern compiled once, at load */
    bool function_variables;    /* secret_seen */
    const catalog *shapes;      /* secret_seen, plaintext_secret: id + pattern entries */
    scenario_num oom_within, min_points;  /* memory_growth */
    double min_r2;
    char *expect;               /* status: "ok" */
    scenario_check check;       /* config */
    const catalog *runtimes;    /* deprecated_runtime */
} scenario_assert;

typedef struct scenario_ref {
    char *cwe;                  /* "CWE-94" or NULL */
    char *seed;                 /* "002" or NULL */
    char *title;
} scenario_ref;

typedef struct scenario {
    char *id, *title, *cls, *proves, *fix, *path;
    bool builtin;     /* from the built-in folder (scenario_set_load_layered) */
    char *overrides;  /* the built-in file this suite-side one replaces, or NULL */
    severity sev;
    scenario_ref *refs;
    size_t nrefs;
    scenario_param params[SCENARIO_MAX_PARAMS];
    size_t nparams;
    scenario_canary canaries[SCENARIO_MAX_CANARIES];
    size_t ncanaries;
    char *users[SCENARIO_MAX_USERS];
    size_t nusers;
    scenario_step steps[SCENARIO_MAX_STEPS];
    size_t nsteps;
    scenario_assert *asserts;
    size_t nasserts;
    bool invokes;               /* has an invoke step (config-only scenarios do not) */
    /* requires: what the function must be for the scenario to apply; a
     * function below it gets the result not_applicable, never passed. */
    long requires_max_concurrency;  /* PerExecutionEnvironmentMaxConcurrency at least this; 0: no requirement */
} scenario;

/* A payload catalog: its entries as JSON objects (each has "id"). */
struct catalog {
    char *name, *path;
    cJSON *entries;             /* array */
};

typedef struct scenario_set scenario_set;

/* Loads every *.yaml in dir (sorted) and the catalogs they name from
 * dir/catalogs/. -1 with err "FILE:LINE:COLUMN: ..." on the first problem. */
int scenario_set_load(const char *dir, scenario_set **out, char *err, size_t errlen);
/* dir (the suite's own folder) first, then builtin (may be NULL): a
 * scenario of dir replaces the built-in one of the same id (its overrides
 * names that file), and a catalog in dir/catalogs/ the built-in one of the
 * same name. A missing dir is no error when optional and builtin is given;
 * builtin is skipped when it is dir itself. */
int scenario_set_load_layered(const char *dir, bool optional, const char *builtin, scenario_set **out, char *err,
                              size_t errlen);
void scenario_set_free(scenario_set *s);
size_t scenario_set_count(const scenario_set *s);
const scenario *scenario_set_at(const scenario_set *s, size_t i);
const scenario *scenario_set_find(const scenario_set *s, const char *id);
/* A catalog some scenario of the set uses, by name; NULL if none does. */
const catalog *scenario_set_catalog(const scenario_set *s, const char *name);

/* Checks a suite's baseline event: only {{user.id}}, {{user.name}},
 * {{seq}}, {{pad:N}}, {{open}} and {{close}} (canaries belong to scenarios). */
int scenario_check_baseline(const cJSON *ev, char *why, size_t whylen);

/* Parameter lookup by name; -1 when the scenario has none of that name. */
int scenario_param_index(const scenario *sc, const char *name);
/* A number's value with per-target overrides (values[i] for params[i]). */
long scenario_num_value(const scenario_num *n, const long *values);
int scenario_step_index(const scenario *sc, const char *id);
int scenario_canary_index(const scenario *sc, const char *name);

#endif
