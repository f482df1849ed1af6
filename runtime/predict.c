/* predict.c — see predict.h. */
#include "predict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_layout.h"
#include "dataset.h"
#include "metrics.h"
#include "npy.h"
#include "params.h"
#include "train.h"
#include "util.h"

/* The model's input names, "x, y", into buf. */
static const char *input_names(const Elaborated *m, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < m->ninputs && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", m->inputs[i].name);
    return buf;
}

/* Reads every model input from its --input file into d (split 0); checks
 * names, shapes and sample counts. */
static int read_inputs(Dataset *d, const Elaborated *m, const PredictOptions *o, const char **paths, char *err,
                       size_t n) {
    char names[512], shape[128];
    for (int i = 0; i < o->ninputs; i++) {
        int k = 0;
        while (k < m->ninputs && strcmp(m->inputs[k].name, o->inputs[i].name)) k++;
        if (k == m->ninputs) {
            snprintf(err, n, "--input %s=%s: model '%s' has no input '%s' (its inputs: %s)", o->inputs[i].name,
                     o->inputs[i].path, m->model, o->inputs[i].name, input_names(m, names, sizeof names));
            return -1;
        }
        if (paths[k]) {
            snprintf(err, n, "--input %s is given twice ('%s' and '%s')", o->inputs[i].name, paths[k], o->inputs[i].path);
            return -1;
        }
        paths[k] = o->inputs[i].path;
    }
    for (int k = 0; k < m->ninputs; k++) {
        const Shape *s = &m->graph->nodes[m->inputs[k].node].type.shape;
        if (!paths[k]) {
            Shape want = *s;
            want.dim[0] = -1;
            snprintf(err, n, "model '%s' needs --input %s=FILE.npy (input '%s' is %s, any sample count)", m->model,
                     m->inputs[k].name, m->inputs[k].name, ir_shape_str(&want, shape, sizeof shape));
            return -1;
        }
        d->t[d->n] = dataset_tensor(m, &m->inputs[k], 0);
        if (dataset_read(&d->t[d->n++], paths[k], SPLIT_TRAIN, s, err, n)) return -1;
        int64_t count = d->t[k].split[SPLIT_TRAIN].shape[0];
        if (k == 0) d->count[SPLIT_TRAIN] = count;
        else if (count != d->count[SPLIT_TRAIN]) {
            snprintf(err, n, "%s has %lld samples but %s has %lld (every input needs one row per sample)", paths[k],
                     (long long)count, paths[0], (long long)d->count[SPLIT_TRAIN]);
            return -1;
        }
    }
    return 0;
}

int predict_logits(const Dataset *d, const Elaborated *m, Engine *e, float *out, char *err, size_t n) {
    int B = m->train.batch, logits = ir_output(m->graph, IR_LOGITS);
    int c = (int)m->graph->nodes[logits].type.shape.dim[1];
    int64_t N = d->count[SPLIT_TRAIN];
    /* no labels: the loss the graph also computes reads class 0 */
    for (int i = 0; i < m->nlabels; i++) {
        const Shape *s = &m->graph->nodes[m->labels[i].node].type.shape;
        memset(e->ops->buffer(e->impl, m->labels[i].node), 0, (size_t)ir_numel(s) * sizeof(int64_t));
    }
    int64_t *idx = xmalloc((size_t)(B + 1) * sizeof *idx);
    int rc = 0;
    for (int64_t at = 0; at < N && !rc; at += B) {
        int count = (int)(N - at < B ? N - at : B);
        for (int r = 0; r < count; r++) idx[r] = at + r;
        dataset_fill(d, m, e, SPLIT_TRAIN, idx, count, B, 0);
        rc = e->ops->run(e->impl, 0, (uint64_t)m->train.seed, 0, err, n);
        if (!rc) memcpy(out + at * c, engine_f32(e, logits), (size_t)count * (size_t)c * sizeof *out);
    }
    free(idx);
    return rc;
}

/* One line per sample: index, predicted class, its softmax probability. */
static void print_predictions(FILE *f, const float *logits, int64_t N, int c) {
    for (int64_t i = 0; i < N; i++) {
        const float *l = logits + i * c;
        int k = metrics_argmax(l, c);
        double sum = 0;
        for (int j = 0; j < c; j++) sum += exp((double)l[j] - (double)l[k]);
        fprintf(f, "%lld  %d  %.4f\n", (long long)i, k, 1.0 / sum);
    }
}

int predict_classes(const Elaborated *m, char *err, size_t n) {
    int logits = ir_output(m->graph, IR_LOGITS);
    if (logits < 0) {
        snprintf(err, n, "model '%s' has no logits (it binds only a loss), so there is nothing to predict", m->model);
        return -1;
    }
    const Shape *ls = &m->graph->nodes[logits].type.shape;
    char buf[128];
    if (ls->rank != 2) {
        snprintf(err, n, "model '%s' has logits %s; predicting needs [batch, classes]", m->model,
                 ir_shape_str(ls, buf, sizeof buf));
        return -1;
    }
    return (int)ls->dim[1];
}

int predict_model(const Elaborated *m, const PredictOptions *o, char *err, size_t n) {
    int c = predict_classes(m, err, n);
    if (c < 0) return -1;
    Dataset d;
    memset(&d, 0, sizeof d);
    d.t = xcalloc((size_t)(m->ninputs + 1), sizeof *d.t);
    d.nclasses = c;
    const char **paths = xcalloc((size_t)(m->ninputs + 1), sizeof *paths);
    ParamStore ps;
    memset(&ps, 0, sizeof ps);
    Engine e;
    memset(&e, 0, sizeof e);
    NpyArray out = {0};
    Checkpoint *ck = NULL;
    int rc = read_inputs(&d, m, o, paths, err, n);
    if (!rc) rc = params_init(&ps, m->graph, err, n);
    if (!rc && !(ck = ckpt_layout_read(o->checkpoint, err, n))) rc = -1;
    if (!rc) rc = ckpt_layout_weights(ck, o->checkpoint, &ps, ps.block, err, n);
    int64_t shape[2] = {d.count[SPLIT_TRAIN], c};
    if (!rc) rc = npy_alloc(&out, 'f', 2, shape, err, n);
    Graph *g = rc ? NULL : train_step_graph(m, 0, err, n); /* the forward graph as evaluation runs it */
    if (!rc && !g) rc = -1;
    if (!rc) rc = engine_open(&e, o->engine, g, err, n) || params_bind(&ps, &e, err, n);
    if (!rc) rc = predict_logits(&d, m, &e, out.data, err, n);
    if (!rc && o->logits_path) rc = npy_write(o->logits_path, &out, err, n);
    if (!rc) print_predictions(o->out, out.data, shape[0], c);
    npy_free(&out);
    engine_close(&e);
    ir_graph_free(g);
    ckpt_free(ck);
    params_free(&ps);
    dataset_free(&d);
    free(paths);
    return rc ? -1 : 0;
}
