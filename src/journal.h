/*
 * journal — the cold-start forcer's record of a configuration change, on
 * disk before the change is made, so that a run killed at any point can be
 * finished by `coldsec restore JOURNAL`.
 *
 * What it holds: the function (as given and its ARN), region, endpoint,
 * the original RevisionId, the names of the original variables and a salted
 * HMAC-SHA256 digest of the whole original map, the variables coldsec adds
 * (a nonce and the scenario's canaries: values coldsec made up), the
 * RevisionId of coldsec's own update, and the state.
 *
 * Why a digest and not the original values: a journal sits in reports/,
 * which CI uploads as an artifact, and a function's variables are often its
 * secrets. Restoring needs only "the current map minus what we added", and
 * the digest proves that this is byte for byte the original before it is
 * written back; anything else is someone else's change, never overwritten.
 *
 * Every write goes to a temporary file that is fsync'd and renamed over the
 * journal, and the folder is fsync'd: a crash leaves the old or the new
 * journal, never half of one. Files are created 0600.
 *
 * Ownership: a journal owns copies of everything given to it; cJSON
 * arguments are borrowed for the call.
 */
#ifndef COLDSEC_JOURNAL_H
#define COLDSEC_JOURNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define JOURNAL_VERSION 1

typedef enum {
    JOURNAL_PLANNED = 0, /* written; the update may or may not have been sent */
    JOURNAL_UPDATED,     /* the update was accepted; ours_revision is set */
    JOURNAL_RESTORED,    /* the original variables are back */
    JOURNAL_NOT_APPLIED, /* the update was refused: nothing changed */
    JOURNAL_CONFLICT     /* someone else changed the function; not overwritten */
} journal_state;

typedef struct journal journal;

typedef struct journal_info {
    const char *function;      /* as the user gave it */
    const char *function_arn;
    const char *region;
    const char *endpoint;
    const char *original_revision;
    const cJSON *original_vars; /* object of strings, or NULL for none */
    const cJSON *added_vars;    /* object of strings */
} journal_info;

/* A new journal for path (not yet written). NULL on allocation failure. */
journal *journal_new(const char *path, const journal_info *info);
/* Reads a journal; NULL with err filled ("path: what is wrong"). */
journal *journal_load(const char *path, char *err, size_t errlen);
/* The same from text[0..len) (untrusted); path names it in errors and is
 * where journal_write() would write. */
journal *journal_parse(const char *text, size_t len, const char *path, char *err, size_t errlen);
void journal_free(journal *j);

/* Atomically replaces the file with the journal's current content. */
int journal_write(journal *j, char *err, size_t errlen);

/* Changes the state (and, for JOURNAL_UPDATED, our RevisionId), with a
 * one-line note for the history; call journal_write() to persist. */
int journal_set_state(journal *j, journal_state s, const char *ours_revision, const char *note);

journal_state journal_get_state(const journal *j);
const char *journal_state_name(journal_state s);
const char *journal_path(const journal *j);
const char *journal_function(const journal *j);
const char *journal_region(const journal *j);
const char *journal_endpoint(const journal *j);
const char *journal_ours_revision(const journal *j); /* NULL until updated */
const cJSON *journal_added(const journal *j);

/* True when vars (an object of strings, or NULL = none) is exactly the
 * original map, by digest. */
bool journal_is_original(const journal *j, const cJSON *vars);
/* True when every added variable is in vars with the value we set. */
bool journal_has_added(const journal *j, const cJSON *vars);

#endif
