/* test_golden.c — mmgc against PyTorch, on fixtures tests/golden/gen.py wrote.
 *
 * For every tests/golden/NAME.mmg: compile the training step (autodiff with
 * input gradients, Adam at lr 1e-3), load param.* and input.* from
 * tests/golden/NAME/, run one step on each backend (the interpreter and the
 * LLVM backend), and compare the loss, logits, every grad.* and, after the
 * update, every adam.* with PyTorch's values: max |mmgc - torch| <= 1e-4 * max(|torch|) per tensor
 * (with |torch| counted as at least 1e-3, so a tensor that is zero up to
 * rounding noise, like the gradient of a key bias in attention, compares
 * equal to mmgc's own rounding noise).
 *
 * A case with state (batch norm's running statistics) starts it from
 * state.S, compares it after the step with newstate.S, and then evaluates
 * the forward graph (training = 0) with the updated parameters and state
 * against eval.loss.
 *
 * Adam divides by |g|: where a gradient is rounding noise (|g| below 1e-6
 * of its tensor's largest, or of 1), torch and mmgc may step by up to lr in
 * opposite directions; there the tolerance is 2 lr.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/compile.h"
#include "harness.h"
#include "engine.h"
#include "npy.h"

#define DIR_ "tests/golden"
#define RTOL 1e-4

/* Loads DIR_/case/prefix.name.npy as f32 (or i64 when want_i64). */
static int load(const char *cs, const char *prefix, const char *name, NpyArray *out, int want_i64) {
    char path[512], err[512];
    snprintf(path, sizeof path, DIR_ "/%s/%s.%s.npy", cs, prefix, name);
    NpyArray raw;
    if (npy_read(path, &raw, err, sizeof err)) {
        fprintf(stderr, "\n%s\n", err);
        return -1;
    }
    int rc = npy_convert(&raw, want_i64 ? 'l' : 'f', out, err, sizeof err);
    npy_free(&raw);
    if (rc) fprintf(stderr, "\n%s\n", err);
    return rc;
}

#define LR 1e-3

/* Compares n floats with a reference; prints the worst element on failure.
 * noise (or NULL) marks elements where Adam's step is noise: tolerance 2 LR. */
static int close_enough(const char *what, const float *got, const float *want, const char *noise, int64_t n) {
    double scale = 0, worst = 0;
    int64_t at = 0;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    double tol = RTOL * fmax(scale, 1e-3);
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (noise && noise[i]) d = d <= 2 * LR * 1.001 ? 0 : d;
        if (d > worst) worst = d, at = i;
    }
    int ok = worst <= tol;
    if (!ok)
        fprintf(stderr, "\n%s: element %lld is %.8g, torch %.8g (max |torch| %.4g)\n", what, (long long)at,
                got[at], want[at], scale);
    return ok;
}

/* Marks the elements of torch's gradient of `name` that are rounding noise. */
static char *noise_of(const char *cs, const char *name) {
    NpyArray g;
    if (load(cs, "grad", name, &g, 0)) return NULL;
    const float *v = g.data;
    int64_t n = npy_numel(&g);
    double top = 0;
    for (int64_t i = 0; i < n; i++) top = fmax(top, fabs(v[i]));
    char *mask = calloc((size_t)n + 1, 1);
    for (int64_t i = 0; i < n; i++) mask[i] = fabs(v[i]) < 1e-6 * fmax(top, 1.0);
    npy_free(&g);
    return mask;
}

/* Compares the buffer of node id with DIR_/case/prefix.name.npy. */
static int compare(Engine *in, int id, const char *cs, const char *prefix, const char *name) {
    NpyArray ref;
    if (load(cs, prefix, name, &ref, 0)) return 0;
    char *noise = !strcmp(prefix, "adam") ? noise_of(cs, name) : NULL;
    const Graph *g = in->g;
    int64_t n = ir_numel(&g->nodes[id].type.shape);
    int ok = npy_numel(&ref) == n;
    char what[512];
    snprintf(what, sizeof what, "%s (%s): %s.%s", cs, in->ops->name, prefix, name);
    if (!ok) fprintf(stderr, "\n%s: %lld elements, torch has %lld\n", what, (long long)n, (long long)npy_numel(&ref));
    else ok = close_enough(what, engine_f32(in, id), ref.data, noise, n);
    free(noise);
    npy_free(&ref);
    return ok;
}

/* Is node n a model's own state (not the optimizer's)? */
static int model_state(const Node *n) { return n->op == OP_STATE && n->init.kind != INIT_NONE; }

/* Fills the sources (params, model state, inputs, labels) of the step from
 * the case's files; training is the value of the `training` input. */
static int feed(Engine *in, const char *cs, float training) {
    const Graph *g = in->g;
    for (int i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        if (n->op != OP_PARAM && n->op != OP_INPUT && n->op != OP_LABEL && !model_state(n)) continue;
        if (n->op == OP_INPUT && !strcmp(n->name, "sample_weight")) { /* every sample is real */
            for (int64_t k = 0; k < ir_numel(&n->type.shape); k++) engine_f32(in, i)[k] = 1;
            continue;
        }
        if (n->op == OP_INPUT && !strcmp(n->name, "training")) {
            engine_f32(in, i)[0] = training;
            continue;
        }
        NpyArray a;
        int i64 = n->type.dtype == DT_I64;
        const char *prefix = n->op == OP_PARAM ? "param" : n->op == OP_STATE ? "state" : "input";
        if (load(cs, prefix, n->name, &a, i64)) return -1;
        if (npy_numel(&a) != ir_numel(&n->type.shape)) {
            fprintf(stderr, "\n%s: %s has %lld elements, the model wants %lld\n", cs, n->name,
                    (long long)npy_numel(&a), (long long)ir_numel(&n->type.shape));
            npy_free(&a);
            return -1;
        }
        memcpy(in->ops->buffer(in->impl, i), a.data, a.nbytes);
        npy_free(&a);
    }
    return 0;
}

