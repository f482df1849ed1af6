/* early_stop.c — see early_stop.h. */
#include "early_stop.h"

#include <math.h>

void early_stop_init(EarlyStop *s, int maximize, int patience, double min_delta) {
    *s = (EarlyStop){maximize, patience, fabs(min_delta), maximize ? -INFINITY : INFINITY, 0, 0};
}

int early_stop_update(EarlyStop *s, int epoch, double value) {
    int better = s->maximize ? value > s->best + s->min_delta : value < s->best - s->min_delta;
    if (s->best_epoch == 0 && !isnan(value)) better = 1; /* the first epoch is the first best */
    if (better) {
        s->best = value;
        s->best_epoch = epoch;
        s->wait = 0;
        return 1;
    }
    s->wait++;
    return 0;
}

int early_stop_done(const EarlyStop *s) { return s->wait > 0 && s->wait >= s->patience; }
