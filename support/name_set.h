/* name_set.h — finding a repeated name among many, in O(n log n).
 *
 *   const char *names[] = {"a", "b", "c", "b", "a"};
 *   names_first_repeat(names, 5)   // 3: "b" is the first to repeat an earlier name
 */
#ifndef MMGC_NAME_SET_H
#define MMGC_NAME_SET_H

/* The smallest i such that names[i] equals some names[j] with j < i; -1
 * when all n names are distinct; -2 when out of memory. Sorts a copy of
 * the pointers: O(n log n) comparisons, where the pairwise check is O(n²). */
int names_first_repeat(const char *const *names, int n);

#endif
