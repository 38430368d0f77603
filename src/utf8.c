/*
 * utf8 — strict UTF-8 decoding (see utf8.h).
 */
#include "utf8.h"

bool utf8_valid(const void *s, size_t n)
{
    const unsigned char *p = s;
    uint32_t cp;

    for (size_t i = 0; i < n;) {
        size_t k = utf8_decode(p + i, n - i, &cp);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}
