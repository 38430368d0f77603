/*
 * canary — random markers from OpenSSL's RNG (see canary.h).
 */
#include "canary.h"

#include <openssl/rand.h>
#include <stdio.h>

int canary_new(char *out, size_t outlen)
{
    unsigned char raw[12];
    static const char hex[] = "0123456789abcdef";

    if (outlen < CANARY_LEN + 1 || RAND_bytes(raw, sizeof(raw)) != 1)
        return -1;
    out[0] = 'C';
    out[1] = 'S';
    out[2] = 'C';
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[3 + 2 * i] = hex[raw[i] >> 4];
        out[4 + 2 * i] = hex[raw[i] & 15];
    }
    out[CANARY_LEN] = '\0';
    return 0;
}
