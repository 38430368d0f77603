/*
 * event — Lambda event payloads for the scenario engine. The user gives a
 * "baseline event" (what a normal request to their function looks like);
 * the engine lists its fields, changes one at a time (a canary, an
 * injection payload, a wrong type), merges prototype-pollution members in,
 * wraps the result in the trigger's envelope (raw, API Gateway REST v1,
 * HTTP API v2, function URL) and sends that as the Invoke payload. What
 * comes back is split here into the texts worth searching for canaries and
 * secrets (the raw payload, and the HTTP response body, base64-decoded).
 *
 *   baseline event -> event_fields_list -> event_replace / event_delete /
 *   event_merge_top -> cJSON_PrintUnformatted -> event_wrap -> Invoke
 *   response payload -> event_response_texts -> canary and secret search
 *
 * Fields are addressed by RFC 6901 JSON Pointers ("/order/items/0/sku",
 * "~0" for '~' and "~1" for '/' in a member name, "" for the whole event).
 * Where an object repeats a member name, a pointer means the LAST member
 * of that name: RFC 6901 leaves duplicates undefined, and JSON.parse,
 * Python's json and Go's encoding/json all keep the last one, so that is
 * the member the function under test acts on.
 *
 * Ownership: every cJSON tree stays its owner's; event_get returns a
 * borrowed pointer into ev; event_replace takes ownership of value
 * (freeing it on failure); event_merge_top copies obj. Strings and arrays
 * the module returns are malloc'd and freed with the matching _free
 * function or free(), as each comment says. Input strings are borrowed for
 * the duration of a call. No globals: every function is thread-safe on
 * distinct trees.
 */
#ifndef COLDSEC_EVENT_H
#define COLDSEC_EVENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define EVENT_MAX_DEPTH 32      /* levels below the root event_fields_list descends */
#define EVENT_MAX_FIELDS 10000  /* fields event_fields_list returns */
/* Lambda's synchronous payload limit (6 MB): no body larger than this can
 * be sent, so event_wrap refuses it (and int lengths for OpenSSL stay safe). */
#define EVENT_MAX_BODY ((size_t)6291456)
/* Responses larger than this are searched raw only, never parsed. */
#define EVENT_MAX_RESPONSE ((size_t)16 * 1024 * 1024)
#define EVENT_MAX_TEXTS 2       /* "payload" and "body": what out[] needs */

/* Fields found in an event, in document order. paths[i] is a malloc'd
 * JSON Pointer; event_fields_free frees them and the array. */
typedef struct event_fields {
    char **paths;
    size_t count;
} event_fields;

enum { EVENT_STRINGS = 1, EVENT_LEAVES = 2, EVENT_OBJECTS = 4 };
#define EVENT_MAX_EMBEDDED_LEVELS 4   /* JSON strings inside JSON strings event_embedded_open opens */

/*
 * Lists the leaves of ev in document order (depth first, object members
 * and array items in order) as JSON Pointers. which is EVENT_STRINGS
 * (string leaves only) or EVENT_LEAVES (every leaf: string, number, bool,
 * null). Containers are never listed, so {} and [] give nothing; nor is
 * the root itself (it cannot be replaced in place). A member shadowed by a
 * later member of the same name is skipped (no pointer can reach it).
 * Returns 0 and fills *out (caller frees with
 * event_fields_free), or -1 with *out empty when ev is NULL, which is
 * unknown, a value lies more than EVENT_MAX_DEPTH levels below the root,
 * there would be more than EVENT_MAX_FIELDS fields, or memory runs out.
 */
int event_fields_list(const cJSON *ev, int which, event_fields *out)
    __attribute__((warn_unused_result));

/*
 * EVENT_OBJECTS lists the objects instead (the root "" first, then every
 * object member and array item that is an object, in document order): the
 * places a merge can reach.
 */

