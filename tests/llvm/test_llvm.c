/* test_llvm.c — the LLVM backend against the reference interpreter.
 *
 * 1. Every row of the op table (tests/op_cases.c; an op without a row
 *    fails the suite), with odd sizes and broadcasts: the forward graph, and for ops
 *    with a gradient rule the training step of loss = sum(op(..) * r)
 *    (autodiff + Adam), so every gradient op runs too. Both engines get
 *    the same inputs; every node's values must agree (normwise relative
 *    1e-4 per tensor, NaN where the interpreter has NaN, i64 exactly), in
 *    training and in evaluation mode, and so must the parameters after
 *    apply_updates.
 * 2. The numerical conventions of ops.def: every elementwise op and both
 *    reductions on NaN, infinities, signed zeros, huge and denormal values.
 * 3. Every model in models/ at batch 4: one training step from the same
 *    parameters and inputs gives the same loss and updated weights.
 * 4. Errors: a bad gather index gives the interpreter's message.
 * 5. A step whose loss is not finite changes no parameter or state on
 *    either engine (the llvm one computes updates in place).
 * 6. A training run flushes denormals to zero, on every thread it uses;
 *    evaluation keeps them; the caller's mode is as it was after either.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adam_graph.h"
#include "engine.h"
#include "engine_feed.h"
#include "fpmode.h"
#include "frontend/compile.h"
#include "harness.h"
#include "op_cases.h"
#include "llvm_backend.h"
#include "params.h"
#include "passes.h"
#include "rt_shift.h"
#include "rt_thread.h"

#define TOL 1e-4

/* ---- comparing ---------------------------------------------------------------- */

/* Do got and want (n elements of dtype d) agree? f32: NaN exactly where
 * want has NaN, infinities equal, and ||got - want|| <= TOL ||want||
 * over the finite rest; i64: exactly. Prints the first difference. */
static int same(const char *what, int node, DType d, const void *got, const void *want, int64_t n) {
    if (d == DT_I64) {
        const int64_t *a = got, *b = want;
        for (int64_t i = 0; i < n; i++)
            if (a[i] != b[i]) {
                fprintf(stderr, "\n%s: node %%%d [%lld]: llvm %lld, interp %lld\n", what, node, (long long)i,
                        (long long)a[i], (long long)b[i]);
                return 0;
            }
        return 1;
    }
    const float *a = got, *b = want;
    double diff = 0, norm = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(b[i]) || isinf(b[i]) || isnan(a[i]) || isinf(a[i])) {
            if ((isnan(b[i]) && isnan(a[i])) || a[i] == b[i]) continue;
            fprintf(stderr, "\n%s: node %%%d [%lld]: llvm %g, interp %g\n", what, node, (long long)i, a[i], b[i]);
            return 0;
        }
        diff += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        norm += (double)b[i] * b[i];
    }
    if (sqrt(diff) <= TOL * sqrt(norm) || diff == 0) return 1;
    fprintf(stderr, "\n%s: node %%%d: relative difference %g (norm %g)\n", what, node, sqrt(diff / norm), sqrt(norm));
    return 0;
}

/* Every node of g the llvm engine keeps in memory agrees between the two
 * engines; sources and outputs must be kept. Between a run and
 * apply_updates (applied 0) a PARAM or STATE is not compared: the llvm
 * engine computes updates into them in place, the interpreter after. */
static int same_nodes(const char *what, const Graph *g, Engine *llvm, Engine *interp, int applied) {
    for (int id = 0; id < g->nnodes; id++) {
        const Node *n = &g->nodes[id];
        const void *got = llvm->ops->buffer(llvm->impl, id);
        if (!got && !ir_is_external(n->op)) continue;
        if (!applied && (n->op == OP_PARAM || n->op == OP_STATE)) continue;
        if (!same(what, id, n->type.dtype, got, interp->ops->buffer(interp->impl, id), ir_numel(&n->type.shape)))
            return 0;
    }
    for (int o = 0; o < g->nouts; o++)
        if (!llvm->ops->buffer(llvm->impl, g->outs[o].node)) {
            fprintf(stderr, "\n%s: output %s has no buffer\n", what, g->outs[o].name);
            return 0;
        }
    return 1;
}

/* ---- per-op cases --------------------------------------------------------------- */

/* The case's graph (op_case_graph) with either output "y" or, if train,
 * loss = sum(y * r) differentiated and updated by Adam. NULL if it does
 * not build. */
static Graph *build_case(const OpCase *c, int train) {
    int y;
    Graph *g = op_case_graph(c, &y);
    if (!g) return NULL;
    char err[512];
    Loc loc = {0, 0, 0};
    if (!train) {
        ir_add_output(g, "y", y);
        return g;
    }
    TType rt = {DT_F32, g->nodes[y].type.shape};
    int r = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &rt, loc, err, sizeof err);
    int prod[2] = {y, r};
    int m = ir_build(g, OP_MUL, prod, 2, NULL, 0, 0, NULL, loc, err, sizeof err);
    int64_t all[1 + IR_MAX_RANK] = {0};
    int na = 1;
    for (int i = 0; i < rt.shape.rank; i++) all[na++] = i;
    ir_add_output(g, "loss", ir_build(g, OP_REDUCE_SUM, &m, 1, all, na, 0, NULL, loc, err, sizeof err));
    PassConfig cfg = {STAGE_TRAIN, {.kind = OPT_ADAM, .lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8}, 0, NULL, NULL};
    PassError perr;
    if (pipeline_run(g, &cfg, &perr)) {
        fprintf(stderr, "\n%s: pipeline: %s\n", ir_op_info[c->op].name, perr.msg);
        ir_graph_free(g);
        return NULL;
    }
    return g;
}

/* Fills every external source of g the same way in both engines: case
 * inputs by their spec, other f32 sources (r) U(-1, 1), state zeros. */
