/* embed.c — mmgc_model.h: a model compiled ahead of time (mmgc --emit=obj)
 * as a C library.
 *
 * A handle is what a program compiled by --aot has while it runs: the
 * model elaborated from the sources it carries, the training step built by
 * the same pipeline, one block of parameters (params.h) bound to the
 * compiled evaluation and, from the first training step on, to the
 * compiled step. The caller's arrays are handed to the runtime's batch
 * filling as a data set view (no copy), so padding and sample weights are
 * those of training and --predict.
 */
#include "mmgc_model.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aot.h"
#include "aot_cpu.h"
#include "aot_weights.h"
#include "ckpt_layout.h"
#include "dataset.h"
#include "elaborate.h"
#include "engine.h"
#include "lr_schedule.h"
#include "params.h"
#include "predict.h"
#include "train.h"
#include "util.h"

/* The backends of the library: its compiled steps first, the interpreter. */
const EngineOps *const engine_backends[] = {&engine_aot, &engine_interp, NULL};

struct MmgcModel {
    Program p;
    Elaborated m;
    Graph *step_graph; /* the training step; the parameters are laid out from it */
    Graph *eval_graph; /* the forward graph as evaluation runs it */
    ParamStore ps;
    Engine eval;
    Engine train;      /* opened by the first training step */
    int classes;
    int lr;            /* the step's learning-rate input, or -1 */
    int64_t steps;
    char err[1024];
};

/* One call into mmgc at a time (mmgc_model.h, Threads). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Sets h's message; returns -1. */
__attribute__((format(printf, 2, 3))) static int fail(MmgcModel *h, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->err, sizeof h->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* The weights and model state of the checkpoint at path (NULL: the baked
 * ones) into the store, the optimizer's state zeroed; the store is
 * unchanged on error. */
static int load_weights(MmgcModel *h, const char *path) {
    char baked[64];
    int fd = -1;
    if (!path) {
        if ((fd = aot_weights_open(baked, sizeof baked, h->err, sizeof h->err)) < 0) return -1;
        path = baked;
    }
    Checkpoint *c = ckpt_layout_read(path, h->err, sizeof h->err);
    float *w = xmalloc((h->ps.nfloats + 1) * sizeof *w);
    memcpy(w, h->ps.block, h->ps.nfloats * sizeof *w);
    int rc = c ? ckpt_layout_weights(c, fd >= 0 ? "the baked weights" : path, &h->ps, w, h->err, sizeof h->err) : -1;
    if (!rc) {
        for (int i = 0; i < h->ps.n; i++)
            if (h->ps.slots[i].is_state)
                memset(w + h->ps.slots[i].offset, 0, (size_t)ir_numel(&h->ps.slots[i].shape) * sizeof *w);
        memcpy(h->ps.block, w, h->ps.nfloats * sizeof *w);
        h->steps = 0;
    }
    free(w);
    ckpt_free(c);
    if (fd >= 0) close(fd);
    return rc;
}

/* The model from the sources the object carries, its step, its weights. */
static int open_model(MmgcModel *h, const char *weights) {
    char missing[256];
    if (aot_cpu_missing(mmgc_aot_model.cpu_features, missing, sizeof missing))
        return fail(h,
                    "this model was compiled for a CPU with %s (--cpu=%s), and this CPU lacks %s; build it again "
                    "with 'mmgc MODEL.mmg --emit=obj --cpu=native' on this machine, or a portable --cpu=x86-64-v2",
                    mmgc_aot_model.cpu_features, mmgc_aot_model.cpu, missing);
    program_init(&h->p);
    SetOption *sets = xcalloc((size_t)mmgc_aot_model.nsets + 1, sizeof *sets);
    for (int i = 0; i < mmgc_aot_model.nsets; i++) sets[i].text = mmgc_aot_model.sets[i];
    int rc = program_load_files(&h->p, mmgc_aot_model.files, mmgc_aot_model.nfiles) ||
             elaborate(&h->p, mmgc_aot_model.model, sets, mmgc_aot_model.nsets, &h->m);
    free(sets);
    if (rc) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (f) {
            diag_print(&h->p.diag, f);
            fclose(f);
        }
        fail(h, "the model's sources do not compile: %s", text ? text : "");
        free(text);
        return -1;
    }
    if ((h->classes = predict_classes(&h->m, h->err, sizeof h->err)) < 0) return -1;
    if (!(h->step_graph = train_step_graph(&h->m, 1, h->err, sizeof h->err))) return -1;
    h->lr = ir_input(h->step_graph, IR_LR);
    if (params_init(&h->ps, h->step_graph, h->err, sizeof h->err)) return -1;
    params_reset(&h->ps, h->step_graph, (uint64_t)h->m.train.seed);
    if ((weights || mmgc_aot_model.weights) && load_weights(h, weights)) return -1;
    if (!(h->eval_graph = train_step_graph(&h->m, 0, h->err, sizeof h->err))) return -1;
    return engine_open(&h->eval, engine_default(), h->eval_graph, h->err, sizeof h->err) ||
           params_bind(&h->ps, &h->eval, h->err, sizeof h->err);
}

