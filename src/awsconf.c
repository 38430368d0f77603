/*
 * awsconf.c — the AWS CLI's lookup of credentials, region, endpoint and CA
 * bundle for the coldsec client (order in awsconf.h), in four parts: the INI
 * dialect of ~/.aws/config and ~/.aws/credentials (Python configparser's
 * rules, which botocore inherits), the shlex splitting and the run of a
 * credential_process, the parsing of its JSON, and the resolution itself.
 *
 * Files and process output are untrusted in size and form and hold secrets:
 * each is capped (AWSCONF_* in awsconf.h), every buffer that held one is
 * cleansed before it is freed, and error messages are built only from names,
 * positions and fixed words, never from values. No state outlives a call
 * but the awsconf handed to the caller.
 */
#include "awsconf.h"

#include "jsonutil.h"
#include "monotime.h"

#include <cJSON.h>
#include <openssl/crypto.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NO_ENTRY SIZE_MAX
#define INI_DEFAULT_SECTION "DEFAULT" /* configparser's section inherited by all */
#define SHOWN_NAME_MAX 64             /* longer names are not echoed in messages */
#define SHOWN_PATH_MAX 512
#define MSG_MAX 1024                  /* one piece of a composed message */
#define HINT_MAX (SHOWN_NAME_MAX + 32) /* "[profile NAME]" */
#define PASSWD_BUF_MAX 16384          /* getpwuid_r scratch */
#define WAIT_POLL_NS 5000000L         /* 5 ms between checks that a child exited */

struct awsconf {
    sigv4_credentials creds; /* points at the three strings below */
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL for long-term keys */
    time_t expiration;   /* 0: none given */
    char *region;
    char *endpoint;
    char *ca_bundle;
    char *source;
};

static void set_err(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (!err || len == 0)
        return;
    va_start(ap, fmt);
    if (vsnprintf(err, len, fmt, ap) < 0)
        err[0] = '\0';
    va_end(ap);
}

