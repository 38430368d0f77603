/*
 * replayfile — reading a finding file of `coldsec run` (REPORT/TARGET/
 * SCENARIO/finding-N.json, docs/report-format.md "Finding files") for
 * `coldsec replay`. The file says where the function ran (target), whether
 * a cold start came first (cold_start), which requests to send in order
 * (steps, each naming a request file relative to the finding file's own
 * folder) and how replay judges what comes back (check, one kind per
 * assertion family: canary, pattern, secret, memory). replayfile_parse
 * checks every member the kind needs, so replaycmd acts only on a whole
 * and sane file, and names the file and the member when it is not.
 *
 * Pure: no I/O (the caller reads the file), no globals.
 * Ownership: replayfile_parse returns a handle the caller frees with
 * replayfile_free; every pointer an accessor returns points into it and
 * lives until then.
 */
#ifndef COLDSEC_REPLAYFILE_H
#define COLDSEC_REPLAYFILE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* The most requests a file may ask to send (steps × sends), a cap on hostile files. */
#define REPLAYFILE_MAX_SENDS 100000
/* The most steps a file may list. */
#define REPLAYFILE_MAX_STEPS 64

typedef enum replayfile_kind {
    REPLAYFILE_CANARY,   /* a canary planted by one step came back in a later one */
    REPLAYFILE_PATTERN,  /* a pattern matched within `sends` sends of one request */
    REPLAYFILE_SECRET,   /* secrets exposed: by kind, name, form and where; never a value */
    REPLAYFILE_MEMORY,   /* memory kept between requests: a series judged by memfit_judge */
    REPLAYFILE_KIND_LAST
} replayfile_kind;

typedef struct replayfile replayfile;

/*
 * Parses text[0..len), the bytes of the file at path (path is used to name
 * the file in errors and to resolve request files: a relative request_file
 * is taken from dirname(path)). Returns a handle, or NULL with a message in
 * err[0..errlen) of the form "PATH: MEMBER: what is wrong" (MEMBER a dotted
 * path such as "check.sends" or "steps[1].request_file").
 */
replayfile *replayfile_parse(const char *path, const char *text, size_t len, char *err, size_t errlen);
/* Frees f and everything it owns; NULL is allowed. */
void replayfile_free(replayfile *f);

replayfile_kind replayfile_kind_of(const replayfile *f);
/* "canary", "pattern", "secret", "memory"; "?" for anything else. */
const char *replayfile_kind_name(replayfile_kind k);
/* The whole document, its target object and its check object (all owned by f). */
const cJSON *replayfile_doc(const replayfile *f);
const cJSON *replayfile_target(const replayfile *f);
const cJSON *replayfile_check(const replayfile *f);
/* The steps: how many, one's object, and its request file resolved as above (owned by f). */
size_t replayfile_nsteps(const replayfile *f);
const cJSON *replayfile_step(const replayfile *f, size_t i);
const char *replayfile_request_path(const replayfile *f, size_t i);
/* check.step, check.seen_step or an exposure's step as a 0-based index
 * (validated to name a step); check.sends (validated, >= 1). */
size_t replayfile_check_step(const replayfile *f);
long replayfile_check_sends(const replayfile *f);

/* Whether a text of an answer labelled label ("payload", "body" — an HTTP
 * trigger's body, part of the payload — or "log") is one a where list
 * (["payload", "log"]) asks to search. */
bool replayfile_where_has(const cJSON *where, const char *label);

#endif
