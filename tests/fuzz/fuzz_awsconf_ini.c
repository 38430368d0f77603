/*
 * libFuzzer target for awsconf_ini_parse() and, through the values it finds,
 * awsconf_split_command(): ~/.aws/config and ~/.aws/credentials are read on
 * every coldsec run and may hold anything. Beyond surviving:
 *   - an error names the file with a line and column (or the whole file),
 *     is one printable line, and the tree is NULL;
 *   - a value found is trimmed, and any case of its key finds the same one;
 *   - a final newline changes nothing: the same result and the same error;
 *   - a credential_process value splits into at least one word, or fails
 *     with a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ERR_LEN 512

static const char *const sections[] = {"default", "profile default", "profile dev", "a",
                                       "DEFAULT", "services local", "b"};
static const char *const keys[][2] = {
    {"region", "REGION"},
    {"aws_access_key_id", "AWS_Access_Key_ID"},
    {"credential_process", "Credential_Process"},
    {"endpoint_url", "ENDPOINT_URL"},
    {"lambda", "Lambda"},
    {"k", "K"},
};

static int is_trim_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* "fuzz.ini:LINE:COL: ..." or "fuzz.ini: ...", printable, one line. */
static void check_error(const char *err)
{
    const char *p = err + strlen("fuzz.ini:");
    size_t i;
    if (strncmp(err, "fuzz.ini:", 9) != 0)
        abort();
    if (*p != ' ') {
        if (*p < '1' || *p > '9')
            abort();
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p++ != ':' || *p < '1' || *p > '9')
            abort();
        while (*p >= '0' && *p <= '9')
            p++;
        if (p[0] != ':' || p[1] != ' ')
            abort();
    }
    for (i = 0; err[i]; i++) {
        if ((unsigned char)err[i] < 0x20 || (unsigned char)err[i] == 0x7f)
            abort();
    }
}

static void check_command(const char *value)
{
    char err[ERR_LEN] = "";
    char **argv = awsconf_split_command(value, err, sizeof err);
    size_t n = 0;
    if (!argv) {
        if (err[0] == '\0')
            abort();
        return;
    }
    while (argv[n])
        n++;
    if (n == 0 || n > strlen(value))
        abort();
    awsconf_argv_free(argv);
}

static void check_tree(const awsconf_ini *ini, const awsconf_ini *again)
{
    size_t s, k;
    for (s = 0; s < sizeof sections / sizeof sections[0]; s++) {
        for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const char *v = awsconf_ini_get(ini, sections[s], keys[k][0]);
            const char *w = awsconf_ini_get(again, sections[s], keys[k][0]);
            size_t n;
            if (awsconf_ini_get(ini, sections[s], keys[k][1]) != v)
                abort();
            if ((v == NULL) != (w == NULL) || (v && strcmp(v, w) != 0))
                abort();
            if (!v)
                continue;
            n = strlen(v);
            if (n && (is_trim_space((unsigned char)v[0]) || is_trim_space((unsigned char)v[n - 1])))
                abort();
            if (strchr(v, '\r'))
                abort();
            if (k == 2)
                check_command(v);
        }
    }
    if (awsconf_ini_get(ini, "DEFAULT", "region") != NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[ERR_LEN] = "", err2[ERR_LEN] = "";
    awsconf_ini *ini, *again = NULL;
    char *copy;

    ini = awsconf_ini_parse((const char *)data, size, "fuzz.ini", err, sizeof err);
    /* The same text with one more line ending: a trailing '\r' followed by
     * '\n' would only merge into "\r\n", so append '\n' either way. */
    copy = malloc(size + 1);
    if (!copy)
        abort();
    if (size)
        memcpy(copy, data, size);
    copy[size] = '\n';
    if (size + 1 <= (size_t)AWSCONF_INI_MAX_BYTES)
        again = awsconf_ini_parse(copy, size + 1, "fuzz.ini", err2, sizeof err2);
    free(copy);
    if (!ini) {
        check_error(err);
        if (size + 1 <= (size_t)AWSCONF_INI_MAX_BYTES && (again || strcmp(err, err2) != 0))
            abort();
    } else {
        if (size + 1 <= (size_t)AWSCONF_INI_MAX_BYTES && !again)
            abort();
        if (again)
            check_tree(ini, again);
    }
    awsconf_ini_free(ini);
    awsconf_ini_free(again);
    return 0;
}
