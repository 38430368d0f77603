/*
 * fuzzfinding — the replay record of a `coldsec fuzz` finding file
 * (OUT/finding-KIND-HASH.json, OUT = reports/fuzz/NAME): what
 * `coldsec replay` needs to send the input again and judge the answer with
 * the same oracle. coldsec-fuzz writes it (fuzzfinding_add), replaycmd reads
 * it (fuzzfinding_parse); both sides of the format live here.
 *
 * The record: "coldsec_fuzz_finding": FUZZFINDING_FORMAT at the top, and
 *   "replay": {"lab_config": ABSOLUTE PATH, "function": NAME,
 *              "input": FILE, "probe": FILE (pollution only),
 *              "state": "none" | "probe" | "session",
 *              "oracle": {"kind": KIND, "key": KEY, "growth_mb": N}}
 * FILE is relative to the finding file's folder, so that a moved fuzz
 * folder still replays. "state" is what the oracle's verdict depended on
 * besides the input's own answer: nothing, the probe's answer after the
 * input compared with a fresh environment's, or the whole session (memory:
 * the lowest Max Memory Used seen in it).
 *
 * Pure: no files are read here.
 */
#ifndef COLDSEC_FUZZFINDING_H
#define COLDSEC_FUZZFINDING_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "fuzzoracle.h"

#define FUZZFINDING_FORMAT 1
#define FUZZFINDING_NAME_MAX 256

typedef struct fuzzfinding {
    char lab_config[PATH_MAX];
    char function[FUZZFINDING_NAME_MAX];
    char input[PATH_MAX];          /* resolved against the finding file's folder */
    char probe[PATH_MAX];          /* likewise; "" when none was recorded */
    fuzzoracle_kind kind;
    char key[300];                 /* fuzzoracle_verdict.key of the finding */
    int growth_mb;
} fuzzfinding;

/* Adds the marker and the replay record to o (a finding file's object).
 * lab_config should be absolute; input and probe (NULL: none) are file
 * names in the finding file's folder. */
void fuzzfinding_add(cJSON *o, const char *lab_config, const char *function, const char *input, const char *probe,
                     const fuzzoracle_verdict *v, int growth_mb);

/* Whether doc is a fuzz finding file (it has the marker). */
bool fuzzfinding_is(const cJSON *doc);

/* The replay record of doc, read from finding_path (whose folder relative
 * files are resolved against). 0, or -1 with err saying which field is
 * missing or wrong. */
int fuzzfinding_parse(const cJSON *doc, const char *finding_path, fuzzfinding *out, char *err, size_t errlen);

/* Whether v, the verdict on the replayed input, is the recorded finding
 * again: the same kind, and for exceptions the same type and frame. */
bool fuzzfinding_same(const fuzzfinding *f, const fuzzoracle_verdict *v);

#endif