/* Python's str.strip() whitespace among ASCII, so trimming matches configparser. */
static bool is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Case-insensitive in ASCII only: the locale must not decide which key matches. */
static bool ascii_case_eq(const char *a, const char *b)
{
    while (*a && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool starts_with_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        if (ascii_lower((unsigned char)*s) != (unsigned char)*prefix)
            return false;
    }
    return true;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void cleanse_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

/*
 * s when it is short and printable, else a placeholder: a name echoed in a
 * message must not carry a pasted secret or a terminal escape sequence.
 */
static const char *shown(const char *s, size_t max)
{
    size_t i;
    if (!s)
        return "(none)";
    for (i = 0; s[i]; i++) {
        if (i >= max || (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return "(name not shown)";
    }
    return s;
}

static const char *shown_name(const char *s)
{
    return shown(s, SHOWN_NAME_MAX);
}

/* ===========================================================================
 * INI: configparser.RawConfigParser as botocore uses it (strict, '=' and ':'
 * delimiters, full-line comments only, empty lines kept inside values),
 * plus botocore's nested blocks.
 */
typedef struct ini_section {
    char *name;
    size_t line;
    size_t col;
    size_t first; /* its entries, nested ones included: entries[first, first + count) */
    size_t count;
} ini_section;

typedef struct ini_entry {
    char *key;       /* lower-cased at top level, as configparser does; as written when nested */
    char *value;     /* may hold a secret: cleansed on free and before every move */
    size_t value_len;
    size_t value_cap;
    size_t section;  /* the first section of its name: repeated [DEFAULT]s are one */
    size_t parent;   /* NO_ENTRY, or the entry whose nested block this line is in */
    size_t line;
    size_t col;
    bool nested_block; /* `key =` followed by indented `k = v` lines */
} ini_entry;

struct awsconf_ini {
    ini_section *sections;
    size_t nsections;
    size_t sections_cap;
    ini_entry *entries;
    size_t nentries;
    size_t entries_cap;
};

typedef struct ini_parser {
    awsconf_ini *ini;
    const char *filename;
    char *err;
    size_t errlen;
    size_t line;
    size_t section;       /* NO_ENTRY before the first header */
    size_t group;         /* what entries record as their section (see ini_entry) */
    size_t opt;           /* the entry whose value may continue, or NO_ENTRY */
    size_t indent;        /* indentation of the last header or key line */
    size_t pending_blank; /* blank lines inside the open value, kept only if it continues */
} ini_parser;

static bool ini_fail(ini_parser *p, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool ini_fail(ini_parser *p, size_t col, const char *fmt, ...)
{
    char what[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(what, sizeof what, fmt, ap) < 0)
        what[0] = '\0';
    va_end(ap);
    set_err(p->err, p->errlen, "%s:%zu:%zu: %s", p->filename, p->line, col, what);
    return false;
}

static bool ini_nomem(ini_parser *p)
{
    set_err(p->err, p->errlen, "%s: out of memory", p->filename);
    return false;
}

static bool ini_add_section(ini_parser *p, const char *name, size_t n, size_t col)
{
    awsconf_ini *ini = p->ini;
    ini_section *s;
    if (ini->nsections == ini->sections_cap) {
        size_t cap = ini->sections_cap ? ini->sections_cap * 2 : 8;
        ini_section *grown = realloc(ini->sections, cap * sizeof *grown);
        if (!grown)
            return ini_nomem(p);
        ini->sections = grown;
        ini->sections_cap = cap;
    }
    s = &ini->sections[ini->nsections];
    s->name = dup_n(name, n);
    if (!s->name)
        return ini_nomem(p);
    s->line = p->line;
    s->col = col;
    s->first = ini->nentries;
    s->count = 0;
    p->section = ini->nsections++;
    p->group = p->section;
    /* configparser reopens [DEFAULT] instead of refusing it twice; a new
     * section keeps each one's entries contiguous, the group makes them one. */
    if (strcmp(s->name, INI_DEFAULT_SECTION) == 0) {
        size_t i;
        for (i = 0; i < p->section; i++) {
            if (strcmp(ini->sections[i].name, INI_DEFAULT_SECTION) == 0) {
                p->group = i;
                break;
            }
        }
    }
    return true;
}

static bool ini_add_entry(ini_parser *p, const char *key, size_t klen, bool lower,
                          const char *value, size_t vlen, size_t parent, size_t col)
{
    awsconf_ini *ini = p->ini;
    ini_entry *e;
    size_t i;
    if (ini->nentries == ini->entries_cap) {
        size_t cap = ini->entries_cap ? ini->entries_cap * 2 : 16;
        ini_entry *grown = realloc(ini->entries, cap * sizeof *grown);
        if (!grown)
            return ini_nomem(p);
        ini->entries = grown;
        ini->entries_cap = cap;
    }
    e = &ini->entries[ini->nentries];
    memset(e, 0, sizeof *e);
    e->key = dup_n(key, klen);
    e->value = dup_n(value, vlen);
    if (!e->key || !e->value) {
        free(e->key);
        cleanse_free(e->value);
        return ini_nomem(p);
    }
    if (lower) {
        for (i = 0; i < klen; i++)
            e->key[i] = (char)ascii_lower((unsigned char)e->key[i]);
    }
    e->value_len = vlen;
    e->value_cap = vlen + 1;
    e->section = p->group;
    e->parent = parent;
    e->line = p->line;
    e->col = col;
    ini->nentries++;
    ini->sections[p->section].count++;
    return true;
}

/* Appends "\n" * newlines + s to a value without leaving a copy of it behind. */
static bool ini_append(ini_parser *p, ini_entry *e, size_t newlines, const char *s, size_t n)
{
    size_t need = e->value_len + newlines + n + 1;
    if (need > e->value_cap) {
        size_t cap = e->value_cap * 2 > need ? e->value_cap * 2 : need;
        char *grown = malloc(cap);
        if (!grown)
            return ini_nomem(p);
        memcpy(grown, e->value, e->value_len + 1);
        cleanse_free(e->value);
        e->value = grown;
        e->value_cap = cap;
    }
    memset(e->value + e->value_len, '\n', newlines);
    memcpy(e->value + e->value_len + newlines, s, n);
    e->value_len += newlines + n;
    e->value[e->value_len] = '\0';
    return true;
}

/* A line indented deeper than the key line above: more value, or a nested `k = v`. */
static bool ini_continuation(ini_parser *p, const char *s, size_t b, size_t e)
{
    size_t parent = p->opt;
    ini_entry *o = &p->ini->entries[parent];
    const char *eq;
    size_t ke, vb, blanks = p->pending_blank;

    p->pending_blank = 0;
    if (o->nested_block || o->value_len == 0) {
        /* botocore: a value that starts with a newline is a nested block, and
         * each of its lines must split on '=' (configloader._parse_nested). */
        eq = memchr(s + b, '=', e - b);
        if (!eq)
            return ini_fail(p, b + 1, "expected 'key = value' in the block nested under '%s'",
                            shown_name(o->key));
        o->nested_block = true;
        ke = (size_t)(eq - s);
        while (ke > b && is_space((unsigned char)s[ke - 1]))
            ke--;
        vb = (size_t)(eq - s) + 1;
        while (vb < e && is_space((unsigned char)s[vb]))
            vb++;
        return ini_add_entry(p, s + b, ke - b, false, s + vb, e - vb, parent, b + 1);
    }
    return ini_append(p, o, blanks + 1, s + b, e - b);
}

static bool ini_header(ini_parser *p, const char *s, size_t b, size_t e)
{
    const char *close = memchr(s + b + 1, ']', e - b - 1);
    size_t nb = b + 1, ne, after;
    if (!close)
        return ini_fail(p, e + 1, "expected ']' to close the section header");
    ne = (size_t)(close - s);
    after = ne + 1;
    while (nb < ne && is_space((unsigned char)s[nb]))
        nb++;
    while (ne > nb && is_space((unsigned char)s[ne - 1]))
        ne--;
    if (nb == ne)
        return ini_fail(p, b + 1, "expected a section name between '[' and ']'");
    while (after < e && is_space((unsigned char)s[after]))
        after++;
    if (after < e && s[after] != '#' && s[after] != ';')
        return ini_fail(p, after + 1, "expected the end of the line or a comment after ']'");
    return ini_add_section(p, s + nb, ne - nb, b + 1);
}

static bool ini_option(ini_parser *p, const char *s, size_t b, size_t e)
{
    size_t d = b, ke, vb;
    if (p->section == NO_ENTRY)
        return ini_fail(p, b + 1, "expected a [section] header before the first setting");
    while (d < e && s[d] != '=' && s[d] != ':')
        d++;
    if (d == e)
        return ini_fail(p, b + 1, "expected 'key = value', a [section] header or a # comment");
    ke = d;
    while (ke > b && is_space((unsigned char)s[ke - 1]))
        ke--;
    if (ke == b)
        return ini_fail(p, d + 1, "expected a key before '%c'", s[d]);
    vb = d + 1;
    while (vb < e && is_space((unsigned char)s[vb]))
        vb++;
    if (!ini_add_entry(p, s + b, ke - b, true, s + vb, e - vb, NO_ENTRY, b + 1))
        return false;
    p->opt = p->ini->nentries - 1;
    return true;
}

/* One physical line, without its terminator. */
static bool ini_line(ini_parser *p, const char *s, size_t n)
{
    const char *nul = memchr(s, '\0', n);
    size_t b = 0, e = n;
    if (nul)
        return ini_fail(p, (size_t)(nul - s) + 1, "expected text, found a NUL byte");
    while (b < n && is_space((unsigned char)s[b]))
        b++;
    while (e > b && is_space((unsigned char)s[e - 1]))
        e--;
    if (b == e) {
        if (p->opt != NO_ENTRY)
            p->pending_blank++;
        return true;
    }
    if (s[b] == '#' || s[b] == ';')
        return true;
    if (p->opt != NO_ENTRY && b > p->indent)
        return ini_continuation(p, s, b, e);
    p->indent = b;
    p->opt = NO_ENTRY;
    p->pending_blank = 0;
    if (s[b] == '[')
        return ini_header(p, s, b, e);
    return ini_option(p, s, b, e);
}

/* Wrappers so the sort arrays hold structs, not bare pointers. */
typedef struct section_ref {
    const ini_section *s;
} section_ref;

typedef struct entry_ref {
    const ini_entry *e;
} entry_ref;

static int section_ref_cmp(const void *a, const void *b)
{
    const ini_section *x = ((const section_ref *)a)->s;
    const ini_section *y = ((const section_ref *)b)->s;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return (x->line > y->line) - (x->line < y->line);
}

static int entry_ref_cmp(const void *a, const void *b)
{
    const ini_entry *x = ((const entry_ref *)a)->e;
    const ini_entry *y = ((const entry_ref *)b)->e;
    int c;
    if (x->section != y->section)
        return (x->section > y->section) - (x->section < y->section);
    c = strcmp(x->key, y->key);
    if (c)
        return c;
    return (x->line > y->line) - (x->line < y->line);
}

/*
 * configparser (strict) refuses a section or a key given twice. Sorting
 * keeps a large file linear-logarithmic; the duplicate reported is the first
 * in file order, so it wins over a syntax error further down.
 * Returns 1 and sets err when there is one, 0 when not, -1 out of memory.
 */
static int ini_find_duplicate(ini_parser *p)
{
    const awsconf_ini *ini = p->ini;
    section_ref *secs = malloc((ini->nsections ? ini->nsections : 1) * sizeof *secs);
    entry_ref *keys = malloc((ini->nentries ? ini->nentries : 1) * sizeof *keys);
    const ini_section *dup_sec = NULL, *first_sec = NULL;
    const ini_entry *dup_key = NULL, *first_key = NULL;
    size_t i, g, k = 0;
    int rc = -1;

    if (!secs || !keys)
        goto cleanup;
    for (i = 0; i < ini->nsections; i++)
        secs[i].s = &ini->sections[i];
    qsort(secs, ini->nsections, sizeof *secs, section_ref_cmp);
    /* Sorted by (name, line): a group's second element is its first duplicate. */
    for (i = 1, g = 0; i < ini->nsections; i++) {
        if (strcmp(secs[g].s->name, secs[i].s->name) != 0) {
            g = i;
        } else if (strcmp(secs[i].s->name, INI_DEFAULT_SECTION) == 0) {
            continue;
        } else if (i == g + 1 && (!dup_sec || secs[i].s->line < dup_sec->line)) {
            dup_sec = secs[i].s;
            first_sec = secs[g].s;
        }
    }
    for (i = 0; i < ini->nentries; i++) {
        if (ini->entries[i].parent == NO_ENTRY)
            keys[k++].e = &ini->entries[i];
    }
    qsort(keys, k, sizeof *keys, entry_ref_cmp);
    for (i = 1, g = 0; i < k; i++) {
        if (keys[g].e->section != keys[i].e->section || strcmp(keys[g].e->key, keys[i].e->key) != 0) {
            g = i;
        } else if (i == g + 1 && (!dup_key || keys[i].e->line < dup_key->line)) {
            dup_key = keys[i].e;
            first_key = keys[g].e;
        }
    }
    rc = 1;
    if (dup_key && (!dup_sec || dup_key->line < dup_sec->line))
        set_err(p->err, p->errlen, "%s:%zu:%zu: duplicate key '%s' in [%s] (first at line %zu)",
                p->filename, dup_key->line, dup_key->col, shown_name(dup_key->key),
                shown_name(ini->sections[dup_key->section].name), first_key->line);
    else if (dup_sec)
        set_err(p->err, p->errlen, "%s:%zu:%zu: duplicate section [%s] (first at line %zu)",
                p->filename, dup_sec->line, dup_sec->col, shown_name(dup_sec->name),
                first_sec->line);
    else
        rc = 0;
cleanup:
    free(secs);
    free(keys);
    return rc;
}

awsconf_ini *awsconf_ini_parse(const char *text, size_t len, const char *filename, char *err,
                               size_t errlen)
{
    ini_parser p;
    size_t pos = 0;
    bool ok = true;
    int dup;

    if (!filename)
        filename = "(config)";
    if (!text && len) {
        set_err(err, errlen, "%s: no text", filename);
        return NULL;
    }
    if (len > (size_t)AWSCONF_INI_MAX_BYTES) {
        set_err(err, errlen, "%s: larger than %d KiB, the most coldsec reads from an AWS config file",
                filename, AWSCONF_INI_MAX_BYTES / 1024);
        return NULL;
    }
    memset(&p, 0, sizeof p);
    p.filename = filename;
    p.err = err;
    p.errlen = errlen;
    p.section = NO_ENTRY;
    p.group = NO_ENTRY;
    p.opt = NO_ENTRY;
    p.ini = calloc(1, sizeof *p.ini);
    if (!p.ini) {
        set_err(err, errlen, "%s: out of memory", filename);
        return NULL;
    }
    /* Lines end at \n, \r\n or \r: Python reads the files with universal newlines. */
    while (ok && pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n' && text[end] != '\r')
            end++;
        p.line++;
        ok = ini_line(&p, text + pos, end - pos);
        if (end + 1 < len && text[end] == '\r' && text[end + 1] == '\n')
            end++;
        pos = end + 1;
    }
    dup = ini_find_duplicate(&p);
    if (dup < 0)
        ok = ini_nomem(&p);
    else if (dup > 0)
        ok = false;
    if (!ok) {
        awsconf_ini_free(p.ini);
        return NULL;
    }
    return p.ini;
}

static const ini_section *ini_section_named(const awsconf_ini *ini, const char *name)
{
    size_t i;
    for (i = 0; i < ini->nsections; i++) {
        if (strcmp(ini->sections[i].name, name) == 0)
            return &ini->sections[i];
    }
    return NULL;
}

static const ini_entry *ini_key_in(const awsconf_ini *ini, const ini_section *s, const char *key)
{
    size_t i;
    for (i = s->first; i < s->first + s->count; i++) {
        const ini_entry *e = &ini->entries[i];
        if (e->parent == NO_ENTRY && ascii_case_eq(e->key, key))
            return e;
    }
    return NULL;
}

static const ini_entry *ini_lookup(const awsconf_ini *ini, const char *section, const char *key)
{
    const ini_section *s;
    const ini_entry *e;
    size_t i;
    if (!ini || !section || !key || strcmp(section, INI_DEFAULT_SECTION) == 0)
        return NULL;
    s = ini_section_named(ini, section);
    if (!s)
        return NULL;
    e = ini_key_in(ini, s, key);
    for (i = 0; !e && i < ini->nsections; i++) {
        if (strcmp(ini->sections[i].name, INI_DEFAULT_SECTION) == 0)
            e = ini_key_in(ini, &ini->sections[i], key);
    }
    return e;
}

const char *awsconf_ini_get(const awsconf_ini *ini, const char *section, const char *key)
{
    const ini_entry *e = ini_lookup(ini, section, key);
    return e && !e->nested_block ? e->value : NULL;
}

/* key in the block nested under `block =` of section; the last one wins, as in a Python dict. */
static const char *ini_get_nested(const awsconf_ini *ini, const char *section, const char *block,
                                  const char *key)
{
    const ini_entry *parent = ini_lookup(ini, section, block);
    const char *found = NULL;
    size_t i, pi;
    if (!parent || !parent->nested_block)
        return NULL;
    pi = (size_t)(parent - ini->entries);
    for (i = pi + 1; i < ini->nentries && ini->entries[i].parent == pi; i++) {
        if (strcmp(ini->entries[i].key, key) == 0)
            found = ini->entries[i].value;
    }
    return found;
}

static bool ini_has_section(const awsconf_ini *ini, const char *name)
{
    return ini && strcmp(name, INI_DEFAULT_SECTION) != 0 && ini_section_named(ini, name) != NULL;
}

void awsconf_ini_free(awsconf_ini *ini)
{
    size_t i;
    if (!ini)
        return;
    for (i = 0; i < ini->nentries; i++) {
        free(ini->entries[i].key);
        OPENSSL_cleanse(ini->entries[i].value, ini->entries[i].value_len);
        free(ini->entries[i].value);
    }
    for (i = 0; i < ini->nsections; i++)
        free(ini->sections[i].name);
    free(ini->entries);
    free(ini->sections);
    free(ini);
}

/* ===========================================================================
 * Command lines: Python's shlex.split (posix, whitespace_split, no comments),
 * which botocore's compat_shell_split is on every platform but Windows.
 */
typedef enum {
    SPLIT_OK = 0,
    SPLIT_UNCLOSED_QUOTE,
    SPLIT_TRAILING_ESCAPE,
    SPLIT_NOMEM,
    SPLIT_LAST
} split_status;

static bool is_shlex_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void awsconf_argv_free(char **argv)
{
    size_t i;
    if (!argv)
        return;
    /* Arguments may carry tokens (`--token ...`). */
    for (i = 0; argv[i]; i++)
        cleanse_free(argv[i]);
    free(argv);
}

static bool push_word(char ***argv, size_t *argc, size_t *cap, const char *w, size_t n)
{
    if (*argc + 1 >= *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        char **grown = realloc(*argv, ncap * sizeof *grown);
        if (!grown)
            return false;
        *argv = grown;
        *cap = ncap;
    }
    (*argv)[*argc] = dup_n(w, n);
    if (!(*argv)[*argc])
        return false;
    (*argc)++;
    (*argv)[*argc] = NULL;
    return true;
}

/* On success *out is a NULL-terminated argv (possibly empty) the caller frees. */
static split_status split_words(const char *s, char ***out, size_t *count)
{
    size_t n = strlen(s), i = 0, wl = 0, argc = 0, cap = 0;
    char *word = malloc(n + 1); /* no word is longer than the line */
    char **argv = NULL;
    bool in_word = false;
    split_status st = SPLIT_NOMEM;

    *out = NULL;
    *count = 0;
    if (!word || !push_word(&argv, &argc, &cap, "", 0))
        goto cleanup;
    /* The placeholder only made argv non-NULL and terminated. */
    free(argv[0]);
    argv[0] = NULL;
    argc = 0;
    while (i < n) {
        char c = s[i];
        if (is_shlex_space(c)) {
            if (in_word && !push_word(&argv, &argc, &cap, word, wl))
                goto cleanup;
            in_word = false;
            wl = 0;
            i++;
            continue;
        }
        in_word = true;
        if (c == '\\') {
            if (i + 1 >= n) {
                st = SPLIT_TRAILING_ESCAPE;
                goto cleanup;
            }
            word[wl++] = s[i + 1];
            i += 2;
        } else if (c == '\'') {
            const char *q = memchr(s + i + 1, '\'', n - i - 1);
            size_t k;
            if (!q) {
                st = SPLIT_UNCLOSED_QUOTE;
                goto cleanup;
            }
            k = (size_t)(q - (s + i + 1));
            memcpy(word + wl, s + i + 1, k);
            wl += k;
            i += k + 2;
        } else if (c == '"') {
            i++;
            for (;;) {
                if (i >= n) {
                    st = SPLIT_UNCLOSED_QUOTE;
                    goto cleanup;
                }
                if (s[i] == '"') {
                    i++;
                    break;
                }
                if (s[i] == '\\') {
                    if (i + 1 >= n) {
                        st = SPLIT_TRAILING_ESCAPE;
                        goto cleanup;
                    }
                    if (s[i + 1] == '"' || s[i + 1] == '\\')
                        i++;
                }
                word[wl++] = s[i++];
            }
        } else {
            word[wl++] = c;
            i++;
        }
    }
    if (in_word && !push_word(&argv, &argc, &cap, word, wl))
        goto cleanup;
    *out = argv;
    *count = argc;
    argv = NULL;
    st = SPLIT_OK;
cleanup:
    if (word) {
        OPENSSL_cleanse(word, n + 1);
        free(word);
    }
    awsconf_argv_free(argv);
    return st;
}

static const char *split_problem(split_status st)
{
    switch (st) {
    case SPLIT_UNCLOSED_QUOTE:
        return "a quote is not closed";
    case SPLIT_TRAILING_ESCAPE:
        return "it ends with a backslash that escapes nothing";
    case SPLIT_NOMEM:
        return "out of memory";
    case SPLIT_OK:
    case SPLIT_LAST:
        break;
    }
    return "cannot be split";
}

char **awsconf_split_command(const char *command, char *err, size_t errlen)
{
    char **argv = NULL;
    size_t argc = 0;
    split_status st;
    if (!command) {
        set_err(err, errlen, "no command");
        return NULL;
    }
    st = split_words(command, &argv, &argc);
    if (st != SPLIT_OK) {
        set_err(err, errlen, "the command cannot be split: %s", split_problem(st));
        return NULL;
    }
    if (argc == 0) {
        awsconf_argv_free(argv);
        set_err(err, errlen, "the command is empty");
        return NULL;
    }
    return argv;
}

/* ===========================================================================
 * Running a credential_process: no shell, stdin /dev/null, stdout captured
 * up to a cap, stderr passed through (it is the tool's channel to the user),
 * a deadline after which the child is killed and reaped.
 */
typedef enum {
    PROC_OK = 0,
    PROC_SPAWN_FAILED, /* error holds the errno */
    PROC_IO_FAILED,    /* error holds the errno */
    PROC_WAIT_FAILED,  /* error holds the errno */
    PROC_TIMEOUT,
    PROC_TOO_LARGE,
    PROC_EXIT_FAILED,  /* wait_status says how */
    PROC_LAST
} proc_status;

typedef struct proc_result {
    char *out; /* AWSCONF_PROCESS_OUTPUT_MAX + 1 bytes; the caller cleanses and frees */
    size_t len;
    int wait_status;
    int error;
} proc_result;

static void kill_and_reap(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

/* Reads the child's stdout to EOF or the cap, whichever comes first, before the deadline. */
static proc_status read_output(int fd, double deadline, proc_result *r)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
        int64_t left = (int64_t)(deadline - monotime_ms());
        ssize_t k;
        int n;
        if (left <= 0)
            return PROC_TIMEOUT;
        n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r->error = errno;
            return PROC_IO_FAILED;
        }
        if (n == 0)
            continue;
        k = read(fd, r->out + r->len, (size_t)AWSCONF_PROCESS_OUTPUT_MAX + 1 - r->len);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k < 0) {
            r->error = errno;
            return PROC_IO_FAILED;
        }
        if (k == 0)
            return PROC_OK;
        r->len += (size_t)k;
        if (r->len > (size_t)AWSCONF_PROCESS_OUTPUT_MAX)
            return PROC_TOO_LARGE;
    }
}

/* A child may close stdout and linger: the deadline still holds. *pid becomes -1 once reaped. */
static proc_status wait_exit(pid_t *pid, double deadline, proc_result *r)
{
    const struct timespec pause = {.tv_sec = 0, .tv_nsec = WAIT_POLL_NS};
    for (;;) {
        pid_t w = waitpid(*pid, &r->wait_status, WNOHANG);
        if (w == *pid) {
            *pid = -1;
            return PROC_OK;
        }
        if (w < 0 && errno != EINTR) {
            r->error = errno;
            if (errno == ECHILD)
                *pid = -1; /* someone else reaped it; nothing left to kill */
            return PROC_WAIT_FAILED;
        }
        if (monotime_ms() >= deadline)
            return PROC_TIMEOUT;
        nanosleep(&pause, NULL);
    }
}

static proc_status run_process(char *const argv[], int timeout_s, proc_result *r)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    bool fa_ready = false, attr_ready = false;
    int pipefd[2] = {-1, -1};
    pid_t pid = -1;
    sigset_t none, dfl;
    double deadline;
    proc_status st = PROC_IO_FAILED;

    memset(r, 0, sizeof *r);
    r->out = malloc((size_t)AWSCONF_PROCESS_OUTPUT_MAX + 1);
    if (!r->out) {
        r->error = ENOMEM;
        goto cleanup;
    }
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        r->error = errno;
        goto cleanup;
    }
    if ((r->error = posix_spawn_file_actions_init(&fa)) != 0)
        goto cleanup;
    fa_ready = true;
    if ((r->error = posix_spawnattr_init(&attr)) != 0)
        goto cleanup;
    attr_ready = true;
    /* The client ignores SIGPIPE and may block signals; a tool must start
     * with neither, as Python's subprocess gives it. */
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    if ((r->error = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY,
                                                     0)) != 0 ||
        (r->error = posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO)) != 0 ||
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        /* Python's Popen closes every other descriptor (close_fds); the
         * client's connections are none of the tool's business. */
        (r->error = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1)) != 0 ||
