/* dataset.h — a data set on disk, matched to a model's inputs and labels.
 *
 * A dataset directory holds NAME_train.npy and NAME_test.npy for every
 * input and label NAME of the model: inputs [N, per-sample shape...] of any
 * numeric dtype (read as f32), labels [N] of an integer dtype (read as
 * i64). Every file is checked against the model: per-sample shape, sample
 * count, label range. A validation split is cut from train.
 */
#ifndef MMGC_DATASET_H
#define MMGC_DATASET_H

#include <stdint.h>

#include "elaborate.h"
#include "npy.h"

typedef struct {
    const char *name;   /* the model's input or label name */
    int node;           /* its INPUT or LABEL node in the forward graph */
    int is_label;
    int64_t sample;     /* elements per sample */
    NpyArray split[2];  /* [0] train, [1] test: f32 ('f') or i64 ('l') */
} DataTensor;

typedef struct {
    DataTensor *t;
    int n;
    int64_t count[2];   /* samples in train and test */
    int nclasses;       /* the logits' last dimension, or 0 */
} Dataset;

enum { SPLIT_TRAIN = 0, SPLIT_TEST = 1 };

/* Loads and checks every file the model needs from dir. Returns 0, or -1
 * with a message naming the file and what is wrong. */
int dataset_load(Dataset *d, const char *dir, const Elaborated *m, char *err, size_t errlen);
void dataset_free(Dataset *d);

/* Shuffles 0..n-1 into out, deterministically from (seed, stream). */
void dataset_permutation(int64_t *out, int64_t n, uint64_t seed, uint64_t stream);

#endif
