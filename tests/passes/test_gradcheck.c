/* test_gradcheck.c — every op's gradient rule against finite differences.
 *
 * Driven by the op table: an op with a vector-Jacobian product in ops.def
 * must have a case here, or the suite fails. Each case builds
 *   loss = sum(op(inputs) * r)      (r a fixed random input)
 * runs autodiff, executes the graph with the reference interpreter, and
 * compares d loss / d input with central differences (in double, around
 * points chosen away from kinks), with a per-op tolerance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "interp.h"
#include "passes.h"

/* An input of a case: its shape, and how its values are drawn. */
typedef enum { R_ANY, R_POS, R_SPREAD, R_INDEX } Range;

typedef struct {
    int rank;
    int64_t dim[4];
    Range range;  /* R_ANY: U(-1, 1); R_POS: U(0.5, 2); R_SPREAD: distinct values 0.1 apart; R_INDEX: i64 labels */
    int classes;  /* R_INDEX: labels in [0, classes) */
} InputSpec;

typedef struct {
    Op op;
    InputSpec in[3];
    int nin;
    int64_t attr[8];
    int nattr;
    double value;
    int given_rank;  /* > 0: the node's type is given (reshape, broadcast, scatter) */
    int64_t given[4];
    double tol;
} Case;

#define S1(a) 1, {a}
#define S2(a, b) 2, {a, b}
#define S3(a, b, c) 3, {a, b, c}
#define S4(a, b, c, d) 4, {a, b, c, d}
#define IN(shape, r) {shape, r, 0}

static const Case cases[] = {
    {OP_NEG, {IN(S2(3, 4), R_ANY)}, 1, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_EXP, {IN(S2(3, 4), R_ANY)}, 1, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_LOG, {IN(S2(3, 4), R_POS)}, 1, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_SQRT, {IN(S2(3, 4), R_POS)}, 1, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_RSQRT, {IN(S2(3, 4), R_POS)}, 1, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_TANH, {IN(S2(3, 4), R_ANY)}, 1, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_SIGMOID, {IN(S2(3, 4), R_ANY)}, 1, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_RELU, {IN(S2(3, 5), R_SPREAD)}, 1, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_ABS, {IN(S2(3, 5), R_SPREAD)}, 1, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_ADD, {IN(S3(2, 3, 4), R_ANY), IN(S2(3, 1), R_ANY)}, 2, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_SUB, {IN(S2(1, 4), R_ANY), IN(S3(2, 3, 4), R_ANY)}, 2, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_MUL, {IN(S3(2, 3, 4), R_ANY), IN(S1(4), R_ANY)}, 2, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_DIV, {IN(S2(3, 4), R_ANY), IN(S2(3, 1), R_POS)}, 2, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_MAX, {IN(S2(3, 5), R_SPREAD), IN(S2(3, 5), R_SPREAD)}, 2, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_MIN, {IN(S2(3, 5), R_SPREAD), IN(S1(5), R_SPREAD)}, 2, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_POW, {IN(S2(3, 4), R_POS), IN(S2(3, 4), R_ANY)}, 2, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_SELECT, {IN(S2(3, 4), R_SPREAD), IN(S2(3, 4), R_ANY), IN(S1(4), R_ANY)}, 3, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_REDUCE_SUM, {IN(S3(2, 3, 5), R_ANY)}, 1, {0, 0, 2}, 3, 0, 0, {0}, 1e-3},
    {OP_REDUCE_MAX, {IN(S3(2, 3, 5), R_SPREAD)}, 1, {1, 1}, 2, 0, 0, {0}, 1e-3},
    {OP_RESHAPE, {IN(S3(2, 3, 4), R_ANY)}, 1, {0}, 0, 0, 2, {6, 4}, 1e-3},
    {OP_BROADCAST, {IN(S2(3, 1), R_ANY)}, 1, {0}, 0, 0, 3, {2, 3, 5}, 1e-3},
    {OP_TRANSPOSE, {IN(S3(2, 3, 4), R_ANY)}, 1, {2, 0, 1}, 3, 0, 0, {0}, 1e-3},
    {OP_CONCAT, {IN(S2(3, 2), R_ANY), IN(S2(3, 5), R_ANY)}, 2, {1}, 1, 0, 0, {0}, 1e-3},
    {OP_SLICE, {IN(S2(3, 7), R_ANY)}, 1, {1, 2, 5}, 3, 0, 0, {0}, 1e-3},
    {OP_PAD, {IN(S2(3, 4), R_ANY)}, 1, {0, 1, 2}, 3, 0, 0, {0}, 1e-3},
    {OP_MATMUL, {IN(S3(2, 3, 4), R_ANY), IN(S2(4, 5), R_ANY)}, 2, {0, 0}, 2, 0, 0, {0}, 2e-3},
    {OP_CONV1D, {IN(S3(2, 3, 11), R_ANY), IN(S3(4, 3, 3), R_ANY)}, 2, {2, 1, 2}, 3, 0, 0, {0}, 2e-3},
    {OP_CONV2D, {IN(S4(2, 2, 6, 5), R_ANY), IN(S4(3, 2, 3, 2), R_ANY)}, 2, {2, 1, 1, 0}, 4, 0, 0, {0}, 2e-3},
    {OP_MAX_POOL1D, {IN(S3(2, 3, 9), R_SPREAD)}, 1, {3, 2}, 2, 0, 0, {0}, 1e-3},
    {OP_MAX_POOL2D, {IN(S4(2, 2, 5, 6), R_SPREAD)}, 1, {2, 2, 2, 2}, 4, 0, 0, {0}, 1e-3},
    {OP_GATHER, {IN(S2(5, 7), R_ANY), {S1(5), R_INDEX, 7}}, 2, {0}, 0, 0, 0, {0}, 1e-3},
    {OP_SCATTER, {IN(S1(5), R_ANY), {S1(5), R_INDEX, 7}}, 2, {0}, 0, 0, 2, {5, 7}, 1e-3},
};

