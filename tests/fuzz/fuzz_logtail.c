/*
 * libFuzzer target for logtail: X-Amz-Log-Result comes from whatever endpoint
 * answered. The input is taken both as the header (decode, then parse and
 * sanitize what it holds) and as an already decoded tail, so the parser is
 * reached without the fuzzer having to find valid base64 first. Beyond
 * surviving: a decode round-trips, a report holds only values the header
 * promises, and sanitized text is well-formed UTF-8 without control
 * characters, fits its buffer, and is unchanged by a second pass. The JSON
 * log format too (Managed Instances): a platform.report read for a request
 * id holds the same promises and names that id; the lines kept as one
 * request's evidence are whole lines of the input, each attributed to that
 * request, in order, and nothing else.
 */
#include <openssl/evp.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logtail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_report(const logtail_report *r)
{
    size_t idlen = strnlen(r->request_id, sizeof(r->request_id));

    if (idlen == sizeof(r->request_id))
        abort();
    if (!r->present) {
        if (idlen != 0 || r->duration_ms != 0 || r->billed_ms != 0 || r->memory_size_mb != 0 ||
            r->max_memory_used_mb != 0 || r->has_init || r->init_ms != 0)
            abort();
    } else {
        if (idlen == 0)
            abort();
        for (size_t i = 0; i < idlen; i++) {
            if (r->request_id[i] <= ' ' || r->request_id[i] > '~')
                abort();
        }
        if (!isfinite(r->duration_ms) || r->duration_ms < 0 || r->duration_ms > LOGTAIL_MAX_VALUE ||
            !isfinite(r->billed_ms) || r->billed_ms < 0 || r->billed_ms > LOGTAIL_MAX_VALUE ||
            r->memory_size_mb < 0 || r->memory_size_mb > LOGTAIL_MAX_VALUE ||
            r->max_memory_used_mb < 0 || r->max_memory_used_mb > LOGTAIL_MAX_VALUE ||
            !isfinite(r->init_ms) || r->init_ms < 0 || r->init_ms > LOGTAIL_MAX_VALUE ||
            (!r->has_init && r->init_ms != 0))
            abort();
    }
    if (!isfinite(r->timed_out_after_s) || r->timed_out_after_s < 0 ||
        r->timed_out_after_s > LOGTAIL_MAX_VALUE || (!r->timed_out && r->timed_out_after_s != 0))
        abort();
}

/* Well-formed UTF-8 with nothing but \n and \t below U+0020, no DEL or C1. */
static void check_clean(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t need;
        uint32_t cp;

        if (c < 0x80) {
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F)
                abort();
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            cp = c & 0x07u;
        } else {
            abort();
        }
        if (n - i <= need)
            abort();
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                abort();
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        /* overlong, surrogate, out of range, C1, bidi controls */
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp <= 0x9F) ||
            (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
            abort();
        i += need + 1;
    }
}

static void check_sanitize(const char *text, size_t len)
{
    /* Each input byte becomes at most 3 output bytes; +1 for the NUL. */
    size_t cap = len * 3 + 1;
    char *out = malloc(cap);
    char *again = malloc(cap);
    char small[7];
    size_t n, m, k;

    if (!out || !again)
        goto cleanup;
    n = logtail_sanitize(text, len, out, cap);
    if (n >= cap || out[n] != '\0' || strlen(out) != n)
        abort();
    check_clean((const unsigned char *)out, n);
    m = logtail_sanitize(out, n, again, cap);
    if (m != n || memcmp(out, again, n) != 0)
        abort();
    /* A small buffer gets a prefix of the full output, cut between characters. */
    k = logtail_sanitize(text, len, small, sizeof(small));
    if (k >= sizeof(small) || small[k] != '\0' || k > n || memcmp(small, out, k) != 0 ||
        (k < n && k + 4 <= sizeof(small) - 1))
        abort();
    check_clean((const unsigned char *)small, k);

cleanup:
    free(out);
    free(again);
}

