/*
 * proctree — a process that answers for every process below it. A program
 * that starts children which start their own (the lab's sandboxes, the
 * fuzzer's labs) becomes their child subreaper, so that whatever they
 * orphan comes back to it instead of to init (where, on a machine whose
 * init does not reap, it stays a zombie for good); before it exits it waits
 * for, and if need be kills, every child it has, orphans included.
 *
 * No state: both functions act on the calling process.
 */
#ifndef COLDSEC_PROCTREE_H
#define COLDSEC_PROCTREE_H

/* prctl(PR_SET_CHILD_SUBREAPER). Returns 0, or -1 (errno set). */
int proctree_become_reaper(void);

/* Reaps every child of this process until it has none: waits term_ms for
 * them to exit by themselves, then sends SIGTERM to each, waits until
 * kill_ms (from the call), then sends SIGKILL to each child it still has,
 * orphans that arrive later included, and waits for them (a SIGKILLed
 * process cannot refuse). 0 and 0 kill at once. Returns the number of
 * children reaped. Must not run while another thread of the process waits
 * for a child of its own. */
int proctree_reap_all(int term_ms, int kill_ms);

#endif
