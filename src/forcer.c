/*
 * forcer — cold starts by configuration change, journaled and restored (see
 * forcer.h). The rule that keeps a user's configuration safe: we only ever
 * write a map we computed from one we just read, with that read's RevisionId
 * as precondition, and a restore writes back only when the current map
 * minus our additions is, by digest, exactly the original.
 */
#include "forcer.h"

#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "canary.h"
#include "fnconfig.h"
#include "journal.h"
#include "monotime.h"
#include "rundir.h"

struct forcer {
    lambda_client *c;
    forcer_options o;
    journal *j;
    char journal_path[4096];
};

static FILE *out_of(const forcer_options *o) { return o->out ? o->out : stderr; }

static void test_stop(const forcer_options *o, const char *step)
{
    if (o->stop_at && strcmp(o->stop_at, step) == 0) {
        fflush(NULL);
        raise(SIGSTOP);
    }
}

size_t forcer_env_size(const cJSON *vars)
{
    char *text = cJSON_PrintUnformatted(vars);
    size_t n = text ? strlen(text) : (size_t)-1;
    free(text);
    return n;
}

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *vars_of(const cJSON *config)
{
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(config, "Environment");
    return cJSON_GetObjectItemCaseSensitive(env, "Variables");
}

static void api_error(const lambda_error *e, char *err, size_t errlen)
{
    lambda_error_format(e, err, errlen);
}

/*
 * Polls GetFunctionConfiguration until LastUpdateStatus leaves InProgress:
 * first after 100 ms, doubling to 5 s (AWS's own waiter polls every 5 s;
 * a short first poll saves most of that on the lab and on quick updates).
 * On success *config is the final configuration (caller deletes).
 */
static forcer_status wait_updated(lambda_client *c, const forcer_options *o, const char *function,
                                  bool honour_stop, bool failed_ok, cJSON **config, char *err, size_t errlen)
{
    long delay = 100, limit = o->wait_timeout_ms > 0 ? o->wait_timeout_ms : 600000;
    double t0 = monotime_ms();
    lambda_error e;

    *config = NULL;
    for (;;) {
        const char *st;
        if (lambda_get_configuration(c, function, NULL, config, &e) != 0) {
            api_error(&e, err, errlen);
            return FORCER_FAILED;
        }
        st = str_of(*config, "LastUpdateStatus");
        if (!st || strcmp(st, "Successful") == 0 || (failed_ok && strcmp(st, "Failed") == 0))
            return FORCER_OK;
        if (strcmp(st, "Failed") == 0 && !failed_ok) {
            snprintf(err, errlen, "UpdateFunctionConfiguration %s: LastUpdateStatus Failed: %s (%s)", function,
                     str_of(*config, "LastUpdateStatusReason") ? str_of(*config, "LastUpdateStatusReason") : "no reason given",
                     str_of(*config, "LastUpdateStatusReasonCode") ? str_of(*config, "LastUpdateStatusReasonCode") : "-");
            return FORCER_FAILED;
        }
        cJSON_Delete(*config);
        *config = NULL;
        if (honour_stop && o->stop && *o->stop) {
            snprintf(err, errlen, "interrupted while waiting for %s's update to finish", function);
            return FORCER_FAILED;
        }
        if (monotime_ms() - t0 > (double)limit) {
            snprintf(err, errlen, "GetFunctionConfiguration %s: LastUpdateStatus still InProgress after %ld s",
                     function, limit / 1000);
            return FORCER_FAILED;
        }
        monotime_sleep_ms(delay);
        delay = delay * 2 > 5000 ? 5000 : delay * 2;
    }
}

static bool is_protected(const forcer_options *o, const char *name)
{
    static const char *const dflt[] = {"*prod*"};
    const char *const *pats = o->protected_patterns ? o->protected_patterns : dflt;
    size_t n = o->protected_patterns ? o->nprotected : 1;
    for (size_t i = 0; i < n; i++)
        if (fnmatch(pats[i], name, FNM_CASEFOLD) == 0)
            return true;
    return false;
}

