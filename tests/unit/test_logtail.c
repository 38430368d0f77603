/*
 * Unit tests for logtail: base64 decoding of X-Amz-Log-Result, the REPORT
 * and timeout lines in AWS's, the Runtime Interface Emulator's and the lab's
 * formats (the lab and the client must agree), hostile numbers and lines,
 * and the sanitizer on control bytes and broken UTF-8. Inputs are copied
 * into buffers of their exact length so ASan catches any read past len.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_log.h"
#include "logtail.h"

#define UUID "6f7a6c2e-1b7e-4c1a-9a3f-0d2b6f1e9c11"
#define AWS_WARM                                                                       \
    "REPORT RequestId: " UUID "\tDuration: 9988.34 ms\tBilled Duration: 9989 ms\t" \
    "Memory Size: 2048 MB\tMax Memory Used: 192 MB\t"

/* Parses s[0..len) from a heap copy of exactly len bytes. */
static void parse_exact(const char *s, size_t len, logtail_report *r)
{
    char *copy = malloc(len ? len : 1);

    assert_non_null(copy);
    if (len)
        memcpy(copy, s, len);
    logtail_parse(copy, len, r);
    free(copy);
}

static void parse_str(const char *s, logtail_report *r)
{
    parse_exact(s, strlen(s), r);
}

static size_t sanitize_exact(const char *s, size_t len, char *out, size_t outlen)
{
    char *copy = malloc(len ? len : 1);
    size_t n;

    assert_non_null(copy);
    if (len)
        memcpy(copy, s, len);
    n = logtail_sanitize(copy, len, out, outlen);
    free(copy);
    return n;
}

static char *b64_encode(const char *s, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);

    assert_non_null(out);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)len);
    return out;
}

/* ---------------------------------------------------------------------------
 * REPORT formats.
 */
static void test_aws_warm(void **state)
{
    logtail_report r;

    (void)state;
    parse_str("START RequestId: " UUID " Version: $LATEST\nhello\nEND RequestId: " UUID
              "\n" AWS_WARM "\n",
              &r);
    assert_true(r.present);
    assert_string_equal(r.request_id, UUID);
    assert_true(r.duration_ms == 9988.34);
    assert_true(r.billed_ms == 9989);
    assert_int_equal(r.memory_size_mb, 2048);
    assert_int_equal(r.max_memory_used_mb, 192);
    assert_false(r.has_init);
    assert_true(r.init_ms == 0);
    assert_false(r.timed_out);
}

static void test_aws_cold_init_after_max_memory(void **state)
{
    logtail_report r;

    (void)state;
    parse_str(AWS_WARM "Init Duration: 170.57 ms\t\n", &r);
    assert_true(r.present);
    assert_true(r.has_init);
    assert_true(r.init_ms == 170.57);
    assert_true(r.duration_ms == 9988.34);
    assert_int_equal(r.max_memory_used_mb, 192);
}

static void test_rie_spaces_init_first(void **state)
{
    logtail_report r;

    (void)state;
    parse_str("REPORT RequestId: 5b3c-rie  Init Duration: 0.50 ms  Duration: 2.10 ms  "
              "Billed Duration: 3 ms  Memory Size: 3008 MB  Max Memory Used: 3008 MB",
              &r);
    assert_true(r.present);
    assert_string_equal(r.request_id, "5b3c-rie");
    assert_true(r.has_init);
    assert_true(r.init_ms == 0.5);
    assert_true(r.duration_ms == 2.1);
    assert_true(r.billed_ms == 3);
    assert_int_equal(r.memory_size_mb, 3008);
    assert_int_equal(r.max_memory_used_mb, 3008);
}

