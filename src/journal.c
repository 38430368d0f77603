/*
 * journal — the forcer's on-disk record of a configuration change (see
 * journal.h). The file is JSON; the schema is versioned by
 * "coldsec_journal" and checked field by field on load, because
 * `coldsec restore` acts on what it says.
 */
#include "journal.h"

#include "jsonutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOURNAL_BYTES ((size_t)1024 * 1024)

struct journal {
    char *path;
    cJSON *doc;
};

static const char *const state_names[] = {"planned", "updated", "restored", "not-applied", "conflict"};

const char *journal_state_name(journal_state s)
{
    return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static void iso_now(char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int from_hex(const char *in, unsigned char *out, size_t n)
{
    if (strlen(in) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = in[2 * i + (size_t)k];
            v <<= 4;
            if (ch >= '0' && ch <= '9')
                v |= (unsigned)(ch - '0');
            else if (ch >= 'a' && ch <= 'f')
                v |= (unsigned)(ch - 'a' + 10);
            else
                return -1;
        }
        out[i] = (unsigned char)v;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* HMAC-SHA256(salt, for each variable sorted by name: len|name|len|value).
 * Lengths make the encoding unambiguous. out: 65 bytes. */
static int digest_vars(const cJSON *vars, const unsigned char *salt, size_t saltlen, char *out)
{
    const cJSON *it;
    size_t n = 0, total = 0, o = 0, i = 0;
    const char **names = NULL;
    unsigned char *buf = NULL, mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int rc = -1;

    cJSON_ArrayForEach(it, vars) {
        if (!cJSON_IsString(it))
            return -1;
        n++;
        total += 8 + strlen(it->string) + strlen(it->valuestring);
    }
    names = calloc(n ? n : 1, sizeof(*names));
    buf = malloc(total ? total : 1);
    if (!names || !buf)
        goto cleanup;
    cJSON_ArrayForEach(it, vars) {
        names[i++] = it->string;
    }
    qsort(names, n, sizeof(*names), cmp_str);
    for (i = 0; i < n; i++) {
        const char *v = cJSON_GetObjectItemCaseSensitive(vars, names[i])->valuestring;
        size_t kl = strlen(names[i]), vl = strlen(v);
        const size_t lens[2] = {kl, vl};
        const char *parts[2] = {names[i], v};
        for (int k = 0; k < 2; k++) {
            buf[o++] = (unsigned char)(lens[k] >> 24);
            buf[o++] = (unsigned char)(lens[k] >> 16);
            buf[o++] = (unsigned char)(lens[k] >> 8);
            buf[o++] = (unsigned char)lens[k];
            memcpy(buf + o, parts[k], lens[k]);
            o += lens[k];
        }
    }
    if (!HMAC(EVP_sha256(), salt, (int)saltlen, buf, o, mac, &maclen))
        goto cleanup;
    to_hex(mac, maclen, out);
    rc = 0;
cleanup:
    if (buf)
        OPENSSL_cleanse(buf, total ? total : 1);
    free(buf);
    free(names);
    return rc;
}

static cJSON *copy_string_map(const cJSON *vars)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *it;
    if (!o)
        return NULL;
    cJSON_ArrayForEach(it, vars) {
        if (!cJSON_IsString(it) || !cJSON_AddStringToObject(o, it->string, it->valuestring)) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

journal *journal_new(const char *path, const journal_info *info)
{
    journal *j = calloc(1, sizeof(*j));
    cJSON *orig, *names, *added;
    const cJSON *it;
    unsigned char salt[16];
    char salt_hex[33], digest[2 * EVP_MAX_MD_SIZE + 1], when[32];

    if (!j)
        return NULL;
    j->path = strdup(path);
    j->doc = cJSON_CreateObject();
    if (!j->path || !j->doc || RAND_bytes(salt, sizeof(salt)) != 1)
        goto fail;
    to_hex(salt, sizeof(salt), salt_hex);
    if (digest_vars(info->original_vars, salt, sizeof(salt), digest) != 0)
        goto fail;
    iso_now(when, sizeof(when));
    cJSON_AddNumberToObject(j->doc, "coldsec_journal", JOURNAL_VERSION);
    cJSON_AddStringToObject(j->doc, "state", "planned");
    cJSON_AddStringToObject(j->doc, "created", when);
    cJSON_AddNumberToObject(j->doc, "pid", (double)getpid());
    cJSON_AddStringToObject(j->doc, "function", info->function);
    cJSON_AddStringToObject(j->doc, "function_arn", info->function_arn ? info->function_arn : "");
    cJSON_AddStringToObject(j->doc, "region", info->region);
    cJSON_AddStringToObject(j->doc, "endpoint", info->endpoint);
    orig = cJSON_AddObjectToObject(j->doc, "original");
    if (!orig)
        goto fail;
    cJSON_AddStringToObject(orig, "revision_id", info->original_revision ? info->original_revision : "");
    names = cJSON_AddArrayToObject(orig, "variable_names");
    if (!names)
        goto fail;
    cJSON_ArrayForEach(it, info->original_vars) {
        cJSON_AddItemToArray(names, cJSON_CreateString(it->string));
    }
    cJSON_AddStringToObject(orig, "digest_salt", salt_hex);
    cJSON_AddStringToObject(orig, "variables_hmac_sha256", digest);
    added = copy_string_map(info->added_vars);
    if (!added)
        goto fail;
    cJSON_AddItemToObject(j->doc, "added_variables", added);
    cJSON_AddNullToObject(j->doc, "ours_revision_id");
    cJSON_AddArrayToObject(j->doc, "history");
    return j;
fail:
    journal_free(j);
    return NULL;
}

void journal_free(journal *j)
{
    if (!j)
        return;
    cJSON_Delete(j->doc);
    free(j->path);
    free(j);
}

static int fsync_dir_of(const char *path)
{
    char *copy = strdup(path);
    int fd, rc = -1;
    if (!copy)
        return -1;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    free(copy);
    return rc;
}

int journal_write(journal *j, char *err, size_t errlen)
{
    char *text = cJSON_Print(j->doc), *tmp = NULL;
    size_t len, off = 0;
    int fd = -1, rc = -1;

    if (!text) {
        snprintf(err, errlen, "%s: out of memory", j->path);
        return -1;
    }
    len = strlen(text);
    tmp = malloc(strlen(j->path) + 8);
    if (!tmp) {
        snprintf(err, errlen, "%s: out of memory", j->path);
        goto cleanup;
    }
    snprintf(tmp, strlen(j->path) + 8, "%s.tmp", j->path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        goto cleanup;
    }
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
            goto cleanup;
        }
        off += (size_t)w;
    }
    if (write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: cannot write and sync: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, errlen, "%s: cannot close: %s", tmp, strerror(errno));
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp, j->path) != 0) {
        snprintf(err, errlen, "%s: cannot rename into place: %s", j->path, strerror(errno));
        goto cleanup;
    }
    if (fsync_dir_of(j->path) != 0) {
        snprintf(err, errlen, "%s: cannot sync its folder: %s", j->path, strerror(errno));
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp)
        unlink(tmp);
    free(tmp);
    free(text);
    return rc;
}

