/*
 * Unit tests for fuzzmut: the same seed gives the same output; nothing is
 * written past max_size (buffers are malloc'd at exactly max_size so ASan
 * sees an overflow); mutations of every seed event in fuzz/events/ stay
 * JSON (rate measured and printed, at least 95 % required) and valid
 * UTF-8; JSON inside a body is mutated inside and stays a JSON string;
 * the base64 flip round-trips; Records grow and empty; header names change
 * case; material strings and edge numbers appear; input that is not JSON
 * goes to the byte mutator, also when that is our own (NULL); crossover
 * grafts at the same path and mostly stays JSON; the seed events parse and
 * fuzz/lambda.dict is well-formed. Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzmut.h"
#include "jsonutil.h"
#include "utf8.h"

#define EVENTS_DIR "fuzz/events"
#define DICT_PATH "fuzz/lambda.dict"
#define VALID_RUNS 5000
#define BIG_MAX ((size_t)65536)
#define FUZZ_MAX ((size_t)4096) /* libFuzzer's default -max_len */

static const char *const k_events[] = {
    "apigw-v1.json",  "apigw-v2.json",   "function-url.json",   "sqs.json",    "sns.json",
    "s3.json",        "eventbridge.json", "dynamodb-stream.json", "kinesis.json",
};
#define N_EVENTS (sizeof(k_events) / sizeof(k_events[0]))

/* A stand-in for LLVMFuzzerMutate: deterministic in the data (it gets no
 * seed), inserts or overwrites a byte, any byte value. */
static size_t test_bytes(uint8_t *d, size_t size, size_t max)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < size; i++)
        h = (h ^ d[i]) * 1099511628211ULL;
    h ^= h >> 29;
    if (size < max && (h & 1)) {
        size_t at = (size_t)(h >> 8) % (size + 1);
        memmove(d + at + 1, d + at, size - at);
        d[at] = (uint8_t)(h >> 40);
        return size + 1;
    }
    if (size)
        d[(size_t)(h >> 8) % size] = (uint8_t)(h >> 40);
    return size;
}

/* Marks its output so a test can tell the fallback was taken. */
static size_t marker_bytes(uint8_t *d, size_t size, size_t max)
{
    (void)max;
    memset(d, 'Z', size);
    return size;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        fail_msg("%s: cannot open (run the tests from the repository root)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static char *read_event(const char *name, size_t *len)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", EVENTS_DIR, name);
    return read_file(path, len);
}

static bool is_json(const uint8_t *p, size_t n)
{
    cJSON *j;

    if (n == 0 || !utf8_valid(p, n))
        return false;
    j = jsonutil_parse_whole((const char *)p, n);
    cJSON_Delete(j);
    return j != NULL;
}

/* One mutation of text into a buffer of exactly max bytes; the result is
 * a malloc'd, NUL-terminated copy and its length. */
static char *mutate_once(const fuzzmut *m, const char *text, size_t len, size_t max, unsigned seed,
                         fuzzmut_bytes_fn bytes, size_t *outn)
{
    uint8_t *buf = malloc(max);
    char *out;
    size_t n;

    assert_non_null(buf);
    if (len > max)
        len = max;
    memcpy(buf, text, len);
    n = fuzzmut_mutate(m, buf, len, max, seed, bytes);
    assert_true(n <= max);
    assert_true(n >= 1);
    out = malloc(n + 1);
    assert_non_null(out);
    memcpy(out, buf, n);
    out[n] = '\0';
    free(buf);
    *outn = n;
    return out;
}

static fuzzmut *material(void)
{
    static const char *const s[] = {"CSCMATERIAL0001", "' OR 1=1 --", "<script>x</script>",
                                    "../../etc/passwd", "__proto__"};
    fuzzmut *m = fuzzmut_new();

    assert_non_null(m);
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        assert_int_equal(fuzzmut_add_string(m, s[i], strlen(s[i])), 0);
    return m;
}

/* ---------------------------------------------------------------------------
 * Properties over the seed events.
 */