/*
 * Events often carry JSON inside a string: an HTTP trigger's "body", an SQS
 * record's "body", an SNS "Message". A handler parses it and acts on its
 * fields, so they are fields of the event too. event_embedded_open gives a
 * copy of ev (*out, caller frees) in which every string whose text is a JSON
 * object or array is that container, up to EVENT_MAX_EMBEDDED_LEVELS deep,
 * and lists their pointers in *embedded (caller frees with
 * event_fields_free); event_embedded_close turns those containers of ev
 * back into strings (compact JSON), inner ones first, leaving a path that
 * no longer holds a container as it is. Both return 0 or -1 (no memory, ev
 * too deep); on -1 *out is NULL and *embedded empty.
 */
int event_embedded_open(const cJSON *ev, cJSON **out, event_fields *embedded) __attribute__((warn_unused_result));
int event_embedded_close(cJSON *ev, const event_fields *embedded) __attribute__((warn_unused_result));

/* Frees f's paths and array and empties it; NULL and empty are fine. */
void event_fields_free(event_fields *f);

/*
 * The value at pointer in ev, borrowed from ev (valid until ev changes),
 * or NULL when it is absent or pointer is not a valid JSON Pointer (does
 * not start with '/', a '~' not followed by '0' or '1'). "" is ev itself.
 * An array index is "0" or digits without a leading zero; "-" (past the
 * end) is never present.
 */
cJSON *event_get(const cJSON *ev, const char *pointer);

/*
 * Replaces the value at pointer (which must exist) with value, keeping its
 * place among its siblings and, in an object, its member name. Takes value:
 * ev owns it on success, and it is freed on failure. Returns 0, or -1 for
 * an invalid or absent pointer, "" (the root cannot be replaced in place),
 * a NULL argument, or no memory.
 */
int event_replace(cJSON *ev, const char *pointer, cJSON *value)
    __attribute__((warn_unused_result));

/* Removes and frees the value at pointer (which must exist; not ""). In an
 * array later items move down one index. Returns 0 or -1. */
int event_delete(cJSON *ev, const char *pointer) __attribute__((warn_unused_result));

/*
 * Adds copies of obj's members to ev's top level, in obj's order. A member
 * whose name ev already has replaces ev's (last) member of that name in
 * place, except for the names JavaScript treats specially ("__proto__",
 * "constructor", "prototype"): those are always appended as ordinary
 * members, duplicates included, so a prototype-pollution payload is sent
 * literally and is the last (effective) member of its name. ev and obj
 * must both be objects. All or nothing: returns 0, or -1 with ev unchanged.
 */
int event_merge_top(cJSON *ev, const cJSON *obj) __attribute__((warn_unused_result));

typedef enum {
    EVENT_ENVELOPE_RAW = 0,
    EVENT_ENVELOPE_APIGW_V1,
    EVENT_ENVELOPE_APIGW_V2,
    EVENT_ENVELOPE_FUNCTION_URL,
    EVENT_ENVELOPE_LAST /* sentinel */
} event_envelope;

/* "raw", "apigw-v1", "apigw-v2", "function-url" (exact case) into *out:
 * 0, or -1 for any other name. */
int event_envelope_parse(const char *name, event_envelope *out)
    __attribute__((warn_unused_result));

/* The name event_envelope_parse accepts for e (static), or NULL. */
const char *event_envelope_name(event_envelope e);

/* What an HTTP trigger would put around the request. Strings are borrowed. */
typedef struct event_http {
    const char *method;     /* NULL: "POST"; an HTTP token, at most 32 bytes */
    const char *path;       /* NULL: "/"; starts with '/', no query, fragment, space or control byte */
    const char *source_ip;  /* NULL: "198.51.100.7" (TEST-NET-2); IPv4 or IPv6 */
    const char *request_id; /* required for the HTTP envelopes: per invocation, from the caller */
    long long time_ms;      /* epoch ms the caller chooses (deterministic runs pass a fixed clock) */
    bool base64;            /* send the body base64-encoded, isBase64Encoded true */
    const char *user_agent; /* NULL: "coldsec" */
} event_http;