#endif
        (r->error = posix_spawnattr_setsigmask(&attr, &none)) != 0 ||
        (r->error = posix_spawnattr_setsigdefault(&attr, &dfl)) != 0 ||
        (r->error = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                                        POSIX_SPAWN_SETSIGDEF)) != 0)
        goto cleanup;
    deadline = monotime_ms() + (double)timeout_s * 1000.0;
    r->error = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
    if (r->error != 0) {
        pid = -1;
        st = PROC_SPAWN_FAILED;
        goto cleanup;
    }
    close(pipefd[1]);
    pipefd[1] = -1;
    st = read_output(pipefd[0], deadline, r);
    if (st != PROC_OK)
        goto cleanup;
    st = wait_exit(&pid, deadline, r);
    if (st != PROC_OK)
        goto cleanup;
    if (!WIFEXITED(r->wait_status) || WEXITSTATUS(r->wait_status) != 0)
        st = PROC_EXIT_FAILED;
cleanup:
    if (pid > 0)
        kill_and_reap(pid);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (fa_ready)
        posix_spawn_file_actions_destroy(&fa);
    if (attr_ready)
        posix_spawnattr_destroy(&attr);
    return st;
}

/* ===========================================================================
 * Timestamps: ISO 8601 as credential_process tools write Expiration
 * ("2024-05-01T12:00:00Z", with fractions or a numeric offset).
 */