static void test_deterministic(void **state)
{
    fuzzmut *m = material();
    size_t len;
    char *ev = read_event("apigw-v1.json", &len);
    size_t distinct = 0;
    char *prev = NULL;

    (void)state;
    for (unsigned seed = 0; seed < 200; seed++) {
        size_t n1, n2;
        char *a = mutate_once(m, ev, len, BIG_MAX, seed, test_bytes, &n1);
        char *b = mutate_once(m, ev, len, BIG_MAX, seed, test_bytes, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(a, b, n1);
        free(b);
        if (!prev || strcmp(prev, a) != 0)
            distinct++;
        free(prev);
        prev = a;
    }
    free(prev);
    assert_true(distinct > 150);
    free(ev);
    fuzzmut_free(m);
}

static void test_max_size(void **state)
{
    static const size_t maxes[] = {1, 2, 7, 64, 300, 1000, 2000, 4096};
    fuzzmut *m = material();

    (void)state;
    for (size_t e = 0; e < N_EVENTS; e++) {
        size_t len;
        char *ev = read_event(k_events[e], &len);
        for (size_t k = 0; k < sizeof(maxes) / sizeof(maxes[0]); k++) {
            for (unsigned seed = 0; seed < 60; seed++) {
                size_t n;
                char *out = mutate_once(m, ev, len, maxes[k], seed, seed & 1 ? test_bytes : NULL, &n);
                assert_true(n <= maxes[k]);
                free(out);
            }
        }
        free(ev);
    }
    fuzzmut_free(m);
}

/* Mutations of each seed event that are JSON (and valid UTF-8). */
static void validity(fuzzmut_bytes_fn bytes, size_t max, const char *label)
{
    fuzzmut *m = material();
    size_t all = 0, all_ok = 0;

    for (size_t e = 0; e < N_EVENTS; e++) {
        size_t len;
        char *ev = read_event(k_events[e], &len);
        size_t ok = 0;

        assert_true(is_json((const uint8_t *)ev, len));
        for (unsigned seed = 0; seed < VALID_RUNS; seed++) {
            size_t n;
            char *out = mutate_once(m, ev, len, max, seed * 2654435761u, bytes, &n);
            if (is_json((const uint8_t *)out, n))
                ok++;
            free(out);
        }
        printf("fuzzmut validity (%s, max %zu) %-22s %5zu/%d = %.2f %%\n", label, max,
               k_events[e], ok, VALID_RUNS, 100.0 * (double)ok / VALID_RUNS);
        assert_true(ok * 100 >= (size_t)VALID_RUNS * 95);
        all += VALID_RUNS;
        all_ok += ok;
        free(ev);
    }
    printf("fuzzmut validity (%s, max %zu) all: %.2f %%\n", label, max,
           100.0 * (double)all_ok / (double)all);
    fuzzmut_free(m);
}

static void test_validity_bytes_fn(void **state)
{
    (void)state;
    validity(test_bytes, BIG_MAX, "bytes fn");
}

static void test_validity_null_bytes(void **state)
{
    (void)state;
    validity(NULL, BIG_MAX, "NULL bytes");
}

static void test_validity_default_max(void **state)
{
    (void)state;
    validity(test_bytes, FUZZ_MAX, "bytes fn");
}

/* A chain, as libFuzzer mutates a mutant: still mostly JSON. */
static void test_validity_chain(void **state)
{
    fuzzmut *m = material();
    size_t ok = 0, total = 0;

    (void)state;
    for (size_t e = 0; e < N_EVENTS; e++) {
        size_t len;
        char *cur = read_event(k_events[e], &len);
        for (unsigned seed = 0; seed < 300; seed++) {
            size_t n;
            char *out = mutate_once(m, cur, len, FUZZ_MAX, seed + 17 * (unsigned)e, test_bytes, &n);
            total++;
            if (is_json((const uint8_t *)out, n)) {
                ok++;
                free(cur);
                cur = out;
                len = n;
            } else {
                free(out); /* libFuzzer would not keep it either */
            }
        }
        free(cur);
    }
    printf("fuzzmut validity (chains of 300, max %zu): %.2f %%\n", FUZZ_MAX,
           100.0 * (double)ok / (double)total);
    assert_true(ok * 100 >= total * 95);
    fuzzmut_free(m);
}

/* ---------------------------------------------------------------------------
 * Lambda-aware operations.
 */
static void test_nested_body(void **state)
{
    static const char in[] = "{\"Records\":[{\"body\":\"{\\\"orderId\\\":7,\\\"note\\\":\\\"hi\\\"}\","
                             "\"eventSource\":\"aws:sqs\"}]}";
    fuzzmut *m = material();
    size_t inside = 0, string_json = 0, body_seen = 0;

    (void)state;
    for (unsigned seed = 0; seed < 2000; seed++) {
        size_t n;
        char *out = mutate_once(m, in, strlen(in), BIG_MAX, seed, test_bytes, &n);
        cJSON *j = jsonutil_parse_whole(out, n);
        cJSON *rec = j ? cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "Records"), 0) : NULL;
        cJSON *body = rec ? cJSON_GetObjectItemCaseSensitive(rec, "body") : NULL;

        if (body && cJSON_IsString(body)) {
            cJSON *sub = jsonutil_parse_whole(body->valuestring, strlen(body->valuestring));
            body_seen++;
            if (sub) {
                string_json++;
                if (strcmp(body->valuestring, "{\"orderId\":7,\"note\":\"hi\"}") != 0)
                    inside++;
            }
            cJSON_Delete(sub);
        }
        cJSON_Delete(j);
        free(out);
    }
    /* The body mostly keeps holding JSON; many mutations land inside it. */
    assert_true(string_json * 100 >= body_seen * 80);
    assert_true(inside >= 200);
    fuzzmut_free(m);
}

