/*
 * secrets — finding secrets in what a Lambda function returned, and masking
 * them in evidence. The scenario engine builds one `secrets` per target
 * function: a literal for each environment variable that holds a secret
 * (secrets_name_is_secret() and secrets_value_is_reference() decide which)
 * and the pcre2 patterns the scenario files give (known secret shapes). The
 * secret-exposure scenario scans every response, error payload and log tail
 * with secrets_scan(); every report writer passes evidence through
 * secrets_mask() first, so coldsec never prints or stores a secret — only
 * a marker with its length and a short hash to correlate occurrences.
 *
 * Ownership: secrets_new() returns a handle the caller frees with
 * secrets_free(); the add functions copy name, pattern and value, so the
 * caller's buffers are borrowed only for the call. secrets_match.name
 * points into the handle (valid until secrets_free); kind and form are
 * static strings. secrets_mask() returns a malloc'd buffer the caller frees.
 *
 * Threads: set the handle up (add_*) from one thread; after that it is
 * read-only, and secrets_scan() / secrets_mask() may run on it from several
 * threads at once (each call has its own pcre2 match data).
 */
#ifndef COLDSEC_SECRETS_H
#define COLDSEC_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values shorter than this (bytes) are not registered: too short to prove a leak. */
#define SECRETS_MIN_LITERAL 8
/* Longest value registered (Lambda caps all variables together at 4 KB). */
#define SECRETS_MAX_LITERAL ((size_t)64 * 1024)
/* Longest name (bytes) of a pattern or a literal. */
#define SECRETS_MAX_NAME 128
/* secrets_scan()'s answer when it ran out of memory. */
#define SECRETS_SCAN_ERROR SIZE_MAX

typedef struct secrets secrets; /* opaque; immutable after setup; safe to scan from several threads */

/* A new, empty set; NULL on OOM. Free with secrets_free(). */
secrets *secrets_new(void);
/* Frees s and everything it owns; NULL is allowed. */
void secrets_free(secrets *s);

/*
 * Names (of patterns and literals) are 1..SECRETS_MAX_NAME bytes of
 * printable ASCII without space, '[' or ']', so a mask marker
 * "[MASKED NAME LEN sha256:...]" always reads back as four tokens.
 * Variable names, "aws_access_key_id" or "jwt" all qualify.
 */

/*
 * Adds a named pcre2 pattern, compiled with PCRE2_UTF (the pattern must be
 * valid UTF-8) and PCRE2_MATCH_INVALID_UTF (the scanned text may be any
 * bytes; a match never spans an invalid sequence), case-sensitive unless
 * the pattern says (?i), and JIT-compiled when pcre2 has JIT. Empty matches
 * are never reported (PCRE2_NOTEMPTY).
 * Returns 0, or -1 with a message in err[0..errlen) (NUL-terminated; err
 * may be NULL when errlen is 0): "pattern NAME: MESSAGE at offset N" for a
 * pcre2 compile error (MESSAGE is pcre2's, N its offset in the pattern),
 * "pattern NAME: ..." for a bad name or OOM. Nothing is added on failure.
 */
int secrets_add_pattern(secrets *s, const char *name, const char *pattern, char *err,
                        size_t errlen) __attribute__((warn_unused_result));

/*
 * Adds a literal secret (a variable's value, value[0..len), any bytes) by
 * registering the forms a leak of it takes, each a byte string found with
 * memmem:
 *   "raw"       the bytes themselves;
 *   "base64"    standard alphabet: the whole padded encoding, plus the
 *               stable parts below;
 *   "base64url" '-' and '_' for '+' and '/': the whole unpadded encoding,
 *               plus the stable parts below;
 *   "url"       percent-encoded per RFC 3986 (all but A-Z a-z 0-9 - . _ ~
 *               as %XX, upper-case hex), and the same with lower-case hex;
 *               each only when it differs from raw;
 *   "json"      the value escaped as inside a JSON string, as the common
 *               encoders write it: minimal (JavaScript, Java: \" \\ \b \f
 *               \n \r \t, other C0 as \u00xx), Python's ensure_ascii (also
 *               DEL and non-ASCII as \uxxxx, surrogate pairs above U+FFFF),
 *               Go's (also < > & U+2028 U+2029 as \u00xx / \u20xx) and
 *               PHP's (also / as \/ and non-ASCII as \uxxxx); each only when
 *               it differs from raw and the ones before (the \u forms of
 *               non-ASCII only when the value is valid UTF-8).
 * Stable parts (base64 of a longer buffer that contains the value): base64
 * turns each 3 bytes into 4 characters of 6 bits each, so where the value
 * sits in its 3-byte group (its offset a = 0, 1 or 2 modulo 3 in the
 * encoded buffer) decides its encoding, and the characters at its two ends
 * mix in bits of the neighbouring bytes. For each a we register the
 * characters whose 6 bits come entirely from the value: the encoding of
 * (a zero bytes + value) from character ceil(8a/6) (0, 2, 3) up to, not
 * including, character floor(8(a+len)/6). So base64 of "prefix+secret+
 * suffix" is found whatever the prefix's length, and masking it leaves at
 * most 4 bits of the first and last byte. Line-wrapped base64 (MIME, PEM)
 * is not found.
 * Values shorter than SECRETS_MIN_LITERAL bytes are ignored: returns 0,
 * registers nothing. Returns 0, or -1 (nothing added) for NULL s/name/value,
 * a bad name, a value longer than SECRETS_MAX_LITERAL, or OOM.
 */
