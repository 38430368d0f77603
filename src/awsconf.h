/*
 * awsconf — where the coldsec client gets its AWS credentials, region,
 * Lambda endpoint and CA bundle: the same places, in the same order and with
 * the same file syntax as the AWS CLI / botocore, so `coldsec --profile x`
 * talks to the account `aws --profile x` does, and never to another one.
 *
 * Credentials: with an explicit profile (--profile) only that profile;
 * otherwise AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then the profile
 * AWS_PROFILE or "default": its keys in the shared credentials file, its
 * credential_process, its keys in the config file. Profiles that need STS or
 * SSO (role_arn, web identity, sso_*) are refused with a way out, since using
 * some other key of theirs would not be who the AWS CLI is.
 *
 * Secrets: nothing here prints or logs. Error strings never hold a secret
 * key, a session token, a line of a credentials file or the output of a
 * credential_process; names from files are shown only when printable.
 *
 * Ownership: awsconf_resolve() gives the caller an awsconf to free with
 * awsconf_free(), which cleanses the secret and the token first; every
 * pointer an accessor returns is owned by it and valid until then.
 * awsconf_ini_parse() gives a tree to free with awsconf_ini_free(); the
 * strings awsconf_ini_get() returns belong to the tree.
 * awsconf_split_command() gives an argv to free with awsconf_argv_free().
 * Everything passed in (options, text, names) is borrowed for the call.
 */
#ifndef COLDSEC_AWSCONF_H
#define COLDSEC_AWSCONF_H

#include <stddef.h>
#include <time.h>

#include "sigv4.h"

/* Caps on input we do not control. */
#define AWSCONF_INI_MAX_BYTES (1024 * 1024)      /* one config or credentials file */
#define AWSCONF_PROCESS_OUTPUT_MAX (64 * 1024)   /* a credential_process's stdout */
#define AWSCONF_PROCESS_TIMEOUT_DEFAULT_S 60

/* Returns the value of an environment variable, or NULL when it is unset. */
typedef const char *(*awsconf_getenv_fn)(void *ctx, const char *name);

typedef struct awsconf_options {
    const char *profile;   /* --profile, or NULL */
    const char *region;    /* --region, or NULL */
    const char *endpoint;  /* --endpoint or the target's config, or NULL */
    const char *ca_bundle; /* --ca-bundle, or NULL */
    awsconf_getenv_fn getenv_fn; /* NULL: the process environment (getenv) */
    void *getenv_ctx;
    int credential_process_timeout_s; /* 0: AWSCONF_PROCESS_TIMEOUT_DEFAULT_S */
} awsconf_options;

typedef struct awsconf awsconf;

/*
 * Resolves credentials, region, endpoint and CA bundle. Empty strings, in
 * options and in the environment, count as unset. On success *out is set
 * and 0 returned; on failure *out is NULL, -1 is returned and err holds one
 * line saying what is wrong and where it came from.
 *
 * A credential_process is run with posix_spawnp (PATH and environment of
 * this process, not of getenv_fn), stdin /dev/null, stderr inherited, and is
 * killed when it outlives the timeout. It is reaped with waitpid(pid), so
 * SIGCHLD must not be ignored nor reaped elsewhere during the call.
 */
int awsconf_resolve(const awsconf_options *opt, awsconf **out, char *err, size_t errlen);

/* session_token is NULL for long-term keys. */
const sigv4_credentials *awsconf_credentials(const awsconf *c);
/* When the credentials stop working (a credential_process's Expiration); 0 if never said. */
time_t awsconf_expiration(const awsconf *c);
const char *awsconf_region(const awsconf *c);
/* Base URL without a trailing '/', e.g. "https://lambda.eu-west-1.amazonaws.com".
 * May be plain http:// (local emulators): the caller should warn. */
const char *awsconf_endpoint(const awsconf *c);
/* NULL: the system's CA store. */
const char *awsconf_ca_bundle(const awsconf *c);
/* Where the credentials came from, never their values: "environment",
 * "shared credentials file ~/.aws/credentials [profile staging]",
 * "config file ~/.aws/config [profile dev]",
 * "credential_process [profile ci] in ~/.aws/config". */
const char *awsconf_source(const awsconf *c);
/* Cleanses the secret and the token, then frees. NULL is allowed. */
void awsconf_free(awsconf *c);

/*
 * The AWS shared config/credentials INI dialect, as botocore reads it with
 * Python's configparser: `#`/`;` comment lines, `[section]` headers (name
 * trimmed), `key = value` or `key: value` (both trimmed; keys lower-cased),
 * indented lines continuing the value above, and indented `key = value`
 * blocks under a key with an empty value (`s3 =`) as nested settings.
 * Keys of a `[DEFAULT]` section are inherited by every section. Duplicate
 * sections and duplicate keys in a section are errors, as in botocore
 * ([DEFAULT] may be reopened, as configparser allows).
 *
 * Parses len bytes of text (not NUL-terminated; at most
 * AWSCONF_INI_MAX_BYTES). Returns the tree, or NULL with err set to
 * "filename:line:column: what was expected" (or "filename: ..." for
 * whole-file problems). The text of the offending line is never quoted.
 */
typedef struct awsconf_ini awsconf_ini;
awsconf_ini *awsconf_ini_parse(const char *text, size_t len, const char *filename, char *err,
                               size_t errlen);

/*
 * The value of key (any case) in section (exact name, as trimmed), falling
 * back to [DEFAULT]. NULL when the section or key is absent, for the
 * [DEFAULT] section itself (botocore never lists it), and for a key that
 * holds a nested block. Multi-line values are joined with '\n'.
 */
const char *awsconf_ini_get(const awsconf_ini *ini, const char *section, const char *key);

/* Cleanses every value (a credentials file holds secrets), then frees. NULL is allowed. */
void awsconf_ini_free(awsconf_ini *ini);

/*
 * Splits a credential_process command line as botocore does (Python's
 * shlex.split: whitespace, '...' literal, "..." where \ escapes only " and
 * \, a \ outside quotes escapes any character; no shell, no comments).
 * Returns a NULL-terminated argv with at least one element, or NULL with err
 * set (empty command, unclosed quote, trailing backslash, out of memory).
 */
char **awsconf_split_command(const char *command, char *err, size_t errlen);
void awsconf_argv_free(char **argv);

#endif
