/* breakdown.h — more than accuracy: what a classifier's test accuracy is
 * made of.
 *
 *   robustness  accuracy by corruption group, from DIR/meta_test.npy ([N, 2]
 *               integers, 1 where the sample got the heavy corruption —
 *               column 0 the image, column 1 the audio): clean (neither),
 *               image ruined (only), audio ruined (only), both ruined.
 *               Without the file there are no groups.
 *   ablation    per model input, the test accuracy with that input replaced
 *               by zeros, and by another test sample's (a fixed derangement
 *               of the test samples: one seeded cycle through all of them,
 *               so no sample keeps its own; the same for every run on the
 *               same number of test samples).
 *   pairs       the most confused pairs: the largest off-diagonal cells of
 *               the test confusion matrix (at most BREAKDOWN_PAIRS, count
 *               > 0, larger counts first, then by true and predicted class).
 *
 * It runs the session's evaluation engine over the test split with the
 * input buffers filled differently (no new graph) and leaves s->metrics as
 * they were.
 */
#ifndef MMGC_BREAKDOWN_H
#define MMGC_BREAKDOWN_H

#include <stdio.h>

#include "report.h"
#include "train_impl.h"

enum { BREAKDOWN_GROUPS = 4, BREAKDOWN_PAIRS = 3 };

struct Breakdown {
    int has_groups;                         /* meta_test.npy was there */
    ReportGroup group[BREAKDOWN_GROUPS];    /* clean, image ruined, audio ruined, both ruined */
    int64_t correct[BREAKDOWN_GROUPS];
    ReportAblation *ablation;               /* [nablation]: every model input, in the model's order */
    int nablation;
    ReportPair pair[BREAKDOWN_PAIRS];
    int npairs;
    ReportRobustness report;                /* the above, as the report reads it */
};
typedef struct Breakdown Breakdown;

/* The JSON key of each group: "clean", "image_ruined", "audio_ruined", "both_ruined". */
extern const char *const breakdown_group_key[BREAKDOWN_GROUPS];

/* Reads dir/meta_test.npy into *flags ([n * 2] of 0 and 1, to free). 1 if
 * there is no such file (then *flags is NULL), 0 when read, -1 with
 * "PATH: what is wrong, expected what" when its dtype is not an integer
 * one, its shape not [n, 2] or a value not 0 or 1. */
int breakdown_read_meta(const char *dir, int64_t n, int64_t **flags, char *err, size_t errlen);

/* The swap of the ablation for n test samples: a new array d of 0..n-1 in
 * which sample i gets sample d[i]'s input, d[i] != i for n > 1 (one cycle
 * through a permutation drawn with a fixed seed). */
int64_t *breakdown_derangement(int64_t n);

/* Computes the breakdown of s's test split into a new *out (NULL, and
 * nothing run, for a model without accuracy: no logits or no label);
 * s->metrics must hold the test evaluation (its confusion matrix gives the
 * pairs), and pred, if not NULL, its predicted class of every test sample
 * (else the test split is run again for them). 0, or -1 with a message (a
 * bad meta file, a failed run). */
int breakdown_compute(Session *s, const int *pred, Breakdown **out, char *err, size_t errlen);
void breakdown_free(Breakdown *b);

/* Writes the breakdown as a short readable block (nothing for NULL). */
void breakdown_print(const Breakdown *b, FILE *out);
/* Writes the keys "robustness" (with groups only), "ablation" and
 * "confused_pairs" of a JSON object, each after ",\n  " (nothing for NULL). */
void breakdown_json(const Breakdown *b, FILE *f);

#endif