int secrets_add_literal(secrets *s, const char *name, const char *value, size_t len)
    __attribute__((warn_unused_result));

typedef struct secrets_match {
    const char *name;   /* the pattern's or variable's name (owned by s) */
    const char *kind;   /* "pattern" or "literal" (static) */
    const char *form;   /* "raw", "base64", "base64url", "url", "json" (static); "raw" for patterns */
    size_t offset, len; /* in the scanned text */
} secrets_match;

/*
 * Finds every literal form and pattern in text[0..len) (any bytes, no NUL
 * needed; text may be NULL when len is 0). Matches of one secret (one
 * add_* call) that overlap, in any of its forms, are merged into one whose
 * form is that of the earliest (then longest) of them; matches of
 * different secrets are reported separately even when they overlap.
 * Writes up to max of them to out (out may be NULL when max is 0) ordered
 * by offset, then longest first, then order of registration; returns how
 * many there are in total (may exceed max), or SECRETS_SCAN_ERROR on OOM.
 * A pattern whose match fails with a pcre2 error (match or heap limit on
 * hostile text) stops at that point; secrets_mask() masks the rest of the
 * text instead.
 */
size_t secrets_scan(const secrets *s, const char *text, size_t len, secrets_match *out,
                    size_t max);

/*
 * A copy of text[0..len) with every match (literal and pattern) replaced by
 * "[MASKED NAME LEN sha256:8hex]": LEN the length in bytes of the replaced
 * text, 8hex the first 8 lower-case hex digits of its SHA-256, so people
 * can correlate occurrences without seeing them. Overlapping matches (of
 * any secrets) are masked as one span, named after its earliest (then
 * longest) match. If a pattern's search fails with a pcre2 error, the text
 * from where that search started to the end is masked under the pattern's
 * name: evidence is lost rather than a secret shown. Literals the caller
 * did not register (e.g. canaries it wants to see) are left alone.
 * Returns a malloc'd NUL-terminated buffer (caller frees) and sets *outlen
 * to its length without the NUL; NULL (and *outlen 0) on OOM or a NULL s.
 */
char *secrets_mask(const secrets *s, const char *text, size_t len, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Does a variable NAME look like it holds a secret? The rule:
 *  1. NAME is split into words at '_', '-', '.', any other non-alphanumeric
 *     byte, and where a lower-case letter or digit is followed by an
 *     upper-case one ("dbPassword" = db + Password); case is then ignored.
 *  2. Keywords: PASSWORD(S), PASSWD, PASSPHRASE, PASS, SECRET(S), TOKEN,
 *     CREDENTIAL(S), AUTH, AUTHORIZATION, DSN, and the pairs API_KEY,
 *     PRIVATE_KEY, ACCESS_KEY, SIGNING_KEY, ENCRYPTION_KEY,
 *     CONNECTION_STRING (as two words or run together: APIKEY). A word
 *     matches a keyword when equal to it, or, for keywords of 5 letters or
 *     more and the run-together pairs, when it ends with it ("DBPASSWORD",
 *     "STRIPEAPIKEY"); trailing digits are ignored ("PASSWORD2"). AUTH,
 *     DSN and PASS match whole words only ("OAUTH", "BYPASS" do not).
 *  3. NAME is a secret when a keyword ends at the last word, or is followed
 *     only by words that name a form or version of the value: KEY(S),
 *     VALUE, STRING, STR, BASE, B64, BASE64, HEX, PEM, DER, RAW, DATA, JSON,
 *     CURRENT, PRIMARY, SECONDARY, OLD, NEW, PREV, PREVIOUS, digits, V+digits
 *     ("SECRET_KEY", "SECRET_KEY_BASE", "TOKEN_V2").
 *     Any other trailing word says the variable holds something about the
 *     secret — a reference or a setting — not the secret: PASSWORD_PARAM,
 *     TOKEN_TTL, SECRET_ARN, SECRET_NAME, AWS_ACCESS_KEY_ID, AUTH_URL.
 * A keyword that only starts or sits in the middle of NAME does not count
 * ("TOKEN_GITHUB" is not a secret: rare, and the opposite mistake is
 * worse: a finding for a leaked TTL). NULL, empty, or longer than 256
 * bytes: false.
 */
bool secrets_name_is_secret(const char *name);

/*
 * Does a variable's value look like a reference to a secret rather than
 * the secret? True for NULL or empty; an ARN ("arn:" and at least five ':'
 * in all, no whitespace); an SSM parameter path ('/' then only
 * A-Z a-z 0-9 _ . - /, at most 2048 bytes); a CloudFormation dynamic
 * reference ("{{resolve:" ... "}}"); an "ssm:" or "secretsmanager:"
 * prefix. A secret that happens to look like one of these is not
 * scanned for: the price of not reporting every ARN as a leaked secret.
 */
bool secrets_value_is_reference(const char *value);

#endif