static void feed(const OpCase *c, const Graph *g, Engine *a, Engine *b) {
    int k = 0;
    for (int id = 0; id < g->nnodes; id++) {
        const Node *n = &g->nodes[id];
        if (!ir_is_external(n->op)) continue;
        int64_t count = ir_numel(&n->type.shape);
        size_t bytes = (size_t)count * (n->type.dtype == DT_I64 ? 8 : 4);
        void *tmp = calloc((size_t)count + 1, 8);
        if (n->op == OP_STATE) {
        } else if (k < c->nin && (n->op == OP_PARAM || n->op == OP_LABEL) && n->name && n->name[0] == 'p')
            op_fill(tmp, count, c->in[k].range, c->in[k].classes, k), k++;
        else op_fill(tmp, count, n->type.dtype == DT_I64 ? R_INDEX : R_ANY, 5, 0);
        memcpy(a->ops->buffer(a->impl, id), tmp, bytes);
        memcpy(b->ops->buffer(b->impl, id), tmp, bytes);
        free(tmp);
    }
}

/* Runs g on both engines in training and evaluation mode (twice, so
 * updates apply), comparing every node each time. */
static int run_both(const char *what, const OpCase *c, const Graph *g) {
    Engine li = {0}, ii = {0};
    char err[512];
    if (engine_open(&li, &engine_llvm, g, err, sizeof err)) {
        fprintf(stderr, "\n%s: llvm engine: %s\n", what, err);
        return 0;
    }
    if (engine_open(&ii, &engine_interp, g, err, sizeof err)) {
        fprintf(stderr, "\n%s: interp engine: %s\n", what, err);
        engine_close(&li);
        return 0;
    }
    feed(c, g, &li, &ii);
    int ok = 1;
    for (int pass = 0; pass < 3 && ok; pass++) {
        int training = pass != 1;
        if (li.ops->run(li.impl, training, 7, (uint64_t)pass, err, sizeof err) ||
            ii.ops->run(ii.impl, training, 7, (uint64_t)pass, err, sizeof err)) {
            fprintf(stderr, "\n%s: run: %s\n", what, err);
            ok = 0;
            break;
        }
        ok = same_nodes(what, g, &li, &ii, 0);
        li.ops->apply_updates(li.impl);
        ii.ops->apply_updates(ii.impl);
        ok = ok && same_nodes(what, g, &li, &ii, 1);
    }
    engine_close(&li);
    engine_close(&ii);
    return ok;
}

/* The forward graph of a case and, for ops with a gradient rule, its
 * training step. */
static int check_case(const OpCase *c) {
    const char *name = ir_op_info[c->op].name;
    Graph *g = build_case(c, 0);
    int ok = g && run_both(name, c, g);
    int f32_out = g && g->nodes[ir_output(g, "y")].type.dtype == DT_F32;
    ir_graph_free(g);
    if (ok && f32_out && autodiff_has_rule(c->op)) {
        char what[64];
        snprintf(what, sizeof what, "%s (training step)", name);
        g = build_case(c, 1);
        ok = g && run_both(what, c, g);
        ir_graph_free(g);
    }
    return ok;
}

/* Every op has a row in the op table, and every row agrees. */
static void test_every_op(void) {
    for (int op = 0; op < OP_COUNT; op++) {
        if (!op_has_case((Op)op)) fprintf(stderr, "\nop '%s' has no row in tests/op_cases.c\n", ir_op_info[op].name);
        CU_ASSERT_TRUE(op_has_case((Op)op));
    }
    for (int i = 0; i < op_ncases; i++) {
        int ok = check_case(&op_cases[i]);
        if (!ok) fprintf(stderr, "FAILED: case %d (%s)\n", i, ir_op_info[op_cases[i].op].name);
        CU_ASSERT_TRUE(ok);
    }
}

/* Every elementwise op and both reductions on special values. */
static void test_special_values(void) {
    for (int op = 0; op < OP_COUNT; op++) {
        const OpInfo *info = &ir_op_info[op];
        if (info->cls != OC_EW && info->cls != OC_REDUCE) continue;
        OpCase c = {(Op)op, {IN(S2(4, 16), R_SPECIAL), IN(S2(4, 16), R_SPECIAL), IN(S1(16), R_SPECIAL)}, 0, {0}, 0, 0,
                  0, {0}, 0, NULL, 0};
        c.nin = info->cls == OC_REDUCE ? 1 : info->arity;
        if (info->cls == OC_REDUCE) c.nattr = 2, c.attr[1] = 1;
        if (op == OP_CAST) c.given_rank = 2, c.given[0] = 4, c.given[1] = 16, c.given_i64 = 1;
        Graph *g = build_case(&c, 0);
        int ok = g && run_both(info->name, &c, g);
        ir_graph_free(g);
        if (!ok) fprintf(stderr, "FAILED: %s on special values\n", info->name);
        CU_ASSERT_TRUE(ok);
    }
}

/* reduce_sum's order (ir_sum_lanes) on inputs where it shows even in
 * double: 1e20 + 1 is 1e20. Along a trailing reduced run of 8,
 * [1e20, 1, 0, 0, -1e20, 1, 0, 0] goes into four partial sums (1e20 - 1e20,
 * 1 + 1, 0, 0): 2; added in one sum it would be 1. Along a run of 6 (not a
 * multiple of four) the one sum of [1e20, 1, 0, -1e20, 1, 0] is 1. Both
 * engines, every case: x is [2, 3, n] reduced over axes `axes`. */
