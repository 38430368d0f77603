/*
 * replaycmd — `coldsec replay FINDING.json`: runs a finding's recorded
 * steps again and says whether it reproduces. FINDING.json is the file
 * the engine writes per replayable finding (SCENARIO-FOLDER/finding-N.json,
 * named first in the finding's evidence.reproduce; read by src/replayfile):
 * where the function ran, whether a cold start came first, the request
 * files (relative to the file) in the order they were sent, and a check
 * whose kind says how the answers are judged — canary, pattern, secret
 * (src/secrets, values never stored or printed) or memory (memfit_judge,
 * as the engine). A lab finding gets a fresh coldsec-lab of that config
 * (so its first invocation is a cold start, as the original's was when it
 * forced one).
 * A `coldsec fuzz` finding file (fuzzfinding.h) is replayed too: its input
 * sent once on a fresh lab environment, as coldsec-fuzz sent it (fuzzenv.h),
 * and judged by the fuzzer's oracle (fuzzoracle.h); reproduced is the same
 * kind again.
 *
 * Exit status: 1 reproduced (the check held again), 0 not
 * reproduced, 2 usage or a bad finding file, 3 could not test.
 */
#ifndef COLDSEC_REPLAYCMD_H
#define COLDSEC_REPLAYCMD_H

int replaycmd_command(int argc, char **argv);

#endif
