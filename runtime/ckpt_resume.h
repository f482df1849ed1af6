/* ckpt_resume.h — where training stood, read from a checkpoint's metadata
 * and checked against the run that resumes from it.
 *
 * Every field must be there and make sense for this run, or --resume
 * refuses the file with "PATH: ..." naming the field:
 *
 *   epoch           epochs finished: 0 to the model's max_epochs
 *   batch           batches done in the next epoch: 0 to (batches an epoch) - 1
 *   step            steps taken: epoch * (batches an epoch) + batch
 *   seed            the model's seed (the split and the batch order follow it)
 *   best_epoch      0 (none yet) to epoch
 *   best            a number; not NaN once there is a best epoch
 *   wait            0 to epoch - best_epoch
 *   epoch_loss_sum  a number
 *   epoch_correct   0 to the samples of the epoch's first `batch` batches
 *   train_loss, val_loss, val_accuracy, train_accuracy
 *                   "1.5,nan,0.25": one number per finished epoch (epoch of them)
 *
 *   ResumeBounds b = {max_epochs, nfit, batch_size, seed};
 *   ResumeState r;
 *   if (ckpt_resume_read(c, path, &b, &r, err, sizeof err)) ...   // r.lists[k] has r.epoch values
 *   ckpt_resume_free(&r);
 */
#ifndef MMGC_CKPT_RESUME_H
#define MMGC_CKPT_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"

/* The per-epoch lists, in ResumeState.lists order. */
enum { RESUME_TRAIN_LOSS, RESUME_VAL_LOSS, RESUME_VAL_ACCURACY, RESUME_TRAIN_ACCURACY, RESUME_NLISTS };
extern const char *const ckpt_resume_lists[RESUME_NLISTS];

/* The run that resumes. */
typedef struct {
    int max_epochs;
    int64_t samples;   /* training samples an epoch */
    int batch_size;
    uint64_t seed;
} ResumeBounds;

typedef struct {
    int epoch;
    int64_t batch;
    uint64_t step, seed;
    int best_epoch, wait;
    double best, epoch_loss_sum;
    int64_t epoch_correct;
    double *lists[RESUME_NLISTS]; /* epoch values each (malloc'd, at least one slot) */
} ResumeState;

/* Reads and checks every field; 0, or -1 with "PATH: ..." and nothing to free. */
int ckpt_resume_read(const Checkpoint *c, const char *path, const ResumeBounds *b, ResumeState *out, char *err,
                     size_t errlen);
/* Frees the lists. */
void ckpt_resume_free(ResumeState *r);

#endif