static void test_sum_order(void) {
    static const struct {
        int n, naxes, axes[3];
        float want; /* every output element */
    } cases[] = {
        {8, 1, {2}, 2.0f},    /* run 8: lanes */
        {6, 1, {2}, 1.0f},    /* run 6: one sum */
        {8, 2, {0, 2}, 4.0f}, /* run 8, two rows into each lane: p0 = 1e20 - 1e20 + 1e20 - 1e20, p1 = 4 */
        {8, 2, {1, 2}, 6.0f}, /* run 24 (axes 1 and 2): lanes by the index in it */
        {6, 2, {1, 2}, 1.0f}, /* run 18: one sum (four partial sums would give 0) */
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        Graph *g = ir_graph_new("sum_order");
        char err[512];
        Loc loc = {0, 0, 0};
        TType t = {DT_F32, {3, {2, 3, cases[k].n}}};
        int x = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &t, loc, err, sizeof err);
        int64_t attr[4] = {0};
        for (int a = 0; a < cases[k].naxes; a++) attr[1 + a] = cases[k].axes[a];
        int y = ir_build(g, OP_REDUCE_SUM, &x, 1, attr, 1 + cases[k].naxes, 0, NULL, loc, err, sizeof err);
        CU_ASSERT_TRUE_FATAL(x >= 0 && y >= 0);
        ir_add_output(g, "y", y);
        const float row8[8] = {1e20f, 1, 0, 0, -1e20f, 1, 0, 0}, row6[6] = {1e20f, 1, 0, -1e20f, 1, 0};
        Engine e[2] = {{0}, {0}};
        const EngineOps *ops[2] = {&engine_interp, &engine_llvm};
        for (int b = 0; b < 2; b++) {
            CU_ASSERT_EQUAL_FATAL(engine_open(&e[b], ops[b], g, err, sizeof err), 0);
            float *xs = engine_f32(&e[b], x);
            for (int r = 0; r < 6; r++) memcpy(xs + r * cases[k].n, cases[k].n == 8 ? row8 : row6, (size_t)cases[k].n * 4);
            CU_ASSERT_EQUAL_FATAL(e[b].ops->run(e[b].impl, 0, 1, 0, err, sizeof err), 0);
            const float *ys = engine_f32(&e[b], y);
            int64_t ny = ir_numel(&g->nodes[y].type.shape);
            for (int64_t j = 0; j < ny; j++)
                if (ys[j] != cases[k].want) {
                    fprintf(stderr, "\nreduce_sum case %zu, %s: y[%" PRId64 "] = %g, want %g\n", k, ops[b]->name, j,
                            (double)ys[j], (double)cases[k].want);
                    CU_FAIL("reduce_sum's order");
                    break;
                }
            engine_close(&e[b]);
        }
        ir_graph_free(g);
    }
}

/* reduce_sum's chunks (ir_sum_chunks): x [rows, cols] summed over its
 * first axis, each column [1e20, 1, -1e20, 1, 0, ...]. With 32 rows, 16
 * chunks of two: (1e20 + 1) + (-1e20 + 1) is 1e20 - 1e20 = 0; with 24 rows
 * (not a multiple of 16), one sum: ((1e20 + 1) - 1e20) + 1 = 1. The same
 * through a loop's fused sum (of -x), and over 4096 columns, enough for
 * the thread pool to take the chunks. Both engines. */
static void test_sum_chunks(void) {
    static const struct {
        int64_t rows, cols;
        int negate;
        float want;
    } cases[] = {{32, 2, 0, 0.0f}, {24, 2, 0, 1.0f}, {32, 2, 1, 0.0f}, {24, 2, 1, -1.0f}, {32, 4096, 1, 0.0f}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        Graph *g = ir_graph_new("sum_chunks");
        char err[512];
        Loc loc = {0, 0, 0};
        TType t = {DT_F32, {2, {cases[k].rows, cases[k].cols}}};
        int x = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &t, loc, err, sizeof err), v = x;
        if (cases[k].negate) v = ir_build(g, OP_NEG, &x, 1, NULL, 0, 0, NULL, loc, err, sizeof err);
        int64_t attr[2] = {0, 0};
        int y = ir_build(g, OP_REDUCE_SUM, &v, 1, attr, 2, 0, NULL, loc, err, sizeof err);
        CU_ASSERT_TRUE_FATAL(x >= 0 && v >= 0 && y >= 0);
        ir_add_output(g, "y", y);
        Engine e[2] = {{0}, {0}};
        const EngineOps *ops[2] = {&engine_interp, &engine_llvm};
        const float head[4] = {1e20f, 1, -1e20f, 1};
        for (int b = 0; b < 2; b++) {
            CU_ASSERT_EQUAL_FATAL(engine_open(&e[b], ops[b], g, err, sizeof err), 0);
            float *xs = engine_f32(&e[b], x);
            for (int64_t i = 0; i < cases[k].rows * cases[k].cols; i++)
                xs[i] = i / cases[k].cols < 4 ? head[i / cases[k].cols] : 0.0f;
            CU_ASSERT_EQUAL_FATAL(e[b].ops->run(e[b].impl, 0, 1, 0, err, sizeof err), 0);
            const float *ys = engine_f32(&e[b], y);
            for (int64_t j = 0; j < cases[k].cols; j++)
                if (ys[j] != cases[k].want) {
                    fprintf(stderr, "\nreduce_sum chunks case %zu, %s: y[%" PRId64 "] = %g, want %g\n", k,
                            ops[b]->name, j, (double)ys[j], (double)cases[k].want);
                    CU_FAIL("reduce_sum's chunks");
                    break;
                }
            engine_close(&e[b]);
        }
        ir_graph_free(g);
    }
}

/* A convolution's bias gradient whose positions are no multiple of four
 * (no lanes): x [B, C, n, n] summed over axes 0, 2 and 3, the channels
 * jammed four at a time, every (C / 4)-th together (codegen_shape.c). The
 * first sample's channel c starts [1e20, 1, -1e20, c + 1], the rest 0: in
 * order ((1e20 + 1) - 1e20) + (c + 1) is c + 1 in double, and a channel
 * taking another's elements gets another value. Both engines; the second
 * case is Conv2Net's second layer, large enough for the thread pool. */
static void test_sum_jam(void) {
    static const int64_t cases[][3] = {{32, 8, 3}, {64, 64, 11}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int64_t B = cases[k][0], C = cases[k][1], n = cases[k][2];
        Graph *g = ir_graph_new("sum_jam");
        char err[512];
        Loc loc = {0, 0, 0};
        TType t = {DT_F32, {4, {B, C, n, n}}};
        int x = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &t, loc, err, sizeof err);
        int64_t attr[4] = {0, 0, 2, 3};
        int y = ir_build(g, OP_REDUCE_SUM, &x, 1, attr, 4, 0, NULL, loc, err, sizeof err);
        CU_ASSERT_TRUE_FATAL(x >= 0 && y >= 0);
        ir_add_output(g, "y", y);
        Engine e[2] = {{0}, {0}};
        const EngineOps *ops[2] = {&engine_interp, &engine_llvm};
        for (int b = 0; b < 2; b++) {
            CU_ASSERT_EQUAL_FATAL(engine_open(&e[b], ops[b], g, err, sizeof err), 0);
            float *xs = engine_f32(&e[b], x);
            memset(xs, 0, (size_t)(B * C * n * n) * sizeof *xs);
            for (int64_t c = 0; c < C; c++) {
                float *row = xs + c * n * n;
                row[0] = 1e20f, row[1] = 1, row[2] = -1e20f, row[3] = (float)(c + 1);
            }
            CU_ASSERT_EQUAL_FATAL(e[b].ops->run(e[b].impl, 0, 1, 0, err, sizeof err), 0);
            const float *ys = engine_f32(&e[b], y);
            for (int64_t c = 0; c < C; c++)
                if (ys[c] != (float)(c + 1)) {
                    fprintf(stderr, "\nreduce_sum jam case %zu, %s: y[%" PRId64 "] = %g, want %g\n", k, ops[b]->name,
                            c, (double)ys[c], (double)(c + 1));
                    CU_FAIL("reduce_sum's jammed channels");
                    break;
                }
            engine_close(&e[b]);
        }
        ir_graph_free(g);
    }
}

