/*
 * concur — overlap and slots of client-side intervals (see concur.h).
 */
#include "concur.h"

#include <stdlib.h>

double concur_overlap_ms(double a_start, double a_end, double b_start, double b_end)
{
    double from = a_start > b_start ? a_start : b_start;
    double to = a_end < b_end ? a_end : b_end;
    if (a_end <= 0 || b_end <= 0)
        return 0;
    return to - from;
}

long concur_slots(const double *start, const double *end, const size_t *order, size_t n, int *slot)
{
    double *busy_until = malloc((n ? n : 1) * sizeof(*busy_until));
    size_t nslots = 0;

    if (!busy_until)
        return -1;
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k], s;
        for (s = 0; s < nslots && busy_until[s] > start[i]; s++)
            ;
        if (s == nslots)
            nslots++;
        busy_until[s] = end[i] > start[i] ? end[i] : start[i];
        slot[i] = (int)s + 1;
    }
    free(busy_until);
    return (long)nslots;
}
