/* dataset.c — see dataset.h. */
#include "dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "idx.h"
#include "rng.h"
#include "util.h"
#include "wav.h"

static const char *split_name[2] = {"train", "test"};

const char *dataset_path(const char *dir, const char *name, int split, char *buf, size_t size) {
    static const char *const suffix[] = {".idx", "", ".npy"}; /* "": a folder of WAV files */
    struct stat st;
    snprintf(buf, size, "%s/%s_%s.npy", dir, name, split_name[split]);
    if (!stat(buf, &st)) return buf;
    for (int k = 0; k < 3; k++) { /* ends on the .npy path when none is there: reading it says so */
        snprintf(buf, size, "%s/%s_%s%s", dir, name, split_name[split], suffix[k]);
        if (!stat(buf, &st) && (k == 1) == !!S_ISDIR(st.st_mode)) break;
    }
    return buf;
}

/* Whether path names an IDX file (by its extension). */
static int is_idx(const char *path) {
    size_t len = strlen(path);
    return len >= 4 && !strcmp(path + len - 4, ".idx");
}

/* Reads path as the format it names: a folder of WAV files, an IDX file, or an NPY file. */
static int read_any(const char *path, NpyArray *raw, char *err, size_t n) {
    struct stat st;
    if (!stat(path, &st) && S_ISDIR(st.st_mode)) return wav_read_dir(path, raw, NULL, err, n);
    return is_idx(path) ? idx_read(path, raw, err, n) : npy_read(path, raw, err, n);
}

/* The first NaN or infinity of raw, or one that became infinite as f32:
 * -1 with "PATH: sample S, element E is WHAT". */
static int check_finite(const NpyArray *raw, const NpyArray *f32, const char *path, int is_label, char *err, size_t n) {
    int64_t k = npy_find_nonfinite(raw);
    int overflow = k < 0 && (k = npy_find_nonfinite(f32)) >= 0;
    if (k < 0) return 0;
    double v = raw->dtype == 'd' ? ((const double *)raw->data)[k] : ((const float *)raw->data)[k];
    char what[64];
    if (overflow) snprintf(what, sizeof what, "%g, beyond float32's range", v);
    else snprintf(what, sizeof what, "%s", isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf");
    int64_t per = raw->rank ? npy_numel(raw) / raw->shape[0] : 1;
    if (is_label) snprintf(err, n, "%s: the label of sample %lld is %s", path, (long long)(k / per), what);
    else snprintf(err, n, "%s: sample %lld, element %lld is %s", path, (long long)(k / per), (long long)(k % per), what);
    return -1;
}

/* Whether a file's per-sample shape (dims 1..rank) is the model's, size-1
 * dimensions aside ([N, 28, 28] is a [B, 1, 28, 28] input). */
static int same_sample_shape(const int64_t *shape, int rank, const Shape *model) {
    int i = 1, j = 1;
    for (;;) {
        while (i < rank && shape[i] == 1) i++;
        while (j < model->rank && model->dim[j] == 1) j++;
        if (i == rank || j == model->rank) return i == rank && j == model->rank;
        if (shape[i++] != model->dim[j++]) return 0;
    }
}

int dataset_read(DataTensor *t, const char *path, int split, const Shape *model, char *err, size_t n) {
    char buf[128];
    NpyArray raw;
    if (read_any(path, &raw, err, n)) return -1;
    char why[512] = "";
    NpyArray *out = &t->split[split];
    int rc = 0;
    char dtype = t->is_label ? 'l' : 'f';
    if (npy_find_nonfinite(&raw) >= 0) /* before converting: name the value as stored */
        rc = check_finite(&raw, &raw, path, t->is_label, err, n);
    else if (raw.dtype == dtype) { /* already as the model reads it: keep the one copy, do not convert */
        *out = raw;
        raw.data = NULL, raw.nbytes = 0;
    } else if ((rc = npy_convert(&raw, dtype, out, why, sizeof why)))
        snprintf(err, n, "%s: as %s: %s", path, t->is_label ? "labels (int64)" : "an input (float32)", why);
    else if (!t->is_label && raw.dtype == 'd')
        rc = check_finite(&raw, out, path, 0, err, n);
    if (!rc && !t->is_label && raw.dtype == 'b') { /* uint8: its range 0..255 scaled to [0, 1] */
        float *x = out->data;
        for (int64_t k = 0, e = npy_numel(out); k < e; k++) x[k] /= 255.0f;
    }
    int rank = raw.rank;
    int64_t shape[NPY_MAX_RANK];
    memcpy(shape, raw.shape, sizeof shape);
    npy_free(&raw);
    if (rc) {
        npy_free(out);
        return -1;
    }
    if (rank < 1 || !same_sample_shape(shape, rank, model)) {
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
            if (dataset_read(t, dataset_path(dir, t->name, split, path, sizeof path), split, s, err, n)) return -1;
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
                char a[1024], b[1024];
                dataset_path(dir, d->t[i].name, split, a, sizeof a);
                dataset_path(dir, d->t[0].name, split, b, sizeof b);
                snprintf(err, n, "%s: %s has %lld samples but %s has %lld", dir, a + strlen(dir) + 1,
                         (long long)d->t[i].split[split].shape[0], b + strlen(dir) + 1, (long long)d->count[split]);
                return -1;
            }
        for (int i = 0; i < d->n; i++) {
            if (!d->t[i].is_label || !d->nclasses) continue;
            const int64_t *y = d->t[i].split[split].data;
            for (int64_t k = 0; k < d->count[split]; k++)
                if (y[k] < 0 || y[k] >= d->nclasses) {
                    char path[1024];
                    snprintf(err, n, "%s: label %lld of sample %lld is out of range for %d classes",
                             dataset_path(dir, d->t[i].name, split, path, sizeof path), (long long)y[k], (long long)k,
                             d->nclasses);
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
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, n, "%s: %s (`make data` builds the digits data set in data/digits; --data DIR reads another)", dir,
                 stat(dir, &st) ? "no such data directory" : "the data directory is not a directory");
        return -1;
    }
    int first = with_train ? SPLIT_TRAIN : SPLIT_TEST;
    if (load_all(d, dir, m, m->inputs, m->ninputs, 0, first, err, n) ||
        load_all(d, dir, m, m->labels, m->nlabels, 1, first, err, n))
        return -1;
    return check_counts(d, dir, first, err, n);
}

double dataset_mib(const Dataset *d) {
    double bytes = 0;
    for (int i = 0; i < d->n; i++)
        for (int s = 0; s < 2; s++) bytes += (double)d->t[i].split[s].nbytes;
    return bytes / (1024.0 * 1024.0);
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
