/*
 * fanout — the invocation engine (see fanout.h).
 *
 * One loop: start calls while under the in-flight limit, re-attempt calls
 * whose backoff has elapsed, let libcurl move bytes, collect finished
 * transfers. A call waiting for its retry still holds its slot, so the
 * limit bounds everything alive, not only what is on the wire. Each slot
 * carries the item it will hand to on_done, so nothing grows with n.
 */
#include "fanout.h"

#include "monotime.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    lambda_call *call;   /* NULL: free */
    fanout_item item;
    double due_ms;       /* > 0: waiting to be re-attempted at this time */
} slot;

typedef struct run {
    lambda_client *c;
    const fanout_options *o;
    size_t n, next;
    CURLM *multi;
    slot *slots;
    int nslots, alive;
    double limit;        /* AIMD in-flight limit, 1..max_in_flight */
    double t0;
    fanout_stats *st;
} run;

static void item_clear(fanout_item *it)
{
    lambda_response_clear(&it->resp);
    free(it->err);
    free(it->log);
    memset(it, 0, sizeof(*it));
}

static void deliver(run *r, fanout_item *it)
{
    if (r->o->on_done)
        r->o->on_done(r->o->ctx, it);
    item_clear(it);
}

static void finish(run *r, slot *s, fanout_state state)
{
    fanout_item *it = &s->item;

    it->state = state;
    it->end_ms = monotime_ms() - r->t0;
    if (state == FANOUT_OK) {
        lambda_call_take_response(s->call, &it->resp);
        if (it->resp.log_result) {
            char *log = NULL;
            size_t len = 0;
            if (logtail_decode(it->resp.log_result, strlen(it->resp.log_result), &log, &len) == 0) {
                it->log = log;
                it->log_len = len;
                logtail_parse_for(log, len, it->resp.request_id, &it->report);
            }
        }
        it->cold = it->report.present && it->report.has_init;
        r->st->ok++;
        if (it->resp.function_error)
            r->st->function_errors++;
        if (!it->report.present)
            r->st->unknown_temperature++;
        else if (it->cold)
            r->st->cold++;
        else
            r->st->warm++;
    } else {
        it->err = malloc(sizeof(*it->err));
        if (it->err)
            *it->err = *lambda_call_error(s->call);
        if (state == FANOUT_CANCELLED)
            r->st->cancelled++;
        else
            r->st->failed++;
    }
    lambda_call_free(s->call);
    s->call = NULL;
    s->due_ms = 0;
    r->alive--;
    deliver(r, it);
}

static int attempt(run *r, slot *s, char *err, size_t errlen)
{
    CURL *e = lambda_call_attempt(s->call, err, errlen);
    s->due_ms = 0;
    if (!e)
        return -1;
    if (curl_multi_add_handle(r->multi, e) != CURLM_OK) {
        snprintf(err, errlen, "libcurl: cannot add a transfer");
        return -1;
    }
    return 0;
}