/*
 * A qualifier (name:alias, ARN:version) names a published version, whose
 * configuration is immutable
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html);
 * UpdateFunctionConfiguration changes $LATEST only, so no cold start can be
 * forced there. ":$LATEST" counts as qualified too: the forcer reads and
 * restores the configuration by the unqualified name only.
 */
const char *forcer_target_qualifier(const char *function)
{
    const char *p = function, *last = NULL;
    int colons = 0;
    bool qualified;

    for (; *p; p++)
        if (*p == ':') {
            colons++;
            last = p;
        }
    if (strncmp(function, "arn:", 4) == 0)
        qualified = colons >= 7;
    else /* name:qualifier, or ACCOUNT:function:name:qualifier */
        qualified = colons == 1 || colons >= 3;
    if (!qualified || !last)
        return NULL;
    return last + 1;
}

int forcer_target_unqualified(const char *function, char *out, size_t len)
{
    const char *q = forcer_target_qualifier(function);
    size_t n = q ? (size_t)(q - 1 - function) : strlen(function);

    if (n >= len)
        return -1;
    memcpy(out, function, n);
    out[n] = '\0';
    return 0;
}

/* The configuration read must be the one asked for: a name, a full ARN or
 * a partial ARN (ACCOUNT:function:NAME) of it. */
static bool answers_for(const char *asked, const char *name, const char *arn)
{
    size_t al = strlen(asked), rl = arn ? strlen(arn) : 0;
    if (strncmp(asked, "arn:", 4) == 0)
        return arn && strcmp(asked, arn) == 0;
    if (strchr(asked, ':'))
        return arn && rl > al && arn[rl - al - 1] == ':' && strcmp(arn + rl - al, asked) == 0;
    return strcmp(asked, name) == 0;
}

static void print_names(FILE *f, const cJSON *vars)
{
    const cJSON *it;
    int n = 0;
    cJSON_ArrayForEach(it, vars) {
        fprintf(f, "%s%s", n++ ? ", " : "", it->string);
    }
    if (!n)
        fprintf(f, "(none)");
}

