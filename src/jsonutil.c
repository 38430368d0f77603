/*
 * jsonutil — whole-text JSON parsing (see jsonutil.h).
 */
#include "jsonutil.h"

#include <stdbool.h>

cJSON *jsonutil_parse_whole(const char *text, size_t len)
{
    const char *end = NULL;
    cJSON *doc;

    if (!text || len == 0)
        return NULL;
    doc = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!doc)
        return NULL;
    while (end && end < text + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end != text + len) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}