/* Single spaces, no trailing tab, CRLF, and a mix of tabs and spaces. */
static void test_separators_and_crlf(void **state)
{
    static const char *const lines[] = {
        "REPORT RequestId: id Duration: 1.00 ms Billed Duration: 1 ms Memory Size: 128 MB "
        "Max Memory Used: 20 MB Init Duration: 5.00 ms",
        "REPORT RequestId: id\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB"
        "\tMax Memory Used: 20 MB\tInit Duration: 5.00 ms\r\n",
        "REPORT RequestId: id \t Duration: 1.00 ms\t\tBilled Duration: 1 ms  \tMemory Size: "
        "128 MB\tMax Memory Used: 20 MB Init Duration: 5.00 ms \t\r",
        "REPORT RequestId:\tid\tInit Duration:\t5.00\tms\tDuration: 1.00 ms\tMemory Size: "
        "128 MB\tBilled Duration: 1 ms\tMax Memory Used: 20 MB",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        logtail_report r;
        parse_str(lines[i], &r);
        if (!r.present)
            fail_msg("line %zu not parsed: %s", i, lines[i]);
        assert_string_equal(r.request_id, "id");
        assert_true(r.duration_ms == 1.0);
        assert_true(r.billed_ms == 1.0);
        assert_int_equal(r.memory_size_mb, 128);
        assert_int_equal(r.max_memory_used_mb, 20);
        assert_true(r.has_init);
        assert_true(r.init_ms == 5.0);
    }
}

/* SnapStart's fields and fields we do not know are skipped. */
static void test_unknown_fields_ignored(void **state)
{
    logtail_report r;

    (void)state;
    parse_str(AWS_WARM "Restore Duration: 300.25 ms\tBilled Restore Duration: 101 ms\t", &r);
    assert_true(r.present);
    assert_false(r.has_init);
    assert_true(r.billed_ms == 9989);

    parse_str("REPORT RequestId: x  Frobs: 7 widgets  Duration: 2.10 ms  Billed Duration: 3 ms"
              "  Memory Size: 128 MB  Sampled: true  Max Memory Used: 64 MB",
              &r);
    assert_true(r.present);
    assert_int_equal(r.max_memory_used_mb, 64);
}

/* The lab's REPORT lines, as lab_log writes them, read back here. */
static void test_lab_report_cold_and_warm(void **state)
{
    char line[512];
    logtail_report r;
    lab_log_report lr = {.duration_ms = 9988.344, .memory_size_mb = 2048,
                         .max_memory_used_mb = 192, .init_duration_ms = 170.571};

    (void)state;
    lab_log_format_report(UUID, &lr, line, sizeof(line));
    parse_str(line, &r);
    assert_true(r.present);
    assert_string_equal(r.request_id, UUID);
    assert_true(r.duration_ms == 9988.34);
    assert_true(r.billed_ms == 9989);
    assert_int_equal(r.memory_size_mb, 2048);
    assert_int_equal(r.max_memory_used_mb, 192);
    assert_true(r.has_init);
    assert_true(r.init_ms == 170.57);

    lr.init_duration_ms = -1;
    lr.duration_ms = 0.4;
    lab_log_format_report("id-2", &lr, line, sizeof(line));
    parse_str(line, &r);
    assert_true(r.present);
    assert_string_equal(r.request_id, "id-2");
    assert_true(r.duration_ms == 0.4);
    assert_true(r.billed_ms == 1);
    assert_false(r.has_init);
}

/* End to end: the lab's base64 tail, with its timeout line, through decode and parse. */
static void test_lab_tail_end_to_end(void **state)
{
    char err[256];
    lab_log *l = lab_log_open(NULL, "fn", "[$LATEST]x", err, sizeof(err));
    lab_log_report lr = {.duration_ms = 3071.2, .memory_size_mb = 128,
                         .max_memory_used_mb = 31, .init_duration_ms = 88.5};
    char *b64, *text = NULL;
    size_t len = 0;
    logtail_report r;

    (void)state;
    assert_non_null(l);
    lab_log_start(l, "req-1");
    for (int i = 0; i < 300; i++) /* more than the 4 KB tail */
        lab_log_append(l, "working on it...\n", 17);
    b64 = lab_log_finish(l, "req-1", &lr,
                         "2024-01-01T00:00:03.071Z req-1 Task timed out after 3.07 seconds");
    assert_non_null(b64);
    assert_int_equal(logtail_decode(b64, strlen(b64), &text, &len), 0);
    assert_int_equal(len, LAB_LOG_TAIL_BYTES);
    parse_exact(text, len, &r);
    assert_true(r.present);
    assert_string_equal(r.request_id, "req-1");
    assert_true(r.duration_ms == 3071.2);
    assert_true(r.billed_ms == 3072);
    assert_true(r.has_init);
    assert_true(r.init_ms == 88.5);
    assert_true(r.timed_out);
    assert_true(r.timed_out_after_s == 3.07);
    free(text);
    free(b64);
    lab_log_close(&l);
}