MmgcModel *mmgc_model_create(const char *weights, char *err, size_t errlen) {
    MmgcModel *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_lock(&lock);
    int rc = open_model(h, weights);
    pthread_mutex_unlock(&lock);
    if (rc) {
        snprintf(err, errlen, "%s", h->err);
        mmgc_model_destroy(h);
        return NULL;
    }
    return h;
}

void mmgc_model_destroy(MmgcModel *h) {
    if (!h) return;
    pthread_mutex_lock(&lock);
    engine_close(&h->train);
    engine_close(&h->eval);
    params_free(&h->ps);
    if (h->step_graph) ir_graph_free(h->step_graph);
    ir_graph_free(h->eval_graph);
    if (h->m.graph) elaborated_free(&h->m);
    program_free(&h->p);
    pthread_mutex_unlock(&lock);
    free(h);
}

const char *mmgc_model_error(const MmgcModel *h) { return h ? h->err : "no model (NULL)"; }

int mmgc_model_ninputs(const MmgcModel *h) { return h->m.ninputs; }
const char *mmgc_model_input_name(const MmgcModel *h, int i) {
    return i >= 0 && i < h->m.ninputs ? h->m.inputs[i].name : NULL;
}
int64_t mmgc_model_input_size(const MmgcModel *h, int i) {
    return i >= 0 && i < h->m.ninputs ? dataset_tensor(&h->m, &h->m.inputs[i], 0).sample : -1;
}
int mmgc_model_nlabels(const MmgcModel *h) { return h->m.nlabels; }
const char *mmgc_model_label_name(const MmgcModel *h, int i) {
    return i >= 0 && i < h->m.nlabels ? h->m.labels[i].name : NULL;
}
int mmgc_model_classes(const MmgcModel *h) { return h->classes; }
int mmgc_model_batch(const MmgcModel *h) { return h->m.train.batch; }
int64_t mmgc_model_steps(const MmgcModel *h) { return h->steps; }

/* The caller's arrays as split 0 of a data set (t has room for every
 * input and label); labels NULL for none. Checks the pointers and the
 * labels' range; 0 or -1. */
static int view(MmgcModel *h, Dataset *d, DataTensor *t, const float *const *inputs, const int64_t *const *labels,
                int64_t n) {
    memset(d, 0, sizeof *d);
    d->t = t;
    d->count[SPLIT_TRAIN] = n;
    d->nclasses = h->classes;
    if (!inputs) return fail(h, "inputs is NULL (expected %d arrays, one per model input)", h->m.ninputs);
    for (int k = 0; k < h->m.ninputs; k++) {
        if (!inputs[k]) return fail(h, "input %d ('%s') is NULL", k, h->m.inputs[k].name);
        t[d->n] = dataset_tensor(&h->m, &h->m.inputs[k], 0);
        t[d->n++].split[SPLIT_TRAIN].data = (void *)inputs[k];
    }
    if (!labels) return 0;
    for (int k = 0; k < h->m.nlabels; k++) {
        if (!labels[k]) return fail(h, "label %d ('%s') is NULL", k, h->m.labels[k].name);
        for (int64_t i = 0; i < n; i++)
            if (labels[k][i] < 0 || labels[k][i] >= h->classes)
                return fail(h, "label '%s' of sample %lld is %lld; the model has classes 0 to %d", h->m.labels[k].name,
                            (long long)i, (long long)labels[k][i], h->classes - 1);
        t[d->n] = dataset_tensor(&h->m, &h->m.labels[k], 1);
        t[d->n++].split[SPLIT_TRAIN].data = (void *)labels[k];
    }
    return 0;
}

