/* test_optimizer.c — the optimizer pass against the update rules written
 * out by hand (as PyTorch defines SGD, momentum, Adam and AdamW), over three
 * steps of loss = sum(w^2) / 2, whose gradient is w. */
#include <math.h>
#include <stdio.h>

#include "harness.h"
#include "interp.h"
#include "passes.h"

#define N 3

/* The reference: three steps from w0, all in double. */
static void reference(const OptimizerSpec *o, double *w) {
    double m[N] = {0}, v[N] = {0}, buf[N] = {0};
    for (int t = 1; t <= 3; t++)
        for (int i = 0; i < N; i++) {
            double g = w[i];
            if (o->kind != OPT_ADAMW) g += o->weight_decay * w[i];
            if (o->kind == OPT_SGD) w[i] -= o->lr * g;
            else if (o->kind == OPT_MOMENTUM) {
                buf[i] = o->momentum * buf[i] + g;
                w[i] -= o->lr * buf[i];
            } else {
                if (o->kind == OPT_ADAMW) w[i] *= 1 - o->lr * o->weight_decay;
                m[i] = o->beta1 * m[i] + (1 - o->beta1) * g;
                v[i] = o->beta2 * v[i] + (1 - o->beta2) * g * g;
                double mh = m[i] / (1 - pow(o->beta1, t)), vh = v[i] / (1 - pow(o->beta2, t));
                w[i] -= o->lr * mh / (sqrt(vh) + o->eps);
            }
        }
}

/* Builds loss = sum(w * w) * 0.5, runs the pipeline and three steps. */
static void run(const OptimizerSpec *o, double *w) {
    Graph *g = ir_graph_new("opt");
    char err[256];
    Loc loc = {0, 0, 0};
    TType tw = {DT_F32, {1, {N}}}, ts = {DT_F32, {0, {0}}};
    int p = ir_build(g, OP_PARAM, NULL, 0, NULL, 0, 0, &tw, loc, err, sizeof err);
    ir_set_name(g, p, "w");
    g->nodes[p].init = (Init){INIT_ZEROS, 0, 0};
    int sq[2] = {p, p};
    int m = ir_build(g, OP_MUL, sq, 2, NULL, 0, 0, NULL, loc, err, sizeof err);
    int64_t all[2] = {0, 0};
    int s = ir_build(g, OP_REDUCE_SUM, &m, 1, all, 2, 0, NULL, loc, err, sizeof err);
    int half = ir_build(g, OP_CONST, NULL, 0, NULL, 0, 0.5, &ts, loc, err, sizeof err);
    int in[2] = {s, half};
    ir_add_output(g, "loss", ir_build(g, OP_MUL, in, 2, NULL, 0, 0, NULL, loc, err, sizeof err));
    PassConfig cfg = {STAGE_TRAIN, *o, 0, NULL, NULL};
    PassError perr;
    CU_ASSERT_EQUAL_FATAL(pipeline_run(g, &cfg, &perr), 0);
    Interp *it = interp_new(g, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(it);
    interp_init(it, 1);
    for (int i = 0; i < N; i++) interp_f32(it, p)[i] = (float)w[i];
    for (int step = 0; step < 3; step++) {
        CU_ASSERT_EQUAL(interp_run(it, 1, 1, (uint64_t)step, err, sizeof err), 0);
        interp_apply_updates(it);
    }
    for (int i = 0; i < N; i++) w[i] = interp_f32(it, p)[i];
    interp_free(it);
    ir_graph_free(g);
}

static void check(OptimizerSpec o) {
    double want[N] = {0.8, -1.5, 0.03}, got[N] = {0.8, -1.5, 0.03};
    reference(&o, want);
    run(&o, got);
    for (int i = 0; i < N; i++) {
        if (fabs(got[i] - want[i]) > 1e-6 * (1 + fabs(want[i])))
            fprintf(stderr, "\noptimizer %d: w[%d] = %.9f, expected %.9f\n", o.kind, i, got[i], want[i]);
        CU_ASSERT_DOUBLE_EQUAL(got[i], want[i], 1e-6 * (1 + fabs(want[i])));
    }
}

static void test_sgd(void) { check((OptimizerSpec){OPT_SGD, 0.1, 0, 0, 0, 0, 0.01}); }
static void test_momentum(void) { check((OptimizerSpec){OPT_MOMENTUM, 0.1, 0.9, 0, 0, 0, 0}); }
static void test_adam(void) { check((OptimizerSpec){OPT_ADAM, 0.01, 0, 0.9, 0.999, 1e-8, 0.1}); }
static void test_adamw(void) { check((OptimizerSpec){OPT_ADAMW, 0.01, 0, 0.9, 0.999, 1e-8, 0.1}); }

static CU_TestInfo tests[] = {
    {"SGD with weight decay", test_sgd},
    {"SGD with momentum", test_momentum},
    {"Adam with L2 weight decay", test_adam},
    {"AdamW (decoupled weight decay)", test_adamw},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("optimizer", tests); }