forcer_status forcer_begin(lambda_client *c, const forcer_options *o, forcer **out, char *err, size_t errlen)
{
    forcer *f = NULL;
    cJSON *config = NULL, *added = NULL, *body = NULL, *vars = NULL, *resp = NULL;
    const cJSON *orig, *it, *env;
    const char *name, *arn, *rev, *st;
    forcer_status rc = FORCER_REFUSED;
    lambda_error e;
    FILE *msg = out_of(o);
    char nonce[CANARY_LEN + 1];

    *out = NULL;
    if (forcer_target_qualifier(o->function)) {
        snprintf(err, errlen, "%s: names a version or alias; a configuration change reaches only $LATEST, "
                 "so no cold start can be forced there: target the unqualified function", o->function);
        return FORCER_REFUSED;
    }
    if (!o->allow_mutation && !o->dry_run) {
        snprintf(err, errlen, "%s: forcing a cold start changes the function's configuration (and restores it); "
                 "the target must opt in (allow_mutation: true in its config) or pass --allow-mutation", o->function);
        return FORCER_REFUSED;
    }
    if (is_protected(o, o->function) && !o->allow_protected) {
        snprintf(err, errlen, "%s: matches a protected pattern (default *prod*); refusing to change it. "
                 "Pass --allow-protected if this really is a test function", o->function);
        return FORCER_REFUSED;
    }
    if (lambda_get_configuration(c, o->function, NULL, &config, &e) != 0) {
        api_error(&e, err, errlen);
        return FORCER_FAILED;
    }
    st = str_of(config, "LastUpdateStatus");
    if (st && strcmp(st, "InProgress") == 0) {
        fprintf(msg, "coldsec: %s: an update is in progress; waiting for it before reading the configuration\n",
                o->function);
        cJSON_Delete(config);
        if ((rc = wait_updated(c, o, o->function, true, true, &config, err, errlen)) != FORCER_OK)
            goto cleanup;
        rc = FORCER_REFUSED;
    }
    name = str_of(config, "FunctionName");
    arn = str_of(config, "FunctionArn");
    rev = str_of(config, "RevisionId");
    if (!name || !rev) {
        snprintf(err, errlen, "GetFunctionConfiguration %s: the answer has no FunctionName or RevisionId; "
                 "cannot change it safely", o->function);
        rc = FORCER_FAILED;
        goto cleanup;
    }
    if (!answers_for(o->function, name, arn)) {
        snprintf(err, errlen, "GetFunctionConfiguration %s: the endpoint answered for another function (%s); "
                 "refusing to change anything", o->function, arn ? arn : name);
        rc = FORCER_FAILED;
        goto cleanup;
    }
    if (is_protected(o, name) && !o->allow_protected) {
        snprintf(err, errlen, "%s: function %s matches a protected pattern (default *prod*); refusing to change it. "
                 "Pass --allow-protected if this really is a test function", o->function, name);
        goto cleanup;
    }
    if (fnconfig_is_managed(config)) {
        /* https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-version-publishing.html:
         * a configuration change reaches running Managed Instances
         * environments only through a published version, and publishing
         * would deploy whatever $LATEST holds. Nothing is changed. */
        snprintf(err, errlen, "%s: a Lambda Managed Instances function (CapacityProviderConfig): a configuration "
                 "change does not replace its environments (only publishing a version does, and coldsec never "
                 "publishes a version of your function); no cold start can be forced, nothing was changed", name);
        goto cleanup;
    }
    st = str_of(config, "State");
    if (st && strcmp(st, "Failed") == 0) {
        snprintf(err, errlen, "%s: State is Failed (%s); fix the function first", name,
                 str_of(config, "StateReason") ? str_of(config, "StateReason") : "no reason given");
        goto cleanup;
    }
    env = cJSON_GetObjectItemCaseSensitive(config, "Environment");
    if (cJSON_GetObjectItemCaseSensitive(env, "Error")) {
        const cJSON *er = cJSON_GetObjectItemCaseSensitive(env, "Error");
        snprintf(err, errlen, "%s: the environment could not be read whole (%s: %s); coldsec never writes an "
                 "environment it could not read. Fix the KMS access (kms:Decrypt on %s) or run without a cold start",
                 name, str_of(er, "ErrorCode") ? str_of(er, "ErrorCode") : "Error",
                 str_of(er, "Message") ? str_of(er, "Message") : "no message",
                 str_of(config, "KMSKeyArn") ? str_of(config, "KMSKeyArn") : "the function's key");
        goto cleanup;
    }
    orig = vars_of(config);
    if (orig && !cJSON_IsObject(orig)) {
        snprintf(err, errlen, "%s: Environment.Variables is not an object; cannot change it safely", name);
        goto cleanup;
    }
    cJSON_ArrayForEach(it, orig) {
        if (!cJSON_IsString(it)) {
            snprintf(err, errlen, "%s: variable %s is not a string; cannot change it safely", name, it->string);
            goto cleanup;
        }
    }
    if (cJSON_GetObjectItemCaseSensitive(orig, FORCER_NONCE_VAR)) {
        snprintf(err, errlen, "%s: already carries %s from an earlier coldsec run that was not restored; "
                 "finish it with `coldsec restore reports/<run>/journal.json` first", name, FORCER_NONCE_VAR);
        goto cleanup;
    }
    /* The nonce is a canary like any other: random, and findable if it leaks. */
    if (canary_new(nonce, sizeof(nonce)) != 0) {
        snprintf(err, errlen, "OpenSSL's RNG failed");
        rc = FORCER_FAILED;
        goto cleanup;
    }
    added = cJSON_CreateObject();
    vars = orig ? cJSON_Duplicate(orig, 1) : cJSON_CreateObject();
    if (!added || !vars || !cJSON_AddStringToObject(added, FORCER_NONCE_VAR, nonce)) {
        snprintf(err, errlen, "out of memory");
        rc = FORCER_FAILED;
        goto cleanup;
    }
    for (size_t i = 0; i < o->ncanaries; i++) {
        if (cJSON_GetObjectItemCaseSensitive(orig, o->canary_names[i]) ||
            cJSON_GetObjectItemCaseSensitive(added, o->canary_names[i])) {
            snprintf(err, errlen, "%s: canary variable %s already exists; refusing to shadow it", name,
                     o->canary_names[i]);
            goto cleanup;
        }
        cJSON_AddStringToObject(added, o->canary_names[i], o->canary_values[i]);
    }
    cJSON_ArrayForEach(it, added) {
        cJSON_AddStringToObject(vars, it->string, it->valuestring);
    }
    if (forcer_env_size(vars) > FORCER_MAX_ENV_BYTES) {
        snprintf(err, errlen, "%s: its variables plus coldsec's would be %zu bytes (now %zu); Lambda allows %d. "
                 "Nothing was changed", name, forcer_env_size(vars), orig ? forcer_env_size(orig) : 2,
                 FORCER_MAX_ENV_BYTES);
        goto cleanup;
    }
    f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        rc = FORCER_FAILED;
        goto cleanup;
    }
    f->c = c;
    f->o = *o;
    snprintf(f->journal_path, sizeof(f->journal_path), "%s/journal.json", o->run_dir);

    fprintf(msg, "coldsec: plan for %s (%s, %s)\n", name, arn ? arn : "-", lambda_client_region(c));
    fprintf(msg, "  read:    RevisionId %s; %d variable%s: ", rev, cJSON_GetArraySize(orig),
            cJSON_GetArraySize(orig) == 1 ? "" : "s");
    print_names(msg, orig);
    fprintf(msg, "\n  journal: %s\n  update:  add ", f->journal_path);
    print_names(msg, added);
    fprintf(msg, " (precondition RevisionId %s); wait for LastUpdateStatus Successful\n", rev);
    fprintf(msg, "  restore: the original variables, at the end of the run, on SIGINT/SIGTERM, or with "
                 "`coldsec restore %s`\n", f->journal_path);
    if (o->dry_run) {
        fprintf(msg, "coldsec: dry run: nothing was changed\n");
        rc = FORCER_DRY_RUN;
        goto cleanup;
    }

    if (rundir_create(o->run_dir, err, errlen) != 0) {
        rc = FORCER_FAILED;
        goto cleanup;
    }
    {
        journal_info ji = {.function = o->function, .function_arn = arn, .region = lambda_client_region(c),
                           .endpoint = lambda_client_endpoint(c), .original_revision = rev,
                           .original_vars = orig, .added_vars = added};
        f->j = journal_new(f->journal_path, &ji);
    }
    if (!f->j || journal_write(f->j, err, errlen) != 0) {
        if (!f->j)
            snprintf(err, errlen, "out of memory");
        rc = FORCER_FAILED;
        goto cleanup;
    }
    test_stop(o, "journal-written");

    body = cJSON_CreateObject();
    if (!body) {
        snprintf(err, errlen, "out of memory");
        rc = FORCER_FAILED;
        goto cleanup;
    }
    {
        cJSON *envo = cJSON_AddObjectToObject(body, "Environment");
        cJSON_AddItemToObject(envo, "Variables", vars);
        vars = NULL;
        cJSON_AddStringToObject(body, "RevisionId", rev);
    }
    if (lambda_update_configuration(c, o->function, body, &resp, &e) != 0) {
        api_error(&e, err, errlen);
        if (e.http_status == 412 || (e.http_status >= 400 && e.http_status < 500 && e.http_status != 408)) {
            /* Refused: nothing changed. */
            char werr[512];
            journal_set_state(f->j, JOURNAL_NOT_APPLIED, NULL, err);
            if (journal_write(f->j, werr, sizeof(werr)) != 0)
                fprintf(msg, "coldsec: %s\n", werr);
            if (e.http_status == 412) {
                size_t n = strlen(err);
                snprintf(err + n, errlen - n, " (the function changed between our read and our update; "
                         "nothing was changed, try again)");
            }
            rc = FORCER_FAILED;
            goto cleanup;
        }
        /* No clear answer: the update may have landed. The restore looks. */
        rc = FORCER_FAILED;
        *out = f;
        f = NULL;
        goto cleanup;
    }
    journal_set_state(f->j, JOURNAL_UPDATED, str_of(resp, "RevisionId"), "update accepted");
    if (journal_write(f->j, err, errlen) != 0) {
        rc = FORCER_FAILED;
        *out = f;
        f = NULL;
        goto cleanup;
    }
    cJSON_Delete(resp);
    resp = NULL;
    fprintf(msg, "coldsec: %s: update accepted; waiting for LastUpdateStatus Successful\n", name);
    test_stop(o, "waiting");
    rc = wait_updated(c, o, o->function, true, false, &resp, err, errlen);
    if (rc == FORCER_OK) {
        /* The RevisionId can move when the update completes: ours is the
         * one the finished configuration shows. */
        journal_set_state(f->j, JOURNAL_UPDATED, str_of(resp, "RevisionId"), "update Successful");
        if (journal_write(f->j, err, errlen) != 0)
            rc = FORCER_FAILED;
    }
    *out = f;
    f = NULL;
