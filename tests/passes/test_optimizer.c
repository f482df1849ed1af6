/* test_optimizer.c — the optimizer pass against the update rules written
 * out by hand (as PyTorch defines SGD, momentum, Adam and AdamW, gradient
 * clipping by global norm, weight decay per parameter group and a
 * learning rate fed each step), over steps of
 * loss = (sum(w^2) + sum(b^2)) / 2, whose gradients are w and b. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "interp.h"
#include "lr_schedule.h"
#include "passes.h"

#define NW 3 /* parameter "w" */
#define NB 2 /* parameter "lin.b" */
#define N (NW + NB)
#define STEPS 3

/* The schedules the tests feed, one step per epoch, and their learning
 * rates by hand, as factors of o->lr. */
static const LrSchedule halving = {.kind = LR_STEP, .every = 1, .gamma = 0.5};
static const double halving_factor[STEPS] = {1, 0.5, 0.25};
static const LrSchedule warmup3 = {.kind = LR_CONSTANT, .warmup = 3};
static const double warmup3_factor[STEPS] = {1.0 / 3, 2.0 / 3, 1};

/* The reference: steps from x (w then b), all in double; step t uses
 * o->lr * factor[t - 1] (factor NULL: o->lr). */
static void reference(const OptimizerSpec *o, double *x, int steps, const int *decays, const double *factor) {
    double m[N] = {0}, v[N] = {0}, buf[N] = {0};
    for (int t = 1; t <= steps; t++) {
        double lr = factor ? o->lr * factor[t - 1] : o->lr, g[N], sq = 0;
        for (int i = 0; i < N; i++) g[i] = x[i], sq += x[i] * x[i];
        if (o->clip_grad_norm > 0) {
            double coef = fmin(o->clip_grad_norm / (sqrt(sq) + 1e-6), 1.0);
            for (int i = 0; i < N; i++) g[i] *= coef;
        }
        for (int i = 0; i < N; i++) {
            double wd = decays[i] ? o->weight_decay : 0;
            if (o->kind != OPT_ADAMW) g[i] += wd * x[i];
            if (o->kind == OPT_SGD) x[i] -= lr * g[i];
            else if (o->kind == OPT_MOMENTUM) {
                buf[i] = o->momentum * buf[i] + g[i];
                x[i] -= lr * buf[i];
            } else {
                if (o->kind == OPT_ADAMW) x[i] *= 1 - lr * wd;
                m[i] = o->beta1 * m[i] + (1 - o->beta1) * g[i];
                v[i] = o->beta2 * v[i] + (1 - o->beta2) * g[i] * g[i];
                double mh = m[i] / (1 - pow(o->beta1, t)), vh = v[i] / (1 - pow(o->beta2, t));
                x[i] -= lr * mh / (sqrt(vh) + o->eps);
            }
        }
    }
}

/* A parameter of `n` values named `name`, and 0.5 * sum(p * p). */
static int half_square(Graph *g, const char *name, int n, int *param) {
    char err[256];
    Loc loc = {0, 0, 0};
    TType tp = {DT_F32, {1, {n}}}, ts = {DT_F32, {0, {0}}};
    int p = ir_build(g, OP_PARAM, NULL, 0, NULL, 0, 0, &tp, loc, err, sizeof err);
    ir_set_name(g, p, name);
    g->nodes[p].init = (Init){INIT_ZEROS, 0, 0};
    int sq[2] = {p, p};
    int m = ir_build(g, OP_MUL, sq, 2, NULL, 0, 0, NULL, loc, err, sizeof err);
    int64_t all[2] = {0, 0};
    int s = ir_build(g, OP_REDUCE_SUM, &m, 1, all, 2, 0, NULL, loc, err, sizeof err);
    int half = ir_build(g, OP_CONST, NULL, 0, NULL, 0, 0.5, &ts, loc, err, sizeof err);
    int in[2] = {s, half};
    *param = p;
    return ir_build(g, OP_MUL, in, 2, NULL, 0, 0, NULL, loc, err, sizeof err);
}

/* The loss graph of w and lin.b (node ids in p[2]). */
static Graph *build(int *p) {
    Graph *g = ir_graph_new("opt");
    char err[256];
    int in[2] = {half_square(g, "w", NW, &p[0]), half_square(g, "lin.b", NB, &p[1])};
    ir_add_output(g, "loss", ir_build(g, OP_ADD, in, 2, NULL, 0, 0, NULL, (Loc){0, 0, 0}, err, sizeof err));
    return g;
}