static bool digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static bool parse_iso8601(const char *s, time_t *out)
{
    unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
    long long offset = 0;
    size_t n = strlen(s), i = 19;
    time_t t;

    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return false;
    if (!sigv4_civil_time(y, mo, d, h, mi, sec, &t))
        return false;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return false;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;
        i++;
        if (n - i == 5 && s[i + 2] == ':' && digits(s + i, 2, &oh) && digits(s + i + 3, 2, &om))
            i += 5;
        else if (n - i == 4 && digits(s + i, 2, &oh) && digits(s + i + 2, 2, &om))
            i += 4;
        else if (n - i == 2 && digits(s + i, 2, &oh))
            i += 2;
        else
            return false;
        if (oh > 23 || om > 59)
            return false;
        offset = sign * ((long long)oh * 3600 + (long long)om * 60);
    }
    /* No zone at all: UTC, as the tools that omit it mean. */
    if (i != n)
        return false;
    *out = t - (time_t)offset;
    return true;
}

/* ===========================================================================
 * Resolution.
 */
typedef struct conf_file {
    const char *what;    /* "shared credentials file" / "config file" */
    /* As configured ("~/.aws/config" or the variable's value), for messages;
     * one longer than SHOWN_PATH_MAX stays too long to be shown. */
    char display[SHOWN_PATH_MAX + 2];
    awsconf_ini *ini;    /* NULL when there is no such file */
    const char *section; /* the profile's section in it, or NULL; owned by ini */
} conf_file;

