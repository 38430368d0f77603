/*
 * replaycmd — `coldsec replay FINDING.json`: runs a finding's recorded
 * steps again and says whether it reproduces. FINDING.json is the file
 * the engine writes per replayable finding (SCENARIO-FOLDER/finding-N.json,
 * named first in the finding's evidence.reproduce): where the function ran
 * (a lab config, or an AWS target's region/profile/endpoint), whether a
 * cold start came first, the planted and the seen invocation's request
 * files in the order they were sent, and the canary with where it was seen.
 * A lab finding gets a fresh coldsec-lab of that config (so its first
 * invocation is a cold start, as the original's was when it forced one).
 * A `coldsec fuzz` finding file (fuzzfinding.h) is replayed too: its input
 * sent once on a fresh lab environment, as coldsec-fuzz sent it (fuzzenv.h),
 * and judged by the fuzzer's oracle (fuzzoracle.h); reproduced is the same
 * kind again.
 *
 * Exit status: 1 reproduced (the canary came back where it was seen), 0 not
 * reproduced, 2 usage or a bad finding file, 3 could not test.
 */
#ifndef COLDSEC_REPLAYCMD_H
#define COLDSEC_REPLAYCMD_H

int replaycmd_command(int argc, char **argv);

#endif