/*
 * What a successful decode implies about its input: whole groups of four
 * once whitespace is dropped, padding only at the very end, and exactly the
 * bytes those groups hold.
 */
static void check_decoded(const uint8_t *b64, size_t size, size_t len)
{
    size_t chars = 0;
    size_t pads = 0;

    for (size_t i = 0; i < size; i++) {
        uint8_t c = b64[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=')
            pads++;
        else if (pads > 0) /* data after padding */
            abort();
        chars++;
    }
    if (chars % 4 != 0 || pads > 2 || len != chars / 4 * 3 - pads)
        abort();
}

/* The request id a fuzz input asks about: the first requestId the text
 * holds (so that attribution is reached), else a fixed one. */
static void pick_id(const char *text, size_t len, char *id, size_t idlen)
{
    size_t pos = 0;

    snprintf(id, idlen, "8d3b1f2a-0c4e-4b7a-9e21-5f6a7b8c9d01");
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (logtail_line_request_id(text + pos, n, id, idlen))
            return;
        pos += n + (nl ? 1 : 0);
    }
    snprintf(id, idlen, "8d3b1f2a-0c4e-4b7a-9e21-5f6a7b8c9d01");
}

static void check_own_lines(const char *text, size_t len, const char *id)
{
    char *out = NULL, got[LOGTAIL_REQUEST_ID_MAX];
    size_t olen = 0, pos = 0, in = 0;

    if (logtail_own_lines(text, len, id, &out, &olen) != 0) {
        if (out || olen)
            abort();
        return;
    }
    if (!out || out[olen] != '\0' || olen > len + 1)
        abort();
    /* Every kept line is attributed to id and is the next such line of the input. */
    while (pos < olen) {
        const char *nl = memchr(out + pos, '\n', olen - pos);
        size_t n;
        bool found = false;
        if (!nl)
            abort();
        n = (size_t)(nl - (out + pos));
        if (!logtail_line_request_id(out + pos, n, got, sizeof(got)) || strcmp(got, id) != 0)
            abort();
        while (in < len && !found) {
            const char *inl = memchr(text + in, '\n', len - in);
            size_t m = inl ? (size_t)(inl - (text + in)) : len - in;
            size_t keep = m > 0 && text[in + m - 1] == '\r' ? m - 1 : m;
            found = keep == n && memcmp(text + in, out + pos, n) == 0;
            in += m + (inl ? 1 : 0);
        }
        if (!found)
            abort();
        pos += n + 1;
    }
    free(out);
}

static void check_text(const char *text, size_t len)
{
    logtail_report r;
    char id[LOGTAIL_REQUEST_ID_MAX];

    logtail_parse(text, len, &r);
    check_report(&r);
    check_sanitize(text, len);
    pick_id(text, len, id, sizeof(id));
    logtail_parse_for(text, len, id, &r);
    check_report(&r);
    logtail_parse_for(text, len, NULL, &r);
    check_report(&r);
    check_own_lines(text, len, id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = NULL;
    char *b64 = NULL;
    char *back = NULL;
    size_t len = 0;
    size_t backlen = 0;

    check_text((const char *)data, size);

    if (logtail_decode((const char *)data, size, &text, &len) == 0) {
        if (!text || text[len] != '\0')
            abort();
        check_decoded(data, size, len);
        check_text(text, len);
    } else if (text || len != 0) {
        abort();
    }

    /* Encoding the input and decoding it gives the input back. */
    if (size <= LOGTAIL_MAX_B64 / 4 * 3) {
        b64 = malloc(4 * ((size + 2) / 3) + 1);
        if (!b64)
            goto cleanup;
        EVP_EncodeBlock((unsigned char *)b64, data, (int)size);
        if (logtail_decode(b64, strlen(b64), &back, &backlen) != 0 || backlen != size ||
            (size > 0 && memcmp(back, data, size) != 0))
            abort();
    }

cleanup:
    free(text);
    free(b64);
    free(back);
    return 0;
}
