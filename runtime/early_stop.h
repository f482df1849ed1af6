/* early_stop.h — stop training when the monitored metric stops improving.
 *
 * As PyTorch Lightning's EarlyStopping: an epoch improves on the best when
 * it is better by more than min_delta; after `patience` epochs in a row
 * without improvement, training stops. The best epoch's weights are the
 * ones kept.
 */
#ifndef MMGC_EARLY_STOP_H
#define MMGC_EARLY_STOP_H

typedef struct {
    int maximize;     /* accuracy: higher is better; loss: lower */
    int patience;
    double min_delta;
    double best;
    int best_epoch;   /* 1-based; 0 before the first epoch */
    int wait;         /* epochs since the best */
} EarlyStop;

void early_stop_init(EarlyStop *s, int maximize, int patience, double min_delta);
/* Records epoch's value; returns 1 if it is the new best. */
int early_stop_update(EarlyStop *s, int epoch, double value);
/* Has patience run out? */
int early_stop_done(const EarlyStop *s);

#endif
