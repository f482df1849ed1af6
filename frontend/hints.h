/* hints.h — the near-miss search of the front end's "did you mean" notes,
 * for any list of names (command-line options, train settings). */
#ifndef MMGC_HINTS_H
#define MMGC_HINTS_H

/* The candidate nearest to name by edit distance (a swap of neighbours is
 * one edit) if it is within what a typo makes (1 edit for names of up to 3
 * characters, 2 up to 6, 3 beyond); the first of equally near ones; NULL if
 * none is. Candidates equal to name and NULL entries are skipped. */
const char *hint_nearest(const char *name, const char *const *candidates, int n);

#endif
