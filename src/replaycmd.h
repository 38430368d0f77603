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
 *
 * Exit status: 1 reproduced (the check held again), 0 not
 * reproduced, 2 usage or a bad finding file, 3 could not test.
 */
#ifndef COLDSEC_REPLAYCMD_H
#define COLDSEC_REPLAYCMD_H

int replaycmd_command(int argc, char **argv);

#endif
