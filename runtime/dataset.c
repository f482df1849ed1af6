/* dataset.c — see dataset.h. */
#include "dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

static const char *split_name[2] = {"train", "test"};

int dataset_read(DataTensor *t, const char *path, int split, const Shape *model, char *err, size_t n) {
    char buf[128];
    NpyArray raw;
    if (npy_read(path, &raw, err, n)) return -1;
    char why[512] = "";
    int rc = npy_convert(&raw, t->is_label ? 'l' : 'f', &t->split[split], why, sizeof why);
    if (rc) snprintf(err, n, "%s: as %s: %s", path, t->is_label ? "labels (int64)" : "an input (float32)", why);
    int rank = raw.rank;
    int64_t shape[NPY_MAX_RANK];
    memcpy(shape, raw.shape, sizeof shape);
    npy_free(&raw);
    if (rc) return -1;
    int ok = rank == model->rank && rank >= 1;
    for (int i = 1; ok && i < rank; i++) ok = shape[i] == model->dim[i];
    if (!ok) {
        Shape want = *model, got = {rank, {0}};
        want.dim[0] = -1;
        memcpy(got.dim, shape, sizeof got.dim);
        char gbuf[128];
        ir_shape_str(&got, gbuf, sizeof gbuf);
        ir_shape_str(&want, buf, sizeof buf);
        snprintf(err, n, "%s: shape %s does not match the model's %s '%s' (%s, any sample count)", path, gbuf,
                 t->is_label ? "label" : "input", t->name, buf);
        return -1;
    }
    return 0;
}

DataTensor dataset_tensor(const Elaborated *m, const ModelIO *io, int is_label) {
    const Shape *s = &m->graph->nodes[io->node].type.shape;
    return (DataTensor){io->name, io->node, is_label, ir_numel(s) / (s->dim[0] ? s->dim[0] : 1), {{0}}};
}

/* Adds the tensors of one list of model inputs or labels and loads them. */
static int load_all(Dataset *d, const char *dir, const Elaborated *m, const ModelIO *io, int nio, int labels,
                    int first_split, char *err, size_t n) {
    for (int i = 0; i < nio; i++) {
        DataTensor *t = &d->t[d->n++];
        const Shape *s = &m->graph->nodes[io[i].node].type.shape;
        *t = dataset_tensor(m, &io[i], labels);
        for (int split = first_split; split < 2; split++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s_%s.npy", dir, t->name, split_name[split]);
            if (dataset_read(t, path, split, s, err, n)) return -1;
        }
    }
    return 0;
}

/* All tensors of a split have one sample count; labels are in range. */
static int check_counts(Dataset *d, const char *dir, int first_split, char *err, size_t n) {
    for (int split = first_split; split < 2; split++) {
        d->count[split] = d->t[0].split[split].shape[0];
        for (int i = 1; i < d->n; i++)
            if (d->t[i].split[split].shape[0] != d->count[split]) {
                snprintf(err, n, "%s: %s_%s.npy has %lld samples but %s_%s.npy has %lld", dir, d->t[i].name,
                         split_name[split], (long long)d->t[i].split[split].shape[0], d->t[0].name,
                         split_name[split], (long long)d->count[split]);
                return -1;
            }
        for (int i = 0; i < d->n; i++) {
            if (!d->t[i].is_label || !d->nclasses) continue;
            const int64_t *y = d->t[i].split[split].data;
            for (int64_t k = 0; k < d->count[split]; k++)
                if (y[k] < 0 || y[k] >= d->nclasses) {
                    snprintf(err, n, "%s/%s_%s.npy: label %lld of sample %lld is out of range for %d classes", dir,
                             d->t[i].name, split_name[split], (long long)y[k], (long long)k, d->nclasses);
                    return -1;
                }
        }
    }
    if (first_split == SPLIT_TRAIN && d->count[SPLIT_TRAIN] == 0) {
        snprintf(err, n, "%s: the training split has no samples", dir);
        return -1;
    }
    return 0;
}

int dataset_load(Dataset *d, const char *dir, const Elaborated *m, int with_train, char *err, size_t n) {
    memset(d, 0, sizeof *d);
    d->t = xcalloc((size_t)(m->ninputs + m->nlabels + 1), sizeof *d->t);
    int logits = ir_output(m->graph, IR_LOGITS);
    if (logits >= 0) {
        const Shape *s = &m->graph->nodes[logits].type.shape;
        d->nclasses = (int)s->dim[s->rank - 1];
    }
    if (m->ninputs + m->nlabels == 0) {
        snprintf(err, n, "the model declares no inputs or labels to read from %s", dir);
        return -1;
    }
    int first = with_train ? SPLIT_TRAIN : SPLIT_TEST;
    if (load_all(d, dir, m, m->inputs, m->ninputs, 0, first, err, n) ||
        load_all(d, dir, m, m->labels, m->nlabels, 1, first, err, n))
        return -1;
    return check_counts(d, dir, first, err, n);
}

void dataset_free(Dataset *d) {
    for (int i = 0; i < d->n; i++)
        for (int s = 0; s < 2; s++) npy_free(&d->t[i].split[s]);
    free(d->t);
    memset(d, 0, sizeof *d);
}

void dataset_fill(const Dataset *d, const Elaborated *m, Engine *e, int split, const int64_t *idx, int count, int B,
                  int training) {
    for (int t = 0; t < d->n; t++) {
        const DataTensor *dt = &d->t[t];
        size_t esize = dt->is_label ? sizeof(int64_t) : sizeof(float), row = (size_t)dt->sample * esize;
        char *dst = e->ops->buffer(e->impl, dt->node);
        const char *src = dt->split[split].data;
        for (int r = 0; r < B; r++) memcpy(dst + (size_t)r * row, src + (size_t)idx[r < count ? r : 0] * row, row);
    }
    if (m->weight_node >= 0) {
        float *w = engine_f32(e, m->weight_node);
        for (int r = 0; r < B; r++) w[r] = r < count ? 1.0f : 0.0f;
    }
    if (m->training_node >= 0) /* 1 in the training step, 0 when evaluating (dropout follows the same) */
        engine_f32(e, m->training_node)[0] = training ? 1.0f : 0.0f;
}

void dataset_permutation(int64_t *out, int64_t n, uint64_t seed, uint64_t stream) {
    uint32_t key[2];
    rng_key(seed, stream, key);
    for (int64_t i = 0; i < n; i++) out[i] = i;
    for (int64_t i = n - 1; i > 0; i--) { /* Fisher-Yates, one draw per position */
        int64_t j = (int64_t)(rng_uniform_key(key, 0, (uint64_t)i) * (double)(i + 1));
        if (j > i) j = i;
        int64_t t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}
