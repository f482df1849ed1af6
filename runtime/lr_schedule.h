/* lr_schedule.h — the learning rate of each training step.
 *
 * Per epoch e (0-based), as PyTorch's schedulers in closed form:
 *   constant  lr
 *   step      lr * gamma^floor(e / every)                             (StepLR)
 *   cosine    min_lr + (lr - min_lr) * (1 + cos(pi * e / t_max)) / 2  (CosineAnnealingLR)
 * times a linear warm-up over the first `warmup` steps of the run: step k
 * (0-based) is scaled by min(1, (k + 1) / warmup), as LinearLR with
 * start_factor 1/warmup stepped per batch. The runtime feeds the result
 * to the step's input "optimizer.lr" before each step.
 */
#ifndef MMGC_LR_SCHEDULE_H
#define MMGC_LR_SCHEDULE_H

#include <stdint.h>

#include "passes.h"

/* The learning rate of step `step` (0-based, counted over the whole run),
 * which falls in epoch `epoch` (0-based). */
double lr_schedule_at(const OptimizerSpec *o, int epoch, uint64_t step);

#endif