static int start_next(run *r, char *err, size_t errlen)
{
    slot *s = NULL;
    fanout_request fr = {0};
    lambda_invoke_request req = {
        .function = r->o->function, .qualifier = r->o->qualifier,
        .type = LAMBDA_INVOKE_REQUEST_RESPONSE, .log_tail = r->o->log_tail,
        .max_payload = r->o->max_payload,
    };

    for (int i = 0; i < r->nslots; i++) {
        if (!r->slots[i].call) {
            s = &r->slots[i];
            break;
        }
    }
    if (!s) {
        snprintf(err, errlen, "internal: no free slot");
        return -1;
    }
    if (r->o->prepare(r->o->ctx, r->next, &fr) != 0) {
        snprintf(err, errlen, "cannot prepare invocation %zu", r->next);
        return -1;
    }
    req.payload = fr.payload;
    req.payload_len = fr.payload_len;
    s->item.index = r->next++;
    s->item.tag = fr.tag;
    s->item.start_ms = monotime_ms() - r->t0;
    if (r->o->http_url) {
        lambda_http_request hr = {.url = r->o->http_url, .body = fr.payload, .body_len = fr.payload_len,
                                  .sign = r->o->http_sign, .function = r->o->function,
                                  .max_payload = r->o->max_payload};
        s->call = lambda_call_http(r->c, &hr);
    } else {
        s->call = lambda_call_invoke(r->c, &req);
    }
    if (!s->call) {
        /* The tag still goes back, so the caller can free it. */
        s->item.state = FANOUT_FAILED;
        deliver(r, &s->item);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->alive++;
    if (r->alive > r->st->peak_in_flight)
        r->st->peak_in_flight = r->alive;
    return attempt(r, s, err, errlen);
}

static void on_transfer_done(run *r, CURL *e, CURLcode rc)
{
    slot *s = NULL;
    lambda_call *call = NULL;
    long wait;

    curl_easy_getinfo(e, CURLINFO_PRIVATE, &call);
    curl_multi_remove_handle(r->multi, e);
    for (int i = 0; i < r->nslots; i++) {
        if (r->slots[i].call == call) {
            s = &r->slots[i];
            break;
        }
    }
    if (!s)
        return;
    switch (lambda_call_done(call, rc, &wait)) {
    case LAMBDA_CALL_OK:
        /* Additive increase: about one more slot per round of successes. */
        r->limit += 1.0 / r->limit;
        if (r->limit > r->o->max_in_flight)
            r->limit = r->o->max_in_flight;
        finish(r, s, FANOUT_OK);
        break;
    case LAMBDA_CALL_RETRY:
        r->st->retries++;
        if (lambda_call_error(call)->http_status == 429) {
            r->st->throttled++;
            r->limit = r->limit / 2 < 1 ? 1 : r->limit / 2;
        }
        s->due_ms = monotime_ms() + (double)wait;
        break;
    case LAMBDA_CALL_FAILED:
        finish(r, s, FANOUT_FAILED);
        break;
    }
}

static void cancel_all(run *r)
{
    for (int i = 0; i < r->nslots; i++) {
        slot *s = &r->slots[i];
        if (!s->call)
            continue;
        if (s->due_ms == 0) {
            /* In flight: take the call's easy handle off the multi. */
            CURL *e = lambda_call_handle(s->call);
            if (e)
                curl_multi_remove_handle(r->multi, e);
        }
        finish(r, s, FANOUT_CANCELLED);
    }
}

int fanout_run(lambda_client *c, const fanout_options *o, size_t n, fanout_stats *stats, char *err,
               size_t errlen)
{
    run r = {.c = c, .o = o, .n = n, .st = stats};
    int rc = -1;

    memset(stats, 0, sizeof(*stats));
    if (o->max_in_flight <= 0 || !o->prepare) {
        snprintf(err, errlen, "fan-out needs a prepare callback and at least 1 invocation in flight");
        return -1;
    }
    r.nslots = o->max_in_flight;
    r.limit = o->max_in_flight;
    r.slots = calloc((size_t)r.nslots, sizeof(*r.slots));
    r.multi = curl_multi_init();
    if (!r.slots || !r.multi) {
        snprintf(err, errlen, "out of memory");
        goto cleanup;
    }
    curl_multi_setopt(r.multi, CURLMOPT_MAXCONNECTS, (long)r.nslots);
    r.t0 = monotime_ms();
    for (;;) {
        int running = 0, left = 0, timeout = 1000;
        CURLMsg *m;
        double t;

        if ((o->stop && *o->stop) || (o->halt && *o->halt)) {
            cancel_all(&r);
            /* What never started is reported as cancelled too, so every
             * invocation of the plan reaches on_done exactly once. */
            for (; r.next < n; r.next++) {
                fanout_item it = {.index = r.next, .state = FANOUT_CANCELLED};
                stats->cancelled++;
                deliver(&r, &it);
            }
            break;
        }
        while (r.next < n && r.alive < (int)r.limit) {
            if (start_next(&r, err, errlen) != 0)
                goto cleanup;
        }
        t = monotime_ms();
        for (int i = 0; i < r.nslots; i++) {
            slot *s = &r.slots[i];
            if (s->call && s->due_ms > 0) {
                if (s->due_ms <= t) {
                    if (attempt(&r, s, err, errlen) != 0)
                        goto cleanup;
                } else if (s->due_ms - t < timeout) {
                    timeout = (int)(s->due_ms - t) + 1;
                }
            }
        }
        if (r.alive == 0 && r.next >= n)
            break;
        if (curl_multi_perform(r.multi, &running) != CURLM_OK) {
            snprintf(err, errlen, "libcurl: multi transfer failed");
            goto cleanup;
        }
        while ((m = curl_multi_info_read(r.multi, &left)) != NULL) {
            if (m->msg == CURLMSG_DONE)
                on_transfer_done(&r, m->easy_handle, m->data.result);
        }
        if (r.alive == 0 && r.next >= n)
            break;
        /* Slots freed in this pass: fill them now, not after a poll that
         * nothing may wake. Otherwise wake at least every 200 ms to notice
         * the stop flag. */
        if (r.next < n && r.alive < (int)r.limit)
            continue;
        if (timeout > 200)
            timeout = 200;
        if (curl_multi_poll(r.multi, NULL, 0, timeout, NULL) != CURLM_OK) {
            snprintf(err, errlen, "libcurl: poll failed");
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    if (rc != 0 && r.slots && r.multi)
        cancel_all(&r);
    stats->wall_ms = monotime_ms() - r.t0;
    if (r.multi)
        curl_multi_cleanup(r.multi);
    free(r.slots);
    return rc;
}
