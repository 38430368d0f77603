/*
 * libFuzzer target for fuzzmut, the mutator `coldsec fuzz` hands to
 * libFuzzer: here the mutator's own input is fuzzed. With seeds and sizes
 * derived from the input, beyond surviving:
 *   - mutate writes 1..max_size bytes (buffers malloc'd at exactly
 *     max_size, so ASan sees any write past it), and the same seed gives
 *     the same bytes;
 *   - when the input is one whole JSON value, so is the output, and valid
 *     UTF-8 when the input was, unless it came from the byte fallback
 *     (whose output here starts with a marker byte no JSON text starts
 *     with);
 *   - with our own byte mutator (NULL) only the bounds are checked;
 *   - crossover writes at most max_out bytes, is deterministic, and what
 *     is not JSON is a prefix of a followed by a run of b; grafted JSON is
 *     valid UTF-8 when a and b are.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzmut.h"
#include "jsonutil.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FALLBACK_MARK 0x01 /* a control byte: no JSON text starts with it */

/* The byte mutator: marks the buffer as the fallback's, and changes a byte
 * inside JSON strings (where the mark is escaped as \u0001). */
static size_t mark_bytes(uint8_t *d, size_t size, size_t max)
{
    if (max == 0)
        return 0;
    if (size == 0) {
        d[0] = FALLBACK_MARK;
        return 1;
    }
    d[0] = FALLBACK_MARK;
    if (size < max)
        d[size++] = 0xff; /* an ill-formed byte: made valid inside JSON */
    return size;
}

static uint64_t hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h ^ (h >> 32);
}

/* One whole JSON value (cJSON takes ill-formed UTF-8 inside strings). */
static bool parses(const uint8_t *p, size_t n)
{
    char *copy;
    cJSON *j;

    if (n == 0)
        return false;
    copy = malloc(n + 1);
    if (!copy)
        abort();
    memcpy(copy, p, n);
    copy[n] = '\0';
    j = jsonutil_parse_whole(copy, n);
    free(copy);
    cJSON_Delete(j);
    return j != NULL;
}

static fuzzmut *material(void)
{
    static const char nul[] = "a\0b";
    static const char *const s[] = {"CSC000000000000000000000000", "' OR 1=1 --", "\xff\xfe",
                                    "{\"x\":1}", "__proto__"};
    fuzzmut *m = fuzzmut_new();

    if (!m || fuzzmut_add_string(m, nul, sizeof(nul) - 1) != 0)
        abort();
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        if (fuzzmut_add_string(m, s[i], strlen(s[i])) != 0)
            abort();
    }
    return m;
}

static void check_mutate(const fuzzmut *m, const uint8_t *in, size_t size, size_t max,
                         unsigned seed)
{
    size_t len = size < max ? size : max;
    bool json_in = parses(in, len);
    bool utf8_in = utf8_valid(in, len);
    uint8_t *a = malloc(max);
    uint8_t *b = malloc(max);
    size_t na, nb;

    if (!a || !b)
        abort();
    memcpy(a, in, len);
    memcpy(b, in, len);
    na = fuzzmut_mutate(m, a, len, max, seed, mark_bytes);
    nb = fuzzmut_mutate(m, b, len, max, seed, mark_bytes);
    if (na == 0 || na > max || na != nb || memcmp(a, b, na) != 0)
        abort();
    if (json_in && a[0] != FALLBACK_MARK &&
        (!parses(a, na) || (utf8_in && !utf8_valid(a, na))))
        abort();

    memcpy(a, in, len);
    na = fuzzmut_mutate(m, a, len, max, seed, NULL);
    if (na == 0 || na > max)
        abort();
    free(a);
    free(b);
}

/* out[0..n) is a[0..i) followed by a run of b, for some i. */
static bool is_splice(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                      const uint8_t *out, size_t n)
{
    for (size_t i = 0; i <= n && i <= alen; i++) {
        if (i && out[i - 1] != a[i - 1])
            break;
        if (n - i == 0 || (n - i <= blen && memmem(b, blen, out + i, n - i)))
            return true;
    }
    return false;
}

static void check_crossover(const fuzzmut *m, const uint8_t *a, size_t alen, const uint8_t *b,
                            size_t blen, size_t max, unsigned seed)
{
    uint8_t *o1 = malloc(max ? max : 1);
    uint8_t *o2 = malloc(max ? max : 1);
    size_t n1, n2;

    if (!o1 || !o2)
        abort();
    n1 = fuzzmut_crossover(m, a, alen, b, blen, o1, max, seed);
    n2 = fuzzmut_crossover(m, a, alen, b, blen, o2, max, seed);
    if (n1 > max || n1 != n2 || (n1 && memcmp(o1, o2, n1) != 0))
        abort();
    if (n1 && !is_splice(a, alen, b, blen, o1, n1) &&
        (!parses(o1, n1) ||
         (utf8_valid(a, alen) && utf8_valid(b, blen) && !utf8_valid(o1, n1))))
        abort();
    free(o1);
    free(o2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = hash(data, size);
    unsigned seed = (unsigned)h;
    fuzzmut *m = material();
    size_t cut = size ? (size_t)(h >> 32) % (size + 1) : 0;

    /* The input as a dictionary file: refused with a line number, or every value added. */
    {
        fuzzmut *d = fuzzmut_new();
        char err[128] = "";
        if (d && fuzzmut_add_dict(d, (const char *)data, size, err, sizeof(err)) != 0 &&
            strncmp(err, "line ", 5) != 0 && strcmp(err, "out of memory") != 0)
            abort();
        fuzzmut_free(d);
    }
    check_mutate(m, data, size, size ? size : 1, seed);
    check_mutate(m, data, size, size + 1 + (size_t)(h >> 40) % 512, seed + 1);
    check_mutate(m, data, size, size / 2 + 1, seed + 2);
    check_mutate(NULL, data, size, 4096, seed + 3);

    check_crossover(m, data, size, data, size, size + 256, seed);
    check_crossover(m, data, cut, data + cut, size - cut, size + 64, seed + 1);
    check_crossover(NULL, data, size, data, size, (size_t)(h >> 48) % 64, seed + 2);
    fuzzmut_free(m);
    return 0;
}