/* A convolution's bias and ReLU computed in its helper's call
 * (KernelPlan.in_call) against the same graph that also outputs the
 * convolution, which keeps them a loop of their own: the same bits (of
 * their transpose, the graph's output), NaN included (the input's first
 * element is one). Cases: conv2d through
 * im2col with samples grouped, conv2d through the shifted product,
 * strided conv1d through its phases, with ReLU and with the bias only;
 * each on every block variant the CPU runs (rt_shift_isa). */
static int conv_epilogue_graph(Graph *g, int two, int64_t B, int64_t Ci, int64_t Co, int64_t L, int64_t k,
                               int64_t stride, int relu, int keep_conv, int *conv, int *x, int *w, int *b) {
    char err[256];
    Loc loc = {0, 0, 0};
    TType tx = {DT_F32, {two ? 4 : 3, {B, Ci, L, L}}}, tw = {DT_F32, {two ? 4 : 3, {Co, Ci, k, k}}};
    TType tb = {DT_F32, {two ? 3 : 2, {Co, 1, 1}}};
    if (!two) tx.shape.dim[2] = L, tw.shape.dim[2] = k;
    *x = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &tx, loc, err, sizeof err);
    *w = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &tw, loc, err, sizeof err);
    *b = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &tb, loc, err, sizeof err);
    int64_t attr2[4] = {stride, stride, 0, 0}, attr1[3] = {stride, k / 2, k / 2};
    int in[2] = {*x, *w};
    *conv = ir_build(g, two ? OP_CONV2D : OP_CONV1D, in, 2, two ? attr2 : attr1, two ? 4 : 3, 0, NULL, loc, err,
                     sizeof err);
    int sum[2] = {*conv, *b};
    int h = ir_build(g, OP_ADD, sum, 2, NULL, 0, 0, NULL, loc, err, sizeof err);
    if (relu) h = ir_build(g, OP_RELU, &h, 1, NULL, 0, 0, NULL, loc, err, sizeof err);
    /* read by a copy, not a graph output itself: an output is never computed over another value */
    int64_t perm[4] = {1, 0, 2, 3};
    int t = ir_build(g, OP_TRANSPOSE, &h, 1, perm, two ? 4 : 3, 0, NULL, loc, err, sizeof err);
    if (*x < 0 || *w < 0 || *b < 0 || *conv < 0 || h < 0 || t < 0) return -1;
    ir_add_output(g, "h", t);
    if (keep_conv) ir_add_output(g, "conv", *conv);
    return h;
}

static void test_conv_epilogue(void) {
    static const struct {
        int two;
        int64_t B, Ci, Co, L, k, stride;
        int relu;
    } cases[] = {{1, 4, 1, 8, 10, 3, 1, 1}, {1, 3, 8, 16, 13, 3, 1, 1}, {0, 2, 4, 8, 64, 5, 2, 1}, {0, 2, 4, 8, 64, 5, 2, 0}};
    int best = rt_shift_best_isa();
    for (size_t c = 0; c < (best + 1) * sizeof cases / sizeof *cases; c++) {
        rt_shift_isa = (int)(c / (sizeof cases / sizeof *cases)); /* each variant the CPU runs, epilogue included */
        float *got[2] = {NULL, NULL};
        int64_t n = 0;
        for (int keep = 0; keep < 2; keep++) { /* keep 0: in the call; keep 1: a loop of its own */
            Graph *g = ir_graph_new("conv_epilogue");
            int conv, x, w, b, bias, relu;
            int h = conv_epilogue_graph(g, cases[c % 4].two, cases[c % 4].B, cases[c % 4].Ci, cases[c % 4].Co,
                                        cases[c % 4].L, cases[c % 4].k, cases[c % 4].stride, cases[c % 4].relu, keep,
                                        &conv, &x, &w, &b);
            CU_ASSERT_TRUE_FATAL(h >= 0);
            char err[512];
            KernelPlan plan;
            CU_ASSERT_EQUAL_FATAL(pipeline_plan(g, &plan, NULL, err, sizeof err), 0);
            int l = fusion_epilogue(g, &plan, conv, &bias, &relu);
            CU_ASSERT_EQUAL(l >= 0, !keep);
            if (l >= 0) CU_ASSERT_TRUE(bias == b && relu == cases[c % 4].relu && fusion_in_call(&plan, l));
            fusion_plan_free(&plan);
            Engine e = {0};
            CU_ASSERT_EQUAL_FATAL(engine_open(&e, &engine_llvm, g, err, sizeof err), 0);
            int ids[3] = {x, w, b};
            for (int v = 0; v < 3; v++) {
                float *p = engine_f32(&e, ids[v]);
                for (int64_t i = 0; i < ir_numel(&g->nodes[ids[v]].type.shape); i++)
                    p[i] = (float)((i * 7 + v * 3) % 17 - 8) * 0.125f;
            }
            engine_f32(&e, x)[0] = NAN;
            CU_ASSERT_EQUAL_FATAL(e.ops->run(e.impl, 0, 1, 0, err, sizeof err), 0);
            n = ir_numel(&g->nodes[h].type.shape);
            got[keep] = malloc((size_t)n * sizeof(float));
            memcpy(got[keep], engine_f32(&e, h), (size_t)n * sizeof(float));
            engine_close(&e);
            ir_graph_free(g);
        }
        int64_t zeros = 0, nans = 0;
        for (int64_t i = 0; i < n; i++) zeros += got[0][i] == 0.0f, nans += isnan(got[0][i]);
        CU_ASSERT_TRUE(cases[c % 4].relu ? zeros > 0 && nans == 0 : nans > 0); /* the ReLU took the NaNs and negatives */
        if (memcmp(got[0], got[1], (size_t)n * sizeof(float)) != 0) {
            fprintf(stderr, "\nconv epilogue case %zu, variant %d: not the separate loop's bits\n", c % 4, rt_shift_isa);
            CU_FAIL("a convolution's epilogue");
        }
        free(got[0]);
        free(got[1]);
    }
    rt_shift_isa = -1;
}