static void test_last_report_wins(void **state)
{
    logtail_report r;

    (void)state;
    parse_str("REPORT RequestId: first\tDuration: 1.00 ms\tBilled Duration: 1 ms\t"
              "Memory Size: 128 MB\tMax Memory Used: 10 MB\tInit Duration: 9.00 ms\t\n"
              "START RequestId: second Version: $LATEST\n"
              "REPORT RequestId: second\tDuration: 2.00 ms\tBilled Duration: 2 ms\t"
              "Memory Size: 128 MB\tMax Memory Used: 11 MB\t\n",
              &r);
    assert_true(r.present);
    assert_string_equal(r.request_id, "second");
    assert_false(r.has_init);
    assert_int_equal(r.max_memory_used_mb, 11);

    /* a malformed last REPORT is not replaced by an earlier (possibly forged) one */
    parse_str(AWS_WARM "\nREPORT RequestId: x\tDuration: lots\n", &r);
    assert_false(r.present);
    assert_string_equal(r.request_id, "");
    assert_int_equal(r.memory_size_mb, 0);

    /* a line that merely mentions REPORT is not one */
    parse_str(AWS_WARM "\nmy REPORT RequestId: fake\nREPORTING now\n", &r);
    assert_true(r.present);
    assert_string_equal(r.request_id, UUID);
}

static void test_truncated_front(void **state)
{
    const char *full = "START RequestId: a Version: $LATEST\n"
                       "REPORT RequestId: a\tDuration: 7.00 ms\tBilled Duration: 7 ms\t"
                       "Memory Size: 256 MB\tMax Memory Used: 70 MB\t\n"
                       "log line\n" AWS_WARM "\n";
    const char *report2 = strstr(full, "REPORT RequestId: " UUID);
    const char *report1 = strstr(full, "REPORT RequestId: a");
    logtail_report r;

    (void)state;
    /* every suffix that still holds the whole last REPORT line finds it */
    for (const char *p = full; p <= report2; p++) {
        parse_str(p, &r);
        assert_true(r.present);
        assert_string_equal(r.request_id, UUID);
    }
    /* cut inside the last REPORT line: its tail end is no REPORT line */
    for (const char *p = report2 + 1; *p; p++) {
        parse_str(p, &r);
        assert_false(r.present);
    }
    /* and with only the first report cut, the second still wins */
    parse_str(report1 + 3, &r);
    assert_true(r.present);
    assert_string_equal(r.request_id, UUID);
}