typedef struct resolver {
    const awsconf_options *opt;
    const char *profile; /* never NULL */
    const char *origin;  /* "--profile", "AWS_PROFILE", or NULL for the implicit default */
    conf_file creds;
    conf_file config;
    char *err;
    size_t errlen;
    awsconf *out;
} resolver;

static int fail(resolver *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(resolver *r, const char *fmt, ...)
{
    va_list ap;
    if (!r->err || r->errlen == 0)
        return -1;
    va_start(ap, fmt);
    if (vsnprintf(r->err, r->errlen, fmt, ap) < 0)
        r->err[0] = '\0';
    va_end(ap);
    return -1;
}

static int nomem(resolver *r)
{
    return fail(r, "out of memory while reading the AWS configuration");
}

/* An empty variable counts as unset, as it does for the AWS CLI's credential lookup. */
static const char *env_get(const resolver *r, const char *name)
{
    const char *v = r->opt->getenv_fn ? r->opt->getenv_fn(r->opt->getenv_ctx, name) : getenv(name);
    return v && *v ? v : NULL;
}

static const char *opt_str(const char *s)
{
    return s && *s ? s : NULL;
}

/*
 * "~" and "~/..." against HOME, or the password database as Python's
 * expanduser falls back to. Returns a string the caller frees, or NULL with
 * the error set.
 */
static char *expand_home(resolver *r, const char *display)
{
    const char *home;
    struct passwd pw, *res = NULL;
    char *buf = NULL, *path = NULL;
    size_t n;

    if (display[0] != '~' || (display[1] != '\0' && display[1] != '/')) {
        path = dup_n(display, strlen(display));
        if (!path)
            nomem(r);
        return path;
    }
    home = env_get(r, "HOME");
    if (!home) {
        buf = malloc(PASSWD_BUF_MAX);
        if (!buf) {
            nomem(r);
            return NULL;
        }
        if (getpwuid_r(getuid(), &pw, buf, PASSWD_BUF_MAX, &res) == 0 && res && res->pw_dir &&
            res->pw_dir[0])
            home = res->pw_dir;
    }
    if (!home) {
        fail(r, "cannot expand %s: HOME is not set and the user has no home directory",
             shown(display, SHOWN_PATH_MAX));
        goto cleanup;
    }
    n = strlen(home) + strlen(display); /* '~' is replaced: room for the NUL */
    path = malloc(n);
    if (!path) {
        nomem(r);
        goto cleanup;
    }
    snprintf(path, n, "%s%s", home, display + 1);
cleanup:
    free(buf);
    return path;
}

/*
 * Reads a whole config file into *text (cleansed and freed by the caller).
 * A file that does not exist leaves *text NULL: AWS tools ignore it.
 */
static int read_file(resolver *r, const char *path, const char *display, char **text, size_t *len)
{
    struct stat st;
    int fd, rc = -1;
    char *buf = NULL;
    size_t got = 0;

    *text = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO planted at the path must not hang us before fstat says what it is. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return fail(r, "%s: cannot open: %s", shown(display, SHOWN_PATH_MAX), strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        fail(r, "%s: cannot stat: %s", shown(display, SHOWN_PATH_MAX), strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        fail(r, "%s: not a regular file", shown(display, SHOWN_PATH_MAX));
        goto cleanup;
    }
    if (st.st_size > (off_t)AWSCONF_INI_MAX_BYTES)
        goto too_large;
    buf = malloc((size_t)AWSCONF_INI_MAX_BYTES + 1);
    if (!buf) {
        nomem(r);
        goto cleanup;
    }
    for (;;) {
        ssize_t k = read(fd, buf + got, (size_t)AWSCONF_INI_MAX_BYTES + 1 - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            fail(r, "%s: cannot read: %s", shown(display, SHOWN_PATH_MAX), strerror(errno));
            goto cleanup;
        }
        if (k == 0)
            break;
        got += (size_t)k;
        if (got > (size_t)AWSCONF_INI_MAX_BYTES)
            goto too_large;
    }
    *text = buf;
    *len = got;
    buf = NULL;
    rc = 0;
    goto cleanup;
too_large:
    fail(r, "%s: larger than %d KiB, the most coldsec reads from an AWS config file",
         shown(display, SHOWN_PATH_MAX), AWSCONF_INI_MAX_BYTES / 1024);
cleanup:
    if (buf) {
        OPENSSL_cleanse(buf, got);
        free(buf);
    }
    close(fd);
    return rc;
}

static int load_file(resolver *r, conf_file *cf, const char *what, const char *env_name,
                     const char *default_display)
{
    const char *v = env_get(r, env_name);
    char *path = NULL, *text = NULL;
    size_t len = 0;
    int rc = -1;

    if (!v)
        v = default_display;
    cf->what = what;
    snprintf(cf->display, sizeof cf->display, "%s", v);
    path = expand_home(r, v);
    if (!path)
        goto cleanup;
    if (read_file(r, path, cf->display, &text, &len) != 0)
        goto cleanup;
    if (text) {
        cf->ini = awsconf_ini_parse(text, len, shown(cf->display, SHOWN_PATH_MAX), r->err,
                                    r->errlen);
        if (!cf->ini)
            goto cleanup;
    }
    rc = 0;
cleanup:
    if (text) {
        OPENSSL_cleanse(text, len);
        free(text);
    }
    free(path);
    return rc;
}

/*
 * The config file's section for `kind name`: botocore takes every section
 * whose name starts with kind and shlex-splits into two words, the second
 * being the name, the last such section winning; [default] is the default
 * profile too. Returns 0 (section or NULL in *out) or -1 out of memory.
 */
static int config_section_for(const awsconf_ini *ini, const char *kind, const char *name,
                              const char **out)
{
    size_t i;
    *out = NULL;
    if (!ini)
        return 0;
    for (i = 0; i < ini->nsections; i++) {
        const char *sec = ini->sections[i].name;
        char **words = NULL;
        size_t nwords = 0;
        split_status st;
        if (strcmp(kind, "profile") == 0 && strcmp(sec, "default") == 0) {
            if (strcmp(name, "default") == 0)
                *out = sec;
            continue;
        }
        if (!starts_with(sec, kind))
            continue;
        st = split_words(sec, &words, &nwords);
        if (st == SPLIT_NOMEM)
            return -1;
        if (st == SPLIT_OK && nwords == 2 && strcmp(words[1], name) == 0)
            *out = sec;
        awsconf_argv_free(words);
    }
    return 0;
}

static void config_section_hint(const char *profile, char *buf, size_t len)
{
    if (strcmp(profile, "default") == 0)
        snprintf(buf, len, "[default]");
    else
        snprintf(buf, len, "[profile %s]", shown_name(profile));
}

/* The profile's value for key: the credentials file over the config file, as botocore merges them. */
static const char *profile_get(const resolver *r, const char *key, const conf_file **from)
{
    const conf_file *files[2] = {&r->creds, &r->config};
    size_t i;
    for (i = 0; i < 2; i++) {
        const char *v = files[i]->section ? awsconf_ini_get(files[i]->ini, files[i]->section, key)
                                          : NULL;
        if (v && *v) {
            if (from)
                *from = files[i];
            return v;
        }
    }
    return NULL;
}

static int select_profile(resolver *r)
{
    char hint[HINT_MAX];
    if (opt_str(r->opt->profile)) {
        r->profile = r->opt->profile;
        r->origin = "--profile";
    } else if (env_get(r, "AWS_PROFILE")) {
        r->profile = env_get(r, "AWS_PROFILE");
        r->origin = "AWS_PROFILE";
    } else {
        r->profile = "default";
        r->origin = NULL;
    }
    if (load_file(r, &r->creds, "shared credentials file", "AWS_SHARED_CREDENTIALS_FILE",
                  "~/.aws/credentials") != 0 ||
        load_file(r, &r->config, "config file", "AWS_CONFIG_FILE", "~/.aws/config") != 0)
        return -1;
    if (ini_has_section(r->creds.ini, r->profile))
        r->creds.section = ini_section_named(r->creds.ini, r->profile)->name;
    if (config_section_for(r->config.ini, "profile", r->profile, &r->config.section) != 0)
        return nomem(r);
    /* botocore: a named profile must exist, even one named "default". */
    if (r->origin && !r->creds.section && !r->config.section) {
        config_section_hint(r->profile, hint, sizeof hint);
        return fail(r,
                    "profile \"%s\" (from %s) not found: neither %s%s has [%s] nor %s%s has %s",
                    shown_name(r->profile), r->origin, shown(r->creds.display, SHOWN_PATH_MAX),
                    r->creds.ini ? "" : " (no such file)", shown_name(r->profile),
                    shown(r->config.display, SHOWN_PATH_MAX),
                    r->config.ini ? "" : " (no such file)", hint);
    }
    return 0;
}

/* Printable ASCII without spaces: anything else cannot be a key AWS issued, and
 * a CR or LF in a token would split the HTTP header it is sent in. */
static bool credential_chars_ok(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    }
    return true;
}

static int set_credentials(resolver *r, const char *akid, const char *secret, const char *token,
                           time_t expiration, const char *source)
{
    awsconf *c = r->out;
    if (!credential_chars_ok(akid))
        return fail(r, "%s: the access key id holds a character no AWS key has", source);
    if (!credential_chars_ok(secret))
        return fail(r, "%s: the secret access key holds a character no AWS key has", source);
    if (token && !credential_chars_ok(token))
        return fail(r, "%s: the session token holds a character no AWS token has", source);
    c->access_key_id = dup_n(akid, strlen(akid));
    c->secret_access_key = dup_n(secret, strlen(secret));
    c->session_token = token ? dup_n(token, strlen(token)) : NULL;
    c->source = dup_n(source, strlen(source));
    if (!c->access_key_id || !c->secret_access_key || (token && !c->session_token) || !c->source)
        return nomem(r);
    c->expiration = expiration;
    c->creds.access_key_id = c->access_key_id;
    c->creds.secret_access_key = c->secret_access_key;
    c->creds.session_token = c->session_token;
    return 0;
}

/* 1 found, 0 none there, -1 error. */
static int from_environment(resolver *r)
{
    const char *akid = env_get(r, "AWS_ACCESS_KEY_ID");
    const char *secret = env_get(r, "AWS_SECRET_ACCESS_KEY");
    /* botocore's order: the older name first. */
    const char *token = env_get(r, "AWS_SECURITY_TOKEN");
    const char *exp = env_get(r, "AWS_CREDENTIAL_EXPIRATION");
    time_t expiration = 0;

    if (!token)
        token = env_get(r, "AWS_SESSION_TOKEN");
    if (!akid && !secret)
        return 0;
    if (!secret)
        return fail(r, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or "
                       "neither to use a profile");
    if (!akid)
        return fail(r, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or "
                       "neither to use a profile");
    if (exp) {
        if (!parse_iso8601(exp, &expiration))
            return fail(r, "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 timestamp");
        if (expiration <= time(NULL))
            return fail(r, "the credentials in the environment have expired "
                           "(AWS_CREDENTIAL_EXPIRATION is in the past)");
    }
    return set_credentials(r, akid, secret, token, expiration, "environment") == 0 ? 1 : -1;
}

/* Keys written in one file's section of the profile. 1 found, 0 none, -1 error. */
static int from_file_keys(resolver *r, const conf_file *cf)
{
    char source[MSG_MAX];
    const char *akid, *secret, *token;
    if (!cf->section)
        return 0;
    akid = awsconf_ini_get(cf->ini, cf->section, "aws_access_key_id");
    secret = awsconf_ini_get(cf->ini, cf->section, "aws_secret_access_key");
    token = awsconf_ini_get(cf->ini, cf->section, "aws_security_token");
    if (!token || !*token)
        token = awsconf_ini_get(cf->ini, cf->section, "aws_session_token");
    akid = akid && *akid ? akid : NULL;
    secret = secret && *secret ? secret : NULL;
    token = token && *token ? token : NULL;
    if (!akid && !secret)
        return 0;
    snprintf(source, sizeof source, "%s %s [profile %s]", cf->what,
             shown(cf->display, SHOWN_PATH_MAX), shown_name(r->profile));
    if (!secret)
        return fail(r, "%s has aws_access_key_id but no aws_secret_access_key", source);
    if (!akid)
        return fail(r, "%s has aws_secret_access_key but no aws_access_key_id", source);
    return set_credentials(r, akid, secret, token, 0, source) == 0 ? 1 : -1;
}

/* Strings in a credential_process's JSON hold secrets: wipe them before cJSON frees. */
static void json_cleanse(cJSON *node)
{
    for (; node; node = node->next) {
        if (node->valuestring)
            OPENSSL_cleanse(node->valuestring, strlen(node->valuestring));
        json_cleanse(node->child);
    }
}

static const char *json_string(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

/* The fixed part of a credential_process message: never anything it printed. */
typedef struct process_ctx {
    const char *profile;
    const char *program;
    const char *file;
} process_ctx;

static int process_fail(resolver *r, const process_ctx *p, const char *what)
{
    return fail(r, "credential_process of profile \"%s\" in %s: \"%s\" %s", shown_name(p->profile),
                shown(p->file, SHOWN_PATH_MAX), shown(p->program, SHOWN_PATH_MAX), what);
}

/* Botocore's contract: Version 1, AccessKeyId, SecretAccessKey, optional SessionToken and Expiration. */
static int use_process_output(resolver *r, const process_ctx *p, const char *out, size_t len,
                              const char *source)
{
    cJSON *json = jsonutil_parse_whole(out, len);
    const cJSON *version, *token_item;
    const char *akid, *secret, *token, *exp;
    time_t expiration = 0;
    int rc = -1;

    if (!cJSON_IsObject(json)) {
        process_fail(r, p,
                     "did not print a JSON object (its output is not shown: it holds secrets)");
        goto cleanup;
    }
    version = cJSON_GetObjectItemCaseSensitive(json, "Version");
    if (!cJSON_IsNumber(version) || version->valuedouble != 1.0) {
        process_fail(r, p, "printed no \"Version\": 1, the only version AWS tools support");
        goto cleanup;
    }
    akid = json_string(json, "AccessKeyId");
    secret = json_string(json, "SecretAccessKey");
    if (!akid || !*akid) {
        process_fail(r, p, "printed no AccessKeyId string");
        goto cleanup;
    }
    if (!secret || !*secret) {
        process_fail(r, p, "printed no SecretAccessKey string");
        goto cleanup;
    }
    token_item = cJSON_GetObjectItemCaseSensitive(json, "SessionToken");
    token = json_string(json, "SessionToken");
    if (token_item && !cJSON_IsNull(token_item) && !token) {
        process_fail(r, p, "printed a SessionToken that is not a string");
        goto cleanup;
    }
    exp = json_string(json, "Expiration");
    if (exp) {
        if (!parse_iso8601(exp, &expiration)) {
            process_fail(r, p, "printed an Expiration that is not an ISO 8601 timestamp");
            goto cleanup;
        }
        if (expiration <= time(NULL)) {
            process_fail(r, p,
                         "printed credentials that have already expired (Expiration is in the "
                         "past)");
            goto cleanup;
        }
    }
    rc = set_credentials(r, akid, secret, token && *token ? token : NULL, expiration, source);
cleanup:
    json_cleanse(json);
    cJSON_Delete(json);
    return rc;
}

static int from_process(resolver *r, const char *command, const conf_file *cf)
{
    char source[MSG_MAX], what[MSG_MAX];
    char **argv = NULL;
    size_t argc = 0;
    split_status st;
    proc_result res;
    proc_status ps;
    process_ctx p = {.profile = r->profile, .program = "", .file = cf->display};
    int timeout = r->opt->credential_process_timeout_s ? r->opt->credential_process_timeout_s
                                                       : AWSCONF_PROCESS_TIMEOUT_DEFAULT_S;
    int rc = -1;

    memset(&res, 0, sizeof res);
    snprintf(source, sizeof source, "credential_process [profile %s] in %s",
             shown_name(r->profile), shown(cf->display, SHOWN_PATH_MAX));
    st = split_words(command, &argv, &argc);
    if (st == SPLIT_NOMEM)
        return nomem(r);
    if (st != SPLIT_OK || argc == 0) {
        rc = fail(r, "credential_process of profile \"%s\" in %s cannot be run: %s",
                  shown_name(r->profile), shown(cf->display, SHOWN_PATH_MAX),
                  st != SPLIT_OK ? split_problem(st) : "the command is empty");
        goto cleanup;
    }
    p.program = argv[0];
    ps = run_process(argv, timeout, &res);
    switch (ps) {
    case PROC_OK:
        res.out[res.len] = '\0'; /* room was kept; cJSON is then never past the end */
        rc = use_process_output(r, &p, res.out, res.len, source);
        break;
    case PROC_SPAWN_FAILED:
        snprintf(what, sizeof what, "cannot be started: %s", strerror(res.error));
        process_fail(r, &p, what);
        break;
    case PROC_IO_FAILED:
        snprintf(what, sizeof what, "could not be read from: %s", strerror(res.error));
        process_fail(r, &p, what);
        break;
    case PROC_WAIT_FAILED:
        snprintf(what, sizeof what, "could not be waited for: %s", strerror(res.error));
        process_fail(r, &p, what);
        break;
    case PROC_TIMEOUT:
        snprintf(what, sizeof what, "did not finish within %d s and was killed", timeout);
        process_fail(r, &p, what);
        break;
    case PROC_TOO_LARGE:
        snprintf(what, sizeof what, "printed more than %d KiB; its output was discarded",
                 AWSCONF_PROCESS_OUTPUT_MAX / 1024);
        process_fail(r, &p, what);
        break;
    case PROC_EXIT_FAILED:
        if (WIFSIGNALED(res.wait_status))
            snprintf(what, sizeof what, "was killed by signal %d (its stderr, if any, is above)",
                     WTERMSIG(res.wait_status));
        else
            snprintf(what, sizeof what, "exited with status %d (its stderr, if any, is above)",
                     WEXITSTATUS(res.wait_status));
        process_fail(r, &p, what);
        break;
    case PROC_LAST:
        break;
    }
cleanup:
    if (res.out) {
        OPENSSL_cleanse(res.out, res.len);
        free(res.out);
    }
    awsconf_argv_free(argv);
    return rc;
}

/* Settings by which botocore would get credentials from STS, SSO or `aws login` before any key. */
static const char *const delegated_keys[][2] = {
    {"role_arn", "assume-role (role_arn)"},
    {"web_identity_token_file", "web identity (web_identity_token_file)"},
    {"sso_account_id", "IAM Identity Center (sso_account_id)"},
    {"sso_role_name", "IAM Identity Center (sso_role_name)"},
    {"login_session", "aws login (login_session)"},
};

/* Settings that only make sense with one of the above. */
static const char *const delegated_hints[][2] = {
    {"source_profile", "assume-role (source_profile)"},
    {"credential_source", "assume-role (credential_source)"},
    {"sso_session", "IAM Identity Center (sso_session)"},
    {"sso_start_url", "IAM Identity Center (sso_start_url)"},
};

static int unsupported(resolver *r, const char *how)
{
    return fail(r,
                "profile \"%s\" gets its credentials through %s, which coldsec does not support; "
                "add a profile with credential_process = aws configure export-credentials "
                "--profile %s --format process, and use that one",
                shown_name(r->profile), how, shown_name(r->profile));
}

static void describe_file(const resolver *r, const conf_file *cf, char *buf, size_t len)
{
    char section[HINT_MAX];
    const char *path = shown(cf->display, SHOWN_PATH_MAX);
    if (cf == &r->config)
        config_section_hint(r->profile, section, sizeof section);
    else
        snprintf(section, sizeof section, "[%s]", shown_name(r->profile));
    if (!cf->ini)
        snprintf(buf, len, "%s (no such file)", path);
    else if (!cf->section)
        snprintf(buf, len, "%s (no %s)", path, section);
    else
        snprintf(buf, len, "%s %s (no keys, no credential_process)", path, section);
}

static int resolve_credentials(resolver *r)
{
    char creds_state[MSG_MAX], config_state[MSG_MAX];
    const conf_file *from = NULL;
    const char *command;
    size_t i;
    int rc;

    /* The AWS CLI's --profile drops the environment's keys (botocore's disable_env_vars). */
    if (!opt_str(r->opt->profile)) {
        rc = from_environment(r);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        if (env_get(r, "AWS_WEB_IDENTITY_TOKEN_FILE"))
            return fail(r, "AWS_WEB_IDENTITY_TOKEN_FILE is set: botocore would assume a role with "
                           "web identity, which coldsec does not support; set AWS_ACCESS_KEY_ID "
                           "and AWS_SECRET_ACCESS_KEY, or pass --profile");
    }
    for (i = 0; i < sizeof delegated_keys / sizeof delegated_keys[0]; i++) {
        if (profile_get(r, delegated_keys[i][0], NULL))
            return unsupported(r, delegated_keys[i][1]);
    }
    rc = from_file_keys(r, &r->creds);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    command = profile_get(r, "credential_process", &from);
    if (command)
        return from_process(r, command, from);
    rc = from_file_keys(r, &r->config);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    for (i = 0; i < sizeof delegated_hints / sizeof delegated_hints[0]; i++) {
        if (profile_get(r, delegated_hints[i][0], NULL))
            return unsupported(r, delegated_hints[i][1]);
    }
    describe_file(r, &r->creds, creds_state, sizeof creds_state);
    describe_file(r, &r->config, config_state, sizeof config_state);
    return fail(r,
                "no AWS credentials for profile \"%s\": looked at %s%s and %s; set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, put aws_access_key_id and "
                "aws_secret_access_key or a credential_process in the profile, or pass --profile",
                shown_name(r->profile),
                opt_str(r->opt->profile) ? "" : "the environment (AWS_ACCESS_KEY_ID), ",
                creds_state, config_state);
}

/* botocore's validate_region_name: a DNS label, not all digits. */
static bool region_ok(const char *s)
{
    size_t n = strlen(s), i;
    bool all_digits = true;
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool digit = c >= '0' && c <= '9';
        if (!digit && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '-')
            return false;
        all_digits = all_digits && digit;
    }
    return !all_digits;
}

static int resolve_region(resolver *r)
{
    char where[MSG_MAX], hint[HINT_MAX];
    const conf_file *from = NULL;
    const char *region = opt_str(r->opt->region);

    snprintf(where, sizeof where, "--region");
    if (!region && (region = env_get(r, "AWS_REGION")) != NULL)
        snprintf(where, sizeof where, "AWS_REGION");
    if (!region && (region = env_get(r, "AWS_DEFAULT_REGION")) != NULL)
        snprintf(where, sizeof where, "AWS_DEFAULT_REGION");
    if (!region && (region = profile_get(r, "region", &from)) != NULL)
        snprintf(where, sizeof where, "region of profile \"%s\" in %s", shown_name(r->profile),
                 shown(from->display, SHOWN_PATH_MAX));
    if (!region) {
        config_section_hint(r->profile, hint, sizeof hint);
        return fail(r, "no AWS region: pass --region, set AWS_REGION, or add region = ... to %s "
                       "in %s",
                    hint, shown(r->config.display, SHOWN_PATH_MAX));
    }
    if (!region_ok(region))
        return fail(r, "the region from %s is not a valid region name", where);
    r->out->region = dup_n(region, strlen(region));
    return r->out->region ? 0 : nomem(r);
}

/* Why url cannot be a Lambda endpoint, or NULL when it can. */
static const char *endpoint_problem(const char *url)
{
    size_t skip, i, host_end;
    if (starts_with_nocase(url, "https://"))
        skip = 8;
    else if (starts_with_nocase(url, "http://"))
        skip = 7;
    else
        return "does not start with http:// or https://";
    for (i = 0; url[i]; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f)
            return "holds a space, a control or a non-ASCII character";
        if (c == '?' || c == '#')
            return "has a query or a fragment";
    }
    host_end = skip + strcspn(url + skip, "/");
    if (host_end == skip)
        return "has no host";
    if (memchr(url + skip, '@', host_end - skip))
        return "holds a user name or password";
    return NULL;
}