#define NCASES (int)(sizeof cases / sizeof cases[0])

/* Variants checked on top of the one case per op: transposed matmuls,
 * stride-4 convolutions as in Conv1Net, reductions over all axes. */
static const Case extra[] = {
    {OP_MATMUL, {IN(S2(4, 3), R_ANY), IN(S3(2, 5, 4), R_ANY)}, 2, {1, 1}, 2, 0, 0, {0}, 2e-3},
    {OP_MATMUL, {IN(S3(2, 4, 3), R_ANY), IN(S3(2, 4, 5), R_ANY)}, 2, {1, 0}, 2, 0, 0, {0}, 2e-3},
    {OP_CONV1D, {IN(S3(2, 2, 23), R_ANY), IN(S3(3, 2, 5), R_ANY)}, 2, {4, 2, 2}, 3, 0, 0, {0}, 2e-3},
    {OP_CONV2D, {IN(S4(1, 2, 7, 7), R_ANY), IN(S4(2, 2, 3, 3), R_ANY)}, 2, {2, 2, 1, 1}, 4, 0, 0, {0}, 2e-3},
    {OP_REDUCE_SUM, {IN(S3(2, 3, 5), R_ANY)}, 1, {1}, 1, 0, 0, {0}, 1e-3},
    {OP_REDUCE_MAX, {IN(S3(2, 3, 5), R_SPREAD)}, 1, {0, 0, 2}, 3, 0, 0, {0}, 1e-3},
};

static unsigned rng_state = 2024;

static double uniform(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (rng_state >> 8) / 16777216.0;
}

/* Fills an input's values. R_SPREAD: a shuffled ramp, so values are
 * distinct and at least 0.1 apart, shifted by 0.03 per input index k so two
 * inputs never tie (no kinks within eps). */
static void fill(float *x, int64_t n, Range r, int k) {
    for (int64_t i = 0; i < n; i++) {
        if (r == R_POS) x[i] = (float)(0.5 + 1.5 * uniform());
        else if (r == R_SPREAD) x[i] = (float)(0.1 * (double)(i - n / 2) + 0.05 + 0.03 * k);
        else x[i] = (float)(2 * uniform() - 1);
    }
    if (r == R_SPREAD)
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)(uniform() * (double)(i + 1)) % (i + 1);
            float t = x[i];
            x[i] = x[j];
            x[j] = t;
        }
}