static void test_nested_base64_kinesis(void **state)
{
    size_t len;
    char *ev = read_event("kinesis.json", &len);
    size_t inside = 0;

    (void)state;
    for (unsigned seed = 0; seed < 3000; seed++) {
        size_t n;
        char *out = mutate_once(NULL, ev, len, BIG_MAX, seed, test_bytes, &n);
        cJSON *j = jsonutil_parse_whole(out, n);
        cJSON *rec = j ? cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "Records"), 0) : NULL;
        const char *data = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(rec, "kinesis"), "data"));

        if (data && strcmp(data, "eyJvcmRlcklkIjo3LCJldmVudCI6InNoaXBwZWQifQ==") != 0) {
            /* Still base64 of JSON: decode with the same rules as OpenSSL. */
            size_t dl = strlen(data);
            if (dl % 4 == 0 && dl > 0 && strspn(data, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == dl)
                inside++;
        }
        cJSON_Delete(j);
        free(out);
    }
    assert_true(inside >= 50);
    free(ev);
}

static void test_base64_flip(void **state)
{
    static const char plain[] = "{\"isBase64Encoded\":false,\"body\":\"hello, world\"}";
    static const char encoded[] = "{\"isBase64Encoded\":true,\"body\":\"aGVsbG8sIHdvcmxk\"}";
    bool to_b64 = false, to_plain = false;

    (void)state;
    for (unsigned seed = 0; seed < 3000 && !(to_b64 && to_plain); seed++) {
        size_t n;
        char *out = mutate_once(NULL, plain, strlen(plain), BIG_MAX, seed, test_bytes, &n);
        if (strcmp(out, encoded) == 0)
            to_b64 = true;
        free(out);
        out = mutate_once(NULL, encoded, strlen(encoded), BIG_MAX, seed, test_bytes, &n);
        if (strcmp(out, plain) == 0)
            to_plain = true;
        free(out);
    }
    assert_true(to_b64);
    assert_true(to_plain);
}

static void test_records(void **state)
{
    static const char in[] = "{\"Records\":[{\"eventSource\":\"aws:sqs\",\"body\":\"x\"}]}";
    bool dup = false, empty = false;

    (void)state;
    for (unsigned seed = 0; seed < 2000 && !(dup && empty); seed++) {
        size_t n;
        char *out = mutate_once(NULL, in, strlen(in), BIG_MAX, seed, test_bytes, &n);
        if (strcmp(out, "{\"Records\":[{\"eventSource\":\"aws:sqs\",\"body\":\"x\"},"
                        "{\"eventSource\":\"aws:sqs\",\"body\":\"x\"}]}") == 0)
            dup = true;
        if (strcmp(out, "{\"Records\":[]}") == 0)
            empty = true;
        free(out);
    }
    assert_true(dup);
    assert_true(empty);
}

static void test_header_case(void **state)
{
    static const char in[] = "{\"headers\":{\"content-type\":\"application/json\"}}";
    bool upper = false, title = false;

    (void)state;
    for (unsigned seed = 0; seed < 2000 && !(upper && title); seed++) {
        size_t n;
        char *out = mutate_once(NULL, in, strlen(in), BIG_MAX, seed, test_bytes, &n);
        if (strstr(out, "\"CONTENT-TYPE\":\"application/json\""))
            upper = true;
        if (strstr(out, "\"Content-Type\":\"application/json\""))
            title = true;
        free(out);
    }
    assert_true(upper);
    assert_true(title);
}

