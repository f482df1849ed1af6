/* lr_schedule.c — see lr_schedule.h. */
#include "lr_schedule.h"

#include <math.h>

double lr_schedule_at(const OptimizerSpec *o, int epoch, uint64_t step) {
    const LrSchedule *s = &o->schedule;
    double lr = o->lr;
    switch (s->kind) {
    case LR_CONSTANT: break;
    case LR_STEP: lr *= pow(s->gamma, (double)(epoch / (s->every > 0 ? s->every : 1))); break;
    case LR_COSINE:
        lr = s->min_lr + (lr - s->min_lr) * (1 + cos(M_PI * epoch / (s->t_max > 0 ? s->t_max : 1))) / 2;
        break;
    }
    if (s->warmup > 0 && step < (uint64_t)s->warmup) lr *= (double)(step + 1) / s->warmup;
    return lr;
}