/*
 * The Invoke payload for body[0..body_len) (body may be NULL when body_len
 * is 0). RAW: a copy of body as it is (http may be NULL). Otherwise the
 * envelope JSON of AWS's documented shape, with body as its "body" string:
 *   apigw-v1 (API Gateway REST, Lambda proxy integration): resource, path,
 *     httpMethod, headers, multiValueHeaders, queryStringParameters,
 *     multiValueQueryStringParameters, pathParameters, stageVariables (the
 *     last four null), requestContext{accountId, apiId, domainName,
 *     domainPrefix, httpMethod, identity{sourceIp, userAgent, the caller
 *     fields null}, path (stage first: "/coldsec/orders/42"), protocol,
 *     requestId, requestTime, requestTimeEpoch, resourceId, resourcePath,
 *     stage}, body, isBase64Encoded;
 *   apigw-v2 (HTTP API, payload format 2.0): version "2.0", routeKey
 *     "METHOD /path", rawPath, rawQueryString "", headers,
 *     requestContext{accountId, apiId, domainName, domainPrefix,
 *     http{method, path, protocol, sourceIp, userAgent}, requestId,
 *     routeKey, stage "$default", time ("23/Nov/2026:18:31:24 +0000"),
 *     timeEpoch}, body, isBase64Encoded;
 *   function-url: the 2.0 shape with routeKey "$default", accountId
 *     "anonymous" (an auth-type NONE URL), authentication null, and
 *     pathParameters and stageVariables null.
 * Headers (lower case; v1 repeats each in multiValueHeaders): content-length,
 * content-type application/json, host, user-agent, x-forwarded-for,
 * x-forwarded-port, x-forwarded-proto. The body need not be JSON (invalid
 * JSON is a test case) but, unless http->base64, must be valid UTF-8 (a
 * JSON string can hold nothing else; NUL is sent as \u0000). As API Gateway
 * does, an empty body is sent as "body": null (v1) or no "body" (2.0), with
 * isBase64Encoded false. Fixed values: account 123456789012, region
 * us-east-1, the api and url ids in event.c.
 *
 * Returns the malloc'd payload (caller frees; NUL-terminated, *len bytes
 * before the NUL), or NULL with a one-line reason in err (when errlen > 0)
 * for: an unknown envelope, a missing http or request_id, an invalid
 * field, time_ms outside years 1970..9999, a body over EVENT_MAX_BODY, a
 * non-UTF-8 body without base64, or no memory.
 */
char *event_wrap(event_envelope env, const char *body, size_t body_len, const event_http *http,
                 size_t *len, char *err, size_t errlen) __attribute__((warn_unused_result));

/* One text to search in a response. label is static ("payload", "body");
 * data is malloc'd, NUL-terminated after len bytes (which may hold NULs). */
typedef struct event_text {
    const char *label;
    char *data;
    size_t len;
} event_text;

/*
 * The texts worth searching in an Invoke response payload[0..len): first
 * always "payload", a copy of the raw bytes; then, when the whole payload
 * (at most EVENT_MAX_RESPONSE bytes) is a JSON object with a string "body"
 * (an HTTP trigger's response), "body": that string, base64-decoded when
 * "isBase64Encoded" is true and it decodes (else as it is; a body holding
 * \u0000 ends there). Lambda's error shape ({"errorMessage", "errorType",
 * "stackTrace"}) adds nothing: it is all in the raw text. Fills at most max
 * entries of out (EVENT_MAX_TEXTS is enough) and returns how many; fewer
 * when memory runs out. Free with event_texts_free.
 */
size_t event_response_texts(const char *payload, size_t len, event_text *out, size_t max);

/* Frees the data of t[0..n) and clears the entries. */
void event_texts_free(event_text *t, size_t n);

#endif