static void test_material_and_numbers(void **state)
{
    static const char in[] = "{\"a\":\"x\",\"n\":5,\"t\":true}";
    static const char nul[] = "nul\0byte";
    fuzzmut *m = material();
    bool mat = false, big = false, flipped = false, escaped = false;

    (void)state;
    assert_int_equal(fuzzmut_add_string(m, nul, sizeof(nul) - 1), 0);
    assert_int_equal(fuzzmut_count(m), 6);
    for (unsigned seed = 0; seed < 3000; seed++) {
        size_t n;
        char *out = mutate_once(m, in, strlen(in), BIG_MAX, seed, test_bytes, &n);
        assert_true(is_json((const uint8_t *)out, n));
        mat |= strstr(out, "CSCMATERIAL0001") != NULL;
        big |= strstr(out, "9007199254740993") != NULL;
        flipped |= strstr(out, "\"t\":false") != NULL;
        escaped |= strstr(out, "nul\\u0000byte") != NULL;
        free(out);
    }
    assert_true(mat);
    assert_true(big);
    assert_true(flipped);
    assert_true(escaped);
    fuzzmut_free(m);
}

/* ---------------------------------------------------------------------------
 * Fallbacks and edges.
 */
static void test_not_json_goes_to_bytes(void **state)
{
    static const char *const inputs[] = {"not json", "{\"a\":1", "{\"a\":1} trailing", "\xff\xfe"};

    (void)state;
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        size_t len = strlen(inputs[i]);
        size_t n;
        char *out = mutate_once(NULL, inputs[i], len, 64, 3, marker_bytes, &n);
        assert_int_equal(n, len);
        for (size_t k = 0; k < n; k++)
            assert_int_equal(out[k], 'Z');
        free(out);
    }
}

static void test_null_bytes_fn(void **state)
{
    static const char in[] = "plain text, not JSON";
    size_t changed = 0;

    (void)state;
    for (unsigned seed = 0; seed < 500; seed++) {
        size_t n;
        char *out = mutate_once(NULL, in, strlen(in), 64, seed, NULL, &n);
        if (n != strlen(in) || memcmp(out, in, n) != 0)
            changed++;
        free(out);
    }
    assert_true(changed >= 450);
}

static void test_empty_and_tiny(void **state)
{
    uint8_t buf[1] = {0};
    static const uint8_t arr[3] = {'[', '1', ']'};
    static const uint8_t abcd[4] = {'a', 'b', 'c', 'd'};
    uint8_t four[4];

    (void)state;
    assert_int_equal(fuzzmut_mutate(NULL, buf, 0, 0, 1, NULL), 0);
    assert_int_equal(fuzzmut_mutate(NULL, buf, 0, 1, 1, NULL), 1);
    assert_int_equal(fuzzmut_mutate(NULL, buf, 0, 1, 1, test_bytes), 1);
    for (unsigned seed = 0; seed < 200; seed++) {
        size_t n;
        memcpy(four, arr, sizeof(arr));
        n = fuzzmut_mutate(NULL, four, 3, 3, seed, NULL);
        assert_true(n >= 1 && n <= 3);
    }
    /* A size over max_size is read as max_size. */
    memcpy(four, abcd, sizeof(abcd));
    assert_true(fuzzmut_mutate(NULL, four, 9, 4, 1, NULL) <= 4);
}

static void test_add_string_caps(void **state)
{
    fuzzmut *m = fuzzmut_new();
    char *big = calloc(1, FUZZMUT_MAX_STRING_LEN + 1);

    (void)state;
    assert_non_null(big);
    assert_int_equal(fuzzmut_count(NULL), 0);
    assert_int_equal(fuzzmut_add_string(m, big, FUZZMUT_MAX_STRING_LEN + 1), -1);
    assert_int_equal(fuzzmut_add_string(m, big, FUZZMUT_MAX_STRING_LEN), 0);
    assert_int_equal(fuzzmut_add_string(m, "", 0), 0);
    assert_int_equal(fuzzmut_add_string(NULL, "x", 1), -1);
    assert_int_equal(fuzzmut_count(m), 2);
    free(big);
    fuzzmut_free(m);
    fuzzmut_free(NULL);
}

/* Deep nesting near cJSON's limit: outputs still replay. */
static void test_deep(void **state)
{
    size_t depth = 990;
    size_t len = 2 * depth + 1;
    char *in = malloc(len + 1);

    (void)state;
    assert_non_null(in);
    memset(in, '[', depth);
    in[depth] = '1';
    memset(in + depth + 1, ']', depth);
    in[len] = '\0';
    for (unsigned seed = 0; seed < 300; seed++) {
        size_t n;
        char *out = mutate_once(NULL, in, len, BIG_MAX, seed, test_bytes, &n);
        assert_true(is_json((const uint8_t *)out, n));
        free(out);
    }
    free(in);
}

