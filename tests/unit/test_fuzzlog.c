/*
 * Unit tests for fuzzlog: lines before libFuzzer's crash report reach the
 * terminal as they come; from the "==PID== " banner (or fork mode's "INFO:
 * log from the inner process") on they are held: shown at the end unless
 * the end was an oracle's finding; everything is in the log either way;
 * lines split across chunks, a last line without a newline, and banner
 * look-alikes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzlog.h"

typedef struct streams {
    char *log_buf, *term_buf;
    size_t log_len, term_len;
    FILE *log, *term;
} streams;

static void open_streams(streams *s)
{
    memset(s, 0, sizeof(*s));
    s->log = open_memstream(&s->log_buf, &s->log_len);
    s->term = open_memstream(&s->term_buf, &s->term_len);
    assert_non_null(s->log);
    assert_non_null(s->term);
}

static void close_streams(streams *s)
{
    fclose(s->log);
    fclose(s->term);
    free(s->log_buf);
    free(s->term_buf);
}

static const char RUN[] = "INFO: Seed: 1\n#2\tINITED cov: 3\nFINDING kind=leak function=f detail=\"x\"\n";
static const char CRASH[] = "==4242== ERROR: libFuzzer: deadly signal\n"
                            "    #0 0x55d1 in __sanitizer_print_stack_trace\n"
                            "    #1 0x55d2 in fuzzer::PrintStackTrace()\n"
                            "MS: 1 Custom-; base unit: 00\n"
                            "artifact_prefix='o/'; Test unit written to o/crash-1\n";

static void feed_all(fuzzlog *l, const char *text, size_t chunk)
{
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i += chunk)
        fuzzlog_feed(l, text + i, i + chunk <= n ? chunk : n - i);
}

static void run(streams *s, bool oracle, size_t chunk)
{
    fuzzlog *l;
    open_streams(s);
    l = fuzzlog_new(s->log, s->term);
    assert_non_null(l);
    feed_all(l, RUN, chunk);
    feed_all(l, CRASH, chunk);
    assert_true(fuzzlog_crash_report_seen(l));
    fuzzlog_finish(l, oracle);
    fuzzlog_free(l);
    fflush(s->log);
    fflush(s->term);
}

static void oracle_finding_keeps_the_report_in_the_log_only(void **state)
{
    (void)state;
    for (size_t chunk = 1; chunk <= 64; chunk *= 4) {
        streams s;
        run(&s, true, chunk);
        assert_int_equal(s.term_len, strlen(RUN));
        assert_memory_equal(s.term_buf, RUN, strlen(RUN));
        assert_int_equal(s.log_len, strlen(RUN) + strlen(CRASH));
        assert_non_null(strstr(s.log_buf, "deadly signal"));
        assert_non_null(strstr(s.log_buf, "#1 0x55d2"));
        close_streams(&s);
    }
}

static void other_end_shows_everything(void **state)
{
    streams s;
    (void)state;
    run(&s, false, 7);
    assert_int_equal(s.term_len, strlen(RUN) + strlen(CRASH));
    assert_non_null(strstr(s.term_buf, "    #0 0x55d1"));
    assert_int_equal(s.log_len, s.term_len);
    close_streams(&s);
}

static void fork_mode_inner_log_is_held_too(void **state)
{
    streams s;
    fuzzlog *l;
    static const char text[] = "#10\tpulse\nINFO: log from the inner process:\nINFO: Seed: 3\n";
    (void)state;
    open_streams(&s);
    l = fuzzlog_new(s.log, s.term);
    fuzzlog_feed(l, text, strlen(text));
    fuzzlog_finish(l, true);
    fuzzlog_free(l);
    fflush(s.term);
    assert_int_equal(s.term_len, strlen("#10\tpulse\n"));
    close_streams(&s);
}

static void look_alikes_and_last_line(void **state)
{
    streams s;
    fuzzlog *l;
    /* "==" without a pid, a pid without its closing "==": ordinary lines. */
    static const char text[] = "== not a banner\n==12 nor this\nlast line, no newline";
    (void)state;
    open_streams(&s);
    l = fuzzlog_new(s.log, s.term);
    fuzzlog_feed(l, text, strlen(text));
    assert_false(fuzzlog_crash_report_seen(l));
    fuzzlog_finish(l, true);
    fuzzlog_free(l);
    fflush(s.term);
    fflush(s.log);
    assert_int_equal(s.term_len, strlen(text));
    assert_int_equal(s.log_len, strlen(text));
    close_streams(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oracle_finding_keeps_the_report_in_the_log_only),
        cmocka_unit_test(other_end_shows_everything),
        cmocka_unit_test(fork_mode_inner_log_is_held_too),
        cmocka_unit_test(look_alikes_and_last_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