/* DNS suffixes of the partitions whose regions are named apart. */
static const char *dns_suffix(const char *region)
{
    static const char *const map[][2] = {
        {"cn-", "amazonaws.com.cn"},       {"us-iso-", "c2s.ic.gov"},
        {"us-isob-", "sc2s.sgov.gov"},     {"us-isof-", "csp.hci.ic.gov"},
        {"eu-isoe-", "cloud.adc-e.uk"},
    };
    size_t i;
    for (i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (starts_with(region, map[i][0]))
            return map[i][1];
    }
    return "amazonaws.com";
}

static bool is_true(const char *v)
{
    return v && ascii_case_eq(v, "true");
}

static int resolve_endpoint(resolver *r)
{
    char where[MSG_MAX], hint[HINT_MAX];
    const conf_file *from = NULL;
    const char *url = opt_str(r->opt->endpoint), *problem, *services, *ignore;
    const char *services_section = NULL;
    char *e;
    size_t n, scheme;

    snprintf(where, sizeof where, "--endpoint");
    ignore = env_get(r, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    if (!ignore)
        ignore = profile_get(r, "ignore_configured_endpoint_urls", NULL);
    if (!url && !is_true(ignore)) {
        if ((url = env_get(r, "AWS_ENDPOINT_URL_LAMBDA")) != NULL) {
            snprintf(where, sizeof where, "AWS_ENDPOINT_URL_LAMBDA");
        } else if ((url = env_get(r, "AWS_ENDPOINT_URL")) != NULL) {
            snprintf(where, sizeof where, "AWS_ENDPOINT_URL");
        } else if ((services = profile_get(r, "services", &from)) != NULL) {
            if (config_section_for(r->config.ini, "services", services, &services_section) != 0)
                return nomem(r);
            if (!services_section) {
                config_section_hint(r->profile, hint, sizeof hint);
                return fail(r, "%s in %s sets services = %s, but %s has no [services %s] section",
                            hint, shown(from->display, SHOWN_PATH_MAX), shown_name(services),
                            shown(r->config.display, SHOWN_PATH_MAX), shown_name(services));
            }
            url = ini_get_nested(r->config.ini, services_section, "lambda", "endpoint_url");
            url = url && *url ? url : NULL;
            if (url)
                snprintf(where, sizeof where, "lambda endpoint_url of [%s] in %s",
                         shown_name(services_section), shown(r->config.display, SHOWN_PATH_MAX));
        }
        if (!url && (url = profile_get(r, "endpoint_url", &from)) != NULL)
            snprintf(where, sizeof where, "endpoint_url of profile \"%s\" in %s",
                     shown_name(r->profile), shown(from->display, SHOWN_PATH_MAX));
    }
    if (!url) {
        const char *suffix = dns_suffix(r->out->region);
        n = strlen("https://lambda.") + strlen(r->out->region) + 1 + strlen(suffix) + 1;
        r->out->endpoint = malloc(n);
        if (!r->out->endpoint)
            return nomem(r);
        snprintf(r->out->endpoint, n, "https://lambda.%s.%s", r->out->region, suffix);
        return 0;
    }
    /* The URL is not echoed: it may hold a token in its path. */
    problem = endpoint_problem(url);
    if (problem)
        return fail(r, "the endpoint from %s %s", where, problem);
    n = strlen(url);
    if (url[n - 1] == '/')
        n--;
    e = dup_n(url, n);
    if (!e)
        return nomem(r);
    /* Lower-case scheme, so "starts with http://" is all a caller checks to warn. */
    scheme = strcspn(e, ":");
    for (n = 0; n < scheme; n++)
        e[n] = (char)ascii_lower((unsigned char)e[n]);
    r->out->endpoint = e;
    return 0;
}

static int resolve_ca_bundle(resolver *r)
{
    const char *ca = opt_str(r->opt->ca_bundle);
    if (!ca)
        ca = env_get(r, "AWS_CA_BUNDLE");
    if (!ca)
        ca = profile_get(r, "ca_bundle", NULL);
    if (!ca)
        return 0;
    r->out->ca_bundle = dup_n(ca, strlen(ca));
    return r->out->ca_bundle ? 0 : nomem(r);
}

int awsconf_resolve(const awsconf_options *opt, awsconf **out, char *err, size_t errlen)
{
    resolver r;
    int rc = -1;

    if (out)
        *out = NULL;
    if (!opt || !out) {
        set_err(err, errlen, "awsconf_resolve: no options or no result pointer");
        return -1;
    }
    if (opt->credential_process_timeout_s < 0) {
        set_err(err, errlen, "credential_process timeout must be 0 (default) or more seconds");
        return -1;
    }
    memset(&r, 0, sizeof r);
    r.opt = opt;
    r.err = err;
    r.errlen = errlen;
    r.out = calloc(1, sizeof *r.out);
    if (!r.out) {
        nomem(&r);
        goto cleanup;
    }
    if (select_profile(&r) != 0 || resolve_credentials(&r) != 0 || resolve_region(&r) != 0 ||
        resolve_endpoint(&r) != 0 || resolve_ca_bundle(&r) != 0)
        goto cleanup;
    *out = r.out;
    r.out = NULL;
    rc = 0;
cleanup:
    awsconf_free(r.out);
    awsconf_ini_free(r.creds.ini);
    awsconf_ini_free(r.config.ini);
    return rc;
}

const sigv4_credentials *awsconf_credentials(const awsconf *c)
{
    return c ? &c->creds : NULL;
}

time_t awsconf_expiration(const awsconf *c)
{
    return c ? c->expiration : 0;
}

const char *awsconf_region(const awsconf *c)
{
    return c ? c->region : NULL;
}

const char *awsconf_endpoint(const awsconf *c)
{
    return c ? c->endpoint : NULL;
}

const char *awsconf_ca_bundle(const awsconf *c)
{
    return c ? c->ca_bundle : NULL;
}

const char *awsconf_source(const awsconf *c)
{
    return c ? c->source : NULL;
}

void awsconf_free(awsconf *c)
{
    if (!c)
        return;
    free(c->access_key_id);
    cleanse_free(c->secret_access_key);
    cleanse_free(c->session_token);
    free(c->region);
    free(c->endpoint);
    free(c->ca_bundle);
    free(c->source);
    free(c);
}
