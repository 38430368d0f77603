/*
 * fuzzmut — the JSON-aware, Lambda-aware mutator behind `coldsec fuzz`.
 * libFuzzer's own mutations flip bytes; nearly every flip breaks a JSON
 * event, and a handler then stops at its JSON parser. This module parses
 * the input with cJSON, changes one to three nodes (a string through
 * libFuzzer's byte mutator or swapped for an injection payload, a number
 * set to an edge value, a key added or dropped, a subtree copied, a type
 * changed) and prints it back, so the handler sees events that parse and
 * still surprise it. It knows Lambda's envelopes: JSON carried inside a
 * string (API Gateway and function URL `body`, SQS `body`, SNS `Message`,
 * EventBridge `detail`, base64 Kinesis `data`) is mutated inside and
 * re-serialised; `isBase64Encoded` flips with a body that matches;
 * `Records` arrays grow or empty; header names change case.
 *
 *   LLVMFuzzerCustomMutator   -> fuzzmut_mutate    (bytes = LLVMFuzzerMutate)
 *   LLVMFuzzerCustomCrossOver -> fuzzmut_crossover
 *
 * Every output is a pure function of the inputs and the seed (a splitmix64
 * stream; no global state, no rand()), so a saved input replays. When the
 * input is JSON (one whole value), the output is JSON — valid UTF-8 when
 * the input was — unless the mutated tree printed longer than max_size
 * twice, and then the output is bytes(data, size, max_size).
 *
 * Ownership: fuzzmut_new returns a context the caller frees with
 * fuzzmut_free; fuzzmut_add_string copies its argument. The mutate and
 * crossover functions only read the context, so one context may serve
 * several threads once its material is added. Buffers are the caller's;
 * nothing is written past max_size (max_out).
 */
#ifndef COLDSEC_FUZZMUT_H
#define COLDSEC_FUZZMUT_H

#include <stddef.h>
#include <stdint.h>

/* Caps on the material: beyond them fuzzmut_add_string refuses. */
#define FUZZMUT_MAX_STRINGS 65536
#define FUZZMUT_MAX_STRING_LEN ((size_t)65536)

/* libFuzzer's LLVMFuzzerMutate: mutates data[0..size) in place, returns
 * the new size (at most max_size). */
typedef size_t (*fuzzmut_bytes_fn)(uint8_t *data, size_t size, size_t max_size);

/* String material: injection payloads, dictionary values, canaries. */
typedef struct fuzzmut fuzzmut;

/* An empty context; NULL when out of memory. */
fuzzmut *fuzzmut_new(void);

/* Adds a copy of s[0..len) to the material (strings put into events and
 * used as new member names). 0, or -1 when out of memory, when len is over
 * FUZZMUT_MAX_STRING_LEN or the material already holds FUZZMUT_MAX_STRINGS. */
int fuzzmut_add_string(fuzzmut *m, const char *s, size_t len);

/* Adds every value of a libFuzzer dictionary (text[0..len): lines
 * `name="value"` or `"value"`, `#` comments, with \\, \" and \xNN escapes)
 * to the material, so that a whole string can become a dictionary word, not
 * only have one spliced in. 0, or -1 with err "line N: why" on a malformed
 * line (nothing of a malformed line is added) or when out of memory. */
int fuzzmut_add_dict(fuzzmut *m, const char *text, size_t len, char *err, size_t errlen);

/* How many strings the material holds (0 for NULL). */
size_t fuzzmut_count(const fuzzmut *m);

/*
 * Mutates data[0..size) in place into at most max_size bytes and returns
 * the new size (at least 1 when max_size is; 0 only when max_size is 0).
 * m may be NULL (no material: built-in strings only). bytes is libFuzzer's
 * byte mutator, used for strings inside the JSON and as the fallback for
 * input that is not JSON; NULL means a simple byte mutator of our own.
 * A size above max_size is read as max_size.
 */
size_t fuzzmut_mutate(const fuzzmut *m, uint8_t *data, size_t size, size_t max_size, unsigned seed,
                      fuzzmut_bytes_fn bytes);

/*
 * Writes a cross of a and b into out[0..max_out) and returns its length
 * (0 when there is nothing to write). When both are JSON, a subtree of b
 * is grafted into a at the same key path if a has one, else at a random
 * place; otherwise (or when the graft does not fit) a prefix of a is
 * joined to a suffix of b. out must not overlap a or b.
 */
size_t fuzzmut_crossover(const fuzzmut *m, const uint8_t *a, size_t alen, const uint8_t *b,
                         size_t blen, uint8_t *out, size_t max_out, unsigned seed);

/* Frees m and its material; NULL is a no-op. */
void fuzzmut_free(fuzzmut *m);

#endif
