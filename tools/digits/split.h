/* split.h — which source images become the train and test samples.
 *
 * Each split is filled as evenly across digits as the source allows: the
 * test set first, then the train set from the images left. Within a digit
 * the images are taken in a random order (stream ST_SPLIT, step = digit);
 * each split is then shuffled (ST_ORDER, step = split), so digits interleave.
 */
#ifndef MMGC_DIGITS_SPLIT_H
#define MMGC_DIGITS_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "params.h"

typedef struct {
    int digit;
    int64_t image; /* index among the source's images of that digit */
} SampleRef;

typedef struct {
    int64_t n_train, n_test;
    int64_t train_per[10], test_per[10];
    int balanced;    /* every digit's count within one of the others', in both splits */
    SampleRef *refs; /* [n_train + n_test]: train then test; owned */
} SplitPlan;

/* Plans n_train + n_test samples from avail[d] images of each digit; -1
 * with a message if the source has too few images. */
int split_plan(const int64_t avail[10], int64_t n_train, int64_t n_test, const DigitsKeys *k, SplitPlan *out,
               char *err, size_t errlen);
/* Fills counts[10] with total samples spread as evenly as caps[10] allow
 * (water-filling; leftover ones go to the lowest digits). -1 if sum(caps) < total. */
int split_fill(int64_t total, const int64_t caps[10], int64_t counts[10]);
void split_free(SplitPlan *p);

#endif