/* ---------------------------------------------------------------------------
 * Crossover.
 */
static void test_crossover_same_path(void **state)
{
    static const char a[] = "{\"x\":{\"y\":1,\"w\":[1]},\"z\":2}";
    static const char b[] = "{\"x\":{\"y\":\"B\"}}";
    bool grafted = false;

    (void)state;
    for (unsigned seed = 0; seed < 500 && !grafted; seed++) {
        uint8_t out[256];
        size_t n = fuzzmut_crossover(NULL, (const uint8_t *)a, strlen(a), (const uint8_t *)b,
                                     strlen(b), out, sizeof(out), seed);
        assert_true(n <= sizeof(out));
        grafted = n == strlen("{\"x\":{\"y\":\"B\",\"w\":[1]},\"z\":2}") &&
                  memcmp(out, "{\"x\":{\"y\":\"B\",\"w\":[1]},\"z\":2}", n) == 0;
    }
    assert_true(grafted);
}

static void test_crossover_valid_and_bounded(void **state)
{
    size_t lens[N_EVENTS];
    char *evs[N_EVENTS];
    size_t ok = 0, total = 0;

    (void)state;
    for (size_t e = 0; e < N_EVENTS; e++)
        evs[e] = read_event(k_events[e], &lens[e]);
    /* Exactly max_out bytes each, so ASan sees a write past the end. */
    uint8_t *out = malloc(BIG_MAX);
    uint8_t *small = malloc(100);
    uint8_t *again = malloc(BIG_MAX);

    assert_true(out && small && again);
    for (size_t i = 0; i < N_EVENTS; i++) {
        for (size_t j = 0; j < N_EVENTS; j++) {
            for (unsigned seed = 0; seed < 100; seed++) {
                size_t n, n2, ns;
                n = fuzzmut_crossover(NULL, (const uint8_t *)evs[i], lens[i],
                                      (const uint8_t *)evs[j], lens[j], out, BIG_MAX, seed);
                n2 = fuzzmut_crossover(NULL, (const uint8_t *)evs[i], lens[i],
                                       (const uint8_t *)evs[j], lens[j], again, BIG_MAX, seed);
                assert_int_equal(n, n2);
                assert_memory_equal(out, again, n);
                total++;
                if (is_json(out, n))
                    ok++;
                ns = fuzzmut_crossover(NULL, (const uint8_t *)evs[i], lens[i],
                                       (const uint8_t *)evs[j], lens[j], small, 100, seed);
                assert_true(ns <= 100);
            }
        }
    }
    free(out);
    free(small);
    free(again);
    printf("fuzzmut crossover validity: %zu/%zu = %.2f %%\n", ok, total,
           100.0 * (double)ok / (double)total);
    assert_true(ok * 100 >= total * 95);
    for (size_t e = 0; e < N_EVENTS; e++)
        free(evs[e]);
}

static void test_crossover_not_json(void **state)
{
    static const char a[] = "abcdef";
    static const char b[] = "123456";
    uint8_t out[8];

    (void)state;
    for (unsigned seed = 0; seed < 200; seed++) {
        size_t n = fuzzmut_crossover(NULL, (const uint8_t *)a, 6, (const uint8_t *)b, 6, out,
                                     sizeof(out), seed);
        assert_true(n <= sizeof(out));
        size_t i = 0;
        /* A prefix of a, then a suffix of b. */
        while (i < n && i < 6 && out[i] == (uint8_t)a[i])
            i++;
        /* what follows is a run of b (cut at max_out) */
        assert_true(n - i <= 6);
        assert_non_null(memmem(b, 6, out + i, n - i));
    }
    assert_int_equal(fuzzmut_crossover(NULL, NULL, 0, NULL, 0, out, sizeof(out), 1), 0);
    assert_int_equal(fuzzmut_crossover(NULL, (const uint8_t *)a, 6, (const uint8_t *)b, 6, out, 0, 1), 0);
}

/* ---------------------------------------------------------------------------
 * The committed seed events and dictionary.
 */