/* y = x * c over 2^16 elements (enough for the pool's threads) with x a
 * denormal (1e-40) and c = 2: y is 0 in training (flushed), 2e-40 in
 * evaluation, on both engines; compared as bits, as this thread may not
 * flush while another test runs. */
static void test_denormals(void) {
    Graph *g = ir_graph_new("denormals");
    char err[512];
    Loc loc = {0, 0, 0};
    TType t = {DT_F32, {1, {1 << 16}}};
    int in[2];
    in[0] = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &t, loc, err, sizeof err);
    in[1] = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &t, loc, err, sizeof err);
    int y = ir_build(g, OP_MUL, in, 2, NULL, 0, 0, NULL, loc, err, sizeof err);
    CU_ASSERT_TRUE_FATAL(in[0] >= 0 && in[1] >= 0 && y >= 0);
    ir_add_output(g, "y", y);
    volatile float tiny = 1e-40f, two = 2.0f;
    float twice = tiny * two; /* this thread does not flush */
    uint32_t want[2];
    memset(&want[1], 0, sizeof want[1]); /* training: flushed */
    memcpy(&want[0], &twice, sizeof twice);
    const EngineOps *ops[2] = {&engine_interp, &engine_llvm};
    for (int b = 0; b < 2; b++) {
        Engine e = {0};
        CU_ASSERT_EQUAL_FATAL(engine_open(&e, ops[b], g, err, sizeof err), 0);
        for (int training = 0; training < 2; training++) {
            float *x = engine_f32(&e, in[0]), *c = engine_f32(&e, in[1]);
            for (int64_t i = 0; i < t.shape.dim[0]; i++) x[i] = tiny, c[i] = two;
            FpMode before = fp_mode();
            CU_ASSERT_EQUAL_FATAL(e.ops->run(e.impl, training, 1, 0, err, sizeof err), 0);
            CU_ASSERT_EQUAL(fp_mode(), before);
            const float *ys = engine_f32(&e, y);
            int64_t bad = 0;
            for (int64_t i = 0; i < t.shape.dim[0]; i++) {
                uint32_t bits;
                memcpy(&bits, &ys[i], sizeof bits);
                bad += bits != want[training];
            }
            if (bad) fprintf(stderr, "\n%s, training %d: %" PRId64 " of y not as wanted\n", ops[b]->name, training, bad);
            CU_ASSERT_EQUAL(bad, 0);
        }
        engine_close(&e);
    }
    ir_graph_free(g);
}

