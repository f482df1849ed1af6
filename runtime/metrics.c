/* metrics.c — see metrics.h. */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void metrics_init(Metrics *m, int nclasses) {
    memset(m, 0, sizeof *m);
    m->nclasses = nclasses;
    m->confusion = xcalloc((size_t)(nclasses * nclasses + 1), sizeof *m->confusion);
}

void metrics_reset(Metrics *m) {
    m->loss_sum = 0;
    m->samples = m->correct = 0;
    memset(m->confusion, 0, (size_t)(m->nclasses * m->nclasses) * sizeof *m->confusion);
}

void metrics_free(Metrics *m) {
    free(m->confusion);
    memset(m, 0, sizeof *m);
}

int metrics_argmax(const float *logits, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

void metrics_add(Metrics *m, const float *sample_loss, double batch_loss, const float *logits, const int64_t *labels,
                 int real) {
    for (int i = 0; i < real; i++) {
        m->loss_sum += sample_loss ? sample_loss[i] : batch_loss;
        if (!m->nclasses || !logits || !labels) continue;
        int pred = metrics_argmax(logits + (size_t)i * m->nclasses, m->nclasses);
        m->confusion[labels[i] * m->nclasses + pred]++;
        m->correct += pred == labels[i];
    }
    m->samples += real;
}

double metrics_loss(const Metrics *m) { return m->samples ? m->loss_sum / (double)m->samples : 0; }

double metrics_accuracy(const Metrics *m) { return m->samples ? (double)m->correct / (double)m->samples : 0; }

double metrics_precision(const Metrics *m, int c) {
    int64_t predicted = 0;
    for (int t = 0; t < m->nclasses; t++) predicted += m->confusion[t * m->nclasses + c];
    return predicted ? (double)m->confusion[c * m->nclasses + c] / (double)predicted : 0;
}

double metrics_recall(const Metrics *m, int c) {
    int64_t actual = 0;
    for (int p = 0; p < m->nclasses; p++) actual += m->confusion[c * m->nclasses + p];
    return actual ? (double)m->confusion[c * m->nclasses + c] / (double)actual : 0;
}
