/* tiny_data.h — the data set of tiny.mmg (and tiny_bn.mmg, tiny_tuned.mmg)
 * that the runtime tests write, and a run of tiny.mmg on it. */
#ifndef MMGC_TESTS_TINY_DATA_H
#define MMGC_TESTS_TINY_DATA_H

#include <stdint.h>

#include "checkpoint.h"

/* Writes dir/file as an .npy of dtype ('f', 'l', ...) and shape (a test
 * failure if it cannot). */
void write_npy(const char *dir, const char *file, char dtype, int rank, const int64_t *shape, const void *data);
/* dir/x_{train,test}.npy and y_{train,test}.npy: 200 train and 100 test
 * samples of 8 features, x = prototype[y] + noise, 3 classes (y = i % 3). */
void make_data(const char *dir);

typedef struct {
    char data[300];    /* the data set (make_data) */
    char ckpt[300];    /* the run's checkpoint (--save) */
    char metrics[300]; /* its --metrics-json */
} TinyRun;

/* tiny.mmg trained once per test program (LLVM backend) in the test
 * directory: early stopping (patience 3) ends the run three epochs after
 * its best one. */
const TinyRun *tiny_run(void);
/* The tensor `name` of c as floats (a test failure if absent). */
const float *ckpt_tensor(const Checkpoint *c, const char *name);
/* Writes checkpoint `from` to path with tensor `name` dropped (shape NULL)
 * or reshaped, and metadata `key` (if not NULL) set to value (dropped when
 * value is NULL). */
void ckpt_rewrite(const char *from, const char *path, const char *name, const Shape *shape, const char *key,
                  const char *value);
/* Writes checkpoint `from` to path with element `index` of the f32 tensor
 * `name` set to value. */
void ckpt_rewrite_value(const char *from, const char *path, const char *name, int64_t index, float value);

#endif