/* A bad gather index: the step fails with the interpreter's message. */
static void test_bad_index(void) {
    OpCase c = {OP_GATHER, {IN(S2(3, 4), R_ANY), IDX(S1(3), 4)}, 2, {0}, 0, 0, 0, {0}, 0, NULL, 0};
    Graph *g = build_case(&c, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    Engine e = {0};
    char err[256];
    CU_ASSERT_EQUAL_FATAL(engine_open(&e, &engine_llvm, g, err, sizeof err), 0);
    engine_i64(&e, 1)[0] = 1, engine_i64(&e, 1)[1] = 12, engine_i64(&e, 1)[2] = 0;
    CU_ASSERT_EQUAL(e.ops->run(e.impl, 1, 1, 0, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "gather: index 12 out of range for 4 classes at row 1");
    engine_i64(&e, 1)[1] = 3;
    CU_ASSERT_EQUAL(e.ops->run(e.impl, 1, 1, 0, err, sizeof err), 0);
    engine_close(&e);
    ir_graph_free(g);
}

/* The PARAM and STATE values of e, concatenated (malloc'd; *n floats). */
static float *state_of(const Graph *g, Engine *e, int64_t *n) {
    *n = 0;
    for (int id = 0; id < g->nnodes; id++)
        if (g->nodes[id].op == OP_PARAM || g->nodes[id].op == OP_STATE) *n += ir_numel(&g->nodes[id].type.shape);
    float *all = malloc((size_t)(*n + 1) * sizeof *all), *at = all;
    for (int id = 0; id < g->nnodes; id++)
        if (g->nodes[id].op == OP_PARAM || g->nodes[id].op == OP_STATE) {
            int64_t k = ir_numel(&g->nodes[id].type.shape);
            memcpy(at, engine_f32(e, id), (size_t)k * sizeof *at);
            at += k;
        }
    return all;
}

/* A step whose loss is NaN or infinite changes no parameter or state, on
 * either engine (the llvm one writes Adam's updates in place, and skips
 * them); finite steps before and after it update alike. */
static void test_nonfinite_loss(void) {
    char err[512];
    Graph *g = adam_graph(0.01);
    Engine e[2] = {{0}, {0}};
    CU_ASSERT_EQUAL_FATAL(engine_open(&e[0], &engine_llvm, g, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(engine_open(&e[1], &engine_interp, g, err, sizeof err), 0);
    int x = ir_input(g, "x"), w = -1, loss = ir_output(g, "loss");
    for (int id = 0; id < g->nnodes; id++)
        if (g->nodes[id].op == OP_PARAM) w = id;
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 35; i++) engine_f32(&e[b], w)[i] = 0.1f * (float)(i - 17);
    /* x[3] per step: finite, NaN, infinite, huge (with w[3] huge: x*w
     * overflows, the loss is infinite), finite again */
    const float x3[5] = {0.5f, NAN, INFINITY, 1e38f, 0.5f};
    for (int step = 0; step < 5; step++) {
        float *before[2], *after[2];
        int64_t n[2];
        for (int b = 0; b < 2; b++) {
            for (int i = 0; i < 35; i++) engine_f32(&e[b], x)[i] = i == 3 ? x3[step] : 0.5f;
            if (step == 3) engine_f32(&e[b], w)[3] = 1e38f;
            before[b] = state_of(g, &e[b], &n[b]);
            CU_ASSERT_EQUAL_FATAL(e[b].ops->run(e[b].impl, 1, 1, (uint64_t)step, err, sizeof err), 0);
            e[b].ops->apply_updates(e[b].impl);
            after[b] = state_of(g, &e[b], &n[b]);
        }
        int finite = step == 0 || step == 4;
        CU_ASSERT_EQUAL(isfinite(engine_f32(&e[0], loss)[0]) != 0, finite);
        CU_ASSERT_EQUAL(isfinite(engine_f32(&e[1], loss)[0]) != 0, finite);
        size_t bytes = (size_t)n[0] * sizeof(float);
        CU_ASSERT_EQUAL_FATAL(n[0], n[1]);
        CU_ASSERT_EQUAL(memcmp(before[0], before[1], bytes), 0);
        for (int b = 0; b < 2; b++) /* moved by a finite step; not one bit by another */
            CU_ASSERT_EQUAL(memcmp(after[b], before[b], bytes) != 0, finite);
        if (finite) CU_ASSERT_TRUE(same("updates", w, DT_F32, after[0], after[1], n[0]));
        for (int b = 0; b < 2; b++) free(before[b]), free(after[b]);
    }
    engine_close(&e[0]);
    engine_close(&e[1]);
    ir_graph_free(g);
}

/* bind: external sources only (a constant or random node is computed by
 * the step, in memory the plan chose). */
static void test_bind(void) {
    OpCase c = {OP_ADD, {IN(S2(3, 4), R_ANY), IN(S2(3, 4), R_ANY)}, 2, {0}, 0, 0, 0, {0}, 0, NULL, 0};
    Graph *g = build_case(&c, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    TType t = {DT_F32, {2, {3, 4}}};
    char err[256];
    int k = ir_build(g, OP_CONST, NULL, 0, NULL, 0, 2.0, &t, (Loc){0, 0, 0}, err, sizeof err);
    ir_add_output(g, "k", k);
    Engine e = {0};
    CU_ASSERT_EQUAL_FATAL(engine_open(&e, &engine_llvm, g, err, sizeof err), 0);
    float mine[12];
    CU_ASSERT_EQUAL(e.ops->bind(e.impl, 0, mine), 0);  /* p0, a param */
    CU_ASSERT_EQUAL(e.ops->bind(e.impl, k, mine), -1); /* a const */
    CU_ASSERT_EQUAL(e.ops->bind(e.impl, g->nnodes, mine), -1);
    engine_close(&e);
    ir_graph_free(g);
}

/* ---- loops on the thread pool ------------------------------------------------- */

/* Nests of at least CG_PAR_MIN elements, with partial last tasks; par says
 * whether the forward graph's loop must run on the pool (a reduction over
 * the outermost axis must not: its tasks would write the same outputs;
 * but one over the outermost and the innermost axes, a convolution's bias
 * gradient, runs with its kept axis outside). */
static const struct {
    OpCase c;
    int par;
} large[] = {
    {{OP_ADD, {IN(S2(67, 1031), R_ANY), IN(S1(1031), R_ANY)}, 2, {0}, 0, 0, 0, {0}, 0, NULL, 0}, 1},
    {{OP_EXP, {IN(S1(70001), R_ANY)}, 1, {0}, 0, 0, 0, {0}, 0, NULL, 0}, 1},
    {{OP_CONST, NOIN, 0, {0}, 0, 2.5, 1, {70001}, 0, NULL, 0}, 1},
    {{OP_REDUCE_SUM, {IN(S2(67, 1031), R_ANY)}, 1, {0, 1}, 2, 0, 0, {0}, 0, NULL, 0}, 1},
    {{OP_REDUCE_SUM, {IN(S2(67, 1031), R_ANY)}, 1, {0, 0}, 2, 0, 0, {0}, 0, NULL, 0}, 0},
    {{OP_REDUCE_MAX, {IN(S3(3, 67, 509), R_SPREAD)}, 1, {0, 2}, 2, 0, 0, {0}, 0, NULL, 0}, 1},
    {{OP_REDUCE_SUM, {IN(S3(5, 67, 509), R_ANY)}, 1, {0, 0, 2}, 3, 0, 0, {0}, 0, NULL, 0}, 1},
    {{OP_REDUCE_MAX, {IN(S3(5, 67, 509), R_SPREAD)}, 1, {1, 0, 2}, 3, 0, 0, {0}, 0, NULL, 0}, 1},
    {{OP_TRANSPOSE, {IN(S2(67, 1031), R_ANY)}, 1, {1, 0}, 2, 0, 0, {0}, 0, NULL, 0}, 1},
    {{OP_CONCAT, {IN(S2(67, 1100), R_ANY), IN(S2(67, 1000), R_ANY)}, 2, {1}, 1, 0, 0, {0}, 0, NULL, 0}, 1},
    {{OP_PAD, {IN(S2(67, 1031), R_ANY)}, 1, {1, 3, 2}, 3, 0, 0, {0}, 0, NULL, 0}, 1},
};

/* Does g's optimized module call rt_parallel? */
static int calls_pool(const Graph *g) {
    char *text = NULL, err[256];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int ok = llvm_emit(g, 0, 0, f, err, sizeof err) == 0;
    fclose(f);
    int found = ok && strstr(text, "call void @rt_parallel(") != NULL;
    free(text);
    return found;
}

/* Runs g's training step on the llvm engine with `threads` threads; a
 * copy of every node's bytes afterwards, concatenated (*bytes long). */
static char *run_on_threads(const OpCase *c, const Graph *g, int threads, size_t *bytes) {
    rt_set_threads(threads);
    Engine e = {0}, ref = {0};
    char err[256];
    if (engine_open(&e, &engine_llvm, g, err, sizeof err)) return NULL;
    engine_open(&ref, &engine_interp, g, err, sizeof err);
    op_rng_state = 99;
    feed(c, g, &e, &ref);
    engine_close(&ref);
    char *out = NULL;
    if (e.ops->run(e.impl, 1, 7, 0, err, sizeof err) == 0) {
        *bytes = 0;
        for (int id = 0; id < g->nnodes; id++) *bytes += (size_t)ir_numel(&g->nodes[id].type.shape) * 8;
        out = calloc(*bytes + 1, 1);
        size_t at = 0;
        for (int id = 0; id < g->nnodes; id++) {
            const Node *n = &g->nodes[id];
            size_t nb = (size_t)ir_numel(&n->type.shape) * (n->type.dtype == DT_I64 ? 8 : 4);
            const void *buf = e.ops->buffer(e.impl, id);
            if (buf) memcpy(out + at, buf, nb);
            at += nb;
        }
    }
    engine_close(&e);
    return out;
}

/* Large nests: they run on the pool where they may, agree with the
 * interpreter, and give the same bits on 1 and 2 threads. */
static void test_parallel_loops(void) {
    int saved = rt_threads();
    for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
        const OpCase *c = &large[i].c;
        const char *name = ir_op_info[c->op].name;
        Graph *g = build_case(c, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        if (calls_pool(g) != large[i].par)
            fprintf(stderr, "\n%s (large case %zu): expected %s the thread pool\n", name, i,
                    large[i].par ? "loops on" : "no loop on");
        CU_ASSERT_EQUAL(calls_pool(g), large[i].par);
        ir_graph_free(g);
        int ok = check_case(c);
        if (!ok) fprintf(stderr, "FAILED: large case %zu (%s)\n", i, name);
        CU_ASSERT_TRUE(ok);
        if (c->op == OP_CONST) continue; /* no training step */
        g = build_case(c, 1);
        size_t n1 = 0, n2 = 0;
        char *one = run_on_threads(c, g, 1, &n1), *two = run_on_threads(c, g, 2, &n2);
        CU_ASSERT_TRUE(one && two && n1 == n2 && memcmp(one, two, n1) == 0);
        free(one);
        free(two);
        ir_graph_free(g);
    }
    rt_set_threads(saved);
}

/* ---- whole models ----------------------------------------------------------------- */

/* Opens an engine on g with its own parameters, initialized from seed 42. */
static int open_model(Engine *e, const EngineOps *ops, Graph *g, ParamStore *ps, int weight) {
    char err[512];
    if (params_init(ps, g, err, sizeof err)) return fprintf(stderr, "\n%s\n", err), -1;
    params_reset(ps, g, 42);
    if (engine_open(e, ops, g, err, sizeof err) || params_bind(ps, e, err, sizeof err))
        return fprintf(stderr, "\n%s: %s\n", ops->name, err), -1;
    test_feed(e, g, 10, weight); /* the same in both engines */
    return 0;
}

/* One training step of a model on both engines; loss and every updated
 * parameter and state must agree. */
static int check_model(const char *path) {
    Compiled c;
    int ok = compile_train_step(&c, path);
    Graph *g = c.model.graph;
    Engine li = {0}, ii = {0};
    ParamStore pl = {0}, pi = {0};
    ok = ok && open_model(&li, &engine_llvm, g, &pl, c.model.weight_node) == 0 &&
         open_model(&ii, &engine_interp, g, &pi, c.model.weight_node) == 0;
    char err[512];
    if (ok && (li.ops->run(li.impl, 1, 42, 0, err, sizeof err) || ii.ops->run(ii.impl, 1, 42, 0, err, sizeof err)))
        fprintf(stderr, "\n%s: %s\n", path, err), ok = 0;
    if (ok) {
        int loss = ir_output(g, "loss");
        ok = same(path, loss, DT_F32, engine_f32(&li, loss), engine_f32(&ii, loss), 1);
        li.ops->apply_updates(li.impl);
        ii.ops->apply_updates(ii.impl);
        for (int i = 0; i < pl.n && ok; i++)
            ok = same(pl.slots[i].name, pl.slots[i].node, DT_F32, pl.block + pl.slots[i].offset,
                      pi.block + pi.slots[i].offset, ir_numel(&pl.slots[i].shape));
        if (!ok) same_nodes(path, g, &li, &ii, 1); /* say where the two first part */
    }
    engine_close(&li);
    engine_close(&ii);
    if (pl.slots) params_free(&pl);
    if (pi.slots) params_free(&pi);
    compile_free(&c);
    return ok;
}

static void test_every_model(void) { compile_each_model(check_model); }

/* One training step of path's model on the llvm engine with `threads`
 * threads: the parameters after it (ps->block, ps->nfloats floats; free
 * with params_free) and the modules it was compiled as in *modules. */
static int step_on_threads(const char *path, int threads, ParamStore *ps, int *modules) {
    Compiled c;
    int ok = compile_train_step(&c, path);
    Engine e = {0};
    char err[512];
    rt_set_threads(threads);
    int before = llvm_times().modules;
    ok = ok && open_model(&e, &engine_llvm, c.model.graph, ps, c.model.weight_node) == 0;
    *modules = llvm_times().modules - before;
    if (ok && e.ops->run(e.impl, 1, 42, 0, err, sizeof err)) fprintf(stderr, "\n%s: %s\n", path, err), ok = 0;
    if (ok) e.ops->apply_updates(e.impl);
    engine_close(&e);
    compile_free(&c);
    return ok;
}

/* With two threads a step of many kernels is compiled as two modules, on
 * two threads, and linked together: the same bits as the one module that
 * one thread compiles. */
static void test_split_modules(void) {
    int saved = rt_threads();
    llvm_set_tiers(LLVM_TIERS_OFF); /* the modules counted are the optimized code's, compiled at open */
    const char *models[] = {"models/multimodal_gated.mmg", "models/image_conv2net.mmg"};
    for (size_t m = 0; m < sizeof models / sizeof *models; m++) {
        ParamStore one = {0}, two = {0};
        int mods1 = 0, mods2 = 0;
        int ok = step_on_threads(models[m], 1, &one, &mods1) && step_on_threads(models[m], 2, &two, &mods2);
        CU_ASSERT_TRUE(ok);
        CU_ASSERT_EQUAL(mods1, 1);
        CU_ASSERT_EQUAL(mods2, 2);
        CU_ASSERT_TRUE(ok && one.nfloats == two.nfloats &&
                       memcmp(one.block, two.block, (size_t)one.nfloats * sizeof *one.block) == 0);
        if (one.slots) params_free(&one);
        if (two.slots) params_free(&two);
    }
    rt_set_threads(saved);
    llvm_set_tiers(LLVM_TIERS_ON);
}

/* Two training steps and an evaluation of path's model on an llvm engine
 * made under `tiers`: the parameters after them (free with params_free),
 * the evaluation's loss, and the runs made on quick code. */
static int run_tier(const char *path, LlvmTiers tiers, ParamStore *ps, float *loss, int *quick_runs) {
    Compiled c;
    int ok = compile_train_step(&c, path);
    Engine e = {0};
    char err[512];
    llvm_set_tiers(tiers);
    int before = llvm_times().quick_runs;
    ok = ok && open_model(&e, &engine_llvm, c.model.graph, ps, c.model.weight_node) == 0;
    for (int s = 0; ok && s < 3; s++) {
        if (e.ops->run(e.impl, s < 2, 42, (uint64_t)s, err, sizeof err)) fprintf(stderr, "\n%s: %s\n", path, err), ok = 0;
        else if (s < 2) e.ops->apply_updates(e.impl);
    }
    if (ok) *loss = *engine_f32(&e, ir_output(c.model.graph, "loss"));
    engine_close(&e); /* counts its quick runs */
    *quick_runs = llvm_times().quick_runs - before;
    compile_free(&c);
    llvm_set_tiers(LLVM_TIERS_ON);
    return ok;
}

/* Quick code (SROA and -O0, the first tier: llvm_backend.h's LlvmTiers)
 * computes the optimized code's bits, for every model: the parameters
 * after two training steps (dropout on) and an evaluation's loss. */
static int check_quick_code(const char *path) {
    ParamStore quick = {0}, optimized = {0};
    float lq = 0, lo = 1;
    int rq = 0, ro = 1;
    int ok = run_tier(path, LLVM_TIERS_QUICK_ONLY, &quick, &lq, &rq) &&
             run_tier(path, LLVM_TIERS_OFF, &optimized, &lo, &ro);
    ok = ok && rq == 3 && ro == 0 && quick.nfloats == optimized.nfloats &&
         !memcmp(quick.block, optimized.block, (size_t)quick.nfloats * sizeof *quick.block) &&
         !memcmp(&lq, &lo, sizeof lq);
    if (!ok) fprintf(stderr, "\n%s: quick code (%d quick runs) and optimized code (%d) differ\n", path, rq, ro);
    if (quick.slots) params_free(&quick);
    if (optimized.slots) params_free(&optimized);
    return ok;
}

static void test_quick_code(void) { compile_each_model(check_quick_code); }

/* With tiers on, a step not in the cache starts on quick code, and the
 * first run after the optimized code is ready runs that; the bits stay
 * the optimized code's. */
static void test_tiers_swap(void) {
    const char *path = "models/image_conv2net.mmg";
    ParamStore want = {0}, got = {0};
    float lw = 0, lg = 1;
    int rw = 1, rg = 1;
    CU_ASSERT_TRUE_FATAL(run_tier(path, LLVM_TIERS_OFF, &want, &lw, &rw));
    Compiled c;
    CU_ASSERT_TRUE_FATAL(compile_train_step(&c, path));
    setenv("MMGC_NO_CACHE", "1", 1); /* a miss */
    Engine e = {0};
    LlvmTimes t0 = llvm_times();
    char err[512];
    CU_ASSERT_EQUAL_FATAL(open_model(&e, &engine_llvm, c.model.graph, &got, c.model.weight_node), 0);
    unsetenv("MMGC_NO_CACHE");
    LlvmTimes t1 = llvm_times();
    CU_ASSERT_EQUAL(t1.modules - t0.modules, 0); /* not yet */
    CU_ASSERT_TRUE(t1.quick_modules - t0.quick_modules >= 1);
    CU_ASSERT_EQUAL(e.ops->run(e.impl, 1, 42, 0, err, sizeof err), 0); /* quick, or optimized if already there */
    e.ops->apply_updates(e.impl);
    llvm_tiers_wait();
    CU_ASSERT_TRUE(llvm_times().modules - t0.modules >= 1);
    CU_ASSERT_EQUAL(e.ops->run(e.impl, 1, 42, 1, err, sizeof err), 0); /* optimized */
    e.ops->apply_updates(e.impl);
    CU_ASSERT_EQUAL(e.ops->run(e.impl, 0, 42, 2, err, sizeof err), 0);
    lg = *engine_f32(&e, ir_output(c.model.graph, "loss"));
    engine_close(&e);
    rg = llvm_times().quick_runs - t0.quick_runs;
    CU_ASSERT_TRUE(rg <= 1);
    CU_ASSERT_TRUE(want.nfloats == got.nfloats && !memcmp(want.block, got.block, (size_t)want.nfloats * sizeof *want.block));
    CU_ASSERT_TRUE(!memcmp(&lw, &lg, sizeof lw));
    params_free(&want);
    params_free(&got);
    compile_free(&c);
}

static CU_TestInfo tests[] = {
    {"every op, forward and training step, llvm vs interpreter", test_every_op},
    {"NaN, infinities, signed zeros: ops.def's conventions", test_special_values},
    {"loops on the thread pool: llvm vs interpreter, same bits on 1 and 2 threads", test_parallel_loops},
    {"reduce_sum's order: four partial sums along a trailing run of a multiple of four", test_sum_order},
    {"reduce_sum's order: sixteen chunks of a first axis that is a multiple of sixteen", test_sum_chunks},
    {"reduce_sum's order: a bias gradient's channels jammed four at a time over runs of no lanes", test_sum_jam},
    {"a convolution's bias and ReLU in its call: the separate loop's bits", test_conv_epilogue},
    {"a bad gather index fails the step with the interpreter's message", test_bad_index},
    {"bind takes external sources only", test_bind},
    {"a step with a NaN or infinite loss changes no parameter or state", test_nonfinite_loss},
    {"training flushes denormals to zero, evaluation keeps them", test_denormals},
    {"one training step of every model, llvm vs interpreter", test_every_model},
    {"a step compiled as two modules on two threads: the bits of one module", test_split_modules},
    {"quick code: the optimized code's bits, every model", test_quick_code},
    {"tiers: quick code first, then the optimized code, same bits", test_tiers_swap},
    CU_TEST_INFO_NULL,
};

int main(void) {
    int status = harness_run("llvm", tests);
    LlvmTimes t = llvm_times();
    fprintf(stderr, "llvm compile: %d modules, codegen %.2f s, optimize %.2f s, jit %.2f s\n", t.modules, t.codegen,
            t.optimize, t.jit);
    return status;
}