static void test_malformed_fields(void **state)
{
    /* Each replaces the Duration value, or the whole line where it starts with REPORT. */
    static const char *const bad_durations[] = {
        "-1.00", "nan", "NAN", "inf", "infinity", "1e3", "0x10", "1.", ".5", "1.2.3",
        "1000000000.01", "1000000001", "+1.00", "1,5", "１", "", "00000000000000000000000000000001",
        "1.00ms",
    };
    static const char *const bad_lines[] = {
        /* missing each required field */
        "REPORT RequestId: x\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB",
        "REPORT RequestId: x\tDuration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB",
        "REPORT RequestId: x\tDuration: 1 ms\tBilled Duration: 1 ms\tMax Memory Used: 1 MB",
        "REPORT RequestId: x\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB",
        "REPORT RequestId:\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 1 MB",
        /* wrong or missing units */
        "REPORT RequestId: x\tDuration: 1 MB\tBilled Duration: 1 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 1 MB",
        "REPORT RequestId: x\tDuration: 1\tBilled Duration: 1 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 1 MB",
        "REPORT RequestId: x\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 128 GB\t"
        "Max Memory Used: 1 MB",
        "REPORT RequestId: x ms\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 1 MB",
        /* memory is whole MB, within the cap */
        "REPORT RequestId: x\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 128.5 MB\t"
        "Max Memory Used: 1 MB",
        "REPORT RequestId: x\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 99999999999 MB\t"
        "Max Memory Used: 1 MB",
        "REPORT RequestId: x\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: -128 MB\t"
        "Max Memory Used: 1 MB",
        /* duplicate field */
        "REPORT RequestId: x\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 1 MB\tDuration: 2 ms",
        "REPORT RequestId: x\tInit Duration: 1 ms\tDuration: 1 ms\tBilled Duration: 1 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 1 MB\tInit Duration: 2 ms",
        /* bad init */
        AWS_WARM "Init Duration: nan ms",
        /* request id: too long, control byte */
        "REPORT RequestId: 0123456789012345678901234567890123456789012345678901234567890123\t"
        "Duration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB",
        "REPORT RequestId: a\x1b[2Jb\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 1 MB",
        /* junk between fields, names that are not names */
        AWS_WARM "garbage",
        AWS_WARM "Init Duration: 1 ms extra  words",
        AWS_WARM "Bad_Name: 1 ms",
        AWS_WARM ": 1 ms",
        AWS_WARM "Name:",
        "REPORT RequestId: x\tDuration  : 1 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 1 MB",
    };
    logtail_report r;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_durations) / sizeof(bad_durations[0]); i++) {
        char line[512];
        snprintf(line, sizeof(line),
                 "REPORT RequestId: x\tDuration: %s ms\tBilled Duration: 1 ms\t"
                 "Memory Size: 128 MB\tMax Memory Used: 1 MB\t",
                 bad_durations[i]);
        parse_str(line, &r);
        if (r.present)
            fail_msg("accepted Duration '%s'", bad_durations[i]);
    }
    for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
        parse_str(bad_lines[i], &r);
        if (r.present)
            fail_msg("accepted line %zu: %s", i, bad_lines[i]);
        assert_string_equal(r.request_id, "");
        assert_false(r.has_init);
    }
}

static void test_number_limits(void **state)
{
    logtail_report r;

    (void)state;
    parse_str("REPORT RequestId: 012345678901234567890123456789012345678901234567890123456789012\t"
              "Duration: 1000000000.00 ms\tBilled Duration: 0 ms\tMemory Size: 1000000000 MB\t"
              "Max Memory Used: 0000000000000000000000000000007 MB",
              &r);
    assert_true(r.present);
    assert_int_equal(strlen(r.request_id), LOGTAIL_REQUEST_ID_MAX - 1);
    assert_true(r.duration_ms == 1e9);
    assert_true(r.billed_ms == 0);
    assert_int_equal(r.memory_size_mb, 1000000000);
    assert_int_equal(r.max_memory_used_mb, 7);
}

static void test_timeout_line(void **state)
{
    logtail_report r;

    (void)state;
    parse_str(AWS_WARM "\n2024-01-01T00:00:00.000Z " UUID " Task timed out after 3.07 seconds\n",
              &r);
    assert_true(r.present);
    assert_true(r.timed_out);
    assert_true(r.timed_out_after_s == 3.07);

    /* CRLF, tabs; the last timeout line wins */
    parse_str(AWS_WARM "\r\n2024-01-01T00:00:00.000Z\tx\tTask timed out after 1.00 seconds\r\n"
                       "2024-01-01T00:00:00.000Z x Task timed out after 900.00 seconds\r\n",
              &r);
    assert_true(r.timed_out);
    assert_true(r.timed_out_after_s == 900);

    /* the function's own output comes before REPORT: it cannot claim a timeout */
    parse_str("2024-01-01T00:00:00.000Z x Task timed out after 3.07 seconds\n" AWS_WARM "\n", &r);
    assert_true(r.present);
    assert_false(r.timed_out);

    /* no REPORT line at all: nothing to anchor a timeout to */
    parse_str("2024-01-01T00:00:00.000Z x Task timed out after 3.07 seconds\n", &r);
    assert_false(r.present);
    assert_false(r.timed_out);

    /* a malformed REPORT still lets a following timeout line count */
    parse_str("REPORT RequestId: x\n2024-01-01T00:00:00.000Z x Task timed out after 2.00 seconds",
              &r);
    assert_false(r.present);
    assert_true(r.timed_out);
    assert_true(r.timed_out_after_s == 2);

    /* malformed timeout lines */
    static const char *const bad[] = {
        "2024-01-01T00:00:00.000Z x Task timed out after nan seconds",
        "2024-01-01T00:00:00.000Z x Task timed out after -3.07 seconds",
        "2024-01-01T00:00:00.000Z x Task timed out after 3.07 secs",
        "2024-01-01T00:00:00.000Z x Task timed out after 3.07 seconds and more",
        "2024-01-01T00:00:00.000Z x Task timed out after seconds",
        "x Task timed out after 3.07 seconds",
        "Task timed out after 3.07 seconds",
        "2024-01-01T00:00:00.000Z x Task timed out after 3.07",
        "2024-01-01T00:00:00.000Z x Task timed out after 1000000001 seconds",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text), "%s\n%s", AWS_WARM, bad[i]);
        parse_str(text, &r);
        assert_true(r.present);
        if (r.timed_out)
            fail_msg("accepted timeout line: %s", bad[i]);
    }
}

