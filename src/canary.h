/*
 * canary — fresh random markers for payloads and planted variables
 * (DESIGN.md, decision 5). A canary seen where it must not be is a proof,
 * so canaries come from OpenSSL's RNG, never from the run's seed: a seed
 * makes the plan repeatable, not the markers guessable.
 *
 * Ownership: the caller owns the buffers.
 */
#ifndef COLDSEC_CANARY_H
#define COLDSEC_CANARY_H

#include <stddef.h>

/* "CSC" + 24 lower-case hex digits: 96 random bits, a shape no real data
 * has and every encoding (JSON, URL, base64 of the whole) leaves findable. */
#define CANARY_LEN 27

/* Writes a new canary and its NUL into out (at least CANARY_LEN + 1
 * bytes). Returns 0, or -1 when the RNG fails. */
int canary_new(char *out, size_t outlen);

#endif
