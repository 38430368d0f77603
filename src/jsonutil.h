/*
 * jsonutil — JSON helpers cJSON lacks. cJSON_ParseWithLength stops after
 * the first value and ignores what follows, so `{"a":1}<html>` or two
 * objects back to back would pass for one object; coldsec acts on what an
 * endpoint or a file says, so it must read the whole text or nothing.
 *
 * Ownership: the returned tree is the caller's (cJSON_Delete).
 */
#ifndef COLDSEC_JSONUTIL_H
#define COLDSEC_JSONUTIL_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Parses text[0..len) as exactly one JSON value, with only spaces, tabs,
 * CR and LF after it; NULL otherwise (or on allocation failure). */
cJSON *jsonutil_parse_whole(const char *text, size_t len);

#endif