/* NULs are ordinary bytes, and nothing is read past len (ASan watches). */
static void test_nul_and_bounds(void **state)
{
    static const char with_nul[] = "junk\0more\n" AWS_WARM "\nafter\0";
    logtail_report r;

    (void)state;
    parse_exact(with_nul, sizeof(with_nul) - 1, &r);
    assert_true(r.present);
    assert_string_equal(r.request_id, UUID);

    parse_str(AWS_WARM "Init Duration: 1\0.5 ms", &r); /* strlen stops at the NUL: no unit */
    assert_false(r.present);
    {
        static const char nul_in_field[] = AWS_WARM "Init Duration: 1\0.5 ms";
        parse_exact(nul_in_field, sizeof(nul_in_field) - 1, &r);
        assert_false(r.present);
    }

    /* every prefix of a valid text: no over-read, and only the complete ones parse */
    {
        const char *t = AWS_WARM "\n2024-01-01T00:00:00.000Z x Task timed out after 3.07 seconds";
        size_t full = strlen(t);
        for (size_t n = 0; n <= full; n++)
            parse_exact(t, n, &r);
        parse_exact(t, full, &r);
        assert_true(r.timed_out);
    }
    logtail_parse(NULL, 0, &r);
    assert_false(r.present);
    parse_exact("", 0, &r);
    assert_false(r.present);
}

/* ---------------------------------------------------------------------------
 * Base64.
 */
static void test_decode_valid(void **state)
{
    static const char raw[] = "a\0b\nREPORT";
    char *b64 = b64_encode(raw, sizeof(raw) - 1);
    char *out = NULL;
    size_t len = 99;

    (void)state;
    assert_int_equal(logtail_decode(b64, strlen(b64), &out, &len), 0);
    assert_int_equal(len, sizeof(raw) - 1);
    assert_memory_equal(out, raw, len);
    assert_int_equal(out[len], '\0');
    free(out);
    free(b64);

    assert_int_equal(logtail_decode("", 0, &out, &len), 0);
    assert_non_null(out);
    assert_int_equal(len, 0);
    assert_int_equal(out[0], '\0');
    free(out);

    assert_int_equal(logtail_decode(NULL, 0, &out, &len), 0);
    assert_int_equal(len, 0);
    free(out);

    /* one and two padding characters */
    assert_int_equal(logtail_decode("QQ==", 4, &out, &len), 0);
    assert_int_equal(len, 1);
    assert_string_equal(out, "A");
    free(out);
    assert_int_equal(logtail_decode("QUI=", 4, &out, &len), 0);
    assert_string_equal(out, "AB");
    free(out);
}

static void test_decode_whitespace(void **state)
{
    /* "REPORT RequestId: x" broken over lines as MIME tools do, with CRLF, tabs and spaces */
    static const char b64[] = "UkVQT1JU\r\nIFJlcXVl\nc3RJZDog\teA==\n \n";
    char *out = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(logtail_decode(b64, sizeof(b64) - 1, &out, &len), 0);
    assert_int_equal(len, strlen("REPORT RequestId: x"));
    assert_string_equal(out, "REPORT RequestId: x");
    free(out);
    assert_int_equal(logtail_decode(" \n\t\r", 4, &out, &len), 0);
    assert_int_equal(len, 0);
    free(out);
}

