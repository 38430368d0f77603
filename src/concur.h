/*
 * concur — time arithmetic for requests that run at the same time, as the
 * client saw them (start of the first attempt to the answer): how long two
 * overlapped, and which "concurrency slot" each takes on a timeline.
 *
 * A client interval holds the server's (the request was sent before it
 * ran and answered after), so two requests that ran together on the server
 * always overlap here; the reverse is not certain (network time), which is
 * why the scenario docs call it the client's view.
 *
 * Pure functions on caller-owned arrays; thread-safe; nothing allocated
 * but concur_slots' scratch, freed before it returns.
 */
#ifndef COLDSEC_CONCUR_H
#define COLDSEC_CONCUR_H

#include <stddef.h>

/* ms that [a_start, a_end] and [b_start, b_end] share; <= 0 when they do
 * not overlap (touching ends share 0), or when either has not ended
 * (end <= 0: never answered). */
double concur_overlap_ms(double a_start, double a_end, double b_start, double b_end);

/* The timeline's lanes: taking the intervals in order (indexes into
 * start/end, by start time), each gets the lowest-numbered slot free when
 * it starts (free: the last one in it ended at or before). slot[i] is
 * 1-based. Returns the number of slots used, or -1 when out of memory
 * (slot untouched). */
long concur_slots(const double *start, const double *end, const size_t *order, size_t n, int *slot);

#endif
