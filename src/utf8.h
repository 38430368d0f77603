/*
 * utf8 — strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * past U+10FFFF), the one decoder of the modules that must tell text from
 * bytes: yamldoc (config files), event (bodies a JSON string can carry),
 * secrets (JSON-escaped forms of a value) and the lab's request parsing.
 * logtail keeps its own: it replaces ill-formed spans for terminals, which
 * needs the maximal-subpart rule rather than a yes or no.
 *
 * Pure functions on the caller's bytes; no state.
 */
#ifndef COLDSEC_UTF8_H
#define COLDSEC_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1 to 4, never more than n) of the well-formed sequence at
 * p[0..n) and its code point in *cp; 0 when it is ill-formed or cut short
 * (and for n == 0). Inline: it runs once per character, and callers (and
 * their static analysis) see that it never reads past p[n - 1]. */
static inline size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    size_t need;
    uint32_t c, min;

    if (n == 0)
        return 0;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        need = 2, c = p[0] & 0x1fu, min = 0x80;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        need = 3, c = p[0] & 0x0fu, min = 0x800;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        need = 4, c = p[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xc0u) != 0x80u)
            return 0;
        c = (c << 6) | (p[i] & 0x3fu);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return need;
}

/* Is s[0..n) well-formed UTF-8 throughout? */
bool utf8_valid(const void *s, size_t n);

#endif