cleanup:
    forcer_free(f);
    cJSON_Delete(config);
    cJSON_Delete(added);
    cJSON_Delete(vars);
    cJSON_Delete(body);
    cJSON_Delete(resp);
    return rc;
}

/* The current map minus what we added (a new object), or NULL. */
static cJSON *without_added(const journal *j, const cJSON *vars)
{
    cJSON *base = cJSON_CreateObject();
    const cJSON *it;
    if (!base)
        return NULL;
    cJSON_ArrayForEach(it, vars) {
        if (!cJSON_GetObjectItemCaseSensitive(journal_added(j), it->string) && cJSON_IsString(it))
            cJSON_AddStringToObject(base, it->string, it->valuestring);
    }
    return base;
}

static void conflict_advice(FILE *msg, const journal *j, const char *function, const cJSON *vars)
{
    const cJSON *it;
    fprintf(msg,
            "coldsec: CONFLICT: %s was changed by someone else while coldsec held it; coldsec did NOT "
            "overwrite that change.\n"
            "  journal: %s\n"
            "  what to do: look at the function's variables now", function, journal_path(j));
    fprintf(msg, "; remove the ones coldsec added if they are still there (");
    {
        int n = 0;
        cJSON_ArrayForEach(it, journal_added(j)) {
            fprintf(msg, "%s%s%s", n++ ? ", " : "", it->string,
                    cJSON_GetObjectItemCaseSensitive(vars, it->string) ? " [present]" : " [gone]");
        }
    }
    fprintf(msg, "), e.g. with `aws lambda update-function-configuration --function-name %s --environment ...`; "
                 "then check with whoever made the other change.\n", function);
}

