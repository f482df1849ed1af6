/* metrics.h — loss, accuracy, confusion matrix, per-class precision and
 * recall, accumulated batch by batch over the real samples only. */
#ifndef MMGC_METRICS_H
#define MMGC_METRICS_H

#include <stdint.h>

typedef struct {
    double loss_sum;     /* sum of per-sample losses (or batch loss x samples) */
    int64_t samples;     /* real samples seen */
    int nclasses;        /* 0: no logits, no accuracy */
    int64_t *confusion;  /* [true * nclasses + predicted] */
    int64_t correct;
} Metrics;

void metrics_init(Metrics *m, int nclasses);
void metrics_reset(Metrics *m);
void metrics_free(Metrics *m);
/* Adds the first `real` samples of a batch: per-sample losses (or NULL and
 * the batch's scalar loss), logits [B, nclasses] and labels [B] (or NULL). */
void metrics_add(Metrics *m, const float *sample_loss, double batch_loss, const float *logits, const int64_t *labels,
                 int real);
double metrics_loss(const Metrics *m);
double metrics_accuracy(const Metrics *m);
/* Precision and recall of class c (0 when undefined). */
double metrics_precision(const Metrics *m, int c);
double metrics_recall(const Metrics *m, int c);
/* The index of the largest of n logits (the first on ties). */
int metrics_argmax(const float *logits, int n);

#endif
