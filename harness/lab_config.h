/*
 * lab_config — coldsec-lab's YAML configuration (harness/functions.yaml and
 * users' own files), parsed with libyaml into plain structs.
 *
 * Every error names file:line:column (1-based) of the offending node, and
 * unknown keys are errors: a typo in a security tool's configuration must
 * not silently change what is tested.
 *
 * Ownership: lab_config_load()/lab_config_parse() return a tree the caller
 * frees with lab_config_free(), which NULLs the caller's pointer. All
 * strings inside are owned by the tree.
 */
#ifndef COLDSEC_LAB_CONFIG_H
#define COLDSEC_LAB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define LAB_CONFIG_MAX_BYTES (1024 * 1024)
#define LAB_CONFIG_MAX_FUNCTIONS 256
#define LAB_CONFIG_MAX_ENV 256
/* Lambda's limit on one function's variables: names plus values. */
#define LAB_CONFIG_MAX_ENV_BYTES 4096
/*
 * /tmp sizes. Lambda's minimum is 512 MB; the lab goes down to 1 MB so that
 * a test fills /tmp in milliseconds instead of writing half a gigabyte.
 */
#define LAB_CONFIG_EPHEMERAL_MIN_MB 1
#define LAB_CONFIG_EPHEMERAL_MAX_MB 10240
#define LAB_CONFIG_EPHEMERAL_DEFAULT_MB 512
/* PerExecutionEnvironmentMaxConcurrency's range
 * (API_LambdaManagedInstancesCapacityProviderConfig, Lambda API Reference). */
#define LAB_CONFIG_MAX_CONCURRENCY 1600
/* The lab's own bound on an MI function's environments. */
#define LAB_CONFIG_MAX_ENVIRONMENTS 64

typedef enum {
    LAB_RUNTIME_PYTHON = 0, /* python3.x */
    LAB_RUNTIME_NODE,       /* nodejsNN.x */
    LAB_RUNTIME_PROVIDED,   /* provided, provided.al2, provided.al2023 */
    LAB_RUNTIME_LAST
} lab_runtime_kind;

typedef struct lab_kv {
    char *key;
    char *value;
} lab_kv;

typedef struct lab_function_config {
    char *name;            /* [A-Za-z0-9_-]{1,64} */
    char *runtime;         /* as written: "python3.11", "nodejs20.x", "provided" */
    lab_runtime_kind kind;
    char *handler;         /* "module.function"; may be NULL for provided */
    char *code_dir;        /* absolute path, resolved against the config file's folder */
    char *description;     /* "" when absent */
    int memory_mb;         /* 128..10240, default 128 */
    int timeout_s;         /* 1..900, default 3 */
    lab_kv *env;           /* the function's own variables, in file order */
    size_t env_count;
    int reserved_concurrency; /* -1 when absent; 0 throttles everything */
    int idle_timeout_s;    /* default 600 */
    int max_age_s;         /* default 7200 */
    bool host_network;     /* `network: host`; default false (own namespace) */
    char *kms_key_arn;     /* arn:aws...:kms:...:key/ID or :alias/NAME; NULL when absent */
    int ephemeral_storage_mb; /* /tmp's size, 1..10240, default 512 */
    bool function_url;     /* served at /lambda-url/NAME (auth type NONE); default false */
    int max_concurrency;   /* Managed Instances: invocations per environment, 1..1600; 0: classic */
    int environments;      /* MI only (lab's key): at most this many environments, 1..64, default 1 */
} lab_function_config;

typedef struct lab_credential {
    char *access_key_id;
    char *secret_access_key;
} lab_credential;

typedef struct lab_config {
    char *path;            /* the file it came from, absolute */
    char *region;          /* default "us-east-1" */
    char *account_id;      /* 12 digits, default "000000000000" */
    lab_credential *credentials; /* when absent in the file: the documented default pair */
    size_t credential_count;
    lab_function_config *functions;
    size_t function_count;
    int update_delay_ms;   /* how long LastUpdateStatus stays InProgress; default 300 */
    int account_concurrency; /* account-wide concurrent invocations; default 1000 */
} lab_config;

/* The pair accepted when a config names no credentials (documented in README). */
#define LAB_CONFIG_DEFAULT_ACCESS_KEY_ID "AKIDCOLDSECLAB"
#define LAB_CONFIG_DEFAULT_SECRET_ACCESS_KEY "coldsec-lab-secret"

/*
 * Reads and parses path. On failure returns -1 and writes
 * "FILE:LINE:COLUMN: message" (or "FILE: message" when no position applies)
 * into err. Relative `code` folders resolve against path's folder and must
 * exist.
 */
int lab_config_load(const char *path, lab_config **out, char *err, size_t errlen);

/*
 * Parses len bytes of YAML. name is used in error messages; base_dir resolves
 * relative code folders. check_code_dirs=false skips the existence check
 * (for the fuzz target and unit tests).
 */
int lab_config_parse(const char *data, size_t len, const char *name,
                     const char *base_dir, bool check_code_dirs,
                     lab_config **out, char *err, size_t errlen);

/*
 * Lambda's rules for environment variables, shared with the lab's
 * UpdateFunctionConfiguration: names match [a-zA-Z]([a-zA-Z0-9_])+, and the
 * names Lambda sets itself are reserved.
 */
bool lab_config_env_name_ok(const char *name);
bool lab_config_env_reserved(const char *name);

/* Finds a function by exact name; NULL when absent. */
const lab_function_config *lab_config_find(const lab_config *cfg, const char *name);

void lab_config_free(lab_config **cfg);

#endif