static void test_decode_invalid(void **state)
{
    static const char *const bad[] = {
        "QUJD-", "QUJ*", "QU.JD", "QUJD\f", "QUJD\v", "QQ", "QUJ", "Q", "QQ=", "QUJD=",
        "QQ==QQ==", "QQ==\nQUJD", "Q=Q=", "A===", "====", "=QUJD", "QUJD\x80", "Q\xc3\xa9JD",
        "QUJD%3D",
    };
    char *out = (char *)"untouched";
    size_t len = 7;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (logtail_decode(bad[i], strlen(bad[i]), &out, &len) != -1)
            fail_msg("accepted '%s'", bad[i]);
        assert_null(out);
        assert_int_equal(len, 0);
    }
    /* a NUL inside the header */
    assert_int_equal(logtail_decode("QU\0JD", 5, &out, &len), -1);
    assert_null(out);
}

static void test_decode_size_cap(void **state)
{
    char *big = malloc(LOGTAIL_MAX_B64 + 4);
    char *out = NULL;
    size_t len = 0;

    (void)state;
    assert_non_null(big);
    memset(big, 'A', LOGTAIL_MAX_B64 + 4);
    assert_int_equal(logtail_decode(big, LOGTAIL_MAX_B64, &out, &len), 0);
    assert_int_equal(len, LOGTAIL_MAX_B64 / 4 * 3);
    free(out);
    assert_int_equal(logtail_decode(big, LOGTAIL_MAX_B64 + 4, &out, &len), -1);
    assert_null(out);
    /* whitespace counts toward the cap: the cap is on what we read */
    memset(big, '\n', LOGTAIL_MAX_B64 + 1);
    assert_int_equal(logtail_decode(big, LOGTAIL_MAX_B64 + 1, &out, &len), -1);
    free(big);
}

/* ---------------------------------------------------------------------------
 * Sanitizer.
 */
#define FFFD "\xEF\xBF\xBD"

typedef struct sanitize_case {
    const char *in;
    size_t in_len; /* 0: strlen(in) */
    const char *want;
} sanitize_case;

