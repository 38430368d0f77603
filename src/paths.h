/*
 * paths — where coldsec's own files are, found from the running executable
 * (/proc/self/exe, symlinks resolved), so that both a build tree and an
 * installed (even moved) tree work without configuration:
 *
 *   installed   PREFIX/bin/coldsec        PREFIX/share/coldsec/{scenarios,runtimes,fuzz}
 *               PREFIX/libexec/coldsec/coldsec-lab-stub
 *   build tree  build/coldsec             ../scenarios, ../harness/runtimes, ../fuzz
 *               (build/asan/coldsec: the same two folders up)
 *
 * The installed layout is tried first, then the build tree's.
 *
 * Ownership: every function writes into the caller's buffer; nothing is
 * allocated or kept.
 */
#ifndef COLDSEC_PATHS_H
#define COLDSEC_PATHS_H

#include <stddef.h>

typedef enum paths_kind {
    PATHS_SCENARIOS,   /* the built-in scenarios and their catalogs/ */
    PATHS_RUNTIMES,    /* the lab's runtime bootstraps (node/, python/) */
    PATHS_FUZZ_EVENTS, /* the fuzzer's seed event shapes (*.json) */
    PATHS_FUZZ_DICT    /* the fuzzer's Lambda dictionary */
} paths_kind;

/* out = the absolute path of kind for this executable. 0, or -1 when no
 * candidate exists (out then holds the first candidate, for a message). */
int paths_find(paths_kind kind, char *out, size_t len);

/* out = PROGRAM in the folder of the running executable (build/coldsec →
 * build/PROGRAM), or PROGRAM alone (PATH lookup) when that folder is
 * unknown. */
void paths_beside_self(const char *program, char *out, size_t len);

#endif
