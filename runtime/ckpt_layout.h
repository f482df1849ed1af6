/* ckpt_layout.h — what the names in an mmgc checkpoint mean.
 *
 * A checkpoint (a safetensors file, checkpoint.h) written by training holds
 *
 *   NAME           the weights the run chose, for every parameter and every
 *                  piece of the model's own state (batch norm's running
 *                  statistics): the best epoch's (restored), or the last
 *                  ones while no epoch has been best; what --eval, --predict
 *                  and a PyTorch user read
 *   resume:NAME    what --resume needs: every slot's value after the last
 *                  step (the last weights, the model's state, the optimizer's
 *                  state such as resume:NAME.m, resume:NAME.v and
 *                  resume:optimizer.step)
 *
 * and the metadata keys "format" (CKPT_FORMAT), "model", "weights" ("best"
 * or "last": which weights the plain names hold), "weights_epoch" (their
 * epoch, 0 for the initial ones), "optimizer" (sgd, momentum, adam, adamw)
 * and where training stood (epoch, batch, step, seed, best_epoch, best,
 * wait, epoch_loss_sum, epoch_correct and the per-epoch train_loss,
 * val_loss, val_accuracy, train_accuracy lists: ckpt_resume.h), and the
 * checksum every file gets (checkpoint.h).
 *
 * A file without a "format" key (plain weights, such as one written from
 * PyTorch) is read for its weights; a file of an older mmgc layout is an
 * error naming that layout.
 */
#ifndef MMGC_CKPT_LAYOUT_H
#define MMGC_CKPT_LAYOUT_H

#include <stddef.h>

#include "checkpoint.h"
#include "params.h"

#define CKPT_FORMAT "mmgc-checkpoint-2"
#define CKPT_RESUME_PREFIX "resume:"

typedef struct {
    const char *model;
    const float *weights;   /* the chosen weights, in the store's layout */
    const char *which;      /* "best" or "last" */
    int weights_epoch;
    const char *const *keys; /* further metadata (where training stood) */
    const char *const *values;
    int nmeta;
} CkptContents;

/* Writes the store to path (atomically): the chosen weights under the
 * plain names, every slot's current value under resume:NAME, and the
 * metadata. 0, or -1 with a message. */
int ckpt_layout_write(const char *path, const ParamStore *ps, const CkptContents *c, char *err, size_t errlen);

/* Reads path and checks its layout: NULL with a message for a file of an
 * older or unknown mmgc format. */
Checkpoint *ckpt_layout_read(const char *path, char *err, size_t errlen);

/* Copies the weights (the plain names) of every parameter and model state
 * into dst, laid out as the store; a missing tensor, a wrong shape or a
 * value that is not a finite number (NaN, inf) is an error naming the
 * file, the tensor and the index. */
int ckpt_layout_weights(const Checkpoint *c, const char *path, const ParamStore *ps, float *dst, char *err,
                        size_t errlen);

/* Copies every slot's resume:NAME into the store's block. An error for a
 * checkpoint without training state, and for one of another model or
 * optimizer (the model's optimizer is `optimizer`, "adam" say): another
 * "optimizer" in its metadata, a resume:NAME missing (the first in the
 * store's order) or of another shape, a resume: tensor the store has no
 * slot for; and for a value that is not a finite number. */
int ckpt_layout_resume(const Checkpoint *c, const char *path, ParamStore *ps, const char *optimizer, char *err,
                       size_t errlen);

#endif
