/*
 * monotime — the monotonic clock in milliseconds, and a sleep that
 * survives signals. Retry backoff (lambda_client), the engine's timers
 * (fanout), update polling (forcer) and credential_process deadlines
 * (awsconf) all measure with it; wall-clock time is never used for those.
 */
#ifndef COLDSEC_MONOTIME_H
#define COLDSEC_MONOTIME_H

/* Milliseconds on CLOCK_MONOTONIC, with sub-millisecond fractions. */
double monotime_ms(void);

/* Sleeps ms milliseconds; a signal (SIGINT, SIGTERM) does not cut it short,
 * the caller checks its stop flag afterwards. */
void monotime_sleep_ms(long ms);

#endif