/* Evaluates the forward graph fwd (training = 0) with the parameters and
 * state the step `train` left, and compares the loss with eval.loss. */
static int evaluate(Engine *train, const Graph *fwd, const char *cs, const EngineOps *ops) {
    char err[512];
    Engine e = {0};
    if (engine_open(&e, ops, fwd, err, sizeof err)) {
        fprintf(stderr, "\n%s: %s\n", cs, err);
        return 0;
    }
    int ok = feed(&e, cs, 0) == 0;
    for (int i = 0; ok && i < fwd->nnodes; i++) /* same ids in both graphs */
        if (fwd->nodes[i].op == OP_PARAM || model_state(&fwd->nodes[i]))
            memcpy(e.ops->buffer(e.impl, i), train->ops->buffer(train->impl, i),
                   (size_t)ir_numel(&fwd->nodes[i].type.shape) * sizeof(float));
    if (ok && e.ops->run(e.impl, 0, 0, 0, err, sizeof err)) fprintf(stderr, "\n%s: %s\n", cs, err), ok = 0;
    if (ok) ok = compare(&e, ir_output(fwd, "loss"), cs, "eval", "loss");
    engine_close(&e);
    return ok;
}

/* Runs one golden case on a backend; returns 1 if everything matches PyTorch. */
static int run_case(const char *cs, const EngineOps *ops) {
    char path[512], err[512];
    snprintf(path, sizeof path, DIR_ "/%s.mmg", cs);
    Compiled c;
    compile_file(&c, path, NULL, 0);
    if (c.status) {
        diag_print(&c.prog.diag, stderr);
        compile_free(&c);
        return 0;
    }
    Graph *g = c.model.graph;
    Graph *fwd = ir_clone(g); /* for evaluation, after the step */
    PassConfig cfg = {STAGE_TRAIN, {.kind = OPT_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8}, 1, NULL, NULL};
    PassError perr;
    Engine e = {0};
    int ok = pipeline_run(g, &cfg, &perr) == 0;
    if (!ok) fprintf(stderr, "\n%s: %s\n", cs, perr.msg);
    if (ok && engine_open(&e, ops, g, err, sizeof err)) fprintf(stderr, "\n%s: %s\n", cs, err), ok = 0;
    if (ok) ok = feed(&e, cs, 1) == 0;
    if (ok && e.ops->run(e.impl, 1, 0, 0, err, sizeof err)) fprintf(stderr, "\n%s: %s\n", cs, err), ok = 0;
    if (ok) {
        ok &= compare(&e, ir_output(g, "loss"), cs, "out", "loss");
        if (ir_output(g, "logits") >= 0) ok &= compare(&e, ir_output(g, "logits"), cs, "out", "logits");
        for (int i = 0; i < g->nouts; i++)
            if (!strncmp(g->outs[i].name, "grad:", 5) && strcmp(g->outs[i].name, "grad:sample_weight") &&
                strcmp(g->outs[i].name, "grad:training")) /* the runtime's own inputs */
                ok &= compare(&e, g->outs[i].node, cs, "grad", g->outs[i].name + 5);
        e.ops->apply_updates(e.impl);
        for (int i = 0; i < g->nnodes; i++) {
            if (g->nodes[i].op == OP_PARAM) ok &= compare(&e, i, cs, "adam", g->nodes[i].name);
            if (model_state(&g->nodes[i])) ok &= compare(&e, i, cs, "newstate", g->nodes[i].name);
        }
    }
    char evaluated[512];
    snprintf(evaluated, sizeof evaluated, DIR_ "/%s/eval.loss.npy", cs);
    if (ok && access(evaluated, R_OK) == 0) ok &= evaluate(&e, fwd, cs, ops);
    engine_close(&e);
    ir_graph_free(fwd);
    compile_free(&c);
    return ok;
}

/* Every case on one backend. */
static void all_cases(const EngineOps *ops) {
    DIR *d = opendir(DIR_);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    int cases = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".mmg")) continue;
        char cs[256];
        snprintf(cs, sizeof cs, "%.*s", (int)(len - 4), e->d_name);
        cases++;
        int ok = run_case(cs, ops);
        if (!ok) fprintf(stderr, "FAILED: golden case %s on %s\n", cs, ops->name);
        CU_ASSERT_TRUE(ok);
    }
    closedir(d);
    CU_ASSERT_TRUE(cases >= 11);
}

static void test_interp(void) { all_cases(&engine_interp); }
static void test_llvm(void) { all_cases(&engine_llvm); }

static CU_TestInfo tests[] = {
    {"one training step of every golden case matches PyTorch (interpreter)", test_interp},
    {"one training step of every golden case matches PyTorch (LLVM backend)", test_llvm},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("golden", tests); }
