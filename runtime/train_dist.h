/* train_dist.h — data-parallel training: one model, its global batch split
 * over the processes of dist.h (mpirun -np N mmgc --train).
 *
 * The single-process step is one compiled graph: forward, loss, backward,
 * update. Here it is two: every rank runs the gradient step (the pipeline
 * to STAGE_GRAD, compiled for its shard of ceil(B/N) rows), the gradients
 * are summed over ranks in a fixed order (dist_sum_f32), and every rank
 * runs the update step (the optimizer pass alone, its gradients as inputs)
 * on the same global gradient, so the parameters stay the same bits on
 * every rank with nothing broadcast. Gradient clipping and weight decay
 * see the global gradient.
 *
 * The loss is a mean over the real samples of a batch, so the global
 * gradient is sum_r (W_r / W) grad_r, W_r the real samples of rank r's
 * shard: each rank packs W_r grad_r, and the sum is divided by W once.
 * A model's own state (batch-norm running statistics) is updated per
 * shard and then averaged over ranks, so it too stays equal everywhere.
 */
#ifndef MMGC_TRAIN_DIST_H
#define MMGC_TRAIN_DIST_H

#include "train_impl.h"

/* Opens s->dist on s (its ParamStore laid out and initialized): the
 * gradient step of `shard` (the model elaborated with batch ceil(B/N)) and
 * the update step. 0, or -1 with a message. */
int dist_step_open(Session *s, const Elaborated *shard, char *err, size_t errlen);
void dist_step_close(struct DistStep *d);

/* One global batch: rows idx[0..count) of the training split, this rank
 * taking its shard of them. The global mean loss in *loss, the right
 * predictions of every rank in *correct, and *stop set when any rank was
 * interrupted (every rank then stops after the same batch). 0, -1 with a
 * message, or 2 when the loss is not a finite number (no update applied,
 * as in one process). */
int dist_step_run(Session *s, const int64_t *idx, int count, int epoch, int interrupted, double *loss,
                  int64_t *correct, int *stop, char *err, size_t errlen);

/* With --time: the processes, the bytes summed per step and the time the
 * sums took (the data-parallel overhead beside the steps' compute). */
void dist_step_print_time(const struct DistStep *d, FILE *out);

/* Sums the metrics of every rank's evaluation shard into m, on every rank. */
void dist_metrics_sum(Metrics *m);

#endif
