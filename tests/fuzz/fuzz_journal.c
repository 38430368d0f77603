/*
 * libFuzzer target for journal_parse(): `coldsec restore JOURNAL` acts on
 * what a journal says, so a damaged or hostile file must be refused, never
 * crash or be half-read. Every journal that parses is also queried the way
 * the restore queries it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    journal *j = journal_parse((const char *)data, size, "fuzz/journal.json", err, sizeof(err));
    /* A refusal must name the file, as every error a user sees does. */
    if (!j && strncmp(err, "fuzz/journal.json: ", 19) != 0)
        abort();
    if (j) {
        cJSON *vars = cJSON_CreateObject();
        cJSON_AddStringToObject(vars, "A", "b");
        (void)journal_get_state(j);
        (void)journal_ours_revision(j);
        (void)journal_is_original(j, vars);
        (void)journal_has_added(j, vars);
        (void)journal_set_state(j, JOURNAL_RESTORED, "rev", "fuzz");
        cJSON_Delete(vars);
        journal_free(j);
    }
    return 0;
}