/* The id of the node named `name`, or -1. */
static int node_named(const Graph *g, const char *name) {
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].name && !strcmp(g->nodes[i].name, name)) return i;
    return -1;
}

/* Runs the pipeline and `steps` steps from x; x gets the result. A learning
 * rate that is an input is fed the runtime's schedule (lr_schedule_at, step
 * k in epoch k), or o->lr when `constant_feed`. */
static void run(const OptimizerSpec *o, double *x, int steps, int constant_feed) {
    int p[2];
    Graph *g = build(p);
    char err[256];
    PassConfig cfg = {STAGE_TRAIN, *o, 0, NULL, NULL};
    PassError perr;
    CU_ASSERT_EQUAL_FATAL(pipeline_run(g, &cfg, &perr), 0);
    int lr = node_named(g, "optimizer.lr");
    CU_ASSERT_EQUAL(lr >= 0, optimizer_lr_is_input(o));
    if (lr >= 0) CU_ASSERT_EQUAL(g->nodes[lr].op, OP_INPUT);
    Interp *it = interp_new(g, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(it);
    interp_init(it, 1);
    for (int i = 0; i < N; i++) interp_f32(it, p[i >= NW])[i < NW ? i : i - NW] = (float)x[i];
    for (int step = 0; step < steps; step++) {
        if (lr >= 0) interp_f32(it, lr)[0] = (float)(constant_feed ? o->lr : lr_schedule_at(o, step, (uint64_t)step));
        CU_ASSERT_EQUAL(interp_run(it, 1, 1, (uint64_t)step, err, sizeof err), 0);
        interp_apply_updates(it);
    }
    for (int i = 0; i < N; i++) x[i] = interp_f32(it, p[i >= NW])[i < NW ? i : i - NW];
    interp_free(it);
    ir_graph_free(g);
}

static const double start[N] = {0.8, -1.5, 0.03, 0.6, -0.2};
static const int all_decay[N] = {1, 1, 1, 1, 1};

/* The pass against the reference over STEPS steps; decays[i]: whether
 * value i takes weight decay; factor: the fed learning rates (or NULL). */
static void check_with(OptimizerSpec o, const int *decays, const double *factor) {
    double want[N], got[N];
    memcpy(want, start, sizeof want);
    memcpy(got, start, sizeof got);
    reference(&o, want, STEPS, decays, factor);
    run(&o, got, STEPS, 0);
    for (int i = 0; i < N; i++) {
        if (fabs(got[i] - want[i]) > 1e-6 * (1 + fabs(want[i])))
            fprintf(stderr, "\noptimizer %d: x[%d] = %.9f, expected %.9f\n", o.kind, i, got[i], want[i]);
        CU_ASSERT_DOUBLE_EQUAL(got[i], want[i], 1e-6 * (1 + fabs(want[i])));
    }
}

static void check(OptimizerSpec o) { check_with(o, all_decay, NULL); }

static const OptimizerSpec sgd = {.kind = OPT_SGD, .lr = 0.1, .weight_decay = 0.01};
static const OptimizerSpec momentum = {.kind = OPT_MOMENTUM, .lr = 0.1, .momentum = 0.9};
static const OptimizerSpec adam = {.kind = OPT_ADAM, .lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1};
static const OptimizerSpec adamw = {.kind = OPT_ADAMW, .lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1};

static void test_sgd(void) { check(sgd); }
static void test_momentum(void) { check(momentum); }
static void test_adam(void) { check(adam); }
static void test_adamw(void) { check(adamw); }

/* A schedule makes lr an input: each step uses the scheduled lr fed to it. */
static void test_lr_input(void) {
    const OptimizerSpec specs[] = {sgd, momentum, adam, adamw};
    for (int k = 0; k < 4; k++) {
        OptimizerSpec o = specs[k];
        o.schedule = halving;
        check_with(o, all_decay, halving_factor);
        o.schedule = warmup3; /* a warm-up alone makes lr an input too */
        check_with(o, all_decay, warmup3_factor);
    }
}

/* Feeding the constant lr gives the bits of the step with lr built in. */
static void test_lr_input_same_bits(void) {
    const OptimizerSpec specs[] = {sgd, momentum, adam};
    for (int k = 0; k < 3; k++) {
        OptimizerSpec o = specs[k];
        double a[N], b[N];
        memcpy(a, start, sizeof a);
        memcpy(b, start, sizeof b);
        run(&o, a, STEPS, 0);
        o.schedule = (LrSchedule){.kind = LR_COSINE, .t_max = 10};
        run(&o, b, STEPS, 1);
        for (int i = 0; i < N; i++) CU_ASSERT_EQUAL((float)a[i], (float)b[i]);
    }
}

/* Clipping by global norm, by hand: w = (3, 0, 0), b = (0, 4): norm 5. */
static void test_clip_by_hand(void) {
    OptimizerSpec o = {.kind = OPT_SGD, .lr = 0.1, .clip_grad_norm = 1.0};
    double x[N] = {3, 0, 0, 0, 4};
    run(&o, x, 1, 0);
    /* scale 1 / (5 + 1e-6): w0 = 3 - 0.1 * 3 / 5, b1 = 4 - 0.1 * 4 / 5 */
    CU_ASSERT_DOUBLE_EQUAL(x[0], 2.94, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(x[4], 3.92, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(x[1], 0, 1e-12);
    o.clip_grad_norm = 10; /* above the norm: no scaling */
    double y[N] = {3, 0, 0, 0, 4};
    run(&o, y, 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(y[0], 2.7, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(y[4], 3.6, 1e-6);
}

/* Clipping against the rule over three steps, each optimizer. */
static void test_clip(void) {
    const OptimizerSpec specs[] = {sgd, momentum, adam, adamw};
    for (int k = 0; k < 4; k++) {
        OptimizerSpec o = specs[k];
        o.clip_grad_norm = 0.5; /* the start's norm is about 1.8 */
        check(o);
        o.schedule = halving;
        check_with(o, all_decay, halving_factor);
    }
}

/* no_decay: "lin.b" matches "*.b" and takes no weight decay; "w" does. */
static void test_no_decay(void) {
    const int decays[N] = {1, 1, 1, 0, 0};
    const OptimizerSpec specs[] = {sgd, momentum, adam, adamw};
    for (int k = 0; k < 4; k++) {
        OptimizerSpec o = specs[k];
        o.weight_decay = 0.1;
        o.nno_decay = 1;
        o.no_decay[0] = "*.b";
        check_with(o, decays, NULL);
    }
    /* by hand, SGD lr 0.1, wd 0.1, one step: w -= 0.1 (w + 0.1 w); b -= 0.1 b */
    OptimizerSpec o = {.kind = OPT_SGD, .lr = 0.1, .weight_decay = 0.1, .nno_decay = 2, .no_decay = {"*.b", "lin*"}};
    double x[N] = {1, 2, 3, 1, 2};
    run(&o, x, 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(x[0], 0.89, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(x[2], 2.67, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(x[3], 0.9, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(x[4], 1.8, 1e-6);
}

/* A no_decay pattern that matches no parameter is an error at the pattern. */
static void test_no_decay_unmatched(void) {
    int p[2];
    Graph *g = build(p);
    PassConfig cfg = {STAGE_TRAIN, {.kind = OPT_ADAMW, .lr = 0.01, .weight_decay = 0.1, .nno_decay = 2}, 0, NULL, NULL};
    cfg.optimizer.no_decay[0] = "*.b";
    cfg.optimizer.no_decay[1] = "*.bias";
    cfg.optimizer.no_decay_loc[1] = (Loc){0, 7, 42};
    PassError err;
    CU_ASSERT_EQUAL(pipeline_run(g, &cfg, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.msg, "no_decay: pattern \"*.bias\" matches no parameter");
    CU_ASSERT_EQUAL(err.loc.line, 7);
    CU_ASSERT_EQUAL(err.loc.col, 42);
    ir_graph_free(g);
}

static CU_TestInfo tests[] = {
    {"SGD with weight decay", test_sgd},
    {"SGD with momentum", test_momentum},
    {"Adam with L2 weight decay", test_adam},
    {"AdamW (decoupled weight decay)", test_adamw},
    {"a scheduled learning rate is an input fed each step", test_lr_input},
    {"feeding the constant learning rate gives the same bits", test_lr_input_same_bits},
    {"gradient clipping by global norm, by hand", test_clip_by_hand},
    {"gradient clipping by global norm, every optimizer", test_clip},
    {"weight decay per parameter group (no_decay)", test_no_decay},
    {"a no_decay pattern matching nothing is an error", test_no_decay_unmatched},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("optimizer", tests); }