/* Replaces or adds: a loaded journal may lack an optional field. */
static int set_string(cJSON *o, const char *name, const char *value)
{
    cJSON *v = cJSON_CreateString(value);
    if (!v)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, name)) {
        if (!cJSON_ReplaceItemInObjectCaseSensitive(o, name, v)) {
            cJSON_Delete(v);
            return -1;
        }
        return 0;
    }
    if (!cJSON_AddItemToObject(o, name, v)) {
        cJSON_Delete(v);
        return -1;
    }
    return 0;
}

int journal_set_state(journal *j, journal_state s, const char *ours_revision, const char *note)
{
    cJSON *hist = cJSON_GetObjectItemCaseSensitive(j->doc, "history"), *e;
    char when[32];

    iso_now(when, sizeof(when));
    if (set_string(j->doc, "state", journal_state_name(s)) != 0)
        return -1;
    if (ours_revision && set_string(j->doc, "ours_revision_id", ours_revision) != 0)
        return -1;
    e = cJSON_CreateObject();
    if (!e || !cJSON_IsArray(hist)) {
        cJSON_Delete(e);
        return -1;
    }
    cJSON_AddStringToObject(e, "at", when);
    cJSON_AddStringToObject(e, "state", journal_state_name(s));
    if (note)
        cJSON_AddStringToObject(e, "note", note);
    cJSON_AddItemToArray(hist, e);
    return 0;
}

static const char *str_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

