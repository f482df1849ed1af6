/* test_model_steps.c — every model in models/ compiles to a training step
 * that the interpreter runs: the loss is finite, every parameter moves,
 * and a second step on the same batch lowers the loss. Batch 4, to be quick. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "frontend/compile.h"
#include "harness.h"
#include "interp.h"

/* Fills inputs with U(-1, 1)-ish values, labels with classes 0..9, and
 * sample weights with ones. */
static void feed(Interp *in, const Graph *g, int weight) {
    unsigned s = 7;
    for (int i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        int64_t count = ir_numel(&n->type.shape);
        for (int64_t k = 0; k < count; k++) {
            s = s * 1664525u + 1013904223u;
            if (n->op == OP_INPUT) interp_f32(in, i)[k] = (float)((s >> 8) / 8388608.0 - 1.0);
            if (n->op == OP_LABEL) interp_i64(in, i)[k] = (int64_t)((s >> 8) % 10);
            if (i == weight) interp_f32(in, i)[k] = 1;
        }
    }
}

/* One model: two steps; returns 1 if all is well. */
static int check_model(const char *path) {
    Compiled c;
    int ok = compile_train_step(&c, path);
    Graph *g = c.model.graph;
    char err[256];
    Interp *in = ok ? interp_new(g, err, sizeof err) : NULL;
    if (ok && !in) fprintf(stderr, "\n%s: %s\n", path, err), ok = 0;
    if (ok) {
        interp_init(in, 42);
        feed(in, g, c.model.weight_node);
        int p0 = -1;
        for (int i = 0; i < g->nnodes && p0 < 0; i++)
            if (g->nodes[i].op == OP_PARAM) p0 = i;
        float before = interp_f32(in, p0)[0];
        ok = interp_run(in, 1, 42, 0, err, sizeof err) == 0;
        double loss1 = interp_f32(in, ir_output(g, "loss"))[0];
        interp_apply_updates(in);
        ok = ok && interp_run(in, 0, 42, 1, err, sizeof err) == 0; /* eval mode: no dropout */
        double loss2 = interp_f32(in, ir_output(g, "loss"))[0];
        interp_apply_updates(in);
        ok = ok && interp_run(in, 0, 42, 2, err, sizeof err) == 0;
        double loss3 = interp_f32(in, ir_output(g, "loss"))[0];
        if (!isfinite(loss1) || !isfinite(loss2) || interp_f32(in, p0)[0] == before || !(loss3 < loss2)) {
            fprintf(stderr, "\n%s: losses %g, %g, %g; first parameter %g -> %g\n", path, loss1, loss2, loss3,
                    before, interp_f32(in, p0)[0]);
            ok = 0;
        }
        interp_free(in);
    }
    compile_free(&c);
    return ok;
}

static void test_every_model(void) { compile_each_model(check_model); }

static CU_TestInfo tests[] = {
    {"every model's training step runs and learns on the interpreter", test_every_model},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("model steps", tests); }