static forcer_status restore_with(lambda_client *c, journal *j, const forcer_options *o, char *err, size_t errlen)
{
    FILE *msg = out_of(o);
    const char *function = journal_function(j);
    cJSON *config = NULL, *base = NULL, *body = NULL, *resp = NULL;
    const cJSON *vars;
    const char *rev, *ours;
    forcer_status rc = FORCER_NOT_RESTORED;
    lambda_error e;
    char werr[512];

    if (journal_get_state(j) == JOURNAL_RESTORED || journal_get_state(j) == JOURNAL_NOT_APPLIED) {
        fprintf(msg, "coldsec: %s: journal %s says %s; nothing to do\n", function, journal_path(j),
                journal_state_name(journal_get_state(j)));
        return FORCER_OK;
    }
    for (int tries = 0; tries < 5; tries++) {
        cJSON_Delete(config);
        config = NULL;
        /* A failed update of ours still needs undoing: Failed is not an error here. */
        if (wait_updated(c, o, function, false, true, &config, err, errlen) != FORCER_OK)
            goto cleanup;
        vars = vars_of(config);
        rev = str_of(config, "RevisionId");
        ours = journal_ours_revision(j);
        if (!journal_has_added(j, vars)) {
            if (journal_is_original(j, vars)) {
                fprintf(msg, "coldsec: %s: the original variables are in place (our update %s)\n", function,
                        journal_get_state(j) == JOURNAL_PLANNED ? "never landed" : "was already undone");
                journal_set_state(j, JOURNAL_RESTORED, NULL, "original variables found in place");
                rc = journal_write(j, err, errlen) == 0 ? FORCER_OK : FORCER_NOT_RESTORED;
                goto cleanup;
            }
            break; /* conflict */
        }
        base = without_added(j, vars);
        if (!base) {
            snprintf(err, errlen, "out of memory");
            goto cleanup;
        }
        if (!journal_is_original(j, base))
            break; /* conflict: an original variable was changed meanwhile */
        if (ours && rev && strcmp(ours, rev) != 0)
            fprintf(msg, "coldsec: %s: RevisionId moved from ours (%s) to %s, but the variables are exactly "
                         "ours; restoring only the variables, which leaves any other change in place\n",
                    function, ours, rev);
        body = cJSON_CreateObject();
        if (!body) {
            snprintf(err, errlen, "out of memory");
            goto cleanup;
        }
        cJSON_AddItemToObject(cJSON_AddObjectToObject(body, "Environment"), "Variables", base);
        base = NULL;
        cJSON_AddStringToObject(body, "RevisionId", rev ? rev : "");
        if (lambda_update_configuration(c, function, body, &resp, &e) != 0) {
            cJSON_Delete(body);
            body = NULL;
            if (e.http_status == 412)
                continue; /* it moved under us: read again and re-check */
            api_error(&e, err, errlen);
            goto cleanup;
        }
        cJSON_Delete(body);
        body = NULL;
        cJSON_Delete(resp);
        resp = NULL;
        cJSON_Delete(config);
        config = NULL;
        if (wait_updated(c, o, function, false, false, &config, err, errlen) != FORCER_OK)
            goto cleanup;
        if (!journal_is_original(j, vars_of(config))) {
            snprintf(err, errlen, "%s: after the restore the variables are not the original ones; "
                     "someone changed them at the same moment", function);
            break;
        }
        journal_set_state(j, JOURNAL_RESTORED, NULL, "original variables restored");
        if (journal_write(j, err, errlen) != 0)
            fprintf(msg, "coldsec: %s: restored, but the journal could not be updated\n", function);
        fprintf(msg, "coldsec: %s: original variables restored\n", function);
        rc = FORCER_OK;
        goto cleanup;
    }
    conflict_advice(msg, j, function, config ? vars_of(config) : NULL);
    journal_set_state(j, JOURNAL_CONFLICT, NULL, "changed by someone else; not overwritten");
    journal_write(j, werr, sizeof(werr));
    snprintf(err, errlen, "%s: changed by someone else during the run; not overwritten (journal %s)", function,
             journal_path(j));
    rc = FORCER_CONFLICT;
cleanup:
    cJSON_Delete(config);
    cJSON_Delete(base);
    cJSON_Delete(body);
    cJSON_Delete(resp);
    return rc;
}

forcer_status forcer_restore(forcer *f, char *err, size_t errlen)
{
    test_stop(&f->o, "before-restore");
    return restore_with(f->c, f->j, &f->o, err, errlen);
}

forcer_status forcer_restore_journal(lambda_client *c, const char *journal_path, FILE *out, char *err,
                                     size_t errlen)
{
    char lerr[512];
    journal *j = journal_load(journal_path, lerr, sizeof(lerr));
    forcer_options o = {.out = out};
    forcer_status rc;

    if (!j) {
        snprintf(err, errlen, "%s", lerr);
        return FORCER_FAILED;
    }
    rc = restore_with(c, j, &o, err, errlen);
    journal_free(j);
    return rc;
}

const char *forcer_journal_path(const forcer *f) { return f->journal_path; }

void forcer_free(forcer *f)
{
    if (!f)
        return;
    journal_free(f->j);
    free(f);
}