journal *journal_parse(const char *text, size_t n, const char *path, char *err, size_t errlen)
{
    journal *j = calloc(1, sizeof(*j));
    const cJSON *orig, *added, *it, *ver;
    unsigned char salt[16];
    static const char *const required[] = {"state", "function", "region", "endpoint", NULL};

    if (!j || !(j->path = strdup(path))) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    j->doc = jsonutil_parse_whole(text, n);
    if (!cJSON_IsObject(j->doc)) {
        snprintf(err, errlen, "%s: not a JSON object; not a coldsec journal", path);
        goto fail;
    }
    ver = cJSON_GetObjectItemCaseSensitive(j->doc, "coldsec_journal");
    if (!cJSON_IsNumber(ver) || ver->valuedouble != JOURNAL_VERSION) {
        snprintf(err, errlen, "%s: \"coldsec_journal\" must be %d; not a journal this coldsec reads", path,
                 JOURNAL_VERSION);
        goto fail;
    }
    for (int i = 0; required[i]; i++) {
        if (!str_field(j->doc, required[i])) {
            snprintf(err, errlen, "%s: field \"%s\" is missing or not a string", path, required[i]);
            goto fail;
        }
    }
    {
        bool known = false;
        for (size_t s = 0; s < sizeof(state_names) / sizeof(state_names[0]); s++)
            known = known || strcmp(state_names[s], str_field(j->doc, "state")) == 0;
        if (!known) {
            snprintf(err, errlen, "%s: unknown state \"%.40s\"", path, str_field(j->doc, "state"));
            goto fail;
        }
    }
    orig = cJSON_GetObjectItemCaseSensitive(j->doc, "original");
    if (!str_field(orig, "digest_salt") || from_hex(str_field(orig, "digest_salt"), salt, sizeof(salt)) != 0 ||
        !str_field(orig, "variables_hmac_sha256")) {
        snprintf(err, errlen, "%s: \"original\" must hold digest_salt (32 hex digits) and variables_hmac_sha256",
                 path);
        goto fail;
    }
    added = cJSON_GetObjectItemCaseSensitive(j->doc, "added_variables");
    if (!cJSON_IsObject(added) || !added->child) {
        snprintf(err, errlen, "%s: \"added_variables\" must be a non-empty object", path);
        goto fail;
    }
    cJSON_ArrayForEach(it, added) {
        if (!cJSON_IsString(it)) {
            snprintf(err, errlen, "%s: added variable %.64s is not a string", path, it->string);
            goto fail;
        }
    }
    it = cJSON_GetObjectItemCaseSensitive(j->doc, "ours_revision_id");
    if (it && !cJSON_IsString(it) && !cJSON_IsNull(it)) {
        snprintf(err, errlen, "%s: \"ours_revision_id\" must be a string or null", path);
        goto fail;
    }
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j->doc, "history"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(j->doc, "history");
        if (!cJSON_AddArrayToObject(j->doc, "history")) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto fail;
        }
    }
    return j;
fail:
    journal_free(j);
    return NULL;
}

journal *journal_load(const char *path, char *err, size_t errlen)
{
    journal *j = NULL;
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t n;

    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    text = malloc(MAX_JOURNAL_BYTES + 1);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto cleanup;
    }
    n = fread(text, 1, MAX_JOURNAL_BYTES + 1, f);
    if (n > MAX_JOURNAL_BYTES) {
        snprintf(err, errlen, "%s: larger than %zu bytes; not a coldsec journal", path, MAX_JOURNAL_BYTES);
        goto cleanup;
    }
    j = journal_parse(text, n, path, err, errlen);
cleanup:
    fclose(f);
    free(text);
    return j;
}

journal_state journal_get_state(const journal *j)
{
    const char *s = str_field(j->doc, "state");
    for (size_t i = 0; s && i < sizeof(state_names) / sizeof(state_names[0]); i++)
        if (strcmp(s, state_names[i]) == 0)
            return (journal_state)i;
    return JOURNAL_PLANNED;
}

const char *journal_path(const journal *j) { return j->path; }
const char *journal_function(const journal *j) { return str_field(j->doc, "function"); }
const char *journal_region(const journal *j) { return str_field(j->doc, "region"); }
const char *journal_endpoint(const journal *j) { return str_field(j->doc, "endpoint"); }
const char *journal_ours_revision(const journal *j) { return str_field(j->doc, "ours_revision_id"); }
const cJSON *journal_added(const journal *j) { return cJSON_GetObjectItemCaseSensitive(j->doc, "added_variables"); }

bool journal_is_original(const journal *j, const cJSON *vars)
{
    const cJSON *orig = cJSON_GetObjectItemCaseSensitive(j->doc, "original");
    unsigned char salt[16];
    char digest[2 * EVP_MAX_MD_SIZE + 1];
    const char *want = str_field(orig, "variables_hmac_sha256");

    if (!want || from_hex(str_field(orig, "digest_salt"), salt, sizeof(salt)) != 0)
        return false;
    if (digest_vars(vars, salt, sizeof(salt), digest) != 0)
        return false;
    return strlen(digest) == strlen(want) && CRYPTO_memcmp(digest, want, strlen(want)) == 0;
}

bool journal_has_added(const journal *j, const cJSON *vars)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, journal_added(j)) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(vars, it->string);
        if (!cJSON_IsString(v) || strcmp(v->valuestring, it->valuestring) != 0)
            return false;
    }
    return true;
}
