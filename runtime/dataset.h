/* dataset.h — a data set on disk, matched to a model's inputs and labels.
 *
 * A dataset directory holds, for every input and label NAME of the model
 * and each split (train, test), one of
 *   NAME_SPLIT.npy   an NPY file
 *   NAME_SPLIT.idx   an IDX file (MNIST's format)
 *   NAME_SPLIT/      a folder of WAV files, one sample each, in name order
 * Inputs are [N, per-sample shape...] of any numeric dtype, read as f32;
 * uint8 inputs are scaled from 0..255 to [0, 1]; a NaN or infinity is an
 * error. Labels are [N] of integers, read as i64. Every file is checked
 * against the model: per-sample shape (size-1 dimensions aside), sample
 * count, label range. A validation split is cut from train.
 */
#ifndef MMGC_DATASET_H
#define MMGC_DATASET_H

#include <stdint.h>

#include "elaborate.h"
#include "engine.h"
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

/* Loads and checks every file the model needs from dir: both splits, or
 * without with_train only the test split (evaluation needs no more).
 * Returns 0, or -1 with a message naming the file and what is wrong. */
int dataset_load(Dataset *d, const char *dir, const Elaborated *m, int with_train, char *err, size_t errlen);
void dataset_free(Dataset *d);
/* The memory d's arrays hold, in MiB (each file is held once, as the model reads it). */
double dataset_mib(const Dataset *d);

/* The tensor of a model input (or label, is_label) with nothing read yet. */
DataTensor dataset_tensor(const Elaborated *m, const ModelIO *io, int is_label);
/* The file (or WAV folder) of input or label `name` for a split in dir,
 * into buf: NAME_SPLIT.npy if there is one, else NAME_SPLIT.idx, else a
 * folder NAME_SPLIT/, else NAME_SPLIT.npy (which reading then says is
 * missing). Returns buf. */
const char *dataset_path(const char *dir, const char *name, int split, char *buf, size_t size);

/* Reads the file at path (an .npy file, an .idx file or a folder of WAV
 * files, see dataset_path) into t->split[split], as f32 for an input or i64
 * for a label, and checks its per-sample shape against the model's (shape
 * of t's node); -1 with a message naming path and what is wrong: the
 * expected and the actual shape or dtype, or the sample and element that
 * is NaN or infinite. */
int dataset_read(DataTensor *t, const char *path, int split, const Shape *model, char *err, size_t errlen);

/* Copies samples idx[0..count) of a split of d into e's buffers (B rows);
 * rows past count repeat the first sample with sample weight 0; sets the
 * model's training flag. */
void dataset_fill(const Dataset *d, const Elaborated *m, Engine *e, int split, const int64_t *idx, int count, int B,
                  int training);

/* Shuffles 0..n-1 into out, deterministically from (seed, stream). */
void dataset_permutation(int64_t *out, int64_t n, uint64_t seed, uint64_t stream);

#endif