static void test_sanitize_cases(void **state)
{
    static const sanitize_case cases[] = {
        {"plain text\n\twith tab\n", 0, "plain text\n\twith tab\n"},
        {"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 0, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"},
        {"kept " FFFD, 0, "kept " FFFD},
        /* C0 controls, DEL, CR, NUL */
        {"a\x1b[2Jb", 0, "a" FFFD "[2Jb"},
        {"line\r\n", 0, "line" FFFD "\n"},
        {"x\x7f\x01\x08y", 0, "x" FFFD FFFD FFFD "y"},
        {"a\0b", 3, "a" FFFD "b"},
        /* C1 controls in UTF-8 (U+009B is CSI on some terminals), bidi overrides */
        {"\xC2\x9B" "31m", 0, FFFD "31m"},
        {"\xC2\x85\xC2\xA0", 0, FFFD "\xC2\xA0"},
        {"abc\xE2\x80\xAE" "fdp.exe", 0, "abc" FFFD "fdp.exe"},
        {"\xE2\x81\xA6x\xE2\x81\xA9", 0, FFFD "x" FFFD},
        {"\xE2\x80\xA9", 0, "\xE2\x80\xA9"},
        /* ill-formed: one U+FFFD per maximal subpart (Unicode 15, table 3-8) */
        {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", 0,
         "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d"},
        {"\xC0\xAF", 0, FFFD FFFD},                     /* overlong '/' */
        {"\xE0\x80\xAF", 0, FFFD FFFD FFFD},            /* overlong */
        {"\xED\xA0\x80", 0, FFFD FFFD FFFD},            /* surrogate */
        {"\xF4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD},   /* above U+10FFFF */
        {"\xF5\xFF\xFE", 0, FFFD FFFD FFFD},
        {"\xF0\x9F\x98", 0, FFFD},                      /* cut at the end of the tail */
        {"\xE2\x82", 0, FFFD},
        {"\xC3", 0, FFFD},
        {"\x82\xAC" "ok", 0, FFFD FFFD "ok"},             /* cut at the front */
        {"\x98\x80 hi", 0, FFFD FFFD " hi"},
        {"\xE2\x82" "A", 0, FFFD "A"},
        {"", 0, ""},
    };
    char out[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t in_len = cases[i].in_len ? cases[i].in_len : strlen(cases[i].in);
        size_t n = sanitize_exact(cases[i].in, in_len, out, sizeof(out));
        if (n != strlen(cases[i].want) || memcmp(out, cases[i].want, n + 1) != 0)
            fail_msg("case %zu: got %zu bytes", i, n);
    }
}

static void test_sanitize_tiny_buffers(void **state)
{
    char out[16];

    (void)state;
    assert_int_equal(logtail_sanitize("abc", 3, NULL, 0), 0);
    memset(out, 'Z', sizeof(out));
    assert_int_equal(logtail_sanitize("abc", 3, out, 1), 0);
    assert_int_equal(out[0], '\0');
    assert_int_equal(logtail_sanitize("abc", 3, out, 3), 2);
    assert_string_equal(out, "ab");
    assert_int_equal(logtail_sanitize("abc", 3, out, 4), 3);
    assert_string_equal(out, "abc");

    /* a 3-byte character needs 4 bytes of room; never split */
    assert_int_equal(logtail_sanitize("\xE2\x82\xAC", 3, out, 3), 0);
    assert_string_equal(out, "");
    assert_int_equal(logtail_sanitize("a\xE2\x82\xAC", 4, out, 4), 1);
    assert_string_equal(out, "a");
    assert_int_equal(logtail_sanitize("a\xE2\x82\xAC", 4, out, 5), 4);
    assert_string_equal(out, "a\xE2\x82\xAC");
    assert_int_equal(logtail_sanitize("\xF0\x9F\x98\x80" "b", 5, out, 4), 0);
    assert_int_equal(logtail_sanitize("\xF0\x9F\x98\x80" "b", 5, out, 5), 4);
    /* nor a replacement */
    assert_int_equal(logtail_sanitize("a\x1b", 2, out, 4), 1);
    assert_string_equal(out, "a");
    assert_int_equal(logtail_sanitize("a\x1b", 2, out, 5), 4);
    assert_string_equal(out, "a" FFFD);
    /* nothing written past outlen */
    memset(out, 'Z', sizeof(out));
    assert_int_equal(logtail_sanitize("abcdefgh", 8, out, 5), 4);
    assert_int_equal(out[5], 'Z');
}

/* Sanitizing sanitized text changes nothing: a report can sanitize again safely. */
static void test_sanitize_idempotent(void **state)
{
    unsigned char all[512];
    char once[2048], twice[2048];
    size_t n1, n2;

    (void)state;
    for (size_t i = 0; i < sizeof(all); i++)
        all[i] = (unsigned char)(i * 7 + (i >> 8));
    n1 = sanitize_exact((const char *)all, sizeof(all), once, sizeof(once));
    assert_true(n1 < sizeof(once) - 1); /* all of it fit */
    n2 = sanitize_exact(once, n1, twice, sizeof(twice));
    assert_int_equal(n1, n2);
    assert_memory_equal(once, twice, n1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_warm),
        cmocka_unit_test(test_aws_cold_init_after_max_memory),
        cmocka_unit_test(test_rie_spaces_init_first),
        cmocka_unit_test(test_separators_and_crlf),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_lab_report_cold_and_warm),
        cmocka_unit_test(test_lab_tail_end_to_end),
        cmocka_unit_test(test_last_report_wins),
        cmocka_unit_test(test_truncated_front),
        cmocka_unit_test(test_malformed_fields),
        cmocka_unit_test(test_number_limits),
        cmocka_unit_test(test_timeout_line),
        cmocka_unit_test(test_nul_and_bounds),
        cmocka_unit_test(test_decode_valid),
        cmocka_unit_test(test_decode_whitespace),
        cmocka_unit_test(test_decode_invalid),
        cmocka_unit_test(test_decode_size_cap),
        cmocka_unit_test(test_sanitize_cases),
        cmocka_unit_test(test_sanitize_tiny_buffers),
        cmocka_unit_test(test_sanitize_idempotent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