static TType type(const InputSpec *s) {
    TType t = {s->range == R_INDEX ? DT_I64 : DT_F32, {s->rank, {0}}};
    for (int i = 0; i < s->rank; i++) t.shape.dim[i] = s->dim[i];
    return t;
}

/* Builds loss = sum(op(p0, p1, ...) * r); returns the graph, NULL on failure. */
static Graph *build_case(const Case *c, int *params, int *r) {
    Graph *g = ir_graph_new(ir_op_info[c->op].name);
    char err[512];
    Loc loc = {0, 0, 0};
    int in[3];
    for (int k = 0; k < c->nin; k++) {
        TType t = type(&c->in[k]);
        Op src = c->in[k].range == R_INDEX ? OP_LABEL : OP_PARAM;
        in[k] = ir_build(g, src, NULL, 0, NULL, 0, 0, &t, loc, err, sizeof err);
        char name[16];
        snprintf(name, sizeof name, "p%d", k);
        ir_set_name(g, in[k], name);
        g->nodes[in[k]].init = (Init){INIT_ZEROS, 0, 0};
        params[k] = in[k];
    }
    TType given = {DT_F32, {c->given_rank, {0}}};
    for (int i = 0; i < c->given_rank; i++) given.shape.dim[i] = c->given[i];
    int y = ir_build(g, c->op, in, c->nin, c->attr, c->nattr, c->value, c->given_rank ? &given : NULL, loc, err,
                     sizeof err);
    if (y < 0) {
        fprintf(stderr, "\n%s: %s\n", ir_op_info[c->op].name, err);
        ir_graph_free(g);
        return NULL;
    }
    TType rt = {DT_F32, g->nodes[y].type.shape};
    *r = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &rt, loc, err, sizeof err);
    ir_set_name(g, *r, "r");
    int prod[2] = {y, *r};
    int m = ir_build(g, OP_MUL, prod, 2, NULL, 0, 0, NULL, loc, err, sizeof err);
    int64_t all[1 + IR_MAX_RANK] = {0};
    int na = 1;
    for (int i = 0; i < rt.shape.rank; i++) all[na++] = i;
    int loss = ir_build(g, OP_REDUCE_SUM, &m, 1, all, na, 0, NULL, loc, err, sizeof err);
    ir_add_output(g, "loss", loss);
    return g;
}

/* Runs the graph; returns the loss. */
static double run(Interp *in, const Graph *g) {
    char err[256];
    if (interp_run(in, 1, 1, 0, err, sizeof err)) {
        fprintf(stderr, "\ninterp: %s\n", err);
        return NAN;
    }
    return interp_f32(in, ir_output(g, "loss"))[0];
}

/* Checks one case; returns 1 if every gradient matches. */
static int check_case(const Case *c) {
    int params[3], r;
    Graph *g = build_case(c, params, &r);
    if (!g) return 0;
    PassConfig cfg = {STAGE_TRAIN, {.kind = OPT_SGD, .lr = 0.1}, 0, NULL, NULL};
    PassError perr;
    if (pass_autodiff(g, &cfg, &perr)) {
        fprintf(stderr, "\n%s: autodiff: %s\n", ir_op_info[c->op].name, perr.msg);
        ir_graph_free(g);
        return 0;
    }
    char err[256];
    Interp *in = interp_new(g, err, sizeof err);
    if (!in) {
        fprintf(stderr, "\n%s: %s\n", ir_op_info[c->op].name, err);
        ir_graph_free(g);
        return 0;
    }
    for (int k = 0; k < c->nin; k++) {
        int64_t n = ir_numel(&g->nodes[params[k]].type.shape);
        if (c->in[k].range == R_INDEX)
            for (int64_t i = 0; i < n; i++) interp_i64(in, params[k])[i] = (int64_t)(uniform() * c->in[k].classes);
        else fill(interp_f32(in, params[k]), n, c->in[k].range, k);
    }
    fill(interp_f32(in, r), ir_numel(&g->nodes[r].type.shape), R_ANY, 0);
    run(in, g);
    int ok = 1;
    for (int k = 0; k < c->nin && ok; k++) {
        if (c->in[k].range == R_INDEX) continue;
        int gid = ir_output(g, k == 0 ? "grad:p0" : k == 1 ? "grad:p1" : "grad:p2");
        int64_t n = ir_numel(&g->nodes[params[k]].type.shape);
        float *grad = malloc((size_t)n * sizeof *grad);
        run(in, g);
        memcpy(grad, interp_f32(in, gid), (size_t)n * sizeof *grad);
        float *x = interp_f32(in, params[k]);
        const double eps = 1e-2;
        for (int64_t i = 0; i < n && ok; i++) {
            float keep = x[i];
            x[i] = (float)(keep + eps);
            double up = run(in, g);
            x[i] = (float)(keep - eps);
            double down = run(in, g);
            x[i] = keep;
            double fd = (up - down) / (2 * eps);
            if (fabs(fd - grad[i]) > c->tol * (1 + fabs(fd))) {
                fprintf(stderr, "\n%s: d loss / d input %d [%lld]: autodiff %.6f, finite differences %.6f\n",
                        ir_op_info[c->op].name, k, (long long)i, grad[i], fd);
                ok = 0;
            }
        }
        free(grad);
    }
    interp_free(in);
    ir_graph_free(g);
    return ok;
}