static int predict(MmgcModel *h, const float *const *inputs, int64_t n, float *logits) {
    if (n < 1) return fail(h, "predict needs at least one sample (n = %lld)", (long long)n);
    if (!logits) return fail(h, "logits is NULL (expected room for %lld x %d floats)", (long long)n, h->classes);
    Dataset d;
    DataTensor *t = xcalloc((size_t)h->m.ninputs + 1, sizeof *t);
    int rc = view(h, &d, t, inputs, NULL, n) || predict_logits(&d, &h->m, &h->eval, logits, h->err, sizeof h->err);
    free(t);
    return rc ? -1 : 0;
}

/* One step of the training engine (opened the first time) on d's n samples. */
static int step(MmgcModel *h, const Dataset *d, int n, float *loss) {
    Engine *e = &h->train;
    if (!e->impl && (engine_open(e, engine_default(), h->step_graph, h->err, sizeof h->err) ||
                     params_bind(&h->ps, e, h->err, sizeof h->err))) {
        engine_close(e);
        return -1;
    }
    int64_t *idx = xmalloc((size_t)n * sizeof *idx);
    for (int i = 0; i < n; i++) idx[i] = i;
    dataset_fill(d, &h->m, e, SPLIT_TRAIN, idx, n, h->m.train.batch, 1);
    free(idx);
    if (h->lr >= 0) engine_f32(e, h->lr)[0] = (float)lr_schedule_at(&h->m.train.optimizer, 0, (uint64_t)h->steps);
    if (e->ops->run(e->impl, 1, (uint64_t)h->m.train.seed, (uint64_t)h->steps, h->err, sizeof h->err)) return -1;
    e->ops->apply_updates(e->impl);
    h->steps++;
    if (loss) *loss = engine_f32(e, ir_output(h->step_graph, IR_LOSS))[0];
    return 0;
}

static int train_step(MmgcModel *h, const float *const *inputs, const int64_t *const *labels, int n, float *loss) {
    if (n < 1 || n > h->m.train.batch)
        return fail(h, "a training step takes 1 to %d samples (the compiled batch), got %d", h->m.train.batch, n);
    if (h->m.nlabels && !labels)
        return fail(h, "labels is NULL (expected %d arrays, one per model label)", h->m.nlabels);
    Dataset d;
    DataTensor *t = xcalloc((size_t)(h->m.ninputs + h->m.nlabels) + 1, sizeof *t);
    int rc = view(h, &d, t, inputs, labels, n) || step(h, &d, n, loss);
    free(t);
    return rc ? -1 : 0;
}

static int save(MmgcModel *h, const char *path) {
    if (!path) return fail(h, "save needs a path (NULL given)");
    char steps[32];
    snprintf(steps, sizeof steps, "%lld", (long long)h->steps);
    const char *keys[] = {"step"}, *values[] = {steps};
    CkptContents c = {h->m.model, h->ps.block, "last", 0, keys, values, 1};
    return ckpt_layout_write(path, &h->ps, &c, h->err, sizeof h->err);
}

/* Each entry point: the work under the lock. */
#define LOCKED(call)                                                                                                   \
    do {                                                                                                               \
        pthread_mutex_lock(&lock);                                                                                     \
        int rc_ = (call);                                                                                              \
        pthread_mutex_unlock(&lock);                                                                                   \
        return rc_;                                                                                                    \
    } while (0)

int mmgc_model_predict(MmgcModel *h, const float *const *inputs, int64_t n, float *logits) {
    LOCKED(predict(h, inputs, n, logits));
}

int mmgc_model_train_step(MmgcModel *h, const float *const *inputs, const int64_t *const *labels, int n, float *loss) {
    LOCKED(train_step(h, inputs, labels, n, loss));
}

int mmgc_model_load(MmgcModel *h, const char *path) {
    LOCKED(path ? load_weights(h, path) : fail(h, "load needs a path (NULL given)"));
}

int mmgc_model_save(MmgcModel *h, const char *path) { LOCKED(save(h, path)); }