static void test_events_parse(void **state)
{
    DIR *d = opendir(EVENTS_DIR);
    struct dirent *de;
    size_t files = 0;

    (void)state;
    if (!d) {
        fail_msg("%s: cannot open (run the tests from the repository root)", EVENTS_DIR);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        size_t len;
        char *text;
        if (nl < 5 || strcmp(de->d_name + nl - 5, ".json") != 0)
            continue;
        text = read_event(de->d_name, &len);
        if (!is_json((const uint8_t *)text, len))
            fail_msg("%s/%s: not JSON", EVENTS_DIR, de->d_name);
        free(text);
        files++;
    }
    closedir(d);
    assert_true(files >= N_EVENTS);
    for (size_t e = 0; e < N_EVENTS; e++) {
        size_t len;
        free(read_event(k_events[e], &len));
    }
}

/* One dictionary line: name="value" (or "value") with only \\, \" and
 * \xNN escapes inside and nothing after the closing quote. */
static bool dict_line_ok(const char *line)
{
    const char *p = line;

    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    if (p != line) {
        if (*p != '=')
            return false;
        p++;
    }
    if (*p++ != '"')
        return false;
    if (*p == '"')
        return false; /* empty value: libFuzzer would skip it */
    while (*p && *p != '"') {
        if (*p == '\\') {
            p++;
            if (*p == '\\' || *p == '"') {
                p++;
            } else if (*p == 'x' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
                p += 3;
            } else {
                return false;
            }
        } else if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
            return false;
        } else {
            p++;
        }
    }
    return *p == '"' && p[1] == '\0';
}

static void test_dict_wellformed(void **state)
{
    static const char *const must[] = {"\"aws:sqs\"", "\"aws:sns\"", "\"aws:s3\"",
                                       "\"aws:kinesis\"", "\"aws:dynamodb\"", "\"2.0\"",
                                       "\"$default\"", "\"rawPath\"", "\"routeKey\"",
                                       "\"isBase64Encoded\"", "\"multiValueHeaders\"",
                                       "\"detail-type\"", "\"INSERT\"", "\"MODIFY\"",
                                       "\"REMOVE\"", "\"ObjectCreated:Put\""};
    size_t len;
    char *text = read_file(DICT_PATH, &len);
    size_t entries = 0;
    char *save = NULL;

    (void)state;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            fail_msg("%s: CRLF line", DICT_PATH);
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (!dict_line_ok(line))
            fail_msg("%s: malformed line: %s", DICT_PATH, line);
        entries++;
    }
    free(text);
    assert_true(entries >= 100);
    text = read_file(DICT_PATH, &len);
    for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
        if (!strstr(text, must[i]))
            fail_msg("%s: lacks %s", DICT_PATH, must[i]);
    }
    free(text);
}

/* Dictionary values become material: escapes decoded, comments and blank
 * lines skipped, a malformed line refused with its number. */
static void test_dict_as_material(void **state)
{
    static const char good[] = "# comment\n\nkw1=\"admin\"\n  \"a\\\"b\\\\c\\x41\"\r\n\"\"\n";
    static const char *const bad[] = {"\"open\n", "admin\n", "x=\"v\" tail\n", "\"\\q\"\n", "na-me=\"v\"\n"};
    fuzzmut *m = fuzzmut_new();
    char err[128];
    (void)state;
    assert_non_null(m);
    assert_int_equal(fuzzmut_add_dict(m, good, sizeof(good) - 1, err, sizeof(err)), 0);
    assert_int_equal(fuzzmut_count(m), 3);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(fuzzmut_add_dict(m, bad[i], strlen(bad[i]), err, sizeof(err)), -1);
        assert_non_null(strstr(err, "line 1: "));
    }
    assert_int_equal(fuzzmut_count(m), 3);
    fuzzmut_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_max_size),
        cmocka_unit_test(test_validity_bytes_fn),
        cmocka_unit_test(test_validity_null_bytes),
        cmocka_unit_test(test_validity_default_max),
        cmocka_unit_test(test_validity_chain),
        cmocka_unit_test(test_nested_body),
        cmocka_unit_test(test_nested_base64_kinesis),
        cmocka_unit_test(test_base64_flip),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_header_case),
        cmocka_unit_test(test_material_and_numbers),
        cmocka_unit_test(test_not_json_goes_to_bytes),
        cmocka_unit_test(test_null_bytes_fn),
        cmocka_unit_test(test_empty_and_tiny),
        cmocka_unit_test(test_add_string_caps),
        cmocka_unit_test(test_deep),
        cmocka_unit_test(test_crossover_same_path),
        cmocka_unit_test(test_crossover_valid_and_bounded),
        cmocka_unit_test(test_crossover_not_json),
        cmocka_unit_test(test_events_parse),
        cmocka_unit_test(test_dict_wellformed),
        cmocka_unit_test(test_dict_as_material),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