/* Every op with a gradient rule has a case, and every case passes. */
static void test_every_op(void) {
    for (int op = 0; op < OP_COUNT; op++) {
        int found = 0;
        for (int i = 0; i < NCASES; i++) found |= cases[i].op == (Op)op;
        if (autodiff_has_rule((Op)op) && !found)
            fprintf(stderr, "\nop '%s' has a gradient rule but no gradient check\n", ir_op_info[op].name);
        CU_ASSERT_TRUE(found || !autodiff_has_rule((Op)op));
    }
    for (int i = 0; i < NCASES; i++) {
        int ok = check_case(&cases[i]);
        if (!ok) fprintf(stderr, "FAILED: gradient of %s\n", ir_op_info[cases[i].op].name);
        CU_ASSERT_TRUE(ok);
    }
}

static void test_variants(void) {
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) CU_ASSERT_TRUE(check_case(&extra[i]));
}

/* A gradient reaching an op without a rule is an error at its location. */
static void test_missing_rule(void) {
    Graph *g = ir_graph_new("t");
    int f = ir_file(g, "model.mmg");
    char err[256];
    TType tx = {DT_F32, {3, {1, 2, 9}}}, tw = {DT_F32, {3, {3, 2, 3}}}, tdy = {DT_F32, {3, {1, 3, 7}}};
    Loc loc = {f, 4, 7};
    int x = ir_build(g, OP_PARAM, NULL, 0, NULL, 0, 0, &tx, loc, err, sizeof err);
    int w = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &tw, loc, err, sizeof err);
    int dy = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &tdy, loc, err, sizeof err);
    ir_set_name(g, x, "x");
    g->nodes[x].init = (Init){INIT_ZEROS, 0, 0};
    int in[2] = {x, dy};
    int64_t attr[3] = {1, 0, 0};
    loc.line = 9;
    int gw = ir_build(g, OP_CONV1D_GRAD_WEIGHT, in, 2, attr, 3, 0, &tw, loc, err, sizeof err);
    int64_t all[4] = {0, 0, 1, 2};
    int prod[2] = {gw, w};
    int m = ir_build(g, OP_MUL, prod, 2, NULL, 0, 0, NULL, loc, err, sizeof err);
    int loss = ir_build(g, OP_REDUCE_SUM, &m, 1, all, 4, 0, NULL, loc, err, sizeof err);
    ir_add_output(g, "loss", loss);
    PassConfig cfg = {STAGE_TRAIN, {.kind = OPT_SGD, .lr = 0.1}, 0, NULL, NULL};
    PassError perr;
    CU_ASSERT_EQUAL(pass_autodiff(g, &cfg, &perr), -1);
    CU_ASSERT_STRING_EQUAL(perr.msg, "no gradient rule for op 'conv1d_grad_weight'");
    CU_ASSERT_EQUAL(perr.loc.line, 9);
    CU_ASSERT_EQUAL(perr.loc.file, f);
    ir_graph_free(g);
}

static CU_TestInfo tests[] = {
    {"every op's gradient against finite differences", test_every_op},
    {"transposed matmuls, strided convolutions, full reductions", test_variants},
    {"a gradient through an op without a rule is an error", test_missing_rule},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("gradcheck", tests); }
